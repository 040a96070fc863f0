"""dynamiqs as a same-run peer of B1 and B4 (optional: ``pip install -e .[bench]``).

One batched ``dynamiqs.mesolve`` over realizations of a piecewise-constant drive
``H(t) = sum_k c_k(t) G_k`` (``dq.pwc`` per generator, values of shape
``(realizations, steps)``), constant jump operators, float64 on the CPU, default method
(``Tsit5``, rtol = atol = 1e-6; its step controller is clipped to the coefficient jumps).
Timed twice with the same shapes: the first pass compiles and runs, the second only runs.
Compile time is JAX's own record of its trace, lowering and XLA-compile stages during the
first pass (``jax.monitoring`` duration events); first - second is reported beside it as a
cross-check (on a loaded machine a long run varies by more than the compile time). The
ensemble mean state is formed in JAX and is part of the timed run, as our solvers'
averaging is part of theirs.

Not imported at module level by the benchmarks: without dynamiqs they print
:data:`NOT_INSTALLED` and leave the dynamiqs keys null.
"""

from __future__ import annotations

import math
import resource
import time

import numpy as np

__all__ = ["NOT_INSTALLED", "available", "batched_mean_states", "versions"]

NOT_INSTALLED = "dynamiqs: not installed (pip install -e .[bench])"
STATE_BUDGET = 2 * 1024**3  # bytes of saved states per mesolve call (before chunking)


def available() -> bool:
    """True if ``import dynamiqs`` works (then float64 is switched on)."""
    try:
        import dynamiqs as dq
    except ImportError:
        return False
    dq.set_precision("double")
    dq.set_progress_meter(False)
    return True


def versions() -> dict:
    """Versions of dynamiqs, jax, jaxlib, diffrax and the JAX backend in use."""
    import diffrax
    import dynamiqs
    import jax
    import jaxlib

    return {
        "dynamiqs": dynamiqs.__version__,
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "diffrax": diffrax.__version__,
        "backend": jax.default_backend(),
        "x64": bool(jax.config.jax_enable_x64),
    }


class _CompileClock:
    """Sum of JAX's compile-stage durations (trace, lowering, XLA compile) while active."""

    EVENTS = (
        "/jax/core/compile/jaxpr_trace_duration",
        "/jax/core/compile/jaxpr_to_mlir_module_duration",
        "/jax/core/compile/backend_compile_duration",
    )

    def __enter__(self):
        from jax import monitoring

        self.by_event = dict.fromkeys(self.EVENTS, 0.0)
        monitoring.register_event_duration_secs_listener(self._record)
        return self

    def _record(self, event, duration, **kwargs):
        if event in self.by_event:
            self.by_event[event] += duration

    def __exit__(self, *exc):
        from jax import monitoring

        monitoring.unregister_event_duration_listener(self._record)
        self.total = sum(self.by_event.values())


def _mesolve_sum(edges, coeffs, gens, c_ops, rho0, tlist, keep):
    """Sum over the first ``keep`` realizations of the saved states, numpy (T, n, n)."""
    import dynamiqs as dq

    parts = [dq.pwc(edges, coeffs[:, :, k], g) for k, g in enumerate(gens)]
    H = parts[0]
    for p in parts[1:]:
        H = H + p
    res = dq.mesolve(H, c_ops, rho0, tlist)
    return np.asarray(res.states.to_jax()[:keep].sum(axis=0))


def batched_mean_states(edges, coeffs, gens, c_ops, rho0, tlist, *, budget=STATE_BUDGET):
    """Ensemble-mean state of one batched dynamiqs run, and its timings.

    Parameters
    ----------
    edges : array (S + 1,)
        Edges of the piecewise-constant coefficient steps.
    coeffs : array (M, S, K)
        Coefficient ``k`` of realization ``m`` on step ``s``.
    gens : list of K arrays (n, n)
        Hermitian generators ``G_k``: ``H(t) = sum_k c_k(t) G_k``.
    c_ops : list of arrays (n, n)
        Jump operators (constant).
    rho0 : array (n, n)
        Initial density matrix.
    tlist : array (T,)
        Save times.
    budget : int
        Bytes of saved states (``chunk * T * n^2 * 16``) allowed per call; the realizations
        are split into equal chunks (the last one padded) when ``M`` exceeds it.

    Returns
    -------
    mean : array (T, n, n)
        Mean over the M realizations of the saved states.
    info : dict
        ``first_s`` (wall, compile + run), ``run_s`` (wall, second call), ``compile_s``
        (JAX's own trace + lowering + XLA compile durations during the first call, by event
        in ``compile_events_s``; ``compile_s_second_call`` should be ~0),
        ``first_minus_second_s`` (the naive estimate, noisy on a loaded machine when the run
        is long), ``cpu_first_s``, ``cpu_run_s`` (process CPU time), ``chunks``, ``chunk``,
        ``state_bytes`` (saved states of one call), ``max_rss_mb`` (peak resident memory).
    """
    coeffs = np.asarray(coeffs, dtype=float)
    M, T, n = coeffs.shape[0], len(tlist), rho0.shape[0]
    per_real = T * n * n * 16
    chunk = max(1, min(M, budget // per_real))
    nchunks = math.ceil(M / chunk)
    padded = np.concatenate([coeffs, np.repeat(coeffs[-1:], nchunks * chunk - M, axis=0)])
    gens = [np.asarray(g, dtype=complex) for g in gens]
    c_ops = [np.asarray(c, dtype=complex) for c in c_ops]
    rho0 = np.asarray(rho0, dtype=complex)

    def run():
        total = np.zeros((T, n, n), dtype=complex)
        for j in range(nchunks):
            part = padded[j * chunk : (j + 1) * chunk]  # equal shapes: compiled once
            keep = min(chunk, M - j * chunk)  # the padding repeats the last realization
            total += _mesolve_sum(edges, part, gens, c_ops, rho0, tlist, keep)
        return total / M

    with _CompileClock() as clock1:
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        first, cpu1 = time.perf_counter() - t0, time.process_time() - c0
    with _CompileClock() as clock2:
        t0, c0 = time.perf_counter(), time.process_time()
        mean = run()
        second, cpu = time.perf_counter() - t0, time.process_time() - c0
    info = {
        "first_s": first,
        "run_s": second,
        "compile_s": clock1.total,
        "compile_events_s": clock1.by_event,
        "compile_s_second_call": clock2.total,
        "first_minus_second_s": first - second,
        "cpu_first_s": cpu1,
        "cpu_run_s": cpu,
        "chunks": nchunks,
        "chunk": chunk,
        "state_bytes": chunk * per_real,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    return mean, info

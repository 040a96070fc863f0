"""dynamiqs as a same-run peer of B1 and B4 (optional: ``pip install -e .[bench]``).

One batched ``dynamiqs.mesolve`` over realizations of a piecewise-constant drive
``H(t) = sum_k c_k(t) G_k`` (``dq.pwc`` per generator, values of shape
``(realizations, steps)``), constant jump operators, float64 on the CPU, default method
(``Tsit5``, rtol = atol = 1e-6; its step controller is clipped to the coefficient jumps).
Timed twice with the same shapes: the first pass compiles and runs, the second only runs
(compile time = first - second). The ensemble mean state is formed in JAX and is part of
the timed run, as our solvers' averaging is part of theirs.

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
        ``first_s`` (compile + run), ``run_s`` (second call), ``compile_s``
        (their difference), ``cpu_run_s``, ``chunks``, ``chunk``, ``state_bytes`` (the saved
        states of one call), ``max_rss_mb`` (peak resident memory of the process).
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

    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    mean = run()
    second, cpu = time.perf_counter() - t0, time.process_time() - c0
    info = {
        "first_s": first,
        "run_s": second,
        "compile_s": first - second,
        "cpu_run_s": cpu,
        "chunks": nchunks,
        "chunk": chunk,
        "state_bytes": chunk * per_real,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    return mean, info

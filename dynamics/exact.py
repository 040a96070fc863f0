r"""Exact averaged generator: white processes (Brownian noise, Poisson clocks) average to a
Lindbladian on the joint system (:meth:`Model.averaged_generator`).

Each stage is solved exactly with matrix exponentials on the time grid; when every term
is local the propagator is the product of local ``exp(L_k dt)`` and the joint
Liouvillian is never built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla

from ._expm import expm_batched
from ._timedep import run_stage
from .superop import Generator, apply_consecutive, apply_local

__all__ = ["Exact"]

#: Joint Liouvillians up to this size are handled as dense matrices.
DENSE_MAX = 1024


@dataclass(frozen=True)
class Exact:
    """Exact averaged generator (white processes only).

    Time-independent stages are solved exactly (matrix exponentials). Stages with
    time-dependent local terms (:func:`eplt.baths.lindblad` with a QobjEvo or
    ``[H0, [H1, f]]``) are integrated with error control, to the tolerances below, as
    ``qutip.mesolve``'s ``options={"atol": ..., "rtol": ...}``: a looser tolerance is
    faster. The integrator is chosen by a cost model and recorded in
    ``Result.params["method"]["timedep"]`` (see :mod:`eplt.dynamics._timedep`):

    * local stages with small parties: fourth-order Magnus substeps, batched over
      intervals and parties; the error measure is, per output interval and per party,
      the largest entry of the error of the party's propagator (estimated by Richardson
      step doubling), kept at most ``atol + rtol * (largest entry of the propagator)``;
      the entries of a CPTP map are at most 1, so per interval the state's entries move
      by at most about the number of parties times that, and errors add up over the
      intervals;
    * non-local stages (a coupling white process) and large parties: qutip's own
      integrator (``MESolver``, as ``mesolve``) on the joint Liouvillian, ``atol`` and
      ``rtol`` exactly as ``mesolve``'s options (scipy's DOP853 on the matrix-free
      ``L x`` for time-dependent parts given as plain callables).

    Parameters
    ----------
    atol : float
        Absolute tolerance, in (0, 1). Default 1e-10.
    rtol : float
        Relative tolerance, in [0, 1). Default 0.

    Examples
    --------
    >>> Exact(atol=1e-8, rtol=1e-6)
    Exact(atol=1e-08, rtol=1e-06)
    """

    name = "exact"
    atol: float = 1e-10
    rtol: float = 0.0

    def __post_init__(self):
        a, r = float(self.atol), float(self.rtol)
        if not (0 < a < 1):
            raise ValueError(f"atol must lie in (0, 1), got {self.atol!r}")
        if not (0 <= r < 1):
            raise ValueError(f"rtol must lie in [0, 1), got {self.rtol!r}")


class _StageExact:
    """Exact propagator of one stage for arbitrary time steps (cached)."""

    def __init__(self, gen: Generator):
        self.gen = gen
        self.local = gen.is_local
        self._cache: dict[float, object] = {}
        self._bufs: tuple[np.ndarray, np.ndarray] | None = None
        if self.local:
            self.parts = gen.local_parts()
        else:
            self.N = int(np.prod([d * d for d in gen.dims]))
            self.L = gen.to_dense() if self.N <= DENSE_MAX else gen.to_sparse().tocsc()

    def step(self, x: np.ndarray, dt: float) -> np.ndarray:
        if dt <= 0:
            return x
        key = _key(dt)
        if self.local:
            if key not in self._cache:
                P = [expm_batched(L * dt) for L in self.parts]
                # parties in pairs: one pass over the state per pair (see apply_consecutive)
                self._cache[key] = [
                    (k, np.kron(P[k], P[k + 1]) if k + 1 < len(P) else P[k])
                    for k in range(0, len(P), 2)
                ]
            # Two result buffers used in turn: large states are not reallocated (and
            # page-faulted) on every pass. States handed out are copied by the caller
            # before the buffer is reused two passes later.
            if self._bufs is None or self._bufs[0].shape != x.shape:
                self._bufs = (np.empty(x.shape, complex), np.empty(x.shape, complex))
            for k, M in self._cache[key]:
                out = self._bufs[1] if np.may_share_memory(x, self._bufs[0]) else self._bufs[0]
                x = apply_consecutive(x, k, M, out=out)
            return x
        shape = x.shape
        if self.N <= DENSE_MAX:
            if key not in self._cache:
                self._cache[key] = expm_batched(self.L * dt)
            return (self._cache[key] @ x.reshape(-1)).reshape(shape)
        return spla.expm_multiply(self.L * dt, x.reshape(-1)).reshape(shape)


def _key(dt: float) -> float:
    """Cache key of a time step: 13 significant digits (a relative, not absolute, match)."""
    return float(f"{dt:.12e}")


#: Local stages of states up to this size (paired entries; 4^5 = five qubits) compute all
#: output times at once (no per-step Python overhead); larger ones step with a cached
#: propagator, which is faster there (measured: six qubits 21 ms stepping vs 35 ms).
BATCH_TIMES_MAX = 1024

#: Memory (bytes) for the states of a chunk of output times computed together.
CHUNK_BYTES = 2**27


def _run_exact(x, windows, tlist, record, atol: float = 1e-10, *, rtol: float = 0.0, info=None):
    """Every stage in turn; ``info`` (a list) receives what each time-dependent stage's
    integrator chose (see :func:`eplt.dynamics._timedep.run_stage`)."""
    for start, end, model in windows:
        if model.is_time_dependent:
            x, stage_info = run_stage(x, start, end, model, tlist, record, atol=atol, rtol=rtol)
            if info is not None:
                info.append({"start": float(start), "end": float(end), **stage_info})
            continue
        prop = _StageExact(model.averaged_generator())
        idx = np.nonzero((tlist > start) & (tlist <= end))[0]
        if prop.local and idx.size and x.size <= BATCH_TIMES_MAX:
            # Every output time of the stage directly from the stage start,
            # x(t) = (x)_k exp(L_k (t - start)) x(start), a chunk of times at once.
            chunk = max(1, CHUNK_BYTES // max(1, x.nbytes))
            for c0 in range(0, idx.size, chunk):
                sel = idx[c0 : c0 + chunk]
                dts = tlist[sel] - start
                X = np.broadcast_to(x, (sel.size, *x.shape))
                for k, L in enumerate(prop.parts):
                    X = apply_local(X, k, expm_batched(L[None] * dts[:, None, None]), batch=True)
                for j, i in enumerate(sel):
                    record(i, X[j])
            x = prop.step(x, end - start)
            continue
        t = start
        for i in idx:
            x = prop.step(x, tlist[i] - t)
            t = tlist[i]
            record(i, x)
        x = prop.step(x, end - t)
    return x

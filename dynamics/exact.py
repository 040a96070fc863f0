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
from .superop import Generator, apply_consecutive, apply_local

__all__ = ["Exact"]

#: Joint Liouvillians up to this size are handled as dense matrices.
DENSE_MAX = 1024


@dataclass(frozen=True)
class Exact:
    """Exact averaged generator (white processes only).

    Parameters
    ----------
    atol : float
        Only for time-dependent local terms (:func:`eplt.baths.lindblad` with a QobjEvo or
        ``[H0, [H1, f]]``): the estimated error of every density-matrix entry, per
        interval between output times, is kept below ``atol``. Those stages are
        integrated with the fourth-order commutator-free Magnus scheme on substeps
        (see :func:`_magnus_interval`); time-independent stages are exact.
    """

    name = "exact"
    atol: float = 1e-10

    def __post_init__(self):
        a = float(self.atol)
        if not (0 < a < 1):
            raise ValueError(f"atol must lie in (0, 1), got {self.atol!r}")


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


def _run_exact(x, windows, tlist, record, atol: float = 1e-10):
    for start, end, model in windows:
        if model.is_time_dependent:
            x = _run_timedep(x, start, end, model, tlist, record, atol)
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


# --------------------------------------------------------------------------- time-dependent
#: Gauss-Legendre nodes and weights of the fourth-order commutator-free Magnus scheme
#: (Blanes & Moan, J. Comput. Appl. Math. 142, 313 (2002); Alvermann & Fehske (2011)):
#: U(t+h, t) = exp(h (A1 L(t1) + A2 L(t2))) exp(h (A2 L(t1) + A1 L(t2))), rightmost first.
_C1, _C2 = 0.5 - np.sqrt(3) / 6, 0.5 + np.sqrt(3) / 6
_A1, _A2 = 0.25 + np.sqrt(3) / 6, 0.25 - np.sqrt(3) / 6

#: Largest number of substeps per output interval before giving up.
MAX_SUBSTEPS = 2**16


def _run_timedep(x, start, end, model, tlist, record, atol):
    """A stage with time-dependent local terms, from ``start`` to ``end`` (absolute times)."""
    gen = model.averaged_generator()  # time-independent part (every white process)
    td = model.time_dependent_parts()
    dims = gen.dims
    if gen.is_local:
        base = gen.local_parts()

        def generator(t):
            parts = [P.copy() for P in base]
            for k, f in td:
                parts[k] += f(t)
            return parts

        def step(y, Ls1, Ls2, h):
            for k, (L1, L2) in enumerate(zip(Ls1, Ls2)):
                M = expm_batched(h * (_A1 * L2 + _A2 * L1)) @ expm_batched(
                    h * (_A2 * L2 + _A1 * L1)
                )
                y = apply_local(y, k, M)
            return y

        def norm(Ls):
            return sum(float(np.abs(L).sum(axis=0).max()) for L in Ls)
    else:
        if int(np.prod([d * d for d in dims])) > DENSE_MAX:
            raise ValueError(
                "time-dependent local terms with a coupling white process are integrated "
                f"densely, up to a joint Liouvillian of size {DENSE_MAX}; this model is larger"
            )
        L0 = gen.to_dense()
        sizes = [d * d for d in dims]

        def embed(k, S):
            left, right = int(np.prod(sizes[:k])), int(np.prod(sizes[k + 1 :]))
            return np.kron(np.kron(np.eye(left), S), np.eye(right))

        def generator(t):
            L = L0.copy()
            for k, f in td:
                L += embed(k, f(t))
            return [L]

        def step(y, Ls1, Ls2, h):
            (L1,), (L2,) = Ls1, Ls2
            v = y.reshape(-1)
            v = expm_batched(h * (_A2 * L2 + _A1 * L1)) @ v
            v = expm_batched(h * (_A1 * L2 + _A2 * L1)) @ v
            return v.reshape(y.shape)

        def norm(Ls):
            return float(np.abs(Ls[0]).sum(axis=0).max())

    idx = np.nonzero((tlist > start) & (tlist <= end))[0]
    t = start
    for b in [*tlist[idx], end]:
        if b > t:
            x = _magnus_interval(x, t, b, generator, step, norm, atol)
        t = b
        if idx.size and b == tlist[idx[0]]:
            record(idx[0], x)
            idx = idx[1:]
    return x


def _magnus_interval(x, a, b, generator, step, norm, atol):
    r"""Propagate ``x`` from ``a`` to ``b`` under ``dx/dt = L(t) x`` to error ``atol``.

    Fourth-order commutator-free Magnus steps (two exponentials per step, ``L`` at the two
    Gauss-Legendre nodes). Error control by step doubling: with ``n`` and ``2n`` equal
    substeps the error of the finer result is estimated as ``max|x_2n - x_n| / 15``
    (Richardson, order 4); ``n`` starts at ``ceil((b - a) ||L(midpoint)||_1)`` and doubles
    until the estimate is at most ``atol``; the finer result is returned.
    """

    def run(n):
        h = (b - a) / n
        y = x
        for j in range(n):
            s = a + j * h
            y = step(y, generator(s + _C1 * h), generator(s + _C2 * h), h)
        return y

    n = max(1, int(np.ceil((b - a) * norm(generator(0.5 * (a + b))))))
    coarse = run(n)
    while True:
        fine = run(2 * n)
        if np.abs(fine - coarse).max() / 15 <= atol:
            return fine
        n *= 2
        if 2 * n > MAX_SUBSTEPS:
            raise RuntimeError(
                f"time-dependent term: no convergence to atol={atol:g} on [{a!r}, {b!r}] with "
                f"{MAX_SUBSTEPS} substeps (is the coefficient discontinuous or too fast?)"
            )
        coarse = fine

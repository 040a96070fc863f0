r"""Stepping a planned time-independent stage (private): the propagation paths of
:mod:`eplt.dynamics._timeindep` (which plans a stage and dispatches to these), dense
propagators cached per step length, the dense and Krylov paths with their block output,
local propagators applied party by party, and the dense joint step matrix.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from ._checks import is_hermitian
from ._expm import expm_times, step_matrix
from ._krylov import KrylovDense, _product_basis, real_form, times_real
from .superop import Generator, _apply_middle, apply_local

_COMPLEX = 16

#: Neighbouring parties are combined into one ``kron(P_k, P_k+1)`` when its size is at
#: most this (two qubits: 16; halves the passes over a large state).
PAIR_MAX = 64
#: Memory (bytes) of the states and exponentials of a chunk of times computed together.
CHUNK_BYTES = 2**27
#: Distinct step propagators kept per stage (first interval, grid step, remainder).
CACHE_STEPS = 3
#: Relative tolerance of a uniform grid (``|dt_i - h| <= UNIFORM_RTOL h``).
UNIFORM_RTOL = 1e-10


def _uniform_step(times: np.ndarray) -> float | None:
    """The spacing ``h`` of ``times`` when uniform to :data:`UNIFORM_RTOL`, else None."""
    if times.size < 3:
        return None
    d = np.diff(times)
    h = float(d.mean())
    return h if np.all(np.abs(d - h) <= UNIFORM_RTOL * h) else None


def _expm_bytes(m: int) -> float:
    """Workspace of one dense ``m x m`` exponential (powers, Pade sums, the LU)."""
    return 10.0 * m * m * _COMPLEX


class _StepCache:
    """At most :data:`CACHE_STEPS` propagators keyed by step length (least recently used
    dropped)."""

    def __init__(self, make):
        self.make = make
        self.store: OrderedDict[float, object] = OrderedDict()
        self.last_dt: float | None = None
        self.last = None

    def __call__(self, dt: float):
        if dt == self.last_dt:  # a uniform grid: the same step every time
            return self.last
        self.last_dt = dt
        self.last = self._lookup(dt)
        return self.last

    def _lookup(self, dt: float):
        key = float(f"{dt:.12e}")
        if key in self.store:
            self.store.move_to_end(key)
            return self.store[key]
        val = self.make(dt)
        self.store[key] = val
        if len(self.store) > CACHE_STEPS:
            self.store.popitem(last=False)
        return val


#: States stepped by the dense path before their observables are handed out together.
DENSE_BLOCK = 64


def _run_dense(v, Ld, start, end, times, idx, emit):
    """``v`` stepped by dense propagators ``exp(Ld dt)`` (one per distinct step, cached)
    to every output time and to ``end``; ``emit(ids, V)`` gets the states at
    ``tlist[ids]`` as the rows of ``V``, :data:`DENSE_BLOCK` at a time (``V`` is reused:
    the caller copies what it keeps)."""

    def make(dt):
        P = step_matrix(Ld, dt)
        # a real generator has a real exponential (a long-time projector comes complex)
        return P.real.copy() if np.iscomplexobj(P) and not np.iscomplexobj(Ld) else P

    cache = _StepCache(make)
    V = np.empty((min(DENSE_BLOCK, max(1, times.size)), v.size), dtype=v.dtype)
    t = start
    h = _uniform_step(times)
    if h is not None:  # a uniform grid: one propagator after the first time
        if times[0] > t:
            v = cache(times[0] - t) @ v
        P = cache(h)
        B = V.shape[0]
        for c0 in range(0, times.size, B):
            blk = V[: min(B, times.size - c0)]
            if c0:
                P.dot(v, out=blk[0])
            else:
                blk[0] = v
            for j in range(1, blk.shape[0]):
                P.dot(blk[j - 1], out=blk[j])  # in place: ~2 us a step on 100 entries
            v = blk[-1].copy()  # the block is reused
            emit(idx[c0 : c0 + blk.shape[0]], blk)
        t = times[-1]
    else:
        ids: list[int] = []
        for i, ti in zip(idx, times):
            if ti > t:
                v = cache(ti - t) @ v
            t = ti
            V[len(ids)] = v
            ids.append(i)
            if len(ids) == V.shape[0]:
                emit(np.array(ids), V)
                ids.clear()
        if ids:
            emit(np.array(ids), V[: len(ids)])
    if end > t:
        v = cache(end - t) @ v
    return v


def _real_start(L, dims, x):
    """``(R, T, r)``: the real form of ``L`` and the state's real coordinates when the
    state is Hermitian and ``L`` preserves Hermiticity (:func:`eplt.dynamics._krylov.real_form`),
    else None (the complex Krylov path)."""
    from .superop import from_paired

    X = from_paired(x, dims)
    scale = float(np.abs(X).max()) if X.size else 0.0
    if not is_hermitian(X, 1e-14 * scale):
        return None
    rf = real_form(L, dims)
    if rf is None:
        return None
    R, T = rf
    TH = _product_basis(tuple(int(d) for d in dims))[1]  # T^H, cached
    return R, T, (TH @ x.reshape(-1)).real.copy()


def _run_krylov(v, L, real, start, end, times, idx, emit, tol, project=None):
    """Krylov steps with dense output (:class:`eplt.dynamics._krylov.KrylovDense`) from
    ``start`` to every output time and to ``end``; on the real form when ``real``.
    ``emit(ids, V)`` receives the vectors at ``tlist[ids]`` as the rows of ``V``; with
    ``project`` (``(q, n)``, acting on the vectors in the coordinates propagated: the
    real ones when ``real``), it receives ``V @ project.T`` instead."""
    points = times - start
    keep = points.size
    if end > (times[-1] if times.size else start):
        points = np.append(points, end - start)
    pos = np.flatnonzero(points > 0)
    if real is not None:
        R, T, r = real
        K = KrylovDense(R, tol)
        start_vec = r
    else:
        K = KrylovDense(L, tol)
        start_vec = v

    def out(j, Y):
        """Points ``j, j+1, ...`` (columns of ``Y``) to ``emit`` (rows, complex)."""
        ks = pos[j : j + Y.shape[1]]
        use = ks < keep
        if not use.any():
            return
        Y = Y[:, use] if not use.all() else Y
        if project is not None:  # values already
            X = Y.T
        elif real is not None:
            # rows: (T Y)^T = Y^T T^T (a dense-times-sparse product gives the rows directly)
            X = np.ascontiguousarray((T @ Y).T)
        else:
            X = np.ascontiguousarray(Y.T)
        emit(idx[ks[use]], X)

    at_start = [k for k in np.flatnonzero(points <= 0) if k < keep]
    if at_start:  # output times at the stage start
        row = (v if project is None else times_real(project, start_vec)).reshape(1, -1)
        emit(idx[at_start], np.repeat(row, len(at_start), axis=0))
    if not pos.size:
        return v
    w = K.run(start_vec, points[pos], out, project=project)
    return T @ w if real is not None else w


def _run_batch(x, parts, start, end, times, idx, record):
    """Every output time of the stage directly from the stage start,
    ``x(t) = (x)_k exp(L_k (t - start)) x(start)``, a chunk of times at once."""
    if idx.size:
        per = x.size * _COMPLEX * 2 + sum(_expm_bytes(P.shape[0]) for P in parts)
        chunk = max(1, CHUNK_BYTES // int(per))
        for c0 in range(0, idx.size, chunk):
            sel = idx[c0 : c0 + chunk]
            dts = times[c0 : c0 + chunk] - start
            X = np.broadcast_to(x, (sel.size, *x.shape))
            for k, L in enumerate(parts):
                X = apply_local(X, k, expm_times(L, dts), batch=True)
            for j, i in enumerate(sel):
                record(i, X[j])
    return _run_local_step(x, parts, start, end, times[:0], idx[:0], record)


def _pairs(P: list[np.ndarray]) -> list[tuple[int, np.ndarray]]:
    """Neighbouring parties combined while the product is at most :data:`PAIR_MAX`."""
    out, k = [], 0
    while k < len(P):
        if k + 1 < len(P) and P[k].shape[0] * P[k + 1].shape[0] <= PAIR_MAX:
            out.append((k, np.kron(P[k], P[k + 1])))
            k += 2
        else:
            out.append((k, P[k]))
            k += 1
    return out


def _run_local_step(x, parts, start, end, times, idx, record):
    cache = _StepCache(lambda dt: _pairs([step_matrix(L, dt) for L in parts]))
    sh = x.shape
    # Two result buffers used in turn: large states are not reallocated on every pass;
    # the caller copies recorded states before a buffer is reused two passes later.
    bufs = (np.empty(x.size, complex), np.empty(x.size, complex))

    def layout(blocks):
        """(M, A, m, B) per block: the state as ``(A, m, B)`` around the block's axes."""
        out = []
        for k, M in blocks:
            m = M.shape[0]
            A = math.prod(sh[:k])
            out.append((M, A, m, x.size // (A * m)))
        return out

    def step(x, dt):
        for M, A, m, B in cache(dt):
            out = bufs[1] if np.may_share_memory(x, bufs[0]) else bufs[0]
            x = _apply_middle(M, x.reshape(A, m, B), out.reshape(A, m, B))
        return x.reshape(sh)

    cache.make = lambda dt, make=cache.make: layout(make(dt))
    t = start
    for i, ti in zip(idx, times):
        if ti > t:
            x = step(x, ti - t)
        t = ti
        record(i, x)
    if end > t:
        x = step(x, end - t)
    return np.array(x, copy=True)


def joint_step_matrix(gen: Generator, dt: float) -> np.ndarray:
    """``exp(L dt)`` of a joint generator as a dense paired matrix, block by block over
    the connected components of its sparse pattern (:mod:`eplt.dynamics._sectors`):
    each block is exponentiated alone (for a shared ``U (x) U*`` drive, blocks of size
    at most ``d^2`` instead of one ``d^4``)."""
    from ._sectors import components

    N = math.prod(d * d for d in gen.dims)
    if N <= 64:  # one small dense exponential beats finding the blocks
        return step_matrix(gen.to_dense(), dt)
    P, labels = components(gen.to_sparse())
    out = np.zeros((N, N), dtype=complex)
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    for block in np.split(order, cuts):
        B = P[block][:, block].toarray()
        out[np.ix_(block, block)] = step_matrix(B, dt)
    return out

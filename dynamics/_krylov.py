r"""Krylov (Arnoldi) exponential with dense output on a sparse generator (private).

``x(t) = exp(L (t - t0)) x(t0)`` on a grid of output times, the method of Expokit
(Sidje, ACM Trans. Math. Softw. 24, 130 (1998)) with one change: every output time
inside a Krylov step is read from the same basis. From the current vector ``w``
(``beta = ||w||_2``), ``m`` Arnoldi steps give an orthonormal basis ``V_{m+1}`` and the
Hessenberg matrix ``H_m``; with the augmented ``(m+2) x (m+2)`` matrix ``Hbar`` of
Expokit's corrected scheme,

``exp(s L) w ~ beta V_{m+1} [exp(s Hbar) e_1]_{0..m}``  for every ``s`` in the step,

so the outputs cost ``O(m^2)`` each (``exp(delta Hbar)`` applied in turn; on a uniform grid
one small exponential per basis), not ``O(nnz)`` matrix-vector products per output step.

Error control (Expokit's a-posteriori estimate): with ``y = exp(s Hbar) e_1``,
``p1 = beta |y_m|`` and ``p2 = beta |y_{m+1}| ||L v_{m+1}||``, the local error of the
point is ``p2`` when ``p1 > 10 p2``, ``p1 p2 / (p1 - p2)`` when ``p1 > p2``, else ``p1``.
Output points are taken from one basis while that error stays below
``tol * s / span`` (``tol`` the absolute 2-norm tolerance of the stage, ``span`` its
length, so the local errors sum to at most ``tol``); the next basis starts from the last
accepted point. When not even the first point is reached, an internal point at the
step Expokit's rule proposes (``gamma s (tol_s / err)^(1/m)``) is inserted.

The generator is applied as a sparse CSR matrix (complex, or real for a Liouvillian in
a Hermitian operator basis: :func:`real_form`). The Gram-Schmidt is classical, repeated
once when a pass cancels (the DGKS criterion; two or four BLAS-2 products per step).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.sparse as sp
from scipy.linalg import expm as _expm
from scipy.linalg.blas import dgemv as _dgemv
from scipy.linalg.blas import dnrm2 as _dnrm2
from scipy.linalg.blas import dscal as _dscal
from scipy.linalg.blas import dznrm2 as _dznrm2
from scipy.linalg.blas import zgemv as _zgemv
from scipy.linalg.blas import zscal as _zscal
from scipy.sparse._sparsetools import csr_matvec as _csr_matvec  # skips ~10 us of dispatch

__all__ = ["KrylovDense", "krylov_bytes", "real_form", "times_real"]

#: Krylov dimension (measured on the B5 cavities: 20-40 is flat, the cost of the
#: orthogonalisation grows as m^2 against the coverage of one basis, ~m).
M_DEFAULT = 30
_GAMMA = 0.9
_DELTA = 1.2
_MAX_REJECT = 30
#: Re-orthogonalise when one Gram-Schmidt pass leaves less than this fraction of the norm
#: (Daniel, Gragg, Kaufman and Stewart, Math. Comp. 30, 772 (1976)).
_DGKS = 0.7071067811865476
#: Most output points advanced at once from one basis on a uniform stretch of the grid.
_ADVANCE_MAX = 64
#: Points advanced together from the first basis (later: as many as the last one reached).
_ADVANCE_START = 4
#: Bytes of the output vectors computed from one basis at once (more points from the same
#: basis are handed out in further batches); bounds the workspace on long grids.
BATCH_BYTES = 2**17
#: Fewest output points handed out at once (each hand-out has a fixed cost).
BATCH_MIN = 4


def batch_points(n: int) -> int:
    """Most output points computed from one basis at once (:data:`BATCH_BYTES`)."""
    return max(BATCH_MIN, BATCH_BYTES // (16 * max(1, n)))


def krylov_bytes(n: int, points: int, m: int = M_DEFAULT) -> float:
    """Workspace of :class:`KrylovDense` on complex vectors of ``n`` entries with
    ``points`` output points: the basis, work vectors and one batch of outputs (complex,
    with its conversion from the real basis)."""
    return (m + 6) * n * 16 + 2 * min(points, batch_points(n)) * n * 16


class KrylovDense:
    """``v -> exp(A s) v`` at many ``s`` from few Krylov bases (see the module docstring).

    Parameters
    ----------
    A : scipy.sparse matrix (n, n)
        Complex, or real (then vectors must be real).
    tol : float
        Absolute tolerance (2-norm of the vector) of a stage, shared out over its length.
    m : int
        Krylov dimension (reduced to ``n - 1`` on small spaces).
    """

    def __init__(self, A, tol: float, m: int = M_DEFAULT):
        if not (sp.issparse(A) and A.format == "csr"):
            A = sp.csr_matrix(A)
        A.sum_duplicates()
        self.real = not np.iscomplexobj(A.data)
        self.dtype = float if self.real else complex
        self.A = A
        self.n = A.shape[0]
        self.m = max(1, min(int(m), self.n - 1)) if self.n > 1 else 1
        self.tol = float(tol)
        self.batch = batch_points(self.n)
        self.matvecs = 0
        self.bases = 0
        # the basis (rows), reused for every restart
        self.V = np.empty((self.m + 2, self.n), dtype=self.dtype)
        self._gemv = _dgemv if self.real else _zgemv
        self._nrm2 = _dnrm2 if self.real else _dznrm2
        # gemv's y and dscal/zscal work in place on the rows of V (C-contiguous float64 or
        # complex128, as made above: f2py would copy any other dtype or layout without a
        # word); zdscal is not used, f2py copies its argument
        self._scal = _dscal if self.real else _zscal
        self._trans = 1 if self.real else 2  # V^H w
        self._p = np.empty(self.n, dtype=self.dtype)
        self._Vts = [self.V[: j + 1].T for j in range(self.m + 1)]  # views, F-contiguous

    def _arnoldi(self, w: np.ndarray, beta: float):
        """Basis from ``w`` (norm ``beta``): returns ``(Hbar, mx, breakdown)``."""
        m, V, gemv, tr, n, nrm2 = self.m, self.V, self._gemv, self._trans, self.n, self._nrm2
        scal = self._scal
        H = np.zeros((m + 2, m + 2), dtype=self.dtype)
        np.multiply(w, 1.0 / beta, out=V[0])
        indptr, indices, data = self.A.indptr, self.A.indices, self.A.data
        Vts = self._Vts
        btol = 1e-14 * max(self._anorm, 1e-300)
        self.bases += 1
        for j in range(m):
            p = V[j + 1]  # the next vector is made in its row (contiguous), in place
            p.fill(0)
            _csr_matvec(n, n, indptr, indices, data, V[j], p)
            Vj = Vts[j]  # V[: j + 1].T, F-contiguous (n, j+1)
            # classical Gram-Schmidt (in place: p <- p - V_j (V_j^H p)), repeated when the
            # norm fell by more than 1/sqrt(2) (the DGKS criterion: cancellation)
            before = nrm2(p)
            h = gemv(1.0, Vj, p, trans=tr)
            gemv(-1.0, Vj, h, beta=1.0, y=p, overwrite_y=1)
            nrm = nrm2(p)
            if nrm < _DGKS * before:
                h2 = gemv(1.0, Vj, p, trans=tr)
                gemv(-1.0, Vj, h2, beta=1.0, y=p, overwrite_y=1)
                h += h2
                nrm = nrm2(p)
            H[: j + 1, j] = h
            if nrm <= btol:  # happy breakdown: the span is invariant, exp is exact on it
                self.matvecs += j + 1
                return H[: j + 1, : j + 1], j + 1, True
            H[j + 1, j] = nrm
            scal(1.0 / nrm, p)
        self.matvecs += m + 1
        p = self._p
        p.fill(0)
        _csr_matvec(n, n, indptr, indices, data, V[m], p)
        self._avnorm = float(nrm2(p))
        H[m + 1, m] = 1.0
        return H, m + 2, False

    def _flush(self, ys, n, i, beta, Mb, emit):
        """Hand out the ``n`` accepted points in the blocks ``ys`` (rows: coefficients)
        from point ``i`` as ``Mb @ coefficients`` (the basis, or the projected basis), at
        most :attr:`_hand` at a time; returns ``([], 0, next point)``."""
        if n:
            Y = ys[0] if len(ys) == 1 else np.concatenate(ys)
            for c in range(0, n, self._hand):
                part = Y[c : c + self._hand]
                emit(i, Mb @ (beta * part.T))
                i += part.shape[0]
        return [], 0, i

    def _advance(self, E, y, c, beta, avn, breakdown, rate, targets):
        """``y`` advanced ``c`` times by ``E`` (rows of ``Z``) and how many of them, in
        order, pass the error test of :meth:`run` (``targets``: their times from the
        basis start)."""
        Z = np.empty((c, y.size), dtype=self.dtype)
        E.dot(y, out=Z[0])
        for j in range(1, c):
            E.dot(Z[j - 1], out=Z[j])  # in place (E and y have the basis's dtype)
        if breakdown:
            return Z, c
        m = self.m
        p1 = np.abs(Z[:, m]) * beta
        p2 = np.abs(Z[:, m + 1]) * (beta * avn)
        err = np.where(p1 > 10.0 * p2, p2, np.where(p1 > p2, _corrected(p1, p2), p1))
        bad = np.flatnonzero(~(err <= _DELTA * rate * targets))
        return Z, int(bad[0]) if bad.size else c

    def run(self, v: np.ndarray, points: np.ndarray, emit, project=None) -> np.ndarray:
        """Propagate ``v`` (at time 0) to each of the increasing times ``points`` (> 0).

        ``emit(i, Y)`` receives the vectors at ``points[i : i + k]`` as the columns of an
        ``(n, k)`` array, once per Krylov basis; returns the vector at ``points[-1]``.
        With ``project`` (a ``(q, n)`` matrix), ``Y`` is ``project @ vectors`` instead,
        ``(q, k)``, computed from the basis coefficients (``project @ V`` once per basis:
        the vectors themselves are never formed)."""
        w = np.array(v, dtype=self.dtype, copy=True).reshape(-1)
        # points handed out at once (projected outputs are small: more at a time)
        self._hand = self.batch if project is None else batch_points(project.shape[0])
        P = int(points.size)
        if not P:
            return w
        A = self.A
        self._anorm = (
            float(np.bincount(A.indices, weights=np.abs(A.data), minlength=self.n).max())
            if A.nnz
            else 0.0
        )  # ||A||_1: the largest column sum
        rate = self.tol / float(points[-1])  # allowed local error per unit time
        # run[k]: how many points after k follow at the spacing points[k+1] - points[k]
        # (those are advanced together by one small exponential, see _advance)
        run = _uniform_runs(points)
        # points advanced at once: about as many as the last basis reached (points past
        # the reach of a basis are computed and thrown away; ~2 us each on 400 entries)
        adv = _ADVANCE_START
        t = 0.0
        i = 0  # next point
        while i < P:
            beta = float(self._nrm2(w))
            if beta == 0.0 or self._anorm == 0.0:  # exp(sA) 0 = 0, exp(s 0) w = w
                col = (w if project is None else times_real(project, w))[:, None]
                for c in range(i, P, self._hand):
                    emit(c, np.repeat(col, min(self._hand, P - c), axis=1))
                return w
            H, mx, breakdown = self._arnoldi(w, beta)
            first = i  # the first point of this basis
            m, avn = self.m, (0.0 if breakdown else self._avnorm)
            nb = mx if breakdown else m + 1  # basis vectors used by the output
            y = np.zeros(mx, dtype=self.dtype)
            y[0] = 1.0
            s = 0.0
            cache: dict[float, np.ndarray] = {}
            ys: list[np.ndarray] = []  # blocks of accepted points not yet emitted (rows)
            n_ys = 0  # points in them
            last = None  # the last accepted point of this basis (coefficients)
            rejects = 0
            target = float(points[i]) - t
            internal = False
            Vb = self.V[:nb].T
            Mb = Vb if project is None else times_real(project, Vb)  # outputs read from
            while True:
                delta = target - s
                key = float(f"{delta:.12e}")
                E = cache.get(key)
                if E is None:
                    E = cache[key] = _expm(delta * H)
                yn = E @ y
                if breakdown:
                    err, xm = 0.0, 1.0
                else:  # Expokit's estimate (module docstring), once per point
                    p1 = abs(yn[m]) * beta
                    p2 = abs(yn[m + 1]) * beta * avn
                    if p1 > 10.0 * p2:
                        err, xm = p2, 1.0 / m
                    elif p1 > p2:
                        err, xm = p2 / max(1.0 - p2 / p1, 1e-16), 1.0 / m
                    else:
                        err, xm = p1, 1.0 / max(1, m - 1)
                if err <= _DELTA * rate * target:
                    y, s = yn, target
                    if internal:  # an internal point: restart from it
                        break
                    ys.append(yn[None, :nb])
                    n_ys += 1
                    last = yn[:nb]
                    k = i + n_ys - 1  # the point just reached
                    if run[k] > 1 and i + n_ys < P:
                        # the next points at one spacing: advanced together
                        c = min(int(run[k]), P - k - 1, adv)
                        dt = float(points[k + 1] - points[k])
                        key = float(f"{dt:.12e}")
                        E = cache.get(key)
                        if E is None:
                            E = cache[key] = _expm(dt * H)
                        Z, ok = self._advance(
                            E, y, c, beta, avn, breakdown, rate, points[k + 1 : k + 1 + c] - t
                        )
                        if ok:
                            y, s = Z[ok - 1], float(points[k + ok]) - t
                            ys.append(Z[:ok, :nb])
                            n_ys += ok
                            last = Z[ok - 1, :nb]
                        if ok < c:  # the first point out of reach: restart from the last
                            ys, n_ys, i = self._flush(ys, n_ys, i, beta, Mb, emit)
                            break
                    if n_ys >= self._hand:  # a full batch: out, same basis
                        ys, n_ys, i = self._flush(ys, n_ys, i, beta, Mb, emit)
                    if i + n_ys == P:
                        break
                    target = float(points[i + n_ys]) - t
                    continue
                if last is not None:  # restart from the last point reached
                    break
                if rejects >= _MAX_REJECT:
                    raise ValueError(
                        "Krylov step: the error estimate did not fall below the tolerance "
                        f"after {_MAX_REJECT} smaller steps (||L||_1 = {self._anorm:.3g})"
                    )
                rejects += 1
                tau = _GAMMA * target * (rate * target / err) ** xm
                target = float(f"{min(tau, 0.5 * target):.2g}")
                internal = True
            ys, n_ys, i = self._flush(ys, n_ys, i, beta, Mb, emit)
            adv = min(_ADVANCE_MAX, max(_ADVANCE_START, i - first))
            if last is not None:
                w = Vb @ (beta * last)
            else:
                w = Vb @ (beta * y[:nb])
            t += s
        return w


def _uniform_runs(points: np.ndarray) -> np.ndarray:
    """``run[k]``: the number of consecutive steps from point ``k`` equal (to 12 digits)
    to ``points[k+1] - points[k]`` (0 for the last point)."""
    P = points.size
    run = np.zeros(P, dtype=int)
    if P < 2:
        return run
    d = np.diff(points)
    same = np.abs(d[1:] - d[:-1]) <= 1e-12 * np.abs(d[:-1])  # step k+1 equals step k
    # step k's run ends at the first step j >= k followed by a different one (or the last)
    ends = np.append(np.flatnonzero(~same), P - 2)
    k = np.arange(P - 1)
    run[: P - 1] = ends[np.searchsorted(ends, k)] - k + 1
    return run


def times_real(W: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``W @ A``; a complex ``W`` on a real ``A`` as two real products (numpy would copy
    ``A`` to complex first: the whole basis, 2.2 MiB at N = 80)."""
    if np.iscomplexobj(W) and not np.iscomplexobj(A):
        return W.real @ A + 1j * (W.imag @ A)
    return W @ A


def _corrected(p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Expokit's ``p2 / (1 - p2/p1)`` where ``p1 > p2`` (finite everywhere, no warning:
    the ratio is taken against ``max(p1, p2)`` and ``1 - ratio`` floored at 1e-16)."""
    ratio = p2 / np.maximum(np.maximum(p1, p2), 1e-300)
    return p2 / np.maximum(1.0 - ratio, 1e-16)


#: :func:`real_form` works by this many blocks of rows on Liouvillians of more than
#: :data:`_REAL_FORM_CHUNK_NNZ` nonzeros (its complex temporaries were most of the N = 80
#: cavity's peak memory).
_REAL_FORM_BLOCKS = 8
#: Spaces up to this many entries get their real form from dense products.
_REAL_FORM_DENSE_MAX = 64
_REAL_FORM_CHUNK_NNZ = 2**12


@functools.lru_cache(maxsize=16)
def _product_basis(dims: tuple) -> tuple:
    """``T = (x)_k T_k`` (:func:`hermitian_basis`) and ``T^H``, both CSR (cached: callers
    must not modify them)."""
    T = None
    for d in dims:
        Tk = hermitian_basis(d)
        T = Tk if T is None else sp.kron(T, Tk, format="csr")
    return T, T.conj().T.tocsr()


@functools.lru_cache(maxsize=64)
def hermitian_basis(d: int) -> sp.csr_matrix:
    r"""Columns: the orthonormal Hermitian basis ``E_ii``, ``(E_ij + E_ji)/sqrt2``,
    ``i (E_ij - E_ji)/sqrt2`` (``i < j``) of ``d x d`` matrices in the paired (row-major)
    layout, as a sparse unitary ``d^2 x d^2`` matrix ``T``: ``vec(X) = T r`` with ``r`` real
    for Hermitian ``X``."""
    rows, cols, vals = [], [], []
    c = 0
    # (cached: callers must not modify the matrix)
    for a in range(d):
        rows.append(a * d + a)
        cols.append(c)
        vals.append(1.0)
        c += 1
    s = 1.0 / math.sqrt(2.0)
    for a in range(d):
        for b in range(a + 1, d):
            rows += [a * d + b, b * d + a]
            cols += [c, c]
            vals += [s, s]
            rows += [a * d + b, b * d + a]
            cols += [c + 1, c + 1]
            vals += [1j * s, -1j * s]
            c += 2
    return sp.csr_matrix((np.array(vals, complex), (rows, cols)), shape=(d * d, d * d))


def real_form(L: sp.csr_matrix, dims):
    r"""``(R, T)``: the Liouvillian ``L`` of parties ``dims`` (paired layout) in the real
    product basis ``T = (x)_k T_k`` of Hermitian operators (:func:`hermitian_basis`),
    ``R = T^H L T``, real when ``L`` preserves Hermiticity; ``None`` when it does not
    (imaginary part above ``1e-13`` of the largest entry). ``R`` is CSR, or a dense
    array when ``L`` is dense."""
    T, TH = _product_basis(tuple(int(d) for d in dims))
    N = T.shape[0]
    dense = not sp.issparse(L)
    if dense or N <= _REAL_FORM_DENSE_MAX:
        # a dense L (a small whole space), or a tiny space: dense products by the sparse T
        Rd = np.asarray(TH @ (np.asarray(L) if dense else L.toarray())) @ T
        scale = float(np.abs(Rd).max()) if Rd.size else 0.0
        if float(np.abs(Rd.imag).max(initial=0.0)) > 1e-13 * scale:
            return None
        R = np.ascontiguousarray(Rd.real)
        return (R if dense else sp.csr_matrix(R)), T
    # by blocks of rows: the complex products (up to ~4 nnz(L) entries before the
    # imaginary parts cancel) are held for one block at a time, not for all of R; CSR
    # throughout (the column blocks' CSC conversions were 2/3 of the time at N = 20)
    step = max(1, -(-N // _REAL_FORM_BLOCKS)) if L.nnz > _REAL_FORM_CHUNK_NNZ else N
    if L.format != "csr":
        L = L.tocsr()
    pieces, imag, scale = [], 0.0, 0.0
    for r0 in range(0, N, step):
        B = ((TH if step == N else TH[r0 : r0 + step]) @ L) @ T
        B.sum_duplicates()
        if B.nnz:
            scale = max(scale, float(abs(B.data).max()))
            imag = max(imag, float(abs(B.data.imag).max()))
        Br = sp.csr_matrix((B.data.real.copy(), B.indices, B.indptr), shape=B.shape)
        del B
        Br.eliminate_zeros()
        pieces.append(Br)
    if imag > 1e-13 * scale:
        return None
    Rr = pieces[0] if len(pieces) == 1 else sp.vstack(pieces, format="csr")
    return Rr, T

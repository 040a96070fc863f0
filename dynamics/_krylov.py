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
a Hermitian operator basis: :func:`real_form`). The Gram-Schmidt is classical with one
re-orthogonalisation (two BLAS-2 products per Arnoldi step).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.sparse as sp
from scipy.linalg import expm as _expm
from scipy.linalg.blas import dgemv as _dgemv
from scipy.linalg.blas import dnrm2 as _dnrm2
from scipy.linalg.blas import dznrm2 as _dznrm2
from scipy.linalg.blas import zgemv as _zgemv
from scipy.sparse._sparsetools import csr_matvec as _csr_matvec  # skips ~10 us of dispatch

__all__ = ["KrylovDense", "krylov_bytes", "real_form"]

#: Krylov dimension (measured on the B5 cavities: 20-40 is flat, the cost of the
#: orthogonalisation grows as m^2 against the coverage of one basis, ~m).
M_DEFAULT = 30
_GAMMA = 0.9
_DELTA = 1.2
_MAX_REJECT = 30
#: Bytes of the output vectors computed from one basis at once (more points start a new
#: basis); bounds the workspace on long grids.
BATCH_BYTES = 2**24


def batch_points(n: int) -> int:
    """Most output points computed from one basis at once (:data:`BATCH_BYTES`)."""
    return max(1, BATCH_BYTES // (16 * max(1, n)))


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
        self._trans = 1 if self.real else 2  # V^H w
        self._p = np.empty(self.n, dtype=self.dtype)

    def _arnoldi(self, w: np.ndarray, beta: float):
        """Basis from ``w`` (norm ``beta``): returns ``(Hbar, mx, breakdown)``."""
        m, V, gemv, tr, n = self.m, self.V, self._gemv, self._trans, self.n
        H = np.zeros((m + 2, m + 2), dtype=self.dtype)
        np.multiply(w, 1.0 / beta, out=V[0])
        p = self._p
        A = self.A
        btol = 1e-14 * max(self._anorm, 1e-300)
        self.bases += 1
        for j in range(m):
            p.fill(0)
            _csr_matvec(n, n, A.indptr, A.indices, A.data, V[j], p)
            Vj = V[: j + 1].T  # F-contiguous (n, j+1)
            # classical Gram-Schmidt, twice (in place: p <- p - V_j (V_j^H p))
            h = gemv(1.0, Vj, p, trans=tr)
            p = gemv(-1.0, Vj, h, beta=1.0, y=p, overwrite_y=1)
            h2 = gemv(1.0, Vj, p, trans=tr)
            p = gemv(-1.0, Vj, h2, beta=1.0, y=p, overwrite_y=1)
            H[: j + 1, j] = h + h2
            nrm = float(self._nrm2(p))
            if nrm <= btol:  # happy breakdown: the span is invariant, exp is exact on it
                self.matvecs += j + 1
                return H[: j + 1, : j + 1], j + 1, True
            H[j + 1, j] = nrm
            np.multiply(p, 1.0 / nrm, out=V[j + 1])
        self.matvecs += m + 1
        p.fill(0)
        _csr_matvec(n, n, A.indptr, A.indices, A.data, V[m], p)
        avnorm = float(self._nrm2(p))
        H[m + 1, m] = 1.0
        self._avnorm = avnorm
        return H, m + 2, False

    def run(self, v: np.ndarray, points: np.ndarray, emit) -> np.ndarray:
        """Propagate ``v`` (at time 0) to each of the increasing times ``points`` (> 0).

        ``emit(i, Y)`` receives the vectors at ``points[i : i + k]`` as the columns of an
        ``(n, k)`` array, once per Krylov basis; returns the vector at ``points[-1]``."""
        w = np.array(v, dtype=self.dtype, copy=True).reshape(-1)
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
        t = 0.0
        i = 0  # next point
        while i < P:
            beta = float(self._nrm2(w))
            if beta == 0.0 or self._anorm == 0.0:  # exp(sA) 0 = 0, exp(s 0) w = w
                emit(i, np.repeat(w[:, None], P - i, axis=1))
                return w
            H, mx, breakdown = self._arnoldi(w, beta)
            m, avn = self.m, (0.0 if breakdown else self._avnorm)
            nb = mx if breakdown else m + 1  # basis vectors used by the output
            y = np.zeros(mx, dtype=self.dtype)
            y[0] = 1.0
            s = 0.0
            cache: dict[float, np.ndarray] = {}
            ys: list[np.ndarray] = []
            rejects = 0
            target = float(points[i]) - t
            internal = False
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
                        err, xm = p1 * p2 / (p1 - p2), 1.0 / m
                    else:
                        err, xm = p1, 1.0 / max(1, m - 1)
                if err <= _DELTA * rate * target:
                    y, s = yn, target
                    if internal:  # an internal point: restart from it
                        break
                    ys.append(yn[:nb])
                    if i + len(ys) == P or len(ys) == self.batch:
                        break
                    target = float(points[i + len(ys)]) - t
                    continue
                if ys:  # restart from the last point reached
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
            Vb = self.V[:nb].T
            if ys:
                Y = Vb @ (beta * np.stack(ys, axis=1))
                emit(i, Y)
                i += len(ys)
                w = Y[:, -1].copy()
            else:
                w = Vb @ (beta * y[:nb])
            t += s
        return w


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
    (imaginary part above ``1e-13`` of the largest entry)."""
    T = None
    for d in dims:
        Tk = hermitian_basis(int(d))
        T = Tk if T is None else sp.kron(T, Tk, format="csr")
    R = (T.conj().T @ L @ T).tocsr()
    R.sum_duplicates()
    scale = float(abs(R.data).max()) if R.nnz else 0.0
    if R.nnz and float(abs(R.data.imag).max()) > 1e-13 * scale:
        return None
    Rr = sp.csr_matrix((R.data.real.copy(), R.indices, R.indptr), shape=R.shape)
    Rr.eliminate_zeros()
    return Rr, T

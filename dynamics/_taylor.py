"""Truncated Taylor series of ``exp(A t) v`` on a sparse matrix (private).

The Al-Mohy & Higham algorithm (SIAM J. Sci. Comput. 33, 488 (2011)) without its per-call
norm estimation: the degree ``m`` and substeps ``s`` come once per step length from the
exact 1-norm of the shifted matrix, and the inner loop calls BLAS and scipy's CSR kernel
directly (the Python dispatch of ``A @ b`` cost as much as the product on small matrices).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dznrm2 as _dznrm2
from scipy.linalg.blas import zaxpy as _zaxpy
from scipy.sparse._sparsetools import csr_matvec as _csr_matvec  # skips ~10 us of dispatch

__all__ = ["Taylor", "taylor_ms"]

#: Step lengths whose scaled matrix is kept (first interval, grid step, remainder).
CACHE_STEPS = 3


def _norm1(A) -> float:
    return float(abs(A).sum(axis=0).max()) if A.nnz else 0.0


#: ``theta_m``: the largest ``||A||_1`` for which the degree-``m`` truncated Taylor series
#: of ``exp(A) v`` reaches double precision (Al-Mohy & Higham, SIAM J. Sci. Comput. 33,
#: 488 (2011), Table 3.1, tolerance 2^-53).
_THETA = {
    5: 2.4e-3, 10: 1.44e-1, 15: 6.41e-1, 20: 1.44, 25: 2.43, 30: 3.54,
    35: 4.7, 40: 6.0, 45: 7.2, 50: 8.5, 55: 9.9,
}  # fmt: skip
_TOL = 2.0**-53


class Taylor:
    """``v -> exp(L dt) v`` by the truncated Taylor series with scaling (Al-Mohy & Higham
    2011): ``L`` shifted by ``mu = tr(L)/N``, ``s`` substeps of degree ``m`` chosen once per
    ``dt`` from the exact 1-norm (minimising ``m s``), each substep stopped early when two
    consecutive terms fall below ``2^-53`` of the sum. The same algorithm as
    :func:`scipy.sparse.linalg.expm_multiply` without its per-call norm estimation, which
    dominated on grids of hundreds of short steps."""

    def __init__(self, L: sp.csr_matrix):
        N = L.shape[0]
        self.mu = complex(L.diagonal().sum()) / N
        A = (L - self.mu * sp.identity(N, dtype=complex, format="csr")).tocsr()
        A.sum_duplicates()
        self.A = A
        self.norm = _norm1(self.A)
        self.params: dict[float, tuple[int, int]] = {}
        self.scaled: dict[float, sp.csr_matrix] = {}

    def _ms(self, dt: float) -> tuple[int, int]:
        key = float(f"{dt:.12e}")
        if key not in self.params:
            self.params[key] = taylor_ms(self.norm * dt)
        return self.params[key]

    def matvecs(self, dt: float) -> int:
        m, s = self._ms(dt)
        return m * s

    def _scaled(self, dt: float, s: int) -> sp.csr_matrix:
        key = float(f"{dt:.12e}")
        if key not in self.scaled:
            if len(self.scaled) >= CACHE_STEPS:
                self.scaled.pop(next(iter(self.scaled)))
            A = self.A.copy()
            A.data *= dt / s
            self.scaled[key] = A
        return self.scaled[key]

    def __call__(self, v: np.ndarray, dt: float) -> np.ndarray:
        m, s = self._ms(dt)
        A = self._scaled(dt, s)  # A dt / s: the raw powers A^j b stay below theta_m^j
        N = A.shape[0]
        eta = np.exp(self.mu * dt / s)
        F = np.array(v, dtype=complex, copy=True)
        b = np.empty_like(F)
        y = np.empty_like(F)
        for _ in range(s):
            b[:] = F
            c1 = _dznrm2(b)
            fn = c1
            fact = 1.0  # b holds (A dt/s)^j F; the Taylor term is b / j!
            for j in range(1, m + 1):
                y.fill(0)
                _csr_matvec(N, N, A.indptr, A.indices, A.data, b, y)
                b, y = y, b
                fact /= j
                c2 = _dznrm2(b) * fact
                F = _zaxpy(b, F, a=fact)
                # scipy's stopping rule, in 2-norms; ||F|| refreshed only when it matters
                if c1 + c2 <= _TOL * fn:
                    fn = _dznrm2(F)
                    if c1 + c2 <= _TOL * fn:
                        break
                c1 = c2
            F *= eta
        return F


def taylor_ms(a: float) -> tuple[int, int]:
    """Degree ``m`` and substeps ``s`` of the truncated Taylor series for ``||A t||_1 = a``
    (minimising ``m s`` subject to ``a / s <= theta_m``)."""
    best = None
    for m, theta in _THETA.items():
        s = max(1, math.ceil(a / theta))
        if best is None or m * s < best[0] * best[1]:
            best = (m, s)
    return best

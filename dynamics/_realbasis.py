"""Hermitian operator basis (private): Hermiticity-preserving superoperators as real matrices.

In a Frobenius-orthonormal basis of Hermitian matrices, every Hermiticity-preserving map
(every Lindbladian, every channel) is a real matrix. The segment average computes its
node propagators there: real products and exponentials cost half of complex ones, and
the complex conjugate of a generator (B's ``U^*`` drive, real dissipator) is a sign
pattern instead of a second propagator.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conj_signs", "from_real", "hermitian_basis", "to_real"]

_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _build(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns: row-major ``vec`` of ``E_ii``, ``(E_ij + E_ji)/sqrt 2``,
    ``-i (E_ij - E_ji)/sqrt 2`` (``i < j``); signs of their complex conjugates."""
    V = np.zeros((d * d, d * d), complex)
    signs = np.ones(d * d)
    col = 0
    r2 = 1 / np.sqrt(2)
    for i in range(d):
        V[i * d + i, col] = 1
        col += 1
    for i in range(d):
        for j in range(i + 1, d):
            V[i * d + j, col] = V[j * d + i, col] = r2
            V[i * d + j, col + 1], V[j * d + i, col + 1] = -1j * r2, 1j * r2
            signs[col + 1] = -1.0
            col += 2
    V.setflags(write=False)
    signs.setflags(write=False)
    return V, signs


def hermitian_basis(d: int) -> np.ndarray:
    """Unitary ``V`` (``d^2 x d^2``) whose columns are the row-major vecs of an orthonormal
    Hermitian basis; ``V^† S V`` is real for every Hermiticity-preserving ``S``."""
    if d not in _CACHE:
        _CACHE[d] = _build(d)
    return _CACHE[d][0]


def conj_signs(d: int) -> np.ndarray:
    """``t`` with ``conj(V) = V diag(t)``: ``V^† conj(S) V = diag(t) (V^† S V) diag(t)``
    for Hermiticity-preserving ``S``."""
    if d not in _CACHE:
        _CACHE[d] = _build(d)
    return _CACHE[d][1]


def _kron_basis(dims) -> np.ndarray:
    V = hermitian_basis(dims[0])
    for d in dims[1:]:
        V = np.kron(V, hermitian_basis(d))
    return V


def to_real(S: np.ndarray, dims, *, tol: float = 1e-12) -> np.ndarray | None:
    """``V^† S V`` (stacked over leading axes; ``V`` the kron of the parties' bases) as a
    real array, or None when ``S`` is not Hermiticity preserving (imaginary part above
    ``tol`` times its largest entry)."""
    V = _kron_basis(dims)
    R = V.conj().T @ S @ V
    scale = float(np.abs(R).max(initial=0.0))
    if float(np.abs(R.imag).max(initial=0.0)) > tol * max(scale, 1.0):
        return None
    return np.ascontiguousarray(R.real)


def from_real(R: np.ndarray, dims) -> np.ndarray:
    """The row-major complex matrix of the real matrix ``R`` on the kron of ``dims``."""
    V = _kron_basis(dims)
    return V @ R @ V.conj().T

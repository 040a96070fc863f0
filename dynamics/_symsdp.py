r"""A small engine for symmetry-reduced SDPs over one Hermitian matrix, with a rigorous
dual bound (private; used by :mod:`eplt.dynamics.dps`).

Problem: ``max Tr(W X)`` over Hermitian ``X`` (``n x n``) in the commutant of a group
(projector ``P``, a group average), ``X >= 0``, ``L(X) = b`` (complex linear map) and
``T_j(X) >= 0`` for given linear maps ``T_j`` (partial transposes). ``X`` is written in an
orthonormal (Frobenius) basis ``B_i`` of the commutant built from its block decomposition
(:func:`eplt.dynamics._symmetry.block_basis`), ``X = sum_i x_i B_i``; every PSD condition
becomes small blocks (real embeddings ``[[Re C, -Im C], [Im C, Re C]]``), so the
memory is ``N n^2`` complex numbers for the basis (``N`` the commutant's dimension) plus
the solver's blocks; :func:`memory_estimate` gives it before anything is built.

Certificate. With the solver's duals ``y`` (equalities, in independent real rows) and
``Z_j`` (clipped to PSD), every feasible ``x`` satisfies
``c.x = y.b - sum_j <Z_j, F_j(x)> + r.x <= y.b + ||r||_2 ||x||_2`` with the residual
``r = c - A^T y + sum_j F_j^*(Z_j)``, and ``||x||_2 = ||X||_F <= Tr X`` for ``X >= 0``; with
the trace of ``X`` fixed by the constraints (``trace_bound``), ``y.b + ||r|| trace_bound``
is an upper bound on the SDP, up to floating-point error (~1e-13) in ``r`` and ``y.b``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._checks import herm as _herm
from ._memory import MemoryLimitError, available_memory
from ._symmetry import block_basis

__all__ = ["MemoryLimitError", "SymSDPResult", "memory_limit", "one_blas_thread", "solve"]

#: Bytes per complex number of the basis stack, times a safety factor for the copies made
#: while building the constraint rows (measured peak ~3x the stack).
_BYTES_PER_ENTRY = 16 * 4


def one_blas_thread():
    """Context manager limiting BLAS to one thread (as :func:`eplt.dynamics.evolve` does):
    the SDP solvers' small dense factorizations run faster single-threaded, and on a loaded
    machine threads only compete (measured 7-12x less CPU for the d = 3, 4 PPT SDPs)."""
    from .propagate import _blas_controller

    return _blas_controller().limit(limits=1, user_api="blas")


def memory_limit() -> float:
    """Bytes this process may use: :func:`eplt.dynamics._memory.available_memory` (the one
    rule for the engine and the studies: ``EPLT_MEMORY_LIMIT``, else the smallest of
    ``MemAvailable``, the cgroup limit and ``RLIMIT_AS``)."""
    return available_memory()


def memory_estimate(n: int, n_params: int) -> float:
    """Bytes to build an SDP over ``n x n`` matrices with ``n_params`` free coordinates."""
    return float(n_params) * n * n * _BYTES_PER_ENTRY + 8.0 * n * n * 16


def check_memory(n: int, n_params: int, what: str) -> float:
    need = memory_estimate(n, n_params)
    limit = memory_limit()
    if need > limit:
        raise MemoryLimitError(
            f"{what} needs about {need / 1e9:.2g} GB (n = {n}, {n_params} coordinates), above "
            f"the limit {limit / 1e9:.2g} GB (EPLT_MEMORY_LIMIT, else the available memory); use a "
            "smaller system"
        )
    return need


@dataclass(frozen=True)
class SymSDPResult:
    """``value`` (solver primal objective), ``dual_value`` (rigorous bound), ``X``, sizes."""

    value: float
    dual_value: float
    X: np.ndarray
    block_sizes: tuple
    n_params: int
    status: str


def _hermitian_units(m: int) -> list[np.ndarray]:
    out = []
    for i in range(m):
        E = np.zeros((m, m), dtype=complex)
        E[i, i] = 1
        out.append(E)
    s = 1 / np.sqrt(2)
    for i in range(m):
        for j in range(i + 1, m):
            E = np.zeros((m, m), dtype=complex)
            E[i, j] = E[j, i] = s
            out.append(E)
            E = np.zeros((m, m), dtype=complex)
            E[i, j], E[j, i] = 1j * s, -1j * s
            out.append(E)
    return out


def _embed(C: np.ndarray) -> np.ndarray:
    """Real embedding of a stack of Hermitian matrices ``(N, m, m) -> (N, 2m, 2m)``."""
    re, im = C.real, C.imag
    top = np.concatenate([re, -im], axis=2)
    bot = np.concatenate([im, re], axis=2)
    return np.concatenate([top, bot], axis=1)


def commutant_dimension(P: Callable, n: int) -> tuple:
    """Block basis of the commutant and its dimension ``sum_k m_k^2``."""
    blocks = block_basis(P, n)
    return blocks, sum(m * m for m in blocks.sizes)


def solve(
    n: int,
    P: Callable[[np.ndarray], np.ndarray],
    W: np.ndarray,
    L: Callable[[np.ndarray], np.ndarray],
    b: np.ndarray,
    transposes: Sequence[Callable[[np.ndarray], np.ndarray]],
    *,
    trace_bound: float,
    what: str = "this SDP",
    blocks=None,
) -> SymSDPResult:
    """Solve the symmetric SDP of the module docstring (cvxpy + Clarabel, one BLAS thread)."""
    import cvxpy as cp

    if blocks is None:
        blocks, N = commutant_dimension(P, n)
    else:
        N = sum(m * m for m in blocks.sizes)
    check_memory(n, N, what)
    # orthonormal basis B_i of the commutant and the blocks of X
    basis = np.zeros((N, n, n), dtype=complex)
    psd_C = []
    i = 0
    for copies in blocks.copies:
        m = copies[0].shape[1]
        units = _hermitian_units(m)
        C = np.zeros((N, m, m), dtype=complex)
        for h in units:
            B = sum(V @ h @ V.conj().T for V in copies) / np.sqrt(len(copies))
            basis[i] = B
            C[i] = h / np.sqrt(len(copies))
            i += 1
        psd_C.append(C)
    for T in transposes:
        TP = lambda X, T=T: T(P(T(X)))  # noqa: E731 - the transposed algebra's projector
        tb = block_basis(TP, n)
        for copies in tb.copies:
            V = copies[0]
            TB = np.stack([T(B) for B in basis])
            psd_C.append(np.einsum("pi,npq,qj->nij", V.conj(), TB, V))
    # equalities: real rows, independent
    rows = np.stack([np.ravel(L(B)) for B in basis], axis=1)  # (n_rows, N), complex
    A = np.concatenate([rows.real, rows.imag])
    bb = np.concatenate([np.ravel(b).real, np.ravel(b).imag])
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > 1e-10 * s[0]))
    Ur = U[:, :r]
    if np.abs(bb - Ur @ (Ur.T @ bb)).max() > 1e-9:
        raise RuntimeError(f"{what}: equality constraints are inconsistent on the commutant")
    Ar, br = Ur.T @ A, Ur.T @ bb
    c = np.real(np.einsum("qp,npq->n", W, basis))
    F = [_embed(C) for C in psd_C]
    x = cp.Variable(N)
    cons = [Ar @ x == br]
    for Fj in F:
        k = Fj.shape[1]
        cons.append(cp.reshape(Fj.reshape(N, k * k).T @ x, (k, k), order="C") >> 0)
    prob = cp.Problem(cp.Maximize(c @ x), cons)
    with one_blas_thread(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        prob.solve(solver="CLARABEL")
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"{what} not solved: solver status {prob.status!r}")
    y = np.asarray(cons[0].dual_value, dtype=float)
    Zs = []
    for con in cons[1:]:
        lam, V = np.linalg.eigh(_herm(np.asarray(con.dual_value, dtype=float)))
        Zs.append((V * np.clip(lam, 0, None)) @ V.T)
    FZ = sum(np.einsum("nij,ij->n", Fj, Z) for Fj, Z in zip(F, Zs))
    best = np.inf
    for sign in (1.0, -1.0):  # the sign convention of the equality duals, checked
        res = c - sign * (Ar.T @ y) + FZ
        best = min(best, float(sign * (br @ y) + np.linalg.norm(res) * trace_bound))
    X = np.tensordot(x.value, basis, axes=1)
    return SymSDPResult(
        value=float(prob.value),
        dual_value=best,
        X=_herm(X),
        block_sizes=tuple(blocks.sizes),
        n_params=N,
        status=prob.status,
    )

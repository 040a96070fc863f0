r"""A small engine for symmetry-reduced SDPs over one Hermitian matrix, with a rigorous
dual bound (private; used by :mod:`eplt.dynamics.dps`).

Problem: ``max Tr(W X)`` over Hermitian ``X`` (``n x n``) in the commutant of a group
(projector ``P``, a group average), ``X >= 0``, ``L(X) = b`` (complex linear map) and
``T_j(X) >= 0`` for given linear maps ``T_j`` (partial transposes). ``X`` is written in an
orthonormal (Frobenius) basis ``B_i`` of the commutant built from its block decomposition
(:func:`eplt.dynamics._symmetry.block_basis`), ``X = sum_i x_i B_i``; every PSD condition
becomes small blocks (real embeddings ``[[Re C, -Im C], [Im C, Re C]]``). The basis is
streamed (one ``B_i`` at a time: its objective coefficient, block coordinates, transposed
blocks and equality column are kept, never the ``N n^2`` stack), so the memory is the
equality columns (``rows x N`` complex) plus a few ``n x n`` work matrices;
:func:`memory_estimate` gives it before anything is built.

Certificate. With the solver's duals ``y`` (equalities, in independent real rows) and
``Z_j`` (clipped to PSD), every feasible ``x`` satisfies
``c.x = y.b - sum_j <Z_j, F_j(x)> + r.x <= y.b + ||r||_2 ||x||_2`` with the residual
``r = c - A^T y + sum_j F_j^*(Z_j)``, and ``||x||_2 = ||X||_F <= Tr X`` for ``X >= 0``; with
the trace of ``X`` fixed by the constraints (``trace_bound``), ``y.b + ||r|| trace_bound``
is an upper bound on the SDP for any ``y`` (the solver's, and the solver's moved by the
least-squares correction that removes ``r``'s component in the row space of ``A``; the
smaller is kept), up to floating-point error (~1e-13) in ``r`` and ``y.b``. When the solver
stops short, a sharper bound absorbs ``r`` into the ``Z_j`` (any symmetric ``Z_j`` gives a
bound once its negative eigenvalues are charged against the blocks' traces, which the
trace bound limits family by family): see :func:`_certificate`; the smallest bound is
reported.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._checks import herm as _herm
from ._memory import MemoryLimitError, available_memory
from ._symmetry import block_basis

__all__ = [
    "MemoryLimitError",
    "SymSDPResult",
    "blas_single_threaded",
    "memory_limit",
    "one_blas_thread",
    "solve",
]

#: Work buffers of ``n x n`` complex matrices alive at once while streaming the basis
#: (the element, its transposes, partial traces, temporaries), with a safety factor.
_WORK_MATRICES = 24

#: Clarabel tolerances: tighter than the defaults (1e-8), so that the certified dual bound
#: (whose slack is the dual residual times the trace bound) stays within 1e-6 of the primal.
_CLARABEL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}


def one_blas_thread():
    """Context manager limiting BLAS to one thread (as :func:`eplt.dynamics.evolve` does):
    the SDP solvers' small dense factorizations run faster single-threaded, and on a loaded
    machine threads only compete (measured 7-12x less CPU for the d = 3, 4 PPT SDPs)."""
    from .propagate import _blas_controller

    return _blas_controller().limit(limits=1, user_api="blas")


def blas_single_threaded(func):
    """Decorator: run ``func`` entirely under :func:`one_blas_thread` (the SDP builders'
    eigen-decompositions and products of small matrices, not only the solver: on the
    shared 2-core machine a PPT qutrit bound took 2-3 s CPU with threaded BLAS outside the
    solver and 0.2-0.25 s single-threaded, load 10)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper


def memory_limit() -> float:
    """Bytes this process may use: :func:`eplt.dynamics._memory.available_memory` (the one
    rule for the engine and the studies: ``EPLT_MEMORY_LIMIT``, else the smallest of
    ``MemAvailable``, the cgroup limit and ``RLIMIT_AS``)."""
    return available_memory()


def memory_estimate(n: int, n_params: int, n_rows: int | None = None) -> float:
    """Bytes to build an SDP over ``n x n`` matrices with ``n_params`` free coordinates and
    ``n_rows`` complex equality rows (default ``2 n^2``): the basis is streamed, so the
    memory is the constraint columns (``n_rows x n_params`` complex), their Gram matrix and
    a few ``n x n`` work matrices, plus the small block coordinates."""
    if n_rows is None:
        n_rows = 2 * n * n
    return 16.0 * n_rows * n_params + 16.0 * _WORK_MATRICES * n * n + 8.0 * 4 * n_params**2


def check_memory(n: int, n_params: int, what: str, *, n_rows: int | None = None) -> float:
    need = memory_estimate(n, n_params, n_rows)
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


def _hermitian_units(m: int) -> list[tuple[str, int, int]]:
    """The orthonormal Hermitian basis of ``m x m`` matrices as ``(kind, i, j)``: ``E_ii``,
    ``(E_ij + E_ji)/sqrt 2`` (``"re"``) and ``i (E_ij - E_ji)/sqrt 2`` (``"im"``), ``i < j``."""
    out = [("diag", i, i) for i in range(m)]
    for i in range(m):
        for j in range(i + 1, m):
            out += [("re", i, j), ("im", i, j)]
    return out


def _unit_matrix(kind: str, i: int, j: int, m: int) -> np.ndarray:
    E = np.zeros((m, m), dtype=complex)
    if kind == "diag":
        E[i, i] = 1
    elif kind == "re":
        E[i, j] = E[j, i] = 1 / np.sqrt(2)
    else:
        E[i, j], E[j, i] = 1j / np.sqrt(2), -1j / np.sqrt(2)
    return E


def _basis_elements(blocks):
    """Yield ``(k, h, B)``: block index, the ``m_k x m_k`` unit ``h`` and the orthonormal
    basis element ``B = sum_s V_s h V_s^dagger / sqrt(n_k)`` of the commutant, one at a
    time (``n x n``; the whole stack is never held)."""
    for k, copies in enumerate(blocks.copies):
        m = copies[0].shape[1]
        c = len(copies)
        cols = [np.stack([V[:, a] for V in copies], axis=1) for a in range(m)]  # (n, c)
        for kind, i, j in _hermitian_units(m):
            if kind == "diag":
                B = cols[i] @ cols[i].conj().T
            else:
                M = cols[i] @ cols[j].conj().T
                B = (M + M.conj().T) if kind == "re" else 1j * (M - M.conj().T)
                B = B / np.sqrt(2)
            yield k, _unit_matrix(kind, i, j, m) / np.sqrt(c), B / np.sqrt(c)


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


def _sym_columns(F: Sequence[np.ndarray]) -> np.ndarray:
    """The adjoint ``Z -> sum_j <F_j, Z_j>`` on symmetric ``Z_j`` as an ``(N, U)`` matrix
    (one column per upper-triangle entry of every block)."""
    cols = []
    for Fj in F:
        iu = np.triu_indices(Fj.shape[1])
        off = (iu[0] != iu[1]).astype(float)
        cols.append(Fj[:, iu[0], iu[1]] + off * Fj[:, iu[1], iu[0]])
    return np.concatenate(cols, axis=1)


def _from_sym(u: np.ndarray, F: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The symmetric blocks of the coordinates ``u`` (:func:`_sym_columns`)."""
    out, o = [], 0
    for Fj in F:
        k = Fj.shape[1]
        iu = np.triu_indices(k)
        D = np.zeros((k, k))
        D[iu] = u[o : o + iu[0].size]
        o += iu[0].size
        out.append(D + np.triu(D, 1).T)
    return out


def _adjoint(F: Sequence[np.ndarray], Zs: Sequence[np.ndarray]) -> np.ndarray:
    """``sum_j F_j^*(Z_j)``: the vector ``(sum_j <F_j[i], Z_j>)_i``."""
    return sum(np.einsum("nij,ij->n", Fj, Z) for Fj, Z in zip(F, Zs))


def _charged_bound(c, Ar, br, y, F, Zs, families, trace_bound) -> float:
    """``y.b + 2 trace_bound sum_families max_j (lambda_j^- / c_j) + ||r|| trace_bound``:
    an upper bound on ``max c.x`` for any ``y`` and symmetric ``Z_j`` (negative
    eigenvalues ``lambda_j^-`` charged per family of blocks, see :func:`_certificate`)."""
    if sum(len(mult) for mult in families) != len(Zs):
        raise ValueError("one multiplicity per PSD block expected")
    res = c - Ar.T @ y + _adjoint(F, Zs)
    neg = [max(0.0, -float(np.linalg.eigvalsh(Z)[0])) for Z in Zs]
    pen, j = 0.0, 0
    for mult in families:
        pen += max((neg[j + q] / m for q, m in enumerate(mult)), default=0.0)
        j += len(mult)
    return float(y @ br + 2.0 * trace_bound * pen + np.linalg.norm(res) * trace_bound)


def _certificate(c, Ar, br, y, F, Z_raw, families, trace_bound) -> float:
    r"""The smallest of several rigorous upper bounds on ``max c.x`` built from the duals
    (every one valid for any ``y`` and symmetric ``Z_j``; see the module docstring):

    * ``y.b + ||r|| trace_bound`` with ``Z_j`` clipped to PSD, for the solver's ``y`` and
      for ``y`` moved by the least-squares step that removes ``r``'s row-space part;
    * the residual absorbed: ``Z_j`` moved by the least-norm ``Delta_j`` with
      ``sum_j F_j^*(Delta_j) = -r`` (after the step above, or jointly with ``y``), so that
      ``r ~ 0``, and the negative eigenvalues this leaves charged instead:
      ``<Z_j, F_j(x)> >= lambda_min(Z_j) Tr F_j(x)``, ``Tr F_j(x) = 2 Tr M_j`` (real
      embedding of the block ``M_j``) and, within a family of blocks with multiplicities
      ``c_j``, ``sum_j c_j Tr M_j <= trace_bound``, so the charge is at most
      ``2 trace_bound max_j (lambda_j^- / c_j)`` per family.

    The absorbed form matters when the solver stops short (Clarabel's ``AlmostSolved`` on
    the qutrit DPS-2: its residual times ``trace_bound`` was a gap of 1.5e-6 at
    ``beta = 5``, the absorbed one 5.4e-7).
    """
    Zc = []
    for Z in Z_raw:
        lam, V = np.linalg.eigh(Z)
        Zc.append((V * np.clip(lam, 0, None)) @ V.T)
    M = _sym_columns(F)
    R = Ar.shape[0]

    def bound(ye, Zs) -> float:  # Zs PSD: y.b + ||r|| trace_bound
        return _charged_bound(c, Ar, br, ye, F, Zs, families, trace_bound)

    def absorbed(ye, du) -> float:  # Z_raw moved by the symmetric blocks of ``du``
        return bound(ye, [Z + d for Z, d in zip(Z_raw, _from_sym(du, F))])

    FZc, FZr = _adjoint(F, Zc), _adjoint(F, Z_raw)
    joint = np.concatenate([-Ar.T, M], axis=1)
    best = np.inf
    for ye in (y, -y):  # the sign convention of the equality duals, checked
        best = min(best, bound(ye, Zc))
        # the residual absorbed jointly into y and the Z_j (least norm)
        u = np.linalg.lstsq(joint, -(c - Ar.T @ ye + FZr), rcond=None)[0]
        best = min(best, absorbed(ye + u[:R], u[R:]))
    # y by least squares: the residual's row-space part removed (Ar^T has full column
    # rank, so this y does not depend on the solver's), then the rest absorbed into Z
    yc = np.linalg.lstsq(Ar.T, c + FZc, rcond=None)[0]
    best = min(best, bound(yc, Zc))
    yr = np.linalg.lstsq(Ar.T, c + FZr, rcond=None)[0]
    best = min(best, absorbed(yr, np.linalg.lstsq(M, -(c - Ar.T @ yr + FZr), rcond=None)[0]))
    return best


@blas_single_threaded
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
    n_rows = int(np.size(b))
    check_memory(n, N, what, n_rows=n_rows)
    # transposed algebras' blocks: one isometry per block, side by side
    t_isos, t_mult = [], []
    for T in transposes:
        TP = lambda X, T=T: T(P(T(X)))  # noqa: E731 - the transposed algebra's projector
        tb = block_basis(TP, n)
        Vs = [copies[0] for copies in tb.copies]
        t_isos.append((T, np.concatenate(Vs, axis=1), np.cumsum([0] + [V.shape[1] for V in Vs])))
        t_mult.append([len(copies) for copies in tb.copies])
    # stream the basis: objective, block coordinates, transposed blocks, constraint columns
    sizes = blocks.sizes
    psd_C = [np.zeros((N, m, m), dtype=complex) for m in sizes]
    t_C = [
        [np.zeros((N, e - s0, e - s0), dtype=complex) for s0, e in itertools.pairwise(o)]
        for _, _, o in t_isos
    ]
    cols = np.zeros((n_rows, N), dtype=complex)
    c = np.zeros(N)
    for i, (k, h, B) in enumerate(_basis_elements(blocks)):
        c[i] = np.real(np.sum(W.T * B))
        psd_C[k][i] = h
        for (T, Vcat, off), store in zip(t_isos, t_C):
            R = Vcat.conj().T @ T(B) @ Vcat
            for q, (s0, e) in enumerate(itertools.pairwise(off)):
                store[q][i] = R[s0:e, s0:e]
        cols[:, i] = np.ravel(L(B))
    for store in t_C:
        psd_C += store
    # equalities: independent real rows from the Gram matrix of A = [Re; Im] (A^T A =
    # Re C^H C). Dropping a direction only relaxes the SDP, so the dual bound stays valid.
    bc = np.ravel(b).astype(complex)
    G = np.zeros((N, N))
    g = np.zeros(N)
    for r0 in range(0, n_rows, 4096):  # in row chunks: no full conjugate copy of ``cols``
        ch = cols[r0 : r0 + 4096]
        G += np.real(ch.conj().T @ ch)
        g += np.real(ch.conj().T @ bc[r0 : r0 + 4096])
    lam, Q = np.linalg.eigh(G)
    keep = lam > 1e-11 * lam[-1]
    Ar = np.sqrt(lam[keep])[:, None] * Q[:, keep].T
    br = (Q[:, keep].T @ g) / np.sqrt(lam[keep])
    x0 = Q[:, keep] @ (br / np.sqrt(lam[keep]))  # least-squares solution of A x = b
    if np.abs(cols @ x0 - bc).max() > 1e-9 * max(1.0, np.abs(bc).max()):
        raise RuntimeError(f"{what}: equality constraints are inconsistent on the commutant")
    del cols
    F = [_embed(C) for C in psd_C]
    x = cp.Variable(N)
    cons = [Ar @ x == br]
    for Fj in F:
        k = Fj.shape[1]
        cons.append(cp.reshape(Fj.reshape(N, k * k).T @ x, (k, k), order="C") >> 0)
    prob = cp.Problem(cp.Maximize(c @ x), cons)
    with one_blas_thread(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        prob.solve(solver="CLARABEL", **_CLARABEL)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"{what} not solved: solver status {prob.status!r}")
    y = np.asarray(cons[0].dual_value, dtype=float)
    Z_raw = [_herm(np.asarray(con.dual_value, dtype=float)) for con in cons[1:]]
    # the PSD blocks in families (X's blocks, then each transposed algebra's), with the
    # multiplicities that weigh their traces: sum_k mult_k Tr M_k = Tr X (or Tr T_j(X) =
    # Tr X) <= trace_bound
    families = [[len(copies) for copies in blocks.copies]] + t_mult
    best = _certificate(c, Ar, br, y, F, Z_raw, families, trace_bound)
    X = np.zeros((n, n), dtype=complex)
    for i, (_, _, B) in enumerate(_basis_elements(blocks)):
        X += x.value[i] * B
    return SymSDPResult(
        value=float(prob.value),
        dual_value=best,
        X=_herm(X),
        block_sizes=tuple(blocks.sizes),
        n_params=N,
        status=prob.status,
    )

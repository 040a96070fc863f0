r"""Superoperators on n parties as sums of products of local superoperators.

Public boundary: qutip's convention
-----------------------------------
:func:`hamiltonian_superop`, :func:`dissipator`, :func:`lindbladian`,
:func:`unitary_superop` and :func:`replacement_superop` return :class:`qutip.Qobj`
superoperators in qutip's convention (column stacking, ``vec(A X B) = (B^T (x) A) vec(X)``,
``superrep='super'``), equal to ``qutip.liouvillian``, ``qutip.lindblad_dissipator``,
``qutip.to_super``. :func:`as_engine_superop` reads any qutip superoperator into the
engine's layout; raw arrays are refused there.

Engine layout (internal to the solvers)
---------------------------------------
Everything below is private to the solvers (the ``_``-prefixed builders, the factors of
:class:`Generator` and :class:`ProductTerm`, :func:`apply_local`,
:func:`apply_consecutive`); do not hand these matrices to qutip.
A local operator ``X`` (d x d) is vectorised **row-major**: ``vec(X)[i*d + j] = X[i, j]``,
so ``vec(A X B) = (A (x) B^T) vec(X)``. A local superoperator is a ``d^2 x d^2`` matrix
acting on that vector, e.g.

* ``-i[H, .]``          ->  ``-i (H (x) I - I (x) H^T)``
* ``L . L^†``           ->  ``L (x) L^*``
* ``X -> omega Tr X``   ->  ``|vec omega><vec I|``

A joint state of parties with dims ``(d_0, ..., d_{n-1})`` is stored in the **paired**
layout: an array of shape ``(d_0^2, ..., d_{n-1}^2)`` whose entry
``[(i_0 j_0), ..., (i_{n-1} j_{n-1})]`` is ``rho[i_0...i_{n-1}, j_0...j_{n-1}]``. In this
layout a product channel ``S_0 (x) ... (x) S_{n-1}`` is the Kronecker product of the
local matrices, so local propagation is a contraction along one axis and never forms
the joint Liouvillian. :func:`to_paired` and :func:`from_paired` convert from and to
ordinary density matrices. (qutip's ``operator_to_vector`` is column-stacking; the
conversion to qutip superoperators is :meth:`Generator.to_qutip`.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import qutip
import scipy.sparse as sp

__all__ = [
    "Generator",
    "ProductTerm",
    "apply_consecutive",
    "apply_local",
    "as_engine_superop",
    "dissipator",
    "from_paired",
    "hamiltonian_superop",
    "lindbladian",
    "replacement_superop",
    "to_paired",
    "unitary_superop",
]


def _arr(x) -> np.ndarray:
    return x.full() if isinstance(x, qutip.Qobj) else np.asarray(x, dtype=complex)


def _hamiltonian_superop(H) -> np.ndarray:
    """Internal: ``X -> -i [H, X]`` as a ``d^2 x d^2`` matrix (row-major vectorization).

    ``H`` may carry leading batch axes (``(..., d, d)``); the result then has shape
    ``(..., d^2, d^2)``.
    """
    H = _arr(H) if np.ndim(H) == 2 else np.asarray(H, dtype=complex)
    d = H.shape[-1]
    eye = np.eye(d)
    L = np.einsum("...ab,cd->...acbd", H, eye) - np.einsum("ab,...dc->...acbd", eye, H)
    return -1j * L.reshape(H.shape[:-2] + (d * d, d * d))


def _dissipator(L) -> np.ndarray:
    r"""Internal: ``D[L] X = L X L^† - {L^† L, X}/2`` as a ``d^2 x d^2`` matrix (row-major)."""
    L = _arr(L)
    d = L.shape[0]
    eye = np.eye(d)
    LdL = L.conj().T @ L

    def kron(A, B):  # np.kron by broadcasting (its generic code dominated for d <= 10)
        return (A[:, None, :, None] * B[None, :, None, :]).reshape(d * d, d * d)

    return kron(L, L.conj()) - 0.5 * (kron(LdL, eye) + kron(eye, LdL.T))


def _lindbladian(H=None, c_ops: Sequence = (), d: int | None = None) -> np.ndarray:
    r"""Internal: ``-i[H, X] + sum_k D[L_k] X`` as a ``d^2 x d^2`` matrix (row-major)."""
    mats = [_arr(c) for c in c_ops] + ([] if H is None else [_arr(H)])
    if d is None:
        if not mats:
            raise ValueError("lindbladian needs H, c_ops or d")
        d = mats[0].shape[0]
    out = np.zeros((d * d, d * d), dtype=complex)
    if H is not None:
        out += _hamiltonian_superop(H)
    for c in c_ops:
        out += _dissipator(c)
    return out


#: Local terms of parties with ``d^2`` above this are built and stored as sparse CSR
#: superoperators (:func:`_hamiltonian_superop_any`, :func:`_dissipator_any`): a dense
#: ``d^2 x d^2`` matrix of a cavity of 80 levels is 655 MB. At and below it (qubits,
#: qutrits, the studies' small parties) they stay dense, as before.
SPARSE_TERM_MIN = 256


def _dense(S) -> np.ndarray:
    """A local superoperator as a dense array (sparse ones converted)."""
    return S.toarray() if sp.issparse(S) else S


def _sparse_kron(A, B) -> sp.csr_matrix:
    return sp.kron(A, B, format="csr")


def _hamiltonian_superop_any(H):
    """:func:`_hamiltonian_superop`, as a sparse CSR matrix when ``d^2 > SPARSE_TERM_MIN``
    (the same entries: ``-i (H (x) I - I (x) H^T)``)."""
    H = _arr(H)
    d = H.shape[0]
    if d * d <= SPARSE_TERM_MIN:
        return _hamiltonian_superop(H)
    Hs, eye = sp.csr_matrix(H), sp.identity(d, dtype=complex, format="csr")
    return (-1j * (_sparse_kron(Hs, eye) - _sparse_kron(eye, Hs.T))).tocsr()


def _dissipator_any(L):
    """:func:`_dissipator`, as a sparse CSR matrix when ``d^2 > SPARSE_TERM_MIN`` (the
    same entries: ``L (x) L^* - (L^dag L (x) I + I (x) (L^dag L)^T) / 2``)."""
    L = _arr(L)
    d = L.shape[0]
    if d * d <= SPARSE_TERM_MIN:
        return _dissipator(L)
    Ls = sp.csr_matrix(L)
    LdL = (Ls.conj().T @ Ls).tocsr()
    eye = sp.identity(d, dtype=complex, format="csr")
    out = _sparse_kron(Ls, Ls.conj()) - 0.5 * (_sparse_kron(LdL, eye) + _sparse_kron(eye, LdL.T))
    return out.tocsr()


def _sum_superops(parts):
    """Sum of local superoperators: dense when all are dense, else sparse CSR."""
    if not any(sp.issparse(p) for p in parts):
        return np.sum(parts, axis=0)
    out = sp.csr_matrix(parts[0], dtype=complex)
    for p in parts[1:]:
        out = out + sp.csr_matrix(p)
    return out.tocsr()


def _unitary_superop(U) -> np.ndarray:
    """Internal: ``X -> U X U^†`` as ``U (x) U^*`` (row-major)."""
    U = _arr(U)
    return np.kron(U, U.conj())


def _replacement_superop(omega) -> np.ndarray:
    """Internal: ``X -> omega Tr X`` as ``|vec omega><vec I|`` (row-major)."""
    omega = _arr(omega)
    d = omega.shape[0]
    return np.outer(omega.reshape(-1), np.eye(d).reshape(-1)).astype(complex)


# --------------------------------------------------------------------------- public boundary
def _swap_stacking(S: np.ndarray) -> np.ndarray:
    """Row-stacked <-> column-stacked local superoperator (the map is its own inverse).

    Row-major ``vec(X)[i d + j] = X[i, j]``, column-major ``vec(X)[i + j d] = X[i, j]``:
    ``S_row[(a b), (c e)] = S_col[(b a), (e c)]`` with C-order index pairs. A sparse
    matrix stays sparse (its indices permuted).
    """
    if sp.issparse(S):
        d = math.isqrt(S.shape[0])
        C = S.tocoo()
        r, c = C.row.astype(np.int64), C.col.astype(np.int64)
        return sp.csr_matrix((C.data, ((r % d) * d + r // d, (c % d) * d + c // d)), shape=S.shape)
    S = np.asarray(S)
    d = math.isqrt(S.shape[-1])
    lead = S.shape[:-2]
    t = S.reshape(lead + (d, d, d, d))
    n = len(lead)
    order = list(range(n)) + [n + 1, n, n + 3, n + 2]
    return np.ascontiguousarray(t.transpose(order)).reshape(lead + (d * d, d * d))


def _op_dims(*ops) -> list:
    """qutip dims ``[[d...], [d...]]`` of the first Qobj among ``ops`` (else ``[[d], [d]]``)."""
    for o in ops:
        if isinstance(o, qutip.Qobj):
            return [list(o.dims[0]), list(o.dims[1])]
    for o in ops:
        if o is not None:
            d = np.shape(o)[0]
            return [[d], [d]]
    raise ValueError("no operator given")


def _to_qutip_super(S: np.ndarray, op_dims) -> qutip.Qobj:
    """Internal row-stacked ``d^2 x d^2`` matrix -> qutip superoperator (column stacking)."""
    return qutip.Qobj(_swap_stacking(S), dims=[op_dims, op_dims], superrep="super")


#: Superoperator representations read by :func:`as_engine_superop` (qutip's names).
_SUPERREPS = ("super", "choi", "chi")


def as_engine_superop(
    S, d: int | None = None, *, what: str = "superoperator", sparse: bool = False
) -> np.ndarray:
    """A qutip superoperator -> the engine's internal (row-stacked) ``d^2 x d^2`` matrix.

    ``S`` must be a :class:`qutip.Qobj` superoperator in any representation
    (``superrep`` 'super', 'choi' or 'chi'; converted with :func:`qutip.to_super`); it
    is read in qutip's column-stacking convention. A raw array is refused: the same
    numbers mean different maps in row and column stacking, and guessing silently flips
    the sign of ``<sigma_y>``. ``d`` (optional) is the expected local dimension.

    Examples
    --------
    >>> import qutip
    >>> S = qutip.liouvillian(qutip.sigmaz(), [qutip.destroy(2)])
    >>> as_engine_superop(S, 2).shape
    (4, 4)
    """
    if not isinstance(S, qutip.Qobj):
        raise TypeError(
            f"{what} must be a qutip.Qobj superoperator (e.g. qutip.liouvillian(H, c_ops)), "
            f"got {type(S).__name__}; raw arrays are refused because row and column "
            "stacking give different maps"
        )
    if S.isoper and S.shape[0] == S.shape[1] and S.dims[0] == S.dims[1]:
        raise TypeError(
            f"{what} is an operator, not a superoperator; "
            "use qutip.liouvillian(H, c_ops) or qutip.to_super(U)"
        )
    if not S.issuper:
        raise TypeError(f"{what} must be a superoperator, got a Qobj of type {S.type!r}")
    if S.superrep not in _SUPERREPS:
        raise ValueError(
            f"{what} has superoperator representation {S.superrep!r}; supported: "
            + ", ".join(repr(r) for r in _SUPERREPS)
        )
    if S.superrep != "super":
        S = qutip.to_super(S)
    if S.dims[0] != S.dims[1]:
        raise ValueError(f"{what} must map operators on one space to the same space, got {S.dims}")
    n = S.shape[0]
    dd = math.isqrt(n)
    if dd * dd != n:
        raise ValueError(f"{what} has shape {S.shape}, not (d^2, d^2)")
    if d is not None and dd != d:
        raise ValueError(f"{what} acts on dimension {dd}, expected {d}")
    if sparse and n > SPARSE_TERM_MIN:
        data = S.to("csr").data.as_scipy()
        return _swap_stacking(sp.csr_matrix(data, dtype=complex))
    return _swap_stacking(S.full())


def hamiltonian_superop(H) -> qutip.Qobj:
    r"""The superoperator ``X -> -i [H, X]`` in qutip's convention.

    Column stacking, ``vec(A X B) = (B^T (x) A) vec(X)``, so the result is
    ``-i (I (x) H - H^T (x) I)``, equal to ``-1j * (qutip.spre(H) - qutip.spost(H))``.

    Parameters
    ----------
    H : Qobj or array_like, shape (d, d)

    Returns
    -------
    Qobj
        ``superrep='super'``, dims ``[[H.dims], [H.dims]]``.

    Examples
    --------
    >>> import qutip
    >>> S = hamiltonian_superop(qutip.sigmaz())
    >>> bool((S - (-1j) * (qutip.spre(qutip.sigmaz()) - qutip.spost(qutip.sigmaz()))).norm() < 1e-12)
    True
    """
    return _to_qutip_super(_hamiltonian_superop(_arr(H)), _op_dims(H))


def dissipator(L) -> qutip.Qobj:
    r"""The superoperator ``D[L] X = L X L^† - {L^† L, X}/2`` in qutip's convention.

    Equal to :func:`qutip.lindblad_dissipator` (column stacking, ``superrep='super'``).

    Examples
    --------
    >>> import qutip
    >>> a = qutip.destroy(2)
    >>> bool((dissipator(a) - qutip.lindblad_dissipator(a)).norm() < 1e-12)
    True
    """
    return _to_qutip_super(_dissipator(_arr(L)), _op_dims(L))


def lindbladian(H=None, c_ops: Sequence = ()) -> qutip.Qobj:
    r"""``X -> -i[H, X] + sum_k D[L_k] X`` in qutip's convention.

    Reads ``H`` and ``c_ops`` as :func:`qutip.mesolve` does (hbar = 1, collapse operators
    carry the square roots of their rates); equal to :func:`qutip.liouvillian`.

    Examples
    --------
    >>> import qutip
    >>> H, c = qutip.sigmax(), [0.3 * qutip.destroy(2)]
    >>> bool((lindbladian(H, c) - qutip.liouvillian(H, c)).norm() < 1e-12)
    True
    """
    c_ops = list(c_ops)
    dims = _op_dims(H, *c_ops)
    return _to_qutip_super(
        _lindbladian(None if H is None else _arr(H), [_arr(c) for c in c_ops]), dims
    )


def unitary_superop(U) -> qutip.Qobj:
    """``X -> U X U^†`` in qutip's convention (``U^* (x) U``; equal to ``qutip.to_super(U)``).

    Examples
    --------
    >>> import qutip
    >>> bool((unitary_superop(qutip.sigmax()) - qutip.to_super(qutip.sigmax())).norm() < 1e-12)
    True
    """
    return _to_qutip_super(_unitary_superop(_arr(U)), _op_dims(U))


def replacement_superop(omega) -> qutip.Qobj:
    """``X -> omega Tr X`` in qutip's convention (``|vec omega>><<vec I|``, column stacking).

    Examples
    --------
    >>> import qutip
    >>> S = replacement_superop(qutip.fock_dm(2, 1))
    >>> qutip.vector_to_operator(S * qutip.operator_to_vector(qutip.qeye(2))).tr()
    2.0
    """
    return _to_qutip_super(_replacement_superop(_arr(omega)), _op_dims(omega))


def to_paired(rho, dims: Sequence[int] | None = None) -> np.ndarray:
    """Density matrix (Qobj or array) -> paired array of shape ``(d_0^2, ..., d_{n-1}^2)``."""
    if isinstance(rho, qutip.Qobj):
        dims = [int(d) for d in rho.dims[0]] if dims is None else list(dims)
        rho = rho.full()
    dims = list(dims)
    n = len(dims)
    t = np.asarray(rho).reshape(tuple(dims) * 2)
    order = [ax for k in range(n) for ax in (k, n + k)]
    return np.ascontiguousarray(t.transpose(order)).reshape([d * d for d in dims])


def from_paired(x: np.ndarray, dims: Sequence[int], *, batch: bool = False) -> np.ndarray:
    """Paired array -> density matrix array ``(D, D)`` (or ``(M, D, D)`` with ``batch``)."""
    dims = list(dims)
    n = len(dims)
    D = int(np.prod(dims))
    lead = x.shape[:1] if batch else ()
    t = x.reshape(lead + tuple(v for d in dims for v in (d, d)))
    off = len(lead)
    order = list(range(off)) + [off + 2 * k for k in range(n)] + [off + 2 * k + 1 for k in range(n)]
    return t.transpose(order).reshape(lead + (D, D))


def apply_local(x: np.ndarray, party: int, S: np.ndarray, *, batch: bool = False) -> np.ndarray:
    """Apply the local superoperator ``S`` (``(d^2, d^2)`` or batched ``(M, d^2, d^2)``)
    to axis ``party`` of the paired state ``x`` (``(..., d_k^2, ...)``, batched over a
    leading axis when ``batch``)."""
    ax = party + (1 if batch else 0)
    sh = x.shape
    lead = sh[0] if batch else 1
    A = int(np.prod(sh[1 if batch else 0 : ax]))
    B = int(np.prod(sh[ax + 1 :]))
    x4 = x.reshape(lead, A, sh[ax], B)  # one contiguous pass, contiguous result
    if sp.issparse(S):  # a sparse local term: (m, lead A B) columns
        m = sh[ax]
        cols = np.moveaxis(x4, 2, 0).reshape(m, -1)
        y = np.asarray(S @ cols).reshape(m, lead, A, B)
        return np.ascontiguousarray(np.moveaxis(y, 0, 2)).reshape(sh)
    if S.ndim == 2:
        return _apply_middle(S, x4.reshape(lead * A, sh[ax], B)).reshape(sh)
    # batched over realizations / times: S (M, a, b), x (M, ..., b, ...)
    if B == 1:
        return np.matmul(x4.reshape(lead, A, sh[ax]), np.transpose(S, (0, 2, 1))).reshape(sh)
    return np.matmul(S[:, None], x4).reshape(sh)


def apply_consecutive(
    x: np.ndarray, first: int, M: np.ndarray, *, out: np.ndarray | None = None
) -> np.ndarray:
    """Apply ``M`` (a superoperator on the kron of parties ``first, first+1, ...``,
    ``M.shape[0]`` their paired size) to the paired state ``x`` (not batched).

    Grouping parties halves the passes over a large state: two parties at once (16 x 16
    for qubits) ran 2x faster than one at a time on 11-qubit states. ``out`` (contiguous,
    complex, ``x``'s size, not overlapping ``x``) receives the result.
    """
    sh = x.shape
    m, size, last = M.shape[0], 1, first
    while size < m and last < len(sh):
        size *= sh[last]
        last += 1
    if size != m:
        raise ValueError(f"M of size {m} does not match parties from {first}")
    A = int(np.prod(sh[:first]))
    B = int(np.prod(sh[last:]))
    o3 = None if out is None else out.reshape(A, m, B)
    return _apply_middle(M, x.reshape(A, m, B), o3).reshape(sh)


def _apply_middle(M: np.ndarray, x3: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``y[i, a, j] = sum_b M[a, b] x3[i, b, j]``, by the fastest of three BLAS forms.

    Measured (one thread, complex, 4^9 and 4^11 entries, M 4x4 or 16x16): for ``B = 1``
    one GEMM ``x @ M^T``; for ``m B <= 32`` one GEMM with ``kron(M, 1_B)`` (3-4x faster
    than a stack of tiny products); otherwise the stacked ``np.matmul(M, x3)``, up to 6x
    faster than ``np.einsum``, which was the previous choice for ``B < 64``.
    """
    A, m, B = x3.shape
    if B == 1:
        o = None if out is None else out.reshape(A, m)
        return np.matmul(x3.reshape(A, m), M.T, out=o).reshape(A, m, B)
    if m * B <= 32:
        K = np.kron(M, np.eye(B)).T
        o = None if out is None else out.reshape(A, m * B)
        return np.matmul(x3.reshape(A, m * B), K, out=o).reshape(A, m, B)
    return np.matmul(M, x3, out=out)


# The stage generator lives in its own module; re-exported here, where the engine and
# baths have always imported it from.
from ._generator import Generator, ProductTerm  # noqa: E402

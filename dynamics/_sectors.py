r"""Symmetry sectors of a joint Liouvillian (private).

A Lindbladian that commutes with a group of diagonal unitaries acting on the state as
``rho -> V rho V^†`` (for a shared ``U (x) U*`` drive with thermal baths: the phase
rotations ``V = D (x) D*``, ``D = diag(e^{i phi_a})``) is *graded*: each matrix entry
``rho[i, j]`` carries a charge (``e_a - e_b - e_a' + e_b'`` in ``Z^d`` for the entry
``|a b><a' b'|`` of two qudits) and the generator connects entries of equal charge only.
A state whose nonzero entries carry a few charges then stays, for all times, in the
coordinate subspace of those charges (for ``Phi+``: charge 0, ``2 d^2 - d`` of the ``d^4``
entries).

The grading is read off the generator itself, not assumed per study: the connected
components of the Liouvillian's nonzero pattern (``L[i, j] != 0`` links entries ``i`` and
``j``) are blocks on which ``L`` is block diagonal. For a graded generator every block
lies inside one charge sector (entries of different charge are never linked); the blocks
are found from the sparse pattern, without knowing the group. Restricting ``L`` to the
blocks that hold the initial state's nonzero entries is exact: ``exp(L t) x`` has no
component outside them (every power ``L^k x`` lies in their span).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["Sector", "components", "invariant_sector", "phase_charges"]


class Sector:
    """Coordinates ``index`` of the paired state (flattened) closed under ``L``.

    ``L`` is the restriction of the joint Liouvillian to them (CSR, ``len(index)``
    square); ``full`` the size of the unrestricted space.
    """

    def __init__(self, index: np.ndarray, L: sp.csr_matrix, full: int):
        self.index = index
        self.L = L
        self.full = int(full)

    @property
    def size(self) -> int:
        return int(self.index.size)

    @property
    def is_proper(self) -> bool:
        """True when the sector is smaller than the whole space."""
        return self.size < self.full

    def gather(self, x: np.ndarray) -> np.ndarray:
        """The sector's entries of the paired state ``x`` (any shape), as a vector."""
        return np.ascontiguousarray(x.reshape(-1)[self.index])

    def scatter(self, v: np.ndarray, shape) -> np.ndarray:
        """The paired state of ``shape`` with entries ``v`` in the sector, zero elsewhere."""
        out = np.zeros(self.full, dtype=complex)
        out[self.index] = v
        return out.reshape(shape)


def _pattern(L: sp.csr_matrix, copy: bool = True) -> sp.csr_matrix:
    """Nonzero pattern of ``L`` with entries below ``1e-14 max|L|`` dropped (cancellations
    between product terms leave rounding residues where the exact generator is zero);
    ``copy=False`` prunes a CSR ``L`` in place."""
    L = sp.csr_matrix(L, copy=copy)
    if L.nnz:
        tol = 1e-14 * float(np.abs(L.data).max())
        L.data[np.abs(L.data) <= tol] = 0
        L.eliminate_zeros()
    return L


def components(L: sp.spmatrix, copy: bool = True) -> tuple[sp.csr_matrix, np.ndarray]:
    """Pattern of ``L`` (:func:`_pattern`) and the label of each coordinate's block: the
    connected components of that pattern, on which ``L`` is block diagonal. ``copy=False``
    prunes ``L`` in place (it is returned as the pattern)."""
    P = _pattern(L, copy)
    G = sp.csr_matrix((np.ones(P.nnz), P.indices, P.indptr), shape=P.shape)
    _, labels = connected_components(G, directed=True, connection="weak")
    return P, labels


def invariant_sector(L: sp.spmatrix, x: np.ndarray, *, copy: bool = True) -> Sector:
    """A coordinate subspace containing ``x`` and invariant under ``L``.

    The union of the blocks of ``L`` (:func:`components`) that hold a nonzero entry of
    ``x``: ``L`` maps each block into itself, so ``exp(L t) x`` stays in the union.

    Parameters
    ----------
    L : sparse matrix, shape (N, N)
        Joint Liouvillian in the paired layout (:meth:`Generator.to_sparse`).
    x : ndarray
        Paired state with ``N`` entries.
    copy : bool
        False: ``L`` (CSR) is pruned in place and becomes the sector's matrix when the
        sector is the whole space (saves a copy of a large Liouvillian).

    Returns
    -------
    Sector
        ``Sector.L`` is ``L`` restricted to the sector (entries dropped as rounding
        residues are those of :func:`_pattern`, below ``1e-14 max|L|``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> L = sp.csr_matrix(np.diag([0.0, -1.0, -2.0]) + np.diag([1.0, 0.0], 1))
    >>> invariant_sector(L, np.array([0.0, 1.0, 0.0])).index.tolist()
    [0, 1]
    """
    P, labels = components(L, copy)
    N = P.shape[0]
    touched = np.zeros(int(labels.max(initial=-1)) + 1, dtype=bool)
    touched[labels[x.reshape(-1) != 0]] = True  # the blocks holding the state
    index = np.flatnonzero(touched[labels])
    if index.size == N:
        return Sector(np.arange(N), P, N)
    return Sector(index, P[index][:, index].tocsr(), N)


def phase_charges(dims) -> np.ndarray:
    r"""Charges of the paired entries of two equal qudits under ``D (x) D*``.

    Entry ``|a b><a' b'|`` (paired index ``(a a')(b b')``) picks up the phase
    ``exp(i (phi_a - phi_b - phi_a' + phi_b'))``; its charge is the integer vector
    ``e_a - e_b - e_a' + e_b'`` in ``Z^d``, returned as an array of shape ``(d^4, d)``.
    Used by the tests to check that a sector found by :func:`invariant_sector` lies in
    one charge sector.

    Examples
    --------
    >>> q = phase_charges((2, 2))
    >>> q.shape, int((abs(q).sum(axis=1) == 0).sum())  # 2 d^2 - d entries of charge 0
    ((16, 2), 6)
    """
    dA, dB = (int(d) for d in dims)
    if dA != dB:
        raise ValueError(f"phase_charges needs two equal qudits, got dims {list(dims)}")
    d = dA
    eye = np.eye(d, dtype=int)
    a, ap, b, bp = np.meshgrid(*(np.arange(d),) * 4, indexing="ij")
    q = eye[a] - eye[b] - eye[ap] + eye[bp]
    return q.reshape(-1, d)

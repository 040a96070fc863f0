r"""Symmetry reduction of the Choi-matrix SDPs of :mod:`eplt.dynamics.bounds` (private).

Choi matrices of channels ``AB -> AB`` are indexed ``(A_in, B_in, A_out, B_out)`` (input
first, as :func:`eplt.dynamics.channels.choi_matrix`). A group ``G`` of unitaries acting as
``J -> g J g^†`` that leaves the feasible set and the objective invariant lets the SDP be
restricted to the commutant algebra ``A = {J : g J g^† = J for all g}`` (average any
optimum over ``G``). ``A`` is a ``*``-algebra, ``A ~ (+)_k M_{m_k} (x) I_{n_k}`` in a suitable
orthonormal basis, so ``J >= 0`` becomes ``m_k x m_k`` conditions, one per block ``k``.

Groups used (``d_A = d_B = d``, thermal states diagonal):

* ``input``: precomposition with ``U (x) U*`` (any ``U in U(d)``); it fixes ``Phi+`` and acts
  on the input legs of ``J`` as ``U^T (x) U^†``, whose irreducible subspaces are
  ``span{Phi+}`` and its complement, so the projection onto the commutant is
  ``P(J) = sum_k Pi_k (x) Tr_in[(Pi_k (x) I) J] / dim_k``.
* ``output``: postcomposition with ``D (x) D*``, ``D`` diagonal unitary (commutes with
  diagonal taus); the average keeps the entries whose output "charges"
  ``e_a - e_b`` agree between row and column.

The block basis is found numerically (Murota et al., "A numerical algorithm for
block-diagonal decomposition of matrix *-algebras", 2010): eigenvectors of a generic
Hermitian element of ``A`` group into eigenspaces, which a second generic element links
into irreducible components.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._checks import herm as _herm

__all__ = ["Blocks", "block_basis", "group_projector", "partial_transpose_B"]


@dataclass(frozen=True)
class Blocks:
    """Orthonormal block basis of a ``*``-algebra ``A`` on ``C^n``.

    ``copies[k]`` is a list of ``n_k`` isometries ``V (n x m_k)``; every ``X in A`` is
    ``sum_k sum_s V_s X_k V_s^†`` with ``X_k = V_0^† X V_0``, and ``X >= 0`` iff every
    ``X_k >= 0``.
    """

    copies: tuple[tuple[np.ndarray, ...], ...]

    @property
    def sizes(self) -> list[int]:
        return [c[0].shape[1] for c in self.copies]


def _dims8(dA: int, dB: int) -> list[int]:
    return [dA, dB, dA, dB]


def partial_transpose_B(J: np.ndarray, dA: int, dB: int) -> np.ndarray:
    """Transpose of the ``B_in`` and ``B_out`` legs of a Choi matrix ``(A_in, B_in, A_out, B_out)``."""
    t = J.reshape(_dims8(dA, dB) * 2)
    return t.transpose(0, 5, 2, 7, 4, 1, 6, 3).reshape(J.shape)


def group_projector(kind: str, dA: int, dB: int) -> Callable[[np.ndarray], np.ndarray]:
    """Projection (group average) onto the commutant for ``kind`` in
    ``{"none", "input", "output", "full"}``."""
    if kind == "none":
        return lambda X: X
    if dA != dB:
        raise ValueError(f"symmetry {kind!r} needs d_A = d_B, got {dA} and {dB}")
    d = dA
    D = d * d
    phi = np.eye(d).reshape(-1) / np.sqrt(d)
    Pi1 = np.outer(phi, phi)
    projs = [(Pi1, 1.0), (np.eye(D) - Pi1, D - 1.0)]

    def p_in(X):
        X4 = X.reshape(D, D, D, D)  # (in, out, in', out')
        out = np.zeros_like(X4)
        for Pi, dim in projs:
            B = np.einsum("ji,iajb->ab", Pi, X4) / dim
            out += np.einsum("ij,ab->iajb", Pi, B)
        return out.reshape(X.shape)

    a, b = np.divmod(np.arange(D), d)  # output index (a_out, b_out)
    same = (a[:, None] == b[:, None]) & (a[None, :] == b[None, :])
    keep = same | ((a[:, None] == a[None, :]) & (b[:, None] == b[None, :]))
    mask = np.tile(keep, (D, D))  # rows (in, out), cols (in', out'); in' free

    def p_out(X):
        return X * mask

    if kind == "input":
        return p_in
    if kind == "output":
        return p_out
    if kind == "full":
        return lambda X: p_out(p_in(X))
    raise ValueError(f"unknown symmetry {kind!r}")


def block_basis(P: Callable[[np.ndarray], np.ndarray], n: int, *, seed: int = 12345) -> Blocks:
    """Block basis of the ``*``-algebra ``{P(X)}`` on ``C^n`` (``P`` a group average).

    Raises RuntimeError if the decomposition does not reproduce a random element of the
    algebra to 1e-9 (eigenvalue clusters not resolved).
    """
    rng = np.random.default_rng(seed)

    def rand():
        g = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        return _herm(P(_herm(g)))

    H, K = rand(), rand()
    lam, U = np.linalg.eigh(H)
    scale = max(1.0, float(np.abs(lam).max()))
    cuts = np.flatnonzero(np.diff(lam) > 1e-7 * scale) + 1
    clusters = [U[:, idx] for idx in np.split(np.arange(n), cuts)]
    used = [False] * len(clusters)
    comps = []
    for i, Ei in enumerate(clusters):
        if used[i]:
            continue
        used[i] = True
        basis = [Ei]
        for j in range(i + 1, len(clusters)):
            if used[j] or clusters[j].shape[1] != Ei.shape[1]:
                continue
            M = clusters[j].conj().T @ K @ Ei
            nrm = np.sqrt(np.trace(M.conj().T @ M).real / Ei.shape[1])
            if nrm > 1e-8 * scale:
                used[j] = True
                basis.append(clusters[j] @ (M / nrm))
        mult = Ei.shape[1]
        comps.append(tuple(np.stack([B[:, s] for B in basis], axis=1) for s in range(mult)))
    blocks = Blocks(tuple(comps))
    X = rand()
    rebuilt = sum(V @ (c[0].conj().T @ X @ c[0]) @ V.conj().T for c in comps for V in c)
    if np.abs(rebuilt - X).max() > 1e-9 * max(1.0, np.abs(X).max()):
        raise RuntimeError("symmetry reduction failed: block basis does not reproduce the algebra")
    return blocks

r"""Entanglement measures beyond negativity: concurrence, entanglement of formation and
1-distillability.

Conventions
-----------
* Two parties ``A (x) B`` in the order of ``rho.dims[0]``; partial transposes act on B.
* Concurrence (Wootters, PRL 80, 2245 (1998)), two qubits only:
  ``C(rho) = max(0, l_1 - l_2 - l_3 - l_4)`` with ``l_i`` the decreasing square roots of
  the eigenvalues of ``rho (sigma_y (x) sigma_y) rho^* (sigma_y (x) sigma_y)``.
* Entanglement of formation in **bits** (log base 2):
  ``EoF = h((1 + sqrt(1 - C^2))/2)``, ``h`` the binary entropy.
* Log-negativity ``E_N = log2 ||rho^{T_B}||_1`` (base 2) is
  :func:`eplt.dynamics.measures.log_negativity`.
* 1-distillability (DiVincenzo et al., PRA 61, 062312 (2000)): ``rho`` is 1-distillable iff
  ``<psi|rho^{T_B}|psi> < 0`` for some ``psi`` of Schmidt rank at most 2, i.e. ``rho^{T_B}``
  is not positive on some ``2 x 2`` subspace ``span{a_1, a_2} (x) span{b_1, b_2}``.

Closed forms (tests): for ``rho = gamma Phi+ + (1 - gamma)|00><00|`` (what
``E_gamma(Phi+)`` is for equal qubit temperatures) ``C = gamma``,
``EoF = h((1 + sqrt(1 - gamma^2))/2)`` and ``E_N = log2(1 + gamma)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from ._checks import herm as _herm

__all__ = [
    "Distillability",
    "concurrence",
    "entanglement_of_formation",
    "one_distillability",
]

#: Eigenvalues of rho below RANK_RTOL * lambda_max are treated as zero in :func:`concurrence`.
RANK_RTOL = 1e-13
_SYSY = np.kron(np.array([[0, -1j], [1j, 0]]), np.array([[0, -1j], [1j, 0]]))


def _two_qubits(rho, name: str = "rho") -> np.ndarray:
    rho = as_density_matrix(rho, name)
    if party_dims(rho) != [2, 2]:
        raise ValueError(f"{name} must be a two-qubit state (dims [2, 2]), got {party_dims(rho)}")
    return _herm(rho.full())


def concurrence(rho: qutip.Qobj) -> float:
    r"""Wootters concurrence of a two-qubit state.

    ``C = max(0, l_1 - l_2 - l_3 - l_4)``, ``l_i`` the decreasing eigenvalues of
    ``sqrt(sqrt(rho) rho~ sqrt(rho))`` with ``rho~ = (sigma_y (x) sigma_y) rho^*
    (sigma_y (x) sigma_y)`` (the same numbers as the square roots of the eigenvalues of
    ``rho rho~``, computed in the Hermitian form for stability). Basis independent of the
    ordering convention of the qubit levels (``sigma_y (x) sigma_y`` is invariant up to sign).

    Parameters
    ----------
    rho : Qobj
        Two-qubit density matrix or ket, dims ``[[2, 2], [2, 2]]``.

    Returns
    -------
    float
        ``C`` in ``[0, 1]``: 1 for a Bell state, 0 for separable states.

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> round(concurrence(phi_plus()), 12)
    1.0
    """
    a = _two_qubits(rho)
    if rho.isket:  # pure: C = |psi^T (sigma_y (x) sigma_y) psi|, exact to round-off
        psi = rho.full().ravel()
        psi = psi / np.linalg.norm(psi)
        return float(abs(psi @ _SYSY @ psi))
    lam, V = np.linalg.eigh(a)
    keep = lam > RANK_RTOL * lam[-1]
    K = V[:, keep] * np.sqrt(lam[keep])  # rho = K K^†, numerically null directions dropped
    ll = np.zeros(4)
    sv = np.linalg.svd(K.T @ _SYSY @ K, compute_uv=False)  # the l_i (see the docstring)
    ll[: sv.size] = sv
    return float(max(0.0, ll[0] - ll[1] - ll[2] - ll[3]))


def entanglement_of_formation(rho: qutip.Qobj) -> float:
    r"""Entanglement of formation of a two-qubit state, in bits (Wootters' formula).

    ``EoF = h((1 + sqrt(1 - C^2))/2)`` with ``C`` the :func:`concurrence` and
    ``h(x) = -x log2 x - (1 - x) log2(1 - x)``. Equals the entanglement entropy (base 2)
    for pure states.

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> round(entanglement_of_formation(phi_plus()), 12)
    1.0
    """
    c = concurrence(rho)
    x = (1 + np.sqrt(max(0.0, 1 - c * c))) / 2
    if x >= 1:
        return 0.0
    return float(-x * np.log2(x) - (1 - x) * np.log2(1 - x))


@dataclass(frozen=True)
class Distillability:
    r"""Outcome of :func:`one_distillability`.

    Attributes
    ----------
    value : float
        The smallest ``<psi|rho^{T_B}|psi>`` found over unit vectors ``psi`` of Schmidt
        rank at most 2. Negative: ``rho`` is 1-distillable, certified by :attr:`vector`.
    vector : Qobj
        The ket ``psi`` reaching :attr:`value` (dims ``[[dA, dB], [1, 1]]``).
    exact : bool
        True when :attr:`value` is the exact minimum (``min(dA, dB) <= 2``, or the minimal
        eigenvector of ``rho^{T_B}`` already has Schmidt rank <= 2); otherwise it is an upper
        bound on the minimum found by alternating minimisation.
    """

    value: float
    vector: qutip.Qobj
    exact: bool

    @property
    def distillable(self) -> bool:
        """True when 1-distillability is certified (``value < -1e-12``)."""
        return self.value < -DISTILL_ATOL


#: ``value`` must be below ``-DISTILL_ATOL`` to count as 1-distillable: eigenvalues of the
#: partial transpose are accurate to ~1e-15 ||rho||; 1e-12 leaves a safety factor.
DISTILL_ATOL = 1e-12


def _orth(M: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(M)
    return q


def one_distillability(
    rho: qutip.Qobj, *, starts: int = 20, max_iter: int = 200, seed=0
) -> Distillability:
    r"""Is ``rho`` NPT on a ``2 x 2`` subspace (1-distillable)? Minimise over Schmidt rank 2.

    Computes ``min <psi|rho^{T_B}|psi>`` over unit ``psi = sum_{k=1,2} a_k (x) b_k``, i.e.
    ``psi_{ij} = (A B^T)_{ij}`` with ``A, B`` of shape ``(d, 2)``. With ``B`` fixed (and
    orthonormalised) ``psi`` is an isometric image of ``A``, so the minimum over ``A`` is the
    smallest eigenvalue of a ``2 d_A x 2 d_A`` matrix; the method alternates ``A`` and ``B``
    steps (monotone), from the minimal eigenvector of ``rho^{T_B}`` truncated to its two
    leading Schmidt terms and from ``starts`` random Gaussian starts, until a step gains
    less than 1e-14. Decided as follows: a negative value (below ``-1e-12``) certifies
    1-distillability (the returned vector is the witness); for ``min(d_A, d_B) <= 2`` the
    search is exact (eigenvalues to ~1e-15), so a non-negative value means not
    1-distillable; for larger dimensions a non-negative value means no such subspace was
    found (``exact=False``). Two qubits: 1-distillable iff NPT.

    Parameters
    ----------
    rho : Qobj
        Bipartite density matrix (or ket), dims ``[[dA, dB], [dA, dB]]``.
    starts : int
        Random starts (>= 0) besides the eigenvector start.
    max_iter : int
        Alternating steps per start (>= 1).
    seed : int or numpy.random.Generator
        Randomness of the starts.

    Examples
    --------
    >>> from eplt.dynamics.states import isotropic_state
    >>> res = one_distillability(isotropic_state(0.5, 3))   # F > 1/d: 1-distillable
    >>> res.distillable, round(res.value, 12)               # -F/d + (1 - F)/(d (d - 1))
    (True, -0.083333333333)
    """
    rho = as_density_matrix(rho, "rho")
    dims = party_dims(rho)
    if len(dims) != 2:
        raise ValueError(f"rho must be bipartite (two parties), got dims {dims}")
    if not isinstance(starts, (int, np.integer)) or starts < 0:
        raise ValueError(f"starts must be an integer >= 0, got {starts!r}")
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    dA, dB = dims
    a = _herm(rho.full())
    X = a.reshape(dA, dB, dA, dB).transpose(0, 3, 2, 1).reshape(dA * dB, dA * dB)
    lam, V = np.linalg.eigh(X)

    def ket(psi):
        return qutip.Qobj(psi, dims=[[dA, dB], [1, 1]])

    if min(dA, dB) <= 2:
        return Distillability(float(lam[0]), ket(V[:, 0]), True)
    v0 = V[:, 0].reshape(dA, dB)
    _, s, vh = np.linalg.svd(v0)
    if s[2] <= 1e-13 * s[0]:
        return Distillability(float(lam[0]), ket(V[:, 0]), True)
    X4 = X.reshape(dA, dB, dA, dB)
    rng = np.random.default_rng(seed)

    def step_A(B):  # psi_ij = sum_k A_ik B_jk; B orthonormal columns
        B = _orth(B)
        M = np.einsum("jk,ijlm,mn->ikln", B.conj(), X4, B).reshape(2 * dA, 2 * dA)
        w, U = np.linalg.eigh(_herm(M))
        return w[0], U[:, 0].reshape(dA, 2), B

    def step_B(A):
        A = _orth(A)
        M = np.einsum("ik,ijlm,ln->jkmn", A.conj(), X4, A).reshape(2 * dB, 2 * dB)
        w, U = np.linalg.eigh(_herm(M))
        return w[0], U[:, 0].reshape(dB, 2), A

    best = (np.inf, None)
    inits = [(vh[:2].T).copy()]
    for _ in range(starts):
        inits.append(rng.standard_normal((dB, 2)) + 1j * rng.standard_normal((dB, 2)))
    for B in inits:
        val = np.inf
        for _ in range(max_iter):
            _, A, B = step_A(B)
            new, B, A = step_B(A)
            if val - new < 1e-14:
                val = min(val, new)
                break
            val = new
        psi = (A @ B.T).reshape(-1)
        psi = psi / np.linalg.norm(psi)
        v = float(np.real(psi.conj() @ X @ psi))
        if v < best[0]:
            best = (v, psi)
    return Distillability(best[0], ket(best[1]), False)

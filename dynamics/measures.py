"""Entanglement and thermalization measures on density matrices.

Conventions
-----------
* Parties are the tensor factors of ``rho.dims[0]``, numbered from 0.
* Partial transposes act on the parties in ``subsys``; by default on the *last* party.
* Negativity ``N(rho) = (||rho^{T_B}||_1 - 1) / 2`` (as :func:`qutip.negativity`);
  log-negativity ``E_N = log2 ||rho^{T_B}||_1`` (base 2).
* Trace distance ``D(rho, sigma) = ||rho - sigma||_1 / 2``.
* Entropies and relative entropies in nats unless ``base`` is given.
* Fidelities with pure targets are overlaps ``<psi|rho|psi>`` (squared-fidelity
  convention: 1 for the target, 1/2 for a 50/50 mixture with an orthogonal state).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from ._entropy import (
    _entropy_of,
    checked_spectrum,
    relative_entropy_arr,
    thermal_relative_entropy_arr,
)
from .entanglement import concurrence, entanglement_of_formation, one_distillability

__all__ = [
    "binary_entropy",
    "chsh_max",
    "concurrence",
    "entanglement_of_formation",
    "entropy",
    "fef_ascent",
    "fully_entangled_fraction",
    "ghz_fidelity",
    "is_ppt",
    "log_negativity",
    "marginal_distances",
    "marginal_relative_entropies",
    "marginals",
    "mutual_information",
    "negativity",
    "one_distillability",
    "partial_transpose",
    "phi_plus_overlap",
    "relative_entropy",
    "relative_entropy_to_thermal",
    "trace_distance",
]

#: Default tolerance of the PPT test: an eigenvalue of rho^T below -PPT_ATOL is negative.
PPT_ATOL = 1e-12


def _subsys_tuple(subsys, n: int) -> tuple[int, ...]:
    """``subsys`` (a party index or a collection of distinct ones) as a sorted tuple."""
    allowed = f"a party index 0..{n - 1} or a list of distinct ones"
    if subsys is None:
        return (n - 1,)
    if isinstance(subsys, (bool, np.bool_)):
        raise TypeError(f"subsys must be {allowed}, got {subsys!r}")
    if isinstance(subsys, (int, np.integer)):
        subsys = (int(subsys),)
    if isinstance(subsys, (str, bytes)) or not hasattr(subsys, "__iter__"):
        raise TypeError(f"subsys must be {allowed}, got {subsys!r}")
    items = list(subsys)
    for k in items:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"subsys must be {allowed}, got {subsys!r}")
    if len(set(map(int, items))) != len(items):
        raise ValueError(f"subsys must be {allowed}, got repeated parties {items}")
    out = tuple(sorted(int(k) for k in items))
    if not out:
        raise ValueError("subsys must name at least one party")
    for k in out:
        if not 0 <= k < n:
            raise ValueError(f"subsys contains party {k}, but rho has parties 0..{n - 1}")
    return out


def _pt_array(a: np.ndarray, dims: Sequence[int], parties: tuple[int, ...]) -> np.ndarray:
    """Partial transpose of the matrix ``a`` (parties ``dims``) on ``parties``."""
    n = len(dims)
    t = a.reshape(tuple(dims) * 2)
    axes = list(range(2 * n))
    for k in parties:
        axes[k], axes[n + k] = axes[n + k], axes[k]
    D = int(np.prod(dims))
    return t.transpose(axes).reshape(D, D)


def partial_transpose(rho: qutip.Qobj, subsys=None) -> qutip.Qobj:
    """Partial transpose of ``rho`` on the parties ``subsys`` (default: the last party).

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> round(float(partial_transpose(phi_plus()).eigenenergies()[0]), 12)
    -0.5
    """
    dims = party_dims(rho)
    parties = _subsys_tuple(subsys, len(dims))
    return qutip.Qobj(_pt_array(rho.full(), dims, parties), dims=rho.dims)


def _pt_eigenvalues(rho: qutip.Qobj, subsys) -> np.ndarray:
    rho = as_density_matrix(rho)
    dims = party_dims(rho)
    if len(dims) < 2:
        raise ValueError(f"rho must have at least two parties, got dims {dims}")
    parties = _subsys_tuple(subsys, len(dims))
    a = _pt_array(rho.full(), dims, parties)
    return np.linalg.eigvalsh((a + a.conj().T) / 2)


def negativity(rho: qutip.Qobj, subsys=None) -> float:
    r"""Negativity ``N = (||rho^{T_S}||_1 - 1) / 2`` for the bipartition ``S`` | rest.

    Parameters
    ----------
    rho : Qobj
        Density matrix (or ket) with ``dims[0]`` the local dimensions of the parties.
    subsys : int or iterable of int, optional
        Parties transposed (one side of the bipartition). Default: the last party.

    Returns
    -------
    float
        The sum of the moduli of the negative eigenvalues of ``rho^{T_S}``, which equals
        ``(||rho^{T_S}||_1 - 1)/2`` for a unit-trace state. Zero for separable states,
        ``(d - 1)/2`` for a maximally entangled pair of qudits.

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> round(negativity(phi_plus(3)), 12)
    1.0
    """
    lam = _pt_eigenvalues(rho, subsys)
    return float(-lam[lam < 0].sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def log_negativity(rho: qutip.Qobj, subsys=None) -> float:
    """Log-negativity ``E_N = log2 ||rho^{T_S}||_1 = log2(2 N + 1)`` (base 2)."""
    return float(np.log2(2 * negativity(rho, subsys) + 1))


def is_ppt(rho: qutip.Qobj, subsys=None, *, atol: float = PPT_ATOL) -> bool:
    """True when ``rho^{T_S}`` has no eigenvalue below ``-atol`` (default 1e-12)."""
    return bool(_pt_eigenvalues(rho, subsys)[0] >= -atol)


def phi_plus_overlap(rho: qutip.Qobj) -> float:
    """Overlap ``<Phi+|rho|Phi+>`` of a two-qudit state (both parties of dimension d)."""
    rho = as_density_matrix(rho)
    dims = party_dims(rho)
    if len(dims) != 2 or dims[0] != dims[1]:
        raise ValueError(f"rho must be a state of two qudits of equal dimension, got dims {dims}")
    d = dims[0]
    a = rho.full()
    idx = np.arange(d) * (d + 1)
    return float(a[np.ix_(idx, idx)].sum().real / d)


def ghz_fidelity(rho: qutip.Qobj) -> float:
    """GHZ fidelity ``<GHZ|rho|GHZ>`` of an n-qubit state (squared-fidelity convention).

    ``<GHZ|rho|GHZ> = (rho_{0..0,0..0} + rho_{1..1,1..1})/2 + Re rho_{0..0,1..1}``. A value
    above 1/2 witnesses genuine multipartite entanglement.

    Examples
    --------
    >>> from eplt.dynamics.states import ghz_state
    >>> ghz_fidelity(ghz_state(4))
    1.0
    """
    rho = as_density_matrix(rho)
    dims = party_dims(rho)
    if any(d != 2 for d in dims) or len(dims) < 2:
        raise ValueError(f"rho must be a state of n >= 2 qubits, got dims {dims}")
    a = rho.full()
    return float(((a[0, 0] + a[-1, -1]) / 2).real + a[0, -1].real)


def _magic_basis() -> np.ndarray:
    s = 1 / np.sqrt(2)
    # Columns: Phi+, i Phi-, i Psi+, Psi-  (Bennett et al. / Hill-Wootters magic basis).
    return np.array(
        [
            [s, 1j * s, 0, 0],
            [0, 0, 1j * s, s],
            [0, 0, 1j * s, -s],
            [s, -1j * s, 0, 0],
        ]
    )


def fef_ascent(
    a: np.ndarray, d: int, *, restarts: int = 20, rng=None, tol: float = 1e-13
) -> tuple[float, float]:
    """Maximise ``vec(U)^† a vec(U) / d`` over unitaries U (``a`` a two-qudit density
    matrix as an array) by polar ascent, ``U <- polar(reshape(a vec U))``, which increases
    the objective monotonically; from the identity and ``restarts`` Haar-random unitaries
    drawn from ``rng``. Returns the best value (a lower bound on the fully entangled
    fraction) and its spread to the second-best start."""
    rng = np.random.default_rng(rng)
    best = []

    def ascend(U):
        f_old = -np.inf
        for _ in range(10_000):
            v = U.reshape(-1)
            f = float(np.real(v.conj() @ a @ v)) / d
            if f - f_old < tol:
                return f
            f_old = f
            M = (a @ v).reshape(d, d)
            W, _, Vh = np.linalg.svd(M)
            U = W @ Vh
        return f  # pragma: no cover - convergence is monotone and fast

    starts = [np.eye(d)]
    for _ in range(restarts):
        z = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        q, r = np.linalg.qr(z)
        starts.append(q * (np.diag(r) / abs(np.diag(r))))
    best = sorted(ascend(U) for U in starts)
    return best[-1], best[-1] - best[max(0, len(best) - 2)]


def fully_entangled_fraction(
    rho: qutip.Qobj, *, restarts: int = 20, seed=0, tol: float = 1e-13, return_info: bool = False
):
    r"""Fully entangled fraction ``F_max = max_Psi <Psi|rho|Psi>`` over maximally entangled Psi.

    Every maximally entangled state is ``(U (x) I)|Phi+>`` for a unitary U, so
    ``F_max = max_U vec(U)^† rho vec(U) / d``.

    * Two qubits: exact. With ``R = Re(M^† rho M)``, M the magic basis (Phi+, i Phi-,
      i Psi+, Psi-), ``F_max = lambda_max(R)`` (maximally entangled states are the real
      unit vectors in the magic basis up to a phase).
    * ``d > 2``: numerical. A convex quadratic is maximised over U(d) by iterating
      ``U <- polar factor of (rho vec U)``, which increases the objective monotonically,
      from the identity and ``restarts`` Haar-random unitaries, each to a step below
      ``tol``. The returned value is a lower bound on the true maximum; with
      ``return_info=True`` the gap between the best and second-best restart is returned
      as ``spread`` (a small spread means several restarts found the same maximum).

    Parameters
    ----------
    rho : Qobj
        Two-qudit state with equal local dimensions.
    restarts : int
        Random restarts for ``d > 2``.
    seed : int or Generator
        Seed of the restarts (the result is deterministic for a given seed).
    tol : float
        Stopping tolerance of each ascent.
    return_info : bool
        Also return ``{"method": "exact"|"ascent", "spread": float}``.

    Examples
    --------
    >>> from eplt.dynamics.states import isotropic_state
    >>> round(fully_entangled_fraction(isotropic_state(0.8)), 12)
    0.8
    """
    rho = as_density_matrix(rho)
    dims = party_dims(rho)
    if len(dims) != 2 or dims[0] != dims[1]:
        raise ValueError(f"rho must be a state of two qudits of equal dimension, got dims {dims}")
    d = dims[0]
    a = rho.full()
    if d == 2:
        M = _magic_basis()
        R = (M.conj().T @ a @ M).real
        val, info = float(np.linalg.eigvalsh((R + R.T) / 2)[-1]), {"method": "exact", "spread": 0.0}
    else:
        if restarts < 0:
            raise ValueError(f"restarts must be >= 0, got {restarts}")
        val, spread = fef_ascent(a, d, restarts=restarts, rng=np.random.default_rng(seed), tol=tol)
        info = {"method": "ascent", "spread": float(spread)}
    return (val, info) if return_info else val


def trace_distance(rho: qutip.Qobj, sigma: qutip.Qobj) -> float:
    """Trace distance ``D = ||rho - sigma||_1 / 2``."""
    if rho.shape != sigma.shape:
        raise ValueError(f"rho and sigma have different shapes {rho.shape} and {sigma.shape}")
    diff = rho.full() - sigma.full()
    return float(np.abs(np.linalg.eigvalsh((diff + diff.conj().T) / 2)).sum() / 2)


def entropy(rho: qutip.Qobj, *, base: float | None = None) -> float:
    """Von Neumann entropy ``S = -Tr rho log rho`` (nats unless ``base`` is given).

    Sums ``-l log l`` over the positive eigenvalues ``l`` of ``rho`` (``0 log 0 = 0``).

    >>> round(entropy(qutip.qeye(2) / 2, base=2), 12)
    1.0
    """
    return _entropy_of(checked_spectrum(_square_array(rho, "rho"), "rho")[0], base)


def relative_entropy(rho: qutip.Qobj, sigma: qutip.Qobj, *, base: float | None = None) -> float:
    """Relative entropy ``S(rho||sigma) = Tr rho (log rho - log sigma)``, nats by default.

    ``log sigma`` is taken on the support of ``sigma``, with no absolute eigenvalue
    cutoff: a diagonal ``sigma`` (a thermal state of a diagonal Hamiltonian, or a product
    of them) has its exact diagonal as spectrum, so every positive population counts
    however small; for a general ``sigma`` eigenvalues below the resolution of ``eigh``
    (about ``d eps ||sigma||``) form its kernel. Infinite when ``rho`` has weight on the
    kernel of ``sigma``.

    Parameters
    ----------
    rho, sigma : Qobj
        Density matrices of the same dimensions.
    base : float, optional
        Logarithm base (``2``: bits); natural logarithm by default.

    Examples
    --------
    ``D(Phi+ || tau (x) tau) = beta omega + 2 log(1 + exp(-beta omega))`` for a qubit of
    gap ``omega``, finite at every finite temperature:

    >>> import math
    >>> from eplt.dynamics.states import phi_plus
    >>> p1 = math.exp(-40) / (1 + math.exp(-40))
    >>> tau = qutip.Qobj([[1 - p1, 0], [0, p1]])
    >>> d = relative_entropy(phi_plus(), qutip.tensor(tau, tau))
    >>> bool(abs(d - (40 + 2 * math.log1p(math.exp(-40)))) < 1e-12)
    True
    """
    a, b = _square_array(rho, "rho"), _square_array(sigma, "sigma")
    if a.shape != b.shape:
        raise ValueError(f"rho and sigma have different shapes {a.shape} and {b.shape}")
    return relative_entropy_arr(a, b, base, names=("rho", "sigma"))


def _square_array(x, name: str) -> np.ndarray:
    """The matrix of a Qobj density matrix (a ket becomes its projector); a TypeError
    naming ``name`` for anything else (the state checks follow on the eigenvalues)."""
    if not isinstance(x, qutip.Qobj):
        raise TypeError(
            f"{name} must be a qutip.Qobj (ket or density matrix), got {type(x).__name__}"
        )
    return qutip.ket2dm(x).full() if x.isket else x.full()


def relative_entropy_to_thermal(
    rho: qutip.Qobj, H: qutip.Qobj, beta: float, *, base: float | None = None
) -> float:
    """Relative entropy ``S(rho || tau)`` to the Gibbs state ``tau = exp(-beta H)/Z``.

    Uses ``log tau = -beta H - log Z`` analytically (hbar = k_B = 1), so it stays exact
    where the populations of tau underflow or fall below the resolution of an
    eigendecomposition (any ``H``, diagonal or not):
    ``S(rho || tau) = beta Tr(rho H) + log Z - S(rho)`` (``= beta (F(rho) - F(tau))``),
    with ``log Z`` computed from the ground energy up.

    Parameters
    ----------
    rho : Qobj
        Density matrix (or ket).
    H : Qobj
        Hermitian Hamiltonian of the same dimension as ``rho``.
    beta : float
        Inverse temperature in ``[0, inf]``; at ``inf`` tau is the normalized projector on
        the ground space and the result is ``inf`` unless ``rho`` lies in it.
    base : float, optional
        Logarithm base; natural logarithm (nats) by default.

    Examples
    --------
    Two qubits of gap 1 in ``Phi+`` against ``tau (x) tau`` at ``beta = 1000``
    (``beta omega + 2 log(1 + e^{-beta omega})``):

    >>> from eplt.dynamics.states import phi_plus
    >>> h = qutip.Qobj([[0, 0], [0, 1.0]])
    >>> H = qutip.tensor(h, qutip.qeye(2)) + qutip.tensor(qutip.qeye(2), h)
    >>> relative_entropy_to_thermal(phi_plus(), H, 1000.0)
    1000.0
    """
    rho = as_density_matrix(rho, "rho")
    if not isinstance(H, qutip.Qobj) or H.shape != rho.shape:
        raise ValueError(f"H must be a Qobj of shape {rho.shape} (as rho), got {H!r:.60}")
    h = H.full()
    if not np.all(np.isfinite(h)) or not np.allclose(
        h, h.conj().T, rtol=0, atol=1e-12 * max(1.0, np.abs(h).max())
    ):
        raise ValueError("H must be Hermitian with finite entries")
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)):
        raise TypeError(f"beta must be a number in [0, inf], got {beta!r}")
    b = float(beta)
    if not b >= 0:
        raise ValueError(f"beta must lie in [0, inf], got {beta!r}")
    return thermal_relative_entropy_arr(rho.full(), h, b, base)


def marginals(rho: qutip.Qobj) -> list[qutip.Qobj]:
    """Single-party reduced states ``[Tr_{not k} rho for k in parties]``."""
    n = len(party_dims(rho))
    return [rho.ptrace(k) for k in range(n)]


def _check_taus(rho: qutip.Qobj, taus) -> list[qutip.Qobj]:
    dims = party_dims(rho)
    if isinstance(taus, qutip.Qobj):
        taus = [taus] * len(dims)
    taus = list(taus)
    if len(taus) != len(dims):
        raise ValueError(
            f"taus must give one thermal state per party ({len(dims)}), got {len(taus)}"
        )
    for k, (t, d) in enumerate(zip(taus, dims)):
        if t.shape != (d, d):
            raise ValueError(f"taus[{k}] has shape {t.shape}, party {k} has dimension {d}")
    return taus


def marginal_distances(rho: qutip.Qobj, taus: Iterable[qutip.Qobj] | qutip.Qobj) -> np.ndarray:
    """Trace distance of each marginal to its thermal state, ``D(rho_k, tau_k)``."""
    taus = _check_taus(rho, taus)
    return np.array([trace_distance(m, t) for m, t in zip(marginals(rho), taus)])


def marginal_relative_entropies(
    rho: qutip.Qobj, taus: Iterable[qutip.Qobj] | qutip.Qobj, *, base: float | None = None
) -> np.ndarray:
    """Relative entropy of each marginal to its thermal state, ``S(rho_k || tau_k)``."""
    taus = _check_taus(rho, taus)
    return np.array([relative_entropy(m, t, base=base) for m, t in zip(marginals(rho), taus)])


def mutual_information(rho: qutip.Qobj, subsys=None, *, base: float | None = None) -> float:
    """Mutual information ``I(S:rest) = S(rho_S) + S(rho_rest) - S(rho)``.

    ``subsys`` defaults to the last party; nats unless ``base`` is given (``base=2``: bits).
    """
    n = len(party_dims(rho))
    side = _subsys_tuple(subsys, n)
    rest = tuple(k for k in range(n) if k not in side)
    if not rest:
        raise ValueError("subsys must leave at least one party on the other side")
    return (
        entropy(rho.ptrace(list(side)), base=base)
        + entropy(rho.ptrace(list(rest)), base=base)
        - entropy(rho, base=base)
    )


_PAULIS = (
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]]),
    np.array([[1, 0], [0, -1]], dtype=complex),
)


def _chsh_array(a: np.ndarray) -> float:
    T = np.array([[np.trace(a @ np.kron(s, t)).real for t in _PAULIS] for s in _PAULIS])
    m = np.linalg.eigvalsh(T.T @ T)
    return float(2 * np.sqrt(max(m[-1] + m[-2], 0.0)))


def chsh_max(rho: qutip.Qobj) -> float:
    r"""Largest CHSH value of a two-qubit state over all measurement settings.

    Horodecki criterion (Phys. Lett. A 200, 340 (1995)): with the correlation matrix
    ``T_ij = Tr[rho (sigma_i (x) sigma_j)]`` (``i, j in {x, y, z}``) and ``m1 >= m2`` the two
    largest eigenvalues of ``T^T T``,
    ``max <B_CHSH> = 2 sqrt(m1 + m2)``; local hidden-variable models give at most 2,
    quantum mechanics at most ``2 sqrt 2`` (Tsirelson, reached by Bell states).
    For ``E_gamma(Phi+) = gamma Phi+ + (1 - gamma)|00><00|`` (equal qubit taus)
    ``T = diag(gamma, -gamma, 1)`` and the value is ``2 sqrt(1 + gamma^2)``: above 2 at
    every nonzero temperature.

    Parameters
    ----------
    rho : Qobj
        Two-qubit density matrix (or ket), dims ``[2, 2]``.

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> round(chsh_max(phi_plus()), 12)        # 2 sqrt(2)
    2.828427124746
    """
    rho = as_density_matrix(rho, "rho")
    if party_dims(rho) != [2, 2]:
        raise ValueError(f"chsh_max needs two qubits (dims [2, 2]), got {party_dims(rho)}")
    return _chsh_array(rho.full())


def binary_entropy(p: float) -> float:
    r"""Binary entropy in bits, ``h(p) = -p log2 p - (1 - p) log2 (1 - p)`` (0 outside (0, 1)).

    The shared random bits of a biased coin with probability ``p``.

    Examples
    --------
    >>> binary_entropy(0.5)
    1.0
    """
    if p <= 0 or p >= 1:
        return 0.0
    return float(-p * np.log2(p) - (1 - p) * np.log2(1 - p))

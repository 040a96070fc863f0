r"""The layer cake and E_gamma on two oscillators, in the block structure of their outputs.

Two modes ``A``, ``B`` with ``H = omega a^dag a`` each, ``q = exp(-beta omega)``,
thermal populations ``p_n = (1 - q) q^n`` (hbar = k_B = 1; partial transpose on B).

**Why E_gamma collapses on a cutoff.** On the levels ``0..d-1`` the truncated thermal state
has ``p_min = q^(d-1) (1-q)/(1-q^d)``, so E_gamma's twirl weight is
``gamma_d = d q^(d-1) (1-q)/(1-q^d)`` (:func:`egamma_gamma`), exponentially small in ``d``:
``N(E_gamma(Phi+_d))`` at ``beta omega = 1`` is 0.2689, 0.1801, 0.1153, 0.0336, 0.0081,
3.4e-4, 1.1e-5 for d = 2, 3, 4, 6, 8, 12, 16. Nothing converges as the cutoff grows, and
E_gamma on a cutoff thermalizes to the truncated ``tau_d``, at trace distance ``q^d``
from the oscillator's ``tau``.

**Why the layer cake does not.** Its branch ``m`` (probability
``w_m = m (p_(m-1) - p_m) = m (1-q)^2 q^(m-1)``) keeps or replaces onto the ``m`` lowest
levels and twirls there; ``sum_m w_m P_m/m = tau`` on the whole Fock space and no weight
depends on a cutoff. The only truncation is of the branch sum itself: branches ``m > M``
carry ``R = sum_{m>M} w_m`` (:func:`layer_cake_fock` picks ``M`` from a stated
tolerance and reports ``R``).

**Block structure.** Both channels output only ``|ii><jj|`` and ``|ij><ij|`` terms
(:class:`NNState`), and read only ``S_m = sum_{i,j<m} <ii|rho|jj>``,
``R_m = sum_{i,j<m} <ij|rho|ij>`` and ``Tr rho`` of the input. The partial transpose of
such a state is block diagonal (``2 x 2`` blocks on ``{|ij>, |ji>}``), so the negativity
is ``sum_{i<j} max(0, sqrt(((P_ij - P_ji)/2)^2 + |C_ij|^2) - (P_ij + P_ji)/2)``: cutoffs
of hundreds cost ``O(M^2)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import qutip
import scipy.sparse as sp

from .bosonic import _q
from .eplt import NoEPLTError
from .thermofield import any_lt_negativity_geometric

__all__ = [
    "FockChannelOutput",
    "NNState",
    "branch_cutoff",
    "egamma_fock",
    "egamma_gamma",
    "layer_cake_fock",
    "tfd_negativity",
]

#: Default tolerance of the truncated branch sum (bound on the negativity's error).
BRANCH_TOL = 1e-10
#: Largest number of branches :func:`layer_cake_fock` keeps (memory ``~ 32 M^2`` bytes).
MAX_BRANCHES = 4000


@dataclass(frozen=True, eq=False)
class NNState:
    r"""A two-mode operator with only ``|ii><jj|`` and ``|ij><ij|`` terms.

    ``sigma = sum_{i,j} C_ij |ii><jj| + sum_{i != j} P_ij |ij><ij|``, levels ``0..n-1``.

    Parameters
    ----------
    coherences : (n, n) array
        ``C_ij = <ii|sigma|jj>`` (Hermitian for a state).
    populations : (n, n) array
        ``P_ij = <ij|sigma|ij>``; its diagonal must equal ``diag(C)``.
    """

    coherences: np.ndarray
    populations: np.ndarray
    n: int = field(init=False)

    def __post_init__(self):
        C = np.array(self.coherences, dtype=complex)
        P = np.array(self.populations, dtype=float)
        if C.ndim != 2 or C.shape[0] != C.shape[1] or P.shape != C.shape:
            raise ValueError(
                "coherences and populations must be square arrays of the same shape, got "
                f"{C.shape} and {P.shape}"
            )
        if np.abs(np.diag(C) - np.diag(P)).max(initial=0.0) > 1e-12:
            raise ValueError("populations must have the diagonal of coherences (<ii|sigma|ii>)")
        object.__setattr__(self, "coherences", C)
        object.__setattr__(self, "populations", P)
        object.__setattr__(self, "n", C.shape[0])

    @classmethod
    def from_ket(cls, c) -> NNState:
        """``|psi> = sum_n c_n |nn>`` (not renormalised): ``C = c c^†``, ``P = diag(|c|^2)``."""
        c = np.asarray(c, dtype=complex).ravel()
        return cls(np.outer(c, c.conj()), np.diag(np.abs(c) ** 2))

    @classmethod
    def from_qobj(cls, rho: qutip.Qobj) -> NNState:
        """The ``|ii><jj|`` and ``|ij><ij|`` entries of a two-mode operator (dims ``[n, n]``).

        Other entries are dropped: the layer cake and E_gamma do not read them.
        """
        if not isinstance(rho, qutip.Qobj):
            raise TypeError(f"rho must be a qutip.Qobj, got {type(rho).__name__}")
        if rho.isket:
            rho = qutip.ket2dm(rho)
        dims = [int(d) for d in rho.dims[0]]
        if len(dims) != 2 or dims[0] != dims[1]:
            raise ValueError(f"rho must be a two-mode operator with dims [n, n], got {dims}")
        n = dims[0]
        a = rho.full() if n * n <= 4096 else rho.data.as_scipy().tocsr()
        ii = np.arange(n) * (n + 1)
        C = np.asarray(a[ii[:, None], ii[None, :]] if n * n <= 4096 else a[ii][:, ii].toarray())
        P = np.real(np.asarray(a.diagonal())).reshape(n, n)
        return cls(C, P)

    def trace(self) -> float:
        P = self.populations
        return float(P.sum())

    def marginal_populations(self) -> tuple[np.ndarray, np.ndarray]:
        """Diagonals of ``Tr_B sigma`` and ``Tr_A sigma`` (both marginals are diagonal)."""
        return self.populations.sum(axis=1), self.populations.sum(axis=0)

    def negativity(self) -> float:
        r"""Sum of the negative eigenvalues' magnitudes of ``sigma^{T_B}`` (exact, ``O(n^2)``).

        For a state this is ``N = (||sigma^{T_B}||_1 - 1)/2``; for a sub-normalised
        operator (a truncated branch sum) it is the negative part of the spectrum.
        """
        C, P = self.coherences, self.populations
        iu = np.triu_indices(self.n, 1)
        half = (P[iu] - P.T[iu]) / 2
        mid = (P[iu] + P.T[iu]) / 2
        lam = mid - np.sqrt(half**2 + np.abs(C[iu]) ** 2)
        neg = -lam[lam < 0].sum() - np.minimum(np.diag(P), 0).sum()
        return float(neg) + 0.0  # + 0.0: no "-0.0" for a separable state

    def phi_plus_overlap(self, d: int) -> float:
        """``<Phi+_d|sigma|Phi+_d>``, ``Phi+_d = sum_{i<d} |ii>/sqrt(d)``."""
        d = min(int(d), self.n)
        return float(np.real(self.coherences[:d, :d].sum())) / int(d)

    def to_qobj(self) -> qutip.Qobj:
        """The operator as a sparse Qobj with dims ``[[n, n], [n, n]]`` (``O(n^2)`` entries)."""
        n = self.n
        ii = np.arange(n) * (n + 1)
        rows = [np.repeat(ii, n), np.arange(n * n)]
        cols = [np.tile(ii, n), np.arange(n * n)]
        P = self.populations.astype(complex).ravel().copy()
        P[ii] = 0  # the |ii><ii| entries are in C
        vals = [self.coherences.ravel(), P]
        M = sp.coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n * n,) * 2
        ).tocsr()
        return qutip.Qobj(M, dims=[[n, n], [n, n]])

    def _sums(self, m_max: int) -> tuple[np.ndarray, np.ndarray, float]:
        """``S_m`` and ``R_m`` for ``m = 1..m_max`` (constant beyond ``n``), and the trace."""
        S = np.diagonal(np.cumsum(np.cumsum(self.coherences, 0), 1))
        R = np.diagonal(np.cumsum(np.cumsum(self.populations, 0), 1))
        pad = max(0, m_max - self.n)
        S = np.concatenate([S, np.full(pad, S[-1])])[:m_max]
        R = np.concatenate([R, np.full(pad, R[-1])])[:m_max]
        return S, R, self.trace()


def _as_nn(rho) -> NNState:
    if isinstance(rho, NNState):
        return rho
    return NNState.from_qobj(rho)


@dataclass(frozen=True)
class FockChannelOutput:
    r"""The output of a channel on two oscillators, with its truncation stated.

    Attributes
    ----------
    state : NNState
        The (sub-normalised when ``weight_dropped > 0``) output on ``cutoff`` levels.
    cutoff : int
        Number of levels kept (branches ``m <= cutoff`` for the layer cake).
    negativity : float
        ``state.negativity()``.
    negativity_error : float
        Bound on ``|N(true output) - negativity|`` from the dropped branches.
    weight_dropped : float
        ``1 - Tr state``; for the layer cake ``sum_{m > cutoff} w_m``, which is exactly
        ``||Tr_B state - tau||_1`` and bounds the true marginals' distance to ``tau``.
    thermal_distance : float
        Trace distance of the channel's (untruncated) marginals to the oscillator's
        ``tau``: 0 for the layer cake, ``q^d`` for E_gamma on cutoff ``d``.
    """

    state: NNState
    cutoff: int
    negativity: float
    negativity_error: float
    weight_dropped: float
    thermal_distance: float


def _tails(q: float, M):
    """``sum_{m>M} w_m`` and ``sum_{m>M} w_m (m+1)/2`` in closed form (``0 < q < 1``).

    With ``w_m = m (1-q)^2 q^(m-1)``: ``sum_{m>M} w_m = q^M (M + 1 - M q)`` and, from the
    second derivative of ``sum_{m>M} q^(m+1) = q^(M+2)/(1-q)``,
    ``sum_{m>M} w_m (m+1)/2 = q^M/2 [k (k-1)(1-q) + 2 k q + 2 q^2/(1-q)]``, ``k = M + 2``.
    """
    M = np.asarray(M, dtype=float)
    qM = q**M
    k = M + 2
    dropped = qM * (M + 1 - M * q)
    neg = qM / 2 * (k * (k - 1) * (1 - q) + 2 * k * q + 2 * q * q / (1 - q))
    return dropped, neg


@functools.lru_cache(maxsize=256)
def branch_cutoff(q: float, tol: float = BRANCH_TOL) -> int:
    """Number of branches :func:`layer_cake_fock` keeps at ``q = exp(-beta omega)``: the
    smallest ``M`` with ``sum_{m>M} w_m (m+1)/2 <= tol``, ``w_m = m (1-q)^2 q^(m-1)``.

    Raises ValueError when more than ``MAX_BRANCHES`` would be needed.

    Examples
    --------
    >>> branch_cutoff(0.5, 1e-10) > 30
    True
    """
    M = np.arange(1, MAX_BRANCHES + 1)
    _, neg = _tails(q, M)
    ok = np.nonzero(neg <= tol)[0]
    if ok.size == 0:
        raise ValueError(
            f"the layer cake at q = {q:.6g} needs more than {MAX_BRANCHES} branches for "
            f"tol = {tol:g}; raise beta*omega or tol"
        )
    return int(M[ok[0]])


def layer_cake_fock(
    rho, beta: float, *, omega: float = 1.0, tol: float = BRANCH_TOL
) -> FockChannelOutput:
    r"""The layer cake on two oscillators, ``E(rho) = sum_m w_m T_m[(K_m (x) K_m)(rho)]``.

    ``w_m = m (1-q)^2 q^(m-1)`` (cutoff-free); branch ``m`` as in
    :class:`eplt.dynamics.layer_cake.LayerCakeChannel`:
    ``T_m = F_m Phi_m + (Tr rho - F_m)(P_m (x) P_m - Phi_m)/(m^2 - 1)``,
    ``F_m = S_m/m + (Tr rho - R_m)/m^2``. Exactly LT on the whole Fock space for every
    input. Branches ``m > M`` are dropped, ``M`` the smallest with
    ``sum_{m>M} w_m (m+1)/2 <= tol``; since a branch output ``sigma_m`` has
    ``||sigma_m^{T_B}||_1 <= m``, the negativity of the kept sum is within
    ``sum_{m>M} w_m (m+1)/2`` of the true one (``negativity_error``), and the dropped
    weight ``sum_{m>M} w_m`` bounds the marginals' distance to ``tau``.

    Parameters
    ----------
    rho : Qobj or NNState
        Two-mode input (dims ``[n, n]``, any cutoff ``n``; only its ``|ii><jj|`` and
        ``|ij><ij|`` entries matter), e.g. :func:`eplt.dynamics.bosonic.two_mode_squeezed_vacuum`
        or ``NNState.from_ket(tmsv_coefficients(lam, cutoff=300))``.
    beta : float
        Inverse temperature in ``(0, inf)`` (``inf``: tau is pure, no EPLT).
    omega : float
        Mode frequency (> 0); ``q = exp(-beta omega)``.
    tol : float
        Bound on the negativity error of the truncated branch sum.

    Returns
    -------
    FockChannelOutput

    Examples
    --------
    >>> from eplt.dynamics.bosonic import tmsv_coefficients
    >>> out = layer_cake_fock(NNState.from_ket(tmsv_coefficients(0.5, cutoff=60)), 1.0)
    >>> out.negativity > 0.2, out.weight_dropped < 1e-10
    (True, True)
    """
    q = _q(beta, omega)
    if q == 0:
        raise NoEPLTError(
            f"beta * omega = {float(beta) * float(omega):g}: q = exp(-beta omega) underflows to 0, "
            "the oscillator's thermal state is |0><0| (pure), so every locally thermalizing "
            "channel outputs |00><00| and no EPLT exists"
        )
    tol = float(tol)
    if not 0 < tol < 1:
        raise ValueError(f"tol must lie in (0, 1), got {tol!r}")
    st = _as_nn(rho)
    M = max(2, branch_cutoff(q, tol))
    m = np.arange(1, M + 1, dtype=float)
    w = m * (1 - q) ** 2 * q ** (m - 1)
    S, R, t = st._sums(M)
    F = S / m + (t - R) / m**2
    a = np.empty(M, dtype=complex)
    b = np.zeros(M)
    a[0] = t
    b[1:] = np.real(t - F[1:]) / (m[1:] ** 2 - 1)
    a[1:] = (F[1:] - b[1:]) / m[1:]
    A_tail = np.cumsum((w * a)[::-1])[::-1]
    B_tail = np.cumsum((w * b)[::-1])[::-1]
    i = np.arange(M)
    K = np.maximum(i[:, None], i[None, :])
    C = A_tail[K]
    P = B_tail[K]
    P[i, i] = np.real(A_tail + B_tail)
    C[i, i] = A_tail + B_tail
    out = NNState(C, P)
    dropped, neg_err = (float(x) for x in _tails(q, M))
    return FockChannelOutput(
        state=out,
        cutoff=M,
        negativity=out.negativity(),
        negativity_error=neg_err,
        weight_dropped=dropped,
        thermal_distance=0.0,
    )


def egamma_gamma(beta: float, d: int, *, omega: float = 1.0) -> float:
    r"""E_gamma's twirl weight on a Fock cutoff ``d``: ``gamma_d = d q^(d-1) (1-q)/(1-q^d)``.

    Examples
    --------
    >>> round(egamma_gamma(1.0, 2), 6)     # = 2 p_1 of a qubit at beta omega = 1
    0.537883
    """
    q = _q(beta, omega)
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d!r}")
    if q == 0:
        return 0.0
    return float(d * q ** (d - 1) * (1 - q) / (1 - q**d))


def egamma_fock(rho, beta: float, d: int, *, omega: float = 1.0) -> FockChannelOutput:
    r"""E_gamma on the cutoff ``d`` of two oscillators (the paper's protocol, truncated).

    ``E(rho) = gamma_d T(rho) + (1 - gamma_d) omega (x) omega Tr rho`` on levels
    ``0..d-1``, with the truncated thermal state ``tau_d`` (populations
    ``(1-q) q^i/(1-q^d)``), ``gamma_d`` from :func:`egamma_gamma` and
    ``omega = (tau_d - gamma_d I/d)/(1 - gamma_d)``. The input must live on the ``d``
    levels: entries of ``rho`` at levels ``>= d`` raise a ValueError (truncate and
    renormalise the state first). Its marginals are ``tau_d``, at trace distance ``q^d``
    from ``tau`` (``thermal_distance``).

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> round(egamma_fock(phi_plus(3), 1.0, 3).negativity, 4)
    0.1801
    """
    q = _q(beta, omega)
    gamma = egamma_gamma(beta, d, omega=omega)
    if gamma == 0:
        raise NoEPLTError(
            f"beta * omega = {float(beta) * float(omega):g}: q = exp(-beta omega) underflows to 0, "
            "tau is pure, gamma_d = 0 and no EPLT exists"
        )
    st = _as_nn(rho)
    if st.n > d:
        outside = np.abs(st.populations[d:, :]).sum() + np.abs(st.populations[:, d:]).sum()
        if outside > 1e-12:
            raise ValueError(
                f"rho has weight {outside:.3g} on levels >= d = {d}; truncate it to the cutoff d"
            )
    S, _, t = st._sums(d)
    F = S[d - 1] / d
    p = (1 - q) * q ** np.arange(d) / (1 - q**d)
    om = (p - gamma / d) / (1 - gamma) if gamma < 1 else np.full(d, 1 / d)
    om = om.clip(0) / om.clip(0).sum()
    eye = np.eye(d)
    C = gamma * (F / d + (t - F) * (eye - 1 / d) / (d * d - 1)) + (1 - gamma) * t * np.diag(om**2)
    P = gamma * np.real(t - F) / (d * d - 1) + (1 - gamma) * np.real(t) * np.outer(om, om)
    P[np.arange(d), np.arange(d)] = np.real(np.diag(C))
    out = NNState(C, P)
    return FockChannelOutput(
        state=out,
        cutoff=int(d),
        negativity=out.negativity(),
        negativity_error=0.0,
        weight_dropped=0.0,
        thermal_distance=float(q**d),
    )


def tfd_negativity(beta: float, *, omega: float = 1.0) -> float:
    r"""The any-LT ceiling ``sqrt(q)/(1 - sqrt(q))``: the thermofield double's negativity.

    Every output of a locally thermalizing channel has marginals ``tau``; among such
    states the thermofield double has the largest negativity
    (:func:`eplt.dynamics.thermofield.any_lt_negativity_bound`,
    ``((Tr sqrt tau)^2 - 1)/2 = sqrt(q)/(1 - sqrt(q))``), computed by
    :func:`eplt.dynamics.thermofield.any_lt_negativity_geometric` at ``r = sqrt(q)``.

    Examples
    --------
    >>> round(tfd_negativity(1.0), 6)
    1.541494
    """
    return any_lt_negativity_geometric(math.sqrt(_q(beta, omega)))

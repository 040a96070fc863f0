r"""The EPLT protocols of Hsieh, Lostaglio and Acín (arXiv:1904.07945): E_gamma for two
qudits and E_gamma^GHZ for n qubits, and local channels with LOSR products.

``E_gamma(rho) = gamma T(rho) + (1 - gamma) omega_A (x) omega_B``, ``gamma = d p_min``,
``omega_X = (tau_X - gamma I/d) / (1 - gamma)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from ._memory import check_bytes
from .twirls import (
    KRAUS_ATOL,
    _ghz_twirl_array,
    _is_prime,
    _iso_twirl_array,
    _superop_from_map,
    clifford_group,
    haar_unitary,
)

__all__ = [
    "EPLTChannel",
    "GHZEPLTChannel",
    "LocalChannel",
    "NoEPLTError",
    "eplt_channel",
    "ghz_eplt_channel",
    "product_channel",
]

#: A thermal state whose smallest eigenvalue is at most this is treated as rank deficient
#: (zero temperature); ``thermal_state`` reaches it for ``beta * gap > ~32``.
PURE_ATOL = 1e-14


class NoEPLTError(ValueError):
    """E_gamma cannot preserve entanglement because a thermal state is not full rank.

    ``gamma = d p_min`` vanishes when some ``tau`` has a zero eigenvalue, and E_gamma is
    then the product replacement channel ``tau_A (x) tau_B``. If that ``tau`` is *pure*
    (zero temperature, non-degenerate ground state) no entanglement-preserving local
    thermalization exists at all: every locally thermalizing channel outputs the product
    ``tau_A (x) tau_B``. (If it is mixed but rank deficient, an EPLT exists on its
    support; restrict the party to that support.)
    """


def _single_party_state(tau, name: str) -> qutip.Qobj:
    tau = as_density_matrix(tau, name)
    if len(party_dims(tau)) != 1 or tau.shape[0] < 2:
        raise ValueError(
            f"{name} must be a single-party d x d state with d >= 2, got dims {tau.dims}"
        )
    return tau


@dataclass(frozen=True, eq=False)
class LocalChannel:
    r"""A CPTP map of one party, ``X -> sum_k K_k X K_k^†`` (picklable).

    Parameters
    ----------
    kraus : sequence of (d, d) arrays
        Kraus operators with ``sum_k K_k^† K_k = I`` to 1e-10.
    """

    kraus: tuple[np.ndarray, ...]

    def __post_init__(self):
        ks = tuple(np.array(k, dtype=complex) for k in self.kraus)
        if not ks or any(
            k.ndim != 2 or k.shape != ks[0].shape or k.shape[0] != k.shape[1] for k in ks
        ):
            raise ValueError("kraus must be a non-empty sequence of equal square (d, d) arrays")
        err = np.abs(sum(k.conj().T @ k for k in ks) - np.eye(ks[0].shape[0])).max()
        if err > KRAUS_ATOL:
            raise ValueError(
                f"kraus must satisfy sum K^† K = I to {KRAUS_ATOL:g}, deviation {err:.3g}"
            )
        object.__setattr__(self, "kraus", ks)

    @classmethod
    def unitary(cls, U) -> LocalChannel:
        """The unitary channel ``X -> U X U^†``."""
        return cls((U.full() if isinstance(U, qutip.Qobj) else U,))

    @classmethod
    def replacement(cls, omega) -> LocalChannel:
        """The replacement channel ``X -> omega Tr X``, Kraus ``sqrt(l_a) |v_a><j|``."""
        w = omega.full() if isinstance(omega, qutip.Qobj) else np.asarray(omega, dtype=complex)
        lam, V = np.linalg.eigh((w + w.conj().T) / 2)
        d = w.shape[0]
        ks = [
            np.sqrt(l) * np.outer(V[:, a], np.eye(d)[j])
            for a, l in enumerate(lam.clip(0))
            if l > 0
            for j in range(d)
        ]
        return cls(tuple(ks))

    @property
    def d(self) -> int:
        return self.kraus[0].shape[0]

    def __call__(self, x):
        """Apply to an array or Qobj (returned as the same type)."""
        a = x.full() if isinstance(x, qutip.Qobj) else np.asarray(x)
        out = sum(k @ a @ k.conj().T for k in self.kraus)
        return qutip.Qobj(out, dims=x.dims) if isinstance(x, qutip.Qobj) else out

    def superoperator(self) -> qutip.Qobj:
        """Column-stacking superoperator ``sum_k conj(K_k) (x) K_k``."""
        return product_channel(self)

    def __repr__(self) -> str:
        return f"LocalChannel(d={self.d}, n_kraus={len(self.kraus)})"


def product_channel(*channels: LocalChannel) -> qutip.Qobj:
    r"""Superoperator of ``E_1 (x) E_2 (x) ...`` (column stacking, dims ``[d_1..d_n]``)."""
    if not channels or not all(isinstance(c, LocalChannel) for c in channels):
        raise TypeError("channels must be one or more LocalChannel objects")
    dims = [c.d for c in channels]
    n = len(dims)
    S = np.ones((1, 1), dtype=complex)
    for c in channels:
        S = np.kron(S, sum(np.kron(k.conj(), k) for k in c.kraus))  # local index (j, i)
    half = [2 * k for k in range(n)] + [2 * k + 1 for k in range(n)]  # (j1,i1,..) -> (j..,i..)
    local = [d for d in dims for _ in (0, 1)]
    D2 = math.prod(dims) ** 2
    S = S.reshape(local * 2).transpose(half + [2 * n + p for p in half]).reshape(D2, D2)
    return qutip.Qobj(S, dims=[[dims, dims], [dims, dims]], superrep="super")


# ------------------------------------------------------------------------ protocols


def _p_min_checked(tau: qutip.Qobj, name: str) -> float:
    lam = np.linalg.eigvalsh(tau.full())
    if lam[0] <= PURE_ATOL:
        if np.count_nonzero(lam > PURE_ATOL) <= 1:
            raise NoEPLTError(
                f"{name} is pure (smallest eigenvalue {lam[0]:.3g} <= {PURE_ATOL:g}): at zero "
                "temperature with a non-degenerate ground state the thermal state is pure, so "
                "every locally thermalizing channel outputs tau_A (x) tau_B and no "
                "entanglement-preserving local thermalization exists"
            )
        raise NoEPLTError(
            f"{name} is not full rank (smallest eigenvalue {lam[0]:.3g} <= {PURE_ATOL:g}), so "
            "gamma = d p_min = 0 and E_gamma outputs the product tau_A (x) tau_B; restrict the "
            "party to the support of its thermal state"
        )
    return float(lam[0])


def _gamma_omegas(taus: Sequence[qutip.Qobj], names: Sequence[str], d: int):
    p_min = min(_p_min_checked(t, n) for t, n in zip(taus, names, strict=True))
    gamma = min(1.0, d * p_min)
    if gamma >= 1.0 - PURE_ATOL:
        return 1.0, [qutip.qeye(d) / d for _ in taus]
    eye = qutip.qeye(d)
    # omega = (tau - gamma I/d) / (1 - gamma), normalised by its own trace: near infinite
    # temperature 1 - gamma cancels (trace off by 1e-7 at beta = 1e-9), while
    # Tr(tau - gamma I/d) = sum_i (p_i - p_min) is accurate
    omegas = []
    for t in taus:
        X = t.full() - gamma * np.eye(d) / d
        omegas.append(qutip.Qobj(X / np.trace(X).real, dims=eye.dims))
    return gamma, omegas


class _TwirlReplacementMixture:
    """Shared body of the protocols: ``gamma T(x) + (1 - gamma) Tr(x) omega_1 (x) ...``."""

    gamma: float
    _dims: list[int]
    _omega_prod: np.ndarray

    def _twirl(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set(self, omegas: Sequence[qutip.Qobj], **attrs) -> None:
        for name, val in attrs.items():
            object.__setattr__(self, name, val)
        prod = np.ones((1, 1), dtype=complex)
        for w in omegas:
            prod = np.kron(prod, w.full())
        object.__setattr__(self, "_omega_prod", prod)

    def _apply(self, x: np.ndarray) -> np.ndarray:
        tr = np.trace(x, axis1=-2, axis2=-1)[..., None, None]
        return self.gamma * self._twirl(x) + (1 - self.gamma) * tr * self._omega_prod

    def __call__(self, rho: qutip.Qobj) -> qutip.Qobj:
        """The channel applied to a density matrix (or ket) with the channel's party dims."""
        rho = as_density_matrix(rho, "rho")
        if party_dims(rho) != self._dims:
            raise ValueError(f"rho must have dims {self._dims}, got {party_dims(rho)}")
        return qutip.Qobj(self._apply(rho.full()), dims=rho.dims)

    def superoperator(self) -> qutip.Qobj:
        """Column-stacking superoperator with dims ``[[dims, dims], [dims, dims]]``.

        Size ``D^2 x D^2``, ``D = prod(dims)`` (GHZ: ``4^n``; practical for ``n <= 5``).
        """
        return _superop_from_map(self._apply, self._dims)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dims={self._dims}, gamma={self.gamma:.6g})"


@dataclass(frozen=True, eq=False, repr=False)
class EPLTChannel(_TwirlReplacementMixture):
    r"""Entanglement-preserving local thermalization ``E_gamma`` of two qudits.

    ``E_gamma(rho) = gamma T(rho) + (1 - gamma) omega_A (x) omega_B Tr(rho)`` with ``T``
    the :func:`isotropic_twirl`, ``gamma = d p_min`` (``p_min`` the smallest eigenvalue of
    ``tau_A`` and ``tau_B``) and ``omega_X = (tau_X - gamma I/d)/(1 - gamma)``
    (``omega_X = I/d`` when ``gamma = 1``, i.e. both taus are ``I/d``). Its marginals are
    exactly ``tau_A`` and ``tau_B`` for every input, and
    ``<Phi+|E_gamma(rho)|Phi+> = gamma F + (1 - gamma) <Phi+|omega_A (x) omega_B|Phi+>``.
    LOSR: a shared coin picks the twirl (shared random ``U`` on A, ``U*`` on B) with
    probability gamma, else both parties are replaced by ``omega_X``.

    Build with :func:`eplt_channel`. Attributes: ``taus``, ``d``, ``gamma``, ``omega``
    (pair of Qobj). ``__call__(rho)`` needs dims ``[d, d]``.

    Examples
    --------
    >>> import qutip
    >>> from eplt.dynamics.states import phi_plus
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> E = eplt_channel(tau, tau)
    >>> round(E.gamma, 12)
    0.4
    >>> out = E(phi_plus())
    >>> bool((out.ptrace(0) - tau).norm() < 1e-12)
    True
    """

    tau_A: qutip.Qobj
    tau_B: qutip.Qobj
    d: int = field(init=False)
    gamma: float = field(init=False)
    omega: tuple[qutip.Qobj, qutip.Qobj] = field(init=False)

    def __post_init__(self):
        tau_A = _single_party_state(self.tau_A, "tau_A")
        tau_B = _single_party_state(self.tau_B, "tau_B")
        d = tau_A.shape[0]
        if tau_B.shape[0] != d:
            raise ValueError(
                f"tau_A and tau_B must have the same dimension d, got {d} and {tau_B.shape[0]}"
            )
        gamma, omegas = _gamma_omegas([tau_A, tau_B], ["tau_A", "tau_B"], d)
        self._set(
            omegas, tau_A=tau_A, tau_B=tau_B, d=d, gamma=gamma, omega=tuple(omegas), _dims=[d, d]
        )

    @property
    def taus(self) -> tuple[qutip.Qobj, qutip.Qobj]:
        return (self.tau_A, self.tau_B)

    def _twirl(self, x: np.ndarray) -> np.ndarray:
        return _iso_twirl_array(x, self.d)

    def branches(self) -> list[tuple[float, LocalChannel, LocalChannel]]:
        """Finite LOSR decomposition ``[(p, E_A, E_B), ...]`` for prime ``d``.

        One branch ``(gamma/|C|, U, U*)`` per Clifford ``U`` (:func:`clifford_group`) and,
        when ``gamma < 1``, the replacement branch ``(1 - gamma, omega_A, omega_B)``.
        """
        if not _is_prime(self.d):
            raise ValueError(f"branches needs a prime d, got d={self.d}; use sample_branch")
        cl = clifford_group(self.d)
        unitary = LocalChannel.unitary
        out = [(self.gamma / len(cl), unitary(U), unitary(U.conj())) for U in cl]
        if self.gamma < 1:
            out.append((1 - self.gamma, *map(LocalChannel.replacement, self.omega)))
        return out

    def sample_branch(self, rng=None) -> tuple[LocalChannel, LocalChannel]:
        """One LOSR branch: ``(U, U*)`` with Haar ``U`` w.p. gamma, else the replacements.

        ``rng`` is a :class:`numpy.random.Generator` or seed; works for any ``d``.
        """
        rng = np.random.default_rng(rng)
        if rng.random() < self.gamma:
            U = haar_unitary(self.d, rng)
            return LocalChannel.unitary(U), LocalChannel.unitary(U.conj())
        return LocalChannel.replacement(self.omega[0]), LocalChannel.replacement(self.omega[1])


def eplt_channel(tau_A: qutip.Qobj, tau_B: qutip.Qobj) -> EPLTChannel:
    """The protocol E_gamma for thermal states ``tau_A``, ``tau_B`` (see :class:`EPLTChannel`).

    Raises :class:`NoEPLTError` if either tau has a zero eigenvalue (to 1e-14).
    """
    return EPLTChannel(tau_A, tau_B)


@dataclass(frozen=True, eq=False, repr=False)
class GHZEPLTChannel(_TwirlReplacementMixture):
    r"""GHZ version of E_gamma on ``n`` qubits with the same thermal state ``tau`` each.

    ``E(rho) = gamma T_GHZ(rho) + (1 - gamma) omega^(x)n Tr(rho)`` with ``T_GHZ`` the
    :func:`ghz_twirl`, ``gamma = 2 p_min(tau)`` and ``omega = (tau - gamma I/2)/(1 - gamma)``
    (the projector on the larger eigenvector of tau; ``I/2`` if ``tau = I/2``). Every
    marginal is ``tau``; ``<GHZ|E(rho)|GHZ> = gamma F + (1 - gamma) <GHZ|omega^(x)n|GHZ>``,
    which is ``1/2 + gamma (F - 1/2)`` when omega is ``|0><0|``.

    Build with :func:`ghz_eplt_channel`. Attributes: ``tau``, ``n``, ``d = 2``, ``gamma``,
    ``omega`` (single-qubit Qobj). ``__call__(rho)`` needs dims ``[2] * n``.
    """

    tau: qutip.Qobj
    n: int
    d: int = field(init=False, default=2)
    gamma: float = field(init=False)
    omega: qutip.Qobj = field(init=False)

    def __post_init__(self):
        tau = _single_party_state(self.tau, "tau")
        if tau.shape != (2, 2):
            raise ValueError(f"tau must be a single-qubit (2 x 2) state, got shape {tau.shape}")
        n = self.n
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 2:
            raise ValueError(f"n must be an integer >= 2, got {n!r}")
        # the n-qubit output (and omega^(x)n) are dense 2^n x 2^n matrices: refused in one
        # line before they are allocated (a few of them live at once)
        check_bytes(
            4 * 16.0 * 4.0 ** int(n),
            f"ghz_eplt_channel on n = {n} qubits (dense 2^n x 2^n states)",
            "use fewer qubits (eplt.dynamics.permutation handles large symmetric n)",
        )
        gamma, (omega,) = _gamma_omegas([tau], ["tau"], 2)
        self._set([omega] * n, tau=tau, n=int(n), gamma=gamma, omega=omega, _dims=[2] * n)

    def _twirl(self, x: np.ndarray) -> np.ndarray:
        return _ghz_twirl_array(x)

    def branches(self) -> list[tuple]:
        """Finite LOSR decomposition ``[(p, E_1, ..., E_n), ...]``.

        Twirl branches (``2 * 3^(n-1)``, probability ``gamma / (2 * 3^(n-1))`` each): qubit
        ``k`` applies ``X^c diag(1, e^{i theta_k})`` with ``theta_k = 2 pi j_k/3``,
        ``j_1..j_{n-1}`` in ``Z_3``, ``j_n = -sum_k j_k`` and a shared coin ``c in {0, 1}``.
        Then, when ``gamma < 1``, the replacement branch ``(1 - gamma, omega, ..., omega)``.
        """
        flips = [np.eye(2), np.array([[0, 1], [1, 0]])]
        m = 2 * 3 ** (self.n - 1)
        out = []
        for X in flips:
            for js in np.ndindex(*([3] * (self.n - 1))):
                phases = np.exp(2j * np.pi * np.array([*js, -sum(js)]) / 3)
                us = [LocalChannel.unitary(X @ np.diag([1, ph])) for ph in phases]
                out.append((self.gamma / m, *us))
        if self.gamma < 1:
            out.append((1 - self.gamma, *[LocalChannel.replacement(self.omega)] * self.n))
        return out

    def sample_branch(self, rng=None) -> tuple[LocalChannel, ...]:
        """One branch: w.p. gamma uniform phases with zero sum and a fair flip coin."""
        rng = np.random.default_rng(rng)
        if rng.random() < self.gamma:
            theta = rng.uniform(0, 2 * np.pi, self.n - 1)
            theta = np.append(theta, -theta.sum())
            flip = np.array([[0, 1], [1, 0]]) if rng.random() < 0.5 else np.eye(2)
            return tuple(LocalChannel.unitary(flip @ np.diag([1, np.exp(1j * t)])) for t in theta)
        return tuple([LocalChannel.replacement(self.omega)] * self.n)


def ghz_eplt_channel(tau: qutip.Qobj, n: int) -> GHZEPLTChannel:
    """The GHZ protocol on ``n`` qubits with thermal state ``tau`` (see :class:`GHZEPLTChannel`)."""
    return GHZEPLTChannel(tau, n)


# ------------------------------------------------------------------ channel checks

r"""E_gamma with a finite twirl: the Pauli (Weyl-Heisenberg) 1-design, and shared-bit counts.

The isotropic twirl in E_gamma needs a unitary 2-design (24 single-qubit Cliffords). For
**local thermalization** a 1-design is enough: with the Weyl-Heisenberg operators
``U_ab = X^a Z^b`` (``X|j> = |j+1 mod d>``, ``Z|j> = w^j |j>``, ``w = e^{2 pi i/d}``; for
qubits the Paulis ``I, Z, X, XZ = -iY``),

    T_P(rho) = (1/d^2) sum_ab (U_ab (x) U_ab^*) rho (U_ab (x) U_ab^*)^†

has marginals ``Tr_B T_P(rho) = (1/d^2) sum_ab U_ab rho_A U_ab^† = I/d`` for every input
(the ``U_ab`` form a unitary error basis), and likewise for B, so

    E_P(rho) = gamma T_P(rho) + (1 - gamma) omega_A (x) omega_B Tr(rho)

with E_gamma's ``gamma = d p_min`` and ``omega_X = (tau_X - gamma I/d)/(1 - gamma)`` is exactly
LT and LOSR: a shared coin (bias gamma) and, on heads, ``2 log2 d`` shared bits choosing
``(a, b)``; A applies ``U_ab``, B applies ``U_ab^*`` (the complex conjugate, so that
``U (x) U^*`` fixes ``Phi+``). ``(U_ab (x) U_ab^*)(U_cd (x) I)|Phi+> = (U_ab U_cd U_ab^† (x) I)
|Phi+>`` and ``U_ab U_cd U_ab^† = w^{..} U_cd``, so every generalized Bell state
``(U_cd (x) I)|Phi+>`` is a fixed point of ``T_P``: ``E_P`` keeps all ``d^2`` of them
(``E_P(B) = gamma B + (1 - gamma) omega_A (x) omega_B``), whereas the isotropic twirl maps every
Bell state other than ``Phi+`` to a state with ``F = 0`` (separable). On ``Phi+`` the two
protocols agree exactly.

Conventions as :mod:`eplt.dynamics.channels` (column-stacking superoperators, qutip ``super``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from .channels import EPLTChannel, LocalChannel, clifford_group, eplt_channel
from .measures import binary_entropy as _h2

__all__ = [
    "PauliEPLTChannel",
    "SharedRandomness",
    "pauli_eplt_channel",
    "shared_randomness",
    "weyl_heisenberg",
]


def weyl_heisenberg(d: int) -> list[np.ndarray]:
    r"""The ``d^2`` operators ``X^a Z^b`` (``a``-major order), a unitary error basis.

    ``Tr(U_ab^† U_cd) = d delta_ac delta_bd``; ``(1/d^2) sum U X U^† = Tr(X) I/d``.

    Examples
    --------
    >>> ops = weyl_heisenberg(2)        # I, Z, X, XZ
    >>> len(ops), bool(abs(ops[3][0, 1] + 1) < 1e-12)
    (4, True)
    """
    if not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d!r}")
    X = np.roll(np.eye(d), 1, axis=0)
    Z = np.diag(np.exp(2j * np.pi * np.arange(d) / d))
    return [
        np.linalg.matrix_power(X, a) @ np.linalg.matrix_power(Z, b)
        for a in range(d)
        for b in range(d)
    ]


@dataclass(frozen=True, eq=False, repr=False)
class PauliEPLTChannel:
    r"""E_gamma with the Pauli (Weyl-Heisenberg) twirl: ``gamma T_P + (1 - gamma) omega_A (x) omega_B``.

    Same ``gamma``, ``omega`` and marginals (exactly ``tau_A``, ``tau_B``) as
    :class:`eplt.dynamics.channels.EPLTChannel`, and the same output on ``Phi+``; it needs ``d^2``
    twirl unitaries instead of a 2-design and keeps every generalized Bell state (see the
    module docstring). Build with :func:`pauli_eplt_channel`.

    Attributes: ``tau_A``, ``tau_B``, ``d``, ``gamma``, ``omega`` (pair), ``unitaries``.

    Examples
    --------
    >>> import qutip
    >>> from eplt.dynamics.states import bell_state
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> E = pauli_eplt_channel(tau, tau)
    >>> out = E(bell_state("11"))                        # Psi- survives
    >>> round(qutip.expect(bell_state("11"), out), 12)
    0.4
    """

    tau_A: qutip.Qobj
    tau_B: qutip.Qobj
    d: int = field(init=False)
    gamma: float = field(init=False)
    omega: tuple[qutip.Qobj, qutip.Qobj] = field(init=False)
    unitaries: tuple[np.ndarray, ...] = field(init=False)

    def __post_init__(self):
        ref = eplt_channel(self.tau_A, self.tau_B)  # validates; NoEPLTError when tau is pure
        set_ = object.__setattr__
        set_(self, "tau_A", ref.tau_A)
        set_(self, "tau_B", ref.tau_B)
        set_(self, "d", ref.d)
        set_(self, "gamma", ref.gamma)
        set_(self, "omega", ref.omega)
        set_(self, "unitaries", tuple(weyl_heisenberg(ref.d)))
        set_(self, "_omega_prod", np.kron(ref.omega[0].full(), ref.omega[1].full()))
        set_(self, "_pairs", [np.kron(U, U.conj()) for U in self.unitaries])

    @property
    def taus(self) -> tuple[qutip.Qobj, qutip.Qobj]:
        return (self.tau_A, self.tau_B)

    def _apply(self, x: np.ndarray) -> np.ndarray:
        tw = sum(V @ x @ V.conj().T for V in self._pairs) / len(self._pairs)
        return self.gamma * tw + (1 - self.gamma) * np.trace(x) * self._omega_prod

    def __call__(self, rho: qutip.Qobj) -> qutip.Qobj:
        """The channel applied to a density matrix (or ket) with dims ``[d, d]``."""
        rho = as_density_matrix(rho, "rho")
        if party_dims(rho) != [self.d, self.d]:
            raise ValueError(f"rho must have dims {[self.d, self.d]}, got {party_dims(rho)}")
        return qutip.Qobj(self._apply(rho.full()), dims=rho.dims)

    def superoperator(self) -> qutip.Qobj:
        """Column-stacking superoperator, dims ``[[[d, d], [d, d]], [[d, d], [d, d]]]``."""
        D = self.d**2
        S = sum(np.kron(V.conj(), V) for V in self._pairs) * (self.gamma / len(self._pairs))
        S = S + (1 - self.gamma) * np.outer(
            self._omega_prod.reshape(-1, order="F"), np.eye(D).reshape(-1, order="F")
        )
        dims = [self.d, self.d]
        return qutip.Qobj(S, dims=[[dims, dims], [dims, dims]], superrep="super")

    def branches(self) -> list[tuple[float, LocalChannel, LocalChannel]]:
        """LOSR decomposition ``[(gamma/d^2, U_ab, U_ab^*), ..., (1 - gamma, omega_A, omega_B)]``."""
        n = len(self.unitaries)
        unitary = LocalChannel.unitary
        out = [(self.gamma / n, unitary(U), unitary(U.conj())) for U in self.unitaries]
        if self.gamma < 1:
            out.append((1 - self.gamma, *map(LocalChannel.replacement, self.omega)))
        return out

    def sample_branch(self, rng=None) -> tuple[LocalChannel, LocalChannel]:
        """One branch: w.p. gamma a uniform ``U_ab`` (A) and ``U_ab^*`` (B), else the replacements."""
        rng = np.random.default_rng(rng)
        if rng.random() < self.gamma:
            U = self.unitaries[rng.integers(len(self.unitaries))]
            return LocalChannel.unitary(U), LocalChannel.unitary(U.conj())
        return LocalChannel.replacement(self.omega[0]), LocalChannel.replacement(self.omega[1])

    def fixed_states(self) -> list[qutip.Qobj]:
        """The ``d^2`` generalized Bell kets ``(U_ab (x) I)|Phi+>``, all fixed by ``T_P``."""
        d = self.d
        phi = np.eye(d).reshape(-1) / np.sqrt(d)
        return [
            qutip.Qobj(np.kron(U, np.eye(d)) @ phi, dims=[[d, d], [1, 1]]) for U in self.unitaries
        ]

    def __repr__(self) -> str:
        return f"PauliEPLTChannel(d={self.d}, gamma={self.gamma:.6g})"


def pauli_eplt_channel(tau_A: qutip.Qobj, tau_B: qutip.Qobj) -> PauliEPLTChannel:
    """E_gamma with the Weyl-Heisenberg (for qubits Pauli) twirl; see :class:`PauliEPLTChannel`.

    Raises :class:`eplt.dynamics.channels.NoEPLTError` when a thermal state is not full rank.
    """
    return PauliEPLTChannel(tau_A, tau_B)


@dataclass(frozen=True)
class SharedRandomness:
    r"""Shared random bits one use of a coin-plus-twirl protocol consumes.

    Attributes
    ----------
    unitaries : int
        Number of twirl unitaries (24 Cliffords for a qubit E_gamma; ``d^2`` for the Pauli twirl).
    unitary_bits : float
        ``log2(unitaries)``, spent on the twirl branch only.
    coin_bits : float
        Shannon entropy ``h(gamma)`` of the biased coin choosing twirl vs replacement.
    entropy : float
        Entropy of the branch label, ``h(gamma) + gamma log2(unitaries)``: the shared bits per
        use in the asymptotic (compressed) sense.
    worst_case_bits : float
        ``log2(unitaries) + h(gamma)``: the twirl branch's label plus the coin.
    """

    unitaries: int
    unitary_bits: float
    coin_bits: float
    entropy: float
    worst_case_bits: float


def shared_randomness(channel) -> SharedRandomness:
    r"""Shared bits of :class:`eplt.dynamics.channels.EPLTChannel` (Clifford branches; prime ``d``)
    or :class:`PauliEPLTChannel`.

    E_gamma with the 24 single-qubit Cliffords: ``log2(24) = 4.585`` bits plus the coin; the
    Pauli twirl: 2 bits plus the coin.

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> from eplt.dynamics.channels import eplt_channel
    >>> round(shared_randomness(eplt_channel(tau, tau)).unitary_bits, 4)
    4.585
    >>> shared_randomness(pauli_eplt_channel(tau, tau)).unitary_bits
    2.0
    """
    if isinstance(channel, PauliEPLTChannel):
        n = len(channel.unitaries)
    elif isinstance(channel, EPLTChannel):
        n = len(clifford_group(channel.d))  # ValueError for non-prime d
    else:
        raise TypeError(
            f"channel must be an EPLTChannel or PauliEPLTChannel, got {type(channel).__name__}"
        )
    g = float(channel.gamma)
    ub = math.log2(n)
    h = _h2(g)
    return SharedRandomness(
        unitaries=n, unitary_bits=ub, coin_bits=h, entropy=h + g * ub, worst_case_bits=ub + h
    )

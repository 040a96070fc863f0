r"""Explicit LOSR local thermalizations that beat E_gamma: twirl + amplitude damping, its
GHZ version for n qubits, and E_gamma with a correlated reset.

All taus are diagonal (thermal states in the energy eigenbasis, ground state ``|0>``);
``Phi+ = sum_i |ii>/sqrt(d)`` and ``GHZ = (|0..0> + |1..1>)/sqrt 2`` in that basis.
hbar = k_B = 1; superoperators follow QuTiP (column stacking, ``superrep='super'``).

**Twirl + amplitude damping** (two qubits, :func:`twirl_amplitude_damping`). Let ``p_h >= p_c``
be the excited populations of the hotter and the colder party. A shared coin with bias
``g = 2 p_h`` chooses: heads, the shared isotropic twirl ``U (x) U*`` (24 Cliffords), then
amplitude damping ``AD_eta`` (Kraus ``|0><0| + sqrt(eta)|1><1|``, ``sqrt(1 - eta)|0><1|``)
with ``eta = p_c/p_h`` on the colder party; tails, both parties reset to ``|0>``. The
hot marginal is ``g I/2 + (1 - g)|0><0|`` (excited ``p_h``), the cold one has excited
population ``g eta/2 = p_c``: exactly LT for every input. Closed forms:

    <Phi+|E(Phi+)|Phi+> = 1/2 + (p_c - p_h)/2 + sqrt(p_c p_h),
    N(E(Phi+)) = p_c,     C(E(Phi+)) = 2 sqrt(p_c p_h),

against E_gamma's overlap ``3 p_c/2 + (1 - p_h)/2`` (``gamma = 2 p_c``). They coincide for
equal taus. As dynamics: ``AD_eta`` is a zero-temperature bath of rate ``G`` stopped at
``t = ln(1/eta)/G``.

**GHZ twirl + amplitude damping** (n qubits, :func:`ghz_twirl_amplitude_damping`):
``g = 2 p_hot`` (the hottest party), the GHZ twirl (:func:`eplt.dynamics.channels.ghz_twirl`),
then ``AD_{eta_k}``, ``eta_k = p_k/p_hot`` on each party; else all reset to ``|0>``.
``<GHZ|E(GHZ)|GHZ> = g (1 + prod eta_k + 2 prod sqrt(eta_k))/4 + (1 - g)/2``.

**E_gamma with a correlated reset** (two qudits, :func:`correlated_reset_eplt`): E_gamma's
replacement branch ``omega_A (x) omega_B`` is swapped for the classically correlated state
``sum_ij q_ij |ij><ij|`` with the same marginals, ``q`` the maximal coupling
(``q_ii = min(omega_A,i, omega_B,i)``, the rest a product of the residuals); for equal taus
``sum_i omega_i |ii><ii|``. Same marginals, so exactly LT; on ``Phi+``
``gamma + (1 - gamma) sum_i min(omega_A,i, omega_B,i)/d`` instead of
``gamma + (1 - gamma) sum_i omega_A,i omega_B,i/d``.

Shared randomness: every protocol is a finite mixture of product branches
(:meth:`BranchProtocol.branches`); :attr:`BranchProtocol.shared_bits` is the Shannon entropy
(bits) of the branch label, the shared random bits one use consumes (asymptotically).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from ._checks import single_party_array as _single
from .eplt import LocalChannel, NoEPLTError, product_channel
from .twirls import _ghz_twirl_array, _iso_twirl_array, _superop_from_map, clifford_group

__all__ = [
    "BranchProtocol",
    "correlated_reset_eplt",
    "damping_time",
    "ghz_twirl_amplitude_damping",
    "maximal_coupling",
    "twirl_amplitude_damping",
]

#: A tau is "diagonal" when its off-diagonal entries are below this.
DIAG_ATOL = 1e-12
#: Smallest excited population accepted (below: pure thermal state, no EPLT).
PURE_ATOL = 1e-14


@dataclass(frozen=True, eq=False)
class BranchProtocol:
    r"""An LOSR channel ``E = sum_l p_l (x)_k E_k^l`` (k = 1..n) given in closed form.

    Attributes
    ----------
    name : str
        Protocol name.
    taus : tuple of Qobj
        Thermal state of each party (exactly the output marginals, for every input).
    dims : list of int
        Local dimensions.
    """

    name: str
    taus: tuple
    dims: list
    _apply_fn: object
    _branch_fn: object

    def _apply(self, x: np.ndarray) -> np.ndarray:
        return self._apply_fn(x)

    def __call__(self, rho: qutip.Qobj) -> qutip.Qobj:
        """The channel applied to a density matrix (or ket) with dims :attr:`dims`."""
        rho = as_density_matrix(rho, "rho")
        if party_dims(rho) != self.dims:
            raise ValueError(f"rho must have dims {self.dims}, got {party_dims(rho)}")
        return qutip.Qobj(self._apply(rho.full()[None])[0], dims=rho.dims)

    def superoperator(self) -> qutip.Qobj:
        """Column-stacking superoperator (``superrep='super'``), dims ``[[dims, dims], ...]``."""
        return _superop_from_map(self._apply, self.dims)

    def branches(self) -> list[tuple]:
        """Finite LOSR decomposition ``[(p, E_1, ..., E_n), ...]`` (:class:`LocalChannel`)."""
        return self._branch_fn()

    @property
    def shared_bits(self) -> float:
        """Shannon entropy (bits) of the branch label: shared random bits per use."""
        p = np.array([b[0] for b in self.branches()])
        p = p[p > 0]
        return float(-(p * np.log2(p)).sum())

    def branch_superoperator(self) -> qutip.Qobj:
        """``sum_l p_l E_1^l (x) ...`` built from :meth:`branches` (a check of the closed form)."""
        return sum(p * product_channel(*chs) for p, *chs in self.branches())

    def __repr__(self) -> str:
        return f"BranchProtocol({self.name!r}, dims={self.dims})"


def _diag_tau(t, name: str, d: int | None = None) -> np.ndarray:
    a = _single(t, name)
    if d is not None and a.shape[0] != d:
        raise ValueError(f"{name} must be {d} x {d}, got {a.shape}")
    if np.abs(a - np.diag(np.diag(a))).max() > DIAG_ATOL:
        raise ValueError(f"{name} must be diagonal (a thermal state in its energy eigenbasis)")
    return np.diag(a).real.copy()


def _qubit_excited(t, name: str) -> float:
    p = _diag_tau(t, name, 2)
    if p[1] > p[0] + 1e-15:
        raise ValueError(
            f"{name} must have its ground state |0> at least as populated as |1> "
            f"(beta >= 0), got populations {p[0]:.6g}, {p[1]:.6g}"
        )
    if p[1] <= PURE_ATOL:
        raise NoEPLTError(
            f"{name} is pure (excited population {p[1]:.3g}): no entanglement-preserving "
            "local thermalization exists"
        )
    return float(p[1])


def damping_time(eta: float, rate: float) -> float:
    r"""Stopping time ``t = ln(1/eta)/rate`` at which a zero-temperature bath (jump
    ``sqrt(rate) sigma-``, ``sigma- = |0><1|``) has applied amplitude damping ``AD_eta``.

    The damping step of :func:`twirl_amplitude_damping` as dynamics: the bath acts on the
    colder party after the twirl and is switched off at this fixed time, the same for every
    input (the protocol's timing never depends on the input).

    Examples
    --------
    >>> round(damping_time(0.5, 2.0), 12)       # ln 2 / 2
    0.34657359028
    """
    if not (0 < eta <= 1):
        raise ValueError(f"eta must be in (0, 1], got {eta!r}")
    if not rate > 0:
        raise ValueError(f"rate must be > 0, got {rate!r}")
    return float(math.log(1 / eta) / rate)


def _ad_kraus(eta: float) -> list[np.ndarray]:
    return [np.diag([1.0, math.sqrt(eta)]), np.array([[0, math.sqrt(1 - eta)], [0, 0]])]


def _local(x: np.ndarray, dims: Sequence[int], k: int, kraus) -> np.ndarray:
    """Apply ``sum_j K_j . K_j^†`` on party ``k`` of a stack ``(m, D, D)``."""
    n = len(dims)
    m = x.shape[0]
    t = x.reshape(m, *dims, *dims)
    out = 0
    for K in kraus:
        u = np.moveaxis(np.tensordot(K, t, axes=([1], [1 + k])), 0, 1 + k)
        u = np.moveaxis(np.tensordot(u, K.conj(), axes=([1 + n + k], [1])), -1, 1 + n + k)
        out = out + u
    D = math.prod(dims)
    return out.reshape(m, D, D)


def _ground_product(n: int) -> np.ndarray:
    g = np.zeros((2**n, 2**n), dtype=complex)
    g[0, 0] = 1
    return g


def twirl_amplitude_damping(tau_A: qutip.Qobj, tau_B: qutip.Qobj) -> BranchProtocol:
    r"""Twirl + amplitude damping for two qubits at unequal temperatures (module docstring).

    ``E(rho) = g (id (x) AD_eta)(T(rho)) + (1 - g)|00><00| Tr rho`` (damping on the colder
    party; on A when A is colder), ``g = 2 p_h``, ``eta = p_c/p_h``, ``T`` the isotropic
    twirl. Branches: 24 Clifford pairs ``(U, AD_eta U)`` (or ``(AD_eta U, U*)``) with
    probability ``g/24`` each and the reset branch.

    Parameters
    ----------
    tau_A, tau_B : Qobj
        Diagonal qubit thermal states, ground ``|0>`` at least as populated.

    Raises
    ------
    NoEPLTError
        If a tau is pure (zero temperature).

    Examples
    --------
    >>> import qutip
    >>> from eplt.dynamics.measures import phi_plus_overlap
    >>> from eplt.dynamics.states import phi_plus
    >>> E = twirl_amplitude_damping(qutip.Qobj([[0.9, 0], [0, 0.1]]), qutip.Qobj([[0.6, 0], [0, 0.4]]))
    >>> round(phi_plus_overlap(E(phi_plus())), 12)     # 1/2 + (0.1 - 0.4)/2 + sqrt(0.04)
    0.55
    """
    pA, pB = _qubit_excited(tau_A, "tau_A"), _qubit_excited(tau_B, "tau_B")
    cold = 0 if pA < pB else 1
    p_h, p_c = max(pA, pB), min(pA, pB)
    g, eta = min(1.0, 2 * p_h), p_c / p_h
    K = _ad_kraus(eta)
    reset = _ground_product(2)

    def apply(x):
        tr = np.trace(x, axis1=-2, axis2=-1)[:, None, None]
        return g * _local(_iso_twirl_array(x, 2), [2, 2], cold, K) + (1 - g) * tr * reset

    def branches():
        ad = LocalChannel(tuple(K))
        out = []
        for U in clifford_group(2):
            pair = [(U,), (U.conj(),)]
            pair[cold] = tuple(k @ pair[cold][0] for k in ad.kraus)
            out.append((g / 24, LocalChannel(pair[0]), LocalChannel(pair[1])))
        if g < 1:
            r = LocalChannel.replacement(np.diag([1.0, 0.0]))
            out.append((1 - g, r, r))
        return out

    taus = (qutip.Qobj(np.diag([1 - pA, pA])), qutip.Qobj(np.diag([1 - pB, pB])))
    return BranchProtocol("twirl + amplitude damping", taus, [2, 2], apply, branches)


def ghz_twirl_amplitude_damping(taus: Sequence[qutip.Qobj]) -> BranchProtocol:
    r"""GHZ twirl + amplitude damping for ``n >= 2`` qubits (module docstring).

    ``E(rho) = g (AD_{eta_1} (x) ... (x) AD_{eta_n})(T_GHZ(rho)) + (1 - g)|0..0><0..0| Tr rho``,
    ``g = 2 p_hot``, ``eta_k = p_k/p_hot``; marginals exactly ``tau_k`` for every input and
    ``<GHZ|E(GHZ)|GHZ> = g (1 + prod eta_k + 2 prod sqrt(eta_k))/4 + (1 - g)/2``. Branches:
    the ``2 * 3^(n-1)`` GHZ-twirl branches of
    :meth:`eplt.dynamics.channels.GHZEPLTChannel.branches` followed by the dampings, and
    the reset.

    Examples
    --------
    >>> import qutip
    >>> from eplt.dynamics.measures import ghz_fidelity
    >>> from eplt.dynamics.states import ghz_state
    >>> t = lambda p: qutip.Qobj([[1 - p, 0], [0, p]])
    >>> E = ghz_twirl_amplitude_damping([t(0.2), t(0.2), t(0.2)])
    >>> round(ghz_fidelity(E(ghz_state(3))), 12)        # 1/2 + g/4, g = 0.4
    0.7
    """
    if isinstance(taus, qutip.Qobj) or len(taus) < 2:
        raise ValueError("taus must be a sequence of at least two qubit thermal states")
    ps = [_qubit_excited(t, f"taus[{k}]") for k, t in enumerate(taus)]
    n = len(ps)
    p_hot = max(ps)
    g = min(1.0, 2 * p_hot)
    etas = [p / p_hot for p in ps]
    Ks = [_ad_kraus(e) for e in etas]
    reset = _ground_product(n)
    dims = [2] * n

    def apply(x):
        tr = np.trace(x, axis1=-2, axis2=-1)[:, None, None]
        y = _ghz_twirl_array(x)
        for k in range(n):
            if etas[k] < 1:
                y = _local(y, dims, k, Ks[k])
        return g * y + (1 - g) * tr * reset

    def branches():
        m = 2 * 3 ** (n - 1)
        out = []
        for X in (np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]])):
            for js in np.ndindex(*([3] * (n - 1))):
                ph = np.exp(2j * np.pi * np.array([*js, -sum(js)]) / 3)
                chans = [
                    LocalChannel(tuple(K @ X @ np.diag([1, f]) for K in Ks[k]))
                    for k, f in enumerate(ph)
                ]
                out.append((g / m, *chans))
        if g < 1:
            out.append((1 - g, *[LocalChannel.replacement(np.diag([1.0, 0.0]))] * n))
        return out

    tq = tuple(qutip.Qobj(np.diag([1 - p, p])) for p in ps)
    return BranchProtocol("GHZ twirl + amplitude damping", tq, dims, apply, branches)


def maximal_coupling(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Joint distribution with marginals ``a``, ``b`` and the largest diagonal
    ``q_ii = min(a_i, b_i)``; the remaining mass is the product of the residuals."""
    m = np.minimum(a, b)
    q = np.diag(m)
    rest = 1 - m.sum()
    if rest > 1e-15:
        q = q + np.outer(a - m, b - m) / rest
    return q


def correlated_reset_eplt(tau_A: qutip.Qobj, tau_B: qutip.Qobj) -> BranchProtocol:
    r"""E_gamma with the correlated reset ``sum_ij q_ij |ij><ij|`` (module docstring).

    ``E(rho) = gamma T(rho) + (1 - gamma) sum_ij q_ij |ij><ij| Tr rho``, ``gamma = d p_min``,
    ``q`` the maximal coupling of ``omega_A = (tau_A - gamma I/d)/(1 - gamma)`` and
    ``omega_B``. Branches (prime ``d``): the Clifford pairs ``(U, U*)`` (probability
    ``gamma/|C|``) and one branch ``(|i><i|, |j><j|)`` per ``q_ij > 0`` (replacements).

    Examples
    --------
    >>> import qutip
    >>> from eplt.dynamics.measures import phi_plus_overlap
    >>> from eplt.dynamics.states import phi_plus
    >>> tau = qutip.Qobj(qutip.qdiags([0.6, 0.3, 0.1], 0).full())
    >>> E = correlated_reset_eplt(tau, tau)       # gamma = 0.3, omega = (5, 2, 0)/7
    >>> round(phi_plus_overlap(E(phi_plus(3))), 12)   # 0.3 + 0.7 (1/3)
    0.533333333333
    """
    a, b = _diag_tau(tau_A, "tau_A"), _diag_tau(tau_B, "tau_B")
    d = a.size
    if b.size != d:
        raise ValueError(f"tau_A and tau_B must have the same dimension, got {d} and {b.size}")
    p_min = min(a.min(), b.min())
    if p_min <= PURE_ATOL:
        raise NoEPLTError(
            f"a thermal state is not full rank (smallest population {p_min:.3g}): gamma = 0 "
            "and no entanglement-preserving local thermalization of this form exists"
        )
    gamma = min(1.0, d * p_min)
    if gamma < 1:
        wa, wb = (a - gamma / d) / (1 - gamma), (b - gamma / d) / (1 - gamma)
        wa, wb = np.clip(wa, 0, None), np.clip(wb, 0, None)
        q = maximal_coupling(wa / wa.sum(), wb / wb.sum())
    else:
        q = np.eye(d) / d
    reset = np.diag(q.reshape(-1)).astype(complex)

    def apply(x):
        tr = np.trace(x, axis1=-2, axis2=-1)[:, None, None]
        return gamma * _iso_twirl_array(x, d) + (1 - gamma) * tr * reset

    def branches():
        cl = clifford_group(d)  # ValueError for non-prime d
        U = LocalChannel.unitary
        out = [(gamma / len(cl), U(u), U(u.conj())) for u in cl]
        if gamma < 1:
            e = np.eye(d)
            for i, j in zip(*np.nonzero(q > 0)):
                out.append(
                    (
                        (1 - gamma) * q[i, j],
                        LocalChannel.replacement(np.diag(e[i])),
                        LocalChannel.replacement(np.diag(e[j])),
                    )
                )
        return out

    taus = (qutip.Qobj(np.diag(a)), qutip.Qobj(np.diag(b)))
    return BranchProtocol("E_gamma, correlated reset", taus, [d, d], apply, branches)

r"""Twirls, the EPLT protocol E_gamma and checks on channels given as superoperators.

Conventions
-----------
* ``Phi+ = sum_i |ii> / sqrt(d)``; ``GHZ = (|0...0> + |1...1>) / sqrt(2)``.
* Superoperators are qutip ``super`` Qobj in qutip's **column-stacking** convention:
  ``vec(X)[j*D + i] = X[i, j]`` (:func:`qutip.operator_to_vector`), so
  ``vec(A X B) = (B^T (x) A) vec(X)`` and ``E(rho) = vector_to_operator(S @ vec(rho))``.
  Party dims are read from ``S.dims`` (``[[out, out], [in, in]]``).
* Choi matrix, **input first**: ``J = sum_ij |i><j| (x) E(|i><j|)`` on ``H_in (x) H_out``
  (qutip's :func:`qutip.to_choi` uses the same order). E is CP iff ``J >= 0`` and trace
  preserving iff ``Tr_out J = I_in``.
* A *local channel* is a :class:`LocalChannel` (Kraus operators of one party); an LOSR
  decomposition is a list of branches ``(p, E_1, ..., E_n)`` with
  ``E = sum_l p_l E_1^l (x) ... (x) E_n^l``.

The protocol is that of Hsieh, Lostaglio and Acín, "Entanglement preserving local
thermalization", Phys. Rev. Research 2, 013379 (2020), arXiv:1904.07945.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import qutip
import scipy.optimize

from ._checks import as_density_matrix, party_dims

__all__ = [
    "EPLTChannel",
    "GHZEPLTChannel",
    "LocalChannel",
    "NoEPLTError",
    "choi_matrix",
    "clifford_group",
    "clifford_twirl",
    "eplt_channel",
    "find_entangled_output",
    "ghz_eplt_channel",
    "ghz_twirl",
    "is_cptp",
    "is_locally_thermalizing",
    "isotropic_twirl",
    "product_channel",
    "unitary_twirl",
]

#: A thermal state whose smallest eigenvalue is at most this is treated as rank deficient
#: (zero temperature); ``thermal_state`` reaches it for ``beta * gap > ~32``.
PURE_ATOL = 1e-14
#: Tolerance on ``sum_k K_k^† K_k = I`` and on unitarity of user-given matrices.
KRAUS_ATOL = 1e-10


class NoEPLTError(ValueError):
    """E_gamma cannot preserve entanglement because a thermal state is not full rank.

    ``gamma = d p_min`` vanishes when some ``tau`` has a zero eigenvalue, and E_gamma is
    then the product replacement channel ``tau_A (x) tau_B``. If that ``tau`` is *pure*
    (zero temperature, non-degenerate ground state) no entanglement-preserving local
    thermalization exists at all: every locally thermalizing channel outputs the product
    ``tau_A (x) tau_B``. (If it is mixed but rank deficient, an EPLT exists on its
    support; restrict the party to that support.)
    """


# --------------------------------------------------------------------------- helpers


def _as_operator(rho, name: str) -> qutip.Qobj:
    """A square operator Qobj (kets become projectors); twirls are linear maps."""
    if not isinstance(rho, qutip.Qobj):
        raise TypeError(f"{name} must be a qutip.Qobj (ket or operator), got {type(rho).__name__}")
    if rho.isket:
        rho = qutip.ket2dm(rho)
    if not rho.isoper or rho.shape[0] != rho.shape[1]:
        raise ValueError(f"{name} must be a square operator or a ket, got shape {rho.shape}")
    return rho


def _two_qudit_dim(rho: qutip.Qobj, name: str) -> int:
    dims = party_dims(rho)
    if len(dims) != 2 or dims[0] != dims[1] or dims[0] < 2:
        raise ValueError(f"{name} must have dims [d, d] with d >= 2 (two equal qudits), got {dims}")
    return dims[0]


def _single_party_state(tau, name: str) -> qutip.Qobj:
    tau = as_density_matrix(tau, name)
    if len(party_dims(tau)) != 1 or tau.shape[0] < 2:
        raise ValueError(
            f"{name} must be a single-party d x d state with d >= 2, got dims {tau.dims}"
        )
    return tau


def _is_prime(d: int) -> bool:
    return d >= 2 and all(d % p for p in range(2, math.isqrt(d) + 1))


def _haar_unitary(d: int, rng: np.random.Generator) -> np.ndarray:
    z = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _superop_from_map(f: Callable[[np.ndarray], np.ndarray], dims: Sequence[int]) -> qutip.Qobj:
    """Column-stacking superoperator of a linear map ``f`` acting on stacks ``(m, D, D)``."""
    dims = [int(x) for x in dims]
    D = math.prod(dims)
    basis = np.eye(D * D, dtype=complex).reshape(D * D, D, D)  # basis[i*D + j] = |i><j|
    out = f(basis)
    rows = out.transpose(0, 2, 1).reshape(D, D, D * D)  # [i, j] -> vec_col(f(|i><j|))
    S = rows.transpose(1, 0, 2).reshape(D * D, D * D).T  # column j*D + i
    return qutip.Qobj(S, dims=[[dims, dims], [dims, dims]], superrep="super")


def _iso_twirl_array(x: np.ndarray, d: int) -> np.ndarray:
    idx = np.arange(d) * (d + 1)
    F = x[..., idx[:, None], idx[None, :]].sum(axis=(-2, -1)) / d
    tr = np.trace(x, axis1=-2, axis2=-1)
    P = np.zeros((d * d, d * d), dtype=complex)
    P[np.ix_(idx, idx)] = 1 / d
    rest = (np.eye(d * d) - P) / (d * d - 1)
    return F[..., None, None] * P + (tr - F)[..., None, None] * rest


def _ghz_twirl_array(x: np.ndarray) -> np.ndarray:
    D = x.shape[-1]
    out = np.zeros_like(x, dtype=complex)
    p = np.diagonal(x, axis1=-2, axis2=-1)
    r = np.arange(D)
    out[..., r, r] = (p + p[..., ::-1]) / 2  # the flip X^(x)n maps x -> D - 1 - x
    c = (x[..., 0, D - 1] + x[..., D - 1, 0]) / 2
    out[..., 0, D - 1] = c
    out[..., D - 1, 0] = c
    return out


# ---------------------------------------------------------------------------- twirls


def isotropic_twirl(rho: qutip.Qobj) -> qutip.Qobj:
    r"""Isotropic twirl ``T(rho) = ∫ dU (U (x) U*) rho (U (x) U*)^†`` in closed form.

    ``T(rho) = F Phi+ + (Tr rho - F) (I - Phi+) / (d^2 - 1)``, ``F = <Phi+|rho|Phi+>``.
    The map is linear, so any operator (not only states) is accepted. Marginals of
    ``T(rho)`` are ``Tr(rho) I/d``; ``Phi+`` and ``I`` are fixed points.

    Parameters
    ----------
    rho : Qobj
        Operator or ket on two qudits, ``dims = [[d, d], [d, d]]``.

    Returns
    -------
    Qobj
        ``T(rho)`` with the dims of ``rho``.

    Examples
    --------
    >>> from dynamics.states import phi_plus
    >>> bool(isotropic_twirl(phi_plus(3)) == phi_plus(3))
    True
    """
    rho = _as_operator(rho, "rho")
    d = _two_qudit_dim(rho, "rho")
    return qutip.Qobj(_iso_twirl_array(rho.full(), d), dims=rho.dims)


@lru_cache(maxsize=8)
def _clifford_cached(d: int) -> tuple[np.ndarray, ...]:
    w = np.exp(2j * np.pi / d)
    j = np.arange(d)
    if d == 2:
        gens = [np.array([[1, 1], [1, -1]]) / np.sqrt(2), np.diag([1, 1j])]
        expected = 24
    else:
        X = np.roll(np.eye(d), 1, axis=0)  # X|j> = |j+1>
        Z = np.diag(w**j)
        F = w ** np.outer(j, j) / np.sqrt(d)
        P = np.diag(w ** (((d + 1) // 2) * j**2 % d))
        gens = [X, Z, F, P]
        expected = d**3 * (d * d - 1)
    gens = [np.asarray(g, dtype=complex) for g in gens]

    def canon(u: np.ndarray) -> tuple[np.ndarray, bytes]:
        flat = u.reshape(-1)
        k = int(np.argmax(np.abs(flat) > 1e-9))
        u = u * (abs(flat[k]) / flat[k])  # first non-zero entry made real positive
        key = np.concatenate([np.round(u.real, 8) + 0.0, np.round(u.imag, 8) + 0.0])
        return u, key.tobytes()

    e, key = canon(np.eye(d, dtype=complex))
    group, frontier = {key: e}, [e]
    while frontier:
        new = []
        for u in frontier:
            for g in gens:
                v, k = canon(g @ u)
                if k not in group:
                    group[k] = v
                    new.append(v)
        frontier = new
    if len(group) != expected:  # pragma: no cover - guards the phase canonicalisation
        raise RuntimeError(
            f"Clifford group of d={d} has {len(group)} elements, expected {expected}"
        )
    out = tuple(group.values())
    for u in out:
        u.flags.writeable = False
    return out


def clifford_group(d: int) -> list[np.ndarray]:
    r"""Single-qudit Clifford group modulo global phase, for prime ``d``.

    Generated breadth-first from ``H, S`` (``d = 2``) or from ``X|j> = |j+1>``,
    ``Z = diag(w^j)``, the Fourier gate ``F_jk = w^{jk}/sqrt(d)`` and the phase gate
    ``diag(w^{(d+1)/2 j^2})`` (odd prime ``d``), ``w = exp(2 pi i/d)``. Each element is
    returned with its first non-zero entry real and positive. The group has 24 elements
    for ``d = 2`` and ``d^3 (d^2 - 1)`` for odd prime ``d`` (216 for ``d = 3``) and is a
    unitary 2-design. The arrays are read-only and cached.

    Examples
    --------
    >>> len(clifford_group(2)), len(clifford_group(3))
    (24, 216)
    """
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not _is_prime(int(d)):
        raise ValueError(f"d must be a prime integer >= 2, got {d!r}")
    return list(_clifford_cached(int(d)))


def unitary_twirl(rho: qutip.Qobj, unitaries: Sequence) -> qutip.Qobj:
    r"""Uniform average ``(1/m) sum_U (U (x) U*) rho (U (x) U*)^†`` over ``unitaries``.

    Parameters
    ----------
    rho : Qobj
        Operator or ket on two qudits, ``dims = [[d, d], [d, d]]``.
    unitaries : sequence of (d, d) arrays or Qobj
        Non-empty; each must be unitary to 1e-10.
    """
    rho = _as_operator(rho, "rho")
    d = _two_qudit_dim(rho, "rho")
    us = [
        u.full() if isinstance(u, qutip.Qobj) else np.asarray(u, dtype=complex) for u in unitaries
    ]
    if not us:
        raise ValueError("unitaries must contain at least one (d, d) unitary, got none")
    U = np.stack(us) if len({u.shape for u in us}) == 1 else None
    if U is None or U.shape[1:] != (d, d):
        raise ValueError(f"unitaries must all be ({d}, {d}) arrays to match rho")
    err = np.abs(U @ U.conj().transpose(0, 2, 1) - np.eye(d)).max()
    if err > KRAUS_ATOL:
        raise ValueError(f"unitaries must be unitary to {KRAUS_ATOL:g}, deviation {err:.3g}")
    K = np.einsum("mab,mcd->macbd", U, U.conj()).reshape(len(us), d * d, d * d)
    out = np.einsum("mij,jk,mlk->il", K, rho.full(), K.conj()) / len(us)
    return qutip.Qobj(out, dims=rho.dims)


def clifford_twirl(rho: qutip.Qobj) -> qutip.Qobj:
    """:func:`unitary_twirl` over :func:`clifford_group` (prime ``d``): the isotropic twirl."""
    rho = _as_operator(rho, "rho")
    d = _two_qudit_dim(rho, "rho")
    if not _is_prime(d):
        raise ValueError(f"rho must have prime local dimension d for the Clifford twirl, got d={d}")
    return unitary_twirl(rho, clifford_group(d))


def ghz_twirl(rho: qutip.Qobj) -> qutip.Qobj:
    r"""GHZ twirl of ``n >= 2`` qubits in closed form.

    Average over shared phases ``diag(1, e^{i theta_k})`` on qubit ``k`` with
    ``sum_k theta_k = 0`` and over a shared global flip ``X^(x)n``. The phases keep the
    populations and the coherences between ``|0..0>`` and ``|1..1>`` only; the flip then
    symmetrises: ``p(x) -> (p(x) + p(not x))/2`` and ``c -> (c + c')/2`` where
    ``c = rho[0..0, 1..1]``, ``c' = rho[1..1, 0..0]`` (``Re c`` for Hermitian ``rho``).
    Keeps ``<GHZ|rho|GHZ>``; every marginal becomes ``Tr(rho) I/2``.

    Examples
    --------
    >>> from dynamics.states import ghz_state
    >>> bool(ghz_twirl(ghz_state(3)) == ghz_state(3))
    True
    """
    rho = _as_operator(rho, "rho")
    dims = party_dims(rho)
    if len(dims) < 2 or any(x != 2 for x in dims):
        raise ValueError(f"rho must be an operator on n >= 2 qubits, got dims {dims}")
    return qutip.Qobj(_ghz_twirl_array(rho.full()), dims=rho.dims)


# ------------------------------------------------------------------- local channels


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
    return gamma, [
        qutip.Qobj((t.full() - gamma * np.eye(d) / d) / (1 - gamma), dims=eye.dims) for t in taus
    ]


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
    >>> from dynamics.states import phi_plus
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
            U = _haar_unitary(self.d, rng)
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


def _super_array(S, name: str = "S") -> tuple[np.ndarray, list[int], list[int]]:
    if not isinstance(S, qutip.Qobj):
        raise TypeError(f"{name} must be a qutip super Qobj, got {type(S).__name__}")
    if not S.issuper or S.superrep != "super":
        raise ValueError(
            f"{name} must be a qutip superoperator in the 'super' (column-stacking) representation"
        )
    out_dims, in_dims = [int(x) for x in S.dims[0][0]], [int(x) for x in S.dims[1][0]]
    return S.full(), out_dims, in_dims


def choi_matrix(S: qutip.Qobj) -> np.ndarray:
    r"""Choi matrix ``J = sum_ij |i><j| (x) E(|i><j|)`` (input first) as an array.

    ``J[(i, a), (j, b)] = E(|i><j|)[a, b]``, shape ``(D_in D_out, D_in D_out)``; the same
    ordering as ``qutip.to_choi(S).full()``.
    """
    a, out_dims, in_dims = _super_array(S)
    Di, Do = math.prod(in_dims), math.prod(out_dims)
    S4 = a.reshape(Do, Do, Di, Di)  # [b, a, j, i]: row b*Do + a, column j*Di + i
    return S4.transpose(3, 1, 2, 0).reshape(Di * Do, Di * Do)


def is_cptp(S: qutip.Qobj, *, atol: float = 1e-10) -> bool:
    """True when the Choi matrix is Hermitian and PSD and ``Tr_out J = I_in`` (all to ``atol``)."""
    J = choi_matrix(S)
    _, out_dims, in_dims = _super_array(S)
    Di, Do = math.prod(in_dims), math.prod(out_dims)
    if np.abs(J - J.conj().T).max() > atol:
        return False
    if np.linalg.eigvalsh((J + J.conj().T) / 2)[0] < -atol:
        return False
    tr_out = np.trace(J.reshape(Di, Do, Di, Do), axis1=1, axis2=3)
    return bool(np.abs(tr_out - np.eye(Di)).max() <= atol)


def is_locally_thermalizing(S: qutip.Qobj, taus, *, atol: float = 1e-10) -> bool:
    r"""Exact local-thermalization test: ``Tr_{not k} E(X) = tau_k Tr X`` for all X, all k.

    Equivalently the Choi matrix of ``Tr_{not k} o E`` equals ``I_in (x) tau_k`` (checked
    entrywise to ``atol``; no sampling of inputs). Complete positivity is not checked
    (use :func:`is_cptp`).

    Parameters
    ----------
    S : Qobj
        Superoperator (column stacking); its output dims give the parties.
    taus : Qobj or sequence of Qobj
        One thermal state per output party (a single Qobj is used for every party).
    """
    _, out_dims, in_dims = _super_array(S)
    n, Di = len(out_dims), math.prod(in_dims)
    taus = [taus] * n if isinstance(taus, qutip.Qobj) else list(taus)
    if len(taus) != n:
        raise ValueError(f"taus must give one state per output party ({n}), got {len(taus)}")
    taus = [as_density_matrix(t, f"taus[{k}]") for k, t in enumerate(taus)]
    for k, (t, dk) in enumerate(zip(taus, out_dims, strict=True)):
        if t.shape != (dk, dk):
            raise ValueError(
                f"taus[{k}] must be {dk} x {dk} to match output party {k}, got {t.shape}"
            )
    J = choi_matrix(S).reshape([Di, *out_dims] * 2)
    for k, t in enumerate(taus):
        letters = "abcdefghijklmnopqrstuvwxyz"
        row = ["I"] + [letters[m] for m in range(n)]
        col = ["J"] + [letters[m] if m != k else "Z" for m in range(n)]
        Jk = np.einsum("".join(row + col) + "->I" + row[k + 1] + "JZ", J)
        Jk = Jk.reshape(Di * out_dims[k], Di * out_dims[k])
        if np.abs(Jk - np.kron(np.eye(Di), t.full())).max() > atol:
            return False
    return True


def _pt(a: np.ndarray, dims: Sequence[int], parties: Sequence[int]) -> np.ndarray:
    n = len(dims)
    axes = list(range(2 * n))
    for k in parties:
        axes[k], axes[n + k] = axes[n + k], axes[k]
    return a.reshape(list(dims) * 2).transpose(axes).reshape(a.shape)


def find_entangled_output(
    S: qutip.Qobj, *, subsys=None, seed=0, restarts: int = 10
) -> tuple[qutip.Qobj, float]:
    r"""Search for a pure input whose output under ``S`` has maximal negativity.

    Candidates: ``Phi+`` (two equal input parties) or ``GHZ`` (``n >= 3`` qubits), then
    ``restarts`` random starts (``Phi+`` rotated by Haar-random local unitaries, or Haar
    pure states otherwise), each refined with L-BFGS on ``psi in C^D`` of the objective
    ``N(E(psi psi^†/|psi|^2))`` when the output is NPT and ``lambda_min`` of its partial
    transpose otherwise (so the search is not flat on PPT outputs). Gradients are exact:
    ``E^†`` of the spectral projector of the partial transpose.

    Parameters
    ----------
    S : Qobj
        Superoperator (column stacking) of a channel with at least two output parties.
    subsys : int or iterable of int, optional
        Transposed output parties (as :func:`dynamics.measures.negativity`; default last).
    seed : int or Generator
        Seed of the random starts.
    restarts : int
        Number of random starts (>= 0).

    Returns
    -------
    (Qobj, float)
        The best input ket found and the negativity of its output (a lower bound on the
        maximum over inputs).
    """
    a, out_dims, in_dims = _super_array(S)
    if len(out_dims) < 2:
        raise ValueError(f"S must have at least two output parties, got output dims {out_dims}")
    if not isinstance(restarts, (int, np.integer)) or restarts < 0:
        raise ValueError(f"restarts must be an integer >= 0, got {restarts!r}")
    n, Di, Do = len(out_dims), math.prod(in_dims), math.prod(out_dims)
    parties = (
        [n - 1] if subsys is None else sorted({int(subsys)} if np.isscalar(subsys) else set(subsys))
    )
    if not parties or any(not 0 <= k < n for k in parties):
        raise ValueError(f"subsys must name output parties in 0..{n - 1}, got {subsys!r}")
    rng = np.random.default_rng(seed)

    def output(psi: np.ndarray) -> np.ndarray:
        rho = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
        return (a @ rho.reshape(-1, order="F")).reshape(Do, Do, order="F")

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        psi = z[:Di] + 1j * z[Di:]
        nrm = np.vdot(psi, psi).real
        pt = _pt(output(psi), out_dims, parties)
        lam, V = np.linalg.eigh((pt + pt.conj().T) / 2)
        neg = lam < 0
        if neg.any():
            f, P = -lam[neg].sum(), -(V[:, neg] @ V[:, neg].conj().T)  # dN = Tr(-P_- dX)
        else:
            f, P = lam[0], -np.outer(V[:, 0], V[:, 0].conj())  # maximise -lambda_min
            f = -f
        W = (a.conj().T @ _pt(P, out_dims, parties).reshape(-1, order="F")).reshape(
            Di, Di, order="F"
        )
        W = (W + W.conj().T) / 2
        g = 2 * (W @ psi - f * psi) / nrm
        return -f, -np.concatenate([g.real, g.imag])

    starts = []
    if len(in_dims) == 2 and in_dims[0] == in_dims[1]:
        d = in_dims[0]
        phi = np.eye(d).reshape(-1) / np.sqrt(d)
        starts.append(phi.astype(complex))
        for _ in range(restarts):
            starts.append(np.kron(_haar_unitary(d, rng), _haar_unitary(d, rng)) @ phi)
    else:
        if len(in_dims) >= 3 and all(x == 2 for x in in_dims):
            ghz = np.zeros(Di, dtype=complex)
            ghz[[0, -1]] = 1 / np.sqrt(2)
            starts.append(ghz)
        for _ in range(restarts):
            starts.append(_haar_unitary(Di, rng)[:, 0])

    best_psi, best_val = None, -np.inf
    for psi0 in starts:
        cands = [psi0]
        res = scipy.optimize.minimize(
            objective, np.concatenate([psi0.real, psi0.imag]), jac=True, method="L-BFGS-B"
        )
        cands.append(res.x[:Di] + 1j * res.x[Di:])
        for psi in cands:
            psi = psi / np.linalg.norm(psi)
            lam = np.linalg.eigvalsh(_herm(_pt(output(psi), out_dims, parties)))
            val = float(-lam[lam < 0].sum())  # as dynamics.measures.negativity
            if val > best_val:
                best_psi, best_val = psi, val
    return qutip.Qobj(best_psi, dims=[in_dims, [1] * len(in_dims)]), float(best_val)


def _herm(x: np.ndarray) -> np.ndarray:
    return (x + x.conj().T) / 2

r"""The layer-cake protocol: an LOSR local thermalization of two qudits with equal spectra
that keeps more entanglement than E_gamma for ``d >= 3`` and survives the step to an
oscillator.

Order the thermal populations ``p_0 >= p_1 >= ... >= p_(d-1)`` (``p_d = 0``) and write

.. math::

    \tau = \sum_{m=1}^{d} w_m \frac{P_m}{m}, \qquad w_m = m\,(p_{m-1} - p_m),

with ``P_m`` the projector on the ``m`` most populated eigenvectors (the sum telescopes;
``sum_m w_m = 1``). Branch ``m``, chosen by a shared coin with probability ``w_m``: each
party applies the keep-or-replace map ``K_m(X) = P_m X P_m + Tr((1 - P_m) X) P_m/m``, then
the parties apply a shared random ``U (x) U*`` with ``U`` Haar on ``range(P_m)`` (a U(m)
twirl there). Each branch has marginals ``P_m/m`` for every input, so the channel has
marginals exactly ``tau`` for every input: it is LT as a channel, not for one input.

Why it survives a Fock cutoff and E_gamma does not: E_gamma mixes the full twirl with
weight ``gamma_d = d p_min``; for an oscillator at cutoff ``d``,
``gamma_d = d q^(d-1) (1-q)/(1-q^d)`` with ``q = exp(-beta omega)`` vanishes exponentially
in ``d``, and so does ``N(E_gamma(Phi+_d))``. The layer cake twirls every layer ``m`` with
its own weight ``w_m = m (1-q)^2 q^(m-1)``, which does not depend on any cutoff; see
:mod:`eplt.dynamics.layer_cake_fock` for the computation on the Fock space.

Closed forms (``Phi+_d = sum_i |ii>/sqrt(d)`` in the eigenbases, hbar = k_B = 1):

* overlap ``<Phi+_d|E(Phi+_d)|Phi+_d> = sum_m w_m [m^2/d^2 + (d-m)/(d^2 m)]``;
* negativity (partial transpose on B)
  ``N(E(Phi+_d)) = sum_{j=1}^{d-1} j max(0, sum_{m>j} w_m [1/d - (d-m)/(d m^2)])``;
* for qubits the layer cake is E_gamma (``w_2 = 2 p_1 = gamma``).

Superoperators follow QuTiP (column stacking, ``superrep='super'``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from .eplt import PURE_ATOL, LocalChannel, NoEPLTError, _single_party_state
from .twirls import _superop_from_map, haar_unitary

__all__ = ["LayerCakeBranch", "LayerCakeChannel", "layer_cake_channel", "layer_cake_weights"]

#: Two thermal states have "equal spectra" when their sorted eigenvalues agree to this.
SPECTRUM_ATOL = 1e-10
#: Largest local dimension for which :meth:`LayerCakeChannel.superoperator` is built
#: (``d^8`` complex entries: 92 MB at d = 7).
SUPEROP_MAX_D = 7


def layer_cake_weights(populations) -> np.ndarray:
    r"""Layer weights ``w_m = m (p_(m-1) - p_m)``, ``m = 1..d``, of sorted populations.

    Parameters
    ----------
    populations : array_like, shape (d,)
        Thermal populations (any order; they are sorted in decreasing order, ``p_d = 0``).

    Returns
    -------
    numpy.ndarray, shape (d,)
        ``w[m - 1] = w_m >= 0``; ``sum_m w_m = sum_i p_i`` and
        ``sum_m w_m P_m/m = diag(p)`` (sorted).

    Examples
    --------
    >>> layer_cake_weights([0.5, 0.3, 0.2]).round(12).tolist()
    [0.2, 0.2, 0.6]
    """
    p = np.asarray(populations, dtype=float)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or p.min() < -PURE_ATOL:
        raise ValueError("populations must be a non-empty 1-D array of finite values >= 0")
    if abs(p.sum() - 1) > 1e-9:
        raise ValueError(f"populations must sum to 1 (a thermal state's), got sum {p.sum():.12g}")
    p = np.sort(p)[::-1]
    p = p.clip(0)
    m = np.arange(1, p.size + 1)
    return m * (p - np.append(p[1:], 0.0))


def _sorted_frame(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Populations in decreasing order and the eigenvectors as columns (same order).

    A diagonal tau keeps the computational basis (stable order among equal populations),
    so ``Phi+`` of the protocol is the computational ``Phi+``.
    """
    off = tau - np.diag(np.diag(tau))
    if np.abs(off).max(initial=0.0) <= 1e-14:
        p = np.diag(tau).real
        order = np.argsort(-p, kind="stable")
        return p[order], np.eye(tau.shape[0], dtype=complex)[:, order]
    p, V = np.linalg.eigh((tau + tau.conj().T) / 2)
    return p[::-1].copy(), V[:, ::-1].astype(complex)


@dataclass(frozen=True, eq=False)
class LayerCakeBranch:
    r"""One branch of the layer cake: probability ``weight``, layer size ``m``.

    Each party first applies its keep-or-replace channel
    ``K_m(X) = P_m X P_m + Tr((1 - P_m) X) P_m/m`` (``keep``, one :class:`LocalChannel`
    per party), then A applies ``V_A U V_A^†`` and B ``V_B U* V_B^†`` with one shared
    Haar-random ``U`` in U(m) acting on the first ``m`` columns of ``support[X] = V_X``
    (the eigenvectors of ``tau_X``, decreasing population).
    """

    m: int
    weight: float
    keep: tuple[LocalChannel, LocalChannel]
    support: tuple[np.ndarray, np.ndarray]


def _keep_or_replace(V: np.ndarray, m: int) -> LocalChannel:
    """Kraus operators of ``K_m``: ``P_m`` and ``|v_i><v_k|/sqrt(m)``, ``i < m <= k``."""
    d = V.shape[0]
    P = V[:, :m] @ V[:, :m].conj().T
    ks = [P] + [
        np.outer(V[:, i], V[:, k].conj()) / math.sqrt(m) for i in range(m) for k in range(m, d)
    ]
    return LocalChannel(tuple(ks))


@dataclass(frozen=True, eq=False, repr=False)
class LayerCakeChannel:
    r"""The layer-cake protocol on two qudits whose thermal states have equal spectra.

    .. math::

        E(\rho) = \sum_{m=1}^{d} w_m\, T_m\big[(K_m \otimes K_m)(\rho)\big], \qquad
        T_m(\sigma) = F_m \Phi_m + (\mathrm{Tr}\,\sigma - F_m)
        \frac{P_m \otimes P_m - \Phi_m}{m^2 - 1},

    ``Phi_m = |Phi_m><Phi_m|``, ``|Phi_m> = sum_{i<m} |e_i^A> |e_i^B> / sqrt(m)``,
    ``F_m = <Phi_m|(K_m (x) K_m)(rho)|Phi_m> = S_m/m + (Tr rho - R_m)/m^2`` with
    ``S_m = sum_{i,j<m} <ii|rho|jj>`` and ``R_m = sum_{i,j<m} <ij|rho|ij>`` (indices in the
    eigenbases ``e^A``, ``e^B`` of ``tau_A``, ``tau_B``, decreasing population; for diagonal
    taus the computational basis). ``T_1(sigma) = Tr(sigma) |e_0 e_0><e_0 e_0|``.

    Marginals are exactly ``tau_A`` and ``tau_B`` for every input (LT as a channel). For
    qubits it equals E_gamma; for ``d >= 3`` it keeps more entanglement of ``Phi+_d``.
    Build with :func:`layer_cake_channel`. Attributes: ``tau_A``, ``tau_B``, ``d``,
    ``populations`` (decreasing), ``weights`` (``w_1..w_d``), ``frames`` (``V_A``, ``V_B``).

    Examples
    --------
    >>> import numpy as np, qutip
    >>> from eplt.dynamics.states import phi_plus
    >>> tau = qutip.Qobj(np.diag([0.5, 0.3, 0.2]))
    >>> E = layer_cake_channel(tau, tau)
    >>> E.weights.round(12).tolist()
    [0.2, 0.2, 0.6]
    >>> out = E(phi_plus(3))
    >>> bool(np.abs((out.ptrace(1) - tau).full()).max() < 1e-12)
    True
    """

    tau_A: qutip.Qobj
    tau_B: qutip.Qobj
    d: int = field(init=False)
    populations: np.ndarray = field(init=False)
    weights: np.ndarray = field(init=False)
    frames: tuple[np.ndarray, np.ndarray] = field(init=False)

    def __post_init__(self):
        tau_A = _single_party_state(self.tau_A, "tau_A")
        tau_B = _single_party_state(self.tau_B, "tau_B")
        d = tau_A.shape[0]
        if tau_B.shape[0] != d:
            raise ValueError(
                f"tau_A and tau_B must have the same dimension d, got {d} and {tau_B.shape[0]}"
            )
        pA, VA = _sorted_frame(tau_A.full())
        pB, VB = _sorted_frame(tau_B.full())
        gap = float(np.abs(pA - pB).max())
        if gap > SPECTRUM_ATOL:
            raise ValueError(
                "tau_A and tau_B must have equal spectra (sorted eigenvalues equal to "
                f"{SPECTRUM_ATOL:g}) for the layer cake, largest difference {gap:.3g}; "
                "use eplt_channel for unequal spectra"
            )
        p = pA.clip(0)
        if p[1] <= PURE_ATOL:
            raise NoEPLTError(
                f"tau_A and tau_B are pure (second largest eigenvalue {p[1]:.3g} <= "
                f"{PURE_ATOL:g}): every locally thermalizing channel outputs tau_A (x) tau_B, "
                "so no entanglement-preserving local thermalization exists"
            )
        w = layer_cake_weights(p)
        for name, val in dict(
            tau_A=tau_A, tau_B=tau_B, d=d, populations=p, weights=w, frames=(VA, VB)
        ).items():
            object.__setattr__(self, name, val)
        identity = all(np.array_equal(V, np.eye(d)) for V in (VA, VB))
        object.__setattr__(self, "_W", None if identity else np.kron(VA, VB))

    @property
    def taus(self) -> tuple[qutip.Qobj, qutip.Qobj]:
        return (self.tau_A, self.tau_B)

    def _apply(self, x: np.ndarray) -> np.ndarray:
        """The channel on a stack ``(..., d^2, d^2)`` of operators (linear, any operator)."""
        d, W = self.d, self._W
        y = x if W is None else W.conj().T @ x @ W
        i = np.arange(d)
        ii = i * (d + 1)
        G = y[..., ii[:, None], ii[None, :]]  # <ii|y|jj>
        Pop = np.diagonal(y, axis1=-2, axis2=-1).reshape(*y.shape[:-2], d, d)  # <ij|y|ij>
        S = np.diagonal(np.cumsum(np.cumsum(G, -1), -2), axis1=-2, axis2=-1)  # S_m, m = i+1
        R = np.diagonal(np.cumsum(np.cumsum(Pop, -1), -2), axis1=-2, axis2=-1)
        t = np.trace(y, axis1=-2, axis2=-1)[..., None]
        m = np.arange(1, d + 1, dtype=float)
        F = S / m + (t - R) / m**2
        a = np.empty_like(F)
        b = np.zeros_like(F)
        a[..., 0] = t[..., 0]  # branch 1: Tr(rho) |00><00|
        mm = m[1:]
        b[..., 1:] = (t - F[..., 1:]) / (mm**2 - 1)
        a[..., 1:] = (F[..., 1:] - b[..., 1:]) / mm
        wa, wb = self.weights * a, self.weights * b
        A_tail = np.cumsum(wa[..., ::-1], -1)[..., ::-1]  # sum_{m > k} w_m a_m at [k]
        B_tail = np.cumsum(wb[..., ::-1], -1)[..., ::-1]
        K = np.maximum(i[:, None], i[None, :])
        z = np.zeros(y.shape, dtype=complex)
        z[..., ii[:, None], ii[None, :]] = A_tail[..., K]
        flat = (i[:, None] * d + i[None, :]).ravel()
        z[..., flat, flat] += B_tail[..., K.ravel()]
        return z if W is None else W @ z @ W.conj().T

    def __call__(self, rho: qutip.Qobj) -> qutip.Qobj:
        """The channel applied to a density matrix (or ket) with dims ``[d, d]``."""
        rho = as_density_matrix(rho, "rho")
        if party_dims(rho) != [self.d, self.d]:
            raise ValueError(f"rho must have dims {[self.d, self.d]}, got {party_dims(rho)}")
        return qutip.Qobj(self._apply(rho.full()), dims=rho.dims)

    def superoperator(self) -> qutip.Qobj:
        """Column-stacking superoperator, dims ``[[[d, d], [d, d]], [[d, d], [d, d]]]``.

        Size ``d^4 x d^4``; built for ``d <= 7`` (:data:`SUPEROP_MAX_D`), else ValueError.
        """
        if self.d > SUPEROP_MAX_D:
            raise ValueError(
                f"superoperator needs d <= {SUPEROP_MAX_D} (d^8 entries), got d={self.d}; "
                "apply the channel to states instead"
            )
        return _superop_from_map(self._apply, [self.d, self.d])

    def branches(self) -> list[LayerCakeBranch]:
        """The LOSR decomposition: one :class:`LayerCakeBranch` per layer with ``w_m > 0``.

        The weights of the returned branches sum to 1 (to round-off).
        """
        VA, VB = self.frames
        return [
            LayerCakeBranch(
                m=m,
                weight=float(w),
                keep=(_keep_or_replace(VA, m), _keep_or_replace(VB, m)),
                support=(VA, VB),
            )
            for m, w in enumerate(self.weights, start=1)
            if w > 0
        ]

    def sample_branch(self, rng=None) -> tuple[LocalChannel, LocalChannel]:
        """One LOSR realization ``(E_A, E_B)``: layer ``m`` w.p. ``w_m``, Haar ``U`` in U(m).

        ``E_A = (V_A (U + 1) V_A^†) o K_m`` and ``E_B = (V_B (U* + 1) V_B^†) o K_m``; the
        average over realizations is the channel. ``rng``: a Generator or seed.
        """
        rng = np.random.default_rng(rng)
        w = self.weights / self.weights.sum()
        m = int(rng.choice(self.d, p=w)) + 1
        U = np.eye(self.d, dtype=complex)
        U[:m, :m] = haar_unitary(m, rng)
        out = []
        for V, Ux in zip(self.frames, (U, U.conj()), strict=True):
            Ul = V @ Ux @ V.conj().T
            keep = _keep_or_replace(V, m)
            out.append(LocalChannel(tuple(Ul @ k for k in keep.kraus)))
        return out[0], out[1]

    def __repr__(self) -> str:
        return f"LayerCakeChannel(d={self.d}, weights={np.round(self.weights, 6).tolist()})"


def layer_cake_channel(tau_A: qutip.Qobj, tau_B: qutip.Qobj) -> LayerCakeChannel:
    """The layer-cake protocol for ``tau_A``, ``tau_B`` (see :class:`LayerCakeChannel`).

    Parameters
    ----------
    tau_A, tau_B : Qobj
        Single-party ``d x d`` thermal states with equal spectra (to 1e-10), ``d >= 2``.

    Raises
    ------
    ValueError
        Unequal dimensions or spectra.
    NoEPLTError
        The thermal states are pure: no EPLT exists.

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> layer_cake_channel(tau, tau).weights.round(12).tolist()   # [p0 - p1, 2 p1] = [1 - gamma, gamma]
    [0.6, 0.4]
    """
    return LayerCakeChannel(tau_A, tau_B)

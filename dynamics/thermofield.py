r"""Closed-form bounds from the thermofield double: what *any* local thermalization can reach.

Every output of a locally thermalizing channel has marginals ``tau_A``, ``tau_B``; the
bounds here hold for every state with those marginals (so for every LT channel and
every input) and are reached, for equal spectra, by replacing every input with the
thermofield double ``|TFD> = sum_i sqrt(p_i) |e_i> (x) |e_i^*>``. Re-exported by
:mod:`eplt.dynamics.bounds`.
"""

from __future__ import annotations

import numpy as np
import qutip

from ._checks import herm as _herm
from ._checks import single_party_array as _single

__all__ = [
    "any_lt_negativity_bound",
    "any_lt_negativity_geometric",
    "any_lt_overlap_bound",
    "any_lt_overlap_ceiling",
    "thermofield_double",
]


def thermofield_double(tau: qutip.Qobj) -> qutip.Qobj:
    r"""``|TFD> = sum_i sqrt(p_i) |e_i> (x) |e_i^*>`` for ``tau = sum_i p_i |e_i><e_i|``.

    Both marginals equal ``tau`` (the second one ``tau^T = tau^*``, equal to ``tau`` for a
    real thermal state); ``<Phi+|TFD>^2 = (sum_i sqrt(p_i))^2 / d`` in the eigenbasis of
    ``tau``, and its negativity is ``((sum_i sqrt(p_i))^2 - 1)/2`` (``sqrt(p0 p1)`` for a qubit).

    Examples
    --------
    >>> import qutip
    >>> tfd = thermofield_double(qutip.Qobj([[0.75, 0], [0, 0.25]]))
    >>> bool((tfd.ptrace(0) - qutip.Qobj([[0.75, 0], [0, 0.25]])).norm() < 1e-12)
    True
    """
    t = _single(tau, "tau")
    p, V = np.linalg.eigh(_herm(t))
    p = np.clip(p, 0, None)
    d = t.shape[0]
    psi = sum(np.sqrt(p[i]) * np.kron(V[:, i], V[:, i].conj()) for i in range(d))
    return qutip.Qobj(psi, dims=[[d, d], [1, 1]])


def _sqrt_trace(t: np.ndarray) -> float:
    lam = np.clip(np.linalg.eigvalsh(_herm(t)), 0, None)
    return float(np.sqrt(lam).sum())


def any_lt_overlap_bound(tau_A: qutip.Qobj, tau_B: qutip.Qobj) -> float:
    r"""``max_E <Phi+|E(rho)|Phi+> <= min_X (Tr sqrt(tau_X))^2 / d`` over all LT channels.

    Derivation: every LT output ``sigma`` has marginals ``tau_A``, ``tau_B``. Decompose
    ``sigma = sum_k q_k |psi_k><psi_k|``; for a pure state with Schmidt coefficients
    ``lambda_i`` (the spectrum of its A marginal ``rho_A^k``), ``|<Phi+|psi>|^2 <=
    (sum_i sqrt(lambda_i))^2 / d = (Tr sqrt(rho_A^k))^2 / d``. The map
    ``X -> (Tr sqrt X)^2`` is positively homogeneous of degree one and its superlevel sets
    ``{Tr sqrt X >= c}`` are convex (``Tr sqrt`` is concave), so it is concave, and
    ``sum_k q_k (Tr sqrt rho_A^k)^2 <= (Tr sqrt tau_A)^2``; likewise for B. With equal
    spectra the bound is reached by replacing every input with the
    :func:`thermofield_double` (written in the eigenbasis where ``Phi+`` is defined; for
    diagonal taus, the computational basis). For unequal spectra it need not be tight
    (use ``sdp_bound(..., relaxation="none")`` for the exact value).

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.75, 0], [0, 0.25]])
    >>> round(any_lt_overlap_bound(tau, tau), 6)           # (sqrt(.75) + sqrt(.25))^2 / 2
    0.933013
    """
    a, b = _single(tau_A, "tau_A"), _single(tau_B, "tau_B")
    if a.shape != b.shape:
        raise ValueError(f"tau_A and tau_B must have the same dimension, got {a.shape}, {b.shape}")
    return min(_sqrt_trace(a), _sqrt_trace(b)) ** 2 / a.shape[0]


def any_lt_negativity_bound(tau_A: qutip.Qobj, tau_B: qutip.Qobj) -> float:
    r"""``N(sigma) <= min_X ((Tr sqrt(tau_X))^2 - 1)/2`` for every state with marginals tau.

    Derivation: negativity is convex and for a pure state equals
    ``((sum_i sqrt(lambda_i))^2 - 1)/2`` (Schmidt coefficients ``lambda_i``); with the
    concavity of ``X -> (Tr sqrt X)^2`` (see :func:`any_lt_overlap_bound`)
    ``N(sigma) <= sum_k q_k N(psi_k) <= ((Tr sqrt tau_A)^2 - 1)/2``, and likewise for B.
    Every LT output has these marginals, so this bounds ``N(E(rho))`` for every LT channel
    and input; for equal spectra the :func:`thermofield_double` reaches it (for qubits
    ``sqrt(p0 p1)``).

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.75, 0], [0, 0.25]])
    >>> round(any_lt_negativity_bound(tau, tau), 6)        # sqrt(0.75 * 0.25)
    0.433013
    """
    a, b = _single(tau_A, "tau_A"), _single(tau_B, "tau_B")
    return _negativity_of_sqrt_trace(min(_sqrt_trace(a), _sqrt_trace(b)))


def _negativity_of_sqrt_trace(s: float) -> float:
    """``(s^2 - 1)/2``: the negativity of a pure state whose Schmidt coefficients have
    ``sum_i sqrt(lambda_i) = s`` (the one formula behind every any-LT negativity ceiling)."""
    return (s * s - 1) / 2


def any_lt_negativity_geometric(r: float) -> float:
    r"""The any-LT negativity ceiling :func:`any_lt_negativity_bound` for two copies of a
    geometric spectrum ``lambda_n = (1 - r^2) r^(2n)``, ``n = 0, 1, ...`` (a thermal
    oscillator with ``r = sqrt(q)``, ``q = exp(-beta omega)``; the two-mode squeezed vacuum
    with ``r = lambda``): ``((Tr sqrt tau)^2 - 1)/2`` with ``Tr sqrt tau = sqrt(1 - r^2)/(1 - r)``,
    which is exactly ``r/(1 - r)``.

    The thermofield double (the TMSV at ``lambda = r``) reaches it. Written in the closed
    form ``r/(1 - r)`` (no cancellation at small ``r``).

    Parameters
    ----------
    r : float
        Ratio of successive Schmidt coefficients' square roots, in ``[0, 1)``.

    Examples
    --------
    >>> any_lt_negativity_geometric(0.5)
    1.0
    >>> import math
    >>> s = math.sqrt(1 - 0.25) / (1 - 0.5)             # Tr sqrt(tau) at r = 1/2
    >>> round(_negativity_of_sqrt_trace(s), 12)
    1.0
    """
    r = float(r)
    if not 0 <= r < 1:
        raise ValueError(f"r must lie in [0, 1), got {r!r}")
    return r / (1 - r)


def any_lt_overlap_ceiling(tau_A: qutip.Qobj, tau_B: qutip.Qobj) -> float:
    r"""``<Phi+|sigma|Phi+> <= (sum_i sqrt(min(a_i, b_i)))^2 / d`` for every state with
    marginals ``tau_A``, ``tau_B`` (so for every LT channel and input); the smaller of this
    and :func:`any_lt_overlap_bound`.

    ``a_i = <i|tau_A|i>``, ``b_i = <i|tau_B|i>`` in the basis of ``Phi+ = sum_i |ii>/sqrt d``.
    Derivation: ``<Phi+|sigma|Phi+> = (1/d) sum_ij sigma_{ii,jj} <= (1/d) sum_ij
    sqrt(sigma_{ii,ii} sigma_{jj,jj}) = (1/d)(sum_i sqrt(sigma_{ii,ii}))^2`` (``sigma >= 0``),
    and ``sigma_{ii,ii} <= min(a_i, b_i)`` (a diagonal entry is at most the marginals'). For
    equal diagonal taus it is the thermofield-double value, reached; for unequal spectra it
    is tighter than ``min_X (Tr sqrt tau_X)^2 / d``.

    Examples
    --------
    >>> import qutip
    >>> a, b = qutip.Qobj([[0.75, 0], [0, 0.25]]), qutip.Qobj([[0.64, 0], [0, 0.36]])
    >>> round(any_lt_overlap_ceiling(a, b), 6)        # (sqrt(.64) + sqrt(.25))^2 / 2
    0.845
    """
    a, b = _single(tau_A, "tau_A"), _single(tau_B, "tau_B")
    if a.shape != b.shape:
        raise ValueError(f"tau_A and tau_B must have the same dimension, got {a.shape}, {b.shape}")
    m = np.minimum(np.diag(a).real, np.diag(b).real).clip(0)
    return min(float(np.sqrt(m).sum() ** 2 / a.shape[0]), any_lt_overlap_bound(tau_A, tau_B))

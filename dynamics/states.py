"""Preset states: maximally entangled, Bell, isotropic, Werner and noisy GHZ states, and the
oscillator states of :mod:`eplt.dynamics.bosonic` (Fock, coherent, thermal, two-mode
squeezed vacuum, thermofield double; each on an explicit ``cutoff``).

Conventions: computational basis ``|0>, |1>, ...``; the qubit ground state is ``|0>``.
``Phi+ = sum_i |ii> / sqrt(d)``; ``GHZ = (|0...0> + |1...1>) / sqrt(2)``. All states are
returned as qutip density matrices (``Qobj``, ``dims = [[d, d], [d, d]]`` for two parties),
except :func:`phi_plus_ket`.
"""

from __future__ import annotations

import numpy as np
import qutip

from .bosonic import (
    coherent_state,
    fock_state,
    thermal_oscillator,
    thermofield_double_oscillator,
    two_mode_squeezed_vacuum,
)

__all__ = [
    "bell_state",
    "coherent_state",
    "fock_state",
    "ghz_noise_weight",
    "ghz_state",
    "isotropic_state",
    "noisy_ghz_state",
    "phi_plus",
    "phi_plus_ket",
    "random_state",
    "thermal_oscillator",
    "thermofield_double_oscillator",
    "two_mode_squeezed_vacuum",
    "werner_state",
]


def _check_dim(d: int, name: str = "d", minimum: int = 2) -> int:
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {d!r}")
    return int(d)


def _check_unit_interval(x: float, name: str) -> float:
    x = float(x)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {x!r}")
    return x


def phi_plus_ket(d: int = 2) -> qutip.Qobj:
    """The maximally entangled ket ``|Phi+> = sum_i |ii> / sqrt(d)`` of two qudits."""
    d = _check_dim(d)
    v = np.zeros(d * d, dtype=complex)
    v[:: d + 1] = 1 / np.sqrt(d)
    return qutip.Qobj(v, dims=[[d, d], [1, 1]])


def phi_plus(d: int = 2) -> qutip.Qobj:
    """Projector ``|Phi+><Phi+|`` on two qudits of dimension ``d``.

    Examples
    --------
    >>> phi_plus(2).tr()
    1.0
    """
    return qutip.ket2dm(phi_plus_ket(d))


def bell_state(which: str = "00") -> qutip.Qobj:
    """Two-qubit Bell projector; ``which`` follows :func:`qutip.bell_state`.

    ``"00"`` is Phi+, ``"01"`` Phi-, ``"10"`` Psi+, ``"11"`` Psi-.
    """
    if which not in ("00", "01", "10", "11"):
        raise ValueError(f"which must be one of '00', '01', '10', '11', got {which!r}")
    return qutip.ket2dm(qutip.bell_state(which))


def isotropic_state(F: float, d: int = 2) -> qutip.Qobj:
    """Isotropic state ``rho_F = F Phi+ + (1 - F) (I - Phi+) / (d^2 - 1)``.

    ``F = <Phi+|rho_F|Phi+>`` lies in [0, 1]; the state is entangled iff ``F > 1/d``.
    """
    F = _check_unit_interval(F, "F")
    d = _check_dim(d)
    P = phi_plus(d)
    eye = qutip.qeye([d, d])
    return F * P + (1 - F) * (eye - P) / (d * d - 1)


def werner_state(p: float, d: int = 2) -> qutip.Qobj:
    """Werner state ``p * P_anti / (d(d-1)/2) + (1 - p) * P_sym / (d(d+1)/2)``.

    ``p`` is the weight of the antisymmetric subspace (``p = <Psi-|rho|Psi->`` in the
    two-qubit case, up to normalisation); entangled iff ``p > 1/2``.
    """
    p = _check_unit_interval(p, "p")
    d = _check_dim(d)
    swap = qutip.swap(d, d) if hasattr(qutip, "swap") else None
    if swap is None:  # pragma: no cover - qutip < 5.1
        raise RuntimeError("qutip.swap is required")
    eye = qutip.qeye([d, d])
    p_sym = (eye + swap) / 2
    p_anti = (eye - swap) / 2
    rho = p * p_anti / (d * (d - 1) / 2) + (1 - p) * p_sym / (d * (d + 1) / 2)
    rho.dims = [[d, d], [d, d]]
    return rho


def ghz_state(n: int) -> qutip.Qobj:
    """GHZ projector on ``n >= 2`` qubits, ``(|0...0> + |1...1>)/sqrt(2)``."""
    n = _check_dim(n, "n")
    return qutip.ket2dm(qutip.ghz_state(n))


def noisy_ghz_state(n: int, fidelity: float) -> qutip.Qobj:
    """GHZ state mixed with white noise, ``p GHZ + (1 - p) I / 2^n``.

    ``p`` is chosen so that ``<GHZ|rho|GHZ> = fidelity``; ``fidelity`` must lie in
    ``[2^-n, 1]``. Genuine multipartite entanglement is witnessed when ``fidelity > 1/2``.
    """
    n = _check_dim(n, "n")
    p = ghz_noise_weight(n, fidelity)
    return p * ghz_state(n) + (1 - p) * qutip.qeye([2] * n) / 2**n


def ghz_noise_weight(n: int, fidelity: float) -> float:
    """The weight ``p`` of GHZ in ``p GHZ + (1 - p) I/2^n`` with GHZ fidelity ``fidelity``:
    ``p = (fidelity - 2^-n) / (1 - 2^-n)``; ``fidelity`` must lie in ``[2^-n, 1]``
    (one line naming it otherwise). The one rule for every representation of the state
    (dense, permutation-symmetric, product sums).

    Examples
    --------
    >>> ghz_noise_weight(2, 0.25), ghz_noise_weight(2, 1.0)
    (0.0, 1.0)
    """
    f = float(fidelity)
    if not 2.0**-n <= f <= 1:
        raise ValueError(f"fidelity must lie in [2^-n, 1] = [{2.0**-n:g}, 1], got {fidelity!r}")
    return 1.0 if f == 1 else (f - 2.0**-n) / (1 - 2.0**-n)


def random_state(dims, *, rank: int | None = None, seed=None) -> qutip.Qobj:
    """Random density matrix (Hilbert-Schmidt / Ginibre measure of the given rank).

    Parameters
    ----------
    dims : list of int
        Local dimensions, e.g. ``[2, 2]``.
    rank : int, optional
        Rank of the state (default: full rank).
    seed : int or numpy.random.Generator, optional
        Source of randomness.
    """
    dims = [int(x) for x in dims]
    D = int(np.prod(dims))
    rank = D if rank is None else int(rank)
    if not 1 <= rank <= D:
        raise ValueError(f"rank must lie in [1, {D}], got {rank}")
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(D, rank)) + 1j * rng.normal(size=(D, rank))
    a = g @ g.conj().T
    a /= np.trace(a).real
    return qutip.Qobj(a, dims=[dims, dims])

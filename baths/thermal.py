"""Thermal (Gibbs) states and temperature conventions.

Conventions: hbar = k_B = 1. Temperature enters as the inverse temperature
``beta in [0, inf]``. For a qubit with gap ``omega`` the mean occupation is
``nbar = 1 / (exp(beta omega) - 1)`` (Bose-Einstein, the occupation of the bath mode at
the qubit frequency), so the excited population is ``p1 = nbar / (2 nbar + 1)``.
"""

from __future__ import annotations

import math

import numpy as np
import qutip

__all__ = [
    "beta_from_nbar",
    "beta_from_temperature",
    "nbar_from_beta",
    "qubit_hamiltonian",
    "qudit_hamiltonian",
    "thermal_state",
]


def _check_beta(beta: float, name: str = "beta") -> float:
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number in [0, inf], got {beta!r}") from None
    if math.isnan(beta) or beta < 0:
        raise ValueError(f"{name} must lie in [0, inf], got {beta!r}")
    return beta


def _energies(H) -> tuple[np.ndarray, np.ndarray | None, list | None]:
    """Eigen-energies and eigenvectors of H (a Hermitian Qobj or 1-D energies)."""
    if isinstance(H, qutip.Qobj):
        if not H.isoper or H.shape[0] != H.shape[1]:
            raise ValueError(f"H must be a square operator, got shape {H.shape}")
        a = H.full()
        if not np.all(np.isfinite(a)):
            raise ValueError("H must have finite entries (got inf or nan)")
        if not np.allclose(a, a.conj().T, atol=1e-12 * max(1.0, np.abs(a).max()), rtol=0):
            raise ValueError("H must be Hermitian")
        E, V = np.linalg.eigh((a + a.conj().T) / 2)
        return E, V, H.dims
    a = np.asarray(H)
    if a.ndim == 2:
        if a.shape[0] != a.shape[1]:
            raise ValueError(f"H must be a square matrix or 1-D energies, got shape {a.shape}")
        return _energies(qutip.Qobj(a))
    if a.ndim != 1:
        raise ValueError(f"H must be a Hermitian Qobj or 1-D array of energies, got ndim={a.ndim}")
    if a.size == 0:
        raise ValueError("H must have at least one energy level, got an empty array")
    if not np.isrealobj(a) and np.abs(a.imag).max() > 0:
        raise ValueError("energies in H must be real")
    E = np.asarray(a.real, dtype=float)
    if not np.all(np.isfinite(E)):
        raise ValueError("energies in H must be finite")
    return E, None, None


def thermal_state(H, beta: float) -> qutip.Qobj:
    r"""Gibbs state ``tau = exp(-beta H) / Tr exp(-beta H)``.

    Parameters
    ----------
    H : Qobj or array_like
        A Hermitian operator, or the 1-D array of its energies (then tau is diagonal
        in that order).
    beta : float
        Inverse temperature in ``[0, inf]``. ``beta = 0`` gives ``I/d``; ``beta = inf``
        gives the projector on the ground space divided by its dimension.

    Returns
    -------
    Qobj
        The thermal state, with the dims of H.

    Examples
    --------
    >>> tau = thermal_state([0.0, 1.0], beta=1.0)
    >>> round(float(tau.diag()[1]), 6)   # exp(-1)/(1 + exp(-1))
    0.268941
    """
    beta = _check_beta(beta)
    E, V, dims = _energies(H)
    shifted = E - E.min()
    if math.isinf(beta):
        tol = 1e-12 * max(1.0, float(np.abs(E).max()))
        p = (shifted <= tol).astype(float)
    else:
        p = np.exp(-beta * shifted)
    p /= p.sum()
    if V is None:
        return qutip.Qobj(np.diag(p).astype(complex))
    return qutip.Qobj((V * p) @ V.conj().T, dims=dims)


def qubit_hamiltonian(omega: float = 1.0) -> qutip.Qobj:
    """Qubit Hamiltonian ``H = omega |1><1|`` (ground state ``|0>``)."""
    omega = float(omega)
    if not omega > 0:
        raise ValueError(f"omega must be > 0, got {omega!r}")
    return qutip.Qobj(np.diag([0.0, omega]).astype(complex))


def qudit_hamiltonian(d: int, omega: float = 1.0) -> qutip.Qobj:
    r"""Equally spaced qudit Hamiltonian ``H = omega sum_k k |k><k|``, ``k = 0..d-1``.

    The ladder of a truncated oscillator (``omega a^dag a`` on ``d`` Fock levels) and, at
    ``d = 2``, :func:`qubit_hamiltonian`. Ground state ``|0>``; hbar = 1.

    Parameters
    ----------
    d : int
        Number of levels, ``d >= 2``.
    omega : float
        Level spacing, ``> 0`` (finite).

    Returns
    -------
    Qobj
        The diagonal ``d x d`` Hamiltonian, dims ``[[d], [d]]``.

    Examples
    --------
    >>> H = qudit_hamiltonian(3, omega=0.5)
    >>> H.diag().real.tolist()
    [0.0, 0.5, 1.0]
    >>> tau = thermal_state(H, beta=2.0)   # populations proportional to exp(-beta omega k)
    >>> round(float(tau.diag()[1].real / tau.diag()[0].real), 6)   # exp(-1)
    0.367879
    """
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d!r}")
    try:
        omega = float(omega)
    except (TypeError, ValueError):
        raise TypeError(f"omega must be a real number in (0, inf), got {omega!r}") from None
    if not (omega > 0 and math.isfinite(omega)):
        raise ValueError(f"omega must lie in (0, inf), got {omega!r}")
    return qutip.Qobj(np.diag(omega * np.arange(int(d), dtype=float)).astype(complex))


def nbar_from_beta(beta: float, omega: float = 1.0) -> float:
    """Mean occupation ``nbar = 1/(exp(beta omega) - 1)``; ``inf`` at ``beta = 0``."""
    beta = _check_beta(beta)
    x = beta * float(omega)
    return math.inf if x == 0 else 1.0 / math.expm1(x)


def beta_from_nbar(nbar: float, omega: float = 1.0) -> float:
    """Inverse of :func:`nbar_from_beta`: ``beta = ln(1 + 1/nbar) / omega``, nbar in [0, inf]."""
    nbar = float(nbar)
    if math.isnan(nbar) or nbar < 0:
        raise ValueError(f"nbar must lie in [0, inf], got {nbar!r}")
    if nbar == 0:
        return math.inf
    return math.log1p(1.0 / nbar) / float(omega)


def beta_from_temperature(T: float) -> float:
    """``beta = 1/T`` (k_B = 1); ``T`` in [0, inf]."""
    T = float(T)
    if math.isnan(T) or T < 0:
        raise ValueError(f"T must lie in [0, inf], got {T!r}")
    return math.inf if T == 0 else (0.0 if math.isinf(T) else 1.0 / T)

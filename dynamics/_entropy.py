"""Von Neumann and relative entropies of density matrices (arrays), in one place.

Every entropy in the package (:mod:`~eplt.dynamics.measures`, the time-series
observables, the thermodynamic ledger) goes through this module, so they agree to the
last digit and handle small eigenvalues the same way:

* ``S(rho) = -sum_i l_i log l_i`` over the eigenvalues ``l_i > 0`` of ``rho`` (``0 log 0 = 0``;
  the rounding-level negative eigenvalues of a numerically positive matrix are dropped).
* ``S(rho || sigma) = Tr rho log rho - Tr rho log sigma`` with ``log sigma`` taken on the
  *support* of ``sigma``. There is no absolute eigenvalue cutoff (a cutoff of 1e-14
  turned ``D(Phi+ || tau (x) tau) = beta omega + 2 log(1 + e^{-beta omega})`` into inf
  for ``beta omega > 16``): a diagonal ``sigma`` (every thermal state of a diagonal
  Hamiltonian, and their products) has its exact diagonal as spectrum, and any positive
  entry, however small (down to the smallest double), is in the support; for a general
  ``sigma`` the eigenvalues from ``eigh`` carry an absolute error of about
  ``d eps ||sigma||``, so those below :func:`resolution` of the spectrum are its kernel.
  The result is ``inf`` when ``rho`` puts weight above the same resolution on that kernel.

Natural logarithms (nats) unless ``base`` is given.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "checked_spectrum",
    "entropy_arr",
    "relative_entropy_arr",
    "resolution",
    "spectrum",
    "thermal_relative_entropy_arr",
]

_EPS = float(np.finfo(float).eps)


def _log(x: np.ndarray, base: float | None) -> np.ndarray:
    return np.log(x) if base is None else np.log(x) / math.log(base)


def _hermitian(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return (a + a.conj().T) / 2


def resolution(lam: np.ndarray, d: int) -> float:
    """Eigenvalues of a ``d x d`` Hermitian matrix from ``eigh`` are exact to about this
    (``8 d eps max|lam|``); smaller ones cannot be told from zero."""
    return 8.0 * d * _EPS * float(np.abs(lam).max(initial=0.0))


def spectrum(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Eigenvalues, eigenvectors (columns) and the absolute resolution of the eigenvalues
    of the Hermitian part of ``a``: exact (resolution 0) when ``a`` is diagonal."""
    a = _hermitian(a)
    d = a.shape[0]
    diag = np.diagonal(a).real.copy()
    if not np.any(a - np.diag(diag)):
        return diag, np.eye(d), 0.0
    lam, vec = np.linalg.eigh(a)
    return lam, vec, resolution(lam, d)


def checked_spectrum(a: np.ndarray, name: str, atol: float = 1e-8):
    """:func:`spectrum` of a density matrix, or a ValueError naming ``name`` when ``a``
    is not one to ``atol`` (finite, Hermitian, trace 1, no eigenvalue below ``-atol``);
    the checks reuse the eigenvalues, so validation costs one comparison."""
    a = np.asarray(a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} has a non-finite entry; a density matrix is finite")
    if np.abs(a - a.conj().T).max(initial=0.0) > atol:
        raise ValueError(f"{name} must be Hermitian (to {atol:g})")
    lam, vec, res = spectrum(a)
    tr = float(lam.sum())
    if abs(tr - 1) > atol:
        raise ValueError(f"{name} must have trace 1 (to {atol:g}), got trace {tr:.6g}")
    if lam.min(initial=0.0) < -atol:
        raise ValueError(
            f"{name} must be positive semidefinite, smallest eigenvalue {lam.min():.3g} < -{atol:g}"
        )
    return lam, vec, res


def _entropy_of(lam: np.ndarray, base: float | None) -> float:
    lam = lam[lam > 0]
    # >= 0 exactly; a pure state's eigenvalue 1 + O(eps) would give -1e-17
    return max(0.0, float(-(lam * _log(lam, base)).sum()))


def entropy_arr(a: np.ndarray, base: float | None = None) -> float:
    """``S = -Tr a log a`` of a density matrix ``a`` (nats unless ``base``)."""
    return _entropy_of(spectrum(a)[0], base)


def relative_entropy_arr(
    a: np.ndarray, b: np.ndarray, base: float | None = None, *, names: tuple | None = None
) -> float:
    """``S(a || b) = Tr a (log a - log b)`` of density matrices of equal shape, with
    ``log b`` on the support of ``b`` (see the module docstring); ``inf`` when ``a`` has
    weight outside that support. ``names``: validate ``a`` and ``b`` as density matrices
    (:func:`checked_spectrum`) under those names."""
    if names is None:
        (la, va, res_a), (lb, vb, res_b) = spectrum(a), spectrum(b)
    else:
        la, va, res_a = checked_spectrum(a, names[0])
        lb, vb, res_b = checked_spectrum(b, names[1])
    d = la.size
    # Tr a log b = sum_j w_j log lb_j,  w_j = <b_j| a |b_j> = sum_i la_i |<a_i|b_j>|^2
    overlap = np.abs(va.conj().T @ vb) ** 2
    w = (la.clip(min=0)[:, None] * overlap).sum(axis=0)
    kernel = lb <= res_b
    # weight of a on the kernel of b: exact when both are diagonal, else zero up to the
    # rounding of the two decompositions
    exact = res_a == 0 and res_b == 0
    if np.any(w[kernel] > (0.0 if exact else max(res_a, res_b, resolution(la, d)))):
        return math.inf
    keep = ~kernel
    cross = float((w[keep] * _log(lb[keep], base)).sum())
    value = -_entropy_of(la, base) - cross
    # Klein's inequality: S(a || b) >= 0 for density matrices; rounding may leave -1e-16
    return 0.0 if -1e-12 < value < 0 else value + 0.0


def thermal_relative_entropy_arr(
    a: np.ndarray, h: np.ndarray, beta: float, base: float | None = None
) -> float:
    """``S(a || tau_beta)`` for the Gibbs state ``tau = exp(-beta h) / Z`` of the Hermitian
    ``h``, from ``log tau = -beta h - log Z`` (never forming tau):
    ``S(a || tau) = -S(a) + beta Tr(a h) + log Z``, ``log Z = -beta E_0 + log sum_i
    exp(-beta (E_i - E_0))``. ``beta = 0``: ``log d - S(a)``; ``beta = inf``: tau is the
    normalized ground-space projector, ``log g - S(a)`` when ``a`` lies in the ground space
    (to the resolution of ``eigh``), else ``inf``."""
    a = _hermitian(a)
    h = _hermitian(h)
    d = a.shape[0]
    energies, vec = np.linalg.eigh(h)
    e0 = float(energies[0])
    scale = max(1.0, float(np.abs(energies).max()))
    if math.isinf(beta):
        excited = vec[:, energies - e0 > 8.0 * d * _EPS * scale]
        weight = float(np.real(np.einsum("ij,ik,kj->", excited.conj(), a, excited)))
        if weight > resolution(np.linalg.eigvalsh(a), d):
            return math.inf
        log_z = math.log(d - excited.shape[1])
        value = log_z - entropy_arr(a)
    else:
        # beta Tr(a h) + log Z = beta Tr(a (h - E_0)) + log sum_i exp(-beta (E_i - E_0))
        log_sum = math.log(float(np.exp(-beta * (energies - e0)).sum()))
        mean = float(np.real(np.trace(a @ (h - e0 * np.eye(d))))) if beta else 0.0
        value = beta * mean + log_sum - entropy_arr(a)
    value = value if base is None else value / math.log(base)
    return 0.0 if -1e-12 < value < 0 else value + 0.0

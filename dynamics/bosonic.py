r"""Bosonic modes on a Fock cutoff: states and the cutoff-convergence check.

Conventions: hbar = k_B = 1; a mode has ``H = omega a^dag a`` with Fock states
``|0>, |1>, ...``; ``q = exp(-beta omega)``; a *cutoff* ``N`` keeps the levels
``0..N-1`` (``a`` is ``qutip.destroy(N)``). Two-mode states have dims ``[[N, N], [N, N]]``
and partial transposes act on the second mode.

Every state here is built on an explicit ``cutoff``: the amplitudes beyond it are
dropped and the state renormalised. The trace distance ``D`` between the truncated and
the untruncated state is known in closed form (for a pure state with dropped weight
``w``, ``D = sqrt(w)``; for a diagonal state ``D = w``); when it exceeds ``cutoff_tol`` a
one-line :class:`CutoffWarning` names the cutoff, so an unconverged state is never
handed out silently.

* :func:`fock_state` ``|n><n|`` (exact if ``n < cutoff``);
* :func:`coherent_state` ``|alpha> = e^{-|alpha|^2/2} sum_n alpha^n/sqrt(n!) |n>``,
  ``D = sqrt(1 - sum_{n<N} e^{-|alpha|^2} |alpha|^(2n)/n!)``;
* :func:`thermal_oscillator` ``tau = (1-q) sum_n q^n |n><n|``, ``D = q^N``;
* :func:`two_mode_squeezed_vacuum` ``sqrt(1 - lambda^2) sum_n lambda^n |nn>``,
  ``D = lambda^N``, negativity ``lambda/(1 - lambda)`` (:func:`tmsv_negativity`; the
  truncated, renormalised state's negativity is lower by exactly
  ``lambda^N (1 + lambda)/((1 - lambda)(1 + lambda^N))``);
* :func:`thermofield_double_oscillator` ``sum_n sqrt((1-q) q^n) |nn>`` (the TMSV with
  ``lambda = sqrt(q)``), both marginals ``tau``; negativity ``sqrt(q)/(1 - sqrt(q))``,
  the largest any state with thermal marginals has (the any-LT ceiling); ``D = q^(N/2)``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import qutip
import scipy.special

from .thermofield import any_lt_negativity_geometric

__all__ = [
    "CUTOFF_TOL",
    "CutoffWarning",
    "check_cutoff",
    "coherent_state",
    "cutoff_dimension",
    "edge_population",
    "fock_state",
    "oscillator_populations",
    "thermal_oscillator",
    "thermofield_double_oscillator",
    "tmsv_coefficients",
    "tmsv_negativity",
    "two_mode_squeezed_vacuum",
]

#: Default tolerance on the weight a cutoff may drop before a :class:`CutoffWarning`.
CUTOFF_TOL = 1e-8


class CutoffWarning(UserWarning):
    """A reported number could change by more than its stated tolerance with a larger cutoff."""


def check_cutoff(error: float, tol: float, *, name: str = "cutoff", what: str = "result") -> bool:
    """Warn (one line, :class:`CutoffWarning`) when ``error > tol``; return True when converged.

    ``name`` is the parameter the user should raise (e.g. ``"cutoff"``), ``what`` the
    quantity concerned.

    Examples
    --------
    >>> check_cutoff(1e-12, 1e-8)
    True
    """
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if not error <= tol:  # nan counts as not converged
        warnings.warn(
            f"{what} not converged in the Fock cutoff: estimated error {error:.3g} > tolerance "
            f"{tol:.3g}; increase {name}",
            CutoffWarning,
            stacklevel=2,
        )
        return False
    return True


def cutoff_dimension(cutoff, minimum: int = 1) -> int:
    """``cutoff`` checked as a Fock-space dimension: an integer ``>= minimum`` (one line
    naming ``cutoff`` and the bound otherwise).

    Examples
    --------
    >>> cutoff_dimension(30)
    30
    """
    if not isinstance(cutoff, (int, np.integer)) or isinstance(cutoff, bool) or cutoff < minimum:
        raise ValueError(f"cutoff must be an integer >= {minimum}, got {cutoff!r}")
    return int(cutoff)


def _tol(cutoff_tol) -> float:
    t = float(cutoff_tol)
    if not t > 0:
        raise ValueError(f"cutoff_tol must be > 0, got {cutoff_tol!r}")
    return t


def _q(beta, omega) -> float:
    beta, omega = float(beta), float(omega)
    if not (omega > 0 and math.isfinite(omega)):
        raise ValueError(f"omega must be a finite number > 0, got {omega!r}")
    if math.isnan(beta) or beta <= 0:
        raise ValueError(
            f"beta must lie in (0, inf] (an oscillator has no thermal state at beta = 0), "
            f"got {beta!r}"
        )
    q = 0.0 if math.isinf(beta) else math.exp(-beta * omega)
    if q >= 1.0:
        raise ValueError(
            f"beta * omega = {beta * omega:g} is too small: q = exp(-beta omega) rounds to 1 "
            "(no normalisable thermal state); beta must lie in (0, inf]"
        )
    return q


def _density(v: np.ndarray, dims) -> qutip.Qobj:
    return qutip.Qobj(np.outer(v, v.conj()), dims=[dims, dims])


def fock_state(n: int, *, cutoff: int) -> qutip.Qobj:
    """``|n><n|`` on levels ``0..cutoff-1`` (``n < cutoff``).

    Examples
    --------
    >>> fock_state(2, cutoff=4).diag().tolist()
    [0.0, 0.0, 1.0, 0.0]
    """
    N = cutoff_dimension(cutoff)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 0 <= n < N:
        raise ValueError(f"n must be an integer in [0, cutoff - 1] = [0, {N - 1}], got {n!r}")
    return qutip.fock_dm(N, int(n))


def coherent_state(alpha: complex, *, cutoff: int, cutoff_tol: float = CUTOFF_TOL) -> qutip.Qobj:
    r"""Coherent state ``|alpha>``, amplitudes ``e^{-|alpha|^2/2} alpha^n/sqrt(n!)``, ``n < cutoff``.

    Built from the analytic amplitudes (not ``exp(alpha a^dag - alpha^* a)`` on the cutoff,
    whose top levels are wrong), then renormalised; warns when the trace distance to the
    untruncated state, ``sqrt(1 - e^{-|alpha|^2} sum_{n<N} |alpha|^(2n)/n!)``, exceeds
    ``cutoff_tol``.

    Examples
    --------
    >>> rho = coherent_state(1.0, cutoff=30)
    >>> round(float(qutip.expect(qutip.num(30), rho)), 10)    # <n> = |alpha|^2
    1.0
    """
    N = cutoff_dimension(cutoff)
    alpha = complex(alpha)
    if not (math.isfinite(alpha.real) and math.isfinite(alpha.imag)):
        raise ValueError(f"alpha must be a finite complex number, got {alpha!r}")
    n = np.arange(N)
    a2 = abs(alpha) ** 2
    if alpha == 0:
        v = np.eye(N, dtype=complex)[0]
        tail = 0.0
    else:
        logmag = -a2 / 2 + n * math.log(abs(alpha)) - 0.5 * scipy.special.gammaln(n + 1)
        # relative to the largest amplitude: no underflow when the state lies far
        # beyond the cutoff (the renormalisation below removes the common factor)
        v = np.exp(logmag - logmag.max()) * np.exp(1j * np.angle(alpha) * n)
        tail = float(scipy.special.gammainc(N, a2))  # P(Poisson(|alpha|^2) >= N)
    check_cutoff(math.sqrt(tail), _tol(cutoff_tol), what=f"coherent state alpha={alpha:g}")
    return _density(v / np.linalg.norm(v), [N])


def oscillator_populations(beta: float, *, cutoff: int, omega: float = 1.0) -> np.ndarray:
    """Thermal populations ``(1 - q) q^n``, ``n < cutoff``, *not* renormalised (sum ``1 - q^N``).

    Examples
    --------
    >>> oscillator_populations(math.log(2), cutoff=3).tolist()
    [0.5, 0.25, 0.125]
    """
    q = _q(beta, omega)
    N = cutoff_dimension(cutoff)
    return (1 - q) * q ** np.arange(N)


def thermal_oscillator(
    beta: float, *, cutoff: int, omega: float = 1.0, cutoff_tol: float = CUTOFF_TOL
) -> qutip.Qobj:
    r"""Thermal state ``tau = (1 - q) sum_n q^n |n><n|`` truncated at ``cutoff`` and renormalised.

    Mean occupation ``nbar = q/(1 - q)``; the trace distance to the untruncated state is
    ``q^N`` (warns above ``cutoff_tol``). ``beta = inf`` gives ``|0><0|``.

    Examples
    --------
    >>> tau = thermal_oscillator(1.0, cutoff=40)
    >>> round(float(tau.diag()[0]), 10)           # 1 - e^{-1}
    0.6321205588
    """
    q = _q(beta, omega)
    N = cutoff_dimension(cutoff)
    check_cutoff(q**N, _tol(cutoff_tol), what=f"thermal state (q={q:.4g})")
    p = q ** np.arange(N)
    return qutip.Qobj(np.diag(p / p.sum()), dims=[[N], [N]])


def tmsv_coefficients(lam: float, *, cutoff: int) -> np.ndarray:
    """``sqrt(1 - lambda^2) lambda^n``, ``n < cutoff`` (not renormalised; weight ``1 - lambda^(2N)``)."""
    lam = float(lam)
    if not 0 <= lam < 1:
        raise ValueError(f"lam must lie in [0, 1), got {lam!r}")
    return math.sqrt(1 - lam * lam) * lam ** np.arange(cutoff_dimension(cutoff))


def two_mode_squeezed_vacuum(
    lam: float, *, cutoff: int, cutoff_tol: float = CUTOFF_TOL
) -> qutip.Qobj:
    r"""``|TMSV> = sqrt(1 - lambda^2) sum_n lambda^n |nn>`` on two modes, renormalised at the cutoff.

    ``lambda = tanh(r)`` for squeezing ``r``; mean photon number per mode
    ``lambda^2/(1 - lambda^2)``; negativity ``lambda/(1 - lambda)`` (untruncated). The
    trace distance to the untruncated state, ``lambda^N``, warns above ``cutoff_tol``.
    Dims ``[[N, N], [N, N]]``.

    Examples
    --------
    >>> from eplt.dynamics.measures import negativity
    >>> round(negativity(two_mode_squeezed_vacuum(0.5, cutoff=30)), 8)   # 0.5/(1 - 0.5)
    1.0
    """
    N = cutoff_dimension(cutoff)
    c = tmsv_coefficients(lam, cutoff=N)
    check_cutoff(float(lam) ** N, _tol(cutoff_tol), what=f"TMSV lam={float(lam):g}")
    v = np.zeros(N * N, dtype=complex)
    v[:: N + 1] = c / np.linalg.norm(c)
    return _density(v, [N, N])


def tmsv_negativity(lam: float) -> float:
    """Negativity ``lambda/(1 - lambda)`` of the (untruncated) two-mode squeezed vacuum.

    The TMSV is the thermofield double of ``q = lambda^2``; its negativity is the any-LT
    ceiling :func:`eplt.dynamics.thermofield.any_lt_negativity_geometric` at ``r = lambda``
    (one implementation).

    Examples
    --------
    >>> tmsv_negativity(0.5)
    1.0
    """
    lam = float(lam)
    if not 0 <= lam < 1:
        raise ValueError(f"lam must lie in [0, 1), got {lam!r}")
    return any_lt_negativity_geometric(lam)


def thermofield_double_oscillator(
    beta: float, *, cutoff: int, omega: float = 1.0, cutoff_tol: float = CUTOFF_TOL
) -> qutip.Qobj:
    r"""Thermofield double ``sum_n sqrt((1-q) q^n) |nn>`` of two modes: the TMSV at ``lambda = sqrt(q)``.

    Both marginals are the thermal state; its negativity ``sqrt(q)/(1 - sqrt(q))`` is the
    largest of any state with these marginals, so it bounds every locally thermalizing
    channel's output (the any-LT ceiling). Trace distance to the untruncated state
    ``q^(N/2)``.

    Examples
    --------
    >>> tfd = thermofield_double_oscillator(2.0, cutoff=20)
    >>> round(float(tfd.ptrace(0).diag()[0]), 10)     # 1 - e^{-2}
    0.8646647168
    """
    q = _q(beta, omega)
    if q == 0:
        raise ValueError("beta must be finite for the thermofield double (q = 0 is |00>)")
    return two_mode_squeezed_vacuum(math.sqrt(q), cutoff=cutoff, cutoff_tol=cutoff_tol)


def edge_population(rho: qutip.Qobj, *, levels: int = 1) -> float:
    r"""Largest population, over the modes of ``rho``, in each mode's top ``levels`` Fock levels.

    ``max_k Tr[(sum_{n >= N_k - levels} |n><n|)_k rho]``: a proxy for the weight a larger
    cutoff would add; feed its maximum over a run to :func:`check_cutoff`.

    Examples
    --------
    >>> edge_population(fock_state(3, cutoff=4))
    1.0
    """
    if not isinstance(rho, qutip.Qobj):
        raise TypeError(f"rho must be a qutip.Qobj, got {type(rho).__name__}")
    if rho.isket:
        rho = qutip.ket2dm(rho)
    dims = [int(d) for d in rho.dims[0]]
    if not isinstance(levels, (int, np.integer)) or not 1 <= levels <= min(dims):
        raise ValueError(f"levels must be an integer in [1, {min(dims)}], got {levels!r}")
    diag = np.real(np.diagonal(rho.full())).reshape(dims)
    out = 0.0
    for k, d in enumerate(dims):
        marg = diag.sum(axis=tuple(j for j in range(len(dims)) if j != k))
        out = max(out, float(marg[d - levels :].sum()))
    return out

"""The reference channels of the :mod:`eplt.studies.speedup` study and their certified
thermalization times (re-exported there).

* :func:`channel_time`: the channel-level ``t_eps`` of a semigroup whose ``lt_error``
  decays monotonically (independent thermal resets, GAD);
* :func:`reference_time`: the study input's own ``t_eps`` under GAD (per input);
* :func:`eps_and_kappa_dependence`: the channel-level speed-up against eps and kappa/r;
* the certified twirl time of the shared drive at ``kappa = 1`` (the time at ``kappa``
  is that over ``kappa``) and the zero-temperature damping protocol stopped at
  ``ln(1/gamma)/r``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import qutip
from eplt.baths import (
    Environment,
    Protocol,
    certified_twirl_time,
    qubit_hamiltonian,
    thermal_bath,
    thermal_reset,
    thermal_state,
)
from eplt.dynamics import evolve, marginal_channels
from eplt.dynamics.channels import eplt_channel, lt_error
from eplt.dynamics.metrics import thermalization_time
from eplt.dynamics.propagators import decay_root, marginal_evaluator

from .params import ParamError, value_key

__all__ = [
    "certify_at_t_star",
    "channel_time",
    "eps_and_kappa_dependence",
    "reference_time",
]


def _twirl_time(tau, rate, kappa, eps) -> float:
    try:
        return certified_twirl_time(tau, tau, rate=rate, kappa=kappa, eps=eps)
    except ValueError as e:
        if "without twirl" in str(e):
            lt0 = str(e).split("lt_error is ")[1].split(" ")[0]
            raise ParamError(
                f"kappa = 0 (no twirl) leaves lt_error = {lt0} > eps = {eps:g}: set kappa in"
                f" [1e-06, 1e+06] or raise eps above {lt0}"
            ) from None
        if "kappa" in str(e):
            raise ParamError(str(e)) from None
        raise


def certify_at_t_star(tau, H, beta, rate: float, kappa: float, eps: float, t_twirl: float):
    """``t_twirl``, lengthened if needed so that the protocol's channel at the time the
    study reports, ``t* = t_twirl + ln(1/gamma)/rate`` in floating point, has
    ``lt_error <= eps``.

    :func:`certified_twirl_time` finds the root to ~1e-14 relative, but at a small
    ``kappa`` ``t*`` is large (2.8e6 at ``kappa = 1e-6``) and rounding it moves the reset
    stage by an ulp (4.7e-10), which moved ``lt_error(t*)`` to ``1.00000005e-3`` against
    ``eps = 1e-3``. The twirl is lengthened by steps that double from the linearised
    shortfall ``(lt - eps)/(2 kappa eps)`` until the channel at ``t*`` satisfies ``eps``:
    a bracket on the side of the root where the protocol is eps-LT. Returns
    ``(t_twirl, lt_error at t*)``.
    """
    from eplt.baths import eplt_protocol

    gamma = eplt_channel(tau, tau).gamma
    t_reset = math.log(1 / gamma) / rate

    def lt_at(t_tw: float) -> float:
        proto, _ = eplt_protocol(tau, tau, H, H, beta, rate=rate, kappa=kappa, t_twirl=t_tw)
        return _lt(proto, t_tw + t_reset, tau)

    lt = lt_at(t_twirl)
    if lt <= eps or not kappa > 0:
        return t_twirl, lt
    step = max((lt - eps) / (2 * kappa * eps), 4 * math.ulp(t_twirl + t_reset))
    for _ in range(60):
        t_new = t_twirl + step
        lt = lt_at(t_new)
        if lt <= eps:
            return t_new, lt
        step *= 2
    raise ParamError(  # pragma: no cover - the twirl contracts by e^{-2 kappa t}
        f"no twirl time certifies lt_error <= eps = {eps:g} at t* for kappa = {kappa:g},"
        f" rate = {rate:g}; raise eps"
    )


def _gad_env(H, beta, rate, tau):
    return Environment(
        (2, 2),
        [
            thermal_bath(0, H, beta, relaxation_rate=rate),
            thermal_bath(1, H, beta, relaxation_rate=rate),
        ],
        taus=(tau, tau),
    )


def _reset_env(tau, rate):
    return Environment(
        (2, 2), [thermal_reset(0, tau, rate), thermal_reset(1, tau, rate)], taus=(tau, tau)
    )


def _damping_protocol(H, beta, rate, tau, t_stop):
    damp = Environment(
        (2, 2),
        [
            thermal_bath(0, H, math.inf, relaxation_rate=rate),
            thermal_bath(1, H, math.inf, relaxation_rate=rate),
        ],
        taus=(tau, tau),
    )
    return Protocol([(t_stop, damp), (math.inf, _gad_env(H, beta, rate, tau))], taus=(tau, tau))


def _lt(protocol, t, tau) -> float:
    return float(lt_error(marginal_channels(protocol, t), tau))


def channel_time(env, tau, eps: float, rate: float) -> float:
    """Channel-level t_eps of a semigroup whose lt_error decays monotonically (thermal
    resets, GAD): brentq (xtol 1e-12) on ``lt_error(E_t) - eps`` after doubling the bracket
    (narrowed by one log-secant guess, :func:`eplt.dynamics._ltsolvers.decay_root`).
    The headline numbers use :func:`eplt.dynamics.lt_time`, which does not assume monotonicity
    (tests check both agree)."""
    marg = marginal_evaluator(env)

    def lt(t):
        return float(lt_error(marg(t), tau))

    hi = 1.0 / rate
    f_hi = lt(hi) - eps
    f_lo = None
    while f_hi > 0:
        hi, f_lo = hi * 2, f_hi
        f_hi = lt(hi) - eps
    lo = hi / 2 if hi > 1.0 / rate else 0.0
    if f_lo is None:
        f_lo = lt(lo) - eps
    return decay_root(lambda t: lt(t) - eps, lo, hi, f_lo, f_hi, eps, xtol=1e-12)


@functools.lru_cache(maxsize=4096)
def _reset_t_eps(omega: float, beta: float, rate: float, eps: float) -> float:
    """Channel-level t_eps of independent thermal resets (cached: crossovers revisit betas)."""
    tau = thermal_state(qubit_hamiltonian(omega), beta)
    return channel_time(_reset_env(tau, rate), tau, eps, rate)


@functools.lru_cache(maxsize=4096)
def _unit_twirl(omega: float, beta: float, rate: float, eps: float) -> float:
    """Certified twirl time at kappa = 1 (the time at kappa is this over kappa)."""
    tau = thermal_state(qubit_hamiltonian(omega), beta)
    return _twirl_time(tau, rate, 1.0, eps)


def eps_and_kappa_dependence(
    p: dict, ratios: list[float], eps_values, eps_grid, kappa_ratio_grid
) -> dict:
    """The channel-level speed-up at the study's beta against eps and kappa/r.

    ``S(eps, kappa) = t_eps(thermal resets) / (t_twirl(eps)/kappa + ln(1/gamma)/r)`` with the
    certified twirl time at ``kappa = 1`` (the drive's averaged generator is ``kappa L_1``).
    Returns the summary dicts ``speedup_vs_eps`` (``eps_values`` and the study's eps, at its
    kappa) and ``speedup_vs_kappa_ratio`` (``ratios`` and the study's kappa/r, at its eps),
    and the figure's grids ``eps_grid`` (ratio, eps) and ``kappa_grid`` (eps value, ratio);
    ``None`` where a twirl is needed and ``kappa = 0``."""
    omega, beta, r, kappa = p["omega"], p["beta"], p["rate"], p["kappa"]
    tau = thermal_state(qubit_hamiltonian(omega), beta)
    t_reset = math.log(1 / eplt_channel(tau, tau).gamma) / r

    def S(eps: float, k: float) -> float | None:
        unit = _unit_twirl(omega, beta, r, float(eps))
        if unit > 0 and k == 0:
            return None  # a twirl is needed and the drive is off: never eps-LT
        tw = 0.0 if (math.isinf(k) or unit == 0) else unit / k
        return _reset_t_eps(omega, beta, r, float(eps)) / (tw + t_reset)

    eps_all = sorted(set(eps_values) | {p["eps"]}, reverse=True)
    kr = sorted(set(ratios) | {kappa / r})
    return {
        "speedup_vs_eps": {value_key(e): S(e, kappa) for e in eps_all},
        "speedup_vs_kappa_ratio": {value_key(x): S(p["eps"], x * r) for x in kr},
        "eps_grid": np.array([[S(e, x * r) for e in eps_grid] for x in ratios], dtype=float),
        "kappa_grid": np.array(
            [[S(e, x * r) for x in kappa_ratio_grid] for e in eps_values], dtype=float
        ),
    }


def _marginal_distances(rho0: qutip.Qobj, protocol, tau: qutip.Qobj):
    """``t -> [D(Tr_B rho(t), tau), D(Tr_A rho(t), tau)]`` through the marginal channels
    (``Tr_{not k} E_t(rho0) = M_k(t)(Tr_{not k} rho0)``, exact): the same values as
    ``value_at(rho0, protocol, "marginal_distance")`` without evolving the joint state."""
    marg = marginal_evaluator(protocol)
    rho_k = [rho0.ptrace(k).full().reshape(-1, order="F") for k in range(len(rho0.dims[0]))]
    t_k = tau.full()

    def f(t: float) -> np.ndarray:
        out = []
        for M, r in zip(marg(max(float(t), 0.0)), rho_k):
            x = (M.full() @ r).reshape(t_k.shape, order="F") - t_k
            out.append(float(np.abs(np.linalg.eigvalsh((x + x.conj().T) / 2)).sum() / 2))
        return np.array(out)

    return f


def reference_time(rho0: qutip.Qobj, omega: float, beta: float, rate: float, eps: float) -> float:
    """The input's own t_eps under GAD (per input), by root finding to 1e-12."""
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, beta)
    env = _gad_env(H, beta, rate, tau)

    dist = _marginal_distances(rho0, env, tau)
    t_hi = math.log(max(1.0, 1.0 / eps)) / rate * 3 + 1.0 / rate
    times = np.linspace(0, t_hi, 61)
    d = evolve(rho0, env, times, e_ops=["marginal_distance"]).expect["marginal_distance"]
    return float(thermalization_time(times, d, eps, refine=dist, xtol=1e-12).time)

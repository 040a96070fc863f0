"""Per-temperature numbers of the :mod:`eplt.studies.speedup` study (private): the
reference and protocol times and the final negativities at one beta, the entanglement
lifetime after a protocol's ``t*``, and the crossover beta where the speed-up falls to 1.
"""

from __future__ import annotations

import math

import numpy as np
import qutip
from eplt.baths import eplt_protocol, qubit_hamiltonian, thermal_state
from eplt.dynamics import evolve, propagator
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.measures import negativity
from eplt.dynamics.metrics import sudden_death_time
from scipy.optimize import brentq

from ._speedup_times import _gad_env, _reset_t_eps, _unit_twirl, channel_time, reference_time
from .base import value_at

#: Shared drive and shared clock of each protocol (``eplt_protocol``'s flags).
_SHARING = {
    "correlated": (True, True),
    "shared_drive_independent_clocks": (True, False),
    "independent": (False, False),
}


def _lifetime(rho0, protocol, t_s: float, rate: float) -> float:
    """Time from ``t_s`` until the negativity stays 0 (0 if separable at ``t_s``)."""
    f = value_at(rho0, protocol, "negativity")
    if f(t_s) <= 1e-12:
        return 0.0
    times = t_s + np.linspace(0.0, 20.0 / rate, 201)
    grid = np.union1d([0.0], times)
    neg = evolve(rho0, protocol, grid, e_ops=["negativity"]).expect["negativity"][1:]
    c = sudden_death_time(times, neg, refine=f, xtol=1e-10)
    return math.inf if c.time is None else float(c.time - t_s)


def _beta_point(b, p, kappas, rho0):
    """Everything the curves need at one beta (study kappa and input)."""
    omega, r, eps = p["omega"], p["rate"], p["eps"]
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, b)
    gamma = eplt_channel(tau, tau).gamma
    t_reset = math.log(1 / gamma) / r
    unit = _unit_twirl(omega, float(b), r, eps)  # kappa = 1; at kappa: unit/kappa (kappa L_1)
    ref = _reset_t_eps(omega, float(b), r, eps)
    out = {
        "t_eps_resets": ref,
        "t_eps_gad": channel_time(_gad_env(H, b, r, tau), tau, eps, r),
        "t_eps_input": reference_time(rho0, omega, b, r, eps),
        "t_star_by_kappa": [t_reset + (0.0 if math.isinf(k) else unit / k) for k in kappas],
    }
    kappa = p["kappa"]
    t_tw = unit / kappa if unit > 0 else 0.0
    out["t_star"] = t_reset + t_tw
    for name in ("correlated", "shared_drive_independent_clocks"):
        sd, sc = _SHARING[name]
        proto, ts = eplt_protocol(
            tau,
            tau,
            H,
            H,
            b,
            rate=r,
            kappa=kappa,
            t_twirl=t_tw,
            shared_drive=sd,
            shared_clock=sc,
            hold=False,
        )
        S = propagator(proto, ts)
        out[name] = negativity(qutip.vector_to_operator(S @ qutip.operator_to_vector(rho0)))
    return out


def _crossover(p, betas, S, kappa):
    """Largest beta in the grid range where the channel-level S crosses 1 from above."""
    idx = np.nonzero((S[:-1] >= 1) & (S[1:] < 1))[0]
    if idx.size == 0:
        return None
    omega, r, eps = p["omega"], p["rate"], p["eps"]

    def f(b):
        b = float(b)
        tau = thermal_state(qubit_hamiltonian(omega), b)
        gamma = eplt_channel(tau, tau).gamma
        tw = 0.0 if math.isinf(kappa) else _unit_twirl(omega, b, r, eps) / kappa
        return _reset_t_eps(omega, b, r, eps) / (tw + math.log(1 / gamma) / r) - 1

    i = idx[-1]
    return float(brentq(f, betas[i], betas[i + 1], xtol=1e-10))

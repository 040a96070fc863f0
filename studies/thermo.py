r"""Thermodynamic ledger of the speed-up scenarios: what the shared randomness costs.

Two qubits (``H = omega |1><1|`` each) start in Phi+ and are brought to thermal marginals
``tau`` at ``beta`` by the scenarios of the ``speedup`` study: ``gad`` (independent
thermal baths, generalized amplitude damping), ``thermal_resets`` (independent resets to ``tau``: a collision bath at
``beta``), ``correlated`` (shared drive, then shared reset clock),
``shared_drive_independent_clocks`` and ``independent``. The three protocols use the same
certified, input-independent twirl time (:func:`eplt.baths.certified_twirl_time`,
``ln(gamma/(2 eps))/(2 kappa)`` for this drive): their channel at
``t* = t_twirl + ln(1/gamma)/r`` is eps-LT for every input (``lt_error_at_t_star``; the
local dynamics, and so the LT error, are the same for shared and independent randomness).
After ``t*`` they hold with thermal baths at ``beta``.

The ledger (:func:`eplt.dynamics.thermo.energy_ledger`) classifies every energy flow:
*work* by the drives, *heat* from the thermal baths at ``beta``, and *reservoir*
exchange with the reset clocks, whose target omega is the qubit ground state (a
zero-temperature resource, not a bath at ``beta``). Each reset costs the nonequilibrium
free energy ``F(omega) - F(tau) = S(omega||tau)/beta = ln(1 + e^{-beta omega})/beta``;
``ln(1/gamma)`` resets per qubit are expected before ``t*``. Entropy production
``Sigma = Delta S - beta Q >= 0`` (Spohn) holds on the stages with drives and thermal baths
only. On the reset stage the reservoir state is pure (``omega = |0><0|``, a zero-temperature
resource, not a bath at ``beta``), so Spohn's inequality does not apply, and ``Q`` (heat from
baths at ``beta``) leaves out the exchange with it: ``Delta S - beta Q`` may fall there, which
is *not* a second-law violation, and the total ``entropy_production`` of a scenario with a
reset stage is undefined (null, the reason in ``entropy_production_undefined``); the sum over
the bounded stages is ``entropy_production_bounded_stages``. The price of the reset stage is
the reservoir's free energy: ``reservoir_cost_per_reset`` times ``expected_resets_per_party``
per qubit (both in the ``ledger`` figure).

Closed forms at ``beta omega = 1`` (tests check them):
``I(A:B)(t*) = 0.749701`` nats (shared clock: ``E_gamma(Phi+)``), ``0.130875``
(independent clocks), ``D(Phi+ || tau (x) tau) = -ln(p0 p1) = 1.626523``, and the energy
change per qubit at ``t*``, ``omega (p1 - 1/2) = -0.231059``, all delivered by the
reservoir. For thermal baths alone ``Sigma(t) = D(rho0||tau^2) - D(rho_t||tau^2)``; after
``t*`` the hold turns the mutual information into entropy production.

Shared random bits: the Brownian drive consumes a continuum (``inf``; a Clifford
2-design would do with ``log2 24`` bits, see the ``robustness`` study); the state at
``t*`` depends on the shared clock only through "at least one tick before ``t*``", a
coin with ``P(no tick) = gamma``: ``h2(gamma)`` bits.

Figures: ``ledger`` (energy change of qubit A, relative entropy to ``tau (x) tau``, mutual
information, and the entropy balance ``Delta S - beta Q`` against time, with the reservoir's
cost per reset and the resets per qubit stated on it).

Summary keys: see :data:`SUMMARY_KEYS`. Energies in units of ``omega``, entropies in nats,
times in ``1/omega``.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import qutip
import xarray as xr
from eplt.baths import Environment, qubit_hamiltonian, thermal_bath, thermal_reset, thermal_state
from eplt.baths.protocols import certified_twirl_time, eplt_protocol
from eplt.dynamics import evolve, marginal_channels
from eplt.dynamics.channels import eplt_channel, lt_error
from eplt.dynamics.measures import binary_entropy as _h2
from eplt.dynamics.measures import relative_entropy
from eplt.dynamics.states import phi_plus
from eplt.dynamics.thermo import energy_ledger, reservoir_free_energy_cost

from . import style
from ._resources import check_memory, check_work
from .base import StudyResult
from .params import (
    OMEGA,
    RATE_MAX,
    RATE_MIN,
    Param,
    ParamError,
    beta_param,
    check_temperature,
    eps_param,
    kappa_param,
    rate_param,
    resolve,
)

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SCENARIOS",
    "SUMMARY_KEYS",
    "figures",
    "plot",
    "run",
]

NAME = "thermo"
DESCRIPTION = "Thermodynamic ledger: work, heat, reservoir cost, entropy production, correlations"

PARAMS = (
    OMEGA,
    beta_param(),
    rate_param(),
    kappa_param(),
    eps_param(),
    Param(
        "t_hold",
        5.0,
        "float",
        "time series run to t* + t_hold/r (hold with thermal baths)",
        "1/r",
        low=0,
        low_open=True,
        high=1e4,
    ),
    Param("n_times", 301, "int", "number of saved times", "", low=11, high=100_000),
)

SCENARIOS = (
    "gad",
    "thermal_resets",
    "correlated",
    "shared_drive_independent_clocks",
    "independent",
)
_SHARING = {
    "correlated": (True, True),
    "shared_drive_independent_clocks": (True, False),
    "independent": (False, False),
}

SUMMARY_KEYS = {
    "gamma": "gamma = 2 p_min",
    "t_twirl": "certified twirl time max(0, ln(gamma/(2 eps))/(2 kappa)), 1/omega",
    "t_star": "t* = t_twirl + ln(1/gamma)/r (every scenario), 1/omega",
    "t_end": "end of the time series, t* + t_hold/r",
    "mutual_information_at_t_star": "I(A:B) at t* (nats), by scenario",
    "relative_entropy_to_product_thermal": "D(rho || tau (x) tau) (nats): 'initial' (Phi+) and "
    "at t* by scenario",
    "energy_change_per_party": "[E_A(t*) - E_A(0), E_B(t*) - E_B(0)] (omega), by scenario",
    "energy_by_kind": "energy into qubit A over [0, t*] by kind {work, heat, reservoir} (omega), "
    "by scenario",
    "reservoir_free_energy_cost": "free energy of the reservoir states supplied over [0, t*], "
    "both qubits, sum of resets x (F(omega) - F(tau)) (omega), by scenario",
    "reservoir_cost_per_reset": "F(omega) - F(tau) = S(omega||tau)/beta of one reset (omega)",
    "expected_resets_per_party": "expected resets per qubit before t* (ln(1/gamma) with resets)",
    "entropy_production": "Sigma = Delta S - beta Q >= 0 over [0, t_end] (nats), by scenario; "
    "null where a stage has no bounded Sigma (a reset to a pure reservoir state): see "
    "entropy_production_undefined",
    "entropy_production_undefined": "why entropy_production is null, by scenario (only the "
    "scenarios where it is)",
    "entropy_production_bounded_stages": "Sigma summed over the stages where Spohn's bound holds "
    "(drive, thermal baths), excluding reset stages (nats), by scenario",
    "entropy_production_by_stage": "Sigma of each stage (null on reset stages), by scenario",
    "lt_error_at_t_star": "worst-case (all inputs) marginal trace distance to tau at t*, by scenario",
    "first_law_residual": "largest |Delta E_k - sum of flows| over times, stages and scenarios",
    "shared_random_bits": "{drive, clock} shared random bits: inf for the Brownian drive; "
    "h2(gamma) for the shared clock's one relevant coin; by scenario",
}


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured with ``tracemalloc`` 2026-12-06: 0.5 MB at n_times = 11, 3.3 MB at 1001,
    9.0 MB at 3001, ~3 kB per saved time for the scenarios and their ledgers; rounded up)."""
    return 2e7 + 6e3 * p["n_times"], ("n_times",)


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: ~1 ms per saved time
    (three scenarios with their energy and entropy ledgers).

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, minimum of two runs in
    fresh processes): 0.54 s at the defaults, 3.3 s at n_times = 3000, 19.5 s at 20000.
    Rounded up."""
    return 0.3 + 1e-3 * p["n_times"], ("n_times",)


def _protocols(p, H, tau, t_twirl):
    beta, r = p["beta"], p["rate"]
    out = {
        "gad": Environment(
            (2, 2),
            [thermal_bath(k, H, beta, relaxation_rate=r) for k in (0, 1)],
            taus=(tau, tau),
        ),
        "thermal_resets": Environment(
            (2, 2), [thermal_reset(k, tau, r) for k in (0, 1)], taus=(tau, tau), hamiltonians=(H, H)
        ),
    }
    for name, (sd, sc) in _SHARING.items():
        out[name], _ = eplt_protocol(
            tau,
            tau,
            H,
            H,
            beta,
            rate=r,
            kappa=p["kappa"],
            t_twirl=t_twirl,
            shared_drive=sd,
            shared_clock=sc,
        )
    return out


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Run the study (deterministic: exact averaged dynamics; ``seed`` is recorded only)."""
    p = resolve(PARAMS, params, study=NAME)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    check_temperature(p["beta"], p["omega"], name="beta")
    for name in ("rate", "kappa"):  # the dynamics' stiffness is rate/omega, not the rate alone
        ratio = p[name] / p["omega"]
        if not RATE_MIN <= ratio <= RATE_MAX:
            raise ParamError(
                f"{name}/omega must lie in [{RATE_MIN:g}, {RATE_MAX:g}], got {ratio:.3g} "
                f"({name}={p[name]:g}, omega={p['omega']:g})"
            )
    omega, beta, r = p["omega"], p["beta"], p["rate"]
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, beta)
    E = eplt_channel(tau, tau)
    gamma = E.gamma
    t_twirl = certified_twirl_time(tau, tau, rate=r, kappa=p["kappa"], eps=p["eps"])
    t_star = t_twirl + math.log(1 / gamma) / r
    t_end = t_star + p["t_hold"] / r
    times = np.union1d(np.linspace(0, t_end, p["n_times"]), [t_twirl, t_star])
    i_star = int(np.argmin(np.abs(times - t_star)))
    rho0 = phi_plus()
    tt = qutip.tensor(tau, tau)
    e_ops = {
        "mutual_information": "mutual_information",
        "negativity": "negativity",
        "relative_entropy": lambda s: relative_entropy(s, tt),
    }
    protos = _protocols(p, H, tau, t_twirl)
    it = SCENARIOS
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(SCENARIOS, desc=NAME, leave=False)
    series, ledgers = {}, {}
    for sc in it:
        series[sc] = evolve(rho0, protos[sc], times, e_ops=e_ops)
        ledgers[sc] = energy_ledger(rho0, protos[sc], times, beta=beta)

    kinds = ("work", "heat", "reservoir")
    data = xr.Dataset(
        {
            "energy": (
                ("scenario", "time", "party"),
                np.stack([ledgers[s].energy for s in SCENARIOS]),
                {"units": "omega", "long_name": "Tr(H_k rho_k)"},
            ),
            "energy_by_kind": (
                ("scenario", "time", "kind", "party"),
                np.stack(
                    [np.stack([ledgers[s].by_kind(k) for k in kinds], axis=1) for s in SCENARIOS]
                ),
                {
                    "units": "omega",
                    "long_name": "cumulative energy into each qubit, by kind of term",
                },
            ),
            "entropy": (
                ("scenario", "time"),
                np.stack([ledgers[s].entropy for s in SCENARIOS]),
                {"units": "nat", "long_name": "S(rho_AB)"},
            ),
            "entropy_flow": (
                ("scenario", "time"),
                np.stack([ledgers[s].entropy_flow for s in SCENARIOS]),
                {"units": "nat", "long_name": "sum_b beta_b Q_b (thermal baths)"},
            ),
            "reservoir_cost": (
                ("scenario", "time"),
                np.stack([ledgers[s].reservoir_cost for s in SCENARIOS]),
                {"units": "omega", "long_name": "cumulative free-energy cost of reservoir states"},
            ),
            **{
                key: (
                    ("scenario", "time"),
                    np.stack([series[s].expect[key] for s in SCENARIOS]),
                    {"units": unit},
                )
                for key, unit in (
                    ("mutual_information", "nat"),
                    ("negativity", "1"),
                    ("relative_entropy", "nat"),
                )
            },
        },
        coords={
            "scenario": list(SCENARIOS),
            "time": ("time", times, {"units": "1/omega"}),
            "kind": list(kinds),
            "party": ["A", "B"],
        },
        attrs={"study": NAME, "t_star": t_star, "t_twirl": t_twirl, "beta": beta},
    )
    data["relative_entropy"].attrs["long_name"] = "D(rho || tau (x) tau)"

    def to_star(led):
        """The ledger's stages clipped at t* (stage boundaries include t*)."""
        return [s for s in led.stages if s.end <= t_star * (1 + 1e-12)]

    cost1 = reservoir_free_energy_cost(E.omega[0], H.full(), beta)
    ep_by_stage, ep, ep_bounded, undefined, cost, by_kind, dE = {}, {}, {}, {}, {}, {}, {}
    for s in SCENARIOS:
        led = ledgers[s]
        ep_by_stage[s] = [st.entropy_production for st in led.stages]
        ep_bounded[s] = float(sum(e for e in ep_by_stage[s] if e is not None))
        ep[s] = None if any(e is None for e in ep_by_stage[s]) else ep_bounded[s]
        if ep[s] is None:
            undefined[s] = (
                "the reset stage supplies a pure reservoir state (omega = ground state, a "
                "zero-temperature resource): no bath at beta, Spohn's bound does not apply and "
                "Q excludes that exchange; its price is reservoir_free_energy_cost"
            )
        cost[s] = float(led.reservoir_cost[i_star])
        by_kind[s] = {k: float(led.by_kind(k)[i_star, 0]) for k in ("work", "heat", "reservoir")}
        dE[s] = (led.energy[i_star] - led.energy[0]).tolist()
    summary = {
        "gamma": gamma,
        "t_twirl": t_twirl,
        "t_star": t_star,
        "t_end": t_end,
        "mutual_information_at_t_star": {
            s: float(series[s].expect["mutual_information"][i_star]) for s in SCENARIOS
        },
        "relative_entropy_to_product_thermal": {
            "initial": float(series["gad"].expect["relative_entropy"][0]),
            **{s: float(series[s].expect["relative_entropy"][i_star]) for s in SCENARIOS},
        },
        "energy_change_per_party": dE,
        "energy_by_kind": by_kind,
        "reservoir_free_energy_cost": cost,
        "reservoir_cost_per_reset": cost1,
        "expected_resets_per_party": {
            s: float(sum(st.resets[0] for st in to_star(ledgers[s]))) for s in SCENARIOS
        },
        "entropy_production": ep,
        "entropy_production_undefined": undefined,
        "entropy_production_bounded_stages": ep_bounded,
        "entropy_production_by_stage": ep_by_stage,
        "lt_error_at_t_star": {
            sc: float(lt_error(marginal_channels(protos[sc], t_star), [tau, tau]))
            for sc in SCENARIOS
        },
        "first_law_residual": max(ledgers[s].first_law_residual() for s in SCENARIOS),
        "shared_random_bits": {
            "gad": {"drive": 0.0, "clock": 0.0},
            "thermal_resets": {"drive": 0.0, "clock": 0.0},
            "correlated": {"drive": math.inf, "clock": _h2(gamma)},
            "shared_drive_independent_clocks": {"drive": math.inf, "clock": 0.0},
            "independent": {"drive": 0.0, "clock": 0.0},
        },
    }
    return StudyResult(NAME, p, seed, data, summary)


LABELS = {
    "gad": "independent thermal baths (GAD)",
    "thermal_resets": "independent thermal resets",
    "correlated": "shared drive + shared clock",
    "shared_drive_independent_clocks": "shared drive, independent clocks",
    "independent": "independent drive + clocks",
}

_PANELS = ("energy", "relative_entropy", "mutual_information", "entropy_production")


def plot(result: StudyResult, ax=None, *, which: str = "energy"):
    """One panel: ``which`` in {"energy", "relative_entropy", "mutual_information",
    "entropy_production"}; time in units of ``1/r``."""
    if which not in _PANELS:
        raise ValueError(f"which must be one of {', '.join(_PANELS)}, got {which!r}")
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    ds, s = result.data, result.summary
    r, omega = result.params["rate"], result.params["omega"]
    t = r * ds["time"].values
    for sc in SCENARIOS:  # one colour and line style per scenario name in every study
        kw = {**style.scenario_style(sc), "label": LABELS[sc], "gid": sc}
        if which == "energy":
            e = ds["energy"].sel(scenario=sc, party="A").values
            ax.plot(t, (e - e[0]) / omega, **kw)
        elif which == "entropy_production":
            st = ds["entropy"].sel(scenario=sc).values
            ax.plot(t, st - st[0] - ds["entropy_flow"].sel(scenario=sc).values, **kw)
        else:
            ax.plot(t, ds[which].sel(scenario=sc).values, **kw)
    if which == "energy":
        beta = result.params["beta"]
        p1 = 1 / (1 + math.exp(beta * omega))
        ax.axhline(p1 - 0.5, color="0.5", lw=0.8, ls="--")
        ax.annotate(
            r"$p_1 - 1/2$",
            (t[-1], p1 - 0.5),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
            color="0.4",
        )
        ax.set_ylabel(r"$[E_A(t) - E_A(0)]/\omega$")
        ax.annotate(
            "thermal baths = thermal resets;\nthe three protocols coincide\n(identical marginals)",
            (0.97, 0.55),
            xycoords="axes fraction",
            ha="right",
            va="center",
            fontsize=7,
            color="0.3",
        )
    elif which == "relative_entropy":
        ax.set_ylabel(r"$D(\rho\,\|\,\tau\otimes\tau)$ (nats)")
    elif which == "mutual_information":
        ax.set_ylabel(r"$I(A{:}B)$ (nats)")
    else:
        ax.set_ylabel(r"$\Delta S - \beta Q$ (nats)")
    style.mark_time(ax, r * s["t_star"], r"$t^*$")
    ax.set_xlabel(r"time $r t$")
    ax.set_xlim(t[0], t[-1])
    return ax


@style.styled
def figures(result: StudyResult) -> dict:
    """``ledger``: four panels against time (energy change of qubit A, relative entropy to
    ``tau (x) tau``, mutual information, entropy balance)."""
    fig, axes = style.figure(2, 2, width=style.PAGE, height=4.6)
    titles = {
        "energy": "(a) energy change of qubit A",
        "relative_entropy": "(b) distance to the thermal product",
        "mutual_information": "(c) correlations",
        "entropy_production": r"(d) entropy balance $\Delta S - \beta Q$ ($Q$: baths at $\beta$)",
    }
    for ax, which in zip(axes.flat, _PANELS):
        plot(result, ax, which=which)
        ax.set_title(titles[which], loc="left")
    s = result.summary
    n_resets = s["expected_resets_per_party"]["correlated"]
    axes[1, 1].text(  # in the empty lower right (the curves rise to Sigma ~ 1 by r t = 2)
        0.97,
        0.04,
        "$Q$ excludes the exchange with the reset\nreservoir ($\\omega=|0\\rangle\\langle 0|$), "
        "so the curve may\nfall during resets: not $\\Sigma$, no\nsecond-law violation. "
        "Reservoir cost\n"
        rf"$F(\omega)-F(\tau)={s['reservoir_cost_per_reset']:.3f}\,\omega$ per reset,"
        "\n"
        rf"{n_resets:.2f} resets per qubit before $t^*$",
        transform=axes[1, 1].transAxes,
        ha="right",
        va="bottom",
        fontsize=7,
        color="0.2",
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "lw": 0.5},
    )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    return {"ledger": fig}

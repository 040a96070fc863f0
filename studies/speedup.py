r"""Speed-up of local thermalization by classically correlated baths (the main study).

Two qubits (``H = omega |1><1|`` each) start in an entangled state (default Phi+) and
must reach their thermal state ``tau`` at inverse temperature ``beta``. Four scenarios:

``reference``
    Independent thermal baths at ``beta`` (generalized amplitude damping with population
    relaxation rate ``r = G (2 nbar + 1)``): the marginals reach ``tau`` only
    asymptotically, ``t_eps = ln(D0/eps)/r``, and entanglement dies.
``correlated``
    A shared Brownian drive (``U`` on A, ``U^*`` on B, strength ``kappa``) for
    ``t_twirl``, then a shared Poisson clock of rate ``r`` resetting both qubits to
    ``omega`` for ``ln(1/gamma)/r``, switched off at ``t* = t_twirl + ln(1/gamma)/r``,
    then thermal baths (which keep ``tau``). At ``t*`` the state is ``E_gamma(rho0)``:
    marginals exactly ``tau``, negativity ``p_min`` for Phi+.
``shared_drive_independent_clocks``
    Same, but each qubit has its own clock: the same marginals at ``t*``; for Phi+ the
    negativity is ``gamma (2 gamma - 1)/2`` (zero for ``beta omega >= ln 3``).
``independent``
    Drive and clocks independent: the independent drives depolarize each qubit (their
    own twirl time, until within ``eps/10`` of ``I/4``), then the clocks reset: the same
    marginals at its ``t*``, a product state.

``t_twirl`` is the first time after which the shared drive has brought ``rho0`` within
trace distance ``eps/10`` of the isotropic twirl ``T(rho0)`` (zero for twirl-invariant
inputs such as Phi+), found by root finding on the exact averaged dynamics.

The speed-up is ``S = t_eps(reference) / t*`` (the protocol is finished, with exactly
thermal marginals, at ``t*``). ``t*`` grows like ``beta omega / r`` while ``t_eps``
saturates at ``ln(1/(2 eps))/r``, so below a crossover temperature the protocol is
slower; for ``eps = 1e-3`` and an instantaneous twirl the crossover is near
``beta omega = 6.9``. The second figure shows ``S`` against ``beta omega`` for several
``kappa/r`` with an input that needs twirling, ``cos(theta)|00> + sin(theta)|11>``,
and for Phi+.

All dynamics here are white (Brownian drive, Poisson clocks, Lindblad baths): they are
solved exactly with the averaged generator; no sampling error.

Figures: ``timeseries`` (negativity and marginal trace distance vs time, the four
scenarios, ``t*`` and ``t_eps`` marked) and ``speedup_vs_beta``.

Summary keys: see :data:`SUMMARY_KEYS`.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import qutip
import xarray as xr
from scipy.optimize import brentq

from baths import Environment, qubit_hamiltonian, thermal_bath, thermal_state
from baths.protocols import eplt_protocol, twirl_drive
from dynamics import evolve
from dynamics.channels import eplt_channel, isotropic_twirl
from dynamics.measures import trace_distance
from dynamics.metrics import crossing_time, thermalization_time
from dynamics.states import phi_plus

from . import style
from ._resources import check_memory
from .base import StudyResult, value_at
from .params import (
    OMEGA,
    RATE_MAX,
    RATE_MIN,
    T_MAX,
    Param,
    ParamError,
    check_seed,
    check_temperature,
    resolve,
)

NAME = "speedup"
DESCRIPTION = "Correlated vs independent baths: thermalization time, entanglement at t*, speed-up vs temperature"

PARAMS = (
    OMEGA,
    Param(
        "beta", 1.0, "float", "inverse temperature of the baths", "1/omega", low=0, low_open=True
    ),
    Param(
        "rate",
        1.0,
        "float",
        "bath relaxation rate r (also the reset-clock rate)",
        "omega",
        low=RATE_MIN,
        high=RATE_MAX,
    ),
    Param(
        "kappa",
        10.0,
        "float",
        f"strength of the twirling drive (0: none, else at least {RATE_MIN:g})",
        "omega",
        low=0,
        high=RATE_MAX,
    ),
    Param(
        "eps",
        1e-3,
        "float",
        "thermalization tolerance in trace distance",
        "",
        low=1e-10,
        high=0.5,
        high_open=True,
    ),
    Param(
        "input",
        "phi_plus",
        "str",
        "initial state: phi_plus or schmidt (cos(theta)|00> + sin(theta)|11>)",
        "",
        choices=("phi_plus", "schmidt"),
    ),
    Param(
        "theta",
        3 * math.pi / 8,
        "float",
        "Schmidt angle of the 'schmidt' input",
        "rad",
        low=0,
        high=math.pi / 2,
    ),
    Param(
        "t_max",
        0.0,
        "float",
        "end of the time series (0: automatic, 1.25 x the latest of every scenario's t* and t_eps)",
        "1/omega",
        low=0,
        high=T_MAX,
    ),
    Param("n_times", 401, "int", "number of saved times", "", low=11, high=100_000),
    Param(
        "beta_min",
        0.25,
        "float",
        "smallest beta of the speed-up curve",
        "1/omega",
        low=0,
        low_open=True,
        high=1e6,
    ),
    Param(
        "beta_max",
        10.0,
        "float",
        "largest beta of the speed-up curve",
        "1/omega",
        low=0,
        low_open=True,
        high=1e6,
    ),
    Param("n_beta", 60, "int", "points of the speed-up curve", "", low=2, high=10_000),
    Param(
        "kappa_ratios",
        (1.0, 10.0, 100.0),
        "floats",
        "kappa/r values of the speed-up curves (inf: instantaneous twirl added)",
        "",
        low=RATE_MIN,
        high=RATE_MAX,
        allow_inf=True,
    ),
)

SUMMARY_KEYS = {
    "gamma": "gamma = 2 p_min of the thermal state",
    "t_twirl": "twirl time of the shared drive (distance to T(rho0) below eps/10), in 1/omega",
    "t_star": "t* = t_twirl + ln(1/gamma)/r: marginals exactly thermal",
    "t_eps_reference": "first time after which the reference marginals stay within eps of tau",
    "speedup": "t_eps_reference / t_star",
    "crossover_beta": "beta where the speed-up (this input, this kappa) falls to 1 "
    "(null if not in [beta_min, beta_max])",
    "crossover_beta_by_kappa_ratio": "crossover beta of each speed-up curve (schmidt input), keyed by kappa/r",
    "t_star_by_scenario": "t* of each scenario (independent drives need their own twirl time to "
    "depolarize; reference: the correlated t*)",
    "negativity_at_t_star": "negativity at each scenario's t*, keyed by scenario",
    "marginal_distance_at_t_star": "largest marginal trace distance to tau at each scenario's t*, keyed by scenario",
    "closed_forms": "closed-form values for Phi+: p_min and gamma(2 gamma - 1)/2",
}

#: Summary value plotted by ``eplt sweep speedup``.
SWEEP_PLOT_KEY = "speedup"

SCENARIOS = ("reference", "correlated", "shared_drive_independent_clocks", "independent")
_SHARING = {
    "correlated": (True, True),
    "shared_drive_independent_clocks": (True, False),
    "independent": (False, False),
}


def initial_state(params) -> qutip.Qobj:
    if params["input"] == "phi_plus":
        return phi_plus()
    th = params["theta"]
    psi = math.cos(th) * qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 0)) + math.sin(
        th
    ) * qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 1))
    return qutip.ket2dm(psi)


def twirl_time(rho0: qutip.Qobj, kappa: float, tol: float, *, shared: bool = True) -> float:
    """First time after which the drive keeps ``rho0`` within ``tol`` of its fixed point.

    Shared drive: the fixed point is the isotropic twirl ``T(rho0)``; independent drives
    depolarize each qubit, fixed point ``I/4``. Root finding (brentq to 1e-12) on the
    exact averaged dynamics; 0 when ``rho0`` is already within ``tol``.
    """
    target = isotropic_twirl(rho0) if shared else qutip.qeye([2, 2]) / 4
    d0 = trace_distance(rho0, target)
    if d0 <= tol:
        return 0.0
    if kappa == 0:
        raise ParamError(
            "kappa must be > 0: the input is not twirl-invariant and needs a twirling drive"
        )
    env = Environment((2, 2), twirl_drive(kappa), correlation=1.0 if shared else 0.0)
    gap = env.spectral_gap()

    e_ops = {"d": lambda s: trace_distance(s, target)}
    dist = value_at(rho0, env, e_ops["d"])
    t_hi = 2.0 * math.log(1.0 / tol) / gap + 1.0 / gap
    times = np.linspace(0, t_hi, 41)
    vals = evolve(rho0, env, times, e_ops=e_ops).expect["d"]
    return float(crossing_time(times, vals, tol, refine=dist, xtol=1e-12).time)


def _reference_env(H, beta, rate, tau):
    return Environment(
        (2, 2),
        [
            thermal_bath(0, H, beta, relaxation_rate=rate),
            thermal_bath(1, H, beta, relaxation_rate=rate),
        ],
        taus=(tau, tau),
    )


def reference_time(rho0: qutip.Qobj, omega: float, beta: float, rate: float, eps: float) -> float:
    """t_eps of the reference (independent thermal baths), by root finding to 1e-12."""
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, beta)
    env = _reference_env(H, beta, rate, tau)

    dist = value_at(rho0, env, "marginal_distance")
    t_hi = math.log(max(1.0, 1.0 / eps)) / rate * 3 + 1.0 / rate
    times = np.linspace(0, t_hi, 61)
    d = evolve(rho0, env, times, e_ops=["marginal_distance"]).expect["marginal_distance"]
    return float(thermalization_time(times, d, eps, refine=dist, xtol=1e-12).time)


def t_star_of(beta: float, omega: float, rate: float, t_twirl: float) -> float:
    tau = thermal_state(qubit_hamiltonian(omega), beta)
    return t_twirl + math.log(1 / eplt_channel(tau, tau).gamma) / rate


def _reference_times(rho0, params, betas) -> np.ndarray:
    return np.array(
        [reference_time(rho0, params["omega"], b, params["rate"], params["eps"]) for b in betas]
    )


def _speedup_curve(rho0, params, betas, t_twirl, ref=None):
    """(t_eps_ref, t*, speed-up) over ``betas``; ``ref`` (the reference times, which do not
    depend on the drive) may be passed in when already known."""
    ref = _reference_times(rho0, params, betas) if ref is None else ref
    ts = np.array([t_star_of(b, params["omega"], params["rate"], t_twirl) for b in betas])
    return ref, ts, ref / ts


def _crossover(rho0, params, betas, S, t_twirl):
    """Largest beta in the grid range where S crosses 1 from above (brentq, xtol 1e-10)."""
    idx = np.nonzero((S[:-1] >= 1) & (S[1:] < 1))[0]
    if idx.size == 0:
        return None

    def f(b):
        return (
            reference_time(rho0, params["omega"], b, params["rate"], params["eps"])
            / t_star_of(b, params["omega"], params["rate"], t_twirl)
            - 1
        )

    i = idx[-1]
    return float(brentq(f, betas[i], betas[i + 1], xtol=1e-10))


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured: ~4 kB per saved time for the four scenarios; rounded up)."""
    return 2e7 + 6e3 * p["n_times"] + 1e3 * p["n_beta"] * len(p["kappa_ratios"]), ("n_times",)


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Run the study (deterministic: exact averaged dynamics; ``seed`` is recorded only)."""
    p = resolve(PARAMS, params, study=NAME)
    seed = check_seed(seed)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    if p["beta_min"] >= p["beta_max"]:
        raise ParamError(f"beta_min must be < beta_max, got {p['beta_min']:g} >= {p['beta_max']:g}")
    for name in ("beta", "beta_min", "beta_max"):
        check_temperature(p[name], p["omega"], name=name)
    if 0 < p["kappa"] < RATE_MIN:
        raise ParamError(f"kappa must be 0 or in [{RATE_MIN:g}, {RATE_MAX:g}], got {p['kappa']!r}")
    omega, beta, r, eps = p["omega"], p["beta"], p["rate"], p["eps"]
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, beta)
    E = eplt_channel(
        tau, tau
    )  # NoEPLTError if tau is pure (beta omega so large that p_min underflows)
    rho0 = initial_state(p)
    t_twirl = twirl_time(rho0, p["kappa"], eps / 10)
    t_eps_ref = reference_time(rho0, omega, beta, r, eps)
    _, t_star = eplt_protocol(tau, tau, H, H, beta, rate=r, kappa=p["kappa"], t_twirl=t_twirl)
    t_twirl_indep = twirl_time(rho0, p["kappa"], eps / 10, shared=False)
    t_max = p["t_max"] or 1.25 * max(t_star, t_eps_ref, t_twirl_indep + t_star - t_twirl)
    times = np.union1d(
        np.linspace(0, t_max, p["n_times"]), [t for t in (t_star, t_eps_ref) if t <= t_max]
    )
    e_ops = ["negativity", "marginal_distance", "phi_plus_overlap"]

    # Each scenario drives until its own drive's fixed point is reached (the shared drive:
    # T(rho0), zero time for Phi+; independent drives: I/4), then resets for ln(1/gamma)/r.
    t_stars = {
        "reference": t_star,
        "correlated": t_star,
        "shared_drive_independent_clocks": t_star,
        "independent": t_twirl_indep + t_star - t_twirl,
    }
    times = np.union1d(times, [t for t in t_stars.values() if t <= t_max])
    series = {}
    series["reference"] = evolve(rho0, _reference_env(H, beta, r, tau), times, e_ops=e_ops)
    for name, (sd, sc) in _SHARING.items():
        proto, _ = eplt_protocol(
            tau,
            tau,
            H,
            H,
            beta,
            rate=r,
            kappa=p["kappa"],
            t_twirl=t_twirl if sd else t_twirl_indep,
            shared_drive=sd,
            shared_clock=sc,
        )
        series[name] = evolve(rho0, proto, times, e_ops=e_ops)
    at_star = {s: int(np.argmin(np.abs(times - t_stars[s]))) for s in SCENARIOS}

    # speed-up curves
    betas = np.geomspace(p["beta_min"], p["beta_max"], p["n_beta"])
    ratios = list(p["kappa_ratios"]) + [math.inf]
    schmidt = initial_state({**p, "input": "schmidt"})
    it = ratios
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(ratios, desc="speed-up curves", leave=False)
    curves, cross = [], {}
    ref_schmidt = _reference_times(schmidt, p, betas)  # the same for every kappa/r
    for kr in it:
        tt = 0.0 if math.isinf(kr) else twirl_time(schmidt, kr * r, eps / 10)
        _, _, S = _speedup_curve(schmidt, p, betas, tt, ref=ref_schmidt)
        curves.append(S)
        cross[kr] = _crossover(schmidt, p, betas, S, tt)
    ref_in, ts_in, S_in = _speedup_curve(
        rho0, p, betas, t_twirl, ref=ref_schmidt if p["input"] == "schmidt" else None
    )
    crossover = _crossover(rho0, p, betas, S_in, t_twirl)

    gamma = E.gamma
    pmin = gamma / 2
    data = xr.Dataset(
        {
            "negativity": (
                ("scenario", "time"),
                np.stack([series[s].expect["negativity"] for s in SCENARIOS]),
                {"units": "1"},
            ),
            "marginal_distance": (
                ("scenario", "time", "party"),
                np.stack([series[s].expect["marginal_distance"] for s in SCENARIOS]),
                {"units": "1", "long_name": "trace distance of each marginal to tau"},
            ),
            "phi_plus_overlap": (
                ("scenario", "time"),
                np.stack([series[s].expect["phi_plus_overlap"] for s in SCENARIOS]),
                {"units": "1"},
            ),
            "speedup_schmidt": (
                ("kappa_ratio", "beta"),
                np.stack(curves),
                {"units": "1", "long_name": "t_eps(reference)/t*, schmidt input"},
            ),
            "speedup_input": (
                ("beta",),
                S_in,
                {"units": "1", "long_name": "t_eps(reference)/t*, study input"},
            ),
            "t_eps_reference_beta": (("beta",), ref_in, {"units": "1/omega"}),
            "t_star_beta": (("beta",), ts_in, {"units": "1/omega"}),
        },
        coords={
            "scenario": list(SCENARIOS),
            "time": ("time", times, {"units": "1/omega"}),
            "party": ["A", "B"],
            "beta": ("beta", betas, {"units": "1/omega"}),
            "kappa_ratio": ("kappa_ratio", np.array(ratios, dtype=float), {"units": "1"}),
        },
        attrs={
            "study": NAME,
            "t_star": t_star,
            "t_twirl": t_twirl,
            "t_eps_reference": t_eps_ref,
            "input": p["input"],
        },
    )
    summary = {
        "gamma": gamma,
        "t_twirl": t_twirl,
        "t_star": t_star,
        "t_eps_reference": t_eps_ref,
        "speedup": t_eps_ref / t_star,
        "crossover_beta": crossover,
        "crossover_beta_by_kappa_ratio": {
            ("inf" if math.isinf(k) else f"{k:g}"): v for k, v in cross.items()
        },
        "t_star_by_scenario": t_stars,
        "negativity_at_t_star": {
            s: float(series[s].expect["negativity"][at_star[s]]) for s in SCENARIOS
        },
        "marginal_distance_at_t_star": {
            s: float(series[s].expect["marginal_distance"][at_star[s]].max()) for s in SCENARIOS
        },
        "closed_forms": {
            "p_min": pmin,
            "shared_drive_independent_clocks_phi_plus": max(0.0, gamma * (2 * gamma - 1) / 2),
        },
    }
    return StudyResult(NAME, p, seed, data, summary, extra={"betas": betas})


LABELS = {
    "reference": "independent thermal baths",
    "correlated": "shared drive + shared clock",
    "shared_drive_independent_clocks": "shared drive, independent clocks",
    "independent": "independent drive + clocks",
}


def plot(result: StudyResult, ax=None, *, which: str = "negativity"):
    """One panel: ``which`` in {"negativity", "distance", "speedup"}."""
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    ds, s = result.data, result.summary
    r = result.params["rate"]
    t = r * ds["time"].values  # plotted in units of 1/r
    if which in ("negativity", "distance"):
        for i, sc in enumerate(SCENARIOS):
            kw = {"color": style.COLORS[i], "ls": style.LINESTYLES[i], "label": LABELS[sc]}
            if which == "negativity":
                ax.plot(t, ds["negativity"].sel(scenario=sc), **kw)
            else:
                d = ds["marginal_distance"].sel(scenario=sc).max("party").values
                ax.plot(t, np.maximum(d, 1e-16), **kw)
        style.mark_time(ax, r * s["t_star"], r"$t^*$")
        if which == "negativity":
            ax.set_ylabel(r"negativity $\mathcal{N}$")
            ax.set_ylim(bottom=0)
        else:
            ax.set_yscale("log")
            ax.set_ylim(1e-9, 1.0)
            ax.axhline(result.params["eps"], color="0.5", lw=0.8, ls="--")
            ax.annotate(
                r"$\epsilon$",
                (t[-1], result.params["eps"]),
                xytext=(-8, 2),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=7,
                color="0.4",
            )
            style.mark_time(ax, r * s["t_eps_reference"], r"$t_\epsilon^{\rm ref}$")
            ax.set_ylabel(r"$\max_X D(\rho_X, \tau_X)$")
        ax.set_xlabel(r"time $r t$")
        ax.set_xlim(t[0], t[-1])
        return ax
    if which == "speedup":
        b = ds["beta"].values * result.params["omega"]
        for i, kr in enumerate(ds["kappa_ratio"].values):
            lab = r"$\kappa/r=\infty$" if math.isinf(kr) else rf"$\kappa/r={kr:g}$"
            ax.plot(b, ds["speedup_schmidt"].sel(kappa_ratio=kr), color=style.COLORS[i], label=lab)
            cb = s["crossover_beta_by_kappa_ratio"].get("inf" if math.isinf(kr) else f"{kr:g}")
            if cb is not None:
                ax.plot([cb * result.params["omega"]], [1.0], "o", ms=3.5, color=style.COLORS[i])
        ax.plot(
            b,
            ds["speedup_input"],
            color="k",
            ls="--",
            label=r"$\Phi^+$ input" if result.params["input"] == "phi_plus" else "study input",
        )
        ax.axhline(1.0, color="0.5", lw=0.8)
        if s["crossover_beta"] is not None:
            ax.annotate(
                rf"$\beta^*\omega \approx {s['crossover_beta'] * result.params['omega']:.2f}$",
                (s["crossover_beta"] * result.params["omega"], 1.0),
                xytext=(0, -18),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                arrowprops={"arrowstyle": "-", "lw": 0.6, "color": "0.3"},
            )
        ax.set_yscale("log")
        ax.set_xlabel(r"inverse temperature $\beta\omega$")
        ax.set_ylabel(r"speed-up $S = t_\epsilon^{\rm ref}/t^*$")
        ax.set_xlim(b[0], b[-1])
        return ax
    raise ValueError(f"which must be 'negativity', 'distance' or 'speedup', got {which!r}")


@style.styled
def figures(result: StudyResult) -> dict:
    fig1, axes = style.figure(2, 1, width=style.PAGE, height=2.6)
    plot(result, axes[0, 0], which="negativity")
    plot(result, axes[0, 1], which="distance")
    axes[0, 0].set_title(
        rf"(a) entanglement, $\beta\omega={result.params['beta'] * result.params['omega']:g}$",
        loc="left",
    )
    axes[0, 1].set_title(r"(b) local thermalization", loc="left")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig1.legend(handles, labels, loc="outside lower center", ncols=2)
    fig2, ax2 = style.figure(1, 1, width=style.COLUMN, height=2.6)
    plot(result, ax2[0, 0], which="speedup")
    th = result.params["theta"]
    ax2[0, 0].legend(
        title=rf"input $\cos\theta|00\rangle+\sin\theta|11\rangle$, $\theta={th / math.pi:.3g}\pi$",
        loc="upper right",
        ncols=2,
    )
    return {"timeseries": fig1, "speedup_vs_beta": fig2}

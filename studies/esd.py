r"""Entanglement sudden death of Phi+: thermal damping vs independent vs shared reset clocks.

Two qubits (``H = omega |1><1|``) start in Phi+ and relax towards ``tau (x) tau``, ``tau``
the thermal state of mean occupation ``nbar`` (``beta omega = ln(1 + 1/nbar)``), in three
scenarios with identical local dynamics:

``gad``
    independent generalized amplitude damping (:func:`eplt.baths.thermal_bath`, jumps
    ``sqrt(G (nbar + 1)) sigma-`` and ``sqrt(G nbar) sigma+``); populations relax at
    ``r = G (2 nbar + 1)``;
``reset_independent``
    each qubit has its own Poisson clock of rate ``r`` that resets it to ``tau``
    (:class:`eplt.baths.PoissonClock`, :class:`eplt.baths.Reset`, ``Environment.independent()``);
``reset_shared``
    one clock of rate ``r`` resets both qubits at once (shared classical randomness).

With ``r = G (2 nbar + 1)`` every marginal follows ``tau + e^{-r t} (I/2 - tau)`` in all
three (checked: ``max_marginal_difference``), but the joint states differ. All processes
are white, so the dynamics are solved exactly (averaged generator). Negativity dies at
a finite time; the sudden-death time is located by bisection on the exact evolution at
a single time (:func:`eplt.dynamics.metrics.sudden_death_time` with ``refine``), not read off
the grid.

Closed forms (:func:`esd_closed_form`). With ``s = e^{-r t}`` and ``x = p0 p1``
(``tau = diag(p0, p1)``) the states are X states with coherence ``rho_{00,11}`` and
populations ``rho_{01,01} = rho_{10,10}``; entangled iff
``|rho_{00,11}| > rho_{01,01}``:

* ``gad``: ``s/2 > (1 - s)(2x + s (1 - 2x))/2``, death at ``s* = sqrt(2x)/(1 + sqrt(2x))``;
* ``reset_shared``: ``rho = s Phi+ + (1 - s) tau (x) tau``: ``s/2 > (1 - s) x``,
  ``s* = 2x/(1 + 2x)``;
* ``reset_independent``: each qubit untouched with probability ``s``:
  ``rho = s^2 Phi+ + s (1 - s)(tau (x) I/2 + I/2 (x) tau) + (1 - s)^2 tau (x) tau``,
  ``s^2/2 > s (1 - s)/2 + (1 - s)^2 x``, ``s* = (1 - 4x + sqrt(1 + 8x))/(4 (1 - x))``;

and ``t_esd = ln(1/s*)/r``. Independent resets kill entanglement first (at ``nbar = 0``
still at ``ln 2 / r``), the shared clock last. At ``nbar = 0`` damping and the shared
reset never disentangle (``t_esd`` None).

Figures: ``negativity`` (N(t) of the three scenarios against ``r t``, ``G t`` on the top
axis, sudden-death times marked; the axis ends at 1.6 times the last sudden death when
all die before ``t_max``) and ``esd_vs_nbar`` (``r t_ESD`` against ``nbar``: numerics as
markers, closed forms as lines down to ``nbar -> 0``, where independent resets die at
``ln 2`` and damping and the shared clock never).

Summary keys: see :data:`SUMMARY_KEYS`. Times are in units of ``1/omega`` (the unit of
the rates ``G`` and ``r``); the figures show ``r t`` as the other studies do.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import xarray as xr
from eplt.baths import (
    Environment,
    PoissonClock,
    Reset,
    beta_from_nbar,
    qubit_hamiltonian,
    thermal_bath,
    thermal_state,
)
from eplt.dynamics import evolve
from eplt.dynamics.metrics import sudden_death_time
from eplt.dynamics.states import phi_plus

from . import style
from ._resources import check_memory, check_work
from .base import StudyResult, value_at
from .params import OMEGA, RATE_MAX, RATE_MIN, Param, ParamError, check_seed, resolve

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SCENARIOS",
    "SUMMARY_KEYS",
    "environments",
    "esd_closed_form",
    "figures",
    "plot",
    "run",
]

NAME = "esd"
DESCRIPTION = "Sudden death of Phi+: thermal damping vs independent vs shared reset clocks"

SCENARIOS = ("gad", "reset_independent", "reset_shared")
LABELS = {
    "gad": "thermal damping (independent)",
    "reset_independent": "independent reset clocks",
    "reset_shared": "shared reset clock",
}

PARAMS = (
    Param(
        "nbar",
        0.5,
        "float",
        "mean thermal occupation of the baths",
        "",
        low=0,
        high=1e6,
    ),
    Param(
        "G",
        1.0,
        "float",
        "spontaneous emission rate of the damping bath",
        "omega",
        low=RATE_MIN,
        high=RATE_MAX,
    ),
    OMEGA,
    Param(
        "t_max",
        5.0,
        "float",
        "end of the time series and of the sudden-death search",
        "1/omega",
        low=1e-6,
        high=1e6,
    ),
    Param("n_times", 501, "int", "saved times of the time series", "", low=3, high=100_000),
    Param("nbar_min", 0.05, "float", "smallest nbar of the sweep", "", low=0, high=1e3),
    Param("nbar_max", 2.0, "float", "largest nbar of the sweep", "", low=0, high=1e3),
    Param("n_nbar", 25, "int", "nbar points of the sweep", "", low=2, high=10_000),
    Param(
        "n_times_sweep",
        101,
        "int",
        "grid that brackets each sudden death in the sweep",
        "",
        low=3,
        high=100_000,
    ),
)

SUMMARY_KEYS = {
    "t_esd": (
        "dict gad / reset_independent / reset_shared -> sudden-death time of Phi+ "
        "(1/omega) at nbar, "
        "bisection on the exact evolution to 1e-9; None if still entangled at t_max"
    ),
    "t_esd_accuracy": "bound on the error of each t_esd (1/omega)",
    "t_esd_closed_form": (
        "the same from the closed forms of the module docstring (None if > t_max or never)"
    ),
    "nbar": "mean occupation",
    "beta": 'inverse temperature ln(1 + 1/nbar)/omega (1/omega); "inf" at nbar = 0',
    "G": "damping rate (omega)",
    "r": "reset-clock rate = population relaxation rate G (2 nbar + 1) (omega)",
    "max_marginal_difference": (
        "max over times of the trace-norm difference of the marginals between scenarios"
    ),
    "sweep_max_abs_error": "max |numerical - closed-form t_esd| over the nbar sweep (1/omega)",
}

XTOL = 1e-9
XTOL_SWEEP = 1e-6


def environments(nbar: float, G: float = 1.0, omega: float = 1.0) -> dict[str, Environment]:
    """The three environments of the study, keyed by :data:`SCENARIOS`."""
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, beta_from_nbar(nbar, omega))
    r = G * (2 * nbar + 1)
    gad = Environment((2, 2), [thermal_bath(k, H, nbar=nbar, rate=G) for k in (0, 1)])
    clock = PoissonClock(rate=r, name="clock")
    shared = Environment((2, 2), [Reset(clock, k, tau) for k in (0, 1)], taus=(tau, tau))
    return {"gad": gad, "reset_independent": shared.independent(), "reset_shared": shared}


def esd_closed_form(nbar: float, G: float = 1.0) -> dict[str, float]:
    """Exact sudden-death times of Phi+ (``inf`` when entanglement never dies).

    Examples
    --------
    >>> t = esd_closed_form(0.0)
    >>> t["gad"], round(t["reset_independent"], 12), t["reset_shared"]
    (inf, 0.69314718056, inf)
    """
    r = G * (2 * nbar + 1)
    x = nbar * (nbar + 1) / (2 * nbar + 1) ** 2  # p0 p1
    q = math.sqrt(2 * x)
    s = {
        "gad": q / (1 + q),
        "reset_independent": (1 - 4 * x + math.sqrt(1 + 8 * x)) / (4 * (1 - x)),
        "reset_shared": 2 * x / (1 + 2 * x),
    }
    return {k: (math.inf if v <= 0 else -math.log(v) / r) for k, v in s.items()}


def _esd(env: Environment, times: np.ndarray, negativity: np.ndarray, xtol: float):
    refine = value_at(phi_plus(), env, "negativity")
    return sudden_death_time(times, negativity, refine=refine, xtol=xtol)


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured: ~4 kB per saved time, states kept for the sudden-death refinement; rounded
    up)."""
    need = 2e7 + 6e3 * p["n_times"] + 500.0 * p["n_nbar"] * p["n_times_sweep"]
    return need, ("n_times", "n_nbar", "n_times_sweep")


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: ~0.7 ms per saved time
    of the series, and per nbar of the sweep ~65 ms (sudden-death refinement) plus ~0.1 ms
    per time of its grid.

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, minimum of two runs in
    fresh processes): 2.0 s at the defaults, 14.6 s at n_times = 20000, 29.3 s at
    n_nbar = 400, 12.7 s at n_times_sweep = 4000. Rounded up."""
    per_nbar = 0.065 + 1.1e-4 * p["n_times_sweep"]
    seconds = 0.3 + 7e-4 * p["n_times"] + p["n_nbar"] * per_nbar
    return seconds, ("n_times", "n_nbar", "n_times_sweep")


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Time series at ``nbar``, sudden-death times, and the sweep over nbar."""
    from tqdm.auto import tqdm

    p = resolve(PARAMS, params, study=NAME)
    seed = check_seed(seed)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    if p["nbar_min"] > p["nbar_max"]:
        raise ParamError(f"nbar_min must be <= nbar_max, got {p['nbar_min']!r} > {p['nbar_max']!r}")
    nbar, G, omega, t_max = p["nbar"], p["G"], p["omega"], p["t_max"]
    r = G * (2 * nbar + 1)
    envs = environments(nbar, G, omega)
    times = np.linspace(0.0, t_max, p["n_times"])
    neg, dist, t_esd, marg = {}, {}, {}, {}
    for s in SCENARIOS:
        res = evolve(
            phi_plus(), envs[s], times, e_ops=["negativity", "marginal_distance"], store_states=True
        )
        neg[s] = res.expect["negativity"]
        dist[s] = res.expect["marginal_distance"][:, 0]
        marg[s] = [np.stack([st.ptrace(k).full() for st in res.states]) for k in (0, 1)]
        c = _esd(envs[s], times, neg[s], XTOL)
        t_esd[s] = c.time if c.method != "start" else 0.0
    mdiff = max(
        float(np.abs(np.linalg.eigvalsh(marg[a][k] - marg[b][k])).sum(axis=-1).max())
        for a in SCENARIOS
        for b in SCENARIOS
        if a < b
        for k in (0, 1)
    )
    closed = esd_closed_form(nbar, G)

    nbars = np.linspace(p["nbar_min"], p["nbar_max"], p["n_nbar"])
    t_sweep = np.linspace(0.0, t_max, p["n_times_sweep"])
    sweep = np.full((len(SCENARIOS), nbars.size), np.nan)
    sweep_cf = np.full_like(sweep, np.nan)
    for j, nb in enumerate(tqdm(nbars, desc="nbar sweep", disable=not progress)):
        e = environments(float(nb), G, omega)
        cf = esd_closed_form(float(nb), G)
        for i, s in enumerate(SCENARIOS):
            n = evolve(phi_plus(), e[s], t_sweep, e_ops=["negativity"]).expect["negativity"]
            c = _esd(e[s], t_sweep, n, XTOL_SWEEP)
            if c.time is not None:
                sweep[i, j] = c.time
            if math.isfinite(cf[s]):
                sweep_cf[i, j] = cf[s]
    both = np.isfinite(sweep) & np.isfinite(sweep_cf)
    err = float(np.abs(sweep - sweep_cf)[both].max()) if both.any() else None

    summary = {
        "t_esd": dict(t_esd),
        "t_esd_accuracy": XTOL / 2,
        "t_esd_closed_form": {s: (v if v <= t_max else None) for s, v in closed.items()},
        "nbar": nbar,
        "beta": beta_from_nbar(nbar, omega),
        "G": G,
        "r": r,
        "max_marginal_difference": mdiff,
        "sweep_max_abs_error": err,
    }
    scen = np.array(SCENARIOS, dtype=object)
    data = xr.Dataset(
        {
            "negativity": (
                ("scenario", "time"),
                np.stack([neg[s] for s in SCENARIOS]),
                {"units": "1"},
            ),
            "marginal_distance": (
                ("scenario", "time"),
                np.stack([dist[s] for s in SCENARIOS]),
                {"units": "1", "long_name": "trace distance of marginal A to tau"},
            ),
            "t_esd": (
                ("scenario",),
                np.array([np.nan if t_esd[s] is None else t_esd[s] for s in SCENARIOS]),
                {
                    "units": "1/omega",
                    "long_name": "sudden-death time at nbar (NaN: none before t_max)",
                },
            ),
            "t_esd_sweep": (
                ("scenario", "nbar"),
                sweep,
                {
                    "units": "1/omega",
                    "long_name": "sudden-death time, numerical (NaN: none before t_max)",
                },
            ),
            "t_esd_sweep_closed_form": (
                ("scenario", "nbar"),
                sweep_cf,
                {"units": "1/omega", "long_name": "sudden-death time, closed form (NaN: never)"},
            ),
        },
        coords={
            "scenario": ("scenario", scen),
            "time": ("time", times, {"units": "1/omega"}),
            "nbar": ("nbar", nbars, {"units": "1", "long_name": "mean thermal occupation"}),
        },
        attrs={"study": NAME, "nbar_series": nbar, "G": G, "r": r, "omega": omega},
    )
    return StudyResult(NAME, p, seed, data, summary)


# --------------------------------------------------------------------------- plots


#: Label of the time axes (time in units of 1/r, r = G (2 nbar + 1) the relaxation rate).
TIME_LABEL = r"time $r t$"


def plot(
    result: StudyResult,
    ax=None,
    *,
    which: str = "negativity",
    decorate: bool | None = None,
    legend: bool = True,
):
    """One panel, times in units of ``1/r`` (``r = G (2 nbar + 1)``, the population
    relaxation rate shared by all scenarios).

    ``which="negativity"``: N(t) of the three scenarios against ``r t`` (``G t`` on the top
    axis), sudden deaths marked. ``"esd_vs_nbar"``: ``r t_ESD`` against ``nbar`` (numerics
    as markers, closed forms as lines down to ``nbar -> 0``, whose limits are marked:
    ``ln 2`` for independent resets, divergence for damping and the shared clock).
    Composes on a shared axis (``decorate``, see :class:`eplt.studies.style.Decorator`);
    ``legend`` draws one legend of everything on the axis, or none.
    """
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    if which not in ("negativity", "esd_vs_nbar"):
        raise ValueError(f"which must be 'negativity' or 'esd_vs_nbar', got {which!r}")
    deco = style.Decorator(ax, decorate)
    ds, s = result.data, result.summary
    with style.style():
        if which == "negativity":
            r, G = s["r"], s["G"]
            t = r * ds["time"].values
            for sc in SCENARIOS:
                kw = style.scenario_style(sc)
                line = style.band(
                    ax, t, ds["negativity"].sel(scenario=sc).values, label=LABELS[sc], **kw
                )
                line.set_gid(sc)
                te = s["t_esd"][sc]
                if te is not None:
                    ax.axvline(r * te, ymax=0.55, color=kw["color"], ls=":", lw=0.9)
                    ax.plot([r * te], [0], "o", color=kw["color"], ms=3.5, clip_on=False, zorder=4)
            dead = [r * v for v in s["t_esd"].values() if v is not None]
            # Zoom on the deaths (the data run to t_max): 1.6 x the last sudden death.
            deco.set(
                xlim=(t[0], min(t[-1], 1.6 * max(dead)) if dead else t[-1]),
                ylim=(0, 0.52),
                xlabel=TIME_LABEL,
                ylabel=r"negativity $\mathcal{N}$",
                title=rf"$\bar n = {s['nbar']:g}$, $r = G(2\bar n + 1) = {r / G:g}\,G$",
            )
            if deco.owns_axis():
                top = ax.secondary_xaxis(
                    "top", functions=(lambda x: x * G / r, lambda x: x * r / G)
                )
                top.set_xlabel(r"time $G t$")
            if legend:
                style.legend(ax, loc="upper right", title="dotted: sudden-death times")
        else:
            nb = ds["nbar"].values
            G = s["G"]
            r = G * (2 * nb + 1)
            hi = max(nb[-1], 1e-3)
            fine = np.concatenate([np.geomspace(1e-8, 1e-3, 60), np.linspace(1e-3, hi, 200)])
            cf = {sc: [] for sc in SCENARIOS}
            for x in fine:
                t_cf = esd_closed_form(float(x), G)
                for sc in SCENARIOS:
                    cf[sc].append(G * (2 * x + 1) * t_cf[sc])
            num = {sc: r * ds["t_esd_sweep"].sel(scenario=sc).values for sc in SCENARIOS}
            finite = np.concatenate([v[np.isfinite(v)] for v in num.values()] + [[math.log(2)]])
            top = 1.35 * float(finite.max())
            for sc in SCENARIOS:
                kw = style.scenario_style(sc)
                (line,) = ax.plot(fine, cf[sc], label=LABELS[sc], **kw)
                line.set_gid(sc)
                ax.plot(nb, num[sc], "o", color=kw["color"], ms=3, mfc="none")
            # nbar -> 0: independent resets die at ln 2 / r; damping and the shared clock
            # never disentangle a pure Phi+ at zero temperature (r t_ESD -> infinity).
            c_ind = style.SCENARIO_COLORS["reset_independent"]
            ax.plot([0], [math.log(2)], "s", color=c_ind, ms=4, clip_on=False, zorder=4)
            ax.annotate(
                r"$\bar n\to 0$: $\ln 2$",
                (0, math.log(2)),
                xytext=(6, -9),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=7,
                color=c_ind,
            )
            ax.annotate(
                r"$\bar n\to 0$: $\infty$ (damping, shared clock)",
                (0, top),
                xytext=(8, -3),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=7,
                color="0.3",
            )
            ax.plot([], [], "o", color="0.3", ms=3, mfc="none", label="numerical (bisection)")
            ax.plot([], [], "-", color="0.3", label="closed form")
            deco.set(
                xlabel=r"mean thermal occupation $\bar n$",
                ylabel=r"sudden-death time $r\,t_{\rm ESD}$",
                xlim=(0, nb[-1]),
                ylim=(0, top),
            )
            style.legend(ax, legend, loc="upper right", bbox_to_anchor=(1.0, 0.9))
    return ax


def figures(result: StudyResult) -> dict:
    """``negativity`` and ``esd_vs_nbar`` (one column each)."""
    out = {}
    for name in ("negativity", "esd_vs_nbar"):
        fig, axes = style.figure()
        plot(result, axes[0, 0], which=name)
        out[name] = fig
    return out

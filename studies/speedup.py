r"""Local thermalization by classically correlated baths, certified on the channel.

Two qubits (``H = omega |1><1|`` each) must reach their thermal state ``tau`` at inverse
temperature ``beta``. Local thermalization is a property of the *channel*: a protocol
counts as eps-LT at time t only when ``lt_error(E_t) = max_rho max_X D(Tr_{not X}
E_t(rho), tau_X) <= eps`` for **every** input (:func:`eplt.dynamics.channels.lt_error`).
Every timing here is input independent; the study input (default Phi+) is only used for
the entanglement it keeps and for the per-input numbers reported beside.

Scenarios:

``gad``
    Independent thermal baths at ``beta`` (generalized amplitude damping, GAD, population
    relaxation rate ``r``; coherences decay at ``r/2``). (Called ``reference`` in earlier
    versions; "reference" now names only the speed-up's reference, the thermal resets.)
``thermal_resets``
    Independent thermal resets ``r (tau Tr - id)``: every input's marginals approach
    ``tau`` as ``e^{-r t}``, so ``lt_error = (1 - p_min) e^{-r t}`` and the channel-level
    ``t_eps = ln((1 - p_min)/eps)/r``. The reference of ``speedup``: ``t_eps_reference``
    is this scenario's time (see :data:`SUMMARY_KEYS`).
``correlated``
    A shared Brownian drive (``U`` on A, ``U^*`` on B, strength ``kappa``, Gell-Mann
    generators) for ``t_twirl``, a shared Poisson clock of rate ``r`` resetting both qubits
    to ``omega`` for ``ln(1/gamma)/r``, switched off at ``t* = t_twirl + ln(1/gamma)/r``,
    then the thermal baths (which keep ``tau``). At ``t*`` the state is ``gamma T_t(rho0) +
    (1 - gamma) omega (x) omega`` (``T_t``: the finite-time twirl), ``E_gamma(rho0)`` for
    twirl-invariant inputs (negativity ``p_min`` for Phi+).
``shared_drive_independent_clocks``, ``independent``
    The same with independent clocks (Phi+: ``N = gamma (2 gamma - 1)/2``), or drive and
    clocks independent (a product-like state, ``N = 0``). The marginal maps of all three
    protocol scenarios are identical, so they share one ``t_twirl`` and one ``t*``:
    correlation buys entanglement at the thermalization time, not speed.
``no_shared_randomness``
    The best exact LT without shared randomness: the product of replacement channels
    ``rho -> tau (x) tau`` (the paper's no-go: zero entanglement for every input). A
    channel, not a dynamics of this package: reported at ``t*``, no time series.
``independent_damping_stopped``
    Independent zero-temperature amplitude damping at rate ``r`` stopped at
    ``ln(1/gamma)/r`` (then the thermal baths): Phi+'s marginals are exactly ``tau`` there
    and ``N = gamma^2/2`` survives, but the channel is *not* LT (``lt_error =
    sqrt(gamma)/2``, worst inputs on the Bloch equator): an input-dependent trick.

``t_twirl`` is :func:`eplt.baths.certified_twirl_time`, the shortest twirl after which the
protocol's channel at ``t*`` has ``lt_error <= eps`` (root finding on the channel; for
this drive ``ln(gamma/(2 eps))/(2 kappa)``). Skipping the twirl for Phi+ (t_twirl = 0)
gives ``s id + (1 - s) omega (x) omega`` with ``lt_error = p_min``
(``lt_error_without_twirl``): fast for Phi+, not a thermalization.

Speed-ups (all against the certified ``t*``):

* ``speedup = t_eps(thermal_resets) / t*`` — channel level, worst case over inputs on both
  sides (the headline);
* ``speedup_gad = t_eps(gad) / t*`` — against GAD with the same population rate;
* ``speedup_for_input = t_eps^rho0(gad) / t*`` — the study input's own
  thermalization time under GAD (per input, labelled).

What the speed-up is. A finite-time local thermalization at fixed ``eps`` and ``kappa/r``,
made possible by a zero-temperature reset reservoir (``omega = |0><0|`` for equal qubits at
every beta) and a timed stop; the same speed-up holds with independent clocks and drives
(identical marginal maps), so correlations buy the entanglement at ``t*``, not the speed.
It depends on ``eps`` and ``kappa/r``: at ``beta omega = 1`` and ``kappa = 10 r``,
``S = 5.47, 7.33, 10.84, 12.83`` at ``eps = 1e-2, 1e-3, 1e-6, 1e-9``, and ``S = 1.93`` at
``kappa = r`` (``eps = 1e-3``); ``speedup_vs_eps`` and ``speedup_vs_kappa_ratio`` report
these at the study's parameters, the figure ``speedup_vs_eps`` draws both dependencies.

``t*`` grows like ``beta omega / r`` while ``t_eps`` saturates, so below a crossover
temperature the protocol is slower (``crossover_beta``; instantaneous twirl:
``2 p_min (1 - p_min) = eps``, ``beta omega = 7.60`` at ``eps = 1e-3``). The curves use
the exact scaling of the drive: its averaged generator is ``kappa L_1``, so the twirl
time at ``kappa`` is the one at ``kappa = 1`` divided by ``kappa``.

All dynamics here are white (Brownian drive, Poisson clocks, Lindblad baths): channels and
states are exact (averaged generator), no sampling error.

Figures: ``timeseries`` (negativity and marginal trace distance of the study input vs
``r t``; the channel-level worst case over inputs is in ``lt_error_at_t_star``),
``speedup_vs_beta`` (speed-ups, and the negativity at ``t*`` for shared and independent
clocks, against ``beta omega``) and ``speedup_vs_eps`` (the channel-level speed-up at the
study's ``beta`` against ``eps`` for each ``kappa/r``, and against ``kappa/r`` for each
``eps`` of :data:`EPS_VALUES`).

Summary keys: see :data:`SUMMARY_KEYS`. Plotting lives in :mod:`eplt.studies._speedup_plot`
(re-exported here as :func:`plot` and :func:`figures`), the reference channels and their
times in :mod:`eplt.studies._speedup_times` (:func:`channel_time`, :func:`reference_time`).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import qutip
import xarray as xr
from eplt.baths import (
    eplt_protocol,
    qubit_hamiltonian,
    thermal_state,
)
from eplt.dynamics import evolve, lt_time
from eplt.dynamics.channels import eplt_channel, lt_error
from eplt.dynamics.measures import negativity
from eplt.dynamics.states import phi_plus

from ._resources import check_memory, check_work
from ._speedup_plot import DYNAMIC as _PLOT_DYNAMIC
from ._speedup_plot import LABELS, figures, plot  # noqa: F401  (the study's figures)
from ._speedup_points import _SHARING, _beta_point, _crossover, _lifetime
from ._speedup_times import (  # the reference channels and their times
    _damping_protocol,
    _gad_env,
    _lt,
    _reset_env,
    _twirl_time,
    certify_at_t_star,
    channel_time,
    eps_and_kappa_dependence,
    reference_time,
)
from .base import StudyResult
from .params import (
    OMEGA,
    RATE_MAX,
    RATE_MIN,
    T_MAX,
    Param,
    ParamError,
    beta_param,
    check_seed,
    check_temperature,
    eps_param,
    kappa_param,
    rate_param,
    resolve,
    value_keys,
)

__all__ = [
    "DESCRIPTION",
    "EPS_VALUES",
    "NAME",
    "PARAMS",
    "SCENARIOS",
    "SUMMARY_KEYS",
    "channel_time",
    "figures",
    "initial_state",
    "plot",
    "reference_time",
    "run",
]

NAME = "speedup"
DESCRIPTION = (
    "Finite-time local thermalization certified on the channel: speed-up vs eps, kappa/r and "
    "temperature; the entanglement that shared randomness keeps"
)

PARAMS = (
    OMEGA,
    beta_param(),
    rate_param(),
    kappa_param(allow_off=True),
    eps_param(),
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
        "end of the time series (0: automatic, just past the reference t_eps and the "
        "entanglement lifetimes)",
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
    "t_twirl": "certified, input-independent twirl time: shortest t_twirl with lt_error(E_t*) <= eps "
    "(root finding on the channel), in 1/omega",
    "t_twirl_closed_form": "ln(gamma/(2 eps))/(2 kappa) (0 when gamma <= 2 eps)",
    "t_star": "t* = t_twirl + ln(1/gamma)/r, shared by the three protocol scenarios",
    "t_star_by_scenario": "time at which each scenario is judged (the protocols and references: t*; "
    "independent_damping_stopped: its stopping time ln(1/gamma)/r)",
    "t_eps_reference": "channel-level t_eps of independent thermal resets, ln((1 - p_min)/eps)/r",
    "t_eps_reference_gad": "channel-level t_eps of independent GAD baths (population rate r)",
    "t_eps_reference_for_input": "the study input's own t_eps under GAD (per input)",
    "speedup": "t_eps_reference / t_star: channel level, worst case over inputs on both sides",
    "speedup_gad": "t_eps_reference_gad / t_star (channel level, against GAD)",
    "speedup_for_input": "t_eps_reference_for_input / t_star (the study input's own t_eps)",
    "crossover_beta": "beta where speedup (this kappa) falls to 1 (null if not in [beta_min, beta_max])",
    "crossover_beta_by_kappa_ratio": "crossover beta of the channel-level speed-up, keyed by kappa/r",
    "lt_error_at_t_star": "worst case over all inputs of the marginal trace distance at each "
    "scenario's t* (eplt.dynamics.channels.lt_error), keyed by scenario",
    "lt_error_without_twirl": "lt_error of the protocol with the twirl skipped (t_twirl = 0, the "
    "input-dependent timing that suits Phi+): p_min",
    "negativity_at_t_star": "negativity of the study input's state at each scenario's t*",
    "marginal_distance_at_t_star": "largest marginal trace distance of the study input's state "
    "to tau at each scenario's t*",
    "entanglement_lifetime_after_t_star": "time from each scenario's t* until the negativity "
    "of the study input's state stays 0 under the holding baths (0 if already separable)",
    "closed_forms": "closed forms: p_min, gamma(2 gamma - 1)/2, gamma^2/2, sqrt(gamma)/2",
    "speedup_vs_eps": "channel-level speed-up t_eps_reference/t* at the study's beta and kappa, "
    "keyed by eps (EPS_VALUES and the study's eps)",
    "speedup_vs_kappa_ratio": "channel-level speed-up at the study's beta and eps, keyed by "
    "kappa/r (kappa_ratios, the study's kappa/r and inf: instantaneous twirl)",
}

#: The ``eps`` of the ``speedup_vs_eps`` summary key (the study's ``eps`` is added).
EPS_VALUES = (1e-2, 1e-3, 1e-6, 1e-9)
#: Grid of the ``speedup_vs_eps`` figure: eps from 1e-10 to 1e-1, kappa/r from 0.1 to 1e4.
_EPS_GRID = np.geomspace(1e-10, 1e-1, 37)
_KAPPA_RATIO_GRID = np.geomspace(0.1, 1e4, 61)

#: Summary value plotted by ``eplt sweep speedup``.
SWEEP_PLOT_KEY = "speedup"

#: Scenarios with a time series (``no_shared_randomness`` is a channel only); defined
#: with the figures, which need it too.
DYNAMIC = _PLOT_DYNAMIC
SCENARIOS = DYNAMIC + ("no_shared_randomness",)
PROTOCOLS = ("correlated", "shared_drive_independent_clocks", "independent")


def initial_state(params) -> qutip.Qobj:
    if params["input"] == "phi_plus":
        return phi_plus()
    th = params["theta"]
    psi = math.cos(th) * qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 0)) + math.sin(
        th
    ) * qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 1))
    return qutip.ket2dm(psi)


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured: ~4 kB per saved time for the four scenarios; rounded up)."""
    return 2e7 + 6e3 * p["n_times"] + 1e3 * p["n_beta"] * len(p["kappa_ratios"]), ("n_times",)


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: ~50 ms per beta of the
    speed-up curves (root finds at each), ~0.3 ms per saved time, 1.5 s of set-up.

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, minimum of two runs in
    fresh processes): 4.3 s at the defaults, 15.7 s at n_beta = 300, 46.9 s at 1000,
    9.7 s at n_times = 20000. Rounded up. Held-out check 2026-12-06 (load ~13,
    n_beta = 20, n_times = 11): 3.0 s with one kappa ratio, 4.0 s with seven (~9 ms per
    beta and ratio: now counted). The eps and kappa/r dependence at the study's beta (41
    certified twirl times) adds ~1 s (1.8 s measured at load 13 on 2 cores, 2026-12-06)."""
    per_beta = 0.025 + 0.009 * len(p["kappa_ratios"])  # a twirl time per kappa ratio
    seconds = 2.5 + per_beta * p["n_beta"] + 3e-4 * p["n_times"]
    return seconds, ("n_beta", "n_times", "kappa_ratios")


def figure_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds to draw and save the figures (PNG and PDF): ~3.5 s plus ~0.15 s per
    kappa ratio (a curve each), plus ~1 s for the eps/kappa figure. Measured 2026-12-06
    (load ~13, n_beta = 20): 3.9 s with one ratio, 4.8 s with seven. Rounded up."""
    return 4.5 + 0.15 * len(p["kappa_ratios"]), ("kappa_ratios",)


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Run the study (deterministic: exact averaged dynamics; ``seed`` is recorded only)."""
    p = resolve(PARAMS, params, study=NAME)
    seed = check_seed(seed)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    if p["beta_min"] >= p["beta_max"]:
        raise ParamError(f"beta_min must be < beta_max, got {p['beta_min']:g} >= {p['beta_max']:g}")
    kr = p["kappa"] / p["rate"]
    if p["kappa"] > 0 and not RATE_MIN <= kr <= RATE_MAX:
        # t* ~ ln(gamma/(2 eps))/(2 kappa): r t* ~ (r/kappa) * 10 must stay where the
        # propagators keep their digits (kappa = 1e-6, r = 1e6 failed "not trace preserving")
        raise ParamError(
            f"kappa/rate must lie in [{RATE_MIN:g}, {RATE_MAX:g}] (the range of kappa_ratios),"
            f" got {kr:.3g} (kappa={p['kappa']:g}, rate={p['rate']:g})"
        )
    for name in ("beta", "beta_min", "beta_max"):
        check_temperature(p[name], p["omega"], name=name)
    if 0 < p["kappa"] < RATE_MIN:
        raise ParamError(f"kappa must be 0 or in [{RATE_MIN:g}, {RATE_MAX:g}], got {p['kappa']!r}")
    omega, beta, r, eps, kappa = p["omega"], p["beta"], p["rate"], p["eps"], p["kappa"]
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, beta)
    # NoEPLTError if tau is pure (beta omega so large that p_min underflows)
    E = eplt_channel(tau, tau)
    gamma, pmin = E.gamma, E.gamma / 2
    rho0 = initial_state(p)
    # the root, bracketed on the eps-LT side at the floating-point t* the study reports
    t_twirl, _ = certify_at_t_star(tau, H, beta, r, kappa, eps, _twirl_time(tau, r, kappa, eps))
    t_reset = math.log(1 / gamma) / r
    t_star = t_twirl + t_reset

    protos = {"gad": _gad_env(H, beta, r, tau), "thermal_resets": _reset_env(tau, r)}
    for name, (sd, sc) in _SHARING.items():
        protos[name], _ = eplt_protocol(
            tau,
            tau,
            H,
            H,
            beta,
            rate=r,
            kappa=kappa,
            t_twirl=t_twirl,
            shared_drive=sd,
            shared_clock=sc,
        )
    protos["independent_damping_stopped"] = _damping_protocol(H, beta, r, tau, t_reset)
    t_stars = {s: t_star for s in SCENARIOS}
    t_stars["independent_damping_stopped"] = t_reset

    # channel-level numbers at each scenario's t*
    lt_at = {s: _lt(protos[s], t_stars[s], tau) for s in DYNAMIC}
    tt = qutip.tensor(tau, tau)
    replacement = qutip.Qobj(
        np.outer(tt.full().reshape(-1, order="F"), np.eye(4).reshape(-1, order="F")),
        dims=[[[2, 2], [2, 2]], [[2, 2], [2, 2]]],
        superrep="super",
    )
    lt_at["no_shared_randomness"] = float(lt_error(replacement, tau))
    skip, _ = eplt_protocol(tau, tau, H, H, beta, rate=r, hold=False)
    lt_skip = _lt(skip, t_reset, tau)

    t_max_ref = 3 * math.log(1 / eps) / r + 5 / r
    t_eps_ref = lt_time(protos["thermal_resets"], eps, taus=[tau, tau], t_max=t_max_ref)
    t_eps_gad = lt_time(protos["gad"], eps, taus=[tau, tau], t_max=2 * t_max_ref)
    t_eps_in = reference_time(rho0, omega, beta, r, eps)

    lifetimes = {s: _lifetime(rho0, protos[s], t_stars[s], r) for s in DYNAMIC}
    lifetimes["no_shared_randomness"] = 0.0
    ends = [t_eps_in, t_star] + [t_stars[s] + v for s, v in lifetimes.items() if math.isfinite(v)]
    t_max = p["t_max"] or 1.1 * max(ends)
    times = np.union1d(
        np.linspace(0, t_max, p["n_times"]),
        [t for t in (t_star, t_reset, t_twirl, t_eps_in) if 0 < t <= t_max],
    )
    e_ops = ["negativity", "marginal_distance", "phi_plus_overlap"]
    series = {s: evolve(rho0, protos[s], times, e_ops=e_ops) for s in DYNAMIC}
    at_star = {s: int(np.argmin(np.abs(times - t_stars[s]))) for s in DYNAMIC}
    neg_at = {s: float(series[s].expect["negativity"][at_star[s]]) for s in DYNAMIC}
    md_at = {s: float(series[s].expect["marginal_distance"][at_star[s]].max()) for s in DYNAMIC}
    neg_at["no_shared_randomness"] = negativity(tt)
    md_at["no_shared_randomness"] = 0.0

    # curves against beta
    value_keys(p["kappa_ratios"], "kappa_ratios")  # a value listed twice: one line
    # the instantaneous twirl (kappa/r = inf) is always drawn; given in the list, it is
    # that same curve
    finite = [k for k in p["kappa_ratios"] if math.isfinite(k)]
    ratio_keys = value_keys([*finite, math.inf], "kappa_ratios")
    betas = np.geomspace(p["beta_min"], p["beta_max"], p["n_beta"])
    kappas = [k * r for k in finite] + [math.inf]
    it = betas
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(betas, desc="speed-up curves", leave=False)
    pts = [_beta_point(b, p, kappas, rho0) for b in it]
    ref_b = np.array([q["t_eps_resets"] for q in pts])
    ts_kb = np.array([q["t_star_by_kappa"] for q in pts]).T  # (kappa, beta)
    S_k = ref_b[None] / ts_kb
    ts_b = np.array([q["t_star"] for q in pts])
    S_b = ref_b / ts_b
    cross = {kr: _crossover(p, betas, S_k[i], kappas[i]) for i, kr in enumerate(kappas)}
    crossover = _crossover(p, betas, S_b, kappa) if kappa > 0 else None

    ratios = [*finite, math.inf]
    dep = eps_and_kappa_dependence(p, ratios, EPS_VALUES, _EPS_GRID, _KAPPA_RATIO_GRID)
    data = xr.Dataset(
        {
            "negativity": (
                ("scenario", "time"),
                np.stack([series[s].expect["negativity"] for s in DYNAMIC]),
                {"units": "1"},
            ),
            "marginal_distance": (
                ("scenario", "time", "party"),
                np.stack([series[s].expect["marginal_distance"] for s in DYNAMIC]),
                {"units": "1", "long_name": "trace distance of each marginal to tau (study input)"},
            ),
            "phi_plus_overlap": (
                ("scenario", "time"),
                np.stack([series[s].expect["phi_plus_overlap"] for s in DYNAMIC]),
                {"units": "1"},
            ),
            "speedup_kappa": (
                ("kappa_ratio", "beta"),
                S_k,
                {"units": "1", "long_name": "channel-level t_eps(thermal resets)/t*"},
            ),
            "speedup_beta": (
                ("beta",),
                S_b,
                {"units": "1", "long_name": "channel-level t_eps(thermal resets)/t*, study kappa"},
            ),
            "speedup_gad_beta": (
                ("beta",),
                np.array([q["t_eps_gad"] for q in pts]) / ts_b,
                {"units": "1", "long_name": "channel-level t_eps(GAD)/t*, study kappa"},
            ),
            "speedup_for_input_beta": (
                ("beta",),
                np.array([q["t_eps_input"] for q in pts]) / ts_b,
                {"units": "1", "long_name": "study input's own t_eps(GAD)/t*, study kappa"},
            ),
            "negativity_at_t_star_beta": (
                ("clocks", "beta"),
                np.array(
                    [[q[s] for q in pts] for s in ("correlated", "shared_drive_independent_clocks")]
                ),
                {"units": "1", "long_name": "negativity at t* of the study input, shared drive"},
            ),
            "t_eps_reference_beta": (("beta",), ref_b, {"units": "1/omega"}),
            "speedup_eps": (
                ("kappa_ratio", "eps"),
                dep["eps_grid"],
                {"units": "1", "long_name": "channel-level t_eps(thermal resets)/t*, study beta"},
            ),
            "speedup_kappa_ratio_grid": (
                ("eps_value", "kappa_ratio_grid"),
                dep["kappa_grid"],
                {"units": "1", "long_name": "channel-level t_eps(thermal resets)/t*, study beta"},
            ),
            "t_star_beta": (("beta",), ts_b, {"units": "1/omega"}),
        },
        coords={
            "scenario": list(DYNAMIC),
            "time": ("time", times, {"units": "1/omega"}),
            "party": ["A", "B"],
            "beta": ("beta", betas, {"units": "1/omega"}),
            "kappa_ratio": ("kappa_ratio", np.array(ratios, dtype=float), {"units": "1"}),
            "clocks": ["shared", "independent"],
            "eps": ("eps", _EPS_GRID, {"units": "1"}),
            "eps_value": ("eps_value", np.array(EPS_VALUES), {"units": "1"}),
            "kappa_ratio_grid": ("kappa_ratio_grid", _KAPPA_RATIO_GRID, {"units": "1"}),
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
        "t_twirl_closed_form": max(0.0, math.log(gamma / (2 * eps))) / (2 * kappa)
        if kappa > 0
        else 0.0,
        "t_star": t_star,
        "t_star_by_scenario": t_stars,
        "t_eps_reference": t_eps_ref,
        "t_eps_reference_gad": t_eps_gad,
        "t_eps_reference_for_input": t_eps_in,
        "speedup": t_eps_ref / t_star,
        "speedup_gad": t_eps_gad / t_star,
        "speedup_for_input": t_eps_in / t_star,
        "crossover_beta": crossover,
        "crossover_beta_by_kappa_ratio": {k: cross[kk] for k, kk in zip(ratio_keys, kappas)},
        "lt_error_at_t_star": lt_at,
        "lt_error_without_twirl": lt_skip,
        "negativity_at_t_star": neg_at,
        "marginal_distance_at_t_star": md_at,
        "entanglement_lifetime_after_t_star": lifetimes,
        "closed_forms": {
            "p_min": pmin,
            "shared_drive_independent_clocks_phi_plus": max(0.0, gamma * (2 * gamma - 1) / 2),
            "independent_damping_stopped_phi_plus_negativity": gamma**2 / 2,
            "independent_damping_stopped_lt_error": math.sqrt(gamma) / 2,
            "t_eps_reference": math.log((1 - pmin) / eps) / r,
        },
        "speedup_vs_eps": dep["speedup_vs_eps"],
        "speedup_vs_kappa_ratio": dep["speedup_vs_kappa_ratio"],
    }
    return StudyResult(NAME, p, seed, data, summary, extra={"betas": betas})

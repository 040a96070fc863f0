"""The main study against the closed forms of DESIGN.md (channel-level, certified timing)."""

import json
import math

import numpy as np
import pytest
from eplt.baths import certified_twirl_time, qubit_hamiltonian, thermal_state
from eplt.dynamics import lt_time
from eplt.studies import speedup
from scipy.optimize import brentq

from tests.systems import qubit_populations

SMALL = {"n_times": 41, "n_beta": 6, "kappa_ratios": (10.0,), "beta_max": 8.0}
EPS = 1e-3


@pytest.fixture(scope="module")
def result():
    return speedup.run(SMALL)


def test_certified_twirl_time_matches_closed_form(result):
    # lt_error(E_t*) = gamma e^{-2 kappa t_twirl}/2 (local Bloch decay 2 kappa, reset gamma)
    s = result.summary
    gamma = s["gamma"]
    closed = math.log(gamma / (2 * EPS)) / (2 * 10.0)
    assert s["t_twirl"] == pytest.approx(closed, abs=1e-10)  # brentq to 1e-12 on the channel
    assert s["t_twirl_closed_form"] == pytest.approx(closed, rel=1e-14)
    for beta, kappa in [(0.3, 2.0), (2.0, 50.0)]:
        tau = thermal_state(qubit_hamiltonian(1.0), beta)
        g = 2 * qubit_populations(beta)[1]
        t = certified_twirl_time(tau, tau, rate=1.0, kappa=kappa, eps=EPS)
        assert t == pytest.approx(math.log(g / (2 * EPS)) / (2 * kappa), abs=1e-10)
    # no twirl needed when gamma/2 <= eps (very low temperature)
    tau = thermal_state(qubit_hamiltonian(1.0), 8.0)
    assert certified_twirl_time(tau, tau, rate=1.0, kappa=3.0, eps=EPS) == 0.0


def test_headline_numbers_match_closed_forms(result):
    s = result.summary
    p0, p1 = qubit_populations(1.0)
    gamma = 2 * p1
    assert s["gamma"] == pytest.approx(gamma, rel=1e-12)
    assert s["t_star"] == pytest.approx(s["t_twirl"] + math.log(1 / gamma), rel=1e-12)
    # one t* for the three protocols (identical marginal maps)
    for sc in speedup.PROTOCOLS:
        assert s["t_star_by_scenario"][sc] == s["t_star"]
    assert s["t_star_by_scenario"]["independent_damping_stopped"] == pytest.approx(
        math.log(1 / gamma), rel=1e-12
    )
    # channel-level reference: lt_error = (1 - p_min) e^{-r t}
    assert s["t_eps_reference"] == pytest.approx(math.log((1 - p1) / EPS), abs=1e-9)
    # per-input reference (Phi+, GAD): marginals I/2 relax at r
    assert s["t_eps_reference_for_input"] == pytest.approx(math.log((p0 - 0.5) / EPS), abs=1e-9)
    assert s["speedup"] == pytest.approx(s["t_eps_reference"] / s["t_star"], rel=1e-12)
    assert s["speedup_gad"] == pytest.approx(s["t_eps_reference_gad"] / s["t_star"], rel=1e-12)
    assert s["speedup_for_input"] == pytest.approx(
        s["t_eps_reference_for_input"] / s["t_star"], rel=1e-12
    )
    # GAD's coherences decay at r/2: slower worst case than the resets
    assert s["t_eps_reference_gad"] > s["t_eps_reference"]
    neg = s["negativity_at_t_star"]
    assert neg["correlated"] == pytest.approx(p1, abs=1e-10)
    assert neg["shared_drive_independent_clocks"] == pytest.approx(
        max(0.0, gamma * (2 * gamma - 1) / 2), abs=1e-10
    )
    assert neg["independent"] == pytest.approx(0.0, abs=1e-10)
    assert neg["no_shared_randomness"] == 0.0
    assert neg["independent_damping_stopped"] == pytest.approx(gamma**2 / 2, abs=1e-10)
    for sc in speedup.PROTOCOLS + ("independent_damping_stopped", "no_shared_randomness"):
        assert s["marginal_distance_at_t_star"][sc] < 1e-10  # Phi+: exactly thermal
    assert s["marginal_distance_at_t_star"]["gad"] > 1e-2


def test_lt_error_at_t_star_by_scenario(result):
    s = result.summary
    gamma = s["gamma"]
    lt = s["lt_error_at_t_star"]
    for sc in speedup.PROTOCOLS:
        assert lt[sc] == pytest.approx(EPS, abs=1e-10)  # certified: exactly at eps
    assert lt["no_shared_randomness"] < 1e-12
    # stopped T=0 damping: Bloch map diag(sqrt(gamma), sqrt(gamma), gamma) about r_tau
    assert lt["independent_damping_stopped"] == pytest.approx(math.sqrt(gamma) / 2, abs=1e-12)
    # the input-dependent timing (no twirl, fine for Phi+): lt_error = gamma/2 = p_min
    assert s["lt_error_without_twirl"] == pytest.approx(gamma / 2, abs=1e-12)
    p1 = gamma / 2
    assert lt["thermal_resets"] == pytest.approx((1 - p1) * math.exp(-s["t_star"]), abs=1e-12)
    assert lt["gad"] > lt["thermal_resets"]


def test_entanglement_lifetime_after_t_star(result):
    life = result.summary["entanglement_lifetime_after_t_star"]
    # E_gamma(Phi+) under the holding GAD baths at beta omega = 1 (bisection to 1e-10)
    assert life["correlated"] == pytest.approx(0.6394598, abs=1e-6)
    assert life["independent"] == 0.0 and life["no_shared_randomness"] == 0.0
    assert 0 < life["shared_drive_independent_clocks"] < life["correlated"]


def test_reference_channel_time_agrees_with_lt_time():
    # the monotone bracket used for the curves against the general lt_time
    tau = thermal_state(qubit_hamiltonian(1.0), 2.0)
    H = qubit_hamiltonian(1.0)
    for env in (speedup._reset_env(tau, 0.8), speedup._gad_env(H, 2.0, 0.8, tau)):
        a = speedup.channel_time(env, tau, EPS, 0.8)
        b = lt_time(env, EPS, taus=[tau, tau], t_max=40.0)
        assert a == pytest.approx(b, abs=1e-9)


def test_crossover_for_instantaneous_twirl(result):
    # t_eps = ln((1 - p)/eps), t* = ln(1/(2p)): equal where 2 p (1 - p) = eps
    def f(b):
        p = 1 / (1 + math.exp(b))
        return 2 * p * (1 - p) - EPS

    expected = brentq(f, 5, 9, xtol=1e-13)
    cb = result.summary["crossover_beta_by_kappa_ratio"]
    assert cb["inf"] == pytest.approx(expected, abs=1e-7)
    assert expected == pytest.approx(7.60, abs=0.01)
    # there gamma < 2 eps: no twirl is needed, so every kappa crosses at the same beta
    assert cb["10"] == pytest.approx(expected, abs=1e-7)
    assert result.summary["crossover_beta"] == pytest.approx(expected, abs=1e-7)


def test_speedup_curves_and_shared_vs_independent_clocks(result):
    ds = result.data
    b = ds["beta"].values
    S = ds["speedup_kappa"].sel(kappa_ratio=10.0).values
    S_inf = ds["speedup_kappa"].sel(kappa_ratio=math.inf).values
    assert np.all(S <= S_inf + 1e-12)  # a finite twirl only adds time
    p1 = 1 / (1 + np.exp(b))
    g = 2 * p1
    n = ds["negativity_at_t_star_beta"]
    assert np.allclose(n.sel(clocks="shared"), p1, atol=1e-10)
    assert np.allclose(n.sel(clocks="independent"), np.maximum(0, g * (2 * g - 1) / 2), atol=1e-10)


def test_schmidt_input_needs_the_same_twirl_time():
    r = speedup.run({**SMALL, "input": "schmidt", "kappa": 2.0})
    s = r.summary
    # input independent: the same closed form as for Phi+
    assert s["t_twirl"] == pytest.approx(math.log(s["gamma"] / (2 * EPS)) / 4.0, abs=1e-10)
    assert s["lt_error_at_t_star"]["correlated"] == pytest.approx(EPS, abs=1e-10)
    assert s["marginal_distance_at_t_star"]["correlated"] <= EPS + 1e-12


def test_kappa_zero_refused_when_a_twirl_is_needed():
    from eplt.studies.params import ParamError

    with pytest.raises(ParamError, match=r"kappa = 0 \(no twirl\).*set kappa in \[1e-06, 1e\+06\]"):
        speedup.run({**SMALL, "kappa": 0.0})


def test_figures_and_data(result):
    figs = speedup.figures(result)
    assert set(figs) == {"timeseries", "speedup_vs_beta", "speedup_vs_eps"}
    for fig in figs.values():
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
            assert ax.get_title(loc="left"), "every panel is titled"
        labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
        labels += [
            t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
        ]
        assert len(labels) == len(set(labels)), f"legend labels repeat: {labels}"
    # every drawn scenario of the time series has one legend entry, with its own style
    (lg,) = figs["timeseries"].legends
    styles = [(h.get_color(), str(h.get_linestyle())) for h in lg.legend_handles]
    assert len(styles) == len(set(styles)) == len(speedup.DYNAMIC)
    # panel (b) shows one input's marginals and says so
    assert "this input only" in figs["timeseries"].axes[1].get_title(loc="left")
    ds = result.data
    assert list(ds["scenario"].values) == list(speedup.DYNAMIC)
    assert ds["negativity"].dims == ("scenario", "time")
    assert set(result.summary["lt_error_at_t_star"]) == set(speedup.SCENARIOS)
    assert json.dumps(result.params)


def test_zero_temperature_is_a_clear_error():
    from eplt.studies.params import ParamError

    with pytest.raises(ParamError, match=r"beta must lie in \(0, inf\).*pure"):
        speedup.run({**SMALL, "beta": math.inf})  # declared (0, inf): refused as a parameter
    # finite but too cold for double precision: said so, naming beta
    with pytest.raises(ParamError, match=r"beta = 800 .* underflows double precision"):
        speedup.run({**SMALL, "beta": 800.0})


def test_plot_module_lists_the_same_scenarios():
    from eplt.studies import _speedup_plot

    assert _speedup_plot.DYNAMIC == speedup.DYNAMIC
    assert set(speedup.LABELS) == set(speedup.DYNAMIC)


def test_scenario_colours_follow_the_shared_palette(result):
    # one colour per scenario name in every study (eplt.studies.style.SCENARIO_COLORS)
    import matplotlib.pyplot as plt
    from eplt.studies import style
    from matplotlib.colors import to_hex

    _, ax = plt.subplots()
    speedup.plot(result, ax, which="negativity")
    colours = {ln.get_gid(): to_hex(ln.get_color()) for ln in ax.get_lines() if ln.get_gid()}
    assert {"correlated", "independent", "thermal_resets"} <= set(colours)
    for name, c in colours.items():
        assert c == to_hex(style.SCENARIO_COLORS[name]), name
    plt.close("all")


@pytest.mark.parametrize("name", ["phi_plus", "schmidt"])
def test_marginal_distances_through_the_marginal_channels_match_evolve(name):
    # the root finder's refine function (marginal channels) against evolving the joint
    # state (value_at), for an entangled and a non-maximally entangled input under GAD
    from eplt.studies._speedup_times import _marginal_distances
    from eplt.studies.base import value_at

    H = qubit_hamiltonian(1.0)
    tau = thermal_state(H, 1.3)
    rho0 = speedup.initial_state({"input": name, "theta": 0.4})
    env = speedup._gad_env(H, 1.3, 0.8, tau)
    fast = _marginal_distances(rho0, env, tau)
    slow = value_at(rho0, env, "marginal_distance")
    for t in (0.0, 0.05, 1.0, 3.7, 12.0):
        np.testing.assert_allclose(fast(t), slow(t), rtol=0, atol=1e-13)


def test_speedup_depends_on_eps_and_kappa_ratio(result):
    """S(eps, kappa) = ln((1 - p_min)/eps) / (ln(gamma/(2 eps))/(2 kappa) + ln(1/gamma)), r = 1."""
    s = result.summary
    gamma = s["gamma"]
    p_min = gamma / 2

    def closed(eps, kr):
        tw = 0.0 if math.isinf(kr) else max(0.0, math.log(gamma / (2 * eps))) / (2 * kr)
        return math.log((1 - p_min) / eps) / (tw + math.log(1 / gamma))

    assert set(s["speedup_vs_eps"]) == {"0.01", "0.001", "1e-06", "1e-09"}
    for key, v in s["speedup_vs_eps"].items():
        # certified t_twirl: a root of lt_error - eps, whose slope is ~2 kappa eps, so at
        # eps = 1e-9 it is known to ~1e-9 relative (seen: 4e-9 on S); 1e-7 bounds that
        assert v == pytest.approx(closed(float(key), 10.0), rel=1e-7)
    assert s["speedup_vs_eps"]["0.001"] == pytest.approx(s["speedup"], rel=1e-9)
    assert set(s["speedup_vs_kappa_ratio"]) == {"10", "inf"}
    for key, v in s["speedup_vs_kappa_ratio"].items():
        assert v == pytest.approx(closed(EPS, float(key)), rel=1e-7)
    # the numbers the README quotes at beta omega = 1 (recomputed here, not stored)
    quoted = {1e-2: 5.47, 1e-3: 7.33, 1e-6: 10.84, 1e-9: 12.83}
    for eps, v in quoted.items():
        assert round(closed(eps, 10.0), 2) == v
    assert round(closed(1e-3, 1.0), 2) == 1.93
    # the figure's grids: S grows as eps shrinks and as kappa/r grows
    ds = result.data
    grid = ds["speedup_eps"].sel(kappa_ratio=10.0).values
    assert np.all(np.diff(grid) < 0)  # eps grid ascending: S falls as eps grows
    np.testing.assert_allclose(grid, [closed(e, 10.0) for e in ds["eps"].values], rtol=1e-7)
    for e in ds["eps_value"].values:
        row = ds["speedup_kappa_ratio_grid"].sel(eps_value=e).values
        assert np.all(np.diff(row) > 0)


def test_kappa_ratios_may_name_the_instantaneous_twirl():
    # adversarial audit: inf is declared valid but was refused as "listed twice" (the study
    # always adds the kappa/r = inf curve); given, it is that same curve
    from eplt.studies import speedup

    tiny = {"n_times": 11, "n_beta": 2, "beta_max": 2.0}
    a = speedup.run({**tiny, "kappa_ratios": (1.0, math.inf)}, seed=0)
    b = speedup.run({**tiny, "kappa_ratios": (1.0,)}, seed=0)
    assert a.summary["crossover_beta_by_kappa_ratio"] == b.summary["crossover_beta_by_kappa_ratio"]
    with pytest.raises(ValueError, match="twice"):
        speedup.run({**tiny, "kappa_ratios": (math.inf, math.inf)}, seed=0)

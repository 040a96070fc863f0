"""The main study against the closed forms of DESIGN.md."""

import json
import math

import pytest

from studies import speedup
from tests.systems import qubit_populations

SMALL = {"n_times": 41, "n_beta": 6, "kappa_ratios": (10.0,), "beta_max": 8.0}


@pytest.fixture(scope="module")
def result():
    return speedup.run(SMALL)


def test_headline_numbers_match_closed_forms(result):
    s = result.summary
    p0, p1 = qubit_populations(1.0)
    gamma = 2 * p1
    assert s["gamma"] == pytest.approx(gamma, rel=1e-12)
    assert s["t_twirl"] == 0.0  # Phi+ is twirl-invariant
    assert s["t_star"] == pytest.approx(s["t_twirl"] + math.log(1 / gamma), rel=1e-12)
    # reference: marginals I/2 relax at rate r: t_eps = ln((p0 - 1/2)/eps)/r, found to 1e-12
    assert s["t_eps_reference"] == pytest.approx(math.log((p0 - 0.5) / 1e-3), abs=1e-9)
    assert s["speedup"] == pytest.approx(s["t_eps_reference"] / s["t_star"], rel=1e-12)
    neg = s["negativity_at_t_star"]
    assert neg["correlated"] == pytest.approx(p1, abs=1e-10)
    assert neg["shared_drive_independent_clocks"] == pytest.approx(
        max(0.0, gamma * (2 * gamma - 1) / 2), abs=1e-10
    )
    assert neg["independent"] == pytest.approx(0.0, abs=1e-10)
    for sc in ("correlated", "shared_drive_independent_clocks", "independent"):
        assert s["marginal_distance_at_t_star"][sc] < 1e-10
    assert s["marginal_distance_at_t_star"]["reference"] > 1e-2


def test_crossover_near_6_9_for_instantaneous_twirl(result):
    # t_eps(ref) = ln((p0 - 1/2)/eps), t* = ln((1 + e^{beta})/2): equal near beta = 6.905
    def f(b):
        p0 = 1 / (1 + math.exp(-b))
        return math.log((p0 - 0.5) / 1e-3) - math.log((1 + math.exp(b)) / 2)

    from scipy.optimize import brentq

    expected = brentq(f, 5, 8, xtol=1e-12)
    assert result.summary["crossover_beta"] == pytest.approx(expected, abs=1e-7)
    assert expected == pytest.approx(6.9, abs=0.01)


def test_finite_kappa_needs_twirl_time_and_lowers_crossover():
    r = speedup.run({**SMALL, "input": "schmidt", "kappa": 2.0})
    s = r.summary
    assert s["t_twirl"] > 0
    # gap = 2 kappa: twirl error e^{-gap t} reaches eps/10 = 1e-4 after about ln(1e4 * D0)/(2 kappa)
    assert s["t_twirl"] == pytest.approx(math.log(1e4) / (2 * 2.0), rel=0.3)
    assert s["t_star"] == pytest.approx(s["t_twirl"] + math.log(1 / s["gamma"]), rel=1e-12)
    assert s["marginal_distance_at_t_star"]["correlated"] < 1e-3 / 10 + 1e-12
    cb = s["crossover_beta_by_kappa_ratio"]
    assert cb["10"] < cb["inf"]


def test_figures_and_data(result):
    figs = speedup.figures(result)
    assert set(figs) == {"timeseries", "speedup_vs_beta"}
    for fig in figs.values():
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
    ds = result.data
    assert set(ds["scenario"].values) == set(speedup.SCENARIOS)
    assert ds["negativity"].dims == ("scenario", "time")
    assert json.dumps(result.params)


def test_zero_temperature_is_a_clear_error():
    from dynamics.channels import NoEPLTError
    from studies.params import ParamError

    with pytest.raises(NoEPLTError, match="pure"):
        speedup.run({**SMALL, "beta": math.inf})
    # finite but too cold for double precision: said so, naming beta
    with pytest.raises(ParamError, match=r"beta = 800 .* underflows double precision"):
        speedup.run({**SMALL, "beta": 800.0})

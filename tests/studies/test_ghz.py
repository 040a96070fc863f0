"""Study `ghz`: the n-qubit protocol against the closed forms of DESIGN.md.

At t* = t_twirl + ln(1/gamma)/r the correlated protocol realises E^GHZ_gamma(rho0) up to the
twirl error: GHZ fidelity 1/2 + gamma (F_in - 1/2) (omega = |0><0|), marginals tau. The
independent protocol gives tau^(x)n: GHZ fidelity (p0^n + p1^n)/2 <= 1/2, no entanglement.
Tolerances: the twirl error enters linearly (|Tr P (rho - sigma)| <= D(rho, sigma) for a
projector P, and the later stages are contractions), so each check allows the measured
twirl distance plus 1e-12 of round-off.
"""

import json
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import qutip
from eplt.dynamics import evolve
from eplt.dynamics.channels import ghz_eplt_channel, ghz_twirl
from eplt.dynamics.measures import trace_distance
from eplt.dynamics.states import random_state
from eplt.studies import ghz

from tests.studies.helpers import run_error, run_ok

TINY = {"n_times": 41, "n_max": 3, "n_scale_max": 8, "n_product_sum": 40}


def populations(beta):
    p1 = 1 / (1 + math.exp(beta))
    return 1 - p1, p1


@pytest.fixture(scope="module")
def result():
    return ghz.run(TINY)


def test_summary_keys_are_documented(result):
    assert set(result.summary) == set(ghz.SUMMARY_KEYS)


def test_protocol_times(result):
    s = result.summary
    _, p1 = populations(1.0)
    assert s["gamma"] == pytest.approx(2 * p1, rel=1e-12)
    assert s["twirl_gap"] == 2.5  # min(kappa/2, 2 flip_rate) = min(2.5, 10)
    assert s["t_twirl"] == pytest.approx(math.log(1e4) / 2.5, rel=1e-14)
    assert s["t_star"] == pytest.approx(s["t_twirl"] + math.log(1 / s["gamma"]), rel=1e-14)


def test_fidelity_and_entanglement_at_t_star(result):
    s = result.summary
    p0, p1 = populations(1.0)
    tol = s["twirl_distance"] + 1e-12
    F = s["ghz_fidelity_at_t_star"]
    assert s["ghz_fidelity_input"] == pytest.approx(0.9, abs=1e-12)
    assert F["correlated"] == pytest.approx(0.5 + s["gamma"] * (0.9 - 0.5), abs=tol)
    assert F["correlated"] > 0.5
    assert F["independent"] <= 0.5
    # the independent twirl leaves an error ~ e^{-gap t_twirl} = twirl_tol = 1e-4
    assert F["independent"] == pytest.approx((p0**3 + p1**3) / 2, abs=1e-4)
    for sc in ghz.SCENARIOS:
        assert s["marginal_distance_at_t_star"][sc] < 1e-10
    neg = s["min_bipartition_negativity_at_t_star"]
    assert neg["correlated"] > 0.1
    assert neg["independent"] == pytest.approx(0.0, abs=1e-12)


def test_marginals_identical_for_correlated_and_independent(result):
    md = result.data["marginal_distance"]
    np.testing.assert_allclose(
        md.sel(scenario="correlated").values, md.sel(scenario="independent").values, atol=1e-12
    )


@pytest.mark.parametrize("kappa, flip", [(5.0, 5.0), (2.0, 0.3)])
def test_twirl_stage_gap_and_fixed_points(kappa, flip):
    env = ghz.twirl_environment(3, kappa, flip)
    gap = min(kappa / 2, 2 * flip)
    # dense diagonalisation of the 64 x 64 averaged generator
    assert env.spectral_gap() == pytest.approx(gap, rel=1e-9)
    assert env.independent().spectral_gap() == pytest.approx(gap, rel=1e-9)
    # the average at long times is the closed-form GHZ twirl (e^{-gap t} < 1e-13)
    rho = random_state([2, 2, 2], seed=11)
    t = 32 / gap
    out = evolve(rho, env, [0.0, t], e_ops=[], store_states=True).states[-1]
    assert trace_distance(out, ghz_twirl(rho)) < 1e-12


def test_random_input_needs_the_twirl():
    r = ghz.run(
        {**TINY, "input": "random", "n_max": 0, "n_scale_max": 0, "n_product_sum": 0}, seed=4
    )
    s = r.summary
    assert s["twirl_distance"] < 1e-4  # t_twirl is set by twirl_tol = 1e-4 and the gap
    tol = s["twirl_distance"] + 1e-12
    expected = 0.5 + s["gamma"] * (s["ghz_fidelity_input"] - 0.5)
    assert s["ghz_fidelity_at_t_star"]["correlated"] == pytest.approx(expected, abs=tol)
    assert s["marginal_distance_at_t_star"]["correlated"] <= tol
    assert r.data.sizes["n"] == 0
    assert set(ghz.figures(r)) == {"timeseries"}


def test_fidelity_vs_n(result):
    s = result.summary
    p0, p1 = populations(1.0)
    assert list(s["ghz_fidelity_vs_n"]) == ["2", "3"]
    for key, v in s["ghz_fidelity_vs_n"].items():
        n = int(key)
        assert v["correlated"] == pytest.approx(0.5 + s["gamma"] * 0.4, abs=1e-12)
        assert v["independent"] == pytest.approx((p0**n + p1**n) / 2, abs=1e-4)


def test_figures_have_labelled_axes(result):
    figs = ghz.figures(result)
    assert set(figs) == {"timeseries", "fidelity_vs_n", "scaling"}
    for fig in figs.values():
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
    assert json.dumps(result.params)


def test_zero_temperature_is_a_clear_error():
    from eplt.dynamics.channels import NoEPLTError
    from eplt.studies.params import ParamError

    with pytest.raises(ParamError, match=r"beta must lie in \(0, inf\).*pure"):
        ghz.run({**TINY, "beta": math.inf})  # declared (0, inf): refused as a parameter
    with pytest.raises(NoEPLTError, match="pure"):  # the channel itself at zero temperature
        ghz_eplt_channel(qutip.Qobj([[1.0, 0], [0, 0]]), 3)
    # finite but too cold for double precision: said so, naming beta
    with pytest.raises(ParamError, match=r"beta = 800 .* underflows double precision"):
        ghz.run({**TINY, "beta": 800.0})


def test_cli_run_writes_outputs(tmp_path):
    summary = run_ok(
        tmp_path,
        "ghz",
        {"n_times": 21, "n_max": 3, "n_scale_max": 6, "n_product_sum": 0},
        ("timeseries", "fidelity_vs_n", "scaling"),
    )
    assert summary["method_vs_n"] == {"2": "exact", "3": "exact", "4": "exact", "6": "permutation"}
    assert summary["ghz_fidelity_at_t_star"]["correlated"] > 0.5


@pytest.mark.parametrize(
    "setting, message",
    [
        ("beta=inf", "pure"),
        ("fidelity=0.05", "fidelity must lie in [2^-n, 1]"),
        ("n=12", "n must lie"),
        ("n_product_sum=50", "n_product_sum must be 0 or larger than n_scale_max"),
    ],
)
def test_cli_bad_input_is_a_one_line_error(tmp_path, capsys, setting, message):
    key, value = setting.split("=")
    assert message in run_error(tmp_path, capsys, "ghz", {key: value})


def test_lt_error_at_t_star_is_worst_case_over_inputs(result):
    # The marginal maps of the two scenarios are identical. Each marginal mode of the twirl
    # stage is a joint mode, so it decays at least at the gap: the Bloch vector contracts
    # by <= e^{-gap t_twirl} = twirl_tol, then the reset multiplies it by gamma; the
    # marginal offsets are those of E_gamma. Hence lt_error <= gamma twirl_tol / 2, with
    # equality here: the slowest joint mode (kappa/2) is a one-qubit coherence.
    s = result.summary
    lt = s["lt_error_at_t_star"]
    assert set(lt) == set(ghz.SCENARIOS)
    assert lt["correlated"] == pytest.approx(lt["independent"], abs=1e-14)
    assert lt["correlated"] <= s["gamma"] * 1e-4 / 2 + 1e-14
    assert lt["correlated"] == pytest.approx(s["gamma"] * 1e-4 / 2, rel=1e-9)


def test_scaling_scan_against_closed_forms(result):
    """The scaling scan (exchangeable drive, n = 2, 3, 4, 6, 8): GHZ fidelity at t* against
    the closed forms (correlated up to the twirl error gamma * twirl_tol, measured through
    the marginal bound below; independent (p0^n + p1^n)/2 up to twirl_tol), the certified
    times, the worst-case marginal error and the method of each n."""
    s = result.summary
    p0, p1 = populations(1.0)
    ns = [2, 3, 4, 6, 8]
    assert list(s["fidelity_at_t_star_vs_n"]) == [str(n) for n in [*ns, 40]]
    for n in ns:
        F = s["fidelity_at_t_star_vs_n"][str(n)]
        assert F["correlated"] == pytest.approx(0.5 + s["gamma"] * 0.4, abs=s["gamma"] * 1e-4)
        assert F["correlated"] > 0.5 > F["independent"]
        assert F["independent"] == pytest.approx((p0**n + p1**n) / 2, abs=1e-4)
        gap = min(5.0 * (n - 1) / (2 * n), 10.0)
        assert s["t_twirl_vs_n"][str(n)] == pytest.approx(math.log(1e4) / gap, rel=1e-14)
        assert s["t_star_vs_n"][str(n)] == pytest.approx(
            s["t_twirl_vs_n"][str(n)] + math.log(1 / s["gamma"]), rel=1e-14
        )
        # the slowest marginal mode is the one-qubit coherence, at the gap: equality
        assert s["lt_error_at_t_star_vs_n"][str(n)] == pytest.approx(
            s["gamma"] * 1e-4 / 2, rel=1e-9
        )
        for sc in ghz.SCENARIOS:
            assert s["marginal_distance_at_t_star_vs_n"][str(n)][sc] < 1e-10
        assert s["method_vs_n"][str(n)] == ("exact" if n < 6 else "permutation")
    ds = result.data
    assert ds["fidelity_at_t_star_vs_n"].dims == ("scenario", "n_scale")
    np.testing.assert_array_equal(ds["n_scale"].values, [*ns, 40])


def test_exchangeable_drive_series():
    r = ghz.run({**TINY, "drive": "exchangeable", "n_max": 0, "n_scale_max": 0})
    s = r.summary
    assert s["drive"] == "exchangeable"
    assert s["twirl_gap"] == pytest.approx(5.0 * 2 / 6, rel=1e-14)  # kappa (n - 1)/(2n)
    env = ghz.twirl_environment(3, 5.0, 5.0, drive="exchangeable")
    assert env.spectral_gap() == pytest.approx(s["twirl_gap"], rel=1e-9)
    assert s["ghz_fidelity_at_t_star"]["correlated"] == pytest.approx(
        0.5 + s["gamma"] * 0.4, abs=s["twirl_distance"] + 1e-12
    )
    with pytest.raises(ValueError, match="drive must be one of"):
        ghz.twirl_environment(3, 5.0, 5.0, drive="other")


def test_worst_case_fidelity_over_inputs(result):
    """The worst case over all inputs with GHZ fidelity >= F_in: the correlated protocol's
    channel at t* gives exactly 1/2 + gamma (F_in - 1/2) for every such input (its twirl
    stage fixes |GHZ><GHZ|); it is never above the noisy GHZ input's own value (that input is
    feasible); both for the time series and at every n of the scaling scan."""
    s = result.summary
    closed = 0.5 + s["gamma"] * (s["ghz_fidelity_input"] - 0.5)
    wc = s["worst_case_fidelity_at_t_star"]
    assert wc["correlated"] == pytest.approx(closed, abs=1e-12)
    for sc in ghz.SCENARIOS:
        assert wc[sc] <= s["ghz_fidelity_at_t_star"][sc] + 1e-12
    for n, per in s["worst_case_fidelity_at_t_star_vs_n"].items():
        assert per["correlated"] == pytest.approx(closed, abs=1e-12)
        for sc in ghz.SCENARIOS:
            assert per[sc] <= s["fidelity_at_t_star_vs_n"][n][sc] + 1e-12


def test_product_sum_point(result):
    """n = 40 by the product-sum route (zero-sum drive): the closed forms, the zero-sum
    twirl gap, the worst-case marginal error as at small n, and the method recorded."""
    s = result.summary
    p0, p1 = populations(1.0)
    n = 40
    assert s["method_vs_n"][str(n)] == "product_sum (zero_sum drive)"
    F = s["fidelity_at_t_star_vs_n"][str(n)]
    assert F["correlated"] == pytest.approx(0.5 + s["gamma"] * 0.4, abs=1e-12)
    assert F["independent"] == pytest.approx((p0**n + p1**n) / 2, rel=1e-3)
    assert s["t_twirl_vs_n"][str(n)] == pytest.approx(math.log(1e4) / 2.5, rel=1e-14)
    assert s["lt_error_at_t_star_vs_n"][str(n)] == pytest.approx(s["gamma"] * 1e-4 / 2, rel=1e-9)
    assert result.data["method_n_scale"].values[-1] == "product_sum (zero_sum drive)"

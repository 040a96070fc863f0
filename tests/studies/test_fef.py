"""Study `fef`: overlap line, exact FEF, and where the naive bound F_max >= F fails."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from eplt.studies import fef
from eplt.studies.params import ParamError
from scipy.optimize import brentq

from tests.studies.helpers import run_error, run_ok
from tests.systems import qubit_populations

TINY = {"n_F": 21, "restarts": 1, "betas": [0.5, 2.0]}


@pytest.fixture(scope="module")
def result():
    return fef.run(TINY, seed=1)


def test_summary_keys_are_documented(result):
    assert set(result.summary) == set(fef.SUMMARY_KEYS)
    assert result.summary["beta"] == [0.5, 2.0]


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_overlap_line_slope_and_intercept(result, beta):
    gamma = 2 * qubit_populations(beta)[1]
    k = f"{beta:g}"
    s = result.summary
    assert s["gamma"][k] == pytest.approx(gamma, abs=1e-12)
    # The overlap is exactly linear in F: the least-squares fit is exact to round-off.
    assert s["slope"][k] == pytest.approx(gamma, abs=1e-12)
    assert s["intercept"][k] == pytest.approx((1 - gamma) / 2, abs=1e-12)


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_naive_bound_crossing_matches_closed_form(result, beta):
    gamma = 2 * qubit_populations(beta)[1]

    def gap(F):  # exact FEF (closed form) minus F
        return gamma * max(F, (1 - F) / 3) + (1 - gamma) / 2 - F

    expected = brentq(gap, 0.0, 1.0, xtol=1e-14)
    assert expected == pytest.approx(0.5, abs=1e-12)  # F > 1/2 for every gamma < 1
    # The study's brentq runs to 1e-12 on the library FEF.
    assert result.summary["naive_bound_violated_above_F"][f"{beta:g}"] == pytest.approx(
        expected, abs=1e-9
    )


def test_exact_fef_formula_and_numerical_maximum_agree_with_library(result):
    assert result.summary["fef_closed_form_max_error"] < 1e-12  # eigvalsh round-off
    # Polar ascent stops at a step below 1e-14; it can only undershoot the maximum.
    assert result.summary["fef_ascent_max_error"] < 1e-9
    ds = result.data
    assert float((ds["fef_ascent"] - ds["fef"]).max()) < 1e-12


def test_infinite_temperature_bound_never_fails():
    res = fef.run({"n_F": 5, "restarts": 0, "betas": [0.0]})
    assert res.summary["gamma"]["0"] == 1.0
    assert res.summary["naive_bound_violated_above_F"]["0"] is None


def test_zero_temperature_is_refused_by_the_declared_range():
    # betas is declared [0, inf): zero temperature (no EPLT) is refused as a parameter
    with pytest.raises(ParamError, match=r"betas must lie in \[0, inf\).*no EPLT exists"):
        fef.run({"n_F": 5, "betas": [1.0, math.inf]})


def test_marginal_cap_is_the_qubit_formula_and_bounds_every_output(result):
    # qubits: (sqrt(p0) + sqrt(p1))^2 / 2 = 1/2 + sqrt(p0 p1), p_min = gamma/2
    g = result.data["gamma"].values
    cap = result.data["fef_cap_marginals"].values
    np.testing.assert_allclose(cap, 0.5 + np.sqrt(g / 2 * (1 - g / 2)), rtol=1e-12)
    # every output has marginals tau: its FEF is below the cap, F_max = 1/2 <= cap
    fef_values = result.data["fef"].values
    assert np.all(fef_values <= cap[:, None] + 1e-12) and np.all(cap >= 0.5)


def test_figures_have_labelled_axes(result):
    figs = fef.figures(result)
    try:
        assert set(figs) == {"fef", "fef_gap"}
        for fig in figs.values():
            visible = [ax for ax in fig.axes if ax.get_visible()]
            assert visible
            for ax in visible:
                assert ax.get_xlabel()
            assert visible[0].get_ylabel()
    finally:
        for fig in figs.values():
            plt.close(fig)


def test_cli_run_writes_outputs(tmp_path):
    run_ok(tmp_path, "fef", {"n_F": 7, "restarts": 0, "betas": 1}, ("fef", "fef_gap"))


def test_cli_zero_temperature_is_a_one_line_error(tmp_path, capsys):
    assert "pure" in run_error(tmp_path, capsys, "fef", {"betas": "1,inf"})

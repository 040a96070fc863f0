"""Study `robustness`: partial correlation, timing errors and finite randomness at tiny size."""

import math

import numpy as np
import pytest
from eplt.studies import robustness

from tests.studies.helpers import run_error, run_ok
from tests.systems import qubit_populations

TINY = {
    "correlations": "0,0.5,0.7,1",
    "beta_omegas": "1,2",
    "delays": "-0.1,0,0.2",
    "rate_errors": "-0.1,0.1",
    "jitters": "0,0.1",
    "jitter_nodes": 2,
    "segments": "1,2",
    "nodes": 16,
}


@pytest.fixture(scope="module")
def res():
    return robustness.run(TINY)


def test_summary_keys_are_documented(res):
    assert set(res.summary) == set(robustness.SUMMARY_KEYS)
    assert set(res.summary["negativity_vs_correlation"]) == {"0", "0.5", "0.7", "1"}


def test_partial_correlation_closed_forms(res):
    s = res.summary
    gamma = 2 * qubit_populations(2.0)[1]
    for c, n in s["negativity_vs_correlation"].items():
        assert n == pytest.approx(max(0.0, gamma ** (2 - float(c)) - gamma / 2), abs=1e-12)
    assert s["negativity_vs_correlation"]["0"] == 0.0
    assert s["negativity_vs_correlation"]["1"] == pytest.approx(gamma / 2, abs=1e-12)
    # c* = 1 - ln 2 / ln(1/gamma): 0.51656 at beta omega = 2, none at beta omega = 1
    assert s["critical_correlation"]["2"] == pytest.approx(0.51656, abs=5e-6)
    assert s["critical_correlation"]["2"] == pytest.approx(
        1 - math.log(2) / math.log(1 / gamma), abs=1e-9
    )
    assert s["critical_correlation"]["1"] is None
    assert s["critical_correlation_closed_form"]["1"] is None
    for bo in ("1", "2"):
        assert s["critical_drive_correlation"][bo] == pytest.approx(
            s["critical_drive_correlation_closed_form"][bo], abs=1e-9
        )
    assert all(v == pytest.approx(1e-3, abs=1e-12) for v in s["lt_error_vs_correlation"].values())


def test_timing_errors_match_closed_forms(res):
    s = res.summary
    for key in ("lt_error_vs_delay", "lt_error_vs_rate_error"):
        for x, v in s[key].items():
            assert v == pytest.approx(s[f"{key}_closed_form"][x], abs=1e-12)
    gamma = s["gamma"]
    assert s["lt_error_vs_delay"]["0.2"] == pytest.approx(
        gamma * (1 - math.exp(-0.2)) / 2 + 1e-3 * math.exp(-0.2), abs=1e-12
    )
    assert s["negativity_vs_delay"]["0"] == pytest.approx(gamma / 2, abs=1e-12)
    assert s["negativity_vs_delay"]["0.2"] < gamma / 2
    # zero jitter is the nominal protocol
    assert s["jitter"]["0"]["lt_error"] == pytest.approx(1e-3, abs=1e-12)
    assert s["jitter"]["0"]["negativity"] == pytest.approx(gamma / 2, abs=1e-12)


def test_finite_randomness(res):
    fin = res.summary["finite_randomness"]
    gamma = res.summary["gamma"]
    h2 = -(gamma * math.log2(gamma) + (1 - gamma) * math.log2(1 - gamma))
    for name, bits in (("pauli", 2.0), ("clifford", math.log2(24))):
        assert fin[name]["twirl_bits"] == pytest.approx(bits, abs=1e-14)
        assert fin[name]["bits"] == pytest.approx(bits + h2, abs=1e-14)
        assert fin[name]["lt_error"] < 1e-12  # exact LT: a 1-design suffices for marginals
        assert fin[name]["negativity"] == pytest.approx(gamma / 2, abs=1e-12)
    # Psi+ survives the Pauli twirl (Bell states are invariant), not the Clifford twirl:
    # gamma Psi+ + (1 - gamma)|00><00| has N = (sqrt((1-gamma)^2 + gamma^2) - (1-gamma))/2
    want = (math.hypot(1 - gamma, gamma) - (1 - gamma)) / 2
    assert fin["pauli"]["negativity_psi_plus"] == pytest.approx(want, abs=1e-12)
    assert fin["clifford"]["negativity_psi_plus"] == 0.0
    assert fin["brownian"]["bits"] is None and fin["brownian"]["twirl_bits"] is None
    assert fin["brownian"]["lt_error"] == pytest.approx(1e-3, abs=1e-12)
    kt = res.params["kappa"] * res.summary["t_twirl"]
    for k in (1, 2):
        # 16 Gauss-Hermite nodes per coefficient: 1e-12 on these rotation angles
        assert fin[f"segments_{k}"]["lt_error"] == pytest.approx(
            robustness.segments_error(gamma, kt, k), abs=1e-10
        )


def test_cli_outputs_and_bad_delay(tmp_path, capsys):
    summary = run_ok(tmp_path, "robustness", TINY, ("robustness", "finite_randomness"))
    assert summary["finite_randomness"]["brownian"]["bits"] is None
    err = run_error(tmp_path / "b", capsys, "robustness", {"delays": "-5"})
    assert "delays must lie in" in err


def test_figures_state_their_parameters_and_show_data_as_data(res):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    figs = robustness.figures(res)
    beta = res.params["beta"] * res.params["omega"]
    for fig in figs.values():
        # the parameters every panel shares (beta omega = 2 by default, speedup's is 1)
        assert rf"\beta\omega={beta:g}" in fig._suptitle.get_text()
        for ax in fig.axes:
            assert ax.get_title(loc="left").strip("()abcdef ") != "", "panel without a title"
            assert ax.get_xlabel() and ax.get_ylabel()
    rob = figs["robustness"]
    # panel (b): lt_error is constant in c, so a linear axis in units of eps, not a flat log line
    b = rob.axes[3]
    assert b.get_yscale() == "linear" and "epsilon" in b.get_ylabel()
    for ln in b.get_lines():
        if ln.get_label() in ("clock", "drive"):
            np.testing.assert_allclose(ln.get_ydata(), 1.0, atol=1e-8)
    # finite randomness (a): k is an integer, nothing is drawn between the computed k
    fa = figs["finite_randomness"].axes[0]
    k = res.data["segments"].values
    drawn = [ln for ln in fa.get_lines() if list(ln.get_xdata()) != [0, 1]]  # not axhlines
    assert len(drawn) >= 2  # the computed values and the closed form
    for ln in drawn:
        assert isinstance(ln, Line2D) and ln.get_linestyle() == "None", ln.get_label()
        np.testing.assert_array_equal(ln.get_xdata(), k)
    plt.close("all")

"""Study `thermo`: the ledger of the speed-up scenarios against closed forms."""

import math

import pytest
from eplt.studies import thermo

from tests.studies.helpers import run_error, run_ok
from tests.systems import qubit_populations

TINY = {"n_times": 21, "t_hold": 2.0}


@pytest.fixture(scope="module")
def res():
    return thermo.run(TINY)


def test_summary_keys_are_documented(res):
    assert set(res.summary) == set(thermo.SUMMARY_KEYS)
    for key in ("mutual_information_at_t_star", "energy_change_per_party", "entropy_production"):
        assert set(res.summary[key]) == set(thermo.SCENARIOS)


def test_closed_forms_at_beta_omega_one(res):
    s = res.summary
    p0, p1 = qubit_populations(1.0)
    gamma = 2 * p1
    # certified timing: the same t* for every scenario
    assert s["t_twirl"] == pytest.approx(math.log(gamma / 2e-3) / 20, rel=1e-10)
    assert s["t_star"] == pytest.approx(s["t_twirl"] + math.log(1 / gamma), rel=1e-14)
    mi = s["mutual_information_at_t_star"]
    # E_gamma(Phi+) (shared clock) and the independent-clock mixture; exact to round-off
    # plus the twirl error of the certified drive on Phi+ (which is twirl-invariant: none).
    assert mi["correlated"] == pytest.approx(0.749701, abs=5e-7)
    assert mi["shared_drive_independent_clocks"] == pytest.approx(0.130875, abs=5e-7)
    assert mi["independent"] == pytest.approx(0.0, abs=1e-9)
    d = s["relative_entropy_to_product_thermal"]
    assert d["initial"] == pytest.approx(-math.log(p0 * p1), abs=1e-12)
    assert d["initial"] == pytest.approx(1.626523, abs=5e-7)
    # marginals exactly tau at t*: D(rho || tau x tau) = I(A:B)
    assert d["correlated"] == pytest.approx(mi["correlated"], abs=1e-12)
    for sc in ("correlated", "shared_drive_independent_clocks", "independent"):
        assert s["energy_change_per_party"][sc] == pytest.approx([-0.231059] * 2, abs=5e-7)
        assert s["energy_by_kind"][sc]["reservoir"] == pytest.approx(p1 - 0.5, abs=1e-12)
        assert s["energy_by_kind"][sc]["heat"] == 0.0
        # ln(1/gamma) resets per qubit, each costing ln(1 + e^{-1}) (beta omega = 1)
        assert s["reservoir_free_energy_cost"][sc] == pytest.approx(
            2 * math.log(1 / gamma) * math.log1p(math.exp(-1)), rel=1e-12
        )
    assert s["reservoir_free_energy_cost"]["gad"] == 0.0
    # every protocol is eps-LT at t* for all inputs (certified timing); the thermal resets
    # reach lt_error (1 - p_min) e^{-r t*}, all of it heat from a bath at beta, free of cost
    for sc in ("correlated", "shared_drive_independent_clocks", "independent"):
        assert s["lt_error_at_t_star"][sc] == pytest.approx(1e-3, abs=1e-10)
    decay = math.exp(-s["t_star"])
    assert s["lt_error_at_t_star"]["thermal_resets"] == pytest.approx(p0 * decay, abs=1e-12)
    assert s["lt_error_at_t_star"]["gad"] > 1e-3
    assert s["energy_by_kind"]["thermal_resets"]["heat"] == pytest.approx(
        (p1 - 0.5) * (1 - decay), abs=1e-12
    )
    assert s["energy_by_kind"]["thermal_resets"]["reservoir"] == 0.0
    assert s["reservoir_free_energy_cost"]["thermal_resets"] == 0.0
    assert s["first_law_residual"] < 1e-10
    assert all(v >= -1e-12 for v in s["entropy_production_bounded_stages"].values())
    assert s["entropy_production_by_stage"]["correlated"][1] is None  # the reset stage
    # the total is undefined where a stage resets to the pure reservoir state, and says why
    for sc in ("correlated", "shared_drive_independent_clocks", "independent"):
        assert s["entropy_production"][sc] is None
        assert "pure reservoir state" in s["entropy_production_undefined"][sc]
    # thermal baths alone: Sigma(t_end) = D(rho0||tau^2) - D(rho_end||tau^2) (Spohn, exact)
    for sc in ("gad", "thermal_resets"):
        assert sc not in s["entropy_production_undefined"]
        assert s["entropy_production"][sc] == s["entropy_production_bounded_stages"][sc]
    d_end = float(res.data["relative_entropy"].sel(scenario="gad").values[-1])
    assert s["entropy_production"]["gad"] == pytest.approx(d["initial"] - d_end, abs=1e-9)
    assert s["shared_random_bits"]["correlated"]["clock"] == pytest.approx(
        -(gamma * math.log2(gamma) + (1 - gamma) * math.log2(1 - gamma)), rel=1e-14
    )


def test_cli_outputs(tmp_path):
    summary = run_ok(tmp_path, "thermo", TINY, ("ledger",))
    assert summary["shared_random_bits"]["correlated"]["drive"] == "inf"


def test_bad_parameter_one_line(tmp_path, capsys):
    err = run_error(tmp_path, capsys, "thermo", {"eps": 0.7})
    assert "eps must lie in [1e-10, 0.5)" in err


def test_ledger_figure_states_what_q_is_and_the_reservoir_cost(res):
    import matplotlib.pyplot as plt
    from eplt.studies import style
    from matplotlib.colors import to_hex

    fig = thermo.figures(res)["ledger"]
    axes = fig.axes
    assert all(ax.get_title(loc="left") for ax in axes)
    d = axes[3]
    assert "Q" in d.get_title(loc="left")
    caption = " ".join(t.get_text() for t in d.texts)
    assert "excludes the exchange with the reset" in caption
    s = res.summary
    assert f"{s['reservoir_cost_per_reset']:.3f}" in caption
    assert f"{s['expected_resets_per_party']['correlated']:.2f} resets per qubit" in caption
    (lg,) = fig.legends
    labels = [t.get_text() for t in lg.get_texts()]
    assert len(labels) == len(set(labels)) == len(thermo.SCENARIOS)
    # one colour and line style per scenario name, the same as in every other study
    for ln in axes[0].get_lines():
        if ln.get_gid():
            sty = style.scenario_style(ln.get_gid())
            assert to_hex(ln.get_color()) == to_hex(sty["color"]), ln.get_gid()
    plt.close(fig)

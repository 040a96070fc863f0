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
    assert s["reservoir_free_energy_cost"]["reference"] == 0.0
    # every protocol is eps-LT at t* for all inputs (certified timing); the thermal resets
    # reach lt_error (1 - p_min) e^{-r t*}, all of it heat from a bath at beta, free of cost
    for sc in ("correlated", "shared_drive_independent_clocks", "independent"):
        assert s["lt_error_at_t_star"][sc] == pytest.approx(1e-3, abs=1e-10)
    decay = math.exp(-s["t_star"])
    assert s["lt_error_at_t_star"]["thermal_resets"] == pytest.approx(p0 * decay, abs=1e-12)
    assert s["lt_error_at_t_star"]["reference"] > 1e-3
    assert s["energy_by_kind"]["thermal_resets"]["heat"] == pytest.approx(
        (p1 - 0.5) * (1 - decay), abs=1e-12
    )
    assert s["energy_by_kind"]["thermal_resets"]["reservoir"] == 0.0
    assert s["reservoir_free_energy_cost"]["thermal_resets"] == 0.0
    assert s["first_law_residual"] < 1e-10
    assert all(v >= -1e-12 for v in s["entropy_production"].values())
    assert s["entropy_production_by_stage"]["correlated"][1] is None  # the reset stage
    assert s["shared_random_bits"]["correlated"]["clock"] == pytest.approx(
        -(gamma * math.log2(gamma) + (1 - gamma) * math.log2(1 - gamma)), rel=1e-14
    )


def test_cli_outputs(tmp_path):
    summary = run_ok(tmp_path, "thermo", TINY, ("ledger",))
    assert summary["shared_random_bits"]["correlated"]["drive"] == "inf"


def test_bad_parameter_one_line(tmp_path, capsys):
    err = run_error(tmp_path, capsys, "thermo", {"eps": 0.7})
    assert "eps must lie in [1e-10, 0.5)" in err

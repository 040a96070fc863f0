"""Study `threshold`: E_gamma on isotropic inputs, thresholds 1/2 (qubits) and 1/3 (qutrits)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.measures import negativity
from eplt.dynamics.states import isotropic_state
from eplt.studies import cli, threshold
from eplt.studies.params import ParamError

from tests.studies.helpers import run_error, run_ok
from tests.systems import negativity_eplt_phi_plus

TINY = {"n_beta": 4, "n_F": 11, "n_random": 200, "betas_threshold": [0.1, 1.0, 5.0]}


@pytest.fixture(scope="module")
def result():
    return threshold.run(TINY, seed=3)


def test_summary_keys_are_documented(result):
    assert set(result.summary) == set(threshold.SUMMARY_KEYS)


def test_threshold_is_one_over_d_at_every_beta(result):
    # Bisection bracket < 2.3e-13; the brief asks for 1e-9.
    for d in (2, 3):
        thr = result.summary["threshold_F"][str(d)]
        assert set(thr) == {"0.1", "1", "5"}
        for v in thr.values():
            assert v == pytest.approx(1 / d, abs=1e-9)
    assert np.allclose(result.data["threshold_F"].sel(d=2), 0.5, atol=1e-9)
    assert np.allclose(result.data["threshold_F"].sel(d=3), 1 / 3, atol=1e-9)
    assert result.summary["max_threshold_deviation"] < 1e-9


def test_heat_map_matches_public_channel_and_closed_form(result):
    ds = result.data
    assert result.summary["max_closed_form_error"] < 1e-12  # eigvalsh round-off only
    for d in (2, 3):
        H = qubit_hamiltonian(1.0) if d == 2 else np.arange(3.0)
        for b in ds["beta"].values[[0, -1]]:
            tau = thermal_state(H, b)
            E = eplt_channel(tau, tau)
            for F in (0.2, 0.6, 1.0):
                ref = negativity(E(isotropic_state(F, d)))
                got = float(ds["negativity"].sel(d=d, beta=b, F=F, method="nearest"))
                assert got == pytest.approx(ref, abs=1e-12)
    # N(E_gamma(Phi+)) = p_min for qubits
    b = float(ds["beta"][0])
    assert float(ds["negativity"].sel(d=2, beta=b, F=1.0)) == pytest.approx(
        negativity_eplt_phi_plus(b), abs=1e-12
    )


def test_random_states_npt_iff_overlap_above_half(result):
    s = result.summary
    assert s["violations"] == 0
    assert s["n_random"] == 200
    # The sampler mixes in Phi+: both sides of F = 1/2 are well populated.
    assert 0.3 * 200 < s["n_above_half"] < 0.9 * 200


def test_unequal_temperatures_raise_the_qubit_threshold(result):
    u = [result.summary["threshold_F_unequal"][k] for k in ("0.1", "1", "5")]
    assert all(v > 0.5 + 1e-6 for v in u)
    assert u[0] < u[1] < u[2] < 1


def test_threshold_against_the_temperature_ratio(result):
    ds = result.data
    thr = ds["threshold_F_vs_ratio"].values
    ratios = ds["beta_ratio"].values
    assert ratios[0] == 1.0 and result.params["beta_ratio"] in ratios
    # equal temperatures: exactly 1/2 (bisection bracket 2.3e-13)
    np.testing.assert_allclose(thr[:, 0], 0.5, atol=1e-12)
    # the summary's unequal thresholds are the column at beta_ratio (same bisection)
    col = thr[:, list(ratios).index(result.params["beta_ratio"])]
    np.testing.assert_array_equal(col, ds["threshold_F_unequal_at"].values)
    # a colder B raises the threshold (NaN only where tau_B is pure: no EPLT)
    for row, b in zip(thr, ds["beta_threshold"].values, strict=True):
        ok = np.isfinite(row)
        assert np.all(np.diff(row[ok]) >= -1e-12)
        assert not ok.all() or b * ratios[-1] * result.params["omega"] < 40
    assert np.isnan(thr[-1, -1])  # beta_A = 5, beta_B = 50: tau_B pure to 1e-14


def test_zero_temperature_raises_no_eplt_error():
    with pytest.raises(ParamError, match=r"betas_threshold must lie in \[0, inf\)"):
        threshold.run({**TINY, "betas_threshold": [1.0, math.inf]})
    with pytest.raises(ParamError):
        threshold.run({**TINY, "beta_min": 2.0, "beta_max": 1.0})


def test_figures_have_labelled_axes(result):
    figs = threshold.figures(result)
    try:
        assert set(figs) == {"heatmap", "threshold"}
        for fig in figs.values():
            axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
            assert axes
            for ax in axes:
                assert ax.get_xlabel() and ax.get_ylabel()
    finally:
        for fig in figs.values():
            plt.close(fig)


def test_cli_run_writes_outputs(tmp_path):
    sets = {"n_beta": 3, "n_F": 5, "n_random": 20, "betas_threshold": "0.5,2"}
    run_ok(tmp_path, "threshold", sets, ("heatmap", "threshold"))


def test_cli_zero_temperature_is_a_one_line_error(tmp_path, capsys):
    assert "pure" in run_error(tmp_path, capsys, "threshold", {"n_random": 10, "beta_max": "inf"})


def test_cli_describe(capsys):
    assert cli.main(["describe", "threshold"]) == 0
    out = capsys.readouterr().out
    assert "threshold_F" in out and "betas_threshold" in out

"""Study `twirl`: finite-time isotropic twirl against its closed forms.

Closed forms used (normalisation: generators G_k = generalized Gell-Mann / sqrt(2),
Tr(G_k G_l) = delta_kl, Brownian strength kappa):

* the averaged shared drive kappa sum_k D[G_k (x) I - I (x) G_k^*] has spectral gap d kappa
  (2 kappa for qubits; the spin-1 modes of U (x) U^*, the spin-2 modes decay at 6 kappa);
  independent drives depolarize each qudit with the same gap;
* the distance to T(rho0) decays as exp(-gap t) once the faster modes have died
  (relative correction ~ exp(-4 kappa t) ~ 5e-5 at kappa t = 2.5), hence the 1e-3 tolerance;
* segment-averaged Gaussian pulses (variance * segment = kappa) on qubits: rate
  -ln((1 + 2 (1 - s^2) e^{-s^2/2})/3)/segment with s^2 = 2 kappa segment.
"""

import json
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from eplt.studies import twirl

from tests.studies.helpers import run_error, run_ok

TINY = {"n_times": 51, "ntraj": 64, "nodes": 8}


@pytest.fixture(scope="module")
def result():
    return twirl.run(TINY, seed=3)


def test_summary_keys_are_documented(result):
    assert set(result.summary) == set(twirl.SUMMARY_KEYS)
    assert list(result.data["scenario"].values) == list(twirl.SCENARIOS)


def test_gaps_and_fitted_rate_match_closed_forms(result):
    s = result.summary
    # eigenvalues from dense diagonalisation of a 16 x 16 generator: round-off ~1e-14
    assert s["gap_correlated"] == pytest.approx(2.0, rel=1e-9)
    assert s["gap_independent"] == pytest.approx(2.0, rel=1e-9)
    # tail contamination by the 6 kappa modes: ~exp(-4 * 2.5) relative, well below 1e-3
    assert s["fitted_rate"] == pytest.approx(s["gap_correlated"], rel=1e-3)
    # Gauss-Hermite with 8 nodes on rotation angles of variance 0.5: error << 1e-4
    assert s["fitted_rate_pulses"] == pytest.approx(s["rate_pulses_closed_form"], rel=1e-4)
    assert s["rate_pulses_closed_form"] == pytest.approx(
        twirl.pulse_rate_closed_form(1.0, 0.25), rel=1e-15
    )


def test_pulse_rate_tends_to_brownian_gap():
    assert twirl.pulse_rate_closed_form(1.0, 1e-7) == pytest.approx(2.0, rel=1e-6)
    assert twirl.pulse_rate_closed_form(1.0, 0.25) > 2.0


def test_distance_decreases_and_twirl_time(result):
    ds = result.data
    D = ds["distance"].sel(scenario="brownian_correlated").values
    assert np.all(np.diff(D) < 0)
    s = result.summary
    assert list(s["distance_at"]) == ["1", "2", "3", "4"]
    kt = ds["time"].values
    for key, val in s["distance_at"].items():
        assert val == pytest.approx(D[np.argmin(np.abs(kt - float(key)))], rel=1e-15)
    # t_twirl: brentq on the exact dynamics to 1e-12; D there equals eps
    from eplt.dynamics import evolve

    envs = twirl._environments(result.params)
    rho0 = twirl.initial_state(result.params, 3)
    T = twirl.isotropic_twirl(rho0).full()
    res = evolve(rho0, envs["correlated"], [0.0, s["t_twirl_input"]], store_states=True)
    d = np.abs(np.linalg.eigvalsh(res.states[-1].full() - T)).sum() / 2
    assert d == pytest.approx(1e-3, rel=1e-8)
    # independent drives go to I/4, which is far from T(rho0); entanglement dies
    Di = ds["distance"].sel(scenario="brownian_independent").values
    assert Di[-1] > 0.5
    assert s["t_twirl_input_by_scenario"]["brownian_independent"] is None
    assert s["negativity_final"]["brownian_independent"] == pytest.approx(0.0, abs=1e-12)


def test_correlated_drives_keep_negativity_and_overlap(result):
    s = result.summary
    th = math.pi / 8
    assert s["input_overlap"] == pytest.approx((1 + math.sin(2 * th)) / 2, rel=1e-12)
    assert s["negativity_twirl"] == pytest.approx(math.sin(2 * th) / 2, rel=1e-12)
    for sc in ("brownian_correlated", "pulses_segment"):
        assert s["negativity_final"][sc] == pytest.approx(s["negativity_twirl"], abs=1e-9)


def test_sampled_pulses_agree_with_segment_average(result):
    ds = result.data
    kt = ds["time"].values
    early = kt <= 1.0  # distance still large: the bias of |mean| is negligible
    seg = ds["distance"].sel(scenario="pulses_segment").values[early]
    smp = ds["distance"].sel(scenario="pulses_sampled").values[early]
    se = ds["distance_stderr"].sel(scenario="pulses_sampled").values[early]
    assert np.all(se[1:] > 0)
    # 5 jackknife standard errors (64 realizations, 16 blocks), plus round-off at t = 0
    assert np.all(np.abs(smp - seg) <= 5 * se + 1e-12)


def test_same_seed_same_numbers():
    small = {**TINY, "ntraj": 8, "n_times": 21}
    a, b = twirl.run(small, seed=1), twirl.run(small, seed=1)
    c = twirl.run(small, seed=2)
    np.testing.assert_array_equal(a.data["distance"].values, b.data["distance"].values)
    assert not np.array_equal(a.data["distance"].values, c.data["distance"].values)


def test_qutrits():
    r = twirl.run({"d": 3, "n_times": 41, "ntraj": 8}, seed=0)
    s = r.summary
    assert s["gap_correlated"] == pytest.approx(3.0, rel=1e-9)
    assert s["fitted_rate"] == pytest.approx(3.0, rel=1e-3)
    assert "pulses_segment" not in r.data["scenario"].values
    assert s["fitted_rate_pulses"] is None
    assert not np.isnan(r.data["distance"].values).any()
    twirl.figures(r)


def test_independent_drives_approach_their_own_fixed_point_and_sudden_death(result):
    # Each qubit depolarizes, Lambda_t(sigma_k) = a sigma_k, a = exp(-g t), g the independent
    # gap. For cos(th)|00> + sin(th)|11>, c = cos(2 th), s = sin(2 th), b = a^2:
    # rho_t - I/4 = [c a (ZI + IZ) + b (ZZ + s (XX - YY))]/4, eigenvalues
    # (b +- 2 R)/4 with R = sqrt(c^2 a^2 + s^2 b^2) and -b/4 twice, so
    # D(rho_t, I/4) = (|b + 2R| + |b - 2R| + 2b)/8; negativity dies when b (1 + 2 s) = 1.
    kt = result.data["time"].values
    th = result.params["theta"]
    c, s = math.cos(2 * th), math.sin(2 * th)
    a = np.exp(-result.summary["gap_independent"] * kt)
    b = a**2
    R = np.sqrt(c**2 * a**2 + s**2 * b**2)
    exact = (np.abs(b + 2 * R) + np.abs(b - 2 * R) + 2 * b) / 8
    ind = result.data["distance_fixed_point"].sel(scenario="brownian_independent").values
    # exact matrix exponentials and 4 x 4 eigenvalues: round-off ~1e-14
    np.testing.assert_allclose(ind, exact, rtol=1e-9, atol=1e-13)
    for sc in ("brownian_correlated", "pulses_segment", "pulses_sampled"):
        fp = result.data["distance_fixed_point"].sel(scenario=sc).values
        np.testing.assert_array_equal(fp, result.data["distance"].sel(scenario=sc).values)
    t_sd = math.log(1 + 2 * s) / (2 * result.summary["gap_independent"])
    # bisection bracket 1e-9
    assert result.summary["t_sudden_death_independent"] == pytest.approx(t_sd, abs=1e-8)


def test_coloured_panel_tends_to_the_brownian_curve(result):
    # shared OU drive at fixed kappa = 2 sigma^2 tau_c: the deviation from the Brownian
    # curve shrinks with tau_c (first order in kappa tau_c) and all curves start at D(0)
    dev = result.summary["coloured_max_deviation"]
    taus = list(result.params["coloured_tau_c"])
    assert list(dev) == [f"{t:g}" for t in taus]
    vals = [dev[f"{t:g}"] for t in taus]
    assert np.all(np.diff(vals) < 0)
    assert vals[-1] < 1.0 * taus[-1]
    D = result.data["coloured_distance"].values
    brown = result.data["distance"].sel(scenario="brownian_correlated").values
    assert np.allclose(D[:, 0], brown[0], atol=1e-12)


def test_figures_have_labelled_axes(result):
    figs = twirl.figures(result)
    assert set(figs) == {"distance", "negativity", "coloured"}
    for fig in figs.values():
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
        # one legend per figure, below the axes (it never covers data)
        assert len(fig.legends) == 1 and fig.axes[0].get_legend() is None
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        n = result.data.sizes["scenario"] if fig is not figs["coloured"] else None
        assert len(labels) == (n or result.data.sizes["tau_c"] + 1)
    assert json.dumps(result.params)


def test_distance_band_stays_off_the_log_axis_and_numbers_are_rounded(result):
    import re

    import matplotlib.pyplot as plt

    figs = twirl.figures(result)
    ax = figs["distance"].axes[0]
    assert ax.get_yscale() == "log"
    # sampled error bands: positive everywhere (no spikes down to the axis)
    bands = [c for c in ax.collections if len(c.get_paths())]
    assert bands, "the sampled scenario draws its standard-error band"
    for c in bands:
        for path in c.get_paths():
            assert np.all(path.vertices[:, 1] > 0)
    # fitted rates printed to 4 significant figures (no "2.000001 kappa")
    rates = [t.get_text() for t in ax.texts if "rate" in t.get_text()]
    assert rates
    for text in rates:
        for num in re.findall(r"\d+\.\d+", text):
            assert len(num.replace(".", "").lstrip("0")) <= 4, text
    # negativity: zoomed where the change happens, and it says the rest is constant
    ax = figs["negativity"].axes[0]
    t_sd = result.summary["t_sudden_death_independent"]
    t_max = float(result.data["time"].values[-1])
    assert t_sd is not None and ax.get_xlim()[1] < t_max
    assert ax.get_xlim()[1] >= t_sd
    assert any("constant up to" in t.get_text() for t in ax.texts)
    plt.close("all")


def test_cli_run_writes_outputs(tmp_path):
    sets = {"n_times": 21, "ntraj": 8, "nodes": 6, "t_max": 4}
    summary = run_ok(tmp_path, "twirl", sets, ("distance", "negativity"))
    assert summary["gap_correlated"] == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize(
    "setting, message",
    [("d=7", "d must lie in [2, 4]"), ("report_times=1,9", "report_times must be <= t_max")],
)
def test_cli_bad_input_is_a_one_line_error(tmp_path, capsys, setting, message):
    key, value = setting.split("=")
    assert message in run_error(tmp_path, capsys, "twirl", {key: value})


def test_a_large_eps_crossing_in_the_first_grid_interval():
    # the exact refinement then starts at t = 0 (it used to fail: "tlist must be increasing")
    res = twirl.run({"eps": 0.25, "n_times": 41, "ntraj": 8})
    t = res.summary["t_twirl_input"]
    d = res.data["distance"].sel(scenario="brownian_correlated")
    kt = d["time"].values
    i = int(np.searchsorted(kt, t))  # the grid brackets the refined crossing
    assert 0 < t and d.values[i - 1] > 0.25 >= d.values[i]

"""Study `esd`: sudden death of Phi+ under damping, independent and shared reset clocks."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from eplt.studies import esd

from tests.studies.helpers import run_error, run_ok
from tests.systems import gad_esd_time, qubit_populations, shared_reset_esd_time

TINY = {"n_times": 41, "n_nbar": 3, "n_times_sweep": 21, "t_max": 4.0}


def independent_reset_esd_time(nbar: float, r: float) -> float:
    """Each qubit is reset to tau = diag(p0, p1) with probability 1 - s, s = e^{-rt}:
    rho = s^2 Phi+ + s(1-s)(tau (x) I/2 + I/2 (x) tau) + (1-s)^2 tau (x) tau, an X state with
    rho_{00,11} = s^2/2 and rho_{01,01} = rho_{10,10} = s(1-s)/2 + (1-s)^2 p0 p1; entangled iff
    s^2/2 > s(1-s)/2 + (1-s)^2 p0 p1. Solved here by bisection in t (the study uses the root
    of the quadratic)."""
    p1 = nbar / (2 * nbar + 1)
    x = p1 * (1 - p1)

    def alive(t):
        s = math.exp(-r * t)
        return s * s / 2 - (s * (1 - s) / 2 + (1 - s) ** 2 * x) > 0

    lo, hi = 0.0, 1.0
    while alive(hi):
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if alive(mid) else (lo, mid)
    return (lo + hi) / 2


@pytest.fixture(scope="module", params=[(0.5, 1.0), (0.2, 2.0)], ids=["nbar0.5-G1", "nbar0.2-G2"])
def case(request):
    nbar, G = request.param
    return nbar, G, esd.run({**TINY, "nbar": nbar, "G": G})


def test_summary_keys_are_documented(case):
    _, _, res = case
    assert set(res.summary) == set(esd.SUMMARY_KEYS)
    assert set(res.summary["t_esd"]) == set(esd.SCENARIOS)


def test_sudden_death_times_match_closed_forms(case):
    nbar, G, res = case
    r = G * (2 * nbar + 1)
    beta = math.log1p(1 / nbar)
    t = res.summary["t_esd"]
    assert res.summary["r"] == pytest.approx(r, rel=1e-15)
    # Bisection on the exact evolution to 1e-9 (accuracy 5e-10); the brief asks for 1e-6.
    assert t["gad"] == pytest.approx(gad_esd_time(nbar, G), abs=1e-6)
    assert t["reset_shared"] == pytest.approx(
        shared_reset_esd_time(qubit_populations(beta)[0], r), abs=1e-6
    )
    assert t["reset_independent"] == pytest.approx(independent_reset_esd_time(nbar, r), abs=1e-6)
    # The study's own closed forms agree with the references.
    cf = res.summary["t_esd_closed_form"]
    assert cf["gad"] == pytest.approx(gad_esd_time(nbar, G), abs=1e-12)
    assert cf["reset_independent"] == pytest.approx(independent_reset_esd_time(nbar, r), abs=1e-12)
    # Ordering: independent clocks kill first, a shared clock last.
    assert t["reset_independent"] < t["gad"] < t["reset_shared"]


def test_same_local_dynamics_and_sweep(case):
    _, _, res = case
    assert res.summary["max_marginal_difference"] < 1e-10
    # sweep: bisection to 1e-6 (accuracy 5e-7)
    assert res.summary["sweep_max_abs_error"] < 1e-6


def test_zero_occupation():
    res = esd.run({**TINY, "nbar": 0.0, "nbar_min": 0.0, "nbar_max": 0.5})
    t = res.summary["t_esd"]
    assert t["gad"] is None and t["reset_shared"] is None
    assert t["reset_independent"] == pytest.approx(math.log(2), abs=1e-6)  # r = G = 1


def test_figures_have_labelled_axes(case):
    _, _, res = case
    figs = esd.figures(res)
    try:
        assert set(figs) == {"negativity", "esd_vs_nbar"}
        for fig in figs.values():
            for ax in fig.axes:
                assert ax.get_xlabel() and ax.get_ylabel()
    finally:
        for fig in figs.values():
            plt.close(fig)


def test_cli_run_writes_outputs(tmp_path):
    sets = {"n_times": 21, "n_nbar": 2, "n_times_sweep": 11}
    run_ok(tmp_path, "esd", sets, ("negativity", "esd_vs_nbar"))
    # One format: Result.load reads the study's time series (scenarios as labels), and
    # text coordinates carry no units (xarray would label them [1]).
    import numpy as np
    import xarray as xr
    from eplt.dynamics import Result

    path = tmp_path / "o" / "data.nc"
    with xr.open_dataset(path, engine="scipy") as ds:
        assert "units" not in ds["scenario"].attrs
        neg = ds["negativity"].transpose("time", "scenario").values
    res = Result.load(path)
    assert res.labels["negativity"] == list(esd.SCENARIOS)
    np.testing.assert_array_equal(res.expect["negativity"], neg)
    assert res.units["time"] == "1/omega" and "t_esd" in res.params["other_variables"]
    one = Result.load(path, sel={"scenario": esd.SCENARIOS[0]})
    np.testing.assert_array_equal(one.expect["negativity"], neg[:, 0])


def test_cli_rejects_out_of_range_parameters(tmp_path, capsys):
    assert "nbar" in run_error(tmp_path, capsys, "esd", {"nbar": -1})

"""Study `oscillators`: the layer cake against E_gamma on a Fock cutoff, and two damped
cavities under shared, independent or no phase noise.

Closed forms checked through the study: E_gamma's collapse on cutoffs (the issue's
values), ``gamma_d = d q^(d-1)(1-q)/(1-q^d)``, the ceiling ``sqrt(q)/(1 - sqrt(q))``, the
TMSV negativity ``lambda/(1-lambda)``; shared phase noise equal to no noise on a TMSV
(exactly, 1e-10), identical marginals in all scenarios, and the cutoff check firing
when the cutoff is too small.
"""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from eplt.dynamics.bosonic import tmsv_coefficients
from eplt.dynamics.layer_cake_fock import NNState, layer_cake_fock
from eplt.studies import oscillators, style
from matplotlib.text import Text

from tests.studies.helpers import run_error, run_ok

TINY = {
    "n_lambda": 5,
    "d_max": 6,
    "cutoffs": (2, 3, 4),
    "betas": (1.0,),
    "cutoff": 4,
    "cutoff_step": 1,
    "n_times": 9,
    "t_max": 10.0,
    "lam0": 0.2,
}


@pytest.fixture(scope="module")
def res():
    return oscillators.run(TINY)


def test_summary_keys_are_documented(res):
    assert set(res.summary) == set(oscillators.SUMMARY_KEYS)
    assert set(res.summary["layer_cake_negativity_tmsv"]) == {"0.3", "0.5", "0.7", "0.9"}
    assert set(res.summary["t_esd"]) == set(oscillators.SCENARIOS)


def test_channel_level_closed_forms(res):
    s = res.summary
    q = math.exp(-1.0)
    assert s["tfd_ceiling"] == pytest.approx(math.sqrt(q) / (1 - math.sqrt(q)), abs=1e-14)
    for d, g in s["gamma_vs_cutoff"].items():
        assert g == pytest.approx(d * q ** (d - 1) * (1 - q) / (1 - q**d), abs=1e-14)
    issue = {2: 0.2689, 3: 0.1801, 4: 0.1153}  # N(E_gamma(Phi+_d)), issue 21, to 5e-5
    for d, n in issue.items():
        assert abs(s["egamma_negativity_vs_cutoff"][d] - n) <= 5e-5
    for lam, n in s["layer_cake_negativity_tmsv"].items():
        ref = layer_cake_fock(NNState.from_ket(tmsv_coefficients(float(lam), cutoff=600)), 1.0)
        assert n == pytest.approx(ref.negativity, abs=1e-12)  # cutoff-free
        assert 0 < n < s["tfd_ceiling"]
        assert s["tmsv_negativity"][lam] == pytest.approx(float(lam) / (1 - float(lam)))
    assert s["cutoff_error"]["channel"] <= 1e-10
    assert s["cutoff_error"]["marginal"] <= s["cutoff_error"]["channel"]


def test_dynamics_shared_noise_is_no_noise_and_marginals_agree(res):
    ds = res.data
    for v in ("negativity", "marginal_distance", "photon_number"):
        a = ds[v].sel(scenario="correlated").values
        b = ds[v].sel(scenario="thermal").values
        assert np.abs(a - b).max() <= 1e-10, v
    assert res.summary["max_marginal_difference"] <= 1e-10
    t = res.summary["t_esd"]
    assert t["correlated"] == pytest.approx(t["thermal"], abs=1e-4)
    assert t["independent"] < t["thermal"]  # independent noise kills entanglement first
    # the initial state: the TMSV at lam0 = 0.2 truncated to 4 levels and renormalised,
    # N = ((sum_n c_n)^2 / sum_n c_n^2 - 1)/2 with c_n = lam^n (0.25 untruncated)
    c = 0.2 ** np.arange(4)
    expected = (c.sum() ** 2 / (c**2).sum() - 1) / 2
    assert res.summary["negativity_initial"] == pytest.approx(expected, abs=1e-12)


def test_cutoff_check_warns_in_one_line_when_the_cutoff_is_too_small(capsys):
    # lam0 = 0.6 on 3 levels (check at 2): the truncation changes N by far more than 1e-3
    res = oscillators.run({**TINY, "cutoff": 3, "lam0": 0.6, "tol": 1e-3, "n_times": 3})
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("eplt: warning: oscillators:")
    assert "increase cutoff" in err[0]
    assert res.summary["cutoff_converged"] is False
    assert res.summary["cutoff_error"]["dynamics"] > 1e-3


def test_figures(res):
    figs = oscillators.figures(res)
    assert set(figs) == {"channel_tmsv", "channel_phi_plus", "dynamics"}
    for key, fig in figs.items():  # the shared figure rules (tests/studies/test_style.py)
        fig.canvas.draw()
        small = [
            (t.get_text(), t.get_fontsize())
            for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < style.MIN_FONT
        ]
        assert not small, (key, small)
        assert fig.get_tightbbox(fig.canvas.get_renderer()).width <= style.PAGE + 0.1, key
    ax = oscillators.plot(res, which="channel_phi_plus")
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="which must be one of"):
        oscillators.plot(res, which="nope")


def test_command_line(tmp_path):
    sets = {**TINY, "cutoffs": "2,3", "betas": "1"}
    summary = run_ok(
        tmp_path, "oscillators", sets, ("channel_tmsv", "channel_phi_plus", "dynamics")
    )
    assert summary["cutoff_used"]["dynamics"] == 4


@pytest.mark.parametrize(
    ("sets", "match"),
    [
        ({"cutoff": 3, "cutoff_step": 2}, "cutoff - cutoff_step"),
        ({"lam0": 0.95}, "lam0"),
        ({"beta": 0.0}, "beta"),
    ],
)
def test_bad_parameters_are_refused_in_one_line(tmp_path, capsys, sets, match):
    assert match in run_error(tmp_path, capsys, "oscillators", sets)


def test_lambda_keys_are_unique_and_read_back():
    # review: keys made with f"{lam:g}" merged nearby lambdas into one entry
    r = oscillators.run({**TINY, "lambdas": (0.5, 0.5000001)})
    keys = list(r.summary["layer_cake_negativity_tmsv"])
    assert [float(k) for k in keys] == [0.5, 0.5000001]
    assert list(r.summary["tmsv_negativity"]) == keys
    with pytest.raises(ValueError, match=r"lambdas lists 0\.5 twice"):
        oscillators.run({**TINY, "lambdas": (0.5, 0.5)})

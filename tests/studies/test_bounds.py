"""Study `bounds`: E_gamma, LOSR see-saw, PPT and any-LT bounds at tiny size.

Tolerances: SDP values to 1e-6 (sdp_bound's certified gap); E_gamma and closed forms are
exact linear algebra (1e-12).
"""

import matplotlib

matplotlib.use("Agg")

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from eplt.studies import bounds
from eplt.studies.cli import main

from tests.studies.helpers import run_error, run_ok
from tests.systems import qubit_populations

TINY = {
    "betas": [1.0],
    "ratios": [0.5],
    "qutrit_betas": [1.0],
    "restarts": 1,
    "negativity_restarts": 1,
    "max_iter": 2,
    "qutrit_max_iter": 1,
}


@pytest.fixture(scope="module")
def result():
    return bounds.run(TINY, seed=1)


def test_summary_keys_are_documented(result):
    assert set(result.summary) == set(bounds.SUMMARY_KEYS)
    keys = set(bounds.SUMMARY_KEYS) - {"unequal", "qutrit", "sdp_seconds"}
    for case in ("unequal", "qutrit"):
        assert set(result.summary[case]) == keys
    assert set(result.summary["ppt_overlap"]) == {"1"}
    assert set(result.summary["unequal"]["ppt_overlap"]) == {"0.5"}


def test_known_values(result):
    s = result.summary
    p0, p1 = qubit_populations(1.0)
    gamma = 2 * p1
    assert s["egamma_overlap"]["1"] == pytest.approx((1 + gamma) / 2, abs=1e-12)
    assert s["ppt_overlap"]["1"] == pytest.approx((1 + gamma) / 2, abs=1e-6)
    assert s["any_lt_overlap"]["1"] == pytest.approx((np.sqrt(p0) + np.sqrt(p1)) ** 2 / 2, abs=1e-6)
    assert s["egamma_negativity"]["1"] == pytest.approx(p1, abs=1e-12)
    assert s["any_lt_negativity"]["1"] == pytest.approx(np.sqrt(p0 * p1), abs=1e-12)
    assert s["unequal"]["ppt_overlap"]["0.5"] == pytest.approx(0.806633, abs=1.5e-6)
    assert s["unequal"]["egamma_overlap"]["0.5"] == pytest.approx(0.714642, abs=5e-7)


def test_ordering_of_the_levels(result):
    s = result.summary
    for block in (s, s["unequal"], s["qutrit"]):
        for k in block["egamma_overlap"]:
            eg, lo = block["egamma_overlap"][k], block["losr_overlap"][k]
            ppt, any_lt = block["ppt_overlap"][k], block["any_lt_overlap"][k]
            assert eg - 1e-12 <= lo <= ppt + 1e-6 <= any_lt + 2e-6
            egn, lon = block["egamma_negativity"][k], block["losr_negativity"][k]
            assert egn - 1e-12 <= lon <= block["any_lt_negativity"][k] + 1e-12
            assert egn - 1e-9 <= block["ppt_negativity_lower"][k] <= block["any_lt_negativity"][k]


def test_figure_labels_and_touching_note(result):
    figs = bounds.figures(result)
    try:
        assert set(figs) == {"bounds"}
        axes = figs["bounds"].axes
        assert len(axes) == 6
        for ax in axes:
            assert ax.get_xlabel()
        notes = [t.get_text() for t in axes[0].texts]
        assert any("coincide" in n and "PPT" in n for n in notes)  # E_gamma = PPT, qubits
    finally:
        for fig in figs.values():
            plt.close(fig)


def test_cli_run_and_describe(tmp_path, capsys):
    sets = {k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in TINY.items()}
    sets["qutrit_betas"] = "0.5"
    summary = run_ok(tmp_path, "bounds", sets, ("bounds",))
    assert set(summary) == set(bounds.SUMMARY_KEYS)
    assert main(["describe", "bounds"]) == 0
    out = capsys.readouterr().out
    for p in bounds.PARAMS:
        assert p.name in out
    for k in bounds.SUMMARY_KEYS:
        assert k in out
    meta = json.loads((tmp_path / "o" / "metadata.json").read_text())
    assert meta["study"] == "bounds"


@pytest.mark.parametrize(
    "sets, needle",
    [({"restarts": 0}, "restarts"), ({"betas": "1,inf"}, "betas"), ({"ratios": "0"}, "ratios")],
)
def test_bad_parameter_is_a_one_line_error(tmp_path, capsys, sets, needle):
    assert needle in run_error(tmp_path, capsys, "bounds", sets)


def test_zero_temperature_like_beta_is_a_one_line_error(tmp_path, capsys):
    assert "pure" in run_error(tmp_path, capsys, "bounds", {"betas": "60"})

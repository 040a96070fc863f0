"""Study `bounds`: explicit LOSR protocols against DPS-2, PPT and any-LT bounds at tiny size.

Tolerances: SDP values to 1e-6 (the certified gap the SDPs accept); explicit protocols and
closed forms are exact linear algebra (1e-12); "lower below upper" uses certified dual
values, which may undercut a feasible value by round-off only (1e-9).
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
    "three_party_ratios": [0.5, 2.0],
    "colgen_starts": 1,
    "colgen_rounds": 4,
    "qutrit_colgen_rounds": 1,
}


@pytest.fixture(scope="module")
def result():
    return bounds.run(TINY, seed=1)


def test_summary_keys_are_documented(result):
    assert set(result.summary) == set(bounds.SUMMARY_KEYS)
    keys = set(bounds.SUMMARY_KEYS) - {"unequal", "qutrit", "sdp_seconds", "three_party"}
    for case in ("unequal", "qutrit"):
        assert set(result.summary[case]) == keys
    # per-point dicts keyed by the case's values; certificates as dicts (None: not run)
    for block, xs in ((result.summary, {"1"}), (result.summary["unequal"], {"0.5"})):
        for key in ("losr_upper_bound", "dps2_overlap", "dps2_certificate"):
            assert set(block[key]) == xs, key
    q = result.summary["qutrit"]
    assert set(q["dps2_certificate"]) == set(q["dps2_overlap"]) == {"1"}
    for block in (result.summary, result.summary["unequal"], q):
        for k, cert in block["dps2_certificate"].items():
            assert set(cert) == {"primal", "dual", "gap"}
            assert cert["dual"] == block["dps2_overlap"][k]
            assert cert["gap"] == pytest.approx(cert["dual"] - cert["primal"], abs=1e-15)
            assert -1e-9 <= cert["gap"] <= 1e-6
    assert set(result.summary["three_party"]) == set(bounds.THREE_KEYS)
    assert set(result.summary["three_party"]["ppt_bound"]) == {"0.5", "2"}
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
    # twirl + amplitude damping is the best protocol; DPS-2 leaves 0.0023 above it
    pA, pB = qubit_populations(1.0)[1], qubit_populations(1.0, 0.5)[1]
    tad = 0.5 + (pA - pB) / 2 + np.sqrt(pA * pB)
    assert s["unequal"]["best_losr_overlap"]["0.5"] == pytest.approx(tad, abs=1e-9)
    assert s["unequal"]["best_losr_negativity"]["0.5"] == pytest.approx(pA, abs=1e-9)
    assert s["unequal"]["dps2_overlap"]["0.5"] == pytest.approx(0.766651, abs=1.5e-6)
    # equal qubits: E_gamma is certified optimal (PPT dual = (1 + gamma)/2)
    assert s["best_losr_overlap"]["1"] == pytest.approx((1 + gamma) / 2, abs=1e-9)
    assert s["dps2_overlap"]["1"] == pytest.approx((1 + gamma) / 2, abs=1e-6)
    # qutrits: column generation beats the layer cake (0.512258); DPS-2 at beta omega = 1
    # (the middle of qutrit_betas) certifies 0.6114034 (primal 0.6114031), between it and
    # PPT (0.687687)
    q = s["qutrit"]
    assert q["best_losr_overlap"]["1"] > 0.56
    assert q["best_losr_protocol"]["1"].startswith("column generation")
    assert q["dps2_overlap"]["1"] == pytest.approx(0.6114034, abs=1e-6)
    assert q["best_losr_overlap"]["1"] + 0.03 < q["dps2_overlap"]["1"]
    assert q["dps2_overlap"]["1"] + 0.07 < q["ppt_overlap"]["1"]


def test_ordering_of_the_levels(result):
    """Every lower bound below every upper bound; DPS-2 at or below PPT."""
    s = result.summary
    for block in (s, s["unequal"], s["qutrit"]):
        for k in block["egamma_overlap"]:
            eg, lo = block["egamma_overlap"][k], block["losr_overlap"][k]
            best = block["best_losr_overlap"][k]
            ppt, any_lt = block["ppt_overlap"][k], block["any_lt_overlap"][k]
            assert eg - 1e-12 <= lo <= best + 1e-12
            assert best <= ppt + 1e-9 <= any_lt + 1e-6
            if block["dps2_overlap"][k] is not None:
                assert best - 1e-9 <= block["dps2_overlap"][k] <= ppt + 1e-6
            ub = block["losr_upper_bound"][k]  # column generation's certificate
            assert (ub is None) == (block["best_losr_protocol"][k] == "E_gamma"), k
            if ub is not None:
                assert ub >= best - 1e-9 and ub >= ppt - 1e-6, (k, ub, best, ppt)
            egn, lon = block["egamma_negativity"][k], block["losr_negativity"][k]
            bestn = block["best_losr_negativity"][k]
            assert egn - 1e-12 <= lon <= bestn + 1e-12 <= block["any_lt_negativity"][k] + 2e-12
            assert egn - 1e-9 <= block["ppt_negativity_lower"][k] <= block["any_lt_negativity"][k]
    for case in ("equal", "unequal", "qutrit"):  # the any-LT ceiling bounds every protocol
        best = result.data[f"overlap_{case}"].values[bounds.METHODS.index("best")]
        ceiling = result.data[f"any_lt_closed_form_{case}"].values
        assert np.all(best <= ceiling + 1e-9), (case, best, ceiling)
    t = s["three_party"]
    for r in t["ppt_bound"]:
        for lower in ("egamma_ghz", "twirl_ad"):
            assert t[lower][r] <= t["ppt_bound"][r] + 1e-9
        assert t["ppt_bound"][r] <= t["any_lt_bound"][r] + 1e-6


def test_measures_table(result):
    """Concurrence and EoF of E_gamma(Phi+) for equal qubits: gamma and h((1 + sqrt(1 -
    gamma^2))/2); log-negativity log2(1 + gamma); 1-distillable (negative minimum)."""
    m = result.data["measures_equal"].sel(protocol="egamma").isel(beta_omega=0)
    gamma = 2 * qubit_populations(1.0)[1]
    x = (1 + np.sqrt(1 - gamma**2)) / 2
    assert float(m.sel(measure="concurrence")) == pytest.approx(gamma, abs=1e-12)
    h = -x * np.log2(x) - (1 - x) * np.log2(1 - x)
    assert float(m.sel(measure="eof_bits")) == pytest.approx(h, abs=1e-12)
    assert float(m.sel(measure="log_negativity")) == pytest.approx(np.log2(1 + gamma), abs=1e-12)
    assert float(m.sel(measure="distill_min")) < 0


def test_qutrit_dps2_marker_lies_between_the_best_protocol_and_ppt(result):
    """The figure's qutrit DPS-2 marker: one point, above every explicit qutrit protocol
    (layer cake, column generation) and below the PPT bound, at the middle beta."""
    v = result.data["overlap_qutrit"].values
    row = {m: v[bounds.METHODS.index(m)] for m in bounds.METHODS}  # (sel's method= is taken)
    dps = row["dps2"]
    assert np.sum(~np.isnan(dps)) == 1
    j = int(np.flatnonzero(~np.isnan(dps))[0])
    assert float(result.data["beta_omega_qutrit"][j]) == bounds.qutrit_dps2_beta(
        TINY["qutrit_betas"]
    )
    for lower in ("layer_cake", "colgen", "best"):
        assert row[lower][j] <= dps[j] + 1e-9, lower
    assert dps[j] <= row["ppt"][j] + 1e-6
    assert row["colgen_upper"][j] >= row["ppt"][j] - 1e-6
    ax = bounds.plot(result, case="qutrit")
    try:
        labels = [line.get_label() for line in ax.get_lines()]
        assert "DPS-2 (upper)" in labels
        assert any("certificate" in lab and "upper" in lab for lab in labels)
    finally:
        plt.close(ax.figure)


def test_qutrit_dps2_runs_at_the_middle_beta_or_not_at_all():
    assert bounds.qutrit_dps2_beta([4.0, 0.5, 1.0, 2.0]) == 1.0
    assert bounds.qutrit_dps2_beta([3.0]) == 3.0
    assert bounds.qutrit_dps2_beta(()) is None
    p = bounds.resolve(bounds.PARAMS, {}, study="bounds")
    off = {**p, "qutrit_dps2": False}
    assert bounds.work_estimate(p)[0] >= bounds.work_estimate(off)[0] + 40
    assert bounds.memory_estimate(p)[0] > 1.2e9 > bounds.memory_estimate(off)[0]


def test_figure_labels_and_touching_note(result):
    figs = bounds.figures(result)
    try:
        assert set(figs) == {"bounds", "bounds_three_party"}
        axes = figs["bounds"].axes
        assert len(axes) == 6
        for ax in axes + figs["bounds_three_party"].axes:
            assert ax.get_xlabel()
        for ax in (axes[0], axes[3], figs["bounds_three_party"].axes[0]):  # first column
            assert ax.get_ylabel()
        notes = [t.get_text() for t in axes[0].texts]
        assert any("tight" in n and "PPT" in n for n in notes)  # E_gamma = PPT, qubits
        labels = [t.get_text() for t in figs["bounds"].legends[0].get_texts()]
        assert all(
            "upper" in lab
            or "lower" in lab
            or "PPT search" in lab
            or lab in ("twirl + damping", "layer cake", "see-saw", "column generation")
            or "mathcal" in lab
            for lab in labels
        )
        assert any("not on LOSR" in lab for lab in labels)
    finally:
        for fig in figs.values():
            plt.close(fig)


def test_cli_run_and_describe(tmp_path, capsys):
    sets = {k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in TINY.items()}
    sets["qutrit_betas"] = "0.5"
    sets["qutrit_dps2"] = "false"  # 40 s; run at the module fixture
    summary = run_ok(tmp_path, "bounds", sets, ("bounds", "bounds_three_party"))
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


@pytest.mark.parametrize("qbetas", ["10", "0.5,7,8"])
def test_a_cold_qutrit_dps2_point_is_refused_before_any_sdp(tmp_path, capsys, qbetas):
    # the middle of the sorted qutrit_betas beyond beta omega = 6: the DPS-2 certificate
    # missed its 1e-6 tolerance there (2.4e-6 at 7, 2.2e-6 at 10), which ended the run
    # with a traceback after every other point
    err = run_error(tmp_path, capsys, "bounds", {"qutrit_betas": qbetas})
    for part in ("qutrit_dps2", "qutrit_betas", "beta omega <= 6", "qutrit_dps2=false"):
        assert part in err, err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_cold_qutrits_without_dps2_or_off_the_middle_pass_the_check():
    def check(sets):
        p = bounds.resolve(bounds.PARAMS, sets)
        bounds._check_dps2(p, np.array(p["qutrit_betas"], dtype=float), p["omega"])

    check({"qutrit_betas": [10.0], "qutrit_dps2": False})  # no DPS-2 point: no refusal
    check({"qutrit_betas": [0.5, 1.0, 10.0]})  # DPS-2 at the middle, beta = 1
    with pytest.raises(bounds.ParamError, match="beta omega = 9"):
        check({"qutrit_betas": [3.0], "omega": 3.0})  # beta omega, not beta


def test_a_certificate_short_of_its_tolerance_is_one_line(tmp_path, capsys, monkeypatch):
    # BoundGapError (a solver stopping short of the certificate's tolerance mid-run) is one
    # line and exit status 1, not a traceback; nothing is left in the output folder
    from eplt.dynamics.bounds import BoundGapError

    def short(*a, **kw):
        raise BoundGapError("DPS-2 primal-dual gap 2.2e-06 exceeds tol=1e-06")

    monkeypatch.setattr(bounds, "run", short)
    out = tmp_path / "o"
    assert main(["run", "bounds", "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("eplt: error: DPS-2 primal-dual gap") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())

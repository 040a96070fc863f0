"""Work is never lost at the end of a sweep or a run (issue 20): every study aggregates
over each of its parameters, figure failures are warnings with the data kept, checkpoints
of another eplt version or with a malformed summary are recomputed, not mixed in."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from eplt.studies import STUDIES, get_study
from eplt.studies._checkpoints import VERSION, point_file, seal
from eplt.studies.cli import main
from eplt.studies.sweep import Grid, aggregate, run_sweep

from tests.studies.test_reliability import _fake_point, _grid4


def _tiny(study) -> dict:
    """Every integer (a size) at the low end of its range, lists with one element, the
    rest at the defaults (as in test_declared_ranges.py)."""
    out = {}
    for p in study.PARAMS:
        if p.kind == "int" and p.low is not None:
            out[p.name] = int(p.low)
        elif p.kind in ("floats", "ints"):
            out[p.name] = tuple(p.default[:1])
        else:
            out[p.name] = p.default
    return out


@pytest.mark.parametrize(
    "name",
    # bounds solves SDPs even at its smallest sizes (~15 s of CPU)
    [pytest.param(n, marks=pytest.mark.slow) if n == "bounds" else n for n in STUDIES],
)
def test_every_study_aggregates_over_each_of_its_parameters(tmp_path, name):
    """One point whose grid has every scalar parameter as an axis: a summary that echoes
    any of them (ghz n, esd nbar and G, threshold n_random and beta_ratio) must not clash
    with the coordinate (it did: "variables {'n'} are found in both data_vars and coords")."""
    st = get_study(name)
    tiny = _tiny(st)
    grid = {k: (v,) for k, v in tiny.items() if not isinstance(v, tuple)}
    fixed = {k: v for k, v in tiny.items() if isinstance(v, tuple)}
    res = run_sweep(name, grid, fixed=fixed, out=tmp_path / "s", executor="serial")
    assert res.n_failed == 0, res.dataset["error"].values
    ds = xr.load_dataset(tmp_path / "s" / "sweep.nc")
    assert set(ds.coords) == set(grid)
    assert ds.sizes == {k: 1 for k in grid}
    for key in grid:  # the echo is dropped where it equals the coordinate ...
        assert key not in ds.data_vars and f"summary.{key}" not in ds.data_vars
    numeric = [k for k in ds.data_vars if k not in ("status", "error", "seconds")]
    assert numeric  # ... and every other summary value is there


@pytest.mark.parametrize(
    "study, grid, sets",
    [
        ("ghz", "n=2,3", ["n_times=11", "n_max=0"]),
        ("esd", "nbar=0.2,0.5", ["n_times=11", "n_nbar=2", "n_times_sweep=5", "G=2"]),
        ("threshold", "beta_ratio=1.5,2", ["n_beta=2", "n_F=3", "n_random=10"]),
    ],
)
def test_the_audits_sweeps_write_sweep_nc(tmp_path, capsys, study, grid, sets):
    out = tmp_path / "s"
    argv = ["sweep", study, "--grid", grid, "--executor", "serial", "--out", str(out), "--quiet"]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 0, capsys.readouterr().err
    key, values = grid.split("=")
    ds = xr.load_dataset(out / "sweep.nc")
    assert list(ds[key].values) == pytest.approx([float(v) for v in values.split(",")])
    assert (ds["status"].values == "ok").all()


def _write(out, index, summary, **fields):
    rec = {
        "status": "ok",
        "summary": summary,
        "error": "",
        "index": list(index),
        "params": {},
        "seed": 0,
        "seconds": 0.1,
        "eplt_version": VERSION,
        **fields,
    }
    path = point_file(out, index)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(seal(rec)))
    return path


def test_an_echo_that_differs_from_the_coordinate_is_kept_under_another_name(tmp_path):
    grid = Grid((("n", (2, 3)),))
    _write(tmp_path, (0,), {"n": 2, "x": 1.0, "seconds": 5.0})  # "seconds": a reserved name
    _write(tmp_path, (1,), {"n": 4, "x": 2.0, "seconds": 6.0})  # e.g. a value rounded up
    ds = aggregate(tmp_path, grid)
    assert list(ds["summary.n"].values.ravel()) == [2.0, 4.0]
    assert list(ds["summary.seconds"].values.ravel()) == [5.0, 6.0]
    assert list(ds["x"].values.ravel()) == [1.0, 2.0] and list(ds["n"].values) == [2, 3]


def _nested(depth: int):
    return [1] if depth == 0 else {"a": _nested(depth - 1)}


@pytest.mark.parametrize(
    "damage",
    [
        {"summary": [1, 2]},
        {"summary": {"x": _nested(40)}},  # deeper than any summary eplt writes
        {"summary": "none"},
        {"status": 3},
        {"status": "done"},
        {"error": None},
        {"index": ["0"]},
        {"seconds": "slow"},
    ],
)
def test_a_resealed_checkpoint_with_a_malformed_record_is_recomputed(
    tmp_path, monkeypatch, capsys, damage
):
    import eplt.studies.sweep as sw

    calls = []

    def counted(*a):
        calls.append(tuple(a[3]))
        return _fake_point(*a)

    monkeypatch.setattr(sw, "run_point", counted)
    out = tmp_path / "s"
    sw.run_sweep("fef", _grid4(), out=out, executor="serial")
    path = sorted((out / "points").glob("p_*.json"))[2]
    rec = json.loads(path.read_text())
    rec.pop("sha256")
    rec.update(damage)
    path.write_text(json.dumps(seal(rec)))  # a valid hash: only the shape is wrong
    ds = aggregate(out, _grid4())  # no crash: the point counts as missing
    assert ds["status"].values[2] == "missing"
    calls.clear()
    capsys.readouterr()
    res = sw.run_sweep("fef", _grid4(), out=out, executor="serial")
    err = capsys.readouterr().err
    assert calls == [(2,)] and err.count("\n") == 1 and path.name in err, err
    assert res.n_failed == 0 and list(res.dataset["x"].values) == [0.5, 1.5, 2.5, 3.5]


def test_checkpoints_of_another_version_are_recomputed_with_one_warning(
    tmp_path, monkeypatch, capsys
):
    import eplt.studies.sweep as sw

    calls = []

    def counted(*a):
        calls.append(tuple(a[3]))
        return _fake_point(*a)

    monkeypatch.setattr(sw, "run_point", counted)
    out = tmp_path / "s"
    sw.run_sweep("fef", _grid4(), out=out, executor="serial")
    for i, path in enumerate(sorted((out / "points").glob("p_*.json"))):
        rec = json.loads(path.read_text())
        rec.pop("sha256")
        if i < 3:
            rec["eplt_version"] = "0.0.1"  # sound in every other way: hash, params, seed
            rec["summary"]["x"] = -1.0
            path.write_text(json.dumps(seal(rec)))
    calls.clear()
    capsys.readouterr()
    res = sw.run_sweep("fef", _grid4(), out=out, executor="serial")
    err = capsys.readouterr().err
    assert calls == [(0,), (1,), (2,)]
    assert err.count("\n") == 1 and "3 checkpoint(s)" in err and "0.0.1" in err, err
    assert list(res.dataset["x"].values) == [0.5, 1.5, 2.5, 3.5]  # no old value mixed in
    assert all(
        json.loads(p.read_text())["eplt_version"] == VERSION for p in (out / "points").iterdir()
    )


def test_speedup_plots_eight_or_more_kappa_ratios(tmp_path):
    from eplt.studies import speedup
    from matplotlib.colors import to_hex

    ratios = tuple(float(x) for x in np.geomspace(0.5, 200, 9))
    res = speedup.run({"n_times": 11, "n_beta": 2, "kappa_ratios": ratios, "beta_max": 2.0}, seed=0)
    figs = speedup.figures(res)
    lines = [
        ln
        for ax in figs["speedup_vs_beta"].axes  # one curve per ratio (speedup_vs_eps repeats them)
        for ln in ax.get_lines()
        if ln.get_label().startswith(r"$\kappa/r=")
    ]
    assert len(lines) >= 9  # the nine ratios (and the instant twirl, kappa/r = inf)
    colors = {to_hex(ln.get_color(), keep_alpha=True) for ln in lines}
    assert len(colors) == len(lines)  # every curve identifiable


def test_a_figure_that_fails_is_a_warning_and_the_data_are_kept(tmp_path, capsys, monkeypatch):
    from eplt.studies import fef

    def broken(result):
        raise IndexError("list index out of range")

    monkeypatch.setattr(fef, "figures", broken)
    out = tmp_path / "o"
    argv = ["run", "fef", "--set", "n_F=3", "--set", "restarts=0", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("eplt: warning:")
    assert "IndexError" in err and "data.nc, summary.json, metadata.json" in err
    assert {p.name for p in out.iterdir()} == {"data.nc", "summary.json", "metadata.json"}


def test_a_sweep_figure_that_fails_is_a_warning_and_the_data_are_kept(
    tmp_path, capsys, monkeypatch
):
    import eplt.studies._sweep_cli as sc

    def broken(*a, **kw):
        raise ValueError("eight colours")

    monkeypatch.setattr(sc, "sweep_figures", broken)
    out = tmp_path / "s"
    argv = ["sweep", "fef", "--grid", "n_F=3,5", "--executor", "serial", "--out", str(out)]
    argv += ["--set", "restarts=0", "--set", "betas=1"]
    assert main([*argv, "--plot", "gamma.1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "eight colours" in err and "sweep.nc" in err, err
    assert (out / "sweep.nc").exists() and (out / "sweep_summary.json").exists()

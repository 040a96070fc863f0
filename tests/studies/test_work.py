"""Work (CPU time) estimated before a run or sweep starts (eplt.studies._resources).

Each study's ``work_estimate(params) -> (seconds, names)`` is a measured cost model
(constants calibrated with ``time.process_time``, see each study's docstring). Nothing
here times a run: timings on a shared machine flake. The tests check what can be
checked exactly: every study has an estimate, positive and finite over its declared
ranges (hypothesis, the strategies of the declared-range test), growing with each size
parameter it names, scaling with the state size where the physics says so, and the
command line's notice, ``EPLT_WORK_LIMIT`` refusal (one line, exit 2, no folder) and the
sweep's record of the estimate.
"""

from __future__ import annotations

import json
import math

import pytest
from eplt.studies import STUDIES, get_study
from eplt.studies import cli as cli_mod
from eplt.studies._resources import (
    NOTICE_SECONDS,
    ResourceError,
    check_work,
    estimate_sweep_work,
    estimate_work,
    fmt_seconds,
    work_limit,
)
from eplt.studies.params import ParamError, resolve
from eplt.studies.sweep import Grid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_declared_ranges import _float_values


def _defaults(study) -> dict:
    return resolve(study.PARAMS, {}, study=study.NAME)


def _full_range(p) -> st.SearchStrategy:
    """Any declared value, sizes over their whole range (the estimate runs no dynamics)."""
    if p.choices:
        return st.sampled_from(p.choices)
    if p.kind == "bool":
        return st.booleans()
    if p.kind in ("int", "ints"):
        lo = int(p.low) if p.low is not None else 0
        hi = int(p.high) if p.high is not None else lo + 1000
        ints = st.integers(min_value=lo, max_value=hi)
        return st.lists(ints, min_size=1, max_size=8).map(tuple) if p.kind == "ints" else ints
    if p.kind in ("float", "floats"):
        f = _float_values(p)
        return st.lists(f, min_size=1, max_size=8).map(tuple) if p.kind == "floats" else f
    return st.just(p.default)


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_estimates_its_work_at_the_defaults(name):
    study = get_study(name)
    assert callable(getattr(study, "work_estimate", None)), f"{name} has no work_estimate"
    seconds, names = study.work_estimate(_defaults(study))
    assert isinstance(seconds, float) and 0 < seconds < math.inf
    declared = {p.name for p in study.PARAMS}
    assert names and set(names) <= declared, (names, declared)
    assert "measured" in study.work_estimate.__doc__.lower()  # calibration documented


@pytest.mark.parametrize("name", list(STUDIES))
def test_estimates_are_positive_and_finite_over_the_declared_ranges(name):
    study = get_study(name)
    base = _defaults(study)

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data):
        params = dict(base)
        for p in study.PARAMS:  # every parameter at once, anywhere in its range
            if data.draw(st.booleans(), label=f"vary {p.name}"):
                params[p.name] = p.convert(data.draw(_full_range(p), label=p.name))
        seconds, _ = estimate_work(study, params)
        assert 0 < seconds < math.inf, (seconds, params)

    check()


def _bigger(p, value):
    """A larger size: the top of an int range; a list of eight distinct values."""
    if p.kind == "int":
        return int(p.high)
    v = float(value[0])
    for step in (1e-6, -1e-6):  # distinct values next to the first (studies drop repeats)
        if p.kind == "ints":
            vals = [int(v) + k * (1 if step > 0 else -1) for k in range(8)]
        else:
            vals = [v + k * step * max(1.0, abs(v)) for k in range(8)]
        try:
            return p.convert(vals)
        except ParamError:
            continue
    raise AssertionError(f"no eight distinct values of {p.name} near {v}")


@pytest.mark.parametrize("name", list(STUDIES))
def test_the_estimate_grows_with_every_size_it_names(name):
    """Each integer or list parameter an estimate names as driving the work, moved from its
    low end (one element for a list) to its top (eight times the list), raises it."""
    study = get_study(name)
    base = _defaults(study)
    _, names = study.work_estimate(base)
    idx = {p.name: p for p in study.PARAMS}
    sizes = [n for n in names if idx[n].kind in ("int", "ints", "floats")]
    assert sizes, f"{name}: no size among the driving parameters {names}"
    for n in sizes:
        p = idx[n]
        low = int(p.low) if p.kind == "int" else tuple(base[n])[:1]
        small = {**base, n: p.convert(low)}
        large = {**base, n: p.convert(_bigger(p, low))}
        assert study.work_estimate(large)[0] > study.work_estimate(small)[0], n


def test_ghz_work_grows_at_least_with_the_state_size_in_the_sparse_regime():
    # beyond the dense limit (n >= 6) each time step is a sparse Krylov product over the
    # 4^n-dimensional state: the work per saved time grows at least like 4^n
    ghz = get_study("ghz")
    base = {**_defaults(ghz), "n_max": 0}

    def per_time(n):
        a = ghz.work_estimate({**base, "n": n, "n_times": 11})[0]
        b = ghz.work_estimate({**base, "n": n, "n_times": 10011})[0]
        return (b - a) / 10000

    assert per_time(7) >= 4 * per_time(6) and per_time(8) >= 4 * per_time(7)


def test_the_documented_slow_ghz_run_is_estimated_as_slow(monkeypatch):
    # `eplt run ghz --set n=8` takes minutes (the issue): the estimate says so, so the
    # notice is printed and a 1-minute limit refuses it naming n
    ghz = get_study("ghz")
    params = {**_defaults(ghz), "n": 8}
    assert estimate_work(ghz, params)[0] > 60
    monkeypatch.setenv("EPLT_WORK_LIMIT", "1m")
    with pytest.raises(ResourceError, match=r"lower n \(now 8\)"):
        check_work(ghz, params)
    with pytest.raises(ResourceError):
        ghz.run(params)  # the API refuses too, before any work


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("20m", 1200.0), (" 2h ", 7200.0)]
)
def test_work_limit_parsing(monkeypatch, text, seconds):
    monkeypatch.setenv("EPLT_WORK_LIMIT", text)
    assert work_limit() == seconds


@pytest.mark.parametrize("text", ["lots", "0", "-5m", "inf", "nan", "5d"])
def test_bad_work_limits_are_refused_in_one_line(monkeypatch, text):
    monkeypatch.setenv("EPLT_WORK_LIMIT", text)
    with pytest.raises(ParamError, match="EPLT_WORK_LIMIT"):
        work_limit()


def test_fmt_seconds():
    assert [fmt_seconds(t) for t in (0.2, 42, 170, 3000, 9000, 90000)] == [
        "~1 s",
        "~42 s",
        "~3 min",
        "~50 min",
        "~2.5 h",
        "~25 h",
    ]


# ------------------------------------------------------------------------ command line


@pytest.fixture
def slow_fef(monkeypatch):
    """fef (seconds at its smallest) with an estimate of an hour driven by n_F."""
    fef = get_study("fef")
    monkeypatch.setattr(fef, "work_estimate", lambda p: (3600.0, ("n_F", "restarts")))
    monkeypatch.delenv("EPLT_WORK_LIMIT", raising=False)
    return fef


_SMALL = ["--set", "n_F=3", "--set", "restarts=0", "--set", "betas=1"]


def test_a_long_run_is_announced_in_one_line_before_it_starts(tmp_path, capsys, slow_fef):
    assert cli_mod.main(["run", "fef", "--out", str(tmp_path / "o"), *_SMALL]) == 0
    err = capsys.readouterr().err.splitlines()
    assert (
        err[0] == "fef: estimated ~60 min of CPU on this machine (n_F=3, restarts=0); Ctrl-C stops"
    )
    # --quiet silences it with the rest of the chatter
    assert cli_mod.main(["run", "fef", "--out", str(tmp_path / "q"), "--quiet", *_SMALL]) == 0
    assert "estimated" not in capsys.readouterr().err


def test_a_short_run_is_not_announced(tmp_path, capsys):
    fef = get_study("fef")
    assert (
        fef.work_estimate(resolve(fef.PARAMS, {"n_F": 3, "restarts": 0, "betas": (1.0,)}))[0]
        < NOTICE_SECONDS
    )
    assert cli_mod.main(["run", "fef", "--out", str(tmp_path / "o"), *_SMALL]) == 0
    assert "estimated" not in capsys.readouterr().err


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("eplt: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_a_run_above_the_work_limit_is_refused(tmp_path, capsys, monkeypatch, slow_fef, quiet):
    monkeypatch.setenv("EPLT_WORK_LIMIT", "30m")
    out = tmp_path / "o"
    assert cli_mod.main(["run", "fef", "--out", str(out), *quiet, *_SMALL]) == 2
    err = _one_line(capsys)
    assert "~60 min of CPU" in err and "EPLT_WORK_LIMIT allows 30 min" in err
    assert "lower n_F (now 3), restarts (now 0)" in err
    assert not out.exists()


def test_a_bad_work_limit_is_one_line_in_the_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EPLT_WORK_LIMIT", "soon")
    assert cli_mod.main(["run", "fef", "--out", str(tmp_path / "o"), *_SMALL]) == 2
    assert "EPLT_WORK_LIMIT" in _one_line(capsys)
    assert not (tmp_path / "o").exists()


def test_sweep_estimate_sums_points_over_workers_and_keeps_the_longest_point():
    fef = get_study("fef")
    base = resolve(fef.PARAMS, {"restarts": 0}, study="fef")
    grid = Grid((("n_F", (3, 1001, 20001)),))
    each = [fef.work_estimate({**base, "n_F": n})[0] for n in (3, 1001, 20001)]
    one = estimate_sweep_work(fef, grid, base, 1)
    assert one["cpu"] == pytest.approx(sum(each)) and one["wall"] == pytest.approx(sum(each))
    many = estimate_sweep_work(fef, grid, base, 3)
    # three workers: not a third of the total, since no point is split between workers
    assert many["wall"] == pytest.approx(max(max(each), sum(each) / 3))
    assert many["point"] == max(each) and many["worst"]["n_F"] == 20001


def _sweep(out, *extra):
    return [
        "sweep", "fef", "--grid", "n_F=3,5", "--set", "restarts=0", "--set", "betas=1",
        "--executor", "serial", "--out", str(out), *extra,
    ]  # fmt: skip


def test_a_long_sweep_is_announced_and_its_estimate_recorded(tmp_path, capsys, slow_fef):
    out = tmp_path / "s"
    assert cli_mod.main(_sweep(out)) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "sweep fef: estimated ~2.0 h on this machine (2 points, ~2.0 h of CPU, 1 at once);"
        " Ctrl-C stops, a rerun resumes"
    )
    summary = json.loads((out / "sweep_summary.json").read_text())
    assert summary["estimated_cpu_seconds"] == 7200.0
    assert summary["estimated_wall_seconds"] == 7200.0
    # a rerun has nothing left to compute: no notice, an estimate of zero recorded
    assert cli_mod.main(_sweep(out)) == 0
    assert "estimated" not in capsys.readouterr().err
    assert json.loads((out / "sweep_summary.json").read_text())["estimated_cpu_seconds"] == 0


def test_a_sweep_above_the_work_limit_is_refused_before_any_point(
    tmp_path, capsys, monkeypatch, slow_fef
):
    monkeypatch.setenv("EPLT_WORK_LIMIT", "1h")
    out = tmp_path / "s"
    assert cli_mod.main(_sweep(out, "--quiet")) == 2
    err = _one_line(capsys)
    assert "sweep fef: estimated ~2.0 h with 1 point(s) at once" in err
    assert "EPLT_WORK_LIMIT allows 60 min" in err
    assert "use fewer grid points or lower n_F (now 3), restarts (now 0)" in err
    assert not out.exists()

"""Reliability of the command line and sweeps (issue #10): input is never silently
reinterpreted, what would not fit is refused before allocating, run folders and sweep
checkpoints survive crashes."""

from __future__ import annotations

import threading

import pytest
from eplt.studies.cli import main
from eplt.studies.params import Param, ParamError


def _one_line_error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("eplt: error:") and err.count("\n") == 1 and "Traceback" not in err
    return err


# ----------------------------------------------------------------- item 4: misread input


@pytest.mark.parametrize(
    "sets, needle",
    [
        (["kappa_ratios=1 10"], "got '1 10'"),  # used to become [110.0]
        (["kappa_ratios=1,,10"], "empty value"),
        (["beta=1_0"], "got '1_0'"),  # float() reads it as 10
        (["beta=\uff11\uff10"], "beta must be a number"),  # full-width digits
        (["n_times=2_1"], "n_times must be an integer"),
        (["beta=1", "beta=2"], "--set beta given twice"),
    ],
)
def test_ambiguous_values_are_refused_not_reinterpreted(tmp_path, capsys, sets, needle):
    argv = ["run", "speedup", "--out", str(tmp_path / "o"), "--quiet"]
    for s in sets:
        argv += ["--set", s]
    assert needle in _one_line_error(argv, capsys)
    assert not (tmp_path / "o").exists()


def test_empty_out_is_refused(capsys):
    assert "--out must name a folder" in _one_line_error(["run", "speedup", "--out", ""], capsys)
    assert "--out must name a folder" in _one_line_error(
        ["sweep", "speedup", "--grid", "beta=1,2", "--out", " "], capsys
    )


def test_list_rule_blanks_around_commas_are_fine():
    p = Param("xs", (1.0,), "floats", low=0)
    assert p.convert(" 1, 10 ,100 ") == (1.0, 10.0, 100.0)
    assert p.convert("[1,10]") == (1.0, 10.0)
    for bad in ("1 10", "1,,10", "1,", "1_0"):
        with pytest.raises(ParamError):
            p.convert(bad)


def test_bounds_print_with_enough_digits():
    import math

    p = Param("theta", 0.1, "float", low=0, high=math.pi / 2)
    with pytest.raises(ParamError, match=r"\[0, 1\.5707963267948966\], got 1\.5708"):
        p.convert("1.5708")
    assert p.convert(repr(math.pi / 2)) == math.pi / 2


@pytest.mark.parametrize("grid", ["beta=1,,2", "beta=1_0:2:3", "beta=1:2:1_0"])
def test_grid_values_follow_the_same_rule(tmp_path, capsys, grid):
    _one_line_error(["sweep", "speedup", "--grid", grid, "--out", str(tmp_path / "s")], capsys)
    assert not (tmp_path / "s").exists()


# ------------------------------------------------- items 8, 9: run folders and file modes


def _tiny_result():
    import numpy as np
    import xarray as xr
    from eplt.studies.base import StudyResult

    data = xr.Dataset({"x": (("t",), np.arange(3.0), {"units": "1"})})
    return StudyResult("tiny", {"a": 1}, 0, data, {"value": 1.5})


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_files_follow_the_umask(tmp_path, mask, mode):
    import os

    from eplt.studies.base import write_outputs

    old = os.umask(mask)
    try:
        written = write_outputs(_tiny_result(), {}, tmp_path / "o")
    finally:
        os.umask(old)
    assert {p.name for p in written} == {"data.nc", "summary.json", "metadata.json"}
    for p in written:
        assert p.stat().st_mode & 0o777 == mode, p


_KILL_MID_WRITE = r"""
import os, signal, sys
import eplt.studies._folders as f
from tests.studies.test_reliability import _tiny_result
from eplt.studies.base import write_outputs
real, moved = os.replace, []
def replace(a, b):
    if str(a).endswith(".tmp"):  # a file into the staging folder: let it through
        return real(a, b)
    if len(moved) == 1:  # the second move of the staged run into place: die
        os.kill(os.getpid(), signal.SIGKILL)
    moved.append(b)
    return real(a, b)
f.os.replace = replace
write_outputs(_tiny_result(), {}, sys.argv[1])
"""


def test_sigkill_while_moving_files_leaves_a_visibly_incomplete_folder(tmp_path, capsys):
    import json
    import os
    import subprocess
    import sys

    from eplt.studies.base import claim_folder, write_outputs

    out = tmp_path / "o"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-c", _KILL_MID_WRITE, str(out)], env=env)
    assert proc.returncode == -9
    names = {p.name for p in out.iterdir()}
    assert "metadata.json" not in names  # the completion mark is written last
    assert ".eplt-incomplete.json" in names  # ... and the folder says it is incomplete
    (out / "notes.txt").write_text("mine")  # a user's file is never removed ...
    with pytest.raises(OSError, match="not empty"):
        claim_folder(out).release()  # ... so this folder now needs --force
    (out / "notes.txt").unlink()
    # without a user file the rerun needs no --force: only the run's own files go
    written = write_outputs(_tiny_result(), {}, out)
    assert "incomplete run" in capsys.readouterr().err
    names = {p.name for p in out.iterdir()}
    assert {p.name for p in written} <= names
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".staging")]
    assert ".eplt-incomplete.json" not in names
    assert json.loads((out / "metadata.json").read_text())["study"] == "tiny"


def test_stale_temporaries_are_cleaned(tmp_path):
    from eplt.studies.base import write_outputs

    # what a killed run leaves: its lock file (with its token) and its temporaries, whose
    # names carry that token (issue 20: only those are removed, see test_files_safety.py)
    token = "0123456789abcdef"
    out = tmp_path / "o"
    out.mkdir()
    (out / ".eplt-lock").write_text(f'{{"eplt": "lock", "pid": 1, "token": "{token}"}}\n')
    (out / f".metadata.json.{token}-abcabcab.tmp").write_text("half")
    (out / f".staging-{token}-xyzxyzxy").mkdir()
    (out / f".staging-{token}-xyzxyzxy" / "data.nc").write_text("half")
    write_outputs(_tiny_result(), {}, out)
    names = {p.name for p in out.iterdir()}
    assert f".metadata.json.{token}-abcabcab.tmp" not in names
    assert f".staging-{token}-xyzxyzxy" not in names
    assert ".eplt-lock" not in names  # removed when the run ends (issue 23)


def test_second_concurrent_run_into_one_folder_is_refused(tmp_path, capsys):
    from eplt.studies._folders import FolderLock

    out = tmp_path / "o"
    out.mkdir()
    with FolderLock(out):
        err = _one_line_error(["run", "fef", "--out", str(out), "--quiet"], capsys)
        assert "another eplt process is writing" in err
        err = _one_line_error(
            ["sweep", "fef", "--grid", "n_F=3,5", "--out", str(out), "--quiet"], capsys
        )
        assert "another eplt process is writing" in err
    assert [p.name for p in out.iterdir()] == []  # the lock file goes with the lock (issue 23)


# ------------------------------------------------------ item 2: memory before allocation

_LIMITED = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))  # 3 GiB of address space
from eplt.studies.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _limited_cli(args, tmp_path):
    """The CLI in a process that cannot take more than 3 GiB: a run that allocates before
    checking fails with MemoryError (a traceback) instead of exhausting the test machine."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OPENBLAS_NUM_THREADS": "1"}
    env.pop("EPLT_MEMORY_LIMIT", None)
    return subprocess.run(
        [sys.executable, "-c", _LIMITED, *args], env=env, capture_output=True, text=True
    )


def _assert_refused(proc, *names):
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eplt: error:"), proc.stderr
    for n in names:
        assert n in lines[0]


def test_a_run_too_large_for_memory_is_refused_before_allocating(tmp_path):
    # inside the declared ranges: ~12 GiB at once for the heat map before the fix
    out = tmp_path / "o"
    args = ["run", "threshold", "--set", "n_beta=5000", "--set", "n_F=20001", "--out", str(out)]
    _assert_refused(_limited_cli(args, tmp_path), "n_beta", "n_F", "memory")
    assert not out.exists()


def test_a_huge_grid_is_refused_before_it_is_built(tmp_path):
    out = tmp_path / "s"
    args = ["sweep", "speedup", "--grid", "beta=1:2:1000000000", "--out", str(out)]
    _assert_refused(_limited_cli(args, tmp_path), "at most 100000 points")
    assert not out.exists()


def test_memory_limit_override_and_sweep_workers(tmp_path, capsys, monkeypatch):
    from eplt.studies import get_study
    from eplt.studies._resources import available_memory, check_memory

    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "2G")
    assert available_memory() == 2 * 2**30
    st = get_study("speedup")
    assert check_memory(st, {**{p.name: p.default for p in st.PARAMS}}) > 0  # defaults fit
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "400M")
    # one point of 100000 saved times fits in 400 MiB, two workers with theirs do not
    grid = ["--grid", "n_times=11,60000", "--out", str(tmp_path / "s"), "--executor"]
    err = _one_line_error(["sweep", "speedup", *grid, "processes", "--workers", "2"], capsys)
    assert "lower n_times" in err and "fewer --workers" in err
    assert not (tmp_path / "s").exists()
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "lots")
    assert "EPLT_MEMORY_LIMIT" in _one_line_error(
        ["run", "speedup", "--out", str(tmp_path / "x")], capsys
    )


# ------------------------------------------------------------ item 5: sweeps that finish


def _fake_point(study, params, seed, index):
    """Stands in for ``run_point`` (cheap); kills its own worker once for index (1,) when
    ``EPLT_TEST_KILL_ONCE`` names a marker file that does not exist yet; touches
    ``$EPLT_TEST_STARTED/<index>`` when it starts (a worker is busy with a point)."""
    import os
    import signal
    from pathlib import Path

    from eplt.studies.base import jsonable

    if os.environ.get("EPLT_TEST_STARTED"):
        (Path(os.environ["EPLT_TEST_STARTED"]) / "-".join(map(str, index))).touch()
    if os.environ.get("EPLT_TEST_SLEEP"):
        import time

        time.sleep(float(os.environ["EPLT_TEST_SLEEP"]))
    marker = os.environ.get("EPLT_TEST_KILL_ONCE")
    if marker and tuple(index) == (1,) and not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    fail = os.environ.get("EPLT_TEST_FAIL_ONCE")
    if fail and tuple(index) == (1,) and not Path(fail).exists():
        Path(fail).touch()
        rec = {"status": "error", "summary": {}, "error": "ValueError: flaky"}
    else:
        rec = {"status": "ok", "summary": {"x": float(index[0]) + 0.5}, "error": ""}
    return {**rec, "index": list(index), "params": jsonable(params), "seed": seed, "seconds": 0.0}


def _grid4():
    from eplt.studies.sweep import Grid

    return Grid((("n_F", (3, 5, 7, 9)),))


def test_a_killed_worker_costs_no_point(tmp_path, monkeypatch):
    import eplt.studies.sweep as sw

    monkeypatch.setattr(sw, "run_point", _fake_point)
    monkeypatch.setenv("EPLT_TEST_KILL_ONCE", str(tmp_path / "killed"))
    res = sw.run_sweep("fef", _grid4(), out=tmp_path / "s", executor="processes", workers=2)
    assert (tmp_path / "killed").exists()  # a worker did die (BrokenProcessPool)
    assert res.n_failed == 0 and list(res.dataset["x"].values) == [0.5, 1.5, 2.5, 3.5]


def test_damaged_checkpoints_are_recomputed_with_a_warning(tmp_path, monkeypatch, capsys):
    import json

    import eplt.studies.sweep as sw

    calls = []

    def counted(*a):
        calls.append(tuple(a[3]))
        return _fake_point(*a)

    monkeypatch.setattr(sw, "run_point", counted)
    out = tmp_path / "s"
    sw.run_sweep("fef", _grid4(), out=out, executor="serial")
    pts = sorted((out / "points").glob("p_*.json"))
    pts[0].write_text(pts[0].read_text()[:20])  # truncated by a crash
    pts[1].write_text("")  # emptied
    rec = json.loads(pts[2].read_text())
    rec["summary"]["x"] = 99.0  # edited by hand
    pts[2].write_text(json.dumps(rec))
    spec = out / "sweep.json"
    spec.write_text(spec.read_text()[:10])  # truncated definition
    calls.clear()
    capsys.readouterr()
    res = sw.run_sweep("fef", _grid4(), out=out, executor="serial")
    err = capsys.readouterr().err
    assert sorted(calls) == [(0,), (1,), (2,)]
    for p in pts[:3]:
        assert p.name in err
    assert "sweep.json is damaged" in err
    assert res.n_failed == 0 and list(res.dataset["x"].values) == [0.5, 1.5, 2.5, 3.5]
    assert json.loads(spec.read_text())["study"] == "fef"


def test_failed_points_are_retried_with_retry_failed(tmp_path, monkeypatch):
    import eplt.studies.sweep as sw

    monkeypatch.setattr(sw, "run_point", _fake_point)
    monkeypatch.setenv("EPLT_TEST_FAIL_ONCE", str(tmp_path / "failed"))
    out = tmp_path / "s"
    first = sw.run_sweep("fef", _grid4(), out=out, executor="serial")
    assert first.n_failed == 1
    again = sw.run_sweep("fef", _grid4(), out=out, executor="serial")
    assert again.n_failed == 1 and again.n_skipped == 4  # a plain rerun keeps the record
    retried = sw.run_sweep("fef", _grid4(), out=out, executor="serial", retry_failed=True)
    assert retried.n_failed == 0 and retried.n_skipped == 3


def test_a_refused_resume_names_the_differing_fields(tmp_path, monkeypatch):
    import eplt.studies.sweep as sw

    monkeypatch.setattr(sw, "run_point", _fake_point)
    out = tmp_path / "s"
    sw.run_sweep("fef", _grid4(), out=out, executor="serial", seed=1)
    with pytest.raises(ParamError) as exc:
        sw.run_sweep("fef", _grid4(), out=out, executor="serial", seed=2, fixed={"restarts": 5})
    msg = str(exc.value)
    assert "seed: recorded 1, now 2" in msg and "fixed.restarts: recorded 3, now 5" in msg
    assert "grid" not in msg.split("(", 1)[1]  # the grid did not change, so it is not listed


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "notaurl::"])
def test_an_unreachable_scheduler_leaves_no_sweep_behind(tmp_path, capsys, address):
    pytest.importorskip("distributed")
    out = tmp_path / "s"
    argv = ["sweep", "fef", "--grid", "n_F=3,5", "--executor", "dask", "--out", str(out)]
    before = set(threading.enumerate())
    err = _one_line_error([*argv, "--scheduler", address], capsys)
    assert "cannot connect to the Dask scheduler" in err
    assert not (out / "sweep.json").exists()  # another grid may use this folder
    # distributed.Client starts an "IO loop" thread before connecting and, when connecting
    # fails, leaves it running (for ever after a timeout; until some later garbage
    # collection, inside whatever runs then, after a malformed address)
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running by the failed connection: {left}"


def test_grid_range_with_infinite_end_is_one_line(tmp_path, capsys):
    err = _one_line_error(
        ["sweep", "speedup", "--grid", "beta=1:inf:3", "--out", str(tmp_path / "s")], capsys
    )
    assert "must be finite" in err


_SWEEP_FOREVER = r"""
import sys
import eplt.studies.sweep as sw
from tests.studies.test_reliability import _fake_point, _grid4
sw.run_point = _fake_point
sw.run_sweep("fef", _grid4(), out=sys.argv[1], executor="processes", workers=2)
"""


def test_workers_exit_when_the_sweep_process_is_killed(tmp_path):
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "EPLT_TEST_SLEEP": "600"}
    proc = subprocess.Popen([sys.executable, "-c", _SWEEP_FOREVER, str(tmp_path / "s")], env=env)
    workers = []
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.time() + 120
        while time.time() < deadline and len(workers) < 2:  # the two pool workers started
            workers = [
                c for c in parent.children(recursive=True) if "spawn" in " ".join(c.cmdline())
            ]
            time.sleep(0.2)
        assert len(workers) >= 2, "the pool did not start"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # each worker's watchdog looks at its parent every 0.5 s; allow a loaded machine 60 s
        _, alive = psutil.wait_procs(workers, timeout=60)
        assert not alive, f"workers still running after their parent died: {alive}"
    finally:  # only the processes this test started
        for w in workers:
            with contextlib.suppress(psutil.Error):
                w.kill()
        proc.kill()


# ------------------------------------------------- items 7, 10: one line, helpful words


def test_toml_that_is_not_utf8_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "p.toml"
    cfg.write_bytes(b"beta = 1\n# caf\xe9\n")
    err = _one_line_error(
        ["run", "speedup", "--config", str(cfg), "--out", str(tmp_path / "x")], capsys
    )
    assert "not UTF-8" in err


def test_toml_seed_error_names_the_config_not_the_option(tmp_path, capsys):
    cfg = tmp_path / "p.toml"
    cfg.write_text("seed = -1\n")
    err = _one_line_error(
        ["run", "speedup", "--config", str(cfg), "--out", str(tmp_path / "x")], capsys
    )
    assert "p.toml" in err and "--seed" not in err


_CTRL_C = r"""
import faulthandler
import signal
import sys
faulthandler.register(signal.SIGUSR1)  # the test dumps the stacks when it times out
# as a terminal's foreground job: a test run started in the background (`pytest &` in a
# script) passes SIGINT down ignored, and a Ctrl-C would then never arrive
signal.signal(signal.SIGINT, signal.default_int_handler)
import eplt.studies.sweep as sw
from tests.studies.test_reliability import _fake_point
sw.run_point = _fake_point
from eplt.studies.cli import main
sys.exit(main(["sweep", "fef", "--grid", "n_F=3,5,7,9", "--executor", "dask", "--workers", "1",
               "--out", sys.argv[1], "--quiet"]))
"""


@pytest.mark.slow
def test_ctrl_c_under_dask_prints_one_line(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    pytest.importorskip("distributed")
    started = tmp_path / "started"
    started.mkdir()
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "EPLT_TEST_SLEEP": "600"}
    env["EPLT_TEST_STARTED"] = str(started)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CTRL_C, str(tmp_path / "s")],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        # wait until a worker runs a point: the cluster is up. (sweep.json and idle worker
        # processes exist earlier, while the LocalCluster starts with SIGINT ignored, and
        # a Ctrl-C then is lost: on a loaded machine this test used to hang there.)
        deadline = time.time() + 180
        while time.time() < deadline and not any(started.iterdir()):
            time.sleep(0.2)
        assert any(started.iterdir()), "no worker started a point"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole group
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGUSR1)  # where it hangs, in the failure message
            time.sleep(2)
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
            pytest.fail(f"no exit 120 s after Ctrl-C; stacks:\n{err}")
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        # reap it and close its pipe here: otherwise a failure above leaves a running
        # Popen to be garbage-collected (ResourceWarning, an error) inside a later test
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines() == ["eplt: interrupted"], err


def test_plot_key_with_parts_suggests_them(tmp_path, capsys, monkeypatch):
    import eplt.studies.sweep as sw

    def nested(study, params, seed, index):
        rec = _fake_point(study, params, seed, index)
        return {**rec, "summary": {"gamma": {"a": 1.0, "b": 2.0}}}

    monkeypatch.setattr(sw, "run_point", nested)
    code = main(
        ["sweep", "fef", "--grid", "n_F=3,5", "--executor", "serial", "--plot", "gamma"]
        + ["--out", str(tmp_path / "s"), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 0 and "gamma.a, gamma.b" in err


def test_low_temperature_message_says_gamma_underflows_not_zero_temperature(tmp_path, capsys):
    # p_min = 4e-18 at beta omega = 40 is finite: the honest reason is double precision
    out = tmp_path / "x"
    err = _one_line_error(["run", "speedup", "--set", "beta=40", "--out", str(out)], capsys)
    assert "underflows double precision" in err and "beta" in err and "zero temperature" in err
    assert "is pure" not in err
    assert not out.exists()  # refused by the study after the folder was claimed: removed
    err = _one_line_error(["run", "threshold", "--set", "beta_max=30", "--out", str(out)], capsys)
    assert "beta_max" in err and "support" not in err
    assert not out.exists()


def test_a_refused_run_keeps_a_folder_it_did_not_create(tmp_path, capsys):
    out = tmp_path / "x"
    out.mkdir()
    _one_line_error(["run", "speedup", "--set", "beta=40", "--out", str(out)], capsys)
    assert out.is_dir()  # the user's (empty) folder stays; only the lock file is left in it


def test_type_errors_state_the_range(tmp_path, capsys):
    err = _one_line_error(
        ["run", "speedup", "--set", "n_times=x", "--out", str(tmp_path / "x")], capsys
    )
    assert "[11, 100000]" in err
    err = _one_line_error(
        ["run", "speedup", "--set", "beta=x", "--out", str(tmp_path / "x")], capsys
    )
    assert "(0, inf)" in err


def test_study_run_validates_the_seed():
    from eplt.studies import speedup

    for bad in ("x", -1, 1.5, True):
        with pytest.raises(ParamError, match="seed"):
            speedup.run({"n_times": 11, "n_beta": 2, "kappa_ratios": (10,)}, seed=bad)

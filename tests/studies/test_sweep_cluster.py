"""A sweep on an external Dask scheduler stops with one line naming what died (issue 20):
the only worker (after ``--timeout`` seconds without a worker) or the scheduler itself.

The scheduler and the worker are separate processes on free ports without dashboards, so
the tests do not collide with another Dask cluster on the machine. The sweep runs the cheap
stand-in point of test_reliability.py (two seconds each) in a driver process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

_DRIVER = r"""
import sys
import eplt.studies.sweep as sw
from eplt.studies.cli import main
from tests.studies.test_reliability import _fake_point
sw.run_point = _fake_point
sys.exit(main(sys.argv[1:]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.getcwd(), "EPLT_TEST_SLEEP": "2"}


def _scheduler() -> tuple[str, subprocess.Popen]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
        + ["--port", str(port), "--no-dashboard"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return f"tcp://127.0.0.1:{port}", proc


@pytest.fixture
def cluster():
    """``(address, scheduler process, worker process)``: one worker with one thread."""
    addr, scheduler = _scheduler()
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nthreads", "1"]
        + ["--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with distributed.Client(addr, timeout="60s") as client:
            client.wait_for_workers(1, timeout=120)
        yield addr, scheduler, worker
    finally:
        for proc in (worker, scheduler):
            proc.kill()
            proc.wait()


def _sweep_killing(proc, addr: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run a four-point sweep on ``addr``; kill ``proc`` once the first point is saved."""

    def killer():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(out.glob("points/p_*.json")):
            time.sleep(0.1)
        proc.kill()

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    argv = ["sweep", "fef", "--grid", "n_F=3,5,7,9", "--executor", "dask"]
    argv += ["--scheduler", addr, "--out", str(out), "--quiet", *extra]
    res = subprocess.run(
        [sys.executable, "-c", _DRIVER, *argv],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    th.join()
    return res


@pytest.mark.slow
def test_the_only_worker_dying_times_out_with_one_line(tmp_path, cluster):
    addr, _, worker = cluster
    out = tmp_path / "s"
    res = _sweep_killing(worker, addr, out, "--timeout", "3")
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "has had no worker for 3 s" in lines[0] and addr in lines[0]
    assert 1 <= len(list(out.glob("points/p_*.json"))) < 4  # the finished points are kept


@pytest.mark.slow
def test_a_dead_scheduler_is_named(tmp_path, cluster):
    addr, scheduler, _ = cluster
    out = tmp_path / "s"
    res = _sweep_killing(scheduler, addr, out)
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert f"the Dask scheduler at {addr!r} died" in lines[0]
    assert "cannot connect" not in lines[0]
    assert 1 <= len(list(out.glob("points/p_*.json"))) < 4


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--timeout", "0"], "--timeout must be a number of seconds > 0, got '0'"),
        (["--timeout", "x"], "--timeout must be a number of seconds > 0, got 'x'"),
        (["--timeout", "inf"], "--timeout must be a number of seconds > 0, got 'inf'"),
    ],
)
def test_bad_timeouts_are_one_line(tmp_path, capsys, argv, needle):
    from eplt.studies.cli import main

    base = ["sweep", "fef", "--grid", "n_F=3", "--executor", "dask", "--out", str(tmp_path / "s")]
    assert main([*base, *argv, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err
    assert main([*base, "--timeout", "5"]) == 2  # a local cluster has no use for it
    assert "--timeout applies to an external Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_a_malformed_dask_timeout_variable_is_one_line(tmp_path, capsys, monkeypatch):
    from eplt.studies.cli import main

    monkeypatch.setenv("EPLT_DASK_TIMEOUT", "soon")
    argv = ["sweep", "fef", "--grid", "n_F=3", "--executor", "dask", "--scheduler"]
    assert main([*argv, "tcp://127.0.0.1:1", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "EPLT_DASK_TIMEOUT must be a number of seconds" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_before_the_first_worker_the_sweep_waits_and_says_so(tmp_path):
    """A batch queue may start the workers late: no timeout then, one line instead."""
    import signal

    addr, scheduler = _scheduler()
    out = tmp_path / "s"
    argv = ["sweep", "fef", "--grid", "n_F=3", "--executor", "dask", "--scheduler", addr]
    proc = None
    try:
        with distributed.Client(addr, timeout="60s"):
            pass  # the scheduler is up
        proc = subprocess.Popen(
            [sys.executable, "-c", _DRIVER, *argv, "--timeout", "1", "--out", str(out), "--quiet"],
            env=_env(),
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        first = proc.stderr.readline()  # blocks until the notice (or the end)
        assert first.startswith("eplt: waiting for a worker to connect") and addr in first
        time.sleep(3)  # well past the timeout: still waiting, not failed
        assert proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)
        _, rest = proc.communicate(timeout=120)
        assert proc.returncode == 130 and rest.strip().splitlines() == ["eplt: interrupted"], rest
    finally:
        if proc is not None:
            with __import__("contextlib").suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stderr.close()
        scheduler.kill()
        scheduler.wait()

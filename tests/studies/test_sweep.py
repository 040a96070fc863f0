"""Sweeps: identical numbers on every executor, checkpoint/resume after SIGKILL,
worker loss under Dask, failures recorded, bad grids rejected."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr
from eplt.studies.cli import main
from eplt.studies.sweep import Grid, parse_grid, point_seed, run_sweep

FIXED = {"n_times": 11, "n_beta": 2, "kappa_ratios": (10.0,), "beta_max": 2.0}
SLOW = {**FIXED, "n_beta": 12}  # ~0.5 s per point
GRID = Grid((("beta", (0.5, 1.0)), ("kappa", (5.0, 10.0))))


def _same(a: xr.Dataset, b: xr.Dataset):
    assert set(a.data_vars) == set(b.data_vars)
    for k in a.data_vars:
        if k == "seconds":
            continue
        if a[k].dtype.kind in "fc":
            np.testing.assert_array_equal(a[k].values, b[k].values)  # bit-identical
        else:
            assert (a[k].values == b[k].values).all(), k


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "s"
    return run_sweep("speedup", GRID, fixed=FIXED, seed=3, out=out, executor="serial")


def test_serial_sweep_dataset(serial):
    ds = serial.dataset
    assert ds["speedup"].dims == ("beta", "kappa") and ds["speedup"].shape == (2, 2)
    assert (ds["status"].values == "ok").all() and serial.n_failed == 0
    # speed-up at (beta=1, kappa=10) equals the single study run's value
    from eplt.studies import speedup

    single = speedup.run({**FIXED, "beta": 1.0, "kappa": 10.0}).summary["speedup"]
    assert ds["speedup"].sel(beta=1.0, kappa=10.0).item() == single
    assert "negativity_at_t_star.correlated" in ds


def test_process_pool_identical_to_serial(serial, tmp_path):
    res = run_sweep(
        "speedup", GRID, fixed=FIXED, seed=3, out=tmp_path / "p", executor="processes", workers=2
    )
    _same(serial.dataset, res.dataset)


@pytest.mark.slow
def test_dask_local_cluster_identical_to_serial(serial, tmp_path):
    pytest.importorskip("distributed")
    res = run_sweep(
        "speedup", GRID, fixed=FIXED, seed=3, out=tmp_path / "d", executor="dask", workers=2
    )
    _same(serial.dataset, res.dataset)


def test_point_seeds_are_keyed_by_point():
    assert point_seed(3, (1, 0)) == point_seed(3, (1, 0))
    assert point_seed(3, (1, 0)) != point_seed(3, (0, 1))
    assert point_seed(3, (1, 0)) != point_seed(4, (1, 0))
    assert 0 <= point_seed(3, (5, 5)) < 2**63


def test_rerun_skips_finished_points_and_refuses_other_sweeps(serial, tmp_path):
    out = serial.folder
    again = run_sweep("speedup", GRID, fixed=FIXED, seed=3, out=out, executor="serial")
    assert again.n_skipped == 4
    _same(serial.dataset, again.dataset)
    from eplt.studies.params import ParamError

    with pytest.raises(ParamError, match="different sweep"):
        run_sweep("speedup", GRID, fixed=FIXED, seed=4, out=out, executor="serial")


def test_failing_point_is_recorded_and_others_finish(tmp_path, capsys):
    out = tmp_path / "f"
    code = main(
        [
            "sweep",
            "speedup",
            "--grid",
            "beta=1,800",
            "--set",
            "n_times=11",
            "--set",
            "n_beta=2",
            "--set",
            "kappa_ratios=10",
            "--set",
            "beta_max=2",
            "--executor",
            "serial",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "1 of 2 points failed" in err
    summary = json.loads((out / "sweep_summary.json").read_text())
    assert (
        summary["failed"] == 1 and "underflows double precision" in summary["failures"][0]["error"]
    )
    with xr.open_dataset(out / "sweep.nc", engine="scipy") as ds:
        assert list(ds["status"].values) == ["ok", "error"]
        assert np.isfinite(ds["speedup"].values[0]) and np.isnan(ds["speedup"].values[1])
    assert (out / "sweep_speedup.png").exists()


def _cli_args(out, *extra):
    sets = ["n_times=11", "n_beta=2", "kappa_ratios=10", "beta_max=2"]
    args = ["sweep", "speedup", "--executor", "serial", "--out", str(out), "--quiet"]
    for x in sets:
        args += ["--set", x]
    return [*args, *extra]


def test_every_point_failing_exits_1_and_a_bad_plot_key_exits_2_before_any_work(tmp_path, capsys):
    code = main(_cli_args(tmp_path / "all", "--grid", "beta=800,900"))
    err = capsys.readouterr().err
    assert code == 1 and "2 of 2 points failed" in err and "no figure" in err
    code = main(_cli_args(tmp_path / "p", "--grid", "beta=1,2", "--plot", "speedupp"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--plot: 'speedupp'" in err[0]
    assert not (tmp_path / "p").exists()


def test_non_empty_folder_without_a_sweep_is_refused_and_kept(tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(_cli_args(out, "--grid", "beta=1,2"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "holds no sweep" in err[0]
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


def test_a_lost_worker_leaves_its_point_missing_and_a_rerun_completes_it(tmp_path, monkeypatch):
    import eplt.studies.sweep as sw

    real = sw.run_point

    def dies_on_second(study, params, seed, index):
        if tuple(index) == (1,):
            raise RuntimeError("worker killed")  # what a crashed worker's future raises
        return real(study, params, seed, index)

    grid = Grid((("beta", (0.5, 1.0, 2.0)),))
    monkeypatch.setattr(sw, "run_point", dies_on_second)
    res = run_sweep("speedup", grid, fixed=FIXED, seed=1, out=tmp_path / "w", executor="serial")
    assert res.n_failed == 1 and list(res.dataset["status"].values) == ["ok", "missing", "ok"]
    summary = json.loads((tmp_path / "w" / "sweep_summary.json").read_text())
    assert "RuntimeError: worker killed" in summary["failures"][0]["error"]
    monkeypatch.setattr(sw, "run_point", real)
    again = run_sweep("speedup", grid, fixed=FIXED, seed=1, out=tmp_path / "w", executor="serial")
    assert again.n_failed == 0 and again.n_skipped == 2


def test_sweep_figures_with_a_text_axis(tmp_path):
    import matplotlib.pyplot as plt
    from eplt.studies._sweep_plot import sweep_figures

    ds = xr.Dataset(
        {"speedup": (("input", "beta"), np.array([[3.0, 2.0, 1.0], [4.0, 2.5, 1.5]]))},
        coords={"input": ["phi_plus", "schmidt"], "beta": [1.0, 2.0, 3.0]},
    )
    ax = sweep_figures(ds, "speedup")["sweep_speedup"].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["phi_plus", "schmidt"]
    one = sweep_figures(ds.isel(beta=0), "speedup")["sweep_speedup"].axes[0]
    assert [t.get_text() for t in one.get_xticklabels()] == ["phi_plus", "schmidt"]
    plt.close("all")


@pytest.mark.parametrize(
    "grid, needle",
    [
        ("betta=1,2", "unknown parameter 'betta' for study 'speedup'; did you mean 'beta'?"),
        ("beta=", "empty list of values"),
        ("beta=1:2", "expected start:stop:num"),
        ("beta=a:2:3", "must be numbers"),
        ("beta=1:2:0", "num must be >= 1"),
        ("beta=x,y", "beta must be a number"),
        ("beta=-1,2", "beta must lie in (0, inf)"),
        ("kappa_ratios=1,2", "list parameter"),
        ("beta", "expects key=start:stop:num"),
    ],
)
def test_bad_grid_one_line_exit_2(grid, needle, tmp_path, capsys):
    code = main(["sweep", "speedup", "--grid", grid, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and needle in err[0]
    assert not (tmp_path / "x").exists()  # nothing written for a rejected sweep


def test_parse_grid_ranges():
    from eplt.studies import speedup

    g = parse_grid(
        ["beta=1:3:3", "kappa=1:100:3:log", "input=phi_plus,schmidt"],
        speedup.PARAMS,
        study="speedup",
    )
    assert g.axes[0] == ("beta", (1.0, 2.0, 3.0))
    assert np.allclose(g.axes[1][1], (1.0, 10.0, 100.0))
    assert g.shape == (3, 3, 2)


def _sweep_cmd(out):
    # ~0.5 s per point, so that the kill lands mid-sweep
    return [
        sys.executable,
        "-m",
        "studies",
        "sweep",
        "speedup",
        "--grid",
        "beta=0.5,1,1.5",
        "--grid",
        "kappa=5,10",
        "--set",
        "n_times=11",
        "--set",
        "n_beta=12",
        "--set",
        "kappa_ratios=10",
        "--set",
        "beta_max=2",
        "--executor",
        "serial",
        "--seed",
        "3",
        "--out",
        str(out),
        "--quiet",
    ]


def _wait_for_points(folder, k, timeout=120.0):
    """Poll until ``folder/points`` holds at least ``k`` finished points."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (folder / "points").exists() and len(list((folder / "points").glob("p_*.json"))) >= k:
            return
        time.sleep(0.02)
    raise AssertionError(f"no {k} finished points in {folder} after {timeout} s")


@pytest.mark.slow  # 293 s at load 14 on 2 cores (2026-12-06)
def test_sigkill_and_resume_gives_the_uninterrupted_dataset(tmp_path):
    """A torn temporary file may remain after SIGKILL; only complete p_*.json files count."""
    full = tmp_path / "full"
    subprocess.run(_sweep_cmd(full), check=True, capture_output=True)
    cut = tmp_path / "cut"
    proc = subprocess.Popen(_sweep_cmd(cut), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_points(cut, 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((cut / "points").glob("p_*.json")))
    assert 1 <= done < 6, "the sweep must be killed mid-run"
    subprocess.run([*_sweep_cmd(cut), "--resume"], check=True, capture_output=True)
    with (
        xr.open_dataset(full / "sweep.nc", engine="scipy") as a,
        xr.open_dataset(cut / "sweep.nc", engine="scipy") as b,
    ):
        _same(a.load(), b.load())
    assert len(list((cut / "points").glob("p_*.json"))) == 6


@pytest.mark.slow
def test_dask_worker_killed_mid_sweep_all_points_complete(tmp_path):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    try:
        pids = list(client.run(os.getpid).values())
        grid = Grid((("beta", (0.4, 0.6, 0.8, 1.0, 1.2, 1.4)), ("kappa", (5.0,))))
        out = tmp_path / "dk"
        results = {}

        def go():
            results["res"] = run_sweep(
                "speedup",
                grid,
                fixed=SLOW,
                seed=1,
                out=out,
                executor="dask",
                scheduler=cluster.scheduler_address,
            )

        th = threading.Thread(target=go)
        th.start()
        _wait_for_points(out, 1)
        os.kill(pids[0], signal.SIGKILL)  # the nanny restarts it; the scheduler reruns its task
        th.join(timeout=300)
        assert not th.is_alive()
        res = results["res"]
        assert res.n_failed == 0 and (res.dataset["status"].values == "ok").all()
        assert len(list((out / "points").glob("p_*.json"))) == 6
    finally:
        client.close()
        cluster.close()


def test_sampled_evolve_over_executor_is_bit_identical():
    from concurrent.futures import ThreadPoolExecutor

    from eplt.baths import BrownianNoise, Drive, Environment, qubit_hamiltonian, thermal_bath
    from eplt.baths.protocols import gellmann_basis
    from eplt.dynamics import Sampled, evolve
    from eplt.dynamics.states import phi_plus

    G = gellmann_basis(2)
    proc = BrownianNoise(kappa=1.0, channels=3, name="drive")
    H = qubit_hamiltonian(1.0)
    env = Environment(
        (2, 2),
        [
            Drive(proc, 0, G),
            Drive(proc, 1, G, conjugate=True),
            thermal_bath(0, H, 1.0, rate=1.0),
            thermal_bath(1, H, 1.0, rate=1.0),
        ],
    )
    t = np.linspace(0, 0.5, 3)
    a = evolve(phi_plus(), env, t, method=Sampled(ntraj=96, groups=8), seed=9)
    with ThreadPoolExecutor(3) as ex:
        b = evolve(phi_plus(), env, t, method=Sampled(ntraj=96, groups=8), seed=9, executor=ex)
    for k in a.expect:
        np.testing.assert_array_equal(a.expect[k], b.expect[k])
        np.testing.assert_array_equal(a.stderr[k], b.stderr[k])


def test_sweep_figures_family_heat_map_units_and_log_axes():
    import matplotlib.pyplot as plt
    import xarray as xr
    from eplt.studies._sweep_plot import sweep_figures
    from eplt.studies.params import Param

    params = (Param("beta", 1.0, "float", "", "1/omega"), Param("kappa", 1.0, "float", "", "r"))
    beta, kappa = np.linspace(0.5, 6, 8), np.array([1.0, 10.0, 100.0])
    val = np.outer(1 / beta, np.log(kappa) + 1)
    ds = xr.Dataset({"speedup": (("beta", "kappa"), val)}, coords={"beta": beta, "kappa": kappa})
    # three kappa values: one curve per kappa over beta (linear axis), units in labels
    ax = sweep_figures(ds, "speedup", params)["sweep_speedup"].axes[0]
    assert len(ax.get_lines()) == 3
    np.testing.assert_allclose(ax.get_lines()[2].get_ydata(), val[:, 2])
    assert ax.get_xlabel() == r"$\beta$ [$1/\omega$]" and ax.get_xscale() == "linear"
    assert ax.get_legend().get_title().get_text() == r"$\kappa$ [$r$]"
    # seven kappa values spanning two decades: a heat map with a logarithmic kappa axis
    kappa7 = np.array([1.0, 2, 5, 10, 20, 50, 100])
    ds7 = xr.Dataset(
        {"speedup": (("beta", "kappa"), np.outer(1 / beta, kappa7))},
        coords={"beta": beta, "kappa": kappa7},
    )
    fig = sweep_figures(ds7, "speedup", params)["sweep_speedup"]
    ax = fig.axes[0]
    assert not ax.get_lines() and ax.collections
    assert ax.get_xlabel() == r"$\kappa$ [$r$]" and ax.get_xscale() == "log"
    assert ax.get_ylabel() == r"$\beta$ [$1/\omega$]"
    plt.close("all")


def test_aggregate_decodes_infinities_and_ignores_other_strings(tmp_path):
    from eplt.studies._checkpoints import write_checkpoint
    from eplt.studies.sweep import aggregate

    grid = Grid((("beta", (1.0, 2.0, 3.0)),))
    (tmp_path / "points").mkdir()
    values = [1.5, "inf", "not a number"]
    for i, v in enumerate(values):
        rec = {"status": "ok", "error": "", "summary": {"x": v, "d": {"y": i}}, "seconds": 0.1}
        write_checkpoint(tmp_path, {**rec, "index": [i]})
    ds = aggregate(tmp_path, grid)
    np.testing.assert_array_equal(ds["x"].values, [1.5, np.inf, np.nan])
    np.testing.assert_array_equal(ds["d.y"].values, [0.0, 1.0, 2.0])

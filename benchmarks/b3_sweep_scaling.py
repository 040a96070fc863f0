"""B3: scaling of a parameter sweep over executors (issue: sweeps beyond one machine).

A sweep of the ``speedup`` study over an 8 x 8 grid of (beta, kappa) = 64 points (each
point a full study run at reduced resolution, ~0.5-1 s), timed with

* ``processes`` with 1 worker and with 2 workers,
* ``serial`` and a Dask ``LocalCluster`` with 2 worker processes.

Target on a 2-core machine: >= 1.6x for 2 workers over 1, and for Dask(2) over serial.
All runs must give the same dataset (checked bit for bit). Times include starting the
workers. The executors run interleaved (serial, processes 1, processes 2, Dask 2, then
again), best of ``--repeats`` rounds; CPU time counts this process and every worker
process once it has been shut down (``benchmarks/_timing.py``). For a parallel executor
the wall-time ratio is the user-visible speed-up; the CPU ratio shows the overhead
(workers importing qutip and cvxpy, ~2-4 s of CPU each, serialisation).

Run: ``python benchmarks/b3_sweep_scaling.py [--quick]``. Last line: a JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from _timing import interleaved
from eplt.studies.sweep import Grid, run_sweep

FIXED = {"n_times": 101, "n_beta": 10, "kappa_ratios": (10.0,), "beta_max": 8.0}


def sweep(label, grid, out, **kw):
    res = run_sweep("speedup", grid, fixed=FIXED, seed=0, out=out, **kw)
    assert res.n_failed == 0, label
    return res.dataset


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="16 points instead of 64")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds (best of)")
    args = ap.parse_args()
    n = 4 if args.quick else 8
    grid = Grid(
        (
            ("beta", tuple(np.round(np.linspace(0.5, 4.0, n), 6))),
            ("kappa", tuple(np.round(np.geomspace(2, 50, n), 6))),
        )
    )
    tmp = Path(tempfile.mkdtemp(prefix="eplt-b3-"))
    runs = itertools.count()
    try:
        kinds = {
            "serial": {"executor": "serial"},
            "processes_1": {"executor": "processes", "workers": 1},
            "processes_2": {"executor": "processes", "workers": 2},
        }
        try:
            import distributed  # noqa: F401

            kinds["dask_2"] = {"executor": "dask", "workers": 2}
        except ImportError:
            print("dask.distributed not installed: skipping the Dask row")
        contenders = {
            k: (lambda k=k, kw=kw: sweep(k, grid, tmp / f"{k}-{next(runs)}", **kw))
            for k, kw in kinds.items()
        }
        timings, datasets = interleaved(contenders, repeats=args.repeats)
        ref = datasets["serial"]
        for k, ds in datasets.items():
            for v in ref.data_vars:
                if v != "seconds" and ref[v].dtype.kind == "f":
                    np.testing.assert_array_equal(ref[v].values, ds[v].values, err_msg=f"{k}: {v}")
        npts = int(np.prod(grid.shape))
        print(f"B3: sweep of {npts} points of `speedup` (each point {FIXED})")
        print(
            f"best of {args.repeats} interleaved rounds; CPU includes the worker processes;"
            f" load (1-min average) up to {max(t.load for t in timings.values()):.1f}"
        )
        print(f"{'executor':<14}{'wall s':>10}{'CPU s':>10}{'wall s / point':>16}")
        for k, t in timings.items():
            print(f"{k:<14}{t.wall:>10.2f}{t.cpu:>10.2f}{t.wall / npts:>16.3f}")
        pairs = {"processes_2_vs_1": ("processes_1", "processes_2")}
        if "dask_2" in timings:
            pairs["dask_2_vs_serial"] = ("serial", "dask_2")
        ratios = {}
        for name, (a, b) in pairs.items():
            ratios[name] = {
                "wall": timings[a].wall / timings[b].wall,
                "cpu": timings[a].cpu / timings[b].cpu,
            }
            print(
                f"{name}: wall {ratios[name]['wall']:.2f}x (target >= 1.6x),"
                f" CPU {ratios[name]['cpu']:.2f}x (< 1: the parallel run spends more CPU)"
            )
        print("all executors gave bit-identical datasets")
        print(
            json.dumps(
                {
                    "points": npts,
                    "timings": {k: t.as_dict() for k, t in timings.items()},
                    "speedup": {
                        k: {m: round(x, 3) for m, x in v.items()} for k, v in ratios.items()
                    },
                    "time_measure": "wall (user-visible) and CPU incl. workers, best of rounds",
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

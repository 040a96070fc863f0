"""B3: scaling of a parameter sweep over executors (issue: sweeps beyond one machine).

A sweep of the ``speedup`` study over an 8 x 8 grid of (beta, kappa) = 64 points (each
point a full study run at reduced resolution, ~0.5-1 s), timed with

* ``processes`` with 1 worker and with 2 workers,
* ``serial`` and a Dask ``LocalCluster`` with 2 worker processes.

Target on a 2-core machine: >= 1.6x for 2 workers over 1, and for Dask(2) over serial.
All runs must give the same dataset (checked bit for bit). Times include starting the
workers (the user-visible wall time).

Run: ``python benchmarks/b3_sweep_scaling.py [--quick]``. Last line: a JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from eplt.studies.sweep import Grid, run_sweep

FIXED = {"n_times": 101, "n_beta": 10, "kappa_ratios": (10.0,), "beta_max": 8.0}


def timed(label, grid, out, **kw):
    t0 = time.perf_counter()
    res = run_sweep("speedup", grid, fixed=FIXED, seed=0, out=out, **kw)
    dt = time.perf_counter() - t0
    assert res.n_failed == 0, label
    return dt, res.dataset


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="16 points instead of 64")
    args = ap.parse_args()
    n = 4 if args.quick else 8
    grid = Grid(
        (
            ("beta", tuple(np.round(np.linspace(0.5, 4.0, n), 6))),
            ("kappa", tuple(np.round(np.geomspace(2, 50, n), 6))),
        )
    )
    tmp = Path(tempfile.mkdtemp(prefix="eplt-b3-"))
    try:
        rows = {}
        rows["serial"] = timed("serial", grid, tmp / "serial", executor="serial")
        rows["processes_1"] = timed(
            "processes_1", grid, tmp / "p1", executor="processes", workers=1
        )
        rows["processes_2"] = timed(
            "processes_2", grid, tmp / "p2", executor="processes", workers=2
        )
        try:
            import distributed  # noqa: F401

            rows["dask_2"] = timed("dask_2", grid, tmp / "d2", executor="dask", workers=2)
        except ImportError:
            print("dask.distributed not installed: skipping the Dask row")
        ref = rows["serial"][1]
        for k, (_, ds) in rows.items():
            for v in ref.data_vars:
                if v != "seconds" and ref[v].dtype.kind == "f":
                    np.testing.assert_array_equal(ref[v].values, ds[v].values, err_msg=f"{k}: {v}")
        npts = int(np.prod(grid.shape))
        print(f"B3: sweep of {npts} points of `speedup` (each point {FIXED})")
        print(f"{'executor':<14}{'wall time (s)':>14}{'s / point':>12}")
        for k, (dt, _) in rows.items():
            print(f"{k:<14}{dt:>14.2f}{dt / npts:>12.3f}")
        ratios = {"processes_2_vs_1": rows["processes_1"][0] / rows["processes_2"][0]}
        if "dask_2" in rows:
            ratios["dask_2_vs_serial"] = rows["serial"][0] / rows["dask_2"][0]
        for k, v in ratios.items():
            print(f"{k}: {v:.2f}x (target >= 1.6x)")
        print("all executors gave bit-identical datasets")
        print(
            json.dumps(
                {
                    "points": npts,
                    "seconds": {k: round(v[0], 3) for k, v in rows.items()},
                    "speedup": {k: round(v, 3) for k, v in ratios.items()},
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

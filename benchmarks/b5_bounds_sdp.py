"""B5: CPU time of the PPT overlap SDP (``sdp_bound``) for d = 3, 4, 5 with BLAS limited to
one thread (as inside eplt) against the default BLAS threading, interleaved, best of 3.

``sdp_bound`` limits BLAS to one thread around the solver (``eplt.dynamics._symsdp.
one_blas_thread``); the "threads" variant patches that limit out for the measurement only.
CPU time (``time.process_time``) is the primary figure; wall time and the load average are
printed beside it. Also times one DPS level-2 bound and one three-qubit PPT bound.

Run: ``python benchmarks/b5_bounds_sdp.py [--dims 3 4 5]``. Last line: a JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time

import numpy as np
import qutip
from eplt.baths import thermal_state
from eplt.dynamics import _symsdp, bounds
from eplt.dynamics.dps import dps2_bound, three_party_bound


def _tau(d: int):
    return thermal_state(qutip.Qobj(np.diag(np.arange(d, dtype=float))), 1.0)


def _timed(f):
    c0, w0 = time.process_time(), time.perf_counter()
    out = f()
    return time.process_time() - c0, time.perf_counter() - w0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dims", type=int, nargs="+", default=[3, 4, 5])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    real = _symsdp.one_blas_thread
    rows = {}
    for d in args.dims:
        tau = _tau(d)
        best = {"one_thread": [np.inf, np.inf], "threads": [np.inf, np.inf]}
        for _ in range(args.repeats):
            for label in ("one_thread", "threads"):
                _symsdp.one_blas_thread = real if label == "one_thread" else contextlib.nullcontext
                c, w, res = _timed(lambda tau=tau: bounds.sdp_bound(tau, tau))
                best[label] = [min(best[label][0], c), min(best[label][1], w)]
        _symsdp.one_blas_thread = real
        rows[d] = {
            **{f"{k}_cpu_s": v[0] for k, v in best.items()},
            **{f"{k}_wall_s": v[1] for k, v in best.items()},
            "cpu_ratio": best["threads"][0] / best["one_thread"][0],
            "value": res.dual_value,
            "blocks": max(res.block_sizes),
        }
        print(f"d={d}: {rows[d]}  load {os.getloadavg()}", flush=True)
    t = lambda p: qutip.Qobj(np.diag([1 - p, p]))  # noqa: E731
    c, w, r = _timed(lambda: dps2_bound(t(0.2689414213699951), t(0.3775406687981454)))
    rows["dps2_qubits"] = {"cpu_s": c, "wall_s": w, "value": r.dual_value}
    c, w, r = _timed(lambda: three_party_bound([t(0.3), t(0.2), t(0.2)]))
    rows["ppt3_qubits"] = {"cpu_s": c, "wall_s": w, "value": r.dual_value}
    rows["loadavg"] = os.getloadavg()
    print(json.dumps({str(k): v for k, v in rows.items()}))


if __name__ == "__main__":
    main()

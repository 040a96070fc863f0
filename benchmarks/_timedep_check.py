"""Time-dependent local terms against qutip.mesolve (issue 19, part 1).

n = 2..6 qubits, each with its own thermal bath (generalized amplitude damping) and a
drive ``QobjEvo([H0, [H1, cos(1.3 t)]])`` (the batched Magnus integrator), and one damped
cavity of d = 10, 20, 40 levels driven by ``cos(1.3 t) (a + a^dag)/2`` (qutip's integrator);
201 or 1000 output times on [0, 10]; the e_ops are sigma_z on every qubit, the cavity's
photon number. eplt and mesolve run interleaved in the same process,
best of 3 in CPU time (``time.process_time``; no work is spawned), wall time and the load
average beside. Accuracy of both is measured against a tight reference, mesolve at
atol = rtol = 1e-12 (largest absolute error of any <sigma_z> at any time).

Two matched pairs, the same options on both sides (the errors of all four are printed so
the accuracy can be compared): ``Exact(atol=1e-8, rtol=1e-6)`` against mesolve's defaults
(atol 1e-8, rtol 1e-6), and ``Exact(atol=1e-10, rtol=1e-10)`` against mesolve at
atol = rtol = 1e-10. For the qubits (batched Magnus) the error measure differs (each
party's propagator over each output interval, largest entry, see
``eplt.dynamics.exact.Exact``); for the cavity eplt runs qutip's own integrator with those
options. Ratios are mesolve CPU / eplt CPU (> 1: eplt faster).

Usage: ``python benchmarks/_timedep_check.py [--quick]``. Prints a table and one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from functools import partial

import numpy as np
import qutip
from eplt.baths import Environment, lindblad
from eplt.dynamics import Exact, evolve

W, G, NBAR = 1.3, 0.3, 0.2


def _model(n):
    sz, sx, a = qutip.sigmaz(), qutip.sigmax(), qutip.destroy(2)
    H0, H1 = 0.5 * sz, 0.4 * sx
    c_ops = [np.sqrt(G * (NBAR + 1)) * a, np.sqrt(G * NBAR) * a.dag()]
    psi = (qutip.basis(2, 0) + 0.6 * qutip.basis(2, 1)).unit()
    rho0 = qutip.tensor([psi] * n)
    terms = [
        lindblad(k, qutip.QobjEvo([H0, [H1, lambda t: np.cos(W * t)]]), c_ops) for k in range(n)
    ]
    eye = qutip.qeye(2)

    def emb(op, k):
        return qutip.tensor([op if j == k else eye for j in range(n)])

    Hj = qutip.QobjEvo(
        [sum(emb(H0, k) for k in range(n)), [sum(emb(H1, k) for k in range(n)), "cos(1.3*t)"]]
    )
    cj = [emb(c, k) for k in range(n) for c in c_ops]
    e_ops = [emb(sz, k) for k in range(n)]
    return Environment((2,) * n, terms), rho0, Hj, cj, e_ops


def _cavity(d):
    """One damped cavity of d levels driven by cos(1.3 t) (x + x^dag)/2 (issue 19, b5 (a))."""
    a = qutip.destroy(d)
    n = a.dag() * a
    H = [n, [0.5 * (a + a.dag()), lambda t: np.cos(W * t)]]
    c_ops = [np.sqrt(0.2) * a]
    return Environment((d,), [lindblad(0, H, c_ops)]), qutip.basis(d, 0), H, c_ops, [n]


def _cpu(f):
    c0, w0 = time.process_time(), time.perf_counter()
    out = f()
    return time.process_time() - c0, time.perf_counter() - w0, out


def _eplt(rho0, env, t, e_ops, tol):
    return evolve(rho0, env, t, e_ops=e_ops, method=Exact(**tol))


def _mesolve(H, rho0, t, c_ops, e_ops, tol):
    return qutip.mesolve(H, rho0, t, c_ops, e_ops=e_ops, options=tol)


#: mesolve's defaults, and a tight setting
LOOSE, TIGHT = {"atol": 1e-8, "rtol": 1e-6}, {"atol": 1e-10, "rtol": 1e-10}
#: (label, runner, options): two matched pairs, the same atol/rtol on both sides
RUNS = (
    ("eplt default", _eplt, LOOSE),
    ("mesolve default", _mesolve, LOOSE),
    ("eplt 1e-10", _eplt, TIGHT),
    ("mesolve 1e-10", _mesolve, TIGHT),
)


def main(quick=False):
    rows = []
    ns = [2, 3] if quick else [2, 3, 4, 5, 6]
    nts = [201] if quick else [201, 1000]
    cases = [(f"{n} qubits", _model(n)) for n in ns]
    cases += [(f"cavity d={d}", _cavity(d)) for d in ([10] if quick else [10, 20, 40])]
    head = " | ".join(f"{lab:>15}" for lab, _, _ in RUNS)
    print(f"CPU s (error vs mesolve 1e-12)\n{'case':>12} {'T':>5} | {head} | ratios | load")
    for label, (env, rho0, Hj, cj, e_ops) in cases:
        n = len(e_ops)
        for nt in nts:
            t = np.linspace(0, 10, nt)
            ref = np.array(_mesolve(Hj, rho0, t, cj, e_ops, {"atol": 1e-12, "rtol": 1e-12}).expect)
            best = {lab: (np.inf, np.inf) for lab, _, _ in RUNS}
            out = {}
            for _ in range(3):  # interleaved, best of 3
                for lab, run, tol in RUNS:
                    if run is _eplt:
                        c, w, o = _cpu(partial(run, rho0, env, t, e_ops, tol))
                    else:
                        c, w, o = _cpu(partial(run, Hj, rho0, t, cj, e_ops, tol))
                    best[lab] = (min(best[lab][0], c), min(best[lab][1], w))
                    out[lab] = o
            err = {
                k: float(np.abs(np.real(np.array([o.expect[i] for i in range(n)])) - ref).max())
                for k, o in out.items()
            }
            load = os.getloadavg()[0]
            r_loose = best["mesolve default"][0] / best["eplt default"][0]
            r_tight = best["mesolve 1e-10"][0] / best["eplt 1e-10"][0]
            cells = " | ".join(f"{best[lab][0]:>6.4f} ({err[lab]:.0e})" for lab, _, _ in RUNS)
            print(f"{label:>12} {nt:>5} | {cells} | {r_loose:.2f} {r_tight:.2f} | {load:.1f}")
            rows.append(
                {
                    "case": label,
                    "times": nt,
                    "cpu": {k: v[0] for k, v in best.items()},
                    "wall": {k: v[1] for k, v in best.items()},
                    "error_vs_mesolve_1e-12": err,
                    "ratio_mesolve_over_eplt": {"loose": r_loose, "tight": r_tight},
                    "load1": load,
                }
            )
    print(json.dumps({"benchmark": "timedep_check", "rows": rows}))


if __name__ == "__main__":
    main("--quick" in sys.argv)

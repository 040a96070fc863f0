r"""B5: QuTiP users' models against ``qutip.mesolve`` (and dynamiqs when installed).

Cases (``tlist`` of 201 or 1000 equally spaced times):

(a) one damped, driven cavity, ``N = 10, 20, 40, 80`` levels on ``[0, 10]``:
    ``H = a^dag a + 0.3 (a + a^dag)`` (constant) or ``a^dag a + 0.3 cos(1.3 t)(a + a^dag)``
    (``cos``), collapse operators ``sqrt(0.5 (1 + 0.2)) a``, ``sqrt(0.5 * 0.2) a^dag``;
    ``rho0 = |0><0|``; observable ``a^dag a``.
(b) ``n = 2..6`` qubits on ``[0, 5]``, each with a thermal bath (``nbar = 0.5``, ``G = 1``) and
    a ``QobjEvo`` drive ``0.5 sigma_z + 0.4 cos(1.3 t) sigma_x``; ``rho0 = |+>^n``; observables
    ``sigma_x`` of every qubit. 201 and 1000 times.

For every case but the largest qudits (``d > MATCHED_QUDITS_MAX``, where one mesolve run
takes seconds to minutes and eplt is 15-40x faster at any tolerance)
mesolve is also run at the loosest tolerance of :data:`LADDER` whose error against the
reference is no larger than eplt's, interleaved with eplt again: ``ratio_matched`` = that
run's CPU / eplt's CPU (the comparison at matched accuracy). When no rung is as accurate
as eplt, the tightest is timed and the ratio is marked a lower bound.
(c) two qudits ``d = 2..10`` on ``[0, 2]``: thermal (Davies) baths at ``beta = 1`` on
    ``H = diag(0..d-1)`` (relaxation rate 0.5) and a shared ``U (x) U*`` Brownian drive on the
    ``d^2 - 1`` generalized Gell-Mann matrices (kappa = 1), exact method; ``rho0 = Phi+``;
    observable ``|Phi+><Phi+|``. mesolve gets the same model as ``H = 0`` and ``c_ops``
    (Davies jumps of each qudit, the averaged drive's ``sqrt(kappa)(G (x) I - I (x) G^*)``),
    so both timings include building the generator.
(d) two cavities of 20 levels on ``[0, 5]``, damped at their own temperatures (``nth = 0.1``
    and ``0.4``, rate 0.5), ``H = n_A + n_B``, a shared random phase drive ``xi(t) n`` on A and
    ``-xi(t) n`` on B (Brownian, kappa = 0.3; averaged jump ``sqrt(kappa)(n_A - n_B)``, a
    non-local generator); ``rho0 = |+>|+>`` with ``|+> = (|0> + |1>)/sqrt(2)``; observables
    ``n_A``, ``n_B``, ``x_A x_B``.

Measured, per case and in the same run: CPU time (``time.process_time``, best of 3, eplt and
mesolve interleaved run by run; small cases best of up to 30, about ``REPEAT_SECONDS`` of
mesolve's tight runs) as the primary figure, wall time beside it and the load
average (``os.getloadavg``) at the start of the case; the error of each (max abs difference
of the observables over all times) against a reference: for the time-independent cases
(constant cavity, qudits, two cavities) the exact solution (``expm_multiply`` on QuTiP's
Liouvillian, :func:`exact_reference`), for the time-dependent ones mesolve at
:data:`REFERENCE` (``atol = 1e-15, rtol = 1e-13``). mesolve at ``atol = 1e-12,
rtol = 1e-10`` (``TIGHT``) was the reference until round 4; its own error (printed as
``tight``) is up to ~2e-12, as large as or larger than eplt's on the time-independent
cases, so eplt's errors read against it were its errors. ``ratio`` = mesolve CPU / eplt
CPU at mesolve's default tolerances (best against best; ``ratio_pairwise``: the median
over the interleaved pairs of one eplt and one mesolve run, which share the machine's
state of the moment), ``ratio_tight`` = mesolve's CPU at ``TIGHT`` / eplt CPU; peak
memory of one more run of each (``tracemalloc``, Python and numpy allocations) beside
eplt's own estimate (``Result.params['method']['memory_estimate_bytes']`` for the exact
method's time-independent stages).

Usage (repository root)::

    python benchmarks/b5_qutip_models.py            # everything (~10 min on a loaded 2-core VM)
    python benchmarks/b5_qutip_models.py --quick    # smallest size of each case
    python benchmarks/b5_qutip_models.py --cases a c

The last line printed is one JSON object with every row. No assertions: targets are
printed, not enforced.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import tracemalloc

import numpy as np
import qutip
import scipy.sparse.linalg as spla
from eplt.baths import BrownianNoise, Drive, Environment, lindblad, thermal_bath
from eplt.dynamics import evolve
from eplt.dynamics._memory import MemoryLimitError
from eplt.dynamics.states import phi_plus

REPEATS = 3
#: Small cases are repeated until about this much CPU time of mesolve (tight), at most
#: REPEATS_MAX times: the best of 3 of a run of a few ms moves with the machine's drift.
REPEAT_SECONDS = 0.3
REPEATS_MAX = 30
#: Largest cavity run with the cos drive by default (the local terms of parties with
#: ``d^2 > 256`` are stored sparse, so N = 80 fits).
TIMEDEP_CAVITY_MAX = 80
TIGHT = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**8}
#: mesolve's tolerances from its default to beyond TIGHT, for the matched-accuracy
#: comparison: the loosest rung whose error against the reference is no larger than
#: eplt's is timed against eplt (no rung: the tightest, and the ratio is a lower bound).
LADDER = [
    (1e-8, 1e-6), (1e-9, 1e-7), (1e-10, 1e-8), (1e-11, 1e-9), (1e-12, 1e-10),
    (1e-13, 1e-11), (1e-14, 1e-12),
]  # fmt: skip
#: The reference of the time-dependent cases (mesolve at TIGHT has errors of ~1e-12, as
#: large as eplt's on several cases; at these tolerances ~4e-15 on the N = 20 cavity).
#: Time-independent cases are compared with the exact solution (:func:`exact_reference`).
REFERENCE = {"atol": 1e-15, "rtol": 1e-13, "nsteps": 10**8}
#: Output times per ``expm_multiply`` call of the exact reference (bounds its memory).
EXACT_CHUNK = 21


#: Largest qudit dimension of case (c) with the matched-accuracy ladder.
MATCHED_QUDITS_MAX = 6


def _cos(t):
    return np.cos(1.3 * t)


# --------------------------------------------------------------------------- models
def cavity_case(N: int, drive: str, T: int = 201):
    a = qutip.destroy(N)
    H0 = a.dag() * a
    H1 = 0.3 * (a + a.dag())
    c_ops = [math.sqrt(0.5 * 1.2) * a, math.sqrt(0.5 * 0.2) * a.dag()]
    H = H0 + H1 if drive == "constant" else [H0, [H1, _cos]]
    env = Environment((N,), [lindblad(0, H, c_ops)])
    return dict(
        H=H, c_ops=c_ops, env=env, rho0=qutip.fock_dm(N, 0),
        tlist=np.linspace(0, 10, T), e_ops=[a.dag() * a], exact=drive == "constant",
    )  # fmt: skip


def qubits_case(n: int, T: int):
    sm = qutip.destroy(2)
    nbar, G = 0.5, 1.0
    h0, h1 = 0.5 * qutip.sigmaz(), 0.4 * qutip.sigmax()
    terms, Hs, c_ops, e_ops = [], [], [], []

    def at(op, k):
        ops = [qutip.qeye(2)] * n
        ops[k] = op
        return qutip.tensor(ops)

    for k in range(n):
        terms.append(lindblad(k, [h0, [h1, _cos]]))
        terms.append(thermal_bath(k, qutip.Qobj(np.diag([0.0, 1.0])), nbar=nbar, rate=G))
        Hs.append(at(h0, k))
        Hs.append([at(h1, k), _cos])
        c_ops += [math.sqrt(G * (nbar + 1)) * at(sm, k), math.sqrt(G * nbar) * at(sm.dag(), k)]
        e_ops.append(at(qutip.sigmax(), k))
    H0 = sum(h for h in Hs if not isinstance(h, list))
    H = [H0] + [h for h in Hs if isinstance(h, list)]
    plus = (qutip.basis(2, 0) + qutip.basis(2, 1)).unit()
    rho0 = qutip.ket2dm(qutip.tensor([plus] * n))
    env = Environment((2,) * n, terms)
    return dict(H=H, c_ops=c_ops, env=env, rho0=rho0, tlist=np.linspace(0, 5, T), e_ops=e_ops)


def gellmann(d: int) -> list[np.ndarray]:
    """The ``d^2 - 1`` generalized Gell-Mann matrices, normalised ``Tr(G_i G_j) = delta_ij``."""
    out = []
    for i in range(d):
        for j in range(i + 1, d):
            m = np.zeros((d, d), complex)
            m[i, j] = m[j, i] = 1
            out.append(m / math.sqrt(2))
            m = np.zeros((d, d), complex)
            m[i, j], m[j, i] = -1j, 1j
            out.append(m / math.sqrt(2))
    for k in range(1, d):
        m = np.zeros((d, d), complex)
        m[np.arange(k), np.arange(k)] = 1
        m[k, k] = -k
        out.append(m / math.sqrt(k * (k + 1)))
    return out


def qudits_case(d: int):
    E = np.arange(d, dtype=float)
    H = qutip.Qobj(np.diag(E))
    kappa, r = 1.0, 0.5
    proc = BrownianNoise(kappa=kappa, channels=d * d - 1, name="drive")
    gm = gellmann(d)
    env = Environment(
        (d, d),
        [
            thermal_bath(0, H, 1.0, relaxation_rate=r),
            thermal_bath(1, H, 1.0, relaxation_rate=r),
            Drive(proc, 0, gm),
            Drive(proc, 1, gm, conjugate=True),
        ],
    )
    # the same model as a QuTiP user writes it: Davies jumps |i><j| between every pair of
    # levels (total rate r, detailed balance at beta = 1) on each qudit, and the averaged
    # shared drive sqrt(kappa) (G (x) I - I (x) G^*) for every generator
    p = np.exp(-E) / np.exp(-E).sum()
    eye = qutip.qeye(d)
    c_ops = []
    for i in range(d):
        for j in range(i + 1, d):
            down = qutip.basis(d, i) * qutip.basis(d, j).dag()
            s = p[i] + p[j]
            for op in (math.sqrt(r * p[i] / s) * down, math.sqrt(r * p[j] / s) * down.dag()):
                c_ops += [qutip.tensor(op, eye), qutip.tensor(eye, op)]
    for G in gm:
        Gq = qutip.Qobj(G)
        c_ops.append(math.sqrt(kappa) * (qutip.tensor(Gq, eye) - qutip.tensor(eye, Gq.conj())))
    phi = phi_plus(d)
    return dict(
        H=qutip.tensor(qutip.qzero(d), qutip.qzero(d)), c_ops=c_ops, env=env, rho0=phi,
        tlist=np.linspace(0, 2, 201), e_ops=[phi], exact=True,
    )  # fmt: skip


def two_cavities_case(N: int = 20):
    a = qutip.destroy(N)
    n = a.dag() * a
    eye = qutip.qeye(N)
    A, B = qutip.tensor(a, eye), qutip.tensor(eye, a)
    nA, nB = A.dag() * A, B.dag() * B
    kappa, gam = 0.3, 0.5
    c_ops = [math.sqrt(kappa) * (nA - nB)]
    for X, nth in ((A, 0.1), (B, 0.4)):
        c_ops += [math.sqrt(gam * (nth + 1)) * X, math.sqrt(gam * nth) * X.dag()]
    proc = BrownianNoise(kappa=kappa, channels=1, name="phase")
    local = [
        lindblad(0, n, [math.sqrt(gam * 1.1) * a, math.sqrt(gam * 0.1) * a.dag()]),
        lindblad(1, n, [math.sqrt(gam * 1.4) * a, math.sqrt(gam * 0.4) * a.dag()]),
    ]
    env = Environment(
        (N, N), [*local, Drive(proc, 0, [n.full()]), Drive(proc, 1, [n.full()], conjugate=True)]
    )
    plus = (qutip.basis(N, 0) + qutip.basis(N, 1)).unit()
    rho0 = qutip.ket2dm(qutip.tensor(plus, plus))
    xA, xB = A + A.dag(), B + B.dag()
    return dict(
        H=nA + nB, c_ops=c_ops, env=env, rho0=rho0,
        tlist=np.linspace(0, 5, 201), e_ops=[nA, nB, xA * xB], exact=True,
    )  # fmt: skip


# --------------------------------------------------------------------------- timing
def _cpu(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def _interleaved(reps: int, run_a, run_b):
    """``reps`` runs of ``run_a`` and ``run_b`` in turn: the best (CPU, wall) of each, the
    ratios ``b / a`` of CPU per back-to-back pair, and the last results."""
    best_a = best_b = (math.inf, math.inf)
    pairs, out_a, out_b = [], None, None
    for _ in range(reps):
        out_a, ca, wa = _cpu(run_a)
        out_b, cb, wb = _cpu(run_b)
        best_a, best_b = min(best_a, (ca, wa)), min(best_b, (cb, wb))
        pairs.append(cb / max(ca, 1e-9))
    return best_a, best_b, pairs, out_a, out_b


def _peak(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return float(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def _values(expect) -> np.ndarray:
    return np.stack([np.asarray(expect[k] if isinstance(expect, dict) else expect[i])
                     for i, k in enumerate(expect if isinstance(expect, dict) else range(len(expect)))])  # fmt: skip


def exact_reference(case: dict) -> np.ndarray:
    """The observables of a time-independent case from the exact solution, independent
    of eplt and of mesolve's integrator: ``scipy.sparse.linalg.expm_multiply`` on QuTiP's
    own Liouvillian (column stacking), a chunk of equally spaced output times per call."""
    L = qutip.liouvillian(case["H"], case["c_ops"]).to("csr").data_as("csr_matrix")
    tlist = np.asarray(case["tlist"], dtype=float)
    h = float(tlist[1] - tlist[0])
    assert np.allclose(np.diff(tlist), h, rtol=1e-12, atol=0), "equally spaced times"
    # Tr(A rho) = sum_ij A_ij rho_ji = (A raveled by rows) . vec(rho) (columns stacked)
    W = np.stack([np.asarray(A.full()).ravel() for A in case["e_ops"]])
    herm = [A.isherm for A in case["e_ops"]]
    v = case["rho0"].full().ravel(order="F").astype(complex)
    out, i = [], 0
    while i < tlist.size:
        k = min(EXACT_CHUNK, tlist.size - i)
        if tlist.size - i - k == 1:  # no one-point chunk (expm_multiply needs two points)
            k += 1
        if i == 0:
            Y = spla.expm_multiply(L, v, start=0.0, stop=h * (k - 1), num=k, endpoint=True)
        else:  # from the last state of the previous chunk
            Y = spla.expm_multiply(L, v, start=h, stop=h * k, num=k, endpoint=True)
        out.append(Y @ W.T)
        v = Y[-1]
        i += k
    vals = np.concatenate(out).T
    return np.stack([vals[j].real if herm[j] else vals[j] for j in range(len(herm))])


def measure(label: str, case: dict, *, matched: bool = False) -> dict:
    H, c_ops, env, rho0, tlist, e_ops = (
        case[k] for k in ("H", "c_ops", "env", "rho0", "tlist", "e_ops")
    )
    load = os.getloadavg()[0]

    def run_eplt():
        return evolve(rho0, env, tlist, e_ops=e_ops)

    def run_me(opts=None):
        return qutip.mesolve(H, rho0, tlist, c_ops, e_ops=e_ops, options=opts or {})

    # mesolve at TIGHT (the reference tolerance): timed, and one rung of LADDER
    tight, ref_cpu, ref_wall = _cpu(lambda: run_me(TIGHT))
    if case.get("exact"):
        ref_kind = "exact (expm_multiply)"
        ref_vals = exact_reference(case)
    else:
        ref_kind = f"mesolve atol {REFERENCE['atol']:g}, rtol {REFERENCE['rtol']:g}"
        ref_vals = _values(run_me(REFERENCE).expect)
    # small cases: more interleaved repeats (a few-ms run's best of 3 moves with the
    # machine's drift); about REPEAT_SECONDS of mesolve at its tight tolerance, 3 to 30
    reps = int(min(REPEATS_MAX, max(REPEATS, REPEAT_SECONDS // max(ref_cpu, 1e-6))))
    # interleaved; pairs: mesolve / eplt CPU of each back-to-back pair (one machine state)
    best_e, best_m, pairs, res, me = _interleaved(reps, run_eplt, run_me)
    best = {"eplt": best_e, "mesolve": best_m, "tight": (ref_cpu, ref_wall)}
    _, c, w = _cpu(lambda: run_me(TIGHT))
    best["tight"] = min(best["tight"], (c, w))
    e_vals = np.stack([np.asarray(res.expect[i]) for i in range(len(e_ops))])
    err_eplt = float(np.abs(e_vals - ref_vals).max())
    err_me = float(np.abs(_values(me.expect) - ref_vals).max())
    err_tight = float(np.abs(_values(tight.expect) - ref_vals).max())
    match = None
    if matched:  # mesolve at the loosest tolerance as accurate as eplt (see LADDER)
        for atol, rtol in LADDER:
            opts = {"atol": atol, "rtol": rtol, "nsteps": 10**8}
            if opts == TIGHT:  # run above
                err = err_tight
            else:
                err = float(np.abs(_values(run_me(opts).expect) - ref_vals).max())
            last = (atol, rtol) == LADDER[-1]
            if err <= err_eplt or last:
                # interleaved with eplt again (its own best); the last rung when none is
                # as accurate as eplt: the ratio is then a lower bound
                be, bm, mp, _, _ = _interleaved(reps, run_eplt, lambda opts=opts: run_me(opts))
                match = {"tol": [atol, rtol], "err": err, "cpu": bm[0], "eplt": be[0],
                         "pairs": mp, "lower_bound": err > err_eplt}  # fmt: skip
                break
    peak_eplt = _peak(run_eplt)
    peak_me = _peak(run_me)
    m = res.params["method"]
    row = {
        "case": label,
        "load": round(load, 2),
        "repeats": reps,
        "eplt_cpu": best["eplt"][0],
        "eplt_wall": best["eplt"][1],
        "mesolve_cpu": best["mesolve"][0],
        "mesolve_wall": best["mesolve"][1],
        "mesolve_tight_cpu": best["tight"][0],
        "ratio": best["mesolve"][0] / best["eplt"][0],
        "ratio_tight": best["tight"][0] / best["eplt"][0],
        "ratio_pairwise": float(np.median(pairs)),
        "reference": ref_kind,
        "err_eplt": err_eplt,
        "err_mesolve": err_me,
        "err_mesolve_tight": err_tight,
        "peak_eplt": peak_eplt,
        "peak_mesolve": peak_me,
        "estimate_eplt": m.get("memory_estimate_bytes"),
        "paths": [p["path"] for p in m.get("paths", [])],
    }
    if match is not None:
        row.update(
            mesolve_matched_tol=match["tol"],
            mesolve_matched_cpu=match["cpu"],
            err_mesolve_matched=match["err"],
            eplt_matched_cpu=match["eplt"],
            ratio_matched=match["cpu"] / match["eplt"],
            ratio_matched_pairwise=float(np.median(match["pairs"])),
            ratio_matched_is_lower_bound=match["lower_bound"],
        )
    td = m.get("timedep") or []
    if td:
        row["integrators"] = [
            "/".join(str(s[k]) for k in ("integrator", "ode_method") if k in s) for s in td
        ]
    est = row["estimate_eplt"]
    print(
        f"{label:<24} load {load:5.1f} best of {reps:2d}  eplt {row['eplt_cpu'] * 1e3:9.1f} ms"
        f" (wall {row['eplt_wall'] * 1e3:8.1f})  mesolve {row['mesolve_cpu'] * 1e3:9.1f} ms"
        f" (tight {row['mesolve_tight_cpu'] * 1e3:9.1f})  ratio {row['ratio']:6.2f}x"
        f" (tight {row['ratio_tight']:6.2f}x, pairwise {row['ratio_pairwise']:.2f}x)"
        f"  err eplt {err_eplt:.1e} mesolve {err_me:.1e} (tight {err_tight:.1e})"
        f"  peak eplt {peak_eplt / 2**20:7.1f} MiB mesolve {peak_me / 2**20:7.1f} MiB"
        f" estimate {'-' if est is None else f'{est / 2**20:.1f} MiB'}"
        f"  {'/'.join(row['paths'] or row.get('integrators', [])) or m['name']}",
        flush=True,
    )
    if match is not None:
        print(
            f"{'':<24} matched: mesolve at atol {match['tol'][0]:g}, rtol {match['tol'][1]:g}"
            f" (err {match['err']:.1e} {'>' if match['lower_bound'] else '<='} eplt's"
            f" {err_eplt:.1e}) {match['cpu'] * 1e3:9.1f} ms:"
            f" ratio {'>= ' if match['lower_bound'] else ''}{row['ratio_matched']:6.2f}x,"
            f" pairwise median {row['ratio_matched_pairwise']:.2f}x"
            f" (eplt {match['eplt'] * 1e3:.1f} ms in this loop); reference: {ref_kind}",
            flush=True,
        )
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smallest size of each case")
    ap.add_argument("--full", action="store_true", help="also the slow time-dependent sizes")
    ap.add_argument(
        "--cases", nargs="*", default=["a", "b", "c", "d"], choices=["a", "b", "c", "d"]
    )
    args = ap.parse_args(argv)
    print(f"B5 on {platform.node()}: python {platform.python_version()}, qutip {qutip.__version__},"
          f" numpy {np.__version__}; CPU times best of {REPEATS}-{REPEATS_MAX}, interleaved",
          flush=True)  # fmt: skip
    try:
        import dynamiqs  # noqa: F401

        print("dynamiqs: installed but not part of B5 yet (its time-independent solvers need"
              " a JAX compile per shape; see B1/B4 for the dynamiqs peer)")  # fmt: skip
    except ImportError:
        print("dynamiqs: not installed")
    rows = []

    def run(label, build, matched=False):
        try:
            rows.append(measure(label, build(), matched=matched))
        except (MemoryError, MemoryLimitError) as err:  # one line, then the next case
            msg = " ".join(str(err).split())
            print(f"{label}: not run ({type(err).__name__}: {msg})", flush=True)
            rows.append({"case": label, "not_run": f"{type(err).__name__}: {msg}"})

    for case in args.cases:  # in the order given
        if case == "a":
            for N in (10,) if args.quick else (10, 20, 40, 80):
                for drive in ("constant", "cos"):
                    if drive == "cos" and N > TIMEDEP_CAVITY_MAX and not args.full:
                        print(f"a cavity N={N} cos: not run (lindblad stores its terms as dense"
                              f" {N * N} x {N * N} superoperators, {N**4 * 16 / 1e6:.0f} MB"
                              " each, several per term; --full tries it)", flush=True)  # fmt: skip
                        continue
                    run(f"a cavity N={N} {drive}", lambda N=N, drive=drive: cavity_case(N, drive),
                        matched=True)  # fmt: skip
        elif case == "b":
            for T in (201,) if args.quick else (201, 1000):
                for n in (2,) if args.quick else (2, 3, 4, 5, 6):
                    run(f"b qubits n={n} T={T}", lambda n=n, T=T: qubits_case(n, T), matched=True)
        elif case == "c":
            for d in (2,) if args.quick else range(2, 11):
                run(f"c qudits d={d}", lambda d=d: qudits_case(d), matched=d <= MATCHED_QUDITS_MAX)
        else:
            N = 10 if args.quick else 20
            run(f"d two cavities N={N}", lambda N=N: two_cavities_case(N), matched=True)
    print(json.dumps({"benchmark": "b5_qutip_models", "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

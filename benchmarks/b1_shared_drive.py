r"""B1: two qubits, shared piecewise-constant random drive + local thermal damping.

Model
-----
* Initial state Phi+ (``eplt.dynamics.states.phi_plus()``).
* Generalized amplitude damping on each qubit:
  ``thermal_bath(k, qubit_hamiltonian(1.0), nbar=0.5, rate=1.0)`` (G = 1, nbar = 0.5).
* A shared random drive, piecewise constant on 20 segments of length 0.1 on [0, 2]:
  ``H_A(t) = sum_k c_k sigma_k`` on A and ``H_B(t) = -sum_k c_k sigma_k^*`` on B (so A gets
  U and B gets U^*), with i.i.d. coefficients ``c_k ~ N(0, kappa * 20 / 2)`` held for one
  segment, kappa = 5.

  Normalisation (chosen here): the generators are the bare Pauli matrices
  ``sigma_x, sigma_y, sigma_z`` (not ``sigma/sqrt(2)``), and the variance is
  ``kappa * 20 / 2 = kappa / segment = 50``. This is the piecewise-constant coarse
  graining of white noise of strength kappa, ``xi_k = sqrt(kappa) eta_k``, on the same
  generators (whose averaged correlated generator has jump operators
  ``sqrt(kappa)(sigma_k (x) I - I (x) sigma_k^*)``).
* 201 saved times on [0, 2]; ensemble of 10^4 realizations.

Measured
--------
(a) ``evolve(..., method=Sampled(ntraj=10_000), seed=SEED)``;
(b) qutip: one ``qutip.mesolve`` per realization on the full two-qubit system with step
    (order-0 array) coefficients, default options, timed on a subset of realizations and
    scaled to 10^4. The subset uses *the same* coefficients as realizations 0..N-1 of (a)
    (drawn through ``process.sample`` with ``realization_seed``), so the subset mean can
    be compared with ours realization by realization (integration error only), and
    with the full 10^4 ensemble in standard errors (sampling error).
    Caveat: qutip's adaptive ODE stepper does not know where the step coefficients
    jump; it crosses each discontinuity under error control only, so its accuracy at
    default tolerances (atol 1e-8, rtol 1e-6) is ~1e-6, not better. Splitting each
    realization into 20 mesolve calls (one per segment) is more accurate but slower.
(c) ``method=SegmentAveraged(nodes=...)`` (Gauss-Hermite over the three Gaussian
    coefficients of a segment): the smallest node count whose states agree with the next
    tried node count to 1e-10 (max abs over all entries and times), and its time.
(d) dynamiqs, if installed (``pip install -e .[bench]``; not a core dependency, it pulls
    in JAX): one ``dynamiqs.mesolve`` batched over all realizations, float64 on the CPU,
    default method (Tsit5, rtol = atol = 1e-6, steps clipped to the segment edges), the
    drive as ``dq.pwc`` on the 20 segments with *the same* coefficients as the 10^4
    realizations of (a). Timed twice: compile time (JAX's record of its compile stages in
    the first call; first - second beside it) reported separately, ``speedup_vs_dynamiqs``
    from the second (run-only) call. Its ensemble mean of ``phi_plus_overlap`` and ``p1_A``
    differs from (a) by its integration error only.
    See ``benchmarks/_dynamiqs_peer.py``.

Usage (from the repository root)::

    python benchmarks/b1_shared_drive.py          # full run (~2 min)
    python benchmarks/b1_shared_drive.py --quick  # smoke run, a few seconds

The last line printed is one JSON object with ``speedup_vs_qutip`` and
``speedup_vs_dynamiqs`` (each ``sampled``, ``segment``; the latter null without dynamiqs)
and the raw numbers. No assertions: targets are printed, not enforced.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys

import _dynamiqs_peer as dqpeer
import numpy as np
import qutip
from _timing import interleaved, timed
from eplt.baths import Drive, Environment, GaussianPulses, qubit_hamiltonian, thermal_bath
from eplt.dynamics.propagate import Sampled, SegmentAveraged, evolve, realization_seed
from eplt.dynamics.states import phi_plus

KAPPA, NBAR, G = 5.0, 0.5, 1.0
SEGMENTS, T_END = 20, 2.0
SEGMENT = T_END / SEGMENTS
VARIANCE = KAPPA * SEGMENTS / 2  # = kappa / segment
TLIST = np.linspace(0.0, T_END, 201)
SEG_EDGES = np.linspace(0.0, T_END, SEGMENTS + 1)
SEED = 2024
PAULIS = [qutip.sigmax().full(), qutip.sigmay().full(), qutip.sigmaz().full()]
TARGETS = {"sampled": 100.0, "segment": 5000.0}

P1 = qutip.Qobj(np.diag([0.0, 1.0]))
E_OPS = {
    "phi_plus_overlap": "phi_plus_overlap",
    "p1_A": qutip.tensor(P1, qutip.qeye(2)),  # excited population of A (linear)
    "trace": qutip.tensor(qutip.qeye(2), qutip.qeye(2)),  # sanity: must be 1
}
LINEAR = ("phi_plus_overlap", "p1_A")


def environment():
    proc = GaussianPulses(segment=SEGMENT, variance=VARIANCE, channels=3, name="drive")
    H = qubit_hamiltonian(1.0)
    terms = [
        Drive(proc, 0, PAULIS),
        Drive(proc, 1, PAULIS, conjugate=True),
        thermal_bath(0, H, nbar=NBAR, rate=G),
        thermal_bath(1, H, nbar=NBAR, rate=G),
    ]
    return Environment((2, 2), terms), proc


# ----------------------------------------------------------------------------- qutip


def qutip_system():
    I2 = qutip.qeye(2)
    a = qutip.destroy(2)  # sigma- = |0><1| (project convention)
    c = [math.sqrt(G * (NBAR + 1)) * a, math.sqrt(G * NBAR) * a.dag()]
    c_ops = [qutip.tensor(o, I2) for o in c] + [qutip.tensor(I2, o) for o in c]
    gens = [
        qutip.tensor(qutip.Qobj(P), I2) - qutip.tensor(I2, qutip.Qobj(P.conj())) for P in PAULIS
    ]
    return gens, c_ops


def qutip_realization(coeffs, gens, c_ops, rho0):
    """One realization: H(t) = sum_k c_k(t) (sigma_k (x) I - I (x) sigma_k^*), step coefficients."""
    terms = []
    for k, g in enumerate(gens):
        values = np.append(coeffs[:, k], coeffs[-1, k])  # value on [edge_j, edge_{j+1})
        terms.append([g, qutip.coefficient(values, tlist=SEG_EDGES, order=0)])
    H = qutip.QobjEvo(terms)
    return qutip.mesolve(H, rho0, TLIST, c_ops).states


def realization_coeffs(proc, m):
    """Coefficients (segments, 3) of realization m, exactly as the sampled solver draws them."""
    return np.asarray(proc.sample(np.random.default_rng(realization_seed(SEED, m)), SEG_EDGES))


def linear_values(arr):
    """phi_plus_overlap and p1_A of density matrices ``arr`` (T, 4, 4), arrays (T,)."""
    phi = phi_plus().full()
    p1 = E_OPS["p1_A"].full()
    return {
        "phi_plus_overlap": np.real(np.einsum("ij,tji->t", phi, arr)),
        "p1_A": np.real(np.einsum("ij,tji->t", p1, arr)),
    }


# ----------------------------------------------------------------------------- dynamiqs


def dynamiqs_peer(proc, ntraj, gens, c_ops, rho0, sampled, bad):
    """(d): time dynamiqs on the realizations of (a) and compare; None if not installed."""
    if not dqpeer.available():
        print(f"(d) {dqpeer.NOT_INSTALLED}")
        return None
    coeffs = np.stack([realization_coeffs(proc, m) for m in range(ntraj)])  # (M, 20, 3)
    est = ntraj * TLIST.size * 16 * 16
    print(
        f"(d) dynamiqs {dqpeer.versions()}: saved states of {ntraj} realizations"
        f" ~{est / 1e6:.0f} MB (chunked above {dqpeer.STATE_BUDGET / 2**30:.0f} GiB per call)"
    )
    mean, info = dqpeer.batched_mean_states(
        SEG_EDGES, coeffs, [g.full() for g in gens], [c.full() for c in c_ops], rho0.full(), TLIST
    )
    vals = linear_values(mean)
    diff = max(float(np.abs(vals[k] - sampled.expect[k])[~bad].max()) for k in LINEAR)
    print(
        f"    batched mesolve ({info['chunks']} call(s) of {info['chunk']}): first call"
        f" {info['first_s']:.2f} s (CPU {info['cpu_first_s']:.2f} s), second {info['run_s']:.2f} s"
        f" (CPU {info['cpu_run_s']:.2f} s); compile (JAX's record) {info['compile_s']:.2f} s"
        f" [second call {info['compile_s_second_call']:.2f} s; first - second"
        f" {info['first_minus_second_s']:.2f} s]; peak RSS {info['max_rss_mb']:.0f} MB"
    )
    print(
        f"    same {ntraj} realizations, dynamiqs vs ours (a): max |diff| = {diff:.1e}"
        f" (phi_plus_overlap, p1_A over times with Tr = 1)"
    )
    return {
        **info,
        "vs_sampled_max_diff": diff,
        "versions": dqpeer.versions(),
        "method": "Tsit5 (default, rtol=atol=1e-6), float64, cpu",
    }


# ----------------------------------------------------------------------------- main


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 500 realizations, 5 qutip runs")
    p.add_argument("--ntraj", type=int, default=None)
    p.add_argument(
        "--nqutip", type=int, default=None, help="qutip realizations to time (default 30)"
    )
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (best of)")
    args = p.parse_args(argv)
    ntraj = args.ntraj or (500 if args.quick else 10_000)
    nq = args.nqutip or (5 if args.quick else 30)
    node_list = [6, 8, 10] if args.quick else [8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28]

    env, proc = environment()
    rho0 = phi_plus()
    print(
        f"B1 shared drive: Phi+, GAD (G={G}, nbar={NBAR}), {SEGMENTS} Gaussian segments on [0, {T_END}],"
        f" c_k ~ N(0, {VARIANCE:g}) on sigma_x,y,z, {TLIST.size} times, {ntraj} realizations"
    )
    print(f"python {platform.python_version()}, numpy {np.__version__}, qutip {qutip.__version__}")

    # ---- warm-ups (imports, caches), untimed
    evolve(rho0, env, TLIST, e_ops=E_OPS, method=Sampled(ntraj=64), seed=1)
    gens, c_ops = qutip_system()
    qutip_realization(realization_coeffs(proc, 0), gens, c_ops, rho0)
    coeffs = [realization_coeffs(proc, m) for m in range(nq)]

    # ---- (c) segment averaged: node convergence (each node count timed once, for the table)
    states, t_seg, conv_nodes, diffs = {}, {}, None, {}
    evolve(rho0, env, TLIST, e_ops=E_OPS, method=SegmentAveraged(nodes=4))  # warm-up
    prev = None
    for nodes in node_list:
        r, c, _, _ = timed(
            lambda nodes=nodes: evolve(
                rho0,
                env,
                TLIST,
                e_ops=E_OPS,
                method=SegmentAveraged(nodes=nodes),
                store_states=True,
            )
        )
        t_seg[nodes] = c
        states[nodes] = np.stack([s.full() for s in r.states])
        if prev is not None:
            diffs[prev] = float(np.abs(states[prev] - states[nodes]).max())
            print(
                f"(c) segment nodes={prev:2d}: {t_seg[prev]:.3f} s CPU"
                f"   max|rho({prev}) - rho({nodes})| = {diffs[prev]:.1e}"
            )
            if diffs[prev] < 1e-10 and conv_nodes is None:
                conv_nodes = prev
                break
        prev = nodes
    if conv_nodes is None:
        conv_nodes = prev
        print(f"(c) not converged to 1e-10 up to nodes={prev}; using nodes={prev}")

    # ---- timed, interleaved: sampled (a), qutip on nq realizations (b), segment (c)
    timings, outs = interleaved(
        {
            "sampled": lambda: evolve(
                rho0, env, TLIST, e_ops=E_OPS, method=Sampled(ntraj=ntraj), seed=SEED
            ),
            "qutip": lambda: [qutip_realization(c, gens, c_ops, rho0) for c in coeffs],
            "segment": lambda: evolve(
                rho0, env, TLIST, e_ops=E_OPS, method=SegmentAveraged(nodes=conv_nodes)
            ),
        },
        repeats=args.repeats,
    )
    sampled, runs, seg_result = outs["sampled"], outs["qutip"], outs["segment"]
    tm_qutip = timings["qutip"].scaled(ntraj / nq)
    t_sampled, t_segment = timings["sampled"].cpu, timings["segment"].cpu
    t_q1, t_qutip = timings["qutip"].cpu / nq, tm_qutip.cpu
    print(
        f"(a) sampled, {ntraj} realizations: {t_sampled:.3f} s CPU ({timings['sampled'].wall:.3f} s wall)"
    )
    print(
        f"(b) qutip mesolve: {t_q1 * 1e3:.2f} ms CPU per realization (best of {args.repeats} rounds of"
        f" {nq}) -> {t_qutip:.1f} s for {ntraj}"
    )
    print(f"(c) segment, nodes={conv_nodes}: {t_segment:.4f} s CPU")

    # same realizations, our solver: differences are integration error only
    sub = evolve(
        rho0,
        env,
        TLIST,
        method=Sampled(ntraj=nq, groups=1),
        seed=SEED,
        store_states=True,
        e_ops=["purity"],
    )
    q_mean = [sum(r[i].full() for r in runs) / nq for i in range(TLIST.size)]
    tr_sub = np.array([np.trace(s.full()).real for s in sub.states])
    bad_sub = np.abs(tr_sub - 1) > 1e-9
    dev_same = np.array([np.abs(a.full() - b).max() for a, b in zip(sub.states, q_mean)])
    print(
        f"    same {nq} realizations, ours vs qutip mean state: max |diff| = {dev_same[~bad_sub].max():.1e}"
        f" over times with Tr = 1"
    )

    # statistical agreement: qutip subset mean vs our ntraj ensemble, in standard errors
    per_run = [linear_values(np.stack([s.full() for s in r])) for r in runs]
    z_all = {}
    for k in LINEAR:
        v = np.stack([pr[k] for pr in per_run])  # (nq, T)
        mean_q = v.mean(axis=0)
        se_q = v.std(axis=0, ddof=1) / math.sqrt(nq)
        se = np.sqrt(se_q**2 + sampled.stderr[k] ** 2)
        diff = np.abs(sampled.expect[k] - mean_q)
        z_all[k] = np.where(
            se > 0, diff / np.where(se > 0, se, 1), np.where(diff < 1e-12, 0.0, np.inf)
        )
    trace_ours = np.asarray(sampled.expect["trace"])
    bad = np.abs(trace_ours - 1) > 1e-9
    z_good = max(float(z[~bad].max()) for z in z_all.values())
    print(
        f"    qutip subset ({nq}) vs our {ntraj}: max deviation {z_good:.2f} standard errors over"
        f" {int((~bad).sum())} times (phi_plus_overlap, p1_A)"
    )
    for tt in (0.5, 1.0, 1.5, 2.0):
        i = int(np.argmin(np.abs(TLIST - tt)))
        print(
            f"      t={TLIST[i]:.2f}: "
            + ", ".join(
                f"{k} ours {sampled.expect[k][i]:.4f}+-{sampled.stderr[k][i]:.4f} z={z_all[k][i]:.2f}"
                for k in LINEAR
            )
        )
    if bad.any():
        print(
            f"    !! our sampled mean has Tr != 1 at t = {np.round(TLIST[bad], 3).tolist()}"
            f" (Tr = {np.round(trace_ours[bad], 6).tolist()}): engine bug, see benchmarks/README.md"
        )

    z_seg = max(
        float(
            np.max(np.abs(sampled.expect[k] - seg_result.expect[k])[~bad] / sampled.stderr[k][~bad])
        )
        for k in LINEAR
    )
    print(f"    sampled vs segment: max {z_seg:.2f} standard errors")

    # ---- (d) dynamiqs, batched over the same ntraj realizations as (a)
    dq = dynamiqs_peer(proc, ntraj, gens, c_ops, rho0, sampled, bad)

    sp_s = t_qutip / t_sampled
    sp_g = t_qutip / t_segment
    tm_s, tm_g = timings["sampled"], timings["segment"]
    print()
    print(
        f"CPU time is the primary figure (this process and its children); best of {args.repeats}"
        " interleaved rounds; wall time and the 1-min load beside it"
    )
    print(
        f"{'method':<34} {'CPU s':>10} {'wall s':>10} {'vs qutip':>10} {'(wall)':>8} {'target':>8}  met"
    )
    print(
        f"{'qutip mesolve x ' + str(ntraj) + ' (scaled)':<34} {t_qutip:10.3f} {tm_qutip.wall:10.3f} {1.0:10.1f}"
    )
    print(
        f"{'sampled (' + str(ntraj) + ')':<34} {t_sampled:10.3f} {tm_s.wall:10.3f} {sp_s:10.1f}"
        f" {tm_qutip.wall / tm_s.wall:8.1f} {TARGETS['sampled']:8.0f}  {sp_s >= TARGETS['sampled']}"
    )
    print(
        f"{'segment-averaged (nodes=' + str(conv_nodes) + ')':<34} {t_segment:10.4f} {tm_g.wall:10.4f}"
        f" {sp_g:10.1f} {tm_qutip.wall / tm_g.wall:8.1f} {TARGETS['segment']:8.0f}"
        f"  {sp_g >= TARGETS['segment'] and diffs.get(conv_nodes, 1) < 1e-10}"
    )
    print(
        f"load (1-min average) during the timed rounds: up to {max(t.load for t in timings.values()):.1f}"
    )
    sp_dq = None
    if dq is not None:
        t_dq = dq["cpu_run_s"]  # CPU, like ours
        sp_dq = {"sampled": round(t_dq / t_sampled, 2), "segment": round(t_dq / t_segment, 2)}
        label = "dynamiqs batched (run only, CPU)"
        print(f"{label:<34} {t_dq:10.3f} {'':>10} {t_qutip / t_dq:10.1f}")
        print(
            f"vs dynamiqs (run {t_dq:.2f} s, compile {dq['compile_s']:.2f} s separate):"
            f" sampled {sp_dq['sampled']:.1f}x, segment {sp_dq['segment']:.1f}x"
        )
    out = {
        "speedup_vs_qutip": {"sampled": round(sp_s, 2), "segment": round(sp_g, 2)},
        "speedup_vs_qutip_wall": {
            "sampled": round(tm_qutip.wall / tm_s.wall, 2),
            "segment": round(tm_qutip.wall / tm_g.wall, 2),
        },
        "timings": {
            "qutip_subset": timings["qutip"].as_dict(),
            "sampled": tm_s.as_dict(),
            "segment": tm_g.as_dict(),
        },
        "time_measure": "CPU seconds (process_time + reaped children), best of interleaved rounds",
        "speedup_vs_dynamiqs": sp_dq,
        "targets": TARGETS,
        "ntraj": ntraj,
        "qutip_per_realization_s": t_q1,
        "qutip_ensemble_s": t_qutip,
        "qutip_subset": nq,
        "sampled_s": t_sampled,
        "segment_s": t_segment,
        "segment_nodes": conv_nodes,
        "segment_node_diffs": {str(k): v for k, v in diffs.items()},
        "segment_times_s": {str(k): round(v, 4) for k, v in t_seg.items()},
        "qutip_vs_sampled_max_se": z_good,
        "segment_vs_sampled_max_se": z_seg,
        "same_realizations_max_state_diff": float(dev_same[~bad_sub].max()),
        "sampled_bad_trace_times": np.round(TLIST[bad], 6).tolist(),
        "dynamiqs": dq,  # null without dynamiqs
        "quick": args.quick,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    sys.exit(main() and 0)

r"""B4: two qubits, shared coloured (Ornstein-Uhlenbeck) drive + local thermal damping.

Model
-----
* Initial state Phi+ (``eplt.dynamics.states.phi_plus()``).
* Generalized amplitude damping on each qubit:
  ``thermal_bath(k, qubit_hamiltonian(1.0), nbar=0.5, rate=1.0)`` (G = 1, nbar = 0.5).
* A shared three-channel Ornstein-Uhlenbeck drive, ``OrnsteinUhlenbeck(sigma=2,
  tau_c=0.5, channels=3)``: ``H_A = sum_k xi_k(t) sigma_k`` on A and
  ``H_B = -sum_k xi_k(t) sigma_k^*`` on B (A gets U, B gets U^*), bare Pauli matrices as in
  B1, ``<xi_k(t) xi_l(s)> = delta_kl sigma^2 e^{-|t-s|/tau_c}``.
* 201 saved times on [0, 2]; observables: negativity and the marginal trace distances
  to tau (both parties).

Measured (same run)
-------------------
(r) reference: ``StochasticLiouville(tol=1e-10)`` (Hermite hierarchy; depth raised until
    two depths agree to 1e-10), untimed;
(a) the exact path as ``method="auto"`` picks it, ``StochasticLiouville(tol=TOL)``
    (default 1e-6: the depth search stops when depths K-2 and K differ by < 1e-6 and
    returns depth K), timed including the whole depth search;
(b) ``Sampled(ntraj=10_000)``, timed;
(c) qutip: one ``qutip.mesolve`` per realization on the full two-qubit system with the
    *same* sampled coefficients as realizations 0..N-1 of (b) (``process.sample`` on the
    sampler's substep grid, order-0 step coefficients), default options, timed on a
    subset and scaled to 10^4;
(d) dynamiqs, if installed (``pip install -e .[bench]``; not a core dependency, it pulls
    in JAX): one ``dynamiqs.mesolve`` batched over all 10^4 realizations of (b) with the
    same coefficients (``dq.pwc`` on the substep grid), float64 on the CPU, default method
    (Tsit5, rtol = atol = 1e-6, steps clipped to the coefficient jumps). Timed twice:
    compile time (JAX's record of the first call's compile stages) separate,
    ``speedup_vs_dynamiqs`` = its run-only time / the exact path's time. Its error
    against (r) is a sampling error, like (b)'s; against (b) it differs by its
    integration error only.
    See ``benchmarks/_dynamiqs_peer.py``.

Errors are the largest absolute deviation from (r) over all times of negativity and of
both marginal distances. ``speedup_vs_sampled_at_equal_error`` scales the sampled time
to the error of the exact path: sampling error falls as M^-1/2, so reaching
``max(exact_error, 1e-6)`` needs ``(sampled_error / max(exact_error, 1e-6))^2`` times
more realizations (the sampled time is linear in M). The sampled method also has a
time-step bias (substeps of 0.02/rate) that this scaling ignores, in its favour.

Usage (from the repository root)::

    python benchmarks/b4_coloured_noise.py          # full run (~2-5 min on a quiet machine)
    python benchmarks/b4_coloured_noise.py --quick  # smoke run, under a minute

The last line printed is one JSON object. No assertions: targets are printed, not enforced.
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
from eplt.baths import Drive, Environment, OrnsteinUhlenbeck, qubit_hamiltonian, thermal_bath
from eplt.dynamics.measures import negativity, trace_distance
from eplt.dynamics.propagate import Sampled, StochasticLiouville, evolve, realization_seed
from eplt.dynamics.sampled import _rate_scale, _substep_edges
from eplt.dynamics.states import phi_plus

SIGMA, TAU_C, NBAR, G = 2.0, 0.5, 0.5, 1.0
T_END = 2.0
TLIST = np.linspace(0.0, T_END, 201)
SEED = 2024
PAULIS = [qutip.sigmax().full(), qutip.sigmay().full(), qutip.sigmaz().full()]
E_OPS = ["negativity", "marginal_distance"]
TARGETS = {"speedup_vs_sampled": 10.0, "speedup_vs_sampled_at_equal_error": 1000.0}
ERROR_TARGET = 1e-6


def environment():
    proc = OrnsteinUhlenbeck(sigma=SIGMA, tau_c=TAU_C, channels=3, name="drive")
    H = qubit_hamiltonian(1.0)
    terms = [
        Drive(proc, 0, PAULIS),
        Drive(proc, 1, PAULIS, conjugate=True),
        thermal_bath(0, H, nbar=NBAR, rate=G),
        thermal_bath(1, H, nbar=NBAR, rate=G),
    ]
    return Environment((2, 2), terms), proc


def values(res) -> np.ndarray:
    """(T, 3): negativity and the two marginal distances."""
    return np.column_stack(
        [np.asarray(res.expect["negativity"]), np.asarray(res.expect["marginal_distance"])]
    )


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


def sampler_edges(env):
    """The substep grid of the sampled solver for this model (same dt rule)."""
    model = env.model()
    rate = _rate_scale(model)
    dt = min(float(np.min(np.diff(TLIST))), 0.02 / rate, T_END)
    return _substep_edges(0.0, T_END, TLIST, model, dt)


def qutip_realization(coeffs, edges, gens, c_ops, rho0):
    terms = []
    for k, g in enumerate(gens):
        vals = np.append(coeffs[:, k], coeffs[-1, k])  # value on [edge_j, edge_{j+1})
        terms.append([g, qutip.coefficient(vals, tlist=edges, order=0)])
    return qutip.mesolve(qutip.QobjEvo(terms), rho0, TLIST, c_ops).states


def state_values(rhos, taus):
    """Density matrices ``rhos`` (T, 4, 4) -> (T, 3) like :func:`values`."""
    out = np.empty((len(rhos), 3))
    for i, r in enumerate(rhos):
        rho = qutip.Qobj(r, dims=[[2, 2], [2, 2]])
        out[i, 0] = negativity(rho)
        out[i, 1] = trace_distance(rho.ptrace(0), taus[0])
        out[i, 2] = trace_distance(rho.ptrace(1), taus[1])
    return out


def qutip_values(states_list, taus):
    """Mean state over realizations -> (T, 3) like :func:`values`."""
    mean = np.mean([[s.full() for s in r] for r in states_list], axis=0)
    return state_values(mean, taus)


# ----------------------------------------------------------------------------- dynamiqs


def dynamiqs_peer(proc, edges, ntraj, gens, c_ops, rho0, taus, v_ref, v_s):
    """(d): time dynamiqs on the realizations of (b) and compare; None if not installed."""
    if not dqpeer.available():
        print(f"(d) {dqpeer.NOT_INSTALLED}")
        return None
    coeffs = np.stack(
        [proc.sample(np.random.default_rng(realization_seed(SEED, m)), edges) for m in range(ntraj)]
    )  # (M, substeps, 3)
    est = ntraj * TLIST.size * 16 * 16
    print(
        f"(d) dynamiqs {dqpeer.versions()}: saved states of {ntraj} realizations"
        f" ~{est / 1e6:.0f} MB (chunked above {dqpeer.STATE_BUDGET / 2**30:.0f} GiB per call)"
    )
    mean, info = dqpeer.batched_mean_states(
        edges, coeffs, [g.full() for g in gens], [c.full() for c in c_ops], rho0.full(), TLIST
    )
    v_dq = state_values(mean, taus)
    err = float(np.abs(v_dq - v_ref).max())
    diff = float(np.abs(v_dq - v_s).max())
    print(
        f"    batched mesolve ({info['chunks']} call(s) of {info['chunk']}, {edges.size - 1}"
        f" coefficient steps): first call {info['first_s']:.2f} s (CPU {info['cpu_first_s']:.2f} s),"
        f" second {info['run_s']:.2f} s (CPU {info['cpu_run_s']:.2f} s); compile (JAX's record)"
        f" {info['compile_s']:.2f} s [second call {info['compile_s_second_call']:.2f} s;"
        f" first - second {info['first_minus_second_s']:.2f} s]; peak RSS {info['max_rss_mb']:.0f} MB"
    )
    print(
        f"    error vs reference {err:.1e}; same {ntraj} realizations, dynamiqs vs ours (b):"
        f" max |diff| {diff:.1e}"
    )
    return {
        **info,
        "error": err,
        "vs_sampled_max_diff": diff,
        "versions": dqpeer.versions(),
        "method": "Tsit5 (default, rtol=atol=1e-6), float64, cpu",
    }


# ----------------------------------------------------------------------------- main


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 500 realizations, 3 qutip runs")
    p.add_argument("--ntraj", type=int, default=None)
    p.add_argument("--nqutip", type=int, default=None, help="qutip realizations (default 20)")
    p.add_argument("--tol", type=float, default=1e-6, help="tol of the timed exact path")
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (best of)")
    args = p.parse_args(argv)
    ntraj = args.ntraj or (500 if args.quick else 10_000)
    nq = args.nqutip or (3 if args.quick else 20)

    env, proc = environment()
    rho0 = phi_plus()
    print(
        f"B4 coloured noise: Phi+, GAD (G={G}, nbar={NBAR}), shared 3-channel OU drive"
        f" (sigma={SIGMA}, tau_c={TAU_C}) on sigma_x,y,z (U on A, U* on B),"
        f" {TLIST.size} times on [0, {T_END}], {ntraj} realizations"
    )
    print(f"python {platform.python_version()}, numpy {np.__version__}, qutip {qutip.__version__}")

    # ---- (r) reference
    ref, t_ref, _, _ = timed(
        lambda: evolve(rho0, env, TLIST, e_ops=E_OPS, method=StochasticLiouville(tol=1e-10))
    )
    ref_info = ref.params["method"]
    v_ref = values(ref)
    print(
        f"(r) reference SLE tol=1e-10: depth {ref_info['depth']}"
        f" (|rho({ref_info['compared_depth']}) - rho({ref_info['depth']})| ="
        f" {ref_info['depth_difference']:.1e}), {t_ref:.2f} s CPU, not compared"
    )

    # ---- warm-ups, untimed: the method auto picks, a small sampled run, one qutip realization
    auto = evolve(rho0, env, TLIST[:3], e_ops=E_OPS)
    assert auto.method == "sle", auto.method
    method = StochasticLiouville(tol=args.tol)
    evolve(rho0, env, TLIST, e_ops=E_OPS, method=Sampled(ntraj=64), seed=1)
    edges = sampler_edges(env)
    gens, c_ops = qutip_system()
    coeffs = [
        np.asarray(proc.sample(np.random.default_rng(realization_seed(SEED, m)), edges))
        for m in range(nq)
    ]
    qutip_realization(coeffs[0], edges, gens, c_ops, rho0)

    # ---- timed, interleaved: exact SLE (a), sampled (b), qutip on nq realizations (c)
    timings, outs = interleaved(
        {
            "exact": lambda: evolve(rho0, env, TLIST, e_ops=E_OPS, method=method),
            "sampled": lambda: evolve(
                rho0, env, TLIST, e_ops=E_OPS, method=Sampled(ntraj=ntraj), seed=SEED
            ),
            "qutip": lambda: [qutip_realization(c, edges, gens, c_ops, rho0) for c in coeffs],
        },
        repeats=args.repeats,
    )
    exact, sampled, runs = outs["exact"], outs["sampled"], outs["qutip"]
    tm_qutip = timings["qutip"].scaled(ntraj / nq)
    t_exact, t_sampled = timings["exact"].cpu, timings["sampled"].cpu
    t_q1, t_qutip = timings["qutip"].cpu / nq, tm_qutip.cpu
    info = exact.params["method"]
    err_exact = float(np.abs(values(exact) - v_ref).max())
    print(
        f"(a) exact SLE tol={args.tol:g}: {t_exact:.3f} s CPU (best of {args.repeats}, depth search"
        f" {info['depth_search']}), depth {info['depth']}, error vs reference {err_exact:.1e}"
    )
    v_s = values(sampled)
    err_sampled = float(np.abs(v_s - v_ref).max())
    se = np.column_stack(
        [sampled.stderr["negativity"], np.asarray(sampled.stderr["marginal_distance"])]
    )
    z = float(np.max(np.abs(v_s - v_ref) / np.maximum(se, 1e-15)))
    print(
        f"(b) sampled, {ntraj} realizations: {t_sampled:.3f} s CPU, error vs reference"
        f" {err_sampled:.1e} (max {z:.2f} standard errors over {v_s.size} values)"
    )
    sub = evolve(
        rho0, env, TLIST, e_ops=E_OPS, method=Sampled(ntraj=nq, groups=1), seed=SEED
    )  # the same nq realizations, our sampler: integration error only
    taus = [qutip.Qobj(t) for t in env.model().taus]
    dev_same = float(np.abs(values(sub) - qutip_values(runs, taus)).max())
    print(
        f"(c) qutip mesolve: {t_q1 * 1e3:.1f} ms CPU per realization (best of {args.repeats} rounds"
        f" of {nq}, {edges.size - 1} coefficient steps) -> {t_qutip:.1f} s for {ntraj}; same {nq}"
        f" realizations, ours vs qutip: max |diff| {dev_same:.1e}"
    )
    dq = dynamiqs_peer(proc, edges, ntraj, gens, c_ops, rho0, taus, v_ref, v_s)

    sp_s = t_sampled / t_exact
    scale = (err_sampled / max(err_exact, ERROR_TARGET)) ** 2
    sp_eq = t_sampled * scale / t_exact
    sp_q = t_qutip / t_exact
    print()
    tm_e, tm_s = timings["exact"], timings["sampled"]
    print(
        f"CPU time is the primary figure; best of {args.repeats} interleaved rounds; load up to"
        f" {max(t.load for t in timings.values()):.1f} (1-min average); wall: exact"
        f" {tm_e.wall:.3f} s, sampled {tm_s.wall:.3f} s, qutip (scaled) {tm_qutip.wall:.1f} s"
    )
    print(f"{'method':<38} {'CPU s':>10} {'error':>9} {'exact is':>12}")
    print(f"{'exact SLE (tol ' + format(args.tol, 'g') + ')':<38} {t_exact:10.3f} {err_exact:9.1e}")
    print(
        f"{'sampled (' + str(ntraj) + ')':<38} {t_sampled:10.3f} {err_sampled:9.1e} {sp_s:11.1f}x"
    )
    print(
        f"{'sampled at equal error (scaled)':<38} {t_sampled * scale:10.3g} {max(err_exact, ERROR_TARGET):9.1e}"
        f" {sp_eq:11.3g}x"
    )
    print(
        f"{'qutip mesolve x ' + str(ntraj) + ' (scaled)':<38} {t_qutip:10.3f} {'':>9} {sp_q:11.1f}x"
    )
    sp_dq = None
    if dq is not None:
        sp_dq = round(dq["cpu_run_s"] / t_exact, 1)
        print(
            f"{'dynamiqs batched x ' + str(ntraj) + ' (run only, CPU)':<38} {dq['cpu_run_s']:10.3f}"
            f" {dq['error']:9.1e} {sp_dq:11.1f}x   (compile {dq['compile_s']:.2f} s separate)"
        )
    print(
        "equal error: sampled time x (sampled_error / max(exact_error, 1e-6))^2"
        " (sampling error ~ M^-1/2; its time-step bias ignored)"
    )
    print(
        f"targets: speedup_vs_sampled >= {TARGETS['speedup_vs_sampled']:g}:"
        f" {sp_s >= TARGETS['speedup_vs_sampled']};"
        f" at equal error >= {TARGETS['speedup_vs_sampled_at_equal_error']:g}:"
        f" {sp_eq >= TARGETS['speedup_vs_sampled_at_equal_error']};"
        f" exact_error <= {ERROR_TARGET:g}: {err_exact <= ERROR_TARGET}"
    )
    out = {
        "time_measure": "CPU seconds (process_time + reaped children), best of interleaved rounds",
        "timings": {
            "exact": tm_e.as_dict(),
            "sampled": tm_s.as_dict(),
            "qutip_subset": timings["qutip"].as_dict(),
        },
        "speedup_vs_sampled_wall": round(tm_s.wall / tm_e.wall, 2),
        "exact_s": t_exact,
        "sampled_s": t_sampled,
        "qutip_s": t_qutip,
        "exact_error": err_exact,
        "sampled_error": err_sampled,
        "speedup_vs_sampled": round(sp_s, 2),
        "speedup_vs_sampled_at_equal_error": round(sp_eq, 1),
        "equal_error_scaling": "sampled_s * (sampled_error / max(exact_error, 1e-6))**2",
        "speedup_vs_qutip": round(sp_q, 1),
        "targets": TARGETS,
        "exact_tol": args.tol,
        "exact_depth": info["depth"],
        "exact_depth_search": info["depth_search"],
        "reference_depth": ref_info["depth"],
        "reference_depth_difference": ref_info["depth_difference"],
        "sampled_max_se": z,
        "qutip_per_realization_s": t_q1,
        "qutip_subset": nq,
        "qutip_same_realizations_max_diff": dev_same,
        "ntraj": ntraj,
        "speedup_vs_dynamiqs": sp_dq,  # dynamiqs run time / exact_s; null without dynamiqs
        "dynamiqs_s": dq and dq["run_s"],
        "dynamiqs_compile_s": dq and dq["compile_s"],
        "dynamiqs_error": dq and dq["error"],
        "dynamiqs": dq,
        "quick": args.quick,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    sys.exit(main() and 0)

"""B2: GHZ state of n qubits under local thermal baths — factorized exact solver vs qutip.

Each qubit has its own thermal (generalized amplitude damping) bath,
``thermal_bath(k, qubit_hamiltonian(1.0), beta=1.0, rate=1.0)``; the joint generator is a
sum of local terms, so :func:`eplt.dynamics.evolve` (method ``exact``) propagates with the
product of local ``exp(L_k dt)`` and never builds the ``4^n x 4^n`` Liouvillian. 201 saved
times on [0, 2], ``e_ops=["ghz_fidelity", "marginal_distance"]``.

Peer: ``qutip.mesolve`` on the full n-qubit system (default options, H = 0, jump operators
``sqrt(G(nbar+1)) a_k``, ``sqrt(G nbar) a_k^dag`` with ``a = qutip.destroy(2)``), GHZ
fidelity as an expectation value. Run for n = 2, 3, ... until a run takes longer than
``QUTIP_LIMIT_S`` (or the next one is predicted to take more than three times that).

Part 2, the permutation-symmetric route (:mod:`eplt.dynamics.permutation`): the same model
from a :class:`~eplt.dynamics.permutation.SymmetricState` GHZ input, n = 2..12 (agreement
with the dense route at the overlap) and on to n = 200 while a run takes under
``SYM_LIMIT_S``; peer: QuTiP's permutation-invariant solver ``qutip.piqs`` (the same local
baths as ``Dicke(n, emission=G(nbar+1), pumping=G nbar)``, its Dicke-basis Liouvillian
solved by ``qutip.mesolve``, default options, GHZ projector as e_op), run while a run takes
under ``QUTIP_LIMIT_S``. Part 3: the full GHZ protocol of the ``ghz`` study (exchangeable
zero-sum twirl with the shared flip, shared reset, thermal hold; 201 times on [0, 1.5 t*])
for n = 10..200 on the symmetric route, against the dense route at n = 6, 8. Part 4
(``productsum``): the same protocol through the product-sum route
(:func:`eplt.dynamics.productsum.evolve_product_sum`, O(n) per time) against the symmetric
route (exchangeable drive, n = 10..100, interleaved) and the dense route (n = 4, 6; n = 8 needs a
7 GiB sparse Liouvillian), and with
the zero-sum drive for n = 100..1000 (the exchangeable drive's n^2 actions take ~35 s to
build at n = 1000), where the closed forms ``1/2 + gamma (F_in - 1/2)`` (correlated) and
``(p0^n + p1^n)/2`` (independent, long twirl) are the check; building the protocol is timed
separately. Part 5 (``generic``): a generic permutation-invariant input (a product state
with coherences, populating every symmetric coefficient) on the symmetric route, n = 40, 100.

Timing: CPU seconds (``time.process_time``, the primary figure), wall seconds and the load
average beside them; ours and the peer interleaved in the same run, best of 3 by CPU time.

Usage (from the repository root)::

    python benchmarks/b2_ghz_scaling.py           # full run (about 10 minutes)
    python benchmarks/b2_ghz_scaling.py --quick   # dense n = 2..6, symmetric to 32, seconds
    python benchmarks/b2_ghz_scaling.py --parts symmetric,protocol   # skip the dense part
    python benchmarks/b2_ghz_scaling.py --parts productsum,generic    # the new parts only

The last line printed is one JSON object: ``speedup_vs_qutip`` (n -> qutip CPU time / our
CPU time for every n >= 6 where qutip finished), ``largest_n`` (largest n the dense route
handled within 10 minutes), the symmetric-route and protocol timings and agreements, and the
raw timings. No assertions: this script reports, it does not judge.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time

import numpy as np
import qutip
from eplt.baths import Environment, nbar_from_beta, qubit_hamiltonian, thermal_bath
from eplt.dynamics.channels import ghz_eplt_channel
from eplt.dynamics.permutation import SymmetricState, symmetric_dimension
from eplt.dynamics.productsum import ProductOperatorSum, evolve_product_sum
from eplt.dynamics.propagate import evolve
from eplt.dynamics.states import ghz_state, noisy_ghz_state
from eplt.studies.ghz import ghz_protocol

BETA, RATE = 1.0, 1.0
TLIST = np.linspace(0.0, 2.0, 201)
QUTIP_LIMIT_S = 60.0
OURS_LIMIT_S = 600.0


SYM_LIMIT_S = 60.0
SYM_NS = (2, 4, 6, 8, 10, 12, 16, 24, 32, 48, 64, 100, 150, 200)


class _Clock:
    """CPU and wall seconds of a block (CPU time includes finished child processes)."""

    def __enter__(self):
        self.c0, self.w0 = _cpu(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu, self.wall = _cpu() - self.c0, time.perf_counter() - self.w0


def _cpu() -> float:
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime


def _env(n: int) -> Environment:
    return Environment(
        (2,) * n, [thermal_bath(k, qubit_hamiltonian(1.0), beta=BETA, rate=RATE) for k in range(n)]
    )


def ours(n: int):
    env = _env(n)
    rho0 = ghz_state(n)
    with _Clock() as c:
        # the dense route: method="auto" would take the permutation method from 6 qubits
        res = evolve(rho0, env, TLIST, e_ops=["ghz_fidelity", "marginal_distance"], method="exact")
    return c, np.asarray(res.expect["ghz_fidelity"])


def ours_symmetric(n: int):
    env = _env(n)
    rho0 = SymmetricState.noisy_ghz(n, 1.0)
    with _Clock() as c:
        res = evolve(rho0, env, TLIST, e_ops=["ghz_fidelity", "marginal_distance"])
    assert res.method == "permutation"
    return c, np.asarray(res.expect["ghz_fidelity"])


def with_piqs(n: int):
    from qutip import piqs

    nb = nbar_from_beta(BETA, 1.0)
    with _Clock() as c:
        L = piqs.Dicke(n, emission=RATE * (nb + 1), pumping=RATE * nb).liouvillian()
        rho0 = piqs.ghz(n)
        res = qutip.mesolve(L, rho0, TLIST, e_ops=[rho0])
    return c, np.real(np.asarray(res.expect[0]))


def protocol_run(n: int, symmetric: bool):
    """The ``ghz`` study's protocol (exchangeable drive), 201 times on [0, 1.5 t*]."""
    H = qubit_hamiltonian(1.0)
    from eplt.baths import thermal_state

    tau = thermal_state(H, BETA)
    gamma = ghz_eplt_channel(tau, 2).gamma
    gap = min(5.0 * (n - 1) / (2 * n), 10.0)
    t_twirl = math.log(1e4) / gap
    proto, t_star = ghz_protocol(
        n,
        tau,
        H,
        BETA,
        rate=RATE,
        kappa=5.0,
        flip_rate=5.0,
        t_twirl=t_twirl,
        drive="exchangeable",
    )
    tl = np.linspace(0.0, 1.5 * t_star, 201)
    rho0 = SymmetricState.noisy_ghz(n, 0.9) if symmetric else noisy_ghz_state(n, 0.9)
    with _Clock() as c:
        res = evolve(
            rho0,
            proto,
            tl,
            e_ops=["ghz_fidelity", "marginal_distance"],
            method="permutation" if symmetric else "exact",
        )
    F = np.asarray(res.expect["ghz_fidelity"])
    md = np.asarray(res.expect["marginal_distance"]).max(axis=1)
    return c, np.concatenate([F, md]), gamma


def _ghz_protocol(n: int, drive: str, shared: bool = True, t_twirl: float | None = None):
    from eplt.baths import thermal_state

    H = qubit_hamiltonian(1.0)
    tau = thermal_state(H, BETA)
    phase = 5.0 / 2 if drive == "zero_sum" else 5.0 * (n - 1) / (2 * n)
    tt = math.log(1e4) / min(phase, 10.0) if t_twirl is None else t_twirl
    proto, t_star = ghz_protocol(
        n,
        tau,
        H,
        BETA,
        rate=RATE,
        kappa=5.0,
        flip_rate=5.0,
        t_twirl=tt,
        shared=shared,
        drive=drive,
    )
    return proto, t_star, ghz_eplt_channel(tau, 2).gamma, tau


def productsum_run(n: int, drive: str, shared: bool = True, t_twirl: float | None = None):
    """The full protocol through the product-sum route: 201 times on [0, 1.5 t*]."""
    with _Clock() as cb:
        proto, t_star, gamma, _ = _ghz_protocol(n, drive, shared, t_twirl)
    tl = np.linspace(0.0, 1.5 * t_star, 201)
    with _Clock() as c:
        res = evolve_product_sum(
            ProductOperatorSum.noisy_ghz(n, 0.9),
            proto,
            tl,
            e_ops=["ghz_fidelity", "marginal_distance"],
        )
    F = np.asarray(res.expect["ghz_fidelity"])
    md = np.asarray(res.expect["marginal_distance"]).max(axis=1)
    c.build = cb.cpu
    return c, np.concatenate([F, md]), (gamma, t_star, tl)


def generic_run(n: int):
    """The full protocol (exchangeable drive) from a product state with coherences on the
    symmetric route: every symmetric coefficient is populated."""
    proto, t_star, _, _ = _ghz_protocol(n, "exchangeable")
    sig = np.array([[0.7, 0.3 + 0.1j], [0.3 - 0.1j, 0.3]])
    rho0 = SymmetricState.product(sig, n)
    tl = np.linspace(0.0, 1.5 * t_star, 201)
    with _Clock() as c:
        res = evolve(
            rho0, proto, tl, e_ops=["ghz_fidelity", "marginal_distance"], method="permutation"
        )
    return c, np.asarray(res.expect["ghz_fidelity"])


def best_of(runs, *args):
    """Best of 3 by CPU time of each function in ``runs``, interleaved (a, b, a, b, ...);
    a function whose run took more than 10 s CPU is not repeated."""
    out = [None] * len(runs)
    for _ in range(3):
        for i, run in enumerate(runs):
            if out[i] is not None and out[i][0].cpu > 10.0:
                continue
            c, *rest = run(*args)
            if out[i] is None or c.cpu < out[i][0].cpu:
                out[i] = (c, *rest)
    return out


def _fmt(c) -> str:
    return f"{c.cpu:8.3f} s CPU {c.wall:8.3f} s wall"


def with_qutip(n: int, options=None):
    nb = nbar_from_beta(BETA, 1.0)
    a = qutip.destroy(2)
    ops = [math.sqrt(RATE * (nb + 1)) * a, math.sqrt(RATE * nb) * a.dag()]
    eye = [qutip.qeye(2)] * n
    c_ops = []
    for k in range(n):
        for op in ops:
            f = list(eye)
            f[k] = op
            c_ops.append(qutip.tensor(f))
    rho0 = ghz_state(n)
    H = qutip.qzero([2] * n)
    with _Clock() as c:
        res = qutip.mesolve(H, rho0, TLIST, c_ops, e_ops=[rho0], options=options)  # GHZ projector
    return c, np.real(np.asarray(res.expect[0]))


def timed(run, *args, **kw):
    """``run`` once, or best of three (by CPU time) when a run takes under 10 s."""
    c, f = run(*args, **kw)
    if c.cpu < 10.0:
        for _ in range(2):
            c2, _ = run(*args, **kw)
            c = c2 if c2.cpu < c.cpu else c
    return c, f


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="dense n = 2..6, symmetric to 32")
    p.add_argument(
        "--parts",
        default="dense,symmetric,protocol,productsum,generic",
        help="comma-separated parts to run (default: all five)",
    )
    p.add_argument("--dense-max", type=int, default=12, help="largest n of the dense route")
    p.add_argument(
        "--sym-ns", default=None, help="comma-separated n of the symmetric part (default: all)"
    )
    p.add_argument(
        "--piqs-max",
        type=int,
        default=64,
        help="largest n for qutip.piqs (measured 30 s CPU at 64, ~4th power growth)",
    )
    args = p.parse_args(argv)
    parts = set(args.parts.split(","))
    if not parts <= {"dense", "symmetric", "protocol", "productsum", "generic"}:
        p.error(
            "--parts: choose among dense, symmetric, protocol, productsum, generic; "
            f"got {args.parts!r}"
        )
    n_ours = range(2, 7) if args.quick else range(2, args.dense_max + 1)
    n_qutip_max = 6 if args.quick else min(16, args.dense_max)
    sym_ns = [m for m in SYM_NS if m <= (32 if args.quick else 200)]
    if args.sym_ns:
        sym_ns = [int(m) for m in args.sym_ns.split(",")]
    proto_ns = (10, 32) if args.quick else (10, 32, 64, 100, 150, 200)

    print(
        f"B2 GHZ scaling: {len(TLIST)} times on [0, 2], local thermal baths beta={BETA}, G={RATE}"
    )
    print(f"python {platform.python_version()}, numpy {np.__version__}, qutip {qutip.__version__}")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    # warm-up (imports, first-call overheads), excluded from the timings
    ours(2)
    with_qutip(2)
    ours_symmetric(4)
    with_piqs(4)

    # ---------------------------------------------------------------- part 1: dense route
    t_ours, t_qutip, fid_dev, tight_dev, fids, wall = {}, {}, {}, {}, {}, {}
    largest = None
    qutip_on, prev = True, None
    for n in range(2, max(n_ours[-1], n_qutip_max) + 1) if "dense" in parts else []:
        if n in n_ours:
            c, f = timed(ours, n)
            t_ours[n], fids[n], wall[("ours", n)] = c.cpu, f, c.wall
            largest = n if c.cpu <= OURS_LIMIT_S else largest
            print(f"  ours   n={n:2d}: {_fmt(c)}   load {os.getloadavg()[0]:.1f}", flush=True)
        if qutip_on and n <= n_qutip_max:
            if prev is not None and len(t_qutip) >= 2:
                k = sorted(t_qutip)
                growth = t_qutip[k[-1]] / max(t_qutip[k[-2]], 1e-9)
                if prev * max(growth, 4.0) > 3 * QUTIP_LIMIT_S:
                    print(f"  qutip  n={n:2d}: skipped (predicted {prev * max(growth, 4.0):.0f} s)")
                    qutip_on = False
            if qutip_on:
                c, f = timed(with_qutip, n)
                t_qutip[n], prev, wall[("qutip", n)] = c.cpu, c.cpu, c.wall
                if n in fids:
                    fid_dev[n] = float(np.abs(fids[n] - f).max())
                dev = fid_dev.get(n, float("nan"))
                print(
                    f"  qutip  n={n:2d}: {_fmt(c)}   max |F_ours - F_qutip| = {dev:.1e}", flush=True
                )
                if fid_dev.get(n, 0) > 1e-6 and c.cpu < 30:
                    # qutip's default tolerances (atol 1e-8, rtol 1e-6) limit the agreement;
                    # an untimed run at tight tolerances shows whose error it is.
                    _, f_tight = with_qutip(n, options={"atol": 1e-11, "rtol": 1e-9})
                    tight_dev[n] = float(np.abs(fids[n] - f_tight).max())
                    print(f"         qutip atol 1e-11, rtol 1e-9 (untimed): {tight_dev[n]:.1e}")
                qutip_on = c.cpu <= QUTIP_LIMIT_S
        if n in t_ours and t_ours[n] > OURS_LIMIT_S:
            break

    print()
    print(f"{'n':>3} {'ours CPU s':>11} {'qutip CPU s':>12} {'ratio':>7} {'max|dF|':>9}")
    speedup = {}
    for n in sorted(set(t_ours) | set(t_qutip)):
        to, tq = t_ours.get(n), t_qutip.get(n)
        ratio = tq / to if (to and tq) else None
        if ratio is not None and n >= 6:
            speedup[str(n)] = round(ratio, 2)
        print(
            f"{n:3d} {to if to is not None else float('nan'):11.3f} "
            f"{tq if tq is not None else float('nan'):12.3f}"
            f" {ratio if ratio is not None else float('nan'):7.1f} {fid_dev.get(n, float('nan')):9.1e}"
        )
    best = {n: min(v, tight_dev.get(n, v)) for n, v in fid_dev.items()}
    checked = {n: v for n, v in best.items() if v < 1e-6 or n in tight_dev}
    unchecked = sorted(set(best) - set(checked))
    agree = all(v < 1e-6 for v in checked.values())
    worst = max(checked.values(), default=float("nan"))
    print(
        f"GHZ fidelity agrees with qutip to 1e-6: {agree} (max deviation {worst:.1e});"
        f" not rechecked at tight tolerance: n = {unchecked}"
    )

    # ---------------------------------------------------------------- part 2: symmetric route
    print("\nsymmetric route (SymmetricState GHZ input) against qutip.piqs, best of 3 interleaved")
    sym, piqs_t, sym_dense_dev, sym_piqs_dev, rss = {}, {}, {}, {}, {}
    piqs_on = True
    for n in sym_ns if "symmetric" in parts else []:
        if piqs_on and n <= args.piqs_max:
            (c, f), (cp, fp) = best_of([ours_symmetric, with_piqs], n)
            piqs_t[n] = (cp.cpu, cp.wall)
            sym_piqs_dev[n] = float(np.abs(f - fp).max())
            piqs_on = cp.cpu <= QUTIP_LIMIT_S
        else:
            ((c, f),) = best_of([ours_symmetric], n)
        sym[n] = (c.cpu, c.wall)
        rss[n] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if n in fids:
            sym_dense_dev[n] = float(np.abs(f - fids[n]).max())
        pq = f"piqs {_fmt(cp)} |dF| {sym_piqs_dev[n]:.1e}" if n in piqs_t else "piqs -"
        dd = f"|F - F_dense| {sym_dense_dev[n]:.1e}" if n in sym_dense_dev else ""
        print(
            f"  n={n:3d} D={symmetric_dimension(n):8d}: ours {_fmt(c)}  {pq}  {dd}"
            f"  peak RSS {rss[n]:.0f} MB  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if c.cpu > SYM_LIMIT_S:
            break

    # ---------------------------------------------------------------- part 3: full protocol
    print("\nfull GHZ protocol (ghz study, exchangeable drive), 201 times on [0, 1.5 t*]")
    proto_t, proto_dev = {}, {}
    for n in (6, 8) if "protocol" in parts else ():
        (cs, vs, _), (cd, vd, _) = best_of(
            [lambda m: protocol_run(m, True), lambda m: protocol_run(m, False)], n
        )
        proto_dev[n] = float(np.abs(vs - vd).max())
        proto_t[n] = (cs.cpu, cs.wall)
        print(
            f"  n={n:3d}: symmetric {_fmt(cs)}  dense {_fmt(cd)}"
            f"  max |diff| (F and marginal distance) {proto_dev[n]:.1e}",
            flush=True,
        )
    for n in proto_ns if "protocol" in parts else ():
        ((c, v, _),) = best_of([lambda m: protocol_run(m, True)], n)
        proto_t[n] = (c.cpu, c.wall)
        print(
            f"  n={n:3d}: symmetric {_fmt(c)}  F(1.5 t*) = {v[200]:.3e}  peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
            f"  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if c.cpu > SYM_LIMIT_S:
            break
    # ---------------------------------------------------------------- part 4: product sums
    print("\nproduct-sum route, full GHZ protocol, 201 times on [0, 1.5 t*] (noisy GHZ F_in = 0.9)")
    ps_t, ps_dev, ps_closed, ps_build = {}, {}, {}, {}
    ps_peer = {}
    for n in (4, 6) if "productsum" in parts else ():
        (cp_, vp, _), (cd, vd, _) = best_of(
            [lambda m: productsum_run(m, "exchangeable"), lambda m: protocol_run(m, False)], n
        )
        ps_dev[f"dense {n}"] = float(np.abs(vp - vd).max())
        print(
            f"  n={n:4d} exchangeable: product sum {_fmt(cp_)}  dense {_fmt(cd)}"
            f"  max |diff| {ps_dev[f'dense {n}']:.1e}",
            flush=True,
        )
    for n in (10, 40, 100) if "productsum" in parts else ():
        (cp_, vp, _), (cs, vs, _) = best_of(
            [lambda m: productsum_run(m, "exchangeable"), lambda m: protocol_run(m, True)], n
        )
        ps_dev[f"permutation {n}"] = float(np.abs(vp - vs).max())
        ps_peer[n] = (cs.cpu, cs.wall)
        ps_t[f"exchangeable {n}"] = (cp_.cpu, cp_.wall)
        print(
            f"  n={n:4d} exchangeable: product sum {_fmt(cp_)}  permutation {_fmt(cs)}"
            f"  ratio {cs.cpu / max(cp_.cpu, 1e-9):.1f}  max |diff| {ps_dev[f'permutation {n}']:.1e}",
            flush=True,
        )
    for n in (100, 300, 1000) if "productsum" in parts else ():
        ((c, v, (gamma, _, _)),) = best_of([lambda m: productsum_run(m, "zero_sum")], n)
        ((ci, _, _),) = best_of([lambda m: productsum_run(m, "zero_sum", False, 20.0)], n)
        p1 = float(np.linalg.eigvalsh(_ghz_protocol(2, "zero_sum")[3].full())[0])
        p0 = 1 - p1
        # the closed forms at t* itself (the 201-point grid does not contain t*)
        Fc, Fi = (
            evolve_product_sum(
                ProductOperatorSum.noisy_ghz(n, 0.9),
                proto,
                [0.0, t_star],
                e_ops=["ghz_fidelity"],
            ).expect["ghz_fidelity"][-1]
            for proto, t_star, _, _ in (
                _ghz_protocol(n, "zero_sum"),
                _ghz_protocol(n, "zero_sum", False, 20.0),
            )
        )
        ps_closed[n] = (
            abs(Fc - (0.5 + gamma * 0.4)),
            abs(Fi - (p0**n + p1**n) / 2) / ((p0**n + p1**n) / 2),
        )
        ps_t[f"zero_sum {n}"] = (c.cpu, c.wall)
        ps_build[n] = c.build
        print(
            f"  n={n:4d} zero_sum: product sum {_fmt(c)} (+ {c.build:.2f} s CPU to build the "
            f"protocol; independent {ci.cpu:.3f} s)  |F - closed| correlated "
            f"{ps_closed[n][0]:.1e}, independent (relative) {ps_closed[n][1]:.1e}; "
            f"marginal distance at 1.5 t* {v[-1]:.1e}"
            f"  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )

    # ---------------------------------------------------------------- part 5: generic input
    print("\ngeneric permutation-invariant input (product state with coherences), symmetric route")
    gen_t = {}
    for n in (40, 100) if "generic" in parts else ():
        ((c, _),) = best_of([generic_run], n)
        gen_t[n] = (c.cpu, c.wall)
        print(
            f"  n={n:4d}: {_fmt(c)}  peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
            f"  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    out = {
        "speedup_vs_qutip": speedup,
        "largest_n": largest,
        "ours_cpu_s": {str(k): round(v, 4) for k, v in t_ours.items()},
        "qutip_cpu_s": {str(k): round(v, 4) for k, v in t_qutip.items()},
        "max_fidelity_deviation_default_tol": max(fid_dev.values(), default=None),
        "max_fidelity_deviation_tight_tol": {str(k): v for k, v in tight_dev.items()},
        "fidelity_agrees_1e-6": agree,
        "fidelity_unchecked_n": unchecked,
        "symmetric_cpu_wall_s": {str(k): [round(a, 4), round(b, 4)] for k, (a, b) in sym.items()},
        "piqs_cpu_wall_s": {str(k): [round(a, 4), round(b, 4)] for k, (a, b) in piqs_t.items()},
        "symmetric_vs_dense_max_dF": {str(k): v for k, v in sym_dense_dev.items()},
        "symmetric_vs_piqs_max_dF": {str(k): v for k, v in sym_piqs_dev.items()},
        "peak_rss_mb": {str(k): round(v) for k, v in rss.items()},
        "protocol_symmetric_cpu_wall_s": {
            str(k): [round(a, 4), round(b, 4)] for k, (a, b) in proto_t.items()
        },
        "protocol_symmetric_vs_dense_max_diff": {str(k): v for k, v in proto_dev.items()},
        "productsum_cpu_wall_s": {k: [round(a, 4), round(b, 4)] for k, (a, b) in ps_t.items()},
        "productsum_build_cpu_s": {str(k): round(v, 3) for k, v in ps_build.items()},
        "productsum_peer_permutation_cpu_wall_s": {
            str(k): [round(a, 4), round(b, 4)] for k, (a, b) in ps_peer.items()
        },
        "productsum_max_diff": ps_dev,
        "productsum_closed_form_dev": {str(k): list(v) for k, v in ps_closed.items()},
        "generic_symmetric_cpu_wall_s": {
            str(k): [round(a, 4), round(b, 4)] for k, (a, b) in gen_t.items()
        },
        "quick": args.quick,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    sys.exit(main() and 0)

r"""GHZ protocol: n qubits keep multipartite entanglement while each reaches its thermal state.

With classically correlated baths (shared noise and shared clocks) against independent ones.

``n`` qubits (``H = omega |1><1|`` each) start in a GHZ state mixed with white noise,
``rho0 = p GHZ + (1 - p) I/2^n`` with GHZ fidelity ``F_in`` (:func:`eplt.dynamics.states.noisy_ghz_state`),
or in a seeded Hilbert-Schmidt random state (``input=random``, not twirl invariant). The
target is the thermal state ``tau`` at inverse temperature ``beta``; the channel to reach
is ``E^GHZ_gamma = gamma T_GHZ + (1 - gamma) omega^(x)n`` (:func:`eplt.dynamics.channels.ghz_eplt_channel`),
``gamma = 2 p_min(tau)``, ``omega = |0><0|``. The protocol, as three stages of baths:

1. *GHZ twirl* for ``t_twirl``: (i) shared phase noise with zero sum, ``n - 1`` independent
   Brownian signals of strength ``kappa``; signal ``k`` acts with ``+sigma_z/2`` on qubit
   ``k`` and ``-sigma_z/2`` on qubit ``n - 1``. The random phases sum to zero, so a
   coherence ``|x><y|`` survives the average only when ``z_k(x) - z_k(y)`` is the same for
   every qubit: the populations and ``|0..0><1..1|``. (ii) A shared Poisson flip clock of
   rate ``flip_rate`` applying ``sigma_x`` to every qubit at each tick. Together they average
   to a Lindbladian whose fixed points are those of :func:`eplt.dynamics.channels.ghz_twirl`;
   its spectral gap is ``min(kappa/2, 2 flip_rate)`` (the slowest coherence, and the
   population difference ``p(x) - p(not x)``). The protocol does not know its input, so
   ``t_twirl = ln(1/twirl_tol)/gap`` (the run checks the result against ``ghz_twirl`` for
   its input and for a seeded random state: ``twirl_distance``, ``twirl_distance_random``).
2. *Reset* for ``ln(1/gamma)/r``: a shared Poisson clock of rate ``r`` resets every qubit
   to ``omega``. At ``t* = t_twirl + ln(1/gamma)/r`` the state is ``E^GHZ_gamma(rho0)`` up
   to the twirl error: every marginal is ``tau`` and the GHZ fidelity is
   ``1/2 + gamma (F_in - 1/2)`` (``> 1/2``, witnessing genuine multipartite entanglement,
   iff ``F_in > 1/2``).
3. *Hold*: thermal baths at ``beta`` with relaxation rate ``r`` (they keep ``tau``).

``independent``: the same environments with every process copied per qubit
(:meth:`eplt.baths.Environment.independent`): each qubit is dephased and flipped on its own
(its marginal goes to ``I/2``, the state to ``I/2^n``), then reset by its own clock. The
marginals are *identical* to the correlated ones at all times, the state at ``t*`` is
``tau^(x)n``: GHZ fidelity ``(p0^n + p1^n)/2 < 1/2`` and no entanglement.

All processes are white: every stage is solved exactly with the averaged generator
(dense matrix exponentials up to ``4^n = 1024``, sparse ``expm_multiply`` beyond). Cost:
the ``min_bipartition_negativity`` observable diagonalises ``2^(n-1) - 1`` partial
transposes of size ``2^n`` per saved time, which dominates for ``n >= 6``; the scan over
``n`` (second figure) records the state at ``t_twirl`` and ``t*`` only (GHZ fidelity and
marginals). Measured on 2 cores (``eplt run``, one BLAS thread): the default run
(``n = 3`` series, scan to ``n_max = 8``) takes about 5 s; an ``n = 6`` series with 301
times about 4 s; an ``n = 8`` series costs about 1.5 s per saved time (127 cuts of a
256 x 256 state, two scenarios), so use ``n_times`` of a few tens there.

*Scaling scan* (``n_scale_max``, default 100): the permutation-symmetric version of the
protocol — the exchangeable zero-sum drive (:func:`eplt.baths.exchangeable_phase_drive`,
every qubit alike; gap ``min(kappa (n - 1)/(2n), 2 flip_rate)``), the shared flip, the
shared (or independent) reset, identical thermal baths — for n = 2, 3, 4, 6, 8, 12, 16, 24,
32, 48, 64, 100: GHZ fidelity at t* of the noisy GHZ input (per input; correlated
``1/2 + gamma (F_in - 1/2)`` at every n, independent ``(p0^n + p1^n)/2``), the certified
twirl time ``t_twirl(n) = ln(1/twirl_tol)/gap(n)`` and ``t*`` (input independent), the worst
case over all inputs of the marginal distance at t* (:func:`eplt.dynamics.permutation.marginal_channel`,
identical for both scenarios), and the method of each n: the dense engine below 6 qubits,
:mod:`eplt.dynamics.permutation` from 6 on (``binom(n + 3, 3)`` coefficients). One more
point, ``n_product_sum`` (default 1000), runs through the product-sum route
(:mod:`eplt.dynamics.productsum`, O(n) per time) with the zero-sum drive (``n - 1``
signals; the exchangeable drive's ``n^2`` actions take ~35 s to build at n = 1000): its
twirl gap is ``min(kappa/2, 2 flip_rate)``, a ``t_twirl`` shorter by ``(n - 1)/n`` (0.1% at
n = 1000) when the phase noise sets the gap; the correlated GHZ fidelity at t* does not
depend on the drive. ``method_vs_n`` says which route computed each n. The ``drive``
parameter chooses the time series' drive (default ``zero_sum``, as before).

*Worst case over inputs of the GHZ fidelity* (``worst_case_fidelity_at_t_star`` and
``..._vs_n``): the headline question is whether the output GHZ fidelity stays above 1/2,
the witness of genuine multipartite entanglement. Per-input numbers answer it for the
noisy GHZ input only; the worst case is

    min { <GHZ|E_t*(rho)|GHZ> : rho any n-qubit state, <GHZ|rho|GHZ> >= F_in }

(equal to the minimum over permutation-invariant inputs: E_t* and GHZ are permutation
symmetric), measured against the threshold 1/2, computed exactly from
``W = E_t*^+(|GHZ><GHZ|)`` and certified by its dual value
(:func:`eplt.dynamics.productsum.worst_case_ghz_fidelity`). For the correlated protocol it
equals ``1/2 + gamma (F_in - 1/2)``: the twirl stage fixes ``|GHZ><GHZ|`` exactly, so every
input with that fidelity gives the same output fidelity, whatever the twirl time.

Figures: ``timeseries`` (GHZ fidelity with the 1/2 witness line, the only witness of
genuine multipartite entanglement shown; the smallest negativity over all bipartitions,
positive when every cut is entangled, which does not imply GME; largest marginal trace
distance to ``tau``, log scale; correlated vs independent; ``t_twirl`` and ``t*``
marked), ``fidelity_vs_n`` (GHZ fidelity at ``t*`` for ``n = 2..n_max`` against the
closed forms) and ``scaling`` (the scaling scan: GHZ fidelity at t* per input and its worst
case over inputs, and the certified times against n, log scale; the product-sum point as a
diamond). Time is in units of ``1/r``. The default run (series n = 3, dense scan to 8,
scaling scan to 100 with the worst cases, product-sum point at 1000) took 21 s CPU (66 s
wall, load ~11) on the 2-core VM, 2026-12-06; 19 s with ``n_product_sum=0`` in the same
conditions (the worst cases over inputs ~1.8 s of it; the run before them measured 12.2 s
CPU at a different load).

Summary keys: see :data:`SUMMARY_KEYS`. At zero temperature (``tau`` pure) no EPLT exists
and :class:`eplt.dynamics.channels.NoEPLTError` is raised. Plotting lives in
:mod:`eplt.studies._ghz_plot` (re-exported here as :func:`plot` and :func:`figures`).
"""

from __future__ import annotations

import itertools
import math
import sys

import numpy as np
import qutip
import xarray as xr
from eplt.baths import (
    Environment,
    Kick,
    PoissonClock,
    Protocol,
    Reset,
    exchangeable_phase_drive,
    qubit_hamiltonian,
    thermal_bath,
    thermal_state,
    zero_sum_phase_drive,
)
from eplt.dynamics import evolve, marginal_channels
from eplt.dynamics.channels import ghz_eplt_channel, ghz_twirl, lt_error
from eplt.dynamics.measures import ghz_fidelity, trace_distance
from eplt.dynamics.productsum import worst_case_ghz_fidelity
from eplt.dynamics.states import noisy_ghz_state, random_state

from ._ghz_costs import memory_estimate, work_estimate  # noqa: F401  (the study's estimates)
from ._ghz_params import (  # noqa: F401  (the study's parameters, re-exported)
    DRIVES,
    N_LIMIT,
    N_PRODUCT_SUM_LIMIT,
    N_SCALE_LIMIT,
    PARAMS,
    SCENARIOS,
    SUMMARY_KEYS,
)
from ._ghz_plot import GME_NOTE, LABELS, TIME_LABEL, figures, plot  # noqa: F401  (the study's figures)
from ._ghz_scaling import run_scaling
from ._resources import check_memory, check_work
from .base import StudyResult
from .params import (
    RATE_MAX,
    T_MAX,
    ParamError,
    check_seed,
    check_temperature,
    resolve,
)

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SCENARIOS",
    "SUMMARY_KEYS",
    "figures",
    "ghz_protocol",
    "plot",
    "run",
    "twirl_environment",
]

NAME = "ghz"
DESCRIPTION = (
    "n-qubit GHZ protocol: GHZ fidelity and negativity at t* with correlated vs independent baths"
)

#: Value plotted by ``eplt sweep ghz``.
SWEEP_PLOT_KEY = "ghz_fidelity_at_t_star.correlated"  # the shared-randomness protocol

_SX = np.array([[0.0, 1.0], [1.0, 0.0]])


def twirl_gap(n: int, kappa: float, flip_rate: float, drive: str = "zero_sum") -> float:
    """Spectral gap of the averaged twirl stage: ``min(kappa/2, 2 flip_rate)`` for the
    zero-sum drive, ``min(kappa (n - 1)/(2n), 2 flip_rate)`` for the exchangeable one."""
    phase = kappa / 2 if drive == "zero_sum" else kappa * (n - 1) / (2 * n)
    return min(phase, 2 * flip_rate)


def twirl_environment(
    n: int, kappa: float, flip_rate: float, taus=None, *, drive: str = "zero_sum"
) -> Environment:
    """The shared GHZ-twirl environment: zero-sum phase noise plus a shared flip clock.

    ``drive="zero_sum"``: Brownian signal ``k = 0..n-2`` (strength ``kappa``) acts with
    ``+sigma_z/2`` on qubit ``k`` and ``-sigma_z/2`` on qubit ``n - 1``
    (:func:`eplt.baths.zero_sum_phase_drive`); ``drive="exchangeable"``: signal ``k = 0..n-1``
    acts on every qubit ``j`` with ``(delta_jk - 1/n) sigma_z/2``
    (:func:`eplt.baths.exchangeable_phase_drive`, permutation symmetric). The clock ``flip``
    (rate ``flip_rate``) applies ``sigma_x`` to every qubit at each tick.
    ``.independent()`` copies every process per qubit.
    """
    if drive not in DRIVES:
        raise ValueError(f"drive must be one of {DRIVES}, got {drive!r}")
    if drive == "zero_sum":
        terms = zero_sum_phase_drive(kappa, n, name="phase")
    else:
        terms = exchangeable_phase_drive(kappa, n, name="phase")
    clock = PoissonClock(rate=flip_rate, name="flip")
    terms += [Kick(clock, q, _SX) for q in range(n)]
    return Environment([2] * n, terms, taus=taus)


def ghz_protocol(
    n: int,
    tau: qutip.Qobj,
    H: qutip.Qobj,
    beta: float,
    *,
    rate: float,
    kappa: float,
    flip_rate: float,
    t_twirl: float,
    shared: bool = True,
    drive: str = "zero_sum",
) -> tuple[Protocol, float]:
    """Twirl for ``t_twirl``, shared (or independent) reset clock to omega for
    ``ln(1/gamma)/rate``, then hold with thermal baths. Returns ``(protocol, t*)``.
    ``drive`` names the twirl's phase noise (:func:`twirl_environment`)."""
    E = ghz_eplt_channel(tau, 2)  # gamma and omega per qubit; NoEPLTError when tau is pure
    taus = [tau] * n
    twirl = twirl_environment(n, kappa, flip_rate, taus, drive=drive)
    clock = PoissonClock(rate=rate, name="reset")
    reset = Environment([2] * n, [Reset(clock, q, E.omega) for q in range(n)], taus=taus)
    if not shared:
        twirl, reset = twirl.independent(), reset.independent()
    hold = Environment(
        [2] * n, [thermal_bath(q, H, beta, relaxation_rate=rate) for q in range(n)], taus=taus
    )
    t_reset = math.log(1 / E.gamma) / rate
    stages = [(t_twirl, twirl)] if t_twirl > 0 else []
    if t_reset > 0:
        stages.append((t_reset, reset))
    stages.append((math.inf, hold))
    return Protocol(stages, taus=taus), t_twirl + t_reset


def _grid(bounds: list[float], t_max: float, n_times: int) -> np.ndarray:
    """Times with a uniform step inside each stage and every stage boundary included
    (one matrix exponential per stage for the exact solver)."""
    edges = [0.0] + [b for b in bounds if 0 < b < t_max] + [t_max]
    dt = t_max / max(1, n_times - 1)
    pieces = [np.array([0.0])]
    for a, b in itertools.pairwise(edges):
        m = max(1, math.ceil((b - a) / dt - 1e-9))
        seg = a + (b - a) * np.arange(1, m + 1) / m
        seg[-1] = b
        pieces.append(seg)
    return np.concatenate(pieces)


def _input_state(p: dict, n: int, seed: int) -> qutip.Qobj:
    if p["input"] == "random":
        return random_state([2] * n, seed=seed)
    if p["fidelity"] < 2.0**-n:
        raise ParamError(
            f"fidelity must lie in [2^-n, 1] = [{2.0**-n:g}, 1] for n = {n}, got {p['fidelity']:g}"
        )
    return noisy_ghz_state(n, p["fidelity"])


def _twirl_distance(rho: qutip.Qobj, env: Environment, t_twirl: float) -> float:
    if t_twirl <= 0:
        return trace_distance(rho, ghz_twirl(rho))
    out = evolve(rho, env, [0.0, t_twirl], e_ops=[], store_states=True).states[-1]
    return trace_distance(out, ghz_twirl(rho))


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Run the study (exact averaged dynamics; ``seed`` seeds the random states only)."""
    p = resolve(PARAMS, params, study=NAME)
    seed = check_seed(seed)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    n, omega, beta, r = p["n"], p["omega"], p["beta"], p["rate"]
    check_temperature(beta, omega)
    rates = {k: p[k] for k in ("rate", "kappa", "flip_rate")}
    fast, slow = max(rates, key=rates.get), min(rates, key=rates.get)
    if rates[fast] / rates[slow] > RATE_MAX / 1.0:
        # e.g. kappa = 1e-3 and flip_rate = 1e6: the twirl lasts ~1e4 with flips at 1e6,
        # and the propagators lose trace preservation ("channel is not trace preserving")
        raise ParamError(
            f"{fast}/{slow} = {rates[fast] / rates[slow]:.3g} must be at most {RATE_MAX:g}"
            f" ({fast}={rates[fast]:g}, {slow}={rates[slow]:g}): time scales further apart"
            " cannot be propagated to double precision"
        )
    if p["n_product_sum"] and p["n_product_sum"] <= max(p["n_scale_max"], 1):
        raise ParamError(
            f"n_product_sum must be 0 or larger than n_scale_max = {p['n_scale_max']}, "
            f"got {p['n_product_sum']}"
        )
    if 0 < p["t_max"] < 1e-6:
        raise ParamError(
            f"t_max must be 0 (automatic) or in [1e-06, {T_MAX:g}], got {p['t_max']!r}"
        )
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, beta)
    E = ghz_eplt_channel(tau, 2)  # gamma per qubit; NoEPLTError at zero temperature
    gamma = E.gamma
    p0, p1 = np.sort(np.linalg.eigvalsh(tau.full()))[::-1]
    rho0 = _input_state(p, n, seed)
    F_in = ghz_fidelity(rho0)
    gap = twirl_gap(n, p["kappa"], p["flip_rate"], p["drive"])
    t_twirl = math.log(1 / p["twirl_tol"]) / gap
    kw = dict(rate=r, kappa=p["kappa"], flip_rate=p["flip_rate"], t_twirl=t_twirl, drive=p["drive"])
    protos = {}
    for sc in SCENARIOS:
        protos[sc], t_star = ghz_protocol(n, tau, H, beta, shared=sc == "correlated", **kw)
    t_max = p["t_max"] or 1.5 * t_star
    times = _grid([t_twirl, t_star], t_max, p["n_times"])
    e_ops = ["ghz_fidelity", "min_bipartition_negativity", "marginal_distance"]
    jobs = list(SCENARIOS)
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="ghz scenarios", leave=False)
    series = {sc: evolve(rho0, protos[sc], times, e_ops=e_ops) for sc in jobs}
    i_star = int(np.argmin(np.abs(times - t_star))) if t_star <= t_max else None

    # The twirl stage against the closed-form GHZ twirl: this input and a random one.
    twirl_env = twirl_environment(n, p["kappa"], p["flip_rate"], [tau] * n, drive=p["drive"])
    tw_dist = _twirl_distance(rho0, twirl_env, t_twirl)
    tw_rand = _twirl_distance(
        random_state([2] * n, seed=np.random.SeedSequence(seed).spawn(1)[0]), twirl_env, t_twirl
    )

    # GHZ fidelity at t* against n (noisy GHZ input, t_twirl and t* only).
    ns = list(range(2, p["n_max"] + 1))
    scan = {sc: [] for sc in SCENARIOS}
    it = ns
    if progress and ns:
        from tqdm.auto import tqdm

        it = tqdm(ns, desc="fidelity vs n", leave=False)
    for m in it:
        rho_m = noisy_ghz_state(m, max(p["fidelity"], 2.0**-m))
        t_tw_m = math.log(1 / p["twirl_tol"]) / twirl_gap(m, p["kappa"], p["flip_rate"], p["drive"])
        for sc in SCENARIOS:
            proto, t_star_m = ghz_protocol(
                m, tau, H, beta, shared=sc == "correlated", **{**kw, "t_twirl": t_tw_m}
            )
            tl = np.array([0.0, t_tw_m, t_star_m])
            res = evolve(rho_m, proto, tl, e_ops=["ghz_fidelity"])
            scan[sc].append(float(res.expect["ghz_fidelity"][-1]))

    # The scaling scan: the permutation-symmetric protocol for n up to n_scale_max.
    def sym_protocol(m, shared, t_tw):
        return ghz_protocol(
            m, tau, H, beta, shared=shared, **{**kw, "t_twirl": t_tw, "drive": "exchangeable"}
        )

    def ps_protocol(m, shared, t_tw):
        return ghz_protocol(
            m, tau, H, beta, shared=shared, **{**kw, "t_twirl": t_tw, "drive": "zero_sum"}
        )

    scale = run_scaling(
        p,
        tau,
        H,
        sym_protocol,
        lambda m: twirl_gap(m, p["kappa"], p["flip_rate"], "exchangeable"),
        SCENARIOS,
        ps_protocol,
        lambda m: twirl_gap(m, p["kappa"], p["flip_rate"], "zero_sum"),
    )
    nsc = [int(m) for m in scale["n"]]

    def at_star(sc, key, reduce=None):
        if i_star is None:
            return None
        v = series[sc].expect[key][i_star]
        return float(v.max() if reduce == "max" else v)

    md = np.stack([series[sc].expect["marginal_distance"] for sc in SCENARIOS])
    data = xr.Dataset(
        {
            "ghz_fidelity": (
                ("scenario", "time"),
                np.stack([series[sc].expect["ghz_fidelity"] for sc in SCENARIOS]),
                {"units": "1", "long_name": "<GHZ|rho|GHZ>"},
            ),
            "min_bipartition_negativity": (
                ("scenario", "time"),
                np.stack([series[sc].expect["min_bipartition_negativity"] for sc in SCENARIOS]),
                {"units": "1", "long_name": "smallest negativity over all bipartitions"},
            ),
            "marginal_distance": (
                ("scenario", "time", "qubit"),
                md,
                {"units": "1", "long_name": "trace distance of each qubit's marginal to tau"},
            ),
            "ghz_fidelity_at_t_star_vs_n": (
                ("scenario", "n"),
                np.array([scan[sc] for sc in SCENARIOS]).reshape(len(SCENARIOS), len(ns)),
                {"units": "1", "long_name": "GHZ fidelity at t*, noisy GHZ input"},
            ),
            "fidelity_at_t_star_vs_n": (
                ("scenario", "n_scale"),
                np.array([scale["fidelity"][sc] for sc in SCENARIOS]).reshape(2, len(nsc)),
                {"units": "1", "long_name": "GHZ fidelity at t*, exchangeable drive"},
            ),
            "worst_case_fidelity_at_t_star_vs_n": (
                ("scenario", "n_scale"),
                np.array([scale["worst_case"][sc] for sc in SCENARIOS]).reshape(2, len(nsc)),
                {
                    "units": "1",
                    "long_name": "worst case over inputs with GHZ fidelity >= F_in of the "
                    "GHZ fidelity at t*",
                },
            ),
            "t_star_vs_n": (
                ("n_scale",),
                np.asarray(scale["t_star"], dtype=float),
                {"units": "1/omega", "long_name": "t* = t_twirl(n) + ln(1/gamma)/r"},
            ),
            "t_twirl_vs_n": (
                ("n_scale",),
                np.asarray(scale["t_twirl"], dtype=float),
                {"units": "1/omega", "long_name": "certified twirl time ln(1/twirl_tol)/gap(n)"},
            ),
            "lt_error_at_t_star_vs_n": (
                ("n_scale",),
                np.asarray(scale["lt_error"], dtype=float),
                {"units": "1", "long_name": "worst-case marginal distance at t* (all inputs)"},
            ),
        },
        coords={
            "scenario": list(SCENARIOS),
            "n_scale": ("n_scale", np.array(nsc, dtype=int), {"units": "1"}),
            "method_n_scale": ("n_scale", np.array(scale["method"], dtype=str)),
            "time": ("time", times, {"units": "1/omega"}),
            "qubit": list(range(n)),
            "n": ("n", np.array(ns, dtype=int), {"units": "1"}),
        },
        attrs={
            "study": NAME,
            "t_twirl": t_twirl,
            "t_star": t_star,
            "gamma": gamma,
            "input": p["input"],
        },
    )
    closed = {"correlated": 0.5 + gamma * (F_in - 0.5), "independent": (p0**n + p1**n) / 2}
    summary = {
        "n": n,
        "gamma": gamma,
        "twirl_gap": gap,
        "t_twirl": t_twirl,
        "t_star": t_star,
        "ghz_fidelity_input": F_in,
        "ghz_fidelity_at_t_star": {sc: at_star(sc, "ghz_fidelity") for sc in SCENARIOS},
        "worst_case_fidelity_at_t_star": {
            sc: worst_case_ghz_fidelity(protos[sc], t_star, F_in).value for sc in SCENARIOS
        },
        "min_bipartition_negativity_at_t_star": {
            sc: at_star(sc, "min_bipartition_negativity") for sc in SCENARIOS
        },
        "marginal_distance_at_t_star": {
            sc: at_star(sc, "marginal_distance", "max") for sc in SCENARIOS
        },
        "lt_error_at_t_star": {
            sc: float(lt_error(marginal_channels(protos[sc], t_star), tau)) for sc in SCENARIOS
        },
        "closed_forms": closed,
        "twirl_distance": tw_dist,
        "twirl_distance_random": tw_rand,
        "ghz_fidelity_vs_n": {
            str(m): {sc: scan[sc][i] for sc in SCENARIOS} for i, m in enumerate(ns)
        },
        "drive": p["drive"],
        "fidelity_at_t_star_vs_n": {
            str(m): {sc: float(scale["fidelity"][sc][i]) for sc in SCENARIOS}
            for i, m in enumerate(nsc)
        },
        "worst_case_fidelity_at_t_star_vs_n": {
            str(m): {sc: float(scale["worst_case"][sc][i]) for sc in SCENARIOS}
            for i, m in enumerate(nsc)
        },
        "t_star_vs_n": {str(m): float(scale["t_star"][i]) for i, m in enumerate(nsc)},
        "t_twirl_vs_n": {str(m): float(scale["t_twirl"][i]) for i, m in enumerate(nsc)},
        "marginal_distance_at_t_star_vs_n": {
            str(m): {sc: float(scale["marginal_distance"][sc][i]) for sc in SCENARIOS}
            for i, m in enumerate(nsc)
        },
        "lt_error_at_t_star_vs_n": {str(m): float(scale["lt_error"][i]) for i, m in enumerate(nsc)},
        "method_vs_n": {str(m): scale["method"][i] for i, m in enumerate(nsc)},
    }
    return StudyResult(NAME, p, seed, data, summary, extra={"p0": float(p0), "p1": float(p1)})

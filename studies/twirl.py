r"""Finite-time twirling: a shared random drive brings two qudits to the isotropic twirl.

Two qudits (dimension ``d``) start in ``rho0`` (default ``cos(theta)|00> + sin(theta)|11>``,
``theta = pi/8``, entangled and not twirl invariant; or a seeded Hilbert-Schmidt random
state). A random unitary drive acts as ``U`` on A and ``U^*`` on B. Its generators are
the generalized Gell-Mann matrices divided by sqrt(2) (:func:`eplt.baths.protocols.gellmann_basis`,
Hermitian, traceless, ``Tr(G_k G_l) = delta_kl``; Pauli/sqrt(2) for qubits), and the
distance to the exact isotropic twirl ``T(rho0)`` (:func:`eplt.dynamics.channels.isotropic_twirl`)
is tracked. Scenarios:

``brownian_correlated``
    Shared Brownian noise of strength ``kappa``, ``H_A = sqrt(kappa) sum_k eta_k(t) G_k``,
    ``H_B = -H_A^*`` (white noise ``<eta_k(t) eta_l(s)> = delta_kl delta(t - s)``). It
    averages to the Lindbladian ``kappa sum_k D[G_k (x) I - I (x) G_k^*]`` whose fixed points
    are span{I, Phi+}: the distance to ``T(rho0)`` falls as ``exp(-gap t)``, with
    ``gap = d kappa`` (2 kappa for qubits). Exact averaged generator.
``pulses_segment``
    The same shared drive made of i.i.d. Gaussian pulses held for ``segment``: coefficients
    ``x_k ~ N(0, kappa/segment)`` (so ``variance * segment = kappa``: the rotation
    ``x_k segment`` has the variance ``kappa segment`` of the Brownian drive over one segment,
    and the pulsed drive tends to the Brownian one as ``segment -> 0``). The average one-segment
    channel is computed by Gauss-Hermite quadrature (:class:`eplt.dynamics.SegmentAveraged`).
    For qubits its decay rate is known in closed form: the slow (spin-1) mode is multiplied
    per segment by ``lambda = (1 + 2 (1 - s^2) exp(-s^2/2))/3``, ``s^2 = 2 kappa segment``, so
    ``rate = -ln(lambda)/segment`` (``-> 2 kappa`` as ``segment -> 0``). Only for ``d = 2``:
    the quadrature grid has ``nodes^(d^2 - 1)`` points (``nodes^8`` for qutrits).
``pulses_sampled``
    The same pulses, ``ntraj`` sampled realizations (:class:`eplt.dynamics.Sampled`), with jackknife
    standard errors (shaded bands). The trace distance of the sample mean has a noise floor
    of order ``1/sqrt(ntraj)``.
``brownian_independent``
    The same Brownian drives with independent noise on A and B: each qudit depolarizes
    (same local gap) and the state tends to ``I/d^2``, not to ``T(rho0)``; entanglement dies.

Coloured-noise panel (``d = 2``; a separate figure ``coloured``): the same shared drive as
an Ornstein-Uhlenbeck process of correlation time ``tau_c`` (each of ``coloured_tau_c``,
units of ``1/kappa``) at fixed ``kappa = 2 sigma^2 tau_c`` (the integral of its
correlation function, so it tends to the shared Brownian drive as ``tau_c -> 0``),
averaged exactly by the stochastic Liouville method (:class:`eplt.dynamics.StochasticLiouville`,
Hermite hierarchy converged to ``1e-9``).

Figures: ``distance`` (trace distance of each scenario to its *own* fixed point against
``kappa t``, log scale: ``T(rho0)`` for the shared drives, ``I/d^2`` for independent drives
(data ``distance_fixed_point``; ``distance`` keeps the distance to ``T(rho0)`` of all);
a thin ``exp(-gap kappa t)`` guide through the shared Brownian curve and the fitted rates;
bands: one standard error, cut off where they reach zero) and ``negativity`` (negativity
against ``kappa t``, with ``N(T(rho0))`` and the independent sudden-death time). Time is
in units of ``1/kappa``. For a pure Schmidt input,
``N(rho0) = N(T(rho0)) = sin(2 theta)/2`` (qubits) and the shared drives keep the
negativity at that value all along, while independent drives destroy it.

Summary keys (:data:`SUMMARY_KEYS`): ``gap_correlated``, ``gap_independent`` (spectral gaps
of the averaged generators, units of kappa), ``fitted_rate`` (slope of ``ln D`` of the
correlated Brownian drive on its exponential tail, ``kappa t >= t_max/2`` and ``D > 1e-12``),
``fitted_rate_pulses`` and ``rate_pulses_closed_form`` (segment-averaged pulses, d = 2),
``distance_at`` (correlated Brownian distance at ``report_times``), ``t_twirl_input`` (first time
after which the correlated Brownian distance *of this input* stays below ``eps``: a
per-input time, not the channel-level certified twirl time of :mod:`eplt.studies.speedup`),
``t_twirl_input_by_scenario``,
``negativity_final`` and ``negativity_twirl``; ``coloured_max_deviation`` (largest
``|D_OU - D_Brownian|`` over time per ``kappa tau_c``, d = 2).

Plotting lives in :mod:`eplt.studies._twirl_plot` and :mod:`eplt.studies._twirl_coloured`
(re-exported here as :func:`plot`, :func:`figures`, :func:`plot_coloured`,
:func:`coloured_figure`).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import qutip
import xarray as xr
from eplt.baths import Drive, Environment, GaussianPulses
from eplt.baths.protocols import gellmann_basis, twirl_drive
from eplt.dynamics import Sampled, SegmentAveraged, evolve
from eplt.dynamics.channels import isotropic_twirl
from eplt.dynamics.measures import negativity, phi_plus_overlap
from eplt.dynamics.metrics import crossing_time, sudden_death_time
from eplt.dynamics.states import random_state

from ._resources import check_memory, check_work
from ._twirl_coloured import coloured_distances, coloured_figure, plot_coloured
from ._twirl_plot import LABELS, TIME_LABEL, figures, plot  # noqa: F401  (the study's figures)
from .base import StudyResult, value_at
from .params import RATE_MAX, RATE_MIN, Param, ParamError, check_seed, resolve, value_keys

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SCENARIOS",
    "SUMMARY_KEYS",
    "coloured_figure",
    "figures",
    "plot",
    "plot_coloured",
    "pulse_rate_closed_form",
    "run",
]

NAME = "twirl"
DESCRIPTION = (
    "Finite-time isotropic twirl by a shared random drive: distance to T(rho0), gap, negativity"
)

PARAMS = (
    Param(
        "kappa",
        1.0,
        "float",
        "strength of the Brownian drive",
        "1/time",
        low=RATE_MIN,
        high=RATE_MAX,
    ),
    Param("d", 2, "int", "local dimension of the two qudits", "", low=2, high=4),
    Param(
        "t_max", 5.0, "float", "end of the time series", "1/kappa", low=0, low_open=True, high=1e4
    ),
    Param("n_times", 201, "int", "number of saved times", "", low=11, high=100_000),
    Param("segment", 0.25, "float", "duration of one i.i.d. pulse", "1/kappa", low=1e-3, high=1e4),
    Param("ntraj", 400, "int", "realizations of the sampled pulsed drive", "", low=2, high=10**7),
    Param(
        "nodes",
        12,
        "int",
        "Gauss-Hermite nodes per coefficient of the segment average (d = 2)",
        "",
        low=2,
        high=40,
    ),
    Param(
        "input",
        "schmidt",
        "str",
        "initial state: schmidt (cos(theta)|00> + sin(theta)|11>) or random (seeded)",
        "",
        choices=("schmidt", "random"),
    ),
    Param(
        "theta",
        math.pi / 8,
        "float",
        "Schmidt angle of the 'schmidt' input",
        "rad",
        low=0,
        high=math.pi / 2,
    ),
    Param(
        "eps",
        1e-3,
        "float",
        "twirl tolerance in trace distance (defines t_twirl)",
        "",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    ),
    Param(
        "report_times",
        (1.0, 2.0, 3.0, 4.0),
        "floats",
        "times at which the correlated Brownian distance is reported (<= t_max)",
        "1/kappa",
        low=0,
        high=1e4,
        note="no later than t_max, at most 1e4",
    ),
    Param(
        "coloured_tau_c",
        (1.0, 0.3, 0.1, 0.03),
        "floats",
        "correlation times of the shared Ornstein-Uhlenbeck drive (coloured panel, d = 2)",
        "1/kappa",
        low=0.01,
        high=10,
    ),
)

SUMMARY_KEYS = {
    "gap_correlated": "spectral gap of the averaged shared-drive generator, units of kappa "
    "(d kappa: 2 for qubits)",
    "gap_independent": "spectral gap of the averaged independent-drive generator, units of kappa",
    "fitted_rate": "decay rate of the trace distance to T(rho0) for the shared Brownian drive, "
    "least-squares slope of ln D on kappa t >= t_max/2 (D > 1e-12), units of kappa",
    "fitted_rate_pulses": "same fit for the segment-averaged pulsed drive at segment ends "
    "(null for d > 2), units of kappa",
    "rate_pulses_closed_form": "-ln((1 + 2 (1 - s^2) e^{-s^2/2})/3)/segment, s^2 = 2 kappa segment "
    "(d = 2; null otherwise), units of kappa",
    "distance_at": "trace distance to T(rho0) of the shared Brownian drive at report_times "
    "(keys: kappa t)",
    "t_twirl_input": "PER INPUT (this rho0 only; not a channel-level, input-independent "
    "time like the speedup study's certified t_twirl): first time after which the shared "
    "Brownian drive stays within eps of T(rho0), units of 1/kappa",
    "t_twirl_input_by_scenario": "the same for each scenario (null: not reached by t_max)",
    "negativity_final": "negativity at t_max per scenario",
    "negativity_twirl": "negativity of T(rho0)",
    "input_overlap": "<Phi+|rho0|Phi+> (kept by every correlated scenario)",
    "t_sudden_death_independent": "sudden-death time of the negativity under independent "
    "drives (bisection on the exact evolution to 1e-9), units of 1/kappa; null if never "
    "entangled or still entangled at t_max",
    "coloured_max_deviation": "max over time of |D_OU - D_Brownian| for the shared "
    "Ornstein-Uhlenbeck drive at fixed kappa, keyed by kappa tau_c (null for d > 2)",
}

#: Value plotted by ``eplt sweep twirl``.
SWEEP_PLOT_KEY = "fitted_rate"

SCENARIOS = ("brownian_correlated", "pulses_segment", "pulses_sampled", "brownian_independent")
#: Distances below this are round-off (eigenvalues of a difference of 16 x 16 matrices).
ROUNDOFF = 1e-12


def pulse_rate_closed_form(kappa: float, segment: float) -> float:
    r"""Decay rate of the slow mode of the segment-averaged shared pulsed drive on two qubits.

    ``U = exp(-i segment sum_k x_k sigma_k/sqrt(2))``, ``x_k ~ N(0, kappa/segment)``, rotates the
    spin-1 part of ``U (x) U^*`` by the angle ``phi = s |z|``, ``z`` a standard normal 3-vector,
    ``s^2 = 2 kappa segment``. Its average character gives the per-segment factor
    ``lambda = (1 + 2 E[cos phi])/3 = (1 + 2 (1 - s^2) e^{-s^2/2})/3`` and the rate
    ``-ln(lambda)/segment``, which tends to ``2 kappa`` (the Brownian gap) as ``segment -> 0``.

    Examples
    --------
    >>> round(pulse_rate_closed_form(1.0, 1e-6), 5)
    2.0
    """
    s2 = 2 * kappa * segment
    lam = (1 + 2 * (1 - s2) * math.exp(-s2 / 2)) / 3
    if lam <= 0:
        return math.inf
    return -math.log(lam) / segment


def initial_state(p: dict, seed: int) -> qutip.Qobj:
    d = p["d"]
    if p["input"] == "random":
        return random_state([d, d], seed=seed)
    th = p["theta"]
    ket = math.cos(th) * qutip.tensor(qutip.basis(d, 0), qutip.basis(d, 0)) + math.sin(
        th
    ) * qutip.tensor(qutip.basis(d, 1), qutip.basis(d, 1))
    return qutip.ket2dm(ket)


def _environments(p: dict) -> dict[str, Environment]:
    d, kappa = p["d"], p["kappa"]
    G = gellmann_basis(d)
    brown = Environment((d, d), twirl_drive(kappa, d))
    seg = p["segment"] / kappa
    pulses = GaussianPulses(segment=seg, variance=kappa / seg, channels=len(G), name="pulses")
    pulsed = Environment((d, d), [Drive(pulses, 0, G), Drive(pulses, 1, G, conjugate=True)])
    return {"correlated": brown, "independent": brown.independent(), "pulsed": pulsed}


def _fit_rate(kt: np.ndarray, dist: np.ndarray, t_from: float) -> float | None:
    """Least-squares slope of -ln D on kt >= t_from where D > ROUNDOFF (None if < 3 points)."""
    sel = (kt >= t_from - 1e-12) & (dist > ROUNDOFF)
    if np.count_nonzero(sel) < 3:
        sel = (kt > 0) & (dist > ROUNDOFF)
    if np.count_nonzero(sel) < 3:
        return None
    slope = np.polyfit(kt[sel], np.log(dist[sel]), 1)[0]
    return float(-slope)


#: Most pulses (t_max / segment) of one run: each segment end is a saved time.
MAX_SEGMENTS = 10_000


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured: ~35 kB per saved time at d = 2, ~260 kB at d = 4; sampled batches stay under
    ~150 MB whatever ntraj; rounded up)."""
    n_times = p["n_times"] + min(MAX_SEGMENTS, p["t_max"] / p["segment"])  # + segment ends
    return 1.5e8 + 3e3 * p["d"] ** 4 * n_times + 100.0 * p["ntraj"], ("n_times", "d", "ntraj")


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: per saved time (segment
    ends included) ~1 ms for the exact scenarios, times (d/2)^4 (the d^2 x d^2 state);
    per sampled trajectory ~10 microseconds plus ~0.6 per saved time and ~2 per pulse,
    times (d/2)^4; at d = 2 the segment quadrature (~12 microseconds per nodes^3) and per
    coloured tau_c ~0.7 ms per saved time (exact hierarchy).

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, one run in a fresh
    process each): 1.4 s at the defaults, 5.0 s at n_times = 2001, 31 s at 10001, 6.2 s at
    ntraj = 40000, 13.5 s at ntraj = 20000 with n_times = 1001, 25 s at ntraj = 5000 with
    n_times = 3001, 5.8 s at ntraj = 2000 with segment = 0.01, 2.2 s at nodes = 40,
    4.1 s at d = 4 (13.5 s with n_times = 601), 3.9 s at d = 3 with n_times = 1001."""
    d = p["d"]
    pulses = max(1.0, min(MAX_SEGMENTS, p["t_max"] / p["segment"]))
    times, size = p["n_times"] + pulses, (d / 2) ** 4
    per_traj = 1e-5 + 6e-7 * times + 2e-6 * pulses
    seconds = 0.6 + (1e-3 * times + p["ntraj"] * per_traj) * size
    if d == 2:
        seconds += 1.2e-5 * p["nodes"] ** 3 + len(p["coloured_tau_c"]) * (0.02 + 7e-4 * times)
    return seconds, ("n_times", "ntraj", "d", "segment", "nodes")


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Run the study. ``seed`` seeds the random input (``input=random``) and the sampled pulses."""
    p = resolve(PARAMS, params, study=NAME)
    seed = check_seed(seed)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    d, kappa, t_max = p["d"], p["kappa"], p["t_max"]
    at_keys = value_keys(p["report_times"], "report_times")
    tc_keys = value_keys(p["coloured_tau_c"], "coloured_tau_c")
    bad = [t for t in p["report_times"] if t > t_max]
    if bad:
        raise ParamError(f"report_times must be <= t_max = {t_max:g}, got {bad[0]:g}")
    if p["segment"] > t_max:
        raise ParamError(f"segment must be <= t_max = {t_max:g}, got {p['segment']:g}")
    if t_max / p["segment"] > MAX_SEGMENTS:
        raise ParamError(
            f"t_max / segment = {t_max / p['segment']:.3g} pulses; at most {MAX_SEGMENTS}"
            f" (raise segment, now {p['segment']:g}, or lower t_max, now {t_max:g})"
        )
    rho0 = initial_state(p, seed)
    T = isotropic_twirl(rho0)
    Ta = T.full()

    def dist(rho: qutip.Qobj) -> float:  # trace distance to T(rho0), without input checks
        return float(np.abs(np.linalg.eigvalsh(rho.full() - Ta)).sum() / 2)

    e_ops = {"distance": dist, "negativity": "negativity"}
    # Independent drives tend to their own fixed point I/d^2, not to T(rho0) (figure).
    mixed = np.eye(d * d) / (d * d)

    def dist_mixed(rho: qutip.Qobj) -> float:  # trace distance to I/d^2
        return float(np.abs(np.linalg.eigvalsh(rho.full() - mixed)).sum() / 2)

    e_ops_independent = {**e_ops, "distance_fixed_point": dist_mixed}
    # kappa t grid: uniform, plus the report times and every segment end (for the pulse fit).
    kt = np.linspace(0.0, t_max, p["n_times"])
    seg_ends = p["segment"] * np.arange(1, math.floor(t_max / p["segment"] + 1e-9) + 1)
    kt = np.unique(np.round(np.concatenate([kt, p["report_times"], seg_ends]), 12))
    times = kt / kappa
    envs = _environments(p)
    scenarios = [s for s in SCENARIOS if not (s == "pulses_segment" and d > 2)]
    runs = {
        "brownian_correlated": lambda: evolve(rho0, envs["correlated"], times, e_ops=e_ops),
        "brownian_independent": lambda: evolve(
            rho0, envs["independent"], times, e_ops=e_ops_independent
        ),
        "pulses_segment": lambda: evolve(
            rho0, envs["pulsed"], times, e_ops=e_ops, method=SegmentAveraged(nodes=p["nodes"])
        ),
        "pulses_sampled": lambda: evolve(
            rho0, envs["pulsed"], times, e_ops=e_ops, method=Sampled(ntraj=p["ntraj"]), seed=seed
        ),
    }
    it = scenarios
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(scenarios, desc="twirl scenarios", leave=False)
    res = {s: runs[s]() for s in it}

    dist_arr = np.stack([res[s].expect["distance"] for s in scenarios])
    neg_arr = np.stack([res[s].expect["negativity"] for s in scenarios])
    zeros = np.zeros_like(kt)
    se_dist = np.stack([res[s].stderr.get("distance", zeros) for s in scenarios])
    se_neg = np.stack([res[s].stderr.get("negativity", zeros) for s in scenarios])
    # Distance to each scenario's own fixed point: T(rho0) (shared), I/d^2 (independent).
    fp_key = {
        s: "distance_fixed_point" if s == "brownian_independent" else "distance" for s in scenarios
    }
    fp_arr = np.stack([res[s].expect[fp_key[s]] for s in scenarios])
    se_fp = np.stack([res[s].stderr.get(fp_key[s], zeros) for s in scenarios])
    # Sudden death of the negativity under independent drives (None: never entangled on
    # the grid or still entangled at t_max), kappa t, by bisection on the exact evolution.
    neg_ind = neg_arr[scenarios.index("brownian_independent")]
    sd_ind = sudden_death_time(
        times, neg_ind, refine=value_at(rho0, envs["independent"], "negativity"), xtol=1e-9 / kappa
    )
    t_sd_ind = None if sd_ind.time is None or sd_ind.method == "start" else kappa * sd_ind.time

    gap_c = envs["correlated"].spectral_gap() / kappa
    gap_i = envs["independent"].spectral_gap() / kappa
    D = dist_arr[scenarios.index("brownian_correlated")]
    fitted = _fit_rate(kt, D, t_max / 2)
    if "pulses_segment" in scenarios:
        Dp = dist_arr[scenarios.index("pulses_segment")]
        at_ends = np.isin(kt, np.round(seg_ends, 12))
        fitted_p = _fit_rate(kt[at_ends], Dp[at_ends], t_max / 2)
        closed_p = pulse_rate_closed_form(1.0, p["segment"])
    else:
        fitted_p = closed_p = None

    # Exact twirl time of the shared Brownian drive (brentq on the exact dynamics).
    distance_at = value_at(rho0, envs["correlated"], dist)

    def exact_distance(k: float) -> float:
        return distance_at(k / kappa)

    t_tw = {}
    for i, s in enumerate(scenarios):
        refine = exact_distance if s == "brownian_correlated" else None
        c = crossing_time(kt, dist_arr[i], p["eps"], refine=refine, xtol=1e-12)
        t_tw[s] = c.time
    at = {k: float(D[np.argmin(np.abs(kt - t))]) for k, t in zip(at_keys, p["report_times"])}

    # ---- coloured-noise panel (own block): shared OU drive at fixed kappa, exact SLE
    coloured = coloured_distances(p, rho0, times, e_ops) if d == 2 else None

    data = xr.Dataset(
        {
            "distance": (
                ("scenario", "time"),
                dist_arr,
                {"units": "1", "long_name": "trace distance to the isotropic twirl T(rho0)"},
            ),
            "distance_stderr": (
                ("scenario", "time"),
                se_dist,
                {"units": "1", "long_name": "standard error of distance (0 for exact methods)"},
            ),
            "distance_fixed_point": (
                ("scenario", "time"),
                fp_arr,
                {
                    "units": "1",
                    "long_name": "trace distance to the scenario's own fixed point: T(rho0) for "
                    "shared drives, I/d^2 for independent drives",
                },
            ),
            "distance_fixed_point_stderr": (
                ("scenario", "time"),
                se_fp,
                {"units": "1", "long_name": "standard error of distance_fixed_point"},
            ),
            "negativity": (("scenario", "time"), neg_arr, {"units": "1"}),
            "negativity_stderr": (
                ("scenario", "time"),
                se_neg,
                {"units": "1", "long_name": "standard error of negativity (0 for exact methods)"},
            ),
        },
        coords={
            "scenario": list(scenarios),
            "time": ("time", kt, {"units": "1/kappa", "long_name": "kappa t"}),
        },
        attrs={
            "study": NAME,
            "d": d,
            "kappa": kappa,
            "gap_correlated": gap_c,
            "input": p["input"],
        },
    )
    if coloured is not None:
        data["coloured_distance"] = (
            ("tau_c", "time"),
            coloured,
            {"units": "1", "long_name": "trace distance to T(rho0), shared OU drive (exact SLE)"},
        )
        data = data.assign_coords(
            tau_c=("tau_c", np.asarray(p["coloured_tau_c"], float), {"units": "1/kappa"})
        )
    summary = {
        "gap_correlated": gap_c,
        "gap_independent": gap_i,
        "fitted_rate": fitted,
        "fitted_rate_pulses": fitted_p,
        "rate_pulses_closed_form": closed_p,
        "distance_at": at,
        "t_twirl_input": t_tw["brownian_correlated"],
        "t_twirl_input_by_scenario": t_tw,
        "negativity_final": {s: float(neg_arr[i, -1]) for i, s in enumerate(scenarios)},
        "negativity_twirl": negativity(T),
        "input_overlap": phi_plus_overlap(rho0),
        "t_sudden_death_independent": t_sd_ind,
        "coloured_max_deviation": None
        if coloured is None
        else {k: float(np.abs(c - D).max()) for k, c in zip(tc_keys, coloured)},
    }
    return StudyResult(NAME, p, seed, data, summary)

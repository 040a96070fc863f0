r"""Two oscillators (cavities): the layer cake against E_gamma on a Fock cutoff, and two
damped modes under shared, independent or no phase noise.

Each mode has ``H = omega a^dag a``, thermal state ``tau = (1-q) sum_n q^n |n><n|``,
``q = exp(-beta omega)`` (hbar = k_B = 1; negativity with the partial transpose on B).

**Channel level** (:mod:`eplt.dynamics.layer_cake_fock`). The layer cake (an LOSR local
thermalization, exactly LT on the whole Fock space) applied to the two-mode squeezed
vacuum ``sqrt(1 - lambda^2) sum_n lambda^n |nn>`` at each temperature of ``betas``,
against E_gamma on Fock cutoffs ``d`` (``gamma_d = d q^(d-1)(1-q)/(1-q^d)``, collapsing
exponentially; the TMSV is truncated to the ``d`` levels and renormalised for it) and the
any-LT ceiling, the thermofield double's negativity ``sqrt(q)/(1 - sqrt(q))``. The same
for ``Phi+_d`` against ``d``. The layer cake's branch sum is truncated at ``M`` branches
where the negativity's error bound ``sum_{m>M} w_m (m+1)/2`` is below ``1e-10``
(:data:`BRANCH_TOL`); the dropped weight bounds the marginals' distance to ``tau``. The
TMSV input is represented up to the level where ``lambda^(2n)`` is below ``1e-17``, so
it is exact to round-off. The channel-level negativities are per input (the TMSV,
``Phi+_d``), labelled so; the LT property itself holds for every input (exactly).

**Dynamics** (:func:`eplt.baths.cavity_environment`). A TMSV of squeezing ``lam0`` on two
modes at Fock cutoff ``cutoff``, each mode damped by its own thermal bath at ``beta``
(jumps ``sqrt(G (nbar + 1)) a``, ``sqrt(G nbar) a^dag``), with white phase noise
``xi(t) a^dag a`` of strength ``kappa = kappa_phase`` that is

``correlated``
    shared as ``U (x) U*`` (A: ``xi n``, B: ``-xi n``): averages to the jump
    ``sqrt(kappa)(n_A - n_B)``, which never acts on the TMSV's ``n_A - n_B = 0`` sector;
    damping keeps that structure, so the dynamics equal those without noise, exactly;
``independent``
    each mode its own copy (same law): ``|nn><mm|`` dephases at ``kappa (n - m)^2``;
``thermal``
    no phase noise.

The marginal dynamics are the same in all three. Tracked: negativity, the trace distance
of mode A (B is equal by symmetry) to the oscillator's untruncated thermal state (the
levels beyond the cutoff contribute ``q^cutoff/2``), mean photon number of a mode, and
the largest population of either mode's top Fock level. Sudden-death times by
bisection on the exact evolution (bracket ``1e-4/omega``). Hamiltonians are left out (rotating
frame): the baths and the noise are phase covariant, so none of the tracked quantities
depends on them. Solved exactly (averaged generator) by :func:`eplt.dynamics.evolve`.

**Cutoff convergence.** The dynamics are run at ``cutoff`` and at ``cutoff - cutoff_step``;
``cutoff_error["dynamics"]`` is the largest change of any tracked quantity (all scenarios,
all times) between the two, reported beside the largest top-level population. When it
exceeds ``tol`` the run prints one line ``eplt: warning: ... increase cutoff`` on stderr
and ``cutoff_converged`` is false. Engine limit on this branch: the exact method builds
the product of the two local propagators as one ``(cutoff^4)^2`` matrix when the model is
local (no or independent noise), so ``cutoff <= 9`` there (``cutoff = 8``: 270 MB);
shared noise goes through the sparse joint Liouvillian (cutoff 20: ~3 s CPU per unit
time step). The default ``cutoff = 8`` is what runs everywhere on a 2-core machine.

Figures: ``channel_tmsv`` (negativity against ``lambda``, log scale), ``channel_phi_plus``
(negativity against ``d``), ``dynamics`` (four panels against ``G t``: negativity, trace
distance to ``tau``, photon number, and the cutoff check). Summary keys: see
:data:`SUMMARY_KEYS`. Times in ``1/omega``, rates in ``omega``.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import replace

import numpy as np
import qutip
import xarray as xr
from eplt.baths import cavity_environment, edge_population_observable
from eplt.dynamics import evolve
from eplt.dynamics.bosonic import (
    CutoffWarning,
    oscillator_populations,
    tmsv_negativity,
    two_mode_squeezed_vacuum,
)
from eplt.dynamics.channels import NoEPLTError
from eplt.dynamics.layer_cake_fock import (
    MAX_BRANCHES,
    egamma_gamma,
)
from eplt.dynamics.metrics import sudden_death_time

from ._oscillators_channel import (
    BRANCH_TOL,
    INPUT_TOL,
    _tmsv_input,  # noqa: F401  (the study's TMSV input)
    channel_level,
)
from ._oscillators_plot import figures, plot
from ._resources import check_memory, check_work
from .base import StudyResult, value_at
from .params import OMEGA, Param, ParamError, beta_param, check_seed, resolve, value_keys

#: Largest ``x`` with ``exp(-x) > 0`` in double precision (the layer cake's ``q``).
Q_UNDERFLOW = 745.13

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SCENARIOS",
    "SUMMARY_KEYS",
    "channel_level",
    "figures",
    "plot",
    "run",
]

NAME = "oscillators"
DESCRIPTION = (
    "Two cavities: the cutoff-free layer cake vs E_gamma, and damped modes under phase noise"
)

SCENARIOS = ("correlated", "independent", "thermal")
LABELS = {
    "correlated": "shared phase noise",
    "independent": "independent phase noise",
    "thermal": "no phase noise",
}
#: Bisection bracket of the sudden-death times (1/omega); accuracy ESD_XTOL / 2.
ESD_XTOL = 1e-4

PARAMS = (
    beta_param(default=1.0),
    Param(
        "betas",
        (0.5, 1.0, 2.0),
        "floats",
        "temperatures of the channel-level layer-cake curves",
        "1/omega",
        low=0.05,
        high=50,
    ),
    Param(
        "lambdas",
        (0.3, 0.5, 0.7, 0.9),
        "floats",
        "squeezings of the summary's layer-cake negativities",
        "",
        low=0,
        high=0.98,
    ),
    Param(
        "n_lambda", 40, "int", "points of the squeezing axis of the figure", "", low=3, high=2000
    ),
    Param(
        "cutoffs",
        (2, 3, 4, 6, 8, 12, 16),
        "ints",
        "Fock cutoffs d of E_gamma",
        "",
        low=2,
        high=64,
    ),
    Param("d_max", 16, "int", "largest d of the Phi+_d curves", "", low=2, high=200),
    replace(
        OMEGA,
        help=(
            "frequency of each cavity mode (the energy unit of beta, rates and times);"
            " computable for min(beta, betas) * omega >= 0.00855 (at most 4000 layer-cake"
            " branches) and beta * omega below E_gamma's underflow (49.7 at the largest"
            " cutoff d = 16; (d - 1) beta omega < 745)"
        ),
    ),
    Param(
        "lam0", 0.3, "float", "squeezing of the initial TMSV of the dynamics", "", low=0, high=0.9
    ),
    Param("G", 0.1, "float", "damping rate of each cavity", "omega", low=1e-3, high=10),
    Param(
        "kappa_phase", 0.2, "float", "strength of the white phase noise", "omega", low=0, high=10
    ),
    Param("t_max", 20.0, "float", "end of the time series", "1/omega", low=0.1, high=1000),
    Param("n_times", 61, "int", "saved times of the time series", "", low=3, high=20_000),
    Param("cutoff", 8, "int", "Fock cutoff of each mode in the dynamics", "", low=3, high=40),
    Param(
        "cutoff_step",
        2,
        "int",
        "the convergence check reruns the dynamics at cutoff - cutoff_step",
        "",
        low=1,
        high=20,
    ),
    Param(
        "tol",
        1e-2,
        "float",
        "tolerance of the dynamics' reported quantities (cutoff check)",
        "",
        low=1e-12,
        high=1,
    ),
)

SUMMARY_KEYS = {
    "layer_cake_negativity_tmsv": (
        "dict lambda -> negativity of the layer cake's output on the TMSV at beta (per input; "
        "error <= 1e-10, cutoff-free)"
    ),
    "layer_cake_negativity_phi_plus": "dict d -> the layer cake's output negativity on Phi+_d",
    "egamma_negativity_vs_cutoff": (
        "dict d -> negativity of E_gamma(Phi+_d) on the Fock cutoff d at beta (collapses)"
    ),
    "gamma_vs_cutoff": "dict d -> E_gamma's twirl weight gamma_d = d q^(d-1)(1-q)/(1-q^d)",
    "tfd_ceiling": "any-LT ceiling sqrt(q)/(1 - sqrt(q)) at beta (thermofield double)",
    "tmsv_negativity": "dict lambda -> input negativity lambda/(1 - lambda)",
    "cutoff_used": (
        "dict: branches (layer-cake branches kept at beta), input_levels (TMSV levels kept at "
        "the largest lambda), dynamics (Fock cutoff per mode), check (cutoff of the rerun)"
    ),
    "cutoff_error": (
        "dict: channel (bound on the layer-cake negativities' error), marginal (dropped branch "
        "weight = bound on the marginals' distance to tau), dynamics (largest change of any "
        "tracked quantity between cutoff and cutoff - cutoff_step), edge_population (largest "
        "top-level population over the run)"
    ),
    "cutoff_converged": "cutoff_error['dynamics'] <= tol",
    "tol": "tolerance of the dynamics' quantities",
    "t_esd": (
        "dict scenario -> sudden-death time (1/omega) of the TMSV, bisection to 1e-4; None if "
        "entangled at t_max or never entangled"
    ),
    "negativity_initial": "negativity of the initial (truncated) TMSV",
    "max_marginal_difference": (
        "largest difference of the marginal trace distances between scenarios (0: same local "
        "dynamics)"
    ),
    "beta": "inverse temperature (1/omega)",
}

#: Time-series variables of the dynamics (name, units, long name).
SERIES = (
    ("negativity", "1", "negativity N"),
    ("marginal_distance", "1", "trace distance of mode A to the (untruncated) thermal state"),
    ("photon_number", "1", "mean photon number of mode A"),
    ("edge_population", "1", "largest population of a top Fock level"),
)


def _dynamics_at(p: dict, N: int, times: np.ndarray) -> tuple[dict, dict, dict]:
    """Series of every scenario at cutoff N, the environments and the initial state."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CutoffWarning)  # the cutoff check below reports it
        rho0 = two_mode_squeezed_vacuum(p["lam0"], cutoff=N)
    nA = qutip.tensor(qutip.num(N), qutip.qeye(N))
    tau_head = oscillator_populations(p["beta"], cutoff=N, omega=p["omega"])  # not renormalised
    tail = 1.0 - float(tau_head.sum())  # q^N

    def distance_to_tau(rho):
        # D(rho_A, tau) with the oscillator's untruncated tau: the levels >= N add q^N
        a = rho.ptrace(0).full() - np.diag(tau_head)
        return 0.5 * (float(np.abs(np.linalg.eigvalsh((a + a.conj().T) / 2)).sum()) + tail)

    series, envs = {}, {}
    for s in SCENARIOS:
        noise = {"correlated": "shared", "independent": "independent", "thermal": "none"}[s]
        kappa = 0.0 if s == "thermal" else p["kappa_phase"]
        env = cavity_environment(
            p["beta"], rate=p["G"], cutoff=N, omega=p["omega"], kappa=kappa, noise=noise
        )
        res = evolve(
            rho0,
            env,
            times,
            e_ops={
                "negativity": "negativity",
                "marginal_distance": distance_to_tau,
                "photon_number": nA,
                "edge_population": edge_population_observable(),
            },
        )
        series[s] = {
            "negativity": np.asarray(res.expect["negativity"], float),
            "marginal_distance": np.asarray(res.expect["marginal_distance"], float),
            "photon_number": np.real(np.asarray(res.expect["photon_number"])),
            "edge_population": np.asarray(res.expect["edge_population"], float),
        }
        envs[s] = env
    return series, envs, rho0


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` and the parameters driving them.

    Dynamics at cutoff ``N``: the exact method's Krylov path on the sparse Liouvillian of the
    ``N^4``-entry joint state (or, without shared noise, dense ``N^2 x N^2`` local
    propagators), ``~1.5e3 N^4`` bytes with its sparse matrix, Krylov vectors and the
    observable buffer (the engine's own estimate, ``Result.params["method"]
    ["memory_estimate_bytes"]``: 225 MB at cutoff 20, 3.7 GB at cutoff 40, shared noise);
    the engine checks it again before allocating. The channel level holds ``M x M`` blocks
    (``M`` branches at the smallest beta) and the TMSV input."""
    N = p["cutoff"]
    dyn = 1.5e3 * N**4
    lam = max(p["lambdas"])
    n_in = 1 if lam == 0 else math.log(INPUT_TOL) / (2 * math.log(lam))
    b_min = min(min(p["betas"]), p["beta"])
    q = math.exp(-b_min * p["omega"])
    M = MAX_BRANCHES if q > 0.999 else min(MAX_BRANCHES, 40 / (1 - q))
    chan = 16.0 * 8 * max(M, n_in) ** 2 + 16.0 * 4 * (p["d_max"] ** 2 + 64**2)
    names = ("cutoff",) if dyn >= chan else ("beta", "betas", "lambdas")
    return 5e7 + dyn + chan + 8.0 * 8 * p["n_times"], names


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them.

    Channel level: ~4 ms per (beta, lambda) point of the layer cake and per (d, lambda)
    point of E_gamma, ~2 ms per d of the Phi+_d curves. Dynamics: per evolution (three
    scenarios, twice for the check at ``N - cutoff_step``, ~14 sudden-death bisection
    evolutions per scenario) ``~1.4e-7 N^5.5`` s per 51 saved times (the engine's Krylov
    path, measured 2026-12-06 with ``time.process_time`` under load: 2.2 s at cutoff 20,
    98 s at cutoff 40, shared noise, 51 times to ``t = 10``) plus the negativity's
    ``N^2 x N^2`` eigenvalues, ``~1e-10 N^6`` s per saved time. Rounded up."""
    n_pts = (len(set(p["betas"]) | {p["beta"]}) + len(set(p["cutoffs"]))) * (
        p["n_lambda"] + len(p["lambdas"])
    )
    chan = 4e-3 * n_pts + 2e-3 * p["d_max"] * (1 + p["d_max"] / 50)
    N = p["cutoff"]
    per_evolution = p["n_times"] * (1.4e-7 * N**5.5 / 51 + 1e-10 * N**6 + 1e-4) + 0.02
    dyn = 3 * (2 + 14) * per_evolution
    return 1.0 + chan + dyn, ("n_lambda", "d_max", "n_times", "cutoff")


def _bisect(ok, lo: float, hi: float, *, log: bool = False) -> float:
    """Boundary between ``ok(lo) != ok(hi)`` to ~1e-12 relative (geometric when ``log``)."""
    for _ in range(80):
        mid = math.sqrt(lo * hi) if log else (lo + hi) / 2
        if ok(mid) == ok(lo):
            lo = mid
        else:
            hi = mid
    return hi if ok(hi) else lo


def _lc_computable(x: float) -> bool:
    """Whether the layer cake at ``beta omega = x`` needs at most ``MAX_BRANCHES`` branches
    (the engine's own branch rule, without building the branches)."""
    from eplt.dynamics.layer_cake_fock import branch_cutoff

    q = math.exp(-x)
    if not 0 < q < 1:
        return False
    try:
        branch_cutoff(q, BRANCH_TOL)
    except ValueError:
        return False
    return True


def check_computable(p: dict) -> None:
    """Refuse, in one line naming ``omega`` and the temperatures, a ``beta omega`` at
    which the channel level cannot be computed: at the hottest temperature the layer cake
    would need more than ``MAX_BRANCHES`` branches; at ``beta`` E_gamma's weight
    ``gamma_d`` underflows on the largest cutoff ``d`` (max of ``cutoffs``, ``d_max``); at
    the coldest ``q = exp(-beta omega)`` underflows."""
    omega, beta = p["omega"], p["beta"]
    b_min, b_max = min(min(p["betas"]), beta), max(max(p["betas"]), beta)
    x_min = b_min * omega
    if x_min < 1 and not _lc_computable(x_min):
        lim = _bisect(_lc_computable, x_min, 1.0, log=True)
        raise ParamError(
            f"min(beta, betas) * omega = {x_min:.3g} (omega = {omega:g}, hottest beta ="
            f" {b_min:g}) needs more than {MAX_BRANCHES} layer-cake branches for the error"
            f" bound {BRANCH_TOL:g}; raise omega or the smallest of beta and betas so that"
            f" min(beta, betas) * omega >= {lim:.4g} (omega >= {lim / b_min:.4g} here)"
        )
    d_top = int(max(max(p["cutoffs"]), p["d_max"]))
    x = beta * omega
    if egamma_gamma(beta, d_top, omega=omega) == 0:
        lim = _bisect(lambda y: egamma_gamma(y, d_top, omega=1.0) > 0, 1e-3, x)
        raise ParamError(
            f"beta * omega = {x:.4g} (beta = {beta:g}, omega = {omega:g}) is too cold for"
            f" E_gamma on the largest cutoff d = {d_top} (max of cutoffs and d_max): its"
            " weight gamma_d = d q^(d-1) (1-q)/(1-q^d) underflows to 0; lower beta or omega"
            f" so that beta * omega < {lim:.4g} (omega < {lim / beta:.4g} here), or lower"
            " cutoffs and d_max"
        )
    if b_max * omega >= Q_UNDERFLOW:
        raise ParamError(
            f"max(beta, betas) * omega = {b_max * omega:.4g} (omega = {omega:g}, coldest beta"
            f" = {b_max:g}): q = exp(-beta omega) underflows to 0 and the layer cake has no"
            f" thermal state to mix; lower omega or the largest of beta and betas so that"
            f" max(beta, betas) * omega < {Q_UNDERFLOW:g} (omega < {Q_UNDERFLOW / b_max:.4g} here)"
        )


def _esd(rho0, env, times, neg):
    if neg[0] <= 1e-12:
        return None
    c = sudden_death_time(times, neg, refine=value_at(rho0, env, "negativity"), xtol=ESD_XTOL)
    return c.time


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Channel-level curves, the three dynamics at two cutoffs, and the summary."""
    p = resolve(PARAMS, params, study=NAME)
    seed = check_seed(seed)
    if p["cutoff"] - p["cutoff_step"] < 2:
        raise ParamError(
            f"cutoff - cutoff_step must be >= 2 (the convergence check's cutoff), got "
            f"{p['cutoff']} - {p['cutoff_step']}"
        )
    check_computable(p)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)
    try:
        ch = channel_level(p)
    except NoEPLTError:  # tau pure (beta * omega so large that q underflows): one line
        raise
    except ValueError as exc:  # too many layer-cake branches at a very high temperature
        raise ParamError(f"{NAME}: {exc}") from None
    times = np.linspace(0.0, p["t_max"], p["n_times"])
    N, Nc = p["cutoff"], p["cutoff"] - p["cutoff_step"]
    main, envs, rho0 = _dynamics_at(p, N, times)
    check, _, _ = _dynamics_at(p, Nc, times)
    change = max(
        float(np.abs(main[s][k] - check[s][k]).max()) for s in SCENARIOS for k, *_ in SERIES[:3]
    )
    edge = max(float(main[s]["edge_population"].max()) for s in SCENARIOS)
    converged = change <= p["tol"]
    if not converged:
        print(
            f"eplt: warning: {NAME}: the dynamics are not converged in the Fock cutoff "
            f"(quantities change by {change:.3g} > tol = {p['tol']:g} between cutoff {Nc} and "
            f"{N}); increase cutoff",
            file=sys.stderr,
        )
    t_esd = {s: _esd(rho0, envs[s], times, main[s]["negativity"]) for s in SCENARIOS}
    mdiff = max(
        float(np.abs(main[a]["marginal_distance"] - main[b]["marginal_distance"]).max())
        for a in SCENARIOS
        for b in SCENARIOS
        if a < b
    )
    i_beta = int(np.nonzero(ch["betas"] == p["beta"])[0][0])
    lam_keys = value_keys(p["lambdas"], "lambdas")  # unique, read back as the values
    lam_idx = [int(np.argmin(np.abs(ch["lambda"] - lam))) for lam in p["lambdas"]]
    summary = {
        "layer_cake_negativity_tmsv": {
            k: float(ch["layer_cake"][i_beta, j]) for k, j in zip(lam_keys, lam_idx)
        },
        "layer_cake_negativity_phi_plus": {
            int(d): float(v) for d, v in zip(ch["d"], ch["layer_cake_phi"])
        },
        "egamma_negativity_vs_cutoff": ch["egamma_phi_cutoffs"],
        "gamma_vs_cutoff": {
            int(d): egamma_gamma(p["beta"], int(d), omega=p["omega"]) for d in ch["cutoffs"]
        },
        "tfd_ceiling": float(ch["ceiling"][i_beta]),
        "tmsv_negativity": {
            k: tmsv_negativity(float(lam)) for k, lam in zip(lam_keys, p["lambdas"])
        },
        "cutoff_used": {
            "branches": ch["errors"]["branches"],
            "input_levels": ch["errors"]["levels"],
            "dynamics": N,
            "check": Nc,
        },
        "cutoff_error": {
            "channel": ch["errors"]["channel"],
            "marginal": ch["errors"]["marginal"],
            "dynamics": change,
            "edge_population": edge,
        },
        "cutoff_converged": converged,
        "tol": p["tol"],
        "t_esd": t_esd,
        "negativity_initial": float(main["thermal"]["negativity"][0]),
        "max_marginal_difference": mdiff,
        "beta": p["beta"],
    }
    data = _dataset(p, ch, main, check, times, t_esd)
    return StudyResult(NAME, p, seed, data, summary)


def _dataset(p, ch, main, check, times, t_esd) -> xr.Dataset:
    scen = np.array(SCENARIOS, dtype=object)
    dyn = {
        name: (
            ("cutoff_run", "scenario", "time"),
            np.stack([[r[s][name] for s in SCENARIOS] for r in (main, check)]),
            {"units": u, "long_name": ln},
        )
        for name, u, ln in SERIES
    }
    return xr.Dataset(
        {
            "layer_cake_negativity": (
                ("beta", "lam"),
                ch["layer_cake"],
                {"units": "1", "long_name": "N of the layer cake's output on the TMSV"},
            ),
            "egamma_negativity": (
                ("cutoff_d", "lam"),
                ch["egamma"],
                {"units": "1", "long_name": "N of E_gamma on cutoff d, TMSV truncated to d levels"},
            ),
            "tfd_ceiling": (
                ("beta",),
                ch["ceiling"],
                {"units": "1", "long_name": "any-LT ceiling sqrt(q)/(1-sqrt(q))"},
            ),
            "layer_cake_negativity_phi_plus": (("d",), ch["layer_cake_phi"], {"units": "1"}),
            "egamma_negativity_phi_plus": (
                ("d",),
                ch["egamma_phi"],
                {"units": "1", "long_name": "N of E_gamma(Phi+_d) on cutoff d"},
            ),
            "t_esd": (
                ("scenario",),
                np.array([np.nan if t_esd[s] is None else t_esd[s] for s in SCENARIOS]),
                {"units": "1/omega", "long_name": "sudden-death time (NaN: none)"},
            ),
            **dyn,
        },
        coords={
            "beta": ("beta", ch["betas"], {"units": "1/omega"}),
            "lam": ("lam", ch["lambda"], {"units": "1", "long_name": "TMSV squeezing lambda"}),
            "cutoff_d": ("cutoff_d", ch["cutoffs"], {"units": "1"}),
            "d": ("d", ch["d"], {"units": "1"}),
            "scenario": ("scenario", scen),
            "cutoff_run": (
                "cutoff_run",
                np.array([p["cutoff"], p["cutoff"] - p["cutoff_step"]]),
                {"units": "1", "long_name": "Fock cutoff per mode"},
            ),
            "time": ("time", times, {"units": "1/omega"}),
        },
        attrs={
            "study": NAME,
            "beta": p["beta"],
            "G": p["G"],
            "kappa_phase": p["kappa_phase"],
            "lam0": p["lam0"],
            "omega": p["omega"],
        },
    )

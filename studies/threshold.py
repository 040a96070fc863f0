r"""Entanglement threshold of E_gamma on isotropic inputs: N(E_gamma(rho_F)) over F and beta.

The input is the isotropic state ``rho_F = F Phi+ + (1 - F)(I - Phi+)/(d^2 - 1)``
(:func:`eplt.dynamics.states.isotropic_state`), the channel the protocol E_gamma
(:func:`eplt.dynamics.channels.eplt_channel`) for two identical thermal states ``tau`` at
inverse temperature ``beta``: a qubit (``H = omega |1><1|``) for ``d = 2`` and a qutrit
ladder (energies ``0, omega, 2 omega``) for ``d = 3``. Computed:

* the negativity ``N(E_gamma(rho_F))`` on a grid of ``F in [0, 1]`` and ``beta`` (log
  spaced in ``[beta_min, beta_max]``), for ``d = 2`` and ``d = 3``;
* the threshold ``F_th(beta)``, the smallest ``F`` with ``N(E_gamma(rho_F)) > 0``, by
  bisection on ``[0, 1]`` to a bracket below ``1e-12`` (at every grid beta and at the
  betas of ``betas_threshold``); also for two qubits at *different* temperatures,
  ``beta_B = beta_ratio * beta_A``;
* a random-state check of the two-qubit statement "``E_gamma(rho)`` is NPT iff
  ``<Phi+|rho|Phi+> > 1/2``" on ``n_random`` seeded states
  ``rho = p Phi+ + (1 - p) sigma`` (``p`` uniform in ``[0, 1]``, ``sigma`` a
  Hilbert-Schmidt random state of random rank, ``beta`` log-uniform in the heat-map
  range); about 60 % of them have overlap above 1/2. A violation is a state whose
  output negativity (``> 1e-12`` counts as NPT) disagrees with ``F > 1/2``.

Why the threshold is exactly ``1/d`` at every ``0 < beta < inf`` (identical, diagonal
thermal states). ``T(rho_F) = rho_F``, so ``E_gamma(rho_F) = gamma rho_F + (1 - gamma)
omega (x) omega`` with ``omega = (tau - p_min I)/(1 - gamma)``. Two facts:

1. *For ``F <= 1/d`` the output is separable*: ``rho_F`` is separable there and
   ``omega (x) omega`` is a product, so their mixture is separable.
2. *For ``F > 1/d`` it is NPT*: ``rho_F^{T_B} = (1 - F)/(d^2 - 1) I + (d^2 F - 1)/
   (d (d^2 - 1)) SWAP`` has the eigenvalue ``(1 - d F)/(d (d - 1))`` on the
   antisymmetric subspace, negative for ``F > 1/d``. ``omega`` has a zero eigenvalue on
   the level ``k`` of ``p_min`` (the top level), and ``omega (x) omega`` is diagonal (so
   invariant under ``T_B``) with weight ``omega_i omega_k = 0`` on every antisymmetric
   vector ``(|ik> - |ki>)/sqrt(2)``. Such a vector is therefore an eigenvector of
   ``E_gamma(rho_F)^{T_B}`` with eigenvalue ``gamma (1 - d F)/(d (d - 1)) < 0``.

So the replacement branch never hides the twirl branch's negativity, and the threshold
is the isotropic-state threshold ``1/d``: 1/2 for qubits, 1/3 for the qutrit ladder.
Exactly (``x+ = max(x, 0)``):

* ``d = 2`` (``omega = |0><0|``): ``N = gamma (2 F - 1)+ / 2``;
* ``d = 3``: ``N = gamma (3 F - 1)+ / 3 + (gamma (3 F - 1)/6 - (1 - gamma) w_0 w_1)+``,
  ``w_i`` the eigenvalues of ``omega`` (the pair ``|01>, |10>`` sees
  ``omega (x) omega``; the pairs ``|02>, |20>`` and ``|12>, |21>`` do not).

With ``tau_A != tau_B`` the omega of the hotter party is mixed, the singlet direction
gets weight from ``omega_A (x) omega_B`` and the qubit threshold rises above 1/2.

Figures: ``heatmap`` (negativity over ``F`` and ``beta omega`` for d = 2 and 3 on one
colour scale, threshold line labelled on the map) and ``threshold`` ((a) ``F_th`` against
``beta omega`` for identical thermal states; (b) the qubit ``F_th`` against
``beta_B / beta_A`` for each ``beta_A`` of ``betas_threshold``, data
``threshold_F_vs_ratio``; a curve ends where ``tau_B`` is pure to machine precision).

Summary keys: see :data:`SUMMARY_KEYS`. At zero temperature (``beta = inf``, or
``beta omega`` so large that ``p_min <= 1e-14``) no EPLT exists and
:class:`eplt.dynamics.channels.NoEPLTError` is raised. Plotting lives in
:mod:`eplt.studies._threshold_plot` (re-exported here as :func:`plot` and :func:`figures`).
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace

import numpy as np
import xarray as xr
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.measures import negativity, phi_plus_overlap
from eplt.dynamics.states import phi_plus, random_state

from ._resources import check_memory, check_work
from ._threshold_plot import figures, plot  # the study's figures
from .base import StudyResult
from .params import (
    OMEGA,
    ZERO_TEMPERATURE_NOTE,
    Param,
    ParamError,
    check_seed,
    check_temperature,
    resolve,
    value_keys,
)

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SUMMARY_KEYS",
    "figures",
    "negativity_closed_form",
    "plot",
    "run",
    "threshold_bisection",
]

NAME = "threshold"
DESCRIPTION = "Entanglement threshold of E_gamma on isotropic inputs: 1/d at every temperature"

PARAMS = (
    replace(OMEGA, help="level spacing (qubit gap; qutrit ladder 0, omega, 2 omega)"),
    Param(
        "beta_min",
        0.05,
        "float",
        "smallest inverse temperature of the heat map",
        "1/omega",
        low=1e-6,  # the heat map's log axis: 1e-300 hung the figure (300 decades)
        high=math.inf,
        high_open=True,
        note=ZERO_TEMPERATURE_NOTE,
    ),
    Param(
        "beta_max",
        5.0,
        "float",
        "largest inverse temperature of the heat map",
        "1/omega",
        low=1e-6,  # the heat map's log axis: 1e-300 hung the figure (300 decades)
        high=math.inf,
        high_open=True,
        note=ZERO_TEMPERATURE_NOTE,
    ),
    Param("n_beta", 60, "int", "beta points of the heat map (log spaced)", "", low=2, high=5000),
    Param("n_F", 201, "int", "F points of the heat map", "", low=3, high=20001),
    Param(
        "betas_threshold",
        (0.1, 0.5, 1.0, 2.0, 5.0),
        "floats",
        "betas at which the threshold is reported",
        "1/omega",
        low=0,
        high=math.inf,
        high_open=True,
        note=ZERO_TEMPERATURE_NOTE,
    ),
    Param(
        "beta_ratio",
        2.0,
        "float",
        "beta_B / beta_A of the unequal-temperature qubit curve",
        "",
        low=1,
        high=100,
    ),
    Param(
        "n_random",
        2000,
        "int",
        "random two-qubit states of the NPT-iff-F>1/2 check",
        "",
        low=10,
        high=10**6,
    ),
)

SUMMARY_KEYS = {
    "threshold_F": (
        "dict d ('2', '3') -> dict beta (as text) -> smallest F with "
        "N(E_gamma(rho_F)) > 0 "
        "(bisection, bracket < 1e-12); 1/d for identical thermal states"
    ),
    "threshold_F_unequal": (
        "dict beta_A -> qubit threshold with tau_B at "
        "beta_B = beta_ratio * beta_A "
        "(None if E_gamma(rho_F) is PPT for every F)"
    ),
    "beta_ratio": "beta_B / beta_A of threshold_F_unequal",
    "max_threshold_deviation": (
        "max |F_th - 1/d| over the heat-map betas and betas_threshold (d = 2, 3)"
    ),
    "max_closed_form_error": "max |N - closed form| over the heat map (d = 2, 3)",
    "violations": (
        "random two-qubit states where 'E_gamma(rho) NPT' disagrees with '<Phi+|rho|Phi+> > 1/2'"
    ),
    "n_random": "number of random states checked",
    "n_above_half": "how many of them have <Phi+|rho|Phi+> > 1/2",
}

DIMS = (2, 3)
#: Number of bisection steps: a bracket of 2^-42 < 2.3e-13 on [0, 1].
BISECTION_STEPS = 42
#: Output negativity above this counts as NPT in the random-state check.
NPT_ATOL = 1e-12


# --------------------------------------------------------------------------- physics


def _hamiltonian(d: int, omega: float):
    return qubit_hamiltonian(omega) if d == 2 else np.arange(d) * omega


def _channel_data(d: int, omega: float, beta_A: float, beta_B: float | None = None):
    """gamma and omega_A (x) omega_B of E_gamma for thermal states at beta_A, beta_B."""
    H = _hamiltonian(d, omega)
    tau_A = thermal_state(H, beta_A)
    tau_B = tau_A if beta_B is None else thermal_state(H, beta_B)
    E = eplt_channel(tau_A, tau_B)  # raises NoEPLTError at zero temperature
    return E.gamma, np.kron(E.omega[0].full(), E.omega[1].full()), E


def _isotropic(F: np.ndarray, d: int) -> np.ndarray:
    """Stack of isotropic states, shape ``F.shape + (d^2, d^2)``."""
    v = np.zeros(d * d)
    v[:: d + 1] = 1 / math.sqrt(d)
    P = np.outer(v, v)
    rest = (np.eye(d * d) - P) / (d * d - 1)
    F = np.asarray(F, dtype=float)[..., None, None]
    return F * P + (1 - F) * rest


def _min_pt_eig(a: np.ndarray, d: int) -> np.ndarray:
    """Smallest eigenvalue of the partial transpose (party B) of each matrix in the stack."""
    shp = a.shape[:-2]
    t = a.reshape(*shp, d, d, d, d)
    t = np.swapaxes(t, -1, -3).reshape(*shp, d * d, d * d)
    return np.linalg.eigvalsh((t + np.swapaxes(t, -1, -2).conj()) / 2)


def _output_negativity(F, gammas, omegas, d: int) -> np.ndarray:
    """N(E_gamma(rho_F)) for each (gamma, omega (x) omega) row and each F column."""
    g = np.asarray(gammas)[:, None, None, None]
    out = g * _isotropic(F, d)[None] + (1 - g) * np.asarray(omegas)[:, None]
    lam = _min_pt_eig(out, d)
    return -np.where(lam < 0, lam, 0.0).sum(axis=-1)


def negativity_closed_form(F, beta: float, d: int = 2, omega: float = 1.0) -> np.ndarray:
    r"""Exact ``N(E_gamma(rho_F))`` for identical thermal states (``d = 2`` or ``3``).

    ``d = 2``: ``gamma (2F - 1)+/2``. ``d = 3`` (ladder ``0, omega, 2 omega``):
    ``gamma (3F - 1)+/3 + (gamma (3F - 1)/6 - (1 - gamma) w_0 w_1)+`` with ``w_i`` the
    eigenvalues of ``omega = (tau - p_min I)/(1 - gamma)``.

    Examples
    --------
    >>> round(float(negativity_closed_form(1.0, 1.0, d=2)), 12)   # p_min = 1/(1 + e)
    0.26894142137
    """
    F = np.asarray(F, dtype=float)
    gamma, _, E = _channel_data(d, omega, beta)
    if d == 2:
        return gamma * np.maximum(2 * F - 1, 0) / 2
    if d != 3:
        raise ValueError(f"closed form known for d = 2, 3, got d={d}")
    w = np.sort(np.real(np.diag(E.omega[0].full())))[::-1]
    return gamma * np.maximum(3 * F - 1, 0) / 3 + np.maximum(
        gamma * (3 * F - 1) / 6 - (1 - gamma) * w[0] * w[1], 0
    )


def threshold_bisection(gammas, omegas, d: int) -> np.ndarray:
    """Smallest F with ``N(E_gamma(rho_F)) > 0`` for each channel (vectorized bisection).

    Bisection on the predicate "smallest eigenvalue of the output's partial transpose is
    negative" (equivalent to ``N > 0``), ``BISECTION_STEPS`` halvings of ``[0, 1]``; the
    upper end of the final bracket is returned. NaN where the output is PPT at ``F = 1``.
    """
    gammas = np.asarray(gammas, dtype=float)
    n = gammas.size
    lo, hi = np.zeros(n), np.ones(n)

    def npt(F):
        g = gammas[:, None, None]
        out = g * _isotropic(F, d) + (1 - g) * np.asarray(omegas)
        return _min_pt_eig(out, d)[..., 0] < 0

    ok = npt(hi)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        m = npt(mid)
        hi = np.where(m, mid, hi)
        lo = np.where(m, lo, mid)
    return np.where(ok, hi, np.nan)


def _random_check(p: dict, rng: np.random.Generator, progress: bool):
    """Two-qubit states rho = s Phi+ + (1 - s) sigma: is E_gamma(rho) NPT iff F > 1/2?"""
    from tqdm.auto import tqdm

    n = p["n_random"]
    lb = rng.uniform(math.log(p["beta_min"]), math.log(p["beta_max"]), size=n)
    mix = rng.uniform(0, 1, size=n)
    ranks = rng.integers(1, 5, size=n)
    seeds = rng.integers(0, 2**63 - 1, size=n)
    P = phi_plus(2)
    F = np.empty(n)
    N = np.empty(n)
    for i in tqdm(range(n), desc="random states", disable=not progress):
        sigma = random_state([2, 2], rank=int(ranks[i]), seed=int(seeds[i]))
        rho = mix[i] * P + (1 - mix[i]) * sigma
        _, _, E = _channel_data(2, p["omega"], math.exp(lb[i]))
        F[i] = phi_plus_overlap(rho)
        N[i] = negativity(E(rho))
    viol = (N > NPT_ATOL) != (F > 0.5)
    return np.exp(lb), F, N, viol


def _ratio_grid(beta_ratio: float, n: int = 41) -> np.ndarray:
    """beta_B / beta_A from 1 to max(10, beta_ratio), log spaced, with beta_ratio itself."""
    grid = np.geomspace(1.0, max(10.0, beta_ratio), n)
    return np.unique(np.concatenate([grid, [beta_ratio]]))


def _threshold_vs_ratio(omega: float, beta_A: float, ratios: np.ndarray) -> np.ndarray:
    """Qubit threshold for tau_B at beta_B = ratio * beta_A (NaN where tau_B is pure)."""
    from eplt.dynamics.channels import NoEPLTError

    out = np.full(ratios.size, np.nan)
    for k, q in enumerate(ratios):
        try:
            g, w, _ = _channel_data(2, omega, beta_A, q * beta_A)
        except NoEPLTError:
            continue
        out[k] = threshold_bisection([g], w[None], 2)[0]
    return out


# --------------------------------------------------------------------------- run


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured: ~4 kB per (beta, F) point of the heat map, the qutrit's 9 x 9 stacks; rounded
    up)."""
    return 2e7 + 6e3 * p["n_beta"] * p["n_F"] + 1e3 * p["n_random"], ("n_beta", "n_F")


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: ~0.8 ms per random
    state, ~1.5 ms per beta (channels, bisections) and ~12 microseconds per (beta, F)
    point of the heat maps.

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, minimum of two runs in
    fresh processes): 2.4 s at the defaults, 16.1 s at n_random = 20000, 4.3 s at
    n_beta = 600, 3.6 s at n_F = 2001, 13.3 s at both. Rounded up. Held-out check
    2026-12-06 (load ~12, n_beta = 2, n_F = 3, n_random = 10): 0.35 s with one threshold
    beta, 2.6 s with twenty (~0.12 s each, missing from the first estimate: 300 of them
    took 40 s under a 5 s limit)."""
    n_beta, n_bt = p["n_beta"], len(p["betas_threshold"])
    seconds = 0.3 + 8e-4 * p["n_random"] + 1.5e-3 * n_beta + 1.2e-5 * n_beta * p["n_F"]
    seconds += 0.15 * n_bt  # channels, bisections and the ratio curve per threshold beta
    return seconds, ("n_beta", "n_F", "n_random", "betas_threshold")


def figure_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds to draw and save the figures (PNG and PDF): ~3 s, plus ~30 ms per
    threshold beta (a curve each). Measured 2026-12-06 (load ~12): 3.1 s with one
    threshold beta, 3.7 s with twenty. Rounded up."""
    return 3.5 + 0.04 * len(p["betas_threshold"]), ("betas_threshold",)


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Heat map, thresholds and the random-state check (see the module docstring)."""
    p = resolve(PARAMS, params, study=NAME)
    seed = check_seed(seed)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    if p["beta_min"] > p["beta_max"]:
        raise ParamError(f"beta_min must be <= beta_max, got {p['beta_min']!r} > {p['beta_max']!r}")
    omega = p["omega"]
    for d in DIMS:  # gamma below double precision: one line naming the parameter
        check_temperature(p["beta_max"], omega, d=d, name="beta_max", high_temperature=False)
        for b in p["betas_threshold"]:
            check_temperature(b, omega, d=d, name="betas_threshold", high_temperature=False)
    b_B = p["beta_ratio"] * p["beta_max"]
    check_temperature(b_B, omega, name="beta_ratio * beta_max", high_temperature=False)
    # Zero temperature anywhere: fail early with NoEPLTError, before any work.
    for d in DIMS:
        for b in (p["beta_max"], *p["betas_threshold"]):
            _channel_data(d, omega, b)
    _channel_data(2, omega, p["beta_max"], p["beta_ratio"] * p["beta_max"])

    key = value_keys(p["betas_threshold"], "betas_threshold")  # unique, round-trip
    betas = np.geomspace(p["beta_min"], p["beta_max"], p["n_beta"])
    bt = np.array(p["betas_threshold"], dtype=float)
    Fs = np.linspace(0.0, 1.0, p["n_F"])

    neg, thr, thr_t, gam, cf_err = [], [], [], [], 0.0
    for d in DIMS:
        ch = [_channel_data(d, omega, b) for b in betas]
        g, w = np.array([c[0] for c in ch]), np.stack([c[1] for c in ch])
        N = _output_negativity(Fs, g, w, d)
        neg.append(N)
        gam.append(g)
        thr.append(threshold_bisection(g, w, d))
        ct = [_channel_data(d, omega, b) for b in bt]
        thr_t.append(threshold_bisection([c[0] for c in ct], np.stack([c[1] for c in ct]), d))
        exact = np.stack([negativity_closed_form(Fs, b, d, omega) for b in betas])
        cf_err = max(cf_err, float(np.abs(N - exact).max()))

    def unequal(bs):
        ch = [_channel_data(2, omega, b, p["beta_ratio"] * b) for b in bs]
        return threshold_bisection([c[0] for c in ch], np.stack([c[1] for c in ch]), 2)

    thr_u, thr_u_t = unequal(betas), unequal(bt)
    # Qubit threshold against beta_B / beta_A at each beta_A of betas_threshold (figure).
    ratios = _ratio_grid(p["beta_ratio"])
    thr_ratio = np.stack([_threshold_vs_ratio(omega, b, ratios) for b in bt])

    rng = np.random.default_rng(np.random.SeedSequence(seed))
    rb, rF, rN, viol = _random_check(p, rng, progress)

    dev = max(
        float(np.nanmax(np.abs(np.concatenate([thr[i], thr_t[i]]) - 1 / d)))
        for i, d in enumerate(DIMS)
    )
    summary = {
        "threshold_F": {
            str(d): dict(zip(key, map(float, thr_t[i]), strict=True)) for i, d in enumerate(DIMS)
        },
        "threshold_F_unequal": {
            k: (None if np.isnan(v) else float(v)) for k, v in zip(key, thr_u_t, strict=True)
        },
        "beta_ratio": p["beta_ratio"],
        "max_threshold_deviation": dev,
        "max_closed_form_error": cf_err,
        "violations": int(viol.sum()),
        "n_random": int(p["n_random"]),
        "n_above_half": int((rF > 0.5).sum()),
    }
    one = {"units": "1"}
    data = xr.Dataset(
        {
            "negativity": (
                ("d", "beta", "F"),
                np.stack(neg),
                {"units": "1", "long_name": "N(E_gamma(rho_F)), identical thermal states"},
            ),
            "gamma": (("d", "beta"), np.stack(gam), {"units": "1", "long_name": "gamma = d p_min"}),
            "threshold_F": (
                ("d", "beta"),
                np.stack(thr),
                {"units": "1", "long_name": "smallest F with N(E_gamma(rho_F)) > 0"},
            ),
            "threshold_F_unequal": (
                ("beta",),
                thr_u,
                {"units": "1", "long_name": "qubit threshold, beta_B = beta_ratio * beta_A"},
            ),
            "threshold_F_vs_ratio": (
                ("beta_threshold", "beta_ratio"),
                thr_ratio,
                {
                    "units": "1",
                    "long_name": "qubit threshold with beta_A = beta_threshold, beta_B = "
                    "beta_ratio * beta_A (NaN: PPT for every F, or tau_B pure: no EPLT)",
                },
            ),
            "threshold_F_at": (("d", "beta_threshold"), np.stack(thr_t), one),
            "threshold_F_unequal_at": (("beta_threshold",), thr_u_t, one),
            "random_beta": (("sample",), rb, {"units": "1/omega"}),
            "random_overlap": (("sample",), rF, {"units": "1", "long_name": "<Phi+|rho|Phi+>"}),
            "random_negativity": (("sample",), rN, {"units": "1", "long_name": "N(E_gamma(rho))"}),
            "random_violation": (("sample",), viol.astype(np.int8), one),
        },
        coords={
            "d": ("d", np.array(DIMS), {"units": "1", "long_name": "local dimension"}),
            "beta": ("beta", betas, {"units": "1/omega"}),
            "F": ("F", Fs, {"units": "1", "long_name": "<Phi+|rho_F|Phi+>"}),
            "beta_threshold": ("beta_threshold", bt, {"units": "1/omega"}),
            "beta_ratio": ("beta_ratio", ratios, {"units": "1", "long_name": "beta_B / beta_A"}),
            "sample": ("sample", np.arange(p["n_random"]), one),
        },
        attrs={"study": NAME, "omega": omega, "beta_ratio": p["beta_ratio"]},
    )
    return StudyResult(NAME, p, seed, data, summary, extra={})

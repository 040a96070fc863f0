"""Parameters and summary keys of the :mod:`eplt.studies.ghz` study (re-exported there)."""

from __future__ import annotations

from .params import OMEGA, RATE_MAX, RATE_MIN, T_MAX, Param, beta_param, rate_param

#: Largest number of qubits (the joint Liouvillian has 4^n rows).
N_LIMIT = 8
#: Largest number of qubits of the scaling scan (binom(n + 3, 3) symmetric coefficients).
N_SCALE_LIMIT = 200

#: Largest n of the product-sum point (the marginal channels cost O(n^2): ~80 s at 5000).
N_PRODUCT_SUM_LIMIT = 5000

#: The two zero-sum phase drives of the twirl stage.
DRIVES = ("zero_sum", "exchangeable")

PARAMS = (
    Param("n", 3, "int", "number of qubits of the time series", "", low=2, high=N_LIMIT),
    Param(
        "fidelity",
        0.9,
        "float",
        "GHZ fidelity of the noisy GHZ input (>= 2^-n)",
        "",
        low=0,
        high=1,
        low_open=True,
    ),
    Param(
        "input",
        "noisy_ghz",
        "str",
        "initial state: noisy_ghz (GHZ + white noise) or random (seeded)",
        "",
        choices=("noisy_ghz", "random"),
    ),
    OMEGA,
    beta_param(),
    rate_param(),
    Param(
        "kappa",
        5.0,
        "float",
        "strength of each zero-sum phase noise",
        "omega",
        # below ~1e-3 omega the twirl lasts > 1e4/omega and the channels lose trace
        # preservation to round-off in the certificate
        low=1e-3,
        high=RATE_MAX,
    ),
    Param(
        "flip_rate",
        5.0,
        "float",
        "rate of the shared flip clock",
        "omega",
        low=RATE_MIN,
        high=RATE_MAX,
    ),
    Param(
        "twirl_tol",
        1e-4,
        "float",
        "twirl error target: t_twirl = ln(1/twirl_tol)/gap",
        "",
        low=1e-12,
        high=1,
        high_open=True,
    ),
    Param(
        "t_max",
        0.0,
        "float",
        "end of the time series (0: automatic, 1.5 t*)",
        "1/omega",
        low=0,
        high=T_MAX,
    ),
    Param("n_times", 301, "int", "number of saved times (about)", "", low=11, high=100_000),
    Param(
        "n_max",
        8,
        "int",
        "largest n of the GHZ-fidelity-vs-n scan (scan skipped if < 2)",
        "",
        low=0,
        high=N_LIMIT,
    ),
    Param(
        "drive",
        "zero_sum",
        "str",
        "phase noise of the twirl: zero_sum (n - 1 signals against the last qubit) or "
        "exchangeable (permutation symmetric)",
        "",
        choices=DRIVES,
    ),
    Param(
        "n_scale_max",
        100,
        "int",
        "largest n of the scaling scan (exchangeable drive; permutation-symmetric method "
        "from 6 qubits; skipped if < 2)",
        "",
        low=0,
        high=N_SCALE_LIMIT,
    ),
    Param(
        "n_product_sum",
        1000,
        "int",
        "n of the scaling scan's product-sum point (zero_sum drive, O(n) per time; 0: none; "
        "above n_scale_max)",
        "",
        low=0,
        high=N_PRODUCT_SUM_LIMIT,
    ),
)

SCENARIOS = ("correlated", "independent")

SUMMARY_KEYS = {
    "n": "number of qubits of the time series",
    "gamma": "gamma = 2 p_min of the qubit thermal state",
    "twirl_gap": "spectral gap of the averaged twirl stage (both scenarios): min(kappa/2, 2 flip_rate) "
    "(zero_sum drive) or min(kappa (n - 1)/(2n), 2 flip_rate) (exchangeable)",
    "t_twirl": "duration of the twirl stage, ln(1/twirl_tol)/twirl_gap, in 1/omega",
    "t_star": "t* = t_twirl + ln(1/gamma)/r, in 1/omega",
    "ghz_fidelity_input": "<GHZ|rho0|GHZ>",
    "ghz_fidelity_at_t_star": "GHZ fidelity at t*, keyed by scenario",
    "min_bipartition_negativity_at_t_star": "smallest negativity over all bipartitions at t*, keyed by scenario",
    "worst_case_fidelity_at_t_star": "worst case over inputs of the GHZ fidelity at t*: the minimum "
    "of <GHZ|E_t*(rho)|GHZ> over ALL inputs rho with <GHZ|rho|GHZ> >= ghz_fidelity_input (equal "
    "to the minimum over permutation-invariant inputs), certified by its dual value "
    "(eplt.dynamics.productsum.worst_case_ghz_fidelity); > 1/2 means the GME witness survives "
    "for every such input; keyed by scenario",
    "marginal_distance_at_t_star": "largest trace distance of a one-qubit marginal to tau at t*, keyed by scenario",
    "lt_error_at_t_star": "worst case over ALL inputs of the largest one-qubit marginal distance at t* "
    "(eplt.dynamics.channels.lt_error from the n marginal channels), keyed by scenario",
    "closed_forms": "GHZ fidelity at t*: correlated 1/2 + gamma (F_in - 1/2); independent (p0^n + p1^n)/2",
    "twirl_distance": "trace distance of the correlated twirl stage's output at t_twirl to ghz_twirl(rho0)",
    "twirl_distance_random": "the same for a seeded random n-qubit input (checks the zero-sum design)",
    "ghz_fidelity_vs_n": "GHZ fidelity at t* of the noisy GHZ input for n = 2..n_max, keyed by n then scenario",
    "drive": "phase noise of the twirl stage of the time series and the n = 2..n_max scan",
    "fidelity_at_t_star_vs_n": "scaling scan (exchangeable drive): GHZ fidelity at t* of the noisy GHZ "
    "input (per input), keyed by n then scenario",
    "worst_case_fidelity_at_t_star_vs_n": "scaling scan: worst case over inputs with GHZ "
    "fidelity >= F_in of the GHZ fidelity at t* (as worst_case_fidelity_at_t_star), keyed by n "
    "then scenario",
    "t_star_vs_n": "scaling scan: t* = t_twirl(n) + ln(1/gamma)/r, in 1/omega, keyed by n",
    "t_twirl_vs_n": "scaling scan: certified twirl time ln(1/twirl_tol)/gap(n), gap(n) = "
    "min(kappa (n - 1)/(2n), 2 flip_rate), the same for every input, in 1/omega, keyed by n",
    "marginal_distance_at_t_star_vs_n": "scaling scan: largest one-qubit marginal distance to tau at t* "
    "of the noisy GHZ input (per input), keyed by n then scenario",
    "lt_error_at_t_star_vs_n": "scaling scan: worst case over ALL inputs of the one-qubit marginal "
    "distance at t* (lt_error of the marginal channel; identical for both scenarios), keyed by n",
    "method_vs_n": "scaling scan: the method that computed each n: exact or permutation "
    "(exchangeable drive), or 'product_sum (zero_sum drive)' for n_product_sum",
}

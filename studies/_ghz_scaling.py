"""The GHZ protocol against the number of qubits (the ``scaling`` part of :mod:`eplt.studies.ghz`).

Every n uses the permutation-symmetric protocol: the exchangeable zero-sum phase drive
(:func:`eplt.baths.exchangeable_phase_drive`), the shared flip clock, the shared (or
independent) reset clock and identical thermal baths, with the certified twirl time
``t_twirl(n) = ln(1/twirl_tol)/gap(n)``, ``gap(n) = min(kappa (n - 1)/(2n), 2 flip_rate)``,
the same for every input. Below :data:`eplt.dynamics.permutation.AUTO_MIN_QUBITS` qubits the
dense engine runs (``method="auto"`` on a dense noisy GHZ state); from there on the
permutation-symmetric method (a :class:`~eplt.dynamics.permutation.SymmetricState` input).

The product-sum points (``n_product_sum``, default 1000) run the protocol with the zero-sum
drive (:func:`eplt.baths.zero_sum_phase_drive`, ``n - 1`` signals) through
:func:`eplt.dynamics.productsum.evolve_product_sum`, O(n) per time: the exchangeable drive has
``n^2`` actions (about 35 s just to build the environment at n = 1000). Its twirl gap is
``min(kappa/2, 2 flip_rate)`` instead of ``min(kappa (n - 1)/(2n), 2 flip_rate)`` (t_twirl
shorter by the factor ``(n - 1)/n`` when the phase noise sets the gap, 0.1% at n = 1000); the
correlated GHZ fidelity at t* is the same for both drives (both fix the GHZ terms exactly).

Every n also gets the worst case over inputs of the output GHZ fidelity at t*
(:func:`eplt.dynamics.productsum.worst_case_ghz_fidelity`): the minimum over all inputs
(equivalently, all permutation-invariant inputs) whose GHZ fidelity is at least the noisy GHZ
input's ``F_in``, certified by its dual value.
"""

from __future__ import annotations

import math

import numpy as np
from eplt.dynamics import evolve
from eplt.dynamics.channels import lt_error
from eplt.dynamics.permutation import (
    AUTO_MIN_QUBITS,
    SymmetricState,
    marginal_channel,
    symmetric_dimension,
)
from eplt.dynamics.productsum import (
    ProductOperatorSum,
    evolve_product_sum,
    worst_case_ghz_fidelity,
)
from eplt.dynamics.productsum import marginal_channels as ps_marginal_channels
from eplt.dynamics.states import noisy_ghz_state

#: The numbers of qubits of the scaling scan (those up to ``n_scale_max``, which is added).
SCALE_NS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 100, 150, 200)


def scale_ns(n_scale_max: int) -> list[int]:
    """The scan's n: :data:`SCALE_NS` up to ``n_scale_max`` (and ``n_scale_max`` itself)."""
    if n_scale_max < 2:
        return []
    ns = [m for m in SCALE_NS if m <= n_scale_max]
    return ns if ns[-1] == n_scale_max else [*ns, n_scale_max]


def scaling_seconds(n_scale_max: int) -> float:
    """CPU seconds of the scan (measured 2026-12-06, 2-core VM under load ~10:
    1.3 s per scenario at n = 100 with three saved times, the dense n <= 4 and the
    per-n set-up ~0.1 s each; the symmetric cost grows like binom(n + 3, 3))."""
    return sum(
        0.2 + 2.6 * symmetric_dimension(m) / symmetric_dimension(100) for m in scale_ns(n_scale_max)
    )


def scaling_bytes(n_scale_max: int) -> float:
    """Peak bytes of the scan beyond the interpreter (~3 kB per symmetric coefficient:
    the compiled generators, their component plan and the index tables)."""
    return 3e3 * symmetric_dimension(n_scale_max) if n_scale_max >= 2 else 0.0


def product_sum_seconds(n: int) -> float:
    """CPU seconds of one product-sum point (both scenarios; measured 2026-12-06 at
    n = 1000, load ~12: building the protocols ~1.4 s, compiling and propagating ~1 s, the
    worst cases and marginal channels ~1 s; linear in n up to the compile's checks)."""
    return 0.0 if n < 2 else 0.3 + 3.5 * (n / 1000) ** 1.2


def run_scaling(
    p: dict, tau, H, protocol, gap_of, scenarios, ps_protocol=None, ps_gap=None
) -> dict:
    """GHZ fidelity (per input and worst case over inputs), marginal distance, LT error at
    t* and the times, for every n.

    ``protocol(m, shared, t_twirl) -> (Protocol, t*)`` builds the exchangeable-drive
    protocol; ``gap_of(m)`` is its twirl gap; ``ps_protocol``, ``ps_gap`` the same for the
    zero-sum drive of the product-sum point ``p["n_product_sum"]``. Returns plain lists
    keyed by name."""
    ns = scale_ns(p["n_scale_max"])
    n_ps = p.get("n_product_sum", 0)
    out = {
        "n": ns,
        "t_twirl": [],
        "t_star": [],
        "method": [],
        "fidelity": {sc: [] for sc in scenarios},
        "worst_case": {sc: [] for sc in scenarios},
        "marginal_distance": {sc: [] for sc in scenarios},
        "lt_error": [],
    }
    for m in ns:
        t_twirl = math.log(1 / p["twirl_tol"]) / gap_of(m)
        F_in = max(p["fidelity"], 2.0**-m)
        rho = noisy_ghz_state(m, F_in) if m < AUTO_MIN_QUBITS else SymmetricState.noisy_ghz(m, F_in)
        methods = set()
        for sc in scenarios:
            proto, t_star = protocol(m, sc == "correlated", t_twirl)
            res = evolve(
                rho, proto, [0.0, t_twirl, t_star], e_ops=["ghz_fidelity", "marginal_distance"]
            )
            methods.add(res.method)
            out["fidelity"][sc].append(float(res.expect["ghz_fidelity"][-1]))
            out["worst_case"][sc].append(worst_case_ghz_fidelity(proto, t_star, F_in).value)
            out["marginal_distance"][sc].append(float(res.expect["marginal_distance"][-1].max()))
            if sc == "correlated":
                # the qubits are identical: one marginal channel is every qubit's (the
                # same for both scenarios: LT is a property of the marginal maps)
                chan = marginal_channel(proto, t_star)
                out["lt_error"].append(float(lt_error([chan], tau)))
        out["t_twirl"].append(t_twirl)
        out["t_star"].append(t_star)
        out["method"].append("/".join(sorted(methods)))
    if n_ps >= 2:
        m = n_ps
        t_twirl = math.log(1 / p["twirl_tol"]) / ps_gap(m)
        F_in = max(p["fidelity"], 2.0**-m)
        for sc in scenarios:
            proto, t_star = ps_protocol(m, sc == "correlated", t_twirl)
            res = evolve_product_sum(
                ProductOperatorSum.noisy_ghz(m, F_in),
                proto,
                [0.0, t_twirl, t_star],
                e_ops=["ghz_fidelity", "marginal_distance"],
            )
            out["fidelity"][sc].append(float(res.expect["ghz_fidelity"][-1]))
            out["worst_case"][sc].append(worst_case_ghz_fidelity(proto, t_star, F_in).value)
            out["marginal_distance"][sc].append(float(res.expect["marginal_distance"][-1].max()))
            if sc == "correlated":  # the qubits' marginal maps differ (zero-sum drive)
                chans = ps_marginal_channels(proto, t_star)  # O(n), every qubit
                out["lt_error"].append(float(lt_error(chans, tau)))
        out["n"] = [*ns, m]
        out["t_twirl"].append(t_twirl)
        out["t_star"].append(t_star)
        out["method"].append("product_sum (zero_sum drive)")
    return {
        k: (np.asarray(v) if isinstance(v, list) and k != "method" else v) for k, v in out.items()
    }

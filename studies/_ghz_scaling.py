"""The GHZ protocol against the number of qubits (the ``scaling`` part of :mod:`eplt.studies.ghz`).

Every n uses the permutation-symmetric protocol: the exchangeable zero-sum phase drive
(:func:`eplt.baths.exchangeable_phase_drive`), the shared flip clock, the shared (or
independent) reset clock and identical thermal baths, with the certified twirl time
``t_twirl(n) = ln(1/twirl_tol)/gap(n)``, ``gap(n) = min(kappa (n - 1)/(2n), 2 flip_rate)``,
the same for every input. Below :data:`eplt.dynamics.permutation.AUTO_MIN_QUBITS` qubits the
dense engine runs (``method="auto"`` on a dense noisy GHZ state); from there on the
permutation-symmetric method (a :class:`~eplt.dynamics.permutation.SymmetricState` input).
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


def run_scaling(p: dict, tau, H, protocol, gap_of, scenarios) -> dict:
    """GHZ fidelity, marginal distance, LT error at t* and the times, for every n.

    ``protocol(m, shared, t_twirl) -> (Protocol, t*)`` builds the exchangeable-drive
    protocol; ``gap_of(m)`` is its twirl gap. Returns plain lists keyed by name."""
    ns = scale_ns(p["n_scale_max"])
    out = {
        "n": ns,
        "t_twirl": [],
        "t_star": [],
        "method": [],
        "fidelity": {sc: [] for sc in scenarios},
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
            out["marginal_distance"][sc].append(float(res.expect["marginal_distance"][-1].max()))
            if sc == "correlated":
                # the qubits are identical: one marginal channel is every qubit's (the
                # same for both scenarios: LT is a property of the marginal maps)
                chan = marginal_channel(proto, t_star)
                out["lt_error"].append(float(lt_error([chan], tau)))
        out["t_twirl"].append(t_twirl)
        out["t_star"].append(t_star)
        out["method"].append("/".join(sorted(methods)))
    return {
        k: (np.asarray(v) if isinstance(v, list) and k != "method" else v) for k, v in out.items()
    }

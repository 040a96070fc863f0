"""Analytic models with their closed forms, used as references by the tests.

Each function returns the exact value of a quantity derived by hand (see tests/README.md).
Conventions as in DESIGN.md: hbar = k_B = 1, qubit ground state |0>, H = omega |1><1|.
"""

from __future__ import annotations

import math

import numpy as np


def qubit_populations(beta: float, omega: float = 1.0) -> tuple[float, float]:
    """Thermal populations (p0, p1) = (1, e^{-beta omega}) / (1 + e^{-beta omega})."""
    if math.isinf(beta):
        return 1.0, 0.0
    p1 = 1.0 / (1.0 + math.exp(beta * omega))
    return 1.0 - p1, p1


def negativity_eplt_phi_plus(beta: float, omega: float = 1.0) -> float:
    """N(E_gamma(Phi+)) = p_min for two qubits with equal thermal states."""
    return qubit_populations(beta, omega)[1]


def gad_esd_time(nbar: float, G: float = 1.0) -> float:
    """Sudden-death time of Phi+ under independent generalized amplitude damping.

    Each qubit: jumps sqrt(G(nbar+1)) sigma-, sqrt(G nbar) sigma+. With the total rate
    g = G(2 nbar + 1) and p1 = nbar/(2 nbar + 1), the excited population of a marginal is
    a(t) = p1 + (1/2 - p1) e^{-g t}, and for the X state from Phi+:
    rho_11,11 = P(1)^2 terms... The populations of the two-qubit X state factorise over the
    two independent channels applied to |00><00|, |11><11| halves, and the coherence is
    rho_{00,11} = e^{-g t}/2. Entanglement dies when |rho_14| = sqrt(rho_22 rho_33),
    solved here by bisection on the exact X-state expressions.
    """
    g = G * (2 * nbar + 1)
    p1 = nbar / (2 * nbar + 1)

    def excited(a0: float, t: float) -> float:  # single-qubit excited population from a0
        return p1 + (a0 - p1) * math.exp(-g * t)

    def f(t: float) -> float:
        # Phi+ = (|00><00| + |11><11| + coherences)/2; populations of |01>:
        # half from |00> (qubit A stays 0, B goes 1) and half from |11>.
        e0, e1 = excited(0.0, t), excited(1.0, t)
        r22 = 0.5 * ((1 - e0) * e0 + (1 - e1) * e1)
        r33 = r22
        r14 = 0.5 * math.exp(-g * t)
        return r14 - math.sqrt(r22 * r33)

    if nbar == 0:
        return math.inf
    lo, hi = 0.0, 1.0
    while f(hi) > 0:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


def shared_reset_esd_time(p0: float, r: float = 1.0) -> float:
    """Sudden-death time of Phi+ under a shared Poisson reset to tau (x) tau at rate r.

    rho(t) = e^{-rt} Phi+ + (1 - e^{-rt}) tau (x) tau with tau = diag(p0, p1); entangled iff
    e^{-rt} > 2 p0 p1 / (1 + 2 p0 p1).
    """
    p1 = 1 - p0
    x = 2 * p0 * p1 / (1 + 2 * p0 * p1)
    return -math.log(x) / r


def isotropic_twirl_matrix(F: float, d: int) -> np.ndarray:
    """T(rho) for <Phi+|rho|Phi+> = F: F Phi+ + (1-F)(I - Phi+)/(d^2-1)."""
    v = np.zeros(d * d)
    v[:: d + 1] = 1 / np.sqrt(d)
    P = np.outer(v, v)
    return F * P + (1 - F) * (np.eye(d * d) - P) / (d * d - 1)

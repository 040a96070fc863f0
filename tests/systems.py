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


# --------------------------------------------------------------------------- time series
# Closed-form observables over time for the systems x methods matrix
# (tests/dynamics/test_methods.py). Qubit conventions as above.


def gad_phi_plus(t, nbar: float, G: float = 1.0, omega: float = 1.0) -> dict[str, np.ndarray]:
    """Phi+ under independent generalized amplitude damping (jumps sqrt(G(nbar+1)) sigma-,
    sqrt(G nbar) sigma+ on each qubit).

    Each excited population relaxes at g = G(2 nbar + 1) to p1 = nbar/(2 nbar + 1),
    ``e(a0, t) = p1 + (a0 - p1) e^{-g t}``; the |00><11| coherence decays as e^{-g t}/2
    (each qubit's at g/2). The X state's overlap with Phi+ is
    ``(rho_00,00 + rho_11,11)/2 + Re rho_00,11`` with
    ``rho_00,00 = ((1 - e(0))^2 + (1 - e(1))^2)/2``, ``rho_11,11 = (e(0)^2 + e(1)^2)/2``.
    Energy of each qubit (H = omega |1><1|): ``omega e(1/2, t)``.
    """
    t = np.asarray(t, dtype=float)
    g = G * (2 * nbar + 1)
    p1 = nbar / (2 * nbar + 1)
    e0 = p1 + (0.0 - p1) * np.exp(-g * t)
    e1 = p1 + (1.0 - p1) * np.exp(-g * t)
    r00 = ((1 - e0) ** 2 + (1 - e1) ** 2) / 2
    r11 = (e0**2 + e1**2) / 2
    overlap = (r00 + r11) / 2 + np.exp(-g * t) / 2
    energy = omega * (p1 + (0.5 - p1) * np.exp(-g * t))
    return {"ghz_fidelity": overlap, "energy": energy}


def shared_reset_phi_plus(
    t, p0: float, r: float = 1.0, omega: float = 1.0
) -> dict[str, np.ndarray]:
    """Phi+ under a shared Poisson reset to tau (x) tau, tau = diag(p0, p1), rate r:
    ``rho(t) = s Phi+ + (1 - s) tau (x) tau``, s = e^{-rt}; overlap with Phi+
    ``s + (1 - s)(p0^2 + p1^2)/2``; energy of each qubit ``omega (s/2 + (1 - s) p1)``."""
    t = np.asarray(t, dtype=float)
    s = np.exp(-r * t)
    p1 = 1 - p0
    return {
        "ghz_fidelity": s + (1 - s) * (p0**2 + p1**2) / 2,
        "energy": omega * (s / 2 + (1 - s) * p1),
    }


def telegraph_coherence(t, rate: float, amplitude: float) -> np.ndarray:
    """<sigma_x>(t) from |+> under H = amplitude xi(t) sigma_z, xi = +-1 a random telegraph
    flipping at ``rate`` (stationary start): the phase 2 amplitude int xi averages to
    ``e^{-rate t}(cosh(mu t) + rate sinh(mu t)/mu)``, ``mu = sqrt(rate^2 - 4 amplitude^2)``
    (cos/sin for imaginary mu; ``1 + rate t`` at mu = 0)."""
    t = np.asarray(t, dtype=float)
    mu = np.sqrt(complex(rate**2 - 4 * amplitude**2))
    if abs(mu) < 1e-12:
        return np.exp(-rate * t) * (1 + rate * t)
    return np.real(np.exp(-rate * t) * (np.cosh(mu * t) + rate * np.sinh(mu * t) / mu))


def gaussian_pulse_coherence(t, segment: float, variance: float) -> np.ndarray:
    """<sigma_x>(t) from |+> under H = c sigma_z, c ~ N(0, variance) i.i.d. per segment:
    ``E[e^{-2 i c s}] = e^{-2 variance s^2}`` per (part of a) segment, so after n whole
    segments and a remainder s: ``e^{-2 variance (n segment^2 + s^2)}``."""
    t = np.asarray(t, dtype=float)
    n = np.floor(t / segment + 1e-12)
    s = np.clip(t - n * segment, 0.0, None)
    return np.exp(-2 * variance * (n * segment**2 + s**2))

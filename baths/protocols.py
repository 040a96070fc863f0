r"""Ready-made drives and staged protocols for entanglement-preserving local thermalization.

* :func:`gellmann_basis` — an orthonormal basis of traceless Hermitian operators,
  ``Tr(G_k G_l) = delta_kl`` (Pauli/sqrt(2) for a qubit).
* :func:`twirl_drive` — a Brownian drive of strength ``kappa`` acting as ``U`` on party A
  and ``U^*`` on party B. Shared, it averages to the Lindbladian with jump operators
  ``sqrt(kappa) (G_k (x) I - I (x) G_k^*)``, whose fixed points are span{I, Phi+}: a
  finite-time isotropic twirl, with error ``~exp(-gap t)``; for qubits ``gap = 2 kappa``.
* :func:`eplt_protocol` — drive for ``t_twirl``, then a Poisson clock at rate ``r`` that
  resets each party to ``omega_X`` for ``ln(1/gamma)/r``, then hold with thermal baths.
  With everything shared, the state at ``t* = t_twirl + ln(1/gamma)/r`` is
  ``E_gamma(rho0)`` up to the twirl error, and the marginals are exactly ``tau``.
"""

from __future__ import annotations

import math

import numpy as np

from dynamics.channels import eplt_channel

from .environment import Drive, Environment, Protocol, Reset, thermal_bath
from .processes import BrownianNoise, PoissonClock

__all__ = ["eplt_protocol", "gellmann_basis", "twirl_drive"]


def gellmann_basis(d: int) -> list[np.ndarray]:
    """The ``d^2 - 1`` generalized Gell-Mann matrices divided by sqrt(2): Hermitian,
    traceless, ``Tr(G_k G_l) = delta_kl``."""
    if d < 2:
        raise ValueError(f"d must be >= 2, got {d}")
    out = []
    for j in range(d):
        for k in range(j + 1, d):
            s = np.zeros((d, d), dtype=complex)
            s[j, k] = s[k, j] = 1
            a = np.zeros((d, d), dtype=complex)
            a[j, k], a[k, j] = -1j, 1j
            out += [s / math.sqrt(2), a / math.sqrt(2)]
    for l in range(1, d):
        z = np.zeros((d, d), dtype=complex)
        z[np.arange(l), np.arange(l)] = 1
        z[l, l] = -l
        out.append(z / math.sqrt(l * (l + 1)))
    return out


def twirl_drive(
    kappa: float, d: int = 2, *, name: str = "drive", parties: tuple[int, int] = (0, 1)
) -> list[Drive]:
    """Brownian drive of strength ``kappa`` on the Gell-Mann generators: ``U`` on
    ``parties[0]``, ``U^*`` on ``parties[1]``."""
    G = gellmann_basis(d)
    proc = BrownianNoise(kappa=kappa, channels=len(G), name=name)
    return [Drive(proc, parties[0], G), Drive(proc, parties[1], G, conjugate=True)]


def eplt_protocol(
    tau_A,
    tau_B,
    H_A,
    H_B,
    beta: float,
    *,
    rate: float,
    kappa: float,
    t_twirl: float,
    shared_drive: bool = True,
    shared_clock: bool = True,
    hold: bool = True,
) -> tuple[Protocol, float]:
    r"""The staged correlated-bath protocol reaching ``tau_A (x) tau_B`` marginals at ``t*``.

    Stages: (1) twirl drive of strength ``kappa`` for ``t_twirl`` (skipped when 0);
    (2) a Poisson clock of rate ``rate`` resetting party X to ``omega_X`` (the states of
    :func:`dynamics.channels.eplt_channel`) for ``ln(1/gamma)/rate``; (3) if ``hold``,
    thermal baths at ``beta`` with relaxation rate ``rate`` (they leave ``tau`` invariant).
    ``shared_drive``/``shared_clock`` choose correlated or independent randomness.

    Returns
    -------
    protocol : Protocol
    t_star : float
        ``t_twirl + ln(1/gamma)/rate``.
    """
    E = eplt_channel(tau_A, tau_B)
    d = E.d
    taus = (tau_A, tau_B)
    stages = []
    if t_twirl > 0:
        drive = Environment(
            (d, d), twirl_drive(kappa, d), correlation=1.0 if shared_drive else 0.0, taus=taus
        )
        stages.append((t_twirl, drive))
    t_reset = math.log(1 / E.gamma) / rate
    clk = PoissonClock(rate=rate, name="clock")
    reset = Environment(
        (d, d),
        [Reset(clk, 0, E.omega[0]), Reset(clk, 1, E.omega[1])],
        correlation=1.0 if shared_clock else 0.0,
        taus=taus,
    )
    if t_reset > 0:
        stages.append((t_reset, reset))
    baths = Environment(
        (d, d),
        [
            thermal_bath(0, H_A, beta, relaxation_rate=rate),
            thermal_bath(1, H_B, beta, relaxation_rate=rate),
        ],
        taus=taus,
    )
    if hold or not stages:
        stages.append((math.inf, baths))
    return Protocol(stages, taus=taus), t_twirl + t_reset

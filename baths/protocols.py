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
  ``gamma T_t(rho0) + (1 - gamma) omega_A (x) omega_B`` (``T_t``: the finite-time twirl).
* :func:`certified_twirl_time` — the input-independent twirl duration: the shortest
  ``t_twirl`` for which the protocol's *channel* at ``t*`` is eps-LT (worst case over all
  inputs, :func:`eplt.dynamics.channels.lt_error`). For qubits it is
  ``ln(gamma/(2 eps))/(2 kappa)`` (0 when ``gamma <= 2 eps``).
"""

from __future__ import annotations

import math

import numpy as np
from eplt.dynamics import marginal_channels
from eplt.dynamics.channels import eplt_channel, lt_error
from eplt.dynamics.propagators import decay_root, marginal_evaluator

from .environment import Drive, Environment, Protocol, Reset, thermal_bath
from .processes import BrownianNoise, PoissonClock

__all__ = ["certified_twirl_time", "eplt_protocol", "gellmann_basis", "twirl_drive"]


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


def _positive(value, name: str, *, zero: bool = False) -> float:
    """``value`` as a float in ``(0, inf)`` (``[0, inf)`` with ``zero``), else a
    TypeError/ValueError naming ``name`` and that range."""
    allowed = "[0, inf)" if zero else "(0, inf)"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in {allowed}, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and (v >= 0 if zero else v > 0)):
        raise ValueError(f"{name} must lie in {allowed}, got {value!r}")
    return v


def eplt_protocol(
    tau_A,
    tau_B,
    H_A,
    H_B,
    beta: float,
    *,
    rate: float,
    kappa: float | None = None,
    t_twirl: float = 0.0,
    shared_drive: bool = True,
    shared_clock: bool = True,
    hold: bool = True,
) -> tuple[Protocol, float]:
    r"""The staged correlated-bath protocol reaching ``tau_A (x) tau_B`` marginals at ``t*``.

    Stages: (1) twirl drive of strength ``kappa`` for ``t_twirl`` (skipped when 0);
    (2) a Poisson clock of rate ``rate`` resetting party X to ``omega_X`` (the states of
    :func:`eplt.dynamics.channels.eplt_channel`) for ``ln(1/gamma)/rate``; (3) if ``hold``,
    thermal baths at ``beta`` with relaxation rate ``rate`` (they leave ``tau`` invariant).
    ``shared_drive``/``shared_clock`` choose correlated or independent randomness.
    ``kappa`` is needed only when ``t_twirl > 0``. For a protocol that is LT for *every*
    input, take ``t_twirl`` from :func:`certified_twirl_time`, never from the input.

    Returns
    -------
    protocol : Protocol
    t_star : float
        ``t_twirl + ln(1/gamma)/rate``.
    """
    rate = _positive(rate, "rate")
    t_twirl = _positive(t_twirl, "t_twirl", zero=True)
    if t_twirl > 0 and kappa is None:
        raise ValueError("kappa must lie in (0, inf) when t_twirl > 0, got kappa=None")
    if t_twirl > 0:
        kappa = _positive(kappa, "kappa")
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


def certified_twirl_time(
    tau_A,
    tau_B,
    *,
    rate: float,
    kappa: float,
    eps: float,
    xtol: float = 1e-12,
) -> float:
    r"""Shortest twirl duration for which the protocol is eps-LT for every input.

    The protocol of :func:`eplt_protocol` ends at ``t* = t_twirl + ln(1/gamma)/rate``; its
    channel ``E_{t*}`` has ``lt_error(E_{t*}) = max_rho max_X D(Tr_{not X} E_{t*}(rho),
    tau_X)``. This returns ``min{t_twirl : lt_error(E_{t*}) <= eps}``, found by ``brentq``
    (to ``xtol``) on the marginal channels, the same for shared and independent drives and
    clocks (the marginal maps are identical). The twirl contracts each marginal Bloch
    vector by ``e^{-2 kappa t}`` (qubits) and the reset by ``gamma``, so for qubits
    ``lt_error = gamma e^{-2 kappa t_twirl}/2`` and

    .. math:: t_{twirl} = \max(0, \ln(\gamma / (2 \epsilon))) / (2 \kappa).

    Parameters
    ----------
    tau_A, tau_B : Qobj
        Thermal states (not pure: :class:`eplt.dynamics.channels.NoEPLTError`).
    rate : float
        Reset-clock rate ``r > 0``.
    kappa : float
        Drive strength (``> 0``; ``0`` is allowed only when no twirl is needed).
    eps : float
        Tolerance in trace distance, ``0 < eps < 1``.

    Returns
    -------
    float
        ``t_twirl`` (``0.0`` when the reset alone is eps-LT, i.e. ``gamma/2 <= eps`` for
        qubits).

    Examples
    --------
    >>> import math
    >>> from baths import qubit_hamiltonian, thermal_state
    >>> tau = thermal_state(qubit_hamiltonian(1.0), 1.0)
    >>> t = certified_twirl_time(tau, tau, rate=1.0, kappa=10.0, eps=1e-3)
    >>> gamma = 2 / (1 + math.e)
    >>> abs(t - math.log(gamma / 2e-3) / 20) < 1e-10
    True
    """
    eps = _positive(eps, "eps")
    if not eps < 1:
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    rate = _positive(rate, "rate")
    kappa = _positive(kappa, "kappa", zero=True)
    E = eplt_channel(tau_A, tau_B)
    d = E.d
    taus = (tau_A, tau_B)
    clk = PoissonClock(rate=rate, name="clock")
    reset = Environment((d, d), [Reset(clk, 0, E.omega[0]), Reset(clk, 1, E.omega[1])])
    t_reset = math.log(1 / E.gamma) / rate
    after = marginal_channels(reset, t_reset) if t_reset > 0 else None
    drive = Environment((d, d), twirl_drive(kappa if kappa > 0 else 0.0, d))
    twirl = marginal_evaluator(drive)

    def err(t: float) -> float:
        if t <= 0:
            M = after
        else:
            tw = twirl(t)
            M = tw if after is None else [a @ b for a, b in zip(after, tw)]
        if M is None:  # gamma = 1: the reset does nothing and no twirl is asked
            M = twirl(0.0)
        return float(lt_error(M, taus)) - eps

    f_lo = err(0.0)
    if f_lo <= 0:
        return 0.0
    if not (kappa > 0 and math.isfinite(kappa)):
        raise ValueError(
            f"kappa must lie in (0, inf): without twirl the channel's lt_error is "
            f"{f_lo + eps:.3g} > eps = {eps:g}"
        )
    hi = 1.0 / kappa
    f_hi = err(hi)
    while f_hi > 0:
        hi, f_lo = hi * 2, f_hi
        f_hi = err(hi)
        if hi > 1e6 / kappa:
            # the twirl contracts, but a certificate has a resolution: 1e-16 for qubit
            # outputs (exact), ~1e-7 for qudit outputs (SDP tolerance)
            raise ValueError(
                f"eps = {eps:g} is below what lt_error can certify for this channel "
                f"(its certified bound stays at {f_hi + eps:.3g}); use a larger eps"
            )
    return decay_root(err, hi / 2 if hi > 1.0 / kappa else 0.0, hi, f_lo, f_hi, eps, xtol)

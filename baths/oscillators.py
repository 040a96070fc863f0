r"""Oscillators (cavities, phonons, optical modes) on a Fock cutoff: terms and environments.

Conventions: hbar = k_B = 1; a mode has ``H = omega a^dag a`` on the levels
``0..cutoff-1`` (``a = qutip.destroy(cutoff)``), ``nbar = 1/(exp(beta omega) - 1)``.

* :func:`oscillator_hamiltonian` — ``-i[omega a^dag a, .]`` on one party.
* :func:`oscillator_bath` — the damped cavity's thermal bath, jumps
  ``sqrt(G (nbar + 1)) a`` and ``sqrt(G nbar) a^dag``: exactly the collapse operators
  ``qutip.mesolve`` integrates for a damped cavity (with ``include_hamiltonian=True`` the
  generator is ``qutip.liouvillian(omega a^dag a, c_ops)``). On the cutoff its stationary
  state is the truncated thermal state (detailed balance between neighbouring levels).
* :func:`phase_noise` — white random phase noise ``xi(t) a^dag a`` of strength ``kappa``
  on two modes. Shared (``Environment(..., correlation=1)``): A gets ``xi n``, B gets
  ``-xi n`` (``U (x) U*``), averaging to the jump ``sqrt(kappa) (n (x) I - I (x) n)``,
  which annihilates every ``|nn>``: the span of ``|nn><mm|`` (e.g. a two-mode squeezed
  vacuum) is untouched. Independent (``correlation=0``): each mode dephases,
  ``D[sqrt(kappa) n]``, so ``|nn><mm|`` decays at rate ``kappa (n - m)^2``.
* :func:`oscillator_reset` — deterministic reset ``r (tau Tr s - s)`` to the truncated
  thermal state; :class:`~eplt.baths.Reset` with a clock resets at random ticks, as for
  qudits (``Reset(clock, party, thermal_oscillator(beta, cutoff=N))``).
* :func:`phase_kick` — :class:`~eplt.baths.Kick` applying ``exp(-i theta a^dag a)`` at the
  ticks of a clock.
* :func:`cavity_environment` — two damped modes at one temperature with shared,
  independent or no phase noise.

Cutoff convergence: :func:`edge_population_observable` is an ``e_ops`` entry giving the
largest population of the top Fock levels of either mode at every time; check its
maximum over a run with :func:`eplt.dynamics.bosonic.check_cutoff`.
"""

from __future__ import annotations

import math

import numpy as np
import qutip
from eplt.dynamics.bosonic import cutoff_dimension, edge_population, thermal_oscillator
from eplt.dynamics.model import LocalTerm

from .environment import Drive, Environment, Kick, _party, _rate
from .processes import BrownianNoise
from .thermal import _check_beta

__all__ = [
    "cavity_environment",
    "edge_population_observable",
    "oscillator_bath",
    "oscillator_hamiltonian",
    "oscillator_reset",
    "phase_kick",
    "phase_noise",
]


def _omega(omega) -> float:
    omega = float(omega)
    if not (omega > 0 and math.isfinite(omega)):
        raise ValueError(f"omega must be a finite number > 0, got {omega!r}")
    return omega


def _number(N: int) -> np.ndarray:
    return np.diag(np.arange(N, dtype=float)).astype(complex)


def oscillator_hamiltonian(party: int, omega: float = 1.0, *, cutoff: int, name: str | None = None):
    """``-i[omega a^dag a, .]`` on ``party`` (sets the party's energy operator).

    Examples
    --------
    >>> oscillator_hamiltonian(0, 1.0, cutoff=5).name
    'oscillator[0]'
    """
    N = cutoff_dimension(cutoff, 2)
    H = _omega(omega) * _number(N)
    return LocalTerm.from_operators(name or f"oscillator[{_party(party)}]", party, H=H, kind="work")


def oscillator_bath(
    party: int,
    beta: float,
    *,
    rate: float,
    cutoff: int,
    omega: float = 1.0,
    include_hamiltonian: bool = False,
    name: str | None = None,
):
    r"""Thermal bath of a damped cavity: ``D[sqrt(G (nbar+1)) a] + D[sqrt(G nbar) a^dag]``.

    ``D[C] s = C s C^† - {C^† C, s}/2``; ``G = rate``, ``nbar = 1/(exp(beta omega) - 1)``
    (``beta = inf``: ``nbar = 0``). The amplitude ``<a>`` decays at ``G/2``, the photon
    number relaxes as ``<n>(t) - nbar ~ exp(-G t)``. Stationary state on the cutoff: the
    truncated thermal state ``prop. q^n``, ``q = exp(-beta omega)``. Dissipator only,
    unless ``include_hamiltonian=True`` (then ``-i[omega a^dag a, .]`` is added: the
    generator ``qutip.mesolve(omega a^dag a, rho0, t, c_ops)`` integrates).

    Parameters
    ----------
    party : int
        The mode.
    beta : float
        Inverse temperature in ``(0, inf]``.
    rate : float
        ``G >= 0``.
    cutoff : int
        Number of Fock levels (>= 2).
    omega : float
        Mode frequency (> 0).

    Examples
    --------
    >>> bath = oscillator_bath(0, 1.0, rate=0.1, cutoff=10)
    >>> bath.kind, round(float(bath.target[0, 0].real), 6)    # (1 - q)/(1 - q^10), q = e^-1
    ('heat', 0.632149)
    """
    party = _party(party)
    N = cutoff_dimension(cutoff, 2)
    omega = _omega(omega)
    beta = _check_beta(beta)
    if beta == 0:
        raise ValueError("beta must lie in (0, inf] for an oscillator bath (nbar is infinite at 0)")
    G = _rate(rate, "rate")
    nbar = 0.0 if math.isinf(beta) else 1.0 / math.expm1(beta * omega)
    a = qutip.destroy(N).full()
    c_ops = [math.sqrt(G * (nbar + 1)) * a] + (
        [math.sqrt(G * nbar) * a.conj().T] if nbar > 0 else []
    )
    H = omega * _number(N)
    tau = thermal_oscillator(beta, cutoff=N, omega=omega, cutoff_tol=1.0).full()
    return LocalTerm.from_operators(
        name or f"cavity_bath[{party}]",
        party,
        H=H if include_hamiltonian else None,
        c_ops=c_ops,
        kind="heat",
        beta=beta,
        target=tau,
        hamiltonian=H,
    )


def oscillator_reset(
    party: int, beta: float, rate: float, *, cutoff: int, omega: float = 1.0, name=None
):
    """Deterministic reset ``r (tau Tr s - s)`` to the truncated thermal state of the mode."""
    N = cutoff_dimension(cutoff, 2)
    tau = thermal_oscillator(beta, cutoff=N, omega=omega, cutoff_tol=1.0).full()
    return LocalTerm.reset(name or f"reset[{_party(party)}]", party, tau, _rate(rate))


def phase_kick(clock, party: int, theta: float, *, cutoff: int) -> Kick:
    """:class:`~eplt.baths.Kick` of ``exp(-i theta a^dag a)`` on ``party`` at each tick of ``clock``."""
    N = cutoff_dimension(cutoff, 2)
    return Kick(clock, party, np.diag(np.exp(-1j * float(theta) * np.arange(N))))


def phase_noise(kappa: float, *, cutoff: int, parties=(0, 1), name: str = "phase") -> list[Drive]:
    r"""White phase noise ``xi(t) a^dag a`` on two modes, as ``U (x) U*``.

    One :class:`~eplt.baths.BrownianNoise` signal ``xi`` of strength ``kappa`` acts as
    ``H = xi n`` on ``parties[0]`` and as ``H = -xi n`` on ``parties[1]`` (``n^* = n``).
    Put the drives in an :class:`~eplt.baths.Environment`: with ``correlation=1`` (shared)
    the average is the jump ``sqrt(kappa) (n_A - n_B)``, which leaves every ``|nn><mm|``
    invariant; with ``correlation=0`` (independent copies, same law) each mode has
    ``D[sqrt(kappa) n]`` and ``|nn><mm|`` decays at ``kappa (n - m)^2``.

    Examples
    --------
    >>> len(phase_noise(0.5, cutoff=6))
    2
    """
    N = cutoff_dimension(cutoff, 2)
    pa, pb = (_party(p) for p in parties)
    if pa == pb:
        raise ValueError(f"parties must be two different modes, got {parties!r}")
    proc = BrownianNoise(kappa=kappa, channels=1, name=name)
    n = _number(N)
    return [Drive(proc, pa, [n]), Drive(proc, pb, [-n])]


def cavity_environment(
    beta: float,
    *,
    rate: float,
    cutoff: int,
    omega: float = 1.0,
    kappa: float = 0.0,
    noise: str = "shared",
    include_hamiltonian: bool = False,
) -> Environment:
    r"""Two damped cavities at ``beta`` (:func:`oscillator_bath` each) with phase noise.

    ``noise``: ``"shared"`` (one signal, ``U (x) U*``), ``"independent"`` (copies with the
    same law) or ``"none"`` (``kappa`` ignored and must be 0). Thermal states and energy
    operators per mode are set, so the ``marginal_distance`` and ``energy`` observables
    apply.

    Examples
    --------
    >>> env = cavity_environment(1.0, rate=0.1, cutoff=4, kappa=0.5, noise="independent")
    >>> env.dims
    (4, 4)
    """
    if noise not in ("shared", "independent", "none"):
        raise ValueError(f"noise must be 'shared', 'independent' or 'none', got {noise!r}")
    kappa = _rate(kappa, "kappa")
    if noise == "none" and kappa != 0:
        raise ValueError(f"kappa must be 0 with noise='none', got {kappa!r}")
    N = cutoff_dimension(cutoff, 2)
    terms = [
        oscillator_bath(
            k, beta, rate=rate, cutoff=N, omega=omega, include_hamiltonian=include_hamiltonian
        )
        for k in (0, 1)
    ]
    corr = 1.0
    if noise != "none":
        terms += phase_noise(kappa, cutoff=N)
        corr = 1.0 if noise == "shared" else 0.0
    return Environment((N, N), terms, correlation=corr)


def edge_population_observable(levels: int = 1):
    """An ``e_ops`` callable: the largest population of either mode's top ``levels`` levels.

    See :func:`eplt.dynamics.bosonic.edge_population`.
    """
    if not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1, got {levels!r}")

    def edge(rho):
        return edge_population(rho, levels=int(levels))

    return edge

r"""Per-party schedules: protocols whose stage boundaries differ between parties.

Real baths are not synchronised perfectly: one party's reset stage may stop a little
late or early, its clock may run at a miscalibrated rate, the stop time may jitter.
:func:`per_party_protocol` builds a staged :class:`~eplt.baths.Protocol` from one schedule
per party, ``[(duration, terms), ...]``, by splitting time at every party's stage
boundaries: on each sub-stage the environment holds the terms active for each party.
A process named by several parties is shared on the sub-stages where both are active
(on the others it acts on the remaining party alone, with the same local law), so the
marginal dynamics of each party is exactly its own schedule.

:func:`eplt_schedule` is the EPLT protocol of :func:`eplt.baths.protocols.eplt_protocol`
with those imperfections: partial correlation of the clock (``clock_correlation = c``:
a shared clock at ``c min(r_A, r_B)`` plus independent clocks making up each party's
rate) and of the drive (Gaussian mixing, :class:`~eplt.baths.Environment`), a delay of one
party's reset stop, and a rate error ``r_X = r (1 + eta)``. :func:`jitter_nodes` gives
quadrature nodes for a delay uniform on ``[-spread, spread]``; average the channels (or
states) of the delayed protocols with those weights.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from eplt.dynamics.channels import eplt_channel

from .environment import Drive, Environment, Protocol, Reset, thermal_bath
from .processes import BrownianNoise, PoissonClock
from .protocols import gellmann_basis

__all__ = ["eplt_schedule", "jitter_nodes", "per_party_protocol"]

_TOL = 1e-12


def per_party_protocol(
    dims: Sequence[int],
    schedules: Sequence[Sequence[tuple[float, Sequence]]],
    *,
    correlation=1.0,
    taus=None,
    hamiltonians=None,
) -> Protocol:
    r"""A staged protocol from one schedule per party.

    Parameters
    ----------
    dims : sequence of int
        Local dimensions.
    schedules : one sequence per party of ``(duration, terms)``
        The party's stages, back to back from 0; every term acts on that party. The last
        duration of every party may be ``inf``; otherwise all parties must end together.
    correlation : float or mapping of process name to float
        As in :class:`~eplt.baths.Environment`; a mapping may name processes that are absent
        from some sub-stages.
    taus, hamiltonians : sequences of Qobj, optional
        Reference states and energy operators for the observables.

    Returns
    -------
    Protocol
        Sub-stages between consecutive boundaries of all schedules (boundaries closer
        than 1e-12 are merged).

    Examples
    --------
    Party B's reset runs 0.5 longer than A's:

    >>> import qutip
    >>> from baths import PoissonClock, Reset
    >>> clk = PoissonClock(rate=1.0)
    >>> g = qutip.ket2dm(qutip.basis(2, 0))
    >>> p = per_party_protocol((2, 2), [[(1.0, [Reset(clk, 0, g)])],
    ...                                 [(1.5, [Reset(clk, 1, g)])]])
    Traceback (most recent call last):
    ...
    ValueError: party schedules end at different times (1, 1.5); end them together or with inf
    >>> p = per_party_protocol((2, 2), [[(1.0, [Reset(clk, 0, g)]), (float("inf"), [])],
    ...                                 [(1.5, [Reset(clk, 1, g)]), (float("inf"), [])]])
    >>> [round(d, 6) for d, _ in p.stages_]
    [1.0, 0.5, inf]
    """
    dims = tuple(int(d) for d in dims)
    if len(schedules) != len(dims):
        raise ValueError(
            f"schedules must give one schedule per party ({len(dims)}), got {len(schedules)}"
        )
    bounds, ends = [], []
    for k, sch in enumerate(schedules):
        if not sch:
            raise ValueError(f"schedule of party {k} is empty")
        t, b = 0.0, []
        for i, (dur, terms) in enumerate(sch):
            dur = float(dur)
            if not dur > 0:
                raise ValueError(
                    f"schedule of party {k}, stage {i}: duration must be > 0, got {dur!r}"
                )
            if math.isinf(dur) and i != len(sch) - 1:
                raise ValueError(f"schedule of party {k}: only the last duration may be inf")
            for term in terms:
                if getattr(term, "party", k) != k:
                    raise ValueError(
                        f"schedule of party {k}, stage {i}: a term acts on party {term.party}"
                    )
            t += dur
            b.append(t)
        bounds.append(b)
        ends.append(t)
    finite = [e for e in ends if not math.isinf(e)]
    if finite and (len(finite) != len(ends) or max(finite) - min(finite) > _TOL):
        shown = ", ".join(f"{e:g}" for e in ends)
        raise ValueError(
            f"party schedules end at different times ({shown}); end them together or with inf"
        )
    cuts = sorted({x for b in bounds for x in b if not math.isinf(x)})
    merged: list[float] = []
    for x in cuts:
        if not merged or x - merged[-1] > _TOL:
            merged.append(x)
    edges = [0.0] + merged + ([math.inf] if math.isinf(max(ends)) else [])
    if not math.isinf(edges[-1]) and len(edges) > 1 and abs(edges[-1] - max(ends)) <= _TOL:
        edges[-1] = max(ends)
    stages = []
    for a, b in itertools.pairwise(edges):
        terms = []
        for sch in schedules:
            t = 0.0
            for dur, ts in sch:
                if a >= t - _TOL and a < t + float(dur) - _TOL:
                    terms += list(ts)
                    break
                t += float(dur)
        names = {term.process.name for term in terms if hasattr(term, "process")}
        corr = (
            {n: c for n, c in dict(correlation).items() if n in names}
            if isinstance(correlation, Mapping)
            else correlation
        )
        env = Environment(dims, terms, correlation=corr, taus=taus, hamiltonians=hamiltonians)
        stages.append((b - a if not math.isinf(b) else math.inf, env))
    return Protocol(stages, taus=taus, hamiltonians=hamiltonians)


def jitter_nodes(spread: float, nodes: int = 4):
    r"""Quadrature ``(delays, weights)`` of a delay uniform on ``[-spread, spread]``.

    Gauss-Legendre with ``nodes`` points on each half, ``[-spread, 0]`` and
    ``[0, spread]``: a delay changes the order of the parties' stage boundaries at 0, where
    the joint channel has a kink; on each side it is analytic. Exact for piecewise
    polynomials of degree ``2 nodes - 1`` with a break at 0; the weights sum to one.

    Examples
    --------
    >>> x, w = jitter_nodes(0.1, 2)
    >>> round(float(w.sum()), 12), round(float((w * x**2).sum()), 12)  # variance spread^2/3
    (1.0, 0.003333333333)
    """
    spread = float(spread)
    if not (math.isfinite(spread) and spread >= 0):
        raise ValueError(f"spread must lie in [0, inf), got {spread!r}")
    if int(nodes) != nodes or nodes < 1:
        raise ValueError(f"nodes must be an integer >= 1, got {nodes!r}")
    x, w = np.polynomial.legendre.leggauss(int(nodes))
    half = spread * (x + 1) / 2
    return np.concatenate([-half[::-1], half]), np.concatenate([w[::-1], w]) / (2 * w.sum())


def eplt_schedule(
    tau_A,
    tau_B,
    H_A,
    H_B,
    beta: float,
    *,
    rate: float,
    kappa: float,
    t_twirl: float,
    clock_correlation: float = 1.0,
    drive_correlation: float = 1.0,
    delay: float = 0.0,
    rate_error: float = 0.0,
    party: int = 1,
    twirl: Sequence[Drive] | None = None,
    hold: bool = True,
) -> tuple[Protocol, float]:
    r"""The staged EPLT protocol with imperfect shared randomness and timing.

    Stages per party: the twirl for ``t_twirl`` (a shared Gell-Mann Brownian drive of
    strength ``kappa`` at ``drive_correlation``, or the drive terms ``twirl``); a
    Poisson reset to ``omega_X`` (:func:`eplt.dynamics.channels.eplt_channel`) for
    ``ln(1/gamma)/rate``, on ``party`` for ``delay`` longer (``delay < 0``: shorter)
    and at rate ``rate (1 + rate_error)``; then (``hold``) thermal baths at ``beta``
    with relaxation rate ``rate``. The clocks: a shared clock at
    ``clock_correlation * min(r_A, r_B)`` plus, on each party, an own clock making up
    its rate (``clock_correlation = 0``: independent clocks; ``1`` with equal rates:
    one shared clock).

    Returns
    -------
    protocol : Protocol
    t_end : float
        When the later party's reset stops, ``t_twirl + ln(1/gamma)/rate + max(0, delay)``
        (the nominal ``t*`` when ``delay <= 0``).

    Examples
    --------
    >>> from baths import qubit_hamiltonian, thermal_state
    >>> H = qubit_hamiltonian(1.0)
    >>> tau = thermal_state(H, 1.0)
    >>> p, t = eplt_schedule(tau, tau, H, H, 1.0, rate=1.0, kappa=10.0, t_twirl=0.1, delay=0.2)
    >>> round(t, 6)
    0.920115
    """
    if party not in (0, 1):
        raise ValueError(f"party must be 0 or 1, got {party!r}")
    for nm, c in (
        ("clock_correlation", clock_correlation),
        ("drive_correlation", drive_correlation),
    ):
        if not 0 <= float(c) <= 1:
            raise ValueError(f"{nm} must lie in [0, 1], got {c!r}")
    if not float(rate_error) > -1:
        raise ValueError(f"rate_error must lie in (-1, inf), got {rate_error!r}")
    if not float(t_twirl) >= 0:
        raise ValueError(f"t_twirl must lie in [0, inf), got {t_twirl!r}")
    E = eplt_channel(tau_A, tau_B)
    d = E.d
    t_reset = math.log(1 / E.gamma) / rate
    if not delay > -t_reset:
        raise ValueError(
            f"delay must lie in (-{t_reset:g}, inf) (the reset stage length), got {delay!r}"
        )
    rates = [rate, rate]
    rates[party] = rate * (1 + rate_error)
    durs = [t_reset, t_reset]
    durs[party] = t_reset + delay
    shared = clock_correlation * min(rates)
    clk = PoissonClock(rate=shared, name="clock")
    taus = (tau_A, tau_B)
    Hs = (H_A, H_B)
    if twirl is None:
        G = gellmann_basis(d)
        proc = BrownianNoise(kappa=kappa, channels=len(G), name="drive")
        twirl = [Drive(proc, 0, G), Drive(proc, 1, G, conjugate=True)]
    schedules = []
    for k in (0, 1):
        sch = []
        if t_twirl > 0:
            sch.append((t_twirl, [t for t in twirl if t.party == k]))
        resets = []
        if shared > 0:
            resets.append(Reset(clk, k, E.omega[k]))
        own = rates[k] - shared
        if own > 1e-15 * rates[k]:
            resets.append(Reset(PoissonClock(rate=own, name=f"clock@{k}"), k, E.omega[k]))
        sch.append((durs[k], resets))
        bath = [thermal_bath(k, Hs[k], beta, relaxation_rate=rate)] if hold else []
        sch.append((math.inf, bath))
        schedules.append(sch)
    corr = {t.process.name: float(drive_correlation) for t in twirl}
    proto = per_party_protocol((d, d), schedules, correlation=corr, taus=taus, hamiltonians=Hs)
    return proto, t_twirl + t_reset + max(0.0, delay)

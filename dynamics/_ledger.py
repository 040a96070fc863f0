"""Result types of the thermodynamic ledger (:mod:`eplt.dynamics.thermo`); private module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

KINDS = ("work", "heat", "reservoir", "other")


@dataclass(frozen=True, eq=False)
class Term:
    """One energy channel: term ``label`` acting on ``party``.

    ``kind`` in {"work", "heat", "reservoir", "other"}; ``beta`` for heat;
    ``omega`` (the supplied state, array) and ``rate`` (resets per unit time on this
    party) for reservoirs.
    """

    label: str
    party: int
    kind: str
    beta: float | None = None
    omega: np.ndarray | None = field(default=None, repr=False)
    rate: float | None = None


@dataclass(frozen=True)
class StageLedger:
    """Integrated thermodynamics of one stage ``[start, end]`` (or of the whole run).

    Attributes
    ----------
    energy_change : ndarray (n,)
        ``E_k(end) - E_k(start)`` per party.
    flows : dict label -> float
        Energy into the system through each term (positive: into the system).
    work, heat, reservoir, other : ndarray (n,)
        Those flows summed by kind, per party; the first law is
        ``energy_change = work + heat + reservoir + other``.
    entropy_change : float
        ``S(rho(end)) - S(rho(start))`` of the joint state, nats.
    entropy_flow : float
        ``sum_b beta_b Q_b`` over the heat terms.
    entropy_production : float or None
        ``entropy_change - entropy_flow`` (>= 0 by Spohn's inequality), None on a stage
        with a reservoir or an unclassified term (no second-law bound there).
    resets : ndarray (n,)
        Expected number of resets supplied by non-thermal reservoirs, per party.
    reservoir_cost : ndarray (n,)
        ``resets * (F_beta(omega) - F_beta(tau))`` per party, at the reference beta.
    """

    start: float
    end: float
    energy_change: np.ndarray
    flows: dict
    work: np.ndarray
    heat: np.ndarray
    reservoir: np.ndarray
    other: np.ndarray
    entropy_change: float
    entropy_flow: float
    entropy_production: float | None
    resets: np.ndarray
    reservoir_cost: np.ndarray

    @property
    def first_law_residual(self) -> float:
        """``max_k |Delta E_k - (W_k + Q_k + R_k + O_k)|``."""
        tot = self.work + self.heat + self.reservoir + self.other
        return float(np.abs(self.energy_change - tot).max())


@dataclass(frozen=True, eq=False)
class EnergyLedger:
    """Time series and per-stage integrals of the energy and entropy bookkeeping.

    Attributes
    ----------
    times : ndarray (T,)
    terms : tuple of Term
        Every energy channel (label, party, kind) over all stages.
    energy : ndarray (T, n)
        ``E_k(t) = Tr(H_k rho_k(t))``.
    current : ndarray (T, len(terms))
        ``J_b(t)``; zero while the term is off. At a stage boundary the value of the
        stage that ends there.
    flow : ndarray (T, len(terms))
        Cumulative ``Q_b(t) = int_{t_0}^t J_b``.
    entropy : ndarray (T,)
        ``S(rho(t))`` of the joint state, nats.
    entropy_flow : ndarray (T,)
        Cumulative ``sum_b beta_b Q_b(t)`` over heat terms.
    reservoir_cost : ndarray (T,)
        Cumulative free-energy cost of the reservoir states supplied (all parties).
    stages : tuple of StageLedger
    total : StageLedger
        The whole run (entropy production None if any stage has none).
    beta : tuple of float or None
        Reference inverse temperature per party (reservoir costs).
    """

    times: np.ndarray
    terms: tuple
    energy: np.ndarray
    current: np.ndarray
    flow: np.ndarray
    entropy: np.ndarray
    entropy_flow: np.ndarray
    reservoir_cost: np.ndarray
    stages: tuple
    total: StageLedger
    beta: tuple | None

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.terms]

    def by_kind(self, kind: str) -> np.ndarray:
        """Cumulative energy into each party through terms of ``kind``, shape (T, n)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        n = self.energy.shape[1]
        out = np.zeros((self.times.size, n))
        for j, t in enumerate(self.terms):
            if t.kind == kind:
                out[:, t.party] += self.flow[:, j]
        return out

    def first_law_residual(self) -> float:
        """``max_{t,k} |E_k(t) - E_k(t_0) - sum_b Q_{b,k}(t)|`` over the time series and stages."""
        tot = sum(self.by_kind(k) for k in KINDS)
        res = float(np.abs(self.energy - self.energy[0] - tot).max())
        return max(
            [res, self.total.first_law_residual] + [s.first_law_residual for s in self.stages]
        )


def _combine(stages: Sequence[StageLedger], start: float, end: float) -> StageLedger:
    flows: dict = {}
    for s in stages:
        for k, v in s.flows.items():
            flows[k] = flows.get(k, 0.0) + v
    ep = [s.entropy_production for s in stages]
    return StageLedger(
        start,
        end,
        sum(s.energy_change for s in stages),
        flows,
        sum(s.work for s in stages),
        sum(s.heat for s in stages),
        sum(s.reservoir for s in stages),
        sum(s.other for s in stages),
        sum(s.entropy_change for s in stages),
        sum(s.entropy_flow for s in stages),
        None if any(e is None for e in ep) else sum(ep),
        sum(s.resets for s in stages),
        sum(s.reservoir_cost for s in stages),
    )

r"""Thermodynamic ledger: energy flows classified by term, entropy production, reservoir costs.

Conventions: hbar = k_B = 1, entropies in nats, energies in the units of the party
Hamiltonians ``H_k``. Every averaged generator is a sum of terms ``L = sum_b L_b`` (the
deterministic local terms and, for each white random process, its averaged generator).
The energy flowing into party ``k`` through term ``b`` is

.. math:: J_{b,k}(t) = \mathrm{Tr}[(H_k \otimes I)\, L_b(\rho(t))],
          \qquad Q_{b,k}(t) = \int_0^t J_{b,k}(s)\, ds,

computed on the joint state (for a shared process the joint averaged generator, so no
marginal approximation is involved) and integrated *exactly*:
``int_0^dt e^{L s} ds`` comes from one matrix exponential of the augmented generator
``[[L, I], [0, 0]] dt`` (Van Loan). The first law
``E_k(t) - E_k(0) = sum_b Q_{b,k}(t)`` then holds to rounding.

Terms are classified by what they are (not by their sign):

``work``
    Hamiltonian drives, random (Brownian drives, pulses, unitary kicks at clock ticks)
    or deterministic.
``heat``
    Thermal baths at a stated inverse temperature ``beta_b`` (Davies baths), and resets
    whose target is the Gibbs state of ``H_k`` at the reference ``beta`` (a collision
    bath of thermal particles).
``reservoir``
    Resets to a non-thermal state ``omega`` (a reservoir of prepared states; for qubits
    the EPLT protocol's omega is the ground state, a zero-temperature resource).

Entropy: ``S(t)`` of the joint state. On a stage whose terms are thermal baths, unital
drives/kicks and Hamiltonians, Spohn's inequality gives
``Sigma = Delta S - sum_b beta_b Q_b >= 0`` (entropy production). A stage with a
reservoir has no such bound; its cost is the nonequilibrium free energy of the states
the reservoir supplies, ``F_beta(omega) - F_beta(tau) = S(omega || tau)/beta`` per reset
(``F_beta(rho) = Tr(rho H) - S(rho)/beta``), times the expected number of resets
(``rate * duration`` per party), at the reference (bath) inverse temperature ``beta``.

Only white processes (exact averaged generators) are supported; joint states up to
``D^2 = 1024`` (five qubits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np
import qutip
import scipy.linalg as sla

from ._checks import as_density_matrix, party_dims
from ._entropy import entropy_arr as _entropy
from ._ledger import KINDS, EnergyLedger, StageLedger, Term, _combine
from .model import HamiltonianAction, JumpAction, stages_of
from .superop import from_paired, to_paired

__all__ = [
    "EnergyLedger",
    "StageLedger",
    "Term",
    "energy_ledger",
    "free_energy",
    "reservoir_free_energy_cost",
]

#: Largest joint Liouvillian (D^2) the ledger handles (dense matrix exponentials).
LEDGER_MAX = 1024


def _gibbs(H: np.ndarray, beta: float) -> np.ndarray:
    E, V = np.linalg.eigh((H + H.conj().T) / 2)
    if math.isinf(beta):
        p = (E <= E.min() + 1e-12).astype(float)
    else:
        p = np.exp(-beta * (E - E.min()))
    p = p / p.sum()
    return (V * p) @ V.conj().T


def _check_beta_pos(beta, name="beta") -> float:
    b = float(beta)
    if math.isnan(b) or b <= 0:
        raise ValueError(f"{name} must lie in (0, inf], got {beta!r}")
    return b


def free_energy(rho, H, beta: float) -> float:
    r"""Nonequilibrium free energy ``F_beta(rho) = Tr(rho H) - S(rho)/beta`` (nats, hbar = k_B = 1).

    Parameters
    ----------
    rho, H : Qobj or array (d x d)
        State and Hamiltonian of one system.
    beta : float in (0, inf]
        Inverse temperature of the bath the free energy refers to (``inf``: the energy).

    Examples
    --------
    >>> import numpy as np
    >>> H = np.diag([0.0, 1.0])
    >>> round(free_energy(np.eye(2) / 2, H, 1.0), 6)  # 1/2 - ln 2
    -0.193147
    """
    beta = _check_beta_pos(beta)
    r = rho.full() if isinstance(rho, qutip.Qobj) else np.asarray(rho, dtype=complex)
    h = H.full() if isinstance(H, qutip.Qobj) else np.asarray(H, dtype=complex)
    if r.shape != h.shape:
        raise ValueError(f"rho has shape {r.shape} but H has shape {h.shape}")
    E = float(np.real(np.trace(r @ h)))
    return E if math.isinf(beta) else E - _entropy(r) / beta


def reservoir_free_energy_cost(omega, H, beta: float) -> float:
    r"""Free-energy cost of one state ``omega`` supplied by a reservoir, against a bath at ``beta``.

    ``F_beta(omega) - F_beta(tau) = S(omega || tau) / beta >= 0`` with
    ``tau = e^{-beta H}/Z``: the least work needed to prepare ``omega`` with a bath at
    ``beta`` (zero for ``omega = tau``).

    Examples
    --------
    >>> import numpy as np
    >>> # the qubit ground state at beta omega = 1: ln(1 + e^{-1}) = 0.313262
    >>> round(reservoir_free_energy_cost(np.diag([1.0, 0.0]), np.diag([0.0, 1.0]), 1.0), 6)
    0.313262
    """
    beta = _check_beta_pos(beta)
    h = H.full() if isinstance(H, qutip.Qobj) else np.asarray(H, dtype=complex)
    return free_energy(omega, h, beta) - free_energy(_gibbs(h, beta), h, beta)


# ---------------------------------------------------------------------- terms
def _stage_terms(model, dims, hams, beta_ref):
    """[(Term, joint generator piece (N x N), party)] of one stage (pieces of one label summed)."""
    pieces: dict[tuple[str, int], list] = {}

    def add(term: Term, L: np.ndarray):
        key = (term.label, term.party)
        if key in pieces:
            old, Lold = pieces[key]
            if old.kind == "reservoir" and term.kind == "reservoir":
                term = replace(old, rate=(old.rate or 0) + (term.rate or 0))
            pieces[key] = [term, Lold + L]
        else:
            pieces[key] = [term, L]

    from .superop import Generator, ProductTerm

    def thermalize(term: Term) -> Term:
        """A reservoir of Gibbs states at the reference beta is a heat bath at beta."""
        if term.kind == "reservoir" and beta_ref is not None:
            tau = _gibbs(hams[term.party], beta_ref[term.party])
            if np.allclose(term.omega, tau, atol=1e-12):
                return replace(term, kind="heat", beta=beta_ref[term.party])
        return term

    for t in model.local:
        L = Generator(dims, (ProductTerm(1.0, {t.party: t.superop}),)).to_dense()
        kind = t.kind if t.kind in KINDS else "other"
        term = Term(t.name, t.party, kind, beta=t.beta)
        if kind == "reservoir":
            # a reset r (omega Tr s - s) says so where it is built (LocalTerm.reset)
            if t.rate is None or t.target is None:
                term = replace(term, kind="other")
            else:
                term = thermalize(replace(term, rate=t.rate, omega=np.array(t.target)))
        add(term, L)
    for s in model.sources:
        if not s.process.white:
            raise TypeError(
                f"energy_ledger needs white processes (exact averaged generators); "
                f"process {s.process.name!r} is {type(s.process).__name__}"
            )
        L = s.process.averaged_generator(dims, s.actions).to_dense()
        for a in s.actions:
            # the energy flow into party a.party through this source is read off the joint
            # piece with that party's energy operator; a source acting on several parties
            # appears under one label per party, each with the full joint piece.
            label = f"{s.name}[{a.party}]"
            if isinstance(a, HamiltonianAction):
                term = Term(label, a.party, "work")
            elif isinstance(a, JumpAction):
                rate = getattr(s.process, "rate", None)
                if a.target is not None and rate is not None:  # JumpAction.reset
                    term = thermalize(
                        Term(
                            label, a.party, "reservoir", omega=np.array(a.target), rate=float(rate)
                        )
                    )
                elif a.label == "kick":
                    term = Term(label, a.party, "work")
                else:
                    term = Term(label, a.party, "other")
            else:  # pragma: no cover - no other action types
                term = Term(label, a.party, "other")
            add(term, L)
    return [(t, L) for t, L in pieces.values()]


# ---------------------------------------------------------------------- ledger
class _Stepper:
    """``(e^{L dt} x, int_0^dt e^{L s} x ds)`` from one exponential of ``[[L, I], [0, 0]] dt``,
    cached per time step (13 significant digits)."""

    def __init__(self, L: np.ndarray):
        N = L.shape[0]
        self.N = N
        self.aug = np.zeros((2 * N, 2 * N), dtype=complex)
        self.aug[:N, :N] = L
        self.aug[:N, N:] = np.eye(N)
        self.cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, x: np.ndarray, dt: float):
        if dt <= 0:
            return x, np.zeros(self.N, complex)
        key = float(f"{dt:.12e}")
        if key not in self.cache:
            E = sla.expm(self.aug * dt)
            self.cache[key] = (E[: self.N, : self.N], E[: self.N, self.N :])
        P, Phi = self.cache[key]
        return P @ x, Phi @ x


def _accumulate(Q: np.ndarray, w_terms, integ: np.ndarray) -> float:
    """Add each term's integrated flow to ``Q``; return the increment of ``sum beta_b Q_b``
    over heat terms at finite beta (zero-temperature baths have no finite entropy flow;
    their stages get no entropy production)."""
    ef = 0.0
    for j, w, tm in w_terms:
        q = float(np.real(w @ integ))
        Q[j] += q
        if tm.kind == "heat" and not math.isinf(tm.beta):
            ef += tm.beta * q
    return ef


def _energy_rows(dims, hams) -> list[np.ndarray]:
    rows = []
    for k, h in enumerate(hams):
        ops = [np.eye(d) for d in dims]
        ops[k] = h
        O = ops[0]
        for o in ops[1:]:
            O = np.kron(O, o)
        rows.append(to_paired(O.T, dims).reshape(-1))  # Tr(O rho) = row . x
    return rows


def energy_ledger(
    rho0,
    protocol,
    tlist,
    *,
    beta: float | Sequence[float] | None = None,
    hamiltonians=None,
) -> EnergyLedger:
    r"""Energy, heat, work and reservoir flows per term, entropy production and costs.

    Parameters
    ----------
    rho0 : Qobj
        Initial joint state at ``tlist[0]`` (ket or density matrix).
    protocol : Model, or an object with ``stages()`` (Environment, Protocol)
        White processes only (Brownian drives, Poisson clocks, Lindblad terms).
    tlist : array_like
        Strictly increasing output times; stages start at ``tlist[0]``.
    beta : float or sequence of float in (0, inf], optional
        Reference inverse temperature per party: the bath temperature at which reservoir
        states are priced (and at which a reservoir of Gibbs states counts as heat).
        Default: the common beta of the protocol's thermal baths; required when the
        protocol has reservoirs but no thermal bath.
    hamiltonians : sequence of Qobj, optional
        Per-party energy operators; default from the protocol.

    Returns
    -------
    EnergyLedger

    Examples
    --------
    >>> import numpy as np
    >>> from baths import Environment, qubit_hamiltonian, thermal_bath
    >>> from eplt.dynamics.states import phi_plus
    >>> H = qubit_hamiltonian(1.0)
    >>> env = Environment((2, 2), [thermal_bath(k, H, 1.0, relaxation_rate=1.0) for k in (0, 1)])
    >>> led = energy_ledger(phi_plus(), env, np.linspace(0, 20, 5))
    >>> round(float(led.total.heat[0]), 6)  # omega (p_1 - 1/2) per qubit
    -0.231059
    >>> led.total.entropy_production >= 0 and led.first_law_residual() < 1e-10
    True
    """
    from .propagate import BLAS_THREADS, _blas_controller

    limit = nullcontext() if BLAS_THREADS is None else _blas_controller().limit(limits=BLAS_THREADS)
    with limit:
        return _ledger(rho0, protocol, tlist, beta, hamiltonians)


def _ledger(rho0, protocol, tlist, beta, hamiltonians) -> EnergyLedger:
    rho0 = as_density_matrix(rho0, "rho0")
    dims = party_dims(rho0)
    n = len(dims)
    N = int(np.prod([d * d for d in dims]))
    if N > LEDGER_MAX:
        raise ValueError(
            f"energy_ledger handles joint states up to D^2 = {LEDGER_MAX}, got {N} (dims {dims})"
        )
    t = np.asarray(tlist, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("tlist must be a non-empty, finite, strictly increasing 1-D array")
    stages = stages_of(protocol)
    if tuple(stages[0].model.dims) != tuple(dims):
        raise ValueError(f"rho0 has dims {dims}, the protocol acts on {list(stages[0].model.dims)}")
    hsrc = hamiltonians if hamiltonians is not None else stages[0].model.hamiltonians
    if hsrc is None:
        raise ValueError(
            "energy_ledger needs hamiltonians: pass hamiltonians=... or use a protocol that defines them"
        )
    hams = [h.full() if isinstance(h, qutip.Qobj) else np.asarray(h, dtype=complex) for h in hsrc]
    if len(hams) != n or any(h.shape != (d, d) for h, d in zip(hams, dims)):
        raise ValueError(f"hamiltonians must give one d x d operator per party, dims {dims}")

    # reference beta per party
    if beta is None:
        bs = {
            lt.beta
            for st in stages
            for lt in st.model.local
            if lt.kind == "heat" and lt.beta is not None
        }
        beta_ref = (bs.pop(),) * n if len(bs) == 1 else None
    else:
        bl = [beta] * n if np.ndim(beta) == 0 else list(beta)
        if len(bl) != n:
            raise ValueError(f"beta must be one value or one per party ({n}), got {len(bl)}")
        beta_ref = tuple(_check_beta_pos(b) for b in bl)

    # windows and per-stage terms
    t0, t_end = float(t[0]), float(t[-1])
    windows, start = [], t0
    for st in stages:
        end = min(start + st.duration, t_end)
        if end > start or not windows:
            windows.append((start, max(end, start), st.model))
        start += st.duration
        if start >= t_end:
            break
    rows = _energy_rows(dims, hams)
    stage_terms = []
    for _, _, model in windows:
        terms = _stage_terms(model, dims, hams, beta_ref)
        if beta_ref is None and any(tm.kind == "reservoir" for tm, _ in terms):
            raise ValueError(
                "beta: the protocol has reservoirs (resets to non-thermal states) and no "
                "single bath temperature; give beta= to price the reservoir states"
            )
        stage_terms.append(terms)
    all_terms: dict[tuple[str, int], Term] = {}
    for terms in stage_terms:
        for tm, _ in terms:
            all_terms.setdefault((tm.label, tm.party), tm)
    keys = list(all_terms)
    col = {k: i for i, k in enumerate(keys)}
    nt = len(keys)

    ctx = _Ctx(dims, rows, keys, hams, beta_ref)

    x = to_paired(rho0.full(), dims).reshape(-1).astype(complex)
    T = t.size
    energy = np.zeros((T, n))
    current = np.zeros((T, nt))
    flow = np.zeros((T, nt))
    entropy = np.zeros(T)
    eflow = np.zeros(T)
    rcost = np.zeros(T)

    def record(i, x, Q, ef, rc, terms_w):
        a = from_paired(x.reshape([d * d for d in dims]), dims)
        energy[i] = [float(np.real(r @ x)) for r in rows]
        for j, w in terms_w:
            current[i, j] = float(np.real(w @ x))
        flow[i] = Q
        entropy[i] = _entropy(a)
        eflow[i] = ef
        rcost[i] = rc

    Q = np.zeros(nt)
    ef = rc = 0.0
    stage_out = []
    i_next = 0
    for (start, end, model), terms in zip(windows, stage_terms):
        L = model.averaged_generator().to_dense()
        w_terms = [(col[(tm.label, tm.party)], rows[tm.party] @ Lb, tm) for tm, Lb in terms]
        terms_w = [(j, w) for j, w, _ in w_terms]
        Q_start, ef_start, x_start = Q.copy(), ef, x.copy()
        cr = sum(ctx.cost_rate(tm) for _, _, tm in w_terms)
        step = _Stepper(L)

        tt = start
        # the first stage records tlist[0]; later ones the times in (start, end]
        while i_next < T and t[i_next] <= end + 1e-15 * max(1.0, abs(end)):
            dt = t[i_next] - tt
            x, integ = step(x, dt)
            ef += _accumulate(Q, w_terms, integ)
            rc += cr * max(dt, 0.0)
            tt = t[i_next]
            record(i_next, x, Q, ef, rc, terms_w)
            i_next += 1
        x, integ = step(x, end - tt)
        ef += _accumulate(Q, w_terms, integ)
        rc += cr * max(end - tt, 0.0)
        tms = [tm for _, _, tm in w_terms]
        stage_out.append(
            _stage_summary((start, end), (x_start, x), Q - Q_start, ef - ef_start, tms, ctx)
        )
    if i_next < T:
        raise ValueError(
            f"tlist runs to {t_end:g}, beyond the end of the protocol ({windows[-1][1]:g})"
        )
    total = _combine(stage_out, t0, float(windows[-1][1]))
    terms = tuple(all_terms[k] for k in keys)
    out = (energy, current, flow, entropy, eflow, rcost)
    return EnergyLedger(t, terms, *out, tuple(stage_out), total, beta_ref)


@dataclass(frozen=True)
class _Ctx:
    dims: list
    rows: list
    keys: list
    hams: list
    beta_ref: tuple | None

    def cost_rate(self, tm: Term) -> float:
        """Free-energy cost per unit time of a reservoir term (0 for the others)."""
        if tm.kind != "reservoir":
            return 0.0
        b = self.beta_ref[tm.party]
        return tm.rate * reservoir_free_energy_cost(tm.omega, self.hams[tm.party], b)

    def entropy(self, x) -> float:
        return _entropy(from_paired(x.reshape([d * d for d in self.dims]), self.dims))


def _stage_summary(window, states, dQ, def_, tms, ctx: _Ctx) -> StageLedger:
    (start, end), (x0, x1) = window, states
    n, dur = len(ctx.dims), end - start
    dE = np.array([float(np.real(r @ (x1 - x0))) for r in ctx.rows])
    by = {k: np.zeros(n) for k in KINDS}
    flows: dict = {}
    kind = {(tm.label, tm.party): tm.kind for tm in tms}  # this stage's classification
    for j, key in enumerate(ctx.keys):
        flows[key[0]] = flows.get(key[0], 0.0) + float(dQ[j])
        if key in kind:
            by[kind[key]][key[1]] += float(dQ[j])
    resets, cost = np.zeros(n), np.zeros(n)
    for tm in tms:
        if tm.kind == "reservoir":
            resets[tm.party] += tm.rate * dur
            cost[tm.party] += ctx.cost_rate(tm) * dur
    bounded = all(
        tm.kind in ("work", "heat") and not (tm.kind == "heat" and math.isinf(tm.beta))
        for tm in tms
    )
    dS = ctx.entropy(x1) - ctx.entropy(x0)
    sigma = (dS - def_) if bounded else None
    flows_by = (by["work"], by["heat"], by["reservoir"], by["other"])
    return StageLedger(start, end, dE, flows, *flows_by, dS, def_, sigma, resets, cost)

r"""Product sums: GHZ protocols of a thousand qubits in O(n) per time.

Given one realization of its randomness every stage of an eplt protocol is a product of
local channels; when the randomness takes finitely many relevant values the averaged
channel is a *finite mixture of product channels*, and it maps a short sum of product
operators

.. math:: \rho = \sum_i c_i \bigotimes_{p=1}^n A_{ip}

to another one. A GHZ state is four terms (``|0..0><0..0|``, ``|1..1><1..1|`` and the two
coherences), a noisy GHZ state five. The GHZ fidelity, the trace and every one-qubit
marginal (``c_i A_iq prod_{p != q} Tr A_ip``) cost O(n) per term and time, the purity
O(n) per pair of terms: the whole GHZ protocol of :mod:`eplt.studies.ghz` at n = 1000 with
201 saved times takes well under a second.

Which stages are mixtures of product channels (:mod:`eplt.dynamics._pscompile`, checked,
:class:`NotProductSumError` otherwise): white processes on qubits with local generators
(baths, independent copies of every process), shared Poisson clocks whose channels are all
involutions (Pauli kicks: two branches) or all idempotent (resets: two branches), and
shared Brownian phase noise (diagonal generators, e.g. :func:`eplt.baths.zero_sum_phase_drive`
or :func:`eplt.baths.exchangeable_phase_drive`), on which a product of letters ``|x_p><y_p|``
is an eigenoperator, decaying at ``sum_s kappa_s (sum_p (g_sp(x_p) - g_sp(y_p)))^2 / 2`` —
provided the pieces commute (a flip acts on every phase-noised qubit or on none, local
terms keep the letters under phase noise, resets go to diagonal states). Factors mixing
populations and coherences on a phase-noised qubit would need ``3^n`` terms and are refused.

Numerics: every term is stored as ``log c_i`` (complex) and factors scaled to a largest entry
of 1; products of n numbers are sums of logarithms, exponentiated once per term, so nothing
under- or overflows at n = 1000 (``2^-1000`` is 1e-301).

Conventions: hbar = k_B = 1; qubit ``|0>`` ground; ``GHZ = (|0..0> + |1..1>)/sqrt(2)``;
factors in the engine's row-major letters ``(|0><0|, |0><1|, |1><0|, |1><1|)``. The route is
:func:`evolve_product_sum` (and the method object :class:`ProductSum`); the worst case over
inputs of the output GHZ fidelity is :func:`worst_case_ghz_fidelity`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import qutip

from . import _psworst
from ._builtin_observables import trace_distances
from ._expm import expm_batched
from ._pscompile import NotProductSumError, StageSpec, compile_stage, drive_rates
from ._psterms import _ghz, _marginals, _merge, _normalize, _purity, _trace
from ._psworst import WorstCaseGHZ
from .model import stages_of
from .permutation import _observable_names
from .result import Result
from .states import ghz_noise_weight

__all__ = [
    "OBSERVABLES",
    "NotProductSumError",
    "ProductOperatorSum",
    "ProductSum",
    "WorstCaseGHZ",
    "apply_channel",
    "evolve_product_sum",
    "ghz_observable",
    "is_product_sum",
    "marginal_channels",
    "worst_case_ghz_fidelity",
]

#: Observables of the product-sum route: name -> description.
OBSERVABLES = {
    "ghz_fidelity": "<GHZ|rho|GHZ>",
    "marginal_distance": "trace distance of each qubit's marginal to its tau",
    "energy": "Tr(H_p rho_p) of each qubit",
    "purity": "Tr rho^2",
    "trace": "Tr rho",
}

#: Largest number of product terms kept (each stage's clocks double them before merging).
MAX_TERMS = 4096


@dataclass(frozen=True, eq=False)
class ProductOperatorSum:
    r"""An operator of n qubits as a short sum of products, ``sum_i exp(logc_i) (x)_p A_ip``.

    Parameters
    ----------
    logc : array_like, shape (T,)
        Complex logarithms of the term coefficients.
    factors : array_like, shape (T, n, 4)
        ``A_ip`` in row-major letters ``(A[0, 0], A[0, 1], A[1, 0], A[1, 1])``; rescaled to a
        largest entry of 1 (the scale moves into ``logc``); vanishing terms are dropped.

    Examples
    --------
    >>> s = ProductOperatorSum.noisy_ghz(1000, 0.9)
    >>> round(s.ghz_fidelity(), 12), round(s.trace(), 12), len(s.logc)
    (0.9, 1.0, 5)
    >>> s.marginals()[0].round(3).real.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """

    logc: np.ndarray
    factors: np.ndarray

    def __post_init__(self):
        logc = np.asarray(self.logc, dtype=complex).reshape(-1)
        F = np.asarray(self.factors, dtype=complex)
        if F.ndim != 3 or F.shape[2] != 4 or F.shape[0] != logc.size or F.shape[1] < 1:
            raise ValueError(
                f"factors must have shape (T, n, 4) with T = {logc.size} terms, got {F.shape}"
            )
        n = F.shape[1]
        if not np.all(np.isfinite(F)) or np.isnan(logc).any() or np.any(logc.real == np.inf):
            raise ValueError("logc and factors must be finite (logc may be -inf: a zero term)")
        logc, F = _normalize(logc, F)
        object.__setattr__(self, "logc", logc)
        object.__setattr__(self, "factors", F.reshape(logc.size, n, 4))
        object.__setattr__(self, "n", n)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_terms(cls, coeffs, factors) -> ProductOperatorSum:
        """``sum_i coeffs[i] (x)_p factors[i, p]`` with ``factors`` of shape (T, n, 2, 2)."""
        c = np.asarray(coeffs, dtype=complex).reshape(-1)
        F = np.asarray(factors, dtype=complex)
        if F.ndim != 4 or F.shape[2:] != (2, 2) or F.shape[0] != c.size:
            raise ValueError(f"factors must have shape ({c.size}, n, 2, 2), got {F.shape}")
        with np.errstate(divide="ignore"):
            return cls(np.log(c), F.reshape(c.size, F.shape[1], 4))

    @classmethod
    def product(cls, sigma, n: int) -> ProductOperatorSum:
        """``sigma^(x)n`` for a one-qubit operator ``sigma`` (Qobj or 2 x 2 array)."""
        a = sigma.full() if isinstance(sigma, qutip.Qobj) else np.asarray(sigma, dtype=complex)
        if a.shape != (2, 2):
            raise ValueError(f"sigma must be a 2 x 2 matrix, got shape {a.shape}")
        n = _check_n(n)
        return cls(np.zeros(1, dtype=complex), np.broadcast_to(a.reshape(1, 1, 4), (1, n, 4)))

    @classmethod
    def ghz(cls, n: int) -> ProductOperatorSum:
        """``|GHZ><GHZ|``: the four terms ``|a..a><b..b| / 2``."""
        return cls.noisy_ghz(n, 1.0)

    @classmethod
    def noisy_ghz(cls, n: int, fidelity: float) -> ProductOperatorSum:
        """``p GHZ + (1 - p) I/2^n`` with GHZ fidelity ``fidelity`` in ``[2^-n, 1]``
        (as :func:`eplt.dynamics.states.noisy_ghz_state`)."""
        n = _check_n(n)
        p = ghz_noise_weight(n, fidelity)
        F = np.zeros((5, n, 4), dtype=complex)
        for i in range(4):
            F[i, :, i] = 1.0
        F[4, :, 0] = F[4, :, 3] = 0.5
        with np.errstate(divide="ignore"):
            logc = np.log(np.array([p / 2] * 4 + [1 - p], dtype=complex))
        return cls(logc, F)

    # ------------------------------------------------------------------ observables
    def trace(self) -> float:
        """``Tr rho`` (real part)."""
        return float(_trace(self.logc, self.factors))

    def ghz_fidelity(self) -> float:
        """``<GHZ|rho|GHZ>``."""
        return float(_ghz(self.logc, self.factors))

    def marginals(self) -> np.ndarray:
        """Every one-qubit reduced operator, shape ``(n, 2, 2)``."""
        return _marginals(self.logc, self.factors).reshape(self.n, 2, 2)

    def purity(self) -> float:
        """``Tr rho^2`` (rho Hermitian)."""
        return float(_purity(self.logc, self.factors))

    def to_qobj(self) -> qutip.Qobj:
        """The dense ``2^n x 2^n`` operator (n <= 12)."""
        if self.n > 12:
            raise ValueError(f"to_qobj builds a 2^n x 2^n matrix: n <= 12, got {self.n}")
        out = np.zeros((2**self.n,) * 2, dtype=complex)
        for lc, F in zip(self.logc, self.factors):
            m = np.ones((1, 1), dtype=complex)
            for f in F:
                m = np.kron(m, f.reshape(2, 2))
            out += np.exp(lc) * m
        return qutip.Qobj(out, dims=[[2] * self.n, [2] * self.n])


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    return int(n)


def ghz_observable(state: ProductOperatorSum) -> float:
    """``<GHZ|rho|GHZ>`` of a product sum (same as :meth:`ProductOperatorSum.ghz_fidelity`)."""
    return state.ghz_fidelity()


# --------------------------------------------------------------------------- propagation
def _branches(spec: StageSpec, logc, F):
    """Expand the terms over the two branches of every shared clock: ``(logc, F, choice)``."""
    choice = np.zeros((logc.size, 0), dtype=int)
    for c in spec.clocks:
        G = F.copy()
        G[:, c.parties] = np.einsum("pab,ipb->ipa", c.K, F[:, c.parties])
        logc = np.concatenate([logc, logc])
        F = np.concatenate([F, G])
        choice = np.concatenate(
            [
                np.column_stack([choice, np.zeros(len(choice), int)]),
                np.column_stack([choice, np.ones(len(choice), int)]),
            ]
        )
    scale = np.abs(F).max(axis=2)
    keep = (scale > 0).all(axis=1)
    return logc[keep], F[keep], choice[keep]


class _Stage:
    """The terms of one stage at elapsed times: ``(logc(t), F(t))``."""

    def __init__(self, spec: StageSpec, logc, F):
        self.spec = spec
        self.logc, self.F, self.choice = _branches(spec, logc, F)
        self.rates = drive_rates(spec, self.F)
        keys, self.group = np.unique(spec.local.reshape(spec.n, 16), axis=0, return_inverse=True)
        self.L = keys.reshape(-1, 4, 4)
        self.group = self.group.reshape(-1)

    def at(self, tau: float):
        E = expm_batched(self.L * tau)  # one 4 x 4 exponential per distinct generator
        if len(E) == 1:
            F = self.F @ E[0].T
        else:
            F = np.empty_like(self.F)
            for g, Eg in enumerate(E):
                sel = self.group == g
                F[:, sel] = self.F[:, sel] @ Eg.T
        lw = -self.rates * tau
        for k, c in enumerate(self.spec.clocks):
            w0, w1 = c.log_weights(tau)
            lw = lw + np.where(self.choice[:, k] == 1, w1, w0)
        return self.logc + lw, F


def _specs(protocol, adjoint: bool = False):
    stages = stages_of(protocol)
    out = []
    for st in stages:
        spec = compile_stage(st.model)
        out.append((st.duration, spec.adjoint() if adjoint else spec))
    return stages, out


def is_product_sum(protocol) -> bool:
    """True when every stage of ``protocol`` is a finite mixture of commuting product
    channels in the sense of :mod:`eplt.dynamics._pscompile`."""
    try:
        _specs(protocol)
    except NotProductSumError:
        return False
    return True


@dataclass(frozen=True)
class ProductSum:
    """The product-sum averaging method: ``evolve(rho0, protocol, tlist,
    method=ProductSum())`` (or ``method="product_sum"``) runs :func:`evolve_product_sum`;
    ``method="auto"`` takes it whenever ``rho0`` is a :class:`ProductOperatorSum` (no other
    method can run one). No settings: every stage's channel is applied exactly."""

    name = "product_sum"


def _as_array(x) -> np.ndarray:
    return x.full() if isinstance(x, qutip.Qobj) else np.asarray(x, dtype=complex)


def _names(e_ops, has_taus: bool) -> list[str]:
    names = _observable_names(e_ops, has_taus, OBSERVABLES)
    if names is None:
        raise ValueError(
            f"the product-sum route computes the observables {sorted(OBSERVABLES)} (by name); "
            f"got e_ops={e_ops!r}"
        )
    return names


def _observe(names, logc, F, taus, hams) -> dict:
    out = {}
    marg = None
    for name in names:
        if name in ("marginal_distance", "energy") and marg is None:
            marg = _marginals(logc, F).reshape(-1, 2, 2)
        if name == "ghz_fidelity":
            out[name] = _ghz(logc, F)
        elif name == "trace":
            out[name] = _trace(logc, F)
        elif name == "purity":
            out[name] = _purity(logc, F)
        elif name == "marginal_distance":
            out[name] = trace_distances(marg, taus)
        else:
            out[name] = np.einsum("pab,pba->p", hams, marg).real
    return out


def evolve_product_sum(
    rho0: ProductOperatorSum,
    protocol,
    tlist,
    *,
    e_ops=None,
    taus=None,
    hamiltonians=None,
) -> Result:
    r"""Evolve a product-sum state through a protocol whose stages are mixtures of product
    channels; observables by name (:data:`OBSERVABLES`).

    The same numbers as :func:`eplt.dynamics.evolve` (``rho0`` at ``tlist[0]``, stages from
    there): every stage's channel is applied exactly, ``sum_b w_b(t) e^{-r_i t}
    (x)_p e^{L_p t} K_{b,p}`` on each term (branches ``b`` of the shared clocks, drive
    rates ``r_i``); no time step, no sampling. Cost O(terms x n) per saved time.

    Parameters
    ----------
    rho0 : ProductOperatorSum
        Initial state of n qubits.
    protocol : Model or Protocol
        Stages on n qubits; :class:`NotProductSumError` (a ValueError) names the first term
        that is not a mixture of commuting product channels.
    tlist : array_like
        Strictly increasing times.
    e_ops : list of str, optional
        Default: GHZ fidelity, marginal distance (when the protocol has taus), purity.
    taus, hamiltonians : sequence of Qobj, optional
        Per-qubit thermal states and Hamiltonians (default: the protocol's).

    Returns
    -------
    Result
        ``method="product_sum"``; ``marginal_distance`` and ``energy`` have shape (T, n).

    Examples
    --------
    >>> from eplt.baths import Environment, Kick, PoissonClock
    >>> n = 1000
    >>> clock = PoissonClock(rate=1.0, name="flip")
    >>> env = Environment([2] * n, [Kick(clock, q, [[0, 1], [1, 0]]) for q in range(n)])
    >>> res = evolve_product_sum(ProductOperatorSum.ghz(n), env, [0.0, 1.0], e_ops=["ghz_fidelity"])
    >>> res.expect["ghz_fidelity"].round(12).tolist()
    [1.0, 1.0]
    """
    if not isinstance(rho0, ProductOperatorSum):
        raise TypeError(f"rho0 must be a ProductOperatorSum, got {type(rho0).__name__}")
    t = np.asarray(tlist, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("tlist must be a non-empty, strictly increasing 1-D array of finite times")
    stages, specs = _specs(protocol)
    n = len(stages[0].model.dims)
    if rho0.n != n:
        raise ValueError(f"rho0 has {rho0.n} qubits, the protocol acts on {n}")
    if taus is None:
        taus = next((s.model.taus for s in stages if s.model.taus is not None), None)
    if hamiltonians is None:
        hamiltonians = next(
            (s.model.hamiltonians for s in stages if s.model.hamiltonians is not None), None
        )
    names = _names(e_ops, taus is not None)
    taus = None if taus is None else np.stack([_as_array(x) for x in taus])
    hams = None if hamiltonians is None else np.stack([_as_array(x) for x in hamiltonians])
    for name, need, val in (("marginal_distance", "taus", taus), ("energy", "hamiltonians", hams)):
        if name in names and val is None:
            raise ValueError(f"observable {name!r} needs {need} (give them to evolve_product_sum)")
    rows: list[dict] = []
    logc, F = rho0.logc, rho0.factors
    start = t[0]
    for duration, spec in specs:
        end = start + duration
        stage = _Stage(spec, logc, F)
        rest = t[len(rows) :]
        for ti in rest[rest <= end]:
            rows.append(_observe(names, *stage.at(ti - start), taus, hams))
        if len(rows) == t.size:
            break
        logc, F = _merge(*stage.at(duration))
        if logc.size > MAX_TERMS:
            raise ValueError(f"more than {MAX_TERMS} product terms: not a short product sum")
        start = end
    if len(rows) < t.size:
        raise ValueError(
            f"tlist reaches {t[-1]:g}, beyond the protocol's last stage (ends at {start:g})"
        )
    expect = {name: np.array([r[name] for r in rows]) for name in names}
    labels = {k: [str(q) for q in range(n)] for k in ("marginal_distance", "energy") if k in names}
    params = {
        "method": {"name": ProductSum.name},
        "stages": [{"duration": s.duration, "model": s.model.describe()} for s in stages],
        "dims": [2] * n,
        "terms": int(rho0.logc.size),
    }
    return Result(times=t, expect=expect, method=ProductSum.name, params=params, labels=labels)


def apply_channel(protocol, t: float, op: ProductOperatorSum, *, adjoint: bool = False):
    """``E_t(op)`` (or ``E_t^+(op)``, the Hilbert-Schmidt adjoint) as a product sum."""
    t = float(t)
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"t must be a finite time >= 0, got {t!r}")
    _, specs = _specs(protocol, adjoint=adjoint)
    pieces, start = [], 0.0
    for duration, spec in specs:
        dt = min(duration, t - start)
        if dt > 0:
            pieces.append((dt, spec))
        start += duration
        if start >= t:
            break
    logc, F = op.logc, op.factors
    for dt, spec in reversed(pieces) if adjoint else pieces:
        logc, F = _merge(*_Stage(spec, logc, F).at(dt))
    return ProductOperatorSum(logc, F)


def marginal_channels(protocol, t: float) -> list[qutip.Qobj]:
    r"""Every qubit's marginal channel ``rho_q -> Tr_{not q} E_t(rho)`` of a product-sum
    protocol, as qutip superoperators (column stacking, ``superrep='super'``); O(n).

    For a mixture of commuting product channels the marginal of qubit q is, stage by stage,
    ``exp(L_q dt)`` times ``w_0 + w_1 K_{c,q}`` for each shared clock c acting on q (branch
    weights as in :func:`evolve_product_sum`) times the dephasing
    ``|0><1| -> e^{-r_q dt} |0><1|`` of the shared phase noise, ``r_q = sum_s kappa_s
    (g_sq(0) - g_sq(1))^2 / 2`` (the other qubits' factors are traced out, and trace
    preserving). The same as :func:`eplt.dynamics.marginal_channels` without the joint model;
    :func:`eplt.dynamics.channels.lt_error` of the list is the worst case over all inputs of
    the marginal distances.

    Examples
    --------
    >>> from eplt.baths import Environment, Kick, PoissonClock
    >>> clock = PoissonClock(rate=1.0, name="flip")
    >>> env = Environment([2] * 1000, [Kick(clock, q, [[0, 1], [1, 0]]) for q in range(1000)])
    >>> chans = marginal_channels(env, 1.0)
    >>> len(chans), round(float(chans[0].full()[0, 3].real), 6)  # (1 - e^{-2 r t})/2
    (1000, 0.432332)
    """
    from .superop import _to_qutip_super

    t = float(t)
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"t must be a finite time >= 0, got {t!r}")
    stages, specs = _specs(protocol)
    n = len(stages[0].model.dims)
    M = np.broadcast_to(np.eye(4, dtype=complex), (n, 4, 4)).copy()
    start = 0.0
    for duration, spec in specs:
        dt = min(duration, t - start)
        if dt > 0:
            keys, inv = np.unique(spec.local.reshape(n, 16), axis=0, return_inverse=True)
            S = expm_batched(keys.reshape(-1, 4, 4) * dt)[inv.reshape(-1)]
            for c in spec.clocks:
                w0, w1 = (np.exp(x) for x in c.log_weights(dt))
                S[c.parties] = S[c.parties] @ (w0 * np.eye(4) + w1 * c.K)
            if spec.delta.size:
                r = 0.5 * (spec.delta**2).T @ spec.kappa  # (n,)
                decay = np.exp(-r * dt)
                S[:, :, 1] *= decay[:, None]
                S[:, :, 2] *= decay[:, None]
            M = S @ M
        start += duration
        if start >= t:
            break
    return [_to_qutip_super(m, [[2], [2]]) for m in M]


# --------------------------------------------------------------------------- worst case
def worst_case_ghz_fidelity(
    protocol, t: float, fidelity_in: float = 1.0, *, tol: float = 1e-9
) -> WorstCaseGHZ:
    r"""Worst case over inputs of the output GHZ fidelity of a protocol's channel at ``t``.

    .. math:: F_\mathrm{worst}(t; f) = \min \{ \langle GHZ|E_t(\rho)|GHZ\rangle :
              \rho \ge 0,\ \mathrm{Tr}\rho = 1,\ \langle GHZ|\rho|GHZ\rangle \ge f \}

    over *all* n-qubit inputs (equal to the minimum over permutation-invariant inputs, since
    ``E_t`` and GHZ are permutation symmetric). It says whether the GME witness ``F > 1/2``
    survives for every input at least as good as ``f``; ``f = 1`` is the GHZ input itself.
    Linear in the input: ``<GHZ|E_t(rho)|GHZ> = Tr(W rho)``, ``W = E_t^+(|GHZ><GHZ|)``
    (adjoint, Hilbert-Schmidt), computed as a product sum (:func:`apply_channel`). For the
    phase-covariant, permutation-symmetric channels of the GHZ protocols ``W`` only pairs a
    bit string x with itself and its complement (checked; ValueError otherwise): 2 x 2
    blocks ``{x, not x}`` labelled by the Hamming weight, the GHZ one ``{0..0, 1..1}``. The
    SDP reduces to that block, the smallest eigenvalue of the others (``O(n)`` weights)
    and one scalar convex problem, solved in closed form and
    certified by its dual ``max_{b >= 0} lambda_min(W - b |GHZ><GHZ|) + b f``
    (a gap above ``tol`` raises RuntimeError).

    Closed forms: the ideal twirl branch ``E^GHZ_gamma`` gives ``1/2 + gamma (f - 1/2)`` for
    every input (the GHZ protocol at t*, any twirl time: the twirl stage fixes
    ``|GHZ><GHZ|`` exactly).

    Parameters
    ----------
    protocol : Model or Protocol
        A product-sum protocol on ``n >= 2`` qubits (:func:`is_product_sum`).
    t : float
        Time of the channel, ``>= 0``.
    fidelity_in : float
        Smallest input GHZ fidelity ``f`` in ``[0, 1]``.
    tol : float
        Largest accepted duality gap.

    Examples
    --------
    >>> import math
    >>> from eplt.baths import Environment, PoissonClock, Reset
    >>> n, r = 1000, 1.0
    >>> clock = PoissonClock(rate=r, name="reset")
    >>> env = Environment([2] * n, [Reset(clock, q, [[1, 0], [0, 0]]) for q in range(n)])
    >>> wc = worst_case_ghz_fidelity(env, 0.5, 0.9)  # gamma = exp(-r t)
    >>> bool(abs(wc.value - (0.5 + math.exp(-0.5) * 0.4)) < 1e-12), wc.gap < 1e-9
    (True, True)
    """
    f = float(fidelity_in)
    if not 0 <= f <= 1:
        raise ValueError(f"fidelity_in must lie in [0, 1], got {fidelity_in!r}")
    n = len(stages_of(protocol)[0].model.dims)
    if n < 2:
        raise ValueError(f"the GHZ fidelity needs n >= 2 qubits, got {n}")
    W = apply_channel(protocol, t, ProductOperatorSum.ghz(n), adjoint=True)
    return _psworst.solve(W, n, f, float(t), tol)

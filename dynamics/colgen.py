r"""The LOSR optimum on ``Phi+`` by column generation over pairs of local channels.

Pre-composing an LOSR protocol ``E = sum_l p_l E_A^l (x) E_B^l`` with the shared isotropic
twirl ``T`` (``U (x) U*``, a 2-design: 24 Cliffords for qubits) keeps
``<Phi+|E(Phi+)|Phi+>`` (``T(Phi+) = Phi+``) and makes every input look like
``F Phi+ + (1 - F)(I - Phi+)/(d^2 - 1)``, whose marginals are ``I/d``. So ``E o T`` is
**exactly LT for every input** iff the averaged local maps send ``I/d`` to tau:

    sum_l p_l E_A^l(I/d) = tau_A,        sum_l p_l E_B^l(I/d) = tau_B,

and the best LOSR overlap on ``Phi+`` is the linear programme (for diagonal taus a shared
random phase ``Z^k (x) Z^-k`` after every branch, ``Z = diag(e^{2 pi i j/d})``, ``k`` uniform in
``0..d-1`` (``log2 d`` shared bits), keeps ``Phi+`` and removes the coherences of the averaged
marginals, so only their diagonals are constrained; it is part of the returned protocol)

    max_p sum_l p_l f(E_A^l, E_B^l),    f = <Phi+|(E_A (x) E_B)(Phi+)|Phi+> = Tr(J_A J_B^T)/d^2,

over all pairs of local channels (Choi matrices ``J``, legs ``(in, out)``, input first), with
the constraints on the diagonals.
Column generation (:func:`column_generation`) solves it: the **master LP** over the pairs
found so far (scipy HiGHS) gives diagonal dual matrices ``Y_A``, ``Y_B``; the **pricing
problem** maximises the reduced cost

    r(J_A, J_B) = Tr(J_A J_B^T)/d^2 - Tr(Y_A E_A(I/d)) - Tr(Y_B E_B(I/d))

over pairs of channels. It is bilinear: with ``J_B`` fixed it is an SDP in ``J_A`` (and
vice versa), so it is solved by alternating SDPs (cvxpy + Clarabel) from many random starts
(Haar-random Kraus channels, drawn from ``numpy.random.SeedSequence(seed)``) and from the
structured families (identity, amplitude dampings, keep-or-replace maps ``K_m`` of the
layer cake, resets onto basis states and onto tau). New columns with ``r > tol`` enter the
master; the loop stops when no start finds one. The returned ``pricing_gap`` is the
largest reduced cost *found* in the last round: the pricing is non-convex, so it is a
heuristic (a lower estimate of the true largest reduced cost), not a certificate.

**Certificate** (:func:`pricing_bound`). For any dual ``y`` (here the final master's) and
any twirl-precomposed protocol ``p`` (``sum_l p_l = 1``, averaged marginals equal to tau)

    sum_l p_l f_l = y.b + sum_l p_l r_y(l) <= y.b + max_{pairs} r_y,

so ``y.b + R`` bounds the LOSR optimum from above whenever ``R >= max r_y`` over **all**
pairs of local channels. ``R`` is the value of a convex relaxation of the pricing: the
product Choi matrix ``J_A (x) J_B`` (legs ``(A_in, B_in, A_out, B_out)``) is replaced by any
joint ``J >= 0`` that is trace preserving, no-signalling both ways and PPT
(``J^{T_B} >= 0``), an SDP (symmetry reduced, :mod:`eplt.dynamics._symsdp`) whose rigorous
dual value is ``R`` (``pricing_bound``); with the master optimal, ``y.b`` is ``lp_value``.
By Lagrangian duality ``y.b + R(y)`` is never below the same relaxation with the marginal
rows imposed (its minimum over ``y``), which is itself a certified bound on the optimum;
``ColumnGenerationResult.upper_bound`` is the smaller of the two. So the certificate says
how far the column-generation value is from the PPT + no-signalling relaxation, not more
(the tighter DPS level-2 bound is :func:`eplt.dynamics.dps.dps2_bound`).

The value is a **lower bound** on the LOSR optimum, achieved by an explicit protocol
(:meth:`ColumnGenerationResult.superoperator`): branches ``(p_l, E_A^l, E_B^l)`` after the
shared twirl, exactly CPTP, exactly LT (the master LP is solved to ~1e-9; the remaining
deviation of the averaged marginal maps is removed by renormalising ``p`` and one correcting
replacement branch of weight ~1e-9, as in :mod:`eplt.dynamics.losr`).

Conventions: hbar = k_B = 1; ``Phi+ = sum_i |ii>/sqrt(d)``; QuTiP superoperators (column
stacking, ``superrep='super'``).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import qutip

from ._checks import herm as _herm
from ._checks import single_party_array as _single
from ._symsdp import blas_single_threaded, one_blas_thread
from .twirls import _iso_twirl_array, _superop_from_map, haar_unitary

__all__ = [
    "FAMILIES",
    "ColumnGenerationResult",
    "column_generation",
    "pair_value",
    "pricing_bound",
]

#: Clarabel settings of the pricing SDPs.
_CLARABEL = {"static_regularization_constant": 1e-7}


def _choi_from_kraus(kraus) -> np.ndarray:
    """``J = sum_k |K_k>><<K_k|``, ``|K>> = sum_i |i> (x) K|i>`` (legs ``(in, out)``)."""
    vs = [np.asarray(K).T.reshape(-1) for K in kraus]
    return sum(np.outer(v, v.conj()) for v in vs)


def _marg(J: np.ndarray, d: int) -> np.ndarray:
    """``E(I/d) = Tr_in(J)/d`` for a local Choi matrix (legs ``(in, out)``)."""
    return np.einsum("iaib->ab", J.reshape(d, d, d, d)) / d


def pair_value(JA: np.ndarray, JB: np.ndarray) -> float:
    r"""``<Phi+|(E_A (x) E_B)(Phi+)|Phi+> = Tr(J_A J_B^T)/d^2`` for local Choi matrices.

    Examples
    --------
    >>> import numpy as np
    >>> J = _choi_from_kraus([np.eye(2)])          # identity channel
    >>> pair_value(J, J)
    1.0
    """
    d = round(math.sqrt(JA.shape[0]))
    return float(np.real(np.sum(JA * JB)) / d**2)


class _Pricer:
    """``max Tr(J M)`` over CPTP Choi matrices ``J`` (``d^2 x d^2``), compiled once."""

    def __init__(self, d: int):
        import cvxpy as cp

        self.d = d
        self.J = cp.Variable((d * d, d * d), hermitian=True)
        self.M = cp.Parameter((d * d, d * d), hermitian=True)
        cons = [self.J >> 0, cp.partial_trace(self.J, [d, d], axis=1) == np.eye(d)]
        self.prob = cp.Problem(cp.Maximize(cp.real(cp.trace(self.J @ self.M))), cons)

    def __call__(self, M: np.ndarray) -> np.ndarray:
        self.M.value = _herm(M)
        with one_blas_thread(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            self.prob.solve(solver="CLARABEL", **_CLARABEL)
        if self.prob.status not in ("optimal", "optimal_inaccurate"):
            raise RuntimeError(f"pricing SDP not solved: status {self.prob.status!r}")
        return _exact_cptp(self.J.value, self.d)


def _exact_cptp(J: np.ndarray, d: int) -> np.ndarray:
    """Clip to PSD and renormalise ``Tr_out J = I`` exactly (congruence by ``T^{-1/2}``)."""
    lam, V = np.linalg.eigh(_herm(J))
    J = (V * np.clip(lam, 0, None)) @ V.conj().T
    T = np.trace(J.reshape(d, d, d, d), axis1=1, axis2=3)
    w, U = np.linalg.eigh(_herm(T))
    A = np.kron((U / np.sqrt(np.clip(w, 1e-300, None))) @ U.conj().T, np.eye(d))
    return _herm(A @ J @ A.conj().T)


def _random_channel(d: int, rng) -> np.ndarray:
    """Choi matrix of a random channel: ``k`` Kraus operators from a Haar isometry."""
    k = int(rng.integers(1, d * d + 1))
    V = haar_unitary(d * k, rng)[:, :d]
    return _choi_from_kraus([V[i * d : (i + 1) * d] for i in range(k)])


FAMILIES = ("resets", "identity", "damping", "keep")


def _families(ta: np.ndarray, tb: np.ndarray, which) -> list[tuple[np.ndarray, np.ndarray]]:
    """Structured columns: ``resets`` onto basis states (both parties, every pair),
    ``identity`` (the pair of E_gamma's twirl branch), amplitude ``damping`` on one party
    (qubits, ``eta`` on a grid of 7) and the layer cake's keep-or-replace maps ``keep``."""
    d = ta.shape[0]
    e = np.eye(d)
    ident = _choi_from_kraus([e])

    def repl(w):
        return np.kron(e, w)

    def keep(m):  # K_m onto the m most populated levels (computational order)
        P = np.diag([1.0] * m + [0.0] * (d - m))
        ks = [P] + [np.outer(e[i], e[k]) / math.sqrt(m) for i in range(m) for k in range(m, d)]
        return _choi_from_kraus(ks)

    cols = []
    if "identity" in which:
        cols.append((ident, ident))
    if "resets" in which:
        for i in range(d):
            for j in range(d):
                cols.append((repl(np.diag(e[i])), repl(np.diag(e[j]))))
    if "keep" in which:
        for m in range(1, d):
            cols.append((keep(m), keep(m)))
    if d == 2 and "damping" in which:
        for eta in np.linspace(0.05, 0.95, 7):
            ad = _choi_from_kraus(
                [np.diag([1, math.sqrt(eta)]), np.array([[0, math.sqrt(1 - eta)], [0, 0]])]
            )
            cols += [(ident, ad), (ad, ident)]
    return cols


@dataclass(frozen=True, eq=False)
class ColumnGenerationResult:
    r"""Outcome of :func:`column_generation`.

    Attributes
    ----------
    value : float
        ``<Phi+|E(Phi+)|Phi+>`` of the returned protocol (exact LT): a lower bound on the
        LOSR optimum.
    lp_value : float
        The last master LP's optimum (before the exact repair; ``value`` differs by ~1e-9).
    pricing_gap : float
        Largest reduced cost *found* by the last pricing round (<= ``tol`` at convergence).
        Heuristic: the pricing is non-convex, so this is not a certificate of optimality.
    pricing_bound : float
        Certified upper bound ``R`` on the largest reduced cost over all pairs of local
        channels, at the final master's duals (:func:`pricing_bound`); ``nan`` when
        ``certify=False``.
    upper_bound : float
        Certified upper bound on the LOSR optimum on ``Phi+``: the smaller of
        ``y.b + pricing_bound`` and the same relaxation minimised over ``y`` (module
        docstring); ``nan`` when ``certify=False``.
    probabilities : ndarray
        ``p_l`` of the branches with ``p_l > 0`` (sum one).
    choi_A, choi_B : tuple of ndarray
        Local Choi matrices of the branches (legs ``(in, out)``), exactly CPTP.
    history : tuple of float
        Master LP value after each round.
    iterations : int
        Rounds of column generation.
    columns : int
        Columns in the final master LP.
    converged : bool
        True when the last round found no column with reduced cost above ``tol``.
    seconds : float
        Wall time.
    """

    value: float
    lp_value: float
    pricing_gap: float
    probabilities: np.ndarray
    choi_A: tuple
    choi_B: tuple
    history: tuple
    iterations: int
    columns: int
    converged: bool
    seconds: float
    pricing_bound: float = math.nan
    upper_bound: float = math.nan

    @property
    def d(self) -> int:
        return round(math.sqrt(self.choi_A[0].shape[0]))

    def branches(self) -> list[tuple[float, qutip.Qobj, qutip.Qobj]]:
        """``[(p_l, E_A^l, E_B^l)]`` as local superoperators (each applied after the twirl)."""
        return [
            (float(p), _local_super(a, self.d), _local_super(b, self.d))
            for p, a, b in zip(self.probabilities, self.choi_A, self.choi_B)
        ]

    def superoperator(self) -> qutip.Qobj:
        """The whole protocol ``Delta o (sum_l p_l E_A^l (x) E_B^l) o T`` (column stacking),
        ``Delta`` the shared dephasing ``(1/d) sum_k Z^k (x) Z^-k`` (module docstring)."""
        d = self.d
        K = sum(p * np.kron(a, b) for p, a, b in zip(self.probabilities, self.choi_A, self.choi_B))
        t = K.reshape(d, d, d, d, d, d, d, d)  # (Ai, Ao, Bi, Bo, Ai', Ao', Bi', Bo')
        J = t.transpose(0, 2, 1, 3, 4, 6, 5, 7).reshape(d**4, d**4)  # (Ai, Bi, Ao, Bo)
        D = d * d
        S = J.reshape(D, D, D, D).transpose(3, 1, 2, 0).reshape(D * D, D * D)
        Tw = _superop_from_map(lambda x: _iso_twirl_array(x, d), [d, d]).full()
        z = np.exp(2j * np.pi * np.arange(d) / d)
        ph = np.outer(z, z.conj()).reshape(-1)  # Z (x) Z^*: phase of |a b> is z_a / z_b
        Dp = sum(np.kron((ph**k).conj(), ph**k) for k in range(d)) / d  # column stacking
        dims = [d, d]
        return qutip.Qobj(
            Dp[:, None] * (S @ Tw), dims=[[dims, dims], [dims, dims]], superrep="super"
        )

    def __str__(self) -> str:
        return (
            f"ColumnGenerationResult(value={self.value:.9g}, upper_bound={self.upper_bound:.9g}, "
            f"pricing_gap (found)={self.pricing_gap:.2g}, "
            f"branches={len(self.probabilities)}, rounds={self.iterations}, "
            f"converged={self.converged})"
        )


def _local_super(J: np.ndarray, d: int) -> qutip.Qobj:
    S = J.reshape(d, d, d, d).transpose(3, 1, 2, 0).reshape(d * d, d * d)
    return qutip.Qobj(S, dims=[[[d], [d]], [[d], [d]]], superrep="super")


def _master(cols, ta, tb):
    """Master LP (HiGHS) on the diagonal marginal rows; returns ``p``, the value and the
    duals ``y = (diag Y_A, diag Y_B)``."""
    import scipy.optimize

    d = ta.shape[0]
    c = np.array([pair_value(a, b) for a, b in cols])
    A = np.array(
        [np.concatenate([np.diag(_marg(a, d)).real, np.diag(_marg(b, d)).real]) for a, b in cols]
    ).T
    b_eq = np.concatenate([np.diag(ta).real, np.diag(tb).real])
    res = scipy.optimize.linprog(-c, A_eq=A, b_eq=b_eq, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"master LP not solved: {res.message}")
    return res.x, float(-res.fun), -res.eqlin.marginals  # duals of the maximisation


def _repair(p, cols, ta, tb):
    """Exactly LT averages: renormalise, then one correcting replacement branch."""
    d = ta.shape[0]
    keep = p > 1e-13
    p = p[keep] / p[keep].sum()
    JA = [cols[i][0] for i in np.flatnonzero(keep)]
    JB = [cols[i][1] for i in np.flatnonzero(keep)]
    out = []
    for J, t in ((JA, ta), (JB, tb)):  # diagonal deviations (the dephasing removes the rest)
        out.append(np.diag(np.diag(t - sum(pl * _marg(j, d) for pl, j in zip(p, J)))))
    dev = max(np.abs(out[0]).max(), np.abs(out[1]).max())
    if dev > 1e-15:
        # (1 - s) M + s N = tau with N = tau + ((1 - s)/s) delta: N >= 0 needs
        # s >= ||delta|| / (lambda_min(tau) + ||delta||).
        lam = min(np.linalg.eigvalsh(ta)[0], np.linalg.eigvalsh(tb)[0])
        nrm = max(np.linalg.norm(o, 2) for o in out)
        s = min(1.0, 2 * nrm / (lam + nrm))
        e = np.eye(d)
        NA = _herm(ta + (1 - s) / s * out[0])
        NB = _herm(tb + (1 - s) / s * out[1])
        p = np.append(p * (1 - s), s)
        JA = [*JA, np.kron(e, NA)]
        JB = [*JB, np.kron(e, NB)]
    return p, JA, JB


@blas_single_threaded
def column_generation(
    tau_A: qutip.Qobj,
    tau_B: qutip.Qobj,
    *,
    families=FAMILIES,
    starts: int = 8,
    max_rounds: int = 30,
    max_steps: int = 40,
    tol: float = 1e-7,
    seed=0,
    certify: bool = True,
) -> ColumnGenerationResult:
    r"""The best LOSR protocol on ``Phi+`` after the shared twirl, by column generation.

    See the module docstring for the LP, its dual and the pricing problem.

    Parameters
    ----------
    tau_A, tau_B : Qobj
        Thermal states of equal dimension ``d`` (full rank).
    families : sequence of str
        Structured families (subset of :data:`FAMILIES`: ``"resets"``, ``"identity"``,
        ``"damping"``, ``"keep"``) that start the master LP (besides the product
        replacement ``R_tau_A (x) R_tau_B``) and the pricing; with ``("resets",)`` the
        protocols beyond E_gamma must be found by the pricing itself.
    starts : int
        Random starts of the pricing per round (>= 1).
    max_rounds : int
        Rounds of column generation (>= 1).
    max_steps : int
        Alternating SDP steps per pricing start (>= 1).
    tol : float
        A column enters when its reduced cost exceeds ``tol``; also the stopping rule.
    seed : int or SeedSequence
        Randomness of the pricing starts.
    certify : bool
        Compute ``pricing_bound`` and ``upper_bound`` (one PPT SDP on ``d^4 x d^4``,
        symmetry reduced).

    Returns
    -------
    ColumnGenerationResult

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> res = column_generation(tau, tau, starts=2, max_rounds=3)
    >>> round(res.value, 6)                           # E_gamma's (1 + gamma)/2, optimal here
    0.7
    """
    t0 = time.perf_counter()
    ta, tb = _herm(_single(tau_A, "tau_A")), _herm(_single(tau_B, "tau_B"))
    d = ta.shape[0]
    if tb.shape[0] != d:
        raise ValueError(f"tau_A and tau_B must have the same dimension, got {d}, {tb.shape[0]}")
    for name, v in (("starts", starts), ("max_rounds", max_rounds), ("max_steps", max_steps)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    if min(np.linalg.eigvalsh(ta)[0], np.linalg.eigvalsh(tb)[0]) <= 1e-14:
        raise ValueError("tau_A and tau_B must be full rank (nonzero temperature)")
    e = np.eye(d)
    if max(np.abs(t - np.diag(np.diag(t))).max() for t in (ta, tb)) > 1e-12:
        raise ValueError("tau_A and tau_B must be diagonal (thermal states in the energy basis)")
    families = tuple(families)
    bad = [f for f in families if f not in FAMILIES]
    if bad:
        raise ValueError(f"families must be a subset of {FAMILIES}, got {bad}")
    fam = _families(ta, tb, families)
    cols = [(np.kron(e, ta), np.kron(e, tb))] + fam
    pricer = _Pricer(d)
    rng = np.random.default_rng(
        seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    )
    history = []
    gap = math.inf
    converged = False
    rounds = 0
    for _ in range(max_rounds):
        rounds += 1
        p, val, y = _master(cols, ta, tb)
        history.append(val)
        YA, YB = np.diag(y[:d]), np.diag(y[d:])
        IYA, IYB = np.kron(e, YA) / d, np.kron(e, YB) / d

        def rc(a, b, IYA=IYA, IYB=IYB):
            return pair_value(a, b) - np.real(np.sum(a * IYA.T)) - np.real(np.sum(b * IYB.T))

        inits = [_random_channel(d, rng) for _ in range(starts)]
        inits += [b for _, b in fam]
        inits += [cols[i][1] for i in np.flatnonzero(p > 1e-9)]
        found = []
        for JB in inits:
            last = -math.inf
            for _ in range(max_steps):
                JA = pricer(JB.T / d**2 - IYA)
                JB = pricer(JA.T / d**2 - IYB)
                r = rc(JA, JB)
                if r - last < 1e-10:
                    break
                last = r
            found.append((rc(JA, JB), JA, JB))
        gap = max(f[0] for f in found)
        new = [f for f in found if f[0] > tol]
        if not new:
            converged = True
            break
        cols += [(a, b) for _, a, b in new]
    p, val, y = _master(cols, ta, tb)
    R = ub = math.nan
    if certify:
        R = pricing_bound(np.diag(y[:d]), np.diag(y[d:]))
        ub = float(y @ np.concatenate([np.diag(ta).real, np.diag(tb).real])) + R
        z = np.zeros((d, d))
        ub = min(ub, pricing_bound(z, z, taus=(ta, tb)))  # the same relaxation at the best y
    pr, JA, JB = _repair(p, cols, ta, tb)
    value = float(sum(pl * pair_value(a, b) for pl, a, b in zip(pr, JA, JB)))
    return ColumnGenerationResult(
        value=value,
        lp_value=val,
        pricing_gap=float(gap),
        probabilities=np.asarray(pr),
        choi_A=tuple(JA),
        choi_B=tuple(JB),
        history=tuple(history),
        iterations=rounds,
        columns=len(cols),
        converged=converged,
        seconds=time.perf_counter() - t0,
        pricing_bound=float(R),
        upper_bound=float(ub),
    )


@blas_single_threaded
def pricing_bound(Y_A: np.ndarray, Y_B: np.ndarray, *, taus=None, tol: float = 1e-6) -> float:
    r"""Certified upper bound on the pricing problem
    ``max r = Tr(J_A J_B^T)/d^2 - Tr(Y_A E_A(I/d)) - Tr(Y_B E_B(I/d))`` over all pairs of
    local channels, for diagonal ``Y_A``, ``Y_B``.

    Relaxation: ``J_A (x) J_B`` -> a joint Choi matrix ``J`` (legs
    ``(A_in, B_in, A_out, B_out)``) with ``J >= 0``, ``J^{T_B} >= 0``, ``Tr_out J = I`` and no
    signalling (``Tr_{A_out} J = I_{A_in}/d (x) Tr_{A_in A_out} J``, the same for B); the
    objective is ``Tr(J W)``, ``W = Phi+ (x) Phi+ - I_in (x) (Y_A (x) I + I (x) Y_B)/d^2``
    (``Phi+ = sum_ij |ii><jj|/d`` the projector). It is invariant under input
    ``U (x) U*`` and output ``D (x) D*`` (diagonal ``Y``), so it is solved in that commutant;
    the returned number is the solver's rigorous dual value
    (:mod:`eplt.dynamics._symsdp`).

    With ``taus = (tau_A, tau_B)`` the marginal rows ``diag E_X(I/d) = diag tau_X`` are
    imposed too, so the ``Y`` terms are the constant ``-Tr(Y_A tau_A) - Tr(Y_B tau_B)``; with
    ``Y = 0`` the value is the relaxation of the whole LP (every twirl-precomposed LOSR
    protocol is feasible), a direct upper bound on the LOSR optimum, equal by SDP duality
    to ``min_y (y.b + R(y))``.

    Parameters
    ----------
    Y_A, Y_B : ndarray
        Real diagonal ``d x d`` dual matrices of the master LP.
    taus : tuple of two ndarray, optional
        Diagonal ``tau_A``, ``tau_B`` (arrays) for the marginal rows.
    tol : float
        Largest accepted gap between the dual value and the primal objective.

    Returns
    -------
    float
        ``R >= max r`` over all pairs of local channels.

    Raises
    ------
    eplt.dynamics.bounds.BoundGapError
        When the certified gap exceeds ``tol``.

    Examples
    --------
    >>> import numpy as np
    >>> round(pricing_bound(np.zeros((2, 2)), np.zeros((2, 2))), 6)  # max overlap: identity
    1.0
    """
    from . import _symsdp
    from ._symmetry import group_projector, partial_transpose_B
    from .bounds import BoundGapError
    from .dps import _ptrace

    Y_A = np.asarray(Y_A, dtype=float)
    Y_B = np.asarray(Y_B, dtype=float)
    d = Y_A.shape[0]
    if Y_A.shape != (d, d) or Y_B.shape != (d, d):
        raise ValueError(f"Y_A and Y_B must be square of equal size, got {Y_A.shape}, {Y_B.shape}")
    if max(np.abs(Y - np.diag(np.diag(Y))).max() for Y in (Y_A, Y_B)) > 0:
        raise ValueError("Y_A and Y_B must be diagonal")
    D, n, e = d * d, d**4, np.eye(d)
    phi = np.eye(d).reshape(-1)
    Pp = np.outer(phi, phi) / d
    W = np.kron(Pp, Pp) - np.kron(np.eye(D), np.kron(Y_A, e) + np.kron(e, Y_B)) / D
    dims = [d] * 4  # (Ai, Bi, Ao, Bo)

    def L(J):
        ns_a = _ptrace(J, dims, [2])  # (Ai, Bi, Bo) must be I_Ai/d (x) (Bi, Bo)
        ns_b = _ptrace(J, dims, [3])  # (Ai, Bi, Ao): I_Bi/d (x) (Ai, Ao)
        rest_b = _ptrace(J, dims, [0, 2]) / d
        rest_a = _ptrace(J, dims, [1, 3]) / d
        ns_b_target = np.kron(e, rest_a).reshape([d] * 6).transpose(1, 0, 2, 4, 3, 5)
        rows = [
            _ptrace(J, dims, [2, 3]).ravel(),
            (ns_a - np.kron(e, rest_b)).ravel(),
            (ns_b - ns_b_target.reshape(d**3, d**3)).ravel(),
        ]
        if taus is not None:  # diag of E_X(I/d) = Tr_{in, other out} J / d^2
            rows += [
                np.diag(_ptrace(J, dims, [0, 1, 3])) / D,
                np.diag(_ptrace(J, dims, [0, 1, 2])) / D,
            ]
        return np.concatenate(rows)

    b = np.concatenate([np.eye(D).ravel(), np.zeros(2 * d**6)])
    if taus is not None:
        b = np.concatenate([b, *(np.diag(np.asarray(t)).real for t in taus)])
    res = _symsdp.solve(
        n,
        group_projector("full", d, d),
        W,
        L,
        b,
        [lambda J: partial_transpose_B(J, d, d)],
        trace_bound=float(D),
        what="the pricing relaxation SDP",
    )
    if res.dual_value - res.value > tol * max(1.0, abs(res.value)):
        raise BoundGapError(
            f"pricing relaxation primal-dual gap {res.dual_value - res.value:.3g} exceeds "
            f"tol={tol:g} (value {res.value:.9g}, certified bound {res.dual_value:.9g})"
        )
    return float(res.dual_value)

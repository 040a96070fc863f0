r"""Lower bounds by alternating optimisation: LOSR see-saw and negativity searches.

**LOSR see-saw** (:func:`losr_seesaw`). A k-branch protocol
``E = sum_l p_l E_A^l (x) E_B^l`` is locally thermalizing iff its average local maps are the
replacements, ``sum_l p_l E_A^l = R_{tau_A}`` and ``sum_l p_l E_B^l = R_{tau_B}``
(``R_tau(X) = tau Tr X``; the B channels are trace preserving, so ``Tr_B E(rho) =
sum_l p_l E_A^l(rho_A)``). With the B branches fixed, absorbing ``p_l`` into A gives
sub-normalised CP maps ``X_l = p_l E_A^l`` (Choi matrices, legs ``(A_in, A_out)``) and the
linear constraints

    X_l >= 0,   Tr_{A_out} X_l = p_l I,   sum_l X_l = I (x) tau_A,   sum_l p_l J(E_B^l) = I (x) tau_B,

so a linear figure of merit ``Tr(J_E W)`` is maximised over ``(X_l, p_l)`` by an SDP; then
the roles are swapped (probabilities absorbed into B). Each step can only increase the
value; the result is a feasible LOSR protocol, so its value is a **lower bound** on the
LOSR optimum (and never exceeds the PPT bound of :func:`eplt.dynamics.bounds.sdp_bound`).

Starts: the Pauli (Weyl-Heisenberg) version of E_gamma (:mod:`eplt.dynamics.finite_twirl`), which
has E_gamma's value on ``Phi+``, so the see-saw never ends below E_gamma; then
``restarts - 1`` random protocols of the same shape, alternately (i) Haar-random frames
``R U_l R'`` of the unitary error basis on A with the conjugate frames on B and (ii)
independent frames on A and B with a random pairing of the branches, all with twirl weight
``gamma`` (the probabilities can only move towards the replacement branches: the other side's
fixed branches pin them); drawn from ``numpy.random.SeedSequence(seed)``.

Exactness: at the end each branch is made exactly CPTP, and the remaining deviation of the
average local maps from ``R_tau`` (of the order of the solver tolerance) is removed by one
extra product branch ``t N_A (x) N_B`` with ``N_X = R_tau + ((1 - t)/t)(R_tau - M_X)``,
``M_X = sum_l p_l E_X^l``: then ``(1 - t) M_X + t N_X = R_tau`` exactly, and ``t`` is the
smallest value with ``N_X`` CP (of the order of the deviation over ``p_min``).

**Negativity.** ``N(sigma) = max_{0 <= P <= I} -Tr(P sigma^{T_B})``; at fixed ``P`` (the
projector on the negative eigenspace of ``E(rho)^{T_B}``) the objective
``-Tr(P^{T_B} E(rho))`` is linear in ``E`` with witness ``W = rho^T (x) (-P^{T_B})``, and the
alternation (witness step, channel step) increases ``N`` monotonically. It finds a good
channel, not a certificate: the values are **lower bounds** on the maximal negativity
(:func:`losr_seesaw` with ``merit="negativity"`` over LOSR protocols,
:func:`negativity_search` over all PPT or all LT channels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from ._checks import herm as _herm
from ._symsdp import one_blas_thread
from .bounds import (
    CLARABEL_SETTINGS,
    BoundGapError,
    _repair,
    _single,
    choi_to_superoperator,
    overlap_witness,
    sdp_bound,
)
from .finite_twirl import weyl_heisenberg
from .twirls import haar_unitary as _haar

__all__ = ["LOSRProtocol", "NegativitySearch", "losr_seesaw", "negativity_search"]

MERITS = ("overlap", "negativity")


def _seedseq(seed) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def _local_choi_unitary(U: np.ndarray) -> np.ndarray:
    """Choi matrix (legs ``(in, out)``) of ``X -> U X U^†``: ``|U>><<U|`` with ``|U>> = sum_i |i> U|i>``."""
    v = U.T.reshape(-1)  # v[(i, a)] = U[a, i]
    return np.outer(v, v.conj())


def _replacement_choi(tau: np.ndarray) -> np.ndarray:
    return np.kron(np.eye(tau.shape[0]), tau)


def _full_choi(p, JA, JB, dA: int, dB: int) -> np.ndarray:
    """``sum_l p_l J_A^l (x) J_B^l`` reordered from ``(A_in, A_out, B_in, B_out)`` to
    ``(A_in, B_in, A_out, B_out)``."""
    nA, nB = dA * dA, dB * dB
    K = sum(pl * np.kron(a, b) for pl, a, b in zip(p, JA, JB))
    t = K.reshape(dA, dA, dB, dB, dA, dA, dB, dB)
    return t.transpose(0, 2, 1, 3, 4, 6, 5, 7).reshape(nA * nB, nA * nB)


def _reorder_witness(W: np.ndarray, dA: int, dB: int) -> np.ndarray:
    """``W`` from legs ``(A_in, B_in, A_out, B_out)`` to ``(A_in, A_out, B_in, B_out)``."""
    t = W.reshape(dA, dB, dA, dB, dA, dB, dA, dB)
    return t.transpose(0, 2, 1, 3, 4, 6, 5, 7).reshape(W.shape)


def _output(J: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``E(rho) = Tr_in[(rho^T (x) I) J]``."""
    D = rho.shape[0]
    return np.einsum("ji,iajb->ab", rho, J.reshape(D, D, D, D))


def _pt_out(x: np.ndarray, dA: int, dB: int) -> np.ndarray:
    return x.reshape(dA, dB, dA, dB).transpose(0, 3, 2, 1).reshape(x.shape)


def _negativity_and_witness(J, rho, dA, dB) -> tuple[float, np.ndarray]:
    """``N(E(rho))`` and the witness ``rho^T (x) (-P^{T_B})`` that is tight at ``J``."""
    out = _herm(_output(J, rho))
    lam, V = np.linalg.eigh(_herm(_pt_out(out, dA, dB)))
    neg = lam < 0
    P = V[:, neg] @ V[:, neg].conj().T
    return float(-lam[neg].sum()), np.kron(rho.T, -_pt_out(P, dA, dB))


# --------------------------------------------------------------------- see-saw step


class _Step:
    """The SDP of one see-saw step for one side (built once, re-solved with new data).

    Variables: ``X_l`` (this side's sub-normalised branches, ``d^2 x d^2``) and ``p_l >= 0``.
    Parameters: the objective blocks ``M_l`` (``Tr(X_l M_l)``) and the other side's fixed
    branch Choi matrices (real and imaginary parts of ``vec``), stacked as columns.
    """

    def __init__(self, d: int, tau: np.ndarray, d_other: int, tau_other: np.ndarray, k: int):
        import cvxpy as cp

        n = d * d
        self.k = k
        self.X = [cp.Variable((n, n), hermitian=True) for _ in range(k)]
        self.p = cp.Variable(k, nonneg=True)
        self.M = [cp.Parameter((n, n), hermitian=True) for _ in range(k)]
        # sum_l p_l C_l = b (the other side's average) as its k normal equations
        # Re(C^† C) p = Re(C^† b): d_other^4 complex rows would be highly redundant.
        self.G = cp.Parameter((k, k))
        self.h = cp.Parameter(k)
        self.b = _replacement_choi(tau_other).reshape(-1)
        cons = [X >> 0 for X in self.X]
        cons += [
            cp.partial_trace(X, [d, d], axis=1) == self.p[l] * np.eye(d)
            for l, X in enumerate(self.X)
        ]
        cons += [sum(self.X) == _replacement_choi(tau)]
        cons += [self.G @ self.p == self.h]
        obj = sum(cp.real(cp.trace(X @ M)) for X, M in zip(self.X, self.M))
        self.prob = cp.Problem(cp.Maximize(obj), cons)

    def solve(self, M: Sequence[np.ndarray], C: Sequence[np.ndarray]):
        for par, m in zip(self.M, M):
            par.value = _herm(m)
        cols = np.stack([c.reshape(-1) for c in C], axis=1)
        self.G.value = (cols.conj().T @ cols).real
        self.h.value = (cols.conj().T @ self.b).real
        with one_blas_thread():
            self.prob.solve(solver="CLARABEL", **CLARABEL_SETTINGS)
        if self.prob.status not in ("optimal", "optimal_inaccurate"):
            raise RuntimeError(f"see-saw step not solved: status {self.prob.status!r}")
        return [_herm(X.value) for X in self.X], np.clip(self.p.value, 0, None)


def _normalise(X, p, tau) -> list[np.ndarray]:
    """Channel Choi matrices ``X_l / p_l`` (the replacement by tau where ``p_l`` vanishes)."""
    return [x / pl if pl > 1e-12 else _replacement_choi(tau) for x, pl in zip(X, p)]


def _exact_cptp(J: np.ndarray, d: int) -> np.ndarray:
    lam, V = np.linalg.eigh(_herm(J))
    J = (V * np.clip(lam, 0, None)) @ V.conj().T
    T = np.trace(J.reshape(d, d, d, d), axis1=1, axis2=3)
    w, U = np.linalg.eigh(_herm(T))
    A = np.kron((U / np.sqrt(w)) @ U.conj().T, np.eye(d))
    return _herm(A @ J @ A.conj().T)


def _cp_margin(R: np.ndarray, delta: np.ndarray) -> float:
    """Largest ``c`` with ``R + c delta >= 0`` (``R > 0``); ``inf`` if every ``c`` works."""
    w, U = np.linalg.eigh(R)
    iR = (U / np.sqrt(w)) @ U.conj().T
    top = float(np.linalg.eigvalsh(_herm(-iR @ delta @ iR))[-1])
    return math.inf if top <= 0 else 1 / top


def _exactify(p, JA, JB, ta, tb):
    """Exactly CPTP branches and exactly LT averages (see the module docstring)."""
    dA, dB = ta.shape[0], tb.shape[0]
    p = np.clip(np.asarray(p, dtype=float), 0, None)
    p = p / p.sum()
    JA = [_exact_cptp(j, dA) for j in JA]
    JB = [_exact_cptp(j, dB) for j in JB]
    RA, RB = _replacement_choi(ta), _replacement_choi(tb)
    dltA = RA - sum(pl * j for pl, j in zip(p, JA))
    dltB = RB - sum(pl * j for pl, j in zip(p, JB))
    if max(np.abs(dltA).max(), np.abs(dltB).max()) < 1e-15:
        return list(p), JA, JB
    c = 0.5 * min(_cp_margin(RA, dltA), _cp_margin(RB, dltB))
    if not math.isfinite(c):
        c = 1e12
    t = 1 / (1 + c)
    return (
        [*(p * (1 - t)), t],
        [*JA, _herm(RA + c * dltA)],
        [*JB, _herm(RB + c * dltB)],
    )


def _start(k_tw: int, extra: int, ta, tb, rng, kind: int):
    """Start ``kind``: 0 the Pauli E_gamma; 1 the same with Haar frames ``R U_l R'`` on A and
    their conjugates on B; 2 independent frames and a random
    pairing of the branches (only this kind when ``d_A != d_B``)."""
    dA, dB = ta.shape[0], tb.shape[0]
    pmin = min(np.linalg.eigvalsh(ta)[0] * dA, np.linalg.eigvalsh(tb)[0] * dB)
    gmax = min(1.0, pmin)
    UA, UB = weyl_heisenberg(dA), weyl_heisenberg(dB)
    if dA != dB and kind < 2:
        kind = 2 if kind else 3  # 3: identity frames, identity pairing
    pair = np.arange(k_tw)
    g = gmax
    if kind in (1, 2):
        R, R2 = _haar(dA, rng), _haar(dA, rng)
        UA = [R @ U @ R2 for U in UA]
        if kind == 2:
            R, R2 = _haar(dB, rng), _haar(dB, rng)
            UB = [R @ U @ R2 for U in UB]
            pair = rng.permutation(k_tw)
    JA = [_local_choi_unitary(UA[l % dA**2]) for l in range(k_tw)]
    if kind in (0, 1):
        JB = [_local_choi_unitary(UA[l % dA**2].conj()) for l in range(k_tw)]
    else:
        JB = [_local_choi_unitary(UB[pair[l] % dB**2]) for l in range(k_tw)]
    p = [g / k_tw] * k_tw
    if g < 1:
        wA = (ta - g * np.eye(dA) / dA) / (1 - g)
        wB = (tb - g * np.eye(dB) / dB) / (1 - g)
        JA.append(_replacement_choi(wA))
        JB.append(_replacement_choi(wB))
        p.append(1 - g)
    for _ in range(extra):
        JA.append(_replacement_choi(ta))
        JB.append(_replacement_choi(tb))
        p.append(0.0)
    return np.array(p), JA, JB


@dataclass(frozen=True, eq=False)
class LOSRProtocol:
    r"""A k-branch LOSR protocol ``E = sum_l p_l E_A^l (x) E_B^l`` found by :func:`losr_seesaw`.

    Attributes
    ----------
    probabilities : ndarray
        ``p_l`` (sum one).
    branches_A, branches_B : tuple of Qobj
        Local channels (column-stacking superoperators, ``superrep='super'``); exactly CPTP,
        with ``sum_l p_l E_X^l`` exactly the replacement by ``tau_X``.
    value : float
        The figure of merit of this protocol: a lower bound on its LOSR maximum.
    merit : str
        ``"overlap"`` (``Tr(J_E W)``) or ``"negativity"`` (``N(E(rho))``).
    history : tuple of float
        Value after each see-saw iteration of the best restart.
    restart_values : tuple of float
        Final value of every restart (the first is the E_gamma-like start).
    """

    probabilities: np.ndarray
    branches_A: tuple
    branches_B: tuple
    value: float
    merit: str
    history: tuple
    restart_values: tuple
    _choi: np.ndarray
    _dims: tuple

    def choi(self) -> np.ndarray:
        """Choi matrix of the whole channel, legs ``(A_in, B_in, A_out, B_out)``."""
        return self._choi.copy()

    def superoperator(self) -> qutip.Qobj:
        """The whole channel as a column-stacking superoperator on AB."""
        return choi_to_superoperator(self._choi, *self._dims)

    def branches(self) -> list[tuple[float, qutip.Qobj, qutip.Qobj]]:
        """``[(p_l, E_A^l, E_B^l), ...]``."""
        return list(zip(self.probabilities.tolist(), self.branches_A, self.branches_B))

    def __call__(self, rho: qutip.Qobj) -> qutip.Qobj:
        rho = as_density_matrix(rho, "rho")
        if party_dims(rho) != list(self._dims):
            raise ValueError(f"rho must have dims {list(self._dims)}, got {party_dims(rho)}")
        return qutip.Qobj(_herm(_output(self._choi, rho.full())), dims=rho.dims)


def _local_super(J: np.ndarray, d: int) -> qutip.Qobj:
    S = J.reshape(d, d, d, d).transpose(3, 1, 2, 0).reshape(d * d, d * d)
    return qutip.Qobj(S, dims=[[[d], [d]], [[d], [d]]], superrep="super")


def losr_seesaw(
    tau_A: qutip.Qobj,
    tau_B: qutip.Qobj,
    *,
    merit: str = "overlap",
    rho: qutip.Qobj | None = None,
    target: qutip.Qobj | None = None,
    witness: np.ndarray | None = None,
    extra_branches: int = 1,
    restarts: int = 3,
    max_iter: int = 50,
    tol: float = 1e-7,
    seed=0,
) -> LOSRProtocol:
    r"""See-saw lower bound on the best LOSR local thermalization for a figure of merit.

    Alternates SDPs over the A branches (B fixed) and the B branches (A fixed) of
    ``E = sum_l p_l E_A^l (x) E_B^l`` with exactly thermal average local maps (module
    docstring); ``k = lcm(d_A^2, d_B^2) + 1 + extra_branches`` branches.

    Parameters
    ----------
    tau_A, tau_B : Qobj
        Thermal states (full rank).
    merit : {"overlap", "negativity"}
        ``"overlap"``: ``Tr(E(rho) target)`` (default ``Phi+ -> Phi+``) or ``Tr(J_E W)`` for a
        given ``witness`` (legs ``(A_in, B_in, A_out, B_out)``); ``"negativity"``:
        ``N(E(rho))`` (partial transpose on B, default input ``Phi+``) through the witness
        alternation.
    extra_branches : int
        Branches beyond the twirl-plus-replacement shape (start with ``p = 0``).
    restarts : int
        Number of starts (the first is the Pauli E_gamma; the others random).
    max_iter : int
        See-saw iterations (A step + B step) per start.
    tol : float
        Stop a start when an iteration gains less than this.
    seed : int or SeedSequence
        Seed of the random starts (``numpy.random.SeedSequence(seed).spawn``).

    Returns
    -------
    LOSRProtocol
        The best protocol found; its ``value`` is a lower bound on the LOSR optimum.

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> prot = losr_seesaw(tau, tau, restarts=1, max_iter=3)
    >>> round(prot.value, 5)                        # E_gamma's (1 + gamma)/2, the PPT bound
    0.7
    """
    if merit not in MERITS:
        raise ValueError(f"merit must be one of {MERITS}, got {merit!r}")
    for name, v, lo in (("restarts", restarts, 1), ("max_iter", max_iter, 1)):
        if not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not isinstance(extra_branches, (int, np.integer)) or extra_branches < 0:
        raise ValueError(f"extra_branches must be an integer >= 0, got {extra_branches!r}")
    ta, tb = _single(tau_A, "tau_A"), _single(tau_B, "tau_B")
    dA, dB = ta.shape[0], tb.shape[0]
    if min(np.linalg.eigvalsh(ta)[0], np.linalg.eigvalsh(tb)[0]) <= 1e-14:
        raise ValueError("losr_seesaw needs full-rank thermal states (nonzero temperature)")
    from .states import phi_plus

    if dA != dB and (witness is None and (rho is None or (merit == "overlap" and target is None))):
        raise ValueError("the default Phi+ figure of merit needs d_A = d_B")
    rho_q = phi_plus(dA) if rho is None else as_density_matrix(rho, "rho")
    rho_a = rho_q.full()
    if merit == "overlap":
        W = (
            np.asarray(witness, dtype=complex)
            if witness is not None
            else overlap_witness(rho_q, phi_plus(dA) if target is None else target)
        )

        def evaluate(J):
            return float(np.real(np.trace(J @ W))), W
    else:

        def evaluate(J):
            return _negativity_and_witness(J, rho_a, dA, dB)

    k_tw = math.lcm(dA * dA, dB * dB)
    k = k_tw + 1 + extra_branches
    stepA = _Step(dA, ta, dB, tb, k)
    stepB = _Step(dB, tb, dA, ta, k)
    nA, nB = dA * dA, dB * dB
    children = _seedseq(seed).spawn(restarts)
    best = None
    finals = []
    for r in range(restarts):
        rng = np.random.default_rng(children[r])
        p, JA, JB = _start(
            k_tw, extra_branches, ta, tb, rng, kind=0 if r == 0 else 1 + (r % 2 == 0)
        )
        if len(p) < k:  # gamma = 1: no replacement branch; pad
            pad = k - len(p)
            p = np.concatenate([p, np.zeros(pad)])
            JA += [_replacement_choi(ta)] * pad
            JB += [_replacement_choi(tb)] * pad
        start = (p.copy(), list(JA), list(JB))  # exactly feasible
        val, W = evaluate(_full_choi(p, JA, JB, dA, dB))
        hist = [val]
        for _ in range(max_iter):
            W4 = _reorder_witness(W, dA, dB).reshape(nA, nB, nA, nB)
            M = [np.einsum("pqab,bq->pa", W4, jb) for jb in JB]
            X, p = stepA.solve(M, JB)
            JA = _normalise(X, p, ta)
            _, W = evaluate(_full_choi(p, JA, JB, dA, dB))
            W4 = _reorder_witness(W, dA, dB).reshape(nA, nB, nA, nB)
            N = [np.einsum("pqab,ap->qb", W4, ja) for ja in JA]
            Y, p = stepB.solve(N, JA)
            JB = _normalise(Y, p, tb)
            new, W = evaluate(_full_choi(p, JA, JB, dA, dB))
            hist.append(new)
            if new - val < tol:
                break
            val = new
        # the repaired end point, or the (exact) start if the repair cost more than the gain
        vals = []
        for cand in (_exactify(p, JA, JB, ta, tb), _exactify(*start, ta, tb)):
            Je = _full_choi(*cand, dA, dB)
            vals.append(evaluate(Je)[0])
            if best is None or vals[-1] > best[0]:
                best = (vals[-1], *cand, Je, hist)
        finals.append(max(vals))
    final, pe, JAe, JBe, Je, hist = best
    return LOSRProtocol(
        probabilities=np.array(pe),
        branches_A=tuple(_local_super(j, dA) for j in JAe),
        branches_B=tuple(_local_super(j, dB) for j in JBe),
        value=final,
        merit=merit,
        history=tuple(hist),
        restart_values=tuple(finals),
        _choi=Je,
        _dims=(dA, dB),
    )


# ------------------------------------------------------- negativity over PPT / LT


@dataclass(frozen=True, eq=False)
class NegativitySearch:
    """Outcome of :func:`negativity_search`.

    Attributes
    ----------
    value : float
        ``N(E(rho))`` of :attr:`channel` (exactly LT, CPTP and, for ``"ppt"``, PPT): a lower
        bound on the maximum over the relaxation.
    channel : Qobj
        Column-stacking superoperator.
    relaxation : str
    history : tuple of float
        Value after each alternation of the best start.
    restart_values : tuple of float
    """

    value: float
    channel: qutip.Qobj
    relaxation: str
    history: tuple
    restart_values: tuple


def negativity_search(
    tau_A: qutip.Qobj,
    tau_B: qutip.Qobj,
    *,
    rho: qutip.Qobj | None = None,
    relaxation: str = "ppt",
    restarts: int = 1,
    max_iter: int = 30,
    tol: float = 1e-7,
    seed=0,
) -> NegativitySearch:
    r"""Alternating search for a PPT (or any) LT channel with large output negativity.

    Witness step: ``P`` = projector on the negative eigenspace of ``E(rho)^{T_B}``; channel
    step: :func:`eplt.dynamics.bounds.sdp_bound` with ``W = rho^T (x) (-P^{T_B})``. ``N(E(rho))``
    never decreases (a step whose SDP cannot be certified to 1e-6 ends that start). The
    first start is E_gamma (``N = p_min`` for equal qubit taus); the others use the witness
    of a Haar-random pure output. The value is a **lower bound** on
    ``max N(E(rho))`` over the relaxation (for ``"none"``, every LT output obeys
    :func:`eplt.dynamics.bounds.any_lt_negativity_bound`).

    Parameters
    ----------
    tau_A, tau_B : Qobj
        Thermal states (``d_A = d_B`` for the default input ``Phi+``).
    rho : Qobj, optional
        Input state (default ``Phi+``).
    relaxation : {"ppt", "none"}
    restarts, max_iter, tol, seed
        Starts, alternations per start, stopping gain, seed of the random starts.

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> res = negativity_search(tau, tau, max_iter=2)
    >>> res.value >= 0.2 - 1e-9                     # at least E_gamma's p_min
    True
    """
    from .channels import choi_matrix, eplt_channel
    from .states import phi_plus

    ta, tb = _single(tau_A, "tau_A"), _single(tau_B, "tau_B")
    dA, dB = ta.shape[0], tb.shape[0]
    if rho is None and dA != dB:
        raise ValueError("the default input Phi+ needs d_A = d_B")
    rho_a = (phi_plus(dA) if rho is None else as_density_matrix(rho, "rho")).full()
    children = _seedseq(seed).spawn(restarts)
    best, finals = None, []
    for r in range(restarts):
        if r == 0 and dA == dB:
            J = choi_matrix(eplt_channel(tau_A, tau_B).superoperator())
            val, W = _negativity_and_witness(J, rho_a, dA, dB)
        else:
            rng = np.random.default_rng(children[r])
            D = dA * dB
            psi = rng.standard_normal(D) + 1j * rng.standard_normal(D)
            J = np.kron(np.eye(D), np.outer(psi, psi.conj()) / np.vdot(psi, psi).real)
            val, W = _negativity_and_witness(J, rho_a, dA, dB)
            val = -math.inf  # not a feasible channel yet
        hist = [val]
        for _ in range(max_iter):
            try:
                res = sdp_bound(tau_A, tau_B, witness=_herm(W), relaxation=relaxation)
            except BoundGapError:  # an ill-conditioned witness: keep what this start has
                break
            J = _repair(choi_matrix(res.channel), ta, tb, dA, dB, ppt=relaxation == "ppt")
            new, W = _negativity_and_witness(J, rho_a, dA, dB)
            hist.append(new)
            if new - val < tol:
                break
            val = new
        finals.append(hist[-1])
        if best is None or hist[-1] > best[0]:
            best = (hist[-1], J, hist)
    val, J, hist = best
    return NegativitySearch(
        value=float(val),
        channel=choi_to_superoperator(J, dA, dB),
        relaxation=relaxation,
        history=tuple(float(h) for h in hist),
        restart_values=tuple(float(f) for f in finals),
    )

"""Solvers behind :func:`eplt.dynamics.certify.lt_error` (private).

Qubit -> qubit: the trust-region problem ``max_{|r|=1} |T r + b|`` (exact, with its dual
bound); qubit output, any input: a certified branch and bound on the sphere; qudit
output: a see-saw lower bound and the diamond-norm SDP upper bound. Maps are matrices in
QuTiP's column stacking.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.optimize import brentq

PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)


def affine_qubit(N: np.ndarray):
    """Bloch form of a qubit -> qubit map (column stacking): ``r_out = T r + t``."""
    basis = np.concatenate([np.eye(2)[None] / 2, PAULI / 2])  # I/2, sigma_a/2
    out = N @ basis.transpose(0, 2, 1).reshape(4, 4).T  # columns: vec of the outputs
    bloch = np.einsum("aji,jim->am", PAULI, out.reshape(2, 2, 4)).real  # Tr(sigma_a Y_m)
    return bloch[:, 1:], bloch[:, 0]


def trs_max(T: np.ndarray, b: np.ndarray) -> tuple[float, float, np.ndarray]:
    r"""``max_{|r| = 1} |T r + b|``: (lower, upper, maximiser).

    The trust-region problem ``max r^T Q r + 2 c^T r + |b|^2`` on the sphere
    (``Q = T^T T``, ``c = T^T b``) has no duality gap (S-lemma): for every
    ``mu > lambda_max(Q)``, ``mu + |b|^2 + c^T (mu - Q)^{-1} c`` bounds it from above,
    with equality at the root of the secular equation ``|(mu - Q)^{-1} c| = 1``.
    """
    nT = float(np.linalg.norm(T, 2))
    if nT < 1e-13:  # (almost) constant: any unit vector, bracket width <= 2 ||T||
        r = np.array([0.0, 0.0, 1.0])
        return float(np.linalg.norm(T @ r + b)), nT + float(np.linalg.norm(b)), r
    Q, c = T.T @ T, T.T @ b
    q, V = np.linalg.eigh(Q)
    cp = V.T @ c
    const = float(b @ b)
    scale = max(float(q[-1]), float(np.abs(cp).max()), const, 1e-300)
    fast = _trs_axial(T, b, q, V, cp, const, scale, nT)
    if fast is not None:
        return fast
    qmax = q[-1]

    def phi(mu):
        return float(np.sum(cp**2 / (mu - q) ** 2)) - 1.0

    def dual(mu):
        return mu + const + float(np.sum(cp**2 / (mu - q)))

    cands = []
    lo = qmax + 1e-14 * scale
    if phi(lo) > 0:
        hi = qmax + float(np.linalg.norm(cp)) + scale
        mu = brentq(phi, lo, hi, xtol=1e-15 * scale, rtol=4 * np.finfo(float).eps, maxiter=500)
        cands.append((mu, V @ (cp / (mu - q))))
    else:  # hard case: the top eigenspace carries (almost) no linear term
        mu = lo
        gap = qmax - q
        top = gap <= 1e-14 * scale
        y = np.zeros(3)
        y[~top] = cp[~top] / gap[~top]
        z = math.sqrt(max(0.0, 1.0 - float(y @ y)))
        i_top = int(np.nonzero(top)[0][0])
        for sgn in (1.0, -1.0):
            yy = y.copy()
            yy[i_top] = sgn * z
            if np.linalg.norm(yy) > 0:
                cands.append((mu, V @ yy))
    best_r, best = None, -np.inf
    for _, r in cands:
        r = r / np.linalg.norm(r)
        v = float(np.linalg.norm(T @ r + b))
        if v > best:
            best, best_r = v, r
    upper = math.sqrt(max(min(dual(mu_) for mu_, _ in cands), best * best))
    # |T r + b| <= ||T|| + |b|: tighter when both are round-off small
    upper = min(upper, nT + math.sqrt(const))
    upper = max(upper, best)
    return best, upper, best_r


def _trs_axial(T, b, q, V, cp, const, scale, nT):
    r"""Closed form of :func:`trs_max` when the linear term lies in one eigenspace of Q.

    In Q's eigenbasis, ``f(y) = sum_i q_i y_i^2 + 2 cp.y + |b|^2``. When ``cp`` lies
    (to ``1e-13 scale``) in the eigenspace of one eigenvalue ``q_j`` (phase-covariant
    maps: a diagonal T and ``b`` along z; unital or depolarising ones), write
    ``y = x w + sqrt(1 - x^2) u`` with ``w = cp/|cp|`` and ``u`` the best orthogonal
    direction (eigenvalue ``q_o``): ``f = (q_j - q_o) x^2 + 2 |cp| x + q_o + |b|^2``, a
    quadratic on ``[-1, 1]`` maximised in closed form. The neglected parts (the linear
    term off the eigenspace, the spread of the eigenvalues in it) enter the upper bound
    as ``2 |cp_off| + spread``; the lower bound is ``|T r + b|`` at the maximiser.
    Returns None when ``cp`` is not in one eigenspace (the secular equation then).
    """
    j = int(np.argmax(np.abs(cp)))
    C = np.abs(q - q[j]) <= 1e-13 * scale
    delta = float(np.linalg.norm(cp[~C]))
    if delta > 1e-13 * scale:
        return None
    spread = float(np.abs(q[C] - q[j]).max())
    c = float(np.linalg.norm(cp[C]))
    # w: the unit direction of the linear term (any top vector of C when there is none)
    w = V[:, C] @ (cp[C] / c) if c > 0 else V[:, j]
    # u: best direction orthogonal to w (eigenvalue q_o)
    if C.sum() > 1:
        Vc = V[:, C]
        P = Vc - np.outer(w, w @ Vc)  # C's eigenspace minus w
        k = int(np.argmax(np.linalg.norm(P, axis=0)))
        u_c, q_c = P[:, k] / np.linalg.norm(P[:, k]), float(q[j])
    else:
        u_c, q_c = None, -np.inf
    if (~C).any():
        i_o = int(np.flatnonzero(~C)[np.argmax(q[~C])])
        if q[i_o] > q_c:
            u_c, q_c = V[:, i_o], float(q[i_o])
    a2 = float(q[j]) - q_c
    cands = [1.0, -1.0]
    if a2 < 0 and abs(c / a2) < 1:
        cands.append(-c / a2)
    vals = [a2 * x * x + 2 * c * x + q_c + const for x in cands]
    i = int(np.argmax(vals))
    x = cands[i]
    r = x * w + math.sqrt(max(0.0, 1.0 - x * x)) * u_c
    r = r / np.linalg.norm(r)
    best = float(np.linalg.norm(T @ r + b))
    upper = math.sqrt(max(vals[i] + 2 * delta + spread, 0.0))
    upper = min(upper, nT + math.sqrt(const))
    return best, max(upper, best), r


def bloch_ket(r: np.ndarray) -> np.ndarray:
    rho = (np.eye(2) + np.einsum("a,aij->ij", r, PAULI)) / 2
    _, V = np.linalg.eigh(rho)
    return V[:, -1]


def bb_qubit_output(A: np.ndarray, atol: float, max_cells: int):
    r"""``max_{|n| = 1} lambda_max(n . A)`` by branch and bound on the sphere.

    ``lambda_max`` is convex and positively homogeneous, so on a spherical triangle with
    vertices ``v_i`` every point is ``s sum_i a_i v_i`` with ``s <= 1/h`` (``h``: distance
    of the flat triangle's plane to the origin) and the function is at most
    ``max_i f(v_i) / h`` (when that maximum is >= 0): a certified bound that closes
    quadratically in the cell size.
    """

    def f(n):
        M = np.einsum("ka,aij->kij", n, A)
        lam, vec = np.linalg.eigh(M)
        return lam[:, -1], vec[:, :, -1]

    V = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)
    faces = [(i, j, k) for i in (0, 1) for j in (2, 3) for k in (4, 5)]
    tris = V[np.array(faces)]  # (8, 3, 3)
    fv, _ = f(tris.reshape(-1, 3))
    fv = fv.reshape(-1, 3)
    i0 = int(np.argmax(fv))
    lower, best_n = float(fv.flat[i0]), tris.reshape(-1, 3)[i0]
    pruned_ub = -np.inf
    tol = 2 * atol
    upper = np.inf
    while True:
        nrm = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
        h = np.abs(np.einsum("ta,ta->t", nrm, tris[:, 0])) / np.linalg.norm(nrm, axis=1)
        m = fv.max(axis=1)
        ub = np.where(m > 0, m / h, m)
        keep = ub > lower + tol
        if (~keep).any():
            pruned_ub = max(pruned_ub, float(ub[~keep].max()))
        upper = max(lower, pruned_ub, float(ub[keep].max()) if keep.any() else -np.inf)
        if not keep.any() or 4 * keep.sum() > max_cells:
            break
        tris, fv = tris[keep], fv[keep]
        a, b, c = tris[:, 0], tris[:, 1], tris[:, 2]
        mids = np.stack([a + b, b + c, c + a], axis=1)
        mids /= np.linalg.norm(mids, axis=2, keepdims=True)
        fm, _ = f(mids.reshape(-1, 3))
        fm = fm.reshape(-1, 3)
        ab, bc, ca = mids[:, 0], mids[:, 1], mids[:, 2]
        fab, fbc, fca = fm[:, 0], fm[:, 1], fm[:, 2]
        fa, fb, fc = fv[:, 0], fv[:, 1], fv[:, 2]
        tris = np.concatenate(
            [
                np.stack([a, ab, ca], 1),
                np.stack([ab, b, bc], 1),
                np.stack([ca, bc, c], 1),
                np.stack([ab, bc, ca], 1),
            ]
        )
        fv = np.concatenate(
            [
                np.stack([fa, fab, fca], 1),
                np.stack([fab, fb, fbc], 1),
                np.stack([fca, fbc, fc], 1),
                np.stack([fab, fbc, fca], 1),
            ]
        )
        j = int(np.argmax(fm))
        if fm.flat[j] > lower:
            lower, best_n = float(fm.flat[j]), mids.reshape(-1, 3)[j]
    _, vec = f(best_n[None])
    return lower, max(upper, lower), vec[0]


def seesaw_lower(Mk: np.ndarray, tau: np.ndarray, d_in: int, rng, starts: int = 20):
    """Lower bound on ``max_psi D(M(psi), tau)`` by alternating maximisation."""
    d = tau.shape[0]

    def out(psi):
        rho = np.outer(psi, psi.conj())
        return (Mk @ rho.reshape(-1, order="F")).reshape(d, d, order="F")

    def adj(P):
        return (Mk.conj().T @ P.reshape(-1, order="F")).reshape(d_in, d_in, order="F")

    best, best_psi = -np.inf, None
    inits = [np.eye(d_in)[i].astype(complex) for i in range(d_in)]
    for _ in range(starts):
        z = rng.normal(size=d_in) + 1j * rng.normal(size=d_in)
        inits.append(z / np.linalg.norm(z))
    for psi in inits:
        val = -np.inf
        for _ in range(200):
            X = out(psi) - tau
            lam, U = np.linalg.eigh((X + X.conj().T) / 2)
            P = U[:, lam > 0] @ U[:, lam > 0].conj().T
            new = float(lam[lam > 0].sum())
            W = adj(P)
            _, Y = np.linalg.eigh((W + W.conj().T) / 2)
            psi = Y[:, -1]
            if new <= val + 1e-15:
                break
            val = new
        X = out(psi) - tau
        v = 0.5 * float(np.abs(np.linalg.eigvalsh((X + X.conj().T) / 2)).sum())
        if v > best:
            best, best_psi = v, psi
    return best, best_psi


def diamond_upper(Mk: np.ndarray, tau: np.ndarray, d_in: int) -> float:
    r"""``||M - R_tau||_diamond / 2`` (Watrous' SDP for a difference of channels), an upper
    bound on the worst marginal distance without ancilla."""
    import cvxpy as cp

    d = tau.shape[0]
    R = np.outer(tau.reshape(-1, order="F"), np.eye(d_in).reshape(-1, order="F"))
    D = Mk - R
    # Choi, input first: J[(i, a), (j, b)] = Phi(|i><j|)[a, b]
    J = D.reshape(d, d, d_in, d_in).transpose(3, 1, 2, 0).reshape(d_in * d, d_in * d)
    J = (J + J.conj().T) / 2
    # A rigorous bound without a solver: M(rho) - tau = Tr_in[(rho^T (x) I) J], so
    # ||M(rho) - tau||_1 <= ||rho^T||_op ||J||_1 <= ||J||_1. Exact LT (J = 0) gives 0 here
    # instead of the solver's tolerance margin below.
    nuclear = 0.5 * float(np.abs(np.linalg.eigvalsh(J)).sum())
    if nuclear <= 1e-12:
        return nuclear
    W = cp.Variable((d_in * d, d_in * d), hermitian=True)
    rho = cp.Variable((d_in, d_in), hermitian=True)
    cons = [W >> 0, rho >> 0, cp.real(cp.trace(rho)) == 1, cp.kron(rho, np.eye(d)) - W >> 0]
    prob = cp.Problem(cp.Maximize(cp.real(cp.trace(J @ W))), cons)
    with warnings.catch_warnings():
        # cvxpy warns "Solution may be inaccurate" on some random qutrit channels; such a
        # value is not used as a bound (the rigorous nuclear-norm bound is, below)
        warnings.filterwarnings("ignore", "Solution may be inaccurate", UserWarning)
        prob.solve(solver=cp.CLARABEL)
    if prob.status != cp.OPTIMAL or prob.value is None:
        return nuclear
    # a solver tolerance margin keeps the bound conservative; never above the nuclear bound
    return min(float(prob.value) + 1e-7, nuclear)


def decay_root(f, lo: float, hi: float, f_lo: float, f_hi: float, eps: float, xtol: float):
    r"""Root of ``f(t) = g(t) - eps`` in ``[lo, hi]`` (``f(lo) > 0 >= f(hi)``) by ``brentq``
    to ``xtol``, after narrowing the bracket with one guess.

    ``g`` (an lt_error) decays roughly exponentially, so the secant of ``ln g`` through
    the bracket ends guesses the root ``t_g``; ``f(t_g -+ w)`` (``w = 1e-7 (hi - lo)``)
    then gives a bracket that is valid whatever the guess's quality (only values of ``f``
    narrow it), and brentq needs far fewer steps in it. Returns a root of ``f`` in the
    original bracket, to ``xtol``, like ``brentq(f, lo, hi, xtol=xtol)``.
    """
    a, b, fb = lo, hi, f_hi
    g_lo, g_hi = f_lo + eps, f_hi + eps
    if g_lo > 0 and g_hi > 0 and g_lo != g_hi and fb < 0:
        t_g = lo + (math.log(eps) - math.log(g_lo)) * (hi - lo) / (math.log(g_hi) - math.log(g_lo))
        w = 1e-7 * (hi - lo)
        for t in (t_g - w, t_g + w):
            if a < t < b:
                ft = f(t)
                if ft > 0:
                    a = t
                else:
                    b, fb = t, ft
                    break
    if fb == 0:
        return float(b)
    return float(brentq(f, a, b, xtol=xtol))

"""The worst case over inputs of the output GHZ fidelity (private to
:mod:`eplt.dynamics.productsum`): the SDP on ``W = E_t^+(|GHZ><GHZ|)`` reduced to 2 x 2 blocks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar


@dataclass(frozen=True)
class WorstCaseGHZ:
    r"""The worst case over inputs of the output GHZ fidelity (:func:`worst_case_ghz_fidelity`).

    Attributes
    ----------
    value : float
        ``min <GHZ|E_t(rho)|GHZ>`` over inputs with ``<GHZ|rho|GHZ> >= fidelity_in``, attained
        by the explicit input ``q rho_B + (1 - q) |x><x|`` (``rho_B`` on ``|0..0>, |1..1>``
        with GHZ fidelity ``input_fidelity / q``, ``|x>`` the ground state of the block of
        the bit strings of ``weight`` ones and their complements).
    dual : float
        ``a + b fidelity_in`` with ``W - a I - b |GHZ><GHZ| >= 0``, ``b >= 0`` (certificate:
        a lower bound on every input's output fidelity); ``gap = value - dual``.
    """

    value: float
    dual: float
    gap: float
    fidelity_in: float
    input_fidelity: float
    q: float
    weight: int
    multiplier: float
    n: int
    t: float


def _x_shape(W):
    """``d(w) = <x|W|x>`` and ``o(w) = <x|W|not x>`` for a bit string x of w ones (w = 0..n),
    for a permutation-invariant W whose only nonzero entries pair x with x or with its
    complement (2 x 2 blocks; the GHZ block is w = 0)."""
    n, logc, F = W.n, W.logc, W.factors
    if logc.size and np.abs(F - F[:, :1]).max() > 1e-12:
        raise ValueError(
            "worst_case_ghz_fidelity needs a permutation-symmetric channel (E^+(GHZ) differs "
            "between qubits)"
        )
    f = F[:, 0]  # (T, 4)
    nz = np.abs(f) > 1e-14
    diag = ~nz[:, 1] & ~nz[:, 2]
    coh = ~nz[:, 0] & ~nz[:, 3]
    if not (diag | coh).all():
        raise ValueError(
            "worst_case_ghz_fidelity needs a phase-covariant channel: E^+(GHZ) has terms "
            "mixing populations and coherences"
        )
    w = np.arange(n + 1)

    def powers(lc, x, y):  # exp(lc + (n - w) log x + w log y) for w = 0..n, zeros exact
        ok = ((x != 0) | (w == n)) & ((y != 0) | (w == 0))
        lx = np.log(x if x != 0 else 1.0 + 0j)
        ly = np.log(y if y != 0 else 1.0 + 0j)
        return np.where(ok, np.exp(lc + (n - w) * lx + w * ly), 0)

    d = np.zeros(n + 1)
    for lc, a in zip(logc[diag], f[diag]):
        d += powers(lc, a[0], a[3]).real
    o = np.zeros(n + 1, dtype=complex)
    for lc, a in zip(logc[coh], f[coh]):
        o += powers(lc, a[1], a[2])
    return d, o


def solve(W, n: int, f: float, t: float, tol: float) -> WorstCaseGHZ:
    """Minimise ``Tr(W rho)`` over states with ``<GHZ|rho|GHZ> >= f`` (with the certificate)."""
    d, o = _x_shape(W)
    c01 = o[0]
    alpha = (d[0] + d[n]) / 2 + c01.real  # <GHZ+|W|GHZ+>
    delta = (d[0] + d[n]) / 2 - c01.real  # <GHZ-|W|GHZ->
    beta = abs(complex((d[0] - d[n]) / 2, -c01.imag))  # |<GHZ+|W|GHZ->|
    # every other block {x, not x}: its smallest eigenvalue
    k = np.arange(1, n)
    lam = (d[k] + d[n - k]) / 2 - np.hypot((d[k] - d[n - k]) / 2, np.abs(o[k]))
    w_rest = float(lam.min())
    k_rest = int(k[np.argmin(lam)])

    def q_of(g):  # best weight of the 2 x 2 block for input fidelity g (convex in q)
        if g <= 0:
            return 0.0
        if delta - w_rest > 0:
            return min(1.0, g + g * beta**2 / (delta - w_rest) ** 2)
        return 1.0

    def v(g):  # min output fidelity at input fidelity exactly g
        q = q_of(g)
        return (
            alpha * g
            + delta * (q - g)
            - 2 * beta * np.sqrt(max(g * (q - g), 0.0))
            + (1 - q) * w_rest
        )

    cands = [f, 1.0]
    if f < 1:
        res = minimize_scalar(v, bounds=(f, 1.0), method="bounded", options={"xatol": 1e-14})
        cands.append(float(res.x))
    g = min(cands, key=v)
    value = float(v(g))

    def h(b):  # dual function, written without cancellation at large b
        a = alpha - b
        if a <= delta:
            s = (delta - a) / 2
            hb = alpha - b * (1 - f) - (beta**2 / (np.hypot(s, beta) + s) if beta else 0.0)
        else:
            s = (a - delta) / 2
            hb = delta + b * f - (beta**2 / (np.hypot(s, beta) + s) if beta else 0.0)
        return min(w_rest + b * f, hb)

    scale = abs(alpha) + abs(delta) + abs(w_rest) + 2 * beta + 1.0
    q = q_of(g)
    if g >= 1 - 1e-12:
        b = 1e12 * scale  # only GHZ itself: the multiplier is unbounded, the gap ~ 1/b
    elif g > f + 1e-12:
        b = 0.0  # the constraint is not active
    else:
        # the multiplier is the slope of the value function (envelope theorem: d/dg at
        # the optimal q), exact, where a search for the maximum of the concave h would
        # stop at sqrt(eps) of a kink
        root = np.sqrt(max(g * (q - g), 0.0))
        b = max(0.0, alpha - delta - (beta * (q - 2 * g) / root if root > 0 else 0.0))
    b = max([b, 0.0], key=h)
    dual = float(h(b))
    gap = value - dual
    if not gap <= tol:
        raise RuntimeError(f"worst_case_ghz_fidelity: duality gap {gap:.3g} above tol = {tol:g}")
    return WorstCaseGHZ(
        value, dual, gap, f, float(g), float(q_of(g)), k_rest, float(b), n, float(t)
    )

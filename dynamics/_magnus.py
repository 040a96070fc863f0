r"""The fourth-order Magnus scheme with error control, batched over substeps (private).

The numerics behind the ``"magnus4"`` integrator of :mod:`eplt.dynamics._timedep`, which
cuts the output grid into chunks and calls these on each: a party's generator and its
Magnus exponents (:class:`_Party`), batched exponentials (:func:`_expm_small`), the
propagators over output intervals with Richardson error control (:func:`_magnus`,
:func:`_adaptive`), the error-estimate groups and where a chunk may end without changing
them (:func:`_groups`, :func:`_cuts`), cumulative products (:func:`_prefix`).
Superoperators are engine-layout ``D x D`` matrices (``D = d^2``, row-stacked, see
:mod:`eplt.dynamics.superop`); hbar = 1.
"""

from __future__ import annotations

import math

import numpy as np

from ._expm import expm_batched
from ._tdterms import TimeDependence

#: Gauss-Legendre nodes and commutator weight of the fourth-order Magnus scheme (:class:`_Party`).
_C1, _C2 = 0.5 - math.sqrt(3) / 6, 0.5 + math.sqrt(3) / 6
_K4 = math.sqrt(3) / 12
#: Order of the Magnus scheme (local error ``K h^(ORDER + 1)``).
ORDER = 4

#: Largest error-estimate group (output intervals compared against one substep over all
#: of them, see :func:`_adaptive`); a chunk of :mod:`eplt.dynamics._timedep` may run this
#: many intervals past its budget to keep a group whole.
MAX_GROUP = 4

#: Largest number of Magnus substeps per output interval before giving up.
MAX_SUBSTEPS = 2**16


#: Stacks of the generator's size alive at once per substep in a batch of exponentials
#: (the exponents, the truncated Taylor series' powers and blocks, the products around).
EXPM_STACKS = 12


class _Party:
    r"""One party's generator ``L(t) = B + sum_p w_p(t) S_p (+ F(t))`` for the Magnus scheme.

    The fourth-order exponent over a substep ``[s, s + h]`` is
    ``Omega = h (L_1 + L_2) / 2 - (sqrt(3) h^2 / 12) [L_1, L_2]`` with ``L_j`` at the
    Gauss-Legendre nodes ``s + (1/2 -+ sqrt(3)/6) h`` (Blanes, Casas, Oteo & Ros,
    Phys. Rep. 470, 151 (2009), eq. (4.57)). Without fallback functions it is a linear
    combination of the pieces and of their commutators ``[S_p, S_q]``, computed once, so a
    batch of exponents is one matrix product."""

    def __init__(self, base: np.ndarray, td: TimeDependence):
        self.base, self.td = base, td
        D = base.shape[0]
        mats = [base] + [S for _, S in td.pieces]
        self.linear = not td.functions
        if self.linear:
            self.pairs = [(p, q) for p in range(len(mats)) for q in range(p + 1, len(mats))]
            comm = [mats[p] @ mats[q] - mats[q] @ mats[p] for p, q in self.pairs]
            self.basis = np.array(mats + comm).reshape(len(mats) + len(comm), D * D)

    def generator(self, times: np.ndarray) -> np.ndarray:
        return self.base + self.td.evaluate(times)

    def omega(self, s: np.ndarray, h: np.ndarray) -> np.ndarray:
        S, D = s.size, self.base.shape[0]
        t = np.concatenate([s + _C1 * h, s + _C2 * h])
        if not self.linear:
            L = self.generator(t)
            L1, L2 = L[:S], L[S:]
            hb = h[:, None, None]
            return 0.5 * hb * (L1 + L2) - (_K4 * hb * hb) * (L1 @ L2 - L2 @ L1)
        W = np.concatenate([np.ones((2 * S, 1)), self.td.weights(t)], axis=1)
        w1, w2 = W[:S], W[S:]
        coef = np.empty((S, self.basis.shape[0]), dtype=complex)
        n = W.shape[1]
        coef[:, :n] = (0.5 * h)[:, None] * (w1 + w2)
        if self.pairs:
            p, q = np.array(self.pairs).T
            coef[:, n:] = (-_K4 * h * h)[:, None] * (w1[:, p] * w2[:, q] - w1[:, q] * w2[:, p])
        return (coef @ self.basis).reshape(S, D, D)


#: Truncated Taylor series for small exponents: (largest 1-norm, degree) with the
#: remainder ``theta^(k+1) / (k+1)!`` below 1e-17 (5e-18 and 2.4e-18).
_TAYLOR = ((0.05, 8), (0.25, 12))


def _expm_small(A: np.ndarray) -> np.ndarray:
    """``exp(A)`` for a stack of matrices, each by the cheapest rule its 1-norm allows:
    the truncated Taylor series (Horner in blocks of ``A^3``, no linear solve) of the
    lowest degree of :data:`_TAYLOR` that covers it, else
    :func:`~eplt.dynamics._expm.expm_batched` (Pade with scaling and squaring). A batch
    mixing short substeps with long ones (a chunk's intervals beside the one-substep
    comparisons over groups of them) pays the long ones' rule only for those."""
    flat = A.reshape(-1, *A.shape[-2:])
    theta = np.abs(flat).sum(axis=-2).max(axis=-1, initial=0.0)
    rule = np.searchsorted([bound for bound, _ in _TAYLOR], theta)  # len(_TAYLOR): Pade
    kinds = np.unique(rule)
    if kinds.size == 1:
        return _expm_rule(A, int(kinds[0]))
    out = np.empty_like(flat)
    for r in kinds.tolist():
        sel = np.nonzero(rule == r)[0]
        out[sel] = _expm_rule(flat[sel], r)
    return out.reshape(A.shape)


def _expm_rule(A: np.ndarray, rule: int) -> np.ndarray:
    """``exp(A)`` by rule ``rule`` of :func:`_expm_small` (an index into :data:`_TAYLOR`,
    or its length for Pade)."""
    if rule >= len(_TAYLOR):
        return expm_batched(A)
    k = _TAYLOR[rule][1]
    eye = np.eye(A.shape[-1])
    A2 = A @ A
    A3 = A2 @ A
    c = [1 / math.factorial(j) for j in range(k + 1)]
    blocks = []
    for j in range(0, k + 1, 3):
        blk = c[j] * eye + (c[j + 1] * A if j + 1 <= k else 0)
        blocks.append(blk + c[j + 2] * A2 if j + 2 <= k else blk)
    out = blocks[-1]
    for blk in reversed(blocks[:-1]):
        out = blk + A3 @ out
    return out


def _magnus(parties, a: np.ndarray, b: np.ndarray, n: np.ndarray, budget: int) -> np.ndarray:
    """Fourth-order Magnus propagators over intervals ``(a_i, b_i)`` with ``n_i`` equal
    substeps (one exponential each, see :class:`_Party`), for every party of a group:
    ``(P, m, D, D)``."""
    m = a.size
    P, D = len(parties), parties[0].base.shape[0]
    if int(n.sum()) * P * D * D * 16 * EXPM_STACKS > budget and int(n.sum()) > 1:
        # bounded memory: split the intervals, or one long interval into two runs of
        # whole substeps (equal substeps, so the product is the same propagator)
        if m > 1:
            h = m // 2
            return np.concatenate(
                [
                    _magnus(parties, a[:h], b[:h], n[:h], budget),
                    _magnus(parties, a[h:], b[h:], n[h:], budget),
                ],
                axis=1,
            )
        n1 = int(n[0]) // 2
        mid = a + (b - a) * (n1 / n)
        first = _magnus(parties, a, mid, np.array([n1]), budget)
        second = _magnus(parties, mid, b, n - n1, budget)
        return second @ first
    first = np.cumsum(n) - n
    which = np.repeat(np.arange(m), n)
    j = np.arange(which.size) - first[which]
    h = ((b - a) / n)[which]
    s = a[which] + j * h
    M = _expm_small(np.stack([party.omega(s, h) for party in parties]))
    if np.all(n == 1):
        return M
    out = np.empty((P, m, D, D), dtype=complex)
    for nv in np.unique(n):
        sel = np.nonzero(n == nv)[0]
        pos = first[sel][:, None] + np.arange(nv)[None, :]
        out[:, sel] = _chain(M[:, pos])
    return out


def _chain(M: np.ndarray) -> np.ndarray:
    """Time-ordered product ``M[..., n-1, :, :] ... M[..., 0, :, :]`` over axis -3."""
    while M.shape[-3] > 1:
        n = M.shape[-3]
        even = n - n % 2
        P = M[..., 1:even:2, :, :] @ M[..., 0:even:2, :, :]
        M = np.concatenate([P, M[..., even:, :, :]], axis=-3) if n % 2 else P
    return M[..., 0, :, :]


def _groups(single: np.ndarray, g: int) -> list[tuple[int, int]]:
    """Contiguous groups ``(first, size)``, ``2 <= size <= g``, covering every
    single-substep interval that has a single-substep neighbour (a leftover at the end of
    a run is paired with its left neighbour again)."""
    out, m, i = [], single.size, 0
    while i < m:
        if not single[i]:
            i += 1
            continue
        j = i
        while j < m and single[j]:
            j += 1  # run [i, j)
        k = i
        while j - k >= 2:
            size = min(g, j - k)
            out.append((k, size))
            k += size
        if k < j and j - i >= 2:
            out.append((k - 1, 2))
        i = j
    return out


def _adaptive(parties, a, b, n0, atol, rtol, group, budget):
    """Propagators over intervals ``(a_i, b_i)`` to the tolerance; returns
    ``(propagators (P, m, D, D), substeps computed per interval)``.

    Error estimate (Richardson; local error ``K h^5``, global ``~ n^-4``): intervals
    done in one substep are compared, in contiguous groups of up to ``group``, against one
    substep over the whole group (the difference ``K (H^5 - sum_i h_i^5)`` is shared out
    as ``K h_i^5``); an
    interval of ``n >= 2`` substeps against ``n/2`` substeps
    (``err = max|P_n - P_(n/2)| / 15``); an isolated single-substep interval against two
    substeps. Accepted when ``err <= atol + rtol * max|P|``; else the substep count
    predicted from ``err ~ n^-4`` (aiming at half the tolerance), re-estimated against the
    previous result, until accepted."""
    m = a.size
    n = np.where(n0 > 1, n0 + n0 % 2, 1).astype(int)
    used = n.copy()
    err = np.full(m, np.nan)  # nan: not estimated yet
    q = ORDER + 1
    groups = _groups(n == 1, group)
    covered = np.zeros(m, dtype=bool)
    for f, z in groups:
        covered[f : f + z] = True
    rest = np.nonzero(~covered)[0]
    half = np.where(n[rest] > 1, n[rest] // 2, 1)
    # one batch: the intervals, one substep over each group, the rest's comparison runs
    sizes = [
        (z, np.array([f for f, y in groups if y == z], dtype=int)) for z in range(2, group + 1)
    ]
    sizes = [(z, firsts) for z, firsts in sizes if firsts.size]
    lo = np.concatenate([a, *(a[f] for _, f in sizes), a[rest]])
    hi = np.concatenate([b, *(b[f + z - 1] for z, f in sizes), b[rest]])
    ns = np.concatenate(
        [n, *(np.ones(f.size, dtype=int) for _, f in sizes), np.where(n[rest] > 1, half, 2)]
    )
    batch = _magnus(parties, lo, hi, ns, budget)
    fine, pos = batch[:, :m], m
    for size, firsts in sizes:
        coarse = batch[:, pos : pos + firsts.size]
        pos += firsts.size
        members = firsts[:, None] + np.arange(size)[None, :]  # (G, size)
        diff = np.abs(coarse - _chain(fine[:, members])).max(axis=(0, 2, 3))
        h = b[members] - a[members]
        share = h**q / (h.sum(axis=1) ** q - (h**q).sum(axis=1))[:, None]
        est = np.zeros(m)
        np.maximum.at(est, members.ravel(), (diff[:, None] * share).ravel())
        err[members.ravel()] = est[members.ravel()]
        used[firsts] += 1
    if rest.size:
        other = batch[:, pos:]
        diff = np.abs(other - fine[:, rest]).max(axis=(0, 2, 3)) / (2**ORDER - 1)
        iso = n[rest] == 1  # isolated single substeps: the two-substep result is the finer
        fine[:, rest[iso]] = other[:, iso]
        n[rest[iso]] = 2
        used[rest] += np.where(iso, 2, half)
        err[rest] = diff
    tol = atol + rtol * np.abs(fine).max(axis=(0, 2, 3))
    todo = np.nonzero(err > tol)[0]
    prev, prev_n, prev_err = fine[:, todo], n[todo], err[todo]
    while todo.size:
        grow = np.ceil(prev_n * (prev_err / (0.5 * tol[todo])) ** (1 / ORDER))
        new_n = np.maximum(2 * prev_n, grow).astype(int)
        if new_n.max() > MAX_SUBSTEPS:
            i = todo[int(np.argmax(new_n))]
            raise RuntimeError(
                f"time-dependent term: no convergence to atol={atol:g}, rtol={rtol:g} on "
                f"[{a[i]!r}, {b[i]!r}] within {MAX_SUBSTEPS} substeps (is a coefficient "
                "discontinuous or too fast?)"
            )
        new = _magnus(parties, a[todo], b[todo], new_n, budget)
        r = (prev_n / new_n) ** ORDER
        e = np.abs(prev - new).max(axis=(0, 2, 3)) * r / (1 - r)
        fine[:, todo] = new
        used[todo] += new_n
        ok = e <= tol[todo]
        prev, prev_n, prev_err = new[:, ~ok], new_n[~ok], e[~ok]
        todo = todo[~ok]
    return fine, used


def _first_substeps(parties, a, b, budget):
    """Initial substep counts ``n0 = max(1, ceil(h ||L(mid)||_1))`` of every interval and
    the size of its error-estimate groups: 4 intervals where one step over the group is
    still short (``||L|| H <= 1/2``), else 2. The generators at the midpoints are built
    a budget's worth at a time."""
    m, P, D = a.size, len(parties), parties[0].base.shape[0]
    step = max(1, budget // (4 * 16 * P * D * D))
    n0 = np.empty(m, dtype=int)
    top = 0.0
    for c0 in range(0, m, step):
        c1 = min(m, c0 + step)
        mid = np.stack([p.generator(0.5 * (a[c0:c1] + b[c0:c1])) for p in parties])
        hn = (b[c0:c1] - a[c0:c1]) * np.abs(mid).sum(axis=2).max(axis=(0, 2))
        n0[c0:c1] = np.maximum(1, np.ceil(hn))
        top = max(top, float(hn.max()))
    return n0, (MAX_GROUP if top <= 0.125 else 2)


def _cuts(single: np.ndarray, group: int) -> np.ndarray:
    """``ok[c]`` (``c = 0 .. m``): a chunk may end before interval ``c`` without changing
    the error-estimate groups of :func:`_groups` (no group straddles ``c``): ``c`` is not
    inside a run of single-substep intervals, or lies a whole number of groups after the
    run's start with at least two intervals of the run left."""
    m = single.size
    c = np.arange(m + 1)
    inner = np.zeros(m + 1, dtype=bool)
    inner[1:m] = single[:-1] & single[1:]
    starts = np.where(single & np.r_[True, ~single[:-1]], np.arange(m), -1)
    run_start = np.maximum.accumulate(starts)  # start of the run holding interval i
    ends = np.where(single & np.r_[~single[1:], True], np.arange(m) + 1, m + 1)
    run_end = np.minimum.accumulate(ends[::-1])[::-1]  # end (exclusive) of that run
    cm = np.minimum(c, m - 1)
    aligned = ((c - run_start[cm]) % group == 0) & (run_end[cm] - c >= 2)
    return ~inner | aligned


def _prefix(P: np.ndarray) -> np.ndarray:
    """Cumulative products ``C_i = P_i P_{i-1} ... P_0`` over the leading axis, by
    recursive pairing (about ``2 m`` batched products in ``2 log2 m`` rounds)."""
    m = P.shape[0]
    if m == 1:
        return P.copy()
    even = m - m % 2
    Cq = _prefix(P[1:even:2] @ P[0:even:2])  # C_(2j+1)
    C = np.empty_like(P)
    C[0] = P[0]
    C[1::2] = Cq
    C[2::2] = P[2::2] @ Cq[: (m - 1) // 2]
    return C


def _batched_kron(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    m, p, q = A.shape[0], A.shape[1], B.shape[1]
    return np.einsum("iab,icd->iacbd", A, B).reshape(m, p * q, p * q)

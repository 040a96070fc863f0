r"""Integrators for stages with time-dependent local terms (private).

The terms arrive compiled (:class:`~eplt.dynamics._tdterms.TimeDependence`: constant
engine-layout pieces with coefficient weights, and the same generator as a qutip
QobjEvo). :func:`run_stage` integrates one stage, choosing by a cost model between:

* ``"magnus4"`` (local stages, small parties): each party's propagator over each output
  interval by the fourth-order Magnus expansion (one exponential per substep), the
  substeps of a chunk of intervals and of every party exponentiated in one batch; the
  chunk's size is set by bytes (:data:`BATCH_BYTES`), not by the number of output times,
  so the memory held does not grow with it (:func:`stage_memory`). Error control per
  output interval and party by Richardson step doubling (see :func:`_adaptive`),
  accepted when ``err <= atol + rtol * max|P|`` (largest entry of the error and of the
  propagator; the entries of a CPTP map's superoperator are at most 1); failing
  intervals get the substep count predicted from ``err ~ n^-4``. The joint state is the
  product of the local propagators, so its error is at most about the sum over parties.
  Every output interval takes at least one substep per party, so on a fine output grid
  the work does not fall below that floor however loose the tolerance.
* ``"qutip"`` (non-local stages, or parties too large for dense exponentials): one of
  qutip's own compiled integrators (``atol``/``rtol`` exactly as ``mesolve``'s options)
  on the joint QobjEvo Liouvillian, built once per stage: the stage's time-independent
  generator (sparse) plus each party's time-dependent part with qutip's coefficients.
  The integrator is driven directly on qutip's data layer (no ``Qobj`` or ``Result`` per
  output time); :func:`~eplt.dynamics._tdqutip.choose_ode_method` picks adams
  (mesolve's default) or Verner's 7th-order Runge-Kutta from the tolerance and the
  Liouvillian's nonzeros (:mod:`eplt.dynamics._tdqutip`).
* ``"dop853"`` (the same, for time-dependent parts given as plain callables): scipy's
  adaptive 8th-order Runge-Kutta on the matrix-free right-hand side ``L x`` (the
  time-independent part as a sparse joint matrix or local contractions, the
  time-dependent parts as local contractions), with ``atol``/``rtol`` on the entries of
  the state.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.integrate as si

from ._expm import expm_batched
from ._memory import available_memory, check_bytes
from ._tdqutip import qutip_stage
from ._tdterms import TimeDependence
from .superop import apply_consecutive, apply_local

__all__ = ["run_stage", "stage_memory"]

#: Gauss-Legendre nodes and commutator weight of the fourth-order Magnus scheme (:class:`_Party`).
_C1, _C2 = 0.5 - math.sqrt(3) / 6, 0.5 + math.sqrt(3) / 6
_K4 = math.sqrt(3) / 12
#: Order of the Magnus scheme (local error ``K h^(ORDER + 1)``).
ORDER = 4

#: Largest error-estimate group (output intervals compared against one substep over all
#: of them, see :func:`_adaptive`); a chunk may run this many intervals past its budget
#: to keep a group whole.
MAX_GROUP = 4

#: Largest number of Magnus substeps per output interval before giving up.
MAX_SUBSTEPS = 2**16

#: Bytes of work the Magnus path holds at once: the output grid is processed in chunks
#: of intervals whose substep exponentials and propagators fit this budget (see
#: :func:`_magnus_stage`), so the peak does not grow with the number of output times.
BATCH_BYTES = 2**23

#: Bytes of per-interval scalars the Magnus path keeps for the whole grid (the interval
#: bounds and output indices, initial substep counts, the chunk costs' sums, cut points
#: and masks; measured about 70).
GRID_BYTES = 96

#: Bytes a Magnus stage holds whatever its grid (the parties' pieces and commutator
#: bases, the generator's local parts, numpy's small temporaries): measured 120-130 KiB
#: for one to six qubits at the smallest budget.
STAGE_FIXED_BYTES = 2**18

#: Bytes of states DOP853 stores between restarts (``solve_ivp``'s outputs).
RK_OUTPUT_BYTES = 2**25

#: A grid whose whole work (:func:`_magnus_plan`) is below the budget runs with that
#: work as its budget (the estimate follows it), but with at least these bytes, for the
#: refinement of coarse intervals (the batches of :func:`_magnus` are split at the budget).
SHORT_GRID_BYTES = 2**20

#: Smallest budget (bytes) when memory is short (see :func:`run_stage`).
MIN_BATCH_BYTES = 2**16

#: Stacks of the generator's size alive at once per substep in a batch of exponentials
#: (the exponents, the truncated Taylor series' powers and blocks, the products around).
EXPM_STACKS = 12

#: Copies of an interval's propagators alive at once in a chunk (the error estimate's
#: coarse and chained copies, the cumulative products and their recursion).
PROP_COPIES = 6

#: The batch's peak is at most this many times its budget (the exponents, the truncated
#: Taylor series' powers and blocks: about nine stacks of at most budget / 8 each).
BATCH_PEAK = 1.25

#: Local states up to this many entries compute every output time of a stage at once
#: from cumulative propagators; larger ones step interval by interval. Measured (one BLAS
#: thread, 1000 intervals, qubits): batched over times with qubit pairs 3.3x faster than
#: stepping at 5 qubits, 1.4x at 6, 1.1x at 7.
BATCH_TIMES_MAX = 4**7

#: Bytes of states propagated together on the batched path (cache-sized: 2^20 was
#: 1.3-2x faster than 2^24 at 5-7 qubits).
CHUNK_BYTES = 2**20

#: Cost model (flops) for the choice between the batched Magnus scheme and an ODE solver
#: on ``L x``: one Magnus substep costs about ``MAGNUS_FLOPS * D^3`` per party (the
#: exponential of the ``D x D`` local generator, ``D = d^2``, and the products around it),
#: one ODE step about ``12`` right-hand sides of ``sum_k D_k * size`` flops plus
#: ``RK_OVERHEAD_FLOPS`` for the Python-level work of a call.
MAGNUS_FLOPS = 60
RK_OVERHEAD_FLOPS = 1e5

#: Where the batched Magnus scheme does not apply, use qutip's own compiled integrator
#: (``MESolver``, as mesolve) when every time-dependent part came from a QobjEvo; else (or
#: when False) scipy's DOP853 on the matrix-free right-hand side.
USE_QUTIP = True


# --------------------------------------------------------------------------- integrators
def run_stage(x, start, end, model, tlist, record, *, atol: float, rtol: float):
    """Propagate ``x`` through one stage with time-dependent local terms.

    Records the state at every ``tlist`` time in ``(start, end]`` and returns
    ``(state at end, info)``, ``info`` a JSON-able dict: the integrator chosen, why, and
    its work (Magnus substeps or Runge-Kutta right-hand sides).
    """
    gen = model.averaged_generator()  # time-independent part (every white process)
    dims = gen.dims
    td: dict[int, TimeDependence] = {}
    for k, part in model.time_dependent_parts():
        if not isinstance(part, TimeDependence):
            part = TimeDependence.from_callable(dims[k], part)
        td[k] = td[k] + part if k in td else part
    idx = np.nonzero((tlist > start) & (tlist <= end))[0]
    last = float(tlist[idx[-1]]) if idx.size else float(start)
    tail = [float(end)] if end > last else []
    bounds = np.concatenate([[float(start)], tlist[idx].astype(float), tail])
    size = int(np.prod([d * d for d in dims]))
    compiled = USE_QUTIP and all(
        t.timedep is None or getattr(t.timedep, "qutip_term", None) is not None for t in model.local
    )
    ode = "qutip" if compiled else "dop853"
    ode_name = "qutip's integrator (adams or vern7)" if compiled else "Runge-Kutta (DOP853) on L x"
    if not gen.is_local:
        integrator = ode
        reason = f"non-local stage (a white process couples parties): {ode_name}"
    else:
        magnus = MAGNUS_FLOPS * sum((dims[k] ** 2) ** 3 for k in td)
        rk = 12 * (sum(d * d for d in dims) * size + RK_OVERHEAD_FLOPS)
        if magnus <= rk:
            integrator = "magnus4"
            reason = (
                f"local stage: batched Magnus cost ~{magnus:.3g} flops/substep <= "
                f"Runge-Kutta ~{rk:.3g} flops/step"
            )
        else:
            integrator = ode
            reason = (
                f"local stage with large parties: {ode_name}, ~{rk:.3g} flops/step < "
                f"batched Magnus ~{magnus:.3g} flops/substep"
            )
    if bounds.size < 2:
        return x, {"integrator": integrator, "reason": reason}
    need = stage_memory(integrator, dims, bounds.size - 1, x.nbytes)
    budget = BATCH_BYTES
    if integrator == "magnus4":
        # the chunks' work takes what memory is left, within [MIN_BATCH_BYTES,
        # BATCH_BYTES] (smaller chunks: more, shorter numpy calls, the same propagators),
        # and is at most the whole grid's (a short grid is one chunk); the plan holds
        # per-interval scalars only (GRID_BYTES each, in ``need``)
        plan = _magnus_plan(bounds, gen.local_parts(), td)
        rest = need - BATCH_PEAK * BATCH_BYTES
        budget = min(BATCH_BYTES, max(MIN_BATCH_BYTES, (available_memory() - rest) / BATCH_PEAK))
        limited = budget < BATCH_BYTES
        budget = min(budget, max(float(plan[1][-1]), SHORT_GRID_BYTES))
        need = rest + BATCH_PEAK * budget
    check_bytes(
        need,
        f"the time-dependent stage ({integrator}, dims {list(dims)})",
        "use fewer or smaller parties, or fewer output times",
    )
    if integrator == "magnus4":
        x, work = _magnus_stage(
            x, bounds, gen.local_parts(), td, atol, rtol, idx, record, int(budget), plan
        )
        info = {"integrator": integrator, "reason": reason, "substeps": work}
        if limited:
            info["batch_bytes"] = int(budget)
    elif integrator == "qutip":
        x, method, why, nnz = qutip_stage(x, bounds, model, atol, rtol, idx, record)
        info = {"integrator": integrator, "reason": reason, "ode_method": method, "ode_reason": why}
        need += 24.0 * nnz  # the joint Liouvillian (CSR: a complex value and an index each)
    else:
        x, work = _rk_stage(x, bounds, gen, td, atol, rtol, idx, record)
        info = {"integrator": integrator, "reason": reason, "rhs_evaluations": work}
        if not gen.is_local:
            need += 24.0 * gen.to_sparse().nnz
    info["memory_bytes"] = float(need)
    return x, info


def stage_memory(integrator: str, dims, intervals: int, state_bytes: int) -> float:
    """Bytes a time-dependent stage allocates beyond its starting state (an upper
    estimate, checked before the stage runs; the qutip and non-local DOP853 paths add the
    joint Liouvillian's ``24 nnz`` once it is built).

    * ``"magnus4"``: one chunk of output intervals at a time (:func:`_magnus_stage`):
      its work (substep exponentials, the error estimate's copies and the interval and
      cumulative propagators, kron pairs) is at most :data:`BATCH_PEAK` times the budget
      :data:`BATCH_BYTES` (:func:`run_stage` lowers the budget, down to
      :data:`MIN_BATCH_BYTES`, when memory is short); beside it the states of one
      sub-chunk of output times (at most :data:`CHUNK_BYTES` of them, three copies) or,
      when stepping, three states; and ``GRID_BYTES`` per interval of per-interval
      scalars (substep counts, costs, cut points). It does not grow with the number of
      output times beyond those scalars;
    * ``"qutip"`` / ``"dop853"``: the integrator's workspace, 24 state vectors (Verner's
      ten stages, adams' Nordsieck history of order <= 12, DOP853's twelve stages and the
      copies around them), plus DOP853's chunk of stored outputs (:data:`RK_OUTPUT_BYTES`).

    Examples
    --------
    A 20-level party (a ``400``-entry state of 6400 bytes) on qutip's integrator:

    >>> stage_memory("qutip", (20,), 200, 6400)
    153600.0
    """
    m = int(intervals)
    if integrator != "magnus4":
        return 24.0 * state_bytes + (RK_OUTPUT_BYTES if integrator == "dop853" else 0.0)
    states = 3.0 * state_bytes
    if state_bytes // 16 <= BATCH_TIMES_MAX:
        # a sub-chunk of times: within CHUNK_BYTES, the chunk (the budget over the least
        # an interval costs, plus the intervals to the next cut) and the grid
        chunk = BATCH_BYTES // _interval_bytes(dims) + MAX_GROUP
        sub = min(max(1, CHUNK_BYTES // max(1, state_bytes)), m, int(chunk))
        states += 3.0 * sub * state_bytes
    return STAGE_FIXED_BYTES + BATCH_PEAK * BATCH_BYTES + states + GRID_BYTES * m


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


def _adaptive(parties, a, b, n0, atol, rtol, group=2, budget=None):
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
    budget = BATCH_BYTES if budget is None else budget
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


def _magnus_plan(bounds, base, td):
    """What the chunks of :func:`_magnus_stage` are cut from, before anything of the
    grid's size is exponentiated: ``(plans, csum, cuts)``. ``plans`` holds, per local
    dimension of the parties with time dependence, ``(parties' indices, _Party objects,
    initial substeps n0, error-group size)``; ``csum`` the cumulative bytes of work per
    interval (the larger of its exponentials' temporaries, ``EXPM_STACKS`` stacks per
    substep, and what it holds afterwards, :func:`_interval_bytes`: they do not coexist;
    :func:`_magnus` splits a batch above the budget, so one interval of many substeps
    holds at most the budget); ``cuts`` where a chunk may end."""
    a, b = bounds[:-1], bounds[1:]
    m = a.size
    held = _interval_bytes([math.isqrt(L.shape[0]) for L in base])
    expm = np.zeros(m)  # the exponentials' temporaries, before the propagators are held
    valid = np.ones(m + 1, dtype=bool)  # where a chunk may end (error groups kept whole)
    groups: dict[int, list[int]] = {}  # parties with time dependence, by local dimension
    for k in td:
        groups.setdefault(base[k].shape[0], []).append(k)
    plans = []
    for D, ks in groups.items():
        parties = [_Party(base[k], td[k]) for k in ks]
        n0, group = _first_substeps(parties, a, b, BATCH_BYTES)
        valid &= _cuts(n0 == 1, group)
        expm += (EXPM_STACKS * 16.0 * len(ks) * D * D) * n0
        plans.append((ks, parties, n0, group))
    csum = np.cumsum(np.maximum(expm, held))
    del expm
    return plans, csum, np.nonzero(valid)[0]


def _magnus_stage(x, bounds, base, td, atol, rtol, idx, record, budget=None, plan=None):
    """Local stage: the grid in chunks of output intervals, each chunk's bytes of work
    (see :func:`_magnus_plan`) within ``budget``; per chunk the interval propagators of
    every party, then the states at the chunk's output times from the state at its
    start. The peak does not grow with the number of output times. Returns ``(state at
    the end, substeps)``."""
    budget = BATCH_BYTES if budget is None else int(budget)
    a, b = bounds[:-1], bounds[1:]
    m = a.size
    batched = x.size <= BATCH_TIMES_MAX
    plans, csum, cuts = _magnus_plan(bounds, base, td) if plan is None else plan
    work, i0 = 0, 0
    while i0 < m:
        # as many intervals as fit the budget (at least up to the next valid cut)
        i1 = int(np.searchsorted(csum, (csum[i0 - 1] if i0 else 0.0) + budget, side="right"))
        j = int(np.searchsorted(cuts, i1, side="right")) - 1
        i1 = int(cuts[j]) if cuts[j] > i0 else int(cuts[np.searchsorted(cuts, i0, side="right")])
        props: list = [None] * len(base)
        for ks, parties, n0, group in plans:
            P, used = _adaptive(parties, a[i0:i1], b[i0:i1], n0[i0:i1], atol, rtol, group, budget)
            work += int(used.sum()) * len(ks)
            for j, k in enumerate(ks):
                props[k] = P[j]
        for k, Lk in enumerate(base):  # time-independent parties: exact exponentials
            if props[k] is None:
                props[k] = expm_batched(Lk[None] * (b[i0:i1] - a[i0:i1])[:, None, None])
        apply = _apply_batched if batched else _apply_stepping
        x = apply(x, props, idx[i0:i1], record)
        i0 = i1
    return x, work


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


def _interval_bytes(dims) -> float:
    """Bytes one output interval holds in a chunk, apart from its substep exponentials,
    for parties of local dimensions ``dims``: its propagators (``16 D_k^2`` each,
    ``D_k = d_k^2``) in :data:`PROP_COPIES` copies (the error estimate's copies, the
    cumulative products and their recursion) and the kron pairs of consecutive parties
    (``16 (D_k D_(k+1))^2``)."""
    sq = [(d * d) ** 2 for d in dims]  # D_k^2 entries per propagator
    pairs = sum(sq[k] * sq[k + 1] if k + 1 < len(sq) else sq[k] for k in range(0, len(sq), 2))
    return 16.0 * (PROP_COPIES * sum(sq) + pairs)


def _apply_batched(x, props, rec, record):
    """States at every output time of a chunk from the state ``x`` at its start:
    cumulative propagators, applied a sub-chunk of times (about :data:`CHUNK_BYTES` of
    states, cache-sized) at a time; consecutive small parties as one (the kron of their
    propagators): half the passes over the states. ``rec[j]``: the ``tlist`` index where
    interval ``j`` ends (intervals past ``rec`` are not recorded)."""
    by_dim: dict[int, list[int]] = {}
    for k, P in enumerate(props):
        by_dim.setdefault(P.shape[-1], []).append(k)
    cum: list = [None] * len(props)
    for ks in by_dim.values():  # the parties of one dimension in one recursion
        C = _prefix(np.stack([props[k] for k in ks], axis=1))
        for j, k in enumerate(ks):
            cum[k] = C[:, j]
    groups: list = []
    for k, C in enumerate(cum):
        if groups and len(groups[-1]) == 1 and C.shape[-1] * cum[k - 1].shape[-1] <= 64:
            groups[-1] = (k - 1, k)
        else:
            groups.append((k,))
    shape = [int(np.prod([x.shape[k] for k in g])) for g in groups]
    m = cum[0].shape[0]
    chunk = max(1, CHUNK_BYTES // max(1, x.nbytes))
    xg = x.reshape(shape)
    last = xg
    for c0 in range(0, m, chunk):
        c1 = min(m, c0 + chunk)
        X = np.broadcast_to(xg, (c1 - c0, *shape))
        for j, g in enumerate(groups):
            C = cum[g[0]][c0:c1]
            if len(g) == 2:
                C = _batched_kron(C, cum[g[1]][c0:c1])
            X = apply_local(X, j, C, batch=True)
        for j in range(c0, min(c1, rec.size)):
            record(int(rec[j]), X[j - c0].reshape(x.shape))
        last = X[-1]
    return np.array(last).reshape(x.shape)


def _apply_stepping(x, props, rec, record):
    """States at the output times of a chunk, interval after interval (large states):
    the kron pairs of consecutive parties' propagators, applied in turn."""
    pairs = [
        (k, _batched_kron(props[k], props[k + 1]) if k + 1 < len(props) else props[k])
        for k in range(0, len(props), 2)
    ]
    for j in range(props[0].shape[0]):
        for k, M in pairs:
            x = apply_consecutive(x, k, M[j])
        if j < rec.size:
            record(int(rec[j]), x)
    return x


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


def _rk_stage(x, bounds, gen, td, atol, rtol, idx, record):
    """DOP853 on the matrix-free right-hand side; records at the output times."""
    shape = x.shape
    if gen.is_local:
        base = [(k, L) for k, L in enumerate(gen.local_parts()) if np.any(L)]

        def static(y):
            out = np.zeros(shape, dtype=complex)
            for k, L in base:
                out += apply_local(y, k, L)
            return out
    else:
        L0 = gen.to_sparse().tocsr()

        def static(y):
            return (L0 @ y.reshape(-1)).reshape(shape)

    calls = [0]

    def rhs(t, v):
        calls[0] += 1
        y = v.reshape(shape)
        out = static(y)
        for k, part in td.items():
            out += apply_local(y, k, part.evaluate(t)[0])
        return out.reshape(-1)

    # the states at the output times are kept by solve_ivp: a chunk of outputs at a time
    # (bounded memory), each run continuing from the last state
    per = max(1, RK_OUTPUT_BYTES // (16 * x.size))
    y = x.reshape(-1).astype(complex)
    rec = {j: int(i) for j, i in enumerate(idx)}  # interval j ends at tlist[idx[j]]
    for c0 in range(0, bounds.size - 1, per):
        c1 = min(bounds.size - 1, c0 + per)
        # scipy refuses rtol below 100 machine epsilons (with a warning); atol carries the
        # accuracy there
        sol = si.solve_ivp(
            rhs,
            (bounds[c0], bounds[c1]),
            y,
            method="DOP853",
            t_eval=bounds[c0 + 1 : c1 + 1],
            rtol=max(rtol, 1e-13),
            atol=atol,
        )
        if sol.status != 0:
            raise RuntimeError(f"time-dependent stage: DOP853 failed ({sol.message})")
        for j in range(c0, c1):
            if j in rec:
                record(rec[j], sol.y[:, j - c0].reshape(shape))
        y = np.ascontiguousarray(sol.y[:, -1])
    return y.reshape(shape), calls[0]

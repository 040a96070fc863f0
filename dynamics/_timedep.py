r"""Integrators for stages with time-dependent local terms (private).

The terms arrive compiled (:class:`~eplt.dynamics._tdterms.TimeDependence`: constant
engine-layout pieces with coefficient weights, and the same generator as a qutip
QobjEvo). :func:`run_stage` integrates one stage, choosing by a cost model between:

* ``"magnus4"`` (local stages, small parties): each party's propagator over each output
  interval by the fourth-order Magnus expansion (one exponential per substep), the
  substeps of a chunk of intervals and of every party exponentiated in one batch; the
  chunk's size is set by bytes (:data:`BATCH_BYTES`), not by the number of output times,
  so the memory held does not grow with it (:func:`stage_memory`). Error control per
  output interval and party by Richardson step doubling (see
  :func:`~eplt.dynamics._magnus._adaptive`), accepted when
  ``err <= atol + rtol * max|P|`` (largest entry of the error and of the propagator;
  the entries of a CPTP map's superoperator are at most 1); failing
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
from ._magnus import (
    EXPM_STACKS,
    MAX_GROUP,
    _adaptive,
    _batched_kron,
    _cuts,
    _first_substeps,
    _Party,
    _prefix,
)
from ._memory import available_memory, check_bytes
from ._tdqutip import qutip_liouvillian, qutip_stage
from ._tdterms import TimeDependence
from .superop import apply_consecutive, apply_local

__all__ = ["run_stage", "stage_memory"]

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
#: refinement of coarse intervals (the batches of :func:`~eplt.dynamics._magnus._magnus` are split at the budget).
SHORT_GRID_BYTES = 2**20

#: Smallest budget (bytes) when memory is short (see :func:`run_stage`).
MIN_BATCH_BYTES = 2**16

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
def run_stage(x, start, end, model, tlist, record, *, atol: float, rtol: float, held: float = 0.0):
    """Propagate ``x`` through one stage with time-dependent local terms.

    Records the state at every ``tlist`` time in ``(start, end]`` and returns
    ``(state at end, info)``, ``info`` a JSON-able dict: the integrator chosen, why, and
    its work (Magnus substeps or Runge-Kutta right-hand sides). ``held``: bytes the caller
    already holds (observable buffer, stored states), checked together with the stage's.
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
        budget = min(
            BATCH_BYTES, max(MIN_BATCH_BYTES, (available_memory() - held - rest) / BATCH_PEAK)
        )
        limited = budget < BATCH_BYTES
        budget = min(budget, max(float(plan[1][-1]), SHORT_GRID_BYTES))
        need = rest + BATCH_PEAK * budget
    liouvillian = None
    if integrator == "qutip":
        # the joint Liouvillian (the size of the model's own terms) first: the integrator
        # holds it beside its workspace, both checked before integrating
        liouvillian = qutip_liouvillian(model, float(bounds[0]))
        # CSR: a complex value and an index each; the Liouvillian, its evaluation at the
        # start time and the scipy view counted while it is built (measured: N = 80
        # cavity, the build's peak was 2.4x the Liouvillian)
        need += 3 * 24.0 * liouvillian[1]
    elif integrator == "dop853" and not gen.is_local:
        need += 24.0 * gen.nnz_bound()
    check_bytes(
        need + held,
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
        x, method, why, _ = qutip_stage(x, bounds, model, atol, rtol, idx, record, liouvillian)
        info = {"integrator": integrator, "reason": reason, "ode_method": method, "ode_reason": why}
    else:
        x, work = _rk_stage(x, bounds, gen, td, atol, rtol, idx, record)
        info = {"integrator": integrator, "reason": reason, "rhs_evaluations": work}
    info["memory_bytes"] = float(need)
    return x, info


def stage_memory(integrator: str, dims, intervals: int, state_bytes: int) -> float:
    """Bytes a time-dependent stage allocates beyond its starting state (an upper
    estimate, checked before the stage runs; the qutip and non-local DOP853 paths add the
    joint Liouvillian's ``24 nnz``, counted before the integration starts).

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


def _magnus_plan(bounds, base, td):
    """What the chunks of :func:`_magnus_stage` are cut from, before anything of the
    grid's size is exponentiated: ``(plans, csum, cuts)``. ``plans`` holds, per local
    dimension of the parties with time dependence, ``(parties' indices, _Party objects,
    initial substeps n0, error-group size)``; ``csum`` the cumulative bytes of work per
    interval (the larger of its exponentials' temporaries, ``EXPM_STACKS`` stacks per
    substep, and what it holds afterwards, :func:`_interval_bytes`: they do not coexist;
    :func:`~eplt.dynamics._magnus._magnus` splits a batch above the budget, so one
    interval of many substeps holds at most the budget); ``cuts`` where a chunk may
    end."""
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

"""Memory of the batched Magnus path (time-dependent local stages): bounded chunks of
output intervals, an estimate that covers the peak, and the same numbers however the grid
is chunked.

Peaks are tracemalloc's (Python and numpy allocations), measured over the stage alone
(:func:`eplt.dynamics.exact.run_timedep_stage` wrapped), so the solver driver's observable
buffer, which is not this path's, stays outside. A memory bound is deterministic; nothing
here is timed.
"""

import itertools
import math
import tracemalloc

import numpy as np
import pytest
import qutip
from eplt.baths import Environment, lindblad, thermal_bath
from eplt.dynamics import _magnus as mg
from eplt.dynamics import _timedep as td
from eplt.dynamics import evolve
from eplt.dynamics import exact as ex


def _qubits(n: int, T: int, tlist=None):
    """B5 case (b): ``n`` qubits, each with a thermal bath (nbar 0.5, rate 1) and a drive
    ``0.5 sz + 0.4 cos(w_k t) sx`` (a different frequency on each qubit), from ``|+>^n``;
    observables ``sx`` of every qubit."""
    h0, h1 = 0.5 * qutip.sigmaz(), 0.4 * qutip.sigmax()
    terms, e_ops = [], []
    for k in range(n):
        w = 1.3 + 0.2 * k
        terms.append(lindblad(k, [h0, [h1, lambda s, w=w: np.cos(w * s)]]))
        terms.append(thermal_bath(k, qutip.Qobj(np.diag([0.0, 1.0])), nbar=0.5, rate=1.0))
        e_ops.append(qutip.tensor([qutip.sigmax() if j == k else qutip.qeye(2) for j in range(n)]))
    plus = (qutip.basis(2, 0) + qutip.basis(2, 1)).unit()
    rho0 = qutip.ket2dm(qutip.tensor([plus] * n))
    t = np.linspace(0, 5, T) if tlist is None else tlist
    return Environment((2,) * n, terms), rho0, t, e_ops


def _stage_peak(monkeypatch, env, rho0, t, e_ops):
    """``(result, stage info, tracemalloc peak of the time-dependent stage above what was
    allocated when it started)``."""
    seen = {}
    run = td.run_stage

    def wrapped(x, start, end, model, tlist, record, **kw):
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = run(x, start, end, model, tlist, record, **kw)
        seen["peak"] = tracemalloc.get_traced_memory()[1] - before
        return out

    monkeypatch.setattr(ex, "run_timedep_stage", wrapped)
    evolve(rho0, env, t[:3], e_ops=e_ops)  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        res = evolve(rho0, env, t, e_ops=e_ops)
    finally:
        tracemalloc.stop()
    (info,) = res.params["method"]["timedep"]
    assert info["integrator"] == "magnus4"
    return res, info, seen["peak"]


@pytest.mark.parametrize("n", [2, 3])
def test_stage_peak_does_not_grow_with_the_output_times(n, monkeypatch):
    """Ten times the output times (201 -> 2001): the stage's peak grows by the
    per-interval scalars only (at most ``GRID_BYTES`` plus the recorder's list entry, about
    100 bytes a time; the propagators, ``16 d^4`` bytes per party and time, several
    copies, were held for the whole grid before: 6.4 KiB a time for two qubits). A budget
    of 256 KiB makes both runs chunked; the estimate covers each peak and is not 10x above
    it."""
    monkeypatch.setattr(td, "BATCH_BYTES", 2**18)
    peaks = {}
    for T in (201, 2001):
        env, rho0, t, e_ops = _qubits(n, T)
        _, info, peaks[T] = _stage_peak(monkeypatch, env, rho0, t, e_ops)
        assert peaks[T] <= info["memory_bytes"] <= 10 * peaks[T], (T, peaks[T], info)
    growth = (peaks[2001] - peaks[201]) / 1800
    assert growth <= td.GRID_BYTES + 64, peaks


@pytest.mark.parametrize("stepping", [False, True])
def test_default_budget_estimate_covers_the_stage_and_the_run(stepping, monkeypatch):
    """At the default budget (both ways of applying the propagators to the state): the
    stage's estimate (``memory_bytes``) is at least its measured peak and at most 10x it,
    and the printed ``memory_estimate_bytes`` at least the whole run's peak."""
    if stepping:
        monkeypatch.setattr(td, "BATCH_TIMES_MAX", 0)
    env, rho0, t, e_ops = _qubits(3, 1001)
    _, info, peak = _stage_peak(monkeypatch, env, rho0, t, e_ops)
    assert peak <= info["memory_bytes"] <= 10 * peak, (peak, info)
    tracemalloc.start()
    try:
        res = evolve(rho0, env, t, e_ops=e_ops)
        total = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total <= res.params["method"]["memory_estimate_bytes"]


@pytest.mark.parametrize("stepping", [False, True])
def test_chunking_changes_no_number(stepping, monkeypatch):
    """The grid in many small chunks (a 64 KiB budget) or in one (1 GiB): the same
    substeps (chunks end only between error-estimate groups) and the same expectation
    values to rounding (1e-13; each chunk restarts the cumulative products from its first
    state). A seeded uneven grid mixes intervals of one substep with longer ones."""
    if stepping:
        monkeypatch.setattr(td, "BATCH_TIMES_MAX", 0)
    rng = np.random.default_rng(7)
    t = np.concatenate([[0.0], np.sort(rng.uniform(0, 6, 300))])
    t[150:160] = np.linspace(t[150], t[150] + 1.5, 10)  # a few long intervals
    t = np.unique(np.sort(t))
    env, rho0, t, e_ops = _qubits(2, 0, tlist=t)
    out = {}
    for budget in (2**16, 2**30):
        monkeypatch.setattr(td, "BATCH_BYTES", budget)
        res = evolve(rho0, env, t, e_ops=e_ops)
        out[budget] = (np.array(list(res.expect)), res.params["method"]["timedep"][0]["substeps"])
    assert out[2**16][1] == out[2**30][1]
    np.testing.assert_allclose(out[2**16][0], out[2**30][0], atol=1e-13, rtol=0)


def test_cuts_keep_every_error_estimate_group_whole():
    """Seeded random patterns of single-substep intervals: cutting the grid at any subset
    of the allowed cuts gives, chunk by chunk, exactly the groups of the whole grid."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        m = int(rng.integers(1, 40))
        single = rng.random(m) < rng.uniform(0.3, 1.0)
        g = int(rng.choice([2, 3, 4]))
        whole = sorted(mg._groups(single, g))
        ok = mg._cuts(single, g)
        assert ok[0] and ok[m]
        allowed = np.nonzero(ok)[0]
        chosen = sorted({0, m, *rng.choice(allowed, size=min(5, allowed.size)).tolist()})
        pieces = []
        for c0, c1 in itertools.pairwise(chosen):
            pieces += [(c0 + f, z) for f, z in mg._groups(single[c0:c1], g)]
        assert sorted(pieces) == whole, (single.astype(int), g, chosen)
        # and every cut the mask refuses splits a group
        for c in np.nonzero(~ok)[0]:
            assert any(f < c < f + z for f, z in whole), (single.astype(int), g, c)


def test_refinement_batches_stay_within_the_budget(monkeypatch):
    """A coarse grid (20 output times over ten drive periods, so intervals need several
    substeps and refinement) at a 64 KiB budget: the stage's peak stays within its
    estimate, and the numbers equal those of a single chunk to rounding."""
    env, rho0, _, e_ops = _qubits(2, 0)
    t = np.linspace(0, 10 * 2 * math.pi / 1.3, 20)
    monkeypatch.setattr(td, "BATCH_BYTES", 2**30)
    ref = np.array(list(evolve(rho0, env, t, e_ops=e_ops).expect))
    monkeypatch.setattr(td, "BATCH_BYTES", 2**16)
    res, info, peak = _stage_peak(monkeypatch, env, rho0, t, e_ops)
    assert info["substeps"] > 2 * 2 * (t.size - 1)  # more than one substep per interval
    assert peak <= info["memory_bytes"], (peak, info)
    np.testing.assert_allclose(np.array(list(res.expect)), ref, atol=1e-13, rtol=0)

"""The built-in solvers behind :mod:`eplt.dynamics.methods`, registered at import.

Each wraps the numerics of its module (:mod:`~eplt.dynamics.exact`,
:mod:`~eplt.dynamics.segment`, :mod:`~eplt.dynamics.sle`, :mod:`~eplt.dynamics.sampled`,
:mod:`~eplt.dynamics.permutation`) in the :class:`~eplt.dynamics.methods.Solver`
interface. The deterministic dense methods share one driver (:func:`_dense_run`): the
state in the paired layout, observables evaluated in bounded batches, one ``Result``.
Channels are lists of blocks ``(parties, matrix)`` (paired layout) composed stage by
stage in :func:`_stage_walk`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, replace

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from ._memory import check_bytes
from ._permcompile import symmetry_reason
from ._recorder import _held_bytes, _Recorder
from ._timeindep import joint_step_matrix, step_matrix
from .exact import Exact, _key, _run_exact
from .methods import Solver, Task, register_method, stage_windows
from .model import Model, Stage
from .observables import ObservableSet, default_e_ops
from .permutation import PermutationSymmetric, SymmetricState, _evolve_permutation, auto_reason
from .productsum import ProductOperatorSum, ProductSum, evolve_product_sum
from .result import Result, _ExpectList
from .sampled import Sampled, _sampled_driver
from .segment import (
    SegmentAveraged,
    _apply_channel,
    _run_segment,
    _segment_stage_channels,
    segment_count,
)
from .sle import StochasticLiouville, _run_sle, is_markovian
from .superop import to_paired

#: Largest joint superoperator a channel is built as (``D^2``, i.e. five qubits).
JOINT_MAX = 1024


# --------------------------------------------------------------------------- driver
def _merge_baths(baths):
    """Sum generators that share a label (e.g. two drives of one process on one party)."""
    out: dict[tuple[str, int], np.ndarray] = {}
    for lab, k, S in baths:
        # a label seen once keeps its matrix (no copy of a large local generator)
        out[(lab, k)] = S if (lab, k) not in out else out[(lab, k)] + S
    return [(lab, k, S) for (lab, k), S in out.items()]


def _dense_start(task: Task):
    """The checked joint state (paired layout), the observables and ``stage_of``."""
    if isinstance(task.rho0, SymmetricState):
        raise ValueError(
            "a SymmetricState input needs method='permutation' (or 'auto' on a "
            "permutation-symmetric model)"
        )
    rho0 = as_density_matrix(task.rho0, "rho0")
    dims = task.stages[0].model.dims
    if party_dims(rho0) != list(dims):
        raise ValueError(
            f"rho0 has local dimensions {party_dims(rho0)}, the protocol acts on {list(dims)}"
        )
    e_ops = task.e_ops
    if e_ops is None:
        e_ops = default_e_ops(dims, has_taus=task.taus is not None)
    obs = ObservableSet(
        e_ops,
        dims,
        taus=task.taus,
        hamiltonians=task.hamiltonians,
        baths=[_merge_baths(m.bath_generators()) for _, _, m in task.windows],
    )
    starts = np.array([w[0] for w in task.windows])

    def stage_of(t: float) -> int:
        """Stage active just before ``t`` (the stage that produced the state at t)."""
        return max(0, int(np.searchsorted(starts, t, side="left")) - 1)

    stage_of.starts = starts
    return to_paired(rho0), dims, obs, stage_of


def _result(task, method, expect, obs, *, stderr=None, states=None, info=None, **kw) -> Result:
    params = {
        "method": {"name": method.name, **asdict(method), **(info or {})},
        "stages": [{"duration": s.duration, "model": s.model.describe()} for s in task.stages],
        "dims": list(task.stages[0].model.dims),
    }
    # as qutip: e_ops given as a list (or one operator) -> Result.expect is a list of arrays
    as_list = isinstance(task.e_ops, (list, tuple, qutip.Qobj)) or callable(task.e_ops)
    return Result(
        times=task.tlist,
        expect=_ExpectList(expect) if as_list else expect,
        stderr=stderr or {},
        states=states,
        method=method.name,
        params=params,
        labels=obs.labels,
        **kw,
    )


def _dense_run(task: Task, method, step) -> Result:
    """Run a deterministic method: ``step(x0, windows, tlist, record, held) -> info`` calls
    ``record(i, x)`` (or ``record.block(ids, X)``) with the averaged state at every output
    time after the first (:class:`_Recorder`)."""
    x0, dims, obs, stage_of = _dense_start(task)
    held = _held_bytes(task, x0)
    record = _Recorder(task, x0, obs, stage_of, dims)
    record.block([0], x0[None])
    info = step(x0, task.windows, task.tlist, record, held) or {}
    expect = record.expect()
    return _result(task, method, expect, obs, states=record.states, info=info)


# --------------------------------------------------------------------------- channels
# A channel is a list of blocks (parties, matrix): the matrix acts, in the paired layout,
# on the kron of those parties (in the listed order); blocks act on disjoint parties.
def _identity_blocks(dims) -> list:
    return [((k,), np.eye(d * d, dtype=complex)) for k, d in enumerate(dims)]


def joint_matrix(blocks, dims) -> np.ndarray:
    """The blocks as one paired ``D^2 x D^2`` matrix."""
    sizes = [d * d for d in dims]
    N = math.prod(sizes)
    if len(blocks) == 1 and blocks[0][0] == tuple(range(len(dims))):
        return blocks[0][1]
    x = np.eye(N, dtype=complex).reshape(*sizes, N)
    return _apply_channel(blocks, x).reshape(N, N)


def _is_identity(blocks) -> bool:
    return all(np.array_equal(A, np.eye(A.shape[0])) for _, A in blocks)


def _compose(first, then, dims) -> list:
    """``then o first``."""
    if _is_identity(first):  # the first stage from the identity: nothing to multiply
        return then
    if _is_identity(then):
        return first
    if [p for p, _ in first] == [p for p, _ in then]:
        return [(p, B @ A) for (p, A), (_, B) in zip(first, then)]
    return [(tuple(range(len(dims))), joint_matrix(then, dims) @ joint_matrix(first, dims))]


def check_joint_size(dims) -> None:
    N = math.prod(d * d for d in dims)
    if N > JOINT_MAX:
        raise ValueError(
            f"the joint superoperator on dims {list(dims)} has size {N} > {JOINT_MAX}; "
            "use marginal_channels (or propagator(..., marginals=True)) for many parties"
        )


def _stage_walk(stages: Sequence[Stage], t: float, stage_channel) -> list:
    """``E_t``: ``stage_channel(model, dt, start)`` of each stage, composed from 0 to ``t``."""
    dims = stages[0].model.dims
    out = _identity_blocks(dims)
    for start, end, model in stage_windows(stages, 0.0, t):
        dt = end - start
        if dt <= 0:
            step = _identity_blocks(dims)
        else:
            step = stage_channel(model, dt, start)
        out = _compose(out, step, dims)
    return out


def _exact_stage(model: Model, dt: float, cache: dict | None) -> list:
    """One stage's ``exp(L_avg dt)``; ``cache`` keeps averaged generators by model id."""
    dims = model.dims
    if model.is_time_dependent:
        # the blocks below come from the time-independent averaged generator; a QuTiP
        # time-dependent term would be silently dropped
        raise ValueError(
            "propagator/marginal_channels do not handle time-dependent local terms "
            "(lindblad with a QobjEvo or [H0, [H1, f]]); evolve integrates them"
        )
    if cache is None:
        gen = model.averaged_generator()
    else:
        gen = cache.get(id(model))
        if gen is None:
            gen = cache[id(model)] = model.averaged_generator()
    sizes = [d * d for d in dims]
    if gen.is_local:
        check_bytes(
            sum(12.0 * m * m * 16 for m in sizes),
            f"the local channels of dims {list(dims)}",
            "use smaller parties",
        )
        return [((k,), step_matrix(L, dt)) for k, L in enumerate(gen.local_parts())]
    check_joint_size(dims)
    # block by block over the sparse Liouvillian's connected components (symmetry
    # sectors); a stationary projector where the slowest decay has run out
    return [(tuple(range(len(dims))), joint_step_matrix(gen, dt))]


# --------------------------------------------------------------------------- solvers
def _all_white(task: Task) -> bool:
    return all(s.model.is_white for s in task.stages)


class ExactSolver(Solver):
    """White processes: the exact averaged Lindbladian (:mod:`eplt.dynamics.exact`)."""

    name = "exact"
    options = Exact
    time_dependent = True
    has_channel = True
    auto_rank = 10

    def auto_reason(self, task):
        if _all_white(task):
            return "auto: every process is white, so the averaged generator is an exact Lindbladian"
        return None

    def run(self, method, task):
        def step(x0, windows, tlist, record, held):
            paths, timedep = [], []
            _run_exact(
                x0,
                windows,
                tlist,
                record,
                method.atol,
                rtol=method.rtol,
                info=paths,
                timedep_info=timedep,
                held=held,
            )
            info = {"timedep": timedep} if timedep else {}
            if paths:
                # how each time-independent stage was propagated, and why (cost model);
                # the memory estimate covers the largest stage and what is held beside it
                info["paths"] = paths
                info["memory_estimate_bytes"] = float(held + max(p["memory_bytes"] for p in paths))
            if timedep:
                # time-dependent stages: their own estimate (_timedep.stage_memory) beside
                # the rest
                td_bytes = held + max(s.get("memory_bytes", 0.0) for s in timedep)
                est = info.get("memory_estimate_bytes", 0.0)
                info["memory_estimate_bytes"] = float(max(est, td_bytes))
            return info

        return _dense_run(task, method, step)

    def channel(self, method, stages, t, cache=None):
        return _stage_walk(stages, t, lambda m, dt, start: _exact_stage(m, dt, cache))


def _segment_possible(model: Model) -> bool:
    segs = {src.process.segment for src in model.sources if not src.process.white}
    return len(segs) <= 1


class SegmentSolver(Solver):
    """i.i.d. pulses: the averaged one-segment channel (:mod:`eplt.dynamics.segment`)."""

    name = "segment"
    options = SegmentAveraged
    has_channel = True
    auto_rank = 20

    def auto_reason(self, task):
        models = [s.model for s in task.stages]
        if all(
            all(src.process.white or src.process.segment is not None for src in m.sources)
            for m in models
        ) and all(_segment_possible(m) for m in models):
            return "auto: the processes that are not white are i.i.d. pulses of one segment length"
        return None

    def run(self, method, task):
        def step(x0, windows, tlist, record, held):
            _run_segment(x0, windows, tlist, record, method, held=held)
            return {}

        return _dense_run(task, method, step)

    def channel(self, method, stages, t, cache=None):
        def stage(model, dt, start):
            if model.is_time_dependent:
                return _exact_stage(model, dt, cache)  # refuses time-dependent terms
            tau, channel = _segment_stage_channels(model, method)
            if tau is None:
                return _exact_stage(model, dt, cache)
            # the segments evolve steps, on the same absolute times (segment_count, one
            # edge rule): J whole ones, then the last one up to the stage end
            end = start + dt
            J = segment_count(start, end, tau)
            rest = end - (start + J * tau)
            if _key(rest) == _key(tau):  # the same (cached) channel as a whole segment
                J, rest = J + 1, 0.0
            full = [(p, np.linalg.matrix_power(A, J)) for p, A in channel(tau)]
            return _compose(full, channel(rest), model.dims) if rest > 0 else full

        return _stage_walk(stages, t, stage)


class SLESolver(Solver):
    """Markovian signals: the stochastic Liouville equation (:mod:`eplt.dynamics.sle`)."""

    name = "sle"
    options = StochasticLiouville
    auto_rank = 30

    def auto_reason(self, task):
        if task.ntraj is None and all(is_markovian(s.model) for s in task.stages):
            return "auto: the processes that are not white are Markovian and ntraj was not given"
        return None

    has_channel = True

    def run(self, method, task):
        return _dense_run(
            task, method, lambda x0, w, tl, rec, held: _run_sle(x0, w, tl, rec, method)
        )

    def channel(self, method, stages, t, cache=None):
        """The averaged map is linear in the input: its columns are the averaged evolutions
        of the ``D^2`` paired basis elements, each run as :meth:`run` runs a state (a
        hierarchy's depth converged to ``method.tol`` per column)."""
        dims = stages[0].model.dims
        sizes = [d * d for d in dims]
        N = math.prod(sizes)
        if t <= 0:
            return _identity_blocks(dims)
        check_joint_size(dims)
        windows = stage_windows(stages, 0.0, t)
        tl = np.array([0.0, t])
        M = np.empty((N, N), dtype=complex)
        for k in range(N):
            x0 = np.zeros(N, dtype=complex)
            x0[k] = 1.0
            out = {}
            _run_sle(x0.reshape(sizes), windows, tl, out.__setitem__, method)
            M[:, k] = out[1].reshape(-1)
        return [(tuple(range(len(dims))), M)]


class SampledSolver(Solver):
    """Any process: an ensemble of realizations (:mod:`eplt.dynamics.sampled`)."""

    name = "sampled"
    options = Sampled
    takes_ntraj = True
    auto_rank = 40

    def default(self, ntraj=None):
        return Sampled(ntraj=ntraj or 1000)

    def with_ntraj(self, method, ntraj):
        return method if ntraj == method.ntraj else replace(method, ntraj=ntraj)

    def auto_reason(self, task):
        return (
            "auto: some process is neither white, i.i.d. pulses nor Markovian, or ntraj was given"
        )

    def run(self, method, task):
        x0, dims, obs, stage_of = _dense_start(task)
        _held_bytes(task, x0)
        seed = task.seed
        seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else seed
        expect, stderr, states = _sampled_driver(
            x0,
            task.windows,
            task.tlist,
            method,
            seed,
            obs,
            dims,
            task.store_states,
            task.executor,
            stage_of,
        )
        return _result(
            task,
            method,
            expect,
            obs,
            stderr=stderr,
            states=states,
            seed=int(seed) if isinstance(seed, (int, np.integer)) else None,
            ntraj=method.ntraj,
        )


class PermutationSolver(Solver):
    """Identical qubits, symmetric white models: the symmetric space
    (:mod:`eplt.dynamics.permutation`)."""

    name = "permutation"
    options = PermutationSymmetric
    stores_states = False
    auto_rank = 0

    def auto_reason(self, task):
        if task.rho0 is None or task.ntraj is not None:
            return None
        return auto_reason(task.rho0, list(task.stages), task.e_ops, task.store_states)

    has_channel = True

    def channel(self, method, stages, t, cache=None):
        """The model's averaged channel: the permutation method solves the same averaged
        Lindbladian as the exact method (on the symmetric space), so its channel is the
        exact one, for the models it runs (white processes, permutation symmetric);
        blocks per party for a local generator (any number of qubits), one joint matrix
        up to :data:`JOINT_MAX` otherwise."""
        if not all(s.model.is_white for s in stages):
            raise ValueError("method 'permutation' needs every process white (exact method)")
        reason = symmetry_reason(stages)
        if reason is not None:
            raise ValueError(f"method 'permutation' needs a permutation-symmetric model: {reason}")
        return _stage_walk(stages, t, lambda m, dt, start: _exact_stage(m, dt, cache))

    def run(self, method, task):
        # the reason is filled in by the dispatch (Result.params["method"]["reason"])
        return _evolve_permutation(
            task.rho0,
            list(task.stages),
            list(task.windows),
            task.tlist,
            task.e_ops,
            method,
            task.taus,
            task.hamiltonians,
            None,
        )


class _Stages:
    """The task's stages as a protocol (``stages()``), for routes that take one."""

    def __init__(self, stages):
        self._stages = list(stages)

    def stages(self):
        return list(self._stages)


class ProductSumSolver(Solver):
    """n qubits under mixtures of commuting product channels, the state a short sum of
    products: :func:`eplt.dynamics.productsum.evolve_product_sum` (O(terms x n) per time)."""

    name = "product_sum"
    options = ProductSum
    stores_states = False
    auto_rank = -1

    def auto_reason(self, task):
        if isinstance(task.rho0, ProductOperatorSum):
            return "auto: rho0 is a ProductOperatorSum, which only the product-sum route runs"
        return None

    def run(self, method, task):
        if not isinstance(task.rho0, ProductOperatorSum):
            raise TypeError(
                "method 'product_sum' needs rho0 as an eplt.dynamics.productsum."
                f"ProductOperatorSum, got {type(task.rho0).__name__}"
            )
        if task.ntraj is not None or task.seed is not None:
            raise ValueError("method 'product_sum' is exact: it takes no ntraj or seed")
        return evolve_product_sum(
            task.rho0,
            _Stages(task.stages),
            task.tlist,
            e_ops=task.e_ops,
            taus=task.taus,
            hamiltonians=task.hamiltonians,
        )


for _solver in (
    ProductSumSolver(),
    PermutationSolver(),
    ExactSolver(),
    SegmentSolver(),
    SLESolver(),
    SampledSolver(),
):
    register_method(_solver)

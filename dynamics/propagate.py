r"""Propagation: one entry point, :func:`evolve`, dispatching to three ways to average.

* :class:`~eplt.dynamics.exact.Exact` — white processes (Brownian noise, Poisson clocks)
  average to a Lindbladian on the joint system, solved exactly
  (:mod:`eplt.dynamics.exact`).
* :class:`~eplt.dynamics.segment.SegmentAveraged` — i.i.d. piecewise-constant pulses: the
  average channel of one segment is computed once and applied segment after segment
  (:mod:`eplt.dynamics.segment`).
* :class:`~eplt.dynamics.sle.StochasticLiouville` — Markovian signals (random telegraph,
  finite chains, Ornstein-Uhlenbeck, deterministic signals) averaged exactly through
  the stochastic Liouville equation (:mod:`eplt.dynamics.sle`).
* :class:`~eplt.dynamics.sampled.Sampled` — any process: ``ntraj`` realizations, each a tensor
  product of local propagators, averaged with jackknife standard errors
  (:mod:`eplt.dynamics.sampled`).
* :class:`~eplt.dynamics.permutation.PermutationSymmetric` — white processes on n identical
  qubits with permutation-symmetric terms, on the ``binom(n + 3, 3)``-dimensional symmetric
  space (:mod:`eplt.dynamics.permutation`); inputs may be
  :class:`~eplt.dynamics.permutation.SymmetricState` objects.

Time convention: ``rho0`` is the state at ``tlist[0]``, where the protocol's first stage
starts.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict

import numpy as np
import qutip

from ._checks import as_density_matrix, party_dims
from ._memory import check_bytes
from .exact import Exact, _run_exact
from .model import _TIMEDEP_EXACT_ONLY, Model, Stage, stages_of
from .observables import ObservableSet, default_e_ops
from .permutation import PermutationSymmetric, SymmetricState, _evolve_permutation, auto_reason
from .result import Result, _ExpectList
from .sampled import Sampled, _sampled_driver, realization_seed
from .segment import SegmentAveraged, _run_segment
from .sle import StochasticLiouville, _run_sle, is_markovian
from .superop import from_paired, to_paired

__all__ = [
    "Exact",
    "PermutationSymmetric",
    "Sampled",
    "SegmentAveraged",
    "StochasticLiouville",
    "evolve",
    "realization_seed",
]

#: BLAS threads while :func:`evolve` runs (``None``: leave the BLAS setting alone). The
#: solvers work with many small matrices (local d^2 x d^2 maps, batched), for which
#: threaded BLAS only adds synchronisation: on the 2-core test machine a 1024 x 1024
#: ``eigvalsh`` took 3.5 s with 2 OpenBLAS threads and 0.2 s with one.
BLAS_THREADS: int | None = 1


#: Memory (bytes) of the block of states awaiting observable evaluation. Small enough to
#: be reused between flushes: a fresh 50 MB block cost 130 ms in page faults per call
#: (seven qubits, 201 times) against 8 ms for the copies themselves.
OBS_BUFFER_BYTES = 2**23


_METHODS = {
    "exact": Exact,
    "segment": SegmentAveraged,
    "sle": StochasticLiouville,
    "sampled": Sampled,
    "permutation": PermutationSymmetric,
}


def _check_tlist(tlist) -> np.ndarray:
    t = np.asarray(tlist, dtype=float)
    if t.ndim != 1 or t.size < 1:
        raise ValueError("tlist must be a non-empty 1-D array of times")
    if not np.all(np.isfinite(t)):
        raise ValueError("tlist must contain finite times")
    if np.any(np.diff(t) <= 0):
        raise ValueError("tlist must be strictly increasing")
    return t


def _stage_windows(
    stages: Sequence[Stage], t0: float, t_end: float
) -> list[tuple[float, float, Model]]:
    """(start, end, model) of each stage, clipped to [t0, t_end]."""
    out, start = [], t0
    for st in stages:
        end = min(start + st.duration, t_end)
        if end > start or not out:
            out.append((start, max(end, start), st.model))
        start = start + st.duration
        if start >= t_end:
            break
    return out


def _resolve_method(method, stages: Sequence[Stage], ntraj):
    method = _pick_method(method, stages, ntraj)
    if not isinstance(method, Exact) and any(s.model.is_time_dependent for s in stages):
        raise ValueError(_TIMEDEP_EXACT_ONLY + f" (method is {method.name!r})")
    return method


def _pick_method(method, stages: Sequence[Stage], ntraj):
    auto = isinstance(method, str) and method == "auto"
    if isinstance(method, str):
        if method == "auto":
            models = [s.model for s in stages]
            if all(m.is_white for m in models):
                method = Exact()
            elif all(
                all(src.process.white or src.process.segment is not None for src in m.sources)
                for m in models
            ) and all(_segment_possible(m) for m in models):
                method = SegmentAveraged()
            elif ntraj is None and all(is_markovian(m) for m in models):
                method = StochasticLiouville()
            else:
                method = Sampled(ntraj=ntraj or 1000)
        elif method in _METHODS:
            method = _METHODS[method]() if method != "sampled" else Sampled(ntraj=ntraj or 1000)
        else:
            raise ValueError(
                "method must be one of 'auto', 'exact', 'segment', 'sle', 'sampled', "
                f"'permutation' or a method object, got {method!r}"
            )
    elif not isinstance(
        method, (Exact, SegmentAveraged, StochasticLiouville, Sampled, PermutationSymmetric)
    ):
        raise TypeError(
            "method must be a name or Exact/SegmentAveraged/StochasticLiouville/Sampled/"
            "PermutationSymmetric, "
            f"got {type(method).__name__}"
        )
    if ntraj is not None:
        if auto and not isinstance(method, Sampled):
            # method="auto" chose a deterministic method: ntraj does not apply. Ignored
            # (and recorded in Result.params["ignored"]) so that swapping a coloured
            # process for a white one does not break a script.
            return method
        if not isinstance(method, Sampled):
            raise ValueError(f"ntraj applies to method='sampled' only (method is {method.name!r})")
        if ntraj != method.ntraj:
            method = Sampled(
                ntraj=ntraj, dt=method.dt, groups=method.groups, batch_size=method.batch_size
            )
    return method


def _permutation_route(rho0, stages, e_ops, method, ntraj, store_states):
    """``(PermutationSymmetric, reason)`` when evolve runs on the symmetric space, else None."""
    if isinstance(method, str) and method == "auto":
        reason = None if ntraj is not None else auto_reason(rho0, stages, e_ops, store_states)
        method = PermutationSymmetric() if reason is not None else method
    elif isinstance(method, str) and method == "permutation":
        method, reason = PermutationSymmetric(), "method='permutation' given"
    else:
        reason = "method object given"
    if not isinstance(method, PermutationSymmetric):
        if isinstance(rho0, SymmetricState):
            raise ValueError(
                "a SymmetricState input needs method='permutation' (or 'auto' on a "
                f"permutation-symmetric model); method is {method!r}"
            )
        return None
    if ntraj is not None:
        raise ValueError("ntraj applies to method='sampled' only (method is 'permutation')")
    if store_states:
        raise ValueError("method 'permutation' does not store joint states (store_states=False)")
    return method, reason


#: What ``method="auto"`` chose, and why (recorded as ``Result.params["method"]["reason"]``).
_AUTO_REASONS = {
    "exact": "auto: every process is white, so the averaged generator is an exact Lindbladian",
    "segment": "auto: the processes that are not white are i.i.d. pulses of one segment length",
    "sle": "auto: the processes that are not white are Markovian and ntraj was not given",
    "sampled": "auto: some process is neither white, i.i.d. pulses nor Markovian, or ntraj "
    "was given",
}


def _segment_possible(model: Model) -> bool:
    segs = {src.process.segment for src in model.sources if not src.process.white}
    return len(segs) <= 1


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, scanned once per process.

    ``threadpool_limits`` rescans ``/proc/self/maps`` on every call (~1 ms); studies
    call :func:`evolve` hundreds of times, which made that scan half their run time.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _merge_baths(baths):
    """Sum generators that share a label (e.g. two drives of one process on one party)."""
    out: dict[tuple[str, int], np.ndarray] = {}
    for lab, k, S in baths:
        # a label seen once keeps its matrix (no copy of a large local generator)
        out[(lab, k)] = S if (lab, k) not in out else out[(lab, k)] + S
    return [(lab, k, S) for (lab, k), S in out.items()]


def evolve(
    rho0: qutip.Qobj,
    protocol,
    tlist,
    *,
    e_ops=None,
    method="auto",
    seed=None,
    ntraj: int | None = None,
    taus=None,
    hamiltonians=None,
    store_states: bool = False,
    executor=None,
) -> Result:
    r"""Evolve ``rho0`` under a (possibly staged) protocol and track observables.

    Parameters
    ----------
    rho0 : Qobj or SymmetricState
        Initial joint state (ket or density matrix) at ``tlist[0]``; dims ``[[d_0, ...], ...]``;
        or a :class:`~eplt.dynamics.permutation.SymmetricState` of n qubits (method
        ``permutation``).
    protocol : Model, or an object with ``stages()`` (e.g. :class:`eplt.baths.Environment`,
        :class:`eplt.baths.Protocol`)
        The dynamics; stages are run back to back from ``tlist[0]``.
    tlist : array_like
        Strictly increasing output times.
    e_ops : sequence or mapping, optional
        Observables (see :mod:`eplt.dynamics.observables`), as in :func:`qutip.mesolve`: a list
        of Qobj (``Tr(O rho)``; complex for non-Hermitian ``O``), callables ``f(t, state)``
        or ``f(rho)``, and builtin names, or a dict ``name -> spec``. Results are keyed by
        name (Qobj and callables in a list: ``"e0"``, ``"e1"``, ...) and by position,
        ``result.expect[i]``; when ``e_ops`` is a list (or one operator),
        ``result.expect`` is, as qutip's, a list of arrays in that order (iterating gives
        the arrays; names still work). Default: negativity, overlap with Phi+ or GHZ
        fidelity, marginal distances (when thermal states are known), purity.
    method : {"auto", "exact", "segment", "sle", "sampled", "permutation"} or a method object
        (Exact / SegmentAveraged / StochasticLiouville / Sampled / PermutationSymmetric).
        ``auto`` picks ``permutation`` when every process is white, the model is permutation
        symmetric, the input is a SymmetricState or a permutation-invariant state of at least
        :data:`~eplt.dynamics.permutation.AUTO_MIN_QUBITS` qubits and the observables are
        among :data:`~eplt.dynamics.permutation.OBSERVABLES` (the reason is recorded in
        ``result.params["method"]["reason"]``); else ``exact``
        when every process is white, ``segment`` when the others are i.i.d. pulses,
        ``sle`` when they are Markovian (telegraph, chains, Ornstein-Uhlenbeck, fixed
        signals) and ``ntraj`` is not given, else ``sampled``.
    seed : int or SeedSequence, optional
        Root seed of the sampled method; realization ``m`` uses :func:`realization_seed`.
    ntraj : int, optional
        Shortcut for ``Sampled(ntraj=...)``. With ``method="auto"`` choosing a
        deterministic method (every process white or i.i.d. pulses) it does not apply and
        is ignored, recorded as ``result.params["ignored"]``; with an explicit
        ``"exact"``/``"segment"`` it is an error.
    taus, hamiltonians : sequence of Qobj, optional
        Per-party thermal states and Hamiltonians; default from the protocol.
    store_states : bool
        Keep the (averaged) joint states at every time in ``result.states`` (the last one
        is ``result.final_state``).
    executor : concurrent.futures.Executor-like, optional
        Sampled method only: jackknife blocks of realizations are mapped over it
        (``executor.map``), e.g. a ``ProcessPoolExecutor`` or a dask
        ``Client.get_executor()``. Results are bit-identical to the serial run.

    Returns
    -------
    Result
        ``expect`` keyed by observable, ``stderr`` for the sampled method (jackknife over
        blocks of realizations), ``states`` when asked.

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> from eplt.dynamics.model import Model
    >>> res = evolve(phi_plus(), Model((2, 2)), [0.0, 1.0], e_ops=["negativity"])
    >>> round(float(res.expect["negativity"][-1]), 12)
    0.5

    A QuTiP model, with QuTiP's e_ops (results by position; complex for non-Hermitian):

    >>> import qutip
    >>> from baths import Environment, lindblad
    >>> env = Environment((2,), [lindblad(0, 0.5 * qutip.sigmaz(), [0.3 * qutip.destroy(2)])])
    >>> plus = (qutip.basis(2, 0) + qutip.basis(2, 1)).unit()
    >>> res = evolve(plus, env, [0.0, 1.0], e_ops=[qutip.sigmax(), qutip.destroy(2)])
    >>> res.expect[1].dtype, res.expect.keys(), len(res.expect)
    (dtype('complex128'), ['e0', 'e1'], 2)
    """
    limit = nullcontext() if BLAS_THREADS is None else _blas_controller().limit(limits=BLAS_THREADS)
    with limit:
        return _evolve(
            rho0,
            protocol,
            tlist,
            e_ops,
            method,
            seed,
            ntraj,
            taus,
            hamiltonians,
            store_states,
            executor,
        )


def _evolve(
    rho0, protocol, tlist, e_ops, method, seed, ntraj, taus, hamiltonians, store_states, executor
):
    tlist = _check_tlist(tlist)
    stages = stages_of(protocol)
    dims = stages[0].model.dims
    perm = _permutation_route(rho0, stages, e_ops, method, ntraj, store_states)
    if perm is not None:  # the symmetric space (eplt.dynamics.permutation)
        if taus is None:
            taus = next((s.model.taus for s in stages if s.model.taus is not None), None)
        if hamiltonians is None:
            hamiltonians = next(
                (s.model.hamiltonians for s in stages if s.model.hamiltonians is not None), None
            )
        windows = _stage_windows(stages, tlist[0], tlist[-1])
        return _evolve_permutation(
            rho0, stages, windows, tlist, e_ops, perm[0], taus, hamiltonians, perm[1]
        )
    rho0 = as_density_matrix(rho0, "rho0")
    if party_dims(rho0) != list(dims):
        raise ValueError(
            f"rho0 has local dimensions {party_dims(rho0)}, the protocol acts on {list(dims)}"
        )
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise TypeError(f"seed must be an int or numpy SeedSequence, got {type(seed).__name__}")
    if isinstance(seed, (int, np.integer)) and (isinstance(seed, bool) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or numpy SeedSequence, got {seed!r}")
    if ntraj is not None and (not isinstance(ntraj, (int, np.integer)) or ntraj < 1):
        raise ValueError(f"ntraj must be an integer >= 1, got {ntraj!r}")
    auto = isinstance(method, str) and method == "auto"
    method = _resolve_method(method, stages, ntraj)
    if taus is None:
        taus = next((s.model.taus for s in stages if s.model.taus is not None), None)
    if hamiltonians is None:
        hamiltonians = next(
            (s.model.hamiltonians for s in stages if s.model.hamiltonians is not None), None
        )
    # as qutip: e_ops given as a list (or one operator) -> Result.expect is a list of arrays
    expect_as_list = isinstance(e_ops, (list, tuple, qutip.Qobj)) or callable(e_ops)
    if e_ops is None:
        e_ops = default_e_ops(dims, has_taus=taus is not None)
    windows = _stage_windows(stages, tlist[0], tlist[-1])
    obs = ObservableSet(
        e_ops,
        dims,
        taus=taus,
        hamiltonians=hamiltonians,
        baths=[_merge_baths(m.bath_generators()) for _, _, m in windows],
    )
    starts = np.array([w[0] for w in windows])

    def stage_of(t: float) -> int:
        """Stage active just before ``t`` (the stage that produced the state at t)."""
        return max(0, int(np.searchsorted(starts, t, side="left")) - 1)

    x0 = to_paired(rho0)
    T = tlist.size
    timedep_info: list = []  # what the time-dependent stages' integrators chose
    # What is held beside the solver's own workspace (checked by each stage before it
    # allocates): the observable buffer and, when asked, every stored state (a dense Qobj
    # of the state's size each). Refused here, before anything of that size exists.
    held = min(T, max(1, OBS_BUFFER_BYTES // x0.nbytes)) * x0.nbytes
    held += T * x0.nbytes if store_states else 0
    held += 2**21  # bookkeeping measured at small sizes (observables, Qobj wrappers)
    check_bytes(
        held,
        f"{'storing ' + str(T) + ' states and ' if store_states else ''}the observable buffer",
        "pass fewer output times" + (" or store_states=False" if store_states else ""),
    )

    if isinstance(method, Sampled):
        seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else seed
        expect, stderr, states = _sampled_driver(
            x0, windows, tlist, method, seed, obs, dims, store_states, executor, stage_of
        )
    else:
        expect: dict[str, list] = {k: [None] * T for k in obs.names}
        states = [None] * T if store_states else None
        # States are buffered (bounded memory, one preallocated block reused) and their
        # observables evaluated in batches; full states are kept only when asked (a
        # 12-qubit state is 270 MB).
        buf = np.empty((max(1, min(T, OBS_BUFFER_BYTES // x0.nbytes)), *x0.shape), complex)
        idx: list[int] = []

        def flush():
            if idx:
                vals = obs.evaluate_batch(
                    buf[: len(idx)], [stage_of(tlist[i]) for i in idx], tlist[idx]
                )
                for k, v in vals.items():
                    v = np.array(v, copy=True)  # never a view into the reused block
                    for j, i in enumerate(idx):
                        expect[k][i] = v[j]
                idx.clear()

        def record(i, x):
            buf[len(idx)] = x
            idx.append(i)
            if store_states:
                states[i] = qutip.Qobj(from_paired(x, dims), dims=[list(dims), list(dims)])
            if len(idx) == len(buf):
                flush()

        record(0, x0)
        paths: list = []
        if isinstance(method, Exact):
            _run_exact(
                x0,
                windows,
                tlist,
                record,
                method.atol,
                rtol=method.rtol,
                info=paths,
                timedep_info=timedep_info,
            )
        elif isinstance(method, StochasticLiouville):
            sle_info = _run_sle(x0, windows, tlist, record, method)
        else:
            _run_segment(x0, windows, tlist, record, method)
        flush()
        missing = [i for i, v in enumerate(next(iter(expect.values()), [])) if v is None]
        if missing:  # never hand out None in place of a value
            raise RuntimeError(f"internal error: no state recorded at tlist[{missing[0]}]")
        expect = {k: np.stack(v) for k, v in expect.items()}
        stderr = {}

    params = {
        "method": {"name": method.name, **{k: v for k, v in asdict(method).items()}},
        **(
            {}
            if ntraj is None or isinstance(method, Sampled)
            else {"ignored": {"ntraj": int(ntraj), "reason": f"method {method.name!r} is exact"}}
        ),
        "stages": [{"duration": s.duration, "model": s.model.describe()} for s in stages],
        "dims": list(dims),
    }
    if isinstance(method, StochasticLiouville):
        params["method"].update(sle_info)
    if auto:
        params["method"]["reason"] = _AUTO_REASONS[method.name]
    if timedep_info:
        params["method"]["timedep"] = timedep_info
    if isinstance(method, Exact) and paths:
        # how each time-independent stage was propagated, and why (cost model); the
        # memory estimate covers the largest stage and what is held beside it
        params["method"]["paths"] = paths
        params["method"]["memory_estimate_bytes"] = float(
            held + max(p["memory_bytes"] for p in paths)
        )
    if timedep_info:
        # time-dependent stages: their own estimate (_timedep.stage_memory) beside the rest
        td_bytes = held + max(s.get("memory_bytes", 0.0) for s in timedep_info)
        est = params["method"].get("memory_estimate_bytes", 0.0)
        params["method"]["memory_estimate_bytes"] = float(max(est, td_bytes))
    return Result(
        times=tlist,
        expect=_ExpectList(expect) if expect_as_list else expect,
        stderr=stderr,
        states=states,
        method=method.name,
        params=params,
        seed=None
        if not isinstance(method, Sampled)
        else (int(seed) if isinstance(seed, (int, np.integer)) else None),
        ntraj=method.ntraj if isinstance(method, Sampled) else None,
        labels=obs.labels,
    )

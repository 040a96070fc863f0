r"""Propagation: one entry point, :func:`evolve`, dispatching to the ways to average.

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

Each is one solver behind the interface of :mod:`eplt.dynamics.methods` (``run`` over a
time grid, ``channel`` at a time where it exists); :func:`evolve` builds the task, lets
:func:`eplt.dynamics.methods.resolve` choose (``method="auto"`` in that one place, its
choice and reason recorded in ``Result.params["method"]``) and runs the solver. A method
registered with :func:`eplt.dynamics.methods.register_method` is reached the same way.

Time convention: ``rho0`` is the state at ``tlist[0]``, where the protocol's first stage
starts.
"""

from __future__ import annotations

import functools
from contextlib import nullcontext
from dataclasses import replace

import numpy as np
import qutip

from .exact import Exact
from .methods import Task, resolve, stage_windows
from .model import stages_of
from .permutation import PermutationSymmetric
from .result import Result
from .sampled import Sampled, realization_seed
from .segment import SegmentAveraged
from .sle import StochasticLiouville

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


#: Memory (bytes) of the block of small states awaiting observable evaluation (one block,
#: allocated once and reused: a fresh 50 MB block cost 130 ms in page faults per call,
#: seven qubits, 201 times). Kept small so that a run's peak memory is the model's, not
#: the buffer's (B5: the buffer was most of the single cavity's peak at 8 MiB).
OBS_BUFFER_BYTES = 2**16
#: Larger states: at least :data:`OBS_MIN_ROWS` per batch of observables (each batch has a
#: fixed cost) while those fit in this many bytes, else one state at a time.
OBS_BUFFER_MAX_BYTES = 2**23
OBS_MIN_ROWS = 8


def _check_tlist(tlist) -> np.ndarray:
    t = np.asarray(tlist, dtype=float)
    if t.ndim != 1 or t.size < 1:
        raise ValueError("tlist must be a non-empty 1-D array of times")
    if not np.all(np.isfinite(t)):
        raise ValueError("tlist must contain finite times")
    if np.any(np.diff(t) <= 0):
        raise ValueError("tlist must be strictly increasing")
    return t


def _check_seed(seed) -> None:
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise TypeError(f"seed must be an int or numpy SeedSequence, got {type(seed).__name__}")
    if isinstance(seed, (int, np.integer)) and (isinstance(seed, bool) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or numpy SeedSequence, got {seed!r}")


def _protocol_default(stages, attr: str):
    """The first stage's ``taus``/``hamiltonians`` that are set (None if none is)."""
    return next(
        (getattr(s.model, attr) for s in stages if getattr(s.model, attr) is not None), None
    )


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, scanned once per process.

    ``threadpool_limits`` rescans ``/proc/self/maps`` on every call (~1 ms); studies
    call :func:`evolve` hundreds of times, which made that scan half their run time.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


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
        (Exact / SegmentAveraged / StochasticLiouville / Sampled / PermutationSymmetric), or
        a method registered with :func:`eplt.dynamics.methods.register_method`.
        ``auto`` (resolved by :func:`eplt.dynamics.methods.resolve`, which records its
        choice and reason in ``result.params["method"]["reason"]``) picks ``permutation``
        when every process is white, the model is permutation
        symmetric, the input is a SymmetricState or a permutation-invariant state of at least
        :data:`~eplt.dynamics.permutation.AUTO_MIN_QUBITS` qubits and the observables are
        among :data:`~eplt.dynamics.permutation.OBSERVABLES`; else ``exact``
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
    """evolve: build the task, let :func:`eplt.dynamics.methods.resolve` pick the method
    (the one dispatch), run it, record what was chosen and why."""
    tlist = _check_tlist(tlist)
    stages = stages_of(protocol)
    _check_seed(seed)
    task = Task(
        rho0=rho0,
        stages=tuple(stages),
        tlist=tlist,
        windows=tuple(stage_windows(stages, tlist[0], tlist[-1])),
        e_ops=e_ops,
        taus=_protocol_default(stages, "taus") if taus is None else taus,
        hamiltonians=(
            _protocol_default(stages, "hamiltonians") if hamiltonians is None else hamiltonians
        ),
        seed=seed,
        ntraj=ntraj,
        store_states=store_states,
        executor=executor,
    )
    solver, opts, record = resolve(method, task)
    if record.get("ignored") is not None:
        task = replace(task, ntraj=None)
    result: Result = solver.run(opts, task)
    if record["auto"] or "reason" in result.params["method"]:
        # what auto chose and why; an explicit choice is recorded where the method keeps
        # a reason of its own (the permutation method, whose route is not the default)
        result.params["method"]["reason"] = record["reason"]
    if "ignored" in record:
        result.params["ignored"] = record["ignored"]
    return result

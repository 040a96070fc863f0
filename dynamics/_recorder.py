"""Observables of the states a deterministic method produces (private): the observable
buffer's size, what the driver holds beside a solver's own memory, and the recorder that
evaluates observables in bounded batches or in blocks (:func:`eplt.dynamics._solvers._dense_run`).
"""

from __future__ import annotations

import numpy as np
import qutip

from ._memory import check_bytes
from .methods import Task
from .observables import ObservableSet
from .superop import from_paired


def buffer_rows(T: int, state_bytes: int) -> int:
    """States held at once awaiting observable evaluation: :data:`OBS_BUFFER_BYTES` worth
    (small states), at least :data:`OBS_MIN_ROWS` when those fit in
    :data:`OBS_BUFFER_MAX_BYTES` (a batch of observables has a fixed cost), never more than
    ``T``."""
    from .propagate import OBS_BUFFER_BYTES, OBS_BUFFER_MAX_BYTES, OBS_MIN_ROWS

    b = max(1, int(state_bytes))
    rows = max(OBS_BUFFER_BYTES // b, min(OBS_MIN_ROWS, OBS_BUFFER_MAX_BYTES // b), 1)
    return int(min(T, rows))


def _held_bytes(task: Task, x0) -> float:
    """What is held beside the solver's own workspace (checked by each stage before it
    allocates): the observable buffer and, when asked, every stored state. Refused here,
    before anything of that size exists."""
    T = task.tlist.size
    held = buffer_rows(T, x0.nbytes) * x0.nbytes
    held += T * x0.nbytes if task.store_states else 0
    # bookkeeping measured at small sizes, and one complex value per observable and time
    # (array-valued observables: one per party, bounded by the parties); stored states'
    # list entries
    n_obs = len(task.e_ops) if isinstance(task.e_ops, (list, tuple, dict)) else 4
    held += 2**18 + 16.0 * T * max(4, n_obs) * max(1, len(task.stages[0].model.dims))
    held += 8.0 * T if task.store_states else 0.0
    check_bytes(
        held,
        f"{'storing ' + str(T) + ' states and ' if task.store_states else ''}the observable buffer",
        "pass fewer output times" + (" or store_states=False" if task.store_states else ""),
    )
    return held


class _Recorder:
    """Observables of the states a deterministic method produces, in bounded batches.

    ``record(i, x)`` takes the averaged (paired) state at ``tlist[i]``; states wait in one
    preallocated block of :func:`buffer_rows` rows (reused; copies, never views) and
    their observables are evaluated a batch at a time. ``record.block(ids, X)`` takes
    several states at once (``X[j]`` at ``tlist[ids[j]]``, e.g. the outputs of one Krylov
    basis) and evaluates them where they are, without copying. Values are written into
    one array per observable (allocated at the first batch, promoted if a later batch is
    complex). Full states are kept only when ``store_states``.
    """

    def __init__(self, task: Task, x0, obs: ObservableSet, stage_of, dims):
        self.task, self.obs, self.dims = task, obs, dims
        self.tlist = task.tlist
        self.T = self.tlist.size
        self.rows = buffer_rows(self.T, x0.nbytes)
        # a block is already in memory: evaluated in chunks that bound only what the
        # observables allocate beside it
        self.block_rows = max(self.rows, buffer_rows(self.T, 16 * x0.nbytes))
        self.shape = x0.shape
        self.buf = None  # allocated at the first single state
        self.idx: list[int] = []
        self.starts = stage_of.starts
        self.values: dict[str, np.ndarray] = {}
        self.filled = np.zeros(self.T, dtype=bool)
        self.states = [None] * self.T if task.store_states else None
        #: ``(W, complex)`` when every observable is linear in the state and no state is
        #: stored (:meth:`ObservableSet.linear_functionals`): a path may then hand out
        #: the values ``X_flat @ W.T`` themselves (:meth:`linear_values`), computed on its own
        #: coordinates, instead of the states
        self.linear = None if self.states is not None else obs.linear_functionals()

    def __call__(self, i, x) -> None:
        if self.buf is None:
            self.buf = np.empty((self.rows, *self.shape), complex)
        self.buf[len(self.idx)] = x
        self.idx.append(i)
        if self.states is not None:
            self._store(i, x)
        if len(self.idx) == self.rows:
            self.flush()

    def block(self, ids, X) -> None:
        """States ``X[j]`` (paired) at ``tlist[ids[j]]``, evaluated in place."""
        ids = np.asarray(ids, dtype=int)
        for c in range(0, ids.size, self.block_rows):
            sel = ids[c : c + self.block_rows]
            Xc = X[c : c + self.block_rows]
            if self.states is not None:
                for j, i in enumerate(sel):
                    self._store(int(i), Xc[j])
            self._evaluate(sel, Xc)

    def linear_values(self, ids, vals) -> None:
        """Observables at ``tlist[ids]`` given directly: row ``j`` of ``vals`` is
        ``X_flat @ W.T`` of the state at ``tlist[ids[j]]`` (:attr:`linear`)."""
        ids = np.asarray(ids, dtype=int)
        vals = np.asarray(vals)
        _, cplx = self.linear
        for j, k in enumerate(self.obs.names):
            v = vals[:, j] if cplx[j] else vals[:, j].real
            self._array(k, v.dtype)[ids] = v
        self.filled[ids] = True

    def _array(self, name: str, dtype, shape=()) -> np.ndarray:
        """The array of observable ``name`` (allocated at first use, promoted to hold
        ``dtype``)."""
        out = self.values.get(name)
        if out is None:
            out = self.values[name] = np.empty((self.T, *shape), dtype=dtype)
        elif not np.can_cast(dtype, out.dtype, casting="safe"):
            out = self.values[name] = out.astype(np.result_type(out.dtype, dtype))
        return out

    def flush(self) -> None:
        if self.idx:
            ids = np.array(self.idx)
            self.idx.clear()
            self._evaluate(ids, self.buf[: ids.size])

    def _store(self, i, x) -> None:
        dims = list(self.dims)
        self.states[i] = qutip.Qobj(from_paired(np.asarray(x), self.dims), dims=[dims, dims])

    def _evaluate(self, ids, X) -> None:
        times = self.tlist[ids]
        # stage active just before each time (the stage that produced the state)
        stages = np.maximum(0, np.searchsorted(self.starts, times, side="left") - 1)
        for k, v in self.obs.evaluate_batch(X, stages.tolist(), times).items():
            v = np.asarray(v)
            self._array(k, v.dtype, v.shape[1:])[ids] = v  # a copy, never a view
        self.filled[ids] = True

    def expect(self) -> dict[str, np.ndarray]:
        self.flush()
        if not self.filled.all():  # never hand out garbage in place of a value
            missing = int(np.flatnonzero(~self.filled)[0])
            raise RuntimeError(f"internal error: no state recorded at tlist[{missing}]")
        return {k: self.values.get(k, np.empty(self.T)) for k in self.obs.names}

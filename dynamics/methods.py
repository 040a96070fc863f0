r"""Averaging methods behind one interface, and the one dispatch that picks among them.

A *method* is the small frozen settings object a user passes (``Exact(atol=...)``,
``Sampled(ntraj=...)``, ...); behind each stands one :class:`Solver`, registered in a table
from name and settings class to solver (as dynamiqs keeps ``{Expm: ..., Tsit5: ...}``).
Every solver implements the same interface:

* :meth:`Solver.run` — the averaged evolution over a time grid, ``run(method, task) ->
  Result``, where ``task`` (:class:`Task`) holds ``rho0``, the stages, ``tlist``, the
  observables and the run settings;
* :meth:`Solver.channel` — the averaged channel of the stages from 0 to ``t``, where it
  exists (``has_channel``); the sampled method averages states, not maps, and has none.

:func:`eplt.dynamics.evolve`, :func:`eplt.dynamics.propagator`,
:func:`eplt.dynamics.marginal_channels` and :func:`eplt.dynamics.lt_time` call the solver
through :func:`resolve` only, which turns ``method="auto"`` into a solver in one place and
says why (recorded as ``Result.params["method"]["reason"]``). ``auto`` asks the solvers
with an ``auto_rank`` in that order (product_sum, permutation, exact, segment, sle, sampled); the first
that applies to the task (:meth:`Solver.auto_reason`) wins. Adding a method is
:func:`register_method`; evolve and propagator do not change.

Layout: ``channel`` returns the engine's private layout, a list of blocks
``(parties, matrix)`` acting on disjoint parties in the paired row-major layout of
:mod:`eplt.dynamics.superop`; :func:`eplt.dynamics.propagator` converts it to QuTiP's
column-stacking superoperator at its boundary (the one place).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .model import _TIMEDEP_EXACT_ONLY, Model, Stage

__all__ = ["Solver", "Task", "register_method", "registered_methods", "resolve"]


@dataclass(frozen=True, eq=False)
class Task:
    """What a run hands its solver.

    Attributes
    ----------
    rho0 : Qobj, SymmetricState or None
        The initial state as the user gave it (None when only a channel is asked for).
    stages : list of Stage
    tlist : ndarray or None
        Checked, strictly increasing output times (None for a channel).
    windows : list of (start, end, Model)
        The stages clipped to ``[tlist[0], tlist[-1]]`` (:func:`stage_windows`).
    e_ops, taus, hamiltonians, seed, ntraj, store_states, executor
        As given to :func:`eplt.dynamics.evolve` (``taus``/``hamiltonians`` defaulted
        from the protocol).
    """

    rho0: Any = None
    stages: tuple = ()
    tlist: np.ndarray | None = None
    windows: tuple = ()
    e_ops: Any = None
    taus: Any = None
    hamiltonians: Any = None
    seed: Any = None
    ntraj: int | None = None
    store_states: bool = False
    executor: Any = None


class Solver(ABC):
    """One averaging method: ``run`` over a time grid, ``channel`` at a time (if any).

    Attributes
    ----------
    name : str
        The name users pass as ``method=...``.
    options : type
        The settings class users pass as a method object (a frozen dataclass).
    time_dependent : bool
        Integrates time-dependent local terms (QobjEvo drives).
    stores_states : bool
        Can keep the joint states (``store_states=True``).
    takes_ntraj : bool
        ``ntraj`` is one of its settings (:meth:`with_ntraj`).
    has_channel : bool
        :meth:`channel` exists.
    auto_rank : int or None
        Position in ``method="auto"``'s search (lower first); None: never chosen by auto.
    """

    name: ClassVar[str]
    options: ClassVar[type]
    time_dependent: ClassVar[bool] = False
    stores_states: ClassVar[bool] = True
    takes_ntraj: ClassVar[bool] = False
    has_channel: ClassVar[bool] = False
    auto_rank: ClassVar[int | None] = None

    def default(self, ntraj: int | None = None):
        """The settings used for ``method=name`` (and by ``auto``)."""
        return self.options()

    def with_ntraj(self, method, ntraj: int):
        """``method`` with ``ntraj`` realizations (``takes_ntraj`` solvers override this;
        :func:`resolve` calls it only for them)."""
        raise ValueError(f"method {self.name!r} takes no ntraj")

    def auto_reason(self, task: Task) -> str | None:
        """Why ``method="auto"`` takes this method for ``task``, or None when it does not."""
        return None

    @abstractmethod
    def run(self, method, task: Task):
        """Evolve ``task.rho0`` over ``task.tlist``; return a :class:`~eplt.dynamics.result.Result`."""

    def channel(self, method, stages: Sequence[Stage], t: float, cache: dict | None = None):
        """The averaged channel of ``stages`` from 0 to ``t``, as engine blocks
        ``[(parties, matrix), ...]`` (see the module docstring). ``cache`` may be kept
        between calls on the same stages (root finders evaluate many times)."""
        raise ValueError(
            f"method {self.name!r} has no channel (it averages states, not maps); "
            "channels exist for "
            + ", ".join(repr(n) for n in registered_methods() if _REGISTRY[n].has_channel)
        )


_REGISTRY: dict[str, Solver] = {}
_BY_TYPE: dict[type, Solver] = {}


def register_method(solver: Solver, *, replace: bool = False) -> Solver:
    """Add a method to the table read by :func:`resolve` (and so by evolve and propagator).

    Parameters
    ----------
    solver : Solver
        An instance; its ``name`` and ``options`` class must be new unless ``replace``.
    replace : bool
        Replace a method registered under the same name.

    Returns
    -------
    Solver
        ``solver`` (so that the call can decorate an instantiation).

    Examples
    --------
    >>> from eplt.dynamics.methods import registered_methods
    >>> registered_methods()
    ['product_sum', 'permutation', 'exact', 'segment', 'sle', 'sampled']
    """
    if not isinstance(solver, Solver):
        raise TypeError(f"solver must be a Solver instance, got {type(solver).__name__}")
    name = solver.name
    if not isinstance(name, str) or not name or name == "auto":
        raise ValueError(f"solver name must be a non-empty string other than 'auto', got {name!r}")
    if not isinstance(solver.options, type):
        raise TypeError(f"solver {name!r}: options must be a class")
    if not replace and (name in _REGISTRY or solver.options in _BY_TYPE):
        raise ValueError(f"method {name!r} (or its options class) is already registered")
    old = _REGISTRY.pop(name, None)
    if old is not None:
        _BY_TYPE.pop(old.options, None)
    _REGISTRY[name] = solver
    _BY_TYPE[solver.options] = solver
    return solver


def unregister_method(name: str) -> None:
    """Remove a registered method (for tests that register a toy one)."""
    solver = _REGISTRY.pop(name)
    _BY_TYPE.pop(solver.options, None)


def registered_methods() -> list[str]:
    """Names of the registered methods, ``auto``'s order first."""
    ranked = sorted(
        (s for s in _REGISTRY.values() if s.auto_rank is not None), key=lambda s: s.auto_rank
    )
    return [s.name for s in ranked] + [s.name for s in _REGISTRY.values() if s.auto_rank is None]


def _check_ntraj(ntraj) -> None:
    if ntraj is not None and (
        isinstance(ntraj, bool) or not isinstance(ntraj, (int, np.integer)) or ntraj < 1
    ):
        raise ValueError(f"ntraj must be an integer >= 1, got {ntraj!r}")


def resolve(method, task: Task, *, channel: bool = False) -> tuple[Solver, Any, dict]:
    """The one dispatch: ``(solver, settings, record)`` for ``method`` on ``task``.

    ``method`` is ``"auto"``, a registered name or a registered settings object.
    ``record`` holds ``auto`` (True for ``method="auto"``), ``reason`` (what was chosen
    and why) and, when ``task.ntraj`` does not apply to an auto choice, ``ignored``;
    evolve stores them in ``Result.params``.
    With ``channel`` the solver must have a channel (:meth:`Solver.channel`).

    Raises
    ------
    ValueError
        An unknown name; ``ntraj`` given for a method without it; time-dependent local
        terms for a method that does not integrate them; ``store_states`` for a method
        that keeps no joint states; no channel.
    TypeError
        ``method`` neither a name nor a registered settings object.
    """
    ntraj = task.ntraj
    _check_ntraj(ntraj)
    record: dict = {"auto": isinstance(method, str) and method == "auto"}
    if record["auto"]:
        for name in registered_methods():
            solver = _REGISTRY[name]
            if solver.auto_rank is None:
                continue
            reason = solver.auto_reason(task)
            if reason is not None:
                break
        else:
            raise ValueError("method='auto': no registered method applies to this protocol")
        opts = solver.default(ntraj)
        record["reason"] = reason
        if ntraj is not None and not solver.takes_ntraj:
            # auto chose a deterministic method: ntraj does not apply. Ignored (and
            # recorded) so that swapping a coloured process for a white one does not
            # break a script.
            record["ignored"] = {"ntraj": int(ntraj), "reason": f"method {solver.name!r} is exact"}
            ntraj = None
    elif isinstance(method, str):
        if method not in _REGISTRY:
            names = ", ".join(repr(n) for n in ["auto", *registered_methods()])
            raise ValueError(f"method must be one of {names} or a method object, got {method!r}")
        solver = _REGISTRY[method]
        opts = solver.default(ntraj)
        record["reason"] = f"method={method!r} given"
    else:
        solver = _BY_TYPE.get(type(method))
        if solver is None:
            kinds = "/".join(t.__name__ for t in _BY_TYPE)
            raise TypeError(f"method must be a name or {kinds}, got {type(method).__name__}")
        opts = method
        record["reason"] = "method object given"
    if ntraj is not None:
        if not solver.takes_ntraj:
            raise ValueError(f"ntraj applies to method='sampled' only (method is {solver.name!r})")
        opts = solver.with_ntraj(opts, int(ntraj))
    if not solver.time_dependent and any(s.model.is_time_dependent for s in task.stages):
        raise ValueError(_TIMEDEP_EXACT_ONLY + f" (method is {solver.name!r})")
    if task.store_states and not solver.stores_states:
        raise ValueError(f"method {solver.name!r} does not store joint states (store_states=False)")
    if channel and not solver.has_channel:
        solver.channel(opts, task.stages, 0.0)  # raises: "method ... has no channel"
    return solver, opts, record


def stage_windows(
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


from . import _solvers  # noqa: E402, F401  (registers the built-in methods)

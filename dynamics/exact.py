r"""Exact averaged generator: white processes (Brownian noise, Poisson clocks) average to a
Lindbladian on the joint system (:meth:`Model.averaged_generator`).

Each time-independent stage is solved exactly on the time grid by the cheapest of four
paths (:mod:`eplt.dynamics._timeindep`): local propagators ``(x)_k exp(L_k dt)`` (the
joint Liouvillian never built), batched over output times for small parties; a dense
propagator of the joint generator restricted to the state's symmetry sector
(:mod:`eplt.dynamics._sectors`); or ``expm_multiply`` on the sparse Liouvillian over the
whole grid. No exponential is kept per output time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._memory import check_bytes
from ._timedep import run_stage as run_timedep_stage
from ._timeindep import plan_stage, run_stage

__all__ = ["Exact"]


@dataclass(frozen=True)
class Exact:
    """Exact averaged generator (white processes only).

    Time-independent stages are solved exactly (matrix exponentials). Stages with
    time-dependent local terms (:func:`eplt.baths.lindblad` with a QobjEvo or
    ``[H0, [H1, f]]``) are integrated with error control, to the tolerances below, as
    ``qutip.mesolve``'s ``options={"atol": ..., "rtol": ...}``: a looser tolerance is
    faster. The integrator is chosen by a cost model and recorded in
    ``Result.params["method"]["timedep"]`` (see :mod:`eplt.dynamics._timedep`):

    * local stages with small parties: fourth-order Magnus substeps, batched over
      intervals and parties; the error measure is, per output interval and per party,
      the largest entry of the error of the party's propagator (estimated by Richardson
      step doubling), kept at most ``atol + rtol * (largest entry of the propagator)``;
      the entries of a CPTP map are at most 1, so per interval the state's entries move
      by at most about the number of parties times that, and errors add up over the
      intervals;
    * non-local stages (a coupling white process) and large parties: qutip's own
      integrator (``MESolver``, as ``mesolve``) on the joint Liouvillian, ``atol`` and
      ``rtol`` exactly as ``mesolve``'s options (scipy's DOP853 on the matrix-free
      ``L x`` for time-dependent parts given as plain callables).

    Parameters
    ----------
    atol : float
        Absolute tolerance, in (0, 1). Default 1e-10.
    rtol : float
        Relative tolerance, in [0, 1). Default 0.

    Examples
    --------
    >>> Exact(atol=1e-8, rtol=1e-6)
    Exact(atol=1e-08, rtol=1e-06)
    """

    name = "exact"
    atol: float = 1e-10
    rtol: float = 0.0

    def __post_init__(self):
        a, r = float(self.atol), float(self.rtol)
        if not (0 < a < 1):
            raise ValueError(f"atol must lie in (0, 1), got {self.atol!r}")
        if not (0 <= r < 1):
            raise ValueError(f"rtol must lie in [0, 1), got {self.rtol!r}")


def _key(dt: float) -> float:
    """Cache key of a time step: 13 significant digits (a relative, not absolute, match)."""
    return float(f"{dt:.12e}")


def _run_exact(
    x,
    windows,
    tlist,
    record,
    atol: float = 1e-10,
    *,
    rtol: float = 0.0,
    info: list | None = None,
    timedep_info: list | None = None,
    held: float = 0.0,
):
    """Run the stages ``windows`` from the paired state ``x``; time-independent stages by
    the path :func:`~eplt.dynamics._timeindep.plan_stage` chooses (its memory checked
    before it is allocated), whose description is appended to ``info`` when given;
    time-dependent stages by :func:`eplt.dynamics._timedep.run_stage`, what its
    integrator chose appended to ``timedep_info``. ``held``: bytes the caller holds beside
    the stages (observable buffer, stored states), checked with each stage's own."""
    for start, end, model in windows:
        if model.is_time_dependent:
            x, stage_info = run_timedep_stage(
                x, start, end, model, tlist, record, atol=atol, rtol=rtol, held=held
            )
            if timedep_info is not None:
                timedep_info.append({"start": float(start), "end": float(end), **stage_info})
            continue
        gen = model.averaged_generator()
        idx = np.nonzero((tlist > start) & (tlist <= end))[0]
        plan = plan_stage(gen, x, start, end, tlist[idx])
        check_bytes(
            plan.nbytes + held,
            f"the exact method ({plan.path} path, dims {list(model.dims)})",
            "use fewer or smaller parties, or fewer output times",
        )
        if info is not None:
            info.append(plan.describe())
        # ||rho||_2 <= 1: atol + rtol bounds the Krylov path's 2-norm error
        x = run_stage(x, gen, plan, start, end, tlist, idx, record, tol=atol + rtol)
    return x

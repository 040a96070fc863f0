"""Memory and work estimated from the parameters before anything is allocated.

Each study may define ``memory_estimate(params) -> (bytes, names)``: the peak memory its
``run`` needs beyond the interpreter (measured with ``tracemalloc`` at several sizes and
rounded up, see each study) and the parameters that drive it. :func:`check_memory`
refuses, in one line naming those parameters, a run that would not fit in the memory
available to this process; :func:`check_sweep_memory` does the same for the largest
point of a sweep times the points run at once, plus each worker's interpreter.

The available memory is the smallest of ``MemAvailable`` (/proc/meminfo), the cgroup's
limit minus its usage, and ``RLIMIT_AS``; the environment variable
``EPLT_MEMORY_LIMIT`` (bytes, or with a K/M/G/T suffix) overrides it, e.g. on a machine
shared with other jobs.

Each study also defines ``work_estimate(params) -> (seconds, names)``: the CPU seconds
its ``run`` takes on the machine it was calibrated on (``time.process_time`` at several
sizes, rounded up; order of magnitude, see each study) and the parameters that drive it,
lists counted by their length. A run from the command line also draws and saves its
figures (PNG and PDF): ``figure_estimate(params)`` when the study defines it (figures
whose panels grow with a list), else :data:`FIGURE_SECONDS`.
:func:`estimate_work` and :func:`estimate_sweep_work` return it for a run and for a
sweep; :func:`check_work` and :func:`check_sweep_work` refuse, in one line naming those
parameters, work estimated above ``EPLT_WORK_LIMIT`` (seconds, or with an s/m/h suffix:
``90``, ``20m``, ``2h``) when that variable is set, and otherwise only return the
estimate. The command line prints one line on stderr before a run or sweep estimated at
more than :data:`NOTICE_SECONDS`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping

from eplt.dynamics.limits import available_memory, fmt_bytes  # one memory check (engine too)

from .params import ParamError

__all__ = [
    "FIGURE_SECONDS",
    "NOTICE_SECONDS",
    "WORKER_BYTES",
    "ResourceError",
    "available_memory",
    "check_memory",
    "check_sweep_memory",
    "check_sweep_work",
    "check_work",
    "estimate_sweep_work",
    "estimate_work",
    "fmt_bytes",
    "fmt_seconds",
    "sweep_notice",
    "work_limit",
    "work_notice",
]

#: Resident memory of one worker process before its first point (Python, numpy, scipy,
#: qutip, xarray imported), rounded up from a measured ~200 MB.
WORKER_BYTES = 300e6
#: Runs and sweeps estimated above this many seconds are announced on stderr by the CLI.
NOTICE_SECONDS = 10.0
#: CPU seconds to draw and save a study's figures as PNG and PDF when the study has no
#: ``figure_estimate`` (measured 2.2-3.7 s for the fef and threshold figures on the
#: calibration machine, 2026-12-06, load ~12; rounded up).
FIGURE_SECONDS = 4.0


class ResourceError(ParamError):
    """The parameters ask for more memory than is available, or more work than
    ``EPLT_WORK_LIMIT`` allows (reported in one line)."""


def _now(value) -> str:
    """A parameter's value for a one-line message: lists of more than four values by
    their length (a list of 300 betas would fill the terminal)."""
    if isinstance(value, (tuple, list)) and len(value) > 4:
        return f"{len(value)} values"
    return repr(value)


def _lower(names, params: Mapping) -> str:
    return ", ".join(f"{k} (now {_now(params[k])})" if k in params else k for k in names)


def check_memory(study, params: Mapping) -> float:
    """Refuse (ResourceError) a run of ``study`` (a module) whose estimate exceeds the
    available memory; returns the estimate (0 when the study declares none)."""
    avail = available_memory()  # a malformed EPLT_MEMORY_LIMIT is refused for every study
    estimate = getattr(study, "memory_estimate", None)
    if estimate is None:
        return 0.0
    need, names = estimate(params)
    if need > avail:
        raise ResourceError(
            f"{study.NAME}: these parameters need about {fmt_bytes(need)} of memory,"
            f" {fmt_bytes(avail)} is available; lower {_lower(names, params)}"
        )
    return need


def check_sweep_memory(study, grid, base: Mapping, parallel: int) -> float:
    """Refuse a sweep whose largest point, run ``parallel`` at a time (each in a worker
    with its own interpreter), would not fit; returns that total."""
    avail = available_memory()  # a malformed EPLT_MEMORY_LIMIT is refused for every study
    estimate = getattr(study, "memory_estimate", None)
    if estimate is None:
        return 0.0
    worst, names, where = 0.0, (), {}
    for _, values in grid.points():
        need, n = estimate({**base, **values})
        if need > worst:
            worst, names, where = need, n, values
    total = parallel * (worst + (WORKER_BYTES if parallel > 1 else 0.0))
    if total > avail:
        at = ", ".join(f"{k}={v!r}" for k, v in where.items())
        raise ResourceError(
            f"sweep {study.NAME}: {parallel} point(s) at once need about {fmt_bytes(total)} of"
            f" memory (largest point {at}: {fmt_bytes(worst)}), {fmt_bytes(avail)} is available;"
            f" lower {_lower(names, {**base, **where})} or use fewer --workers"
        )
    return total


# ------------------------------------------------------------------------------- work

_TIME_SUFFIX = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def fmt_seconds(t: float) -> str:
    """A duration to one or two significant figures: ``~40 s``, ``~3 min``, ``~2.5 h``."""
    if t < 90:
        return f"~{max(1, round(t))} s"
    if t < 90 * 60:
        return f"~{round(t / 60)} min"
    h = t / 3600
    return f"~{h:.1f} h" if h < 10 else f"~{round(h)} h"


def work_limit() -> float | None:
    """Seconds given by ``EPLT_WORK_LIMIT`` (``90``, ``90s``, ``20m``, ``2h``), or None."""
    text = os.environ.get("EPLT_WORK_LIMIT", "").strip()
    if not text:
        return None
    t = text.lower()
    unit = t[-1] if t[-1] in _TIME_SUFFIX else ""
    try:
        value = float(t[: len(t) - len(unit)])
    except ValueError:
        raise ParamError(
            f"EPLT_WORK_LIMIT must be a duration such as 600, 20m or 2h, got {text!r}"
        ) from None
    if not (value > 0 and math.isfinite(value)):
        raise ParamError(f"EPLT_WORK_LIMIT must be positive, got {text!r}")
    return value * _TIME_SUFFIX[unit]


def estimate_work(
    study, params: Mapping, *, figures: bool = False
) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of one run of ``study`` (a module) with ``params`` (resolved) and the
    parameters that drive it; ``(0.0, ())`` when the study declares no estimate. With
    ``figures`` the figures' drawing and saving is added (``figure_estimate`` or
    :data:`FIGURE_SECONDS`), as for a run from the command line."""
    estimate = getattr(study, "work_estimate", None)
    if estimate is None:
        return 0.0, ()
    seconds, names = estimate(params)
    names = tuple(names)
    if figures:
        fig = getattr(study, "figure_estimate", None)
        if fig is None:
            seconds += FIGURE_SECONDS
        else:
            fig_seconds, fig_names = fig(params)
            seconds += fig_seconds
            names += tuple(n for n in fig_names if n not in names)
    return float(seconds), names


def estimate_sweep_work(study, grid, base: Mapping, parallel: int) -> dict:
    """Work of a sweep of ``study`` over ``grid`` (a :class:`~eplt.studies.sweep.Grid`) with
    the fixed parameters ``base``, ``parallel`` points at a time.

    Returns a dict: ``cpu`` (CPU seconds summed over the points), ``wall`` (the larger of
    ``cpu / parallel`` and the longest point: a point is not split between workers),
    ``point`` (that longest point's seconds), ``worst`` (its parameters) and ``names``
    (the parameters driving it)."""
    return _sum_work(study, ({**base, **values} for _, values in grid.points()), parallel)


def _sum_work(study, points: Iterable[Mapping], parallel: int) -> dict:
    cpu, longest, names, worst = 0.0, 0.0, (), {}
    for params in points:
        seconds, n = estimate_work(study, params)
        cpu += seconds
        if seconds > longest:
            longest, names, worst = seconds, n, params
    wall = max(cpu / max(1, parallel), longest)
    return {"cpu": cpu, "wall": wall, "point": longest, "worst": worst, "names": names}


def _settings(names, params: Mapping) -> str:
    return ", ".join(f"{k}={_now(params[k])}" for k in names if k in params)


def check_work(study, params: Mapping, *, figures: bool = False) -> float:
    """Refuse (ResourceError) a run estimated above ``EPLT_WORK_LIMIT``; returns the
    estimate in CPU seconds (never refuses when the variable is unset). ``figures``
    (default False, as inside ``run``): count the figures too, as the command line does."""
    seconds, names = estimate_work(study, params, figures=figures)
    limit = work_limit()
    if limit is not None and seconds > limit:
        raise ResourceError(
            f"{study.NAME}: these parameters need {fmt_seconds(seconds)} of CPU,"
            f" EPLT_WORK_LIMIT allows {fmt_seconds(limit)[1:]}; lower {_lower(names, params)}"
        )
    return seconds


def check_sweep_work(study, points: Iterable[Mapping], parallel: int) -> dict:
    """Refuse a sweep of the points ``points`` (each point's parameters, resolved) whose
    wall time is estimated above ``EPLT_WORK_LIMIT``; returns the estimate (as
    :func:`estimate_sweep_work`)."""
    est = _sum_work(study, points, parallel)
    limit = work_limit()
    if limit is not None and est["wall"] > limit:
        raise ResourceError(
            f"sweep {study.NAME}: estimated {fmt_seconds(est['wall'])} with {parallel} point(s)"
            f" at once ({fmt_seconds(est['cpu'])} of CPU in all), EPLT_WORK_LIMIT allows"
            f" {fmt_seconds(limit)[1:]}; use fewer grid points or lower"
            f" {_lower(est['names'], est['worst'])}"
        )
    return est


def work_notice(study, params: Mapping) -> str | None:
    """The line the CLI prints before a run estimated above :data:`NOTICE_SECONDS`
    (None below it). The run itself is counted, as before the figures were estimated,
    so the defaults stay quiet; :func:`check_work` from the CLI counts the figures too."""
    seconds, names = estimate_work(study, params)
    if seconds <= NOTICE_SECONDS:
        return None
    at = _settings(names, params)
    return (
        f"{study.NAME}: estimated {fmt_seconds(seconds)} of CPU on this machine"
        + (f" ({at})" if at else "")
        + "; Ctrl-C stops"
    )


def sweep_notice(study, est: Mapping, n_points: int, parallel: int) -> str | None:
    """The line the CLI prints before a sweep whose estimate ``est`` (from
    :func:`estimate_sweep_work`) is above :data:`NOTICE_SECONDS` (None below it)."""
    if est["wall"] <= NOTICE_SECONDS:
        return None
    return (
        f"sweep {study.NAME}: estimated {fmt_seconds(est['wall'])} on this machine"
        f" ({n_points} points, {fmt_seconds(est['cpu'])} of CPU, {parallel} at once);"
        " Ctrl-C stops, a rerun resumes"
    )

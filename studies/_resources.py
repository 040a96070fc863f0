"""Memory estimated from the parameters before anything is allocated.

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
"""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Mapping
from pathlib import Path

from .params import ParamError

__all__ = [
    "WORKER_BYTES",
    "ResourceError",
    "available_memory",
    "check_memory",
    "check_sweep_memory",
    "fmt_bytes",
]

#: Resident memory of one worker process before its first point (Python, numpy, scipy,
#: qutip, xarray imported), rounded up from a measured ~200 MB.
WORKER_BYTES = 300e6
_SUFFIX = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class ResourceError(ParamError):
    """The parameters ask for more memory than is available (reported in one line)."""


def fmt_bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 2**10:.0f} KiB"


def _parse_size(text: str) -> float:
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = t[-1] if t and t[-1] in _SUFFIX else ""
    try:
        value = float(t[: len(t) - len(unit)])
    except ValueError:
        raise ParamError(
            f"EPLT_MEMORY_LIMIT must be a size such as 2G or 500M, got {text!r}"
        ) from None
    if not (value > 0 and math.isfinite(value)):
        raise ParamError(f"EPLT_MEMORY_LIMIT must be positive, got {text!r}")
    return value * _SUFFIX[unit]


def _meminfo_available() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available() -> float | None:
    base = Path("/sys/fs/cgroup")
    pairs = [
        (base / "memory.max", base / "memory.current"),  # cgroup v2
        (base / "memory" / "memory.limit_in_bytes", base / "memory" / "memory.usage_in_bytes"),
    ]
    for limit, usage in pairs:
        try:
            lim = limit.read_text().strip()
            if lim == "max" or float(lim) >= 2**60:
                continue
            return float(lim) - float(usage.read_text().strip())
        except (OSError, ValueError):
            continue
    return None


def available_memory() -> float:
    """Bytes this process may still allocate (see the module docstring)."""
    override = os.environ.get("EPLT_MEMORY_LIMIT")
    if override:
        return _parse_size(override)
    candidates = [c for c in (_meminfo_available(), _cgroup_available()) if c is not None]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft not in (resource.RLIM_INFINITY, -1):
        candidates.append(float(soft))
    if not candidates:  # pragma: no cover - no /proc: trust the physical memory
        candidates.append(float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")))
    return max(0.0, min(candidates))


def _lower(names, params: Mapping) -> str:
    return ", ".join(f"{k} (now {params[k]!r})" if k in params else k for k in names)


def check_memory(study, params: Mapping) -> float:
    """Refuse (ResourceError) a run of ``study`` (a module) whose estimate exceeds the
    available memory; returns the estimate (0 when the study declares none)."""
    estimate = getattr(study, "memory_estimate", None)
    if estimate is None:
        return 0.0
    need, names = estimate(params)
    avail = available_memory()
    if need > avail:
        raise ResourceError(
            f"{study.NAME}: these parameters need about {fmt_bytes(need)} of memory,"
            f" {fmt_bytes(avail)} is available; lower {_lower(names, params)}"
        )
    return need


def check_sweep_memory(study, grid, base: Mapping, parallel: int) -> float:
    """Refuse a sweep whose largest point, run ``parallel`` at a time (each in a worker
    with its own interpreter), would not fit; returns that total."""
    estimate = getattr(study, "memory_estimate", None)
    if estimate is None:
        return 0.0
    worst, names, where = 0.0, (), {}
    for _, values in grid.points():
        need, n = estimate({**base, **values})
        if need > worst:
            worst, names, where = need, n, values
    total = parallel * (worst + (WORKER_BYTES if parallel > 1 else 0.0))
    avail = available_memory()
    if total > avail:
        at = ", ".join(f"{k}={v!r}" for k, v in where.items())
        raise ResourceError(
            f"sweep {study.NAME}: {parallel} point(s) at once need about {fmt_bytes(total)} of"
            f" memory (largest point {at}: {fmt_bytes(worst)}), {fmt_bytes(avail)} is available;"
            f" lower {_lower(names, {**base, **where})} or use fewer --workers"
        )
    return total

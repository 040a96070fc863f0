"""Memory available to the engine and the one-line refusal of runs that would not fit (private).

The engine estimates what each solver path allocates (propagators, Krylov workspaces,
the sparse Liouvillian, stored states) before allocating it (:mod:`eplt.dynamics._timeindep`)
and refuses, in one line, a run whose estimate exceeds the memory available:
``EPLT_MEMORY_LIMIT`` (bytes, or with a K/M/G/T suffix, e.g. ``4G``) when set, else the
smallest of ``MemAvailable`` (/proc/meminfo), the cgroup's limit minus its usage and
``RLIMIT_AS``. The studies use the same figure (:mod:`eplt.studies._resources`).
"""

from __future__ import annotations

import math
import os
import resource
import time
from pathlib import Path

__all__ = ["MemoryLimitError", "available_memory", "check_bytes", "fmt_bytes"]

_SUFFIX = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class MemoryLimitError(ValueError, MemoryError):
    """A run would allocate more memory than is available (one-line message).

    The one class for the engine's paths, the averaged generator and the SDPs
    (:mod:`eplt.dynamics._symsdp`); public as :class:`eplt.dynamics.limits.MemoryLimitError`
    (also importable from ``eplt.dynamics.dps``). It is
    a ``ValueError`` (the request is too large for this machine) and a ``MemoryError``,
    so that ``except`` clauses written for either keep working; the command line prints
    it as one line ``eplt: error: ...``."""


def fmt_bytes(n: float) -> str:
    """``n`` bytes in binary units (``1.5 GiB``, ``300 KiB``)."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 2**10:.0f} KiB"


def parse_size(text: str) -> float:
    """``"4G"``, ``"500M"``, ``"123456"`` -> bytes (ValueError naming EPLT_MEMORY_LIMIT)."""
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = t[-1] if t and t[-1] in _SUFFIX else ""
    try:
        value = float(t[: len(t) - len(unit)])
    except ValueError:
        raise MemoryLimitError(
            f"EPLT_MEMORY_LIMIT must be a size such as 2G or 500M, got {text!r}"
        ) from None
    if not (value > 0 and math.isfinite(value)):
        raise MemoryLimitError(f"EPLT_MEMORY_LIMIT must be positive, got {text!r}")
    return value * _SUFFIX[unit]


def _meminfo_available() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None  # unreadable: the other limits decide
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


#: Seconds the figures of /proc/meminfo and the cgroup are reused (reading /proc and the cgroup files took ~0.3 ms,
#: three times per call of ``evolve``).
_CACHE_SECONDS = 0.5
_cache: list = [-1.0, [None, None]]  # [monotonic time read, (meminfo, cgroup)]


def available_memory() -> float:
    """Bytes this process may still allocate (see the module docstring); the system's
    figure is read at most every :data:`_CACHE_SECONDS` (``EPLT_MEMORY_LIMIT`` always)."""
    override = os.environ.get("EPLT_MEMORY_LIMIT")
    if override:
        return parse_size(override)
    now = time.monotonic()
    if now - _cache[0] > _CACHE_SECONDS:
        _cache[0], _cache[1] = now, [_meminfo_available(), _cgroup_available()]
    candidates = [c for c in _cache[1] if c is not None]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)  # read every time (cheap)
    if soft not in (resource.RLIM_INFINITY, -1):
        candidates.append(float(soft))
    if not candidates:  # pragma: no cover - no /proc: trust the physical memory
        candidates.append(float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")))
    return max(0.0, min(candidates))


def check_bytes(need: float, what: str, lower: str) -> None:
    """Refuse (:class:`MemoryLimitError`, one line) when ``need`` bytes exceed
    :func:`available_memory`; ``what`` names the allocation, ``lower`` what to reduce."""
    avail = available_memory()
    if need > avail:
        raise MemoryLimitError(
            f"{what} needs about {fmt_bytes(need)} of memory, {fmt_bytes(avail)} is available"
            f" (EPLT_MEMORY_LIMIT or the system); {lower}"
        )

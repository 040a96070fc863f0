"""Timing shared by the benchmark scripts: CPU time first, wall time and load beside it.

Every benchmark compares eplt with a peer measured in the same run. On a shared machine the
load drifts over minutes, so a ratio is only honest when both sides see the same load: the
contenders are run **interleaved** (A, B, A, B, ...), each ``repeats`` times, and the best run
of each is kept. CPU time (user + system of this process *and* of the child processes it has
waited for, so process pools and Dask workers count once they are shut
down) is the primary figure: it is far less sensitive to other jobs than wall time. Wall
time and the 1-minute load average are reported beside it.

Nothing here asserts anything; the scripts print tables and a JSON line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["Timing", "cpu_seconds", "interleaved", "load", "ratio_row", "timed"]


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its reaped children.

    ``time.process_time`` (nanosecond clock) for this process; ``getrusage`` (microseconds)
    for the children. ``os.times`` counts in clock ticks (10 ms), too coarse for a 20 ms run.
    """
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        children = ru.ru_utime + ru.ru_stime
    except ImportError:  # not on POSIX: children are not counted
        children = 0.0
    return time.process_time() + children


def load() -> float:
    """The 1-minute load average (0.0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


@dataclass
class Timing:
    """Best-of-n CPU and wall seconds of one contender, with the load seen while it ran."""

    cpu: float = float("inf")
    wall: float = float("inf")
    loads: list[float] = field(default_factory=list)
    runs: int = 0

    def add(self, cpu: float, wall: float, ld: float) -> None:
        self.cpu = min(self.cpu, cpu)
        self.wall = min(self.wall, wall)
        self.loads.append(ld)
        self.runs += 1

    @property
    def load(self) -> float:
        return max(self.loads) if self.loads else 0.0

    def scaled(self, factor: float) -> Timing:
        """The same timing multiplied by ``factor`` (a subset scaled to the full ensemble)."""
        return Timing(self.cpu * factor, self.wall * factor, list(self.loads), self.runs)

    def as_dict(self) -> dict:
        return {
            "cpu_s": round(self.cpu, 6),
            "wall_s": round(self.wall, 6),
            "load": round(self.load, 2),
            "runs": self.runs,
        }


def timed(fn: Callable[[], object]) -> tuple[object, float, float, float]:
    """``(result, cpu_s, wall_s, load)`` of one call of ``fn``."""
    ld = load()
    c0, w0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return out, cpu_seconds() - c0, time.perf_counter() - w0, ld


def interleaved(
    contenders: Mapping[str, Callable[[], object]], repeats: int = 3
) -> tuple[dict[str, Timing], dict[str, object]]:
    """Run the contenders in turn, ``repeats`` rounds; best CPU and best wall of each.

    Returns the timings and the result of each contender's last run. Warm-ups (imports,
    caches, JIT) are the caller's business: do one untimed call of each before.
    """
    timings = {k: Timing() for k in contenders}
    results: dict[str, object] = {}
    for _ in range(repeats):
        for k, fn in contenders.items():
            out, c, w, ld = timed(fn)
            timings[k].add(c, w, ld)
            results[k] = out
    return timings, results


def ratio_row(label: str, peer: Timing, ours: Timing, width: int = 40) -> str:
    """One table row: our CPU and wall seconds and the peer/ours ratios (CPU first)."""
    return (
        f"{label:<{width}} {ours.cpu:10.4g} {ours.wall:10.4g} "
        f"{peer.cpu / ours.cpu:10.1f}x {peer.wall / ours.wall:9.1f}x  load {ours.load:.1f}"
    )

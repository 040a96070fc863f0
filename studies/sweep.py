r"""Parameter sweeps: a study run at every point of a grid, on one machine or a Dask cluster.

::

    eplt sweep NAME --grid key=start:stop:num --grid key=v1,v2,... [--set key=value]
               [--executor serial|processes|dask] [--scheduler ADDRESS] [--workers N]
               [--timeout SECONDS] [--out DIR] [--seed N] [--resume] [--quiet]

Grid axes: ``key=start:stop:num`` (``num`` evenly spaced values, ends included),
``key=start:stop:num:log`` (geometric spacing) or ``key=v1,v2,...``; values are checked
like ``--set`` values. Points are the Cartesian product of the axes, in order.

Reliability
-----------
* **Seeds.** Point ``(i, j, ...)`` runs with the seed drawn from
  ``SeedSequence(root_seed, spawn_key=(i, j, ...))``: the same numbers on every
  executor, worker count, order of completion and after resumption.
* **Checkpoints.** Each finished point is written atomically to ``points/`` as soon as it
  is done. Rerunning into the same folder (or ``--resume``) skips finished points; a sweep
  killed by SIGINT or SIGKILL and rerun yields the same dataset, with no point lost or
  duplicated. A folder recorded for a different sweep (study, grid, fixed parameters,
  seed) is refused. Checkpoints record the eplt version; those of another version, or
  whose fields do not have the shapes eplt writes, are computed again (one warning line).
* **Aggregation.** A summary value that echoes a grid parameter is dropped where it
  equals the coordinate (stored as ``summary.KEY`` where it differs), so every study
  aggregates over every parameter.
* **Failures.** A point that raises is recorded with its error (``status`` and ``error``
  in the dataset, ``failed`` in ``sweep_summary.json``) and does not stop the others;
  the exit status is 1 when some points failed.
* **Workers.** ``processes`` (default): a local process pool sized to the machine's
  cores, each worker limited to one BLAS thread. ``dask``: a ``dask.distributed`` client
  connected to ``--scheduler`` or to a new ``LocalCluster``; the scheduler re-runs the
  tasks of a lost worker. Dask's nanny already sets ``OMP_NUM_THREADS=1`` etc. On an
  external scheduler a sweep stops with one line when the scheduler dies, or when it has
  had no worker for ``--timeout`` seconds (``EPLT_DASK_TIMEOUT``, default 120).

Outputs: ``sweep.nc`` (every numeric summary value of the study as a variable over the
grid dimensions, plus ``status``/``error``), ``sweep_summary.json``, ``sweep.json`` (the
sweep's definition), ``points/*.json`` and summary figures (PNG, PDF). The command line
lives in :mod:`eplt.studies._sweep_cli`, the figures in :mod:`eplt.studies._sweep_plot`.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from eplt.dynamics.propagate import realization_seed

from ._checkpoints import VERSION, point_file, read_checkpoint, version_warning, write_checkpoint
from ._executors import EXECUTORS, dask_timeout
from ._executors import executor as _executor
from ._folders import FolderLock, atomic_write, read_text_nofollow, require_file, require_folder
from ._resources import check_sweep_memory, check_sweep_work, sweep_notice
from ._sweep_aggregate import _flatten, aggregate  # noqa: F401 (_flatten: used by tests)
from .base import OutputError, jsonable, prepare_folder
from .params import ParamError, parse_float, parse_int, resolve, unknown_message

__all__ = ["Grid", "SweepResult", "parse_grid", "point_seed", "run_sweep"]

#: Rounds of a sweep for points whose worker died (the pool is recreated in between).
MAX_ATTEMPTS = 3
#: Largest number of grid points a sweep accepts (checked before the grid is built).
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Grid:
    """Named axes of a sweep: ``axes = ((key, values), ...)``."""

    axes: tuple[tuple[str, tuple], ...]

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.axes]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for _, v in self.axes)

    def points(self) -> Iterable[tuple[tuple[int, ...], dict]]:
        for idx in itertools.product(*[range(n) for n in self.shape]):
            yield idx, {k: vals[i] for (k, vals), i in zip(self.axes, idx)}

    def to_json(self) -> list:
        return [[k, list(jsonable(list(v)))] for k, v in self.axes]


def parse_grid(specs: Sequence[str], params, *, study: str) -> Grid:
    """Parse ``--grid`` specifications against the study's parameters."""
    idx = {p.name: p for p in params}
    axes, seen, total = [], set(), 1
    if not specs:
        raise ParamError("a sweep needs at least one --grid key=start:stop:num or key=v1,v2,...")
    for spec in specs:
        if "=" not in spec:
            raise ParamError(f"--grid expects key=start:stop:num or key=v1,v2,..., got {spec!r}")
        key, text = (s.strip() for s in spec.split("=", 1))
        if key not in idx:
            raise ParamError(unknown_message(key, params, study))
        if key in seen:
            raise ParamError(f"--grid names {key!r} twice")
        seen.add(key)
        p = idx[key]
        if p.kind in ("floats", "ints"):
            raise ParamError(f"{key} is a list parameter and cannot be a grid axis")
        if ":" in text:
            parts = text.split(":")
            log = len(parts) == 4 and parts[3] == "log"
            if len(parts) not in (3, 4) or (len(parts) == 4 and not log):
                raise ParamError(
                    f"--grid {key}: expected start:stop:num or start:stop:num:log, got {text!r}"
                )
            try:
                a, b = parse_float(parts[0], "start"), parse_float(parts[1], "stop")
                n = parse_int(parts[2], "num")
            except ParamError:
                raise ParamError(
                    f"--grid {key}: start and stop must be numbers and num an integer, got {text!r}"
                ) from None
            if not (math.isfinite(a) and math.isfinite(b)):
                raise ParamError(
                    f"--grid {key}: start and stop of a range must be finite, got {text!r}"
                    " (list infinite values explicitly: key=1,10,inf)"
                )
            if n < 1:
                raise ParamError(f"--grid {key}: num must be >= 1, got {n}")
            # refuse before anything is allocated: the whole grid is capped
            total *= n
            if n > MAX_POINTS or total > MAX_POINTS:
                raise ParamError(
                    f"--grid {key}: {total if total <= MAX_POINTS else 'more than ' + str(MAX_POINTS)}"
                    f" points; a sweep has at most {MAX_POINTS} points (lower num)"
                )
            if log and (a <= 0 or b <= 0):
                raise ParamError(f"--grid {key}: a log range needs start, stop > 0")
            raw = np.geomspace(a, b, n) if log else np.linspace(a, b, n)
            if p.kind == "int":
                raw = np.round(raw)
            values = [p.convert(float(v) if p.kind == "float" else int(v)) for v in raw]
        else:
            items = [x.strip() for x in text.split(",")]
            if not text.strip():
                raise ParamError(f"--grid {key}: empty list of values")
            if any(not x for x in items):
                raise ParamError(f"--grid {key}: empty value in {text!r} (v1,v2,...)")
            total *= len(items)
            if total > MAX_POINTS:
                raise ParamError(
                    f"--grid {key}: {total} points; a sweep has at most {MAX_POINTS} points"
                )
            values = [p.convert(x) for x in items]
        if len(set(map(repr, values))) != len(values):
            raise ParamError(f"--grid {key}: repeated values {values}")
        axes.append((key, tuple(values)))
    return Grid(tuple(axes))


def point_seed(root: int, index: Sequence[int]) -> int:
    """Seed of grid point ``index``: the first 63 bits of
    ``SeedSequence(root, spawn_key=index)`` (independent of executor and order)."""
    ss = functools.reduce(realization_seed, index, np.random.SeedSequence(int(root)))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def run_point(study: str, params: dict, seed: int, index: tuple) -> dict:
    """Run one point (in a worker): the study's ``run`` only, no figures.

    Returns a JSON-able record; exceptions become ``status = "error"`` records.
    """
    from . import get_study

    t0 = time.perf_counter()
    try:
        res = get_study(study).run(params, seed=seed, progress=False)
        summary = jsonable(res.summary)
        rec = {"status": "ok", "summary": summary, "error": ""}
    except Exception as exc:  # a point that raises is recorded, not fatal
        rec = {
            "status": "error",
            "summary": {},
            "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}",
        }
    rec.update(
        {
            "index": list(index),
            "params": jsonable(params),
            "seed": seed,
            "seconds": time.perf_counter() - t0,
            "eplt_version": VERSION,  # of the worker that computed it
        }
    )
    return rec


@dataclass(frozen=True)
class SweepResult:
    """Aggregated sweep: ``dataset`` over the grid dims, counts, and the folder."""

    dataset: xr.Dataset
    n_points: int
    n_failed: int
    n_skipped: int
    folder: Path


def _differences(recorded, definition) -> str:
    """Which fields of two sweep definitions differ, e.g. ``seed: 3 != 4; fixed.beta_max``."""
    if not isinstance(recorded, dict):
        return "the recorded definition is not a table"
    out = []
    for key in sorted(set(recorded) | set(definition)):
        a, b = recorded.get(key), definition.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    out.append(
                        f"{key}.{k}: recorded {json.dumps(a.get(k))}, now {json.dumps(b.get(k))}"
                    )
        else:
            out.append(f"{key}: recorded {json.dumps(a)}, now {json.dumps(b)}")
    return "; ".join(out)


def run_sweep(
    study: str,
    grid: Grid | Mapping[str, Sequence],
    *,
    fixed: Mapping[str, Any] | None = None,
    seed: int = 0,
    out: str | Path,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    on_point: Callable[[dict], None] | None = None,
    retry_failed: bool = False,
    max_attempts: int = MAX_ATTEMPTS,
    announce: bool = False,
    timeout: float | None = None,
    finish: Callable[[SweepResult], Any] | None = None,
) -> SweepResult:
    """Run ``study`` at every grid point, checkpointing into ``out``; returns the aggregate.

    Parameters
    ----------
    study : str
        Study name.
    grid : Grid or mapping key -> values
    fixed : mapping, optional
        Parameters held fixed (``--set``).
    seed : int
        Root seed; point seeds from :func:`point_seed`.
    out : path
        Sweep folder (created; a folder of a different sweep is refused).
    executor : {"serial", "processes", "dask"}
    workers : int, optional
        Worker processes (default: the machine's cores).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); not empty.
    timeout : float, optional
        With ``scheduler``: seconds the sweep waits while the scheduler has no worker
        before it stops with an error naming what is missing (default
        ``EPLT_DASK_TIMEOUT`` or 120 s; finished points are kept).
    retry_failed : bool
        Compute again the points recorded as failed (``status = "error"``).
    max_attempts : int
        Rounds for points whose worker died (the pool is recreated between rounds).
    announce : bool
        Print one line on stderr when the points to compute are estimated above 10 s
        (the CLI's default). Points run here (not on a remote scheduler) estimated above
        ``EPLT_WORK_LIMIT`` are refused (ResourceError) before any runs; the estimate is
        recorded in ``sweep_summary.json``.
    finish : callable, optional
        Called with the :class:`SweepResult` after ``sweep.nc`` and
        ``sweep_summary.json`` are written and before the folder's lock is released
        (the command line draws the sweep figure here, so that no other eplt process
        writes into the folder meanwhile).
    """
    from . import get_study

    st = get_study(study)
    if not isinstance(grid, Grid):
        grid = Grid(tuple((k, tuple(st_conv(st, k, v) for v in vals)) for k, vals in grid.items()))
    if int(np.prod(grid.shape)) > MAX_POINTS:
        raise ParamError(f"a sweep has at most {MAX_POINTS} points, got {int(np.prod(grid.shape))}")
    if executor not in EXECUTORS:
        raise ParamError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ParamError(f"workers must be an integer >= 1, got {workers!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParamError(f"seed must be a non-negative integer, got {seed!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ParamError(
            f"scheduler must be the address of a Dask scheduler (tcp://host:port), got {scheduler!r}"
        )
    if scheduler is not None and executor != "dask":
        raise ParamError("a scheduler needs executor='dask'")
    timeout = dask_timeout(timeout) if executor == "dask" else None
    fixed = dict(fixed or {})
    clash = set(fixed) & set(grid.keys)
    if clash:
        raise ParamError(f"{sorted(clash)} given both as --set and --grid")
    base = resolve(st.PARAMS, fixed, study=st.NAME)  # validates the fixed part
    n_parallel = 1 if executor == "serial" else (workers or os.cpu_count() or 1)
    local = executor != "dask" or scheduler is None  # points run on this machine
    if local:
        check_sweep_memory(st, grid, base, n_parallel)
    definition = {
        "study": st.NAME,
        "grid": grid.to_json(),
        # every value not on the grid, defaults included: a changed default is a new sweep
        "fixed": jsonable({k: base[k] for k in sorted(base) if k not in grid.keys}),
        "seed": int(seed),
    }
    definition = json.loads(json.dumps(definition))
    out = Path(out)
    spec_file = out / "sweep.json"
    created = not out.exists()
    if not require_file(spec_file, "a sweep definition (sweep.json)"):
        try:
            prepare_folder(out, force=False)
        except OutputError:
            if out.is_dir() and any(out.iterdir()):
                raise OutputError(
                    f"{str(out)!r} is not empty and holds no sweep; choose another --out"
                ) from None
            raise
    lock = FolderLock(out).acquire()
    try:
        # checked again now that no one else writes into the folder: never a link or a
        # folder where eplt reads or writes a file
        require_file(spec_file, "a sweep definition (sweep.json)")
        require_folder(out / "points", "the folder of the sweep's checkpoints")
        from ._folders import clean_stale

        clean_stale(out, lock.stale)
        lock.forget_stale()
        wrote_spec = False
        if spec_file.exists():
            try:
                recorded = json.loads(read_text_nofollow(spec_file))
            except (OSError, ValueError, UnicodeDecodeError, RecursionError):
                recorded = None
            if recorded is None:
                # damaged (e.g. truncated by a crash): every checkpoint is still checked
                # against this sweep's parameters and seed, so rewriting it loses nothing
                print(
                    f"eplt: warning: {spec_file} is damaged; rewritten from this sweep's definition",
                    file=sys.stderr,
                )
                atomic_write(
                    spec_file, lambda p: p.write_text(json.dumps(definition, indent=2) + "\n")
                )
            elif recorded != definition:
                raise ParamError(
                    f"{str(out)!r} holds a different sweep ({_differences(recorded, definition)}); use another --out"
                )
        else:
            atomic_write(spec_file, lambda p: p.write_text(json.dumps(definition, indent=2) + "\n"))
            wrote_spec = True
        try:
            (out / "points").mkdir(exist_ok=True)
        except OSError as exc:
            from ._folders import WriteError, os_message

            raise WriteError(f"cannot create {str(out / 'points')!r}: {os_message(exc)}") from None
        try:
            res = _run_points(
                st,
                grid,
                base,
                seed,
                out,
                executor,
                workers,
                scheduler,
                progress,
                on_point,
                retry_failed,
                max_attempts,
                n_parallel if local else None,
                announce,
                timeout,
            )
        except BaseException:
            if wrote_spec and not any((out / "points").iterdir()):
                # nothing was computed (e.g. the scheduler is unreachable): leave no
                # sweep.json behind that would refuse another grid in this folder
                with contextlib.suppress(OSError):
                    spec_file.unlink()  # a regular file this call wrote (checked above)
                with contextlib.suppress(OSError):
                    (out / "points").rmdir()
                if created:
                    lock.release()  # removes the lock file; rmdir removes only an empty folder
                    with contextlib.suppress(OSError):
                        out.rmdir()
            raise
        if finish is not None:
            finish(res)  # e.g. the figure: written while the folder is still locked
        return res
    finally:
        lock.release()


def _run_points(
    st,
    grid,
    base,
    seed,
    out,
    executor,
    workers,
    scheduler,
    progress,
    on_point,
    retry_failed,
    max_attempts,
    n_parallel,
    announce,
    timeout,
) -> SweepResult:
    todo, skipped, other_versions = [], 0, []
    for idx, values in grid.points():
        params = {**base, **values}
        s = point_seed(seed, idx)
        expect = {"index": list(idx), "params": jsonable(params), "seed": s}
        rec = read_checkpoint(point_file(out, idx), expect, other_versions=other_versions)
        if rec is not None and not (retry_failed and rec["status"] != "ok"):
            skipped += 1
            continue
        todo.append((idx, params, s))
    line = version_warning(other_versions)
    if line:
        print(line, file=sys.stderr, flush=True)
    work = None
    if n_parallel is not None:  # on this machine: refused above EPLT_WORK_LIMIT, announced
        work = check_sweep_work(st, [params for _, params, _ in todo], n_parallel)
        notice = sweep_notice(st, work, len(todo), n_parallel) if announce else None
        if notice:
            print(notice, file=sys.stderr, flush=True)

    bar = None
    lost: dict[tuple, str] = {}  # points whose worker died: index -> error
    foreign: set[str] = set()  # eplt versions of workers other than this one
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"sweep {st.NAME}", leave=False)
    pending = todo
    for _attempt in range(max(1, max_attempts)):
        if not pending:
            break
        again = []
        with _executor(executor, workers, scheduler, timeout) as (submit, completed):
            futures = {
                submit(run_point, st.NAME, params, s, idx): (idx, params, s)
                for idx, params, s in pending
            }
            for fut in completed(futures):
                item = futures[fut]
                try:
                    rec = fut.result()
                except Exception as exc:
                    # the worker itself died (killed, out of memory): no point file; the
                    # point runs again in a new pool (bounded), else stays "missing"
                    lost[tuple(int(i) for i in item[0])] = f"{type(exc).__name__}: {exc}"
                    again.append(item)
                    continue
                lost.pop(tuple(int(i) for i in item[0]), None)
                rec = {"eplt_version": VERSION, **rec}  # a worker's own version wins
                if rec["eplt_version"] != VERSION:
                    foreign.add(str(rec["eplt_version"]))
                write_checkpoint(out, rec)
                if on_point is not None:
                    on_point(rec)
                if bar is not None:
                    bar.update()
        pending = again
    if bar is not None:
        bar.close()
    if foreign:
        print(
            f"eplt: warning: Dask workers run eplt {', '.join(sorted(foreign))} (this is"
            f" {VERSION}); their points are not aggregated: install the same version everywhere",
            file=sys.stderr,
        )
    ds = aggregate(out, grid)
    atomic_write(out / "sweep.nc", lambda p: ds.to_netcdf(p, engine="scipy"))
    n_failed = int((ds["status"].values != "ok").sum())
    failures = [
        {
            "point": {k: jsonable(ds[k].values[i]) for k, i in zip(grid.keys, idx)},
            "error": lost.get(tuple(int(i) for i in idx)) or str(ds["error"].values[idx]),
        }
        for idx in zip(*np.nonzero(ds["status"].values != "ok"))
    ]
    summary = {
        "study": st.NAME,
        "points": int(np.prod(grid.shape)),
        "failed": n_failed,
        "skipped_existing": skipped,
        "failures": failures,
        # the points computed now, on this machine (null on a remote scheduler)
        "estimated_cpu_seconds": None if work is None else work["cpu"],
        "estimated_wall_seconds": None if work is None else work["wall"],
    }
    atomic_write(
        out / "sweep_summary.json",
        lambda p: p.write_text(json.dumps(jsonable(summary), indent=2) + "\n"),
    )
    return SweepResult(ds, int(np.prod(grid.shape)), n_failed, skipped, out)


def st_conv(st, key, value):
    idx = {p.name: p for p in st.PARAMS}
    if key not in idx:
        raise ParamError(unknown_message(key, st.PARAMS, st.NAME))
    return idx[key].convert(value)

"""What every study returns and how a study run is written to disk.

A study module defines ``NAME``, ``DESCRIPTION``, ``PARAMS`` (a tuple of
:class:`eplt.studies.params.Param`), ``SUMMARY_KEYS`` (key -> meaning), ``run(params=None, *,
seed=0, progress=False) -> StudyResult``, ``plot(result, ax=None, **kw)`` and
``figures(result) -> dict[name, Figure]``.

Output folder layout (:func:`write_outputs`):

* ``data.nc`` — the study's labelled arrays (xarray, NetCDF3 via scipy), units in attrs;
* ``summary.json`` — headline numbers (keys documented per study);
* ``metadata.json`` — study, parameters, seed, package versions, git revision;
* ``<figure>.png`` and ``<figure>.pdf`` for each figure.

Every file is written to a temporary name, flushed to disk and moved into place with
``os.replace``, with the umask's mode; a run is staged and moved into the folder with
``metadata.json`` last (see :mod:`eplt.studies._folders` for what survives a crash). An
existing non-empty folder is refused unless ``force=True``; a folder left incomplete by
a killed run is recognised and rewritten; a folder another process is writing into is
refused.
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._folders import (
    SESSION,
    FolderLock,
    OutputError,
    WriteError,
    atomic_write,
    check_name,
    clean_stale,
    incomplete_files,
    os_message,
    previous_outputs,
    remove_incomplete,
    require_file,
    staged_run,
    visible_entries,
)

__all__ = [
    "OutputError",
    "StudyResult",
    "WriteError",
    "claim_folder",
    "jsonable",
    "metadata",
    "value_at",
    "write_figures",
    "write_outputs",
]


@dataclass(frozen=True, eq=False)
class StudyResult:
    """Outcome of a study's ``run``.

    Attributes
    ----------
    name : str
        Study name.
    params : dict
        Resolved parameters.
    seed : int
        Root seed.
    data : xarray.Dataset
        Labelled arrays (time series, grids), units in ``attrs["units"]`` of each variable.
    summary : dict
        Headline numbers (JSON-able).
    extra : dict
        Anything plots need beyond ``data`` (not written to disk).
    """

    name: str
    params: dict
    seed: int
    data: xr.Dataset
    summary: dict
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.name} (seed {self.seed})"]
        for k, v in self.summary.items():
            lines.append(f"  {k}: {json.dumps(jsonable(v))}")
        return "\n".join(lines)


def jsonable(x: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats into JSON-safe values
    (``inf`` -> ``"inf"``, ``nan`` -> ``None``)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return x


def _git_revision() -> str | None:
    """HEAD of the eplt source checkout this code runs from (``-dirty`` with uncommitted
    changes); None for an installed wheel, even one inside another project's repository."""
    here = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    top, rev = out.stdout.split()
    if Path(top).resolve() != here:  # e.g. site-packages/eplt inside a user's repository
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=5,
    )
    return rev + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def metadata(result: StudyResult) -> dict:
    """Parameters, seed, versions and git revision of a run."""
    import importlib.metadata as md

    versions = {}
    for pkg in ("eplt", "qutip", "numpy", "scipy", "matplotlib", "xarray"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {
        "study": result.name,
        "params": jsonable(result.params),
        "seed": result.seed,
        "versions": versions,
        "python": platform.python_version(),
        "git_revision": _git_revision(),
    }


def value_at(rho0, env, e_op, key: str = "value") -> Callable[[float], Any]:
    """``t -> `` the exact value of one observable at time ``t`` (for root finders that
    refine a crossing between grid points); ``t <= 0`` gives the value at the start."""
    from eplt.dynamics import evolve

    e_ops = {key: e_op}

    def f(t: float):
        return evolve(rho0, env, [0.0] if t <= 0 else [0.0, t], e_ops=e_ops).expect[key][-1]

    return f


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    atomic_write(path, write)


def prepare_folder(out: Path, *, force: bool = False) -> Path:
    """Create ``out`` (refusing a non-empty one unless ``force``) and check it is writable.

    The lock, eplt's temporaries and the files of an incomplete run (named by its
    marker) do not count as content. Any problem (a name too long, a file where the
    folder should be, a marker eplt did not write, a read-only file system) raises
    :class:`OutputError` in one line naming the path.
    """
    out = Path(out)
    check_name(out)
    try:
        if out.exists() and not out.is_dir():
            raise OutputError(f"output path {str(out)!r} exists and is not a folder")
        if out.is_dir() and not force:
            leftover = set(incomplete_files(out) or ())
            if [p for p in visible_entries(out) if p.name not in leftover]:
                raise OutputError(
                    f"output folder {str(out)!r} is not empty;"
                    " use --force to overwrite its files or --out to choose another"
                )
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".write-test", delete=True)
        probe.close()
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(
            f"output folder {str(out)!r} is not writable: {os_message(exc)}"
        ) from None
    return out


def _without_string_units(ds: xr.Dataset) -> xr.Dataset:
    """Drop ``units`` from text-valued coordinates and variables (labels have no unit;
    xarray would print them as ``[1]``)."""
    for name in list(ds.coords) + list(ds.data_vars):
        if ds[name].dtype.kind in "OUS" and "units" in ds[name].attrs:
            ds[name].attrs = {k: v for k, v in ds[name].attrs.items() if k != "units"}
    return ds


def claim_folder(out: Path, *, force: bool = False) -> FolderLock:
    """:func:`prepare_folder`, then hold the folder's lock (a second writer is refused),
    remove the temporaries of dead runs (those whose token their lock file recorded) and
    the files of an incomplete run; returns the lock."""
    import sys

    out = prepare_folder(out, force=force)
    lock = FolderLock(out).acquire()
    try:
        prepare_folder(out, force=force)  # again, now that no one else writes into it
        for name in ("data.nc", "summary.json", "metadata.json"):  # before computing
            require_file(out / name, "a file eplt can replace")
        clean_stale(out, lock.stale)
        lock.forget_stale()
        if incomplete_files(out) is not None:
            names = remove_incomplete(out)
            print(
                f"eplt: warning: {str(out)!r} held an incomplete run; removed its files"
                f" ({', '.join(names) or 'none'})",
                file=sys.stderr,
            )
    except BaseException:
        lock.release()
        raise
    return lock


def write_outputs(
    result: StudyResult,
    figures: dict,
    out: Path,
    *,
    formats: Iterable[str] = ("png", "pdf"),
    force: bool = False,
    lock: FolderLock | None = None,
) -> list[Path]:
    """Write data, summary, metadata and figures of ``result`` into ``out``: staged, then
    moved into place with ``metadata.json`` (the completion mark) last.

    ``lock``: a :class:`FolderLock` already held on ``out`` (from :func:`claim_folder`);
    without it the folder is claimed here.

    ``metadata.json`` lists the run's files and its random token. Writing into a folder
    of an earlier run (``force``), that run's files which the new run does not replace
    (e.g. another study's figures) are removed only when its ``metadata.json`` lists them
    (:func:`eplt.studies._folders.previous_outputs`); otherwise they are kept and named in
    one warning line, since they may be the user's.
    """
    own = lock is None
    if own:
        lock = claim_folder(out, force=force)
    out = Path(out)
    try:
        data = _without_string_units(result.data.copy())
        data.attrs = {
            k: (json.dumps(jsonable(v)) if not isinstance(v, (str, int, float)) else v)
            for k, v in data.attrs.items()
        }
        previous = previous_outputs(out)
        with staged_run(out, remove=tuple(previous or ())) as stage:
            names = ["data.nc", "summary.json", "metadata.json"]
            atomic_write(stage / "data.nc", lambda p: data.to_netcdf(p, engine="scipy"))
            atomic_write(
                stage / "summary.json",
                lambda p: p.write_text(json.dumps(jsonable(result.summary), indent=2) + "\n"),
            )
            names += [p.name for p in write_figures(figures, stage, formats, keep_going=True)]
            meta = {**metadata(result), "files": sorted(names), "token": SESSION}
            atomic_write(
                stage / "metadata.json",
                lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"),
            )
            if previous is None and (out / "metadata.json").exists():
                _warn_kept(out, set(names))
    finally:
        if own:
            lock.release()
    return [out / n for n in names]


def _warn_kept(out: Path, new: set[str]) -> None:
    """One warning line naming an earlier run's files that stay beside the new ones."""
    import sys

    kept = sorted(p.name for p in visible_entries(out) if p.name not in new)
    if kept:
        shown = ", ".join(kept[:8]) + (f" and {len(kept) - 8} more" if len(kept) > 8 else "")
        print(
            f"eplt: warning: {str(out)!r} held a run whose metadata.json does not list its"
            f" files, so eplt keeps what it cannot prove it wrote: {shown}",
            file=sys.stderr,
        )


def figure_warning(what: str, exc: BaseException, kept: Iterable[str], folder: Path) -> str:
    """One warning line: ``what`` could not be drawn or saved, ``kept`` are in ``folder``."""
    msg = " ".join(f"{type(exc).__name__}: {exc}".split())
    return (
        f"eplt: warning: {what} could not be drawn ({msg[:300]});"
        f" the data are kept in {str(folder)!r}: {', '.join(kept)}"
    )


def write_figures(
    figures: dict,
    out: Path,
    formats: Iterable[str] = ("png", "pdf"),
    *,
    keep_going: bool = False,
) -> list[Path]:
    """Save each figure as ``out/NAME.FMT`` atomically, with the shared style's output
    settings (dpi, tight bounding box, embedded TrueType fonts).

    ``keep_going``: a figure that fails to render (any error but a failed write, e.g. a
    disk that is full) is skipped with one warning line on stderr instead of raising.
    """
    import sys

    from .style import style

    written = []
    with style():
        for name, fig in figures.items():
            for fmt in formats:
                path = Path(out) / f"{name}.{fmt}"
                try:
                    atomic_write(path, lambda p, fig=fig, fmt=fmt: fig.savefig(p, format=fmt))
                except WriteError:
                    raise
                except Exception as exc:
                    if not keep_going:
                        raise
                    print(
                        f"eplt: warning: figure {path.name} could not be saved"
                        f" ({' '.join(f'{type(exc).__name__}: {exc}'.split())[:300]}); skipped",
                        file=sys.stderr,
                    )
                    continue
                written.append(path)
    return written

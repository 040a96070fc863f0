"""Sweep checkpoints: one JSON file per finished point, with an integrity check.

Each record carries ``sha256``, the hash of its canonical JSON text without that field.
A checkpoint counts as done only when it is a regular file, parses, its hash matches,
its fields have the shapes eplt writes (a ``summary`` table of numbers, text, lists and
tables; ``status`` "ok" or "error"; ...), its index, parameters and seed are the ones
this sweep would run at that point, and it was computed by this version of eplt
(``eplt_version``, from ``importlib.metadata``). Any other file (truncated by a crash,
emptied, edited by hand, from another sweep) is reported in one warning line naming the
file, and the point is computed again; checkpoints of another eplt version are reported
together in one line (:func:`version_warning`).
"""

from __future__ import annotations

import hashlib
import json
import math
import stat
import sys
from pathlib import Path

from ._folders import atomic_write, lstat_or_none, read_text_nofollow

__all__ = [
    "VERSION",
    "point_file",
    "read_checkpoint",
    "seal",
    "version_warning",
    "write_checkpoint",
]


def _version() -> str:
    import importlib.metadata as md

    try:
        return md.version("eplt")
    except md.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "unknown"


#: Version of the eplt that computes and reads checkpoints.
VERSION = _version()
#: Deepest nesting of tables and lists accepted in a checkpoint's summary.
_MAX_DEPTH = 32


def point_file(folder: Path, index: tuple) -> Path:
    return Path(folder) / "points" / ("p_" + "_".join(f"{i:05d}" for i in index) + ".json")


def _digest(rec: dict) -> str:
    body = {k: v for k, v in rec.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def seal(rec: dict) -> dict:
    """``rec`` with its ``sha256`` field."""
    return {**rec, "sha256": _digest(rec)}


def write_checkpoint(folder: Path, rec: dict) -> Path:
    """Seal ``rec`` (stamped with this eplt version unless it names the version of the
    worker that computed it) and write it atomically to its point file."""
    path = point_file(folder, tuple(rec["index"]))
    sealed = seal({"eplt_version": VERSION, **rec})
    atomic_write(path, lambda p: p.write_text(json.dumps(sealed) + "\n"))
    return path


def _sound_value(v, depth: int = 0) -> bool:
    """Whether ``v`` is a summary value eplt writes: a finite number, text, ``null``, a
    boolean, or a list or table of those (nested at most :data:`_MAX_DEPTH` deep)."""
    if depth > _MAX_DEPTH:
        return False
    if v is None or isinstance(v, (bool, int, str)):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(_sound_value(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _sound_value(x, depth + 1) for k, x in v.items())
    return False


def _shape_problem(rec: dict) -> str:
    """Why the fields of ``rec`` do not have the shapes eplt writes ("" when they do)."""
    for key in ("status", "summary", "error", "index"):
        if key not in rec:
            return f"field {key!r} missing"
    if rec["status"] not in ("ok", "error"):
        return "field 'status' is neither 'ok' nor 'error'"
    if not isinstance(rec["error"], str):
        return "field 'error' is not text"
    idx = rec["index"]
    if not isinstance(idx, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in idx
    ):
        return "field 'index' is not a list of grid indices"
    if not isinstance(rec["summary"], dict) or not _sound_value(rec["summary"]):
        return "field 'summary' is not a table of numbers, text and lists"
    sec = rec.get("seconds", 0.0)
    if isinstance(sec, bool) or not isinstance(sec, (int, float)):
        return "field 'seconds' is not a number"
    return ""


def _problem(path: Path, expect: dict | None) -> tuple[dict | None, str]:
    st = lstat_or_none(path)
    if st is None:
        return None, "missing"
    if not stat.S_ISREG(st.st_mode):
        return None, "not a regular file"
    try:
        text = read_text_nofollow(path)
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"unreadable ({type(exc).__name__})"
    if not text.strip():
        return None, "empty"
    try:
        rec = json.loads(text)
    except (ValueError, RecursionError):
        return None, "not valid JSON (truncated?)"
    if not isinstance(rec, dict) or "sha256" not in rec:
        return None, "no integrity hash"
    try:
        ok = rec["sha256"] == _digest(rec)
    except (TypeError, ValueError, RecursionError):
        ok = False
    if not ok:
        return None, "content does not match its hash (edited or damaged)"
    why = _shape_problem(rec)
    if why:
        return None, why
    if expect is not None:
        for key, want in expect.items():
            if json.loads(json.dumps(rec.get(key))) != json.loads(json.dumps(want)):
                return None, f"recorded {key} differs from this sweep's"
    return rec, ""


def read_checkpoint(
    path: Path,
    expect: dict | None = None,
    *,
    warn: bool = True,
    other_versions: list | None = None,
) -> dict | None:
    """The record in ``path`` if it is a sound checkpoint (matching ``expect``: field ->
    value, e.g. index, params, seed) computed by this eplt version, else None with a
    one-line warning naming the file.

    ``other_versions``: a list that collects ``(path, version)`` of sound checkpoints of
    another eplt version instead of warning about each (see :func:`version_warning`).
    """
    path = Path(path)
    if lstat_or_none(path) is None:
        return None
    rec, why = _problem(path, expect)
    if rec is not None and rec.get("eplt_version") != VERSION:
        recorded = rec.get("eplt_version")
        if other_versions is not None:
            other_versions.append((path, recorded))
            return None
        rec, why = None, f"computed by eplt {recorded or 'of unknown version'} (this is {VERSION})"
    if rec is None and warn:
        print(
            f"eplt: warning: checkpoint {path}: {why}; computing the point again", file=sys.stderr
        )
    return rec


def version_warning(other_versions: list) -> str | None:
    """One warning line for the checkpoints of other eplt versions (None when there are
    none): how many, which versions, where, and that they are computed again."""
    if not other_versions:
        return None
    versions = sorted({str(v or "unknown") for _, v in other_versions})
    folder = Path(other_versions[0][0]).parent
    return (
        f"eplt: warning: {len(other_versions)} checkpoint(s) in {str(folder)!r} were computed by"
        f" eplt {', '.join(versions)} (this is {VERSION}); computing those points again"
    )

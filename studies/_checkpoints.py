"""Sweep checkpoints: one JSON file per finished point, with an integrity check.

Each record carries ``sha256``, the hash of its canonical JSON text without that field.
A checkpoint counts as done only when it parses, its hash matches, and its index,
parameters and seed are the ones this sweep would run at that point; any other file
(truncated by a crash, emptied, edited by hand, from another sweep) is reported in one
warning line naming the file and the point is computed again.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from ._folders import atomic_write

__all__ = ["point_file", "read_checkpoint", "seal", "write_checkpoint"]


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
    path = point_file(folder, tuple(rec["index"]))
    sealed = seal(rec)
    atomic_write(path, lambda p: p.write_text(json.dumps(sealed) + "\n"))
    return path


def _problem(path: Path, expect: dict | None) -> tuple[dict | None, str]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"unreadable ({type(exc).__name__})"
    if not text.strip():
        return None, "empty"
    try:
        rec = json.loads(text)
    except ValueError:
        return None, "not valid JSON (truncated?)"
    if not isinstance(rec, dict) or "sha256" not in rec:
        return None, "no integrity hash"
    try:
        ok = rec["sha256"] == _digest(rec)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        return None, "content does not match its hash (edited or damaged)"
    for key in ("status", "summary", "error", "index"):
        if key not in rec:
            return None, f"field {key!r} missing"
    if expect is not None:
        for key, want in expect.items():
            if json.loads(json.dumps(rec.get(key))) != json.loads(json.dumps(want)):
                return None, f"recorded {key} differs from this sweep's"
    return rec, ""


def read_checkpoint(path: Path, expect: dict | None = None, *, warn: bool = True) -> dict | None:
    """The record in ``path`` if it is a sound checkpoint (matching ``expect``: field ->
    value, e.g. index, params, seed), else None with a one-line warning naming the file."""
    path = Path(path)
    if not path.exists():
        return None
    rec, why = _problem(path, expect)
    if rec is None and warn:
        print(
            f"eplt: warning: checkpoint {path}: {why}; computing the point again", file=sys.stderr
        )
    return rec

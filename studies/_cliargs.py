"""Command-line argument types shared by ``eplt run`` (:mod:`eplt.studies.cli`) and ``eplt sweep``
(:mod:`eplt.studies.sweep`): both import them from here, so neither imports the other."""

from __future__ import annotations

from pathlib import Path

__all__ = ["FORMATS", "UsageError", "out_folder"]

FORMATS = ("png", "pdf", "svg")


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit status 2."""


def _formats(text: str) -> tuple[str, ...]:
    fmts = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in FORMATS]
    if not fmts or bad:
        raise UsageError(
            f"--format must be a comma-separated subset of {','.join(FORMATS)}, got {text!r}"
        )
    return fmts


def _seed(text: str) -> int:
    from .params import ParamError, parse_int

    try:
        s = parse_int(text, "--seed")
    except ParamError:
        raise UsageError(f"--seed must be a non-negative integer, got {text!r}") from None
    if s < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {text!r}")
    return s


def out_folder(text: str | None, default: Path) -> Path:
    """``--out`` as a path (the default when not given; an empty or blank text is refused)."""
    if text is None:
        return default
    if not text.strip():
        raise UsageError(f"--out must name a folder, got {text!r}")
    from ._folders import OutputError, check_name

    try:
        check_name(Path(text))  # a name over 255 bytes, a NUL byte
    except OutputError as exc:
        raise UsageError(f"--out: {exc}") from None
    return Path(text)

"""Shared checks of ``eplt run`` for the study tests."""

from __future__ import annotations

import json
from pathlib import Path

from eplt.studies import cli


def run_ok(tmp_path: Path, study: str, sets: dict, figures: tuple[str, ...]) -> dict:
    """``eplt run STUDY --quiet --set k=v ...`` into a fresh folder: exit status 0, the
    data, summary, metadata and every figure as PNG and PDF; returns the summary."""
    out = tmp_path / "o"
    argv = ["run", study, "--out", str(out), "--quiet"]
    for k, v in sets.items():
        argv += ["--set", f"{k}={v}"]
    assert cli.main(argv) == 0
    names = {p.name for p in out.iterdir()}
    expected = {"data.nc", "summary.json", "metadata.json"}
    expected |= {f"{f}.{x}" for f in figures for x in ("png", "pdf")}
    assert expected <= names, expected - names
    return json.loads((out / "summary.json").read_text())


def run_error(tmp_path: Path, capsys, study: str, sets: dict) -> str:
    """``eplt run`` with bad ``sets``: exit status 2 and exactly one ``eplt: error:`` line,
    no traceback; returns that line."""
    argv = ["run", study, "--out", str(tmp_path / "o"), "--quiet"]
    for k, v in sets.items():
        argv += ["--set", f"{k}={v}"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("eplt: error:") and err.count("\n") == 1 and "Traceback" not in err
    return err

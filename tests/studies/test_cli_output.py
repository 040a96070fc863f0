"""What ``eplt run`` prints: a readable summary and one progress line per phase."""

import json

from eplt.studies import cli
from eplt.studies._summary_text import format_summary, format_value

TINY = {"n_times": 21, "t_hold": 2.0}


def _run(tmp_path, capsys, *extra):
    argv = ["run", "thermo", "--out", str(tmp_path / "o"), *extra]
    for k, v in TINY.items():
        argv += ["--set", f"{k}={v}"]
    assert cli.main(argv) == 0
    return capsys.readouterr()


def test_summary_is_rounded_folded_and_narrow(tmp_path, capsys):
    cap = _run(tmp_path, capsys)
    lines = cap.out.splitlines()
    assert max(map(len, lines)) <= 100, max(lines, key=len)
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    # one line per top-level key, in order, at indent 2
    top = [ln.split(":")[0].strip() for ln in lines if ln.startswith("  ") and ln[2] != " "]
    assert top[: len(summary)] == list(summary)
    # numbers rounded to 4 significant digits (summary.json keeps every digit)
    assert f"  gamma: {summary['gamma']:.4g}" in lines
    assert len(repr(summary["gamma"])) > 8
    # a dictionary folded onto indented lines, one per scenario
    i = lines.index("  mutual_information_at_t_star:")
    mi = summary["mutual_information_at_t_star"]
    assert lines[i + 1 : i + 1 + len(mi)] == [f"    {k}: {v:.4g}" for k, v in mi.items()]
    # the undefined total is printed as null, its reason wrapped within the width
    assert "    correlated: null" in lines
    assert "entropy_production_undefined:" in cap.out
    assert "{" not in cap.out and '"' not in cap.out  # no raw JSON


def test_one_progress_line_per_phase_when_stderr_is_not_a_terminal(tmp_path, capsys, monkeypatch):
    from eplt.studies import _resources

    short = _run(tmp_path / "s", capsys)  # a short run: no notice, no phase lines
    assert short.err == ""
    monkeypatch.setattr(_resources, "NOTICE_SECONDS", 0.0)  # every run counts as long
    cap = _run(tmp_path, capsys)  # capsys: stderr is not a terminal
    lines = cap.err.splitlines()
    assert lines[0].startswith("thermo: estimated ")  # the notice opens the computing phase
    phases = [ln.split(": ")[2].split(" ")[0] for ln in lines[1:]]
    assert phases == ["computed", "writing"] and all(
        ln.startswith("eplt: thermo: ") for ln in lines[1:]
    )
    assert "\r" not in cap.err  # no progress bar redraws in a log
    quiet = _run(tmp_path / "q", capsys, "--quiet")
    assert quiet.out == "" and quiet.err == ""


def test_format_value_and_nesting():
    from types import SimpleNamespace

    summary = {"a": {"x": [1.23456, 2.0], "y": {"deep": 1e-17}}, "b": [{"k": 1}], "t": "word " * 40}
    text = format_summary(SimpleNamespace(name="demo", seed=3, summary=summary), width=40)
    assert text.splitlines() == [
        "demo (seed 3; every digit in summary.json)",
        "  a:",
        "    x: [1.235, 2]",
        "    y: deep=1e-17",
        "  b:",
        "    [0]: k=1",
        "  t: word word word word word word word",
        "      word word word word word word word",
        "      word word word word word word word",
        "      word word word word word word word",
        "      word word word word word word word",
        "      word word word word word",
    ]
    assert format_value(float("nan")) == "nan" and format_value(-float("inf")) == "-inf"

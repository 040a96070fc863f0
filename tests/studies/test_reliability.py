"""Reliability of the command line and sweeps (issue #10): input is never silently
reinterpreted, what would not fit is refused before allocating, run folders and sweep
checkpoints survive crashes."""

from __future__ import annotations

import pytest

from studies.cli import main
from studies.params import Param, ParamError


def _one_line_error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("eplt: error:") and err.count("\n") == 1 and "Traceback" not in err
    return err


# ----------------------------------------------------------------- item 4: misread input


@pytest.mark.parametrize(
    "sets, needle",
    [
        (["kappa_ratios=1 10"], "got '1 10'"),  # used to become [110.0]
        (["kappa_ratios=1,,10"], "empty value"),
        (["beta=1_0"], "got '1_0'"),  # float() reads it as 10
        (["beta=\uff11\uff10"], "beta must be a number"),  # full-width digits
        (["n_times=2_1"], "n_times must be an integer"),
        (["beta=1", "beta=2"], "--set beta given twice"),
    ],
)
def test_ambiguous_values_are_refused_not_reinterpreted(tmp_path, capsys, sets, needle):
    argv = ["run", "speedup", "--out", str(tmp_path / "o"), "--quiet"]
    for s in sets:
        argv += ["--set", s]
    assert needle in _one_line_error(argv, capsys)
    assert not (tmp_path / "o").exists()


def test_empty_out_is_refused(capsys):
    assert "--out must name a folder" in _one_line_error(["run", "speedup", "--out", ""], capsys)
    assert "--out must name a folder" in _one_line_error(
        ["sweep", "speedup", "--grid", "beta=1,2", "--out", " "], capsys
    )


def test_list_rule_blanks_around_commas_are_fine():
    p = Param("xs", (1.0,), "floats", low=0)
    assert p.convert(" 1, 10 ,100 ") == (1.0, 10.0, 100.0)
    assert p.convert("[1,10]") == (1.0, 10.0)
    for bad in ("1 10", "1,,10", "1,", "1_0"):
        with pytest.raises(ParamError):
            p.convert(bad)


def test_bounds_print_with_enough_digits():
    import math

    p = Param("theta", 0.1, "float", low=0, high=math.pi / 2)
    with pytest.raises(ParamError, match=r"\[0, 1\.5707963267948966\], got 1\.5708"):
        p.convert("1.5708")
    assert p.convert(repr(math.pi / 2)) == math.pi / 2


@pytest.mark.parametrize("grid", ["beta=1,,2", "beta=1_0:2:3", "beta=1:2:1_0"])
def test_grid_values_follow_the_same_rule(tmp_path, capsys, grid):
    _one_line_error(["sweep", "speedup", "--grid", grid, "--out", str(tmp_path / "s")], capsys)
    assert not (tmp_path / "s").exists()

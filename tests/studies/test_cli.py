"""The command line: outputs, bad input (one line, exit status 2), no data loss."""

import json
import subprocess
import sys

import pytest
from eplt.studies.cli import main

SMALL = [
    "--set",
    "n_times=21",
    "--set",
    "n_beta=4",
    "--set",
    "kappa_ratios=10",
    "--set",
    "beta_max=8",
]


def run_cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_all_outputs(tmp_path, capsys):
    out = tmp_path / "o"
    code, _, err = run_cli(["run", "speedup", "--out", str(out), *SMALL], capsys)
    assert code == 0, err
    names = {p.name for p in out.iterdir()}
    for f in (
        "data.nc",
        "summary.json",
        "metadata.json",
        "timeseries.png",
        "timeseries.pdf",
        "speedup_vs_beta.png",
        "speedup_vs_beta.pdf",
    ):
        assert f in names
    assert not [n for n in names if n.endswith(".tmp")]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["params"]["n_times"] == 21 and meta["seed"] == 0 and meta["versions"]["qutip"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gamma"] > 0 and "speedup" in summary
    import xarray as xr

    with xr.open_dataset(out / "data.nc", engine="scipy") as ds:
        assert "negativity" in ds and ds["time"].attrs["units"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "speedupp"], "unknown study 'speedupp'; did you mean 'speedup'?"),
        (
            ["run", "speedup", "--set", "kapa=3"],
            "unknown parameter 'kapa' for study 'speedup'; did you mean 'kappa'?",
        ),
        (["run", "speedup", "--set", "kappa=abc"], "kappa must be a number"),
        (["run", "speedup", "--set", "eps=2"], "eps must lie in [1e-10, 0.5)"),
        (["run", "speedup", "--set", "omega=inf"], "omega must lie in [1e-06, 1e+06]"),
        (["run", "speedup", "--set", "n_times=3.5"], "n_times must be an integer"),
        (["run", "speedup", "--set", "kappa"], "--set expects key=value"),
        (
            ["run", "speedup", "--set", "kappa_ratios=1,x"],
            "kappa_ratios must be a number in [1e-06, 1e+06] or inf, got 'x' (a comma-separated list, e.g. 1,10,100)",
        ),
        (["run", "speedup", "--seed", "-1"], "--seed must be a non-negative integer"),
        (["run", "speedup", "--format", "gif"], "--format must be"),
        (
            ["run", "speedup", "--set", "beta=800"],
            "gamma = 2 p_min underflows double precision",
        ),
        (["bogus"], "invalid choice"),
    ],
)
def test_bad_input_one_line_exit_2(args, needle, capsys, tmp_path):
    code, _, err = run_cli(
        [*args, *(["--out", str(tmp_path / "x")] if args[0] == "run" else [])], capsys
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eplt: error:")
    assert needle in lines[0]
    assert "Traceback" not in err


def test_malformed_toml_and_config(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("kappa = = 3\n")
    code, _, err = run_cli(
        ["run", "speedup", "--config", str(bad), "--out", str(tmp_path / "x")], capsys
    )
    assert code == 2 and "malformed TOML" in err and len(err.strip().splitlines()) == 1
    good = tmp_path / "good.toml"
    good.write_text(
        "seed = 7\n[params]\nn_times = 21\nn_beta = 4\nkappa_ratios = [10.0]\nbeta_max = 8.0\n"
    )
    out = tmp_path / "g"
    code, _, err = run_cli(
        ["run", "speedup", "--config", str(good), "--out", str(out), "--quiet"], capsys
    )
    assert code == 0, err
    assert json.loads((out / "metadata.json").read_text())["seed"] == 7


def test_existing_folder_is_never_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    keep = out / "notes.txt"
    keep.write_text("precious")
    (out / "summary.json").write_text('{"old": true}')
    code, _, err = run_cli(["run", "speedup", "--out", str(out), *SMALL], capsys)
    assert code == 2 and "not empty" in err and "--force" in err
    assert keep.read_text() == "precious" and (out / "summary.json").read_text() == '{"old": true}'
    code, _, _ = run_cli(
        ["run", "speedup", "--out", str(out), "--force", "--quiet", *SMALL], capsys
    )
    assert code == 0
    assert keep.read_text() == "precious"  # unrelated files survive --force


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(["run", "speedup", "--out", str(blocker / "sub")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_list_and_describe(capsys):
    code, out, _ = run_cli(["describe", "speedup"], capsys)
    assert code == 0 and "kappa" in out and "crossover_beta" in out and "1/omega" in out
    code, out, _ = run_cli(["list"], capsys)
    assert code == 0 and "speedup" in out


def test_python_dash_m_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "eplt", "run", "nope"], capture_output=True, text=True
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1


def test_list_parameters_accept_commas_and_brackets():
    from eplt.studies.params import Param

    p = Param("kappa_ratios", (1.0,), "floats", "", "", low=0, low_open=True)
    assert p.convert("1, 10,100") == p.convert("[1,10,100]") == p.convert([1, 10, 100])
    assert p.convert("[1,10,100]") == (1.0, 10.0, 100.0)

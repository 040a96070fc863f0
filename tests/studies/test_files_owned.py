"""eplt removes only what it provably created (issue 20, the leftovers of the second audit):
a lock file without eplt's token (empty, a bare PID) is refused and kept; eplt's own lock
file is never empty; the sweep figure is written while the folder is locked; ``--force``
over another run removes that run's files only when its ``metadata.json`` lists them.

Trees are compared byte for byte with :func:`tests.studies.test_files_safety._snapshot`.
"""

from __future__ import annotations

import json
import os

import matplotlib.pyplot as plt
import pytest
from eplt.studies._folders import LOCK, SESSION, FolderLock, clean_stale
from eplt.studies.cli import main

from tests.studies.test_files_safety import FAST, _one_line, _precious, _snapshot
from tests.studies.test_reliability import _tiny_result


@pytest.mark.parametrize("content", [b"", b"12345\n", b"  \n", b"0"])
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_an_empty_or_bare_pid_lock_file_is_refused_and_kept(tmp_path, capsys, content, command):
    """It was taken as eplt's own (an older eplt wrote bare PIDs), rewritten and removed."""
    _precious(tmp_path / "outside")
    out = tmp_path / "o"
    if command == "run":
        _precious(out)
    else:  # a sweep refuses a folder of other files before it looks at the lock
        out.mkdir()
    (out / LOCK).write_bytes(content)
    before = _snapshot(tmp_path)
    argv = ["run", "fef", "--out", str(out), "--force", *FAST]
    if command == "sweep":
        argv = ["sweep", "fef", "--grid", "n_F=3", "--executor", "serial", "--out", str(out)]
        argv += ["--quiet"]
    err = _one_line(argv, capsys)
    assert LOCK in err and "not a lock file eplt wrote" in err
    assert ("an empty file" in err) == (not content.strip())
    assert _snapshot(tmp_path) == before


def test_a_lock_record_without_a_token_is_refused(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    for text in ('{"eplt": "lock", "pid": 1}', '{"eplt": "lock", "token": "xyz"}', "[[[[1]]]]"):
        (out / LOCK).write_text(text)
        with pytest.raises(OSError, match="not a lock file eplt wrote"):
            FolderLock(out).acquire()
        assert (out / LOCK).read_text() == text


def test_eplt_creates_its_lock_file_whole_and_removes_only_it(tmp_path, monkeypatch):
    """The lock file appears with eplt's record in it (written and locked under a
    temporary name, then linked into place): there is no moment at which it is empty."""
    out = tmp_path / "o"
    out.mkdir()
    seen = []
    real_link = os.link

    def link(src, dst, *a, **kw):  # the file as it is the moment it gets its name
        with open(src, "rb") as fh:
            seen.append(fh.read())
        return real_link(src, dst, *a, **kw)

    monkeypatch.setattr(os, "link", link)
    lock = FolderLock(out).acquire()
    monkeypatch.undo()
    rec = json.loads(seen[0])
    assert rec["eplt"] == "lock" and rec["token"] == SESSION and rec["pid"] == os.getpid()
    assert json.loads((out / LOCK).read_text()) == rec
    assert sorted(os.listdir(out)) == [LOCK]  # the temporary name is gone
    lock.release()
    assert os.listdir(out) == []


def test_a_dead_runs_unlinked_lock_temporary_is_removed_and_nothing_else(tmp_path):
    """A crash between writing the lock temporary and linking it leaves
    ``.eplt-lock.TOKEN-xxxxxxxx.tmp``; it is removed only if it holds that token's record
    and no process locks it."""
    out = _precious(tmp_path / "o")
    dead = "0123456789abcdef"
    good = out / f"{LOCK}.{dead}-abcd1234.tmp"
    good.write_text(json.dumps({"eplt": "lock", "pid": 1, "token": dead, "stale": []}))
    other = out / f"{LOCK}.{dead}-efgh5678.tmp"  # another token inside: not provably it
    other.write_text(json.dumps({"eplt": "lock", "pid": 1, "token": "fedcba9876543210"}))
    users = out / f"{LOCK}.{dead}-notes123.tmp"
    users.write_text("my notes")
    before = _snapshot(out)
    assert clean_stale(out, []) == [good.name]
    after = _snapshot(out)
    assert set(before) - set(after) == {good.name}
    assert all(after[k] == before[k] for k in after)


def test_the_sweep_figure_is_written_while_the_folder_is_locked(tmp_path, capsys, monkeypatch):
    from eplt.studies import _sweep_cli

    out = tmp_path / "s"
    states = []
    real = _sweep_cli.write_figures

    def write_figures(figs, folder, *a, **kw):
        try:  # a second writer must be refused while the figure is written
            FolderLock(folder).acquire().release()
            states.append("unlocked")
        except OSError as exc:
            states.append("locked" if "another eplt process" in str(exc) else str(exc))
        assert (folder / "sweep.nc").exists() and (folder / "sweep_summary.json").exists()
        return real(figs, folder, *a, **kw)

    monkeypatch.setattr(_sweep_cli, "write_figures", write_figures)
    argv = ["sweep", "fef", "--grid", "n_F=3,4", "--executor", "serial", "--out", str(out)]
    argv += ["--set", "restarts=0", "--set", "betas=1", "--format", "png", "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    assert states == ["locked"]
    assert not (out / LOCK).exists()
    assert any(p.suffix == ".png" for p in out.iterdir())


def _fig():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig


def test_force_over_another_run_removes_the_files_its_metadata_lists(tmp_path, capsys):
    from eplt.studies.base import write_outputs

    out = tmp_path / "o"
    write_outputs(_tiny_result(), {"first_fig": _fig()}, out, formats=("png",))
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["files"] == sorted(["data.nc", "summary.json", "metadata.json", "first_fig.png"])
    assert meta["token"] == SESSION
    (out / "my_notes.txt").write_text("mine")
    (out / "my_plot.png").write_bytes(b"\x89PNG mine")  # a figure-like file of the user's
    mine = {k: v for k, v in _snapshot(out).items() if k.startswith("my_")}
    write_outputs(_tiny_result(), {"second_fig": _fig()}, out, formats=("png",), force=True)
    names = set(os.listdir(out))
    assert names == {"data.nc", "summary.json", "metadata.json", "second_fig.png"} | set(mine)
    assert {k: v for k, v in _snapshot(out).items() if k in mine} == mine
    assert capsys.readouterr().err == ""
    plt.close("all")


def test_force_over_a_run_that_lists_no_files_keeps_them_and_says_so(tmp_path, capsys):
    """A metadata.json of an older eplt (or the user's) proves nothing: its figures stay,
    named in one warning line."""
    from eplt.studies.base import write_outputs

    out = tmp_path / "o"
    write_outputs(_tiny_result(), {"first_fig": _fig()}, out, formats=("png",))
    meta = json.loads((out / "metadata.json").read_text())
    del meta["files"]
    (out / "metadata.json").write_text(json.dumps(meta))
    old_png = (out / "first_fig.png").read_bytes()
    write_outputs(_tiny_result(), {"second_fig": _fig()}, out, formats=("png",), force=True)
    assert (out / "first_fig.png").read_bytes() == old_png
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("eplt: warning:") and "first_fig.png" in err
    plt.close("all")


@pytest.mark.parametrize(
    "files",
    [["../outside.png"], [".hidden.png"], ["notes.txt"], ["sub/x.png"], "data.nc", [1]],
)
def test_a_metadata_list_naming_what_a_run_does_not_write_removes_nothing(tmp_path, files):
    from eplt.studies.base import write_outputs

    outside = tmp_path / "outside.png"
    outside.write_bytes(b"precious")
    out = tmp_path / "o"
    write_outputs(_tiny_result(), {}, out, formats=("png",))
    for name in ("notes.txt", ".hidden.png"):
        (out / name).write_text("mine")
    meta = json.loads((out / "metadata.json").read_text())
    meta["files"] = files
    (out / "metadata.json").write_text(json.dumps(meta))
    before = {k: v for k, v in _snapshot(tmp_path).items() if "metadata" not in k}
    write_outputs(_tiny_result(), {}, out, formats=("png",), force=True)
    after = {k: v for k, v in _snapshot(tmp_path).items() if "metadata" not in k}
    assert after.keys() == before.keys()
    assert all(after[k] == before[k] for k in before if not k.startswith("o/data.nc"))


def test_run_force_into_another_studys_folder_leaves_none_of_its_figures(tmp_path, capsys):
    """The audit's case through the command line: fef's figures were left beside esd's."""
    out = tmp_path / "o"
    assert main(["run", "fef", "--out", str(out), "--format", "png", *FAST]) == 0
    fef_figs = {p.name for p in out.glob("*.png")}
    assert fef_figs
    (out / "keep.txt").write_text("mine")
    argv = ["run", "esd", "--out", str(out), "--force", "--format", "png", "--quiet"]
    argv += ["--set", "n_times=11", "--set", "n_nbar=2", "--set", "n_times_sweep=5"]
    assert main(argv) == 0, capsys.readouterr().err
    names = {p.name for p in out.iterdir()}
    assert not (fef_figs - {p.name for p in out.glob("esd*.png")}) & names
    assert (out / "keep.txt").read_text() == "mine"
    assert json.loads((out / "metadata.json").read_text())["study"] == "esd"


def test_links_among_an_earlier_runs_files_are_never_followed_or_removed(tmp_path):
    """metadata.json listing a name that is now a link (to a file outside), a link named
    like a dead run's lock temporary: the targets and the links stay byte for byte."""
    from eplt.studies.base import write_outputs

    outside = _precious(tmp_path / "outside")
    out = tmp_path / "o"
    write_outputs(_tiny_result(), {"first_fig": _fig()}, out, formats=("png",))
    (out / "first_fig.png").unlink()
    (out / "first_fig.png").symlink_to(outside / "thesis.tex")
    (out / f"{LOCK}.0123456789abcdef-abcd1234.tmp").symlink_to(outside / ".draft.tmp")
    before = _snapshot(tmp_path)
    write_outputs(_tiny_result(), {}, out, formats=("png",), force=True)
    after = _snapshot(tmp_path)
    kept = [k for k in before if not k.startswith("o/") or "first_fig" in k or LOCK in k]
    assert all(after[k] == before[k] for k in kept)
    assert _snapshot(outside) == {
        k[len("outside/") :]: v for k, v in before.items() if k.startswith("outside/")
    }
    plt.close("all")


def test_a_symlinked_metadata_json_is_refused_with_force_and_its_target_untouched(
    tmp_path, capsys, monkeypatch
):
    from eplt.studies import fef

    outside = _precious(tmp_path / "outside")
    out = tmp_path / "o"
    out.mkdir()
    (out / "metadata.json").symlink_to(outside / "thesis.tex")
    before = _snapshot(tmp_path)
    seen = []
    monkeypatch.setattr(fef, "run", lambda *a, **kw: seen.append(1))  # refused before it
    err = _one_line(["run", "fef", "--out", str(out), "--force", *FAST], capsys)
    assert not seen
    assert "metadata.json" in err and "symbolic link" in err
    assert _snapshot(tmp_path) == before

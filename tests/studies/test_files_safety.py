"""Nothing outside the output folder is written or removed, nothing of the user's inside it
(issue 20, "Files"; issue 23: the lock file goes when the run ends).

Every test that puts eplt next to files it does not own keeps "precious" files outside and
inside the output folder and compares the whole tree byte for byte afterwards
(:func:`_snapshot`: kind, bytes, link target of every entry, links never followed).
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from eplt.studies.cli import main

#: A fast fef run (about a second): the folder checks happen before and after it.
FAST = ["--set", "n_F=3", "--set", "restarts=0", "--set", "betas=1", "--quiet"]
TOKEN = "0123456789abcdef"  # a dead run's token, as a lock file records it


def _snapshot(root: Path) -> dict:
    """``relative path -> (kind, content)`` of everything under ``root`` (not following
    links): bytes of files, targets of links, ``None`` for folders."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("folder", None)
            else:
                out[rel] = ("file", p.read_bytes())
    return out


def _precious(root: Path) -> Path:
    """A folder of the user's files, hidden ones with eplt-like names included."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "thesis.tex").write_bytes(b"\\section{results}\n\x00\xff binary too")
    (root / ".draft.tmp").write_text("a hidden temporary of the user's")
    (root / ".staging-notes").mkdir()
    (root / ".staging-notes" / "todo.txt").write_text("keep me")
    (root / ".plan.fedcba9876543210-abc.tmp").write_text("eplt-like name; no lock records it")
    (root / ".staging-0000000000000000-x").mkdir()
    (root / ".staging-0000000000000000-x" / "a.txt").write_text("also not eplt's")
    return root


def _one_line(argv, capsys, status: int = 2) -> str:
    assert main(argv) == status
    err = capsys.readouterr().err
    assert err.startswith("eplt: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ------------------------------------------------------------------ the lock file


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlinked_lock_is_refused_and_its_target_untouched(tmp_path, capsys, command, dangling):
    outside = _precious(tmp_path / "outside")
    target = outside / ("new-file" if dangling else "thesis.tex")
    out = tmp_path / "o"
    out.mkdir()
    (out / ".eplt-lock").symlink_to(target)
    before = _snapshot(tmp_path)
    argv = ["run", "fef", "--out", str(out), *FAST]
    if command == "sweep":
        argv = ["sweep", "fef", "--grid", "n_F=3", "--executor", "serial", "--out", str(out)]
        argv += ["--quiet"]
    err = _one_line(argv, capsys)
    assert ".eplt-lock" in err and "symbolic link" in err
    assert _snapshot(tmp_path) == before  # the target neither truncated nor created
    if dangling:
        assert not target.exists()


def test_a_lock_file_eplt_did_not_write_is_refused_and_kept(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".eplt-lock").write_text("my notes, not a pid\n")
    before = _snapshot(tmp_path)
    err = _one_line(["run", "fef", "--out", str(out), *FAST], capsys)
    assert "not a lock file eplt wrote" in err
    assert _snapshot(tmp_path) == before


def test_the_lock_file_is_removed_when_a_run_ends(tmp_path, capsys, monkeypatch):
    from eplt.studies import fef
    from eplt.studies.params import ParamError

    out = tmp_path / "o"
    assert main(["run", "fef", "--out", str(out), *FAST]) == 0
    assert not (out / ".eplt-lock").exists()

    def refuse(*a, **kw):
        raise ParamError("refused after the folder was claimed")

    monkeypatch.setattr(fef, "run", refuse)  # a run failing midway removes it too
    inside = _precious(tmp_path / "kept")
    before = _snapshot(inside)
    _one_line(["run", "fef", "--out", str(inside), "--force", *FAST], capsys)
    assert _snapshot(inside) == before


def test_a_lock_file_of_a_dead_run_is_taken_and_only_its_temporaries_go(tmp_path, capsys):
    from eplt.studies._folders import FolderLock

    out = _precious(tmp_path / "o")
    (out / ".eplt-lock").write_text(json.dumps({"eplt": "lock", "pid": 1, "token": TOKEN}))
    (out / f".summary.json.{TOKEN}-x1x1x1x1.tmp").write_text("half")  # the dead run's
    stage = out / f".staging-{TOKEN}-y2y2y2y2"
    stage.mkdir()
    (stage / "data.nc").write_text("half")
    odd = out / f".staging-{TOKEN}-z3z3z3z3"  # named like the dead run's, but holds a folder
    (odd / "sub").mkdir(parents=True)
    before = _snapshot(out)
    assert main(["run", "fef", "--out", str(out), "--force", *FAST]) == 0
    after = _snapshot(out)
    gone = set(before) - set(after)
    assert gone == {
        ".eplt-lock",
        f".summary.json.{TOKEN}-x1x1x1x1.tmp",
        f".staging-{TOKEN}-y2y2y2y2",
        f".staging-{TOKEN}-y2y2y2y2/data.nc",
    }
    assert all(after[k] == v for k, v in before.items() if k not in gone)
    # two locks: the second is refused while the first holds; after release it works
    a = FolderLock(out).acquire()
    with pytest.raises(OSError, match="another eplt process"):
        FolderLock(out).acquire()
    a.release()
    assert not (out / ".eplt-lock").exists()
    FolderLock(out).acquire().release()


# ------------------------------------------------------------------ users' files


def test_hidden_files_of_the_user_survive_a_run_with_out_dot(tmp_path, capsys, monkeypatch):
    home = _precious(tmp_path / "home")
    (home / ".bashrc").write_text("export X=1\n")
    outside = _precious(tmp_path / "outside")
    before_home, before_outside = _snapshot(home), _snapshot(outside)
    monkeypatch.chdir(home)
    err = _one_line(["run", "fef", "--out", ".", *FAST], capsys)
    assert "not empty" in err  # a home folder is content: refused without --force ...
    assert _snapshot(home) == before_home
    assert main(["run", "fef", "--out", ".", "--force", *FAST]) == 0  # ... and with it
    after = _snapshot(home)
    assert all(after[k] == v for k, v in before_home.items())  # every byte kept
    new = set(after) - set(before_home)
    assert new and all(not n.startswith(".") for n in new), new
    assert _snapshot(outside) == before_outside


def test_a_folder_of_hidden_user_files_is_content(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".draft.tmp").write_text("mine")
    err = _one_line(["run", "fef", "--out", str(out), *FAST], capsys)
    assert "not empty" in err
    assert (out / ".draft.tmp").read_text() == "mine"


# ------------------------------------------------------------------ odd folder contents


def _marker(out: Path, content) -> None:
    path = out / ".eplt-incomplete.json"
    if content == "folder":
        path.mkdir()
    elif content == "link":
        path.symlink_to(out.parent / "outside" / "thesis.tex")
    else:
        path.write_text(json.dumps({"pid": 1, "token": TOKEN, "files": content}))


@pytest.mark.parametrize(
    "content, needle",
    [
        (["summary.json", "sub"], "names 'sub', which is a folder"),
        (["a\x00b"], "not a file eplt writes"),
        ([".eplt-lock"], "not a file eplt writes"),
        (["../outside/thesis.tex"], "not a file eplt writes"),
        (["link"], "which is a symbolic link"),
        ("folder", "is a folder, not a marker"),
        ("link", "is a symbolic link, not a marker"),
        ({"files": 3}, "no list of file names"),
    ],
)
def test_an_odd_marker_is_one_line_and_nothing_is_removed(tmp_path, capsys, content, needle):
    _precious(tmp_path / "outside")
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    (out / "sub").mkdir()
    (out / "sub" / "x").write_text("x")
    (out / "link").symlink_to(tmp_path / "outside" / "thesis.tex")
    _marker(out, content if not isinstance(content, dict) else 3)
    before = _snapshot(tmp_path)
    err = _one_line(["run", "fef", "--out", str(out), *FAST], capsys)
    assert ".eplt-incomplete.json" in err and needle in err, err
    assert _snapshot(tmp_path) == before


def test_a_marker_naming_regular_files_still_recovers(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "data.nc").write_text("half")
    _marker(out, ["data.nc", "summary.json"])
    assert main(["run", "fef", "--out", str(out), *FAST]) == 0
    assert "incomplete run" in capsys.readouterr().err
    assert (out / "metadata.json").exists() and not (out / ".eplt-incomplete.json").exists()


@pytest.mark.parametrize(
    "setup, needle",
    [
        (lambda o: (o / "points").write_text("mine"), "points' is a file, not the folder"),
        (lambda o: (o / "points").symlink_to(o.parent / "outside"), "points' is a symbolic link"),
        (lambda o: (o / "sweep.json").mkdir(), "sweep.json' is a folder, not a sweep"),
        (
            lambda o: (o / "sweep.json").symlink_to(o.parent / "outside" / "thesis.tex"),
            "sweep.json' is a symbolic link, not a sweep",
        ),
    ],
)
def test_odd_sweep_folders_are_one_line(tmp_path, capsys, monkeypatch, setup, needle):
    import shutil

    import eplt.studies.sweep as sw

    from tests.studies.test_reliability import _fake_point

    monkeypatch.setattr(sw, "run_point", _fake_point)
    _precious(tmp_path / "outside")
    out = tmp_path / "o"
    argv = ["sweep", "fef", "--grid", "n_F=3", "--executor", "serial", "--out", str(out), "--quiet"]
    if "points" in needle:  # a sweep folder whose checkpoints folder was replaced
        assert main(argv) == 0
        shutil.rmtree(out / "points")
    else:
        out.mkdir()
    setup(out)
    before = _snapshot(tmp_path)
    err = _one_line(argv, capsys)
    assert needle in err, err
    assert _snapshot(tmp_path) == before


def test_a_full_disk_is_one_line_and_keeps_the_users_files(tmp_path, capsys, monkeypatch):
    import eplt.studies._folders as folders

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(folders, "_fsync_file", full)
    out = _precious(tmp_path / "o")
    before = _snapshot(tmp_path)
    err = _one_line(["run", "fef", "--out", str(out), "--force", *FAST], capsys, status=1)
    assert "No space left on device" in err and "free some space" in err
    assert _snapshot(tmp_path) == before  # nothing half-written, the lock gone
    fresh = tmp_path / "fresh"
    _one_line(["run", "fef", "--out", str(fresh), *FAST], capsys, status=1)
    assert not fresh.exists()  # the folder it created is removed again


def test_a_full_disk_during_a_sweep_keeps_the_finished_points(tmp_path, capsys, monkeypatch):
    import eplt.studies._checkpoints as cp
    import eplt.studies.sweep as sw
    from eplt.studies._folders import WriteError

    from tests.studies.test_reliability import _fake_point

    monkeypatch.setattr(sw, "run_point", _fake_point)
    real, written = cp.atomic_write, []

    def fill_up(path, write, **kw):
        if len(written) == 2:
            raise WriteError(f"cannot write {path}: disk full")
        written.append(path)
        return real(path, write, **kw)

    monkeypatch.setattr(cp, "atomic_write", fill_up)
    out = tmp_path / "s"
    argv = ["sweep", "fef", "--grid", "n_F=3,5,7,9", "--executor", "serial", "--out", str(out)]
    err = _one_line([*argv, "--quiet"], capsys, status=1)
    assert "disk full" in err
    assert len(list((out / "points").glob("p_*.json"))) == 2
    monkeypatch.setattr(cp, "atomic_write", real)
    assert main([*argv, "--quiet"]) == 0  # the rerun computes the rest
    assert len(list((out / "points").glob("p_*.json"))) == 4


def test_resuming_on_a_read_only_file_system_is_one_line(tmp_path, capsys, monkeypatch):
    import eplt.studies.sweep as sw

    from tests.studies.test_reliability import _fake_point

    monkeypatch.setattr(sw, "run_point", _fake_point)
    out = tmp_path / "s"
    argv = ["sweep", "fef", "--grid", "n_F=3,5", "--executor", "serial", "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    before = _snapshot(tmp_path)
    real_open = os.open

    def read_only(path, flags, *a, **kw):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(os, "open", read_only)
    err = _one_line([*argv, "--resume", "--quiet"], capsys)
    assert "Read-only file system" in err and str(out) in err
    monkeypatch.setattr(os, "open", real_open)
    assert _snapshot(tmp_path) == before


def test_an_out_name_longer_than_255_bytes_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "é" * 130  # 260 bytes in UTF-8, 130 characters
    for argv in (
        ["run", "fef", "--out", name, *FAST],
        ["sweep", "fef", "--grid", "n_F=3", "--out", str(tmp_path / name), "--quiet"],
    ):
        err = _one_line(argv, capsys)
        assert "260 bytes long" in err and "at most 255" in err
    assert list(tmp_path.iterdir()) == []


def test_deeply_nested_toml_and_empty_options_are_one_line(tmp_path, capsys):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 20000 + "]" * 20000 + "\n")
    err = _one_line(["run", "fef", "--config", str(deep), "--out", str(tmp_path / "o")], capsys)
    assert "nests arrays or tables too deeply" in err
    err = _one_line(["run", "fef", "--config", "", "--out", str(tmp_path / "o")], capsys)
    assert "--config must name a TOML file" in err
    argv = ["sweep", "fef", "--grid", "n_F=3", "--executor", "dask", "--scheduler", ""]
    err = _one_line([*argv, "--out", str(tmp_path / "s")], capsys)
    assert "--scheduler must be the address of a Dask scheduler" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "s").exists()


def test_markers_without_a_token_and_look_alike_names_are_never_removed(tmp_path, capsys):
    # adversarial audit: a hand-written marker naming a user's file had it deleted; names
    # that merely contain a dead run's token (.x.TOKEN-notes.tmp, .staging-TOKENnotes) went
    out = tmp_path / "m"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    (out / ".eplt-incomplete.json").write_text(json.dumps({"files": ["notes.txt"]}))
    _one_line(["run", "fef", "--out", str(out), *FAST], capsys)
    assert (out / "notes.txt").read_text() == "precious"

    out2 = _precious(tmp_path / "k")
    (out2 / ".eplt-lock").write_text(json.dumps({"eplt": "lock", "pid": 1, "token": TOKEN}))
    (out2 / f".mynotes.{TOKEN}-x.tmp").write_text("mine")
    (out2 / f".staging-{TOKEN}notes").mkdir()
    (out2 / f".staging-{TOKEN}notes" / "a.txt").write_text("mine")
    assert main(["run", "fef", "--out", str(out2), "--force", *FAST]) == 0
    assert (out2 / f".mynotes.{TOKEN}-x.tmp").read_text() == "mine"
    assert (out2 / f".staging-{TOKEN}notes" / "a.txt").read_text() == "mine"

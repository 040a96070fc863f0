"""Crash-safe output folders: atomic files with the umask, a lock, staged runs.

Guarantees (also stated in the README):

* **Files.** Every file is written to a new temporary name in its folder (created with
  ``O_EXCL | O_NOFOLLOW``), flushed to disk (``fsync``) and renamed into place
  (``os.replace``, which replaces a symbolic link itself, never the file it points to),
  then the folder is synced: a file is either absent, the previous version, or complete.
  Files get the usual mode ``0o666 & ~umask`` (``mkstemp`` alone would give 0600).
  A write that fails (disk full, read-only file system) raises :class:`WriteError`
  naming the file; the previous version stays in place.
* **Runs.** A study run is written into a staging folder ``OUT/.staging-TOKEN-*`` and its
  files are moved into ``OUT`` afterwards, with ``metadata.json`` last. While they are
  moved, ``OUT/.eplt-incomplete.json`` lists them; it is removed last. A folder with
  that marker is *visibly incomplete*; the next run into it removes only the regular
  files the marker names (never a folder, a link, the lock or other files) and writes the
  run again, without ``--force``. A marker that is not one eplt writes (a folder, a link,
  a name with ``/`` or a NUL byte, a name that is a folder) is refused in one line and
  nothing is removed.
* **Lock.** A run or sweep holds an exclusive ``flock`` on ``OUT/.eplt-lock`` from the
  folder check to the last file; a second run into the same folder is refused at once.
  The lock file is created whole (written and locked under a temporary name, then
  hard-linked into place), opened with ``O_NOFOLLOW`` and must be a regular file holding
  eplt's record with a random token: a symbolic link, an empty file or a bare PID is
  refused, its target or content untouched, and never removed. It records the process's
  random token; it is removed when the run ends (only that file, only if it still is the
  file this process locked and holds its token). The kernel releases the lock when the process
  dies (SIGKILL included), so a crash never leaves a folder locked.
* **Stale temporaries.** Every temporary name holds the random token of the process
  that made it (``.NAME.TOKEN-*.tmp``, ``.staging-TOKEN-*``). The next run that takes the
  lock of a dead run reads that run's token from the lock file and removes only its
  temporaries (regular files, and staging folders holding nothing but regular files);
  hidden files and folders of the user's with similar names are left alone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "INCOMPLETE",
    "LOCK",
    "SESSION",
    "FolderLock",
    "WriteError",
    "atomic_write",
    "clean_stale",
    "fsync_dir",
    "remove_if_unused",
    "umask",
]

LOCK = ".eplt-lock"
INCOMPLETE = ".eplt-incomplete.json"
STAGING_PREFIX = ".staging-"
#: Names in an output folder that belong to the machinery, not to a run's outputs.
HIDDEN = (LOCK, INCOMPLETE)
#: Random token of this process: in its temporaries, staging folders, marker and lock.
SESSION = secrets.token_hex(8)
_TOKEN = re.compile(r"[0-9a-f]{16}\Z")
#: At most this many tokens of dead runs are carried in a lock file.
_MAX_STALE = 16
#: Longest file name (bytes) on the file systems eplt writes to.
NAME_MAX = 255


class OutputError(OSError):
    """The output folder cannot be used (exists and is not empty, or is not writable)."""


class WriteError(OutputError):
    """Writing a file failed midway (disk full, read-only file system, I/O error)."""


_HINTS = {
    errno.ENOSPC: "the disk is full; free some space and rerun",
    errno.EDQUOT: "the disk quota is exceeded; free some space and rerun",
    errno.EROFS: "the file system is read-only; choose another --out",
    errno.EACCES: "permission denied; choose another --out",
    errno.EPERM: "permission denied; choose another --out",
    errno.EISDIR: "a folder has that name; move it away or choose another --out",
    errno.ENAMETOOLONG: "the name is too long",
}


def os_message(exc: OSError) -> str:
    """``strerror`` of ``exc`` with what to do, e.g. ``No space left on device (the disk
    is full; free some space and rerun)``."""
    text = exc.strerror or type(exc).__name__
    hint = _HINTS.get(exc.errno)
    return f"{text} ({hint})" if hint else text


def check_name(path: Path) -> None:
    """Refuse a path with a component longer than :data:`NAME_MAX` bytes or a NUL byte."""
    text = os.fspath(path)
    if "\0" in text:
        raise OutputError(f"output path {text!r} contains a NUL byte")
    for part in Path(text).parts:
        n = len(os.fsencode(part))
        if n > NAME_MAX:
            raise OutputError(
                f"output path {text[:60]!r}...: the name {part[:40]!r}... is {n} bytes long;"
                f" a file name has at most {NAME_MAX} bytes"
            )


def umask() -> int:
    """The process umask, read without changing it when /proc tells it (Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)  # fallback: set and restore (not thread-safe, rarely reached)
    os.umask(old)
    return old


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def kind_of(mode: int) -> str:
    """``"folder"``, ``"symbolic link"``, ... for an ``lstat`` mode."""
    for test, name in (
        (stat.S_ISDIR, "folder"),
        (stat.S_ISLNK, "symbolic link"),
        (stat.S_ISFIFO, "named pipe"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISREG, "file"),
    ):
        if test(mode):
            return name
    return "device"


def lstat_or_none(path: Path) -> os.stat_result | None:
    """``os.lstat(path)`` (never follows a link), None when nothing has that name."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def require_folder(path: Path, what: str) -> None:
    """Refuse ``path`` unless it is absent or a real folder (not a link to one)."""
    st = lstat_or_none(path)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise OutputError(
            f"{str(path)!r} is a {kind_of(st.st_mode)}, not {what};"
            " move it away or choose another --out"
        )


def require_file(path: Path, what: str) -> bool:
    """Refuse ``path`` unless it is absent or a regular file; returns whether it exists."""
    st = lstat_or_none(path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(
            f"{str(path)!r} is a {kind_of(st.st_mode)}, not {what};"
            " move it away or choose another --out"
        )
    return st is not None


def read_text_nofollow(path: Path) -> str:
    """Text of the regular file ``path``, opened without following a link."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return fh.read().decode()


def atomic_write(path: Path, write: Callable[[Path], None], *, sync_dir: bool = True) -> None:
    """``write(tmp)`` to a temporary file next to ``path``, fsync, rename into place.

    The file gets mode ``0o666 & ~umask``. On any error (or interrupt) the temporary file
    is removed and ``path`` is untouched; an ``OSError`` (disk full, read-only file
    system, a folder of that name) becomes a :class:`WriteError` naming ``path``.
    """
    path = Path(path)
    tmp_path = None
    try:
        # mkstemp opens with O_CREAT | O_EXCL | O_NOFOLLOW: a new file, never a link
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name[:200]}.{SESSION}-", suffix=".tmp", dir=path.parent
        )
        os.close(fd)
        tmp_path = Path(tmp)
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~umask())
        _fsync_file(tmp_path)
        os.replace(tmp_path, path)  # replaces a link named `path`, not its target
    except OSError as exc:
        _discard(tmp_path)
        if isinstance(exc, OutputError):
            raise
        raise WriteError(f"cannot write {str(path)!r}: {os_message(exc)}") from None
    except BaseException:
        _discard(tmp_path)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def _discard(tmp_path: Path | None) -> None:
    if tmp_path is not None:
        with contextlib.suppress(OSError):
            st = os.lstat(tmp_path)
            if stat.S_ISREG(st.st_mode):
                os.unlink(tmp_path)


#: The names eplt's temporaries have, exactly: ``tempfile``'s random part is 8 characters of
#: ``[a-z0-9_]`` after the token (a user's ``.x.TOKEN-notes.tmp`` does not match).
_STAGING_NAME = re.compile(r"\.staging-([0-9a-f]{16})-[a-z0-9_]{8}\Z")
_TMP_NAME = re.compile(r"\..+\.([0-9a-f]{16})-[a-z0-9_]{8}\.tmp\Z", re.S)


def _owned_temporary(name: str, tokens: set[str]) -> bool:
    """Whether ``name`` is a temporary (file or staging folder) of one of ``tokens``."""
    m = _STAGING_NAME.match(name) or _TMP_NAME.match(name)
    return m is not None and m.group(1) in tokens


def clean_stale(folder: Path, tokens) -> list[str]:
    """Remove the temporaries of dead eplt runs whose random ``tokens`` (read from the
    lock file they left, :attr:`FolderLock.stale`) are in their names; call only while
    holding the folder's lock.

    Only regular files are removed, and staging folders only when they hold nothing but
    regular files; anything else (a user's ``.staging-notes`` or ``.draft.tmp``, links,
    sub-folders) is left alone. This process's own token is never in ``tokens``.
    """
    tokens = {t for t in tokens if isinstance(t, str) and _TOKEN.match(t) and t != SESSION}
    folder = Path(folder)
    from ._lockfile import _clean_lock_temporaries

    removed: list[str] = _clean_lock_temporaries(folder)
    if not tokens:
        return removed
    for sub in (folder, folder / "points"):
        st = lstat_or_none(sub)
        if st is None or not stat.S_ISDIR(st.st_mode):
            continue
        for name in os.listdir(sub):
            if not _owned_temporary(name, tokens):
                continue
            p = sub / name
            st = lstat_or_none(p)
            if st is None:
                continue
            if stat.S_ISREG(st.st_mode) and name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(p)
                    removed.append(name)
            elif stat.S_ISDIR(st.st_mode) and name.startswith(STAGING_PREFIX):
                if _remove_staging(p):
                    removed.append(name)
    return removed


def _remove_staging(stage: Path) -> bool:
    """Remove a dead run's staging folder if it holds only regular files."""
    try:
        entries = os.listdir(stage)
        if any(not stat.S_ISREG(os.lstat(stage / n).st_mode) for n in entries):
            return False
        for n in entries:
            os.unlink(stage / n)
        os.rmdir(stage)
    except OSError:
        return False
    return True


def remove_if_unused(folder: Path, lock: FolderLock | None = None) -> bool:
    """Release ``lock`` (which removes its file) and remove ``folder`` if it is then
    empty (``rmdir`` removes nothing else): a refused or failed run leaves no folder it
    created behind. Returns whether it was removed."""
    if lock is not None:
        lock.release()
    try:
        os.rmdir(folder)
    except OSError:
        return False
    return True


def is_eplt_temporary(name: str) -> bool:
    """Whether ``name`` has the form of an eplt temporary (``.staging-TOKEN-*`` or
    ``.NAME.TOKEN-*.tmp``), whichever run made it."""
    return bool(_STAGING_NAME.match(name) is not None or _TMP_NAME.match(name) is not None)


def visible_entries(folder: Path) -> list[Path]:
    """Entries of ``folder`` other than the lock, the incomplete marker and eplt's
    temporaries (a user's hidden ``.staging-x`` or ``.x.tmp`` counts as content)."""
    return [
        p for p in Path(folder).iterdir() if p.name not in HIDDEN and not is_eplt_temporary(p.name)
    ]


def incomplete_files(folder: Path) -> list[str] | None:
    """Names listed by an incomplete run's marker (None when there is no marker).

    Raises :class:`OutputError` (one line naming the marker) for a marker eplt did not
    write: a folder or link, not JSON, a name that is empty, ``.``, ``..``, holds ``/``
    or a NUL byte, names the lock, the marker or a staging folder, or names something
    other than a regular file."""
    folder = Path(folder)
    marker = folder / INCOMPLETE
    st = lstat_or_none(marker)
    if st is None:
        return None

    def refuse(why: str) -> OutputError:
        return OutputError(
            f"{str(marker)!r} {why}, so eplt does not know which files its run left;"
            " check the folder and remove the marker, or choose another --out"
        )

    if not stat.S_ISREG(st.st_mode):
        raise refuse(f"is a {kind_of(st.st_mode)}, not a marker eplt wrote")
    try:
        rec = json.loads(read_text_nofollow(marker))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        raise refuse("cannot be read as a marker eplt wrote") from None
    names = rec.get("files") if isinstance(rec, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise refuse("has no list of file names")
    token = rec.get("token")
    if not (isinstance(token, str) and _TOKEN.match(token)):
        # eplt writes its random token into every marker: a marker without one was not
        # written by this eplt, and the files it names may be the user's
        raise refuse("has no eplt run token (not a marker this eplt wrote)")
    for n in names:
        bad = (
            not n
            or n in (".", "..")
            or "/" in n
            or "\0" in n
            or n in HIDDEN
            or n.startswith(STAGING_PREFIX)
            or len(os.fsencode(n)) > NAME_MAX
        )
        if bad:
            raise refuse(f"names {n!r}, which is not a file eplt writes")
        s = lstat_or_none(folder / n)
        if s is not None and not stat.S_ISREG(s.st_mode):
            raise refuse(f"names {n!r}, which is a {kind_of(s.st_mode)}")
    return names


def remove_incomplete(folder: Path) -> list[str]:
    """Remove the files of an incomplete run (the regular files its marker names), then
    the marker; see :func:`incomplete_files` for what is refused."""
    folder = Path(folder)
    names = incomplete_files(folder) or []
    removed = []
    for n in names:
        st = lstat_or_none(folder / n)
        if st is not None and stat.S_ISREG(st.st_mode):
            os.unlink(folder / n)
            removed.append(n)
    st = lstat_or_none(folder / INCOMPLETE)
    if st is not None and stat.S_ISREG(st.st_mode):
        os.unlink(folder / INCOMPLETE)
    fsync_dir(folder)
    return removed


#: Suffixes of the files a study run writes (data, summary, metadata, figures).
RUN_SUFFIXES = (".nc", ".json", ".png", ".pdf", ".svg")


def previous_outputs(folder: Path) -> list[str] | None:
    """The files an earlier eplt run wrote into ``folder``, as its ``metadata.json``
    lists them (with its run token), None when that file is absent or does not prove it:
    not a regular file, not JSON, no token, no list, or a name that is not one a run
    writes (hidden, a path, another suffix than :data:`RUN_SUFFIXES`)."""
    meta = Path(folder) / "metadata.json"
    st = lstat_or_none(meta)
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    try:
        rec = json.loads(read_text_nofollow(meta))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(rec, dict):
        return None
    token, names = rec.get("token"), rec.get("files")
    if not (isinstance(token, str) and _TOKEN.match(token)) or not isinstance(names, list):
        return None
    for n in names:
        if not (
            isinstance(n, str)
            and n
            and not n.startswith(".")
            and "/" not in n
            and "\0" not in n
            and n.endswith(RUN_SUFFIXES)
            and len(os.fsencode(n)) <= NAME_MAX
        ):
            return None
    return names


@contextlib.contextmanager
def staged_run(
    folder: Path, names_last: tuple[str, ...] = ("metadata.json",), remove: tuple[str, ...] = ()
) -> Iterator[Path]:
    """Yield a staging folder inside ``folder``; on success move its files into
    ``folder`` (``names_last`` last) behind the incomplete marker, then drop the marker.
    On error the staging folder is removed and ``folder`` is untouched.

    ``remove``: files of an earlier run (:func:`previous_outputs`) that the new run does
    not replace; listed in the marker too and removed (regular files only) before the new
    files move in, so a crash midway leaves a visibly incomplete folder."""
    import shutil

    folder = Path(folder)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{SESSION}-", dir=folder))
    except OSError as exc:
        raise WriteError(f"cannot write into {str(folder)!r}: {os_message(exc)}") from None
    try:
        yield stage
        names = sorted(p.name for p in stage.iterdir())
        order = [n for n in names if n not in names_last] + [n for n in names_last if n in names]
        for n in order:  # before anything moves: a folder of that name is refused
            require_file(folder / n, "a file eplt can replace")
        remove = tuple(n for n in remove if n not in order)
        atomic_write(
            folder / INCOMPLETE,
            lambda p: p.write_text(
                json.dumps({"pid": os.getpid(), "token": SESSION, "files": order + list(remove)})
                + "\n"
            ),
        )
        try:
            for n in remove:
                st = lstat_or_none(folder / n)
                if st is not None and stat.S_ISREG(st.st_mode):
                    os.unlink(folder / n)
            for n in order:
                os.replace(stage / n, folder / n)
            fsync_dir(folder)
            os.unlink(folder / INCOMPLETE)
        except OSError as exc:
            raise WriteError(
                f"cannot move the run's files into {str(folder)!r}: {os_message(exc)}"
            ) from None
        fsync_dir(folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # this process's own staging folder


# the lock lives in its own module (it uses the helpers above)
from ._lockfile import FolderLock  # noqa: E402

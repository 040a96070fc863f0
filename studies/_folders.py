"""Crash-safe output folders: atomic files with the umask, a lock, staged runs.

Guarantees (also stated in the README):

* **Files.** Every file is written to a temporary name in its folder, flushed to disk
  (``fsync``) and renamed into place (``os.replace``), then the folder is synced: a file
  is either absent, the previous version, or complete. Files get the usual mode
  ``0o666 & ~umask`` (``mkstemp`` alone would give 0600).
* **Runs.** A study run is written into a staging folder ``OUT/.staging-*`` and its
  files are moved into ``OUT`` afterwards, with ``metadata.json`` last. While they are
  moved, ``OUT/.eplt-incomplete.json`` lists them; it is removed last. A folder with
  that marker is *visibly incomplete*; the next run into it removes only the files the
  marker names (never other files) and writes the run again, without ``--force``.
* **Lock.** A run or sweep holds an exclusive ``flock`` on ``OUT/.eplt-lock`` from the
  folder check to the last file; a second run into the same folder is refused at once.
  The kernel releases the lock when the process dies (SIGKILL included), so a crash never
  leaves a folder locked. A run refused or failed before writing anything removes the
  folder it created (the lock included).
* **Stale temporaries** (``.*.tmp`` files, ``.staging-*`` folders) of a dead run are
  removed by the next run that holds the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "INCOMPLETE",
    "LOCK",
    "FolderLock",
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


class OutputError(OSError):
    """The output folder cannot be used (exists and is not empty, or is not writable)."""


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
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], None], *, sync_dir: bool = True) -> None:
    """``write(tmp)`` to a temporary file next to ``path``, fsync, rename into place.

    The file gets mode ``0o666 & ~umask``. On any error (or interrupt) the temporary file
    is removed and ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~umask())
        _fsync_file(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def clean_stale(folder: Path) -> list[str]:
    """Remove temporaries of dead writers (call only while holding the folder's lock)."""
    removed = []
    for p in Path(folder).iterdir():
        if p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p.name)
        elif p.name.startswith(STAGING_PREFIX) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


class FolderLock:
    """Exclusive, non-blocking ``flock`` on ``folder/.eplt-lock`` (released on close or
    when the process dies)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        path = self.folder / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = f" (pid {int(path.read_text().strip())})"
            raise OutputError(
                f"another eplt process is writing into {str(self.folder)!r}{holder};"
                " wait for it or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self if self.held else self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def remove_if_unused(folder: Path) -> bool:
    """Remove ``folder`` if it holds nothing but its lock (call while holding the lock,
    on a folder this process created): a refused or failed run leaves no folder behind.
    Returns whether it was removed; a folder with anything else in it is kept."""
    folder = Path(folder)
    try:
        if any(p.name != LOCK for p in folder.iterdir()):
            return False
        (folder / LOCK).unlink(missing_ok=True)
        folder.rmdir()
    except OSError:
        return False
    return True


def visible_entries(folder: Path) -> list[Path]:
    """Entries of ``folder`` other than the lock, the incomplete marker and temporaries."""
    out = []
    for p in Path(folder).iterdir():
        if p.name in HIDDEN or p.name.startswith(STAGING_PREFIX):
            continue
        if p.name.startswith(".") and p.name.endswith(".tmp"):
            continue
        out.append(p)
    return out


def incomplete_files(folder: Path) -> list[str] | None:
    """Names listed by an incomplete run's marker (None when there is no marker; a
    marker that cannot be read lists nothing, so nothing of the user's is removed)."""
    marker = Path(folder) / INCOMPLETE
    if not marker.exists():
        return None
    try:
        names = json.loads(marker.read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [n for n in names if isinstance(n, str) and "/" not in n and n not in ("", ".", "..")]


def remove_incomplete(folder: Path) -> list[str]:
    """Remove the files of an incomplete run (those its marker names), then the marker."""
    names = incomplete_files(folder) or []
    for n in names:
        (Path(folder) / n).unlink(missing_ok=True)
    (Path(folder) / INCOMPLETE).unlink(missing_ok=True)
    fsync_dir(Path(folder))
    return names


@contextlib.contextmanager
def staged_run(folder: Path, names_last: tuple[str, ...] = ("metadata.json",)) -> Iterator[Path]:
    """Yield a staging folder inside ``folder``; on success move its files into
    ``folder`` (``names_last`` last) behind the incomplete marker, then drop the marker.
    On error the staging folder is removed and ``folder`` is untouched."""
    folder = Path(folder)
    stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    try:
        yield stage
        names = sorted(p.name for p in stage.iterdir())
        order = [n for n in names if n not in names_last] + [n for n in names_last if n in names]
        atomic_write(
            folder / INCOMPLETE,
            lambda p: p.write_text(json.dumps({"pid": os.getpid(), "files": order}) + "\n"),
        )
        for n in order:
            os.replace(stage / n, folder / n)
        fsync_dir(folder)
        (folder / INCOMPLETE).unlink()
        fsync_dir(folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)

"""The output folder's lock file ``OUT/.eplt-lock`` (see :mod:`eplt.studies._folders`).

The lock file is created whole: written and ``flock``-ed under a temporary name
(``O_EXCL | O_NOFOLLOW``), then hard-linked into place, so an eplt lock file always holds
eplt's record ``{"eplt": "lock", "pid": ..., "token": ...}``. An ``.eplt-lock`` without
that record (empty, a bare PID, text, a link) is refused and never rewritten or removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import stat
import tempfile
from pathlib import Path

from ._folders import (
    _MAX_STALE,
    _TOKEN,
    LOCK,
    SESSION,
    OutputError,
    kind_of,
    lstat_or_none,
    os_message,
    umask,
)

__all__ = ["FolderLock"]


class FolderLock:
    """Exclusive, non-blocking ``flock`` on ``folder/.eplt-lock`` (released on close or
    when the process dies; the file is removed by :meth:`release`).

    The file is opened without following links and must be a regular file holding an
    eplt lock record (with its random token); anything else (an empty file, a bare PID,
    text, a link) is refused (:class:`OutputError`) and left untouched. A new lock file
    is created whole: written and locked under a temporary name, then hard-linked into
    place, so an eplt lock file is never empty.
    ``stale`` lists the tokens of dead runs recorded in the file before it was taken.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._fd: int | None = None
        self._ino: tuple[int, int] | None = None
        self.stale: list[str] = []

    def _refuse(self, what: str) -> OutputError:
        return OutputError(
            f"{str(self.folder / LOCK)!r} is {what}, not a lock file eplt wrote;"
            " move it away or choose another --out"
        )

    def _record_text(self, pad_to: int = 0) -> bytes:
        text = json.dumps(
            {"eplt": "lock", "pid": os.getpid(), "token": SESSION, "stale": self.stale}
        )
        # padded with blanks to the old length: rewritten in place without truncating
        # first, so the file never holds less than a whole record
        return (text + "\n").ljust(pad_to).encode()

    def _create(self) -> int | None:
        """Create the lock file already locked and holding this process's record: written
        to a temporary (``O_EXCL | O_NOFOLLOW``), locked, then hard-linked into place (a
        link never replaces an existing name). None when a lock file appeared meanwhile."""
        path = self.folder / LOCK
        fd, tmp = tempfile.mkstemp(prefix=f"{LOCK}.{SESSION}-", suffix=".tmp", dir=self.folder)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.fchmod(fd, 0o666 & ~umask())
            os.pwrite(fd, self._record_text(), 0)
            os.fsync(fd)
            try:
                os.link(tmp, path)  # never replaces or follows an existing name
            except FileExistsError:
                os.close(fd)
                return None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP):
                    raise
                os.close(fd)  # a file system without hard links: create it in place
                return self._create_in_place()
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return fd

    def _create_in_place(self) -> int | None:
        """Fallback of :meth:`_create` where hard links are not supported: ``O_CREAT |
        O_EXCL | O_NOFOLLOW``, lock, write (a crash in between leaves an empty file, which
        the next run refuses in one line rather than removing it)."""
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.folder / LOCK, flags, 0o666)
        except FileExistsError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.pwrite(fd, self._record_text(), 0)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _open(self) -> int | None:
        """Open the existing lock file (never a link); None when there is none."""
        path = self.folder / LOCK
        flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        st = lstat_or_none(path)
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise self._refuse(f"a {kind_of(st.st_mode)}")
        if st is None:
            return None
        try:
            return os.open(path, flags)
        except FileNotFoundError:  # removed in between by its owner: create it
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self._refuse("a symbolic link") from None
            raise

    def acquire(self) -> FolderLock:
        path = self.folder / LOCK
        for _ in range(100):
            try:
                fd = self._open()
                if fd is None:
                    fd = self._create()
                    if fd is None:  # created in between by another process: open it
                        continue
                    st = os.fstat(fd)
                    self._fd, self._ino, self.stale = fd, (st.st_dev, st.st_ino), []
                    return self
            except OutputError:
                raise
            except OSError as exc:
                raise OutputError(
                    f"cannot lock output folder {str(self.folder)!r}: {os_message(exc)}"
                ) from None
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    raise self._refuse(f"a {kind_of(st.st_mode)}")
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = (_lock_record(os.pread(fd, 4096, 0)) or {}).get("pid")
                    raise OutputError(
                        f"another eplt process is writing into {str(self.folder)!r}"
                        + (f" (pid {holder})" if isinstance(holder, int) else "")
                        + "; wait for it or choose another --out"
                    ) from None
                now = lstat_or_none(path)
                if now is None or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                    os.close(fd)  # its owner removed it after we opened it: take the new one
                    continue
                # locked: whoever wrote it is gone, and the content is stable
                raw = os.pread(fd, 65536, 0)
                record = _lock_record(raw)
                if record is None:
                    # an empty file, a bare number, anything without an eplt token: not
                    # provably eplt's (eplt creates its lock file whole), so never taken,
                    # rewritten or removed
                    what = "an empty file" if not raw.strip() else "a file of other content"
                    raise self._refuse(what)
                self.stale = [
                    t
                    for t in [record.get("token"), *record.get("stale", [])]
                    if isinstance(t, str) and _TOKEN.match(t) and t != SESSION
                ][:_MAX_STALE]
                try:
                    os.pwrite(fd, self._record_text(len(raw)), 0)
                except OSError as exc:
                    raise OutputError(f"cannot write {str(path)!r}: {os_message(exc)}") from None
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            self._ino = (st.st_dev, st.st_ino)
            return self
        raise OutputError(f"cannot lock {str(path)!r}: it keeps being replaced")  # pragma: no cover

    def forget_stale(self) -> None:
        """Drop the dead runs' tokens from the lock file (after :func:`clean_stale`)."""
        if self._fd is not None and self.stale:
            self.stale = []
            with contextlib.suppress(OSError):
                old = os.fstat(self._fd).st_size
                os.pwrite(self._fd, self._record_text(old), 0)

    def release(self) -> None:
        """Remove the lock file (if it still is the file this process locked, a regular
        file holding its token) and release the lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            # an OSError: the lock file is already gone or no longer ours, nothing of ours
            # to remove (the flock is released below either way)
            with contextlib.suppress(OSError):
                path = self.folder / LOCK
                st = lstat_or_none(path)
                if (
                    st is not None
                    and stat.S_ISREG(st.st_mode)
                    and (st.st_dev, st.st_ino) == self._ino
                    and (_lock_record(os.pread(fd, 65536, 0)) or {}).get("token") == SESSION
                ):
                    os.unlink(path)  # while still locked: a waiting opener retries anew
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self if self.held else self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _lock_record(raw: bytes) -> dict | None:
    """The content of a lock file eplt wrote (a JSON record with ``"eplt": "lock"`` and
    a random token), None for anything else: an empty file, a bare PID (which an older
    eplt wrote, but so could anyone), text."""
    try:
        rec = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(rec, dict) or rec.get("eplt") != "lock":
        return None
    token = rec.get("token")
    if not (isinstance(token, str) and _TOKEN.match(token)):
        return None
    if not isinstance(rec.get("stale", []), list):
        rec["stale"] = []
    return rec


_LOCK_TMP = re.compile(re.escape(LOCK) + r"\.([0-9a-f]{16})-[a-z0-9_]{8}\.tmp\Z")


def _clean_lock_temporaries(folder: Path) -> list[str]:
    """Remove lock files of dead runs that never got linked into place (a crash while
    :meth:`FolderLock._create` ran): only a regular file named ``.eplt-lock.TOKEN-*.tmp``
    that holds eplt's lock record with that same token and that no process locks."""
    removed = []
    for name in os.listdir(folder):
        m = _LOCK_TMP.match(name)
        if m is None or m.group(1) == SESSION:
            continue
        try:
            fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while its owner lives
            rec = _lock_record(os.pread(fd, 65536, 0))
            now = lstat_or_none(folder / name)
            if (
                rec is not None
                and rec["token"] == m.group(1)
                and now is not None
                and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)
            ):
                os.unlink(folder / name)
                removed.append(name)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed

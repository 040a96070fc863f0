"""Where sweep points run: serially, in a local process pool, or on a Dask cluster.

:func:`executor` is a context manager yielding ``submit(fn, *args) -> future`` and an
``as_completed``. Workers of the process pool

* use one BLAS thread each (``OMP_NUM_THREADS=1`` etc. inherited at spawn);
* ignore SIGINT (Ctrl-C reaches the whole process group; the parent alone handles it, so
  workers print no tracebacks) — the same for the workers of a new Dask ``LocalCluster``;
* exit when their parent dies, even by SIGKILL: a watchdog thread polls the parent's pid
  (a worker reparented to init would otherwise block forever on its call queue).

On an external Dask scheduler (``--scheduler``) the sweep watches the cluster while it
waits: when the scheduler, after it had workers, has had none for ``timeout`` seconds
(``--timeout``, ``EPLT_DASK_TIMEOUT``, default 120 s), or the scheduler itself dies, it
stops with a :class:`ClusterError` saying which; the points already finished are kept.
Before the first worker connects (a batch queue may take hours) it waits, saying so in
one line after ``timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import threading
import time

from .params import ParamError

__all__ = ["BLAS_ENV", "EXECUTORS", "ClusterError", "dask_timeout", "executor"]

BLAS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
EXECUTORS = ("serial", "processes", "dask")
#: Seconds between two looks of a worker's watchdog at its parent.
WATCH_INTERVAL = 0.5
#: Seconds a sweep waits while an external Dask scheduler has no worker (default).
DASK_TIMEOUT = 120.0
#: Seconds between two looks at an external Dask cluster while no point finishes.
DASK_POLL = 1.0


class ClusterError(RuntimeError):
    """The Dask cluster of a sweep failed midway: its scheduler died, or it had no worker
    for longer than the timeout."""


def dask_timeout(value: float | None = None) -> float:
    """The no-worker timeout in seconds: ``value``, else ``EPLT_DASK_TIMEOUT``, else
    :data:`DASK_TIMEOUT`; a number > 0 (``ParamError`` otherwise)."""
    source = "timeout"
    if value is None:
        text = os.environ.get("EPLT_DASK_TIMEOUT")
        if text is None:
            return DASK_TIMEOUT
        source = "EPLT_DASK_TIMEOUT"
        try:
            value = float(text.strip().removesuffix("s"))
        except ValueError:
            value = math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < math.inf):
        raise ParamError(
            f"{source} must be a number of seconds > 0 (how long a sweep waits while the"
            f" Dask scheduler has no worker), got {value if source == 'timeout' else text!r}"
        )
    return float(value)


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)  # the parent died: nobody will read our results
        time.sleep(WATCH_INTERVAL)


def worker_init(parent: int) -> None:
    """Initializer of pool workers: ignore SIGINT, exit when ``parent`` dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:  # pragma: no cover - parent died during start-up
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored while child processes are started: a spawned Python inherits the
    ignored disposition and then installs no KeyboardInterrupt handler of its own."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _blas_env():
    saved = {k: os.environ.get(k) for k in BLAS_ENV}
    os.environ.update(BLAS_ENV)  # inherited by the spawned workers
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def executor(kind: str, workers: int | None, scheduler: str | None, timeout: float | None = None):
    """Context manager yielding ``submit(fn, *args) -> future`` and an ``as_completed``.

    ``timeout``: with an external Dask ``scheduler``, seconds to wait while it has no
    worker (:func:`dask_timeout`)."""
    if kind == "dask":
        return _dask(workers, scheduler, dask_timeout(timeout))
    return {"serial": _serial, "processes": _processes}[kind](workers, scheduler)


@contextlib.contextmanager
def _serial(workers, scheduler):
    class _Deferred:
        """Computed when iterated, so each point is checkpointed before the next runs."""

        def __init__(self, fn, args):
            self._fn, self._args = fn, args

        def result(self):
            return self._fn(*self._args)

    yield (lambda fn, *a: _Deferred(fn, a)), (lambda fs: iter(fs))


@contextlib.contextmanager
def _processes(workers, scheduler):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    n = workers or os.cpu_count() or 1
    with _blas_env():
        ex = ProcessPoolExecutor(
            max_workers=n,
            mp_context=mp.get_context("spawn"),
            initializer=worker_init,
            initargs=(os.getpid(),),
        )

        def submit(fn, *a):
            with _sigint_ignored():  # workers are spawned on demand, inside submit
                return ex.submit(fn, *a)

        try:
            yield submit, as_completed
        except BaseException:
            # Ctrl-C or an error: drop the queued points instead of computing them
            # (their results could no longer be checkpointed)
            ex.shutdown(wait=False, cancel_futures=True)
            raise
        ex.shutdown()


def _discard_failed_client(exc: BaseException, client_type: type) -> None:
    """Shut down the half-built ``Client`` whose constructor raised ``exc``.

    ``distributed.Client.__init__`` starts an event loop in an "IO loop" thread before
    it connects, and does not stop it when connecting fails: after a timeout the client
    is closed but its loop thread runs until the process exits; after a malformed address
    the client is left "connecting" and is closed only when the garbage collector happens
    to reach it, at some later, unrelated moment. The caller never receives the object,
    so it is found in the constructor's frame (``self``) on the exception's traceback.
    """
    tb = exc.__traceback__
    while tb is not None:
        obj = tb.tb_frame.f_locals.get("self")
        if isinstance(obj, client_type):
            with contextlib.suppress(Exception):
                obj.close(timeout=5)  # no-op when already closed; else closes comms + loop
            runner = getattr(obj, "_loop_runner", None)
            if runner is not None:
                with contextlib.suppress(Exception):
                    runner.stop()  # idempotent: stops the loop thread if close() did not
            break
        tb = tb.tb_next
    del tb  # no frame references kept


def _quiet_distributed() -> None:
    """Silence distributed's logs (a dying cluster logs tracebacks while it closes)."""
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _watched(client, scheduler: str, timeout: float):
    """``as_completed`` for an external scheduler that notices a dead scheduler and a
    cluster without workers (:class:`ClusterError`) instead of waiting forever."""
    from distributed import wait

    def lost() -> ClusterError:
        _quiet_distributed()
        return ClusterError(
            f"the Dask scheduler at {scheduler!r} died or stopped answering during the sweep;"
            " the finished points are kept: restart it and rerun to compute the rest"
        )

    def workers() -> int:
        try:
            return len(client.nthreads())
        except Exception:
            raise lost() from None

    def completed(futures):
        pending = set(futures)
        idle_since = None
        # the timeout counts once the cluster has had a worker (batch systems may take
        # long to start the first one: then one line says what the sweep waits for)
        seen, announced = workers() > 0, False
        while pending:
            try:
                done, _ = wait(list(pending), timeout=DASK_POLL, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = ()
            except Exception:  # e.g. FuturesCancelledError when the connection is lost
                if client.status != "running":
                    raise lost() from None
                raise
            for fut in done:
                if fut.status == "cancelled" and client.status != "running":
                    raise lost()
                pending.discard(fut)
                yield fut
            if done:
                idle_since, seen = None, True
                continue
            if client.status != "running":
                raise lost()
            if workers():
                idle_since, seen = None, True
                continue
            idle_since = idle_since or time.monotonic()
            if not seen:
                if not announced and time.monotonic() - idle_since > timeout:
                    announced = True
                    print(
                        f"eplt: waiting for a worker to connect to the Dask scheduler at"
                        f" {scheduler!r}; Ctrl-C stops",
                        file=sys.stderr,
                        flush=True,
                    )
                continue
            if time.monotonic() - idle_since > timeout:
                _quiet_distributed()
                raise ClusterError(
                    f"the Dask scheduler at {scheduler!r} has had no worker for {timeout:g} s"
                    f" (its workers died or none was started); {len(pending)} point(s) not"
                    " computed, the finished ones are kept: start workers and rerun"
                    " (--timeout or EPLT_DASK_TIMEOUT sets the wait)"
                )

    return completed


@contextlib.contextmanager
def _dask(workers, scheduler, timeout):
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as das_completed
    except ImportError:
        raise ParamError(
            "--executor dask needs dask.distributed: pip install 'eplt[dask]'"
        ) from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except Exception as exc:  # OSError, TimeoutError, ValueError for a malformed address
            _discard_failed_client(exc, Client)
            msg = " ".join(str(exc).split()) or type(exc).__name__
            raise ParamError(
                f"cannot connect to the Dask scheduler at {scheduler!r}: {msg}"
            ) from None
        cluster = None
    else:
        with _sigint_ignored():
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                # workers log cancelled tasks as warnings with tracebacks when a sweep is
                # interrupted; errors (a worker that cannot start) still show
                silence_logs=logging.ERROR,
                dashboard_address=":0",  # any free port (8787 may be taken by another cluster)
            )
        try:
            client = Client(cluster)
        except BaseException as exc:
            _discard_failed_client(exc, Client)
            cluster.close()  # its worker processes would outlive the sweep
            raise
    completed = das_completed if cluster is not None else _watched(client, scheduler, timeout)
    # the client logs a traceback when it loses the scheduler and tries to reconnect;
    # the watcher reports that in one line instead
    client_log = logging.getLogger("distributed.client")
    level = client_log.level
    if cluster is None:
        client_log.setLevel(logging.CRITICAL)
    try:
        yield (lambda fn, *a: client.submit(fn, *a, pure=False)), completed
    except KeyboardInterrupt:
        # shutting down mid-task makes distributed log every cancelled task: keep it quiet
        _quiet_distributed()
        raise
    finally:
        if cluster is None:
            client.close(timeout=10)  # bounded: a dead scheduler is not waited for
        else:
            client.close()
        client_log.setLevel(level)
        if cluster is not None:
            cluster.close()

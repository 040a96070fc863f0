"""``eplt sweep``: the command line of :mod:`eplt.studies.sweep` (registered by
:mod:`eplt.studies.cli`)."""

from __future__ import annotations

import sys
from pathlib import Path

from ._executors import EXECUTORS
from ._sweep_plot import sweep_figures
from .base import WriteError, figure_warning, write_figures
from .params import ParamError, parse_int
from .sweep import parse_grid, run_sweep

__all__ = ["add_sweep_parser", "cmd_sweep"]


def add_sweep_parser(sub) -> None:
    """Add the ``sweep`` command to the ``eplt`` subparsers ``sub``."""
    s = sub.add_parser("sweep", help="run a study over a parameter grid (checkpointed, resumable)")
    s.add_argument("name")
    s.add_argument("--grid", action="append", default=[], metavar="KEY=START:STOP:NUM|V1,V2,...")
    s.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    s.add_argument("--executor", default="processes", help="serial, processes (default) or dask")
    s.add_argument("--scheduler", help="address of a running Dask scheduler (with --executor dask)")
    s.add_argument(
        "--timeout",
        help="seconds to wait while the Dask scheduler has no worker before stopping"
        " (default: EPLT_DASK_TIMEOUT or 120)",
    )
    s.add_argument("--workers", help="number of worker processes (default: all cores)")
    s.add_argument("--out", help="sweep folder (default results/sweep-NAME)")
    s.add_argument("--seed", default="0", help="root seed")
    s.add_argument(
        "--resume",
        action="store_true",
        help="continue a sweep in an existing folder (the default when the folder holds the same sweep)",
    )
    s.add_argument(
        "--retry-failed",
        action="store_true",
        help="compute again the points recorded as failed (a plain rerun keeps their records)",
    )
    s.add_argument("--plot", help="summary key to plot (default: the study's SWEEP_PLOT_KEY)")
    s.add_argument("--format", default="png,pdf")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(handler=cmd_sweep)


def cmd_sweep(args) -> int:
    """Run ``eplt sweep`` (parsed ``args``); 0 when every point succeeded, 1 otherwise."""
    import matplotlib

    matplotlib.use("Agg")
    from . import get_study
    from ._cliargs import UsageError, _formats, _seed, out_folder
    from .params import parse_sets

    st = get_study(args.name)
    fixed = parse_sets(args.sets)
    grid = parse_grid(args.grid, st.PARAMS, study=st.NAME)
    if args.executor not in EXECUTORS:
        raise UsageError(f"--executor must be one of {', '.join(EXECUTORS)}, got {args.executor!r}")
    if args.scheduler is not None and not args.scheduler.strip():
        raise UsageError(
            f"--scheduler must be the address of a Dask scheduler (tcp://host:port), got {args.scheduler!r}"
        )
    if args.scheduler is not None and args.executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    timeout = None
    if args.timeout is not None:
        if args.scheduler is None:
            raise UsageError("--timeout applies to an external Dask scheduler: give --scheduler")
        from .params import parse_float

        try:
            timeout = parse_float(args.timeout, "--timeout")
        except ParamError:
            timeout = float("nan")
        if not (0 < timeout < float("inf")):
            raise UsageError(f"--timeout must be a number of seconds > 0, got {args.timeout!r}")
    workers = None
    if args.workers is not None:
        try:
            workers = parse_int(args.workers, "--workers")
        except ParamError:
            raise UsageError(f"--workers must be an integer >= 1, got {args.workers!r}") from None
        if workers < 1:
            raise UsageError(f"--workers must be an integer >= 1, got {args.workers!r}")
    fmts = _formats(args.format)
    out = out_folder(args.out, Path("results") / f"sweep-{st.NAME}")
    if args.resume and not (out / "sweep.json").exists():
        raise UsageError(f"--resume: {str(out)!r} holds no sweep to resume")
    if args.plot and args.plot.split(".")[0] not in st.SUMMARY_KEYS:  # before the work
        raise UsageError(
            f"--plot: {args.plot!r} is not a summary value of {st.NAME}"
            f" (choose from {', '.join(st.SUMMARY_KEYS)})"
        )
    progress = not args.quiet and sys.stderr.isatty()

    def figure(res) -> None:
        """The sweep figure, after sweep.nc and sweep_summary.json, under the lock."""
        key = args.plot or getattr(st, "SWEEP_PLOT_KEY", None)
        numeric = [
            k for k in res.dataset.data_vars if res.dataset[k].dtype.kind == "f" and k != "seconds"
        ]
        if key is None and numeric:
            key = numeric[0]
        if key is not None and key in res.dataset:
            try:  # sweep.nc and sweep_summary.json are written: a figure only adds to them
                write_figures(
                    sweep_figures(res.dataset, key, st.PARAMS), out, fmts, keep_going=True
                )
            except WriteError:
                raise
            except Exception as exc:
                kept = ("sweep.nc", "sweep_summary.json", "points/")
                print(
                    figure_warning(f"the sweep figure of {key!r}", exc, kept, out),
                    file=sys.stderr,
                )
        elif key is not None:
            nested = [k for k in numeric if k.startswith(key + ".")]
            hint = f"; it has parts, plot one of: {', '.join(nested)}" if nested else ""
            print(f"eplt: no figure: no point has a single value of {key!r}{hint}", file=sys.stderr)

    res = run_sweep(
        st.NAME,
        grid,
        fixed=fixed,
        seed=_seed(args.seed),
        out=out,
        executor=args.executor,
        workers=workers,
        scheduler=args.scheduler,
        progress=progress,
        retry_failed=args.retry_failed,
        announce=not args.quiet,
        timeout=timeout,
        finish=figure,
    )
    if not args.quiet:
        print(
            f"{st.NAME}: {res.n_points} points ({res.n_skipped} already done), {res.n_failed} failed -> {out}/sweep.nc"
        )
    if res.n_failed:
        print(
            f"eplt: {res.n_failed} of {res.n_points} points failed; see {out}/sweep_summary.json"
            " (a rerun computes missing points; --retry-failed also the failed ones)",
            file=sys.stderr,
        )
        return 1
    return 0

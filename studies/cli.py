"""The ``eplt`` command line.

::

    eplt list
    eplt describe NAME
    eplt run NAME [--set key=value ...] [--config FILE.toml] [--out DIR] [--seed N]
                  [--format png,pdf] [--force] [--quiet]

Bad input (unknown study or parameter, wrong type, value out of range, malformed TOML,
unusable output folder, a temperature where no EPLT exists, more memory than is available
or more work than ``EPLT_WORK_LIMIT`` allows) prints one line ``eplt: error: ...`` and
exits with status 2. The output folder is checked before any computation; a non-empty
folder is never written into without ``--force``.

A run estimated at more than 10 s of CPU (each study's ``work_estimate``) is announced in
one line on stderr before it starts, and then one line per later phase (computed, drawing
figures; writing), on a terminal or not, so that logs and batch jobs show where a run is;
progress bars only on a terminal. The summary printed at the end is
rounded (four significant digits, one line per key, dictionaries folded;
``summary.json`` keeps every digit). ``--quiet`` silences the notice, the phases, the
bars and the summary (scripts that need a guard set ``EPLT_WORK_LIMIT``, which refuses
long runs whatever ``--quiet``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from ._cliargs import FORMATS, UsageError, _formats, _seed, out_folder  # noqa: F401

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse prints usage + error by default)
        raise UsageError(message)


def _load_toml(path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    if not path.strip():
        raise UsageError(f"--config must name a TOML file, got {path!r}")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except RecursionError:
        raise UsageError(
            f"config file {path!r} nests arrays or tables too deeply to be read;"
            " parameters are numbers, text or flat lists"
        ) from None
    except IsADirectoryError:
        raise UsageError(f"config file {path!r} is a folder, not a TOML file") from None
    except FileNotFoundError:
        raise UsageError(f"config file {path!r} not found") from None
    except OSError as exc:
        raise UsageError(f"cannot read config file {path!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"malformed TOML in {path!r}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"config file {path!r} is not UTF-8 text (byte {exc.start}); TOML files are UTF-8"
        ) from None
    if "params" in data and isinstance(data["params"], dict):
        extra = {k: v for k, v in data.items() if k not in ("params", "seed")}
        if extra:
            raise UsageError(
                f"config {path!r}: put parameters under [params], found top-level {sorted(extra)}"
            )
        return {**data["params"], **({"seed": data["seed"]} if "seed" in data else {})}
    return data


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="eplt",
        description="Local thermalization with classically correlated baths: studies and sweeps.",
    )
    p.add_argument("--version", action="store_true", help="print the version of eplt and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("list", help="list the studies")
    d = sub.add_parser("describe", help="parameters, defaults, units and summary keys of a study")
    d.add_argument("name")
    r = sub.add_parser("run", help="run a study and write data, summary and figures")
    r.add_argument("name")
    r.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter",
    )
    r.add_argument(
        "--config", help="TOML file of parameters (flat, or under [params]; optional seed)"
    )
    r.add_argument("--out", help="output folder (default results/NAME)")
    r.add_argument("--seed", help="root seed (default 0)")
    r.add_argument(
        "--format", default="png,pdf", help="figure formats, comma-separated (png,pdf,svg)"
    )
    r.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty output folder (replacing files of the same name)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    from ._sweep_cli import add_sweep_parser

    add_sweep_parser(sub)
    return p


def cmd_list(args) -> int:
    from . import STUDIES, get_study

    width = max(map(len, STUDIES))
    for name in STUDIES:
        print(f"{name:<{width}}  {get_study(name).DESCRIPTION}")
    return 0


def cmd_describe(args) -> int:
    from . import get_study

    st = get_study(args.name)
    print(f"{st.NAME}: {plain_text(st.DESCRIPTION)}\n")
    doc = (st.__doc__ or "").strip().splitlines()
    if len(doc) > 1:
        print(plain_text("\n".join(doc[1:]).strip()) + "\n")
    print(f"parameters (eplt run {st.NAME} --set name=value):")
    rows = [
        (p.name, _fmt_default(p.default), p.unit or "-", p.range_text(), plain_text(p.help))
        for p in st.PARAMS
    ]
    w = [
        max(len(r[i]) for r in rows + [("name", "default", "unit", "range", "")]) for i in range(4)
    ]
    print(f"  {'name':<{w[0]}}  {'default':<{w[1]}}  {'unit':<{w[2]}}  {'range':<{w[3]}}  meaning")
    for r in rows:
        print(f"  {r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]:<{w[3]}}  {r[4]}")
    print("\nranges are inclusive at [ ] and exclusive at ( ); lists take comma-separated values")
    print("\nsummary.json keys:")
    for k, v in st.SUMMARY_KEYS.items():
        print(f"  {k}: {plain_text(v)}")
    return 0


# reStructuredText/Sphinx markup in docstrings, rendered as plain terminal text
_ROLE = re.compile(r":(?:py:)?(\w+):`(~?)([^`<]*?)(?:\s*<([^`>]*)>)?`")
_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)
_STRONG = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*", re.DOTALL)
_EMPH = re.compile(r"(?<![\w*^])\*(\S(?:[^*]*?\S)?)\*(?![\w*])")
_DIRECTIVE = re.compile(r"^(\s*)\.\. (?:math|code-block|code)::\s*", re.MULTILINE)
_BACKQUOTE = re.compile(r"(?<![\w`])`([^`]+)`(?![\w`])")


def _role(m: re.Match) -> str:
    role, tilde, text, target = m.groups()
    if target is not None:  # :func:`text <target>`
        return text.strip()
    if text == "SUMMARY_KEYS":
        return "summary.json keys below"
    if tilde:
        text = text.rsplit(".", 1)[-1]
    return text + ("()" if role in ("func", "meth") else "")


def plain_text(text: str) -> str:
    """``text`` with reStructuredText/Sphinx markup removed for the terminal: roles
    (``:func:`~a.b``` -> ``b()``), inline literals and math, ``**strong**``, ``*emphasis*``,
    ``.. math::`` directives; the words and formulas are kept as written."""
    text = _ROLE.sub(_role, text)
    text = _LITERAL.sub(lambda m: m.group(1), text)
    text = _STRONG.sub(lambda m: m.group(1), text)
    text = _EMPH.sub(lambda m: m.group(1), text)
    text = _DIRECTIVE.sub(lambda m: m.group(1), text)
    return _BACKQUOTE.sub(lambda m: m.group(1), text)


def _fmt_default(v) -> str:
    if isinstance(v, (tuple, list)):
        return ",".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def cmd_run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from . import get_study
    from .base import claim_folder
    from .params import parse_sets, resolve

    st = get_study(args.name)
    overrides = _load_toml(args.config) if args.config is not None else {}
    seed = overrides.pop("seed", 0)
    overrides.update(parse_sets(args.sets))
    params = resolve(st.PARAMS, overrides, study=st.NAME)
    if args.seed is not None:
        seed = _seed(args.seed)
    elif isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(
            f"config {args.config!r}: seed must be a non-negative integer, got {seed!r}"
        )
    fmts = _formats(args.format)
    out = out_folder(args.out, Path("results") / st.NAME)
    from ._resources import check_memory, check_work, work_notice

    check_memory(st, params)  # before the folder is created or anything allocated
    check_work(st, params, figures=True)  # above EPLT_WORK_LIMIT, before the folder too
    notice = None if args.quiet else work_notice(st, params)
    if notice:
        print(notice, file=sys.stderr, flush=True)
    created = not out.exists()
    lock = claim_folder(out, force=args.force)  # held until the last file is in place
    try:
        return _run_locked(st, params, seed, fmts, out, lock, args, long_run=notice is not None)
    except BaseException:
        if created:  # e.g. the study refused its parameters: leave no empty folder behind
            from ._folders import remove_if_unused

            remove_if_unused(out, lock)
        raise
    finally:
        lock.release()


def _phase(show: bool, name: str, text: str) -> None:
    """One progress line per phase of a long run on stderr (terminal or not, so that logs
    and batch jobs show where a run is)."""
    if show:
        print(f"eplt: {name}: {text}", file=sys.stderr, flush=True)


def _run_locked(st, params, seed, fmts, out, lock, args, *, long_run: bool = False) -> int:
    """Run, draw, write. A long run (its work notice was printed: that line opens the
    computing phase) reports each later phase in one line on stderr; short runs and
    ``--quiet`` print none, so a refused run still prints exactly one error line."""
    bars = not args.quiet and sys.stderr.isatty()  # progress bars only on a terminal
    phases = long_run and not args.quiet
    t0 = time.perf_counter()
    result = st.run(params, seed=seed, progress=bars)
    from ._summary_text import format_summary
    from .base import figure_warning, write_outputs
    from .style import style

    _phase(phases, st.NAME, f"computed in {time.perf_counter() - t0:.1f} s; drawing figures")
    with style():  # figures are built and saved with the shared style
        try:
            figs = st.figures(result)
        except Exception as exc:  # the numbers are computed: keep them without figures
            figs = {}
            kept = ("data.nc", "summary.json", "metadata.json")
            print(figure_warning(f"the figures of {st.NAME}", exc, kept, out), file=sys.stderr)
        _phase(phases, st.NAME, f"writing data, summary and {len(figs)} figures to {out}/")
        written = write_outputs(result, figs, out, formats=fmts, force=True, lock=lock)
    if not args.quiet:
        print(format_summary(result))
        print(f"wrote {len(written)} files to {out}/ in {time.perf_counter() - t0:.1f} s:")
        import textwrap

        names = ", ".join(p.name for p in written)
        print(textwrap.fill(names, width=100, initial_indent="  ", subsequent_indent="  "))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``eplt``; returns the exit status."""
    import logging

    from eplt.dynamics.bounds import BoundGapError
    from eplt.dynamics.channels import NoEPLTError
    from eplt.dynamics.limits import MemoryLimitError
    from threadpoolctl import threadpool_limits

    from ._executors import ClusterError
    from .base import OutputError, WriteError
    from .params import ParamError

    # fontTools logs a harmless warning per embedded math font when writing PDFs
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from eplt import __version__

            print(f"eplt {__version__}")
            return 0
        if args.command is None:
            parser.print_help()
            return 2
        handler = {"list": cmd_list, "describe": cmd_describe, "run": cmd_run}.get(args.command)
        if handler is None:
            handler = args.handler
        # Studies work with small matrices: threaded BLAS only adds synchronisation cost.
        with threadpool_limits(limits=1):
            return handler(args)
    # failed midway: disk full, scheduler died, an SDP's certificate short of its tolerance
    except (WriteError, ClusterError, BoundGapError) as exc:
        print(f"eplt: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except (UsageError, ParamError, NoEPLTError, OutputError, MemoryLimitError) as exc:
        msg = " ".join(str(exc).split())
        print(f"eplt: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eplt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `eplt list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the file system refused something not foreseen above
        from ._folders import os_message

        where = f"{exc.filename}: " if exc.filename else ""
        print(f"eplt: error: {where}{os_message(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

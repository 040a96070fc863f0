"""Sphinx extension of the eplt docs: pages generated from the code at build time.

``builder-inited`` (before autosummary, which then writes one stub page per name):

* :func:`write_api_pages` — ``docs/api/``: a page per package of ``conf.API_PACKAGES``
  that can be imported and per public submodule (recursively), each listing the
  module's ``__all__``. A name re-exported from the public module that defines it links
  to that module's page, so nothing is documented twice.
* :func:`write_study_pages` — ``docs/studies/_generated/``: a page per entry of
  ``eplt.studies.STUDIES`` (docstring, parameters and summary keys as ``eplt describe`` shows
  them, the figures of a run with ``conf.STUDY_DOC_PARAMS``) and the figure gallery.

Study runs are cached in ``docs/studies/_generated/.cache`` keyed by the parameters and the
package sources, so an unchanged rebuild does not recompute them; CI builds from scratch.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import pkgutil
import textwrap
import time
from pathlib import Path
from types import ModuleType

from eplt_math import math_roles
from sphinx.util import logging

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
API = DOCS / "api"
STUDY_OUT = DOCS / "studies" / "_generated"


# --------------------------------------------------------------------------- helpers
def _title(text: str, ch: str = "=") -> str:
    return f"{text}\n{ch * len(text)}\n"


def _write(path: Path, text: str) -> None:
    """Write only when the content changes (keeps Sphinx's incremental build useful)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _public_submodules(mod: ModuleType) -> list[str]:
    if not hasattr(mod, "__path__"):
        return []
    return sorted(
        f"{mod.__name__}.{m.name}"
        for m in pkgutil.iter_modules(mod.__path__)
        if not m.name.startswith("_")
    )


def _first_line(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


# --------------------------------------------------------------------------- API pages
def _canonical(obj, name: str, here: str, roots: tuple[str, ...]) -> str | None:
    """Full name under which ``obj`` is documented elsewhere, or None to document it here."""
    if isinstance(obj, ModuleType):
        return obj.__name__
    modname = getattr(obj, "__module__", None)
    if not modname or modname == here or not modname.startswith(roots):
        return None
    if any(part.startswith("_") for part in modname.split(".")):
        return None
    try:
        home = importlib.import_module(modname)
    except Exception:
        return None
    qual = getattr(obj, "__name__", name)
    if qual in getattr(home, "__all__", ()) and getattr(home, qual, None) is obj:
        return f"{modname}.{qual}"
    return None


def _public_names(mod: ModuleType) -> list[str]:
    """A module without ``__all__``: its own public functions and classes (and a study's
    constants), in source order."""
    logger.info(f"[eplt_docs] API: {mod.__name__} has no __all__; documenting what it defines")
    out = []
    for n, o in vars(mod).items():
        if n.startswith("_"):
            continue
        own = (inspect.isfunction(o) or inspect.isclass(o)) and o.__module__ == mod.__name__
        if own or n in ("NAME", "DESCRIPTION", "PARAMS", "SUMMARY_KEYS"):
            out.append(n)
    return out


def _module_page(modname: str, roots: tuple[str, ...]) -> tuple[str, list[str]]:
    mod = importlib.import_module(modname)
    names = list(getattr(mod, "__all__", _public_names(mod)))
    local, linked, modules = [], [], []
    for n in names:
        obj = getattr(mod, n)
        target = _canonical(obj, n, modname, roots)
        if isinstance(obj, ModuleType):
            modules.append(target)
        elif target is None:
            local.append(n)
        else:
            linked.append(target)
    subs = _public_submodules(mod)
    out = [f".. _api-{modname}:\n", _title(f"``{modname}``")]
    out.append(f".. automodule:: {modname}\n   :no-members:\n")
    if local:
        out.append(_title("Defined here" if linked else "Contents", "-"))
        out.append(f".. currentmodule:: {modname}\n")
        out.append(".. autosummary::\n   :toctree: generated/\n   :nosignatures:\n")
        out += [f"   {n}" for n in local]
        out.append("")
    if linked:
        out.append(_title(f"Re-exported by ``{modname}``", "-"))
        out.append(
            f"Available as ``{modname}.NAME``; documented with the module that defines them.\n"
        )
        out.append(".. currentmodule:: None\n")  # full names below, no "current module" prefix
        out.append(".. autosummary::\n   :nosignatures:\n")
        out += [f"   ~{t}" for t in linked]
        out.append("")
    listed = [m for m in modules if m not in subs]
    if subs or listed:
        out.append(_title("Submodules" if subs else "Modules", "-"))
        if subs:
            out.append(".. toctree::\n   :maxdepth: 1\n")
            out += [f"   {s}" for s in subs]
            out.append("")
        for m in listed:  # modules re-exported from elsewhere: a link, not a second page
            out.append(f"* :mod:`{m}`")
        out.append("")
    return "\n".join(out) + "\n", subs


def write_api_pages(app) -> list[str]:
    packages = []
    for name in app.config.eplt_api_packages:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                logger.info(f"[eplt_docs] API: package {name!r} not importable, skipped")
                continue
            raise
        packages.append(name)
    roots = tuple(p + "." for p in packages) + tuple(packages)
    written = set()
    todo = list(packages)
    while todo:
        modname = todo.pop(0)
        if modname in written:
            continue
        text, subs = _module_page(modname, roots)
        _write(API / f"{modname}.rst", text)
        written.add(modname)
        todo += subs
    for old in API.glob("*.rst"):  # modules that disappeared
        if old.stem not in written and old.stem != "index":
            old.unlink()
    index = [
        ".. _api:\n",
        _title("API reference"),
        "Every public name of the packages below, generated from the numpydoc docstrings.",
        "A package lists its ``__all__``; each public submodule has its own page.",
        "Conventions (hbar = k_B = 1, column-stacked superoperators, which party is",
        "transposed) are collected in :doc:`/guide/conventions`.\n",
    ]
    for p in packages:
        index.append(f"* :mod:`{p}` — {_first_line(importlib.import_module(p))}")
    index.append("\n.. toctree::\n   :hidden:\n   :maxdepth: 2\n")
    index += [f"   {p}" for p in packages]
    _write(API / "index.rst", "\n".join(index) + "\n")
    logger.info(f"[eplt_docs] API: {len(written)} module pages for {packages}")
    return packages


# --------------------------------------------------------------------------- studies
def _fmt_default(v) -> str:
    from eplt.studies.cli import _fmt_default as f

    return f(v)


def _csv_cell(text: str) -> str:
    """A csv-table cell; ``|`` would start a substitution, ``*`` emphasis."""
    text = str(text).replace('"', '""')
    if "``" not in text:
        text = text.replace("|", r"\|").replace("*", r"\*")
    return '"' + text + '"'


def _source_hash(extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for pkg in ("dynamics", "baths", "studies"):
        for p in sorted((ROOT / pkg).rglob("*.py")):
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _run_study(name: str, st: ModuleType, params: dict, img: Path) -> tuple[dict, list[str], float]:
    """Run ``st`` with ``params``, save its figures as PNG in ``img``; cached."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from eplt.studies.base import jsonable
    from eplt.studies.params import resolve
    from eplt.studies.style import style
    from threadpoolctl import threadpool_limits

    cache = STUDY_OUT / ".cache" / f"{name}.json"
    key = _source_hash(json.dumps([name, params], sort_keys=True, default=str))
    if cache.exists():
        c = json.loads(cache.read_text())
        if c.get("key") == key and all((img / f).exists() for f in c["figures"]):
            return c["summary"], c["figures"], c["seconds"]
    t0 = time.perf_counter()
    with threadpool_limits(1):
        result = st.run(resolve(st.PARAMS, params, study=name), seed=0)
        with style():
            figs = st.figures(result)
            files = []
            img.mkdir(parents=True, exist_ok=True)
            for fname, fig in figs.items():
                f = f"{name}_{fname}.png"
                fig.savefig(img / f, format="png", dpi=DPI)
                plt.close(fig)
                files.append(f)
    seconds = time.perf_counter() - t0
    summary = jsonable(result.summary)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps({"key": key, "summary": summary, "figures": files, "seconds": seconds})
    )
    return summary, files, seconds


def _esc(text: str) -> str:
    """Plain text for inline markup: escape what reST would read as markup."""
    for ch in ("\\", "*", "`", "|", "_"):
        text = text.replace(ch, "\\" + ch)
    return text


def _esc_keep_literals(text: str) -> str:
    """Meaning strings of SUMMARY_KEYS: plain text, except ````literals```` stay."""
    parts = str(text).split("``")
    return "``".join(p if i % 2 else _esc(p) for i, p in enumerate(parts))


def _value_block(v) -> str:
    """The value of a summary key in this build's run, as reST."""
    if isinstance(v, dict) and v:
        items = "\n".join(f"* ``{k}``: {_esc(_fmt_value(x))}" for k, x in v.items())
        return "*This run:*\n\n" + items
    return f"*This run:* {_esc(_fmt_value(v))}"


def _fmt_value(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt_value(x)}" for k, x in v.items())
    if isinstance(v, list):
        if len(v) > 8:
            return f"[{len(v)} values]"
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    return str(v)


def _study_page(name, st, params, summary, files, seconds, fast) -> str:
    doc = inspect.getdoc(st) or ""
    lines = doc.splitlines()
    body = "\n".join(lines[1:]).strip() if len(lines) > 1 else ""
    out = [f".. _study-{name}:\n", _title(name)]
    out.append(f"**{_esc(st.DESCRIPTION)}.**\n")
    if lines and lines[0].strip().rstrip(".") != st.DESCRIPTION.rstrip("."):
        out.append(math_roles(lines[0].strip()) + "\n")  # reST, as in the docstring
    out.append(
        ".. code-block:: bash\n\n"
        f"   eplt run {name}         # -> results/{name}/\n"
        f"   eplt describe {name}    # the tables below\n"
    )
    out.append(
        ".. code-block:: python\n\n"
        f"   from eplt.studies import {name}\n"
        f"   result = {name}.run({{...}}, seed=0)  # parameters below\n"
        f"   figs = {name}.figures(result)        # name -> Figure\n"
    )
    out.append(f"API: :mod:`eplt.studies.{name}`.\n")
    if body:
        out.append(_title("Description", "-"))
        out.append(math_roles(body) + "\n")  # formulas as math, names stay literals
    out += _figures_section(name, params, files, seconds, fast)  # before the long tables
    out.append(_title("Parameters", "-"))
    out.append(
        f"Set with ``eplt run {name} --set NAME=VALUE`` (or a TOML file, ``--config``); "
        "lists are comma-separated. Ranges are inclusive ``[ ]`` or exclusive ``( )``.\n"
    )
    out.append(
        ".. csv-table::\n   :header: name, default, unit, range, meaning\n"
        "   :widths: 14, 12, 10, 18, 46\n"
    )
    for p in st.PARAMS:
        row = [
            f"``{p.name}``",
            f"``{_fmt_default(p.default)}``",
            p.unit or "–",
            p.range_text(),
            p.help,
        ]
        out.append("   " + ", ".join(_csv_cell(c) for c in row))
    out.append("")
    out.append(_title("Summary keys", "-"))
    out.append(
        "Written to ``summary.json``. *This run* is the value of the run made while building"
        " this page (its parameters are given under Figures).\n"
    )
    for k, v in st.SUMMARY_KEYS.items():
        out.append(f"``{k}``")
        out.append(textwrap.indent(_esc_keep_literals(v), "   "))
        if summary is not None and k in summary:
            out.append("")
            out.append(textwrap.indent(_value_block(summary[k]), "   "))
        out.append("")
    return "\n".join(out) + "\n"


def _png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG's header, None if unreadable."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


#: Resolution of the study figures on the pages (pixels per inch).
DPI = 130


def _is_wide(path: Path) -> bool:
    """A page-wide (multi-panel) figure: wider than 1.6 columns of a two-column paper at
    :data:`DPI`, or wider than 1.6 times its height. Shown at full width."""
    from eplt.studies.style import COLUMN

    size = _png_size(path)
    return size is not None and (size[0] > 1.6 * COLUMN * DPI or size[0] > 1.6 * size[1])


def _figures_section(name, params, files, seconds, fast) -> list[str]:
    out = [_title("Figures", "-")]
    if fast:
        out.append(".. note:: Built with ``EPLT_DOCS_FAST=1``: the study was not run.\n")
        return out
    sets = " ".join(f"--set {k}={_fmt_default(v)}" for k, v in params.items())
    cmd = f"eplt run {name} {sets}".strip()
    note = "the default parameters" if not params else "smaller parameters than the defaults"
    out.append(
        f"Computed while building these pages with {note} (``{cmd}``, seed 0, "
        f"{seconds:.1f} s on the build machine).\n"
    )
    for f in files:
        fig = f[len(name) + 1 : -4]
        width = "100%" if _is_wide(STUDY_OUT / "img" / f) else "60%"
        out.append(
            f".. figure:: img/{f}\n   :alt: {name} {fig}\n   :width: {width}\n\n"
            f"   Figure ``{fig}`` of ``{name}``.\n"
        )
    return out


def write_study_pages(app) -> None:
    import eplt.studies

    fast = app.config.eplt_docs_fast
    img = STUDY_OUT / "img"
    overrides = app.config.eplt_study_doc_params
    toc = ["..  generated by docs/_ext/eplt_docs.py\n", ".. toctree::\n   :maxdepth: 1\n"]
    gallery = []
    total = 0.0
    for name in eplt.studies.STUDIES:
        st = eplt.studies.get_study(name)
        params = dict(getattr(st, "DOCS_PARAMS", {}))
        params.update(overrides.get(name, {}))
        if fast:
            summary, files, seconds = None, [], 0.0
        else:
            summary, files, seconds = _run_study(name, st, params, img)
            total += seconds
        _write(
            STUDY_OUT / f"{name}.rst", _study_page(name, st, params, summary, files, seconds, fast)
        )
        toc.append(f"   _generated/{name}")
        gallery.append((name, st, files))
    _write(STUDY_OUT / "toc.inc", "\n".join(toc) + "\n")
    for old in STUDY_OUT.glob("*.rst"):  # studies that disappeared
        if old.stem not in eplt.studies.STUDIES:
            old.unlink()
    g = ["..  generated by docs/_ext/eplt_docs.py\n"]
    for name, st, files in gallery:
        g.append(_title(f"{name}", "-"))
        g.append(f"{_esc(st.DESCRIPTION)}. Details: :ref:`study-{name}`.\n")
        if not files:
            g.append("*(not run in this build)*\n")
        for f in files:  # wide multi-panel figures on their own line, at a readable size
            width = "100%" if _is_wide(img / f) else "49%"
            g.append(
                f".. image:: /studies/_generated/img/{f}\n   :width: {width}\n"
                f"   :alt: {f[:-4]}\n   :target: studies/_generated/{name}.html\n"
            )
        g.append("")
    _write(STUDY_OUT / "gallery.inc", "\n".join(g) + "\n")
    logger.info(f"[eplt_docs] studies: {len(gallery)} pages, runs took {total:.1f} s")


def _builder_inited(app) -> None:
    if app.builder.name not in ("html", "dirhtml", "singlehtml", "linkcheck", "doctest", "dummy"):
        return
    write_api_pages(app)
    write_study_pages(app)
    # Sphinx listed the source files before this hook: list them again so that
    # autosummary (next handler) and the toctrees see the pages just written.
    app.env.find_files(app.config, app.builder)


def _copy_mathjax(app, exc) -> None:
    """Copy the local MathJax (``conf.MATHJAX_LOCAL``) into ``_static/mathjax/``."""
    src = app.config.eplt_mathjax_local
    if exc is not None or not src or app.builder.format != "html":
        return
    import shutil

    src = Path(src)
    dst = Path(app.outdir) / "_static" / "mathjax"
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    (dst / fonts).mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "tex-chtml.js", dst / "tex-chtml.js")
    for f in (src / fonts).glob("*.woff"):
        shutil.copy2(f, dst / fonts / f.name)


def _data_docstring(app, what, name, obj, options, lines) -> None:
    """Module data without a ``#:`` comment would show its type's docstring ("Built-in
    immutable sequence..."): drop that; point study constants to their study page."""
    if what not in ("data", "attribute"):
        return
    type_doc = inspect.getdoc(type(obj)) or ""
    if lines and "\n".join(lines).strip() == type_doc.strip():
        lines[:] = []
    parts = name.split(".")
    if len(parts) == 4 and parts[:2] == ["eplt", "studies"]:
        import eplt.studies

        if parts[2] in eplt.studies.STUDIES and parts[3] in (
            "NAME",
            "DESCRIPTION",
            "PARAMS",
            "SUMMARY_KEYS",
        ):
            lines += ["", f"Shown as tables on the study page :ref:`study-{parts[2]}`."]


def setup(app):
    app.add_config_value(
        "eplt_api_packages", ["eplt.dynamics", "eplt.baths", "eplt.studies"], "env"
    )
    app.add_config_value("eplt_study_doc_params", {}, "env")
    app.add_config_value("eplt_docs_fast", False, "env")
    app.add_config_value("eplt_mathjax_local", None, "html")
    app.connect("build-finished", _copy_mathjax)
    app.connect("autodoc-process-docstring", _data_docstring, priority=100)  # before numpydoc
    # before autosummary's own builder-inited handler (priority 500) reads the pages
    app.connect("builder-inited", _builder_inited, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


__all__ = ["setup", "write_api_pages", "write_study_pages"]

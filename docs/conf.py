"""Sphinx configuration of the eplt documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

What is generated at build time (nothing of it is committed):

* ``docs/api/`` — one page per public package in :data:`API_PACKAGES` (those that are
  importable), one page per public submodule, one page per name in each module's
  ``__all__`` (autosummary + numpydoc). New modules and names appear by themselves.
* ``docs/studies/_generated/`` — one page per entry of ``eplt.studies.STUDIES``: the module
  docstring, the parameter table (units, ranges) and summary keys that ``eplt describe``
  prints, and the study's figures, computed by running the study (see
  :data:`STUDY_DOC_PARAMS`), plus the figure gallery of all studies.
* ``docs/auto_tutorials/`` — the tutorials in ``docs/tutorials/``, executed by
  sphinx-gallery.

Environment variables (see docs/building.rst): ``EPLT_DOCS_INTERSPHINX=1`` links through
the full official inventories of QuTiP, numpy, ... (needs network; by default small
hand-written inventories are used, docs/_ext/eplt_inventories.py);
``EPLT_DOCS_FAST=1`` skips executing tutorials and study runs (layout work only).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))

os.environ.setdefault("MPLBACKEND", "Agg")

project = "eplt"
author = "the eplt developers"
copyright = "2026, the eplt developers"
try:
    from importlib.metadata import version as _version

    release = _version("eplt")
except Exception:  # not installed: building from a plain checkout on PYTHONPATH
    release = "0.1.0"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "eplt_docs",  # docs/_ext/eplt_docs.py: API and study pages, study figures
]

#: Packages whose public API is documented, in this order; those that cannot be imported
#: (e.g. a facade not yet written) are skipped with a log message, not a warning.
API_PACKAGES = ["eplt", "eplt.dynamics", "eplt.baths", "eplt.studies"]

#: Parameters used to run each study for its docs page and the gallery (overrides of the
#: study's defaults). Studies not listed run with their defaults, or with the study
#: module's own ``DOCS_PARAMS`` mapping if it defines one. Keep the whole build short.
STUDY_DOC_PARAMS: dict[str, dict] = {
    "ghz": {"n_max": 6},  # the fidelity-vs-n panel up to 6 qubits instead of 8 (8 s -> 2 s)
    # 3 + 2 + 2 points and shorter see-saws instead of 5 + 4 + 3 (default ~50 s idle)
    "bounds": {
        "betas": (0.5, 1.0, 2.0),
        "ratios": (0.5, 1.0),
        "qutrit_betas": (0.5, 1.0),
        "restarts": 1,
        "max_iter": 15,
        "negativity_restarts": 1,
        "qutrit_max_iter": 4,
        "three_party_ratios": (0.5, 2.0),
        "colgen_starts": 1,
        "colgen_rounds": 3,
        "qutrit_colgen_rounds": 1,
    },
    "speedup": {"n_beta": 16},  # speed-up curves on 16 temperatures instead of 60 (~25 s)
}

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "tutorials",  # sphinx-gallery sources; the executed pages are in auto_tutorials/
    "examples",
    "gallery",  # README images
    "**.ipynb",
    "auto_tutorials/*.ipynb",
    "auto_tutorials/*.py",
    "auto_tutorials/*.zip",
]
nitpicky = False
default_role = "code"

# -- autodoc / autosummary / numpydoc ---------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_inherit_docstrings = False
add_module_names = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True  # types in Parameters/Returns link (intersphinx below)
numpydoc_xref_aliases = {
    "Qobj": "qutip.Qobj",
    "ndarray": "numpy.ndarray",
    "array_like": ":term:`numpy:array_like`",
    "Generator": "numpy.random.Generator",
    "SeedSequence": "numpy.random.SeedSequence",
    "Dataset": "xarray.Dataset",
    "Figure": "matplotlib.figure.Figure",
    "Axes": "matplotlib.axes.Axes",
    "Path": "pathlib.Path",
    "Executor": "concurrent.futures.Executor",
    "mapping": ":term:`python:mapping`",
}
numpydoc_xref_ignore = {
    "of",
    "or",
    "and",
    "optional",
    "default",
    "shape",
    "type",
    "like",
    "to",
    "keyed",
    "by",
    "per",
    "each",
    "one",
    "any",
    "in",
    "the",
    "a",
    "an",
    "with",
    "from",
}

# -- intersphinx --------------------------------------------------------------------
#: The build machines have no network, so the official inventories cannot be fetched.
#: By default the links use the small hand-written inventories of
#: docs/_ext/eplt_inventories.py (only the names these pages use), written into
#: docs/_build/inventories/ here. EPLT_DOCS_INTERSPHINX=1 fetches the full official
#: inventories instead; EPLT_DOCS_INV_<PROJECT>=/path/objects.inv uses a local copy of one.
import eplt_inventories  # noqa: E402  (docs/_ext is on sys.path)

_LOCAL_INV = eplt_inventories.write(HERE / "_build" / "inventories")
INTERSPHINX_LOCAL = {
    k: os.environ[f"EPLT_DOCS_INV_{k.upper()}"]
    for k in _LOCAL_INV
    if os.environ.get(f"EPLT_DOCS_INV_{k.upper()}")
}
if os.environ.get("EPLT_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {k: (u, INTERSPHINX_LOCAL.get(k)) for k, (u, _) in _LOCAL_INV.items()}
else:
    intersphinx_mapping = {k: (u, INTERSPHINX_LOCAL.get(k, p)) for k, (u, p) in _LOCAL_INV.items()}
intersphinx_timeout = 10

# -- sphinx-gallery -------------------------------------------------------------------
FAST = os.environ.get("EPLT_DOCS_FAST") == "1"


def _pending_tutorials() -> list[str]:
    """Tutorials that need modules not yet in the package are not built.

    ``needs`` maps a tutorial file to the module it needs; while that module cannot be
    imported the tutorial is skipped (and listed on the tutorials page). Empty today:
    every tutorial runs against the current API."""
    needs: dict[str, str] = {}
    out = []
    for fname, mod in needs.items():
        try:
            found = importlib.util.find_spec(mod) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(fname)
    return out


PENDING_TUTORIALS = _pending_tutorials()
_ignore = "|".join(p.replace(".", r"\.") for p in PENDING_TUTORIALS) or "(?!)"

sphinx_gallery_conf = {
    "examples_dirs": ["tutorials"],
    "gallery_dirs": ["auto_tutorials"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": rf"({_ignore})|__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "plot_gallery": "False" if FAST else "True",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "reset_modules": ("matplotlib",),
    "image_scrapers": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "show_memory": False,
    "write_computation_times": True,
    "doc_module": (),
    "backreferences_dir": None,
}

eplt_api_packages = API_PACKAGES
eplt_study_doc_params = STUDY_DOC_PARAMS
eplt_docs_fast = FAST

# -- HTML ---------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"eplt {release}"
html_static_path = ["_static"]
html_css_files = ["eplt.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
html_last_updated_fmt = ""

# -- MathJax: a local copy, so formulas render without network --------------------
#: MathJax 3 from the ``django-static-mathjax`` wheel (plain static files, no Django
#: needed; in the ``docs`` extra). docs/_ext/eplt_docs.py copies the two parts used
#: (``tex-chtml.js`` and its web fonts) into ``_static/mathjax/``. Without the wheel the
#: pages load MathJax from Sphinx's default CDN when viewed.
MATHJAX_LOCAL = None
_mj = importlib.util.find_spec("mathjax")
if _mj is not None and _mj.submodule_search_locations:
    _es5 = Path(next(iter(_mj.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if (_es5 / "tex-chtml.js").is_file():
        MATHJAX_LOCAL = str(_es5)
        mathjax_path = "mathjax/tex-chtml.js"
eplt_mathjax_local = MATHJAX_LOCAL

"""Small hand-written intersphinx inventories, so links to QuTiP, numpy, scipy, xarray,
matplotlib and Python work in a build without network access.

The official ``objects.inv`` files cannot be fetched on the build machines and no
installed package ships them, so :func:`write` writes inventories holding only the names
these pages refer to, with the addresses those projects' documentation uses (QuTiP's
from its 5.3 doc sources: ``doc/apidoc/*.rst``). They are not checked against the live
sites at build time. ``EPLT_DOCS_INTERSPHINX=1`` uses the full official inventories
instead (needs network). Add a name here when the docs start referring to it.
"""

from __future__ import annotations

import zlib
from pathlib import Path

# project -> (base URL, version, [(name, domain:role, relative URI)])
_QOBJ = "apidoc/quantumobject.html#"
_SOLVER = "apidoc/solver.html#"
INVENTORIES: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "qutip": (
        "https://qutip.readthedocs.io/en/stable/",
        "5",
        [
            ("qutip.core.qobj.Qobj", "py:class", _QOBJ + "qutip.core.qobj.Qobj"),
            ("qutip.Qobj", "py:class", _QOBJ + "qutip.core.qobj.Qobj"),
            ("Qobj", "py:class", _QOBJ + "qutip.core.qobj.Qobj"),
            ("qutip.mesolve", "py:function", _SOLVER + "qutip.solver.mesolve.mesolve"),
            (
                "qutip.solver.mesolve.mesolve",
                "py:function",
                _SOLVER + "qutip.solver.mesolve.mesolve",
            ),
            ("qutip.solver.result.Result", "py:class", _SOLVER + "qutip.solver.result.Result"),
        ]
        + [
            (f"qutip.{n}", "py:function", _QOBJ + f"qutip.core.{m}.{n}")
            for m, names in {
                "operators": (
                    "destroy",
                    "create",
                    "qeye",
                    "sigmam",
                    "sigmap",
                    "sigmax",
                    "sigmay",
                    "sigmaz",
                ),
                "states": ("basis", "ket2dm", "bell_state", "ghz_state", "thermal_dm"),
                "tensor": ("tensor",),
                "superoperator": ("operator_to_vector", "vector_to_operator", "liouvillian"),
                "superop_reps": ("to_choi", "to_super", "to_kraus"),
                "expect": ("expect",),
                "metrics": ("fidelity", "tracedist"),
            }.items()
            for n in names
        ]
        + [
            ("qutip.ptrace", "py:function", _QOBJ + "qutip.core.qobj.ptrace"),
            (
                "qutip.partial_transpose",
                "py:function",
                _QOBJ + "qutip.partial_transpose.partial_transpose",
            ),
        ],
    ),
    "numpy": (
        "https://numpy.org/doc/stable/",
        "2",
        [
            ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#numpy.ndarray"),
            (
                "numpy.random.Generator",
                "py:class",
                "reference/random/generator.html#numpy.random.Generator",
            ),
            (
                "numpy.random.SeedSequence",
                "py:class",
                "reference/random/bit_generators/generated/numpy.random.SeedSequence.html"
                "#numpy.random.SeedSequence",
            ),
            (
                "numpy.linalg.eigvalsh",
                "py:function",
                "reference/generated/numpy.linalg.eigvalsh.html#numpy.linalg.eigvalsh",
            ),
            ("array_like", "std:term", "glossary.html#term-array_like"),
            ("arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars"),
            ("numpy.inf", "py:data", "reference/constants.html#numpy.inf"),
            ("numpy.nan", "py:data", "reference/constants.html#numpy.nan"),
            ("numpy", "py:module", "reference/index.html#module-numpy"),
            (
                "numpy.random.RandomState",
                "py:class",
                "reference/random/legacy.html#numpy.random.RandomState",
            ),
        ],
    ),
    "scipy": (
        "https://docs.scipy.org/doc/scipy/",
        "1",
        [
            (n, "py:function", f"reference/generated/{n}.html#{n}")
            for n in (
                "scipy.linalg.expm",
                "scipy.sparse.linalg.expm_multiply",
                "scipy.optimize.brentq",
                "scipy.optimize.minimize",
            )
        ],
    ),
    "xarray": (
        "https://docs.xarray.dev/en/stable/",
        "2026",
        [
            ("xarray.Dataset", "py:class", "generated/xarray.Dataset.html#xarray.Dataset"),
            ("xarray.DataArray", "py:class", "generated/xarray.DataArray.html#xarray.DataArray"),
            (
                "xarray.open_dataset",
                "py:function",
                "generated/xarray.open_dataset.html#xarray.open_dataset",
            ),
        ],
    ),
    "matplotlib": (
        "https://matplotlib.org/stable/",
        "3",
        [
            (
                "matplotlib.figure.Figure",
                "py:class",
                "api/_as_gen/matplotlib.figure.Figure.html#matplotlib.figure.Figure",
            ),
            (
                "matplotlib.axes.Axes",
                "py:class",
                "api/_as_gen/matplotlib.axes.Axes.html#matplotlib.axes.Axes",
            ),
        ],
    ),
    "python": (
        "https://docs.python.org/3/",
        "3",
        [
            (n, "py:class", f"library/functions.html#{n}")
            for n in ("int", "float", "bool", "complex")
        ]
        + [(n, "py:class", f"library/stdtypes.html#{n}") for n in ("str", "dict", "list", "tuple")]
        + [
            ("callable", "py:function", "library/functions.html#callable"),
            ("None", "py:data", "library/constants.html#None"),
            ("pathlib.Path", "py:class", "library/pathlib.html#pathlib.Path"),
            (
                "concurrent.futures.Executor",
                "py:class",
                "library/concurrent.futures.html#concurrent.futures.Executor",
            ),
            ("multiprocessing", "py:module", "library/multiprocessing.html#module-multiprocessing"),
            ("True", "py:data", "library/constants.html#True"),
            ("False", "py:data", "library/constants.html#False"),
            ("bltin-boolean-values", "std:label", "library/stdtypes.html#bltin-boolean-values"),
            (
                "contextlib.contextmanager",
                "py:function",
                "library/contextlib.html#contextlib.contextmanager",
            ),
            (
                "collections.namedtuple",
                "py:function",
                "library/collections.html#collections.namedtuple",
            ),
        ]
        + [
            (t, "std:term", f"glossary.html#term-{t}")
            for t in ("iterable", "sequence", "mapping", "generator")
        ],
    ),
}


def write(folder: Path) -> dict[str, tuple[str, str]]:
    """Write one ``NAME.inv`` per project into ``folder``; return an intersphinx mapping."""
    folder.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for project, (url, version, entries) in INVENTORIES.items():
        body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in entries)
        head = (
            "# Sphinx inventory version 2\n"
            f"# Project: {project}\n# Version: {version}\n"
            "# The remainder of this file is compressed using zlib.\n"
        )
        path = folder / f"{project}.inv"
        data = head.encode() + zlib.compress(body.encode())
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        mapping[project] = (url, str(path))
    return mapping

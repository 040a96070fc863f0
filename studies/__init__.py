"""Studies, the ``eplt`` command line, parameter sweeps and the figure style.

Each study is a module with ``run(params) -> StudyResult``, ``plot(result, ax)`` and
``figures(result)``; :data:`STUDIES` maps study names to modules (imported lazily).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .base import StudyResult, write_outputs
from .params import Param, ParamError

__all__ = ["STUDIES", "Param", "ParamError", "StudyResult", "get_study", "write_outputs"]

#: Study name -> module (relative to this package).
STUDIES = {
    "speedup": ".speedup",
    "twirl": ".twirl",
    "threshold": ".threshold",
    "ghz": ".ghz",
    "esd": ".esd",
    "fef": ".fef",
    "thermo": ".thermo",
    "robustness": ".robustness",
    "bounds": ".bounds",
    "oscillators": ".oscillators",
}


def get_study(name: str) -> ModuleType:
    """The study module called ``name`` (ValueError with a suggestion if unknown)."""
    if name not in STUDIES:
        import difflib

        hint = difflib.get_close_matches(name, list(STUDIES), n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        raise ParamError(f"unknown study {name!r}{extra} (studies: {', '.join(STUDIES)})")
    return importlib.import_module(STUDIES[name], __name__)

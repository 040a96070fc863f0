"""Pytest plugin for the docstring examples: ``-p tests._doctest_canonical``.

``pytest --doctest-modules dynamics baths studies eplt`` imports each file by its path in
the repository (``dynamics/states.py`` as ``dynamics.states``), while the installed package
is ``eplt.dynamics.states``: without this plugin every module would be imported twice, as
two different module objects. Before collection the plugin imports every module of the
installed ``eplt`` and registers it under its repository name too, so that pytest finds
the canonical module object. It is used only for the doctest run (``.ci/run``); the tests
themselves import ``eplt.*`` and never see the repository names.
"""

import importlib
import pkgutil
import sys


def pytest_configure(config):
    import eplt

    for sub in ("dynamics", "baths", "studies"):
        pkg = importlib.import_module(f"eplt.{sub}")
        sys.modules.setdefault(sub, pkg)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"eplt.{sub}."):
            if info.name.endswith("__main__"):
                continue
            mod = importlib.import_module(info.name)
            sys.modules.setdefault(info.name[len("eplt.") :], mod)
    del eplt

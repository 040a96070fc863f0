"""One installed top-level package: ``eplt`` (with ``eplt.dynamics``, ``eplt.baths``,
``eplt.studies`` mapped from the repository's root folders)."""

import configparser
import importlib.metadata
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_user_files_named_like_the_subpackages_do_not_shadow_eplt(tmp_path):
    # researchers name their files like this; before the single namespace a local
    # dynamics.py broke "import eplt" ("'dynamics' is not a package")
    (tmp_path / "dynamics.py").write_text("raise SystemExit('the user dynamics.py was imported')\n")
    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "__init__.py").write_text("raise SystemExit('user studies/')\n")
    (tmp_path / "baths.py").write_text("raise SystemExit('user baths.py')\n")
    code = (
        "import eplt, eplt.studies\n"
        "from eplt.studies import threshold\n"
        "from eplt.studies.params import resolve\n"
        "r = threshold.run(resolve(threshold.PARAMS, {'n_beta': 3, 'betas_threshold': (1.0,),"
        " 'n_random': 20}, study='threshold'), seed=0)\n"
        "print(eplt.dynamics.__name__, type(r).__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[0] == "eplt.dynamics"


def test_python_dash_m_eplt_is_the_command_line(tmp_path):
    (tmp_path / "studies").mkdir()  # a user folder of that name is harmless
    out = subprocess.run(
        [sys.executable, "-m", "eplt", "list"], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "speedup" in out.stdout


def test_the_distribution_installs_one_top_level_package():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = cfg["options"]["packages"].split()
    assert all(p == "eplt" or p.startswith("eplt.") for p in listed)
    # every sub-package folder of the three mapped folders is listed (else a wheel misses it)
    on_disk = {"eplt"}
    for folder in ("dynamics", "baths", "studies"):
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).parts
            on_disk.add(".".join(("eplt", *rel)))
    assert on_disk == set(listed)
    dist = importlib.metadata.distribution("eplt")
    top = (dist.read_text("top_level.txt") or "eplt").split()
    assert top == ["eplt"]


def _private_dynamics_imports(folder: str) -> list[str]:
    """``from eplt.dynamics._x import ...`` and ``from eplt.dynamics.x import _y`` in the
    modules of ``folder`` (an AST walk: strings and comments do not count)."""
    import ast

    found = []
    for path in sorted((ROOT / folder).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("eplt.dynamics"):
                parts = node.module.split(".")
                if any(p.startswith("_") for p in parts[2:]) or any(
                    a.name.startswith("_") for a in node.names
                ):
                    found.append(f"{path.name}:{node.lineno} from {node.module} import ...")
    return found


def test_baths_and_studies_use_only_the_public_dynamics_api():
    # one public model: baths builds it (and studies use it) through public names only;
    # private helpers stay behind eplt.dynamics' public modules (issue 19)
    assert _private_dynamics_imports("baths") == []
    assert _private_dynamics_imports("studies") == []

"""The README's Python example runs as printed and shows what its comments claim."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_api_example(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(b for b in blocks if "from dynamics import evolve" in b)
    ns: dict = {}
    exec(compile(example, str(README), "exec"), ns)
    shared, indep = ns["shared"], ns["indep"]
    # "same marginals as indep, more entanglement"
    np.testing.assert_allclose(
        shared.expect["marginal_distance"], indep.expect["marginal_distance"], atol=1e-12
    )
    assert shared.expect["negativity"][-1] > indep.expect["negativity"][-1] + 0.05
    assert abs(ns["E"].gamma - 2 * float(ns["tau"].eigenenergies()[0])) < 1e-12
    assert "negativity" in capsys.readouterr().out

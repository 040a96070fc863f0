"""The README's Python example runs as printed and shows what its comments claim."""

import re
from pathlib import Path

import numpy as np
import qutip

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_api_example(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(b for b in blocks if "import eplt" in b)
    ns: dict = {}
    exec(compile(example, str(README), "exec"), ns)
    res, ref, E, tau = ns["res"], ns["ref"], ns["E"], ns["tau"]
    assert abs(E.gamma - 2 * float(tau.eigenenergies()[0])) < 1e-12
    # "marginals thermal at t*": the staged protocol reaches tau exactly (exact solver)
    assert res.times[-1] == ns["t_star"]
    assert np.abs(res.final("marginal_distance")).max() < 1e-12
    # "same marginals" as independent noise, "still entangled (N = p_min)", product state
    np.testing.assert_allclose(
        res.expect["marginal_distance"], ref.expect["marginal_distance"], atol=1e-12
    )
    p_min = float(tau.eigenenergies()[0])
    assert abs(res.final("negativity") - p_min) < 1e-9
    assert abs(ref.final("negativity")) < 1e-12
    # the QuTiP model: <a> is complex, equal to the closed form of a decaying, precessing spin
    t = ns["t"][-1]
    want = 0.5 * np.exp(-0.1 * t) * np.exp(1j * t)  # H = sz/2, gamma = 0.2, a = |0><1|
    assert np.iscomplexobj(ns["out"].expect[0])
    np.testing.assert_allclose(ns["out"].expect[0][-1], want, atol=1e-12)
    want_L = qutip.liouvillian(0.5 * qutip.sigmaz(), [np.sqrt(0.2) * qutip.destroy(2)])
    np.testing.assert_allclose(ns["bath"].generator.full(), want_L.full(), atol=1e-14)
    assert "negativity" in capsys.readouterr().out

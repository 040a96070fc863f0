"""``import eplt``: the facade exposes the public API of dynamics and baths, the same objects."""

import numpy as np
import qutip


def test_import_eplt_exposes_the_public_api():
    import eplt.baths
    import eplt.dynamics

    import eplt

    assert eplt.evolve is eplt.dynamics.evolve
    assert eplt.Environment is eplt.baths.Environment
    assert eplt.thermal_state is eplt.baths.thermal_state
    assert eplt.lindblad is eplt.baths.lindblad
    for name in eplt.__all__:
        assert getattr(eplt, name) is not None, name
    # a QuTiP model end to end through the facade: free decay of <n>
    env = eplt.Environment((2,), [eplt.lindblad(0, qutip.sigmaz(), [0.5 * qutip.destroy(2)])])
    res = eplt.evolve(qutip.basis(2, 1), env, [0.0, 2.0], e_ops=[qutip.num(2)])
    np.testing.assert_allclose(res.expect[0][-1], np.exp(-0.25 * 2.0), atol=1e-12)

"""Vectorised observables on the paired layout equal their per-state definitions."""

import numpy as np
import qutip
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.observables import ObservableSet
from eplt.dynamics.states import random_state
from eplt.dynamics.superop import to_paired


def test_batched_forms_equal_the_per_state_forms():
    dims = [2, 3, 2]
    rng = np.random.default_rng(0)
    rhos = [random_state(dims, seed=s) for s in range(4)]
    O = qutip.Qobj(rng.normal(size=(12, 12)) + 1j * rng.normal(size=(12, 12)), dims=[dims, dims])
    taus = [thermal_state(qubit_hamiltonian(1.0), beta=1.0), qutip.maximally_mixed_dm(3)]
    taus.insert(2, taus[0])
    hams = [qubit_hamiltonian(1.0), qutip.num(3), qubit_hamiltonian(2.0)]
    obs = ObservableSet(
        {"O": O, "md": "marginal_distance", "purity": "purity", "energy": "energy"},
        dims,
        taus=taus,
        hamiltonians=hams,
    )
    assert all(o.batch is not None for o in obs.obs)  # every one here has a batched form
    X = np.stack([to_paired(r) for r in rhos])
    batched = obs.evaluate_batch(X, [0] * len(rhos))
    for i, r in enumerate(rhos):
        single = obs.evaluate(r.full())
        for k in obs.names:
            np.testing.assert_allclose(batched[k][i], single[k], atol=1e-12)
        # and against the definitions directly
        # O is not Hermitian: the expectation is complex (never only its real part)
        np.testing.assert_allclose(batched["O"][i], (O * r).tr(), atol=1e-12)
        np.testing.assert_allclose(batched["purity"][i], (r * r).tr().real, atol=1e-12)
        for k in range(3):
            np.testing.assert_allclose(
                batched["energy"][i][k], (hams[k] * r.ptrace(k)).tr().real, atol=1e-12
            )

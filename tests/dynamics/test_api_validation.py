"""Public functions refuse bad arguments with an error naming the argument (issue #10)."""

import numpy as np
import pytest
import qutip
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics import evolve
from eplt.dynamics.measures import negativity
from eplt.dynamics.states import phi_plus


def test_thermal_state_refuses_non_finite_hamiltonians():
    H = qutip.Qobj(np.array([[0.0, 0.0], [0.0, np.inf]]))
    with pytest.raises(ValueError, match="H must have finite entries"):
        thermal_state(H, 1.0)


@pytest.mark.parametrize("subsys", [[0, 0], True, 1.0, "a", [True], [0.5]])
def test_negativity_subsys_must_name_distinct_parties(subsys):
    with pytest.raises((TypeError, ValueError), match="subsys must be a party index"):
        negativity(phi_plus(), subsys=subsys)


def test_negativity_subsys_accepted_forms():
    assert negativity(phi_plus(), subsys=0) == pytest.approx(0.5, abs=1e-12)
    assert negativity(phi_plus(), subsys=[1]) == pytest.approx(0.5, abs=1e-12)
    assert negativity(phi_plus(), subsys=np.int64(1)) == pytest.approx(0.5, abs=1e-12)


def test_evolve_negative_seed_names_seed():
    from eplt.baths import Environment, thermal_bath

    H = qubit_hamiltonian(1.0)
    env = Environment(
        (2, 2), [thermal_bath(0, H, 1.0, rate=1.0), thermal_bath(1, H, 1.0, rate=1.0)]
    )
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        evolve(phi_plus(), env, [0.0, 1.0], seed=-1)

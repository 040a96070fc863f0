"""Environment descriptions: readable repr, correlation recorded in results, ntraj under auto."""

import numpy as np
import pytest
from eplt.baths import (
    Environment,
    PoissonClock,
    Reset,
    qubit_hamiltonian,
    thermal_bath,
    thermal_state,
    twirl_drive,
)
from eplt.dynamics import evolve
from eplt.dynamics.states import phi_plus

H = qubit_hamiltonian(1.0)
TAU = thermal_state(H, 1.0)


def _env(correlation=1.0):
    clk = PoissonClock(rate=1.0, name="clock")
    terms = [thermal_bath(0, H, 1.0, rate=0.3), Reset(clk, 0, TAU), Reset(clk, 1, TAU)]
    return Environment((2, 2), terms + twirl_drive(2.0), correlation=correlation)


def test_repr_names_terms_and_processes():
    r = repr(_env())
    assert "thermal[0] (party 0)" in r
    assert "Reset(PoissonClock 'clock' on party 1)" in r
    assert "Drive(BrownianNoise 'drive' on party 1 conjugate)" in r
    assert "array" not in r and len(r) < 400


def test_partial_correlation_is_recorded_in_params():
    t = [0.0, 0.5]
    a = evolve(phi_plus(), _env(0.3), t, e_ops=["negativity"])
    b = evolve(phi_plus(), _env(0.7), t, e_ops=["negativity"])
    assert a.params != b.params
    model = a.params["stages"][0]["model"]
    assert model["correlation"] == {"clock": 0.3, "drive": 0.3}
    weights = {s["process"]["name"]: s["weights"] for s in model["sources"]}
    np.testing.assert_allclose(weights["drive"], [0.3, 0.3])  # shared part: c of the variance
    np.testing.assert_allclose(weights["drive@0"] + weights["drive@1"], [0.7, 0.7])  # copies


def test_ntraj_is_ignored_and_recorded_when_auto_picks_an_exact_method():
    res = evolve(phi_plus(), _env(), [0.0, 0.5], e_ops=["negativity"], ntraj=100)
    assert res.method == "exact" and res.ntraj is None
    assert res.params["ignored"] == {"ntraj": 100, "reason": "method 'exact' is exact"}
    with pytest.raises(ValueError, match="ntraj applies to method='sampled' only"):
        evolve(phi_plus(), _env(), [0.0, 0.5], method="exact", ntraj=100)

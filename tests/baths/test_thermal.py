import math

import numpy as np
import pytest
import qutip
from eplt.baths import thermal as T

from tests.systems import qubit_populations


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0, 5.0])
def test_qubit_gibbs_populations(beta):
    tau = T.thermal_state(T.qubit_hamiltonian(1.0), beta)
    assert np.allclose(tau.diag(), qubit_populations(beta), atol=1e-14)
    # Same from energies and from nbar: p1 = nbar / (2 nbar + 1).
    if beta > 0:
        nbar = T.nbar_from_beta(beta)
        assert tau.diag()[1] == pytest.approx(nbar / (2 * nbar + 1), rel=1e-12)
        assert T.beta_from_nbar(nbar) == pytest.approx(beta, rel=1e-12)


def test_non_diagonal_hamiltonian_commutes_and_matches_expm():
    H = qutip.rand_herm(4, seed=3)
    tau = T.thermal_state(H, 0.7)
    ref = (-0.7 * H).expm()
    ref = ref / ref.tr()
    assert np.allclose(tau.full(), ref.full(), atol=1e-12)


def test_zero_temperature_degenerate_ground_space():
    tau = T.thermal_state([0.0, 0.0, 2.0], math.inf)
    assert np.allclose(tau.diag(), [0.5, 0.5, 0.0])
    assert np.allclose(T.thermal_state([1.0, 3.0], 0).diag(), [0.5, 0.5])


def test_temperature_helpers():
    assert T.beta_from_temperature(0) == math.inf
    assert T.beta_from_temperature(2.0) == 0.5
    assert T.nbar_from_beta(0) == math.inf
    assert T.beta_from_nbar(0) == math.inf


@pytest.mark.parametrize(
    "H, beta, exc, match",
    [
        ([0.0, 1.0], -1.0, ValueError, r"beta must lie in \[0, inf\]"),
        ([0.0, 1.0], float("nan"), ValueError, r"beta must lie in \[0, inf\]"),
        ([0.0, 1.0], "hot", TypeError, "beta must be a real number"),
        ([], 1.0, ValueError, "at least one energy"),
        (np.ones((2, 3)), 1.0, ValueError, "square"),
        (qutip.Qobj(np.array([[0, 1], [0, 0]])), 1.0, ValueError, "Hermitian"),
    ],
)
def test_bad_input(H, beta, exc, match):
    with pytest.raises(exc, match=match):
        T.thermal_state(H, beta)
    with pytest.raises(ValueError, match="nbar"):
        T.beta_from_nbar(-1)

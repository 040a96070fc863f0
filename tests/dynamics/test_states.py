import numpy as np
import pytest
import qutip
from eplt.dynamics import states as S


@pytest.mark.parametrize("d", [2, 3, 4])
def test_phi_plus_is_normalised_pure(d):
    P = S.phi_plus(d)
    assert P.dims == [[d, d], [d, d]]
    assert np.allclose((P * P).full(), P.full())
    assert P.tr() == pytest.approx(1)


def test_bell_matches_qutip():
    assert np.allclose(S.bell_state("00").full(), S.phi_plus(2).full())


@pytest.mark.parametrize("d", [2, 3])
def test_isotropic_is_twirl_invariant_family(d):
    rho = S.isotropic_state(0.4, d)
    assert rho.tr() == pytest.approx(1)
    assert np.linalg.eigvalsh(rho.full()).min() >= -1e-14
    assert (S.phi_plus(d) * rho).tr().real == pytest.approx(0.4)


def test_werner_antisymmetric_weight():
    rho = S.werner_state(0.8)
    psi_minus = S.bell_state("11")
    # For qubits the antisymmetric subspace is Psi- alone.
    assert (psi_minus * rho).tr().real == pytest.approx(0.8)
    assert rho.dims == [[2, 2], [2, 2]]


def test_noisy_ghz_and_errors():
    rho = S.noisy_ghz_state(4, 0.9)
    assert rho.dims == [[2] * 4, [2] * 4]
    with pytest.raises(ValueError, match="fidelity must lie"):
        S.noisy_ghz_state(3, 0.01)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        S.ghz_state(1)
    with pytest.raises(ValueError, match="F must lie in"):
        S.isotropic_state(1.5)
    with pytest.raises(ValueError, match="d must be an integer"):
        S.phi_plus(1)


def test_random_state_seeded_and_valid():
    a = S.random_state([2, 3], seed=5)
    b = S.random_state([2, 3], seed=5)
    assert np.array_equal(a.full(), b.full())
    lam = np.linalg.eigvalsh(a.full())
    assert lam.min() > 0 and lam.sum() == pytest.approx(1)
    assert np.linalg.matrix_rank(S.random_state([4], rank=2, seed=1).full(), tol=1e-10) == 2
    assert isinstance(a, qutip.Qobj)

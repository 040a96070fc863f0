"""Concurrence, entanglement of formation, log-negativity and 1-distillability.

Tolerances: every quantity is a few eigendecompositions of 4x4 (or 9x9) matrices, accurate
to ~1e-15; closed forms are compared to 1e-12 (our concurrence drops eigenvalues of rho below
1e-13 lambda_max, so rank-deficient states are exact too). qutip's ``concurrence`` takes square
roots of eigenvalues of ``rho rho~`` near zero, which round-off 1e-16 moves by ~1e-8: compared
to 1e-7.
"""

import numpy as np
import pytest
import qutip
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.entanglement import (
    concurrence,
    entanglement_of_formation,
    one_distillability,
)
from eplt.dynamics.measures import log_negativity, negativity
from eplt.dynamics.states import isotropic_state, phi_plus, random_state


def _h(x):
    return 0.0 if x in (0.0, 1.0) else -x * np.log2(x) - (1 - x) * np.log2(1 - x)


def _gamma_state(g):
    """gamma Phi+ + (1 - gamma)|00><00| = E_gamma(Phi+) for equal qubits."""
    zz = qutip.ket2dm(qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 0)))
    return g * phi_plus() + (1 - g) * zz


@pytest.mark.parametrize("g", [0.0, 0.1, 0.37, 0.8, 1.0])
def test_closed_forms_of_gamma_phi_plus(g):
    rho = _gamma_state(g)
    assert concurrence(rho) == pytest.approx(g, abs=1e-12)
    assert entanglement_of_formation(rho) == pytest.approx(
        _h((1 + np.sqrt(1 - g * g)) / 2), abs=1e-12
    )
    assert log_negativity(rho) == pytest.approx(np.log2(1 + g), abs=1e-12)
    assert one_distillability(rho).distillable == (g > 0)


def test_egamma_output_is_the_gamma_state():
    tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    E = eplt_channel(tau, tau)
    out = E(phi_plus())
    assert concurrence(out) == pytest.approx(E.gamma, abs=1e-12)
    assert log_negativity(out) == pytest.approx(np.log2(1 + E.gamma), abs=1e-12)


def test_concurrence_matches_qutip_on_random_states():
    rng = np.random.default_rng(7)
    for rank in (1, 2, 4):
        for _ in range(5):
            rho = random_state([2, 2], rank=rank, seed=rng)
            assert concurrence(rho) == pytest.approx(qutip.concurrence(rho), abs=1e-7)


def test_pure_state_eof_is_the_entanglement_entropy():
    rng = np.random.default_rng(1)
    for _ in range(5):
        v = rng.standard_normal(4) + 1j * rng.standard_normal(4)
        psi = qutip.Qobj(v / np.linalg.norm(v), dims=[[2, 2], [1, 1]])
        lam = np.linalg.eigvalsh(psi.ptrace(0).full())
        S = -sum(x * np.log2(x) for x in lam if x > 0)
        assert entanglement_of_formation(psi) == pytest.approx(S, abs=1e-12)
        rho = qutip.ket2dm(psi)
        assert entanglement_of_formation(rho) == pytest.approx(S, abs=1e-10)


def test_two_qubits_distillable_iff_npt():
    rng = np.random.default_rng(2)
    for _ in range(10):
        rho = random_state([2, 2], rank=2, seed=rng)
        res = one_distillability(rho)
        assert res.exact
        assert res.distillable == (negativity(rho) > 1e-12)


@pytest.mark.parametrize("F", [0.2, 1 / 3, 0.34, 0.6, 1.0])
def test_isotropic_qutrits_one_distillable_iff_F_above_one_third(F):
    """rho_F^{T_B} = F SWAP/d + (1 - F)(I - SWAP/d)/(d^2 - 1); on the antisymmetric
    (Schmidt rank 2) vector its value is -F/d + (1 - F)/(d (d - 1)), the smallest
    eigenvalue, so the rank-2 search must reach it exactly."""
    d = 3
    res = one_distillability(isotropic_state(F, d), starts=5, seed=0)
    lo = min(-F / d + (1 - F) / (d * (d - 1)), (F / d + (1 - F) * (1 - 1 / d) / (d * d - 1)))
    assert res.value == pytest.approx(lo, abs=1e-12)
    assert res.distillable == (F > 1 / d + 1e-9)
    psi = res.vector.full().reshape(d, d)
    assert np.linalg.svd(psi, compute_uv=False)[2] < 1e-10  # Schmidt rank <= 2 witness


def test_rank_two_search_on_a_random_qutrit_state_is_certified():
    """A random rank-2 qutrit state: the minimal eigenvector of rho^{T_B} has Schmidt
    rank 3, so the alternating search runs; its witness must have Schmidt rank <= 2, give
    the returned value and lie above the smallest eigenvalue."""
    psi = random_state([3, 3], rank=2, seed=4)
    res = one_distillability(psi, starts=5, seed=1)
    assert not res.exact and res.distillable
    v = res.vector.full().ravel()
    X = psi.full().reshape(3, 3, 3, 3).transpose(0, 3, 2, 1).reshape(9, 9)
    assert float(np.real(v.conj() @ X @ v)) == pytest.approx(res.value, abs=1e-12)
    assert np.linalg.svd(v.reshape(3, 3), compute_uv=False)[2] < 1e-10
    assert res.value >= np.linalg.eigvalsh(X)[0] - 1e-12


def test_product_state_is_not_distillable_and_bad_input_raises():
    prod = qutip.tensor(qutip.rand_dm(3, seed=1), qutip.rand_dm(3, seed=2))
    assert not one_distillability(prod, starts=3).distillable
    with pytest.raises(ValueError, match="two-qubit"):
        concurrence(isotropic_state(0.5, 3))
    with pytest.raises(ValueError, match="starts"):
        one_distillability(prod, starts=-1)

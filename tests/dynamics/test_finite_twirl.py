"""The Pauli (Weyl-Heisenberg) version of E_gamma, shared-bit counts, CHSH of E_gamma(Phi+).

Tolerances: exact linear algebra on matrices of size <= 81, errors ~1e-15; TOL = 1e-12.
"""

import math

import numpy as np
import pytest
import qutip
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.channels import eplt_channel, is_cptp, is_locally_thermalizing
from eplt.dynamics.finite_twirl import pauli_eplt_channel, shared_randomness, weyl_heisenberg
from eplt.dynamics.measures import chsh_max, negativity
from eplt.dynamics.states import bell_state, phi_plus, random_state

TOL = 1e-12


def _taus(d, seed):
    rng = np.random.default_rng(seed)
    return [thermal_state(rng.uniform(0, 3, d), rng.uniform(0.1, 3)) for _ in range(2)]


@pytest.mark.parametrize("d", [2, 3])
def test_marginals_are_thermal_for_random_inputs(d):
    tA, tB = _taus(d, d)
    E = pauli_eplt_channel(tA, tB)
    for seed in range(5):
        out = E(random_state([d, d], seed=seed))
        assert (out.ptrace(0) - tA).norm() < TOL
        assert (out.ptrace(1) - tB).norm() < TOL
    S = E.superoperator()
    assert is_cptp(S) and is_locally_thermalizing(S, [tA, tB], atol=TOL)
    rho = random_state([d, d], seed=9)
    assert (qutip.vector_to_operator(S @ qutip.operator_to_vector(rho)) - E(rho)).norm() < TOL
    assert sum(p for p, *_ in E.branches()) == pytest.approx(1, abs=TOL)


def test_branches_rebuild_the_channel():
    """Shared coin, then U_ab on A and U_ab^* on B: the branch sum is the channel."""
    tA, tB = _taus(2, 1)
    E = pauli_eplt_channel(tA, tB)
    S = sum(
        p * qutip.super_tensor(a.superoperator(), b.superoperator()) for p, a, b in E.branches()
    )
    assert np.abs(S.full() - E.superoperator().full()).max() < TOL


def test_agrees_with_egamma_on_phi_plus_and_keeps_all_bell_states():
    tau = thermal_state(qubit_hamiltonian(1.0), 1.0)
    P, E = pauli_eplt_channel(tau, tau), eplt_channel(tau, tau)
    assert (P(phi_plus()) - E(phi_plus())).norm() < TOL
    omega2 = qutip.tensor(*P.omega)
    for which in ("00", "01", "10", "11"):
        B = bell_state(which)
        expected = P.gamma + (1 - P.gamma) * qutip.expect(B, omega2)
        assert qutip.expect(B, P(B)) == pytest.approx(expected, abs=TOL)
        assert negativity(P(B)) > 0.05
        if which != "00":  # the isotropic twirl sends them to F = 0: separable
            assert negativity(E(B)) < TOL
    assert len(P.fixed_states()) == 4
    for psi in P.fixed_states():
        assert qutip.expect(qutip.ket2dm(psi), P(psi)) == pytest.approx(
            P.gamma + (1 - P.gamma) * qutip.expect(qutip.ket2dm(psi), omega2), abs=TOL
        )


def test_shared_bits():
    tau = thermal_state(qubit_hamiltonian(1.0), 1.0)
    g = eplt_channel(tau, tau).gamma
    h = -g * math.log2(g) - (1 - g) * math.log2(1 - g)
    cl = shared_randomness(eplt_channel(tau, tau))
    pa = shared_randomness(pauli_eplt_channel(tau, tau))
    assert cl.unitaries == 24 and cl.unitary_bits == pytest.approx(math.log2(24), abs=TOL)
    assert pa.unitaries == 4 and pa.unitary_bits == 2.0
    assert pa.coin_bits == pytest.approx(h, abs=TOL)
    assert pa.entropy == pytest.approx(h + 2 * g, abs=TOL)
    assert cl.worst_case_bits - pa.worst_case_bits == pytest.approx(math.log2(6), abs=TOL)
    with pytest.raises(TypeError):
        shared_randomness("E")


def test_weyl_heisenberg_is_a_unitary_error_basis():
    for d in (2, 3, 4):
        ops = weyl_heisenberg(d)
        G = np.array([[np.trace(a.conj().T @ b) for b in ops] for a in ops])
        assert np.abs(G - d * np.eye(d * d)).max() < TOL


@pytest.mark.parametrize("beta", [0.3, 1.0, 3.0])
def test_chsh_of_egamma_phi_plus_closed_form(beta):
    tau = thermal_state(qubit_hamiltonian(1.0), beta)
    E = eplt_channel(tau, tau)
    assert chsh_max(E(phi_plus())) == pytest.approx(2 * np.sqrt(1 + E.gamma**2), abs=TOL)


def test_chsh_bounds_every_setting():
    """Horodecki's value is the maximum over settings: random settings never exceed it, and
    Phi+ reaches Tsirelson's 2 sqrt 2; product states stay at or below 2."""
    assert chsh_max(phi_plus()) == pytest.approx(2 * np.sqrt(2), abs=TOL)
    assert chsh_max(qutip.tensor(qutip.rand_dm(2, seed=1), qutip.rand_dm(2, seed=2))) <= 2 + TOL
    rho = random_state([2, 2], seed=4)
    rng = np.random.default_rng(0)
    sig = [qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()]

    def obs(v):
        v = v / np.linalg.norm(v)
        return sum(c * s for c, s in zip(v, sig))

    def chsh(a, a2, b, b2):
        Bop = qutip.tensor(obs(a), obs(b) + obs(b2)) + qutip.tensor(obs(a2), obs(b) - obs(b2))
        return qutip.expect(Bop, rho)

    best = max(abs(chsh(*rng.standard_normal((4, 3)))) for _ in range(100))
    assert best <= chsh_max(rho) + TOL
    # Horodecki's optimal settings reach it: c, c' top eigenvectors of T^T T,
    # b, b' = cos(t) c +- sin(t) c', a = T c, a' = T c', tan(t) = sqrt(m2/m1).
    T = np.array([[qutip.expect(qutip.tensor(x, y), rho) for y in sig] for x in sig])
    m, V = np.linalg.eigh(T.T @ T)
    c, c2 = V[:, 2], V[:, 1]
    t = np.arctan(np.sqrt(m[1] / m[2]))
    opt = chsh(T @ c, T @ c2, np.cos(t) * c + np.sin(t) * c2, np.cos(t) * c - np.sin(t) * c2)
    assert opt == pytest.approx(chsh_max(rho), abs=TOL)
    with pytest.raises(ValueError, match="two qubits"):
        chsh_max(random_state([3, 3], seed=1))


def test_chsh_max_is_a_named_observable():
    from eplt.dynamics.observables import ObservableSet

    rho = random_state([2, 2], seed=3)
    obs = ObservableSet(["chsh_max"], [2, 2])
    assert float(obs.evaluate(rho.full())["chsh_max"]) == pytest.approx(chsh_max(rho), abs=TOL)
    with pytest.raises(ValueError, match="two qubits"):
        ObservableSet(["chsh_max"], [3, 3])

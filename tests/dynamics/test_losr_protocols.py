"""Explicit LOSR protocols beyond E_gamma (eplt.dynamics.losr_protocols).

Tolerances: the channels are closed-form linear algebra on 4x4 to 27x27 matrices, so
closed forms hold to 1e-12; lt_error is certified (exact for qubit marginals, an SDP
bracket for qutrits) and must be <= 1e-12 for an exact LT.
"""

import numpy as np
import pytest
import qutip
from eplt.dynamics.channels import NoEPLTError, eplt_channel, ghz_eplt_channel, lt_error
from eplt.dynamics.entanglement import concurrence
from eplt.dynamics.losr_protocols import (
    correlated_reset_eplt,
    ghz_twirl_amplitude_damping,
    maximal_coupling,
    twirl_amplitude_damping,
)
from eplt.dynamics.measures import ghz_fidelity, negativity, phi_plus_overlap
from eplt.dynamics.states import ghz_state, phi_plus, random_state


def _t(p):
    return qutip.Qobj(np.diag([1 - p, p]))


PAIRS = [(0.1, 0.3), (0.3, 0.1), (0.05, 0.45), (0.2, 0.2), (0.01, 0.5)]


@pytest.mark.parametrize("pA, pB", PAIRS)
def test_twirl_amplitude_damping_closed_forms(pA, pB):
    E = twirl_amplitude_damping(_t(pA), _t(pB))
    ph, pc = max(pA, pB), min(pA, pB)
    out = E(phi_plus())
    assert phi_plus_overlap(out) == pytest.approx(0.5 + (pc - ph) / 2 + np.sqrt(pc * ph), abs=1e-12)
    assert negativity(out) == pytest.approx(pc, abs=1e-12)
    assert concurrence(out) == pytest.approx(2 * np.sqrt(pc * ph), abs=1e-12)
    eg = phi_plus_overlap(eplt_channel(_t(pA), _t(pB))(phi_plus()))
    assert eg == pytest.approx(1.5 * pc + (1 - ph) / 2, abs=1e-12)
    if pA == pB:
        assert phi_plus_overlap(out) == pytest.approx(eg, abs=1e-12)
    else:  # strictly better: the difference is sqrt(pc) (sqrt(ph) - sqrt(pc)) > 0
        assert phi_plus_overlap(out) > eg + 1e-6


@pytest.mark.parametrize("pA, pB", PAIRS)
def test_twirl_amplitude_damping_is_an_exact_lt_with_its_branches(pA, pB):
    E = twirl_amplitude_damping(_t(pA), _t(pB))
    S = E.superoperator()
    assert S.superrep == "super"
    assert float(lt_error(S, [_t(pA), _t(pB)])) <= 1e-12
    assert (S - E.branch_superoperator()).norm() < 1e-12
    g = min(1, 2 * max(pA, pB))
    h = 0 if g == 1 else -g * np.log2(g) - (1 - g) * np.log2(1 - g)
    assert E.shared_bits == pytest.approx(h + g * np.log2(24), abs=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(3):  # seeded random inputs: marginals exactly tau
        out = E(random_state([2, 2], seed=rng))
        assert (out.ptrace(0) - _t(pA)).norm() < 1e-12
        assert (out.ptrace(1) - _t(pB)).norm() < 1e-12


def test_twirl_amplitude_damping_equals_egamma_for_equal_taus():
    E = twirl_amplitude_damping(_t(0.2), _t(0.2))
    assert (E.superoperator() - eplt_channel(_t(0.2), _t(0.2)).superoperator()).norm() < 1e-12


def _ghz_closed(ps):
    ph = max(ps)
    g = 2 * ph
    eta = np.array(ps) / ph
    return g * (1 + eta.prod() + 2 * np.sqrt(eta).prod()) / 4 + (1 - g) / 2


@pytest.mark.parametrize("ps", [(0.2, 0.2, 0.2), (0.05, 0.2, 0.2), (0.3, 0.2, 0.2), (0.1, 0.2)])
def test_ghz_twirl_amplitude_damping(ps):
    taus = [_t(p) for p in ps]
    E = ghz_twirl_amplitude_damping(taus)
    n = len(ps)
    assert ghz_fidelity(E(ghz_state(n))) == pytest.approx(_ghz_closed(ps), abs=1e-12)
    S = E.superoperator()
    assert float(lt_error(S, taus)) <= 1e-12
    assert (S - E.branch_superoperator()).norm() < 1e-12
    if len(set(ps)) == 1:  # equal temperatures: E_gamma^GHZ
        assert (S - ghz_eplt_channel(taus[0], n).superoperator()).norm() < 1e-12


def test_correlated_reset_helps_qutrits_and_is_exact_lt():
    tau = qutip.Qobj(np.diag([0.6, 0.3, 0.1]))
    E = correlated_reset_eplt(tau, tau)
    g = 0.3
    w = np.array([0.6 - 0.1, 0.3 - 0.1, 0.0]) / (1 - g)
    ours = phi_plus_overlap(E(phi_plus(3)))
    assert ours == pytest.approx(g + (1 - g) * w.sum() / 3, abs=1e-12)
    eg = phi_plus_overlap(eplt_channel(tau, tau)(phi_plus(3)))
    assert eg == pytest.approx(g + (1 - g) * (w * w).sum() / 3, abs=1e-12)
    assert ours > eg + 0.05
    S = E.superoperator()
    assert float(lt_error(S, tau)) <= 1e-12
    assert (S - E.branch_superoperator()).norm() < 1e-11


def test_correlated_reset_equals_egamma_for_qubits():
    E = correlated_reset_eplt(_t(0.2), _t(0.3))
    # qubits: omega_A = |0><0| and omega_B is diagonal, so the coupling is the product
    assert (E.superoperator() - eplt_channel(_t(0.2), _t(0.3)).superoperator()).norm() < 1e-12


def test_maximal_coupling_has_the_marginals():
    rng = np.random.default_rng(5)
    a, b = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    q = maximal_coupling(a, b)
    assert np.all(q >= 0)
    assert np.allclose(q.sum(1), a, atol=1e-15) and np.allclose(q.sum(0), b, atol=1e-15)
    assert np.allclose(np.diag(q), np.minimum(a, b), atol=1e-15)


def test_bad_inputs_raise():
    with pytest.raises(NoEPLTError, match="pure"):
        twirl_amplitude_damping(_t(0.0), _t(0.2))
    with pytest.raises(ValueError, match="diagonal"):
        twirl_amplitude_damping(qutip.Qobj([[0.7, 0.1], [0.1, 0.3]]), _t(0.2))
    with pytest.raises(ValueError, match="ground state"):
        twirl_amplitude_damping(_t(0.7), _t(0.2))
    with pytest.raises(ValueError, match="at least two"):
        ghz_twirl_amplitude_damping([_t(0.2)])
    with pytest.raises(ValueError, match="dims"):
        twirl_amplitude_damping(_t(0.1), _t(0.2))(ghz_state(3))


def test_damping_step_is_a_zero_temperature_bath_stopped_at_a_fixed_time():
    """exp(t L) with L = D[sqrt(G) sigma-] at t = ln(1/eta)/G is AD_eta (populations decay
    as e^{-G t} = eta, coherences as e^{-G t/2} = sqrt(eta))."""
    import scipy.linalg
    from eplt.dynamics.channels import LocalChannel
    from eplt.dynamics.losr_protocols import damping_time
    from eplt.dynamics.superop import lindbladian

    G, eta = 1.7, 0.3
    L = lindbladian(c_ops=[np.sqrt(G) * qutip.destroy(2)]).full()
    S = scipy.linalg.expm(L * damping_time(eta, G))
    K = [np.diag([1, np.sqrt(eta)]), np.array([[0, np.sqrt(1 - eta)], [0, 0]])]
    assert np.abs(S - LocalChannel(tuple(K)).superoperator().full()).max() < 1e-12
    with pytest.raises(ValueError, match="eta"):
        damping_time(0.0, 1.0)

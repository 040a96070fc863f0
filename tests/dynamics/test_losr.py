"""LOSR see-saw and negativity searches (eplt.dynamics.losr): lower bounds between E_gamma and the SDP.

Tolerances. The see-saw steps are SDPs solved to Clarabel's 1e-8; the final protocol is
repaired to be exactly LT (one extra product branch), so structural checks hold to 1e-8
(observed ~1e-14) and values may fall short of the solver's by ~1e-8. Comparisons with
the certified PPT bound use SDP_TOL = 1e-6 (that bound's own tolerance). The see-saw keeps
its exactly feasible E_gamma-like start, so it is never below E_gamma beyond round-off
(1e-12).
"""

import numpy as np
import pytest
import qutip
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.bounds import any_lt_negativity_bound, sdp_bound
from eplt.dynamics.channels import eplt_channel, is_cptp, is_locally_thermalizing
from eplt.dynamics.losr import losr_seesaw, negativity_search
from eplt.dynamics.measures import negativity, phi_plus_overlap
from eplt.dynamics.states import phi_plus, random_state

from tests.systems import qubit_populations

SDP_TOL = 1e-6
STRUCT_TOL = 1e-8


def _tau(beta, omega=1.0):
    return thermal_state(qubit_hamiltonian(omega), beta)


def _check_protocol(prot, taus):
    S = prot.superoperator()
    assert is_cptp(S, atol=STRUCT_TOL)
    assert is_locally_thermalizing(S, taus, atol=STRUCT_TOL)
    p = prot.probabilities
    assert np.all(p >= 0) and p.sum() == pytest.approx(1, abs=1e-12)
    for _, SA, SB in prot.branches():
        assert is_cptp(SA, atol=STRUCT_TOL) and is_cptp(SB, atol=STRUCT_TOL)
    # the branches rebuild the channel
    rebuilt = sum(pl * qutip.super_tensor(SA, SB) for pl, SA, SB in prot.branches())
    rho = random_state([2, 2], seed=5)
    out = qutip.vector_to_operator(rebuilt @ qutip.operator_to_vector(rho))
    assert (out - prot(rho)).norm() < 1e-10


@pytest.mark.parametrize("omegas", [(1.0, 1.0), (1.0, 0.5)])
def test_seesaw_overlap_between_egamma_and_ppt_bound(omegas):
    tA, tB = _tau(1.0, omegas[0]), _tau(1.0, omegas[1])
    prot = losr_seesaw(tA, tB, restarts=2, max_iter=10, seed=1)
    eg = phi_plus_overlap(eplt_channel(tA, tB)(phi_plus()))
    ppt = sdp_bound(tA, tB)
    assert prot.value >= eg - 1e-12
    assert prot.value <= ppt.dual_value + SDP_TOL
    assert prot.value == pytest.approx(phi_plus_overlap(prot(phi_plus())), abs=1e-12)
    _check_protocol(prot, [tA, tB])


def test_seesaw_negativity_at_least_egamma_and_below_closed_form():
    tau = _tau(0.5)
    prot = losr_seesaw(tau, tau, merit="negativity", restarts=1, max_iter=5)
    p_min = qubit_populations(0.5)[1]
    assert prot.value >= p_min - 1e-12  # N(E_gamma(Phi+)) = p_min
    assert prot.value <= any_lt_negativity_bound(tau, tau) + 1e-12
    assert prot.value == pytest.approx(negativity(prot(phi_plus())), abs=1e-12)
    _check_protocol(prot, [tau, tau])


def test_seesaw_is_reproducible_from_its_seed():
    tau = _tau(1.0)
    a = losr_seesaw(tau, tau, restarts=2, max_iter=3, seed=7)
    b = losr_seesaw(tau, tau, restarts=2, max_iter=3, seed=7)
    assert a.restart_values == b.restart_values


def test_ppt_negativity_search_beats_egamma_at_beta_half():
    """Planning measured 0.3816 > p_min = 0.3775 at beta omega = 0.5 (two qubits)."""
    tau = _tau(0.5)
    p0, p1 = qubit_populations(0.5)
    res = negativity_search(tau, tau, restarts=2, max_iter=40, seed=1)
    assert res.value > p1 + 3e-3
    assert res.value == pytest.approx(0.3816, abs=5e-4)
    assert res.value <= np.sqrt(p0 * p1) + 1e-12  # any-LT closed form
    S = res.channel
    assert is_cptp(S, atol=STRUCT_TOL) and is_locally_thermalizing(S, [tau, tau], atol=STRUCT_TOL)
    out = qutip.vector_to_operator(S @ qutip.operator_to_vector(phi_plus()))
    assert negativity(out) == pytest.approx(res.value, abs=1e-12)
    assert list(res.history) == sorted(res.history)  # monotone


def test_bad_arguments():
    tau = _tau(1.0)
    with pytest.raises(ValueError, match="merit"):
        losr_seesaw(tau, tau, merit="fidelity")
    with pytest.raises(ValueError, match="restarts"):
        losr_seesaw(tau, tau, restarts=0)
    with pytest.raises(ValueError, match="full-rank"):
        losr_seesaw(qutip.ket2dm(qutip.basis(2, 0)), tau)

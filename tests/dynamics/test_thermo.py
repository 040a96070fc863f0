"""Thermodynamic ledger (eplt.dynamics.thermo): first law per term, Spohn, reservoir costs, closed forms."""

import math

import numpy as np
import pytest
import qutip
from eplt.baths import (
    Drive,
    Environment,
    Kick,
    PoissonClock,
    Protocol,
    Reset,
    qubit_hamiltonian,
    thermal_bath,
    thermal_reset,
    thermal_state,
)
from eplt.baths.protocols import eplt_protocol, twirl_drive
from eplt.dynamics import evolve
from eplt.dynamics.measures import relative_entropy
from eplt.dynamics.states import phi_plus, random_state
from eplt.dynamics.thermo import energy_ledger, free_energy, reservoir_free_energy_cost

from tests.systems import qubit_populations

H = qubit_hamiltonian(1.0)


def _tau(beta):
    return thermal_state(H, beta)


def test_thermal_baths_closed_forms_and_relative_entropy_identity():
    # Phi+ under independent thermal baths at beta omega = 1: each qubit gives omega(p1 - 1/2)
    # as heat; Sigma(t) = D(rho0||tau^2) - D(rho_t||tau^2) exactly (thermal baths only).
    beta = 1.0
    p0, p1 = qubit_populations(beta)
    env = Environment((2, 2), [thermal_bath(k, H, beta, relaxation_rate=1.3) for k in (0, 1)])
    t = np.linspace(0, 30, 7)
    led = energy_ledger(phi_plus(), env, t)
    assert [tm.kind for tm in led.terms] == ["heat", "heat"]
    assert led.total.heat == pytest.approx([p1 - 0.5] * 2, abs=1e-12)
    assert -0.231059 == pytest.approx(p1 - 0.5, abs=5e-7)
    res = evolve(phi_plus(), env, t, store_states=True, e_ops=["energy"])
    tt = qutip.tensor(_tau(beta), _tau(beta))
    d0 = relative_entropy(phi_plus(), tt)
    assert d0 == pytest.approx(-math.log(p0 * p1), abs=1e-12)
    assert d0 == pytest.approx(1.626523, abs=5e-7)
    sigma = led.entropy - led.entropy[0] - led.entropy_flow
    want = [d0 - relative_entropy(s, tt) for s in res.states]
    # 1e-9: entropies of nearly pure states (eigenvalues ~1e-13 cut at 1e-300 in both)
    assert sigma == pytest.approx(want, abs=1e-9)
    assert led.total.entropy_production == pytest.approx(sigma[-1], abs=1e-12)
    assert np.abs(led.energy - res.expect["energy"]).max() < 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_first_law_per_term_and_spohn_on_random_thermal_protocols(seed):
    # Random qubit/qutrit baths at random temperatures and rates, a unital shared drive and
    # kicks, several stages: the first law closes per party to 1e-10 and Sigma >= 0 per stage.
    rng = np.random.default_rng(seed)
    dims = (2, 3) if seed % 2 else (2, 2)
    Hs = [qutip.Qobj(np.diag(np.sort(rng.uniform(0, 2, d)))) for d in dims]
    stages = []
    for j in range(3):
        terms = [
            thermal_bath(k, Hs[k], float(rng.uniform(0.2, 3)), rate=float(rng.uniform(0.1, 2)))
            for k in range(2)
        ]
        if j == 1 and dims == (2, 2):
            terms += twirl_drive(float(rng.uniform(0.5, 3)))
        if j == 2:
            U = qutip.rand_unitary(dims[0], seed=seed).full()
            terms.append(Kick(PoissonClock(rate=0.7, name="kicks"), 0, U))
        dur = math.inf if j == 2 else float(rng.uniform(0.2, 1.0))
        stages.append((dur, Environment(dims, terms, hamiltonians=Hs)))
    proto = Protocol(stages, hamiltonians=Hs)
    rho0 = random_state(list(dims), seed=seed)
    t = np.union1d(np.linspace(0, 2.5, 13), [0.3])
    led = energy_ledger(rho0, proto, t, beta=1.0)
    assert led.first_law_residual() < 1e-10
    for st in led.stages:
        assert st.entropy_production is not None
        assert st.entropy_production >= -1e-12
    assert led.total.entropy_production >= -1e-12
    kinds = {tm.label: tm.kind for tm in led.terms}
    assert kinds["thermal[0]"] == "heat" and kinds.get("kicks[0]", "work") == "work"
    # energy read off the ledger agrees with the solver's energy observable
    res = evolve(rho0, proto, t, e_ops=["energy"])
    assert np.abs(led.energy - res.expect["energy"]).max() < 1e-12


def test_reset_clock_is_a_reservoir_with_free_energy_cost():
    # Shared clock resetting to the ground state omega = |0><0|: reservoir (not heat),
    # cost r t (F(omega) - F(tau)) = r t ln(1 + e^{-beta omega})/beta per qubit; energy
    # change omega(p1 - 1/2) at t* (marginals exactly tau), all of it reservoir exchange.
    beta, r = 1.0, 2.0
    tau = _tau(beta)
    proto, t_star = eplt_protocol(tau, tau, H, H, beta, rate=r, kappa=1.0, t_twirl=0.0)
    t = np.linspace(0, t_star, 9)
    led = energy_ledger(phi_plus(), proto, t)
    kinds = {tm.label: tm.kind for tm in led.terms}
    assert kinds["clock[0]"] == kinds["clock[1]"] == "reservoir"
    _, p1 = qubit_populations(beta)
    st = led.stages[0]
    assert st.reservoir == pytest.approx([p1 - 0.5] * 2, abs=1e-12)
    assert st.heat == pytest.approx([0, 0], abs=1e-15)
    assert st.entropy_production is None
    per = math.log1p(math.exp(-beta)) / beta
    assert reservoir_free_energy_cost(np.diag([1.0, 0.0]), H, beta) == pytest.approx(per, abs=1e-14)
    assert st.resets == pytest.approx([r * t_star] * 2, rel=1e-12)
    assert st.reservoir_cost == pytest.approx([r * t_star * per] * 2, rel=1e-12)
    assert led.reservoir_cost[-1] == pytest.approx(2 * r * t_star * per, rel=1e-12)
    assert led.first_law_residual() < 1e-10


def test_reset_to_the_thermal_state_counts_as_heat():
    # A reservoir of Gibbs states at the reference beta is a thermal (collision) bath: heat,
    # no cost, Spohn applies; priced at another beta it is a reservoir with positive cost.
    tau = _tau(0.7)
    env = Environment(
        (2, 2),
        [thermal_reset(0, tau, 1.0), Reset(PoissonClock(rate=1.5), 1, tau)],
        hamiltonians=(H, H),
    )
    led = energy_ledger(phi_plus(), env, [0, 0.5, 2.0], beta=0.7)
    assert {tm.kind for tm in led.terms} == {"heat"}
    assert led.total.entropy_production >= 0
    assert led.total.reservoir_cost == pytest.approx([0, 0], abs=1e-15)
    led2 = energy_ledger(phi_plus(), env, [0, 0.5, 2.0], beta=2.0)
    assert {tm.kind for tm in led2.terms} == {"reservoir"}
    assert np.all(led2.total.reservoir_cost > 0) and led2.total.entropy_production is None


def test_partial_correlation_pieces_merge_into_one_term_per_party():
    # clock at correlation c: a shared clock at c r plus independent ones at (1 - c) r, one
    # label per party with the total rate r.
    tau = _tau(1.0)
    clk = PoissonClock(rate=1.0, name="clock")
    omega = qutip.ket2dm(qutip.basis(2, 0))
    env = Environment(
        (2, 2), [Reset(clk, 0, omega), Reset(clk, 1, omega)], correlation=0.4, hamiltonians=(H, H)
    )
    led = energy_ledger(phi_plus(), env, [0, 0.3], beta=1.0)
    assert led.labels == ["clock[0]", "clock[1]"]
    assert [tm.rate for tm in led.terms] == pytest.approx([1.0, 1.0], rel=1e-14)
    assert led.first_law_residual() < 1e-12
    del tau


def test_free_energy_closed_forms_and_bad_input():
    Hq = np.diag([0.0, 1.0])
    assert free_energy(np.eye(2) / 2, Hq, 1.0) == pytest.approx(0.5 - math.log(2), abs=1e-14)
    assert free_energy(np.eye(2) / 2, Hq, math.inf) == pytest.approx(0.5, abs=1e-14)
    tau = _tau(1.0).full()
    assert reservoir_free_energy_cost(tau, Hq, 1.0) == pytest.approx(0.0, abs=1e-14)
    with pytest.raises(ValueError, match=r"beta must lie in \(0, inf\]"):
        free_energy(tau, Hq, 0.0)
    env = Environment(
        (2, 2), [Reset(PoissonClock(rate=1.0), 0, np.diag([1.0, 0]))], hamiltonians=(H, H)
    )
    with pytest.raises(ValueError, match="beta"):
        energy_ledger(phi_plus(), env, [0, 1])
    with pytest.raises(ValueError, match="hamiltonians"):
        energy_ledger(phi_plus(), Environment((2, 2), twirl_drive(1.0)), [0, 1])
    proto = Protocol([(1.0, Environment((2, 2), twirl_drive(1.0), hamiltonians=(H, H)))])
    with pytest.raises(ValueError, match="beyond the end of the protocol"):
        energy_ledger(phi_plus(), proto, [0, 2.0])
    from eplt.baths.processes import GaussianPulses

    pulses = GaussianPulses(segment=0.1, variance=1.0, channels=1)
    env = Environment((2, 2), [Drive(pulses, 0, [np.diag([1.0, -1.0])])], hamiltonians=(H, H))
    with pytest.raises(TypeError, match="white processes"):
        energy_ledger(phi_plus(), env, [0, 1])


def test_currents_agree_with_the_solver_heat_current_observable():
    # The ledger reads each term's flow off the joint generator; evolve's heat_current uses
    # each bath's marginal generator: two routes, equal for every term (drives, clocks, baths).
    beta = 0.8
    tau = _tau(beta)
    proto, t_star = eplt_protocol(
        tau, tau, H, H, beta, rate=1.0, kappa=2.0, t_twirl=0.4, shared_clock=False
    )
    rho0 = random_state([2, 2], seed=2)
    t = np.union1d(np.linspace(0, t_star + 1, 23), [0.4, t_star])
    led = energy_ledger(rho0, proto, t)
    res = evolve(rho0, proto, t, e_ops=["heat_current"])
    labels = res.labels["heat_current"]
    for j, lab in enumerate(led.labels):
        assert (
            np.abs(led.current[:, j] - res.expect["heat_current"][:, labels.index(lab)]).max()
            < 1e-12
        )

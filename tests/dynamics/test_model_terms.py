"""Terms carry their physics: set where they are built, read by the ledger and the heat
currents (nothing recovered by inverting matrices or parsing names)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip
from eplt.baths import (
    Environment,
    Kick,
    PoissonClock,
    Reset,
    hamiltonian,
    lindblad,
    oscillator_bath,
    oscillator_reset,
    qubit_hamiltonian,
    thermal_bath,
    thermal_reset,
    thermal_state,
    twirl_drive,
)
from eplt.dynamics import evolve
from eplt.dynamics.model import JumpAction, LocalTerm, Model, Source
from eplt.dynamics.states import phi_plus
from eplt.dynamics.thermo import energy_ledger

H = qubit_hamiltonian(1.0)
TAU = thermal_state(H, 1.0)
GROUND = qutip.ket2dm(qutip.basis(2, 0))


def _liouvillian(Hm, c_ops) -> np.ndarray:
    Hq = qutip.Qobj(np.zeros((2, 2)) if Hm is None else np.asarray(Hm))
    return qutip.liouvillian(Hq, [qutip.Qobj(np.asarray(c)) for c in c_ops]).full()


def test_thermal_bath_declares_its_jumps_state_and_energy():
    bath = thermal_bath(1, H, nbar=0.4, rate=0.7)
    assert (bath.kind, bath.party, bath.beta) == ("heat", 1, pytest.approx(math.log(1 / 0.4 + 1)))
    np.testing.assert_allclose(bath.target, thermal_state(H, bath.beta).full(), atol=1e-15)
    np.testing.assert_allclose(bath.hamiltonian, H.full())
    # D[sqrt(G(nbar+1)) sigma-] + D[sqrt(G nbar) sigma+], the generator built from them
    sm = qutip.destroy(2).full()
    want = [math.sqrt(0.7 * 1.4) * sm, math.sqrt(0.7 * 0.4) * sm.conj().T]
    assert len(bath.c_ops) == 2
    for c, w in zip(bath.c_ops, want):
        np.testing.assert_allclose(c, w, atol=1e-15)
    np.testing.assert_allclose(bath.generator.full(), _liouvillian(None, bath.c_ops), atol=1e-14)
    with_h = thermal_bath(0, H, 1.0, rate=1.0, include_hamiltonian=True)
    np.testing.assert_allclose(
        with_h.generator.full(), _liouvillian(H.full(), with_h.c_ops), atol=1e-14
    )


def test_resets_declare_rate_and_target():
    r = thermal_reset(0, TAU, 0.35)
    assert (r.kind, r.rate) == ("reservoir", 0.35)
    np.testing.assert_array_equal(r.target, TAU.full())
    # the generator r (tau Tr s - s) on a random s
    rng = np.random.default_rng(4)
    s = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    out = qutip.vector_to_operator(r.generator @ qutip.operator_to_vector(qutip.Qobj(s))).full()
    np.testing.assert_allclose(out, 0.35 * (TAU.full() * np.trace(s) - s), atol=1e-14)
    clk = PoissonClock(rate=2.0, name="clk")
    a = Reset(clk, 1, GROUND).action()
    assert (a.label, a.party) == ("reset", 1)
    np.testing.assert_array_equal(a.target, GROUND.full())
    k = Kick(clk, 0, qutip.sigmax()).action()
    np.testing.assert_array_equal(k.unitary, qutip.sigmax().full())
    osc = oscillator_reset(0, 1.0, 0.2, cutoff=4)
    assert osc.rate == 0.2 and osc.target.shape == (4, 4)
    assert oscillator_bath(0, 1.0, rate=0.1, cutoff=4).hamiltonian.shape == (4, 4)
    assert hamiltonian(0, H).hamiltonian is not None and lindblad(0, H).hamiltonian is not None


def test_physics_is_read_only_and_validated():
    r = LocalTerm.reset("r", 0, GROUND, 1.0)
    with pytest.raises(ValueError):
        r.target[0, 0] = 0.5
    with pytest.raises(ValueError, match="rate must lie in"):
        LocalTerm("x", 0, qutip.liouvillian(H, []), rate=-1.0)
    with pytest.raises(ValueError, match="target must be a square matrix"):
        LocalTerm("x", 0, qutip.liouvillian(H, []), target=np.ones(3))
    with pytest.raises(ValueError, match="one dimension"):
        LocalTerm.from_operators("x", 0, H=H, c_ops=[qutip.destroy(3)])
    j = JumpAction.reset(0, GROUND)
    np.testing.assert_allclose(j.channel.full(), _replacement(GROUND), atol=1e-15)


def _replacement(w) -> np.ndarray:
    """omega Tr as a column-stacking superoperator: vec(omega) vec(I)^T."""
    wv = w.full().reshape(-1, order="F")
    return np.outer(wv, np.eye(2).reshape(-1, order="F"))


def test_independent_copies_are_labelled_by_the_process_name():
    clk = PoissonClock(rate=1.0, name="clock")
    env = Environment(
        (2, 2), [Reset(clk, 0, GROUND), Reset(clk, 1, GROUND), *twirl_drive(1.0)], correlation=0.0
    )
    model = env.stages()[0].model
    assert {s.name for s in model.sources} == {"clock", "drive"}
    assert {s.process.name for s in model.sources} == {"clock@0", "clock@1", "drive@0", "drive@1"}
    labels = [lab for lab, _, _ in model.bath_generators()]
    assert sorted(labels) == ["clock[0]", "clock[1]", "drive[0]", "drive[1]"]
    led = energy_ledger(phi_plus(), env, [0.0, 1.0], beta=1.0, hamiltonians=[H, H])
    assert sorted(t.label for t in led.terms) == ["clock[0]", "clock[1]", "drive[0]", "drive[1]"]


def test_ledger_reads_reset_physics_and_keeps_its_closed_forms():
    # A shared Poisson reset to the ground state at rate r for t: each qubit costs
    # F(omega) - F(tau) = ln(1 + e^{-beta omega})/beta per reset, r t resets expected.
    r, t, beta = 0.8, 1.7, 1.0
    clk = PoissonClock(rate=r, name="clock")
    env = Environment((2, 2), [Reset(clk, 0, GROUND), Reset(clk, 1, GROUND)])
    led = energy_ledger(phi_plus(), env, np.linspace(0, t, 5), beta=beta, hamiltonians=[H, H])
    res = [x for x in led.terms if x.kind == "reservoir"]
    assert [x.rate for x in res] == [r, r]  # the clock's rate, exactly (no inversion)
    for x in res:
        np.testing.assert_array_equal(x.omega, GROUND.full())
    cost = math.log(1 + math.exp(-beta)) / beta
    np.testing.assert_allclose(led.total.reservoir_cost, [r * t * cost] * 2, rtol=1e-12)
    # energy into each qubit: from 1/2 to (1/2) e^{-r t} (reset to |0>, omega = 1)
    np.testing.assert_allclose(led.total.reservoir, [0.5 * math.exp(-r * t) - 0.5] * 2, atol=1e-12)
    # a deterministic reset declared by its builder; a term claiming "reservoir" without
    # saying to what is not priced (kind "other"), never guessed from its matrix
    env = Environment((2,), [thermal_reset(0, GROUND, 0.5)])
    (term,) = energy_ledger(GROUND, env, [0.0, 1.0], beta=1.0, hamiltonians=[H]).terms
    assert (term.kind, term.rate) == ("reservoir", 0.5)
    bare = LocalTerm("bare", 0, thermal_reset(0, GROUND, 0.5).generator, kind="reservoir")
    (term,) = energy_ledger(
        GROUND, Model((2,), (bare,)), [0.0, 1.0], beta=1.0, hamiltonians=[H]
    ).terms
    assert term.kind == "other"


def test_a_thermal_reset_at_the_bath_temperature_is_heat():
    env = Environment((2,), [thermal_reset(0, TAU, 0.5)])
    (term,) = energy_ledger(GROUND, env, [0.0, 2.0], beta=1.0, hamiltonians=[H]).terms
    assert (term.kind, term.beta) == ("heat", 1.0)


def test_sources_built_by_hand_keep_their_process_name():
    clk = PoissonClock(rate=1.0, name="c")
    src = Source(clk, (JumpAction.reset(0, GROUND),))
    assert src.name == "c" and src.label is None
    res = evolve(phi_plus(), Model((2, 2), (), (src,)), [0.0, 1.0], e_ops=["purity"])
    assert res.method == "exact"

"""Twirls, E_gamma, the GHZ protocol, LOSR branches and channel checks.

Tolerances: everything here is exact linear algebra on matrices of size <= 1024, so
results agree with closed forms to round-off. TOL = 1e-12 leaves a margin of ~1e3 over
the observed ~1e-15 errors while any modelling error (a wrong omega, a wrong party
order, a missing branch) is O(1e-2) or larger.
"""

import math
import pickle

import numpy as np
import pytest
import qutip
from eplt.baths.thermal import thermal_state
from eplt.dynamics import channels as C
from eplt.dynamics.measures import (
    fully_entangled_fraction,
    ghz_fidelity,
    is_ppt,
    negativity,
    phi_plus_overlap,
)
from eplt.dynamics.states import ghz_state, noisy_ghz_state, phi_plus, random_state

from tests.systems import negativity_eplt_phi_plus

TOL = 1e-12


def _random_tau(d, rng):
    """Thermal state of random energies in [0, 3) at random beta in (0, 5)."""
    return thermal_state(rng.uniform(0, 3, d), rng.uniform(0.05, 5))


def _apply(S, rho):
    return qutip.vector_to_operator(S @ qutip.operator_to_vector(rho))


def _close(a, b, tol=TOL):
    a = a.full() if isinstance(a, qutip.Qobj) else a
    b = b.full() if isinstance(b, qutip.Qobj) else b
    return np.abs(a - b).max() <= tol


# ------------------------------------------------------------------------- twirls


@pytest.mark.parametrize("d", [2, 3])
def test_clifford_group_size_and_closure(d):
    G = C.clifford_group(d)
    assert len(G) == (24 if d == 2 else 216)
    for u in G:
        assert _close(u @ u.conj().T, np.eye(d))
    # Distinct modulo phase: |Tr(U^† V)| = d only for U = V.
    ov = np.abs(np.einsum("mab,nab->mn", np.conj(G), G))
    assert np.count_nonzero(np.isclose(ov, d, atol=1e-9)) == len(G)
    # Closed under products: every U V equals some element up to a phase.
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = G[rng.integers(len(G))] @ G[rng.integers(len(G))]
        assert np.isclose(np.abs(np.einsum("mab,ab->m", np.conj(G), w)), d, atol=1e-9).sum() == 1


@pytest.mark.parametrize("d", [2, 3])
def test_clifford_twirl_equals_isotropic_twirl(d):
    rng = np.random.default_rng(1)
    for k in range(5):
        rho = random_state([d, d], rank=1 + k % 3, seed=rng)
        assert _close(C.clifford_twirl(rho), C.isotropic_twirl(rho))
    # Linearity: also for a non-Hermitian operator.
    X = qutip.Qobj(rng.normal(size=(d * d, d * d)) + 1j * rng.normal(size=(d * d, d * d)))
    X.dims = [[d, d], [d, d]]
    assert _close(C.clifford_twirl(X), C.isotropic_twirl(X))


def test_non_design_does_not_give_the_twirl():
    # The Pauli group alone is a 1-design, not a 2-design: its twirl differs.
    paulis = [qutip.qeye(2), qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()]
    rho = random_state([2, 2], seed=2)
    assert not _close(C.unitary_twirl(rho, paulis), C.isotropic_twirl(rho), 1e-3)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_isotropic_twirl_marginals_and_fixed_points(d):
    rho = random_state([d, d], seed=d)
    out = C.isotropic_twirl(rho)
    for k in (0, 1):
        assert _close(out.ptrace(k), qutip.qeye(d) / d)
    assert phi_plus_overlap(out) == pytest.approx(phi_plus_overlap(rho), abs=TOL)
    assert _close(C.isotropic_twirl(out), out)  # idempotent
    assert _close(C.isotropic_twirl(phi_plus(d)), phi_plus(d))
    eye = qutip.qeye([d, d])
    assert _close(C.isotropic_twirl(eye), eye)


# ----------------------------------------------------------------------- E_gamma


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_eplt_marginals_are_thermal_for_every_input(d):
    rng = np.random.default_rng(10 + d)
    for _ in range(4):
        tau_A, tau_B = _random_tau(d, rng), _random_tau(d, rng)
        E = C.eplt_channel(tau_A, tau_B)
        assert 0 < E.gamma <= 1
        for rank in (1, 2, d * d):
            out = E(random_state([d, d], rank=rank, seed=rng))
            assert _close(out.ptrace(0), tau_A)
            assert _close(out.ptrace(1), tau_B)
            assert out.tr() == pytest.approx(1, abs=TOL)


@pytest.mark.parametrize("d", [2, 3])
def test_eplt_superoperator_cptp_and_locally_thermalizing(d):
    rng = np.random.default_rng(20 + d)
    tau_A, tau_B = _random_tau(d, rng), _random_tau(d, rng)
    E = C.eplt_channel(tau_A, tau_B)
    S = E.superoperator()
    assert S.dims == [[[d, d], [d, d]], [[d, d], [d, d]]]
    rho = random_state([d, d], seed=rng)
    assert _close(_apply(S, rho), E(rho))
    assert np.abs(C.choi_matrix(S) - qutip.to_choi(S).full()).max() <= TOL
    assert C.is_cptp(S)
    assert C.is_locally_thermalizing(S, [tau_A, tau_B])
    # Wrong party order, the bare twirl and the identity are not LT for these taus.
    assert not C.is_locally_thermalizing(S, [tau_B, tau_A])
    G = C.clifford_group(d)
    twirl = sum(C.product_channel(*map(C.LocalChannel.unitary, (u, u.conj()))) for u in G) / len(G)
    assert C.is_cptp(twirl)
    assert not C.is_locally_thermalizing(twirl, [tau_A, tau_B])
    assert not C.is_locally_thermalizing(qutip.to_super(qutip.qeye([d, d])), [tau_A, tau_B])


def _threshold_states(rng, n):
    """Random states with <Phi+|rho|Phi+> spread over [0, 1] (mixtures with Phi+)."""
    P = phi_plus(2)
    for k in range(n):
        sigma = random_state([2, 2], rank=1 + k % 4, seed=rng)
        if k % 3 == 0:
            yield sigma
        else:
            p = rng.uniform()
            yield p * P + (1 - p) * sigma


@pytest.mark.parametrize("beta", [0.2, 1.0, 3.0])
def test_two_qubit_npt_iff_overlap_above_half(beta):
    tau = thermal_state([0.0, 1.0], beta)
    E = C.eplt_channel(tau, tau)
    rng = np.random.default_rng(int(beta * 100))
    above = below = 0
    for rho in _threshold_states(rng, 1000):
        F = phi_plus_overlap(rho)
        if abs(F - 0.5) < 1e-9:  # the PT eigenvalue there is ~0: skip ambiguous states
            continue
        # is_ppt tolerance 1e-12; negative PT eigenvalues are gamma(2F - 1)/6 in size.
        assert (not is_ppt(E(rho))) == (F > 0.5)
        above += F > 0.5
        below += F < 0.5
    assert above > 200 and below > 200  # both sides of the threshold are populated
    # N(E_gamma(Phi+)) = p_min (tests/systems.py closed form).
    assert negativity(E(phi_plus(2))) == pytest.approx(negativity_eplt_phi_plus(beta), abs=TOL)


@pytest.mark.parametrize("d", [2, 3])
def test_phi_plus_overlap_formula(d):
    rng = np.random.default_rng(30 + d)
    for _ in range(5):
        tau_A, tau_B = _random_tau(d, rng), _random_tau(d, rng)
        E = C.eplt_channel(tau_A, tau_B)
        wA, wB = (w.full() for w in E.omega)
        # Independent closed form: <Phi+|A (x) B|Phi+> = Tr(A B^T) / d.
        omega_overlap = np.trace(wA @ wB.T).real / d
        for _ in range(3):
            rho = random_state([d, d], seed=rng)
            F = phi_plus_overlap(rho)
            expected = E.gamma * F + (1 - E.gamma) * omega_overlap
            assert phi_plus_overlap(E(rho)) == pytest.approx(expected, abs=TOL)


def test_fully_entangled_fraction_can_drop_below_input_overlap():
    # The popular claim F_max[E(rho)] >= <Phi+|rho|Phi+> fails at rho = Phi+: the output
    # gamma Phi+ + (1 - gamma)|00><00| is mixed, so no maximally entangled state has
    # overlap 1 with it (two-qubit F_max is exact).
    tau = thermal_state([0.0, 1.0], 1.0)
    E = C.eplt_channel(tau, tau)
    assert phi_plus_overlap(phi_plus(2)) == pytest.approx(1.0, abs=TOL)
    assert fully_entangled_fraction(E(phi_plus(2))) < 1 - 0.1


def test_omega_and_gamma_closed_forms():
    tau = thermal_state([0.0, 1.0], 1.0)
    p1 = float(tau.diag()[1])
    E = C.eplt_channel(tau, tau)
    assert E.gamma == pytest.approx(2 * p1, abs=TOL)
    assert _close(E.omega[0], qutip.fock_dm(2, 0))  # qubit omega: the ground state
    # Infinite temperature: gamma = 1, omega = I/d, E is the twirl.
    E0 = C.eplt_channel(qutip.qeye(3) / 3, qutip.qeye(3) / 3)
    assert E0.gamma == 1.0 and _close(E0.omega[1], qutip.qeye(3) / 3)
    rho = random_state([3, 3], seed=3)
    assert _close(E0(rho), C.isotropic_twirl(rho))
    assert len(E0.branches()) == 216  # no zero-probability replacement branch


# ------------------------------------------------------------------- LOSR branches


@pytest.mark.parametrize("d", [2, 3])
def test_branch_average_equals_superoperator(d):
    rng = np.random.default_rng(40 + d)
    E = C.eplt_channel(_random_tau(d, rng), _random_tau(d, rng))
    branches = E.branches()
    assert len(branches) == len(C.clifford_group(d)) + 1
    assert sum(p for p, *_ in branches) == pytest.approx(1, abs=TOL)
    assert all(p > 0 for p, *_ in branches)
    avg = 0
    for p, EA, EB in branches:
        Sb = C.product_channel(EA, EB)
        assert C.is_cptp(Sb)
        avg = avg + p * Sb
    assert _close(avg, E.superoperator())
    pickle.loads(pickle.dumps(branches[-1]))  # branches are picklable (executors)


def test_sampled_branches_average_to_channel():
    # Monte-Carlo over Haar branches (d = 4, not prime): the sample mean of each entry
    # lies within 5 standard errors of E(rho) (failure probability ~1e-6 per entry).
    rng = np.random.default_rng(50)
    d = 4
    E = C.eplt_channel(_random_tau(d, rng), _random_tau(d, rng))
    rho = random_state([d, d], seed=rng).full()
    eye = np.eye(d)
    outs = []
    for _ in range(2000):
        EA, EB = E.sample_branch(rng)
        x = sum(np.kron(k, eye) @ rho @ np.kron(k, eye).conj().T for k in EA.kraus)
        outs.append(sum(np.kron(eye, k) @ x @ np.kron(eye, k).conj().T for k in EB.kraus))
    outs = np.array(outs)
    mean, se = outs.mean(0), outs.std(0) / np.sqrt(len(outs))
    exact = E(qutip.Qobj(rho, dims=[[d, d], [d, d]])).full()
    assert np.all(np.abs(mean - exact) <= 5 * se + 1e-12)
    with pytest.raises(ValueError, match="prime"):
        E.branches()


# -------------------------------------------------------------------------- GHZ


@pytest.mark.parametrize("n", [3, 4])
def test_ghz_branch_average_equals_closed_form_twirl(n):
    G = C.ghz_eplt_channel(thermal_state([0.0, 1.0], 0.7), n)
    branches = G.branches()
    assert len(branches) == 2 * 3 ** (n - 1) + 1
    assert sum(b[0] for b in branches) == pytest.approx(1, abs=TOL)
    avg = sum(b[0] * C.product_channel(*b[1:]) for b in branches)
    assert _close(avg, G.superoperator())
    # The twirl branches alone average to the closed-form GHZ twirl.
    tw = sum(C.product_channel(*b[1:]) for b in branches[:-1]) / (len(branches) - 1)
    rho = random_state([2] * n, seed=n)
    assert _close(_apply(tw, rho), C.ghz_twirl(rho))


@pytest.mark.parametrize("n", [3, 4, 5])
def test_ghz_protocol(n):
    rng = np.random.default_rng(60 + n)
    tau = thermal_state([0.0, rng.uniform(0.5, 2)], rng.uniform(0.1, 3))
    G = C.ghz_eplt_channel(tau, n)
    assert G.gamma == pytest.approx(2 * float(tau.diag()[1]), abs=TOL)
    ghz_omega = ghz_fidelity(qutip.tensor([G.omega] * n))
    assert ghz_omega == pytest.approx(0.5, abs=TOL)  # omega = |0><0| for diagonal tau
    twirled = C.ghz_twirl(random_state([2] * n, seed=rng))
    for k in range(n):
        assert _close(twirled.ptrace(k), qutip.qeye(2) / 2)
    assert _close(C.ghz_twirl(ghz_state(n)), ghz_state(n))
    inputs = [random_state([2] * n, rank=1 + k % 3, seed=rng) for k in range(6)]
    inputs += [noisy_ghz_state(n, f) for f in (0.3, 0.45, 0.55, 0.9, 1.0)]
    for rho in inputs:
        out = G(rho)
        for k in range(n):
            assert _close(out.ptrace(k), tau)
        F = ghz_fidelity(rho)
        assert ghz_fidelity(out) == pytest.approx(G.gamma * F + (1 - G.gamma) * ghz_omega, abs=TOL)
        assert (ghz_fidelity(out) > 0.5) == (F > 0.5)


@pytest.mark.parametrize("n", [3, 4])
def test_ghz_protocol_cptp_and_lt(n):
    tau = thermal_state([0.0, 1.0], 1.3)
    S = C.ghz_eplt_channel(tau, n).superoperator()
    assert C.is_cptp(S)
    if n == 3:
        assert C.is_locally_thermalizing(S, tau)
        branches = C.ghz_eplt_channel(tau, n).branches()[:-1]  # the twirl branches
        twirl = sum(C.product_channel(*b[1:]) for b in branches) / len(branches)
        assert C.is_cptp(twirl) and not C.is_locally_thermalizing(twirl, tau)


# ------------------------------------------------------------------ channel checks


def test_is_cptp_rejects_non_cp_and_non_tp_maps():
    D = 4
    T = np.zeros((D * D, D * D))
    for i in range(D):
        for j in range(D):
            T[i * D + j, j * D + i] = 1  # |i><j| -> |j><i| in column stacking
    transpose = qutip.Qobj(T, dims=[[[2, 2], [2, 2]]] * 2, superrep="super")
    rho = random_state([2, 2], seed=5)
    assert _close(_apply(transpose, rho), rho.trans())
    assert not C.is_cptp(transpose)  # positive but not completely positive
    ident = qutip.to_super(qutip.qeye([2, 2]))
    assert C.is_cptp(ident)
    assert not C.is_cptp(2 * ident)  # CP, not trace preserving
    assert C.is_cptp(
        qutip.to_super(qutip.tensor(qutip.sigmax(), qutip.Qobj([[1, 1], [1, -1]]) / np.sqrt(2)))
    )


def test_find_entangled_output():
    tau = thermal_state([0.0, 1.0], 1.0)
    E = C.eplt_channel(tau, tau)
    p_min = float(tau.diag()[1])
    psi, N = C.find_entangled_output(E.superoperator())
    assert N == pytest.approx(p_min, abs=1e-9)  # Phi+ is optimal: N depends on F only
    # Precede E by X on B: Phi+ now gives a separable output, Psi+ is optimal, so the
    # search must leave Phi+ (optimiser tolerance ~1e-9 on a smooth objective).
    S = E.superoperator() * qutip.to_super(qutip.tensor(qutip.qeye(2), qutip.sigmax()))
    assert negativity(_apply(S, phi_plus(2))) == pytest.approx(0, abs=TOL)
    psi, N = C.find_entangled_output(S, seed=1)
    assert N == pytest.approx(p_min, abs=1e-7)
    assert negativity(_apply(S, qutip.ket2dm(psi))) == pytest.approx(N, abs=TOL)
    # A product replacement channel never outputs entanglement.
    R = C.product_channel(*[C.LocalChannel.replacement(tau)] * 2)
    assert C.find_entangled_output(R, restarts=2)[1] == pytest.approx(0, abs=TOL)


# ----------------------------------------------------------------------- errors


def test_no_eplt_at_zero_temperature():
    pure = thermal_state([0.0, 1.0], math.inf)
    mixed = thermal_state([0.0, 1.0], 1.0)
    for args in [(pure, pure), (pure, mixed), (mixed, pure)]:
        with pytest.raises(C.NoEPLTError, match=r"pure.*no entanglement-preserving"):
            C.eplt_channel(*args)
    with pytest.raises(C.NoEPLTError, match="tau is pure"):
        C.ghz_eplt_channel(pure, 3)
    # Degenerate ground space: mixed but rank deficient, gamma would be 0.
    with pytest.raises(C.NoEPLTError, match="not full rank"):
        C.eplt_channel(thermal_state([0.0, 0.0, 1.0], math.inf), qutip.qeye(3) / 3)
    assert issubclass(C.NoEPLTError, ValueError)


def test_bad_inputs_raise_with_parameter_name():
    tau2, tau3 = qutip.qeye(2) / 2, qutip.qeye(3) / 3
    with pytest.raises(ValueError, match="same dimension"):
        C.eplt_channel(tau2, tau3)
    bad = {
        "Hermitian": qutip.Qobj([[0.5, 0.1], [0.3, 0.5]]),
        "trace 1": qutip.Qobj([[0.6, 0], [0, 0.6]]),
        "positive": qutip.Qobj([[1.2, 0], [0, -0.2]]),
    }
    for msg, op in bad.items():
        with pytest.raises(ValueError, match=f"tau_B must .*{msg}"):
            C.eplt_channel(tau2, op)
    with pytest.raises(TypeError, match="tau_A"):
        C.eplt_channel(np.eye(2) / 2, tau2)
    with pytest.raises(ValueError, match="single-party"):
        C.eplt_channel(qutip.qeye([2, 2]) / 4, qutip.qeye([2, 2]) / 4)
    E = C.eplt_channel(tau2, tau2)
    with pytest.raises(ValueError, match=r"rho must have dims \[2, 2\]"):
        E(phi_plus(3))
    with pytest.raises(ValueError, match="rho must have trace 1"):
        E(2 * phi_plus(2))
    with pytest.raises(ValueError, match="rho must have dims"):
        C.isotropic_twirl(qutip.qeye([2, 3]))
    with pytest.raises(ValueError, match="prime"):
        C.clifford_group(4)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        C.ghz_eplt_channel(tau2, 1)
    with pytest.raises(ValueError, match="single-qubit"):
        C.ghz_eplt_channel(tau3, 3)
    with pytest.raises(ValueError, match="n >= 2 qubits"):
        C.ghz_twirl(phi_plus(3))
    with pytest.raises(ValueError, match="unitaries must be unitary"):
        C.unitary_twirl(phi_plus(2), [2 * np.eye(2)])
    with pytest.raises(ValueError, match="kraus"):
        C.LocalChannel((np.eye(2), np.eye(2)))
    with pytest.raises(ValueError, match="superoperator"):
        C.is_cptp(qutip.qeye(4))
    with pytest.raises(TypeError, match="S must be a qutip super"):
        C.choi_matrix(np.eye(16))
    with pytest.raises(ValueError, match="taus"):
        C.is_locally_thermalizing(E.superoperator(), [tau2])


@pytest.mark.parametrize("beta", [1e-6, 1e-9, 1e-12])
def test_omega_is_a_state_near_infinite_temperature(beta):
    # 1 - gamma cancels near beta = 0 (the trace of omega was off by 1e-7 at beta = 1e-9);
    # for a qubit omega is exactly the ground state
    from eplt.baths import qubit_hamiltonian

    tau = thermal_state(qubit_hamiltonian(1.0), beta)
    E = C.eplt_channel(tau, tau)
    for w in E.omega:
        assert abs(w.tr() - 1) <= 1e-15
        np.testing.assert_allclose(w.full(), np.diag([1.0, 0.0]), atol=1e-12)


def test_ghz_eplt_channel_refuses_sizes_that_do_not_fit_before_allocating():
    # adversarial audit: n = 20 raised a raw MemoryError (64 GiB), n = 14 could fill memory
    from eplt.dynamics._memory import MemoryLimitError

    with pytest.raises(MemoryLimitError, match="n = 20"):
        C.ghz_eplt_channel(thermal_state(qutip.Qobj(np.diag([0.0, 1.0])), 1.0), 20)

"""eplt.dynamics.propagator / marginal_channels against qutip and the solver; lt_error against
closed forms and a brute-force lower bound; lt_time against t_eps = ln((1 - p_min)/eps)/r."""

import math

import numpy as np
import pytest
import qutip
import scipy.optimize
from eplt.baths import (
    Drive,
    Environment,
    GaussianPulses,
    PoissonClock,
    Protocol,
    Reset,
    hamiltonian,
    qubit_hamiltonian,
    thermal_bath,
    thermal_reset,
    thermal_state,
)
from eplt.baths.protocols import gellmann_basis, twirl_drive
from eplt.dynamics import evolve, lt_time, marginal_channels, propagator
from eplt.dynamics._ltsolvers import bb_qubit_output as _bb_qubit_output
from eplt.dynamics._ltsolvers import trs_max as _trs_max
from eplt.dynamics.channels import eplt_channel, is_cptp, lt_error
from eplt.dynamics.states import phi_plus, random_state

from tests.systems import qubit_populations

BETA = 1.0
H = qubit_hamiltonian(1.0)
TAU = thermal_state(H, BETA)
P0, P1 = qubit_populations(BETA)
GAMMA = 2 * P1

SM = qutip.destroy(2)  # sigma- = |0><1| (DESIGN.md)
I2 = qutip.qeye(2)


def _apply(S: qutip.Qobj, rho: qutip.Qobj) -> qutip.Qobj:
    return qutip.vector_to_operator(S @ qutip.operator_to_vector(rho))


def _driven_env(kappa=0.7, G=0.4, nbar=0.3, hy=0.9):
    """Shared Gell-Mann drive (U on A, U* on B), GAD on both, sigma_y Hamiltonian on A."""
    terms = twirl_drive(kappa) + [
        thermal_bath(0, H, nbar=nbar, rate=G),
        thermal_bath(1, H, nbar=nbar, rate=G),
        hamiltonian(0, hy * qutip.sigmay()),
    ]
    return Environment((2, 2), terms)


def _driven_liouvillian(kappa=0.7, G=0.4, nbar=0.3, hy=0.9):
    """The same averaged dynamics built independently with qutip."""
    c_ops = []
    for op in (SM, SM.dag()):
        rate = G * (nbar + 1) if op is SM else G * nbar
        c_ops += [math.sqrt(rate) * qutip.tensor(op, I2), math.sqrt(rate) * qutip.tensor(I2, op)]
    for g in gellmann_basis(2):
        Gk = qutip.Qobj(g)
        c_ops.append(math.sqrt(kappa) * (qutip.tensor(Gk, I2) - qutip.tensor(I2, Gk.conj())))
    Hq = qutip.tensor(hy * qutip.sigmay(), I2)
    return Hq, c_ops


# ---------------------------------------------------------------- propagator vs qutip
def test_propagator_matches_qutip_liouvillian_exponential():
    Hq, c_ops = _driven_liouvillian()
    L = qutip.liouvillian(Hq, c_ops)
    for t in (0.3, 1.7):
        S = propagator(_driven_env(), t)
        assert S.superrep == "super" and S.dims == L.dims
        ref = (L * t).expm()
        # exact linear algebra on both sides: round-off
        assert np.abs(S.full() - ref.full()).max() < 1e-12


def test_propagator_matches_qutip_propagator_and_to_super():
    Hq, c_ops = _driven_liouvillian()
    t = 0.8
    ref = qutip.propagator(Hq, t, c_ops, options={"atol": 1e-12, "rtol": 1e-12})
    S = propagator(_driven_env(), t)
    # qutip's adaptive integrator at atol = rtol = 1e-12
    assert np.abs(S.full() - ref.full()).max() < 1e-9
    # a unitary stage: to_super(U) with U = exp(-i H t), sigma_y on A (sign of Im parts)
    env = Environment((2, 2), [hamiltonian(0, 0.9 * qutip.sigmay()), hamiltonian(1, H)])
    U = (-1j * t * (qutip.tensor(0.9 * qutip.sigmay(), I2) + qutip.tensor(I2, H))).expm()
    assert np.abs(propagator(env, t).full() - qutip.to_super(U).full()).max() < 1e-12


def test_propagator_is_cptp_and_maps_like_evolve():
    env = _driven_env()
    rho0 = random_state([2, 2], seed=3)
    t = 1.3
    S = propagator(env, t)
    assert is_cptp(S)
    res = evolve(rho0, env, [0.0, t], e_ops=[], store_states=True)
    assert np.abs(_apply(S, rho0).full() - res.states[-1].full()).max() < 1e-12


def _staged():
    clk = PoissonClock(rate=1.3, name="clock")
    om = qutip.Qobj(np.diag([0.8, 0.2]))
    reset = Environment((2, 2), [Reset(clk, 0, om), Reset(clk, 1, om)])
    hold = Environment((2, 2), [thermal_bath(q, H, BETA, relaxation_rate=0.6) for q in range(2)])
    return Protocol([(0.9, _driven_env()), (0.5, reset), (math.inf, hold)]), reset, hold


def test_composition_within_and_across_stages():
    P, reset, hold = _staged()
    t1, t2 = 0.25, 0.7  # both inside the first stage
    lhs = propagator(P, t2).full()
    rhs = (propagator(P, t2 - t1) @ propagator(P, t1)).full()
    assert np.abs(lhs - rhs).max() < 1e-12
    # across stages: E(2.0) = hold(0.6) o reset(0.5) o drive(0.9)
    rhs = propagator(hold, 0.6) @ propagator(reset, 0.5) @ propagator(_driven_env(), 0.9)
    assert np.abs(propagator(P, 2.0).full() - rhs.full()).max() < 1e-12
    rho0 = random_state([2, 2], seed=5)
    res = evolve(rho0, P, [0.0, 2.0], e_ops=[], store_states=True)
    assert np.abs(_apply(propagator(P, 2.0), rho0).full() - res.states[-1].full()).max() < 1e-12
    assert np.abs(propagator(P, 0.0).full() - np.eye(16)).max() == 0


def test_segment_method_channel_matches_segment_evolve():
    seg = 0.2
    proc = GaussianPulses(segment=seg, variance=1.5, channels=3, name="pulses")
    G = gellmann_basis(2)
    env = Environment(
        (2, 2),
        [Drive(proc, 0, G), Drive(proc, 1, G, conjugate=True), thermal_bath(0, H, BETA, rate=0.3)],
    )
    rho0 = random_state([2, 2], seed=7)
    t = 0.9  # four whole segments and a remainder
    S = propagator(env, t, method="segment")
    res = evolve(rho0, env, [0.0, t], e_ops=[], method="segment", store_states=True)
    assert np.abs(_apply(S, rho0).full() - res.states[-1].full()).max() < 1e-12
    assert is_cptp(S, atol=1e-9)


def test_sampled_method_and_bad_times_are_refused():
    with pytest.raises(ValueError, match="sampled"):
        propagator(_driven_env(), 1.0, method="sampled")
    with pytest.raises(ValueError, match=r"t must lie in \[0, inf\)"):
        propagator(_driven_env(), -1.0)
    with pytest.raises(ValueError, match=r"t must lie in \[0, inf\)"):
        propagator(_driven_env(), math.inf)


# ---------------------------------------------------------------- marginal channels
@pytest.mark.parametrize("shared", [True, False])
def test_marginal_channels_are_the_partial_traces_of_the_joint_channel(shared):
    P, _, _ = _staged()
    if not shared:
        P = Protocol([(d, e.independent()) for d, e in P.stages_])
    t = 1.7
    S = propagator(P, t)
    M = marginal_channels(P, t)
    assert [m.dims for m in M] == [[[[2], [2]], [[2], [2]]]] * 2
    for seed in range(3):
        rho = random_state([2, 2], seed=seed)
        out = _apply(S, rho)
        for k in range(2):
            loc = _apply(M[k], rho.ptrace(k))
            assert np.abs(out.ptrace(k).full() - loc.full()).max() < 1e-12


def test_marginals_of_shared_and_independent_clocks_are_identical():
    P, _, _ = _staged()
    Pi = Protocol([(d, e.independent()) for d, e in P.stages_])
    for a, b in zip(marginal_channels(P, 1.6), marginal_channels(Pi, 1.6)):
        assert np.abs(a.full() - b.full()).max() < 1e-13


def test_marginal_channels_of_many_parties_without_the_joint():
    n = 9
    env = Environment([2] * n, [thermal_reset(q, TAU, 1.0) for q in range(n)])
    with pytest.raises(ValueError, match="marginal"):
        propagator(env, 1.0)
    chans = propagator(env, 1.0, marginals=True)
    assert len(chans) == n
    # lt_error of independent thermal resets: (1 - p_min) e^{-t}
    assert float(lt_error(chans, TAU)) == pytest.approx((1 - P1) * math.exp(-1.0), abs=1e-12)


# ---------------------------------------------------------------- lt_error closed forms
def test_lt_error_of_e_gamma_and_replacement_is_zero():
    E = eplt_channel(TAU, TAU)
    r = lt_error(E.superoperator(), TAU)
    assert r.exact and float(r) < 1e-12
    tt = qutip.tensor(TAU, TAU)
    repl = qutip.Qobj(
        np.outer(tt.full().reshape(-1, order="F"), np.eye(4).reshape(-1, order="F")),
        dims=[[[2, 2], [2, 2]], [[2, 2], [2, 2]]],
        superrep="super",
    )
    r = lt_error(repl, TAU)
    assert r.exact and float(r) < 1e-12


def _input_dependent_channel(s):
    """``s id + (1 - s) omega (x) omega Tr``: the shared reset stopped at ln(1/s)/r."""
    E = eplt_channel(TAU, TAU)
    om = qutip.tensor(*E.omega)
    R = np.outer(om.full().reshape(-1, order="F"), np.eye(4).reshape(-1, order="F"))
    return qutip.Qobj(
        s * np.eye(16) + (1 - s) * R, dims=[[[2, 2], [2, 2]], [[2, 2], [2, 2]]], superrep="super"
    )


def test_lt_error_of_the_input_dependent_procedure_is_p_min():
    # Marginal map rho_A -> gamma rho_A + (1 - gamma) omega = tau + gamma (rho_A - I/2):
    # D = gamma |r|/2, worst at every pure input (e.g. |00>): lt_error = gamma/2 = p_min.
    S = _input_dependent_channel(GAMMA)
    r = lt_error(S, TAU)
    assert r.exact
    assert float(r) == pytest.approx(P1, abs=1e-12)
    out = _apply(S, qutip.ket2dm(qutip.basis([2, 2], [0, 0])))
    assert qutip.tracedist(out.ptrace(0), TAU) == pytest.approx(GAMMA / 2, abs=1e-12)
    # ... while Phi+'s marginals are exactly thermal
    assert qutip.tracedist(_apply(S, phi_plus()).ptrace(0), TAU) < 1e-12


def test_lt_error_of_stopped_zero_temperature_damping_is_sqrt_gamma_over_2():
    # amplitude damping at rate r for t* = ln(1/gamma)/r, s = gamma: Bloch map
    # T = diag(sqrt s, sqrt s, s), t = (0, 0, 1 - s) = r_tau: lt_error = sqrt(gamma)/2
    r = 1.0
    env = Environment((2, 2), [thermal_bath(q, H, math.inf, relaxation_rate=r) for q in range(2)])
    t_star = math.log(1 / GAMMA) / r
    S = propagator(env, t_star)
    out = _apply(S, phi_plus())
    assert qutip.tracedist(out.ptrace(0), TAU) < 1e-12  # Phi+: exactly thermal marginals
    assert qutip.negativity(out, 0) == pytest.approx(GAMMA**2 / 2, abs=1e-12)
    e = lt_error(S, TAU)
    assert e.exact and float(e) == pytest.approx(math.sqrt(GAMMA) / 2, abs=1e-12)
    # the worst input is on the equator (|+>-like): its z Bloch component vanishes
    psi = e.worst_input[0]
    assert abs(qutip.expect(qutip.sigmaz(), psi)) < 1e-6


def test_lt_error_of_the_identity_is_one_minus_p_min():
    r = lt_error(qutip.to_super(qutip.qeye([2, 2])), TAU)
    assert r.exact and float(r) == pytest.approx(1 - P1, abs=1e-12)
    assert r.lower <= r.upper and r.value == float(r)


def _random_channel(dims, kraus, seed):
    rng = np.random.default_rng(seed)
    D = math.prod(dims)
    X = rng.normal(size=(kraus * D, D)) + 1j * rng.normal(size=(kraus * D, D))
    Q, _ = np.linalg.qr(X)  # isometry: sum_k K_k^† K_k = I
    Ks = [qutip.Qobj(Q[k * D : (k + 1) * D], dims=[list(dims), list(dims)]) for k in range(kraus)]
    return qutip.kraus_to_super(Ks)


def _marginal_distances(S, taus, psis):
    """max_k D(Tr_{not k} E(psi psi^†), tau_k) for a batch of kets psis (M, D)."""
    dims = S.dims[1][0]
    D = math.prod(dims)
    rho = np.einsum("mi,mj->mij", psis, psis.conj())
    out = np.einsum("ab,mb->ma", S.full(), rho.transpose(0, 2, 1).reshape(len(psis), -1))
    out = out.reshape(len(psis), D, D).transpose(0, 2, 1)  # column stacking back
    best = np.zeros(len(psis))
    for k, t in enumerate(taus):
        T = out.reshape(len(psis), *dims, *dims)
        n = len(dims)
        letters = "abcdefgh"
        row = [letters[m] if m != k else "Y" for m in range(n)]
        col = [letters[m] if m != k else "Z" for m in range(n)]
        rk = np.einsum("M" + "".join(row + col) + "->MYZ", T)
        lam = np.linalg.eigvalsh(rk - t.full())
        best = np.maximum(best, 0.5 * np.abs(lam).sum(axis=1))
    return best


def _brute(S, taus, n, seed):
    """Random pure inputs, the best ones refined by local ascent: a lower bound."""
    rng = np.random.default_rng(seed)
    D = math.prod(S.dims[1][0])
    z = rng.normal(size=(n, D)) + 1j * rng.normal(size=(n, D))
    psis = z / np.linalg.norm(z, axis=1, keepdims=True)
    vals = _marginal_distances(S, taus, psis)
    random_best = float(vals.max())

    def neg(x):
        psi = x[:D] + 1j * x[D:]
        return -float(_marginal_distances(S, taus, (psi / np.linalg.norm(psi))[None])[0])

    refined = random_best
    for i in np.argsort(vals)[-5:]:
        x0 = np.concatenate([psis[i].real, psis[i].imag])
        res = scipy.optimize.minimize(
            neg,
            x0,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000},
        )
        refined = max(refined, -res.fun)
    return random_best, refined


@pytest.mark.parametrize("seed", [0, 1])
def test_lt_error_exact_against_random_pure_states_signalling_channel(seed):
    # a random CPTP map on two qubits: each marginal depends on the joint input (branch
    # and bound on the sphere); random inputs never exceed it and come close
    S = _random_channel([2, 2], 2, seed)
    taus = [TAU, TAU_Y]
    e = lt_error(S, taus)
    assert e.exact and e.upper - e.lower <= 1e-10
    b, refined = _brute(S, taus, 3000, seed)
    assert b <= float(e) + 1e-12 and refined <= float(e) + 1e-12
    # local ascent from the best random inputs reaches the maximum (a local maximum
    # elsewhere would show as a gap; Nelder-Mead converged to ~1e-10)
    assert refined == pytest.approx(float(e), abs=1e-6)


#: a non-diagonal reference state with a sigma_y coherence (catches transposed Paulis)
TAU_Y = qutip.Qobj([[0.65, 0.1 - 0.2j], [0.1 + 0.2j, 0.35]])


def test_lt_error_of_the_identity_against_a_non_diagonal_state():
    # worst input: the pure state antipodal to tau's Bloch vector, D = (1 + |r_tau|)/2
    r_tau = np.array(
        [qutip.expect(op, TAU_Y) for op in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
    )
    e = lt_error(qutip.to_super(qutip.qeye(2)), TAU_Y)
    assert e.exact and float(e) == pytest.approx((1 + np.linalg.norm(r_tau)) / 2, abs=1e-12)
    psi = e.worst_input[0]
    r_psi = [qutip.expect(op, psi) for op in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
    assert np.allclose(r_psi, -r_tau / np.linalg.norm(r_tau), atol=1e-9)


def test_lt_error_exact_against_random_pure_states_local_channel():
    # product of random qubit channels (marginals depend on the own input: trust region)
    A, B = _random_channel([2], 2, 4), _random_channel([2], 3, 5)
    S = qutip.super_tensor(A, B)
    e = lt_error(S, [TAU, TAU_Y])
    assert e.exact
    b, refined = _brute(S, [TAU, TAU_Y], 3000, 1)
    assert b <= float(e) + 1e-12 and refined <= float(e) + 1e-12
    assert refined == pytest.approx(float(e), abs=1e-6)
    assert float(lt_error([A, B], [TAU, TAU_Y])) == pytest.approx(float(e), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_trust_region_and_branch_and_bound_agree(seed):
    # the two exact solvers on the same qubit -> qubit problem: T, b random; the branch
    # and bound sees A_a with lambda_max(n.A) = n.b + |T^T n|
    rng = np.random.default_rng(seed)
    T, b = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3) * 0.3
    lo, up, _ = _trs_max(T, b)
    pauli = [qutip.sigmax().full(), qutip.sigmay().full(), qutip.sigmaz().full()]
    A = np.stack([b[a] * np.eye(2) + sum(T[a, c] * pauli[c] for c in range(3)) for a in range(3)])
    lo2, up2, _ = _bb_qubit_output(A, 1e-11, 400_000)
    assert up - lo <= 1e-10 and up2 - lo2 <= 2e-11
    assert lo == pytest.approx(lo2, abs=1e-9)


def test_lt_error_qutrit_output_is_bracketed():
    S = _random_channel([3], 2, 2)
    tau3 = thermal_state(np.array([0.0, 1.0, 2.0]), 0.7)
    e = lt_error(S, tau3)
    _, refined = _brute(S, [tau3], 2000, 3)
    assert e.lower <= e.upper + 1e-12
    assert refined <= e.upper + 1e-9  # the SDP bounds every input
    assert e.lower >= refined - 1e-6  # the see-saw finds the local ascent's maximum


def test_lt_error_bad_input():
    with pytest.raises(ValueError, match="one state per output party"):
        lt_error(qutip.to_super(qutip.qeye([2, 2])), [TAU])
    with pytest.raises(TypeError, match="qutip super Qobj"):
        lt_error(np.eye(16), TAU)
    nontp = qutip.Qobj(0.5 * np.eye(4), dims=[[[2], [2]], [[2], [2]]], superrep="super")
    with pytest.raises(ValueError, match="trace preserving"):
        lt_error(nontp, TAU)


# ---------------------------------------------------------------- lt_time
def test_lt_time_of_independent_thermal_resets():
    r, eps = 0.7, 1e-3
    env = Environment((2, 2), [thermal_reset(q, TAU, r) for q in range(2)])
    t = lt_time(env, eps, t_max=20.0)
    assert t == pytest.approx(math.log((1 - P1) / eps) / r, abs=1e-9)
    assert lt_time(env, eps, t_max=1.0) == math.inf
    with pytest.raises(ValueError, match=r"eps must lie in \(0, 1\)"):
        lt_time(env, 0.0, t_max=1.0)


def test_propagator_works_with_the_channel_checks():
    # the EPLT protocol with a certified twirl (eps = 1e-3) against the one that skips it
    from eplt.baths import certified_twirl_time, eplt_protocol
    from eplt.dynamics.channels import choi_matrix, is_locally_thermalizing

    eps = 1e-3
    t_tw = certified_twirl_time(TAU, TAU, rate=1.0, kappa=10.0, eps=eps)
    good, ts = eplt_protocol(TAU, TAU, H, H, BETA, rate=1.0, kappa=10.0, t_twirl=t_tw)
    bad, ts0 = eplt_protocol(TAU, TAU, H, H, BETA, rate=1.0)
    S, S0 = propagator(good, ts), propagator(bad, ts0)
    assert np.abs(choi_matrix(S) - qutip.to_choi(S).full()).max() < 1e-14
    assert is_cptp(S) and is_cptp(S0)
    assert float(lt_error(S, TAU)) == pytest.approx(eps, abs=1e-10)
    assert float(lt_error(S0, TAU)) == pytest.approx(P1, abs=1e-12)  # p_min
    # Choi entries of Tr_B o E - tau Tr are O(eps) for the certified channel, O(p_min) else
    assert is_locally_thermalizing(S, TAU, atol=1e-2)
    assert not is_locally_thermalizing(S0, TAU, atol=1e-2)


def test_time_dependent_lindblad_terms_are_refused_not_dropped():
    # propagator is built from the time-independent averaged generator: a QuTiP
    # time-dependent Hamiltonian would be dropped silently (0.41 error against mesolve)
    import eplt.baths

    H = [0.2 * qutip.sigmaz(), [qutip.sigmay(), lambda t: np.cos(2 * t)]]
    env = eplt.baths.Environment(
        (2,), [eplt.baths.lindblad(0, H, [np.sqrt(0.3) * qutip.destroy(2)])]
    )
    with pytest.raises(ValueError, match="time-dependent"):
        propagator(env, 1.3)
    with pytest.raises(ValueError, match="time-dependent"):
        marginal_channels(env, 1.3)


def test_qudit_lt_error_of_an_exact_lt_is_zero_and_certified():
    # qudit outputs are bracketed (see-saw below, SDP above); an exactly LT channel has a
    # zero marginal-map difference, so the rigorous nuclear-norm bound gives 0, not the
    # solver's 1e-7 margin
    tau = qutip.Qobj(np.diag([0.6, 0.3, 0.1]))
    e = lt_error(eplt_channel(tau, tau).superoperator(), tau)
    assert float(e) <= 1e-12 and e.exact
    # a channel that is not LT: the bracket holds a brute-force value
    E = qutip.to_super(qutip.rand_unitary([3, 3], seed=3))
    e = lt_error(E, tau)
    assert e.lower <= float(e) and float(e) > 0.05


# ---------------------------------------------------------------- fast paths
def _trs_cases(rng, n):
    """Qubit affine maps (T, b): phase-covariant, depolarising, linear term in one
    eigenspace of T^T T, generic."""
    for i in range(n):
        kind = i % 4
        if kind == 0:  # phase covariant: T = diag(a, a, c), b along z
            a, c = rng.uniform(-1, 1, 2)
            yield "axial", np.diag([a, a, c]), np.array([0.0, 0.0, rng.uniform(-1, 1)])
        elif kind == 1:  # depolarising then a shift: Q = s^2 I fully degenerate
            yield "axial", rng.uniform(-1, 1) * np.eye(3), rng.normal(size=3) * rng.uniform(0, 1)
        elif kind == 2:  # b = T e_k: c = T^T T e_k in one eigenspace
            R, _ = np.linalg.qr(rng.normal(size=(3, 3)))
            T = R @ np.diag(rng.uniform(-1, 1, 3))
            yield "axial", T, T @ np.eye(3)[rng.integers(3)] * rng.uniform(0, 2)
        else:
            yield "generic", rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3) * 0.3


def test_trust_region_closed_form_matches_the_secular_equation(monkeypatch):
    # the closed form (linear term in one eigenspace of T^T T) against the certified
    # secular-equation path on the same problems, and against dense sampling of the sphere
    import eplt.dynamics._ltsolvers as sol

    rng = np.random.default_rng(7)
    fast_path = sol._trs_axial
    taken = []

    def spy(*a):
        out = fast_path(*a)
        taken.append(out is not None)
        return out

    x = rng.normal(size=(20000, 3))
    sphere = x / np.linalg.norm(x, axis=1, keepdims=True)
    for kind, T, b in _trs_cases(rng, 200):
        taken.clear()
        monkeypatch.setattr(sol, "_trs_axial", spy)
        lo, up, r = sol.trs_max(T, b)
        monkeypatch.setattr(sol, "_trs_axial", lambda *a: None)
        lo2, up2, _ = sol.trs_max(T, b)
        assert taken == [kind == "axial"]
        assert lo == pytest.approx(lo2, abs=1e-12) and up == pytest.approx(up2, abs=1e-12)
        assert lo <= up and abs(np.linalg.norm(r) - 1) < 1e-12
        assert np.linalg.norm(T @ r + b) == pytest.approx(lo, abs=1e-14)
        assert np.linalg.norm(sphere @ T.T + b, axis=1).max() <= up + 1e-12


def test_lt_error_fast_path_matches_the_certified_path_on_protocol_channels(monkeypatch):
    # channels of the study's protocols (twirl, resets, GAD, a sigma_y drive) at several
    # times: lt_error with the closed form equals lt_error through the secular equation
    import eplt.dynamics._ltsolvers as sol
    from eplt.baths import certified_twirl_time, eplt_protocol

    t_tw = certified_twirl_time(TAU, TAU, rate=1.0, kappa=10.0, eps=1e-3)
    proto, ts = eplt_protocol(TAU, TAU, H, H, BETA, rate=1.0, kappa=10.0, t_twirl=t_tw)
    gad = Environment((2, 2), [thermal_bath(q, H, BETA, relaxation_rate=1.0) for q in range(2)])
    for env in (proto, gad, _driven_env()):
        for t in (0.0, 0.01, 0.3, ts, 2.5):
            M = marginal_channels(env, t)
            fast = lt_error(M, TAU)
            with monkeypatch.context() as m:
                m.setattr(sol, "_trs_axial", lambda *a: None)
                slow = lt_error(M, TAU)
            assert float(fast) == pytest.approx(float(slow), abs=1e-12)
            assert fast.lower == pytest.approx(slow.lower, abs=1e-12)


def test_marginal_evaluator_reuses_generators_without_changing_channels():
    from eplt.dynamics.propagators import marginal_evaluator

    env = _driven_env()
    at = marginal_evaluator(env)
    for t in (0.7, 0.0, 2.3, 0.7):
        for a, b in zip(at(t), marginal_channels(env, t)):
            assert a.dims == b.dims and np.array_equal(a.full(), b.full())
    with pytest.raises(ValueError, match="t must lie in"):
        at(-1.0)


@pytest.mark.parametrize("rate", [0.3, 1.0, 4.0])
def test_decay_root_agrees_with_brentq_on_the_full_bracket(rate):
    from eplt.dynamics._ltsolvers import decay_root

    eps = 1e-3
    calls = []

    def exp_decay(t):  # log-linear: the guess is (almost) the root
        calls.append(t)
        return 0.7 * math.exp(-rate * t) - eps

    def two_rates(t):  # not log-linear: the guess is off, the bracket still valid
        calls.append(t)
        return 0.5 * math.exp(-rate * t) + 0.2 * math.exp(-rate * t / 2) - eps

    for f in (exp_decay, two_rates):
        lo, hi = 0.0, 64.0 / rate
        ref = scipy.optimize.brentq(f, lo, hi, xtol=1e-12)
        calls.clear()
        got = decay_root(f, lo, hi, f(lo), f(hi), eps, 1e-12)
        assert got == pytest.approx(ref, abs=2e-12)
        assert abs(f(got)) < 1e-9
    with pytest.raises(ValueError):  # no sign change: brentq's own error
        decay_root(lambda t: 1.0, 0.0, 1.0, 1.0, 1.0, eps, 1e-12)

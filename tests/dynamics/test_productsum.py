"""The product-sum route against the dense engine, the permutation route and closed forms.

Tolerances: every route compared here is exact (matrix exponentials; the product sums in
closed form per term), so differences are round-off: checked to 1e-10 as the issue asks
(observed: 1e-15 against the dense engine, 1e-13 against the permutation route). The
worst-case GHZ fidelity is certified by its dual value to 1e-12 and compared with a dense
cvxpy/Clarabel SDP to 1e-7 (Clarabel's default accuracy is about 1e-8).
"""

import math

import numpy as np
import pytest
import qutip
from eplt.baths import (
    BrownianNoise,
    Drive,
    Environment,
    Kick,
    PoissonClock,
    Protocol,
    Reset,
    lindblad,
    qubit_hamiltonian,
    thermal_bath,
    thermal_state,
)
from eplt.dynamics import evolve, marginal_channels, propagator
from eplt.dynamics.permutation import SymmetricState, marginal_channel
from eplt.dynamics.productsum import (
    NotProductSumError,
    ProductOperatorSum,
    apply_channel,
    evolve_product_sum,
    is_product_sum,
    worst_case_ghz_fidelity,
)
from eplt.dynamics.productsum import marginal_channels as ps_marginal_channels
from eplt.dynamics.states import ghz_state, noisy_ghz_state
from eplt.studies.ghz import ghz_protocol

BETA = 1.0
H = qubit_hamiltonian(1.0)
TAU = thermal_state(H, BETA)
P0, P1 = sorted(np.linalg.eigvalsh(TAU.full()))[::-1]
GAMMA = 2 * P1
E_OPS = ["ghz_fidelity", "marginal_distance", "purity", "energy", "trace"]


def protocol(n, shared=True, drive="zero_sum", t_twirl=1.0):
    return ghz_protocol(
        n,
        TAU,
        H,
        BETA,
        rate=1.0,
        kappa=5.0,
        flip_rate=2.0,
        t_twirl=t_twirl,
        shared=shared,
        drive=drive,
    )


@pytest.mark.parametrize("n", [2, 3, 4, 6])
@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("drive", ["zero_sum", "exchangeable"])
def test_ghz_protocol_equals_dense_engine(n, shared, drive):
    proto, t_star = protocol(n, shared, drive)
    tl = np.linspace(0, 1.5 * t_star, 31)
    dense = evolve(noisy_ghz_state(n, 0.9), proto, tl, e_ops=E_OPS[:-1], method="exact")
    ps = evolve_product_sum(ProductOperatorSum.noisy_ghz(n, 0.9), proto, tl, e_ops=E_OPS)
    assert ps.method == "product_sum"
    for k in E_OPS[:-1]:
        np.testing.assert_allclose(ps.expect[k], np.asarray(dense.expect[k]), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ps.expect["trace"], 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [30, 100])
@pytest.mark.parametrize("shared", [True, False])
def test_exchangeable_protocol_equals_permutation_route(n, shared):
    proto, t_star = protocol(n, shared, "exchangeable")
    tl = np.linspace(0, 1.5 * t_star, 21)
    e_ops = ["ghz_fidelity", "marginal_distance", "purity"]
    sym = evolve(SymmetricState.noisy_ghz(n, 0.8), proto, tl, e_ops=e_ops, method="permutation")
    ps = evolve_product_sum(ProductOperatorSum.noisy_ghz(n, 0.8), proto, tl, e_ops=e_ops)
    for k in e_ops:
        np.testing.assert_allclose(ps.expect[k], np.asarray(sym.expect[k]), rtol=0, atol=1e-10)


@pytest.mark.parametrize("n", [50, 1000])
def test_closed_forms_at_t_star(n):
    """Correlated: 1/2 + gamma (F_in - 1/2) for any twirl time (the twirl stage fixes the
    GHZ terms exactly); independent: (p0^n + p1^n)/2 once the independent twirl has made
    every qubit I/2 (t_twirl = 20: flips leave e^{-80} of the population difference)."""
    f_in = 0.9
    rho = ProductOperatorSum.noisy_ghz(n, f_in)
    proto, t_star = protocol(n, True, t_twirl=0.3)
    res = evolve_product_sum(rho, proto, [0.0, t_star], e_ops=["ghz_fidelity", "trace"])
    assert res.expect["ghz_fidelity"][-1] == pytest.approx(0.5 + GAMMA * (f_in - 0.5), abs=1e-12)
    assert res.expect["trace"][-1] == pytest.approx(1.0, abs=1e-12)
    proto, t_star = protocol(n, False, t_twirl=20.0)
    res = evolve_product_sum(rho, proto, [0.0, t_star], e_ops=["ghz_fidelity", "marginal_distance"])
    closed = (P0**n + P1**n) / 2
    assert res.expect["ghz_fidelity"][-1] == pytest.approx(closed, rel=1e-10, abs=1e-300)
    # every marginal is tau, to round-off of sums of n logarithms (~ n eps = 2e-13 at n = 1000)
    assert res.expect["marginal_distance"][-1].max() < 1e-10


def test_large_n_numerics_and_purity():
    """At n = 1000 the identity term weighs 2^-1000 (1e-301): log-domain products keep the
    trace at 1 and the purity at p^2 + (1 - p^2) 2^-n."""
    n, f = 1000, 0.7
    s = ProductOperatorSum.noisy_ghz(n, f)
    p = (f - 2.0**-n) / (1 - 2.0**-n)
    assert s.trace() == pytest.approx(1.0, abs=1e-13)
    assert s.purity() == pytest.approx(p**2 + (1 - p**2) * 2.0**-n, abs=1e-13)
    assert s.ghz_fidelity() == pytest.approx(f, abs=1e-13)
    np.testing.assert_allclose(s.marginals(), np.broadcast_to(np.eye(2) / 2, (n, 2, 2)), atol=1e-14)


def _random_product_sum(n, terms, rng):
    """A seeded mixture of random product states (weights positive, sum 1)."""
    w = rng.dirichlet(np.ones(terms))
    factors = np.zeros((terms, n, 2, 2), dtype=complex)
    for i in range(terms):
        for p in range(n):
            a = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
            r = a @ a.conj().T
            factors[i, p] = r / np.trace(r)
    return ProductOperatorSum.from_terms(w, factors)


def _kick_reset_bath_protocol(n):
    """Shared Pauli kicks (X on every qubit), a shared reset to a diagonal
    state and thermal baths: no phase noise, so any product input is allowed."""
    sx = np.array([[0, 1], [1, 0]])
    fclock, rclock = PoissonClock(rate=1.3, name="f"), PoissonClock(rate=0.7, name="r")
    flip = Environment([2] * n, [Kick(fclock, q, sx) for q in range(n)])
    omega = np.diag([0.8, 0.2])
    reset = Environment([2] * n, [Reset(rclock, q, omega) for q in range(n)])
    hold = Environment([2] * n, [thermal_bath(q, H, BETA, relaxation_rate=0.5) for q in range(n)])
    return Protocol([(0.8, flip), (0.6, reset), (math.inf, hold)], taus=[TAU] * n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_product_inputs_against_dense_and_marginal_channels(seed):
    """Seeded random mixtures of product states: equal to the dense engine; trace one; every
    marginal is the local channel applied to the input's marginal."""
    rng = np.random.default_rng(seed)
    n = 3
    s = _random_product_sum(n, 3, rng)
    proto = _kick_reset_bath_protocol(n)
    tl = np.linspace(0, 2.5, 11)
    e_ops = ["ghz_fidelity", "marginal_distance", "purity"]
    dense = evolve(s.to_qobj(), proto, tl, e_ops=e_ops, method="exact")
    ps = evolve_product_sum(s, proto, tl, e_ops=[*e_ops, "trace"])
    for k in e_ops:
        np.testing.assert_allclose(ps.expect[k], np.asarray(dense.expect[k]), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ps.expect["trace"], 1.0, atol=1e-12)
    t = 1.7
    out = apply_channel(proto, t, s)
    chans = marginal_channels(proto, t)
    for p, (m_in, m_out) in enumerate(zip(s.marginals(), out.marginals())):
        expected = qutip.vector_to_operator(chans[p] * qutip.operator_to_vector(qutip.Qobj(m_in)))
        np.testing.assert_allclose(m_out, expected.full(), atol=1e-12)


def test_adjoint_is_the_hilbert_schmidt_adjoint():
    """Tr(A^+ E(B)) = Tr(E^+(A)^+ B) for random product sums, n = 3 (against the dense
    propagator too)."""
    rng = np.random.default_rng(7)
    n = 3
    A, B = _random_product_sum(n, 2, rng), _random_product_sum(n, 3, rng)
    proto = _kick_reset_bath_protocol(n)
    t = 1.9
    lhs = (A.to_qobj().dag() * apply_channel(proto, t, B).to_qobj()).tr()
    rhs = (apply_channel(proto, t, A, adjoint=True).to_qobj().dag() * B.to_qobj()).tr()
    assert lhs == pytest.approx(rhs, abs=1e-13)
    S = propagator(proto, t)
    dense = qutip.vector_to_operator(S * qutip.operator_to_vector(B.to_qobj()))
    np.testing.assert_allclose(
        apply_channel(proto, t, B).to_qobj().full(), dense.full(), atol=1e-12
    )


@pytest.mark.parametrize("shared", [True, False])
def test_marginal_channels_against_engine_and_permutation(shared):
    """O(n) marginal channels: equal to the engine's (n = 3, zero-sum drive: qubit n - 1 is
    dephased differently) and to the permutation route's (n = 30, exchangeable drive), at a
    time inside each stage; exact maps, so round-off (1e-13)."""
    proto, t_star = protocol(3, shared)
    for t in (0.5, t_star, 1.4 * t_star):
        for a, b in zip(ps_marginal_channels(proto, t), marginal_channels(proto, t)):
            np.testing.assert_allclose(a.full(), b.full(), atol=1e-13)
        assert ps_marginal_channels(proto, t)[0].superrep == "super"
    proto, t_star = protocol(30, shared, "exchangeable")
    for t in (0.5, t_star, 1.4 * t_star):
        ref = marginal_channel(proto, t).full()
        for a in ps_marginal_channels(proto, t):
            np.testing.assert_allclose(a.full(), ref, atol=1e-13)


# --------------------------------------------------------------------------- worst case
@pytest.mark.parametrize("n", [50, 1000])
@pytest.mark.parametrize("f_in", [0.6, 0.9, 1.0])
def test_worst_case_closed_form_correlated(n, f_in):
    """At t* every input with GHZ fidelity >= f gives at least 1/2 + gamma (f - 1/2), and
    that is attained: W = gamma |GHZ><GHZ| + (1 - gamma)/2 I exactly."""
    proto, t_star = protocol(n, True, t_twirl=0.3)
    wc = worst_case_ghz_fidelity(proto, t_star, f_in)
    closed = 0.5 + GAMMA * (f_in - 0.5)
    assert wc.value == pytest.approx(closed, abs=1e-12)
    assert abs(wc.gap) <= 1e-12 and wc.dual <= wc.value + 1e-12


def _dense_worst_case(proto, t, n, f):
    import cvxpy as cp

    S = propagator(proto, t)
    G = qutip.ket2dm(ghz_state(n)) if ghz_state(n).isket else ghz_state(n)
    W = qutip.vector_to_operator(S.dag() * qutip.operator_to_vector(G)).full()
    d = 2**n
    rho = cp.Variable((d, d), hermitian=True)
    cons = [rho >> 0, cp.real(cp.trace(rho)) == 1, cp.real(cp.trace(G.full() @ rho)) >= f]
    prob = cp.Problem(cp.Minimize(cp.real(cp.trace(W @ rho))), cons)
    prob.solve(solver="CLARABEL")
    return prob.value


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("factor", [1.0, 1.3])
def test_worst_case_against_dense_sdp(shared, factor):
    n = 3
    proto, t_star = protocol(n, shared, t_twirl=0.3)
    t = factor * t_star
    wc = worst_case_ghz_fidelity(proto, t, 0.9)
    assert abs(wc.gap) <= 1e-12
    assert wc.value == pytest.approx(_dense_worst_case(proto, t, n, 0.9), abs=1e-7)
    # the noisy GHZ input is one feasible input: its fidelity is not below the worst case
    res = evolve_product_sum(ProductOperatorSum.noisy_ghz(n, 0.9), proto, [0.0, t])
    assert res.expect["ghz_fidelity"][-1] >= wc.value - 1e-12


def test_worst_case_refuses_non_phase_covariant():
    n = 3
    had = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    hclock = PoissonClock(rate=1.0, name="h")
    env = Environment([2] * n, [Kick(hclock, q, had) for q in range(n)])
    assert is_product_sum(env)
    with pytest.raises(ValueError, match="phase-covariant"):
        worst_case_ghz_fidelity(env, 1.0, 0.9)
    with pytest.raises(ValueError, match="fidelity_in"):
        worst_case_ghz_fidelity(env, 1.0, 1.5)


# --------------------------------------------------------------------------- refusals
def test_refusals_name_the_reason():
    n = 3
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    proc = BrownianNoise(kappa=1.0, channels=1, name="xdrive")
    env = Environment([2] * n, [Drive(proc, q, [sx / 2]) for q in range(n)])
    assert not is_product_sum(env)
    with pytest.raises(NotProductSumError, match="non-diagonal"):
        evolve_product_sum(ProductOperatorSum.ghz(n), env, [0.0, 1.0])
    sz = np.diag([1.0, -1.0])
    damp = [lindblad(q, None, [0.5 * qutip.destroy(2)]) for q in range(n)]
    zproc = BrownianNoise(kappa=1.0, channels=1, name="z")
    env = Environment([2] * n, [Drive(zproc, q, [sz / 2]) for q in range(n)] + damp)
    with pytest.raises(NotProductSumError, match="does not commute"):
        evolve_product_sum(ProductOperatorSum.ghz(n), env, [0.0, 1.0])
    plus = np.full((2, 2), 0.5)
    env = Environment([2] * n, [Drive(zproc, q, [sz / 2]) for q in range(n)])
    with pytest.raises(NotProductSumError, match="mixing populations and coherences"):
        evolve_product_sum(ProductOperatorSum.product(plus, n), env, [0.0, 1.0])
    with pytest.raises(TypeError, match="ProductOperatorSum"):
        evolve_product_sum(ghz_state(n), env, [0.0, 1.0])
    with pytest.raises(ValueError, match="qubits"):
        evolve_product_sum(ProductOperatorSum.ghz(4), env, [0.0, 1.0])
    with pytest.raises(ValueError, match="observables"):
        evolve_product_sum(ProductOperatorSum.ghz(n), env, [0.0, 1.0], e_ops=["negativity"])
    with pytest.raises(ValueError, match="needs taus"):
        evolve_product_sum(ProductOperatorSum.ghz(n), env, [0.0, 1.0], e_ops=["marginal_distance"])
    with pytest.raises(ValueError, match="fidelity"):
        ProductOperatorSum.noisy_ghz(n, 0.01)
    with pytest.raises(ValueError, match="n must be"):
        ProductOperatorSum.ghz(0)
    with pytest.raises(ValueError, match="finite"):
        ProductOperatorSum.from_terms([np.nan], np.ones((1, n, 2, 2)))
    finite = Protocol([(1.0, env)])
    with pytest.raises(ValueError, match="beyond the protocol's last stage"):
        evolve_product_sum(ProductOperatorSum.ghz(n), finite, [0.0, 2.0])


def test_evolve_dispatches_product_sum_states():
    """``evolve`` runs a ProductOperatorSum through the registered product-sum method: by
    ``auto`` (no other method can run one) and by name, with the same numbers as
    ``evolve_product_sum``; other methods refuse it; the route refuses a dense rho0."""
    from eplt.dynamics.methods import registered_methods
    from eplt.dynamics.productsum import ProductSum

    assert registered_methods()[0] == "product_sum"
    proto, _ = protocol(50)
    tlist = np.linspace(0.0, 3.0, 7)
    rho0 = ProductOperatorSum.ghz(50)
    direct = evolve_product_sum(rho0, proto, tlist, e_ops=["ghz_fidelity", "purity"])
    for method in ("auto", "product_sum", ProductSum()):
        res = evolve(rho0, proto, tlist, e_ops=["ghz_fidelity", "purity"], method=method)
        assert res.method == "product_sum"
        for k in ("ghz_fidelity", "purity"):
            np.testing.assert_allclose(res.expect[k], direct.expect[k], rtol=0, atol=1e-14)
    auto = evolve(rho0, proto, tlist, e_ops=["ghz_fidelity"])
    assert "ProductOperatorSum" in auto.params["method"]["reason"]
    with pytest.raises(TypeError, match="ProductOperatorSum"):
        evolve(noisy_ghz_state(3, 0.9), protocol(3)[0], tlist, method="product_sum")
    with pytest.raises(ValueError, match="no ntraj or seed"):
        evolve(rho0, proto, tlist, method="product_sum", seed=3)

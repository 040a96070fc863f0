"""Stochastic Liouville method against closed forms, white limits, the sampled ensemble
and itself (issue #14: coloured noise without sampling)."""

import math
import warnings

import numpy as np
import pytest
import qutip
from eplt.baths.environment import Drive, Environment, Protocol, Reset, thermal_bath
from eplt.baths.processes import (
    BrownianNoise,
    FixedSignal,
    GaussianPulses,
    MarkovChain,
    OrnsteinUhlenbeck,
    PoissonClock,
    RandomTelegraph,
)
from eplt.baths.thermal import qubit_hamiltonian, thermal_state
from eplt.dynamics import sle
from eplt.dynamics.propagate import Exact, Sampled, StochasticLiouville, evolve
from eplt.dynamics.states import phi_plus

H1 = qubit_hamiltonian(1.0)
SZ = qutip.sigmaz().full()
PAULI = [p.full() / math.sqrt(2) for p in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
PLUS = qutip.ket2dm((qutip.basis(2, 0) + qutip.basis(2, 1)).unit())
SX = {"sx": qutip.sigmax()}


def one_qubit(proc):
    return Environment((2,), [Drive(proc, 0, [SZ])])


def telegraph_sx(t, lam, a):
    """<sigma_x>(t) for H = xi sigma_z, xi = +-a flipping at rate lam, from |+>."""
    om = np.sqrt(complex(lam**2 - 4 * a**2))
    if abs(om) < 1e-12:
        return np.exp(-lam * t) * (1 + lam * t)
    return np.real(np.exp(-lam * t) * (np.cosh(om * t) + lam / om * np.sinh(om * t)))


def ou_sx(t, sigma, tau):
    return np.exp(-4 * sigma**2 * tau**2 * (t / tau - 1 + np.exp(-t / tau)))


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("lam,a", [(3.0, 0.5), (1.0, 0.5), (0.5, 2.0)])
def test_telegraph_closed_form(lam, a):
    # overdamped, critical (Omega = 0) and underdamped (Omega imaginary) regimes;
    # finite chain: exact up to round-off (1e-10 stated in the issue)
    t = np.linspace(0, 4, 41)
    res = evolve(PLUS, one_qubit(RandomTelegraph(rate=lam, amplitude=a)), t, e_ops=SX)
    assert res.method == "sle"
    assert res.params["method"]["exact"] is True
    assert np.abs(res.expect["sx"] - telegraph_sx(t, lam, a)).max() < 1e-10


@pytest.mark.parametrize("tol", [1e-6, 1e-9])
def test_ornstein_uhlenbeck_closed_form_to_stated_tolerance(tol):
    sigma, tau = 2.0, 0.5
    t = np.linspace(0, 3, 31)
    res = evolve(
        PLUS,
        one_qubit(OrnsteinUhlenbeck(sigma=sigma, tau_c=tau)),
        t,
        e_ops=SX,
        method=StochasticLiouville(tol=tol),
    )
    info = res.params["method"]
    assert info["converged"] and info["depth_difference"] <= tol
    assert info["compared_depth"] == info["depth"] - 2
    # the returned (deeper) depth is at least as accurate as the reported difference
    assert np.abs(res.expect["sx"] - ou_sx(t, sigma, tau)).max() <= tol


def test_fixed_depth_reports_the_difference_and_warns_when_not_converged():
    proc = OrnsteinUhlenbeck(sigma=2.0, tau_c=0.5)
    t = np.linspace(0, 2, 5)
    with pytest.warns(RuntimeWarning, match="not converged"):
        res = evolve(PLUS, one_qubit(proc), t, e_ops=SX, method=StochasticLiouville(depth=4))
    info = res.params["method"]
    assert info["depth"] == 4 and not info["converged"]
    ref = ou_sx(t, 2.0, 0.5)
    # the reported difference between depths 2 and 4 bounds the depth-4 error here
    assert 0 < np.abs(res.expect["sx"] - ref).max() < info["depth_difference"]


# ----------------------------------------------------------------------------- white limits


def brownian_two_qubits(kappa):
    proc = BrownianNoise(kappa=kappa, channels=3, name="d")
    terms = [Drive(proc, 0, PAULI), Drive(proc, 1, PAULI, conjugate=True)]
    terms += [thermal_bath(k, H1, 1.0, rate=0.5) for k in (0, 1)]
    return Environment((2, 2), terms)


def coloured_two_qubits(proc, correlation=1.0, gad=True):
    terms = [Drive(proc, 0, PAULI), Drive(proc, 1, PAULI, conjugate=True)]
    if gad:
        terms += [thermal_bath(k, H1, 1.0, rate=0.5) for k in (0, 1)]
    return Environment((2, 2), terms, correlation=correlation)


def test_white_limits_converge_to_brownian_generator():
    # kappa = 2 sigma^2 tau_c (OU) = a^2 / lambda (telegraph) = BrownianNoise.kappa, the
    # integral of <xi(t) xi(0)>; the coloured corrections are O(tau_c) resp. O(1/lambda).
    kappa, t = 0.8, np.linspace(0, 1.5, 16)
    ref = evolve(phi_plus(), brownian_two_qubits(kappa), t, store_states=True)
    assert ref.method == "exact"

    def err(res):
        return max(np.abs(a.full() - b.full()).max() for a, b in zip(res.states, ref.states))

    ou = []
    for tau in (0.02, 0.002):
        proc = OrnsteinUhlenbeck(
            sigma=math.sqrt(kappa / (2 * tau)), tau_c=tau, channels=3, name="d"
        )
        ou.append(err(evolve(phi_plus(), coloured_two_qubits(proc), t, store_states=True)))
    tel = []
    for lam in (50.0, 500.0):
        proc = RandomTelegraph(rate=lam, amplitude=math.sqrt(kappa * lam), channels=3, name="d")
        tel.append(err(evolve(phi_plus(), coloured_two_qubits(proc), t, store_states=True)))
    # first order in the correlation time (tau_c, resp. 1/(2 lambda)): a tenfold shorter
    # time gives a ~tenfold smaller error (factor > 5 asserted), and the error is small
    assert ou[1] < 5 * kappa * 0.002 and ou[0] / ou[1] > 5
    assert tel[1] < 5 * kappa / 500 and tel[0] / tel[1] > 5


# ----------------------------------------------------------------------------- vs sampled


@pytest.mark.parametrize(
    "proc",
    [
        RandomTelegraph(rate=1.5, amplitude=1.2, channels=3, name="d"),
        OrnsteinUhlenbeck(sigma=1.0, tau_c=0.5, channels=3, name="d"),
    ],
    ids=["telegraph", "ou"],
)
def test_shared_and_independent_agree_with_sampled_and_share_marginals(proc):
    t = np.linspace(0, 1.5, 4)
    e_ops = ["negativity", "phi_plus_overlap", "marginal_distance", "purity"]
    exact = {}
    for c in (1.0, 0.0):
        env = coloured_two_qubits(proc, correlation=c)
        ex = evolve(phi_plus(), env, t, e_ops=e_ops, method="sle", store_states=True)
        sa = evolve(phi_plus(), env, t, e_ops=e_ops, method=Sampled(ntraj=2000), seed=7)
        for k in e_ops:
            se = np.maximum(sa.stderr[k], 1e-12)
            # sampling error only (the sampled substeps are 0.02/rate: bias << 1 SE)
            assert np.all(np.abs(ex.expect[k] - sa.expect[k]) <= 4 * se + 1e-9), k
        exact[c] = ex
    # marginals are identical for shared and independent baths (exactly)
    for a, b in zip(exact[1.0].states, exact[0.0].states):
        for keep in (0, 1):
            assert np.abs(a.ptrace(keep).full() - b.ptrace(keep).full()).max() < 1e-10
    # ... while the joint states differ (the shared drive keeps the Phi+ overlap)
    ov = [exact[c].expect["phi_plus_overlap"][-1] for c in (1.0, 0.0)]
    assert ov[0] > ov[1] + 0.05


def test_partial_correlation_agrees_with_sampled():
    # correlation c: xi_p = sqrt(c) xi_shared + sqrt(1 - c) xi_p' -- three OU variables
    proc = OrnsteinUhlenbeck(sigma=1.2, tau_c=0.4, channels=1, name="d")
    gen = [PAULI[0]]
    env = Environment(
        (2, 2),
        [Drive(proc, 0, gen), Drive(proc, 1, gen, conjugate=True)] + gads(),
        correlation=0.5,
    )
    t = np.linspace(0, 1.5, 4)
    e_ops = ["negativity", "phi_plus_overlap", "marginal_distance"]
    ex = evolve(phi_plus(), env, t, e_ops=e_ops)
    assert ex.method == "sle" and ex.params["method"]["converged"]
    sa = evolve(phi_plus(), env, t, e_ops=e_ops, method=Sampled(ntraj=2000), seed=11)
    for k in e_ops:
        se = np.maximum(sa.stderr[k], 1e-12)
        assert np.all(np.abs(ex.expect[k] - sa.expect[k]) <= 4 * se + 1e-9), k


def test_independent_copies_factorise_like_one_product_chain():
    # two independent telegraphs (factorised clusters) = one shared 4-state chain whose
    # two channels drive A and B separately (one joint cluster): same law
    lam, a = 1.3, 0.9
    tel = RandomTelegraph(rate=lam, amplitude=a, name="tel")
    env_ind = Environment(
        (2, 2),
        [Drive(tel, 0, [SZ]), Drive(tel, 1, [qutip.sigmax().full()])] + gads(),
        correlation=0.0,
    )
    R1 = [[0, lam], [lam, 0]]
    rates = np.kron(np.eye(2), R1) + np.kron(R1, np.eye(2))
    vals = [[a, a], [a, -a], [-a, a], [-a, -a]]
    chain = MarkovChain(rates=rates.tolist(), values=vals, name="pair")
    zero = np.zeros((2, 2))
    env_joint = Environment(
        (2, 2),
        [Drive(chain, 0, [SZ, zero]), Drive(chain, 1, [zero, qutip.sigmax().full()])] + gads(),
    )
    t = np.linspace(0, 2, 9)
    r1 = evolve(phi_plus(), env_ind, t, store_states=True)
    r2 = evolve(phi_plus(), env_joint, t, store_states=True)
    assert r1.method == r2.method == "sle"
    for x, y in zip(r1.states, r2.states):
        assert np.abs(x.full() - y.full()).max() < 1e-12


def gads():
    return [thermal_bath(k, H1, 1.0, rate=0.5) for k in (0, 1)]


def test_markov_chain_against_sampled_and_telegraph():
    # a two-state chain with symmetric rates is the telegraph, exactly
    t = np.linspace(0, 2, 11)
    lam, a = 0.7, 1.1
    chain = MarkovChain(rates=[[0, lam], [lam, 0]], values=[a, -a])
    r1 = evolve(PLUS, one_qubit(chain), t, e_ops=SX)
    assert np.abs(r1.expect["sx"] - telegraph_sx(t, lam, a)).max() < 1e-10
    # a three-state asymmetric chain with two channels, shared by two qubits
    chain3 = MarkovChain(
        rates=[[0, 2.0, 0.5], [1.0, 0, 1.0], [0.3, 1.5, 0]],
        values=[[1.0, 0.0], [-0.5, 1.0], [0.2, -1.5]],
        name="c3",
    )
    gen = [SZ, qutip.sigmax().full()]
    env = Environment(
        (2, 2), [Drive(chain3, 0, gen), Drive(chain3, 1, gen, conjugate=True)] + gads()
    )
    e_ops = ["negativity", "phi_plus_overlap", "marginal_distance"]
    ex = evolve(phi_plus(), env, t[::3], e_ops=e_ops)
    sa = evolve(phi_plus(), env, t[::3], e_ops=e_ops, method=Sampled(ntraj=3000), seed=3)
    for k in e_ops:
        assert np.all(
            np.abs(ex.expect[k] - sa.expect[k]) <= 4 * np.maximum(sa.stderr[k], 1e-12) + 1e-9
        )


def test_markov_chain_stationary_law_and_bad_input():
    chain = MarkovChain(rates=[[0, 1.0], [2.0, 0]], values=[1.0, -1.0])
    assert np.allclose(chain.initial, [2 / 3, 1 / 3])
    with pytest.raises(ValueError, match="square"):
        MarkovChain(rates=[[0, 1.0, 2.0]], values=[1.0])
    with pytest.raises(ValueError, match=">= 0"):
        MarkovChain(rates=[[0, -1.0], [1.0, 0]], values=[1.0, 0.0])
    with pytest.raises(ValueError, match="one finite value"):
        MarkovChain(rates=[[0, 1.0], [1.0, 0]], values=[1.0])
    with pytest.raises(ValueError, match="reducible"):
        MarkovChain(rates=[[0, 0.0], [0.0, 0]], values=[1.0, 0.0])
    with pytest.raises(ValueError, match="probability vector"):
        MarkovChain(rates=[[0, 1.0], [1.0, 0]], values=[1.0, 0.0], initial=[0.5, 0.6])
    # a reducible chain with a given start is fine
    MarkovChain(rates=[[0, 0.0], [0.0, 0]], values=[1.0, 0.0], initial=[1.0, 0.0])


# ----------------------------------------------------------------------------- composition


def test_fixed_signal_is_exact_without_sampling():
    edges = np.linspace(0, 1, 6)
    vals = np.random.default_rng(0).normal(size=(5, 3))
    proc = FixedSignal(times=tuple(edges), values=tuple(map(tuple, vals)), name="f")
    env = coloured_two_qubits(proc)
    t = np.linspace(0, 1.2, 13)
    ex = evolve(phi_plus(), env, t, store_states=True)
    assert ex.method == "sle"
    one = evolve(phi_plus(), env, t, method=Sampled(ntraj=1, groups=1), seed=0, store_states=True)
    for a, b in zip(ex.states, one.states):
        assert np.abs(a.full() - b.full()).max() < 1e-12


def test_composes_with_white_processes_clocks_and_stages():
    tau = thermal_state(H1, 1.0)
    tel = RandomTelegraph(rate=1.0, amplitude=1.0, channels=3, name="tel")
    clock = PoissonClock(rate=0.7, name="clock")
    white = BrownianNoise(kappa=0.3, channels=3, name="w")
    stage1 = Environment(
        (2, 2),
        [
            Drive(tel, 0, PAULI),
            Drive(tel, 1, PAULI, conjugate=True),
            Drive(white, 0, PAULI),
            Drive(white, 1, PAULI, conjugate=True),
        ],
    )
    stage2 = Environment((2, 2), [Reset(clock, 0, tau), Reset(clock, 1, tau), Drive(tel, 0, PAULI)])
    proto = Protocol([(0.6, stage1), (math.inf, stage2)])
    t = np.linspace(0, 1.5, 6)
    e_ops = ["negativity", "phi_plus_overlap", "marginal_distance"]
    ex = evolve(phi_plus(), proto, t, e_ops=e_ops, taus=[tau, tau])
    assert ex.method == "sle"
    sa = evolve(
        phi_plus(), proto, t, e_ops=e_ops, taus=[tau, tau], method=Sampled(ntraj=3000), seed=5
    )
    for k in e_ops:
        assert np.all(
            np.abs(ex.expect[k] - sa.expect[k]) <= 4 * np.maximum(sa.stderr[k], 1e-12) + 1e-9
        )


def test_sle_equals_exact_for_white_models():
    env = brownian_two_qubits(0.5)
    t = np.linspace(0, 1, 5)
    a = evolve(phi_plus(), env, t, method="sle", store_states=True)
    b = evolve(phi_plus(), env, t, method=Exact(), store_states=True)
    assert a.params["method"]["exact"] is True
    for x, y in zip(a.states, b.states):
        assert np.abs(x.full() - y.full()).max() < 1e-12


def test_auto_choice_and_refusals():
    t = [0.0, 0.5]
    tel = RandomTelegraph(rate=1.0, amplitude=1.0)
    assert evolve(PLUS, one_qubit(tel), t, e_ops=SX).method == "sle"
    # ntraj asks for realizations: auto keeps sampling
    assert evolve(PLUS, one_qubit(tel), t, e_ops=SX, ntraj=10, seed=0).method == "sampled"
    pulses = GaussianPulses(segment=0.1, variance=1.0, name="p")
    env = Environment((2,), [Drive(pulses, 0, [SZ]), Drive(tel, 0, [SZ])])
    assert evolve(PLUS, env, t, e_ops=SX, seed=0).method == "sampled"
    with pytest.raises(TypeError, match=r"'p'.*not Markovian"):
        evolve(PLUS, env, t, e_ops=SX, method="sle")
    for bad in ({"tol": 0}, {"tol": 2.0}, {"depth": 1}, {"max_depth": 1}, {"krylov_dim": 1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            StochasticLiouville(**bad)


def test_state_space_growth_is_refused_before_allocation(monkeypatch):
    # partial correlation of a 3-channel OU drive: one shared and two per-party
    # hierarchies, binom(K+3, 3)^3 classical modes -- refused with the size named
    proc = OrnsteinUhlenbeck(sigma=1.0, tau_c=0.5, channels=3, name="d")
    env = coloured_two_qubits(proc, correlation=0.5, gad=False)
    with pytest.raises(MemoryError, match=r"too large: clusters .*GiB"):
        evolve(phi_plus(), env, [0, 1], method=StochasticLiouville(depth=10))
    monkeypatch.setattr(sle, "MAX_BYTES", 2**20)
    with pytest.raises(MemoryError, match="MAX_BYTES"):
        evolve(phi_plus(), coloured_two_qubits(proc), [0, 1], method=StochasticLiouville(depth=10))


def test_krylov_and_dense_paths_agree(monkeypatch):
    proc = RandomTelegraph(rate=0.8, amplitude=1.0, channels=3, name="d")
    env = coloured_two_qubits(proc)
    t = np.linspace(0, 2, 7)
    dense = evolve(phi_plus(), env, t, store_states=True)  # 16 x 8 = 128 <= DENSE_MAX
    monkeypatch.setattr(sle, "DENSE_MAX", 16)
    kry = evolve(phi_plus(), env, t, store_states=True, method=StochasticLiouville(tol=1e-10))
    for x, y in zip(dense.states, kry.states):
        assert np.abs(x.full() - y.full()).max() < 1e-11
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isclose(dense.states[-1].tr(), 1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_chains_give_density_matrices(seed):
    # seeded randomized invariant: averages of CPTP realizations are states (trace one,
    # Hermitian, positive) for any chain, generators and correlation
    rng = np.random.default_rng(seed)
    n = 3
    R = rng.random((n, n)) * 2
    vals = rng.normal(size=(n, 2))
    chain = MarkovChain(rates=R.tolist(), values=vals.tolist(), name="c")
    gens = [qutip.rand_herm(2, seed=seed + 10 * k).full() for k in range(2)]
    c = float(rng.integers(0, 2))
    env = Environment(
        (2, 2),
        [Drive(chain, 0, gens), Drive(chain, 1, gens, conjugate=True)] + gads(),
        correlation=c,
    )
    res = evolve(phi_plus(), env, np.linspace(0, 2, 5), store_states=True)
    for st in res.states:
        a = st.full()
        assert abs(np.trace(a) - 1) < 1e-12
        assert np.abs(a - a.conj().T).max() < 1e-12
        assert np.linalg.eigvalsh((a + a.conj().T) / 2).min() > -1e-12

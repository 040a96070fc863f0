"""The solver against closed forms, against qutip, and the three averaging methods
against each other (issue: dynamics engine)."""

import math
import pickle

import numpy as np
import pytest
import qutip
from eplt.baths.environment import (
    Drive,
    Environment,
    Kick,
    Protocol,
    Reset,
    thermal_bath,
    thermal_reset,
)
from eplt.baths.processes import (
    BrownianNoise,
    FixedSignal,
    GaussianPulses,
    HaarPulses,
    OrnsteinUhlenbeck,
    PoissonClock,
    RandomTelegraph,
)
from eplt.baths.thermal import nbar_from_beta, qubit_hamiltonian, thermal_state
from eplt.dynamics.channels import eplt_channel, isotropic_twirl
from eplt.dynamics.measures import trace_distance
from eplt.dynamics.metrics import sudden_death_time
from eplt.dynamics.model import Model
from eplt.dynamics.propagate import Exact, Sampled, SegmentAveraged, evolve, realization_seed
from eplt.dynamics.states import phi_plus, random_state

from tests.systems import gad_esd_time, qubit_populations, shared_reset_esd_time

H1 = qubit_hamiltonian(1.0)
PAULI = [
    qutip.sigmax().full() / math.sqrt(2),
    qutip.sigmay().full() / math.sqrt(2),
    qutip.sigmaz().full() / math.sqrt(2),
]


def drive_terms(kappa=1.0, name="drive", process=None):
    proc = process or BrownianNoise(kappa=kappa, channels=3, name=name)
    return [Drive(proc, 0, PAULI), Drive(proc, 1, PAULI, conjugate=True)]


def gad(beta=1.0, G=1.0):
    return [thermal_bath(0, H1, beta, rate=G), thermal_bath(1, H1, beta, rate=G)]


def rho_generic():
    return random_state([2, 2], seed=42)


# ----------------------------------------------------------------------------- exact


def test_exact_gad_matches_qutip_mesolve():
    nb = nbar_from_beta(1.0)
    env = Environment((2, 2), gad(1.0))
    t = np.linspace(0, 3, 13)
    res = evolve(rho_generic(), env, t, e_ops=["negativity"], store_states=True)
    c = [math.sqrt(nb + 1) * qutip.destroy(2), math.sqrt(nb) * qutip.create(2)]
    c_ops = [qutip.tensor(o, qutip.qeye(2)) for o in c] + [
        qutip.tensor(qutip.qeye(2), o) for o in c
    ]
    ref = qutip.mesolve(
        qutip.qzero([2, 2]), rho_generic(), t, c_ops, options={"atol": 1e-12, "rtol": 1e-11}
    )
    # mesolve's adaptive integrator at atol 1e-12: agreement to ~1e-10.
    for a, b in zip(res.states, ref.states):
        assert np.abs(a.full() - b.full()).max() < 1e-9


def test_correlated_drive_generator_jump_operators_match_qutip():
    env = Environment((2, 2), drive_terms(kappa=0.7))
    jumps = [
        math.sqrt(0.7)
        * (
            qutip.tensor(qutip.Qobj(p), qutip.qeye(2))
            - qutip.tensor(qutip.qeye(2), qutip.Qobj(p.conj()))
        )
        for p in PAULI
    ]
    assert np.allclose(
        env.averaged_generator().to_qutip().full(),
        qutip.liouvillian(None, jumps).full(),
        atol=1e-13,
    )


def test_shared_poisson_reset_generator():
    om = thermal_state(H1, 0.5)
    clk = PoissonClock(rate=1.3, name="clock")
    env = Environment((2, 2), [Reset(clk, 0, om), Reset(clk, 1, om)])
    rho = rho_generic()
    L = env.averaged_generator().to_qutip()
    out = qutip.vector_to_operator(L @ qutip.operator_to_vector(rho))
    assert np.allclose(out.full(), 1.3 * (qutip.tensor(om, om) - rho).full(), atol=1e-13)


def test_correlated_and_independent_have_identical_marginals_but_different_joint_states():
    clk = PoissonClock(rate=0.8, name="clock")
    om = thermal_state(H1, 2.0)
    terms = drive_terms(1.0) + gad(1.0) + [Reset(clk, 0, om), Reset(clk, 1, om)]
    corr = Environment((2, 2), terms)
    ind = corr.independent()
    t = np.linspace(0, 2, 9)
    a = evolve(rho_generic(), corr, t, store_states=True)
    b = evolve(rho_generic(), ind, t, store_states=True)
    for sa, sb in zip(a.states, b.states):
        for k in (0, 1):
            assert np.abs(sa.ptrace(k).full() - sb.ptrace(k).full()).max() < 1e-10
    assert trace_distance(a.states[-1], b.states[-1]) > 1e-2
    # A partially correlated environment has the same marginals too.
    c = evolve(rho_generic(), corr.with_correlation(0.4), t, store_states=True)
    assert np.abs(c.states[-1].ptrace(0).full() - a.states[-1].ptrace(0).full()).max() < 1e-10


def test_drive_converges_to_twirl_at_the_spectral_gap():
    env = Environment((2, 2), drive_terms(kappa=1.0))
    gap = env.spectral_gap()
    rho0 = rho_generic()
    target = isotropic_twirl(rho0)
    t = np.linspace(0, 6, 61)
    res = evolve(rho0, env, t, e_ops={"dist": lambda r: trace_distance(r, target)})
    d = res.expect["dist"]
    tail = t > 3
    rate = -np.polyfit(t[tail], np.log(d[tail]), 1)[0]
    # The slowest mode dominates; faster modes (rates >= 2 gap) bias the fitted slope by
    # ~e^{-gap * 3} relative, i.e. < 1e-4 on this tail.
    assert rate == pytest.approx(gap, rel=1e-4)
    assert gap == pytest.approx(2.0, rel=1e-12)  # kappa = 1, generators sigma/sqrt(2)


def test_independent_drives_destroy_entanglement_correlated_keep_overlap():
    t = np.linspace(0, 4, 9)
    corr = Environment((2, 2), drive_terms(kappa=1.0))
    a = evolve(phi_plus(), corr, t, e_ops=["phi_plus_overlap", "negativity"])
    b = evolve(phi_plus(), corr.independent(), t, e_ops=["phi_plus_overlap", "negativity"])
    assert np.allclose(a.expect["phi_plus_overlap"], 1.0, atol=1e-12)
    assert np.allclose(a.expect["negativity"], 0.5, atol=1e-12)
    assert b.expect["negativity"][-1] == 0.0
    # Independent depolarising: overlap (1 + 3 e^{-2 * gap_local t}) / 4 -> 1/4.
    assert b.expect["phi_plus_overlap"][-1] == pytest.approx(0.25, abs=1e-5)


@pytest.mark.parametrize("nbar", [0.1, 0.5, 1.0])
def test_sudden_death_independent_gad_closed_form(nbar):
    beta = math.log1p(1 / nbar)
    env = Environment((2, 2), gad(beta, 1.0))
    t = np.linspace(0, 3, 61)
    res = evolve(phi_plus(), env, t, e_ops=["negativity"])

    def refine(tt):
        return evolve(phi_plus(), env, [0.0, tt], e_ops=["negativity"]).expect["negativity"][-1]

    esd = sudden_death_time(t, res.expect["negativity"], refine=refine, xtol=1e-10)
    assert esd.time == pytest.approx(gad_esd_time(nbar, 1.0), abs=1e-8)


def test_shared_reset_dies_later_than_independent_reset():
    p0, _ = qubit_populations(1.0)
    tau = thermal_state(H1, 1.0)
    clk = PoissonClock(rate=1.0, name="clock")
    env = Environment((2, 2), [Reset(clk, 0, tau), Reset(clk, 1, tau)])
    t = np.linspace(0, 4, 81)
    shared = evolve(phi_plus(), env, t, e_ops=["negativity"])
    indep = evolve(phi_plus(), env.independent(), t, e_ops=["negativity"])

    def refine_for(e):
        return lambda tt: evolve(phi_plus(), e, [0.0, tt], e_ops=["negativity"]).expect[
            "negativity"
        ][-1]

    ts = sudden_death_time(t, shared.expect["negativity"], refine=refine_for(env), xtol=1e-10).time
    ti = sudden_death_time(
        t, indep.expect["negativity"], refine=refine_for(env.independent()), xtol=1e-10
    ).time
    assert ts == pytest.approx(shared_reset_esd_time(p0, 1.0), abs=1e-8)
    assert ts > ti


# ----------------------------------------------------------------------------- staged protocol


def _speedup_protocol(beta, kappa=5.0, r=1.0, shared_drive=True, shared_clock=True, t_twirl=3.0):
    tau = thermal_state(H1, beta)
    E = eplt_channel(tau, tau)
    clk = PoissonClock(rate=r, name="clock")
    drive = Environment((2, 2), drive_terms(kappa), correlation=1.0 if shared_drive else 0.0)
    reset = Environment(
        (2, 2),
        [Reset(clk, 0, E.omega[0]), Reset(clk, 1, E.omega[1])],
        correlation=1.0 if shared_clock else 0.0,
    )
    hold = Environment((2, 2), gad(beta, 1.0))
    t_reset = math.log(1 / E.gamma) / r
    return Protocol([(t_twirl, drive), (t_reset, reset), (math.inf, hold)]), E, t_twirl + t_reset


def test_staged_correlated_protocol_reproduces_eplt_channel():
    beta = 1.0
    rho0 = rho_generic()
    proto, E, t_star = _speedup_protocol(beta, kappa=5.0, t_twirl=3.0)
    res = evolve(
        rho0, proto, [0.0, t_star, t_star + 1.0], store_states=True, e_ops=["marginal_distance"]
    )
    # twirl error after t_twirl: e^{-gap t} with gap = 2 kappa = 10 -> ~1e-13
    assert trace_distance(res.states[1], E(rho0)) < 1e-10
    assert np.all(res.expect["marginal_distance"][1] < 1e-10)
    # the hold stage (thermal baths at beta) keeps the marginals thermal
    assert np.all(res.expect["marginal_distance"][2] < 1e-10)


@pytest.mark.parametrize("beta", [0.3, 1.0])
def test_staged_protocol_variants_at_t_star(beta):
    p1 = qubit_populations(beta)[1]
    gamma = 2 * p1
    results = {}
    for label, sd, sc in [("corr", True, True), ("indep", False, False), ("mixed", True, False)]:
        proto, _, t_star = _speedup_protocol(
            beta, shared_drive=sd, shared_clock=sc, t_twirl=1e-9 if sd else 3.0
        )
        res = evolve(phi_plus(), proto, [0.0, t_star], e_ops=["negativity", "marginal_distance"])
        results[label] = res
        assert np.all(res.expect["marginal_distance"][-1] < 1e-8)
    assert results["corr"].expect["negativity"][-1] == pytest.approx(p1, abs=1e-8)
    assert results["indep"].expect["negativity"][-1] == pytest.approx(0.0, abs=1e-12)
    expected_mixed = max(0.0, gamma * (2 * gamma - 1) / 2)
    assert results["mixed"].expect["negativity"][-1] == pytest.approx(expected_mixed, abs=1e-8)


# ----------------------------------------------------------------------------- sampled / segment


def _within(sampled, exact, nse=4.0):
    for k in exact.expect.keys():  # names (a list e_ops makes expect a list of arrays)
        se = sampled.stderr[k]
        diff = np.abs(sampled.expect[k] - exact.expect[k])
        mask = se > 0
        assert np.all(diff[mask] <= nse * se[mask] + 1e-12), (k, diff, se)
        assert np.all(diff[~mask] < 1e-12), k


def test_sampled_brownian_drive_agrees_with_exact():
    env = Environment((2, 2), drive_terms(kappa=1.0) + gad(1.0))
    t = np.linspace(0, 1, 5)
    e_ops = ["phi_plus_overlap", "purity", "marginal_distance"]
    exact = evolve(rho_generic(), env, t, e_ops=e_ops)
    sampled = evolve(
        rho_generic(), env, t, e_ops=e_ops, method=Sampled(ntraj=2000, dt=0.005), seed=3
    )
    # 4 standard errors (jackknife over 16 blocks); discretisation error O(dt) ~ 1e-4 << SE.
    _within(sampled, exact)


def test_sampled_poisson_reset_agrees_with_exact():
    om = qutip.ket2dm(qutip.basis(2, 0))
    clk = PoissonClock(rate=1.5, name="clock")
    env = Environment((2, 2), [Reset(clk, 0, om), Reset(clk, 1, om)] + gad(1.0))
    t = np.linspace(0, 1.5, 4)
    e_ops = ["phi_plus_overlap", "negativity", "marginal_distance"]
    for e in (env, env.independent()):
        exact = evolve(phi_plus(), e, t, e_ops=e_ops)
        sampled = evolve(phi_plus(), e, t, e_ops=e_ops, ntraj=3000, method="sampled", seed=11)
        _within(sampled, exact)


def test_sampled_is_reproducible_and_independent_of_batching():
    env = Environment((2, 2), drive_terms(kappa=1.0) + gad(1.0))
    t = np.linspace(0, 0.5, 3)
    a = evolve(phi_plus(), env, t, method=Sampled(ntraj=64, batch_size=64), seed=5)
    b = evolve(phi_plus(), env, t, method=Sampled(ntraj=64, batch_size=7), seed=5)
    for k in a.expect:
        assert np.allclose(a.expect[k], b.expect[k], atol=1e-13, rtol=0)
    c = evolve(phi_plus(), env, t, method=Sampled(ntraj=64), seed=6)
    assert not np.allclose(a.expect["phi_plus_overlap"], c.expect["phi_plus_overlap"])
    assert (
        realization_seed(5, 3).generate_state(2).tolist()
        == np.random.SeedSequence(5).spawn(4)[3].generate_state(2).tolist()
    )


def _pulse_env(kappa=5.0, segments=20, T=2.0, correlation=1.0):
    seg = T / segments
    proc = GaussianPulses(segment=seg, variance=kappa / seg / 2, channels=3, name="pulses")
    return Environment(
        (2, 2),
        [Drive(proc, 0, PAULI), Drive(proc, 1, PAULI, conjugate=True)] + gad(1.0),
        correlation=correlation,
    )


def test_segment_averaging_records_every_time_on_segment_edges():
    """Segments of 0.1 up to t = 1.0: the edges are start + j tau (ten additions of 0.1
    fall short of 1.0 and used to leave the last output time unrecorded, as None). With
    zero pulse variance the segment channel is the GAD alone, so the exact method on the
    same baths is the reference."""
    proc = GaussianPulses(segment=0.1, variance=0.0, channels=3, name="pulses")
    env = Environment(
        (2, 2), [Drive(proc, 0, PAULI), Drive(proc, 1, PAULI, conjugate=True)] + gad(1.0)
    )
    t = np.linspace(0.0, 1.0, 11)
    seg = evolve(phi_plus(), env, t, e_ops=["purity"])
    ref = evolve(phi_plus(), Environment((2, 2), gad(1.0)), t, e_ops=["purity"])
    assert seg.method == "segment" and seg.expect["purity"].dtype == float
    np.testing.assert_allclose(seg.expect["purity"], ref.expect["purity"], atol=1e-12)


@pytest.mark.parametrize("correlation", [1.0, 0.0])
def test_segment_averaging_agrees_with_sampling(correlation):
    env = _pulse_env(correlation=correlation)
    t = np.linspace(0, 0.5, 6)
    e_ops = ["phi_plus_overlap", "negativity", "marginal_distance"]
    seg = evolve(phi_plus(), env, t, e_ops=e_ops, method=SegmentAveraged(nodes=12))
    assert seg.method == "segment"
    sampled = evolve(phi_plus(), env, t, e_ops=e_ops, method=Sampled(ntraj=3000), seed=2)
    _within(sampled, seg)


def test_segment_quadrature_converges():
    env = _pulse_env()
    t = np.linspace(0, 0.3, 4)
    a = evolve(phi_plus(), env, t, method=SegmentAveraged(nodes=14), store_states=True)
    b = evolve(phi_plus(), env, t, method=SegmentAveraged(nodes=20), store_states=True)
    assert max(np.abs(x.full() - y.full()).max() for x, y in zip(a.states, b.states)) < 1e-10


def test_haar_pulses_segment_average_is_the_twirl_after_one_segment():
    proc = HaarPulses(segment=0.5, d=2, name="haar")
    env = Environment((2, 2), [Drive(proc, 0), Drive(proc, 1, conjugate=True)])
    rho0 = rho_generic()
    res = evolve(
        rho0, env, [0.0, 0.5], method=SegmentAveraged(samples=4000, seed=1), store_states=True
    )
    # Sampled Haar average: error ~ 1/sqrt(4000) ~ 0.016 in trace distance.
    assert trace_distance(res.states[-1], isotropic_twirl(rho0)) < 0.05


def test_factorized_realization_matches_full_qutip_mesolve():
    """One realization of a piecewise-constant drive + GAD: the product of local
    propagators equals a full-system mesolve of the same Hamiltonian."""
    rng = np.random.default_rng(0)
    edges = np.linspace(0, 1, 6)
    values = rng.normal(size=(5, 3)) * 2
    proc = FixedSignal(times=tuple(edges), values=tuple(map(tuple, values)), name="fixed")
    env = Environment(
        (2, 2), [Drive(proc, 0, PAULI), Drive(proc, 1, PAULI, conjugate=True)] + gad(0.8)
    )
    rho0 = rho_generic()
    t = np.linspace(0, 1, 11)
    res = evolve(rho0, env, t, method=Sampled(ntraj=1, groups=1), seed=0, store_states=True)
    nb = nbar_from_beta(0.8)
    c = [math.sqrt(nb + 1) * qutip.destroy(2), math.sqrt(nb) * qutip.create(2)]
    c_ops = [qutip.tensor(o, qutip.qeye(2)) for o in c] + [
        qutip.tensor(qutip.qeye(2), o) for o in c
    ]
    I2 = qutip.qeye(2)
    gens = [qutip.tensor(qutip.Qobj(P), I2) - qutip.tensor(I2, qutip.Qobj(P.conj())) for P in PAULI]
    # qutip integrates each constant piece separately (its adaptive stepper loses ~1e-8
    # accuracy when asked to step across the discontinuities of a step coefficient).
    rho = rho0
    for j in range(values.shape[0]):
        H = sum(values[j, k] * gens[k] for k in range(3))
        tj = [edges[j], *t[(t > edges[j] + 1e-12) & (t < edges[j + 1] - 1e-12)], edges[j + 1]]
        ref = qutip.mesolve(H, rho, tj, c_ops, options={"atol": 1e-13, "rtol": 1e-12})
        for tt, st in zip(tj[1:], ref.states[1:]):
            i = int(np.argmin(np.abs(t - tt)))
            assert np.abs(res.states[i].full() - st.full()).max() < 1e-8
        rho = ref.states[-1]


def test_coloured_noise_runs_and_keeps_marginals_sampled():
    proc = OrnsteinUhlenbeck(sigma=1.0, tau_c=0.3, channels=3, name="ou")
    tel = RandomTelegraph(rate=2.0, amplitude=1.0, name="tel")
    terms = [
        Drive(proc, 0, PAULI),
        Drive(proc, 1, PAULI, conjugate=True),
        Drive(tel, 0, [PAULI[2]]),
        Drive(tel, 1, [PAULI[2]]),
    ] + gad(1.0)
    env = Environment((2, 2), terms)
    res = evolve(phi_plus(), env, np.linspace(0, 1, 3), ntraj=200, seed=1)
    assert res.method == "sampled"
    assert np.all(np.isfinite(res.stderr["negativity"]))
    # Unitary drives do not change the GAD marginal populations: distance decays as e^{-G(2n+1)t} times D0.
    assert res.expect["purity"][-1] < 1.0


def test_kick_clock_flip():
    X = qutip.sigmax()
    clk = PoissonClock(rate=2.0, name="flip")
    env = Environment((2, 2), [Kick(clk, 0, X), Kick(clk, 1, X)])
    rho0 = qutip.ket2dm(qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 0)))
    res = evolve(rho0, env, [0.0, 0.4], store_states=True)
    # P(even number of ticks) = (1 + e^{-2 r t})/2 for a shared flip.
    p_even = (1 + math.exp(-2 * 2.0 * 0.4)) / 2
    assert res.states[-1].full()[0, 0].real == pytest.approx(p_even, abs=1e-12)
    assert res.states[-1].full()[3, 3].real == pytest.approx(1 - p_even, abs=1e-12)


# ----------------------------------------------------------------------------- validation


def test_models_pickle():
    env = _pulse_env()
    proto, _, _ = _speedup_protocol(1.0)
    for obj in (env, proto, env.model()):
        assert pickle.loads(pickle.dumps(obj)) is not None


@pytest.mark.parametrize(
    "build, exc, match",
    [
        (lambda: thermal_bath(0, H1, 1.0, rate=-1.0), ValueError, r"rate must lie in \[0, inf\)"),
        (lambda: thermal_bath(0, H1, -1.0, rate=1.0), ValueError, r"beta must lie in \[0, inf\]"),
        (lambda: thermal_reset(0, thermal_state(H1, 1.0), -2.0), ValueError, "rate must lie"),
        (lambda: PoissonClock(rate=-1.0), ValueError, "rate must lie"),
        (lambda: BrownianNoise(kappa=-1.0), ValueError, "kappa must lie"),
        (lambda: Environment((2, 2), [thermal_bath(2, H1, 1.0, rate=1.0)]), ValueError, "party 2"),
        (
            lambda: Environment((2, 3), [thermal_bath(1, H1, 1.0, rate=1.0)]),
            ValueError,
            "dimension",
        ),
        (lambda: Environment((2, 2), drive_terms(), correlation=1.5), ValueError, r"\[0, 1\]"),
        (lambda: Sampled(ntraj=0), ValueError, "ntraj must be an integer >= 1"),
    ],
)
def test_bad_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_bad_evolve_arguments():
    env = Environment((2, 2), gad())
    with pytest.raises(ValueError, match="strictly increasing"):
        evolve(phi_plus(), env, [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="local dimensions"):
        evolve(phi_plus(3), env, [0.0, 1.0])
    with pytest.raises(ValueError, match="ntraj"):
        evolve(phi_plus(), env, [0.0, 1.0], ntraj=0)
    with pytest.raises(
        ValueError, match="unknown observable 'negativty'; did you mean 'negativity'"
    ):
        evolve(phi_plus(), env, [0.0, 1.0], e_ops=["negativty"])
    with pytest.raises(TypeError, match="not white"):
        evolve(phi_plus(), _pulse_env(), [0.0, 1.0], method=Exact())
    with pytest.raises(ValueError, match="needs taus"):
        evolve(phi_plus(), Model((2, 2)), [0.0, 1.0], e_ops=["marginal_distance"])


def test_heat_currents_closed_form_and_energy_balance():
    beta = 1.0
    _, p1 = qubit_populations(beta)
    nb = nbar_from_beta(beta)
    tau = thermal_state(H1, beta)
    clk = PoissonClock(rate=0.7, name="clock")
    env = Environment((2, 2), gad(beta, 1.0) + [Reset(clk, 0, tau), Reset(clk, 1, tau)])
    t = np.linspace(0, 1, 2001)
    res = evolve(phi_plus(), env, t, e_ops=["heat_current", "energy"])
    assert res.labels["heat_current"] == ["thermal[0]", "thermal[1]", "clock[0]", "clock[1]"]
    J0 = res.expect["heat_current"][0]
    # marginal I/2 at t = 0: GAD  dE/dt = -G(2 nbar + 1)(1/2 - p1) omega; reset: r (p1 - 1/2) omega
    assert J0[0] == pytest.approx(-(2 * nb + 1) * (0.5 - p1), rel=1e-12)
    assert J0[2] == pytest.approx(0.7 * (p1 - 0.5), rel=1e-12)
    # first law per party: dE_A/dt = J_thermal[0] + J_clock[0] (finite differences, O(dt^2) ~ 1e-7)
    dE = np.gradient(res.expect["energy"][:, 0], t)
    J = res.expect["heat_current"][:, [0, 2]].sum(axis=1)
    assert np.abs(dE - J)[2:-2].max() < 1e-6
    # the same labels and marginal currents for independent clocks
    ind = evolve(phi_plus(), env.independent(), t[:3], e_ops=["heat_current"])
    assert np.allclose(ind.expect["heat_current"], res.expect["heat_current"][:3], atol=1e-12)


def test_chosen_bipartition_negativity():
    import qutip as qt
    from eplt.dynamics.states import ghz_state

    psi = qt.tensor(qt.bell_state("00"), qt.basis(2, 0))  # Phi+ on (0, 1), party 2 in |0>
    rho = qt.ket2dm(psi)
    res = evolve(
        rho, Model((2, 2, 2)), [0.0], e_ops=["negativity[2]", "negativity[0]", "negativity[1,2]"]
    )
    assert res.expect["negativity[2]"][0] == pytest.approx(0.0, abs=1e-14)
    assert res.expect["negativity[0]"][0] == pytest.approx(0.5, abs=1e-14)
    assert res.expect["negativity[1,2]"][0] == pytest.approx(0.5, abs=1e-14)
    with pytest.raises(ValueError, match="proper subset"):
        evolve(ghz_state(3), Model((2, 2, 2)), [0.0], e_ops=["negativity[0,1,2]"])

"""Oscillator terms (baths/oscillators.py): the damped cavity against qutip, phase noise
against its closed forms, and the cutoff check.

Closed forms: shared phase noise averages to ``D[sqrt(kappa)(n_A - n_B)]``, which
annihilates every ``|nn>``, so a TMSV is exactly invariant; independent noise gives
``D[sqrt(kappa) n]`` on each mode, so ``<nn|rho|mm>`` decays as ``exp(-kappa (n-m)^2 t)``.
Under damping the TMSV stays block diagonal in ``n_A - n_B`` (jumps shift both sides
alike), so shared noise changes nothing there either: shared noise = no noise exactly.

Tolerances: exact propagation (expm / expm_multiply) is accurate to ~1e-13 on these sizes,
so TOL = 1e-10; mesolve is run with atol 1e-10, rtol 1e-9, and compared at 1e-7.
"""

import math

import numpy as np
import pytest
import qutip
from eplt.baths import (
    Environment,
    PoissonClock,
    Reset,
    cavity_environment,
    edge_population_observable,
    oscillator_bath,
    oscillator_hamiltonian,
    oscillator_reset,
    phase_kick,
    phase_noise,
)
from eplt.dynamics import evolve
from eplt.dynamics.bosonic import (
    CutoffWarning,
    check_cutoff,
    edge_population,
    thermal_oscillator,
    two_mode_squeezed_vacuum,
)

TOL = 1e-10


def _full(r, i):
    return r.states[i].full()


def test_bath_generator_is_qutips_damped_cavity():
    N, G, beta, omega = 6, 0.3, 0.7, 1.3
    nbar = 1 / math.expm1(beta * omega)
    a = qutip.destroy(N)
    L_ref = qutip.liouvillian(
        omega * a.dag() * a, [math.sqrt(G * (nbar + 1)) * a, math.sqrt(G * nbar) * a.dag()]
    )
    term = oscillator_bath(0, beta, rate=G, cutoff=N, omega=omega, include_hamiltonian=True)
    assert np.abs(term.generator.full() - L_ref.full()).max() <= TOL
    # stationary state: the truncated thermal state
    tau = thermal_oscillator(beta, cutoff=N, omega=omega, cutoff_tol=1.0)
    out = term.generator @ qutip.operator_to_vector(tau)
    assert np.abs(out.full()).max() <= TOL
    H = oscillator_hamiltonian(0, omega, cutoff=N)
    assert np.abs(H.generator.full() - qutip.liouvillian(omega * a.dag() * a).full()).max() <= TOL


def test_two_damped_cavities_match_mesolve_at_cutoff_20():
    # the joint model (two baths, Hamiltonians, shared phase noise) at cutoff 20 per mode:
    # joint Liouvillian of size 160000, integrated by eplt's exact method (sparse)
    N, G, kappa, beta = 20, 0.2, 0.3, 1.0
    rho0 = two_mode_squeezed_vacuum(0.3, cutoff=N)
    env = cavity_environment(
        beta, rate=G, cutoff=N, kappa=kappa, noise="shared", include_hamiltonian=True
    )
    a, eye = qutip.destroy(N), qutip.qeye(N)
    aA, aB = qutip.tensor(a, eye), qutip.tensor(eye, a)
    nA, nB = aA.dag() * aA, aB.dag() * aB
    nbar = 1 / math.expm1(beta)
    c_ops = [
        math.sqrt(G * (nbar + 1)) * aA,
        math.sqrt(G * nbar) * aA.dag(),
        math.sqrt(G * (nbar + 1)) * aB,
        math.sqrt(G * nbar) * aB.dag(),
        math.sqrt(kappa) * (nA - nB),
    ]
    ops = [nA, aA * aB, nA * nB, aA.dag() * aB]
    tlist = [0.0, 0.5, 1.0]
    res = evolve(rho0, env, tlist, e_ops=ops)
    ref = qutip.mesolve(
        nA + nB, rho0, tlist, c_ops, e_ops=ops, options={"atol": 1e-10, "rtol": 1e-9}
    )
    for i in range(len(ops)):
        assert np.abs(np.asarray(res.expect[i]) - np.asarray(ref.expect[i])).max() <= 1e-7
    assert abs(res.expect[1][-1]) > 0.05  # the squeezing correlation <a b> is still there


def test_shared_phase_noise_leaves_the_tmsv_exactly_invariant():
    N = 6
    rho0 = two_mode_squeezed_vacuum(0.5, cutoff=N, cutoff_tol=1e-1)
    env = Environment((N, N), phase_noise(2.0, cutoff=N), correlation=1.0)
    res = evolve(rho0, env, [0.0, 1.0, 3.0], e_ops=["negativity"], store_states=True)
    for i in (1, 2):
        assert np.abs(_full(res, i) - rho0.full()).max() <= TOL


def test_independent_phase_noise_dephases_nn_mm_at_kappa_n_minus_m_squared():
    N, kappa = 5, 0.4
    rho0 = two_mode_squeezed_vacuum(0.6, cutoff=N, cutoff_tol=1.0)
    env = Environment((N, N), phase_noise(kappa, cutoff=N), correlation=0.0)
    tlist = [0.0, 0.5, 2.0]
    res = evolve(rho0, env, tlist, e_ops=[], store_states=True)
    r0 = rho0.full()
    for i, t in enumerate(tlist):
        r = _full(res, i)
        for n in range(N):
            for m in range(N):
                expect = r0[n * (N + 1), m * (N + 1)] * math.exp(-kappa * (n - m) ** 2 * t)
                assert abs(r[n * (N + 1), m * (N + 1)] - expect) <= TOL


def test_with_damping_shared_noise_equals_no_noise_and_marginals_agree():
    N = 5
    rho0 = two_mode_squeezed_vacuum(0.4, cutoff=N, cutoff_tol=1.0)
    tlist = [0.0, 1.0, 4.0]
    kw = dict(rate=0.3, cutoff=N, include_hamiltonian=True)
    runs = {
        noise: evolve(
            rho0,
            cavity_environment(1.0, kappa=0.0 if noise == "none" else 0.8, noise=noise, **kw),
            tlist,
            e_ops=["negativity"],
            store_states=True,
        )
        for noise in ("none", "shared", "independent")
    }
    for i in range(len(tlist)):
        assert np.abs(_full(runs["shared"], i) - _full(runs["none"], i)).max() <= TOL
        # the local dynamics do not see the correlation of the noise
        for k in (0, 1):
            a = runs["shared"].states[i].ptrace(k).full()
            b = runs["independent"].states[i].ptrace(k).full()
            assert np.abs(a - b).max() <= TOL
    # at t = 1 (before sudden death) independent noise has removed entanglement
    assert runs["independent"].expect["negativity"][1] < runs["none"].expect["negativity"][1] - 1e-3


def test_reset_kick_and_edge_observable():
    N = 4
    clock = PoissonClock(1.5, name="clock")
    tau = thermal_oscillator(1.0, cutoff=N, cutoff_tol=1.0)
    env = Environment(
        (N, N),
        [
            Reset(clock, 0, tau),
            phase_kick(PoissonClock(1.0, name="kick"), 1, 0.3, cutoff=N),
            oscillator_reset(1, 1.0, 0.5, cutoff=N),
        ],
    )
    rho0 = qutip.tensor(qutip.fock_dm(N, 3), qutip.fock_dm(N, 3))
    res = evolve(rho0, env, [0.0, 2.0], e_ops={"edge": edge_population_observable()})
    # each mode: the top level's population decays at the reset rate (1.5 and 0.5)
    p_top = [math.exp(-1.5 * 2) + (1 - math.exp(-1.5 * 2)) * tau.diag()[3]]
    p_top.append(math.exp(-0.5 * 2) + (1 - math.exp(-0.5 * 2)) * tau.diag()[3])
    assert abs(res.expect["edge"][-1] - max(p_top)) <= TOL
    assert res.expect["edge"][0] == 1.0
    assert edge_population(rho0) == 1.0


def test_cutoff_check_fires_when_the_cutoff_is_too_small():
    # thermal damping at beta omega = 0.3 (nbar = 2.9) fills the top level of a 4-level cutoff
    N = 4
    env = cavity_environment(0.3, rate=1.0, cutoff=N, noise="none")
    rho0 = qutip.tensor(qutip.fock_dm(N, 0), qutip.fock_dm(N, 0))
    res = evolve(rho0, env, np.linspace(0, 5, 6), e_ops={"edge": edge_population_observable()})
    worst = float(np.max(res.expect["edge"]))
    assert worst > 0.1
    with pytest.warns(CutoffWarning, match="increase cutoff"):
        check_cutoff(worst, 1e-3, what="cavity populations")


def test_bad_input():
    with pytest.raises(ValueError, match="noise must be"):
        cavity_environment(1.0, rate=0.1, cutoff=4, noise="correlated")
    with pytest.raises(ValueError, match="kappa must be 0"):
        cavity_environment(1.0, rate=0.1, cutoff=4, kappa=1.0, noise="none")
    with pytest.raises(ValueError, match=r"beta must lie in \(0, inf\]"):
        oscillator_bath(0, 0.0, rate=0.1, cutoff=4)
    with pytest.raises(ValueError, match="rate must lie"):
        oscillator_bath(0, 1.0, rate=-1.0, cutoff=4)
    with pytest.raises(ValueError, match="cutoff must be an integer >= 2"):
        oscillator_bath(0, 1.0, rate=0.1, cutoff=1)
    with pytest.raises(ValueError, match="two different modes"):
        phase_noise(1.0, cutoff=4, parties=(1, 1))
    with pytest.raises(ValueError, match="omega must be"):
        oscillator_hamiltonian(0, -1.0, cutoff=4)

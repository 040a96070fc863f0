"""Long times and extreme rates: the factorised solver against the joint Liouvillian.

Independent Poisson resets used to put every identity term of the averaged generator on
party 0, so party 1's factor was ``exp(+r t)`` and party 0's ``exp(-2 r t)``; beyond
``r t ~ 709`` that is ``inf * 0 = nan`` (a LinAlgError or NaN).
"""

import numpy as np
import pytest
import qutip
from eplt.baths import (
    BrownianNoise,
    Drive,
    Environment,
    PoissonClock,
    Reset,
    qubit_hamiltonian,
    thermal_state,
)
from eplt.dynamics import evolve
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.states import phi_plus
from eplt.dynamics.superop import Generator, ProductTerm


def _env(rate):
    tau = thermal_state(qubit_hamiltonian(1.0), beta=1.0)
    E = eplt_channel(tau, tau)
    clk = PoissonClock(rate=rate, name="clock")
    env = Environment(
        (2, 2), [Reset(clk, 0, E.omega[0]), Reset(clk, 1, E.omega[1])], taus=(tau, tau)
    )
    return env, E


@pytest.mark.parametrize("t_end", [1.0, 710.0, 1e3, 1e6])
def test_independent_resets_match_the_joint_liouvillian_at_long_times(t_end):
    env, E = _env(1.0)
    ind = env.independent()
    assert ind.averaged_generator().is_local  # the factorised path is the one under test
    res = evolve(phi_plus(), ind, [0.0, t_end], e_ops=["negativity"], store_states=True)
    L = ind.averaged_generator().to_qutip()
    want = qutip.vector_to_operator((L * t_end).expm() * qutip.operator_to_vector(phi_plus()))
    # both are exact propagators of a 16x16 Lindbladian: agreement to rounding (1e-10)
    np.testing.assert_allclose(res.states[-1].full(), want.full(), atol=1e-10)
    assert np.all(np.isfinite(res.expect["negativity"]))
    if t_end >= 710:  # long after every reset: the product of the reset states
        prod = qutip.tensor(E.omega[0], E.omega[1]).full()
        np.testing.assert_allclose(res.states[-1].full(), prod, atol=1e-10)


def test_local_parts_are_bounded_and_sum_to_the_generator():
    env, _ = _env(3.0)
    gen = env.independent().averaged_generator()
    parts = gen.local_parts()
    # each local factor generates a trace-preserving (non-growing) map: Tr L_k x = 0
    for L in parts:
        u = np.eye(2).reshape(-1)
        np.testing.assert_allclose(u @ L, 0, atol=1e-12)
    joint = Generator(gen.dims, tuple(ProductTerm(1.0, {k: L}) for k, L in enumerate(parts)))
    np.testing.assert_allclose(joint.to_dense(), gen.to_dense(), atol=1e-12)


@pytest.mark.parametrize("kappa", [1e-12, 1e-6, 1.0, 1e6, 1e12])
def test_spectral_gap_of_a_shared_drive_at_any_scale(kappa):
    # shared Brownian drive, generators sigma_k/sqrt(2) on A and their conjugates on B:
    # fixed points span{I, Phi+}, slowest decay 2 kappa (tests/dynamics/test_propagate)

    pauli = [qutip.sigmax().full() / np.sqrt(2), qutip.sigmay().full() / np.sqrt(2)]
    pauli.append(qutip.sigmaz().full() / np.sqrt(2))
    proc = BrownianNoise(kappa=kappa, channels=3, name="drive")
    env = Environment((2, 2), [Drive(proc, 0, pauli), Drive(proc, 1, pauli, conjugate=True)])
    # dense eigenvalues: relative accuracy ~1e-15 of the largest (a few kappa)
    assert env.spectral_gap() == pytest.approx(2 * kappa, rel=1e-9)


@pytest.mark.parametrize("rate", [1e-12, 1.0, 1e12])
def test_spectral_gap_of_a_reset_clock_at_any_scale(rate):
    env, _ = _env(rate)  # r (omega (x) omega Tr - id): every non-stationary mode decays at r
    assert env.spectral_gap() == pytest.approx(rate, rel=1e-9)


def test_segment_averaging_records_every_time_despite_rounding_of_segment_ends():
    # times k * segment / kappa with kappa = 3: the accumulated segment ends fall a few
    # ulps short of the last time, which the solver used to skip (its value was None)
    from eplt.baths import GaussianPulses
    from eplt.dynamics import SegmentAveraged

    kappa, seg = 3.0, 0.25
    pauli = [qutip.sigmax().full() / np.sqrt(2), qutip.sigmay().full() / np.sqrt(2)]
    pulses = GaussianPulses(segment=seg / kappa, variance=kappa / (seg / kappa), channels=2)
    env = Environment((2, 2), [Drive(pulses, 0, pauli), Drive(pulses, 1, pauli, conjugate=True)])
    kt = np.unique(np.round(np.concatenate([np.linspace(0, 5, 11), seg * np.arange(1, 21)]), 12))
    res = evolve(phi_plus(), env, kt / kappa, e_ops=["negativity"], method=SegmentAveraged(nodes=2))
    N = res.expect["negativity"]
    assert N.dtype == float and N.shape == kt.shape and np.all(np.isfinite(N))

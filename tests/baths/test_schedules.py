"""Per-party schedules (eplt.baths.schedules): offsets, partial correlation, rate errors, jitter."""

import math

import numpy as np
import pytest
import qutip
from eplt.baths import PoissonClock, Reset, qubit_hamiltonian, thermal_bath, thermal_state
from eplt.baths.protocols import eplt_protocol
from eplt.baths.schedules import eplt_schedule, jitter_nodes, per_party_protocol
from eplt.dynamics import evolve, marginal_channels, propagator
from eplt.dynamics.channels import lt_error
from eplt.dynamics.measures import negativity
from eplt.dynamics.states import phi_plus
from eplt.studies.robustness import delay_error, early_stop_error, rate_error_lt

from tests.systems import qubit_populations

H = qubit_hamiltonian(1.0)
KAPPA, EPS = 10.0, 1e-3


def _setup(beta):
    tau = thermal_state(H, beta)
    gamma = 2 * qubit_populations(beta)[1]
    return tau, gamma, math.log(gamma / (2 * EPS)) / (2 * KAPPA)


def _n(proto, t):
    res = evolve(phi_plus(), proto, [0.0, t], e_ops=["negativity"])
    return float(res.expect["negativity"][-1])


def _lt(proto, t, tau):
    return float(lt_error(marginal_channels(proto, t), [tau, tau]))


@pytest.mark.parametrize(("sd", "sc"), [(1.0, 1.0), (1.0, 0.0), (0.0, 0.0), (0.0, 1.0)])
def test_correlation_endpoints_reproduce_eplt_protocol_exactly(sd, sc):
    tau, _, tt = _setup(1.5)
    ref, t_ref = eplt_protocol(
        tau,
        tau,
        H,
        H,
        1.5,
        rate=1.3,
        kappa=KAPPA,
        t_twirl=tt,
        shared_drive=bool(sd),
        shared_clock=bool(sc),
    )
    pr, t = eplt_schedule(
        tau,
        tau,
        H,
        H,
        1.5,
        rate=1.3,
        kappa=KAPPA,
        t_twirl=tt,
        drive_correlation=sd,
        clock_correlation=sc,
    )
    assert t == pytest.approx(t_ref, rel=1e-15)
    for s in (0.5 * t, t, t + 0.7):
        diff = (propagator(ref, s) - propagator(pr, s)).full()
        assert np.abs(diff).max() < 1e-13


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_clock_correlation_negativity_closed_form(beta):
    # N(t*) = max(0, gamma^(2-c) - gamma/2); the marginals (and lt_error = eps) do not move.
    tau, gamma, tt = _setup(beta)
    for c in (0.0, 0.3, 0.55, 0.8, 1.0):
        pr, t = eplt_schedule(
            tau, tau, H, H, beta, rate=1.0, kappa=KAPPA, t_twirl=tt, clock_correlation=c
        )
        assert _n(pr, t) == pytest.approx(max(0.0, gamma ** (2 - c) - gamma / 2), abs=1e-12)
        assert _lt(pr, t, tau) == pytest.approx(EPS, abs=1e-12)


def test_drive_correlation_negativity_closed_form():
    beta = 1.0
    tau, gamma, tt = _setup(beta)
    for c in (0.0, 0.85, 0.92, 0.97, 1.0):
        pr, t = eplt_schedule(
            tau, tau, H, H, beta, rate=1.0, kappa=KAPPA, t_twirl=tt, drive_correlation=c
        )
        s2 = math.exp(-4 * KAPPA * (1 - c) * tt)
        assert _n(pr, t) == pytest.approx(gamma * max(0.0, (3 * s2 - 1) / 4), abs=1e-12)
        assert _lt(pr, t, tau) == pytest.approx(EPS, abs=1e-12)


@pytest.mark.parametrize("x", [0.05, 0.3, 1.0])
def test_late_stop_lt_error_closed_form(x):
    # B's reset runs x/r longer: gamma(1 - e^{-x})/2 + eps e^{-x} (exact twirl: first term)
    beta, r = 2.0, 1.7
    tau, gamma, tt = _setup(beta)
    pr, t = eplt_schedule(tau, tau, H, H, beta, rate=r, kappa=KAPPA, t_twirl=tt, delay=x / r)
    assert t == pytest.approx(tt + math.log(1 / gamma) / r + x / r, rel=1e-14)
    want = gamma * (1 - math.exp(-x)) / 2 + EPS * math.exp(-x)
    assert _lt(pr, t, tau) == pytest.approx(want, abs=1e-12)
    assert delay_error(gamma, EPS, x) == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("x", [0.02, 0.2, 0.6])
def test_early_stop_lt_error_closed_form(x):
    beta, r = 2.0, 1.0
    tau, gamma, tt = _setup(beta)
    pr, t = eplt_schedule(tau, tau, H, H, beta, rate=r, kappa=KAPPA, t_twirl=tt, delay=-x / r)
    assert _lt(pr, t, tau) == pytest.approx(early_stop_error(gamma, EPS, x), abs=1e-12)


@pytest.mark.parametrize("eta", [-0.3, -0.05, 0.1, 0.5])
def test_rate_error_lt_error_closed_form(eta):
    beta = 2.0
    tau, gamma, tt = _setup(beta)
    pr, t = eplt_schedule(tau, tau, H, H, beta, rate=1.0, kappa=KAPPA, t_twirl=tt, rate_error=eta)
    assert _lt(pr, t, tau) == pytest.approx(rate_error_lt(gamma, EPS, eta), abs=1e-12)


def test_per_party_marginals_follow_their_own_schedule():
    # B's marginal channel of the merged protocol equals that of B's schedule alone.
    tau = thermal_state(H, 1.0)
    g = qutip.ket2dm(qutip.basis(2, 0))
    clk = PoissonClock(rate=0.9, name="clock")
    schedA = [(0.4, [Reset(clk, 0, g)]), (math.inf, [thermal_bath(0, H, 1.0, rate=0.5)])]
    schedB = [(0.7, [Reset(clk, 1, g)]), (math.inf, [thermal_bath(1, H, 1.0, rate=0.5)])]
    pr = per_party_protocol((2, 2), [schedA, schedB], taus=(tau, tau))
    assert [d for d, _ in pr.stages_] == pytest.approx([0.4, 0.3, math.inf])
    alone = per_party_protocol(
        (2,), [[(0.7, [Reset(clk, 0, g)]), (math.inf, [thermal_bath(0, H, 1.0, rate=0.5)])]]
    )
    for t in (0.2, 0.55, 1.3):
        mb = marginal_channels(pr, t)[1].full()
        assert np.abs(mb - propagator(alone, t).full()).max() < 1e-13
    # shared on [0, 0.4]: joint state differs from independent clocks there
    ind = per_party_protocol((2, 2), [schedA, schedB], correlation=0.0)
    assert negativity(evolve(phi_plus(), pr, [0, 0.4], store_states=True).states[-1]) > negativity(
        evolve(phi_plus(), ind, [0, 0.4], store_states=True).states[-1]
    )


def test_per_party_protocol_bad_input():
    g = qutip.ket2dm(qutip.basis(2, 0))
    clk = PoissonClock(rate=1.0)
    with pytest.raises(ValueError, match="end at different times"):
        per_party_protocol((2, 2), [[(1.0, [])], [(2.0, [])]])
    with pytest.raises(ValueError, match="a term acts on party 1"):
        per_party_protocol((2, 2), [[(1.0, [Reset(clk, 1, g)])], [(1.0, [])]])
    with pytest.raises(ValueError, match="duration must be > 0"):
        per_party_protocol((2, 2), [[(0.0, [])], [(1.0, [])]])
    with pytest.raises(ValueError, match="one schedule per party"):
        per_party_protocol((2, 2), [[(1.0, [])]])
    tau = thermal_state(H, 1.0)
    with pytest.raises(ValueError, match="delay must lie in"):
        eplt_schedule(tau, tau, H, H, 1.0, rate=1.0, kappa=1.0, t_twirl=0.1, delay=-5.0)
    with pytest.raises(ValueError, match=r"clock_correlation must lie in \[0, 1\]"):
        eplt_schedule(tau, tau, H, H, 1.0, rate=1.0, kappa=1.0, t_twirl=0.1, clock_correlation=2)
    with pytest.raises(ValueError, match=r"rate_error must lie in \(-1, inf\)"):
        eplt_schedule(tau, tau, H, H, 1.0, rate=1.0, kappa=1.0, t_twirl=0.1, rate_error=-1)


def test_jitter_nodes_are_exact_for_piecewise_polynomials():
    x, w = jitter_nodes(0.3, 3)
    assert w.sum() == pytest.approx(1.0, abs=1e-15) and np.all(w > 0)
    # E|x| = s/2 and E x^4 = s^4/5 for x uniform on [-s, s] (kink at 0, degree <= 5 per side)
    assert (w * np.abs(x)).sum() == pytest.approx(0.15, abs=1e-15)
    assert (w * x**4).sum() == pytest.approx(0.3**4 / 5, abs=1e-15)
    assert (w * np.abs(x) ** 5).sum() == pytest.approx(0.3**5 / 6, abs=1e-15)
    with pytest.raises(ValueError, match=r"spread must lie in \[0, inf\)"):
        jitter_nodes(-1.0)

"""Oscillator states on a Fock cutoff (dynamics/bosonic.py) against their closed forms.

Closed forms: coherent ``<n> = |alpha|^2``; thermal ``p_n = (1-q) q^n``; TMSV negativity
``lambda/(1 - lambda)`` and photon number ``lambda^2/(1 - lambda^2)``; thermofield double =
TMSV at ``lambda = sqrt(q)`` with thermal marginals. Tolerance: states built at a cutoff
whose dropped weight is below 1e-15 agree with the untruncated closed forms to round-off
(TOL = 1e-10 covers the eigen-solver's error on 900 x 900 matrices).
"""

import math

import numpy as np
import pytest
import qutip
from eplt.dynamics import bosonic as B
from eplt.dynamics.measures import negativity

TOL = 1e-10


def test_fock_state():
    rho = B.fock_state(3, cutoff=5)
    assert rho.dims == [[5], [5]]
    assert rho.diag()[3] == 1
    with pytest.raises(ValueError, match="n must be an integer in"):
        B.fock_state(5, cutoff=5)
    with pytest.raises(ValueError, match="cutoff must be an integer >= 1"):
        B.fock_state(0, cutoff=0)


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.5 - 0.5j])
def test_coherent_state_moments(alpha):
    N = 40
    rho = B.coherent_state(alpha, cutoff=N)
    a = qutip.destroy(N)
    assert abs(qutip.expect(a.dag() * a, rho) - abs(alpha) ** 2) <= TOL
    assert abs(qutip.expect(a, rho) - alpha) <= TOL
    assert abs(rho.tr() - 1) <= TOL


def test_coherent_state_warns_when_the_cutoff_is_too_small():
    # |alpha|^2 = 4 on 5 levels drops P(Poisson(4) >= 5) = 0.371
    with pytest.warns(B.CutoffWarning, match="increase cutoff"):
        rho = B.coherent_state(2.0, cutoff=5)
    assert abs(rho.tr() - 1) <= TOL  # renormalised all the same


def test_thermal_oscillator_populations():
    beta, N = 0.8, 60
    q = math.exp(-beta)
    tau = B.thermal_oscillator(beta, cutoff=N)
    assert np.abs(tau.diag() - (1 - q) * q ** np.arange(N)).max() <= TOL
    assert abs(qutip.expect(qutip.num(N), tau) - q / (1 - q)) <= 1e-9  # nbar
    with pytest.warns(B.CutoffWarning, match="thermal state"):
        B.thermal_oscillator(beta, cutoff=5)
    with pytest.raises(ValueError, match=r"beta must lie in \(0, inf\]"):
        B.thermal_oscillator(0.0, cutoff=5)
    assert B.thermal_oscillator(math.inf, cutoff=3).diag().tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.5])
def test_tmsv_negativity_and_photon_number(lam):
    # trace distance to the untruncated TMSV is lam^N <= 0.5^30 = 9.3e-10; the negativity
    # (lam/(1-lam) - truncated sum) is then off by < 4 lam^N/(1-lam)^2 < 1e-8
    N = 30
    rho = B.two_mode_squeezed_vacuum(lam, cutoff=N, cutoff_tol=1e-9)
    assert abs(negativity(rho) - B.tmsv_negativity(lam)) <= 1e-8
    n = qutip.tensor(qutip.num(N), qutip.qeye(N))
    assert abs(qutip.expect(n, rho) - lam**2 / (1 - lam**2)) <= 1e-7


def test_tmsv_warns_and_rejects_bad_lambda():
    with pytest.warns(B.CutoffWarning, match="TMSV"):  # 0.7^30 = 2.3e-5 > 1e-8
        B.two_mode_squeezed_vacuum(0.7, cutoff=30)
    for lam in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"lam must lie in \[0, 1\)"):
            B.two_mode_squeezed_vacuum(lam, cutoff=10)


def test_thermofield_double_has_thermal_marginals_and_the_ceiling_negativity():
    beta, N = 2.0, 30
    q = math.exp(-beta)
    tfd = B.thermofield_double_oscillator(beta, cutoff=N)
    tau = B.thermal_oscillator(beta, cutoff=N)
    for k in (0, 1):
        assert np.abs((tfd.ptrace(k) - tau).full()).max() <= TOL
    assert abs(negativity(tfd) - math.sqrt(q) / (1 - math.sqrt(q))) <= 1e-9


def test_edge_population_and_check_cutoff():
    rho = qutip.tensor(B.fock_state(0, cutoff=4), B.fock_state(3, cutoff=4))
    assert B.edge_population(rho) == 1.0
    assert (
        B.edge_population(qutip.tensor(B.fock_state(1, cutoff=4), B.fock_state(0, cutoff=4))) == 0
    )
    assert B.edge_population(B.fock_state(2, cutoff=4), levels=2) == 1.0
    with pytest.raises(ValueError, match="levels"):
        B.edge_population(rho, levels=5)
    assert B.check_cutoff(1e-9, 1e-8)
    with pytest.warns(B.CutoffWarning, match="increase n_max"):
        assert not B.check_cutoff(1e-3, 1e-8, name="n_max")


def test_coherent_state_far_beyond_the_cutoff_is_normalised_not_nan():
    # adversarial audit: alpha = 28 on 5 levels gave NaN (every amplitude underflowed), and
    # alpha = 30 on 40 levels a trace of 1.0105; a NaN error counted as converged
    import warnings

    from eplt.dynamics.bosonic import CutoffWarning, check_cutoff, coherent_state

    for alpha, N in ((28.0, 5), (30.0, 40)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CutoffWarning)
            rho = coherent_state(alpha, cutoff=N)
        assert np.all(np.isfinite(rho.full()))
        assert rho.tr() == pytest.approx(1.0, abs=1e-12)
    with pytest.warns(CutoffWarning):
        assert check_cutoff(float("nan"), 1e-3) is False

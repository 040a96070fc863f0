"""The layer cake and E_gamma on two oscillators (dynamics/layer_cake_fock.py).

Closed forms: ``w_m = m (1-q)^2 q^(m-1)``; ``gamma_d = d q^(d-1) (1-q)/(1-q^d)``;
``N(E_gamma(Phi+_d))`` at ``beta omega = 1`` = 0.2689, 0.1801, 0.1153, 0.0336, 0.0081,
3.4e-4, 1.1e-5 for d = 2, 3, 4, 6, 8, 12, 16 (issue 21); TMSV negativity
``lambda/(1-lambda)``; the thermofield-double ceiling ``sqrt(q)/(1 - sqrt(q))``.
Cross-checks: the block computation against the dense qudit channel and against
``measures.negativity`` on the full matrix. TOL = 1e-12 (exact linear algebra, observed
errors ~1e-16); the block negativity against dense eigenvalues of up to 400 x 400 matrices
is compared at 1e-10.
"""

import math

import numpy as np
import pytest
import qutip
from eplt.dynamics import layer_cake_fock as F
from eplt.dynamics.bosonic import thermal_oscillator, tmsv_coefficients, tmsv_negativity
from eplt.dynamics.channels import NoEPLTError, eplt_channel, layer_cake_channel
from eplt.dynamics.measures import negativity
from eplt.dynamics.states import phi_plus, random_state
from eplt.dynamics.thermofield import any_lt_negativity_bound

TOL = 1e-12


def _random_nn(n, rng):
    c = rng.normal(size=n) + 1j * rng.normal(size=n)
    C = np.outer(c, c.conj())
    P = rng.random((n, n)) * 0.3
    P = (P + P.T) / 2  # symmetric populations keep the state PSD with enough weight
    np.fill_diagonal(P, np.abs(c) ** 2)
    t = P.sum()
    return F.NNState(C / t, P / t)


def test_nnstate_negativity_matches_dense_partial_transpose():
    rng = np.random.default_rng(0)
    for n in (3, 5, 8):
        st = _random_nn(n, rng)
        rho = st.to_qobj()
        assert np.abs(rho.full() - rho.full().conj().T).max() <= TOL
        dense = negativity(qutip.Qobj(rho.full(), dims=rho.dims))
        assert abs(st.negativity() - dense) <= 1e-10
        back = F.NNState.from_qobj(rho)
        assert np.abs(back.coherences - st.coherences).max() <= TOL
        assert np.abs(back.populations - st.populations).max() <= TOL


def test_nnstate_tmsv_negativity_at_large_cutoff():
    for lam in (0.3, 0.9):
        st = F.NNState.from_ket(tmsv_coefficients(lam, cutoff=600))
        assert abs(st.negativity() - tmsv_negativity(lam)) <= 1e-10


def _qudit_equivalent(q, M):
    """Populations of the qudit whose layer weights are w_m/Z, m <= M (Z = sum_{m<=M} w_m)."""
    m = np.arange(1, M + 1)
    w = m * (1 - q) ** 2 * q ** (m - 1)
    Z = w.sum()
    p = np.array([sum(w[k - 1] / k for k in range(i + 1, M + 1)) for i in range(M)]) / Z
    return p, Z


@pytest.mark.parametrize("beta", [1.5, 3.0])
def test_layer_cake_fock_equals_dense_qudit_channel_on_the_kept_branches(beta):
    # The kept branch sum is (1 - dropped) times the qudit layer cake with weights w_m/Z.
    q = math.exp(-beta)
    rng = np.random.default_rng(1)
    M = F.layer_cake_fock(phi_plus(2), beta, tol=1e-3).cutoff
    p, Z = _qudit_equivalent(q, M)
    tau = qutip.Qobj(np.diag(p))
    E = layer_cake_channel(tau, tau)
    for _ in range(3):
        rho = random_state([M, M], seed=rng)
        out = F.layer_cake_fock(rho, beta, tol=1e-3)
        assert out.cutoff == M
        assert abs(out.weight_dropped - (1 - Z)) <= TOL
        assert np.abs(out.state.to_qobj().full() - Z * E(rho).full()).max() <= TOL


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_marginals_and_stated_errors(beta):
    q = math.exp(-beta)
    st = F.NNState.from_ket(tmsv_coefficients(0.6, cutoff=200))
    loose = F.layer_cake_fock(st, beta, tol=1e-3)
    tight = F.layer_cake_fock(st, beta, tol=1e-13)
    for out in (loose, tight):
        pA, pB = out.state.marginal_populations()
        tau = (1 - q) * q ** np.arange(out.cutoff)
        # sum_{m <= M} w_m P_m/m falls short of tau by exactly the dropped weight
        assert np.all(tau - pA >= -TOL)
        assert abs(np.abs(tau - pA).sum() + (1 - tau.sum()) - out.weight_dropped) <= 1e-10
        assert np.abs(pA - pB).max() <= TOL
        assert out.weight_dropped <= out.negativity_error + TOL
    assert loose.negativity_error <= 1e-3 and tight.negativity_error <= 1e-13
    assert abs(loose.negativity - tight.negativity) <= loose.negativity_error + 1e-13


def test_layer_cake_is_cutoff_free_and_below_the_ceiling():
    beta = 1.0
    for lam in (0.3, 0.5, 0.7, 0.9):
        n200 = F.layer_cake_fock(F.NNState.from_ket(tmsv_coefficients(lam, cutoff=200)), beta)
        n400 = F.layer_cake_fock(F.NNState.from_ket(tmsv_coefficients(lam, cutoff=400)), beta)
        assert abs(n200.negativity - n400.negativity) <= 1e-12
        assert 0 < n400.negativity <= F.tfd_negativity(beta)
    # the thermofield double is the ceiling: its negativity, closed form and the any-LT bound
    q = math.exp(-beta)
    tfd = F.NNState.from_ket(tmsv_coefficients(math.sqrt(q), cutoff=400))
    assert abs(tfd.negativity() - F.tfd_negativity(beta)) <= 1e-10
    tau_d = thermal_oscillator(beta, cutoff=60)
    assert abs(any_lt_negativity_bound(tau_d, tau_d) - F.tfd_negativity(beta)) <= 1e-10


def test_egamma_gamma_closed_form_and_collapse():
    q = math.exp(-1.0)
    for d in (2, 3, 5, 9):
        tau_d = thermal_oscillator(1.0, cutoff=d, cutoff_tol=1.0)
        assert abs(F.egamma_gamma(1.0, d) - eplt_channel(tau_d, tau_d).gamma) <= TOL
        assert abs(F.egamma_gamma(1.0, d) - d * q ** (d - 1) * (1 - q) / (1 - q**d)) <= TOL
    # the issue's values, each to half a unit of its last quoted digit
    issue = {
        2: (0.2689, 5e-5),
        3: (0.1801, 5e-5),
        4: (0.1153, 5e-5),
        6: (0.0336, 5e-5),
        8: (0.0081, 5e-5),
        12: (3.4e-4, 5e-6),
        16: (1.1e-5, 5e-7),
    }
    for d, (n, half_unit) in issue.items():
        assert abs(F.egamma_fock(phi_plus(d), 1.0, d).negativity - n) <= half_unit
    assert F.egamma_fock(phi_plus(8), 1.0, 8).thermal_distance == pytest.approx(q**8, abs=TOL)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_egamma_fock_equals_the_dense_channel(d):
    tau_d = thermal_oscillator(1.0, cutoff=d, cutoff_tol=1.0)
    E = eplt_channel(tau_d, tau_d)
    rng = np.random.default_rng(d)
    for rho in (phi_plus(d), random_state([d, d], seed=rng)):
        out = F.egamma_fock(rho, 1.0, d)
        assert np.abs(out.state.to_qobj().full() - E(rho).full()).max() <= TOL
        assert abs(out.negativity - negativity(E(rho))) <= 1e-10


def test_layer_cake_beats_egamma_on_phi_plus_d():
    for d in (3, 6, 12):
        lc = F.layer_cake_fock(phi_plus(d), 1.0).negativity
        eg = F.egamma_fock(phi_plus(d), 1.0, d).negativity
        assert lc > eg


def test_bad_input():
    with pytest.raises(NoEPLTError, match="pure"):
        F.layer_cake_fock(phi_plus(2), math.inf)
    with pytest.raises(ValueError, match=r"beta must lie in \(0, inf\]"):
        F.layer_cake_fock(phi_plus(2), 0.0)
    with pytest.raises(ValueError, match="tol"):
        F.layer_cake_fock(phi_plus(2), 1.0, tol=0.0)
    with pytest.raises(ValueError, match="branches"):
        F.layer_cake_fock(phi_plus(2), 1e-4)
    with pytest.raises(ValueError, match="truncate"):
        F.egamma_fock(phi_plus(4), 1.0, 3)
    with pytest.raises(ValueError, match="dims"):
        F.NNState.from_qobj(qutip.rand_dm(4))


def test_one_any_lt_negativity_ceiling():
    # tfd_negativity, tmsv_negativity and any_lt_negativity_bound share one implementation
    from eplt.dynamics.thermofield import any_lt_negativity_geometric

    for beta in (0.3, 1.0, 4.0):
        r = math.sqrt(math.exp(-beta))
        assert F.tfd_negativity(beta) == any_lt_negativity_geometric(r) == tmsv_negativity(r)
        # against the finite-spectrum bound on a truncated thermal state (error ~ q^cutoff)
        tau_d = thermal_oscillator(beta, cutoff=150)
        assert abs(any_lt_negativity_bound(tau_d, tau_d) - r / (1 - r)) <= 1e-8 * r / (1 - r)
    with pytest.raises(ValueError, match="r must lie in"):
        any_lt_negativity_geometric(1.0)

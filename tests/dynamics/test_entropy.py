"""Entropies against closed forms, and the two relative-entropy methods against each other.

Issue 20: an absolute eigenvalue cutoff of 1e-14 turned ``D(Phi+ || tau (x) tau)`` into
inf for ``beta omega > 16``. Every entropy now goes through one private module
(:mod:`eplt.dynamics._entropy`) using the exact support (a diagonal sigma) or a support
test relative to the spectrum, and :func:`relative_entropy_to_thermal` uses
``log tau = -beta H - log Z`` analytically.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip
from eplt.dynamics import _entropy
from eplt.dynamics import measures as M
from eplt.dynamics.observables import ObservableSet
from eplt.dynamics.states import phi_plus, random_state
from hypothesis import given, settings
from hypothesis import strategies as st

TOL = 1e-12


def _qubit_tau(x: float) -> qutip.Qobj:
    """Thermal qubit at ``beta omega = x`` (populations from the log domain)."""
    p1 = math.exp(-x - math.log1p(math.exp(-x)))
    return qutip.Qobj(np.diag([1 - p1, p1]).astype(complex))


def _h_pair(omega: float = 1.0) -> qutip.Qobj:
    h = qutip.Qobj(np.diag([0.0, omega]))
    return qutip.tensor(h, qutip.qeye(2)) + qutip.tensor(qutip.qeye(2), h)


def _closed(x: float) -> float:
    """``D(Phi+ || tau (x) tau) = beta omega + 2 log(1 + exp(-beta omega))``."""
    return x + 2 * math.log1p(math.exp(-x))


@pytest.mark.parametrize("x", [0.1, 1.0, 16.0, 20.0, 32.9, 50.0, 100.0, 300.0])
def test_phi_plus_against_thermal_product_is_finite_and_exact(x):
    # failed on the cutoff code for every x above ~16 (returned inf)
    tau = _qubit_tau(x)
    got = M.relative_entropy(phi_plus(), qutip.tensor(tau, tau))
    assert got == pytest.approx(_closed(x), rel=1e-13, abs=TOL)
    analytic = M.relative_entropy_to_thermal(phi_plus(), _h_pair(), x)
    assert analytic == pytest.approx(_closed(x), rel=1e-13, abs=TOL)


@pytest.mark.parametrize("x", [1e3, 1e6, 1e12])
def test_analytic_log_of_gibbs_state_holds_where_populations_underflow(x):
    # tau's excited populations are exactly 0.0 in double precision here
    assert M.relative_entropy_to_thermal(phi_plus(), _h_pair(), x) == pytest.approx(x, rel=1e-15)


def test_zero_and_infinite_temperature_limits():
    H = _h_pair()
    assert M.relative_entropy_to_thermal(phi_plus(), H, 0.0) == pytest.approx(math.log(4), abs=TOL)
    ground = qutip.ket2dm(qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 0)))
    assert M.relative_entropy_to_thermal(ground, H, math.inf) == pytest.approx(0.0, abs=TOL)
    assert M.relative_entropy_to_thermal(phi_plus(), H, math.inf) == math.inf


def test_support_not_contained_is_infinite_and_contained_is_finite():
    zero, one = qutip.basis(2, 0), qutip.basis(2, 1)
    assert M.relative_entropy(qutip.ket2dm(one), qutip.ket2dm(zero)) == math.inf
    # a tiny but positive population is in the support: finite, -log p
    p = 1e-200
    sigma = qutip.Qobj(np.diag([1 - p, p]).astype(complex))
    assert M.relative_entropy(qutip.ket2dm(one), sigma) == pytest.approx(-math.log(p), rel=1e-14)


def test_rotated_states_agree_with_the_analytic_log_where_resolvable():
    # a non-diagonal sigma takes the eigh path: same value as the analytic log of tau
    rng = np.random.default_rng(3)
    U = qutip.Qobj(np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))[0])
    U.dims = [[2, 2], [2, 2]]
    H = U * _h_pair() * U.dag()
    for x in (0.5, 3.0, 8.0):
        tau = (-x * H).expm()
        tau = tau / tau.tr()
        rho = U * phi_plus() * U.dag()
        assert M.relative_entropy(rho, tau) == pytest.approx(_closed(x), rel=1e-9)
        assert M.relative_entropy_to_thermal(rho, H, x) == pytest.approx(_closed(x), rel=1e-12)


def test_base_two_and_entropy_closed_forms():
    for d in (2, 3, 5):
        mixed = qutip.qeye(d) / d
        assert M.entropy(mixed) == pytest.approx(math.log(d), abs=TOL)
        assert M.entropy(mixed, base=2) == pytest.approx(math.log2(d), abs=TOL)
        assert M.entropy(phi_plus(d)) == pytest.approx(0.0, abs=TOL)
        assert M.mutual_information(phi_plus(d), base=2) == pytest.approx(2 * math.log2(d))
    tau = _qubit_tau(1.0)
    d_nats = M.relative_entropy(phi_plus(), qutip.tensor(tau, tau))
    assert M.relative_entropy(phi_plus(), qutip.tensor(tau, tau), base=2) == pytest.approx(
        d_nats / math.log(2), rel=1e-14
    )


def test_time_series_observable_uses_the_same_implementation():
    tau = _qubit_tau(25.0)
    rho = qutip.tensor(qutip.ket2dm(qutip.basis(2, 1)), qutip.ket2dm(qutip.basis(2, 0)))
    obs = ObservableSet(["marginal_relative_entropy"], [2, 2], taus=[tau, tau])
    got = obs.evaluate(rho.full())["marginal_relative_entropy"]
    want = [M.relative_entropy(rho.ptrace(k), tau) for k in (0, 1)]
    assert got == pytest.approx(want, rel=1e-14)
    assert got[0] == pytest.approx(25.0 + math.log1p(math.exp(-25.0)), rel=1e-14)


def test_relative_entropy_refuses_non_states():
    with pytest.raises(TypeError, match="rho"):
        M.relative_entropy(np.eye(2) / 2, qutip.qeye(2) / 2)
    with pytest.raises(ValueError, match="sigma"):
        M.relative_entropy(qutip.qeye(2) / 2, qutip.qeye(2))
    with pytest.raises(ValueError, match="beta"):
        M.relative_entropy_to_thermal(qutip.qeye(2) / 2, qutip.sigmaz(), -1.0)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**32 - 1), rank=st.integers(1, 4), x=st.floats(0.0, 40.0))
def test_randomized_invariants(seed, rank, x):
    """Klein (>= 0, zero on equal states), unitary invariance, additivity on products,
    and agreement of the two methods on diagonal Gibbs states, for seeded random states."""
    rho = random_state([2, 2], seed=seed, rank=rank)
    sigma = random_state([2, 2], seed=seed + 1)
    d = M.relative_entropy(rho, sigma)
    assert d >= 0 and math.isfinite(d)
    assert M.relative_entropy(sigma, sigma) == pytest.approx(0.0, abs=1e-10)
    U = qutip.rand_unitary(4, seed=seed % 1000)
    U.dims = [[2, 2], [2, 2]]
    assert M.relative_entropy(U * rho * U.dag(), U * sigma * U.dag()) == pytest.approx(
        d, rel=1e-7, abs=1e-9
    )
    a, b = rho.ptrace(0), sigma.ptrace(0)
    c, e = rho.ptrace(1), sigma.ptrace(1)
    joint = M.relative_entropy(qutip.tensor(a, c), qutip.tensor(b, e))
    assert joint == pytest.approx(
        M.relative_entropy(a, b) + M.relative_entropy(c, e), rel=1e-8, abs=1e-10
    )
    tau = _qubit_tau(x)
    tt = qutip.tensor(tau, tau)
    assert M.relative_entropy(rho, tt) == pytest.approx(
        M.relative_entropy_to_thermal(rho, _h_pair(), x), rel=1e-10, abs=1e-10
    )
    assert 0 <= M.entropy(rho) <= math.log(4) + TOL


def test_private_module_is_the_one_implementation():
    a = random_state([3], seed=1).full()
    assert _entropy.entropy_arr(a) == M.entropy(qutip.Qobj(a))

"""The layer-cake protocol against its closed forms (dynamics/layer_cake.py).

Closed forms (``Phi+_d`` in the eigenbasis, populations sorted decreasingly, ``p_d = 0``):
``w_m = m (p_(m-1) - p_m)``; ``sum_m w_m = 1``; ``sum_m w_m P_m/m = tau``;
``<Phi+_d|E(Phi+_d)|Phi+_d> = sum_m w_m [m^2/d^2 + (d-m)/(d^2 m)]``;
``N(E(Phi+_d)) = sum_{j=1}^{d-1} j max(0, sum_{m>j} w_m [1/d - (d-m)/(d m^2)])``.

Tolerances: every quantity is exact linear algebra on matrices of size <= 7^4, observed
errors are ~1e-15; TOL = 1e-12 leaves a margin of 1e3 while a wrong weight, branch or
party order changes results by >= 1e-3.
"""

import numpy as np
import pytest
import qutip
from eplt.baths.thermal import thermal_state
from eplt.dynamics import channels as C
from eplt.dynamics.measures import negativity, phi_plus_overlap
from eplt.dynamics.states import phi_plus, random_state

TOL = 1e-12


def _weights(p):
    p = np.sort(p)[::-1]
    return np.array([(m + 1) * (p[m] - (p[m + 1] if m + 1 < len(p) else 0)) for m in range(len(p))])


def overlap_closed_form(p):
    d = len(p)
    w = _weights(p)
    return sum(w[m - 1] * (m * m / d**2 + (d - m) / (d * d * m)) for m in range(1, d + 1))


def negativity_closed_form(p):
    d = len(p)
    w = _weights(p)
    return sum(
        j * max(0.0, sum(w[m - 1] * (1 / d - (d - m) / (d * m * m)) for m in range(j + 1, d + 1)))
        for j in range(1, d)
    )


def _tau(d, beta, rng=None):
    E = np.arange(d, dtype=float) if rng is None else np.sort(rng.uniform(0, 3, d))
    return thermal_state(E, beta)


def _apply(S, rho):
    return qutip.vector_to_operator(S @ qutip.operator_to_vector(rho))


def _maxabs(a, b):
    return float(np.abs(a.full() - b.full()).max())


# -------------------------------------------------------------------- weights and tau


@pytest.mark.parametrize("d", [2, 3, 5, 8])
def test_weights_sum_to_one_and_telescope_to_tau(d):
    rng = np.random.default_rng(d)
    p = rng.dirichlet(np.ones(d))
    w = C.layer_cake_weights(p)
    assert np.all(w >= 0)
    assert abs(w.sum() - 1) <= TOL
    ps = np.sort(p)[::-1]
    layered = sum(w[m - 1] * np.r_[np.ones(m), np.zeros(d - m)] / m for m in range(1, d + 1))
    assert np.abs(layered - ps).max() <= TOL


def test_oscillator_weights_closed_form():
    # H = omega a^dag a truncated far away: w_m = m (1-q)^2 q^(m-1), independent of the cutoff
    q = np.exp(-1.0)
    p = (1 - q) * q ** np.arange(200)
    w = C.layer_cake_weights(p)
    m = np.arange(1, 30)
    assert np.abs(w[:29] - m * (1 - q) ** 2 * q ** (m - 1)).max() <= TOL


# ------------------------------------------------------------ LT on every input


@pytest.mark.parametrize("d", [2, 3, 4])
def test_lt_error_zero_over_all_inputs(d):
    rng = np.random.default_rng(10 + d)
    tau = _tau(d, 0.7, rng)
    E = C.layer_cake_channel(tau, tau)
    S = E.superoperator()
    assert S.superrep == "super"
    assert float(C.lt_error(S, tau)) <= TOL
    assert C.is_locally_thermalizing(S, tau, atol=TOL)
    assert C.is_cptp(S, atol=1e-10)


def test_marginals_equal_tau_for_random_inputs_and_rotated_frames():
    # Non-diagonal taus with equal spectra (different eigenbases for A and B).
    rng = np.random.default_rng(3)
    d = 4
    p = rng.dirichlet(np.ones(d))
    UA = qutip.rand_unitary(d, seed=1).full()
    UB = qutip.rand_unitary(d, seed=2).full()
    tA = qutip.Qobj(UA @ np.diag(p) @ UA.conj().T)
    tB = qutip.Qobj(UB @ np.diag(p[::-1]) @ UB.conj().T)
    E = C.layer_cake_channel(tA, tB)
    for k in range(6):
        rho = random_state([d, d], rank=1 + k % 3, seed=rng)
        out = E(rho)
        assert _maxabs(out.ptrace(0), tA) <= TOL
        assert _maxabs(out.ptrace(1), tB) <= TOL
        assert abs(out.tr() - 1) <= TOL
        assert np.linalg.eigvalsh(out.full())[0] >= -TOL
    assert float(C.lt_error(E.superoperator(), [tA, tB])) <= TOL


def test_call_agrees_with_superoperator():
    rng = np.random.default_rng(4)
    tau = _tau(3, 1.3, rng)
    E = C.layer_cake_channel(tau, tau)
    S = E.superoperator()
    for _ in range(3):
        rho = random_state([3, 3], seed=rng)
        assert _maxabs(E(rho), _apply(S, rho)) <= TOL


# ---------------------------------------------------------------- closed forms


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("beta", [0.3, 1.0, 2.5])
def test_phi_plus_overlap_and_negativity_closed_forms(d, beta):
    tau = _tau(d, beta)
    p = tau.diag().real
    out = C.layer_cake_channel(tau, tau)(phi_plus(d))
    assert abs(phi_plus_overlap(out) - overlap_closed_form(p)) <= TOL
    assert abs(negativity(out) - negativity_closed_form(p)) <= TOL


def test_closed_forms_with_random_spectra():
    rng = np.random.default_rng(5)
    for d in (3, 4, 5):
        p = rng.dirichlet(np.ones(d) * 0.5)
        tau = qutip.Qobj(np.diag(p))
        out = C.layer_cake_channel(tau, tau)(phi_plus(d))
        # the closed forms are written in the sorted eigenbasis; diag(p) sorted is a
        # relabelling of levels that keeps Phi+_d
        assert abs(phi_plus_overlap(out) - overlap_closed_form(p)) <= TOL
        assert abs(negativity(out) - negativity_closed_form(p)) <= TOL


@pytest.mark.parametrize("beta", [0.2, 1.0, 3.0])
def test_qubits_equal_egamma(beta):
    tau = _tau(2, beta)
    S_lc = C.layer_cake_channel(tau, tau).superoperator()
    S_eg = C.eplt_channel(tau, tau).superoperator()
    assert float(np.abs((S_lc - S_eg).full()).max()) <= TOL
    assert abs(C.layer_cake_channel(tau, tau).weights[1] - C.eplt_channel(tau, tau).gamma) <= TOL


@pytest.mark.parametrize("d", [3, 4, 5, 6])
def test_keeps_more_entanglement_than_egamma(d):
    tau = _tau(d, 1.0)
    n_lc = negativity(C.layer_cake_channel(tau, tau)(phi_plus(d)))
    n_eg = negativity(C.eplt_channel(tau, tau)(phi_plus(d)))
    assert n_lc > n_eg + 1e-3


# ------------------------------------------------------------------ LOSR structure


def test_branches_with_clifford_designs_reproduce_the_channel_exactly():
    # d = 3: layers m = 1, 2, 3 are twirled exactly by the (prime) Clifford groups
    # embedded on the first m eigenvectors; sum_m w_m/|C_m| sum_U (U K_m) (x) (U* K_m).
    rng = np.random.default_rng(6)
    d = 3
    tau = _tau(d, 0.8, rng)
    E = C.layer_cake_channel(tau, tau)
    br = E.branches()
    assert abs(sum(b.weight for b in br) - 1) <= TOL
    total = 0
    for b in br:
        VA, VB = b.support
        group = [np.eye(1)] if b.m == 1 else C.clifford_group(b.m)
        for U in group:
            Ue = np.eye(d, dtype=complex)
            Ue[: b.m, : b.m] = U
            UA = VA @ Ue @ VA.conj().T
            UB = VB @ Ue.conj() @ VB.conj().T
            kA = C.LocalChannel(tuple(UA @ k for k in b.keep[0].kraus))
            kB = C.LocalChannel(tuple(UB @ k for k in b.keep[1].kraus))
            total = total + b.weight / len(group) * C.product_channel(kA, kB).full()
    assert np.abs(total - E.superoperator().full()).max() <= TOL


def test_sampled_branches_average_to_the_channel():
    # 4000 Haar samples: every matrix element of the sampled average is a mean of bounded
    # variables (|entries| <= 1), so 6/sqrt(4000) ~ 0.095 is a >= 6-standard-error bound.
    d = 3
    tau = _tau(d, 1.0)
    E = C.layer_cake_channel(tau, tau)
    rho = phi_plus(d).full()
    rng = np.random.default_rng(7)
    acc = np.zeros_like(rho)
    n = 4000
    for _ in range(n):
        a, b = E.sample_branch(rng)
        for ka in a.kraus:
            for kb in b.kraus:
                K = np.kron(ka, kb)
                acc += K @ rho @ K.conj().T
    assert np.abs(acc / n - E(phi_plus(d)).full()).max() <= 6 / np.sqrt(n)


# --------------------------------------------------------------------- bad input


def test_unequal_spectra_refused():
    tA = qutip.Qobj(np.diag([0.6, 0.3, 0.1]))
    tB = qutip.Qobj(np.diag([0.5, 0.3, 0.2]))
    with pytest.raises(ValueError, match="equal spectra"):
        C.layer_cake_channel(tA, tB)
    with pytest.raises(ValueError, match="same dimension"):
        C.layer_cake_channel(tA, qutip.Qobj(np.diag([0.5, 0.5])))


def test_pure_tau_raises_no_eplt():
    tau = qutip.Qobj(np.diag([1.0, 0.0, 0.0]))
    with pytest.raises(C.NoEPLTError, match="pure"):
        C.layer_cake_channel(tau, tau)


def test_rank_deficient_mixed_tau_is_still_an_eplt():
    # tau = diag(1/2, 1/2, 0): w_2 = 1, the U(2) twirl on the support keeps Phi+_2
    tau = qutip.Qobj(np.diag([0.5, 0.5, 0.0]))
    E = C.layer_cake_channel(tau, tau)
    assert float(C.lt_error(E.superoperator(), tau)) <= TOL
    assert negativity(E(phi_plus(3))) > 0.1


def test_bad_types_and_sizes():
    tau = qutip.Qobj(np.diag([0.7, 0.3]))
    with pytest.raises(TypeError, match="tau_A"):
        C.layer_cake_channel(np.diag([0.7, 0.3]), tau)
    E = C.layer_cake_channel(tau, tau)
    with pytest.raises(ValueError, match="dims"):
        E(phi_plus(3))
    big = qutip.Qobj(np.diag(np.full(8, 1 / 8)))
    with pytest.raises(ValueError, match="d <= 7"):
        C.layer_cake_channel(big, big).superoperator()
    with pytest.raises(ValueError, match="populations"):
        C.layer_cake_weights([0.5, -0.1])


def test_layer_cake_weights_refuse_what_is_not_a_population_vector():
    # adversarial audit: [0.5, 0.5, 0.5] gave weights summing to 1.5; a 2-D input was flattened
    from eplt.dynamics.layer_cake import layer_cake_weights

    with pytest.raises(ValueError, match="sum to 1"):
        layer_cake_weights([0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="1-D"):
        layer_cake_weights([[0.5, 0.5]])

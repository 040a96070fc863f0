"""SDP bounds over locally thermalizing channels (eplt.dynamics.bounds) and their certificates.

Tolerances. Clarabel stops at relative primal/dual/gap accuracy 1e-8; the exact repairs
(projection onto the LT space, mixing with I (x) tau (x) tau until PSD/PPT, shifting the
dual by its largest violation) cost at most a few times that. Observed gaps are 1e-9 to
1e-7; so values are compared with closed forms to SDP_TOL = 1e-6 (the default ``tol`` of
sdp_bound, which raises above it), and a verified dual may undercut the verified primal
only by round-off (GAP_FLOOR = 1e-9). Structural checks on the returned channels (CPTP,
LT, PPT) use 1e-8: the repairs make them exact up to ~1e-14.
"""

import numpy as np
import pytest
import qutip
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics import bounds as B
from eplt.dynamics.channels import choi_matrix, eplt_channel, is_cptp, is_locally_thermalizing
from eplt.dynamics.measures import negativity, phi_plus_overlap
from eplt.dynamics.states import phi_plus, random_state

from tests.systems import qubit_populations

SDP_TOL = 1e-6
GAP_FLOOR = 1e-9
STRUCT_TOL = 1e-8


def _tau(beta, omega=1.0):
    return thermal_state(qubit_hamiltonian(omega), beta)


def _is_ppt_choi(S, dA, dB, atol=STRUCT_TOL):
    from eplt.dynamics._symmetry import partial_transpose_B

    J = choi_matrix(S)
    return np.linalg.eigvalsh(partial_transpose_B(J, dA, dB))[0] >= -atol


def _check_channel(res, taus, dA=2, dB=2, ppt=None):
    S = res.channel
    assert S.superrep == "super"
    assert is_cptp(S, atol=STRUCT_TOL)
    assert is_locally_thermalizing(S, taus, atol=STRUCT_TOL)
    if ppt if ppt is not None else res.relaxation == "ppt":
        assert _is_ppt_choi(S, dA, dB)
    # qutip agrees that the Choi matrix is ours (input first)
    assert np.allclose(qutip.to_choi(S).full(), choi_matrix(S), atol=1e-12)
    assert GAP_FLOOR * -1 <= res.gap <= res.tol


# ------------------------------------------------------- the four planning values


def test_any_lt_overlap_is_the_thermofield_double_value():
    tau = _tau(1.0)
    p0, p1 = qubit_populations(1.0)
    expected = (np.sqrt(p0) + np.sqrt(p1)) ** 2 / 2
    assert expected == pytest.approx(0.943409, abs=5e-7)
    res = B.sdp_bound(tau, tau, relaxation="none")
    assert res.value == pytest.approx(expected, abs=SDP_TOL)
    assert res.dual_value >= expected - GAP_FLOOR  # the certificate bounds the true max
    assert B.any_lt_overlap_bound(tau, tau) == pytest.approx(expected, abs=1e-12)
    _check_channel(res, [tau, tau])


def test_ppt_overlap_equals_egamma_for_equal_qubits():
    tau = _tau(1.0)
    gamma = 2 * qubit_populations(1.0)[1]
    res = B.sdp_bound(tau, tau)  # relaxation="ppt"
    assert res.value == pytest.approx((1 + gamma) / 2, abs=SDP_TOL)
    assert res.value == pytest.approx(0.768941, abs=5e-7 + SDP_TOL)
    E = eplt_channel(tau, tau)
    assert phi_plus_overlap(E(phi_plus())) == pytest.approx((1 + gamma) / 2, abs=1e-12)
    _check_channel(res, [tau, tau])


def test_unequal_thermal_states_ppt_bound_above_egamma():
    tA, tB = _tau(1.0, 1.0), _tau(1.0, 0.5)
    res = B.sdp_bound(tA, tB)
    assert res.value == pytest.approx(0.806633, abs=5e-7 + SDP_TOL)
    eg = phi_plus_overlap(eplt_channel(tA, tB)(phi_plus()))
    assert eg == pytest.approx(0.714642, abs=5e-7)
    assert res.value > eg + 0.05
    _check_channel(res, [tA, tB])
    # the closed form is only an upper bound for unequal spectra
    anylt = B.sdp_bound(tA, tB, relaxation="none")
    assert res.value <= anylt.dual_value + GAP_FLOOR
    assert anylt.value <= B.any_lt_overlap_bound(tA, tB) + SDP_TOL


def test_negativity_closed_form_bound_and_thermofield_double():
    tau = _tau(1.0)
    p0, p1 = qubit_populations(1.0)
    assert B.any_lt_negativity_bound(tau, tau) == pytest.approx(np.sqrt(p0 * p1), abs=1e-12)
    tfd = B.thermofield_double(tau)
    assert negativity(tfd) == pytest.approx(np.sqrt(p0 * p1), abs=1e-12)
    assert (tfd.ptrace(0) - tau).norm() < 1e-12 and (tfd.ptrace(1) - tau).norm() < 1e-12
    assert phi_plus_overlap(tfd) == pytest.approx(B.any_lt_overlap_bound(tau, tau), abs=1e-12)
    # qutrit: ((sum sqrt p)^2 - 1)/2
    t3 = thermal_state(np.array([0.0, 1.0, 2.5]), 1.0)
    p = np.linalg.eigvalsh(t3.full())
    bound = (np.sqrt(p).sum() ** 2 - 1) / 2
    assert B.any_lt_negativity_bound(t3, t3) == pytest.approx(bound, abs=1e-12)
    assert negativity(B.thermofield_double(t3)) == pytest.approx(bound, abs=1e-12)


# ------------------------------------------------------- certificates and reduction


@pytest.mark.parametrize("relaxation", ["ppt", "none"])
@pytest.mark.parametrize("symmetry", ["full", "input", "output", "none"])
def test_every_reduction_gives_the_same_certified_value(relaxation, symmetry):
    tau = _tau(0.7)
    ref = B.sdp_bound(tau, tau, relaxation=relaxation, symmetry="full")
    res = B.sdp_bound(tau, tau, relaxation=relaxation, symmetry=symmetry)
    assert res.symmetry == symmetry
    assert res.value == pytest.approx(ref.value, abs=SDP_TOL)
    assert res.dual_value >= ref.value - GAP_FLOOR
    _check_channel(res, [tau, tau])


def test_random_witness_beats_every_known_lt_channel():
    """For any witness the SDP optimum is at least the value of every feasible channel
    (E_gamma and the product replacement are PPT and LT) and at most its dual."""
    tau = _tau(0.8)
    rng = np.random.default_rng(3)
    for _ in range(2):
        G = rng.standard_normal((16, 16)) + 1j * rng.standard_normal((16, 16))
        W = (G + G.conj().T) / 2
        res = B.sdp_bound(tau, tau, witness=W)
        assert res.symmetry == "none"
        known = [
            choi_matrix(eplt_channel(tau, tau).superoperator()),
            np.kron(np.eye(4), np.kron(tau.full(), tau.full())),
        ]
        for J in known:
            assert res.value >= np.real(np.trace(J @ W)) - SDP_TOL
        assert res.value == pytest.approx(
            np.real(np.trace(choi_matrix(res.channel) @ W)), abs=1e-12
        )
        _check_channel(res, [tau, tau])


def test_symmetry_is_detected_from_the_witness():
    tau = _tau(1.0)
    rng = np.random.default_rng(0)
    assert B.sdp_bound(tau, tau).symmetry == "full"
    sigma = random_state([2, 2], seed=rng).full()
    W = np.kron(phi_plus().full().T, sigma)  # input Phi+: input symmetry only
    assert B.sdp_bound(tau, tau, witness=W).symmetry == "input"
    with pytest.raises(ValueError, match="does not hold"):
        B.sdp_bound(tau, tau, witness=W, symmetry="full")


def test_qutrit_sdp_reduced_and_cross_checked():
    t3 = thermal_state(np.array([0.0, 1.0, 2.5]), 1.0)
    full = B.sdp_bound(t3, t3)
    assert full.symmetry == "full" and max(full.block_sizes) <= 3
    inp = B.sdp_bound(t3, t3, symmetry="input")
    assert full.value == pytest.approx(inp.value, abs=SDP_TOL)
    assert full.value >= phi_plus_overlap(eplt_channel(t3, t3)(phi_plus(3))) - GAP_FLOOR
    _check_channel(full, [t3, t3], 3, 3)
    G = np.random.default_rng(0).standard_normal((81, 81))
    with pytest.raises(ValueError, match="PSD block"):  # refused before any work
        B.sdp_bound(t3, t3, witness=G + G.T)


def test_unequal_dimensions_with_user_functional():
    tA = _tau(1.0)
    tB = thermal_state(np.array([0.0, 1.0, 2.0]), 1.0)
    rho = random_state([2, 3], seed=1)
    target = random_state([2, 3], seed=2)
    # relaxation "none": one 36 x 36 block (~6 s); with PPT it is two (~23 s)
    res = B.sdp_bound(tA, tB, rho=rho, target=target, relaxation="none")
    assert res.symmetry == "none"
    _check_channel(res, [tA, tB], 2, 3)
    out = qutip.vector_to_operator(res.channel @ qutip.operator_to_vector(rho))
    assert res.value == pytest.approx(qutip.expect(target, out), abs=1e-10)
    # replacement by tau_A (x) tau_B is feasible
    assert res.value >= qutip.expect(target, qutip.tensor(tA, tB)) - SDP_TOL


def test_gap_above_tolerance_raises():
    tau = _tau(1.0)
    with pytest.raises(B.BoundGapError, match="gap"):
        B.sdp_bound(tau, tau, tol=1e-15)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"relaxation": "sep"}, "relaxation"),
        ({"symmetry": "some"}, "symmetry"),
        ({"tol": 0}, "tol"),
        ({"witness": np.ones((4, 4))}, "witness must be 16 x 16"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    tau = _tau(1.0)
    with pytest.raises(ValueError, match=match):
        B.sdp_bound(tau, tau, **kwargs)


def test_choi_superoperator_round_trip():
    S = eplt_channel(_tau(1.0), _tau(2.0)).superoperator()
    J = choi_matrix(S)
    assert np.allclose(B.choi_to_superoperator(J, 2, 2).full(), S.full(), atol=1e-14)


@pytest.mark.parametrize("relaxation", ["ppt", "none"])
def test_gap_tolerance_is_relative_to_the_objective_scale(relaxation):
    # random Hermitian witnesses of norm ~1000: the solver's relative accuracy gives absolute
    # gaps above 1e-6 (BoundGapError before the tolerance was made relative)
    rng = np.random.default_rng(7)
    tA = qutip.Qobj(np.diag([0.8, 0.2]))
    tB = qutip.Qobj(np.diag([0.65, 0.35]))
    for _ in range(3):
        X = rng.normal(size=(16, 16)) + 1j * rng.normal(size=(16, 16))
        b = B.sdp_bound(tA, tB, witness=50 * (X + X.conj().T), relaxation=relaxation)
        assert b.value <= b.dual_value <= b.value + 1e-6 * max(1.0, abs(b.value))


def test_any_lt_ceiling_for_unequal_spectra():
    """(sum_i sqrt(min(a_i, b_i)))^2 / d bounds the any-LT SDP from above, is tighter than
    min_X (Tr sqrt tau_X)^2 / d for unequal spectra, and equals it for equal ones."""
    tA, tB = _tau(1.0, 1.0), _tau(1.0, 0.5)
    a, b = np.diag(tA.full()).real, np.diag(tB.full()).real
    ceil = B.any_lt_overlap_ceiling(tA, tB)
    assert ceil == pytest.approx(np.sqrt(np.minimum(a, b)).sum() ** 2 / 2, abs=1e-12)
    assert ceil < B.any_lt_overlap_bound(tA, tB) - 0.01
    anylt = B.sdp_bound(tA, tB, relaxation="none")
    assert anylt.value <= ceil + SDP_TOL
    assert anylt.dual_value >= anylt.value - GAP_FLOOR
    tau = _tau(1.0)
    assert B.any_lt_overlap_ceiling(tau, tau) == pytest.approx(
        B.any_lt_overlap_bound(tau, tau), abs=1e-12
    )

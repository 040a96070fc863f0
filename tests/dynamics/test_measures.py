"""Measures against closed forms and against qutip where both apply."""

import numpy as np
import pytest
import qutip
from eplt.dynamics import measures as M
from eplt.dynamics.states import (
    bell_state,
    ghz_state,
    isotropic_state,
    noisy_ghz_state,
    phi_plus,
    random_state,
    werner_state,
)

TOL = 1e-12  # exact linear algebra on <= 64x64 matrices: round-off only


@pytest.mark.parametrize("which", ["00", "01", "10", "11"])
def test_bell_negativity_is_half(which):
    assert M.negativity(bell_state(which)) == pytest.approx(0.5, abs=TOL)
    assert M.log_negativity(bell_state(which)) == pytest.approx(1.0, abs=TOL)


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_maximally_entangled_qudits(d):
    assert M.negativity(phi_plus(d)) == pytest.approx((d - 1) / 2, abs=TOL)
    assert M.log_negativity(phi_plus(d)) == pytest.approx(np.log2(d), abs=TOL)


@pytest.mark.parametrize("d", [2, 3])
def test_isotropic_negativity_closed_form(d):
    # N(rho_F) = max(0, (d F - 1)/2) for the isotropic family.
    for F in np.linspace(0, 1, 11):
        expected = max(0.0, (d * F - 1) / 2)
        assert M.negativity(isotropic_state(F, d)) == pytest.approx(expected, abs=TOL)
        assert M.is_ppt(isotropic_state(F, d)) == (d * F <= 1 + 1e-12)


def test_separable_states_have_zero_negativity():
    rng = np.random.default_rng(7)
    for _ in range(20):
        a = random_state([2], seed=rng)
        b = random_state([3], seed=rng)
        assert M.negativity(qutip.tensor(a, b)) == pytest.approx(0.0, abs=TOL)


def test_agrees_with_qutip_negativity():
    rng = np.random.default_rng(1)
    for _ in range(25):
        rho = random_state([2, 3], seed=rng)
        assert M.negativity(rho) == pytest.approx(qutip.negativity(rho, 1), abs=1e-10)
        assert M.negativity(rho, 0) == pytest.approx(qutip.negativity(rho, 0), abs=1e-10)


def test_multipartite_bipartitions():
    rho = ghz_state(3)
    # Every bipartition of a GHZ state is a maximally entangled pair of qubits.
    for subsys in [0, 1, 2, [0, 1], [1, 2]]:
        assert M.negativity(rho, subsys) == pytest.approx(0.5, abs=TOL)
    # Phi+ on parties (0, 2) with party 1 in |0>: cut {1} is unentangled.
    psi = (
        qutip.tensor(qutip.basis(2, 0), qutip.basis(3, 0), qutip.basis(2, 0))
        + qutip.tensor(qutip.basis(2, 1), qutip.basis(3, 0), qutip.basis(2, 1))
    ).unit()
    assert M.negativity(psi, 1) == pytest.approx(0.0, abs=TOL)
    assert M.negativity(psi, 2) == pytest.approx(0.5, abs=TOL)
    with pytest.raises(ValueError, match="subsys"):
        M.negativity(rho, 3)


def test_werner_threshold():
    assert M.is_ppt(werner_state(0.5))
    assert not M.is_ppt(werner_state(0.5 + 1e-6))


def test_partial_transpose_matches_qutip():
    rho = random_state([2, 3, 2], seed=3)
    for mask, subsys in [([0, 1, 0], [1]), ([1, 0, 1], [0, 2])]:
        ours = M.partial_transpose(rho, subsys).full()
        assert np.allclose(ours, qutip.partial_transpose(rho, mask).full(), atol=TOL)


def _fef_bruteforce(rho, rng, n=4000):
    """Max over random local unitaries of <Phi+|(U x I)^† rho (U x I)|Phi+>, refined."""
    from scipy.optimize import minimize

    a = rho.full()

    def f(x):
        h = np.array([[x[0], x[1] + 1j * x[2]], [x[1] - 1j * x[2], x[3]]])
        U = _expm_herm(h)
        v = U.reshape(-1) / np.sqrt(2)
        return -np.real(v.conj() @ a @ v)

    best = min((f(x) for x in rng.normal(size=(n, 4)) * 2), default=0)
    for x0 in rng.normal(size=(8, 4)):
        best = min(
            best,
            minimize(
                f,
                x0,
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000},
            ).fun,
        )
    return -best


def _expm_herm(h):
    w, v = np.linalg.eigh(h)
    return (v * np.exp(1j * w)) @ v.conj().T


def test_fef_two_qubits_exact_matches_direct_maximisation():
    rng = np.random.default_rng(11)
    for _ in range(5):
        rho = random_state([2, 2], seed=rng)
        exact = M.fully_entangled_fraction(rho)
        brute = _fef_bruteforce(rho, rng)
        # Nelder-Mead converges to ~1e-9 on this smooth 4-parameter problem.
        assert exact == pytest.approx(brute, abs=1e-7)
        # The ascent used for d > 2 must agree on qubits too.
        val, _ = M.fef_ascent(rho.full(), 2, restarts=20, rng=rng, tol=1e-14)
        assert val == pytest.approx(exact, abs=1e-9)


def test_fef_closed_forms():
    assert M.fully_entangled_fraction(bell_state("11")) == pytest.approx(1.0, abs=TOL)
    # Isotropic qutrits: F_max = max(F, ...) = F for F >= 1/d^2.
    val, info = M.fully_entangled_fraction(isotropic_state(0.6, 3), return_info=True)
    assert val == pytest.approx(0.6, abs=1e-10) and info["method"] == "ascent"
    # Separable product |00><00|: F_max = 1/d.
    prod = qutip.ket2dm(qutip.tensor(qutip.basis(3, 0), qutip.basis(3, 0)))
    assert M.fully_entangled_fraction(prod) == pytest.approx(1 / 3, abs=1e-10)


def test_fidelities():
    assert M.ghz_fidelity(noisy_ghz_state(5, 0.7)) == pytest.approx(0.7, abs=TOL)
    assert M.phi_plus_overlap(isotropic_state(0.3, 4)) == pytest.approx(0.3, abs=TOL)
    assert M.ghz_fidelity(qutip.ket2dm(qutip.tensor([qutip.basis(2, 0)] * 3))) == pytest.approx(0.5)


def test_distances_entropies():
    tau = qutip.Qobj(np.diag([0.7, 0.3]))
    rho = phi_plus()
    assert np.allclose(M.marginal_distances(rho, tau), [0.2, 0.2], atol=TOL)
    # S(I/2 || tau) = -ln 2 - (ln 0.7 + ln 0.3)/2
    expected = -np.log(2) - 0.5 * (np.log(0.7) + np.log(0.3))
    assert np.allclose(M.marginal_relative_entropies(rho, [tau, tau]), expected, atol=TOL)
    assert (
        M.relative_entropy(qutip.ket2dm(qutip.basis(2, 1)), qutip.ket2dm(qutip.basis(2, 0)))
        == np.inf
    )
    assert M.mutual_information(rho, base=2) == pytest.approx(2.0, abs=TOL)
    assert M.mutual_information(qutip.tensor(tau, tau)) == pytest.approx(0.0, abs=TOL)
    assert M.trace_distance(bell_state("00"), bell_state("11")) == pytest.approx(1.0, abs=TOL)


@pytest.mark.parametrize(
    "bad, match",
    [
        (qutip.Qobj(np.array([[1, 1], [0, 0]])), "Hermitian"),
        (qutip.Qobj(np.diag([0.7, 0.7])), "trace 1"),
        (qutip.Qobj(np.diag([1.2, -0.2])), "positive"),
    ],
)
def test_rejects_non_states(bad, match):
    bad.dims = [[2], [2]]
    rho = qutip.tensor(bad, qutip.qeye(2) / 2)
    with pytest.raises(ValueError, match=match):
        M.negativity(rho)


def test_rejects_non_qobj():
    with pytest.raises(TypeError, match=r"rho must be a qutip\.Qobj"):
        M.negativity(np.eye(4) / 4)

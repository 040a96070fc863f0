"""Hermitian operator basis: Lindbladians as real matrices, and the segment average's real
path against its complex path (the same numbers, to rounding)."""

import numpy as np
import pytest
import qutip

from baths import Drive, Environment, GaussianPulses, qubit_hamiltonian, thermal_bath
from baths.ensembles import UnitaryEnsemble, ensemble_drive, pauli_group
from dynamics import segment as segment_module
from dynamics._realbasis import conj_signs, from_real, hermitian_basis, to_real
from dynamics.propagate import SegmentAveraged, evolve
from dynamics.states import phi_plus
from dynamics.superop import _dissipator, _hamiltonian_superop

PAULIS = [qutip.sigmax().full(), qutip.sigmay().full(), qutip.sigmaz().full()]


def _random_lindbladian(rng, d):
    H = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    L = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return _hamiltonian_superop(H + H.conj().T) + _dissipator(L)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_lindbladians_are_real_and_conjugation_is_a_sign_pattern(d):
    rng = np.random.default_rng(d)
    V, t = hermitian_basis(d), conj_signs(d)
    np.testing.assert_allclose(V.conj().T @ V, np.eye(d * d), atol=1e-15)
    # the basis elements are Hermitian: vec^{-1} of each column equals its adjoint
    for col in V.T:
        X = col.reshape(d, d)
        np.testing.assert_array_equal(X, X.conj().T)
    np.testing.assert_array_equal(V.conj(), V * t[None, :])
    for _ in range(5):
        S = _random_lindbladian(rng, d)
        R = to_real(S, [d])
        assert R is not None and R.dtype == float
        np.testing.assert_allclose(from_real(R, [d]), S, atol=1e-13)
        np.testing.assert_allclose(to_real(S.conj(), [d]), t[:, None] * R * t[None, :], atol=1e-13)
    # on a kron of parties
    S2 = np.kron(_random_lindbladian(rng, d), _random_lindbladian(rng, 2))
    np.testing.assert_allclose(from_real(to_real(S2, [d, 2]), [d, 2]), S2, atol=1e-12)


def test_maps_that_are_not_hermiticity_preserving_are_refused():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    left = np.kron(A, np.eye(2))  # X -> A X (row-major)
    assert to_real(left, [2]) is None
    assert to_real(1j * np.eye(4), [2]) is None
    assert to_real(_random_lindbladian(rng, 2) + 1e-6j * np.eye(4), [2]) is None


def _env(n_parties, conj_pattern, dims=None):
    dims = dims or (2,) * n_parties
    proc = GaussianPulses(segment=0.1, variance=8.0, channels=3, name="drive")
    terms = [Drive(proc, p, PAULIS, conjugate=c) for p, c in enumerate(conj_pattern)]
    terms += [thermal_bath(p, qubit_hamiltonian(1.0), nbar=0.4, rate=0.7) for p in range(n_parties)]
    return Environment(dims, terms)


def _both_paths(monkeypatch, rho0, env, tlist, method):
    real = evolve(rho0, env, tlist, method=method, store_states=True)
    with monkeypatch.context() as m:
        m.setattr(segment_module, "to_real", lambda *a, **k: None)  # force the complex path
        cplx = evolve(rho0, env, tlist, method=method, store_states=True)
    return np.stack([s.full() for s in real.states]), np.stack([s.full() for s in cplx.states])


@pytest.mark.parametrize(
    "pattern", [(False, True), (False, False), (False, True, False), (True, False, True)]
)
def test_segment_real_path_equals_complex_path(monkeypatch, pattern):
    # U/U* pairs (a twin party: sign pattern), equal drives (no twin), and a three-party
    # cluster with twins (the kron of more than two parties)
    n = len(pattern)
    rho0 = qutip.ket2dm(qutip.ghz_state(n)) if n > 2 else phi_plus()
    tlist = np.linspace(0, 0.45, 19)
    a, b = _both_paths(monkeypatch, rho0, _env(n, pattern), tlist, SegmentAveraged(nodes=6))
    assert np.abs(a - b).max() <= 1e-13
    # the twin shortcut is physics, not bookkeeping: Phi+ stays invariant under U (x) U^*
    # without damping only; here the two drives differ and so must the states
    if pattern == (False, True):
        _, c = _both_paths(
            monkeypatch, rho0, _env(2, (False, False)), tlist, SegmentAveraged(nodes=6)
        )
        assert np.abs(a - c).max() > 1e-2


def test_segment_real_path_for_a_unitary_ensemble(monkeypatch):
    # matrix-valued drives (no generators): the per-node superoperators, not the linear path
    assert UnitaryEnsemble  # the process behind ensemble_drive
    terms = ensemble_drive(pauli_group(2), 0.2) + [
        thermal_bath(0, qubit_hamiltonian(1.0), nbar=0.3, rate=1.0),
        thermal_bath(1, qubit_hamiltonian(1.0), nbar=0.3, rate=1.0),
    ]
    env = Environment((2, 2), terms)
    a, b = _both_paths(monkeypatch, phi_plus(), env, np.linspace(0, 1, 11), SegmentAveraged())
    assert np.abs(a - b).max() <= 1e-13

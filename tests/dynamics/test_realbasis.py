"""Hermitian operator basis: Lindbladians as real matrices, and the segment average's real
path against its complex path (the same numbers, to rounding)."""

import numpy as np
import pytest
import qutip
from eplt.baths import Drive, Environment, GaussianPulses, qubit_hamiltonian, thermal_bath
from eplt.baths.ensembles import UnitaryEnsemble, ensemble_drive, pauli_group
from eplt.dynamics import segment as segment_module
from eplt.dynamics._realbasis import conj_signs, from_real, hermitian_basis, to_real
from eplt.dynamics.propagate import SegmentAveraged, evolve
from eplt.dynamics.states import phi_plus
from eplt.dynamics.superop import _dissipator, _hamiltonian_superop

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


# ----------------------------------------------------------------------------- sampled

from eplt.baths.environment import Protocol, Reset  # noqa: E402
from eplt.baths.processes import (  # noqa: E402
    BrownianNoise,
    FixedSignal,
    HaarPulses,
    MarkovChain,
    OrnsteinUhlenbeck,
    PoissonClock,
    RandomTelegraph,
)
from eplt.baths.thermal import thermal_state  # noqa: E402
from eplt.dynamics import sampled as sampled_module  # noqa: E402
from eplt.dynamics.model import LocalTerm  # noqa: E402
from eplt.dynamics.propagate import Sampled  # noqa: E402

SIGNALS = [
    BrownianNoise(kappa=0.7, channels=2),
    GaussianPulses(segment=0.3, variance=2.0, channels=3),
    HaarPulses(segment=0.25, d=2),
    RandomTelegraph(rate=2.0, amplitude=1.0),
    OrnsteinUhlenbeck(sigma=1.0, tau_c=0.3, channels=2),
    FixedSignal(times=(0.0, 0.4, 1.0), values=((1.0,), (-0.5,))),
    MarkovChain(rates=((0, 1.0, 0.5), (2.0, 0, 1.0), (0.3, 0.3, 0)), values=(1.0, 0.0, -2.0)),
]


@pytest.mark.parametrize("proc", SIGNALS, ids=lambda p: type(p).__name__)
def test_sample_many_draws_what_sample_draws(proc):
    edges = np.linspace(0.0, 1.0, 23)
    seeds = np.random.SeedSequence(11).spawn(5)
    many = proc.sample_many([np.random.default_rng(s) for s in seeds], edges)
    one = np.stack([proc.sample(np.random.default_rng(s), edges) for s in seeds])
    np.testing.assert_array_equal(many, one)


def _sampled_both(monkeypatch, rho0, env, tlist, method, e_ops=("negativity",)):
    real = evolve(rho0, env, tlist, method=method, store_states=True, seed=3, e_ops=list(e_ops))
    with monkeypatch.context() as m:
        m.setattr(sampled_module, "_window_real", lambda *a, **k: None)  # complex path
        cplx = evolve(rho0, env, tlist, method=method, store_states=True, seed=3, e_ops=list(e_ops))
    a = np.stack([s.full() for s in real.states])
    b = np.stack([s.full() for s in cplx.states])
    return a, b, real, cplx


def _gad(p):
    return thermal_bath(p, qubit_hamiltonian(1.0), nbar=0.4, rate=0.7)


@pytest.mark.parametrize(
    "terms",
    [
        # U / U*: the twin party's propagators are a sign pattern of the other's
        lambda: (
            [Drive(GaussianPulses(segment=0.1, variance=8.0, channels=3), 0, PAULIS)]
            + [Drive(GaussianPulses(segment=0.1, variance=8.0, channels=3, name="b"), 1, PAULIS)]
            + [_gad(0), _gad(1)]
        ),
        lambda: (
            lambda g: [Drive(g, 0, PAULIS), Drive(g, 1, PAULIS, conjugate=True), _gad(0), _gad(1)]
        )(GaussianPulses(segment=0.1, variance=8.0, channels=3)),
        # coloured noise on the substep grid, and a matrix-valued (Haar) drive
        lambda: (
            (lambda o: [Drive(o, 0, PAULIS[:2]), Drive(o, 1, PAULIS[:2], conjugate=True)])(
                OrnsteinUhlenbeck(sigma=1.5, tau_c=0.2, channels=2)
            )
            + [_gad(0), _gad(1)]
        ),
        lambda: (lambda h: [Drive(h, 0), Drive(h, 1, conjugate=True), _gad(1)])(
            HaarPulses(segment=0.2, d=2)
        ),
        # two signals driving each party (the generator sums their terms)
        lambda: (
            (
                lambda o, t: [
                    Drive(o, 0, PAULIS),
                    Drive(o, 1, PAULIS, conjugate=True),
                    Drive(t, 0, [PAULIS[2]]),
                    Drive(t, 1, [PAULIS[2]]),
                ]
            )(
                OrnsteinUhlenbeck(sigma=1.0, tau_c=0.3, channels=3),
                RandomTelegraph(rate=2.0, amplitude=1.0),
            )
            + [_gad(0), _gad(1)]
        ),
        # clock ticks: jump superoperators in the Hermitian basis, with a drive between
        lambda: (
            lambda c, g: [
                Reset(c, 0, thermal_state(qubit_hamiltonian(1.0), 0.5)),
                Reset(c, 1, thermal_state(qubit_hamiltonian(1.0), 0.5)),
                Drive(g, 0, PAULIS),
                Drive(g, 1, PAULIS, conjugate=True),
                _gad(0),
            ]
        )(PoissonClock(rate=1.5), GaussianPulses(segment=0.15, variance=3.0, channels=3)),
    ],
    ids=["independent", "U-Ustar", "OU", "Haar", "two-signals", "clock"],
)
def test_sampled_real_path_equals_complex_path(monkeypatch, terms):
    env = Environment((2, 2), terms())
    tlist = np.linspace(0.0, 0.6, 13)
    a, b, real, cplx = _sampled_both(
        monkeypatch, phi_plus(), env, tlist, Sampled(ntraj=96, groups=4)
    )
    assert np.abs(a - b).max() <= 1e-13
    np.testing.assert_allclose(real.stderr["negativity"], cplx.stderr["negativity"], atol=1e-13)


def test_sampled_switches_basis_between_stages(monkeypatch):
    # a stage whose local generator is not Hermiticity preserving (X -> A X) runs in the
    # complex layout; the stages around it in the Hermitian basis
    A = np.array([[0.0, 0.3], [0.0, -0.2]], complex)
    odd = LocalTerm("odd", 0, superop=np.kron(A, np.eye(2)))
    g = GaussianPulses(segment=0.1, variance=4.0, channels=3)
    hp = Environment((2, 2), [Drive(g, 0, PAULIS), Drive(g, 1, PAULIS, conjugate=True), _gad(0)])
    non_hp = Environment((2, 2), [odd, Drive(g, 1, PAULIS)])
    assert (
        sampled_module._window_real(
            (2, 2),
            [np.kron(A, np.eye(2)), np.zeros((4, 4))],
            [],
            [],
            {0: [], 1: []},
            {0: [], 1: []},
        )
        is None
    )
    proto = Protocol([(0.3, hp), (0.2, non_hp), (0.3, hp)])
    tlist = np.linspace(0.0, 0.8, 17)
    a, b, *_ = _sampled_both(monkeypatch, phi_plus(), proto, tlist, Sampled(ntraj=64, groups=4), ())
    assert np.abs(a - b).max() <= 1e-13


def test_conjugate_of_is_the_u_ustar_relation():
    from eplt.dynamics.model import HamiltonianAction

    a = HamiltonianAction(0, tuple(PAULIS))
    b = HamiltonianAction(1, tuple(PAULIS), conjugate=True)
    assert b.conjugate_of(a) and a.conjugate_of(b)
    assert not HamiltonianAction(1, tuple(PAULIS)).conjugate_of(a)  # sigma_x, sigma_z: not
    assert not HamiltonianAction(1, tuple(PAULIS), conjugate=True, scale=2.0).conjugate_of(a)
    # matrix-valued signals: decided by the conjugate flag and the scale
    m, mc = HamiltonianAction(0), HamiltonianAction(1, conjugate=True)
    assert mc.conjugate_of(m) and not HamiltonianAction(1).conjugate_of(m)
    # -H^* of sigma_y is sigma_y itself: a sigma_y-only drive is its own conjugate pair
    y = HamiltonianAction(0, (PAULIS[1],))
    assert HamiltonianAction(1, (PAULIS[1],)).conjugate_of(y)

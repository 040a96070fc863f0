"""Recording in blocks, bounded buffers and the small-space paths of the exact method
(issue 19: fixed cost and peak memory against ``qutip.mesolve``)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import qutip
import scipy.sparse as sp
from eplt.baths import Environment, lindblad, thermal_bath
from eplt.dynamics import _krylov, _timeindep, evolve
from eplt.dynamics._krylov import KrylovDense, _uniform_runs, real_form
from eplt.dynamics.superop import as_engine_superop

from tests.dynamics.test_engine_big import TIGHT, _cavity


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_uniform_runs_counts_equal_steps():
    pts = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.85])
    # from point k: how many further steps share the step points[k+1] - points[k]
    assert _uniform_runs(pts).tolist() == [3, 2, 1, 2, 1, 1, 0]
    assert _uniform_runs(np.array([1.0])).tolist() == [0]
    assert _uniform_runs(np.array([1.0, 2.0])).tolist() == [1, 0]


def _runs_loop(points):
    """The counting loop :func:`_uniform_runs` replaced (the reference)."""
    P = points.size
    run = [0] * P
    if P < 2:
        return run
    d = np.diff(points)
    same = np.abs(d[1:] - d[:-1]) <= 1e-12 * np.abs(d[:-1])
    r = 1
    run[P - 2] = 1
    for k in range(P - 3, -1, -1):
        r = r + 1 if same[k] else 1
        run[k] = r
    return run


@pytest.mark.parametrize("seed", range(20))
def test_uniform_runs_equal_the_counting_loop(seed):
    rng = np.random.default_rng(seed)
    steps = rng.choice([0.1, 0.25, 0.1 + 1e-9], size=rng.integers(1, 40))
    points = np.cumsum(np.concatenate([[0.05], steps]))
    points = np.concatenate([points[:1], points[1:][rng.random(points.size - 1) < 0.9]])
    assert _uniform_runs(points).tolist() == _runs_loop(points)


@pytest.mark.parametrize("path", ["dense", "krylov"])
def test_small_cavity_paths_match_mesolve(path, monkeypatch):
    # N = 10: the cost model picks one dense real propagator; Krylov when it may not
    if path == "krylov":
        monkeypatch.setattr(_timeindep, "DENSE_REAL_MAX", 0)
    N = 10
    H, c_ops, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)
    tlist = np.linspace(0.0, 10.0, 201)
    e_ops = [qutip.num(N), qutip.destroy(N)]
    res = evolve(rho0, env, tlist, e_ops=e_ops)
    assert res.params["method"]["paths"][0]["path"] == path
    me = qutip.mesolve(H, rho0, tlist, c_ops, e_ops=e_ops, options=TIGHT)
    for got, want in zip(res.expect, me.expect):
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_dense_path_steps_a_non_hermitian_operator_exactly():
    # a non-Hermitian operator has no real coordinates: the complex propagator steps it
    # (the route evolve takes for such a state); equal to exp(L t) from qutip
    from eplt.dynamics._timeindep import _run_dense

    N = 6
    H, c_ops, _ = _cavity(N)
    X = qutip.basis(N, 0) * qutip.basis(N, 1).dag() + qutip.fock_dm(N, 0)
    L = qutip.liouvillian(H, c_ops)
    tlist = np.linspace(0.0, 3.0, 31)
    a = qutip.destroy(N)
    want = [
        (qutip.vector_to_operator((L * t).expm() * qutip.operator_to_vector(X)) * a).tr()
        for t in tlist[1:]
    ]
    Lp = np.asarray(sp.csr_matrix(as_engine_superop(L)).toarray())
    got = []
    ids = np.arange(1, tlist.size)
    _run_dense(
        X.full().reshape(-1), Lp, 0.0, 3.0, tlist[1:], ids, lambda i, V: got.extend(V.copy())
    )
    vals = [np.trace(v.reshape(N, N) @ a.full()) for v in got]
    np.testing.assert_allclose(vals, want, atol=1e-11)


def test_recorded_blocks_equal_stored_states():
    # observables evaluated on the Krylov bases' blocks equal those of the stored states
    N = 20
    _, _, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)
    tlist = np.linspace(0.0, 5.0, 57)
    res = evolve(rho0, env, tlist, e_ops=[qutip.num(N)], store_states=True)
    assert res.params["method"]["paths"][0]["path"] == "krylov"
    direct = [qutip.expect(qutip.num(N), s) for s in res.states]
    np.testing.assert_allclose(res.expect[0], direct, atol=1e-13)
    assert res.final_state == res.states[-1]


def test_krylov_batches_do_not_restart_the_basis(monkeypatch):
    # points handed out a few at a time (a small output batch) come from the same bases:
    # same products, same values
    N = 12
    _, _, env = _cavity(N)
    L = env.stages()[0].model.averaged_generator().to_sparse()
    rng = np.random.default_rng(5)
    v = rng.normal(size=L.shape[0]) + 1j * rng.normal(size=L.shape[0])
    points = np.linspace(0.05, 6.0, 120)

    def run():
        got = np.empty((points.size, v.size), complex)

        def emit(i, Y):
            got[i : i + Y.shape[1]] = Y.T

        K = KrylovDense(L, 1e-11)
        K.run(v, points, emit)
        return got, K.matvecs, K.bases

    big = run()
    monkeypatch.setattr(_krylov, "BATCH_BYTES", 1)
    monkeypatch.setattr(_krylov, "BATCH_MIN", 2)
    small = run()
    assert small[1:] == big[1:]
    np.testing.assert_allclose(small[0], big[0], rtol=0, atol=1e-14)


def test_real_form_by_blocks_equals_the_whole(monkeypatch):
    N = 12
    H, c_ops, _ = _cavity(N)
    S = sp.csr_matrix(as_engine_superop(qutip.liouvillian(H, c_ops)))
    whole, T = real_form(S, (N,))
    monkeypatch.setattr(_krylov, "_REAL_FORM_CHUNK_NNZ", 1)
    monkeypatch.setattr(_krylov, "_REAL_FORM_BLOCKS", 5)
    blocks, _ = real_form(S, (N,))
    assert abs(whole - blocks).max() <= 1e-15 * abs(whole).max()
    np.testing.assert_allclose((T @ blocks @ T.conj().T).toarray(), S.toarray(), atol=1e-13)


@pytest.mark.parametrize("N", [10, 30])
def test_peak_memory_does_not_grow_with_the_output_times(N):
    # observables are evaluated in bounded batches: 10x more output times cost no more
    # than a small fraction of memory (no buffer of T states)
    _, _, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)

    def run(T):
        return lambda: evolve(rho0, env, np.linspace(0.0, 4.0, T), e_ops=[qutip.num(N)])

    few, many = _peak(run(101)), _peak(run(1001))
    state = 16 * N * N
    assert many <= few + 40 * state + 64 * 1001  # values and a few states, not 1000 states


def test_qubit_dense_path_matches_the_closed_form():
    # one thermal qubit (relaxation rate G, nbar): <sigma_z> relaxes exponentially at
    # G (2 nbar + 1) to -1/(2 nbar + 1) (excited-state population nbar/(2 nbar + 1))
    nbar, G = 0.3, 0.7
    env = Environment(
        (2, 2),
        [thermal_bath(k, qutip.Qobj(np.diag([0.0, 1.0])), nbar=nbar, rate=G) for k in (0, 1)],
    )
    tlist = np.linspace(0.0, 4.0, 81)
    rho0 = qutip.tensor(qutip.fock_dm(2, 1), qutip.fock_dm(2, 0))
    Z = qutip.tensor(qutip.Qobj(np.diag([0.0, 1.0])), qutip.qeye(2))  # excited population
    res = evolve(rho0, env, tlist, e_ops=[Z])
    assert res.params["method"]["paths"][0]["path"] in {"dense", "local-step"}
    p_inf = nbar / (2 * nbar + 1)
    want = p_inf + (1 - p_inf) * np.exp(-G * (2 * nbar + 1) * tlist)
    np.testing.assert_allclose(res.expect[0], want, atol=1e-12)


@pytest.mark.parametrize(
    ("start", "end", "tau", "J"),
    [(0.0, 1.0, 0.1, 9), (0.0, 1.05, 0.1, 10), (2.0, 2.3, 0.1, 2), (0.0, 0.05, 0.1, 0)],
)
def test_segment_count_is_the_one_edge_rule(start, end, tau, J):
    # J whole segments then the last one up to the stage end; an edge within rounding of
    # the end (ten steps of 0.1 to 1.0) is the end, not a segment of length ~1e-16
    from eplt.dynamics.segment import segment_count

    assert segment_count(start, end, tau) == J
    last = end - (start + J * tau)
    assert 0 < last <= tau * (1 + 1e-9)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "dense"])
def test_norm1_is_the_largest_column_sum(fmt):
    from eplt.dynamics._timeindep import _norm1

    rng = np.random.default_rng(2)
    A = sp.random(60, 45, density=0.05, random_state=rng, format="lil") * (1 - 2j)
    A[:, -3:] = 0  # empty columns at the end and inside
    A[:, 7] = 0
    want = np.abs(A.toarray()).sum(axis=0).max()
    got = _norm1(A.toarray() if fmt == "dense" else A.asformat(fmt))
    assert abs(got - want) <= 1e-14 * want


@pytest.mark.parametrize("dims", [(2, 2), (3,), (8,)])
def test_real_form_dense_and_sparse_agree(dims, monkeypatch):
    # tiny spaces take dense products; the sparse products give the same matrix
    rng = np.random.default_rng(4)
    D = int(np.prod(dims))
    H = qutip.rand_herm(D, seed=3)
    c = qutip.Qobj(rng.normal(size=(D, D)) + 1j * rng.normal(size=(D, D)))
    if len(dims) == 1:
        S = sp.csr_matrix(as_engine_superop(qutip.liouvillian(H, [c])))
    else:  # a local generator of two parties, paired layout: L_0 (x) I + I (x) L_1
        L0 = as_engine_superop(qutip.liouvillian(qutip.rand_herm(2, seed=5), [qutip.destroy(2)]))
        S = sp.csr_matrix(np.kron(L0, np.eye(4)) + np.kron(np.eye(4), L0))
    dense, T = real_form(S, dims)
    monkeypatch.setattr(_krylov, "_REAL_FORM_DENSE_MAX", 0)
    sparse, _ = real_form(S, dims)
    assert abs(dense - sparse).max() <= 1e-14 * abs(sparse).max()
    np.testing.assert_allclose((T @ dense @ T.conj().T).toarray(), S.toarray(), atol=1e-13)


def test_stage_checked_together_with_what_the_driver_holds(monkeypatch):
    # the observable buffer (held by the driver) and the stage's own memory are checked
    # together: a limit just below their sum refuses, in one line, before the stage runs
    from eplt.dynamics.limits import MemoryLimitError

    N = 30
    _, _, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)
    tlist = np.linspace(0.0, 2.0, 41)
    est = evolve(rho0, env, tlist, e_ops=[qutip.num(N)]).params["method"]["memory_estimate_bytes"]
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", str(int(est) - 1))
    with pytest.raises(MemoryLimitError, match="exact method"):
        evolve(rho0, env, tlist, e_ops=[qutip.num(N)])
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", str(int(est) + 1))
    evolve(rho0, env, tlist, e_ops=[qutip.num(N)])


def test_segment_channel_cuts_a_late_stage_as_the_run_does():
    # a pulse stage starting at t = 1e6 whose length is two segments up to 2e-7: the run
    # cuts it at the absolute edges (edges within 1e-12 |t| = 1e-6 of the end are the end:
    # one segment, then the rest); the channel must cut the same segments (it used the
    # stage length alone: two segments and a third of 2e-7)
    from eplt.baths import Drive, GaussianPulses, Protocol
    from eplt.dynamics.propagators import propagator

    tau = 0.4999999
    pulses = GaussianPulses(segment=tau, variance=0.8, name="pulses")
    quiet = Environment((2,), [lindblad(0, 0.0 * qutip.sigmaz())])  # nothing happens
    driven = Environment((2,), [Drive(pulses, 0, [qutip.sigmaz()])])
    proto = Protocol([(1e6, quiet), (1.0, driven)])
    plus = (qutip.basis(2, 0) + qutip.basis(2, 1)).unit()
    rho0 = qutip.ket2dm(plus)
    res = evolve(rho0, proto, [0.0, 1e6, 1e6 + 1.0], method="segment", store_states=True)
    E = propagator(proto, 1e6 + 1.0, method="segment")
    out = qutip.vector_to_operator(E @ qutip.operator_to_vector(rho0))
    np.testing.assert_allclose(out.full(), res.states[-1].full(), atol=1e-11)


# ------------------------------------------------- linear observables without the states
def _spy_linear(monkeypatch):
    """Count the values handed to the recorder directly (no state formed)."""
    from eplt.dynamics import _recorder

    calls = []
    orig = _recorder._Recorder.linear_values

    def spy(self, ids, vals):
        calls.append(len(ids))
        return orig(self, ids, vals)

    monkeypatch.setattr(_recorder._Recorder, "linear_values", spy)
    return calls


@pytest.mark.parametrize("case", ["dense", "krylov", "sector"])
def test_linear_observables_read_from_the_propagated_coordinates(case, monkeypatch):
    # operators in e_ops are linear functionals: the dense and Krylov paths evaluate them
    # on their own coordinates (real form, sector) without forming the states; the values
    # equal those of the stored states (a run that forms every state), complex ones too
    from tests.dynamics.test_engine_scale import _qudits

    if case == "sector":  # a shared U (x) U* drive: Phi+ stays in a sector of 2 d^2 - d
        from eplt.dynamics.states import phi_plus

        d = 4
        env, rho0, tlist = _qudits(d), phi_plus(d), np.linspace(0.0, 2.0, 41)
        a = qutip.tensor(qutip.destroy(d), qutip.qeye(d))
        e_ops = [phi_plus(d), a]
    else:
        N = 10 if case == "dense" else 20
        _, _, env = _cavity(N)
        rho0, tlist = qutip.fock_dm(N, 0), np.linspace(0.0, 5.0, 57)
        e_ops = [qutip.num(N), qutip.destroy(N)]
    calls = _spy_linear(monkeypatch)
    res = evolve(rho0, env, tlist, e_ops=e_ops)
    path = res.params["method"]["paths"][0]
    if case == "sector":
        assert path["path"] in ("dense", "krylov") and path["sector"][0] < path["sector"][1]
    else:
        assert path["path"] == case
    assert sum(calls) == tlist.size - 1  # every time but the first, none from states
    ref = evolve(rho0, env, tlist, e_ops=e_ops, store_states=True)
    assert ref.states is not None
    for got, want, op in zip(res.expect, ref.expect, e_ops):
        assert got.dtype == want.dtype == (float if op.isherm else complex)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
        direct = [qutip.expect(op, s) for s in ref.states]
        np.testing.assert_allclose(got, direct, rtol=0, atol=1e-12)


def test_mixed_observables_take_the_states(monkeypatch):
    # one non-linear observable (purity): no direct values, the states are evaluated
    N = 10
    _, _, env = _cavity(N)
    calls = _spy_linear(monkeypatch)
    tlist = np.linspace(0.0, 2.0, 21)
    res = evolve(qutip.fock_dm(N, 0), env, tlist, e_ops=[qutip.num(N), "purity"])
    assert not calls
    ref = evolve(qutip.fock_dm(N, 0), env, tlist, e_ops=[qutip.num(N)])
    np.testing.assert_allclose(res.expect[0], ref.expect[0], rtol=0, atol=1e-13)
    assert np.all(res.expect[1] <= 1.0 + 1e-12)


def test_krylov_projected_output_equals_the_vectors():
    # KrylovDense.run(project=W) hands out W @ vectors from W @ basis, the same numbers
    N = 12
    _, _, env = _cavity(N)
    L = env.stages()[0].model.averaged_generator().to_sparse()
    rng = np.random.default_rng(8)
    v = rng.normal(size=L.shape[0]) + 1j * rng.normal(size=L.shape[0])
    W = rng.normal(size=(3, L.shape[0])) + 1j * rng.normal(size=(3, L.shape[0]))
    points = np.linspace(0.05, 6.0, 120)
    vecs = np.empty((points.size, v.size), complex)
    vals = np.empty((points.size, 3), complex)

    def put_vecs(i, Y):
        vecs[i : i + Y.shape[1]] = Y.T

    def put_vals(i, Y):
        vals[i : i + Y.shape[1]] = Y.T

    KrylovDense(L, 1e-11).run(v, points, put_vecs)
    KrylovDense(L, 1e-11).run(v, points, put_vals, project=W)
    np.testing.assert_allclose(vals, vecs @ W.T, rtol=0, atol=1e-12 * np.abs(vals).max())


def test_krylov_advances_about_as_many_points_as_a_basis_reaches(monkeypatch):
    # points advanced together beyond a basis's reach are computed and thrown away: the
    # count follows the last basis, so few are wasted (it was up to 64 per basis)
    computed, kept = [], []
    orig = KrylovDense._advance

    def spy(self, E, y, c, *args):
        Z, ok = orig(self, E, y, c, *args)
        computed.append(c)
        kept.append(ok)
        return Z, ok

    monkeypatch.setattr(KrylovDense, "_advance", spy)
    _, _, env = _cavity(20)
    tlist = np.linspace(0.0, 10.0, 201)
    evolve(qutip.fock_dm(20, 0), env, tlist, e_ops=[qutip.num(20)])
    assert sum(kept) >= 150  # most points come from advances
    assert sum(computed) - sum(kept) <= 0.2 * sum(kept)

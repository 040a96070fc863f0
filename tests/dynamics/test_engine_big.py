"""Big local spaces: sparse local terms, the Krylov path with dense output, memory
counted before it is allocated, one MemoryLimitError (issue 19, part A)."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import qutip
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from eplt.baths import BrownianNoise, Drive, Environment, lindblad, thermal_bath
from eplt.dynamics import evolve, superop
from eplt.dynamics._krylov import KrylovDense, hermitian_basis, real_form
from eplt.dynamics._memory import MemoryLimitError
from eplt.dynamics.exact import Exact
from eplt.dynamics.model import stages_of

from tests.systems import gad_esd_time, qubit_populations

TIGHT = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**7}


def _cavity(N: int):
    a = qutip.destroy(N)
    H = a.dag() * a + 0.3 * (a + a.dag())
    c_ops = [math.sqrt(0.6) * a, math.sqrt(0.1) * a.dag()]
    return H, c_ops, Environment((N,), [lindblad(0, H, c_ops)])


# ----------------------------------------------------------------------------- Krylov
@pytest.mark.parametrize("real", [False, True])
def test_krylov_dense_output_matches_expm_multiply(real):
    rng = np.random.default_rng(11)
    n = 200
    A = sp.random(n, n, density=0.03, random_state=rng) - 2.0 * sp.identity(n)
    if not real:
        A = A + 1j * sp.random(n, n, density=0.03, random_state=rng)
    A = A.tocsr()
    v = rng.normal(size=n) + (0 if real else 1j * rng.normal(size=n))
    points = np.concatenate([np.linspace(0.05, 2.0, 40), [2.3, 4.0]])  # not uniform
    got = np.empty((points.size, n), dtype=complex)

    def emit(i, Y):
        got[i : i + Y.shape[1]] = Y.T

    K = KrylovDense(A, 1e-11, m=12)
    w = K.run(v, points, emit)
    want = np.array([spla.expm_multiply(A * t, v) for t in points])
    err = np.abs(got - want).max(axis=1) / np.linalg.norm(v)
    assert err.max() <= 1e-10
    np.testing.assert_allclose(w, want[-1], atol=1e-10 * np.linalg.norm(v))
    # a dense output: fewer bases than points
    assert K.bases < points.size


def test_krylov_happy_breakdown_is_exact():
    # a 3-dimensional invariant subspace inside 50 dimensions: the basis stops at 3
    A = sp.diags([-1.0, -2.0, -3.0] + [-5.0] * 47).tocsr()
    v = np.zeros(50)
    v[:3] = 1.0
    out = []
    K = KrylovDense(A, 1e-12)
    K.run(v, np.array([0.5, 1.0, 7.0]), lambda i, Y: out.extend(Y.T))
    for t, y in zip([0.5, 1.0, 7.0], out):
        np.testing.assert_allclose(y[:3], np.exp(-np.array([1.0, 2.0, 3.0]) * t), atol=1e-14)
    assert K.bases == 1


@pytest.mark.parametrize("dims", [(3,), (2, 3)])
def test_real_form_is_unitary_and_real_for_a_lindbladian(dims):
    T = None
    for d in dims:
        Tk = hermitian_basis(d)
        T = Tk if T is None else sp.kron(T, Tk)
    D = T.shape[0]
    np.testing.assert_allclose((T.conj().T @ T).toarray(), np.eye(D), atol=1e-15)
    rng = np.random.default_rng(3)
    ops = [qutip.rand_herm(int(np.prod(dims)), seed=1), qutip.rand_dm(int(np.prod(dims)), seed=2)]
    L = qutip.liouvillian(ops[0], [qutip.Qobj(rng.normal(size=ops[0].shape))])
    # engine layout (paired) of a one-block generator: use a single party of the product
    from eplt.dynamics.superop import as_engine_superop

    if len(dims) == 1:
        S = sp.csr_matrix(as_engine_superop(L))
        R, _ = real_form(S, dims)
        assert not np.iscomplexobj(R.data)
        np.testing.assert_allclose((T @ R @ T.conj().T).toarray(), S.toarray(), atol=1e-13)
    # a map that does not preserve Hermiticity (X -> i X) has no real form
    assert real_form(sp.identity(D, dtype=complex, format="csr") * 1j, dims) is None


# ----------------------------------------------------------------------------- cavities
def test_cavity_of_30_levels_matches_mesolve():
    N = 30
    H, c_ops, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)
    tlist = np.linspace(0.0, 10.0, 201)
    res = evolve(rho0, env, tlist, e_ops=[qutip.num(N)])
    assert res.params["method"]["paths"][0]["path"] == "krylov"
    me = qutip.mesolve(H, rho0, tlist, c_ops, e_ops=[qutip.num(N)], options=TIGHT)
    np.testing.assert_allclose(res.expect[0], me.expect[0], atol=1e-9)


def test_cavity_of_80_levels_is_stored_sparse_and_matches_mesolve():
    N = 80
    H, c_ops, env = _cavity(N)
    (term,) = stages_of(env)[0].model.local
    assert term.is_sparse and term.factor.nnz < 10 * N * N  # not 6400 x 6400 dense
    rho0 = qutip.fock_dm(N, 0)
    tlist = np.linspace(0.0, 4.0, 41)
    res = evolve(rho0, env, tlist, e_ops=[qutip.num(N)])
    est = res.params["method"]["memory_estimate_bytes"]
    assert est < 200 * 2**20  # a dense local superoperator alone would be 655 MB
    me = qutip.mesolve(H, rho0, tlist, c_ops, e_ops=[qutip.num(N)], options=TIGHT)
    np.testing.assert_allclose(res.expect[0], me.expect[0], atol=1e-9)


def test_big_cavity_peak_memory_within_the_estimate():
    N = 40
    _, _, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)
    tracemalloc.start()
    try:
        res = evolve(rho0, env, np.linspace(0.0, 10.0, 201), e_ops=[qutip.num(N)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= res.params["method"]["memory_estimate_bytes"]


# ----------------------------------------------------------------------------- sparse terms
def _gad_pair(nbar: float, G: float = 1.0):
    sm = qutip.destroy(2)
    H = qutip.Qobj(np.diag([0.0, 1.0]))
    c = [math.sqrt(G * (nbar + 1)) * sm, math.sqrt(G * nbar) * sm.dag()]
    return Environment((2, 2), [lindblad(0, H, c), lindblad(1, H, c)])


@pytest.mark.parametrize(
    "system", ["gad_phi_plus", "thermal_qubit", "driven_cavity", "cavity_with_noise"]
)
def test_sparse_and_dense_local_terms_agree(system, monkeypatch):
    """The same models with every lindblad term stored sparse (threshold 0) and dense."""

    def build():
        if system == "gad_phi_plus":
            nbar = 0.3
            env = _gad_pair(nbar)
            b0, b1 = qutip.basis(2, 0), qutip.basis(2, 1)
            phi = (qutip.tensor(b0, b0) + qutip.tensor(b1, b1)).unit()
            t_esd = gad_esd_time(nbar)
            return env, qutip.ket2dm(phi), np.linspace(0.0, 2 * t_esd, 21), ["negativity"]
        if system == "thermal_qubit":
            sm = qutip.destroy(2)
            nbar = 1.0 / (math.e - 1.0)  # beta omega = 1
            c = [math.sqrt(nbar + 1) * sm, math.sqrt(nbar) * sm.dag()]
            env = Environment((2,), [lindblad(0, qutip.Qobj(np.diag([0.0, 1.0])), c)])
            return env, qutip.fock_dm(2, 0), np.linspace(0.0, 30.0, 16), [qutip.num(2)]
        if system == "driven_cavity":
            _, _, env = _cavity(12)
            return env, qutip.fock_dm(12, 1), np.linspace(0.0, 3.0, 31), [qutip.num(12)]
        N = 6  # two cavities, a shared phase noise: a non-local averaged generator
        n = qutip.num(N).full()
        a = qutip.destroy(N)
        proc = BrownianNoise(kappa=0.3, channels=1, name="phase")
        env = Environment(
            (N, N),
            [
                lindblad(0, qutip.num(N), [math.sqrt(0.55) * a, math.sqrt(0.05) * a.dag()]),
                lindblad(1, qutip.num(N), [math.sqrt(0.7) * a, math.sqrt(0.2) * a.dag()]),
                Drive(proc, 0, [n]),
                Drive(proc, 1, [n], conjugate=True),
            ],
        )
        plus = (qutip.basis(N, 0) + qutip.basis(N, 1)).unit()
        rho0 = qutip.ket2dm(qutip.tensor(plus, plus))
        return env, rho0, np.linspace(0.0, 2.0, 21), ["purity"]

    env, rho0, tlist, e_ops = build()
    dense = evolve(rho0, env, tlist, e_ops=e_ops, store_states=True, method=Exact(atol=1e-13))
    assert not any(t.is_sparse for t in stages_of(env)[0].model.local)
    monkeypatch.setattr(superop, "SPARSE_TERM_MIN", 0)
    env_s, *_ = build()
    assert all(t.is_sparse for t in stages_of(env_s)[0].model.local)
    sparse = evolve(rho0, env_s, tlist, e_ops=e_ops, store_states=True, method=Exact(atol=1e-13))
    for x, y in zip(dense.states, sparse.states):
        np.testing.assert_allclose(x.full(), y.full(), atol=1e-12)
    # the stored terms are the same matrices
    for s, d in zip(stages_of(env_s)[0].model.local, stages_of(env)[0].model.local):
        np.testing.assert_array_equal(s.superop, d.superop)
        assert (s.generator - d.generator).norm() == 0
    if system == "thermal_qubit":  # and the closed form: the Gibbs populations
        _, p1 = qubit_populations(1.0)
        np.testing.assert_allclose(sparse.expect[0][-1], p1, atol=1e-12)
    if system == "gad_phi_plus":  # entanglement dies at the closed-form time
        neg = np.asarray(sparse.expect[0])
        assert neg[5] > 1e-3 and np.all(neg[11:] < 1e-12)


def test_sparse_term_from_a_qutip_superoperator_and_heat_current():
    N = 20  # d^2 = 400 > SPARSE_TERM_MIN: read sparse from qutip's CSR data
    H, c_ops, env = _cavity(N)
    L = qutip.liouvillian(H, c_ops)
    env2 = Environment((N,), [lindblad(0, L)])
    (t1,), (t2,) = stages_of(env)[0].model.local, stages_of(env2)[0].model.local
    assert t1.is_sparse and t2.is_sparse
    assert abs(t1.factor - t2.factor).max() < 1e-14
    assert (t2.generator - L).norm() < 1e-12
    tlist = np.linspace(0.0, 1.0, 11)
    res = evolve(qutip.fock_dm(N, 0), env, tlist, e_ops=["heat_current"], hamiltonians=[H])
    # J = Tr[H L(rho)] = d<H>/dt (one bath): against mesolve's derivative of <H>
    me = qutip.mesolve(H, qutip.fock_dm(N, 0), tlist, c_ops, e_ops=[H], options=TIGHT)
    dH = np.gradient(me.expect[0], tlist, edge_order=2)
    heat = np.asarray(res.expect[0]).reshape(len(tlist), -1).sum(axis=1)
    np.testing.assert_allclose(heat[3:-3], dH[3:-3], atol=2e-3)


# ----------------------------------------------------------------------------- memory
def _qudits(d: int):
    H = qutip.Qobj(np.diag(np.arange(d, dtype=float)))
    proc = BrownianNoise(kappa=1.0, channels=d * d - 1, name="drive")
    gens = [qutip.rand_herm(d, seed=k).full() for k in range(d * d - 1)]
    return Environment(
        (d, d),
        [
            thermal_bath(0, H, 1.0, relaxation_rate=0.5),
            thermal_bath(1, H, 1.0, relaxation_rate=0.5),
            Drive(proc, 0, gens),
            Drive(proc, 1, gens, conjugate=True),
        ],
    )


def test_averaged_generator_estimate_counts_what_it_allocates():
    model = stages_of(_qudits(6))[0].model
    est = model.averaged_generator_bytes()
    tracemalloc.start()
    try:
        g = model.averaged_generator()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert g.nbytes <= est and peak <= est <= 1.1 * peak


def test_memory_refused_before_the_averaged_generator_is_built(monkeypatch):
    env = _qudits(8)  # the averaged generator alone is ~55 MiB
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "20M")
    tracemalloc.start()
    try:
        with pytest.raises(MemoryLimitError) as err:
            evolve(qutip.tensor(qutip.fock_dm(8, 0), qutip.fock_dm(8, 0)), env, [0.0, 1.0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    msg = str(err.value)
    assert "\n" not in msg and "averaged generator" in msg and "EPLT_MEMORY_LIMIT" in msg
    assert peak < 20 * 2**20  # refused before anything of that size existed


def test_one_memory_limit_error():
    from eplt.dynamics import _symsdp, dps
    from eplt.dynamics._memory import MemoryLimitError as engine

    assert dps.MemoryLimitError is engine and _symsdp.MemoryLimitError is engine
    assert issubclass(engine, ValueError) and issubclass(engine, MemoryError)
    with pytest.raises(MemoryError):  # an SDP refusal caught as before
        raise dps.MemoryLimitError("x")

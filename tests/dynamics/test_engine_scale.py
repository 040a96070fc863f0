"""The exact method at scale: big local spaces, symmetry sectors, memory, long times.

References: the dense exponential of the QuTiP Liouvillian (``(L t).expm()``, exact to
rounding) and ``qutip.mesolve`` at ``atol = 1e-12, rtol = 1e-10`` (its own error is ~1e-11
on these models, measured against the dense exponential; the tolerances below leave a
factor 10-100 above it).
"""

import math

import numpy as np
import pytest
import qutip
from eplt.baths import (
    BrownianNoise,
    Drive,
    Environment,
    PoissonClock,
    Reset,
    lindblad,
    qubit_hamiltonian,
    thermal_bath,
    thermal_state,
)
from eplt.dynamics import _sectors, _timeindep, evolve
from eplt.dynamics._memory import MemoryLimitError
from eplt.dynamics._sectors import invariant_sector, phase_charges
from eplt.dynamics._timeindep import expm_times, step_matrix
from eplt.dynamics.exact import Exact
from eplt.dynamics.propagators import marginal_channels, propagator
from eplt.dynamics.states import phi_plus
from eplt.dynamics.superop import to_paired

TIGHT = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**6}


def _cavity(N):
    a = qutip.destroy(N)
    H = a.dag() * a + 0.3 * (a + a.dag())
    c_ops = [math.sqrt(0.6) * a, math.sqrt(0.1) * a.dag()]
    return H, c_ops, Environment((N,), [lindblad(0, H, c_ops)])


def _gellmann(d):
    out = []
    for i in range(d):
        for j in range(i + 1, d):
            m = np.zeros((d, d), complex)
            m[i, j] = m[j, i] = 1 / math.sqrt(2)
            out.append(m)
            m = np.zeros((d, d), complex)
            m[i, j], m[j, i] = -1j / math.sqrt(2), 1j / math.sqrt(2)
            out.append(m)
    for k in range(1, d):
        m = np.zeros((d, d), complex)
        m[np.arange(k), np.arange(k)] = 1
        m[k, k] = -k
        out.append(m / math.sqrt(k * (k + 1)))
    return out


def _qudits(d, kappa=1.0):
    """Two qudits, Davies baths at beta = 1 and a shared U (x) U* drive (Gell-Mann)."""
    H = qutip.Qobj(np.diag(np.arange(d, dtype=float)))
    proc = BrownianNoise(kappa=kappa, channels=d * d - 1, name="drive")
    gm = _gellmann(d)
    return Environment(
        (d, d),
        [
            thermal_bath(0, H, 1.0, relaxation_rate=0.5),
            thermal_bath(1, H, 1.0, relaxation_rate=0.5),
            Drive(proc, 0, gm),
            Drive(proc, 1, gm, conjugate=True),
        ],
    )


def _dense_reference(L: qutip.Qobj, rho0: qutip.Qobj, times):
    v = qutip.operator_to_vector(rho0)
    return [qutip.vector_to_operator((L * t).expm() * v).full() for t in times]


# ----------------------------------------------------------------------------- big party
def test_cavity_of_20_levels_matches_the_dense_exponential_and_mesolve():
    N = 20
    H, c_ops, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)
    tlist = np.linspace(0.0, 10.0, 51)
    res = evolve(
        rho0, env, tlist, e_ops=[qutip.num(N)], store_states=True, method=Exact(atol=1e-12)
    )
    assert res.params["method"]["paths"][0]["path"] in ("krylov", "local-step")
    want = _dense_reference(qutip.liouvillian(H, c_ops), rho0, tlist[[10, 50]])
    # the Krylov path keeps the 2-norm error of the state below Exact's atol
    for got, ref in zip([res.states[10], res.states[50]], want):
        np.testing.assert_allclose(got.full(), ref, atol=1e-12)
    me = qutip.mesolve(H, rho0, tlist, c_ops, e_ops=[qutip.num(N)], options=TIGHT)
    np.testing.assert_allclose(res.expect[0], me.expect[0], atol=1e-9)


@pytest.mark.parametrize("N", [8, 12])
def test_local_step_and_krylov_paths_agree(N, monkeypatch):
    _, _, env = _cavity(N)
    rho0 = qutip.ket2dm((qutip.basis(N, 0) + qutip.basis(N, 2)).unit())
    tlist = np.linspace(0.0, 3.0, 31)
    with monkeypatch.context() as m:
        m.setattr(_timeindep, "_SPARSE_MAC", 1e9)  # force dense local propagators
        a = evolve(rho0, env, tlist, e_ops=["purity"], store_states=True)
    monkeypatch.setattr(_timeindep, "DENSE_LOCAL_MAX", 1)  # force the sparse path
    for atol in (1e-8, 1e-12):  # the Krylov path honours Exact's tolerance
        b = evolve(rho0, env, tlist, e_ops=["purity"], store_states=True, method=Exact(atol=atol))
        assert a.params["method"]["paths"][0]["path"] != b.params["method"]["paths"][0]["path"]
        err = max(np.linalg.norm(x.full() - y.full()) for x, y in zip(a.states, b.states))
        assert err <= atol


def test_non_uniform_grid_matches_the_dense_exponential():
    N = 12
    H, c_ops, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 1)
    tlist = np.array([0.0, 0.01, 0.3, 0.31, 2.0, 7.5])
    res = evolve(rho0, env, tlist, e_ops=["purity"], store_states=True)
    want = _dense_reference(qutip.liouvillian(H, c_ops), rho0, tlist)
    for got, ref in zip(res.states, want):
        np.testing.assert_allclose(got.full(), ref, atol=1e-12)


# ----------------------------------------------------------------------------- sectors
@pytest.mark.parametrize("d", [2, 3, 5])
def test_phi_plus_sector_is_the_charge_zero_sector(d):
    gen = _qudits(d).averaged_generator()
    sec = invariant_sector(gen.to_sparse(), to_paired(phi_plus(d)))
    # the generator commutes with D (x) D*: the sector lies in charge 0, of size 2 d^2 - d
    q = phase_charges((d, d))
    assert np.all(q[sec.index] == 0)
    assert sec.size == 2 * d * d - d


def test_the_liouvillian_is_charge_graded():
    d = 3
    L = _qudits(d).averaged_generator().to_sparse().tocoo()
    q = phase_charges((d, d))
    big = np.abs(L.data) > 1e-14 * np.abs(L.data).max()
    np.testing.assert_array_equal(q[L.row[big]], q[L.col[big]])


@pytest.mark.parametrize("d", [2, 3])
def test_shared_drive_matches_the_dense_reference_and_mesolve(d, monkeypatch):
    monkeypatch.setattr(_timeindep, "SECTOR_MIN", 1)  # sectors even for tiny spaces
    env = _qudits(d)
    rho0 = phi_plus(d)
    tlist = np.linspace(0.0, 2.0, 21)
    res = evolve(rho0, env, tlist, e_ops=[rho0], store_states=True)
    path = res.params["method"]["paths"][0]
    assert path["sector"] == [2 * d * d - d, d**4]
    L = env.liouvillian()
    want = _dense_reference(L, rho0, tlist[[5, 20]])
    for got, ref in zip([res.states[5], res.states[20]], want):
        np.testing.assert_allclose(got.full(), ref, atol=1e-12)
    me = qutip.mesolve(L, rho0, tlist, [], e_ops=[rho0], options=TIGHT)
    np.testing.assert_allclose(res.expect[0], me.expect[0], atol=1e-9)


@pytest.mark.parametrize("d", [2, 4])
def test_sector_path_equals_the_full_path(d, monkeypatch):
    monkeypatch.setattr(_timeindep, "SECTOR_MIN", 1)
    env = _qudits(d)
    tlist = np.linspace(0.0, 1.5, 16)
    a = evolve(phi_plus(d), env, tlist, e_ops=["negativity"], store_states=True)

    def full(L, x, copy=True):  # the whole space, as if no sector were found
        P = _sectors._pattern(L)
        return _sectors.Sector(np.arange(P.shape[0]), P, P.shape[0])

    monkeypatch.setattr(_timeindep, "invariant_sector", full)
    b = evolve(phi_plus(d), env, tlist, e_ops=["negativity"], store_states=True)
    assert a.params["method"]["paths"][0]["sector"][0] < b.params["method"]["paths"][0]["sector"][0]
    for x, y in zip(a.states, b.states):
        np.testing.assert_allclose(x.full(), y.full(), atol=1e-12)


def test_generic_state_uses_the_whole_space_and_stays_exact():
    d = 2
    env = _qudits(d)
    rho0 = qutip.rand_dm([d, d], seed=3)
    tlist = np.linspace(0.0, 1.0, 6)
    res = evolve(rho0, env, tlist, e_ops=["purity"], store_states=True)
    assert res.params["method"]["paths"][0]["sector"] == [d**4, d**4]
    want = _dense_reference(env.liouvillian(), rho0, tlist)
    for got, ref in zip(res.states, want):
        np.testing.assert_allclose(got.full(), ref, atol=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_propagator_by_blocks_matches_the_dense_exponential(d):
    env = _qudits(d)
    E = propagator(env, 0.8)
    want = (env.liouvillian() * 0.8).expm()
    np.testing.assert_allclose(E.full(), want.full(), atol=1e-12)


def test_generator_to_qutip_is_qutip_liouvillian_of_the_averaged_jumps():
    # shared drive: jump operators sqrt(kappa)(G (x) I - I (x) G^*) for every generator
    d, kappa = 3, 0.7
    proc = BrownianNoise(kappa=kappa, channels=d * d - 1, name="drive")
    gm = _gellmann(d)
    env = Environment((d, d), [Drive(proc, 0, gm), Drive(proc, 1, gm, conjugate=True)])
    eye = qutip.qeye(d)
    c_ops = [
        math.sqrt(kappa)
        * (qutip.tensor(qutip.Qobj(G), eye) - qutip.tensor(eye, qutip.Qobj(G.conj())))
        for G in gm
    ]
    want = qutip.liouvillian(None, c_ops)
    got = env.averaged_generator().to_qutip()
    assert got.dims == want.dims and got.superrep == "super"
    np.testing.assert_allclose(got.full(), want.full(), atol=1e-13)


# ----------------------------------------------------------------------------- memory
def test_big_cavity_runs_within_its_memory_estimate():
    import tracemalloc

    N = 30
    _, _, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)
    tlist = np.linspace(0.0, 10.0, 201)
    tracemalloc.start()
    try:
        res = evolve(rho0, env, tlist, e_ops=[qutip.num(N)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    est = res.params["method"]["memory_estimate_bytes"]
    # the estimate counts the model's dense local generator, its working copies, the
    # sparse Liouvillian and the Taylor vectors: the measured peak stays below it
    assert peak <= est
    # and far below what a stored d^2 x d^2 exponential per output time would take
    assert est < 201 * (N**4) * 16 / 10


def test_big_cavity_is_refused_before_allocating(monkeypatch):
    import tracemalloc

    N = 30
    _, _, env = _cavity(N)
    rho0 = qutip.fock_dm(N, 0)
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "20M")
    tracemalloc.start()
    try:
        with pytest.raises(MemoryLimitError) as err:
            evolve(rho0, env, np.linspace(0.0, 10.0, 201), e_ops=[qutip.num(N)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    msg = str(err.value)
    assert "\n" not in msg and "EPLT_MEMORY_LIMIT" in msg and "MiB" in msg
    assert peak < 20 * 2**20  # refused before the large arrays exist


def test_stored_states_are_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "4M")
    _, _, env = _cavity(10)
    with pytest.raises(MemoryLimitError, match="store_states=False"):
        evolve(qutip.fock_dm(10, 0), env, np.linspace(0, 1, 5000), store_states=True)


def test_bad_memory_limit_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "lots")
    _, _, env = _cavity(4)
    with pytest.raises(ValueError, match="EPLT_MEMORY_LIMIT must be a size"):
        evolve(qutip.fock_dm(4, 0), env, [0.0, 1.0])


def test_propagator_of_a_big_party_is_refused(monkeypatch):
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "10M")
    _, _, env = _cavity(30)
    with pytest.raises(MemoryLimitError, match="local channels"):
        marginal_channels(env, 1.0)


# ----------------------------------------------------------------------------- long times
def _gad_and_reset(rate):
    H = qubit_hamiltonian(1.0)
    tau = thermal_state(H, math.log(3.0))  # nbar = 0.5: p1 = 1/4
    gad = Environment((2, 2), [thermal_bath(k, H, nbar=0.5, rate=rate) for k in (0, 1)])
    clock = PoissonClock(rate=rate, name="clock")
    shared = Environment((2, 2), [Reset(clock, k, tau) for k in (0, 1)], taus=(tau, tau))
    return tau, gad, shared


@pytest.mark.parametrize("rt", [1e6, 1e12, 1e16])
@pytest.mark.parametrize("which", ["gad", "shared"])
def test_long_times_reach_the_steady_state_to_rounding(rt, which):
    tau, gad, shared = _gad_and_reset(1e6)
    env = gad if which == "gad" else shared
    times = np.linspace(0.0, rt / 1e6, 11)
    res = evolve(phi_plus(), env, times, e_ops=["purity"], store_states=True)
    ss = qutip.tensor(tau, tau).full()
    # the steady state of both is tau (x) tau: purity (5/8)^2, every entry to rounding
    np.testing.assert_allclose(res.expect["purity"][1:], (5 / 8) ** 2, atol=1e-14)
    for st in res.states[1:]:
        np.testing.assert_allclose(st.full(), ss, atol=1e-14)


def test_esd_marginals_agree_at_extreme_rates():
    # eplt run esd --set G=1e6 --set t_max=1e6 reported max_marginal_difference 8e-4
    from eplt.studies import esd

    envs = esd.environments(0.5, G=1e6)
    times = np.linspace(0.0, 1e6, 21)
    marg = []
    for env in envs.values():
        res = evolve(phi_plus(), env, times, e_ops=["purity"], store_states=True)
        marg.append(np.stack([s.ptrace(0).full() for s in res.states]))
    for m in marg[1:]:
        np.testing.assert_allclose(m, marg[0], atol=1e-14)


@pytest.mark.parametrize("t", [30.0, 80.0, 1e3])
def test_stationary_projection_equals_the_exponential(t):
    # a damped qubit: eigenvalues 0, -r/2 +- 2i, -r with r = 1 + 1/4 (gap 0.625); beyond
    # gap t = 40 exp(L t) is computed as the stationary projector. Reference: exp(L t/8)
    # squared three times (norms ~100 at most, no digits lost)
    from eplt.dynamics.superop import _lindbladian

    a = qutip.destroy(2).full()
    L = _lindbladian(qutip.sigmaz().full(), [a, 0.5 * a.conj().T])
    got = step_matrix(L, t)
    want = expm_times(L, np.array([t / 8]))[0]
    for _ in range(3):
        want = want @ want
    np.testing.assert_allclose(got, want, atol=1e-14)
    if 0.625 * t >= 40:
        np.testing.assert_allclose(got @ got, got, atol=1e-15)  # a projector


def test_long_krylov_stage_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(_timeindep, "DENSE_LOCAL_MAX", 1)  # a party "too large" for dense
    _, _, env = _cavity(6)
    with pytest.raises(ValueError, match="matrix-vector products") as err:
        evolve(qutip.fock_dm(6, 0), env, [0.0, 1e12])
    assert "\n" not in str(err.value)

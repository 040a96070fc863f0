"""Time-dependent terms through qutip's integrators and the batched Magnus scheme, against
qutip.mesolve at a tight tolerance (atol 1e-12, rtol 1e-10; its own error here is ~1e-11).

eplt runs at ``Exact()`` (atol 1e-10) unless stated; ``TOL = 1e-7`` leaves room for the
error accumulated over the output intervals and none for a wrong term, coefficient or
convention (errors of order 0.1). Work is counted (right-hand-side evaluations, as calls of
the drive's coefficient function; Magnus substeps), never timed.
"""

import math

import numpy as np
import pytest
import qutip
import scipy.sparse as sp
from eplt.baths import Environment, lindblad, thermal_bath
from eplt.dynamics import Exact, evolve
from eplt.dynamics import _tdqutip as tq
from eplt.dynamics import _timedep as td

TOL = 1e-7
TIGHT = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**7}


def _expect(res):
    return np.array(list(res.expect))


# --------------------------------------------------------------------------- damped driven cavity
N = 15  # joint Liouvillian with 1457 nonzeros: next to the vern7 / adams boundary


def _counted():
    """``(cos(1.3 t), its call count)``: qutip calls it for each right-hand side."""
    calls = [0]

    def coeff(t):
        calls[0] += 1
        return np.cos(1.3 * t)

    return coeff, calls


def _cavity(coeff):
    a = qutip.destroy(N)
    H = [a.dag() * a, [0.3 * (a + a.dag()), coeff]]
    c_ops = [math.sqrt(0.5 * 1.2) * a, math.sqrt(0.5 * 0.2) * a.dag()]
    return H, c_ops, qutip.fock_dm(N, 0), [a.dag() * a, a + a.dag()]


def _force(monkeypatch, method):
    """Make :func:`choose_ode_method` pick ``method`` at every tolerance and size."""
    if method == "vern7":
        monkeypatch.setattr(tq, "VERN_NNZ_MIN", 0)
        monkeypatch.setattr(tq, "VERN_TOL_MAX", 1.0)
    elif method == "adams":
        monkeypatch.setattr(tq, "VERN_NNZ_MIN", 10**12)


@pytest.mark.parametrize("method", ["adams", "vern7", "auto"])
def test_driven_cavity_matches_mesolve(method, monkeypatch):
    """One damped cavity with a cos drive (a large party: qutip's integrator on the
    joint Liouvillian), through each of qutip's methods the cost model picks from."""
    _force(monkeypatch, method)
    H, c_ops, rho0, e_ops = _cavity(lambda t: np.cos(1.3 * t))
    t = np.linspace(0, 10, 41)
    ref = np.array(qutip.mesolve(H, rho0, t, c_ops, e_ops=e_ops, options=TIGHT).expect)
    assert np.abs(ref[1]).max() > 0.1  # the drive matters
    res = evolve(rho0, Environment((N,), [lindblad(0, H, c_ops)]), t, e_ops=e_ops)
    (info,) = res.params["method"]["timedep"]
    assert info["integrator"] == "qutip" and "large parties" in info["reason"]
    L = qutip.liouvillian(qutip.QobjEvo(H), c_ops)
    nnz = L(0.0).to("csr").data.as_scipy().count_nonzero()  # as mesolve builds it: 1457
    expected = tq.choose_ode_method(nnz, 1e-10, 0.0)
    assert (info["ode_method"], info["ode_reason"]) == expected
    if method != "auto":
        assert info["ode_method"] == method
    np.testing.assert_allclose(_expect(res), ref, atol=TOL, rtol=0)


def test_large_party_given_as_dense_qobjs_matches_mesolve():
    """Operators built from arrays (qutip keeps them dense): counted, converted to CSR,
    integrated as mesolve integrates them."""
    d = 6
    a = qutip.destroy(d).full()
    H = [qutip.Qobj(a.conj().T @ a), [qutip.Qobj(a + a.conj().T), lambda t: np.cos(2 * t)]]
    c_ops = [qutip.Qobj(np.sqrt(0.2) * a)]
    assert H[0].dtype is qutip.data.Dense
    rho0, n = qutip.coherent_dm(d, 0.8), qutip.Qobj(a.conj().T @ a)
    t = np.linspace(0, 3, 13)
    ref = np.array(qutip.mesolve(H, rho0, t, c_ops, e_ops=[n], options=TIGHT).expect)
    res = evolve(rho0, Environment((d,), [lindblad(0, H, c_ops)]), t, e_ops=[n])
    (info,) = res.params["method"]["timedep"]
    assert info["integrator"] == "qutip" and info["ode_method"] == "adams"  # few nonzeros
    np.testing.assert_allclose(_expect(res), ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("method", ["adams", "vern7", "auto"])
def test_looser_tolerance_takes_fewer_right_hand_sides(method, monkeypatch):
    """Exact(atol) is the integrator's own tolerance: looser means fewer right-hand sides
    (counted as calls of the drive's coefficient), and the error stays within 10 atol of
    the tight reference (plus the reference's own ~1e-11)."""
    _force(monkeypatch, method)
    t = np.linspace(0, 10, 41)
    calls, methods = [], []
    for atol in (1e-5, 1e-8, 1e-11):
        coeff, count = _counted()
        H, c_ops, rho0, e_ops = _cavity(coeff)
        ref = np.array(qutip.mesolve(H, rho0, t, c_ops, e_ops=e_ops, options=TIGHT).expect)
        env = Environment((N,), [lindblad(0, H, c_ops)])
        count[0] = 0
        res = evolve(rho0, env, t, e_ops=e_ops, method=Exact(atol=atol))
        calls.append(count[0])
        methods.append(res.params["method"]["timedep"][0]["ode_method"])
        assert np.abs(_expect(res) - ref).max() <= 10 * atol + 1e-10, (atol, methods[-1])
    assert calls[0] < calls[1] < calls[2], (calls, methods)
    if method == "auto":  # the loose run takes adams, the tight ones vern7 (1457 nonzeros)
        assert methods == [tq.choose_ode_method(1457, a, 0.0)[0] for a in (1e-5, 1e-8, 1e-11)]
        assert methods == ["adams", "vern7", "vern7"]


def test_ode_method_cost_model():
    """vern7 only for a tight tolerance on a large Liouvillian; the reason names both."""
    m, why = tq.choose_ode_method(10**5, 1e-10, 1e-8)
    assert m == "vern7" and "100000 nonzeros" in why and "1e-08" in why
    m, why = tq.choose_ode_method(10**5, 1e-6, 0.0)
    assert m == "adams" and "1e-06 >" in why
    m, why = tq.choose_ode_method(100, 1e-12, 0.0)
    assert m == "adams" and "100 nonzeros <" in why


# --------------------------------------------------------------------------- driven qubits
def _qubits(kind):
    """Three qubits, each with a thermal bath and a drive 0.5 sz + 0.4 cos(1.3 t) sx in
    one coefficient kind; ``(env, mesolve's H, c_ops, rho0, e_ops, tlist, mesolve's
    tlist)``."""
    n, nbar, G = 3, 0.5, 1.0
    t = np.linspace(0, 5, 51)
    tl = np.linspace(0, 5, 501)  # array coefficients: samples on mesolve's tlist
    h0, h1 = 0.5 * qutip.sigmaz(), 0.4 * qutip.sigmax()
    sm = qutip.destroy(2)

    def at(op, k):
        return qutip.tensor([op if j == k else qutip.qeye(2) for j in range(n)])

    def drive(k):
        w = 1.3 + 0.2 * k  # a different frequency on each qubit: a mixed-up party shows
        if kind == "array":
            return [h0, [h1, np.cos(w * tl)]], {"tlist": tl}, np.cos(w * tl)
        if kind == "function":
            return [h0, [h1, lambda s, w=w: np.cos(w * s)]], {}, lambda s, w=w: np.cos(w * s)
        c = qutip.coefficient(lambda s, w: np.cos(w * s), args={"w": w})
        return qutip.QobjEvo([h0, [h1, c]]), {}, c

    terms, H, c_ops, e_ops = [], [sum(at(h0, k) for k in range(n))], [], []
    for k in range(n):
        Hk, kw, coeff = drive(k)
        terms.append(lindblad(k, Hk, **kw))
        terms.append(thermal_bath(k, qutip.Qobj(np.diag([0.0, 1.0])), nbar=nbar, rate=G))
        H.append([at(h1, k), coeff])
        c_ops += [math.sqrt(G * (nbar + 1)) * at(sm, k), math.sqrt(G * nbar) * at(sm.dag(), k)]
        e_ops += [at(qutip.sigmax(), k), at(qutip.sigmay(), k)]
    plus = (qutip.basis(2, 0) + qutip.basis(2, 1)).unit()
    rho0 = qutip.ket2dm(qutip.tensor([plus] * n))
    return Environment((2,) * n, terms), H, c_ops, rho0, e_ops, t, tl if kind == "array" else t


@pytest.mark.parametrize("kind", ["array", "function", "QobjEvo with a Coefficient"])
def test_three_driven_qubits_match_mesolve(kind):
    """Local parties: batched Magnus, each qubit's drive in one coefficient kind."""
    env, H, c_ops, rho0, e_ops, t, t_ref = _qubits(kind)
    ref = np.array(qutip.mesolve(H, rho0, t_ref, c_ops, e_ops=e_ops, options=TIGHT).expect)
    ref = ref[:, :: (len(t_ref) - 1) // (len(t) - 1)]
    res = evolve(rho0, env, t, e_ops=e_ops)
    (info,) = res.params["method"]["timedep"]
    assert info["integrator"] == "magnus4" and "local stage" in info["reason"]
    np.testing.assert_allclose(_expect(res), ref, atol=TOL, rtol=0)


# --------------------------------------------------------------------------- memory
@pytest.mark.parametrize("path", ["magnus4 batched", "magnus4 stepping", "qutip"])
def test_memory_estimate_covers_the_time_dependent_stage(path, monkeypatch):
    """The printed estimate (``memory_estimate_bytes``) is at least the peak the run
    allocates (tracemalloc: Python and numpy allocations), on each path."""
    import tracemalloc

    if path == "magnus4 stepping":
        monkeypatch.setattr(td, "BATCH_TIMES_MAX", 0)
    if path == "qutip":
        H, c_ops, rho0, e_ops = _cavity(lambda t: np.cos(1.3 * t))
        env, t = Environment((N,), [lindblad(0, H, c_ops)]), np.linspace(0, 10, 201)
    else:
        env, _, _, rho0, e_ops, t, _ = _qubits("function")
        t = np.linspace(0, 5, 1001)
    evolve(rho0, env, t[:3], e_ops=e_ops)  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        res = evolve(rho0, env, t, e_ops=e_ops)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    m = res.params["method"]
    (info,) = m["timedep"]
    assert info["integrator"] == path.split()[0]
    assert info["memory_bytes"] == td.stage_memory(
        info["integrator"], env.dims, t.size - 1, 16 * int(np.prod(env.dims)) ** 2
    ) + (3 * 24.0 * 1457 if path == "qutip" else 0.0)
    assert peak <= m["memory_estimate_bytes"], (peak, m["memory_estimate_bytes"])


def test_magnus_batch_shrinks_to_the_memory_limit_and_refuses_below_its_floor(monkeypatch):
    """Under a memory limit the Magnus batch takes what is left (same numbers, to
    rounding); where even the smallest batch does not fit, one line naming the stage and
    what to reduce, before the stage allocates."""
    from eplt.dynamics._memory import MemoryLimitError

    env, _, _, rho0, e_ops, t, _ = _qubits("function")
    free = evolve(rho0, env, t, e_ops=e_ops)
    assert "batch_bytes" not in free.params["method"]["timedep"][0]
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "4M")  # below the default 1.25 x 8 MiB budget
    res = evolve(rho0, env, t, e_ops=e_ops)
    (info,) = res.params["method"]["timedep"]
    assert td.MIN_BATCH_BYTES <= info["batch_bytes"] < td.BATCH_BYTES
    assert info["memory_bytes"] <= 4 * 2**20
    np.testing.assert_allclose(_expect(res), _expect(free), atol=1e-13, rtol=0)
    # a stage's work is at most its grid's (50 intervals: ~0.5 MB); on 2000 intervals
    # with a floor of 4 MiB (about 5.3 MiB for the stage) the observable buffer and its
    # bookkeeping (about 4.05 MiB) fit under 4.4 MiB, the stage does not
    monkeypatch.setattr(td, "MIN_BATCH_BYTES", 2**22)
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "4500K")
    with pytest.raises(MemoryLimitError) as err:
        evolve(rho0, env, np.linspace(0, 5, 2001), e_ops=e_ops)
    msg = str(err.value)
    assert "\n" not in msg and "time-dependent stage (magnus4, dims [2, 2, 2])" in msg
    assert "EPLT_MEMORY_LIMIT" in msg and "fewer output times" in msg


# --------------------------------------------------------------------------- a large driven cavity
def test_large_driven_cavity_sparse_terms_match_mesolve():
    """A cavity of 40 levels with a ``cos`` drive: its time-dependent term is compiled into
    sparse superoperators (a dense 1600 x 1600 constant and piece per term would be built
    before; at N = 80 that is 655 MB each and did not fit in 3 GB) and matches mesolve."""
    n_lev = 40
    a = qutip.destroy(n_lev)
    H = qutip.QobjEvo([a.dag() * a, [0.3 * (a + a.dag()), lambda t: np.cos(1.3 * t)]])
    c_ops = [math.sqrt(0.6) * a, math.sqrt(0.1) * a.dag()]
    term = lindblad(0, H, c_ops)
    assert all(sp.issparse(S) for _, S in term.timedep.pieces)
    tlist = np.linspace(0, 5, 51)
    rho0 = qutip.fock_dm(n_lev, 0)
    e_ops = [a.dag() * a]
    res = evolve(rho0, Environment((n_lev,), [term]), tlist, e_ops=e_ops)
    ref = qutip.mesolve(H, rho0, tlist, c_ops, e_ops=e_ops, options=TIGHT)
    assert np.max(np.abs(_expect(res)[0] - ref.expect[0])) < TOL
    assert res.params["method"]["timedep"][0]["integrator"] == "qutip"

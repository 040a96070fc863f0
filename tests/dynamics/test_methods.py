"""The method interface: one dispatch, a registry, and every method on every system it
applies to (systems x methods, against the closed forms of tests/systems.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import qutip
import scipy.linalg as sla
from eplt.baths import (
    Drive,
    Environment,
    GaussianPulses,
    PoissonClock,
    RandomTelegraph,
    Reset,
    eplt_protocol,
    qubit_hamiltonian,
    thermal_bath,
    thermal_state,
    twirl_drive,
)
from eplt.dynamics import evolve, marginal_channels, propagator
from eplt.dynamics.methods import (
    Solver,
    Task,
    register_method,
    registered_methods,
    resolve,
    unregister_method,
)
from eplt.dynamics.model import stages_of
from eplt.dynamics.propagate import Exact, Sampled, SegmentAveraged, StochasticLiouville
from eplt.dynamics.result import Result
from eplt.dynamics.states import phi_plus
from eplt.dynamics.superop import from_paired, to_paired

from tests import systems

H = qubit_hamiltonian(1.0)
PLUS = qutip.ket2dm((qutip.basis(2, 0) + qutip.basis(2, 1)).unit())
SX = {"sx": qutip.sigmax()}


# --------------------------------------------------------------------------- a toy method
@dataclass(frozen=True)
class DenseExpm:
    """Toy method: the averaged generator as one dense matrix, ``scipy.linalg.expm`` per
    output time (white processes only)."""

    name = "toy-expm"


class DenseExpmSolver(Solver):
    name = "toy-expm"
    options = DenseExpm
    has_channel = True

    def run(self, method, task):
        dims = task.stages[0].model.dims
        rho0 = task.rho0 if task.rho0.isoper else qutip.ket2dm(task.rho0)
        x = to_paired(rho0.full(), dims).reshape(-1)
        out = {k: np.empty(task.tlist.size, complex) for k in task.e_ops}
        now = task.tlist[0]

        def record(i, vec):
            rho = qutip.Qobj(from_paired(vec.reshape(-1), dims), dims=[list(dims)] * 2)
            for k, op in task.e_ops.items():
                out[k][i] = qutip.expect(op, rho)

        record(0, x)
        for start, end, model in task.windows:
            L = model.averaged_generator().to_dense()
            for i in np.nonzero((task.tlist > start) & (task.tlist <= end))[0]:
                x = sla.expm(L * (task.tlist[i] - now)) @ x
                now = task.tlist[i]
                record(i, x)
            x, now = sla.expm(L * (end - now)) @ x, end
        params = {"method": {"name": self.name}, "dims": list(dims)}
        return Result(times=task.tlist, expect=out, method=self.name, params=params)

    def channel(self, method, stages, t, cache=None):
        dims = stages[0].model.dims
        S, start = np.eye(math.prod(d * d for d in dims), dtype=complex), 0.0
        for st in stages:
            dt = min(st.duration, t - start)
            if dt > 0:
                S = sla.expm(st.model.averaged_generator().to_dense() * dt) @ S
            start += st.duration
            if start >= t:
                break
        return [(tuple(range(len(dims))), S)]


@pytest.fixture
def toy():
    solver = register_method(DenseExpmSolver())
    try:
        yield solver
    finally:
        unregister_method(solver.name)


def _reset_env(p0=0.7, rate=1.3):
    clk = PoissonClock(rate=rate, name="clock")
    tau = qutip.Qobj(np.diag([p0, 1 - p0]))
    return Environment((2, 2), [Reset(clk, 0, tau), Reset(clk, 1, tau)], hamiltonians=(H, H))


def test_a_registered_method_runs_through_evolve_and_propagator(toy):
    # registered in this test only: evolve and propagator reach it through the dispatch
    assert "toy-expm" in registered_methods()
    env = Environment((2, 2), [thermal_bath(k, H, 1.0, relaxation_rate=0.8) for k in (0, 1)])
    env = Environment(env.dims, [*env.terms, *twirl_drive(1.5)])
    t = np.linspace(0.0, 1.5, 7)
    ops = {
        "zz": qutip.tensor(qutip.sigmaz(), qutip.sigmaz()),
        "xa": qutip.tensor(qutip.sigmax(), qutip.qeye(2)),
    }
    ref = evolve(phi_plus(), env, t, e_ops=ops, method="exact")
    for method in ("toy-expm", DenseExpm()):
        res = evolve(phi_plus(), env, t, e_ops=ops, method=method)
        assert res.method == "toy-expm"
        for k in ops:  # expm of the same generator: rounding only (1e-12 on entries <= 1)
            np.testing.assert_allclose(res.expect[k], ref.expect[k], atol=1e-12, rtol=0)
    E = propagator(env, 1.1, method="toy-expm")
    np.testing.assert_allclose(E.full(), propagator(env, 1.1, method="exact").full(), atol=1e-12)
    assert E.superrep == "super" and E.dims == [[[2, 2], [2, 2]], [[2, 2], [2, 2]]]
    for a, b in zip(marginal_channels(env, 0.7, method=DenseExpm()), marginal_channels(env, 0.7)):
        np.testing.assert_allclose(a.full(), b.full(), atol=1e-12)
    # never chosen by auto (no auto_rank): auto still picks exact
    assert evolve(phi_plus(), env, t, e_ops=ops).method == "exact"


def test_registry_refuses_duplicates_and_bad_solvers(toy):
    with pytest.raises(ValueError, match="already registered"):
        register_method(DenseExpmSolver())
    with pytest.raises(TypeError, match="Solver instance"):
        register_method(DenseExpm())
    with pytest.raises(ValueError, match="'toy-expm'"):  # the error lists the registered names
        evolve(phi_plus(), _reset_env(), [0.0, 1.0], method="nope")
    with pytest.raises(TypeError, match="DenseExpm"):
        evolve(phi_plus(), _reset_env(), [0.0, 1.0], method=object())


def test_one_dispatch_records_what_auto_chose_and_why():
    env = _reset_env()
    task = Task(stages=tuple(stages_of(env)))
    solver, opts, record = resolve("auto", task)
    assert (solver.name, type(opts), record["auto"]) == ("exact", Exact, True)
    assert "white" in record["reason"]
    res = evolve(phi_plus(), env, [0.0, 1.0], e_ops=["ghz_fidelity"], ntraj=10)
    assert res.params["method"]["reason"] == record["reason"]
    assert res.params["ignored"] == {"ntraj": 10, "reason": "method 'exact' is exact"}
    tel = Environment((2,), [Drive(RandomTelegraph(rate=1.0, amplitude=0.5), 0, [qutip.sigmaz()])])
    assert resolve("auto", Task(stages=tuple(stages_of(tel))))[0].name == "sle"
    solver, opts, _ = resolve("auto", Task(stages=tuple(stages_of(tel)), ntraj=7))
    assert solver.name == "sampled" and opts == Sampled(ntraj=7)
    # the channel dispatch refuses a method without a channel; auto takes the stochastic
    # Liouville channel for the telegraph (exact: the closed-form coherence)
    with pytest.raises(ValueError, match="'sampled' has no channel"):
        propagator(tel, 1.0, method="sampled")
    E = propagator(tel, 1.0)
    out = qutip.vector_to_operator(E @ qutip.operator_to_vector(PLUS))
    want = systems.telegraph_coherence(1.0, 1.0, 0.5)
    assert abs(qutip.expect(qutip.sigmax(), out) - want) < 1e-10


# --------------------------------------------------------------------------- systems x methods
T = np.linspace(0.0, 2.0, 9)
NBAR, P0 = 0.3, 0.7


def _gad():
    baths = [thermal_bath(k, H, nbar=NBAR, rate=1.0) for k in (0, 1)]
    return (
        Environment((2, 2), baths),
        phi_plus(),
        ["ghz_fidelity", "energy"],
        systems.gad_phi_plus(T, NBAR),
    )


def _shared_reset():
    return (
        _reset_env(P0, 1.3),
        phi_plus(),
        ["ghz_fidelity", "energy"],
        systems.shared_reset_phi_plus(T, P0, 1.3),
    )


def _telegraph():
    proc = RandomTelegraph(rate=2.0, amplitude=0.5, name="tel")
    env = Environment((2,), [Drive(proc, 0, [qutip.sigmaz()])])
    return env, PLUS, SX, {"sx": systems.telegraph_coherence(T, 2.0, 0.5)}


def _pulses():
    proc = GaussianPulses(segment=0.3, variance=0.8, name="pulses")
    env = Environment((2,), [Drive(proc, 0, [qutip.sigmaz()])])
    return env, PLUS, SX, {"sx": systems.gaussian_pulse_coherence(T, 0.3, 0.8)}


def _staged():
    # eplt_protocol without twirl: the shared reset to omega = |0><0| (x) |0><0| for
    # t* = ln(1/gamma)/r, then holding thermal baths; up to t*: shared_reset with p0 = 1
    # on a tlist whose last time is the stage boundary
    tau = thermal_state(H, 1.0)
    protocol, t_star = eplt_protocol(tau, tau, H, H, 1.0, rate=1.3)
    return (
        protocol,
        phi_plus(),
        ["ghz_fidelity", "energy"],
        systems.shared_reset_phi_plus(T * t_star / T[-1], 1.0, 1.3),
    )


SYSTEMS = {
    "gad": _gad,
    "shared_reset": _shared_reset,
    "staged": _staged,
    "telegraph": _telegraph,
    "pulses": _pulses,
}
METHODS = {
    "exact": Exact(),
    "segment": SegmentAveraged(),
    "sle": StochasticLiouville(),
    "sampled": Sampled(ntraj=400),
    "permutation": "permutation",
}
#: which methods apply: white systems run through all; the telegraph is Markovian (sle,
#: sampled), the pulses i.i.d. (segment, sampled); permutation needs white processes on
#: identical qubits (the two-qubit systems).
APPLIES = {
    "gad": set(METHODS),
    "shared_reset": set(METHODS),
    "staged": set(METHODS),
    "telegraph": {"sle", "sampled"},
    "pulses": {"segment", "sampled"},
}
MATRIX = [(s, m) for s in SYSTEMS for m in METHODS if m in APPLIES[s]]


def _t_star() -> float:
    tau = thermal_state(H, 1.0)
    return eplt_protocol(tau, tau, H, H, 1.0, rate=1.3)[1]


@pytest.mark.parametrize(("system", "method"), MATRIX)
def test_every_method_on_every_system_it_applies_to(system, method):
    env, rho0, e_ops, want = SYSTEMS[system]()
    store = method != "permutation"
    tlist = T * _t_star() / T[-1] if system == "staged" else T
    res = evolve(rho0, env, tlist, e_ops=e_ops, method=METHODS[method], seed=11, store_states=store)
    assert res.method == method
    for k, v in want.items():
        got = np.real(np.asarray(res.expect[k]))
        got = got[:, 0] if got.ndim == 2 else got  # per-party values: party 0
        if method == "sampled":
            # sampling error: within 5 jackknife standard errors (+ the integration error)
            se = np.asarray(res.stderr[k])
            se = se[:, 0] if se.ndim == 2 else se
            assert np.all(np.abs(got - v) <= 5 * se + 1e-8), (k, np.abs(got - v).max())
        else:
            # exact methods: closed form to the solvers' tolerances (atol 1e-10, hierarchy
            # exact for a two-state chain, 16 Gauss-Hermite nodes: < 1e-12 here)
            np.testing.assert_allclose(got, v, atol=1e-8, rtol=0, err_msg=k)
    solver = resolve(METHODS[method], Task(stages=tuple(stages_of(env))))[0]
    if solver.has_channel:
        # run and channel agree: E_t(rho0) is the state evolve recorded at t (a method that
        # keeps no joint states, the permutation method: the exact method's states, whose
        # observables it matched above through the closed forms)
        states = (
            res.states
            if store
            else evolve(rho0, env, tlist, e_ops=e_ops, method="exact", store_states=True).states
        )
        for i in (3, len(T) - 1):
            E = propagator(env, tlist[i], method=METHODS[method])
            out = qutip.vector_to_operator(E @ qutip.operator_to_vector(rho0))
            np.testing.assert_allclose(out.full(), states[i].full(), atol=1e-10)


def test_a_setting_that_does_not_apply_raises():
    env, rho0, e_ops, _ = _gad()
    with pytest.raises(ValueError, match="ntraj applies to method='sampled' only"):
        evolve(rho0, env, T, e_ops=e_ops, method="segment", ntraj=5)
    with pytest.raises(ValueError, match="does not store joint states"):
        evolve(rho0, env, T, e_ops=e_ops, method="permutation", store_states=True)
    res = evolve(rho0, env, T, e_ops=e_ops, method="permutation")
    assert res.params["method"]["reason"] == "method='permutation' given"

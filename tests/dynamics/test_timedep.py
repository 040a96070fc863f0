"""Time-dependent local terms (QuTiP's formats) against qutip.mesolve and closed forms.

References: ``qutip.mesolve`` at atol = rtol = 1e-12 (its own error is ~1e-10 here), and
two closed forms written out below. eplt runs at its default ``Exact()`` (atol 1e-10 per
output interval and party, see :class:`eplt.dynamics.exact.Exact`), so over the <= 40
output intervals of these tests the expectations agree to a few 1e-9; ``TOL = 1e-7``
leaves that margin and none for a wrong coefficient, argument or convention (errors of
order 0.1).
"""

import numpy as np
import pytest
import qutip
from eplt.baths import Environment, lindblad, twirl_drive
from eplt.dynamics import Exact, evolve
from eplt.dynamics import _timedep as td
from eplt.dynamics._tdterms import _Coefficient

TOL = 1e-7
OPTS = {"atol": 1e-12, "rtol": 1e-12}
PAULIS = [qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()]
SM = qutip.destroy(2)  # |0><1|, the qubit lowering operator (DESIGN.md)
PSI = (qutip.basis(2, 0) + (0.3 + 0.8j) * qutip.basis(2, 1)).unit()
H0, H1 = 0.5 * qutip.sigmaz(), 0.8 * qutip.sigmax()
C_OPS = [np.sqrt(0.2) * SM, np.sqrt(0.05) * SM.dag()]


def _mesolve(H, rho0, t, c_ops, e_ops, args=None):
    res = qutip.mesolve(H, rho0, t, c_ops, e_ops=e_ops, args=args, options=OPTS)
    return np.array(res.expect)


def _expect(res):
    return np.array(list(res.expect))


def _cos2(t):
    return np.cos(2.0 * t)


def _cos_w(t, args):  # qutip's dict style
    return np.cos(args["w"] * t)


def _cos_pythonic(t, w):  # qutip's pythonic style: arguments by name
    return np.cos(w * t)


# --------------------------------------------------------------------------- QuTiP's formats
def _kind(kind, t, tl):
    """``(H, lindblad keywords, mesolve's tlist)`` for one coefficient kind."""
    args = {"w": 2.0}
    if kind == "string":
        return [H0, [H1, "cos(w * t)"]], {"args": args}, t
    if kind == "function":
        return [H0, [H1, _cos2]], {}, t
    if kind == "dict-style function with args":
        return [H0, [H1, _cos_w]], {"args": args}, t
    if kind == "pythonic function with args":
        return [H0, [H1, _cos_pythonic]], {"args": args}, t
    if kind == "array with tlist":
        return [H0, [H1, _cos2(tl)]], {"tlist": tl}, tl
    if kind == "QobjEvo with args":  # its own w = 0 is replaced by args, as in mesolve
        return qutip.QobjEvo([H0, [H1, _cos_pythonic]], args={"w": 0.0}), {"args": args}, t
    # a function returning the Hamiltonian (evaluated by qutip at each time)
    return qutip.QobjEvo(lambda t, w: H0 + np.cos(w * t) * H1, args=args), {}, t


@pytest.mark.parametrize(
    "kind",
    [
        # qutip warns that it evaluates string coefficients with eval when cython is absent
        pytest.param("string", marks=pytest.mark.filterwarnings("ignore:`cython`:UserWarning")),
        "function",
        # qutip 5.3 deprecates f(t, args) in favour of f(t, **args); it still reads it
        pytest.param(
            "dict-style function with args",
            marks=pytest.mark.filterwarnings("ignore:The signature f\\(t, args\\):FutureWarning"),
        ),
        "pythonic function with args",
        "array with tlist",
        "QobjEvo with args",
        "QobjEvo of a function returning the Hamiltonian",
    ],
)
def test_coefficient_kinds_match_mesolve(kind):
    """H(t) = H0 + cos(2t) H1 in every coefficient kind QuTiP accepts."""
    t = np.linspace(0, 4, 21)
    tl = np.linspace(0, 4, 401)  # array coefficients: samples on mesolve's tlist
    H, kw, t_ref = _kind(kind, t, tl)
    ref = _mesolve(H, PSI, t_ref, C_OPS, PAULIS, args=kw.get("args"))
    ref = ref[:, :: (len(t_ref) - 1) // (len(t) - 1)]
    assert np.abs(ref[0]).max() > 0.3  # the drive matters: a dropped term shows
    env = Environment((2,), [lindblad(0, H, C_OPS, **kw)])
    got = _expect(evolve(PSI, env, t, e_ops=PAULIS))
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)


def test_time_dependent_collapse_operator_matches_mesolve():
    """C(t) = sqrt(0.3) sigma- + f(t) sigma+ with a complex f: D[C(t)] has the cross terms
    c_i c_j^* (C_i rho C_j^+ - {C_j^+ C_i, rho}/2), which a wrong conjugation would flip."""

    def f(t):
        return 0.25 * (1 + 0.5j * np.sin(1.7 * t))

    C = qutip.QobjEvo([np.sqrt(0.3) * SM, [SM.dag(), f]])
    t = np.linspace(0, 4, 21)
    ref = _mesolve(H0, PSI, t, [C], PAULIS)
    got = _expect(evolve(PSI, Environment((2,), [lindblad(0, H0, [C])]), t, e_ops=PAULIS))
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)


def test_time_dependent_liouvillian_matches_mesolve():
    """A Liouvillian QobjEvo (superoperator pieces with coefficients) as H."""
    L0 = qutip.liouvillian(H0, C_OPS)
    L1 = qutip.liouvillian(H1)
    evo = qutip.QobjEvo([L0, [L1, _cos2]])
    t = np.linspace(0, 4, 21)
    ref = _mesolve(evo, PSI, t, [], PAULIS)
    got = _expect(evolve(PSI, Environment((2,), [lindblad(0, evo)]), t, e_ops=PAULIS))
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)


def test_coefficients_are_vectorized_only_where_they_agree_with_qutip():
    """A numpy coefficient is evaluated in one call; one that cannot take arrays (a
    branch on t) falls back to qutip's scalar calls; both give qutip's values."""
    t = np.linspace(0, 3, 50)

    def branchy(t):
        return 1.0 if t < 1.5 else np.cos(t)

    for f, vectorized in ((_cos2, True), (branchy, False)):
        coeff = next(e[1] for e in qutip.QobjEvo([[H1, f]]).to_list() if isinstance(e, list))
        c = _Coefficient(coeff)
        vals = c(t)
        np.testing.assert_allclose(vals, [coeff(s) for s in t], rtol=0, atol=1e-15)
        assert (c._vec is not None) == vectorized
    H = [H0, [H1, branchy]]
    ref = _mesolve(H, PSI, t, C_OPS, PAULIS)
    got = _expect(evolve(PSI, Environment((2,), [lindblad(0, H, C_OPS)]), t, e_ops=PAULIS))
    # the kink at t = 1.5 is inside an output interval: error control still holds there
    np.testing.assert_allclose(got, ref, atol=1e-6, rtol=0)


# --------------------------------------------------------------------------- closed forms
# Driven dephasing: H(t) = (w0 + A cos(nu t)) sigma_z / 2, C = sqrt(g) sigma_z, from |+>:
#   rho_01(t) = exp(-i Phi(t) - 2 g t) / 2,  Phi(t) = w0 t + (A / nu) sin(nu t),
#   <sigma_x> = cos(Phi) e^{-2 g t},  <sigma_y> = sin(Phi) e^{-2 g t}.
# Modulated decay: C(t) = sqrt(gamma(t)) sigma-, gamma(t) = g0 (1 + sin(nu t) / 2), from |1>:
#   p_1(t) = exp(-G(t)),  G(t) = g0 (t + (1 - cos(nu t)) / (2 nu)).
W0, AMP, NU, G = 1.1, 0.7, 2.3, 0.15
PLUS = (qutip.basis(2, 0) + qutip.basis(2, 1)).unit()


def _dephasing(party):
    H = [W0 / 2 * qutip.sigmaz(), [AMP / 2 * qutip.sigmaz(), lambda t: np.cos(NU * t)]]
    return lindblad(party, H, [np.sqrt(G) * qutip.sigmaz()])


def _dephasing_closed(t):
    phi = W0 * t + AMP / NU * np.sin(NU * t)
    return np.cos(phi) * np.exp(-2 * G * t), np.sin(phi) * np.exp(-2 * G * t)


def _decay(party):
    return lindblad(party, c_ops=[[SM, lambda t: np.sqrt(G * (1 + 0.5 * np.sin(NU * t)))]])


def _decay_closed(t):
    return np.exp(-G * (t + (1 - np.cos(NU * t)) / (2 * NU)))


@pytest.mark.parametrize(
    "integrator, path",
    [
        ("magnus4", "batched"),
        ("magnus4", "batched in chunks"),
        ("magnus4", "stepping"),
        ("qutip", "local"),
        ("qutip", "shared"),
        ("dop853", "local"),
        ("dop853", "shared"),
    ],
)
def test_closed_forms_through_every_integrator(integrator, path, monkeypatch):
    """Both systems on two parties (driven dephasing on A, modulated decay on B), through
    each integrator and state path (with memory batches small enough to split the work
    into chunks on two of them). "shared" adds a third party C and a shared white
    sigma_z drive on B and C (U on B, U* on C; averaged, the jump operator
    sqrt(kappa) (Z_B - Z_C)): it dephases B and C but keeps B's populations and does not
    touch A, so the closed forms still hold, and the stage is non-local."""
    if integrator == "magnus4":
        monkeypatch.setattr(td, "MAGNUS_FLOPS", 0)
    else:
        monkeypatch.setattr(td, "MAGNUS_FLOPS", 1e30)  # the cost model picks an ODE solver
        monkeypatch.setattr(td, "USE_QUTIP", integrator == "qutip")
    if path == "stepping":
        monkeypatch.setattr(td, "BATCH_TIMES_MAX", 0)
    if path == "batched in chunks":  # 3 output times per chunk of states
        monkeypatch.setattr(td, "CHUNK_BYTES", 3 * 16 * 4**2)
    if path in ("stepping", "local"):  # tiny batches: intervals and outputs in chunks
        monkeypatch.setattr(td, "BATCH_BYTES", 2**12)
    t = np.linspace(0, 5, 26)
    terms = [_dephasing(0), _decay(1)]
    dims, rho0 = (2, 2), qutip.tensor(PLUS, qutip.basis(2, 1))
    if path == "shared":
        from eplt.baths import BrownianNoise, Drive

        proc = BrownianNoise(kappa=0.4, channels=1, name="shared")
        terms += [
            Drive(proc, 1, [qutip.sigmaz()]),
            Drive(proc, 2, [qutip.sigmaz()], conjugate=True),
        ]
        dims, rho0 = (2, 2, 2), qutip.tensor(PLUS, qutip.basis(2, 1), PLUS)
    env = Environment(dims, terms)
    eye = qutip.qeye(2)
    emb = [
        qutip.tensor(*(op if k == j else eye for k in range(len(dims))))
        for j, op in ((0, qutip.sigmax()), (0, qutip.sigmay()), (1, qutip.num(2)))
    ]
    res = evolve(rho0, env, t, e_ops=emb, method=Exact())
    assert [s["integrator"] for s in res.params["method"]["timedep"]] == [integrator]
    sx, sy = _dephasing_closed(t)
    np.testing.assert_allclose(res.expect[0], sx, atol=TOL, rtol=0)
    np.testing.assert_allclose(res.expect[1], sy, atol=TOL, rtol=0)
    np.testing.assert_allclose(res.expect[2], _decay_closed(t), atol=TOL, rtol=0)


# --------------------------------------------------------------------------- tolerances
def test_looser_tolerance_is_cheaper_and_its_error_stays_at_its_scale():
    """Magnus: per output interval and party the propagator's entries are accurate to
    atol; a Pauli expectation combines two entries, so over m intervals its error is at
    most 2 m atol (measured: 1-9 atol). Work falls as the tolerance loosens."""
    H = [H0, [H1, lambda t: np.cos(3 * t)]]
    env = Environment((2,), [lindblad(0, H, C_OPS)])
    for n_times in (6, 51):
        t = np.linspace(0, 10, n_times)
        ref = _mesolve(H, PSI, t, C_OPS, PAULIS)
        errs, work = [], []
        for atol in (1e-5, 1e-8, 1e-11):
            res = evolve(PSI, env, t, e_ops=PAULIS, method=Exact(atol=atol))
            errs.append(float(np.abs(_expect(res) - ref).max()))
            work.append(res.params["method"]["timedep"][0]["substeps"])
            assert errs[-1] <= 2 * (n_times - 1) * atol + 2e-11, (n_times, atol, errs[-1])
        assert work[0] < work[1] < work[2], work
        assert errs[0] > 10 * errs[2], errs  # the tolerance is used, not ignored


def test_rtol_is_honoured_like_atol():
    """The acceptance test is atol + rtol max|P|; the entries of a CPTP map are at most 1,
    so Exact(atol=1e-12, rtol=1e-6) behaves like atol ~1e-6: less work than 1e-10."""
    H = [H0, [H1, lambda t: np.cos(3 * t)]]
    env = Environment((2,), [lindblad(0, H, C_OPS)])
    t = np.linspace(0, 10, 6)
    ref = _mesolve(H, PSI, t, C_OPS, PAULIS)
    loose = evolve(PSI, env, t, e_ops=PAULIS, method=Exact(atol=1e-12, rtol=1e-6))
    tight = evolve(PSI, env, t, e_ops=PAULIS, method=Exact(atol=1e-10))
    wl = loose.params["method"]["timedep"][0]["substeps"]
    wt = tight.params["method"]["timedep"][0]["substeps"]
    assert wl < wt
    assert np.abs(_expect(loose) - ref).max() <= 2 * 5 * 1e-6


def test_runge_kutta_tolerance_is_honoured_on_a_non_local_stage(monkeypatch):
    """DOP853 (non-local stage: a shared twirl drive; qutip's integrator switched off)
    with atol/rtol on the state's entries: a looser tolerance takes fewer right-hand
    sides and its error stays within 100x the tolerance over the run (global vs local
    error)."""
    monkeypatch.setattr(td, "USE_QUTIP", False)
    kappa, eye = 0.7, qutip.qeye(2)
    env = Environment((2, 2), [lindblad(0, [H0, [H1, _cos2]], C_OPS)] + twirl_drive(kappa))
    from eplt.baths import gellmann_basis

    jumps = [
        np.sqrt(kappa)
        * (qutip.tensor(qutip.Qobj(g), eye) - qutip.tensor(eye, qutip.Qobj(g.conj())))
        for g in gellmann_basis(2)
    ]
    Hj = [qutip.tensor(H0, eye), [qutip.tensor(H1, eye), _cos2]]
    cj = jumps + [qutip.tensor(c, eye) for c in C_OPS]
    rho0 = qutip.ket2dm(qutip.tensor(PSI, PSI))
    e_ops = [qutip.tensor(a, b) for a in PAULIS for b in PAULIS]
    t = np.linspace(0, 3, 7)
    ref = _mesolve(Hj, rho0, t, cj, e_ops)
    runs = {}
    for tol in (1e-5, 1e-10):
        res = evolve(rho0, env, t, e_ops=e_ops, method=Exact(atol=tol, rtol=tol))
        (info,) = res.params["method"]["timedep"]
        assert info["integrator"] == "dop853" and "non-local" in info["reason"]
        runs[tol] = (float(np.abs(_expect(res) - ref).max()), info["rhs_evaluations"])
    assert runs[1e-5][1] < runs[1e-10][1]
    assert runs[1e-5][0] <= 100 * 1e-5 and runs[1e-10][0] <= TOL


def test_qutip_integrator_takes_mesolve_options_on_a_non_local_stage():
    """The non-local stage through qutip's MESolver: Exact(atol, rtol) are mesolve's own
    options, so eplt at (1e-6, 1e-6) is as close to the tight reference as mesolve at
    (1e-6, 1e-6) is (both within 100x the tolerance), and at 1e-10 within TOL."""
    kappa, eye = 0.7, qutip.qeye(2)
    from eplt.baths import gellmann_basis

    env = Environment((2, 2), [lindblad(0, [H0, [H1, _cos2]], C_OPS)] + twirl_drive(kappa))
    jumps = [
        np.sqrt(kappa)
        * (qutip.tensor(qutip.Qobj(g), eye) - qutip.tensor(eye, qutip.Qobj(g.conj())))
        for g in gellmann_basis(2)
    ]
    Hj = [qutip.tensor(H0, eye), [qutip.tensor(H1, eye), _cos2]]
    cj = jumps + [qutip.tensor(c, eye) for c in C_OPS]
    rho0 = qutip.ket2dm(qutip.tensor(PSI, PSI))
    e_ops = [qutip.tensor(a, b) for a in PAULIS for b in PAULIS]
    t = np.linspace(0, 3, 7)
    ref = _mesolve(Hj, rho0, t, cj, e_ops)
    loose_opts = {"atol": 1e-6, "rtol": 1e-6}
    peer = np.array(qutip.mesolve(Hj, rho0, t, cj, e_ops=e_ops, options=loose_opts).expect)
    loose = evolve(rho0, env, t, e_ops=e_ops, method=Exact(**loose_opts))
    (info,) = loose.params["method"]["timedep"]
    assert info["integrator"] == "qutip" and "non-local" in info["reason"]
    err, peer_err = np.abs(_expect(loose) - ref).max(), np.abs(peer - ref).max()
    assert err <= 100 * 1e-6 and peer_err <= 100 * 1e-6
    tight = evolve(rho0, env, t, e_ops=e_ops, method=Exact(atol=1e-10, rtol=1e-10))
    np.testing.assert_allclose(_expect(tight), ref, atol=TOL, rtol=0)


# --------------------------------------------------------------------------- what was chosen
def test_auto_records_the_method_and_the_integrator_with_reasons():
    t = np.linspace(0, 1, 5)
    q = evolve(PSI, Environment((2,), [lindblad(0, [H0, [H1, _cos2]], C_OPS)]), t, e_ops=PAULIS)
    assert q.params["method"]["name"] == "exact"
    assert "every process is white" in q.params["method"]["reason"]
    (info,) = q.params["method"]["timedep"]
    assert info["integrator"] == "magnus4" and "local stage" in info["reason"]
    assert (info["start"], info["end"]) == (0.0, 1.0)
    # a six-level party: dense 36 x 36 exponentials cost more than an ODE solver on L x
    d = 6
    a = qutip.destroy(d)
    big = lindblad(0, [a.dag() * a, [a + a.dag(), _cos2]], [np.sqrt(0.2) * a])
    rho = qutip.coherent_dm(d, 0.8)
    res = evolve(rho, Environment((d,), [big]), t, e_ops=[a.dag() * a])
    (info,) = res.params["method"]["timedep"]
    assert info["integrator"] == "qutip" and "large parties" in info["reason"]
    ref = _mesolve([a.dag() * a, [a + a.dag(), _cos2]], rho, t, [np.sqrt(0.2) * a], [a.dag() * a])
    np.testing.assert_allclose(res.expect[0], ref[0], atol=TOL, rtol=0)
    # an explicit method object records no "auto" reason
    res = evolve(PSI, Environment((2,), [lindblad(0, H0)]), t, e_ops=PAULIS, method=Exact())
    assert "reason" not in res.params["method"] and "timedep" not in res.params["method"]


def test_exact_tolerances_are_validated():
    with pytest.raises(ValueError, match=r"rtol must lie in \[0, 1\)"):
        Exact(rtol=1.0)
    with pytest.raises(ValueError, match=r"atol must lie in \(0, 1\)"):
        Exact(atol=-1e-3)
    assert Exact(atol=1e-8, rtol=1e-6).rtol == 1e-6

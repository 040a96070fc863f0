"""A QuTiP model brought in through every public route gives mesolve's numbers.

The reference is :func:`qutip.mesolve` at tight tolerances (atol = rtol = 1e-10). The
exact solver uses matrix exponentials (error ~1e-14), so agreement to 1e-7 on every Pauli
expectation leaves a wide margin for mesolve's integrator and none for a convention error:
a row/column stacking mix-up flips the sign of <sigma_y> (an error of order 1).
"""

import numpy as np
import pytest
import qutip
from eplt.baths import Environment, Kick, PoissonClock, Reset, hamiltonian, lindblad, thermal_bath
from eplt.baths.thermal import qubit_hamiltonian, thermal_state
from eplt.dynamics import evolve
from eplt.dynamics.model import LocalTerm, Model

TOL = 1e-7
OPTS = {"atol": 1e-10, "rtol": 1e-10}
PAULIS = [qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()]


def _model():
    H = 0.7 * qutip.sigmax() + 0.3 * qutip.sigmaz() + 0.2 * qutip.sigmay()
    c_ops = [np.sqrt(0.2) * qutip.destroy(2), np.sqrt(0.1) * qutip.create(2)]
    c_ops.append(np.sqrt(0.05) * qutip.sigmaz())
    psi0 = (qutip.basis(2, 0) + (0.3 + 0.8j) * qutip.basis(2, 1)).unit()
    return H, c_ops, psi0


def _mesolve(H, psi0, t, c_ops, e_ops):
    return np.array(qutip.mesolve(H, psi0, t, c_ops, e_ops=e_ops, options=OPTS).expect)


def test_qutip_liouvillian_in_a_local_term_matches_mesolve_including_sigma_y():
    H, c_ops, psi0 = _model()
    t = np.linspace(0, 3, 31)
    ref = _mesolve(H, psi0, t, c_ops, PAULIS)
    assert np.abs(ref[1]).max() > 0.3  # <sigma_y> is far from zero: a sign flip would show
    term = LocalTerm("q", 0, qutip.liouvillian(H, c_ops))
    got = evolve(psi0, Model((2,), local=(term,)), t, e_ops=PAULIS)
    for i in range(3):
        np.testing.assert_allclose(got.expect[i], ref[i], atol=TOL)
    np.testing.assert_allclose((term.generator - qutip.liouvillian(H, c_ops)).full(), 0, atol=1e-14)


def test_raw_arrays_are_refused_as_superoperators():
    H, c_ops, _ = _model()
    L = qutip.liouvillian(H, c_ops)
    with pytest.raises(TypeError, match="raw arrays are refused"):
        LocalTerm("q", 0, L.full())
    with pytest.raises(TypeError, match="operator, not a superoperator"):
        LocalTerm("q", 0, H)


@pytest.mark.parametrize(
    "route",
    [
        "lindblad(H, c_ops)",
        "lindblad(liouvillian)",
        "lindblad(choi)",
        "lindblad(H, superop c_ops)",
        "hamiltonian + lindblad(c_ops)",
        "LocalTerm(liouvillian)",
        "Environment(LocalTerm)",
    ],
)
def test_every_route_matches_mesolve(route):
    H, c_ops, psi0 = _model()
    t = np.linspace(0, 2.5, 26)
    ref = _mesolve(H, psi0, t, c_ops, PAULIS)
    L = qutip.liouvillian(H, c_ops)
    if route == "LocalTerm(liouvillian)":
        protocol = Model((2,), local=(LocalTerm("q", 0, L),))
    elif route == "Environment(LocalTerm)":
        protocol = Environment((2,), [LocalTerm("q", 0, L)])
    else:
        terms = {
            "lindblad(H, c_ops)": [lindblad(0, H, c_ops)],
            "lindblad(liouvillian)": [lindblad(0, L)],
            "lindblad(choi)": [lindblad(0, qutip.to_choi(L))],
            "lindblad(H, superop c_ops)": [
                lindblad(0, H, [qutip.lindblad_dissipator(c) for c in c_ops])
            ],
            "hamiltonian + lindblad(c_ops)": [hamiltonian(0, H), lindblad(0, c_ops=c_ops)],
        }[route]
        protocol = Environment((2,), terms)
    got = evolve(psi0, protocol, t, e_ops=PAULIS)
    for i in range(3):
        np.testing.assert_allclose(got.expect[i], ref[i], atol=TOL, err_msg=f"Pauli {i}")


def test_environment_liouvillian_is_qutips():
    H, c_ops, _ = _model()
    H1 = 0.4 * qutip.sigmay()
    env = Environment((2, 2), [lindblad(0, H, c_ops), lindblad(1, H1)])
    eye = qutip.qeye(2)
    want = qutip.liouvillian(
        qutip.tensor(H, eye) + qutip.tensor(eye, H1), [qutip.tensor(c, eye) for c in c_ops]
    )
    got = env.liouvillian()
    assert got.superrep == "super" and got.dims == want.dims
    np.testing.assert_allclose(got.full(), want.full(), atol=1e-12)
    np.testing.assert_allclose(
        env.terms[0].generator.full(), qutip.liouvillian(H, c_ops).full(), atol=1e-14
    )


def test_two_parties_with_correlations_match_mesolve():
    """lindblad on each party of two qubits vs mesolve on the joint space, including the
    two-point functions <sigma_y (x) sigma_x> (sign-sensitive on both parties)."""
    H, c_ops, psi0 = _model()
    H1 = 0.4 * qutip.sigmay() - 0.5 * qutip.sigmaz()
    c1 = [np.sqrt(0.3) * qutip.destroy(2)]
    rho0 = qutip.ket2dm(qutip.tensor(psi0, (qutip.basis(2, 0) + 1j * qutip.basis(2, 1)).unit()))
    rho0 = 0.8 * rho0 + 0.2 * qutip.ket2dm(qutip.bell_state("00"))
    eye = qutip.qeye(2)
    Hj = qutip.tensor(H, eye) + qutip.tensor(eye, H1)
    cj = [qutip.tensor(c, eye) for c in c_ops] + [qutip.tensor(eye, c) for c in c1]
    e_ops = [qutip.tensor(a, b) for a in PAULIS for b in PAULIS]
    t = np.linspace(0, 2, 11)
    ref = _mesolve(Hj, rho0, t, cj, e_ops)
    env = Environment((2, 2), [lindblad(0, H, c_ops), lindblad(1, H1, c1)])
    got = evolve(rho0, env, t, e_ops=e_ops)
    for i in range(9):
        np.testing.assert_allclose(got.expect[i], ref[i], atol=TOL)


def test_thermal_bath_is_the_dissipator_only_unless_asked():
    Hq = qubit_hamiltonian(1.3)
    nbar, G = 0.4, 0.7
    c_ops = [np.sqrt(G * (nbar + 1)) * qutip.destroy(2), np.sqrt(G * nbar) * qutip.create(2)]
    _, _, psi0 = _model()
    t = np.linspace(0, 2, 11)
    for include, H in ((False, 0 * Hq), (True, Hq)):
        ref = _mesolve(H, psi0, t, c_ops, PAULIS)
        bath = thermal_bath(0, Hq, nbar=nbar, rate=G, include_hamiltonian=include)
        got = evolve(psi0, Environment((2,), [bath]), t, e_ops=PAULIS)
        for i in range(3):
            np.testing.assert_allclose(got.expect[i], ref[i], atol=TOL)


def test_non_hermitian_expectations_are_complex():
    """<a> for a = destroy(2) is complex; mesolve's value, not its real part."""
    H, c_ops, psi0 = _model()
    t = np.linspace(0, 2, 11)
    a = qutip.destroy(2)
    ref = qutip.mesolve(H, psi0, t, c_ops, e_ops=[a], options=OPTS).expect[0]
    assert np.abs(np.imag(ref)).max() > 0.1
    got = evolve(psi0, Environment((2,), [lindblad(0, H, c_ops)]), t, e_ops=[a])
    assert np.iscomplexobj(got.expect[0])
    np.testing.assert_allclose(got.expect[0], ref, atol=TOL)
    assert not np.iscomplexobj(
        evolve(psi0, Environment((2,), [lindblad(0, H, c_ops)]), t, e_ops=[qutip.sigmay()]).expect[
            0
        ]
    )


def test_e_ops_list_of_qobj_names_dict_and_callables():
    H, c_ops, psi0 = _model()
    env = Environment((2,), [lindblad(0, H, c_ops)])
    t = np.linspace(0, 1, 5)
    ref = _mesolve(H, psi0, t, c_ops, PAULIS)
    res = evolve(
        psi0,
        env,
        t,
        e_ops=[
            qutip.sigmax(),
            "purity",
            lambda t_, state: qutip.expect(qutip.sigmay(), state) * t_,
            lambda rho: qutip.expect(qutip.sigmaz(), rho),
        ],
    )
    assert res.expect.keys() == ["e0", "purity", "e2", "e3"]
    np.testing.assert_allclose(res.expect[0], ref[0], atol=TOL)
    np.testing.assert_allclose(res.expect["e0"], ref[0], atol=TOL)
    np.testing.assert_allclose(res.expect[2], ref[1] * t, atol=TOL)  # f(t, state) gets t
    np.testing.assert_allclose(res.expect[-1], ref[2], atol=TOL)
    purity = (1 + ref[0] ** 2 + ref[1] ** 2 + ref[2] ** 2) / 2
    np.testing.assert_allclose(res.expect[1], purity, atol=TOL)
    by_name = evolve(psi0, env, t, e_ops={"sy": qutip.sigmay()})
    np.testing.assert_allclose(by_name.expect["sy"], ref[1], atol=TOL)
    single = evolve(psi0, env, t, e_ops=qutip.sigmaz())
    np.testing.assert_allclose(single.expect[0], ref[2], atol=TOL)
    with pytest.raises(KeyError, match="position 4"):
        res.expect[4]
    with pytest.raises(TypeError, match=r"\(t, state\)"):
        evolve(psi0, env, t, e_ops=[lambda a, b, c: 0.0])


def test_lindblad_input_errors():
    with pytest.raises(ValueError, match="needs H, c_ops"):
        lindblad(0)
    with pytest.raises(ValueError, match="Hermitian"):
        lindblad(0, qutip.destroy(2))
    with pytest.raises(ValueError, match="different dimensions"):
        lindblad(0, qutip.sigmaz(), [qutip.destroy(3)])
    with pytest.raises(ValueError, match="dimension 3, party 0 has 2"):
        Environment((2,), [lindblad(0, qutip.num(3))])


def test_reset_and_kick_of_the_wrong_dimension_are_refused_when_built():
    clk = PoissonClock(rate=1.0, name="clock")
    tau3 = thermal_state(qutip.num(3), 1.0)
    with pytest.raises(
        ValueError, match=r"Reset on party 1: omega has shape \(3, 3\), party 1 has dimension 2"
    ):
        Environment(
            (2, 2), [Reset(clk, 0, thermal_state(qubit_hamiltonian(1.0), 1.0)), Reset(clk, 1, tau3)]
        )
    with pytest.raises(
        ValueError, match=r"Kick on party 0: U has shape \(3, 3\), party 0 has dimension 2"
    ):
        Environment((2,), [Kick(clk, 0, qutip.qeye(3))])
    with pytest.raises(ValueError, match="not unitary"):
        Kick(clk, 0, qutip.destroy(2))
    with pytest.raises(ValueError, match="trace 1"):
        Reset(clk, 0, qutip.qeye(2))


# --------------------------------------------------------------------------- time-dependent
H0, H1 = 0.5 * qutip.sigmaz(), 0.8 * qutip.sigmax()


def _drive(t):
    return np.cos(2.0 * t)


@pytest.mark.parametrize(
    "form",
    [
        "function",
        "array",
        "QobjEvo",
        # qutip warns that it evaluates string coefficients with eval when cython is absent
        pytest.param("string", marks=pytest.mark.filterwarnings("ignore:`cython`:UserWarning")),
    ],
)
def test_time_dependent_hamiltonian_matches_mesolve(form):
    """H(t) = H0 + cos(2t) H1 in each of QuTiP's formats. Error control: Exact(atol=1e-10)
    per output interval, 30 intervals; mesolve at 1e-12; the bound asserted is 1e-7."""
    _, c_ops, psi0 = _model()
    t = np.linspace(0, 3, 31)
    tl = np.linspace(0, 3, 301)
    H, kw, t_ref = {
        "function": ([H0, [H1, _drive]], {}, t),
        "array": ([H0, [H1, _drive(tl)]], {"tlist": tl}, tl),
        "QobjEvo": (qutip.QobjEvo([H0, [H1, _drive]]), {}, t),
        "string": ([H0, [H1, "cos(w * t)"]], {"args": {"w": 2.0}}, t),
    }[form]
    opts = {"atol": 1e-12, "rtol": 1e-12}
    ref = qutip.mesolve(H, psi0, t_ref, c_ops, e_ops=PAULIS, args=kw.get("args"), options=opts)
    ref = np.array(ref.expect)[:, :: len(t_ref) // (len(t) - 1)]
    got = evolve(psi0, Environment((2,), [lindblad(0, H, c_ops, **kw)]), t, e_ops=PAULIS)
    for i in range(3):
        np.testing.assert_allclose(got.expect[i], ref[i], atol=TOL)


def test_time_dependent_term_with_a_shared_drive_matches_mesolve():
    """A coupling white process (shared twirl drive, averaged to jump operators
    sqrt(kappa)(G_k (x) I - I (x) G_k^*)) plus a time-dependent H on party A: the dense
    Magnus path, against mesolve on the joint space."""
    from eplt.baths import gellmann_basis, twirl_drive

    _, c_ops, psi0 = _model()
    kappa, eye = 0.7, qutip.qeye(2)
    rho0 = qutip.ket2dm(qutip.tensor(psi0, psi0))
    jumps = [
        np.sqrt(kappa)
        * (qutip.tensor(qutip.Qobj(g), eye) - qutip.tensor(eye, qutip.Qobj(g.conj())))
        for g in gellmann_basis(2)
    ]
    cj = jumps + [qutip.tensor(c, eye) for c in c_ops]
    Hj = [qutip.tensor(H0, eye), [qutip.tensor(H1, eye), _drive]]
    e_ops = [qutip.tensor(a, b) for a in PAULIS for b in PAULIS]
    t = np.linspace(0, 2, 11)
    ref = _mesolve(Hj, rho0, t, cj, e_ops)
    env = Environment((2, 2), [lindblad(0, [H0, [H1, _drive]], c_ops)] + twirl_drive(kappa))
    got = evolve(rho0, env, t, e_ops=e_ops)
    for i in range(9):
        np.testing.assert_allclose(got.expect[i], ref[i], atol=TOL)


def test_time_dependent_terms_need_the_exact_method():
    from eplt.baths import Drive, GaussianPulses

    term = lindblad(0, [H0, [H1, _drive]])
    pulses = GaussianPulses(segment=0.1, variance=1.0, channels=1, name="p")
    env = Environment((2,), [term, Drive(pulses, 0, [qutip.sigmaz()])])
    with pytest.raises(ValueError, match="method='exact' only"):
        evolve(qutip.basis(2, 0), env, [0.0, 1.0])
    with pytest.raises(ValueError, match="atol must lie in"):
        from eplt.dynamics import Exact

        Exact(atol=0.0)


# --------------------------------------------------------------------------- QuTiP parity
def _cos_w(t, w):
    return np.cos(w * t)


def test_args_apply_to_qobjevo_terms_as_in_mesolve():
    """mesolve(H, ..., args=...) updates the arguments of a QobjEvo H and of QobjEvo
    collapse operators; lindblad(..., args=...) must do the same (it used to run with the
    QobjEvo's own arguments: an error of 0.5 in <sigma_z>)."""
    _, _, psi0 = _model()
    H = qutip.QobjEvo([H0, [H1, _cos_w]], args={"w": 0.0})
    C = qutip.QobjEvo(
        [np.sqrt(0.2) * qutip.destroy(2), [0.3 * qutip.create(2), _cos_w]], args={"w": 0.0}
    )
    t = np.linspace(0, 3, 16)
    args = {"w": 3.0}
    ref = np.array(qutip.mesolve(H, psi0, t, [C], e_ops=PAULIS, args=args, options=OPTS).expect)
    stale = np.array(qutip.mesolve(H, psi0, t, [C], e_ops=PAULIS, options=OPTS).expect)
    assert np.abs(ref - stale).max() > 0.1  # the arguments matter
    got = evolve(psi0, Environment((2,), [lindblad(0, H, [C], args=args)]), t, e_ops=PAULIS)
    np.testing.assert_allclose(np.array(list(got.expect)), ref, atol=TOL)
    # without args the QobjEvo keeps its own, as in mesolve
    got = evolve(psi0, Environment((2,), [lindblad(0, H, [C])]), t, e_ops=PAULIS)
    np.testing.assert_allclose(np.array(list(got.expect)), stale, atol=TOL)
    (coeff,) = [e[1] for e in H.to_list() if isinstance(e, list)]
    assert coeff.args == {"w": 0.0}  # the user's QobjEvo is not changed


@pytest.mark.parametrize("feedback", ["expect", "state"])
def test_feedback_qobjevo_is_refused(feedback):
    """A coefficient that depends on the state (qutip's feedback arguments) cannot be part
    of a channel; it is refused in one line instead of giving a number unrelated to
    mesolve's."""
    from qutip.solver.mesolve import MESolver

    fb = {
        "expect": MESolver.ExpectFeedback(qutip.sigmaz()),
        "state": MESolver.StateFeedback(),
    }[feedback]

    def coeff(t, x):
        return 0.1

    H = qutip.QobjEvo([H0, [H1, coeff]], args={"x": fb})
    with pytest.raises(ValueError, match=r"feedback \(args \['x'\] depend on the state"):
        lindblad(0, H)
    plain = qutip.QobjEvo([H0, [H1, coeff]], args={"x": 0.0})
    with pytest.raises(ValueError, match="feedback"):
        lindblad(0, plain, args={"x": fb})
    with pytest.raises(ValueError, match="feedback"):
        lindblad(0, c_ops=[[qutip.destroy(2), coeff]], args={"x": fb})


def test_out_of_scope_inputs_get_one_clear_message():
    sz = qutip.sigmaz()
    with pytest.raises(TypeError, match=r"H is a Python function; give QuTiP's list format"):
        lindblad(0, lambda t, args: sz)
    with pytest.raises(ValueError, match=r"element 1 is an array of samples; give tlist="):
        lindblad(0, [sz, [qutip.sigmax(), np.cos(np.linspace(0, 1, 11))]])
    pair = qutip.tensor(sz, sz)
    with pytest.raises(ValueError, match=r"every term must be local to one party.*dimension 4"):
        lindblad(0, pair)
    with pytest.raises(ValueError, match="every term must be local to one party"):
        lindblad(0, c_ops=[qutip.tensor(qutip.destroy(2), qutip.qeye(2))])
    with pytest.raises(ValueError, match="every term must be local to one party"):
        lindblad(0, [pair, [pair, np.cos]])
    with pytest.raises(ValueError, match="every term must be local to one party"):
        lindblad(0, qutip.liouvillian(pair))
    # the coupled pair as one party of the product dimension works
    flat = qutip.Qobj(pair.full())
    env = Environment(
        (4,),
        [
            lindblad(
                0,
                flat,
                [qutip.Qobj(np.sqrt(0.3) * qutip.tensor(qutip.destroy(2), qutip.qeye(2)).full())],
            )
        ],
    )
    assert env.dims == (4,)
    L = qutip.liouvillian(sz, [qutip.destroy(2)])
    bad = L.copy()
    bad.superrep = "stinespring"
    with pytest.raises(
        ValueError, match=r"representation 'stinespring'; supported: 'super', 'choi', 'chi'"
    ):
        lindblad(0, bad)
    env = Environment((2,), [lindblad(0, sz)])
    with pytest.raises(TypeError, match=r"rho0 is a superoperator .* give the state"):
        evolve(qutip.to_super(qutip.sigmax()), env, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"H must be a square operator, got shape \(2, 1\)"):
        lindblad(0, [qutip.basis(2, 0), [qutip.basis(2, 1), np.cos]])
    with pytest.raises(TypeError, match="args must be a dict"):
        lindblad(0, [sz, [qutip.sigmax(), np.cos]], args=[1.0])


def test_result_expect_is_a_list_of_arrays_as_in_qutip(tmp_path):
    """e_ops as a list: Result.expect behaves as qutip's result.expect (a list of arrays
    in order), and the names stay (studies read "negativity" etc. by name)."""
    H, c_ops, psi0 = _model()
    t = np.linspace(0, 1, 5)
    env = Environment((2,), [lindblad(0, H, c_ops)])
    ref = qutip.mesolve(H, psi0, t, c_ops, e_ops=PAULIS + [qutip.destroy(2)], options=OPTS)
    res = evolve(psi0, env, t, e_ops=PAULIS + [qutip.destroy(2)])
    assert len(res.expect) == len(ref.expect) == 4
    for mine, theirs in zip(res.expect, ref.expect, strict=True):  # iterating gives arrays
        np.testing.assert_allclose(mine, theirs, atol=TOL)
    assert np.array(res.expect).shape == np.array(ref.expect).shape == (4, 5)
    np.testing.assert_array_equal(res.expect["e1"], res.expect[1])
    assert res.expect.keys() == ["e0", "e1", "e2", "e3"] and "e3" in res.expect
    assert [k for k, _ in res.expect.items()] == res.expect.keys()
    np.testing.assert_array_equal(res.expect[-1], res.expect[3])
    with pytest.raises(IndexError, match="position 4"):
        res.expect[4]
    with pytest.raises(KeyError, match="e9"):
        res.expect["e9"]
    with pytest.raises(TypeError, match="read-only"):
        res.expect.append(t)
    # builtin names in a list: the same list form, named
    named = evolve(psi0, env, t, e_ops=["purity", qutip.sigmaz()])
    assert named.expect.keys() == ["purity", "e1"] and len(list(named.expect)) == 2
    # a dict keeps the dict form; the list form survives a file round trip
    as_dict = evolve(psi0, env, t, e_ops={"sz": qutip.sigmaz()})
    assert list(as_dict.expect) == ["sz"]
    back = type(res).load(res.save(tmp_path / "r.nc"))
    assert back.expect.keys() == res.expect.keys()
    for a, b in zip(back.expect, res.expect, strict=True):
        np.testing.assert_array_equal(a, b)


def test_final_state_when_states_are_stored():
    H, c_ops, psi0 = _model()
    t = np.linspace(0, 1, 5)
    env = Environment((2,), [lindblad(0, H, c_ops)])
    res = evolve(psi0, env, t, e_ops=PAULIS, store_states=True)
    ref = qutip.mesolve(H, psi0, t, c_ops, options=OPTS).final_state
    np.testing.assert_allclose(res.final_state.full(), ref.full(), atol=TOL)
    assert res.final_state is res.states[-1]
    with pytest.raises(AttributeError, match=r"no states; run evolve\(..., store_states=True\)"):
        _ = evolve(psi0, env, t, e_ops=PAULIS).final_state


def test_facade_exports_propagator_and_lt_error():
    from eplt.dynamics.channels import lt_error
    from eplt.dynamics.propagators import propagator

    import eplt

    assert eplt.propagator is propagator and eplt.lt_error is lt_error
    assert {"propagator", "lt_error"} <= set(eplt.__all__)
    H, c_ops, _ = _model()
    env = eplt.Environment((2,), [eplt.lindblad(0, H, c_ops)])
    S = eplt.propagator(env, 1.3)  # qutip convention: exp(1.3 L) of qutip.liouvillian
    want = (1.3 * qutip.liouvillian(H, c_ops)).expm()
    np.testing.assert_allclose(S.full(), want.full(), atol=1e-12)


def test_time_dependent_terms_that_mesolve_would_read_differently_are_refused():
    # adversarial audit: an empty list crashed the interpreter inside qutip.QobjEvo; a
    # complex coefficient on a Hermitian operator (non-Hermitian H(t)) was integrated as if
    # Hermitian (0.4 from mesolve); an infinite coefficient gave NaN states silently
    sz, sx, a = qutip.sigmaz(), qutip.sigmax(), qutip.destroy(2)
    c = [np.sqrt(0.2) * a]
    with pytest.raises(ValueError, match="empty list"):
        lindblad(0, [])
    with pytest.raises(ValueError, match="must be Hermitian"):
        lindblad(0, [sz, [sx, lambda t: np.exp(1j * t)]], c)
    with pytest.raises(ValueError, match="must be Hermitian"):
        lindblad(0, [sz, [a, np.cos]], c)
    with pytest.raises(ValueError, match="not finite"):
        lindblad(0, [sz, [sx, lambda t: np.inf]], c)
    # the Hermitian combination of the same pieces is accepted and matches mesolve
    # (function coefficients: strings make qutip warn about cython, an error here)
    H = [sz, [a, lambda t: np.exp(1j * t)], [a.dag(), lambda t: np.exp(-1j * t)]]
    t = np.linspace(0, 3, 7)
    res = evolve(qutip.basis(2, 0), Environment((2,), [lindblad(0, H, c)]), t, e_ops=[sz])
    ref = qutip.mesolve(H, qutip.basis(2, 0), t, c, e_ops=[sz], options=OPTS).expect[0]
    np.testing.assert_allclose(np.real(res.expect[0]), ref, atol=1e-7)

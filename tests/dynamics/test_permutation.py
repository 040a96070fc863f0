"""The permutation-symmetric method against the dense engine, QuTiP's PIQS and closed forms.

Tolerances: the dense engine and the symmetric method are both exact (matrix exponentials,
double-precision Krylov); their difference is round-off, a few 1e-15 times the number of
steps, checked to 1e-10 as the issue asks. PIQS is compared through the exponential of
its Dicke-basis Liouvillian (scipy ``expm``), also exact, to 1e-10. The closed forms at
n = 50 hold up to the twirl error, bounded by ``2^n``-free quantities stated at each check.
"""

import itertools
import math

import numpy as np
import pytest
import qutip
import scipy.linalg
from eplt.baths import (
    BrownianNoise,
    Drive,
    Environment,
    Kick,
    PoissonClock,
    exchangeable_phase_drive,
    lindblad,
    qubit_hamiltonian,
    thermal_bath,
    thermal_state,
    zero_sum_phase_drive,
)
from eplt.dynamics import evolve
from eplt.dynamics._symspace import SymSpace
from eplt.dynamics.permutation import (
    AUTO_MIN_QUBITS,
    NotSymmetricError,
    PermutationSymmetric,
    SymmetricState,
    dicke_blocks,
    is_permutation_symmetric,
    symmetric_dimension,
)
from eplt.dynamics.states import noisy_ghz_state, random_state
from eplt.studies.ghz import ghz_protocol

SZ = np.diag([1.0, -1.0])
SX = np.array([[0.0, 1.0], [1.0, 0.0]])
EOPS = ["ghz_fidelity", "marginal_distance", "energy", "purity"]  # both engines


def _tau():
    H = qubit_hamiltonian(1.0)
    return H, thermal_state(H, 1.0)


def _symmetrized(rho: qutip.Qobj, n: int) -> qutip.Qobj:
    """Average of ``rho`` over all permutations of its n qubits (n <= 5)."""
    out = 0
    perms = list(itertools.permutations(range(n)))
    for p in perms:
        out = out + rho.permute(list(p))
    return out / len(perms)


# --------------------------------------------------------------------------- dimensions
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 10, 50, 100])
def test_dicke_block_dimension_counts(n):
    blocks = dicke_blocks(n)
    assert sum(s * s for _, s, _ in blocks) == symmetric_dimension(n) == math.comb(n + 3, 3)
    assert sum(s * m for _, s, m in blocks) == 2**n
    assert [j for j, _, _ in blocks] == [n / 2 - r for r in range(n // 2 + 1)]
    # QuTiP's PIQS counts the same Dicke states (j, m): sum_j (2j + 1)
    from qutip import piqs

    assert sum(s for _, s, _ in blocks) == piqs.num_dicke_states(n)
    if n <= 60:
        assert SymSpace(n).D == symmetric_dimension(n)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_symmetric_dimension_is_that_of_the_permutation_invariant_operators(n):
    # brute force: rank of the symmetrizer on the 4^n-dimensional operator space
    d = 2**n
    perms = list(itertools.permutations(range(n)))
    P = 0
    for p in perms:
        U = qutip.tensor([qutip.qeye(2)] * n).permute(list(p)) if n > 1 else None
        if U is None:
            P = np.eye(d * d)
            break
        idx = np.arange(d).reshape([2] * n).transpose(p).reshape(-1)
        perm = np.eye(d)[idx]
        P = P + np.kron(perm, perm) / len(perms)
    assert np.linalg.matrix_rank(P) == symmetric_dimension(n)


# --------------------------------------------------------------------------- the drive
@pytest.mark.parametrize("n", [3, 4])
def test_exchangeable_drive_averaged_generator_against_explicit(n):
    kappa = 1.7
    env = Environment([2] * n, exchangeable_phase_drive(kappa, n))
    sz = [
        qutip.tensor([qutip.sigmaz() if q == k else qutip.qeye(2) for q in range(n)])
        for k in range(n)
    ]
    # qutip.sigmaz() = diag(1, -1) on (|0>, |1>) here: the same matrix as eplt's sigma_z
    mean = sum(sz) / n
    explicit = sum(qutip.lindblad_dissipator(math.sqrt(kappa) * (z - mean) / 2) for z in sz)
    L = env.liouvillian()
    np.testing.assert_allclose(L.full(), explicit.full(), atol=1e-12)
    assert L.superrep == "super"
    # closed form kappa/4 sum_k D[sz_k] - kappa/(4n) D[sum_k sz_k]
    closed = sum(qutip.lindblad_dissipator(z) for z in sz) * (
        kappa / 4
    ) - qutip.lindblad_dissipator(sum(sz)) * (kappa / (4 * n))
    np.testing.assert_allclose(L.full(), closed.full(), atol=1e-12)
    assert env.spectral_gap() == pytest.approx(kappa * (n - 1) / (2 * n), rel=1e-10)
    # the zero-sum drive keeps the same fixed points (populations and the GHZ coherence)
    old = Environment([2] * n, zero_sum_phase_drive(kappa, n)).liouvillian().full()
    null = scipy.linalg.null_space(L.full())
    np.testing.assert_allclose(old @ null, 0, atol=1e-10)
    assert null.shape[1] == 2**n + 2


def test_exchangeable_drive_rejects_bad_n():
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        exchangeable_phase_drive(1.0, 1)


# --------------------------------------------------------------------------- against dense
def _protocol(n, shared, t_twirl=0.9):
    H, tau = _tau()
    return ghz_protocol(
        n,
        tau,
        H,
        1.0,
        rate=1.0,
        kappa=3.0,
        flip_rate=0.7,
        t_twirl=t_twirl,
        shared=shared,
        drive="exchangeable",
    )


@pytest.mark.parametrize(
    "n",
    [
        2,
        3,
        4,
        pytest.param(5, marks=pytest.mark.slow),
        6,
        7,
        pytest.param(8, marks=pytest.mark.slow),
    ],
)
def test_symmetric_route_equals_dense_on_the_full_protocol(n):
    """n = 5 (a dense 1024 x 1024 joint Liouvillian, Pade) and n = 8 (sparse Krylov on
    4^8) take 25-45 s in the dense engine: marked slow."""
    scenarios = (True, False) if n <= 7 else (True,)  # independent n = 8: local, cheap
    for shared in scenarios:
        proto, t_star = _protocol(n, shared)
        times = np.array([0.0, 0.3, 0.9, 1.2, t_star, 1.3 * t_star])
        rho0 = noisy_ghz_state(n, 0.85)
        dense = evolve(rho0, proto, times, e_ops=EOPS, method="exact")
        sym = evolve(rho0, proto, times, e_ops=EOPS, method="permutation")
        assert sym.method == "permutation"
        for k in EOPS:
            np.testing.assert_allclose(sym.expect[k], dense.expect[k], atol=1e-10, rtol=0)


@pytest.mark.parametrize("n", [3, 4])
def test_symmetric_route_equals_dense_for_a_random_symmetric_input(n):
    rho0 = _symmetrized(random_state([2] * n, seed=11 + n), n)
    rho0 = qutip.Qobj(rho0.full(), dims=[[2] * n] * 2)
    for shared in (True, False):
        proto, _ = _protocol(n, shared)
        times = np.linspace(0.0, 3.0, 7)
        dense = evolve(rho0, proto, times, e_ops=EOPS, method="exact")
        spin = ["collective_spin", "collective_spin_sq"]
        sym = evolve(rho0, proto, times, e_ops=EOPS + spin, method="permutation")
        for k in EOPS:
            np.testing.assert_allclose(sym.expect[k], dense.expect[k], atol=1e-10, rtol=0)
        # trace preserved, spin first moments against the dense state at the end
        np.testing.assert_allclose(
            evolve(rho0, proto, times, e_ops=["trace"], method="permutation").expect["trace"],
            1.0,
            atol=1e-12,
        )
        st = evolve(rho0, proto, times, e_ops=[], method="exact", store_states=True).states[-1]
        # J_a = sum_p sigma_a^(p)/2 with the Pauli matrices on (|0>, |1>): qutip's jmat(1/2)
        J = [qutip.jmat(0.5, a) for a in "xyz"]
        for a, j in enumerate(J):
            Ja = sum(
                qutip.tensor([j if q == p else qutip.qeye(2) for q in range(n)]) for p in range(n)
            )
            assert sym.expect["collective_spin"][-1, a] == pytest.approx(
                qutip.expect(Ja, st), abs=1e-10
            )
            assert sym.expect["collective_spin_sq"][-1, a] == pytest.approx(
                qutip.expect(Ja * Ja, st), abs=1e-10
            )


# --------------------------------------------------------------------------- PIQS
def _piqs_reference(n, times, rates):
    """PIQS's Dicke-basis Liouvillian, exponentiated exactly (scipy ``expm``): excitation
    number, ``<J_x^2>``, ``<J_z^2>``, GHZ fidelity from GHZ, and its trace defect."""
    from qutip import piqs

    L = piqs.Dicke(n, **rates).liouvillian().full()
    rho0 = piqs.ghz(n)
    nd = rho0.shape[0]
    Jx, Jz = (piqs.jspin(n, a, basis="dicke").full() for a in "xz")
    ops = {"exc": Jz + n / 2 * np.eye(nd), "jx2": Jx @ Jx, "jz2": Jz @ Jz, "ghz": rho0.full()}
    ref = {k: [] for k in [*ops, "trace"]}
    for t in times:
        v = scipy.linalg.expm(L * t) @ rho0.full().reshape(-1, order="F")
        r = v.reshape(nd, nd, order="F")
        for k, O in ops.items():
            ref[k].append(np.trace(O @ r).real)
        ref["trace"].append(np.trace(r).real)
    return {k: np.array(v) for k, v in ref.items()}


def _eplt_model(n, gE, gP, gD, gCD):
    """The same model in eplt: ``|1>`` excited, ``sigma_- = |0><1|`` (PIQS's J_-),
    ``sigma_z = diag(-1, 1)`` in PIQS's orientation; collective dephasing ``gCD D[J_z]`` is
    the shared Brownian drive ``J_z`` of strength ``kappa = gCD`` (``kappa D[sum_p A_p]``)."""
    sm = qutip.destroy(2)
    sz = np.diag([-1.0, 1.0])
    proc = BrownianNoise(kappa=gCD, name="cd")
    c_ops = [math.sqrt(gE) * sm, math.sqrt(gP) * sm.dag(), math.sqrt(gD) * qutip.Qobj(sz / 2)]
    terms = [lindblad(q, None, c_ops) for q in range(n)]
    terms += [Drive(proc, q, [sz / 2]) for q in range(n)]
    return Environment([2] * n, terms, hamiltonians=[qubit_hamiltonian(1.0)] * n)


def _compare_with_piqs(n, gE, gP, gD, gCD):
    times = np.array([0.0, 0.4, 1.1, 2.5])
    rates = dict(emission=gE, pumping=gP, dephasing=gD, collective_dephasing=gCD)
    ref = _piqs_reference(n, times, {k: v for k, v in rates.items() if v})
    env = _eplt_model(n, gE, gP, gD, gCD)
    assert is_permutation_symmetric(env)
    res = evolve(
        SymmetricState.noisy_ghz(n, 1.0),
        env,
        times,
        e_ops=["energy", "collective_spin_sq", "ghz_fidelity"],
    )
    assert res.method == "permutation"
    got = {
        "exc": res.expect["energy"].sum(axis=1),  # H = |1><1| per qubit
        "jx2": res.expect["collective_spin_sq"][:, 0],
        "jz2": res.expect["collective_spin_sq"][:, 2],
        "ghz": res.expect["ghz_fidelity"],
    }
    return got, ref


@pytest.mark.parametrize("n", [4, 8])
def test_against_qutip_piqs_dephasing(n):
    """Local and collective dephasing (PIQS's ``(gamma/2) L_A``, ``L_A rho = 2 A rho A^+ -
    {A^+ A, rho}``, is ``gamma D[A]`` for ``A = sigma_z^(p)/2`` and ``J_z``).

    The GHZ coherence has a closed form, ``F(t) = 1/2 + exp(-(n gD/2 + gCD n^2/2) t)/2``:
    the symmetric method meets it to 1e-12. PIQS's Liouvillian itself is off the closed
    form by up to ~1.4e-9 (measured, n = 4, t = 0.4), so PIQS is compared to 1e-8."""
    gD, gCD = 0.5, 0.9
    got, ref = _compare_with_piqs(n, 0.0, 0.0, gD, gCD)
    times = np.array([0.0, 0.4, 1.1, 2.5])
    closed = 0.5 + 0.5 * np.exp(-(n * gD / 2 + gCD * n**2 / 2) * times)
    np.testing.assert_allclose(got["ghz"], closed, atol=1e-12, rtol=0)
    np.testing.assert_allclose(got["jz2"], n / 4 * (1 + (n - 1)), atol=1e-10)  # J_z conserved
    assert np.abs(ref["ghz"] - closed).max() < 1e-8  # PIQS's own accuracy
    for k in got:
        scale = max(1.0, float(np.abs(ref[k]).max()))
        np.testing.assert_allclose(got[k], ref[k], atol=1e-8 * scale, rtol=0)


@pytest.mark.parametrize("kind", ["collective_emission", "collective_pumping"])
def test_collective_dissipator_against_dense_and_piqs(kind):
    """The symmetric space's collective dissipator ``D[J_-]`` (``D[J_+]``) against the
    dense ``qutip.lindblad_dissipator`` of ``J_- = sum_p sigma_-^(p)`` (to 1e-10) and PIQS
    (whose Liouvillian is accurate to ~1e-7 relative here, see above)."""
    from qutip import piqs

    n, g, t = 5, 0.8, 0.6
    V = np.array([[0, 1], [0, 0]], dtype=complex)  # sigma_- = |0><1|: |1> excited
    V = V if kind == "collective_emission" else V.T
    space = SymSpace(n)
    M = g * space.collective_dissipator(V).toarray()
    m_t = scipy.linalg.expm(M * t) @ space.to_mass(SymmetricState.noisy_ghz(n, 1.0).coeffs)
    r1 = space.marginal(m_t[None], 1)[0]
    r2 = space.marginal(m_t[None], 2)[0]
    exc = n * r1[1, 1].real
    jz2 = n / 4 + n * (n - 1) / 4 * np.trace(np.kron(SZ, SZ) @ r2).real
    # dense: 2^5 qubits, the 1024 x 1024 Liouvillian
    J = sum(
        qutip.tensor([qutip.Qobj(V) if q == p else qutip.qeye(2) for q in range(n)])
        for p in range(n)
    )
    Ld = (g * qutip.lindblad_dissipator(J)).full()
    rho0 = qutip.ket2dm(qutip.ghz_state(n)).full()
    rho = (scipy.linalg.expm(Ld * t) @ rho0.reshape(-1, order="F")).reshape(2**n, 2**n, order="F")
    Z = sum(
        qutip.tensor([qutip.sigmaz() if q == p else qutip.qeye(2) for q in range(n)])
        for p in range(n)
    )
    Z = Z.full() / 2
    assert exc == pytest.approx(n / 2 - np.trace(Z @ rho).real, abs=1e-10)
    assert jz2 == pytest.approx(np.trace(Z @ Z @ rho).real, abs=1e-10)
    # PIQS (J_z = +1/2 on the excited state: the same J_z^2)
    L = piqs.Dicke(n, **{kind: g}).liouvillian().full()
    nd = piqs.num_dicke_states(n)
    r = (scipy.linalg.expm(L * t) @ piqs.ghz(n).full().reshape(-1, order="F")).reshape(
        nd, nd, order="F"
    )
    Jz = piqs.jspin(n, "z", basis="dicke").full()
    assert exc == pytest.approx(np.trace((Jz + n / 2 * np.eye(nd)) @ r).real, rel=1e-6)
    assert jz2 == pytest.approx(np.trace(Jz @ Jz @ r).real, rel=1e-6)


# --------------------------------------------------------------------------- closed forms
def test_closed_forms_at_50_qubits():
    n, F_in = 50, 0.8
    H, tau = _tau()
    p0, p1 = np.linalg.eigvalsh(tau.full())[::-1]
    gamma = 2 * p1
    kappa, flip = 5.0, 5.0
    gap = min(kappa * (n - 1) / (2 * n), 2 * flip)
    t_twirl = math.log(1e12) / gap  # twirl error ~1e-12 per coefficient
    out = {}
    for shared in (True, False):
        proto, t_star = ghz_protocol(
            n,
            tau,
            H,
            1.0,
            rate=1.0,
            kappa=kappa,
            flip_rate=flip,
            t_twirl=t_twirl,
            shared=shared,
            drive="exchangeable",
        )
        res = evolve(
            SymmetricState.noisy_ghz(n, F_in),
            proto,
            [0.0, t_twirl, t_star],
            e_ops=["ghz_fidelity", "marginal_distance"],
        )
        assert res.method == "permutation"
        assert "permutation symmetric" in res.params["method"]["reason"]
        out[shared] = res
    # correlated: E^GHZ_gamma(rho0) up to the twirl error (e^{-gap t_twirl} = 1e-12)
    F = out[True].expect["ghz_fidelity"][-1]
    assert F == pytest.approx(0.5 + gamma * (F_in - 0.5), abs=1e-10)
    # independent: tau^(x)n up to the same error on each qubit: (p0^n + p1^n)/2
    Fi = out[False].expect["ghz_fidelity"][-1]
    assert Fi == pytest.approx((p0**n + p1**n) / 2, abs=1e-10)
    for res in out.values():
        assert res.expect["marginal_distance"].shape == (3, n)
        assert res.expect["marginal_distance"][-1].max() < 1e-10
    np.testing.assert_allclose(
        out[True].expect["marginal_distance"], out[False].expect["marginal_distance"], atol=1e-12
    )


# --------------------------------------------------------------------------- states, errors
def test_symmetric_state_round_trip_and_observables():
    n = 4
    rho = noisy_ghz_state(n, 0.7)
    s = SymmetricState.from_qobj(rho)
    np.testing.assert_allclose(s.to_qobj().full(), rho.full(), atol=1e-15)
    np.testing.assert_allclose(SymmetricState.noisy_ghz(n, 0.7).coeffs, s.coeffs, atol=1e-15)
    assert s.ghz_fidelity() == pytest.approx(0.7, abs=1e-14)
    assert s.purity() == pytest.approx((rho * rho).tr().real, abs=1e-14)
    np.testing.assert_allclose(s.marginal(2).full(), rho.ptrace([0, 1]).full(), atol=1e-15)
    sig = qutip.Qobj(np.array([[0.7, 0.2 - 0.1j], [0.2 + 0.1j, 0.3]]))
    prod = SymmetricState.product(sig, 3)
    np.testing.assert_allclose(prod.to_qobj().full(), qutip.tensor([sig] * 3).full(), atol=1e-15)


def test_errors():
    with pytest.raises(ValueError, match="not permutation invariant"):
        SymmetricState.from_qobj(qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 1)))
    with pytest.raises(ValueError, match="fidelity must lie"):
        SymmetricState.noisy_ghz(3, 0.01)
    with pytest.raises(ValueError, match="block_max"):
        PermutationSymmetric(block_max=0)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        dicke_blocks(0)
    with pytest.raises(ValueError, match="above the limit"):
        SymmetricState.noisy_ghz(400, 0.9)
    n = 3
    env = Environment([2] * n, zero_sum_phase_drive(1.0, n))
    assert not is_permutation_symmetric(env)
    with pytest.raises(NotSymmetricError, match="act differently on qubit"):
        evolve(
            noisy_ghz_state(n, 0.9), env, [0.0, 1.0], e_ops=["ghz_fidelity"], method="permutation"
        )
    with pytest.raises(ValueError, match="SymmetricState input needs method"):
        evolve(SymmetricState.noisy_ghz(n, 0.9), env, [0.0, 1.0], method="exact")
    sym = Environment([2] * n, exchangeable_phase_drive(1.0, n))
    with pytest.raises(ValueError, match="computes the observables"):
        evolve(noisy_ghz_state(n, 0.9), sym, [0.0, 1.0], e_ops=["negativity"], method="permutation")
    clock = PoissonClock(1.0, name="c")
    partial = Environment([2] * n, [Kick(clock, q, SX) for q in range(2)])
    with pytest.raises(NotSymmetricError, match="acts on parties"):
        evolve(noisy_ghz_state(n, 0.9), partial, [0.0, 1.0], method="permutation")


def test_auto_takes_the_permutation_method_only_when_it_applies():
    H, _ = _tau()
    n = AUTO_MIN_QUBITS
    env = Environment(
        [2] * n,
        exchangeable_phase_drive(1.0, n)
        + [thermal_bath(q, H, 1.0, relaxation_rate=1.0) for q in range(n)],
    )
    rho = noisy_ghz_state(n, 0.9)
    res = evolve(rho, env, [0.0, 0.5], e_ops=["ghz_fidelity", "marginal_distance"])
    assert res.method == "permutation" and str(n) in res.params["method"]["reason"]
    # not symmetric input, an observable it lacks, or fewer qubits: the dense engine
    asym = qutip.tensor([qutip.basis(2, 0)] + [qutip.basis(2, 1)] * (n - 1))
    assert evolve(asym, env, [0.0, 0.5], e_ops=["ghz_fidelity"]).method == "exact"
    assert evolve(rho, env, [0.0, 0.5], e_ops=["min_bipartition_negativity"]).method == "exact"
    small = Environment([2] * 3, exchangeable_phase_drive(1.0, 3))
    assert (
        evolve(noisy_ghz_state(3, 0.9), small, [0.0, 0.5], e_ops=["ghz_fidelity"]).method == "exact"
    )


@pytest.mark.parametrize("shared", [True, False])
def test_marginal_channel_equals_the_engines_marginal_channels(shared):
    from eplt.dynamics import marginal_channels
    from eplt.dynamics.permutation import marginal_channel

    proto, t_star = _protocol(4, shared)
    for t in (0.5, t_star, 1.4 * t_star):
        ours = marginal_channel(proto, t)
        ref = marginal_channels(proto, t)
        assert ours.superrep == "super" and ours.dims == ref[0].dims
        for r in ref:
            np.testing.assert_allclose(ours.full(), r.full(), atol=1e-12)
    with pytest.raises(ValueError, match="t must be a finite time"):
        marginal_channel(proto, -1.0)


def test_auto_never_changes_which_observables_a_call_returns():
    # review: with e_ops=None the permutation route returned 3 default observables where
    # the dense engine returns 5 (negativities included); and names only the symmetric
    # route knows ('trace', collective spins) would fail below AUTO_MIN_QUBITS under auto
    H, tau = _tau()
    n = AUTO_MIN_QUBITS
    env = Environment(
        [2] * n,
        exchangeable_phase_drive(1.0, n)
        + [thermal_bath(q, H, 1.0, relaxation_rate=1.0) for q in range(n)],
    )
    rho = noisy_ghz_state(n, 0.9)
    res = evolve(rho, env, [0.0, 0.5])
    assert res.method == "exact"
    assert "negativity" in res.expect
    with pytest.raises(ValueError, match="unknown observable 'trace'"):
        evolve(rho, env, [0.0, 0.5], e_ops=["trace"])  # auto: the dense engine, as at n = 5
    # Qobj thermal states and Hamiltonians (as the dense engine takes them)
    sym = evolve(
        rho,
        env,
        [0.0, 0.5],
        e_ops=["ghz_fidelity", "energy", "marginal_distance"],
        taus=[tau] * n,
        hamiltonians=[H] * n,
        method="permutation",
    )
    dense = evolve(
        rho,
        env,
        [0.0, 0.5],
        e_ops=["ghz_fidelity", "energy", "marginal_distance"],
        taus=[tau] * n,
        hamiltonians=[H] * n,
        method="exact",
    )
    for k in ("ghz_fidelity", "energy", "marginal_distance"):
        np.testing.assert_allclose(sym.expect[k], dense.expect[k], atol=1e-10)


@pytest.mark.parametrize("shared", [True, False])
def test_permutation_channel_is_the_exact_channel(shared):
    # the permutation method solves the model's own averaged Lindbladian: its channel is
    # the exact one, and applied to a symmetric input it gives what the method evolves
    from eplt.dynamics.propagators import propagator

    n = 3
    proto, _ = _protocol(n, shared)
    t = 1.3
    E_perm = propagator(proto, t, method="permutation")
    E_exact = propagator(proto, t, method="exact")
    assert (E_perm - E_exact).norm("max") <= 1e-13
    rho0 = noisy_ghz_state(n, 0.8)
    res = evolve(rho0, proto, [0.0, t], e_ops=["ghz_fidelity"], method="permutation")
    out = qutip.vector_to_operator(E_perm * qutip.operator_to_vector(rho0))
    ghz = (qutip.tensor([qutip.basis(2, 0)] * n) + qutip.tensor([qutip.basis(2, 1)] * n)).unit()
    assert abs(qutip.expect(qutip.ket2dm(ghz), out) - res.expect["ghz_fidelity"][-1]) <= 1e-10


def test_permutation_channel_refuses_a_model_that_is_not_symmetric():
    from eplt.dynamics.propagators import propagator

    H = qubit_hamiltonian(1.0)
    env = Environment(
        (2, 2),
        [
            thermal_bath(0, H, 1.0, relaxation_rate=1.0),
            thermal_bath(1, H, 2.0, relaxation_rate=1.0),
        ],
    )
    with pytest.raises(ValueError, match="permutation-symmetric"):
        propagator(env, 1.0, method="permutation")

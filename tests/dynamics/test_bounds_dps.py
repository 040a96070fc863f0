"""DPS level 2 and the three-qubit bounds (eplt.dynamics.dps), and their order with the
explicit protocols.

Tolerances: Clarabel is asked for 1e-10 and often stops "inaccurate" near 1e-8; the
certified dual bound adds the norm of the dual residual times Tr K (~1e-7), and sdp
tolerances are 1e-6 (the ``tol`` that raises).
Closed forms of explicit protocols are exact (1e-12). "Lower below upper" is checked with
the certified dual values, which may undercut a feasible value by round-off only (1e-9).
"""

import numpy as np
import pytest
import qutip
from eplt.dynamics.bounds import sdp_bound
from eplt.dynamics.dps import (
    MemoryLimitError,
    dps2_bound,
    three_party_bound,
    walled_brauer_operators,
)
from eplt.dynamics.losr_protocols import ghz_twirl_amplitude_damping
from eplt.dynamics.measures import ghz_fidelity
from eplt.dynamics.states import ghz_state
from eplt.dynamics.twirls import haar_unitary

SDP_TOL = 1e-6
FLOOR = 1e-9


def _t(p):
    return qutip.Qobj(np.diag([1 - p, p]))


@pytest.mark.parametrize("d", [2, 3])
def test_walled_brauer_operators_commute_with_the_group(d):
    V = haar_unitary(d, np.random.default_rng(d))
    g = np.kron(np.kron(V, V.conj()), V.conj())
    for op in walled_brauer_operators(d):
        assert np.abs(g @ op - op @ g).max() < 1e-13


def test_dps2_equal_qubits_is_egamma():
    res = dps2_bound(_t(0.2), _t(0.2))
    assert res.value == pytest.approx(0.7, abs=SDP_TOL)
    assert res.dual_value >= 0.7 - FLOOR  # E_gamma reaches (1 + gamma)/2
    assert res.dual_value >= res.value - FLOOR


@pytest.mark.parametrize("pA, pB", [(0.1, 0.3), (0.2689414213699951, 0.3775406687981454)])
def test_dps2_between_twirl_amplitude_damping_and_ppt(pA, pB):
    res = dps2_bound(_t(pA), _t(pB))
    ppt = sdp_bound(_t(pA), _t(pB))
    tad = 0.5 + (min(pA, pB) - max(pA, pB)) / 2 + np.sqrt(pA * pB)
    assert tad <= res.dual_value + FLOOR
    assert res.dual_value <= ppt.dual_value + SDP_TOL
    assert res.dual_value >= res.value - FLOOR
    assert ppt.dual_value - res.dual_value > 0.01  # level 2 is much tighter here


def test_dps2_gap_at_the_study_point_is_small():
    """beta omega_A = 1, omega_B = omega_A/2: the PPT bound leaves 0.042 above twirl +
    amplitude damping, DPS level 2 leaves 0.0023 (measured 0.766651 against 0.764348)."""
    pA, pB = 0.2689414213699951, 0.3775406687981454
    tad = 0.5 + (pA - pB) / 2 + np.sqrt(pA * pB)
    res = dps2_bound(_t(pA), _t(pB))
    assert 0 < res.dual_value - tad < 0.003


@pytest.mark.slow
def test_dps2_qutrits_between_column_generation_and_ppt():
    """Two qutrits, H = diag(0, 1, 2.5), beta = 1 (K is 729 x 729, 288 coordinates; about
    1.2 GB peak and ~40 s CPU): the certificate holds, DPS-2 lies at or below PPT and above the
    best protocol found (column generation 0.577960, tests/dynamics/test_losr_colgen.py)."""
    from eplt.baths import thermal_state
    from eplt.dynamics.channels import layer_cake_channel
    from eplt.dynamics.measures import phi_plus_overlap
    from eplt.dynamics.states import phi_plus

    tau = thermal_state(qutip.Qobj(np.diag([0.0, 1.0, 2.5])), 1.0)
    res = dps2_bound(tau, tau)
    ppt = sdp_bound(tau, tau)
    lc = phi_plus_overlap(layer_cake_channel(tau, tau)(phi_plus(3)))
    assert res.n_params == 288
    assert res.dual_value >= res.value - FLOOR
    assert res.dual_value - res.value <= SDP_TOL
    assert res.dual_value <= ppt.dual_value + SDP_TOL
    assert ppt.dual_value - res.dual_value > 0.05  # measured 0.6114034 against 0.687687
    assert lc <= res.dual_value + FLOOR
    assert 0.57796 <= res.dual_value + FLOOR  # the column-generation protocol's value


def test_dps2_memory_estimate_refuses(monkeypatch):
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "1M")
    with pytest.raises(MemoryLimitError, match="EPLT_MEMORY_LIMIT"):
        dps2_bound(_t(0.2), _t(0.3))
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "500M")  # two qutrits need about 1 GB
    t3 = qutip.Qobj(np.diag([0.6, 0.3, 0.1]))
    with pytest.raises(MemoryLimitError, match="GB"):
        dps2_bound(t3, t3)


def _tad3(ps):
    ph = max(ps)
    g = 2 * ph
    eta = np.array(ps) / ph
    return g * (1 + eta.prod() + 2 * np.sqrt(eta).prod()) / 4 + (1 - g) / 2


@pytest.mark.parametrize(
    "ps, tight",
    [((0.2, 0.2, 0.2), True), ((0.1, 0.2, 0.2), True), ((0.3, 0.2, 0.2), False)],
)
def test_three_party_bounds_and_protocols(ps, tight):
    taus = [_t(p) for p in ps]
    ppt = three_party_bound(taus)
    lt = three_party_bound(taus, relaxation="none")
    prot = ghz_fidelity(ghz_twirl_amplitude_damping(taus)(ghz_state(3)))
    assert prot == pytest.approx(_tad3(ps), abs=1e-12)
    assert prot <= ppt.dual_value + FLOOR
    assert ppt.dual_value <= lt.dual_value + SDP_TOL
    assert ppt.dual_value >= ppt.value - FLOOR and lt.dual_value >= lt.value - FLOOR
    if tight:  # equal temperatures (E_gamma^GHZ) and one colder party: optimal
        assert ppt.value == pytest.approx(prot, abs=SDP_TOL)
    else:  # one hotter party: an open gap (0.6167 against 0.65)
        assert ppt.value > prot + 0.02


def test_three_party_bad_input():
    with pytest.raises(ValueError, match="three"):
        three_party_bound([_t(0.2)] * 2)
    with pytest.raises(ValueError, match="relaxation"):
        three_party_bound([_t(0.2)] * 3, relaxation="dps")


def _max_eig_problem(W):
    """``max Tr(W X)``, ``Tr X = 1``, ``X >= 0`` over real symmetric ``X`` in the
    orthonormal basis of :func:`_symsdp._sym_columns`' form: ``(c, A, b, F)``; the optimum
    is ``lambda_max(W)``, the dual optimum ``y = lambda_max``, ``Z = y I - W``."""
    k = W.shape[0]
    basis = []
    for i in range(k):
        for j in range(i, k):
            B = np.zeros((k, k))
            B[i, j] = B[j, i] = 1.0 if i == j else 1 / np.sqrt(2)
            basis.append(B)
    F = np.stack(basis)  # (N, k, k): one PSD block, multiplicity 1
    c = np.einsum("nij,ij->n", F, W)
    A = np.einsum("nii->n", F)[None, :]
    return c, A, np.array([1.0]), F


@pytest.mark.parametrize("seed", range(6))
def test_certificate_is_an_upper_bound_for_inexact_duals(seed):
    # a solver that stops short: the exact duals perturbed by 1e-6 and 1e-4. The
    # certificate is an upper bound on the optimum, and the absorbed form keeps it within
    # the perturbation (the residual-norm form alone is 2-90x looser)
    from eplt.dynamics._symsdp import _certificate

    rng = np.random.default_rng(seed)
    k = 5
    W = rng.normal(size=(k, k))
    W = (W + W.T) / 2
    lam = np.linalg.eigvalsh(W)
    c, A, b, F = _max_eig_problem(W)
    for eps in (1e-6, 1e-4):
        y = np.array([lam[-1]]) + eps * rng.normal(size=1)
        Z = lam[-1] * np.eye(k) - W + eps * rng.normal(size=(k, k))
        Z = (Z + Z.T) / 2
        bound = _certificate(c, A, b, y, [F], [Z], [[1]], 1.0)
        assert bound >= lam[-1] - 1e-12
        # the residual-norm form alone: 2.3e-4 to 4.7e-4 above at eps = 1e-4
        assert bound <= lam[-1] + eps
    # the exact duals certify the optimum to rounding
    Z = lam[-1] * np.eye(k) - W
    assert abs(_certificate(c, A, b, np.array([lam[-1]]), [F], [Z], [[1]], 1.0) - lam[-1]) < 1e-12
    # the sign convention is checked: the negated y gives the same bound
    assert abs(_certificate(c, A, b, -np.array([lam[-1]]), [F], [Z], [[1]], 1.0) - lam[-1]) < 1e-12


def test_certificate_charges_a_family_by_its_multiplicities():
    # one block M with two copies (Tr X = 2 Tr M = 1), max Tr(W M) = lambda_max / 2 = 0.5;
    # duals exact in the equalities but Z = 2y - W with y = 0.5 - e/2 has the eigenvalue
    # -e: <Z, M> >= -e Tr M = -e/2. Charged with the multiplicity 2 the bound is
    # 0.5 - e/2 + 2 e / 2 (the factor 2 is the real embedding's trace, conservative here),
    # with multiplicity 1 0.5 + 1.5 e; both valid
    from eplt.dynamics._symsdp import _charged_bound

    W = np.diag([1.0, 0.5, 0.0])
    c, A, b, F = _max_eig_problem(W)
    A = 2 * A
    e = 1e-5
    y = np.array([0.5 - e / 2])
    Z = 2 * y[0] * np.eye(3) - W
    two = _charged_bound(c, A, b, y, [F], [Z], [[2]], 1.0)
    one = _charged_bound(c, A, b, y, [F], [Z], [[1]], 1.0)
    assert two == pytest.approx(0.5 + e / 2, abs=1e-14)
    assert one == pytest.approx(0.5 + 1.5 * e, abs=1e-14)


def test_certificate_charges_each_family_at_its_own_offset():
    # two families (X's blocks, a transposed algebra's), blocks of multiplicities [2, 1]
    # and [3]: each block's negative eigenvalue e_j is charged 2 trace_bound e_j / c_j and
    # each family at its largest; here 2 * 3 * (max(4e-6 / 2, 1e-6) + 9e-6 / 3)
    from eplt.dynamics._symsdp import _charged_bound

    N = 2
    F = [np.zeros((N, 2, 2)) for _ in range(3)]
    Zs = [np.diag([1.0, -e]) for e in (4e-6, 1e-6, 9e-6)]
    c, A, b = np.zeros(N), np.eye(N), np.array([0.25, 0.5])
    y = np.array([1.0, 2.0])  # residual c - A^T y = -y: ||r|| trace_bound = sqrt(5) * 3
    got = _charged_bound(c, A, b, y, F, Zs, [[2, 1], [3]], 3.0)
    want = 1.25 + 2 * 3.0 * (2e-6 + 3e-6) + np.sqrt(5.0) * 3.0
    assert got == pytest.approx(want, abs=1e-14)
    with pytest.raises(ValueError, match="one multiplicity per PSD block"):
        _charged_bound(c, A, b, y, F, Zs, [[2], [3]], 3.0)

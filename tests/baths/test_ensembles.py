"""Discrete shared unitary ensembles (eplt.baths.ensembles): designs, exact segment average, bits."""

import math

import numpy as np
import pytest
import qutip
from eplt.baths import Environment, Protocol
from eplt.baths.ensembles import UnitaryEnsemble, ensemble_drive, pauli_group
from eplt.dynamics import evolve, marginal_channels, propagator
from eplt.dynamics.channels import clifford_group, isotropic_twirl
from eplt.dynamics.states import bell_state, random_state


def _one_segment(Us, seg=0.7):
    return Protocol(
        [(seg, Environment((2, 2), ensemble_drive(Us, seg))), (math.inf, Environment((2, 2)))]
    )


@pytest.mark.parametrize("d", [2, 3])
def test_pauli_group_is_a_unitary_1_design(d):
    P = pauli_group(d)
    assert len(P) == d * d
    rho = random_state([d], seed=d).full()
    avg = sum(U @ rho @ U.conj().T for U in P) / len(P)
    assert np.abs(avg - np.eye(d) / d).max() < 1e-14


def test_clifford_segment_is_the_isotropic_twirl_and_pauli_keeps_bell_states():
    rho = random_state([2, 2], seed=3)
    for seg in (0.3, 2.0):  # only the number of segments matters
        out = evolve(rho, _one_segment(clifford_group(2), seg), [0, seg], store_states=True)
        assert np.abs((out.states[-1] - isotropic_twirl(rho)).full()).max() < 1e-13
    pauli = _one_segment(pauli_group(2))
    for which in ("00", "01", "10", "11"):
        b = bell_state(which)
        out = evolve(b, pauli, [0, 0.7], store_states=True).states[-1]
        assert np.abs((out - b).full()).max() < 1e-13
    # exact marginals I/2 for every input after one Pauli segment
    for ch in marginal_channels(pauli, 0.7):
        rep = ch.full()
        # the marginal map is rho -> I/2 Tr rho: column stacking, |vec I/2><vec I|
        want = np.outer(np.eye(2).reshape(-1) / 2, np.eye(2).reshape(-1))
        assert np.abs(rep - want).max() < 1e-14


def test_bits_and_validation():
    assert UnitaryEnsemble(pauli_group(2), 1.0).bits == pytest.approx(2.0, abs=1e-15)
    assert UnitaryEnsemble(clifford_group(2), 1.0).bits == pytest.approx(math.log2(24), abs=1e-14)
    biased = UnitaryEnsemble(pauli_group(2)[:2], 1.0, probabilities=(0.25, 0.75))
    assert biased.bits == pytest.approx(
        -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75)), abs=1e-15
    )
    with pytest.raises(ValueError, match=r"unitaries\[0\] is not a 2 x 2 unitary"):
        UnitaryEnsemble([np.diag([1.0, 0.5])], 1.0)
    with pytest.raises(ValueError, match="probabilities must sum to 1"):
        UnitaryEnsemble(pauli_group(2), 1.0, probabilities=(0.5, 0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match=r"segment must lie in \(0, inf\)"):
        UnitaryEnsemble(pauli_group(2), 0.0)


def test_sampled_realizations_agree_with_the_exact_segment_average():
    # 2 segments of a biased two-element ensemble: sampled (2000 realizations) within 4
    # jackknife standard errors of the exact segment average.
    Us = [pauli_group(2)[2], clifford_group(2)[5]]
    proc_drive = ensemble_drive(Us, 0.5, probabilities=(0.3, 0.7))
    proto = Protocol([(1.0, Environment((2, 2), proc_drive)), (math.inf, Environment((2, 2)))])
    rho = random_state([2, 2], seed=11)
    ex = evolve(rho, proto, [0, 1.0], e_ops=["phi_plus_overlap"], method="segment")
    sa = evolve(
        rho, proto, [0, 1.0], e_ops=["phi_plus_overlap"], method="sampled", ntraj=2000, seed=5
    )
    a, b = ex.expect["phi_plus_overlap"][-1], sa.expect["phi_plus_overlap"][-1]
    err = sa.stderr["phi_plus_overlap"][-1]
    assert abs(a - b) <= 4 * err + 1e-12
    # the segment channel is the exact mixture sum_l p_l U_l (x) U_l^*
    S = sum(
        p * qutip.to_super(qutip.tensor(qutip.Qobj(U), qutip.Qobj(U.conj())))
        for p, U in zip((0.3, 0.7), Us)
    )
    S2 = (S * S).full()
    assert np.abs(propagator(proto, 1.0, method="segment").full() - S2).max() < 1e-13

r"""
How well can any local thermalization preserve entanglement? SDP bounds
=======================================================================

How close to :math:`\Phi^+` can a locally thermalizing channel keep :math:`\Phi^+`?
The figure of merit :math:`\langle\Phi^+|E(\Phi^+)|\Phi^+\rangle = \mathrm{Tr}(J_E W)` is
linear in the channel's Choi matrix :math:`J_E`, and "locally thermalizing" is a set of
linear constraints on it, so the best value is a semidefinite program
(:func:`eplt.dynamics.bounds.sdp_bound`):

* ``relaxation="none"``: over **all** LT channels. The answer is the thermofield-double
  value :math:`\min_X (\mathrm{Tr}\sqrt{\tau_X})^2/d` for equal spectra, reached by the
  constant channel that outputs the thermofield double
  (:mod:`eplt.dynamics.thermofield`);
* ``relaxation="ppt"``: over LT channels with a **PPT** Choi matrix across
  :math:`(A_{in}A_{out})|(B_{in}B_{out})`, a relaxation of LOSR (local operations and
  shared randomness), so an upper bound on every shared-randomness protocol. For two
  qubits with equal :math:`\tau` it equals :math:`E_\gamma`'s value
  :math:`(1+\gamma)/2`: :math:`E_\gamma` is optimal.

Lower bounds come from explicit protocols: :math:`E_\gamma`, twirl + amplitude damping,
the layer cake, column generation (:mod:`eplt.dynamics.colgen`); DPS level 2
(:mod:`eplt.dynamics.dps`) tightens the upper bound. See :doc:`/guide/bounds`.
"""

# %%
# One SDP, with its certificate
# -----------------------------
# :func:`~eplt.dynamics.bounds.sdp_bound` returns an :class:`~eplt.dynamics.bounds.LTBound`:
# ``value`` is achieved by an exactly LT (and PPT) channel it returns, ``dual_value`` is
# the objective of an exactly feasible dual point, so the true maximum of the relaxation
# lies in ``[value, dual_value]``; a gap above ``tol`` (1e-6) would raise
# :class:`~eplt.dynamics.bounds.BoundGapError`.
import math

import matplotlib.pyplot as plt
import numpy as np
import qutip
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.bounds import any_lt_overlap_bound, sdp_bound
from eplt.dynamics.channels import eplt_channel, is_locally_thermalizing, lt_error
from eplt.dynamics.finite_twirl import pauli_eplt_channel, shared_randomness
from eplt.dynamics.losr import losr_seesaw
from eplt.dynamics.measures import chsh_max, phi_plus_overlap
from eplt.dynamics.states import bell_state, phi_plus
from eplt.dynamics.thermofield import thermofield_double

H = qubit_hamiltonian(1.0)
tau = thermal_state(H, 1.0)
E = eplt_channel(tau, tau)
ppt = sdp_bound(tau, tau, relaxation="ppt")
print(
    f"PPT bound: value {ppt.value:.8f}, dual {ppt.dual_value:.8f}, "
    f"gap {ppt.dual_value - ppt.value:.1e}, symmetry {ppt.symmetry!r}, blocks {ppt.block_sizes}, "
    f"{ppt.solve_time:.2f} s"
)
print(f"E_gamma: (1 + gamma)/2 = {(1 + E.gamma) / 2:.8f}")
print(f"optimal channel LT: {is_locally_thermalizing(ppt.channel, tau)}")

# %%
# All LT channels and the thermofield double
# ------------------------------------------
# Without the PPT constraint the bound is the closed form
# :func:`~eplt.dynamics.thermofield.any_lt_overlap_bound`,
# :math:`(\sqrt{p_0} + \sqrt{p_1})^2/2` for equal qubits, attained by the channel that
# outputs :func:`~eplt.dynamics.thermofield.thermofield_double` whatever the input.
anylt = sdp_bound(tau, tau, relaxation="none")
tfd = thermofield_double(tau)
print(
    f"any-LT SDP {anylt.value:.8f} (dual {anylt.dual_value:.8f}); "
    f"closed form {any_lt_overlap_bound(tau, tau):.8f}; "
    f"<Phi+|TFD|Phi+> = {qutip.expect(phi_plus(), tfd):.8f}"
)
print("TFD marginals are tau:", (tfd.ptrace(0) - tau).norm() < 1e-12)

# %%
# Unequal qubits: E_gamma is not the LOSR optimum
# ------------------------------------------------
# With :math:`\omega_B = \omega_A/2` the PPT bound lies above :math:`E_\gamma`. Twirl +
# amplitude damping (twirl with probability :math:`2p_h`, damping :math:`p_c/p_h` on the
# colder party, else reset) is exactly LT and much better; column generation finds it
# from resets alone; DPS level 2 leaves a gap of about 0.002. The see-saw, whose starts
# all have E_gamma's shape, stays at E_gamma.
from eplt.dynamics.colgen import column_generation
from eplt.dynamics.dps import dps2_bound
from eplt.dynamics.losr_protocols import twirl_amplitude_damping

tau_B = thermal_state(qubit_hamiltonian(0.5), 1.0)
E_u = eplt_channel(tau, tau_B)
T_u = twirl_amplitude_damping(tau, tau_B)
ppt_u = sdp_bound(tau, tau_B, relaxation="ppt")
cg = column_generation(tau, tau_B, families=("resets",), starts=2, seed=0)
seesaw = losr_seesaw(tau, tau_B, restarts=2, max_iter=20, seed=0)
print(
    f"lower: E_gamma {phi_plus_overlap(E_u(phi_plus())):.6f}, see-saw {seesaw.value:.6f}, "
    f"twirl + damping {phi_plus_overlap(T_u(phi_plus())):.6f}, column generation {cg.value:.6f}"
)
print(f"upper: DPS-2 {dps2_bound(tau, tau_B).dual_value:.6f}, PPT {ppt_u.dual_value:.6f}")
print(
    f"column generation: certified upper bound {cg.upper_bound:.6f} (PPT + no-signalling "
    f"relaxation of the pricing), largest reduced cost found {cg.pricing_gap:.1e} (heuristic)"
)
print(f"twirl + damping: LT error {float(lt_error(T_u.superoperator(), [tau, tau_B])):.1e}")

# %%
# Bounds against temperature
# --------------------------
betas = np.geomspace(0.25, 4.0, 7)
v_ppt, v_any, v_egam = [], [], []
for b in betas:
    t_b = thermal_state(H, b)
    v_ppt.append(sdp_bound(t_b, t_b, relaxation="ppt").dual_value)
    v_any.append(sdp_bound(t_b, t_b, relaxation="none").dual_value)
    v_egam.append((1 + eplt_channel(t_b, t_b).gamma) / 2)
bb = np.geomspace(0.2, 5.0, 100)
p1 = 1 / (1 + np.exp(bb))
fig, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
ax.plot(bb, (np.sqrt(1 - p1) + np.sqrt(p1)) ** 2 / 2, "k-", lw=0.8, label=r"thermofield double")
ax.plot(betas, v_any, "o", ms=4, label="SDP over all LT channels")
ax.plot(bb, 0.5 + p1, "k--", lw=0.8, label=r"$E_\gamma$: $(1+\gamma)/2$")
ax.plot(betas, v_ppt, "s", ms=5, mfc="none", label="SDP over LT + PPT channels")
ax.set_xscale("log")
ax.set_xticks([0.25, 0.5, 1, 2, 4], ["0.25", "0.5", "1", "2", "4"])
ax.minorticks_off()
ax.set(
    xlabel=r"$\beta\omega$ (dimensionless)",
    ylabel=r"max $\langle\Phi^+|E(\Phi^+)|\Phi^+\rangle$",
)
ax.legend(fontsize=8)
plt.show()
print(f"max |PPT - (1+gamma)/2| = {np.max(np.abs(np.array(v_ppt) - v_egam)):.1e}")

# %%
# The gap between the curves is what *quantum* correlations between the baths would buy
# (the thermofield double needs an entangled environment); classical shared randomness,
# inside the PPT set, cannot beat :math:`E_\gamma` for equal qubits.
#
# Fewer shared bits: the Pauli twirl
# ----------------------------------
# :math:`E_\gamma` twirls with a unitary 2-design (the 24 single-qubit Cliffords,
# :math:`\log_2 24` bits of shared randomness, plus the coin).
# :func:`~eplt.dynamics.finite_twirl.pauli_eplt_channel` twirls with the 4 Paulis
# (:math:`U \otimes U^*`), 2 bits: the same marginals (exactly LT), the same output on
# :math:`\Phi^+`, and it leaves every Bell state with fidelity above 1/2 (so still
# entangled), where the Clifford twirl keeps only :math:`\Phi^+`.
P = pauli_eplt_channel(tau, tau)
print(f"LT error: {lt_error(P.superoperator(), [tau, tau]).upper:.1e}")
print(
    f"unitary bits: Clifford {shared_randomness(E).unitary_bits:.3f}, Pauli {shared_randomness(P).unitary_bits:.1f}"
)
for b in ("00", "01", "10", "11"):
    s = bell_state(b)
    print(
        f"Bell {b}: kept {qutip.expect(s, E(s)):.4f} (Clifford), {qutip.expect(s, P(s)):.4f} (Pauli)"
    )
g = E.gamma
print(
    f"CHSH of E_gamma(Phi+): {chsh_max(E(phi_plus())):.6f} = 2 sqrt(1 + gamma^2) = {2 * math.sqrt(1 + g**2):.6f}"
)

r"""
How well can any local thermalization preserve entanglement? SDP bounds
=======================================================================

How close to :math:`\Phi^+` can a locally thermalizing channel keep :math:`\Phi^+`?
The figure of merit :math:`\langle\Phi^+|E(\Phi^+)|\Phi^+\rangle` is linear in the
channel's Choi matrix, and "locally thermalizing" is a set of linear constraints on it,
so the best value is a semidefinite program:

* over **all** LT channels — the answer is the thermofield-double value
  :math:`(\sum_i \sqrt{p_i})^2/d`, reached by the constant channel that outputs the
  thermofield double (whose marginals are :math:`\tau`);
* over LT channels with a **PPT** Choi matrix across :math:`(A_{in}A_{out})|(B_{in}B_{out})`
  — a relaxation of LOSR (local operations and shared randomness), so an upper bound on
  every shared-randomness protocol. For two qubits with equal :math:`\tau` it equals
  :math:`E_\gamma`'s value :math:`(1+\gamma)/2`: :math:`E_\gamma` is optimal.

This page writes the SDPs out with cvxpy (Clarabel solver) to show what they are.
``dynamics.bounds`` (being added) provides them, with see-saw lower bounds over
:math:`k`-branch LOSR protocols, as functions; see :doc:`/guide/bounds`.
"""

# %%
# The Choi matrix and the constraints
# -----------------------------------
# :math:`J = \sum_{ij} |i\rangle\langle j| \otimes E(|i\rangle\langle j|)` on
# :math:`A_{in} B_{in} A_{out} B_{out}` (input first, the ordering of
# :func:`dynamics.channels.choi_matrix`), so :math:`E(X) = \mathrm{Tr}_{in}[J (X^T\otimes I)]`.
# LT: :math:`\mathrm{Tr}_{B_{out}} J = I_{in}\otimes\tau_A` and
# :math:`\mathrm{Tr}_{A_{out}} J = I_{in}\otimes\tau_B` (trace preservation follows).
import cvxpy as cp
import matplotlib.pyplot as plt
import numpy as np

from baths import qubit_hamiltonian, thermal_state
from dynamics.channels import choi_matrix, eplt_channel
from dynamics.states import phi_plus

DIMS = [2, 2, 2, 2]  # A_in, B_in, A_out, B_out
PHI = phi_plus().full()


def best_overlap(tau_A, tau_B, *, ppt):
    J = cp.Variable((16, 16), hermitian=True)
    I4 = np.eye(4)
    cons = [
        J >> 0,
        cp.partial_trace(J, DIMS, axis=3) == np.kron(I4, tau_A),
        cp.partial_trace(J, DIMS, axis=2) == np.kron(I4, tau_B),
    ]
    if ppt:  # transpose B_in and B_out
        cons.append(cp.partial_transpose(cp.partial_transpose(J, DIMS, 1), DIMS, 3) >> 0)
    objective = cp.Maximize(cp.real(cp.trace(J @ np.kron(PHI.T, PHI))))
    prob = cp.Problem(objective, cons)
    prob.solve(solver=cp.CLARABEL)
    return prob.value


# %%
# E_gamma is a feasible point of both programs, with value :math:`(1+\gamma)/2`:
H = qubit_hamiltonian(1.0)
tau = thermal_state(H, 1.0)
E = eplt_channel(tau, tau)
J_E = choi_matrix(E.superoperator())
print(
    f"E_gamma: value {np.real(np.trace(J_E @ np.kron(PHI.T, PHI))):.6f}, (1+gamma)/2 = {(1 + E.gamma) / 2:.6f}"
)
J_pt = J_E.reshape([2] * 8).transpose(0, 5, 2, 7, 4, 1, 6, 3).reshape(16, 16)  # T on B_in, B_out
print(f"         PPT Choi matrix: {np.linalg.eigvalsh(J_pt).min() > -1e-12}")

# %%
# Bounds against temperature
# --------------------------
t_ = tau.full()
print(
    f"beta omega = 1: LT bound {best_overlap(t_, t_, ppt=False):.6f}, "
    f"PPT bound {best_overlap(t_, t_, ppt=True):.6f}"
)

betas = np.linspace(0.1, 4.0, 9)
lt, ppt, egam, tfd = [], [], [], []
for b in betas:
    t_b = thermal_state(H, b).full()
    p = np.real(np.diag(t_b))
    lt.append(best_overlap(t_b, t_b, ppt=False))
    ppt.append(best_overlap(t_b, t_b, ppt=True))
    egam.append((1 + 2 * p.min()) / 2)
    tfd.append(np.sum(np.sqrt(p)) ** 2 / 2)

fig, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
ax.plot(betas, tfd, "k-", lw=0.8, label=r"thermofield double $(\sum_i\sqrt{p_i})^2/d$")
ax.plot(betas, lt, "o", ms=4, label="SDP over LT channels")
ax.plot(betas, egam, "k--", lw=0.8, label=r"$E_\gamma$: $(1+\gamma)/2$")
ax.plot(betas, ppt, "s", ms=4, mfc="none", label="SDP over LT + PPT channels")
ax.set(xlabel=r"$\beta\omega$", ylabel=r"max $\langle\Phi^+|E(\Phi^+)|\Phi^+\rangle$")
ax.legend(fontsize=8)
plt.show()
print(
    f"max |LT - TFD| = {np.max(np.abs(np.array(lt) - tfd)):.1e}, "
    f"max |PPT - (1+gamma)/2| = {np.max(np.abs(np.array(ppt) - egam)):.1e}"
)

# %%
# The gap between the curves is what *quantum* correlations between the baths would buy
# (the thermofield double needs an entangled environment); classical shared randomness
# — LOSR, inside the PPT set — cannot beat :math:`E_\gamma` here.

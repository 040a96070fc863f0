r"""
Your own model from QuTiP objects, checked against ``mesolve``
==============================================================

eplt describes the dynamics of each party by *terms*: deterministic local Lindblad
terms (a Hamiltonian, a thermal bath, a thermal reset) and random terms driven by
classical processes (drives, resets and kicks at clock ticks). Here two qubits are each
coupled to their own thermal bath and one is driven coherently — a purely deterministic,
local model — so the result can be compared with :func:`qutip.mesolve` term by term.

Conventions: qubit :math:`H = \omega|1\rangle\langle 1|`,
:math:`\sigma_- = |0\rangle\langle 1|` = ``qutip.destroy(2)`` (**not**
``qutip.sigmam()``, which uses the opposite ordering). The thermal (Davies) bath of a
qubit is generalized amplitude damping with jumps :math:`\sqrt{G(\bar n+1)}\,\sigma_-`
and :math:`\sqrt{G\bar n}\,\sigma_+`.
"""

# %%
# The model, written with QuTiP operators
# ---------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import qutip

from baths import Environment, hamiltonian, nbar_from_beta, qubit_hamiltonian, thermal_bath
from dynamics import evolve
from dynamics.states import phi_plus

omega, beta, G, drive = 1.0, 1.0, 0.2, 0.3
H = qubit_hamiltonian(omega)  # omega |1><1|
H_A = H + drive * qutip.sigmax()  # party 0 also has a coherent drive
env = Environment(
    (2, 2),
    [
        hamiltonian(0, H_A),
        hamiltonian(1, H),
        thermal_bath(0, H, beta, rate=G),
        thermal_bath(1, H, beta, rate=G),
    ],
)
tlist = np.linspace(0.0, 15.0, 151)
res = evolve(phi_plus(), env, tlist, e_ops=["negativity", "purity", "energy"])
print(res)

# %%
# The same model for ``qutip.mesolve``
# ------------------------------------
# Every term is local, so the joint generator is the sum of the local ones; eplt never
# builds it (the propagator factorises), mesolve does.
sm, I2 = qutip.destroy(2), qutip.qeye(2)
nbar = nbar_from_beta(beta, omega)
c_ops = []
for k in range(2):
    ops = [sm, I2]
    ops = ops if k == 0 else ops[::-1]
    lower = qutip.tensor(*ops)
    c_ops += [np.sqrt(G * (nbar + 1)) * lower, np.sqrt(G * nbar) * lower.dag()]
H_joint = qutip.tensor(H_A, I2) + qutip.tensor(I2, H)
opts = {"atol": 1e-12, "rtol": 1e-10}
ref = qutip.mesolve(H_joint, phi_plus(), tlist, c_ops, options=opts)

from dynamics.measures import negativity

N_ref = np.array([negativity(s) for s in ref.states])
E_ref = np.array([qutip.expect(qutip.tensor(H, I2), s) for s in ref.states])
print(f"max |N_eplt - N_mesolve|       = {np.max(np.abs(res.expect['negativity'] - N_ref)):.2e}")
E_A = np.asarray(res.expect["energy"])[:, 0]  # one column per party
print(f"max |E_A,eplt - E_A,mesolve|   = {np.max(np.abs(E_A - E_ref)):.2e}")

# %%
# The agreement is at the level of mesolve's tolerance. ``energy`` is tracked per party
# as :math:`\mathrm{Tr}(H_k\rho_k)`, with the energy operator :math:`H_k` taken from the
# terms — here the bare :math:`H` of the thermal bath, the Hamiltonian whose thermal state
# the bath prepares (not :math:`H_A`, which includes the drive). Pass
# ``evolve(..., hamiltonians=[...])`` to choose the energy operators yourself.
fig, axs = plt.subplots(1, 2, figsize=(8, 3.2), layout="constrained")
axs[0].plot(tlist, res.expect["negativity"], label="eplt")
axs[0].plot(tlist[::6], N_ref[::6], "o", ms=3, label="qutip.mesolve")
axs[0].set(xlabel="t", ylabel="negativity")
axs[0].legend()
axs[1].plot(tlist, E_A, label="eplt, party A")
axs[1].plot(tlist[::6], E_ref[::6], "o", ms=3, label="qutip.mesolve")
axs[1].set(xlabel="t", ylabel=r"$\mathrm{Tr}(H\rho_A)$")
axs[1].legend()
plt.show()

# %%
# Entanglement dies in finite time here (sudden death); :mod:`dynamics.metrics` finds
# such times by root finding rather than reading them off the grid, see the
# :ref:`study-esd` study.

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
# :func:`eplt.baths.lindblad` (also ``eplt.lindblad``) takes a party's ``H`` and ``c_ops``
# exactly as :func:`qutip.mesolve` reads them. Party A is driven along both
# :math:`\sigma_x` and :math:`\sigma_y` and damped by a thermal bath written out as
# collapse operators; party B uses the package's :func:`eplt.baths.thermal_bath` (the same
# generalized amplitude damping) to show both ways agree.
import matplotlib.pyplot as plt
import numpy as np
import qutip
from eplt.baths import nbar_from_beta
from eplt.dynamics.measures import negativity
from eplt.dynamics.states import phi_plus

import eplt

omega, beta, G, drive_x, drive_y = 1.0, 1.0, 0.2, 0.3, 0.15
H = eplt.qubit_hamiltonian(omega)  # omega |1><1|
H_A = H + drive_x * qutip.sigmax() + drive_y * qutip.sigmay()
sm = qutip.destroy(2)
nbar = nbar_from_beta(beta, omega)
c_A = [np.sqrt(G * (nbar + 1)) * sm, np.sqrt(G * nbar) * sm.dag()]
env = eplt.Environment(
    (2, 2),
    [
        eplt.lindblad(0, H_A, c_A),
        eplt.hamiltonian(1, H),
        eplt.thermal_bath(1, H, beta, rate=G),
    ],
)
I2 = qutip.qeye(2)
sy_A = qutip.tensor(qutip.sigmay(), I2)  # a joint operator as an e_op, as for mesolve
tlist = np.linspace(0.0, 15.0, 151)
res = eplt.evolve(phi_plus(), env, tlist, e_ops=["negativity", "energy", sy_A])
print(res)

# %%
# The same model for ``qutip.mesolve``
# ------------------------------------
# Every term is local, so the joint generator is the sum of the local ones; eplt never
# builds it (the propagator factorises), mesolve does.
c_ops = [qutip.tensor(c, I2) for c in c_A]
c_ops += [
    np.sqrt(G * (nbar + 1)) * qutip.tensor(I2, sm),
    np.sqrt(G * nbar) * qutip.tensor(I2, sm.dag()),
]
H_joint = qutip.tensor(H_A, I2) + qutip.tensor(I2, H)
opts = {"atol": 1e-12, "rtol": 1e-10, "store_states": True}
ref = qutip.mesolve(H_joint, phi_plus(), tlist, c_ops, e_ops=[sy_A], options=opts)

N_ref = np.array([negativity(s) for s in ref.states])
E_ref = np.array([qutip.expect(qutip.tensor(H_A, I2), s) for s in ref.states])
sy_eplt = np.asarray(res.expect[2]).real
print(
    f"max |N_eplt - N_mesolve|           = {np.max(np.abs(res.expect['negativity'] - N_ref)):.2e}"
)
E_A = np.asarray(res.expect["energy"])[:, 0]  # one column per party
print(f"max |E_A,eplt - E_A,mesolve|       = {np.max(np.abs(E_A - E_ref)):.2e}")
print(f"max |<sy_A>_eplt - <sy_A>_mesolve| = {np.max(np.abs(sy_eplt - ref.expect[0])):.2e}")

# %%
# The agreement is at the level of mesolve's tolerance. ``energy`` is tracked per party
# as :math:`\mathrm{Tr}(H_k\rho_k)`, with the energy operator :math:`H_k` taken from the
# terms: for B the bare :math:`H` of the thermal bath (the Hamiltonian whose thermal state
# the bath prepares), for A the ``H`` given to :func:`~eplt.baths.lindblad` (here
# :math:`H_A`, drive included), so the mesolve reference above uses :math:`H_A` too. Pass
# ``evolve(..., hamiltonians=[...])`` to choose the energy operators yourself.
fig, axs = plt.subplots(1, 3, figsize=(9, 3.0), layout="constrained")
axs[0].plot(tlist, res.expect["negativity"], label="eplt")
axs[0].plot(tlist[::6], N_ref[::6], "o", ms=3, label="qutip.mesolve")
axs[0].set(xlabel=r"$t$ ($1/\omega$)", ylabel="negativity")
axs[0].legend()
axs[1].plot(tlist, E_A, label="eplt, party A")
axs[1].plot(tlist[::6], E_ref[::6], "o", ms=3, label="qutip.mesolve")
axs[1].set(xlabel=r"$t$ ($1/\omega$)", ylabel=r"$\mathrm{Tr}(H_A\rho_A)$")
axs[1].legend()
axs[2].plot(tlist, sy_eplt, label="eplt")
axs[2].plot(tlist[::6], ref.expect[0][::6], "o", ms=3, label="qutip.mesolve")
axs[2].set(xlabel=r"$t$ ($1/\omega$)", ylabel=r"$\langle\sigma_y^A\rangle$")
axs[2].legend()
plt.show()

# %%
# Entanglement dies in finite time here (sudden death); :mod:`eplt.dynamics.metrics` finds
# such times by root finding rather than reading them off the grid, see the
# :ref:`study-esd` study.

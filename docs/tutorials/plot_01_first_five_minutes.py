r"""
First five minutes: thermal states, E_gamma and negativity
==========================================================

Two qubits share a maximally entangled state :math:`\Phi^+`. Each must end in its
thermal state :math:`\tau = e^{-\beta H}/Z` — a *local* thermalization. Without shared
randomness the only exact way is to replace each qubit by :math:`\tau`, which destroys
the entanglement. With a shared random coin, the channel :math:`E_\gamma` of Hsieh,
Lostaglio and Acín (arXiv:1904.07945) gives the same thermal marginals *and* an entangled
output. This page computes both with a few lines of eplt.

Conventions (see :doc:`/guide/conventions`): :math:`\hbar = k_B = 1`, qubit
:math:`H = \omega |1\rangle\langle 1|` with ground state :math:`|0\rangle`, negativity
:math:`N(\rho) = (\|\rho^{T_B}\|_1 - 1)/2`.
"""

# %%
# Thermal states
# --------------
# :func:`eplt.baths.thermal_state` takes a Hamiltonian (a ``Qobj``, or the 1-D array of its
# energies) and the inverse temperature ``beta`` in :math:`[0, \infty]`.
import numpy as np
from eplt.baths import nbar_from_beta, qubit_hamiltonian, thermal_state

H = qubit_hamiltonian(omega=1.0)
tau = thermal_state(H, beta=1.0)
print(tau)
p1 = 1 / (1 + np.exp(1.0))  # excited-state population at beta*omega = 1
print(f"p1 = {p1:.6f},  nbar = {nbar_from_beta(1.0, omega=1.0):.6f}")

# %%
# The channel :math:`E_\gamma`
# ----------------------------
# :func:`eplt.dynamics.channels.eplt_channel` builds
# :math:`E_\gamma(\rho) = \gamma\,T(\rho) + (1-\gamma)\,\omega_A\otimes\omega_B` with the
# isotropic twirl :math:`T`, :math:`\gamma = d\,p_{\min}` and the reset states
# :math:`\omega_X = (\tau_X - \gamma I/d)/(1-\gamma)`. It is a callable object with the
# attributes of the construction.
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.measures import marginal_distances, negativity
from eplt.dynamics.states import phi_plus

E = eplt_channel(tau, tau)
out = E(phi_plus())
print(f"gamma = 2 p_min            = {E.gamma:.6f}")
print(f"omega_A (= omega_B)        = diag{E.omega[0].diag().real.round(6).tolist()}")
print(f"N(E_gamma(Phi+))           = {negativity(out):.6f}   closed form p_min = {E.gamma / 2:.6f}")
print(f"marginal distances to tau  = {marginal_distances(out, [tau, tau])}")

# %%
# Both marginals are exactly thermal (to round-off) and the output keeps negativity
# :math:`p_{\min}`. The product of replacement channels — what independent baths reach —
# gives :math:`\tau\otimes\tau`, with no entanglement at all:
import qutip

print(f"N(tau (x) tau) = {negativity(qutip.tensor(tau, tau)):.1f}")

# %%
# Entangled iff the input overlap exceeds 1/2
# -------------------------------------------
# For two qubits with equal :math:`\tau` (not the ground state), :math:`E_\gamma(\rho)` is
# entangled exactly when :math:`F = \langle\Phi^+|\rho|\Phi^+\rangle > 1/2`, at every
# temperature. Isotropic inputs :math:`\rho_F` show it:
import matplotlib.pyplot as plt
from eplt.dynamics.states import isotropic_state

Fs = np.linspace(0.25, 1.0, 61)
fig, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
for beta in (0.25, 1.0, 4.0):
    tb = thermal_state(H, beta)
    Eb = eplt_channel(tb, tb)
    ax.plot(Fs, [negativity(Eb(isotropic_state(F))) for F in Fs], label=rf"$\beta\omega={beta}$")
ax.plot(Fs, [negativity(isotropic_state(F)) for F in Fs], "k:", label="input")
ax.axvline(0.5, color="0.6", lw=0.8)
ax.set_xlabel(r"$F = \langle\Phi^+|\rho_F|\Phi^+\rangle$")
ax.set_ylabel(r"negativity of $E_\gamma(\rho_F)$")
ax.legend()
plt.show()

# %%
# At zero temperature :math:`\tau` is pure, :math:`\gamma = 0`, and no entanglement
# preserving local thermalization exists. eplt says so instead of returning NaNs:
from eplt.dynamics.channels import NoEPLTError

try:
    eplt_channel(thermal_state(H, np.inf), tau)
except NoEPLTError as err:
    print(f"NoEPLTError: {err}")

# %%
# Next: :doc:`plot_02_own_model` builds dynamics that reach :math:`E_\gamma` in time.

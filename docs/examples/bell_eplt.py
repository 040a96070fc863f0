"""Apply the entanglement-preserving local thermalization E_gamma to a Bell state.

Run: python docs/examples/bell_eplt.py
"""

from baths import qubit_hamiltonian, thermal_state
from dynamics.channels import eplt_channel
from dynamics.measures import marginal_distances, negativity
from dynamics.states import phi_plus

tau = thermal_state(qubit_hamiltonian(omega=1.0), beta=1.0)
E = eplt_channel(tau, tau)
out = E(phi_plus())
print(f"gamma = 2 p_min           = {E.gamma:.6f}")
print(f"N(E_gamma(Phi+))         = {negativity(out):.6f}   (closed form p_min = {E.gamma / 2:.6f})")
print(f"marginal distances to tau = {marginal_distances(out, [tau, tau])}")

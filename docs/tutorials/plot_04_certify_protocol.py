r"""
Certifying a protocol: local thermalization is a property of the channel
========================================================================

A channel :math:`E` on two parties is *locally thermalizing* (LT) when
:math:`\mathrm{Tr}_B E(\rho) = \tau_A` and :math:`\mathrm{Tr}_A E(\rho) = \tau_B` for
**every** input :math:`\rho`. A procedure that brings one particular input to thermal
marginals is not a local thermalization. This tutorial

1. checks :math:`E_\gamma` exactly, from its superoperator;
2. takes the averaged channel :math:`E_t` of a dynamical protocol from
   :func:`eplt.dynamics.propagator` and its worst-case LT error
   :math:`\max_\rho \max_X D(\mathrm{Tr}_{\bar X} E_t(\rho), \tau_X)` from
   :func:`eplt.dynamics.channels.lt_error` (a certified bracket, not a sample of inputs);
3. shows that the shared reset clock alone brings :math:`\Phi^+` to thermal marginals
   exactly at :math:`t^*` but is *not* LT (its LT error is :math:`p_{min}`), while a twirl
   of the certified duration :func:`eplt.baths.certified_twirl_time` makes it
   :math:`\epsilon`-LT for every input;
4. compares the channel with QuTiP's own Choi matrix (:func:`qutip.to_choi`).
"""

# %%
# E_gamma is exactly LT
# ---------------------
# Superoperators follow QuTiP: column stacking, a ``Qobj`` with ``superrep='super'``.
import math

import matplotlib.pyplot as plt
import numpy as np
import qutip
from eplt.baths import certified_twirl_time, eplt_protocol, qubit_hamiltonian, thermal_state
from eplt.dynamics import lt_time, marginal_channels, propagator
from eplt.dynamics.channels import eplt_channel, is_cptp, is_locally_thermalizing, lt_error
from eplt.dynamics.measures import trace_distance
from eplt.dynamics.states import phi_plus

H = qubit_hamiltonian(1.0)
beta = 1.0
tau = thermal_state(H, beta)
p_min = 1 / (1 + math.e)  # excited population at beta omega = 1
gamma = 2 * p_min
E = eplt_channel(tau, tau)
S = E.superoperator()
print(S.superrep, S.dims)
print(f"E_gamma: CPTP {is_cptp(S)}, LT {is_locally_thermalizing(S, tau)}")
print(f"lt_error(E_gamma) = {lt_error(S, [tau, tau]).upper:.1e}")

# %%
# The reset clock alone: exact for Phi+, not LT
# ---------------------------------------------
# ``eplt_protocol`` with ``t_twirl = 0`` is the shared Poisson clock resetting both
# qubits to :math:`\omega`, switched off at :math:`t^* = \ln(1/\gamma)/r`.
# :func:`eplt.dynamics.propagator` returns its averaged channel :math:`E_{t^*}` (exact
# averaging: one matrix exponential per stage).
rate, kappa, eps = 1.0, 5.0, 1e-3
proto, t_star = eplt_protocol(tau, tau, H, H, beta, rate=rate, kappa=kappa, t_twirl=0.0)
S0 = propagator(proto, t_star)
out = qutip.vector_to_operator(S0 * qutip.operator_to_vector(phi_plus()))
print(f"t* = {t_star:.4f};  D(Tr_B E(Phi+), tau) = {trace_distance(out.ptrace(0), tau):.1e}")
err0 = lt_error(S0, [tau, tau])
print(
    f"lt_error = [{err0.lower:.6f}, {err0.upper:.6f}] (exact: {err0.exact});  p_min = {p_min:.6f}"
)
print("worst input of party A:", np.round(err0.worst_input[0].full().ravel(), 3))

# %%
# The clock replaces each marginal by :math:`\omega_X` with probability :math:`1-\gamma`
# and keeps it with probability :math:`\gamma`:
# :math:`\rho_X \mapsto \gamma\rho_X + (1-\gamma)\omega_X`, and
# :math:`\tau_X = \gamma I/2 + (1-\gamma)\omega_X`. So the marginal distance is
# :math:`\gamma\, D(\rho_X, I/2)`, largest (:math:`\gamma/2 = p_{min}`) for any pure
# marginal (the solver returned :math:`|+\rangle`). :math:`\Phi^+` happened to have
# maximally mixed marginals, which the clock turns into :math:`\tau` exactly. So the
# clock alone is a procedure for
# :math:`\Phi^+`, not a local thermalization.
#
# The marginal channels
# ---------------------
# The LT error only needs the single-party channels
# :math:`\rho_X \mapsto \mathrm{Tr}_{\bar X} E_t(\rho)`, which
# :func:`eplt.dynamics.marginal_channels` builds without the joint superoperator (so it works
# for many parties). Both give the same bracket.
marg = marginal_channels(proto, t_star)
print([m.dims for m in marg])
print(f"lt_error from the marginals: {lt_error(marg, [tau, tau]).upper:.6f}")

# %%
# The certified twirl time
# ------------------------
# A shared random-unitary drive (:math:`U` on A, :math:`U^*` on B, strength
# :math:`\kappa`) for a time :math:`t_{tw}` contracts each marginal Bloch vector by
# :math:`e^{-2\kappa t_{tw}}`, so
# :math:`\mathrm{lt\_error}(E_{t^*}) = \tfrac{\gamma}{2} e^{-2\kappa t_{tw}}` and the
# shortest twirl with :math:`\mathrm{lt\_error} \le \epsilon` is
# :math:`t_{tw} = \ln(\gamma / 2\epsilon) / 2\kappa`, for every input. That is what
# :func:`eplt.baths.certified_twirl_time` returns (found on the channel, not from a formula).
t_tw = certified_twirl_time(tau, tau, rate=rate, kappa=kappa, eps=eps)
print(
    f"certified t_twirl = {t_tw:.6f};  closed form {math.log(gamma / (2 * eps)) / (2 * kappa):.6f}"
)
proto_c, t_star_c = eplt_protocol(tau, tau, H, H, beta, rate=rate, kappa=kappa, t_twirl=t_tw)
err_c = lt_error(propagator(proto_c, t_star_c), [tau, tau])
print(
    f"t* = {t_star_c:.4f};  lt_error = {err_c.upper:.2e} <= eps = {eps:g}: {err_c.upper <= eps + 1e-12}"
)

# %%
# The LT error against the twirl time, and the worst-case thermalization time
# :func:`eplt.dynamics.lt_time` of the whole protocol (first time after which the channel
# stays :math:`\epsilon`-LT):
t_grid = np.linspace(0.0, 1.2 * t_tw, 7)
errs = []
for tt in t_grid:
    p, ts = eplt_protocol(tau, tau, H, H, beta, rate=rate, kappa=kappa, t_twirl=float(tt))
    errs.append(lt_error(marginal_channels(p, ts), [tau, tau]).upper)
t_eps = lt_time(proto_c, eps, t_max=t_star_c + 2.0)
print(f"lt_time(protocol, eps) = {t_eps:.4f}  (t* = {t_star_c:.4f})")

fig, ax = plt.subplots(figsize=(5.5, 3.3), layout="constrained")
ax.semilogy(kappa * t_grid, errs, "o", label="lt_error (certified)")
x = np.linspace(0, kappa * t_grid[-1], 100)
ax.semilogy(
    x, gamma / 2 * np.exp(-2 * x), "k--", lw=0.8, label=r"$(\gamma/2)\,e^{-2\kappa t_{tw}}$"
)
ax.axhline(eps, color="C3", lw=0.8, label=r"$\epsilon$")
ax.axvline(kappa * t_tw, color="C2", lw=0.8, ls=":", label="certified $t_{tw}$")
ax.set(xlabel=r"$\kappa\, t_{tw}$ (dimensionless)", ylabel=r"LT error of $E_{t^*}$")
ax.legend(fontsize=8)
plt.show()

# %%
# Cross-check with QuTiP
# ----------------------
# The channel is an ordinary QuTiP superoperator: :func:`qutip.to_choi` gives its Choi
# matrix, whose partial traces over the outputs of B and of A encode the marginal maps.
# For an LT channel, applying the Choi matrix to any input must give :math:`\tau`
# marginals; QuTiP's CPTP check agrees with ours.
S_c = propagator(proto_c, t_star_c)
J = qutip.to_choi(S_c)
print(J.superrep, "CP:", J.iscp, "TP:", J.istp, "| is_cptp:", is_cptp(S_c))
rng = np.random.default_rng(1)
worst = 0.0
for _ in range(20):
    rho = qutip.rand_dm([2, 2], seed=int(rng.integers(1 << 31)))
    o = qutip.vector_to_operator(S_c * qutip.operator_to_vector(rho))
    worst = max(worst, trace_distance(o.ptrace(0), tau), trace_distance(o.ptrace(1), tau))
print(f"largest marginal distance over 20 random inputs: {worst:.2e} <= lt_error {err_c.upper:.2e}")

# %%
# The protocol is :math:`\epsilon`-LT with :math:`\epsilon` set by the twirl time, for
# every input, which is what the package reports as the headline time; per-input times
# (such as the zero twirl time that suffices for :math:`\Phi^+`) are reported beside
# it, labelled. See :doc:`/guide/lt` for the definitions.

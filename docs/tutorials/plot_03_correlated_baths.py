r"""
Correlated, independent and partially correlated baths
======================================================

Two qubits in :math:`\Phi^+`, each reset to a state :math:`\omega` at the ticks of a
Poisson clock of rate :math:`r` — a collision with a fresh bath particle. When the two
baths share **one** clock (correlation :math:`c = 1`) both qubits are reset together;
with **independent** clocks (:math:`c = 0`) each has its own copy with the same law;
:math:`0 < c < 1` splits the clock into a shared part and private parts. The local
dynamics are identical in all cases, only the correlations between the parties differ.

The clock is a white process, so the average over its realizations is an exact
Lindbladian on the joint system (``method="exact"``). The *sampled* method averages
``ntraj`` realizations instead, each propagated as a product of local propagators,
with jackknife standard errors; the two must agree within the error bars.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from eplt.baths import Environment, PoissonClock, Reset, qubit_hamiltonian, thermal_state
from eplt.dynamics import evolve
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.states import phi_plus

tau = thermal_state(qubit_hamiltonian(1.0), beta=1.0)
E = eplt_channel(tau, tau)  # its reset states omega reach tau exactly at t* = ln(1/gamma)/r
clock = PoissonClock(rate=1.0, name="clock")
env = Environment(
    (2, 2), [Reset(clock, 0, E.omega[0]), Reset(clock, 1, E.omega[1])], taus=(tau, tau)
)
t_star = np.log(1 / E.gamma)
tlist = np.linspace(0.0, 2.0, 41)
e_ops = ["negativity", "marginal_distance"]

exact = {
    c: evolve(phi_plus(), env.with_correlation(c), tlist, e_ops=e_ops) for c in (1.0, 0.5, 0.0)
}
for c, r in exact.items():
    print(
        f"c = {c}: method {r.method}, N(t*) = {np.interp(t_star, tlist, r.expect['negativity']):.4f}"
    )

# %%
# The marginals do not know about the correlation
# -----------------------------------------------
# ``marginal_distance`` holds the trace distance of each qubit to :math:`\tau`, one
# column per party. It is the same for every :math:`c` to round-off:
d = {c: np.asarray(r.expect["marginal_distance"]) for c, r in exact.items()}
print(f"max |D(c=1) - D(c=0)| = {np.max(np.abs(d[1.0] - d[0.0])):.1e}")
print(f"max |D(c=1) - D(c=.5)| = {np.max(np.abs(d[1.0] - d[0.5])):.1e}")

# %%
# Sampled realizations with error bars
# ------------------------------------
# 300 realizations of the shared clock (seeded: realization ``m`` uses its own spawned
# ``SeedSequence``, so the numbers do not depend on batching or executors).
sampled = evolve(phi_plus(), env, tlist, e_ops=e_ops, method="sampled", ntraj=300, seed=1)
N_s, N_err = sampled.expect["negativity"], sampled.stderr["negativity"]
z = np.abs(N_s - exact[1.0].expect["negativity"]) / np.where(N_err > 0, N_err, np.inf)
print(f"sampled vs exact: max deviation = {z.max():.2f} standard errors")

fig, axs = plt.subplots(1, 2, figsize=(8.5, 3.3), layout="constrained")
for c, r in exact.items():
    axs[0].plot(tlist, r.expect["negativity"], label=f"exact, c = {c:g}")
axs[0].errorbar(
    tlist[::2],
    N_s[::2],
    yerr=2 * N_err[::2],
    fmt="o",
    ms=3,
    capsize=2,
    color="k",
    label="sampled c = 1 (±2 s.e.)",
)
axs[0].axvline(t_star, color="0.6", lw=0.8)
axs[0].set(xlabel="r t", ylabel="negativity")
axs[0].legend(fontsize=8)
for c in exact:
    axs[1].semilogy(tlist, d[c][:, 0] + 1e-17, label=f"c = {c:g}")
axs[1].axvline(t_star, color="0.6", lw=0.8)
axs[1].set(xlabel="r t", ylabel=r"$D(\rho_A, \tau)$")
axs[1].legend(fontsize=8)
plt.show()

# %%
# At :math:`t^* = \ln(1/\gamma)/r` (grey line) the shared clock has produced exactly
# :math:`E_\gamma(\Phi^+)`: thermal marginals, negativity :math:`p_{\min}`. Independent
# clocks reach the same marginals with less entanglement; after :math:`t^*` the reset
# keeps pushing towards :math:`\omega`, so the protocol stops it there (see
# :func:`eplt.baths.protocols.eplt_protocol` and the :ref:`study-speedup` study).

# %%
# Coloured noise: a shared telegraph drive
# ----------------------------------------
# Not every process is white. A random telegraph signal :math:`\xi(t) = \pm a`, flipping
# at rate :math:`\lambda` (:class:`eplt.baths.RandomTelegraph`,
# :math:`\langle\xi(t)\xi(0)\rangle = a^2 e^{-2\lambda t}`), has memory, so no
# Lindbladian averages it; but it is a Markov chain, and the stochastic Liouville method
# (:class:`eplt.dynamics.StochasticLiouville`, ``method="sle"``, chosen by ``"auto"``)
# averages it exactly by carrying the chain's state along. Each qubit is driven by
# :math:`H = \xi(t)\,\sigma_z` (:class:`eplt.baths.Drive`); three cases from :math:`\Phi^+`:
#
# * one **shared** signal with :math:`U` on A and :math:`U^*` on B (``conjugate=True``):
#   :math:`U \otimes U^*` leaves :math:`\Phi^+` invariant, fidelity 1;
# * one shared signal with the same sign on both: the phase doubles, fidelity
#   :math:`(1 + C_{2a}(t))/2`;
# * **independent** signals with the same law: fidelity :math:`(1 + C_a(t)^2)/2`,
#
# with the single-qubit coherence
# :math:`C_a(t) = e^{-\lambda t}[\cosh\Omega t + (\lambda/\Omega)\sinh\Omega t]`,
# :math:`\Omega = \sqrt{\lambda^2 - 4a^2}` (tests/README.md).
import qutip
from eplt.baths import Drive, RandomTelegraph

lam, a = 1.0, 1.0
sz = qutip.sigmaz()
shared = RandomTelegraph(rate=lam, amplitude=a, name="shared")
cases = {
    "shared, U (x) U*": [Drive(shared, 0, (sz,)), Drive(shared, 1, (sz,), conjugate=True)],
    "shared, same sign": [Drive(shared, 0, (sz,)), Drive(shared, 1, (sz,))],
    "independent": [
        Drive(RandomTelegraph(rate=lam, amplitude=a, name="xi_A"), 0, (sz,)),
        Drive(RandomTelegraph(rate=lam, amplitude=a, name="xi_B"), 1, (sz,)),
    ],
}
P = phi_plus()  # a density matrix: <P> is the fidelity with Phi+
t_c = np.linspace(0.0, 4.0, 81)


def coherence(t, amp):
    Om = np.sqrt(complex(lam**2 - 4 * amp**2))
    return np.real(np.exp(-lam * t) * (np.cosh(Om * t) + lam / Om * np.sinh(Om * t)))


closed = {
    "shared, U (x) U*": np.ones_like(t_c),
    "shared, same sign": (1 + coherence(t_c, 2 * a)) / 2,
    "independent": (1 + coherence(t_c, a) ** 2) / 2,
}
fig, ax = plt.subplots(figsize=(7.5, 3.4), layout="constrained")
for k, (label, terms) in enumerate(cases.items()):
    env_c = Environment((2, 2), terms)
    r_sle = evolve(phi_plus(), env_c, t_c, e_ops=[P], method="sle")
    r_smp = evolve(phi_plus(), env_c, t_c, e_ops=[P], method="sampled", ntraj=200, seed=2)
    F, F_s, F_err = np.real(r_sle.expect[0]), np.real(r_smp.expect[0]), r_smp.stderr[0]
    # (no spread at all for U (x) U*: every realization keeps Phi+)
    z = np.abs(F_s - F) / np.where(F_err > 1e-12, F_err, np.inf)
    print(
        f"{label:18s}: |SLE - closed form| = {np.max(np.abs(F - closed[label])):.1e}, "
        f"|sampled - SLE| = {np.max(np.abs(F_s - F)):.1e} (within {z.max():.2f} s.e.)"
    )
    ax.plot(t_c, F, color=f"C{k}", label=f"{label} (SLE)")
    ax.errorbar(t_c[::6], F_s[::6], yerr=2 * F_err[::6], fmt="o", ms=3, capsize=2, color=f"C{k}")
ax.set(xlabel=r"$t$ ($1/\omega$)", ylabel=r"$\langle\Phi^+|\rho(t)|\Phi^+\rangle$")
ax.legend(
    fontsize=8,
    title="points: 200 samples, ±2 s.e.",
    title_fontsize=8,
    loc="upper left",
    bbox_to_anchor=(1.01, 1.0),
)
plt.show()

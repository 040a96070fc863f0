"""Physical bath models built on :mod:`eplt.dynamics`: thermal states, thermal and reset baths,
classical noise processes, and their composition into correlated or independent
environments and staged protocols.

Bring a QuTiP model: :func:`lindblad` reads ``H`` and ``c_ops`` (or a Liouvillian) as
:func:`qutip.mesolve` does. Ready-made drives and protocols: :func:`twirl_drive`,
:func:`zero_sum_phase_drive`, :func:`exchangeable_phase_drive`, :func:`eplt_protocol`,
:func:`gellmann_basis`. Oscillators on a Fock cutoff: :func:`cavity_environment`,
:func:`oscillator_bath`, :func:`phase_noise`."""

from .drives import exchangeable_phase_drive, zero_sum_phase_drive
from .environment import (
    Drive,
    Environment,
    Kick,
    Protocol,
    Reset,
    hamiltonian,
    thermal_bath,
    thermal_reset,
)
from .lindblad import lindblad
from .oscillators import (
    cavity_environment,
    edge_population_observable,
    oscillator_bath,
    oscillator_hamiltonian,
    oscillator_reset,
    phase_kick,
    phase_noise,
)
from .processes import (
    BrownianNoise,
    FixedSignal,
    GaussianPulses,
    HaarPulses,
    MarkovChain,
    OrnsteinUhlenbeck,
    PoissonClock,
    RandomTelegraph,
)
from .protocols import certified_twirl_time, eplt_protocol, gellmann_basis, twirl_drive
from .thermal import (
    beta_from_nbar,
    beta_from_temperature,
    nbar_from_beta,
    qubit_hamiltonian,
    qudit_hamiltonian,
    thermal_state,
)

__all__ = [
    "BrownianNoise",
    "Drive",
    "Environment",
    "FixedSignal",
    "GaussianPulses",
    "HaarPulses",
    "Kick",
    "MarkovChain",
    "OrnsteinUhlenbeck",
    "PoissonClock",
    "Protocol",
    "RandomTelegraph",
    "Reset",
    "beta_from_nbar",
    "beta_from_temperature",
    "cavity_environment",
    "certified_twirl_time",
    "edge_population_observable",
    "eplt_protocol",
    "exchangeable_phase_drive",
    "gellmann_basis",
    "hamiltonian",
    "lindblad",
    "nbar_from_beta",
    "oscillator_bath",
    "oscillator_hamiltonian",
    "oscillator_reset",
    "phase_kick",
    "phase_noise",
    "qubit_hamiltonian",
    "qudit_hamiltonian",
    "thermal_bath",
    "thermal_reset",
    "thermal_state",
    "twirl_drive",
    "zero_sum_phase_drive",
]

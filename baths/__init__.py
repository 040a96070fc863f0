"""Physical bath models built on :mod:`dynamics`: thermal states, thermal and reset baths,
classical noise processes, and their composition into correlated or independent
environments and staged protocols."""

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
from .thermal import (
    beta_from_nbar,
    beta_from_temperature,
    nbar_from_beta,
    qubit_hamiltonian,
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
    "hamiltonian",
    "nbar_from_beta",
    "qubit_hamiltonian",
    "thermal_bath",
    "thermal_reset",
    "thermal_state",
]

"""eplt: local thermalization with classically correlated heat baths.

A facade over the three packages (``eplt.dynamics`` the mathematics, ``eplt.baths`` the
physical models, ``eplt.studies`` the studies and command line), so that ``import eplt``
is enough for the common work: states, channels and their LT certification, the terms
and processes of a model, the builders of baths and protocols, evolution, measures and
metrics::

    import eplt
    tau = eplt.thermal_state(eplt.qubit_hamiltonian(1.0), beta=1.0)
    E = eplt.eplt_channel(tau, tau)            # the EPLT channel E_gamma
    eplt.negativity(E(eplt.phi_plus()))        # = p_min
    eplt.lt_error(E.superoperator(), tau)      # ~0: locally thermalizing for every input

Everything here is the object of the same name in ``eplt.dynamics`` (or its modules
``channels``, ``states``, ``measures``, ``metrics``) or ``eplt.baths``. ``__version__`` is
the installed distribution's version (one source: ``setup.cfg`` through the package
metadata).

Examples
--------
>>> import eplt
>>> tau = eplt.thermal_state(eplt.qubit_hamiltonian(1.0), beta=1.0)
>>> E = eplt.eplt_channel(tau, tau)
>>> round(float(eplt.negativity(E(eplt.phi_plus()))), 6)   # p_min = 1/(1 + e)
0.268941
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from eplt.baths import (
    BrownianNoise,
    Drive,
    Environment,
    GaussianPulses,
    HaarPulses,
    Kick,
    MarkovChain,
    OrnsteinUhlenbeck,
    PoissonClock,
    Protocol,
    RandomTelegraph,
    Reset,
    beta_from_nbar,
    certified_twirl_time,
    eplt_protocol,
    hamiltonian,
    lindblad,
    nbar_from_beta,
    qubit_hamiltonian,
    qudit_hamiltonian,
    thermal_bath,
    thermal_reset,
    thermal_state,
    twirl_drive,
    zero_sum_phase_drive,
)
from eplt.dynamics import (
    Exact,
    Result,
    Sampled,
    SegmentAveraged,
    StochasticLiouville,
    channels,
    evolve,
    lt_time,
    marginal_channels,
    measures,
    metrics,
    propagator,
    states,
)
from eplt.dynamics.channels import (
    NoEPLTError,
    eplt_channel,
    ghz_eplt_channel,
    ghz_twirl,
    is_locally_thermalizing,
    isotropic_twirl,
    lt_error,
)
from eplt.dynamics.measures import (
    fully_entangled_fraction,
    ghz_fidelity,
    log_negativity,
    mutual_information,
    negativity,
    trace_distance,
)
from eplt.dynamics.metrics import sudden_death_time, thermal_entangled_window, thermalization_time
from eplt.dynamics.states import bell_state, ghz_state, isotropic_state, phi_plus, werner_state

try:
    __version__ = _version("eplt")
except _PackageNotFoundError:  # pragma: no cover - only when the sources are imported uninstalled
    __version__ = "0+unknown"

__all__ = [
    "BrownianNoise",
    "Drive",
    "Environment",
    "Exact",
    "GaussianPulses",
    "HaarPulses",
    "Kick",
    "MarkovChain",
    "NoEPLTError",
    "OrnsteinUhlenbeck",
    "PoissonClock",
    "Protocol",
    "RandomTelegraph",
    "Reset",
    "Result",
    "Sampled",
    "SegmentAveraged",
    "StochasticLiouville",
    "__version__",
    "bell_state",
    "beta_from_nbar",
    "certified_twirl_time",
    "channels",
    "eplt_channel",
    "eplt_protocol",
    "evolve",
    "fully_entangled_fraction",
    "ghz_eplt_channel",
    "ghz_fidelity",
    "ghz_state",
    "ghz_twirl",
    "hamiltonian",
    "is_locally_thermalizing",
    "isotropic_state",
    "isotropic_twirl",
    "lindblad",
    "log_negativity",
    "lt_error",
    "lt_time",
    "marginal_channels",
    "measures",
    "metrics",
    "mutual_information",
    "nbar_from_beta",
    "negativity",
    "phi_plus",
    "propagator",
    "qubit_hamiltonian",
    "qudit_hamiltonian",
    "states",
    "sudden_death_time",
    "thermal_bath",
    "thermal_entangled_window",
    "thermal_reset",
    "thermal_state",
    "thermalization_time",
    "trace_distance",
    "twirl_drive",
    "werner_state",
    "zero_sum_phase_drive",
]

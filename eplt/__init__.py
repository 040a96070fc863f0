"""eplt: local thermalization with classically correlated heat baths.

A thin facade over the three packages (``dynamics`` the mathematics, ``baths`` the
physical models, ``studies`` the studies and command line), so that ``import eplt`` is
enough for the common work::

    import eplt
    env = eplt.Environment((2,), [eplt.lindblad(0, H, c_ops)])
    res = eplt.evolve(rho0, env, tlist, e_ops=[sz])

Everything here is the object of the same name in ``dynamics`` or ``baths``.
"""

from eplt.baths import (
    BrownianNoise,
    Drive,
    Environment,
    Kick,
    PoissonClock,
    Protocol,
    Reset,
    eplt_protocol,
    hamiltonian,
    lindblad,
    qubit_hamiltonian,
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
    channels,
    evolve,
    measures,
    metrics,
)
from eplt.dynamics.channels import lt_error
from eplt.dynamics.metrics import sudden_death_time, thermalization_time
from eplt.dynamics.propagators import propagator

__all__ = [
    "BrownianNoise",
    "Drive",
    "Environment",
    "Exact",
    "Kick",
    "PoissonClock",
    "Protocol",
    "Reset",
    "Result",
    "Sampled",
    "SegmentAveraged",
    "channels",
    "eplt_protocol",
    "evolve",
    "hamiltonian",
    "lindblad",
    "lt_error",
    "measures",
    "metrics",
    "propagator",
    "qubit_hamiltonian",
    "sudden_death_time",
    "thermal_bath",
    "thermal_reset",
    "thermal_state",
    "thermalization_time",
    "twirl_drive",
    "zero_sum_phase_drive",
]

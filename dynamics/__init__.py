"""Mathematics of open-system dynamics with classically correlated baths.

States, entanglement and thermalization measures, locally thermalizing channels,
superoperators, the solver :func:`evolve` with its four averaging methods, results
and derived metrics. Knows nothing of baths; :mod:`baths` builds models on top.

Submodules: :mod:`~dynamics.states`, :mod:`~dynamics.measures`, :mod:`~dynamics.twirls`,
:mod:`~dynamics.eplt`, :mod:`~dynamics.certify` (gathered in :mod:`~dynamics.channels`),
:mod:`~dynamics.superop`, :mod:`~dynamics.model`,
:mod:`~dynamics.propagate` (dispatching to :mod:`~dynamics.exact`, :mod:`~dynamics.segment`,
:mod:`~dynamics.sle`, :mod:`~dynamics.sampled`), :mod:`~dynamics.propagators` (the averaged channel
:func:`propagator`, :func:`marginal_channels`, :func:`lt_time`), :mod:`~dynamics.observables`,
:mod:`~dynamics.result`,
:mod:`~dynamics.metrics`, :mod:`~dynamics.bounds` (SDP bounds on local thermalizations),
:mod:`~dynamics.losr` (see-saw lower bounds), :mod:`~dynamics.thermofield` (closed-form
any-LT bounds), :mod:`~dynamics.finite_twirl` (E_gamma with the Pauli twirl),
:mod:`~dynamics.thermo` (the energy and entropy ledger).
"""

from . import bounds, channels, finite_twirl, losr, measures, metrics, states
from .model import Model
from .propagate import Exact, Sampled, SegmentAveraged, StochasticLiouville, evolve
from .propagators import lt_time, marginal_channels, propagator
from .result import Result

__all__ = [
    "Exact",
    "Model",
    "Result",
    "Sampled",
    "SegmentAveraged",
    "StochasticLiouville",
    "bounds",
    "channels",
    "evolve",
    "finite_twirl",
    "losr",
    "lt_time",
    "marginal_channels",
    "measures",
    "metrics",
    "propagator",
    "states",
]

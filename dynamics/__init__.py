"""Mathematics of open-system dynamics with classically correlated baths.

States, entanglement and thermalization measures, locally thermalizing channels,
superoperators, the solver :func:`evolve` with its four averaging methods, results
and derived metrics. Knows nothing of baths; :mod:`eplt.baths` builds models on top.

Submodules: :mod:`~eplt.dynamics.states`, :mod:`~eplt.dynamics.measures`, :mod:`~eplt.dynamics.twirls`,
:mod:`~eplt.dynamics.eplt`, :mod:`~eplt.dynamics.certify` (gathered in :mod:`~eplt.dynamics.channels`),
:mod:`~eplt.dynamics.superop`, :mod:`~eplt.dynamics.model`,
:mod:`~eplt.dynamics.propagate` (dispatching to :mod:`~eplt.dynamics.exact`, :mod:`~eplt.dynamics.segment`,
:mod:`~eplt.dynamics.sle`, :mod:`~eplt.dynamics.sampled`, :mod:`~eplt.dynamics.permutation`,
:mod:`~eplt.dynamics.productsum`),
:mod:`~eplt.dynamics.propagators` (the averaged channel
:func:`propagator`, :func:`marginal_channels`, :func:`lt_time`), :mod:`~eplt.dynamics.observables`,
:mod:`~eplt.dynamics.result`,
:mod:`~eplt.dynamics.metrics`, :mod:`~eplt.dynamics.bounds` (SDP bounds on local thermalizations),
:mod:`~eplt.dynamics.losr` (see-saw lower bounds), :mod:`~eplt.dynamics.losr_protocols` (twirl +
amplitude damping, correlated reset), :mod:`~eplt.dynamics.colgen` (column generation),
:mod:`~eplt.dynamics.dps` (DPS level 2, three qubits), :mod:`~eplt.dynamics.entanglement`
(concurrence, EoF, 1-distillability), :mod:`~eplt.dynamics.thermofield` (closed-form
any-LT bounds), :mod:`~eplt.dynamics.finite_twirl` (E_gamma with the Pauli twirl),
:mod:`~eplt.dynamics.thermo` (the energy and entropy ledger), :mod:`~eplt.dynamics.bosonic`
(oscillator states on a Fock cutoff), :mod:`~eplt.dynamics.layer_cake_fock` (the layer cake
and E_gamma on two oscillators).
"""

from . import (
    bosonic,
    bounds,
    channels,
    finite_twirl,
    layer_cake_fock,
    losr,
    measures,
    metrics,
    permutation,
    productsum,
    states,
)
from .model import Model
from .permutation import PermutationSymmetric, SymmetricState
from .propagate import Exact, Sampled, SegmentAveraged, StochasticLiouville, evolve
from .propagators import lt_time, marginal_channels, propagator
from .result import Result

__all__ = [
    "Exact",
    "Model",
    "PermutationSymmetric",
    "Result",
    "Sampled",
    "SegmentAveraged",
    "StochasticLiouville",
    "SymmetricState",
    "bosonic",
    "bounds",
    "channels",
    "evolve",
    "finite_twirl",
    "layer_cake_fock",
    "losr",
    "lt_time",
    "marginal_channels",
    "measures",
    "metrics",
    "permutation",
    "productsum",
    "propagator",
    "states",
]

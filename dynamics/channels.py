r"""Channels: twirls, the EPLT protocols and checks on channels given as superoperators.

This module gathers the public names of :mod:`eplt.dynamics.twirls` (twirls),
:mod:`eplt.dynamics.eplt` (E_gamma, E_gamma^GHZ, local channels),
:mod:`eplt.dynamics.layer_cake` (the layer-cake protocol) and
:mod:`eplt.dynamics.certify` (Choi matrices, CPTP and local-thermalization checks, the
worst-case LT error :func:`lt_error`).

Conventions
-----------
* ``Phi+ = sum_i |ii> / sqrt(d)``; ``GHZ = (|0...0> + |1...1>) / sqrt(2)``.
* Superoperators are qutip ``super`` Qobj in qutip's **column-stacking** convention:
  ``vec(X)[j*D + i] = X[i, j]`` (:func:`qutip.operator_to_vector`), so
  ``vec(A X B) = (B^T (x) A) vec(X)`` and ``E(rho) = vector_to_operator(S @ vec(rho))``.
  Party dims are read from ``S.dims`` (``[[out, out], [in, in]]``).
* Choi matrix, **input first**: ``J = sum_ij |i><j| (x) E(|i><j|)`` on ``H_in (x) H_out``
  (qutip's :func:`qutip.to_choi` uses the same order). E is CP iff ``J >= 0`` and trace
  preserving iff ``Tr_out J = I_in``.
* A *local channel* is a :class:`LocalChannel` (Kraus operators of one party); an LOSR
  decomposition is a list of branches ``(p, E_1, ..., E_n)`` with
  ``E = sum_l p_l E_1^l (x) ... (x) E_n^l``.

The protocol is that of Hsieh, Lostaglio and Acín, "Entanglement preserving local
thermalization", Phys. Rev. Research 2, 013379 (2020), arXiv:1904.07945.
"""

from .certify import (
    LTError,
    choi_matrix,
    find_entangled_output,
    is_cptp,
    is_locally_thermalizing,
    lt_error,
)
from .eplt import (
    EPLTChannel,
    GHZEPLTChannel,
    LocalChannel,
    NoEPLTError,
    eplt_channel,
    ghz_eplt_channel,
    product_channel,
)
from .layer_cake import LayerCakeChannel, layer_cake_channel, layer_cake_weights
from .twirls import clifford_group, clifford_twirl, ghz_twirl, isotropic_twirl, unitary_twirl

__all__ = [
    "EPLTChannel",
    "GHZEPLTChannel",
    "LTError",
    "LayerCakeChannel",
    "LocalChannel",
    "NoEPLTError",
    "choi_matrix",
    "clifford_group",
    "clifford_twirl",
    "eplt_channel",
    "find_entangled_output",
    "ghz_eplt_channel",
    "ghz_twirl",
    "is_cptp",
    "is_locally_thermalizing",
    "isotropic_twirl",
    "layer_cake_channel",
    "layer_cake_weights",
    "lt_error",
    "product_channel",
    "unitary_twirl",
]

r"""Ready-made shared drives beyond the two-party twirl of :mod:`eplt.baths.protocols`.

* :func:`zero_sum_phase_drive` — shared phase noise on n qubits whose random phases sum to
  zero: the dephasing part of the GHZ twirl.
* :func:`exchangeable_phase_drive` — the same zero-sum phase noise with every qubit on an
  equal footing (each signal minus the mean of all), so that the GHZ twirl is permutation
  symmetric (:mod:`eplt.dynamics.permutation`).
"""

from __future__ import annotations

import numpy as np

from .environment import Drive
from .processes import BrownianNoise

__all__ = ["exchangeable_phase_drive", "zero_sum_phase_drive"]

_SZ = np.diag([1.0, -1.0])


def zero_sum_phase_drive(kappa: float, n: int, *, name: str = "phase") -> list[Drive]:
    r"""Shared phase noise on ``n`` qubits with zero total phase (the GHZ twirl's drive).

    ``n - 1`` independent Brownian signals ``xi_k`` of strength ``kappa`` (processes
    ``f"{name}{k}"``); signal ``k`` acts as ``H = xi_k(t) sigma_z/2`` on qubit ``k`` and as
    ``-xi_k(t) sigma_z/2`` on qubit ``n - 1`` (``sigma_z = diag(1, -1)`` on ``|0>, |1>``).
    The phases therefore sum to zero, so a coherence ``|x><y|`` survives the average only
    when ``z_k(x) - z_k(y)`` is the same for every qubit: the populations and
    ``|0...0><1...1|`` (GHZ coherence). Averaged (shared), each signal gives the jump
    operator ``sqrt(kappa) (sigma_z^(k) - sigma_z^(n-1))/2``; a coherence of qubit ``k``
    alone decays at ``kappa/2``. ``Environment(...).independent()`` copies every signal
    per qubit, which dephases every coherence.

    Parameters
    ----------
    kappa : float
        Strength of each signal, ``>= 0``.
    n : int
        Number of qubits (parties ``0..n-1``), ``>= 2``.
    name : str
        Prefix of the process names.

    Returns
    -------
    list of Drive
        ``2 (n - 1)`` drives, for :class:`~eplt.baths.Environment` (add a shared flip clock,
        ``Kick(PoissonClock(...), q, sigma_x)`` on every qubit, for the full GHZ twirl).

    Examples
    --------
    >>> from baths import Environment
    >>> env = Environment([2] * 3, zero_sum_phase_drive(1.0, 3))
    >>> round(env.spectral_gap(), 12)
    0.5
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    terms = []
    for k in range(n - 1):
        proc = BrownianNoise(kappa=kappa, channels=1, name=f"{name}{k}")
        terms += [Drive(proc, k, [_SZ / 2]), Drive(proc, n - 1, [-_SZ / 2])]
    return terms


def exchangeable_phase_drive(kappa: float, n: int, *, name: str = "xphase") -> list[Drive]:
    r"""Shared zero-sum phase noise on ``n`` qubits, the same for every qubit.

    ``n`` independent Brownian signals ``xi_k`` of strength ``kappa`` (processes
    ``f"{name}{k}"``); signal ``k`` acts on every qubit ``j`` as
    ``H_j = (delta_jk - 1/n) xi_k(t) sigma_z/2`` (``sigma_z = diag(1, -1)`` on ``|0>, |1>``):
    qubit ``j`` sees the phase noise ``xi_j - mean_k xi_k``. The phases sum to zero, as with
    :func:`zero_sum_phase_drive`, and permuting the qubits permutes the signals, so the
    averaged generator is permutation symmetric. Averaged (shared), signal ``k`` gives the
    jump operator ``sqrt(kappa) (sigma_z^(k) - mean_j sigma_z^(j))/2``; together

    .. math:: \mathcal{L} = \frac{\kappa}{4} \sum_k D[\sigma_z^{(k)}]
              - \frac{\kappa}{4n} D[\textstyle\sum_j \sigma_z^{(j)}] .

    A coherence ``|x><y|`` (bit strings) decays at ``(kappa/8) (|dz|^2 - (sum dz)^2/n)``,
    ``dz = z(x) - z(y)``: populations and ``|0..0><1..1|`` (``dz`` constant) are fixed, as for
    the GHZ twirl, and the slowest other coherence (one qubit flipped, or all but one)
    decays at ``kappa (n - 1)/(2n)``: the spectral gap, smaller than the ``kappa/2`` of
    :func:`zero_sum_phase_drive` by the factor ``(n - 1)/n``, the same long-time limit (the
    dephasing part of :func:`eplt.dynamics.channels.ghz_twirl`). ``Environment(...).independent()``
    copies every signal per qubit: each qubit is dephased at the same marginal rate
    (``D[sigma_z]`` at ``kappa (n - 1)/(4n)``).

    Parameters
    ----------
    kappa : float
        Strength of each signal, ``>= 0``.
    n : int
        Number of qubits (parties ``0..n-1``), ``>= 2``.
    name : str
        Prefix of the process names.

    Returns
    -------
    list of Drive
        ``n^2`` drives, for :class:`~eplt.baths.Environment`.

    Examples
    --------
    >>> from eplt.baths import Environment
    >>> env = Environment([2] * 3, exchangeable_phase_drive(1.0, 3))
    >>> round(env.spectral_gap(), 12)  # kappa (n - 1)/(2n)
    0.333333333333
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    terms = []
    for k in range(n):
        proc = BrownianNoise(kappa=kappa, channels=1, name=f"{name}{k}")
        terms += [Drive(proc, j, [((j == k) - 1 / n) * _SZ / 2]) for j in range(n)]
    return terms

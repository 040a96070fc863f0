"""Closed forms of the :mod:`eplt.studies.robustness` study (lt_error of the certified EPLT
protocol under a delayed or early reset stop, a clock-rate error, and k pulse segments),
shared by its run and its figures."""

from __future__ import annotations

import math

from .params import value_key

__all__ = ["delay_error", "early_stop_error", "rate_error_lt", "segments_error"]


def _key(x: float) -> str:
    return value_key(x)  # unique and round-trips (one helper for every study's keys)


def early_stop_error(gamma: float, eps: float, x: float) -> float:
    r"""Closed-form LT error when one party's reset stops ``x = r |delta|`` early.

    After the certified twirl every marginal is within ``eps_0 = eps/gamma`` of ``I/2``
    (Bloch radius ``2 eps_0``). The short reset leaves the Bloch deviation
    ``gamma (e^x - 1) z + 2 eps e^x n``; the thermal bath then shrinks populations by
    ``e^{-x}`` and coherences by ``e^{-x/2}``:
    ``v = (A + B n_z) z + C n_perp``, ``A = gamma (1 - e^{-x})``, ``B = 2 eps``,
    ``C = 2 eps e^{x/2}``; ``lt_error = max_{|n| = 1} |v| / 2`` with the maximum at
    ``n_z = min(1, A B/(C^2 - B^2))``.

    Examples
    --------
    >>> round(early_stop_error(0.5, 1e-3, 0.0), 12)  # no delay: eps
    0.001
    """
    A = gamma * (1 - math.exp(-x))
    B = 2 * eps
    C = 2 * eps * math.exp(x / 2)
    u = 1.0 if C * C <= B * B else min(1.0, A * B / (C * C - B * B))
    return math.sqrt((A + B * u) ** 2 + C * C * (1 - u * u)) / 2


def delay_error(gamma: float, eps: float, x: float) -> float:
    r"""LT error when B's reset stops ``x = r delta`` late (``x > 0``) or early (``x < 0``).

    Late: ``gamma (1 - e^{-x})/2 + eps e^{-x}``; early: :func:`early_stop_error`. The
    other party contributes ``eps``; the larger is returned.

    Examples
    --------
    >>> round(delay_error(0.5, 0.0, math.log(2)), 12)  # exact twirl: gamma (1 - 1/2)/2
    0.125
    """
    if x >= 0:
        return max(eps, gamma * (1 - math.exp(-x)) / 2 + eps * math.exp(-x))
    return max(eps, early_stop_error(gamma, eps, -x))


def rate_error_lt(gamma: float, eps: float, eta: float) -> float:
    r"""LT error at ``t*`` when B's clock runs at ``r (1 + eta)``:
    ``|gamma^(1 + eta) - gamma|/2 + eps gamma^eta`` (at least ``eps``, party A).

    Examples
    --------
    >>> round(rate_error_lt(0.25, 0.0, 1.0), 12)  # (1/4 - 1/16)/2
    0.09375
    """
    return max(eps, abs(gamma ** (1 + eta) - gamma) / 2 + eps * gamma**eta)


def segments_error(gamma: float, kappa_t: float, k: int) -> float:
    r"""LT error after ``k`` shared Gaussian pulse segments of total strength ``kappa t``.

    A segment rotates the qubit by ``theta = sqrt(2) |Y|``, ``Y ~ N(0, v I_3)``,
    ``v = kappa t / k``; ``E cos(theta) = (1 - 2 v) e^{-v}``, so the Bloch vector shrinks by
    ``f = (1 + 2 (1 - 2 v) e^{-v})/3`` per segment, and after the reset stage
    ``lt_error = gamma |f|^k / 2``.

    Examples
    --------
    >>> import math
    >>> round(segments_error(0.5, 1.0, 10**6) / (0.25 * math.exp(-2.0)), 5)  # Brownian limit
    1.0
    """
    v = kappa_t / k
    f = (1 + 2 * (1 - 2 * v) * math.exp(-v)) / 3
    return gamma * abs(f) ** k / 2

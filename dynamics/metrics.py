r"""Derived metrics of time series: crossing times, thermalization and sudden-death times.

All functions take a time grid and sampled values (or a :class:`~eplt.dynamics.result.Result`)
and, where a time is sought, return a :class:`Crossing` that carries an accuracy
estimate. Conventions:

* ``t_eps`` (:func:`thermalization_time`) is the first time after which every marginal
  stays within trace distance ``eps`` of its thermal state, ``max_k D(rho_k(t), tau_k) <= eps``
  for all later grid times;
* the sudden-death time (:func:`sudden_death_time`) is the first time after which the
  negativity stays ``<= atol``;
* the speed-up (:func:`speedup`) is ``S = t_eps(reference) / t_eps(protocol)``.

"Stays" is judged on the grid: an excursion that starts and ends between two grid points
is invisible. The crossing is located inside the grid interval that brackets it, either
exactly (``refine``, a callable that evaluates the same curve at any time) or by
interpolation of the samples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq

from .result import Result

__all__ = [
    "Crossing",
    "Window",
    "crossing_time",
    "speedup",
    "sudden_death_time",
    "thermal_entangled_window",
    "thermalization_time",
]

#: Relative tolerance of :func:`scipy.optimize.brentq` (its default, 4 machine epsilons).
_RTOL = 4 * np.finfo(float).eps


@dataclass(frozen=True)
class Crossing:
    """A crossing time and how well it is known.

    Attributes
    ----------
    time : float or None
        The crossing time; None when the condition does not hold at the end of the grid.
    accuracy : float
        Estimated absolute error of ``time`` (0 when ``time`` is exactly ``times[0]``
        because the condition holds from the start; ``nan`` when ``time`` is None).
    method : str
        How ``time`` was found: ``"start"``, ``"brentq"`` (exact evaluation),
        ``"pchip"`` (cubic interpolation), ``"bisection"``, ``"extrapolate"``,
        ``"linear"`` or ``"never"``.
    """

    time: float | None
    accuracy: float
    method: str

    def __float__(self) -> float:
        return math.nan if self.time is None else float(self.time)


@dataclass(frozen=True)
class Window:
    """Union of time intervals, e.g. where the marginals are thermal and the state entangled.

    Attributes
    ----------
    intervals : list of (start, end)
        Disjoint, sorted intervals with ``start < end``.
    total : float
        Sum of the interval lengths.
    resolution : float
        Largest grid step: the end points are linear interpolations of the samples and
        are trusted to about this much.
    """

    intervals: list[tuple[float, float]]
    total: float
    resolution: float


# --------------------------------------------------------------------------- helpers
def _check_series(times, values, name: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"times must be a 1-D array with at least two points, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("times must be finite and strictly increasing")
    if v.ndim not in (1, 2) or v.shape[0] != t.size:
        raise ValueError(
            f"{name} must have shape (T,) or (T, k) with T = len(times) = {t.size}, got {v.shape}"
        )
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains non-finite values")
    return t, v


def _worst(v: np.ndarray) -> np.ndarray:
    """Max over the trailing axis of a (T, k) array; (T,) arrays pass through."""
    return v if v.ndim == 1 else v.max(axis=1)


def _series_of(result: Result, key: str, fname: str) -> tuple[np.ndarray, np.ndarray]:
    """``(result.times, result.expect[key])``, or a KeyError naming what is missing."""
    if key not in result.expect:
        raise KeyError(
            f"{fname} needs result.expect[{key!r}]; the result has: {', '.join(result.expect.keys())}"
        )
    return result.times, result.expect[key]


def _last_violation(ok: np.ndarray) -> int | None:
    """Index of the last grid point where ``ok`` is False (None if ok everywhere)."""
    bad = np.flatnonzero(~ok)
    return None if bad.size == 0 else int(bad[-1])


# --------------------------------------------------------------------------- crossings
def crossing_time(
    times,
    values,
    level: float,
    *,
    direction: str = "down",
    refine: Callable[[float], float] | None = None,
    xtol: float = 1e-9,
) -> Crossing:
    r"""Last time the sampled curve crosses ``level``, after which it stays on one side.

    For ``direction="down"`` the result is the time ``t_c`` after which ``values <= level``
    at every later grid point (``"up"``: ``values >= level``). Let ``i`` be the last
    grid index with ``values[i] > level``; the crossing lies in ``[t_i, t_{i+1}]`` and is
    located there:

    * with ``refine`` (``t -> value``, exact evaluation of the same curve): root of
      ``refine(t) - level`` by :func:`scipy.optimize.brentq`; accuracy
      ``xtol + 4 eps |t_c|`` (brentq's guarantee);
    * otherwise: root of the monotone cubic (PCHIP) interpolant of the grid points
      around the bracket (up to three on each side); the reported accuracy is
      ``|t_cubic - t_linear|``, the distance to the linear-interpolation root. For
      smooth curves the PCHIP error is O(h^3) and the linear one O(h^2) on a grid of step
      h, so this over-estimates the error of ``t_cubic`` once h resolves the curve.

    Parameters
    ----------
    times : array_like, shape (T,)
        Strictly increasing grid, ``T >= 2``.
    values : array_like, shape (T,)
        Samples of the curve.
    level : float
        Threshold.
    direction : {"down", "up"}
        ``"down"``: the curve ends below (``<=``) the level; ``"up"``: above (``>=``).
    refine : callable, optional
        ``refine(t) -> float``, the same curve at any ``t`` in the bracket.
    xtol : float
        Absolute tolerance of the root finder.

    Returns
    -------
    Crossing
        ``time=None`` when the condition fails at the last grid point;
        ``time=times[0]`` with accuracy 0 when it holds at every grid point.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 4.0, 50)
    >>> c = crossing_time(t, np.exp(-t), 0.05)
    >>> bool(abs(c.time - np.log(20)) <= c.accuracy < 1e-3)
    True
    >>> c = crossing_time(t, np.exp(-t), 0.05, refine=lambda s: np.exp(-s))
    >>> bool(abs(c.time - np.log(20)) < 1e-9)
    True
    """
    if direction not in ("down", "up"):
        raise ValueError(f"direction must be 'down' or 'up', got {direction!r}")
    if not (xtol > 0):
        raise ValueError(f"xtol must be > 0, got {xtol!r}")
    t, v = _check_series(times, values, "values")
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {v.shape}")
    level = float(level)
    sign = 1.0 if direction == "down" else -1.0
    # Work with f = sign * (v - level); the condition is f <= 0.
    f = sign * (v - level)
    i = _last_violation(f <= 0)
    if i is None:
        return Crossing(float(t[0]), 0.0, "start")
    if i == t.size - 1:
        return Crossing(None, math.nan, "never")
    a, b = float(t[i]), float(t[i + 1])
    if refine is not None:

        def g(s):
            return sign * (float(refine(s)) - level)

        ga, gb = g(a), g(b)
        if not (ga > 0 >= gb):
            raise ValueError(
                f"refine disagrees with the samples on the bracket [{a!r}, {b!r}]: "
                f"refine - level = {ga * sign!r}, {gb * sign!r}"
            )
        root = brentq(g, a, b, xtol=xtol)
        return Crossing(float(root), float(xtol + _RTOL * abs(root)), "brentq")
    t_lin = a + f[i] / (f[i] - f[i + 1]) * (b - a)
    lo, hi = max(0, i - 2), min(t.size, i + 4)
    if hi - lo < 3:
        # Two points only: no curvature information, the crossing is only bracketed.
        return Crossing(float(t_lin), float(max(t_lin - a, b - t_lin)), "linear")
    # PCHIP reproduces the samples, so pchip(a) = f[i] > 0 >= f[i+1] = pchip(b).
    pchip = PchipInterpolator(t[lo:hi], f[lo:hi])
    root = b if f[i + 1] == 0 else brentq(lambda s: float(pchip(s)), a, b, xtol=xtol)
    return Crossing(float(root), float(abs(root - t_lin)), "pchip")


def thermalization_time(
    times,
    distances=None,
    eps: float | None = None,
    *,
    refine: Callable[[float], np.ndarray] | None = None,
    xtol: float = 1e-9,
) -> Crossing:
    r"""Thermalization time ``t_eps``: after it, every marginal stays eps-close to its tau.

    ``t_eps`` is the first time after which ``max_k D(rho_k(t), tau_k) <= eps`` at every
    later grid point, with ``D`` the trace distance; it is the :func:`crossing_time`
    (direction ``"down"``) of the worst marginal at level ``eps`` — see there for how the
    crossing is located and its accuracy.

    Parameters
    ----------
    times : array_like, shape (T,), or Result
        Time grid. A :class:`~eplt.dynamics.result.Result` may be passed instead, as
        ``thermalization_time(result, eps)`` or ``thermalization_time(result, eps=eps)``: it uses ``result.times`` and
        ``result.expect["marginal_distance"]``.
    distances : array_like, shape (T,) or (T, n)
        Trace distance of each marginal to its thermal state.
    eps : float
        Tolerance, ``eps > 0``.
    refine : callable, optional
        ``refine(t) -> array of the n marginal distances`` (exact evaluation); the
        crossing is then found by brentq on their maximum.
    xtol : float
        Absolute tolerance of the root finder.

    Returns
    -------
    Crossing
        ``time=None`` if the marginals are not all eps-thermal at the end of the grid.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 10.0, 101)
    >>> D = np.stack([np.exp(-t), 0.5 * np.exp(-t)], axis=1)  # party A governs
    >>> exact = lambda s: np.array([np.exp(-s), 0.5 * np.exp(-s)])
    >>> c = thermalization_time(t, D, 1e-2, refine=exact)
    >>> bool(abs(c.time - np.log(100)) < 1e-9)
    True
    """
    if isinstance(times, Result):  # thermalization_time(result, eps) or (result, eps=eps)
        if distances is not None and eps is not None:
            raise TypeError(
                "call as thermalization_time(result, eps) (the result holds the distances)"
            )
        eps = distances if eps is None else eps
        times, distances = _series_of(times, "marginal_distance", "thermalization_time")
    if distances is None or eps is None:
        raise TypeError("thermalization_time needs times, distances and eps (or result, eps)")
    eps = float(eps)
    if not (eps > 0):
        raise ValueError(f"eps must be > 0, got {eps!r}")
    t, d = _check_series(times, distances, "distances")
    worst = None if refine is None else (lambda s: float(np.max(refine(s))))
    return crossing_time(t, _worst(d), eps, direction="down", refine=worst, xtol=xtol)


def sudden_death_time(
    times,
    negativity=None,
    *,
    atol: float = 1e-12,
    refine: Callable[[float], float] | None = None,
    xtol: float = 1e-9,
) -> Crossing:
    r"""Entanglement sudden-death time: the first time after which ``N(t) <= atol`` stays.

    Let ``i`` be the last grid index with ``N_i > atol``; death happens in
    ``[t_i, t_{i+1}]``. Near sudden death the negativity falls to zero roughly linearly
    and is then exactly zero, a flat function on which brentq cannot work, so:

    * with ``refine`` (``t -> N(t)``, exact): bisection on the predicate
      ``refine(t) > atol`` until the bracket is shorter than ``xtol``; the midpoint is
      returned with accuracy ``xtol / 2``;
    * otherwise: the line through the last two grid points with ``N > atol`` is
      extrapolated to ``atol`` (exact for linear death), clipped into the bracket;
      with a single such point, linear interpolation between ``t_i`` and ``t_{i+1}``.
      The accuracy is the larger distance to an end of the bracket (a guaranteed bound
      when the curve has no excursion between grid points).

    Parameters
    ----------
    times : array_like, shape (T,), or Result
        Time grid, or a :class:`~eplt.dynamics.result.Result` (``sudden_death_time(result)``
        uses ``result.expect["negativity"]``).
    negativity : array_like, shape (T,) or (T, k)
        Negativity; for several bipartitions (T, k) the largest governs (death of all
        bipartite entanglement).
    atol : float
        Values ``<= atol`` count as separable (PPT).
    refine : callable, optional
        ``refine(t) -> float`` (or array of k values; their maximum is used).
    xtol : float
        Length of the final bisection bracket.

    Returns
    -------
    Crossing
        ``time=None`` if still entangled at the end of the grid; ``times[0]`` with
        accuracy 0 if never entangled on the grid.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 11)
    >>> N = lambda s: np.maximum(0.0, 0.5 - 0.8 * s)
    >>> bool(abs(sudden_death_time(t, N(t), refine=N).time - 0.625) < 1e-9)
    True
    """
    if isinstance(times, Result):  # sudden_death_time(result)
        if negativity is not None:
            raise TypeError("call as sudden_death_time(result)")
        times, negativity = _series_of(times, "negativity", "sudden_death_time")
    if negativity is None:
        raise TypeError("sudden_death_time needs times and negativity (or a result)")
    if not (atol >= 0):
        raise ValueError(f"atol must be >= 0, got {atol!r}")
    if not (xtol > 0):
        raise ValueError(f"xtol must be > 0, got {xtol!r}")
    t, n = _check_series(times, negativity, "negativity")
    n = _worst(n)
    i = _last_violation(n <= atol)
    if i is None:
        return Crossing(float(t[0]), 0.0, "start")
    if i == t.size - 1:
        return Crossing(None, math.nan, "never")
    a, b = float(t[i]), float(t[i + 1])
    if refine is not None:

        def alive(s):
            return float(np.max(refine(s))) > atol

        if not alive(a) or alive(b):
            raise ValueError(f"refine disagrees with the samples on the bracket [{a!r}, {b!r}]")
        lo, hi = a, b
        while hi - lo > xtol:
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:  # floating-point resolution reached
                break
            lo, hi = (mid, hi) if alive(mid) else (lo, mid)
        return Crossing(0.5 * (lo + hi), 0.5 * (hi - lo), "bisection")
    if i >= 1 and n[i - 1] > n[i] > atol:
        slope = (n[i] - n[i - 1]) / (t[i] - t[i - 1])
        tc = float(np.clip(t[i] + (atol - n[i]) / slope, a, b))
        method = "extrapolate"
    else:
        tc = float(a + (n[i] - atol) / (n[i] - n[i + 1]) * (b - a))
        method = "linear"
    return Crossing(tc, float(max(tc - a, b - tc)), method)


def speedup(t_reference, t_protocol) -> float:
    r"""Speed-up ``S = t_reference / t_protocol`` of two thermalization times.

    Times are measured from the start of the protocol and must be ``>= 0``; each may
    be a float, ``inf``, None, or a :class:`Crossing`. Rules:

    * None in either (not reached on the grid, so unknown) or NaN -> ``nan``;
    * ``0 / 0`` and ``inf / inf`` -> ``nan``;
    * ``t / 0`` with ``t > 0``, and ``inf / t`` with ``t`` finite -> ``inf``;
    * ``0 / t`` with ``t > 0``, and ``t / inf`` with ``t`` finite -> ``0.0``.

    Raises ValueError for negative times.

    Examples
    --------
    >>> speedup(6.9, 2.3), speedup(1.0, 0.0), speedup(None, 1.0)
    (3.0000000000000004, inf, nan)
    """
    vals = []
    for name, x in (("t_reference", t_reference), ("t_protocol", t_protocol)):
        if isinstance(x, Crossing):
            x = x.time
        if x is None:
            return math.nan
        x = float(x)
        if x < 0:
            raise ValueError(f"{name} must be >= 0, got {x!r}")
        vals.append(x)
    ref, prot = vals
    if math.isnan(ref) or math.isnan(prot):
        return math.nan
    if (ref == 0 and prot == 0) or (math.isinf(ref) and math.isinf(prot)):
        return math.nan
    if prot == 0 or math.isinf(ref):
        return math.inf
    return ref / prot


def thermal_entangled_window(
    times,
    distances=None,
    negativity=None,
    eps: float | None = None,
    *,
    atol: float = 1e-12,
) -> Window:
    r"""Times at which every marginal is eps-thermal and the state is still entangled.

    The set ``{t : max_k D(rho_k(t), tau_k) <= eps and N(t) > atol}`` for the linear
    interpolants of the samples: in each grid interval the crossings of
    ``max_k D = eps`` and ``N = atol`` are found by linear interpolation, and the pieces
    where both conditions hold are merged into intervals. End points are as accurate
    as linear interpolation on the grid (``Window.resolution`` is the largest step);
    isolated points and excursions between grid points are not resolved. Note that
    the maximum over marginals is taken on the samples before interpolating.

    Parameters
    ----------
    times : array_like, shape (T,), or Result
        Time grid, or a :class:`~eplt.dynamics.result.Result` called as
        ``thermal_entangled_window(result, eps)`` (uses ``expect["marginal_distance"]``
        and ``expect["negativity"]``).
    distances : array_like, shape (T,) or (T, n)
        Trace distances of the marginals to their thermal states.
    negativity : array_like, shape (T,) or (T, k)
        Negativity (largest bipartition if 2-D).
    eps : float
        Thermalization tolerance, ``> 0``.
    atol : float
        Negativities ``<= atol`` count as separable.

    Returns
    -------
    Window

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 4.0, 5)
    >>> w = thermal_entangled_window(t, 2.0 - t, 3.0 - t, 0.5, atol=0.0)
    >>> w.intervals, w.total
    ([(1.5, 3.0)], 1.5)
    """
    if isinstance(times, Result):  # (result, eps) or (result, eps=eps)
        if negativity is not None or (distances is not None and eps is not None):
            raise TypeError("call as thermal_entangled_window(result, eps)")
        res, eps = times, (distances if eps is None else eps)
        _, negativity = _series_of(res, "negativity", "thermal_entangled_window")
        times, distances = _series_of(res, "marginal_distance", "thermal_entangled_window")
    if distances is None or negativity is None or eps is None:
        raise TypeError("thermal_entangled_window needs times, distances, negativity and eps")
    eps = float(eps)
    if not (eps > 0):
        raise ValueError(f"eps must be > 0, got {eps!r}")
    t, d = _check_series(times, distances, "distances")
    _, n = _check_series(t, negativity, "negativity")
    g1 = eps - _worst(d)  # >= 0: thermal
    g2 = _worst(n) - atol  # > 0: entangled
    intervals: list[list[float]] = []
    for j in range(t.size - 1):
        a, b = t[j], t[j + 1]
        cuts = [a, b]
        for g in (g1, g2):
            if (g[j] < 0 < g[j + 1]) or (g[j] > 0 > g[j + 1]):
                cuts.append(a + g[j] / (g[j] - g[j + 1]) * (b - a))
        cuts = sorted(set(cuts))
        for lo, hi in itertools.pairwise(cuts):
            if hi <= lo:
                continue
            w = (0.5 * (lo + hi) - a) / (b - a)
            ok1 = (1 - w) * g1[j] + w * g1[j + 1] >= 0
            ok2 = (1 - w) * g2[j] + w * g2[j + 1] > 0
            if ok1 and ok2:
                if intervals and intervals[-1][1] == lo:
                    intervals[-1][1] = hi
                else:
                    intervals.append([lo, hi])
    out = [(float(lo), float(hi)) for lo, hi in intervals]
    return Window(out, float(sum(hi - lo for lo, hi in out)), float(np.max(np.diff(t))))

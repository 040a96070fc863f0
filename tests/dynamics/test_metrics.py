"""Derived metrics against closed forms: t_eps = ln(D0/eps)/r, linear sudden death, windows."""

import math

import numpy as np
import pytest
from eplt.dynamics.metrics import (
    Crossing,
    crossing_time,
    speedup,
    sudden_death_time,
    thermal_entangled_window,
    thermalization_time,
)
from eplt.dynamics.result import Result

D0, RATE, EPS = 1.0, 1.0, 0.05
T_EPS = math.log(D0 / EPS) / RATE  # closed form for D(t) = D0 exp(-r t)


def decay(t):
    return D0 * np.exp(-RATE * np.asarray(t))


def coarse_grid(n=50):
    return np.linspace(0.0, 1.3 * T_EPS, n)


# ----------------------------------------------------------------------------- crossing
def test_exponential_without_refine_within_reported_accuracy():
    t = coarse_grid(50)
    c = thermalization_time(t, decay(t), EPS)
    assert c.method == "pchip"
    # The reported accuracy |t_cubic - t_linear| is ~ the linear-interpolation error
    # (r h)^2 / 8 / r ~ 7e-4 for h = 3.9/49: small, and it must bound the true error.
    assert c.accuracy < 1e-3
    assert abs(c.time - T_EPS) <= c.accuracy
    # PCHIP is O(h^3), so the returned time beats the linear root by a wide margin;
    # a wrong implementation returning the linear root fails this (observed ratio ~200).
    assert abs(c.time - T_EPS) < 0.1 * c.accuracy


def test_accuracy_shrinks_with_grid():
    # Linear-vs-cubic estimate is O(h^2): four times the points, ~16 times smaller.
    a50 = thermalization_time(coarse_grid(50), decay(coarse_grid(50)), EPS).accuracy
    a200 = thermalization_time(coarse_grid(200), decay(coarse_grid(200)), EPS).accuracy
    assert a200 < a50 / 10


def test_exponential_with_refine_is_exact():
    t = coarse_grid(12)  # very coarse: refine does not care
    c = thermalization_time(t, decay(t), EPS, refine=decay, xtol=1e-12)
    assert c.method == "brentq"
    assert abs(c.time - T_EPS) < 1e-9  # brentq to xtol = 1e-12; 1e-9 leaves room for round-off
    assert c.accuracy < 1e-9


def test_non_monotone_curve_returns_last_crossing():
    # f dips below eps near t = pi, is above it again near 2 pi, and crosses for good
    # between 2 pi and 3 pi (after 3 pi the maximum is 0.15 eps): the answer is that last
    # crossing, not the first one (near t = 2).
    def f(t):
        t = np.asarray(t, dtype=float)
        return EPS * (1 + 0.8 * np.cos(t)) * np.exp(-(t - 5.0) / 3.0)

    t = np.linspace(0.0, 14.0, 141)
    v = f(t)
    assert v[np.argmin(abs(t - np.pi))] < EPS < v[np.argmin(abs(t - 2 * np.pi))]  # premise
    for c in (crossing_time(t, v, EPS), crossing_time(t, v, EPS, refine=f)):
        assert 2 * np.pi < c.time < 3 * np.pi
        assert np.all(v[t > c.time] <= EPS)
        assert np.all(v[t < c.time][-3:] > EPS)  # just before it, still above
    c = crossing_time(t, v, EPS, refine=f)
    assert abs(f(c.time) - EPS) < 1e-12  # a root of the exact curve


def test_never_thermal_is_none():
    t = np.linspace(0.0, 2.0, 21)  # D(2) = 0.135 > eps
    c = thermalization_time(t, decay(t), EPS)
    assert c.time is None and c.method == "never" and math.isnan(c.accuracy)
    assert math.isnan(float(c))


def test_thermal_from_the_start():
    t = np.linspace(0.0, 2.0, 21)
    c = thermalization_time(t, 0.5 * EPS * np.ones_like(t), EPS)
    assert c == Crossing(0.0, 0.0, "start")


def test_two_marginals_the_max_governs():
    t = coarse_grid(40)
    fast = 0.5 * decay(t) ** 2  # crosses eps much earlier
    D = np.stack([fast, decay(t)], axis=1)
    exact = lambda s: np.array([0.5 * decay(s) ** 2, decay(s)])  # noqa: E731
    c = thermalization_time(t, D, EPS, refine=exact)
    assert abs(c.time - T_EPS) < 1e-9
    # Swapping columns changes nothing; the fast marginal alone would give a shorter time.
    assert thermalization_time(t, D[:, ::-1], EPS).time == pytest.approx(c.time, abs=1e-3)
    assert thermalization_time(t, fast, EPS).time < T_EPS - 1.0


def test_direction_up():
    t = np.linspace(0.0, 5.0, 51)
    c = crossing_time(t, 1 - np.exp(-t), 0.9, direction="up", refine=lambda s: 1 - np.exp(-s))
    assert abs(c.time - math.log(10)) < 1e-9


def test_thermalization_time_from_result():
    t = coarse_grid(30)
    res = Result(
        times=t,
        expect={"marginal_distance": np.stack([decay(t), 0.5 * decay(t)], axis=1)},
        labels={"marginal_distance": ["A", "B"]},
        method="exact",
    )
    assert thermalization_time(res, EPS) == thermalization_time(t, decay(t), EPS)
    # keywords as well as positions
    assert thermalization_time(res, eps=EPS) == thermalization_time(t, decay(t), EPS)
    assert thermalization_time(t, distances=decay(t), eps=EPS) == thermalization_time(res, EPS)
    with pytest.raises(TypeError, match="result holds the distances"):
        thermalization_time(res, decay(t), eps=EPS)
    with pytest.raises(KeyError, match="negativity"):
        sudden_death_time(res)


def test_refine_inconsistent_with_samples_raises():
    t = coarse_grid(20)
    with pytest.raises(ValueError, match="refine disagrees"):
        thermalization_time(t, decay(t), EPS, refine=lambda s: 2.0)


def test_input_validation():
    with pytest.raises(ValueError, match="strictly increasing"):
        crossing_time([0.0, 0.0, 1.0], [1.0, 0.5, 0.1], 0.2)
    with pytest.raises(ValueError, match="shape"):
        crossing_time([0.0, 1.0], [1.0, 0.5, 0.1], 0.2)
    with pytest.raises(ValueError, match="direction"):
        crossing_time([0.0, 1.0], [1.0, 0.1], 0.2, direction="sideways")
    with pytest.raises(ValueError, match="eps"):
        thermalization_time([0.0, 1.0], [1.0, 0.1], 0.0)


# ----------------------------------------------------------------------------- sudden death
A, B = 0.5, 0.8  # N(t) = max(0, a - b t): death at a/b = 0.625


def linear_death(t):
    return np.maximum(0.0, A - B * np.asarray(t, dtype=float))


def test_sudden_death_with_refine_bisection():
    t = np.linspace(0.0, 2.0, 9)  # step 0.25; a/b is not on the grid
    c = sudden_death_time(t, linear_death(t), refine=linear_death, xtol=1e-12)
    assert c.method == "bisection"
    assert abs(c.time - A / B) < 1e-9  # bisection to 1e-12; 1e-9 leaves room for atol shift


def test_sudden_death_without_refine_in_grid_interval():
    t = np.linspace(0.0, 2.0, 9)
    c = sudden_death_time(t, linear_death(t))
    assert 0.5 <= c.time <= 0.75  # the grid interval that brackets a/b
    assert abs(c.time - A / B) <= c.accuracy <= 0.25
    # Death is linear, so extrapolating the last two living points is exact up to atol/b.
    assert c.method == "extrapolate" and abs(c.time - A / B) < 1e-10


def test_sudden_death_single_living_point_interpolates():
    t = np.array([0.0, 1.0, 2.0])
    c = sudden_death_time(t, np.array([0.4, 0.0, 0.0]), atol=0.0)
    assert (
        c.method == "linear" and c.time == pytest.approx(1.0) and c.accuracy == pytest.approx(1.0)
    )


def test_sudden_death_edge_cases():
    t = np.linspace(0.0, 1.0, 5)
    assert sudden_death_time(t, 0.3 * np.ones(5)).time is None  # entangled at the end
    assert sudden_death_time(t, np.zeros(5)) == Crossing(0.0, 0.0, "start")
    # Several bipartitions: the longest-lived one governs.
    N2 = np.stack([linear_death(t), linear_death(t / 2)], axis=1)
    assert sudden_death_time(t, N2).time is None


# ----------------------------------------------------------------------------- speed-up
@pytest.mark.parametrize(
    ("ref", "prot", "expected"),
    [
        (6.0, 2.0, 3.0),
        (2.0, 0.0, math.inf),
        (0.0, 2.0, 0.0),
        (0.0, 0.0, math.nan),
        (math.inf, 2.0, math.inf),
        (2.0, math.inf, 0.0),
        (math.inf, math.inf, math.nan),
        (None, 2.0, math.nan),
        (2.0, None, math.nan),
        (math.nan, 2.0, math.nan),
        (Crossing(6.0, 1e-3, "pchip"), Crossing(3.0, 0.0, "brentq"), 2.0),
        (Crossing(None, math.nan, "never"), 3.0, math.nan),
    ],
)
def test_speedup_rules(ref, prot, expected):
    s = speedup(ref, prot)
    assert isinstance(s, float)
    if math.isnan(expected):
        assert math.isnan(s)
    else:
        assert s == expected


def test_speedup_negative_raises():
    with pytest.raises(ValueError, match="t_protocol"):
        speedup(1.0, -1.0)


# ----------------------------------------------------------------------------- window
def test_window_known_intervals():
    # Distance falls through eps = 0.5 at t = 1.5; negativity (piecewise linear, exact
    # under linear interpolation) is > 0 on (0, 3) and (5, 7), zero elsewhere.
    t = np.linspace(0.0, 10.0, 41)  # step 0.25, crossings at 1.5, 3, 5, 7 on the grid
    D = 2.0 - t
    D = np.where(D < 0, 0.0, D)
    N = np.maximum(0.0, np.minimum(t, 3.0 - t)) + np.maximum(0.0, np.minimum(t - 5.0, 7.0 - t))
    w = thermal_entangled_window(t, D, N, 0.5, atol=0.0)
    assert len(w.intervals) == 2
    np.testing.assert_allclose(w.intervals, [(1.5, 3.0), (5.0, 7.0)], atol=1e-12)
    assert w.total == pytest.approx(3.5, abs=1e-12)
    assert w.resolution == pytest.approx(0.25)


def test_window_off_grid_crossings_interpolated():
    # Crossings at 1.1 (thermal) and 2.3 (N = 0) fall inside grid steps (step 0.5); both
    # curves are linear across them, so linear interpolation recovers them to round-off.
    t = np.linspace(0.0, 4.0, 9)
    D = np.stack([np.clip(1.0 - (t / 1.1) * 0.5, 0, None), 0.1 * np.ones_like(t)], axis=1)
    w = thermal_entangled_window(t, D, 2.3 - t, 0.5, atol=0.0)
    np.testing.assert_allclose(w.intervals, [(1.1, 2.3)], atol=1e-12)
    # A negativity clipped at zero has its kink inside the step: the documented accuracy
    # is then the grid resolution (the end lands on the next grid point, 2.5).
    N = np.maximum(0.0, 2.3 - t)
    w = thermal_entangled_window(t, D, N, 0.5, atol=0.0)
    assert w.intervals[0][0] == pytest.approx(1.1, abs=1e-12)
    assert 2.3 <= w.intervals[0][1] <= 2.3 + w.resolution
    # Via a Result: same answer.
    res = Result(times=t, expect={"marginal_distance": D, "negativity": N}, method="exact")
    assert thermal_entangled_window(res, 0.5, atol=0.0).intervals == w.intervals
    assert thermal_entangled_window(res, eps=0.5, atol=0.0).intervals == w.intervals


def test_window_empty_when_entanglement_dies_first():
    t = np.linspace(0.0, 4.0, 17)
    w = thermal_entangled_window(t, decay(t), linear_death(t), EPS)
    assert w.intervals == [] and w.total == 0.0

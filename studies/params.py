"""Study parameters: typed, documented, range-checked, parsed from text.

Each study declares a tuple of :class:`Param`. Values come from defaults, a TOML file
(``--config``) and ``--set key=value`` (in that order); :func:`resolve` checks names
(suggesting the closest on a typo), types and ranges and raises :class:`ParamError` with
a one-line message naming the parameter and the allowed range.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "OMEGA",
    "ZERO_TEMPERATURE_NOTE",
    "Param",
    "ParamError",
    "beta_param",
    "check_seed",
    "check_temperature",
    "eps_param",
    "fmt_number",
    "kappa_param",
    "parse_assignment",
    "parse_float",
    "parse_int",
    "parse_sets",
    "rate_param",
    "resolve",
    "value_key",
    "value_keys",
]


class ParamError(ValueError):
    """Bad study parameter (unknown name, wrong type, out of range)."""


_KINDS = ("float", "int", "bool", "str", "floats", "ints")

# Numbers in text are read by one strict rule: ASCII digits, an optional sign, decimal
# point and exponent, or inf/infinity. Python's float() would also take "1_0" (as 10) and
# full-width digits; those are refused rather than reinterpreted.
_FLOAT_RE = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)", re.IGNORECASE)
_INT_RE = re.compile(r"[+-]?\d+")


def fmt_number(x: float) -> str:
    """Shortest text that reads back as ``x`` (``%g`` when that is exact, else repr), so a
    bound such as pi/2 prints as 1.5707963267948966, not as 1.5708."""
    x = float(x)
    short = f"{x:g}"
    return short if float(short) == x else repr(x)


def value_key(x) -> str:
    """The summary.json key of a parameter value: text that reads back as exactly ``x``
    (:func:`fmt_number`: ``%g`` when that is exact, else ``repr``; ``inf`` for infinity),
    so distinct values always get distinct keys (``1`` and ``1.0000001`` are two keys,
    where ``f"{x:g}"`` merged them) and ``float(key) == x``.

    >>> value_key(1.0), value_key(1.0000001), value_key(1e-6), value_key(float("inf"))
    ('1', '1.0000001', '1e-06', 'inf')
    """
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    return fmt_number(x)


def value_keys(values, name: str) -> list[str]:
    """:func:`value_key` of each of ``values`` (a list parameter called ``name``), or a
    :class:`ParamError` naming ``name`` when a value appears twice (its results would
    share one summary key)."""
    keys = [value_key(v) for v in values]
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            raise ParamError(f"{name} lists {k} twice; give each value once")
        seen.add(k)
    return keys


def parse_float(text: str, name: str) -> float:
    """A float from text by the strict rule above (ParamError naming ``name`` otherwise)."""
    t = text.strip()
    if not t.isascii() or not _FLOAT_RE.fullmatch(t):
        raise ParamError(f"{name} must be a number (digits, '.', 'e', 'inf'), got {text!r}")
    v = float(t)
    if math.isinf(v) and "inf" not in t.lower():
        raise ParamError(
            f"{name}: {text!r} overflows double precision (largest finite number ~1.8e308);"
            " write inf if infinity is meant"
        )
    return v


def parse_int(text: str, name: str) -> int:
    """An integer from text: ASCII digits with an optional sign."""
    t = text.strip()
    if not t.isascii() or not _INT_RE.fullmatch(t):
        raise ParamError(f"{name} must be an integer (ASCII digits), got {text!r}")
    return int(t)


@dataclass(frozen=True)
class Param:
    """One study parameter.

    Parameters
    ----------
    name : str
    default : value of the declared kind
    kind : {"float", "int", "bool", "str", "floats", "ints"}
        ``floats``/``ints`` are lists (``1,2,3`` on the command line).
    help : str
        Meaning, one line.
    unit : str
        Physical unit (e.g. ``"1/r"``, ``"omega"``), empty when dimensionless.
    low, high : float, optional
        Inclusive bounds (or exclusive with ``low_open``/``high_open``). ``inf`` allowed
        as a value when ``high`` is ``inf``.
    choices : tuple, optional
        Allowed values for ``str`` parameters.
    allow_inf : bool
        Also accept ``inf`` beyond a finite ``high`` (e.g. "instantaneous": a finite range
        where the numerics are sound, plus the limit handled exactly).
    symbol : str
        Mathtext symbol of the parameter in figure labels, without ``$`` (e.g. ``"r"`` for
        ``rate``); empty: derived from the name (:func:`eplt.studies.style.param_label`).
    note : str
        Why the range ends where it does, appended to an out-of-range refusal (e.g. why
        ``beta = inf`` is refused).

    The range shown by ``eplt describe`` (:meth:`range_text`) and the one the refusals
    enforce (:meth:`convert`) come from the same fields, so they agree: ``high=inf`` with
    ``high_open=True`` reads ``(0, inf)`` and refuses ``inf``; ``high=None`` reads ``inf]``
    and accepts it.
    """

    name: str
    default: Any
    kind: str = "float"
    help: str = ""
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    allow_inf: bool = False
    symbol: str = ""
    note: str = ""

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {self.kind!r}")

    def range_text(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        lo = "-inf" if self.low is None else fmt_number(self.low)
        hi = "inf" if self.high is None else fmt_number(self.high)
        text = ("(" if self.low_open else "[") + lo + ", " + hi + (")" if self.high_open else "]")
        return text + (" or inf" if self.allow_inf and self.high is not None else "")

    def _scalar(self, value, kind):
        base = kind.rstrip("s") if kind in ("floats", "ints") else kind
        if base == "float":
            if isinstance(value, bool):
                raise ParamError(
                    f"{self.name} must be a number in {self.range_text()}, got {value!r}"
                )
            if isinstance(value, str):
                try:
                    v = parse_float(value, self.name)
                except ParamError:
                    raise ParamError(
                        f"{self.name} must be a number in {self.range_text()}, got {value!r}"
                    ) from None
            else:
                try:
                    v = float(value)
                except (TypeError, ValueError, OverflowError):
                    raise ParamError(
                        f"{self.name} must be a number in {self.range_text()}, got {value!r}"
                    ) from None
            if math.isnan(v):
                raise ParamError(f"{self.name} must be a number in {self.range_text()}, got nan")
        elif base == "int":
            bad = f"{self.name} must be an integer in {self.range_text()}, got {value!r}"
            if isinstance(value, bool):
                raise ParamError(bad)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, str):
                try:
                    v = parse_int(value, self.name)
                except ParamError:
                    raise ParamError(bad) from None
            elif isinstance(value, (int, np.integer)):
                v = int(value)
            else:
                raise ParamError(bad)
        elif base == "bool":
            if isinstance(value, bool):
                v = value
            elif str(value).lower() in ("true", "1", "yes", "on"):
                v = True
            elif str(value).lower() in ("false", "0", "no", "off"):
                v = False
            else:
                raise ParamError(f"{self.name} must be true or false, got {value!r}")
            return v
        else:
            v = str(value)
            if self.choices and v not in self.choices:
                raise ParamError(f"{self.name} must be {self.range_text()}, got {v!r}")
            return v
        self._check_range(v)
        return v

    def _check_range(self, v):
        if self.allow_inf and v == math.inf:
            return
        bad = (self.low is not None and (v < self.low or (self.low_open and v == self.low))) or (
            self.high is not None and (v > self.high or (self.high_open and v == self.high))
        )
        if bad:
            note = f" ({self.note})" if self.note else ""
            raise ParamError(f"{self.name} must lie in {self.range_text()}, got {v!r}{note}")

    def convert(self, value):
        """Check and convert a value (from Python, TOML or command-line text)."""
        if self.kind in ("floats", "ints"):
            if isinstance(value, str):
                # one rule: values separated by commas (optionally in [...]); blanks
                # around a value are ignored, an empty value ("1,,10") or blanks inside
                # one ("1 10") are refused, never joined or dropped
                text = value.strip()
                if text.startswith("[") and text.endswith("]"):  # TOML/Python-style list
                    text = text[1:-1]
                items = [x.strip() for x in text.split(",")]
                if text.strip() == "":
                    items = []
                elif any(x == "" for x in items):
                    raise ParamError(
                        f"{self.name}: empty value in {value!r} (a comma-separated list, e.g. 1,10,100)"
                    )
            elif isinstance(value, Sequence):
                items = list(value)
            else:
                items = [value]
            if not items:
                raise ParamError(f"{self.name} must be a non-empty list of numbers")
            try:
                return tuple(self._scalar(x, self.kind) for x in items)
            except ParamError as e:
                raise ParamError(f"{e} (a comma-separated list, e.g. 1,10,100)") from None
        return self._scalar(value, self.kind)


#: The qubit gap / level spacing, the energy unit of every study (one declaration, one range).
OMEGA = Param("omega", 1.0, "float", "qubit gap", "energy", low=1e-6, high=1e6)
#: Rates and times are declared over twelve decades around the unit: enough for every
#: regime the studies show, and inside it the propagators and root finders keep their
#: digits (rate * t up to 1e12; 1e308 overflowed the matrix exponentials).
RATE_MIN, RATE_MAX = 1e-6, 1e6
T_MAX = 1e6


# The parameters below mean the same in every study that declares them (same symbol,
# unit and range); a study chooses only what the keywords offer. Parameters that share a
# name but not a meaning or a range (the GHZ phase-noise kappa, the twirl study's kappa
# in 1/time and its per-input eps) are declared by their studies.
#: Why ``beta = inf`` is outside every study's range (the note of its refusals).
ZERO_TEMPERATURE_NOTE = (
    "beta = inf is zero temperature: the thermal state is pure and no EPLT exists;"
    " take a finite beta"
)


def beta_param(*, default: float = 1.0) -> Param:
    """``beta``: inverse temperature of the baths, units ``1/omega``, in ``(0, inf)``
    (zero temperature is refused: no EPLT exists there; large finite values are refused
    by :func:`check_temperature` with the limit for the given ``omega``)."""
    return Param(
        "beta",
        default,
        "float",
        "inverse temperature of the baths",
        "1/omega",
        low=0,
        low_open=True,
        high=math.inf,
        high_open=True,
        note=ZERO_TEMPERATURE_NOTE,
    )


def rate_param(*, default: float = 1.0) -> Param:
    """``rate``: the reset-clock rate ``r`` of :func:`eplt.baths.eplt_protocol`, also the
    relaxation rate of its thermal baths; units ``omega``, in ``[RATE_MIN, RATE_MAX]``."""
    return Param(
        "rate",
        default,
        "float",
        "reset-clock rate r (also the relaxation rate of the thermal baths)",
        "omega",
        low=RATE_MIN,
        high=RATE_MAX,
        symbol="r",
    )


def kappa_param(*, default: float = 10.0, allow_off: bool = False) -> Param:
    """``kappa``: strength of the shared Brownian twirling drive (U on A, U* on B), units
    ``omega``, in ``[RATE_MIN, RATE_MAX]``; ``allow_off`` also accepts 0 (no twirl)."""
    if allow_off:
        help_ = f"strength of the twirling drive (0: none, else at least {RATE_MIN:g})"
    else:
        help_ = "strength of the twirling drive"
    return Param(
        "kappa", default, "float", help_, "omega", low=0 if allow_off else RATE_MIN, high=RATE_MAX
    )


def eps_param(*, default: float = 1e-3) -> Param:
    """``eps``: the LT tolerance of the certified timings, a bound on ``lt_error`` (the
    worst-case marginal trace distance over all inputs), in ``[1e-10, 0.5)``."""
    return Param(
        "eps",
        default,
        "float",
        "LT tolerance (worst-case marginal trace distance) of the certified timings",
        "",
        low=1e-10,
        high=0.5,
        high_open=True,
    )


def _index(params: Sequence[Param]) -> dict[str, Param]:
    return {p.name: p for p in params}


def unknown_message(name: str, params: Sequence[Param], study: str) -> str:
    names = [p.name for p in params]
    hint = difflib.get_close_matches(name, names, n=1)
    extra = f"; did you mean {hint[0]!r}?" if hint else f" (parameters: {', '.join(names)})"
    return f"unknown parameter {name!r} for study {study!r}{extra}"


def resolve(
    params: Sequence[Param], overrides: Mapping[str, Any] | None = None, *, study: str = ""
) -> dict[str, Any]:
    """Defaults updated by ``overrides``, every value checked; returns a plain dict."""
    idx = _index(params)
    out = {p.name: p.convert(p.default) for p in params}
    for k, v in (overrides or {}).items():
        if k not in idx:
            raise ParamError(unknown_message(k, params, study))
        out[k] = idx[k].convert(v)
    return out


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``key=value`` (whitespace around ``=`` allowed)."""
    if "=" not in text:
        raise ParamError(f"--set expects key=value, got {text!r}")
    k, v = text.split("=", 1)
    k, v = k.strip(), v.strip()
    if not k:
        raise ParamError(f"--set expects key=value, got {text!r}")
    return k, v


def parse_sets(items: Sequence[str]) -> dict[str, str]:
    """``--set key=value`` items as a dict; a key given twice is refused (never "last wins")."""
    out: dict[str, str] = {}
    for item in items:
        k, v = parse_assignment(item)
        if k in out:
            raise ParamError(f"--set {k} given twice ({out[k]!r} and {v!r}); give it once")
        out[k] = v
    return out


def check_seed(seed) -> int:
    """A study's root seed: a non-negative integer (not a bool, float or text)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParamError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


#: Smallest ``beta * omega`` the studies accept: below it ``1 - gamma ~ beta omega / 2``
#: leaves too few digits for ``omega_X = (tau - gamma I/d)/(1 - gamma)``.
MIN_BETA_OMEGA = 1e-6
#: A thermal state whose smallest eigenvalue ``p_min`` is at or below this is treated as
#: pure by ``eplt.dynamics.channels`` (its ``PURE_ATOL``): no EPLT is built from it.
GAMMA_RESOLUTION = 1e-14
#: Largest ``beta omega`` every qubit study accepts: ``p_min = 1/(1 + e^{beta omega})``
#: stays above :data:`GAMMA_RESOLUTION` up to ``beta omega = 32.236``.
QUBIT_BETA_OMEGA_MAX = 32.0


def check_temperature(
    beta: float, omega: float, *, d: int = 2, name: str = "beta", high_temperature: bool = True
) -> None:
    """Refuse, naming ``name``, a finite temperature at which E_gamma cannot be computed.

    The thermal state of the ladder ``0, omega, ..., (d-1) omega`` has smallest
    eigenvalue ``p_min = 1 / sum_k exp(k beta omega)``. When ``p_min`` falls to
    :data:`GAMMA_RESOLUTION` (``beta omega >= 32.236`` for a qubit) the state is not pure —
    ``p_min`` is finite — but the channel treats it as pure (the same threshold as
    ``eplt.dynamics.channels``, so nothing it accepts is refused there as "zero
    temperature"); when ``beta omega < MIN_BETA_OMEGA`` the channel's ``omega`` state loses its
    digits (checked only with ``high_temperature=True``, for studies that divide by
    ``1 - gamma``). ``beta = inf`` (zero temperature) is left to :class:`NoEPLTError`.
    """
    x = beta * omega
    if math.isinf(beta) or (d < 2):
        return
    if high_temperature and x < MIN_BETA_OMEGA:
        raise ParamError(
            f"{name} * omega = {x:.3g} is below {MIN_BETA_OMEGA:g}: at such high temperature"
            f" 1 - gamma ~ {name} omega / 2 leaves too few digits; raise {name} (now {beta:g})"
            f" or omega (now {omega:g}) so that {name} * omega >= {MIN_BETA_OMEGA:g}"
        )
    try:
        log_p = -(d - 1) * x - math.log1p(sum(math.exp(-k * x) for k in range(1, d)))
    except OverflowError:  # pragma: no cover - exp(-k x) never overflows for x >= 0
        log_p = -math.inf
    # the channel compares p_min (from an eigendecomposition) with GAMMA_RESOLUTION: a
    # relative margin of 1e-9 keeps the two decisions the same at the boundary
    if log_p <= math.log(GAMMA_RESOLUTION) * (1 - 1e-9):
        limit = _beta_omega_limit(d)
        p_text = (
            f"{math.exp(log_p):.3g}" if math.exp(log_p) > 0 else f"10^{log_p / math.log(10):.4g}"
        )
        raise ParamError(
            f"{name} = {beta:g} (beta omega = {x:.4g}): p_min = {p_text} is finite, but"
            f" gamma = {d} p_min underflows double precision: at or below the channel's"
            f" resolution {GAMMA_RESOLUTION:g} tau counts as pure;"
            f" lower {name} or omega (now {omega:g}) so that beta omega < {limit:.4g} for d = {d}"
            " (beta = inf is zero temperature, where no EPLT exists)"
        )


def _beta_omega_limit(d: int) -> float:
    """``beta omega`` at which ``p_min`` of the ``d``-level ladder reaches
    :data:`GAMMA_RESOLUTION` (bisection on the log-domain formula; 32.236 for a qubit)."""

    def log_p(x: float) -> float:
        return -(d - 1) * x - math.log1p(sum(math.exp(-k * x) for k in range(1, d)))

    lo, hi, target = 0.0, 100.0, math.log(GAMMA_RESOLUTION)
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if log_p(mid) > target else (lo, mid)
    return lo

"""The end-of-run summary as the terminal shows it: rounded numbers, one line per key,
dictionaries folded onto indented lines, no line wider than the terminal's text width.

``summary.json`` keeps every digit; this is only the human reading of it.
"""

from __future__ import annotations

import math
import textwrap
from numbers import Integral, Real

__all__ = ["format_summary", "format_value"]

#: Widest line printed (characters).
WIDTH = 100
#: Significant digits of printed numbers.
DIGITS = 4


def format_value(v, digits: int = DIGITS) -> str:
    """One scalar or a flat list as text: floats to ``digits`` significant digits.

    Examples
    --------
    >>> format_value(7.328524574355495), format_value(None), format_value(float("inf"))
    ('7.329', 'null', 'inf')
    >>> format_value([0.2310590, -1e-12]), format_value(3), format_value(True)
    ('[0.2311, -1e-12]', '3', 'true')
    """
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Integral):
        return str(int(v))
    if isinstance(v, Real):
        x = float(v)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.{digits}g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(format_value(x, digits) for x in v) + "]"
    return str(v)


def _is_flat(v) -> bool:
    return not isinstance(v, dict) and not (
        isinstance(v, (list, tuple)) and any(isinstance(x, (dict, list, tuple)) for x in v)
    )


def _lines(key: str, v, indent: int, width: int) -> list[str]:
    pad = "  " * indent
    if isinstance(v, dict):
        if not v:
            return [f"{pad}{key}: {{}}"]
        if all(_is_flat(x) and not isinstance(x, str) for x in v.values()):
            one = f"{pad}{key}: " + ", ".join(f"{k}={format_value(x)}" for k, x in v.items())
            if len(one) <= width:
                return [one]
        out = [f"{pad}{key}:"]
        for k, x in v.items():
            out += _lines(str(k), x, indent + 1, width)
        return out
    if isinstance(v, (list, tuple)) and not _is_flat(v):
        out = [f"{pad}{key}:"]
        for i, x in enumerate(v):
            out += _lines(f"[{i}]", x, indent + 1, width)
        return out
    text = format_value(v)
    return textwrap.wrap(
        f"{key}: {text}",
        width=width,
        initial_indent=pad,
        subsequent_indent=pad + "    ",
        break_on_hyphens=False,
    ) or [f"{pad}{key}:"]


def format_summary(result, *, width: int = WIDTH) -> str:
    """The summary of a :class:`~eplt.studies.base.StudyResult` for the terminal: a header
    line, then one line per key (nested dictionaries folded onto indented lines, or kept
    on one line when they fit), numbers to four significant digits, lines at most
    ``width`` characters (long text wrapped).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(name="demo", seed=0, summary={
    ...     "speedup": 7.328524574355495,
    ...     "speedup_vs_eps": {"0.01": 5.469420385922401, "0.001": 7.328524574355495},
    ...     "note": {"a": "x " * 60}})
    >>> print(format_summary(r, width=60))
    demo (seed 0; every digit in summary.json)
      speedup: 7.329
      speedup_vs_eps: 0.01=5.469, 0.001=7.329
      note:
        a: x x x x x x x x x x x x x x x x x x x x x x x x x x x
            x x x x x x x x x x x x x x x x x x x x x x x x x x
            x x x x x x x
    """
    lines = [f"{result.name} (seed {result.seed}; every digit in summary.json)"]
    for k, v in result.summary.items():
        lines += _lines(str(k), v, 1, width)
    return "\n".join(lines)

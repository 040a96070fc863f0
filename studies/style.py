"""Shared figure style: sizes for a two-column paper, a colour-blind-safe palette.

Use :func:`figure` to create figures (applies the style) and :func:`band` to draw a
curve with its shaded standard-error band. Colours are the Okabe-Ito palette.

Composing studies on one axis. Every study's ``plot(result, ax, *, decorate=None,
legend=True)`` follows the same rules, implemented here:

* one colour and line style per scenario *name*, the same in every study
  (:data:`SCENARIO_COLORS`, :func:`scenario_style`); a family of related scenarios shares
  a colour (shared randomness blue, independent baths vermillion, thermal references black);
* labels, titles, limits and scales go through :class:`Decorator`: by default
  (``decorate=None``) a study only fills what the axis does not have yet (empty labels,
  limits still autoscaled, the scale of an axis that held no data), so a second study drawn
  on a shared axis never overwrites the first one's; ``decorate=True`` sets everything,
  ``decorate=False`` nothing;
* :func:`legend` draws one legend of *every* labelled artist on the axis (all studies drawn
  there) or none;
* time axes state their unit in the label (``time $r t$``: time in units of ``1/r``).

Text sizes are at least :data:`MIN_FONT` points: figures are saved at their own size
(``bbox="tight"`` only trims), so the points set here are the points on paper.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "COLORS",
    "COLUMN",
    "MIN_FONT",
    "PAGE",
    "SCENARIO_COLORS",
    "SCENARIO_LINESTYLES",
    "Decorator",
    "band",
    "figure",
    "legend",
    "mark_time",
    "param_label",
    "rc",
    "scenario_style",
    "style",
    "styled",
]

#: Okabe-Ito colour-blind-safe palette.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1))]
BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, YELLOW, BLACK = COLORS
#: A second reference colour (independent thermal resets beside the GAD reference).
GREY = "#777777"

#: Colour of each scenario name, the same in every study (Okabe-Ito). Families share a
#: colour: fully shared classical randomness blue, independent baths with the same local
#: statistics vermillion, independent thermal references black; scenarios of one study
#: never share a colour.
SCENARIO_COLORS = {
    # shared randomness (shared drive and/or shared clock)
    "correlated": BLUE,
    "brownian_correlated": BLUE,
    "reset_shared": BLUE,
    "pulses_segment": ORANGE,
    "pulses_sampled": SKY,
    "shared_drive_independent_clocks": GREEN,
    # independent baths, same local statistics
    "independent": VERMILLION,
    "brownian_independent": VERMILLION,
    "reset_independent": VERMILLION,
    "no_shared_randomness": PURPLE,
    "independent_damping_stopped": SKY,
    # independent thermal baths (references)
    "thermal": BLACK,
    "gad": BLACK,
    "thermal_resets": GREY,
}
#: Line style of each scenario name (same families as :data:`SCENARIO_COLORS`), so the
#: curves stay apart in grey scale.
SCENARIO_LINESTYLES = {
    "correlated": "-",
    "brownian_correlated": "-",
    "reset_shared": "-",
    "pulses_segment": "-.",
    "pulses_sampled": "-",
    "shared_drive_independent_clocks": (0, (5, 1)),
    "independent": "--",
    "brownian_independent": "--",
    "reset_independent": "--",
    "no_shared_randomness": (0, (3, 1, 1, 1)),
    "independent_damping_stopped": (0, (3, 1, 1, 1, 1, 1)),
    "thermal": "-.",
    "gad": "-.",
    "thermal_resets": ":",
}
#: Smallest text size of any figure, points at the saved size.
MIN_FONT = 7
#: Width of one column / the full page of a two-column paper, inches.
COLUMN = 3.4
PAGE = 7.0

rc = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.3,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "legend.frameon": False,
    "figure.dpi": 150,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "axes.prop_cycle": matplotlib.cycler(color=COLORS),
    "mathtext.fontset": "cm",
    "pdf.fonttype": 42,
}


@contextmanager
def style():
    """Context in which figures are created, drawn and saved with :data:`rc`."""
    with plt.rc_context(rc):
        yield


def styled(func):
    """Decorator for a study's ``figures(result)``: build the figures under :data:`rc`
    (text sizes are fixed when artists are created, so the whole function runs inside)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with plt.rc_context(rc):
            return func(*args, **kwargs)

    return wrapper


def figure(
    ncols: int = 1, nrows: int = 1, *, width: float = COLUMN, height: float | None = None, **kw
):
    """A styled figure with ``nrows x ncols`` axes (constrained layout)."""
    with plt.rc_context(rc):
        h = (
            height
            if height is not None
            else width * 0.72 * nrows / max(1, ncols) * (1.0 if ncols == 1 else 1.35)
        )
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(width, h), layout="constrained", squeeze=False, **kw
        )
    return fig, axes


def band(ax, x, y, err=None, *, label=None, color=None, ls="-", nse: float = 1.0, log=False, **kw):
    """Plot ``y(x)`` with a shaded band ``y +- nse * err`` (skipped where err is None/0).

    ``log=True`` (for a log axis, ``y > 0``): the band ``[y / (1 + e/y), y (1 + e/y)]``,
    ``e = nse * err``, symmetric on the log axis and equal to ``y +- e`` to first order, so
    that it never plunges to the axis where ``e >= y``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = plt.figure().add_subplot()
    >>> _ = band(ax, [0, 1], [1e-3, 1e-3], [2e-3, 0], log=True)
    >>> lo, hi = ax.collections[0].get_paths()[0].vertices[:, 1].min(), 3e-3
    >>> round(float(lo), 6)   # 1e-3 / (1 + 2): not -1e-3
    0.000333
    """
    (line,) = ax.plot(x, y, label=label, color=color, ls=ls, **kw)
    if err is not None:
        err = nse * np.asarray(err)
        if np.any(err > 0):
            y = np.asarray(y, dtype=float)
            if log:
                lo, hi = y / (1 + err / y), y * (1 + err / y)
            else:
                lo, hi = y - err, y + err
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.25, lw=0)
    return line


def mark_time(ax, t, label=None, *, color="0.35", side: str = "right"):
    """Vertical dotted line at ``t`` with an optional label at the top, on the ``side``
    ("right" or "left") of the line."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    ax.axvline(t, color=color, ls=":", lw=0.9)
    if label:
        ax.annotate(
            label,
            (t, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2 if side == "right" else -2, -2),
            textcoords="offset points",
            va="top",
            ha="left" if side == "right" else "right",
            fontsize=7,
            color=color,
        )


_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}  # fmt: skip
_ALIASES = {"eps": r"\epsilon"}


def _tex_word(word: str) -> str | None:
    """Mathtext of one identifier word: a Greek letter name or a single letter; None for
    other words (they are not symbols)."""
    if word in _ALIASES:
        return _ALIASES[word]
    if word in _GREEK:
        return "\\" + word
    return word if len(word) == 1 and word.isalpha() else None


def _tex_symbol(name: str) -> str | None:
    """``beta_min`` -> ``\\beta_{\\mathrm{min}}``, ``n_F`` -> ``n_{F}``; None when the name's
    first word is not a symbol (``flip_rate``, ``coloured_tau_c``)."""
    head, *subs = name.split("_")
    sym = _tex_word(head)
    if sym is None or not all(subs):
        return None
    if subs:  # one subscript (mathtext refuses a double one): n_times_sweep -> n_{times,sweep}
        sym += "_{" + ",".join(_tex_word(w) or rf"\mathrm{{{w}}}" for w in subs) + "}"
    return sym


def _tex_unit(unit: str) -> str:
    """``1/omega`` -> ``$1/\\omega$``; a unit with no symbol in it (``1/time``, ``energy``)
    stays plain text."""
    parts = re.findall(r"[A-Za-z]+|[^A-Za-z]+", unit)
    words = [_tex_word(p) if p.isalpha() else None for p in parts]
    if not any(words):
        return unit
    return (
        "$"
        + "".join(w or (rf"\mathrm{{{p}}}" if p.isalpha() else p) for p, w in zip(parts, words))
        + "$"
    )


def param_label(param) -> str:
    r"""Axis label of a study parameter: its symbol and unit in mathtext.

    The symbol is ``param.symbol`` when declared, else derived from the name (Greek letter
    names and single letters, words after ``_`` as upright subscripts); a name that is not
    a symbol is shown as it is. The unit (``param.unit``) follows in brackets.

    Examples
    --------
    >>> from eplt.studies.params import Param
    >>> print(param_label(Param("beta", 1.0, unit="1/omega")))
    $\beta$ [$1/\omega$]
    >>> print(param_label(Param("beta_min", 1.0, unit="1/omega")))
    $\beta_{\mathrm{min}}$ [$1/\omega$]
    >>> print(param_label(Param("rate", 1.0, unit="omega", symbol="r")))
    $r$ [$\omega$]
    >>> print(param_label(Param("flip_rate", 1.0, unit="1/time")))
    flip_rate [1/time]
    """
    sym = param.symbol or _tex_symbol(param.name)
    text = f"${sym}$" if sym else param.name
    return f"{text} [{_tex_unit(param.unit)}]" if param.unit else text


def scenario_style(name: str) -> dict:
    """``{"color": ..., "ls": ...}`` of scenario ``name`` (:data:`SCENARIO_COLORS`,
    :data:`SCENARIO_LINESTYLES`), for ``ax.plot(x, y, **scenario_style(name))``.

    Examples
    --------
    >>> scenario_style("correlated") == {"color": "#0072B2", "ls": "-"}
    True
    """
    try:
        return {"color": SCENARIO_COLORS[name], "ls": SCENARIO_LINESTYLES[name]}
    except KeyError:
        known = ", ".join(sorted(SCENARIO_COLORS))
        raise KeyError(
            f"scenario {name!r} has no colour in eplt.studies.style; known: {known}"
        ) from None


class Decorator:
    """Labels, title, limits and scales of one axis, set without clobbering another study's.

    Create it *before* drawing (it records whether the axis already held data), draw, then
    call :meth:`set`. ``decorate``: ``True`` sets everything passed to :meth:`set`,
    ``False`` nothing, ``None`` (default) only what the axis lacks: an empty label or title,
    limits that are still autoscaled (never set explicitly), and the scale of an axis that
    held no data before this study drew on it.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = plt.figure().add_subplot()
    >>> _ = ax.set_xlabel("first"), ax.set_xlim(0, 1), ax.plot([0, 1], [0, 1])
    >>> deco = Decorator(ax)  # a second study, before it draws
    >>> deco.set(xlabel="second", xlim=(0, 5), ylabel="y")
    >>> ax.get_xlabel(), tuple(map(float, ax.get_xlim())), ax.get_ylabel()
    ('first', (0.0, 1.0), 'y')
    """

    def __init__(self, ax, decorate: bool | None = None):
        if decorate not in (None, True, False):
            raise TypeError(f"decorate must be None, True or False, got {decorate!r}")
        self.ax = ax
        self.decorate = decorate
        self.fresh = not ax.has_data()

    def _ok(self, unset: bool) -> bool:
        return self.decorate is True or (self.decorate is None and unset)

    def owns_axis(self) -> bool:
        """Whether axis-wide settings (scale, ticks, a secondary axis) may be made: always
        with ``decorate=True``, never with ``False``, and by default only when the axis held
        no data before this study drew on it."""
        return self._ok(self.fresh)

    def set(
        self,
        *,
        xlabel: str | None = None,
        ylabel: str | None = None,
        title: str | None = None,
        xlim=None,
        ylim=None,
        xscale: str | None = None,
        yscale: str | None = None,
        title_loc: str = "center",
    ) -> None:
        """Set what is allowed (see the class docstring); ``None`` leaves an item alone.
        Limits may be a pair with ``None`` for an open end, e.g. ``ylim=(0, None)``."""
        ax = self.ax
        if xscale is not None and self._ok(self.fresh):
            ax.set_xscale(xscale)
        if yscale is not None and self._ok(self.fresh):
            ax.set_yscale(yscale)
        if xlim is not None and self._ok(ax.get_autoscalex_on()):
            ax.set_xlim(*_positive_on_log(xlim, ax.get_xscale()))
        if ylim is not None and self._ok(ax.get_autoscaley_on()):
            ax.set_ylim(*_positive_on_log(ylim, ax.get_yscale()))
        if xlabel is not None and self._ok(not ax.get_xlabel()):
            ax.set_xlabel(xlabel)
        if ylabel is not None and self._ok(not ax.get_ylabel()):
            ax.set_ylabel(ylabel)
        if title is not None and self._ok(not ax.get_title(loc=title_loc)):
            ax.set_title(title, loc=title_loc)


def legend(ax, show: bool = True, **kw):
    """One legend of every labelled artist on ``ax`` (all studies drawn there), or none
    (``show=False`` removes an existing one). Returns the legend or None."""
    if not show:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        return None
    handles, _ = ax.get_legend_handles_labels()
    if not handles:
        return None
    with plt.rc_context(rc):
        return ax.legend(**kw)


def _positive_on_log(lim, scale: str):
    """A limit pair with non-positive ends left open on a log axis (matplotlib ignores them
    with a warning on stderr; e.g. a curve that is exactly zero)."""
    if scale != "log":
        return lim
    return tuple(None if (v is not None and v <= 0) else v for v in lim)

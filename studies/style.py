"""Shared figure style: sizes for a two-column paper, a colour-blind-safe palette.

Use :func:`figure` to create figures (applies the style) and :func:`band` to draw a
curve with its shaded standard-error band. Colours are the Okabe-Ito palette.
"""

from __future__ import annotations

from contextlib import contextmanager

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["COLORS", "COLUMN", "PAGE", "band", "figure", "mark_time", "rc", "style", "styled"]

#: Okabe-Ito colour-blind-safe palette.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1))]
#: Width of one column / the full page of a two-column paper, inches.
COLUMN = 3.4
PAGE = 7.0

rc = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
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


def band(ax, x, y, err=None, *, label=None, color=None, ls="-", nse: float = 1.0, **kw):
    """Plot ``y(x)`` with a shaded band ``y +- nse * err`` (skipped where err is None/0)."""
    (line,) = ax.plot(x, y, label=label, color=color, ls=ls, **kw)
    if err is not None:
        err = np.asarray(err)
        if np.any(err > 0):
            ax.fill_between(
                x, y - nse * err, y + nse * err, color=line.get_color(), alpha=0.25, lw=0
            )
    return line


def mark_time(ax, t, label=None, *, color="0.35"):
    """Vertical dotted line at ``t`` with an optional label at the top."""
    ax.axvline(t, color=color, ls=":", lw=0.9)
    if label:
        ax.annotate(
            label,
            (t, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -2),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize=7,
            color=color,
        )

"""Figures of the :mod:`eplt.studies.twirl` study (re-exported there as ``plot``, ``figures``):
the distance and negativity panels; the coloured-noise panel is in
:mod:`eplt.studies._twirl_coloured`."""

from __future__ import annotations

import math

import numpy as np

from . import style
from ._twirl_coloured import TIME_LABEL, coloured_figure
from .base import StudyResult

__all__ = ["LABELS", "TIME_LABEL", "figures", "plot"]

#: Legend label of each scenario.
LABELS = {
    "brownian_correlated": "shared Brownian drive",
    "pulses_segment": "shared pulses, segment average",
    "pulses_sampled": "shared pulses, sampled",
    "brownian_independent": "independent Brownian drives",
}
#: Line widths of the negativity panel (the shared-drive curves coincide).
_NEG_WIDTH = {
    "brownian_correlated": 3.0,
    "pulses_segment": 1.8,
    "pulses_sampled": 0.9,
    "brownian_independent": 1.3,
}


def plot(
    result: StudyResult,
    ax=None,
    *,
    which: str = "distance",
    decorate: bool | None = None,
    legend: bool = True,
):
    """One panel: ``which`` in {"distance", "negativity"}, time in units of ``1/kappa``.

    ``distance``: trace distance of each scenario to its own fixed point (``T(rho0)`` for
    shared drives, ``I/d^2`` for independent ones), log scale, with a thin
    ``exp(-gap kappa t)`` guide through the shared Brownian curve. ``negativity``: with
    ``N(T(rho0))`` and the independent sudden-death time marked. Composes on a shared
    axis: labels and limits only where the axis has none (``decorate``, see
    :class:`eplt.studies.style.Decorator`); ``legend`` draws one legend of everything on the
    axis (or none).
    """
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    if which not in ("distance", "negativity"):
        raise ValueError(f"which must be 'distance' or 'negativity', got {which!r}")
    deco = style.Decorator(ax, decorate)
    ds, s = result.data, result.summary
    kt = ds["time"].values
    var = "distance_fixed_point" if which == "distance" else "negativity"
    with style.style():
        for sc in ds["scenario"].values:
            sc = str(sc)
            y = ds[var].sel(scenario=sc).values
            err = ds[f"{var}_stderr"].sel(scenario=sc).values
            label = LABELS[sc]
            if sc == "pulses_sampled":
                label += rf" ($M={result.params['ntraj']}$" + (
                    r", floor $\propto M^{-1/2}$)" if which == "distance" else ")"
                )
            if which == "distance":
                y = np.maximum(y, 1e-16)
                label += r", to $I/d^2$" if sc == "brownian_independent" else ""
            # the shared-drive negativities coincide: widths decreasing in drawing order
            lw = _NEG_WIDTH[sc] if which == "negativity" else None
            line = style.band(
                ax,
                kt,
                y,
                err if np.any(err > 0) else None,
                label=label,
                nse=1.0,
                log=which == "distance",  # a log axis: the band never plunges to it
                lw=lw,
                **style.scenario_style(sc),
            )
            line.set_gid(sc)
        if which == "distance":
            _decorate_distance(ax, result)
            pos = ds["distance_fixed_point"].values
            lo = max(1e-16, 0.05 * float(np.min(pos[pos > 0])))
            deco.set(
                yscale="log",
                ylim=(lo, 1.5),
                ylabel=r"distance to the fixed point $D(\rho_t, \rho_\infty)$",
            )
        else:
            nt = s["negativity_twirl"]
            ax.axhline(nt, color="0.45", lw=0.6, ls=":")
            ax.annotate(
                r"$\mathcal{N}(\mathcal{T}(\rho_0))$: shared drives keep it",
                (kt[-1], nt),
                xytext=(-2, 3),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=7,
                color="0.35",
            )
            t_sd = s.get("t_sudden_death_independent")
            if t_sd is not None:
                c = style.SCENARIO_COLORS["brownian_independent"]
                style.mark_time(ax, t_sd, rf"$t_{{\rm ESD}}={t_sd:.3g}$ (independent)", color=c)
            top = max(0.05, 1.3 * float(ds["negativity"].values.max()))
            deco.set(ylim=(0, top), ylabel=r"negativity $\mathcal{N}(\rho_t)$")
            end = _negativity_end(ds)
            if end < kt[-1]:  # all change happens early: zoom there, and say so
                ax.annotate(
                    rf"constant up to $\kappa t={kt[-1]:g}$ $\rightarrow$",
                    (0.97, 0.6),
                    xycoords="axes fraction",
                    ha="right",
                    fontsize=7,
                    color="0.35",
                )
            deco.set(xlabel=TIME_LABEL, xlim=(kt[0], end))
        if which == "distance":
            deco.set(xlabel=TIME_LABEL, xlim=(kt[0], kt[-1]))
        style.legend(ax, legend)
    return ax


def _negativity_end(ds) -> float:
    """End of the negativity panel's time axis: twice the last time any exact scenario's
    negativity still moves (by more than 1e-3 of its range), at least 5% of the run."""
    kt = ds["time"].values
    exact = [str(sc) for sc in ds["scenario"].values
             if not np.any(ds["negativity_stderr"].sel(scenario=sc).values > 0)]  # fmt: skip
    n = ds["negativity"].sel(scenario=exact).values  # (scenario, time); sampled noise ignored
    moving = np.abs(n - n[:, -1:]) > 1e-3 * max(1e-12, float(np.ptp(n)))
    idx = np.nonzero(moving.any(axis=0))[0]
    last = kt[idx[-1]] if idx.size else kt[0]
    return float(min(kt[-1], max(2 * last, 0.05 * kt[-1])))


def _decorate_distance(ax, result: StudyResult) -> None:
    """Gap guide, fitted rates, eps line and t_tw of the distance panel."""
    ds, s = result.data, result.summary
    kt = ds["time"].values
    gap = s["gap_correlated"]
    D = ds["distance"].sel(scenario="brownian_correlated").values
    # e^{-gap kappa t} guide on the shared Brownian curve, through it at t_max/2
    i0 = int(np.argmin(np.abs(kt - kt[-1] / 2)))
    sel = kt >= kt[-1] / 4
    guide = D[i0] * np.exp(-gap * (kt[sel] - kt[i0]))
    ax.plot(kt[sel], guide, color="k", lw=0.5, ls=(0, (1, 1.5)), zorder=3)
    # label at the bottom (the y range leaves a free decade there), right of t_tw
    tw = s["t_twirl_input"]
    x0 = tw + 0.02 * kt[-1] if tw is not None and tw < 0.75 * kt[-1] else 0.6 * kt[-1]
    j = int(np.argmin(np.abs(kt - x0)))
    ax.annotate(
        r"dotted: $\propto e^{-\Delta\kappa t}$" + "\n" + rf"gap $\Delta = {gap:.4g}$",
        (kt[j], 0.03),
        xycoords=("data", "axes fraction"),
        ha="left",
        va="bottom",
        fontsize=7,
        color="k",
    )
    notes = []
    if s["fitted_rate"] is not None:
        notes.append(rf"fitted rate ${s['fitted_rate']:.3f}\,\kappa$")
    if s["fitted_rate_pulses"] is not None:
        notes.append(
            rf"pulses: ${s['fitted_rate_pulses']:.3f}\,\kappa$ "
            rf"(closed form ${s['rate_pulses_closed_form']:.3f}\,\kappa$)"
        )
    colors = (
        style.SCENARIO_COLORS["brownian_correlated"],
        style.SCENARIO_COLORS["pulses_segment"],
    )
    for k, (text, color) in enumerate(zip(notes, colors, strict=False)):
        ax.annotate(
            text,
            (0.97, 0.88 - 0.075 * k),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=7,
            color=color,
        )
    eps = result.params["eps"]
    ax.axhline(eps, color="0.6", lw=0.6, ls="--")
    ax.annotate(
        rf"$\epsilon={eps:g}$",
        (kt[0], eps),
        xytext=(2, 2),
        textcoords="offset points",
        fontsize=7,
        color="0.4",
    )
    if s["t_twirl_input"] is not None:
        style.mark_time(ax, s["t_twirl_input"], r"$t_{\rm tw}$")


@style.styled
def figures(result: StudyResult) -> dict:
    """``distance`` and ``negativity`` figures (column width, legend below the axes)."""
    d = result.params["d"]
    title = (
        rf"$d={d}$, $\rho_0=\cos\theta|00\rangle+\sin\theta|11\rangle$, "
        rf"$\theta={result.params['theta'] / math.pi:.3g}\pi$"
        if result.params["input"] == "schmidt"
        else rf"$d={d}$, random $\rho_0$ (seed {result.seed})"
    )
    out = {}
    for which in ("distance", "negativity"):
        fig, axes = style.figure(1, 1, width=style.COLUMN, height=3.5)
        ax = axes[0, 0]
        plot(result, ax, which=which, legend=False)
        ax.set_title(title, loc="left", fontsize=7)
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=1, handlelength=2.2)
        out[which] = fig
    if "coloured_distance" in result.data:
        out["coloured"] = coloured_figure(result)
    return out

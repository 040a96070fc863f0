"""Figures of the :mod:`eplt.studies.threshold` study (re-exported there as ``plot``,
``figures``)."""

from __future__ import annotations

import math

from . import style
from .base import StudyResult

__all__ = ["figures", "plot"]


def _log_ticks(axis, lo: float, hi: float) -> None:
    """Plain-number ticks 1, 2, 5 x 10^k inside [lo, hi] on a log axis."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ks = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
    ticks = [
        m * 10.0**k
        for k in ks
        for m in (1, 2, 5)
        if lo * (1 - 1e-9) <= m * 10.0**k <= hi * (1 + 1e-9)
    ]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(NullLocator())


def plot(
    result: StudyResult,
    ax=None,
    *,
    which: str = "heatmap",
    d: int = 2,
    decorate: bool | None = None,
    legend: bool = True,
    vmax: float | None = None,
    colorbar: bool = True,
):
    """One panel of the study.

    ``which="heatmap"``: negativity over ``F`` and ``beta omega`` for dimension ``d`` on
    the colour scale ``[0, vmax]`` (default: this panel's maximum; ``colorbar=False`` to
    draw one shared bar yourself), threshold line labelled on the map. ``"threshold"``:
    ``F_th`` against ``beta omega`` for identical thermal states, d = 2 and 3.
    ``"unequal"``: the qubit threshold against ``beta_B / beta_A``, one curve per
    ``beta_A`` of ``betas_threshold``. Composes on a shared axis (``decorate``, see
    :class:`eplt.studies.style.Decorator`); ``legend`` draws one legend of everything on the
    axis, or none.
    """
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    if which not in ("heatmap", "threshold", "unequal"):
        raise ValueError(f"which must be 'heatmap', 'threshold' or 'unequal', got {which!r}")
    deco = style.Decorator(ax, decorate)
    ds = result.data
    omega = result.params["omega"]
    bw = ds["beta"].values * omega
    F_label = r"input overlap $F = \langle\Phi^+|\rho_F|\Phi^+\rangle$"
    with style.style():
        if which == "heatmap":
            N = ds["negativity"].sel(d=d).values
            mesh = ax.pcolormesh(
                ds["F"].values,
                bw,
                N,
                cmap="viridis",
                shading="auto",
                rasterized=True,
                vmin=0.0,
                vmax=float(N.max()) if vmax is None else vmax,
            )
            if colorbar:
                cb = ax.figure.colorbar(mesh, ax=ax, pad=0.02)
                cb.set_label(r"negativity $\mathcal{N}[\mathcal{E}_\gamma(\rho_F)]$")
            th = ds["threshold_F"].sel(d=d).values
            ax.plot(th, bw, color="white", ls="--", lw=1.0)
            # the threshold labelled along its line, in the separable (dark) region
            k = int(0.5 * bw.size)
            ax.annotate(
                rf"threshold $F_{{\rm th}} = 1/{d}$",
                (th[k], bw[k]),
                xytext=(-3, 0),
                textcoords="offset points",
                rotation=90,
                ha="right",
                va="center",
                fontsize=7,
                color="white",
            )
            deco.set(yscale="log")
            if deco.owns_axis():
                _log_ticks(ax.yaxis, bw[0], bw[-1])
            deco.set(
                xlabel=F_label,
                ylabel=r"inverse temperature $\beta\omega$",
                title=rf"$d = {d}$"
                + (" (qubits)" if d == 2 else r" (qutrit ladder $0, \omega, 2\omega$)"),
            )
        elif which == "threshold":
            bt = ds["beta_threshold"].values * omega
            for i, dd in enumerate(ds["d"].values):
                c = style.COLORS[i]
                ax.plot(
                    bw,
                    ds["threshold_F"].sel(d=dd).values,
                    color=c,
                    ls=style.LINESTYLES[i],
                    label=rf"$d = {dd}$" + (" (qubits)" if dd == 2 else " (qutrit ladder)"),
                )
                ax.plot(bt, ds["threshold_F_at"].sel(d=dd).values, "o", color=c, ms=3.5, mfc="none")
            ax.plot(
                [], [], "o", color="0.3", ms=3.5, mfc="none", label="bisection, reported in summary"
            )
            pos = [b for b in (*bw, *bt) if 0 < b < math.inf]
            deco.set(xscale="log")
            if deco.owns_axis():
                _log_ticks(ax.xaxis, min(pos), max(pos))
            deco.set(
                xlabel=r"inverse temperature $\beta\omega$ ($\tau_A = \tau_B$)",
                ylabel=r"threshold overlap $F_{\rm th}$",
                ylim=(0, 1.02),
            )
        else:
            ratios = ds["beta_ratio"].values
            q = result.params["beta_ratio"]
            for i, b in enumerate(ds["beta_threshold"].values):
                c = style.COLORS[i % len(style.COLORS)]
                y = ds["threshold_F_vs_ratio"].isel(beta_threshold=i).values
                ax.plot(
                    ratios,
                    y,
                    color=c,
                    ls=style.LINESTYLES[i % len(style.LINESTYLES)],
                    label=rf"$\beta_A\omega = {b * omega:g}$",
                )
                ax.plot(
                    [q], [ds["threshold_F_unequal_at"].values[i]], "o", color=c, ms=3.5, mfc="none"
                )
            ax.axhline(0.5, color="0.5", lw=0.6, ls=":")
            ax.annotate(
                r"$1/2$: equal temperatures",
                (ratios[0], 0.5),
                xytext=(3, -3),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=7,
                color="0.35",
            )
            ax.plot([], [], "o", color="0.3", ms=3.5, mfc="none", label=rf"summary, ratio ${q:g}$")
            deco.set(xscale="log")
            if deco.owns_axis():
                _log_ticks(ax.xaxis, ratios[0], ratios[-1])
            deco.set(
                xlabel=r"temperature ratio $\beta_B/\beta_A$ (B colder)",
                ylabel=r"qubit threshold overlap $F_{\rm th}$",
                xlim=(ratios[0], ratios[-1]),
                ylim=(0.2, 1.02),
            )
        style.legend(ax, legend)
    return ax


def figures(result: StudyResult) -> dict:
    """``heatmap`` (d = 2 and 3, one colour scale, full page width) and ``threshold`` (two
    panels: identical temperatures against beta omega; qubits against beta_B / beta_A)."""
    fig_h, axes = style.figure(2, width=style.PAGE, height=2.6)
    vmax = float(result.data["negativity"].max())
    dims = [int(d) for d in result.data["d"].values]
    for ax, d in zip(axes[0], dims, strict=True):
        plot(result, ax, which="heatmap", d=d, vmax=vmax, colorbar=False)
    with style.style():
        cb = fig_h.colorbar(axes[0, 0].collections[0], ax=list(axes[0]), pad=0.01)
        cb.set_label(r"negativity $\mathcal{N}[\mathcal{E}_\gamma(\rho_F)]$")
    fig_t, axes_t = style.figure(2, width=style.PAGE, height=2.6)
    plot(result, axes_t[0, 0], which="threshold", legend=False)
    plot(result, axes_t[0, 1], which="unequal", legend=False)
    with style.style():
        axes_t[0, 0].legend(loc="upper right", handlelength=1.8)
        axes_t[0, 1].legend(loc="lower right", ncols=2, columnspacing=1.0, handlelength=1.8)
        axes_t[0, 0].set_title(r"(a) identical thermal states", loc="left")
        axes_t[0, 1].set_title(r"(b) qubits at unequal temperatures", loc="left")
    return {"heatmap": fig_h, "threshold": fig_t}

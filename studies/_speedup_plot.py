"""Figures of the :mod:`eplt.studies.speedup` study (re-exported there as ``plot``, ``figures``)."""

from __future__ import annotations

import math

import matplotlib.ticker
import numpy as np

from . import style
from .base import StudyResult

#: The study's scenarios with a time series (``no_shared_randomness`` is a channel only).
DYNAMIC = (
    "gad",
    "thermal_resets",
    "correlated",
    "shared_drive_independent_clocks",
    "independent",
    "independent_damping_stopped",
)

LABELS = {
    "gad": "independent thermal baths (GAD)",
    "thermal_resets": "independent thermal resets",
    "correlated": "shared drive + shared clock",
    "shared_drive_independent_clocks": "shared drive, independent clocks",
    "independent": "independent drive + clocks",
    "independent_damping_stopped": "independent T=0 damping, stopped",
}
# one colour and line style per scenario name in every study (eplt.studies.style palette)
_COLOR = {s: style.scenario_style(s)["color"] for s in DYNAMIC}
_LS = {s: style.scenario_style(s)["ls"] for s in DYNAMIC}


def _family_colors(n: int) -> list:
    """``n`` distinct colours: the palette's first seven (its eighth, black, marks the
    per-input curve), else ``n`` samples of the ``viridis`` colour map."""
    if n <= 7:
        return list(style.COLORS[:n])
    import matplotlib

    return [matplotlib.colormaps["viridis"](x) for x in np.linspace(0.0, 0.9, n)]


def _input_label(params) -> str:
    if params["input"] == "phi_plus":
        return r"$\Phi^+$"
    return (
        rf"$\cos\theta|00\rangle+\sin\theta|11\rangle$, $\theta={params['theta'] / math.pi:.3g}\pi$"
    )


def plot(result: StudyResult, ax=None, *, which: str = "negativity"):
    """One panel: ``which`` in {"negativity", "distance", "speedup", "negativity_vs_beta"}."""
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    ds, s, prm = result.data, result.summary, result.params
    r, omega = prm["rate"], prm["omega"]
    t = r * ds["time"].values  # plotted in units of 1/r
    ts = r * s["t_star"]
    if which == "negativity":
        for sc in DYNAMIC:
            y = ds["negativity"].sel(scenario=sc).values
            if sc == "independent":  # zero throughout: drawn, and said so
                lab = LABELS[sc] + " (= 0)"
            else:
                lab = LABELS[sc]
            ax.plot(t, y, color=_COLOR[sc], ls=_LS[sc], label=lab, gid=sc)
        style.mark_time(ax, ts, r"$t^*$")
        ax.set_ylabel(r"negativity $\mathcal{N}$")
        ax.set_ylim(bottom=0)
        # up to just past the last sudden death (the rest is zero)
        ends = [
            r * (s["t_star_by_scenario"][sc] + v)
            for sc, v in s["entanglement_lifetime_after_t_star"].items()
            if v is not None and math.isfinite(v)
        ]
        ax.set_xlabel(r"time $r t$")
        ax.set_xlim(t[0], min(t[-1], 1.2 * max(ends + [ts])))
        return ax
    elif which == "distance":
        floor = 1e-6
        shown = ("gad", "thermal_resets", "correlated", "independent_damping_stopped")
        gad = ds["marginal_distance"].sel(scenario="gad").max("party").values
        for sc in shown:
            d = ds["marginal_distance"].sel(scenario=sc).max("party").values
            lab = LABELS[sc]  # the same label as panel (a): one legend entry per scenario
            if sc == "correlated":  # the other two protocols have the same marginals
                ax.annotate(
                    "all three protocols\n(identical marginals)",
                    (ts, 1e-3),
                    xytext=(5, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=7,
                    color=_COLOR[sc],
                )
            elif sc == "thermal_resets" and np.abs(d - gad).max() < 1e-12:
                lab = None  # hidden under GAD: said on the curve instead
                ax.text(
                    0.3,
                    0.2,
                    "GAD and thermal resets:\none curve for this input",
                    transform=ax.transAxes,
                    fontsize=7,
                    color="0.25",
                )
            y = np.where(d > 1e-14, d, np.nan)
            ax.plot(t, y, color=_COLOR[sc], ls=_LS[sc], label=lab, gid=sc)
            # exactly tau: a marker on the floor instead of a plunge to round-off
            zero = np.nonzero(d <= 1e-14)[0]
            if zero.size:
                ax.plot(t[zero[0]], floor, marker="v", ms=5, color=_COLOR[sc], clip_on=False)
        ax.annotate(
            r"exactly $\tau$",
            (ts, floor),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=7,
            color="0.25",
        )
        ax.set_yscale("log")
        ax.set_ylim(floor, 1.0)
        ax.axhline(prm["eps"], color="0.5", lw=0.8, ls="--")
        ax.annotate(
            r"$\epsilon$",
            (t[-1], prm["eps"]),
            xytext=(-4, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
            color="0.4",
        )
        style.mark_time(ax, ts, r"$t^*$")
        te = r * s["t_eps_reference_for_input"]
        if te <= t[-1]:
            style.mark_time(ax, te, r"$t_\epsilon^{\rm GAD}$")
        ax.set_ylabel(r"$\max_X D(\rho_X, \tau_X)$")
    elif which == "speedup":
        b = ds["beta"].values * omega
        colors = _family_colors(ds.sizes["kappa_ratio"])
        for i, kr in enumerate(ds["kappa_ratio"].values):
            inf = math.isinf(kr)
            lab = r"$\kappa/r=\infty$ (instant twirl)" if inf else rf"$\kappa/r={kr:g}$"
            ax.plot(
                b,
                ds["speedup_kappa"].sel(kappa_ratio=kr),
                color=colors[i],
                lw=0.8 if inf else 1.6,
                label=lab,
            )
        ax.plot(
            b,
            ds["speedup_gad_beta"],
            color="0.3",
            ls="--",
            label=rf"vs GAD ($\kappa/r={prm['kappa'] / r:g}$)",
        )
        ax.plot(
            b,
            ds["speedup_for_input_beta"],
            color="k",
            ls=":",
            label=_input_label(prm) + r"'s own $t_\epsilon$ (GAD)",
        )
        ax.axhline(1.0, color="0.5", lw=0.8)
        cbs = [v for v in s["crossover_beta_by_kappa_ratio"].values() if v is not None]
        if cbs:
            ax.plot(
                np.array(cbs) * omega,
                np.ones(len(cbs)),
                "o",
                ms=4,
                mfc="none",
                color="k",
                label=r"crossover $S=1$ (the same for all $\kappa$)"
                if len(set(np.round(cbs, 6))) == 1
                else r"crossover $S=1$",
            )
            ax.annotate(
                rf"$\beta\omega={cbs[-1] * omega:.2f}$",
                (cbs[-1] * omega, 1.0),
                xytext=(0, -16),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel(r"inverse temperature $\beta\omega$")
        ax.set_ylabel(r"speed-up $S = t_\epsilon^{\rm ref}/t^*$")
        ax.set_xlim(b[0], b[-1])
        return ax
    elif which == "negativity_vs_beta":
        b = ds["beta"].values * omega
        n = ds["negativity_at_t_star_beta"]
        ax.plot(b, n.sel(clocks="shared"), color=_COLOR["correlated"], label="shared clock")
        ax.plot(
            b,
            n.sel(clocks="independent"),
            color=_COLOR["shared_drive_independent_clocks"],
            ls="--",
            label="independent clocks",
        )
        ax.set_xlabel(r"inverse temperature $\beta\omega$")
        ax.set_ylabel(r"negativity at $t^*$")
        ax.set_xlim(b[0], b[-1])
        ax.set_ylim(bottom=0)
        return ax
    elif which == "speedup_vs_eps":
        eps = ds["eps"].values
        for i, kr in enumerate(ds["kappa_ratio"].values):
            inf = math.isinf(kr)
            lab = r"$\kappa/r=\infty$ (instant twirl)" if inf else rf"$\kappa/r={kr:g}$"
            y = ds["speedup_eps"].sel(kappa_ratio=kr).values
            ax.plot(eps, y, color=style.COLORS[i % len(style.COLORS)], lw=0.8 if inf else 1.6,
                    label=lab)  # fmt: skip
        for e, v in s["speedup_vs_eps"].items():  # the summary's values at the study's kappa
            if v is not None:
                ax.plot(float(e), v, "o", ms=3.5, mfc="white", color="k", zorder=3)
        ax.plot([], [], "o", ms=3.5, mfc="white", color="k",
                label=rf"summary: $\kappa/r={prm['kappa'] / r:g}$")  # fmt: skip
        ax.axvline(prm["eps"], color="0.5", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.invert_xaxis()  # stricter eps to the right
        ax.set_xlabel(r"tolerance $\epsilon$ (worst-case marginal trace distance)")
        ax.set_ylabel(r"speed-up $S = t_\epsilon^{\rm ref}/t^*$")
        ax.set_ylim(bottom=0)
        return ax
    elif which == "speedup_vs_kappa_ratio":
        x = ds["kappa_ratio_grid"].values
        ev = ds["eps_value"].values
        cmap = matplotlib.colormaps["viridis"]
        for j, e in enumerate(ev):
            y = ds["speedup_kappa_ratio_grid"].sel(eps_value=e).values
            ax.plot(x, y, color=cmap(0.85 * j / max(1, ev.size - 1)), ls=style.LINESTYLES[j % 4],
                    label=rf"$\epsilon=10^{{{round(math.log10(e))}}}$")  # fmt: skip
        ax.axvline(prm["kappa"] / r, color="0.5", lw=0.8, ls=":")
        ax.axhline(1.0, color="0.5", lw=0.8, label=r"$S=1$ (no speed-up)")
        ax.set_xscale("log")
        ax.set_xlabel(r"twirl strength $\kappa/r$")
        ax.set_ylabel(r"speed-up $S = t_\epsilon^{\rm ref}/t^*$")
        ax.set_xlim(x[0], x[-1])
        ax.set_ylim(bottom=0)
        return ax
    else:
        raise ValueError(
            "which must be 'negativity', 'distance', 'speedup', 'negativity_vs_beta', "
            f"'speedup_vs_eps' or 'speedup_vs_kappa_ratio', got {which!r}"
        )
    ax.set_xlabel(r"time $r t$")
    ax.set_xlim(t[0], t[-1])
    return ax


@style.styled
def figures(result: StudyResult) -> dict:
    prm = result.params
    fig1, axes = style.figure(2, 1, width=style.PAGE, height=2.9)
    plot(result, axes[0, 0], which="negativity")
    plot(result, axes[0, 1], which="distance")
    axes[0, 0].set_title(
        rf"(a) entanglement of {_input_label(prm)}, $\beta\omega={prm['beta'] * prm['omega']:g}$, "
        rf"$\kappa/r={prm['kappa'] / prm['rate']:g}$",
        loc="left",
    )
    axes[0, 1].set_title(rf"(b) marginals of {_input_label(prm)} (this input only)", loc="left")
    h1, l1 = axes[0, 0].get_legend_handles_labels()
    h2, l2 = axes[0, 1].get_legend_handles_labels()
    extra = [(h, lab) for h, lab in zip(h2, l2) if lab not in l1]
    fig1.legend(
        h1 + [h for h, _ in extra],
        l1 + [lab for _, lab in extra],
        loc="outside lower center",
        ncols=3,
    )
    fig2, ax2 = style.figure(2, 1, width=style.PAGE, height=3.0)
    plot(result, ax2[0, 0], which="speedup")
    plot(result, ax2[0, 1], which="negativity_vs_beta")
    ax2[0, 0].set_title(r"(a) speed-up, worst case over inputs (vs thermal resets)", loc="left")
    ax2[0, 1].set_title(
        rf"(b) entanglement of {_input_label(prm)} at $t^*$, shared drive, "
        rf"$\kappa/r={prm['kappa'] / prm['rate']:g}$",
        loc="left",
    )
    h, lab = ax2[0, 0].get_legend_handles_labels()
    fig2.legend(h, lab, loc="outside lower center", ncols=4)
    ax2[0, 1].legend(loc="upper right")
    fig3, ax3 = style.figure(2, 1, width=style.PAGE, height=2.9)
    plot(result, ax3[0, 0], which="speedup_vs_eps")
    plot(result, ax3[0, 1], which="speedup_vs_kappa_ratio")
    bo = rf"$\beta\omega={prm['beta'] * prm['omega']:g}$"
    ax3[0, 0].set_title(
        rf"(a) speed-up against $\epsilon$, {bo} (dotted: study $\epsilon$)", loc="left"
    )
    ax3[0, 1].set_title(
        rf"(b) speed-up against $\kappa/r$, {bo} (dotted: study $\kappa/r$)", loc="left"
    )
    ax3[0, 0].legend(loc="upper left")
    ax3[0, 1].legend(loc="upper left")
    return {"timeseries": fig1, "speedup_vs_beta": fig2, "speedup_vs_eps": fig3}

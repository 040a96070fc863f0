"""Figures of the :mod:`eplt.studies.oscillators` study (re-exported there as ``plot``, ``figures``)."""

from __future__ import annotations

import numpy as np

from . import style
from .base import StudyResult

__all__ = ["LABELS", "figures", "plot"]

SCENARIOS = ("correlated", "independent", "thermal")
#: Legend label of each scenario.
LABELS = {
    "correlated": "shared phase noise",
    "independent": "independent phase noise",
    "thermal": "no phase noise",
}
#: Panels of the ``dynamics`` figure: (variable, y label, log scale).
_DYN = (
    ("negativity", r"negativity $\mathcal{N}$", False),
    ("marginal_distance", r"$D(\rho_A, \tau)$", True),
    ("photon_number", r"photon number $\langle a^\dagger a\rangle$", False),
)
_FLOOR = 1e-7  # lower end of the log axes of the channel figures


def _channel_tmsv(result: StudyResult, ax, deco) -> None:
    ds, s = result.data, result.summary
    lam = ds["lam"].values
    greys = ["0.25", "0.45", "0.6", "0.72"]
    for i, b in enumerate(ds["beta"].values):
        color = style.COLORS[i % len(style.COLORS)]
        y = ds["layer_cake_negativity"].values[i]
        ax.plot(
            lam,
            np.where(y > _FLOOR, y, np.nan),
            color=color,
            label=rf"layer cake, $\beta\omega={b:g}$",
        )
        ax.axhline(ds["tfd_ceiling"].values[i], color=color, ls=":", lw=0.9)
    cut = ds["cutoff_d"].values
    show = [d for d in (4, 8, 16) if d in cut] or list(cut[-3:])
    for k, d in enumerate(show):
        y = ds["egamma_negativity"].sel(cutoff_d=d).values
        ax.plot(
            lam,
            np.where(y > _FLOOR, y, np.nan),
            color=greys[k % len(greys)],
            ls="--",
            label=rf"$E_\gamma$, cutoff $d={d}$, $\beta\omega={s['beta']:g}$",
        )
    ax.plot([], [], color="0.3", ls=":", lw=0.9, label=r"any-LT ceiling $\sqrt{q}/(1-\sqrt{q})$")
    deco.set(
        xlabel=r"squeezing $\lambda$ of the input TMSV",
        ylabel=r"output negativity $\mathcal{N}$",
        yscale="log",
        xlim=(0, lam[-1]),
        ylim=(_FLOOR, 30),
        title="per input (TMSV); dotted: ceilings",
    )


def _channel_phi(result: StudyResult, ax, deco) -> None:
    ds, s = result.data, result.summary
    d = ds["d"].values
    lc = ds["layer_cake_negativity_phi_plus"].values
    eg = ds["egamma_negativity_phi_plus"].values
    c = style.COLORS
    ax.plot(d, lc, "o-", color=c[0], ms=3, label="layer cake (no cutoff)")
    low = max(_FLOOR, float(np.min(eg[eg > 0], initial=1.0)) / 3)
    ax.plot(
        d,
        np.where(eg > _FLOOR, eg, np.nan),
        "s--",
        color=c[1],
        ms=3,
        label=r"$E_\gamma$ on cutoff $d$",
    )
    ax.axhline(
        s["tfd_ceiling"], color="0.3", ls=":", lw=0.9, label=r"ceiling $\sqrt{q}/(1-\sqrt{q})$"
    )
    deco.set(
        xlabel=r"input $\Phi^+_d$, $d$ (levels)",
        ylabel=r"output negativity $\mathcal{N}$",
        yscale="log",
        xlim=(d[0] - 0.5, d[-1] + 0.5),
        ylim=(low, 10),
        title=rf"per input $\Phi^+_d$, $\beta\omega = {s['beta']:g}$",
    )


def _dynamics(result: StudyResult, ax, which: str, deco) -> None:
    ds, s = result.data, result.summary
    G = result.params["G"]
    t = G * ds["time"].values
    N, Nc = ds["cutoff_run"].values
    if which == "cutoff":
        for sc in SCENARIOS:
            kw = style.scenario_style(sc)
            diff = np.max(
                [
                    np.abs(
                        ds[v].sel(cutoff_run=N, scenario=sc) - ds[v].sel(cutoff_run=Nc, scenario=sc)
                    )
                    for v, *_ in _DYN
                ],
                axis=0,
            )
            ax.plot(t, np.maximum(diff, 1e-16), label=LABELS[sc], **kw)
        edge = ds["edge_population"].sel(cutoff_run=N).max("scenario").values
        ax.plot(
            t,
            np.maximum(edge, 1e-16),
            color="0.5",
            lw=0.9,
            label=f"top-level population ({N} levels)",
        )
        ax.axhline(s["tol"], color="0.3", ls=":", lw=0.9, label=r"tolerance")
        low = min(float(np.min(edge)), s["tol"]) / 1e3  # room for the legend below the curves
        deco.set(
            xlabel=r"time $G t$",
            ylabel=f"largest change, cutoff {Nc}" + r"$\to$" + f"{N}",
            yscale="log",
            xlim=(t[0], t[-1]),
            ylim=(low, 10 * s["tol"]),
        )
        return
    label = dict((v, y) for v, y, _ in _DYN)[which]
    log = dict((v, lg) for v, _, lg in _DYN)[which]
    for sc in SCENARIOS:
        kw = style.scenario_style(sc)
        y = ds[which].sel(cutoff_run=N, scenario=sc).values
        ax.plot(t, np.maximum(y, 1e-16) if log else y, label=LABELS[sc], **kw)
        te = s["t_esd"][sc]
        if which == "negativity" and te is not None:
            ax.plot([G * te], [0], "o", color=kw["color"], ms=3.5, clip_on=False, zorder=4)
    xlim = (t[0], t[-1])
    dead = [G * v for v in s["t_esd"].values() if v is not None]
    if which == "negativity" and dead:  # zoom on the deaths: 1.6 x the last one
        xlim = (t[0], min(t[-1], 1.6 * max(dead)))
    deco.set(xlabel=r"time $G t$", ylabel=label, yscale="log" if log else None, xlim=xlim)
    if which == "negativity":
        ax.set_ylim(bottom=0)


def plot(
    result: StudyResult, ax=None, *, which: str = "negativity", decorate=None, legend: bool = True
):
    """One panel: ``which`` in ``channel_tmsv``, ``channel_phi_plus``, ``negativity``,
    ``marginal_distance``, ``photon_number``, ``cutoff``."""
    kinds = (
        "channel_tmsv",
        "channel_phi_plus",
        "negativity",
        "marginal_distance",
        "photon_number",
        "cutoff",
    )
    if which not in kinds:
        raise ValueError(f"which must be one of {', '.join(kinds)}, got {which!r}")
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    deco = style.Decorator(ax, decorate)
    with style.style():
        if which == "channel_tmsv":
            _channel_tmsv(result, ax, deco)
        elif which == "channel_phi_plus":
            _channel_phi(result, ax, deco)
        else:
            _dynamics(result, ax, which, deco)
        if legend and which == "channel_tmsv":  # below the axes: the curves fill the panel
            style.legend(ax, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
        elif legend and which != "photon_number":
            loc = {"channel_phi_plus": "lower left", "cutoff": "lower right"}
            style.legend(ax, loc=loc.get(which, "upper right"))
    return ax


@style.styled
def figures(result: StudyResult) -> dict:
    """``channel_tmsv``, ``channel_phi_plus`` (one column each) and ``dynamics`` (2 x 2)."""
    out = {}
    for name, h in (("channel_tmsv", 1.25), ("channel_phi_plus", 0.9)):
        fig, axes = style.figure(height=style.COLUMN * h)
        plot(result, axes[0, 0], which=name)
        out[name] = fig
    fig, axes = style.figure(2, 2, width=style.PAGE, height=4.6)
    for ax, which in zip(
        axes.ravel(), ("negativity", "marginal_distance", "photon_number", "cutoff")
    ):
        plot(result, ax, which=which, legend=which in ("negativity", "cutoff"))
    s = result.summary
    fig.suptitle(
        rf"TMSV $\lambda_0={result.params['lam0']:g}$, $\beta\omega={s['beta']:g}$, "
        rf"$G={result.params['G']:g}\,\omega$, $\kappa={result.params['kappa_phase']:g}\,\omega$, "
        f"cutoff {s['cutoff_used']['dynamics']} per mode (dots: sudden death)",
        fontsize=8,
    )
    out["dynamics"] = fig
    return out

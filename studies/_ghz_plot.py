"""Figures of the :mod:`eplt.studies.ghz` study (re-exported there as ``plot``, ``figures``)."""

from __future__ import annotations

import math

import numpy as np

from . import style
from .base import StudyResult

__all__ = ["GME_NOTE", "LABELS", "TIME_LABEL", "figures", "plot"]

#: Highest data point of the negativity and marginal panels, as a fraction of the axis
#: height: the time labels (t_tw, t*) at the top stay clear of the curves.
_DATA_TOP = 0.85
#: Legend label of each scenario.
LABELS = {"correlated": "correlated baths", "independent": "independent baths"}
#: Label of the time axes (time in units of 1/r).
TIME_LABEL = r"time $r t$"
GME_NOTE = r"only $F_{\rm GHZ} > 1/2$ witnesses genuine multipartite entanglement"


def _witness_line(ax, x0: float) -> None:
    ax.axhline(0.5, color="0.5", lw=0.7, ls=":")
    ax.annotate(
        r"$F_{\rm GHZ} = 1/2$: GME witness",
        (x0, 0.5),
        xytext=(7, -2),  # below the line: clear of the correlated curve crossing it
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=7,
        color="0.4",
    )


def plot(
    result: StudyResult,
    ax=None,
    *,
    which: str = "fidelity",
    decorate: bool | None = None,
    legend: bool = True,
):
    """One panel: ``which`` in {"fidelity", "negativity", "marginal", "vs_n"}.

    ``fidelity``: GHZ fidelity with the witness line ``F_GHZ = 1/2`` (above it: genuine
    multipartite entanglement, GME). ``negativity``: the smallest negativity over all
    bipartitions ``S|S̄`` (positive: entangled across every cut, which does not imply GME).
    ``marginal``: the largest marginal trace distance to ``tau``. ``vs_n``: the GHZ
    fidelity at ``t*`` against ``n`` with the closed forms. Time in units of ``1/r``.
    Composes on a shared axis (``decorate``, see :class:`eplt.studies.style.Decorator`);
    ``legend`` draws one legend of everything on the axis, or none.
    """
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    deco = style.Decorator(ax, decorate)
    ds, s, prm = result.data, result.summary, result.params
    if which == "vs_n":
        ns = ds["n"].values
        if ns.size == 0:
            ax.text(0.5, 0.5, "no scan (n_max < 2)", ha="center", transform=ax.transAxes)
        gamma, p0, p1 = s["gamma"], result.extra["p0"], result.extra["p1"]
        F = prm["fidelity"]
        nn = np.arange(2, max(3, int(ns.max()) if ns.size else 3) + 1)
        for sc in map(str, ds["scenario"].values):
            (line,) = ax.plot(
                ns,
                ds["ghz_fidelity_at_t_star_vs_n"].sel(scenario=sc),
                "o",
                ms=4,
                color=style.SCENARIO_COLORS[sc],
                label=LABELS[sc],
            )
            line.set_gid(sc)
        ax.plot(
            nn,
            0.5 + gamma * (np.maximum(F, 2.0**-nn) - 0.5),
            color=style.SCENARIO_COLORS["correlated"],
            lw=0.9,
            label=r"$\frac{1}{2}+\gamma(F_{\rm in}-\frac{1}{2})$",
        )
        ax.plot(
            nn,
            (p0**nn + p1**nn) / 2,
            color=style.SCENARIO_COLORS["independent"],
            lw=0.9,
            ls="--",
            label=r"$(p_0^n+p_1^n)/2$",
        )
        _witness_line(ax, nn[0])
        if deco.owns_axis():
            ax.set_xticks(nn)
        deco.set(
            xlabel=r"number of qubits $n$",
            ylabel=r"GHZ fidelity $F_{\rm GHZ}$ at $t^*$",
            ylim=(0, 1),
        )
        with style.style():
            style.legend(ax, legend)
        return ax
    if which not in ("fidelity", "negativity", "marginal"):
        raise ValueError(
            f"which must be 'fidelity', 'negativity', 'marginal' or 'vs_n', got {which!r}"
        )
    t = ds["time"].values * prm["rate"]
    for sc in map(str, ds["scenario"].values):
        kw = {**style.scenario_style(sc), "label": LABELS[sc], "gid": sc}
        if which == "fidelity":
            ax.plot(t, ds["ghz_fidelity"].sel(scenario=sc), **kw)
        elif which == "negativity":
            ax.plot(t, ds["min_bipartition_negativity"].sel(scenario=sc), **kw)
        else:
            d = ds["marginal_distance"].sel(scenario=sc).max("qubit").values
            ax.plot(t, np.maximum(d, 1e-16), **kw)
    if which == "fidelity":
        _witness_line(ax, t[0])
        deco.set(
            ylim=(0, 1),
            ylabel=r"GHZ fidelity $F_{\rm GHZ} = \langle{\rm GHZ}|\rho|{\rm GHZ}\rangle$",
        )
    elif which == "negativity":
        top = float(ds["min_bipartition_negativity"].max())
        deco.set(
            # the data's top at most 85% of the height: the t_tw / t* labels above it
            ylim=(0, top / _DATA_TOP if top > 0 else 0.05),
            ylabel=r"negativity $\min_{S} \mathcal{N}_{S|\bar S}$",
        )
        ax.annotate(
            "> 0 on every cut:\nnot a GME witness\n" r"(only $F_{\rm GHZ} > 1/2$ is)",
            # left of t_tw when there is room (the curves are flat there), else at the right
            (s["t_twirl"] * prm["rate"], 0.3)
            if s["t_twirl"] * prm["rate"] > 0.45 * t[-1]
            else (t[-1], 0.3),
            xycoords=("data", "axes fraction"),
            xytext=(-4, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=7,
            color="0.35",
        )
    else:
        # below 1e-9: exact to machine precision, as in speedup; the data's top at most
        # 85% of the (log) height, the t_tw / t* labels above it
        d_top = max(float(ds["marginal_distance"].max()), 1e-9)
        top = 10 ** (-9 + (math.log10(d_top) + 9) / _DATA_TOP)
        deco.set(yscale="log", ylim=(1e-9, max(top, 1.0)), ylabel=r"$\max_k D(\rho_k, \tau)$")
    # t_tw labelled on the left of its line, t* on the right (the two are often close)
    style.mark_time(ax, s["t_twirl"] * prm["rate"], r"$t_{\rm tw}$", side="left")
    style.mark_time(ax, s["t_star"] * prm["rate"], r"$t^*$")
    deco.set(xlabel=TIME_LABEL, xlim=(t[0], t[-1]))
    with style.style():
        style.legend(ax, legend)
    return ax


def _product_sum_mask(ds) -> np.ndarray:
    """True at the scan's n computed by the product-sum route."""
    if "method_n_scale" not in ds.coords:
        return np.zeros(ds.sizes["n_scale"], dtype=bool)
    return np.array([str(m).startswith("product_sum") for m in ds["method_n_scale"].values])


def plot_scaling(result: StudyResult, axes) -> None:
    """The scaling scan on two axes: (a) GHZ fidelity at ``t*`` against n (log scale) of the
    noisy GHZ input (dots; diamonds: the product-sum point) and its worst case over inputs
    with at least that GHZ fidelity (bars), with the closed forms and the witness line;
    (b) the certified twirl time and ``t*``."""
    ds, s, prm = result.data, result.summary, result.params
    ns = ds["n_scale"].values
    ax = axes[0]
    gamma, p0, p1 = s["gamma"], result.extra["p0"], result.extra["p1"]
    F = prm["fidelity"]
    nn = np.unique(np.geomspace(2, max(3, int(ns.max())), 200).astype(int))
    ps = _product_sum_mask(ds)
    for sc in map(str, ds["scenario"].values):
        F_sc = ds["fidelity_at_t_star_vs_n"].sel(scenario=sc).values
        W_sc = ds["worst_case_fidelity_at_t_star_vs_n"].sel(scenario=sc).values
        col = style.SCENARIO_COLORS[sc]
        ax.plot(ns[~ps], F_sc[~ps], "o", ms=4, color=col, label=LABELS[sc], gid=sc)
        if ps.any():
            ax.plot(ns[ps], F_sc[ps], "D", ms=4.5, color=col, gid=f"{sc}-product-sum")
        ax.plot(
            ns,
            W_sc,
            "_",
            ms=9,
            mew=1.4,
            color=col,
            gid=f"{sc}-worst",
        )
    ax.plot(
        nn,
        0.5 + gamma * (np.maximum(F, 2.0**-nn) - 0.5),
        color=style.SCENARIO_COLORS["correlated"],
        lw=0.9,
        label=r"$\frac{1}{2}+\gamma(F_{\rm in}-\frac{1}{2})$",
    )
    ax.plot(
        nn,
        (p0**nn + p1**nn) / 2,
        color=style.SCENARIO_COLORS["independent"],
        lw=0.9,
        ls="--",
        label=r"$(p_0^n+p_1^n)/2$",
    )
    _witness_line(ax, nn[0])
    ax.set_xscale("log")
    ax.set_ylim(0, 1.12)
    ax.set_xlabel(r"number of qubits $n$")
    ax.set_ylabel(r"GHZ fidelity $F_{\rm GHZ}$ at $t^*$")
    ax.plot(
        [], [], "_", ms=9, mew=1.4, color="0.3", label=r"worst case, $F_{\rm in}' \geq F_{\rm in}$"
    )
    if ps.any():
        ax.plot([], [], "D", ms=4.5, color="0.3", label="product-sum route")
    ax.legend(loc="upper right", ncols=2, fontsize=7)
    ax.set_title("(a) GHZ fidelity at $t^*$", loc="left")
    ax = axes[1]
    r = prm["rate"]
    ax.plot(
        ns[~ps],
        ds["t_star_vs_n"].values[~ps] * r,
        "o-",
        ms=4,
        color="0.15",
        label=r"$t^*$ (correlated = independent)",
    )
    ax.plot(
        ns[~ps],
        ds["t_twirl_vs_n"].values[~ps] * r,
        "s--",
        ms=4,
        color="0.55",
        label=r"$t_{\rm tw}$ (certified)",
    )
    if ps.any():
        ax.plot(ns[ps], ds["t_star_vs_n"].values[ps] * r, "D", ms=4.5, color="0.15")
        ax.plot(ns[ps], ds["t_twirl_vs_n"].values[ps] * r, "D", ms=4.5, color="0.55")
        ax.plot([], [], "D", ms=4.5, color="0.3", label="product-sum route (zero-sum drive)")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.25 * float(ds["t_star_vs_n"].max()) * r)
    ax.set_xlabel(r"number of qubits $n$")
    ax.set_ylabel(r"time $r t$")
    ax.legend(loc="upper right", fontsize=7)
    for a in axes:
        top = max(3, int(ns.max()))
        ticks = [m for m in (2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if m <= top]
        a.set_xticks(ticks, [str(m) for m in ticks])
        a.minorticks_off()
    ax.set_title(
        r"(b) certified times ($\varepsilon_{\rm tw}$" + f"$={prm['twirl_tol']:g}$)", loc="left"
    )


@style.styled
def figures(result: StudyResult) -> dict:
    """``timeseries`` (three panels, full width), ``fidelity_vs_n`` (column width) and
    ``scaling`` (two panels: the scaling scan against n, log scale)."""
    prm = result.params
    fig1, axes = style.figure(3, 1, width=style.PAGE, height=2.7)
    titles = (
        "(a) GHZ fidelity",
        "(b) smallest-bipartition negativity",
        "(c) local thermalization",
    )
    for ax, which, title in zip(axes[0], ("fidelity", "negativity", "marginal"), titles):
        plot(result, ax, which=which, legend=False)
        ax.set_title(title, loc="left")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    inp = (
        rf"noisy GHZ, $F_{{\rm in}}={prm['fidelity']:g}$"
        if prm["input"] == "noisy_ghz"
        else f"random input (seed {result.seed})"
    )
    fig1.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=2,
        title=rf"$n={prm['n']}$ qubits, {inp}, $\beta\omega={prm['beta'] * prm['omega']:g}$, "
        rf"$\kappa/r={prm['kappa'] / prm['rate']:g}$, flip rate$/r={prm['flip_rate'] / prm['rate']:g}$",
        title_fontsize=7,
    )
    out = {"timeseries": fig1}
    if result.data.sizes.get("n", 0):
        fig2, ax2 = style.figure(1, 1, width=style.COLUMN, height=2.8)
        plot(result, ax2[0, 0], which="vs_n", legend=False)
        ax2[0, 0].legend(loc="upper center", ncols=2)
        ax2[0, 0].set_ylim(0, 1.12)
        ax2[0, 0].set_title(
            rf"noisy GHZ, $F_{{\rm in}}={prm['fidelity']:g}$, $\beta\omega={prm['beta'] * prm['omega']:g}$"
            + "\n"
            + GME_NOTE,
            loc="left",
        )
        out["fidelity_vs_n"] = fig2
    if result.data.sizes.get("n_scale", 0):
        fig3, ax3 = style.figure(2, 1, width=style.PAGE, height=2.8)
        plot_scaling(result, ax3[0])
        fig3.suptitle(
            rf"exchangeable zero-sum drive, noisy GHZ $F_{{\rm in}}={prm['fidelity']:g}$, "
            rf"$\beta\omega={prm['beta'] * prm['omega']:g}$, $\kappa/r={prm['kappa'] / prm['rate']:g}$; "
            "permutation-symmetric method from n = 6"
            + ("\n" if _product_sum_mask(result.data).any() else "")
            + (
                "diamonds: product-sum route with the zero-sum drive (n - 1 signals); "
                "bars: worst case over all inputs with GHZ fidelity at least $F_{\\rm in}$"
                if _product_sum_mask(result.data).any()
                else ""
            ),
            fontsize=7,
        )
        out["scaling"] = fig3
    return out

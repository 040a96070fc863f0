"""Figures of the ``bounds`` study (private): explicit LOSR protocols (lower bounds, markers)
against relaxations (upper bounds, lines)."""

from __future__ import annotations

import numpy as np

from . import style
from .base import StudyResult

#: Row order of the study's arrays (eplt.studies.bounds.METHODS and THREE_KEYS; repeated
#: here so that this module imports without the study module, which imports it).
METHODS = (
    "egamma", "twirl_ad", "layer_cake", "corr_reset", "losr", "colgen", "best", "colgen_upper",
    "dps2", "ppt", "any_lt",
)  # fmt: skip
THREE_KEYS = ("egamma_ghz", "twirl_ad", "ppt_bound", "any_lt_bound")
#: Curves closer than this over a whole panel are reported as touching.
TOUCH_TOL = 1e-6

_UP = dict(ls="-", marker="_", ms=9)  # the marker shows single points
_STYLE = {
    "any_lt": dict(color=style.COLORS[3], lw=2.6, alpha=0.45, **_UP, label="any LT, SDP (upper)"),
    "ppt": dict(color=style.COLORS[0], lw=1.3, **_UP, label="PPT (upper)"),
    "dps2": dict(color=style.COLORS[5], lw=1.3, ls="--", marker="_", ms=9, label="DPS-2 (upper)"),
    "colgen_upper": dict(
        color=style.COLORS[7],
        ls="none",
        marker="1",
        ms=9,
        mew=1.4,
        label="col. gen. certificate (upper, Lagrangian)",
    ),
    "best": dict(color="0.2", lw=0.8, ls=":", marker="none", label="best LOSR found (lower)"),
    "egamma": dict(
        color=style.COLORS[1], ls="none", marker="x", ms=6, label=r"$\mathcal{E}_\gamma$"
    ),
    "twirl_ad": dict(
        color=style.COLORS[2], ls="none", marker="o", ms=6, mfc="none", label="twirl + damping"
    ),
    "layer_cake": dict(
        color=style.COLORS[4], ls="none", marker="s", ms=6, mfc="none", label="layer cake"
    ),
    "corr_reset": dict(
        color=style.COLORS[7],
        ls="none",
        marker="D",
        ms=4,
        mfc="none",
        label=r"$\mathcal{E}_\gamma$, correlated reset",
    ),
    "losr": dict(color="0.45", ls="none", marker="+", ms=7, label="see-saw"),
    "colgen": dict(color=style.COLORS[0], ls="none", marker="^", ms=5, label="column generation"),
}
_NEG_LABEL = {
    "ppt": "PPT search (lower bd. on PPT max, not on LOSR)",
    "any_lt": "any LT, closed form (upper)",
}
_NAMES = {
    "any_lt": "any LT",
    "ppt": "PPT",
    "dps2": "DPS-2",
    "best": "best",
    "colgen_upper": "col. gen. cert.",
    "egamma": r"$\mathcal{E}_\gamma$",
    "twirl_ad": "twirl+AD",
    "layer_cake": "layer cake",
    "corr_reset": "corr. reset",
    "losr": "see-saw",
    "colgen": "col. gen.",
}
_XLABEL = {
    "equal": r"$\beta\omega$ (equal qubits)",
    "unequal": r"$\omega_B/\omega_A$ (qubits, $\beta\omega_A = %g$)",
    "qutrit": r"$\beta\omega$ (qutrits, $H = \omega\,\mathrm{diag}(0, 1, 2.5)$)",
}
_ORDER = (
    "any_lt", "ppt", "colgen_upper", "dps2", "best", "egamma", "twirl_ad", "layer_cake", "corr_reset", "losr",
    "colgen",
)  # fmt: skip


def _touching(values: np.ndarray, methods) -> list[list[str]]:
    """Groups of an upper and a lower bound that agree to TOUCH_TOL over the whole panel."""
    groups = []
    for up in ("ppt", "dps2"):
        u = values[METHODS.index(up)]
        if np.all(np.isnan(u)):
            continue
        b = values[METHODS.index("best")]
        if np.nanmax(np.abs(u - b)) < TOUCH_TOL:
            groups.append([up, "best"])
    return groups


def plot(result: StudyResult, ax=None, *, case: str = "equal", merit: str = "overlap"):
    """One panel: ``merit`` ("overlap" or "negativity") against the case's x axis
    ("equal", "unequal" or "qutrit"); upper bounds as lines, explicit protocols as markers."""
    if case not in ("equal", "unequal", "qutrit") or merit not in ("overlap", "negativity"):
        raise ValueError(f"bad case/merit {case!r}/{merit!r}")
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    ds = result.data
    var = ds[f"{merit}_{case}"]
    xdim = var.dims[1]
    x = ds[xdim].values
    vals = var.values
    with style.style():
        for meth in _ORDER:
            y = vals[METHODS.index(meth)]
            if np.all(np.isnan(y)):
                continue
            kw = dict(_STYLE[meth])
            if meth == "dps2" and np.sum(~np.isnan(y)) == 1:  # one point: a bold marker
                kw.update(marker="_", ms=14, mew=2.2)
            if merit == "negativity" and meth in _NEG_LABEL:
                kw["label"] = _NEG_LABEL[meth]
                if meth == "ppt":
                    kw.update(ls="none", marker="v", ms=4, mfc="none")
                else:  # the any-LT closed form: dashed, unlike the overlap's SDP line
                    kw.update(ls="--", lw=1.6, marker="none")
            ax.plot(x, y, **kw)
        if merit == "overlap":
            ax.plot(
                x,
                ds[f"any_lt_closed_form_{case}"].values,
                color=style.COLORS[3],
                ls=":",
                lw=1.0,
                label="any LT, ceiling (upper)",
            )
        if x.size and merit == "overlap":
            text = "; ".join(" = ".join(_NAMES[m] for m in g) for g in _touching(vals, METHODS))
            if text:
                ax.text(
                    0.03, 0.03, "tight: " + text, transform=ax.transAxes, ha="left",
                    va="bottom", fontsize=7, color="0.25",
                )  # fmt: skip
        xl = _XLABEL[case]
        if case == "unequal":
            xl = xl % (result.params["beta_unequal"] * result.params["omega"])
        ax.set_xlabel(xl)
        if case != "unequal" and x.size and x.min() > 0:
            from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_locator(FixedLocator(x))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel(
            r"$\langle\Phi^+|\mathcal{E}(\Phi^+)|\Phi^+\rangle$"
            if merit == "overlap"
            else r"negativity $N(\mathcal{E}(\Phi^+))$"
        )
    return ax


def plot_three_party(result: StudyResult, ax=None):
    """GHZ overlap of three qubits against ``omega_A/omega``."""
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    ds = result.data
    r = ds["ratio3"].values
    v = ds["ghz_overlap_three_party"].values
    sty = {
        "any_lt_bound": dict(_STYLE["any_lt"], label="any LT, SDP (upper)"),
        "ppt_bound": dict(_STYLE["ppt"], label="PPT, every cut (upper)"),
        "egamma_ghz": dict(_STYLE["egamma"], label=r"$\mathcal{E}_\gamma^{GHZ}$ (product reset)"),
        "twirl_ad": dict(_STYLE["twirl_ad"], label="GHZ twirl + damping"),
    }
    with style.style():
        for k in ("any_lt_bound", "ppt_bound", "egamma_ghz", "twirl_ad"):
            ax.plot(r, v[THREE_KEYS.index(k)], **sty[k])
        ax.set_xlabel(
            r"$\omega_A/\omega$ (three qubits, $\omega_B = \omega_C = \omega$, $\beta\omega = %g$)"
            % (result.params["beta_unequal"] * result.params["omega"])
        )
        ax.set_ylabel(r"$\langle GHZ|\mathcal{E}(GHZ)|GHZ\rangle$")
        ax.legend(fontsize=7, loc="best")
    return ax


@style.styled
def figures(result: StudyResult) -> dict:
    """``bounds``: overlap (top row) and negativity (bottom row) for the two-party cases;
    ``bounds_three_party``: the GHZ overlap of three qubits."""
    cases = [c for c in ("equal", "unequal", "qutrit") if result.data[f"overlap_{c}"].shape[1]]
    out = {}
    if cases:
        fig, axes = style.figure(len(cases), 2, width=style.PAGE, height=6.0)
        for j, c in enumerate(cases):
            for i, merit in enumerate(("overlap", "negativity")):
                plot(result, axes[i, j], case=c, merit=merit)
                if j:
                    axes[i, j].set_ylabel("")
        seen = {}
        for a in axes.ravel():
            for h, lab in zip(*a.get_legend_handles_labels()):
                seen.setdefault(lab, h)
        fig.legend(
            list(seen.values()),
            list(seen),
            loc="outside upper center",
            ncol=3,
            fontsize=7,
            title="lines (and the bold DPS-2 dash, qutrits): upper bounds (relaxations, "
            "certified dual values)\nmarkers: explicit exactly-LT LOSR protocols (lower "
            "bounds), except the tri-marker: column generation's Lagrangian certificate "
            "(upper, never below PPT)",
            title_fontsize=7,
        )
        out["bounds"] = fig
    if result.data["ratio3"].size:
        fig3, ax3 = style.figure(1, 1, width=style.PAGE / 2, height=3.0)
        plot_three_party(result, ax3[0, 0])
        out["bounds_three_party"] = fig3
    return out

"""Figures of the :mod:`eplt.studies.robustness` study: N(t*) and lt_error against the clock
and drive correlation, the reset-stop delay and the rate error, and the finite shared
randomness panel."""

from __future__ import annotations

import numpy as np

from . import style
from ._robustness_forms import _key, delay_error, rate_error_lt, segments_error
from .base import StudyResult

__all__ = ["figures", "plot"]


_PANELS = ("correlation", "delay", "rate_error")
_XLABEL = {
    "correlation": r"correlation $c$ of clock or drive",
    "delay": r"delay of B's reset stop $r\delta$",
    "rate_error": r"rate error $\eta$ ($r_B = r(1+\eta)$)",
}


def plot(result: StudyResult, ax=None, *, which: str = "correlation", quantity: str = "negativity"):
    """One panel: ``which`` in {"correlation", "delay", "rate_error"} (x axis),
    ``quantity`` in {"negativity", "lt_error"}; numerics as markers, closed forms as lines."""
    if which not in _PANELS:
        raise ValueError(f"which must be one of {', '.join(_PANELS)}, got {which!r}")
    if quantity not in ("negativity", "lt_error"):
        raise ValueError(f"quantity must be 'negativity' or 'lt_error', got {quantity!r}")
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    ds, s = result.data, result.summary
    x = ds[which].values
    mk = {"ms": 3.5, "ls": "none"}
    g, eps = s["gamma"], result.params["eps"]
    xx = np.linspace(x[0], x[-1], 401)
    if which == "correlation":
        if quantity == "negativity":
            kt = result.params["kappa"] * s["t_twirl"]
            ax.plot(xx, np.maximum(0, g ** (2 - xx) - g / 2), color=style.COLORS[0], lw=1)
            ax.plot(x, ds["negativity_clock"], "o", color=style.COLORS[0], label="clock", **mk)
            sq = np.exp(-4 * kt * (1 - xx))
            ax.plot(xx, g * np.maximum(0, (3 * sq - 1) / 4), color=style.COLORS[1], lw=1, ls="--")
            ax.plot(x, ds["negativity_drive"], "s", color=style.COLORS[1], label="drive", **mk)
            cb = s["critical_correlation"].get(_key(result.params["beta"] * result.params["omega"]))
            if cb:
                style.mark_time(ax, cb, r"$c^*$")
        else:  # constant (the marginal maps do not depend on c): a linear axis in units of eps
            ax.plot(x, ds["lt_error_clock"] / eps, "o", color=style.COLORS[0], label="clock", **mk)
            ax.plot(x, ds["lt_error_drive"] / eps, "s", color=style.COLORS[1], label="drive",
                    ms=2.2, ls="none")  # fmt: skip
            ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
            ax.annotate(
                "the same for every $c$:\nthe marginal maps do not\ndepend on the correlation",
                (0.5, 0.3),
                xycoords="axes fraction",
                ha="center",
                fontsize=7,
                color="0.3",
            )
            ax.set_ylim(0, 1.5)
            ax.set_ylabel(r"worst-case LT error / $\epsilon$")
            ax.set_xlabel(_XLABEL[which])
            return ax
    else:
        key = "delay" if which == "delay" else "rate"
        if quantity == "negativity":
            ax.plot(x, ds[f"negativity_{key}"], "o-", color=style.COLORS[0], lw=1, ms=3.5)
        else:
            f = delay_error if which == "delay" else rate_error_lt
            ax.plot(
                xx, [f(g, eps, v) for v in xx], color=style.COLORS[0], lw=1, label="closed form"
            )
            ax.plot(x, ds[f"lt_error_{key}"], "o", color=style.COLORS[0], label="lt_error", **mk)
    if quantity == "negativity":
        ax.axhline(s["gamma"] / 2, color="0.5", lw=0.8, ls=":")
        ax.set_ylabel(r"negativity $\mathcal{N}(t^*)$, $\Phi^+$ input")
        ax.set_ylim(bottom=0, top=1.15 * s["gamma"] / 2)
    else:
        ax.axhline(result.params["eps"], color="0.5", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_ylabel(r"worst-case LT error")
    ax.set_xlabel(_XLABEL[which])
    return ax


@style.styled
def figures(result: StudyResult) -> dict:
    """``robustness`` (2 x 3 panels) and ``finite_randomness`` (two panels against k)."""
    fig, axes = style.figure(3, 2, width=style.PAGE, height=4.7)
    letters = iter("abcdef")
    what = {"negativity": r"$\mathcal{N}(t^*)$", "lt_error": "LT error"}
    topic = {
        "correlation": "vs correlation",
        "delay": "vs delay of B's stop",
        "rate_error": "vs rate error",
    }
    for j, which in enumerate(_PANELS):
        for i, q in enumerate(("negativity", "lt_error")):
            ax = axes[i, j]
            plot(result, ax, which=which, quantity=q)
            ax.set_title(f"({next(letters)}) {what[q]} {topic[which]}", loc="left")
    axes[0, 0].legend(loc="upper left")
    axes[1, 1].legend(loc="upper center")
    fig.suptitle(_param_text(result), fontsize=8)
    return {"robustness": fig, "finite_randomness": _finite_figure(result)}


def _param_text(result: StudyResult) -> str:
    """The parameters every panel shares (the default beta omega = 2 differs from speedup's)."""
    p = result.params
    return (
        rf"$\beta\omega={p['beta'] * p['omega']:g}$, $\kappa/r={p['kappa'] / p['rate']:g}$, "
        rf"$\epsilon={p['eps']:g}$; input $\Phi^+$ for $\mathcal{{N}}$, all inputs for the LT "
        r"error; dotted: unperturbed ($p_{\min}$, $\epsilon$)"
    )


def _finite_figure(result: StudyResult):
    fig, ax2 = style.figure(2, 1, width=style.PAGE, height=2.5)
    ds, fin = result.data, result.summary["finite_randomness"]
    k = ds["segments"].values
    g, kt = result.summary["gamma"], result.params["kappa"] * result.summary["t_twirl"]
    C = style.COLORS
    ax = ax2[0, 0]
    # k is an integer: the closed form is marked at the computed k only (no curve between)
    ax.plot(k, [segments_error(g, kt, int(x)) for x in k], "_", color="k", ms=12, mew=1.2,
            label=r"closed form $\gamma|f|^k/2$")  # fmt: skip
    ax.plot(k, ds["lt_error_segments"], "o", color=C[0], ms=3.5, label="k Gaussian segments")
    ax.axhline(fin["brownian"]["lt_error"], color=C[1], ls="--", lw=1, label="Brownian drive")
    worst = max(fin["pauli"]["lt_error"], fin["clifford"]["lt_error"])
    ax.set_yscale("log")
    ax.set_ylabel("worst-case LT error")
    ax.set_title(
        f"(a) LT error (Pauli, {fin['pauli']['twirl_bits']:.0f} bits, and Clifford, "
        f"{fin['clifford']['twirl_bits']:.2f} bits: {worst:.0e})",
        loc="left",
    )
    ax.legend(loc="upper right")
    ax = ax2[0, 1]
    for key, m, lab in (
        ("negativity", "o", r"$\Phi^+$"),
        ("negativity_psi_plus", "s", r"$\Psi^+$"),
    ):
        col = C[0] if m == "o" else C[3]
        ax.plot(k, ds[f"{key}_segments"], m, color=col, ms=3.5, label=f"k Gaussian segments, {lab}")
        ax.axhline(fin["brownian"][key], color=col, ls="--", lw=1, label=f"Brownian, {lab}")
    ax.axhline(
        fin["pauli"]["negativity_psi_plus"],
        color=C[2],
        ls=":",
        lw=1.4,
        label=r"Pauli, $\Psi^+$ (Clifford: 0)",
    )
    ax.set_ylim(0, 1.25 * max(v["negativity"] for v in fin.values()))
    ax.set_ylabel(r"negativity $\mathcal{N}(t^*)$")
    ax.set_title(r"(b) entanglement kept, inputs $\Phi^+$ and $\Psi^+$", loc="left")
    fig.suptitle(_param_text(result).split(";")[0] + r"; only the twirl stage changes", fontsize=8)
    ax.legend(loc="center right", fontsize=7)
    for ax in ax2[0]:
        ax.set_xscale("log", base=2)
        ax.set_xticks(k, [str(int(v)) for v in k])
        ax.set_xlabel(r"pulse segments $k$ (same total drive)")
    return fig

r"""Fully entangled fraction after E_gamma: the exact overlap relation against the naive bound.

Two qubits (``H = omega |1><1|``) with identical thermal states ``tau`` at each inverse
temperature in ``betas``; inputs are the isotropic states ``rho_F`` (``F = <Phi+|rho_F|Phi+>``)
and the channel is E_gamma (:func:`eplt.dynamics.channels.eplt_channel`), for which
``omega_A = omega_B = |0><0|`` and ``<Phi+|omega (x) omega|Phi+> = 1/2``. For each beta,
as functions of ``F``:

* the overlap line ``<Phi+|E_gamma(rho_F)|Phi+> = gamma F + (1 - gamma) <Phi+|omega_A (x)
  omega_B|Phi+>``, computed from the output states and fitted by least squares; its
  ``slope`` is ``gamma`` and its ``intercept`` ``(1 - gamma)/2``;
* the exact fully entangled fraction. In the magic basis (Phi+, i Phi-, i Psi+, Psi-)
  ``Re(M^† E_gamma(rho_F) M) = gamma diag(F, q, q, q) + (1 - gamma) diag(1/2, 1/2, 0, 0)``
  with ``q = (1 - F)/3`` (``|00> = (Phi+ + Phi-)/sqrt(2)`` contributes only imaginary
  off-diagonal terms), so
  ``F_max[E_gamma(rho_F)] = gamma max(F, (1 - F)/3) + (1 - gamma)/2``; this closed form
  is checked against :func:`eplt.dynamics.measures.fully_entangled_fraction` (the largest
  eigenvalue of that matrix) at every grid point;
* the numerically maximized FEF: ``max_U <Phi+|(U (x) I)^† rho (U (x) I)|Phi+>`` over
  single-qubit unitaries by monotone polar ascent from the identity and ``restarts``
  seeded random unitaries (an independent check of the exact value; a lower bound).

The often-quoted ``F_max[E_gamma(rho)] >= <Phi+|rho|Phi+>`` is false: for ``F >= 1/4``
the exact FEF is ``gamma F + (1 - gamma)/2``, below ``F`` exactly when ``F > 1/2`` (for any
``gamma < 1``); ``rho = Phi+`` gives ``F_max = (1 + gamma)/2 < 1``. The study finds the
crossing ``F_max[E_gamma(rho_F)] = F`` by root finding (brentq to 1e-12 on the library FEF)
and shades the region where the bound fails. At ``beta = 0`` (``gamma = 1``, E_gamma is the
twirl) the bound holds everywhere and the crossing is reported as None.

Figures: ``fef`` (one panel per beta: overlap line, exact FEF, numerical FEF, the naive
bound ``F``, the line ``F_max = 1/2`` (above it a state is entangled), the cap
``(sum_i sqrt(p_i))^2 / d`` on the FEF of *any* state with marginals ``tau`` (data
``fef_cap_marginals``; ``F_max <= F(tau, I/d)^2`` by monotonicity of the fidelity under the
partial trace), failure region lightly shaded) and ``fef_gap`` (``F_max[E_gamma(rho_F)] - F`` for all
betas on one axes).

Summary keys: see :data:`SUMMARY_KEYS`; per-beta values are dicts keyed by beta as text
(``"0.5"``). At zero temperature (``beta = inf``) :class:`eplt.dynamics.channels.NoEPLTError`
is raised.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import qutip
import xarray as xr
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.measures import fef_ascent, fully_entangled_fraction, phi_plus_overlap
from eplt.dynamics.states import isotropic_state
from scipy.optimize import brentq

from . import style
from ._resources import check_memory, check_work
from .base import StudyResult
from .params import (
    OMEGA,
    ZERO_TEMPERATURE_NOTE,
    Param,
    check_seed,
    check_temperature,
    resolve,
    value_keys,
)

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SUMMARY_KEYS",
    "fef_by_ascent",
    "fef_closed_form",
    "figures",
    "plot",
    "run",
]

NAME = "fef"
DESCRIPTION = (
    "Fully entangled fraction after E_gamma: exact overlap line, exact FEF, where F_max >= F fails"
)

PARAMS = (
    OMEGA,
    Param(
        "betas",
        (0.5, 1.0, 2.0),
        "floats",
        "inverse temperatures (one panel each)",
        "1/omega",
        low=0,
        high=math.inf,
        high_open=True,
        note=ZERO_TEMPERATURE_NOTE,
    ),
    Param("n_F", 101, "int", "F points in [0, 1]", "", low=3, high=20001),
    Param(
        "restarts",
        3,
        "int",
        "random restarts of the numerical FEF maximization",
        "",
        low=0,
        high=1000,
    ),
)

SUMMARY_KEYS = {
    "beta": "list of the betas (1/omega)",
    "gamma": "dict beta -> gamma = 2 p_min",
    "slope": "dict beta -> slope of <Phi+|E_gamma(rho_F)|Phi+> in F (least squares); equals gamma",
    "intercept": (
        "dict beta -> intercept of that line; equals "
        "(1 - gamma) <Phi+|omega (x) omega|Phi+> = (1 - gamma)/2"
    ),
    "naive_bound_violated_above_F": (
        "dict beta -> F above which F_max[E_gamma(rho_F)] < F "
        "(brentq, 1e-12); "
        "1/2 for gamma < 1, None when the bound never fails"
    ),
    "fef_closed_form_max_error": (
        "max |gamma max(F, (1-F)/3) + (1-gamma)/2 - fully_entangled_fraction| over grid and betas"
    ),
    "fef_ascent_max_error": "max |numerically maximized FEF - exact FEF| over grid and betas",
}

ROOT_XTOL = 1e-12


def fef_closed_form(F, gamma: float):
    """Exact ``F_max[E_gamma(rho_F)] = gamma max(F, (1 - F)/3) + (1 - gamma)/2`` (equal qubit taus).

    Examples
    --------
    >>> float(fef_closed_form(1.0, 0.4))   # (1 + gamma)/2
    0.7
    """
    F = np.asarray(F, dtype=float)
    return gamma * np.maximum(F, (1 - F) / 3) + (1 - gamma) / 2


def fef_by_ascent(rho, *, restarts: int = 3, rng=None, tol: float = 1e-14) -> float:
    r"""``max_U <Phi+|(U^† (x) I) rho (U (x) I)|Phi+>`` by polar ascent over unitaries U
    (:func:`eplt.dynamics.measures.fef_ascent`: from the identity and ``restarts``
    Haar-random unitaries; the best value, a lower bound on the FEF), for comparison with
    the exact two-qubit formula."""
    a = rho.full()
    return fef_ascent(a, math.isqrt(a.shape[0]), restarts=restarts, rng=rng, tol=tol)[0]


def _channel(beta: float, omega: float):
    tau = thermal_state(qubit_hamiltonian(omega), beta)
    return eplt_channel(tau, tau)  # raises NoEPLTError at zero temperature


def _marginal_cap(tau: qutip.Qobj) -> float:
    """``(sum_i sqrt(p_i))^2 / d``: no state with marginal ``tau`` (eigenvalues ``p_i``) has
    a larger fully entangled fraction (the overlap with a maximally entangled state is at
    most the squared fidelity of the marginals, ``F(tau, I/d)^2``)."""
    p = np.clip(np.linalg.eigvalsh(tau.full()), 0.0, None)
    return float(np.sqrt(p).sum() ** 2 / p.size)


def _crossing(E) -> float | None:
    """F above which F_max[E(rho_F)] < F (brentq on the exact library FEF)."""

    def g(F):
        return fully_entangled_fraction(E(isotropic_state(F))) - F

    if g(1.0) >= -1e-14:  # gamma = 1: the bound holds everywhere
        return None
    return float(brentq(g, 0.0, 1.0, xtol=ROOT_XTOL))


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured: ~8 MB at the defaults, a few arrays over (beta, F); rounded up)."""
    return 2e7 + 1e3 * p["n_F"] * len(p["betas"]), ("n_F", "betas")


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: per (beta, F) point
    ~1 ms plus ~0.75 ms per ascent restart.

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, minimum of two runs in
    fresh processes): 0.95 s at the defaults, 40 s at n_F = 4001, 5.9 s at restarts = 30,
    0.28 s at restarts = 0, 1.7 s for six betas. Rounded up."""
    points = len(p["betas"]) * p["n_F"]
    seconds = 0.1 + 0.02 * len(p["betas"]) + points * (1e-3 + 7.5e-4 * p["restarts"])
    return seconds, ("n_F", "betas", "restarts")


def figure_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds to draw and save the figures (PNG and PDF): ~2 s plus ~0.4 s per
    beta (one panel each). Measured 2026-12-06 (load ~12, n_F = 3): 2.2 s with one beta,
    5.7 s with ten (200 betas took 59 s under a 5 s limit before the figures were
    counted). Rounded up."""
    return 2.5 + 0.45 * len(p["betas"]), ("betas",)


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Overlap line, exact and numerical FEF, and the naive-bound crossing per beta."""
    from tqdm.auto import tqdm

    p = resolve(PARAMS, params, study=NAME)
    seed = check_seed(seed)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    for b in p["betas"]:
        check_temperature(b, p["omega"], name="betas", high_temperature=False)
    keys = value_keys(p["betas"], "betas")  # unique, round-trip to the values
    betas = np.array(p["betas"], dtype=float)
    channels = [_channel(b, p["omega"]) for b in betas]  # fail early at zero temperature
    Fs = np.linspace(0.0, 1.0, p["n_F"])
    ss = np.random.SeedSequence(seed).spawn(len(betas))
    shape = (len(betas), Fs.size)
    overlap, fef_lib, fef_cf, fef_num = (np.empty(shape) for _ in range(4))
    phi_omega = np.empty(len(betas))
    summary = {
        "beta": [float(b) for b in betas],
        "gamma": {},
        "slope": {},
        "intercept": {},
        "naive_bound_violated_above_F": {},
    }
    for i, E in enumerate(tqdm(channels, desc="betas", disable=not progress)):
        rng = np.random.default_rng(ss[i])
        for j, F in enumerate(Fs):
            out = E(isotropic_state(F))
            overlap[i, j] = phi_plus_overlap(out)
            fef_lib[i, j] = fully_entangled_fraction(out)
            fef_num[i, j] = fef_by_ascent(out, restarts=p["restarts"], rng=rng)
        fef_cf[i] = fef_closed_form(Fs, E.gamma)
        phi_omega[i] = phi_plus_overlap(qutip.tensor(*E.omega))
        slope, intercept = np.polyfit(Fs, overlap[i], 1)
        key = keys[i]
        summary["gamma"][key] = float(E.gamma)
        summary["slope"][key] = float(slope)
        summary["intercept"][key] = float(intercept)
        summary["naive_bound_violated_above_F"][key] = _crossing(E)
    summary["fef_closed_form_max_error"] = float(np.abs(fef_cf - fef_lib).max())
    summary["fef_ascent_max_error"] = float(np.abs(fef_num - fef_lib).max())
    cross = [summary["naive_bound_violated_above_F"][k] for k in keys]
    # Largest FEF of any state with marginals tau (figure): (sum_i sqrt(p_i))^2 / d, from
    # the fidelity of the marginals, F_max <= F(tau, I/d)^2.
    caps = np.array([_marginal_cap(E.tau_A) for E in channels])
    one = {"units": "1"}
    data = xr.Dataset(
        {
            "overlap": (
                ("beta", "F"),
                overlap,
                {"units": "1", "long_name": "<Phi+|E_gamma(rho_F)|Phi+>"},
            ),
            "fef": (
                ("beta", "F"),
                fef_lib,
                {"units": "1", "long_name": "F_max[E_gamma(rho_F)] (exact, magic basis)"},
            ),
            "fef_closed_form": (
                ("beta", "F"),
                fef_cf,
                {"units": "1", "long_name": "gamma max(F, (1-F)/3) + (1-gamma)/2"},
            ),
            "fef_ascent": (
                ("beta", "F"),
                fef_num,
                {"units": "1", "long_name": "F_max by polar ascent over U"},
            ),
            "gamma": (("beta",), np.array([E.gamma for E in channels]), one),
            "phi_plus_omega_overlap": (
                ("beta",),
                phi_omega,
                {"units": "1", "long_name": "<Phi+|omega_A (x) omega_B|Phi+>"},
            ),
            "naive_bound_violated_above_F": (
                ("beta",),
                np.array([np.nan if c is None else c for c in cross]),
                one,
            ),
            "fef_cap_marginals": (
                ("beta",),
                caps,
                {
                    "units": "1",
                    "long_name": "largest FEF of any state with marginals tau: "
                    "(sum_i sqrt(p_i))^2 / d",
                },
            ),
        },
        coords={
            "beta": ("beta", betas, {"units": "1/omega"}),
            "F": ("F", Fs, {"units": "1", "long_name": "<Phi+|rho_F|Phi+>"}),
        },
        attrs={"study": NAME, "omega": p["omega"]},
    )
    return StudyResult(NAME, p, seed, data, summary)


# --------------------------------------------------------------------------- plots


#: Opacity of the shaded region where the naive bound fails.
SHADE_ALPHA = 0.1


def _shade_failure(ax, crossing: float):
    """Shade ``F > crossing``, where ``F_max[E_gamma(rho_F)] < F`` (the root found by brentq;
    for equal qubit thermal states the bound fails exactly above it)."""
    if math.isfinite(crossing):
        ax.axvspan(
            crossing,
            1.0,
            color=style.COLORS[3],
            alpha=SHADE_ALPHA,
            lw=0,
            label=r"$F_{\max}[\mathcal{E}_\gamma(\rho_F)] < F$",
        )


def plot(
    result: StudyResult,
    ax=None,
    *,
    which: str = "fef",
    beta_index: int = 0,
    decorate: bool | None = None,
    legend: bool = True,
):
    """One panel: ``which="fef"`` (curves for ``betas[beta_index]``, with the line
    ``F_max = 1/2`` and the cap ``(sum_i sqrt(p_i))^2 / d`` of every state with marginals
    ``tau``) or ``"gap"`` (``F_max - F`` for every beta). Composes on a shared axis
    (``decorate``, see :class:`eplt.studies.style.Decorator`); ``legend`` draws one legend of
    everything on the axis, or none."""
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    if which not in ("fef", "gap"):
        raise ValueError(f"which must be 'fef' or 'gap', got {which!r}")
    deco = style.Decorator(ax, decorate)
    ds = result.data
    F = ds["F"].values
    omega = result.params["omega"]
    F_label = r"input overlap $F = \langle\Phi^+|\rho_F|\Phi^+\rangle$"
    with style.style():
        if which == "fef":
            sel = ds.isel(beta=beta_index)
            c = float(sel["naive_bound_violated_above_F"])
            _shade_failure(ax, c)
            ax.plot(F, F, color="0.5", ls=":", lw=1.0, label=r"naive bound $F$")
            ax.axhline(
                0.5,
                color="0.3",
                lw=0.7,
                ls=(0, (4, 2)),
                label=r"$F_{\max} = 1/2$ (above: entangled)",
            )
            cap = float(sel["fef_cap_marginals"])
            ax.axhline(
                cap,
                color=style.COLORS[4],
                lw=1.0,
                ls="-.",
                label=r"cap for any state with marginals $\tau$: $(\sqrt{p_0}+\sqrt{p_1})^2/2$",
            )
            ax.plot(
                F,
                sel["overlap"].values,
                color=style.COLORS[1],
                ls="--",
                zorder=3,
                label=r"overlap $\langle\Phi^+|\mathcal{E}_\gamma(\rho_F)|\Phi^+\rangle"
                r" = \gamma F + \frac{1-\gamma}{2}$",
            )
            ax.plot(
                F,
                sel["fef_closed_form"].values,
                color=style.COLORS[0],
                label=r"exact $F_{\max} = \gamma\max(F,\frac{1-F}{3}) + \frac{1-\gamma}{2}$",
            )
            step = max(1, F.size // 15)
            ax.plot(
                F[::step],
                sel["fef_ascent"].values[::step],
                "o",
                color=style.COLORS[2],
                ms=3,
                mfc="none",
                label=r"$F_{\max}$ maximized numerically over $U$",
            )
            if math.isfinite(c):
                ax.axvline(c, color="0.35", ls=":", lw=0.9)
                ax.annotate(
                    rf"$F = {c:.3g}$",
                    (c, 0.02),
                    xycoords=("data", "axes fraction"),
                    xytext=(-2, 0),
                    textcoords="offset points",
                    ha="right",
                    va="bottom",
                    fontsize=7,
                    color="0.35",
                )
            b = float(sel["beta"]) * omega
            deco.set(
                title=rf"$\beta\omega = {b:g}$, $\gamma = {float(sel['gamma']):.3f}$",
                xlabel=F_label,
                ylabel="overlap / fully entangled fraction",
                xlim=(0, 1),
                ylim=(0, 1.02),
            )
            style.legend(
                ax, legend, loc="upper left", framealpha=0.85, frameon=True, edgecolor="none"
            )
        else:
            for i in range(ds.sizes["beta"]):
                sel = ds.isel(beta=i)
                ax.plot(
                    F,
                    sel["fef"].values - F,
                    color=style.COLORS[i % len(style.COLORS)],
                    ls=style.LINESTYLES[i % len(style.LINESTYLES)],
                    label=rf"$\beta\omega = {float(sel['beta']) * omega:g}$"
                    rf" ($\gamma = {float(sel['gamma']):.3f}$)",
                )
            ax.axhline(0, color="0.3", lw=0.6)
            lo, hi = ax.get_ylim()
            ax.axhspan(
                lo, 0, color=style.COLORS[3], alpha=SHADE_ALPHA, lw=0, label="naive bound fails"
            )
            ax.set_ylim(lo, hi)
            deco.set(
                xlabel=F_label,
                ylabel=r"$F_{\max}[\mathcal{E}_\gamma(\rho_F)] - F$",
                xlim=(0, 1),
            )
            style.legend(ax, legend, loc="upper right")
    return ax


def figures(result: StudyResult) -> dict:
    """``fef`` (one panel per beta, up to three per row, full page width) and ``fef_gap``."""
    n = result.data.sizes["beta"]
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    fig, axes = style.figure(
        ncols,
        nrows,
        width=style.PAGE if n > 1 else style.COLUMN,
        height=2.6 * nrows + (1.3 if ncols == 1 else 0.4),
        sharey=True,
    )
    flat = axes.ravel()
    for i in range(n):
        plot(result, flat[i], which="fef", beta_index=i, legend=False)
        if i % ncols:
            flat[i].set_ylabel("")
    entries = {}
    for ax in flat[:n]:  # union over panels: a panel without failure has no shaded patch
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(lab, h)
    handles, labels = list(entries.values()), list(entries)
    with style.style():
        fig.legend(handles, labels, loc="outside upper center", ncol=3 if n > 1 else 1)
    for ax in flat[n:]:
        ax.set_visible(False)
    fig_g, axg = style.figure()
    plot(result, axg[0, 0], which="gap")
    return {"fef": fig, "fef_gap": fig_g}

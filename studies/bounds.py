r"""How much entanglement can any local thermalization keep? E_gamma against bounds.

For the input ``Phi+`` and two figures of merit, the overlap ``<Phi+|E(Phi+)|Phi+>`` and
the negativity ``N(E(Phi+))`` (partial transpose on B), four levels are compared:

* ``egamma``: the protocol E_gamma (:func:`eplt.dynamics.channels.eplt_channel`);
* ``losr``: a see-saw over k-branch LOSR protocols (:func:`eplt.dynamics.losr.losr_seesaw`),
  a **lower bound** on the best shared-randomness protocol, never below E_gamma;
* ``ppt``: the SDP over LT channels with a PPT Choi matrix across
  ``(A_in A_out)|(B_in B_out)`` (:func:`eplt.dynamics.bounds.sdp_bound`), an **upper bound** on
  every LOSR protocol for the overlap (certified by its dual). For the negativity (not
  linear in E) the alternating search :func:`eplt.dynamics.losr.negativity_search` gives a
  **lower bound** on the PPT maximum;
* ``any_lt``: all LT channels (no PPT constraint). Overlap: the SDP's exact maximum
  (``relaxation="none"``), next to the closed form ``min_X (Tr sqrt tau_X)^2/d`` (equal to
  it for equal spectra, thermofield double). Negativity: the closed-form upper bound
  ``min_X ((Tr sqrt tau_X)^2 - 1)/2`` (:func:`eplt.dynamics.bounds.any_lt_negativity_bound`,
  ``sqrt(p0 p1)`` for equal qubits), reached by the thermofield double for equal spectra.

Three cases: two qubits with equal ``tau`` (``H = omega |1><1|``) at each ``beta omega`` in
``betas``; two qubits with ``omega_A = omega``, ``omega_B = ratio omega`` at ``beta_unequal``
for each ``ratio`` in ``ratios``; two qutrits with ``H = omega diag(0, 1, 2.5)`` at each
``beta`` in ``qutrit_betas``. Known values (tests): equal qubits at ``beta omega = 1``, PPT
bound ``0.768941 = (1 + gamma)/2`` (E_gamma attains it) and any-LT ``0.943409 =
(sqrt p0 + sqrt p1)^2/2``; unequal (ratio 0.5, ``beta = 1``) PPT ``0.806633`` while E_gamma
gives ``0.714642``.

Figure ``bounds``: overlap (top) and negativity (bottom) for the three cases (columns);
where curves coincide to 1e-6 over a whole panel the panel says so.

Summary keys (:data:`SUMMARY_KEYS`): ``egamma_overlap``, ``losr_overlap``,
``ppt_overlap``, ``any_lt_overlap``, ``egamma_negativity``, ``losr_negativity``,
``ppt_negativity_lower``, ``any_lt_negativity`` — each a dict keyed by ``beta omega``
(text that reads back as the value, e.g. ``"0.5"``) — plus ``unequal`` (the same keys, dicts keyed by
``omega_B/omega_A``) and ``qutrit`` (the same keys, keyed by ``beta omega``), and
``sdp_seconds`` (largest wall time of one PPT overlap SDP per case).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import qutip
import xarray as xr
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.bounds import any_lt_negativity_bound, any_lt_overlap_bound, sdp_bound
from eplt.dynamics.channels import eplt_channel
from eplt.dynamics.losr import losr_seesaw, negativity_search
from eplt.dynamics.measures import negativity, phi_plus_overlap
from eplt.dynamics.states import phi_plus

from . import style
from ._resources import check_memory, check_work
from .base import StudyResult
from .params import OMEGA, Param, ParamError, resolve, value_keys

#: Smallest nonzero beta omega the study accepts (see run).
MIN_BETA_OMEGA = 1e-3

__all__ = ["DESCRIPTION", "NAME", "PARAMS", "SUMMARY_KEYS", "figures", "plot", "run"]

NAME = "bounds"
DESCRIPTION = (
    "Entanglement kept by local thermalization: E_gamma, LOSR see-saw, PPT and any-LT bounds"
)

#: Qutrit level energies in units of omega.
QUTRIT_LEVELS = (0.0, 1.0, 2.5)
#: Curves closer than this over a whole panel are reported as touching.
TOUCH_TOL = 1e-6
#: At most this many temperatures / ratios per case (work grows linearly).
MAX_POINTS = 40

PARAMS = (
    OMEGA,
    Param(
        "betas",
        (0.25, 0.5, 1.0, 2.0, 4.0),
        "floats",
        "inverse temperatures, equal qubits",
        "1/omega",
        low=0,
        high=1000,
    ),
    Param(
        "ratios",
        (0.25, 0.5, 0.75, 1.0),
        "floats",
        "omega_B / omega_A, unequal qubits",
        "",
        low=0,
        low_open=True,
        high=100,
    ),
    Param(
        "beta_unequal",
        1.0,
        "float",
        "inverse temperature of the unequal case",
        "1/omega",
        low=0,
        high=1000,
    ),
    Param(
        "qutrit_betas",
        (0.5, 1.0, 2.0),
        "floats",
        "inverse temperatures, qutrits H = omega diag(0, 1, 2.5)",
        "1/omega",
        low=0,
        high=1000,
    ),
    Param("restarts", 2, "int", "see-saw starts (qubits; first is E_gamma)", "", low=1, high=50),
    Param("max_iter", 30, "int", "see-saw / search iterations per start", "", low=1, high=500),
    Param(
        "negativity_restarts",
        2,
        "int",
        "starts of the PPT negativity search (first is E_gamma, then random)",
        "",
        low=1,
        high=50,
    ),
    Param("qutrit_restarts", 1, "int", "see-saw starts for qutrits", "", low=1, high=20),
    Param("qutrit_max_iter", 8, "int", "iterations of every qutrit search", "", low=1, high=200),
)

_KEYS = {
    "egamma_overlap": "<Phi+|E_gamma(Phi+)|Phi+>",
    "losr_overlap": "LOSR see-saw overlap (lower bound on the LOSR maximum)",
    "ppt_overlap": "max overlap over PPT LT channels (SDP, certified upper bound on LOSR)",
    "any_lt_overlap": "max overlap over all LT channels (SDP, relaxation none)",
    "egamma_negativity": "N(E_gamma(Phi+))",
    "losr_negativity": "LOSR see-saw negativity (lower bound on the LOSR maximum)",
    "ppt_negativity_lower": "alternating search over PPT LT channels (lower bound on the PPT max)",
    "any_lt_negativity": "min_X ((Tr sqrt tau_X)^2 - 1)/2, upper bound over all LT channels",
}
SUMMARY_KEYS = {
    **{k: f"dict beta omega -> {v}" for k, v in _KEYS.items()},
    "unequal": "dict key -> (dict omega_B/omega_A -> value), same keys, two qubits at beta_unequal",
    "qutrit": "dict key -> (dict beta omega -> value), same keys, qutrits H = omega diag(0,1,2.5)",
    "sdp_seconds": "dict case -> largest wall time of one PPT overlap SDP (s)",
}
METHODS = ("egamma", "losr", "ppt", "any_lt")


def _point(tA, tB, *, restarts, neg_restarts, max_iter, seed) -> dict:
    """Every number of one temperature / ratio (see the module docstring)."""
    E = eplt_channel(tA, tB)  # NoEPLTError at zero temperature, before any SDP
    out_e = E(phi_plus(tA.shape[0]))
    t0 = time.perf_counter()
    ppt = sdp_bound(tA, tB, relaxation="ppt")
    t_sdp = time.perf_counter() - t0
    anylt = sdp_bound(tA, tB, relaxation="none")
    ss = seed.spawn(3)
    lo = losr_seesaw(tA, tB, restarts=restarts, max_iter=max_iter, seed=ss[0])
    lo_n = losr_seesaw(tA, tB, merit="negativity", restarts=restarts, max_iter=max_iter, seed=ss[1])
    neg = negativity_search(tA, tB, restarts=neg_restarts, max_iter=max_iter, seed=ss[2])
    return {
        "overlap": {
            "egamma": phi_plus_overlap(out_e),
            "losr": lo.value,
            "ppt": ppt.value,
            "any_lt": anylt.value,
        },
        "negativity": {
            "egamma": negativity(out_e),
            "losr": lo_n.value,
            "ppt": neg.value,
            "any_lt": any_lt_negativity_bound(tA, tB),
        },
        "ppt_dual": ppt.dual_value,
        "any_lt_closed_form": any_lt_overlap_bound(tA, tB) if tA.shape == tB.shape else np.nan,
        "sdp_seconds": t_sdp,
    }


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it:
    one SDP at a time (the largest, the qutrit PPT problem over a 81 x 81 Choi matrix),
    its results kept per point. Measured with ``tracemalloc`` 2026-12-06: 12.5 MB of
    Python objects for one point per case; the solver's own (native) buffers are not
    traced and are counted as 100 MB, rounded up."""
    points = len(p["betas"]) + len(p["ratios"]) + len(p["qutrit_betas"])
    return 1.5e8 + 1e6 * points, ("betas", "ratios", "qutrit_betas")


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: per qubit point ~0.7 s
    (the SDPs), ~0.2 s per extra see-saw start and ~(0.2 + 0.02 max_iter) s per extra
    negativity start; per qutrit point ~4 s, ~2 s per extra see-saw start (+0.075 s per
    iteration) and ~(0.3 + 0.93 qutrit_max_iter) s per extra negativity start (an SDP per
    iteration). The first start (E_gamma) converges at once; the others are counted at
    their iteration limit, which bounds them from above.

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, one run in a fresh
    process each): 56 s at the defaults, 42 s for 2 qubit + 3 qutrit points, 7.3 s for
    1 + 1 + 1 points with single starts, 13.1 s with 6 negativity starts, 15.0 s with 4
    qutrit starts, 10.7 s with 2 qutrit starts of 32 iterations. Rounded up."""
    nq = len(p["betas"]) + len(p["ratios"])
    extra_neg = p["negativity_restarts"] - 1
    qubit = 0.7 + 0.2 * (p["restarts"] - 1) + extra_neg * (0.2 + 0.02 * p["max_iter"])
    qit, extra_q = p["qutrit_max_iter"], p["qutrit_restarts"] - 1
    qutrit = 4.0 + extra_q * (2.0 + 0.075 * qit) + extra_neg * (0.3 + 0.93 * qit)
    seconds = 1.0 + nq * qubit + len(p["qutrit_betas"]) * qutrit
    names = ("betas", "ratios", "qutrit_betas", "restarts", "negativity_restarts", "max_iter")
    return seconds, (*names, "qutrit_restarts", "qutrit_max_iter")


def _case(points, key_values) -> tuple[dict, dict]:
    """Summary dicts (key -> {x: value}, ``x`` the keys from :func:`value_keys`) and
    arrays (merit -> (method, x))."""
    summ = {k: {} for k in _KEYS}
    arr = {m: np.empty((len(METHODS), len(points))) for m in ("overlap", "negativity")}
    for j, (pt, xs) in enumerate(zip(points, key_values)):
        for merit in ("overlap", "negativity"):
            for i, meth in enumerate(METHODS):
                arr[merit][i, j] = pt[merit][meth]
        summ["egamma_overlap"][xs] = pt["overlap"]["egamma"]
        summ["losr_overlap"][xs] = pt["overlap"]["losr"]
        summ["ppt_overlap"][xs] = pt["overlap"]["ppt"]
        summ["any_lt_overlap"][xs] = pt["overlap"]["any_lt"]
        summ["egamma_negativity"][xs] = pt["negativity"]["egamma"]
        summ["losr_negativity"][xs] = pt["negativity"]["losr"]
        summ["ppt_negativity_lower"][xs] = pt["negativity"]["ppt"]
        summ["any_lt_negativity"][xs] = pt["negativity"]["any_lt"]
    return summ, arr


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """All bounds for the three cases (equal qubits, unequal qubits, qutrits)."""
    from tqdm.auto import tqdm

    p = resolve(PARAMS, params, study=NAME)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    om = p["omega"]
    for name in ("betas", "ratios", "qutrit_betas"):
        if len(p[name]) > MAX_POINTS:
            raise ParamError(f"{name} may list at most {MAX_POINTS} values, got {len(p[name])}")
    betas = np.array(p["betas"], dtype=float)
    ratios = np.array(p["ratios"], dtype=float)
    qbetas = np.array(p["qutrit_betas"], dtype=float)
    H = qubit_hamiltonian(om)
    H3 = qutip.Qobj(np.diag(QUTRIT_LEVELS) * om)
    # Near (not at) infinite temperature gamma -> 1 and the see-saw SDPs degenerate
    # (Clarabel stops at its iteration limit at beta omega = 1e-6): refused, beta = 0 runs.
    for name, vals, scale in (
        ("betas", betas, om),
        ("qutrit_betas", qbetas, om),
        ("beta_unequal", np.array([p["beta_unequal"]]), om * min(1.0, float(ratios.min()))),
    ):
        bad = [float(b) for b in vals if 0 < b * scale < MIN_BETA_OMEGA]
        if bad:
            raise ParamError(
                f"{name}: beta omega must be 0 or >= {MIN_BETA_OMEGA:g} (the see-saw SDPs "
                f"degenerate as gamma -> 1), got beta = {bad[0]:g} at omega = {om:g}"
            )
    # fail early (NoEPLTError, one line) before any SDP
    for b in betas:
        eplt_channel(thermal_state(H, b), thermal_state(H, b))
    for r in ratios:
        eplt_channel(
            thermal_state(H, p["beta_unequal"]),
            thermal_state(qubit_hamiltonian(r * om), p["beta_unequal"]),
        )
    for b in qbetas:
        eplt_channel(thermal_state(H3, b), thermal_state(H3, b))

    root = np.random.SeedSequence(seed)
    s_eq, s_un, s_q = root.spawn(3)
    kw = {
        "restarts": p["restarts"],
        "neg_restarts": p["negativity_restarts"],
        "max_iter": p["max_iter"],
    }
    kw3 = {
        "restarts": p["qutrit_restarts"],
        "neg_restarts": p["negativity_restarts"],
        "max_iter": p["qutrit_max_iter"],
    }
    bar = tqdm(total=len(betas) + len(ratios) + len(qbetas), desc="points", disable=not progress)
    eq, un, qt = [], [], []
    for b, ss in zip(betas, s_eq.spawn(len(betas))):
        tau = thermal_state(H, b)
        eq.append(_point(tau, tau, seed=ss, **kw))
        bar.update()
    bu = p["beta_unequal"]
    for r, ss in zip(ratios, s_un.spawn(len(ratios))):
        un.append(
            _point(
                thermal_state(H, bu), thermal_state(qubit_hamiltonian(r * om), bu), seed=ss, **kw
            )
        )
        bar.update()
    for b, ss in zip(qbetas, s_q.spawn(len(qbetas))):
        tau = thermal_state(H3, b)
        qt.append(_point(tau, tau, seed=ss, **kw3))
        bar.update()
    bar.close()

    summary, arrays = {}, {}
    for label, pts, xs, name in (
        ("equal", eq, betas * om, "betas"),
        ("unequal", un, ratios, "ratios"),
        ("qutrit", qt, qbetas * om, "qutrit_betas"),
    ):
        s, a = _case(pts, value_keys(xs, name))
        arrays[label] = a
        if label == "equal":
            summary.update(s)
        else:
            summary[label] = s
    summary["sdp_seconds"] = {
        label: max((pt["sdp_seconds"] for pt in pts), default=None)
        for label, pts in (("equal", eq), ("unequal", un), ("qutrit", qt))
    }
    dims = {"equal": "beta_omega", "unequal": "ratio", "qutrit": "beta_omega_qutrit"}
    data = {}
    for label, pts in (("equal", eq), ("unequal", un), ("qutrit", qt)):
        x = dims[label]
        for merit in ("overlap", "negativity"):
            data[f"{merit}_{label}"] = (
                ("method", x),
                arrays[label][merit],
                {"units": "1", "long_name": f"{merit} of E(Phi+), {label}"},
            )
        data[f"ppt_dual_{label}"] = (
            (x,),
            np.array([pt["ppt_dual"] for pt in pts]),
            {"units": "1", "long_name": "certified upper bound (dual) of the PPT overlap SDP"},
        )
        data[f"any_lt_closed_form_{label}"] = (
            (x,),
            np.array([pt["any_lt_closed_form"] for pt in pts]),
            {"units": "1", "long_name": "min_X (Tr sqrt tau_X)^2 / d"},
        )
        data[f"sdp_seconds_{label}"] = (
            (x,),
            np.array([pt["sdp_seconds"] for pt in pts]),
            {"units": "s", "long_name": "wall time of the PPT overlap SDP"},
        )
    ds = xr.Dataset(
        data,
        coords={
            "method": ("method", list(METHODS)),
            "beta_omega": ("beta_omega", betas * om, {"units": "1", "long_name": "beta omega"}),
            "ratio": ("ratio", ratios, {"units": "1", "long_name": "omega_B / omega_A"}),
            "beta_omega_qutrit": (
                "beta_omega_qutrit",
                qbetas * om,
                {"units": "1", "long_name": "beta omega (qutrits)"},
            ),
        },
        attrs={"study": NAME, "omega": om, "beta_unequal": p["beta_unequal"]},
    )
    return StudyResult(NAME, p, seed, ds, summary)


# --------------------------------------------------------------------------- plots

_STYLE = {
    "any_lt": dict(
        color=style.COLORS[3],
        ls="-",
        lw=2.8,
        alpha=0.45,
        marker="s",
        ms=5,
        label="any LT (overlap: SDP; negativity: closed-form upper bound)",
    ),
    "ppt": dict(
        color=style.COLORS[0],
        ls="-",
        lw=1.3,
        marker="^",
        ms=4,
        label="PPT relaxation (overlap: certified upper bound; negativity: search, lower bound)",
    ),
    "egamma": dict(
        color=style.COLORS[1], ls="--", lw=1.2, marker="x", ms=5, label=r"$\mathcal{E}_\gamma$"
    ),
    "losr": dict(
        color=style.COLORS[2],
        ls="none",
        marker="o",
        ms=6,
        mfc="none",
        mew=1.1,
        label="LOSR see-saw (lower bound)",
    ),
}
_NAMES = {"any_lt": "any LT", "ppt": "PPT", "losr": "see-saw", "egamma": r"$\mathcal{E}_\gamma$"}
_XLABEL = {
    "equal": r"$\beta\omega$ (equal qubits)",
    "unequal": r"$\omega_B/\omega_A$ (qubits, $\beta\omega_A = %g$)",
    "qutrit": r"$\beta\omega$ (qutrits, $H = \omega\,\mathrm{diag}(0, 1, 2.5)$)",
}


def _touching(values: np.ndarray) -> list[list[str]]:
    """Groups (size >= 2) of methods whose curves agree to TOUCH_TOL over the whole panel."""
    groups, used = [], set()
    for i, mi in enumerate(METHODS):
        if mi in used:
            continue
        grp = [mi] + [
            mj
            for j, mj in enumerate(METHODS)
            if j > i and mj not in used and np.nanmax(np.abs(values[i] - values[j])) < TOUCH_TOL
        ]
        if len(grp) > 1:
            used.update(grp)
            groups.append(grp)
    return groups


def plot(result: StudyResult, ax=None, *, case: str = "equal", merit: str = "overlap"):
    """One panel: ``merit`` ("overlap" or "negativity") against the case's x axis
    ("equal", "unequal" or "qutrit")."""
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
        for meth in ("any_lt", "ppt", "egamma", "losr"):
            kw = dict(_STYLE[meth])
            ax.plot(x, vals[METHODS.index(meth)], **kw)
        if merit == "overlap":
            ax.plot(
                x,
                ds[f"any_lt_closed_form_{case}"].values,
                color=style.COLORS[3],
                ls=":",
                lw=1.0,
                label=r"$\min_X(\mathrm{Tr}\sqrt{\tau_X})^2/d$ (closed form)",
            )
        if x.size:
            groups = _touching(vals)
            text = "; ".join(" = ".join(_NAMES[m] for m in g) for g in groups)
            if text:
                ax.text(
                    0.97,
                    0.97,
                    "coincide: " + text,
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                    fontsize=7,
                    color="0.25",
                )
        xl = _XLABEL[case]
        if case == "unequal":
            xl = xl % (result.params["beta_unequal"] * result.params["omega"])
        ax.set_xlabel(xl)
        if case != "unequal" and x.size and x.min() > 0:
            from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

            ax.set_xscale("log")  # ticks at the computed temperatures, no crowded minors
            ax.xaxis.set_major_locator(FixedLocator(x))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel(
            r"$\langle\Phi^+|\mathcal{E}(\Phi^+)|\Phi^+\rangle$"
            if merit == "overlap"
            else r"negativity $N(\mathcal{E}(\Phi^+))$"
        )
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.18 * (hi - lo))  # room for the "coincide" note
    return ax


@style.styled
def figures(result: StudyResult) -> dict:
    """``bounds``: overlap (top row) and negativity (bottom row) for the three cases."""
    cases = [c for c in ("equal", "unequal", "qutrit") if result.data[f"overlap_{c}"].shape[1]]
    fig, axes = style.figure(len(cases), 2, width=style.PAGE, height=5.0)
    for j, c in enumerate(cases):
        for i, merit in enumerate(("overlap", "negativity")):
            plot(result, axes[i, j], case=c, merit=merit)
            if j:
                axes[i, j].set_ylabel("")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=2, fontsize=7)
    return {"bounds": fig}

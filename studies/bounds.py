r"""How much entanglement can a local thermalization keep? Explicit LOSR protocols (lower
bounds) against certified relaxations (upper bounds).

For the input ``Phi+`` and two figures of merit, the overlap ``<Phi+|E(Phi+)|Phi+>`` and the
negativity ``N(E(Phi+))`` (partial transpose on B), each curve is one of:

**Lower bounds on the LOSR optimum** (an explicit, exactly LT shared-randomness protocol):

* ``egamma``: E_gamma (:func:`eplt.dynamics.channels.eplt_channel`);
* ``twirl_ad`` (qubits): twirl + amplitude damping
  (:func:`eplt.dynamics.losr_protocols.twirl_amplitude_damping`), overlap
  ``1/2 + (p_c - p_h)/2 + sqrt(p_c p_h)``, ``N = p_c``;
* ``layer_cake`` and ``corr_reset`` (qutrits): the layer cake
  (:func:`eplt.dynamics.channels.layer_cake_channel`) and E_gamma with a correlated reset
  (:func:`eplt.dynamics.losr_protocols.correlated_reset_eplt`);
* ``losr``: the see-saw over k-branch protocols (:func:`eplt.dynamics.losr.losr_seesaw`);
* ``colgen``: column generation over pairs of local channels after the shared twirl
  (:func:`eplt.dynamics.colgen.column_generation`); negativity: that protocol's ``N``;
* ``best``: the largest of these (``best_losr_*``; its protocol in ``best_losr_protocol``).

**Upper bounds** (certified dual values of relaxations):

* ``dps2``: DPS level 2 (:func:`eplt.dynamics.dps.dps2_bound`), at every qubit point; for
  qutrits (about 1.2 GB and 40 s of CPU per point) at one point only, the middle of the
  sorted ``qutrit_betas`` (``qutrit_dps2``, default true; NaN elsewhere), which must have
  ``beta omega <= 6`` (:data:`DPS2_QUTRIT_BETA_OMEGA_MAX`; colder, the solver's certificate
  misses its 1e-6 tolerance and the run is refused before any SDP). Its certificate
  (primal, dual, gap) is in ``dps2_certificate``;
* ``colgen_upper``: column generation's certified ``upper_bound`` (a Lagrangian bound: the
  master LP's dual plus a certified bound on the largest reduced cost over all pairs of
  local channels, :func:`eplt.dynamics.colgen.pricing_bound`); never below the PPT bound,
  reported where column generation runs (``losr_upper_bound``);
* ``ppt``: the PPT relaxation (:func:`eplt.dynamics.bounds.sdp_bound`), the dual value;
* ``any_lt``: all LT channels (SDP with ``relaxation="none"``, dual value); closed forms
  beside it: the overlap ceiling ``(sum_i sqrt(min(a_i, b_i)))^2/d``
  (:func:`eplt.dynamics.bounds.any_lt_overlap_ceiling`) and the negativity bound
  ``min_X ((Tr sqrt tau_X)^2 - 1)/2``.

The row ``ppt`` of the **negativity** arrays is *not* a bound on LOSR: it is an alternating
search over PPT LT channels (:func:`eplt.dynamics.losr.negativity_search`), a lower bound on
the PPT maximum; it stays in the data (``ppt_negativity_lower``) and is drawn as such.

Cases: two qubits with equal ``tau`` (``H = omega |1><1|``) at each ``beta omega`` in
``betas``; two qubits with ``omega_A = omega``, ``omega_B = ratio omega`` at ``beta_unequal``
for each ``ratio`` in ``ratios``; two qutrits with ``H = omega diag(0, 1, 2.5)`` at each
``beta`` in ``qutrit_betas``; three qubits (GHZ overlap) with ``omega_B = omega_C = omega``,
``omega_A = r omega`` at ``beta_unequal`` for ``r`` in ``three_party_ratios`` (``r > 1``: A is
colder, ``r < 1``: A is hotter).

Known values (tests): equal qubits at ``beta omega = 1``: PPT ``0.768941 = (1 + gamma)/2``
(E_gamma attains it), any-LT ``0.943409``; unequal (ratio 0.5): PPT ``0.806633``, DPS-2
``0.766651``, twirl + amplitude damping ``0.764348``, E_gamma ``0.714642``; qutrits at
``beta omega = 1``: layer cake ``0.512258``, column generation ``0.577960``, DPS-2
``0.611403`` (certified 0.6114034, primal 0.6114031).

Figure ``bounds``: overlap (top) and negativity (bottom) for the two-party cases, and the
three-party panel (GHZ overlap against ``r``). Lower bounds are drawn as markers without
lines, upper bounds as lines (a single point, the qutrit DPS-2, as a bold dash), except
column generation's certificate (``colgen_upper``, an upper bound), a tri-marker; the gap
between ``best`` and the lowest upper bound is the part of the question still open.

Summary keys (:data:`SUMMARY_KEYS`): per-point keys (dicts keyed by ``beta omega``,
as text that reads back as the value, e.g. ``"0.5"``) ``egamma_overlap``,
``losr_overlap``, ``ppt_overlap`` (certified dual value),
``any_lt_overlap`` (dual value), ``egamma_negativity``, ``losr_negativity``,
``ppt_negativity_lower``, ``any_lt_negativity``, ``best_losr_overlap``,
``best_losr_negativity``, ``best_losr_protocol`` (name), ``dps2_overlap`` (None where not
run), ``dps2_certificate`` (dict ``primal``, ``dual``, ``gap``; None where not run),
``losr_upper_bound`` (None where column generation does not run); ``unequal`` and
``qutrit`` (the same per-point keys, keyed by ``omega_B/omega_A`` and
``beta omega``); ``three_party`` (dict key -> (dict ``r`` -> value) for ``egamma_ghz``,
``twirl_ad``, ``ppt_bound``, ``any_lt_bound``); ``sdp_seconds`` (largest wall time of one
PPT overlap SDP per case).
"""

from __future__ import annotations

import sys

import numpy as np
import qutip
import xarray as xr
from eplt.baths import qubit_hamiltonian, thermal_state
from eplt.dynamics.channels import NoEPLTError, eplt_channel

from ._bounds_plot import METHODS, THREE_KEYS, figures, plot
from ._bounds_points import MEASURES, _point, _three_point
from ._resources import check_memory, check_work
from .base import StudyResult
from .params import OMEGA, Param, ParamError, check_temperature, resolve, value_keys

#: Smallest nonzero beta omega the study accepts (see run).
MIN_BETA_OMEGA = 1e-3

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SUMMARY_KEYS",
    "figures",
    "plot",
    "qutrit_dps2_beta",
    "run",
]

NAME = "bounds"
DESCRIPTION = (
    "Entanglement kept by local thermalization: explicit LOSR protocols (E_gamma, twirl + "
    "damping, layer cake, column generation) against DPS-2, PPT and any-LT bounds"
)

#: Qutrit level energies in units of omega.
QUTRIT_LEVELS = (0.0, 1.0, 2.5)
#: At most this many temperatures / ratios per case (work grows linearly).
MAX_POINTS = 40
#: Coldest qutrit point (``beta omega``) of the DPS-2 bound: colder, Clarabel stops short
#: ("AlmostSolved") with duals whose certified gap exceeds the 1e-6 tolerance (measured
#: with the absorbed certificate of :func:`eplt.dynamics._symsdp._certificate`, 2026-12-06:
#: gap <= 6.7e-7 at beta omega = 0, 0.001, 0.05, 0.1, 0.5, 1, 2, 3, 4, 5, 5.5 and 6 (the
#: largest at 4); 2.4e-6 at 7, 8.2e-7 at 8, 2.2e-6 at 10 and 2.3e-6 at 20).
DPS2_QUTRIT_BETA_OMEGA_MAX = 6.0

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
        "inverse temperature of the unequal and three-party cases",
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
    Param(
        "three_party_ratios",
        (0.5, 1.0, 2.0),
        "floats",
        "omega_A / omega of three qubits (B, C at omega), GHZ overlap",
        "",
        low=0,
        low_open=True,
        high=100,
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
    Param(
        "colgen_starts",
        2,
        "int",
        "random pricing starts per column-generation round",
        "",
        low=1,
        high=50,
    ),
    Param("colgen_rounds", 6, "int", "column-generation rounds (qubits)", "", low=1, high=100),
    Param(
        "qutrit_colgen_rounds", 2, "int", "column-generation rounds (qutrits)", "", low=1, high=50
    ),
    Param(
        "qutrit_dps2",
        True,
        "bool",
        "DPS-2 bound for qutrits at the middle of the sorted qutrit_betas (~40 s CPU, 1.2 GB;"
        " needs beta omega <= 6 there)",
        "",
    ),
)

_KEYS = {
    "egamma_overlap": "<Phi+|E_gamma(Phi+)|Phi+>",
    "losr_overlap": "LOSR see-saw overlap (lower bound on the LOSR maximum)",
    "ppt_overlap": "max overlap over PPT LT channels (SDP dual value, certified upper bound on LOSR)",
    "any_lt_overlap": "max overlap over all LT channels (SDP relaxation none, dual value)",
    "egamma_negativity": "N(E_gamma(Phi+))",
    "losr_negativity": "LOSR see-saw negativity (lower bound on the LOSR maximum)",
    "ppt_negativity_lower": "alternating search over PPT LT channels (lower bound on the PPT max)",
    "any_lt_negativity": "min_X ((Tr sqrt tau_X)^2 - 1)/2, upper bound over all LT channels",
    "best_losr_overlap": "largest overlap of an explicit exactly-LT LOSR protocol (lower bound)",
    "best_losr_negativity": "largest negativity of an explicit LOSR protocol (lower bound)",
    "best_losr_protocol": "name of the protocol reaching best_losr_overlap",
    "dps2_overlap": "DPS level-2 upper bound on the LOSR overlap (dual value; None: not run)",
    "losr_upper_bound": "column generation's certified upper bound on the LOSR overlap "
    "(Lagrangian, never below ppt_overlap; None where column generation does not run)",
}
#: Summary keys whose values are not numbers (filled by _case, not from the arrays).
_EXTRA_KEYS = {
    "dps2_certificate": "DPS level-2 certificate: dict primal, dual, gap (None: not run)",
}
SUMMARY_KEYS = {
    **{k: f"dict beta omega -> {v}" for k, v in {**_KEYS, **_EXTRA_KEYS}.items()},
    "unequal": "dict key -> (dict omega_B/omega_A -> value), same keys, two qubits at beta_unequal",
    "qutrit": "dict key -> (dict beta omega -> value), same keys, qutrits H = omega diag(0,1,2.5)",
    "three_party": "dict key -> (dict omega_A/omega -> value): egamma_ghz, twirl_ad, ppt_bound, "
    "any_lt_bound (GHZ overlap of three qubits at beta_unequal)",
    "sdp_seconds": "dict case -> largest wall time of one PPT overlap SDP (s)",
}


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it:
    one SDP at a time (the largest, the qutrit PPT problem over a 81 x 81 Choi matrix, or a
    symmetry-reduced DPS-2 / three-party problem, each of which also refuses itself before
    allocating, :class:`eplt.dynamics.limits.MemoryLimitError`), its results kept per point.
    Measured with ``tracemalloc`` 2026-12-06: 12.5 MB of Python objects for one point per
    case; the solver's own (native) buffers are not traced and are counted as 100 MB,
    rounded up. The qutrit DPS-2 SDP (``qutrit_dps2``) peaks at 1.2 GB (measured with
    ``/usr/bin/time -v``, maximum resident set, 2026-12-06): counted as 1.3 GB."""
    points = len(p["betas"]) + len(p["ratios"]) + len(p["qutrit_betas"])
    points += len(p["three_party_ratios"])
    names = ("betas", "ratios", "qutrit_betas", "three_party_ratios")
    if p["qutrit_dps2"] and len(p["qutrit_betas"]):
        return 1.3e9 + 1e6 * points, (*names, "qutrit_dps2")
    return 1.5e8 + 1e6 * points, names


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: per qubit point ~3.5 s
    (SDPs, DPS-2 ~2 s, see-saws), plus ~0.5 s per column-generation round and start on
    unequal points; per qutrit point ~6 s plus ~4 s per column-generation round; per
    three-party point ~3 s; the qutrit DPS-2 point (``qutrit_dps2``) ~40 s. The see-saw
    and negativity starts as before: ~0.2 s and
    ~(0.2 + 0.02 max_iter) s per extra qubit start, ~(2.0 + 0.075 qutrit_max_iter) s and
    ~(0.3 + 0.93 qutrit_max_iter) s per extra qutrit start. Measured 2026-12-06 on the 2-core
    VM while shared (load 7-15); rounded up."""
    nq = len(p["betas"]) + len(p["ratios"])
    extra_neg = p["negativity_restarts"] - 1
    cg = 0.5 * p["colgen_rounds"] * (1 + p["colgen_starts"])
    qubit = 3.5 + 0.2 * (p["restarts"] - 1) + extra_neg * (0.2 + 0.02 * p["max_iter"])
    qit, extra_q = p["qutrit_max_iter"], p["qutrit_restarts"] - 1
    qutrit = 6.0 + 4.0 * p["qutrit_colgen_rounds"] * (1 + p["colgen_starts"]) / 3
    qutrit += extra_q * (2.0 + 0.075 * qit) + extra_neg * (0.3 + 0.93 * qit)
    seconds = 2.0 + nq * qubit + len(p["ratios"]) * cg + len(p["qutrit_betas"]) * qutrit
    seconds += 3.0 * len(p["three_party_ratios"])
    if p["qutrit_dps2"] and len(p["qutrit_betas"]):
        seconds += 40.0
    names = ("betas", "ratios", "qutrit_betas", "three_party_ratios", "restarts")
    return seconds, (
        *names,
        "negativity_restarts",
        "max_iter",
        "qutrit_restarts",
        "qutrit_max_iter",
        "colgen_starts",
        "colgen_rounds",
        "qutrit_colgen_rounds",
        "qutrit_dps2",
    )


_SUMMARY_FROM = {
    "egamma_overlap": ("overlap", "egamma"),
    "losr_overlap": ("overlap", "losr"),
    "ppt_overlap": ("overlap", "ppt"),
    "any_lt_overlap": ("overlap", "any_lt"),
    "egamma_negativity": ("negativity", "egamma"),
    "losr_negativity": ("negativity", "losr"),
    "ppt_negativity_lower": ("negativity", "ppt"),
    "any_lt_negativity": ("negativity", "any_lt"),
    "best_losr_overlap": ("overlap", "best"),
    "best_losr_negativity": ("negativity", "best"),
    "dps2_overlap": ("overlap", "dps2"),
    "losr_upper_bound": ("overlap", "colgen_upper"),
}


def _case(points, key_values) -> tuple[dict, dict]:
    """Summary dicts (key -> {x: value}) and arrays (merit -> (method, x))."""
    summ = {k: {} for k in (*_KEYS, *_EXTRA_KEYS)}
    arr = {m: np.full((len(METHODS), len(points)), np.nan) for m in ("overlap", "negativity")}
    for j, (pt, xs) in enumerate(zip(points, key_values)):
        for merit in ("overlap", "negativity"):
            for i, meth in enumerate(METHODS):
                arr[merit][i, j] = pt[merit][meth]
        for key, (merit, meth) in _SUMMARY_FROM.items():
            v = float(pt[merit][meth])
            summ[key][xs] = None if np.isnan(v) else v
        summ["best_losr_protocol"][xs] = pt["best_protocol"]
        summ["dps2_certificate"][xs] = pt["dps2_certificate"]
    return summ, arr


def _check_params(p, betas, ratios, qbetas, om):
    for name in ("betas", "ratios", "qutrit_betas", "three_party_ratios"):
        if len(p[name]) > MAX_POINTS:
            raise ParamError(f"{name} may list at most {MAX_POINTS} values, got {len(p[name])}")
    # Near (not at) infinite temperature gamma -> 1 and the see-saw SDPs degenerate
    # (Clarabel stops at its iteration limit at beta omega = 1e-6): refused, beta = 0 runs.
    small = min(1.0, float(ratios.min()) if ratios.size else 1.0)
    small = min(small, float(min(p["three_party_ratios"], default=1.0)))
    for name, vals, scale in (
        ("betas", betas, om),
        ("qutrit_betas", qbetas, om),
        ("beta_unequal", np.array([p["beta_unequal"]]), om * small),
    ):
        bad = [float(b) for b in vals if 0 < b * scale < MIN_BETA_OMEGA]
        if bad:
            raise ParamError(
                f"{name}: beta omega must be 0 or >= {MIN_BETA_OMEGA:g} (the see-saw SDPs "
                f"degenerate as gamma -> 1), got beta = {bad[0]:g} at omega = {om:g}"
                + (
                    f" (the smaller gap: min(ratios, three_party_ratios) = {small:g} times omega;"
                    " raise the smallest ratio or beta_unequal)"
                    if name == "beta_unequal" and small < 1
                    else ""
                )
            )
    # too cold for gamma = 2 p_min to be resolved: one line naming the parameter and bound
    for b in betas:
        check_temperature(float(b), om, name="betas", high_temperature=False)
    big = max(1.0, float(ratios.max()) if ratios.size else 1.0, *p["three_party_ratios"])
    try:
        check_temperature(p["beta_unequal"], om * big, name="beta_unequal", high_temperature=False)
    except ParamError as exc:
        raise ParamError(
            f"{exc}; here omega is the larger gap, max(ratios, three_party_ratios) * omega"
            f" = {big:g} * {om:g}"
        ) from None


def _check_dps2(p, qbetas, om) -> float | None:
    """The qutrit ``beta`` of the DPS-2 point (None: not run); refused in one line when
    colder than :data:`DPS2_QUTRIT_BETA_OMEGA_MAX`."""
    b_dps2 = qutrit_dps2_beta(qbetas) if p["qutrit_dps2"] else None
    if b_dps2 is not None and b_dps2 * om > DPS2_QUTRIT_BETA_OMEGA_MAX:
        raise ParamError(
            f"qutrit_dps2: the DPS-2 point (the middle of the sorted qutrit_betas, beta ="
            f" {b_dps2:g}, beta omega = {b_dps2 * om:.4g}) must have beta omega <="
            f" {DPS2_QUTRIT_BETA_OMEGA_MAX:g}: colder, the solver's certificate misses its"
            " 1e-6 tolerance; lower the middle qutrit_betas or set qutrit_dps2=false"
        )
    return b_dps2


def _qutrit_too_cold(beta: float, om: float) -> str:
    """The refusal of a qutrit temperature whose smallest population the channel treats
    as zero, with the bound on ``beta omega`` (levels ``QUTRIT_LEVELS``, in omega)."""
    from .params import GAMMA_RESOLUTION

    def log_p(x: float) -> float:
        e = [-lv * x for lv in QUTRIT_LEVELS]
        return e[-1] - float(np.logaddexp.reduce(e))

    lo, hi = 0.0, 100.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if log_p(mid) > np.log(GAMMA_RESOLUTION) else (lo, mid)
    return (
        f"qutrit_betas = {beta:g} (beta omega = {beta * om:.4g}): the qutrit's smallest"
        f" population is at or below the channel's resolution {GAMMA_RESOLUTION:g}, so tau"
        f" counts as pure; lower qutrit_betas or omega (now {om:g}) so that beta omega <"
        f" {lo:.4g} (beta = inf is zero temperature, where no EPLT exists)"
    )


def qutrit_dps2_beta(qutrit_betas) -> float | None:
    """The qutrit ``beta`` at which the study runs DPS level 2: the middle of the sorted
    values (the lower middle for an even count); None for no values.

    >>> qutrit_dps2_beta([2.0, 0.5, 1.0]), qutrit_dps2_beta([0.5, 2.0]), qutrit_dps2_beta([])
    (1.0, 0.5, None)
    """
    vals = sorted(float(b) for b in qutrit_betas)
    return vals[(len(vals) - 1) // 2] if vals else None


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """All bounds for the four cases (equal qubits, unequal qubits, qutrits, three qubits)."""
    from tqdm.auto import tqdm

    p = resolve(PARAMS, params, study=NAME)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    om = p["omega"]
    betas = np.array(p["betas"], dtype=float)
    ratios = np.array(p["ratios"], dtype=float)
    qbetas = np.array(p["qutrit_betas"], dtype=float)
    r3 = np.array(p["three_party_ratios"], dtype=float)
    _check_params(p, betas, ratios, qbetas, om)
    H = qubit_hamiltonian(om)
    H3 = qutip.Qobj(np.diag(QUTRIT_LEVELS) * om)
    bu = p["beta_unequal"]
    # fail early (NoEPLTError, one line) before any SDP
    for b in betas:
        eplt_channel(thermal_state(H, b), thermal_state(H, b))
    for r in (*ratios, *r3):
        eplt_channel(thermal_state(H, bu), thermal_state(qubit_hamiltonian(r * om), bu))
    for b in qbetas:
        try:
            eplt_channel(thermal_state(H3, b), thermal_state(H3, b))
        except NoEPLTError:
            raise ParamError(_qutrit_too_cold(float(b), om)) from None
    b_dps2 = _check_dps2(p, qbetas, om)

    root = np.random.SeedSequence(seed)
    s_eq, s_un, s_q = root.spawn(3)
    kw = {
        "restarts": p["restarts"],
        "neg_restarts": p["negativity_restarts"],
        "max_iter": p["max_iter"],
        "cg_starts": p["colgen_starts"],
        "cg_rounds": p["colgen_rounds"],
    }
    kw3 = {
        **kw,
        "restarts": p["qutrit_restarts"],
        "max_iter": p["qutrit_max_iter"],
        "cg_rounds": p["qutrit_colgen_rounds"],
    }
    total = len(betas) + len(ratios) + len(qbetas) + len(r3)
    bar = tqdm(total=total, desc="points", disable=not progress)
    eq, un, qt, tp = [], [], [], []
    for b, ss in zip(betas, s_eq.spawn(len(betas))):
        tau = thermal_state(H, b)
        eq.append(_point(tau, tau, seed=ss, **kw))
        bar.update()
    for r, ss in zip(ratios, s_un.spawn(len(ratios))):
        tA, tB = thermal_state(H, bu), thermal_state(qubit_hamiltonian(r * om), bu)
        un.append(_point(tA, tB, seed=ss, **kw))
        bar.update()
    for b, ss in zip(qbetas, s_q.spawn(len(qbetas))):
        tau = thermal_state(H3, b)
        qt.append(_point(tau, tau, seed=ss, dps2=b == b_dps2, **kw3))
        bar.update()
    p_b = float(thermal_state(H, bu).full()[1, 1].real)
    for r in r3:
        p_a = float(thermal_state(qubit_hamiltonian(r * om), bu).full()[1, 1].real)
        tp.append(_three_point([p_a, p_b, p_b]))
        bar.update()
    bar.close()
    return _assemble(p, seed, om, betas, ratios, qbetas, r3, eq, un, qt, tp)


def _assemble(p, seed, om, betas, ratios, qbetas, r3, eq, un, qt, tp) -> StudyResult:
    summary, arrays = {}, {}
    cases = (("equal", eq, betas * om), ("unequal", un, ratios), ("qutrit", qt, qbetas * om))
    names = {"equal": "betas", "unequal": "ratios", "qutrit": "qutrit_betas"}
    for label, pts, xs in cases:
        s, a = _case(pts, value_keys(xs, names[label]))
        arrays[label] = a
        if label == "equal":
            summary.update(s)
        else:
            summary[label] = s
    r_keys = value_keys(r3, "three_party_ratios")
    summary["three_party"] = {k: dict(zip(r_keys, (pt[k] for pt in tp))) for k in THREE_KEYS}
    summary["sdp_seconds"] = {
        label: max((pt["sdp_seconds"] for pt in pts), default=None) for label, pts, _ in cases
    }
    dims = {"equal": "beta_omega", "unequal": "ratio", "qutrit": "beta_omega_qutrit"}
    data = {}
    for label, pts, _ in cases:
        x = dims[label]
        for merit in ("overlap", "negativity"):
            data[f"{merit}_{label}"] = (
                ("method", x),
                arrays[label][merit],
                {"units": "1", "long_name": f"{merit} of E(Phi+), {label}"},
            )
        data[f"any_lt_closed_form_{label}"] = (
            (x,),
            np.array([pt["any_lt_ceiling"] for pt in pts]),
            {"units": "1", "long_name": "(sum_i sqrt(min(a_i, b_i)))^2 / d (any-LT ceiling)"},
        )
        data[f"measures_{label}"] = (
            ("protocol", "measure", x),
            np.array([pt["measures"] for pt in pts]).transpose(1, 2, 0).reshape(2, 4, len(pts)),
            {
                "units": "1",
                "long_name": "measures of the output on Phi+ (EoF in bits, E_N base 2, "
                "distill_min < 0: 1-distillable)",
            },
        )
        data[f"sdp_seconds_{label}"] = (
            (x,),
            np.array([pt["sdp_seconds"] for pt in pts]),
            {"units": "s", "long_name": "wall time of the PPT overlap SDP"},
        )
    data["ghz_overlap_three_party"] = (
        ("method3", "ratio3"),
        np.array([[pt[k] for pt in tp] for k in THREE_KEYS]).reshape(len(THREE_KEYS), len(tp)),
        {"units": "1", "long_name": "<GHZ|E(GHZ)|GHZ>, three qubits"},
    )
    ds = xr.Dataset(
        data,
        coords={
            "method": ("method", list(METHODS)),
            "protocol": ("protocol", ["egamma", "best"]),
            "measure": ("measure", list(MEASURES)),
            "method3": ("method3", list(THREE_KEYS)),
            "beta_omega": ("beta_omega", betas * om, {"units": "1", "long_name": "beta omega"}),
            "ratio": ("ratio", ratios, {"units": "1", "long_name": "omega_B / omega_A"}),
            "beta_omega_qutrit": (
                "beta_omega_qutrit",
                qbetas * om,
                {"units": "1", "long_name": "beta omega (qutrits)"},
            ),
            "ratio3": ("ratio3", r3, {"units": "1", "long_name": "omega_A / omega (three qubits)"}),
        },
        attrs={"study": NAME, "omega": om, "beta_unequal": p["beta_unequal"]},
    )
    return StudyResult(NAME, p, seed, ds, summary)

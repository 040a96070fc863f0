r"""Robustness of the EPLT protocol: partial correlation, timing errors, finite randomness.

Two qubits (``H = omega |1><1|``), input Phi+ (negativity) and the channel over *all*
inputs (LT error), protocol of :func:`eplt.baths.schedules.eplt_schedule`: a shared Gell-Mann
drive of strength ``kappa`` for the certified twirl time
(:func:`eplt.baths.certified_twirl_time`, ``ln(gamma/(2 eps))/(2 kappa)``), a Poisson reset to omega (the ground state)
at rate ``r`` for ``ln(1/gamma)/r``, then thermal baths at ``beta``. Unperturbed, the
channel at ``t* = t_twirl + ln(1/gamma)/r`` has ``lt_error = eps`` (worst input) and
``N(Phi+) = p_min``. Perturbations:

Partial correlation ``c`` of the clock
    a shared clock at ``c r`` plus independent clocks at ``(1 - c) r``. The marginals do
    not change (``lt_error = eps`` for every c); for Phi+,
    ``N(t*) = max(0, gamma^(2 - c) - gamma/2)``, entangled iff
    ``c > c* = 1 - ln 2 / ln(1/gamma)`` (0.51656 at ``beta omega = 2``; none at
    ``beta omega = 1``, where ``gamma > 1/2``). ``c = 0, 1`` are the independent and
    shared clocks of :func:`eplt.baths.protocols.eplt_protocol` exactly.
Partial correlation of the drive
    Gaussian mixing of the noise (``sqrt(c)`` shared, ``sqrt(1 - c)`` own): the own part
    depolarizes each qubit, ``s = e^{-2 kappa (1 - c) t_twirl}``, so Phi+ becomes
    isotropic with ``F = (1 + 3 s^2)/4`` and ``N(t*) = gamma max(0, (3 s^2 - 1)/4)``;
    with the certified timing ``c* = 1 - ln 3 / (2 ln(gamma/(2 eps)))``, independent of
    kappa.
Delay ``delta`` of party B's reset stop
    B's reset runs ``ln(1/gamma)/r + delta``; judged when the later party stops
    (``t* + max(0, delta)``). Late: ``lt_error = gamma (1 - e^{-r delta})/2 + eps e^{-r delta}``
    (``gamma (1 - e^{-r delta})/2`` for an exact twirl). Early: B holds with its thermal
    bath for ``|delta|`` (populations relax at r, coherences at r/2), a trust-region
    maximum over the input's Bloch direction (:func:`early_stop_error`).
Jitter
    ``delta`` uniform on ``[-spread, spread]`` (:func:`eplt.baths.schedules.jitter_nodes`),
    judged at ``t* + spread``: the channels (and the states) are averaged over delta.
Rate miscalibration ``r_B = r (1 + eta)``
    a shared clock at ``min(r_A, r_B)`` plus B's own excess:
    ``lt_error = |gamma^(1 + eta) - gamma|/2 + eps gamma^eta``.
Finite shared randomness
    the twirl by one shared random Pauli (a 1-design: exact marginals, 2 bits) or
    Clifford (a 2-design: exactly the isotropic twirl, ``log2 24`` bits) per
    :class:`eplt.baths.ensembles.UnitaryEnsemble` segment; ``k`` shared Gaussian pulse
    segments over ``t_twirl`` with the Brownian drive's strength (``variance kappa/segment``,
    continuous amplitudes: unbounded bits), each a random rotation that shrinks the Bloch
    vector by ``f = (1 + 2 (1 - 2 v) e^{-v})/3``, ``v = kappa t_twirl/k``, so
    ``lt_error = gamma |f|^k / 2`` (not monotone in k; ``-> eps`` as ``k -> inf``); and
    the Brownian drive. The reset clock adds
    one relevant coin, ``h2(gamma)`` bits (P(no tick before t*) = gamma).

LT errors are :func:`eplt.dynamics.channels.lt_error` of :func:`eplt.dynamics.marginal_channels`
(exact for qubits, certified upper bound). All dynamics are white or segment-averaged
exactly (Gauss-Hermite with ``nodes`` per coefficient for the Gaussian pulses).

Figures: ``robustness`` (N(t*) and lt_error against c, delta, eta; closed forms as lines)
and ``finite_randomness`` (lt_error and N against the number of pulse segments, the
Brownian drive and the discrete twirls marked). Summary keys: :data:`SUMMARY_KEYS`.
Times in ``1/omega``, delays in ``1/r`` units of the parameters (``delays`` are ``r delta``).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import qutip
import xarray as xr
from eplt.baths import Drive, GaussianPulses, qubit_hamiltonian, thermal_state
from eplt.baths.ensembles import UnitaryEnsemble, ensemble_drive, pauli_group
from eplt.baths.protocols import certified_twirl_time, gellmann_basis
from eplt.baths.schedules import eplt_schedule, jitter_nodes
from eplt.dynamics import SegmentAveraged, evolve, marginal_channels
from eplt.dynamics.channels import clifford_group, eplt_channel, lt_error
from eplt.dynamics.measures import binary_entropy as _h2
from eplt.dynamics.measures import negativity, partial_transpose
from eplt.dynamics.states import bell_state, phi_plus
from scipy.optimize import brentq

from ._resources import check_memory, check_work
from ._robustness_forms import _key, delay_error, early_stop_error, rate_error_lt, segments_error
from ._robustness_plot import figures, plot
from .base import StudyResult
from .params import (
    OMEGA,
    QUBIT_BETA_OMEGA_MAX,
    RATE_MAX,
    RATE_MIN,
    Param,
    ParamError,
    beta_param,
    check_temperature,
    eps_param,
    kappa_param,
    rate_param,
    resolve,
)

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PARAMS",
    "SUMMARY_KEYS",
    "delay_error",
    "early_stop_error",
    "figures",
    "plot",
    "rate_error_lt",
    "run",
    "segments_error",
]

NAME = "robustness"
DESCRIPTION = "EPLT under partial correlation, timing errors and finite shared randomness"

PARAMS = (
    OMEGA,
    beta_param(default=2.0),
    rate_param(),
    kappa_param(),
    eps_param(),
    Param(
        "correlations",
        tuple(np.round(np.linspace(0, 1, 21), 10)),
        "floats",
        "clock and drive correlations c",
        "",
        low=0,
        high=1,
    ),
    Param(
        "beta_omegas",
        (1.0, 2.0),
        "floats",
        "beta omega values of the critical correlations",
        "",
        low=1e-3,
        high=QUBIT_BETA_OMEGA_MAX,
        note="above beta omega = 32.24 the qubit's p_min is below the channel's resolution",
    ),
    Param(
        "delays",
        (-0.3, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.3),
        "floats",
        "delays r delta of B's reset stop (must exceed -ln(1/gamma))",
        "1/r",
        low=-50,
        high=50,
    ),
    Param(
        "rate_errors",
        (-0.3, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.3),
        "floats",
        "relative rate errors eta of B's clock",
        "",
        low=-1,
        low_open=True,
        high=10,
    ),
    Param("jitters", (0.05, 0.1, 0.2), "floats", "jitter spreads r delta", "1/r", low=0, high=10),
    Param(
        "jitter_nodes", 4, "int", "Gauss-Legendre nodes per half of the jitter", "", low=1, high=64
    ),
    Param(
        "segments", (1, 2, 4, 8), "ints", "numbers k of Gaussian pulse segments", "", low=1, high=64
    ),
    Param("nodes", 16, "int", "Gauss-Hermite nodes per pulse coefficient", "", low=2, high=24),
)

SUMMARY_KEYS = {
    "gamma": "gamma = 2 p_min at beta",
    "t_twirl": "certified twirl time ln(gamma/(2 eps))/(2 kappa), 1/omega",
    "t_star": "t* = t_twirl + ln(1/gamma)/r",
    "lt_error_nominal": "lt_error of the unperturbed channel at t* (= eps)",
    "negativity_vs_correlation": "N(t*) of Phi+ against the clock correlation c (keys: c)",
    "negativity_vs_correlation_closed_form": "max(0, gamma^(2-c) - gamma/2)",
    "lt_error_vs_correlation": "lt_error at t* against the clock correlation (marginals unchanged)",
    "lt_error_vs_drive_correlation": "lt_error at t* against the drive correlation",
    "negativity_vs_drive_correlation": "N(t*) of Phi+ against the drive correlation (keys: c)",
    "negativity_vs_drive_correlation_closed_form": "gamma max(0, (3 s^2 - 1)/4), "
    "s = exp(-2 kappa (1 - c) t_twirl)",
    "critical_correlation": "clock correlation above which Phi+ stays entangled at t*, by beta "
    "omega (root of the smallest partial-transpose eigenvalue; null: entangled for every c)",
    "critical_correlation_closed_form": "1 - ln 2 / ln(1/gamma) (null where <= 0)",
    "critical_drive_correlation": "the same for the drive correlation (certified timing at each "
    "beta omega)",
    "critical_drive_correlation_closed_form": "1 - ln 3 / (2 ln(gamma/(2 eps)))",
    "lt_error_vs_delay": "lt_error when the later party stops, against r delta of B's reset stop",
    "lt_error_vs_delay_closed_form": "late: gamma(1 - e^{-r delta})/2 + eps e^{-r delta}; "
    "early: early_stop_error",
    "negativity_vs_delay": "N(Phi+) when the later party stops, against r delta",
    "lt_error_vs_rate_error": "lt_error at t* against eta (r_B = r (1 + eta))",
    "lt_error_vs_rate_error_closed_form": "|gamma^(1+eta) - gamma|/2 + eps gamma^eta",
    "negativity_vs_rate_error": "N(Phi+) at t* against eta",
    "jitter": "delay uniform on [-spread, spread] (keys: r spread): lt_error of the averaged "
    "channel and N of the averaged state at t* + spread",
    "finite_randomness": "protocol -> {bits (twirl + clock coin; null for the Brownian "
    "drive, whose continuous randomness has unbounded bits), twirl_bits, lt_error, "
    "negativity (Phi+), negativity_psi_plus} for brownian, pauli, clifford and segments_k "
    "(k pulse segments)",
    "lt_error_segments_closed_form": "gamma |f|^k / 2 by k (segments_error)",
}


def _setup(omega, beta, p):
    H = qubit_hamiltonian(omega)
    tau = thermal_state(H, beta)
    gamma = eplt_channel(tau, tau).gamma
    t_tw = certified_twirl_time(tau, tau, rate=p["rate"], kappa=p["kappa"], eps=p["eps"])
    return H, tau, gamma, t_tw


def _sched(p, H, tau, beta, t_twirl, **kw):
    return eplt_schedule(
        tau, tau, H, H, beta, rate=p["rate"], kappa=p["kappa"], t_twirl=t_twirl, **kw
    )


def _final_state(proto, t, method="auto", rho0=None) -> qutip.Qobj:
    rho0 = phi_plus() if rho0 is None else rho0
    res = evolve(rho0, proto, [0.0, t], e_ops=[], method=method, store_states=True)
    return res.states[-1]


def _lt(proto, t, tau, method="auto") -> float:
    return float(lt_error(marginal_channels(proto, t, method=method), [tau, tau]))


def _min_pt_eig(rho: qutip.Qobj) -> float:
    return float(np.linalg.eigvalsh(partial_transpose(rho).full()).min())


def _critical(f_state, lo=0.0, hi=1.0):
    """Root of the smallest partial-transpose eigenvalue of ``f_state(c)`` in [lo, hi]
    (brentq, xtol 1e-10); None when entangled at ``lo``; raises when separable at ``hi``."""
    a, b = _min_pt_eig(f_state(lo)), _min_pt_eig(f_state(hi))
    if a < 0:
        return None
    if b >= 0:
        return math.nan
    return float(brentq(lambda c: _min_pt_eig(f_state(c)), lo, hi, xtol=1e-10))


def _pulse_drive(kappa, t_twirl, k):
    seg = t_twirl / k
    G = gellmann_basis(2)
    proc = GaussianPulses(segment=seg, variance=kappa / seg, channels=len(G), name="pulses")
    return [Drive(proc, 0, G), Drive(proc, 1, G, conjugate=True)]


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured with ``tracemalloc`` 2026-12-06: 7.4 MB at the defaults, small channels per
    list value; the segment quadrature holds ``nodes^3`` qubit channels; rounded up)."""
    values = sum(len(set(p[k])) for k in _LISTS) + len(set(p["jitters"])) * p["jitter_nodes"]
    need = 3e7 + 2e5 * values + 2e3 * p["nodes"] ** 3 * len(set(p["segments"]))
    return need, ("nodes", "segments", "jitter_nodes", "jitters")


_LISTS = ("correlations", "beta_omegas", "delays", "rate_errors", "segments")


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them: ~25 ms per correlation,
    ~60 ms per beta omega (two root finds), ~12 ms per delay, rate error and jitter node,
    and the segment quadrature (~80 microseconds per nodes^3, once).

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, one run in a fresh
    process each): 1.7-2.1 s at the defaults, 1.5 s with one correlation, 3.2 s with 81,
    2.4 s with eight beta omegas, 4.3 s at jitter_nodes = 64, 2.9 s at nodes = 24; the
    segment counts cost nothing measurable. Repeated values run once. Rounded up.
    Held-out check 2026-12-06 (load ~12): 1.8 s with segments = 1, 5.7 s with the 64
    counts 1..64 (~60 ms per count, the pulse quadrature redone per k: now counted)."""
    n = {k: len(set(p[k])) for k in ("correlations", "beta_omegas", "delays", "rate_errors")}
    seconds = (
        1.0
        + 0.025 * n["correlations"]
        + 0.06 * n["beta_omegas"]
        + 0.012 * (n["delays"] + n["rate_errors"])
        + 0.012 * len(set(p["jitters"])) * p["jitter_nodes"]
        + 8e-5 * p["nodes"] ** 3
        + 0.06 * len(set(p["segments"]))
    )
    names = ("correlations", "beta_omegas", "delays", "rate_errors", "jitters", "jitter_nodes")
    return seconds, (*names, "nodes", "segments")


def run(params: dict | None = None, *, seed: int = 0, progress: bool = False) -> StudyResult:
    """Run the study (deterministic: exact and segment-averaged channels; ``seed`` recorded only)."""
    p = resolve(PARAMS, params, study=NAME)
    check_memory(sys.modules[__name__], p)  # before anything is allocated
    check_work(sys.modules[__name__], p)  # refused above EPLT_WORK_LIMIT
    check_temperature(p["beta"], p["omega"], name="beta")
    for name in ("rate", "kappa"):  # the dynamics' stiffness is rate/omega, not the rate alone
        ratio = p[name] / p["omega"]
        if not RATE_MIN <= ratio <= RATE_MAX:
            raise ParamError(
                f"{name}/omega must lie in [{RATE_MIN:g}, {RATE_MAX:g}], got {ratio:.3g} "
                f"({name}={p[name]:g}, omega={p['omega']:g})"
            )
    omega, beta, r, eps = p["omega"], p["beta"], p["rate"], p["eps"]
    H, tau, gamma, t_tw = _setup(omega, beta, p)
    t_reset = math.log(1 / gamma) / r
    bad = [x for x in p["delays"] if not x > -math.log(1 / gamma)]
    if bad:
        raise ParamError(
            f"delays must lie in (-{math.log(1 / gamma):g}, 50] (r delta longer than the "
            f"reset stage ln(1/gamma) = {math.log(1 / gamma):g}), got {bad[0]:g}"
        )
    if max(p["jitters"], default=0.0) >= math.log(1 / gamma):
        raise ParamError(
            f"jitters must lie in [0, {math.log(1 / gamma):g}) (the reset stage ln(1/gamma)), "
            f"got {max(p['jitters']):g}"
        )
    t_star = t_tw + t_reset
    cs = sorted(set(p["correlations"]))
    steps = []

    def tick(label):
        steps.append(label)
        if progress:
            print(f"{NAME}: {label}", flush=True)

    # --- partial correlation (clock and drive)
    tick("correlation")
    n_clock, lt_clock, n_drive, lt_drive = [], [], [], []
    for c in cs:
        pc, t = _sched(p, H, tau, beta, t_tw, clock_correlation=c)
        n_clock.append(negativity(_final_state(pc, t)))
        lt_clock.append(_lt(pc, t, tau))
        pd, t = _sched(p, H, tau, beta, t_tw, drive_correlation=c)
        n_drive.append(negativity(_final_state(pd, t)))
        lt_drive.append(_lt(pd, t, tau))
    s_of = [math.exp(-2 * p["kappa"] * (1 - c) * t_tw) for c in cs]
    crit, crit_cf, crit_d, crit_d_cf = {}, {}, {}, {}
    for bo in sorted(set(p["beta_omegas"])):
        b = bo / omega
        Hb, taub, gb, ttb = _setup(omega, b, p)

        def fc(c, Hb=Hb, taub=taub, b=b, ttb=ttb):
            return _final_state(*_sched(p, Hb, taub, b, ttb, clock_correlation=c))

        def fd(c, Hb=Hb, taub=taub, b=b, ttb=ttb):
            return _final_state(*_sched(p, Hb, taub, b, ttb, drive_correlation=c))

        crit[_key(bo)] = _critical(fc)
        cf = 1 - math.log(2) / math.log(1 / gb)
        crit_cf[_key(bo)] = cf if cf > 0 else None
        crit_d[_key(bo)] = _critical(fd)
        cfd = 1 - math.log(3) / (2 * math.log(gb / (2 * eps))) if gb > 2 * eps else None
        crit_d_cf[_key(bo)] = cfd if cfd is not None and cfd > 0 else None

    # --- delays and rate errors
    tick("timing")
    dels = sorted(set(p["delays"]))
    lt_del, n_del, lt_del_cf = [], [], []
    for x in dels:
        pr, t = _sched(p, H, tau, beta, t_tw, delay=x / r)
        lt_del.append(_lt(pr, t, tau))
        n_del.append(negativity(_final_state(pr, t)))
        lt_del_cf.append(delay_error(gamma, eps, x))
    etas = sorted(set(p["rate_errors"]))
    lt_eta, n_eta, lt_eta_cf = [], [], []
    for eta in etas:
        pr, t = _sched(p, H, tau, beta, t_tw, rate_error=eta)
        lt_eta.append(_lt(pr, t, tau))
        n_eta.append(negativity(_final_state(pr, t)))
        lt_eta_cf.append(rate_error_lt(gamma, eps, eta))

    # --- jitter
    tick("jitter")
    jitter = {}
    for sp in sorted(set(p["jitters"])):
        xs, ws = jitter_nodes(sp, p["jitter_nodes"]) if sp > 0 else (np.zeros(1), np.ones(1))
        t_eval = t_star + sp / r
        chans, rho = None, 0
        for x, w in zip(xs, ws):
            pr, _ = _sched(p, H, tau, beta, t_tw, delay=x / r)
            m = marginal_channels(pr, t_eval)
            chans = [w * q for q in m] if chans is None else [a + w * q for a, q in zip(chans, m)]
            rho = rho + w * _final_state(pr, t_eval)
        jitter[_key(sp)] = {
            "lt_error": float(lt_error(chans, [tau, tau])),
            "negativity": negativity(rho),
        }

    # --- finite shared randomness
    tick("finite randomness")
    coin = _h2(gamma)
    seg_m = SegmentAveraged(nodes=p["nodes"])
    ks = sorted(set(p["segments"]))
    if t_tw <= 0:
        raise ParamError(
            f"eps must be < gamma/2 = {gamma / 2:g} for the pulse segments (they need a twirl time > 0)"
        )

    def entry(proto, t, bits, method="auto"):
        return {
            # null for the Brownian drive: continuous randomness, unbounded bits
            "bits": None if math.isinf(bits) else bits + coin,
            "twirl_bits": None if math.isinf(bits) else bits,
            "lt_error": _lt(proto, t, tau, method=method),
            "negativity": negativity(_final_state(proto, t, method=method)),
            "negativity_psi_plus": negativity(
                _final_state(proto, t, method=method, rho0=bell_state("10"))
            ),
        }

    fin = {"brownian": entry(*_sched(p, H, tau, beta, t_tw), math.inf)}
    for name, Us in (("pauli", pauli_group(2)), ("clifford", clifford_group(2))):
        drive = ensemble_drive(Us, t_tw)
        bits = UnitaryEnsemble(tuple(Us), t_tw).bits
        fin[name] = entry(*_sched(p, H, tau, beta, t_tw, twirl=drive), bits)
    for k in ks:
        pr, t = _sched(p, H, tau, beta, t_tw, twirl=_pulse_drive(p["kappa"], t_tw, k))
        fin[f"segments_{k}"] = entry(pr, t, math.inf, seg_m)

    data = xr.Dataset(
        {
            "negativity_clock": (("correlation",), np.array(n_clock), {"units": "1"}),
            "negativity_clock_closed_form": (
                ("correlation",),
                np.array([max(0.0, gamma ** (2 - c) - gamma / 2) for c in cs]),
                {"units": "1"},
            ),
            "lt_error_clock": (("correlation",), np.array(lt_clock), {"units": "1"}),
            "negativity_drive": (("correlation",), np.array(n_drive), {"units": "1"}),
            "lt_error_drive": (("correlation",), np.array(lt_drive), {"units": "1"}),
            "negativity_drive_closed_form": (
                ("correlation",),
                np.array([gamma * max(0.0, (3 * s * s - 1) / 4) for s in s_of]),
                {"units": "1"},
            ),
            "lt_error_delay": (("delay",), np.array(lt_del), {"units": "1"}),
            "lt_error_delay_closed_form": (("delay",), np.array(lt_del_cf), {"units": "1"}),
            "negativity_delay": (("delay",), np.array(n_del), {"units": "1"}),
            "lt_error_rate": (("rate_error",), np.array(lt_eta), {"units": "1"}),
            "lt_error_rate_closed_form": (("rate_error",), np.array(lt_eta_cf), {"units": "1"}),
            "negativity_rate": (("rate_error",), np.array(n_eta), {"units": "1"}),
            "lt_error_segments": (
                ("segments",),
                np.array([fin[f"segments_{k}"]["lt_error"] for k in ks]),
                {"units": "1"},
            ),
            "lt_error_segments_closed_form": (
                ("segments",),
                np.array([segments_error(gamma, p["kappa"] * t_tw, k) for k in ks]),
                {"units": "1"},
            ),
            "negativity_segments": (
                ("segments",),
                np.array([fin[f"segments_{k}"]["negativity"] for k in ks]),
                {"units": "1"},
            ),
            "negativity_psi_plus_segments": (
                ("segments",),
                np.array([fin[f"segments_{k}"]["negativity_psi_plus"] for k in ks]),
                {"units": "1", "long_name": "N(t*) for the input Psi+"},
            ),
        },
        coords={
            "correlation": ("correlation", np.array(cs), {"units": "1"}),
            "delay": ("delay", np.array(dels), {"units": "1/r", "long_name": "r delta"}),
            "rate_error": ("rate_error", np.array(etas), {"units": "1"}),
            "segments": ("segments", np.array(ks), {"units": "1"}),
        },
        attrs={"study": NAME, "t_star": t_star, "t_twirl": t_tw, "gamma": gamma},
    )
    summary = {
        "gamma": gamma,
        "t_twirl": t_tw,
        "t_star": t_star,
        "lt_error_nominal": fin["brownian"]["lt_error"],
        "negativity_vs_correlation": dict(zip(map(_key, cs), n_clock)),
        "negativity_vs_correlation_closed_form": dict(
            zip(map(_key, cs), data["negativity_clock_closed_form"].values.tolist())
        ),
        "lt_error_vs_correlation": dict(zip(map(_key, cs), lt_clock)),
        "lt_error_vs_drive_correlation": dict(zip(map(_key, cs), lt_drive)),
        "negativity_vs_drive_correlation": dict(zip(map(_key, cs), n_drive)),
        "negativity_vs_drive_correlation_closed_form": dict(
            zip(map(_key, cs), data["negativity_drive_closed_form"].values.tolist())
        ),
        "critical_correlation": crit,
        "critical_correlation_closed_form": crit_cf,
        "critical_drive_correlation": crit_d,
        "critical_drive_correlation_closed_form": crit_d_cf,
        "lt_error_vs_delay": dict(zip(map(_key, dels), lt_del)),
        "lt_error_vs_delay_closed_form": dict(zip(map(_key, dels), lt_del_cf)),
        "negativity_vs_delay": dict(zip(map(_key, dels), n_del)),
        "lt_error_vs_rate_error": dict(zip(map(_key, etas), lt_eta)),
        "lt_error_vs_rate_error_closed_form": dict(zip(map(_key, etas), lt_eta_cf)),
        "negativity_vs_rate_error": dict(zip(map(_key, etas), n_eta)),
        "jitter": jitter,
        "finite_randomness": fin,
        "lt_error_segments_closed_form": dict(
            zip(map(str, ks), data["lt_error_segments_closed_form"].values.tolist())
        ),
    }
    return StudyResult(NAME, p, seed, data, summary)

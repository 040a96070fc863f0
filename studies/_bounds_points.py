"""One point of the ``bounds`` study (private): every lower bound (explicit LOSR
protocols) and upper bound (certified relaxations) at one pair of thermal states, and the
GHZ overlaps of three qubits (:mod:`eplt.studies.bounds` runs these over its grid and
assembles the data).
"""

from __future__ import annotations

import time

import numpy as np
import qutip
from eplt.dynamics.bounds import (
    any_lt_negativity_bound,
    any_lt_overlap_ceiling,
    sdp_bound,
)
from eplt.dynamics.channels import eplt_channel, layer_cake_channel
from eplt.dynamics.colgen import column_generation
from eplt.dynamics.dps import dps2_bound, three_party_bound
from eplt.dynamics.entanglement import concurrence, entanglement_of_formation, one_distillability
from eplt.dynamics.limits import MemoryLimitError, blas_single_threaded
from eplt.dynamics.losr import losr_seesaw, negativity_search
from eplt.dynamics.losr_protocols import (
    correlated_reset_eplt,
    ghz_twirl_amplitude_damping,
    twirl_amplitude_damping,
)
from eplt.dynamics.measures import ghz_fidelity, log_negativity, negativity, phi_plus_overlap
from eplt.dynamics.states import ghz_state, phi_plus

#: Methods that are explicit LOSR protocols (lower bounds); ``best`` is their maximum.
LOWER = ("egamma", "twirl_ad", "layer_cake", "corr_reset", "losr", "colgen")
MEASURES = ("concurrence", "eof_bits", "log_negativity", "distill_min")


def _out_super(S: qutip.Qobj, rho: qutip.Qobj) -> qutip.Qobj:
    out = qutip.vector_to_operator(S * qutip.operator_to_vector(rho))
    return qutip.Qobj((out.full() + out.full().conj().T) / 2, dims=rho.dims)


def _measures(rho: qutip.Qobj) -> list[float]:
    qubits = rho.dims[0] == [2, 2]
    return [
        concurrence(rho) if qubits else np.nan,
        entanglement_of_formation(rho) if qubits else np.nan,
        log_negativity(rho),
        one_distillability(rho, starts=3).value,
    ]


@blas_single_threaded
def _point(
    tA, tB, *, restarts, neg_restarts, max_iter, cg_starts, cg_rounds, seed, dps2=True
) -> dict:
    """Every number of one temperature / ratio (see the module docstring); ``dps2``: also
    the DPS level-2 bound."""
    d = tA.shape[0]
    E = eplt_channel(tA, tB)  # NoEPLTError at zero temperature, before any SDP
    phi = phi_plus(d)
    outs = {"egamma": E(phi)}
    names = {}
    if d == 2:
        outs["twirl_ad"] = twirl_amplitude_damping(tA, tB)(phi)
    else:
        if np.allclose(np.sort(np.diag(tA.full()).real), np.sort(np.diag(tB.full()).real)):
            outs["layer_cake"] = layer_cake_channel(tA, tB)(phi)
        outs["corr_reset"] = correlated_reset_eplt(tA, tB)(phi)
    t0 = time.perf_counter()
    ppt = sdp_bound(tA, tB, relaxation="ppt")
    t_sdp = time.perf_counter() - t0
    anylt = sdp_bound(tA, tB, relaxation="none")
    ss = seed.spawn(4)
    lo = losr_seesaw(tA, tB, restarts=restarts, max_iter=max_iter, seed=ss[0])
    lo_n = losr_seesaw(tA, tB, merit="negativity", restarts=restarts, max_iter=max_iter, seed=ss[1])
    neg = negativity_search(tA, tB, restarts=neg_restarts, max_iter=max_iter, seed=ss[2])
    ov = {k: phi_plus_overlap(o) for k, o in outs.items()}
    ng = {k: negativity(o) for k, o in outs.items()}
    ov["losr"], ng["losr"] = lo.value, lo_n.value
    outs["losr"] = lo(phi)
    cg_upper = np.nan
    if ppt.dual_value - max(ov.values()) > 1e-6:  # else a protocol is certified optimal
        cg = column_generation(tA, tB, starts=cg_starts, max_rounds=cg_rounds, seed=ss[3])
        outs["colgen"] = _out_super(cg.superoperator(), phi)
        ov["colgen"], ng["colgen"] = cg.value, negativity(outs["colgen"])
        names["colgen"] = f"column generation ({len(cg.probabilities)} branches after the twirl)"
        cg_upper = cg.upper_bound
    cert = None
    if dps2:
        try:
            b = dps2_bound(tA, tB)
            cert = {"primal": b.value, "dual": b.dual_value, "gap": b.gap}
        except MemoryLimitError:  # run's memory estimate refuses first; a lower limit here
            cert = None
    dps = np.nan if cert is None else cert["dual"]
    best = max(ov, key=ov.get)
    names = {
        "egamma": "E_gamma",
        "twirl_ad": "twirl + amplitude damping",
        "layer_cake": "layer cake",
        "corr_reset": "E_gamma with correlated reset",
        "losr": "see-saw",
        **names,
    }
    overlap = {m: ov.get(m, np.nan) for m in LOWER}
    negat = {m: ng.get(m, np.nan) for m in LOWER}
    overlap.update(
        best=ov[best], colgen_upper=cg_upper, dps2=dps, ppt=ppt.dual_value, any_lt=anylt.dual_value
    )
    negat.update(
        best=max(ng.values()),
        colgen_upper=np.nan,
        dps2=np.nan,
        ppt=neg.value,
        any_lt=any_lt_negativity_bound(tA, tB),
    )
    return {
        "overlap": overlap,
        "negativity": negat,
        "best_protocol": names[best],
        "dps2_certificate": cert,
        "measures": [_measures(outs["egamma"]), _measures(outs[best])],
        "any_lt_ceiling": any_lt_overlap_ceiling(tA, tB),
        "sdp_seconds": t_sdp,
    }


@blas_single_threaded
def _three_point(ps) -> dict:
    """GHZ overlaps of three qubits with excited populations ``ps`` (module docstring)."""
    taus = [qutip.Qobj(np.diag([1 - p, p])) for p in ps]
    g = 2 * min(ps)
    e = (np.array(ps) - g / 2) / (1 - g) if g < 1 else np.full(3, 0.5)
    eg = g + (1 - g) * (np.prod(1 - e) + np.prod(e)) / 2  # GHZ twirl + product reset
    tad = ghz_fidelity(ghz_twirl_amplitude_damping(taus)(ghz_state(3)))
    return {
        "egamma_ghz": float(eg),
        "twirl_ad": tad,
        "ppt_bound": three_party_bound(taus).dual_value,
        "any_lt_bound": three_party_bound(taus, relaxation="none").dual_value,
    }

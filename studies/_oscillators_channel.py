"""Channel level of the ``oscillators`` study (private): the cutoff-free layer cake and
E_gamma in Fock space (:mod:`eplt.dynamics.layer_cake_fock`) on the two-mode squeezed
vacuum and on Phi+_d, and the thermofield-double ceiling (:mod:`eplt.studies.oscillators`
runs these beside the damped-mode dynamics).
"""

from __future__ import annotations

import math

import numpy as np
from eplt.dynamics.bosonic import tmsv_coefficients
from eplt.dynamics.layer_cake_fock import NNState, egamma_fock, layer_cake_fock, tfd_negativity

#: Truncation tolerance of the layer cake's branch sum (bound on the negativity error).
BRANCH_TOL = 1e-10
#: The TMSV input is kept up to the level where lambda^(2n) < this (exact to round-off).
INPUT_TOL = 1e-17


def _tmsv_input(lam: float) -> NNState:
    """The TMSV up to the level where lambda^(2n) < INPUT_TOL (the rest is below round-off;
    the layer cake reads the input's sums S_m, R_m, constant beyond its last level)."""
    n = 1 if lam == 0 else max(1, math.ceil(math.log(INPUT_TOL) / (2 * math.log(lam))))
    return NNState.from_ket(tmsv_coefficients(lam, cutoff=n))


def _phi_plus_nn(d: int) -> NNState:
    return NNState(np.full((d, d), 1 / d), np.diag(np.full(d, 1 / d)))


def _truncated_tmsv(lam: float, d: int) -> NNState:
    c = tmsv_coefficients(lam, cutoff=d)
    return NNState.from_ket(c / np.linalg.norm(c))


def channel_level(p: dict) -> dict:
    """Negativities of the layer cake and E_gamma on the TMSV and on Phi+_d (arrays)."""
    betas = np.array(sorted(set(p["betas"]) | {p["beta"]}))
    lam_axis = np.union1d(
        np.linspace(0.0, max(0.95, max(p["lambdas"])), p["n_lambda"]), p["lambdas"]
    )
    out = {"betas": betas, "lambda": lam_axis}
    lc = np.empty((betas.size, lam_axis.size))
    err, dropped, branches, levels = 0.0, 0.0, 0, 0
    for i, b in enumerate(betas):
        for j, lam in enumerate(lam_axis):
            st = _tmsv_input(float(lam))
            r = layer_cake_fock(st, b, omega=p["omega"], tol=BRANCH_TOL)
            lc[i, j] = r.negativity
            err, dropped = max(err, r.negativity_error), max(dropped, r.weight_dropped)
            if b == p["beta"]:
                branches, levels = r.cutoff, max(levels, st.n)
    out["layer_cake"] = lc
    cutoffs = np.array(sorted(set(p["cutoffs"])))
    out["cutoffs"] = cutoffs
    eg = np.empty((cutoffs.size, lam_axis.size))
    for i, d in enumerate(cutoffs):
        for j, lam in enumerate(lam_axis):
            eg[i, j] = egamma_fock(
                _truncated_tmsv(float(lam), int(d)), p["beta"], int(d), omega=p["omega"]
            ).negativity
    out["egamma"] = eg
    ds = np.arange(2, p["d_max"] + 1)
    out["d"] = ds
    out["layer_cake_phi"] = np.array(
        [
            layer_cake_fock(
                _phi_plus_nn(int(d)), p["beta"], omega=p["omega"], tol=BRANCH_TOL
            ).negativity
            for d in ds
        ]
    )
    out["egamma_phi"] = np.array(
        [
            egamma_fock(_phi_plus_nn(int(d)), p["beta"], int(d), omega=p["omega"]).negativity
            for d in ds
        ]
    )
    out["egamma_phi_cutoffs"] = {
        int(d): egamma_fock(_phi_plus_nn(int(d)), p["beta"], int(d), omega=p["omega"]).negativity
        for d in cutoffs
    }
    out["ceiling"] = np.array([tfd_negativity(b, omega=p["omega"]) for b in betas])
    out["errors"] = {"channel": err, "marginal": dropped, "branches": branches, "levels": levels}
    return out

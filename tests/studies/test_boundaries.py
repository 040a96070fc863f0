"""Declared-valid values at the edges of the ranges either compute correct numbers or are
refused in one line naming the parameter and the limit (issue 20, second audit's leftovers:
oscillators' omega, speedup's extreme kappa, the speed-up figure's S = 1 line)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
from eplt.studies import get_study
from eplt.studies.params import ParamError, resolve

from tests.studies.helpers import run_error

#: Small oscillators sizes: the channel level only matters for the boundary checks.
OSC_SMALL = {"n_lambda": 3, "d_max": 3, "cutoffs": (2, 3), "n_times": 3, "cutoff": 4}


@pytest.mark.parametrize(
    "sets, names",
    [
        ({"omega": 1e-6}, ("omega", "min(beta, betas) * omega >=")),
        ({"omega": 1e6}, ("omega", "beta * omega <")),
        ({"beta": 1e3}, ("beta", "beta * omega <")),
        ({"betas": "0.05", "omega": 0.1}, ("betas", "omega >=")),
    ],
)
def test_oscillators_boundary_refusals_name_the_parameter(tmp_path, capsys, sets, names):
    err = run_error(tmp_path, capsys, "oscillators", sets)
    for n in names:
        assert n in err, err
    assert "tolerance" not in err  # the audit's message named the internal branch tolerance


def test_oscillators_limits_are_where_computation_stops():
    """Just inside each limit the channel level computes; just outside it is refused."""
    from eplt.dynamics.layer_cake_fock import layer_cake_fock

    osc = get_study("oscillators")
    base = {**OSC_SMALL, "betas": (1.0,), "lambdas": (0.5,), "d_max": 2, "cutoffs": (2,)}
    for omega, ok in ((0.00856, True), (0.00855, False), (745.0, True), (745.2, False)):
        p = resolve(osc.PARAMS, {**base, "omega": omega}, study="oscillators")
        if not ok:
            with pytest.raises(ParamError, match="omega"):
                osc.check_computable(p)
            continue
        osc.check_computable(p)
        if omega > 1:  # cold: the whole channel level is cheap
            ch = osc.channel_level(p)
            assert all(math.isfinite(v) for v in ch["layer_cake"].ravel())
        else:  # hot: ~4000 branches; one input is enough to show it computes
            r = layer_cake_fock(osc._tmsv_input(0.5), 1.0, omega=omega, tol=osc.BRANCH_TOL)
            assert 0 < r.negativity < 1 and r.negativity_error <= osc.BRANCH_TOL


def test_describe_oscillators_calls_omega_the_mode_frequency(capsys):
    from eplt.studies.cli import main

    assert main(["describe", "oscillators"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("omega"))
    assert "qubit gap" not in line and "frequency of each cavity mode" in line
    assert "0.00855" in line  # the limit the refusal names


@pytest.mark.parametrize("kappa", [1e-6, 1e-5, 1e6])
def test_speedup_reported_t_star_is_eps_lt_at_extreme_kappa(kappa):
    """At kappa = 1e-6 the rounding of t* = t_twirl + t_reset (~2.8e6) reported
    lt_error = 1.00000005e-3 > eps = 1e-3; the twirl is now bracketed on the eps-LT side."""
    from eplt.baths import eplt_protocol
    from eplt.dynamics import marginal_channels
    from eplt.dynamics.channels import lt_error
    from eplt.studies._speedup_times import _twirl_time, certify_at_t_star
    from eplt.studies.speedup import qubit_hamiltonian, thermal_state

    H = qubit_hamiltonian(1.0)
    tau = thermal_state(H, 1.0)
    eps = 1e-3
    t0 = _twirl_time(tau, 1.0, kappa, eps)
    t_tw, lt = certify_at_t_star(tau, H, 1.0, 1.0, kappa, eps, t0)
    assert lt <= eps
    assert t0 <= t_tw <= t0 * (1 + 1e-7)  # a bracket, not a different answer
    gamma = 2 / (1 + math.e)
    proto, _ = eplt_protocol(tau, tau, H, H, 1.0, rate=1.0, kappa=kappa, t_twirl=t_tw)
    t_star = t_tw + math.log(1 / gamma)
    assert float(lt_error(marginal_channels(proto, t_star), tau)) <= eps
    # the closed form lt = gamma e^{-2 kappa t_twirl}/2 at the root: within 1e-6 of eps
    assert gamma * math.exp(-2 * kappa * t_tw) / 2 == pytest.approx(eps, rel=1e-6)


def test_speedup_run_at_kappa_1e_6_reports_lt_error_at_most_eps(tmp_path):
    sp = get_study("speedup")
    small = {"n_beta": 3, "n_times": 11, "kappa_ratios": (10.0,), "kappa": 1e-6}
    p = {k: v for k, v in small.items() if k in {q.name for q in sp.PARAMS}}
    res = sp.run(p, seed=0)
    eps = res.params["eps"]
    for s in ("correlated", "shared_drive_independent_clocks", "independent"):
        assert res.summary["lt_error_at_t_star"][s] <= eps, res.summary["lt_error_at_t_star"]


def test_speedup_vs_eps_labels_the_s_equals_one_line():
    from eplt.studies._speedup_plot import plot

    sp = get_study("speedup")
    names = {q.name for q in sp.PARAMS}
    small = {"n_beta": 3, "n_times": 11, "kappa_ratios": (10.0,)}
    res = sp.run({k: v for k, v in small.items() if k in names}, seed=0)
    fig, ax = plt.subplots()
    plot(res, ax, which="speedup_vs_kappa_ratio")
    labels = ax.get_legend_handles_labels()[1]
    assert any("S=1" in lab for lab in labels), labels
    plt.close(fig)


@pytest.mark.parametrize(
    "study, sets, names",
    [
        # was "tau_A is pure ... at zero temperature", naming neither parameter
        ("bounds", {"omega": 1e6}, ("betas", "omega (now 1e+06)", "beta omega < 32.24")),
        ("bounds", {"beta_unequal": 20}, ("beta_unequal", "ratios", "32.24")),
        ("bounds", {"qutrit_betas": 1000}, ("qutrit_betas", "beta omega < 12.89")),
        ("bounds", {"three_party_ratios": 1e-5}, ("three_party_ratios", "beta_unequal")),
        # was "lower beta to beta omega < 32.2" when the user had set omega
        ("robustness", {"omega": 1e6}, ("omega (now 1e+06)", "beta omega < 32.24")),
        ("speedup", {"beta": 1e-9}, ("raise beta", "or omega", ">= 1e-06")),
    ],
)
def test_temperature_refusals_name_beta_and_omega(tmp_path, capsys, study, sets, names):
    err = run_error(tmp_path, capsys, study, sets)
    for n in names:
        assert n in err, err

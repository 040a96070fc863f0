"""Messages (issue 20) and describe (issue 23): every refusal names the parameter and the
range ``eplt describe`` shows, both from one declaration; describe prints plain text."""

from __future__ import annotations

import math
import re

import pytest
from eplt.studies import STUDIES, cli, get_study
from eplt.studies.params import (
    QUBIT_BETA_OMEGA_MAX,
    ParamError,
    beta_param,
    check_temperature,
    parse_float,
    resolve,
)

from .helpers import run_error

SPHINX = re.compile(r":(func|class|meth|mod|data|attr|math|ref|py:\w+):`|``|^\s*\.\. \w+::", re.M)


@pytest.mark.parametrize("name", list(STUDIES))
def test_describe_prints_plain_text(name, capsys):
    assert cli.main(["describe", name]) == 0
    out = capsys.readouterr().out
    assert not SPHINX.search(out), SPHINX.search(out)
    assert "**" not in out
    for p in get_study(name).PARAMS:  # the declared range, as the refusals state it
        assert p.range_text() in out


def test_plain_text_keeps_words_and_formulas():
    text = (
        "see :func:`~eplt.dynamics.channels.lt_error` and :class:`eplt.baths.Environment`,"
        " ``t* = t_twirl + ln(1/gamma)/r`` for **every** input, *not* LT,"
        " :data:`SUMMARY_KEYS`, ``U^*`` on B"
    )
    assert cli.plain_text(text) == (
        "see lt_error() and eplt.baths.Environment, t* = t_twirl + ln(1/gamma)/r for every"
        " input, not LT, summary.json keys below, U^* on B"
    )


def _above(p) -> float | None:
    """The first value above the declared range (inf for ``..., inf)``), or None."""
    if p.high is None or p.allow_inf:
        return None
    if math.isinf(p.high):
        return math.inf if p.high_open else None
    return p.high if p.high_open else math.nextafter(float(p.high), math.inf)


def _below(p) -> float | None:
    if p.low is None:
        return None
    return p.low if p.low_open else math.nextafter(float(p.low), -math.inf)


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_refusal_at_a_range_end_names_the_parameter_and_the_described_range(name):
    """One declaration: just outside either end of the range describe prints, convert
    refuses naming the parameter and that same range text; the ends inside are taken."""
    for p in get_study(name).PARAMS:
        if p.kind not in ("float", "floats", "int", "ints"):
            continue
        as_list = p.kind in ("floats", "ints")
        for v in (_above(p), _below(p)):
            if v is None:
                continue
            if p.kind in ("int", "ints"):
                v = math.ceil(v) if v > (p.high or 0) else math.floor(v)
                v = v + (1 if v == p.high else -1 if v == p.low else 0)
            with pytest.raises(ParamError) as info:
                p.convert([v] if as_list else v)
            msg = str(info.value)
            assert msg.startswith(p.name) and p.range_text() in msg, msg
        for end, open_ in ((p.low, p.low_open), (p.high, p.high_open)):
            if end is not None and not open_ and math.isfinite(end):
                value = int(end) if p.kind in ("int", "ints") else float(end)
                p.convert([value] if as_list else value)  # an inclusive end is accepted


def test_beta_range_shows_and_enforces_that_infinity_is_refused(tmp_path, capsys):
    assert beta_param().range_text() == "(0, inf)"
    err = run_error(tmp_path, capsys, "speedup", {"beta": "inf"})
    assert "beta must lie in (0, inf), got inf" in err and "zero temperature" in err
    for name, key in (("fef", "betas"), ("threshold", "betas_threshold")):
        p = {q.name: q for q in get_study(name).PARAMS}[key]
        assert p.range_text() == "[0, inf)"
        with pytest.raises(ParamError, match=rf"{key} must lie in \[0, inf\)"):
            p.convert([math.inf])


def test_robustness_declared_maximum_runs_and_above_it_is_refused_by_the_declaration():
    # [0.001, 50] was declared, but 50 was refused as "zero temperature"
    study = get_study("robustness")
    p = resolve(study.PARAMS, {"beta_omegas": (QUBIT_BETA_OMEGA_MAX,)}, study="robustness")
    check_temperature(QUBIT_BETA_OMEGA_MAX, 1.0, name="beta_omegas")  # computable
    assert p["beta_omegas"] == (QUBIT_BETA_OMEGA_MAX,)
    with pytest.raises(ParamError, match=r"beta_omegas must lie in \[0.001, 32\], got 50"):
        resolve(study.PARAMS, {"beta_omegas": "50"}, study="robustness")


@pytest.mark.parametrize("beta", [32.3, 32.9])
def test_temperatures_the_channel_treats_as_pure_are_refused_naming_beta(tmp_path, capsys, beta):
    # between beta omega = 32.24 and 32.93 the check passed and the channel then said
    # "tau_A is pure ... zero temperature" (not naming beta)
    err = run_error(tmp_path, capsys, "thermo", {"beta": beta, "n_times": 11})
    assert err.startswith(f"eplt: error: beta = {beta:g}") and "beta omega < 32.24" in err


def test_numbers_that_overflow_are_refused_not_read_as_inf():
    with pytest.raises(ParamError, match="overflows double precision"):
        parse_float("1e400", "kappa_ratios")
    assert parse_float("inf", "kappa_ratios") == math.inf


def test_kappa_zero_refusal_agrees_with_the_declared_range(tmp_path, capsys):
    # declared [0, 1e6]; the refusal said "kappa must lie in (0, inf)"
    sets = {"kappa": 0, "n_times": 11, "n_beta": 2, "kappa_ratios": 1}
    err = run_error(tmp_path, capsys, "speedup", sets)
    assert "kappa = 0 (no twirl)" in err and "(0, inf)" not in err

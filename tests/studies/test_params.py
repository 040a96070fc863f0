"""Shared parameter declarations (``eplt.studies.params``): a parameter that means the same in
several studies is declared once, so its unit, range and wording cannot drift apart."""

from __future__ import annotations

import pytest
from eplt.studies import STUDIES, get_study
from eplt.studies.params import RATE_MIN, beta_param, eps_param, kappa_param, rate_param

#: Same name, other meaning or range, declared by the study on purpose.
OWN = {
    ("ghz", "kappa"),  # zero-sum phase noise; below 1e-3 the certificate loses trace
    ("twirl", "kappa"),  # the twirl study's time unit is 1/kappa (unit 1/time)
    ("twirl", "eps"),  # per-input distance to T(rho0), not lt_error
}


def _declared(name: str):
    for study in STUDIES:
        by_name = {p.name: p for p in get_study(study).PARAMS}
        if name in by_name and (study, name) not in OWN:
            yield study, by_name[name]


@pytest.mark.parametrize(
    "name, shared",
    [
        ("beta", lambda p: [beta_param(default=p.default)]),
        ("rate", lambda p: [rate_param(default=p.default)]),
        ("eps", lambda p: [eps_param(default=p.default)]),
        (
            "kappa",
            lambda p: [kappa_param(default=p.default, allow_off=a) for a in (False, True)],
        ),
    ],
)
def test_every_study_uses_the_shared_declaration(name, shared):
    found = list(_declared(name))
    assert len(found) >= 3, found  # the parameter really is shared
    for study, p in found:
        assert p in shared(p), f"{study}.{name} is declared on its own: {p}"


def test_shared_ranges_and_the_kappa_off_switch():
    on, off = kappa_param(), kappa_param(allow_off=True)
    assert (on.low, off.low, on.high) == (RATE_MIN, 0, off.high)
    assert "0: none" in off.help and "0: none" not in on.help
    assert beta_param().range_text() == "(0, inf)"  # inf (zero temperature) is refused
    assert eps_param().range_text() == "[1e-10, 0.5)"

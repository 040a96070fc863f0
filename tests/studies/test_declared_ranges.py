"""Every value a study declares valid either runs or is refused in one line (issue #10).

For each study in ``eplt.studies.STUDIES`` (so studies added later are covered without
editing this file) hypothesis draws one or two parameters across their declared ranges,
endpoints and extreme magnitudes included, with every integer (a size: times, grid
points, qubits, samples) at the low end of its range and the rest at the defaults. The
run must either finish with finite summary values (no warning: warnings are errors in
this suite) or raise the errors the command line turns into one line with exit status 2
(``ParamError`` and its ``ResourceError``, ``NoEPLTError``). The example budget is small
per study and fixed (``derandomize``), so CI time stays bounded (~1 min on two cores).
"""

from __future__ import annotations

import math

import pytest
from eplt.dynamics.channels import NoEPLTError
from eplt.studies import STUDIES, get_study
from eplt.studies.params import ParamError
from eplt.studies.sweep import _flatten
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES_PER_STUDY = 30
#: Studies whose every run solves SDPs (bounds: ~7 s at its smallest sizes; 30 examples
#: took 339 s under load): fewer examples, and marked slow.
FEWER_EXAMPLES = {"bounds": 6}


def _float_values(p) -> st.SearchStrategy:
    lo = -math.inf if p.low is None else float(p.low)
    hi = math.inf if p.high is None else float(p.high)
    ends = []
    if math.isfinite(lo):
        ends.append(math.nextafter(lo, math.inf) if p.low_open else lo)
        if lo == 0:
            ends += [5e-324, 1e-300]
    if math.isfinite(hi):
        ends.append(math.nextafter(hi, -math.inf) if p.high_open else hi)
    else:
        ends += [1e308] + ([] if p.high_open else [math.inf])
    if getattr(p, "allow_inf", False):
        ends.append(math.inf)
    ends = [v for v in ends if _inside(p, v)]
    inner = st.floats(
        min_value=lo if math.isfinite(lo) else None,
        max_value=hi if math.isfinite(hi) else None,
        exclude_min=p.low_open and math.isfinite(lo),
        exclude_max=p.high_open and math.isfinite(hi),  # (0, inf): inf itself is excluded
        allow_nan=False,
        allow_infinity=False,
    )
    return st.one_of(st.sampled_from(ends), inner) if ends else inner


def _inside(p, v) -> bool:
    try:
        p.convert([v] if p.kind in ("floats", "ints") else v)
    except ParamError:
        return False
    return True


def _values(p) -> st.SearchStrategy:
    if p.choices:
        return st.sampled_from(p.choices)
    if p.kind == "bool":
        return st.booleans()
    if p.kind in ("int", "ints"):
        lo = int(p.low) if p.low is not None else 0
        hi = int(p.high) if p.high is not None else lo + 2
        ints = st.integers(min_value=lo, max_value=min(hi, lo + 2))
        return st.lists(ints, min_size=1, max_size=2).map(tuple) if p.kind == "ints" else ints
    if p.kind in ("float", "floats"):
        f = _float_values(p)
        return st.lists(f, min_size=1, max_size=2).map(tuple) if p.kind == "floats" else f
    return st.just(p.default)


#: Switches off in the base point (a switch drawn as a varied parameter still runs it):
#: bounds' qutrit DPS-2 takes ~40 s and 1.2 GB per run.
BASE_OFF = {"bounds": {"qutrit_dps2": False}}


def _tiny(params) -> dict:
    """Every integer (a size) at the low end of its range; lists with one element."""
    out = {}
    for p in params:
        if p.kind == "int" and p.low is not None:
            out[p.name] = int(p.low)
        elif p.kind in ("floats", "ints"):
            out[p.name] = tuple(p.default[:1])
    return out


#: Studies whose case takes minutes (bounds: 891 s, twirl: 118 s at load 14 on 2 cores,
#: 2026-12-06; bounds took 339 s in issue 23): run in CI, skipped by ``-m "not slow"``.
_SLOW = ("bounds", "twirl")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow) if n in _SLOW or n in FEWER_EXAMPLES else n
        for n in STUDIES
    ],
)
def test_declared_values_run_or_are_refused_in_one_line(name):
    study = get_study(name)
    varied = [p for p in study.PARAMS if p.kind != "str" or p.choices]
    base = {**_tiny(study.PARAMS), **BASE_OFF.get(name, {})}

    @settings(
        max_examples=FEWER_EXAMPLES.get(name, EXAMPLES_PER_STUDY),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data):
        chosen = data.draw(
            st.lists(st.sampled_from(varied), min_size=1, max_size=2, unique_by=lambda p: p.name)
        )
        params = dict(base)
        for p in chosen:
            params[p.name] = data.draw(_values(p), label=p.name)
        try:
            res = study.run(params, seed=0)
        except (ParamError, NoEPLTError) as exc:
            msg = str(exc)
            assert msg and "Traceback" not in msg
            return
        for key, v in _flatten(res.summary).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                assert math.isfinite(v) or (math.isinf(v) and key_may_be_infinite(study, key)), (
                    key,
                    v,
                    params,
                )

    check()


def key_may_be_infinite(study, key: str) -> bool:
    """Summary values documented as possibly infinite (e.g. a speed-up against a reference
    that never thermalizes) are allowed to be; every other value must be finite."""
    doc = study.SUMMARY_KEYS.get(key.split(".")[0], "")
    return "inf" in doc

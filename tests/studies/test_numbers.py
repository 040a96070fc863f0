"""No silent wrong numbers (issue 20): garbage into the API is refused naming the
argument or file; study summaries are finite, in their physical ranges and keyed uniquely."""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip


def test_e_ops_callable_returning_none_is_refused_naming_it():
    import eplt

    env = eplt.Environment([2], [eplt.lindblad(0, qutip.num(2), [qutip.destroy(2)])])
    rho0 = qutip.basis(2, 1)
    with pytest.raises(TypeError, match=r"e_ops 'e0'.*returned NoneType"):
        eplt.evolve(rho0, env, [0.0, 1.0], e_ops=[lambda r: None])
    with pytest.raises(TypeError, match="e_ops 'mine'"):
        eplt.evolve(rho0, env, [0.0, 1.0], e_ops={"mine": lambda t, r: "text"})


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e200])
def test_collapse_operators_with_non_finite_or_overflowing_entries_are_refused(bad):
    import eplt

    c = qutip.Qobj(np.array([[0, bad], [0, 0]], dtype=complex))
    with pytest.raises(ValueError, match=r"lindblad on party 0.*(c_ops\[0\]|overflow)"):
        eplt.lindblad(0, qutip.num(2), [c])
    with pytest.raises(ValueError, match="lindblad on party 0: H has a non-finite"):
        eplt.lindblad(0, qutip.num(2) * np.nan, [])


@pytest.mark.parametrize("rate", [0, 0.0, -1.0, math.inf, math.nan])
def test_eplt_protocol_refuses_rates_outside_the_open_half_line(rate):
    import eplt

    tau = eplt.thermal_state(eplt.qubit_hamiltonian(1.0), 1.0)
    H = eplt.qubit_hamiltonian(1.0)
    with pytest.raises(ValueError, match=r"rate must lie in \(0, inf\)"):
        eplt.eplt_protocol(tau, tau, H, H, 1.0, rate=rate)
    with pytest.raises(TypeError, match="rate must be a number"):
        eplt.eplt_protocol(tau, tau, H, H, 1.0, rate="1")


@pytest.mark.parametrize("cut", [0, 10, 100, -40])
def test_result_load_of_an_empty_or_truncated_file_names_the_file(tmp_path, cut):
    import eplt

    path = tmp_path / "r.nc"
    eplt.Result(times=np.arange(50.0), expect={"purity": np.ones(50)}, method="exact").save(path)
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut >= 0 else data[: len(data) + cut])
    with pytest.raises(ValueError, match=r"cannot read .*r\.nc.* as a NetCDF result"):
        eplt.Result.load(path)


# ----------------------------------------------------------------- studies: summaries

from eplt.studies import get_study  # noqa: E402
from eplt.studies._resources import check_work, estimate_work  # noqa: E402
from eplt.studies.params import ParamError, resolve, value_key, value_keys  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from .helpers import run_error, run_ok  # noqa: E402


def test_thermo_relative_entropy_is_finite_at_low_temperature(tmp_path):
    # D(Phi+ || tau (x) tau) = beta omega + 2 log(1 + e^{-beta omega}): reported inf for
    # every beta omega above ~16 by the 1e-14 eigenvalue cutoff
    s = run_ok(tmp_path, "thermo", {"beta": 20, "n_times": 11}, ("ledger",))
    got = s["relative_entropy_to_product_thermal"]["initial"]
    assert got == pytest.approx(20 + 2 * math.log1p(math.exp(-20)), rel=1e-12)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    x=st.floats(allow_nan=False, allow_infinity=True)
    | st.integers(-(10**6), 10**6)
    | st.sampled_from([1.0, 1.0000001, 0.1 + 0.2, 1e-6, 5e-324])
)
def test_summary_keys_round_trip_to_their_values(x):
    key = value_key(x)
    assert float(key) == x
    assert value_key(math.nextafter(float(x), math.inf)) != key or math.isinf(x)


def test_nearby_values_get_two_keys_and_repeats_are_refused(tmp_path, capsys):
    s = run_ok(tmp_path, "fef", {"betas": "1,1.0000001", "n_F": 3, "restarts": 0}, ("fef",))
    assert sorted(s["gamma"]) == ["1", "1.0000001"]  # one entry on the :g keys
    (tmp_path / "again").mkdir()
    err = run_error(tmp_path / "again", capsys, "fef", {"betas": "1,1.0", "n_F": 3})
    assert "betas lists 1 twice" in err
    with pytest.raises(ParamError, match=r"ratios lists 0\.5 twice"):
        value_keys([0.5, 0.5], "ratios")


def test_speedup_refuses_a_kappa_rate_ratio_it_cannot_compute(tmp_path, capsys):
    # both values are declared valid; together they failed "channel is not trace preserving"
    err = run_error(tmp_path, capsys, "speedup", {"rate": 1e6, "kappa": 1e-6})
    assert "kappa/rate must lie in [1e-06, 1e+06]" in err


def _listed(n: int, start: float = 0.1) -> tuple:
    return tuple(start + 0.01 * i for i in range(n))


@pytest.mark.parametrize(
    ("name", "sets", "at_least"),
    [
        ("threshold", {"betas_threshold": _listed(300)}, 40.0),  # took 40 s of CPU
        ("fef", {"betas": _listed(200)}, 59.0),  # took 59 s with its figure
    ],
)
def test_work_estimates_count_lists_and_figures(monkeypatch, name, sets, at_least):
    study = get_study(name)
    p = resolve(study.PARAMS, sets, study=name)
    seconds, names = estimate_work(study, p, figures=True)
    assert seconds >= at_least and next(iter(sets)) in names
    monkeypatch.setenv("EPLT_WORK_LIMIT", "5")
    with pytest.raises(ParamError, match=rf"{next(iter(sets))} \(now \d+ values\)"):
        check_work(study, p, figures=True)


@pytest.mark.parametrize("name", ["thermo", "robustness", "bounds"])
def test_memory_limit_applies_to_every_study(tmp_path, capsys, monkeypatch, name):
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "1K")
    err = run_error(tmp_path, capsys, name, {})
    assert f"{name}: these parameters need about" in err and "1 KiB is available" in err
    monkeypatch.setenv("EPLT_MEMORY_LIMIT", "lots")
    err = run_error(tmp_path, capsys, name, {})
    assert "EPLT_MEMORY_LIMIT must be a size such as 2G or 500M, got 'lots'" in err
    assert not (tmp_path / "o").exists()


# --------------------------------------------- summaries in their physical ranges

#: Cheap studies (a run at tiny sizes takes about a second); bounds, ghz and twirl are
#: covered at their defaults by their own tests and by test_declared_ranges.
PROPERTY_STUDIES = ("thermo", "fef", "threshold", "esd", "speedup", "robustness")


def _tiny(study) -> dict:
    out = {}
    for p in study.PARAMS:
        if p.kind == "int" and p.low is not None:
            out[p.name] = int(p.low)
        elif p.kind in ("floats", "ints"):
            out[p.name] = tuple(p.default[:1])
    return out


def _draw_value(p) -> st.SearchStrategy:
    if p.choices:
        return st.sampled_from(p.choices)
    if p.kind == "bool":
        return st.booleans()
    lo = -1e6 if p.low is None else float(p.low)
    hi = 1e6 if p.high is None or math.isinf(p.high) else float(p.high)
    if p.kind in ("int", "ints"):
        ints = st.integers(int(lo), min(int(hi), int(lo) + 2))
        return ints.map(lambda v: (v,)) if p.kind == "ints" else ints
    floats = st.floats(lo, hi, exclude_min=p.low_open, exclude_max=p.high_open)
    if lo > 0 and hi / lo > 1e3:  # spread over the decades, not only near the top
        floats = st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0**e)
        floats = floats.filter(lambda v: _inside(p, v))
    return floats.map(lambda v: (v,)) if p.kind == "floats" else floats


def _inside(p, v) -> bool:
    try:
        p.convert([v] if p.kind in ("floats", "ints") else v)
    except ParamError:
        return False
    return True


def _flat(x, key=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _flat(v, f"{key}.{k}" if key else str(k))
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from _flat(v, f"{key}[{i}]")
    else:
        yield key, x


def _check_ranges(name, summary, study):
    for key, v in _flat(summary):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        top = key.split(".")[0].split("[")[0]
        doc = study.SUMMARY_KEYS.get(top, "")
        if math.isinf(v):
            assert "inf" in doc, (name, key, v)
            continue
        assert math.isfinite(v), (name, key, v)
        low = key.lower()
        if "negativity" in low and "error" not in low and "deviation" not in low:
            assert -1e-12 <= v <= 0.5 + 1e-12, (name, key, v)  # two qubits: (d - 1)/2
        if ("distance" in low or "lt_error" in low) and "error_" not in low:
            assert -1e-12 <= v <= 1 + 1e-12, (name, key, v)
        if low.startswith("t_") or "time" in low.split(".")[0]:
            assert v >= 0, (name, key, v)


@pytest.mark.parametrize("name", PROPERTY_STUDIES)
def test_summary_values_lie_in_their_physical_ranges(name):
    """Over the declared ranges (one or two parameters drawn, sizes at their minimum):
    negativities in [0, (d-1)/2], distances and LT errors in [0, 1], times >= 0, every
    value finite unless documented as possibly infinite; or a one-line refusal."""
    from eplt.dynamics.channels import NoEPLTError

    study = get_study(name)
    base = _tiny(study)
    varied = [p for p in study.PARAMS if p.kind in ("float", "floats") or p.choices]

    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def check(data):
        chosen = data.draw(
            st.lists(st.sampled_from(varied), min_size=1, max_size=2, unique_by=lambda p: p.name)
        )
        params = dict(base)
        for p in chosen:
            params[p.name] = data.draw(_draw_value(p), label=p.name)
        try:
            res = study.run(params, seed=0)
        except (ParamError, NoEPLTError) as exc:
            assert str(exc) and "\n" not in str(exc).strip()
            return
        _check_ranges(name, res.summary, study)

    check()


def test_ghz_refuses_rates_too_far_apart_to_propagate(tmp_path, capsys):
    # kappa = 1e-3 and flip_rate = 1e6 (both declared valid) failed "channel is not trace
    # preserving" (found by test_declared_ranges)
    err = run_error(tmp_path, capsys, "ghz", {"kappa": 1e-3, "flip_rate": 1e6, "n_max": 0})
    assert "flip_rate/kappa = 1e+09 must be at most 1e+06" in err

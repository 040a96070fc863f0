"""Result: validation, access helpers, xarray conversion and NetCDF round trip."""

import json
import math

import numpy as np
import pytest
import qutip
import xarray as xr
from eplt.dynamics.result import Result

T = 11


def make_result(*, sampled=True, states=False) -> Result:
    rng = np.random.default_rng(20240611)
    t = np.linspace(0.0, 2.0, T)
    expect = {
        "negativity": np.maximum(0.0, 0.5 - 0.3 * t),
        "marginal_distance": rng.uniform(0, 1, size=(T, 2)),
        "bipartition_negativity": rng.uniform(0, 0.5, size=(T, 3)),
    }
    stderr = {k: 0.01 * rng.uniform(size=v.shape) for k, v in expect.items()} if sampled else {}
    return Result(
        times=t,
        expect=expect,
        stderr=stderr,
        states=[qutip.maximally_mixed_dm(4)] * T if states else None,
        method="sampled" if sampled else "exact",
        params={"rate": 1.5, "stages": [{"duration": math.inf}], "dims": [2, 2], "n": np.int64(3)},
        seed=2**62 + 12345 if sampled else None,  # larger than NetCDF3's 32-bit ints
        ntraj=4000 if sampled else None,
        labels={
            "marginal_distance": ["A", "B"],
            "bipartition_negativity": ["B|rest", "C|rest", "BC|rest"],
        },
        units={"time": "1/omega", "marginal_distance": "1"},
    )


def assert_same(a: Result, b: Result):
    np.testing.assert_array_equal(a.times, b.times)  # NetCDF stores float64 exactly
    assert a.expect.keys() == b.expect.keys()
    for k in a.expect:
        np.testing.assert_array_equal(a.expect[k], b.expect[k])
    assert a.stderr.keys() == b.stderr.keys()
    for k in a.stderr:
        np.testing.assert_array_equal(a.stderr[k], b.stderr[k])
    assert (a.method, a.seed, a.ntraj) == (b.method, b.seed, b.ntraj)
    assert a.labels == b.labels and a.units == b.units
    assert json.dumps(a.params, default=int, sort_keys=True) == json.dumps(b.params, sort_keys=True)


# ----------------------------------------------------------------------------- validation
def test_expect_first_axis_must_match_times():
    with pytest.raises(ValueError, match=r"expect\['negativity'\].*T = len\(times\) = 3"):
        Result(times=[0.0, 1.0, 2.0], expect={"negativity": np.zeros(4)})


def test_expect_must_be_1d_or_2d():
    with pytest.raises(ValueError, match="shape"):
        Result(times=[0.0, 1.0], expect={"x": np.zeros((2, 2, 2))})


def test_stderr_key_must_be_in_expect():
    with pytest.raises(ValueError, match=r"stderr\['purity'\] has no matching expect"):
        Result(times=[0.0, 1.0], expect={"negativity": np.zeros(2)}, stderr={"purity": np.zeros(2)})


def test_stderr_shape_must_match():
    with pytest.raises(ValueError, match=r"stderr\['d'\] has shape \(2,\)"):
        Result(times=[0.0, 1.0], expect={"d": np.zeros((2, 2))}, stderr={"d": np.zeros(2)})


def test_labels_must_match_trailing_axis():
    with pytest.raises(ValueError, match=r"labels\['d'\] has 3 names"):
        Result(times=[0.0, 1.0], expect={"d": np.zeros((2, 2))}, labels={"d": ["A", "B", "C"]})


def test_times_must_increase():
    with pytest.raises(ValueError, match="strictly increasing"):
        Result(times=[0.0, 1.0, 1.0], expect={})


def test_states_length_checked():
    with pytest.raises(ValueError, match="states"):
        Result(times=[0.0, 1.0], expect={}, states=[qutip.qeye(2)])


def test_frozen():
    r = make_result()
    with pytest.raises(AttributeError):
        r.method = "other"


# ----------------------------------------------------------------------------- access
def test_final_and_at():
    r = make_result()
    assert r.final("negativity") == pytest.approx(0.0)
    np.testing.assert_array_equal(r.final("marginal_distance"), r.expect["marginal_distance"][-1])
    # N(t) = 0.5 - 0.3 t is linear up to t = 5/3, so interpolation is exact there (round-off).
    assert r.at("negativity", 0.73) == pytest.approx(0.5 - 0.3 * 0.73, abs=1e-14)
    mid = r.at("marginal_distance", 0.1)  # halfway between grid points 0.0 and 0.2
    np.testing.assert_allclose(mid, r.expect["marginal_distance"][:2].mean(axis=0), atol=1e-15)
    with pytest.raises(ValueError, match="outside the time grid"):
        r.at("negativity", 2.5)
    with pytest.raises(KeyError, match="no observable 'purity'"):
        r.final("purity")


def test_str_lists_everything():
    s = str(make_result())
    for piece in (
        "sampled",
        "4000",
        "negativity",
        "marginal_distance",
        "A=",
        "BC|rest",
        "±",
        "11 points",
    ):
        assert piece in s
    assert "±" not in str(make_result(sampled=False))


# ----------------------------------------------------------------------------- xarray / files
def test_to_xarray_layout():
    ds = make_result().to_xarray()
    assert ds["negativity"].dims == ("time",)
    assert ds["marginal_distance"].dims == ("time", "marginal_distance_index")
    assert list(ds["marginal_distance_index"].values) == ["A", "B"]
    assert "negativity_stderr" in ds and ds["negativity_stderr"].dims == ("time",)
    assert ds["time"].attrs["units"] == "1/omega"
    assert ds["marginal_distance"].attrs["units"] == "1"
    assert ds.attrs["method"] == "sampled" and ds.attrs["ntraj"] == 4000
    assert json.loads(ds.attrs["params"])["rate"] == 1.5


@pytest.mark.parametrize("sampled", [True, False])
def test_xarray_round_trip(sampled):
    r = make_result(sampled=sampled)
    assert_same(r, Result.from_xarray(r.to_xarray()))


@pytest.mark.parametrize("sampled", [True, False])
def test_save_load_round_trip(tmp_path, sampled):
    r = make_result(sampled=sampled, states=True)
    path = r.save(tmp_path / "run.nc")
    back = Result.load(path)
    assert_same(r, back)
    assert back.states is None  # states are documented as not saved
    with xr.open_dataset(path, engine="scipy") as ds:  # a plain NetCDF file for xarray
        assert ds.attrs["method"] == r.method


def test_refuses_to_overwrite(tmp_path):
    r = make_result()
    path = tmp_path / "run.nc"
    r.save(path)
    before = path.read_bytes()
    other = make_result(sampled=False)
    with pytest.raises(FileExistsError, match=r"run\.nc"):
        other.save(path)
    assert path.read_bytes() == before
    other.save(path, overwrite=True)
    assert Result.load(path).method == "exact"


def test_atomic_write_leaves_no_temp_files(tmp_path):
    r = make_result()
    r.save(tmp_path / "a.nc")
    r.save(tmp_path / "a.nc", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nc"]


def test_failed_write_leaves_target_and_directory_clean(tmp_path, monkeypatch):
    # The writer dies half-way through: the existing file must be untouched and no
    # temporary file may remain.
    r = make_result()
    path = tmp_path / "run.nc"
    r.save(path)
    before = path.read_bytes()

    def broken_to_netcdf(self, target, *args, **kwargs):
        with open(target, "wb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken_to_netcdf)
    with pytest.raises(OSError, match="disk full"):
        r.save(path, overwrite=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]


def test_unserialisable_params_raise(tmp_path):
    r = Result(times=[0.0, 1.0], expect={"x": np.zeros(2)}, params={"bad": object()})
    with pytest.raises(TypeError, match="JSON"):
        r.save(tmp_path / "bad.nc")
    assert list(tmp_path.iterdir()) == []


def test_complex_observables_round_trip(tmp_path):
    """<a> is complex: saved with a (real, imag) axis (NetCDF3 has no complex type) and
    read back exactly, for (T,) and labelled (T, k) entries."""
    c2 = np.array([[1j, 2.0], [0.5 - 1j, -3j]])
    r = Result(
        times=[0.0, 1.0],
        expect={"c": np.array([1j, 2.0]), "c2": c2, "x": np.array([1.0, 2.0])},
        labels={"c2": ["A", "B"]},
        units={"c": "1"},
    )
    back = Result.load(r.save(tmp_path / "c.nc"))
    assert np.iscomplexobj(back.expect["c"]) and not np.iscomplexobj(back.expect["x"])
    np.testing.assert_array_equal(back.expect["c"], r.expect["c"])
    np.testing.assert_array_equal(back.expect["c2"], c2)
    assert back.labels == {"c2": ["A", "B"]} and back.units == {"c": "1"}
    bad = Result(times=[0.0, 1.0], expect={"c": np.ones(2)}, stderr={"c": np.ones(2) * 1j})
    with pytest.raises(TypeError, match="standard errors are real"):
        bad.save(tmp_path / "bad.nc")


def test_reads_a_study_dataset_and_asks_for_a_selection(tmp_path):
    """A study's data.nc (scenario x time x party, plus grids without time) loads as a
    Result once all but one extra dimension is selected; grids are listed, not dropped."""
    t = np.linspace(0, 1, 4)
    md = np.arange(2 * 4 * 2, dtype=float).reshape(2, 4, 2)
    ds = xr.Dataset(
        {
            "marginal_distance": (("scenario", "time", "party"), md, {"units": "1"}),
            "negativity": (("scenario", "time"), md[:, :, 0]),
            "t_star_beta": (("beta",), np.ones(3)),
        },
        coords={
            "scenario": ("scenario", np.array(["shared", "independent"], dtype=object)),
            "time": ("time", t, {"units": "1/r"}),
            "party": ("party", np.array(["A", "B"], dtype=object)),
            "beta": ("beta", np.arange(3.0)),
        },
        attrs={"study": "speedup", "input": "phi_plus"},
    )
    path = tmp_path / "data.nc"
    ds.to_netcdf(path, engine="scipy")
    with pytest.raises(ValueError, match=r"select all but one.*'scenario'"):
        Result.load(path)
    r = Result.load(path, sel={"scenario": "independent"})
    np.testing.assert_array_equal(r.expect["marginal_distance"], md[1])
    assert r.labels["marginal_distance"] == ["A", "B"]
    np.testing.assert_array_equal(r.expect[1], md[1, :, 0])
    assert r.units == {"time": "1/r", "marginal_distance": "1"}
    assert r.params["study"] == "speedup" and r.params["other_variables"] == ["t_star_beta"]
    with pytest.raises(ValueError, match="does not match"):
        Result.load(path, sel={"scenario": "nope"})


def test_list_form_expect_survives_pickle_and_deepcopy():
    # review: the read-only list refused the list protocol's refill through extend, so a
    # Result could not come back from a process pool or a Dask worker
    import copy
    import pickle

    import qutip
    from eplt.baths import Environment, lindblad
    from eplt.dynamics import evolve

    env = Environment((2,), [lindblad(0, qutip.sigmaz(), [0.5 * qutip.destroy(2)])])
    res = evolve(qutip.basis(2, 1), env, [0.0, 1.0], e_ops=[qutip.num(2), qutip.sigmax()])
    for other in (pickle.loads(pickle.dumps(res)), copy.deepcopy(res)):
        assert other.expect.keys() == ["e0", "e1"]
        np.testing.assert_array_equal(other.expect[0], res.expect[0])
        np.testing.assert_array_equal(other.expect["e1"], res.expect["e1"])
        with pytest.raises(TypeError, match="read-only"):
            other.expect.append(1)

r"""The :class:`Result` of :func:`eplt.dynamics.evolve`: time series, errors, provenance.

Every propagation method returns the same object: the output times, one array per
tracked observable (``expect``), standard errors for the sampled method (``stderr``),
optionally the averaged states, and what produced them (``method``, ``params``, ``seed``,
``ntraj``). A result converts to a labelled :class:`xarray.Dataset` and is saved as
NetCDF (never pickle); the states are not saved.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import qutip
import xarray as xr

__all__ = ["Result"]

#: Attribute written by :meth:`Result.to_xarray` to recognise eplt datasets.
_FORMAT = "eplt.Result/1"


def _json_default(obj):
    """Make numpy scalars/arrays JSON-able; anything else is an error (never dropped)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, complex):
        return {"real": obj.real, "imag": obj.imag}
    raise TypeError(f"Result.params must be JSON-able; cannot encode {type(obj).__name__}: {obj!r}")


class _NoObservable(KeyError, IndexError):
    """No observable at that name or position (a KeyError and, for positions, an
    IndexError as a list raises)."""


class _Expect(dict):
    """A dict keyed by observable name that also accepts a position, ``expect[0]``, as
    qutip's ``result.expect[i]`` (the order of ``e_ops``)."""

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            keys = list(self)
            if not -len(keys) <= key < len(keys):
                raise _NoObservable(f"no observable at position {key} (there are {len(keys)})")
            key = keys[key]
        return super().__getitem__(key)


class _ExpectList(list):
    """``Result.expect`` when ``e_ops`` was a list: as qutip's, a list of arrays in the
    order of ``e_ops`` (iterating gives the arrays, ``expect[i]``, ``len``,
    ``numpy.array(expect)``), and still keyed by name (``expect["e0"]``, ``keys()``,
    ``items()``, ``"e0" in expect``). Read-only."""

    def __init__(self, items):
        items = dict(items)
        super().__init__(items.values())
        self._names = list(items)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self._names:
                raise _NoObservable(key)
            key = self._names.index(key)
        elif isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if not -len(self) <= key < len(self):
                raise _NoObservable(f"no observable at position {key} (there are {len(self)})")
        return list.__getitem__(self, key)

    def __contains__(self, key) -> bool:
        if isinstance(key, str):
            return key in self._names
        return any(v is key for v in self)

    def keys(self) -> list[str]:
        return list(self._names)

    def values(self) -> list[np.ndarray]:
        return list(self)

    def items(self) -> list[tuple[str, np.ndarray]]:
        return list(zip(self._names, self, strict=True))

    def get(self, key, default=None):
        return self[key] if key in self._names else default

    def __reduce__(self):
        # pickle and copy rebuild from the items (the default list protocol refills the
        # list through extend, which is read-only here)
        return (_ExpectList, (self.items(),))

    def __repr__(self) -> str:
        return "[" + ", ".join(f"{k}: {v!r}" for k, v in self.items()) + "]"

    def _read_only(self, *args, **kwargs):
        raise TypeError("Result.expect is read-only")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only


@dataclass(frozen=True, eq=False)
class Result:
    r"""Time series returned by :func:`eplt.dynamics.evolve` (every method).

    Parameters
    ----------
    times : ndarray, shape (T,)
        Strictly increasing output times.
    expect : dict[str, ndarray], or list of ndarray
        Observable name -> values, shape ``(T,)`` or ``(T, k)`` (e.g. ``"negativity"``
        ``(T,)``, ``"marginal_distance"`` ``(T, n_parties)``). Also indexed by position,
        ``expect[0]``, in the order of ``e_ops`` (as qutip's ``result.expect[i]``). Given
        as a list (or by :func:`~eplt.dynamics.evolve` when ``e_ops`` was a list), it
        behaves as qutip's ``result.expect``, a list of arrays (iterating gives the arrays;
        ``len``; ``numpy.array``), and names still work (``expect["e0"]``, ``keys()``,
        ``items()``); a list given here is named ``"e0"``, ``"e1"``, ...
    stderr : dict[str, ndarray]
        Standard errors of the sampled method, keys a subset of ``expect`` with the same
        shapes; empty for exact methods.
    states : list of Qobj, optional
        The (averaged) joint states at ``times``, only when asked for. Not saved by
        :meth:`save` / :meth:`to_xarray`.
    method : str
        Name of the propagation method (``"exact"``, ``"segment"``, ``"sampled"``).
    params : dict
        JSON-able description of the run (stored as a JSON string in files).
    seed : int, optional
        Root seed of the sampled method.
    ntraj : int, optional
        Number of realizations of the sampled method.
    labels : dict[str, list[str]]
        Names along the trailing axis of 2-D entries, e.g. ``{"marginal_distance": ["A", "B"]}``.
    units : dict[str, str]
        Optional units per observable; the key ``"time"`` gives the unit of ``times``.

    Notes
    -----
    The dataclass is frozen, but its arrays and dicts are not copied defensively: treat
    them as read-only. Equality is identity (arrays have no single truth value); compare
    fields with :func:`numpy.testing.assert_allclose`.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 3)
    >>> r = Result(times=t, expect={"negativity": 0.5 * (1 - t)}, method="exact")
    >>> float(r.final("negativity")), float(r.at("negativity", 0.25))
    (0.0, 0.375)
    """

    times: np.ndarray
    expect: dict[str, np.ndarray]
    stderr: dict[str, np.ndarray] = field(default_factory=dict)
    states: list[qutip.Qobj] | None = None
    method: str = ""
    params: dict = field(default_factory=dict)
    seed: int | None = None
    ntraj: int | None = None
    labels: dict[str, list[str]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        times = np.asarray(self.times, dtype=float)
        if times.ndim != 1 or times.size == 0:
            raise ValueError(f"times must be a non-empty 1-D array, got shape {times.shape}")
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise ValueError("times must be finite and strictly increasing")
        T = times.size
        as_list = isinstance(self.expect, (list, tuple))
        if isinstance(self.expect, _ExpectList):
            items = self.expect.items()
        elif as_list:
            items = [(f"e{i}", v) for i, v in enumerate(self.expect)]
        else:
            items = dict(self.expect).items()
        expect = {str(k): np.asarray(v) for k, v in items}
        if len(expect) != len(items):
            raise ValueError(f"expect names must be distinct, got {[k for k, _ in items]}")
        for k, v in expect.items():
            if v.ndim not in (1, 2) or v.shape[0] != T:
                raise ValueError(
                    f"expect[{k!r}] must have shape (T,) or (T, k), T = len(times) = {T}; "
                    f"got {v.shape}"
                )
        stderr = {str(k): np.asarray(v) for k, v in dict(self.stderr).items()}
        for k, v in stderr.items():
            if k not in expect:
                raise ValueError(
                    f"stderr[{k!r}] has no matching expect entry (expect keys: {sorted(expect)})"
                )
            if v.shape != expect[k].shape:
                raise ValueError(
                    f"stderr[{k!r}] has shape {v.shape}, expect[{k!r}] has {expect[k].shape}"
                )
        labels = {str(k): [str(s) for s in v] for k, v in dict(self.labels).items()}
        for k, lab in labels.items():
            if k not in expect:
                raise ValueError(
                    f"labels[{k!r}] has no matching expect entry (expect keys: {sorted(expect)})"
                )
            if expect[k].ndim != 2 or expect[k].shape[1] != len(lab):
                raise ValueError(
                    f"labels[{k!r}] has {len(lab)} names, expect[{k!r}] has shape {expect[k].shape}"
                )
            if len(set(lab)) != len(lab):
                raise ValueError(f"labels[{k!r}] must be distinct, got {lab}")
        if self.states is not None and len(self.states) != T:
            raise ValueError(f"states has {len(self.states)} entries, times has {T}")
        if self.seed is not None and not isinstance(self.seed, (int, np.integer)):
            raise TypeError(f"seed must be an int or None, got {type(self.seed).__name__}")
        if self.ntraj is not None and (
            not isinstance(self.ntraj, (int, np.integer)) or self.ntraj < 1
        ):
            raise ValueError(f"ntraj must be an integer >= 1 or None, got {self.ntraj!r}")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "expect", _ExpectList(expect) if as_list else _Expect(expect))
        object.__setattr__(self, "stderr", _Expect(stderr))
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "units", {str(k): str(v) for k, v in dict(self.units).items()})
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "seed", None if self.seed is None else int(self.seed))
        object.__setattr__(self, "ntraj", None if self.ntraj is None else int(self.ntraj))

    # ------------------------------------------------------------------ access
    def _get(self, key: str) -> np.ndarray:
        try:
            return self.expect[key]
        except KeyError:
            raise KeyError(
                f"no observable {key!r} in this result (have: {', '.join(self.expect.keys())})"
            ) from None

    @property
    def final_state(self) -> qutip.Qobj:
        """The (averaged) joint state at the last time, ``states[-1]``.

        Only when states were stored (``evolve(..., store_states=True)``); otherwise an
        AttributeError says so. States are not saved to files.
        """
        if self.states is None:
            raise AttributeError(
                "final_state: this result has no states; run evolve(..., store_states=True)"
            )
        return self.states[-1]

    def final(self, key: str):
        """Value of observable ``key`` at the last time (scalar, or array of shape (k,))."""
        return self._get(key)[-1]

    def at(self, key: str, t: float):
        """Observable ``key`` at time ``t`` by linear interpolation between grid points.

        Raises ValueError when ``t`` lies outside ``[times[0], times[-1]]``.
        """
        v = self._get(key)
        t = float(t)
        if not (self.times[0] <= t <= self.times[-1]):
            raise ValueError(
                f"t = {t!r} is outside the time grid [{self.times[0]!r}, {self.times[-1]!r}]"
            )
        if v.ndim == 1:
            return np.interp(t, self.times, v)
        return np.array([np.interp(t, self.times, v[:, j]) for j in range(v.shape[1])])

    def __str__(self) -> str:
        t = self.times
        tu = f" {self.units['time']}" if "time" in self.units else ""
        lines = [
            f"Result(method={self.method!r}, ntraj={self.ntraj}, seed={self.seed})",
            f"  times: {t[0]:.6g} .. {t[-1]:.6g}{tu} ({t.size} points)",
        ]
        width = max((len(k) for k in self.expect.keys()), default=0)
        for k, v in self.expect.items():
            err = self.stderr.get(k)
            unit = f" {self.units[k]}" if k in self.units else ""
            if v.ndim == 1:
                vals = [_fmt(v[-1], None if err is None else err[-1])]
                names = [""]
            else:
                names = [f"{n}=" for n in self.labels.get(k, [str(j) for j in range(v.shape[1])])]
                vals = [
                    _fmt(v[-1, j], None if err is None else err[-1, j]) for j in range(v.shape[1])
                ]
            body = ", ".join(n + s for n, s in zip(names, vals, strict=True))
            lines.append(f"  {k:<{width}}  final: {body}{unit}")
        if self.states is not None:
            lines.append(f"  states: {len(self.states)} stored")
        return "\n".join(lines)

    # ------------------------------------------------------------------ xarray / files
    def to_xarray(self) -> xr.Dataset:
        """Labelled dataset: one variable per observable (and ``{key}_stderr``) over ``time``.

        2-D entries get a second dimension ``{key}_index`` whose coordinate holds the
        labels (integers 0..k-1 when the result has none). Units go into each variable's
        ``units`` attribute (``"time"`` for the time coordinate). Dataset attributes:
        ``method``, ``params`` (JSON string), ``seed`` and ``ntraj`` (absent when None),
        ``expect_list`` (when ``expect`` is the list form: its names in order, JSON, so that
        it reads back so).
        States are not included.
        """
        coords: dict = {
            "time": (
                "time",
                self.times,
                {"units": self.units["time"]} if "time" in self.units else {},
            )
        }
        data_vars = {}
        for k, v in self.expect.items():
            if k.endswith("_stderr") or k == "time" or k.endswith("_index"):
                raise ValueError(f"observable name {k!r} clashes with the dataset naming scheme")
            attrs = {"units": self.units[k]} if k in self.units else {}
            if v.ndim == 1:
                dims: tuple[str, ...] = ("time",)
            else:
                dim = f"{k}_index"
                dims = ("time", dim)
                coords[dim] = (
                    dim,
                    np.array(self.labels[k], dtype=object)
                    if k in self.labels
                    else np.arange(v.shape[1]),
                )
            if np.iscomplexobj(v):  # NetCDF3 has no complex type: a trailing (real, imag) axis
                coords["complex"] = ("complex", np.array(["real", "imag"], dtype=object))
                data_vars[k] = (
                    (*dims, "complex"),
                    np.stack([v.real, v.imag], axis=-1),
                    {**attrs, "complex": 1},
                )
            else:
                data_vars[k] = (dims, v, attrs)
            if k in self.stderr:
                data_vars[f"{k}_stderr"] = (dims, self.stderr[k], {**attrs, "stderr_of": k})
        attrs = {
            "format": _FORMAT,
            "method": self.method,
            "params": json.dumps(self.params, default=_json_default, sort_keys=True),
        }
        if isinstance(self.expect, _ExpectList):
            attrs["expect_list"] = json.dumps(self.expect.keys())
        if self.seed is not None:
            attrs["seed"] = self.seed
        if self.ntraj is not None:
            attrs["ntraj"] = self.ntraj
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    @classmethod
    def from_xarray(cls, ds: xr.Dataset, *, sel: dict | None = None) -> Result:
        """Inverse of :meth:`to_xarray` (``states`` is None); also reads study data.

        A dataset written by a study (``data.nc`` of ``eplt run``) is read as well: every
        data variable with a ``time`` dimension becomes an ``expect`` entry, ``(T,)``, or
        ``(T, k)`` when it has one more dimension (whose coordinate values become the
        labels, e.g. the scenarios). ``sel`` (a mapping for :meth:`xarray.Dataset.sel`)
        picks one value of further dimensions first, e.g. ``sel={"scenario": "gad"}``.
        Variables without a time axis (grids, closed forms) are not time series: their
        names are listed in ``params["other_variables"]`` (read them with xarray). The
        study's attributes go into ``params``.
        """
        if sel:
            try:
                ds = ds.sel(sel)
            except (KeyError, ValueError) as err:
                raise ValueError(f"sel={sel!r} does not match the dataset ({err})") from None
        if "time" not in ds.coords:
            raise ValueError("dataset has no 'time' coordinate; not a Result or study time series")
        if ds.attrs.get("format") != _FORMAT:
            return cls._from_study(ds)
        expect, stderr, labels, units = {}, {}, {}, {}
        if "units" in ds["time"].attrs:
            units["time"] = str(ds["time"].attrs["units"])
        for name, var in ds.data_vars.items():
            name = str(name)
            if "stderr_of" in var.attrs:
                stderr[str(var.attrs["stderr_of"])] = np.asarray(var.values)
                continue
            if var.attrs.get("complex") == 1 and var.dims[-1] == "complex":
                var = var.sel(complex="real") + 1j * var.sel(complex="imag")
                var.attrs = {k: v for k, v in ds[name].attrs.items() if k != "complex"}
            expect[name] = np.asarray(var.values)
            if "units" in var.attrs:
                units[name] = str(var.attrs["units"])
            if var.ndim == 2:
                idx = ds[var.dims[1]].values
                if idx.dtype.kind in "OUS":
                    labels[name] = [str(s) for s in idx]
        seed = ds.attrs.get("seed")
        ntraj = ds.attrs.get("ntraj")
        order = json.loads(ds.attrs["expect_list"]) if "expect_list" in ds.attrs else None
        return cls(
            times=np.asarray(ds["time"].values, dtype=float),
            expect=expect if order is None else _ExpectList({k: expect[k] for k in order}),
            stderr=stderr,
            states=None,
            method=str(ds.attrs.get("method", "")),
            params=json.loads(ds.attrs.get("params", "{}")),
            seed=None if seed is None else int(seed),
            ntraj=None if ntraj is None else int(ntraj),
            labels=labels,
            units=units,
        )

    @classmethod
    def _from_study(cls, ds: xr.Dataset) -> Result:
        expect, stderr, labels, units, other = {}, {}, {}, {}, []
        if "units" in ds["time"].attrs:
            units["time"] = str(ds["time"].attrs["units"])
        for name, var in ds.data_vars.items():
            name = str(name)
            if "time" not in var.dims:
                other.append(name)
                continue
            extra = [d for d in var.dims if d != "time"]
            if len(extra) > 1:
                choices = {d: [_plain(v) for v in ds[d].values] for d in extra if d in ds.coords}
                raise ValueError(
                    f"data variable {name!r} has dimensions {tuple(var.dims)}; select all but "
                    f"one besides time with sel=..., e.g. sel={{{extra[0]!r}: ...}} "
                    f"(values: {choices})"
                )
            v = var.transpose("time", *extra)
            target = stderr if str(var.attrs.get("stderr_of", "")) else expect
            key = str(var.attrs.get("stderr_of", name))
            target[key] = np.asarray(v.values)
            if extra and extra[0] in ds.coords and target is expect:
                labels[key] = [str(_plain(x)) for x in ds[extra[0]].values]
            if "units" in var.attrs and target is expect:
                units[key] = str(var.attrs["units"])
        params = {str(k): _maybe_json(v) for k, v in ds.attrs.items()}
        params["other_variables"] = other
        return cls(
            times=np.asarray(ds["time"].values, dtype=float),
            expect=expect,
            stderr={k: v for k, v in stderr.items() if k in expect},
            method=str(ds.attrs.get("method", "")),
            params=params,
            labels=labels,
            units=units,
        )

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the result as NetCDF (through xarray, ``engine="scipy"``, NetCDF3).

        The file is written to a temporary file in the same directory and moved into
        place with :func:`os.replace`, so ``path`` never holds a partial file. States are
        not saved. ``seed`` and ``ntraj`` are stored as decimal strings (NetCDF3 has no
        64-bit integers). Complex observables (NetCDF3 has no complex type) are stored
        with a trailing ``complex`` axis (``real``, ``imag``) and read back as complex.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        for k in self.stderr:
            if np.iscomplexobj(self.stderr[k]):
                raise TypeError(f"stderr of {k!r} is complex; standard errors are real")
        ds = self.to_xarray()
        for key in ("seed", "ntraj"):
            if key in ds.attrs:
                ds.attrs[key] = str(ds.attrs[key])
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            ds.to_netcdf(tmp, engine="scipy")
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        return path

    @classmethod
    def load(cls, path, *, sel: dict | None = None) -> Result:
        """Read a result written by :meth:`save`, or the time series of a study's
        ``data.nc`` (see :meth:`from_xarray`; ``sel`` picks e.g. one scenario).
        ``states`` is None.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> r = Result(times=np.arange(3.0), expect={"purity": np.ones(3)}, method="exact")
        >>> with tempfile.TemporaryDirectory() as d:
        ...     Result.load(r.save(os.path.join(d, "r.nc"))).expect[0].tolist()
        [1.0, 1.0, 1.0]
        """
        try:
            with xr.open_dataset(path, engine="scipy") as ds:
                data = ds.load()
        except (ValueError, TypeError, OSError, IndexError, KeyError, EOFError) as err:
            if isinstance(err, FileNotFoundError):
                raise
            raise ValueError(
                f"cannot read {str(path)!r} as a NetCDF result (empty, truncated or not"
                f" written by Result.save or a study): {err}"
            ) from None
        return cls.from_xarray(data, sel=sel)


def _plain(x):
    """A numpy scalar as a plain Python value (for messages and labels)."""
    return x.item() if isinstance(x, np.generic) else x


def _maybe_json(v):
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return _plain(v)


def _fmt(value, err) -> str:
    value = complex(value) if np.iscomplexobj(value) else float(value)
    s = f"{value:.6g}"
    if err is not None:
        e = float(err)
        s += " ± nan" if math.isnan(e) else f" ± {e:.2g}"
    return s

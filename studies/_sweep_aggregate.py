"""Aggregation of a sweep's checkpoints into one dataset over the grid
(:func:`aggregate`, used by :mod:`eplt.studies.sweep`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._checkpoints import point_file, read_checkpoint

__all__ = ["aggregate"]


def _flatten(d: Mapping, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


#: Variables every sweep dataset has besides the study's summary values.
_RESERVED = ("status", "error", "seconds")


def aggregate(out: Path, grid) -> xr.Dataset:
    """Collect the point files of ``out`` into a dataset over the grid dimensions.

    Every numeric summary value becomes a variable over the grid. A summary key that is
    also a grid parameter (a study echoing its input) is dropped when it equals the
    coordinate at every point, else stored as ``summary.KEY``; so is a key named like
    ``status``, ``error`` or ``seconds``. Only sound checkpoints of this eplt version
    count (:func:`eplt.studies._checkpoints.read_checkpoint`)."""
    shape = grid.shape
    records = {}
    for idx, _ in grid.points():
        rec = read_checkpoint(point_file(out, idx), {"index": list(idx)}, warn=False)
        if rec is not None:
            records[idx] = rec
    flat = {idx: _flatten(rec["summary"]) for idx, rec in records.items()}
    infinities = {"inf": math.inf, "-inf": -math.inf}  # how jsonable writes them

    def number(v) -> float | None:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        return infinities.get(v) if isinstance(v, str) else None

    keys: dict[str, None] = {}
    for summary in flat.values():
        for k, v in summary.items():
            if v is None or number(v) is not None:
                keys.setdefault(k, None)
    dims = grid.keys
    coord_values = dict(grid.axes)
    data = {}
    for k in keys:
        arr = np.full(shape, np.nan)
        for idx, summary in flat.items():
            v = number(summary.get(k))
            if v is not None:
                arr[idx] = v
        if k in coord_values:
            # the study echoes a grid parameter: the coordinate already holds it; kept
            # under another name only where it differs (e.g. a value the study rounded)
            axis = dims.index(k)
            try:
                want = np.asarray(coord_values[k], dtype=float)
            except (TypeError, ValueError):  # a text axis echoed as a number: keep both
                want = None
            if want is not None:
                want = want.reshape([-1 if a == axis else 1 for a in range(len(dims))])
                known = ~np.isnan(arr)
                if np.array_equal(arr[known], np.broadcast_to(want, shape)[known]):
                    continue
        name = k if k not in coord_values and k not in _RESERVED else f"summary.{k}"
        data[name] = (dims, arr)
    status = np.full(shape, "missing", dtype=object)
    error = np.full(shape, "", dtype=object)
    seconds = np.full(shape, np.nan)
    for idx, rec in records.items():
        status[idx], error[idx], seconds[idx] = (
            rec["status"],
            rec["error"],
            rec.get("seconds", np.nan),
        )
    data["status"] = (dims, status.astype(str))
    data["error"] = (dims, error.astype(str))
    data["seconds"] = (dims, seconds, {"units": "s", "long_name": "wall time of the point"})
    coords = {k: (k, np.asarray(v)) for k, v in grid.axes}
    return xr.Dataset(data, coords=coords)

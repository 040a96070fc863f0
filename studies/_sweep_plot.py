"""The summary figure of a parameter sweep (:func:`sweep_figures`), used by
:mod:`eplt.studies.sweep` after aggregating the points."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = ["sweep_figures"]


def sweep_figures(ds: xr.Dataset, key: str, params: Sequence = ()) -> dict:
    """Summary figure of ``key`` over the grid.

    One grid axis: a curve. Two: a family of curves over the longer axis, one per value
    of the shorter axis when it has at most six values, else a heat map. More: a heat
    map of the first two axes at the first value of the others. Axes spanning two decades
    or more are logarithmic; labels show the symbols and units declared by the study's
    ``params`` in mathtext (:func:`eplt.studies.style.param_label`).
    """
    from . import style

    declared = {p.name: p for p in params}

    def label(dim: str) -> str:
        return style.param_label(declared[dim]) if dim in declared else dim

    def numeric(dim: str) -> bool:
        return ds[dim].dtype.kind in "iuf"

    def fmt(v) -> str:
        return f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v)

    def coords(dim: str) -> np.ndarray:
        """Positions on the axis: the values, or 0, 1, ... for text values."""
        return ds[dim].values if numeric(dim) else np.arange(ds.sizes[dim])

    def scale(ax, which: str, dim: str) -> None:
        if not numeric(dim):
            getattr(ax, f"set_{which}ticks")(coords(dim), [str(v) for v in ds[dim].values])
            return
        v = np.asarray(ds[dim].values, dtype=float)
        if v.size > 1 and np.all(v > 0) and v.max() / v.min() >= 100:
            getattr(ax, f"set_{which}scale")("log")

    def heat_map(ax, x: str, y: str, values) -> None:
        mesh = ax.pcolormesh(coords(x), coords(y), values, shading="nearest")
        fig.colorbar(mesh, ax=ax, label=key)
        ax.set_xlabel(label(x))
        ax.set_ylabel(label(y))
        scale(ax, "x", x)
        scale(ax, "y", y)

    with style.style():
        dims = list(ds[key].dims)
        fig, axes = style.figure(1, 1, width=style.COLUMN, height=2.5)
        ax = axes[0, 0]
        da = ds[key]
        if len(dims) == 1:
            ax.plot(coords(dims[0]), da.values, "o-", ms=3)
            ax.set_xlabel(label(dims[0]))
            ax.set_ylabel(key)
            scale(ax, "x", dims[0])
        elif len(dims) == 2:
            fam, x = sorted(dims, key=lambda d: ds.sizes[d])
            if ds.sizes[fam] <= 6:
                # distinct markers, line styles and shrinking marker sizes keep curves
                # that coincide (e.g. a parameter the result does not depend on) visible
                for i, v in enumerate(ds[fam].values):
                    ax.plot(
                        coords(x),
                        da.sel({fam: v}).transpose(x).values,
                        marker="osD^vP"[i % 6],
                        ls=("-", "--", ":", "-.")[i % 4],
                        ms=5 - 0.6 * i,
                        mfc="none" if i % 2 else None,
                        color=style.COLORS[i % len(style.COLORS)],
                        label=fmt(v),
                    )
                ax.legend(title=label(fam))
                ax.set_xlabel(label(x))
                ax.set_ylabel(key)
                scale(ax, "x", x)
            else:
                heat_map(ax, dims[1], dims[0], da.transpose(dims[0], dims[1]).values)
        else:
            rest = {d: 0 for d in dims[2:]}
            heat_map(ax, dims[1], dims[0], da.isel(rest).transpose(dims[0], dims[1]).values)
            ax.set_title(", ".join(f"{d}={fmt(ds[d].values[0])}" for d in rest), loc="left")
        return {f"sweep_{key.replace('.', '_')}": fig}

r"""
Reading data files with xarray and making paper figures
=======================================================

Every ``eplt run`` writes a folder: ``data.nc`` (labelled arrays, NetCDF3 through
xarray, units in each variable's attributes), ``summary.json`` (headline numbers; the
keys are listed by ``eplt describe NAME``), ``metadata.json`` (parameters, seed, package
versions, git revision) and the figures as PNG and PDF. This page runs the sudden-death
study from the command line, reads what it wrote and redraws a figure for a paper with
the shared style of :mod:`eplt.studies.style`.
"""

# %%
# Run a study
# -----------
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

out = Path(tempfile.mkdtemp(prefix="eplt-data-")) / "esd"
cmd = [sys.executable, "-m", "eplt"] + shlex.split(
    "run esd --set n_nbar=12 --quiet --format png --out " + shlex.quote(str(out))
)
print("$ eplt " + " ".join(cmd[3:]))
subprocess.run(cmd, check=True)
print(sorted(p.name for p in out.iterdir()))

# %%
# The labelled data
# -----------------
import xarray as xr

ds = xr.open_dataset(out / "data.nc")
print(ds)

# %%
# Variables carry their units; select by label, not by position:
neg = ds["negativity"]
print(neg.dims, {k: v for k, v in neg.attrs.items() if k in ("units", "long_name")})
print(neg.sel(scenario="reset_shared").isel(time=slice(0, 5)).values)

# %%
# Headline numbers and provenance
# -------------------------------
summary = json.loads((out / "summary.json").read_text())
meta = json.loads((out / "metadata.json").read_text())
print("t_esd:", summary["t_esd"])
print("closed form:", summary["t_esd_closed_form"])
print("parameters:", meta["params"])
print("seed:", meta["seed"], "| packages:", sorted(meta.get("versions", {})))

# %%
# A figure for a paper
# --------------------
# :func:`eplt.studies.style.figure` makes a one-column (3.4 in) figure with the shared style:
# colour-blind-safe palette, sizes for a two-column journal. Save it inside
# ``with style.style():`` (the output settings: dpi, tight bounding box, embedded fonts),
# as PDF for the paper and PNG for slides.
import matplotlib.pyplot as plt
from eplt.studies import style

fig, axes = style.figure(width=style.COLUMN, height=2.3)  # axes: a 1 x 1 array
ax = axes[0, 0]
t = ds["time"]
for k, sc in enumerate(ds["scenario"].values):
    ax.plot(t, neg.sel(scenario=sc), color=style.COLORS[k], ls=style.LINESTYLES[k], label=str(sc))
    t_d = summary["t_esd"].get(str(sc))
    if t_d is not None:
        style.mark_time(ax, t_d, color=style.COLORS[k])
ax.set_xlabel(f"time ({t.attrs.get('units', '')})")
ax.set_ylabel("negativity")
ax.set_xlim(0, 3)
ax.legend(frameon=False, fontsize=7)
with style.style():
    fig.savefig(out.parent / "esd_paper.pdf")
plt.show()

# %%
# Time series from the solver directly
# ------------------------------------
# :class:`eplt.dynamics.Result` converts to the same kind of dataset and saves as NetCDF:
import numpy as np
from eplt.dynamics import Result, evolve
from eplt.dynamics.states import phi_plus
from eplt.studies.esd import environments

envs = environments(nbar=0.5)
res = evolve(phi_plus(), envs["reset_shared"], np.linspace(0, 2, 21), e_ops=["negativity"])
path = res.save(out.parent / "shared.nc")
back = Result.load(path)
print(back.to_xarray())
ds.close()

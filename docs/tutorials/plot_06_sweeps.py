r"""
Sweeps on a laptop and on a Dask cluster
========================================

A sweep runs one study at every point of a parameter grid and aggregates the numeric
summary values into one labelled dataset (``sweep.nc``) with a summary figure. Each
point gets its own seed from the root seed and its grid index, so the numbers are
bit-identical whatever the executor (serial, local processes, Dask) and the number of
workers. Finished points are checkpointed as they complete: rerunning the same sweep
skips them.

The grid below is tiny (4 points of the ``speedup`` study, with small inner grids) so
that this page builds in seconds. The input is a partially entangled Schmidt state,
which needs a twirl before the reset clock, so the speed-up depends on the twirl
strength ``kappa`` (for :math:`\Phi^+` it would not: :math:`\Phi^+` needs no twirl).
"""

# %%
# From Python
# -----------
import tempfile
from pathlib import Path

import numpy as np
from eplt.studies.sweep import run_sweep

work = Path(tempfile.mkdtemp(prefix="eplt-sweep-"))
grid = {"beta": [0.5, 2.0], "kappa": [1.0, 10.0]}
fixed = {"input": "schmidt", "n_times": 51, "n_beta": 4, "kappa_ratios": [10.0]}
serial = run_sweep("speedup", grid, fixed=fixed, seed=0, out=work / "serial", executor="serial")
print(serial.n_points, "points,", serial.n_failed, "failed")
ds = serial.dataset
print(ds["speedup"].to_pandas())

# %%
# Rerunning into the same folder skips what is done (here: everything):
again = run_sweep("speedup", grid, fixed=fixed, seed=0, out=work / "serial", executor="serial")
print("skipped on rerun:", again.n_skipped)

# %%
# From the command line, with worker processes
# --------------------------------------------
# ``eplt sweep`` is the same machinery; ``--grid`` takes ``a,b,c`` lists or
# ``start:stop:n[:log]`` ranges. Here two worker processes (``--executor processes``;
# from Python, ``executor="processes"`` needs the usual ``if __name__ == "__main__":``
# guard of :mod:`multiprocessing` in scripts). The numbers are the same, bit for bit.
import shlex
import subprocess
import sys

import xarray as xr

cmd = [sys.executable, "-m", "eplt"] + shlex.split(
    "sweep speedup --grid beta=0.5,2 --grid kappa=1,10"
    " --set input=schmidt --set n_times=51 --set n_beta=4 --set kappa_ratios=10"
    " --executor processes --workers 2 --quiet --out " + shlex.quote(str(work / "cli"))
)
print("$ eplt " + " ".join(cmd[3:]))
subprocess.run(cmd, check=True)
print(sorted(p.name for p in (work / "cli").iterdir()))
with xr.open_dataset(work / "cli" / "sweep.nc") as cli:
    print("identical to the serial run:", bool(np.array_equal(cli["speedup"], ds["speedup"])))

# The summary figure is a family of curves (one per ``kappa``) because one axis has at
# most six values.
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

png = next((work / "cli").glob("*.png"))
fig, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
ax.imshow(mpimg.imread(png))
ax.set_axis_off()
ax.set_title(png.name, fontsize=9)
plt.show()

# %%
# On a Dask cluster
# -----------------
# With ``pip install -e ".[dask]"`` on every host, start a scheduler and workers and point
# the sweep at the scheduler (or use ``executor="dask", workers=8`` for a
# ``LocalCluster`` on one machine)::
#
#     dask scheduler                                          # head node: tcp://HEAD:8786
#     dask worker tcp://HEAD:8786 --nworkers 16 --nthreads 1  # each compute node
#     eplt sweep speedup --grid beta=0.5:8:32 --grid kappa=1:100:8:log \
#         --executor dask --scheduler tcp://HEAD:8786 --out results/sw
#
# From Python: ``run_sweep(..., executor="dask", scheduler="tcp://HEAD:8786")``. On
# SLURM or PBS, ``dask_jobqueue.SLURMCluster(...)`` starts the workers as batch jobs;
# pass its ``scheduler_address``. Lost workers' tasks are re-run by the scheduler, and
# a sweep interrupted on the client side resumes from its ``points/`` checkpoints.
# (Not executed here: the documentation build has no cluster.)
import shutil

shutil.rmtree(work)

"""The twirl study's coloured-noise panel: a shared Ornstein-Uhlenbeck drive at fixed
``kappa = 2 sigma^2 tau_c``, averaged exactly by the stochastic Liouville method, against
the shared Brownian drive (its ``tau_c -> 0`` limit). Data from :func:`coloured_distances`,
figure from :func:`coloured_figure`; both used by :mod:`eplt.studies.twirl`.
"""

from __future__ import annotations

import math

import numpy as np
from eplt.baths import Drive, Environment, OrnsteinUhlenbeck
from eplt.baths.protocols import gellmann_basis
from eplt.dynamics import StochasticLiouville, evolve

from . import style
from .base import StudyResult

__all__ = ["coloured_distances", "coloured_figure", "plot_coloured"]

#: Label of the time axes (time in units of 1/kappa).
TIME_LABEL = r"time $\kappa t$"


def _xlabel(ax):
    ax.set_xlabel(TIME_LABEL)


def coloured_distances(p: dict, rho0, times, e_ops) -> np.ndarray:
    """Distance to T(rho0) under a shared 3-channel OU drive, one row per tau_c (d = 2).

    ``sigma = sqrt(kappa / (2 tau_c))`` keeps ``kappa = 2 sigma^2 tau_c`` fixed. The drive
    has no other time scale, so the distance depends on ``kappa t`` and ``kappa tau_c``
    only: it is computed in units of ``1/kappa`` (``kappa = 1`` on the grid ``kappa t``),
    which keeps the hierarchy's tolerances meaningful for any kappa (at kappa = 1e-6 the
    raw times reached 5e6 and the depth search did not converge)."""
    kt = p["kappa"] * np.asarray(times, dtype=float)
    G = gellmann_basis(2)
    rows = []
    for tc in p["coloured_tau_c"]:
        ou = OrnsteinUhlenbeck(sigma=math.sqrt(1 / (2 * tc)), tau_c=tc, channels=len(G), name="ou")
        env = Environment((2, 2), [Drive(ou, 0, G), Drive(ou, 1, G, conjugate=True)])
        r = evolve(rho0, env, kt, e_ops=e_ops, method=StochasticLiouville(tol=1e-9))
        rows.append(np.asarray(r.expect["distance"]))
    return np.stack(rows)


def plot_coloured(result: StudyResult, ax=None):
    """Distance to ``T(rho0)`` for the shared OU drive at each ``kappa tau_c`` (exact SLE),
    with the shared Brownian curve (``tau_c -> 0`` at fixed kappa)."""
    if ax is None:
        _, axes = style.figure()
        ax = axes[0, 0]
    ds = result.data
    kt = ds["time"].values
    for j, tc in enumerate(ds["tau_c"].values):
        y = np.maximum(ds["coloured_distance"].isel(tau_c=j).values, 1e-16)
        ax.plot(
            kt,
            y,
            color=style.COLORS[(j + 1) % len(style.COLORS)],
            lw=1.2,
            label=rf"OU, $\kappa\tau_c={tc:g}$",
        )
    D = np.maximum(ds["distance"].sel(scenario="brownian_correlated").values, 1e-16)
    ax.plot(kt, D, color="k", lw=1.0, ls="--", label=r"Brownian ($\tau_c \to 0$)")
    _xlabel(ax)
    ax.set_xlim(kt[0], kt[-1])
    ax.set_yscale("log")
    lo = max(1e-16, 0.3 * float(np.min(D[D > 1e-16])))
    ax.set_ylim(lo, 1.5)
    ax.set_ylabel(r"$D(\rho_t, \mathcal{T}(\rho_0))$")
    return ax


@style.styled
def coloured_figure(result: StudyResult):
    """The coloured-noise figure: shared OU drives at fixed kappa against the Brownian one."""
    fig, axes = style.figure(1, 1, width=style.COLUMN, height=3.5)
    ax = axes[0, 0]
    plot_coloured(result, ax)
    ax.set_title(
        r"shared OU drive, $2\sigma^2\tau_c=\kappa$ fixed (exact SLE)", loc="left", fontsize=7
    )
    handles, labels = ax.get_legend_handles_labels()  # below the axes, as the other figures
    fig.legend(handles, labels, loc="outside lower center", ncols=2, handlelength=2.2)
    return fig

r"""Exact averaged generator: white processes (Brownian noise, Poisson clocks) average to a
Lindbladian on the joint system (:meth:`Model.averaged_generator`).

Each time-independent stage is solved exactly on the time grid by the cheapest of four
paths (:mod:`eplt.dynamics._timeindep`): local propagators ``(x)_k exp(L_k dt)`` (the
joint Liouvillian never built), batched over output times for small parties; a dense
propagator of the joint generator restricted to the state's symmetry sector
(:mod:`eplt.dynamics._sectors`); or ``expm_multiply`` on the sparse Liouvillian over the
whole grid. No exponential is kept per output time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._expm import expm_batched
from ._memory import check_bytes
from ._timeindep import plan_stage, run_stage
from .superop import apply_local

__all__ = ["Exact"]

#: Time-dependent stages with a coupling white process are integrated densely up to this
#: joint Liouvillian size.
DENSE_MAX = 1024


@dataclass(frozen=True)
class Exact:
    """Exact averaged generator (white processes only).

    Parameters
    ----------
    atol : float
        Only for time-dependent local terms (:func:`eplt.baths.lindblad` with a QobjEvo or
        ``[H0, [H1, f]]``): the estimated error of every density-matrix entry, per
        interval between output times, is kept below ``atol``. Those stages are
        integrated with the fourth-order commutator-free Magnus scheme on substeps
        (see :func:`_magnus_interval`); time-independent stages are exact.
    """

    name = "exact"
    atol: float = 1e-10

    def __post_init__(self):
        a = float(self.atol)
        if not (0 < a < 1):
            raise ValueError(f"atol must lie in (0, 1), got {self.atol!r}")


def _key(dt: float) -> float:
    """Cache key of a time step: 13 significant digits (a relative, not absolute, match)."""
    return float(f"{dt:.12e}")


def _run_exact(x, windows, tlist, record, atol: float = 1e-10, info: list | None = None):
    """Run the stages ``windows`` from the paired state ``x``; time-independent stages by
    the path :func:`~eplt.dynamics._timeindep.plan_stage` chooses (its memory checked
    before it is allocated), whose description is appended to ``info`` when given."""
    for start, end, model in windows:
        if model.is_time_dependent:
            x = _run_timedep(x, start, end, model, tlist, record, atol)
            continue
        gen = model.averaged_generator()
        idx = np.nonzero((tlist > start) & (tlist <= end))[0]
        plan = plan_stage(gen, x, start, end, tlist[idx])
        check_bytes(
            plan.nbytes,
            f"the exact method ({plan.path} path, dims {list(model.dims)})",
            "use fewer or smaller parties, or fewer output times",
        )
        if info is not None:
            info.append(plan.describe())
        x = run_stage(x, gen, plan, start, end, tlist, idx, record)
    return x


# --------------------------------------------------------------------------- time-dependent
#: Gauss-Legendre nodes and weights of the fourth-order commutator-free Magnus scheme
#: (Blanes & Moan, J. Comput. Appl. Math. 142, 313 (2002); Alvermann & Fehske (2011)):
#: U(t+h, t) = exp(h (A1 L(t1) + A2 L(t2))) exp(h (A2 L(t1) + A1 L(t2))), rightmost first.
_C1, _C2 = 0.5 - np.sqrt(3) / 6, 0.5 + np.sqrt(3) / 6
_A1, _A2 = 0.25 + np.sqrt(3) / 6, 0.25 - np.sqrt(3) / 6

#: Largest number of substeps per output interval before giving up.
MAX_SUBSTEPS = 2**16


def _run_timedep(x, start, end, model, tlist, record, atol):
    """A stage with time-dependent local terms, from ``start`` to ``end`` (absolute times)."""
    gen = model.averaged_generator()  # time-independent part (every white process)
    td = model.time_dependent_parts()
    dims = gen.dims
    if gen.is_local:
        base = gen.local_parts()

        def generator(t):
            parts = [P.copy() for P in base]
            for k, f in td:
                parts[k] += f(t)
            return parts

        def step(y, Ls1, Ls2, h):
            for k, (L1, L2) in enumerate(zip(Ls1, Ls2)):
                M = expm_batched(h * (_A1 * L2 + _A2 * L1)) @ expm_batched(
                    h * (_A2 * L2 + _A1 * L1)
                )
                y = apply_local(y, k, M)
            return y

        def norm(Ls):
            return sum(float(np.abs(L).sum(axis=0).max()) for L in Ls)
    else:
        if int(np.prod([d * d for d in dims])) > DENSE_MAX:
            raise ValueError(
                "time-dependent local terms with a coupling white process are integrated "
                f"densely, up to a joint Liouvillian of size {DENSE_MAX}; this model is larger"
            )
        L0 = gen.to_dense()
        sizes = [d * d for d in dims]

        def embed(k, S):
            left, right = int(np.prod(sizes[:k])), int(np.prod(sizes[k + 1 :]))
            return np.kron(np.kron(np.eye(left), S), np.eye(right))

        def generator(t):
            L = L0.copy()
            for k, f in td:
                L += embed(k, f(t))
            return [L]

        def step(y, Ls1, Ls2, h):
            (L1,), (L2,) = Ls1, Ls2
            v = y.reshape(-1)
            v = expm_batched(h * (_A2 * L2 + _A1 * L1)) @ v
            v = expm_batched(h * (_A1 * L2 + _A2 * L1)) @ v
            return v.reshape(y.shape)

        def norm(Ls):
            return float(np.abs(Ls[0]).sum(axis=0).max())

    idx = np.nonzero((tlist > start) & (tlist <= end))[0]
    t = start
    for b in [*tlist[idx], end]:
        if b > t:
            x = _magnus_interval(x, t, b, generator, step, norm, atol)
        t = b
        if idx.size and b == tlist[idx[0]]:
            record(idx[0], x)
            idx = idx[1:]
    return x


def _magnus_interval(x, a, b, generator, step, norm, atol):
    r"""Propagate ``x`` from ``a`` to ``b`` under ``dx/dt = L(t) x`` to error ``atol``.

    Fourth-order commutator-free Magnus steps (two exponentials per step, ``L`` at the two
    Gauss-Legendre nodes). Error control by step doubling: with ``n`` and ``2n`` equal
    substeps the error of the finer result is estimated as ``max|x_2n - x_n| / 15``
    (Richardson, order 4); ``n`` starts at ``ceil((b - a) ||L(midpoint)||_1)`` and doubles
    until the estimate is at most ``atol``; the finer result is returned.
    """

    def run(n):
        h = (b - a) / n
        y = x
        for j in range(n):
            s = a + j * h
            y = step(y, generator(s + _C1 * h), generator(s + _C2 * h), h)
        return y

    n = max(1, int(np.ceil((b - a) * norm(generator(0.5 * (a + b))))))
    coarse = run(n)
    while True:
        fine = run(2 * n)
        if np.abs(fine - coarse).max() / 15 <= atol:
            return fine
        n *= 2
        if 2 * n > MAX_SUBSTEPS:
            raise RuntimeError(
                f"time-dependent term: no convergence to atol={atol:g} on [{a!r}, {b!r}] with "
                f"{MAX_SUBSTEPS} substeps (is the coefficient discontinuous or too fast?)"
            )
        coarse = fine

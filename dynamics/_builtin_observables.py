"""The builtin observables (private): one :func:`~eplt.dynamics.observables.observable`
registration each, imported by :mod:`eplt.dynamics.observables` (which documents them)."""

from __future__ import annotations

import itertools

import numpy as np
import qutip

from . import measures
from ._entropy import entropy_arr as _entropy_arr
from ._entropy import relative_entropy_arr
from .measures import _pt_array
from .observables import (
    _FAMILIES,
    ObservableSet,
    Spec,
    _marginal,
    _negativity,
    _trace_distance_arr,
    observable,
)


def _negativity_cut(ctx: ObservableSet, spec: str, arg: str) -> Spec:
    n = ctx.n
    try:
        cut = tuple(sorted({int(k) for k in arg.split(",")}))
    except ValueError:
        raise ValueError(
            f"observable {spec!r}: expected negativity[i,j,...] with party indices"
        ) from None
    if not cut or cut[0] < 0 or cut[-1] >= n or len(cut) == n:
        raise ValueError(f"observable {spec!r}: parties must be a proper subset of 0..{n - 1}")
    return Spec(lambda a: _negativity(a, ctx.dims, cut))


_FAMILIES["negativity"] = _negativity_cut


@observable("negativity", min_parties=2)
def _(ctx):
    return Spec(lambda a: _negativity(a, ctx.dims, (ctx.n - 1,)))


@observable("log_negativity", min_parties=2)
def _(ctx):
    return Spec(lambda a: float(np.log2(2 * _negativity(a, ctx.dims, (ctx.n - 1,)) + 1)))


def _bipartitions(n: int) -> list[tuple[int, ...]]:
    return [c for r in range(1, n) for c in itertools.combinations(range(1, n), r)]


@observable("bipartition_negativity", min_parties=2)
def _(ctx):
    cuts = _bipartitions(ctx.n)
    names = ["".join(ctx.labels_of_parties[k] for k in c) + "|rest" for c in cuts]
    return Spec(lambda a: np.array([_negativity(a, ctx.dims, c) for c in cuts]), names)


@observable("min_bipartition_negativity", min_parties=2)
def _(ctx):
    cuts = _bipartitions(ctx.n)
    return Spec(lambda a: min(_negativity(a, ctx.dims, c) for c in cuts))


@observable("ppt", min_parties=2)
def _(ctx):
    def ppt(a):
        b = _pt_array(a, ctx.dims, (ctx.n - 1,))
        return float(np.linalg.eigvalsh((b + b.conj().T) / 2)[0] >= -measures.PPT_ATOL)

    return Spec(ppt)


def _two_equal(ctx, name: str) -> int:
    if ctx.n != 2 or ctx.dims[0] != ctx.dims[1]:
        raise ValueError(f"observable {name!r} needs two parties of equal dimension")
    return ctx.dims[0]


@observable("phi_plus_overlap")
def _(ctx):
    d = _two_equal(ctx, "phi_plus_overlap")
    idx = np.arange(d) * (d + 1)
    return Spec(
        lambda a: float(a[np.ix_(idx, idx)].sum().real / d),
        batch=lambda c: np.einsum("tii->t", c.X.reshape(-1, d * d, d * d)).real / d,
    )


@observable("fully_entangled_fraction")
def _(ctx):
    _two_equal(ctx, "fully_entangled_fraction")
    dims = ctx.dims
    return Spec(lambda a: measures.fully_entangled_fraction(qutip.Qobj(a, dims=[dims, dims])))


@observable("chsh_max")
def _(ctx):
    if list(ctx.dims) != [2, 2]:
        raise ValueError("observable 'chsh_max' needs two qubits")
    return Spec(measures._chsh_array)


@observable("ghz_fidelity")
def _(ctx):
    if any(d != 2 for d in ctx.dims):
        raise ValueError("observable 'ghz_fidelity' needs qubits")
    n = ctx.n
    zero, one, coh = (0,) * n, (3,) * n, (1,) * n  # paired indices of |0><0|, |1><1|, |0><1|

    def ghz_batch(c):
        X = c.X
        return ((X[(slice(None), *zero)] + X[(slice(None), *one)]) / 2).real + X[
            (slice(None), *coh)
        ].real

    return Spec(lambda a: float(((a[0, 0] + a[-1, -1]) / 2).real + a[0, -1].real), batch=ghz_batch)


def trace_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``||A - B||_1 / 2`` over the leading axes of stacks of matrices (Hermitian part of
    the difference; ``B`` broadcasts), the one batched trace distance of the engine."""
    diff = np.asarray(A) - np.asarray(B)
    lam = np.linalg.eigvalsh((diff + np.conj(np.swapaxes(diff, -1, -2))) / 2)
    return np.abs(lam).sum(axis=-1) / 2


@observable("marginal_distance")
def _(ctx):
    taus, dims, n = ctx.need("taus"), ctx.dims, ctx.n

    def md_batch(c):
        return np.stack([trace_distances(c.marginal(k), taus[k]) for k in range(n)], axis=1)

    return Spec(
        lambda a: np.array([_trace_distance_arr(_marginal(a, dims, k), taus[k]) for k in range(n)]),
        ctx.labels_of_parties,
        batch=md_batch,
    )


@observable("marginal_relative_entropy")
def _(ctx):
    taus, dims, n = ctx.need("taus"), ctx.dims, ctx.n
    ta = [qutip.Qobj(t).full() for t in taus]
    return Spec(
        lambda a: np.array([relative_entropy_arr(_marginal(a, dims, k), ta[k]) for k in range(n)]),
        ctx.labels_of_parties,
    )


@observable("mutual_information", min_parties=2)
def _(ctx):
    dims = ctx.dims

    def mi(a):
        left = int(np.prod(dims[:-1]))
        t = a.reshape(left, dims[-1], left, dims[-1])
        ra = np.einsum("aibi->ab", t)
        rb = np.einsum("iaib->ab", t)
        return _entropy_arr(ra) + _entropy_arr(rb) - _entropy_arr(a)

    return Spec(mi)


@observable("purity")
def _(ctx):
    return Spec(
        lambda a: float(np.real(np.vdot(a.conj().T.reshape(-1), a.reshape(-1)))),
        batch=lambda c: (np.abs(c.X.reshape(c.X.shape[0], -1)) ** 2).sum(axis=1),
    )


@observable("energy")
def _(ctx):
    hams, dims, n = ctx.need("hamiltonians"), ctx.dims, ctx.n
    return Spec(
        lambda a: np.array(
            [float(np.real(np.trace(hams[k] @ _marginal(a, dims, k)))) for k in range(n)]
        ),
        ctx.labels_of_parties,
        batch=lambda c: np.stack(
            [np.einsum("ab,tba->t", hams[k], c.marginal(k)).real for k in range(n)], axis=1
        ),
    )


@observable("heat_current")
def _(ctx):
    hams, dims = ctx.need("hamiltonians"), ctx.dims
    bath_labels = list(dict.fromkeys(lab for stage in ctx.baths for lab, _, _ in stage))
    pos = {lab: i for i, lab in enumerate(bath_labels)}
    # Tr[H L(rho)] = vec(H^T) . (L vec(rho)) in the engine's row-major vectorization
    rows = [
        [(pos[lab], k, hams[k].T.reshape(-1) @ S) for lab, k, S in stage] for stage in ctx.baths
    ]

    def heat(a):
        out = np.zeros(len(bath_labels))
        for i, k, w in rows[ctx.stage]:
            out[i] += float(np.real(w @ _marginal(a, dims, k).reshape(-1)))
        return out

    def heat_batch(c):
        out = np.zeros((c.X.shape[0], len(bath_labels)))
        for stage in set(c.stages):
            sel = np.array([s == stage for s in c.stages])
            for i, k, w in rows[min(stage, len(rows) - 1)]:
                out[sel, i] += np.real(c.marginal(k)[sel].reshape(int(sel.sum()), -1) @ w)
        return out

    return Spec(heat, bath_labels, batch=heat_batch)

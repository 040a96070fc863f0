r"""Sampled ensembles: any process, ``ntraj`` realizations, each propagated as a tensor
product of local propagators (batched over realizations with numpy), averaged with
jackknife standard errors over ``groups`` blocks of realizations.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import qutip

from ._expm import expm_batched
from ._realbasis import conj_signs, hermitian_basis, to_real
from .exact import _key
from .model import Model
from .superop import _hamiltonian_superop, from_paired

__all__ = ["Sampled", "realization_seed"]


@dataclass(frozen=True)
class Sampled:
    """Sampled ensemble of realizations.

    Parameters
    ----------
    ntraj : int
        Number of realizations (>= 1).
    dt : float, optional
        Largest internal step. Default: ``min(output spacing, 0.02 / rate)``, with ``rate``
        the largest rate scale of the local generators and processes.
    groups : int
        Blocks for jackknife standard errors (``min(groups, ntraj)`` are used).
    batch_size : int, optional
        Realizations propagated at once (bounds memory). Default: chosen from the state size.
    """

    ntraj: int = 1000
    dt: float | None = None
    groups: int = 16
    batch_size: int | None = None
    name = "sampled"

    def __post_init__(self):
        if not isinstance(self.ntraj, (int, np.integer)) or self.ntraj < 1:
            raise ValueError(f"ntraj must be an integer >= 1, got {self.ntraj!r}")
        if self.dt is not None and not self.dt > 0:
            raise ValueError(f"dt must be > 0, got {self.dt!r}")
        if self.groups < 1:
            raise ValueError(f"groups must be >= 1, got {self.groups}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")


def realization_seed(seed, index: int) -> np.random.SeedSequence:
    """SeedSequence of realization ``index``: the ``index``-th child of ``seed``.

    Equal to ``np.random.SeedSequence(seed).spawn(index + 1)[index]``, so a realization
    is the same however realizations are split into batches or over workers.
    """
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return np.random.SeedSequence(
        root.entropy, spawn_key=(*root.spawn_key, int(index)), pool_size=root.pool_size
    )


def _substep_edges(start, end, tlist, model: Model, dt):
    pts = [start, end, *tlist[(tlist > start) & (tlist < end)]]
    for src in model.sources:
        pts.extend(src.process.breakpoints(start, end))
    pts = np.unique(np.asarray(pts, dtype=float))
    edges = [pts[0]]
    for a, b in itertools.pairwise(pts):
        m = max(1, math.ceil((b - a) / dt - 1e-9))
        edges.extend(a + (b - a) * np.arange(1, m) / m)
        edges.append(b)  # exactly b, so that output times are hit exactly
    return np.asarray(edges)


def _rate_scale(model: Model) -> float:
    """Rate that limits the sampling step: only processes discretised on the substeps
    (white or coloured noise) need one; piecewise-constant signals and clock ticks are
    propagated exactly. Scaled up by the local generators' norm when such noise is present."""
    r = max([src.process.max_rate() for src in model.sources] + [0.0])
    if r > 0:
        r = max([r] + [float(np.abs(L).sum(axis=0).max()) for L in model.local_generators()])
    return r


def _apply_realizations(x: np.ndarray, k: int, P: np.ndarray) -> np.ndarray:
    r"""``y[..., i, ..., r] = sum_j P[i, j, r] x[..., j, ..., r]`` on party axis ``k``.

    The realization axis is last in ``x`` (and in ``P``, ``(m, m, M)``; a ``(m, m)`` ``P``
    is shared by all realizations). With realizations innermost every term is one
    contiguous element-wise product over the batch: 2.6x faster than a stack of
    ``M`` tiny matrix products, and each realization's arithmetic is the same fixed
    sequence of operations whatever its batch-mates (bit-identical splits).
    """
    sh = x.shape
    m = sh[k]
    x4 = x.reshape(int(np.prod(sh[:k])), m, -1, sh[-1])
    y = np.empty_like(x4)
    for i in range(m):
        acc = P[i, 0] * x4[:, 0]
        for j in range(1, m):
            acc += P[i, j] * x4[:, j]
        y[:, i] = acc
    return y.reshape(sh)


def _realizations_last(P: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(P, 0, -1)) if P.ndim == 3 else P


def _change_basis(x: np.ndarray, dims, to_real_basis: bool) -> np.ndarray:
    """Paired states (realization axis last, or none) between the row-major vec layout
    and the Hermitian operator basis of :mod:`eplt.dynamics._realbasis` (real coefficients);
    None when going to the real basis with states that are not Hermitian."""
    for k, d in enumerate(dims):
        V = hermitian_basis(d)
        x = np.moveaxis(np.tensordot(V.conj().T if to_real_basis else V, x, axes=(1, k)), 0, k)
    if not to_real_basis:
        return x
    if np.abs(x.imag).max(initial=0.0) > 1e-12 * max(1.0, float(np.abs(x).max(initial=0.0))):
        return None  # not Hermitian: no real coordinates
    return np.ascontiguousarray(x.real)


def _hermitian_values(v: np.ndarray) -> bool:
    v = np.asarray(v)
    return bool(
        np.abs(v - np.conj(np.swapaxes(v, -1, -2))).max(initial=0.0)
        <= 1e-12 * max(1.0, float(np.abs(v).max(initial=0.0)))
    )


def _window_real(dims, Lloc, signals, sig_vals, drives, jumps):
    """Hermitian-basis form of a window's maps, or None when one is not Hermiticity
    preserving (then the window runs in the complex row-major layout).

    Returns per party: the real local generator, the drive terms ``(signal index,
    linear?, real unit superoperators or None)``, real jump superoperators by clock
    index, and ``twin``/``mask``: a party whose generators are the complex conjugates of
    an earlier party's (U and U*, real dissipators; checked exactly on the ingredients)
    takes that party's propagators times the sign pattern ``mask``.
    """
    n = len(dims)
    Lr = [to_real(Lloc[k], [d]) for k, d in enumerate(dims)]
    if any(r is None for r in Lr):
        return None
    terms = []
    for k, d in enumerate(dims):
        tk = []
        for i, a in drives[k]:
            if a.generators:
                v = sig_vals[i]
                if np.iscomplexobj(v) and np.any(np.imag(v) != 0):
                    return None
                R = [to_real(_hamiltonian_superop(A), [d]) for A in a.unit_operators()]
                if any(r is None for r in R):
                    return None
                tk.append((i, True, np.stack(R)))
            else:
                if not _hermitian_values(sig_vals[i]):
                    return None
                tk.append((i, False, None))
        terms.append(tk)
    jr = []
    for k, d in enumerate(dims):
        jk = {}
        for i, a in jumps[k]:
            r = to_real(a.superop, [d])
            if r is None:
                return None
            jk[i] = r
        jr.append(jk)

    def conjugates(q, k):
        if jumps[q] or jumps[k] or not np.array_equal(np.conj(Lloc[q]), Lloc[k]):
            return False
        if len(drives[q]) != len(drives[k]):
            return False
        return all(i == j and b.conjugate_of(a) for (i, a), (j, b) in zip(drives[q], drives[k]))

    twin: list = []
    for k in range(n):
        twin.append(
            next(
                (
                    q
                    for q in range(k)
                    if twin[q] is None and dims[q] == dims[k] and conjugates(q, k)
                ),
                None,
            )
        )
    mask = [np.outer(conj_signs(d), conj_signs(d)) for d in dims]
    return {"L": Lr, "terms": terms, "jumps": jr, "twin": twin, "mask": mask}


def _party_generator(k, j, Lloc, drives, sig_vals, rb):
    """Party ``k``'s generator on substep ``j``: ``(M, m, m)``, or ``(m, m)`` undriven;
    complex row-major (``rb`` None) or real in the Hermitian basis."""
    if rb is None:
        if not drives[k]:
            return Lloc[k]
        Hs = sum(a.hamiltonians(sig_vals[i][:, j]) for i, a in drives[k])
        return Lloc[k] + _hamiltonian_superop(Hs)
    G = rb["L"][k]
    d = math.isqrt(G.shape[0])
    for (i, a), (_, lin, R) in zip(drives[k], rb["terms"][k]):
        v = sig_vals[i][:, j]
        if lin:  # H = sum_c v_c A_c: the real generator is linear in the values
            add = (np.real(v).reshape(len(v), -1) @ R.reshape(len(R), -1)).reshape(
                len(v), *G.shape[-2:]
            )
        else:
            V = hermitian_basis(d)
            add = (V.conj().T @ _hamiltonian_superop(a.hamiltonians(v)) @ V).real
        G = G + add
    return G


def _run_sampled_chunk(x, windows, tlist, method, indices, seed, on_time):
    """Propagate realizations ``indices`` together; call ``on_time(ti, x, dims)``
    (``dims`` when ``x`` is in the Hermitian basis, else None).

    ``x`` is the batch of paired states with the realization axis **last**
    (``(d_0^2, ..., d_{n-1}^2, M)``).
    """
    M = x.shape[-1]
    in_real = False  # x in the row-major complex layout (False) or the Hermitian basis
    complex_only = False
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    rngs = [np.random.default_rng(realization_seed(root, m)) for m in indices]
    out_spacing = np.min(np.diff(tlist)) if tlist.size > 1 else math.inf
    for start, end, model in windows:
        if end <= start:
            continue
        rate = _rate_scale(model)
        dt = method.dt or min(out_spacing, 0.02 / rate if rate > 0 else math.inf, end - start)
        edges = _substep_edges(start, end, tlist, model, dt)
        S = len(edges) - 1
        h = np.diff(edges)
        Lloc = model.local_generators()
        signals = [s for s in model.sources if s.process.kind == "signal"]
        clocks = [s for s in model.sources if s.process.kind == "clock"]
        sig_vals = [s.process.sample_many(rngs, edges) for s in signals]  # (M, S, ...)
        ticks = [[np.asarray(s.process.sample(r, edges)) for r in rngs] for s in clocks]
        # party -> list of (signal index, action)
        drives = {
            k: [(i, a) for i, s in enumerate(signals) for a in s.actions if a.party == k]
            for k in range(len(model.dims))
        }
        jumps = {
            k: [(i, a) for i, s in enumerate(clocks) for a in s.actions if a.party == k]
            for k in range(len(model.dims))
        }
        # Tick bookkeeping: per substep, which realizations have ticks.
        tick_sub = []
        for i, per_m in enumerate(ticks):
            for m, tt in enumerate(per_m):
                if tt.size:
                    js = np.clip(np.searchsorted(edges, tt, side="left") - 1, 0, S - 1)
                    for j, t in zip(js, tt):
                        tick_sub.append((j, m, t, i))
        tick_sub.sort(key=lambda z: (z[0], z[1], z[2]))
        by_step: dict[int, dict[int, list]] = {}
        for j, m, t, i in tick_sub:
            by_step.setdefault(j, {}).setdefault(m, []).append((t, i))
        # per signal: did any realization's value change from substep j to j + 1?
        sig_changes = [
            (v[:, 1:] != v[:, :-1]).any(axis=tuple(a for a in range(v.ndim) if a != 1))
            for v in sig_vals
        ]
        nparty = len(model.dims)
        # Hermiticity-preserving maps (every Lindbladian, Hermitian drives, channels) are
        # real in a Hermitian operator basis: states, generators, exponentials and their
        # application are real there (half the arithmetic of the complex layout)
        # (a state that is not Hermitian -- after a map that does not preserve
        # Hermiticity -- stays in the complex layout to the end)
        rb = (
            None
            if complex_only
            else _window_real(model.dims, Lloc, signals, sig_vals, drives, jumps)
        )
        if rb is not None and not in_real:
            xr = _change_basis(x, model.dims, True)
            if xr is None:
                rb, complex_only = None, True
            else:
                x, in_real = xr, True
        elif rb is None and in_real:
            x, in_real = _change_basis(x, model.dims, False), False
        complex_only = complex_only or rb is None
        gens = [None] * nparty
        props = [None] * nparty  # (M, m, m), or (m, m) when shared
        props_last = [None] * nparty  # the same, realization axis last
        out_pos = {float(t): i for i, t in enumerate(tlist)}
        for j in range(S):
            step_props = []
            for k in range(nparty):
                # Rebuild a party's generator only when its signals changed (pulses hold
                # their value for a segment), and its propagator only when h changed too.
                changed = j == 0 or any(sig_changes[i][j - 1] for i, _ in drives[k])
                tw = None if rb is None else rb["twin"][k]
                if changed and tw is None:
                    gens[k] = _party_generator(k, j, Lloc, drives, sig_vals, rb)
                if changed or _key(h[j]) != _key(h[j - 1]):
                    if rb is None:
                        # U on one party, U* on another (the shared twirl): with real
                        # local dissipators the generators are complex conjugates, and so
                        # are the propagators -- one exponential serves both
                        tw = next(
                            (
                                q
                                for q in range(k)
                                if gens[q].shape == gens[k].shape
                                and np.array_equal(gens[q].conj(), gens[k])
                            ),
                            None,
                        )
                    if tw is None:
                        props[k] = expm_batched(gens[k] * h[j])
                        props_last[k] = _realizations_last(props[k])
                    elif rb is None:
                        props[k], props_last[k] = props[tw].conj(), props_last[tw].conj()
                    else:  # the conjugate in the Hermitian basis: a sign pattern
                        mk = rb["mask"][k]
                        gens[k] = None
                        props[k] = props[tw] * mk
                        props_last[k] = props_last[tw] * (
                            mk[:, :, None] if props_last[tw].ndim == 3 else mk
                        )
                step_props.append(props_last[k])
            props_j = step_props
            events = by_step.get(j)
            if events:
                props_j = [np.broadcast_to(P, (M, *P.shape[-2:])).copy() for P in props]
                for m, evs in events.items():
                    for k in range(len(model.dims)):
                        relevant = [(t, i) for t, i in evs if any(ii == i for ii, _ in jumps[k])]
                        if not relevant:
                            continue
                        Gk = gens[k][m] if gens[k].ndim == 3 else gens[k]
                        t_prev, P = edges[j], np.eye(Gk.shape[0], dtype=Gk.dtype)
                        for t, i in relevant:
                            if rb is None:
                                J = next(a.superop for ii, a in jumps[k] if ii == i)
                            else:
                                J = rb["jumps"][k][i]
                            P = J @ expm_batched(Gk * (t - t_prev)) @ P
                            t_prev = t
                        props_j[k][m] = expm_batched(Gk * (edges[j + 1] - t_prev)) @ P
                props_j = [_realizations_last(P) for P in props_j]
            for k, P in enumerate(props_j):
                x = _apply_realizations(x, k, P)
            i_out = out_pos.get(float(edges[j + 1]))
            if i_out is not None:
                on_time(i_out, x, model.dims if in_real else None)
    if in_real:
        x = _change_basis(x, windows[-1][2].dims, False)
    return x


# --------------------------------------------------------------------------- driver


def _jackknife(values: list[dict], full: dict) -> dict:
    G = len(values)
    out = {}
    for k in full:
        arr = np.stack([v[k] for v in values])
        mean = arr.mean(axis=0)
        out[k] = np.sqrt((G - 1) / G * (np.abs(arr - mean) ** 2).sum(axis=0))  # |.|: complex too
    return out


def _batch_size(method: Sampled, x0) -> int:
    return method.batch_size or max(1, min(16384, int(2**27 // max(1, x0.size * 16 * 8))))


def _chunks(bounds: Sequence[int], batch: int) -> list[list[tuple[int, int]]]:
    """Pack consecutive blocks ``[bounds[g], bounds[g+1])`` into chunks of at most ``batch``
    realizations; a block larger than ``batch`` is split into its own sub-chunks."""
    out, cur, size = [], [], 0
    for lo, hi in itertools.pairwise(bounds):
        if hi - lo > batch:
            if cur:
                out.append(cur)
                cur, size = [], 0
            out.extend([[(a, min(a + batch, hi))] for a in range(lo, hi, batch)])
            continue
        if size + hi - lo > batch and cur:
            out.append(cur)
            cur, size = [], 0
        cur.append((lo, hi))
        size += hi - lo
    if cur:
        out.append(cur)
    return out


def _sampled_blocks(x0, windows, tlist, method: Sampled, seed, bounds: Sequence[int]) -> np.ndarray:
    """Sums of the paired states over each block ``[bounds[g], bounds[g+1])`` at every
    time, shape ``(blocks, T, ...)``.

    A pure, picklable function of its arguments. Each realization's arithmetic does not
    depend on its batch-mates, and each block is summed over the same rows whether it
    is run alone or packed with others, so the sums are bit-identical however blocks are
    distributed over executors.
    """
    G = len(bounds) - 1
    sums = np.zeros((G, tlist.size, *x0.shape), dtype=complex)
    for chunk in _chunks(bounds, _batch_size(method, x0)):
        a, b = chunk[0][0], chunk[-1][1]
        parts = [(bisect_right(bounds, lo) - 1, lo - a, hi - a) for lo, hi in chunk]
        xb = np.broadcast_to(x0[..., None], (*x0.shape, b - a)).copy()

        groups = np.array([g for g, _, _ in parts])
        starts = np.array([u for _, u, _ in parts])

        def on_time(i, x, real_dims=None, groups=groups, starts=starts):
            # the parts are consecutive and cover the batch: one reduceat sums each
            # block over its own rows; back from the Hermitian basis once per time
            part = np.add.reduceat(x, starts, axis=-1)
            if real_dims is not None:
                part = _change_basis(part, real_dims, False)
            sums[groups, i] += np.moveaxis(part, -1, 0)

        on_time(0, xb)
        _run_sampled_chunk(xb, windows, tlist, method, range(a, b), seed, on_time)
    return sums


def _sampled_driver(
    x0,
    windows,
    tlist,
    method: Sampled,
    seed,
    obs,
    dims,
    store_states,
    executor=None,
    stage_of=lambda t: 0,
):
    n = method.ntraj
    G = min(method.groups, n)
    T = tlist.size
    bounds = [(g * n) // G for g in range(G + 1)]
    if executor is None:
        sums = _sampled_blocks(x0, windows, tlist, method, seed, bounds)
    else:
        args = [(x0, windows, tlist, method, seed, bounds[g : g + 2]) for g in range(G)]
        sums = np.concatenate(list(executor.map(_sampled_blocks, *zip(*args))))
    counts = np.diff(bounds).astype(float)
    total = sums.sum(axis=0)
    mean = total / n
    stage_idx = [stage_of(t) for t in tlist]
    expect = obs.evaluate_batch(mean, stage_idx, tlist)
    stderr: dict[str, np.ndarray] = {}
    if G >= 2:
        loo = []
        for g in range(G):
            m_g = (total - sums[g]) / (n - counts[g])
            loo.append(obs.evaluate_batch(m_g, stage_idx, tlist))
        stderr = _jackknife(loo, expect)
    else:
        stderr = {k: np.full_like(v, np.nan) for k, v in expect.items()}
    states = (
        [qutip.Qobj(from_paired(mean[i], dims), dims=[list(dims), list(dims)]) for i in range(T)]
        if store_states
        else None
    )
    return expect, stderr, states

r"""Segment averaging for i.i.d. piecewise-constant pulses.

The average channel of one segment, ``E_seg = E_xi[exp(tau L(xi))]``, is computed once
(Gauss-Hermite quadrature over Gaussian coefficients, or sampling for other laws) and
applied segment after segment; white processes in the same stage enter through their
averaged generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._expm import expm_batched
from ._realbasis import conj_signs, from_real, to_real
from .exact import _key, _run_exact
from .model import Model
from .superop import Generator, ProductTerm, _hamiltonian_superop, apply_consecutive, apply_local

__all__ = ["SegmentAveraged"]


@dataclass(frozen=True)
class SegmentAveraged:
    """Segment averaging for i.i.d. pulses.

    Parameters
    ----------
    nodes : int
        Gauss-Hermite points per Gaussian coefficient (the error falls faster than any
        power of ``nodes``; 16 reaches 1e-12 for rotation angles of order one).
    samples : int
        Samples of the segment value for laws without quadrature (Haar unitaries).
    seed : int
        Seed of those samples.
    """

    nodes: int = 16
    samples: int = 4000
    seed: int = 0
    name = "segment"

    def __post_init__(self):
        if self.nodes < 1:
            raise ValueError(f"nodes must be >= 1, got {self.nodes}")
        if self.samples < 1:
            raise ValueError(f"samples must be >= 1, got {self.samples}")


def _clusters(pulses, n):
    """Group pulse sources into clusters acting on disjoint sets of parties."""
    clusters: list[tuple[set, list]] = []
    for src in pulses:
        parties, members = set(src.parties), [src]
        for c in [c for c in clusters if c[0] & parties]:
            clusters.remove(c)
            parties |= c[0]
            members = c[1] + members
        clusters.append((parties, members))
    return [(tuple(sorted(p)), m) for p, m in clusters]


def _local_node_generators(parties, members, node_sets, idx, base_local, dims):
    """Node generators of a cluster of parties with local white parts.

    Returns ``(gens, twins, signs, real)``: per party the stacked node generators,
    ``twins[j]`` the earlier party whose generators party ``j``'s are the complex
    conjugates of (or None), ``signs[j]`` the sign pattern that conjugation is in the
    Hermitian basis, and whether the generators are real (Hermitian basis) or complex
    (row-major). Hermiticity-preserving generators — every Lindbladian with Hermitian
    drives — are real in a Hermitian operator basis: propagators, products and kron sums
    cost half of complex ones there. U on one party and U* on another with real
    dissipators (the shared twirl) makes one party's generators the conjugates of the
    other's, detected exactly on the ingredients (local generator, drive superoperators),
    so that party needs no propagators of its own.
    """
    nn = idx.shape[1]
    # ingredients per party: (member, action, linear?, superops, node values)
    parts: dict[int, list] = {p: [] for p in parties}
    for i, (src, (vals, _)) in enumerate(zip(members, node_sets)):
        for a in src.actions:
            vals = np.asarray(vals)
            if a.generators and not np.iscomplexobj(vals):
                # H = sum_k v_k A_k: the generator is linear in the (real) values
                ops = np.stack([_hamiltonian_superop(A) for A in a.unit_operators()])
                parts[a.party].append((i, a, True, ops, vals.astype(float)))
            else:
                parts[a.party].append(
                    (i, a, False, _hamiltonian_superop(a.hamiltonians(vals)), None)
                )

    def conjugates(q, p):
        return (
            np.array_equal(np.conj(base_local[q]), base_local[p])
            and len(parts[q]) == len(parts[p])
            and all(
                i == j and lin == lin2 and b.conjugate_of(a)
                for (i, a, lin, _, _), (j, b, lin2, _, _) in zip(parts[q], parts[p])
            )
        )

    twins: list = []  # a twin's partner has propagators of its own (no chains)
    for k in range(len(parties)):
        twins.append(
            next(
                (j for j in range(k) if twins[j] is None and conjugates(parties[j], parties[k])),
                None,
            )
        )

    own = [p for p, tw in zip(parties, twins) if tw is None]
    # the Hermitian-basis form of every ingredient, converted once (None: not
    # Hermiticity preserving, and the cluster stays complex)
    real_base = {p: to_real(base_local[p], [dims[p]]) for p in own}
    real_ops = {p: [to_real(o, [dims[p]]) for _, _, _, o, _ in parts[p]] for p in own}
    ok = all(r is not None for r in real_base.values()) and all(
        r is not None for rs in real_ops.values() for r in rs
    )

    def build(p, base, ops_list):
        G = np.broadcast_to(base, (nn,) + base.shape).copy()
        for (i, _, lin, _, vals), ops in zip(parts[p], ops_list):
            if lin:
                G += (vals[idx[i]] @ ops.reshape(len(ops), -1)).reshape(G.shape)
            else:
                G += ops[idx[i]]
        return G

    if ok:
        gens = [
            build(p, real_base[p], real_ops[p]) if tw is None else None
            for p, tw in zip(parties, twins)
        ]
        signs = [np.outer(conj_signs(dims[p]), conj_signs(dims[p])) for p in parties]
        return gens, twins, signs, True
    gens = [
        build(p, np.asarray(base_local[p], complex), [o for _, _, _, o, _ in parts[p]])
        if tw is None
        else None
        for p, tw in zip(parties, twins)
    ]
    return gens, twins, [None] * len(parties), False


def _segment_stage_channels(model: Model, method: SegmentAveraged):
    """Return (tau, s -> averaged channel over an offset s into a segment).

    The channel is a list of ``(parties, matrix)`` blocks acting on disjoint parties when
    the white part is local (independent pulse sources then average separately), or one
    dense joint matrix otherwise.
    """
    dims = model.dims
    n = len(dims)
    white = Model(dims, model.local, tuple(s for s in model.sources if s.process.white))
    pulses = [s for s in model.sources if not s.process.white]
    gen_w = white.averaged_generator()
    if not pulses:
        return None, None
    taus = {s.process.segment for s in pulses}
    if len(taus) != 1:
        raise ValueError(
            f"segment averaging needs all pulse processes in a stage to share one segment length, got {sorted(taus)}"
        )
    tau = taus.pop()
    rng = np.random.default_rng(method.seed)
    local = gen_w.is_local
    if local:
        clusters = _clusters(pulses, n)
        covered = {p for parties, _ in clusters for p in parties}
        clusters += [((p,), []) for p in range(n) if p not in covered]
    else:
        N = int(np.prod([d * d for d in dims]))
        if N > 256:
            raise ValueError(
                f"segment averaging with correlated white noise needs D^2 <= 256 (got {N}); use method='sampled'"
            )
        clusters = [(tuple(range(n)), pulses)]
    base_local = gen_w.local_parts() if local else None
    # (parties, node weights, node generators per party (or stacked dense), twins, signs, real)
    blocks = []
    for parties, members in clusters:
        node_sets = [
            s.process.segment_nodes(nodes=method.nodes, samples=method.samples, rng=rng)
            for s in members
        ]
        # the nodes of a cluster: the product of its members' nodes, in row-major order
        sizes = [len(w) for _, w in node_sets]
        idx = np.indices(sizes).reshape(len(sizes), -1)
        weights = np.ones(idx.shape[1])
        for i, (_, w) in enumerate(node_sets):
            weights = weights * np.asarray(w)[idx[i]]
        if local:
            blocks.append(
                (parties, weights)
                + _local_node_generators(parties, members, node_sets, idx, base_local, dims)
            )
            continue
        adds = {p: np.zeros((idx.shape[1],) + (dims[p] ** 2,) * 2, complex) for p in range(n)}
        for i, (src, (vals, _)) in enumerate(zip(members, node_sets)):
            for a in src.actions:
                adds[a.party] += _hamiltonian_superop(a.hamiltonians(np.asarray(vals)))[idx[i]]
        dense_w = gen_w.to_dense()
        gens = np.stack(
            [
                dense_w
                + Generator(
                    dims, tuple(ProductTerm(1.0, {p: adds[p][c]}) for p in range(n))
                ).to_dense()
                for c in range(idx.shape[1])
            ]
        )
        # Hermiticity-preserving generators are real in a Hermitian operator basis
        # (half the cost of complex arithmetic); see _local_node_generators
        r = to_real(gens, dims)
        blocks.append((parties, weights, gens if r is None else r, None, None, r is not None))
    stacked = [blk[2] for blk in blocks]
    twins = [blk[3] for blk in blocks]
    signs = [blk[4] for blk in blocks]
    cache: dict[float, list] = {}
    buffers: dict = {}

    def _buffer(key, dtype):
        if key not in buffers:
            buffers[key] = np.empty(key[1], dtype)
        return buffers[key]

    # Per-node propagators exp(s L_node) by offset s; a multiple m*h of a computed offset
    # h is reached by one batched product (m-1)h -> m h instead of a new exponential.
    node_props: dict[float, list] = {}

    def _local_props(st, tw, sg, fn):
        out = []
        for j, G in enumerate(st):
            if tw[j] is None:
                out.append(fn(j, G))
            elif sg[j] is not None:
                out.append(None)  # the conjugate in the Hermitian basis: a sign pattern of
                # party tw[j]'s propagators, applied where they are used (see channel)
            else:
                out.append(out[tw[j]].conj())
        return out

    def propagators(s: float) -> list:
        key = _key(s)
        if key in node_props:
            return node_props[key]
        if node_props:
            h = min(node_props)
            m = round(s / h)
            if m >= 2 and abs(s - m * h) <= 1e-12 * max(1.0, s) and _key((m - 1) * h) in node_props:
                prev, step = node_props[_key((m - 1) * h)], node_props[_key(h)]
                res = [
                    _local_props(st, tw, sg, lambda j, G, pp=pp, ss=ss: pp[j] @ ss[j])
                    if local
                    else pp @ ss
                    for st, tw, sg, pp, ss in zip(stacked, twins, signs, prev, step)
                ]
                # keep the step h and the newest multiple only: the next offset m h + h
                # needs nothing else, and freed stacks are reused by the allocator
                # (keeping all ten 0.5 MB stacks doubled the products' time in page faults)
                for k in [k for k in node_props if k not in (_key(h), _key((m - 1) * h))]:
                    del node_props[k]
                node_props[key] = res
                return res
        res = [
            _local_props(st, tw, sg, lambda j, G: expm_batched(G * s))
            if local
            else expm_batched(st * s)
            for st, tw, sg in zip(stacked, twins, signs)
        ]
        node_props[key] = res
        return res

    def channel(s: float) -> list:
        key = _key(s)
        if key in cache:
            return cache[key]
        out = []
        for (parties, weights, _, tw, sg, is_real), props in zip(blocks, propagators(s)):
            if local and len(props) == 2:
                # sum_i w_i P0_i (x) P1_i as one matrix product over the nodes; the
                # weighted copy goes to a reused buffer (a fresh 1 MB temporary per
                # offset cost 3x the product itself in page faults). A twin P1_i = P0_i
                # times a sign pattern: the product with P0_i, then the pattern.
                a, b = props
                da = a.shape[1]
                db = da if b is None else b.shape[1]
                wa = _buffer(("wa", a.shape), a.dtype)
                np.multiply(weights[:, None, None], a, out=wa)
                K = wa.reshape(len(weights), -1).T @ (a if b is None else b).reshape(
                    len(weights), -1
                )
                K = K.reshape(da, da, db, db)
                if b is None:
                    K = K * sg[1]
                K = K.transpose(0, 2, 1, 3).reshape(da * db, da * db)
            elif local:
                props = [P if P is not None else props[tw[j]] * sg[j] for j, P in enumerate(props)]
                m = props[0]
                for P in props[1:]:
                    m = np.einsum("iab,icd->iacbd", m, P).reshape(
                        m.shape[0], m.shape[1] * P.shape[1], -1
                    )
                K = np.einsum("i,iab->ab", weights, m)
            else:
                K = np.einsum("i,iab->ab", weights, props)
            if is_real:
                K = from_real(K, [dims[p] for p in parties])
            out.append((parties, K))
        cache[key] = out
        return out

    return tau, channel


def _apply_channel(blocks, x):
    """Apply blocks ``(parties, matrix)`` (matrix on the kron of those parties) to ``x``."""
    for parties, A in blocks:
        if len(parties) == 1:
            x = apply_local(x, parties[0], A)
            continue
        if list(parties) == list(range(parties[0], parties[0] + len(parties))):
            # consecutive parties: one contraction, no tensordot/transpose round trip
            # (B1: 60 us -> 5 us per application, 220 applications per run)
            x = apply_consecutive(x, parties[0], A)
            continue
        sizes = [x.shape[p] for p in parties]
        T = A.reshape(sizes + sizes)
        k = len(parties)
        y = np.tensordot(T, x, axes=(list(range(k, 2 * k)), list(parties)))
        # y axes: parties (in order) then the remaining axes of x in order
        rest = [ax for ax in range(x.ndim) if ax not in parties]
        order = [None] * x.ndim
        for i, p in enumerate(parties):
            order[p] = i
        for i, ax in enumerate(rest):
            order[ax] = k + i
        x = np.transpose(y, order)
    return x


def _record_offsets(x, todo, channel, record, stacks):
    """Record ``channel(s) x`` for the output times ``todo = [(i, s), ...]`` of one
    segment. When every channel is one matrix on all parties (a cluster covering the
    system, or a dense joint channel), they are applied as one stacked product (B1: 200
    applications of 16 x 16 matrices, 18 us each in call overhead, became 20)."""
    if not todo:
        return
    chans = [channel(s) for _, s in todo]
    full = tuple(range(x.ndim))
    if all(len(c) == 1 and tuple(c[0][0]) == full for c in chans):
        key = tuple(_key(s) for _, s in todo)
        if key not in stacks:
            stacks[key] = np.stack([c[0][1] for c in chans])
        ys = stacks[key] @ x.reshape(-1)
        for (i, _), y in zip(todo, ys):
            record(i, y.reshape(x.shape))
        return
    for (i, _), c in zip(todo, chans):
        record(i, _apply_channel(c, x))


def segment_count(start: float, end: float, tau: float) -> int:
    """``J``: a stage from ``start`` to ``end`` is cut into segments at the edges
    ``start + j tau``, ``j = 1..J`` (computed, not accumulated: 10 additions of 0.1 fall
    short of 1.0, which left the output at t = 1.0 unrecorded), then one last segment up
    to ``end`` (of length ``end - start - J tau``, at most ``tau`` up to rounding); an
    edge within ``1e-12 max(1, |end|)`` of the stage end is the stage end. The one edge
    rule of :func:`_run_segment` and of the segment method's channel."""
    close = 1e-12 * max(1.0, abs(end))
    J = max(0, math.floor((end - close - start) / tau))
    while J > 0 and not start + J * tau < end - close:
        J -= 1
    while start + (J + 1) * tau < end - close:
        J += 1
    return J


def _run_segment(x, windows, tlist, record, method, *, held: float = 0.0):
    for start, end, model in windows:
        tau, channel = _segment_stage_channels(model, method)
        if tau is None:
            x = _run_exact(x, [(start, end, model)], tlist, record, held=held)
            continue
        # segments [start + j tau, start + (j + 1) tau], the last one ending at the stage
        # end (segment_count)
        close = 1e-12 * max(1.0, abs(end))
        J = segment_count(start, end, tau)
        j, seg_start, stacks = 0, start, {}
        while seg_start < end - close:
            seg_end = start + (j + 1) * tau if j < J else end
            todo = []
            for i in np.nonzero((tlist > seg_start) & (tlist <= seg_end))[0]:
                s = tlist[i] - seg_start
                if s <= 1e-12 * max(1.0, abs(seg_start)):
                    # an output time on a segment start, missed by round-off of the
                    # accumulated start: the state there (not a new exponential at s ~ 1e-16)
                    record(i, x)
                else:
                    todo.append((i, s))
            _record_offsets(x, todo, channel, record, stacks)
            x = _apply_channel(channel(seg_end - seg_start), x)
            j, seg_start = j + 1, seg_end
    return x


# --------------------------------------------------------------------------- sampled

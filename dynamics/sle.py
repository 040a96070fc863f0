r"""Stochastic Liouville equation (Kubo): exact averages over Markovian classical signals.

For a signal ``xi(t)`` that is a Markov process with generator ``W`` (``dp/dt = W p``),
the joint object is one (unnormalised) density matrix per classical state ``s``,
``rho_s(t) = E[rho(t) 1{xi(t) = s}]``. It obeys the linear equation

.. math::

    \frac{d\rho_s}{dt} = \mathcal{L}_s \rho_s + \sum_{s'} W_{s s'} \rho_{s'},
    \qquad \bar\rho(t) = \sum_s \rho_s(t),

with ``L_s`` the Lindbladian of the realization in state ``s`` (local baths, white
processes through their averaged generator, and ``-i[H(xi_s), .]``). For finite chains
(:class:`~eplt.baths.processes.RandomTelegraph`, :class:`~eplt.baths.processes.MarkovChain`) this
is exact; a deterministic :class:`~eplt.baths.processes.FixedSignal` is a one-state chain
(exact stepping between its breakpoints). For Ornstein-Uhlenbeck noise the classical
index is the mode of the Fokker-Planck operator (Hermite functions, a hierarchy cut at
total order ``depth``); the depth is raised until two depths agree to ``tol`` and the
difference is reported in ``result.params["method"]``.

Stages: the classical variables start afresh (from their ``initial`` law) in every
stage and are averaged out at its end, as in the sampled method, which draws each
stage's signal independently.

State-space growth: every independent classical variable multiplies the joint object
by its size — a telegraph copy per party by 2, an Ornstein-Uhlenbeck copy with ``c``
channels by ``binom(depth + c, c)``; independent copies of a process
(``correlation=0``) are separate variables, and partial correlation adds one shared
variable to the per-party copies. Sizes are estimated before anything is allocated and
refused beyond :data:`MAX_BYTES`.

Factorised propagation: the generator's terms link the parties and the classical
variables into clusters (a party and its own copy of a process; both parties and a
shared process). Averages over independent variables factorise, so every cluster but
the largest is propagated as a small averaged channel on its parties, the largest one
as a state. Clusters up to :data:`DENSE_MAX` entries use cached dense exponentials,
larger ones a Krylov (Arnoldi) propagator with an a-posteriori error bound below
``tol / 100``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .exact import _key
from .model import Model
from .segment import _apply_channel
from .superop import _hamiltonian_superop

__all__ = ["StochasticLiouville"]

#: Clusters (parties x classical states) up to this size are propagated with dense
#: exponentials, larger ones with the Krylov propagator.
DENSE_MAX = 256

#: Largest memory (bytes) the method may allocate for joint objects, Krylov bases and
#: stored output states.
MAX_BYTES = 2**31


@dataclass(frozen=True)
class StochasticLiouville:
    """Stochastic Liouville averaging of Markovian signals (exact, no sampling).

    Parameters
    ----------
    tol : float
        Target accuracy (max abs entry of the averaged state over all output times) of a
        truncated hierarchy (Ornstein-Uhlenbeck): the depth is raised in steps of 2 until
        the states of two consecutive depths differ by less than ``tol``; the deeper one
        is returned. The Krylov propagator works to ``tol / 100``. Finite chains are exact.
    depth : int, optional
        Fixed hierarchy depth (no search); the difference to ``depth - 2`` is still
        computed and reported.
    max_depth : int
        Largest depth the search may reach (a RuntimeWarning if not converged there).
    krylov_dim : int
        Krylov subspace dimension of the large-cluster propagator.

    Examples
    --------
    >>> import numpy as np, qutip
    >>> from baths import Drive, Environment, RandomTelegraph
    >>> env = Environment((2,), [Drive(RandomTelegraph(rate=1.0, amplitude=0.5), 0, [qutip.sigmaz()])])
    >>> from eplt.dynamics.propagate import evolve
    >>> res = evolve(qutip.ket2dm((qutip.basis(2, 0) + qutip.basis(2, 1)).unit()), env, [0, 1.0],
    ...              e_ops={"sx": qutip.sigmax()}, method=StochasticLiouville())
    >>> round(float(res.expect["sx"][-1]), 10)  # e^{-1}(cosh 0 + sinh(0)/0 -> 1 + t)
    0.7357588823
    """

    tol: float = 1e-8
    depth: int | None = None
    max_depth: int = 60
    krylov_dim: int = 30
    name = "sle"

    def __post_init__(self):
        if not (isinstance(self.tol, (int, float)) and 0 < self.tol < 1):
            raise ValueError(f"tol must lie in (0, 1), got {self.tol!r}")
        if self.depth is not None and (
            not isinstance(self.depth, (int, np.integer)) or self.depth < 2
        ):
            raise ValueError(f"depth must be an integer >= 2 or None, got {self.depth!r}")
        if not isinstance(self.max_depth, (int, np.integer)) or self.max_depth < 2:
            raise ValueError(f"max_depth must be an integer >= 2, got {self.max_depth!r}")
        if not isinstance(self.krylov_dim, (int, np.integer)) or self.krylov_dim < 2:
            raise ValueError(f"krylov_dim must be an integer >= 2, got {self.krylov_dim!r}")


def is_markovian(model: Model) -> bool:
    """True when every process of ``model`` is white or Markovian (SLE applies)."""
    return all(
        s.process.white or (getattr(s.process, "markovian", False) and _plain_actions(s))
        for s in model.sources
    )


def _plain_actions(src) -> bool:
    return all(getattr(a, "generators", ()) for a in src.actions)


# --------------------------------------------------------------------------- stage terms


def _stage_terms(model: Model, depth: int, t: float):
    """Terms ``(coeff, {axis: matrix})`` of the joint generator and its classical factors.

    Axes ``0..n-1`` are the parties (paired, ``d^2``), axis ``n + f`` is factor ``f``.
    One-state factors (deterministic signals) are folded into local terms.
    """
    n = len(model.dims)
    white = Model(model.dims, model.local, tuple(s for s in model.sources if s.process.white))
    terms = [(complex(pt.coeff), dict(pt.factors)) for pt in white.averaged_generator().terms]
    factors = []
    for src in model.sources:
        proc = src.process
        if proc.white:
            continue
        if not getattr(proc, "markovian", False):
            raise TypeError(
                f"process {proc.name!r} ({type(proc).__name__}) is not Markovian; "
                "use method='sampled' (or 'segment' for i.i.d. pulses)"
            )
        if not _plain_actions(src):
            raise TypeError(f"process {proc.name!r}: matrix-valued signals need method='sampled'")
        ops = [
            (a.party, [_hamiltonian_superop(A) for A in a.unit_operators()]) for a in src.actions
        ]
        for f in proc.markov_factors(depth=depth, t=t):
            nch = len(f.values)
            for a in src.actions:
                if len(a.generators) != nch:
                    raise ValueError(
                        f"process {proc.name!r} has {nch} channels, its drive on party "
                        f"{a.party} has {len(a.generators)} generators"
                    )
            if f.size == 1:
                for party, As in ops:
                    for k in range(nch):
                        v = complex(_dense(f.values[k])[0, 0])
                        if v != 0:
                            terms.append((v, {party: As[k]}))
                continue
            ax = n + len(factors)
            factors.append(f)
            terms.append((1.0, {ax: f.generator}))
            for party, As in ops:
                for k in range(nch):
                    if _nnz(f.values[k]):
                        terms.append((1.0, {ax: f.values[k], party: As[k]}))
    d0 = model.dims[0] ** 2
    terms = [(c, fac if fac else {0: np.eye(d0)}) for c, fac in terms]
    return terms, factors


def _dense(a) -> np.ndarray:
    return a.toarray() if sp.issparse(a) else np.asarray(a)


def _nnz(a) -> int:
    return a.count_nonzero() if sp.issparse(a) else int(np.count_nonzero(a))


def _clusters(n_axes: int, terms) -> list[tuple[int, ...]]:
    """Connected components of the axes under the multi-axis terms (union-find)."""
    parent = list(range(n_axes))

    def root(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for _, fac in terms:
        axes = list(fac)
        for b in axes[1:]:
            parent[root(b)] = root(axes[0])
    groups: dict[int, list[int]] = {}
    for a in range(n_axes):
        groups.setdefault(root(a), []).append(a)
    return sorted(tuple(sorted(g)) for g in groups.values())


def _cluster_matrix(axes, sizes, terms):
    """Sum of the terms inside ``axes`` as one matrix on the kron of those axes (dense up
    to :data:`DENSE_MAX`, else CSR)."""
    N = int(np.prod([sizes[a] for a in axes]))
    inside = [(c, fac) for c, fac in terms if set(fac) <= set(axes)]
    if N <= DENSE_MAX:
        out = np.zeros((N, N), complex)
        for c, fac in inside:
            m = np.ones((1, 1), complex)
            for a in axes:
                f = fac.get(a)
                m = np.kron(m, np.eye(sizes[a]) if f is None else _dense(f))
            out += c * m
        return out
    rows, cols, vals = [], [], []
    for c, fac in inside:
        r, q, v = np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(1, complex(c))
        for a in axes:
            f = fac.get(a)
            if f is None:
                fr = fq = np.arange(sizes[a])
                fv = np.ones(sizes[a])
            elif sp.issparse(f):
                f = f.tocoo()
                fr, fq, fv = f.row, f.col, f.data
            else:
                fr, fq = np.nonzero(f)
                fv = np.asarray(f)[fr, fq]
            r = (r[:, None] * sizes[a] + fr[None, :]).reshape(-1)
            q = (q[:, None] * sizes[a] + fq[None, :]).reshape(-1)
            v = (v[:, None] * fv[None, :]).reshape(-1)
        rows.append(r)
        cols.append(q)
        vals.append(v)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N)
    )


# --------------------------------------------------------------------------- propagators


def _dense_steps(L, Y, offsets, readout):
    """Readouts of ``exp(L s) Y`` at each offset ``s`` (increasing), and the last state."""
    cache: dict[float, np.ndarray] = {}
    outs, prev = [], 0.0
    for s in offsets:
        dt = s - prev
        if dt > 0:
            key = _key(dt)
            if key not in cache:
                cache[key] = sla.expm(L * dt)
            Y = cache[key] @ Y
        outs.append(readout(Y))
        prev = s
    return outs, Y


def _krylov_column(L, v, offsets, reduce, tol, mmax):
    """``reduce(exp(L s) v)`` at each offset by restarted Arnoldi, and the last vector.

    The error of each output is bounded a posteriori by
    ``beta h_{m+1,m} |e_m^T exp(s H_m) e_1|`` (Saad 1992), kept below ``tol``; a Krylov
    basis serves as many consecutive outputs as that bound allows.
    """
    N = v.size
    m = min(mmax, N)
    outs, t, j = [], 0.0, 0
    # one basis buffer for all restarts: a fresh one per restart cost more in page
    # faults than the Arnoldi steps themselves
    V = np.empty((m + 1, N), complex)
    while j < len(offsets):
        beta = float(np.linalg.norm(v))
        if beta == 0:
            outs.extend(reduce(v[None])[0] for _ in offsets[j:])
            break
        H = np.zeros((m + 1, m), complex)
        V[0] = v / beta
        k_used, happy = m, False
        for k in range(m):
            w = L @ V[k]
            # classical Gram-Schmidt, repeated once when the first pass cancelled much
            # of w ("twice is enough", Kahan-Parlett)
            w_norm = float(np.linalg.norm(w))
            for _ in range(2):
                h = (V[: k + 1] @ w.conj()).conj()
                w -= h @ V[: k + 1]
                H[: k + 1, k] += h
                hn = float(np.linalg.norm(w))
                if hn > 0.7 * w_norm:
                    break
                w_norm = hn
            H[k + 1, k] = hn
            if hn <= 1e-14 * max(1.0, float(np.abs(H[: k + 2, : k + 1]).max())):
                k_used, happy = k + 1, True
                break
            V[k + 1] = w / hn
        Hm = H[:k_used, :k_used]
        h_next = 0.0 if happy else abs(H[k_used, k_used - 1])
        R = reduce(V[:k_used])
        accepted = None
        # exp(s H) e_1 at consecutive offsets by cached step exponentials (one per spacing)
        y, s_prev, steps = np.eye(k_used, 1, dtype=complex)[:, 0], 0.0, {}
        while j < len(offsets):
            ds = offsets[j] - t - s_prev
            key = _key(ds)
            if key not in steps:
                steps[key] = sla.expm(ds * Hm)
            y_new = steps[key] @ y
            if beta * h_next * abs(y_new[-1]) > tol:
                break
            y, s_prev = y_new, offsets[j] - t
            outs.append(beta * (y @ R))
            accepted = (s_prev, y)
            j += 1
        if accepted is None:  # the next output is too far for one basis: a shorter step
            s = offsets[j] - t
            for _ in range(60):
                s /= 2
                y = sla.expm(s * Hm)[:, 0]
                if beta * h_next * abs(y[-1]) <= tol:
                    break
            accepted = (s, y)
        s, y = accepted
        v = beta * (y @ V[:k_used])
        t += s
    return outs, v


# --------------------------------------------------------------------------- stage


class _Cluster:
    def __init__(self, axes, n, sizes, factors, x_dims):
        self.axes = axes
        self.qaxes = tuple(a for a in axes if a < n)
        fac = [factors[a - n] for a in axes if a >= n]
        self.Q = int(np.prod([x_dims[a] for a in self.qaxes]))
        self.M = int(np.prod([f.size for f in fac]))
        self.initial = np.ones(1, complex)
        self.readout = np.ones(1, complex)
        for f in fac:
            self.initial = np.kron(self.initial, f.initial)
            self.readout = np.kron(self.readout, f.readout)
        self.N = self.Q * self.M

    def reduce(self, Y):
        """Contract the classical index with the readout: ``(Q M, k) -> (Q, k)``."""
        return np.einsum("qmc,m->qc", Y.reshape(self.Q, self.M, -1), self.readout)

    def reduce_rows(self, V):
        """The same for a stack of row vectors: ``(r, Q M) -> (r, Q)``."""
        return V.reshape(V.shape[0], self.Q, self.M) @ self.readout


def _propagate(cluster: _Cluster, Y, pieces, mats, method):
    """Readouts of the cluster's object at every target of every piece, and the last object."""
    outs = []
    for (_, _, offsets, _), L in zip(pieces, mats):
        if sp.issparse(L):
            cols, last = [], []
            for c in range(Y.shape[1]):
                o, v = _krylov_column(
                    L, Y[:, c], offsets, cluster.reduce_rows, method.tol * 1e-2, method.krylov_dim
                )
                cols.append(o)
                last.append(v)
            outs.extend(np.stack([col[j] for col in cols], axis=-1) for j in range(len(offsets)))
            Y = np.stack(last, axis=-1)
        else:
            o, Y = _dense_steps(L, Y, offsets, cluster.reduce)
            outs.extend(o)
    return outs, Y


def _run_stage(x, start, end, model: Model, tlist, record, method, depth):
    n = len(model.dims)
    bps = sorted(
        {
            float(b)
            for s in model.sources
            if not s.process.white
            for b in s.process.breakpoints(start, end)
        }
    )
    edges = [start, *bps, end]
    out_idx = np.nonzero((tlist > start) & (tlist <= end))[0]
    pieces, built = [], []
    for a, b in itertools.pairwise(edges):
        sel = [int(i) for i in out_idx if a < tlist[i] <= b]
        ids = sel + ([] if sel and tlist[sel[-1]] == b else [None])
        targets = [(tlist[i] if i is not None else b) - a for i in ids]
        pieces.append((a, b, targets, ids))
        built.append(_stage_terms(model, depth, (a + b) / 2))
    factors = built[0][1]
    x_dims = list(x.shape)
    sizes = x_dims + [f.size for f in factors]
    clusters = [
        _Cluster(ax, n, sizes, factors, x_dims)
        for ax in _clusters(len(sizes), [t for terms, _ in built for t in terms])
    ]
    _check_memory(clusters, x, tlist.size, method)
    main = max(range(len(clusters)), key=lambda c: (clusters[c].N, clusters[c].M))
    # averaged channels of the other clusters at every target
    lams = {}
    for c, cl in enumerate(clusters):
        if c == main:
            continue
        Y0 = np.kron(np.eye(cl.Q), cl.initial[:, None])
        mats = [_cluster_matrix(cl.axes, sizes, terms) for terms, _ in built]
        lams[c] = _propagate(cl, Y0, pieces, mats, method)[0]
    # the largest cluster carries the state (the other parties as spectator columns)
    cl = clusters[main]
    spect = [a for a in range(n) if a not in cl.qaxes]
    order = list(cl.qaxes) + spect
    xt = np.transpose(x, order).reshape(cl.Q, -1)
    Y0 = (xt[:, None, :] * cl.initial[None, :, None]).reshape(cl.N, -1)
    mats = [_cluster_matrix(cl.axes, sizes, terms) for terms, _ in built]
    outs, _ = _propagate(cl, Y0, pieces, mats, method)
    inv = np.argsort(order)
    ids = [i for *_, piece_ids in pieces for i in piece_ids]
    x_end = x
    for j, i in enumerate(ids):
        y = np.transpose(outs[j].reshape([x_dims[a] for a in order]), inv)
        blocks = [(clusters[c].qaxes, lam[j]) for c, lam in lams.items() if clusters[c].qaxes]
        y = _apply_channel(blocks, y) if blocks else y
        y = np.ascontiguousarray(y)
        if i is not None:
            record(i, y)
        x_end = y
    return x_end


def _check_memory(clusters, x, T, method):
    Q = x.size
    need = 0
    for cl in clusters:
        cols = max(1, Q // cl.Q)
        if cl.N <= DENSE_MAX:
            need += 16 * (3 * cl.N * cl.N + 2 * cl.N * max(cols, cl.Q))
        else:
            need += 16 * cl.N * (method.krylov_dim + 4 + max(cols, cl.Q)) + 16 * 40 * cl.N
        need += 16 * T * cl.Q * max(cols, cl.Q)
    if need > MAX_BYTES:
        desc = " x ".join(f"{cl.Q}*{cl.M}" for cl in clusters if cl.M > 1) or str(Q)
        raise MemoryError(
            f"stochastic Liouville state space too large: clusters (parties x classical states) "
            f"{desc}, ~{need / 2**30:.1f} GiB needed, limit {MAX_BYTES / 2**30:.1f} GiB "
            "(eplt.dynamics.sle.MAX_BYTES); use method='sampled', fewer independent copies or a smaller depth"
        )


# --------------------------------------------------------------------------- driver


def _truncated(windows) -> bool:
    for start, _end, model in windows:
        for s in model.sources:
            if not s.process.white and getattr(s.process, "markovian", False):
                if any(f.truncated for f in s.process.markov_factors(depth=2, t=start)):
                    return True
    return False


def _run_all(x, windows, tlist, record, method, depth):
    for start, end, model in windows:
        if end > start:
            x = _run_stage(x, start, end, model, tlist, record, method, depth)
    return x


def _run_sle(x0, windows, tlist, record, method: StochasticLiouville) -> dict:
    """Propagate; call ``record(i, state)`` for every output time after the first.

    Returns the convergence information stored in ``result.params["method"]``.
    """
    if not _truncated(windows):
        _run_all(x0, windows, tlist, record, method, 0)
        return {"exact": True}
    if tlist.size * x0.size * 16 * 2 > MAX_BYTES:
        raise MemoryError(
            f"the depth check stores {tlist.size} states of {x0.size} entries twice "
            f"(~{tlist.size * x0.size * 32 / 2**30:.1f} GiB > {MAX_BYTES / 2**30:.1f} GiB); "
            "use fewer output times"
        )

    def run(K):
        states = {}
        _run_all(x0, windows, tlist, lambda i, y: states.__setitem__(i, y.copy()), method, K)
        return states

    def diff(a, b):
        return max((float(np.abs(a[i] - b[i]).max()) for i in a), default=0.0)

    if method.depth is not None:
        K = int(method.depth)
        prev, cur = run(K - 2), run(K)
        d = diff(prev, cur)
        trace = [(K, d)]
    else:
        K = 4
        prev, cur = run(K - 2), run(K)
        d = diff(prev, cur)
        d_last, trace = None, [(K, d)]
        while d > method.tol and K + 2 <= method.max_depth:
            step = 2
            if d_last is not None and 0 < d < d_last:
                # extrapolate the (at least geometric) convergence, at most tripling K
                steps = math.ceil(math.log(method.tol / d) / math.log(d / d_last))
                step = 2 * max(1, min(steps, K))
            step = min(step, method.max_depth - K)
            if step > 2:
                prev, K = run(K + step - 2), K + step
            else:
                prev, K = cur, K + 2
            d_last = d
            cur = run(K)
            d = diff(prev, cur)
            trace.append((K, d))
    if d > method.tol:
        warnings.warn(
            f"stochastic Liouville hierarchy not converged: depth {K - 2} vs {K} differ by "
            f"{d:.2e} > tol {method.tol:g} (max_depth {method.max_depth})",
            RuntimeWarning,
            stacklevel=4,
        )
    for i in sorted(cur):
        record(i, cur[i])
    return {
        "depth": K,
        "depth_difference": d,
        "compared_depth": K - 2,
        "converged": d <= method.tol,
        "depth_search": [[k, float(v)] for k, v in trace],
    }

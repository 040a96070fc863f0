"""Exact propagation of a sparse generator on the permutation-invariant space (private).

The generator splits into weakly connected components (e.g. the GHZ twirl stage, local
dephasing plus the global flip, into pairs ``k <-> flip(k)``). Components of at most
``block_max`` elements are exponentiated densely, batched by size (Pade, one exponential
per distinct time step, cached); the remaining ones together by scipy's
``expm_multiply`` (Al-Mohy & Higham 2011, truncated Taylor series at double precision),
all output times of a uniform grid in one call.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from ._expm import expm_batched


def _key(dt: float) -> float:
    return float(f"{dt:.12e}")


class SymPropagator:
    """``x -> exp(M dt) x`` for a sparse generator ``M`` (constant within a stage).

    Components on which the state vanishes stay zero and are skipped: a noisy GHZ input
    of 100 qubits touches about n + 3 of the 176,851 coefficients."""

    def __init__(self, M: sp.csr_matrix, block_max: int):
        M = M.tocsr()
        M.eliminate_zeros()
        self.M = M
        self.block_max = block_max
        pattern = sp.csr_matrix((np.ones(M.nnz), M.indices, M.indptr), shape=M.shape)
        self.ncomp, self.labels = csgraph.connected_components(
            pattern, directed=True, connection="weak"
        )
        self.sizes = np.bincount(self.labels, minlength=self.ncomp)
        self.order = np.argsort(self.labels, kind="stable")
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)])
        self.last: dict = {}

    def describe(self) -> dict:
        return {
            "components": int(self.ncomp),
            "largest_component": int(self.sizes.max(initial=0)),
            **self.last,
        }

    def _plan(self, x: np.ndarray):
        """Dense groups ``[(indices (nb, s), blocks (nb, s, s))]`` and the Krylov indices
        of the components on which ``x`` does not vanish."""
        active = np.zeros(self.ncomp, dtype=bool)
        active[self.labels[x != 0]] = True
        comps = np.nonzero(active)[0]
        small = comps[self.sizes[comps] <= self.block_max]
        large = comps[self.sizes[comps] > self.block_max]
        groups = []
        for s in np.unique(self.sizes[small]):
            cs = small[self.sizes[small] == s]
            idx = self.order[self.starts[cs][:, None] + np.arange(s)[None, :]]
            rows = idx.reshape(-1)
            sub = self.M[rows][:, rows].tocoo()
            B = np.zeros((cs.size, s, s), dtype=complex)
            B[sub.row // s, sub.row % s, sub.col % s] = sub.data
            groups.append((idx, B))
        kry = (
            np.sort(
                np.concatenate([self.order[self.starts[c] : self.starts[c + 1]] for c in large])
            )
            if large.size
            else None
        )
        self.last = {
            "active_coefficients": int(self.sizes[comps].sum()),
            "krylov_size": 0 if kry is None else int(kry.size),
        }
        return groups, kry

    def advance(self, x: np.ndarray, dts: np.ndarray):
        """Yield the state after each cumulative step of ``dts`` (all > 0) from ``x``.

        Each run of equal steps takes one Krylov sweep over its output times."""
        dts = np.asarray(dts, dtype=float)
        groups, kry = self._plan(x)
        Mk = None if kry is None else self.M[kry][:, kry].tocsr()
        cache: dict[float, list[np.ndarray]] = {}
        y, j = x, 0
        while j < dts.size:
            dt, m = dts[j], 1
            while j + m < dts.size and abs(dts[j + m] - dt) <= 1e-10 * dt:
                m += 1
            if kry is not None:
                ys = spla.expm_multiply(
                    Mk, y[kry], start=0.0, stop=m * dt, num=m + 1, endpoint=True
                )[1:]
            key = _key(dt)
            if key not in cache:
                cache[key] = [expm_batched(B * dt) for _, B in groups]
            for i in range(m):
                y = y.copy()
                for (idx, _), P in zip(groups, cache[key]):
                    # elementwise (numpy's stacked matmul is slow for tiny matrices)
                    xs = y[idx]
                    y[idx] = (P * xs[:, None, :]).sum(axis=2) if P.shape[1] > 1 else P[:, 0] * xs
                if kry is not None:
                    y[kry] = ys[i]
                yield y
            j += m

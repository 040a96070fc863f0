"""Generators of Markov signals for the stochastic Liouville method (private helpers of
:mod:`eplt.baths.processes`): product chains, stationary laws, the Ornstein-Uhlenbeck Hermite
hierarchy."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from eplt.dynamics.model import MarkovFactor


def _product_chain(generators, values) -> MarkovFactor:
    """Independent chains (one per channel) as one factor on the product state space."""
    sizes = [np.shape(W)[0] for W in generators]
    m = int(np.prod(sizes))
    W = np.zeros((m, m))
    V = [None] * len(values)
    p0 = np.ones(1)
    for k, (Wk, vk) in enumerate(zip(generators, values)):
        left, right = np.eye(int(np.prod(sizes[:k]))), np.eye(int(np.prod(sizes[k + 1 :])))
        W += np.kron(np.kron(left, Wk), right)
        V[k] = np.diag(np.kron(np.kron(np.diag(left), vk), np.diag(right)))
        p0 = np.kron(p0, _stationary(Wk))
    return MarkovFactor(W, V, p0, np.ones(m))


def _stationary(W) -> np.ndarray:
    """The stationary law of ``dp/dt = W p`` (unique: else a ValueError)."""
    W = np.asarray(W, dtype=float)
    m = W.shape[0]
    if m == 1:
        return np.ones(1)
    # W p = 0 with sum(p) = 1, least squares; unique iff the augmented matrix has full rank
    A = np.vstack([W, np.ones((1, m))])
    b = np.zeros(m + 1)
    b[-1] = 1.0
    p, _, rank, _ = np.linalg.lstsq(A, b, rcond=None)
    if rank < m:
        raise ValueError(
            "the chain has no unique stationary law (it is reducible); give initial explicitly"
        )
    return np.clip(p, 0.0, None) / np.clip(p, 0.0, None).sum()


def _hermite_hierarchy(sigma: float, tau_c: float, channels: int, depth: int) -> MarkovFactor:
    """Ornstein-Uhlenbeck Fokker-Planck modes with total order <= depth (see the class)."""
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    modes = [n for n in _multi_indices(channels, depth)]
    pos = {n: i for i, n in enumerate(modes)}
    m = len(modes)
    W = sp.diags([[-sum(n) / tau_c for n in modes]], [0], format="csr")
    V = []
    for k in range(channels):
        i = [a for a, n in enumerate(modes) if n[k] > 0]
        j = [pos[modes[a][:k] + (modes[a][k] - 1,) + modes[a][k + 1 :]] for a in i]
        v = [sigma * math.sqrt(modes[a][k]) for a in i]
        V.append(sp.csr_matrix((v + v, (i + j, j + i)), shape=(m, m)))
    e0 = np.zeros(m)
    e0[0] = 1.0
    return MarkovFactor(W, V, e0, e0, truncated=True)


def _multi_indices(channels: int, depth: int):
    """Multi-indices of ``channels`` non-negative integers with sum <= depth, by total order."""
    out = [()]
    for _ in range(channels):
        out = [n + (j,) for n in out for j in range(depth + 1 - sum(n))]
    return sorted(out, key=lambda n: (sum(n), tuple(-x for x in n)))

r"""The permutation-invariant operator space of n qubits (private to :mod:`~eplt.dynamics.permutation`).

Basis. Write the local matrix units in the engine's row-major order,
``e_0 = |0><0|, e_1 = |0><1|, e_2 = |1><0|, e_3 = |1><1|`` (``mu = 2 i + j`` for ``|i><j|``).
A word ``w = (w_1, ..., w_n)`` labels the product ``e_{w_1} (x) ... (x) e_{w_n}``, an entry of
an n-qubit matrix. An operator is permutation invariant iff its entry depends only on the
*counts* ``k = (k_0, k_1, k_2, k_3)`` of the letters of its word, so it is described by the
numbers ``c_k`` (the matrix entry at any word of counts k), ``binom(n + 3, 3)`` of them: the
same number as the entries of the Dicke blocks ``sum_j (2j + 1)^2``
(:func:`~eplt.dynamics.permutation.dicke_blocks`).

The solver works with the *mass* coefficients ``m_k = W_k c_k``, ``W_k = n!/prod_mu k_mu!``
the number of words of counts k (for a diagonal k, ``m_k`` is the probability of the type
class): trace, marginals and GHZ fidelity are sums of ``m_k`` with weights in [0, 1], so a
propagation error relative to ``||m||_1`` stays of that size in every observable (the raw
entries ``c_k`` would multiply it by up to ``binom(n, n/2)``, 1e29 at n = 100).

Generators. A superoperator ``S`` (4 x 4, engine layout, ``S[mu, nu]`` the weight of ``e_mu``
in ``S(e_nu)``) applied to every qubit and summed, ``S_hat = sum_p S^(p)``, acts as the
one-body (number conserving) operator

    (S_hat m)_k' = sum_{mu, nu} S[mu, nu] k_nu m_k,   k = k' - e_mu + e_nu,

and a product channel ``K^(x)n`` whose matrix ``K`` has one nonzero entry per column
(a unitary that permutes basis states up to phases) maps ``c`` to ``c_k' = prod_nu
phase_nu^{k_nu} c_k`` with ``k_nu = k'_{pi(nu)}`` (the same for ``m``: ``W`` is symmetric). Collective operators such as
``J = sum_p V^(p)`` multiply from the left and the right as ``L_hat(V)``, ``R_hat(V)``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln

#: Letters of the local matrix units: (row bit i, column bit j) of ``e_mu``.
_ROW = np.array([0, 0, 1, 1])
_COL = np.array([0, 1, 0, 1])


class SymSpace:
    """Counts ``k`` of the permutation-invariant operators of ``n`` qubits, with an index.

    Attributes
    ----------
    n : int
    K : ndarray, shape (D, 4)
        The counts of every basis element, ``D = binom(n + 3, 3)``.
    """

    def __init__(self, n: int):
        self.n = n = int(n)
        k1, k2, k3 = np.meshgrid(*(np.arange(n + 1),) * 3, indexing="ij")
        ok = k1 + k2 + k3 <= n
        k1, k2, k3 = k1[ok], k2[ok], k3[ok]
        self.K = np.stack([n - k1 - k2 - k3, k1, k2, k3], axis=1).astype(np.int64)
        self.D = self.K.shape[0]
        self._lookup = np.full((n + 1,) * 3, -1, dtype=np.int64)
        self._lookup[k1, k2, k3] = np.arange(self.D)
        lg = gammaln(self.K + 1.0).sum(axis=1)
        #: log of the number of words with counts k (the multinomial coefficient)
        self.log_words = gammaln(n + 1.0) - lg

    def index(self, K: np.ndarray) -> np.ndarray:
        """Index of each row of counts ``K`` (shape (m, 4))."""
        K = np.asarray(K)
        return self._lookup[K[:, 1], K[:, 2], K[:, 3]]

    # ------------------------------------------------------------------ operators
    def one_body(self, S: np.ndarray) -> sp.csr_matrix:
        """``sum_p S^(p)`` for a 4 x 4 engine-layout superoperator ``S``."""
        S = np.asarray(S, dtype=complex)
        rows, cols, vals = [], [], []
        for mu in range(4):
            sel = np.nonzero(self.K[:, mu] >= 1)[0]
            for nu in range(4):
                if S[mu, nu] == 0:
                    continue
                src = self.K[sel].copy()
                src[:, mu] -= 1
                src[:, nu] += 1
                rows.append(sel)
                cols.append(self.index(src))
                vals.append(src[:, nu] * S[mu, nu])
        if not rows:
            return sp.csr_matrix((self.D, self.D), dtype=complex)
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.D, self.D),
        )

    def left(self, X: np.ndarray) -> sp.csr_matrix:
        """Left multiplication by ``sum_p X^(p)`` (X a 2 x 2 operator)."""
        return self.one_body(np.kron(X, np.eye(2)))

    def right(self, X: np.ndarray) -> sp.csr_matrix:
        """Right multiplication by ``sum_p X^(p)``."""
        return self.one_body(np.kron(np.eye(2), np.asarray(X).T))

    def collective_dissipator(self, V: np.ndarray) -> sp.csr_matrix:
        """``D[J] rho = J rho J^+ - {J^+ J, rho}/2`` for ``J = sum_p V^(p)``."""
        V = np.asarray(V, dtype=complex)
        Vd = V.conj().T
        Lv, Lvd, Rv, Rvd = self.left(V), self.left(Vd), self.right(V), self.right(Vd)
        return (Lv @ Rvd - 0.5 * (Lvd @ Lv) - 0.5 * (Rv @ Rvd)).tocsr()

    def product_monomial(self, K: np.ndarray) -> sp.csr_matrix:
        """The product channel ``K^(x)n`` for ``K`` with one nonzero entry per column."""
        K = np.asarray(K, dtype=complex)
        pi = np.argmax(np.abs(K), axis=0)  # e_nu -> phase_nu e_{pi(nu)}
        phase = K[pi, np.arange(4)]
        src = self.K[:, pi]  # k_nu = k'_{pi(nu)}
        with np.errstate(divide="ignore"):
            logmag = (src * np.log(np.abs(phase))).sum(axis=1)
        val = np.exp(logmag + 1j * (src * np.angle(phase)).sum(axis=1))
        return sp.csr_matrix((val, (np.arange(self.D), self.index(src))), shape=(self.D,) * 2)

    def to_mass(self, c: np.ndarray) -> np.ndarray:
        """Entries ``c_k`` -> mass coefficients ``W_k c_k``."""
        return c * np.exp(self.log_words)

    def from_mass(self, m: np.ndarray) -> np.ndarray:
        return m * np.exp(-self.log_words)

    def product_vector(self, a: np.ndarray) -> np.ndarray:
        """Mass coefficients of ``sigma^(x)n`` for the local operator with row-major entries ``a``."""
        a = np.asarray(a, dtype=complex).reshape(4)
        logmag = self.log_words.copy()
        phase = np.zeros(self.D)
        zero = np.zeros(self.D, dtype=bool)
        for mu in range(4):
            k = self.K[:, mu]
            if a[mu] == 0:
                zero |= k > 0
            else:
                logmag += k * np.log(abs(a[mu]))
                phase += k * np.angle(a[mu])
        out = np.exp(logmag + 1j * phase)
        out[zero] = 0
        return out

    # ------------------------------------------------------------------ functionals
    def diagonal_sum(self, m: int, add: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices and weights of ``sum over the diagonal words of m qubits`` of the entries
        at ``(a, 0, 0, m - a) + add`` (weight ``binom(m, a)`` on ``c``), as weights on the
        mass coefficients: ``binom(m, a) / W_k`` (in [0, 1])."""
        a = np.arange(m + 1)
        K = np.zeros((m + 1, 4), dtype=np.int64)
        K[:, 0], K[:, 3] = a, m - a
        K += np.asarray(add, dtype=np.int64)
        idx = self.index(K)
        logb = gammaln(m + 1.0) - gammaln(a + 1.0) - gammaln(m - a + 1.0)
        return idx, np.exp(logb - self.log_words[idx])

    def trace(self, x: np.ndarray) -> np.ndarray:
        """``Tr rho`` from mass coefficients (shape ``(..., D)``)."""
        idx, w = self.diagonal_sum(self.n, np.zeros(4))
        return x[..., idx] @ w

    def marginal(self, x: np.ndarray, m: int = 1) -> np.ndarray:
        """Reduced state of the first ``m`` qubits (``m`` = 1 or 2), shape ``(..., 2^m, 2^m)``,
        from mass coefficients."""
        if not 1 <= m <= min(2, self.n):
            raise ValueError(f"marginal of m = 1 or 2 qubits (at most n = {self.n}), got {m}")
        d = 2**m
        out = np.zeros(x.shape[:-1] + (d, d), dtype=complex)
        for word in np.ndindex(*(4,) * m):
            add = np.bincount(np.array(word), minlength=4)
            idx, w = self.diagonal_sum(self.n - m, add)
            row = sum(int(_ROW[mu]) << (m - 1 - s) for s, mu in enumerate(word))
            col = sum(int(_COL[mu]) << (m - 1 - s) for s, mu in enumerate(word))
            out[..., row, col] = x[..., idx] @ w
        return out

    def purity(self, x: np.ndarray) -> np.ndarray:
        """``Tr rho^2 = sum_k W_k |c_k|^2 = sum_k |m_k|^2 / W_k`` (rho Hermitian)."""
        with np.errstate(divide="ignore"):
            logx = np.log(np.abs(x))
        return np.exp(2 * logx - self.log_words).sum(axis=-1)

    # ------------------------------------------------------------------ dense (small n)
    def counts_of_entries(self) -> np.ndarray:
        """Index of the basis element of every entry of a dense ``2^n x 2^n`` matrix."""
        n = self.n
        r = np.arange(2**n)[:, None]
        c = np.arange(2**n)[None, :]

        def pop(x):
            x = np.asarray(x, dtype=np.int64)
            out = np.zeros(np.broadcast(x).shape, dtype=np.int64)
            for b in range(n):
                out += (x >> b) & 1
            return out

        k3 = pop(r & c)
        k2 = pop(r & ~c & (2**n - 1))
        k1 = pop(~r & c & (2**n - 1))
        return self._lookup[k1, k2, k3]

    def representative(self, k) -> tuple[int, int]:
        """Row and column index of one word with counts ``k`` (letters 1, 2, 3 first)."""
        word = [1] * int(k[1]) + [2] * int(k[2]) + [3] * int(k[3]) + [0] * int(k[0])
        row = sum(int(_ROW[mu]) << (self.n - 1 - s) for s, mu in enumerate(word))
        col = sum(int(_COL[mu]) << (self.n - 1 - s) for s, mu in enumerate(word))
        return row, col


def symmetric_dimension(n: int) -> int:
    """``binom(n + 3, 3)``: the number of permutation-invariant operator basis elements."""
    return math.comb(int(n) + 3, 3)

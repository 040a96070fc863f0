"""The engine's generator of one stage: a sum of product terms on the parties
(:class:`Generator`, :class:`ProductTerm`), in the engine's private row-stacked ("paired")
layout of :mod:`eplt.dynamics.superop`; converted to QuTiP's convention only at the public
boundary (:meth:`Generator.to_qutip`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import qutip
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .superop import _dense, apply_local

__all__ = ["Generator", "ProductTerm"]


def _nonzeros(f, m: int):
    """Rows, columns and values of the nonzeros of a local factor (identity when None)."""
    if f is None:
        i = np.arange(m, dtype=np.int64)
        return i, i, np.ones(m, dtype=complex)
    if sp.issparse(f):
        c = f.tocoo()
        return c.row.astype(np.int64), c.col.astype(np.int64), c.data.astype(complex)
    f = np.asarray(f)
    r, c = np.nonzero(f)
    return r.astype(np.int64), c.astype(np.int64), f[r, c].astype(complex)


def _growth_rate(L: np.ndarray, d: int) -> float:
    """``s`` with ``Tr(L x) = s Tr(x)`` for every ``x`` when ``L`` scales the trace
    (exactly, from the trace functional), else the spectral abscissa of ``L``."""
    u = np.eye(d).reshape(-1)  # Tr x = u . vec(x) in the row-major layout
    left = u @ L
    s = complex(left @ u) / d
    if np.allclose(left, s * u, rtol=0, atol=1e-12 * max(1.0, float(np.abs(L).max()))):
        return float(s.real)
    return float(np.linalg.eigvals(L).real.max())


def _factor_bytes(f) -> int:
    """Bytes of a local factor (dense array, or a sparse matrix's arrays)."""
    if sp.issparse(f):
        f = f.tocsr() if f.format != "csr" else f
        return int(f.data.nbytes + f.indices.nbytes + f.indptr.nbytes)
    return int(np.asarray(f).nbytes)


def _sum_scaled(pairs):
    """``sum_j a_j S_j`` of local factors: dense unless one of them is sparse."""
    if any(sp.issparse(S) for _, S in pairs):
        out = None
        for a, S in pairs:
            term = sp.csr_matrix(S) * a
            out = term if out is None else out + term
        return out.tocsr()
    return sum(a * np.asarray(S) for a, S in pairs)


@dataclass(frozen=True)
class ProductTerm:
    """``coeff * (x)_{k in factors} factors[k]`` (identity on the other parties)."""

    coeff: complex
    factors: Mapping[int, np.ndarray]

    @property
    def parties(self) -> tuple[int, ...]:
        return tuple(sorted(self.factors))


@dataclass(frozen=True)
class Generator:
    r"""A joint Lindbladian written as a sum of product superoperators.

    ``L = sum_j c_j (x)_k S_{j,k}``, each ``S_{j,k}`` a local ``d_k^2 x d_k^2`` matrix in
    the row-major vectorization of this module. Terms that act on one party only are
    *local*; when every term is local the propagator factorises,
    ``exp(L t) = (x)_k exp(L_k t)``, and solvers never build the joint matrix.

    Parameters
    ----------
    dims : sequence of int
        Local dimensions of the parties.
    terms : sequence of ProductTerm
    """

    dims: tuple[int, ...]
    terms: tuple[ProductTerm, ...] = field(default=())

    def __post_init__(self):
        object.__setattr__(self, "dims", tuple(int(d) for d in self.dims))
        object.__setattr__(self, "terms", tuple(self.terms))
        for t in self.terms:
            for k, S in t.factors.items():
                if not 0 <= k < len(self.dims):
                    raise ValueError(
                        f"term acts on party {k}, but there are parties 0..{len(self.dims) - 1}"
                    )
                d2 = self.dims[k] ** 2
                if np.shape(S) != (d2, d2):
                    raise ValueError(
                        f"factor on party {k} has shape {np.shape(S)}, expected {(d2, d2)}"
                    )

    def __add__(self, other: Generator) -> Generator:
        if self.dims != other.dims:
            raise ValueError(f"cannot add generators on dims {self.dims} and {other.dims}")
        return Generator(self.dims, self.terms + other.terms)

    @classmethod
    def zero(cls, dims: Sequence[int]) -> Generator:
        return cls(tuple(dims), ())

    @classmethod
    def local(
        cls, dims: Sequence[int], party: int, S: np.ndarray, coeff: complex = 1.0
    ) -> Generator:
        return cls(tuple(dims), (ProductTerm(coeff, {party: np.asarray(S, dtype=complex)}),))

    @property
    def is_local(self) -> bool:
        """True when every term acts on at most one party (the propagator factorises)."""
        return all(len(t.factors) <= 1 for t in self.terms)

    def local_parts(self) -> list[np.ndarray]:
        """Per-party local generators ``L_k`` (only meaningful when :attr:`is_local`).

        Terms with no factor (multiples ``c I`` of the identity superoperator) are split
        between the parties so that no local factor grows: party ``k`` receives ``-s_k I``,
        ``s_k`` the growth rate of its own terms (``Tr L_k x = s_k Tr x`` for a
        trace-scaling part such as ``r S`` with ``S`` a channel, else the largest real
        part of its spectrum), and party 0 the remainder ``c + sum_k s_k``. The sum
        ``sum_k L_k`` is unchanged, but each ``exp(L_k t)`` stays bounded: with all the
        identity on party 0, independent Poisson resets gave ``exp(+r t)`` on party 1 and
        ``exp(-2 r t)`` on party 0, which overflow to ``inf * 0 = nan`` once
        ``r t > 709``.
        """
        if not self.is_local:
            raise ValueError("generator couples parties; it has no local parts")
        parts = [np.zeros((d * d, d * d), dtype=complex) for d in self.dims]
        shift = 0.0 + 0.0j
        for t in self.terms:
            if t.factors:
                ((k, S),) = t.factors.items()
                parts[k] += t.coeff * _dense(S)
            else:
                shift += t.coeff
        if shift == 0:
            return parts
        for k, (L, d) in enumerate(zip(parts, self.dims)):
            s = _growth_rate(L, d)
            if s != 0:
                parts[k] = L - s * np.eye(d * d)
                shift += s
        parts[0] = parts[0] + shift * np.eye(self.dims[0] ** 2)
        return parts

    def to_sparse(self) -> sp.csr_matrix:
        """The joint ``D^2 x D^2`` matrix in the paired layout (sparse CSR).

        Built in one pass: the nonzeros of every product term (Kronecker products of the
        factors' nonzeros, identities on the other parties) are collected as triplets in
        one preallocated block and summed once (duplicates add up), never a sum of
        intermediate sparse matrices. At most :meth:`nnz_bound` triplets are held before
        summation.
        """
        sizes = [d * d for d in self.dims]
        N = math.prod(sizes)
        merged = self._merged_terms()
        if len(merged) == 1 and len(sizes) == 1 and merged[0].factors:
            # one party, one term: its factor is the matrix (no triplets)
            ((_, S),) = merged[0].factors.items()
            coeff = complex(merged[0].coeff)
            if sp.issparse(S):
                out = sp.csr_matrix(S, dtype=complex, copy=True)
            else:
                S = np.asarray(S)
                r, c = np.nonzero(S)
                out = sp.csr_matrix((S[r, c].astype(complex), (r, c)), shape=(N, N))
            if coeff != 1:
                out.data *= coeff
            out.sum_duplicates()
            return out
        terms = [
            (complex(t.coeff), [_nonzeros(t.factors.get(k), m) for k, m in enumerate(sizes)])
            for t in merged
        ]
        total = sum(math.prod(len(f[2]) for f in nz) for _, nz in terms)
        if not total:
            return sp.csr_matrix((N, N), dtype=complex)
        # one preallocated block of triplets (int32 indices when they fit: 24 bytes per
        # nonzero instead of 64 for per-term arrays and their concatenation)
        itype = np.int32 if N < 2**31 else np.int64
        rows = np.empty(total, dtype=itype)
        cols = np.empty(total, dtype=itype)
        vals = np.empty(total, dtype=complex)
        at = 0
        for coeff, nz in terms:
            r = np.zeros(1, dtype=np.int64)
            c = np.zeros(1, dtype=np.int64)
            v = np.full(1, coeff)
            for (fr, fc, fv), m in zip(nz, sizes):
                r = (r[:, None] * m + fr[None, :]).ravel()
                c = (c[:, None] * m + fc[None, :]).ravel()
                v = (v[:, None] * fv[None, :]).ravel()
            rows[at : at + r.size] = r
            cols[at : at + r.size] = c
            vals[at : at + r.size] = v
            at += r.size
            del r, c, v
        return sp.coo_matrix((vals, (rows, cols)), shape=(N, N)).tocsr()

    def _merged_terms(self) -> list[ProductTerm]:
        """The terms with every one-party term of a party summed into one (and multiples
        of the identity into one): fewer, larger factors for :meth:`to_sparse`."""
        local: dict[int, list] = {}
        shift = 0.0 + 0.0j
        out = []
        for t in self.terms:
            if len(t.factors) > 1:
                out.append(t)
            elif t.factors:
                ((k, S),) = t.factors.items()
                local.setdefault(k, []).append((t.coeff, S))
            else:
                shift += t.coeff
        # a party's single term is used as it is (no copy of a large local generator)
        merged = [
            ProductTerm(c[0][0], {k: c[0][1]})
            if len(c) == 1
            else ProductTerm(1.0, {k: _sum_scaled(c)})
            for k, c in sorted(local.items())
        ]
        if shift != 0:
            merged.append(ProductTerm(shift, {}))
        return merged + out

    @property
    def nbytes(self) -> int:
        """Bytes held by the factors of the terms (the generator itself)."""
        seen, total = set(), 0
        for t in self.terms:
            for f in t.factors.values():
                if id(f) not in seen:
                    seen.add(id(f))
                    total += _factor_bytes(f)
        return total

    def nnz_bound(self) -> int:
        """Upper bound on the nonzeros of :meth:`to_sparse` (the triplets it collects),
        from the factors' nonzeros alone (nothing of the joint size is allocated)."""
        total = 0
        for t in self._merged_terms():
            n = 1
            for k, d in enumerate(self.dims):
                f = t.factors.get(k)
                n *= d * d if f is None else (f.nnz if sp.issparse(f) else int(np.count_nonzero(f)))
            total += n
        return total

    def to_dense(self) -> np.ndarray:
        """The joint ``D^2 x D^2`` matrix in the paired layout (dense)."""
        N = int(np.prod([d * d for d in self.dims]))
        if N > 1024:
            return self.to_sparse().toarray()
        out = np.zeros((N, N), dtype=complex)
        if len(self.dims) == 1:  # one party: the factors themselves (no Kronecker products)
            for t in self.terms:
                f = t.factors.get(0)
                if f is None:
                    out[np.diag_indices(N)] += t.coeff
                else:
                    out += t.coeff * _dense(f)
            return out
        for t in self.terms:
            m = np.ones((1, 1), dtype=complex)
            for k, d in enumerate(self.dims):
                f = t.factors.get(k)
                m = np.kron(m, np.eye(d * d) if f is None else _dense(f))
            out += t.coeff * m
        return out

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``L x`` for a paired state ``x`` without building the joint matrix."""
        out = np.zeros_like(x, dtype=complex)
        for t in self.terms:
            y = x
            for k, S in t.factors.items():
                y = apply_local(y, k, S)
            out += t.coeff * y
        return out

    def to_qutip(self) -> qutip.Qobj:
        """The generator as a qutip superoperator (column-stacking, qutip's dims).

        Built from :meth:`to_sparse` by permuting indices (paired ``(i_0 j_0)(i_1 j_1)...``
        to qutip's ``a + b D`` for ``|a><b|``), so it stays sparse (CSR data) and costs
        ``O(nnz)``, not one dense column per basis matrix.
        """
        dims = [int(d) for d in self.dims]
        n = len(dims)
        D = math.prod(dims)
        # paired multi-index (i_0, j_0, i_1, j_1, ...) -> qutip's (j_0..j_{n-1}, i_0..i_{n-1})
        idx = np.arange(D * D).reshape([v for d in dims for v in (d, d)])
        perm = [2 * k + 1 for k in range(n)] + [2 * k for k in range(n)]
        q_of_paired = np.empty(D * D, dtype=np.int64)
        q_of_paired[idx.transpose(perm).reshape(-1)] = np.arange(D * D)
        L = self.to_sparse().tocoo()
        Lq = sp.csr_matrix((L.data, (q_of_paired[L.row], q_of_paired[L.col])), shape=(D * D, D * D))
        return qutip.Qobj(Lq, dims=[[dims, dims], [dims, dims]], superrep="super")

    def spectral_gap(self, *, k: int = 6) -> float:
        """Smallest nonzero ``-Re(lambda)`` over the spectrum of the generator.

        Eigenvalues with ``|Re lambda| <= 1e-9 * max|lambda|`` count as stationary: the
        threshold is relative to the generator's own scale (not to ``max(1, ...)``), so
        gaps of any magnitude are found (tested for rates 1e-12..1e12). Rates more than
        ~1e9 times slower than the fastest mode are not resolved (dense eigenvalues are
        accurate to ~1e-16 of the largest one) and count as stationary. Dense
        diagonalisation up to ``D^2 = 4096``, ARPACK beyond.
        """
        N = int(np.prod([d * d for d in self.dims]))
        if N <= 4096:
            L = self.to_dense()
            if not np.all(np.isfinite(L)):
                raise ValueError("spectral_gap: the generator has non-finite entries")
            lam = np.linalg.eigvals(L)
        else:  # pragma: no cover - large systems
            lam = spla.eigs(self.to_sparse(), k=k, which="LR", return_eigenvectors=False)
        scale = float(np.abs(lam).max()) if lam.size else 0.0
        if scale == 0.0:
            return 0.0
        re = -lam.real
        nonzero = re[re > 1e-9 * scale]
        return float(nonzero.min()) if nonzero.size else 0.0

r"""Time-independent stages of the exact method: one propagation path per stage (private).

A stage with averaged generator ``L`` (a :class:`~eplt.dynamics.superop.Generator`) is
propagated from its start to every output time in it and to its end by one of four
paths, chosen by a cost model from the sizes (:func:`plan_stage`):

``batch``
    Local generator, small parties (``d_k^2 <= BATCH_PART_MAX``) and a small state:
    ``x(t) = (x)_k exp(L_k (t - t0)) x(t0)`` for a chunk of output times at once
    (one batched matrix exponential per party, no per-step Python work).
``local-step``
    Local generator: one dense ``exp(L_k h)`` per party and distinct time step ``h``,
    applied to the state as a contraction along the party's axis; on a uniform grid one
    propagator per party serves every step. Never forms the joint Liouvillian.
``dense``
    Joint (non-local) generator restricted to the symmetry sector of the state
    (:mod:`eplt.dynamics._sectors`), small enough that a dense ``exp(L_S h)`` is
    cheaper than Krylov steps: one propagator per distinct step, reused.
``krylov``
    The sparse Liouvillian (restricted to the sector): Krylov (Arnoldi) bases with dense
    output and Expokit's error control (:mod:`eplt.dynamics._krylov`); every output time
    inside a basis's reach is read from it (``O(m^2)`` each), so a decaying or slowly
    rotating state needs far fewer matrix-vector products than one Taylor series per
    output step. For a Hermitian state of a whole (unrestricted) space the Liouvillian is
    taken in a real Hermitian operator basis (real arithmetic, 2-4x cheaper). The 2-norm
    error of the state is kept below ``Exact``'s ``atol + rtol``. Nothing of size
    ``D^2 x D^2`` is dense.

No exponential is stored per output time: at most :data:`CACHE_STEPS` distinct steps are
cached (first interval, the grid step, the remainder). Every path's memory (propagators,
workspaces, Krylov vectors, the sparse Liouvillian and the triplets it is built from) is
estimated before it is allocated and refused in one line when it exceeds the available
memory (:mod:`eplt.dynamics._memory`).

Long times: a step ``exp(L h)`` with ``gap * h`` beyond :data:`eplt.dynamics._expm.PROJECT_GAP_T` equals the
projector onto the stationary states of ``L`` to double precision; it is computed as that
projector (:func:`_stationary_projector`), not by ``~log2 ||L h||`` squarings that lose
digits (see :func:`step_matrix`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._expm import expm_times, step_matrix
from ._krylov import M_DEFAULT as _KRYLOV_M
from ._krylov import krylov_bytes, times_real
from ._memory import check_bytes
from ._sectors import Sector, invariant_sector
from ._tistep import (  # the paths (re-exported: the planner's names for them)
    CACHE_STEPS,
    CHUNK_BYTES,
    DENSE_BLOCK,
    _expm_bytes,
    _real_start,
    _run_batch,
    _run_dense,
    _run_krylov,
    _run_local_step,
    _uniform_step,
    joint_step_matrix,
)
from .superop import Generator

__all__ = ["Plan", "expm_times", "joint_step_matrix", "plan_stage", "run_stage", "step_matrix"]

#: Local stages with a state up to this size and parties up to :data:`BATCH_PART_MAX`
#: compute a chunk of output times at once. Measured (B5-style models, 201 times, after
#: observables were recorded in blocks): faster than the dense real propagator only for
#: one qubit (2.3 vs 2.7 ms); two qubits equal, 3-5 qubits 1.1-1.8x slower, a four-level
#: party 6.8x slower (one exponential per output time).
BATCH_TIMES_MAX = 4
#: Largest local ``d^2`` of the batch path.
BATCH_PART_MAX = 4
#: Factor on every path's counted memory (the B5 two-cavity case peaked 0.2% above the
#: count without it).
MEMORY_MARGIN = 1.1

# Cost model, in units of one complex multiply-add inside a BLAS matrix product (~0.25 ns
# on the 2-core test machine); the other constants are measured in that unit there
# (benchmarks/README.md, B5): a sparse complex multiply-add ~8, a dense matrix-vector one
# ~4, one Python-level step of a stepping path ~2e4 (the Krylov path's own constants are
# with its estimate below).
_EXPM_MATMULS = 10.0  # Pade(13): ~6 products and a solve, before squarings
_SPARSE_MAC = 8.0
_DENSE_MV_MAC = 4.0
_STEP_OVERHEAD = 2e4
_COMPLEX = 16


@dataclass
class Plan:
    """The path chosen for one stage, its estimated memory (bytes) and cost (flops),
    and why (``reason``). ``sector`` and ``L`` are set for the joint paths."""

    path: str
    nbytes: float
    cost: float
    reason: str
    sector: Sector | None = None
    parts: list | None = None

    def __post_init__(self):
        # the counts above are of the large arrays; small temporaries (index arrays,
        # scipy's own copies) measured up to a few percent beyond them
        self.nbytes = float(self.nbytes) * MEMORY_MARGIN

    def describe(self) -> dict:
        out = {"path": self.path, "memory_bytes": float(self.nbytes), "reason": self.reason}
        if self.sector is not None:
            out["sector"] = [self.sector.size, self.sector.full]
        return out


def _intervals(start: float, end: float, times: np.ndarray) -> np.ndarray:
    """Step lengths: from ``start`` to each output time, then to ``end`` (may be 0)."""
    return np.diff(np.concatenate([[start], times, [end]]))


def _distinct_steps(start, end, times) -> int:
    """Number of distinct step propagators the stepping paths compute."""
    dts = _intervals(start, end, times)
    dts = dts[dts > 0]
    if _uniform_step(times) is not None:
        return min(dts.size, 3)
    return int(np.unique(np.round(dts, 12)).size)


def _squarings(norm: float) -> float:
    return max(0.0, math.ceil(math.log2(max(norm, 1e-300) / 5.37)))


def _expm_cost(m: int, norm_h: float) -> float:
    return (_EXPM_MATMULS + min(_squarings(norm_h), 60.0)) * float(m) ** 3


def _norm1(A) -> float:
    """Largest column sum of ``|A|`` (dense: by blocks of rows, no full-size temporary)."""
    if sp.issparse(A):
        if not A.nnz:
            return 0.0
        if A.format not in ("csr", "csc"):
            A = A.tocsr()
        cols = (
            np.repeat(np.arange(A.shape[1]), np.diff(A.indptr)) if A.format == "csc" else A.indices
        )
        return float(np.bincount(cols, weights=np.abs(A.data), minlength=A.shape[1]).max())
    if not A.size:
        return 0.0
    A = np.asarray(A)
    rows = max(1, 2**13 // max(1, A.shape[1]))
    col = np.zeros(A.shape[1])
    for r0 in range(0, A.shape[0], rows):
        col += np.abs(A[r0 : r0 + rows]).sum(axis=0)
    return float(col.max())


# --------------------------------------------------------------------------- planning
def plan_stage(gen: Generator, x: np.ndarray, start: float, end: float, times: np.ndarray):
    """Choose the path of one stage (see the module docstring) and check its memory.

    Builds what the path needs and is already counted (the local parts; for a joint
    generator the sparse Liouvillian and the state's sector, after checking the memory
    of building them). Raises :class:`~eplt.dynamics._memory.MemoryLimitError` before
    allocating a path that would not fit.
    """
    n = int(x.size)
    T = int(times.size)
    span = float(end - start)
    steps = T + 1
    K = _distinct_steps(start, end, times)
    h = _uniform_step(times) or (span / max(1, steps))
    if gen.is_local and max(d * d for d in gen.dims) > DENSE_LOCAL_MAX:
        # a party too large for dense propagators (m^3 work): the sparse Liouvillian only,
        # without the dense local parts
        nnz = gen.nnz_bound()
        build = float(gen.nbytes) + _merge_bytes(gen) + _triplet_bytes(nnz)
        check_bytes(build, f"sparse Liouvillian of {n} entries ({nnz} nonzeros)", _LOWER)
        sector = _sector(gen, x)
        cost, nbytes = _krylov_estimate(sector.L.nnz, sector.size, _norm1(sector.L), span, T, h)
        return Plan(
            "krylov",
            build + nbytes + 3 * n * _COMPLEX,
            cost,
            f"a local party of d^2 > {DENSE_LOCAL_MAX}: Krylov steps on the sparse Liouvillian",
            sector=sector,
        )
    if gen.is_local:
        ms = [d * d for d in gen.dims]
        # dense local generators: the parts, a term scaled before it is added, and the
        # terms of a party summed while the sparse Liouvillian is built
        gen_bytes = (
            float(gen.nbytes)
            + 2.0 * max(m * m for m in ms) * _COMPLEX
            + sum(m * m for m in ms) * _COMPLEX
            + _merge_bytes(gen)
        )
        check_bytes(gen_bytes, f"the local generators (sizes {ms})", _LOWER)
        # the dense parts are built only for a path that uses them (a 100 x 100 part
        # was half the single cavity's peak memory on the Krylov path)
        parts = None
        norms = _party_norms(gen)
        if n <= BATCH_TIMES_MAX and max(ms) <= BATCH_PART_MAX:
            per = n * _COMPLEX * 2 + sum(_expm_bytes(m) for m in ms)
            chunk = max(1, min(T, CHUNK_BYTES // int(per)))
            return Plan(
                "batch",
                gen_bytes + chunk * per + 2 * n * _COMPLEX,
                T * sum(_expm_cost(m, nm * span) for m, nm in zip(ms, norms)),
                f"local parties of size <= {BATCH_PART_MAX}, state of {n} <= "
                f"{BATCH_TIMES_MAX} entries: all output times at once",
                parts=gen.local_parts() if parts is None else parts,
            )
        step_cost = K * sum(_expm_cost(m, nm * h) for m, nm in zip(ms, norms)) + steps * (
            _DENSE_MV_MAC * n * sum(ms) + _STEP_OVERHEAD * len(ms)
        )
        step_bytes = (
            CACHE_STEPS * sum(m * m for m in ms) * _COMPLEX
            + max(_expm_bytes(m) for m in ms)
            + 3 * n * _COMPLEX
        )
        nnz = gen.nnz_bound()
        kry_cost, kry_bytes = _krylov_estimate(nnz, n, sum(norms), span, T, h)
        kry_bytes += _triplet_bytes(nnz) + gen_bytes
        # one dense propagator of the whole (small) space in the real Hermitian basis: a
        # quarter of the complex work (the state is checked Hermitian at run time, else
        # the complex propagator is used)
        dr_cost = math.inf
        if n <= DENSE_REAL_MAX:
            dr_cost = K * _expm_cost(n, sum(norms) * h) / 4 + steps * (
                _DENSE_MV_MAC * n * n / 4 + _STEP_OVERHEAD / 2
            )
        costs = f"({step_cost:.2g}, {kry_cost:.2g}, {dr_cost:.2g} flops)"
        if step_cost <= min(kry_cost, dr_cost):
            return Plan(
                "local-step",
                step_bytes + gen_bytes,
                step_cost,
                f"dense local propagators (sizes {ms}) cheaper than Krylov steps and a "
                f"dense propagator of the whole space {costs}",
                parts=gen.local_parts() if parts is None else parts,
            )
        check_bytes(kry_bytes, f"sparse Liouvillian of {n} entries ({nnz} nonzeros)", _LOWER)
        if dr_cost < kry_cost:
            dr_bytes = (
                kry_bytes
                + (CACHE_STEPS + 2) * n * n * _COMPLEX
                + _expm_bytes(n)
                + DENSE_BLOCK * n * _COMPLEX * 2
            )
            check_bytes(dr_bytes, f"a dense propagator of {n} x {n}", _LOWER)
            return Plan(
                "dense",
                dr_bytes,
                dr_cost,
                f"a dense propagator of the whole space ({n} entries, real form) cheaper "
                f"than local propagators and Krylov steps {costs}",
                sector=_sector(gen, x, dense=True),
            )
        return Plan(
            "krylov",
            kry_bytes,
            kry_cost,
            f"Krylov steps on the sparse Liouvillian cheaper than dense local propagators "
            f"and a dense propagator of the whole space {costs}",
            sector=_sector(gen, x),
        )
    nnz = gen.nnz_bound()
    # the generator (already built: dense factors of its product terms), the triplets
    # the sparse Liouvillian is summed from, and the CSR matrix
    build = float(gen.nbytes) + _triplet_bytes(nnz)
    check_bytes(build, f"sparse Liouvillian of {n} entries ({nnz} nonzeros)", _LOWER)
    sector = _sector(gen, x)
    Ns = sector.size
    norm = _norm1(sector.L)
    dense_cost = K * _expm_cost(Ns, norm * h) + steps * (_DENSE_MV_MAC * Ns * Ns + _STEP_OVERHEAD)
    dense_bytes = (
        build + (CACHE_STEPS + 1) * Ns * Ns * _COMPLEX + _expm_bytes(Ns) + 3 * n * _COMPLEX
    )
    kry_cost, kry_bytes = _krylov_estimate(sector.L.nnz, Ns, norm, span, T, h)
    kry_bytes += build + 3 * n * _COMPLEX
    sec = f"sector of {Ns} of {n} entries"
    if dense_cost <= kry_cost:
        return Plan(
            "dense",
            dense_bytes,
            dense_cost,
            f"{sec}: dense propagator cheaper than Krylov steps "
            f"({dense_cost:.2g} vs {kry_cost:.2g} flops)",
            sector=sector,
        )
    return Plan(
        "krylov",
        kry_bytes,
        kry_cost,
        f"{sec}: Krylov steps cheaper than a dense propagator "
        f"({kry_cost:.2g} vs {dense_cost:.2g} flops)",
        sector=sector,
    )


_LOWER = "use fewer or smaller parties, or fewer output times"


def _party_norms(gen: Generator) -> list[float]:
    """1-norm of each party's sum of one-party terms, plus the multiples of the identity
    on party 0 (the cost model's norms; no dense part is built: a party with one term
    is measured in place)."""
    acc: list = [None] * len(gen.dims)
    count = [0] * len(gen.dims)
    shift = 0.0
    for t in gen.terms:
        if len(t.factors) == 1:
            (k,) = t.factors
            count[k] += 1
        elif not t.factors:
            shift += abs(complex(t.coeff))
    sparse = [False] * len(gen.dims)
    for t in gen.terms:
        if len(t.factors) == 1:
            ((k, S),) = t.factors.items()
            sparse[k] |= sp.issparse(S)
    for t in gen.terms:
        if len(t.factors) == 1:
            ((k, S),) = t.factors.items()
            if count[k] == 1:
                acc[k] = abs(complex(t.coeff)) * _norm1(S)
                continue
            # dense factors summed densely (small parties), sparse ones kept sparse
            S = sp.csr_matrix(S) * t.coeff if sparse[k] else t.coeff * np.asarray(S)
            acc[k] = S if acc[k] is None else acc[k] + S
    out = [0.0 if a is None else (a if isinstance(a, float) else _norm1(a)) for a in acc]
    out[0] += shift
    return out


#: Largest local ``d^2`` for dense local propagators (``m^3`` work per step length).
DENSE_LOCAL_MAX = 1024
#: Largest local state (entries) the cost model may propagate by one dense real
#: propagator of the whole space (``n^3`` work per step length; beyond, Krylov wins).
DENSE_REAL_MAX = 400


def _merge_bytes(gen: Generator) -> float:
    """Memory of summing the one-party terms of each party (:meth:`Generator.to_sparse`):
    two ``d^2 x d^2`` arrays for a party with several terms, none with one."""
    count: dict[int, int] = {}
    for t in gen.terms:
        if len(t.factors) == 1:
            (k,) = t.factors
            count[k] = count.get(k, 0) + 1
    return sum(2.0 * gen.dims[k] ** 4 * _COMPLEX for k, c in count.items() if c > 1)


def _triplet_bytes(nnz: int) -> float:
    """Building the sparse Liouvillian (:meth:`Generator.to_sparse`): the block of
    triplets (value, two int32 indices), the CSR result and the largest term's int64
    expansion before it is copied into the block (at most ``nnz``)."""
    return nnz * (_COMPLEX + 8) + nnz * (_COMPLEX + 4) + nnz * (_COMPLEX + 16)


#: Most matrix-vector products a Krylov stage may take before it is refused (at ~1e-5 s
#: each: hours); long times on large spaces are out of reach of the exact method.
KRYLOV_MAX_MATVECS = 1e9
#: ``||L||_1 t`` one Krylov basis of dimension ``m`` covers, per unit of ``m``: measured
#: 1.1-1.8 on the B5 cavities (N = 10..80, m = 30, tolerance 1e-10); the low end is taken.
_KRYLOV_REACH = 1.1
_ARNOLDI_OVERHEAD = 8e4  # Python-level work of one Arnoldi step (~20 us)
_POINT_OVERHEAD = 2e4  # one output point from a basis


def _krylov_matvecs(norm: float, span: float, T: int) -> float:
    """Matrix-vector products of the Krylov stage (:mod:`eplt.dynamics._krylov`): one
    basis of ``m + 1`` products per ``m * _KRYLOV_REACH`` of ``||L||_1 t``."""
    m = _KRYLOV_M
    return (1.0 + norm * span / (_KRYLOV_REACH * m)) * (m + 1)


def _krylov_estimate(nnz: int, N: int, norm: float, span: float, T: int, h: float):
    m = max(1, min(_KRYLOV_M, N - 1))
    matvecs = _krylov_matvecs(norm, span, T)
    bases = matvecs / (m + 1)
    cost = (
        matvecs * (_SPARSE_MAC * nnz + _ARNOLDI_OVERHEAD)
        + bases * (2.0 * m * m * N * _DENSE_MV_MAC + _expm_cost(m + 2, 1.0))
        + T * (m * N + _POINT_OVERHEAD)
    )
    # the CSR matrix, its real form and the conversions that build it (three products
    # of nnz each), the basis and a batch of outputs
    nbytes = 5 * nnz * (_COMPLEX + 4) + krylov_bytes(N, T, m)
    return cost, nbytes


#: Joint spaces below this many entries are propagated whole: finding the sector costs
#: more than it saves (two qubits: 16 entries).
SECTOR_MIN = 256


def _sector(gen: Generator, x: np.ndarray, *, dense: bool = False) -> Sector:
    """The state's sector of ``gen``; below :data:`SECTOR_MIN` the whole space, with a
    dense ``L`` when ``dense`` (for the dense path: no sparse matrix built)."""
    if x.size < SECTOR_MIN:
        return Sector(np.arange(x.size), gen.to_dense() if dense else gen.to_sparse(), x.size)
    L = gen.to_sparse()
    return invariant_sector(L, x, copy=False)  # L is ours: pruned in place


def _dense(A) -> np.ndarray:
    return A.toarray() if sp.issparse(A) else np.asarray(A)


# --------------------------------------------------------------------------- running
def _check_krylov(plan: Plan, span: float, T: int) -> None:
    L = plan.sector.L
    mv = _krylov_matvecs(_norm1(L), span, T)
    if mv > KRYLOV_MAX_MATVECS:
        raise ValueError(
            f"this stage needs about {mv:.1e} sparse matrix-vector products (||L||_1 * t ="
            f" {_norm1(L) * span:.2g} on {L.shape[0]} entries, too large for a dense"
            " propagator); the exact method cannot keep its accuracy in reasonable time:"
            " shorten the stage or lower the rates"
        )


def run_stage(x, gen, plan: Plan, start, end, tlist, idx, record, *, tol: float = 1e-10):
    """Propagate the paired state ``x`` through one stage along ``plan``; records the
    states at ``tlist[idx]`` (all inside ``(start, end]``) and returns the state at
    ``end``. ``tol`` is the absolute 2-norm tolerance of the Krylov path (the other paths
    are exact to rounding)."""
    times = tlist[idx]
    if plan.path == "batch":
        return _run_batch(x, plan.parts, start, end, times, idx, record)
    if plan.path == "local-step":
        return _run_local_step(x, plan.parts, start, end, times, idx, record)
    sec = plan.sector
    proper, shape = sec.is_proper, x.shape
    v = sec.gather(x) if proper else x.reshape(-1).astype(complex)

    def emit(i, vec):
        record(i, sec.scatter(vec, shape) if proper else vec.reshape(shape))

    block = getattr(record, "block", None)

    def emit_block(ids, V):
        """Rows of ``V`` (vectors of the sector) at ``tlist[ids]``, at once when the
        recorder takes blocks."""
        if block is None:  # a recorder of single states: copies (V may be reused)
            for i, vec in zip(ids, V):
                emit(i, np.array(vec, copy=True))
        elif proper:
            X = np.zeros((len(ids), sec.full), dtype=complex)
            X[:, sec.index] = V
            block(ids, X.reshape(len(ids), *shape))
        else:
            block(ids, V.reshape(len(ids), *shape))

    real = None if proper else _real_start(sec.L, gen.dims, x)
    # linear observables (operators) read from the propagated coordinates: W restricted
    # to the sector and, on the real form, W T (values = r @ (W T)^T); no state formed
    lin = getattr(record, "linear", None)
    W = None
    if lin is not None and block is not None:
        W = lin[0][:, sec.index] if proper else lin[0]
        if real is not None:
            W = np.asarray(W @ real[1])
        put = record.linear_values

        def emit_values(ids, V):
            put(ids, times_real(W, V.T).T)

    if plan.path == "dense" and real is not None:
        # the real form (a Hermitian state): real propagators, a quarter of the work
        R, T, r = real
        emit = emit_values if W is not None else lambda ids, V: emit_block(ids, (T @ V.T).T)
        r = _run_dense(r, _dense(R), start, end, times, idx, emit)
        v = T @ r
    elif plan.path == "dense":
        emit = emit_values if W is not None else emit_block
        v = _run_dense(v, _dense(sec.L), start, end, times, idx, emit)
    else:
        _check_krylov(plan, float(end - start), int(times.size))
        if W is not None:
            v = _run_krylov(v, sec.L, real, start, end, times, idx, put, tol, project=W)
        else:
            v = _run_krylov(v, sec.L, real, start, end, times, idx, emit_block, tol)
    return sec.scatter(v, x.shape) if sec.is_proper else v.reshape(x.shape)

r"""Compile a model into a generator on the permutation-invariant space (private).

A stage of white processes on n identical qubits is *permutation symmetric* when its
averaged generator commutes with every permutation of the qubits. The compile step reads
the model term by term (never the joint Liouvillian) and writes the generator as

    L = S_hat + sum_r lam_r D[J_r] + sum_i r_i (Gamma(K_i) - 1) + sum_l s_l (omega_l^(x)n Tr - 1)

with ``S_hat`` a one-body generator (deterministic local terms, independent copies of
every process, the on-site part of the shared Brownian drives), ``D[J_r]`` collective
dissipators of ``J_r = sum_p V_r^(p)`` (the cross terms of the shared Brownian drives),
shared clocks applying a product unitary ``K^(x)n`` that permutes basis states up to
phases (e.g. the global flip ``X^(x)n``), and shared resets to ``omega^(x)n``.

The shared Brownian drives are gathered in the pair tensor
``C[p, q] = sum_s vec(A_s^(p)) vec(A_s^(q))^+`` (``A_s^(p)`` the jump operator of source s on
qubit p, ``sqrt(kappa)`` included): the averaged generator is
``sum_{p, q} B(C[p, q])`` with ``B(vec X vec Y^+) = X_p rho Y_q^+ - {Y_q^+ X_p, rho}/2``.
It is symmetric iff ``C[p, p]`` is the same for every p and ``C[p, q]`` the same for every
``p != q`` (then Hermitian, ``C_off = sum_r lam_r v_r v_r^+``, ``V_r = v_r`` as a 2 x 2
matrix, eigenvalues ``lam_r`` of either sign).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ._symspace import SymSpace
from .model import HamiltonianAction, JumpAction, Model
from .superop import _dissipator

#: Relative tolerance of the symmetry checks (terms built from the same numbers agree
#: to round-off; anything larger is a genuinely different term).
SYM_RTOL = 1e-12

#: Relative size of the entries treated as round-off in a decomposition (:func:`_clean`).
ROUNDOFF = 1e-14

_VEC_I = np.eye(2).reshape(-1)


class NotSymmetricError(ValueError):
    """The model is not a permutation-symmetric model of identical qubits (with the reason)."""


@dataclass(frozen=True, eq=False)
class SymSpec:
    """A stage's generator in the form above (n-independent pieces).

    ``local`` (4 x 4 engine layout), ``collective`` ``[(lam, V)]``, ``kicks`` ``[(rate, K)]``,
    ``resets`` ``[(rate, vec omega)]``."""

    n: int
    local: np.ndarray
    collective: tuple = ()
    kicks: tuple = ()
    resets: tuple = ()

    def build(self, space: SymSpace) -> sp.csr_matrix:
        """The generator on ``space`` augmented by the trace: a ``(D + 1) x (D + 1)``
        sparse matrix acting on ``(m, Tr rho)`` (mass coefficients). Every term preserves
        the trace, so the reset ``omega^(x)n Tr rho`` reads the conserved last entry: the
        matrix keeps a rank-one term of norm ~ n out of the generator."""
        D = space.D
        L = space.one_body(self.local)
        for lam, V in self.collective:
            L = L + lam * space.collective_dissipator(V)
        for rate, K in self.kicks:
            L = L + rate * (space.product_monomial(K) - sp.identity(D, format="csr"))
        col = np.zeros(D, dtype=complex)
        for rate, a in self.resets:
            L = L - rate * sp.identity(D, format="csr")
            col += rate * space.product_vector(a)
        return sp.bmat(
            [[L, sp.csr_matrix(col[:, None])], [None, sp.csr_matrix((1, 1), dtype=complex)]],
            format="csr",
        )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(1.0, float(np.abs(a).max(initial=0)), float(np.abs(b).max(initial=0)))
    return bool(np.abs(a - b).max(initial=0) <= SYM_RTOL * scale)


def _clean(a: np.ndarray) -> np.ndarray:
    """Entries below ``ROUNDOFF`` times the largest set to zero: round-off of an
    eigendecomposition must not couple basis elements the model keeps apart (a stray
    1e-17 would merge the small components of the generator into one)."""
    a = np.array(a, dtype=complex)
    a[np.abs(a) <= ROUNDOFF * np.abs(a).max(initial=0)] = 0
    return a


def _from_pair(M: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """``M = sum_r lam_r v_r v_r^+`` (Hermitian 4 x 4) as ``[(lam_r, V_r)]``."""
    lam, vecs = np.linalg.eigh((M + M.conj().T) / 2)
    cut = SYM_RTOL * max(1.0, float(np.abs(lam).max(initial=0)))
    return [(float(x), _clean(vecs[:, r]).reshape(2, 2)) for r, x in enumerate(lam) if abs(x) > cut]


def _check_rate(process, action, expected: np.ndarray) -> None:
    """The process's own one-party averaged generator must be the one assumed here."""
    g = process.averaged_generator((2,), [replace(action, party=0)]).local_parts()[0]
    if not _same(np.asarray(g), expected):
        raise NotSymmetricError(
            f"process {process.name!r} ({type(process).__name__}): its averaged generator is "
            "not the Brownian D[A] / Poisson rate (K - 1) form the permutation method reads"
        )


#: Compiled stages by the identity of their terms (``Protocol.stages()`` makes new
#: models around the same terms on every call): ``key -> (sources, local, result)``, the
#: terms kept alive so that their ids are not reused; the oldest entries are dropped.
_COMPILED: dict = {}
_CACHE_SIZE = 64


def white_process(source, error: type, route: str):
    """The source's process, refused with ``error`` unless it is white (the routes that
    compile term by term average Brownian noise and Poisson clocks only)."""
    proc = source.process
    if not proc.white:
        raise error(
            f"process {proc.name!r} ({type(proc).__name__}) is not white: {route} "
            "averages white processes (Brownian noise, Poisson clocks) only"
        )
    return proc


def brownian_signal(source, checked: set, error: type):
    """``(kappa, actions, unit operators per action)`` of a Brownian drive source; its
    generator is checked against ``kappa sum_k D[U_k]`` once per process class
    (``checked``). ``error`` unless it is a Brownian drive."""
    proc = source.process
    kappa = float(getattr(proc, "kappa", np.nan))
    acts = [a for a in source.actions if isinstance(a, HamiltonianAction)]
    if not np.isfinite(kappa) or len(acts) != len(source.actions) or not acts[0].generators:
        raise error(f"signal {proc.name!r} is not a Brownian drive")
    units = [a.unit_operators() for a in acts]
    if type(proc) not in checked:
        checked.add(type(proc))
        _check_rate(proc, acts[0], sum(kappa * _dissipator(U) for U in units[0]))
    return kappa, acts, units


def compile_stage(model: Model) -> SymSpec:
    """The :class:`SymSpec` of one stage, or :class:`NotSymmetricError` saying why not
    (cached: ``method="auto"`` compiles to decide, the run and the marginal reuse it)."""
    key = (id(model.sources), id(model.local), model.dims)
    hit = _COMPILED.get(key)
    if hit is None or hit[0] is not model.sources or hit[1] is not model.local:
        try:
            result = _compile_stage(model)
        except NotSymmetricError as err:
            result = err
        hit = (model.sources, model.local, result)
        _COMPILED[key] = hit
        while len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.pop(next(iter(_COMPILED)))
    if isinstance(hit[2], NotSymmetricError):
        raise NotSymmetricError(str(hit[2]))
    return hit[2]


def _compile_stage(model: Model) -> SymSpec:
    dims, n = model.dims, len(model.dims)
    if any(d != 2 for d in dims):
        raise NotSymmetricError(f"the permutation method needs qubits, got dims {list(dims)}")
    if model.is_time_dependent:
        raise NotSymmetricError("time-dependent local terms are not supported")
    loc = np.zeros((n, 4, 4), dtype=complex)
    for t in model.local:
        loc[t.party] += t.superop
    pair_rows = []  # (n, 4) vectors vec(A^(p)) of each Brownian source and channel
    kicks, resets = [], []
    checked: set = set()  # one generator check per process class (n sources at n = 100)
    for s in model.sources:
        proc = white_process(s, NotSymmetricError, "the permutation method")
        if proc.kind == "signal":
            kappa, acts, units = brownian_signal(s, checked, NotSymmetricError)
            for ch in range(len(units[0])):
                row = np.zeros((n, 4), dtype=complex)
                for a, U in zip(acts, units):
                    row[a.party] = np.sqrt(kappa) * U[ch].reshape(-1)
                pair_rows.append(row)
        else:
            rate = float(getattr(proc, "rate", np.nan))
            acts = [a for a in s.actions if isinstance(a, JumpAction)]
            if not np.isfinite(rate) or len(acts) != len(s.actions):
                raise NotSymmetricError(f"clock {proc.name!r} is not a Poisson clock")
            if type(proc) not in checked:
                checked.add(type(proc))
                _check_rate(proc, acts[0], rate * (acts[0].superop - np.eye(4)))
            if len(acts) == 1:
                loc[acts[0].party] += rate * (acts[0].superop - np.eye(4))
                continue
            K = acts[0].superop
            if len(acts) != n or any(not _same(a.superop, K) for a in acts):
                raise NotSymmetricError(
                    f"clock {proc.name!r} acts on parties {sorted(a.party for a in acts)} "
                    "(a shared clock must apply the same channel to every qubit)"
                )
            if _same(K, np.outer(K[:, 0], _VEC_I)):
                resets.append((rate, K[:, 0].copy()))
            elif np.all((np.abs(K) > SYM_RTOL).sum(axis=0) == 1):
                kicks.append((rate, K.copy()))
            else:
                raise NotSymmetricError(
                    f"clock {proc.name!r}: a shared kick must permute the basis states up to "
                    "phases (e.g. X, Z on every qubit), or reset every qubit"
                )
    collective = []
    if pair_rows:
        A = np.stack(pair_rows)  # (S, n, 4)
        # C[p, q] = sum_s vec A_s^(p) vec A_s^(q)^+ (one BLAS product)
        C = np.tensordot(A, A.conj(), axes=(0, 0)).transpose(0, 2, 1, 3)
        diag = C[np.arange(n), np.arange(n)]
        for p in range(1, n):
            if not _same(diag[p], diag[0]):
                raise NotSymmetricError(
                    f"the Brownian drives act differently on qubit {p} and qubit 0"
                )
        loc += sum(lam * _dissipator(V) for lam, V in _from_pair(diag[0])) + np.zeros((4, 4))
        if n > 1:
            off = C[0, 1].copy()
            mask = ~np.eye(n, dtype=bool)
            dev = np.abs(C[mask] - off).max()
            if dev > SYM_RTOL * max(1.0, float(np.abs(off).max())):
                raise NotSymmetricError(
                    "the shared Brownian drives correlate some pairs of qubits differently "
                    f"(largest deviation {dev:.3g}): not permutation symmetric"
                )
            for lam, V in _from_pair(off):
                collective.append((lam, V))
                loc -= lam * _dissipator(V)
    for p in range(1, n):
        if not _same(loc[p], loc[0]):
            raise NotSymmetricError(f"qubit {p} has different local terms from qubit 0")
    return SymSpec(n, _clean(loc[0]), tuple(collective), tuple(kicks), tuple(resets))


def marginal_generator(spec: SymSpec) -> np.ndarray:
    """The 4 x 4 (engine layout) generator of one qubit's marginal dynamics.

    Exact when every collective jump operator is Hermitian (shared Brownian drives): the
    cross terms ``V_p rho V_q - {V_q V_p, rho}/2`` and ``p <-> q`` cancel under the partial
    trace, leaving ``D[V]`` on the qubit; a shared kick or reset acts on each qubit as the
    local one."""
    G = np.array(spec.local, dtype=complex)
    for lam, V in spec.collective:
        if not np.allclose(V, V.conj().T, atol=1e-12):
            raise NotSymmetricError(
                "a non-Hermitian collective jump couples the marginals to correlations"
            )
        G += lam * _dissipator(V)
    for rate, K in spec.kicks:
        G += rate * (K - np.eye(4))
    for rate, a in spec.resets:
        G += rate * (np.outer(a, _VEC_I) - np.eye(4))
    return G


def symmetry_reason(stages) -> str | None:
    """``None`` when every stage compiles, else the first reason it does not."""
    try:
        for st in stages:
            compile_stage(st.model)
    except NotSymmetricError as err:
        return str(err)
    return None

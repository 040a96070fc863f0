r"""Tighter certified upper bounds on LOSR local thermalizations: DPS level 2 for two
qudits, and the LT / PPT SDPs for three qubits (GHZ overlap), symmetry reduced.

**DPS level 2** (:func:`dps2_bound`; Doherty, Parrilo, Spedalieri, PRA 69, 022308 (2004)).
Every LOSR channel ``sum_l p_l E_A^l (x) E_B^l`` has the Choi matrix
``J = sum_l p_l J_A^l (x) J_B^l`` (legs ``(A_in, B_in, A_out, B_out)``, input first), which
extends to ``K = sum_l p_l J_A^l (x) J_B^l (x) J_B^l`` on ``(A_in, B_in, A_out, B_out, C_in,
C_out)`` (``C`` a second copy of B) with

    K >= 0,  K = F K F (F swaps B and C),  K^{T_C} >= 0,  K^{T_{BC}} >= 0,
    Tr_{C_out} K = J (x) I_{C_in}  (the copy is trace preserving; so Tr_C K = d J),

no signalling from a party's input to the other legs of the extension
(``Tr_{A_out} K = I_{A_in}/d (x) Tr_{A_in A_out} K``, the same for B; the branches are
channels), and ``J`` LT (``Tr_{B_out} J = I (x) tau_A``, ``Tr_{A_out} J = I (x) tau_B``). Maximising
``<Phi+|E(Phi+)|Phi+> = Tr(K (W (x) I_C))/d`` over these ``K`` bounds every LOSR protocol from
above, at least as tightly as the PPT bound (``J^{T_B} >= 0`` follows from ``K^{T_{BC}} >= 0``
and the partial trace). The SDP is restricted to the commutant of its symmetry group: inputs
``V (x) V* (x) V*`` (any unitary ``V``; the commutant on the inputs is the walled Brauer
algebra ``B_{1,2}``, six operators), outputs ``D (x) D* (x) D*`` (``D`` diagonal unitary:
diagonal taus) and the swap ``F``; the partial transposes and traces are index maps on
reshaped arrays (never a generic partial transpose of a cvxpy expression). Two qubits:
``K`` is 64 x 64 (52 coordinates). Two qutrits: ``K`` is 729 x 729, its commutant has 288
coordinates and PSD blocks of side <= 5 (<= 10 for ``K^{T_C}``); the basis is streamed
(:mod:`eplt.dynamics._symsdp`), so the memory is the equality columns (178605 complex rows x
288, 0.82 GB) plus work matrices: about 1 GB estimated, refused before allocating when above
``EPLT_MEMORY_LIMIT`` (the dense basis of the commutant had needed ~9.6 GB).

**Three qubits** (:func:`three_party_bound`). The LT SDP over Choi matrices ``J`` of
channels on ``ABC`` (64 x 64, legs ``(A_in, B_in, C_in, A_out, B_out, C_out)``) with
``Tr_{not X, out} J = I_in (x) tau_X`` for each party, and (``relaxation="ppt"``)
``J^{T_X} >= 0`` across every single-party cut ``X | rest`` (necessary for LOSR), maximising
``<GHZ|E(GHZ)|GHZ>``. Symmetry: input phases ``diag(1, e^{i t_X})`` with ``sum_X t_X = 0`` and
the flip ``X (x) X (x) X`` (they fix GHZ), the same phases on the outputs (they commute with
diagonal taus), and the permutations of parties with equal taus.

Certificates: values are the solver's primal objective; ``dual_value`` is a rigorous upper
bound built from the solver's duals (:mod:`eplt.dynamics._symsdp`); ``dual_value - value > tol``
raises :class:`eplt.dynamics.bounds.BoundGapError`. BLAS runs on one thread inside the
solver. Conventions: hbar = k_B = 1, ``Phi+ = sum_i |ii>/sqrt(d)``,
``GHZ = (|000> + |111>)/sqrt 2``, partial transposes on the named parties.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import qutip

from . import _symsdp
from ._checks import single_party_array as _single
from ._symsdp import MemoryLimitError, memory_limit  # noqa: F401 (documented in .limits)
from .bounds import BoundGapError

__all__ = [
    "DPSBound",
    "dps2_bound",
    "memory_limit",
    "three_party_bound",
    "walled_brauer_operators",
]


@dataclass(frozen=True)
class DPSBound:
    r"""An upper bound from a symmetry-reduced SDP.

    Attributes
    ----------
    value : float
        The solver's optimal primal objective (of the relaxation).
    dual_value : float
        Rigorous upper bound on the relaxation (and so on every LOSR protocol).
    kind : str
        ``"dps2"``, ``"ppt3"`` or ``"lt3"``.
    block_sizes : tuple of int
        Sides of the complex PSD blocks of the reduced variable.
    n_params : int
        Real coordinates of the reduced variable.
    seconds : float
        Wall time (building, solving, certifying).
    """

    value: float
    dual_value: float
    kind: str
    block_sizes: tuple
    n_params: int
    seconds: float

    @property
    def gap(self) -> float:
        return self.dual_value - self.value


def _diag_taus(taus, names):
    out = []
    for t, nm in zip(taus, names):
        a = _single(t, nm)
        if np.abs(a - np.diag(np.diag(a))).max() > 1e-12:
            raise ValueError(f"{nm} must be diagonal (a thermal state in its energy eigenbasis)")
        out.append(np.diag(np.diag(a).real))
    return out


def _legs_T(X: np.ndarray, dims: Sequence[int], legs: Sequence[int]) -> np.ndarray:
    """Transpose the given legs of a matrix on ``prod(dims)`` (row legs ``dims``)."""
    k = len(dims)
    t = X.reshape(*dims, *dims)
    ax = list(range(2 * k))
    for leg in legs:
        ax[leg], ax[k + leg] = ax[k + leg], ax[leg]
    return t.transpose(ax).reshape(X.shape)


def _permute_legs(X: np.ndarray, dims: Sequence[int], perm: Sequence[int]) -> np.ndarray:
    """``X`` with its legs reordered: new leg ``j`` is old leg ``perm[j]``."""
    k = len(dims)
    t = X.reshape(*dims, *dims)
    return t.transpose(*perm, *[k + p for p in perm]).reshape(X.shape)


def _ptrace(X: np.ndarray, dims: Sequence[int], traced: Sequence[int]) -> np.ndarray:
    """Partial trace over the legs ``traced`` (remaining legs keep their order)."""
    k = len(dims)
    t = X.reshape(*dims, *dims)
    keep = [i for i in range(k) if i not in traced]
    letters = "abcdefghijklmnopqrstuvwxyz"
    row = [letters[i] for i in range(k)]
    col = [letters[k + i] if i not in traced else letters[i] for i in range(k)]
    out = "".join(row[i] for i in keep) + "".join(col[i] for i in keep)
    r = np.einsum("".join(row) + "".join(col) + "->" + out, t)
    m = int(np.prod([dims[i] for i in keep]))
    return r.reshape(m, m)


def walled_brauer_operators(d: int) -> list[np.ndarray]:
    r"""The six operators on ``C^d (x) C^d (x) C^d`` spanning the commutant of
    ``V (x) V* (x) V*``: ``1``, the swap ``S`` of the last two factors, ``Phi_12 (x) 1``,
    ``Phi_13`` (on factors 1, 3), ``Phi_12 S`` and ``S Phi_12`` with the unnormalised
    ``Phi = sum_ij |ii><jj|`` (linearly dependent for ``d = 2``).

    Examples
    --------
    >>> import numpy as np
    >>> ops = walled_brauer_operators(2)
    >>> len(ops), ops[0].shape
    (6, (8, 8))
    """
    e = np.eye(d)
    phi = e.reshape(-1)
    Phi = np.outer(phi, phi)
    I3 = np.eye(d**3)
    S = np.kron(e, np.eye(d * d).reshape(d, d, d, d).transpose(0, 1, 3, 2).reshape(d * d, d * d))
    P12 = np.kron(Phi, e)
    P13 = S @ P12 @ S
    return [I3, S, P12, P13, P12 @ S, S @ P12]


def _span_projector(ops: Sequence[np.ndarray]):
    """Orthogonal projection (Hilbert-Schmidt) onto ``span(ops) (x) (all)`` for matrices on
    ``(in, out)``, ``in`` the factor the ops act on."""
    G = np.array([[np.trace(a.conj().T @ b) for b in ops] for a in ops])
    Gi = np.linalg.pinv(G)
    Ops = np.stack(ops)
    di = ops[0].shape[0]

    def proj(X):
        do = X.shape[0] // di
        X4 = X.reshape(di, do, di, do)
        c = np.einsum("kji,iajb->kab", Ops.conj(), X4)  # Tr_in[(O_k^† (x) 1) X]
        c = np.einsum("lk,kab->lab", Gi, c)
        return np.einsum("lij,lab->iajb", Ops, c).reshape(X.shape)

    return proj


def _charge_mask(charges: np.ndarray) -> np.ndarray:
    """Mask of entries whose row and column charge vectors agree."""
    return np.all(charges[:, None, :] == charges[None, :, :], axis=-1)


@_symsdp.blas_single_threaded
def dps2_bound(tau_A: qutip.Qobj, tau_B: qutip.Qobj, *, tol: float = 1e-6) -> DPSBound:
    r"""DPS level-2 upper bound on ``<Phi+|E(Phi+)|Phi+>`` over LOSR local thermalizations.

    See the module docstring for the relaxation and its symmetry reduction.

    Parameters
    ----------
    tau_A, tau_B : Qobj
        Diagonal thermal states of equal dimension ``d``.
    tol : float
        Largest accepted ``dual_value - value``.

    Raises
    ------
    MemoryLimitError
        When the estimate exceeds the memory limit (``EPLT_MEMORY_LIMIT``), before any
        large allocation (two qutrits need about 1 GB).
    BoundGapError
        When the certified gap exceeds ``tol``.

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> round(dps2_bound(tau, tau).dual_value, 5)        # E_gamma's (1 + gamma)/2
    0.7
    """
    t0 = time.perf_counter()
    ta, tb = _diag_taus((tau_A, tau_B), ("tau_A", "tau_B"))
    d = ta.shape[0]
    if tb.shape[0] != d:
        raise ValueError(f"tau_A and tau_B must have the same dimension, got {d}, {tb.shape[0]}")
    n = d**6
    # a quick lower estimate of the commutant's dimension (input 6 x output charge pairs / 2)
    outs = np.array(list(itertools.product(range(d), repeat=3)))
    eye = np.eye(d, dtype=int)
    qo = eye[outs[:, 0]] - eye[outs[:, 1]] - eye[outs[:, 2]]
    n_out = int(_charge_mask(qo).sum())
    n_rows = 2 * d**6 + 3 * d**10  # the complex equality rows of L below
    _symsdp.check_memory(n, 6 * n_out // 2, "the DPS level-2 SDP", n_rows=n_rows)
    dims6 = [d] * 6  # (Ai, Bi, Ao, Bo, Ci, Co)
    to_io = [0, 1, 4, 2, 3, 5]  # -> (Ai, Bi, Ci, Ao, Bo, Co)
    from_io = list(np.argsort(to_io))
    p_in = _span_projector(walled_brauer_operators(d))
    mask = np.tile(_charge_mask(qo), (d**3, d**3))  # rows (in, out): charge of out only
    swap_perm = [0, 4, 2, 5, 1, 3]  # B <-> C on (Ai, Bi, Ao, Bo, Ci, Co)

    def P(K):
        X = _permute_legs(K, dims6, to_io)
        X = p_in(X) * mask
        X = _permute_legs(X, dims6, from_io)
        return (X + _permute_legs(X, dims6, swap_perm)) / 2

    def J_of(K):  # Tr_C K = d J (the copy's Choi matrix has trace d)
        return _ptrace(K, dims6, [4, 5]) / d

    dims4 = [d] * 4

    dims5 = [d] * 5
    e = np.eye(d)

    def L(K):
        J = J_of(K)
        nsB = np.kron(e, _ptrace(K, dims6, [1, 3])) / d  # legs (Bi, Ai, Ao, Ci, Co)
        return np.concatenate(
            [
                _ptrace(J, dims4, [3]).ravel(),
                _ptrace(J, dims4, [2]).ravel(),
                (_ptrace(K, dims6, [5]) - np.kron(J, e)).ravel(),
                (_ptrace(K, dims6, [2]) - np.kron(e, _ptrace(K, dims6, [0, 2])) / d).ravel(),
                (_ptrace(K, dims6, [3]) - _permute_legs(nsB, dims5, [1, 0, 2, 3, 4])).ravel(),
            ]
        )

    e2 = np.eye(d * d)
    b = np.concatenate(
        [np.kron(e2, ta).ravel(), np.kron(e2, tb).ravel(), np.zeros(3 * d**10, dtype=complex)]
    )
    phi = np.eye(d).reshape(-1) / np.sqrt(d)
    Pp = np.outer(phi, phi)
    W = np.kron(np.kron(Pp, Pp), np.eye(d * d)) / d  # legs (Ai Bi)(Ao Bo)(Ci Co)
    res = _symsdp.solve(
        n,
        P,
        W,
        L,
        b,
        [
            lambda K: _legs_T(K, dims6, [4, 5]),
            lambda K: _legs_T(K, dims6, [1, 3, 4, 5]),
        ],
        trace_bound=float(d**3),
        what="the DPS level-2 SDP",
    )
    out = DPSBound(
        value=res.value,
        dual_value=res.dual_value,
        kind="dps2",
        block_sizes=res.block_sizes,
        n_params=res.n_params,
        seconds=time.perf_counter() - t0,
    )
    if out.gap > tol * max(1.0, abs(out.value)):
        raise BoundGapError(
            f"DPS-2 primal-dual gap {out.gap:.3g} exceeds tol={tol:g} (value {out.value:.9g}, "
            f"certified bound {out.dual_value:.9g})"
        )
    return out


@_symsdp.blas_single_threaded
def three_party_bound(
    taus: Sequence[qutip.Qobj], *, relaxation: str = "ppt", tol: float = 1e-6
) -> DPSBound:
    r"""Upper bound on ``<GHZ|E(GHZ)|GHZ>`` over LT channels of three qubits.

    ``relaxation="ppt"``: PPT across every single-party cut (bounds every LOSR protocol);
    ``"none"``: all LT channels. Symmetry reduced as in the module docstring.

    Parameters
    ----------
    taus : sequence of three Qobj
        Diagonal qubit thermal states.
    relaxation : {"ppt", "none"}
    tol : float
        Largest accepted ``dual_value - value``.

    Examples
    --------
    >>> import qutip
    >>> t = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> round(three_party_bound([t, t, t]).dual_value, 5)   # E_gamma^GHZ: 1/2 + gamma/2
    0.6
    """
    t0 = time.perf_counter()
    if relaxation not in ("ppt", "none"):
        raise ValueError(f"relaxation must be 'ppt' or 'none', got {relaxation!r}")
    if isinstance(taus, qutip.Qobj) or len(taus) != 3:
        raise ValueError("taus must be a sequence of three qubit thermal states")
    ts = _diag_taus(taus, [f"taus[{k}]" for k in range(3)])
    if any(t.shape != (2, 2) for t in ts):
        raise ValueError("taus must be qubit (2 x 2) states")
    n = 64
    dims6 = [2] * 6  # (Ai, Bi, Ci, Ao, Bo, Co)
    bits = np.array(list(itertools.product(range(2), repeat=3)))
    q = np.stack([bits[:, 0] - bits[:, 2], bits[:, 1] - bits[:, 2]], axis=1)
    m8 = _charge_mask(q)
    mask = np.einsum("ij,ab->iajb", m8, m8).reshape(n, n)  # input and output charges
    X3 = np.kron(np.kron([[0, 1], [1, 0]], [[0, 1], [1, 0]]), [[0, 1], [1, 0]])
    flip = np.kron(X3, np.eye(8))
    perms = [
        p
        for p in itertools.permutations(range(3))
        if all(np.allclose(ts[k], ts[p[k]], atol=1e-14) for k in range(3))
    ]

    def P(J):
        X = J * mask
        X = (X + flip @ X @ flip) / 2
        return sum(_permute_legs(X, dims6, [*p, *(3 + k for k in p)]) for p in perms) / len(perms)

    def L(J):
        return np.concatenate(
            [_ptrace(J, dims6, [3 + k for k in range(3) if k != x]).ravel() for x in range(3)]
        )

    b = np.concatenate([np.kron(np.eye(8), t).ravel() for t in ts])
    g = np.zeros(8)
    g[0] = g[7] = 1 / np.sqrt(2)
    G = np.outer(g, g)
    W = np.kron(G, G)
    Ts = []
    if relaxation == "ppt":
        Ts = [lambda J, x=x: _legs_T(J, dims6, [x, 3 + x]) for x in range(3)]
    res = _symsdp.solve(n, P, W, L, b, Ts, trace_bound=8.0, what="the three-qubit LT SDP")
    out = DPSBound(
        value=res.value,
        dual_value=res.dual_value,
        kind="ppt3" if relaxation == "ppt" else "lt3",
        block_sizes=res.block_sizes,
        n_params=res.n_params,
        seconds=time.perf_counter() - t0,
    )
    if out.gap > tol * max(1.0, abs(out.value)):
        raise BoundGapError(
            f"three-party primal-dual gap {out.gap:.3g} exceeds tol={tol:g} "
            f"(value {out.value:.9g}, certified bound {out.dual_value:.9g})"
        )
    return out

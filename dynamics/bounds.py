r"""Upper bounds on what any local thermalization can do: SDPs over Choi matrices.

A channel ``E: AB -> AB`` is locally thermalizing (LT) for ``tau_A, tau_B`` when
``Tr_B E(rho) = tau_A Tr rho`` and ``Tr_A E(rho) = tau_B Tr rho`` for **every** input; on
its Choi matrix ``J = sum_ij |i><j| (x) E(|i><j|)`` (input first, legs ordered
``(A_in, B_in, A_out, B_out)``) these are the linear constraints

    Tr_{B_out} J = I_in (x) tau_A,     Tr_{A_out} J = I_in (x) tau_B,     J >= 0

(trace preservation follows). A linear figure of merit ``f(E) = Tr(J W)`` — e.g. the
overlap ``<sigma, E(rho)> = Tr(E(rho) sigma)`` with ``W = rho^T (x) sigma``
(:func:`overlap_witness`) — is then maximised by a semidefinite program
(:func:`sdp_bound`). Every LOSR channel ``sum_l p_l E_A^l (x) E_B^l`` has a Choi matrix that
is separable, hence PPT, across ``(A_in A_out) | (B_in B_out)``; adding ``J^{T_B} >= 0``
(``relaxation="ppt"``) therefore bounds every shared-randomness protocol from above, while
``relaxation="none"`` bounds every LT channel (including ones that need quantum
communication). See-saw lower bounds on the LOSR optimum are in :mod:`eplt.dynamics.losr`.

Certificates. The dual of the SDP is

    min Tr[Y_A (I (x) tau_A)] + Tr[Y_B (I (x) tau_B)]
    s.t. Y_A (x) I_{B_out} + Y_B (x) I_{A_out} - Z^{T_B} - W >= 0,  Z >= 0

(``Z = 0`` without the PPT relaxation). The solver's dual variables are symmetrised,
``Z`` is clipped to be PSD, and ``Y_A`` is shifted by ``lambda_max`` of the remaining
violation times the identity, so ``dual_value`` is the objective of an *exactly* feasible
dual point: a rigorous upper bound (up to floating-point eigenvalue errors, ~1e-14).
The primal matrix is projected onto the LT affine space exactly (so the returned channel
is exactly LT), its PSD/PPT violations are shrunk by alternating projections and then
removed by mixing with the product replacement ``I (x) tau_A (x) tau_B`` when that costs a
weight of at most :data:`MAX_MIX`, so ``value`` is achieved by the returned channel (at
very low temperature, where that mixture is expensive, to the solver's accuracy; see
``LTBound.violation``). ``dual_value - value > tol`` raises
:class:`BoundGapError`.

Symmetry. For diagonal taus and a figure of merit invariant under input ``U (x) U*``
and/or output ``D (x) D*`` (``D`` diagonal unitary) — e.g. ``Phi+ -> Phi+`` — the SDP is
restricted to the invariant Choi matrices and block-diagonalised
(:mod:`eplt.dynamics._symmetry`); two qutrits then need PSD blocks of size at most 3 instead of
81. The reduction is exact (average any optimum over the group), and the certificate is
checked in the full space.

Conventions as :mod:`eplt.dynamics.channels`: column-stacking superoperators in qutip's
``super`` representation, Choi matrices input first, ``Phi+ = sum_i |ii>/sqrt(d)``,
partial transposes on B.
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass

import numpy as np
import qutip

from . import _symmetry
from ._checks import as_density_matrix, party_dims
from ._checks import herm as _herm
from ._checks import single_party_array as _single
from ._choi_maps import MAX_MIX as MAX_MIX  # the repair's mixing limit, documented here
from ._choi_maps import (
    _adjoint_lt,
    _pt_stack,
    _repair,
    _tr_out,
    _violation,
)
from ._symsdp import blas_single_threaded as _blas_single_threaded
from .thermofield import (
    any_lt_negativity_bound,
    any_lt_overlap_bound,
    any_lt_overlap_ceiling,
    thermofield_double,
)

__all__ = [
    "BoundGapError",
    "LTBound",
    "any_lt_negativity_bound",
    "any_lt_overlap_bound",
    "any_lt_overlap_ceiling",
    "choi_to_superoperator",
    "overlap_witness",
    "sdp_bound",
    "thermofield_double",
]

#: Largest complex PSD block (side) the SDP accepts: its real embedding of side 2m gives a
#: dense Clarabel KKT block of (m(2m+1))^2 entries (m = 40: 1.0e7, about 80 MB).
MAX_BLOCK = 40
#: Relative tolerance deciding that the objective is invariant under a symmetry group.
SYMMETRY_RTOL = 1e-10
_VERBOSE = False
#: Clarabel settings. The real embeddings have structurally zero entries (the diagonal of
#: Im X), which leave Clarabel's KKT system nearly singular for unreduced (``"none"``)
#: blocks at the default static regularization 1e-8; 1e-6 solves them, and the verified
#: gaps stay below 1e-8 (tests/dynamics/test_bounds.py).
CLARABEL_SETTINGS = {"static_regularization_constant": 1e-6}
RELAXATIONS = ("ppt", "none")
SYMMETRIES = ("auto", "full", "input", "output", "none")


class BoundGapError(RuntimeError):
    """The verified primal value and dual certificate differ by more than the tolerance."""


def choi_to_superoperator(J: np.ndarray, dA: int, dB: int) -> qutip.Qobj:
    r"""Column-stacking superoperator (qutip ``super``) of the channel with Choi matrix ``J``.

    ``J[(i, a), (j, b)] = E(|i><j|)[a, b]`` with input index ``i = (a_in, b_in)`` first; the
    inverse of :func:`eplt.dynamics.channels.choi_matrix`. Dims ``[[[dA, dB], [dA, dB]], ...]``.

    Examples
    --------
    >>> import numpy as np
    >>> from eplt.dynamics.channels import choi_matrix
    >>> J = np.kron(np.eye(4), np.eye(4) / 4)        # replacement by I/4
    >>> S = choi_to_superoperator(J, 2, 2)
    >>> bool(np.allclose(choi_matrix(S), J))
    True
    """
    D = dA * dB
    J = np.asarray(J, dtype=complex)
    if J.shape != (D * D, D * D):
        raise ValueError(f"J must be {D * D} x {D * D} for dims ({dA}, {dB}), got {J.shape}")
    S = J.reshape(D, D, D, D).transpose(3, 1, 2, 0).reshape(D * D, D * D)
    dims = [dA, dB]
    return qutip.Qobj(S, dims=[[dims, dims], [dims, dims]], superrep="super")


def overlap_witness(rho: qutip.Qobj, target: qutip.Qobj) -> np.ndarray:
    r"""Choi-space operator ``W = rho^T (x) target`` with ``Tr(J_E W) = Tr(E(rho) target)``.

    Legs ``(A_in, B_in, A_out, B_out)``; for a pure ``target`` this is the overlap
    ``<t|E(rho)|t>``. Kets are turned into projectors.

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> W = overlap_witness(phi_plus(), phi_plus())
    >>> W.shape
    (16, 16)
    """
    r = as_density_matrix(rho, "rho").full()
    t = target
    if isinstance(t, qutip.Qobj) and t.isket:
        t = qutip.ket2dm(t)
    if not isinstance(t, qutip.Qobj) or not t.isoper:
        raise TypeError("target must be a qutip ket or operator")
    if t.shape != r.shape:
        raise ValueError(f"target has shape {t.shape}, rho has shape {r.shape}")
    return np.kron(r.T, t.full())


@dataclass(frozen=True, eq=False)
class LTBound:
    r"""Outcome of :func:`sdp_bound`.

    Attributes
    ----------
    value : float
        ``Tr(J W)`` of :attr:`channel`, which is exactly LT, CPTP (and PPT when asked): a
        value every maximiser reaches at least.
    dual_value : float
        Objective of an exactly feasible dual point: no channel of the relaxation does
        better. ``dual_value - value`` is at most ``tol``.
    channel : Qobj
        The optimal channel, column-stacking superoperator (``superrep='super'``).
    status : str
        Solver status (``"optimal"``).
    relaxation : str
        ``"ppt"`` or ``"none"``.
    symmetry : str
        Symmetry group used for the reduction (``"full"``, ``"input"``, ``"output"``, ``"none"``).
    block_sizes : tuple of int
        Sides of the complex PSD blocks of ``J`` (and then of ``J^{T_B}``) in the reduced SDP.
    solver_value : float
        The solver's primal objective before the exact repair.
    solve_time : float
        Wall-clock seconds (building, solving, verifying).
    tol : float
        Accepted gap.
    violation : float
        ``max(0, -lambda_min(J), -lambda_min(J^{T_B}))`` of the returned channel: 0 up to
        round-off when the exact repair was cheap (weight <= :data:`MAX_MIX`), else the
        solver's residual (~1e-9; then ``value`` is achieved to that accuracy).
    """

    value: float
    dual_value: float
    channel: qutip.Qobj
    status: str
    relaxation: str
    symmetry: str
    block_sizes: tuple
    solver_value: float
    solve_time: float
    tol: float
    violation: float = 0.0

    @property
    def gap(self) -> float:
        """``dual_value - value`` (non-negative up to round-off)."""
        return self.dual_value - self.value

    def __str__(self) -> str:
        return (
            f"LTBound(relaxation={self.relaxation!r}, value={self.value:.9g}, "
            f"dual={self.dual_value:.9g}, gap={self.gap:.2g}, symmetry={self.symmetry!r}, "
            f"blocks={list(self.block_sizes)}, {self.solve_time:.3g} s)"
        )


def _choose_symmetry(symmetry: str, W: np.ndarray, taus, dA: int, dB: int) -> str:
    diag = all(np.abs(t - np.diag(np.diag(t))).max() <= 1e-14 for t in taus)
    scale = 1.0 + np.abs(W).max()

    def ok(kind: str) -> bool:
        if kind == "none":
            return True
        if dA != dB or (kind in ("full", "output") and not diag):
            return False
        P = _symmetry.group_projector(kind, dA, dB)
        return bool(np.abs(P(W) - W).max() <= SYMMETRY_RTOL * scale)

    if symmetry == "auto":
        return next(k for k in ("full", "input", "output", "none") if ok(k))
    if not ok(symmetry):
        raise ValueError(
            f"symmetry {symmetry!r} does not hold: it needs d_A = d_B, diagonal taus (for "
            "'full'/'output') and a witness invariant under the group; use symmetry='auto'"
        )
    return symmetry


@functools.lru_cache(maxsize=32)
def _blocks(kind: str, dA: int, dB: int, transposed: bool) -> _symmetry.Blocks:
    """Block basis of the symmetry ``kind`` (cached: deterministic, seeded, read only)."""
    n = (dA * dB) ** 2
    if kind == "none":
        return _symmetry.Blocks(((np.eye(n),),))
    P = _symmetry.group_projector(kind, dA, dB)
    if transposed:
        Q = P

        def P(X):
            return _symmetry.partial_transpose_B(
                Q(_symmetry.partial_transpose_B(X, dA, dB)), dA, dB
            )

    return _symmetry.block_basis(P, n)


def _real_rows(C: np.ndarray) -> np.ndarray:
    """Complex rows ``C`` acting on ``vec(Re X) + i vec(Im X)`` as real rows ``[Re; Im]``."""
    return np.block([[C.real, -C.imag], [C.imag, C.real]])


def _hermitian_basis(m: int) -> np.ndarray:
    """``T`` with ``[vec_F Re X; vec_F Im X] = T @ x`` for the Frobenius-orthonormal basis
    ``E_ii``, ``(E_ij + E_ji)/sqrt 2``, ``i (E_ij - E_ji)/sqrt 2`` (``i < j``) of Hermitian
    ``X``: constraint rows are reduced to an independent set in these coordinates (rows
    independent on ``[Re; Im]`` can be dependent on Hermitian matrices, and dependent
    equality rows break Clarabel's KKT factorization)."""
    T = np.zeros((2 * m * m, m * m))
    col = 0
    r2 = 1 / np.sqrt(2)
    for i in range(m):
        T[i + i * m, col] = 1
        col += 1
    for i in range(m):
        for j in range(i + 1, m):
            T[i + j * m, col] = T[j + i * m, col] = r2
            T[m * m + i + j * m, col + 1] = r2
            T[m * m + j + i * m, col + 1] = -r2
            col += 2
    return T


def _embedding(v, m: int):
    """Real embedding ``[[Re X, -Im X], [Im X, Re X]]`` (cvxpy expression) of ``X`` given
    ``v = [vec_F Re X; vec_F Im X]``. ``X >= 0`` iff the embedding is PSD; a PSD dual
    ``Lam`` of the embedding pairs with ``X`` as ``Re Tr(Z X)`` for
    ``Z = (Lam_11 + Lam_22) + i (Lam_21 - Lam_12)``."""
    import cvxpy as cp

    re = cp.reshape(v[: m * m], (m, m), order="F")
    im = cp.reshape(v[m * m :], (m, m), order="F")
    return cp.bmat([[re, -im], [im, re]])


# --------------------------------------------------------------------- the SDP


@_blas_single_threaded
def sdp_bound(
    tau_A: qutip.Qobj,
    tau_B: qutip.Qobj,
    *,
    rho: qutip.Qobj | None = None,
    target: qutip.Qobj | None = None,
    witness: np.ndarray | None = None,
    relaxation: str = "ppt",
    symmetry: str = "auto",
    tol: float = 1e-6,
) -> LTBound:
    r"""Maximise a linear figure of merit over locally thermalizing channels (an SDP).

    ``max Tr(J W)`` over Choi matrices ``J`` of channels ``AB -> AB`` with
    ``Tr_{B_out} J = I (x) tau_A``, ``Tr_{A_out} J = I (x) tau_B``, ``J >= 0`` and, for
    ``relaxation="ppt"``, ``J^{T_B} >= 0`` across ``(A_in A_out)|(B_in B_out)`` (every LOSR
    protocol satisfies it). The default figure of merit is ``<Phi+|E(Phi+)|Phi+>``.
    Solved with cvxpy + Clarabel in a real formulation (complex Hermitian ``X`` as the
    real PSD block ``[[Re X, -Im X], [Im X, Re X]]``) after symmetry reduction; see the
    module docstring for the certificate.

    Parameters
    ----------
    tau_A, tau_B : Qobj
        Thermal (target) states, ``d_A x d_A`` and ``d_B x d_B``.
    rho, target : Qobj, optional
        Figure of merit ``Tr(E(rho) target)`` (default ``Phi+`` for both; needs
        ``d_A = d_B``). Ignored when ``witness`` is given.
    witness : array, optional
        Hermitian ``W`` on the Choi space (legs ``(A_in, B_in, A_out, B_out)``, input
        first; :func:`overlap_witness` builds one); the objective is ``Tr(J W)``.
    relaxation : {"ppt", "none"}
        ``"ppt"``: upper bound on LOSR (shared randomness); ``"none"``: all LT channels.
    symmetry : {"auto", "full", "input", "output", "none"}
        Group used to reduce the SDP (``"auto"``: the largest one under which ``W`` and
        the taus are invariant).
    tol : float
        Largest accepted ``dual_value - value``, relative to ``max(1, |value|)``;
        Clarabel's default accuracy is 1e-8, and the exact repairs cost a few times that.

    Returns
    -------
    LTBound

    Raises
    ------
    BoundGapError
        If the verified gap exceeds ``tol``.
    ValueError
        For bad inputs or an SDP whose PSD blocks would exceed :data:`MAX_BLOCK`
        (e.g. two qutrits with a witness without symmetry).

    Examples
    --------
    >>> import qutip
    >>> tau = qutip.Qobj([[0.8, 0], [0, 0.2]])
    >>> res = sdp_bound(tau, tau)                            # PPT: (1 + gamma)/2, gamma = 0.4
    >>> round(res.value, 5), res.gap < 1e-6
    (0.7, True)
    """
    t0 = time.perf_counter()
    import cvxpy as cp

    if relaxation not in RELAXATIONS:
        raise ValueError(f"relaxation must be one of {RELAXATIONS}, got {relaxation!r}")
    if symmetry not in SYMMETRIES:
        raise ValueError(f"symmetry must be one of {SYMMETRIES}, got {symmetry!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    ta, tb = _single(tau_A, "tau_A"), _single(tau_B, "tau_B")
    dA, dB = ta.shape[0], tb.shape[0]
    D = dA * dB
    if witness is None:
        if dA != dB and (rho is None or target is None):
            raise ValueError("the default Phi+ overlap needs d_A = d_B; pass rho and target")
        from .states import phi_plus

        rho = phi_plus(dA) if rho is None else rho
        target = phi_plus(dA) if target is None else target
        if party_dims(as_density_matrix(rho, "rho")) != [dA, dB]:
            raise ValueError(f"rho must have dims [{dA}, {dB}], got {rho.dims[0]}")
        W = overlap_witness(rho, target)
    else:
        W = np.asarray(witness, dtype=complex)
        if W.shape != (D * D, D * D):
            raise ValueError(f"witness must be {D * D} x {D * D}, got {W.shape}")
        if np.abs(W - W.conj().T).max() > 1e-12 * (1 + np.abs(W).max()):
            raise ValueError("witness must be Hermitian")
        W = _herm(W)
    sym = _choose_symmetry(symmetry, W, (ta, tb), dA, dB)
    blocks = _blocks(sym, dA, dB, transposed=False)
    pblocks = _blocks(sym, dA, dB, transposed=True) if relaxation == "ppt" else None
    sizes = blocks.sizes + (pblocks.sizes if pblocks else [])
    if max(sizes) > MAX_BLOCK:
        raise ValueError(
            f"this SDP needs a {max(sizes)} x {max(sizes)} complex PSD block (limit {MAX_BLOCK}; "
            f"d_A d_B = {D}, symmetry {sym!r}); use a figure of merit with symmetry "
            "(e.g. the Phi+ overlap) or smaller systems"
        )

    # L_k: vec_F(X_k) -> J as a (m^2, D^2, D^2) stack; vec_F index i + j m.
    bA = np.kron(np.eye(D), ta)
    bB = np.kron(np.eye(D), tb)
    b_c = np.concatenate([bA.reshape(-1), bB.reshape(-1)])
    G_lt, g_obj, Lts = [], [], []
    ppt_rows = [[] for _ in (pblocks.copies if pblocks else ())]
    for copies in blocks.copies:
        V = np.stack(copies)  # (n_k, D^2, m)
        m = V.shape[2]
        Lt = np.einsum("spi,sqj->jipq", V, V.conj()).reshape(m * m, D * D, D * D)
        C = np.concatenate(
            [
                _tr_out(Lt, dA, dB, "B").reshape(m * m, -1),
                _tr_out(Lt, dA, dB, "A").reshape(m * m, -1),
            ],
            axis=1,
        ).T
        G_lt.append(_real_rows(C))
        g = np.einsum("qp,npq->n", W, Lt)
        g_obj.append(np.concatenate([g.real, -g.imag]))
        if pblocks is not None:
            Lg = _pt_stack(Lt, dA, dB)
            for rows, pc in zip(ppt_rows, pblocks.copies):
                Vp = pc[0]
                # Y[j, i, n] = (Vp^† Lg[n] Vp)[i, j], as matmuls (the 3-operand einsum
                # without path optimisation was half the `bounds` study's time)
                Y = (Vp.conj().T @ Lg @ Vp).transpose(2, 1, 0).reshape(-1, m * m)
                rows.append(_real_rows(Y))  # [vec_F Re Y'; vec_F Im Y']
        Lts.append(Lt)
    G_lt = np.concatenate(G_lt, axis=1)
    b_lt = np.concatenate([b_c.real, b_c.imag])
    import scipy.linalg

    T_all = scipy.linalg.block_diag(*[_hermitian_basis(m) for m in blocks.sizes])
    U, s, _ = np.linalg.svd(G_lt @ T_all, full_matrices=False)  # independent rows
    r = int(np.sum(s > 1e-10 * s[0]))
    Ur = U[:, :r]
    if np.abs(b_lt - Ur @ (Ur.T @ b_lt)).max() > 1e-9:
        raise RuntimeError("LT constraints are inconsistent on the symmetric subspace")

    # cvxpy problem, real formulation: coordinates x_k of X_k in the Hermitian basis;
    # X_k >= 0 as the real embedding [[Re X, -Im X], [Im X, Re X]] >= 0.
    xs = [cp.Variable(m * m) for m in blocks.sizes]
    x = cp.hstack(xs) if len(xs) > 1 else xs[0]
    G_h = G_lt @ T_all  # LT rows on the coordinates
    cons = [(Ur.T @ G_h) @ x == Ur.T @ b_lt]
    psd = [_embedding(_hermitian_basis(m) @ xk, m) >> 0 for xk, m in zip(xs, blocks.sizes)]
    ppt_cons = []
    if pblocks is not None:
        for rows, m in zip(ppt_rows, pblocks.sizes):
            ppt_cons.append(_embedding((np.concatenate(rows, axis=1) @ T_all) @ x, m) >> 0)
    obj = np.concatenate(g_obj) @ T_all
    prob = cp.Problem(cp.Maximize(obj @ x), cons + psd + ppt_cons)
    from ._symsdp import one_blas_thread

    with one_blas_thread(), warnings.catch_warnings():  # "inaccurate": the certificate decides
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        prob.solve(solver="CLARABEL", verbose=_VERBOSE, **CLARABEL_SETTINGS)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise BoundGapError(f"SDP not solved: solver status {prob.status!r}")

    # ---- primal: rebuild J, repair exactly, evaluate.
    J = np.zeros((D * D, D * D), dtype=complex)
    for xk, Lt, m in zip(xs, Lts, blocks.sizes):
        v = _hermitian_basis(m) @ xk.value
        J += np.tensordot(v[: m * m] + 1j * v[m * m :], Lt, axes=1)
    J = _repair(_herm(J), ta, tb, dA, dB, ppt=relaxation == "ppt")
    violation = _violation(J, dA, dB, relaxation == "ppt")
    value = float(np.real(np.trace(J @ W)))

    # ---- dual: symmetrise, clip, shift.
    y = Ur @ cons[0].dual_value
    n_c = b_c.size
    Yc = y[:n_c] + 1j * y[n_c:]
    nA = (D * dA) ** 2
    YA = _herm(Yc[:nA].reshape(D * dA, D * dA))
    YB = _herm(Yc[nA:].reshape(D * dB, D * dB))
    S = W - _adjoint_lt(YA, YB, dA, dB)
    if pblocks is not None:
        Z = np.zeros((D * D, D * D), dtype=complex)
        for con, pc, m in zip(ppt_cons, pblocks.copies, pblocks.sizes):
            Lam = con.dual_value  # real embedding -> complex dual (see _embedding)
            Zc = (Lam[:m, :m] + Lam[m:, m:]) + 1j * (Lam[m:, :m] - Lam[:m, m:])
            lam, V = np.linalg.eigh(_herm(Zc))
            Zc = (V * np.clip(lam, 0, None)) @ V.conj().T  # PSD part of the dual
            Z += pc[0] @ Zc @ pc[0].conj().T
        S = S + _symmetry.partial_transpose_B(Z, dA, dB)
    P = _symmetry.group_projector(sym, dA, dB)
    lam_max = float(np.linalg.eigvalsh(_herm(P(S)))[-1])
    dual = float(np.real(np.trace(YA @ bA) + np.trace(YB @ bB))) + max(lam_max, 0.0) * D
    # relative to the objective's scale: a witness of norm 15 has a gap ~15x that of a
    # normalised overlap at the same solver accuracy
    if dual - value > tol * max(1.0, abs(value)):
        raise BoundGapError(
            f"primal-dual gap {dual - value:.3g} exceeds tol={tol:g} x max(1, |value|) "
            f"(value {value:.9g}, "
            f"certified bound {dual:.9g}, solver status {prob.status!r})"
        )
    return LTBound(
        value=value,
        dual_value=dual,
        channel=choi_to_superoperator(J, dA, dB),
        status=prob.status,
        relaxation=relaxation,
        symmetry=sym,
        block_sizes=tuple(sizes),
        solver_value=float(prob.value),
        solve_time=time.perf_counter() - t0,
        tol=float(tol),
        violation=violation,
    )

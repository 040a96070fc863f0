r"""Linear maps on two-party Choi matrices and the exact repair of an SDP solution (private;
used by :mod:`eplt.dynamics.bounds` and :mod:`eplt.dynamics.losr`).

Choi matrices are indexed ``(A_in, B_in, A_out, B_out)``, input first; the maps are index
maps on reshaped arrays (partial traces over an output leg, the partial transpose on B, the
adjoint of the LT constraints) and the repair projects onto the LT affine space exactly and
removes PSD/PPT violations (see :func:`_repair`).
"""

from __future__ import annotations

import numpy as np

from . import _symmetry
from ._checks import herm as _herm

#: The repair mixes with ``I (x) tau_A (x) tau_B`` only if that costs at most this weight
#: (``lambda_min`` of that matrix is ``p_min^A p_min^B``, tiny at low temperature);
#: otherwise the channel is left PSD/PPT to the solver's accuracy (``LTBound.violation``).
MAX_MIX = 1e-6


def _tr_out(J4: np.ndarray, dA: int, dB: int, which: str) -> np.ndarray:
    """Partial trace over ``B_out`` (``which='B'``) or ``A_out`` of a stack of Choi matrices
    ``(..., D^2, D^2)``; result ``(..., D d_X, D d_X)`` with legs ``(A_in, B_in, X_out)``."""
    lead = J4.shape[:-2]
    t = J4.reshape(*lead, dA, dB, dA, dB, dA, dB, dA, dB)
    if which == "B":
        r = np.einsum("...abcxefgx->...abcefg", t)
        n = dA * dB * dA
    else:
        r = np.einsum("...abxdefxh->...abdefh", t)
        n = dA * dB * dB
    return r.reshape(*lead, n, n)


def _pt_stack(J: np.ndarray, dA: int, dB: int) -> np.ndarray:
    lead = J.shape[:-2]
    t = J.reshape(*lead, dA, dB, dA, dB, dA, dB, dA, dB)
    k = len(lead)
    ax = list(range(k)) + [k + i for i in (0, 5, 2, 7, 4, 1, 6, 3)]
    return t.transpose(ax).reshape(J.shape)


def _adjoint_lt(YA: np.ndarray, YB: np.ndarray, dA: int, dB: int) -> np.ndarray:
    """``Y_A (x) I_{B_out} + Y_B (x) I_{A_out}`` on legs ``(A_in, B_in, A_out, B_out)``."""
    D = dA * dB
    a = np.kron(YA, np.eye(dB))
    tB = YB.reshape(dA, dB, dB, dA, dB, dB)
    b = np.einsum("abdefh,cg->abcdefgh", tB, np.eye(dA)).reshape(D * D, D * D)
    return a + b


def _project_lt(J: np.ndarray, ta: np.ndarray, tb: np.ndarray, dA: int, dB: int) -> np.ndarray:
    r"""Orthogonal projection onto ``{Tr_{B_out} J = I (x) tau_A, Tr_{A_out} J = I (x) tau_B}``.

    ``Q_A(J) = Tr_{B_out}(J) (x) I/d_B`` and ``Q_B`` (likewise) are commuting orthogonal
    projections, so the projection is ``J_0 + (1 - Q_A)(1 - Q_B)(J - J_0)`` with the
    particular solution ``J_0 = I (x) tau_A (x) tau_B``.
    """
    D = dA * dB
    J0 = np.kron(np.eye(D), np.kron(ta, tb))

    def QA(X):
        return np.kron(_tr_out(X, dA, dB, "B"), np.eye(dB) / dB)

    def QB(X):
        return _adjoint_lt(np.zeros((D * dA, D * dA)), _tr_out(X, dA, dB, "A") / dA, dA, dB)

    X = J - J0
    X = X - QB(X)
    X = X - QA(X)
    return J0 + X


def _clip_psd(X: np.ndarray) -> np.ndarray:
    lam, V = np.linalg.eigh(_herm(X))
    return (V * np.clip(lam, 0, None)) @ V.conj().T


def _repair(J, ta, tb, dA, dB, *, ppt: bool, rounds: int = 8) -> np.ndarray:
    """Exact LT projection, then the smallest mixture with ``J_0`` that is PSD (and PPT).

    ``J_0 = I (x) tau_A (x) tau_B`` has ``lambda_min = p_min^A p_min^B``, small at low
    temperature, so the violations are first shrunk by alternating projections (clip the
    negative eigenvalues of ``J`` and ``J^{T_B}``, project back onto the LT space) until
    they are below 1e-13; mixing then costs ``O(1e-13 / lambda_min(J_0))``.
    """
    D = dA * dB
    pt = _symmetry.partial_transpose_B
    J = _herm(_project_lt(J, ta, tb, dA, dB))
    for _ in range(rounds):
        worst = float(np.linalg.eigvalsh(J)[0])
        if ppt:
            worst = min(worst, float(np.linalg.eigvalsh(_herm(pt(J, dA, dB)))[0]))
        if worst >= -1e-13:
            break
        J = _clip_psd(J)
        if ppt:
            J = pt(_clip_psd(pt(J, dA, dB)), dA, dB)
        J = _herm(_project_lt(J, ta, tb, dA, dB))
    J0 = np.kron(np.eye(D), np.kron(ta, tb))
    t = 0.0
    mats = [(J, J0)]
    if ppt:
        mats.append((pt(J, dA, dB), pt(J0, dA, dB)))
    for X, X0 in mats:
        lo = float(np.linalg.eigvalsh(_herm(X))[0])
        lo0 = float(np.linalg.eigvalsh(_herm(X0))[0])
        if lo < 0 and lo0 > 0:
            t = max(t, -lo / (lo0 - lo))
    if 0 < t <= MAX_MIX:
        J = (1 - t * (1 + 1e-9)) * J + t * (1 + 1e-9) * J0
    return J


def _violation(J: np.ndarray, dA: int, dB: int, ppt: bool) -> float:
    """``max(0, -lambda_min(J), -lambda_min(J^{T_B}) if ppt)``."""
    worst = float(np.linalg.eigvalsh(_herm(J))[0])
    if ppt:
        worst = min(
            worst, float(np.linalg.eigvalsh(_herm(_symmetry.partial_transpose_B(J, dA, dB)))[0])
        )
    return max(0.0, -worst)

"""Batched matrix exponential (private).

``scipy.linalg.expm`` accepts stacks but loops over them in Python, which dominates the
sampled solver (thousands of 4x4 .. 16x16 exponentials per step). This is the same
algorithm — Pade(13) with scaling and squaring (Higham, SIAM J. Matrix Anal. Appl. 26,
1179 (2005)) — vectorised over the stack with ``numpy.matmul``/``numpy.linalg.solve``.
Each matrix gets its own scaling exponent; relative accuracy ~1e-15 like scipy's.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm as _scipy_expm

__all__ = ["expm_batched", "expm_times", "step_matrix"]

#: ``gap * h`` beyond which ``exp(L h)`` is the stationary projector to double precision
#: (``exp(-40) = 4e-18``).
PROJECT_GAP_T = 40.0


_B = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
_THETA13 = 5.371920351148152
# Lower-degree Pade approximants and the 1-norm bounds below which they reach unit
# roundoff (Higham 2005, Table 2.3).
_LOW = (
    (1.495585217958292e-2, (120.0, 60.0, 12.0, 1.0)),
    (2.539398330063230e-1, (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0)),
    (
        9.504178996162932e-1,
        (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    ),
    (
        2.097847961257068e0,
        (
            17643225600.0,
            8821612800.0,
            2075673600.0,
            302702400.0,
            30270240.0,
            2162160.0,
            110880.0,
            3960.0,
            90.0,
            1.0,
        ),
    ),
)


def _pade_low(A, eye, b):
    """Pade approximant of degree len(b)-1 (odd) for a stack."""
    powers = [eye, A @ A]
    while len(powers) < (len(b) + 1) // 2:
        powers.append(powers[-1] @ powers[1])
    U = A @ sum(b[2 * j + 1] * powers[j] for j in range(len(powers)))
    V = sum(b[2 * j] * powers[j] for j in range(len(powers)))
    return np.linalg.solve(V - U, V + U)


def expm_batched(A: np.ndarray) -> np.ndarray:
    """``exp(A)`` for ``A`` of shape ``(..., n, n)``.

    Each matrix gets its own Pade degree and scaling from its own 1-norm, so the result
    for one matrix does not depend on the others in the batch (bit for bit), which
    keeps sampled ensembles independent of how realizations are batched.
    """
    A = np.asarray(A)
    if A.ndim == 2:
        return expm_batched(A[None])[0]
    shape = A.shape
    A = A.reshape((-1,) + shape[-2:]).astype(complex if np.iscomplexobj(A) else float, copy=True)
    n = shape[-1]
    eye = np.eye(n)
    norms = np.abs(A).sum(axis=1).max(axis=1)  # 1-norm per matrix
    out = np.empty_like(A)
    todo = np.ones(len(A), dtype=bool)
    lower = -np.inf
    for theta, b in _LOW:
        sel = todo & (norms <= theta) & (norms > lower)
        if sel.any():
            out[sel] = _pade_low(A[sel], eye, b)
            todo &= ~sel
        lower = theta
    if todo.any():
        out[todo] = _pade13(A[todo], norms[todo], eye)
    return out.reshape(shape)


def _pade13(A: np.ndarray, norms: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """Pade(13) with per-matrix scaling and squaring."""
    with np.errstate(divide="ignore"):
        s = np.maximum(0, np.ceil(np.log2(np.maximum(norms, 1e-300) / _THETA13))).astype(int)
    A = A / (2.0**s)[:, None, None]
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    b = _B
    U = A @ (
        A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye
    )
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    X = np.linalg.solve(V - U, V + U)
    for i in range(int(s.max(initial=0))):
        m = s > i
        X[m] = X[m] @ X[m]
    return X


def step_matrix(L: np.ndarray, h: float) -> np.ndarray:
    """``exp(L h)`` (dense), or the stationary projector of ``L`` when the slowest decay
    has run out (:func:`expm_times` for one time). Short steps (``||L h||_1`` below
    :data:`PROJECT_GAP_T`) by ``scipy.linalg.expm`` (real for a real ``L``): measured
    1.1-5x faster than :func:`expm_batched` for one matrix of 16-400 rows, with half its
    workspace."""
    L = np.asarray(L)
    norm = float(np.abs(L).sum(axis=0).max()) if L.size else 0.0
    if norm * abs(float(h)) < PROJECT_GAP_T:
        return _scipy_expm(L * float(h))
    return expm_times(L, np.array([float(h)]))[0]


def expm_times(L: np.ndarray, dts: np.ndarray) -> np.ndarray:
    """``exp(L t)`` for every ``t`` in ``dts`` (shape ``(len(dts), m, m)``), keeping
    its digits at long times.

    For ``t ||L||_1`` large, scaling and squaring takes ``log2(||L t||)`` squarings, each
    of which loses digits (40 squarings at ``rate t = 1e12`` left errors of 1e-4 in the
    marginals, and a purity of 1.81 at ``rate t = 1e16``). When every non-stationary
    eigenvalue has ``-Re(lambda) t >=`` :data:`PROJECT_GAP_T`, ``exp(L t)`` equals to
    double precision the spectral projector onto the kernel of ``L``,
    ``P = R (W^† R)^{-1} W^†`` with ``R``, ``W`` orthonormal bases of the right and left
    null spaces (from the SVD of ``L``), which is computed directly. Purely imaginary
    eigenvalues (undamped oscillations) keep the exponential. Eigenvalues below
    ``1e-9 max|lambda|`` count as stationary (dense eigenvalues are accurate to ~1e-16
    of the largest): rates more than 1e9 times slower than the fastest are not resolved
    by this test. Between ``t ||L|| ~ 40`` and ``gap t = 40`` (stiff generators, whose
    slowest rate is far below the largest) the exponential is computed as usual.
    """
    L = np.asarray(L)
    dts = np.asarray(dts, dtype=float)
    m = L.shape[0]
    out = np.empty((dts.size, m, m), dtype=complex)
    far = np.zeros(dts.size, dtype=bool)
    norm = float(np.abs(L).sum(axis=0).max()) if L.size else 0.0
    if dts.size and norm * dts.max() >= PROJECT_GAP_T and m <= 2048:
        lam = np.linalg.eigvals(L)
        scale = float(np.abs(lam).max())
        stationary = np.abs(lam) <= 1e-9 * scale
        rest = lam[~stationary]
        if rest.size:
            gap = float((-rest.real).min())
            far = gap * dts >= PROJECT_GAP_T
            if far.any():
                out[far] = _stationary_projector(L, int(stationary.sum()))
    near = ~far
    if near.any():
        out[near] = expm_batched(L[None] * dts[near][:, None, None])
    return out


def _stationary_projector(L: np.ndarray, k: int) -> np.ndarray:
    """Projector onto the ``k``-dimensional kernel of ``L`` along its range."""
    m = L.shape[0]
    if k == 0:
        return np.zeros((m, m), dtype=complex)
    U, _, Vh = np.linalg.svd(L)
    R = Vh[m - k :].conj().T  # right null vectors: L R = 0
    W = U[:, m - k :]  # left null vectors: W^† L = 0
    return R @ np.linalg.solve(W.conj().T @ R, W.conj().T)

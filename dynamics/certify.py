r"""Checks on channels given as superoperators: Choi matrices, CPTP and local
thermalization tests, and the search for an entangled output.

Superoperators are qutip ``super`` Qobj in column-stacking convention; Choi matrices are
input first (as :func:`qutip.to_choi`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import qutip
import scipy.optimize

from ._checks import as_density_matrix
from .twirls import _haar_unitary

__all__ = ["choi_matrix", "find_entangled_output", "is_cptp", "is_locally_thermalizing"]


def _super_array(S, name: str = "S") -> tuple[np.ndarray, list[int], list[int]]:
    if not isinstance(S, qutip.Qobj):
        raise TypeError(f"{name} must be a qutip super Qobj, got {type(S).__name__}")
    if not S.issuper or S.superrep != "super":
        raise ValueError(
            f"{name} must be a qutip superoperator in the 'super' (column-stacking) representation"
        )
    out_dims, in_dims = [int(x) for x in S.dims[0][0]], [int(x) for x in S.dims[1][0]]
    return S.full(), out_dims, in_dims


def choi_matrix(S: qutip.Qobj) -> np.ndarray:
    r"""Choi matrix ``J = sum_ij |i><j| (x) E(|i><j|)`` (input first) as an array.

    ``J[(i, a), (j, b)] = E(|i><j|)[a, b]``, shape ``(D_in D_out, D_in D_out)``; the same
    ordering as ``qutip.to_choi(S).full()``.
    """
    a, out_dims, in_dims = _super_array(S)
    Di, Do = math.prod(in_dims), math.prod(out_dims)
    S4 = a.reshape(Do, Do, Di, Di)  # [b, a, j, i]: row b*Do + a, column j*Di + i
    return S4.transpose(3, 1, 2, 0).reshape(Di * Do, Di * Do)


def is_cptp(S: qutip.Qobj, *, atol: float = 1e-10) -> bool:
    """True when the Choi matrix is Hermitian and PSD and ``Tr_out J = I_in`` (all to ``atol``)."""
    J = choi_matrix(S)
    _, out_dims, in_dims = _super_array(S)
    Di, Do = math.prod(in_dims), math.prod(out_dims)
    if np.abs(J - J.conj().T).max() > atol:
        return False
    if np.linalg.eigvalsh((J + J.conj().T) / 2)[0] < -atol:
        return False
    tr_out = np.trace(J.reshape(Di, Do, Di, Do), axis1=1, axis2=3)
    return bool(np.abs(tr_out - np.eye(Di)).max() <= atol)


def is_locally_thermalizing(S: qutip.Qobj, taus, *, atol: float = 1e-10) -> bool:
    r"""Exact local-thermalization test: ``Tr_{not k} E(X) = tau_k Tr X`` for all X, all k.

    Equivalently the Choi matrix of ``Tr_{not k} o E`` equals ``I_in (x) tau_k`` (checked
    entrywise to ``atol``; no sampling of inputs). Complete positivity is not checked
    (use :func:`is_cptp`).

    Parameters
    ----------
    S : Qobj
        Superoperator (column stacking); its output dims give the parties.
    taus : Qobj or sequence of Qobj
        One thermal state per output party (a single Qobj is used for every party).
    """
    _, out_dims, in_dims = _super_array(S)
    n, Di = len(out_dims), math.prod(in_dims)
    taus = [taus] * n if isinstance(taus, qutip.Qobj) else list(taus)
    if len(taus) != n:
        raise ValueError(f"taus must give one state per output party ({n}), got {len(taus)}")
    taus = [as_density_matrix(t, f"taus[{k}]") for k, t in enumerate(taus)]
    for k, (t, dk) in enumerate(zip(taus, out_dims, strict=True)):
        if t.shape != (dk, dk):
            raise ValueError(
                f"taus[{k}] must be {dk} x {dk} to match output party {k}, got {t.shape}"
            )
    J = choi_matrix(S).reshape([Di, *out_dims] * 2)
    for k, t in enumerate(taus):
        letters = "abcdefghijklmnopqrstuvwxyz"
        row = ["I"] + [letters[m] for m in range(n)]
        col = ["J"] + [letters[m] if m != k else "Z" for m in range(n)]
        Jk = np.einsum("".join(row + col) + "->I" + row[k + 1] + "JZ", J)
        Jk = Jk.reshape(Di * out_dims[k], Di * out_dims[k])
        if np.abs(Jk - np.kron(np.eye(Di), t.full())).max() > atol:
            return False
    return True


def _pt(a: np.ndarray, dims: Sequence[int], parties: Sequence[int]) -> np.ndarray:
    n = len(dims)
    axes = list(range(2 * n))
    for k in parties:
        axes[k], axes[n + k] = axes[n + k], axes[k]
    return a.reshape(list(dims) * 2).transpose(axes).reshape(a.shape)


def find_entangled_output(
    S: qutip.Qobj, *, subsys=None, seed=0, restarts: int = 10
) -> tuple[qutip.Qobj, float]:
    r"""Search for a pure input whose output under ``S`` has maximal negativity.

    Candidates: ``Phi+`` (two equal input parties) or ``GHZ`` (``n >= 3`` qubits), then
    ``restarts`` random starts (``Phi+`` rotated by Haar-random local unitaries, or Haar
    pure states otherwise), each refined with L-BFGS on ``psi in C^D`` of the objective
    ``N(E(psi psi^†/|psi|^2))`` when the output is NPT and ``lambda_min`` of its partial
    transpose otherwise (so the search is not flat on PPT outputs). Gradients are exact:
    ``E^†`` of the spectral projector of the partial transpose.

    Parameters
    ----------
    S : Qobj
        Superoperator (column stacking) of a channel with at least two output parties.
    subsys : int or iterable of int, optional
        Transposed output parties (as :func:`dynamics.measures.negativity`; default last).
    seed : int or Generator
        Seed of the random starts.
    restarts : int
        Number of random starts (>= 0).

    Returns
    -------
    (Qobj, float)
        The best input ket found and the negativity of its output (a lower bound on the
        maximum over inputs).
    """
    a, out_dims, in_dims = _super_array(S)
    if len(out_dims) < 2:
        raise ValueError(f"S must have at least two output parties, got output dims {out_dims}")
    if not isinstance(restarts, (int, np.integer)) or restarts < 0:
        raise ValueError(f"restarts must be an integer >= 0, got {restarts!r}")
    n, Di, Do = len(out_dims), math.prod(in_dims), math.prod(out_dims)
    parties = (
        [n - 1] if subsys is None else sorted({int(subsys)} if np.isscalar(subsys) else set(subsys))
    )
    if not parties or any(not 0 <= k < n for k in parties):
        raise ValueError(f"subsys must name output parties in 0..{n - 1}, got {subsys!r}")
    rng = np.random.default_rng(seed)

    def output(psi: np.ndarray) -> np.ndarray:
        rho = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
        return (a @ rho.reshape(-1, order="F")).reshape(Do, Do, order="F")

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        psi = z[:Di] + 1j * z[Di:]
        nrm = np.vdot(psi, psi).real
        pt = _pt(output(psi), out_dims, parties)
        lam, V = np.linalg.eigh((pt + pt.conj().T) / 2)
        neg = lam < 0
        if neg.any():
            f, P = -lam[neg].sum(), -(V[:, neg] @ V[:, neg].conj().T)  # dN = Tr(-P_- dX)
        else:
            f, P = lam[0], -np.outer(V[:, 0], V[:, 0].conj())  # maximise -lambda_min
            f = -f
        W = (a.conj().T @ _pt(P, out_dims, parties).reshape(-1, order="F")).reshape(
            Di, Di, order="F"
        )
        W = (W + W.conj().T) / 2
        g = 2 * (W @ psi - f * psi) / nrm
        return -f, -np.concatenate([g.real, g.imag])

    starts = []
    if len(in_dims) == 2 and in_dims[0] == in_dims[1]:
        d = in_dims[0]
        phi = np.eye(d).reshape(-1) / np.sqrt(d)
        starts.append(phi.astype(complex))
        for _ in range(restarts):
            starts.append(np.kron(_haar_unitary(d, rng), _haar_unitary(d, rng)) @ phi)
    else:
        if len(in_dims) >= 3 and all(x == 2 for x in in_dims):
            ghz = np.zeros(Di, dtype=complex)
            ghz[[0, -1]] = 1 / np.sqrt(2)
            starts.append(ghz)
        for _ in range(restarts):
            starts.append(_haar_unitary(Di, rng)[:, 0])

    best_psi, best_val = None, -np.inf
    for psi0 in starts:
        cands = [psi0]
        res = scipy.optimize.minimize(
            objective, np.concatenate([psi0.real, psi0.imag]), jac=True, method="L-BFGS-B"
        )
        cands.append(res.x[:Di] + 1j * res.x[Di:])
        for psi in cands:
            psi = psi / np.linalg.norm(psi)
            lam = np.linalg.eigvalsh(_herm(_pt(output(psi), out_dims, parties)))
            val = float(-lam[lam < 0].sum())  # as dynamics.measures.negativity
            if val > best_val:
                best_psi, best_val = psi, val
    return qutip.Qobj(best_psi, dims=[in_dims, [1] * len(in_dims)]), float(best_val)


def _herm(x: np.ndarray) -> np.ndarray:
    return (x + x.conj().T) / 2

r"""Twirls: the isotropic twirl ``T`` (Haar or any unitary 2-design, e.g. the Clifford group),
general unitary twirls, and the GHZ twirl of n qubits.

Conventions as in :mod:`eplt.dynamics.channels`: ``Phi+ = sum_i |ii> / sqrt(d)``,
``GHZ = (|0...0> + |1...1>) / sqrt(2)``; superoperators in qutip's column-stacking
convention.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import qutip

from ._checks import party_dims

__all__ = [
    "clifford_group",
    "clifford_twirl",
    "ghz_twirl",
    "haar_unitary",
    "isotropic_twirl",
    "unitary_twirl",
]

#: Tolerance on ``sum_k K_k^† K_k = I`` and on unitarity of user-given matrices.
KRAUS_ATOL = 1e-10

# --------------------------------------------------------------------------- helpers


def _as_operator(rho, name: str) -> qutip.Qobj:
    """A square operator Qobj (kets become projectors); twirls are linear maps."""
    if not isinstance(rho, qutip.Qobj):
        raise TypeError(f"{name} must be a qutip.Qobj (ket or operator), got {type(rho).__name__}")
    if rho.isket:
        rho = qutip.ket2dm(rho)
    if not rho.isoper or rho.shape[0] != rho.shape[1]:
        raise ValueError(f"{name} must be a square operator or a ket, got shape {rho.shape}")
    return rho


def _two_qudit_dim(rho: qutip.Qobj, name: str) -> int:
    dims = party_dims(rho)
    if len(dims) != 2 or dims[0] != dims[1] or dims[0] < 2:
        raise ValueError(f"{name} must have dims [d, d] with d >= 2 (two equal qudits), got {dims}")
    return dims[0]


def _is_prime(d: int) -> bool:
    return d >= 2 and all(d % p for p in range(2, math.isqrt(d) + 1))


def haar_unitary(d: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random ``d x d`` unitary from ``rng`` (QR of a complex Ginibre matrix with
    the phases of ``R``'s diagonal divided out, Mezzadri 2007).

    Examples
    --------
    >>> import numpy as np
    >>> U = haar_unitary(3, np.random.default_rng(1))
    >>> bool(np.allclose(U.conj().T @ U, np.eye(3)))
    True
    """
    z = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _superop_from_map(f: Callable[[np.ndarray], np.ndarray], dims: Sequence[int]) -> qutip.Qobj:
    """Column-stacking superoperator of a linear map ``f`` acting on stacks ``(m, D, D)``."""
    dims = [int(x) for x in dims]
    D = math.prod(dims)
    basis = np.eye(D * D, dtype=complex).reshape(D * D, D, D)  # basis[i*D + j] = |i><j|
    out = f(basis)
    rows = out.transpose(0, 2, 1).reshape(D, D, D * D)  # [i, j] -> vec_col(f(|i><j|))
    S = rows.transpose(1, 0, 2).reshape(D * D, D * D).T  # column j*D + i
    return qutip.Qobj(S, dims=[[dims, dims], [dims, dims]], superrep="super")


def _iso_twirl_array(x: np.ndarray, d: int) -> np.ndarray:
    idx = np.arange(d) * (d + 1)
    F = x[..., idx[:, None], idx[None, :]].sum(axis=(-2, -1)) / d
    tr = np.trace(x, axis1=-2, axis2=-1)
    P = np.zeros((d * d, d * d), dtype=complex)
    P[np.ix_(idx, idx)] = 1 / d
    rest = (np.eye(d * d) - P) / (d * d - 1)
    return F[..., None, None] * P + (tr - F)[..., None, None] * rest


def _ghz_twirl_array(x: np.ndarray) -> np.ndarray:
    D = x.shape[-1]
    out = np.zeros_like(x, dtype=complex)
    p = np.diagonal(x, axis1=-2, axis2=-1)
    r = np.arange(D)
    out[..., r, r] = (p + p[..., ::-1]) / 2  # the flip X^(x)n maps x -> D - 1 - x
    c = (x[..., 0, D - 1] + x[..., D - 1, 0]) / 2
    out[..., 0, D - 1] = c
    out[..., D - 1, 0] = c
    return out


# ---------------------------------------------------------------------------- twirls


def isotropic_twirl(rho: qutip.Qobj) -> qutip.Qobj:
    r"""Isotropic twirl ``T(rho) = ∫ dU (U (x) U*) rho (U (x) U*)^†`` in closed form.

    ``T(rho) = F Phi+ + (Tr rho - F) (I - Phi+) / (d^2 - 1)``, ``F = <Phi+|rho|Phi+>``.
    The map is linear, so any operator (not only states) is accepted. Marginals of
    ``T(rho)`` are ``Tr(rho) I/d``; ``Phi+`` and ``I`` are fixed points.

    Parameters
    ----------
    rho : Qobj
        Operator or ket on two qudits, ``dims = [[d, d], [d, d]]``.

    Returns
    -------
    Qobj
        ``T(rho)`` with the dims of ``rho``.

    Examples
    --------
    >>> from eplt.dynamics.states import phi_plus
    >>> bool(isotropic_twirl(phi_plus(3)) == phi_plus(3))
    True
    """
    rho = _as_operator(rho, "rho")
    d = _two_qudit_dim(rho, "rho")
    return qutip.Qobj(_iso_twirl_array(rho.full(), d), dims=rho.dims)


@lru_cache(maxsize=8)
def _clifford_cached(d: int) -> tuple[np.ndarray, ...]:
    w = np.exp(2j * np.pi / d)
    j = np.arange(d)
    if d == 2:
        gens = [np.array([[1, 1], [1, -1]]) / np.sqrt(2), np.diag([1, 1j])]
        expected = 24
    else:
        X = np.roll(np.eye(d), 1, axis=0)  # X|j> = |j+1>
        Z = np.diag(w**j)
        F = w ** np.outer(j, j) / np.sqrt(d)
        P = np.diag(w ** (((d + 1) // 2) * j**2 % d))
        gens = [X, Z, F, P]
        expected = d**3 * (d * d - 1)
    gens = [np.asarray(g, dtype=complex) for g in gens]

    def canon(u: np.ndarray) -> tuple[np.ndarray, bytes]:
        flat = u.reshape(-1)
        k = int(np.argmax(np.abs(flat) > 1e-9))
        u = u * (abs(flat[k]) / flat[k])  # first non-zero entry made real positive
        key = np.concatenate([np.round(u.real, 8) + 0.0, np.round(u.imag, 8) + 0.0])
        return u, key.tobytes()

    e, key = canon(np.eye(d, dtype=complex))
    group, frontier = {key: e}, [e]
    while frontier:
        new = []
        for u in frontier:
            for g in gens:
                v, k = canon(g @ u)
                if k not in group:
                    group[k] = v
                    new.append(v)
        frontier = new
    if len(group) != expected:  # pragma: no cover - guards the phase canonicalisation
        raise RuntimeError(
            f"Clifford group of d={d} has {len(group)} elements, expected {expected}"
        )
    out = tuple(group.values())
    for u in out:
        u.flags.writeable = False
    return out


def clifford_group(d: int) -> list[np.ndarray]:
    r"""Single-qudit Clifford group modulo global phase, for prime ``d``.

    Generated breadth-first from ``H, S`` (``d = 2``) or from ``X|j> = |j+1>``,
    ``Z = diag(w^j)``, the Fourier gate ``F_jk = w^{jk}/sqrt(d)`` and the phase gate
    ``diag(w^{(d+1)/2 j^2})`` (odd prime ``d``), ``w = exp(2 pi i/d)``. Each element is
    returned with its first non-zero entry real and positive. The group has 24 elements
    for ``d = 2`` and ``d^3 (d^2 - 1)`` for odd prime ``d`` (216 for ``d = 3``) and is a
    unitary 2-design. The arrays are read-only and cached.

    Examples
    --------
    >>> len(clifford_group(2)), len(clifford_group(3))
    (24, 216)
    """
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not _is_prime(int(d)):
        raise ValueError(f"d must be a prime integer >= 2, got {d!r}")
    return list(_clifford_cached(int(d)))


def unitary_twirl(rho: qutip.Qobj, unitaries: Sequence) -> qutip.Qobj:
    r"""Uniform average ``(1/m) sum_U (U (x) U*) rho (U (x) U*)^†`` over ``unitaries``.

    Parameters
    ----------
    rho : Qobj
        Operator or ket on two qudits, ``dims = [[d, d], [d, d]]``.
    unitaries : sequence of (d, d) arrays or Qobj
        Non-empty; each must be unitary to 1e-10.
    """
    rho = _as_operator(rho, "rho")
    d = _two_qudit_dim(rho, "rho")
    us = [
        u.full() if isinstance(u, qutip.Qobj) else np.asarray(u, dtype=complex) for u in unitaries
    ]
    if not us:
        raise ValueError("unitaries must contain at least one (d, d) unitary, got none")
    U = np.stack(us) if len({u.shape for u in us}) == 1 else None
    if U is None or U.shape[1:] != (d, d):
        raise ValueError(f"unitaries must all be ({d}, {d}) arrays to match rho")
    err = np.abs(U @ U.conj().transpose(0, 2, 1) - np.eye(d)).max()
    if err > KRAUS_ATOL:
        raise ValueError(f"unitaries must be unitary to {KRAUS_ATOL:g}, deviation {err:.3g}")
    K = np.einsum("mab,mcd->macbd", U, U.conj()).reshape(len(us), d * d, d * d)
    out = np.einsum("mij,jk,mlk->il", K, rho.full(), K.conj()) / len(us)
    return qutip.Qobj(out, dims=rho.dims)


def clifford_twirl(rho: qutip.Qobj) -> qutip.Qobj:
    """:func:`unitary_twirl` over :func:`clifford_group` (prime ``d``): the isotropic twirl."""
    rho = _as_operator(rho, "rho")
    d = _two_qudit_dim(rho, "rho")
    if not _is_prime(d):
        raise ValueError(f"rho must have prime local dimension d for the Clifford twirl, got d={d}")
    return unitary_twirl(rho, clifford_group(d))


def ghz_twirl(rho: qutip.Qobj) -> qutip.Qobj:
    r"""GHZ twirl of ``n >= 2`` qubits in closed form.

    Average over shared phases ``diag(1, e^{i theta_k})`` on qubit ``k`` with
    ``sum_k theta_k = 0`` and over a shared global flip ``X^(x)n``. The phases keep the
    populations and the coherences between ``|0..0>`` and ``|1..1>`` only; the flip then
    symmetrises: ``p(x) -> (p(x) + p(not x))/2`` and ``c -> (c + c')/2`` where
    ``c = rho[0..0, 1..1]``, ``c' = rho[1..1, 0..0]`` (``Re c`` for Hermitian ``rho``).
    Keeps ``<GHZ|rho|GHZ>``; every marginal becomes ``Tr(rho) I/2``.

    Examples
    --------
    >>> from eplt.dynamics.states import ghz_state
    >>> bool(ghz_twirl(ghz_state(3)) == ghz_state(3))
    True
    """
    rho = _as_operator(rho, "rho")
    dims = party_dims(rho)
    if len(dims) < 2 or any(x != 2 for x in dims):
        raise ValueError(f"rho must be an operator on n >= 2 qubits, got dims {dims}")
    return qutip.Qobj(_ghz_twirl_array(rho.full()), dims=rho.dims)


# ------------------------------------------------------------------- local channels

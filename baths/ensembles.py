r"""Discrete shared unitary ensembles: finite shared randomness for twirling.

A :class:`UnitaryEnsemble` is a pulse process whose value on each segment of length
``segment`` is one element ``U_l`` of a finite ensemble, drawn i.i.d. with probabilities
``p_l`` (uniform by default). It acts on a party through the constant Hamiltonian
``h_l = i log(U_l) / segment`` (principal branch, from the Schur form), so that party
undergoes exactly ``U_l`` over the segment (``U_l^*`` with ``conjugate=True``). Shared by
two parties (:func:`ensemble_drive`) one segment applies ``sum_l p_l (U_l (x) U_l^*)
. (U_l (x) U_l^*)^†``: for a unitary 1-design (the Paulis) the marginals become ``I/d``;
for a 2-design (the 24 single-qubit Cliffords) the average is the isotropic twirl. Each
segment consumes ``H(p) = -sum_l p_l log2 p_l`` shared random bits (:attr:`bits`).

The segment average is exact (the ensemble is the quadrature), so
``method="segment"`` (chosen by ``"auto"``) has no sampling or quadrature error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from eplt.dynamics.model import Process

from .environment import Drive
from .processes import _positive, _segment_breaks, _segment_index

__all__ = ["UnitaryEnsemble", "ensemble_drive", "pauli_group"]


def pauli_group(d: int = 2) -> list[np.ndarray]:
    r"""The ``d^2`` generalized Paulis ``X^a Z^b`` (``X|j> = |j+1 mod d>``,
    ``Z = diag(w^j)``, ``w = e^{2 pi i/d}``): a unitary 1-design (nice error basis);
    for ``d = 2`` the matrices I, Z, X, XZ (= -iY).

    Examples
    --------
    >>> len(pauli_group(2)), len(pauli_group(3))
    (4, 9)
    """
    if int(d) != d or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d!r}")
    d = int(d)
    X = np.roll(np.eye(d), 1, axis=0)
    Z = np.diag(np.exp(2j * np.pi * np.arange(d) / d))
    return [
        np.linalg.matrix_power(X, a) @ np.linalg.matrix_power(Z, b)
        for a in range(d)
        for b in range(d)
    ]


def _generator(U: np.ndarray, segment: float) -> np.ndarray:
    """Hermitian ``h`` with ``exp(-i h segment) = U`` (Schur form of the normal matrix U)."""
    T, Z = sla.schur(U, output="complex")
    phi = np.angle(np.diag(T))
    h = -(Z * phi) @ Z.conj().T / segment
    return (h + h.conj().T) / 2


@dataclass(frozen=True, eq=False)
class UnitaryEnsemble(Process):
    """One i.i.d. element of a finite unitary ensemble per segment.

    Parameters
    ----------
    unitaries : sequence of (d, d) arrays or Qobj
        The ensemble (at least one element; each must be unitary to 1e-10).
    segment : float
        Segment length (> 0); only the number of segments matters for the channel.
    probabilities : sequence of float, optional
        Weights ``p_l`` (non-negative, summing to one); default uniform.
    name : str
        Process name (parties naming the same process share it).

    Examples
    --------
    >>> from eplt.dynamics.twirls import clifford_group
    >>> ens = UnitaryEnsemble(clifford_group(2), segment=1.0)
    >>> round(ens.bits, 6)  # log2 24
    4.584963
    """

    unitaries: tuple
    segment: float
    probabilities: tuple | None = None
    name: str = "ensemble"
    kind = "signal"
    white = False

    def __post_init__(self):
        _positive(self.segment, "segment")
        Us = tuple(
            np.asarray(U.full() if hasattr(U, "full") else U, dtype=complex) for U in self.unitaries
        )
        if not Us:
            raise ValueError("unitaries must hold at least one matrix")
        d = Us[0].shape[0]
        for i, U in enumerate(Us):
            if U.shape != (d, d) or not np.allclose(U @ U.conj().T, np.eye(d), atol=1e-10):
                raise ValueError(f"unitaries[{i}] is not a {d} x {d} unitary (to 1e-10)")
        if self.probabilities is None:
            p = np.full(len(Us), 1.0 / len(Us))
        else:
            p = np.asarray(self.probabilities, dtype=float)
            if p.shape != (len(Us),) or np.any(~np.isfinite(p)) or np.any(p < 0):
                raise ValueError(
                    f"probabilities must be {len(Us)} non-negative numbers, got {self.probabilities!r}"
                )
            if abs(p.sum() - 1) > 1e-12:
                raise ValueError(f"probabilities must sum to 1, got {p.sum():.15g}")
        object.__setattr__(self, "unitaries", Us)
        object.__setattr__(self, "probabilities", tuple(float(x) for x in p))
        object.__setattr__(self, "_h", np.stack([_generator(U, self.segment) for U in Us]))

    @property
    def d(self) -> int:
        return self.unitaries[0].shape[0]

    @property
    def bits(self) -> float:
        """Shared random bits per segment: the Shannon entropy ``-sum p log2 p``."""
        p = np.asarray(self.probabilities)
        p = p[p > 0]
        return float(-(p * np.log2(p)).sum()) + 0.0

    def segment_nodes(self, *, nodes, samples, rng):
        keep = [i for i, p in enumerate(self.probabilities) if p > 0]
        return [self._h[i] for i in keep], np.array([self.probabilities[i] for i in keep])

    def sample(self, rng, edges):
        seg = _segment_index(edges, self.segment)
        idx = rng.choice(len(self.unitaries), size=seg.max() + 1, p=self.probabilities)
        return self._h[idx][seg]

    def breakpoints(self, t0, t1):
        return _segment_breaks(t0, t1, self.segment)

    def describe(self):
        return {
            "name": self.name,
            "type": "UnitaryEnsemble",
            "segment": self.segment,
            "size": len(self.unitaries),
            "bits": self.bits,
        }


def ensemble_drive(
    unitaries,
    segment: float,
    *,
    probabilities=None,
    name: str = "ensemble",
    parties: tuple[int, int] = (0, 1),
) -> list[Drive]:
    r"""A shared :class:`UnitaryEnsemble`: ``U_l`` on ``parties[0]``, ``U_l^*`` on ``parties[1]``.

    Examples
    --------
    >>> import math
    >>> from baths import Environment, Protocol
    >>> from dynamics import evolve
    >>> from eplt.dynamics.states import phi_plus
    >>> env = Environment((2, 2), ensemble_drive(pauli_group(2), 1.0))
    >>> res = evolve(phi_plus(), Protocol([(1.0, env)]), [0, 1.0], e_ops=["phi_plus_overlap"])
    >>> round(float(res.expect["phi_plus_overlap"][-1]), 12)  # U (x) U^* keeps Phi+
    1.0
    """
    proc = UnitaryEnsemble(tuple(unitaries), segment, probabilities, name=name)
    return [Drive(proc, parties[0]), Drive(proc, parties[1], conjugate=True)]

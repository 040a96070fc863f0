"""Input validation shared by the dynamics package (private).

Every public function that takes a state calls :func:`as_density_matrix`, so errors
name the offending parameter and the allowed range in one line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import qutip

__all__ = [
    "as_density_matrix",
    "check_e_op_value",
    "check_party_dims",
    "finite_operator",
    "herm",
    "party_dims",
    "single_party_array",
]

#: Default absolute tolerance for "is this a density matrix" checks.
STATE_ATOL = 1e-8
#: Positivity is checked by diagonalisation up to this dimension (2^11); larger states
#: are only checked for Hermiticity and unit trace.
POSITIVITY_CHECK_MAX = 2048


def party_dims(rho: qutip.Qobj) -> list[int]:
    """Local dimensions of the parties of an operator, e.g. ``[2, 2]``."""
    return [int(d) for d in rho.dims[0]]


def as_density_matrix(rho, name: str = "rho", *, atol: float = STATE_ATOL) -> qutip.Qobj:
    """Return ``rho`` as a density-matrix Qobj, or raise a ValueError naming ``name``.

    Kets are turned into projectors. A density matrix is Hermitian, has trace one and no
    eigenvalue below ``-atol`` (all checked to ``atol``; positivity only up to dimension
    :data:`POSITIVITY_CHECK_MAX`).
    """
    if not isinstance(rho, qutip.Qobj):
        raise TypeError(
            f"{name} must be a qutip.Qobj (ket or density matrix), got {type(rho).__name__}"
        )
    if rho.issuper:
        raise TypeError(
            f"{name} is a superoperator (a channel or generator); give the state, a ket or "
            "density matrix (channels come from eplt.propagator)"
        )
    if rho.isket:
        rho = qutip.ket2dm(rho)
    if not rho.isoper or rho.shape[0] != rho.shape[1]:
        raise ValueError(f"{name} must be a square operator or a ket, got shape {rho.shape}")
    a = rho.full()
    if not is_hermitian(a, atol):
        raise ValueError(f"{name} must be Hermitian (to {atol:g})")
    tr = np.trace(a).real
    if abs(tr - 1) > atol:
        raise ValueError(f"{name} must have trace 1 (to {atol:g}), got trace {tr:.6g}")
    if a.shape[0] > POSITIVITY_CHECK_MAX:
        return rho  # eigenvalues of very large states cost more than the solve; see docstring
    lam = np.linalg.eigvalsh((a + a.conj().T) / 2)
    if lam[0] < -atol:
        raise ValueError(
            f"{name} must be positive semidefinite, smallest eigenvalue {lam[0]:.3g} < -{atol:g}"
        )
    return rho


def check_party_dims(rho: qutip.Qobj, dims: Sequence[int], name: str = "rho") -> None:
    """Raise a ValueError unless ``rho`` has local dimensions ``dims``."""
    if party_dims(rho) != list(dims):
        raise ValueError(f"{name} has local dimensions {party_dims(rho)}, expected {list(dims)}")


def is_hermitian(a: np.ndarray, atol: float) -> bool:
    """``|a - a^dagger| <= atol`` entrywise (False when an entry is not finite); one
    pass, ~5x cheaper than :func:`numpy.allclose` on small matrices."""
    return a.size == 0 or bool(np.abs(a - a.conj().T).max() <= atol)


def herm(x: np.ndarray) -> np.ndarray:
    """Hermitian part ``(x + x^†)/2`` of a square matrix (removes round-off asymmetry)."""
    return (x + x.conj().T) / 2


def single_party_array(t, name: str) -> np.ndarray:
    """The matrix of a single-party density matrix ``t`` (validated as ``name``)."""
    t = as_density_matrix(t, name)
    if len(party_dims(t)) != 1:
        raise ValueError(f"{name} must be a single-party state, got dims {t.dims}")
    return t.full()


def finite_operator(a: np.ndarray, what: str) -> np.ndarray:
    """``a`` unchanged, or a ValueError naming ``what`` when an entry is nan or inf (a
    generator built from it would turn every result into nan without a word)."""
    if not np.all(np.isfinite(a)):
        bad = "nan" if np.any(np.isnan(a)) else "inf"
        raise ValueError(f"{what} has a non-finite entry ({bad}); every entry must be finite")
    return a


def finite_generator(S: np.ndarray, what: str, ops: Sequence[np.ndarray] = ()) -> np.ndarray:
    """``S`` unchanged, or a ValueError naming ``what`` when building it from finite
    operators ``ops`` overflowed (entries of size ``x`` give rates ``x^2``: about 1e154
    overflows double precision)."""
    if not np.all(np.isfinite(S)):
        big = max((float(np.abs(o).max(initial=0.0)) for o in ops), default=float("nan"))
        raise ValueError(
            f"{what}: operator entries up to {big:.3g} overflow double precision in the"
            " generator (rates are squares of collapse-operator entries); rescale time"
            " so that entries stay below ~1e150"
        )
    return S


def check_e_op_value(value, name: str):
    """The value a callable in ``e_ops`` returned, or a TypeError naming the observable
    when it is not a number or an array of numbers (``None``, text, objects)."""
    arr = np.asarray(value) if value is not None else None
    if arr is None or arr.dtype.kind not in "biufc" or arr.size == 0:
        raise TypeError(
            f"e_ops {name!r}: the callable returned {type(value).__name__}"
            f" ({value!r:.40}); it must return a number or an array of numbers"
        )
    return value

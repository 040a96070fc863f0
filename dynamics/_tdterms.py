r"""Time-dependent local terms compiled once for the engine (private).

A QuTiP time-dependent operator (:class:`qutip.QobjEvo`) on one party is compiled once
into :class:`TimeDependence`, a sum of constant engine-layout superoperators ``S_p``
(row-stacked, see :mod:`eplt.dynamics.superop`) with scalar weights,

.. math:: \mathcal{L}(t) = \sum_p w_p(t) S_p + \sum_f F_f(t),
          \qquad w_p(t) = \prod_{(i, c) \in p} c_i(t)^{(*)},

where the ``c_i`` are the QobjEvo's coefficients (string, function, array on a
``tlist``, each read from qutip's own :class:`~qutip.core.coefficient.Coefficient`, so
that ``args`` and the interpolation are exactly mesolve's), a collapse operator
``C(t) = sum_i c_i(t) C_i`` gives the pieces ``c_i c_j^*`` of ``D[C(t)]``, and ``F_f`` is
a fallback for QobjEvos built from a function returning a Qobj (evaluated by qutip at
each time). Coefficients are evaluated on all the times needed at once (a vectorized
call where the function accepts arrays and agrees with qutip's scalar calls). The same
generator is kept as a qutip QobjEvo for qutip's integrators. The integrators are in
:mod:`eplt.dynamics._timedep`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import qutip
import scipy.sparse as sp
from qutip.core.cy.coefficient import FunctionCoefficient, StrFunctionCoefficient

from .superop import (
    SPARSE_TERM_MIN,
    _hamiltonian_superop,
    _hamiltonian_superop_any,
    as_engine_superop,
)

__all__ = ["TimeDependence", "compile_qobjevo", "qutip_generator"]


# --------------------------------------------------------------------------- coefficients
def _vector_form(c):
    """``f(times_array)`` equal to the qutip Coefficient ``c``, or None when unknown."""
    try:
        if isinstance(c, StrFunctionCoefficient):
            base, args = c.__reduce__()[1]
            names = "\n".join(f"    {k} = args[{k!r}]" for k in args)
            lc: dict = {}
            exec(
                f"def coeff(t, args):\n{names}\n    return {base}",
                StrFunctionCoefficient.str_env,
                lc,
            )
            f = lc["coeff"]
            return lambda ts: f(ts, args)
        if isinstance(c, FunctionCoefficient):
            state = c.__reduce__()[2]
            funcs = [s for s in state if callable(s)]
            dicts = [s for s in state if isinstance(s, dict)]
            flags = [s for s in state if isinstance(s, bool)]
            if len(funcs) != 1 or len(dicts) != 1 or len(flags) != 1:
                return None
            (f,), (args,), (pythonic,) = funcs, dicts, flags
            return (lambda ts: f(ts, **args)) if pythonic else (lambda ts: f(ts, args))
    except Exception:  # qutip internals differ: the scalar path is always right
        return None
    return None


class _Coefficient:
    """A qutip Coefficient evaluated on arrays of times.

    A vectorized call is used when the function accepts an array, returns one value per
    time, raises no warning, and agrees with qutip's own scalar calls (to 1e-13,
    relative) at :data:`PROBES_FIRST` spread times on its first call and at
    :data:`PROBES_LATER` (the first and last time) on each later one; otherwise every time
    is a scalar call from then on.
    """

    #: Spread times a vectorized call is checked at: the first call (the whole stage's
    #: interval midpoints on the Magnus path) and each later one (the same function,
    #: already shown to agree; the Magnus path calls it once per chunk, batch and party,
    #: where eight scalar probes cost more than the vectorized call).
    PROBES_FIRST, PROBES_LATER = 8, 2

    def __init__(self, coeff):
        self.coeff = coeff
        self._vec = _vector_form(coeff)
        self._checked = False

    def __call__(self, times: np.ndarray) -> np.ndarray:
        times = np.asarray(times, dtype=float)
        if self._vec is not None and times.size > self.PROBES_FIRST:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    v = np.asarray(self._vec(times), dtype=complex)
                if v.shape == times.shape:
                    k = self.PROBES_LATER if self._checked else self.PROBES_FIRST
                    probe = (np.arange(k) * (times.size - 1)) // (k - 1)
                    ref = np.array([complex(self.coeff(float(times[i]))) for i in probe])
                    scale = 1e-13 * max(1.0, float(np.abs(ref).max()))
                    if float(np.abs(v[probe] - ref).max()) <= scale:
                        self._checked = True
                        return v
            except Exception:
                pass
            self._vec = None  # not vectorizable: do not try again
        return np.array([complex(self.coeff(float(t))) for t in times.tolist()], dtype=complex)


@dataclass(frozen=True, eq=False)
class TimeDependence:
    r"""The time-dependent part of one local generator, ``sum_p w_p(t) S_p + sum_f F_f(t)``.

    ``coefficients`` are callables on arrays of times; each piece is ``(factors, S)`` with
    ``factors`` a tuple of ``(index, conjugate)`` (its weight is the product of those
    coefficients, conjugated where flagged) and ``S`` a ``D x D`` engine-layout matrix;
    ``functions`` map one time to a ``D x D`` engine-layout matrix.
    """

    dim: int
    coefficients: tuple = ()
    pieces: tuple = ()
    functions: tuple = ()
    #: the whole local term this part belongs to (its constant part included) as a qutip
    #: QobjEvo superoperator (qutip's convention and coefficients, as mesolve builds it),
    #: for qutip's integrators; None when unknown
    qutip_term: object = field(default=None, compare=False)

    def __post_init__(self):
        merged: dict = {}
        for factors, S in self.pieces:
            key = tuple(sorted(factors))
            S = S if sp.issparse(S) else np.asarray(S, dtype=complex)
            merged[key] = merged[key] + S if key in merged else S
        object.__setattr__(self, "pieces", tuple(merged.items()))
        D = self.dim * self.dim
        if any(sp.issparse(S) for _, S in self.pieces):
            # a large party (d^2 > SPARSE_TERM_MIN): the pieces stay sparse; qutip's
            # integrator (``qutip_term``) is what runs such a party
            object.__setattr__(self, "_stack", None)
            return
        stack = np.array([S for _, S in self.pieces], dtype=complex).reshape(
            len(self.pieces), D * D
        )
        object.__setattr__(self, "_stack", stack)

    @classmethod
    def from_callable(cls, dim: int, f) -> TimeDependence:
        """Wrap ``t -> engine-layout matrix`` (evaluated one time at a time)."""
        return cls(dim, functions=(f,))

    def __add__(self, other: TimeDependence) -> TimeDependence:
        if other.dim != self.dim:
            raise ValueError(f"time-dependent parts of dimensions {self.dim} and {other.dim}")
        shift = len(self.coefficients)
        pieces = self.pieces + tuple(
            (tuple((i + shift, c) for i, c in f), S) for f, S in other.pieces
        )
        both = self.qutip_term is not None and other.qutip_term is not None
        return TimeDependence(
            self.dim,
            self.coefficients + other.coefficients,
            pieces,
            self.functions + other.functions,
            self.qutip_term + other.qutip_term if both else None,
        )

    def weights(self, times) -> np.ndarray:
        """The weights ``w_p(t)`` of the pieces at each time: shape ``(T, pieces)``."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        vals = [c(times) for c in self.coefficients]
        W = np.ones((times.size, len(self.pieces)), dtype=complex)
        for p, (factors, _) in enumerate(self.pieces):
            for i, conj in factors:
                W[:, p] *= np.conj(vals[i]) if conj else vals[i]
        return W

    def evaluate(self, times) -> np.ndarray:
        """``sum_p w_p(t) S_p + sum_f F_f(t)`` at each time: shape ``(T, D, D)``."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        D = self.dim * self.dim
        if self._stack is None:  # sparse pieces (a large party): dense on request
            W = self.weights(times)
            out = np.zeros((times.size, D, D), dtype=complex)
            for p, (_, S) in enumerate(self.pieces):
                out += W[:, p, None, None] * S.toarray()[None]
        else:
            out = (self.weights(times) @ self._stack).reshape(times.size, D, D)
        for f in self.functions:
            out += np.stack([np.asarray(f(t), dtype=complex) for t in times.tolist()])
        return out


def qutip_generator(x, kind: str):
    """The generator of ``x`` (a Qobj or QobjEvo) as mesolve builds it: ``liouvillian(x)``
    for a Hamiltonian, ``liouvillian(None, [x])`` for a collapse operator, ``x`` for a
    superoperator (converted to ``superrep='super'``)."""
    if kind == "H":
        return qutip.liouvillian(x)
    if kind == "c_op":
        return qutip.liouvillian(None, [x])
    if isinstance(x, qutip.Qobj) and x.superrep != "super":
        return qutip.to_super(x)
    return x


def compile_qobjevo(
    evo: qutip.QobjEvo, kind: str, what: str
) -> tuple[np.ndarray, TimeDependence | None]:
    """``(constant part, time-dependent part)`` of a QobjEvo in the engine layout (the
    time-dependent part's ``qutip_term`` is the QobjEvo's whole generator; the caller adds
    the other parts of its term).

    ``kind`` is ``"H"`` (a Hamiltonian: ``-i[H(t), .]``), ``"c_op"`` (a collapse operator:
    ``D[C(t)]``) or ``"super"`` (a superoperator, qutip's convention). The time-dependent
    part is None when the QobjEvo has no coefficient.
    """
    if kind == "super":
        d = math.isqrt(evo.shape[0])
    else:
        d = evo.shape[0]
    D = d * d
    sparse = D > SPARSE_TERM_MIN  # a large party: sparse superoperators (as lindblad's)
    const = sp.csr_matrix((D, D), dtype=complex) if sparse else np.zeros((D, D), dtype=complex)
    full = qutip_generator(evo, kind)  # as mesolve builds it (a QobjEvo superoperator)
    elements = evo.to_list()
    if not all(
        isinstance(e, qutip.Qobj)
        or (
            isinstance(e, list)
            and len(e) == 2
            and isinstance(e[0], qutip.Qobj)
            and isinstance(e[1], qutip.Coefficient)
        )
        for e in elements
    ):
        # built from a function returning a Qobj: qutip evaluates it at each time
        if kind == "H":
            f = lambda t: _hamiltonian_superop(evo(t).full())  # noqa: E731
        elif kind == "c_op":
            f = lambda t: _dissipator_pair(evo(t).full(), evo(t).full())  # noqa: E731
        else:
            f = lambda t: as_engine_superop(evo(t), d, what=what)  # noqa: E731
        return const, TimeDependence(d, functions=(f,), qutip_term=full)
    ops, coeffs = [], []
    for e in elements:
        if isinstance(e, qutip.Qobj):
            ops.append((None, e))
        else:
            coeffs.append(_Coefficient(e[1]))
            ops.append((len(coeffs) - 1, e[0]))
    pieces = []

    def add(factors, S):
        nonlocal const
        if factors:
            pieces.append((factors, S))
        elif sparse:
            const = (const + S).tocsr()
        else:
            const[...] += S

    if kind == "c_op":
        mats = [(i, Q.full()) for i, Q in ops]
        for i, Ci in mats:
            for j, Cj in mats:
                fac = (() if i is None else ((i, False),)) + (() if j is None else ((j, True),))
                add(fac, _dissipator_pair(Ci, Cj, sparse=sparse))
    else:
        for i, Q in ops:
            S = (
                (_hamiltonian_superop_any if sparse else _hamiltonian_superop)(Q.full())
                if kind == "H"
                else as_engine_superop(Q, d, what=what, sparse=sparse)
            )
            add(() if i is None else ((i, False),), S)
    if not pieces:
        return const, None
    return const, TimeDependence(d, tuple(coeffs), tuple(pieces), qutip_term=full)


def _dissipator_pair(Ci: np.ndarray, Cj: np.ndarray, *, sparse: bool = False):
    r"""Engine layout of ``X -> C_i X C_j^† - {C_j^† C_i, X}/2`` (the ``c_i c_j^*`` part of
    ``D[sum_i c_i C_i]``); for ``i = j`` it is ``D[C_i]``. A sparse CSR matrix when
    ``sparse`` (large parties)."""
    if sparse:
        Ci, Cj = sp.csr_matrix(Ci), sp.csr_matrix(Cj)
        eye = sp.identity(Ci.shape[0], dtype=complex, format="csr")
        M = (Cj.conj().T @ Ci).tocsr()
        out = sp.kron(Ci, Cj.conj()) - 0.5 * (sp.kron(M, eye) + sp.kron(eye, M.T))
        return out.tocsr()
    eye = np.eye(Ci.shape[0])
    M = Cj.conj().T @ Ci
    return np.kron(Ci, Cj.conj()) - 0.5 * (np.kron(M, eye) + np.kron(eye, M.T))

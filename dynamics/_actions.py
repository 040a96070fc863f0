r"""Actions and processes: how a random process acts on the parties (private; the names
are public from :mod:`eplt.dynamics.model`, where they are documented and imported from).

:class:`Action` (a Hamiltonian drive :class:`HamiltonianAction` or a jump channel
:class:`JumpAction`), :class:`Process` (the law of a classical signal or clock, with its
averaged generator, segment nodes and Markov factors) and :class:`MarkovFactor`, split out
of :mod:`eplt.dynamics.model` to keep one concept per module.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .superop import (
    Generator,
    _dense,
    _replacement_superop,
    _to_qutip_super,
    _unitary_superop,
    as_engine_superop,
)

__all__ = ["Action", "HamiltonianAction", "JumpAction", "MarkovFactor", "Process"]


def _engine_superop(generator, superop, d, what: str, *, sparse: bool = False):
    """The engine-layout matrix of a term given either a qutip ``generator`` or, from the
    engine itself, its internal ``superop``. With ``sparse``, a sparse ``superop`` is kept
    as a CSR matrix, and a large qutip generator is read as one."""
    if (generator is None) == (superop is None):
        raise TypeError(f"{what}: give the generator as a qutip superoperator")
    if superop is not None:  # internal: already in the engine layout
        if sparse and sp.issparse(superop):
            return sp.csr_matrix(superop, dtype=complex)
        return np.asarray(_dense(superop), dtype=complex)
    return as_engine_superop(generator, d, what=what, sparse=sparse)


def _physics_array(x, what: str) -> np.ndarray | None:
    """A term's operator or state as a read-only complex array (Qobj or array-like)."""
    if x is None:
        return None
    a = x.full() if hasattr(x, "full") else np.asarray(x, dtype=complex)
    a = np.array(a, dtype=complex)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{what} must be a square matrix, got shape {a.shape}")
    a.flags.writeable = False
    return a


class Action(ABC):
    """How a process acts on one party."""

    party: int


@dataclass(frozen=True, eq=False)
class HamiltonianAction(Action):
    r"""``H_party(t) = scale * sum_k xi_k(t) G_k`` for a process value ``xi(t)``.

    With ``conjugate=True`` the party evolves with the complex-conjugate unitary,
    ``H -> -H^*`` (so that ``U (x) U^*`` is applied when A has ``conjugate=False``).
    When ``generators`` is empty the process value is itself a ``d x d`` Hermitian matrix
    (used by Haar-random pulses).
    """

    party: int
    generators: tuple = ()
    conjugate: bool = False
    scale: float = 1.0

    def hamiltonian(self, value) -> np.ndarray:
        """Local Hamiltonian for one process value (vector of coefficients or a matrix)."""
        return self.hamiltonians(np.asarray(value)[None])[0]

    def hamiltonians(self, values: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`hamiltonian` over a leading batch axis of ``values``."""
        values = np.asarray(values)
        if self.generators:
            G = np.stack([np.asarray(g, dtype=complex) for g in self.generators])
            H = np.einsum("mk,kab->mab", values.astype(complex), G)
        else:
            H = values.astype(complex)
        H = self.scale * H
        return -H.conj() if self.conjugate else H

    def conjugate_of(self, other: Action) -> bool:
        """True when, for every process value, this action's Hamiltonian is ``-H^*`` of
        ``other``'s (so its generator ``-i[H, .]`` is the complex conjugate of
        ``other``'s: U on one party, U* on this one). Checked exactly, on the
        generators (or, for matrix-valued signals, on ``scale`` and ``conjugate``)."""
        if not isinstance(other, HamiltonianAction) or bool(self.generators) != bool(
            other.generators
        ):
            return False
        if not self.generators:
            return self.scale == other.scale and self.conjugate != other.conjugate
        mine, theirs = self.unit_operators(), other.unit_operators()
        return len(mine) == len(theirs) and all(
            np.array_equal(A, -np.conj(B)) for A, B in zip(mine, theirs)
        )

    def unit_operators(self) -> list[np.ndarray]:
        """``A_k`` such that ``H = sum_k xi_k A_k`` (conjugation and scale included)."""
        # H = scale * sum_k xi_k G_k (or -H^*): the unit vector e_k gives scale * G_k
        # directly (building it through hamiltonian(e_k) cost O(K) per operator, O(K^3)
        # for a process's K channels: 8 s for the 99 Gell-Mann generators of d = 10).
        # Computed once per action (callers index it once per channel).
        cached = self.__dict__.get("_unit_ops")
        if cached is None:
            cached = []
            for g in self.generators:
                H = self.scale * np.asarray(g, dtype=complex)
                cached.append(-H.conj() if self.conjugate else H)
            object.__setattr__(self, "_unit_ops", cached)
        return list(cached)


@dataclass(frozen=True, eq=False, init=False)
class JumpAction(Action):
    """Apply a local channel on ``party`` at every tick of a clock.

    ``channel`` is a qutip superoperator (qutip's convention, any ``superrep``, e.g.
    ``qutip.to_super(U)``); raw arrays are refused. ``superop`` (the engine's row-stacked
    matrix) is internal, and the ``superop=`` keyword is for the engine only. The
    constructors :meth:`reset` and :meth:`kick` also record the physics: ``target`` (the
    state a reset prepares) or ``unitary`` (a kick's ``U``).
    """

    party: int
    superop: np.ndarray = field(repr=False)
    label: str = "jump"
    target: np.ndarray | None = field(default=None, repr=False)
    unitary: np.ndarray | None = field(default=None, repr=False)

    def __init__(
        self,
        party: int,
        channel=None,
        label: str = "jump",
        *,
        superop=None,
        target=None,
        unitary=None,
    ):
        object.__setattr__(self, "party", int(party))
        object.__setattr__(
            self, "superop", _engine_superop(channel, superop, None, f"jump on party {party}")
        )
        object.__setattr__(self, "label", str(label))
        object.__setattr__(self, "target", _physics_array(target, f"jump on party {party}: target"))
        object.__setattr__(
            self, "unitary", _physics_array(unitary, f"jump on party {party}: unitary")
        )

    @classmethod
    def reset(cls, party: int, target) -> JumpAction:
        """At each tick, replace the party's state by ``target`` (``label="reset"``)."""
        w = _physics_array(target, f"reset on party {party}: target")
        return cls(party, superop=_replacement_superop(w), label="reset", target=w)

    @classmethod
    def kick(cls, party: int, U) -> JumpAction:
        """At each tick, apply the unitary ``U`` to the party (``label="kick"``)."""
        u = _physics_array(U, f"kick on party {party}: U")
        return cls(party, superop=_unitary_superop(u), label="kick", unitary=u)

    @property
    def channel(self):
        d = math.isqrt(self.superop.shape[0])
        return _to_qutip_super(self.superop, [[d], [d]])


@dataclass(frozen=True, eq=False)
class MarkovFactor:
    r"""One classical Markov variable in the form the stochastic Liouville equation needs.

    The joint object is a vector ``c`` over the variable's ``m`` states (or modes) of
    operators; for a signal value ``xi`` driving ``H = sum_k xi_k A_k`` it obeys
    ``dc/dt = (generator (x) id) c + sum_k (values[k] (x) L_{A_k}) c``, with
    ``L_A = -i[A, .]``. The average state is ``sum_s readout[s] c_s``; at the start
    ``c = initial (x) rho``.

    * finite chain: ``generator = W`` (``dp/dt = W p``, columns sum to zero),
      ``values[k] = diag(xi_k(s))``, ``initial`` = stationary law, ``readout = (1, ..., 1)``;
    * Ornstein-Uhlenbeck (Hermite modes): ``generator = -diag(n)/tau_c``,
      ``values[k] = sigma (a_k + a_k^+)``, ``initial = readout = e_0``; ``truncated`` is
      True (the hierarchy is cut at a finite depth).

    Parameters
    ----------
    generator : (m, m) ndarray or scipy sparse matrix
    values : sequence of (m, m) ndarray or sparse matrices, one per signal channel
    initial, readout : ndarray (m,)
    truncated : bool
        True when the representation is a truncated (approximate) hierarchy.
    """

    generator: object
    values: tuple
    initial: np.ndarray
    readout: np.ndarray
    truncated: bool = False

    def __post_init__(self):
        W = self.generator if sp.issparse(self.generator) else np.atleast_2d(self.generator)
        m = W.shape[0]
        V = tuple(v if sp.issparse(v) else np.asarray(v) for v in self.values)
        if W.shape != (m, m) or not V or any(v.shape != (m, m) for v in V):
            raise ValueError(
                f"MarkovFactor needs a generator (m, m) and values (m, m) per channel, got "
                f"{W.shape} and {[v.shape for v in V]}"
            )
        object.__setattr__(self, "generator", W)
        object.__setattr__(self, "values", V)
        for f in ("initial", "readout"):
            v = np.asarray(getattr(self, f), dtype=complex).reshape(-1)
            if v.shape != (m,):
                raise ValueError(f"MarkovFactor {f} must have length {m}, got {v.shape}")
            object.__setattr__(self, f, v)

    @property
    def size(self) -> int:
        return self.generator.shape[0]


class Process(ABC):
    """Law of a classical random process (implemented in :mod:`eplt.baths.processes`).

    Attributes
    ----------
    name : str
        Identifies the process in an environment description.
    kind : {"signal", "clock"}
        A signal drives :class:`HamiltonianAction`; a clock fires :class:`JumpAction`.
    white : bool
        True when the averaged dynamics is exactly a Lindbladian (Brownian, Poisson).
    segment : float or None
        Duration of the i.i.d. pieces for pulse processes, else None.
    markovian : bool
        True when :meth:`markov_factors` describes the process exactly (finite chains)
        or by a convergent hierarchy (Ornstein-Uhlenbeck): the stochastic Liouville
        method applies.
    """

    markovian = False

    # Subclasses set ``name``, ``kind``, ``white`` and ``segment`` (class attributes or
    # dataclass fields); they are not given defaults here so that dataclass subclasses
    # may declare them as required fields.

    def averaged_generator(self, dims: Sequence[int], actions: Sequence[Action]) -> Generator:
        """Exact averaged generator of this process acting through ``actions``."""
        raise TypeError(f"{type(self).__name__} is not white: it has no exact averaged generator")

    def segment_nodes(self, *, nodes: int, samples: int, rng) -> tuple[list, np.ndarray]:
        """Quadrature (or sample) nodes ``(values, weights)`` of one segment's value."""
        raise TypeError(f"{type(self).__name__} is not an i.i.d. pulse process")

    def markov_factors(self, *, depth: int, t: float) -> list[MarkovFactor]:
        """Independent classical variables of this signal (:class:`MarkovFactor`).

        ``depth`` truncates hierarchies (ignored by finite chains); ``t`` is a time inside
        the piece between two :meth:`breakpoints` (used by deterministic signals)."""
        raise TypeError(f"{type(self).__name__} is not a Markov process")

    @abstractmethod
    def sample(self, rng: np.random.Generator, edges: np.ndarray):
        """Sample one realization on the substep grid ``edges`` (length S+1).

        Signals return an array ``(S, channels)`` (or ``(S, d, d)`` for matrix-valued
        signals) of the value held on each substep; clocks return a sorted array of tick
        times in ``(edges[0], edges[-1]]``.
        """

    def sample_many(self, rngs, edges: np.ndarray) -> np.ndarray:
        """:meth:`sample` for each generator in ``rngs``, stacked (signals only): the
        same numbers, realization by realization; subclasses share the per-grid work."""
        return np.stack([self.sample(r, edges) for r in rngs])

    def breakpoints(self, t0: float, t1: float) -> np.ndarray:
        """Times in ``(t0, t1)`` where a piecewise-constant signal may jump."""
        return np.empty(0)

    def max_rate(self) -> float:
        """A rate scale used to choose the sampling step (1/time).

        0 (the default) for processes propagated exactly between their breakpoints
        (piecewise-constant signals, clock ticks); only processes discretised on the
        substeps (white or coloured noise) return a rate."""
        return 0.0

    def describe(self) -> dict:
        """JSON-able description (name, class, parameters)."""
        return {"name": self.name, "type": type(self).__name__}

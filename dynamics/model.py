r"""The interface between physical models and the solvers.

A *realization-level* description of one stage of dynamics on n parties:

* deterministic local Lindblad terms (:class:`LocalTerm`), one party each;
* independent random *sources*: a classical :class:`Process` and the :class:`Action` it
  has on one or more parties. A source acting on several parties is *shared* (the
  baths are classically correlated through it); independent baths are separate
  sources with the same law.

Given one realization of every process, each action is local, so the realization's
propagator is a tensor product of local propagators. Only the average over realizations
correlates the parties. The ``baths`` package builds these objects (from thermal baths,
drives, clocks and a correlation parameter); the solvers in :mod:`eplt.dynamics.propagate`
only read them.

Processes implement :class:`Process`: white processes (Brownian noise, Poisson clocks)
average to an exact Lindbladian (:meth:`Process.averaged_generator`); i.i.d. pulse
processes give a segment average (:meth:`Process.segment_nodes`); Markov processes
(random telegraph, finite chains, Ornstein-Uhlenbeck, deterministic signals) describe
their generator through :meth:`Process.markov_factors` for the stochastic Liouville
method (:mod:`eplt.dynamics.sle`); every process can be sampled.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from ._memory import check_bytes
from ._tdterms import TimeDependence
from .superop import (
    Generator,
    ProductTerm,
    _dense,
    _dissipator,
    _hamiltonian_superop,
    _replacement_superop,
    _to_qutip_super,
    _unitary_superop,
    as_engine_superop,
)

__all__ = [
    "Action",
    "HamiltonianAction",
    "JumpAction",
    "LocalTerm",
    "MarkovFactor",
    "Model",
    "Process",
    "Source",
    "Stage",
    "dissipator_terms",
    "stages_of",
]


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


#: Averaged generators estimated below this size are built without consulting the
#: available memory (each look-up reads /proc).
_CHECK_MIN_BYTES = 2**24

_TIMEDEP_EXACT_ONLY = (
    "time-dependent local terms (lindblad with a QobjEvo or [H0, [H1, f]]) are integrated "
    "by method='exact' only: use white processes (Brownian noise, Poisson clocks)"
)


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


@dataclass(frozen=True, eq=False, init=False)
class LocalTerm:
    r"""A deterministic local Lindblad generator on ``party``, with the physics it stands for.

    ``kind`` says what the term is, for the energy ledger (:mod:`eplt.dynamics.thermo`):
    ``"heat"`` (a thermal bath at inverse temperature ``beta``), ``"reservoir"`` (a reset
    ``rate (target Tr s - s)`` to the state ``target``), ``"work"`` (a Hamiltonian) or
    ``"other"``. The physics attributes are set where the term is built
    (:func:`eplt.baths.thermal_bath`, :func:`eplt.baths.thermal_reset`,
    :func:`eplt.baths.lindblad`, the constructors :meth:`from_operators` and
    :meth:`reset`) and read by the ledger and the observables; nothing is recovered from
    the matrix.

    Parameters
    ----------
    name : str
    party : int
    generator : Qobj
        The generator as a qutip superoperator, read in qutip's convention (column
        stacking; any ``superrep``, converted with :func:`qutip.to_super`), e.g.
        ``qutip.liouvillian(H, c_ops)``. A raw array is refused (row- and column-stacked
        matrices describe different maps). :func:`eplt.baths.lindblad` builds the same term from
        ``H`` and ``c_ops``.
    kind : {"heat", "reservoir", "work", "other"}
    beta : float, optional
        Inverse temperature of a thermal bath (``kind="heat"``).
    target : (d, d) array or Qobj, optional
        The state the term drives its party to: the Gibbs state of a thermal bath, the
        state ``omega`` a reset prepares.
    rate : float, optional
        Rate ``r`` of a reset ``r (target Tr s - s)``.
    hamiltonian : (d, d) array or Qobj, optional
        The party's energy operator this term declares (a Hamiltonian term's ``H``; the
        ``H`` that sets a thermal bath's jumps, whether or not ``-i[H, .]`` is included).
    c_ops : sequence of (d, d) arrays, optional
        Jump operators ``C_k`` of the dissipator ``sum_k D[C_k]`` (rates inside), when the
        term is given in that form.

    Attributes
    ----------
    generator : Qobj
        The generator in qutip's convention (its time-independent part when ``timedep``).
    factor : ndarray or scipy.sparse.csr_matrix
        Internal: the same generator in the engine's row-stacked layout
        (:mod:`eplt.dynamics.superop`), as stored: dense for ``d^2 <= 256``
        (:data:`eplt.dynamics.superop.SPARSE_TERM_MIN`), sparse CSR for larger parties
        (a dense one of a cavity of 80 levels is 655 MB). The engine reads this one.
    superop : ndarray
        Internal: :attr:`factor` as a dense ``d^2 x d^2`` array (the same object when it
        is stored dense; built on each access when sparse). The ``superop=`` keyword is
        for the engine only (dense or sparse).
    timedep : TimeDependence, callable or None
        Internal: the time-dependent part added to ``superop`` at time ``t`` (time
        measured on ``tlist``), compiled by :func:`eplt.baths.lindblad` from QuTiP
        time-dependent operators (a private ``TimeDependence``, evaluated on many times
        at once), or a callable ``t -> engine-layout matrix``; only
        :class:`~eplt.dynamics.exact.Exact` integrates it.

    Examples
    --------
    >>> import qutip
    >>> t = LocalTerm("decay", 0, qutip.liouvillian(qutip.sigmaz(), [qutip.destroy(2)]))
    >>> t.generator.superrep, t.superop.shape
    ('super', (4, 4))
    >>> r = LocalTerm.reset("reset", 0, qutip.ket2dm(qutip.basis(2, 0)), 0.5)
    >>> r.kind, r.rate, r.target.shape
    ('reservoir', 0.5, (2, 2))
    """

    name: str
    party: int
    factor: object = field(repr=False)
    timedep: object = field(default=None, repr=False)
    kind: str = "other"
    beta: float | None = None
    target: np.ndarray | None = field(default=None, repr=False)
    rate: float | None = None
    hamiltonian: np.ndarray | None = field(default=None, repr=False)
    c_ops: tuple = field(default=(), repr=False)

    def __init__(
        self,
        name: str,
        party: int,
        generator=None,
        *,
        superop=None,
        factor=None,
        timedep=None,
        kind: str = "other",
        beta: float | None = None,
        target=None,
        rate: float | None = None,
        hamiltonian=None,
        c_ops=(),
    ):
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "party", int(party))
        if factor is not None:  # dataclasses.replace passes the stored field
            superop = factor if superop is None else superop
        S = _engine_superop(generator, superop, None, f"local term {name!r}", sparse=True)
        object.__setattr__(self, "factor", S)
        if timedep is not None and not (isinstance(timedep, TimeDependence) or callable(timedep)):
            raise TypeError(f"local term {name!r}: timedep must be callable t -> matrix")
        object.__setattr__(self, "timedep", timedep)
        object.__setattr__(self, "kind", str(kind))
        object.__setattr__(self, "beta", None if beta is None else float(beta))
        what = f"local term {name!r}"
        object.__setattr__(self, "target", _physics_array(target, f"{what}: target"))
        if rate is not None:
            rate = float(rate)
            if not (math.isfinite(rate) and rate >= 0):
                raise ValueError(f"{what}: rate must lie in [0, inf), got {rate!r}")
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "hamiltonian", _physics_array(hamiltonian, f"{what}: hamiltonian"))
        object.__setattr__(self, "c_ops", tuple(_physics_array(c, f"{what}: c_ops") for c in c_ops))

    @property
    def superop(self) -> np.ndarray:
        return _dense(self.factor)

    @property
    def is_sparse(self) -> bool:
        """True when the term is stored as a sparse matrix (large parties)."""
        return sp.issparse(self.factor)

    @property
    def generator(self):
        d = math.isqrt(self.factor.shape[0])
        return _to_qutip_super(self.factor, [[d], [d]])

    @classmethod
    def from_qutip(
        cls,
        party: int,
        H=None,
        c_ops=(),
        *,
        name: str | None = None,
        args: dict | None = None,
        tlist=None,
    ) -> LocalTerm:
        r"""The term ``qutip.mesolve`` reads from ``H, c_ops`` (also time-dependent, in
        QuTiP's formats), on ``party``: the public constructor behind
        :func:`eplt.baths.lindblad`, which documents the arguments, formats and refusals.

        Examples
        --------
        >>> import qutip
        >>> t = LocalTerm.from_qutip(0, 0.5 * qutip.sigmaz(), [0.3 * qutip.destroy(2)])
        >>> t.name, t.superop.shape, t.hamiltonian.shape
        ('lindblad[0]', (4, 4), (2, 2))
        """
        from ._qutip_terms import from_qutip

        return from_qutip(party, H, c_ops, name=name, args=args, tlist=tlist)

    @classmethod
    def from_operators(
        cls,
        name: str,
        party: int,
        *,
        H=None,
        c_ops=(),
        kind: str = "other",
        beta: float | None = None,
        target=None,
        hamiltonian=None,
    ) -> LocalTerm:
        r"""The term ``-i[H, .] + sum_k D[C_k]``, ``D[C] s = C s C^† - {C^† C, s}/2``.

        ``H`` (optional) enters the generator and is recorded as the party's energy
        operator unless ``hamiltonian`` names another one (a thermal bath without its
        ``-i[H, .]`` still declares ``H``). Other keywords as the class.

        Examples
        --------
        >>> import qutip
        >>> t = LocalTerm.from_operators("decay", 0, H=qutip.sigmaz(), c_ops=[qutip.destroy(2)])
        >>> L = qutip.liouvillian(qutip.sigmaz(), [qutip.destroy(2)])
        >>> bool(abs((t.generator - L).full()).max() < 1e-15)
        True
        """
        what = f"local term {name!r}"
        ops = [_physics_array(c, f"{what}: c_ops") for c in c_ops]
        Ha = _physics_array(H, f"{what}: H")
        # the party's dimension: from the operators, else from the declared physics
        given = [
            x
            for x in (*ops, Ha, _physics_array(hamiltonian, what), _physics_array(target, what))
            if x is not None
        ]
        dims = {a.shape[0] for a in given}
        if len(dims) != 1:
            raise ValueError(
                f"{what}: give H, c_ops, hamiltonian or target of one dimension, got {sorted(dims)}"
            )
        d = dims.pop()
        S = sum((_dissipator(c) for c in ops), np.zeros((d * d, d * d), dtype=complex))
        if Ha is not None:
            S = S + _hamiltonian_superop(Ha)
        return cls(
            name,
            party,
            superop=S,
            kind=kind,
            beta=beta,
            target=target,
            hamiltonian=Ha if hamiltonian is None else hamiltonian,
            c_ops=ops,
        )

    @classmethod
    def reset(cls, name: str, party: int, target, rate: float) -> LocalTerm:
        r"""The reset ``rate (target Tr s - s)`` (``kind="reservoir"``).

        Examples
        --------
        >>> import qutip
        >>> t = LocalTerm.reset("r", 0, qutip.ket2dm(qutip.basis(2, 1)), 2.0)
        >>> float(t.generator.tr().real)  # 2 (Tr(w) Tr - d^2) on d = 2: 2 (1 - 4)
        -6.0
        """
        w = _physics_array(target, f"local term {name!r}: target")
        d = w.shape[0]
        rate = float(rate)
        S = rate * (_replacement_superop(w) - np.eye(d * d))
        return cls(name, party, superop=S, kind="reservoir", target=w, rate=rate)


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


@dataclass(frozen=True, eq=False)
class Source:
    """One independent random process and its actions (one per party it drives).

    ``label`` names the process as the model's author did (an environment's independent
    copies of a process ``"drive"`` are separate processes labelled ``"drive"``); the
    ledger and the heat currents report flows under ``label[party]``. Default: the
    process's name.
    """

    process: Process
    actions: tuple[Action, ...]
    label: str | None = None

    @property
    def name(self) -> str:
        """``label``, or the process's name when no label is given."""
        return self.process.name if self.label is None else self.label

    @property
    def parties(self) -> tuple[int, ...]:
        return tuple(a.party for a in self.actions)


def _kron(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``np.kron`` of two square matrices by broadcasting (10x faster for small ones)."""
    a, b = A.shape[0], B.shape[0]
    return (A[:, None, :, None] * B[None, :, None, :]).reshape(a * b, a * b)


def dissipator_terms(
    dims: Sequence[int], ops: dict[int, np.ndarray], rate: float
) -> list[ProductTerm]:
    r"""Product-term expansion of ``rate * D[X]`` for ``X = sum_p A_p`` (A_p on party p).

    ``D[X] rho = X rho X^† - {X^† X, rho}/2`` with cross terms between parties:
    ``A_p rho A_q^†``, ``-A_p^† A_q rho / 2`` and ``-rho A_p^† A_q / 2`` for ``p != q``.
    """
    terms = []
    for p, A in ops.items():
        terms.append(ProductTerm(rate, {p: _dissipator(A)}))
    for p, Ap in ops.items():
        Ip = np.eye(Ap.shape[0])
        for q, Aq in ops.items():
            if p == q:
                continue
            Iq = np.eye(Aq.shape[0])
            terms.append(ProductTerm(rate, {p: _kron(Ap, Ip), q: _kron(Iq, Aq.conj())}))
            terms.append(ProductTerm(-0.5 * rate, {p: _kron(Ap.conj().T, Ip), q: _kron(Aq, Iq)}))
            terms.append(ProductTerm(-0.5 * rate, {p: _kron(Ip, Ap.conj()), q: _kron(Iq, Aq.T)}))
    return terms


@dataclass(frozen=True, eq=False)
class Model:
    """One stage: local terms plus random sources on parties of dimensions ``dims``.

    Parameters
    ----------
    dims : sequence of int
        Local dimensions.
    local : sequence of LocalTerm
        Deterministic local Lindblad terms (thermal baths, thermal resets, Hamiltonians).
    sources : sequence of Source
        Independent random processes with their actions.
    """

    dims: tuple[int, ...]
    local: tuple[LocalTerm, ...] = ()
    sources: tuple[Source, ...] = ()
    taus: tuple | None = field(default=None)
    hamiltonians: tuple | None = field(default=None)
    #: Correlation of each named process (recorded in :meth:`describe`), set by the
    #: environment that built the model.
    correlation: Mapping | None = field(default=None)

    def __post_init__(self):
        object.__setattr__(self, "dims", tuple(int(d) for d in self.dims))
        n = len(self.dims)
        for t in self.local:
            self._check_party(t.party, f"local term {t.name!r}")
            d2 = self.dims[t.party] ** 2
            if np.shape(t.factor) != (d2, d2):
                raise ValueError(
                    f"local term {t.name!r} has shape {np.shape(t.factor)}, party {t.party} needs {(d2, d2)}"
                )
        for s in self.sources:
            if len(set(s.parties)) != len(s.parties):
                raise ValueError(f"source {s.process.name!r} has two actions on one party")
            for a in s.actions:
                self._check_party(a.party, f"process {s.process.name!r}")
                kind = "signal" if isinstance(a, HamiltonianAction) else "clock"
                if kind != s.process.kind:
                    raise TypeError(
                        f"process {s.process.name!r} is a {s.process.kind}, cannot drive a {type(a).__name__}"
                    )
        if n == 0:
            raise ValueError("dims must name at least one party")

    def _check_party(self, k: int, what: str) -> None:
        if not 0 <= k < len(self.dims):
            raise ValueError(
                f"{what} acts on party {k}, but there are only parties 0..{len(self.dims) - 1}"
            )

    def stages(self) -> list[Stage]:
        return [Stage(math.inf, self)]

    def local_generators(self) -> list[np.ndarray]:
        """Sum of the deterministic local terms, one ``d^2 x d^2`` matrix per party
        (internal: the engine's row-stacked layout, see :mod:`eplt.dynamics.superop`)."""
        if self.is_time_dependent:
            raise TypeError(_TIMEDEP_EXACT_ONLY)
        out = [np.zeros((d * d, d * d), dtype=complex) for d in self.dims]
        for t in self.local:
            out[t.party] = out[t.party] + _dense(t.factor)
        return out

    @property
    def is_white(self) -> bool:
        return all(s.process.white for s in self.sources)

    @property
    def is_time_dependent(self) -> bool:
        """True when a local term has a deterministic time dependence (``timedep``)."""
        return any(t.timedep is not None for t in self.local)

    def time_dependent_parts(self) -> list[tuple[int, object]]:
        """``(party, t -> engine matrix)`` of every time-dependent local term."""
        return [(t.party, t.timedep) for t in self.local if t.timedep is not None]

    def averaged_generator_bytes(self) -> float:
        """Bytes :meth:`averaged_generator` allocates, from the sizes alone (nothing is
        built): the local terms are referenced, not copied; a white signal with ``K``
        channels on parties ``P`` adds, per channel, the dense factors of the expansion of
        ``D[sum_p A_p]`` (:func:`dissipator_terms`: one ``d_p^2 x d_p^2`` factor per party
        and two per cross term, three cross terms per ordered pair), plus the temporaries
        of one dissipator; a clock references its jump superoperators."""
        total, temp = 0.0, 0.0
        for s in self.sources:
            if not s.process.white or not all(isinstance(a, HamiltonianAction) for a in s.actions):
                continue
            sizes = [float(self.dims[a.party]) ** 4 * 16 for a in s.actions]
            channels = max((len(a.generators) or 1) for a in s.actions)
            cross = 3.0 * sum(
                x + y for i, x in enumerate(sizes) for j, y in enumerate(sizes) if i != j
            )
            total += channels * (sum(sizes) + cross)
            temp = max([temp, *(4.0 * x for x in sizes)])
        return 1.05 * (total + temp)  # 5%: index arrays and small temporaries

    def averaged_generator(self) -> Generator:
        """Exact Lindbladian of the averaged dynamics (all processes must be white), as a
        :class:`~eplt.dynamics.superop.Generator` (engine layout; ``.to_qutip()`` converts).
        Time-dependent local terms contribute their time-independent part only.

        Its memory (:meth:`averaged_generator_bytes`) is checked before anything is built:
        :class:`~eplt.dynamics._memory.MemoryLimitError` (one line) when it exceeds the
        available memory (``EPLT_MEMORY_LIMIT`` or the system's)."""
        need = self.averaged_generator_bytes()
        if need > _CHECK_MIN_BYTES:
            check_bytes(
                need,
                f"the averaged generator (dims {list(self.dims)})",
                "use fewer or smaller parties, or fewer noise channels",
            )
        g = Generator(self.dims, tuple(ProductTerm(1.0, {t.party: t.factor}) for t in self.local))
        for s in self.sources:
            if not s.process.white:
                raise TypeError(
                    f"process {s.process.name!r} ({type(s.process).__name__}) is not white; "
                    "use method='segment' or 'sampled'"
                )
            g = g + s.process.averaged_generator(self.dims, s.actions)
        return g

    def bath_generators(self) -> list[tuple[str, int, np.ndarray]]:
        """``(label, party, L)`` for every bath acting on one party: the deterministic local
        terms, and for each white process its *marginal* averaged generator on each party
        it acts on (identical for shared and independent copies; labelled
        ``process[party]``). Used for heat currents. Internal: ``L`` is in the engine's
        row-stacked layout (:mod:`eplt.dynamics.superop`); sparse CSR for a term stored
        sparse (:attr:`LocalTerm.factor`)."""
        out = [(t.name, t.party, t.factor) for t in self.local]
        for s in self.sources:
            if not s.process.white:
                continue
            for a in s.actions:
                g = s.process.averaged_generator((self.dims[a.party],), [replace(a, party=0)])
                out.append((f"{s.name}[{a.party}]", a.party, g.local_parts()[0]))
        return out

    def spectral_gap(self) -> float:
        """Spectral gap of :meth:`averaged_generator` (rate of the slowest decaying mode)."""
        return self.averaged_generator().spectral_gap()

    def describe(self) -> dict:
        return {
            "dims": list(self.dims),
            "local": [{"name": t.name, "party": t.party} for t in self.local],
            "sources": [
                {
                    "process": s.process.describe(),
                    "parties": list(s.parties),
                    # mixing weights: the fraction of the process variance each party
                    # receives from this source (partial correlation)
                    "weights": [
                        float(a.scale) ** 2 if isinstance(a, HamiltonianAction) else 1.0
                        for a in s.actions
                    ],
                }
                for s in self.sources
            ],
            **({} if self.correlation is None else {"correlation": dict(self.correlation)}),
        }


def hamiltonian_term(name: str, party: int, H) -> LocalTerm:
    """A deterministic local Hamiltonian ``-i[H, .]`` as a :class:`LocalTerm`."""
    return LocalTerm.from_operators(name, party, H=H, kind="work")


@dataclass(frozen=True)
class Stage:
    """``duration`` (may be ``inf`` for the last stage) of dynamics under ``model``."""

    duration: float
    model: Model

    def __post_init__(self):
        if not (self.duration > 0):
            raise ValueError(f"stage duration must be > 0, got {self.duration!r}")


def stages_of(protocol) -> list[Stage]:
    """Normalise a protocol (a :class:`Model`, or anything with ``stages()``) to stages."""
    if hasattr(protocol, "stages"):
        stages = list(protocol.stages())
    else:
        raise TypeError(
            f"protocol must be a Model or have a stages() method, got {type(protocol).__name__}"
        )
    if not stages:
        raise ValueError("protocol has no stages")
    dims = stages[0].model.dims
    for s in stages:
        if s.model.dims != dims:
            raise ValueError(f"all stages must act on the same parties: {dims} vs {s.model.dims}")
    return stages

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from ._actions import (
    Action,
    HamiltonianAction,
    JumpAction,
    MarkovFactor,
    Process,
    _engine_superop,
    _physics_array,
)
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


#: Averaged generators estimated below this size are built without consulting the
#: available memory (each look-up reads /proc).
_CHECK_MIN_BYTES = 2**24

_TIMEDEP_EXACT_ONLY = (
    "time-dependent local terms (lindblad with a QobjEvo or [H0, [H1, f]]) are integrated "
    "by method='exact' only: use white processes (Brownian noise, Poisson clocks)"
)


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

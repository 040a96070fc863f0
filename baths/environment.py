r"""Baths, drives and clocks on parties, composed into environments and staged protocols.

Terms (one party each):

* :func:`thermal_bath` — the Davies / generalized-amplitude-damping bath. For a qubit
  with ``H = omega |1><1|``: jumps ``sqrt(G (nbar + 1)) sigma-`` and ``sqrt(G nbar) sigma+``,
  ``sigma- = |0><1|``. For a qudit: for every pair of eigenlevels ``E_i < E_j`` jumps
  ``|i><j|`` at rate ``G (n_ij + 1)`` and ``|j><i|`` at rate ``G n_ij``,
  ``n_ij = 1/(exp(beta (E_j - E_i)) - 1)``. Alternatively give the *relaxation rate*
  ``r`` (``= G (2 nbar + 1)`` for a qubit): rates ``r p_i/(p_i + p_j)`` down and
  ``r p_j/(p_i + p_j)`` up, well defined at ``beta = 0``. Stationary state: ``tau``.
  Dissipator only (no ``-i[H, .]``) unless ``include_hamiltonian=True``.
* :func:`eplt.baths.lindblad` — any local ``H``, ``c_ops`` (or Liouvillian) as qutip reads them.
* :func:`thermal_reset` — ``r (tau Tr s - s)``.
* :func:`hamiltonian` — a deterministic local Hamiltonian.
* :class:`Drive` — a signal process acting as ``H = sum_k xi_k G_k`` on one party
  (``conjugate=True``: ``-G_k^*``, so the party undergoes ``U^*``).
* :class:`Reset` — at every tick of a clock, replace the party's state by ``omega``.
* :class:`Kick` — at every tick of a clock, apply the unitary ``U`` to the party.

An :class:`Environment` lists terms on parties and says how correlated each process is:
``correlation=1`` (default) — one process drives all terms that name it (shared
randomness); ``0`` — each party gets its own copy with the same law; in between for
Gaussian signals and clocks (see :mod:`eplt.baths.processes`). A :class:`Protocol` runs
environments one after another for given durations.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import qutip
from eplt.dynamics.model import HamiltonianAction, JumpAction, LocalTerm, Model, Source, Stage

from .processes import BrownianNoise, GaussianPulses, OrnsteinUhlenbeck, PoissonClock
from .thermal import _check_beta, _energies, beta_from_nbar, thermal_state

__all__ = [
    "Drive",
    "Environment",
    "Kick",
    "Protocol",
    "Reset",
    "hamiltonian",
    "thermal_bath",
    "thermal_reset",
]


def _arr(x) -> np.ndarray:
    return x.full() if isinstance(x, qutip.Qobj) else np.asarray(x, dtype=complex)


def _party(party) -> int:
    if not isinstance(party, (int, np.integer)) or party < 0:
        raise ValueError(f"party must be an integer >= 0, got {party!r}")
    return int(party)


def _rate(x, name="rate") -> float:
    x = float(x)
    if math.isnan(x) or x < 0 or math.isinf(x):
        raise ValueError(f"{name} must lie in [0, inf), got {x!r}")
    return x


def thermal_bath(
    party: int,
    H,
    beta: float | None = None,
    *,
    rate: float | None = None,
    relaxation_rate: float | None = None,
    nbar: float | None = None,
    T: float | None = None,
    include_hamiltonian: bool = False,
    name: str | None = None,
) -> LocalTerm:
    r"""Thermal (Davies) bath on ``party`` with stationary state ``tau = e^{-beta H}/Z``.

    The term is the **dissipator only**, ``sum_k D[C_k]``: ``H`` sets the jump operators,
    the rates and ``tau``, but ``-i[H, .]`` is not added (``tau`` and the populations do
    not need it; coherences then do not rotate). Pass ``include_hamiltonian=True`` for
    the full ``-i[H, .] + sum_k D[C_k]``, the generator ``qutip.mesolve(H, rho0, t, c_ops)``
    integrates.

    Give the temperature as exactly one of ``beta``, ``T`` or (qubits) ``nbar``, and the
    coupling as exactly one of ``rate`` (``G``, spontaneous emission rate) or
    ``relaxation_rate`` (``r``): each pair of levels ``i < j`` exchanges population at
    total rate ``r`` (down ``r p_i/(p_i + p_j)``, up ``r p_j/(p_i + p_j)``). For a qubit
    ``r = G (2 nbar + 1)`` is the rate at which the populations relax,
    ``p_1(t) - p_1(tau) ~ exp(-r t)``; for a qudit (d > 2) the populations relax with the
    eigenvalues of that rate matrix, which are not all ``r``.

    Examples
    --------
    >>> from eplt.baths.thermal import qubit_hamiltonian
    >>> bath = thermal_bath(0, qubit_hamiltonian(1.0), nbar=0.5, rate=1.0)
    >>> bath.name
    'thermal[0]'
    """
    party = _party(party)
    E, V, _ = _energies(H)
    d = E.size
    if V is None:
        V = np.eye(d)
    temps = [x is not None for x in (beta, T, nbar)]
    if sum(temps) != 1:
        raise ValueError("give exactly one of beta, T or nbar")
    if nbar is not None:
        if d != 2:
            raise ValueError("nbar is defined for qubits only; give beta or T for a qudit")
        beta = beta_from_nbar(nbar, omega=float(E[1] - E[0]) or 1.0)
    elif T is not None:
        T = float(T)
        if math.isnan(T) or T < 0:
            raise ValueError(f"T must lie in [0, inf], got {T!r}")
        beta = math.inf if T == 0 else 1.0 / T
    beta = _check_beta(beta)
    if (rate is None) == (relaxation_rate is None):
        raise ValueError("give exactly one of rate (G) or relaxation_rate (r)")
    tau = thermal_state(H, beta).full()
    p = np.real(np.diag(V.conj().T @ tau @ V))
    order = np.argsort(E)
    c_ops = []
    for a_i, i in enumerate(order):
        for j in order[a_i + 1 :]:
            gap = E[j] - E[i]
            down = np.outer(V[:, i], V[:, j].conj())  # |i><j|, E_i < E_j
            if relaxation_rate is not None:
                r = _rate(relaxation_rate, "relaxation_rate")
                s = p[i] + p[j]
                g_down, g_up = (r * p[i] / s, r * p[j] / s) if s > 0 else (r, 0.0)
            else:
                G = _rate(rate, "rate")
                if gap <= 1e-12:
                    continue
                if beta == 0:
                    raise ValueError(
                        "with rate (G) the bath needs beta > 0; give relaxation_rate instead"
                    )
                n = 0.0 if math.isinf(beta) else 1.0 / math.expm1(beta * gap)
                g_down, g_up = G * (n + 1), G * n
            if g_down > 0:
                c_ops.append(math.sqrt(g_down) * down)
            if g_up > 0:
                c_ops.append(math.sqrt(g_up) * down.conj().T)
    energy = _energy_op(E, V)
    return LocalTerm.from_operators(
        name or f"thermal[{party}]",
        party,
        H=energy if include_hamiltonian else None,
        c_ops=c_ops,
        kind="heat",
        beta=beta,
        target=tau,
        hamiltonian=energy,
    )


def _energy_op(E, V):
    return (V * E) @ V.conj().T


def thermal_reset(party: int, tau, rate: float, *, name: str | None = None) -> LocalTerm:
    """Deterministic thermal reset ``r (tau Tr s - s)`` on ``party`` (``target`` tau, ``rate`` r)."""
    party = _party(party)
    return LocalTerm.reset(name or f"reset[{party}]", party, _arr(tau), _rate(rate))


def hamiltonian(party: int, H, *, name: str | None = None) -> LocalTerm:
    """Deterministic local Hamiltonian ``-i[H, .]`` on ``party`` (sets the party's energy operator)."""
    return LocalTerm.from_operators(name or f"H[{party}]", _party(party), H=_arr(H), kind="work")


@dataclass(frozen=True, eq=False)
class Drive:
    """A signal ``process`` acting on ``party`` as ``H = sum_k xi_k G_k`` (``-G_k^*`` if ``conjugate``).

    Leave ``generators`` empty for matrix-valued signals (:class:`~eplt.baths.processes.HaarPulses`).
    """

    process: object
    party: int
    generators: tuple = ()
    conjugate: bool = False

    def __post_init__(self):
        _party(self.party)
        gens = tuple(_arr(G) for G in self.generators)
        object.__setattr__(self, "generators", gens)
        ch = getattr(self.process, "channels", None)
        if gens and ch is not None and len(gens) != ch:
            raise ValueError(
                f"drive on party {self.party}: {len(gens)} generators for a process with {ch} channels"
            )

    def action(self, scale: float = 1.0) -> HamiltonianAction:
        return HamiltonianAction(self.party, self.generators, self.conjugate, scale)


@dataclass(frozen=True, eq=False)
class Reset:
    """At each tick of ``clock``, replace the state of ``party`` by ``omega``."""

    process: object
    party: int
    omega: object

    def __post_init__(self):
        _party(self.party)
        w = _arr(self.omega)
        if w.ndim != 2 or w.shape[0] != w.shape[1]:
            raise ValueError(
                f"reset on party {self.party}: omega must be a square density matrix, got shape {w.shape}"
            )
        if not np.allclose(w, w.conj().T, atol=1e-10) or abs(np.trace(w) - 1) > 1e-10:
            raise ValueError(f"reset on party {self.party}: omega must be Hermitian with trace 1")

    def action(self, scale: float = 1.0) -> JumpAction:
        return JumpAction.reset(_party(self.party), _arr(self.omega))


@dataclass(frozen=True, eq=False)
class Kick:
    """At each tick of ``clock``, apply the unitary ``U`` to ``party``."""

    process: object
    party: int
    U: object

    def __post_init__(self):
        _party(self.party)
        U = _arr(self.U)
        if U.ndim != 2 or U.shape[0] != U.shape[1]:
            raise ValueError(f"kick on party {self.party}: U must be square, got shape {U.shape}")
        if not np.allclose(U @ U.conj().T, np.eye(U.shape[0]), atol=1e-10):
            raise ValueError(f"kick on party {self.party}: U is not unitary")

    def action(self, scale: float = 1.0) -> JumpAction:
        return JumpAction.kick(_party(self.party), _arr(self.U))


def _describe_term(t) -> str:
    if isinstance(t, LocalTerm):
        return f"{t.name} (party {t.party})"
    proc = getattr(t.process, "name", type(t.process).__name__)
    extra = " conjugate" if getattr(t, "conjugate", False) else ""
    return f"{type(t).__name__}({type(t.process).__name__} {proc!r} on party {t.party}{extra})"


_MIXABLE = (BrownianNoise, GaussianPulses, OrnsteinUhlenbeck)


@dataclass(frozen=True, eq=False)
class Environment:
    r"""Local baths, drives and clocks on parties of dimensions ``dims``.

    Parameters
    ----------
    dims : sequence of int
        Local dimensions.
    terms : sequence
        Local terms (:func:`thermal_bath`, :func:`thermal_reset`, :func:`hamiltonian`,
        :func:`eplt.baths.lindblad` for QuTiP ``H``/``c_ops``/Liouvillians) and
        random terms (:class:`Drive`, :class:`Reset`, :class:`Kick`). Random terms that
        reference the same process (by ``process.name``) on several parties are
        correlated according to ``correlation``.
    correlation : float or mapping of process name to float, in [0, 1]
        1: shared randomness (one realization drives every party); 0: independent copies
        with the same law; in between: Gaussian mixing (signals) or clock splitting.
    taus, hamiltonians : sequence of Qobj, optional
        Reference thermal states and energy operators per party, used by observables.
        Default: taken from the thermal baths/resets and Hamiltonians among ``terms``.
    """

    dims: tuple[int, ...]
    terms: tuple = ()
    correlation: float | Mapping[str, float] = 1.0
    taus: tuple | None = None
    hamiltonians: tuple | None = None
    _model: Model | None = field(default=None, repr=False)

    def __post_init__(self):
        dims = tuple(int(d) for d in self.dims)
        if not dims or any(d < 2 for d in dims):
            raise ValueError(f"dims must be local dimensions >= 2, got {list(self.dims)}")
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "terms", tuple(self.terms))
        names = {t.process.name for t in self.terms if hasattr(t, "process")}
        corr = self.correlation
        cmap = dict(corr) if isinstance(corr, Mapping) else {n: corr for n in names}
        for n, c in cmap.items():
            if n not in names:
                raise ValueError(
                    f"correlation names process {n!r}, which no term uses (processes: {sorted(names)})"
                )
            c = float(c)
            if not 0 <= c <= 1:
                raise ValueError(f"correlation of {n!r} must lie in [0, 1], got {c!r}")
        object.__setattr__(self, "_model", self._build(cmap))

    def __repr__(self) -> str:
        terms = ", ".join(_describe_term(t) for t in self.terms)
        procs = sorted({t.process.name for t in self.terms if hasattr(t, "process")})
        corr = self.correlation
        corr = dict(corr) if isinstance(corr, Mapping) else corr
        return (
            f"Environment(dims={self.dims}, terms=[{terms}], processes={procs}, "
            f"correlation={corr!r})"
        )

    # ------------------------------------------------------------------ variants
    def correlated(self) -> Environment:
        """The same description with every process shared (correlation 1)."""
        return dataclasses.replace(self, correlation=1.0, _model=None)

    def independent(self) -> Environment:
        """The same description with independent copies of every process (correlation 0)."""
        return dataclasses.replace(self, correlation=0.0, _model=None)

    def with_correlation(self, correlation) -> Environment:
        return dataclasses.replace(self, correlation=correlation, _model=None)

    # ------------------------------------------------------------------ model
    def _build(self, cmap) -> Model:
        n = len(self.dims)
        local, by_proc = [], {}
        taus = [None] * n
        hams = [None] * n
        for t in self.terms:
            if isinstance(t, LocalTerm):
                if t.party >= n:
                    raise ValueError(
                        f"term {t.name!r} acts on party {t.party}, but there are only parties 0..{n - 1}"
                    )
                if t.superop.shape != (self.dims[t.party] ** 2,) * 2:
                    raise ValueError(
                        f"term {t.name!r} has dimension {math.isqrt(t.superop.shape[0])}, "
                        f"party {t.party} has {self.dims[t.party]}"
                    )
                local.append(t)
                if t.target is not None and t.kind in ("heat", "reservoir"):
                    taus[t.party] = t.target  # a thermal bath's or a (thermal) reset's state
                if t.hamiltonian is not None:
                    hams[t.party] = t.hamiltonian
            elif isinstance(t, (Drive, Reset, Kick)):
                if t.party >= n:
                    raise ValueError(
                        f"{type(t).__name__} on party {t.party}, but there are only parties 0..{n - 1}"
                    )
                d = self.dims[t.party]
                ops = {
                    Reset: lambda t: [("omega", t.omega)],
                    Kick: lambda t: [("U", t.U)],
                    Drive: lambda t: [(f"generators[{i}]", g) for i, g in enumerate(t.generators)],
                }[type(t)](t)
                for what, op in ops:
                    shape = np.shape(_arr(op))
                    if shape != (d, d):
                        raise ValueError(
                            f"{type(t).__name__} on party {t.party}: {what} has shape {shape}, "
                            f"party {t.party} has dimension {d}"
                        )
                kind = "signal" if isinstance(t, Drive) else "clock"
                if getattr(t.process, "kind", None) != kind:
                    raise TypeError(
                        f"{type(t).__name__} needs a {kind} process, got {type(t.process).__name__}"
                    )
                prev = by_proc.setdefault(t.process.name, (t.process, []))
                if prev[0] is not t.process and prev[0] != t.process:
                    raise ValueError(f"two different processes are named {t.process.name!r}")
                if any(u.party == t.party for u in prev[1]):
                    raise ValueError(f"process {t.process.name!r} acts twice on party {t.party}")
                prev[1].append(t)
            else:
                raise TypeError(f"unknown term type {type(t).__name__}")
        sources = []
        for name, (proc, terms) in by_proc.items():
            c = float(cmap.get(name, 1.0))
            if c == 1.0 or len(terms) == 1:
                sources.append(Source(proc, tuple(t.action() for t in terms)))
            elif c == 0.0:
                for t in terms:
                    sources.append(
                        Source(
                            dataclasses.replace(proc, name=f"{name}@{t.party}"),
                            (t.action(),),
                            label=name,
                        )
                    )
            elif isinstance(proc, PoissonClock):
                sources.append(
                    Source(
                        dataclasses.replace(proc, rate=c * proc.rate),
                        tuple(t.action() for t in terms),
                    )
                )
                for t in terms:
                    sources.append(
                        Source(
                            dataclasses.replace(
                                proc, rate=(1 - c) * proc.rate, name=f"{name}@{t.party}"
                            ),
                            (t.action(),),
                            label=name,
                        )
                    )
            elif isinstance(proc, _MIXABLE):
                sources.append(Source(proc, tuple(t.action(math.sqrt(c)) for t in terms)))
                for t in terms:
                    sources.append(
                        Source(
                            dataclasses.replace(proc, name=f"{name}@{t.party}"),
                            (t.action(math.sqrt(1 - c)),),
                            label=name,
                        )
                    )
            else:
                raise ValueError(
                    f"partial correlation {c} is not defined for {type(proc).__name__} {name!r}; use 0 or 1"
                )
        given_taus = None if self.taus is None else tuple(_arr(t) for t in self.taus)
        given_h = None if self.hamiltonians is None else tuple(_arr(h) for h in self.hamiltonians)
        return Model(
            self.dims,
            tuple(local),
            tuple(sources),
            correlation={n: float(cmap.get(n, 1.0)) for n in by_proc},
            taus=given_taus
            if given_taus is not None
            else (tuple(taus) if all(t is not None for t in taus) else None),
            hamiltonians=given_h
            if given_h is not None
            else (tuple(hams) if all(h is not None for h in hams) else None),
        )

    def model(self) -> Model:
        """The realization-level :class:`eplt.dynamics.model.Model` of this environment."""
        return self._model

    def stages(self) -> list[Stage]:
        return [Stage(math.inf, self._model)]

    def averaged_generator(self):
        """Exact averaged generator (white processes only); see :meth:`Model.averaged_generator`.

        A structured sum of local products in the engine's layout (never built as one
        matrix); :meth:`liouvillian` gives it as a qutip superoperator."""
        return self._model.averaged_generator()

    def liouvillian(self) -> qutip.Qobj:
        """The averaged generator as a qutip superoperator (column stacking, joint dims),
        comparable with ``qutip.liouvillian``; dense, for small systems."""
        return self._model.averaged_generator().to_qutip()

    def spectral_gap(self) -> float:
        return self._model.spectral_gap()


@dataclass(frozen=True)
class Protocol:
    """Environments run back to back: ``stages = [(duration, environment), ...]``.

    The last duration may be ``inf`` (hold until the end of ``tlist``). ``taus`` and
    ``hamiltonians`` (reference thermal states for observables) default to those of the
    last stage that defines them.
    """

    stages_: tuple = field(default=())
    taus: tuple | None = None
    hamiltonians: tuple | None = None

    def __init__(
        self, stages: Sequence[tuple[float, Environment]], *, taus=None, hamiltonians=None
    ):
        st = []
        for i, item in enumerate(stages):
            try:
                dur, env = item
            except (TypeError, ValueError):
                raise TypeError(f"stage {i} must be a (duration, environment) pair") from None
            dur = float(dur)
            if not dur > 0:
                raise ValueError(f"stage {i} duration must be > 0, got {dur!r}")
            if not isinstance(env, (Environment, Model)):
                raise TypeError(
                    f"stage {i} environment must be an Environment, got {type(env).__name__}"
                )
            st.append((dur, env))
        if not st:
            raise ValueError("a protocol needs at least one stage")
        dims = {env.dims for _, env in st}
        if len(dims) != 1:
            raise ValueError(f"all stages must act on the same parties, got dims {sorted(dims)}")
        object.__setattr__(self, "stages_", tuple(st))
        object.__setattr__(self, "taus", None if taus is None else tuple(_arr(t) for t in taus))
        object.__setattr__(
            self,
            "hamiltonians",
            None if hamiltonians is None else tuple(_arr(h) for h in hamiltonians),
        )

    @property
    def dims(self):
        return self.stages_[0][1].dims

    @property
    def duration(self) -> float:
        return sum(d for d, _ in self.stages_)

    def stages(self) -> list[Stage]:
        out = []
        models = [env.model() if isinstance(env, Environment) else env for _, env in self.stages_]
        taus = self.taus or next((m.taus for m in reversed(models) if m.taus is not None), None)
        hams = self.hamiltonians or next(
            (m.hamiltonians for m in reversed(models) if m.hamiltonians is not None), None
        )
        for (dur, _), m in zip(self.stages_, models):
            out.append(Stage(dur, dataclasses.replace(m, taus=taus, hamiltonians=hams)))
        return out

r"""Observables tracked during a run, evaluated on joint density matrices (arrays).

``e_ops`` passed to :func:`eplt.dynamics.evolve` is, as in :func:`qutip.mesolve`, a sequence
(or a mapping ``name -> spec``) whose items are

* a builtin name (below);
* a Qobj ``O``: the expectation ``Tr(O rho)``, real for Hermitian ``O`` and complex
  otherwise (as :func:`qutip.expect`; never reduced to the real part);
* a callable, ``f(rho: Qobj)`` or, as in qutip 5, ``f(t, state: Qobj)`` (told apart by
  the number of required positional parameters), returning a number or an array.

In a sequence, Qobj and callables are named ``e0``, ``e1``, ... by position, and every
result is also reachable by position: ``result.expect[i]`` as in qutip.
A new builtin is one registration (:func:`observable`):
``@observable("name")`` on a function ``ctx -> Spec(fn, ...)``.

Builtins (conventions of :mod:`eplt.dynamics.measures`):

==============================  =================================================================
``negativity``                  last party vs the rest
``negativity[i,j,...]``         parties i, j, ... vs the rest (e.g. ``negativity[0,2]``)
``log_negativity``              base 2
``bipartition_negativity``      every cut S | rest with party 0 not in S (2^(n-1)-1 cuts)
``min_bipartition_negativity``  smallest of those
``ppt``                         1.0 when PPT (last party), else 0.0
``phi_plus_overlap``            ``<Phi+|rho|Phi+>`` (two qudits)
``fully_entangled_fraction``    exact for two qubits, numerical beyond
``chsh_max``                    largest CHSH value (Horodecki criterion; two qubits)
``ghz_fidelity``                ``<GHZ|rho|GHZ>`` (n qubits)
``marginal_distance``           ``D(rho_k, tau_k)`` per party (needs ``taus``)
``marginal_relative_entropy``   ``S(rho_k||tau_k)`` per party, nats (needs ``taus``)
``mutual_information``          last party vs the rest, nats
``purity``                      ``Tr rho^2``
``energy``                      ``Tr(H_k rho_k)`` per party (needs ``hamiltonians``)
``heat_current``                ``J_b = Tr[H_k L_b(rho_k)]`` per bath ``b`` acting on party
                                ``k`` (deterministic local terms, and the marginal averaged
                                generator of each white process); positive when energy flows
                                into the system; 0 while the bath is off. Needs ``hamiltonians``.
==============================  ================================================================="""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import qutip

from ._checks import check_e_op_value, is_hermitian
from .measures import _pt_array
from .superop import from_paired, to_paired

__all__ = ["BUILTIN", "ObservableSet", "Spec", "builtins", "observable"]


PARTY_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def party_labels(n: int) -> list[str]:
    return [PARTY_NAMES[k] if k < len(PARTY_NAMES) else f"P{k}" for k in range(n)]


def _marginal(a: np.ndarray, dims: Sequence[int], k: int) -> np.ndarray:
    left = int(np.prod(dims[:k]))
    right = int(np.prod(dims[k + 1 :]))
    t = a.reshape(left, dims[k], right, left, dims[k], right)
    return np.einsum("aibajb->ij", t)


def _negativity(a: np.ndarray, dims, parties) -> float:
    b = _pt_array(a, dims, parties)
    lam = np.linalg.eigvalsh((b + b.conj().T) / 2)
    return float(-lam[lam < 0].sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def _trace_distance_arr(a: np.ndarray, b: np.ndarray) -> float:
    diff = a - b
    return float(np.abs(np.linalg.eigvalsh((diff + diff.conj().T) / 2)).sum() / 2)


@dataclass(frozen=True)
class _Obs:
    name: str
    fn: Callable
    labels: list[str] | None = None
    #: optional vectorised form on a batch of paired states: (ctx: _Batch) -> (T, ...)
    batch: Callable[[_Batch], np.ndarray] | None = None
    complex: bool = False
    timed: bool = False
    #: a linear functional ``X_flat @ linear`` of the paired state (operators), else None
    linear: np.ndarray | None = None


def _idvec(dims: Sequence[int]) -> np.ndarray:
    """vec of the identity on parties ``dims`` in the paired layout (Tr = contraction with it)."""
    v = np.ones(1)
    for d in dims:
        v = np.kron(v, np.eye(d).reshape(-1))
    return v


class _Batch:
    """A batch of paired states ``X`` (T, d_0^2, ..., d_{n-1}^2) with lazily computed
    single-party marginals and full density matrices."""

    def __init__(self, X: np.ndarray, dims: Sequence[int], stages: Sequence[int]):
        self.X, self.dims, self.stages = X, list(dims), list(stages)
        self._marg: dict[int, np.ndarray] = {}
        self._full: dict[int, np.ndarray] = {}

    def marginal(self, k: int) -> np.ndarray:
        """``rho_k`` for every state, shape (T, d_k, d_k).

        All single-party marginals are computed together by halving: trace out the right
        half of the parties, then the left half, and recurse on the two reduced states.
        That reads the full state twice instead of once per party.
        """
        if k not in self._marg:
            T = self.X.shape[0]

            def split(Y: np.ndarray, lo: int, hi: int) -> None:
                if hi - lo == 1:
                    self._marg[lo] = Y.reshape(T, self.dims[lo], self.dims[lo])
                    return
                mid = (lo + hi) // 2
                Y3 = Y.reshape(T, -1, int(np.prod([d * d for d in self.dims[mid:hi]])))
                split(Y3 @ _idvec(self.dims[mid:hi]), lo, mid)
                split(_idvec(self.dims[lo:mid]) @ Y3, mid, hi)

            split(self.X.reshape(T, -1), 0, len(self.dims))
        return self._marg[k]

    def full(self, i: int) -> np.ndarray:
        if i not in self._full:
            self._full[i] = from_paired(self.X[i], self.dims)
        return self._full[i]


@dataclass(frozen=True)
class Spec:
    """What a registered observable computes (returned by its builder).

    Attributes
    ----------
    fn : callable
        ``fn(a) -> float | ndarray`` on a ``D x D`` density-matrix array (``fn(t, a)``
        when ``timed``).
    labels : list of str, optional
        Names along the trailing axis of array-valued observables.
    batch : callable, optional
        Vectorised form on a :class:`_Batch` of paired states, returning ``(T, ...)``.
    complex : bool
        Values may be complex (kept complex, never reduced to the real part).
    timed : bool
        ``fn`` takes the time as its first argument.
    linear : ndarray, optional
        The observable is the linear functional ``x @ linear`` of the paired state ``x``
        (flattened; its real part unless ``complex``): solvers may then evaluate it on
        the coordinates they propagate, without forming the states.
    """

    fn: Callable
    labels: list[str] | None = None
    batch: Callable[[_Batch], np.ndarray] | None = None
    complex: bool = False
    timed: bool = False
    linear: np.ndarray | None = None


#: name -> (builder(ctx: ObservableSet) -> Spec, minimum number of parties)
_REGISTRY: dict[str, tuple[Callable[[ObservableSet], Spec], int]] = {}


def observable(name: str, *, min_parties: int = 1):
    """Register a builtin observable: ``@observable("name")`` on ``build(ctx) -> Spec``.

    ``ctx`` is the :class:`ObservableSet` being resolved: ``ctx.dims``, ``ctx.n``,
    ``ctx.labels_of_parties``, and ``ctx.need("taus")`` / ``ctx.need("hamiltonians")``
    (per-party arrays, or a one-line error naming what is missing).

    Examples
    --------
    >>> import numpy as np
    >>> _ = observable("trace")(lambda ctx: Spec(lambda a: float(np.trace(a).real)))
    >>> "trace" in builtins()
    True
    >>> del _REGISTRY["trace"]
    """
    if not isinstance(name, str) or not name or "[" in name:
        raise ValueError(f"observable name must be a non-empty string without '[', got {name!r}")

    def register(build):
        _REGISTRY[name] = (build, int(min_parties))
        return build

    return register


def builtins() -> tuple[str, ...]:
    """Names of the registered builtin observables."""
    return tuple(_REGISTRY)


def _arity(f) -> int | None:
    """Number of required positional parameters of ``f`` (None when unknown)."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(
        1
        for p in sig.parameters.values()
        if p.kind in kinds and p.default is inspect.Parameter.empty
    )


class ObservableSet:
    """A resolved list of observables for parties ``dims`` (internal to the solvers).

    Parameters
    ----------
    e_ops : sequence or mapping
        A sequence whose items are builtin names, Qobj operators or callables (Qobj and
        callables are named ``e0``, ``e1``, ... by their position), or a mapping
        ``name -> spec`` with the same kinds of spec. A single Qobj or callable is a
        one-item list.
    dims : local dimensions
    taus, hamiltonians : optional per-party thermal states and Hamiltonians (Qobj)
    """

    def __init__(self, e_ops, dims: Sequence[int], *, taus=None, hamiltonians=None, baths=None):
        self.dims = [int(d) for d in dims]
        self.n = len(self.dims)
        self.labels_of_parties = party_labels(self.n)
        # baths: per stage, a list of (label, party, local superoperator) for heat currents
        self.baths = baths or [[]]
        self.stage = 0
        self.taus = self._per_party("taus", taus)
        self.hams = self._per_party("hamiltonians", hamiltonians)
        if isinstance(e_ops, Mapping):
            items = [(str(k), v) for k, v in e_ops.items()]
        elif isinstance(e_ops, str):
            raise TypeError("e_ops must be a sequence or a mapping, not a single string")
        elif isinstance(e_ops, qutip.Qobj) or callable(e_ops):
            items = [("e0", e_ops)]
        else:
            items = [(v if isinstance(v, str) else f"e{i}", v) for i, v in enumerate(e_ops)]
        seen = set()
        for name, _ in items:
            if name in seen:
                raise ValueError(f"e_ops names {name!r} twice")
            seen.add(name)
        self.obs = [self._resolve(name, spec) for name, spec in items]

    def _per_party(self, what: str, ops):
        if ops is None:
            return None
        lst = [o.full() if isinstance(o, qutip.Qobj) else np.asarray(o) for o in ops]
        if len(lst) != self.n:
            raise ValueError(f"{what} must give one operator per party ({self.n}), got {len(lst)}")
        for k, (m, d) in enumerate(zip(lst, self.dims)):
            if m.shape != (d, d):
                raise ValueError(f"{what}[{k}] has shape {m.shape}, party {k} has dimension {d}")
        return lst

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.obs]

    def linear_functionals(self) -> tuple[np.ndarray, list[bool]] | None:
        """``(W, complex)`` when every observable is a linear functional of the paired state
        (operators in ``e_ops``): ``values = X_flat @ W.T`` (the real part of column ``j``
        unless ``complex[j]``); None otherwise."""
        if not self.obs or any(o.linear is None for o in self.obs):
            return None
        return np.stack([o.linear for o in self.obs]), [o.complex for o in self.obs]

    @property
    def labels(self) -> dict[str, list[str]]:
        return {o.name: o.labels for o in self.obs if o.labels is not None}

    def need(self, key: str):
        """Per-party ``"taus"`` or ``"hamiltonians"``, or a ValueError saying how to give them."""
        val = self.taus if key == "taus" else self.hams
        if val is None:
            raise ValueError(
                f"this observable needs {key}: pass {key}=... to evolve or use an environment that defines them"
            )
        return val

    def _resolve(self, name: str, spec) -> _Obs:
        try:
            s = self._spec(spec)
        except ValueError as err:
            if isinstance(spec, str) and "this observable" in str(err):
                raise ValueError(
                    str(err).replace("this observable", f"observable {spec!r}")
                ) from None
            raise
        fn = s.fn
        if callable(spec) and not isinstance(spec, qutip.Qobj):  # user code: check its values
            raw = s.fn
            if s.timed:
                fn = lambda t, a: check_e_op_value(raw(t, a), name)  # noqa: E731
            else:
                fn = lambda a: check_e_op_value(raw(a), name)  # noqa: E731
        return _Obs(name, fn, s.labels, s.batch, s.complex, s.timed, s.linear)

    def _spec(self, spec) -> Spec:
        dims, n = self.dims, self.n
        if isinstance(spec, qutip.Qobj):
            return _operator_spec(spec, dims)
        if callable(spec):
            k = _arity(spec)
            if k is None:
                raise TypeError(
                    f"cannot read the signature of {getattr(spec, '__name__', spec)!r}; "
                    "wrap it as lambda rho: ... or lambda t, state: ..."
                )
            if k not in (1, 2):
                raise TypeError(
                    "a callable in e_ops must take (rho) or, as in qutip 5, (t, state); "
                    f"{getattr(spec, '__name__', spec)!r} takes {k} positional arguments"
                )
            Q = lambda a: qutip.Qobj(a, dims=[dims, dims])  # noqa: E731
            if k == 2:
                return Spec(lambda t, a: spec(t, Q(a)), timed=True)
            return Spec(lambda a: spec(Q(a)))
        if not isinstance(spec, str):
            raise TypeError(
                f"e_ops items must be names, Qobj or callables, got {type(spec).__name__}"
            )
        base, _, arg = spec.partition("[")
        if arg and spec.endswith("]") and base in _FAMILIES:
            return _FAMILIES[base](self, spec, arg[:-1])
        if spec not in _REGISTRY:
            import difflib

            hint = difflib.get_close_matches(spec, list(_REGISTRY), n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ValueError(
                f"unknown observable {spec!r}{extra} (builtins: {', '.join(_REGISTRY)})"
            )
        build, min_parties = _REGISTRY[spec]
        if n < min_parties:
            raise ValueError(f"observable {spec!r} needs at least {min_parties} parties")
        return build(self)

    def evaluate_batch(
        self, X: np.ndarray, stages: Sequence[int], times: Sequence[float] | None = None
    ) -> dict[str, np.ndarray]:
        """All observables of a batch of paired states ``X`` (T, d_0^2, ..., d_{n-1}^2),
        state ``i`` produced during stage ``stages[i]`` at ``times[i]``; returns arrays
        (T, ...), complex for observables that may be complex.

        Observables with a vectorised form work on the paired layout directly (marginals
        by contraction with identity vectors); the others get each full density matrix.
        """
        c = _Batch(X, self.dims, stages)
        out = {}
        for o in self.obs:
            if o.timed and times is None:
                raise ValueError(f"observable {o.name!r} takes the time; pass times")
            if o.batch is not None:
                out[o.name] = _cast(o.batch(c), o.complex)
            else:
                vals = []
                for i in range(X.shape[0]):
                    self.stage = min(stages[i], len(self.baths) - 1)
                    a = c.full(i)
                    vals.append(o.fn(float(times[i]), a) if o.timed else o.fn(a))
                out[o.name] = _cast(vals, o.complex)
        return out

    def evaluate(
        self, a: np.ndarray, stage: int = 0, t: float | None = None
    ) -> dict[str, np.ndarray]:
        """All observables of the density matrix ``a`` (``D x D`` array) during ``stage``."""
        self.stage = min(stage, len(self.baths) - 1)
        out = {}
        for o in self.obs:
            if o.timed and t is None:
                raise ValueError(f"observable {o.name!r} takes the time; pass t")
            out[o.name] = _cast(o.fn(float(t), a) if o.timed else o.fn(a), o.complex)
        return out


def _cast(v, is_complex: bool) -> np.ndarray:
    """Real float arrays, complex where the observable may be complex (callables: as returned)."""
    v = np.asarray(v)
    if is_complex or np.iscomplexobj(v):
        return v.astype(complex)
    return v.astype(float)


def _operator_spec(O: qutip.Qobj, dims) -> Spec:
    """``Tr(O rho)``: real for Hermitian ``O``, complex otherwise (as qutip's ``expect``)."""
    D = int(np.prod(dims))
    if not O.isoper or O.shape != (D, D):
        raise ValueError(f"an e_ops operator has shape {O.shape}, the state is {D}x{D}")
    M = O.full()
    herm = is_hermitian(M, 1e-12 * max(1.0, float(np.abs(M).max())))
    # Tr(O rho) = sum_ij O^T[i, j] rho[i, j]: on the paired layout, one dot product
    w = to_paired(M.T, dims).reshape(-1)
    flat = M.T.reshape(-1)
    part = np.real if herm else (lambda z: z)
    return Spec(
        lambda a: part(complex(flat @ a.reshape(-1))),
        batch=lambda c: part(c.X.reshape(c.X.shape[0], -1) @ w),
        complex=not herm,
        linear=w,
    )


#: parametrised families ``name[args]`` -> builder(ctx, spec, args), filled with the builtins
_FAMILIES: dict[str, Callable] = {}

from . import _builtin_observables  # noqa: E402, F401  (registers the builtins)

#: Names of the builtin observables (registered in :mod:`eplt.dynamics._builtin_observables`).
BUILTIN = builtins()


def default_e_ops(dims: Sequence[int], *, has_taus: bool) -> list[str]:
    """Observables tracked when ``e_ops`` is not given."""
    out = ["negativity"] if len(dims) >= 2 else []
    if len(dims) == 2 and dims[0] == dims[1]:
        out.append("phi_plus_overlap")
    if len(dims) > 2 and all(d == 2 for d in dims):
        out += ["ghz_fidelity", "min_bipartition_negativity"]
    if has_taus:
        out.append("marginal_distance")
    return out + ["purity"]

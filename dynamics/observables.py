r"""Observables tracked during a run, evaluated on joint density matrices (arrays).

``e_ops`` passed to :func:`dynamics.evolve` is a sequence of names from :data:`BUILTIN`
and/or a mapping ``name -> spec`` where a spec is a builtin name, a Qobj ``O`` (the
expectation ``Tr(O rho)``, real part) or a callable ``f(rho: Qobj) -> float | array``.

Builtins (conventions of :mod:`dynamics.measures`):

==========================  =========================================================
``negativity``              last party vs the rest
``negativity[i,j,...]``     parties i, j, ... vs the rest (e.g. ``negativity[0,2]``)
``log_negativity``          base 2
``bipartition_negativity``  every cut S | rest with party 0 not in S (2^(n-1)-1 cuts)
``min_bipartition_negativity``  smallest of those
``ppt``                     1.0 when PPT (last party), else 0.0
``phi_plus_overlap``        ``<Phi+|rho|Phi+>`` (two qudits)
``fully_entangled_fraction``  exact for two qubits, numerical beyond
``chsh_max``                largest CHSH value (Horodecki criterion; two qubits)
``ghz_fidelity``            ``<GHZ|rho|GHZ>`` (n qubits)
``marginal_distance``       ``D(rho_k, tau_k)`` per party (needs ``taus``)
``marginal_relative_entropy``  ``S(rho_k||tau_k)`` per party, nats (needs ``taus``)
``mutual_information``      last party vs the rest, nats
``purity``                  ``Tr rho^2``
``energy``                  ``Tr(H_k rho_k)`` per party (needs ``hamiltonians``)
``heat_current``            ``J_b = Tr[H_k L_b(rho_k)]`` per bath ``b`` acting on party
                            ``k`` (deterministic local terms, and the marginal averaged
                            generator of each white process); positive when energy flows
                            into the system; 0 while the bath is off. Needs ``hamiltonians``.
==========================  =========================================================
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import qutip

from . import measures
from .measures import _pt_array
from .superop import from_paired, to_paired

__all__ = ["BUILTIN", "ObservableSet"]

BUILTIN = (
    "negativity",
    "log_negativity",
    "bipartition_negativity",
    "min_bipartition_negativity",
    "ppt",
    "phi_plus_overlap",
    "fully_entangled_fraction",
    "chsh_max",
    "ghz_fidelity",
    "marginal_distance",
    "marginal_relative_entropy",
    "mutual_information",
    "purity",
    "energy",
    "heat_current",
)

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


def _entropy_arr(a: np.ndarray) -> float:
    lam = np.linalg.eigvalsh((a + a.conj().T) / 2)
    lam = lam[lam > 1e-300]
    return float(-(lam * np.log(lam)).sum())


def _trace_distance_arr(a: np.ndarray, b: np.ndarray) -> float:
    diff = a - b
    return float(np.abs(np.linalg.eigvalsh((diff + diff.conj().T) / 2)).sum() / 2)


@dataclass(frozen=True)
class _Obs:
    name: str
    fn: Callable[[np.ndarray], float | np.ndarray]
    labels: list[str] | None = None
    #: optional vectorised form on a batch of paired states: (ctx: _Batch) -> (T, ...)
    batch: Callable[[_Batch], np.ndarray] | None = None


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


class ObservableSet:
    """A resolved list of observables for parties ``dims`` (internal to the solvers).

    Parameters
    ----------
    e_ops : sequence of str, or mapping name -> (str | Qobj | callable)
    dims : local dimensions
    taus, hamiltonians : optional per-party thermal states and Hamiltonians (Qobj)
    """

    def __init__(self, e_ops, dims: Sequence[int], *, taus=None, hamiltonians=None, baths=None):
        self.dims = [int(d) for d in dims]
        # baths: per stage, a list of (label, party, local superoperator) for heat currents
        self.baths = baths or [[]]
        self.stage = 0
        n = len(self.dims)
        self.taus = (
            None
            if taus is None
            else [t.full() if isinstance(t, qutip.Qobj) else np.asarray(t) for t in taus]
        )
        self.hams = (
            None
            if hamiltonians is None
            else [h.full() if isinstance(h, qutip.Qobj) else np.asarray(h) for h in hamiltonians]
        )
        for what, lst in (("taus", self.taus), ("hamiltonians", self.hams)):
            if lst is not None:
                if len(lst) != n:
                    raise ValueError(
                        f"{what} must give one operator per party ({n}), got {len(lst)}"
                    )
                for k, (m, d) in enumerate(zip(lst, self.dims)):
                    if m.shape != (d, d):
                        raise ValueError(
                            f"{what}[{k}] has shape {m.shape}, party {k} has dimension {d}"
                        )
        if isinstance(e_ops, Mapping):
            items = list(e_ops.items())
        else:
            if isinstance(e_ops, str):
                raise TypeError(
                    "e_ops must be a sequence of names or a mapping, not a single string"
                )
            items = [(name, name) for name in e_ops]
        self.obs = [self._resolve(name, spec) for name, spec in items]

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.obs]

    @property
    def labels(self) -> dict[str, list[str]]:
        return {o.name: o.labels for o in self.obs if o.labels is not None}

    def _need(self, attr: str, name: str):
        val = getattr(self, attr)
        if val is None:
            key = "taus" if attr == "taus" else "hamiltonians"
            raise ValueError(
                f"observable {name!r} needs {key}: pass {key}=... to evolve or use an environment that defines them"
            )
        return val

    def _resolve(self, name: str, spec) -> _Obs:
        dims, n = self.dims, len(self.dims)
        if isinstance(spec, qutip.Qobj):
            O = spec.full()
            D = int(np.prod(dims))
            if O.shape != (D, D):
                raise ValueError(f"e_ops[{name!r}] has shape {O.shape}, the state is {D}x{D}")
            # Tr(O rho) = sum_ij O^T[i, j] rho[i, j]: on the paired layout, one dot product
            w = to_paired(O.T, dims).reshape(-1)
            return _Obs(
                name,
                lambda a: float(np.real(np.vdot(O.conj().T.reshape(-1), a.reshape(-1)))),
                batch=lambda c: (c.X.reshape(c.X.shape[0], -1) @ w).real,
            )
        if callable(spec):
            return _Obs(name, lambda a: spec(qutip.Qobj(a, dims=[dims, dims])))
        if isinstance(spec, str) and spec.startswith("negativity[") and spec.endswith("]"):
            try:
                cut = tuple(sorted({int(k) for k in spec[len("negativity[") : -1].split(",")}))
            except ValueError:
                raise ValueError(
                    f"observable {spec!r}: expected negativity[i,j,...] with party indices"
                ) from None
            if not cut or cut[0] < 0 or cut[-1] >= n or len(cut) == n:
                raise ValueError(
                    f"observable {spec!r}: parties must be a proper subset of 0..{n - 1}"
                )
            return _Obs(name, lambda a: _negativity(a, dims, cut))
        if not isinstance(spec, str) or spec not in BUILTIN:
            import difflib

            hint = difflib.get_close_matches(str(spec), BUILTIN, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ValueError(f"unknown observable {spec!r}{extra} (builtins: {', '.join(BUILTIN)})")
        if (
            spec
            in (
                "negativity",
                "log_negativity",
                "ppt",
                "bipartition_negativity",
                "min_bipartition_negativity",
                "mutual_information",
            )
            and n < 2
        ):
            raise ValueError(f"observable {spec!r} needs at least two parties")
        labels = party_labels(n)
        if spec == "negativity":
            return _Obs(name, lambda a: _negativity(a, dims, (n - 1,)))
        if spec == "log_negativity":
            return _Obs(name, lambda a: float(np.log2(2 * _negativity(a, dims, (n - 1,)) + 1)))
        if spec == "ppt":

            def ppt(a):
                b = _pt_array(a, dims, (n - 1,))
                return float(np.linalg.eigvalsh((b + b.conj().T) / 2)[0] >= -measures.PPT_ATOL)

            return _Obs(name, ppt)
        if spec in ("bipartition_negativity", "min_bipartition_negativity"):
            cuts = [c for r in range(1, n) for c in itertools.combinations(range(1, n), r)]
            names = ["".join(labels[k] for k in c) + "|rest" for c in cuts]
            if spec == "bipartition_negativity":
                return _Obs(
                    name, lambda a: np.array([_negativity(a, dims, c) for c in cuts]), names
                )
            return _Obs(name, lambda a: min(_negativity(a, dims, c) for c in cuts))
        if spec == "phi_plus_overlap":
            if n != 2 or dims[0] != dims[1]:
                raise ValueError(
                    "observable 'phi_plus_overlap' needs two parties of equal dimension"
                )
            d = dims[0]
            idx = np.arange(d) * (d + 1)
            return _Obs(
                name,
                lambda a: float(a[np.ix_(idx, idx)].sum().real / d),
                batch=lambda c: np.einsum("tii->t", c.X.reshape(-1, d * d, d * d)).real / d,
            )
        if spec == "fully_entangled_fraction":
            if n != 2 or dims[0] != dims[1]:
                raise ValueError(
                    "observable 'fully_entangled_fraction' needs two parties of equal dimension"
                )
            return _Obs(
                name, lambda a: measures.fully_entangled_fraction(qutip.Qobj(a, dims=[dims, dims]))
            )
        if spec == "chsh_max":
            if list(dims) != [2, 2]:
                raise ValueError("observable 'chsh_max' needs two qubits")
            return _Obs(name, measures._chsh_array)
        if spec == "ghz_fidelity":
            if any(d != 2 for d in dims):
                raise ValueError("observable 'ghz_fidelity' needs qubits")
            zero, one, coh = (
                (0,) * n,
                (3,) * n,
                (1,) * n,
            )  # paired indices of |0><0|, |1><1|, |0><1|

            def ghz_batch(c):
                X = c.X
                return ((X[(slice(None), *zero)] + X[(slice(None), *one)]) / 2).real + X[
                    (slice(None), *coh)
                ].real

            return _Obs(
                name,
                lambda a: float(((a[0, 0] + a[-1, -1]) / 2).real + a[0, -1].real),
                batch=ghz_batch,
            )
        if spec == "marginal_distance":
            taus = self._need("taus", spec)

            def md_batch(c):
                cols = []
                for k in range(n):
                    diff = c.marginal(k) - taus[k]
                    lam = np.linalg.eigvalsh((diff + np.conj(np.swapaxes(diff, 1, 2))) / 2)
                    cols.append(np.abs(lam).sum(axis=1) / 2)
                return np.stack(cols, axis=1)

            return _Obs(
                name,
                lambda a: np.array(
                    [_trace_distance_arr(_marginal(a, dims, k), taus[k]) for k in range(n)]
                ),
                labels,
                batch=md_batch,
            )
        if spec == "marginal_relative_entropy":
            taus = self._need("taus", spec)
            qt = [qutip.Qobj(t) for t in taus]
            return _Obs(
                name,
                lambda a: np.array(
                    [
                        measures.relative_entropy(qutip.Qobj(_marginal(a, dims, k)), qt[k])
                        for k in range(n)
                    ]
                ),
                labels,
            )
        if spec == "mutual_information":

            def mi(a):
                left = int(np.prod(dims[:-1]))
                t = a.reshape(left, dims[-1], left, dims[-1])
                ra = np.einsum("aibi->ab", t)
                rb = np.einsum("iaib->ab", t)
                return _entropy_arr(ra) + _entropy_arr(rb) - _entropy_arr(a)

            return _Obs(name, mi)
        if spec == "purity":
            return _Obs(
                name,
                lambda a: float(np.real(np.vdot(a.conj().T.reshape(-1), a.reshape(-1)))),
                batch=lambda c: (np.abs(c.X.reshape(c.X.shape[0], -1)) ** 2).sum(axis=1),
            )
        if spec == "heat_current":
            hams = self._need("hams", spec)
            bath_labels = list(dict.fromkeys(lab for stage in self.baths for lab, _, _ in stage))
            pos = {lab: i for i, lab in enumerate(bath_labels)}
            # Tr[H L(rho)] = vec(H^T) . (L vec(rho)) in the row-major vectorization
            rows = [
                [(pos[lab], k, hams[k].T.reshape(-1) @ S) for lab, k, S in stage]
                for stage in self.baths
            ]

            def heat(a):
                out = np.zeros(len(bath_labels))
                for i, k, w in rows[self.stage]:
                    out[i] += float(np.real(w @ _marginal(a, dims, k).reshape(-1)))
                return out

            def heat_batch(c):
                out = np.zeros((c.X.shape[0], len(bath_labels)))
                for stage in set(c.stages):
                    sel = np.array([s == stage for s in c.stages])
                    for i, k, w in rows[min(stage, len(rows) - 1)]:
                        out[sel, i] += np.real(c.marginal(k)[sel].reshape(int(sel.sum()), -1) @ w)
                return out

            return _Obs(name, heat, bath_labels, batch=heat_batch)
        if spec == "energy":
            hams = self._need("hams", spec)
            return _Obs(
                name,
                lambda a: np.array(
                    [float(np.real(np.trace(hams[k] @ _marginal(a, dims, k)))) for k in range(n)]
                ),
                labels,
                batch=lambda c: np.stack(
                    [np.einsum("ab,tba->t", hams[k], c.marginal(k)).real for k in range(n)], axis=1
                ),
            )
        raise AssertionError(spec)  # pragma: no cover

    def evaluate_batch(self, X: np.ndarray, stages: Sequence[int]) -> dict[str, np.ndarray]:
        """All observables of a batch of paired states ``X`` (T, d_0^2, ..., d_{n-1}^2),
        state ``i`` produced during stage ``stages[i]``; returns arrays (T, ...).

        Observables with a vectorised form work on the paired layout directly (marginals
        by contraction with identity vectors); the others get each full density matrix.
        """
        c = _Batch(X, self.dims, stages)
        out = {}
        for o in self.obs:
            if o.batch is not None:
                out[o.name] = np.asarray(o.batch(c), dtype=float)
            else:
                vals = []
                for i in range(X.shape[0]):
                    self.stage = min(stages[i], len(self.baths) - 1)
                    vals.append(np.asarray(o.fn(c.full(i)), dtype=float))
                out[o.name] = np.stack(vals)
        return out

    def evaluate(self, a: np.ndarray, stage: int = 0) -> dict[str, np.ndarray]:
        """All observables of the density matrix ``a`` (``D x D`` array) during ``stage``."""
        self.stage = min(stage, len(self.baths) - 1)
        return {o.name: np.asarray(o.fn(a), dtype=float) for o in self.obs}


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

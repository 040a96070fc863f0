r"""Permutation symmetry: n identical qubits in ``binom(n + 3, 3)`` numbers instead of ``4^n``.

When every term of a protocol treats the qubits alike — identical local baths (emission,
absorption, dephasing, Hamiltonians), independent copies of a process with the same law,
shared Brownian phase noise whose pair correlations are the same for every pair of qubits
(e.g. :func:`eplt.baths.exchangeable_phase_drive`), shared clocks applying the same
basis-permuting unitary to every qubit (the global flip ``X^(x)n``) or resetting every qubit
to ``omega`` — its averaged generator commutes with the permutations of the qubits, and so
does the state if the input does. A permutation-invariant operator of n qubits has the
same entry ``rho[i_1..i_n, j_1..j_n]`` for every arrangement of the letters
``|i_p><j_p|``, so it is given by one number per *count* ``k = (k_00, k_01, k_10, k_11)`` of
the four letters: ``binom(n + 3, 3)`` numbers, the number of entries of the Dicke blocks
``(j, m, m')`` (``sum_j (2j + 1)^2``, :func:`dicke_blocks`). For 100 qubits that is 176,851
complex numbers (2.8 MB) against ``4^100``.

:class:`PermutationSymmetric` is the corresponding averaging method of
:func:`eplt.dynamics.evolve` (``method="permutation"``; ``method="auto"`` takes it when every
process is white, every stage is symmetric, the input is permutation invariant (or a
:class:`SymmetricState`), the observables are among :data:`OBSERVABLES` and
``AUTO_MIN_QUBITS <= n`` (``<= AUTO_MAX_DENSE_CHECK`` for a dense input); the reason is
recorded in ``result.params["method"]["reason"]``).
It is exact: the generator is compiled term by term onto the symmetric space (local terms
as one-body operators ``sum_p S^(p)``, shared drives as collective dissipators
``D[sum_p V^(p)]``, shared kicks and resets as product maps) and exponentiated per connected
component (dense for small ones, Krylov ``expm_multiply`` for the rest); no sampling, no
time step. Observables available: GHZ fidelity, the trace distance of every one-qubit
marginal to tau (all equal), energy, purity, collective spin moments.

Conventions: hbar = k_B = 1; qubit ``|0>`` ground, ``sigma_z = diag(1, -1)``,
``J_a = sum_p sigma_a^(p) / 2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import qutip

from ._builtin_observables import trace_distances
from ._permcompile import NotSymmetricError, compile_stage, marginal_generator, symmetry_reason
from ._permprop import SymPropagator
from ._symspace import SymSpace, symmetric_dimension
from .observables import builtins
from .result import Result
from .states import ghz_noise_weight

__all__ = [
    "AUTO_MIN_QUBITS",
    "OBSERVABLES",
    "NotSymmetricError",
    "PermutationSymmetric",
    "SymmetricState",
    "dicke_blocks",
    "is_permutation_symmetric",
    "marginal_channel",
    "symmetric_dimension",
]

#: ``method="auto"`` takes the permutation method from this many qubits on (below, the
#: dense engine is as fast and computes every observable).
AUTO_MIN_QUBITS = 6

#: Largest n for which ``method="auto"`` checks a dense input for permutation invariance
#: (a ``4^n``-entry scan; beyond, give a :class:`SymmetricState`).
AUTO_MAX_DENSE_CHECK = 10

#: Largest symmetric dimension ``binom(n + 3, 3)`` accepted (n = 230; the state is 32 MB,
#: a GHZ-protocol generator about 0.5 GB).
MAX_DIMENSION = 2_100_000

#: Memory (bytes) of the block of states awaiting observable evaluation.
BUFFER_BYTES = 2**25

_PAULI = {
    "x": np.array([[0, 1], [1, 0]], dtype=complex),
    "y": np.array([[0, -1j], [1j, 0]]),
    "z": np.array([[1, 0], [0, -1]], dtype=complex),
}


def dicke_blocks(n: int) -> list[tuple[float, int, int]]:
    r"""The Dicke blocks of n qubits: ``(j, 2j + 1, multiplicity)`` for ``j = n/2, n/2 - 1, ...``.

    ``(C^2)^(x)n = sum_j C^(2j+1) (x) C^(m_j)`` with ``m_j = binom(n, n/2 - j) - binom(n, n/2 - j - 1)``.
    A permutation-invariant operator is ``sum_j rho_j (x) I_{m_j}``: ``sum_j (2j + 1)^2``
    numbers, equal to :func:`symmetric_dimension`; ``sum_j (2j + 1) m_j = 2^n``.

    Examples
    --------
    >>> dicke_blocks(3)
    [(1.5, 4, 1), (0.5, 2, 2)]
    >>> sum(s * s for _, s, _ in dicke_blocks(100)) == symmetric_dimension(100)
    True
    """
    n = _check_n(n)
    out = []
    for r in range(n // 2 + 1):  # j = n/2 - r
        mult = math.comb(n, r) - (math.comb(n, r - 1) if r >= 1 else 0)
        out.append((n / 2 - r, n - 2 * r + 1, mult))
    return out


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    return int(n)


def _space(n: int) -> SymSpace:
    D = symmetric_dimension(n)
    if D > MAX_DIMENSION:
        raise ValueError(
            f"n = {n} qubits need binom(n + 3, 3) = {D:,} symmetric coefficients, above the "
            f"limit of {MAX_DIMENSION:,} (n <= 230)"
        )
    return SymSpace(n)


@dataclass(frozen=True, eq=False)
class SymmetricState:
    r"""A permutation-invariant state of ``n`` qubits by its ``binom(n + 3, 3)`` coefficients.

    ``coeffs[i]`` is the entry ``rho[i_1..i_n, j_1..j_n]`` at any word with the counts
    ``k = space.K[i]`` of the letters ``|0><0|, |0><1|, |1><0|, |1><1|``.

    Examples
    --------
    >>> s = SymmetricState.noisy_ghz(50, 0.9)
    >>> round(s.ghz_fidelity(), 12), round(s.trace(), 12)
    (0.9, 1.0)
    >>> s.marginal().full().round(3).real.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """

    n: int
    coeffs: np.ndarray

    def __post_init__(self):
        n = _check_n(self.n)
        c = np.asarray(self.coeffs, dtype=complex).reshape(-1)
        if c.size != symmetric_dimension(n):
            raise ValueError(
                f"coeffs must have binom(n + 3, 3) = {symmetric_dimension(n)} entries, got {c.size}"
            )
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "coeffs", c)

    @property
    def space(self) -> SymSpace:
        return _space(self.n)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def product(cls, sigma, n: int) -> SymmetricState:
        """``sigma^(x)n`` for a one-qubit density matrix ``sigma``."""
        a = sigma.full() if isinstance(sigma, qutip.Qobj) else np.asarray(sigma, dtype=complex)
        if a.shape != (2, 2):
            raise ValueError(f"sigma must be a 2 x 2 density matrix, got shape {a.shape}")
        n = _check_n(n)
        space = _space(n)
        return cls(n, space.from_mass(space.product_vector(a.reshape(-1))))

    @classmethod
    def noisy_ghz(cls, n: int, fidelity: float) -> SymmetricState:
        """``p GHZ + (1 - p) I/2^n`` with GHZ fidelity ``fidelity`` in ``[2^-n, 1]``
        (as :func:`eplt.dynamics.states.noisy_ghz_state`)."""
        n = _check_n(n)
        p = ghz_noise_weight(n, fidelity)
        sp_ = _space(n)
        c = (1 - p) * 2.0**-n * (sp_.K[:, 1] + sp_.K[:, 2] == 0)  # I/2^n
        for k in ((n, 0, 0, 0), (0, n, 0, 0), (0, 0, n, 0), (0, 0, 0, n)):
            c[sp_.index(np.array([k]))[0]] += p / 2
        return cls(n, c)

    @classmethod
    def from_qobj(cls, rho: qutip.Qobj, *, atol: float = 1e-10) -> SymmetricState:
        """Read a dense n-qubit density matrix; ValueError unless permutation invariant (to ``atol``)."""
        if not isinstance(rho, qutip.Qobj):
            raise TypeError(f"rho must be a qutip.Qobj, got {type(rho).__name__}")
        if rho.isket:
            rho = qutip.ket2dm(rho)
        dims = [int(d) for d in rho.dims[0]]
        if any(d != 2 for d in dims):
            raise ValueError(f"rho must be a state of qubits, got dims {dims}")
        c = _symmetric_part(rho.full(), len(dims), atol)
        if c is None:
            raise ValueError(f"rho is not permutation invariant (to {atol:g})")
        return cls(len(dims), c)

    def to_qobj(self) -> qutip.Qobj:
        """The dense ``2^n x 2^n`` state (n <= 12)."""
        if self.n > 12:
            raise ValueError(f"to_qobj builds a 2^n x 2^n matrix: n <= 12, got {self.n}")
        idx = self.space.counts_of_entries()
        return qutip.Qobj(self.coeffs[idx], dims=[[2] * self.n, [2] * self.n])

    # ------------------------------------------------------------------ observables
    def trace(self) -> float:
        space = self.space
        return float(np.real(space.trace(space.to_mass(self.coeffs))))

    def marginal(self, m: int = 1) -> qutip.Qobj:
        """The reduced state of any ``m`` (1 or 2) qubits (all equal)."""
        space = self.space
        a = space.marginal(space.to_mass(self.coeffs), m)
        return qutip.Qobj(a, dims=[[2] * m, [2] * m])

    def ghz_fidelity(self) -> float:
        """``<GHZ|rho|GHZ>``, ``GHZ = (|0..0> + |1..1>)/sqrt(2)``."""
        space = self.space
        return float(_ghz(space, space.to_mass(self.coeffs)[None])[0])

    def purity(self) -> float:
        """``Tr rho^2``."""
        space = self.space
        return float(space.purity(space.to_mass(self.coeffs)))


def _symmetric_part(a: np.ndarray, n: int, atol: float) -> np.ndarray | None:
    space = _space(n)
    idx = space.counts_of_entries()
    c = np.zeros(space.D, dtype=complex)
    np.add.at(c, idx.reshape(-1), a.reshape(-1))
    c /= np.exp(space.log_words)
    if np.abs(c[idx] - a).max() > atol:
        return None
    return c


# --------------------------------------------------------------------------- observables
def _ghz(space: SymSpace, X: np.ndarray) -> np.ndarray:
    n = space.n
    i = space.index(np.array([(n, 0, 0, 0), (0, 0, 0, n), (0, n, 0, 0)]))
    return ((X[:, i[0]] + X[:, i[1]]) / 2).real + X[:, i[2]].real


def _spin(space: SymSpace, X: np.ndarray, second: bool) -> np.ndarray:
    n = space.n
    if not second:
        r1 = space.marginal(X, 1)
        return np.stack([n / 2 * np.einsum("ab,tba->t", _PAULI[a], r1).real for a in "xyz"], axis=1)
    if n == 1:
        return np.full((X.shape[0], 3), 0.25)
    r2 = space.marginal(X, 2)
    cols = []
    for a in "xyz":
        P = np.kron(_PAULI[a], _PAULI[a])
        cols.append(n / 4 + n * (n - 1) / 4 * np.einsum("ab,tba->t", P, r2).real)
    return np.stack(cols, axis=1)


#: Observables of the permutation method: name -> (description, needs).
OBSERVABLES = {
    "ghz_fidelity": ("<GHZ|rho|GHZ>", None),
    "marginal_distance": ("trace distance of each qubit's marginal to tau (all equal)", "taus"),
    "energy": ("Tr(H rho_p) of each qubit (all equal)", "hamiltonians"),
    "purity": ("Tr rho^2", None),
    "trace": ("Tr rho", None),
    "collective_spin": ("<J_x>, <J_y>, <J_z>, J_a = sum_p sigma_a^(p)/2", None),
    "collective_spin_sq": ("<J_x^2>, <J_y^2>, <J_z^2>", None),
}


def _evaluate(name, space, X, taus, hams):
    n = space.n
    if name == "ghz_fidelity":
        return _ghz(space, X), None
    if name == "marginal_distance":
        d = trace_distances(space.marginal(X, 1), taus[0])
        return np.repeat(d[:, None], n, axis=1), [str(k) for k in range(n)]
    if name == "energy":
        e = np.einsum("ab,tba->t", hams[0], space.marginal(X, 1)).real
        return np.repeat(e[:, None], n, axis=1), [str(k) for k in range(n)]
    if name == "purity":
        return space.purity(X), None
    if name == "trace":
        return space.trace(X).real, None
    if name == "collective_spin":
        return _spin(space, X, False), ["Jx", "Jy", "Jz"]
    return _spin(space, X, True), ["Jx^2", "Jy^2", "Jz^2"]


def _observable_names(e_ops, has_taus: bool, observables=None) -> list[str] | None:
    """The requested names, or None when some request is not one of ``observables``
    (default: the permutation route's, :data:`OBSERVABLES`)."""
    observables = OBSERVABLES if observables is None else observables
    if e_ops is None:
        return ["ghz_fidelity", *(["marginal_distance"] if has_taus else []), "purity"]
    if isinstance(e_ops, str):
        e_ops = [e_ops]
    if isinstance(e_ops, dict):
        e_ops = list(e_ops.values())
    names = list(e_ops)
    if not all(isinstance(x, str) and x in observables for x in names):
        return None
    return names


# --------------------------------------------------------------------------- method
@dataclass(frozen=True)
class PermutationSymmetric:
    """Exact averaged dynamics of permutation-symmetric qubit models on the symmetric space.

    Parameters
    ----------
    block_max : int
        Connected components of the compiled generator of at most this many coefficients
        are exponentiated densely (batched by size); larger ones by ``expm_multiply``.
    """

    name = "permutation"
    block_max: int = 8

    def __post_init__(self):
        b = self.block_max
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 1 <= b <= 4096:
            raise ValueError(f"block_max must be an integer in [1, 4096], got {b!r}")


def marginal_channel(protocol, t: float) -> qutip.Qobj:
    r"""The one-qubit marginal channel ``rho -> Tr_{not p} E_t(rho)`` of a permutation-symmetric
    protocol (the same for every qubit p, and for shared and independent copies of its
    processes), as a qutip superoperator (column stacking, ``superrep='super'``).

    Each stage contributes ``exp(L_1 dt)`` with ``L_1`` its one-qubit generator: local
    terms, ``D[V]`` of each shared Brownian drive (the cross terms between qubits cancel
    under the partial trace, for Hermitian drives), and the local action of shared
    kicks and resets. Costs nothing in n; :func:`eplt.dynamics.channels.lt_error` of it is
    the worst case over all inputs of the marginal distance to tau.

    Examples
    --------
    >>> from eplt.baths import Environment, exchangeable_phase_drive
    >>> env = Environment([2] * 50, exchangeable_phase_drive(1.0, 50))
    >>> S = marginal_channel(env, 2.0)
    >>> round(float(abs(S.full()[1, 1])), 6)  # coherence: exp(-kappa (n - 1)/(2n) t)
    0.375311
    """
    from scipy.linalg import expm

    from .model import stages_of
    from .superop import _to_qutip_super

    t = float(t)
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"t must be a finite time >= 0, got {t!r}")
    S, start = np.eye(4, dtype=complex), 0.0
    for st in stages_of(protocol):
        dt = min(st.duration, t - start)
        if dt > 0:
            S = expm(marginal_generator(compile_stage(st.model)) * dt) @ S
        start += st.duration
        if start >= t:
            break
    return _to_qutip_super(S, [[2], [2]])


def is_permutation_symmetric(protocol) -> bool:
    """True when every stage of ``protocol`` compiles onto the symmetric space
    (identical qubits, white processes, symmetric terms; see the module docstring)."""
    from .model import stages_of

    return symmetry_reason(stages_of(protocol)) is None


def auto_reason(rho0, stages, e_ops, store_states: bool) -> str | None:
    """Why ``method="auto"`` takes the permutation method, or None when it does not."""
    n = len(stages[0].model.dims)
    if store_states or not all(s.model.is_white for s in stages):
        return None
    if not isinstance(rho0, SymmetricState) and n < AUTO_MIN_QUBITS:
        return None
    dense_possible = not isinstance(rho0, SymmetricState)  # a SymmetricState runs here only
    if e_ops is None and dense_possible:
        # the dense defaults include negativities, which this route does not compute: auto
        # must never change which observables a call returns
        return None
    taus = next((s.model.taus for s in stages if s.model.taus is not None), None)
    names = _observable_names(e_ops, taus is not None)
    if names is None:
        return None
    if dense_possible and not set(names) <= set(builtins()):
        # names only this route knows (trace, collective spins): auto would make the same
        # call fail below AUTO_MIN_QUBITS; they are computed with method='permutation'
        return None
    if symmetry_reason(stages) is not None:
        return None
    if not isinstance(rho0, SymmetricState):
        if n > AUTO_MAX_DENSE_CHECK or not isinstance(rho0, qutip.Qobj) or rho0.shape[0] != 2**n:
            return None
        a = qutip.ket2dm(rho0).full() if rho0.isket else rho0.full()
        if _symmetric_part(a, n, 1e-12) is None:
            return None
    return (
        f"permutation symmetric model and input, {n} qubits (>= {AUTO_MIN_QUBITS}): "
        f"{symmetric_dimension(n)} symmetric coefficients instead of 4^{n}"
    )


def _as_array(x) -> np.ndarray:
    """A thermal state or Hamiltonian given as Qobj or array, as a complex array."""
    return x.full() if isinstance(x, qutip.Qobj) else np.asarray(x, dtype=complex)


def _evolve_permutation(rho0, stages, windows, tlist, e_ops, method, taus, hams, reason):
    """:func:`eplt.dynamics.evolve` with :class:`PermutationSymmetric` (called from there)."""
    n = len(stages[0].model.dims)
    state = rho0 if isinstance(rho0, SymmetricState) else SymmetricState.from_qobj(rho0)
    if state.n != n:
        raise ValueError(f"rho0 has {state.n} qubits, the protocol acts on {n}")
    specs = [compile_stage(m) for _, _, m in windows]  # NotSymmetricError (a ValueError)
    names = _observable_names(e_ops, taus is not None)
    if names is None:
        raise ValueError(
            f"method 'permutation' computes the observables {sorted(OBSERVABLES)} (by name); "
            f"got e_ops={e_ops!r}"
        )
    taus = None if taus is None else [_as_array(t) for t in taus]
    hams = None if hams is None else [_as_array(h) for h in hams]
    for name in names:
        need = OBSERVABLES[name][1]
        vals = {"taus": taus, "hamiltonians": hams}.get(need)
        if need and vals is None:
            raise ValueError(f"observable {name!r} needs {need} (give them to evolve)")
        if need and any(np.abs(v - vals[0]).max() > 1e-12 for v in vals):
            raise ValueError(f"observable {name!r}: the {need} of the qubits differ")
    space = state.space
    x = np.concatenate([space.to_mass(state.coeffs), [state.trace()]])
    chunks: dict[str, list] = {name: [] for name in names}
    labels: dict[str, list[str]] = {}
    buf: list[np.ndarray] = []

    def flush():  # observables of a block of states (a full 201-time series of 100
        if buf:  # qubits would hold 0.6 GB)
            X = np.stack(buf)[:, :-1]
            for name in names:
                v, lab = _evaluate(name, space, X, taus, hams)
                chunks[name].append(v)
                if lab is not None:
                    labels[name] = lab
            buf.clear()

    def record(y):
        buf.append(y.copy())
        if len(buf) * y.nbytes >= BUFFER_BYTES:
            flush()

    record(x)
    info = []
    for (start, end, _), spec in zip(windows, specs):
        prop = SymPropagator(spec.build(space), method.block_max)
        idx = np.nonzero((tlist > start) & (tlist <= end))[0]
        marks = np.concatenate([[start], tlist[idx], [end]])
        dts = np.diff(marks)
        dts = dts[dts > 0]  # only the step to the stage end may vanish
        for j, y in enumerate(prop.advance(x, dts)):
            if j < idx.size:
                record(y)
            x = y
        info.append(prop.describe())
    flush()
    expect = {name: np.concatenate(chunks[name]) for name in names}
    params = {
        "method": {"name": method.name, "block_max": method.block_max, "reason": reason},
        "stages": [{"duration": s.duration, "model": s.model.describe()} for s in stages],
        "dims": [2] * n,
        "symmetric_dimension": space.D,
        "components": info,
    }
    return Result(times=tlist, expect=expect, method=method.name, params=params, labels=labels)

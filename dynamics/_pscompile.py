r"""Compile a stage into a finite mixture of product channels (private to
:mod:`eplt.dynamics.productsum`).

A stage of white processes on n qubits is read term by term (never the joint generator):

* **local** generators ``L_p`` (4 x 4, the engine's row-major layout ``vec(X)[2 i + j] =
  X[i, j]``): deterministic local terms plus every source acting on one qubit only
  (independent copies: a Brownian source gives ``kappa sum_c D[U_c]``, a clock ``rate (K - 1)``);
* **shared Brownian drives** whose unit operators are diagonal and Hermitian (phase noise):
  on a product of matrix units ``|x><y|`` their average is the scalar
  ``exp(-t sum_s kappa_s (sum_p (g_sp(x_p) - g_sp(y_p)))^2 / 2)`` (a Gaussian characteristic
  function), so every product operator whose factors are diagonal or a single coherence
  letter ``|0><1|`` or ``|1><0|`` is an eigenoperator (:func:`drive_rates`);
* **shared clocks** applying ``K_p`` to each qubit p they act on, every ``K_p`` involutive
  (``K^2 = 1``, kicks by Paulis) or every one idempotent (``K^2 = K``, resets): the Poisson
  number of ticks leaves two branches, identity and ``(x)_p K_p``, with weights
  ``(1 +- e^{-2 r t})/2`` (involutions) or ``e^{-r t}``, ``1 - e^{-r t}`` (idempotents).

The stage's channel ``exp(t L)`` is the product of these pieces when they commute, which
is checked per qubit (sufficient): clocks with the local generators and with each other,
the drives' left and right multiplications with the local generators, and each drive with
each clock (a flip must act on all or none of the qubits a drive dephases; a reset target
must be diagonal). Anything else raises :class:`NotProductSumError` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._permcompile import _check_rate, brownian_signal, white_process
from .model import JumpAction, Model
from .superop import _dissipator

#: Relative tolerance of the structural checks (diagonal, commuting, involutive).
RTOL = 1e-12

_I4 = np.eye(4, dtype=complex)
#: Letters of the engine layout: 0 = |0><0|, 1 = |0><1|, 2 = |1><0|, 3 = |1><1|.
_FLIP = np.array([3, 2, 1, 0])


class NotProductSumError(ValueError):
    """The stage is not a finite mixture of commuting product channels (with the reason)."""


def _small(a: np.ndarray, scale: float = 1.0) -> bool:
    return bool(np.abs(a).max(initial=0.0) <= RTOL * max(1.0, scale))


def _commute(A: np.ndarray, B: np.ndarray) -> bool:
    return _small(A @ B - B @ A, float(np.abs(A).max() * np.abs(B).max()))


@dataclass(frozen=True, eq=False)
class Clock:
    """A shared Poisson clock: ``rate``, the qubits it acts on and their channels ``K``
    (``(m, 4, 4)``); ``involution`` (two branches ``(1 +- e^{-2 r t})/2``) or idempotent
    (``e^{-r t}``, ``1 - e^{-r t}``); ``flips`` marks the qubits whose ``K`` swaps the letters
    (antidiagonal unitary), ``None`` when some ``K`` is not letter preserving."""

    rate: float
    parties: np.ndarray
    K: np.ndarray
    involution: bool
    flips: np.ndarray | None

    def log_weights(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log`` of the branch weights (no tick, tick) at elapsed times ``t``."""
        t = np.asarray(t, dtype=float)
        x = (2.0 if self.involution else 1.0) * self.rate * t
        with np.errstate(divide="ignore"):
            if self.involution:
                return np.log1p(np.exp(-x)) - np.log(2.0), np.log(-np.expm1(-x)) - np.log(2.0)
            return -x, np.log(-np.expm1(-x))


@dataclass(frozen=True, eq=False)
class StageSpec:
    """One stage: local generators ``(n, 4, 4)``, the drives' letter differences
    ``delta[s, p] = g_sp(0) - g_sp(1)`` with ``kappa[s]``, and the shared clocks."""

    n: int
    local: np.ndarray
    delta: np.ndarray
    kappa: np.ndarray
    clocks: tuple

    def adjoint(self) -> StageSpec:
        """The Hilbert-Schmidt adjoint stage (``L -> L^+`` in the row-major layout; the
        drives are self-adjoint on matrix units; clock weights are unchanged)."""
        clocks = tuple(
            Clock(c.rate, c.parties, np.conj(np.swapaxes(c.K, 1, 2)), c.involution, c.flips)
            for c in self.clocks
        )
        return StageSpec(
            self.n, np.conj(np.swapaxes(self.local, 1, 2)), self.delta, self.kappa, clocks
        )


def _letter_preserving(K: np.ndarray) -> bool | None:
    """False when ``K`` keeps every letter (diagonal), True when it swaps ``0 <-> 1`` on
    both sides (an antidiagonal unitary), None otherwise."""
    mask = np.abs(K) > RTOL * max(1.0, float(np.abs(K).max()))
    if not mask.any():
        return None
    if np.array_equal(mask, np.diag(mask.diagonal())):
        return False
    if mask.sum() == 4 and mask[_FLIP, np.arange(4)].all():
        return True
    return None


def compile_stage(model: Model) -> StageSpec:
    """The :class:`StageSpec` of one stage, or :class:`NotProductSumError` saying why not."""
    dims, n = model.dims, len(model.dims)
    if any(d != 2 for d in dims):
        raise NotProductSumError(f"the product-sum route needs qubits, got dims {list(dims)}")
    if model.is_time_dependent:
        raise NotProductSumError("time-dependent local terms are not supported")
    loc = np.zeros((n, 4, 4), dtype=complex)
    for t in model.local:
        loc[t.party] += t.superop
    delta_rows, kappas, clocks = [], [], []
    checked: set = set()
    for s in model.sources:
        proc = white_process(s, NotProductSumError, "the product-sum route")
        if proc.kind == "signal":
            kappa, acts, units = brownian_signal(s, checked, NotProductSumError)
            if len(acts) == 1:
                loc[acts[0].party] += sum(kappa * _dissipator(U) for U in units[0])
                continue
            for ch in range(len(units[0])):
                row = np.zeros(n)
                for a, U in zip(acts, units):
                    G = np.asarray(U[ch], dtype=complex)
                    if not _small(G - np.diag(G.diagonal()), float(np.abs(G).max())) or not _small(
                        G.diagonal().imag, float(np.abs(G).max())
                    ):
                        raise NotProductSumError(
                            f"shared drive {proc.name!r} acts on qubit {a.party} with a "
                            "non-diagonal (or non-Hermitian) generator: the product-sum route "
                            "takes shared phase noise (diagonal generators) only"
                        )
                    row[a.party] = G[0, 0].real - G[1, 1].real
                delta_rows.append(row)
                kappas.append(kappa)
        else:
            rate = float(getattr(proc, "rate", np.nan))
            acts = [a for a in s.actions if isinstance(a, JumpAction)]
            if not np.isfinite(rate) or len(acts) != len(s.actions):
                raise NotProductSumError(f"clock {proc.name!r} is not a Poisson clock")
            if type(proc) not in checked:
                checked.add(type(proc))
                _check_rate(proc, acts[0], rate * (acts[0].superop - _I4))
            if len(acts) == 1:
                loc[acts[0].party] += rate * (acts[0].superop - _I4)
                continue
            K = np.stack([a.superop for a in acts]).astype(complex)
            sq = K @ K
            if all(_small(q - _I4) for q in sq):
                invol = True
            elif all(_small(q - k) for q, k in zip(sq, K)):
                invol = False
            else:
                raise NotProductSumError(
                    f"clock {proc.name!r}: every channel of a shared clock must be an involution "
                    "(K^2 = 1, e.g. a Pauli kick) or every one idempotent (K^2 = K, e.g. a reset)"
                )
            kinds = [_letter_preserving(k) for k in K]
            flips = None if any(x is None for x in kinds) else np.array(kinds, dtype=bool)
            parties = np.array([a.party for a in acts])
            clocks.append(Clock(rate, parties, K, invol, flips))
    delta = np.array(delta_rows).reshape(len(delta_rows), n)
    spec = StageSpec(n, loc, delta, np.array(kappas, dtype=float), tuple(clocks))
    _check_commuting(spec)
    return spec


def _check_commuting(spec: StageSpec) -> None:
    """Raise unless the pieces of the stage commute (checked qubit by qubit)."""
    loc = spec.local
    for c in spec.clocks:
        done: list = []
        for p, K in zip(c.parties, c.K):
            if any(np.array_equal(K, a) and np.array_equal(loc[p], b) for a, b in done):
                continue
            done.append((K, loc[p]))
            if not _commute(K, loc[p]):
                raise NotProductSumError(
                    f"a shared clock's channel on qubit {p} does not commute with its local "
                    "generator: the stage is not a finite mixture of product channels"
                )
    for i, a in enumerate(spec.clocks):
        for b in spec.clocks[i + 1 :]:
            common, ia, ib = np.intersect1d(a.parties, b.parties, return_indices=True)
            for p, ka, kb in zip(common, a.K[ia], b.K[ib]):
                if not _commute(ka, kb):
                    raise NotProductSumError(f"two shared clocks do not commute on qubit {p}")
    if spec.delta.size == 0:
        return
    driven = np.abs(spec.delta).max(axis=0) > 0
    # the drives act through left and right multiplication by diagonal matrices
    G = np.diag([1.0, 0.0])
    left, right = np.kron(G, np.eye(2)), np.kron(np.eye(2), G)
    seen: list = []
    for p in np.nonzero(driven)[0]:
        if any(np.array_equal(loc[p], x) for x in seen):
            continue
        if not (_commute(left, loc[p]) and _commute(right, loc[p])):
            raise NotProductSumError(
                f"the local generator of qubit {p} does not commute with the shared phase "
                "noise (it must keep every letter |i><j|, e.g. dephasing, not damping)"
            )
        seen.append(loc[p])
    for c in spec.clocks:
        on = np.zeros(spec.n, dtype=bool)
        on[c.parties] = True
        if c.flips is None:
            if c.involution:
                raise NotProductSumError(
                    "a shared kick that is neither diagonal nor a flip acts on phase-noised qubits"
                )
            # reset: the target must be diagonal (then the reset commutes with dephasing)
            for K in c.K:
                if not _small(K[[1, 2], :]):
                    raise NotProductSumError(
                        "a shared reset to a non-diagonal state under phase noise"
                    )
            continue
        flip = np.zeros(spec.n, dtype=bool)
        flip[c.parties[c.flips]] = True
        for s, row in enumerate(spec.delta):
            support = row != 0
            f = flip & support
            if f.any() and not np.array_equal(f, support):
                raise NotProductSumError(
                    f"a shared flip acts on some but not all of the qubits shared drive {s} "
                    "dephases: they do not commute"
                )


def letter_signs(F: np.ndarray, driven: np.ndarray) -> np.ndarray:
    """``(T, n)`` signs ``+1`` (factor ``|0><1|``), ``-1`` (``|1><0|``), 0 (diagonal) of the
    factors ``F`` ``(T, n, 4)``; NotProductSumError where a driven factor mixes letters."""
    scale = np.abs(F).max(axis=2, initial=0.0)
    nz = np.abs(F) > RTOL * np.maximum(scale, 1e-300)[..., None]
    diag = ~nz[..., 1] & ~nz[..., 2]
    up = nz[..., 1] & ~nz[..., 0] & ~nz[..., 2] & ~nz[..., 3]
    down = nz[..., 2] & ~nz[..., 0] & ~nz[..., 1] & ~nz[..., 3]
    bad = ~(diag | up | down) & driven[None, :]
    if bad.any():
        i, p = np.argwhere(bad)[0]
        raise NotProductSumError(
            f"term {i} has a factor on qubit {p} mixing populations and coherences: not an "
            "eigenoperator of the shared phase noise (the product-sum route would need 3^n terms)"
        )
    return up.astype(float) - down.astype(float)


def drive_rates(spec: StageSpec, F: np.ndarray) -> np.ndarray:
    """Decay rate of each product term under the stage's shared drives."""
    if spec.delta.size == 0:
        return np.zeros(F.shape[0])
    driven = np.abs(spec.delta).max(axis=0) > 0
    sig = letter_signs(F, driven)  # (T, n)
    amp = sig @ spec.delta.T  # (T, S)
    return 0.5 * (amp**2 @ spec.kappa)

r"""Checks on channels given as superoperators: Choi matrices, CPTP and local
thermalization tests, and the search for an entangled output.

Superoperators are qutip ``super`` Qobj in column-stacking convention; Choi matrices are
input first (as :func:`qutip.to_choi`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import qutip
import scipy.optimize

from ._checks import as_density_matrix
from ._checks import herm as _herm
from ._ltsolvers import (
    PAULI as _PAULI,
)
from ._ltsolvers import (
    affine_qubit as _affine_qubit,
)
from ._ltsolvers import (
    bb_qubit_output as _bb_qubit_output,
)
from ._ltsolvers import (
    bloch_ket as _bloch_ket,
)
from ._ltsolvers import (
    diamond_upper as _diamond_upper,
)
from ._ltsolvers import (
    seesaw_lower as _seesaw_lower,
)
from ._ltsolvers import (
    trs_max as _trs_max,
)
from .twirls import haar_unitary

__all__ = [
    "LTError",
    "choi_matrix",
    "find_entangled_output",
    "is_cptp",
    "is_locally_thermalizing",
    "lt_error",
]


def _super_array(S, name: str = "S") -> tuple[np.ndarray, list[int], list[int]]:
    if not isinstance(S, qutip.Qobj):
        raise TypeError(f"{name} must be a qutip super Qobj, got {type(S).__name__}")
    if not S.issuper or S.superrep != "super":
        raise ValueError(
            f"{name} must be a qutip superoperator in the 'super' (column-stacking) representation"
        )
    out_dims, in_dims = [int(x) for x in S.dims[0][0]], [int(x) for x in S.dims[1][0]]
    return S.full(), out_dims, in_dims


def choi_matrix(S: qutip.Qobj) -> np.ndarray:
    r"""Choi matrix ``J = sum_ij |i><j| (x) E(|i><j|)`` (input first) as an array.

    ``J[(i, a), (j, b)] = E(|i><j|)[a, b]``, shape ``(D_in D_out, D_in D_out)``; the same
    ordering as ``qutip.to_choi(S).full()``.
    """
    a, out_dims, in_dims = _super_array(S)
    Di, Do = math.prod(in_dims), math.prod(out_dims)
    S4 = a.reshape(Do, Do, Di, Di)  # [b, a, j, i]: row b*Do + a, column j*Di + i
    return S4.transpose(3, 1, 2, 0).reshape(Di * Do, Di * Do)


def is_cptp(S: qutip.Qobj, *, atol: float = 1e-10) -> bool:
    """True when the Choi matrix is Hermitian and PSD and ``Tr_out J = I_in`` (all to ``atol``)."""
    J = choi_matrix(S)
    _, out_dims, in_dims = _super_array(S)
    Di, Do = math.prod(in_dims), math.prod(out_dims)
    if np.abs(J - J.conj().T).max() > atol:
        return False
    if np.linalg.eigvalsh((J + J.conj().T) / 2)[0] < -atol:
        return False
    tr_out = np.trace(J.reshape(Di, Do, Di, Do), axis1=1, axis2=3)
    return bool(np.abs(tr_out - np.eye(Di)).max() <= atol)


def is_locally_thermalizing(S: qutip.Qobj, taus, *, atol: float = 1e-10) -> bool:
    r"""Exact local-thermalization test: ``Tr_{not k} E(X) = tau_k Tr X`` for all X, all k.

    Equivalently the Choi matrix of ``Tr_{not k} o E`` equals ``I_in (x) tau_k`` (checked
    entrywise to ``atol``; no sampling of inputs). Complete positivity is not checked
    (use :func:`is_cptp`).

    Parameters
    ----------
    S : Qobj
        Superoperator (column stacking); its output dims give the parties.
    taus : Qobj or sequence of Qobj
        One thermal state per output party (a single Qobj is used for every party).
    """
    _, out_dims, in_dims = _super_array(S)
    n, Di = len(out_dims), math.prod(in_dims)
    taus = [taus] * n if isinstance(taus, qutip.Qobj) else list(taus)
    if len(taus) != n:
        raise ValueError(f"taus must give one state per output party ({n}), got {len(taus)}")
    taus = [as_density_matrix(t, f"taus[{k}]") for k, t in enumerate(taus)]
    for k, (t, dk) in enumerate(zip(taus, out_dims, strict=True)):
        if t.shape != (dk, dk):
            raise ValueError(
                f"taus[{k}] must be {dk} x {dk} to match output party {k}, got {t.shape}"
            )
    J = choi_matrix(S).reshape([Di, *out_dims] * 2)
    for k, t in enumerate(taus):
        letters = "abcdefghijklmnopqrstuvwxyz"
        row = ["I"] + [letters[m] for m in range(n)]
        col = ["J"] + [letters[m] if m != k else "Z" for m in range(n)]
        Jk = np.einsum("".join(row + col) + "->I" + row[k + 1] + "JZ", J)
        Jk = Jk.reshape(Di * out_dims[k], Di * out_dims[k])
        if np.abs(Jk - np.kron(np.eye(Di), t.full())).max() > atol:
            return False
    return True


def _pt(a: np.ndarray, dims: Sequence[int], parties: Sequence[int]) -> np.ndarray:
    n = len(dims)
    axes = list(range(2 * n))
    for k in parties:
        axes[k], axes[n + k] = axes[n + k], axes[k]
    return a.reshape(list(dims) * 2).transpose(axes).reshape(a.shape)


def find_entangled_output(
    S: qutip.Qobj, *, subsys=None, seed=0, restarts: int = 10
) -> tuple[qutip.Qobj, float]:
    r"""Search for a pure input whose output under ``S`` has maximal negativity.

    Candidates: ``Phi+`` (two equal input parties) or ``GHZ`` (``n >= 3`` qubits), then
    ``restarts`` random starts (``Phi+`` rotated by Haar-random local unitaries, or Haar
    pure states otherwise), each refined with L-BFGS on ``psi in C^D`` of the objective
    ``N(E(psi psi^†/|psi|^2))`` when the output is NPT and ``lambda_min`` of its partial
    transpose otherwise (so the search is not flat on PPT outputs). Gradients are exact:
    ``E^†`` of the spectral projector of the partial transpose.

    Parameters
    ----------
    S : Qobj
        Superoperator (column stacking) of a channel with at least two output parties.
    subsys : int or iterable of int, optional
        Transposed output parties (as :func:`eplt.dynamics.measures.negativity`; default last).
    seed : int or Generator
        Seed of the random starts.
    restarts : int
        Number of random starts (>= 0).

    Returns
    -------
    (Qobj, float)
        The best input ket found and the negativity of its output (a lower bound on the
        maximum over inputs).
    """
    a, out_dims, in_dims = _super_array(S)
    if len(out_dims) < 2:
        raise ValueError(f"S must have at least two output parties, got output dims {out_dims}")
    if not isinstance(restarts, (int, np.integer)) or restarts < 0:
        raise ValueError(f"restarts must be an integer >= 0, got {restarts!r}")
    n, Di, Do = len(out_dims), math.prod(in_dims), math.prod(out_dims)
    parties = (
        [n - 1] if subsys is None else sorted({int(subsys)} if np.isscalar(subsys) else set(subsys))
    )
    if not parties or any(not 0 <= k < n for k in parties):
        raise ValueError(f"subsys must name output parties in 0..{n - 1}, got {subsys!r}")
    rng = np.random.default_rng(seed)

    def output(psi: np.ndarray) -> np.ndarray:
        rho = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
        return (a @ rho.reshape(-1, order="F")).reshape(Do, Do, order="F")

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        psi = z[:Di] + 1j * z[Di:]
        nrm = np.vdot(psi, psi).real
        pt = _pt(output(psi), out_dims, parties)
        lam, V = np.linalg.eigh((pt + pt.conj().T) / 2)
        neg = lam < 0
        if neg.any():
            f, P = -lam[neg].sum(), -(V[:, neg] @ V[:, neg].conj().T)  # dN = Tr(-P_- dX)
        else:
            f, P = lam[0], -np.outer(V[:, 0], V[:, 0].conj())  # maximise -lambda_min
            f = -f
        W = (a.conj().T @ _pt(P, out_dims, parties).reshape(-1, order="F")).reshape(
            Di, Di, order="F"
        )
        W = (W + W.conj().T) / 2
        g = 2 * (W @ psi - f * psi) / nrm
        return -f, -np.concatenate([g.real, g.imag])

    starts = []
    if len(in_dims) == 2 and in_dims[0] == in_dims[1]:
        d = in_dims[0]
        phi = np.eye(d).reshape(-1) / np.sqrt(d)
        starts.append(phi.astype(complex))
        for _ in range(restarts):
            starts.append(np.kron(haar_unitary(d, rng), haar_unitary(d, rng)) @ phi)
    else:
        if len(in_dims) >= 3 and all(x == 2 for x in in_dims):
            ghz = np.zeros(Di, dtype=complex)
            ghz[[0, -1]] = 1 / np.sqrt(2)
            starts.append(ghz)
        for _ in range(restarts):
            starts.append(haar_unitary(Di, rng)[:, 0])

    best_psi, best_val = None, -np.inf
    for psi0 in starts:
        cands = [psi0]
        res = scipy.optimize.minimize(
            objective, np.concatenate([psi0.real, psi0.imag]), jac=True, method="L-BFGS-B"
        )
        cands.append(res.x[:Di] + 1j * res.x[Di:])
        for psi in cands:
            psi = psi / np.linalg.norm(psi)
            lam = np.linalg.eigvalsh(_herm(_pt(output(psi), out_dims, parties)))
            val = float(-lam[lam < 0].sum())  # as eplt.dynamics.measures.negativity
            if val > best_val:
                best_psi, best_val = psi, val
    return qutip.Qobj(best_psi, dims=[in_dims, [1] * len(in_dims)]), float(best_val)


class LTError(float):
    r"""Worst-case local-thermalization error of a channel: a ``float`` with its bracket.

    The float value is :attr:`upper` (a certified upper bound, so ``lt_error(E) <= eps``
    proves eps-LT); when :attr:`exact` it equals the maximum to within the requested
    ``atol``.

    Attributes
    ----------
    value : float
        The float value itself (``= upper``).
    lower, upper : float
        ``lower`` is attained by an explicit input state; ``upper`` is certified.
    exact : bool
        ``upper - lower <= atol``.
    per_party : tuple of (lower, upper)
        The bracket of each output party.
    worst_input : tuple of Qobj
        For each party, an input (ket) attaining its ``lower``.
    """

    def __new__(cls, lower: float, upper: float, exact: bool, per_party, worst_input):
        obj = super().__new__(cls, upper)
        d = obj.__dict__
        d["lower"], d["upper"], d["exact"] = float(lower), float(upper), bool(exact)
        # (ket array, party dims) pairs; Qobj built on access (root finders never look)
        d["per_party"], d["_worst"] = tuple(per_party), tuple(worst_input)
        return obj

    @property
    def worst_input(self) -> tuple:
        return tuple(
            w if isinstance(w, qutip.Qobj) else qutip.Qobj(w[0], dims=[w[1], [1] * len(w[1])])
            for w in self._worst
        )

    def __setattr__(self, name, value):
        raise AttributeError("LTError is immutable")

    @property
    def value(self) -> float:
        return float(self)

    def __repr__(self) -> str:
        tag = "exact" if self.exact else f"in [{self.lower:.6g}, {self.upper:.6g}]"
        return f"LTError({float(self):.6g}, {tag})"

    def __reduce__(self):
        return (LTError, (self.lower, self.upper, self.exact, self.per_party, self._worst))


def _marginal_map(a: np.ndarray, out_dims: list[int], k: int) -> np.ndarray:
    """``vec(X) -> vec(Tr_{not k} E(X))`` (column stacking), shape ``(d_k^2, D_in^2)``."""
    n = len(out_dims)
    letters = "abcdefghijklmnopqrstuvwxyz"
    T = a.reshape([*out_dims, *out_dims, -1])  # [b_0..b_{n-1}, a_0..a_{n-1}, in]
    cols = [letters[m] if m != k else "Y" for m in range(n)]
    rows = [letters[m] if m != k else "Z" for m in range(n)]
    Mk = np.einsum("".join(cols + rows) + "W->YZW", T)
    return Mk.reshape(out_dims[k] ** 2, -1)


def _local_factor(Mk: np.ndarray, in_dims: list[int], k: int, atol: float):
    """``N`` with ``Mk(X) = N(Tr_{not k} X)`` for all X when it exists (else None).

    Input index (column stacking) ``j D + i`` -> axes ``[j_0.., i_0..]``;
    ``N(Y) = Mk(Y (x) I_rest / d_rest)``.
    """
    n, dk = len(in_dims), in_dims[k]
    rest = math.prod(in_dims) // dk
    T = Mk.reshape(Mk.shape[0], *in_dims, *in_dims)
    delta = _delta_except(in_dims, k)[None]
    others = tuple(1 + m for m in range(2 * n) if m not in (k, n + k))
    N = (T * delta).sum(axis=others) / rest  # [o, j_k, i_k]
    shape = [Mk.shape[0]] + [1] * (2 * n)
    shape[1 + k], shape[1 + n + k] = dk, dk
    R = N.reshape(shape) * delta
    if np.abs(R - T).max() <= atol:
        return N.reshape(Mk.shape[0], dk * dk)
    return None


def _delta_except(dims: list[int], k: int) -> np.ndarray:
    """``prod_{m != k} delta(j_m, i_m)`` as an array over ``[j_0.., i_0..]``."""
    n = len(dims)
    out = np.ones([1] * (2 * n))
    for m, d in enumerate(dims):
        if m == k:
            continue
        shape = [1] * (2 * n)
        shape[m], shape[n + m] = d, d
        out = out * np.eye(d).reshape(shape)
    return out


def lt_error(channel, taus, *, atol: float = 1e-10, max_cells: int = 400_000) -> LTError:
    r"""Worst case over all inputs of the largest marginal trace distance to ``tau``.

    .. math::

        \mathrm{lt\_error}(E) = \max_\rho \max_X D(\mathrm{Tr}_{\neg X} E(\rho), \tau_X),
        \qquad D(a, b) = \|a - b\|_1 / 2.

    A channel is eps-LT when ``lt_error <= eps``; an exact LT has ``lt_error = 0``. The
    marginal map ``M_X = Tr_{not X} o E`` is linear and ``D`` convex, so the maximum is
    on pure inputs. When ``M_X`` depends on the input's X marginal only (every LOSR
    channel; checked), the maximum is over pure states of party X:

    * qubit -> qubit: the output Bloch vector is affine, ``r_out = T r + t``, and
      ``D = max_{|r| = 1} |T r + t - r_tau| / 2``, solved exactly as a trust-region
      problem (secular equation, with the dual bound as certificate);
    * qubit output, any input: ``2 D = max_{|n| = 1} lambda_max(n . A)``,
      ``A_a = M_X^†(sigma_a) - Tr(sigma_a tau) I``, by a certified branch and bound on
      the sphere;
    * qudit output: a lower bound by alternating maximisation and the upper bound
      ``||M_X - R_tau||_diamond / 2`` (SDP, cvxpy + Clarabel); exact only when they meet.

    Parameters
    ----------
    channel : Qobj or sequence of Qobj
        A (trace-preserving) superoperator, QuTiP column stacking, ``superrep='super'``,
        whose output dims give the parties; or the marginal channels of the parties
        (single-party superoperators, as :func:`eplt.dynamics.marginal_channels` returns).
    taus : Qobj or sequence of Qobj
        Thermal state of each output party (one Qobj: the same for every party).
    atol : float
        Target width of the bracket (``exact`` when reached).
    max_cells : int
        Work limit of the branch and bound.

    Returns
    -------
    LTError
        A float (the certified upper bound) with ``lower``, ``upper``, ``exact``,
        ``per_party`` and ``worst_input``.

    Examples
    --------
    E_gamma is an exact LT; the identity channel is not (worst input: the excited state,
    ``D = 1 - p_min``):

    >>> import math, qutip
    >>> from eplt.dynamics.channels import eplt_channel
    >>> tau = qutip.Qobj([[0.7, 0], [0, 0.3]])
    >>> E = eplt_channel(tau, tau)
    >>> float(lt_error(E.superoperator(), tau)) < 1e-12
    True
    >>> ident = qutip.to_super(qutip.qeye([2, 2]))
    >>> round(float(lt_error(ident, tau)), 12)
    0.7
    """
    if not (isinstance(atol, (int, float)) and atol > 0):
        raise ValueError(f"atol must be > 0, got {atol!r}")
    if isinstance(channel, qutip.Qobj):
        a, out_dims, in_dims = _super_array(channel, "channel")
        maps = [(_marginal_map(a, out_dims, k), in_dims) for k in range(len(out_dims))]
    else:
        chans = list(channel)
        if not chans:
            raise ValueError("channel must be a superoperator or a non-empty list of them")
        maps, out_dims = [], []
        for k, c in enumerate(chans):
            a, od, idm = _super_array(c, f"channel[{k}]")
            if len(od) != 1:
                raise ValueError(
                    f"channel[{k}] must act on one party (marginal channel), got output dims {od}"
                )
            maps.append((a, idm))
            out_dims.append(od[0])
    n = len(out_dims)
    taus = [taus] * n if isinstance(taus, qutip.Qobj) else list(taus)
    if len(taus) != n:
        raise ValueError(f"taus must give one state per output party ({n}), got {len(taus)}")
    seen: dict = {}  # one check per distinct state (root finders pass the same tau twice)
    for k, t in enumerate(taus):
        if id(t) not in seen:
            seen[id(t)] = as_density_matrix(t, f"taus[{k}]").full()
    taus = [seen[id(t)] for t in taus]
    rng = np.random.default_rng(0)
    per, worst = [], []
    for k, ((Mk, in_dims), t, dk) in enumerate(zip(maps, taus, out_dims, strict=True)):
        if t.shape != (dk, dk):
            raise ValueError(f"taus[{k}] must be {dk} x {dk} to match output party {k}")
        Din = math.prod(in_dims)
        tp = Mk.reshape(dk, dk, Din * Din)[np.arange(dk), np.arange(dk)].sum(0)
        if np.abs(tp - np.eye(Din).reshape(-1, order="F")).max() > 1e-8:
            raise ValueError(f"channel is not trace preserving (output party {k})")
        # reduce to the party's own input when the marginal depends on it only
        if len(in_dims) > 1 and in_dims[k] == dk and len(in_dims) == n:
            N = _local_factor(Mk, in_dims, k, 1e-10 * max(1.0, float(np.abs(Mk).max())))
            if N is not None:
                Mk, in_dims = N, [in_dims[k]]
        d_in = math.prod(in_dims)
        if dk == 2 and d_in == 2:
            T, tv = _affine_qubit(Mk)
            r_tau = np.array([np.trace(s @ t).real for s in _PAULI])
            lo, up, r = _trs_max(T, tv - r_tau)
            lo, up, psi = lo / 2, up / 2, _bloch_ket(r)
        elif dk == 2:
            A = np.stack(
                [
                    (Mk.conj().T @ s.reshape(-1, order="F")).reshape(d_in, d_in, order="F")
                    - np.trace(s @ t).real * np.eye(d_in)
                    for s in _PAULI
                ]
            )
            A = (A + A.conj().transpose(0, 2, 1)) / 2
            lo, up, psi = _bb_qubit_output(A, atol, max_cells)
            lo, up = lo / 2, up / 2
        else:
            lo, psi = _seesaw_lower(Mk, t, d_in, rng)
            up = max(lo, _diamond_upper(Mk, t, d_in))
        per.append((max(0.0, lo), max(0.0, up)))
        worst.append((psi, list(in_dims)))
    lower = max(p[0] for p in per)
    upper = max(p[1] for p in per)
    exact = all(p[1] - p[0] <= atol for p in per)
    return LTError(lower, upper, exact, per, worst)

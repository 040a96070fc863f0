r"""The averaged channel of a protocol, as a QuTiP superoperator.

:func:`propagator` returns the channel ``E_t`` that maps the state at ``tlist[0] = 0`` to
the averaged state at time ``t``; :func:`marginal_channels` returns, for each party k,
the channel ``rho_k -> Tr_{not k} E_t(rho)``. That map depends on the party's own input
only: every realization of the randomness is a product of local CPTP maps, so the
marginal of party k is the average of its own local propagator, which has the same law
for shared and independent baths. :func:`lt_time` is the worst-case (channel-level)
thermalization time of a protocol.

Conventions
-----------
Superoperators are :class:`qutip.Qobj` with ``superrep='super'`` in QuTiP's
column stacking, ``vec(X)[j*D + i] = X[i, j]``, ``vec(A X B) = (B^T (x) A) vec(X)``,
``dims = [[dims, dims], [dims, dims]]``: ``E(rho) = vector_to_operator(S @
operator_to_vector(rho))``. The solvers' internal layout (row-major per party, parties
paired, :mod:`eplt.dynamics.superop`) never leaves this module.

Methods: ``"exact"`` (white processes: the averaged Lindbladian of each stage,
exponentiated; local stages as a product of local exponentials, the joint Liouvillian
never built) and ``"segment"`` (i.i.d. pulses: the averaged one-segment channel, raised
to the number of whole segments). ``"auto"`` chooses as :func:`eplt.dynamics.evolve`; the
sampled method has no channel (it averages states, not maps) and is refused.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import qutip
from qutip.core.dimensions import Dimensions
from scipy.optimize import brentq

from ._memory import check_bytes
from ._timeindep import joint_step_matrix, step_matrix
from .certify import lt_error
from .model import Model, Source, Stage, stages_of
from .propagate import _resolve_method, _stage_windows
from .sampled import Sampled
from .segment import SegmentAveraged, _apply_channel, _segment_stage_channels

__all__ = ["lt_time", "marginal_channels", "propagator"]

#: Largest joint superoperator returned (``D^2``, i.e. five qubits: a 1024 x 1024 matrix).
JOINT_MAX = 1024


def _check_time(t) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise TypeError(f"t must be a real number, got {type(t).__name__}") from None
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"t must lie in [0, inf), got {t!r}")
    return t


def _method(method, stages: Sequence[Stage]):
    m = _resolve_method(method, stages, None)
    if isinstance(m, Sampled):
        raise ValueError(
            "method must be 'exact' or 'segment' (or 'auto' resolving to one of them): "
            "the sampled method averages states, it has no channel"
        )
    return m


# --------------------------------------------------------------------------- blocks
# A channel is a list of blocks (parties, matrix): the matrix acts, in the paired layout,
# on the kron of those parties (in the listed order); blocks act on disjoint parties.


def _identity_blocks(dims) -> list:
    return [((k,), np.eye(d * d, dtype=complex)) for k, d in enumerate(dims)]


def _joint(blocks, dims) -> np.ndarray:
    """The blocks as one paired ``D^2 x D^2`` matrix."""
    sizes = [d * d for d in dims]
    N = math.prod(sizes)
    if len(blocks) == 1 and blocks[0][0] == tuple(range(len(dims))):
        return blocks[0][1]
    x = np.eye(N, dtype=complex).reshape(*sizes, N)
    return _apply_channel(blocks, x).reshape(N, N)


def _compose(first, then, dims) -> list:
    """``then o first``."""
    if _is_identity(first):  # the first stage from the identity: nothing to multiply
        return then
    if _is_identity(then):
        return first
    if [p for p, _ in first] == [p for p, _ in then]:
        return [(p, B @ A) for (p, A), (_, B) in zip(first, then)]
    return [(tuple(range(len(dims))), _joint(then, dims) @ _joint(first, dims))]


def _is_identity(blocks) -> bool:
    return all(np.array_equal(A, np.eye(A.shape[0])) for _, A in blocks)


def _check_joint_size(dims) -> None:
    N = math.prod(d * d for d in dims)
    if N > JOINT_MAX:
        raise ValueError(
            f"the joint superoperator on dims {list(dims)} has size {N} > {JOINT_MAX}; "
            "use marginal_channels (or propagator(..., marginals=True)) for many parties"
        )


def _stage_blocks(model: Model, dt: float, method, gens: dict | None = None) -> list:
    """One stage's channel over ``dt``; ``gens`` caches averaged generators by model id
    (for repeated evaluation of the same stages, :func:`_marginal_evaluator`)."""
    dims = model.dims
    if model.is_time_dependent:
        # the blocks below come from the time-independent averaged generator; a QuTiP
        # time-dependent term would be silently dropped
        raise ValueError(
            "propagator/marginal_channels do not handle time-dependent local terms "
            "(lindblad with a QobjEvo or [H0, [H1, f]]); evolve integrates them"
        )
    if dt <= 0:
        return _identity_blocks(dims)
    if isinstance(method, SegmentAveraged):
        tau, channel = _segment_stage_channels(model, method)
        if tau is not None:
            # whole segments then the remainder, as eplt.dynamics.segment._run_segment steps
            n_full, s = 0, 0.0
            while s < dt - 1e-12 and s + tau <= dt + 1e-12 * max(1.0, dt):
                n_full += 1
                s = min(s + tau, dt)
            full = [(p, np.linalg.matrix_power(A, n_full)) for p, A in channel(tau)]
            rest = dt - s
            return _compose(full, channel(rest), dims) if rest > 1e-12 else full
    if gens is None:
        gen = model.averaged_generator()
    else:
        gen = gens.get(id(model))
        if gen is None:
            gen = gens[id(model)] = model.averaged_generator()
    sizes = [d * d for d in dims]
    if gen.is_local:
        check_bytes(
            sum(12.0 * m * m * 16 for m in sizes),
            f"the local channels of dims {list(dims)}",
            "use smaller parties",
        )
        return [((k,), step_matrix(L, dt)) for k, L in enumerate(gen.local_parts())]
    _check_joint_size(dims)
    # block by block over the sparse Liouvillian's connected components (symmetry
    # sectors); a stationary projector where the slowest decay has run out
    return [(tuple(range(len(dims))), joint_step_matrix(gen, dt))]


def _channel_blocks(stages: Sequence[Stage], t: float, method, gens: dict | None = None) -> list:
    dims = stages[0].model.dims
    out = _identity_blocks(dims)
    for start, end, model in _stage_windows(stages, 0.0, t):
        out = _compose(out, _stage_blocks(model, end - start, method, gens), dims)
    return out


def _paired_to_qutip(M: np.ndarray, dims: Sequence[int]) -> qutip.Qobj:
    """Paired ``D^2 x D^2`` matrix -> QuTiP column-stacking super Qobj.

    Paired index: ``(i_0 j_0)(i_1 j_1)...`` for ``rho[i_0 i_1..., j_0 j_1...]``; QuTiP's:
    ``b D + a`` with ``a = (i_0 i_1 ...)``, ``b = (j_0 j_1 ...)``, i.e. the multi-index
    ``(j_0 ... j_{n-1}, i_0 ... i_{n-1})``.
    """
    dims = [int(d) for d in dims]
    n = len(dims)
    N = math.prod(d * d for d in dims)
    perm = [2 * k + 1 for k in range(n)] + [2 * k for k in range(n)]
    T = M.reshape([v for d in dims for v in (d, d)] * 2)
    T = T.transpose(perm + [2 * n + p for p in perm]).reshape(N, N)
    return qutip.Qobj(T, dims=_super_dims(tuple(dims)), superrep="super", copy=False)


@functools.cache
def _super_dims(dims: tuple[int, ...]) -> Dimensions:
    """qutip's parsed dims of a superoperator on ``dims`` (parsing a nested list costs
    ~4x the rest of building a small Qobj; root finders build thousands)."""
    d = list(dims)
    return Dimensions([[d, d], [d, d]])


# --------------------------------------------------------------------------- public
def propagator(
    protocol, t: float, *, method="auto", marginals: bool = False
) -> qutip.Qobj | list[qutip.Qobj]:
    r"""The averaged channel ``E_t`` of a protocol from ``tlist[0] = 0`` to ``t``.

    ``E_t = E_{stage m}(t - t_m) o ... o E_{stage 1}(t_1)``: the stages run back to back
    from 0, as in :func:`eplt.dynamics.evolve`, so ``evolve(rho0, protocol, [0, t])`` ends in
    ``E_t(rho0)``. For the exact method each stage contributes ``exp(L_avg dt)`` of its
    averaged Lindbladian; for the segment method the averaged one-segment channel to the
    power of the number of whole segments, then the remainder.

    Parameters
    ----------
    protocol : Model, or an object with ``stages()`` (:class:`eplt.baths.Environment`,
        :class:`eplt.baths.Protocol`)
    t : float
        End time, ``>= 0`` (``t = 0``: the identity channel).
    method : {"auto", "exact", "segment"} or Exact / SegmentAveraged
        As :func:`eplt.dynamics.evolve`; ``"sampled"`` is refused (it has no channel).
    marginals : bool
        Return :func:`marginal_channels` instead of the joint channel.

    Returns
    -------
    Qobj
        Superoperator in QuTiP's column stacking, ``superrep='super'``,
        ``dims [[dims, dims], [dims, dims]]`` (a list of single-party ones with
        ``marginals``). Usable with :func:`eplt.dynamics.channels.lt_error`,
        :func:`eplt.dynamics.channels.is_cptp`, :func:`qutip.to_choi`.

    Raises
    ------
    ValueError
        ``t`` negative or not finite; the sampled method; a joint superoperator larger
        than :data:`JOINT_MAX` (use ``marginals=True``).

    Examples
    --------
    A shared Poisson reset at rate 1 to ``omega (x) omega``: ``E_t = e^{-t} id +
    (1 - e^{-t}) omega (x) omega Tr``.

    >>> import math, qutip
    >>> from baths import Environment, PoissonClock, Reset
    >>> clk = PoissonClock(rate=1.0, name="clock")
    >>> omega = qutip.ket2dm(qutip.basis(2, 0))
    >>> env = Environment((2, 2), [Reset(clk, 0, omega), Reset(clk, 1, omega)])
    >>> E = propagator(env, 1.0)
    >>> rho11 = qutip.ket2dm(qutip.basis([2, 2], [1, 1]))
    >>> out = qutip.vector_to_operator(E @ qutip.operator_to_vector(rho11))
    >>> bool(abs(out[3, 3] - math.exp(-1)) < 1e-12)
    True
    """
    if marginals:
        return marginal_channels(protocol, t, method=method)
    t = _check_time(t)
    stages = stages_of(protocol)
    dims = stages[0].model.dims
    _check_joint_size(dims)
    blocks = _channel_blocks(stages, t, _method(method, stages))
    return _paired_to_qutip(_joint(blocks, dims), dims)


def _restrict(model: Model, k: int) -> Model:
    """The dynamics of party ``k`` alone: its local terms and its action of every source."""
    local = tuple(replace(lt, party=0) for lt in model.local if lt.party == k)
    sources = tuple(
        Source(s.process, tuple(replace(a, party=0) for a in s.actions if a.party == k))
        for s in model.sources
        if k in s.parties
    )
    taus = None if model.taus is None else (model.taus[k],)
    hams = None if model.hamiltonians is None else (model.hamiltonians[k],)
    return Model((model.dims[k],), local, sources, taus=taus, hamiltonians=hams)


def marginal_channels(protocol, t: float, *, method="auto") -> list[qutip.Qobj]:
    r"""Marginal channels ``rho_k -> Tr_{not k} E_t(rho)`` of every party k.

    Exact for every protocol of this package: in each realization the propagator is a
    product of local CPTP maps, so ``Tr_{not k} E_t(rho)`` depends on ``rho_k`` only and
    equals the averaged propagator of party k's own dynamics (its local terms and its
    action of every process, shared or not). Each is a ``d_k^2 x d_k^2`` superoperator;
    the joint one is never built, so this works for any number of parties.

    Parameters
    ----------
    protocol, t, method
        As :func:`propagator`.

    Returns
    -------
    list of Qobj
        One single-party superoperator per party (column stacking, ``superrep='super'``).

    Examples
    --------
    >>> import qutip
    >>> from baths import Environment, qubit_hamiltonian, thermal_bath
    >>> H = qubit_hamiltonian(1.0)
    >>> env = Environment([2] * 8, [thermal_bath(q, H, 1.0, relaxation_rate=1.0) for q in range(8)])
    >>> chans = marginal_channels(env, 2.0)
    >>> len(chans), chans[0].dims
    (8, [[[2], [2]], [[2], [2]]])
    """
    t = _check_time(t)
    return _marginal_evaluator(protocol, method)(t)


def _marginal_evaluator(protocol, method="auto"):
    """``t -> marginal_channels(protocol, t, method=method)``, with the per-party
    restriction, the method and each stage's averaged generator worked out once (root
    finders evaluate the same protocol at many times; the values are identical)."""
    stages = stages_of(protocol)
    dims = stages[0].model.dims
    parties = []
    for k, d in enumerate(dims):
        local = [Stage(st.duration, _restrict(st.model, k)) for st in stages]
        parties.append((int(d), local, _method(method, local)))
    gens: dict = {}  # keyed by id of the models held in ``parties`` (alive as long as it)

    def at(t: float) -> list[qutip.Qobj]:
        t = _check_time(t)
        return [
            _paired_to_qutip(_joint(_channel_blocks(local, t, m, gens), (d,)), (d,))
            for d, local, m in parties
        ]

    return at


def lt_time(
    protocol,
    eps: float,
    *,
    taus=None,
    t_max: float,
    n_grid: int = 65,
    method="auto",
    xtol: float = 1e-12,
) -> float:
    r"""Worst-case thermalization time: the first ``t`` after which ``lt_error(E_t) <= eps``.

    ``t_eps = inf{t : lt_error(E_s, taus) <= eps for all s in [t, t_max]}``, with
    ``lt_error`` the worst case over all inputs (:func:`eplt.dynamics.channels.lt_error`,
    from the marginal channels). "For all later times" is judged on ``n_grid``
    equally spaced times in ``[0, t_max]`` (an excursion between grid points is
    invisible); the last crossing is located by ``brentq`` to ``xtol``.

    Parameters
    ----------
    protocol : Model or object with ``stages()``
    eps : float
        Tolerance in trace distance, ``0 < eps < 1``.
    taus : Qobj or sequence of Qobj, optional
        Thermal states per party (default: the protocol's).
    t_max : float
        End of the search window (``> 0``).
    n_grid : int
        Grid points (``>= 2``).
    method, xtol
        As :func:`propagator`; absolute tolerance of the root.

    Returns
    -------
    float
        ``t_eps``; ``0.0`` when the channel is eps-LT from the start, ``inf`` when it is
        not eps-LT at ``t_max``.

    Examples
    --------
    Independent thermal resets at rate 1: ``lt_error = (1 - p_min) e^{-t}``, so
    ``t_eps = ln((1 - p_min)/eps)``.

    >>> import math
    >>> from baths import Environment, qubit_hamiltonian, thermal_reset, thermal_state
    >>> tau = thermal_state(qubit_hamiltonian(1.0), 1.0)
    >>> env = Environment((2,), [thermal_reset(0, tau, 1.0)])
    >>> p_min = 1 / (1 + math.e)
    >>> t = lt_time(env, 1e-3, t_max=20.0)
    >>> abs(t - math.log((1 - p_min) / 1e-3)) < 1e-9
    True
    """
    eps = float(eps)
    if not 0 < eps < 1:
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    t_max = _check_time(t_max)
    if t_max <= 0:
        raise ValueError(f"t_max must be > 0, got {t_max!r}")
    if not isinstance(n_grid, (int, np.integer)) or n_grid < 2:
        raise ValueError(f"n_grid must be an integer >= 2, got {n_grid!r}")
    stages = stages_of(protocol)
    if taus is None:
        taus = next((s.model.taus for s in stages if s.model.taus is not None), None)
        if taus is None:
            raise ValueError("taus must be given: the protocol names no thermal states")
        taus = [qutip.Qobj(np.asarray(x)) for x in taus]

    marg = _marginal_evaluator(protocol, method)

    def err(t: float) -> float:
        return float(lt_error(marg(t), taus))

    grid = np.linspace(0.0, t_max, int(n_grid))
    vals = np.array([err(t) for t in grid])
    bad = np.nonzero(vals > eps)[0]
    if bad.size == 0:
        return 0.0
    i = int(bad[-1])
    if i == grid.size - 1:
        return math.inf
    return float(brentq(lambda t: err(t) - eps, grid[i], grid[i + 1], xtol=xtol))

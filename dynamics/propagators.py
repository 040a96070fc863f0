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

Methods: every registered method with a channel (:meth:`eplt.dynamics.methods.Solver.channel`),
through the same dispatch as :func:`eplt.dynamics.evolve`: ``"exact"`` (white processes:
the averaged Lindbladian of each stage, exponentiated; local stages as a product of local
exponentials, the joint Liouvillian never built), ``"segment"`` (i.i.d. pulses: the
averaged one-segment channel, raised to the number of whole segments) and ``"sle"``
(Markovian signals: the stochastic Liouville evolution of each of the ``D^2`` basis
elements, up to :data:`JOINT_MAX`). ``"auto"`` chooses as :func:`eplt.dynamics.evolve`;
a method without a channel (the sampled method averages states, not maps) is refused.
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

from . import methods as _methods
from ._ltsolvers import decay_root  # public here: the root finder of lt-times
from ._solvers import JOINT_MAX, check_joint_size, joint_matrix  # noqa: F401  (JOINT_MAX: documented here)
from .certify import lt_error
from .model import Model, Source, Stage, stages_of

__all__ = ["decay_root", "lt_time", "marginal_channels", "marginal_evaluator", "propagator"]


def _check_time(t) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise TypeError(f"t must be a real number, got {type(t).__name__}") from None
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"t must lie in [0, inf), got {t!r}")
    return t


def _method(method, stages: Sequence[Stage]):
    """``(solver, settings)`` through the one dispatch; the method must have a channel."""
    solver, opts, _ = _methods.resolve(method, _methods.Task(stages=tuple(stages)), channel=True)
    return solver, opts


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
    method : {"auto", "exact", "segment", "sle", "permutation"} or a method object
        As :func:`eplt.dynamics.evolve`; ``"sampled"`` is refused (it has no channel);
        ``"permutation"`` gives the exact channel of a permutation-symmetric white model
        (the averaged Lindbladian it solves on the symmetric space).
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
    check_joint_size(dims)
    solver, opts = _method(method, stages)
    return _paired_to_qutip(joint_matrix(solver.channel(opts, stages, t), dims), dims)


def _restrict(model: Model, k: int) -> Model:
    """The dynamics of party ``k`` alone: its local terms and its action of every source."""
    local = tuple(replace(lt, party=0) for lt in model.local if lt.party == k)
    sources = tuple(
        Source(s.process, tuple(replace(a, party=0) for a in s.actions if a.party == k), s.label)
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
    return marginal_evaluator(protocol, method=method)(t)


def marginal_evaluator(protocol, *, method="auto"):
    r"""``t -> marginal_channels(protocol, t, method=method)``, prepared once.

    The per-party restriction, the method and each stage's averaged generator are worked
    out once, so that root finders (thermalization times, certified twirl times) can
    evaluate the same protocol at many times; the values are those of
    :func:`marginal_channels`.

    Examples
    --------
    >>> from baths import Environment, qubit_hamiltonian, thermal_bath
    >>> env = Environment([2, 2], [thermal_bath(q, qubit_hamiltonian(1.0), 1.0, relaxation_rate=1.0) for q in (0, 1)])
    >>> at = marginal_evaluator(env)
    >>> [m.dims for m in at(0.5)] == [m.dims for m in marginal_channels(env, 0.5)]
    True
    """
    stages = stages_of(protocol)
    dims = stages[0].model.dims
    parties = []
    for k, d in enumerate(dims):
        local = [Stage(st.duration, _restrict(st.model, k)) for st in stages]
        parties.append((int(d), local, *_method(method, local)))
    gens: dict = {}  # keyed by id of the models held in ``parties`` (alive as long as it)

    def at(t: float) -> list[qutip.Qobj]:
        t = _check_time(t)
        return [
            _paired_to_qutip(joint_matrix(solver.channel(opts, local, t, gens), (d,)), (d,))
            for d, local, solver, opts in parties
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

    marg = marginal_evaluator(protocol, method=method)

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

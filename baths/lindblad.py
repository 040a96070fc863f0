r"""Local terms from QuTiP objects: bring a model written for :func:`qutip.mesolve`.

:func:`lindblad` reads a Hamiltonian and collapse operators exactly as ``mesolve`` does
(hbar = 1; each collapse operator carries the square root of its rate), or a ready-made
Liouvillian superoperator (qutip's column-stacking convention, any ``superrep``), and
returns a local term for one party, usable in an :class:`~eplt.baths.Environment` with every
other term. The result is the same generator ``qutip.liouvillian(H, c_ops)``: the
expectations of a model built here match ``mesolve`` on every operator (a test checks all
Paulis, including ``sigma_y``, whose sign a row/column stacking mix-up would flip).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import qutip
from eplt.dynamics._checks import finite_generator, finite_operator
from eplt.dynamics.superop import _dissipator, _hamiltonian_superop, as_engine_superop

from .environment import _Local, _party

__all__ = ["lindblad"]


def _operator(x, what: str) -> np.ndarray:
    if isinstance(x, qutip.Qobj):
        if not x.isoper:
            raise TypeError(f"{what} must be an operator, got a Qobj of type {x.type!r}")
        a = x.full()
    else:
        a = np.asarray(x, dtype=complex)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{what} must be a square operator, got shape {a.shape}")
    return finite_operator(a, what)


def _is_timedep(x) -> bool:
    """QuTiP's time-dependent formats: a QobjEvo, or a list ``[H0, [H1, f], ...]``."""
    return isinstance(x, qutip.QobjEvo) or isinstance(x, (list, tuple))


def _evo(x, what: str, args, tlist) -> qutip.QobjEvo:
    try:
        return x if isinstance(x, qutip.QobjEvo) else qutip.QobjEvo(list(x), args=args, tlist=tlist)
    except Exception as err:  # qutip's own message says what is wrong with the format
        raise ValueError(f"{what}: not a QuTiP time-dependent operator ({err})") from None


def lindblad(
    party: int,
    H=None,
    c_ops: Sequence = (),
    *,
    name: str | None = None,
    args: dict | None = None,
    tlist=None,
) -> _Local:
    r"""A local Lindblad term on ``party``, read as :func:`qutip.mesolve` reads ``H, c_ops``.

    The generator is

    .. math:: \mathcal{L}\rho = -i[H, \rho] + \sum_k \left(C_k \rho C_k^\dagger
              - \tfrac12 \{C_k^\dagger C_k, \rho\}\right)

    (hbar = 1; rates are inside the ``C_k``, e.g. ``sqrt(gamma) * destroy(d)``), the same
    superoperator as ``qutip.liouvillian(H, c_ops)``.

    Parameters
    ----------
    party : int
        The party (index into the environment's ``dims``) the term acts on.
    H : Qobj, optional
        The party's Hamiltonian (a Hermitian ``d x d`` operator; it also becomes the
        party's energy operator for the ``energy`` and ``heat_current`` observables), or a
        Liouvillian superoperator in qutip's convention (``superrep`` 'super', 'choi' or
        'chi'; converted with :func:`qutip.to_super`), as ``mesolve`` accepts either.
        **Time-dependent** ``H``, in QuTiP's formats: a :class:`qutip.QobjEvo`, or a list
        ``[H0, [H1, f1], ...]`` with coefficients ``f(t)`` / ``f(t, args)``, strings, or
        arrays sampled on ``tlist`` (interpolated as ``mesolve`` does: the same
        :class:`qutip.QobjEvo` is built). Time is the time of :func:`eplt.dynamics.evolve`'s
        ``tlist`` (absolute, not from the stage start). Such terms are integrated by the
        exact method only, with fourth-order commutator-free Magnus substeps and step
        doubling, so that each density-matrix entry is accurate to about
        ``Exact(atol=1e-10)`` per output interval (see :class:`eplt.dynamics.exact.Exact`).
    c_ops : sequence of Qobj
        Collapse operators (``d x d``), or superoperators added to the generator as they
        are (as ``mesolve`` does); an item may be time-dependent in the same formats.
    name : str, optional
        Label of the term (default ``"lindblad[party]"``).
    args : dict, optional
        Arguments of the coefficient functions (``f(t, args)``), as for ``mesolve``.
    tlist : array_like, optional
        Times of array-valued coefficients (``mesolve`` takes them from its ``tlist``).

    Returns
    -------
    term
        A deterministic local term for :class:`~eplt.baths.Environment`; its dimension is
        checked against the party's when the environment is built.

    Raises
    ------
    TypeError
        For raw arrays given as superoperators or non-operator inputs.
    ValueError
        For operators of mismatched dimensions or a non-Hermitian ``H``.

    Examples
    --------
    >>> import numpy as np, qutip
    >>> from baths import Environment
    >>> from dynamics import evolve
    >>> term = lindblad(0, 0.5 * qutip.sigmaz(), [np.sqrt(0.1) * qutip.destroy(2)])
    >>> res = evolve(qutip.basis(2, 1), Environment((2,), [term]), [0.0, 1.0],
    ...              e_ops=[qutip.num(2)])
    >>> round(float(res.expect[0][-1]), 6) == round(float(np.exp(-0.1)), 6)
    True
    """
    party = _party(party)
    if H is None and not len(c_ops):
        raise ValueError("lindblad needs H, c_ops or both")
    if isinstance(c_ops, (qutip.Qobj, qutip.QobjEvo)):
        c_ops = [c_ops]
    parts: list[np.ndarray] = []
    ops: list[np.ndarray] = []  # the operators given as matrices (for the overflow message)
    timed: list = []
    energy = None
    if _is_timedep(H):
        timed.append(_timed_part(_evo(H, f"lindblad on party {party}: H", args, tlist), party, "H"))
    elif H is not None:
        if isinstance(H, qutip.Qobj) and H.issuper:
            parts.append(as_engine_superop(H, what=f"lindblad on party {party}: H"))
        else:
            Ha = _operator(H, f"lindblad on party {party}: H")
            scale = max(1.0, float(np.abs(Ha).max()))
            if not np.allclose(Ha, Ha.conj().T, atol=1e-12 * scale, rtol=0):
                raise ValueError(f"lindblad on party {party}: H must be Hermitian")
            ops.append(Ha)
            parts.append(_hamiltonian_superop(Ha))
            energy = Ha
    for i, c in enumerate(c_ops):
        what = f"lindblad on party {party}: c_ops[{i}]"
        if _is_timedep(c):
            timed.append(_timed_part(_evo(c, what, args, tlist), party, f"c_ops[{i}]"))
        elif isinstance(c, qutip.Qobj) and c.issuper:
            parts.append(as_engine_superop(c, what=what))
        else:
            ops.append(_operator(c, what))
            with np.errstate(over="ignore", invalid="ignore"):  # overflow refused below
                parts.append(_dissipator(ops[-1]))
    shapes = {p.shape for p in parts} | {(d * d, d * d) for d, _ in timed}
    if len(shapes) != 1:
        dims = sorted({math.isqrt(s[0]) for s in shapes})
        raise ValueError(
            f"lindblad on party {party}: H and c_ops act on different dimensions {dims}"
        )
    (shape,) = shapes
    with np.errstate(over="ignore", invalid="ignore"):
        S = np.sum(parts, axis=0) if parts else np.zeros(shape, dtype=complex)
    finite_generator(S, f"lindblad on party {party}", ops)
    fs = [f for _, f in timed]
    timedep = None if not fs else (lambda t: sum(f(t) for f in fs))
    return _Local(name or f"lindblad[{party}]", party, S, H=energy, timedep=timedep)


def _timed_part(evo: qutip.QobjEvo, party: int, what: str):
    """``(d, t -> engine matrix)`` of a time-dependent Hamiltonian, collapse operator
    or Liouvillian (a QobjEvo, evaluated by qutip at each time)."""
    label = f"lindblad on party {party}: {what}"
    if evo.issuper:
        d = math.isqrt(evo.shape[0])
        return d, (lambda t: as_engine_superop(evo(t), d, what=label))
    if not evo.isoper or evo.shape[0] != evo.shape[1]:
        raise ValueError(f"{label} must be a square operator, got shape {evo.shape}")
    d = evo.shape[0]
    if what == "H":
        return d, (lambda t: _hamiltonian_superop(evo(t).full()))
    return d, (lambda t: _dissipator(evo(t).full()))

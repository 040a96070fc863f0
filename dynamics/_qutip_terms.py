r"""Local terms from QuTiP objects (private: the body of :meth:`LocalTerm.from_qutip
<eplt.dynamics.model.LocalTerm.from_qutip>` and so of :func:`eplt.baths.lindblad`).

:func:`from_qutip` reads a Hamiltonian and collapse operators exactly as ``mesolve`` does
(hbar = 1; each collapse operator carries the square root of its rate), or a ready-made
Liouvillian superoperator (qutip's column-stacking convention, ``superrep`` 'super',
'choi' or 'chi'), and
returns a local term for one party, usable in an :class:`~eplt.baths.Environment` with every
other term. The result is the same generator ``qutip.liouvillian(H, c_ops)``: the
expectations of a model built here match ``mesolve`` on every operator (a test checks all
Paulis, including ``sigma_y``, whose sign a row/column stacking mix-up would flip).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import qutip
import scipy.sparse as sp

from ._checks import finite_generator, finite_operator
from ._tdterms import TimeDependence, compile_qobjevo, qutip_generator
from .model import LocalTerm
from .superop import (
    _dissipator_any,
    _hamiltonian_superop_any,
    _sum_superops,
    as_engine_superop,
)

__all__ = ["from_qutip"]


def _operator(x, what: str) -> np.ndarray:
    if isinstance(x, qutip.Qobj):
        if not x.isoper:
            raise TypeError(f"{what} must be an operator, got a Qobj of type {x.type!r}")
        _check_one_party(x, what)
        a = x.full()
    elif callable(x):
        raise TypeError(_FUNCTION_MESSAGE.format(what=what))
    else:
        a = np.asarray(x, dtype=complex)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{what} must be a square operator, got shape {a.shape}")
    return finite_operator(a, what)


_FUNCTION_MESSAGE = (
    "{what} is a Python function; give QuTiP's list format [H0, [H1, f]] (f(t) or "
    "f(t, args) returning a number) or a qutip.QobjEvo"
)


def _check_one_party(x, what: str) -> None:
    """Refuse a Qobj or QobjEvo whose dims name several tensor factors (a term on two
    parties)."""
    dims = x.dims[0]
    if x.issuper:  # a superoperator's dims are [[space dims], [space dims]]
        dims = dims[0]
    if len(dims) > 1:
        raise ValueError(
            f"{what} acts on a tensor product of dims {list(dims)}; every term must be local "
            "to one party (a coupled pair can be modelled as one party of the product "
            f"dimension {int(np.prod(dims))}, with the operator as a single-space Qobj)"
        )


def _is_timedep(x) -> bool:
    """QuTiP's time-dependent formats: a QobjEvo, or a list ``[H0, [H1, f], ...]``."""
    return isinstance(x, qutip.QobjEvo) or isinstance(x, (list, tuple))


def _evo(x, what: str, args, tlist) -> qutip.QobjEvo:
    """The QobjEvo ``mesolve`` builds: ``QobjEvo(x, args=args, tlist=tlist)`` (for a
    QobjEvo a copy whose arguments ``args`` update, as ``mesolve(..., args=...)`` does)."""
    if isinstance(x, (list, tuple)) and len(x) == 0:
        # (qutip.QobjEvo([]) crashes the interpreter in QuTiP 5.3)
        raise ValueError(
            f"{what}: an empty list; give an operator, [H0, [H1, f], ...] or a QobjEvo"
        )
    if isinstance(x, (list, tuple)) and tlist is None:
        for j, e in enumerate(x):
            if isinstance(e, (list, tuple)) and len(e) == 2 and np.ndim(e[1]) == 1:
                raise ValueError(
                    f"{what}: the coefficient of element {j} is an array of samples; give "
                    "tlist= (the times of the samples), as mesolve takes its tlist"
                )
    try:
        evo = qutip.QobjEvo(x if isinstance(x, qutip.QobjEvo) else list(x), args=args, tlist=tlist)
    except Exception as err:  # qutip's own message says what is wrong with the format
        raise ValueError(f"{what}: not a QuTiP time-dependent operator ({err})") from None
    if evo._feedback_functions or evo._solver_only_feedback:
        names = sorted({*evo._feedback_functions, *evo._solver_only_feedback})
        raise ValueError(
            f"{what}: a QobjEvo with feedback (args {names} depend on the state, e.g. "
            "MESolver.ExpectFeedback) is not supported; eplt propagates channels, which do "
            "not depend on the state"
        )
    if not (evo.isoper or evo.issuper) or evo.shape[0] != evo.shape[1]:
        raise ValueError(f"{what} must be a square operator, got shape {evo.shape}")
    _check_one_party(evo, what)
    _check_samples(evo, what, tlist)
    return evo


def _check_samples(evo: qutip.QobjEvo, what: str, tlist) -> None:
    """Refuse a time-dependent term that is not finite, or an ``H(t)`` that is not
    Hermitian, at sample times (``tlist``'s, else 0..10): the engine integrates Hermitian
    Hamiltonians (a complex coefficient on a Hermitian operator, e.g. ``exp(1j t)``, is
    not one; put the Hermitian conjugate pair in, as ``[[A, f], [A.dag(), conj(f)]]``)."""
    ts = np.linspace(0.0, 10.0, 7) if tlist is None else np.asarray(tlist, dtype=float)
    ts = ts[np.linspace(0, ts.size - 1, min(ts.size, 9)).astype(int)]
    is_h = what.endswith(": H") and not evo.issuper
    for t in ts:
        m = evo(float(t)).full()
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{what} is not finite at t = {t:g} (a coefficient gave inf or nan)")
        scale = max(1.0, float(np.abs(m).max()))
        if is_h and not np.allclose(m, m.conj().T, atol=1e-12 * scale, rtol=0):
            raise ValueError(
                f"{what}(t) must be Hermitian at every time; at t = {t:g} it is not (a complex "
                "coefficient on a Hermitian operator, or a non-Hermitian operator: give the "
                "Hermitian combination, e.g. [[A, f], [A.dag(), conj(f)]])"
            )


def from_qutip(
    party: int,
    H=None,
    c_ops: Sequence = (),
    *,
    name: str | None = None,
    args: dict | None = None,
    tlist=None,
) -> LocalTerm:
    r"""The local term ``qutip.mesolve`` reads from ``H, c_ops`` on ``party``: the
    generator ``-i[H, .] + sum_k D[C_k]`` (also time-dependent, in QuTiP's formats, with
    ``args``/``tlist`` as mesolve takes them). The public entry points are
    :meth:`eplt.dynamics.model.LocalTerm.from_qutip` and :func:`eplt.baths.lindblad`,
    whose docstring lists the formats, conventions and refusals.

    Examples
    --------
    >>> import qutip
    >>> from_qutip(0, 0.5 * qutip.sigmaz(), [0.3 * qutip.destroy(2)]).superop.shape
    (4, 4)
    """
    if not isinstance(party, (int, np.integer)) or isinstance(party, bool) or party < 0:
        raise ValueError(f"party must be an integer >= 0, got {party!r}")
    party = int(party)
    if callable(c_ops) and not isinstance(c_ops, (qutip.Qobj, qutip.QobjEvo)):
        raise TypeError(_FUNCTION_MESSAGE.format(what=f"lindblad on party {party}: c_ops"))
    if H is None and not len(c_ops):
        raise ValueError("lindblad needs H, c_ops or both")
    if isinstance(c_ops, (qutip.Qobj, qutip.QobjEvo)):
        c_ops = [c_ops]
    if args is not None and not isinstance(args, dict):
        raise TypeError(f"lindblad: args must be a dict, got {type(args).__name__}")
    parts: list[np.ndarray] = []
    ops: list[np.ndarray] = []  # the operators given as matrices (for the overflow message)
    timed: list[TimeDependence] = []
    qparts: list = []  # the same parts in qutip's form (for qutip's integrators)
    energy = None

    def add_timed(x, what, kind):
        evo = _evo(x, what, args, tlist)
        const, td = compile_qobjevo(evo, kind, what)
        parts.append(const)
        if td is not None:
            timed.append(td)
        else:
            qparts.append(qutip_generator(evo, kind))

    what_H = f"lindblad on party {party}: H"
    if _is_timedep(H):
        add_timed(H, what_H, "super" if _issuper_evo(H) else "H")
    elif H is not None:
        if isinstance(H, qutip.Qobj) and H.issuper:
            _check_one_party(H, what_H)
            parts.append(as_engine_superop(H, what=what_H, sparse=True))
            qparts.append(H)
        else:
            Ha = _operator(H, what_H)
            scale = max(1.0, float(np.abs(Ha).max()))
            if not np.allclose(Ha, Ha.conj().T, atol=1e-12 * scale, rtol=0):
                raise ValueError(f"lindblad on party {party}: H must be Hermitian")
            ops.append(Ha)
            parts.append(_hamiltonian_superop_any(Ha))
            qparts.append(H)
            energy = Ha
    for i, c in enumerate(c_ops):
        what = f"lindblad on party {party}: c_ops[{i}]"
        if _is_timedep(c):
            add_timed(c, what, "super" if _issuper_evo(c) else "c_op")
        elif isinstance(c, qutip.Qobj) and c.issuper:
            _check_one_party(c, what)
            parts.append(as_engine_superop(c, what=what, sparse=True))
            qparts.append(("super", c))
        else:
            ops.append(_operator(c, what))
            with np.errstate(over="ignore", invalid="ignore"):  # overflow refused below
                parts.append(_dissipator_any(ops[-1]))
            qparts.append(("c_op", c))
    shapes = {p.shape for p in parts} | {(td.dim**2, td.dim**2) for td in timed}
    if len(shapes) != 1:
        dims = sorted({math.isqrt(s[0]) for s in shapes})
        raise ValueError(
            f"lindblad on party {party}: H and c_ops act on different dimensions {dims}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        S = _sum_superops(parts)  # sparse CSR for large parties
    finite_generator(S.data if sp.issparse(S) else S, f"lindblad on party {party}", ops)
    timedep = None
    for td in timed:
        timedep = td if timedep is None else timedep + td
    if timedep is not None and timedep.qutip_term is not None:
        # the whole term as mesolve builds it: the QobjEvos' generators and the rest
        rest = [_qutip_part(q) for q in qparts]
        timedep = replace(timedep, qutip_term=sum(rest, timedep.qutip_term))
    return LocalTerm(
        name or f"lindblad[{party}]", party, superop=S, hamiltonian=energy, timedep=timedep
    )


def _qutip_part(q):
    """A constant part of a term in qutip's form: a generator already (QobjEvo), a
    Hamiltonian (Qobj or array), a superoperator, ``("c_op", C)`` or ``("super", S)``."""
    if isinstance(q, qutip.QobjEvo):
        return q
    if isinstance(q, tuple):
        kind, x = q
        x = x if isinstance(x, qutip.Qobj) else qutip.Qobj(np.asarray(x, dtype=complex))
        return qutip_generator(x, kind)
    if isinstance(q, qutip.Qobj) and q.issuper:
        return qutip_generator(q, "super")
    H = q if isinstance(q, qutip.Qobj) else qutip.Qobj(np.asarray(q, dtype=complex))
    return qutip_generator(H, "H")


def _issuper_evo(x) -> bool:
    """True for a time-dependent superoperator (a QobjEvo or list of superoperators)."""
    if isinstance(x, qutip.QobjEvo):
        return x.issuper
    for e in x:
        q = e[0] if isinstance(e, (list, tuple)) else e
        if isinstance(q, (qutip.Qobj, qutip.QobjEvo)):
            return q.issuper
    return False

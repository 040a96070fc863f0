r"""Local terms from QuTiP objects: bring a model written for :func:`qutip.mesolve`.

:func:`lindblad` reads a Hamiltonian and collapse operators exactly as ``mesolve`` does
(hbar = 1; each collapse operator carries the square root of its rate), or a ready-made
Liouvillian superoperator (qutip's column-stacking convention, ``superrep`` 'super',
'choi' or 'chi'), and
returns a local term for one party, usable in an :class:`~eplt.baths.Environment` with every
other term. The result is the same generator ``qutip.liouvillian(H, c_ops)``: the
expectations of a model built here match ``mesolve`` on every operator (a test checks all
Paulis, including ``sigma_y``, whose sign a row/column stacking mix-up would flip).
It is built by the public constructor :meth:`eplt.dynamics.model.LocalTerm.from_qutip`.
"""

from __future__ import annotations

from collections.abc import Sequence

from eplt.dynamics.model import LocalTerm

from .environment import _party

__all__ = ["lindblad"]


def lindblad(
    party: int,
    H=None,
    c_ops: Sequence = (),
    *,
    name: str | None = None,
    args: dict | None = None,
    tlist=None,
) -> LocalTerm:
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
        'chi', the representations supported; converted with :func:`qutip.to_super`), as
        ``mesolve`` accepts either.
        **Time-dependent** ``H``, in QuTiP's formats: a :class:`qutip.QobjEvo`, or a list
        ``[H0, [H1, f1], ...]`` with coefficients ``f(t)`` / ``f(t, args)``, strings, or
        arrays sampled on ``tlist`` (interpolated as ``mesolve`` does: the same
        :class:`qutip.QobjEvo` is built, ``QobjEvo(H, args=args, tlist=tlist)``; for a
        QobjEvo that is a copy whose arguments ``args`` update, as in ``mesolve``). Time is
        the time of :func:`eplt.dynamics.evolve`'s ``tlist`` (absolute, not from the stage
        start). Such terms are integrated by the exact method only, with error control to
        ``Exact(atol=..., rtol=...)`` (see :class:`eplt.dynamics.exact.Exact`). Out of
        scope, refused with one message: a bare Python function as ``H`` (use the list
        format or a QobjEvo), a QobjEvo with feedback (arguments that depend on the
        state, such as ``MESolver.ExpectFeedback``), and operators on several tensor
        factors (every term is local to one party; a coupled pair is one party of the
        product dimension).
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
        For raw arrays given as superoperators, non-operator inputs or a Python function
        as ``H``.
    ValueError
        For operators of mismatched dimensions, a non-Hermitian ``H``, operators on
        several tensor factors, a QobjEvo with feedback, an array coefficient without
        ``tlist``, or a superoperator representation other than 'super', 'choi', 'chi'.

    Examples
    --------
    >>> import numpy as np, qutip
    >>> from eplt.baths import Environment
    >>> from eplt.dynamics import evolve
    >>> term = lindblad(0, 0.5 * qutip.sigmaz(), [np.sqrt(0.1) * qutip.destroy(2)])
    >>> res = evolve(qutip.basis(2, 1), Environment((2,), [term]), [0.0, 1.0],
    ...              e_ops=[qutip.num(2)])
    >>> round(float(res.expect[0][-1]), 6) == round(float(np.exp(-0.1)), 6)
    True
    """
    return LocalTerm.from_qutip(_party(party), H, c_ops, name=name, args=args, tlist=tlist)

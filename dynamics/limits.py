r"""Memory and thread limits shared by the engine, the SDPs and the studies.

One rule for how much memory a run may use (:func:`available_memory`: the smallest of
``EPLT_MEMORY_LIMIT``, the cgroup limit and ``MemAvailable``), one error when an estimate
exceeds it (:class:`MemoryLimitError`, raised *before* anything of that size is
allocated), and one way to keep numerical kernels on a single BLAS thread
(:func:`blas_single_threaded`, as :func:`eplt.dynamics.evolve` and the bounds SDPs do:
on a shared 2-core machine threaded BLAS on small matrices costs several times more CPU).

Examples
--------
>>> from eplt.dynamics.limits import fmt_bytes, MemoryLimitError
>>> fmt_bytes(3 * 2**30)
'3.0 GiB'
>>> issubclass(MemoryLimitError, ValueError) and issubclass(MemoryLimitError, MemoryError)
True
"""

from __future__ import annotations

from ._memory import MemoryLimitError, available_memory, check_bytes, fmt_bytes, parse_size
from ._symsdp import blas_single_threaded, one_blas_thread

__all__ = [
    "MemoryLimitError",
    "available_memory",
    "blas_single_threaded",
    "check_bytes",
    "fmt_bytes",
    "one_blas_thread",
    "parse_size",
]

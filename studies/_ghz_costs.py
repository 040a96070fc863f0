"""Memory and work estimates of the ``ghz`` study (:func:`eplt.studies.ghz.memory_estimate`,
:func:`eplt.studies.ghz.work_estimate`), measured cost models."""

from __future__ import annotations

from ._ghz_scaling import product_sum_seconds, scaling_bytes, scaling_seconds

__all__ = ["memory_estimate", "work_estimate"]


def memory_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """Peak bytes of :func:`run` beyond the interpreter and the parameters driving it
    (measured: ~250 MB for the scan to n_max = 6..8 (sparse joint twirl generator), ~100 MB
    for an n = 8 series; rounded up)."""
    scan = 4e8 if p["n_max"] >= 6 else 5e7
    return (
        scan
        + 8e3 * 4 ** p["n"]
        + 2e3 * p["n_times"]
        + scaling_bytes(p["n_scale_max"])
        + 2e5 * p["n_product_sum"],  # the zero-sum protocol's objects, ~0.2 MB per qubit
        ("n", "n_max", "n_times", "n_scale_max", "n_product_sum"),
    )


#: Measured CPU seconds of the fidelity-vs-n scan's step to m qubits (three saved times,
#: both scenarios): m = 5 is the largest dense joint Liouvillian (1024 x 1024, Pade expm).
_SCAN_SECONDS = {2: 0.1, 3: 0.1, 4: 0.1, 5: 5.5, 6: 0.3, 7: 0.5, 8: 1.5}


def work_estimate(p: dict) -> tuple[float, tuple[str, ...]]:
    """CPU seconds of :func:`run` and the parameters driving them.

    The series (both scenarios, plus the two twirl-stage distances) propagate the
    4^n-dimensional state: up to n = 5 with a dense joint Liouvillian of size 16^n (set-up
    ~10 s at n = 5, growing like its cube; ~2 ms per saved time), from n = 6 with sparse
    Krylov steps (~14 ms per saved time at n = 6, ~11x per added qubit: the 4^n state
    times the growing norm of the generator); the scan adds a fixed cost per m <= n_max
    (:data:`_SCAN_SECONDS`). Assumes the automatic ``t_max`` (1.5 t*): a much longer t_max
    makes each sparse step dearer.

    Measured 2026-12-01 on a 2-core Xeon VM (``time.process_time``, one or two runs in
    fresh processes, n_max = 0 unless said): 0.2 s at n = 2..3, 10.2 s at n = 5,
    0.65 s / 4.8 s at n = 6 with 11 / 301 times, 2.4 / 15.8 / 48.2 s at n = 7 with
    11 / 101 / 301 times, 22 s at n = 8 with 11 times; the scan 5.4 s to n_max = 5,
    6.1 s to 8. Rounded up."""
    n, times = p["n"], p["n_times"] + 2  # + t_twirl and t*
    if n <= 5:
        seconds = 0.2 + 10.0 * 64.0 ** (n - 5) + 2e-3 * 4.0 ** (n - 5) * times
    else:
        seconds = 0.5 * 3.0 ** (n - 6) + 0.0145 * 11.0 ** (n - 6) * times
    seconds += sum(_SCAN_SECONDS[m] for m in range(2, p["n_max"] + 1))
    seconds += scaling_seconds(p["n_scale_max"]) + product_sum_seconds(p["n_product_sum"])
    return seconds, ("n", "n_times", "n_max", "n_scale_max", "n_product_sum")

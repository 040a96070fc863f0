"""Sums of product operators in the log domain (private): the arithmetic of
:class:`eplt.dynamics.productsum.ProductOperatorSum` on its coefficients ``logc`` (T,) and
factors ``F`` (T, n, 4) (row-major one-qubit operators): log products over the parties,
normalisation and merging of equal terms, and the trace, GHZ overlap, one-qubit marginals
and purity of ``sum_t exp(logc_t) (x)_p F_tp``.
"""

from __future__ import annotations

import numpy as np


def _logprod(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_p log x_p`` over the nonzero entries of the last axis, and the zero count."""
    zero = x == 0
    return np.log(np.where(zero, 1.0, x)).sum(axis=-1), zero.sum(axis=-1)


def _normalize(logc: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale every factor to a largest entry of 1 (into ``logc``); drop vanishing terms."""
    scale = np.abs(F).max(axis=2)  # (T, n)
    keep = (scale > 0).all(axis=1) & np.isfinite(logc.real) & (logc.real > -np.inf)
    F, scale, logc = F[keep], scale[keep], logc[keep]
    F = F / scale[..., None]
    logc = logc + np.log(scale).sum(axis=1)
    if logc.size:
        keep = logc.real > logc.real.max() - 745.0  # below 1e-324 of the largest term
        logc, F = logc[keep], F[keep]
    return logc, F


def _merge(logc: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add the coefficients of terms with equal factors (to 1e-15; factors are normalised)."""
    out_l: list = []
    out_F: list = []
    for lc, f in zip(logc, F):
        for j, g in enumerate(out_F):
            if np.abs(f - g).max() <= 1e-15:
                m = max(out_l[j].real, lc.real)
                s = np.exp(out_l[j] - m) + np.exp(lc - m)
                out_l[j] = np.log(s) + m if s != 0 else -np.inf + 0j
                break
        else:
            out_l.append(complex(lc))
            out_F.append(f)
    if not out_l:
        return np.zeros(0, dtype=complex), np.zeros((0,) + F.shape[1:], dtype=complex)
    return _normalize(np.array(out_l), np.stack(out_F))


def _sum_exp(logs: np.ndarray, ok: np.ndarray) -> complex:
    return complex(np.where(ok, np.exp(np.where(ok, logs, 0)), 0).sum())


def _trace(logc, F) -> float:
    lt, zt = _logprod(F[..., 0] + F[..., 3])
    return _sum_exp(logc + lt, zt == 0).real


def _ghz(logc, F) -> float:
    total = 0.0
    for mu in range(4):
        lp, z = _logprod(F[..., mu])
        total += _sum_exp(logc + lp, z == 0).real
    return total / 2


def _marginals(logc, F) -> np.ndarray:
    """``(n, 4)`` row-major one-qubit marginals."""
    tr = F[..., 0] + F[..., 3]
    lt, zt = _logprod(tr)
    zero = tr == 0
    ok = (zt[:, None] == 0) | ((zt[:, None] == 1) & zero)
    expo = logc[:, None] + lt[:, None] - np.log(np.where(zero, 1.0, tr))
    w = np.where(ok, np.exp(np.where(ok, expo, 0)), 0)
    return (w[..., None] * F).sum(axis=0)


def _purity(logc, F) -> float:
    ov = np.einsum("ipm,jpm->ijp", F, F.conj())
    lp, z = _logprod(ov)
    return _sum_exp(logc[:, None] + logc.conj()[None, :] + lp, z == 0).real

"""Inverse-CDF sampling from many categorical distributions at once."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.kernels._config import FASTMATH


@njit(cache=True, fastmath=FASTMATH)
def _categorical_kernel(cum, rows, u, out):
    """out[i] = first j with cum[rows[i], j] > u[i] * cum[rows[i], -1] (binary search).

    cum : float64[r, m], non-decreasing rows with a positive last entry.
    rows : int64[n]; u : float64[n] in [0, 1); out : int64[n].
    Categories of zero weight (flat steps of cum) are never chosen.
    """
    m = cum.shape[1]
    for i in range(rows.shape[0]):
        r = rows[i]
        target = u[i] * cum[r, m - 1]
        lo = 0
        hi = m - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[r, mid] > target:
                hi = mid
            else:
                lo = mid + 1
        out[i] = lo


def categorical(weights: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw one category per item from the weight row it names.

    Parameters
    ----------
    weights : ndarray of float, shape (r, m)
        Non-negative weights, one distribution per row (need not sum to 1).
    rows : ndarray of int, shape (n,)
        Which row each item draws from.
    u : ndarray of float, shape (n,)
        Uniform numbers in [0, 1), one per item (the caller's random stream).

    Returns
    -------
    ndarray of int64, shape (n,)
        Category index of each item.

    Raises
    ------
    ValueError
        On negative or non-finite weights, a used row with zero total weight,
        a row index out of range, or u outside [0, 1) (NaN included).
    """
    w = np.asarray(weights, dtype=np.float64)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    u = np.ascontiguousarray(u, dtype=np.float64)
    if w.ndim != 2 or rows.shape != u.shape:
        raise ValueError(
            f"weights must be 2-D and rows, u of one length; got {w.shape}, {rows.shape}, {u.shape}"
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    if not ((u >= 0) & (u < 1)).all():
        raise ValueError("u must lie in [0, 1)")
    if rows.size and (rows.min() < 0 or rows.max() >= w.shape[0]):
        raise ValueError(f"rows must index the {w.shape[0]} weight rows")
    cum = np.cumsum(w, axis=1)
    if rows.size and (cum[:, -1] <= 0)[rows].any():  # a gather, no sort: rows has one entry per item
        raise ValueError("a row that is drawn from has zero total weight")
    out = np.empty(rows.shape[0], dtype=np.int64)
    _categorical_kernel(np.ascontiguousarray(cum), rows, u, out)
    return out

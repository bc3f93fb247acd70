"""Plane geometry for incident placement."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.kernels._config import FASTMATH


@njit(cache=True, fastmath=FASTMATH)
def _points_in_polygon_kernel(px, py, vx, vy, out):
    """Even-odd ray casting. px, py: float64[n] km; vx, vy: float64[m] polygon vertices (open ring).

    out : bool[n], True where the point lies inside. Points exactly on an edge may go either way.
    """
    n = px.shape[0]
    m = vx.shape[0]
    for i in range(n):
        x = px[i]
        y = py[i]
        inside = False
        j = m - 1
        for v in range(m):
            yi = vy[v]
            yj = vy[j]
            if (yi > y) != (yj > y):
                x_cross = vx[v] + (y - yi) * (vx[j] - vx[v]) / (yj - yi)
                if x < x_cross:
                    inside = not inside
            j = v
        out[i] = inside


def points_in_polygon(x: np.ndarray, y: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which points lie inside a simple polygon.

    Parameters
    ----------
    x, y : ndarray of float, shape (n,)
        Point coordinates in km.
    polygon : ndarray of float, shape (m, 2)
        Vertices in order, m >= 3; the ring is closed implicitly.

    Returns
    -------
    ndarray of bool, shape (n,)

    Raises
    ------
    ValueError
        If shapes do not match or the polygon has fewer than 3 vertices.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    poly = np.asarray(polygon, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of one length, got {x.shape}, {y.shape}")
    if poly.ndim != 2 or poly.shape[1] != 2 or poly.shape[0] < 3:
        raise ValueError(f"polygon must have shape (m >= 3, 2), got {poly.shape}")
    out = np.empty(x.shape[0], dtype=np.bool_)
    _points_in_polygon_kernel(
        x, y, np.ascontiguousarray(poly[:, 0]), np.ascontiguousarray(poly[:, 1]), out
    )
    return out

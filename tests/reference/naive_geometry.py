"""Reference for sim.kernels.geometry: even-odd crossing count with orientation tests, one point at a time."""

from __future__ import annotations

import numpy as np


def _cross(ax: float, ay: float, bx: float, by: float, px: float, py: float) -> float:
    """z of (b - a) x (p - a): positive when p lies left of the directed line a -> b."""
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


def point_in_polygon(px: float, py: float, polygon) -> bool:
    """Even-odd rule: count edges crossed by the ray from (px, py) towards +x.

    An edge counts when it straddles the ray's height (half-open in y, so a
    vertex is counted once) and the point lies on its left (upward edge) or
    right (downward edge), i.e. the crossing is to the right of the point.
    """
    pts = [(float(x), float(y)) for x, y in polygon]
    inside = False
    for i in range(len(pts)):
        ax, ay = pts[i]
        bx, by = pts[(i + 1) % len(pts)]
        side = _cross(ax, ay, bx, by, px, py)
        upward = ay <= py < by and side > 0
        downward = by <= py < ay and side < 0
        if upward or downward:
            inside = not inside
    return inside


def points_in_polygon(x, y, polygon) -> np.ndarray:
    """Vector of :func:`point_in_polygon` over the points."""
    return np.array([point_in_polygon(a, b, polygon) for a, b in zip(x, y, strict=True)], dtype=bool)


def polygon_area(polygon) -> float:
    """Absolute shoelace area."""
    pts = [(float(x), float(y)) for x, y in polygon]
    s = 0.0
    for i in range(len(pts)):
        x0, y0 = pts[i]
        x1, y1 = pts[(i + 1) % len(pts)]
        s += x0 * y1 - x1 * y0
    return abs(s) / 2.0

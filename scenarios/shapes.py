"""Plane geometry of scenario checks: distances between points and district polygons, in km."""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = Sequence[float]


def inside(p: Point, polygon: Sequence[Point]) -> bool:
    """True when ``p`` lies inside ``polygon`` (even-odd rule; the boundary may go either way).

    Parameters
    ----------
    p : (x_km, y_km)
    polygon : sequence of (x_km, y_km)
        Vertices in order; the last connects back to the first.

    Returns
    -------
    bool
    """
    x, y = p
    result = False
    for (x0, y0), (x1, y1) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            result = not result
    return result


def outside_km(p: Point, polygon: Sequence[Point]) -> float:
    """Distance from ``p`` to ``polygon``: 0 inside, else to the nearest edge, km.

    Parameters
    ----------
    p : (x_km, y_km)
    polygon : sequence of (x_km, y_km)

    Returns
    -------
    float
    """
    if inside(p, polygon):
        return 0.0
    edges = zip(polygon, [*polygon[1:], polygon[0]], strict=True)
    return min(_to_segment(p, a, b) for a, b in edges)


def diagonal_km(points: Sequence[Point]) -> float:
    """Length of the diagonal of the bounding box of ``points``, km."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return math.hypot(max(xs) - min(xs), max(ys) - min(ys))


def _to_segment(p: Point, a: Point, b: Point) -> float:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / length2))
    return math.hypot(p[0] - ax - t * dx, p[1] - ay - t * dy)

"""Reference for sim.kernels.select: sort every usable candidate by its key and take the first k."""

from __future__ import annotations

import math

import numpy as np


def select_k(group, value, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest ``(group, value, position)`` keys, skipping ``value == inf``."""
    keys = []
    for i in range(len(group)):
        v = float(value[i])
        if v == math.inf:
            continue
        keys.append((int(group[i]), v, i))
    keys.sort()
    return np.array([i for _, _, i in keys[:k]], dtype=np.int64)


def unit_minutes(u: int, status, loc, row_of, rows, dest: int, speed, turnout) -> float:
    """Expected minutes until unit ``u`` reaches ``dest``: travel / speed, plus turnout from the station."""
    t = float(rows[int(row_of[int(loc[u])])][int(dest)]) / float(speed[u])
    if int(status[u]) == 0:
        t += float(turnout[u])
    return t


def route(a: int, b: int, pred, reach) -> tuple[list[int], list[float]]:
    """The route a -> b by ``a``'s row of predecessors, and the minutes at which each node is reached."""
    nodes = [int(b)]
    while nodes[-1] != a:
        nodes.append(int(pred[a][nodes[-1]]))
        if nodes[-1] < 0:
            raise ValueError(f"{b} cannot be reached from {a}")
    nodes.reverse()
    return nodes, [float(reach[a][x]) for x in nodes]


def where(u: int, loc, trips) -> int:
    """Location of unit ``u``: ``loc[u]``, or on a trip the last route node whose time has come."""
    if not trips or not trips["on_trip"][u]:
        return int(loc[u])
    elapsed = (trips["now"] - float(trips["trip_t0"][u])) * float(trips["speed"][u])
    nodes, times = route(int(trips["trip_from"][u]), int(trips["trip_to"][u]), trips["pred"], trips["reach"])
    passed = [n for n, t in zip(nodes, times, strict=True) if t <= elapsed]
    return passed[-1] if passed else nodes[0]


def choose_units(cands, status, eligible, loc, row_of, rows, dest: int, speed, turnout,
                 group, k: int, trips: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``k`` eligible, reachable units, best ``(group, expected minutes, unit index)`` first.

    Only units with ``eligible[u]`` may go; turnout is added for status 0 (at station);
    an infinite expected time (unreachable) excludes it. A unit on a trip (``trips``) stands
    at the last node of its route it has reached.
    """
    if trips:
        loc = [where(u, loc, {**trips, "speed": speed}) for u in range(len(loc))]
    keyed = []
    for u in (int(c) for c in cands):
        if not eligible[u]:
            continue
        t = unit_minutes(u, status, loc, row_of, rows, dest, speed, turnout)
        if t == math.inf:
            continue
        keyed.append((int(group[u]), t, u))
    keyed.sort()
    best = keyed[:k]
    return (np.array([u for _, _, u in best], dtype=np.int64),
            np.array([t for _, t, _ in best], dtype=np.float64))

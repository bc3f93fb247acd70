"""Travel between locations, whatever the geography.

A *location* is an integer. On a road network it is a node; with plain
coordinates it indexes a table of points that grows during a run (incident
scenes, points on a unit's way); with a travel-time matrix it is a place.
Every geography answers the same questions: how long from these origins to
that destination, and where is a unit some minutes into a trip.
"""

from __future__ import annotations

import math

import numpy as np

from sim.network import RoadNetwork


class RoadGeo:
    """Travel on a road network; incident points snap to the nearest node."""

    kind = "road"

    def __init__(self, network: RoadNetwork):
        self.net = network

    def locate(self, xy: np.ndarray) -> np.ndarray:
        """Locations of points in km (nearest nodes)."""
        return self.net.snap(xy)

    def for_run(self) -> RoadGeo:
        """The travel object of one run (the network holds no per-run state)."""
        return self

    def add_points(self, xy: np.ndarray) -> np.ndarray:
        """Locations of a run's incident points (snapped to nodes)."""
        return self.net.snap(xy)

    def times_to(self, origins: np.ndarray, dest: int) -> np.ndarray:
        """Minutes from each origin to ``dest`` at speed factor 1."""
        return self.net.times_to(origins, dest)

    def times_from(self, origin: int, dests: np.ndarray) -> np.ndarray:
        """Minutes from ``origin`` to each destination at speed factor 1."""
        return self.net.times_from(origin, dests)

    def time(self, a: int, b: int) -> float:
        """Minutes from ``a`` to ``b`` at speed factor 1."""
        return self.net.time(a, b)

    def rows_for(self, locs) -> tuple[np.ndarray, np.ndarray] | None:
        """``(row_of, rows)`` covering ``locs`` (computed now if needed), or None if the cache is full."""
        if len(locs) == 0:
            return self.net.row_index, self.net.rows
        for loc in locs:
            self.net.row(int(loc))
        if (self.net.row_index[np.asarray(locs, dtype=np.int64)] < 0).any():
            return None
        return self.net.row_index, self.net.rows

    def position(self, a: int, b: int, elapsed_min: float) -> int:
        """Where a unit is ``elapsed_min`` (at speed factor 1) into the trip a -> b."""
        return self.net.position(a, b, elapsed_min)

    def xy(self, locs: np.ndarray) -> np.ndarray:
        """Coordinates (km) of locations, shape (n, 2)."""
        return self.net.xy[np.asarray(locs, dtype=np.int64)]


class PlaneGeo:
    """Straight-line or Manhattan travel at one speed, with a detour factor."""

    kind = "plane"

    def __init__(self, metric: str, speed_kmh: float, detour_factor: float, fixed_xy: np.ndarray):
        self.manhattan = metric == "manhattan"
        self.min_per_km = 60.0 * detour_factor / speed_kmh
        self._xy: list[tuple[float, float]] = []
        self._arr = np.empty((64, 2))
        self.locate(fixed_xy)

    def locate(self, xy: np.ndarray) -> np.ndarray:
        """Add points (km) to the location table and return their locations."""
        pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        start, stop = len(self._xy), len(self._xy) + len(pts)
        if stop > len(self._arr):
            grown = np.empty((max(stop, 2 * len(self._arr)), 2))
            grown[:start] = self._arr[:start]
            self._arr = grown
        self._arr[start:stop] = pts
        self._xy.extend(map(tuple, pts.tolist()))
        return np.arange(start, stop)

    def for_run(self) -> PlaneGeo:
        """A copy whose point table the run may extend."""
        run = PlaneGeo.__new__(PlaneGeo)
        run.manhattan, run.min_per_km = self.manhattan, self.min_per_km
        run._xy, run._arr = list(self._xy), self._arr.copy()
        return run

    add_points = locate

    def rows_for(self, locs) -> None:
        """Plane travel has no matrix: callers use :meth:`times_to`."""
        return None

    def _minutes(self, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        dist = np.abs(dx) + np.abs(dy) if self.manhattan else np.hypot(dx, dy)
        return dist * self.min_per_km

    def times_to(self, origins: np.ndarray, dest: int) -> np.ndarray:  # noqa: D102
        d = self._arr[dest]
        o = self._arr[origins]
        return self._minutes(o[:, 0] - d[0], o[:, 1] - d[1])

    def times_from(self, origin: int, dests: np.ndarray) -> np.ndarray:  # noqa: D102
        return self.times_to(np.asarray(dests), origin)

    def time(self, a: int, b: int) -> float:  # noqa: D102
        (xa, ya), (xb, yb) = self._xy[a], self._xy[b]
        dist = abs(xa - xb) + abs(ya - yb) if self.manhattan else math.hypot(xa - xb, ya - yb)
        return dist * self.min_per_km

    def position(self, a: int, b: int, elapsed_min: float) -> int:
        """A new point on the segment a -> b, ``elapsed_min`` into the trip."""
        total = self.time(a, b)
        if total <= 0 or elapsed_min <= 0:
            return a
        if elapsed_min >= total:
            return b
        f = elapsed_min / total
        pa, pb = self._arr[a], self._arr[b]
        return int(self.locate((pa + f * (pb - pa))[None, :])[0])

    def xy(self, locs: np.ndarray) -> np.ndarray:  # noqa: D102
        return self._arr[np.asarray(locs, dtype=np.int64)]


class MatrixGeo:
    """An explicit travel-time matrix between named places.

    A unit part-way along a trip is placed at the nearer end (in time):
    the matrix says nothing about the points between places.
    """

    kind = "matrix"

    def __init__(self, places: list[str], travel_min: np.ndarray):
        self.places = list(places)
        self.index = {p: i for i, p in enumerate(self.places)}
        self.matrix = np.asarray(travel_min, dtype=np.float64)
        self._rows = self.matrix.tolist()
        self._row_of = np.arange(len(self.places), dtype=np.int64)

    def locate_places(self, names: list[str]) -> np.ndarray:
        """Locations of place names."""
        return np.array([self.index[n] for n in names], dtype=np.int64)

    def for_run(self) -> MatrixGeo:  # noqa: D102
        return self

    def times_to(self, origins: np.ndarray, dest: int) -> np.ndarray:  # noqa: D102
        return self.matrix[origins, dest]

    def times_from(self, origin: int, dests: np.ndarray) -> np.ndarray:  # noqa: D102
        return self.matrix[origin, dests]

    def time(self, a: int, b: int) -> float:  # noqa: D102
        return self._rows[a][b]

    def rows_for(self, locs) -> tuple[np.ndarray, np.ndarray]:
        """The matrix itself: row i holds the times from place i."""
        return self._row_of, self.matrix

    def position(self, a: int, b: int, elapsed_min: float) -> int:  # noqa: D102
        return a if elapsed_min < 0.5 * self.matrix[a, b] else b

    def xy(self, locs: np.ndarray) -> np.ndarray:
        """No coordinates exist: NaN of shape (n, 2)."""
        return np.full((len(locs), 2), np.nan)

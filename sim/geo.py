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

#: directed links as (tail, head) node arrays
Links = tuple[np.ndarray, np.ndarray]

_NO_ROADS = "road changes need a road geography (grid, ring_radial, network or osm), not {kind}"


class RoadGeo:
    """Travel on a road network; incident points snap to the nearest node.

    The geography of a World: read-only during runs, shared by every run. A
    run travels on its own :class:`RoadView` (:meth:`for_run`), which may
    close or slow roads without the other runs seeing it.
    """

    kind = "road"
    #: directed links closed now: none on the shared network (a :class:`RoadView` may close some)
    closed_links = 0

    def __init__(self, network: RoadNetwork):
        self.net = network
        # the roads answering queries: the shared network here; a RoadView's may differ
        self._roads = network

    def locate(self, xy: np.ndarray) -> np.ndarray:
        """Locations of points in km (nearest nodes)."""
        return self.net.snap(xy)

    def for_run(self) -> RoadView:
        """The travel object of one run: a view of the shared network whose roads may change."""
        return RoadView(self.net)

    def add_points(self, xy: np.ndarray) -> np.ndarray:
        """Locations of a run's incident points (snapped to nodes)."""
        return self.net.snap(xy)

    def times_to(self, origins: np.ndarray, dest: int) -> np.ndarray:
        """Minutes from each origin to ``dest`` at speed factor 1."""
        return self._roads.times_to(origins, dest)

    def times_from(self, origin: int, dests: np.ndarray) -> np.ndarray:
        """Minutes from ``origin`` to each destination at speed factor 1."""
        return self._roads.times_from(origin, dests)

    def time(self, a: int, b: int) -> float:
        """Minutes from ``a`` to ``b`` at speed factor 1."""
        return self._roads.time(a, b)

    def rows_for(self, locs) -> tuple[np.ndarray, np.ndarray] | None:
        """``(row_of, rows)`` covering ``locs`` (computed now if needed), or None if the cache is full.

        The rows of the network's prepared origins (stations, hospitals) are
        always present; ``row_of[loc] < 0`` elsewhere for locations not asked for.
        """
        roads = self._roads
        if len(locs) == 0 or roads.complete:  # every row is there
            return roads.row_index, roads.rows
        locs = np.asarray(locs, dtype=np.int64)
        for loc in locs[roads.row_index[locs] < 0].tolist():  # in order, as asked (cache state matters)
            roads.row(loc)
        if (roads.row_index[locs] < 0).any():
            return None
        return roads.row_index, roads.rows

    def position(self, a: int, b: int, elapsed_min: float) -> int:
        """Where a unit is ``elapsed_min`` (at speed factor 1) into the trip a -> b."""
        return self._roads.position(a, b, elapsed_min)

    def positions_until(self, trips: list[tuple[int, int, float]]) -> list[tuple[int, float]]:
        """:meth:`position` of each ``(a, b, elapsed_min)`` and the elapsed minutes until it changes."""
        return self._roads.positions_until(trips)

    def route_arrays(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """The route a -> b: its nodes and the minutes (speed factor 1) at which each is reached."""
        return self._roads.route_arrays(a, b)

    def trip_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """``(row_of, rows, pred, reach)`` for the choice kernel, which places units on a trip itself.

        ``rows[row_of[a]]`` holds the minutes from ``a`` to every location (as
        :meth:`rows_for`); the route a -> b of :meth:`route_arrays` is
        ``pred[row_of[a]]`` walked back from ``b``, each node reached
        ``reach[row_of[a], node]`` minutes into the trip. Only when the roads
        hold every row, so that a route depends on its ends alone (not on what
        was cached); None otherwise (then units on a trip are placed by
        :meth:`positions_until`).
        """
        return self._roads.trip_tables

    def path(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Nodes of the fastest route a -> b and the minutes at which each is reached."""
        return self._roads.path(a, b)

    def xy(self, locs: np.ndarray) -> np.ndarray:
        """Coordinates (km) of locations, shape (n, 2)."""
        return self.net.xy[np.asarray(locs, dtype=np.int64)]


class RoadView(RoadGeo):
    """The roads of one run: the shared network until a road changes, then a rerouted copy.

    Lifecycle: made by :meth:`RoadGeo.for_run`. While no link has changed,
    every query goes to the shared network and its row cache (one attribute
    read more than calling the network itself). The first change copies the
    link times; each change builds a network of the current times with a
    row cache of its own: the shared network's rows that the change cannot
    alter (trees without a slowed or closed link, and that no faster link
    shortens) are copied (of a network holding only some rows, the prepared
    origins' only, so that what earlier runs cached changes nothing), the
    other rows of the prepared origins (stations, hospitals) are computed at
    once, so a row from before the change is used only where it is exact and
    the shared network's cache never holds rows of changed roads. When every
    link is back to its own time, queries go to the shared network again.

    Times and positions are those of the roads as they are now: a unit
    already on its way keeps the travel time it set off with (the engine's
    concern, not the view's).

    Parameters
    ----------
    network : RoadNetwork
        The shared network; read only.
    """

    def __init__(self, network: RoadNetwork):
        super().__init__(network)
        #: number of changes applied so far
        self.version = 0
        #: directed links closed now (factor 0): while there are some, a place may be cut off
        self.closed_links = 0
        # link times in the order of network.graph.data (inf: closed); None until the first change
        self._minutes: np.ndarray | None = None

    def for_run(self) -> RoadView:
        """A fresh view of the shared network (this view's changes are not carried over)."""
        return RoadView(self.net)

    def change_links(self, tail: np.ndarray, head: np.ndarray, factor: float | np.ndarray) -> None:
        """Close, slow or restore directed links from now on (one reroute per call). Mutates the view.

        Parameters
        ----------
        tail, head : ndarray of int, shape (k,)
            The links ``tail[i] -> head[i]`` (one direction each; name both
            directions to change a two-way street).
        factor : float or ndarray of float, shape (k,)
            Speed factor in [0, 1] relative to the link's original time, one for
            all links or one per link: the link takes ``original_minutes / factor``;
            0 closes it, 1 restores it. Factors do not compound: each call sets the
            time from the original. A hazard changing links to several factors at
            once passes them in one call, so the roads are rerouted once.

        Raises
        ------
        ValueError
            If a pair is not a link of the network, the arrays differ in
            length, or a factor is outside [0, 1].
        """
        tail = np.asarray(tail, dtype=np.int64).ravel()
        head = np.asarray(head, dtype=np.int64).ravel()
        if tail.shape != head.shape:
            raise ValueError(f"tail and head differ in length: {len(tail)} and {len(head)}")
        factors = np.asarray(factor, dtype=np.float64)
        if factors.ndim and factors.shape != tail.shape:
            raise ValueError(f"factor must be one number or one per link ({len(tail)}), got shape "
                             f"{factors.shape}")
        bad = ~((factors >= 0.0) & (factors <= 1.0))  # NaN too
        if bad.any():
            shown = float(factors if not factors.ndim else factors[np.flatnonzero(bad)[0]])
            raise ValueError(f"factor must be in [0, 1] (0 closes, 1 restores), got {shown}")
        slots = self.net.link_slots(tail, head)
        if (slots < 0).any():
            bad = int(np.flatnonzero(slots < 0)[0])
            raise ValueError(f"no road link {int(tail[bad])} -> {int(head[bad])} in the network")
        if tail.size == 0:
            return  # nothing changes, and neither does the version
        original = self.net.graph.data
        if self._minutes is None:
            self._minutes = original.copy()
        base = (self._roads, self._minutes.copy())  # the roads until now: their unaffected rows are reused
        with np.errstate(divide="ignore"):
            self._minutes[slots] = np.where(factors == 0, np.inf, original[slots] / factors)
        self.version += 1
        self.closed_links = int(np.isinf(self._minutes).sum())
        same = np.array_equal(self._minutes, original)
        self._roads = self.net if same else self.net.rerouted(self._minutes, base)

    # -- a unit on a trip that the roads of now no longer join --------------------------
    # Trips keep the travel time they set off with (the engine's rule); where a unit is
    # along the way is read from the roads of now, or, where a closure cut every route
    # between its trip's ends, from the roads without changes (so a trip under way never fails).
    def position(self, a: int, b: int, elapsed_min: float) -> int:  # noqa: D102
        try:
            return self._roads.position(a, b, elapsed_min)
        except ValueError:
            return self.net.position(a, b, elapsed_min)

    def positions_until(self, trips: list[tuple[int, int, float]]) -> list[tuple[int, float]]:  # noqa: D102
        try:
            return self._roads.positions_until(trips)
        except ValueError:
            return [self._position_until(a, b, e) for a, b, e in trips]

    def _position_until(self, a: int, b: int, elapsed_min: float) -> tuple[int, float]:
        try:
            return self._roads.positions_until([(a, b, elapsed_min)])[0]
        except ValueError:
            return self.net.positions_until([(a, b, elapsed_min)])[0]

    def route_arrays(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: D102
        try:
            return self._roads.route_arrays(a, b)
        except ValueError:
            return self.net.route_arrays(a, b)

    def links_in_area(self, centre_km: tuple[float, float], radius_km: float) -> Links:
        """Directed links with at least one end node within ``radius_km`` of ``centre_km``.

        Parameters
        ----------
        centre_km : (float, float)
            Centre of the area, km.
        radius_km : float
            Radius, km; a node on the circle is inside.

        Returns
        -------
        tail, head : ndarray of int64, shape (k,)
            Every such link of the network (open or not), ordered by (tail, head):
            pass them to :meth:`change_links` to close or slow the area.
        """
        return self.net.links_near(centre_km, radius_km)


class _NoRoads:
    """The road-change interface of geographies without links: there is nothing to change."""

    #: the geography's name in the error message
    _kind = ""
    #: no change has ever been applied
    version = 0
    #: no link is ever closed
    closed_links = 0

    def change_links(self, tail: np.ndarray, head: np.ndarray, factor: float) -> None:
        """Raise: this geography has no links.

        Raises
        ------
        ValueError
            Always.
        """
        raise ValueError(_NO_ROADS.format(kind=self._kind))

    def links_in_area(self, centre_km: tuple[float, float], radius_km: float) -> Links:
        """Raise: this geography has no links.

        Raises
        ------
        ValueError
            Always.
        """
        raise ValueError(_NO_ROADS.format(kind=self._kind))


class PlaneGeo(_NoRoads):
    """Straight-line or Manhattan travel at one speed, with a detour factor."""

    kind = "plane"
    _kind = "coordinates"

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

    def trip_tables(self) -> None:
        """Positions are new points on the segment, asked of :meth:`position` each time: no tables."""
        return None

    def positions_until(self, trips: list[tuple[int, int, float]]) -> list[tuple[int, float]]:
        """:meth:`position` of each trip; each new point is asked again next time (until -inf)."""
        return [(self.position(a, b, elapsed), -math.inf) for a, b, elapsed in trips]

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


class MatrixGeo(_NoRoads):
    """An explicit travel-time matrix between named places.

    A unit part-way along a trip is placed at the nearer end (in time):
    the matrix says nothing about the points between places.
    """

    kind = "matrix"
    _kind = "matrix"

    def __init__(self, places: list[str], travel_min: np.ndarray):
        self.places = list(places)
        self.index = {p: i for i, p in enumerate(self.places)}
        self.matrix = np.asarray(travel_min, dtype=np.float64)
        self._rows = self.matrix.tolist()
        self._row_of = np.arange(len(self.places), dtype=np.int64)
        self._trip_tables: tuple[np.ndarray, ...] | None = None  # made on first use

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

    def route_arrays(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """The trip a -> b as a two-stop route: at ``a`` until half-way, then at ``b``."""
        return np.array([a, b], dtype=np.int64), np.array([0.0, 0.5 * self._rows[a][b]])

    def trip_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The matrix and the two-stop routes of :meth:`route_arrays` (see :meth:`RoadGeo.trip_tables`).

        A unit on a trip is at its start until half-way, then at its end (:meth:`position`).
        """
        if self._trip_tables is None:
            n = len(self.places)
            pred = np.repeat(np.arange(n, dtype=np.int32)[:, None], n, axis=1)
            np.fill_diagonal(pred, -9999)  # as csgraph marks a row's own origin
            self._trip_tables = self._row_of, self.matrix, pred, 0.5 * self.matrix
        return self._trip_tables

    def positions_until(self, trips: list[tuple[int, int, float]]) -> list[tuple[int, float]]:
        """:meth:`position` of each trip and the elapsed minutes until it changes (half the trip)."""
        out = []
        for a, b, elapsed in trips:
            half = 0.5 * self._rows[a][b]
            out.append((a, half) if elapsed < half else (b, math.inf))
        return out

    def position(self, a: int, b: int, elapsed_min: float) -> int:  # noqa: D102
        return a if elapsed_min < 0.5 * self.matrix[a, b] else b

    def xy(self, locs: np.ndarray) -> np.ndarray:
        """No coordinates exist: NaN of shape (n, 2)."""
        return np.full((len(locs), 2), np.nan)

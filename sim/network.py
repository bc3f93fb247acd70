"""Road networks: built from a spec, travelled with scipy's csgraph shortest paths.

Edge weights are minutes (length / speed). Shortest-path rows (times and
predecessors from one origin to every node) are computed with
``scipy.sparse.csgraph.dijkstra`` for the origins that matter (stations,
hospitals) when the network is built, and for any other origin (an incident
scene, a point on a unit's way home) on first use, then cached.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from sim.kernels import points_in_polygon

#: Upper bound on the memory of cached shortest-path rows.
ROW_CACHE_BYTES = 256 * 2**20
#: Networks up to this many nodes get every shortest-path row when the World is compiled
#: (float32 times and int32 predecessors: 8 bytes a pair, 128 MB at 4,000 nodes). A run then
#: never computes a row, and travel times and routes do not depend on which rows earlier
#: dispatches happened to compute (see benchmarks/city_scale.py).
PRECOMPUTE_NODES = 4000
#: Routes kept for :meth:`RoadNetwork.position` (emptied when full): a unit on its way home is
#: asked where it is at every dispatch decision during its trip.
ROUTE_CACHE_SIZE = 4096


class RoadNetwork:
    """A directed road graph with cached shortest-path rows.

    Parameters
    ----------
    xy : ndarray of float, shape (n, 2)
        Node coordinates in km.
    tail, head : ndarray of int, shape (e,)
        Edge ends; an edge runs from ``tail`` to ``head`` only.
    minutes : ndarray of float, shape (e,)
        Travel time of each edge at speed factor 1. Parallel edges keep the fastest.
    """

    def __init__(self, xy: np.ndarray, tail: np.ndarray, head: np.ndarray, minutes: np.ndarray):
        self.xy = np.asarray(xy, dtype=np.float64)
        n = self.n_nodes = self.xy.shape[0]
        order = np.lexsort((minutes, head, tail))
        tail, head, minutes = tail[order], head[order], minutes[order]
        first = np.ones(len(tail), dtype=bool)
        first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
        self.graph = csr_matrix((minutes[first], (tail[first], head[first])), shape=(n, n))
        self.graph.sort_indices()  # a row's heads ascending: :meth:`link_slots` relies on it
        self._tree = cKDTree(self.xy)
        self._link_keys: np.ndarray | None = None  # tail * n + head of each stored link, on first use
        self._start_cache()

    def _start_cache(self) -> None:
        """Set the derived facts of ``self.graph`` and an empty row cache. Mutates the network."""
        n = self.n_nodes
        self.symmetric = bool(abs(self.graph - self.graph.T).max() == 0) if self.graph.nnz else True
        self.n_edges = int(self.graph.nnz)
        self._row_of = np.full(n, -1, dtype=np.int64)
        self._dist = np.empty((0, n), dtype=np.float32)
        self._pred = np.empty((0, n), dtype=np.int32)
        self._n_rows = 0
        self._every_row = False  # set by prepare_all: never by rows that runs asked for
        #: ``(row_of, rows, predecessors, rows)`` while every row is held and no reverse tree (see
        #: ``RoadGeo.trip_tables``), else None; then a trip reads its start's row (see :meth:`time`)
        self.trip_tables: tuple[np.ndarray, ...] | None = None
        self._max_rows = max(64, ROW_CACHE_BYTES // max(1, 8 * n))
        #: origins passed to :meth:`prepare` (stations, hospitals), ascending
        self.prepared = np.empty(0, dtype=np.int64)
        self._is_prepared = np.zeros(n, dtype=bool)
        # trees *into* the prepared nodes of a large directed network (see :meth:`_prepare_reverse`)
        self._rev_of = np.full(n, -1, dtype=np.int64)
        self._rev_dist = np.empty((0, n), dtype=np.float32)
        self._rev_succ = np.empty((0, n), dtype=np.int32)
        #: routes as (nodes, minutes reached) lists and arrays, by (a, b, which row: see _kept_route)
        self._routes: dict[tuple[int, int, int], tuple] = {}

    # -- rows ---------------------------------------------------------------
    def prepare(self, origins: Sequence[int]) -> None:
        """Compute and cache the rows of ``origins`` in one csgraph call. Mutates the cache."""
        self.prepared = np.union1d(self.prepared, np.asarray(origins, dtype=np.int64))
        self._is_prepared[self.prepared] = True
        self._compute(origins)
        if not self.symmetric and self.n_nodes > PRECOMPUTE_NODES:
            self._prepare_reverse(self.prepared)

    def _prepare_reverse(self, targets) -> None:
        """Compute the shortest-path trees *into* ``targets`` (Dijkstra on the reversed graph). Mutates.

        On a large directed network a trip from a node without a row (an
        incident scene) to a station or hospital reads the target's reverse
        tree instead of computing a row from the scene: times from anywhere to
        the prepared nodes are known at compile time, and which tree answers
        depends on the trip's ends only (a prepared start reads its own row),
        never on what earlier queries cached (benchmarks/osm_import.py).
        """
        todo = np.unique([t for t in targets if self._rev_of[t] < 0])
        if not todo.size:
            return
        dist, pred = dijkstra(self.graph.T.tocsr(), directed=True, indices=todo, return_predecessors=True)
        self._store_reverse(todo, dist, pred)

    def _store_reverse(self, targets, dist: np.ndarray, succ: np.ndarray) -> None:
        start, n = self._rev_dist.shape[0], self.n_nodes
        self._rev_dist = np.vstack([self._rev_dist, np.asarray(dist, dtype=np.float32).reshape(-1, n)])
        self._rev_succ = np.vstack([self._rev_succ, np.asarray(succ, dtype=np.int32).reshape(-1, n)])
        self._rev_of[np.asarray(targets, dtype=np.int64)] = np.arange(start, self._rev_dist.shape[0])
        self.trip_tables = None

    def _reverse_row(self, a: int, b: int) -> int:
        """Row of ``b``'s reverse tree that answers the trip a -> b, or -1 (then ``a``'s own row does)."""
        k = self._rev_of[b]
        return int(k) if k >= 0 and not self._is_prepared[a] else -1

    def _compute(self, origins) -> None:
        todo = np.unique([o for o in origins if self._row_of[o] < 0])
        if todo.size:
            dist, pred = dijkstra(self.graph, directed=True, indices=todo, return_predecessors=True)
            for node, d, p in zip(todo, dist, pred, strict=True):
                self._store(int(node), d, p)

    def prepare_all(self) -> None:
        """Compute the rows of every node (one csgraph call per block of origins). Mutates the cache.

        :attr:`prepared` keeps naming the stations and hospitals only.
        """
        block = max(1, (64 * 2**20) // max(1, 16 * self.n_nodes))  # bounds csgraph's float64 output
        for start in range(0, self.n_nodes, block):
            self._compute(range(start, min(start + block, self.n_nodes)))
        self._every_row = self._n_rows == self.n_nodes
        direct = self._every_row and not self._rev_dist.shape[0]
        self.trip_tables = (self._row_of, self._dist, self._pred, self._dist) if direct else None

    @property
    def complete(self) -> bool:
        """Whether :meth:`prepare_all` cached every node's row (then no run computes one).

        A network whose cache the rows that runs asked for happen to fill does
        not count: what a run reads never depends on what earlier runs sharing
        the network computed.
        """
        return self._every_row

    def _backwards(self, a: int, b: int) -> bool:
        """Whether the trip a -> b is read backwards from ``b``'s row (a symmetric network).

        On a network that holds only some rows, a trip from anywhere to a
        prepared node (a station, a hospital) reads that node's row, whose
        route and times are known at compile time; other trips read ``a``'s
        row. The choice depends on the trip's ends only, never on which rows
        are cached: on a street grid many routes tie, and the route read from
        ``a``'s row and the one read backwards from ``b``'s often differ, so a
        cache-dependent choice made a run depend on the runs before it in the
        same process (tests/hazards/test_shared_world.py).
        """
        return (self.symmetric and not self._every_row and a != b and not self._is_prepared[a]
                and bool(self._is_prepared[b]))

    def row(self, origin: int) -> tuple[np.ndarray, np.ndarray]:
        """Times (float32, minutes, ``inf`` if unreachable) and predecessors from ``origin``."""
        r = self._row_of[origin]
        if r >= 0:
            return self._dist[r], self._pred[r]
        dist, pred = dijkstra(self.graph, directed=True, indices=origin, return_predecessors=True)
        return self._store(int(origin), dist, pred)

    def _store(self, origin: int, dist: np.ndarray, pred: np.ndarray):
        if self._n_rows >= self._max_rows:
            return dist.astype(np.float32), pred.astype(np.int32)
        if self._n_rows == self._dist.shape[0]:
            cap = min(self._max_rows, max(16, 2 * self._n_rows))
            self._dist = _grow(self._dist, cap)
            self._pred = _grow(self._pred, cap)
        r = self._n_rows
        self._dist[r] = dist
        self._pred[r] = pred
        self._row_of[origin] = r
        self._n_rows += 1
        return self._dist[r], self._pred[r]

    @property
    def row_index(self) -> np.ndarray:
        """Row of the cache holding each node's times (-1: not cached), int64[n]."""
        return self._row_of

    @property
    def rows(self) -> np.ndarray:
        """Cached rows of times, float32[r, n] (only the first rows in use are valid)."""
        return self._dist

    # -- queries ------------------------------------------------------------
    def times_to(self, origins: np.ndarray, dest: int) -> np.ndarray:
        """Minutes from each of ``origins`` to ``dest`` (float64, shape of origins)."""
        rows = self._row_of[origins]
        if (rows < 0).any():
            for o in np.unique(origins[rows < 0]):
                self.row(int(o))
            rows = self._row_of[origins]
            if (rows < 0).any():  # cache full: slow path
                return np.array([float(self.row(int(o))[0][dest]) for o in origins])
        return self._dist[rows, dest].astype(np.float64)

    def time(self, a: int, b: int) -> float:
        """Minutes from node ``a`` to node ``b``."""
        if self.trip_tables is not None:  # every row, no reverse tree: what the rest would say, at once
            return self._dist.item(self._row_of.item(a), b)
        k = self._reverse_row(a, b)
        if k >= 0:
            return float(self._rev_dist[k, a])
        if self._backwards(a, b):
            return float(self.row(b)[0][a])
        r = self._row_of[a]
        if r >= 0:
            return float(self._dist[r, b])
        return float(self.row(a)[0][b])

    def times_from(self, origin: int, dests: np.ndarray) -> np.ndarray:
        """Minutes from ``origin`` to each of ``dests`` (float64)."""
        k = self._rev_of[dests]
        if len(k) and (k >= 0).all() and not self._is_prepared[origin]:
            return self._rev_dist[k, origin].astype(np.float64)
        if self.symmetric and (self._row_of[dests] >= 0).all() and (
                self._every_row or (self._is_prepared[dests].all() and not self._is_prepared[origin])):
            return self._dist[self._row_of[dests], origin].astype(np.float64)
        return self.row(origin)[0][dests].astype(np.float64)

    def path(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Nodes of the fastest route from ``a`` to ``b`` and the minutes at which each is reached."""
        if a == b:
            return np.array([a]), np.array([0.0])
        k = self._reverse_row(a, b)
        if k >= 0:  # down b's reverse tree: each node's successor towards b
            d, succ = self._rev_dist[k], self._rev_succ[k]
            if not np.isfinite(d[a]):
                raise ValueError(f"node {b} cannot be reached from node {a}")
            nodes = [a]
            while nodes[-1] != b:
                nodes.append(int(succ[nodes[-1]]))
            arr = np.array(nodes)
            return arr, float(d[a]) - d[arr].astype(np.float64)
        if self._backwards(a, b):
            nodes, cum = self.path(b, a)
            return nodes[::-1].copy(), cum[-1] - cum[::-1]
        dist, pred = self.row(a)
        if not np.isfinite(dist[b]):
            raise ValueError(f"node {b} cannot be reached from node {a}")
        nodes = [b]
        while nodes[-1] != a:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        arr = np.array(nodes)
        return arr, dist[arr].astype(np.float64)

    def position(self, a: int, b: int, elapsed_min: float) -> int:
        """The last node passed ``elapsed_min`` after leaving ``a`` for ``b``.

        The route is walked once and kept (:data:`ROUTE_CACHE_SIZE`): a unit on
        its way is asked where it is at every dispatch decision of its trip, and
        walking the predecessors each time made dispatch cost grow with the
        number of units on the move (benchmarks/city_scale.py). The key includes
        which row :meth:`path` reads (``a``'s, ``b``'s backwards, or ``b``'s
        reverse tree): a route is
        a pure function of the key, so the answers are those of :meth:`path`.
        """
        route = self.route(a, b)
        k = bisect_right(route[1], elapsed_min) - 1
        return route[0][k if k > 0 else 0]

    def route(self, a: int, b: int) -> tuple[list[int], list[float]]:
        """The route a -> b as lists (nodes, minutes reached), walked once and kept."""
        return self._kept_route(a, b)[:2]

    def route_arrays(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`route` as arrays (int64 nodes, float64 minutes); read only."""
        return self._kept_route(a, b)[2:]

    def _kept_route(self, a: int, b: int) -> tuple[list[int], list[float], np.ndarray, np.ndarray]:
        key = (a, b, 2 if a != b and self._reverse_row(a, b) >= 0 else int(self._backwards(a, b)))
        route = self._routes.get(key)
        if route is None:
            nodes, cum = self.path(a, b)
            if len(self._routes) >= ROUTE_CACHE_SIZE:
                self._routes.clear()
            nodes = nodes.astype(np.int64)
            route = self._routes[key] = (nodes.tolist(), cum.tolist(), nodes, cum)
        return route

    def positions_until(self, trips: list[tuple[int, int, float]]) -> list[tuple[int, float]]:
        """For each ``(a, b, elapsed_min)``: :meth:`position`, and the elapsed minutes until it changes.

        The position is the same for every elapsed time below the second value
        (the time the next node is reached; inf at the end of the trip), so a
        caller may keep it until then.
        """
        out = []
        for a, b, elapsed in trips:
            nodes, cum = self.route(a, b)
            k = bisect_right(cum, elapsed) - 1
            out.append((nodes[k if k > 0 else 0], cum[k + 1] if k + 1 < len(cum) else math.inf))
        return out

    # -- links --------------------------------------------------------------
    def has_link(self, u: int, v: int) -> bool:
        """Whether the directed link ``u -> v`` is a road of this network."""
        if not (0 <= u < self.n_nodes and 0 <= v < self.n_nodes):
            return False
        g = self.graph
        heads = g.indices[g.indptr[u] : g.indptr[u + 1]]
        k = int(np.searchsorted(heads, v))
        return k < len(heads) and heads[k] == v

    def link_slots(self, tail: np.ndarray, head: np.ndarray) -> np.ndarray:
        """Positions of the directed links ``tail[i] -> head[i]`` in ``graph.data``.

        Parameters
        ----------
        tail, head : ndarray of int, shape (k,)
            Link ends (node ids).

        Returns
        -------
        ndarray of int64, shape (k,)
            Index into ``graph.data`` (and ``graph.indices``) of each link, -1 where
            the pair is not a link (or a node id is out of range).
        """
        tail = np.asarray(tail, dtype=np.int64).ravel()
        head = np.asarray(head, dtype=np.int64).ravel()
        n = self.n_nodes
        if self._link_keys is None:
            g = self.graph
            rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
            self._link_keys = rows * n + g.indices  # ascending: rows in order, heads sorted within
        keys = self._link_keys
        wanted = tail * n + head
        k = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        found = (tail >= 0) & (tail < n) & (head >= 0) & (head < n)
        if len(keys):
            found &= keys[k] == wanted
        else:
            found[:] = False
        return np.where(found, k, -1)

    def links_near(self, centre_km: tuple[float, float], radius_km: float) -> tuple[np.ndarray, np.ndarray]:
        """Directed links with at least one end node within ``radius_km`` of ``centre_km``.

        Parameters
        ----------
        centre_km : (float, float)
            Centre of the circle, km.
        radius_km : float
            Radius, km (a node exactly on the circle is inside).

        Returns
        -------
        tail, head : ndarray of int64, shape (k,)
            The links, ordered by (tail, head).
        """
        inside = np.zeros(self.n_nodes, dtype=bool)
        inside[self._tree.query_ball_point(np.asarray(centre_km, dtype=np.float64), float(radius_km))] = True
        g = self.graph
        tail = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(g.indptr))
        head = g.indices.astype(np.int64)
        touch = inside[tail] | inside[head]
        return tail[touch], head[touch]

    def rerouted(self, minutes: np.ndarray,
                 base: tuple[RoadNetwork, np.ndarray] | None = None) -> RoadNetwork:
        """The same nodes and links with other travel times, and a row cache of its own.

        The rows of :attr:`prepared` are computed at once, so that callers that
        count on them (the choice kernel reads stations' rows) find them.

        Parameters
        ----------
        minutes : ndarray of float, shape (n_edges,)
            Travel time of each link in the order of ``graph.data``; ``inf`` leaves
            the link out (closed).
        base : (RoadNetwork, ndarray), optional
            The roads until now (a network rerouted from this one, or this one) and
            their link minutes in the order of ``graph.data``: its cached rows that
            the links changed since then cannot alter are reused (of this network,
            when it holds only some rows, those of :attr:`prepared` only: the others
            are there because some run asked for them, maybe an earlier run sharing
            the network, and a tree computed afresh on the new roads may tie-break
            differently). Default: this network and its own times. A run whose roads
            change a little at a time (a spreading flood) passes its current roads,
            so each change recomputes only the trees it touches.

        Returns
        -------
        RoadNetwork
            A new network sharing this one's coordinates and KD-tree (read-only).
        """
        g = self.graph
        minutes = np.asarray(minutes, dtype=np.float64)
        if minutes.shape != g.data.shape:
            raise ValueError(f"minutes must have shape {g.data.shape}, got {minutes.shape}")
        open_ = np.isfinite(minutes)
        n_open_before = np.concatenate([[0], np.cumsum(open_)])  # open links stored before each slot
        out = RoadNetwork.__new__(RoadNetwork)
        out.xy, out.n_nodes, out._tree, out._link_keys = self.xy, self.n_nodes, self._tree, None
        out.graph = csr_matrix((minutes[open_], g.indices[open_], n_open_before[g.indptr]), shape=g.shape)
        out._start_cache()
        out.prepared = self.prepared.copy()
        src, before = base if base is not None else (self, g.data)
        out.reused_rows = src._reuse_rows(out, minutes, before, g,
                                          prepared_only=src is self and not self.complete)
        out.prepare(self.prepared)
        if self.complete:  # a network small enough to hold every row keeps doing so after a change
            out.prepare_all()
        return out

    def _reuse_rows(self, out: RoadNetwork, minutes: np.ndarray, before: np.ndarray, full: csr_matrix,
                    prepared_only: bool = False) -> int:
        """Copy into ``out`` the cached rows that the changed link times cannot alter. Mutates ``out``.

        A row (a shortest-path tree) stays exact when no slowed or closed link
        is in the tree (``pred[head] != tail``) and no faster link would
        shorten a path (``dist[tail] + minutes >= dist[head]``, with a margin
        for the float32 rows): only the trees a change touches are computed
        again (benchmarks/osm_import.py measures it).

        Parameters
        ----------
        out : RoadNetwork
            The new network.
        minutes, before : ndarray of float, shape (n_edges,)
            Link times of ``out`` and of this network, in the order of ``full.data``.
        full : csr_matrix
            The graph with every link (open or not): the links' ends by slot.
        prepared_only : bool
            Reuse the rows of :attr:`prepared` origins only (and the reverse trees,
            which are theirs): the rows computed at compile time.

        Returns
        -------
        int
            Rows copied.
        """
        g = full
        slot = np.flatnonzero(minutes != before)
        if not slot.size:
            return 0
        tail = np.searchsorted(g.indptr, slot, side="right") - 1
        head = g.indices[slot]
        old, new = before[slot], minutes[slot]
        dist, pred = self._dist[:self._n_rows], self._pred[:self._n_rows]
        origin_of = np.empty(self._n_rows, dtype=np.int64)
        origin_of[self._row_of[self._row_of >= 0]] = np.flatnonzero(self._row_of >= 0)
        keep = np.flatnonzero(_exact(dist, pred, tail, head, old, new))
        if prepared_only:
            keep = keep[self._is_prepared[origin_of[keep]]]
        for r in keep.tolist():
            out._store(int(origin_of[r]), dist[r], pred[r])
        # reverse trees: the same test on the reversed graph, where link u -> v runs v -> u
        exact = _exact(self._rev_dist, self._rev_succ, head, tail, old, new)
        targets = np.flatnonzero(self._rev_of >= 0)
        rows = self._rev_of[targets]
        out._store_reverse(targets[exact[rows]], self._rev_dist[rows[exact[rows]]],
                           self._rev_succ[rows[exact[rows]]])
        return len(keep)

    def snap(self, xy: np.ndarray) -> np.ndarray:
        """Nearest node of each point (KD-tree query)."""
        _, idx = self._tree.query(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
        return np.asarray(idx, dtype=np.int64)

    def components(self) -> np.ndarray:
        """Weakly connected component label of every node."""
        from scipy.sparse.csgraph import connected_components

        return connected_components(self.graph, directed=True, connection="weak")[1]


def _exact(dist: np.ndarray, pred: np.ndarray, tail: np.ndarray, head: np.ndarray, old: np.ndarray,
           new: np.ndarray) -> np.ndarray:
    """Which shortest-path trees stay exact when links ``tail -> head`` go from ``old`` to ``new`` minutes.

    Parameters
    ----------
    dist, pred : ndarray, shape (r, n)
        Rows of times (float32) and predecessors (int32) under the old times.
    tail, head, old, new : ndarray, shape (k,)
        The changed links and their minutes (``inf``: closed).

    Returns
    -------
    ndarray of bool, shape (r,)
        True where no slower link is in the tree (``pred[head] != tail``) and no
        faster link shortens a path (``dist[tail] + new >= dist[head]``, with a
        margin for float32): then the old distances are still the shortest.
    """
    slower = new > old
    hit = (pred[:, head[slower]] == tail[slower]).any(axis=1)
    faster = ~slower
    if faster.any():
        d_head = dist[:, head[faster]].astype(np.float64)
        via = dist[:, tail[faster]].astype(np.float64) + new[faster]
        hit |= (via < d_head + 1e-6 * np.maximum(1.0, d_head)).any(axis=1)
    return ~hit


def _grow(a: np.ndarray, rows: int) -> np.ndarray:
    out = np.empty((rows, a.shape[1]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


# -- builders -----------------------------------------------------------------
class _Edges:
    """Edge lists being assembled (two-way unless told otherwise)."""

    def __init__(self):
        self.tail: list[int] = []
        self.head: list[int] = []
        self.minutes: list[float] = []

    def add(self, u: int, v: int, length_km: float, speed_kmh: float, oneway: bool = False):
        t = 60.0 * length_km / speed_kmh
        self.tail.append(u)
        self.head.append(v)
        self.minutes.append(t)
        if not oneway:
            self.tail.append(v)
            self.head.append(u)
            self.minutes.append(t)

    def arrays(self):
        return (np.asarray(self.tail, dtype=np.int64), np.asarray(self.head, dtype=np.int64),
                np.asarray(self.minutes, dtype=np.float64))


def build(spec, polygons: Sequence[np.ndarray], source: str | None = None) -> RoadNetwork:
    """Build the road network of a geography spec (grid, ring_radial, network or osm).

    Parameters
    ----------
    spec : scenarios.geography.GridRoads | RingRadialRoads | NetworkRoads
        The validated geography.
    polygons : sequence of ndarray (m, 2)
        District boundaries, used when the spec clips to districts.
    source : str, optional
        The scenario file, named by errors about an OSM file.

    Returns
    -------
    RoadNetwork
    """
    if spec.kind == "osm":  # read from an OpenStreetMap file (sim/osm, the optional extra)
        from sim.osm.graph import network_of

        net = network_of(spec, spec.path, source)
        xy = net.xy
    else:
        builder = {"grid": _grid, "ring_radial": _ring_radial, "network": _file_network}[spec.kind]
        xy, edges = builder(spec)
        if getattr(spec, "clip_to_districts", False) and polygons:
            xy, edges = _clip(xy, edges, polygons)
        net = RoadNetwork(xy, *edges.arrays())
    if spec.links:
        linked = _Edges()
        linked.tail, linked.head, linked.minutes = (list(a) for a in edges.arrays())
        for link in spec.links:
            u, v = (int(i) for i in net.snap(np.array([link.from_km, link.to_km])))
            length = link.length_km or float(np.hypot(*(xy[u] - xy[v])))
            linked.add(u, v, length, link.speed_kmh)
        osm = {k: getattr(net, k) for k in ("lonlat", "osm_info") if hasattr(net, k)}
        net = RoadNetwork(xy, *linked.arrays())
        for k, v in osm.items():
            setattr(net, k, v)
    return net


def _grid(spec):
    nx, ny = (math.floor(s / spec.spacing_km + 1e-9) + 1 for s in spec.size_km)
    ox, oy = spec.origin_km
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    xy = np.column_stack([ox + ii.ravel() * spec.spacing_km, oy + jj.ravel() * spec.spacing_km])
    art = spec.arterial_speed_kmh or spec.speed_kmh
    every = spec.arterial_every
    edges = _Edges()
    for i in range(nx):
        for j in range(ny):
            u = i * ny + j
            if i + 1 < nx:  # along x, on row j
                edges.add(u, u + ny, spec.spacing_km, art if every and j % every == 0 else spec.speed_kmh)
            if j + 1 < ny:  # along y, on column i
                edges.add(u, u + 1, spec.spacing_km, art if every and i % every == 0 else spec.speed_kmh)
    return xy, edges


def _ring_radial(spec):
    cx, cy = spec.centre_km
    per_ring = spec.radials * spec.ring_nodes_per_segment
    angles = 2 * math.pi * np.arange(per_ring) / per_ring
    xy = [(cx, cy)]
    edges = _Edges()
    for r in range(1, spec.rings + 1):
        radius = r * spec.ring_spacing_km
        base = len(xy)
        xy.extend(zip(cx + radius * np.cos(angles), cy + radius * np.sin(angles), strict=True))
        chord = 2 * radius * math.sin(math.pi / per_ring)
        for k in range(per_ring):
            edges.add(base + k, base + (k + 1) % per_ring, chord, spec.ring_speed_kmh)
        for k in range(0, per_ring, spec.ring_nodes_per_segment):
            inner = 0 if r == 1 else base - per_ring + k
            edges.add(inner, base + k, spec.ring_spacing_km, spec.radial_speed_kmh)
    return np.asarray(xy, dtype=np.float64), edges


def _file_network(spec):
    index = {node.id: i for i, node in enumerate(spec.nodes)}
    xy = np.array([[n.x_km, n.y_km] for n in spec.nodes], dtype=np.float64)
    edges = _Edges()
    for e in spec.edges:
        u, v = index[e.from_id], index[e.to_id]
        length = e.length_km if e.length_km is not None else float(np.hypot(*(xy[u] - xy[v])))
        if length <= 0:
            length = 1e-6  # coincident nodes: a tiny positive cost keeps csgraph from dropping the edge
        edges.add(u, v, length, e.speed_kmh or spec.default_speed_kmh, oneway=e.oneway)
    return xy, edges


def _clip(xy: np.ndarray, edges: _Edges, polygons: Sequence[np.ndarray]):
    keep = np.zeros(len(xy), dtype=bool)
    for poly in polygons:
        keep |= points_in_polygon(xy[:, 0], xy[:, 1], poly)
    new_id = np.full(len(xy), -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    tail, head, minutes = edges.arrays()
    ok = keep[tail] & keep[head]
    clipped = _Edges()
    clipped.tail = list(new_id[tail[ok]])
    clipped.head = list(new_id[head[ok]])
    clipped.minutes = list(minutes[ok])
    return xy[keep], clipped

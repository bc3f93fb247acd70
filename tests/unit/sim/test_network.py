"""Road networks: builders (grid, ring_radial, inline, links, clipping) and shortest paths vs Dijkstra."""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.network
from scenarios.geography import GridRoads, NetworkRoads, RingRadialRoads
from sim.geo import RoadGeo
from sim.network import RoadNetwork, build
from tests.reference import naive_network

SETTINGS = settings(max_examples=40, deadline=None)
RTOL = 1e-6          # rows are stored as float32


def _grid(**kw):
    spec = {"kind": "grid", "size_km": (3.0, 2.0), "spacing_km": 1.0, "speed_kmh": 30.0,
            "clip_to_districts": False}
    return GridRoads.model_validate({**spec, **kw})


def _edge(net: RoadNetwork, u: int, v: int) -> float:
    return float(net.graph[u, v])


# ---- builders ----------------------------------------------------------------------------
def test_grid_nodes_edges_and_coordinates():
    net = build(_grid(origin_km=(10.0, -5.0)), [])
    nx, ny = 4, 3
    assert net.n_nodes == nx * ny
    assert net.n_edges == 2 * ((nx - 1) * ny + nx * (ny - 1))          # two-way streets
    assert net.symmetric
    # node i * ny + j sits at origin + (i, j) * spacing
    for i in range(nx):
        for j in range(ny):
            npt.assert_allclose(net.xy[i * ny + j], [10.0 + i, -5.0 + j])
    assert _edge(net, 0, 3) == pytest.approx(2.0)                      # 1 km at 30 km/h
    assert net.time(0, nx * ny - 1) == pytest.approx(2.0 * (3 + 2))     # Manhattan distance


def test_grid_counts_use_exact_spacing_division():
    # 0.3 / 0.1 is 2.9999999999999996 in floating point: still 4 nodes along x
    net = build(_grid(size_km=(0.3, 0.2), spacing_km=0.1), [])
    assert net.n_nodes == 4 * 3
    assert net.xy[:, 0].max() == pytest.approx(0.3)


def test_grid_arterials_every_nth_line():
    net = build(_grid(size_km=(4.0, 4.0), arterial_every=2, arterial_speed_kmh=60.0), [])
    ny = 5
    for i in range(5):
        for j in range(5):
            u = i * ny + j
            if i + 1 < 5:                                   # along x, on row j
                assert _edge(net, u, u + ny) == pytest.approx(1.0 if j % 2 == 0 else 2.0)
            if j + 1 < 5:                                   # along y, on column i
                assert _edge(net, u, u + 1) == pytest.approx(1.0 if i % 2 == 0 else 2.0)
    node = lambda i, j: i * ny + j                          # noqa: E731
    assert net.time(node(0, 0), node(4, 4)) == pytest.approx(8.0)      # arterial row 0, column 4
    assert net.time(node(1, 1), node(3, 1)) == pytest.approx(4.0)      # straight beats the detour (6)
    assert net.time(node(1, 1), node(1, 3)) == pytest.approx(4.0)


def test_ring_radial_counts_and_times():
    spec = RingRadialRoads.model_validate({
        "kind": "ring_radial", "centre_km": (1.0, 2.0), "rings": 2, "ring_spacing_km": 1.0, "radials": 4,
        "ring_nodes_per_segment": 2, "ring_speed_kmh": 30.0, "radial_speed_kmh": 60.0})
    net = build(spec, [])
    per_ring = 8
    assert net.n_nodes == 1 + 2 * per_ring
    assert net.n_edges == 2 * (2 * per_ring + 2 * 4)
    radius = np.hypot(net.xy[:, 0] - 1.0, net.xy[:, 1] - 2.0)
    npt.assert_allclose(np.sort(radius), [0.0] + [1.0] * per_ring + [2.0] * per_ring, atol=1e-12)
    chord_min = 60.0 * 2 * math.sin(math.pi / per_ring) / 30.0
    assert net.time(0, 1 + per_ring) == pytest.approx(2.0)             # along a radial: 2 km at 60
    assert net.time(0, 1) == pytest.approx(1.0)
    assert net.time(0, 2) == pytest.approx(1.0 + chord_min, rel=RTOL)  # radial, then one chord
    assert net.time(1, 2) == pytest.approx(chord_min, rel=RTOL)


def _inline(**kw):
    spec = {
        "kind": "network",
        "nodes": [{"id": "A", "x_km": 0, "y_km": 0}, {"id": "B", "x_km": 1, "y_km": 0},
                  {"id": "C", "x_km": 1, "y_km": 1}, {"id": "D", "x_km": 1, "y_km": 1}],
        "edges": [
            {"from": "A", "to": "B", "speed_kmh": 60},                  # 1 km: 1 min
            {"from": "A", "to": "B", "speed_kmh": 20},                  # slower duplicate: dropped
            {"from": "B", "to": "C", "speed_kmh": 30, "oneway": True},  # 1 km: 2 min, B -> C only
            {"from": "C", "to": "A", "length_km": 5},                   # default 40 km/h: 7.5 min
            {"from": "C", "to": "D"},                                   # coincident nodes
        ],
        "default_speed_kmh": 40,
    }
    return NetworkRoads.model_validate({**spec, **kw})


def test_inline_network_with_oneway_and_defaults():
    net = build(_inline(), [])
    A, B, C, D = range(4)
    assert net.n_nodes == 4
    assert net.n_edges == 2 + 1 + 2 + 2
    assert not net.symmetric
    assert _edge(net, A, B) == pytest.approx(1.0)
    assert net.time(A, C) == pytest.approx(3.0)                       # A -> B -> C
    assert net.time(C, B) == pytest.approx(8.5)                       # C -> A -> B: no way back on B -> C
    assert net.time(B, A) == pytest.approx(1.0)
    assert net.time(C, A) == pytest.approx(7.5)
    assert 0 < net.time(C, D) < 1e-3                                   # coincident nodes stay joined
    npt.assert_array_equal(net.components(), [0, 0, 0, 0])


@pytest.mark.nojit
def test_links_join_separate_parts():
    # two boxes of grid clipped apart, joined by a link with a given length
    boxes = [np.array([[-0.5, -0.5], [1.5, -0.5], [1.5, 2.5], [-0.5, 2.5]]),
             np.array([[3.5, -0.5], [4.5, -0.5], [4.5, 2.5], [3.5, 2.5]])]
    clipped = build(_grid(size_km=(4.0, 2.0), clip_to_districts=True), boxes)
    assert len(set(clipped.components().tolist())) == 2
    link = {"from": (1.1, 0.1), "to": (3.9, -0.2), "speed_kmh": 60.0, "length_km": 6.0}
    net = build(_grid(size_km=(4.0, 2.0), clip_to_districts=True, links=[link]), boxes)
    assert len(set(net.components().tolist())) == 1
    a, b = net.snap(np.array([[1.0, 0.0], [4.0, 0.0]]))
    assert net.time(a, b) == pytest.approx(6.0)                       # 6 km at 60 km/h
    assert net.time(b, a) == pytest.approx(6.0)
    far = int(net.snap(np.array([[4.0, 2.0]]))[0])
    assert net.time(int(net.snap(np.array([[0.0, 0.0]]))[0]), far) == pytest.approx(2.0 + 6.0 + 4.0)
    # without a length the link is as long as the straight line between its snapped nodes
    net = build(_grid(size_km=(4.0, 2.0), clip_to_districts=True,
                      links=[{**link, "length_km": None}]), boxes)
    assert net.time(a, b) == pytest.approx(3.0)


@pytest.mark.nojit
def test_clipping_keeps_nodes_inside_any_district():
    left = np.array([[-0.5, -0.5], [2.5, -0.5], [2.5, 4.5], [-0.5, 4.5]])
    net = build(_grid(size_km=(4.0, 4.0), clip_to_districts=True), [left])
    assert net.n_nodes == 3 * 5
    assert net.n_edges == 2 * (2 * 5 + 3 * 4)
    assert net.xy[:, 0].max() == pytest.approx(2.0)
    unclipped = build(_grid(size_km=(4.0, 4.0), clip_to_districts=False), [left])
    assert unclipped.n_nodes == 25
    corner = np.array([[4.5, 4.5], [3.5, 4.5], [4.5, 3.5]])         # a second district adds its node
    both = build(_grid(size_km=(4.0, 4.0), clip_to_districts=True), [left, corner])
    assert both.n_nodes == 16
    assert len(set(both.components().tolist())) == 2


def test_parallel_edges_keep_the_fastest():
    net = RoadNetwork(np.zeros((2, 2)), np.array([0, 0, 0]), np.array([1, 1, 1]), np.array([5.0, 2.0, 9.0]))
    assert net.n_edges == 1
    assert net.time(0, 1) == pytest.approx(2.0)
    assert net.time(1, 0) == math.inf


# ---- shortest paths vs the naive Dijkstra -------------------------------------------------
@st.composite
def graphs(draw, symmetric=False):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(2, 12))
    e = draw(st.integers(0, 3 * n))
    tail = rng.integers(0, n, e)
    head = rng.integers(0, n, e)
    minutes = rng.choice([0.5, 1.0, 2.0, 3.25], e) if rng.random() < 0.5 else rng.uniform(0.1, 10.0, e)
    if symmetric:
        tail, head, minutes = np.r_[tail, head], np.r_[head, tail], np.r_[minutes, minutes]
    xy = rng.uniform(0, 5, (n, 2))
    return xy, tail.astype(np.int64), head.astype(np.int64), minutes.astype(np.float64)


def _check_path(net, edges, a, b):
    nodes, cum = net.path(a, b)
    assert nodes[0] == a and nodes[-1] == b
    assert cum[0] == 0.0
    assert cum[-1] == pytest.approx(net.time(a, b), rel=RTOL, abs=1e-9)
    assert np.all(np.diff(cum) >= 0)
    for (u, v), step in zip(itertools.pairwise(nodes), np.diff(cum), strict=True):
        assert (int(u), int(v)) in edges, "consecutive path nodes must be joined by an edge"
        assert step == pytest.approx(edges[(int(u), int(v))], rel=1e-5, abs=1e-6)
    return nodes, cum


@SETTINGS
@given(graphs())
def test_times_match_naive_dijkstra(case):
    xy, tail, head, minutes = case
    n = len(xy)
    ref = np.array(naive_network.all_pairs(tail, head, minutes, n))
    net = RoadNetwork(xy, tail, head, minutes)
    got = np.array([[net.time(a, b) for b in range(n)] for a in range(n)])
    npt.assert_allclose(got, ref, rtol=RTOL)                       # inf == inf where unreachable
    npt.assert_allclose(net.times_to(np.arange(n), n - 1), ref[:, n - 1], rtol=RTOL)
    npt.assert_allclose(net.times_from(0, np.arange(n)), ref[0], rtol=RTOL)
    dist, _ = net.row(1)
    assert dist.dtype == np.float32
    npt.assert_allclose(dist, ref[1], rtol=RTOL)


@SETTINGS
@given(graphs())
def test_paths_are_consistent_with_times(case):
    xy, tail, head, minutes = case
    n = len(xy)
    net = RoadNetwork(xy, tail, head, minutes)
    edges = naive_network.edge_minutes(tail, head, minutes)
    for a in range(n):
        for b in range(n):
            if a == b:
                nodes, cum = net.path(a, b)
                npt.assert_array_equal(nodes, [a])
                npt.assert_array_equal(cum, [0.0])
            elif math.isfinite(net.time(a, b)):
                _check_path(net, edges, a, b)
            else:
                with pytest.raises(ValueError, match="cannot be reached"):
                    net.path(a, b)


@SETTINGS
@given(graphs(symmetric=True))
def test_symmetric_network_reverses_a_cached_path(case):
    xy, tail, head, minutes = case
    n = len(xy)
    net = RoadNetwork(xy, tail, head, minutes)
    assert net.symmetric
    ref = np.array(naive_network.all_pairs(tail, head, minutes, n))
    edges = naive_network.edge_minutes(tail, head, minutes)
    b = n - 1
    net.prepare([b])
    for a in range(n - 1):
        if math.isfinite(ref[a, b]):
            assert net.time(a, b) == pytest.approx(ref[a, b], rel=RTOL)
            _check_path(net, edges, a, b)
            assert net.row_index[a] < 0                            # answered from b's row
    npt.assert_allclose(net.times_from(0, np.array([b])), ref[0, [b]], rtol=RTOL)


@SETTINGS
@given(graphs(), st.lists(st.floats(-1.0, 40.0), min_size=1, max_size=12))
def test_position_is_on_the_path_and_monotone(case, elapsed):
    xy, tail, head, minutes = case
    n = len(xy)
    net = RoadNetwork(xy, tail, head, minutes)
    for a, b in [(0, n - 1), (n - 1, 0), (0, 0)]:
        total = net.time(a, b)
        if not math.isfinite(total):
            continue
        nodes, cum = net.path(a, b)
        where = {int(v): i for i, v in enumerate(nodes)}
        assert net.position(a, b, 0.0) == a
        assert net.position(a, b, total) == b
        assert net.position(a, b, total + 1.0) == b
        steps = []
        for t in sorted(elapsed):
            p = net.position(a, b, t)
            assert p in where, "position must be a node of the path"
            k = where[p]
            assert cum[k] <= max(t, 0.0)                           # already passed ...
            if k + 1 < len(cum):
                assert cum[k + 1] > t                              # ... and the next one not yet
            steps.append(k)
        assert steps == sorted(steps)


def test_row_cache_full_falls_back_to_exact_answers(monkeypatch):
    monkeypatch.setattr(sim.network, "ROW_CACHE_BYTES", 0)          # the cache holds its minimum, 64 rows
    net = build(_grid(size_km=(9.0, 9.0)), [])                      # 100 nodes
    n = net.n_nodes
    tail, head = net.graph.nonzero()
    minutes = np.asarray(net.graph[tail, head]).ravel()
    ref = np.array(naive_network.all_pairs(tail, head, minutes, n))
    got = net.times_to(np.arange(n), 57)
    npt.assert_allclose(got, ref[:, 57], rtol=RTOL)
    assert (net.row_index >= 0).sum() == 64
    uncached = int(np.flatnonzero(net.row_index < 0)[0])
    assert net.time(uncached, 3) == pytest.approx(ref[uncached, 3], rel=RTOL)
    _, cum = net.path(uncached, 99)
    assert cum[-1] == pytest.approx(ref[uncached, 99], rel=RTOL)
    assert RoadGeo(net).rows_for([uncached]) is None               # cannot hand out a matrix row


def test_snap_is_the_nearest_node():
    rng = np.random.default_rng(31)
    net = build(_grid(size_km=(5.0, 5.0), spacing_km=0.5), [])
    pts = rng.uniform(-1.0, 6.0, (200, 2))
    brute = np.argmin(((pts[:, None, :] - net.xy[None, :, :]) ** 2).sum(axis=2), axis=1)
    npt.assert_array_equal(net.snap(pts), brute)
    assert net.snap(np.array([1.0, 1.5])).shape == (1,)

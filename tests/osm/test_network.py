"""The Helsinki network: shortest paths against networkx, and a closed link against a full recomputation."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

import scenarios
from sim.geo import RoadView
from sim.world import compile_world


@pytest.fixture(scope="module")
def helsinki():
    """The compiled helsinki World (every row computed: the network has fewer than 4,000 nodes)."""
    return compile_world(scenarios.load("helsinki"))


def test_the_network_is_the_imported_one(helsinki):
    info = helsinki.info
    assert info["geography"] == "osm" and info["road_nodes"] == helsinki.geo.net.n_nodes > 500
    assert info["road_nodes_dropped"] > 0 and info["origin_lonlat"] == [24.9443, 60.1716]
    assert helsinki.geo.net.lonlat.shape == (helsinki.geo.net.n_nodes, 2)
    assert not helsinki.geo.net.symmetric  # one-way streets


def test_shortest_paths_agree_with_networkx(helsinki):
    net = helsinki.geo.net
    g = net.graph.tocoo()
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(g.row.tolist(), g.col.tolist(), g.data.tolist(), strict=True))
    rng = np.random.default_rng(14)
    pairs = rng.integers(0, net.n_nodes, size=(200, 2))
    weight = {(int(a), int(b)): float(w) for a, b, w in zip(g.row, g.col, g.data, strict=True)}
    for a, b in pairs.tolist():
        truth = nx.dijkstra_path_length(graph, a, b)
        nodes, _ = net.path(a, b)  # the route a unit drives, summed in float64 link by link
        route = sum(weight[(u, v)] for u, v in zip(nodes[:-1].tolist(), nodes[1:].tolist(), strict=True))
        assert route == pytest.approx(truth, rel=1e-9, abs=1e-9), (a, b)
        assert net.time(a, b) == pytest.approx(truth, rel=1e-6, abs=1e-6)  # the float32 row


def test_closing_a_link_changes_exactly_the_times_whose_paths_used_it(helsinki):
    net = helsinki.geo.net
    before = net.rows[net.row_index].astype(np.float64)  # every origin's row, in node order
    pred = net._pred[net.row_index]
    g = net.graph.tocoo()
    # the link most trees use
    used_by = [(pred[:, v] == u).sum() for u, v in zip(g.row, g.col, strict=True)]
    k = int(np.argmax(used_by))
    u, v = int(g.row[k]), int(g.col[k])
    view = RoadView(net)
    view.change_links(np.array([u]), np.array([v]), 0.0)
    roads = view._roads
    assert 0 < roads.reused_rows < net.n_nodes  # only the trees through the link were computed again
    after = roads.rows[roads.row_index].astype(np.float64)
    closed = net.graph.tolil()
    closed[u, v] = 0
    truth = dijkstra(closed.tocsr(), directed=True)
    np.testing.assert_allclose(after, truth, rtol=1e-6)
    # pairs whose shortest path used the link: v's subtree in each origin's tree, when v's parent is u
    used = np.zeros_like(before, dtype=bool)
    for o in np.flatnonzero(pred[:, v] == u):
        y = np.arange(net.n_nodes)  # walk every node's path back to o at once
        while (y >= 0).any():
            used[o] |= y == v
            y = np.where(y >= 0, pred[o, np.maximum(y, 0)], -1)
    changed = after != before
    assert changed.any()
    assert not (changed & ~used).any()  # nothing else changed, bit for bit
    ties = used & ~changed
    np.testing.assert_allclose(truth[ties], before[ties], rtol=1e-6)  # unchanged only where a tie exists
    view.change_links(np.array([u]), np.array([v]), 1.0)
    assert view._roads is net  # restored: the shared network again


def test_incidents_happen_on_the_road_nodes_of_their_district(helsinki):
    from sim.demand import generate
    from sim.rng import Streams

    stream = generate(helsinki, helsinki.geo.for_run(), Streams(1, 0))
    assert stream.n > 0
    for d, (nodes, weights) in enumerate(helsinki.district_zones):
        mine = stream.loc[stream.district == d]
        assert np.isin(mine, nodes).all() and (weights > 0).all()
    xy = helsinki.geo.net.xy[stream.loc]
    np.testing.assert_array_equal(np.column_stack([stream.x_km, stream.y_km]), xy)


def test_the_compiled_world_is_cached(monkeypatch, tmp_path):
    from sim import worldcache

    monkeypatch.setenv(worldcache.ENV, str(tmp_path))
    s = scenarios.load("helsinki")
    first = worldcache.cached_world(s)
    path = worldcache.cache_path(scenarios.scenario_hash(s), tmp_path)
    assert path.is_file()
    monkeypatch.setattr(worldcache, "compile_world", lambda s: pytest.fail("compiled again"))
    again = worldcache.cached_world(s)
    np.testing.assert_array_equal(again.geo.net.lonlat, first.geo.net.lonlat)
    assert s.geography.sha256 in json.dumps(s.model_dump(mode="json"))  # the file's content is in the key


@pytest.fixture(scope="module")
def grid_net(tmp_path_factory):
    """A directed 70 x 70 street grid (4,900 nodes: above PRECOMPUTE_NODES) with 12 prepared nodes."""
    from benchmarks.osm_import import write_grid
    from sim.network import PRECOMPUTE_NODES
    from sim.osm.graph import build_network
    from sim.osm.read import read

    path = tmp_path_factory.mktemp("grid") / "grid.osm"
    write_grid(path, 70)
    net = build_network(read(path)).road_network()
    assert net.n_nodes > PRECOMPUTE_NODES and not net.symmetric
    net.prepare(np.random.default_rng(5).choice(net.n_nodes, 12, replace=False))
    return net


def _route_minutes(net, nodes) -> float:
    g = net.graph
    return sum(float(g[u, v]) for u, v in zip(nodes[:-1].tolist(), nodes[1:].tolist(), strict=True))


def test_trips_into_prepared_nodes_read_their_reverse_trees(grid_net):
    net = grid_net
    scenes = np.random.default_rng(6).choice(net.n_nodes, 20, replace=False)
    truth = dijkstra(net.graph, directed=True, indices=scenes)
    for s, row in zip(scenes.tolist(), truth, strict=True):
        np.testing.assert_allclose(net.times_from(s, net.prepared), row[net.prepared], rtol=1e-6)
        for b in net.prepared.tolist():
            assert net.time(s, b) == pytest.approx(row[b], rel=1e-6)
            nodes, cum = net.path(s, b)
            assert nodes[0] == s and nodes[-1] == b
            assert _route_minutes(net, nodes) == pytest.approx(row[b], rel=1e-9)  # a shortest route
            assert cum[-1] == pytest.approx(row[b], rel=1e-6)
    assert (net.row_index[scenes] < 0).all()  # no row was computed from a scene


def test_a_closed_link_updates_the_reverse_trees_too(grid_net):
    net = grid_net
    g = net.graph.tocoo()
    b = int(net.prepared[0])
    succ = net._rev_succ[net._rev_of[b]]
    k = int(np.flatnonzero(succ[g.row] == g.col)[0])  # a link of b's reverse tree
    view = RoadView(net)
    view.change_links(g.row[k:k + 1], g.col[k:k + 1], 0.0)
    closed = net.graph.tolil()
    closed[g.row[k], g.col[k]] = 0
    into = dijkstra(closed.tocsr().T.tocsr(), directed=True, indices=net.prepared)  # times into each
    roads = view._roads
    for t, row in zip(net.prepared.tolist(), into, strict=True):
        np.testing.assert_allclose(roads._rev_dist[roads._rev_of[t]], row, rtol=1e-6)
    assert view.time(int(g.row[k]), b) == pytest.approx(into[0][g.row[k]], rel=1e-6)

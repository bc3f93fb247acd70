"""A run's result does not depend on what runs before it in the same process computed (issue #12 and #14).

A sweep worker keeps one World per configuration and runs its replications
one after another; a road network above ``PRECOMPUTE_NODES`` caches the rows
that runs ask for in that shared World. Which rows are cached must never
change an answer: on a street grid, where many routes tie, the route (and so
where a unit on its way is) read from the origin's row and the one read
backwards from the destination's row often differ, and a road change reuses
cached rows. The grid here is 65 x 65 nodes (4,225, above PRECOMPUTE_NODES)
with arterials every third street, so both equal-length and unequal links
occur.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import scenarios
import sim
from sim.geo import RoadView
from sim.network import PRECOMPUTE_NODES
from sim.world import compile_world

pytestmark = pytest.mark.nojit

GRID: dict[str, Any] = {
    "schema_version": 1,
    "name": "ties",
    "description": "A 16 km street grid with arterials, three stations and road changes (synthetic).",
    "time": {"horizon": "8 h"},
    "geography": {"kind": "grid", "origin_km": [0, 0], "size_km": [16, 16], "spacing_km": 0.25,
                  "speed_kmh": 30, "arterial_every": 3, "arterial_speed_kmh": 45},
    "districts": {"city": {"population": 100000,
                           "boundary": [[-0.1, -0.1], [16.1, -0.1], [16.1, 16.1], [-0.1, 16.1]]}},
    "stations": {"A": {"district": "city", "location": [2, 2]},
                 "B": {"district": "city", "location": [14, 14]},
                 "C": {"district": "city", "location": [2, 14]}},
    "hospitals": {"H": {"location": [8, 8], "capacity": 3}},
    "unit_types": {"ambulance": {"transports": True, "turnout": 1}},
    "fleets": {"A": {"ambulance": 2}, "B": {"ambulance": 2}, "C": {"ambulance": 2}},
    "incident_types": {"medical": {"priority_mix": {1: 1.0}, "target_response": 10,
                                   "required_units": {"ambulance": 1},
                                   "on_scene": {"dist": "exponential", "mean": 20}}},
    "incidents": [],
    "demand": {"rates_per_hr": {"city": {"medical": 20}}},
    "road_changes": [
        {"at": 60, "until": 300, "area": {"centre": [8, 6], "radius_km": 1.0}, "label": "flooded underpass"},
        {"at": 120, "until": 400, "area": {"centre": [5, 10], "radius_km": 0.8}, "factor": 0.5,
         "label": "debris"},
        {"at": 90, "until": 200, "link": {"from": [6, 2], "to": [6.25, 2]}, "label": "burst main"},
    ],
}


@pytest.fixture(scope="module")
def scenario():
    return scenarios.from_dict(copy.deepcopy(GRID))


def test_the_grid_is_large_and_symmetric(scenario):
    net = compile_world(scenario).geo.net
    assert net.n_nodes > PRECOMPUTE_NODES and net.symmetric and not net.complete


def test_a_run_alone_equals_the_same_run_after_others_sharing_the_world(scenario):
    shared = compile_world(scenario)
    for seed in (11, 12, 13):  # earlier replications of the worker fill the shared row cache
        sim.run(scenario, seed=seed, world=shared)
    assert shared.geo.net.row_index.max() > 40  # rows from where units stood when dispatched
    for seed in (1, 2):
        alone = sim.run(scenario, seed=seed, world=compile_world(scenario))
        after = sim.run(scenario, seed=seed, world=shared)
        assert (alone.events["kind"].astype(str) == "road_changed").sum() == 6  # three changes, each undone
        assert alone.events.equals(after.events)
        assert alone.assignments.equals(after.assignments)


def _pairs(net, n: int, seed: int) -> list[tuple[int, int]]:
    """``n`` trips from random nodes to the prepared ones (stations, hospitals), back, and to other nodes."""
    rng = np.random.default_rng(seed)
    a = rng.choice(net.n_nodes, n, replace=False).tolist()
    b = rng.choice(net.prepared, n).tolist()
    c = rng.choice(net.n_nodes, n, replace=False).tolist()
    return [*zip(a, b, strict=True), *zip(b, a, strict=True), *zip(a, c, strict=True)]


def test_routes_and_times_do_not_depend_on_the_rows_cached_before(scenario):
    fresh = compile_world(scenario).geo.net
    used = compile_world(scenario).geo.net
    pairs = _pairs(fresh, 150, 3)
    for a, b in pairs:  # other runs asked for rows from both ends of every trip
        used.row(a)
        used.row(b)
    for a, b in pairs:
        assert used.route(a, b)[0] == fresh.route(a, b)[0], (a, b)
        assert used.time(a, b) == fresh.time(a, b), (a, b)
        assert used.position(a, b, 7.5) == fresh.position(a, b, 7.5)
    dests = fresh.prepared
    for a, _ in pairs[:50]:
        np.testing.assert_array_equal(used.times_from(a, dests), fresh.times_from(a, dests))


def test_a_road_change_reroutes_alike_whatever_the_shared_network_cached(scenario):
    fresh = compile_world(scenario).geo.net
    used = compile_world(scenario).geo.net
    for a in np.random.default_rng(4).choice(used.n_nodes, 300, replace=False).tolist():
        used.row(a)
    g = fresh.graph.tocoo()
    views = RoadView(fresh), RoadView(used)
    for k in (100, 5000, 9000):
        for view in views:
            view.change_links(g.row[k:k + 1], g.col[k:k + 1], 0.0)
        new_fresh, new_used = (view._roads for view in views)
        # the rows held (reused or computed) are the same ones, equal bit for bit
        np.testing.assert_array_equal(new_used.row_index, new_fresh.row_index)
        rows = new_fresh.row_index[new_fresh.row_index >= 0]
        np.testing.assert_array_equal(new_used.rows[rows], new_fresh.rows[rows])
        pairs = _pairs(fresh, 60, k)
        assert [new_used.route(a, b)[0] for a, b in pairs] == [new_fresh.route(a, b)[0] for a, b in pairs]

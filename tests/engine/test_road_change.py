"""Road changes (issue #10): trips that start while a road is closed or slowed take the detour.

The map is a 4 x 4 km street grid with 1 km blocks at 30 km/h: every block
takes 2 min. The station is at (0, 0) and the incidents at (3, 0), three
blocks east along the bottom street (6 min). Closing the block (1, 0)-(2, 0)
(or every road touching its two ends) forces a detour of five blocks
(10 min); slowing it to half speed makes the bottom street 2 + 4 + 2 = 8 min,
still shorter than the detour. The change holds from 30 to 80 min.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra

import scenarios
import sim

E = "W/engine/1"
SCENE = [3, 0]

ROADS: dict[str, Any] = {
    "schema_version": 1,
    "name": "roads",
    "description": "A 4 km street grid with one station (synthetic).",
    "time": {"horizon": 150},
    "geography": {"kind": "grid", "origin_km": [0, 0], "size_km": [4, 4], "spacing_km": 1, "speed_kmh": 30},
    "districts": {"city": {"boundary": [[-0.5, -0.5], [4.5, -0.5], [4.5, 4.5], [-0.5, 4.5]]}},
    "stations": {"W": {"district": "city", "location": [0, 0]}},
    "unit_types": {"engine": {}},                                 # no turnout: no unit_en_route rows
    "fleets": {"W": {"engine": 1}},
    "incident_types": {"fire": {"priority_mix": {1: 1.0}, "target_response": 8,
                                "required_units": {"engine": 1}, "on_scene": 10}},
    "incidents": [],
}


def _fires(*times: float) -> list[dict[str, Any]]:
    """Scripted fires at the scene at ``times`` (minutes)."""
    return [{"at": at, "type": "fire", "district": "city", "location": SCENE} for at in times]

LINK = {"at": 30, "until": 80, "link": {"from": [1, 0], "to": [2, 0]}, "label": "burst main"}
AREA = {"at": 30, "until": 80, "area": {"centre": [1.5, 0], "radius_km": 0.5}, "label": "sinkhole"}
SLOW = {**LINK, "factor": 0.5}

#: case -> (road change, minutes from the station to the scene while it holds, directed links changed)
CASES = {"link_closed": (LINK, 10.0, 2), "area_closed": (AREA, 10.0, 10), "link_slowed": (SLOW, 8.0, 2)}


def _roads(*changes: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(ROADS)
    d["road_changes"] = [copy.deepcopy(c) for c in changes]
    d["incidents"] = _fires(0, 28, 55, 100)    # before the change; 2 min before it; during it; after it
    return d


def _trace(detour: float) -> list[tuple]:
    """The exact event list with a change in force over [30, 80) that makes the trip ``detour`` min."""
    d = detour
    rows = []
    for i, at in enumerate((0.0, 28.0, 55.0, 100.0)):
        rows += [("call_received", at, i, None), ("call_answered", at, i, None),
                 ("unit_dispatched", at, i, E)]
    rows += [
        ("unit_arrived", 6.0, 0, E), ("unit_left_scene", 16.0, 0, E), ("incident_cleared", 16.0, 0, None),
        ("unit_returning", 16.0, None, E), ("unit_available", 22.0, None, E),
        ("road_changed", 30.0, None, None),
        ("unit_arrived", 34.0, 1, E),                # set off at 28 on open roads: keeps its 6 min
        ("unit_left_scene", 44.0, 1, E), ("incident_cleared", 44.0, 1, None),
        ("unit_returning", 44.0, None, E), ("unit_available", 44.0 + d, None, E),   # home by the detour
        ("unit_arrived", 55.0 + d, 2, E), ("unit_left_scene", 65.0 + d, 2, E),
        ("incident_cleared", 65.0 + d, 2, None), ("unit_returning", 65.0 + d, None, E),
        ("road_changed", 80.0, None, None),          # reopened while it drives home: keeps the detour
        ("unit_available", 65.0 + 2 * d, None, E),
        ("unit_arrived", 106.0, 3, E), ("unit_left_scene", 116.0, 3, E), ("incident_cleared", 116.0, 3, None),
        ("unit_returning", 116.0, None, E), ("unit_available", 122.0, None, E),
        ("run_end", 150.0, None, None),
    ]
    return sorted(rows, key=lambda r: r[1])          # stable: same-time rows keep the order above


def _travel(result) -> list[float]:
    a = result.assignments.sort_values("t_dispatch_min")
    return a["travel_min"].tolist()


def test_hand_computed_times_match_dijkstra():
    world = sim.compile(scenarios.from_dict(_roads(LINK)))
    net = world.geo.net
    station = int(world.station_loc[0])
    scene = int(net.snap(np.array(SCENE, dtype=np.float64))[0])
    assert dijkstra(net.graph, indices=station)[scene] == 6.0
    coo = net.graph.tocoo()
    change = world.road_changes[0]
    closed = np.zeros(coo.nnz, dtype=bool)
    for t, h in zip(change.tail, change.head, strict=True):
        closed |= (coo.row == t) & (coo.col == h)
    assert closed.sum() == 2
    without = coo.copy()
    without.data = np.where(closed, np.inf, coo.data)   # inf: never used by a shortest path
    assert dijkstra(without.tocsr(), indices=station)[scene] == 10.0
    slowed = coo.copy()
    slowed.data = np.where(closed, 2 * coo.data, coo.data)
    assert dijkstra(slowed.tocsr(), indices=station)[scene] == 8.0


@pytest.mark.nojit
@pytest.mark.parametrize("case", sorted(CASES))
def test_trips_after_the_change_take_the_detour(case, events_of):
    change, detour, links = CASES[case]
    result = sim.run(scenarios.from_dict(_roads(change)))
    assert _travel(result) == [6.0, 6.0, detour, 6.0]
    assert events_of(result) == _trace(detour)
    ev = result.events[result.events["kind"] == "road_changed"]
    assert [json.loads(x) for x in ev["detail"]] == [
        {"label": change["label"], "factor": change.get("factor", 0.0), "links": links},
        {"label": change["label"], "factor": 1.0, "links": links}]


@pytest.mark.nojit
def test_without_until_the_change_lasts_to_the_end():
    change = {k: v for k, v in LINK.items() if k != "until"}
    result = sim.run(scenarios.from_dict(_roads(change)))
    assert _travel(result) == [6.0, 6.0, 10.0, 10.0]
    assert result.events["kind"].astype(str).tolist().count("road_changed") == 1


@pytest.mark.nojit
def test_dispatch_chooses_by_the_changed_roads():
    # A second station at (4, 3) is 1 + 3 blocks (8 min) from the scene: worse than W on open roads
    # (6 min), better than W's 10 min detour while the block is closed.
    d = _roads(LINK)
    d["stations"]["NE"] = {"district": "city", "location": [4, 3]}
    d["fleets"]["NE"] = {"engine": 1}
    d["incidents"] = _fires(0, 40, 100)
    a = sim.run(scenarios.from_dict(d)).assignments.sort_values("t_dispatch_min")
    assert list(zip(a["unit_id"].astype(str), a["travel_min"], strict=True)) == [
        (E, 6.0), ("NE/engine/1", 8.0), (E, 6.0)]


def test_runs_in_one_process_do_not_leak_road_changes(events_of):
    closed_s, open_s = scenarios.from_dict(_roads(LINK)), scenarios.from_dict(_roads())
    closed_w, open_w = sim.compile(closed_s), sim.compile(open_s)
    station = int(closed_w.station_loc[0])
    scene = int(closed_w.geo.locate(np.array([SCENE], dtype=np.float64))[0])
    runs = [
        ("closed", sim.run(closed_s, world=closed_w)),
        ("open", sim.run(open_s, world=open_w)),
        ("closed", sim.run(closed_s, world=closed_w)),
        ("open", sim.run(open_s)),
        ("closed", sim.run(closed_s)),
        ("open", sim.run(open_s, world=open_w)),
        ("closed", sim.run(closed_s, world=closed_w)),
    ]
    expected = {"closed": ([6.0, 6.0, 10.0, 6.0], _trace(10.0)),
                "open": ([6.0] * 4, [r for r in _trace(6.0) if r[0] != "road_changed"])}
    first: dict[str, Any] = {}
    for kind, result in runs:
        assert (_travel(result), events_of(result)) == expected[kind], kind
        if kind in first:
            pd.testing.assert_frame_equal(result.events, first[kind].events)
            pd.testing.assert_frame_equal(result.assignments, first[kind].assignments)
        first.setdefault(kind, result)
    # the shared network of the World the closures ran on is as compiled
    assert closed_w.geo.time(station, scene) == 6.0
    assert (closed_w.geo.net.graph.data == 2.0).all()
    assert closed_w.geo.times_from(station, np.array([scene])).tolist() == [6.0]


@pytest.mark.nojit
def test_a_moving_unit_whose_route_the_closure_cut_is_placed_on_the_route_it_drives():
    """A unit driving home when closed roads cut its trip's start off is placed along its own route.

    Fire 0 at (3, 0): the engine arrives at 6, leaves at 16 and drives home along the bottom street
    ((3, 0) at 0 min, (2, 0) at 2, (1, 0) at 4, (0, 0) at 6). At 17 every road touching (3, 0)
    closes: the roads of now no longer join its trip's ends, so the choice kernel cannot read the
    route from their predecessor rows and the route of the roads without changes is stored instead
    (``Fleet.store_route``). Fire 1 at (0, 3) at 19: the engine, 3 min into its drive, is at (2, 0),
    5 blocks (10 min) from the scene: it arrives at 29. (Placed at its trip's start, cut off, it
    could not go; it would be sent from home at 22 and arrive at 28.)
    """
    d = copy.deepcopy(ROADS)
    d["road_changes"] = [{"at": 17, "area": {"centre": [3, 0], "radius_km": 0.5}, "label": "cut off"}]
    d["incidents"] = [*_fires(0), {"at": 19, "type": "fire", "district": "city", "location": [0, 3]}]
    result = sim.run(scenarios.from_dict(d))
    a = result.assignments.sort_values("t_dispatch_min")
    assert a["t_dispatch_min"].tolist() == [0.0, 19.0]
    assert a["t_arrive_min"].tolist() == [6.0, 29.0]
    assert a["travel_min"].tolist() == [6.0, 10.0]

"""Places cut off by closed roads: the scene waits, the unit stays, the road reopens, the unit goes.

The map is the 4 x 4 km street grid of test_road_change.py (1 km blocks at
30 km/h: 2 min a block). The station W is at (0, 0), the scene at (3, 0),
three blocks east (6 min). Closing every road touching the scene's node
(an area of radius 0.5 km around it, from 30 to 80 min) cuts the scene off
in both directions: nothing can drive to it or away from it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest

import scenarios
import sim
from tests.engine.test_road_change import ROADS, SCENE

E = "W/engine/1"
CUT = {"at": 30, "until": 80, "area": {"centre": SCENE, "radius_km": 0.5}, "label": "flooded corner"}


def _world(*fires: float, max_queue: float | None = None, turnout: float = 0.0) -> dict[str, Any]:
    d = copy.deepcopy(ROADS)
    d["road_changes"] = [copy.deepcopy(CUT)]
    d["incidents"] = [{"at": at, "type": "fire", "district": "city", "location": SCENE} for at in fires]
    if max_queue is not None:
        d["incident_types"]["fire"]["max_queue"] = max_queue
    if turnout:
        d["unit_types"]["engine"]["turnout"] = turnout
    return d


def _detail(result, kind: str) -> list[dict[str, Any]]:
    ev = result.events
    return [json.loads(x) for x in ev.loc[ev["kind"] == kind, "detail"]]


@pytest.mark.nojit
def test_a_cut_off_scene_waits_and_is_served_when_the_road_reopens(events_of):
    result = sim.run(scenarios.from_dict(_world(40)))
    assert events_of(result) == [
        ("road_changed", 30.0, None, None),
        ("call_received", 40.0, 0, None), ("call_answered", 40.0, 0, None),
        ("incident_queued", 40.0, 0, None),
        ("incident_unreachable", 40.0, 0, None),      # the free unit cannot get there: logged once
        ("road_changed", 80.0, None, None),
        ("unit_dispatched", 80.0, 0, E),               # tried again once the road change is done
        ("unit_arrived", 86.0, 0, E), ("unit_left_scene", 96.0, 0, E), ("incident_cleared", 96.0, 0, None),
        ("unit_returning", 96.0, None, E), ("unit_available", 102.0, None, E),
        ("run_end", 150.0, None, None),
    ]
    assert _detail(result, "incident_unreachable") == [{"waiting_for": {"engine": 1}}]
    inc = result.incidents.iloc[0]
    assert inc["status"] == "resolved"
    assert result.assignments["travel_min"].tolist() == [6.0]


@pytest.mark.nojit
def test_a_cut_off_scene_expires_through_max_queue(events_of):
    result = sim.run(scenarios.from_dict(_world(40, max_queue=20)))
    rows = events_of(result)
    assert rows == [
        ("road_changed", 30.0, None, None),
        ("call_received", 40.0, 0, None), ("call_answered", 40.0, 0, None),
        ("incident_queued", 40.0, 0, None), ("incident_unreachable", 40.0, 0, None),
        ("incident_unserved", 60.0, 0, None),
        ("road_changed", 80.0, None, None),            # nothing waits any more: nobody goes
        ("run_end", 150.0, None, None),
    ]
    assert _detail(result, "incident_unserved") == [
        {"reason": "no unit could reach it within max_queue (roads closed)"}]
    assert result.assignments.empty


@pytest.mark.nojit
def test_a_unit_cut_off_from_its_post_stays_available_where_it_is(events_of):
    # dispatched at 25 on open roads: the closure at 30 does not change its trip (6 min, arrives 31);
    # at 41 its post is cut off, so it is available at the scene, where it takes the fire of 50 at
    # once (no travel); at 80 the road reopens and it drives home (a relocation to its own post)
    result = sim.run(scenarios.from_dict(_world(25, 50)))
    assert events_of(result) == [
        ("call_received", 25.0, 0, None), ("call_answered", 25.0, 0, None), ("unit_dispatched", 25.0, 0, E),
        ("road_changed", 30.0, None, None),
        ("unit_arrived", 31.0, 0, E), ("unit_left_scene", 41.0, 0, E), ("incident_cleared", 41.0, 0, None),
        ("unit_available", 41.0, None, E),             # stranded at the scene, not returning
        ("call_received", 50.0, 1, None), ("call_answered", 50.0, 1, None), ("unit_dispatched", 50.0, 1, E),
        ("unit_arrived", 50.0, 1, E), ("unit_left_scene", 60.0, 1, E), ("incident_cleared", 60.0, 1, None),
        ("unit_available", 60.0, None, E),
        ("road_changed", 80.0, None, None),
        ("unit_relocating", 80.0, None, E), ("unit_available", 86.0, None, E),
        ("run_end", 150.0, None, None),
    ]
    assert result.assignments["travel_min"].tolist() == [6.0, 0.0]


@pytest.mark.nojit
def test_a_unit_whose_scene_is_cut_off_during_its_turnout_is_taken_off(events_of):
    # chosen at 29 on open roads, it sets off after its 2-min turnout (31): the scene is cut off by
    # then, so it is taken off (unit_recalled), stays at its station, and goes when the road reopens
    result = sim.run(scenarios.from_dict(_world(29, turnout=2.0)))
    assert events_of(result) == [
        ("call_received", 29.0, 0, None), ("call_answered", 29.0, 0, None), ("unit_dispatched", 29.0, 0, E),
        ("road_changed", 30.0, None, None),
        ("unit_en_route", 31.0, 0, E),
        ("unit_recalled", 31.0, 0, E),
        ("incident_queued", 31.0, 0, None), ("incident_unreachable", 31.0, 0, None),
        ("unit_available", 31.0, None, E),
        ("road_changed", 80.0, None, None),
        ("unit_dispatched", 80.0, 0, E), ("unit_en_route", 82.0, 0, E),
        ("unit_arrived", 88.0, 0, E), ("unit_left_scene", 98.0, 0, E), ("incident_cleared", 98.0, 0, None),
        ("unit_returning", 98.0, None, E), ("unit_available", 104.0, None, E),
        ("run_end", 150.0, None, None),
    ]
    assert _detail(result, "unit_recalled") == [{"from": 0, "reason": "cannot reach the scene"}]


def test_without_closures_the_dispatch_is_unchanged():
    # the same fires with the road only slowed: nothing is cut off, nothing is logged unreachable
    d = _world(40)
    d["road_changes"][0]["factor"] = 0.5
    result = sim.run(scenarios.from_dict(d))
    kinds = set(result.events["kind"].astype(str))
    assert "incident_unreachable" not in kinds and "incident_queued" not in kinds
    assert result.assignments["t_arrive_min"].tolist() == [48.0]  # the last block slowed to 4 min: 8 min


def test_the_road_view_counts_closed_links_and_takes_a_factor_per_link():
    world = sim.compile(scenarios.from_dict(_world(40)))
    view = world.geo.for_run()
    tail, head = view.links_in_area(tuple(SCENE), 0.5)
    view.change_links(tail, head, np.where(np.arange(len(tail)) % 2 == 0, 0.0, 0.5))
    assert view.closed_links == (np.arange(len(tail)) % 2 == 0).sum()
    assert view.version == 1
    view.change_links(tail, head, 1.0)
    assert view.closed_links == 0 and view.version == 2
    with pytest.raises(ValueError, match="one number or one per link"):
        view.change_links(tail, head, np.ones(len(tail) + 1))
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\]"):
        view.change_links(tail, head, np.full(len(tail), 1.5))


@pytest.mark.nojit
def test_a_patient_whose_hospitals_are_cut_off_stays_with_the_unit_until_a_way_opens(events_of):
    # an ambulance on scene at (1, 0) from 27 to 37; the only hospital, at (3, 3), is cut off from 30 to
    # 80: the unit waits with its patient and drives the 5 blocks (10 min) once the road reopens
    d = copy.deepcopy(ROADS)
    d["hospitals"] = {"H": {"location": [3, 3], "capacity": 1}}
    d["unit_types"] = {"amb": {"transports": True}}
    d["fleets"] = {"W": {"amb": 1}}
    d["incident_types"] = {"med": {"priority_mix": {1: 1.0}, "target_response": 8,
                                   "required_units": {"amb": 1}, "on_scene": 10, "handover": 5}}
    d["road_changes"] = [{**CUT, "area": {"centre": [3, 3], "radius_km": 0.5}}]
    d["incidents"] = [{"at": 25, "type": "med", "district": "city", "location": [1, 0], "transport": True}]
    result = sim.run(scenarios.from_dict(d))
    A = "W/amb/1"
    assert events_of(result) == [
        ("call_received", 25.0, 0, None), ("call_answered", 25.0, 0, None), ("unit_dispatched", 25.0, 0, A),
        ("unit_arrived", 27.0, 0, A),
        ("road_changed", 30.0, None, None),
        ("unit_left_scene", 37.0, 0, A), ("incident_cleared", 37.0, 0, None),
        ("road_changed", 80.0, None, None),
        ("unit_at_hospital", 90.0, 0, A), ("handover_started", 90.0, 0, A), ("handover_done", 95.0, 0, A),
        ("unit_returning", 95.0, None, A), ("unit_available", 107.0, None, A),
        ("run_end", 150.0, None, None),
    ]

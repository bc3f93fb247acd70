"""Hazards that truly close roads (``close_factor: 0``), and one reroute per road update.

The town's only station is at (0, 0); the rain floods the valley column x = 2
km and the walls keep the water there. With ``close_factor`` 0 the links
touching the valley's nodes are closed to responders too, so the valley's
scenes and the call at (3.5, 0) beyond it are cut off: they wait, logged
``incident_unreachable``, and expire through ``max_queue`` (the water never
drains). Before the closure (minute 24) the roads are only slowed, and the
two units sent at minute 15 keep the trips they set off on.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import scenarios
from agents.fire import GridSection, Layout
from agents.hazard import RoadHazard, RoadSection
from agents.model import Simulation
from agents.policies.registry import resolve
from sim.world import compile_world
from tests.hazards.conftest import GRID, run, town
from tests.hazards.test_flood_component import FLOOD

pytestmark = pytest.mark.nojit

CALL = [{"at": "2 h", "type": "rescue", "district": "Town", "location": [3.5, 0.0]}]
ROADS = {"slow_at": 0.05, "slow_factor": 0.5, "close_at": 0.3, "close_factor": 0.0, "every": 5}


def _closed_town() -> dict:
    d = town({"flood": {**FLOOD, "roads": ROADS}}, incidents=CALL)
    d["incident_types"]["rescue"]["max_queue"] = 120
    return d


def test_a_true_closure_cuts_scenes_off_until_they_expire():
    result = run(_closed_town())
    ev = result.events
    kind = ev["kind"].astype(str)
    roads = [json.loads(x) for x in ev.loc[kind == "hazard_roads", "detail"]]
    assert roads[:2] == [{"hazard": "flood", "links": {"0.5": 46}}, {"hazard": "flood", "links": {"0.0": 46}}]
    closed_at = float(ev.loc[kind == "hazard_roads", "t_min"].iloc[1])
    inc = result.incidents.set_index("incident_id")
    call = 0                                                   # the scripted call beyond the valley
    assert inc.loc[call, "status"] == "unserved"
    unreachable = ev[kind == "incident_unreachable"]
    assert set(unreachable["incident_id"].astype(int)) == set(inc.index[inc["status"] == "unserved"])
    assert unreachable["incident_id"].is_unique                 # logged once each
    unserved = ev[kind == "incident_unserved"]
    for i, t in zip(unserved["incident_id"].astype(int), unserved["t_min"], strict=True):
        assert t == inc.loc[i, "t_call_min"] + 120            # each waited its max_queue out
    reasons = {json.loads(x)["reason"] for x in unserved["detail"]}
    assert reasons == {"no unit could reach it within max_queue (roads closed)"}
    # every unit sent went before the closure: none is sent into the closed valley
    sent = ev.loc[kind == "unit_dispatched", "t_min"]
    assert len(sent) and (sent < closed_at).all()


def test_each_road_update_reroutes_once():
    """The levels of one update (slowed, closed, restored) go to the roads in one call: one new version."""
    seen = {}
    result = run_with_model(_closed_town(), seen)
    ev = result.events
    updates = int((ev["kind"].astype(str) == "hazard_roads").sum())
    assert updates >= 2
    assert seen["model"].travel.version == updates


def test_mixed_levels_in_one_update_give_each_link_its_factor():
    """A field with slowed and closed cells: one call sets each link's own factor (original / factor)."""
    world = compile_world(scenarios.from_dict(town(incidents=CALL)))
    model = Simulation(world, resolve("nearest", {}, world), 1, 0, until=10.0)
    layout = Layout(world, GridSection(**GRID), None, "flood")
    section = RoadSection(slow_at=1, slow_factor=0.5, close_at=2, close_factor=0.0)
    roads = RoadHazard(model, layout, section, "flood")
    field = np.zeros(layout.shape)
    field[0, 0] = 2.0                                          # node (0, 0): its links closed
    field[7, 7] = 1.0                                          # node (3.5, 3.5): its links slowed
    assert roads.update(field) == 4 + 4                        # two links each, both directions
    view, net = model.travel, world.geo.net
    assert view.version == 1 and view.closed_links == 4
    a, b, corner = (int(net.snap(np.array([p]))[0]) for p in ([3.5, 3.5], [3.0, 3.5], [0.0, 0.0]))
    assert view.time(a, b) == 2 * net.time(a, b)
    assert view.time(corner, a) == np.inf


def run_with_model(d: dict, seen: dict):
    """Run ``d`` keeping the model in ``seen['model']``."""
    import sim

    return sim.run(scenarios.from_dict(d), seed=1, probe=lambda model: seen.__setitem__("model", model))

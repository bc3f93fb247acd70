"""Coupling of hazards with the run: roads the flood slows lengthen the trips dispatch plans and units drive.

The town's only station is at (0, 0); a scripted rescue call at (3.5, 0) at
2 h lies across the valley x = 2 km that the rain floods. Every route from
the station crosses the flooded column (its links are slowed or closed), so
the unit's trip is longer than on the same seed without the flood.
"""

from __future__ import annotations

import numpy as np
import pytest

import scenarios
from agents.model import Simulation
from sim.world import compile_world
from tests.hazards.conftest import run, town
from tests.hazards.test_flood_component import FLOOD

pytestmark = pytest.mark.nojit

CALL = [{"at": "2 h", "type": "rescue", "district": "Town", "location": [3.5, 0.0]}]
ROADS = {"slow_at": 0.05, "slow_factor": 0.5, "close_at": 0.3, "close_factor": 0.1, "every": 5}


def _trip(components):
    result = run(town(components, incidents=CALL))
    a = result.assignments
    row = a[a["incident_id"] == 0].iloc[0]
    return float(row["travel_min"]), result


def test_a_flooded_road_makes_the_trip_across_it_longer():
    dry, _ = _trip(None)
    wet_flood = {**FLOOD, "incident_type": None, "roads": ROADS}
    wet, result = _trip({"flood": wet_flood})
    assert dry == pytest.approx(3.5 / 30 * 60)            # the scene snaps to the node at 3.5 km; 30 km/h
    # the valley's nodes (x = 2) are deep: the two links touching one (1.5 -> 2 -> 2.5 km) are closed and
    # responders cross them at 0.1 of the speed: 1 km takes 20 min instead of 2
    assert wet == pytest.approx(dry + 1.0 / 30 * 60 * (1 / 0.1 - 1), rel=1e-9)
    table = result.extra["flood"]
    assert table["closed_links"].max() > 0
    ev = result.events
    assert (ev["kind"].astype(str) == "hazard_roads").any()


def test_the_travel_view_dispatch_reads_changes_with_the_water():
    """The run's own travel view: times across the valley grow when the flood closes it, others stay."""
    s = scenarios.from_dict(town({"flood": {**FLOOD, "incident_type": None, "roads": ROADS}}))
    world = compile_world(s)
    from agents import components
    from agents.policies.registry import resolve

    parts = components.validate(world.components, "<dict>", world)
    model = Simulation(world, resolve("nearest", {}, world), 1, 0, until=180.0, parts=parts)
    west, east, north = (int(world.geo.locate(np.array([p]))[0])
                         for p in ([0.0, 0.0], [3.5, 0.0], [0.0, 3.5]))
    before = (model.travel.time(west, east), model.travel.time(west, north))
    model.run()
    after = (model.travel.time(west, east), model.travel.time(west, north))
    assert after[0] > before[0] * 1.5 and after[1] == before[1]

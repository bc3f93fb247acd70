"""Diversion and recall (issue #11, item 1): exact traces on the hand-computable trace world.

The trace world (tests/engine/conftest.py) with one ambulance, at SA (place
A, turnout 1). Travel minutes: A-Y 8, A-X 4, X-Y 5; on scene 10, no transport.
A matrix geography places a unit part-way through a trip at the nearer end
of the trip, in time.
"""

from __future__ import annotations

import copy
import json

import pytest

import scenarios
import sim
from tests.engine.conftest import _BASE, event_rows, table_rows

pytestmark = pytest.mark.nojit
AMB = "SA/amb/1"


def _world(components: dict | None = None, incidents: list | None = None) -> dict:
    d = copy.deepcopy(_BASE)
    d["fleets"] = {"SA": {"amb": 1}}
    d["incident_types"]["medical"]["priority_mix"] = {1: 0.5, 2: 0.5}
    d["incidents"] = incidents if incidents is not None else [
        {"at": 0, "type": "medical", "district": "North", "location": "Y", "priority": 2, "transport": False},
        {"at": 3, "type": "medical", "district": "North", "location": "X", "priority": 1, "transport": False},
    ]
    if components is not None:
        d["components"] = components
    return d


def test_exact_trace_of_a_diversion_and_the_requeued_call():
    """At 3 the unit is 2 minutes into its 8-minute drive to Y (at A, the nearer end): diverted to X.

    X: arrives 3 + 4 = 7, works to 17; then the re-queued call at Y from X (5 min): 22, works to 32;
    home to A (8 min): 40.
    """
    result = sim.run(scenarios.from_dict(_world({"diversion": {}})), seed=1)
    assert event_rows(result) == [
        ("call_received", 0.0, 0, None), ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, AMB), ("unit_en_route", 1.0, 0, AMB),
        ("call_received", 3.0, 1, None), ("call_answered", 3.0, 1, None),
        ("unit_dispatched", 3.0, 1, AMB), ("unit_diverted", 3.0, 1, AMB),
        ("incident_queued", 3.0, 0, None),
        ("unit_arrived", 7.0, 1, AMB), ("unit_left_scene", 17.0, 1, AMB), ("incident_cleared", 17.0, 1, None),
        ("unit_dispatched", 17.0, 0, AMB), ("unit_arrived", 22.0, 0, AMB),
        ("unit_left_scene", 32.0, 0, AMB), ("incident_cleared", 32.0, 0, None),
        ("unit_returning", 32.0, None, AMB), ("unit_available", 40.0, None, AMB),
        ("run_end", 60.0, None, None),
    ]
    ev = result.events
    assert json.loads(ev.loc[ev["kind"] == "unit_diverted", "detail"].iloc[0]) == {"from": 0, "to": 1}
    rows = table_rows(result.assignments, ["incident_id", "t_dispatch_min", "t_arrive_min", "t_free_min",
                                           "diverted", "recalled"])
    assert rows == [(0, 0.0, None, 3.0, False, True), (1, 3.0, 7.0, 17.0, True, False),
                    (0, 17.0, 22.0, 32.0, False, False)]
    inc = table_rows(result.incidents, ["incident_id", "t_first_arrival_min", "status", "units_assigned"])
    assert inc == [(0, 22.0, "resolved", 2), (1, 7.0, "resolved", 1)]
    assert result.meta["components"]["diversion"] == {"diversions": 1}


def test_without_the_section_the_urgent_call_waits():
    result = sim.run(scenarios.from_dict(_world()), seed=1)
    rows = table_rows(result.incidents, ["incident_id", "t_first_arrival_min"])
    assert rows == [(0, 9.0), (1, 24.0)]  # Y at 1 + 8; X after Y's 10 minutes: 19 + Y-X 5
    assert not result.assignments["diverted"].any() and not result.assignments["recalled"].any()


@pytest.mark.parametrize(("gap", "diverted"), [(1, True), (2, False)])
def test_only_calls_at_least_priority_gap_less_urgent_give_up_their_unit(gap, diverted):
    result = sim.run(scenarios.from_dict(_world({"diversion": {"priority_gap": gap}})), seed=1)
    assert result.assignments["diverted"].any() == diverted


def test_a_unit_in_its_turnout_is_not_diverted():
    """The urgent call comes at 0.5, during the turnout: the unit is not on the road yet."""
    d = _world({"diversion": {}})
    d["incidents"][1]["at"] = 0.5
    result = sim.run(scenarios.from_dict(d), seed=1)
    assert not result.assignments["diverted"].any()


def _recall_at(t: float, requeue: bool, record: list):
    def probe(model):
        def fire(_):
            record.append(model.dispatch.recall(0, "false alarm", requeue=requeue))
        model.env.timeout(t).callbacks.append(fire)
    return probe


def test_recall_of_a_false_alarm_sends_the_unit_home_and_clears_the_call():
    """Recalled at 4 (3 minutes into the 8 to Y: the nearer end in time is A, its station)."""
    record: list = []
    one = [{"at": 0, "type": "medical", "district": "North", "location": "Y", "transport": False}]
    result = sim.run(scenarios.from_dict(_world(incidents=one)), seed=1, probe=_recall_at(4, False, record))
    assert record == [0]
    rows = event_rows(result)
    assert rows[3:] == [("unit_en_route", 1.0, 0, AMB), ("unit_recalled", 4.0, 0, AMB),
                        ("incident_cleared", 4.0, 0, None), ("unit_available", 4.0, None, AMB),
                        ("run_end", 60.0, None, None)]
    assert table_rows(result.assignments, ["t_arrive_min", "t_free_min", "recalled"]) == [(None, 4.0, True)]
    assert table_rows(result.incidents, ["status", "t_first_arrival_min"]) == [("resolved", None)]


def test_a_unit_recalled_past_half_way_drives_back_from_the_far_end():
    """Recalled at 6 (5 of 8 minutes: nearer Y): it drives Y-A, 8 minutes, and is home at 14."""
    record: list = []
    one = [{"at": 0, "type": "medical", "district": "North", "location": "Y", "transport": False}]
    result = sim.run(scenarios.from_dict(_world(incidents=one)), seed=1, probe=_recall_at(6, False, record))
    assert event_rows(result)[-3:] == [("unit_returning", 6.0, None, AMB),
                                       ("unit_available", 14.0, None, AMB), ("run_end", 60.0, None, None)]


def test_recall_with_requeue_sends_the_unit_again():
    """Requeued, the call takes the recalled unit itself (the only one) from where it was met (A, at 4).

    It is not at its post (it was on the road), so no turnout: A-Y 8 minutes, on scene at 12.
    """
    record: list = []
    one = [{"at": 0, "type": "medical", "district": "North", "location": "Y", "transport": False}]
    result = sim.run(scenarios.from_dict(_world(incidents=one)), seed=1, probe=_recall_at(4, True, record))
    kinds = [(k, t) for k, t, _, u in event_rows(result) if u == AMB]
    assert kinds[:6] == [("unit_dispatched", 0.0), ("unit_en_route", 1.0), ("unit_recalled", 4.0),
                         ("unit_dispatched", 4.0), ("unit_arrived", 12.0), ("unit_left_scene", 22.0)]
    assert table_rows(result.assignments, ["t_dispatch_min", "t_arrive_min", "recalled"]) == [
        (0.0, None, True), (4.0, 12.0, False)]


def test_recall_of_a_unit_not_en_route_is_refused():
    def probe(model):
        def fire(_):
            with pytest.raises(ValueError, match="not on its way"):
                model.dispatch.recall(0)
            fired.append(True)
        model.env.timeout(30).callbacks.append(fire)
    fired: list = []
    sim.run(scenarios.from_dict(_world()), seed=1, probe=probe)
    assert fired == [True]

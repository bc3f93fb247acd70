"""Exact event traces of tiny scenarios, computed by hand (see conftest.py for the map).

Every expected list below is worked out from the scenario alone: travel
times from the matrix, turnout 1 min when leaving a station, constant
on-scene and handover times, constant answer/processing delays. Engine
conventions relied on (documented in docs/architecture.md, "Event log"):
no unit_en_route without turnout (a unit sent from where it is), no
unit_returning when already home, an incident clears when its last unit
leaves the scene (before any hospital trip), a matrix unit part-way home is
at the nearer end of its trip (in time).
"""

from __future__ import annotations

import json

import pytest

import scenarios
import sim

pytestmark = pytest.mark.nojit

SA, SB = "SA/amb/1", "SB/amb/1"
EA, EB = "SA/engine/1", "SB/engine/1"


def _incident(at, location, district="North", **extra):
    return {"at": at, "type": extra.pop("type", "medical"), "district": district, "location": location,
            **extra}


# -- 1. queue, transport with handover, a freed unit taking the waiting call ----------------


@pytest.fixture
def queue_trace(trace_dict):
    d = trace_dict
    d["dispatch_centre"] = {"answer": 0.5, "processing": 1}
    d["incidents"] = [
        _incident(0, "X", transport=True),
        _incident(3, "Y", district="South", on_scene=30, transport=False),
        _incident(7.25, "X", transport=False),
    ]
    return sim.run(scenarios.from_dict(d))


def test_queue_transport_and_handover_trace(queue_trace, events_of):
    # I0 at X: SA 1+4=5 min beats SB 1+6=7. I1 at Y: only SB is free. I2 at X: nobody free,
    # it waits until SA finishes its handover at HH (X->H 2 min, handover 5) and goes from there.
    expected = [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.5, 0, None),
        ("unit_dispatched", 1.5, 0, SA),
        ("unit_en_route", 2.5, 0, SA),            # turnout 1
        ("call_received", 3.0, 1, None),
        ("call_answered", 3.5, 1, None),
        ("unit_dispatched", 4.5, 1, SB),
        ("unit_en_route", 5.5, 1, SB),
        ("unit_arrived", 6.5, 0, SA),             # A->X 4
        ("call_received", 7.25, 2, None),
        ("call_answered", 7.75, 2, None),
        ("unit_arrived", 8.5, 1, SB),             # B->Y 3
        ("incident_queued", 8.75, 2, None),
        ("unit_left_scene", 16.5, 0, SA),         # on scene 10
        ("incident_cleared", 16.5, 0, None),
        ("unit_at_hospital", 18.5, 0, SA),        # X->H 2
        ("handover_started", 18.5, 0, SA),
        ("handover_done", 23.5, 0, SA),           # handover 5
        ("unit_dispatched", 23.5, 2, SA),         # free at the hospital: takes the waiting call
        ("unit_arrived", 25.5, 2, SA),            # H->X 2, no turnout
        ("unit_left_scene", 35.5, 2, SA),
        ("incident_cleared", 35.5, 2, None),
        ("unit_returning", 35.5, None, SA),
        ("unit_left_scene", 38.5, 1, SB),         # on scene 30 (scripted)
        ("incident_cleared", 38.5, 1, None),
        ("unit_returning", 38.5, None, SB),
        ("unit_available", 39.5, None, SA),       # X->A 4
        ("unit_available", 41.5, None, SB),       # Y->B 3
        ("run_end", 60.0, None, None),
    ]
    assert events_of(queue_trace) == expected
    details = queue_trace.events.set_index("seq")["detail"]
    assert json.loads(details[12]) == {"waiting_for": {"amb": 1}}
    assert all(json.loads(details[s]) == {"hospital": "HH"} for s in (15, 16, 17))


def test_queue_trace_incident_table(queue_trace, rows_of):
    cols = ["incident_id", "t_call_min", "t_answer_min", "t_dispatch_min", "t_first_arrival_min",
            "t_clear_min", "response_min", "status", "queued", "hospital", "units_assigned", "shortfall"]
    assert rows_of(queue_trace.incidents, cols) == [
        (0, 0.0, 0.5, 1.5, 6.5, 16.5, 6.5, "resolved", False, "HH", 1, 0),
        (1, 3.0, 3.5, 4.5, 8.5, 38.5, 5.5, "resolved", False, None, 1, 0),
        (2, 7.25, 7.75, 23.5, 25.5, 35.5, 18.25, "resolved", True, None, 1, 0),
    ]


def test_queue_trace_assignment_and_unit_tables(queue_trace, rows_of):
    cols = ["incident_id", "unit_id", "t_dispatch_min", "t_arrive_min", "t_clear_min", "t_free_min",
            "travel_min", "hospital", "mutual_aid", "from_station"]
    got = sorted(rows_of(queue_trace.assignments, cols), key=lambda r: (r[2], r[1]))
    assert got == [
        (0, SA, 1.5, 6.5, 16.5, 23.5, 4.0, "HH", False, True),
        (1, SB, 4.5, 8.5, 38.5, 38.5, 3.0, None, False, True),
        (2, SA, 23.5, 25.5, 35.5, 35.5, 2.0, None, False, False),
    ]
    # busy = dispatch to free: SA (23.5-1.5) + (35.5-23.5) = 34, SB 38.5-4.5 = 34; window 60 min
    assert rows_of(queue_trace.units, ["unit_id", "busy_min", "n_assignments"]) == [
        (SA, 34.0, 2), (SB, 34.0, 1)]
    assert queue_trace.units["utilization"].tolist() == pytest.approx([34 / 60, 34 / 60])


# -- 2. a unit on its way home is diverted to a new call ----------------------------------------


DIVERTED = [
    ("call_received", 0.0, 0, None),          # zero answer/processing: answered and dispatched at once
    ("call_answered", 0.0, 0, None),
    ("unit_dispatched", 0.0, 0, SA),          # SA 1+4 = 5 beats SB 1+6 = 7
    ("unit_en_route", 1.0, 0, SA),
    ("unit_arrived", 5.0, 0, SA),
    ("unit_left_scene", 15.0, 0, SA),
    ("incident_cleared", 15.0, 0, None),
    ("unit_returning", 15.0, None, SA),       # X->A takes 4 min
    ("call_received", 16.0, 1, None),
    ("call_answered", 16.0, 1, None),
    # 1 min into a 4 min trip SA counts as at X: X->H 2 (no turnout) beats SB 1+7 = 8
    ("unit_dispatched", 16.0, 1, SA),
    ("unit_arrived", 18.0, 1, SA),
    ("unit_left_scene", 28.0, 1, SA),
    ("incident_cleared", 28.0, 1, None),
    ("unit_returning", 28.0, None, SA),       # H->A 6
    ("unit_available", 34.0, None, SA),
    ("run_end", 60.0, None, None),
]

NOT_DIVERTED = [
    ("call_received", 0.0, 0, None),
    ("call_answered", 0.0, 0, None),
    ("unit_dispatched", 0.0, 0, SA),
    ("unit_en_route", 1.0, 0, SA),
    ("unit_arrived", 5.0, 0, SA),
    ("unit_left_scene", 15.0, 0, SA),
    ("incident_cleared", 15.0, 0, None),
    ("unit_returning", 15.0, None, SA),
    ("call_received", 16.0, 1, None),
    ("call_answered", 16.0, 1, None),
    ("unit_dispatched", 16.0, 1, SB),         # returning SA may not be sent
    ("unit_en_route", 17.0, 1, SB),
    ("unit_available", 19.0, None, SA),
    ("unit_arrived", 24.0, 1, SB),            # B->H 7
    ("unit_left_scene", 34.0, 1, SB),
    ("incident_cleared", 34.0, 1, None),
    ("unit_returning", 34.0, None, SB),
    ("unit_available", 41.0, None, SB),       # H->B 7
    ("run_end", 60.0, None, None),
]


@pytest.mark.parametrize(("redispatch", "expected"), [(True, DIVERTED), (False, NOT_DIVERTED)])
def test_returning_unit_takes_a_new_call(trace_dict, events_of, rows_of, redispatch, expected):
    d = trace_dict
    d["policy"] = {"dispatch": "nearest", "redispatch_returning": redispatch}
    d["incidents"] = [_incident(0, "X", transport=False), _incident(16, "H", transport=False)]
    result = sim.run(scenarios.from_dict(d))
    assert events_of(result) == expected
    cols = ["incident_id", "unit_id", "t_dispatch_min", "t_arrive_min", "t_clear_min", "t_free_min",
            "travel_min", "from_station"]
    got = sorted(rows_of(result.assignments, cols), key=lambda r: r[2])
    if redispatch:
        assert got == [(0, SA, 0.0, 5.0, 15.0, 15.0, 4.0, True), (1, SA, 16.0, 18.0, 28.0, 28.0, 2.0, False)]
    else:
        assert got == [(0, SA, 0.0, 5.0, 15.0, 15.0, 4.0, True), (1, SB, 16.0, 24.0, 34.0, 34.0, 7.0, True)]


# -- 3. district_first and nearest choose different units -----------------------------------------


def _one_call(unit, travel, turnout_end, arrive, home_trip):
    left = arrive + 10
    return [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, unit),
        ("unit_en_route", turnout_end, 0, unit),
        ("unit_arrived", arrive, 0, unit),
        ("unit_left_scene", left, 0, unit),
        ("incident_cleared", left, 0, None),
        ("unit_returning", left, None, unit),
        ("unit_available", left + home_trip, None, unit),
        ("run_end", 60.0, None, None),
    ]


NEAREST_AT_X = _one_call(SA, 4, 1.0, 5.0, 4)       # SA: 1 + A->X 4 = 5
OWN_OR_NEIGHBOUR = _one_call(SB, 6, 1.0, 7.0, 6)   # SB: 1 + B->X 6 = 7


@pytest.mark.parametrize(("policy", "params", "district", "expected", "mutual_aid"), [
    ("nearest", {}, "South", NEAREST_AT_X, True),
    ("district_first", {}, "South", OWN_OR_NEIGHBOUR, False),       # SB is South's own unit
    ("district_first", {}, "East", OWN_OR_NEIGHBOUR, True),         # SB's South neighbours East
    ("district_first", {}, "North", NEAREST_AT_X, False),           # SA is North's own and nearest
    # max_wait_min: SB arrives 2 min after SA; 1 < 2 falls back to nearest, 2 does not
    ("district_first", {"max_wait_min": 1}, "South", NEAREST_AT_X, True),
    ("district_first", {"max_wait_min": 2}, "South", OWN_OR_NEIGHBOUR, False),
])
def test_district_first_versus_nearest(trace_dict, events_of, policy, params, district, expected,
                                       mutual_aid):
    d = trace_dict
    d["policy"] = {"dispatch": policy, "params": params}
    d["incidents"] = [_incident(0, "X", district=district, transport=False)]
    result = sim.run(scenarios.from_dict(d))
    assert events_of(result) == expected
    a = result.assignments
    assert len(a) == 1 and bool(a["mutual_aid"].iloc[0]) is mutual_aid
    assert result.meta["policy"] == {"dispatch": policy, "params": params}


def test_policy_argument_overrides_the_scenario(trace_dict, events_of):
    d = trace_dict
    d["policy"] = {"dispatch": "district_first"}
    d["incidents"] = [_incident(0, "X", district="South", transport=False)]
    s = scenarios.from_dict(d)
    assert events_of(sim.run(s)) == OWN_OR_NEIGHBOUR
    assert events_of(sim.run(s, policy="nearest")) == NEAREST_AT_X


# -- 4. a two-engine requirement filled in two steps --------------------------------------------


@pytest.fixture
def engines(trace_dict):
    d = trace_dict
    d["hospitals"] = {}
    d["unit_types"] = {"engine": {"turnout": 1}}
    d["fleets"] = {"SA": {"engine": 1}, "SB": {"engine": 1}}
    d["incident_types"] = {
        "alarm": {"priority_mix": {1: 1.0}, "target_response": 10, "required_units": {"engine": 1},
                  "on_scene": 10},
        "fire": {"priority_mix": {1: 1.0}, "target_response": 10, "required_units": {"engine": 2},
                 "on_scene": 20},
    }
    d["incidents"] = [
        _incident(0, "Y", district="South", type="alarm"),
        _incident(2, "X", type="fire"),
    ]
    return d


def test_two_engine_fire_is_completed_when_an_engine_frees(engines, events_of, rows_of):
    result = sim.run(scenarios.from_dict(engines))
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, EB),          # SB 1+3 = 4 beats SA 1+8 = 9
        ("unit_en_route", 1.0, 0, EB),
        ("call_received", 2.0, 1, None),
        ("call_answered", 2.0, 1, None),
        ("unit_dispatched", 2.0, 1, EA),          # the only free engine
        ("incident_queued", 2.0, 1, None),        # one engine still missing
        ("unit_en_route", 3.0, 1, EA),
        ("unit_arrived", 4.0, 0, EB),
        ("unit_arrived", 7.0, 1, EA),             # A->X 4
        ("unit_left_scene", 14.0, 0, EB),
        ("incident_cleared", 14.0, 0, None),
        ("unit_dispatched", 14.0, 1, EB),         # freed at Y, fills the fire's second slot
        ("unit_arrived", 19.0, 1, EB),            # Y->X 5, no turnout
        ("unit_left_scene", 27.0, 1, EA),         # on scene 20; the fire still has SB
        ("unit_returning", 27.0, None, EA),
        ("unit_available", 31.0, None, EA),
        ("unit_left_scene", 39.0, 1, EB),
        ("incident_cleared", 39.0, 1, None),      # last unit left
        ("unit_returning", 39.0, None, EB),
        ("unit_available", 45.0, None, EB),       # X->B 6
        ("run_end", 60.0, None, None),
    ]
    assert json.loads(result.events["detail"].iloc[7]) == {"waiting_for": {"engine": 1}}
    cols = ["incident_id", "t_dispatch_min", "t_first_arrival_min", "t_clear_min", "status",
            "units_required", "units_assigned", "shortfall", "queued"]
    assert rows_of(result.incidents, cols) == [
        (0, 0.0, 4.0, 14.0, "resolved", 1, 1, 0, False),
        (1, 2.0, 7.0, 39.0, "resolved", 2, 2, 0, True),
    ]
    acols = ["incident_id", "unit_id", "t_dispatch_min", "t_arrive_min", "t_clear_min", "t_free_min",
             "travel_min", "from_station"]
    assert sorted(rows_of(result.assignments, acols), key=lambda r: (r[0], r[2])) == [
        (0, EB, 0.0, 4.0, 14.0, 14.0, 3.0, True),
        (1, EA, 2.0, 7.0, 27.0, 27.0, 4.0, True),
        (1, EB, 14.0, 19.0, 39.0, 39.0, 5.0, False),
    ]


def test_partly_filled_fire_gives_up_after_max_queue(engines, events_of, rows_of):
    engines["incident_types"]["fire"]["max_queue"] = 6      # gives up at 2 + 6 = 8, before SB frees
    result = sim.run(scenarios.from_dict(engines))
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, EB),
        ("unit_en_route", 1.0, 0, EB),
        ("call_received", 2.0, 1, None),
        ("call_answered", 2.0, 1, None),
        ("unit_dispatched", 2.0, 1, EA),
        ("incident_queued", 2.0, 1, None),
        ("unit_en_route", 3.0, 1, EA),
        ("unit_arrived", 4.0, 0, EB),
        ("unit_arrived", 7.0, 1, EA),
        ("request_expired", 8.0, 1, None),        # the second engine is no longer awaited
        ("unit_left_scene", 14.0, 0, EB),
        ("incident_cleared", 14.0, 0, None),
        ("unit_returning", 14.0, None, EB),       # nothing waits any more: home (Y->B 3)
        ("unit_available", 17.0, None, EB),
        ("unit_left_scene", 27.0, 1, EA),
        ("incident_cleared", 27.0, 1, None),      # its only unit left and nothing is still needed
        ("unit_returning", 27.0, None, EA),
        ("unit_available", 31.0, None, EA),
        ("run_end", 60.0, None, None),
    ]
    cols = ["incident_id", "status", "units_assigned", "shortfall", "t_clear_min"]
    assert rows_of(result.incidents, cols) == [(0, "resolved", 1, 0, 14.0), (1, "resolved", 1, 1, 27.0)]


def test_call_nobody_can_take_in_time_is_unserved(engines, events_of, rows_of):
    engines["incident_types"]["alarm"]["max_queue"] = 3
    engines["incidents"] = [
        _incident(0, "X", type="alarm"),
        _incident(0.5, "Y", district="South", type="alarm"),
        _incident(1, "X", type="alarm"),
    ]
    result = sim.run(scenarios.from_dict(engines))
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, EA),
        ("call_received", 0.5, 1, None),
        ("call_answered", 0.5, 1, None),
        ("unit_dispatched", 0.5, 1, EB),
        ("unit_en_route", 1.0, 0, EA),
        ("call_received", 1.0, 2, None),
        ("call_answered", 1.0, 2, None),
        ("incident_queued", 1.0, 2, None),
        ("unit_en_route", 1.5, 1, EB),
        ("incident_unserved", 4.0, 2, None),      # max_queue 3 ran out
        ("unit_arrived", 4.5, 1, EB),             # B->Y 3
        ("unit_arrived", 5.0, 0, EA),             # A->X 4
        ("unit_left_scene", 14.5, 1, EB),
        ("incident_cleared", 14.5, 1, None),
        ("unit_returning", 14.5, None, EB),
        ("unit_left_scene", 15.0, 0, EA),
        ("incident_cleared", 15.0, 0, None),
        ("unit_returning", 15.0, None, EA),
        ("unit_available", 17.5, None, EB),
        ("unit_available", 19.0, None, EA),
        ("run_end", 60.0, None, None),
    ]
    assert json.loads(result.events["detail"].iloc[11]) == {"reason": "no unit became free within max_queue"}
    cols = ["incident_id", "status", "t_dispatch_min", "t_first_arrival_min", "units_assigned",
            "shortfall", "queued"]
    assert rows_of(result.incidents, cols)[2] == (2, "unserved", None, None, 0, 1, True)


# -- 5. call taking: one call-taker, a caller who hangs up -------------------------------------


# patience is optional; a bare duration is shorthand for a constant, as for answer and processing
@pytest.mark.parametrize("patience", [{"dist": "constant", "value": 2}, 2, "2 min"],
                         ids=["constant", "number", "text"])
def test_single_call_taker_and_an_abandoned_call(trace_dict, events_of, rows_of, patience):
    d = trace_dict
    d["dispatch_centre"] = {"call_takers": 1, "answer": 0.75, "processing": 2.5, "patience": patience}
    d["incidents"] = [
        _incident(0, "X", transport=False),
        _incident(0.5, "Y", district="South", transport=False),
        _incident(2.75, "Y", district="South", transport=False),
    ]
    result = sim.run(scenarios.from_dict(d))
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_received", 0.5, 1, None),          # the call-taker is busy with I0
        ("call_answered", 0.75, 0, None),
        ("call_abandoned", 2.5, 1, None),         # patience 2 ran out
        ("call_received", 2.75, 2, None),
        ("unit_dispatched", 3.25, 0, SA),         # I0 processed (0.75 + 2.5); taker moves to I2
        ("call_answered", 4.0, 2, None),          # 3.25 + 0.75, before its patience ends (4.75)
        ("unit_en_route", 4.25, 0, SA),
        ("unit_dispatched", 6.5, 2, SB),          # 4 + 2.5
        ("unit_en_route", 7.5, 2, SB),
        ("unit_arrived", 8.25, 0, SA),
        ("unit_arrived", 10.5, 2, SB),
        ("unit_left_scene", 18.25, 0, SA),
        ("incident_cleared", 18.25, 0, None),
        ("unit_returning", 18.25, None, SA),
        ("unit_left_scene", 20.5, 2, SB),
        ("incident_cleared", 20.5, 2, None),
        ("unit_returning", 20.5, None, SB),
        ("unit_available", 22.25, None, SA),
        ("unit_available", 23.5, None, SB),
        ("run_end", 60.0, None, None),
    ]
    cols = ["incident_id", "t_call_min", "t_answer_min", "t_dispatch_min", "status"]
    assert rows_of(result.incidents, cols) == [
        (0, 0.0, 0.75, 3.25, "resolved"),
        (1, 0.5, None, None, "abandoned"),
        (2, 2.75, 4.0, 6.5, "resolved"),
    ]
    assert set(result.assignments["incident_id"]) == {0, 2}


# -- 6. stopping early: work under way is open at the end -------------------------------------


def test_until_leaves_work_open(trace_dict, events_of, rows_of):
    d = trace_dict
    d["incidents"] = [_incident(0, "X", transport=True), _incident(30, "Y", district="South")]
    result = sim.run(scenarios.from_dict(d), until=10)
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, SA),
        ("unit_en_route", 1.0, 0, SA),
        ("unit_arrived", 5.0, 0, SA),
        ("run_end", 10.0, None, None),
    ]
    assert rows_of(result.incidents, ["incident_id", "status", "t_first_arrival_min", "t_clear_min"]) == [
        (0, "open_at_end", 5.0, None)]                  # the call at 30 min is after the end
    cols = ["incident_id", "unit_id", "t_dispatch_min", "t_arrive_min", "t_clear_min", "t_free_min"]
    assert rows_of(result.assignments, cols) == [(0, SA, 0.0, 5.0, None, None)]
    assert rows_of(result.units, ["unit_id", "busy_min", "utilization"]) == [(SA, 10.0, 1.0), (SB, 0.0, 0.0)]
    assert result.meta["until_min"] == 10


# -- 7. a caller whose patience ends while a call-taker is already answering ----------------------


def test_patience_ending_during_the_answer_delay(trace_dict, events_of):
    # I1 waits for the only call-taker until I0 is processed at 2, is picked up then (answer
    # delay 1 min, so answered at 3), and its patience of 2 min ends at 2.25, in between. Whether
    # that call counts as abandoned or answered is a convention; the run must not crash either way.
    d = trace_dict
    d["dispatch_centre"] = {"call_takers": 1, "answer": 1, "processing": 1,
                            "patience": {"dist": "constant", "value": 2}}
    d["incidents"] = [_incident(0, "X", transport=False), _incident(0.25, "Y", district="South",
                                                                     transport=False)]
    result = sim.run(scenarios.from_dict(d))
    rows = events_of(result)
    assert rows[:4] == [
        ("call_received", 0.0, 0, None),
        ("call_received", 0.25, 1, None),
        ("call_answered", 1.0, 0, None),
        ("unit_dispatched", 2.0, 0, SA),
    ]
    inc = result.incidents.set_index("incident_id")
    status = inc.loc[1, "status"]
    assert status in {"abandoned", "resolved"}
    if status == "abandoned":
        assert ("call_abandoned", 2.25, 1, None) in rows and (result.assignments["incident_id"] != 1).all()
    else:
        assert ("call_answered", 3.0, 1, None) in rows and inc.loc[1, "t_answer_min"] == 3.0


# -- 8. one handover bay: the second ambulance waits at the hospital --------------------------------


def test_second_ambulance_waits_for_the_handover_bay(trace_dict, events_of, rows_of):
    d = trace_dict
    d["incidents"] = [_incident(0, "X", transport=True),
                      _incident(1.5, "Y", district="South", transport=True)]
    result = sim.run(scenarios.from_dict(d))
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, SA),
        ("unit_en_route", 1.0, 0, SA),
        ("call_received", 1.5, 1, None),
        ("call_answered", 1.5, 1, None),
        ("unit_dispatched", 1.5, 1, SB),
        ("unit_en_route", 2.5, 1, SB),
        ("unit_arrived", 5.0, 0, SA),             # A->X 4
        ("unit_arrived", 5.5, 1, SB),             # B->Y 3
        ("unit_left_scene", 15.0, 0, SA),
        ("incident_cleared", 15.0, 0, None),
        ("unit_left_scene", 15.5, 1, SB),
        ("incident_cleared", 15.5, 1, None),
        ("unit_at_hospital", 17.0, 0, SA),        # X->H 2
        ("handover_started", 17.0, 0, SA),
        ("unit_at_hospital", 19.5, 1, SB),        # Y->H 4; the only bay is taken until 22
        ("handover_done", 22.0, 0, SA),
        ("unit_returning", 22.0, None, SA),       # H->A 6
        ("handover_started", 22.0, 1, SB),
        ("handover_done", 27.0, 1, SB),
        ("unit_returning", 27.0, None, SB),       # H->B 7
        ("unit_available", 28.0, None, SA),
        ("unit_available", 34.0, None, SB),
        ("run_end", 60.0, None, None),
    ]
    cols = ["incident_id", "unit_id", "t_clear_min", "t_free_min", "hospital"]
    assert sorted(rows_of(result.assignments, cols)) == [(0, SA, 15.0, 22.0, "HH"), (1, SB, 15.5, 27.0, "HH")]


# -- 9. the waiting queue serves priority 1 before an earlier priority 2 -----------------------------


def test_queue_takes_the_most_urgent_call_first(trace_dict, events_of):
    d = trace_dict
    d["fleets"] = {"SA": {"amb": 1}}
    d["incident_types"]["medical"]["priority_mix"] = {1: 0.5, 2: 0.5}
    d["incident_types"]["medical"]["target_response"] = {1: 8, 2: 15}
    d["incidents"] = [
        _incident(0, "X", priority=2, transport=False),
        _incident(1, "X", priority=2, transport=False),
        _incident(2, "Y", priority=1, transport=False),
    ]
    result = sim.run(scenarios.from_dict(d))
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, SA),
        ("call_received", 1.0, 1, None),
        ("call_answered", 1.0, 1, None),
        ("incident_queued", 1.0, 1, None),
        ("unit_en_route", 1.0, 0, SA),
        ("call_received", 2.0, 2, None),
        ("call_answered", 2.0, 2, None),
        ("incident_queued", 2.0, 2, None),
        ("unit_arrived", 5.0, 0, SA),
        ("unit_left_scene", 15.0, 0, SA),
        ("incident_cleared", 15.0, 0, None),
        ("unit_dispatched", 15.0, 2, SA),         # priority 1 first, though called later
        ("unit_arrived", 20.0, 2, SA),            # X->Y 5
        ("unit_left_scene", 30.0, 2, SA),
        ("incident_cleared", 30.0, 2, None),
        ("unit_dispatched", 30.0, 1, SA),
        ("unit_arrived", 35.0, 1, SA),            # Y->X 5
        ("unit_left_scene", 45.0, 1, SA),
        ("incident_cleared", 45.0, 1, None),
        ("unit_returning", 45.0, None, SA),
        ("unit_available", 49.0, None, SA),       # X->A 4
        ("run_end", 60.0, None, None),
    ]
    targets = result.incidents["target_min"].tolist()
    assert targets == [15.0, 15.0, 8.0]

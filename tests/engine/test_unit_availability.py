"""Units out of service (issue #10, ``unit_availability``): exact traces on the trace world.

See tests/engine/conftest.py for the travel matrix (SA at A, SB at B, the
hospital at H). Ambulances turn out in 1 min when leaving a station; on scene
10 min; no transports unless said. Engine conventions relied on: a unit taken
out of service drives to its post without logging its trip (it logs
``unit_out_of_service`` when it goes out and ``unit_in_service`` when it is
back); a matrix unit part-way along a trip is at the nearer end (in time).
"""

from __future__ import annotations

import json

import pytest

import scenarios
import sim

pytestmark = pytest.mark.nojit

SA, SB = "SA/amb/1", "SB/amb/1"


def _incident(at, location, district="North", **extra):
    return {"at": at, "type": "medical", "district": district, "location": location, "transport": False,
            **extra}


def _run(d, incidents, outages):
    d["incidents"] = incidents
    d["unit_availability"] = outages
    return sim.run(scenarios.from_dict(d))


def _details(result, kind):
    ev = result.events[result.events["kind"] == kind]
    return [json.loads(x) for x in ev["detail"]]


def test_idle_unit_goes_out_at_once_and_another_unit_goes(trace_dict, events_of):
    # SA (1 + A->X 4 = 5) would beat SB (1 + B->X 6 = 7), but SA is out from 5 to 30.
    result = _run(trace_dict, [_incident(10, "X")],
                  [{"unit": SA, "start": 5, "end": 30, "reason": "crew change"}])
    assert events_of(result) == [
        ("unit_out_of_service", 5.0, None, SA),
        ("call_received", 10.0, 0, None),
        ("call_answered", 10.0, 0, None),
        ("unit_dispatched", 10.0, 0, SB),
        ("unit_en_route", 11.0, 0, SB),
        ("unit_arrived", 17.0, 0, SB),
        ("unit_left_scene", 27.0, 0, SB),
        ("incident_cleared", 27.0, 0, None),
        ("unit_returning", 27.0, None, SB),
        ("unit_in_service", 30.0, None, SA),
        ("unit_available", 33.0, None, SB),       # X->B 6
        ("run_end", 60.0, None, None),
    ]
    assert _details(result, "unit_out_of_service") == [{"reason": "crew change"}]


def test_incident_waits_for_the_unit_and_gets_it_when_back(trace_dict, events_of, rows_of):
    trace_dict["fleets"] = {"SA": {"amb": 1}}
    result = _run(trace_dict, [_incident(10, "X")], [{"unit": SA, "start": 5, "end": 30}])
    assert events_of(result) == [
        ("unit_out_of_service", 5.0, None, SA),
        ("call_received", 10.0, 0, None),
        ("call_answered", 10.0, 0, None),
        ("incident_queued", 10.0, 0, None),
        ("unit_in_service", 30.0, None, SA),
        ("unit_dispatched", 30.0, 0, SA),         # back at its station: at once, with turnout
        ("unit_en_route", 31.0, 0, SA),
        ("unit_arrived", 35.0, 0, SA),
        ("unit_left_scene", 45.0, 0, SA),
        ("incident_cleared", 45.0, 0, None),
        ("unit_returning", 45.0, None, SA),
        ("unit_available", 49.0, None, SA),
        ("run_end", 60.0, None, None),
    ]
    assert _details(result, "unit_out_of_service") == [{"reason": "out of service"}]
    assert rows_of(result.assignments, ["incident_id", "unit_id", "t_dispatch_min", "from_station"]) == [
        (0, SA, 30.0, True)]


def test_busy_unit_finishes_its_job_then_goes_out(trace_dict, events_of):
    # SA is on I0 when its outage starts (8): it goes out when it leaves the scene at 15, although
    # I2 is waiting then, and takes I2 the moment it is back (40). SB is on I1 (on scene 30) all along.
    result = _run(trace_dict, [
        _incident(0, "X"),
        _incident(10, "Y", district="South", on_scene=30),
        _incident(12, "X"),
    ], [{"unit": SA, "start": 8, "end": 40, "reason": "refuel"}])
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, SA),
        ("unit_en_route", 1.0, 0, SA),
        ("unit_arrived", 5.0, 0, SA),
        ("call_received", 10.0, 1, None),
        ("call_answered", 10.0, 1, None),
        ("unit_dispatched", 10.0, 1, SB),
        ("unit_en_route", 11.0, 1, SB),
        ("call_received", 12.0, 2, None),
        ("call_answered", 12.0, 2, None),
        ("incident_queued", 12.0, 2, None),
        ("unit_arrived", 14.0, 1, SB),            # B->Y 3
        ("unit_left_scene", 15.0, 0, SA),
        ("incident_cleared", 15.0, 0, None),
        ("unit_out_of_service", 15.0, None, SA),  # not sent to I2: drives home (X->A 4) out of service
        ("unit_in_service", 40.0, None, SA),
        ("unit_dispatched", 40.0, 2, SA),
        ("unit_en_route", 41.0, 2, SA),
        ("unit_left_scene", 44.0, 1, SB),
        ("incident_cleared", 44.0, 1, None),
        ("unit_returning", 44.0, None, SB),       # nothing waits any more
        ("unit_arrived", 45.0, 2, SA),
        ("unit_available", 47.0, None, SB),       # Y->B 3
        ("unit_left_scene", 55.0, 2, SA),
        ("incident_cleared", 55.0, 2, None),
        ("unit_returning", 55.0, None, SA),
        ("unit_available", 59.0, None, SA),
        ("run_end", 60.0, None, None),
    ]
    assert _details(result, "unit_out_of_service") == [{"reason": "refuel"}]


def test_busy_unit_whose_outage_ends_before_it_frees_stays_in_service(trace_dict, events_of):
    result = _run(trace_dict, [_incident(0, "X"), _incident(20, "X")], [{"unit": SA, "start": 2, "end": 9}])
    kinds = {k for k, *_ in events_of(result)}
    assert not kinds & {"unit_out_of_service", "unit_in_service"}
    a = result.assignments.sort_values("t_dispatch_min")
    assert a["unit_id"].astype(str).tolist() == [SA, SA]


@pytest.mark.parametrize("redispatch", [True, False])
def test_unit_on_its_way_home_is_not_diverted(trace_dict, events_of, redispatch):
    # SA heads home at 15 (X->A 4) and is taken out at 16; I1 at H at 17 would otherwise go to SA
    # (X->H 2, no turnout, beats SB 1 + B->H 7 = 8) when returning units may be redispatched.
    trace_dict["policy"] = {"dispatch": "nearest", "redispatch_returning": redispatch}
    result = _run(trace_dict, [_incident(0, "X"), _incident(17, "H")], [{"unit": SA, "start": 16, "end": 40}])
    assert events_of(result) == [
        ("call_received", 0.0, 0, None),
        ("call_answered", 0.0, 0, None),
        ("unit_dispatched", 0.0, 0, SA),
        ("unit_en_route", 1.0, 0, SA),
        ("unit_arrived", 5.0, 0, SA),
        ("unit_left_scene", 15.0, 0, SA),
        ("incident_cleared", 15.0, 0, None),
        ("unit_returning", 15.0, None, SA),
        ("unit_out_of_service", 16.0, None, SA),
        ("call_received", 17.0, 1, None),
        ("call_answered", 17.0, 1, None),
        ("unit_dispatched", 17.0, 1, SB),
        ("unit_en_route", 18.0, 1, SB),
        ("unit_arrived", 25.0, 1, SB),            # B->H 7
        ("unit_left_scene", 35.0, 1, SB),
        ("incident_cleared", 35.0, 1, None),
        ("unit_returning", 35.0, None, SB),
        ("unit_in_service", 40.0, None, SA),
        ("unit_available", 42.0, None, SB),       # H->B 7
        ("run_end", 60.0, None, None),
    ]


def test_unit_out_to_the_end_of_the_run(trace_dict, events_of):
    trace_dict["fleets"] = {"SA": {"amb": 1}}
    trace_dict["incident_types"]["medical"]["max_queue"] = 20
    result = _run(trace_dict, [_incident(10, "X")], [{"unit": SA, "start": 0}])
    assert events_of(result) == [
        ("unit_out_of_service", 0.0, None, SA),
        ("call_received", 10.0, 0, None),
        ("call_answered", 10.0, 0, None),
        ("incident_queued", 10.0, 0, None),
        ("incident_unserved", 30.0, 0, None),
        ("run_end", 60.0, None, None),
    ]

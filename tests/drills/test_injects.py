"""Each inject kind shows its effect at its time and not before (issue #13).

Hand-computed on the trace world of conftest.py: from A (SA's ambulance)
a scene at X is 1 + 4 = 5 min away, from B (SB's) 1 + 6 = 7 min; on scene
10 min; X to hospital HH 2 min, to HG 7 min. The drills run alone
(``background: false``), so incident ids count the injects' incidents.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import scenarios
import sim
from sim.errors import InputError
from tests.drills.conftest import dispatched, events, incident

SA, SB = "SA/amb/1", "SB/amb/1"


def _run(d, seed: int = 1):
    return sim.run(scenarios.from_dict(d), seed=seed)


def test_an_incident_inject_raises_its_incident_and_casualties_at_its_time(trace):
    trace["drill"]["injects"] = [incident("leak", 5, casualties=2, casualty_type="medical",
                                          description="chemical leak")]
    r = _run(trace)
    inc = r.incidents.set_index("incident_id")
    assert list(inc.index) == [0, 1, 2]
    assert (inc["t_call_min"] == 5.0).all()
    assert set(inc["source"].astype(str)) == {"drill"} and set(inc["label"].astype(str)) == {"leak"}
    assert inc["location"].nunique() == 1                   # the casualties are at the scene
    assert inc.loc[[1, 2], "transport"].all()
    rows = events(r)
    assert rows[0] == ("inject", 5.0, None, None)           # nothing happens before the inject
    assert rows[1] == ("incident_raised", 5.0, 0, None)
    assert dispatched(r)[0] == SA and r.assignments.set_index("incident_id").loc[0, "t_arrive_min"] == 10.0
    table = r.extra["injects"]
    assert table.to_dict("records") == [{"inject_id": "leak", "t_min": 5.0, "kind": "incident",
                                          "description": "chemical leak", "incident_ids": "0,1,2"}]
    detail = r.events.loc[r.events["kind"].astype(str) == "inject", "detail"].astype(str).tolist()
    assert detail == ['{"inject": "leak"}']


def test_a_clock_time_counts_from_the_day_of_time_start(trace):
    trace["time"]["start"] = "2026-03-05T09:50:00"
    trace["drill"]["injects"] = [incident("a", "10:05")]
    r = _run(trace)
    assert r.incidents["t_call_min"].tolist() == [15.0]


@pytest.mark.parametrize("ending", ["repair", "until"])
def test_a_unit_breakdown_takes_the_unit_out_at_its_time_until_its_repair(trace, ending):
    down = {"id": "down", "at": 30, "kind": "unit_breakdown", "unit": SA}
    injects = [incident("a", 0), incident("b", 25), down, incident("c", 40), incident("d", 90)]
    if ending == "repair":
        injects.append({"id": "up", "at": 60, "kind": "unit_repair", "unit": SA})
    else:
        injects[2]["until"] = 60
    trace["drill"]["injects"] = injects
    r = _run(trace)
    assert dispatched(r) == {0: SA, 1: SA, 2: SB, 3: SA}    # before the breakdown, during, after the repair
    rows = [row for row in events(r) if row[0] in ("unit_out_of_service", "unit_in_service")]
    assert rows[0][:2] == ("unit_out_of_service", 40.0)     # busy at 30 (b: 25 + 5 + 10): out when it ends
    assert rows[1][:2] == ("unit_in_service", 60.0)


def test_a_station_closure_takes_its_units_out_until_it_reopens(trace):
    trace["drill"]["injects"] = [incident("a", 0), {"id": "shut", "at": 30, "kind": "station_closure",
                                                     "station": "SA"},
                                 incident("b", 40), {"id": "open", "at": 60, "kind": "station_reopening",
                                                     "station": "SA"}, incident("c", 90)]
    r = _run(trace)
    assert dispatched(r) == {0: SA, 1: SB, 2: SA}
    out = [row for row in events(r) if row[0] in ("unit_out_of_service", "unit_in_service")]
    assert out == [("unit_out_of_service", 30.0, None, SA), ("unit_in_service", 60.0, None, SA)]


def test_a_road_closure_changes_the_route_of_trips_that_start_after_it(grid):
    """Fires 3 blocks east of the station (6 min); closing block (1,0)-(2,0) forces a 10-min detour.

    The fire at 28 is dispatched before the closure at 30 and keeps its 6-min trip; the fire at 55
    takes the detour; the road reopens at 80 (inject) and the fire at 100 is 6 min away again.
    """
    fire = {"kind": "incident", "type": "fire", "district": "city", "location": [3, 0]}
    grid["drill"]["injects"] = [
        {**fire, "id": "f0", "at": 0}, {**fire, "id": "f28", "at": 28},
        {"id": "bridge", "at": 30, "kind": "road_closure", "link": {"from": [1, 0], "to": [2, 0]}},
        {**fire, "id": "f55", "at": 55},
        {"id": "bridge-open", "at": 80, "kind": "road_reopening", "closure": "bridge"},
        {**fire, "id": "f100", "at": 100}]
    r = _run(grid)
    a = r.assignments.sort_values("incident_id")
    assert a["travel_min"].tolist() == pytest.approx([6.0, 6.0, 10.0, 6.0])
    changed = [row for row in events(r) if row[0] == "road_changed"]
    assert [t for _, t, _, _ in changed] == [30.0, 80.0]


def test_a_hospital_diversion_sends_patients_to_the_next_hospital_until_it_ends(trace):
    carried = {"transport": True}
    trace["drill"]["injects"] = [incident("a", 0, **carried),
                                 {"id": "div", "at": 30, "kind": "hospital_diversion", "hospital": "HH",
                                  "until": 70},
                                 incident("b", 40, **carried), incident("c", 80, **carried)]
    r = _run(trace)
    assert r.incidents.sort_values("incident_id")["hospital"].astype(str).tolist() == ["HH", "HG", "HH"]
    rows = [row[:2] for row in events(r) if row[0] == "hospital_diversion"]
    assert rows == [("hospital_diversion", 30.0), ("hospital_diversion", 70.0)]


@pytest.mark.parametrize("target", [{"centre": "dispatch"}, {"line": "119"}])
@pytest.mark.parametrize("ending", ["until", "recovery"])
def test_an_outage_holds_calls_from_its_time_until_the_centre_is_back(trace, target, ending):
    outage = {"id": "down", "at": 30, "kind": "outage", **target}
    injects = [incident("a", 20), outage, incident("b", 35), incident("c", 60)]
    if ending == "until":
        outage["until"] = 50
    else:
        injects.append({"id": "back", "at": 50, "kind": "outage_recovery", **target})
    trace["drill"]["injects"] = injects
    r = _run(trace)
    inc = r.incidents.sort_values("incident_id")
    assert inc["t_call_min"].tolist() == [20.0, 35.0, 60.0]
    assert inc["t_answer_min"].tolist() == [20.0, 50.0, 60.0]
    kinds = [row[:2] for row in events(r) if row[0].startswith("outage")]
    assert kinds == [("outage_started", 30.0), ("outage_ended", 50.0)]


def test_a_policy_switch_changes_the_choice_of_units_from_its_time(trace):
    south = {"district": "South"}        # X is nearer SA (North), district_first prefers SB (South)
    trace["drill"]["injects"] = [incident("a", 0, **south),
                                 {"id": "pol", "at": 30, "kind": "policy_switch",
                                  "dispatch": "district_first"},
                                 incident("b", 40, **south)]
    r = _run(trace)
    assert dispatched(r) == {0: SA, 1: SB}


def _surge_world(trace, background: bool):
    trace["districts"]["North"]["zones"] = {"X": 1, "A": 1}
    trace["districts"]["South"]["zones"] = {"Y": 1, "B": 1}
    trace["demand"] = {"rates_per_hr": {"North": {"medical": 3}, "South": {"medical": 3}}}
    trace["drill"] = {"background": background, "injects": [
        {"id": "rush", "at": 20, "until": 80, "kind": "demand_surge", "multiplier": 21,
         "districts": ["South"]}]}
    return trace


def test_a_demand_surge_adds_incidents_in_its_window_and_districts_only(trace):
    r = _run(_surge_world(trace, background=False))
    inc = r.incidents
    assert (inc["source"].astype(str) == "drill").all()     # background off: only the surge's incidents
    assert inc["t_call_min"].between(20, 80, inclusive="left").all()
    assert set(inc["district"].astype(str)) == {"South"}
    expected = 20 * 3 * 1.0                                  # (21 - 1) x 3/h over 1 h
    assert abs(len(inc) - expected) < 5 * math.sqrt(expected)
    assert r.extra["injects"]["incident_ids"][0] == ",".join(map(str, inc["incident_id"]))


def test_a_demand_surge_leaves_the_background_incidents_as_they_were(trace):
    plain = copy_without_drill(_surge_world(trace, background=True))
    with_surge = _run(_surge_world(trace, background=True))
    without = _run(plain)
    base = with_surge.incidents[with_surge.incidents["source"].astype(str) == "demand"]
    assert len(base) == len(without.incidents) > 0
    assert np.array_equal(base["t_call_min"].to_numpy(), without.incidents["t_call_min"].to_numpy())
    assert (with_surge.incidents["source"].astype(str) == "drill").sum() > 0


def copy_without_drill(d):
    """The dict without its drill section."""
    return {k: v for k, v in d.items() if k != "drill"}


def test_background_false_switches_the_generated_demand_off(trace):
    on = _run(_surge_world(trace, background=True))
    trace2 = _surge_world(trace, background=False)
    trace2["drill"]["injects"] = []
    off = _run(trace2)
    assert len(on.incidents) > 0 and len(off.incidents) == 0


def test_a_scenario_without_a_drill_dumps_no_drill_section(trace):
    d = copy_without_drill(_surge_world(trace, background=True))
    assert "drill" not in scenarios.from_dict(d).model_dump(mode="json")


def test_a_shelter_opening_inject_opens_a_closed_shelter_of_the_citizens_at_its_time(grid):
    """The real citizens component: nobody reaches the closed shelter before the inject, people do after."""
    grid["districts"]["city"]["population"] = 300
    grid["components"] = {"citizens": {
        "warnings": {"alerts": [{"at": 5, "share": 1.0}]},
        "evacuation": {"shelters": {"school": {"xy_km": [4, 4], "capacity": 1000, "open": False}},
                       "share": 1.0, "share_prepared": 1.0}}}
    grid["drill"]["injects"] = [{"id": "doors", "at": 45, "kind": "shelter_opening", "shelter": "school"}]
    r = _run(grid)
    kinds, t = r.events["kind"].astype(str).tolist(), r.events["t_min"].tolist()
    assert t[kinds.index("inject")] == t[kinds.index("shelter_opened")] == 45.0
    assert kinds.index("inject") < kinds.index("shelter_opened")
    rows = r.extra["shelters"]
    # the 12 people living at the school's node get in at 45 itself; the others come along the roads
    assert (rows.loc[rows["t_min"] < 45, "occupancy"] == 0).all() and rows["occupancy"].max() > 12
    assert r.extra["injects"]["inject_id"].tolist() == ["doors"]
    grid["drill"]["injects"][0]["shelter"] = "gym"
    with pytest.raises(InputError, match=r"drill\.injects\[0\]\.shelter: unknown shelter 'gym'; "
                                         r"expected one of 'school'"):
        _run(grid)


def test_a_resupply_inject_fills_the_real_reserves_depot_at_its_time(trace):
    """The real reserves component: the stock table shows the arrival at the inject's time."""
    trace["components"] = {"reserves": {
        "materials": ["oxygen"], "consumption": {"medical": {"oxygen": 1}},
        "depots": {"kit": {"stock": {"oxygen": 0}}, "store": {"stock": {"oxygen": 5}, "lead_time": 20}}}}
    trace["drill"]["injects"] = [incident("fall", 5), incident("fall2", 60),
                                 {"id": "van", "at": 30, "kind": "resupply", "depot": "kit",
                                  "material": "oxygen", "quantity": 2}]
    r = _run(trace)
    stock = r.extra["stock"]
    rows = stock[stock["reason"] != "initial"]
    # SA reaches X at 10 and takes the store's oxygen (20 min); the van fills the kit at 30; the
    # second ambulance on scene, at 65, takes the kit's and waits nothing
    assert list(zip(rows["t_min"], rows["depot"], rows["level"], rows["reason"], strict=True)) == [
        (10.0, "store", 4.0, "consumed"), (30.0, "kit", 2.0, "resupplied"), (65.0, "kit", 1.0, "consumed")]
    assert r.incidents.sort_values("incident_id")["material_wait_min"].tolist() == [20.0, 0.0]
    assert r.extra["injects"][["inject_id", "t_min"]].values.tolist() == [["fall", 5.0], ["van", 30.0],
                                                                           ["fall2", 60.0]]


def test_the_injects_may_come_from_a_timeline_file_beside_the_scenario(tmp_path, trace):
    (tmp_path / "timeline.yaml").write_text(
        "- {id: leak, at: '5 min', kind: incident, type: medical, district: North, location: X}\n"
        "- {id: down, at: 30, kind: unit_breakdown, unit: SA/amb/1}\n", encoding="utf-8")
    trace["drill"]["injects"] = "timeline.yaml"
    path = tmp_path / "drill.yaml"
    path.write_text(json.dumps(trace), encoding="utf-8")
    s = scenarios.load(path)
    assert [x.id for x in s.drill.injects] == ["leak", "down"]
    assert s.model_dump(mode="json")["drill"]["injects"][1]["unit"] == SA     # the dump holds the injects
    assert sim.run(s).extra["injects"]["inject_id"].tolist() == ["leak", "down"]
    trace["drill"]["injects"] = "missing.yaml"
    path.write_text(json.dumps(trace), encoding="utf-8")
    with pytest.raises(InputError, match=r"drill\.injects: timeline file not found") as err:
        scenarios.load(path)
    assert "\n" not in err.value.one_line()

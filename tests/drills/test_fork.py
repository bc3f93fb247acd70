"""Step and fork (issue #13): stepping changes nothing; a fork is its parent before t, and differs after t
by the change alone (common random numbers).

The world is the trace world of conftest.py with background demand in both
districts (6 calls an hour for 8 hours), so there is something to change.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import scenarios
import sim
from sim.drill import Drill, compare, fork, prefix_identical
from sim.errors import InputError
from tests.drills.conftest import events

AT = 120.0


@pytest.fixture
def busy(trace):
    trace["time"]["horizon"] = 480
    trace["districts"]["North"]["zones"] = {"X": 1, "A": 1}
    trace["districts"]["South"]["zones"] = {"Y": 1, "X": 1}
    trace["demand"] = {"rates_per_hr": {"North": {"medical": 3}, "South": {"medical": 3}}}
    trace["drill"] = {"injects": []}
    return scenarios.from_dict(trace)


@pytest.fixture
def parent(busy):
    return sim.run(busy, seed=7)


def test_a_stepped_run_gives_the_log_of_the_run_in_one_go(busy, parent):
    drill = Drill(busy, seed=7)
    for t in (0.0, 30.5, 30.5, 100.0, 333.25):
        assert drill.run_until(t).now == t
        drill.state()
    stepped = drill.finish()
    assert stepped.meta["events_sha256"] == parent.meta["events_sha256"]
    pd.testing.assert_frame_equal(stepped.incidents, parent.incidents)


def test_the_state_shows_units_where_they_are_and_what_waits(busy, parent):
    t = 200.0
    state = Drill(busy, seed=7).run_until(t).state()
    assert state.t_min == t and len(state.units) == 2
    ev = parent.events[parent.events["t_min"] < t]
    for unit in ("SA/amb/1", "SB/amb/1"):
        mine = ev[ev["unit_id"].astype(str) == unit]
        last = str(mine["kind"].iloc[-1]) if len(mine) else "unit_available"
        state_now = state.units.set_index("unit").loc[unit, "state"]
        assert state_now == ("at_station" if last == "unit_available" else
                             "returning" if last == "unit_returning" else "busy")
    called = parent.incidents[parent.incidents["t_call_min"] < t]
    closed = set(ev.loc[ev["kind"].astype(str).isin(["incident_cleared", "incident_unserved"]),
                        "incident_id"].dropna().astype(int))
    assert set(state.incidents["incident_id"]) == set(called["incident_id"]) - closed
    waiting = int(state.queues.set_index("capability").loc["amb", "waiting"])
    assert waiting == int((state.incidents["units_assigned"] == 0).sum())
    assert state.centres.to_dict("records") == [{"centre": "dispatch", "down": False, "on_hold": 0,
                                                  "free_call_takers": -1}]
    assert "state at 200 min" in state.text()


def test_a_fork_without_a_change_is_its_parent(busy, parent):
    same = fork(busy, AT, {}, seed=7, parent=parent)
    assert same.branch.meta["events_sha256"] == parent.meta["events_sha256"]
    # the same policy switched in at t: a new policy object, the same choices
    switched = fork(busy, AT, {"policy": "nearest"}, seed=7, parent=parent)
    assert _without_injects(switched.branch) == events(parent)
    assert switched.prefix_identical is True
    assert switched.comparison.set_index("measure").loc["shared incidents whose response changed",
                                                       "difference"] == 0


def _without_injects(result):
    return [row for row in events(result) if row[0] != "inject"]


@pytest.mark.parametrize("change", [{"policy": "district_first"},
                                    {"injects": [{"id": "crash", "kind": "unit_breakdown",
                                                  "unit": "SA/amb/1"}]}])
def test_a_fork_with_a_change_differs_only_after_its_time(busy, parent, change):
    branch = fork(busy, AT, change, seed=7, parent=parent)
    a, b = events(parent), _without_injects(branch.branch)
    before = [row for row in a if row[1] < AT]
    assert [row for row in b if row[1] < AT] == before
    first = next(k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)
    assert first >= len(before) and b[first][1] >= AT
    assert branch.prefix_identical is True
    meta = branch.branch.meta["fork"]
    assert meta["at_min"] == AT and meta["change"] == change
    assert meta["parent"] == parent.meta["scenario_sha256"]
    # the incident stream is the same: every incident called after t is in both branches
    table = branch.comparison.set_index("measure")
    shared = table.loc["shared incidents", "parent"]
    assert table.loc["incidents", "parent"] == table.loc["incidents", "branch"] == shared


def test_prefix_identical_sees_a_difference_before_t(parent):
    ev = parent.events.copy()
    ev.loc[3, "t_min"] = ev.loc[3, "t_min"] + 0.5
    assert prefix_identical(parent.events, ev, AT) is False
    assert prefix_identical(parent.events, parent.events, AT) is True


def test_compare_counts_the_incidents_called_from_t_on(parent):
    table = compare(parent.incidents, parent.incidents, AT).set_index("measure")
    n = int((parent.incidents["t_call_min"] >= AT).sum())
    assert table.loc["incidents", "parent"] == n and table.loc["incidents", "difference"] == 0
    assert table.loc["paired response difference (min)", "difference"] == 0


@pytest.mark.parametrize("change,message", [
    ({"set": {"fleets.SA.amb": 2}}, "cannot change 'fleets.SA.amb' at a time t"),
    ({"injects": [{"id": "early", "at": 10, "kind": "unit_breakdown", "unit": "SA/amb/1"}]},
     "comes before the fork's time"),
    ({"injects": [{"id": "x", "kind": "unit_breakdown", "unit": "nobody"}]}, "unknown unit 'nobody'"),
    ({"colour": "red"}, "unknown change 'colour'"),
])
def test_a_bad_change_is_one_line(busy, parent, change, message):
    with pytest.raises(InputError, match=message) as err:
        fork(busy, AT, change, seed=7, parent=parent)
    assert "\n" not in err.value.one_line()


def test_the_fork_command_writes_the_branch_with_its_metadata(tmp_path, busy, capsys):
    from sim.cli import main

    path = tmp_path / "busy.yaml"
    path.write_text(json.dumps(busy.model_dump(mode="json", by_alias=True)), encoding="utf-8")
    run_dir, out = tmp_path / "run", tmp_path / "branch"
    assert main(["run", str(path), "--seed", "7", "--out", str(run_dir), "--quiet"]) == 0
    inject = tmp_path / "crash.yaml"
    inject.write_text("injects:\n"
                      "  - {id: crash, kind: unit_breakdown, unit: SA/amb/1, description: engine fire}\n")
    capsys.readouterr()
    assert main(["fork", str(run_dir), "--at", "2 h", "--inject", str(inject), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "identical to the parent" in printed and "mean response (min)" in printed
    meta = json.loads((out / "run.json").read_text())
    assert meta["fork"]["parent"] == str(run_dir) and meta["fork"]["at_min"] == AT
    assert meta["fork"]["change"]["injects"][0]["id"] == "crash"
    injects = pd.read_parquet(out / "injects.parquet")
    assert injects[["inject_id", "t_min", "kind"]].to_dict("records") == [
        {"inject_id": "crash", "t_min": AT, "kind": "unit_breakdown"}]
    # a bad --set: one line, exit 2, the branch left as it was
    before = (out / "run.json").read_bytes()
    assert main(["fork", str(run_dir), "--at", "2 h", "--set", "fleets.SA.amb=2", "--out", str(out),
                 "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--set" in err
    assert (out / "run.json").read_bytes() == before


def test_the_step_command_prints_the_state(tmp_path, busy, capsys):
    from sim.cli import main

    path = tmp_path / "busy.yaml"
    path.write_text(json.dumps(busy.model_dump(mode="json", by_alias=True)), encoding="utf-8")
    assert main(["step", str(path), "--until", "200", "--seed", "7", "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["t_min"] == 200 and [u["unit"] for u in state["units"]] == ["SA/amb/1", "SB/amb/1"]
    assert main(["step", str(path), "--until", "900"]) == 2
    assert "--until" in capsys.readouterr().err


def test_set_turns_policy_keys_into_one_policy_switch_at_t():
    from sim.drill import change_injects

    got = change_injects(AT, {"set": {"policy.params.max_wait_min": 5}}, "district_first", {"x": 1})
    assert got == [{"id": "fork-policy", "at": AT, "kind": "policy_switch", "dispatch": "district_first",
                    "params": {"x": 1, "max_wait_min": 5},
                    "description": "fork: dispatch policy district_first from here on"}]
    other = change_injects(AT, {"set": {"policy.dispatch": "nearest"}}, "district_first", {"x": 1})
    assert other[0]["dispatch"] == "nearest" and other[0]["params"] == {}


@pytest.mark.parametrize("t,x_km", [(0.5, 0.0), (3.0, 1.0), (5.0, 2.0), (7.0, 3.0)])
def test_the_state_places_a_unit_on_its_way_at_the_last_node_it_passed(grid, t, x_km):
    """A fire 3 blocks east of the station (2 min a block), called at 0: the engine drives 0-6 min."""
    grid["drill"]["injects"] = [{"id": "f", "at": 0, "kind": "incident", "type": "fire", "district": "city",
                                 "location": [3, 0]}]
    units = Drill(scenarios.from_dict(grid), seed=1).run_until(t).state().units
    assert units.to_dict("records") == [{"unit": "W/engine/1", "kind": "engine", "station": "W",
                                         "state": "busy", "incident": 0, "x_km": x_km, "y_km": 0.0}]

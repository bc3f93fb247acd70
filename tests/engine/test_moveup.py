"""Move-up (issue #10, item 6): relocations keep districts covered, exactly when the rule says.

The map is a travel-time matrix between five places (synthetic)::

          E   W   X   Y   H
      E   0  12   2  13   6        station SE (district East, one ambulance)
      W  12   0  13   2   6        station SW (district West, two ambulances)
      X   2  13   0  14   6        a scene in East
      Y  13   2  14   0   6        a scene in West
      H   6   6   6   6   0        hospital H

With a target of 8 minutes and turnout 1, East is covered only by a unit
posted at E (1 + 12 > 8 from W), West only by one at W. Units are indexed
in fleet order: SE/amb/1 = 0, SW/amb/1 = 1, SW/amb/2 = 2.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
import sim
from sim.errors import InputError
from tests.cli.conftest import TINY_YAML, error_line, run_cli
from tests.conftest import _CITY
from tests.engine.conftest import event_rows

pytestmark = pytest.mark.nojit

SE, SW1, SW2 = "SE/amb/1", "SW/amb/1", "SW/amb/2"
PLACES = ["E", "W", "X", "Y", "H"]
TRAVEL = [
    [0, 12, 2, 13, 6],
    [12, 0, 13, 2, 6],
    [2, 13, 0, 14, 6],
    [13, 2, 14, 0, 6],
    [6, 6, 6, 6, 0],
]
MOVE_UP = {"capability": "amb", "target": "8 min"}

_TWO_SIDES: dict[str, Any] = {
    "schema_version": 1,
    "name": "moveup_trace",
    "description": "East with one ambulance, West with two (synthetic).",
    "time": {"horizon": 400},
    "geography": {"kind": "matrix", "places": PLACES, "travel_min": TRAVEL},
    "districts": {
        "East": {"zones": {"X": 1}, "neighbours": ["West"]},
        "West": {"zones": {"Y": 1}, "neighbours": ["East"]},
    },
    "stations": {"SE": {"district": "East", "location": "E"}, "SW": {"district": "West", "location": "W"}},
    "hospitals": {"H": {"location": "H", "capacity": 1}},
    "unit_types": {"amb": {"transports": True, "turnout": 1}},
    "fleets": {"SE": {"amb": 1}, "SW": {"amb": 2}},
    "incident_types": {
        "medical": {
            "priority_mix": {1: 1.0},
            "target_response": 8,
            "required_units": {"amb": 1},
            "on_scene": {"dist": "constant", "value": 20},
        },
    },
    "dispatch_centre": {"answer": 0.5, "processing": 1},
    "incidents": [],
}


def _east(at: float, **extra: Any) -> dict[str, Any]:
    return {"at": at, "type": "medical", "district": "East", "location": "X", "transport": False, **extra}


def _two_sides(move_up: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(_TWO_SIDES)
    d.update(copy.deepcopy(changes))
    if move_up is not None:
        d["components"] = {"move_up": move_up}
    return d


# -- 1. move-up shortens East's responses while its own ambulance is tied up --------------------


LONG_START = 60.0


def _busy_east(move_up: dict[str, Any] | None) -> dict[str, Any]:
    """A 6-hour job in East at 1 h, East calls every 40 min after it, random demand on both sides."""
    return _two_sides(
        move_up,
        time={"horizon": "12 h"},
        dispatch_centre={"answer": {"dist": "exponential", "mean": 0.5},
                         "processing": {"dist": "uniform", "low": 0.5, "high": 1.5}},
        incident_types={"medical": {
            "priority_mix": {1: 1.0}, "target_response": 8, "required_units": {"amb": 1},
            "on_scene": {"dist": "gamma", "mean": 15, "sd": 5}, "transport_probability": 0.3,
            "handover": 5}},
        demand={"rates_per_hr": {"East": {"medical": 0.05}, "West": {"medical": 0.1}}},
        incidents=[_east(LONG_START, on_scene="6 h", label="long job"),
                   *[_east(LONG_START + 40 * k, label=f"east {k}") for k in range(1, 8)]],
    )


@pytest.fixture(scope="module")
def busy_east() -> dict[str, sim.RunResult]:
    seed, rep = 11, 2
    return {name: sim.run(scenarios.from_dict(_busy_east(mu)), seed=seed, replication=rep)
            for name, mu in (("off", None), ("on", MOVE_UP))}


def _east_after_long(result) -> pd.DataFrame:
    inc = result.incidents
    return inc[(inc["district"] == "East") & (inc["t_call_min"] > LONG_START)].set_index("incident_id")


def test_move_up_lowers_east_response_after_the_long_job(busy_east):
    off, on = (_east_after_long(busy_east[k]) for k in ("off", "on"))
    # common random numbers: the very same incidents in both runs
    same = ["t_call_min", "kind", "location"]
    pd.testing.assert_frame_equal(off[same], on[same])
    assert len(off) >= 7
    # without move-up they come from West (turnout 1 + 13 min); with it from E (1 + 2)
    assert off["response_min"].mean() - on["response_min"].mean() > 5.0
    assert on["response_min"].mean() < 8.0 < off["response_min"].mean()


def test_the_moved_unit_is_logged_and_then_serves_east_from_its_new_post(busy_east):
    on = busy_east["on"]
    ev = on.events
    moves = ev[ev["kind"] == "unit_relocating"]
    first = moves.iloc[0]
    # the long job's decision leaves East uncovered: a West unit is moved to SE at once
    long_id = int(on.incidents.loc[on.incidents["label"] == "long job", "incident_id"].iloc[0])
    t_decided = float(on.incidents.set_index("incident_id").loc[long_id, "t_dispatch_min"])
    assert float(first["t_min"]) == t_decided
    moved = str(first["unit_id"])
    assert moved.startswith("SW/") and json.loads(first["detail"]) == {"to": "SE"}
    # its later East jobs start from the station it was moved to and arrive fast
    a = on.assignments
    east = _east_after_long(on)
    mine = a[(a["unit_id"] == moved) & a["incident_id"].isin(east.index) & (a["t_dispatch_min"] > t_decided)]
    assert len(mine) >= 3
    assert mine["from_station"].all()
    assert (mine["travel_min"] == 2.0).all()       # E -> X, not W -> X (13)
    assert (east.loc[mine["incident_id"], "response_min"] < 8.0).all()
    assert on.meta["components"]["move_up"]["relocations"] == len(moves)
    table = on.extra["relocations"]
    assert list(table["unit_id"]) == list(moves["unit_id"].astype(str))
    assert list(table["t_min"]) == list(moves["t_min"])


# -- 2. an exact trace ------------------------------------------------------------------------


def test_exact_trace_relocation_at_the_decision_and_move_back():
    d = _two_sides(MOVE_UP, incidents=[_east(0, on_scene=300), _east(30)])
    result = sim.run(scenarios.from_dict(d))
    details = [None if pd.isna(x) else x for x in result.events["detail"]]
    rows = [(k, t, u, det) for (k, t, _, u), det in zip(event_rows(result), details, strict=True)
            if k in ("unit_dispatched", "unit_relocating", "unit_available")]
    # I0 dispatched at 0 + 0.5 + 1: SE goes, East is uncovered; SW/amb/1 and SW/amb/2 tie at 1 + 12,
    # the lower index moves (West stays covered by the other). I1 at 30: SW/amb/1 goes from E
    # (1 + 2); West's last unit is its only cover, so nobody moves. SE back at E at 304.5 + 2:
    # East is covered twice, SW/amb/1 is not needed there and goes home.
    assert rows == [
        ("unit_dispatched", 1.5, SE, None),
        ("unit_relocating", 1.5, SW1, '{"to": "SE"}'),
        ("unit_available", 13.5, SW1, None),           # W -> E 12, no turnout
        ("unit_dispatched", 31.5, SW1, None),
        ("unit_available", 56.5, SW1, None),           # back at its post E
        ("unit_available", 306.5, SE, None),
        ("unit_relocating", 306.5, SW1, '{"to": "SW"}'),
        ("unit_available", 318.5, SW1, None),
    ]
    a = result.assignments.set_index("incident_id")
    assert (a.loc[1, "unit_id"], a.loc[1, "from_station"], a.loc[1, "travel_min"]) == (SW1, True, 2.0)
    assert result.meta["components"] == {"move_up": {"relocations": 2, "moved_back": 1}}
    table = result.extra["relocations"]
    assert table.to_dict("list") == {"t_min": [1.5, 306.5], "unit_id": [SW1, SW1], "from": ["SW", "SE"],
                                     "to": ["SE", "SW"], "reason": ["cover", "back"]}


def test_without_move_back_the_unit_stays():
    d = _two_sides({**MOVE_UP, "move_back": False}, incidents=[_east(0, on_scene=300)])
    result = sim.run(scenarios.from_dict(d))
    moves = [(t, u) for k, t, _, u in event_rows(result) if k == "unit_relocating"]
    assert moves == [(1.5, SW1)]
    assert result.meta["components"]["move_up"] == {"relocations": 1, "moved_back": 0}


def test_districts_not_kept_are_left_uncovered():
    d = _two_sides({**MOVE_UP, "districts": ["West"]}, incidents=[_east(0, on_scene=300)])
    result = sim.run(scenarios.from_dict(d))
    assert "unit_relocating" not in set(result.events["kind"].astype(str))


def test_a_unit_moves_as_soon_as_one_is_spare():
    # both West units are out when East's leaves; the first back is West's only cover, so it stays;
    # when the second is back (idle hook), the lower-indexed of the two moves at once
    d = _two_sides({**MOVE_UP, "every": "10 min", "move_back": False}, incidents=[
        {"at": 0, "type": "medical", "district": "West", "location": "Y", "on_scene": 30, "transport": False},
        {"at": 0, "type": "medical", "district": "West", "location": "Y", "on_scene": 60, "transport": False},
        _east(5, on_scene=300)])
    result = sim.run(scenarios.from_dict(d))
    moves = [(t, u) for k, t, _, u in event_rows(result) if k == "unit_relocating"]
    # SW/amb/1 back at W at 1.5 + 1 + 2 + 30 + 2 = 36.5; SW/amb/2 at 1.5 + 1 + 2 + 60 + 2 = 66.5
    assert moves == [(66.5, SW1)]


@pytest.mark.parametrize("redispatch", [False, True])
def test_a_unit_moved_at_the_instant_of_a_decision_is_not_booked_in_between(redispatch):
    """Found by the property test below (pinned here).

    A relocation is ordered as a unit becomes idle, at the instant another call is decided. The
    order sets the unit ``setting_off`` at once (not eligible), so the decision of that instant
    cannot book it before its process sets off: the other unit goes, whether or not moving units
    may be redispatched. (Before, the decision booked it in between: it logged
    ``unit_relocating`` while busy and the incident's wake was lost.)
    """
    d = {
        "schema_version": 1, "name": "race", "description": "synthetic", "time": {"horizon": 60},
        "geography": {"kind": "matrix", "places": ["P0", "P1", "H"],
                      "travel_min": [[0, 2, 1], [2, 0, 1], [1, 1, 0]]},
        "districts": {"D0": {"zones": {"P0": 1}}, "D1": {"zones": {"P1": 1}}},
        "stations": {"S0": {"district": "D0", "location": "P0"}, "S1": {"district": "D1", "location": "P1"}},
        "hospitals": {"H": {"location": "H", "capacity": 1}},
        "unit_types": {"amb": {"transports": True, "turnout": 0}},
        "fleets": {"S0": {"amb": 0}, "S1": {"amb": 2}},
        "incident_types": {"medical": {"priority_mix": {1: 1.0}, "target_response": 8,
                                       "required_units": {"amb": 1}, "on_scene": 0}},
        "dispatch_centre": {"answer": 0, "processing": 1},
        "incidents": [{"at": at, "type": "medical", "district": "D0", "location": "P0", "transport": False}
                      for at in (0, 4)],
        "policy": {"dispatch": "nearest", "redispatch_returning": redispatch},
        "components": {"move_up": {"capability": "amb", "target": 1, "move_back": False}},
    }
    result = sim.run(scenarios.from_dict(d))
    a, b = "S1/amb/1", "S1/amb/2"
    rows = [row for row in event_rows(result) if row[3] is not None]
    # S1/amb/1 serves I0 and is back at P1 at 5, when I1 (called at 4) is decided: D0 has no unit,
    # D1 has two, so S1/amb/1 (lower index) is ordered to S0 first; I1 then takes the other unit
    head = [("unit_dispatched", 1.0, 0, a), ("unit_arrived", 3.0, 0, a), ("unit_left_scene", 3.0, 0, a),
            ("unit_returning", 3.0, None, a), ("unit_available", 5.0, None, a)]
    tail = [("unit_dispatched", 5.0, 1, b), ("unit_relocating", 5.0, None, a),
            ("unit_available", 7.0, None, a),
            ("unit_arrived", 7.0, 1, b), ("unit_left_scene", 7.0, 1, b), ("unit_returning", 7.0, None, b),
            ("unit_available", 9.0, None, b)]
    assert rows == head + tail
    assert (result.incidents["status"] == "resolved").all()


# -- 3. invariants on random small scenarios ----------------------------------------------------

BUSY_KINDS = {"unit_en_route", "unit_arrived", "unit_left_scene", "unit_at_hospital", "handover_started",
              "handover_done"}
STATES = ("at_station", "busy", "returning", "relocating", "out_of_service")


@st.composite
def moveup_scenarios(draw):
    n = draw(st.integers(2, 4))
    districts = [f"D{i}" for i in range(n)]
    places = [*districts, "H"]
    m = len(places)
    upper = {(i, j): draw(st.integers(1, 15)) for i in range(m) for j in range(i + 1, m)}
    travel = [[0 if i == j else upper[min(i, j), max(i, j)] for j in range(m)] for i in range(m)]
    fleets = {f"S{i}": {"amb": draw(st.integers(0, 3))} for i in range(n)}
    if not any(f["amb"] for f in fleets.values()):
        fleets["S0"]["amb"] = 1
    units = [f"S{i}/amb/{k + 1}" for i in range(n) for k in range(fleets[f"S{i}"]["amb"])]
    horizon = draw(st.integers(120, 480))
    incidents = [{"at": draw(st.integers(0, (horizon - 1) // 4)) * 4.0, "type": "medical",
                  "district": draw(st.sampled_from(districts)),
                  "location": draw(st.sampled_from(districts)),
                  "on_scene": draw(st.sampled_from([0, 5, 20, 60, 180])),
                  "transport": draw(st.booleans())}
                 for _ in range(draw(st.integers(1, 12)))]
    outages = [{"unit": u, "start": draw(st.integers(0, horizon))} for u in
               draw(st.lists(st.sampled_from(units), max_size=2, unique=True))]  # one window per unit
    for o in outages:
        o["end"] = o["start"] + draw(st.integers(1, 120))
    move_up = {"capability": "amb", "target": draw(st.integers(1, 20)),
               "move_back": draw(st.booleans())}
    if draw(st.booleans()):
        move_up["every"] = draw(st.sampled_from([1, 4, 7.5, 30]))
    d = {
        "schema_version": 1, "name": "moveup_prop", "description": "random (synthetic)",
        "time": {"horizon": horizon},
        "geography": {"kind": "matrix", "places": places, "travel_min": travel},
        "districts": {name: {"zones": {name: 1}} for name in districts},
        "stations": {f"S{i}": {"district": name, "location": name} for i, name in enumerate(districts)},
        "hospitals": {"H": {"location": "H", "capacity": draw(st.integers(1, 2))}},
        "unit_types": {"amb": {"transports": True, "turnout": draw(st.sampled_from([0, 1, 2]))}},
        "fleets": fleets,
        "incident_types": {"medical": {
            "priority_mix": {1: 0.5, 2: 0.5}, "target_response": 8, "required_units": {"amb": 1},
            "on_scene": {"dist": "exponential", "mean": 20}, "transport_probability": 0.5,
            "handover": {"dist": "constant", "value": 5}}},
        "dispatch_centre": {"answer": draw(st.sampled_from([0, 0.5])), "processing": 1},
        "incidents": sorted(incidents, key=lambda x: x["at"]),
        "unit_availability": outages,
        "policy": {"dispatch": draw(st.sampled_from(["nearest", "district_first"])),
                   "redispatch_returning": draw(st.booleans())},
        "components": {"move_up": move_up},
    }
    if draw(st.booleans()):
        d["demand"] = {"rates_per_hr": {name: {"medical": draw(st.sampled_from([0.1, 0.5]))}
                                        for name in districts}}
    return d, units, draw(st.integers(0, 3))


def _replay(events: list[tuple[str, float, int | None, str | None]], units: list[str]) -> dict[str, str]:
    """Unit states rebuilt from the log in order, checking each transition; returns the final states."""
    state = dict.fromkeys(units, "at_station")
    last_t = 0.0
    for kind, t, _, u in events:
        assert t >= last_t, (kind, t)
        last_t = t
        if u is None:
            continue
        before = state[u]
        if kind == "unit_dispatched":
            assert before != "out_of_service", (t, u)
            state[u] = "busy"
        elif kind in BUSY_KINDS:
            assert before == "busy", (kind, t, u, before)
        elif kind == "unit_returning":
            assert before == "busy", (kind, t, u, before)
            state[u] = "returning"
        elif kind == "unit_available":
            assert before in ("busy", "returning", "relocating"), (kind, t, u, before)
            state[u] = "at_station"
        elif kind == "unit_relocating":
            assert before in ("at_station", "returning", "relocating"), (kind, t, u, before)
            state[u] = "relocating"
        elif kind == "unit_out_of_service":
            assert before != "out_of_service", (kind, t, u)
            state[u] = "out_of_service"
        elif kind == "unit_in_service":
            assert before == "out_of_service", (kind, t, u, before)
            state[u] = "at_station"
        else:
            raise AssertionError(f"unexpected unit event {kind!r}")
        assert set(state.values()) <= set(STATES)  # one state per unit, a known one
    return state


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=moveup_scenarios())
def test_unit_states_replayed_from_the_log_are_consistent(case):
    d, units, rep = case
    result = sim.run(scenarios.from_dict(d), seed=3, replication=rep)
    events = event_rows(result)
    _replay(events, units)
    moves = [(t, u) for k, t, _, u in events if k == "unit_relocating"]
    table = result.extra["relocations"]
    assert list(zip(table["t_min"], table["unit_id"], strict=True)) == moves
    figures = result.meta.get("components", {}).get("move_up", {"relocations": 0, "moved_back": 0})
    assert figures == {"relocations": len(moves), "moved_back": int((table["reason"] == "back").sum())}
    assert set(table["reason"]) <= {"cover", "back"}


# -- 4. a target nobody misses changes nothing ---------------------------------------------------


def _tables(result) -> dict[str, pd.DataFrame]:
    return {name: getattr(result, name) for name in ("incidents", "assignments", "units", "events")}


def test_a_target_always_met_leaves_every_table_as_without_move_up():
    base = copy.deepcopy(_CITY)
    base["time"]["horizon"] = "2 d"
    removed = copy.deepcopy(base)
    removed["components"] = {"move_up": {"capability": "amb", "target": "8 min"}}
    del removed["components"]
    huge = copy.deepcopy(base)
    huge["components"] = {"move_up": {"capability": "amb", "target": "1000 d", "every": "5 min"}}
    runs = {name: sim.run(scenarios.from_dict(d), seed=4, replication=1)
            for name, d in (("base", base), ("removed", removed), ("huge", huge))}
    assert len(runs["base"].assignments) > 50
    for name in ("removed", "huge"):
        for table, frame in _tables(runs["base"]).items():
            pd.testing.assert_frame_equal(getattr(runs[name], table), frame, obj=f"{name}: {table}")
    assert runs["huge"].meta["components"]["move_up"] == {"relocations": 0, "moved_back": 0}
    assert len(runs["huge"].extra["relocations"]) == 0


def test_the_same_scenario_with_move_up_really_moves_units():
    """The baseline comparison above is not vacuous: with a tight target this city does relocate."""
    d = copy.deepcopy(_CITY)
    d["time"]["horizon"] = "2 d"
    d["components"] = {"move_up": {"capability": "amb", "target": "8 min"}}
    result = sim.run(scenarios.from_dict(d), seed=4, replication=1)
    assert result.meta["components"]["move_up"]["relocations"] > 0


# -- 5. bad sections ------------------------------------------------------------------------------


@pytest.mark.parametrize(("section", "path", "fragment"), [
    ({"capability": "ambulanse", "target": 8}, "components.move_up.capability",
     "unknown capability 'ambulanse'"),
    ({"capability": "amb", "target": 8, "districts": ["East", "North"]}, "components.move_up.districts[1]",
     "unknown district 'North'"),
])
def test_names_unknown_to_the_world_are_input_errors(section, path, fragment):
    with pytest.raises(InputError) as err:
        sim.run(scenarios.from_dict(_two_sides(section, incidents=[_east(0)]), source="mu.yaml"))
    assert err.value.path == path
    assert fragment in err.value.message
    assert err.value.one_line().startswith(f"mu.yaml: {path}: ")


def _tiny_with(section: dict[str, Any]) -> str:
    d = yaml.safe_load(TINY_YAML)
    d["components"] = {"move_up": section}
    return yaml.safe_dump(d, sort_keys=False)


@pytest.mark.parametrize("command", ["check", "run"])
def test_cli_a_typo_in_the_section_is_one_line(tmp_path, command):
    path = tmp_path / "typo.yaml"
    path.write_text(_tiny_with({"capabilty": "ambulance", "target": "8 min"}), encoding="utf-8")
    out = tmp_path / "out"
    args = ["scenario", "check", path] if command == "check" else ["run", path, "--out", out]
    line = error_line(run_cli(args))
    assert line.startswith(f"{path}: components.move_up.capabilty: "), line
    assert "unknown field" in line
    assert not out.exists()
    assert not list(tmp_path.glob(".out*"))


def test_cli_an_unknown_capability_stops_the_run_with_one_line(tmp_path):
    path = tmp_path / "cap.yaml"
    path.write_text(_tiny_with({"capability": "ambulanse", "target": "8 min"}), encoding="utf-8")
    out = tmp_path / "out"
    line = error_line(run_cli(["run", path, "--out", out]))
    assert line.startswith(f"{path}: components.move_up.capability: unknown capability 'ambulanse'"), line
    assert not out.exists()


def test_the_good_section_runs_from_the_cli(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(_tiny_with({"capability": "ambulance", "target": "8 min", "every": "30 min"}),
                    encoding="utf-8")
    assert run_cli(["scenario", "check", path]).returncode == 0
    proc = run_cli(["run", path, "--out", tmp_path / "out"])
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "relocations.parquet").exists()
    meta = json.loads((tmp_path / "out" / "run.json").read_text())
    assert set(meta["components"]["move_up"]) == {"relocations", "moved_back"}
    assert np.isfinite(meta["components"]["move_up"]["relocations"])

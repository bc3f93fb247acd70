"""Drones (#11 item 4): a drone verifies first, false alarms send nobody, batteries are respected.

Plane world of conftest.py (a km is a minute by road); the drone port is at
the station (5, 5), drones fly at 60 km/h (a km a minute), launch 1 min,
verify 2 min, endurance 25 min.
"""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.metrics import run_metrics
from tests.cli.conftest import error_line, run_cli
from tests.resources.conftest import figures, run

pytestmark = pytest.mark.nojit


def _drones(**extra) -> dict:
    return {"ports": {"hq": {"xy_km": [5, 5], "drones": 1}}, "speed_kmh": 60, "endurance": 25,
            "recharge": 40, "launch": 1, "verify": 2, "max_wait": 6, "verifiable": ["hazmat"], **extra}


def _kinds_times(result, i: int) -> list[tuple[str, float]]:
    ev = result.events
    rows = ev[ev["incident_id"] == i]
    return list(zip(rows["kind"].astype(str), rows["t_min"], strict=True))


def test_a_false_alarm_is_closed_after_the_report_and_a_real_incident_dispatched(world):
    world["incidents"] = [{"at": 0, "type": "hazmat", "district": "West", "location": [8, 5]}]
    world["components"] = {"drones": _drones(false_alarm_share={"hazmat": 1.0})}
    false = run(world)
    # launch 1, fly 3 km: over the scene at 4, report at 6; nobody sent; back at 9
    assert _kinds_times(false, 0) == [("call_received", 0.0), ("call_answered", 0.0), ("drone_launched", 1.0),
                                      ("drone_reported", 6.0), ("false_alarm_closed", 6.0),
                                      ("incident_cleared", 6.0)]
    assert len(false.assignments) == 0
    row = false.extra["drones"].iloc[0]
    assert (row["t_launch_min"], row["t_arrive_min"], row["t_back_min"], row["outcome"],
            row["battery_left_min"]) == (1.0, 4.0, 9.0, "false_alarm", 17.0)
    world["components"] = {"drones": _drones()}
    real = run(world)
    # confirmed at 6, then the engine: turnout 1, 3 km: arrives at 10 (without a drone: at 4)
    assert real.incidents["t_first_arrival_min"].tolist() == [10.0]
    assert real.incidents["drone_outcome"].tolist() == ["confirmed"]
    assert real.incidents["drone_hold_min"].tolist() == [6.0]


def test_verification_lowers_wasted_dispatches_on_false_alarms(world):
    world["time"]["horizon"] = 3 * 1440
    world["demand"] = {"rates_per_hr": {"West": {"hazmat": 0.5, "medical": 0.5}}}
    share = {"hazmat": 0.4, "medical": 0.2}
    world["components"] = {"drones": _drones(false_alarm_share=share, enabled=False)}
    off = run(world)
    world["components"] = {"drones": _drones(false_alarm_share=share)}
    on = run(world)
    f_off, f_on = figures(off, "drones"), figures(on, "drones")
    # the same false alarms on the same random numbers
    assert off.incidents["false_alarm"].tolist() == on.incidents["false_alarm"].tolist()
    assert f_off["false_alarms"] == f_on["false_alarms"] > 20
    assert f_off["sorties"] == 0 and f_on["sorties"] > 0
    hazmat_false = off.incidents.query("false_alarm and kind == 'hazmat'").shape[0]
    assert f_on["false_alarms_caught"] > 0.6 * hazmat_false
    assert f_off["wasted_dispatches"] - f_on["wasted_dispatches"] == f_on["dispatches_saved"] > 0
    # the sweep metrics say the same (no warm-up here)
    for result, fig in ((off, f_off), (on, f_on)):
        metrics = run_metrics(result.incidents, result.units)
        assert metrics["wasted_dispatches"] == fig["wasted_dispatches"]
        assert metrics["false_alarms_caught"] == fig["false_alarms_caught"]
    # medical calls are not verified: their false alarms still get an ambulance that leaves at once
    med = on.incidents.query("false_alarm and kind == 'medical'")
    assert (med["units_assigned"] == 1).all() and (med["on_scene_min"] == 0).all()


def test_off_and_without_false_alarms_a_drone_section_changes_nothing(world):
    world["time"]["horizon"] = 1440
    world["demand"] = {"rates_per_hr": {"West": {"hazmat": 0.5, "medical": 0.5}}}
    plain = run(world)
    world["components"] = {"drones": _drones(enabled=False)}
    off = run(world)
    cols = ["t_min", "kind", "incident_id", "unit_id"]
    assert off.events[cols].equals(plain.events[cols])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.floats(0, 20), y=st.floats(0, 10), speed=st.sampled_from([20.0, 45.0, 90.0]),
       endurance=st.sampled_from([5.0, 12.0, 30.0]), recharge=st.sampled_from([0.0, 20.0, 90.0]),
       verify=st.sampled_from([0.0, 3.0]), drones=st.integers(1, 2))
def test_a_drone_never_flies_beyond_its_battery(world, x, y, speed, endurance, recharge, verify, drones):
    world["time"]["horizon"] = 720
    world["demand"] = {"rates_per_hr": {"West": {"hazmat": 1.5}, "East": {"hazmat": 1.5}}}
    world["components"] = {"drones": _drones(
        ports={"p": {"xy_km": [x, y], "drones": drones}}, speed_kmh=speed, endurance=endurance,
        recharge=recharge, verify=verify, max_wait=30, false_alarm_share={"hazmat": 0.3})}
    t = run(world).extra["drones"]
    in_air = t["t_back_min"].isna()  # sorties the end of the run caught in the air: one per drone at most
    assert in_air.sum() <= drones and (t.loc[in_air, "t_launch_min"].fillna(0) <= 720).all()
    t = t[~in_air]
    flown = t["t_back_min"] - t["t_launch_min"]
    assert (flown <= endurance + 1e-9).all()
    assert ((t["battery_left_min"] - (endurance - flown)).abs() < 1e-9).all()
    assert (t["battery_left_min"] >= -1e-12).all()
    for _, sorties in t.sort_values("t_launch_min").groupby("drone"):
        launch, back = sorties["t_launch_min"].to_numpy(), sorties["t_back_min"].to_numpy()
        used = back - launch
        ready = back + recharge * used / endurance
        # a drone takes off again only recharged (launch minutes after the order, which comes after ready)
        assert (launch[1:] >= ready[:-1] + 1.0 - 1e-9).all()


def test_a_drone_port_outside_the_map_is_one_line_exit_2(world, tmp_path):
    world["components"] = {"drones": _drones(ports={"far": {"xy_km": [40, 5]}})}
    path = tmp_path / "drones.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False), encoding="utf-8")
    line = error_line(run_cli(["scenario", "check", str(path)]))
    assert line.startswith(f"{path}: components.drones.ports.far.xy_km: [40.0, 5.0] is outside the map"), line


def test_in_recall_mode_units_go_at_once_and_turn_back_on_a_false_alarm(world):
    world["incidents"] = [{"at": 0, "type": "hazmat", "district": "East", "location": [15, 5]}]
    world["components"] = {"drones": _drones(ports={"east": {"xy_km": [14, 5]}}, mode="recall",
                                             false_alarm_share={"hazmat": 1.0})}
    result = run(world)
    # the engine leaves at 0, drives from 1; the drone reports at 1 + 1 + 2 = 4 and the engine turns back
    assert _kinds_times(result, 0) == [
        ("call_received", 0.0), ("call_answered", 0.0), ("unit_dispatched", 0.0), ("drone_launched", 1.0),
        ("unit_en_route", 1.0), ("drone_reported", 4.0), ("unit_recalled", 4.0), ("incident_cleared", 4.0)]
    assert figures(result, "drones")["units_recalled"] == 1
    assert result.incidents["status"].astype(str).tolist() == ["resolved"]


def test_a_drone_sees_the_true_type_so_the_right_plan_follows(world):
    world["incidents"] = [{"at": 0, "type": "medical", "district": "West", "location": [8, 5]}]
    section = _drones(verifiable=["medical"], misreported={"medical": {"hazmat": 1.0}})
    world["components"] = {"drones": {**section, "enabled": False}}
    blind = run(world)
    assert blind.assignments["unit_kind"].astype(str).tolist() == ["ambulance"]
    assert blind.incidents[["kind", "true_kind", "wrong_plan"]].astype(str).values.tolist() == [
        ["medical", "hazmat", "True"]]
    world["components"] = {"drones": section}
    seen = run(world)
    assert seen.assignments["unit_kind"].astype(str).tolist() == ["engine"]
    cols = ["kind", "true_kind", "wrong_plan", "drone_outcome"]
    assert seen.incidents[cols].astype(str).values.tolist() == [["hazmat", "hazmat", "False", "reclassified"]]
    assert figures(seen, "drones")["reclassified"] == 1 and figures(blind, "drones")["wrong_plans"] == 1


@pytest.mark.parametrize(("horizon", "expected"), [
    (7.5, (1.0, 4.0, "false_alarm", 1)),   # reported at 6, on its way back at the end
    (3.0, (1.0, None, "", 0)),             # launched at 1, not over the scene yet
])
def test_a_sortie_in_the_air_at_the_end_is_in_the_table(world, horizon, expected):
    world["time"]["horizon"] = horizon
    world["incidents"] = [{"at": 0, "type": "hazmat", "district": "West", "location": [8, 5]}]
    world["components"] = {"drones": _drones(false_alarm_share={"hazmat": 1.0})}
    result = run(world)
    table = result.extra["drones"]
    assert len(table) == 1
    row = table.iloc[0]
    launched, over, outcome, reported = expected
    assert row["t_launch_min"] == launched and row["outcome"] == outcome
    assert row["t_arrive_min"] == over if over is not None else math.isnan(row["t_arrive_min"])
    assert math.isnan(row["t_back_min"]) and math.isnan(row["battery_left_min"])
    assert figures(result, "drones")["sorties"] == reported

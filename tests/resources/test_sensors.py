"""Sensors (#11 item 5): IoT coverage shortens the call delay at covered sites only.

Two sites on the plane world of conftest.py: a plant in West with sensors
and a depot in East without. Site events (their starts, types, points and
both delays) are drawn the same with sensors on and off.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import InputError
from tests.resources.conftest import figures, run

pytestmark = pytest.mark.nojit


def _sensors(**extra) -> dict:
    return {"report_delay": {"dist": "lognormal", "mean": 15, "sd": 8},
            "sensor_delay": {"dist": "uniform", "low": 0.5, "high": 2},
            "sites": {"plant": {"district": "West", "circle": {"centre_km": [7, 5], "radius_km": 1.5},
                                "events_per_day": 6, "incident_types": {"hazmat": 2, "medical": 1},
                                "covered": True, "false_alarms_per_day": 2, "false_alarm_type": "hazmat"},
                      "depot": {"district": "East", "polygon": [[12, 2], [16, 2], [16, 6], [12, 6]],
                                "events_per_day": 6, "incident_types": {"hazmat": 1}, "covered": False}},
            **extra}


def test_sensors_shorten_the_call_delay_at_covered_sites_only(world):
    world["time"]["horizon"] = 4 * 1440
    world["demand"] = {"rates_per_hr": {"West": {"medical": 0.3}}}
    world["components"] = {"sensors": _sensors(enabled=False)}
    off = run(world)
    world["components"] = {"sensors": _sensors()}
    on = run(world)
    e_off, e_on = off.extra["site_events"], on.extra["site_events"]
    real_on = e_on[~e_on["false_alarm"]]
    assert not e_off["false_alarm"].any()
    assert e_on["false_alarm"].sum() == figures(on, "sensors")["false_alarms"] > 0
    for site in ("plant", "depot"):
        a = e_off[e_off["site"] == site].sort_values("t_start_min")
        b = real_on[real_on["site"] == site].sort_values("t_start_min")
        assert len(a) > 10
        np.testing.assert_array_equal(a["t_start_min"].to_numpy(), b["t_start_min"].to_numpy())
        delay_off = (a["t_call_min"] - a["t_start_min"]).to_numpy()
        delay_on = (b["t_call_min"] - b["t_start_min"]).to_numpy()
        if site == "plant":
            assert (delay_on <= delay_off).all() and delay_on.mean() < 0.2 * delay_off.mean()
            assert (b["detected_by"] == "sensor").mean() > 0.9
        else:  # not covered: the very same calls
            np.testing.assert_array_equal(delay_on, delay_off)
            assert (b["detected_by"] == "site_report").all()
    # the replication's own calls are the same with and without sensors
    inc_off, inc_on = off.incidents, on.incidents
    own_off, own_on = inc_off[inc_off["source"] == "demand"], inc_on[inc_on["source"] == "demand"]
    np.testing.assert_array_equal(own_off["t_call_min"].to_numpy(), own_on["t_call_min"].to_numpy())
    # response counted from the start is shorter at the covered site
    plant = inc_on[(inc_on["site"] == "plant") & ~inc_on["sensor_false_alarm"]]
    plant_off = inc_off[inc_off["site"] == "plant"]
    assert ((plant["t_first_arrival_min"] - plant["t_start_min"]).mean()
            < (plant_off["t_first_arrival_min"] - plant_off["t_start_min"]).mean() - 5)
    assert set(inc_on["source"].astype(str)) == {"demand", "sensor", "site_report"}


def test_a_site_in_an_unknown_district_is_refused(world):
    sec = _sensors()
    sec["sites"]["depot"]["district"] = "North"
    world["components"] = {"sensors": sec}
    with pytest.raises(InputError, match="unknown district 'North'") as info:
        run(world)
    assert info.value.path == "components.sensors.sites.depot.district"


def test_drones_catch_the_sensor_false_alarms(world):
    world["time"]["horizon"] = 2 * 1440
    sensors = _sensors()
    sensors["sites"]["plant"]["events_per_day"] = 0
    sensors["sites"]["plant"]["false_alarms_per_day"] = 6
    drones = {"ports": {"hq": {"xy_km": [5, 5], "drones": 2}}, "verifiable": ["hazmat"]}
    world["components"] = {"sensors": sensors, "drones": drones}
    result = run(world)
    false = result.incidents[result.incidents["sensor_false_alarm"]]
    assert len(false) >= 4 and false["false_alarm"].all()  # 4 drawn with seed 1
    assert (false["drone_outcome"] == "false_alarm").all() and (false["units_assigned"] == 0).all()
    assert figures(result, "drones")["false_alarms_caught"] == len(false)


def test_a_site_event_draws_the_same_incident_with_sensors_on_and_off(world):
    world["time"]["horizon"] = 2 * 1440
    world["components"] = {"sensors": _sensors(enabled=False)}
    off = run(world).incidents
    world["components"] = {"sensors": _sensors()}
    on = run(world).incidents
    cols = ["t_start_min", "site", "kind", "priority", "on_scene_min", "transport", "x_km", "y_km"]
    a = off[off["site"] != ""].sort_values("t_start_min")[cols].reset_index(drop=True)
    real = on[(on["site"] != "") & ~on["sensor_false_alarm"]]
    b = real.sort_values("t_start_min")[cols].reset_index(drop=True)
    assert len(a) > 10 and a.equals(b)

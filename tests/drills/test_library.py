"""The built-in drills (issue #13): they load, say what is illustrative, and their injects fire on time."""

from __future__ import annotations

import pytest

import scenarios
import sim

DRILLS = ("ulsan_chemical_drill", "busan_datacentre_drill")


@pytest.mark.parametrize("name", DRILLS)
def test_a_built_in_drill_is_six_hours_and_says_what_is_illustrative(name):
    s = scenarios.load(name)
    assert s.time.horizon == 360 and s.drill is not None and len(s.drill.injects) >= 6
    assert "ILLUSTRATIVE" in s.description and "seed report" in s.description
    assert all(x.description for x in s.drill.injects)


def test_the_ulsan_drill_takes_dispatch_down_at_minute_20():
    r = sim.run("ulsan_chemical_drill", until=70)
    ev = r.events[r.events["kind"].astype(str).isin(["outage_started", "outage_ended"])]
    assert ev["t_min"].tolist() == [20.0, 65.0]
    rerouted = r.incidents[r.incidents["rerouted"]]
    assert len(rerouted) > 0 and rerouted["t_call_min"].between(20, 65).all()
    assert set(rerouted["centre"].astype(str)) == {"ulsan_backup"}
    leak = r.incidents[r.incidents["label"].astype(str) == "leak"]
    assert leak["kind"].astype(str).tolist() == ["hazmat"] + ["casualty"] * 6
    assert (leak["t_call_min"] == 5.0).all()


def test_the_busan_drill_sends_119_calls_to_the_120_centre_during_the_outage():
    r = sim.run("busan_datacentre_drill", until=150)
    inj = r.extra["injects"].set_index("inject_id")
    assert inj.loc["dc-outage", "t_min"] == 30.0 and inj.loc["haeundae-fire", "t_min"] == 70.0
    rerouted = r.incidents[r.incidents["rerouted"]]
    assert len(rerouted) > 0 and set(rerouted["centre"].astype(str)) == {"busan_120"}
    assert rerouted["t_call_min"].min() >= 30.0
    surge = r.incidents[r.incidents["label"].astype(str) == "call-surge"]
    assert len(surge) > 0 and surge["t_call_min"].between(45, 165).all()

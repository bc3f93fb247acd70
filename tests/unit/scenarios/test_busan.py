"""The built-in busan_outage scenario and its baseline (issue #10, item 7)."""

from __future__ import annotations

import scenarios
from scenarios.loader import builtin_names


def _without(name: str, keys: tuple[str, ...]) -> dict:
    data = scenarios.load(name).model_dump(mode="json", by_alias=True)
    return {k: v for k, v in data.items() if k not in keys}


def test_both_are_built_in():
    assert {"busan_outage", "busan_outage_baseline"} <= set(builtin_names())


def test_the_baseline_differs_only_in_name_description_and_outages():
    keys = ("name", "description", "outages")
    assert _without("busan_outage", keys) == _without("busan_outage_baseline", keys)
    assert scenarios.load("busan_outage_baseline").outages == []


def test_the_outage_takes_119_down_on_friday_evening_during_the_surge():
    s = scenarios.load("busan_outage")
    (outage,) = s.outages
    assert (outage.centre, outage.start, outage.end, outage.held_calls) == ("busan_119", 2520.0, 2640.0,
                                                                            "transfer")
    assert (s.time.start.weekday(), s.time.start.hour) == (3, 0)  # Thursday midnight: day 2 is Friday
    (surge,) = s.demand.surges
    assert surge.start <= outage.start and outage.end <= surge.end and surge.multiplier > 1
    centres = s.centres()
    assert centres["busan_119"].fallback == "busan_120"
    assert centres["busan_120"].manual_factor == 3.0 and centres["busan_120"].call_takers == 4
    assert {it.line for it in s.incident_types.values()} == {"119"}
    assert "illustrative, not Busan's data" in " ".join(s.description.split())

"""The fire component (issue #12, items 1-2): incidents where and when cells catch fire, suppression.

The trace town is one district, 2.5 km square, on a grid of 0.5 km cells
(5 x 5; cell (row r, column c) has its centre at x = 0.25 + 0.5 c,
y = 0.25 + 0.5 r: exact binary fractions). With fuel everywhere,
p_spread = 1, the 4-neighbourhood and burn_steps = 1, a fire lit in the
centre cell at 60 min burns the ring at Manhattan distance k at 60 + 10 k.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

import scenarios
import sim
from sim.errors import InputError

pytestmark = pytest.mark.nojit

FIRE: dict[str, Any] = {
    "grid": {"cell_km": 0.5},
    "fuel_density": 1.0,
    "p_spread": 1.0,
    "neighbourhood": 4,
    "burn_steps": 1,
    "step": "10 min",
    "ignitions": [{"at": "1 h", "xy_km": [1.25, 1.25]}],
    "incident_type": "fire",
    "cells_per_incident": 4,
}

_TOWN: dict[str, Any] = {
    "schema_version": 1,
    "name": "fire_trace",
    "description": "One square district on a 5 x 5 fire grid (synthetic).",
    "time": {"horizon": "6 h"},
    "geography": {"kind": "coordinates", "metric": "euclidean", "speed_kmh": 30, "detour_factor": 1.0},
    "districts": {"Town": {"population": 10000, "boundary": [[0, 0], [2.5, 0], [2.5, 2.5], [0, 2.5]]}},
    "stations": {"S": {"district": "Town", "location": [0.25, 0.25]}},
    "hospitals": {"H": {"location": [2.25, 0.25], "capacity": 1}},
    "unit_types": {"engine": {"turnout": 1}},
    "fleets": {"S": {"engine": 2}},
    "incident_types": {
        "fire": {"priority_mix": {1: 1.0}, "target_response": 10, "required_units": {"engine": 1},
                 "on_scene": {"dist": "constant", "value": 30}},
        "medical": {"priority_mix": {1: 1.0}, "target_response": 10, "required_units": {"engine": 1},
                    "on_scene": {"dist": "exponential", "mean": 20}},
    },
    "incidents": [],
}


def _town(fire: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(_TOWN)
    d.update(copy.deepcopy(changes))
    if fire is not None:
        d["components"] = {"fire": fire}
    return d


def _run(d: dict[str, Any], seed: int = 1) -> sim.RunResult:
    return sim.run(scenarios.from_dict(d), seed=seed)


def test_exact_trace_with_certain_spread():
    result = _run(_town(FIRE))
    inc = result.incidents
    fire = inc[inc["source"] == "fire"]
    # the 1st, 5th, 9th... cell catching fire raises one; within a step, cells in row-major order
    assert list(zip(fire["t_call_min"], fire["x_km"], fire["y_km"], strict=True)) == [
        (60.0, 1.25, 1.25),                        # the ignition cell (2, 2)
        (70.0, 1.25, 1.75),                        # ring 1: (1,2) (2,1) (2,3) (3,2): the 5th is (3, 2)
        (80.0, 0.25, 1.25), (80.0, 1.25, 2.25),    # ring 2 (8 cells): the 9th (2, 0), the 13th (4, 2)
        (90.0, 2.25, 0.75), (90.0, 1.75, 2.25),    # ring 3 (8 cells): the 17th (1, 4), the 21st (4, 3)
        (100.0, 2.25, 2.25),                       # ring 4 (the corners): the 25th (4, 4)
    ]
    assert (fire["kind"].astype(str) == "fire").all() and (fire["district"].astype(str) == "Town").all()
    table = result.extra["fire"]
    assert table.to_dict("list") == {
        "t_min": [60.0, 70.0, 80.0, 90.0, 100.0, 110.0],
        "burning": [1, 4, 8, 8, 4, 0],
        "burnt": [0, 1, 5, 13, 21, 25],
        "suppressed": [0] * 6,
    }
    ev = result.events
    own = ev[ev["kind"].astype(str).isin(["fire_ignited", "fire_out"])]
    assert list(zip(own["kind"].astype(str), own["t_min"], own["detail"], strict=True)) == [
        ("fire_ignited", 60.0, '{"cell": [2, 2]}'), ("fire_out", 110.0, '{"burnt": 25}')]
    raised = ev[ev["kind"].astype(str) == "incident_raised"]
    assert list(raised["t_min"]) == list(fire["t_call_min"])
    assert result.meta["components"]["fire"] == {"cells_burnt": 25, "incidents_raised": 7, "steps": 5,
                                                 "grid_cells": 25}


def test_a_firebreak_of_no_district_stops_the_fire():
    """Two districts with a gap of 0.5 km between them: cells there are in no district and hold no fuel."""
    d = _town(FIRE, districts={
        "Town": {"population": 10000, "boundary": [[0, 0], [1.0, 0], [1.0, 2.5], [0, 2.5]]},
        "Far": {"population": 10000, "boundary": [[1.5, 0], [2.5, 0], [2.5, 2.5], [1.5, 2.5]]}},
        stations={"S": {"district": "Town", "location": [0.25, 0.25]}})
    d["components"]["fire"]["ignitions"] = [{"at": 60, "xy_km": [0.25, 1.25]}]
    result = _run(d)
    inc = result.incidents
    assert set(inc.loc[inc["source"] == "fire", "district"].astype(str)) == {"Town"}
    assert result.meta["components"]["fire"]["cells_burnt"] == 10           # columns 0 and 1 only


def test_without_the_section_nothing_changes():
    """A fire that never starts (ignition after the horizon) leaves every engine table as it was."""
    demand = {"rates_per_hr": {"Town": {"medical": 2.0}}}
    base = _run(_town(None, demand=demand), seed=4)
    late = {**FIRE, "fuel_density": 0.5, "ignitions": [{"at": "7 h", "xy_km": [1.25, 1.25]}]}
    idle = _run(_town(late, demand=demand), seed=4)
    for name in ("incidents", "assignments", "units", "events"):
        pd.testing.assert_frame_equal(getattr(base, name), getattr(idle, name), obj=name)
    assert "fire" not in base.extra and "fire" not in base.meta.get("components", {})
    assert not (base.incidents["source"].astype(str) == "fire").any()
    assert len(idle.extra["fire"]) == 0


RANDOM_FIRE = {**FIRE, "grid": {"cell_km": 0.1}, "fuel_density": 0.9, "p_spread": 0.4, "burn_steps": 2,
               "neighbourhood": 8, "step": "2 min", "cells_per_incident": 30,
               "wind": {"direction_deg": 45, "strength": 0.5}}


def test_same_seed_same_log():
    demand = {"rates_per_hr": {"Town": {"medical": 2.0}}}
    a, b = (_run(_town(RANDOM_FIRE, demand=demand), seed=9) for _ in range(2))
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.extra["fire"], b.extra["fire"])
    assert a.meta["components"]["fire"]["incidents_raised"] > 1
    c = _run(_town(RANDOM_FIRE, demand=demand), seed=10)
    assert not a.extra["fire"].equals(c.extra["fire"])


def test_suppression_reduces_the_burnt_area():
    burnt = {}
    for radius in (0.0, 0.3):
        result = _run(_town({**RANDOM_FIRE, "suppression_radius_km": radius}), seed=3)
        burnt[radius] = result.meta["components"]["fire"]["cells_burnt"]
        table = result.extra["fire"]
        assert (table["suppressed"].iloc[-1] > 0) == (radius > 0)
        assert np.all(np.diff(table["burnt"]) >= 0)
    assert burnt[0.3] < burnt[0.0]


@pytest.mark.parametrize(("change", "path"), [
    ({"incident_type": "flood"}, "components.fire.incident_type"),
    ({"ignitions": [{"at": 0, "xy_km": [9, 9]}]}, "components.fire.ignitions[0].xy_km"),
    ({"p_spread": 1.5}, "components.fire.p_spread"),
    ({"neighbourhood": 6}, "components.fire.neighbourhood"),
    ({"p_spred": 0.5}, "components.fire.p_spred"),
])
def test_bad_sections_name_their_field(change, path):
    with pytest.raises(InputError) as err:
        _run(_town({**FIRE, **change}))
    assert err.value.path == path, err.value.one_line()

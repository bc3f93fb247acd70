"""Tiny worlds for the drill tests: the hand-computable trace world and a 4 km street grid.

Trace world (travel minutes, symmetric; places A B X Y H G)::

          A   B   X   Y   H   G
      A   0  10   4   8   6   9        station SA (district North)
      B  10   0   6   3   7   2        station SB (district South)
      X   4   6   0   5   2   7
      Y   8   3   5   0   4   3
      H   6   7   2   4   0   8        hospital HH
      G   9   2   7   3   8   0        hospital HG

Ambulances: SA/amb/1 and SB/amb/1, turnout 1 min, on scene 10 min, handover 5 min.
Grid world: as tests/engine/test_road_change.py (every 1 km block takes 2 min).
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest

PLACES = ["A", "B", "X", "Y", "H", "G"]
TRAVEL = [
    [0, 10, 4, 8, 6, 9],
    [10, 0, 6, 3, 7, 2],
    [4, 6, 0, 5, 2, 7],
    [8, 3, 5, 0, 4, 3],
    [6, 7, 2, 4, 0, 8],
    [9, 2, 7, 3, 8, 0],
]

TRACE: dict[str, Any] = {
    "schema_version": 1,
    "name": "drill_trace",
    "description": "Hand-computable drill world (synthetic).",
    "time": {"horizon": 120},
    "geography": {"kind": "matrix", "places": PLACES, "travel_min": TRAVEL},
    "districts": {"North": {"neighbours": ["South"]}, "South": {"neighbours": ["North"]}},
    "stations": {"SA": {"district": "North", "location": "A"}, "SB": {"district": "South", "location": "B"}},
    "hospitals": {"HH": {"location": "H", "capacity": 2}, "HG": {"location": "G", "capacity": 2}},
    "unit_types": {"amb": {"transports": True, "turnout": 1}},
    "fleets": {"SA": {"amb": 1}, "SB": {"amb": 1}},
    "incident_types": {
        "medical": {
            "priority_mix": {1: 1.0}, "target_response": 8, "required_units": {"amb": 1},
            "on_scene": {"dist": "constant", "value": 10}, "handover": {"dist": "constant", "value": 5},
        },
    },
}

GRID: dict[str, Any] = {
    "schema_version": 1,
    "name": "drill_roads",
    "description": "A 4 km street grid with one station (synthetic).",
    "time": {"horizon": 150},
    "geography": {"kind": "grid", "origin_km": [0, 0], "size_km": [4, 4], "spacing_km": 1, "speed_kmh": 30},
    "districts": {"city": {"boundary": [[-0.5, -0.5], [4.5, -0.5], [4.5, 4.5], [-0.5, 4.5]]}},
    "stations": {"W": {"district": "city", "location": [0, 0]}},
    "unit_types": {"engine": {}},
    "fleets": {"W": {"engine": 1}},
    "incident_types": {"fire": {"priority_mix": {1: 1.0}, "target_response": 8,
                                "required_units": {"engine": 1}, "on_scene": 10}},
}


def incident(id_: str, at: float, place: str = "X", district: str = "North", **more: Any) -> dict[str, Any]:
    """An incident inject of the trace world."""
    return {"id": id_, "at": at, "kind": "incident", "type": "medical", "district": district,
            "location": place, **more}


@pytest.fixture
def trace():
    """A fresh trace world dict with an empty drill that runs alone (no background demand)."""
    d = copy.deepcopy(TRACE)
    d["drill"] = {"background": False, "injects": []}
    return d


@pytest.fixture
def grid():
    """A fresh street grid dict with an empty drill that runs alone."""
    d = copy.deepcopy(GRID)
    d["drill"] = {"background": False, "injects": []}
    return d


def events(result) -> list[tuple[str, float, int | None, str | None]]:
    """The events table as ``(kind, t_min, incident, unit)`` rows."""
    ev = result.events
    return [(str(k), float(t), None if pd.isna(i) else int(i), None if pd.isna(u) else str(u))
            for k, t, i, u in zip(ev["kind"].astype(str), ev["t_min"], ev["incident_id"].astype(object),
                                  ev["unit_id"].astype(object), strict=True)]


def dispatched(result) -> dict[int, str]:
    """incident id -> the first unit dispatched to it."""
    a = result.assignments.sort_values(["t_dispatch_min", "incident_id"])
    out: dict[int, str] = {}
    for i, u in zip(a["incident_id"], a["unit_id"].astype(str), strict=True):
        out.setdefault(int(i), u)
    return out

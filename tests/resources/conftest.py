"""A small plane world for the resource mechanisms of issue #11 (synthetic by construction).

Two square districts side by side on plain coordinates (euclidean, 60 km/h,
no detour: a km is a minute)::

    West [0, 10] x [0, 10] km, station SW at (5, 5): engines and ambulances
    East [10, 20] x [0, 10] km, no station

Incident types: ``medical`` (one ambulance, 20 min on scene) and ``hazmat``
(one engine, 30 min on scene). No call-taking time, turnout 1 min.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

import scenarios
import sim

_WORLD: dict[str, Any] = {
    "schema_version": 1,
    "name": "resources_world",
    "description": "Two districts on a plane, one station (synthetic).",
    "time": {"horizon": 600, "warmup": 0},
    "geography": {"kind": "coordinates", "metric": "euclidean", "speed_kmh": 60, "detour_factor": 1.0},
    "districts": {
        "West": {"boundary": [[0, 0], [10, 0], [10, 10], [0, 10]], "neighbours": ["East"]},
        "East": {"boundary": [[10, 0], [20, 0], [20, 10], [10, 10]], "neighbours": ["West"]},
    },
    "stations": {"SW": {"district": "West", "location": [5, 5]}},
    "hospitals": {"H": {"location": [5, 6], "capacity": 2}},
    "unit_types": {"engine": {"turnout": 1}, "ambulance": {"transports": True, "turnout": 1}},
    "fleets": {"SW": {"engine": 3, "ambulance": 2}},
    "incident_types": {
        "medical": {"priority_mix": {1: 1.0}, "target_response": 10, "required_units": {"ambulance": 1},
                    "on_scene": {"dist": "constant", "value": 20}},
        "hazmat": {"priority_mix": {1: 1.0}, "target_response": 15, "required_units": {"engine": 1},
                   "on_scene": {"dist": "constant", "value": 30}},
    },
    "incidents": [],
}


@pytest.fixture
def world() -> dict[str, Any]:
    """A fresh copy of the plane world as a scenario dict."""
    return copy.deepcopy(_WORLD)


def run(d: dict[str, Any], seed: int = 1):
    """Run scenario dict ``d`` (its components too); the RunResult."""
    return sim.run(scenarios.from_dict(copy.deepcopy(d)), seed=seed)


def figures(result, name: str) -> dict[str, Any]:
    """run.json figures of component ``name``."""
    return result.meta["components"][name]

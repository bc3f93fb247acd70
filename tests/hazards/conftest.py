"""A tiny road town for the hazard components: one 4 x 4 km district on a 0.5 km road grid (synthetic).

Road nodes sit at multiples of 0.5 km (0 to 3.5 km: the grid is clipped to
the district); the hazard grid :data:`GRID` has 0.5 km cells from -0.25 km,
so each road node lies at a cell's centre.
"""

from __future__ import annotations

import copy
from typing import Any

import scenarios
import sim

TOWN: dict[str, Any] = {
    "schema_version": 1,
    "name": "hazard_town",
    "description": "One square district on a 0.5 km road grid (synthetic, for tests).",
    "time": {"horizon": "8 h"},
    "geography": {"kind": "grid", "origin_km": [0.0, 0.0], "size_km": [4.0, 4.0], "spacing_km": 0.5,
                  "speed_kmh": 30},
    "districts": {"Town": {"population": 20000, "boundary": [[0, 0], [4, 0], [4, 4], [0, 4]]}},
    "stations": {"S": {"district": "Town", "location": [0.0, 0.0]}},
    "hospitals": {"H": {"location": [4.0, 0.0], "capacity": 2}},
    "unit_types": {"engine": {"turnout": 1}, "ambulance": {"transports": True, "turnout": 1}},
    "fleets": {"S": {"engine": 2, "ambulance": 2}},
    "incident_types": {
        "rescue": {"priority_mix": {1: 1.0}, "target_response": 10, "required_units": {"engine": 1},
                   "on_scene": {"dist": "constant", "value": 30}},
        "medical": {"priority_mix": {1: 1.0}, "target_response": 10, "required_units": {"ambulance": 1},
                    "on_scene": {"dist": "exponential", "mean": 20}},
    },
    "incidents": [],
}

#: a 0.5 km grid whose cell centres are the road nodes: cell (i, j) holds node (x = 0.5 j, y = 0.5 i)
GRID = {"cell_km": 0.5, "origin_km": [-0.25, -0.25], "shape": [9, 9]}


def town(components: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """The town with ``components`` and top-level ``changes``."""
    d = copy.deepcopy(TOWN)
    d.update(copy.deepcopy(changes))
    if components:
        d["components"] = copy.deepcopy(components)
    return d


def run(d: dict[str, Any], seed: int = 1) -> sim.RunResult:
    """Run a scenario dict."""
    return sim.run(scenarios.from_dict(d), seed=seed)

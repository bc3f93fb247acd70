"""A tiny road town for the citizens tests, and a test hazard that implements the hazard field protocol.

The town: two square districts side by side (West: x in [0, 2] km, East: x in [2, 4] km, y in [0, 2] km)
on a road grid of 0.5 km spacing at 30 km/h (1 minute per link), one station in the West.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

import scenarios
import sim
from agents.components import Component

HAZARD = "tests.citizens.conftest:DiscHazard"

TOWN: dict[str, Any] = {
    "schema_version": 1,
    "name": "citizens_town",
    "description": "Two square districts on a small road grid (synthetic).",
    "time": {"horizon": "6 h"},
    "geography": {"kind": "grid", "origin_km": [0, 0], "size_km": [4, 2], "spacing_km": 0.5, "speed_kmh": 30},
    "districts": {
        "West": {"population": 400, "boundary": [[0, 0], [2, 0], [2, 2], [0, 2]]},
        "East": {"population": 600, "boundary": [[2, 0], [4, 0], [4, 2], [2, 2]]},
    },
    "stations": {"S": {"district": "West", "location": [0.5, 0.5]}},
    "hospitals": {"H": {"location": [0.0, 0.0], "capacity": 10}},
    "unit_types": {"amb": {"turnout": 1, "transports": False}},
    "fleets": {"S": {"amb": 2}},
    "incident_types": {
        "medical": {"priority_mix": {1: 1.0}, "target_response": 10, "required_units": {"amb": 1},
                    "on_scene": {"dist": "constant", "value": 20}},
    },
    "incidents": [],
}


class DiscHazard(Component):
    """A test hazard: level ``level`` inside a disc from ``at`` minutes on (0 elsewhere and before)."""

    hazard = "plume"

    class Section(BaseModel):
        """The test hazard's section."""

        model_config = ConfigDict(extra="forbid", frozen=True)
        at: float = 0.0
        centre_km: tuple[float, float]
        radius_km: float
        level: float
        kind: str = "plume"

    def __init__(self, model: Any, section: Any):
        super().__init__(model, section)
        self.hazard = section.kind

    def sample(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """The level at the points now."""
        s = self.section
        if self.model.env.now < s.at:
            return np.zeros(len(x_km))
        inside = np.hypot(np.asarray(x_km) - s.centre_km[0], np.asarray(y_km) - s.centre_km[1]) <= s.radius_km
        return np.where(inside, s.level, 0.0)


def town(citizens: dict[str, Any] | None = None, hazard: dict[str, Any] | None = None,
         **changes: Any) -> dict[str, Any]:
    """The town scenario as a dict, with a citizens section and a test hazard when given."""
    d = copy.deepcopy(TOWN)
    d.update(copy.deepcopy(changes))
    comps: dict[str, Any] = {}
    if hazard is not None:
        comps[HAZARD] = hazard
    if citizens is not None:
        comps["citizens"] = citizens
    if comps:
        d["components"] = comps
    return d


def run(d: dict[str, Any], seed: int = 1, **kw: Any) -> sim.RunResult:
    """Run the scenario dict."""
    return sim.run(scenarios.from_dict(d), seed=seed, **kw)

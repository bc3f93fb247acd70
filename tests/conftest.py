"""Fixtures shared by the whole suite. Keep this small: subdirectories have their own conftest.py."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

#: Seed of the ``rng`` fixture; tests that need several generators derive them from it.
SEED = 20260611

#: A small, hand-checkable city on plain coordinates (synthetic). Base rates per hour:
#: North: medical 12000 * 2 / 24000 = 1.0, fire 0.25; South: medical 2.0, chem 0.1.
_CITY: dict[str, Any] = {
    "schema_version": 1,
    "name": "unit_city",
    "description": "Two districts on plain coordinates (synthetic, for unit tests).",
    "seed": 5,
    "time": {"horizon": "7 d", "start": "2026-01-05T00:00:00"},          # a Monday, midnight
    "geography": {"kind": "coordinates", "metric": "euclidean", "speed_kmh": 40},
    "districts": {
        "North": {"population": 12000, "neighbours": ["South"],
                  "boundary": [[0, 0], [4, 0], [4, 4], [0, 4]]},
        "South": {"population": 24000, "neighbours": ["North"],          # concave: an L
                  "boundary": [[0, -6], [6, -6], [6, -1], [3, -1], [3, -3], [0, -3]]},
    },
    "stations": {
        "N1": {"district": "North", "location": [2, 2]},
        "S1": {"district": "South", "location": [1, -4], "tier": "city"},
    },
    "hospitals": {"H": {"location": [2, 0.5], "capacity": 2}},
    "unit_types": {
        "engine": {"turnout": "1.5 min"},
        "amb": {"transports": True, "speed_factor": 1.25, "turnout": 1},
        "brigade": {"capabilities": ["engine", "hazmat"], "speed_factor": 0.9},
    },
    "fleets": {"N1": {"engine": 2, "amb": 1}, "S1": {"amb": 2, "brigade": 1}},
    "incident_types": {
        "medical": {
            "priority_mix": {1: 0.25, 2: 0.75},
            "target_response": {1: "8 min", 2: "15 min"},
            "required_units": {"amb": 1},
            "on_scene": {"dist": "gamma", "mean": "20 min", "sd": "8 min"},
            "transport_probability": 0.6,
            "handover": {"dist": "uniform", "low": 10, "high": 20},
        },
        "fire": {
            "priority_mix": {1: 1.0},
            "target_response": "10 min",
            "required_units": {"engine": 2, "amb": 1},
            "on_scene": "45 min",
        },
        "chem": {
            "priority_mix": {1: 0.5, 2: 0.3, 3: 0.2},
            "target_response": 12,
            "required_units": {"hazmat": 1},
            "on_scene": {"dist": "exponential", "mean": 30},
            "max_queue": "2 h",
        },
    },
    "demand": {
        "per_1000_per_day": {"medical": 2.0},
        "rates_per_hr": {"North": {"fire": 0.25}, "South": {"chem": 0.1}},
    },
}


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator seeded with :data:`SEED`."""
    return np.random.default_rng(SEED)


@pytest.fixture
def city_dict() -> dict[str, Any]:
    """A fresh copy of the two-district unit-test city as a scenario dict."""
    return copy.deepcopy(_CITY)


@pytest.fixture(autouse=True, scope="session")
def _world_cache_in_a_temporary_directory(tmp_path_factory):
    """Runs of the suite (and the CLI processes it starts) cache compiled Worlds in a fresh directory.

    The user's own cache (``~/.cache/anjeon/worlds``) is neither read nor written by the tests.
    """
    import os

    from sim.worldcache import ENV

    before = os.environ.get(ENV)
    os.environ[ENV] = str(tmp_path_factory.mktemp("world_cache"))
    yield
    if before is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = before

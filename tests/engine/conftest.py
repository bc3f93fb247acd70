"""Shared pieces of the engine behaviour tests: a hand-computable world and table readers.

The trace world is a travel-time matrix between five places. Times are
chosen so that every hand-computed instant is an exact binary fraction
(quarters of a minute), so logged times compare with ``==``.

Travel minutes (symmetric)::

          A   B   X   Y   H
      A   0  10   4   8   6        station SA (district North)
      B  10   0   6   3   7        station SB (district South)
      X   4   6   0   5   2
      Y   8   3   5   0   4
      H   6   7   2   4   0        hospital HH
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest

PLACES = ["A", "B", "X", "Y", "H"]
TRAVEL = [
    [0, 10, 4, 8, 6],
    [10, 0, 6, 3, 7],
    [4, 6, 0, 5, 2],
    [8, 3, 5, 0, 4],
    [6, 7, 2, 4, 0],
]

_BASE: dict[str, Any] = {
    "schema_version": 1,
    "name": "trace",
    "description": "Hand-computable trace world (synthetic).",
    "time": {"horizon": 60},
    "geography": {"kind": "matrix", "places": PLACES, "travel_min": TRAVEL},
    "districts": {
        "North": {},
        "South": {"neighbours": ["East"]},
        "East": {"neighbours": ["South"]},
    },
    "stations": {
        "SA": {"district": "North", "location": "A"},
        "SB": {"district": "South", "location": "B"},
    },
    "hospitals": {"HH": {"location": "H", "capacity": 1}},
    "unit_types": {"amb": {"transports": True, "turnout": 1}},
    "fleets": {"SA": {"amb": 1}, "SB": {"amb": 1}},
    "incident_types": {
        "medical": {
            "priority_mix": {1: 1.0},
            "target_response": 8,
            "required_units": {"amb": 1},
            "on_scene": {"dist": "constant", "value": 10},
            "handover": {"dist": "constant", "value": 5},
        },
    },
    "incidents": [],
}


@pytest.fixture
def trace_dict():
    """A fresh copy of the trace world as a scenario dict (no incidents yet)."""
    return copy.deepcopy(_BASE)


def _opt(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


def event_rows(result) -> list[tuple[str, float, int | None, str | None]]:
    """The events table as ``(kind, t_min, incident_id, unit_id)`` tuples in ``seq`` order."""
    ev = result.events
    assert list(ev["seq"]) == list(range(len(ev)))
    rows = []
    for kind, t, inc, unit in zip(ev["kind"].astype(str), ev["t_min"], ev["incident_id"],
                                  ev["unit_id"], strict=True):
        inc = _opt(inc)
        rows.append((kind, float(t), None if inc is None else int(inc), _opt(unit)))
    return rows


@pytest.fixture
def events_of():
    """Function: result -> list of ``(kind, t_min, incident_id, unit_id)``."""
    return event_rows


def table_rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """Rows of ``frame[columns]`` as tuples, NaN/NA as None, categoricals as str."""
    out = []
    for row in frame[columns].itertuples(index=False):
        out.append(tuple(_opt(v) for v in row))
    return out


@pytest.fixture
def rows_of():
    """Function: (frame, columns) -> list of tuples with None for missing values."""
    return table_rows

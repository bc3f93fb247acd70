"""The built-in hazard scenarios (issue #12, item 5): each with a baseline that differs only by its hazard.

Each pair must stay identical apart from name, description and
``components``, so that the same seed and replication give the same
ordinary calls with and without the hazard (common random numbers).
"""

from __future__ import annotations

import pandas as pd
import pytest

import scenarios
import sim

#: scenario -> (its hazard component, a time (min) by which the hazard has raised incidents)
HAZARDS = {"ansan_flood": ("flood", 4 * 60.0), "old_town_fire": ("fire", 9 * 60.0),
           "ulsan_chemical": ("plume", 16 * 60.0), "quake_city": ("quake", 16 * 60.0)}


def _without(name: str) -> dict:
    data = scenarios.load(name).model_dump(mode="json", by_alias=True)
    return {k: v for k, v in data.items() if k not in ("name", "description", "components")}


@pytest.mark.nojit
@pytest.mark.parametrize("name", sorted(HAZARDS))
def test_the_baseline_differs_only_in_its_hazard(name):
    assert name in scenarios.builtin_names() and f"{name}_baseline" in scenarios.builtin_names()
    assert _without(name) == _without(f"{name}_baseline")
    assert HAZARDS[name][0] in scenarios.load(name).components     # (ulsan_chemical also has citizens)
    assert not scenarios.load(f"{name}_baseline").components
    assert "ILLUSTRATIVE" in scenarios.load(name).description


def _hazard_only(name: str):
    """The scenario with its hazard alone (ulsan_chemical also simulates citizens: tests/citizens/)."""
    data = scenarios.load(name).model_dump(mode="json", by_alias=True, exclude_none=True)
    data["components"] = {HAZARDS[name][0]: data["components"][HAZARDS[name][0]]}
    return scenarios.from_dict(data)


@pytest.mark.parametrize("name", sorted(HAZARDS))
def test_the_hazard_raises_calls_on_top_of_the_same_ordinary_ones(name):
    hazard, until = HAZARDS[name]
    with_it = sim.run(_hazard_only(name), seed=1, until=until)
    without = sim.run(scenarios.load(f"{name}_baseline"), seed=1, until=until)
    raised = with_it.incidents[with_it.incidents["source"].astype(str) == hazard]
    assert len(raised) > 0
    assert with_it.meta["components"][hazard]["incidents_raised"] == len(raised)
    ordinary = with_it.incidents[with_it.incidents["source"].astype(str).isin(["demand", "scripted"])]
    cols = ["incident_id", "t_call_min", "kind", "district", "x_km", "y_km"]
    pd.testing.assert_frame_equal(ordinary[cols].reset_index(drop=True),
                                  without.incidents[cols].reset_index(drop=True))
    assert "footprints" in with_it.extra and hazard in with_it.extra

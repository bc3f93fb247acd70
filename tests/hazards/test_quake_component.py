"""The quake component (issue #12): damage rises with magnitude, rescue calls, blocked roads, its field."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from tests.hazards.conftest import GRID, run, town
from tests.reference import naive_quake

pytestmark = pytest.mark.nojit

QUAKE = {"at": 60, "epicentre_km": [2.0, 2.0], "depth_km": 10, "magnitude": 6.0, "grid": GRID,
         "people_per_building": 20,
         "classes": [{"name": "masonry", "share": 0.4, "medians_g": [0.10, 0.16, 0.27, 0.45], "beta": 0.64},
                     {"name": "rc_frame", "share": 0.6, "medians_g": [0.14, 0.24, 0.45, 0.85], "beta": 0.70}],
         "occupants_per_building": 10, "trapped_share": 0.1, "incident_type": "rescue",
         "collapsed_per_incident": 4, "report_within": 30}


def _damage(magnitude, seed=2):
    result = run(town({"quake": {**QUAKE, "magnitude": magnitude}}), seed=seed)
    return result, result.meta["components"]["quake"]


def test_damage_rises_with_magnitude_on_the_same_seed():
    states = ("slight", "moderate", "extensive", "complete")
    seen = [_damage(m)[1] for m in (5.0, 6.0, 7.0)]
    for lo, hi in itertools.pairwise(seen):
        assert hi["max_mmi"] > lo["max_mmi"]
        def score(d):
            return sum(d[s] * (k + 1) for k, s in enumerate(states))

        assert score(hi) > score(lo)
        assert hi["complete"] >= lo["complete"] and hi["trapped"] >= lo["trapped"]
    # the same buildings each time (stream quake/0): only their damage differs
    totals = [sum(d[s] for s in ("none", *states)) for d in seen]
    assert len(set(totals)) == 1


def test_rescue_calls_follow_the_collapses():
    result, fig = _damage(6.5)
    table = result.extra["quake"]
    assert table["complete"].sum() == fig["complete"] and list(table.columns)[:2] == ["t_min", "district"]
    inc = result.incidents[result.incidents["source"] == "quake"]
    assert len(inc) == -(-fig["complete"] // 4) == fig["incidents_raised"]      # every 4th collapse, ceil
    assert ((inc["t_call_min"] >= 60) & (inc["t_call_min"] <= 90)).all()
    assert inc["t_call_min"].is_monotonic_increasing
    assert fig["trapped"] <= fig["complete"] * 10


def test_intensity_field_is_fixed_at_the_shock():
    import scenarios
    from agents import components as comps
    from agents.model import Simulation
    from agents.policies.registry import resolve
    from sim.world import compile_world

    world = compile_world(scenarios.from_dict(town({"quake": QUAKE})))
    parts = comps.validate(world.components, "<dict>", world)
    before = Simulation(world, resolve("nearest", {}, world), 1, 0, until=30.0, parts=parts).run()
    assert (before.components["quake"].sample(np.array([2.0]), np.array([2.0])) == 0).all()
    after = Simulation(world, resolve("nearest", {}, world), 1, 0, until=120.0, parts=parts).run()
    q = after.components["quake"]
    assert q.hazard == "quake"
    got = q.sample(np.array([2.0, 0.0]), np.array([2.0, 3.5]))
    expected = [naive_quake.mmi(6.0, 10.0), naive_quake.mmi(6.0, float(np.sqrt(4 + 1.5 ** 2 + 100)))]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_debris_blocks_roads_near_heavy_damage():
    result = run(town({"quake": {**QUAKE, "magnitude": 6.8, "roads": {"close_at": 0.3}}}), seed=2)
    assert result.meta["components"]["quake"]["closed_links"] > 0
    assert (result.events["kind"].astype(str) == "hazard_roads").sum() == 1


def test_no_shock_before_the_horizon_changes_nothing():
    demand = {"rates_per_hr": {"Town": {"medical": 3.0}}}
    base = run(town(None, demand=demand), seed=5)
    idle = run(town({"quake": {**QUAKE, "at": "9 h"}}, demand=demand), seed=5)
    for name in ("incidents", "assignments", "units", "events"):
        pd.testing.assert_frame_equal(getattr(base, name), getattr(idle, name), obj=name)
    assert idle.meta["components"]["quake"] == {"struck": False}

"""The plume component (issue #12): the field it offers equals the formula, exposure calls, cordons."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from agents.plume import PlumeRelease
from sim.kernels.plume import coefficients
from tests.hazards.conftest import GRID, run, town
from tests.reference import naive_plume

pytestmark = pytest.mark.nojit

#: 5 kg/s for an hour from (0.5, 0.5) km, towards the north-east at 2 m/s, class D
PLUME = {"grid": GRID,
         "release": {"xy_km": [0.5, 0.5], "rate_g_s": 5000, "height_m": 5, "start": 30, "stop": 90},
         "wind": {"speed_m_s": 2, "direction_deg": 45, "stability": "D"}, "terrain": "urban", "step": 5,
         "incident_type": "medical", "incident_mg_m3": 5, "cells_per_incident": 2, "threshold_mg_m3": 1}


def _model_at(components, minutes):
    """A model run to ``minutes`` (to read its components' state)."""
    import scenarios
    from agents import components as comps
    from agents.model import Simulation
    from agents.policies.registry import resolve
    from sim.world import compile_world

    world = compile_world(scenarios.from_dict(town(components)))
    parts = comps.validate(world.components, "<dict>", world)
    return Simulation(world, resolve("nearest", {}, world), 1, 0, until=minutes, parts=parts).run()


def test_sample_gives_the_gaussian_plume_at_cell_centres():
    model = _model_at({"plume": PLUME}, 80.0)
    plume = model.components["plume"]
    assert plume.hazard == "plume"
    x = np.array([1.5, 2.0, 3.0, 1.0, 0.0])
    y = np.array([1.5, 2.0, 2.5, 0.5, 0.0])
    got = plume.sample(x, y)
    coef = coefficients("D", "urban")
    e = (math.sin(math.radians(45)), math.cos(math.radians(45)))
    for k in range(len(x)):
        dx, dy = (x[k] - 0.5) * 1000, (y[k] - 0.5) * 1000
        down, cross = dx * e[0] + dy * e[1], dy * e[0] - dx * e[1]
        expected = naive_plume.ground_mg_m3(max(down, 10.0), cross, 5000, 5, 2, coef) if down > 0 else 0.0
        sy = naive_plume.sigma(max(down, 10.0), *coef[:3])
        if abs(cross) > 4 * sy:
            expected = 0.0
        assert got[k] == pytest.approx(expected, rel=1e-12), k
    assert plume.sample(np.array([50.0]), np.array([50.0]))[0] == 0.0     # off the grid


def test_exposure_calls_where_the_air_is_bad_and_the_plume_leaves():
    result = run(town({"plume": PLUME}))
    table = result.extra["plume"]
    assert list(table.columns)[:3] == ["t_min", "cells_above", "area_km2"]
    assert table["cells_above"].max() > 5 and table["cells_above"].iloc[-1] == 0
    assert table["area_km2"].max() == pytest.approx(table["cells_above"].max() * 0.25)
    inc = result.incidents[result.incidents["source"] == "plume"]
    assert len(inc) >= 2
    assert (inc["x_km"] + inc["y_km"] >= 1.0).all()             # downwind (north-east) of the release
    assert (inc["t_call_min"] >= 30).all()
    ev = result.events["kind"].astype(str)
    assert (ev == "plume_gone").sum() == 1


def test_the_wind_turns_the_plume():
    turned = {**PLUME, "wind_changes": [{"at": 60, "speed_m_s": 2, "direction_deg": 90, "stability": "D"}]}
    model = _model_at({"plume": turned}, 70.0)
    plume = model.components["plume"]
    assert plume.wind_at(70.0).direction_deg == 90.0
    assert plume.sample(np.array([2.5]), np.array([0.5]))[0] > 0          # due east of the release
    assert plume.sample(np.array([2.0]), np.array([2.0]))[0] == 0.0       # the old north-east axis


def test_cordon_slows_roads_and_reopens_them():
    result = run(town({"plume": {**PLUME, "roads": {"close_at": 30, "every": 5}}}))
    rows = result.events[result.events["kind"].astype(str) == "hazard_roads"]
    assert len(rows) >= 2                                                 # closed, then reopened
    assert '"1.0"' in rows["detail"].iloc[-1]


def test_same_seed_same_log_and_no_section_no_change():
    demand = {"rates_per_hr": {"Town": {"medical": 3.0}}}
    a, b = (run(town({"plume": PLUME}, demand=demand), seed=3) for _ in range(2))
    pd.testing.assert_frame_equal(a.events, b.events)
    base = run(town(None, demand=demand), seed=3)
    late = {**PLUME, "release": {**PLUME["release"], "start": "9 h", "stop": "10 h"}}
    idle = run(town({"plume": late}, demand=demand), seed=3)
    for name in ("incidents", "assignments", "units", "events"):
        pd.testing.assert_frame_equal(getattr(base, name), getattr(idle, name), obj=name)
    assert PlumeRelease.hazard == "plume"

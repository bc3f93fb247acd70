"""The flood component (issue #12): water bookkeeping, incidents where water is deep, roads it slows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.hazards.conftest import GRID, run, town

pytestmark = pytest.mark.nojit

#: 100 mm/h for an hour into a valley along x = 2 km (the road column j = 4), walls at the edges
FLOOD = {"grid": GRID, "terrain": {"slope_pct": 0.0, "valley_x_km": 2.0, "valley_depth_m": 2.0,
                                   "valley_width_km": 0.4},
         "rain": [{"from": 0, "to": 60, "mm_per_hr": 100}], "edge_outflow": False, "step": 1,
         "incident_type": "rescue", "incident_depth_m": 0.2, "cells_per_incident": 3, "table_every": 5}


def test_water_is_conserved_and_pools_in_the_valley():
    result = run(town({"flood": FLOOD}))
    table = result.extra["flood"]
    # walls: every m3 that rained is on the grid at every row (to floating tolerance)
    np.testing.assert_allclose(table["volume_m3"] + table["outflow_m3"], table["inflow_m3"], rtol=1e-12)
    assert table["inflow_m3"].iloc[-1] == pytest.approx(0.1 * 81 * 0.25e6)   # 100 mm on 81 cells of 0.25 km2
    assert (table["outflow_m3"] == 0).all()
    assert table["wet_cells"].iloc[-1] == 9 and table["max_depth_m"].iloc[-1] > 0.8  # the valley column
    assert table.columns[0] == "t_min" and table["t_min"].is_monotonic_increasing


def test_incidents_rise_in_flooded_cells_only():
    result = run(town({"flood": FLOOD}))
    inc = result.incidents[result.incidents["source"] == "flood"]
    assert len(inc) == 3                                          # 9 valley cells, every 3rd raises one
    assert (inc["x_km"] == 2.0).all()                             # at the centres of valley cells
    assert (inc["kind"].astype(str) == "rescue").all()
    assert result.meta["components"]["flood"]["incidents_raised"] == 3


def test_open_edges_let_water_out():
    result = run(town({"flood": {**FLOOD, "edge_outflow": True}}))
    table = result.extra["flood"]
    assert table["outflow_m3"].iloc[-1] > 0
    np.testing.assert_allclose(table["volume_m3"] + table["outflow_m3"], table["inflow_m3"], rtol=1e-12)


def test_a_river_adds_its_volume():
    river = {**FLOOD, "rain": [], "rivers": [{"xy_km": [2.0, 4.0], "m3_per_s": 10.0, "from": 0, "to": 30}]}
    table = run(town({"flood": river})).extra["flood"]
    assert table["inflow_m3"].iloc[-1] == pytest.approx(10.0 * 30 * 60)
    np.testing.assert_allclose(table["volume_m3"] + table["outflow_m3"], table["inflow_m3"], rtol=1e-12)


def test_without_the_section_nothing_changes_and_same_seed_same_log():
    demand = {"rates_per_hr": {"Town": {"medical": 3.0}}}
    base = run(town(None, demand=demand), seed=4)
    late = {**FLOOD, "rain": [{"from": "9 h", "to": "10 h", "mm_per_hr": 100}]}   # after the 8 h horizon
    idle = run(town({"flood": late}, demand=demand), seed=4)
    for name in ("incidents", "assignments", "units", "events"):
        pd.testing.assert_frame_equal(getattr(base, name), getattr(idle, name), obj=name)
    a, b = (run(town({"flood": FLOOD}, demand=demand), seed=7) for _ in range(2))
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.extra["flood"], b.extra["flood"])


def test_snapshots_write_footprints():
    result = run(town({"flood": {**FLOOD, "snapshots": [30, 90], "wet_m": 0.05}}))
    fp = result.extra["footprints"]
    assert list(fp.columns) == ["hazard", "t_min", "x_km", "y_km", "cell_km", "value"]
    assert set(fp["t_min"]) == {30.0, 90.0} and (fp["hazard"].astype(str) == "flood").all()
    assert (fp["value"] >= 0.05).all() and (fp["cell_km"] == 0.5).all()
    late = fp[fp["t_min"] == 90.0]
    assert set(late["x_km"]) == {2.0} and len(late) == 9

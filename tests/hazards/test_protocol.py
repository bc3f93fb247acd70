"""The hazard field protocol (contracts: ``hazard`` and ``sample``) and the shared footprints table."""

from __future__ import annotations

import numpy as np
import pytest

from agents.components import REGISTRY, lookup
from tests.hazards.conftest import GRID, run, town
from tests.hazards.test_flood_component import FLOOD
from tests.hazards.test_plume_component import PLUME
from tests.hazards.test_quake_component import QUAKE

pytestmark = pytest.mark.nojit

FIRE = {"grid": GRID, "fuel_density": 1.0, "p_spread": 1.0, "burn_steps": 1, "step": "10 min",
        "ignitions": [{"at": 60, "xy_km": [2.0, 2.0]}], "incident_type": "rescue", "cells_per_incident": 100}


@pytest.mark.parametrize("name", ["fire", "flood", "plume", "quake"])
def test_every_hazard_names_itself_and_samples(name):
    cls = lookup(name)
    assert cls is REGISTRY[name] and cls.hazard == name and callable(cls.sample)


def test_all_four_in_one_run_share_the_footprints_table():
    comps = {"fire": {**FIRE, "snapshots": [80]}, "flood": {**FLOOD, "snapshots": [80]},
             "plume": {**PLUME, "snapshots": [80]}, "quake": {**QUAKE, "snapshots": [80]}}
    result = run(town(comps))
    fp = result.extra["footprints"]
    assert list(fp.columns) == ["hazard", "t_min", "x_km", "y_km", "cell_km", "value"]
    assert set(fp["hazard"].astype(str)) == {"fire", "flood", "plume", "quake"}
    assert (fp["t_min"] == 80.0).all()
    fire = fp[fp["hazard"].astype(str) == "fire"]
    # p = 1, 4-neighbourhood, 10-min steps from 60: at 80 the diamond of radius 2 (13 cells); the centre
    # and ring 1 burnt out (value 2), ring 2 burning (value 1)
    assert len(fire) == 13 and (fire["value"] == 1).sum() == 8 and (fire["value"] == 2).sum() == 5
    quake = fp[fp["hazard"].astype(str) == "quake"]
    assert (quake["value"] >= 6.0).all()


def test_fire_samples_its_burning_cells():
    import scenarios
    from agents import components as comps
    from agents.model import Simulation
    from agents.policies.registry import resolve
    from sim.world import compile_world

    world = compile_world(scenarios.from_dict(town({"fire": FIRE})))
    model = Simulation(world, resolve("nearest", {}, world), 1, 0, until=75.0,
                       parts=comps.validate(world.components, "<dict>", world)).run()
    fire = model.components["fire"]
    got = fire.sample(np.array([2.0, 2.5, 2.0, 3.0, -5.0]), np.array([2.0, 2.0, 2.6, 2.0, 0.0]))
    # at 75: the centre burnt out at 70, ring 1 burning; (3, 2) is ring 2 (not yet); off the grid 0
    np.testing.assert_array_equal(got, [0.0, 1.0, 1.0, 0.0, 0.0])


def test_no_snapshots_no_footprints():
    result = run(town({"fire": FIRE, "flood": FLOOD}))
    assert "footprints" not in result.extra

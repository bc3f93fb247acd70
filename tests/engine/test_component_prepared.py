"""The component seam hands what a section's check prepared to the constructor: checked once per run."""

from __future__ import annotations

import numpy as np
import pytest

import agents.citizens
import agents.flood
import scenarios
from agents.components import Component, NoSettings
from agents.model import Simulation
from agents.policies.registry import resolve
from sim.world import compile_world
from tests.citizens.conftest import run, town


class Plain(Component):
    """A component whose check prepares nothing: built with (model, section), as before."""

    def __init__(self, model, section):
        super().__init__(model, section)
        self.built = True


class Prepares(Component):
    """A component whose check prepared something: built with it as ``prepared``."""

    def __init__(self, model, section, prepared=None):
        super().__init__(model, section)
        self.prepared = prepared


def test_the_model_passes_prepared_only_when_there_is_something():
    world = compile_world(scenarios.from_dict(town({})))
    marker = object()
    parts = [("plain", Plain, NoSettings(), None), ("prepares", Prepares, NoSettings(), marker)]
    model = Simulation(world, resolve("nearest", {}, world), 1, parts=parts)
    assert model.components["plain"].built
    assert model.components["prepares"].prepared is marker


def _count_calls(monkeypatch, module, name: str) -> list:
    """Replace ``module.name`` by a wrapper that appends to the returned list on every call."""
    made: list = []
    real = getattr(module, name)

    def counting(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return made


def test_citizens_plan_is_made_once_per_run(monkeypatch):
    made = _count_calls(monkeypatch, agents.citizens, "Plan")
    result = run(town({"warnings": {"alerts": [{"at": 10, "share": 0.9}]}}))
    assert result.meta["components"]["citizens"]["people"] == 1000
    assert len(made) == 1  # by the check; the component takes it from there


@pytest.mark.parametrize("terrain", ["generated", "file"])
def test_flood_terrain_is_made_once_per_run(monkeypatch, tmp_path, terrain):
    from tests.hazards.conftest import run as run_hazard
    from tests.hazards.conftest import town as flood_town
    from tests.hazards.test_flood_component import FLOOD

    section = dict(FLOOD)
    if terrain == "file":
        np.save(tmp_path / "heights.npy", np.zeros((9, 9)))
        section["terrain"] = {"file": str(tmp_path / "heights.npy")}
    made = _count_calls(monkeypatch, agents.flood, "_terrain")
    result = run_hazard(flood_town({"flood": section}))
    assert result.meta["components"]["flood"]["steps"] > 0
    assert len(made) == 1

"""A finished run is freed: nothing outside the caller keeps its model alive (mesa issue 3179)."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pytest

import scenarios
import sim
from agents.model import Simulation
from agents.policies import resolve

SHORT = {"time.horizon": "2 d"}


@pytest.fixture(scope="module")
def world():
    return sim.compile(scenarios.override(scenarios.load("mmc"), SHORT))


@pytest.mark.nojit
def test_model_is_collected_after_run_mesa3179(world):
    model = Simulation(world, resolve("nearest", {}, world), seed=1).run()
    assert model.book.stream.n > 800  # 24 calls an hour for two days: it did run
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


@pytest.mark.nojit
def test_many_runs_leave_no_model_behind_mesa3179(world):
    gc.collect()
    before = _live_models()
    for seed in range(3):
        sim.run(scenarios.override(scenarios.load("mmc"), SHORT), world=world, seed=seed)
    gc.collect()
    assert _live_models() == before


def _live_models() -> set[int]:
    return {id(o) for o in gc.get_objects() if isinstance(o, Simulation)}


def _buffers(column) -> list[np.ndarray]:
    """The numpy arrays holding a table column's values."""
    values = column.array
    if isinstance(values, pd.Categorical):
        return [values.codes]
    if isinstance(values, pd.arrays.IntegerArray | pd.arrays.BooleanArray):
        return [values._data, values._mask]
    return [np.asarray(values)]


@pytest.mark.nojit
@pytest.mark.parametrize("name", ["ansan", "mmc"])
def test_tables_own_their_memory(name):
    """The tables take the model's arrays without a copy: none may be a view of the shared World."""
    scenario = scenarios.override(scenarios.load(name), SHORT)
    world = sim.compile(scenario)
    result = sim.run(scenario, world=world, seed=2)
    shared = [v for v in vars(world).values() if isinstance(v, np.ndarray)]
    assert len(shared) > 10
    for table in ("incidents", "assignments", "units", "events"):
        frame = getattr(result, table)
        assert len(frame) > 0
        for col in frame.columns:
            for buf in _buffers(frame[col]):
                assert not any(np.shares_memory(buf, w) for w in shared), f"{table}.{col}"

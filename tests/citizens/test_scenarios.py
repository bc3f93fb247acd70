"""The built-in example: ulsan_chemical's citizens section, its baseline and the example sweeps."""

from __future__ import annotations

import numpy as np
import pytest

import scenarios
from experiments.spec import load_spec

pytestmark = pytest.mark.nojit


def test_the_baseline_is_ulsan_chemical_without_its_citizens():
    full = scenarios.load("ulsan_chemical").model_dump(mode="json")
    base = scenarios.load("ulsan_chemical_no_citizens").model_dump(mode="json")
    assert "citizens" in full["components"] and "citizens" not in base["components"]
    for doc in (full, base):
        doc["components"].pop("citizens", None)
        doc.pop("name"), doc.pop("description")
    assert full == base


@pytest.mark.parametrize("name", ["preparedness", "warning_lead_time"])
def test_the_example_sweeps_load(name):
    spec, _ = load_spec(f"experiments/sweeps/{name}.yaml")
    assert spec.scenarios and any(m.startswith("citizens_") for m in spec.metrics)


def test_component_figures_become_sweep_metrics():
    from analysis.metrics import component_metrics

    meta = {"components": {"citizens": {"deaths": 3, "median_evac_min": None, "people": 10, "flag": True,
                                        "by": {"x": 1}}, "fire": {"cells_burnt": 7.5}}}
    got = component_metrics(meta)
    assert set(got) == {"citizens_deaths", "citizens_median_evac_min", "citizens_people", "fire_cells_burnt"}
    assert got["citizens_deaths"] == 3.0 and np.isnan(got["citizens_median_evac_min"])
    assert component_metrics({}) == {}

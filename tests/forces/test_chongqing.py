"""The built-in chongqing_tiers and its baseline (issue #11, item 6)."""

from __future__ import annotations

import pytest

import scenarios
import sim
from scenarios.loader import builtin_path, read_yaml


def _data(name: str) -> dict:
    return read_yaml(builtin_path(name))


def test_the_baseline_is_the_same_city_without_escalation():
    """Everything but name, description and the escalation component is the same (the reserve too)."""
    tiers, base = _data("chongqing_tiers"), _data("chongqing_tiers_baseline")
    assert base["name"] == "chongqing_tiers_baseline"
    assert "escalation" in tiers["components"] and "escalation" not in base.get("components", {})
    assert "reserves" in base["components"]
    tiers["components"].pop("escalation")
    for d in (tiers, base):
        for key in ("name", "description"):
            d.pop(key, None)
    assert tiers == base


def test_the_city_has_every_tier_agency_and_the_12369_line():
    s = scenarios.load("chongqing_tiers")
    assert {st.tier for st in s.stations.values()} == {"city", "district", "enterprise"}
    assert {t.agency for t in s.unit_types.values()} >= {"fire", "ems", "police", "environment", "enterprise"}
    assert {t.line for t in s.incident_types.values()} == {"119", "120", "110", "12369"}
    assert max(len(t.required_units) for t in s.incident_types.values()) >= 5  # multi-agency plans


@pytest.mark.parametrize("name", ["chongqing_tiers", "chongqing_tiers_baseline"])
def test_a_day_runs_and_records_tiers_and_levels(name):
    result = sim.run(name, days=1, seed=1)
    a = result.assignments
    assert set(a["tier"].astype(str)) >= {"district", "city"}
    assert set(a["escalation_level"].tolist()) >= {0, 1}
    assert set(result.units["agency"].astype(str)) == {"fire", "ems", "police", "environment", "enterprise"}
    figures = result.meta.get("components", {}).get("escalation")
    if name == "chongqing_tiers":
        assert figures["assignments_by_level"]["own"] > figures["assignments_by_level"]["mutual_aid"] > 0
        assert sum(v["assignments"] for v in figures["lenders"].values()) == \
            figures["assignments_by_level"]["mutual_aid"]
    else:
        assert figures is None

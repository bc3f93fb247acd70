"""The built-in scenarios of #11 items 3-5: Ulsan's industrial city and Ansan with police and drones.

Each runs, its mechanisms show in its tables, and its baseline differs from
it only by the mechanisms switched off (so paired comparisons compare them).
"""

from __future__ import annotations

import pytest
import yaml

import scenarios
import sim
from tests.cli.conftest import error_line, run_cli
from tests.resources.conftest import _WORLD, figures

pytestmark = pytest.mark.nojit


def _doc(name: str) -> dict:
    return scenarios.load(name).model_dump(mode="json", exclude_none=True)


def test_the_ulsan_baseline_is_ulsan_with_sensors_and_prepositioning_off():
    on, off = _doc("ulsan_industrial"), _doc("ulsan_industrial_baseline")
    assert off["components"]["sensors"]["enabled"] is False
    assert off["components"]["prepositioning"]["enabled"] is False
    for doc in (on, off):
        doc.pop("name"), doc.pop("description")
        doc["components"]["sensors"].pop("enabled", None)
        doc["components"]["prepositioning"].pop("enabled", None)
    assert on == off


def test_ansan_112_drones_is_ansan_with_police_and_drones():
    ansan, ext = _doc("ansan"), _doc("ansan_112_drones")
    assert set(ext["components"]) == {"drones"}
    assert {"Sangnok Police", "Danwon Police"} <= set(ext["stations"])
    assert ext["incident_types"]["police"]["line"] == "112"
    for key in ("districts", "hospitals"):
        assert ext[key] == ansan[key]
    for name, station in ansan["stations"].items():
        assert ext["stations"][name] == station
    for name, fleet in ansan["fleets"].items():
        assert ext["fleets"][name] == fleet


def test_ulsan_industrial_runs_with_every_mechanism_in_its_tables():
    result = sim.run("ulsan_industrial", days=3)
    assert {"stock", "site_events", "prepositions", "forecast"} <= set(result.extra)
    inc = result.incidents
    assert {"sensor", "site_report"} & set(inc["source"].astype(str))
    assert inc["material_wait_min"].notna().any()
    assert figures(result, "prepositioning")["calls_learned"] > 300
    assert (result.assignments["tier"].astype(str) == "enterprise").any()


def test_ansan_112_drones_runs_with_police_calls_and_drone_sorties():
    result = sim.run("ansan_112_drones", days=2)
    inc = result.incidents
    assert (inc["line"].astype(str) == "112").sum() > 100
    assert (result.assignments["unit_kind"].astype(str) == "patrol").sum() > 100
    fig = figures(result, "drones")
    assert fig["sorties"] == len(result.extra["drones"]) > 10
    assert fig["false_alarms_caught"] > 0


def test_a_depot_stocking_an_unknown_material_is_one_line_exit_2(tmp_path):
    world = dict(_WORLD, components={"reserves": {
        "materials": ["foam"], "consumption": {"hazmat": {"foam": 1}},
        "depots": {"city": {"stock": {"foam": 5, "sandbags": 10}}}}})
    path = tmp_path / "reserves.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    line = error_line(run_cli(["run", str(path), "--out", str(out)]))
    assert line.startswith(f"{path}: components.reserves.depots.city.stock.sandbags: unknown material "
                           "'sandbags'; expected one of 'foam'"), line
    assert not out.exists()


def test_the_same_seed_gives_the_same_event_log_with_every_mechanism_on():
    a, b = (sim.run("ulsan_industrial", days=2, seed=7) for _ in range(2))
    cols = ["t_min", "seq", "kind", "incident_id", "unit_id", "detail"]
    assert len(a.events) > 1000 and a.events[cols].equals(b.events[cols])
    for name in ("stock", "site_events", "prepositions"):
        assert a.extra[name].equals(b.extra[name])

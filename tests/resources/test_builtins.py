"""The built-in scenarios of #11 items 3-5: Ulsan's industrial city and Ansan with police and drones.

Each runs, its mechanisms show in its tables, and its baseline differs from
it only by the mechanisms switched off (so paired comparisons compare them).
"""

from __future__ import annotations

import pytest
import yaml

import scenarios
import sim
from analysis.metrics import component_metrics, resource_metrics
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


@pytest.fixture(scope="module")
def ulsan():
    """ulsan_industrial for 3 days (its warm-up: the first day)."""
    return sim.run("ulsan_industrial", days=3)


@pytest.fixture(scope="module")
def ansan_drones():
    """ansan_112_drones for 2 days (its warm-up: the first day)."""
    return sim.run("ansan_112_drones", days=2)


def test_ulsan_industrial_runs_with_every_mechanism_in_its_tables(ulsan):
    result = ulsan
    assert {"stock", "site_events", "prepositions", "forecast"} <= set(result.extra)
    inc = result.incidents
    assert {"sensor", "site_report"} & set(inc["source"].astype(str))
    assert inc["material_wait_min"].notna().any()
    assert figures(result, "prepositioning")["calls_learned"] > 300
    assert (result.assignments["tier"].astype(str) == "enterprise").any()


def test_ansan_112_drones_runs_with_police_calls_and_drone_sorties(ansan_drones):
    result = ansan_drones
    inc = result.incidents
    assert (inc["line"].astype(str) == "112").sum() > 100
    assert (result.assignments["unit_kind"].astype(str) == "patrol").sum() > 100
    fig = figures(result, "drones")
    # the figure counts the sorties to incidents called after the warm-up; the table has them all
    sorties = result.extra["drones"]
    measured = inc.loc[~inc["in_warmup"], "incident_id"]
    assert fig["sorties"] == sorties["incident_id"].isin(measured).sum() > 10
    assert len(sorties) > fig["sorties"]
    assert fig["false_alarms_caught"] > 0


def test_component_figures_count_the_measured_window_like_the_sweep_metrics(ansan_drones, ulsan):
    """run.json figures (``component_metrics``) and sweep metrics of the same thing agree after a warm-up."""
    same = {"drones_wasted_dispatches": "wasted_dispatches",
            "drones_false_alarms_caught": "false_alarms_caught", "drones_wrong_plans": "wrong_plans",
            "reserves_delayed_incidents": "material_delayed", "reserves_delay_min": "material_delay_min"}
    for result, names in ((ansan_drones, "drones"), (ulsan, "reserves")):
        comp, swept = component_metrics(result.meta), resource_metrics(result.incidents)
        pairs = {k: v for k, v in same.items() if k.startswith(names)}
        assert {k: comp[k] for k in pairs} == {k: swept[v] for k, v in pairs.items()}
    # the warm-up had wasted dispatches and material draws of its own: the whole run counts more
    inc, wasted = ansan_drones.incidents, figures(ansan_drones, "drones")["wasted_dispatches"]
    assert inc.loc[inc["false_alarm"], "units_assigned"].sum() > wasted > 0
    inc, drawing = ulsan.incidents, figures(ulsan, "reserves")["incidents_drawing"]
    drew = inc["material_wait_min"].notna()
    assert drew.sum() > drawing == (drew & ~inc["in_warmup"]).sum() > 0
    # sensors: the false alarms and real events called after the warm-up
    sensors = figures(ulsan, "sensors")
    site = inc.loc[~inc["in_warmup"] & inc["call_delay_min"].notna()]
    assert sensors["false_alarms"] == site["sensor_false_alarm"].sum()
    assert sensors["events"] == (~site["sensor_false_alarm"]).sum() > 0
    # pre-positioning: the moves made after the warm-up (the table has every move)
    moves, fig = ulsan.extra["prepositions"], figures(ulsan, "prepositioning")
    after = moves.loc[moves["t_min"] >= 1440, "reason"].astype(str)
    assert (fig["moves_ahead"], fig["moved_back"]) == ((after == "ahead").sum(), (after == "back").sum())
    assert len(after) > 0  # (it learns for a day, the warm-up: every move here is after it)


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

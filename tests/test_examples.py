"""The example scenarios of the how-to guides run and behave as their geometry says."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import scenarios
import sim

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


@pytest.fixture(scope="module")
def two_towns():
    return sim.run(EXAMPLES / "two_towns.yaml", seed=3)


def test_every_example_validates_and_runs():
    for path in sorted(EXAMPLES.glob("*.yaml")):
        result = sim.run(path, days=3)
        statuses = set(result.incidents["status"].astype(str))
        assert statuses <= {"resolved", "unserved", "abandoned", "open_at_end"}, path
        assert (result.units["utilization"].between(0, 1)).all(), path


def test_two_towns_travel_times_follow_the_map(two_towns):
    a = two_towns.assignments
    per_km = 60 * 1.3 / 40                         # detour 1.3 at 40 km/h
    home = a["home_district"].astype(str)
    inc = two_towns.incidents.set_index("incident_id").loc[a["incident_id"]]
    same = home.to_numpy() == inc["district"].astype(str).to_numpy()
    at_home = a["from_station"].to_numpy()
    # a station sits in the middle of its 6 km square: at most 3*sqrt(2) km to any scene
    assert (a.loc[same & at_home, "travel_min"] <= 3 * math.sqrt(2) * per_km + 1e-9).all()
    # the towns are 6 km apart at their nearest edges
    assert (a.loc[~same & at_home, "travel_min"] >= 6 * per_km - 1e-9).all()


def test_two_towns_scripted_inject_is_served(two_towns):
    inc = two_towns.incidents
    fire = inc[inc["scripted"]]
    assert len(fire) == 1
    row = fire.iloc[0]
    assert row["t_call_min"] == 2 * 1440
    assert (row["kind"], row["district"], row["label"]) == ("fire", "West", "barn fire (inject)")
    assert row["status"] == "resolved" and row["units_assigned"] == 2
    assert row["x_km"] == 16 and row["y_km"] == 4


def test_ring_city_transports_go_to_the_hospital_at_the_expected_rate():
    result = sim.run(EXAMPLES / "ring_city.yaml", seed=5)
    inc = result.incidents
    done = inc[inc["status"] == "resolved"]
    carried = done["hospital"].notna()
    assert set(done.loc[carried, "hospital"].astype(str)) == {"Central hospital"}
    assert carried.sum() == done["transport"].sum()          # every drawn transport happened
    p = stats.binomtest(int(done["transport"].sum()), len(done), 0.6).pvalue
    assert p > 0.001
    assert (done["t_clear_min"] >= done["t_first_arrival_min"]).all()


def test_ring_city_scenario_show_counts_units():
    s = scenarios.load(EXAMPLES / "ring_city.yaml")
    world = sim.compile(s)
    assert world.n_units == 6
    assert np.isclose(world.expected_counts().sum() / 14, 0.2 * 150)   # 150,000 people


@pytest.fixture
def user_policies(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES.parents[1] / "docs" / "examples"))


def test_hand_written_nearest_reproduces_the_compiled_fast_path(user_policies):
    # PlainNearest goes through Candidates + select(); built-in nearest through the numba kernel.
    built_in = sim.run("ansan", days=4, seed=9)
    by_hand = sim.run("ansan", days=4, seed=9, policy="my_policies:PlainNearest")
    assert built_in.events.drop(columns="detail").equals(by_hand.events.drop(columns="detail"))
    assert built_in.assignments.equals(by_hand.assignments)


def test_keep_one_home_keeps_stations_covered(user_policies):
    base = sim.run("ansan", days=6, seed=4)
    keep = sim.run("ansan", days=6, seed=4, policy="my_policies:KeepOneHome", params={"slack_min": 4})
    # same incidents (common random numbers), different choices
    cols = ["t_call_min", "kind", "district", "priority", "location"]
    assert base.incidents[cols].equals(keep.incidents[cols])
    assert not base.assignments["unit_id"].equals(keep.assignments["unit_id"])
    assert keep.meta["policy"] == {"dispatch": "my_policies:KeepOneHome", "params": {"slack_min": 4}}


def test_bad_policy_parameter_is_reported(user_policies):
    with pytest.raises(sim.InputError, match="slack_min"):
        sim.run("ansan", days=2, policy="my_policies:KeepOneHome", params={"slack_min": -1})


def test_ring_city_disruptions_differs_from_its_baseline_only_by_the_disruptions():
    base = scenarios.load(EXAMPLES / "ring_city.yaml").model_dump()
    disrupted = scenarios.load(EXAMPLES / "ring_city_disruptions.yaml").model_dump()
    changed = {k for k in base.keys() | disrupted.keys() if base.get(k) != disrupted.get(k)}
    assert changed == {"name", "description", "road_changes", "unit_availability"}


def test_ring_city_disruptions_close_the_avenue_and_ground_the_ambulance():
    base = sim.run(EXAMPLES / "ring_city.yaml", seed=5, days=4)
    hit = sim.run(EXAMPLES / "ring_city_disruptions.yaml", seed=5, days=4)
    # nothing happens before the first disruption: the same incidents, handled the same way
    before = 32 * 60
    for table, column in (("incidents", "t_call_min"), ("assignments", "t_dispatch_min")):
        b, h = getattr(base, table), getattr(hit, table)
        b, h = b[b[column] < before].reset_index(drop=True), h[h[column] < before].reset_index(drop=True)
        assert len(b) > 10 and b.equals(h), table
    ev = hit.events
    roads = ev[ev["kind"] == "road_changed"]
    assert roads["t_min"].tolist() == [32 * 60, 44 * 60]
    assert [json.loads(d)["factor"] for d in roads["detail"].astype(str)] == [0, 1.0]
    out = ev[(ev["kind"] == "unit_out_of_service") & (ev["unit_id"] == "W/ambulance/1")]
    back = ev[(ev["kind"] == "unit_in_service") & (ev["unit_id"] == "W/ambulance/1")]
    assert len(out) == 1 and 56 * 60 <= out["t_min"].iloc[0] < 62 * 60
    assert back["t_min"].tolist() == [62 * 60]
    a = hit.assignments
    grounded = a[(a["unit_id"] == "W/ambulance/1")
                 & a["t_dispatch_min"].between(out["t_min"].iloc[0], 62 * 60, inclusive="left")]
    assert grounded.empty
    # West's calls in the window were answered by other quarters' ambulances
    inc = hit.incidents
    west = inc[(inc["district"] == "West") & inc["t_call_min"].between(56 * 60, 62 * 60, inclusive="left")]
    helpers = a[a["incident_id"].isin(west["incident_id"])]
    assert (helpers["unit_id"] != "W/ambulance/1").all()

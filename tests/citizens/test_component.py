"""The citizens component in runs of a tiny road town (tests/citizens/conftest.py).

Behaviour against truth: a warning-driven evacuation without any hazard,
faster response saves lives on the same seed (common random numbers), more
preparedness shortens evacuation, shelters never overflow, same seed =>
identical tables, and bad input fails with one line naming the field.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim.cli
from sim.errors import InputError
from tests.citizens.conftest import run, town

pytestmark = pytest.mark.nojit

SHELTERS = {"Hall": {"xy_km": [4, 2], "capacity": 300}, "School": {"xy_km": [0, 2], "capacity": 1000}}
ALERT = {"alerts": [{"at": 10, "share": 0.9}]}
EVAC = {"evacuation": {"shelters": SHELTERS, "capacity_per_min": 1000}, "warnings": ALERT}


def test_warning_driven_evacuation_without_hazards():
    result = run(town(EVAC))
    fig = result.meta["components"]["citizens"]
    assert fig["people"] == 1000 and fig["deaths"] == 0 and fig["injured"] == 0
    warnings = result.extra["warnings"]
    alert = warnings[warnings["channel"] == "alert"]
    assert alert["t_min"].tolist() == [10.0]
    assert warnings["reached"].sum() == fig["people_warned"] > 0
    assert set(warnings["channel"]) <= {"alert", "neighbours"}  # nothing else can warn here
    evac = result.extra["evacuation"]
    assert evac["district"].tolist() == ["West", "East"] and evac["people"].tolist() == [400, 600]
    assert evac["evacuated"].sum() == fig["evacuated"] > 0
    assert (evac["median_evac_min"] <= evac["p90_evac_min"]).all()
    shelters = result.extra["shelters"]
    assert (shelters["occupancy"] <= shelters["capacity"]).all()
    last = shelters.groupby("shelter", observed=True)["occupancy"].last()
    assert last.sum() == fig["evacuated"]
    assert result.extra["casualties"].empty  # no hazard, no cause


def test_same_seed_same_tables():
    d = town(EVAC)
    a, b = run(d), run(d)
    for name in ("evacuation", "shelters", "warnings"):
        pd.testing.assert_frame_equal(a.extra[name], b.extra[name])


def test_a_full_shelter_sends_people_on_and_never_overflows():
    small = {"Hall": {"xy_km": [4, 2], "capacity": 20}, "School": {"xy_km": [0, 2], "capacity": 1000}}
    result = run(
        town(
            {
                "evacuation": {
                    "shelters": small,
                    "share": 1.0,
                    "share_prepared": 1.0,
                    "designated": {"East": "Hall", "West": "Hall"},
                },
                "warnings": ALERT,
            }
        )
    )
    shelters = result.extra["shelters"]
    assert (shelters["occupancy"] <= shelters["capacity"]).all()
    hall = shelters[shelters["shelter"] == "Hall"]
    assert hall["occupancy"].max() == 20
    school = shelters[shelters["shelter"] == "School"]
    assert school["occupancy"].max() > 0  # the rest went on


def _hurt(fleet: int, seed: int = 7) -> dict:
    """A one-off harm (health 1 -> 0.5) in a disc of the East at 30 min; injured call; units treat."""
    citizens = {
        "calls": {"incident_type": "medical", "mean_delay_min": 2},
        "exposure": {"plume": {"rate_per_min": 0.5, "once": True, "triage_mix": [0.5, 0.5, 0.0]}},
        "survival": {
            "red": {"scale_min": 60, "shape": 1.5},
            "yellow": {"scale_min": 240, "shape": 1.5},
            "green": {"scale_min": None},
        },
        "warnings": {"neighbour_rate_per_min": 0.0},
    }
    hazard = {"at": 30, "centre_km": [3.0, 1.0], "radius_km": 0.5, "level": 1.0}
    result = run(town(citizens, hazard, fleets={"S": {"amb": fleet}}), seed=seed)
    return result.meta["components"]["citizens"] | {"casualties": result.extra["casualties"]}


def test_faster_response_lowers_deaths_on_the_same_seed():
    slow, fast = _hurt(1), _hurt(12)
    assert slow["people"] == fast["people"]
    # the same people are hurt (common random numbers): the dead and the injured add up alike
    assert slow["deaths"] + slow["injured"] == fast["deaths"] + fast["injured"] > 0
    assert fast["treated"] > slow["treated"]
    assert fast["deaths"] < slow["deaths"]
    cas = slow["casualties"]
    assert cas["cause"].unique().tolist() == ["plume"] and cas["dead"].sum() == slow["deaths"]


def _evac_time(preparedness: float) -> float:
    result = run(town({**EVAC, "preparedness": preparedness}), seed=3)
    return result.meta["components"]["citizens"]["median_evac_min"]


def test_more_preparedness_lowers_evacuation_time():
    times = [_evac_time(m) for m in (0.1, 0.5, 0.9)]
    assert times[0] > times[1] > times[2]


def test_stepping_stops_at_end_and_people_are_conserved():
    result = run(town({**EVAC, "end": 60}))
    evac = result.extra["evacuation"]
    assert evac["people"].sum() == result.meta["components"]["citizens"]["people"] == 1000
    assert result.extra["shelters"]["t_min"].max() <= 60


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"max_per_cell": 1}, "components.citizens.max_per_cell"),
        ({"preparedness": -0.2}, "components.citizens.preparedness"),
        ({"districts": ["North"]}, "components.citizens.districts[0]"),
        (
            {"evacuation": {"shelters": SHELTERS, "designated": {"West": "Gym"}}},
            "components.citizens.evacuation.designated.West",
        ),
        (
            {"warnings": {"alerts": [{"at": 5, "districts": ["Nowhere"]}]}},
            "components.citizens.warnings.alerts[0].districts[0]",
        ),
        ({"calls": {"incident_type": "flood"}}, "components.citizens.calls.incident_type"),
    ],
)
def test_bad_sections_name_their_field(change, path):
    with pytest.raises(InputError) as err:
        run(town(change))
    assert err.value.path == path, err.value.one_line()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("max_per_cell: 1", "components.citizens.max_per_cell"),
        ("preparedness: -0.2", "components.citizens.preparedness"),
        ("districts: [North]", "components.citizens.districts[0]"),
        (
            "evacuation: {shelters: {Hall: {xy_km: [4, 2], capacity: 10}}, designated: {West: Gym}}",
            "components.citizens.evacuation.designated.West",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, change, field):
    import yaml

    d = town()
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d) + "components:\n  citizens: {" + change + "}\n")
    code = sim.cli.main(["run", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and field in err, err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_population_is_placed_within_its_districts():
    from agents.citizens import Citizens

    captured = {}

    def probe(model):
        captured["part"] = model.components["citizens"]

    run(town({"cell_km": 0.5, "max_per_cell": 100}), probe=probe, until=1)
    part: Citizens = captured["part"]
    p = part.people
    west = p["district"] == part.plan.district_names.index("West")
    assert np.count_nonzero(west) == 400
    assert (p["x_km"][west] <= 2).all() and (p["x_km"][~west] >= 2).all()
    assert np.bincount(p["home_cell"]).max() <= 100
    assert [g.district for g in part.groups] == [0, 1] and len(part.groups[1].health) == 600
    prep = p["preparedness"]
    assert prep.min() >= 0 and prep.max() <= 1 and abs(prep.mean() - 0.3) < 0.05


def test_a_real_fire_hurts_people_on_a_plain_map():
    from tests.engine.test_fire_component import FIRE, _town

    d = _town(FIRE)
    d["components"]["citizens"] = {"calls": {"incident_type": "medical"}, "cell_km": 0.5}
    result = run(d)
    fig = result.meta["components"]["citizens"]
    cas = result.extra["casualties"]
    assert cas["cause"].tolist() == ["fire"] and cas["injured"].sum() + cas["dead"].sum() > 0
    assert cas["dead"].sum() == fig["deaths"]
    inc = result.incidents
    assert (inc["source"] == "citizens").sum() == fig["incidents_raised"] > 0
    assert (result.extra["warnings"]["channel"] == "cue").any()  # people see the fire

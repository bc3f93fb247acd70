"""Loading by name or path, overrides at dotted paths, and the scenario hash."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

import scenarios
from scenarios.loader import builtin_path
from sim.demand import generate
from sim.errors import InputError
from sim.rng import Streams
from sim.world import compile_world


def test_builtin_names_include_the_library():
    names = scenarios.builtin_names()
    assert {"ansan", "mmc"} <= set(names)
    assert names == sorted(names)
    for name in ("ansan", "mmc"):
        assert builtin_path(name).is_file()
        assert scenarios.resolve(name) == builtin_path(name)


def test_load_by_name_and_by_path_agree():
    by_name = scenarios.load("mmc")
    by_path = scenarios.load(builtin_path("mmc"))
    assert by_name == by_path
    assert by_name.name == "mmc"
    assert by_name.fleets == {"station": {"server": 5}}
    assert by_name.time.horizon == 30 * 1440.0 and by_name.time.warmup == 1440.0
    assert scenarios.source_of(by_name) == str(builtin_path("mmc"))
    assert scenarios.load("ansan").geography.kind == "grid"


def test_unknown_name_lists_the_builtins():
    with pytest.raises(InputError, match="ansan"):
        scenarios.resolve("no_such_city")
    with pytest.raises(InputError, match="file not found"):
        scenarios.resolve("missing/city.yaml")


def test_load_with_overrides():
    s = scenarios.load("mmc", overrides={"fleets.station.server": 3, "time.horizon": "2 d"})
    assert s.fleets["station"]["server"] == 3
    assert s.time.horizon == 2880.0


# ---- override ---------------------------------------------------------------------------------
def test_override_dotted_paths(city_dict):
    base = scenarios.from_dict(city_dict)
    new = scenarios.override(base, {
        "fleets.S1.amb": 4,
        "demand.scale": 1.5,
        "time.horizon": "2 d",
        "incident_types.fire.on_scene": {"dist": "exponential", "mean": "40 min"},
        "demand.profiles.chem.day_of_week": [1, 1, 1, 1, 1, 2, 2],          # creates the mapping
        "policy.params.spare": 1,
    })
    assert new.fleets["S1"]["amb"] == 4 and new.fleets["N1"] == base.fleets["N1"]
    assert new.demand.scale == 1.5 and new.time.horizon == 2880.0
    assert new.incident_types["fire"].on_scene.mean_min == 40.0
    assert new.demand.profiles["chem"].day_of_week == [1, 1, 1, 1, 1, 2, 2]
    assert new.policy.params == {"spare": 1}
    # everything else is untouched, and the original is unchanged
    assert new.districts == base.districts and new.incident_types["medical"] == base.incident_types["medical"]
    assert base.fleets["S1"]["amb"] == 2 and base.demand.scale == 1.0
    assert scenarios.source_of(new) == scenarios.source_of(base)


def test_override_round_trip_is_identity(city_dict):
    base = scenarios.from_dict(city_dict)
    assert scenarios.override(base, {}) == base
    s = scenarios.load("ansan")
    assert scenarios.override(s, {}) == s


def test_override_keeps_an_open_truncated_normal(city_dict):
    processing = {"dist": "truncated_normal", "mean": 1.5, "sd": 0.5, "low": 0.5}
    city_dict["dispatch_centre"] = {"processing": processing}
    s = scenarios.override(scenarios.from_dict(city_dict), {"demand.scale": 2})
    assert s.dispatch_centre.processing.high is None


@pytest.mark.parametrize(
    ("overrides", "match", "path"),
    [
        ({"fleets.S1.amb": -1}, "greater than or equal to 0", "fleets.S1.amb"),
        ({"demand.scael": 2}, "did you mean 'scale'", "demand.scael"),
        ({"name.first": "x"}, "not a mapping", "name.first"),
        ({"demand..scale": 2}, "dotted field path", "demand..scale"),
    ],
)
def test_override_errors_name_the_path(city_dict, overrides, match, path):
    with pytest.raises(InputError, match=match) as err:
        scenarios.override(scenarios.from_dict(city_dict), overrides)
    assert err.value.path == path


def test_apply_overrides_copies(city_dict):
    before = copy.deepcopy(city_dict)
    out = scenarios.apply_overrides(city_dict, {"fleets.N1.engine": 7, "demand.new.deep": 1}, source="<t>")
    assert city_dict == before
    assert out["fleets"]["N1"]["engine"] == 7 and out["demand"]["new"] == {"deep": 1}


# ---- hash ---------------------------------------------------------------------------------------
def test_hash_is_stable(city_dict):
    a = scenarios.scenario_hash(scenarios.from_dict(city_dict))
    b = scenarios.scenario_hash(scenarios.from_dict(copy.deepcopy(city_dict)))
    assert a == b and len(a) == 64 and int(a, 16) >= 0
    assert scenarios.scenario_hash(scenarios.load("mmc")) == scenarios.scenario_hash(scenarios.load("mmc"))
    same_value = scenarios.override(scenarios.from_dict(city_dict), {"demand.scale": 1.0})
    assert scenarios.scenario_hash(same_value) == a


def test_hash_ignores_how_values_are_written(city_dict, tmp_path):
    a = scenarios.scenario_hash(scenarios.from_dict(city_dict))
    spelled = copy.deepcopy(city_dict)
    spelled["time"]["horizon"] = 10080                                       # "7 d" as minutes
    spelled["incident_types"]["fire"]["on_scene"] = {"dist": "constant", "value": "45 min"}
    assert scenarios.scenario_hash(scenarios.from_dict(spelled)) == a
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(city_dict, sort_keys=False), encoding="utf-8")
    assert scenarios.scenario_hash(scenarios.load(path)) == a


@pytest.mark.parametrize(
    "overrides",
    [{"demand.scale": 1.01}, {"fleets.S1.amb": 3}, {"description": "other"}, {"seed": 6},
     {"incident_types.chem.max_queue": "3 h"},
     {"districts.North.boundary": [[0, 0], [4, 0], [4, 5], [0, 4]]}],
)
def test_hash_changes_with_any_field(city_dict, overrides):
    base = scenarios.from_dict(city_dict)
    assert scenarios.scenario_hash(scenarios.override(base, overrides)) != scenarios.scenario_hash(base)


def test_equal_hash_means_equal_incident_stream(city_dict):
    """Run manifests and sweep plans identify a scenario by its hash, so two scenarios with one hash
    must give the same runs. The order of districts is part of a scenario's meaning: it fixes the
    indices that random draws are mapped through."""
    swapped = copy.deepcopy(city_dict)
    swapped["districts"] = dict(reversed(list(city_dict["districts"].items())))
    a, b = scenarios.from_dict(city_dict), scenarios.from_dict(swapped)
    wa, wb = compile_world(a), compile_world(b)
    sa = generate(wa, wa.geo.for_run(), Streams(1, 0))
    sb = generate(wb, wb.geo.for_run(), Streams(1, 0))
    same_runs = ([wa.district_names[d] for d in sa.district] == [wb.district_names[d] for d in sb.district]
                 and np.array_equal(sa.x_km, sb.x_km))
    assert same_runs or scenarios.scenario_hash(a) != scenarios.scenario_hash(b), (
        "same scenario_hash, different incidents: the hash ignores the order of districts")

"""Scenario files are bounded, unambiguous data (issue #16, items 7, 11, 12, 13, 15 and 17).

Each test pins one rule of docs/howto-scenarios.md ("Files are data"): the
YAML loader refuses duplicate keys, alias bombs and deep nesting with a line
number; numbers are finite and sizes fit; stations lie in their districts;
errors never quote a file the scenario points at; and a scenario names
registered policies and components only, never code to import.
"""

from __future__ import annotations

import sys
import time

import pytest
import yaml

import scenarios
from agents import components
from agents.policies import registry
from scenarios import safeyaml, shapes
from scenarios.loader import read_yaml
from sim.errors import InputError
from sim.world import compile_world

BOMB = "\n".join(['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
                 + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)])


def _write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _load_error(tmp_path, text) -> InputError:
    with pytest.raises(InputError) as info:
        read_yaml(_write(tmp_path, text))
    return info.value


# -- item 13: duplicate keys ------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "line", "key"), [
    ("fleets: {a: 1}\nname: x\nfleets: {b: 2}\n", 3, "'fleets'"),
    ("fleets:\n  station:\n    server: 5\n    server: 1\n", 4, "'server'"),
    ("districts:\n  North: {population: 1}\n  North: {population: 2}\n", 3, "'North'"),
    ("priority_mix: {1: 0.5, 1: 0.5}\n", 1, "1"),
    ("factors:\n  a: {path: x, levels: [1]}\n  a: {path: y, levels: [2]}\n", 3, "'a'"),
])
def test_a_duplicate_key_is_refused_at_its_second_line(tmp_path, text, line, key):
    err = _load_error(tmp_path, text)
    assert err.path.startswith(f"line {line}, column "), err
    assert err.message.startswith(f"duplicate key {key} (first given on line "), err


def test_merge_keys_may_be_overridden(tmp_path):
    data = read_yaml(_write(tmp_path, "base: &b {mean: 1, sd: 2}\nx:\n  <<: *b\n  sd: 3\n"))
    assert data["x"] == {"mean": 1, "sd": 3}


# -- item 12: alias bombs ---------------------------------------------------------------------------
def test_an_alias_bomb_is_refused_quickly_with_its_line(tmp_path):
    text = "name: x\npolicy:\n  dispatch: nearest\n  params:\n" + "".join(
        f"    {line}\n" for line in BOMB.splitlines())
    started = time.perf_counter()
    err = _load_error(tmp_path, text)
    assert time.perf_counter() - started < 5
    assert "alias bomb" in err.message and str(safeyaml.MAX_ALIAS_NODES) in err.message, err
    assert err.path.startswith("line 10, column "), err      # a5: 9 x 9^5 nodes pass the bound


def test_modest_aliases_are_fine(tmp_path):
    text = "d: &d {dist: exponential, mean: 20 min}\na: {on_scene: *d}\nb: {on_scene: *d}\n"
    assert read_yaml(_write(tmp_path, text))["b"]["on_scene"]["mean"] == "20 min"


def test_a_recursive_alias_is_refused(tmp_path):
    err = _load_error(tmp_path, "x: &a [1, *a]\n")
    assert "inside its own anchor" in err.message and err.path.startswith("line 1,"), err


# -- item 11: deep nesting ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "".join("  " * i + f"k{i}:\n" for i in range(5000)) + "  " * 5000 + "v: 1\n",
])
def test_deep_nesting_is_refused_with_its_line(tmp_path, text):
    err = _load_error(tmp_path, text)
    assert err.message == f"nesting is deeper than {safeyaml.MAX_DEPTH} levels", err
    assert err.path.startswith("line "), err


def test_syntax_errors_still_say_so(tmp_path):
    err = _load_error(tmp_path, "a: [1, 2\n")
    assert err.message.startswith("YAML syntax error: "), err


def test_experiment_specs_use_the_same_loader(tmp_path):
    from experiments.spec import load_spec

    path = _write(tmp_path, "name: e\nscenarios: [mmc]\nreplications: 2\nreplications: 3\n")
    with pytest.raises(InputError, match="duplicate key 'replications'") as info:
        load_spec(path)
    assert info.value.path.startswith("line 4, ")


def test_an_alias_bomb_in_an_experiment_spec_is_refused(tmp_path):
    from experiments.spec import load_spec

    text = "name: e\nscenarios: [mmc]\nreplications: 2\nbaseline:\n" + "".join(
        f"  {line}\n" for line in BOMB.splitlines())
    with pytest.raises(InputError, match="alias bomb") as info:
        load_spec(_write(tmp_path, text))
    assert info.value.path.startswith("line 10, ")


# -- item 11: finite numbers and sizes that fit -------------------------------------------------------
@pytest.mark.parametrize(("path", "value"), [
    (("demand", "rates_per_hr", "North", "fire"), float("inf")),
    (("demand", "per_1000_per_day", "medical"), float("nan")),
    (("demand", "scale"), float("inf")),
    (("unit_types", "amb", "speed_factor"), float("inf")),
    (("geography", "speed_kmh"), float("inf")),
    (("geography", "detour_factor"), float("inf")),
])
def test_non_finite_numbers_are_refused(city_dict, path, value):
    cur = city_dict
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = value
    with pytest.raises(InputError, match="finite number") as info:
        scenarios.from_dict(city_dict)
    assert info.value.path == ".".join(path)


def test_a_demand_that_cannot_fit_is_refused_with_an_estimate(city_dict):
    city_dict["demand"]["rates_per_hr"]["North"]["fire"] = 1e300
    with pytest.raises(InputError, match=r"about [\d.]+e\+30\d incidents expected") as info:
        scenarios.from_dict(city_dict)
    assert info.value.path == "demand"
    # 100 a day over 40 000 days (within the horizon bound), 4 x over 30 000 of them: 13 million incidents
    city_dict["demand"] = {"rates_per_hr": {"North": {"fire": 100 / 24}}}
    city_dict["time"]["horizon"] = "40000 d"
    city_dict["demand"]["surges"] = [{"start": 0, "end": "30000 d", "multiplier": 4}]
    with pytest.raises(InputError, match=r"about 13,000,000 incidents expected \(100 a day") as info:
        scenarios.from_dict(city_dict)
    assert "at most 2,000,000" in info.value.message


def test_a_horizon_that_cannot_fit_is_refused_with_an_estimate(city_dict):
    city_dict["time"]["horizon"] = "1000000000 d"
    with pytest.raises(InputError, match=r"24,000,000,000 hourly demand bins \(about \d+ TB\)") as info:
        scenarios.from_dict(city_dict)
    assert info.value.path == "time.horizon"


@pytest.mark.parametrize(("path", "value", "where"), [
    (("fleets", "N1", "engine"), 10**9, "fleets.N1.engine"),
    (("districts", "North", "population"), 10**30, "districts.North.population"),
    (("hospitals", "H", "capacity"), 10**30, "hospitals.H.capacity"),
    (("incident_types", "chem", "priority_mix"), {10**9: 1.0}, "incident_types.chem.priority_mix"),
    (("geography",), {"kind": "ring_radial", "rings": 10**6, "ring_spacing_km": 1, "radials": 8,
                      "ring_speed_kmh": 30, "radial_speed_kmh": 40}, "geography"),
])
def test_absurd_counts_are_refused(city_dict, path, value, where):
    cur = city_dict
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = value
    with pytest.raises(InputError) as info:
        scenarios.from_dict(city_dict)
    assert info.value.path.startswith(where), info.value


def test_too_many_units_in_all_is_refused(city_dict):
    for name in range(11):                     # 11 stations of 10 000 units each (the most per fleet)
        city_dict["stations"][f"X{name}"] = {"district": "North", "location": [1, 1]}
        city_dict["fleets"][f"X{name}"] = {"amb": 10_000}
    with pytest.raises(InputError, match=r"the fleets hold 110\d\d\d units; at most 100000") as info:
        scenarios.from_dict(city_dict)
    assert info.value.path == "fleets"


# -- item 7: places lie in their districts ------------------------------------------------------------
def test_shapes():
    square = [(0, 0), (4, 0), (4, 4), (0, 4)]
    assert shapes.outside_km((2, 2), square) == 0
    assert shapes.outside_km((5, 2), square) == pytest.approx(1)
    assert shapes.outside_km((7, 8), square) == pytest.approx(5)
    ell = [(0, -6), (6, -6), (6, -1), (3, -1), (3, -3), (0, -3)]
    assert shapes.outside_km((4, -2), ell) == 0 and shapes.outside_km((1, -2), ell) == pytest.approx(1)
    assert shapes.diagonal_km(square) == pytest.approx(32**0.5)


def test_a_station_outside_its_district_is_refused(city_dict):
    city_dict["stations"]["S1"]["location"] = [1, -2]         # 1 km north of South's western arm
    with pytest.raises(InputError, match=r"lies 1.00 km outside the boundary of its district 'South' "
                                         r"\(at most 0.5 km is allowed\)") as info:
        scenarios.from_dict(city_dict)
    assert info.value.path == "stations.S1.location"


def test_a_station_just_outside_is_within_the_tolerance(city_dict):
    city_dict["stations"]["N1"]["location"] = [4.4, 2]
    assert scenarios.from_dict(city_dict).stations["N1"].location == (4.4, 2)


def test_a_hospital_far_from_the_city_is_refused(city_dict):
    city_dict["hospitals"]["H"]["location"] = [400, 0]        # the city is 6 x 10 km
    with pytest.raises(InputError, match=r"lies 394\.0 km from the nearest district, farther than") as info:
        scenarios.from_dict(city_dict)
    assert info.value.path == "hospitals.H.location"
    city_dict["hospitals"]["H"]["location"] = [10, 0]          # out of town, but near
    assert scenarios.from_dict(city_dict).hospitals["H"].location == (10, 0)


def test_a_hospital_with_a_district_lies_in_it(city_dict):
    city_dict["hospitals"]["H"]["district"] = "South"
    with pytest.raises(InputError, match="outside the boundary of its district 'South'") as info:
        scenarios.from_dict(city_dict)
    assert info.value.path == "hospitals.H.location"


@pytest.mark.parametrize("name", sorted(scenarios.builtin_names()))
def test_the_library_keeps_its_places_in_their_districts(name):
    scenarios.load(name)


# -- item 15: a file the scenario points at is not quoted ---------------------------------------------
def _network(city_dict, nodes, edges):
    city_dict["geography"] = {"kind": "network", "nodes": nodes, "edges": edges}
    return city_dict


SECRET = "s3cr3t-token"
NODES = "id,x_km,y_km\na,1,1\nb,2,2\n"


@pytest.mark.parametrize(("nodes", "edges", "expected"), [
    (f"root:x:0:0:{SECRET}:/root:/bin/bash\n", "from,to\na,b\n",
     "line 1: expected a CSV file with the header id,x_km,y_km"),
    (f"id,x_km,y_km\na,1,1\nb,2,{SECRET}\n", "from,to\na,b\n",
     "line 3, column y_km: expected a finite number"),
    (NODES, f"from,to\na,{SECRET}\n", "line 2, column to: expected a node id"),
    (NODES, f"from,to,oneway\na,b,{SECRET}\n", "column oneway: expected true or false"),
    (f"id,x_km,y_km\na,1,1,{SECRET}\n", "from,to\na,b\n",
     "line 2: expected 3 fields as in the header, got 4"),
])
def test_errors_about_a_network_file_do_not_quote_it(city_dict, tmp_path, nodes, edges, expected):
    _write(tmp_path, nodes, "nodes.csv")
    _write(tmp_path, edges, "edges.csv")
    with pytest.raises(InputError) as info:
        scenarios.from_dict(_network(city_dict, "nodes.csv", "edges.csv"), base_dir=tmp_path)
    assert expected in info.value.message, info.value
    assert SECRET not in str(info.value) and "/bin/bash" not in str(info.value)


def test_a_binary_network_file_is_refused(city_dict, tmp_path):
    (tmp_path / "nodes.csv").write_bytes(b"\xff\xfe\x00" + SECRET.encode())
    _write(tmp_path, "from,to\na,b\n", "edges.csv")
    with pytest.raises(InputError, match="not UTF-8 text") as info:
        scenarios.from_dict(_network(city_dict, "nodes.csv", "edges.csv"), base_dir=tmp_path)
    assert SECRET not in str(info.value)


def test_a_good_network_file_still_loads(city_dict, tmp_path):
    _write(tmp_path, "id,x_km,y_km\na,1,1\nb,2,-4\n", "nodes.csv")
    _write(tmp_path, "from,to,length_km,speed_kmh,oneway\na,b,5.2,50,false\nb,a,,,true\n", "edges.csv")
    s = scenarios.from_dict(_network(city_dict, "nodes.csv", "edges.csv"), base_dir=tmp_path)
    assert [e.oneway for e in s.geography.edges] == [False, True]
    assert s.geography.edges[0].length_km == 5.2 and s.geography.edges[1].speed_kmh is None


# -- item 17: a scenario names registered policies and components, not code -----------------------------
@pytest.fixture
def marker_module(tmp_path, monkeypatch):
    """A module ``anjeon_marker_mod`` whose import writes a file; returns that file's path."""
    hit = tmp_path / "imported"
    _write(tmp_path, "import pathlib\n"
           f"pathlib.Path({str(hit)!r}).write_text('imported')\n"
           "from agents.policies.dispatch import Nearest as Policy\n"
           "from agents.components import Component\n"
           "class Part(Component):\n    pass\n", "anjeon_marker_mod.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "anjeon_marker_mod", raising=False)
    return hit


@pytest.fixture
def world(city_dict):
    return compile_world(scenarios.from_dict(city_dict))


def test_a_policy_naming_code_is_refused_without_importing(world, marker_module):
    with pytest.raises(InputError) as info:
        registry.resolve("anjeon_marker_mod:Policy", {}, world, source="city.yaml")
    assert info.value.path == "policy.dispatch"
    assert info.value.message.startswith("'anjeon_marker_mod:Policy' names code; a scenario may name "
                                         "registered policies only (district_first, nearest")
    assert "anjeon.policies" in info.value.message and info.value.message.endswith(
        "use --allow-code or the Python API")
    assert not marker_module.exists()
    assert "anjeon_marker_mod" not in sys.modules


def test_a_policy_naming_code_is_imported_when_allowed(world, marker_module):
    policy = registry.resolve("anjeon_marker_mod:Policy", {}, world, allow_code=True)
    assert callable(policy.select) and marker_module.exists()


def test_a_component_naming_code_is_refused_without_importing(marker_module):
    refused = "names code; a scenario may name registered components only"
    with pytest.raises(InputError, match=refused) as info:
        components.validate({"anjeon_marker_mod:Part": {}}, "city.yaml")
    assert info.value.path == "components.anjeon_marker_mod:Part"
    assert not marker_module.exists()
    [(_, cls, _, _)] = components.validate({"anjeon_marker_mod:Part": {}}, "city.yaml", allow_code=True)
    assert cls.__name__ == "Part" and marker_module.exists()


def _plugin(tmp_path, monkeypatch, group, name, value):
    dist = tmp_path / "anjeon_test_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: anjeon-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{group}]\n{name} = {value}\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_an_installed_plugin_policy_is_a_registered_name(world, tmp_path, monkeypatch, marker_module):
    _plugin(tmp_path, monkeypatch, "anjeon.policies", "marker_nearest", "anjeon_marker_mod:Policy")
    monkeypatch.delitem(registry.REGISTRY, "marker_nearest", raising=False)
    with pytest.raises(InputError, match="district_first, marker_nearest, nearest"):
        registry.resolve("pkg:Nope", {}, world)
    policy = registry.resolve("marker_nearest", {}, world)       # from a scenario: no flag needed
    assert callable(policy.select) and marker_module.exists()
    monkeypatch.delitem(registry.REGISTRY, "marker_nearest")


def test_an_installed_plugin_component_is_a_registered_name(tmp_path, monkeypatch, marker_module):
    _plugin(tmp_path, monkeypatch, "anjeon.components", "marker_part", "anjeon_marker_mod:Part")
    monkeypatch.delitem(components.REGISTRY, "marker_part", raising=False)
    [(name, cls, _, _)] = components.validate({"marker_part": {}}, "city.yaml")
    assert (name, cls.__name__) == ("marker_part", "Part")
    monkeypatch.delitem(components.REGISTRY, "marker_part")


def test_a_broken_plugin_is_one_line(world, tmp_path, monkeypatch):
    _plugin(tmp_path, monkeypatch, "anjeon.policies", "broken", "anjeon_no_such_module:X")
    with pytest.raises(InputError, match="cannot load dispatch policy plug-in 'broken'") as info:
        registry.resolve("broken", {}, world, source="city.yaml")
    assert info.value.path == "policy.dispatch"


def test_the_safe_loader_is_pure_data(tmp_path):
    with pytest.raises(yaml.YAMLError):
        safeyaml.load_text("x: !!python/object/apply:os.system ['true']\n")


def test_a_deeply_nested_dict_is_refused_naming_where(city_dict):
    """A dict built in Python (not a file) nesting past the limit: one InputError, no RecursionError."""
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    city_dict["policy"] = {"dispatch": "nearest", "params": {"weights": deep}}
    with pytest.raises(InputError, match="nesting is deeper than") as err:
        scenarios.from_dict(city_dict)
    assert err.value.path.startswith("policy.params.weights[0]")

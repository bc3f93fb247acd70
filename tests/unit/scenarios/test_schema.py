"""Scenario schema: valid variants are accepted with their meaning; a few invalid ones name their field."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import scenarios
from scenarios.distributions import (
    Constant,
    Empirical,
    Exponential,
    Gamma,
    LogNormal,
    TruncatedNormal,
    Uniform,
)
from scenarios.geography import Coordinates, GridRoads, Matrix, NetworkRoads, RingRadialRoads
from sim.errors import InputError
from sim.world import compile_world


def _load(d):
    return scenarios.from_dict(d)


def _matrix(d):
    d["geography"] = {"kind": "matrix", "places": ["p", "q", "r"],
                      "travel_min": [[0, "5 min", 9], [5, 0, 4], [9, 4, 0]]}
    d["districts"]["North"] = {"population": 12000, "zones": {"p": 1, "q": 2}}
    d["districts"]["South"] = {"population": 24000, "zones": {"r": 1}}
    d["stations"] = {"N1": {"district": "North", "location": "p"},
                     "S1": {"district": "South", "location": "r"}}
    d["hospitals"] = {"H": {"location": "q"}}
    return d


def test_the_base_city_is_valid(city_dict):
    s = _load(city_dict)
    assert s.name == "unit_city" and s.schema_version == 1 and s.seed == 5
    assert s.time.horizon == 7 * 1440.0 and s.time.warmup == 0.0
    assert s.time.start == dt.datetime(2026, 1, 5)
    assert list(s.districts) == ["North", "South"]
    assert s.capabilities("brigade") == ["engine", "hazmat"]
    assert s.capabilities("amb") == ["amb"]                              # defaults to its own name
    assert s.unit_types["engine"].turnout == 1.5
    assert not s.uses_places


# ---- geography kinds ------------------------------------------------------------------------
GRID = {"kind": "grid", "origin_km": [0, -6], "size_km": [6, 10], "spacing_km": 0.5, "speed_kmh": 30,
        "arterial_every": 4, "arterial_speed_kmh": 50}
RING = {"kind": "ring_radial", "centre_km": [2, -1], "rings": 6, "ring_spacing_km": 1, "radials": 8,
        "ring_speed_kmh": 30, "radial_speed_kmh": 50, "clip_to_districts": False}
NETWORK = {
    "kind": "network",
    "nodes": [{"id": "a", "x_km": 2, "y_km": 2}, {"id": "b", "x_km": 1, "y_km": -4},
              {"id": "c", "x_km": 2, "y_km": 0.5}],
    "edges": [{"from": "a", "to": "c"}, {"from": "c", "to": "b", "speed_kmh": 60},
              {"from": "b", "to": "a", "length_km": 9, "oneway": True}],
}


@pytest.mark.parametrize(
    ("geography", "cls"),
    [(GRID, GridRoads), (RING, RingRadialRoads), (NETWORK, NetworkRoads),
     ({"kind": "coordinates", "metric": "manhattan", "speed_kmh": 35, "detour_factor": 1.2}, Coordinates)],
    ids=["grid", "ring_radial", "network", "coordinates"],
)
def test_each_plane_geography_is_accepted_and_compiles(city_dict, geography, cls):
    city_dict["geography"] = geography
    s = _load(city_dict)
    assert isinstance(s.geography, cls)
    w = compile_world(s)
    assert w.geo.time(int(w.station_loc[0]), int(w.hospital_loc[0])) >= 0
    assert w.info["geography"] == geography["kind"]


def test_grid_and_ring_defaults(city_dict):
    city_dict["geography"] = {k: v for k, v in GRID.items()
                              if k not in ("arterial_every", "arterial_speed_kmh")}
    g = _load(city_dict).geography
    assert g.arterial_every == 0 and g.arterial_speed_kmh is None and g.clip_to_districts and g.links == []
    city_dict["geography"] = {k: v for k, v in RING.items() if k != "clip_to_districts"}
    g = _load(city_dict).geography
    assert g.ring_nodes_per_segment == 4 and not g.clip_to_districts


def test_network_fields_and_aliases(city_dict):
    city_dict["geography"] = NETWORK
    g = _load(city_dict).geography
    assert [n.id for n in g.nodes] == ["a", "b", "c"]
    last = g.edges[2]
    assert (last.from_id, last.to_id, last.oneway, last.length_km) == ("b", "a", True, 9)
    assert g.edges[0].speed_kmh is None and g.default_speed_kmh == 40.0


def test_network_from_csv_files_beside_the_scenario(city_dict, tmp_path):
    import yaml

    (tmp_path / "nodes.csv").write_text("id,x_km,y_km\na,2,2\nb,1,-4\nc,2,0.5\n", encoding="utf-8")
    (tmp_path / "edges.csv").write_text("from,to,length_km,speed_kmh,oneway\na,c,,,\nc,b,,60,\nb,a,9,,true\n",
                                        encoding="utf-8")
    city_dict["geography"] = {"kind": "network", "nodes": "nodes.csv", "edges": "edges.csv"}
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(city_dict, sort_keys=False), encoding="utf-8")
    from_csv = scenarios.load(path).geography
    city_dict["geography"] = NETWORK
    inline = _load(city_dict).geography
    assert from_csv == inline
    assert scenarios.source_of(scenarios.load(path)) == str(path)


def test_matrix_geography_with_places(city_dict):
    s = _load(_matrix(city_dict))
    assert isinstance(s.geography, Matrix) and s.uses_places
    assert s.geography.travel_min[0][1] == 5.0                           # durations inside the matrix
    assert s.stations["N1"].location == "p"
    assert s.districts["North"].zones == {"p": 1.0, "q": 2.0}
    assert compile_world(s).geo.time(0, 2) == 9.0


def test_links_accept_from_to_aliases(city_dict):
    city_dict["geography"] = {**GRID, "links": [{"from": [0, 0], "to": [1, -2], "speed_kmh": 70,
                                                 "label": "bridge"}]}
    link = _load(city_dict).geography.links[0]
    assert link.from_km == (0.0, 0.0) and link.to_km == (1.0, -2.0) and link.length_km is None


# ---- distributions ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "cls", "mean"),
    [
        (45, Constant, 45.0),
        ("1 h 15 min", Constant, 75.0),
        (2.5, Constant, 2.5),
        ({"dist": "constant", "value": "30 s"}, Constant, 0.5),
        ({"dist": "exponential", "mean": "20 min"}, Exponential, 20.0),
        ({"dist": "lognormal", "mean": 30, "sd": 10}, LogNormal, 30.0),
        ({"dist": "gamma", "mean": "1 h", "sd": "20 min"}, Gamma, 60.0),
        ({"dist": "truncated_normal", "mean": 10, "sd": 5, "low": 10, "high": None}, TruncatedNormal,
         10.0 + 5.0 * np.sqrt(2 / np.pi)),
        ({"dist": "uniform", "low": "5 min", "high": "15 min"}, Uniform, 10.0),
        ({"dist": "uniform", "low": 7, "high": 7}, Uniform, 7.0),
        ({"dist": "empirical", "values": [10, "20 min", 60]}, Empirical, 30.0),
        ({"dist": "empirical", "values": [10, 20, 60], "weights": [2, 1, 0]}, Empirical, 40.0 / 3.0),
    ],
)
def test_each_distribution_kind_as_on_scene(city_dict, spec, cls, mean):
    city_dict["incident_types"]["fire"]["on_scene"] = spec
    dist = _load(city_dict).incident_types["fire"].on_scene
    assert isinstance(dist, cls)
    assert dist.mean_min == pytest.approx(mean)


@pytest.mark.parametrize("field", ["answer", "processing", "patience"])
@pytest.mark.parametrize("spec", ["90 s", 1.5, {"dist": "constant", "value": 1.5}])
def test_dispatch_centre_distributions_accept_the_shorthand(city_dict, field, spec):
    """A bare duration is shorthand for a constant everywhere a distribution is expected."""
    city_dict["dispatch_centre"] = {field: spec, "call_takers": 2}
    dist = getattr(_load(city_dict).dispatch_centre, field)
    assert isinstance(dist, Constant) and dist.value == 1.5


def test_handover_shorthand_and_defaults(city_dict):
    city_dict["incident_types"]["medical"]["handover"] = "12 min"
    s = _load(city_dict)
    assert s.incident_types["medical"].handover == Constant(value=12.0)
    assert s.incident_types["fire"].handover.mean_min == 0.0
    assert s.dispatch_centre.patience is None and s.dispatch_centre.call_takers is None


# ---- priorities and targets -----------------------------------------------------------------
def test_priority_mix_and_targets(city_dict):
    s = _load(city_dict)
    med, fire, chem = (s.incident_types[k] for k in ("medical", "fire", "chem"))
    assert med.priority_mix == {1: 0.25, 2: 0.75}
    assert (med.target_min(1), med.target_min(2)) == (8.0, 15.0)       # dict of targets
    assert fire.target_min(1) == 10.0                                   # one target for all
    assert [chem.target_min(p) for p in (1, 2, 3)] == [12.0, 12.0, 12.0]
    assert chem.max_queue == 120.0


def test_priority_mix_sum_tolerance(city_dict):
    city_dict["incident_types"]["chem"]["priority_mix"] = {1: 0.1, 2: 0.2, 3: 0.7000001}
    assert _load(city_dict).incident_types["chem"].priority_mix[3] == pytest.approx(0.7000001)


# ---- rejections that name their field ----------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("incident_types", "chem", "priority_mix"), {1: 0.5, 2: 0.3}, "incident_types.chem.priority_mix"),
        (("incident_types", "medical", "target_response"), {1: 8}, "incident_types.medical"),
        (("incident_types", "fire", "on_scene"), {"dist": "weibull", "mean": 3},
         "incident_types.fire.on_scene"),
        (("incident_types", "fire", "on_scene"), {"dist": "uniform", "low": 5, "high": 4},
         "incident_types.fire.on_scene"),
        (("incident_types", "fire", "on_scene"), {"dist": "truncated_normal", "mean": 5, "sd": 1, "low": 6,
                                                  "high": 6}, "incident_types.fire.on_scene"),
        (("incident_types", "fire", "on_scene"), {"dist": "empirical", "values": [1, 2], "weights": [1]},
         "incident_types.fire.on_scene"),
        (("incident_types", "fire", "on_scene"), "-3 min", "incident_types.fire.on_scene"),
        (("incident_types", "fire", "on_scnee"), 4, "incident_types.fire.on_scnee"),
        (("stations", "N1", "district"), "Nowhere", "stations.N1.district"),
        (("time", "warmup"), "8 d", "time"),
    ],
)
def test_rejections_name_the_field(city_dict, path, value, where):
    node = city_dict
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(InputError) as err:
        _load(city_dict)
    assert err.value.path is not None and err.value.path.startswith(where), err.value.one_line()


def test_typo_gets_a_did_you_mean_hint(city_dict):
    city_dict["incident_types"]["fire"]["on_scnee"] = city_dict["incident_types"]["fire"].pop("on_scene")
    with pytest.raises(InputError, match="did you mean 'on_scene'"):
        _load(city_dict)


def test_zero_area_district_is_an_input_error(city_dict):
    """Incidents are placed by rejection sampling inside the boundary: a boundary without area must fail
    at load (or compile) time, not later in a run (where sampling would never finish)."""
    city_dict["districts"]["North"]["boundary"] = [[0, 0], [1, 1], [2, 2]]
    with pytest.raises(InputError):
        compile_world(_load(city_dict))

"""Issue #10 sections: call lines, call centres, outages, road changes, unit availability, components.

Valid sections compile to the World fields they mean (and a scenario without
them to one centre built from ``dispatch_centre``); every bad reference fails
with its field path.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.testing as npt
import pytest

import scenarios
from scenarios.distributions import Constant, Exponential
from sim.errors import InputError
from sim.world import Outage, RoadChange, UnitOutage, compile_world

GRID = {"kind": "grid", "origin_km": [0, -6], "size_km": [6, 10], "spacing_km": 0.5, "speed_kmh": 30}
NETWORK = {
    "kind": "network",
    "nodes": [{"id": "a", "x_km": 2, "y_km": 2}, {"id": "b", "x_km": 1, "y_km": -4},
              {"id": "c", "x_km": 2, "y_km": 0.5}],
    "edges": [{"from": "a", "to": "c"}, {"from": "c", "to": "b", "speed_kmh": 60},
              {"from": "b", "to": "a", "length_km": 9, "oneway": True}],
}
NEW_SECTIONS = ("lines", "call_centres", "outages", "road_changes", "unit_availability", "components")


def _world(d):
    return compile_world(scenarios.from_dict(d))


def _two_centres(d):
    """119 and 120 lines, two centres that back each other up, an outage, a broken-down unit."""
    d["dispatch_centre"] = {"call_takers": 3, "answer": "30 s", "processing": "1 min",
                            "patience": {"dist": "exponential", "mean": "2 min"}}
    d["lines"] = {"119": {"label": "Fire, rescue and EMS"}, 120: {"label": "City call centre"}}
    d["incident_types"]["chem"]["line"] = 120
    d["incident_types"]["fire"]["line"] = "119"
    d["call_centres"] = {
        "busan_119": {"lines": ["119"], "call_takers": 12, "fallback": "busan_120"},
        "busan_120": {"lines": ["120", "119"], "call_takers_by_hour": [0] * 8 + [4] * 12 + [1] * 4,
                      "answer": {"dist": "exponential", "mean": "20 s"}, "patience": None,
                      "fallback": "busan_119", "manual_factor": 2.5, "label": "city"},
    }
    d["outages"] = [{"centre": "busan_119", "start": "18 h", "end": "20 h", "held_calls": "lose",
                     "label": "fibre cut"},
                    {"centre": "busan_120", "start": 0, "end": "1 d"}]
    d["unit_availability"] = [{"unit": "S1/amb/2", "start": "2 h", "end": "6 h", "reason": "breakdown"},
                              {"unit": "N1/engine/1", "start": "3 d"}]
    d["components"] = {"move_up": {"every": "15 min", "stations": ["N1"]}, "empty": {}}
    return d


# ---- the default: one centre from dispatch_centre ----------------------------------------------------
def test_without_sections_one_centre_serves_the_one_line(city_dict):
    city_dict["dispatch_centre"] = {"call_takers": 4, "answer": "45 s",
                                    "patience": {"dist": "exponential", "mean": 3}}
    s = scenarios.from_dict(city_dict)
    w = compile_world(s)
    assert w.line_names == ("119",) and w.centre_names == ("dispatch",)
    npt.assert_array_equal(w.type_line, [0, 0, 0])
    assert w.type_line.dtype == np.int64
    npt.assert_array_equal(w.centre_lines, [[True]])
    npt.assert_array_equal(w.line_centre, [0])
    npt.assert_array_equal(w.centre_call_takers, [4])
    assert w.centre_takers_by_hour == (None,)
    assert w.centre_answer == (Constant(value=0.75),) and w.centre_processing == (Constant(value=0.0),)
    assert w.centre_patience == (Exponential(dist="exponential", mean=3.0),)
    npt.assert_array_equal(w.centre_fallback, [-1])
    npt.assert_array_equal(w.centre_manual_factor, [1.0])
    assert (w.outages, w.road_changes, w.unit_outages, w.components) == ((), (), (), {})
    assert (w.call_takers, w.answer, w.processing, w.patience) == (
        4, w.centre_answer[0], w.centre_processing[0], w.centre_patience[0])


def test_without_sections_the_dump_and_hash_are_unchanged(city_dict):
    """Sections left out are not dumped: today's scenarios keep their scenario_hash."""
    s = scenarios.from_dict(city_dict)
    dumped = s.model_dump(mode="json", by_alias=True)
    assert not set(NEW_SECTIONS) & set(dumped)
    assert all("line" not in t for t in dumped["incident_types"].values())


def test_unlimited_call_takers_compile_to_zero(city_dict):
    w = _world(city_dict)
    npt.assert_array_equal(w.centre_call_takers, [0])
    assert w.call_takers == 0 and w.centre_patience == (None,)


# ---- lines and centres -------------------------------------------------------------------------------
def test_lines_and_centres_compile(city_dict):
    w = _world(_two_centres(city_dict))
    assert w.line_names == ("119", "120")                             # an unquoted 120 is the line "120"
    assert w.type_names == ("medical", "fire", "chem")
    npt.assert_array_equal(w.type_line, [0, 0, 1])                   # medical: the first line declared
    assert w.centre_names == ("busan_119", "busan_120")
    npt.assert_array_equal(w.centre_lines, [[True, False], [True, True]])
    npt.assert_array_equal(w.line_centre, [0, 1])                    # the first centre serving each line
    npt.assert_array_equal(w.centre_call_takers, [12, 0])
    assert w.centre_takers_by_hour[0] is None
    npt.assert_array_equal(w.centre_takers_by_hour[1], [0] * 8 + [4] * 12 + [1] * 4)
    assert w.centre_takers_by_hour[1].dtype == np.int64
    npt.assert_array_equal(w.centre_fallback, [1, 0])
    npt.assert_array_equal(w.centre_manual_factor, [1.0, 2.5])


def test_dispatch_centre_times_flow_into_centres_that_leave_them_out(city_dict):
    w = _world(_two_centres(city_dict))
    assert w.centre_answer == (Constant(value=0.5), Exponential(dist="exponential", mean=20 / 60))
    assert w.centre_processing == (Constant(value=1.0), Constant(value=1.0))
    assert w.centre_patience == (Exponential(dist="exponential", mean=2.0), None)   # explicit null: never
    # the demand generator reads centre 0's
    assert (w.call_takers, w.answer, w.processing, w.patience) == (
        12, Constant(value=0.5), Constant(value=1.0), Exponential(dist="exponential", mean=2.0))


def test_outages_unit_outages_and_components(city_dict):
    w = _world(_two_centres(city_dict))
    assert [(o.centre, o.start_min, o.end_min, o.held_calls, o.label) for o in w.outages] == [
        (0, 1080.0, 1200.0, "lose", "fibre cut"), (1, 0.0, 1440.0, "transfer", "")]
    assert all(isinstance(o, Outage) for o in w.outages)
    assert w.unit_names[4] == "S1/amb/2" and w.unit_names[0] == "N1/engine/1"
    assert w.unit_outages == (UnitOutage(4, 120.0, 360.0, "breakdown"),
                              UnitOutage(0, 4320.0, math.inf, "out of service"))
    assert w.components == {"move_up": {"every": "15 min", "stations": ["N1"]}, "empty": {}}


def test_sections_survive_a_dump_and_reload(city_dict):
    """override() goes through model_dump: a left-out patience must stay the dispatch centre's."""
    s = scenarios.from_dict(_two_centres(city_dict))
    again = scenarios.override(s, {"seed": 9})
    assert again.call_centres == s.call_centres and again.outages == s.outages
    assert again.call_centres["busan_119"].inherits_patience()
    assert not again.call_centres["busan_120"].inherits_patience()
    w, w2 = compile_world(s), compile_world(again)
    assert w2.centre_patience == w.centre_patience and w2.unit_outages == w.unit_outages
    assert scenarios.scenario_hash(again) != scenarios.scenario_hash(scenarios.from_dict(city_dict))


def test_an_outage_of_the_default_centre(city_dict):
    city_dict["outages"] = [{"centre": "dispatch", "start": "1 h", "end": "2 h"}]
    assert _world(city_dict).outages == (Outage(0, 60.0, 120.0, "transfer", ""),)


# ---- road changes ------------------------------------------------------------------------------------
def _links(w, change: RoadChange) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    xy = w.geo.net.xy
    return [(tuple(xy[u]), tuple(xy[v])) for u, v in zip(change.tail, change.head, strict=True)]


def test_a_closed_link_both_ways_and_one_way(city_dict):
    city_dict["geography"] = GRID
    city_dict["road_changes"] = [
        {"at": "1 h", "until": "3 h", "link": {"from": [1.1, 1.0], "to": [1.4, 0.9]}, "label": "crash"},
        {"at": "2 h", "link": {"from": [2, 2], "to": [2, 2.5], "both_ways": False}, "factor": 0.5},
    ]
    w = _world(city_dict)
    first, second = w.road_changes
    assert (first.at_min, first.until_min, first.factor, first.label) == (60.0, 180.0, 0.0, "crash")
    assert _links(w, first) == [((1.0, 1.0), (1.5, 1.0)), ((1.5, 1.0), (1.0, 1.0))]
    assert first.tail.dtype == np.int64 and first.head.dtype == np.int64
    assert (second.until_min, second.factor) == (math.inf, 0.5)
    assert _links(w, second) == [((2.0, 2.0), (2.0, 2.5))]


def test_an_area_takes_every_link_touching_it(city_dict):
    city_dict["geography"] = GRID
    city_dict["road_changes"] = [{"at": 0, "area": {"centre": [2, 2], "radius_km": 0.5}, "factor": 0.25}]
    w = _world(city_dict)
    (change,) = w.road_changes
    near = {(2.0, 2.0), (1.5, 2.0), (2.5, 2.0), (2.0, 1.5), (2.0, 2.5)}
    links = _links(w, change)
    assert all(a in near or b in near for a, b in links)
    graph = w.geo.net.graph.tocoo()
    expected = sum(tuple(w.geo.net.xy[u]) in near or tuple(w.geo.net.xy[v]) in near
                   for u, v in zip(graph.row, graph.col, strict=True))
    assert len(links) == len(set(links)) == expected == 5 * 4 * 2 - 4 * 2   # 4 spokes counted once each way


def test_network_node_ids(city_dict):
    city_dict["geography"] = NETWORK
    city_dict["road_changes"] = [{"at": 0, "link": {"from": "b", "to": "a", "both_ways": False}},
                                 {"at": 0, "link": {"from": "c", "to": [1, -4]}}]
    w = _world(city_dict)
    one_way, both = w.road_changes
    npt.assert_array_equal(one_way.tail, [1])
    npt.assert_array_equal(one_way.head, [0])
    npt.assert_array_equal(both.tail, [2, 1])
    npt.assert_array_equal(both.head, [1, 2])


@pytest.mark.parametrize(
    ("geography", "change", "path", "fragment"),
    [
        (GRID, {"link": {"from": [1, 1], "to": [2, 2]}}, "road_changes[0].link",
         "no road runs from [1, 1] to [2, 2]"),
        (GRID, {"link": {"from": [1, 1], "to": [1.1, 1.1]}}, "road_changes[0].link",
         "no road runs from [1, 1] to [1.1, 1.1] (road node at [1, 1])"),
        (NETWORK, {"link": {"from": "b", "to": "a"}}, "road_changes[0].link", "no road runs from 'a' to 'b'"),
        (GRID, {"area": {"centre": [50, 50], "radius_km": 1.5}}, "road_changes[0].area",
         "no road within 1.5 km of [50, 50]"),
    ],
    ids=["not_adjacent", "same_node", "one_way_back", "empty_area"],
)
def test_road_changes_that_hit_no_road(city_dict, geography, change, path, fragment):
    city_dict["geography"] = geography
    city_dict["road_changes"] = [{"at": "1 h", **change}]
    s = scenarios.from_dict(city_dict)
    with pytest.raises(InputError) as err:
        compile_world(s)
    assert err.value.path == path and fragment in err.value.message, err.value.one_line()


# ---- rejections that name their field ----------------------------------------------------------------
def _set(d, dotted: str, value):
    node = d
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value


@pytest.mark.parametrize(
    ("changes", "path", "fragment"),
    [
        ({"incident_types.fire.line": "112"}, "incident_types.fire.line", "unknown call line '112'"),
        ({"lines.112": {}}, "lines.112", "line '112' is served by no call centre"),
        ({"call_centres.busan_119.lines": ["119", "911"]}, "call_centres.busan_119.lines[1]",
         "unknown call line '911'"),
        ({"call_centres.busan_119.lines": []}, "call_centres.busan_119.lines", "at least 1"),
        ({"call_centres.busan_119.fallback": "busan_112"}, "call_centres.busan_119.fallback",
         "unknown call centre 'busan_112'"),
        ({"call_centres.busan_119.fallback": "busan_119"}, "call_centres.busan_119.fallback", "its own"),
        ({"call_centres.busan_119.call_takers": -2}, "call_centres.busan_119.call_takers", "greater than 0"),
        ({"call_centres.busan_119.call_takers_by_hour": [-1] + [2] * 23},
         "call_centres.busan_119.call_takers_by_hour[0]", "greater than or equal to 0"),
        ({"call_centres.busan_119.call_takers_by_hour": [2] * 23},
         "call_centres.busan_119.call_takers_by_hour", "at least 24"),
        ({"call_centres.busan_119.call_takers_by_hour": [0] * 24},
         "call_centres.busan_119.call_takers_by_hour", "no call-taker is on duty"),
        ({"call_centres.busan_119.manual_factor": 0}, "call_centres.busan_119.manual_factor",
         "greater than 0"),
        ({"call_centres.busan_119.call_taker": 3}, "call_centres.busan_119.call_taker",
         "did you mean 'call_takers'"),
        ({"lines": {}}, "lines", "at least 1"),
        ({"call_centres": {}}, "call_centres", "at least 1"),
        ({"outages": [{"centre": "busan_112", "start": 0, "end": 5}]}, "outages[0].centre",
         "unknown call centre 'busan_112'"),
        ({"outages": [{"centre": "busan_119", "start": "2 h", "end": "1 h"}]}, "outages[0]",
         "end (60 min) must come after start (120 min)"),
        ({"outages": [{"centre": "busan_119", "start": 0, "end": 5, "held_calls": "keep"}]},
         "outages[0].held_calls", "'transfer' or 'lose'"),
        ({"unit_availability": [{"unit": "N1/engine/3", "start": 0}]}, "unit_availability[0].unit",
         "unknown unit 'N1/engine/3'"),
        ({"unit_availability": [{"unit": "N1/amb/1", "start": "2 h", "end": "2 h"}]}, "unit_availability[0]",
         "end (120 min) must come after start (120 min)"),
        ({"road_changes": [{"at": 0, "area": {"centre": [1, 1], "radius_km": 1}}]}, "road_changes[0]",
         "need a road geography"),
        ({"components": {"move_up": 3}}, "components.move_up", "dictionary"),
    ],
)
def test_section_errors_name_their_field(city_dict, changes, path, fragment):
    city_dict["lines"] = {"119": {}}
    city_dict["call_centres"] = {"busan_119": {"lines": ["119"]}}
    for dotted, value in changes.items():
        _set(city_dict, dotted, value)
    with pytest.raises(InputError) as err:
        scenarios.from_dict(city_dict)
    assert err.value.path == path and fragment in err.value.message, err.value.one_line()


@pytest.mark.parametrize(
    ("geography", "change", "path", "fragment"),
    [
        (GRID, {"link": {"from": "a", "to": [1, 1]}}, "road_changes[0].link.from", "need network geography"),
        (NETWORK, {"link": {"from": "a", "to": "z"}}, "road_changes[0].link.to", "unknown road node 'z'"),
        (GRID, {"link": {"from": [1, 1], "to": [1.5, 1]}, "area": {"centre": [1, 1], "radius_km": 1}},
         "road_changes[0]", "exactly one of link or area"),
        (GRID, {}, "road_changes[0]", "exactly one of link or area"),
        (GRID, {"area": {"centre": [1, 1], "radius_km": 1}, "factor": 1.0}, "road_changes[0].factor",
         "less than 1"),
        (GRID, {"area": {"centre": [1, 1], "radius_km": 1}, "until": "30 min"}, "road_changes[0]",
         "until (30 min) must come after at (60 min)"),
        (GRID, {"area": {"centre": [1, 1], "radius_km": 0}}, "road_changes[0].area.radius_km",
         "greater than 0"),
    ],
)
def test_road_change_errors_name_their_field(city_dict, geography, change, path, fragment):
    city_dict["geography"] = geography
    city_dict["road_changes"] = [{"at": "1 h", **change}]
    with pytest.raises(InputError) as err:
        scenarios.from_dict(city_dict)
    assert err.value.path == path and fragment in err.value.message, err.value.one_line()


def test_a_long_unit_list_suggests_the_closest_name(city_dict):
    city_dict["fleets"]["N1"]["engine"] = 12
    city_dict["unit_availability"] = [{"unit": "N1/engnie/4", "start": 0}]
    with pytest.raises(InputError, match=r"did you mean 'N1/engine/4'\?"):
        scenarios.from_dict(city_dict)
    city_dict["unit_availability"] = [{"unit": "ambulance 7", "start": 0}]
    with pytest.raises(InputError, match=r"expected station/unit type/number, such as 'N1/engine/1'"):
        scenarios.from_dict(city_dict)


def test_overlapping_windows_are_refused(city_dict):
    """Two outages of one centre, or two availability windows of one unit, that overlap: one line each."""
    d = {**city_dict, "outages": [{"centre": "dispatch", "start": "1 h", "end": "3 h"},
                                  {"centre": "dispatch", "start": "2 h", "end": "4 h"}]}
    with pytest.raises(InputError) as err:
        scenarios.from_dict(d)
    assert err.value.path == "outages[1]" and "overlaps outages[0]" in err.value.message
    d = {**city_dict, "outages": [{"centre": "dispatch", "start": "1 h", "end": "2 h"},
                                  {"centre": "dispatch", "start": "2 h", "end": "4 h"}]}
    assert len(_world(d).outages) == 2  # back to back is fine
    d = {**city_dict, "unit_availability": [{"unit": "S1/amb/2", "start": "1 h", "end": "3 h"},
                                            {"unit": "S1/amb/2", "start": "2 h"}]}
    with pytest.raises(InputError) as err:
        scenarios.from_dict(d)
    assert err.value.path == "unit_availability[1]" and "overlaps unit_availability[0]" in err.value.message

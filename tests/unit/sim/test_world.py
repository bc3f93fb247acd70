"""World compilation: unit and type arrays from the scenario, piecewise-constant demand rates by hand."""

from __future__ import annotations

import copy

import numpy as np
import numpy.testing as npt
import pytest

import scenarios
from sim.errors import InputError
from sim.geo import MatrixGeo, PlaneGeo, RoadGeo
from sim.world import compile_world

# Base rates per hour of the conftest city: rows North, South; columns medical, fire, chem.
BASE_PER_HR = np.array([[1.0, 0.25, 0.0], [2.0, 0.0, 0.1]])
HOURS = 7 * 24


def _world(d):
    return compile_world(scenarios.from_dict(d))


def _rate_per_hr(world, t_min: float) -> np.ndarray:
    """Rates (per hour) in force at minute ``t_min``, [district, type]."""
    b = int(np.searchsorted(world.bin_edges, t_min, side="right")) - 1
    return world.rates[b] * 60.0


# ---- units, stations, types ---------------------------------------------------------------
def test_unit_arrays_follow_fleets_in_order(city_dict):
    w = _world(city_dict)
    assert w.unit_names == ("N1/engine/1", "N1/engine/2", "N1/amb/1", "S1/amb/1", "S1/amb/2",
                            "S1/brigade/1")
    assert w.n_units == 6
    assert w.unit_type_names == ("engine", "amb", "brigade")
    assert w.capability_names == ("engine", "amb", "hazmat")
    npt.assert_array_equal(w.unit_type, [0, 0, 1, 1, 1, 2])
    npt.assert_array_equal(w.unit_station, [0, 0, 0, 1, 1, 1])
    npt.assert_array_equal(w.unit_district, [0, 0, 0, 1, 1, 1])
    npt.assert_array_equal(w.unit_tier, [1, 1, 1, 0, 0, 0])              # N1 district tier, S1 city
    npt.assert_array_equal(w.unit_caps, [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 1]])
    npt.assert_array_equal(w.unit_speed, [1.0, 1.0, 1.25, 1.25, 1.25, 0.9])
    npt.assert_array_equal(w.unit_turnout, [1.5, 1.5, 1.0, 1.0, 1.0, 0.0])
    npt.assert_array_equal(w.unit_transports, [0, 0, 1, 1, 1, 0])


def test_empty_fleet_entries_make_no_units(city_dict):
    city_dict["fleets"]["N1"]["engine"] = 0
    w = _world(city_dict)
    assert w.unit_names == ("N1/amb/1", "S1/amb/1", "S1/amb/2", "S1/brigade/1")
    npt.assert_array_equal(w.unit_type, [1, 1, 1, 2])


def test_districts_stations_hospitals(city_dict):
    w = _world(city_dict)
    assert w.district_names == ("North", "South")
    npt.assert_array_equal(w.district_population, [12000, 24000])
    npt.assert_array_equal(w.district_neighbours, [[False, True], [True, False]])
    assert w.station_names == ("N1", "S1")
    npt.assert_array_equal(w.station_district, [0, 1])
    npt.assert_array_equal(w.station_tier, [1, 0])
    assert isinstance(w.geo, PlaneGeo)
    npt.assert_array_equal(w.geo.xy(w.station_loc), [[2.0, 2.0], [1.0, -4.0]])
    npt.assert_array_equal(w.geo.xy(w.hospital_loc), [[2.0, 0.5]])
    npt.assert_array_equal(w.hospital_capacity, [2])
    assert w.horizon_min == 7 * 1440.0 and w.warmup_min == 0.0
    assert w.info == {"geography": "coordinates"}


def test_incident_type_arrays(city_dict):
    w = _world(city_dict)
    assert w.type_names == ("medical", "fire", "chem")
    npt.assert_array_equal(w.type_priority_values, [[1, 2, 0], [1, 0, 0], [1, 2, 3]])
    npt.assert_allclose(w.type_priority_weights, [[0.25, 0.75, 0], [1, 0, 0], [0.5, 0.3, 0.2]])
    assert w.type_target == {(0, 1): 8.0, (0, 2): 15.0, (1, 1): 10.0, (2, 1): 12.0, (2, 2): 12.0,
                             (2, 3): 12.0}
    npt.assert_array_equal(w.type_required, [[0, 1, 0], [2, 1, 0], [0, 0, 1]])
    npt.assert_array_equal(w.type_transport_p, [0.6, 0.0, 0.0])
    npt.assert_array_equal(w.type_max_queue, [np.inf, np.inf, 120.0])
    assert w.type_on_scene[1].mean_min == 45.0
    assert w.type_handover[0].mean_min == 15.0 and w.type_handover[1].mean_min == 0.0


# ---- demand -------------------------------------------------------------------------------
def test_flat_rates_integrate_to_population_and_fixed_rates(city_dict):
    w = _world(city_dict)
    npt.assert_allclose(w.bin_edges, np.arange(HOURS + 1) * 60.0)
    assert w.rates.shape == (HOURS, 2, 3)
    npt.assert_allclose(w.rates, np.broadcast_to(BASE_PER_HR / 60.0, w.rates.shape), rtol=1e-12)
    npt.assert_allclose(w.expected_counts(), BASE_PER_HR * HOURS, rtol=1e-12)
    # per_1000_per_day * population / 1000 over 7 days
    assert w.expected_counts()[1, 0] == pytest.approx(2.0 * 24000 / 1000 * 7)


def test_scale_multiplies_every_rate(city_dict):
    city_dict["demand"]["scale"] = 2.5
    npt.assert_allclose(_world(city_dict).expected_counts(), 2.5 * BASE_PER_HR * HOURS, rtol=1e-12)


def test_profiles_are_normalised_to_mean_one(city_dict):
    tod = [1.0] * 12 + [3.0] * 12                       # mean 2: hours 0-11 x0.5, 12-23 x1.5
    dow = [2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]           # mean 1; no calls on Sunday
    city_dict["demand"]["profile"] = {"time_of_day": tod, "day_of_week": dow}
    w = _world(city_dict)
    npt.assert_allclose(_rate_per_hr(w, 13 * 60 + 5), BASE_PER_HR * 1.5 * 2.0)     # Monday 13:05
    npt.assert_allclose(_rate_per_hr(w, 1440 + 3 * 60), BASE_PER_HR * 0.5 * 1.0)   # Tuesday 03:00
    npt.assert_allclose(_rate_per_hr(w, 6 * 1440 + 600), 0.0)                     # Sunday
    # over whole weeks the profile leaves the mean rate unchanged
    npt.assert_allclose(w.expected_counts(), BASE_PER_HR * HOURS, rtol=1e-12)


def test_type_profile_replaces_only_its_own_part(city_dict):
    tod = [0.0] * 6 + [2.0] * 12 + [0.0] * 6            # mean 1
    city_dict["demand"]["profile"] = {"day_of_week": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 4.0]}  # mean 10/7
    city_dict["demand"]["profiles"] = {"fire": {"time_of_day": tod}}
    w = _world(city_dict)
    monday_2am, monday_noon, sunday_noon = 120.0, 720.0, 6 * 1440.0 + 720.0
    dow_monday, dow_sunday = 0.7, 2.8
    npt.assert_allclose(_rate_per_hr(w, monday_2am), BASE_PER_HR * [[dow_monday, 0.0, dow_monday]])
    npt.assert_allclose(_rate_per_hr(w, monday_noon), BASE_PER_HR * [[dow_monday, 2 * dow_monday,
                                                                      dow_monday]])
    npt.assert_allclose(_rate_per_hr(w, sunday_noon), BASE_PER_HR * [[dow_sunday, 2 * dow_sunday,
                                                                      dow_sunday]])
    npt.assert_allclose(w.expected_counts(), BASE_PER_HR * HOURS, rtol=1e-12)


def test_start_time_aligns_bins_to_clock_hours(city_dict):
    city_dict["time"]["start"] = "2026-01-05T06:30:00"
    city_dict["time"]["horizon"] = "3 h"
    city_dict["demand"]["profile"] = {"time_of_day": [float(h + 1) for h in range(24)]}   # mean 12.5
    w = _world(city_dict)
    npt.assert_allclose(w.bin_edges, [0.0, 30.0, 90.0, 150.0, 180.0])
    for t, hour in [(0.0, 6), (29.0, 6), (30.0, 7), (100.0, 8), (179.0, 9)]:
        npt.assert_allclose(_rate_per_hr(w, t), BASE_PER_HR * (hour + 1) / 12.5)
    npt.assert_allclose(w.expected_counts(), BASE_PER_HR * (0.5 * 7 + 8 + 9 + 0.5 * 10) / 12.5)


def test_surge_multiplies_only_its_window_districts_and_types(city_dict):
    plain = _world(copy.deepcopy(city_dict))
    city_dict["demand"]["surges"] = [{"start": "2 h 30 min", "end": "5 h", "multiplier": 3.0,
                                      "districts": ["South"], "incident_types": ["medical", "chem"]}]
    w = _world(city_dict)
    assert 150.0 in w.bin_edges and 300.0 in w.bin_edges
    for t in np.arange(0.0, 8 * 60.0, 7.5):
        factor = np.ones((2, 3))
        if 150.0 <= t < 300.0:
            factor[1, [0, 2]] = 3.0
        npt.assert_allclose(_rate_per_hr(w, t), _rate_per_hr(plain, t) * factor, err_msg=f"t={t}")
    extra = np.zeros((2, 3))
    extra[1, [0, 2]] = 2.0 * BASE_PER_HR[1, [0, 2]] * 2.5                    # 2.5 hours at 3x
    npt.assert_allclose(w.expected_counts(), plain.expected_counts() + extra, rtol=1e-12)


def test_surge_without_filters_hits_everything_and_zero_multiplier_silences(city_dict):
    city_dict["demand"]["surges"] = [{"start": 0, "end": "1 d", "multiplier": 0.0}]
    w = _world(city_dict)
    npt.assert_allclose(_rate_per_hr(w, 600.0), 0.0)
    npt.assert_allclose(_rate_per_hr(w, 1440.0), BASE_PER_HR)
    npt.assert_allclose(w.expected_counts(), BASE_PER_HR * (HOURS - 24), rtol=1e-12)


# ---- other geographies --------------------------------------------------------------------
def _grid_city(city_dict):
    city_dict["geography"] = {"kind": "grid", "origin_km": [0, -6], "size_km": [6, 10],
                              "spacing_km": 1, "speed_kmh": 30}
    return city_dict


@pytest.mark.nojit
def test_road_world_snaps_places_and_clips_to_districts(city_dict):
    city_dict["hospitals"]["H"]["location"] = [2.2, 1.4]
    w = _world(_grid_city(city_dict))
    assert isinstance(w.geo, RoadGeo)
    net = w.geo.net
    npt.assert_array_equal(net.xy[w.station_loc], [[2.0, 2.0], [1.0, -4.0]])
    npt.assert_array_equal(net.xy[w.hospital_loc], [[2.0, 1.0]])         # nearest node
    kept = {tuple(p) for p in net.xy.tolist()}
    for inside in [(2, 2), (1, 3), (1, -4), (5, -2), (4, -5)]:          # interior nodes of North / South
        assert (float(inside[0]), float(inside[1])) in kept
    for outside in [(1, -2), (2, -1), (6, 3), (5, 2)]:                  # the L's notch, east of North
        assert (float(outside[0]), float(outside[1])) not in kept
    assert w.info == {"geography": "grid", "road_nodes": net.n_nodes, "road_edges": net.n_edges}
    assert (net.row_index[w.station_loc] >= 0).all()                    # station rows computed up front
    assert (net.row_index[w.hospital_loc] >= 0).all()
    assert w.geo.time(w.station_loc[0], w.hospital_loc[0]) == pytest.approx(2.0)


def test_disconnected_district_is_an_input_error(city_dict):
    d = _grid_city(city_dict)
    d["districts"]["North"]["boundary"] = [[0, 1], [4, 1], [4, 4], [0, 4]]  # a gap at y in (-1, 1)
    d["stations"]["N1"]["location"] = [2, 2]
    d["hospitals"]["H"]["location"] = [2, 2]
    d["stations"].pop("S1")
    d["fleets"].pop("S1")
    d["fleets"]["N1"]["brigade"] = 1
    with pytest.raises(InputError) as err:
        _world(d)
    assert err.value.path == "districts.South"
    # a causeway fixes it
    d["geography"]["links"] = [{"from": [2, 1], "to": [2, -3], "speed_kmh": 60}]
    assert isinstance(_world(d).geo, RoadGeo)


def test_matrix_world_zones(city_dict):
    d = city_dict
    d["geography"] = {"kind": "matrix", "places": ["p", "q", "r"],
                      "travel_min": [[0, 5, 9], [5, 0, 4], [9, 4, 0]]}
    d["districts"]["North"] = {"population": 12000, "neighbours": ["South"], "zones": {"q": 1, "p": 3}}
    d["districts"]["South"] = {"population": 24000, "neighbours": ["North"], "zones": {"r": 1}}
    d["stations"] = {"N1": {"district": "North", "location": "p"},
                     "S1": {"district": "South", "location": "r"}}
    d["hospitals"] = {"H": {"location": "q"}}
    w = _world(d)
    assert isinstance(w.geo, MatrixGeo)
    npt.assert_array_equal(w.station_loc, [0, 2])
    npt.assert_array_equal(w.hospital_loc, [1])
    (locs_n, weights_n), (locs_s, _) = w.district_zones
    npt.assert_array_equal(locs_n, [1, 0])
    npt.assert_array_equal(weights_n, [1.0, 3.0])
    npt.assert_array_equal(locs_s, [2])
    assert w.geo.time(0, 2) == 9.0
    npt.assert_allclose(w.expected_counts(), BASE_PER_HR * HOURS, rtol=1e-12)


@pytest.mark.parametrize("field", ["districts", "incident_types"])
def test_surge_with_an_empty_list_hits_nothing(city_dict, field):
    """``districts: []`` names no district; only a missing list (None) means all of them."""
    city_dict["demand"]["surges"] = [{"start": 0, "end": "1 d", "multiplier": 5.0, field: []}]
    try:
        w = _world(city_dict)
    except InputError as err:               # refusing the empty list outright is fine too
        assert err.path is not None and err.path.startswith("demand.surges")
        return
    npt.assert_allclose(_rate_per_hr(w, 60.0), BASE_PER_HR)

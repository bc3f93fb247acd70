"""Travel models: plane (euclidean / manhattan with detour), explicit matrix, and roads through RoadGeo."""

from __future__ import annotations

import math

import numpy as np
import numpy.testing as npt
import pytest

from scenarios.geography import GridRoads
from sim.geo import MatrixGeo, PlaneGeo, RoadGeo
from sim.network import build

PTS = np.array([[0.0, 0.0], [3.0, 4.0], [-1.0, 2.0]])


def _plane(metric="euclidean", speed=30.0, detour=1.0):
    return PlaneGeo(metric, speed, detour, PTS)


@pytest.mark.parametrize(
    ("metric", "detour", "dist_01", "dist_12"),
    [("euclidean", 1.0, 5.0, math.hypot(4, 2)), ("euclidean", 1.5, 7.5, 1.5 * math.hypot(4, 2)),
     ("manhattan", 1.0, 7.0, 6.0), ("manhattan", 1.2, 8.4, 7.2)],
)
def test_plane_times(metric, detour, dist_01, dist_12):
    geo = _plane(metric, speed=30.0, detour=detour)               # 2 min per km before the detour
    assert geo.time(0, 1) == pytest.approx(2.0 * dist_01)
    assert geo.time(1, 2) == pytest.approx(2.0 * dist_12)
    assert geo.time(1, 0) == pytest.approx(geo.time(0, 1))
    npt.assert_allclose(geo.times_to(np.array([0, 1, 2]), 1), [2.0 * dist_01, 0.0, 2.0 * dist_12])
    npt.assert_allclose(geo.times_from(1, np.array([0, 2])), [2.0 * dist_01, 2.0 * dist_12])


def test_plane_locations_grow_and_keep_coordinates():
    geo = _plane()
    rng = np.random.default_rng(5)
    new = rng.uniform(-10, 10, (200, 2))                           # beyond the initial 64-row table
    locs = geo.locate(new)
    npt.assert_array_equal(locs, np.arange(3, 203))
    npt.assert_array_equal(geo.xy(locs), new)
    npt.assert_array_equal(geo.xy(np.arange(3)), PTS)
    assert geo.locate(np.empty((0, 2))).size == 0
    assert geo.time(3, 4) == pytest.approx(2.0 * np.hypot(*(new[0] - new[1])))


def test_plane_for_run_is_an_independent_copy():
    world_geo = _plane()
    run = world_geo.for_run()
    run.add_points(np.array([[9.0, 9.0]]))
    assert len(world_geo.locate(np.array([[1.0, 1.0]]))) == 1
    npt.assert_array_equal(world_geo.xy(np.array([3])), [[1.0, 1.0]])   # the world's table did not see (9, 9)
    npt.assert_array_equal(run.xy(np.array([3])), [[9.0, 9.0]])
    assert run.time(0, 1) == world_geo.time(0, 1)
    assert run.rows_for([0]) is None


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_plane_position_interpolates(metric):
    geo = _plane(metric, detour=1.3)
    total = geo.time(0, 1)
    assert geo.position(0, 1, 0.0) == 0
    assert geo.position(0, 1, -1.0) == 0
    assert geo.position(0, 1, total) == 1
    assert geo.position(0, 1, total + 5) == 1
    for frac in (0.1, 0.5, 0.9):
        p = geo.position(0, 1, frac * total)
        assert p >= len(PTS)                                       # a new point
        npt.assert_allclose(geo.xy(np.array([p]))[0], frac * PTS[1], atol=1e-12)
        assert geo.time(0, p) == pytest.approx(frac * total)       # on the straight segment
        assert geo.time(p, 1) == pytest.approx((1 - frac) * total)
    same = geo.locate(np.array([[2.0, 2.0]]))[0]
    assert geo.position(same, same, 3.0) == same                   # zero-length trip


MATRIX = np.array([[0.0, 10.0, 4.0], [9.0, 0.0, 6.0], [4.0, 7.0, 0.0]])


def test_matrix_times_and_places():
    geo = MatrixGeo(["a", "b", "c"], MATRIX)
    npt.assert_array_equal(geo.locate_places(["c", "a"]), [2, 0])
    assert geo.time(0, 1) == 10.0 and geo.time(1, 0) == 9.0
    npt.assert_array_equal(geo.times_to(np.array([0, 1, 2]), 2), [4.0, 6.0, 0.0])
    npt.assert_array_equal(geo.times_from(1, np.array([0, 2])), [9.0, 6.0])
    row_of, rows = geo.rows_for([0, 1])
    npt.assert_array_equal(rows[row_of[1]], MATRIX[1])
    assert geo.for_run() is geo
    assert np.isnan(geo.xy(np.array([0, 1]))).all() and geo.xy(np.array([0, 1])).shape == (2, 2)
    with pytest.raises(KeyError):
        geo.locate_places(["nowhere"])


def test_matrix_position_is_the_nearer_end_in_time():
    geo = MatrixGeo(["a", "b", "c"], MATRIX)
    assert geo.position(0, 1, 0.0) == 0
    assert geo.position(0, 1, 4.99) == 0
    assert geo.position(0, 1, 5.0) == 1
    assert geo.position(0, 1, 50.0) == 1


def test_road_geo_answers_from_the_network():
    net = build(GridRoads.model_validate({"kind": "grid", "size_km": (2.0, 2.0), "spacing_km": 1.0,
                                          "speed_kmh": 60.0, "clip_to_districts": False}), [])
    geo = RoadGeo(net)
    locs = geo.locate(np.array([[0.1, 0.2], [1.9, 2.2]]))
    npt.assert_array_equal(locs, [0, 8])
    npt.assert_array_equal(geo.add_points(np.array([[1.1, 0.9]])), [4])
    assert geo.time(0, 8) == pytest.approx(4.0)
    npt.assert_allclose(geo.times_to(np.array([0, 4, 8]), 8), [4.0, 2.0, 0.0])
    npt.assert_allclose(geo.times_from(0, np.array([4, 8])), [2.0, 4.0])
    row_of, rows = geo.rows_for([0, 4])
    assert rows[row_of[4], 8] == pytest.approx(2.0)
    assert geo.position(0, 8, 0.0) == 0 and geo.position(0, 8, 4.0) == 8
    mid = geo.position(0, 8, 2.0)
    assert geo.time(0, mid) == pytest.approx(2.0) and geo.time(mid, 8) == pytest.approx(2.0)
    npt.assert_array_equal(geo.xy(np.array([8])), [[2.0, 2.0]])
    # each run gets its own view of the shared network (issue #10: road changes must not leak)
    assert geo.for_run() is not geo and geo.for_run().net is geo.net

"""Per-run road views (issue #10, item 5): closing, slowing, restoring links vs Dijkstra on changed roads."""

from __future__ import annotations

import math

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.geography import GridRoads
from sim.geo import MatrixGeo, PlaneGeo, RoadGeo, RoadView
from sim.network import RoadNetwork, build
from tests.reference import naive_network

SETTINGS = settings(max_examples=30, deadline=None)
RTOL = 1e-6          # rows are stored as float32


def _grid(nx=4, ny=3, **kw) -> RoadNetwork:
    """Grid of nx * ny nodes 1 km apart (node i * ny + j at (i, j)), 2 min per link unless told."""
    spec = {"kind": "grid", "size_km": (nx - 1.0, ny - 1.0), "spacing_km": 1.0, "speed_kmh": 30.0,
            "clip_to_districts": False}
    return build(GridRoads.model_validate({**spec, **kw}), [])


def _links(net: RoadNetwork) -> dict[tuple[int, int], float]:
    """Every directed link of the shared network and its original minutes."""
    tail, head = net.graph.nonzero()
    return {(int(u), int(v)): float(net.graph[u, v]) for u, v in zip(tail, head, strict=True)}


def _reference(net: RoadNetwork, minutes: dict[tuple[int, int], float]) -> np.ndarray:
    """All-pairs minutes by the naive Dijkstra over the links in ``minutes`` (inf ones left out)."""
    kept = [(u, v, w) for (u, v), w in minutes.items() if math.isfinite(w)]
    tail, head, w = (np.array(c) for c in zip(*kept, strict=True)) if kept else ([], [], [])
    return np.array(naive_network.all_pairs(tail, head, w, net.n_nodes))


def _all_times(view) -> np.ndarray:
    n = view.net.n_nodes
    return np.array([[view.time(a, b) for b in range(n)] for a in range(n)])


def _snapshot(net: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    used = int((net.row_index >= 0).sum())
    return net.row_index.copy(), net.rows[:used].copy()


# ---- unchanged views ---------------------------------------------------------------------
@pytest.mark.nojit
def test_unchanged_view_answers_from_the_shared_network():
    net = _grid()
    net.prepare([0, 5])
    geo = RoadGeo(net)
    view = geo.for_run()
    assert isinstance(view, RoadView) and view is not geo
    assert view.net is net and view.kind == "road" and view.version == 0
    assert view.time(0, 11) == net.time(0, 11) == pytest.approx(2.0 * 5)
    row_of, rows = view.rows_for([])
    assert row_of is net.row_index and rows is net.rows              # the shared cache itself
    row_of, rows = view.rows_for([7])
    assert row_of is net.row_index and rows[row_of[7], 0] == net.time(7, 0)
    npt.assert_array_equal(view.times_to(np.arange(12), 4), net.times_to(np.arange(12), 4))
    npt.assert_array_equal(view.times_from(4, np.arange(12)), net.times_from(4, np.arange(12)))
    assert view.position(0, 11, 3.0) == net.position(0, 11, 3.0)
    npt.assert_array_equal(view.path(0, 11)[0], net.path(0, 11)[0])
    npt.assert_array_equal(view.locate(np.array([[2.1, 0.9]])), [7])
    npt.assert_array_equal(view.add_points(np.array([[2.1, 0.9]])), [7])
    npt.assert_array_equal(view.xy(np.array([7])), [[2.0, 1.0]])


# ---- one change vs the reference ---------------------------------------------------------
@pytest.mark.nojit
def test_closing_one_direction_matches_dijkstra_without_that_link():
    net = _grid()
    net.prepare([0])                                   # a station at node 0
    view = RoadGeo(net).for_run()
    view.change_links(np.array([3]), np.array([0]), 0.0)
    assert view.version == 1
    minutes = _links(net)
    minutes[(3, 0)] = math.inf
    ref = _reference(net, minutes)
    # towards the prepared origin first: a one-way closure breaks symmetry, so its row cannot answer these
    npt.assert_allclose(view.times_to(np.arange(12), 0), ref[:, 0], rtol=RTOL)
    assert view.time(3, 0) == pytest.approx(2.0 * 3)                  # round the block
    assert view.time(0, 3) == pytest.approx(2.0)                      # the other direction is open
    npt.assert_allclose(_all_times(view), ref, rtol=RTOL)
    npt.assert_allclose(view.times_from(3, np.arange(12)), ref[3], rtol=RTOL)


@pytest.mark.nojit
@pytest.mark.parametrize("factor", [0.5, 0.25, 0.8])
def test_slowing_divides_the_link_time_by_the_factor(factor):
    net = _grid(arterial_every=2, arterial_speed_kmh=60.0)
    view = RoadGeo(net).for_run()
    tail, head = np.array([0, 3, 4]), np.array([3, 0, 7])
    view.change_links(tail, head, factor)
    minutes = _links(net)
    for u, v in zip(tail, head, strict=True):
        minutes[(int(u), int(v))] /= factor
    npt.assert_allclose(_all_times(view), _reference(net, minutes), rtol=RTOL)


@pytest.mark.nojit
def test_factors_do_not_compound_and_restoring_gives_the_original_times_exactly():
    net = _grid()
    original = _all_times(RoadGeo(net))
    view = RoadGeo(net).for_run()
    tail, head = np.array([0, 3]), np.array([3, 0])
    view.change_links(tail, head, 0.5)
    view.change_links(tail, head, 0.5)                 # still half speed, not a quarter
    minutes = _links(net)
    minutes[(0, 3)] = minutes[(3, 0)] = 4.0
    npt.assert_allclose(_all_times(view), _reference(net, minutes), rtol=RTOL)
    view.change_links(tail, head, 0.0)
    view.change_links(tail, head, 1.0)
    assert view.version == 4
    npt.assert_array_equal(_all_times(view), original)
    row_of, rows = view.rows_for([5])
    assert row_of is net.row_index and rows is net.rows              # back on the shared cache


@pytest.mark.nojit
def test_a_time_method_bound_before_a_change_answers_for_the_current_roads():
    net = _grid()
    view = RoadGeo(net).for_run()
    time, rows_for = view.time, view.rows_for          # the engine binds these once per run
    assert time(0, 1) == pytest.approx(2.0)
    view.change_links(np.array([0]), np.array([1]), 0.0)
    assert time(0, 1) == pytest.approx(2.0 * 3)
    row_of, rows = rows_for([0])
    assert rows[row_of[0], 1] == pytest.approx(2.0 * 3)


# ---- independence ------------------------------------------------------------------------
@pytest.mark.nojit
def test_two_views_are_independent_and_leave_the_shared_cache_alone():
    net = _grid(5, 4)
    n = net.n_nodes
    net.prepare([0, 7, 19])
    geo = RoadGeo(net)
    a, b = geo.for_run(), geo.for_run()
    b_before, geo_before = _all_times(b), _all_times(geo)   # fills the shared cache with every row
    index_before, rows_before = _snapshot(net)
    a.change_links(*a.links_in_area((2.0, 1.0), 1.0), 0.0)
    a.change_links(np.array([0, 4]), np.array([4, 0]), 0.3)
    changed = _all_times(a)
    assert (changed != b_before).any() and np.isinf(changed[:, 9]).sum() == n - 1
    a.rows_for(np.arange(n))
    index_after, rows_after = _snapshot(net)
    npt.assert_array_equal(index_after, index_before)
    npt.assert_array_equal(rows_after, rows_before)
    npt.assert_array_equal(_all_times(b), b_before)
    npt.assert_array_equal(_all_times(geo), geo_before)
    assert b.version == 0 and a.version == 2


@pytest.mark.nojit
def test_a_changed_view_never_writes_rows_into_the_shared_cache():
    net = _grid(5, 4)
    net.prepare([0, 19])
    view = RoadGeo(net).for_run()
    view.change_links(np.array([0]), np.array([4]), 0.5)
    _all_times(view)
    view.rows_for(np.arange(net.n_nodes))
    npt.assert_array_equal(np.flatnonzero(net.row_index >= 0), [0, 19])


# ---- rows for the choice kernel ----------------------------------------------------------
@pytest.mark.nojit
def test_rows_for_after_a_change_agree_with_time_and_keep_the_prepared_rows():
    net = _grid(5, 4)
    stations = [0, 19]
    net.prepare(stations)
    view = RoadGeo(net).for_run()
    view.change_links(*view.links_in_area((1.0, 1.0), 0.5), 0.0)     # node 5 cut off
    row_of, rows = view.rows_for([])
    assert rows is not net.rows
    assert (row_of[stations] >= 0).all()               # the kernel reads stations' rows without asking
    locs = np.array([3, 12, 5])
    row_of, rows = view.rows_for(locs)
    for o in [*stations, *locs]:
        for d in range(net.n_nodes):
            assert rows[row_of[o], d] == pytest.approx(view.time(int(o), d), rel=RTOL)
    assert rows[row_of[0], 5] == math.inf and rows[row_of[5], 0] == math.inf


# ---- closures ----------------------------------------------------------------------------
@pytest.mark.nojit
def test_closing_every_link_around_a_node_makes_it_unreachable():
    net = _grid()
    node = 4                                           # (1, 1): four neighbours
    view = RoadGeo(net).for_run()
    around = [(u, v) for (u, v) in _links(net) if node in (u, v)]
    assert len(around) == 8
    tail, head = (np.array(c) for c in zip(*around, strict=True))
    view.change_links(tail, head, 0.0)
    others = np.array([x for x in range(net.n_nodes) if x != node])
    assert np.isinf(view.times_to(others, node)).all()
    assert np.isinf(view.times_from(node, others)).all()
    assert view.time(node, node) == 0.0
    assert view.time(0, 8) == pytest.approx(2.0 * 4)                  # around the closed node
    with pytest.raises(ValueError, match="cannot be reached"):
        view.path(0, node)


@pytest.mark.nojit
@pytest.mark.parametrize(("centre", "radius"), [((1.0, 1.0), 1.0), ((2.3, 0.4), 0.9), ((9.0, 9.0), 1.0),
                                                ((1.5, 1.0), 0.0)])
def test_area_closure_closes_exactly_the_links_touching_nodes_in_the_circle(centre, radius):
    net = _grid(5, 4)
    view = RoadGeo(net).for_run()
    inside = {i for i in range(net.n_nodes) if math.hypot(*(net.xy[i] - centre)) <= radius}
    expected = sorted((u, v) for (u, v) in _links(net) if u in inside or v in inside)
    tail, head = view.links_in_area(centre, radius)
    assert tail.dtype == np.int64 and head.dtype == np.int64
    assert list(zip(tail.tolist(), head.tolist(), strict=True)) == expected
    view.change_links(tail, head, 0.0)
    minutes = {k: (math.inf if k in set(expected) else w) for k, w in _links(net).items()}
    npt.assert_allclose(_all_times(view), _reference(net, minutes), rtol=RTOL)


@pytest.mark.nojit
def test_position_follows_the_current_route():
    # a square: A -> B -> C takes 2 min, A -> D -> C takes 4 min
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    A, B, C, D = range(4)
    net = RoadNetwork(xy, np.array([A, B, A, D]), np.array([B, C, D, C]), np.array([1.0, 1.0, 2.0, 2.0]))
    view = RoadGeo(net).for_run()
    assert view.position(A, C, 1.5) == B
    view.change_links(np.array([A]), np.array([B]), 0.0)
    assert view.time(A, C) == pytest.approx(4.0)
    assert view.position(A, C, 1.5) == A and view.position(A, C, 2.5) == D
    npt.assert_array_equal(view.path(A, C)[0], [A, D, C])


# ---- errors ------------------------------------------------------------------------------
@pytest.mark.nojit
def test_bad_changes_raise_and_change_nothing():
    net = _grid()
    view = RoadGeo(net).for_run()
    with pytest.raises(ValueError, match=r"no road link 0 -> 4"):
        view.change_links(np.array([0, 0]), np.array([3, 4]), 0.0)    # (0, 4) is a diagonal
    with pytest.raises(ValueError, match=r"no road link 0 -> 99"):
        view.change_links(np.array([0]), np.array([99]), 0.0)
    with pytest.raises(ValueError, match="factor"):
        view.change_links(np.array([0]), np.array([3]), 1.5)
    with pytest.raises(ValueError, match="factor"):
        view.change_links(np.array([0]), np.array([3]), -0.1)
    with pytest.raises(ValueError, match="differ in length"):
        view.change_links(np.array([0, 3]), np.array([3]), 0.0)
    view.change_links(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 0.0)
    assert view.version == 0
    assert view.time(0, 3) == pytest.approx(2.0)


@pytest.mark.nojit
def test_plane_and_matrix_geographies_have_no_roads_to_change():
    plane = PlaneGeo("euclidean", 30.0, 1.0, np.array([[0.0, 0.0], [1.0, 1.0]])).for_run()
    matrix = MatrixGeo(["a", "b"], np.array([[0.0, 3.0], [3.0, 0.0]])).for_run()
    for geo in (plane, matrix):
        with pytest.raises(ValueError, match="road changes need a road geography"):
            geo.change_links(np.array([0]), np.array([1]), 0.0)
        with pytest.raises(ValueError, match="road changes need a road geography"):
            geo.links_in_area((0.0, 0.0), 1.0)
    assert plane.time(0, 1) == pytest.approx(2.0 * math.sqrt(2))
    assert matrix.time(0, 1) == 3.0


@pytest.mark.nojit
def test_has_link_is_directed():
    xy = np.zeros((3, 2))
    net = RoadNetwork(xy, np.array([0, 1, 2]), np.array([1, 2, 1]), np.array([1.0, 1.0, 1.0]))
    assert net.has_link(0, 1) and net.has_link(1, 2) and net.has_link(2, 1)
    assert not net.has_link(1, 0) and not net.has_link(0, 2) and not net.has_link(0, 0)
    assert not net.has_link(0, 3) and not net.has_link(-1, 1)


# ---- property: any closures and slowdowns on small grids ---------------------------------
@st.composite
def changes(draw):
    nx, ny = draw(st.integers(2, 5)), draw(st.integers(2, 4))
    speed = draw(st.sampled_from([20.0, 30.0, 45.0]))
    every = draw(st.sampled_from([0, 2]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        factor = draw(st.sampled_from([0.0, 0.0, 0.3, 0.5, 1.0]))
        steps.append((rng.random(), factor))
    return nx, ny, speed, every, steps, rng


@pytest.mark.nojit
@SETTINGS
@given(changes())
def test_view_times_match_dijkstra_after_random_changes(case):
    nx, ny, speed, every, steps, rng = case
    net = _grid(nx, ny, speed_kmh=speed, arterial_every=every, arterial_speed_kmh=60.0)
    net.prepare([0])
    original = _links(net)
    view = RoadGeo(net).for_run()
    minutes = dict(original)
    keys = list(original)
    for share, factor in steps:
        chosen = [k for k in keys if rng.random() < share]
        tail = np.array([u for u, _ in chosen], dtype=np.int64)
        head = np.array([v for _, v in chosen], dtype=np.int64)
        view.change_links(tail, head, factor)
        for k in chosen:
            minutes[k] = math.inf if factor == 0 else original[k] / factor
    ref = _reference(net, minutes)
    npt.assert_allclose(view.times_to(np.arange(net.n_nodes), 0), ref[:, 0], rtol=RTOL)
    npt.assert_allclose(_all_times(view), ref, rtol=RTOL)
    row_of, rows = view.rows_for(np.arange(net.n_nodes))
    npt.assert_allclose(rows[row_of], ref, rtol=RTOL)

"""choose_units / _choose_kernel: eligible units by (group, expected arrival, unit index) vs reference."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels import choose_units
from sim.kernels.select import _choose_kernel
from tests.reference import naive_select

pytestmark = pytest.mark.nojit

KERNEL_PY = getattr(_choose_kernel, "py_func", _choose_kernel)
SETTINGS = settings(max_examples=60, deadline=None)

# Travel minutes from location (row) to location; inf = unreachable.
ROWS = np.array(
    [
        [0.0, 4.0, 9.0, np.inf],
        [4.0, 0.0, 5.0, np.inf],
        [9.0, 5.0, 0.0, 2.0],
    ]
)
ROW_OF = np.array([0, 1, 2, -1])  # location 3 has no row: nobody may stand there


def _fleet():
    """Five units; times to location 2 worked out by hand in the tests."""
    return dict(
        status=np.array([0, 1, 0, 2, 0], dtype=np.int8),
        loc=np.array([0, 1, 1, 2, 2]),
        speed=np.array([1.0, 1.0, 2.0, 1.0, 0.5]),
        turnout=np.array([1.0, 1.0, 1.5, 0.0, 2.0]),
        group=np.array([0, 0, 1, 0, 1]),
    )


def _no_trips(n, rows):
    """The kernel's trip and route arguments when no unit is on a trip."""
    ends = np.zeros(n, dtype=np.int64)
    pred = np.zeros((1, 1), dtype=np.int32)
    trips = (np.zeros(n, dtype=np.bool_), np.zeros(n), 0.0, ends, ends, pred, rows)
    return (*trips, np.zeros((n, 1), dtype=np.int64), np.zeros((n, 1)), np.zeros(n, dtype=np.int64))


def _call_kernel_py(cands, f, max_status, row_of, rows, dest, k):
    out = np.full(k, -1, dtype=np.int64)
    out_min = np.full(k, np.nan)
    n = KERNEL_PY(
        np.asarray(cands, dtype=np.int64),
        f["status"],
        f["status"] <= max_status,
        f["loc"],
        *_no_trips(len(f["loc"]), rows),
        row_of,
        rows,
        dest,
        f["speed"],
        f["turnout"],
        f["group"],
        k,
        out,
        out_min,
    )
    return out[:n], out_min[:n]


def test_hand_computed_choice():
    f = _fleet()
    # to location 2: u0 9/1 + 1 = 10 (g0); u1 returning 5/1 = 5 (g0, no turnout);
    # u2 5/2 + 1.5 = 4 (g1); u3 busy; u4 0/0.5 + 2 = 2 (g1)
    args = (f["status"], f["status"] <= 1, f["loc"], ROW_OF, ROWS, 2, f["speed"], f["turnout"], f["group"])
    units, minutes = choose_units(np.arange(5), *args, 5)
    npt.assert_array_equal(units, [1, 0, 4, 2])
    npt.assert_allclose(minutes, [5.0, 10.0, 2.0, 4.0])
    # returning units excluded when max_status = 0
    units, minutes = choose_units(np.arange(5), f["status"], f["status"] <= 0, *args[2:], 2)
    npt.assert_array_equal(units, [0, 4])
    npt.assert_allclose(minutes, [10.0, 2.0])
    ref_units, ref_minutes = naive_select.choose_units(np.arange(5), *args, 5)
    npt.assert_array_equal(ref_units, [1, 0, 4, 2])
    npt.assert_allclose(ref_minutes, [5.0, 10.0, 2.0, 4.0])


def test_same_group_orders_by_expected_arrival():
    f = _fleet()
    f["group"][:] = 0
    units, minutes = choose_units(
        np.arange(5),
        f["status"],
        f["status"] <= 1,
        f["loc"],
        ROW_OF,
        ROWS,
        2,
        f["speed"],
        f["turnout"],
        f["group"],
        3,
    )
    npt.assert_array_equal(units, [4, 2, 1])
    npt.assert_allclose(minutes, [2.0, 4.0, 5.0])


def test_unreachable_units_are_never_chosen():
    f = _fleet()
    f["status"][:] = 0
    # location 3 is reachable from row 2 only (units 3 and 4 stand at location 2)
    units, minutes = choose_units(
        np.arange(5),
        f["status"],
        f["status"] <= 0,
        f["loc"],
        ROW_OF,
        ROWS,
        3,
        f["speed"],
        f["turnout"],
        f["group"],
        5,
    )
    npt.assert_array_equal(units, [3, 4])
    npt.assert_allclose(minutes, [2.0 + 0.0, 4.0 + 2.0])


def test_only_candidates_are_considered():
    f = _fleet()
    units, _ = choose_units(
        np.array([0, 3]),
        f["status"],
        f["status"] <= 1,
        f["loc"],
        ROW_OF,
        ROWS,
        2,
        f["speed"],
        f["turnout"],
        f["group"],
        3,
    )
    npt.assert_array_equal(units, [0])  # unit 3 is busy
    units, _ = choose_units(
        np.empty(0, dtype=np.int64),
        f["status"],
        f["status"] <= 1,
        f["loc"],
        ROW_OF,
        ROWS,
        2,
        f["speed"],
        f["turnout"],
        f["group"],
        3,
    )
    assert units.size == 0


def test_ineligible_unit_without_row_is_fine():
    f = _fleet()
    loc = f["loc"].copy()
    loc[3] = 3  # busy unit somewhere without a row
    units, _ = choose_units(
        np.arange(5),
        f["status"],
        f["status"] <= 1,
        loc,
        ROW_OF,
        ROWS,
        2,
        f["speed"],
        f["turnout"],
        f["group"],
        5,
    )
    assert 3 not in units.tolist()


def test_rejects_negative_k_and_missing_rows():
    f = _fleet()
    args = (f["status"], f["status"] <= 1, f["loc"], ROW_OF, ROWS, 2, f["speed"], f["turnout"], f["group"])
    with pytest.raises(ValueError, match="non-negative"):
        choose_units(np.arange(5), *args, -1)
    loc = f["loc"].copy()
    loc[0] = 3  # unit 0 is at station, location 3 has no row
    with pytest.raises(ValueError, match="no travel-time row"):
        choose_units(
            np.arange(5),
            f["status"],
            f["status"] <= 1,
            loc,
            ROW_OF,
            ROWS,
            2,
            f["speed"],
            f["turnout"],
            f["group"],
            2,
        )


def test_ties_break_by_unit_index_whatever_the_candidate_order():
    """The kernel's docstring orders by (group, expected arrival, unit index)."""
    status = np.zeros(4, dtype=np.int8)
    loc = np.zeros(4, dtype=np.int64)
    rows = np.array([[0.0, 3.0]])
    same = dict(speed=np.ones(4), turnout=np.zeros(4), group=np.zeros(4, dtype=np.int64))
    for cands in ([0, 1, 2, 3], [3, 1, 0, 2], [2, 3, 1, 0]):
        units, minutes = choose_units(
            np.array(cands),
            status,
            status <= 0,
            loc,
            np.array([0, -1]),
            rows,
            1,
            same["speed"],
            same["turnout"],
            same["group"],
            2,
        )
        npt.assert_allclose(minutes, [3.0, 3.0])
        assert units.tolist() == [0, 1], f"candidates in order {cands}"


# ---- random fleets -----------------------------------------------------------------------
@st.composite
def fleets(draw):
    """A random fleet on a random travel table; values are binary fractions so arithmetic is exact."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_loc = draw(st.integers(1, 6))
    n_units = draw(st.integers(1, 10))
    rows = rng.integers(0, 40, size=(n_loc, n_loc)) / 4.0
    rows[rng.random((n_loc, n_loc)) < 0.15] = np.inf
    np.fill_diagonal(rows, 0.0)
    f = dict(
        status=rng.integers(0, 3, n_units).astype(np.int8),
        loc=rng.integers(0, n_loc, n_units).astype(np.int64),
        speed=rng.choice([0.5, 1.0, 1.25, 2.0], n_units),
        turnout=rng.integers(0, 8, n_units) / 4.0,
        group=rng.integers(0, 3, n_units).astype(np.int64),
    )
    cands = np.sort(rng.choice(n_units, size=rng.integers(0, n_units + 1), replace=False)).astype(np.int64)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return dict(
        cands=cands,
        fleet=f,
        rows=rows.astype(dtype),
        row_of=np.arange(n_loc, dtype=np.int64),
        dest=int(rng.integers(0, n_loc)),
        max_status=draw(st.integers(0, 1)),
        k=draw(st.integers(0, n_units + 1)),
    )


@SETTINGS
@given(fleets())
def test_matches_reference(case):
    f = case["fleet"]
    args = (
        f["status"],
        f["status"] <= case["max_status"],
        f["loc"],
        case["row_of"],
        case["rows"],
        case["dest"],
        f["speed"],
        f["turnout"],
        f["group"],
        case["k"],
    )
    ref_units, ref_minutes = naive_select.choose_units(case["cands"], *args)
    units, minutes = choose_units(case["cands"], *args)
    npt.assert_array_equal(units, ref_units)
    npt.assert_allclose(minutes, ref_minutes, rtol=1e-12)
    py_units, py_minutes = _call_kernel_py(
        case["cands"], f, case["max_status"], case["row_of"], case["rows"], case["dest"], case["k"]
    )
    npt.assert_array_equal(py_units, ref_units)
    npt.assert_allclose(py_minutes, ref_minutes, rtol=1e-12)


@SETTINGS
@given(fleets())
def test_invariants(case):
    f = case["fleet"]
    units, minutes = choose_units(
        case["cands"],
        f["status"],
        f["status"] <= case["max_status"],
        f["loc"],
        case["row_of"],
        case["rows"],
        case["dest"],
        f["speed"],
        f["turnout"],
        f["group"],
        case["k"],
    )
    assert len(units) <= case["k"]
    assert len(set(units.tolist())) == len(units)
    assert set(units.tolist()) <= set(case["cands"].tolist())
    assert np.all(f["status"][units] <= case["max_status"])
    assert np.all(np.isfinite(minutes))
    keys = [(int(f["group"][u]), float(t), int(u)) for u, t in zip(units, minutes, strict=True)]
    assert keys == sorted(keys)


def test_on_a_road_networks_cached_rows():
    """As the engine calls it: float32 rows of a road network's cache, indexed by its row_index."""
    from scenarios.geography import GridRoads
    from sim.geo import RoadGeo
    from sim.network import build
    from tests.reference import naive_network

    net = build(
        GridRoads.model_validate(
            {
                "kind": "grid",
                "size_km": (6.0, 6.0),
                "spacing_km": 1.0,
                "speed_kmh": 30.0,
                "clip_to_districts": False,
            }
        ),
        [],
    )
    rng = np.random.default_rng(77)
    n_units = 9
    f = dict(
        status=rng.integers(0, 3, n_units).astype(np.int8),
        loc=rng.integers(0, net.n_nodes, n_units),
        speed=rng.choice([0.5, 1.0, 1.25], n_units),
        turnout=rng.integers(0, 4, n_units) / 2.0,
        group=rng.integers(0, 2, n_units),
    )
    row_of, rows = RoadGeo(net).rows_for(f["loc"])
    assert rows.dtype == np.float32
    tail, head = net.graph.nonzero()
    ref_rows = np.array(
        naive_network.all_pairs(tail, head, np.asarray(net.graph[tail, head]).ravel(), net.n_nodes)
    )
    for dest in rng.integers(0, net.n_nodes, 5):
        args = (f["status"], f["status"] <= 1, f["loc"])
        tail_args = (int(dest), f["speed"], f["turnout"], f["group"], 4)
        units, minutes = choose_units(np.arange(n_units), *args, row_of, rows, *tail_args)
        ref_units, ref_minutes = naive_select.choose_units(
            np.arange(n_units), *args, np.arange(net.n_nodes), ref_rows, *tail_args
        )
        npt.assert_array_equal(units, ref_units)
        npt.assert_allclose(minutes, ref_minutes, rtol=1e-6)


# ---- units on a trip: located along their route at the current time -------------------------
def random_routes(rng, n_loc, dtype):
    """Fastest-route trees from every location: csgraph-style predecessors and the minutes to each node.

    Row ``o`` is a random tree rooted at ``o`` (-9999: the root, or a node it does not reach);
    each link takes 0 to 4.75 minutes (binary fractions: exact arithmetic, ties possible).
    """
    pred = np.full((n_loc, n_loc), -9999, dtype=np.int32)
    reach = np.full((n_loc, n_loc), np.inf)
    for o in range(n_loc):
        order = [o, *[x for x in rng.permutation(n_loc).tolist() if x != o]]
        reach[o, o] = 0.0
        for pos in range(1, n_loc):
            if rng.random() < 0.15:
                continue  # not reached from o
            parent = order[int(rng.integers(0, pos))]
            if reach[o, parent] == np.inf:
                continue
            pred[o, order[pos]] = parent
            reach[o, order[pos]] = reach[o, parent] + rng.integers(0, 20) / 4.0
    return pred, reach.astype(dtype)


@st.composite
def fleets_on_trips(draw):
    """A random fleet, some units on trips along random route trees (every location has a row)."""
    case = draw(fleets())
    f, rows = case["fleet"], case["rows"]
    n_loc = len(case["row_of"])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = len(f["loc"])
    pred, reach = random_routes(rng, n_loc, rows.dtype)
    trip_from = rng.integers(0, n_loc, n).astype(np.int64)
    trip_to = trip_from.copy()
    for u in range(n):  # an end its start reaches (the engine never sets off for one it cannot)
        ends = np.flatnonzero(np.isfinite(reach[trip_from[u]]))
        trip_to[u] = ends[rng.integers(0, len(ends))]
    trips = dict(on_trip=rng.random(n) < 0.5, trip_t0=rng.integers(0, 8, n) / 2.0,
                 now=float(rng.integers(0, 40) / 4.0), trip_from=trip_from, trip_to=trip_to, pred=pred,
                 reach=reach)
    return case, trips


@SETTINGS
@given(fleets_on_trips())
def test_units_on_trips_match_reference(case_trips):
    case, trips = case_trips
    f = case["fleet"]
    args = (f["status"], f["status"] <= case["max_status"], f["loc"], case["row_of"], case["rows"],
            case["dest"], f["speed"], f["turnout"], f["group"], case["k"])
    ref_units, ref_minutes = naive_select.choose_units(case["cands"], *args, trips=trips)
    units, minutes = choose_units(case["cands"], *args, trips=trips)
    npt.assert_array_equal(units, ref_units)
    npt.assert_allclose(minutes, ref_minutes, rtol=1e-12)


#: Routes from location 0: 0 -(2)-> 1 -(3)-> 2 (and 2 -> 3 unreached); the others are not used.
PRED = np.array([[-9999, 0, 1, -9999], [1, -9999, 1, -9999], [1, 2, -9999, 2]], dtype=np.int32)
REACH = np.array([[0.0, 2.0, 5.0, np.inf], [4.0, 0.0, 5.0, np.inf], [9.0, 5.0, 0.0, 2.0]])


def _trip_of_unit_1(now):
    """Unit 1 left location 0 for 2 at minute 4."""
    return dict(on_trip=np.array([False, True, False, False, False]), trip_t0=np.array([0, 4.0, 0, 0, 0]),
                now=now, trip_from=np.array([0, 0, 0, 0, 0]), trip_to=np.array([0, 2, 0, 0, 0]), pred=PRED,
                reach=REACH)


def test_a_unit_on_a_trip_is_where_its_route_says():
    """Hand case: a unit 3 min into a route 0 -(2)-> 1 -(3)-> 2 stands at 1 (5 min from location 2: 9 - 4)."""
    f = _fleet()
    row_of, rows = np.arange(3), ROWS[:, :3]
    units, minutes = choose_units(np.array([1]), f["status"], f["status"] <= 1, f["loc"], row_of, rows, 2,
                                  f["speed"], f["turnout"], f["group"], 1, trips=_trip_of_unit_1(7.0))
    assert units.tolist() == [1] and minutes.tolist() == [5.0]      # at location 1: 5 min to 2
    units, minutes = choose_units(np.array([1]), f["status"], f["status"] <= 1, f["loc"], row_of, rows, 2,
                                  f["speed"], f["turnout"], f["group"], 1,
                                  trips=_trip_of_unit_1(9.5))        # 5.5 min in: past node 2
    assert minutes.tolist() == [0.0]


def test_a_trip_the_rows_do_not_join_is_refused():
    """The kernel cannot read a route that its start's row does not join: it says which unit's."""
    f = _fleet()
    trips = _trip_of_unit_1(7.0)
    trips["trip_to"] = np.array([0, 3, 0, 0, 0])  # 0 does not reach 3
    with pytest.raises(ValueError, match="unit 1's trip end cannot be reached"):
        choose_units(np.array([1]), f["status"], f["status"] <= 1, f["loc"], np.arange(4),
                     np.vstack([ROWS, np.zeros(4)]), 2, f["speed"], f["turnout"], f["group"], 1, trips=trips)


def test_the_kernel_reads_a_route_once_and_keeps_it():
    """A route is read into the table on first use (route_len 0 -> its length), then only read back."""
    f = _fleet()
    n = len(f["loc"])
    route_nodes, route_cum, route_len = np.zeros((n, 4), dtype=np.int64), np.zeros((n, 4)), np.zeros(n, int)
    t = _trip_of_unit_1(7.0)
    rows = ROWS[:, :3].copy()
    args = (np.array([1], dtype=np.int64), f["status"], np.ones(n, dtype=np.bool_), f["loc"], t["on_trip"],
            t["trip_t0"], 7.0, t["trip_from"], t["trip_to"], PRED, REACH, route_nodes, route_cum, route_len,
            np.arange(3), rows, 2, f["speed"], f["turnout"], f["group"], 1, np.empty(1, dtype=np.int64),
            np.empty(1))
    assert _choose_kernel(*args) == 1
    assert route_len.tolist() == [0, 3, 0, 0, 0]
    assert route_nodes[1, :3].tolist() == [0, 1, 2] and route_cum[1, :3].tolist() == [0.0, 2.0, 5.0]
    route_cum[1, 1] = 100.0  # the kept route answers from now on: still at node 0 after 3 minutes
    out_min = args[-1]
    _choose_kernel(*args)
    assert out_min.tolist() == [9.0]
    narrow = np.zeros((n, 2), dtype=np.int64), np.zeros((n, 2)), np.zeros(n, np.int64)
    assert _choose_kernel(*args[:11], *narrow, *args[14:]) == -3  # too long for the table: unit 1's

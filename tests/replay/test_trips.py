"""The animated replay's trips: recorded during the rerun, they are the engine's own (times, routes)."""

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from analysis.replayview import frame_times, state_changes, unit_positions, unit_states
from sim.replay import TripRecorder, replay
from tests.replay.conftest import RING


def _trip(rec, k):
    t = rec.trips()
    a, b = t["offsets"][k], t["offsets"][k + 1]
    return t["unit"][k], t["t0_min"][k], t["x_km"][a:b], t["y_km"][a:b], t["t_min"][a:b]


def test_recording_leaves_the_run_unchanged(ring_trips):
    done, rec = ring_trips
    assert done.identical and len(rec.unit) > 50


def test_every_arrival_ends_a_recorded_trip_at_its_time_and_place(ring_trips, ring_run):
    """Each unit_arrived / unit_at_hospital is the end of the unit's latest trip, to the float."""
    done, rec = ring_trips
    ev, inc = done.result.events, done.result.incidents.set_index("incident_id")
    names = done.result.units["unit_id"].astype(str).tolist()
    trips = rec.trips()
    geo = pd.read_parquet(ring_run / "geography.parquet").set_index("name")
    arrivals = ev[ev["kind"].astype(str).isin(["unit_arrived", "unit_at_hospital"])]
    checked = 0
    for row in arrivals.itertuples():
        u = names.index(str(row.unit_id))
        mine = np.flatnonzero((trips["unit"] == u) & (trips["t0_min"] <= row.t_min))
        if not len(mine):        # a unit at its station sent to a scene there: no trip
            continue
        _, t0, x, y, tm = _trip(rec, mine[-1])
        if t0 + tm[-1] < row.t_min - 1e-9:   # zero-length trip (already there): nothing recorded
            continue
        assert t0 + tm[-1] == pytest.approx(row.t_min, abs=1e-9)
        if row.kind == "unit_arrived":
            where = inc.loc[int(row.incident_id), ["x_km", "y_km"]].to_numpy(dtype=float)
        else:
            where = geo.loc[json.loads(row.detail)["hospital"], ["x_km", "y_km"]].to_numpy(dtype=float)
        # incidents snap to road nodes: the route ends at the node nearest the call's point
        assert np.hypot(x[-1] - where[0], y[-1] - where[1]) < 1.0
        checked += 1
    assert checked > 0.9 * len(arrivals)


def test_routes_avoid_the_closed_avenue_while_it_is_closed(ring_trips):
    """The avenue (3, 0)-(1.5, 0) is closed from 32 h to 44 h: no trip setting off then uses it."""
    _, rec = ring_trips
    def uses(k):
        _, _, x, y, _ = _trip(rec, k)
        pts = np.round(np.column_stack([x, y]), 6)
        legs = {tuple(sorted([tuple(a), tuple(b)])) for a, b in itertools.pairwise(pts)}
        return ((1.5, 0.0), (3.0, 0.0)) in legs
    during = [k for k, t0 in enumerate(rec.t0) if 32 * 60 <= t0 < 44 * 60]
    other = [k for k, t0 in enumerate(rec.t0) if not 32 * 60 <= t0 < 44 * 60]
    assert during and not any(uses(k) for k in during)
    assert any(uses(k) for k in other)      # the avenue is on routes when open: the check means something


def test_positions_interpolate_along_the_route_and_wait_between_trips():
    trips = {"unit": np.array([0, 0]), "t0_min": np.array([10.0, 40.0]), "offsets": np.array([0, 3, 5]),
             "x_km": np.array([0.0, 1.0, 1.0, 1.0, 3.0]), "y_km": np.array([0.0, 0.0, 2.0, 2.0, 2.0]),
             "t_min": np.array([0.0, 2.0, 6.0, 0.0, 4.0])}
    times = np.array([0.0, 11.0, 14.0, 30.0, 42.0, 50.0])
    x, y = unit_positions(trips, np.array([[-1.0, -1.0], [5.0, 5.0]]), times)
    np.testing.assert_allclose(x[:, 0], [-1.0, 0.5, 1.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(y[:, 0], [-1.0, 0.0, 1.0, 2.0, 2.0, 2.0])
    np.testing.assert_allclose(np.column_stack([x[:, 1], y[:, 1]]), np.full((6, 2), 5.0))   # never moved


def test_a_trip_cut_short_ends_where_the_next_begins():
    trips = {"unit": np.array([0, 0]), "t0_min": np.array([0.0, 5.0]), "offsets": np.array([0, 2, 4]),
             "x_km": np.array([0.0, 10.0, 4.0, 4.0]), "y_km": np.array([0.0, 0.0, 0.0, 3.0]),
             "t_min": np.array([0.0, 10.0, 0.0, 3.0])}
    x, y = unit_positions(trips, np.zeros((1, 2)), np.array([4.0, 5.0, 6.0]))
    np.testing.assert_allclose(np.column_stack([x[:, 0], y[:, 0]]), [[4.0, 0.0], [4.0, 0.0], [4.0, 1.0]])


def test_states_follow_the_unit_events():
    ev = pd.DataFrame({"t_min": [1.0, 2.0, 5.0, 5.0, 9.0], "seq": [0, 1, 2, 3, 4],
                       "kind": ["unit_dispatched", "unit_arrived", "unit_left_scene", "unit_returning",
                                "unit_available"], "unit_id": ["a", "a", "a", "a", "a"]})
    ch = state_changes(ev, ["a", "b"])
    codes = unit_states(ch, 2, np.array([0.0, 1.5, 3.0, 5.0, 10.0]))
    assert codes[:, 0].tolist() == [0, 1, 2, 5, 0] and codes[:, 1].tolist() == [0] * 5


def test_frame_times_step_grows_for_long_runs():
    assert frame_times(60.0).tolist() == list(range(61))
    assert len(frame_times(14 * 1440.0)) <= 1500
    with pytest.raises(ValueError):
        frame_times(10.0, 0.0)


def test_recorder_on_a_plane_geography_draws_straight_lines(tmp_path):
    import sim
    run = sim.run(str(RING.parent / "two_towns.yaml"), seed=1, until=2 * 1440).write(tmp_path / "tt")
    rec = TripRecorder()
    assert replay(run, probe=rec).identical
    t = rec.trips()
    assert rec.roads() is None and len(t["unit"]) > 0 and np.all(np.diff(t["offsets"]) == 2)


def test_road_changes_are_recorded_and_shown_while_they_last(ring_trips):
    """The avenue (3, 0)-(1.5, 0), both ways, closed at 32 h and reopened at 44 h."""
    from analysis.replayview import roads_at

    _, rec = ring_trips
    changes = rec.road_changes()
    assert sorted(set(changes["t_min"])) == [32 * 60.0, 44 * 60.0]
    assert sorted({(r.x0, r.x1) for r in changes.itertuples()}) == [(1.5, 3.0), (3.0, 1.5)]
    assert roads_at(changes, 32 * 60 - 1).empty and roads_at(changes, 44 * 60).empty
    during = roads_at(changes, 40 * 60)
    assert len(during) == 1 and during["factor"].tolist() == [0.0]      # one link, either way round

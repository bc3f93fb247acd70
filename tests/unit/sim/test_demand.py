"""Incident streams: Poisson counts in their rate bins, places inside districts, scripted injects, CRN."""

from __future__ import annotations

import copy

import numpy as np
import numpy.testing as npt
import pytest
from scipy import stats

import scenarios
from sim.demand import IncidentStream, generate, sample_in_polygon
from sim.errors import InputError
from sim.rng import Streams
from sim.world import compile_world
from tests.reference import naive_geometry

pytestmark = pytest.mark.nojit

ALPHA = 1e-3        # seeds are fixed: each statistical check is a deterministic pass/fail
FIELDS = ("t_call", "delay", "kind", "district", "priority", "loc", "x_km", "y_km", "on_scene", "transport",
          "handover", "answer", "processing", "patience", "target", "scripted")


def _world(d):
    return compile_world(scenarios.from_dict(d))


def _stream(world, seed=3, rep=0) -> IncidentStream:
    return generate(world, world.geo.for_run(), Streams(seed, rep))


def _same(a: IncidentStream, b: IncidentStream) -> bool:
    return a.n == b.n and all(np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True)
                              for f in FIELDS) and a.label == b.label


def _chi2_p(observed, expected, fixed_total: bool) -> float:
    """Pearson's p-value; one degree of freedom fewer when ``expected`` was scaled to the observed total."""
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    keep = expected > 0
    assert observed[~keep].sum() == 0, "a cell with zero expectation was observed"
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    return float(stats.chi2.sf(chi2, int(keep.sum()) - int(fixed_total)))


# ---- times ---------------------------------------------------------------------------------
def test_times_sorted_within_horizon_and_cumulative_delays(city_dict):
    w = _world(city_dict)
    s = _stream(w)
    assert s.n > 100
    for f in FIELDS:
        assert len(getattr(s, f)) == s.n, f
    assert len(s.label) == s.n
    npt.assert_array_equal(s.t_call, np.cumsum(s.delay))           # bit for bit
    assert np.all(s.delay >= 0) and s.delay[0] == s.t_call[0]
    assert np.all(np.diff(s.t_call) >= 0)
    assert s.t_call[0] >= 0 and s.t_call[-1] < w.horizon_min


def test_same_seed_and_replication_same_stream(city_dict):
    w = _world(city_dict)
    assert _same(_stream(w, 9, 2), _stream(w, 9, 2))
    assert _same(_stream(w, 9, 2), _stream(_world(copy.deepcopy(city_dict)), 9, 2))   # a fresh compile


def test_other_replication_or_seed_differs(city_dict):
    w = _world(city_dict)
    base = _stream(w, 9, 2)
    for other in (_stream(w, 9, 3), _stream(w, 10, 2)):
        assert not _same(base, other)
        assert other.n != base.n or not np.array_equal(other.t_call, base.t_call)


# ---- counts ----------------------------------------------------------------------------------
def test_counts_per_district_and_type_match_expected_counts(city_dict):
    city_dict["time"]["horizon"] = "30 d"
    w = _world(city_dict)
    s = _stream(w, seed=17)
    observed = np.zeros_like(w.expected_counts())
    np.add.at(observed, (s.district, s.kind), 1)
    assert _chi2_p(observed.ravel(), w.expected_counts().ravel(), fixed_total=False) > ALPHA
    total = w.expected_counts().sum()
    assert abs(s.n - total) < 4 * np.sqrt(total)


def test_hourly_counts_are_poisson(city_dict):
    """Flat rates: counts per hour are iid Poisson(lambda); index of dispersion ~ chi2(n - 1)."""
    city_dict["time"]["horizon"] = "30 d"
    w = _world(city_dict)
    s = _stream(w, seed=23)
    counts = np.bincount((s.t_call // 60).astype(int), minlength=720)
    lam = w.rates[0].sum() * 60.0
    assert lam == pytest.approx(3.35)
    assert counts.mean() == pytest.approx(lam, abs=4 * np.sqrt(lam / len(counts)))
    d = (len(counts) - 1) * counts.var(ddof=1) / lam
    assert ALPHA < stats.chi2.sf(d, len(counts) - 1) < 1 - ALPHA


def test_counts_follow_the_time_of_day_profile(city_dict):
    city_dict["time"]["horizon"] = "21 d"
    tod = [0.0] * 4 + [1.0] * 8 + [4.0] * 8 + [1.0] * 4
    city_dict["demand"]["profile"] = {"time_of_day": tod}
    w = _world(city_dict)
    s = _stream(w, seed=29)
    hour = (s.t_call // 60 % 24).astype(int)
    observed = np.bincount(hour, minlength=24)
    expected = 21 * 3.35 * np.asarray(tod) / np.mean(tod)
    assert observed[:4].sum() == 0                                   # zero-rate hours stay empty
    assert _chi2_p(observed, expected, fixed_total=False) > ALPHA


# ---- marks of each incident -------------------------------------------------------------------
def test_priorities_follow_each_types_mix(city_dict):
    city_dict["time"]["horizon"] = "30 d"
    w = _world(city_dict)
    s = _stream(w, seed=31)
    for k, name in enumerate(w.type_names):
        mix = city_dict["incident_types"][name]["priority_mix"]
        got = s.priority[s.kind == k]
        assert set(got.tolist()) <= set(mix)
        levels = sorted(mix)
        if len(levels) == 1:
            npt.assert_array_equal(got, levels[0])
            continue
        observed = [(got == p).sum() for p in levels]
        assert _chi2_p(observed, [len(got) * mix[p] for p in levels], fixed_total=True) > ALPHA, name


def test_durations_transport_and_targets(city_dict):
    city_dict["time"]["horizon"] = "30 d"
    city_dict["dispatch_centre"] = {"answer": "10 s", "processing": {"dist": "uniform", "low": 1, "high": 2}}
    w = _world(city_dict)
    s = _stream(w, seed=37)
    med, fire, chem = (s.kind == k for k in range(3))
    npt.assert_array_equal(s.on_scene[fire], 45.0)
    n_med = med.sum()
    assert s.on_scene[med].mean() == pytest.approx(20.0, abs=5 * 8.0 / np.sqrt(n_med))
    assert s.on_scene[chem].min() > 0
    assert np.all((s.handover[med] >= 10) & (s.handover[med] <= 20))
    npt.assert_array_equal(s.handover[fire | chem], 0.0)
    assert not s.transport[fire | chem].any()
    p = s.transport[med].mean()
    assert p == pytest.approx(0.6, abs=5 * np.sqrt(0.24 / n_med))
    npt.assert_allclose(s.answer, 10 / 60)
    assert np.all((s.processing >= 1) & (s.processing <= 2))
    npt.assert_array_equal(s.patience, np.inf)                       # no patience given: callers wait
    expected_target = [w.type_target[(int(k), int(p))] for k, p in zip(s.kind, s.priority, strict=True)]
    npt.assert_array_equal(s.target, expected_target)


def test_patience_is_drawn_when_given(city_dict):
    city_dict["dispatch_centre"] = {"patience": {"dist": "constant", "value": "3 min"}}
    s = _stream(_world(city_dict))
    npt.assert_array_equal(s.patience, 3.0)


# ---- places ------------------------------------------------------------------------------------
def test_locations_inside_their_district(city_dict):
    w = _world(city_dict)
    s = _stream(w, seed=41)
    for d, name in enumerate(w.district_names):
        poly = city_dict["districts"][name]["boundary"]
        mine = s.district == d
        assert mine.sum() > 0
        assert naive_geometry.points_in_polygon(s.x_km[mine], s.y_km[mine], poly).all(), name
    npt.assert_array_equal(w.geo.for_run().xy(np.arange(2)), w.geo.xy(np.arange(2)))
    assert np.unique(s.loc).size == s.n                              # a new plane point per scene


def test_sample_in_polygon_is_uniform(rng):
    ell = np.array([[0, -6], [6, -6], [6, -1], [3, -1], [3, -3], [0, -3]], dtype=float)
    n = 20_000
    pts = sample_in_polygon(ell, n, rng)
    assert pts.shape == (n, 2)
    assert naive_geometry.points_in_polygon(pts[:500, 0], pts[:500, 1], ell).all()
    # the arm [3, 6] x [-3, -1] holds 6 of the 24 km2
    arm = ((pts[:, 0] > 3) & (pts[:, 1] > -3)).mean()
    assert arm == pytest.approx(0.25, abs=5 * np.sqrt(0.25 * 0.75 / n))
    centroid = np.array([81 / 24, -93 / 24])
    se = pts.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(pts.mean(axis=0) - centroid) < 5 * se)


def test_matrix_locations_follow_zone_weights(city_dict):
    d = city_dict
    d["time"]["horizon"] = "30 d"
    d["geography"] = {"kind": "matrix", "places": ["p", "q", "r", "s"],
                      "travel_min": [[0, 5, 9, 2], [5, 0, 4, 3], [9, 4, 0, 8], [2, 3, 8, 0]]}
    d["districts"]["North"] = {"population": 12000, "zones": {"q": 1, "p": 3, "s": 0}}
    d["districts"]["South"] = {"population": 24000, "zones": {"r": 1}}
    d["stations"] = {"N1": {"district": "North", "location": "p"},
                     "S1": {"district": "South", "location": "r"}}
    d["hospitals"] = {"H": {"location": "q"}}
    w = _world(d)
    s = _stream(w, seed=43)
    north = s.loc[s.district == 0]
    assert set(north.tolist()) <= {0, 1}                             # zone s has weight 0
    observed = [(north == 0).sum(), (north == 1).sum()]
    assert _chi2_p(observed, [0.75 * len(north), 0.25 * len(north)], fixed_total=True) > ALPHA
    npt.assert_array_equal(s.loc[s.district == 1], 2)
    assert np.isnan(s.x_km).all()


# ---- scripted incidents --------------------------------------------------------------------------
def test_scripted_incidents_keep_their_fields(city_dict):
    city_dict["incidents"] = [
        {"at": "1 h", "type": "fire", "district": "North", "location": [1, 1], "priority": 1,
         "on_scene": "30 min", "transport": False, "label": "drill A"},
        {"at": 0, "type": "medical", "district": "South", "location": [5, -5], "priority": 2,
         "on_scene": 12, "transport": True, "label": "drill B"},
        {"at": "2 h", "type": "chem", "district": "South", "label": "drill C"},
    ]
    w = _world(city_dict)
    s = _stream(w, seed=47)
    assert s.scripted.sum() == 3
    assert sorted(lbl for lbl in s.label if lbl) == ["drill A", "drill B", "drill C"]
    assert all(s.label[i] == "" for i in np.flatnonzero(~s.scripted))     # generated calls carry no label
    a, b, c = (s.label.index(x) for x in ("drill A", "drill B", "drill C"))
    assert s.scripted[[a, b, c]].all()
    # the event loop adds delays, so call times may differ from ``at`` by rounding only
    npt.assert_allclose(s.t_call[[a, b, c]], [60.0, 0.0, 120.0], rtol=0, atol=1e-9)
    npt.assert_array_equal(s.kind[[a, b, c]], [1, 0, 2])
    npt.assert_array_equal(s.district[[a, b, c]], [0, 1, 1])
    npt.assert_array_equal(s.priority[[a, b]], [1, 2])
    assert s.priority[c] in (1, 2, 3)
    npt.assert_array_equal(s.on_scene[[a, b]], [30.0, 12.0])
    assert s.on_scene[c] > 0
    npt.assert_array_equal(s.transport[[a, b, c]], [False, True, False])
    npt.assert_array_equal(np.c_[s.x_km, s.y_km][[a, b]], [[1.0, 1.0], [5.0, -5.0]])
    south = city_dict["districts"]["South"]["boundary"]
    assert naive_geometry.point_in_polygon(s.x_km[c], s.y_km[c], south)
    assert 10.0 <= s.handover[b] <= 20.0
    npt.assert_array_equal(s.target[[a, b, c]], [10.0, 15.0, 12.0])


def test_scripted_only_scenario(city_dict):
    city_dict["demand"] = {}
    city_dict["incidents"] = [{"at": 30, "type": "medical", "district": "North"},
                              {"at": 10, "type": "fire", "district": "South", "location": [4, -4]}]
    s = _stream(_world(city_dict))
    npt.assert_array_equal(s.t_call, [10.0, 30.0])
    npt.assert_array_equal(s.delay, [10.0, 20.0])
    npt.assert_array_equal(s.kind, [1, 0])
    assert s.scripted.all()


# ---- common random numbers -------------------------------------------------------------------------
def test_changing_one_duration_changes_nothing_else(city_dict):
    w = _world(city_dict)
    base = _stream(w, seed=53)
    changed = copy.deepcopy(city_dict)
    changed["incident_types"]["medical"]["on_scene"] = {"dist": "lognormal", "mean": 35, "sd": 10}
    changed["fleets"]["S1"]["amb"] = 5
    other = _stream(_world(changed), seed=53)
    for f in FIELDS:
        if f != "on_scene":
            npt.assert_array_equal(getattr(other, f), getattr(base, f), err_msg=f)
    med = base.kind == 0
    npt.assert_array_equal(other.on_scene[~med], base.on_scene[~med])
    assert not np.array_equal(other.on_scene[med], base.on_scene[med])


# ---- malformed demand that passes validation -------------------------------------------------------
def test_population_demand_in_a_district_without_zones_is_an_input_error(city_dict):
    """Matrix geography: a district with people (per_1000_per_day) but no zones has nowhere to put calls."""
    d = city_dict
    d["geography"] = {"kind": "matrix", "places": ["p", "r"], "travel_min": [[0, 5], [5, 0]]}
    d["districts"]["North"] = {"population": 12000, "zones": {"p": 1}}
    d["districts"]["South"] = {"population": 24000}                   # no zones, yet demand
    d["demand"] = {"per_1000_per_day": {"medical": 2.0}}
    d["stations"] = {"N1": {"district": "North", "location": "p"},
                     "S1": {"district": "South", "location": "r"}}
    d["hospitals"] = {"H": {"location": "p"}}
    with pytest.raises(InputError):
        _stream(_world(d))


def test_zones_of_zero_total_weight_are_an_input_error(city_dict):
    d = city_dict
    d["geography"] = {"kind": "matrix", "places": ["p", "r"], "travel_min": [[0, 5], [5, 0]]}
    d["districts"]["North"] = {"population": 12000, "zones": {"p": 1}}
    d["districts"]["South"] = {"population": 24000, "zones": {"r": 0}}
    d["stations"] = {"N1": {"district": "North", "location": "p"},
                     "S1": {"district": "South", "location": "r"}}
    d["hospitals"] = {"H": {"location": "p"}}
    with pytest.raises(InputError):
        _stream(_world(d))


def test_road_scenes_are_network_nodes(city_dict):
    city_dict["geography"] = {"kind": "grid", "origin_km": [0, -6], "size_km": [6, 10], "spacing_km": 0.5,
                              "speed_kmh": 30}
    city_dict["incidents"] = [{"at": 5, "type": "fire", "district": "North", "location": [1.1, 2.9],
                               "label": "inject"}]
    w = _world(city_dict)
    s = _stream(w, seed=59)
    net = w.geo.net
    assert s.loc.min() >= 0 and s.loc.max() < net.n_nodes
    npt.assert_array_equal(np.c_[s.x_km, s.y_km], net.xy[s.loc])
    i = s.label.index("inject")
    npt.assert_array_equal([s.x_km[i], s.y_km[i]], [1.0, 3.0])      # snapped to the nearest node
    # scenes drawn inside a district snap to a node at most half a grid diagonal away from it
    for d, name in enumerate(w.district_names):
        poly = np.array(city_dict["districts"][name]["boundary"], dtype=float)
        mine = s.district == d
        lo, hi = poly.min(axis=0) - 0.5 * np.sqrt(0.5), poly.max(axis=0) + 0.5 * np.sqrt(0.5)
        assert np.all((s.x_km[mine] >= lo[0]) & (s.x_km[mine] <= hi[0]))
        assert np.all((s.y_km[mine] >= lo[1]) & (s.y_km[mine] <= hi[1]))

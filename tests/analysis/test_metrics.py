"""Per-run metrics and time series against hand-made tables and the engine's own tables."""

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis import metrics, timeseries
from analysis.store import RunDir

OLD_RUN_METRIC_KEYS = {"n_incidents", "resolved", "unserved", "abandoned", "open_at_end", "mean_response_min",
                       "median_response_min", "p90_response_min", "within_target"}


def _incidents(rows: list[tuple]) -> pd.DataFrame:
    cols = ["district", "priority", "kind", "status", "t_call_min", "t_answer_min", "t_dispatch_min",
            "response_min", "target_min", "in_warmup"]
    df = pd.DataFrame(rows, columns=cols)
    df["t_first_arrival_min"] = df["t_call_min"] + df["response_min"]
    df["incident_id"] = np.arange(len(df))
    return df


@pytest.fixture
def small():
    nan = np.nan
    return _incidents([
        ("A", 1, "fire", "resolved", 100.0, 100.5, 102.0, 6.0, 8.0, False),
        ("A", 2, "medical", "resolved", 110.0, 110.2, 111.0, 10.0, 8.0, False),
        ("B", 1, "medical", "resolved", 120.0, 121.0, 121.5, 4.0, 8.0, False),
        ("B", 1, "medical", "abandoned", 130.0, nan, nan, nan, 8.0, False),
        ("B", 2, "medical", "open_at_end", 140.0, 140.1, nan, nan, 8.0, False),
        ("C", 1, "medical", "resolved", 10.0, 10.1, 10.5, 99.0, 8.0, True),      # warm-up: ignored
    ])


def test_response_stats_and_within_target_rule(small):
    t = metrics.response_stats(small, by=None, extra_quantiles=(0.95,)).iloc[0]
    assert t["n"] == 5 and t["reached"] == 3
    assert t["mean"] == pytest.approx(20 / 3)
    # abandoned and still-open-unreached incidents do not count; 2 of 3 reached in time
    assert t["within_target"] == pytest.approx(2 / 3)
    assert "p95" in t.index
    by = metrics.response_stats(small, by="district").set_index("district")
    assert list(by.index) == ["A", "B"]
    assert by.loc["B", "mean"] == 4.0


def test_delay_stats(small):
    d = metrics.delay_stats(small).set_index("delay")
    assert d.loc["call_to_answer", "n"] == 4                       # abandoned call never answered
    assert d.loc["call_to_answer", "mean"] == pytest.approx((0.5 + 0.2 + 1.0 + 0.1) / 4)
    assert d.loc["answer_to_dispatch", "mean"] == pytest.approx((1.5 + 0.8 + 0.5) / 3)
    assert d.loc["dispatch_to_arrival", "n"] == 3


def test_gini_known_values():
    assert metrics.gini([5, 5, 5, 5]) == 0.0
    assert metrics.gini([0, 0, 0, 1]) == pytest.approx(0.75)          # (n - 1) / n for one holder
    assert metrics.gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert metrics.gini([1, np.nan, 3]) == pytest.approx(metrics.gini([1, 3]))
    assert np.isnan(metrics.gini([]))


def test_equity(small):
    eq = metrics.equity(small)
    assert eq["worst_district"] == "A" and eq["worst_mean_min"] == 8.0
    assert eq["best_district"] == "B" and eq["spread_min"] == 4.0
    assert eq["gini"] == pytest.approx(metrics.gini([8.0, 4.0]))


def test_first_unit_tier_and_response_by():
    inc = _incidents([("A", 1, "fire", "resolved", 0.0, 0.1, 1.0, 5.0, 8.0, False),
                      ("A", 1, "fire", "resolved", 10.0, 10.1, 11.0, 3.0, 8.0, False)])
    asg = pd.DataFrame({"incident_id": [0, 0, 1], "tier": ["city", "district", "enterprise"],
                        "t_arrive_min": [6.0, 5.0, 13.0]})
    assert metrics.first_unit_tier(inc, asg).tolist() == ["district", "enterprise"]
    by = metrics.response_by(inc, asg)
    assert set(by["grouping"]) == {"priority", "kind", "district", "tier"}
    assert set(metrics.response_by(inc, None)["grouping"]) == {"priority", "kind", "district"}


def test_run_metrics_keep_old_keys_and_add_new_ones(run_dir):
    run = RunDir.open(run_dir)
    inc, units = run.table("incidents"), run.table("units")
    out = metrics.run_metrics(inc, units)
    assert set(out) >= OLD_RUN_METRIC_KEYS
    assert {"p95_response_min", "answer_delay_mean_min", "dispatch_delay_mean_min", "district_gini",
            "worst_district_mean_response_min", "district_spread_min", "n_units"} <= set(out)
    assert out["n_units"] == len(units)
    assert all(isinstance(v, float) for v in out.values())
    summary = metrics.summarize(inc, units)
    assert set(summary) == {"incidents", "status", "response", "by_priority", "utilization"}
    assert set(summary["response"]) == {"n", "reached", "mean", "median", "p90", "within_target"}
    assert summary == run.meta["summary"]


def test_busy_per_bin_matches_brute_force():
    rng = np.random.default_rng(5)
    starts = rng.uniform(0, 100, 40)
    ends = starts + rng.exponential(10, 40)
    edges = np.array([0.0, 7.0, 20.0, 55.5, 80.0, 130.0])
    expected = [np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0, None).sum()
                for a, b in itertools.pairwise(edges)]
    np.testing.assert_allclose(timeseries.busy_per_bin(starts, ends, edges), expected)


def test_utilisation_over_time_agrees_with_the_units_table(run_dir):
    run = RunDir.open(run_dir)
    start, end = run.window()
    units = run.table("units")
    ts = timeseries.utilisation_over_time(run.table("assignments"), units, start, end, bin_min=60)
    assert set(ts["unit_kind"]) == set(units["kind"].astype(str))
    assert ts.groupby("unit_kind").size().iloc[0] == int(np.ceil((end - start) / 60))
    mean = ts.groupby("unit_kind")["utilization"].mean()      # equal-width bins: time average
    expected = units.groupby("kind", observed=True)["utilization"].mean()
    for kind, value in expected.items():
        assert mean[str(kind)] == pytest.approx(value, abs=1e-9)


def test_choose_bin_and_edges():
    assert timeseries.choose_bin(2 * 1440) == 15.0
    assert timeseries.choose_bin(30 * 1440) == 120.0
    assert timeseries.choose_bin(5 * 365 * 1440) == 10080.0
    assert timeseries.choose_bin(20 * 365 * 1440) * 400 >= 20 * 365 * 1440
    np.testing.assert_allclose(timeseries.bin_edges(0, 100, 30), [0, 30, 60, 90, 100])
    with pytest.raises(ValueError):
        timeseries.bin_edges(5, 5, 1)


def test_hospital_stays_occupancy_and_summary(run_dir):
    run = RunDir.open(run_dir)
    start, end = run.window()
    stays = timeseries.hospital_stays(run.table("events"))
    transports = run.table("assignments").dropna(subset=["hospital"])
    assert len(stays) == len(transports)
    assert set(stays["hospital"]) <= set(run.scenario["hospitals"])
    assert (stays["wait_min"].dropna() >= 0).all()
    occ = timeseries.hospital_occupancy(stays, start, end, 60)
    cap = {k: v["capacity"] for k, v in run.scenario["hospitals"].items()}
    assert (occ["in_handover"] <= occ["hospital"].map(cap) + 1e-9).all()
    summ = timeseries.hospital_summary(stays, start, end)
    assert (summ["peak_in_handover"] <= summ["hospital"].map(cap)).all()
    assert summ["arrivals"].sum() == ((stays["t_arrive_min"] >= start) & (stays["t_arrive_min"] < end)).sum()


def test_hospital_stays_without_hospital_events():
    ev = pd.DataFrame({"t_min": [1.0], "seq": [0], "kind": ["call_received"], "incident_id": [0],
                       "unit_id": [None], "detail": [None]})
    assert timeseries.hospital_stays(ev).empty
    assert timeseries.hospital_occupancy(timeseries.hospital_stays(ev), 0, 10).empty


def _groupby_reference(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """The plain pandas definition of response_stats (one groupby iteration per group)."""
    rows = []
    for key, g in metrics.measured(df).groupby(by, sort=True, observed=True):
        reached = g["response_min"].dropna()
        rows.append({by: key, "n": len(g), "reached": len(reached),
                     "mean": reached.mean() if len(reached) else np.nan,
                     "median": reached.median() if len(reached) else np.nan,
                     "p90": reached.quantile(0.9) if len(reached) else np.nan,
                     "within_target": metrics.within_target(g)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("by", ["district", "priority", "tier"])
def test_grouped_stats_match_pandas_groupby_with_missing_keys_and_empty_groups(small, by):
    df = small.assign(tier=pd.Series(["city", None, "district", None, "city", "x"], dtype=object),
                      district=pd.Categorical(small["district"], categories=["C", "B", "A", "Z"]))
    got = metrics.response_stats(df, by=by)
    pd.testing.assert_frame_equal(got, _groupby_reference(df, by), check_exact=True)
    assert metrics.response_stats(df.iloc[:0], by=by).empty


def test_response_by_tier_when_some_incidents_were_never_reached(run_dir):
    run = RunDir.open(run_dir)
    inc, asg = run.table("incidents"), run.table("assignments")
    asg = asg[asg["incident_id"] % 3 != 0]                  # a third of the incidents lose their units
    by = metrics.response_by(inc, asg)
    tiers = by[by["grouping"] == "tier"].drop(columns="grouping").rename(columns={"group": "tier"})
    ref = _groupby_reference(inc.assign(tier=metrics.first_unit_tier(inc, asg)), "tier")
    pd.testing.assert_frame_equal(tiers.drop(columns="p95").reset_index(drop=True), ref, check_exact=True)


def test_run_metrics_when_nothing_is_measured():
    # every call falls before the end of the warm-up: counts are zero, statistics NaN, no crash
    import scenarios
    import sim
    from analysis.metrics import response_stats, run_metrics

    scenario = scenarios.override(scenarios.load("ansan"), {"time.horizon": "3 d"})
    result = sim.run(scenario, seed=1, until=1440.5)
    measured = result.incidents[~result.incidents["in_warmup"]]
    assert len(measured) == 0
    metrics = run_metrics(result.incidents, result.units)
    assert metrics["n_incidents"] == 0 and np.isnan(metrics["mean_response_min"])
    columns = response_stats(result.incidents, by="district").columns
    assert list(columns[:4]) == ["district", "n", "reached", "mean"]

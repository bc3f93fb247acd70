"""Statistics across replications against known answers."""

import numpy as np
import pandas as pd
import pytest

from analysis import stats

SEED = 20261123


def _runs(means: dict[str, float], reps: int, rng: np.random.Generator, sd: float = 1.0,
          shared_sd: float = 0.0) -> pd.DataFrame:
    """A summary table: one row per (config, replication); ``shared_sd`` is noise common to a replication."""
    common = rng.normal(0, shared_sd, reps)
    rows = [{"config_id": c, "seed": 1, "replication": r, "m": mu + common[r] + rng.normal(0, sd)}
            for c, mu in means.items() for r in range(reps)]
    return pd.DataFrame(rows)


def test_t_interval_covers_the_mean_95_percent_of_the_time():
    rng = np.random.default_rng(SEED)
    trials, n, mu = 4000, 8, 3.0
    data = rng.normal(mu, 2.0, size=(trials, n))
    intervals = [stats.t_interval(x) for x in data]
    coverage = np.mean([ci["lo"] <= mu <= ci["hi"] for ci in intervals])
    # binomial sd at p = 0.95 over 4000 trials is 0.0034: +-4 sd
    assert abs(coverage - 0.95) < 0.014, coverage


def test_t_interval_known_values_and_small_samples():
    out = stats.t_interval([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, sd 1.29099, t(0.975, 3) = 3.18245
    assert out["mean"] == pytest.approx(2.5)
    assert out["half_width"] == pytest.approx(3.182446 * 1.290994 / 2, rel=1e-5)
    one = stats.t_interval([5.0])
    assert one["n"] == 1 and one["mean"] == 5.0 and np.isnan(one["half_width"])
    assert stats.t_interval([1.0, np.nan, 3.0])["n"] == 2
    with pytest.raises(ValueError, match="level"):
        stats.t_interval([1.0, 2.0], level=1.5)


def test_holm_matches_the_worked_example():
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_keeps_order_and_skips_nan():
    adjusted = stats.holm([0.5, np.nan, 0.2, 0.01])
    np.testing.assert_allclose(adjusted[[0, 2, 3]], [0.5, 0.4, 0.03])
    assert np.isnan(adjusted[1])
    assert stats.holm([0.6, 0.7])[0] == 1.0
    assert stats.holm([]).shape == (0,)


def test_paired_test_edge_cases():
    assert stats.paired_test(np.array([1.0, 1.0, 1.0]))["p_value"] == 0.0
    assert stats.paired_test(np.array([0.0, 0.0]))["p_value"] == 1.0
    assert np.isnan(stats.paired_test(np.array([1.0]))["p_value"])


def test_paired_differences_recover_a_shift_and_remove_shared_variance():
    rng = np.random.default_rng(SEED)
    summary = _runs({"base": 10.0, "faster": 9.0, "same": 10.0}, reps=30, rng=rng, sd=0.2, shared_sd=2.0)
    out = stats.paired_differences(summary, "m", "base").set_index("config_id")
    assert out.loc["faster", "diff_lo"] < -1.0 < out.loc["faster", "diff_hi"]
    assert out.loc["faster", "p_holm"] < 1e-6
    assert out.loc["same", "diff_lo"] < 0 < out.loc["same", "diff_hi"]
    assert (out["half_width"] < out["unpaired_half_width"] / 3).all()
    assert (out["variance_reduction"] > 0.9).all()
    np.testing.assert_allclose(out["p_holm"], stats.holm(out["p_value"]))


def test_paired_intervals_are_narrower_than_unpaired_on_a_crn_sweep(crn_sweep):
    """Real ansan runs: two policies on the same replications (common random numbers)."""
    summary = pd.read_parquet(crn_sweep / "summary.parquet")
    two = summary[summary["sadong_ambulances"] == 1]
    base = two.loc[two["policy"] == "nearest", "config_id"].iloc[0]
    out = stats.paired_differences(two, "mean_response_min", base)
    assert len(out) == 1 and out["n_pairs"].iloc[0] == 5
    row = out.iloc[0]
    assert row["half_width"] < row["unpaired_half_width"], row.to_dict()
    assert row["variance_reduction"] > 0.5, row.to_dict()


def test_prob_best_is_one_for_a_clearly_best_configuration():
    rng = np.random.default_rng(SEED)
    summary = _runs({"a": 10.0, "b": 10.0, "best": 7.0}, reps=10, rng=rng)
    p = stats.prob_best(summary, "m", np.random.default_rng(1))
    assert p["best"] > 0.999
    assert p.sum() == pytest.approx(1.0)


def test_prob_best_follows_the_direction_of_the_metric():
    rng = np.random.default_rng(SEED)
    summary = _runs({"low": 0.5, "high": 0.9}, reps=10, rng=rng, sd=0.01)
    summary = summary.rename(columns={"m": "within_target"})
    assert stats.prob_best(summary, "within_target", np.random.default_rng(1))["high"] > 0.999
    assert stats.prob_best(summary, "within_target", np.random.default_rng(1),
                           lower_is_better=True)["low"] > 0.999


def test_prob_best_is_one_over_k_for_identical_configurations():
    values = np.random.default_rng(SEED).normal(5, 1, 12)
    summary = pd.DataFrame([{"config_id": c, "seed": 1, "replication": r, "m": v}
                            for c in "abcd" for r, v in enumerate(values)])
    p = stats.prob_best(summary, "m", np.random.default_rng(1))
    np.testing.assert_allclose(p.to_numpy(), 0.25)


def test_prob_best_averages_one_over_k_for_exchangeable_configurations():
    rng = np.random.default_rng(SEED)
    k, total = 4, np.zeros(4)
    for _ in range(60):
        summary = _runs({c: 5.0 for c in "abcd"}, reps=8, rng=rng)
        total += stats.prob_best(summary, "m", rng, n_boot=400).to_numpy()
    np.testing.assert_allclose(total / 60, 1 / k, atol=0.08)


def test_prob_best_is_reproducible_with_a_seeded_generator_and_handles_unbalanced_runs():
    rng = np.random.default_rng(SEED)
    summary = _runs({"a": 5.0, "b": 5.3}, reps=6, rng=rng)
    summary = summary.drop(index=[0, 1])                        # a lost two replications
    p1 = stats.prob_best(summary, "m", np.random.default_rng(7))
    p2 = stats.prob_best(summary, "m", np.random.default_rng(7))
    pd.testing.assert_series_equal(p1, p2)
    assert p1.sum() == pytest.approx(1.0)


def test_compare_on_a_sweep_directory(crn_sweep):
    out = stats.compare(crn_sweep, metrics=["mean_response_min", "within_target"])
    assert set(out["metric"]) == {"mean_response_min", "within_target"}
    assert len(out) == 2 * 4
    base = out[out["is_baseline"]]
    assert set(base["config_id"]) == {"c000"} and base["diff"].isna().all()
    assert out.groupby("metric")["prob_best"].sum().to_numpy() == pytest.approx([1, 1])
    assert out["label"].str.contains("policy=").all()
    again = stats.compare(crn_sweep, metrics=["mean_response_min", "within_target"])
    pd.testing.assert_frame_equal(out, again)
    other = stats.compare(crn_sweep, baseline="c001", metrics=["mean_response_min"])
    assert other.loc[other["is_baseline"], "config_id"].tolist() == ["c001"]


def test_compare_rejects_unknown_baseline_metric_and_run_directories(crn_sweep, run_dir):
    from analysis.store import StoreError

    with pytest.raises(KeyError, match="baseline"):
        stats.compare(crn_sweep, baseline="nope")
    with pytest.raises(KeyError, match="metric"):
        stats.compare(crn_sweep, metrics=["nope"])
    with pytest.raises(StoreError, match="sweep"):
        stats.compare(run_dir)

"""Statistics across replications: t and median intervals, paired differences, Holm, bootstrap ranking.

Replication r of every configuration of a sweep sees the same random
numbers (same seed and replication), so a configuration and the baseline
are compared run against run: the paired difference removes the variation
that both share, and its interval is narrower than the interval of two
independent samples. :func:`paired_differences` shows by how much.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: Metrics where a larger value is better; every other metric is better smaller.
HIGHER_IS_BETTER = ("within_target", "resolved", "n_incidents")

#: Default metrics of :func:`compare`.
DEFAULT_METRICS = ("mean_response_min", "p90_response_min", "within_target")


def higher_is_better(metric: str) -> bool:
    """True for metrics where larger is better (shares within target, resolved counts)."""
    return any(metric == m or metric.endswith(f"_{m}") for m in HIGHER_IS_BETTER)


def t_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Mean with a Student-t confidence interval.

    Parameters
    ----------
    values : array-like of float
        Independent observations (one per replication); NaN values are dropped.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    dict
        n, mean, sd, half_width, lo, hi (interval bounds are NaN when n < 2).

    Raises
    ------
    ValueError
        When ``level`` is not in (0, 1).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    n = len(x)
    mean = float(x.mean()) if n else np.nan
    sd = float(x.std(ddof=1)) if n > 1 else np.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
    return {"n": n, "mean": mean, "sd": sd, "half_width": half, "lo": mean - half, "hi": mean + half}


def median_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Distribution-free confidence interval of the median and its exact coverage.

    The interval runs from order statistic ``k`` to ``n + 1 - k``, ``k`` the
    largest rank whose coverage ``1 - 2 P(Binomial(n, 1/2) <= k - 1)`` is at
    least ``level``; with fewer than 6 values none is, and the interval is the
    range, whose (lower) coverage is returned.
    """
    xs = sorted(values)
    k, coverage = _median_rank(len(xs), level)
    return xs[k - 1], xs[len(xs) - k], coverage


@lru_cache(maxsize=64)
def _median_rank(n: int, level: float) -> tuple[int, float]:
    """The rank ``k`` of :func:`median_interval` for ``n`` values, and its coverage."""
    k = 1
    while k < n // 2 and 1 - 2 * stats.binom.cdf(k, n, 0.5) >= level:
        k += 1
    return k, float(1 - 2 * stats.binom.cdf(k - 1, n, 0.5))


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values for many comparisons.

    The k-th smallest of m p-values is multiplied by (m - k + 1), then the
    running maximum is taken so that the adjusted values keep the order, and
    capped at 1. NaN values stay NaN and do not count in m.

    Parameters
    ----------
    pvalues : array-like of float
        Raw p-values.

    Returns
    -------
    ndarray of float
        Adjusted p-values, in the input order.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = p[order] * (m - np.arange(m))
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def paired_test(diff: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Paired-t interval and two-sided p-value of the mean of differences.

    Parameters
    ----------
    diff : float64[n]
        Differences configuration - baseline, one per replication.
    level : float
        Confidence level.

    Returns
    -------
    dict
        As :func:`t_interval`, plus ``p_value`` (0 or 1 when all differences are equal).
    """
    out = t_interval(diff, level)
    n, sd = out["n"], out["sd"]
    if n < 2:
        out["p_value"] = np.nan
    elif sd == 0:
        out["p_value"] = 0.0 if out["mean"] != 0 else 1.0
    else:
        t = out["mean"] / (sd / np.sqrt(n))
        out["p_value"] = float(2 * stats.t.sf(abs(t), n - 1))
    return out


def welch_half_width(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the interval of ``mean(a) - mean(b)`` treating the samples as independent (Welch)."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return np.nan
    va, vb = np.var(a, ddof=1) / na, np.var(b, ddof=1) / nb
    se = np.sqrt(va + vb)
    if se == 0:
        return 0.0
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return float(stats.t.ppf(0.5 + level / 2, df) * se)


def pair_keys(summary: pd.DataFrame) -> list[str]:
    """Columns that identify a replication across configurations (same random numbers)."""
    keys = [c for c in ("scenario", "seed", "replication") if c in summary]
    if "scenario" in keys and "config_id" in summary:
        # a scenario that varies between configurations is a factor, not part of the pairing
        per_config = summary.groupby("config_id")["scenario"].nunique()
        if summary["scenario"].nunique() > per_config.max():
            keys.remove("scenario")
    return keys


def config_means(summary: pd.DataFrame, metric: str, by: str = "config_id",
                 level: float = 0.95) -> pd.DataFrame:
    """Mean of ``metric`` per configuration with a t interval across replications.

    Parameters
    ----------
    summary : DataFrame
        One row per run, with the ``by`` column and the metric.
    metric : str
        Column to summarise.
    by : str
        Column naming the configuration.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        Columns ``by``, n, mean, sd, half_width, lo, hi; configurations in
        order of first appearance.
    """
    rows = [{by: key, **t_interval(g[metric].to_numpy(float), level)}
            for key, g in summary.groupby(by, sort=False)]
    return pd.DataFrame(rows, columns=[by, "n", "mean", "sd", "half_width", "lo", "hi"])


def paired_differences(summary: pd.DataFrame, metric: str, baseline: str, by: str = "config_id",
                       level: float = 0.95, keys: list[str] | None = None) -> pd.DataFrame:
    """Paired differences of ``metric`` against the baseline, with Holm-adjusted p-values.

    Runs are matched on ``keys`` (default :func:`pair_keys`: seed and
    replication), i.e. on common random numbers; unmatched runs are left out.

    Parameters
    ----------
    summary : DataFrame
        One row per run.
    metric : str
        Column compared.
    baseline : str
        Value of ``by`` of the baseline configuration.
    by : str
        Column naming the configuration.
    level : float
        Confidence level of the intervals.
    keys : list of str, optional
        Columns that match a run to its baseline twin.

    Returns
    -------
    DataFrame
        One row per other configuration: ``by``, n_pairs, diff (mean of
        configuration - baseline), diff_lo, diff_hi, half_width, p_value,
        p_holm, unpaired_half_width (Welch interval of the same runs taken as
        independent), variance_reduction (``1 - var(d) / (var(a) + var(b))``,
        the share of the difference's variance removed by pairing) and
        width_ratio (paired / unpaired half-width).

    Raises
    ------
    KeyError
        When the baseline has no runs.
    """
    keys = keys if keys is not None else pair_keys(summary)
    base = summary[summary[by] == baseline]
    if not len(base):
        raise KeyError(f"baseline {baseline!r} has no runs")
    base = base.drop_duplicates(keys)[[*keys, metric]] if keys else base[[metric]]
    rows = []
    for key, g in summary[summary[by] != baseline].groupby(by, sort=False):
        rows.append({by: key, **_pair(g, base, keys, metric, level)})
    cols = [by, "n_pairs", "diff", "diff_lo", "diff_hi", "half_width", "p_value", "unpaired_half_width",
            "variance_reduction", "width_ratio"]
    out = pd.DataFrame(rows, columns=cols)
    out.insert(7, "p_holm", holm(out["p_value"].to_numpy(float)) if len(out) else [])
    return out


def _pair(g: pd.DataFrame, base: pd.DataFrame, keys: list[str], metric: str, level: float) -> dict:
    if keys:
        both = g.drop_duplicates(keys)[[*keys, metric]].merge(base, on=keys, suffixes=("", "_base"))
    else:  # no replication columns: pair by position
        n = min(len(g), len(base))
        both = pd.DataFrame({metric: g[metric].to_numpy()[:n], f"{metric}_base": base[metric].to_numpy()[:n]})
    both = both.dropna(subset=[metric, f"{metric}_base"])
    a, b = both[metric].to_numpy(float), both[f"{metric}_base"].to_numpy(float)
    t = paired_test(a - b, level)
    unpaired = welch_half_width(a, b, level)
    var_sum = np.var(a, ddof=1) + np.var(b, ddof=1) if len(a) > 1 else np.nan
    return {"n_pairs": t["n"], "diff": t["mean"], "diff_lo": t["lo"], "diff_hi": t["hi"],
            "half_width": t["half_width"], "p_value": t["p_value"], "unpaired_half_width": unpaired,
            "variance_reduction": 1 - t["sd"] ** 2 / var_sum if var_sum and var_sum > 0 else np.nan,
            "width_ratio": t["half_width"] / unpaired if unpaired and unpaired > 0 else np.nan}


def prob_best(summary: pd.DataFrame, metric: str, rng: np.random.Generator, by: str = "config_id",
              lower_is_better: bool | None = None, n_boot: int = 2000,
              keys: list[str] | None = None) -> pd.Series:
    """Bootstrap probability that each configuration has the best mean of ``metric``.

    When every configuration has the same replications (common random
    numbers), replications are resampled jointly, keeping the pairing;
    otherwise each configuration's runs are resampled on their own. Ties in a
    resample share the win equally, so identical configurations get 1/k each.

    Parameters
    ----------
    summary : DataFrame
        One row per run.
    metric : str
        Column ranked.
    rng : numpy.random.Generator
        Source of the resampling (seed it for a reproducible answer).
    by : str
        Column naming the configuration.
    lower_is_better : bool, optional
        Direction; default from :func:`higher_is_better`.
    n_boot : int
        Number of bootstrap resamples.
    keys : list of str, optional
        Columns that match replications (default :func:`pair_keys`).

    Returns
    -------
    Series
        Probability per configuration (index: ``by`` values), summing to 1.
    """
    lower = (not higher_is_better(metric)) if lower_is_better is None else lower_is_better
    data = summary.dropna(subset=[metric])
    names = list(dict.fromkeys(data[by]))
    keys = keys if keys is not None else pair_keys(data)
    matrix = _balanced(data, metric, by, names, keys)
    if matrix is not None:
        idx = rng.integers(0, matrix.shape[1], size=(n_boot, matrix.shape[1]))
        means = matrix[:, idx].mean(axis=2).T                                 # [boot, config]
    else:
        means = np.column_stack([_boot_means(data.loc[data[by] == c, metric].to_numpy(float), n_boot, rng)
                                 for c in names])
    score = means if lower else -means
    wins = np.isclose(score, score.min(axis=1, keepdims=True), rtol=0, atol=1e-12)
    share = (wins / wins.sum(axis=1, keepdims=True)).mean(axis=0)
    return pd.Series(share, index=pd.Index(names, name=by), name="prob_best")


def _balanced(data: pd.DataFrame, metric: str, by: str, names: list, keys: list[str]) -> np.ndarray | None:
    """Values as [config, replication] when every configuration has the same replications once."""
    if not keys or data.duplicated([by, *keys]).any():
        return None
    wide = data.pivot_table(index=by, columns=keys, values=metric, aggfunc="first")
    if wide.isna().any().any():
        return None
    return wide.loc[names].to_numpy(float)


def _boot_means(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    if len(x) == 0:
        return np.full(n_boot, np.nan)
    return x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)


def compare(store: str | Path | pd.DataFrame | Any, baseline: str | None = None,
            metrics: Sequence[str] = DEFAULT_METRICS, level: float = 0.95, n_boot: int = 2000,
            seed: int = 0) -> pd.DataFrame:
    """Compare a sweep's configurations: means, paired differences vs a baseline, ranking.

    Parameters
    ----------
    store : str, Path, SweepDir or DataFrame
        A sweep directory (or its opened :class:`analysis.store.SweepDir`), or
        a summary table with ``config_id`` and one row per run.
    baseline : str, optional
        ``config_id`` of the baseline; default the plan's baseline, else the
        first configuration.
    metrics : sequence of str
        Summary columns to compare.
    level : float
        Confidence level.
    n_boot : int
        Bootstrap resamples for the probability of being best.
    seed : int
        Seed of the bootstrap's generator.

    Returns
    -------
    DataFrame
        One row per (metric, configuration): metric, config_id, label,
        is_baseline, n, mean, lo, hi, half_width, then the paired columns of
        :func:`paired_differences` (NaN for the baseline), prob_best and rank
        (1 = best mean).

    Raises
    ------
    analysis.store.StoreError
        When ``store`` is a path that is not a sweep directory.
    KeyError
        When a metric or the baseline is not in the summary.
    """
    summary, labels, baseline = _summary_of(store, baseline)
    frames = []
    for k, metric in enumerate(metrics):
        if metric not in summary:
            raise KeyError(f"metric {metric!r} is not a summary column")
        frames.append(_compare_one(summary, metric, baseline, level, n_boot,
                                   np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))))
    out = pd.concat(frames, ignore_index=True)
    out.insert(2, "label", out["config_id"].map(labels).fillna(out["config_id"]))
    return out


def _compare_one(summary: pd.DataFrame, metric: str, baseline: str, level: float, n_boot: int,
                 rng: np.random.Generator) -> pd.DataFrame:
    means = config_means(summary, metric, level=level).drop(columns="sd")
    paired = paired_differences(summary, metric, baseline, level=level).rename(
        columns={"half_width": "diff_half_width"})
    out = means.merge(paired, on="config_id", how="left")
    out["prob_best"] = out["config_id"].map(prob_best(summary, metric, rng, n_boot=n_boot))
    sign = -1 if higher_is_better(metric) else 1
    out["rank"] = (sign * out["mean"]).rank(method="min").astype("Int64")
    out.insert(0, "metric", metric)
    out.insert(2, "is_baseline", out["config_id"] == baseline)
    return out


def _summary_of(store: Any, baseline: str | None) -> tuple[pd.DataFrame, dict[str, str], str]:
    """Summary table, labels per config_id, and the baseline id, from any accepted ``store``."""
    from analysis.store import StoreError, SweepDir, open_dir

    if isinstance(store, pd.DataFrame):
        summary = store
        names = summary["label"] if "label" in summary else summary["config_id"]
        labels = dict(zip(summary["config_id"].astype(str), names.astype(str), strict=True))
        default = str(summary["config_id"].iloc[0]) if len(summary) else None
    else:
        sweep = store if isinstance(store, SweepDir) else open_dir(store)
        if not isinstance(sweep, SweepDir):
            raise StoreError(f"{sweep.path}: compare needs a sweep directory (with summary.parquet)")
        summary, default = sweep.summary, sweep.baseline
        labels = dict(zip(sweep.configs["config_id"], sweep.configs["label"], strict=True))
    summary = summary.assign(config_id=summary["config_id"].astype(str))
    baseline = str(baseline) if baseline is not None else default
    if baseline not in set(summary["config_id"]):
        raise KeyError(f"baseline {baseline!r} is not a configuration of this sweep")
    return summary, labels, baseline


def head_to_head(summary: pd.DataFrame, metric: str, configs: Sequence[str], by: str = "config_id",
                 level: float = 0.95, keys: list[str] | None = None) -> pd.DataFrame:
    """Paired differences between every two of ``configs`` (the leaders), Holm-adjusted over the pairs.

    Pairs are taken in the order of ``configs`` (normally best mean first):
    row (a, b) holds ``mean(a - b)`` over the replications both ran, so a
    negative difference of a time (a positive one of a share) says that
    ``a`` is better.

    Parameters
    ----------
    summary : DataFrame
        One row per run.
    metric : str
        Column compared.
    configs : sequence of str
        Values of ``by`` to compare, in order.
    by : str
        Column naming the configuration.
    level : float
        Confidence level.
    keys : list of str, optional
        Columns that match replications (default :func:`pair_keys`).

    Returns
    -------
    DataFrame
        One row per pair: config_a, config_b, n_pairs, diff, diff_lo,
        diff_hi, p_value and p_holm (Holm over the k(k-1)/2 pairs).
    """
    keys = keys if keys is not None else pair_keys(summary)
    rows = []
    for i, a in enumerate(configs):
        for b in configs[i + 1:]:
            base = summary[summary[by] == b]
            base = base.drop_duplicates(keys)[[*keys, metric]] if keys else base[[metric]]
            r = _pair(summary[summary[by] == a], base, keys, metric, level)
            rows.append({"config_a": a, "config_b": b, **{k: r[k] for k in ("n_pairs", "diff", "diff_lo",
                                                                          "diff_hi", "p_value")}})
    out = pd.DataFrame(rows, columns=["config_a", "config_b", "n_pairs", "diff", "diff_lo", "diff_hi",
                                      "p_value"])
    out["p_holm"] = holm(out["p_value"].to_numpy(float)) if len(out) else []
    return out

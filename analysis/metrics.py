"""Metrics of one run, as pure functions of its result tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def measured(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents called after the warm-up (the ones that count)."""
    return incidents.loc[~incidents["in_warmup"]] if "in_warmup" in incidents else incidents


def response_stats(incidents: pd.DataFrame, by: str | None = "priority") -> pd.DataFrame:
    """Response-time statistics (minutes) of incidents reached by a unit.

    Parameters
    ----------
    incidents : DataFrame
        The incidents table of a run (warm-up rows are dropped here).
    by : str or None
        Column to group by, or None for one overall row.

    Returns
    -------
    DataFrame
        Columns n, reached, mean, median, p90, within_target. ``within_target``
        is the share of incidents reached within their target among those that
        were not abandoned and not still waiting at the end; incidents that
        were never reached count as missed.
    """
    df = measured(incidents)
    groups = [("all", df)] if by is None else list(df.groupby(by, sort=True))
    rows = []
    for key, g in groups:
        reached = g["response_min"].dropna()
        counted = g[(g["status"] != "abandoned")
                    & ~((g["status"] == "open_at_end") & g["response_min"].isna())]
        hit = (counted["response_min"] <= counted["target_min"]).sum()
        rows.append({
            (by or "group"): key,
            "n": len(g),
            "reached": len(reached),
            "mean": reached.mean() if len(reached) else np.nan,
            "median": reached.median() if len(reached) else np.nan,
            "p90": reached.quantile(0.9) if len(reached) else np.nan,
            "within_target": hit / len(counted) if len(counted) else np.nan,
        })
    return pd.DataFrame(rows)


def status_counts(incidents: pd.DataFrame) -> dict[str, int]:
    """Number of measured incidents per final status."""
    counts = measured(incidents)["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in ("resolved", "unserved", "abandoned", "open_at_end")}


def utilisation_by_kind(units: pd.DataFrame) -> pd.DataFrame:
    """Mean utilisation and unit count per unit kind."""
    return (units.groupby("kind", sort=True)
            .agg(units=("unit_id", "size"), utilization=("utilization", "mean"))
            .reset_index())


def summarize(incidents: pd.DataFrame, units: pd.DataFrame) -> dict[str, Any]:
    """Headline figures of a run, JSON-ready.

    Returns
    -------
    dict
        ``incidents`` (measured count), ``status`` counts, ``response`` (overall
        mean / median / p90 / within_target), ``by_priority`` rows, and
        ``utilization`` per unit kind.
    """
    overall = response_stats(incidents, by=None).iloc[0].to_dict()
    by_priority = response_stats(incidents, by="priority")
    return {
        "incidents": len(measured(incidents)),
        "status": status_counts(incidents),
        "response": {k: _plain(v) for k, v in overall.items() if k not in ("group",)},
        "by_priority": [{k: _plain(v) for k, v in r.items()} for r in by_priority.to_dict("records")],
        "utilization": {r["kind"]: _plain(r["utilization"])
                        for r in utilisation_by_kind(units).to_dict("records")},
    }


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return None if np.isnan(v) else float(v)
    return v


def run_metrics(incidents: pd.DataFrame, units: pd.DataFrame) -> dict[str, float]:
    """Flat headline metrics of one run (warm-up excluded), for sweep summaries.

    Keys: ``n_incidents``, ``resolved``, ``unserved``, ``abandoned``,
    ``open_at_end``, ``mean_response_min``, ``median_response_min``,
    ``p90_response_min``, ``within_target``, then ``p<k>_mean_response_min`` and
    ``p<k>_within_target`` per priority k, and ``utilization_<kind>`` per unit
    kind. Values are floats (NaN where undefined). New keys may be added;
    existing ones keep their meaning.
    """
    out: dict[str, float] = {"n_incidents": float(len(measured(incidents)))}
    out.update({k: float(v) for k, v in status_counts(incidents).items()})
    overall = response_stats(incidents, by=None).iloc[0]
    out.update(mean_response_min=float(overall["mean"]), median_response_min=float(overall["median"]),
               p90_response_min=float(overall["p90"]), within_target=float(overall["within_target"]))
    for row in response_stats(incidents, by="priority").to_dict("records"):
        out[f"p{row['priority']}_mean_response_min"] = float(row["mean"])
        out[f"p{row['priority']}_within_target"] = float(row["within_target"])
    for row in utilisation_by_kind(units).to_dict("records"):
        out[f"utilization_{row['kind']}"] = float(row["utilization"])
    return out

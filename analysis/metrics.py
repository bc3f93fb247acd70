"""Metrics of one run, as pure functions of its result tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def measured(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents called after the warm-up (the ones that count)."""
    return incidents.loc[~incidents["in_warmup"]] if "in_warmup" in incidents else incidents


def response_stats(incidents: pd.DataFrame, by: str | None = "priority",
                   extra_quantiles: tuple[float, ...] = ()) -> pd.DataFrame:
    """Response-time statistics (minutes) of incidents reached by a unit.

    Parameters
    ----------
    incidents : DataFrame
        The incidents table of a run (warm-up rows are dropped here).
    by : str or None
        Column to group by, or None for one overall row.
    extra_quantiles : tuple of float
        More quantiles to report, e.g. ``(0.95,)`` adds a column ``p95``.

    Returns
    -------
    DataFrame
        Columns n, reached, mean, median, p90, within_target (then one column
        per extra quantile). ``within_target`` is the share of incidents
        reached within their target among those that were not abandoned and
        not still waiting at the end; incidents that were never reached count
        as missed. Groups without incidents are left out.
    """
    return _stats(measured(incidents), by, extra_quantiles)


def _stats(df: pd.DataFrame, by: str | None, extra_quantiles: tuple[float, ...],
           flags: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """:func:`response_stats` of already measured rows (``flags``: their :func:`_target_flags`)."""
    response = df["response_min"].to_numpy(np.float64)
    hit, counted = flags if flags is not None else _target_flags(df)
    rows = []
    for key, idx in _group_positions(df, by):
        r = response[idx]
        reached = r[~np.isnan(r)]
        n_counted = counted[idx].sum()
        row = {(by or "group"): key, "n": len(idx), "reached": len(reached),
               "mean": reached.sum() / len(reached) if len(reached) else np.nan,
               "median": np.median(reached) if len(reached) else np.nan,
               "p90": np.quantile(reached, 0.9) if len(reached) else np.nan,
               "within_target": hit[idx].sum() / n_counted if n_counted else np.nan}
        for q in extra_quantiles:
            row[f"p{round(100 * q):d}"] = np.quantile(reached, q) if len(reached) else np.nan
        rows.append(row)
    columns = [by or "group", "n", "reached", "mean", "median", "p90", "within_target",
               *(f"p{round(100 * q):d}" for q in extra_quantiles)]
    return pd.DataFrame(rows, columns=columns)  # the columns exist even when nothing was measured


def _group_positions(df: pd.DataFrame, by: str | None) -> list[tuple[Any, np.ndarray]]:
    """(key, row positions) per group, in the order of ``df.groupby(by, sort=True)``.

    One groupby pass plus numpy slicing: per-group pandas calls cost about a
    millisecond each, which adds up over the districts and runs of a sweep
    (benchmarks/report.py).
    """
    if by is None:
        return [("all", np.arange(len(df)))]
    gb = df.groupby(by, sort=True, observed=True)
    sizes = gb.size()
    if not len(sizes):
        return []
    codes = gb.ngroup().to_numpy()
    rows = np.flatnonzero(codes >= 0)            # -1: a missing key, which groupby leaves out
    order = rows[np.argsort(codes[rows], kind="stable")]
    return list(zip(sizes.index, np.split(order, np.cumsum(sizes.to_numpy())[:-1]), strict=True))


def _target_flags(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per incident: reached within target, and counted in the share (see :func:`within_target`)."""
    status = df["status"].astype(str).to_numpy()
    response = df["response_min"].to_numpy(np.float64)
    counted = (status != "abandoned") & ~((status == "open_at_end") & np.isnan(response))
    return counted & (response <= df["target_min"].to_numpy(np.float64)), counted


def within_target(incidents: pd.DataFrame) -> float:
    """Share reached within target, among incidents neither abandoned nor still waiting at the end.

    Parameters
    ----------
    incidents : DataFrame
        Incident rows (already restricted to the measured ones).

    Returns
    -------
    float
        The share in [0, 1], NaN when no incident counts.
    """
    hit, counted = _target_flags(incidents)
    return float(hit.sum() / counted.sum()) if counted.any() else np.nan


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
        mean / median / p90 / within_target), ``by_priority`` rows (with the
        least and greatest ``target_min`` of the priority's incidents: targets
        are set per incident type and priority), and ``utilization`` per unit kind.
    """
    overall = response_stats(incidents, by=None).iloc[0].to_dict()
    by_priority = response_stats(incidents, by="priority")
    targets = measured(incidents).groupby("priority", observed=True)["target_min"].agg(["min", "max"])
    if len(by_priority):
        by_priority["target_min_low"] = by_priority["priority"].map(targets["min"])
        by_priority["target_min_high"] = by_priority["priority"].map(targets["max"])
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
    kind. Issue #4 added ``p95_response_min``, ``answer_delay_mean_min``,
    ``dispatch_delay_mean_min``, ``unit_wait_mean_min`` (issue #16; see :func:`delay_stats`),
    ``worst_district_mean_response_min``, ``district_spread_min``,
    ``district_gini`` (see :func:`equity`) and ``n_units`` (fleet size).
    Values are floats (NaN where undefined). New keys may be added; existing
    ones keep their meaning.
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
    out.update(_more_metrics(incidents, units))
    out.update(resource_metrics(incidents))
    return out


def resource_metrics(incidents: pd.DataFrame) -> dict[str, float]:
    """Keys of the resource components of issue #11, present only when their columns are.

    ``wasted_dispatches`` (units sent to false alarms), ``false_alarms_caught``
    (closed after a drone's report, no unit sent) and ``wrong_plans`` (incidents
    dispatched as another type than they were) with drones; ``material_delayed``
    (incidents whose work waited for material) and ``material_delay_min`` (their
    minutes, summed) with reserves; ``call_delay_mean_min`` and
    ``start_to_arrival_mean_min`` (site events that were real, from their start)
    with sensors. Warm-up excluded.
    """
    df = measured(incidents)
    out: dict[str, float] = {}
    if "false_alarm" in df:
        false = df[df["false_alarm"].astype(bool)]
        out["wasted_dispatches"] = float(false["units_assigned"].sum())
        out["false_alarms_caught"] = float((false["drone_outcome"].astype(str) == "false_alarm").sum())
        out["wrong_plans"] = float(df["wrong_plan"].astype(bool).sum())
    if "material_wait_min" in df:
        wait = df["material_wait_min"].fillna(0.0)
        out["material_delayed"] = float((wait > 0).sum())
        out["material_delay_min"] = float(wait.sum())
    if "call_delay_min" in df:
        site = df[df["call_delay_min"].notna() & ~df["sensor_false_alarm"].astype(bool)]
        out["call_delay_mean_min"] = float(site["call_delay_min"].mean()) if len(site) else np.nan
        start = site["t_first_arrival_min"] - site["t_start_min"]
        out["start_to_arrival_mean_min"] = float(start.mean()) if start.notna().any() else np.nan
    return out


def _more_metrics(incidents: pd.DataFrame, units: pd.DataFrame) -> dict[str, float]:
    """Keys added by issue #4: p95, delays, equity across districts, fleet size."""
    df = measured(incidents)
    reached = df["response_min"].dropna()
    delays = delay_stats(incidents).set_index("delay")
    eq = equity(incidents)
    return {
        "p95_response_min": float(reached.quantile(0.95)) if len(reached) else np.nan,
        "answer_delay_mean_min": float(delays.loc["call_to_answer", "mean"]),
        "dispatch_delay_mean_min": float(delays.loc["answer_to_dispatch", "mean"]),
        "unit_wait_mean_min": float(delays.loc["wait_for_free_unit", "mean"])
        if "wait_for_free_unit" in delays.index else np.nan,
        "worst_district_mean_response_min": float(eq["worst_mean_min"]),
        "district_spread_min": float(eq["spread_min"]),
        "district_gini": float(eq["gini"]),
        "n_units": float(len(units)),
    }


#: Delays of call handling: name -> (from column, to column). ``t_processed_min`` is
#: ``t_answer_min + processing_min`` (the call taken and processed, ready for a unit).
DELAYS = {
    "call_to_answer": ("t_call_min", "t_answer_min"),
    "call_processing": ("t_answer_min", "t_processed_min"),
    "wait_for_free_unit": ("t_processed_min", "t_dispatch_min"),
    "answer_to_dispatch": ("t_answer_min", "t_dispatch_min"),
    "call_to_dispatch": ("t_call_min", "t_dispatch_min"),
    "dispatch_to_arrival": ("t_dispatch_min", "t_first_arrival_min"),
}


def delay_stats(incidents: pd.DataFrame) -> pd.DataFrame:
    """Call-handling delays (minutes) of measured incidents.

    Parameters
    ----------
    incidents : DataFrame
        The incidents table of a run (warm-up rows are dropped here).

    Returns
    -------
    DataFrame
        One row per delay of :data:`DELAYS` (``call_to_answer``: waiting for a
        call-taker; ``call_processing``: answer until the call is processed;
        ``wait_for_free_unit``: processed until the first dispatch, zero unless
        no suitable unit was free (a queued incident); ``answer_to_dispatch``:
        the two together; ``call_to_dispatch``; ``dispatch_to_arrival``: turnout
        and travel of the first unit) with columns delay, n, mean, median,
        p90, p95 and waited (how many had a delay above 1e-6 min). Incidents
        whose later event did not happen are left out of that delay (they are
        counted by :func:`status_counts`). Without a ``processing_min`` column
        the processing and waiting rows are left out.
    """
    df = measured(incidents)
    if "processing_min" in df:
        df = df.assign(t_processed_min=df["t_answer_min"] + df["processing_min"])
    rows = []
    for name, (a, b) in DELAYS.items():
        if a in df and b in df:
            d = (df[b] - df[a]).dropna()
            if name == "wait_for_free_unit":
                d = d.clip(lower=0.0)          # float rounding of t_answer + processing
            rows.append({"delay": name, **_describe(d)})
    return pd.DataFrame(rows)


def _describe(d: pd.Series) -> dict[str, float]:
    if not len(d):
        return {"n": 0, "mean": np.nan, "median": np.nan, "p90": np.nan, "p95": np.nan, "waited": 0}
    return {"n": len(d), "mean": d.mean(), "median": d.median(), "p90": d.quantile(0.9),
            "p95": d.quantile(0.95), "waited": int((d > 1e-6).sum())}


def load_by_station(units: pd.DataFrame) -> pd.DataFrame:
    """Utilisation of each station's units, per unit kind and for all its units.

    A station's utilisation is its units' busy minutes over the measured
    period divided by (units x period), i.e. the mean of their
    ``utilization`` (every unit is measured over the same period).

    Parameters
    ----------
    units : DataFrame
        The units table (``unit_id``, ``kind``, ``station``, ``busy_min``,
        ``n_assignments``, ``utilization``).

    Returns
    -------
    DataFrame
        Columns station, kind (a unit kind, or ``"all"``), units, busy_min
        (sum), n_assignments (sum), utilization (mean over the units).
    """
    cols = ["station", "kind", "units", "busy_min", "n_assignments", "utilization"]
    if not len(units):
        return pd.DataFrame(columns=cols)
    u = units.assign(station=units["station"].astype(str), kind=units["kind"].astype(str))
    agg = {"units": ("unit_id", "size"), "busy_min": ("busy_min", "sum"),
           "n_assignments": ("n_assignments", "sum"), "utilization": ("utilization", "mean")}
    per_kind = u.groupby(["station", "kind"], sort=True).agg(**agg).reset_index()
    every = u.groupby("station", sort=True).agg(**agg).reset_index().assign(kind="all")
    return pd.concat([every, per_kind], ignore_index=True)[cols]


def load_by_unit(units: pd.DataFrame) -> pd.DataFrame:
    """Each unit's utilisation and assignments, busiest first.

    Parameters
    ----------
    units : DataFrame
        The units table.

    Returns
    -------
    DataFrame
        Columns unit_id, station, kind, n_assignments, utilization; sorted by
        utilization (descending, then unit_id).
    """
    u = units.assign(unit_id=units["unit_id"].astype(str), station=units["station"].astype(str),
                     kind=units["kind"].astype(str))
    u = u.sort_values(["utilization", "unit_id"], ascending=[False, True], kind="stable")
    return u[["unit_id", "station", "kind", "n_assignments", "utilization"]].reset_index(drop=True)


def first_unit_tier(incidents: pd.DataFrame, assignments: pd.DataFrame) -> pd.Series:
    """Tier (district / city / enterprise ...) of the first unit on scene, per incident.

    Parameters
    ----------
    incidents : DataFrame
        The incidents table.
    assignments : DataFrame
        The assignments table (``incident_id``, ``tier``, ``t_arrive_min``).

    Returns
    -------
    Series
        Aligned with ``incidents``; missing where no unit arrived.
    """
    arrived = assignments.dropna(subset=["t_arrive_min"]).sort_values(["t_arrive_min", "incident_id"])
    first = arrived.drop_duplicates("incident_id").set_index("incident_id")["tier"].astype(str)
    return pd.Series(incidents["incident_id"].map(first).to_numpy(), index=incidents.index, name="tier")


def response_by(incidents: pd.DataFrame, assignments: pd.DataFrame | None = None,
                groups: tuple[str, ...] = ("priority", "kind", "district", "tier")) -> pd.DataFrame:
    """Response statistics for several groupings in one long table.

    Parameters
    ----------
    incidents : DataFrame
        The incidents table.
    assignments : DataFrame, optional
        Needed for the ``tier`` grouping (tier of the first unit on scene);
        without it that grouping is skipped.
    groups : tuple of str
        Groupings, in order.

    Returns
    -------
    DataFrame
        Columns grouping, group (as text), then those of :func:`response_stats`
        with ``p95``.
    """
    frames = []
    df = measured(incidents)
    flags = _target_flags(df)
    for by in groups:
        if by == "tier":
            if assignments is None or not len(assignments):
                continue
            df = df.assign(tier=first_unit_tier(df, assignments))
        if by not in df:
            continue
        t = _stats(df, by, (0.95,), flags).rename(columns={by: "group"})
        frames.append(t.assign(grouping=by, group=t["group"].astype(str)))
    if not frames:
        return pd.DataFrame(columns=["grouping", "group"])
    out = pd.concat(frames, ignore_index=True)
    return out[["grouping", *[c for c in out.columns if c != "grouping"]]]


def gini(values: np.ndarray | pd.Series) -> float:
    """Gini coefficient of non-negative values (0: all equal; near 1: one value holds all).

    Parameters
    ----------
    values : array-like of float
        NaN values are ignored.

    Returns
    -------
    float
        ``sum_ij |x_i - x_j| / (2 n^2 mean)``; NaN with no values, 0 when all are 0.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return np.nan
    if x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * x) / (n * x.sum()))


def equity(incidents: pd.DataFrame) -> dict[str, Any]:
    """Equity of mean response across districts.

    Parameters
    ----------
    incidents : DataFrame
        The incidents table (warm-up rows are dropped here).

    Returns
    -------
    dict
        ``worst_district`` and ``worst_mean_min`` (highest mean response),
        ``best_district`` and ``best_mean_min``, ``spread_min`` (worst - best),
        ``gini`` (of the districts' mean responses, each district weighing
        the same) and ``districts`` (how many had a reached incident).
    """
    table = response_stats(incidents, by="district").dropna(subset=["mean"]) if "district" in incidents \
        else pd.DataFrame(columns=["district", "mean"])
    if not len(table):
        return {"worst_district": None, "worst_mean_min": np.nan, "best_district": None,
                "best_mean_min": np.nan, "spread_min": np.nan, "gini": np.nan, "districts": 0}
    worst, best = table.loc[table["mean"].idxmax()], table.loc[table["mean"].idxmin()]
    return {"worst_district": str(worst["district"]), "worst_mean_min": float(worst["mean"]),
            "best_district": str(best["district"]), "best_mean_min": float(best["mean"]),
            "spread_min": float(worst["mean"] - best["mean"]), "gini": gini(table["mean"]),
            "districts": len(table)}


def component_metrics(meta: dict[str, Any]) -> dict[str, float]:
    """Numeric run.json figures of the components, as flat sweep metrics ``<component>_<figure>``.

    For example ``citizens_deaths`` and ``citizens_median_evac_min`` (issue #12). Numbers only
    (booleans, text, lists and nested figures are left out); a figure that is None becomes NaN.
    A run without components adds nothing.
    """
    out: dict[str, float] = {}
    for name, figures in (meta.get("components") or {}).items():
        for key, value in figures.items():
            if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
                out[f"{name}_{key}"] = np.nan if value is None else float(value)
    return out

"""Metrics over time from a run's tables: unit utilisation, hospital occupancy, call-centre outages."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Bin widths (minutes) tried in order by :func:`choose_bin`.
BIN_CHOICES_MIN = (15.0, 30.0, 60.0, 120.0, 240.0, 360.0, 720.0, 1440.0, 10080.0)

_HOSPITAL_KINDS = ("unit_at_hospital", "handover_started", "handover_done")


def choose_bin(span_min: float, max_bins: int = 400) -> float:
    """The narrowest bin of :data:`BIN_CHOICES_MIN` that cuts ``span_min`` into at most ``max_bins``.

    Parameters
    ----------
    span_min : float
        Length of the period, in minutes.
    max_bins : int
        Largest number of bins wanted.

    Returns
    -------
    float
        Bin width in minutes.
    """
    for width in BIN_CHOICES_MIN:
        if span_min / width <= max_bins:
            return width
    return float(np.ceil(span_min / max_bins))


def bin_edges(start_min: float, end_min: float, bin_min: float) -> np.ndarray:
    """Edges from ``start_min`` to ``end_min`` every ``bin_min`` (the last bin may be shorter).

    Raises
    ------
    ValueError
        When the period is empty or the bin width not positive.
    """
    if not end_min > start_min or not bin_min > 0:
        raise ValueError(f"need start < end and a positive bin, got {start_min}, {end_min}, {bin_min}")
    edges = np.arange(start_min, end_min, bin_min, dtype=np.float64)
    return np.append(edges, end_min)


def busy_per_bin(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Total time covered by intervals ``[starts, ends)`` inside each bin of ``edges``.

    Uses ``B(t) = sum_{a<t} (t - a) - sum_{b<t} (t - b)``, the covered time
    before ``t``, evaluated at the edges with sorted prefix sums: O((n + bins) log n).

    Parameters
    ----------
    starts, ends : float64[n]
        Interval bounds in minutes, ``ends >= starts``.
    edges : float64[bins + 1]
        Increasing bin edges in minutes.

    Returns
    -------
    float64[bins]
        Covered minutes per bin (overlapping intervals add up).
    """
    a, b = np.sort(np.asarray(starts, float)), np.sort(np.asarray(ends, float))
    ca, cb = np.concatenate([[0.0], np.cumsum(a)]), np.concatenate([[0.0], np.cumsum(b)])
    ka, kb = np.searchsorted(a, edges, side="right"), np.searchsorted(b, edges, side="right")
    covered = (ka * edges - ca[ka]) - (kb * edges - cb[kb])
    return np.diff(covered)


def utilisation_over_time(assignments: pd.DataFrame, units: pd.DataFrame | None, start_min: float,
                          end_min: float, bin_min: float | None = None) -> pd.DataFrame:
    """Share of each unit kind's fleet busy on an assignment, per time bin.

    A unit is busy from dispatch to free again (``t_dispatch_min`` to
    ``t_free_min``; still busy at the end when ``t_free_min`` is missing), as
    in the ``units`` table's ``busy_min``.

    Parameters
    ----------
    assignments : DataFrame
        The assignments table (``unit_kind``, ``t_dispatch_min``, ``t_free_min``).
    units : DataFrame or None
        The units table, for the number of units per kind; without it the
        units seen in ``assignments`` are counted (idle units are then missed).
    start_min, end_min : float
        The period shown (normally warm-up end to the end of the run).
    bin_min : float, optional
        Bin width; default :func:`choose_bin`.

    Returns
    -------
    DataFrame
        Columns t_min (bin start), unit_kind, n_units, busy_units (mean number
        busy over the bin), utilization (busy_units / n_units).
    """
    edges = bin_edges(start_min, end_min, bin_min or choose_bin(end_min - start_min))
    width = np.diff(edges)
    if units is not None:
        fleet = units.groupby("kind", observed=True)["unit_id"].size()
    else:
        fleet = assignments.groupby("unit_kind", observed=True)["unit_id"].nunique()
    frames = []
    for kind, n in fleet.items():
        rows = assignments[assignments["unit_kind"] == kind]
        t0 = rows["t_dispatch_min"].to_numpy(float)
        t1 = rows["t_free_min"].fillna(end_min).to_numpy(float)
        busy = busy_per_bin(t0, np.maximum(t0, t1), edges) / width
        frames.append(pd.DataFrame({"t_min": edges[:-1], "unit_kind": str(kind), "n_units": int(n),
                                    "busy_units": busy, "utilization": busy / n if n else np.nan}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["t_min", "unit_kind", "n_units", "busy_units", "utilization"])


def hospital_stays(events: pd.DataFrame) -> pd.DataFrame:
    """Ambulance stays at hospitals, from the event log.

    Parameters
    ----------
    events : DataFrame
        The events table (kinds ``unit_at_hospital``, ``handover_started``,
        ``handover_done``, whose ``detail`` holds ``{"hospital": name}``).

    Returns
    -------
    DataFrame
        One row per stay: incident_id, unit_id, hospital, t_arrive_min,
        t_start_min (a bay became free), t_done_min (handover over; NaN when
        the run ended first), wait_min (for a bay).
    """
    ev = events[events["kind"].isin(_HOSPITAL_KINDS)]
    cols = ["incident_id", "unit_id", "hospital", "t_arrive_min", "t_start_min", "t_done_min", "wait_min"]
    if not len(ev):
        return pd.DataFrame(columns=cols)
    key = ["incident_id", "unit_id"]
    kind = ev["kind"].astype(str).to_numpy()
    ev = ev.assign(incident_id=ev["incident_id"].astype("int64"), unit_id=ev["unit_id"].astype(str))
    parts = {k: ev.loc[kind == k, [*key, "t_min"]].drop_duplicates(key) for k in _HOSPITAL_KINDS}
    arrive = ev.loc[kind == "unit_at_hospital", [*key, "t_min", "detail"]]
    stays = arrive.drop_duplicates(key).rename(columns={"t_min": "t_arrive_min"})
    stays["hospital"] = _hospital_names(stays.pop("detail"))
    for kind, col in (("handover_started", "t_start_min"), ("handover_done", "t_done_min")):
        stays = stays.merge(parts[kind].rename(columns={"t_min": col}), on=key, how="left")
    stays["wait_min"] = stays["t_start_min"] - stays["t_arrive_min"]
    return stays[cols].reset_index(drop=True)


def _hospital_names(detail: pd.Series) -> np.ndarray:
    """Hospital name from each event's JSON detail (parsed once per distinct text)."""
    text = detail.astype("string").fillna("{}")
    names = {t: str(json.loads(t).get("hospital", "")) for t in text.unique()}
    return text.map(names).to_numpy(dtype=object)


def hospital_occupancy(stays: pd.DataFrame, start_min: float, end_min: float, bin_min: float | None = None,
                       hospitals: Sequence[str] = ()) -> pd.DataFrame:
    """Mean number of ambulances in handover and waiting for a bay, per hospital and time bin.

    Parameters
    ----------
    stays : DataFrame
        From :func:`hospital_stays`.
    start_min, end_min : float
        The period shown.
    bin_min : float, optional
        Bin width; default :func:`choose_bin`.
    hospitals : sequence of str
        Hospitals to include even without any stay (their series are zero).

    Returns
    -------
    DataFrame
        Columns t_min (bin start), hospital, in_handover, waiting.
    """
    edges = bin_edges(start_min, end_min, bin_min or choose_bin(end_min - start_min))
    width = np.diff(edges)
    frames = []
    for name, g in _by_hospital(stays, hospitals):
        start = g["t_start_min"].fillna(end_min).to_numpy(float)
        done = g["t_done_min"].fillna(end_min).to_numpy(float)
        arrive = g["t_arrive_min"].to_numpy(float)
        frames.append(pd.DataFrame({
            "t_min": edges[:-1], "hospital": name,
            "in_handover": busy_per_bin(start, np.maximum(start, done), edges) / width,
            "waiting": busy_per_bin(arrive, np.maximum(arrive, start), edges) / width}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["t_min", "hospital", "in_handover", "waiting"])


def _by_hospital(stays: pd.DataFrame, hospitals: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """Stays per hospital, sorted by name, with an empty frame for each listed hospital without any."""
    groups = {str(k): g for k, g in stays.groupby("hospital", sort=True)}
    for name in hospitals:
        groups.setdefault(str(name), stays.iloc[:0])
    return sorted(groups.items())


def hospital_summary(stays: pd.DataFrame, start_min: float, end_min: float,
                     hospitals: Sequence[str] = ()) -> pd.DataFrame:
    """Per hospital: handovers per day, waits for a bay and the peak number in handover.

    Parameters
    ----------
    stays : DataFrame
        From :func:`hospital_stays`.
    start_min, end_min : float
        Only stays that began inside this period count (warm-up excluded).
    hospitals : sequence of str
        Hospitals to list even without any stay (0 arrivals).

    Returns
    -------
    DataFrame
        Columns hospital, arrivals, per_day, mean_wait_min, p90_wait_min,
        peak_in_handover, unfinished (still at hospital at the end).
    """
    days = (end_min - start_min) / 1440.0
    inside = stays[(stays["t_arrive_min"] >= start_min) & (stays["t_arrive_min"] < end_min)]
    rows = []
    for name, g in _by_hospital(inside, hospitals):
        wait = g["wait_min"].dropna()
        rows.append({"hospital": name, "arrivals": len(g), "per_day": len(g) / days if days > 0 else np.nan,
                     "mean_wait_min": wait.mean() if len(wait) else np.nan,
                     "p90_wait_min": wait.quantile(0.9) if len(wait) else np.nan,
                     "peak_in_handover": _peak(g["t_start_min"], g["t_done_min"]),
                     "unfinished": int(g["t_done_min"].isna().sum())})
    return pd.DataFrame(rows, columns=["hospital", "arrivals", "per_day", "mean_wait_min", "p90_wait_min",
                                       "peak_in_handover", "unfinished"])


def _peak(starts: pd.Series, ends: pd.Series) -> int:
    """Largest number of intervals open at once (an end at t closes before a start at t)."""
    s = starts.dropna().to_numpy(float)
    if not len(s):
        return 0
    e = ends[starts.notna()].fillna(np.inf).to_numpy(float)
    times = np.concatenate([s, e])
    steps = np.concatenate([np.ones(len(s)), -np.ones(len(e))])
    order = np.lexsort((steps, times))
    return int(np.cumsum(steps[order]).max())


# -- call-centre outages ------------------------------------------------------------------------
_OUTAGE_COLUMNS = ["centre", "label", "held_calls", "start_min", "end_min"]
#: Columns of :func:`outage_effect`.
OUTAGE_EFFECT_COLUMNS = [*_OUTAGE_COLUMNS, "rerouted", "calls_inside", "abandoned_inside", "delay_inside_min",
                   "calls_outside", "delay_outside_min", "delay_added_min"]


def outage_windows(scenario: Mapping[str, Any]) -> pd.DataFrame:
    """The call-centre outages of a resolved scenario (its ``scenario.json``).

    Parameters
    ----------
    scenario : mapping
        The resolved scenario, whose ``outages`` entries hold ``centre``,
        ``start`` and ``end`` (minutes), ``held_calls`` and ``label``.

    Returns
    -------
    DataFrame
        Columns centre, label, held_calls, start_min, end_min; one row per
        outage in scenario order (entries without numeric times are skipped).
    """
    rows = []
    for o in scenario.get("outages") or []:
        if not isinstance(o, dict) or not all(isinstance(o.get(k), int | float) for k in ("start", "end")):
            continue
        rows.append({"centre": str(o.get("centre", "")), "label": str(o.get("label") or ""),
                     "held_calls": str(o.get("held_calls", "transfer")),
                     "start_min": float(o["start"]), "end_min": float(o["end"])})
    return pd.DataFrame(rows, columns=_OUTAGE_COLUMNS)


def primary_lines(scenario: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """The call lines whose calls each centre takes first (the first centre listing a line).

    Parameters
    ----------
    scenario : mapping
        The resolved scenario (``call_centres.<name>.lines``).

    Returns
    -------
    dict or None
        Centre name -> its lines; None when the scenario declares no call
        centres (one centre then takes every call).
    """
    centres = scenario.get("call_centres") or {}
    if not isinstance(centres, dict) or not centres:
        return None
    out: dict[str, list[str]] = {str(name): [] for name in centres}
    seen: set[str] = set()
    for name, centre in centres.items():
        for line in (centre or {}).get("lines") or []:
            if str(line) not in seen:
                seen.add(str(line))
                out[str(name)].append(str(line))
    return out


def outage_effect(incidents: pd.DataFrame, windows: pd.DataFrame,
                  lines: Mapping[str, list[str]] | None = None,
                  events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per outage: calls rerouted, and the call-to-dispatch delay of its centre's calls inside vs outside.

    The delay of a call is ``t_dispatch_min - t_call_min`` (waiting for a
    call-taker, answering, processing, and any wait for a free unit); calls
    never dispatched (abandoned, unserved, open) have none and are left out
    of the means. A centre's calls are those of the lines it takes first;
    *inside* are the calls made during the window, *outside* its other calls
    made after the warm-up and in none of the centre's windows, in the same run.

    Parameters
    ----------
    incidents : DataFrame
        The incidents table (``t_call_min``, ``t_dispatch_min``; ``line``,
        ``rerouted``, ``status`` and ``in_warmup`` when present).
    windows : DataFrame
        From :func:`outage_windows`.
    lines : mapping, optional
        From :func:`primary_lines`; None: every call is the centre's.
    events : DataFrame, optional
        The events table (``t_min``, ``kind``, ``detail``): ``call_rerouted``
        events from the centre during the window (calls on hold transferred
        at its start included) give the count of calls rerouted. Without it,
        the rerouted calls made inside the window are counted.

    Returns
    -------
    DataFrame
        The columns of ``windows``, then rerouted, calls_inside,
        abandoned_inside, delay_inside_min, calls_outside,
        delay_outside_min, delay_added_min (inside minus outside), in minutes.
    """
    moved = _reroutes(events)
    rows = []
    for w in windows.itertuples(index=False):
        calls = incidents
        if lines is not None and "line" in incidents:
            calls = incidents[incidents["line"].astype(str).isin(lines.get(w.centre, []))]
        own = windows[windows["centre"] == w.centre]
        rows.append({**w._asdict(), **_window_effect(calls, w, own, moved)})
    return pd.DataFrame(rows, columns=OUTAGE_EFFECT_COLUMNS)


def _window_effect(calls: pd.DataFrame, w: Any, own: pd.DataFrame, moved: pd.DataFrame | None) -> dict:
    """The figures of :func:`outage_effect` for window ``w`` of a centre (``own``: all its windows)."""
    t = calls["t_call_min"].to_numpy(float)
    delay = (calls["t_dispatch_min"] - calls["t_call_min"]).to_numpy(float)
    inside = (t >= w.start_min) & (t < w.end_min)
    in_any = np.zeros(len(t), dtype=bool)
    for s, e in zip(own["start_min"], own["end_min"], strict=True):
        in_any |= (t >= s) & (t < e)
    warm = calls["in_warmup"].to_numpy(bool) if "in_warmup" in calls else np.zeros(len(t), dtype=bool)
    outside = ~in_any & ~warm
    if moved is not None:
        hit = (moved["from"] == w.centre) & (moved["t_min"] >= w.start_min) & (moved["t_min"] < w.end_min)
        rerouted = int(hit.sum())
    else:
        rerouted = int(calls["rerouted"].to_numpy(bool)[inside].sum()) if "rerouted" in calls else 0
    abandoned = inside & (calls["status"].astype(str).to_numpy() == "abandoned") if "status" in calls \
        else np.zeros(len(t), dtype=bool)
    d_in, d_out = _mean(delay[inside]), _mean(delay[outside])
    return {"rerouted": rerouted, "calls_inside": int(inside.sum()), "abandoned_inside": int(abandoned.sum()),
            "delay_inside_min": d_in, "calls_outside": int(outside.sum()), "delay_outside_min": d_out,
            "delay_added_min": d_in - d_out}


def _reroutes(events: pd.DataFrame | None) -> pd.DataFrame | None:
    """``call_rerouted`` events as t_min and the centre they left (``from``); None without events."""
    if events is None or "detail" not in events:
        return None
    ev = events[events["kind"].astype(str) == "call_rerouted"]
    text = ev["detail"].astype("string").fillna("{}")
    names = {s: str(json.loads(s).get("from", "")) for s in text.unique()}
    return pd.DataFrame({"t_min": ev["t_min"].to_numpy(float),
                         "from": text.map(names).to_numpy(dtype=object)})


def _mean(values: np.ndarray) -> float:
    """Mean of the finite values (NaN when there are none)."""
    ok = values[np.isfinite(values)]
    return float(ok.mean()) if len(ok) else np.nan


# -- hour-of-day and weekday profiles -----------------------------------------------------------
#: Names of the weekdays (Monday first), as in :func:`profiles`.
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def profiles(incidents: pd.DataFrame, start: str | None, start_min: float, end_min: float) -> pd.DataFrame:
    """Demand and response by hour of day and by weekday, over the measured period.

    Rates divide the incidents called in each clock hour (weekday) by the
    hours (days) of the period that fall in it, so a partly covered hour or a
    weekday seen twice is not over- or under-counted.

    Parameters
    ----------
    incidents : DataFrame
        The incidents table (``t_call_min``, ``response_min``; warm-up rows,
        flagged by ``in_warmup``, and calls outside the period are dropped).
    start : str, optional
        ISO date-time of t = 0 (``run.json``'s ``start``); without it t = 0 is
        taken as midnight and the weekday profile is left out.
    start_min, end_min : float
        The measured period.

    Returns
    -------
    DataFrame
        Columns profile (``"hour"`` or ``"weekday"``), key (0-23, or 0-6 from
        Monday), exposure (hours, or days, of the period in it), incidents,
        rate (incidents per hour, or per day), mean_response_min (NaN when
        none was reached).
    """
    cols = ["profile", "key", "exposure", "incidents", "rate", "mean_response_min"]
    if not end_min > start_min:
        return pd.DataFrame(columns=cols)
    t0 = pd.Timestamp(start) if start else pd.Timestamp("2000-01-03")  # a Monday midnight
    df = incidents.loc[~incidents["in_warmup"]] if "in_warmup" in incidents else incidents
    t = df["t_call_min"].to_numpy(float)
    keep = (t >= start_min) & (t < end_min)
    when = t0 + pd.to_timedelta(t[keep], unit="min")
    response = df["response_min"].to_numpy(float)[keep]
    edges = _clock_hours(t0, start_min, end_min)
    stamps = t0 + pd.to_timedelta(edges[:-1], unit="min")
    minutes = np.diff(edges)
    frames = []
    for name, key, size, span in (("hour", when.hour, 24, 60.0), ("weekday", when.day_of_week, 7, 1440.0)):
        if name == "weekday" and not start:
            continue
        of_bin = (stamps.hour if name == "hour" else stamps.day_of_week).to_numpy()
        exposure = np.bincount(of_bin, minutes, minlength=size) / span
        keys = np.asarray(key, dtype=np.int64)
        count = np.bincount(keys, minlength=size)
        reached = ~np.isnan(response)
        total = np.bincount(keys[reached], response[reached], minlength=size)
        n_reached = np.bincount(keys[reached], minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            frames.append(pd.DataFrame({
                "profile": name, "key": np.arange(size), "exposure": exposure, "incidents": count,
                "rate": np.where(exposure > 0, count / exposure, np.nan),
                "mean_response_min": np.where(n_reached > 0, total / n_reached, np.nan)}))
    return pd.concat(frames, ignore_index=True)[cols]


def _clock_hours(t0: pd.Timestamp, start_min: float, end_min: float) -> np.ndarray:
    """Edges (minutes from t0) cutting [start_min, end_min] at every clock hour."""
    offset = (t0 - t0.floor("h")).total_seconds() / 60.0
    first = np.ceil((start_min + offset) / 60.0) * 60.0 - offset
    inner = np.arange(first, end_min, 60.0)
    return np.unique(np.concatenate([[start_min], inner[inner > start_min], [end_min]]))

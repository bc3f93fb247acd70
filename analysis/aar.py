"""The after-action report of a drill run: per inject what followed, where the delays came from, bottlenecks.

``anjeon aar RUN_DIR [--fork FORK_DIR] [-o FILE]`` writes one offline HTML
file. Pure functions of a run directory's tables (no engine):

- per inject (``injects.parquet``, written by drills; every inject has a
  row: the incidents it raised, or the calls received in its window, to its
  ``until`` or ending inject, see :func:`inject_windows`) and a baseline of
  the calls outside every window, or per time window when the run has no
  injects: the calls that followed, the units sent and
  their times, each incident's delay split into answer, dispatch (call
  processing and held decisions), waiting for a unit, turnout and travel,
  and whether its response target was met;
- the bottlenecks: the busiest units, the longest waits for a unit and the
  queue over time, stock-outs (``stock.parquet``, when kept);
- with a fork (a run whose run.json has ``fork.at_min``), the incidents
  called after the fork time in both branches, side by side and paired by
  incident id (common random numbers: the same id is the same call).

Every name and description is escaped (``analysis.html``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.figures import esc as label
from analysis.html import (
    FigureBox,
    Section,
    fmt_count,
    fmt_pct,
    heading,
    headline,
    kv,
    note,
    page,
    para,
    table,
)
from analysis.store import RunDir, StoreError

#: Tables an after-action report needs.
NEEDED = ("incidents", "assignments", "units", "events")
#: Delay parts, in the order they happen, with their colours.
PARTS = {"answer_min": "#1f77b4", "dispatch_min": "#9467bd", "wait_unit_min": "#d62728",
         "turnout_min": "#ff7f0e", "travel_min": "#2ca02c"}
_PART_NAMES = {"answer_min": "answer", "dispatch_min": "dispatch", "wait_unit_min": "waiting for a unit",
               "turnout_min": "turnout", "travel_min": "travel"}


def open_run(path: str | Path) -> tuple[RunDir, dict[str, pd.DataFrame]]:
    """Open a run directory and read the tables the report needs.

    Raises
    ------
    StoreError
        Not a run directory, or a table missing (one line naming it).
    """
    p = Path(path)
    if not (p / "run.json").is_file():
        raise StoreError(f"{p}: not a run directory (no run.json)")
    run = RunDir.open(p)
    tables = {}
    for name in NEEDED:
        df = run.table(name)
        if df is None:
            raise StoreError(f"{p}: missing table {name}.parquet (an after-action report needs "
                             f"{', '.join(NEEDED)})")
        tables[name] = df
    return run, tables


def delays(incidents: pd.DataFrame, assignments: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Each incident's delay from call to first arrival, split into its parts (minutes).

    ``answer`` = call to answer; ``wait_unit`` = from the incident being
    queued (no unit free) to its first dispatch; ``dispatch`` = the rest of
    answer to first dispatch (call processing, held decisions); then, to
    the first arrival, the first arriving unit's ``travel`` and the rest
    (``turnout``). NaN where the incident did not get that far.

    Returns
    -------
    pandas.DataFrame
        incident_id, kind, district, priority, t_call_min, status, response_min, target_min, met (bool or
        NaN), answer_min, dispatch_min, wait_unit_min, turnout_min, travel_min, n_units.
    """
    inc = incidents.set_index("incident_id")
    queued = events[events["kind"].astype(str) == "incident_queued"].groupby("incident_id")["t_min"].min()
    t_q = queued.reindex(inc.index).astype(float)
    waited = (inc["t_dispatch_min"] - t_q).clip(lower=0).where(t_q.notna(), 0.0)
    waited = waited.where(inc["t_dispatch_min"].notna())
    first = assignments.sort_values(["incident_id", "t_arrive_min"]).drop_duplicates("incident_id")
    travel = first.set_index("incident_id")["travel_min"].reindex(inc.index)
    to_arrival = inc["t_first_arrival_min"] - inc["t_dispatch_min"]
    met = (inc["response_min"] <= inc["target_min"]).where(inc["response_min"].notna())
    out = pd.DataFrame({
        "kind": inc["kind"].astype(str), "district": inc["district"].astype(str), "priority": inc["priority"],
        "t_call_min": inc["t_call_min"], "status": inc["status"].astype(str),
        "response_min": inc["response_min"], "target_min": inc["target_min"], "met": met,
        "answer_min": inc["t_answer_min"] - inc["t_call_min"],
        "dispatch_min": inc["t_dispatch_min"] - inc["t_answer_min"] - waited, "wait_unit_min": waited,
        "turnout_min": (to_arrival - travel).clip(lower=0), "travel_min": travel.where(to_arrival.notna()),
        "n_units": assignments.groupby("incident_id").size().reindex(inc.index).fillna(0).astype(int),
    })
    return out.reset_index()


#: Inject kinds that end at a later inject, and the fields that must match (``closure``: the ending
#: inject names the closure's id).
ENDED_BY = {"outage": ("outage_recovery", ("centre", "line")),
            "road_closure": ("road_reopening", ("closure",)),
            "station_closure": ("station_reopening", ("station",)),
            "unit_breakdown": ("unit_repair", ("unit",)),
            "hospital_diversion": ("hospital_reopening", ("hospital",))}
#: Window of an inject that raised nothing and has no end of its own: to the next inject, at most this long.
DEFAULT_WINDOW_MIN = 60.0
#: The label of the row of calls outside every inject's window (and raised by no inject).
BASELINE = "baseline: calls outside every window"
_CLOCK = re.compile(r"^\s*(?:\+(\d+)\s+)?(\d{1,2}):(\d{2})\s*$")


def _minutes(at: Any, start: str | None) -> float:
    """Minutes from the run's start of a drill time (minutes, or clock ``[+N ]HH:MM``); NaN if unreadable."""
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return float(at)
    m = _CLOCK.match(str(at)) if at is not None else None
    if m is None or not start:
        return np.nan
    t0 = pd.Timestamp(start)
    day = t0.normalize() + pd.Timedelta(days=int(m.group(1) or 0), hours=int(m.group(2)),
                                        minutes=int(m.group(3)))
    return float((day - t0) / pd.Timedelta(minutes=1))


def _raised(injects: pd.DataFrame) -> list[set[int]]:
    out = []
    for text in injects["incident_ids"].fillna("").astype(str):
        out.append({int(p) for p in text.split(",") if p.strip().lstrip("-").isdigit()})
    return out


def inject_windows(injects: pd.DataFrame, t_end: float, script: list[dict[str, Any]] | None = None,
                   start: str | None = None) -> pd.DataFrame:
    """Each inject's window: the calls it is judged by, from its time to its end.

    An inject that raised incidents and has no end of its own (an
    ``incident``) is judged by the incidents it raised (no window). Any
    other inject is judged by the calls received from its time to its end:
    its ``until`` or its ending inject (``outage_recovery``,
    ``road_reopening`` naming it, ``station_reopening``, ``unit_repair``,
    ``hospital_reopening`` of the same centre, station, unit or hospital),
    whichever comes first; without either, the next later inject, at most
    :data:`DEFAULT_WINDOW_MIN` later. Never past ``t_end`` (when > 0).

    Parameters
    ----------
    injects : pandas.DataFrame
        ``injects.parquet``: inject_id, t_min, kind, description, incident_ids.
    t_end : float
        The run's end (minutes).
    script : list of dict, optional
        The drill's injects as written (``scenario.json`` ``drill.injects``): ``until`` and the fields an
        ending inject names. Without it, an inject ends at the first later inject of its ending kind.
    start : str, optional
        The run's start (ISO time), to read clock times (``"12:00"``) of ``until``.

    Returns
    -------
    pandas.DataFrame
        In time order (same time: fired order): inject_id, t_min, kind, description, raised (set of
        incident ids), t_from, t_to (NaN for an inject judged by what it raised), ends (how the window ends).
    """
    inj = injects.sort_values("t_min", kind="stable").reset_index(drop=True)
    raised = _raised(inj)
    by_id = {str(x.get("id")): x for x in (script or []) if isinstance(x, dict)}
    ids, kinds = inj["inject_id"].astype(str).tolist(), inj["kind"].astype(str).tolist()
    times = inj["t_min"].to_numpy(dtype=float)
    rows = []
    for k, (iid, kind, t) in enumerate(zip(ids, kinds, times, strict=True)):
        own = by_id.get(iid, {})
        until = _minutes(own.get("until"), start) if own.get("until") is not None else np.nan
        ends, t_to = (f"until {_clock(until, start)}", until) if np.isfinite(until) else ("", np.nan)
        if kind in ENDED_BY:
            end_kind, keys = ENDED_BY[kind]
            for j in range(len(inj)):
                if j == k or kinds[j] != end_kind or times[j] < t or (times[j] == t and j < k):
                    continue
                other = by_id.get(ids[j])
                if by_id and other is None:
                    continue
                if other is not None:
                    if keys == ("closure",):
                        if str(other.get("closure")) != iid:
                            continue
                    elif not any(own.get(f) is not None and own.get(f) == other.get(f) for f in keys):
                        continue
                if not np.isfinite(t_to) or times[j] < t_to:
                    ends, t_to = f"{end_kind} {ids[j]}", times[j]
                break
        if not np.isfinite(t_to) and not raised[k]:
            later = times[times > t]
            if len(later) and later[0] - t <= DEFAULT_WINDOW_MIN:
                ends, t_to = f"next inject ({_clock(later[0], start)})", float(later[0])
            else:
                ends, t_to = f"{DEFAULT_WINDOW_MIN:g} min later", t + DEFAULT_WINDOW_MIN
        if np.isfinite(t_to) and t_end > 0 and t_to > t_end:
            ends, t_to = "end of the run", t_end
        rows.append({"inject_id": iid, "t_min": t, "kind": kind,
                     "description": str(inj.loc[k, "description"]) if "description" in inj else "",
                     "raised": raised[k], "t_from": t if np.isfinite(t_to) else np.nan, "t_to": t_to,
                     "ends": ends or "what it raised"})
    return pd.DataFrame(rows, columns=["inject_id", "t_min", "kind", "description", "raised", "t_from",
                                       "t_to", "ends"])


def groups(incidents: pd.DataFrame, injects: pd.DataFrame | None, t_end: float,
           script: list[dict[str, Any]] | None = None, start: str | None = None) -> pd.DataFrame:
    """What each inject's row counts: the incidents it raised, or the calls received in its window.

    With injects (see :func:`inject_windows`), one group per inject, in time
    order, then :data:`BASELINE`: the calls raised by no inject and received
    outside every inject's window. Groups overlap (a call in two windows is
    counted in both). Without injects, windows of equal length (an hour, or
    longer for long runs: at most 24 windows), each call in one.

    Returns
    -------
    pandas.DataFrame
        incident_id, group (label, str), order (int), raised (bool: raised by this group's inject). An
        inject whose group holds no call has one row with incident_id -1 (so that every inject has a row).
    """
    ids, t = incidents["incident_id"].to_numpy(), incidents["t_call_min"].to_numpy(dtype=float)
    if injects is None or injects.empty:
        width = max(60.0, float(np.ceil(t_end / 24 / 60)) * 60)
        k = np.floor(t / width).astype(int)
        label = [f"{_hm(i * width)}-{_hm((i + 1) * width)}" for i in k]
        return pd.DataFrame({"incident_id": ids, "group": label, "order": k, "raised": False})
    w = inject_windows(injects, t_end, script, start)
    parts, covered, any_raised = [], np.zeros(len(ids), dtype=bool), set()
    for n, row in w.iterrows():
        own = np.isin(ids, list(row["raised"]))
        inside = (t >= row["t_from"]) & (t < row["t_to"]) if np.isfinite(row["t_to"]) else np.zeros_like(own)
        covered |= inside
        any_raised |= row["raised"]
        keep = own | inside
        if not keep.any():
            parts.append(pd.DataFrame({"incident_id": [-1], "group": [row["inject_id"]], "order": [n],
                                       "raised": [False]}))
            continue
        parts.append(pd.DataFrame({"incident_id": ids[keep], "group": row["inject_id"], "order": n,
                                   "raised": own[keep]}))
    base = ~covered & ~np.isin(ids, list(any_raised))
    parts.append(pd.DataFrame({"incident_id": ids[base] if base.any() else [-1], "group": BASELINE,
                               "order": len(w), "raised": False}))
    return pd.concat(parts, ignore_index=True)


def _clock(t_min: float, start: str | None) -> str:
    """Clock time ``t_min`` after the run's start (``HH:MM``, with the date when not the first day)."""
    if not start:
        return _hm(t_min)
    stamp = pd.Timestamp(start) + pd.Timedelta(minutes=float(t_min))
    return stamp.strftime("%H:%M") if stamp.date() == pd.Timestamp(start).date() else \
        stamp.strftime("%m-%d %H:%M")


def _hm(t_min: float) -> str:
    d, rest = divmod(round(t_min), 1440)
    return (f"d{d} " if d else "") + f"{rest // 60:02d}:{rest % 60:02d}"


def group_table(d: pd.DataFrame, g: pd.DataFrame) -> pd.DataFrame:
    """Per group (every one, even empty): calls, units sent, mean delay parts, response median, targets."""
    x = g.merge(d, on="incident_id", how="left")
    rows = []
    for (_, group), part in x.groupby(["order", "group"], sort=True):
        part = part[part["incident_id"] >= 0]
        judged = part["met"].dropna()
        rows.append({"group": group, "calls": len(part), "raised": int(part["raised"].sum()),
                     "units sent": int(part["n_units"].sum()),
                     **{_PART_NAMES[c]: part[c].mean() for c in PARTS},
                     "median response": part["response_min"].median(),
                     "targets met": int(judged.sum()), "missed": int((~judged.astype(bool)).sum()),
                     "unserved": int((part["status"] == "unserved").sum())})
    return pd.DataFrame(rows)


def delay_figure(gt: pd.DataFrame) -> go.Figure | None:
    """Stacked bars: each group's mean delay parts (answer to first arrival)."""
    if gt.empty:
        return None
    fig = go.Figure()
    for col, colour in PARTS.items():
        name = _PART_NAMES[col]
        fig.add_trace(go.Bar(x=[label(g) for g in gt["group"].astype(str)],
                             y=gt[name].fillna(0).round(2).tolist(), name=name, marker={"color": colour}))
    fig.update_layout(barmode="stack", height=380, margin={"l": 50, "r": 10, "t": 20, "b": 80},
                      yaxis={"title": "mean minutes"}, xaxis={"type": "category"})
    return fig


def units_sent(assignments: pd.DataFrame, ids: list[int]) -> pd.DataFrame:
    """The assignments of some incidents, with the columns a debrief reads (and tier columns when present)."""
    cols = [c for c in ("incident_id", "unit_id", "home_station", "t_dispatch_min", "t_arrive_min",
                        "travel_min", "t_clear_min", "mutual_aid", "tier", "escalation_level", "diverted")
            if c in assignments]
    return assignments.loc[assignments["incident_id"].isin(ids), cols].sort_values(["incident_id",
                                                                                      "t_dispatch_min"])


def busiest_units(assignments: pd.DataFrame, t_end: float, top: int = 10) -> pd.DataFrame:
    """Units by minutes busy (dispatch to free, the unfinished counted to the end), most first."""
    busy = (assignments["t_free_min"].fillna(t_end) - assignments["t_dispatch_min"]).clip(lower=0)
    out = (assignments.assign(busy=busy).groupby("unit_id", observed=True)
           .agg(jobs=("incident_id", "size"), busy_min=("busy", "sum")).reset_index())
    out["share of the run"] = out["busy_min"] / t_end if t_end > 0 else np.nan
    return out.sort_values("busy_min", ascending=False).head(top)


def queue_over_time(events: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents waiting for a first unit over time: t_min, waiting (a step function)."""
    q = events[events["kind"].astype(str) == "incident_queued"].groupby("incident_id")["t_min"].min()
    inc = incidents.set_index("incident_id")
    end = inc["t_dispatch_min"].reindex(q.index)
    end = end.fillna(inc["t_clear_min"].reindex(q.index)).fillna(np.inf)
    keep = end > q
    steps = pd.concat([pd.Series(1, index=q[keep].to_numpy()), pd.Series(-1, index=end[keep].to_numpy())])
    steps = steps[np.isfinite(steps.index)].groupby(level=0).sum().sort_index()
    return pd.DataFrame({"t_min": steps.index.to_numpy(dtype=float), "waiting": steps.cumsum().to_numpy()})


def stock_outs(stock: pd.DataFrame | None, t_end: float) -> pd.DataFrame | None:
    """Per depot and material: when the stock first ran out and for how long in all (None without stock)."""
    if stock is None or stock.empty:
        return None
    rows = []
    for (depot, material), part in stock.sort_values("t_min", kind="stable").groupby(["depot", "material"],
                                                                                     observed=True):
        t, level = part["t_min"].to_numpy(dtype=float), part["level"].to_numpy(dtype=float)
        out = level <= 0
        if not out.any() or not (level > 0).any():   # never out, or never held it (not stocked there)
            continue
        ends = np.append(t[1:], t_end)
        rows.append({"depot": str(depot), "material": str(material), "first out at": _hm(t[out][0]),
                     "minutes out": float(np.sum((ends - t)[out])), "lowest level": float(level.min())})
    return pd.DataFrame(rows)


def fork_comparison(parent: dict[str, pd.DataFrame], fork: dict[str, pd.DataFrame], at_min: float
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Incidents called at or after ``at_min`` in both branches: a summary per branch and the paired changes.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Per branch: incidents, median and 90th percentile response, targets met (share), unserved; and
        the incidents whose response or status differ (incident_id, kind, response before/after, change).
    """
    rows, after = [], {}
    for name, t in (("this run", parent), ("fork", fork)):
        inc = t["incidents"]
        inc = inc[inc["t_call_min"] >= at_min]
        after[name] = inc.set_index("incident_id")
        judged = (inc["response_min"] <= inc["target_min"])[inc["response_min"].notna()]
        rows.append({"branch": name, "incidents": len(inc), "median response": inc["response_min"].median(),
                     "p90 response": inc["response_min"].quantile(0.9), "targets met": judged.mean(),
                     "unserved": int((inc["status"].astype(str) == "unserved").sum())})
    a, b = after["this run"], after["fork"]
    both = a.index.intersection(b.index)
    pair = pd.DataFrame({"kind": a.loc[both, "kind"].astype(str),
                         "response (this run)": a.loc[both, "response_min"],
                         "response (fork)": b.loc[both, "response_min"],
                         "status (this run)": a.loc[both, "status"].astype(str),
                         "status (fork)": b.loc[both, "status"].astype(str)})
    pair["change"] = pair["response (fork)"] - pair["response (this run)"]
    differs = (pair["change"].abs() > 1e-9) | (pair["status (this run)"] != pair["status (fork)"])
    return pd.DataFrame(rows), pair[differs].reset_index().sort_values("change", key=lambda s: -s.abs())


def build_aar(path: str | Path, fork: str | Path | None = None) -> str:
    """The after-action report of a run (and its comparison with a fork) as one HTML document.

    Parameters
    ----------
    path : str or Path
        A run directory.
    fork : str or Path, optional
        Another run directory, forked from this one (run.json ``fork.at_min``; 0 when absent).

    Returns
    -------
    str

    Raises
    ------
    StoreError
        Not a run directory, or a needed table missing.
    """
    run, t = open_run(path)
    meta, box = run.meta, FigureBox()
    t_end = float(meta.get("until_min", meta.get("horizon_min", 0.0)))
    injects = run.table("injects")
    d = delays(t["incidents"], t["assignments"], t["events"])
    script = (run.scenario.get("drill") or {}).get("injects") if isinstance(run.scenario, dict) else None
    g = groups(t["incidents"], injects, t_end, script, meta.get("start"))
    gt = group_table(d, g)
    w = (None if injects is None or injects.empty
         else inject_windows(injects, t_end, script, meta.get("start")))
    sections = [_summary(meta, d, injects), _per_group(d, g, gt, w, t, box, meta.get("start")),
                _bottlenecks(t, run.table("stock"), t_end, box)]
    if fork is not None:
        sections.append(_fork(t, fork))
    title = f"After-action report: {meta.get('scenario', run.path.name)}"
    sub = [f"seed {meta.get('seed')}, replication {meta.get('replication')}, policy "
           f"{(meta.get('policy') or {}).get('dispatch')}, {t_end / 60:g} h"]
    return page(title, sub, sections, box.count)


def _summary(meta: dict[str, Any], d: pd.DataFrame, injects: pd.DataFrame | None) -> Section:
    s = Section("summary", "Summary", "How the run went, in a few numbers.")
    judged = d["met"].dropna()
    n_inj = 0 if injects is None else len(injects)
    unserved = int((d["status"] == "unserved").sum())
    s.add(headline(f"{len(d)} incidents, {n_inj} injects; response median {d['response_min'].median():.1f} "
                   f"min; targets met {fmt_pct(judged.mean() if len(judged) else np.nan)} "
                   f"({int(judged.sum())} of {len(judged)}); unserved {unserved}."))
    return s


def _per_group(d: pd.DataFrame, g: pd.DataFrame, gt: pd.DataFrame, w: pd.DataFrame | None,
               t: dict[str, pd.DataFrame], box: FigureBox, start: str | None = None) -> Section:
    has = w is not None
    s = Section("injects", "Per inject: what followed" if has else "Per time window: what happened",
                "Calls, units sent, where the time went (mean minutes per incident) and the targets.")
    if not has:
        s.add(note("This run has no injects (injects.parquet is absent): incidents are grouped by the "
                   "window of their call."))
    else:
        at = w["t_min"].map(lambda m: _clock(m, start))
        counted = [f"the {len(r['raised'])} incidents it raised" if pd.isna(r["t_to"]) else
                   f"calls {_clock(r['t_from'], start)}-{_clock(r['t_to'], start)} ({r['ends']})"
                   for _, r in w.iterrows()]
        s.add(table(pd.DataFrame({"inject": w["inject_id"], "at": at, "kind": w["kind"],
                                  "description": w["description"], "its row counts": counted}),
                    text_columns=("inject", "at", "kind", "description", "its row counts")))
        s.add(para("An inject's row counts the incidents it raised; an inject with an effect over "
                   "time (outage, road closure, surge, breakdown, diversion...) counts every call "
                   "received in its window, so rows overlap. The last row, the baseline, counts the calls "
                   "raised by no inject and received outside every window: compare each row's answer and "
                   "dispatch with it."))
    s.add(table(gt, formats={"targets met": fmt_count, "missed": fmt_count}, text_columns=("group",)))
    s.add(box.embed(delay_figure(gt), "for each inject (or window), the mean minutes from call to first "
                                      "arrival, split into answer, dispatch, waiting for a unit, turnout and "
                                      "travel."))
    if has:
        for label, part in g[g["raised"]].groupby("group", sort=False):
            ids = part["incident_id"].tolist()
            s.add(heading(f"{label}: the incidents it raised and the units sent"))
            cols = ["incident_id", "kind", "district", "t_call_min", "response_min", "target_min", "met",
                    *PARTS]
            s.add(table(d[d["incident_id"].isin(ids)][cols], text_columns=("kind", "district")))
            s.add(table(units_sent(t["assignments"], ids), text_columns=("unit_id", "home_station", "tier")))
    return s


def _bottlenecks(t: dict[str, pd.DataFrame], stock: pd.DataFrame | None, t_end: float,
                 box: FigureBox) -> Section:
    s = Section("bottlenecks", "Bottlenecks", "The busiest units, the longest waits for a unit, stock-outs.")
    s.add(heading("Busiest units"))
    s.add(table(busiest_units(t["assignments"], t_end), formats={"share of the run": fmt_pct},
                text_columns=("unit_id",)))
    d = delays(t["incidents"], t["assignments"], t["events"])
    waits = d[d["wait_unit_min"] > 0].sort_values("wait_unit_min", ascending=False).head(10)
    s.add(heading("Longest waits for a unit"))
    if waits.empty:
        s.add(para("No incident waited for a unit."))
    else:
        s.add(table(waits[["incident_id", "kind", "district", "t_call_min", "wait_unit_min", "response_min"]],
                    text_columns=("kind", "district")))
        q = queue_over_time(t["events"], t["incidents"])
        fig = go.Figure(go.Scatter(x=q["t_min"].round(2).tolist(), y=q["waiting"].tolist(), mode="lines",
                                   line={"shape": "hv", "color": "#d62728"}, name="waiting"))
        fig.update_layout(height=280, margin={"l": 50, "r": 10, "t": 20, "b": 40},
                          xaxis={"title": "minutes from the start"}, yaxis={"title": "incidents waiting"})
        s.add(box.embed(fig, "how many incidents waited for their first unit at each moment."))
    s.add(heading("Stock-outs"))
    outs = stock_outs(stock, t_end)
    if outs is None:
        s.add(para("No stock table in this run (stock.parquet is absent)."))
    elif outs.empty:
        s.add(para("No depot ran out of any material."))
    else:
        s.add(table(outs, text_columns=("depot", "material", "first out at")))
    return s


def _fork(t: dict[str, pd.DataFrame], fork_path: str | Path) -> Section:
    frun, ft = open_run(fork_path)
    info = frun.meta.get("fork") or {}
    at = float(info.get("at_min", 0.0))
    s = Section("fork", "Compared with the fork", "Incidents called after the fork time, in both branches.")
    s.add(kv([("fork", str(frun.path)), ("forked at", _hm(at)), ("change", str(info.get("change", "")))]))
    summary, changed = fork_comparison(t, ft, at)
    s.add(table(summary, formats={"targets met": fmt_pct}, text_columns=("branch",)))
    if changed.empty:
        s.add(para("Every incident after the fork time had the same response and outcome in both branches."))
    else:
        s.add(heading(f"{len(changed)} incidents answered differently (largest change first)"))
        s.add(table(changed.head(30), text_columns=("kind", "status (this run)", "status (fork)")))
    if not frun.meta.get("fork"):
        s.add(note("The second run's run.json has no fork record: compared from the start."))
    return s


__all__ = ["BASELINE", "DEFAULT_WINDOW_MIN", "ENDED_BY", "build_aar", "busiest_units", "delays",
           "fork_comparison", "group_table", "groups", "inject_windows", "queue_over_time",
           "stock_outs", "units_sent"]

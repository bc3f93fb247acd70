"""Report sections that answer one question each from the digested runs.

Each builder takes a :class:`analysis.digest.Collection`, the configurations
in focus (the baseline and the best few, for tables that would be too wide
with every configuration) and the :class:`analysis.html.FigureBox`, and
returns a :class:`analysis.html.Section`. When the tables a section needs
were not kept, the section says so instead of showing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis import figures, timeseries
from analysis.digest import Collection
from analysis.html import FigureBox, Section, esc, fmt_count, fmt_pct, fmt_value, heading, note, para, table
from analysis.store import RunDir

#: Most incident points drawn on the map (a sample beyond that).
MAX_POINTS = 5000

_MISSING = "The {what} table was not kept for these runs, so this part is left out."
_DELAY_NAMES = {"call_to_answer": "call to answer (wait for a call-taker)",
                "call_processing": "call processing (answer to processed)",
                "wait_for_free_unit": "wait for a free unit (processed to dispatch)",
                "answer_to_dispatch": "answer to dispatch (processing + wait for a unit)",
                "call_to_dispatch": "call to dispatch", "dispatch_to_arrival": "dispatch to arrival"}
_GROUP_NAMES = {"priority": "By priority", "kind": "By incident type", "tier": "By tier of the first unit"}


def _cells(df: pd.DataFrame, keys: list[str], focus: list[str], cell: Callable[[pd.Series], str],
           c: Collection) -> pd.DataFrame:
    """Rows by ``keys``, one text column per configuration in focus (``cell`` formats a row)."""
    rows = df[df["config_id"].isin(focus)]
    out = rows[keys].drop_duplicates().reset_index(drop=True)
    for cid in focus:
        part = rows[rows["config_id"] == cid].set_index(keys)
        texts = {k: cell(r) for k, r in part.iterrows()}
        out[c.labels[cid]] = [texts.get(k if len(keys) > 1 else k[0], "–")
                              for k in out[keys].itertuples(index=False, name=None)]
    return out


def _response_cell(r: pd.Series) -> str:
    return f"{fmt_value(r['mean'])} / {fmt_value(r['p90'])} / {fmt_pct(r['within_target'])}"


def _per_run(c: Collection) -> str:
    return " (means over each configuration's runs)" if c.kind == "sweep" else ""


def _focus_note(c: Collection, focus: list[str]) -> str:
    """Says which configurations the tables show when they do not show all."""
    if len(focus) >= len(c.configs):
        return ""
    return note(f"Tables show the baseline and the {len(focus) - 1} configurations with the best mean "
                f"response; all {len(c.configs)} are in the summary table.")


# -- response-time distribution -------------------------------------------------------------
def distribution(c: Collection, focus: list[str], box: FigureBox) -> Section:
    """How long do people wait for help? ECDFs and response statistics by group."""
    s = Section("distribution", "Response times", "How long from a call to the first unit on scene, "
                "for which incidents?")
    pooled = c.pooled_response()
    if not pooled:
        s.add(note(_MISSING.format(what="incidents")))
        return s
    targets = figures.scenario_targets(c.scenario)
    lines = "; dotted lines: the response targets of the scenario's incident types and priorities" \
        if targets else ""
    if c.kind == "run":
        s.add(box.embed(figures.ecdf(c.digests[0].response, by="priority", targets=targets,
                                     title="Response time by priority, cumulative share of incidents"),
                        "for each priority, the share of measured incidents reached within x minutes of "
                        "the call (warm-up excluded); the further left and the steeper, the faster"
                        + lines + "."))
    else:
        s.add(box.embed(figures.ecdf(pooled, colour_map=c.colour_map, targets=targets),
                        "for each configuration, the share of incidents (pooled over its replications) "
                        "reached within x minutes of the call; curves further left are faster" + lines
                        + ". Click a legend entry to hide a configuration."))
    groups = c.by_config("groups", ["grouping", "group"], ["n", "mean", "p90", "p95", "within_target"])
    s.add(para("Each cell: mean / 90th percentile response (minutes) / share within target (%)"
               + _per_run(c) + "."))
    s.add(_focus_note(c, focus))
    for grouping, name in _GROUP_NAMES.items():
        part = groups[groups["grouping"] == grouping]
        if len(part):
            s.add(heading(name))
            s.add(table(_cells(part, ["group"], focus, _response_cell, c), text_columns=["group"],
                        headers={"group": grouping}))
    return s


# -- when: hour of day and weekday -------------------------------------------------------------
def when(c: Collection, focus: list[str], box: FigureBox) -> Section | None:
    """Demand and response by hour of day and weekday; None when the incidents table was not kept."""
    prof = c.by_config("profiles", ["profile", "key"], ["rate", "mean_response_min", "exposure"])
    if not len(prof):
        return None
    s = Section("when", "Time of day and week", "When do calls come in, and is help slower at those times?")
    prof = prof[prof["config_id"].isin(focus)]
    for kind, what in (("hour", "each clock hour of the day: incidents per hour (bars; measured hours of the "
                                "period in that clock hour divide the count) and the mean response of the "
                                "calls made in it, per configuration"),
                       ("weekday", "each weekday: incidents per day (bars) and the mean response of the "
                                   "calls made on it, per configuration; a weekday the measured period did "
                                   "not cover is empty")):
        part = prof[prof["profile"] == kind]
        if kind == "weekday" and len(part) and (part.groupby("key")["exposure"].max() <= 0).any():
            s.add(note("The measured period does not cover every weekday, so there is no weekday profile."))
        elif len(part):
            s.add(box.embed(figures.profile(part, kind, c.colour_map), what + _per_run(c) + "."))
    return s


# -- districts ---------------------------------------------------------------------------------
def districts(c: Collection, focus: list[str], box: FigureBox) -> Section:
    """Where in the city? Stations and their reach, district maps and equity across districts."""
    s = Section("districts", "Districts and equity", "Where in the city is help slow, what do the stations "
                "reach in time, and how unequal are the districts?")
    s.add(_reach(c, box))
    groups = c.by_config("groups", ["grouping", "group"], ["n", "mean", "within_target"])
    dist = groups[groups["grouping"] == "district"]
    if len(dist):
        _district_maps(c, dist, focus[:2], box, s)
        s.add(table(_cells(dist, ["group"], focus,
                           lambda r: f"{fmt_value(r['mean'])} / {fmt_pct(r['within_target'])}", c),
                    text_columns=["group"], headers={"group": "district"}))
        s.add(para("Each cell: mean response (minutes) / share within target (%)" + _per_run(c) + "."))
    else:
        s.add(note(_MISSING.format(what="incidents")))
    s.add(heading("Equity across districts"))
    s.add(_equity_table(c, dist))
    return s


def _places(c: Collection) -> pd.DataFrame:
    """Stations and hospitals with coordinates: from the geography table, else from the scenario."""
    geo = c.geography()
    return geo if geo is not None else figures.scenario_places(c.scenario)


def _reach(c: Collection, box: FigureBox) -> str:
    """The map of stations, hospitals, incidents and the zones reached within the tightest target."""
    target = figures.tightest_target(c.scenario)
    geo = c.geography()
    points = [d.points for d in c.digests if d.config_id == c.baseline and d.points is not None]
    pts = np.vstack(points) if points else None
    if pts is not None and len(pts) > MAX_POINTS:
        pts = pts[np.linspace(0, len(pts) - 1, MAX_POINTS).round().astype(np.int64)]
    fig = figures.reach_map(c.scenario, geo if target is not None else None, target or 0.0, pts)
    if fig is None:
        return ""
    what = ("the stations (squares) and hospitals (crosses) by name, the measured incidents of the baseline"
            + (" (a sample)" if points and sum(len(p) for p in points) > MAX_POINTS else "")
            + " as grey dots")
    if geo is not None and target is not None:
        zones = geo[geo["kind"] == "zone"]
        share = float((zones["travel_min_from_nearest_station"] <= target).mean()) if len(zones) else np.nan
        what += (f", and the zones of the city coloured by the travel time from the nearest station (speed "
                 f"factor 1, turnout excluded; blue is faster than the tightest target of {target:g} min, "
                 f"orange slower): circles are reached within {target:g} min ({fmt_pct(share)} of the "
                 "zones), crosses are not")
        extra = ""
    else:
        extra = note("These runs were written without a geography table (older runs), so the map has no "
                     "layer of what the stations reach within the target.")
    return box.embed(fig, what + ".") + extra


def _district_maps(c: Collection, dist: pd.DataFrame, shown: list[str], box: FigureBox, s: Section) -> None:
    """District maps: mean response (anchored to the target), share within target, best minus baseline."""
    target = mean_target(c)
    places = _places(c)
    for col, name, fmt, span, scale, mid, what in (
            ("mean", "mean response (min)", ".1f", (0.0, 2 * target) if target else None,
             figures.BLUE_ORANGE if target else None, target,
             "each district filled by its mean response time (minutes; the colour scale runs from 0 to "
             f"twice the incidents' mean target of {target:.1f} min, white at the target, blue faster, "
             "orange slower)" if target else "each district filled by its mean response time (minutes)"),
            ("within_target", "share within target (%)", ".0%", (0.0, 1.0), figures.SEQUENTIAL, None,
             "each district filled by the share of its incidents reached within their target (0 to 100%; "
             "brighter is better)")):
        values = dist[dist["config_id"].isin(shown)].pivot_table(
            index="group", columns="label", values=col, aggfunc="mean", sort=False)
        values = values[[c.labels[k] for k in shown if c.labels[k] in values.columns]]
        fig = figures.district_map(c.scenario, values, f"Districts by {name}", name, fmt, span=span,
                                   scale=scale, mid=mid, places=places)
        if fig is None:
            s.add(note("The scenario has no district boundaries to draw."))
            return
        s.add(box.embed(fig, what + (" for the baseline (left) and the best configuration"
                                     if len(shown) > 1 else "") + _per_run(c)
                        + "; squares are stations, crosses hospitals."))
    if len(shown) > 1:
        wide = dist[dist["config_id"].isin(shown)].pivot_table(index="group", columns="config_id",
                                                                values="mean", aggfunc="mean")
        diff = (wide[shown[1]] - wide[shown[0]]).rename(f"{c.labels[shown[1]]} minus {c.labels[shown[0]]}")
        top = float(np.nanmax(np.abs(diff.to_numpy(float)))) if diff.notna().any() else 0.0
        top = max(top, 0.05)
        fig = figures.district_map(c.scenario, diff, "Difference in mean response by district",
                                   "difference (min)", "+.2f", span=(-top, top), scale=figures.BLUE_ORANGE,
                                   mid=0.0, places=places)
        s.add(box.embed(fig, "each district filled by the best configuration's mean response minus the "
                             "baseline's (minutes; the colour scale is centred on zero and symmetric: blue "
                             "is faster than the baseline, orange slower)" + _per_run(c) + "."))


def mean_target(c: Collection) -> float | None:
    """The mean response target of the measured incidents (minutes), from the digests; None if unknown."""
    values = [d.target_mean for d in c.digests if d.target_mean is not None and np.isfinite(d.target_mean)]
    return float(np.mean(values)) if values else None


def _equity_table(c: Collection, dist: pd.DataFrame) -> str:
    """Worst district two ways: of the means over runs (as the district table), and of per-run worsts."""
    cols = {"worst_district_mean_response_min": "mean of each run's worst district (min)",
            "district_spread_min": "mean of each run's worst - best (min)",
            "district_gini": "Gini of district means"}
    have = [k for k in cols if k in c.summary]
    if not have:
        return note("These runs were summarised without the equity metrics.")
    t = c.summary.groupby("config_id", sort=False)[have].mean().reset_index()
    reached = dist.dropna(subset=["mean"])
    worst = reached.loc[reached.groupby("config_id")["mean"].idxmax()].set_index("config_id") \
        if len(reached) else pd.DataFrame(columns=["group", "mean"])
    best = reached.groupby("config_id")["mean"].min() if len(reached) else pd.Series(dtype=float)
    t.insert(1, "worst district", [worst["group"].get(k, "–") for k in t["config_id"]])
    t.insert(2, "its mean response (min)", [worst["mean"].get(k, np.nan) for k in t["config_id"]])
    t.insert(3, "worst - best district (min)", [worst["mean"].get(k, np.nan) - best.get(k, np.nan)
                                                 for k in t["config_id"]])
    t.insert(0, "configuration", t.pop("config_id").map(c.labels))
    return table(t.rename(columns=cols), text_columns=["configuration", "worst district"],
                 swatches=c.colour_map, swatch_column="configuration",
                 formats={cols["district_gini"]: lambda v: fmt_value(v, 3)}) + para(
        "Worst district: the district with the highest mean response in the district table above (its "
        "mean over the runs" + (" of each configuration" if c.kind == "sweep" else "") + " in which it "
        "had a reached incident), with that figure and its gap to the best district. The mean of each "
        "run's worst district takes, in every run, the district that was slowest in that run (not always "
        "the same one) and averages those maxima over all runs; the two differ when the slowest district "
        "changes from run to run or has no incident in some. Gini: of the districts' mean responses "
        "within each run, averaged over runs.")


# -- call handling -----------------------------------------------------------------------------
def calls(c: Collection, focus: list[str], box: FigureBox) -> Section:
    """Are calls answered and dispatched quickly? Delays of call handling, and waits for a free unit."""
    s = Section("calls", "Call handling", "How long do calls wait for a call-taker, how long does "
                "processing take, and how long do processed calls wait for a free unit?")
    delays = c.by_config("delays", ["delay"], ["n", "mean", "median", "p90", "waited"])
    if not len(delays):
        s.add(note(_MISSING.format(what="incidents")))
        return s
    waited = delays[delays["delay"] == "wait_for_free_unit"].set_index("config_id")
    delays["delay"] = delays["delay"].map(lambda k: _DELAY_NAMES.get(k, k.replace("_", " ")))
    s.add(table(_cells(delays, ["delay"], focus,
                       lambda r: f"{fmt_value(r['mean'])} / {fmt_value(r['p90'])}", c),
                text_columns=["delay"]))
    text = ("Each cell: mean / 90th percentile (minutes)" + _per_run(c) + ". Answer to dispatch is call "
            "processing plus the wait for a free unit: from the moment a call is processed until the first "
            "unit is sent (zero unless no suitable unit was free, so the incident queued); abandoned calls "
            "have no answer and are counted under outcomes.")
    if len(waited):
        share = {c.labels[k]: r["waited"] / r["n"] for k, r in waited.iterrows() if k in focus and r["n"]}
        text += " Incidents that waited for a free unit: " + "; ".join(
            f"{label} {fmt_pct(v)}" for label, v in share.items()) + "."
    s.add(para(text))
    return s


# -- outcomes -----------------------------------------------------------------------------------
def outcomes(c: Collection) -> Section:
    """What was left undone? Final status of incidents, including the ones open at the end."""
    s = Section("outcomes", "Outcomes", "How many incidents were resolved, left unserved, abandoned, or "
                "still open when the run ended?")
    cols = [k for k in ("n_incidents", "resolved", "unserved", "abandoned", "open_at_end") if k in c.summary]
    t = c.summary.groupby("config_id", sort=False)[cols].mean().reset_index()
    t.insert(0, "configuration", t.pop("config_id").map(c.labels))
    if {"unserved", "abandoned", "n_incidents"} <= set(cols):
        t["not reached"] = [fmt_pct(v) for v in (t["unserved"] + t["abandoned"]) / t["n_incidents"]]
    s.add(table(t.rename(columns={"n_incidents": "incidents", "open_at_end": "open at end"}),
                text_columns=["configuration"], swatches=c.colour_map, swatch_column="configuration",
                formats={k: fmt_count for k in ("incidents", "resolved", "unserved", "abandoned",
                                                "open at end")}))
    s.add(para("Counts per run" + _per_run(c) + ", for incidents called after the warm-up. Open at "
               "end: incidents still waiting or being served when the horizon ended; they are reported "
               "here rather than dropped, and those never reached count as missed in the share within "
               "target."))
    return s


# -- units -----------------------------------------------------------------------------------------
def units(c: Collection, focus: list[str], box: FigureBox, outages: pd.DataFrame | None = None) -> Section:
    """How busy are the units? Utilisation over time per unit type, and on average.

    ``outages`` (from :func:`outage_effects`) are shaded on the time series.
    """
    s = Section("units", "Unit utilisation", "How busy is each type of unit, and when? Which station and "
                "which units carry the most load?")
    util = c.by_config("util", ["t_min", "unit_kind"], ["utilization"])
    shown = list(c.configs["config_id"]) if len(c.configs) <= 12 else focus
    util = util[util["config_id"].isin(shown)]
    if len(util):
        start = c.digests[0].meta.get("start")
        fig = figures.utilisation(util, start=start, group="label" if len(shown) > 1 else None,
                                  bin_min=c.bin_min)
        shaded = shade_outages(fig, outages, start, c.digests[0].window)
        s.add(box.embed(fig, "the share of each unit type's fleet busy on an assignment (dispatch to free "
                             f"again), per {figures.bin_text(c.bin_min) or 'time'} bin" + _per_run(c)
                        + ("; the menu at the top right picks the configuration" if len(shown) > 1 else "")
                        + shaded + "."))
    else:
        s.add(note(_MISSING.format(what="assignments")))
    kinds = [k for k in c.summary.columns if k.startswith("utilization_")]
    if kinds:
        t = c.summary.groupby("config_id", sort=False)[kinds].mean().reset_index()
        t.insert(0, "configuration", t.pop("config_id").map(c.labels))
        t = t.rename(columns={k: k.removeprefix("utilization_") for k in kinds})
        s.add(heading("Mean utilisation over the measured period"))
        s.add(table(t, text_columns=["configuration"], swatches=c.colour_map, swatch_column="configuration",
                    formats={k.removeprefix("utilization_"): fmt_pct for k in kinds}))
    s.add(_station_load(c, focus))
    s.add(_unit_load(c, focus))
    return s


def _station_load(c: Collection, focus: list[str]) -> str:
    """Which station is overloaded? Utilisation per station and unit kind, busiest station first."""
    load = c.by_config("station_load", ["station", "kind"], ["units", "utilization", "n_assignments"])
    if not len(load):
        return note(_MISSING.format(what="units"))
    parts = [heading("Load by station")]
    days = (c.digests[0].window[1] - c.digests[0].window[0]) / 1440.0 if c.digests else np.nan
    for cid in focus[:2]:
        part = load[load["config_id"] == cid]
        if not len(part):
            continue
        wide = part.pivot_table(index="station", columns="kind", values="utilization", aggfunc="mean")
        kinds = [k for k in wide.columns if k != "all"]
        every = part[part["kind"] == "all"].set_index("station")
        t = pd.DataFrame({"station": wide.index, "units": every["units"].reindex(wide.index).to_numpy(),
                          "assignments per day": every["n_assignments"].reindex(wide.index).to_numpy() / days,
                          "all units": wide["all"].to_numpy()})
        for k in kinds:
            t[k] = wide[k].to_numpy()
        t = t.sort_values("all units", ascending=False, kind="stable")
        if len(focus) > 1:
            parts.append(para(f"{c.labels[cid]}:"))
        parts.append(table(t, text_columns=["station"], formats={
            "units": fmt_count, **{k: fmt_pct for k in ["all units", *kinds]}}))
    parts.append(para("Utilisation (%): the station's units' busy time (dispatch to free again) over the "
                      "measured period, divided by its number of units times the period; per unit type in "
                      "the columns on the right (– where the station has none), busiest station first"
                      + _per_run(c) + ("; the baseline and the best configuration" if len(focus) > 1 else "")
                      + "."))
    return "".join(parts)


def _unit_load(c: Collection, focus: list[str], top: int = 10) -> str:
    """The busiest units of the baseline (and the best configuration)."""
    load = c.by_config("unit_load", ["unit_id", "station", "kind"], ["utilization", "n_assignments"])
    if not len(load):
        return ""
    rows = load[load["config_id"].isin(focus[:2])]
    rows = rows.sort_values(["utilization", "unit_id"], ascending=[False, True], kind="stable")
    parts = [heading(f"Busiest units (top {top})")]
    for cid in focus[:2]:
        part = rows[rows["config_id"] == cid].head(top)
        if not len(part):
            continue
        t = part[["unit_id", "station", "kind", "n_assignments", "utilization"]].rename(
            columns={"unit_id": "unit", "kind": "type", "n_assignments": "assignments",
                     "utilization": "utilisation"})
        if len(focus) > 1:
            parts.append(para(f"{c.labels[cid]}:"))
        parts.append(table(t, text_columns=["unit", "station", "type"],
                           formats={"assignments": fmt_count, "utilisation": fmt_pct}))
    return "".join(parts)


# -- hospitals -------------------------------------------------------------------------------------
def hospitals(c: Collection, focus: list[str], box: FigureBox,
              outages: pd.DataFrame | None = None) -> Section:
    """How full are the hospitals' handover bays, and how long do ambulances wait for one.

    ``outages`` (from :func:`outage_effects`) are shaded on the time series.
    """
    s = Section("hospitals", "Hospitals", "How many handover bays are in use, and how long do "
                "ambulances wait for one?")
    series = c.by_config("hospital_ts", ["t_min", "hospital"], ["in_handover", "waiting"])
    if not len(series):
        has_events = any(d.hospitals is not None for d in c.digests)
        s.add(note("No ambulance took a patient to hospital." if has_events
                   else _MISSING.format(what="events")))
        return s
    series = series[series["config_id"].isin(focus)]
    capacity = {str(k): v.get("capacity") for k, v in (c.scenario.get("hospitals") or {}).items()
                if isinstance(v, dict) and isinstance(v.get("capacity"), int | float)}
    start = c.digests[0].meta.get("start")
    fig = figures.hospital_occupancy(series, capacity, start=start, group="label" if len(focus) > 1 else None,
                                     bin_min=c.bin_min)
    shaded = shade_outages(fig, outages, start, c.digests[0].window)
    s.add(box.embed(fig, "the mean number of ambulances handing patients over at each hospital per "
                         f"{figures.bin_text(c.bin_min) or 'time'} bin "
                         "(dotted lines: the number of bays)" + _per_run(c) + shaded + "."))
    summ = c.by_config("hospitals", ["hospital"], ["per_day", "mean_wait_min", "p90_wait_min",
                                                   "peak_in_handover"])
    summ = summ[summ["config_id"].isin(focus)].drop(columns=["config_id", "runs"])
    summ.insert(2, "bays", summ["hospital"].map(capacity))
    names = {"label": "configuration", "per_day": "arrivals per day", "p90_wait_min": "p90 wait (min)",
             "mean_wait_min": "mean wait for a bay (min)", "peak_in_handover": "peak in handover"}
    s.add(table(summ.rename(columns=names),
                text_columns=["configuration", "hospital"], swatches=c.colour_map,
                swatch_column="configuration"))
    return s


def unit_count_note(c: Collection) -> str:
    """A note when the fleet size is the same in every configuration (the trade-off is then a column)."""
    sizes = c.summary["n_units"].dropna().unique() if "n_units" in c.summary else np.array([])
    if len(sizes) == 1:
        return note(f"Every configuration has the same fleet ({int(sizes[0])} units), so the trade-off "
                    "shows only differences in response.")
    return ""


# -- call-centre outages ---------------------------------------------------------------------------
_OUTAGE_KEYS = ["centre", "label", "held_calls", "start_min", "end_min"]


def outage_effects(c: Collection) -> pd.DataFrame:
    """Per run and outage of its scenario: calls rerouted and the delay inside vs outside the window.

    Reads each run's ``scenario.json`` and, for runs with outages, its
    incidents and ``call_rerouted`` events (see
    :func:`analysis.timeseries.outage_effect`); the numbers are NaN when the
    incidents table was not kept.

    Parameters
    ----------
    c : Collection
        The digested run or sweep.

    Returns
    -------
    DataFrame
        config_id, run_id, then the columns of :func:`analysis.timeseries.outage_effect`;
        empty when no run has an outage.
    """
    frames = []
    for cid, run_id, run in _run_dirs(c):
        windows = timeseries.outage_windows(run.scenario)
        if not len(windows):
            continue
        incidents = run.table("incidents", ["t_call_min", "t_dispatch_min", "line", "rerouted", "status",
                                            "in_warmup"])
        if incidents is None:
            effect = windows.reindex(columns=timeseries.OUTAGE_EFFECT_COLUMNS)
        else:
            lines = timeseries.primary_lines(run.scenario)
            effect = timeseries.outage_effect(incidents, windows, lines, run.table("events", ["t_min", "kind",
                                                                                                "detail"]))
        frames.append(effect.assign(config_id=cid, run_id=run_id))
    if not frames:
        return pd.DataFrame(columns=["config_id", "run_id", *_OUTAGE_KEYS])
    out = pd.concat(frames, ignore_index=True)
    return out[["config_id", "run_id", *[k for k in out.columns if k not in ("config_id", "run_id")]]]


def _run_dirs(c: Collection) -> list[tuple[str, str, RunDir]]:
    """(config_id, run_id, directory) of every digested run whose directory is there."""
    if c.kind == "run":
        return [("run", c.digests[0].run_id, RunDir.open(c.path))] if c.digests else []
    if c.sweep is None:
        return []
    runs = [(d.config_id, d.run_id, c.sweep.run(d.run_id)) for d in c.digests]
    return [(cid, rid, run) for cid, rid, run in runs if run is not None]


def shade_outages(fig: go.Figure, effects: pd.DataFrame | None, start: str | None,
                  period: tuple[float, float]) -> str:
    """Shade each distinct outage window on a time-series figure. Mutates ``fig``.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        A figure whose x axis is dates (``start`` given) or days, as
        :func:`analysis.figures.utilisation` draws it.
    effects : DataFrame or None
        From :func:`outage_effects` (only the window columns are used).
    start : str, optional
        ISO date-time of t = 0.
    period : tuple of float
        The minutes shown; windows are clipped to it, and left out when outside.

    Returns
    -------
    str
        Text to append to the figure's caption ("" when nothing was shaded).
    """
    if effects is None or not len(effects):
        return ""
    shaded = 0
    for w in effects.drop_duplicates(["centre", "label", "start_min", "end_min"]).itertuples(index=False):
        lo, hi = max(w.start_min, period[0]), min(w.end_min, period[1])
        if hi <= lo:
            continue
        text = f"{w.centre} down" + (f": {w.label}" if w.label else "")
        fig.add_vrect(x0=_x(lo, start), x1=_x(hi, start), fillcolor="#d62728", opacity=0.12, line_width=0,
                      layer="below", annotation_text=esc(text), annotation_position="top left",
                      annotation_font={"size": 11, "color": "#8c1c1c"})
        shaded += 1
    return "; the shaded bands are call-centre outages" if shaded else ""


def _x(t_min: float, start: str | None) -> Any:
    """The x coordinate of minute ``t_min`` on a time-series figure (a date, or days)."""
    return pd.Timestamp(start) + pd.Timedelta(minutes=float(t_min)) if start else float(t_min) / 1440.0


def _when(t_min: float, start: str | None) -> str:
    if start:
        return (pd.Timestamp(start) + pd.Timedelta(minutes=float(t_min))).strftime("%a %d %b %H:%M")
    day, minute = divmod(float(t_min), 1440.0)
    return f"day {int(day) + 1} {int(minute // 60):02d}:{int(minute % 60):02d}"


def _window_text(start_min: float, end_min: float, start: str | None) -> str:
    a, b = _when(start_min, start), _when(end_min, start)
    return f"{a}–{b.rsplit(' ', 1)[-1]}" if a.rsplit(" ", 1)[0] == b.rsplit(" ", 1)[0] else f"{a} – {b}"


def outages(c: Collection, effects: pd.DataFrame) -> Section | None:
    """Which call centres went down, how many calls went elsewhere, and how much later units were sent."""
    if not len(effects):
        return None
    s = Section("outages", "Call centre outages", "While a call centre was down, how many calls went to "
                "its fallback, and how much later were units sent?")
    start = c.digests[0].meta.get("start") if c.digests else None
    numbers = ["rerouted", "calls_inside", "abandoned_inside", "delay_inside_min", "delay_outside_min",
               "delay_added_min"]
    t = effects.groupby(["config_id", *_OUTAGE_KEYS], sort=False, dropna=False)[numbers].mean().reset_index()
    t.insert(0, "configuration", t.pop("config_id").map(c.labels))
    t.insert(3, "window", [_window_text(a, b, start) for a, b in zip(t["start_min"], t["end_min"],
                                                                     strict=True)])
    t = t.drop(columns=["start_min", "end_min"])
    if c.kind == "run":
        t = t.drop(columns="configuration")
    names = {"label": "outage", "held_calls": "calls on hold", "rerouted": "calls rerouted",
             "calls_inside": "calls in window", "abandoned_inside": "abandoned in window",
             "delay_inside_min": "call to dispatch in window (min)",
             "delay_outside_min": "call to dispatch outside (min)", "delay_added_min": "delay added (min)"}
    counts = ("calls rerouted", "calls in window", "abandoned in window")
    s.add(table(t.rename(columns=names), text_columns=["configuration", "centre", "outage", "window",
                                                       "calls on hold"],
                swatches=c.colour_map, swatch_column="configuration" if c.kind == "sweep" else None,
                formats={k: fmt_count for k in counts}))
    s.add(para("Call to dispatch: minutes from the call to the first unit's dispatch (waiting for a "
               "call-taker, answering and processing, by hand at the fallback centre, and any wait for a "
               "free unit), mean over the dispatched calls of the centre's lines made in the window, and "
               "over its other calls after the warm-up in the same run; delay added is the difference. "
               "Calls rerouted include calls on hold transferred when the centre went down."
               + (" Means over each configuration's runs; compare with a configuration without the "
                  "outage for its effect on response times." if c.kind == "sweep" else "")))
    return s

"""Report sections that answer one question each from the digested runs.

Each builder takes a :class:`analysis.digest.Collection`, the configurations
in focus (the baseline and the best few, for tables that would be too wide
with every configuration) and the :class:`analysis.html.FigureBox`, and
returns a :class:`analysis.html.Section`. When the tables a section needs
were not kept, the section says so instead of showing nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis import figures
from analysis.digest import Collection
from analysis.html import FigureBox, Section, fmt_count, fmt_pct, fmt_value, heading, note, para, table

_MISSING = "The {what} table was not kept for these runs, so this part is left out."
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
    if c.kind == "run":
        s.add(box.embed(figures.ecdf(c.digests[0].response, by="priority",
                                     title="Response time by priority, cumulative share of incidents"),
                        "for each priority, the share of measured incidents reached within x minutes of "
                        "the call (warm-up excluded); the further left and the steeper, the faster."))
    else:
        s.add(box.embed(figures.ecdf(pooled, colour_map=c.colour_map),
                        "for each configuration, the share of incidents (pooled over its replications) "
                        "reached within x minutes of the call; curves further left are faster. Click a "
                        "legend entry to hide a configuration."))
    groups = c.by_config("groups", ["grouping", "group"], ["n", "mean", "p90", "p95", "within_target"])
    s.add(para("Each cell: mean / 90th percentile response (minutes) / share within target"
               + _per_run(c) + "."))
    s.add(_focus_note(c, focus))
    for grouping, name in _GROUP_NAMES.items():
        part = groups[groups["grouping"] == grouping]
        if len(part):
            s.add(heading(name))
            s.add(table(_cells(part, ["group"], focus, _response_cell, c), text_columns=["group"],
                        headers={"group": grouping}))
    return s


# -- districts ---------------------------------------------------------------------------------
def districts(c: Collection, focus: list[str], box: FigureBox) -> Section:
    """Where in the city? District maps and equity across districts."""
    s = Section("districts", "Districts and equity", "Where in the city is help slow, and how unequal "
                "are the districts?")
    groups = c.by_config("groups", ["grouping", "group"], ["n", "mean", "within_target"])
    dist = groups[groups["grouping"] == "district"]
    shown = focus[:2]
    if len(dist):
        for col, name, fmt, rev, what in (
                ("mean", "mean response (min)", ".1f", False,
                 "each district filled by its mean response time (minutes; darker red is slower)"),
                ("within_target", "share within target", ".0%", True,
                 "each district filled by the share of its incidents reached within their target "
                 "(green is better)")):
            values = dist[dist["config_id"].isin(shown)].pivot_table(
                index="group", columns="label", values=col, aggfunc="mean", sort=False)
            values = values[[c.labels[k] for k in shown if c.labels[k] in values.columns]]
            fig = figures.district_map(c.scenario, values, f"Districts by {name}", name, fmt, rev)
            if fig is None:
                s.add(note("The scenario has no district boundaries to draw."))
                break
            s.add(box.embed(fig, what + (" for the baseline (left) and the best configuration"
                                         if len(shown) > 1 else "") + _per_run(c) + "."))
        s.add(table(_cells(dist, ["group"], focus,
                           lambda r: f"{fmt_value(r['mean'])} / {fmt_pct(r['within_target'])}", c),
                    text_columns=["group"], headers={"group": "district"}))
        s.add(para("Each cell: mean response (minutes) / share within target."))
    else:
        s.add(note(_MISSING.format(what="incidents")))
    s.add(heading("Equity across districts"))
    s.add(_equity_table(c, dist))
    return s


def _equity_table(c: Collection, dist: pd.DataFrame) -> str:
    cols = {"worst_district_mean_response_min": "worst district mean (min)",
            "district_spread_min": "worst - best (min)", "district_gini": "Gini of district means"}
    have = [k for k in cols if k in c.summary]
    if not have:
        return note("These runs were summarised without the equity metrics.")
    t = c.summary.groupby("config_id", sort=False)[have].mean().reset_index()
    worst = dist.loc[dist.groupby("config_id")["mean"].idxmax()].set_index("config_id")["group"].to_dict() \
        if len(dist) else {}
    t.insert(1, "worst district", [worst.get(k, "–") for k in t["config_id"]])
    t.insert(0, "configuration", t.pop("config_id").map(c.labels))
    return table(t.rename(columns=cols), text_columns=["configuration", "worst district"],
                 swatches=c.colour_map, swatch_column="configuration",
                 formats={cols["district_gini"]: lambda v: fmt_value(v, 3)})


# -- call handling -----------------------------------------------------------------------------
def calls(c: Collection, focus: list[str], box: FigureBox) -> Section:
    """Are calls answered and dispatched quickly? Delays of call handling."""
    s = Section("calls", "Call handling", "How long do calls wait for a call-taker, and how long until a "
                "unit is sent?")
    delays = c.by_config("delays", ["delay"], ["n", "mean", "median", "p90"])
    if not len(delays):
        s.add(note(_MISSING.format(what="incidents")))
        return s
    delays["delay"] = delays["delay"].str.replace("_", " ")
    s.add(table(_cells(delays, ["delay"], focus,
                       lambda r: f"{fmt_value(r['mean'])} / {fmt_value(r['p90'])}", c),
                text_columns=["delay"]))
    s.add(para("Each cell: mean / 90th percentile (minutes)" + _per_run(c) + ". Answer to dispatch "
               "includes call processing and any wait for a free unit; abandoned calls have no answer "
               "and are counted under outcomes."))
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
def units(c: Collection, focus: list[str], box: FigureBox) -> Section:
    """How busy are the units? Utilisation over time per unit type, and on average."""
    s = Section("units", "Unit utilisation", "How busy is each type of unit, and when?")
    util = c.by_config("util", ["t_min", "unit_kind"], ["utilization"])
    shown = list(c.configs["config_id"]) if len(c.configs) <= 12 else focus
    util = util[util["config_id"].isin(shown)]
    if len(util):
        start = c.digests[0].meta.get("start")
        s.add(box.embed(figures.utilisation(util, start=start, group="label" if len(shown) > 1 else None),
                        "the share of each unit type's fleet busy on an assignment (dispatch to free "
                        "again), per time bin" + _per_run(c)
                        + ("; the menu at the top right picks the configuration" if len(shown) > 1 else "")
                        + "."))
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
    return s


# -- hospitals -------------------------------------------------------------------------------------
def hospitals(c: Collection, focus: list[str], box: FigureBox) -> Section:
    """How full are the hospitals' handover bays, and how long do ambulances wait for one."""
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
    s.add(box.embed(figures.hospital_occupancy(series, capacity, start=start,
                                               group="label" if len(focus) > 1 else None),
                    "the mean number of ambulances handing patients over at each hospital per time bin "
                    "(dotted lines: the number of bays)" + _per_run(c) + "."))
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

"""Report sections for the tables that mechanisms add to a run, each shown only when its table is there.

- forces: assignments with ``escalation_level`` (and ``tier``, ``diverted``): how often each level was
  used, and what lending units cost the lending districts;
- stock (``stock.parquet``): the level of each material at each depot over time, and stock-outs;
- drones (``drones.parquet``): sorties by outcome, flight times, battery left;
- hazards: ``footprints.parquet`` as maps at a few snapshot times;
- citizens: ``casualties``, ``evacuation`` (tables), ``shelters`` occupancy and ``warnings`` reached
  over time;
- any other table of run.json ``tables`` whose columns include ``t_min``: a time-series figure;
- run.json ``components.<name>`` figures as a table.

A sweep's report shows these for the baseline's first run (said in a note).
Names from the tables (depots, shelters, districts, hazards) are escaped
by :mod:`analysis.html`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.digest import Collection
from analysis.figures import esc as label
from analysis.html import FigureBox, Section, fmt_value, heading, note, para, table
from analysis.store import RunDir

#: Tables with their own section (or drawn elsewhere): never drawn as a generic time series.
OWN_TABLES = {"stock", "drones", "footprints", "casualties", "evacuation", "shelters", "warnings", "injects",
              "geography"}
#: Most lines in one time-series figure; most maps in the footprint figure; most rows of a table shown.
MAX_LINES, MAX_MAPS, MAX_ROWS = 24, 4, 20


def extra_sections(c: Collection, box: FigureBox) -> list[Section]:
    """The sections of this module that have something to show, in order.

    Parameters
    ----------
    c : Collection
        The digested run or sweep.
    box : FigureBox
        Numbers and embeds the figures.

    Returns
    -------
    list of Section
    """
    run = _first_run(c)
    if run is None:
        return []
    where = None if c.kind == "run" else f"From run {run.path.name} (the baseline's first run)."
    parts = [forces(run, box), stock(run, box), drones(run), hazards(run, box), citizens(run, box),
             other_series(run, box), component_figures(run)]
    out = [p for p in parts if p is not None]
    if where:
        for s in out:
            s.blocks.insert(0, note(where))
    return out


def _first_run(c: Collection) -> RunDir | None:
    if c.kind == "run":
        return RunDir.open(c.path)
    if c.sweep is None:
        return None
    for d in c.digests:
        if d.config_id == c.baseline:
            return c.sweep.run(d.run_id)
    return None


def forces(run: RunDir, box: FigureBox) -> Section | None:
    """How often each escalation level was used, and the lending districts' cost.

    Counts the assignments dispatched after the warm-up and the incidents called after it, as run.json's
    ``components.escalation`` does. None when the assignments have no ``escalation_level`` or every unit
    answered in its own district, never diverted.
    """
    a = run.table("assignments")
    if a is None or "escalation_level" not in a:
        return None
    start = run.window()[0]
    a = a[a["t_dispatch_min"] >= start]
    lent = (a["escalation_level"] > 0).any() or ("diverted" in a and a["diverted"].astype(bool).any())
    if not lent:  # every unit answered in its own district: nothing to say beyond the units section
        return None
    s = Section("forces", "Forces and escalation",
                "Which tier answered, how far help came from, and what lending units cost the lenders "
                "(units dispatched after the warm-up).")
    a = a.assign(busy_min=(a["t_free_min"].fillna(a["t_clear_min"]) - a["t_dispatch_min"]).clip(lower=0))
    levels = {0: "own district", 1: "mutual aid", 2: "city tier", 3: "enterprise brigade"}
    by = a.groupby("escalation_level", observed=True).agg(
        assignments=("incident_id", "size"), incidents=("incident_id", "nunique"),
        mean_travel_min=("travel_min", "mean"), unit_hours=("busy_min", lambda x: x.sum() / 60))
    by["share"] = by["assignments"] / max(len(a), 1)
    if "diverted" in a:
        by["diverted"] = a.groupby("escalation_level", observed=True)["diverted"].sum()
    by = by.reset_index()
    by.insert(1, "level", by["escalation_level"].map(lambda v: levels.get(int(v), f"level {int(v)}")))
    s.add(table(by, formats={"share": lambda v: f"{100 * v:.1f}%"}, text_columns=("level",)))
    if "tier" in a:
        tiers = a.groupby("tier", observed=True).size().rename("assignments").reset_index()
        s.add(table(tiers, text_columns=("tier",)))
    lent = lending_cost(a, run.table("incidents"), start)
    if lent is not None and len(lent):
        s.add(heading("What lending cost the lending districts (mutual aid, level 1)"))
        s.add(table(lent, text_columns=("lending district",)))
    return s


def lending_cost(a: pd.DataFrame, incidents: pd.DataFrame | None, start: float = 0.0) -> pd.DataFrame | None:
    """Per district that lent units by mutual aid (level 1): what it lent and its own response meanwhile.

    City-tier units (level 2) are nobody's loan; a lent brigade (level 3) is its site's, not a
    district's. The lenders are those of run.json ``components.escalation.lenders``.

    Parameters
    ----------
    a : pandas.DataFrame
        Assignments with ``home_district``, ``escalation_level``, ``t_dispatch_min`` and ``busy_min``.
    incidents : pandas.DataFrame or None
        The incidents table.
    start : float
        End of the warm-up (minutes): own incidents called before it are left out.

    Returns
    -------
    pandas.DataFrame or None
        lending district, assignments lent, unit-hours lent, own incidents while lending (called while one
        of its units was away on a loan), their mean response, and the mean response of its other incidents.
    """
    if "home_district" not in a or incidents is None:
        return None
    lent = a[a["escalation_level"] == 1]
    incidents = incidents[incidents["t_call_min"] >= start]
    rows = []
    for d, part in lent.groupby(lent["home_district"].astype(str)):
        own = incidents[incidents["district"].astype(str) == d]
        t = own["t_call_min"].to_numpy()
        away = np.zeros(len(own), dtype=bool)
        for t0, t1 in zip(part["t_dispatch_min"], part["t_dispatch_min"] + part["busy_min"], strict=True):
            away |= (t >= t0) & (t < t1)
        rows.append({"lending district": d, "assignments lent": len(part),
                     "unit-hours lent": part["busy_min"].sum() / 60,
                     "own incidents while lending": int(away.sum()),
                     "their mean response": own.loc[away, "response_min"].mean(),
                     "other own incidents' mean response": own.loc[~away, "response_min"].mean()})
    return pd.DataFrame(rows)


def stock(run: RunDir, box: FigureBox) -> Section | None:
    """Stock levels over time per depot and material (None without ``stock.parquet``)."""
    st = run.table("stock")
    if st is None or st.empty:
        return None
    s = Section("stock", "Stock over time", "How much of each material each depot held, and when it ran out.")
    t_end = float(run.meta.get("until_min", st["t_min"].max()))
    # a panel per material (each its own scale: foam in litres, booms in metres), a line per depot
    materials = sorted(st["material"].astype(str).unique())[:8]
    depots = sorted(st["depot"].astype(str).unique())
    fig = make_subplots(rows=len(materials), cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=[label(m) for m in materials])
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
    st = st.sort_values("t_min", kind="stable")
    shown: set[str] = set()   # a legend entry per depot, at its first line (not every depot has row 1)
    for row, material in enumerate(materials, start=1):
        for j, depot in enumerate(depots):
            part = st[(st["material"].astype(str) == material) & (st["depot"].astype(str) == depot)]
            if part.empty or not (part["level"] > 0).any():   # a depot that never held this material
                continue
            x = [*part["t_min"].round(2).tolist(), t_end]           # the last level holds to the end
            y = [*part["level"].tolist(), float(part["level"].iloc[-1])]
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line={"shape": "hv", "color": palette[j % 8]},
                                     name=label(depot), legendgroup=depot, showlegend=depot not in shown),
                          row=row, col=1)
            shown.add(depot)
    fig.update_xaxes(title_text="minutes from the start", row=len(materials), col=1)
    fig.update_layout(height=max(300, 60 + 170 * len(materials)), margin={"l": 60, "r": 10, "t": 30, "b": 40})
    s.add(box.embed(fig, "the level of each material (a panel each) at each depot (a line each) after every "
                         "change (consumed, resupplied)."))
    # a depot that never held a material (its one row the initial 0) did not run out of it
    held = st.groupby(["depot", "material"], observed=True)["level"].transform("max") > 0
    outs = st[(st["level"] <= 0) & held].groupby(["depot", "material"], observed=True)["t_min"].min()
    s.add(para("No depot ran out of any material.") if outs.empty else
          table(outs.rename("first out at (min)").reset_index(), text_columns=("depot", "material")))
    return s


def drones(run: RunDir) -> Section | None:
    """Drone sorties by outcome (None without ``drones.parquet``)."""
    dr = run.table("drones")
    if dr is None or dr.empty:
        return None
    s = Section("drones", "Drones", "What the sorties found, how long they flew, how much battery was left.")
    dr = dr.assign(flight_min=dr["t_arrive_min"] - dr["t_launch_min"],
                   sortie_min=dr["t_back_min"] - dr["t_launch_min"],  # NaN: in the air at the end
                   outcome=dr["outcome"].astype(str).replace("", "(no report by the end)"))
    by = dr.groupby("outcome", observed=True).agg(
        sorties=("drone", "size"), mean_flight_min=("flight_min", "mean"),
        mean_sortie_min=("sortie_min", "mean"),
        min_battery_left_min=("battery_left_min", "min")).reset_index()
    s.add(table(by, text_columns=("outcome",)))
    per = dr.groupby("drone", observed=True).agg(sorties=("outcome", "size"),
                                                 flying_min=("sortie_min", "sum")).reset_index()
    s.add(table(per, text_columns=("drone",)))
    return s


def hazards(run: RunDir, box: FigureBox) -> Section | None:
    """Footprint maps at up to :data:`MAX_MAPS` snapshot times (None without ``footprints.parquet``)."""
    fp = run.table("footprints")
    if fp is None or fp.empty:
        return None
    s = Section("hazards", "Hazard footprints", "Where each hazard was above its threshold, at a few times.")
    times = np.unique(fp["t_min"].to_numpy(dtype=float))
    shown = times[np.linspace(0, len(times) - 1, min(MAX_MAPS, len(times))).round().astype(int)]
    fig = make_subplots(rows=1, cols=len(shown), subplot_titles=[f"{t:g} min" for t in shown],
                        shared_yaxes=True, horizontal_spacing=0.03)
    hz = sorted(fp["hazard"].astype(str).unique())
    palette = ["Reds", "Blues", "Purples", "Greens", "Oranges"]
    # one colour scale per hazard over every snapshot: a level has the same colour in each panel
    span = fp.groupby(fp["hazard"].astype(str))["value"].agg(["min", "max"])
    for k, t in enumerate(shown, start=1):
        for j, h in enumerate(hz):
            part = fp[(fp["t_min"] == t) & (fp["hazard"].astype(str) == h)]
            lo, hi = (float(v) for v in span.loc[h])
            fig.add_trace(go.Scatter(x=part["x_km"].round(3).tolist(), y=part["y_km"].round(3).tolist(),
                                     mode="markers", name=label(h), legendgroup=h, showlegend=k == 1,
                                     marker={"symbol": "square", "size": 7, "color": part["value"].tolist(),
                                             "colorscale": palette[j % len(palette)], "opacity": 0.8,
                                             "cmin": lo, "cmax": hi if hi > lo else lo + 1.0},
                                     hovertemplate=label(h) + ": %{marker.color:.3g}<extra></extra>"),
                          row=1, col=k)
    geo = run.table("geography")
    if geo is not None:
        st = geo[geo["kind"] == "station"]
        for k in range(1, len(shown) + 1):
            fig.add_trace(go.Scatter(x=st["x_km"].tolist(), y=st["y_km"].tolist(), mode="markers",
                                     name="stations", legendgroup="stations", showlegend=k == 1,
                                     text=[label(n) for n in st["name"].astype(str)], hoverinfo="text",
                                     marker={"symbol": "square-open", "size": 9, "color": "#16325c"}),
                          row=1, col=k)
    for k in range(1, len(shown) + 1):  # maps: a kilometre is as long across as up
        fig.update_xaxes(scaleanchor="y" if k == 1 else f"y{k}", row=1, col=k)
    fig.update_layout(height=380, margin={"l": 40, "r": 10, "t": 40, "b": 30})
    s.add(box.embed(fig, "the cells where each hazard was above its threshold at the snapshot times, "
                         "coloured by its level, with the stations."))
    summary = fp.groupby(["hazard", "t_min"], observed=True).agg(cells=("value", "size"),
                                                                 max_value=("value", "max")).reset_index()
    cell_km = fp.groupby(["hazard", "t_min"], observed=True)["cell_km"].first().to_numpy()
    summary["area_km2"] = summary["cells"] * cell_km ** 2
    s.add(table(summary, text_columns=("hazard",)))
    return s


def citizens(run: RunDir, box: FigureBox) -> Section | None:
    """Casualties, evacuation, shelter occupancy and warnings (None when none of their tables is there)."""
    cas, ev, sh, wa = (run.table(n) for n in ("casualties", "evacuation", "shelters", "warnings"))
    if all(t is None for t in (cas, ev, sh, wa)):
        return None
    s = Section("citizens", "Citizens",
                "Who was hurt, who left, where they sheltered, whom the warnings reached.")
    if cas is not None and len(cas):
        s.add(heading("Casualties"))
        by = cas.groupby(["district", "cause"], observed=True)[["injured", "dead"]].sum().reset_index()
        s.add(table(by, text_columns=("district", "cause")))
    if ev is not None and len(ev):
        s.add(heading("Evacuation"))
        s.add(table(ev, text_columns=("district",)))
    if sh is not None and len(sh):
        s.add(heading("Shelters"))
        s.add(box.embed(_lines(_held_to_end(sh, "shelter"), "shelter", ["occupancy"], "people"),
                        "how many people each shelter held over time."))
        cap = sh.groupby("shelter", observed=True).agg(peak=("occupancy", "max"),
                                                       capacity=("capacity", "max"))
        s.add(table(cap.reset_index(), text_columns=("shelter",)))
    if wa is not None and len(wa):
        s.add(heading("Warnings"))
        wa = wa.sort_values("t_min", kind="stable")
        wa = wa.assign(reached_so_far=wa.groupby("channel", observed=True)["reached"].cumsum())
        s.add(box.embed(_lines(_held_to_end(wa, "channel"), "channel", ["reached_so_far"], "people reached"),
                        "how many people each warning channel had reached by each time."))
    return s


def _held_to_end(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """``df`` with each ``key``'s last row repeated at the table's last ``t_min``.

    A table that records changes only ends each line at its last change, and a
    line of a single row (a channel's one alert) is not drawn at all; the
    repeated row carries each level on to the end as a step line.
    """
    last = df.sort_values("t_min", kind="stable").groupby(key, observed=True).tail(1)
    end = last[last["t_min"] < df["t_min"].max()].assign(t_min=df["t_min"].max())
    return pd.concat([df, end], ignore_index=True) if len(end) else df


def _lines(df: pd.DataFrame, key: str | None, values: list[str], y_title: str) -> go.Figure:
    """Step lines over ``t_min``: a panel per column of ``values`` (own scales), a line per ``key`` value.

    At most :data:`MAX_LINES` lines in all.
    """
    fig = make_subplots(rows=len(values), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[label(v) for v in values] if len(values) > 1 else None)
    df = df.sort_values("t_min", kind="stable")
    parts = list(df.groupby(key, observed=True)) if key else [("", df)]
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
    for j, (name, part) in enumerate(parts):
        key_text = " · ".join(str(x) for x in (name if isinstance(name, tuple) else (name,)) if str(x))
        for row, v in enumerate(values, start=1):
            if len(fig.data) >= MAX_LINES:
                break
            fig.add_trace(go.Scatter(x=part["t_min"].round(3).tolist(), y=part[v].tolist(), mode="lines",
                                     line={"shape": "hv", "color": palette[j % len(palette)]},
                                     name=label(key_text or v), legendgroup=key_text or v,
                                     showlegend=row == 1 and (bool(key_text) or len(values) == 1)),
                          row=row, col=1)
    fig.update_xaxes(title_text="minutes from the start", row=len(values), col=1)
    if len(values) == 1:
        fig.update_yaxes(title_text=label(y_title), row=1, col=1)
    fig.update_layout(height=max(300, 60 + 150 * len(values)), margin={"l": 60, "r": 10, "t": 30, "b": 40})
    return fig


def other_series(run: RunDir, box: FigureBox) -> Section | None:
    """The other component tables: a time series (``t_min`` and at most one text column), else their rows.

    A table with ``t_min``, numbers and at most one text column (a key such as a district) is drawn as step
    lines over time, a line per key; any other (an event list, a table without ``t_min``) is shown as its
    first :data:`MAX_ROWS` rows. None when the run has no such table.
    """
    names = [n for n in run.meta.get("tables") or [] if n not in OWN_TABLES]
    blocks = []
    for name in names:
        df = run.table(name)
        if df is None or df.empty:
            continue
        numeric = [c for c in df.columns if c != "t_min" and pd.api.types.is_numeric_dtype(df[c])
                   and not pd.api.types.is_bool_dtype(df[c])]
        text = [c for c in df.columns if c != "t_min" and c not in numeric]
        if "t_min" in df and numeric and len(text) <= 1 and (not text or df[text[0]].nunique() <= MAX_LINES):
            fig = _lines(df, text[0] if text else None, numeric[:8], name)
            blocks.append(box.embed(fig, f"the columns of {name}.parquet over time."))
        else:
            more = f", the first {MAX_ROWS} shown" if len(df) > MAX_ROWS else ""
            blocks += [heading(f"{name}.parquet ({len(df):,} rows{more})"),
                       table(df.head(MAX_ROWS), text_columns=tuple(text))]
    if not blocks:
        return None
    s = Section("series", "Other component tables",
                "The run's other component tables: over time, or as rows.")
    for block in blocks:
        s.add(block)
    return s


def component_figures(run: RunDir) -> Section | None:
    """run.json ``components.<name>`` figures as one table (None when there are none)."""
    comps = run.meta.get("components") or {}
    rows = []
    for name, figures in comps.items():
        for key, value in _flat(figures):
            rows.append({"component": str(name), "figure": key, "value": value})
    if not rows:
        return None
    s = Section("components", "Component figures", "What each component reported about the run (run.json).")
    frame = pd.DataFrame({"component": [r["component"] for r in rows], "figure": [r["figure"] for r in rows],
                          "value": pd.Series([r["value"] for r in rows], dtype=object)})  # ints stay ints
    s.add(table(frame, formats={"value": _value}, text_columns=("component", "figure", "value")))
    return s


def _flat(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += _flat(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return [(prefix or "value", value)]


def _value(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ", ".join(_value(x) for x in v[:20]) + (" ..." if len(v) > 20 else "")
    return fmt_value(v)

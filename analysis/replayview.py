"""The animated replay of a run: a map whose units move along their routes, and a Gantt of unit states.

Pure functions of tables and arrays (no engine): ``sim.replay.replay_html``
reruns the run, records each trip's route (``sim.replay.TripRecorder``) and
hands the result here as a :class:`ReplayData`. Frames are sampled at a
fixed step; a unit between two route points is placed on the straight
segment between them (on a road network: on the road link), at the time the
route gives. Each frame carries only what moves: the units (one trace per
state, so the legend names the colours), the open incidents and the hazard
footprints; roads, districts, stations and hospitals are drawn once.

Size (figures in docs/howto-replay.md): frames hold only the points of the
moving traces, coordinates rounded to 10 m and incidents by id; the traces'
looks are set once. A 6-hour run with 200 units and 361 frames is 6.7 MB,
4.8 MB of it plotly.js.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from analysis.figures import esc as label
from analysis.html import PLOT_CONFIG, FigureBox, Section, esc, note, page

#: Display states of units, in legend order, with their colours.
STATES: dict[str, str] = {
    "at_station": "#7f8c8d", "responding": "#d62728", "on_scene": "#ff7f0e", "transporting": "#9467bd",
    "at_hospital": "#e377c2", "returning": "#1f77b4", "relocating": "#17becf", "out_of_service": "#222222",
}
#: Unit event kinds and the state they start (other kinds leave the state as it was).
KIND_STATE: dict[str, str] = {
    "unit_dispatched": "responding", "unit_en_route": "responding", "unit_arrived": "on_scene",
    "unit_left_scene": "transporting", "unit_at_hospital": "at_hospital", "handover_started": "at_hospital",
    "handover_done": "at_hospital", "unit_returning": "returning", "unit_available": "at_station",
    "unit_in_service": "at_station", "unit_out_of_service": "out_of_service", "unit_relocating": "relocating",
}
#: Most frames in one replay (the step grows for longer runs); most footprint cells per hazard and frame.
MAX_FRAMES, MAX_CELLS = 1500, 4000
_DIGITS = 2  # coordinates rounded to 10 m


@dataclass
class ReplayData:
    """What the animated replay draws.

    ``trips`` holds flat arrays (see ``sim.replay.TripRecorder.trips``):
    unit, t0_min, offsets, x_km, y_km, t_min. ``roads`` is float (n, 4)
    segments or None; ``districts`` (name, polygon) pairs; ``tables`` the
    run's events, incidents, units, geography and, when present, injects and
    footprints; ``meta`` is run.json.
    """

    meta: dict[str, Any]
    trips: dict[str, np.ndarray]
    roads: np.ndarray | None
    districts: list[tuple[str, np.ndarray]]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: road changes as they took effect: t_min, x0, y0, x1, y1, factor (None or empty: none)
    road_changes: pd.DataFrame | None = None


def frame_times(t_end: float, step_min: float | None = None, t_start: float = 0.0) -> np.ndarray:
    """Frame times from ``t_start`` to ``t_end``: every ``step_min`` (default 1 min, more for long runs).

    Parameters
    ----------
    t_end, t_start : float
        Minutes.
    step_min : float, optional
        The step; default the least of 1, 2, 5, 10, 15, 30, 60, ... minutes giving at most
        :data:`MAX_FRAMES` frames.

    Returns
    -------
    ndarray
        float64, ascending, the first ``t_start``.
    """
    span = max(t_end - t_start, 0.0)
    if step_min is None:
        step_min = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 1440)
                         if span / s <= MAX_FRAMES), span / MAX_FRAMES)
    if not step_min > 0:
        raise ValueError(f"the frame step must be positive, got {step_min}")
    return t_start + np.arange(int(np.floor(span / step_min + 1e-9)) + 1) * float(step_min)


def unit_positions(trips: dict[str, np.ndarray], home_xy: np.ndarray, times: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Where each unit is at each time: on its latest trip's route, interpolated between route points.

    A trip lasts until the unit's next trip sets off (a trip cut short ends
    there: the next one starts from the last node passed); before its first
    trip a unit is at ``home_xy``; after a trip's end it stays at the end.

    Parameters
    ----------
    trips : dict of ndarray
        unit, t0_min, offsets, x_km, y_km, t_min (flat route arrays, see :class:`ReplayData`).
    home_xy : ndarray
        float (n_units, 2), km.
    times : ndarray
        float (n_frames,), minutes, ascending.

    Returns
    -------
    (ndarray, ndarray)
        x and y, float64 (n_frames, n_units).
    """
    n = len(home_xy)
    x = np.repeat(np.asarray(home_xy[:, 0], dtype=np.float64)[None, :], len(times), axis=0)
    y = np.repeat(np.asarray(home_xy[:, 1], dtype=np.float64)[None, :], len(times), axis=0)
    unit, t0, off = trips["unit"], trips["t0_min"], trips["offsets"]
    order = np.lexsort((np.arange(len(unit)), t0, unit))  # by unit, then time, then as recorded
    for u in range(n):
        mine = order[unit[order] == u]
        for j, k in enumerate(mine):
            lo = np.searchsorted(times, t0[k], side="left")
            hi = len(times) if j + 1 == len(mine) else np.searchsorted(times, t0[mine[j + 1]], side="left")
            if hi <= lo:
                continue
            a, b = off[k], off[k + 1]
            elapsed = times[lo:hi] - t0[k]
            x[lo:hi, u] = np.interp(elapsed, trips["t_min"][a:b], trips["x_km"][a:b])
            y[lo:hi, u] = np.interp(elapsed, trips["t_min"][a:b], trips["y_km"][a:b])
    return x, y


def state_changes(events: pd.DataFrame, unit_names: list[str]) -> pd.DataFrame:
    """Each unit's state changes read off the event log: unit (index), t_min, state (name), in log order.

    Parameters
    ----------
    events : pandas.DataFrame
        The events table (t_min, seq, kind, unit_id).
    unit_names : list of str
        Unit names in index order (the units table's).

    Returns
    -------
    pandas.DataFrame
    """
    ev = events[events["unit_id"].notna() & events["kind"].astype(str).isin(list(KIND_STATE))]
    index = {name: i for i, name in enumerate(unit_names)}
    out = pd.DataFrame({"unit": ev["unit_id"].astype(str).map(index).to_numpy(),
                        "t_min": ev["t_min"].to_numpy(dtype=np.float64),
                        "state": ev["kind"].astype(str).map(KIND_STATE).to_numpy(),
                        "seq": ev["seq"].to_numpy()})
    out = out[out["unit"].notna()].astype({"unit": np.int64})
    return out.sort_values(["unit", "seq"], kind="stable").reset_index(drop=True)


def unit_states(changes: pd.DataFrame, n_units: int, times: np.ndarray) -> np.ndarray:
    """The state code (index into :data:`STATES`) of each unit at each time (the last change at or before it).

    Returns
    -------
    ndarray
        int8 (n_frames, n_units); units start at their station (code 0).
    """
    codes = {name: i for i, name in enumerate(STATES)}
    out = np.zeros((len(times), n_units), dtype=np.int8)
    for u, part in changes.groupby("unit", sort=False):
        idx = np.searchsorted(part["t_min"].to_numpy(), times, side="right") - 1
        code = part["state"].map(codes).to_numpy(dtype=np.int8)
        out[:, int(u)] = np.where(idx >= 0, code[np.maximum(idx, 0)], 0)
    return out


def state_intervals(changes: pd.DataFrame, unit_names: list[str], t_end: float) -> pd.DataFrame:
    """Each unit's states as intervals (unit, state, start_min, end_min), zero-length ones dropped."""
    rows = []
    by_unit = dict(tuple(changes.groupby("unit", sort=False)))
    for u, name in enumerate(unit_names):  # every unit starts at its station at time 0
        part = by_unit.get(u)
        states = ["at_station", *([] if part is None else part["state"])]
        t = np.append(0.0, [] if part is None else part["t_min"].to_numpy())
        ends = np.append(t[1:], t_end)
        for s, a, b in zip(states, t, ends, strict=True):
            if b > a:
                rows.append((name, s, a, b))
    return pd.DataFrame(rows, columns=["unit", "state", "start_min", "end_min"])


def _clock(t_min: float, start: str | None) -> str:
    if start:
        stamp = pd.Timestamp(start) + pd.Timedelta(minutes=float(t_min))
        return stamp.strftime("%m-%d %H:%M")
    days, rest = divmod(round(t_min), 1440)
    return f"d{days} {rest // 60:02d}:{rest % 60:02d}"


def _open_incidents(incidents: pd.DataFrame, t: float) -> pd.DataFrame:
    # an incident shows from its call to its clearance; one closed without it (unserved, abandoned) until
    # its last milestone, one still open at the end until the end
    last = incidents[["t_call_min", "t_answer_min", "t_dispatch_min"]].max(axis=1)
    still = incidents["status"].astype(str) == "open_at_end"
    end = incidents["t_clear_min"].fillna(last.where(~still, np.inf))
    return incidents[(incidents["t_call_min"] <= t) & (end > t)]


def _footprint_at(fp: pd.DataFrame, hazard: str, t: float) -> pd.DataFrame:
    mine = fp[(fp["hazard"] == hazard) & (fp["t_min"] <= t)]
    if mine.empty:
        return mine
    snap = mine[mine["t_min"] == mine["t_min"].max()]
    if len(snap) > MAX_CELLS:
        snap = snap.iloc[np.linspace(0, len(snap) - 1, MAX_CELLS).astype(np.int64)]
    return snap


def _r(a: Any) -> list:
    return np.round(np.asarray(a, dtype=np.float64), _DIGITS).tolist()


def map_figure(data: ReplayData, times: np.ndarray) -> go.Figure:
    """The animated map: base layers once, then a frame per time with units, open incidents and footprints.

    Parameters
    ----------
    data : ReplayData
    times : ndarray
        Frame times, minutes.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    t = data.tables
    units, geo, inc = t["units"], t["geography"], t["incidents"]
    names = units["unit_id"].astype(str).tolist()
    station_xy = geo[geo["kind"] == "station"].set_index("name")[["x_km", "y_km"]]
    home = station_xy.reindex(units["station"].astype(str)).to_numpy(dtype=np.float64)
    x, y = unit_positions(data.trips, home, times)
    codes = unit_states(state_changes(t["events"], names), len(names), times)
    fp = t.get("footprints")
    hazards = sorted(fp["hazard"].astype(str).unique()) if fp is not None and len(fp) else []
    roads = with_link_keys(data.road_changes) if data.road_changes is not None and len(data.road_changes) \
        else None
    styles = [dict(s) for s in ([] if roads is None else _ROAD_STYLES)] + _styles(hazards)
    fig = go.Figure()
    _base_layers(fig, data, geo)
    for style in styles:  # the legend of the moving traces, which may be empty at first (and then unlisted)
        if style.get("showlegend") is not False:
            keep = {k: v for k, v in style.items() if k in ("type", "mode", "name", "marker", "line")}
            fig.add_trace(go.Scatter({**keep, "x": [None], "y": [None], "legendgroup": style["name"]}))
            style.update(showlegend=False, legendgroup=style["name"])
    n_base = len(fig.data)
    frames_data = [_road_state(roads, float(times[k])) + _moving(x[k], y[k], codes[k], inc, fp, hazards,
                                                                 float(times[k])) for k in range(len(times))]
    for style, first in zip(styles, frames_data[0], strict=True):
        fig.add_trace(go.Scatter({**style, **first}))
    start = data.meta.get("start")
    moving = list(range(n_base, len(fig.data)))
    fig.frames = [go.Frame(data=d, name=str(k), traces=moving) for k, d in enumerate(frames_data)]
    steps = [{"method": "animate", "label": _clock(float(tm), start),
              "args": [[str(k)], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                  "transition": {"duration": 0}}]} for k, tm in enumerate(times)]
    play = {"frame": {"duration": 150, "redraw": False}, "transition": {"duration": 0},
            "fromcurrent": True, "mode": "immediate"}
    pause = {"frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}, "mode": "immediate"}
    fig.update_layout(
        height=640, margin={"l": 40, "r": 10, "t": 30, "b": 10}, plot_bgcolor="#fbfcfe",
        xaxis={"title": "x (km)", "scaleanchor": "y", "showgrid": False},
        yaxis={"title": "y (km)", "showgrid": False}, legend={"itemsizing": "constant"},
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0.0, "y": -0.02, "xanchor": "left",
                      "yanchor": "top", "showactive": False, "pad": {"t": 30},
                      "buttons": [{"label": "Play", "method": "animate", "args": [None, play]},
                                  {"label": "Pause", "method": "animate", "args": [[None], pause]}]}],
        sliders=[{"active": 0, "steps": steps, "x": 0.2, "len": 0.8, "y": -0.02, "yanchor": "top",
                  "pad": {"t": 30}, "currentvalue": {"prefix": "time ", "font": {"size": 13}},
                  "transition": {"duration": 0}}])
    return fig


def _base_layers(fig: go.Figure, data: ReplayData, geo: pd.DataFrame) -> None:
    if data.roads is not None and len(data.roads):
        seg = np.asarray(data.roads, dtype=np.float64)
        nan = np.full(len(seg), np.nan)
        xs = np.column_stack([seg[:, 0], seg[:, 2], nan]).ravel()
        ys = np.column_stack([seg[:, 1], seg[:, 3], nan]).ravel()
        fig.add_trace(go.Scatter(x=np.round(xs, 3), y=np.round(ys, 3), mode="lines", name="roads",
                                 line={"color": "#c5ccd6", "width": 1}, hoverinfo="skip"))
    for name, poly in data.districts:
        ring = np.vstack([poly, poly[:1]])
        fig.add_trace(go.Scatter(x=_r(ring[:, 0]), y=_r(ring[:, 1]), mode="lines", name=f"district {name}",
                                 line={"color": "#8fa3bf", "width": 1.5, "dash": "dot"}, hoverinfo="text",
                                 text=[label(name)] * len(ring), showlegend=False))
    for kind, symbol, colour in (("station", "square", "#16325c"), ("hospital", "cross", "#b22222")):
        part = geo[geo["kind"] == kind]
        if len(part):
            fig.add_trace(go.Scatter(x=_r(part["x_km"]), y=_r(part["y_km"]), mode="markers+text",
                                     name=f"{kind}s", text=[label(n) for n in part["name"].astype(str)],
                                     textposition="top center", textfont={"size": 9},
                                     marker={"symbol": symbol, "size": 11, "color": colour},
                                     hoverinfo="text"))
    for state, colour in STATES.items():  # the legend of the moving traces (which may be empty at first)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=state, legendgroup=state,
                                 marker={"size": 8, "color": colour}))


#: Looks of the changed roads (closed, slowed), drawn over the others while the change lasts.
_ROAD_STYLES = [{"type": "scatter", "mode": "lines", "name": "closed roads", "hoverinfo": "skip",
                 "line": {"color": "#d62728", "width": 3}},
                {"type": "scatter", "mode": "lines", "name": "slowed roads", "hoverinfo": "skip",
                 "line": {"color": "#ff9f1c", "width": 2.5}}]


def roads_at(changes: pd.DataFrame, t: float) -> pd.DataFrame:
    """The changed links at time ``t`` (the latest change of each at or before it), restored ones dropped."""
    if "key" not in changes:
        changes = with_link_keys(changes)
    now = changes[changes["t_min"] <= t]
    latest = now.drop_duplicates("key", keep="last")  # in the order they took effect
    return latest[latest["factor"] < 1.0]


def with_link_keys(changes: pd.DataFrame) -> pd.DataFrame:
    """``changes`` with a ``key`` column naming each link by its two ends, either way round."""
    ends = np.round(changes[["x0", "y0", "x1", "y1"]].to_numpy(dtype=np.float64), 6).tolist()
    return changes.assign(key=[tuple(sorted(((a, b), (c, d)))) for a, b, c, d in ends])


def _road_state(changes: pd.DataFrame | None, t: float) -> list[dict[str, Any]]:
    """The closed and the slowed roads at ``t`` as two line traces' points (none without changes)."""
    if changes is None:
        return []
    now = roads_at(changes, t)
    out = []
    for part in (now[now["factor"] <= 0.0], now[now["factor"] > 0.0]):
        xs = np.column_stack([part["x0"], part["x1"], np.full(len(part), np.nan)]).ravel()
        ys = np.column_stack([part["y0"], part["y1"], np.full(len(part), np.nan)]).ravel()
        out.append({"type": "scatter", "x": [None if np.isnan(v) else v for v in _r(xs)],
                    "y": [None if np.isnan(v) else v for v in _r(ys)]})
    return out


def _styles(hazards: list[str]) -> list[dict[str, Any]]:
    """The moving traces' looks, set once on the figure (frames carry only their points)."""
    out: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "markers", "name": f"{label(h)} footprint", "hoverinfo": "skip",
         "marker": {"symbol": "square", "size": 6, "color": "#f4a582", "opacity": 0.55}} for h in hazards]
    out.append({"type": "scatter", "mode": "markers", "name": "open incidents",
                "hovertemplate": "incident %{text}<extra></extra>",
                "marker": {"symbol": "x", "size": 9, "color": "#000000"}})
    out += [{"type": "scatter", "mode": "markers", "name": state, "legendgroup": state, "showlegend": False,
             "hoverinfo": "name",
             "marker": {"size": 8, "color": colour, "line": {"width": 0.5, "color": "#fff"}}}
            for state, colour in STATES.items()]
    return out


def _moving(x: np.ndarray, y: np.ndarray, codes: np.ndarray, inc: pd.DataFrame, fp: pd.DataFrame | None,
            hazards: list[str], t: float) -> list[dict[str, Any]]:
    """The points of one frame (as :func:`_styles` orders the traces): hazards, open incidents, unit states.

    Only the points: a frame's data is merged into the traces as they are (like ``Plotly.restyle``), so
    the looks need not travel with every frame.
    """
    out = []
    for h in hazards:
        cells = _footprint_at(fp, h, t)
        out.append({"type": "scatter", "x": _r(cells["x_km"]), "y": _r(cells["y_km"])})
    now = _open_incidents(inc, t)
    out.append({"type": "scatter", "x": _r(now["x_km"]), "y": _r(now["y_km"]),
                "text": now["incident_id"].astype(str).tolist()})
    for code in range(len(STATES)):
        sel = codes == code
        out.append({"type": "scatter", "x": _r(x[sel]), "y": _r(y[sel])})
    return out


def gantt_figure(intervals: pd.DataFrame, unit_names: list[str], start: str | None) -> go.Figure:
    """Horizontal bars: every unit's states over time (one trace per state)."""
    fig = go.Figure()
    for state, colour in STATES.items():
        part = intervals[intervals["state"] == state]
        if part.empty:
            continue
        fig.add_trace(go.Bar(y=[label(u) for u in part["unit"]], base=np.round(part["start_min"], 2).tolist(),
                             x=np.round(part["end_min"] - part["start_min"], 2).tolist(), orientation="h",
                             name=state, marker={"color": colour, "line": {"width": 0}},
                             hovertemplate="%{y}<br>" + state + " from %{base:.1f} min for %{x:.1f} min"
                                           "<extra></extra>"))
    fig.update_layout(barmode="overlay", height=max(260, 60 + 14 * len(unit_names)), bargap=0.15,
                      margin={"l": 10, "r": 10, "t": 20, "b": 40},
                      xaxis={"title": "minutes from the start" + (f" ({start})" if start else "")},
                      yaxis={"categoryorder": "array", "categoryarray": [label(u) for u in unit_names[::-1]],
                             "automargin": True,
                             "dtick": 1, "tickfont": {"size": 9}})
    return fig


def _inject_list(injects: pd.DataFrame | None, start: str | None) -> str:
    if injects is None or injects.empty:
        return note("No injects in this run (injects.parquet is absent): the replay shows the run's own "
                    "incidents.")
    items = "".join(
        f'<li data-t="{float(r.t_min):.4f}"><b>{esc(_clock(float(r.t_min), start))}</b> '
        f'{esc(r.inject_id)} <i>{esc(r.kind)}</i><br>{esc(r.description)}</li>'
        for r in injects.sort_values("t_min").itertuples())
    return f'<ol class="injects">{items}</ol>'


# a grid, not a flex box: the map's width must be known when its script runs, before the aside is parsed
_LAYOUT_CSS = """<style>.replay { display:grid; grid-template-columns:minmax(0, 1fr) 16rem; gap:1rem; }
.replay .map { min-width:0; } .replay aside { max-height:640px; overflow:auto; }
ol.injects { padding-left:1.2rem; font-size:.85rem; } ol.injects li { margin:.3rem 0; color:#8a94a3; }
ol.injects li.done { color:#1d2430; }
@media (max-width:900px) { .replay { grid-template-columns:minmax(0, 1fr); } }</style>"""
#: Marks the injects whose time has come as the slider moves (reads numbers only: data-t and the frame).
_INJECT_SCRIPT = """<script>(function () {
  var gd = document.getElementById('replay-map'); var times = %s;
  function mark(t) { document.querySelectorAll('ol.injects li').forEach(function (li) {
    li.classList.toggle('done', parseFloat(li.dataset.t) <= t); }); }
  function hook() { if (!gd || !gd.on) { return setTimeout(hook, 100); }
    gd.on('plotly_animatingframe', function (e) { mark(times[+e.name]); });
    gd.on('plotly_sliderchange', function (e) { mark(times[+e.step.args[0][0]]); }); mark(times[0]); }
  hook(); })();</script>"""


def build_replay_html(data: ReplayData, step_min: float | None = None) -> str:
    """The whole replay page: the animated map beside the inject list, then the Gantt of unit states.

    Parameters
    ----------
    data : ReplayData
    step_min : float, optional
        Minutes between frames (see :func:`frame_times`).

    Returns
    -------
    str
        A self-contained HTML document (plotly.js inlined once; every name escaped).
    """
    meta, tables = data.meta, data.tables
    start = meta.get("start")
    t_end = float(meta.get("until_min", meta.get("horizon_min", 0.0)))
    times = frame_times(t_end, step_min)
    names = tables["units"]["unit_id"].astype(str).tolist()
    box = FigureBox()
    fig = map_figure(data, times)
    div = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id="replay-map", auto_play=False,
                      config=PLOT_CONFIG, default_width="100%", default_height="640px", validate=False)
    box.count += 1
    step = float(times[1] - times[0]) if len(times) > 1 else 0.0
    replay = Section("replay", "Map replay",
                     f"Units on their routes, coloured by state, and the open incidents, every {step:g} min "
                     "(press Play, or drag the slider).")
    replay.add(_LAYOUT_CSS + '<div class="replay"><div class="map"><figure><div class="plot" data-figure="1">'
               f"{div}</div></figure></div><aside><h3>Injects</h3>"
               f'{_inject_list(tables.get("injects"), start)}</aside></div>'
               + _INJECT_SCRIPT % json.dumps(np.round(times, 4).tolist()))
    gantt = Section("timeline", "Unit timeline", "Every unit's states over the run (a Gantt chart).")
    changes = state_changes(tables["events"], names)
    gantt.add(box.embed(gantt_figure(state_intervals(changes, names, t_end), names, start),
                        "each bar is a unit in one state from its start to its end, read off the event log."))
    title = f"Anjeon replay: {meta.get('scenario', 'run')}"
    sub = [f"seed {meta.get('seed')}, replication {meta.get('replication')}, policy "
           f"{(meta.get('policy') or {}).get('dispatch')}", f"{len(names)} units, {len(times)} frames"]
    return page(title, sub, [replay, gantt], box.count)

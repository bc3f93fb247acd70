"""Plotly figures of results: ECDFs, forest plot, district maps, utilisation, heat map, trade-off.

Every function takes tables (DataFrames or plain mappings) and returns a
``plotly.graph_objects.Figure``; none reads files. Text that comes from users
(scenario, district, unit and configuration names) is HTML-escaped before it
enters a figure, because Plotly renders a subset of HTML in labels; Plotly
turns the entities back into the same characters on screen.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale
from plotly.subplots import make_subplots

from analysis.stats import higher_is_better

#: Colours for configurations, in order (cycled when there are more): Okabe and Ito's
#: colour-blind safe set, then CARTO's "Safe" (no red/green pair among the first eight).
PALETTE = ("#0072B2", "#E69F00", "#56B4E9", "#CC79A7", "#009E73", "#D55E00", "#000000", "#F0E442",
           *qualitative.Safe)

#: Sequential scale of shares and times (colour-blind safe).
SEQUENTIAL = "cividis"

#: Diverging blue-orange scale (colour-blind safe): blue below the midpoint (faster, or a
#: decrease), orange above it.
BLUE_ORANGE = [[0.0, "#08519c"], [0.25, "#6baed6"], [0.5, "#f7f7f7"], [0.75, "#fdae6b"], [1.0, "#a63603"]]

#: Readable names of the metrics shown in figures and tables.
METRIC_NAMES = {
    "mean_response_min": "mean response (min)",
    "median_response_min": "median response (min)",
    "p90_response_min": "90th percentile response (min)",
    "p95_response_min": "95th percentile response (min)",
    "within_target": "share within target",
    "mean": "mean response (min)",
}

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans KR', sans-serif"


def esc(text: Any) -> str:
    """``text`` made safe for Plotly's pseudo-HTML labels: ``&``, ``<`` and ``>`` escaped.

    Quotes stay as they are: without ``<`` no tag (hence no attribute) can
    form, and Plotly decodes only a few named entities (``&quot;`` would show).
    """
    return html.escape(str(text), quote=False)


def metric_name(metric: str) -> str:
    """Readable name of a metric column."""
    return METRIC_NAMES.get(metric, metric.replace("_", " "))


def colours(keys: Iterable[Any]) -> dict[str, str]:
    """A fixed colour per key (configuration), in order, from :data:`PALETTE`."""
    return {str(k): PALETTE[i % len(PALETTE)] for i, k in enumerate(dict.fromkeys(keys))}


def _layout(fig: go.Figure, title: str, height: int = 420, **kw: Any) -> go.Figure:
    """Common look; ``title`` is plain text (escaped here)."""
    fig.update_layout(title={"text": esc(title), "x": 0, "xanchor": "left", "font": {"size": 15}},
                      template="plotly_white", height=height, autosize=True,
                      font={"family": _FONT, "size": 12},
                      margin={"l": 60, "r": 20, "t": 60, "b": 50},
                      legend={"orientation": "h", "y": -0.18, "x": 0}, **kw)
    return fig


# -- response-time ECDFs ----------------------------------------------------------------
def ecdf(samples: Mapping[str, Any] | pd.DataFrame, by: str | None = None, value: str = "response_min",
         colour_map: Mapping[str, str] | None = None, points: int = 201,
         title: str = "Response time, cumulative share of incidents",
         targets: Mapping[float, Sequence[str]] | None = None) -> go.Figure:
    """Empirical cumulative distribution of response times, one curve per group.

    Parameters
    ----------
    samples : mapping or DataFrame
        Either ``{group name: array of minutes}`` or an incidents table
        (warm-up rows, flagged by ``in_warmup``, are dropped) grouped by ``by``.
    by : str, optional
        Column of ``samples`` naming the group (a DataFrame only); default one curve.
    value : str
        Column holding the minutes (a DataFrame only).
    colour_map : mapping, optional
        Colour per group name; default :func:`colours`.
    points : int
        Curves are drawn through this many quantiles (keeps files small).
    title : str
        Figure title.
    targets : mapping, optional
        Target minutes -> the incident types and priorities that have it
        (see :func:`scenario_targets`): each is drawn as a dotted vertical line.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    groups = _sample_groups(samples, by, value)
    colour_map = colour_map or colours(groups)
    fig = go.Figure()
    q = np.linspace(0, 1, points)
    for name, x in groups.items():
        x = np.asarray(x, dtype=np.float64)
        x = x[~np.isnan(x)]
        if not len(x):
            continue
        fig.add_trace(go.Scatter(
            x=np.quantile(x, q), y=q, mode="lines", line={"shape": "hv", "width": 2,
                                                         "color": colour_map.get(name)},
            name=esc(name), hovertemplate="%{x:.1f} min: %{y:.0%}<extra>" + esc(name) + "</extra>"))
    for i, (minutes, who) in enumerate(sorted((targets or {}).items())):
        fig.add_vline(x=float(minutes), line={"color": "#555", "dash": "dot", "width": 1},
                      annotation_text=esc(f"target {minutes:g} min: {', '.join(who)}"),
                      annotation_position="bottom right", annotation_yshift=18 * i,
                      annotation_font={"size": 10, "color": "#444"})
    fig.update_xaxes(title="minutes from call to first arrival", rangemode="tozero")
    fig.update_yaxes(title="share of incidents reached (%)", tickformat=".0%", range=[0, 1.02])
    return _layout(fig, title)


def scenario_targets(scenario: Mapping[str, Any]) -> dict[float, list[str]]:
    """Response targets of a resolved scenario: minutes -> ``["medical p1", ...]`` (types and priorities).

    Parameters
    ----------
    scenario : mapping
        The resolved scenario (``scenario.json``), whose ``incident_types`` have
        ``target_response`` per priority in minutes.

    Returns
    -------
    dict
        Target minutes (ascending) to the incident types and priorities that have it.
    """
    out: dict[float, list[str]] = {}
    for kind, spec in (scenario.get("incident_types") or {}).items():
        targets = (spec or {}).get("target_response") if isinstance(spec, Mapping) else None
        items = targets.items() if isinstance(targets, Mapping) else \
            [("all", targets)] if isinstance(targets, int | float) else []
        for priority, minutes in items:
            if isinstance(minutes, int | float) and np.isfinite(minutes):
                who = f"{kind} p{priority}" if priority != "all" else str(kind)
                out.setdefault(float(minutes), []).append(who)
    return dict(sorted(out.items()))


def tightest_target(scenario: Mapping[str, Any]) -> float | None:
    """The smallest response target of a scenario (minutes), or None when it has none."""
    targets = scenario_targets(scenario)
    return min(targets) if targets else None


def _sample_groups(samples: Mapping[str, Any] | pd.DataFrame, by: str | None, value: str) -> dict:
    if not isinstance(samples, pd.DataFrame):
        return {str(k): v for k, v in samples.items()}
    df = samples.loc[~samples["in_warmup"]] if "in_warmup" in samples else samples
    if by is None:
        return {"all": df[value].to_numpy(float)}
    return {f"{by} {k}": g[value].to_numpy(float) for k, g in df.groupby(by, sort=True, observed=True)}


# -- paired differences ---------------------------------------------------------------
def forest(compared: pd.DataFrame, colour_map: Mapping[str, str] | None = None,
           title: str = "Difference from the baseline (paired on common random numbers)") -> go.Figure:
    """Forest plot: each configuration's paired difference from the baseline, with intervals.

    The thin grey bar beside each point is the interval the same runs would
    give if they were independent samples: the gap between the two is what
    common random numbers bought.

    Parameters
    ----------
    compared : DataFrame
        Output of :func:`analysis.stats.compare` (one or more metrics).
    colour_map : mapping, optional
        Colour per configuration label.
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per metric.
    """
    metrics = list(dict.fromkeys(compared["metric"]))
    others = compared[~compared["is_baseline"]]
    colour_map = colour_map or colours(compared["label"])
    fig = make_subplots(rows=1, cols=len(metrics), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[esc(metric_name(m)) for m in metrics])
    for col, metric in enumerate(metrics, start=1):
        rows = _in_points(others[others["metric"] == metric], metric)
        labels = [esc(v) for v in rows["label"]]
        fig.add_trace(go.Scatter(
            x=rows["diff"], y=labels, mode="markers", showlegend=False, name="unpaired",
            error_x={"type": "data", "array": rows["unpaired_half_width"], "color": "#c8c8c8",
                     "thickness": 6, "width": 0}, marker={"size": 0.1, "color": "#c8c8c8"},
            hoverinfo="skip"), row=1, col=col)
        for r in rows.to_dict("records"):
            fig.add_trace(_forest_point(r, colour_map.get(r["label"], "#444")), row=1, col=col)
        fig.add_vline(x=0, line={"color": "#888", "dash": "dash", "width": 1}, row=1, col=col)
        better = "higher is better" if higher_is_better(metric) else "lower is better"
        unit = "percentage points, " if metric == "within_target" else ""
        fig.update_xaxes(title=f"config - baseline ({unit}{better})", row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    height = max(260, 120 + 34 * max(1, others["label"].nunique()))
    return _layout(fig, title, height=height)


def _in_points(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Differences of shares in percentage points (x 100), as every table shows them; others as they are."""
    if metric != "within_target":
        return rows
    cols = ["diff", "diff_lo", "diff_hi", "unpaired_half_width"]
    return rows.assign(**{k: 100.0 * rows[k] for k in cols})


def _forest_point(r: dict, colour: str) -> go.Scatter:
    """One configuration's paired difference with its interval (filled diamond when Holm p < 0.05)."""
    significant = np.isfinite(r["p_holm"]) and r["p_holm"] < 0.05
    return go.Scatter(
        x=[r["diff"]], y=[esc(r["label"])], mode="markers", showlegend=False, name=esc(r["label"]),
        marker={"size": 11, "color": colour, "symbol": "diamond" if significant else "circle-open",
                "line": {"width": 2, "color": colour}},
        error_x={"type": "data", "symmetric": False, "array": [r["diff_hi"] - r["diff"]],
                 "arrayminus": [r["diff"] - r["diff_lo"]], "thickness": 2, "width": 6, "color": colour},
        customdata=[[r["diff_lo"], r["diff_hi"], r["p_holm"], r["variance_reduction"]]],
        hovertemplate=("%{y}<br>difference %{x:.3g} [%{customdata[0]:.3g}, %{customdata[1]:.3g}]"
                       "<br>Holm p = %{customdata[2]:.3g}<br>variance removed by pairing "
                       "%{customdata[3]:.0%}<extra></extra>"))


# -- district maps ------------------------------------------------------------------------
def district_shapes(scenario: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """District boundary polygons (km) of a scenario document, by district name."""
    out = {}
    for name, d in (scenario.get("districts") or {}).items():
        poly = (d or {}).get("boundary") if isinstance(d, Mapping) else None
        if poly and len(poly) >= 3:
            out[str(name)] = np.asarray(poly, dtype=np.float64)
    return out


def district_map(scenario: Mapping[str, Any], values: pd.DataFrame | pd.Series, title: str,
                 value_name: str, fmt: str = ".1f", span: tuple[float, float] | None = None,
                 scale: str | list | None = None, mid: float | None = None,
                 places: pd.DataFrame | None = None) -> go.Figure | None:
    """Districts drawn as filled polygons coloured by a value (no map tiles, km coordinates).

    Parameters
    ----------
    scenario : mapping
        The resolved scenario (``scenario.json``), whose ``districts`` have ``boundary`` polygons.
    values : DataFrame or Series
        Index: district names; one column per panel (e.g. per configuration),
        drawn side by side on one colour scale.
    title : str
        Figure title.
    value_name : str
        Name of the value, for the colour bar and hover text.
    fmt : str
        d3 format of the value (``".1f"``, ``".0%"``: shares, shown as percentages).
    span : tuple of float, optional
        The colour scale's range; values outside take its end colours. Default:
        0 to 100% for shares (``fmt`` ending in ``%``), else the values' range.
        Anchor it (to the target, or symmetric about zero) so that a small
        difference does not look like a large one.
    scale : str or list, optional
        Plotly colour scale; default :data:`SEQUENTIAL`.
    mid : float, optional
        The value at the scale's middle (recorded as the colour bar's ``cmid``;
        give a ``span`` centred on it).
    places : DataFrame, optional
        Stations and hospitals (kind, name, x_km, y_km) drawn as named markers on every panel.

    Returns
    -------
    plotly.graph_objects.Figure or None
        None when the scenario has no district boundaries.
    """
    shapes = district_shapes(scenario)
    if not shapes:
        return None
    table = values.to_frame() if isinstance(values, pd.Series) else values
    table.index = table.index.map(str)
    scale = scale if scale is not None else SEQUENTIAL
    finite = table.to_numpy(float)[np.isfinite(table.to_numpy(float))]
    if span is None:
        span = (0.0, 1.0) if fmt.endswith("%") or not len(finite) else (finite.min(), finite.max())
    fig = make_subplots(rows=1, cols=len(table.columns), horizontal_spacing=0.03,
                        subplot_titles=[esc(c) for c in table.columns])
    for col, panel in enumerate(table.columns, start=1):
        _add_districts(fig, shapes, table[panel], (float(span[0]), float(span[1])), scale, value_name, fmt,
                       col, mid)
        if places is not None:
            add_places(fig, places, col=col, legend=col == 1)
        fig.update_xaxes(scaleanchor=f"y{col if col > 1 else ''}", scaleratio=1, row=1, col=col)
    fig.update_xaxes(showgrid=False, zeroline=False, showticklabels=False)
    fig.update_yaxes(showgrid=False, zeroline=False, showticklabels=False)
    return _layout(fig, title, height=460 if len(table.columns) < 3 else 380,
                   plot_bgcolor="#f4f6f8")


def _unit_position(v: float, lo: float, hi: float) -> float:
    """Where ``v`` sits on a colour scale from ``lo`` to ``hi``, clipped to [0, 1]."""
    return 0.5 if hi == lo else float(min(1.0, max(0.0, (v - lo) / (hi - lo))))


def _add_districts(fig: go.Figure, shapes: dict[str, np.ndarray], values: pd.Series,
                   span: tuple[float, float], scale: str | list, value_name: str, fmt: str, col: int,
                   mid: float | None = None) -> None:
    lo, hi = span
    for name, poly in shapes.items():
        v = values.get(name, np.nan)
        fill = "#d9d9d9" if not np.isfinite(v) else sample_colorscale(scale, [_unit_position(v, lo, hi)])[0]
        ring = np.vstack([poly, poly[:1]])
        fig.add_trace(go.Scatter(
            x=ring[:, 0], y=ring[:, 1], mode="lines", fill="toself", fillcolor=fill, hoveron="fills",
            line={"color": "white", "width": 1.5}, name=esc(name), showlegend=False,
            text=f"{esc(name)}: {_fmt(v, fmt)} {esc(value_name)}", hoverinfo="text"), row=1, col=col)
    names = list(shapes)
    centre = np.array([shapes[n].mean(axis=0) for n in names])
    vals = np.array([values.get(n, np.nan) for n in names], dtype=np.float64)
    ink = [_ink(sample_colorscale(scale, [_unit_position(v, lo, hi)])[0]) if np.isfinite(v) else "#222"
           for v in vals]
    bar = {"title": {"text": esc(value_name)}, "tickformat": fmt, "thickness": 14}
    fig.add_trace(go.Scatter(
        x=centre[:, 0], y=centre[:, 1], mode="markers+text", text=[esc(n) for n in names],
        textfont={"size": 10, "color": ink}, hoverinfo="skip", showlegend=False, name="district names",
        marker={"size": 0.1, "color": np.where(np.isfinite(vals), vals, lo), "colorscale": scale,
                "cmin": lo, "cmax": hi if hi > lo else lo + 1e-9, "showscale": col == 1, "colorbar": bar,
                **({"cmid": mid} if mid is not None else {})}),
        row=1, col=col)


def scenario_places(scenario: Mapping[str, Any]) -> pd.DataFrame:
    """Stations and hospitals of a resolved scenario with coordinates (kind, name, x_km, y_km).

    For runs written without a geography table; places given by name (a
    travel-time matrix) have no coordinates and are left out.
    """
    rows = []
    for kind, key in (("station", "stations"), ("hospital", "hospitals")):
        for name, spec in (scenario.get(key) or {}).items():
            loc = (spec or {}).get("location") if isinstance(spec, Mapping) else None
            if isinstance(loc, list | tuple) and len(loc) == 2 and all(isinstance(v, int | float)
                                                                       for v in loc):
                rows.append({"kind": kind, "name": str(name), "x_km": float(loc[0]), "y_km": float(loc[1])})
    return pd.DataFrame(rows, columns=["kind", "name", "x_km", "y_km"])


def add_places(fig: go.Figure, places: pd.DataFrame, col: int = 1, legend: bool = True) -> None:
    """Stations (squares) and hospitals (crosses) with their names, on subplot ``col``. Mutates ``fig``.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        A map made by :func:`district_map` or :func:`reach_map`.
    places : DataFrame
        Rows of kind ``station`` or ``hospital`` with name, x_km and y_km, and of kind ``road``
        (consecutive pairs are the ends of a road link, drawn as thin lines); others are ignored.
    col : int
        Subplot column.
    legend : bool
        Show the two traces in the legend.
    """
    roads = places[places["kind"] == "road"]  # imported (OSM) geographies: links as pairs of end rows
    if len(roads) >= 2:
        ends = roads[["x_km", "y_km"]].to_numpy(float)[: len(roads) // 2 * 2].reshape(-1, 2, 2)
        line = np.concatenate([ends, np.full((len(ends), 1, 2), np.nan)], axis=1).reshape(-1, 2)
        fig.add_trace(go.Scatter(x=line[:, 0], y=line[:, 1], mode="lines", name="roads", legendgroup="roads",
                                 showlegend=legend, line={"color": "#8a8f98", "width": 0.8},
                                 hoverinfo="skip", connectgaps=False), row=1, col=col)
    # stations named above their marker, hospitals below theirs: the two often stand close together
    styles = {"station": ("stations", "square", "#1d2430", 10, "top center"),
              "hospital": ("hospitals", "cross", "#D55E00", 11, "bottom center")}
    for kind, (label, symbol, colour, size, where) in styles.items():
        rows = places[(places["kind"] == kind) & places["x_km"].notna()]
        if not len(rows):
            continue
        names = [esc(n) for n in rows["name"]]
        fig.add_trace(go.Scatter(
            x=rows["x_km"].to_numpy(float), y=rows["y_km"].to_numpy(float), mode="markers+text", text=names,
            textposition=where, textfont={"size": 10, "color": colour}, name=label, legendgroup=label,
            showlegend=legend, marker={"symbol": symbol, "size": size, "color": colour,
                                       "line": {"width": 1, "color": "white"}},
            hovertemplate="%{text}<extra>" + label[:-1] + "</extra>"), row=1, col=col)


def reach_map(scenario: Mapping[str, Any], geography: pd.DataFrame | None, target_min: float,
              points: np.ndarray | None = None,
              title: str = "Stations, hospitals, incidents and what the stations reach") -> go.Figure | None:
    """Stations, hospitals, incidents, and which zones a station reaches within the target.

    Parameters
    ----------
    scenario : mapping
        The resolved scenario (district polygons; stations and hospitals when
        ``geography`` is None).
    geography : DataFrame or None
        The run's ``geography`` table (kind, name, x_km, y_km,
        travel_min_from_nearest_station, nearest_station); None for runs
        written before it existed: the map then has no reach layer.
    target_min : float
        The target: zones reached within it (travel from the nearest station,
        turnout excluded) are drawn as filled circles, the others as crosses,
        both coloured by the minutes on a scale from 0 to twice the target
        centred on it (:data:`BLUE_ORANGE`).
    points : float[n, 2], optional
        Incident locations (km), drawn as small grey dots.
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure or None
        None when the scenario has no district boundaries.
    """
    shapes = district_shapes(scenario)
    if not shapes:
        return None
    fig = make_subplots(rows=1, cols=1)
    for name, poly in shapes.items():
        ring = np.vstack([poly, poly[:1]])
        fig.add_trace(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", fill="toself", fillcolor="#eef1f5",
                                 line={"color": "#9aa5b5", "width": 1}, name=esc(name), showlegend=False,
                                 hoverinfo="text", hoveron="fills", text=esc(name)))
    if points is not None and len(points):
        fig.add_trace(go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers", name="incidents",
                                 marker={"size": 3, "color": "#7f7f7f", "opacity": 0.35}, hoverinfo="skip"))
    if geography is not None:
        _add_reach(fig, geography, float(target_min))
    add_places(fig, geography if geography is not None else scenario_places(scenario))
    fig.update_xaxes(showgrid=False, zeroline=False, showticklabels=False, scaleanchor="y", scaleratio=1)
    fig.update_yaxes(showgrid=False, zeroline=False, showticklabels=False)
    return _layout(fig, title, height=560, plot_bgcolor="#ffffff")


def _add_reach(fig: go.Figure, geography: pd.DataFrame, target_min: float) -> None:
    """Zone points reached within ``target_min`` (circles) and beyond it (crosses). Mutates ``fig``."""
    zones = geography[(geography["kind"] == "zone") & geography["x_km"].notna()]
    minutes = zones["travel_min_from_nearest_station"].to_numpy(float)
    within = minutes <= target_min
    for mask, label, symbol, first in ((within, f"reached within {target_min:g} min", "circle", True),
                                       (~within, f"beyond {target_min:g} min", "x", False)):
        rows = zones[mask]
        fig.add_trace(go.Scatter(
            x=rows["x_km"].to_numpy(float), y=rows["y_km"].to_numpy(float), mode="markers",
            name=esc(f"{label} ({int(mask.sum())} zones)"), legendgroup="reach",
            marker={"symbol": symbol, "size": 6 if first else 7, "color": np.minimum(minutes[mask], 1e9),
                    "colorscale": BLUE_ORANGE, "cmin": 0.0, "cmax": 2.0 * target_min, "cmid": target_min,
                    "showscale": first, "opacity": 0.8,
                    "colorbar": {"title": {"text": "minutes from the nearest station"}, "thickness": 14}},
            customdata=[[float(m), esc(n)]
                        for m, n in zip(minutes[mask], rows["nearest_station"], strict=True)],
            hovertemplate="%{customdata[0]:.1f} min from %{customdata[1]}<extra></extra>"))


def _ink(fill: str) -> str:
    """Dark or white text, whichever reads better on ``fill`` (an ``rgb(r, g, b)`` colour)."""
    r, g, b = (float(x) for x in fill[fill.index("(") + 1:fill.index(")")].split(",")[:3])
    return "#1d2430" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def _fmt(v: float, fmt: str) -> str:
    if not np.isfinite(v):
        return "no data"
    return f"{100 * v:.0f}%" if fmt.endswith("%") else format(v, fmt)


# -- utilisation and hospitals over time ------------------------------------------------
def bin_text(bin_min: float | None) -> str:
    """A bin width in words: ``15 min``, ``1 h``, ``1 d``, ``1 week``; "" when unknown."""
    if not bin_min:
        return ""
    for size, unit in ((10080.0, "week"), (1440.0, "d"), (60.0, "h")):
        if bin_min >= size and bin_min % size == 0:
            return f"{bin_min / size:g} {unit}"
    return f"{bin_min:g} min"


def _with_bin(title: str, bin_min: float | None) -> str:
    return f"{title} ({bin_text(bin_min)} bins)" if bin_min else title


def utilisation(series: pd.DataFrame, start: str | None = None, group: str | None = None,
                title: str = "Unit utilisation over time, by unit type",
                bin_min: float | None = None) -> go.Figure:
    """Share of each unit type's fleet that is busy, over time.

    Parameters
    ----------
    series : DataFrame
        From :func:`analysis.timeseries.utilisation_over_time` (t_min,
        unit_kind, utilization), optionally with a ``group`` column (e.g. the
        configuration): a menu then picks the group shown.
    start : str, optional
        ISO date-time of t = 0; with it the x axis shows dates, else days.
    group : str, optional
        Column naming the group.
    title : str
        Figure title.
    bin_min : float, optional
        Bin width of the series (minutes), stated in the title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    return _lines_over_time(series, "unit_kind", "utilization", start, group, _with_bin(title, bin_min),
                            y_title="share of units busy (%)", tickformat=".0%")


def hospital_occupancy(series: pd.DataFrame, capacity: Mapping[str, float] | None = None,
                       start: str | None = None, group: str | None = None,
                       title: str = "Hospital handover bays in use over time",
                       bin_min: float | None = None) -> go.Figure:
    """Mean number of ambulances in handover per hospital over time (dotted: bays).

    Parameters
    ----------
    series : DataFrame
        From :func:`analysis.timeseries.hospital_occupancy` (t_min, hospital, in_handover).
    capacity : mapping, optional
        Bays per hospital, drawn as dotted lines.
    start : str, optional
        ISO date-time of t = 0.
    group : str, optional
        Column naming the group (a menu picks it).
    title : str
        Figure title.
    bin_min : float, optional
        Bin width of the series (minutes), stated in the title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = _lines_over_time(series, "hospital", "in_handover", start, group, _with_bin(title, bin_min),
                           y_title="ambulances in handover (mean per bin)", tickformat="")
    palette = colours(sorted(series["hospital"].unique()))
    for name, bays in (capacity or {}).items():
        if str(name) in palette:
            fig.add_hline(y=float(bays), line={"dash": "dot", "width": 1, "color": palette[str(name)]})
    return fig


def _lines_over_time(series: pd.DataFrame, line: str, value: str, start: str | None, group: str | None,
                     title: str, y_title: str, tickformat: str) -> go.Figure:
    fig = go.Figure()
    groups = list(dict.fromkeys(series[group])) if group else [None]
    palette = colours(sorted(series[line].astype(str).unique()))
    owner = []
    for gi, g in enumerate(groups):
        part = series if g is None else series[series[group] == g]
        for name, rows in part.groupby(line, sort=True):
            fig.add_trace(go.Scatter(
                x=_time_axis(rows["t_min"], start), y=rows[value], mode="lines", visible=gi == 0,
                line={"shape": "hv", "width": 1.5, "color": palette[str(name)]}, name=esc(name),
                legendgroup=esc(name), hovertemplate="%{x}: %{y:.2f}<extra>" + esc(name) + "</extra>"))
            owner.append(gi)
    if len(groups) > 1:
        _group_menu(fig, [esc(g) for g in groups], np.asarray(owner))
    fig.update_yaxes(title=y_title, tickformat=tickformat, rangemode="tozero")
    fig.update_xaxes(title="date" if start else "day")
    return _layout(fig, title)


def _group_menu(fig: go.Figure, names: list[str], owner: np.ndarray) -> None:
    """A drop-down that shows the traces of one group at a time (``owner``: group of each trace)."""
    buttons = [{"label": name, "method": "restyle", "args": [{"visible": (owner == i).tolist()}]}
               for i, name in enumerate(names)]
    fig.update_layout(updatemenus=[{"buttons": buttons, "x": 1, "xanchor": "right", "y": 1.15,
                                    "yanchor": "bottom", "showactive": True}])


def _time_axis(t_min: pd.Series, start: str | None) -> Any:
    if start:
        return pd.Timestamp(start) + pd.to_timedelta(t_min.to_numpy(float), unit="min")
    return t_min.to_numpy(float) / 1440.0


# -- factors -------------------------------------------------------------------------------
def heatmap(summary: pd.DataFrame, x: str, y: str, metric: str = "mean_response_min",
            title: str | None = None, target_min: float | None = None) -> go.Figure:
    """Two-factor heat map of a metric's mean over replications (and over any other factors).

    Parameters
    ----------
    summary : DataFrame
        One row per run with the factor columns ``x`` and ``y`` and ``metric``.
    x, y : str
        Factor columns.
    metric : str
        Metric column.
    title : str, optional
        Figure title.
    target_min : float, optional
        Response target (minutes): a time metric's colour scale then runs from
        0 to twice the target, centred on it (:data:`BLUE_ORANGE`). Shares run
        from 0 to 100% (:data:`SEQUENTIAL`); other metrics span their values.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    table = summary.assign(_x=summary[x].astype(str), _y=summary[y].astype(str))
    grid = table.pivot_table(index="_y", columns="_x", values=metric, aggfunc="mean", sort=False)
    fmt = ".1%" if "within_target" in metric else ".2f"
    if "within_target" in metric:
        anchor = {"colorscale": SEQUENTIAL, "zmin": 0.0, "zmax": 1.0}
    elif target_min and metric.endswith("response_min"):
        anchor = {"colorscale": BLUE_ORANGE, "zmin": 0.0, "zmax": 2.0 * target_min, "zmid": target_min}
    else:
        anchor = {"colorscale": SEQUENTIAL}
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(float), x=[esc(c) for c in grid.columns], y=[esc(r) for r in grid.index],
        **anchor, texttemplate="%{z:" + fmt + "}",
        colorbar={"title": {"text": esc(metric_name(metric))}, "tickformat": fmt},
        hovertemplate=f"{esc(x)} = %{{x}}<br>{esc(y)} = %{{y}}<br>%{{z:{fmt}}}<extra></extra>"))
    fig.update_xaxes(title=esc(x), type="category")
    fig.update_yaxes(title=esc(y), type="category")
    return _layout(fig, title or f"{metric_name(metric)} by {x} and {y}", height=400)


def profile(table: pd.DataFrame, kind: str, colour_map: Mapping[str, str] | None = None,
            title: str | None = None) -> go.Figure:
    """Demand (bars) and mean response (one line per configuration) by hour of day or weekday.

    Parameters
    ----------
    table : DataFrame
        From :func:`analysis.timeseries.profiles`, with a ``label`` column
        (configuration); means over runs are fine. The bars show the first
        label's demand (every configuration sees the same incidents when
        they share random numbers).
    kind : str
        ``"hour"`` or ``"weekday"``.
    colour_map : mapping, optional
        Colour per label.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        Two panels sharing the x axis: incidents per hour (or day), and mean response.
    """
    from analysis.timeseries import WEEKDAYS

    rows = table[table["profile"] == kind]
    labels = list(dict.fromkeys(rows["label"]))
    colour_map = colour_map or colours(labels)
    names = [f"{h:02d}" for h in range(24)] if kind == "hour" else list(WEEKDAYS)
    per = "hour" if kind == "hour" else "day"
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[f"incidents per {per}", "mean response (min)"])
    first = rows[rows["label"] == labels[0]].sort_values("key") if labels else rows
    fig.add_trace(go.Bar(x=[names[k] for k in first["key"]], y=first["rate"], name=f"incidents per {per}",
                         marker={"color": "#9aa5b5"}, showlegend=False,
                         hovertemplate="%{x}: %{y:.2f} per " + per + "<extra></extra>"), row=1, col=1)
    for label in labels:
        part = rows[rows["label"] == label].sort_values("key")
        fig.add_trace(go.Scatter(x=[names[k] for k in part["key"]], y=part["mean_response_min"],
                                 mode="lines+markers", name=esc(label), line={"color": colour_map.get(label)},
                                 hovertemplate="%{x}: %{y:.2f} min<extra>" + esc(label) + "</extra>"),
                      row=2, col=1)
    fig.update_xaxes(title="hour of the day (clock hour the call came in)" if kind == "hour" else "weekday",
                     type="category", row=2, col=1)
    default = "By hour of day: demand and response" if kind == "hour" else "By weekday: demand and response"
    return _layout(fig, title or default, height=520)


def tradeoff(table: pd.DataFrame, x: str = "n_units", y: str = "p90_response_min",
             colour_map: Mapping[str, str] | None = None,
             title: str = "Trade-off: fleet size against 90th percentile response") -> go.Figure:
    """Scatter of one mean metric against another per configuration, with y intervals.

    Parameters
    ----------
    table : DataFrame
        One row per configuration: label, ``x``, ``y`` and optionally
        ``y_half_width`` (half-width of the interval of ``y``).
    x, y : str
        Columns plotted.
    colour_map : mapping, optional
        Colour per label.
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    colour_map = colour_map or colours(table["label"])
    fig = go.Figure()
    for row in table.to_dict("records"):
        half = row.get("y_half_width", np.nan)
        fig.add_trace(go.Scatter(
            x=[row[x]], y=[row[y]], mode="markers", name=esc(row["label"]),
            marker={"size": 12, "color": colour_map.get(row["label"], "#444"),
                    "line": {"width": 1, "color": "white"}},
            error_y={"type": "data", "array": [half if np.isfinite(half) else 0], "thickness": 1.5},
            hovertemplate=(f"{esc(row['label'])}<br>{esc(metric_name(x))} %{{x:.0f}}<br>"
                           f"{esc(metric_name(y))} %{{y:.2f}}<extra></extra>")))
    fig.update_xaxes(title="units in the fleet" if x == "n_units" else esc(metric_name(x)))
    fig.update_yaxes(title=esc(metric_name(y)))
    return _layout(fig, title)

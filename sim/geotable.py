"""The geography table of a run: stations, hospitals and zone points with their travel time from a station.

Reports draw it on maps (stations and hospitals by name, and which zones a
station reaches within a target) without needing the engine: the table is
written beside the run's other tables as ``geography.parquet``.

Zone points are, by geography: the road nodes inside the districts (every
k-th when there are more than :data:`MAX_ZONES`); for plain coordinates a
square grid of points inside the districts; for a travel-time matrix the
places. Travel is at speed factor 1 with no turnout, on the roads as they are
at the start (road changes of the scenario are not applied).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.geo import MatrixGeo, RoadGeo
from sim.kernels import points_in_polygon

#: Most zone points in the table (road nodes are thinned to this many, plane grids sized for it).
MAX_ZONES = 2500
#: Most road links drawn for an imported (OSM) network (kind ``road``: two rows, the link's ends, each).
MAX_ROAD_LINKS = 20_000


def geography_columns(world: Any) -> dict[str, np.ndarray]:
    """Columns of the ``geography`` table of ``world``: one row per station, hospital and zone point.

    Parameters
    ----------
    world : sim.world.World
        The compiled world (read only: plane geographies add zone points to a
        run view of the geography, never to the World's own).

    Returns
    -------
    dict of str to ndarray
        kind (``"station"``, ``"hospital"``, ``"zone"``; object), name
        (station or hospital name, ``"zone <i>"`` or the place; object),
        district (name, ``""`` when outside every district; object), x_km,
        y_km (float64; NaN for matrix geographies), travel_min_from_nearest_station
        (float64, minutes at speed factor 1, turnout excluded; inf when no
        station reaches it), nearest_station (name, ``""`` when unreachable;
        object). Every array is new (none shares memory with the World).
    """
    view = world.geo.for_run()
    zone_loc, zone_xy, zone_names = _zones(world, view)
    locs = np.concatenate([np.asarray(world.station_loc, dtype=np.int64),
                           np.asarray(world.hospital_loc, dtype=np.int64), zone_loc])
    n_st, n_h = len(world.station_names), len(world.hospital_names)
    if isinstance(world.geo, MatrixGeo):
        xy = np.full((len(locs), 2), np.nan)
    else:
        xy = np.vstack([np.asarray(view.xy(locs[:n_st + n_h]), dtype=np.float64).reshape(-1, 2), zone_xy])
    minutes, nearest = _nearest_station(world, view, locs)
    names = [*world.station_names, *world.hospital_names, *zone_names]
    kinds = ["station"] * n_st + ["hospital"] * n_h + ["zone"] * len(zone_loc)
    columns = {
        "kind": np.array(kinds, dtype=object),
        "name": np.array(names, dtype=object),
        "district": np.array(_districts(world, locs, xy, n_st), dtype=object),
        "x_km": xy[:, 0].copy(),
        "y_km": xy[:, 1].copy(),
        "travel_min_from_nearest_station": minutes,
        "nearest_station": np.array([world.station_names[k] if k >= 0 else "" for k in nearest],
                                    dtype=object),
    }
    return _with_roads(world, columns)


def _with_roads(world: Any, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add rows of kind ``road`` for an imported (OSM) network: each link's two ends, in pairs.

    A street open both ways is one link; at most :data:`MAX_ROAD_LINKS`
    (evenly thinned). Other geographies are returned unchanged.
    """
    net = getattr(world.geo, "net", None)
    if net is None or not hasattr(net, "lonlat"):
        return columns
    g = net.graph.tocoo()
    once = (g.row < g.col) | ~np.asarray(net.graph.T.tocsr()[g.row, g.col]).ravel().astype(bool)
    tail, head = g.row[once], g.col[once]
    if len(tail) > MAX_ROAD_LINKS:
        pick = np.linspace(0, len(tail) - 1, MAX_ROAD_LINKS).round().astype(np.int64)
        tail, head = tail[pick], head[pick]
    ends = np.column_stack([tail, head]).ravel()
    n = len(ends)
    road = {"kind": np.full(n, "road", dtype=object), "name": np.full(n, "", dtype=object),
            "district": np.full(n, "", dtype=object), "x_km": net.xy[ends, 0].copy(),
            "y_km": net.xy[ends, 1].copy(), "travel_min_from_nearest_station": np.full(n, np.inf),
            "nearest_station": np.full(n, "", dtype=object)}
    return {k: np.concatenate([v, road[k]]) for k, v in columns.items()}


def _zones(world: Any, view: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Zone locations, their coordinates (n, 2) and names."""
    if isinstance(world.geo, MatrixGeo):
        places = world.geo.places
        return np.arange(len(places), dtype=np.int64), np.full((len(places), 2), np.nan), list(places)
    polys = [p for p in world.district_boundaries if p is not None]
    if isinstance(world.geo, RoadGeo):
        xy = world.geo.net.xy
        keep = np.flatnonzero(_inside_any(xy, polys)) if polys else np.arange(len(xy))
        if len(keep) > MAX_ZONES:
            keep = keep[np.linspace(0, len(keep) - 1, MAX_ZONES).round().astype(np.int64)]
        return keep.astype(np.int64), xy[keep].copy(), [f"zone {i}" for i in range(len(keep))]
    pts = _plane_grid(polys)
    loc = np.asarray(view.locate(pts), dtype=np.int64) if len(pts) else np.empty(0, dtype=np.int64)
    return loc, pts, [f"zone {i}" for i in range(len(pts))]


def _plane_grid(polys: list[np.ndarray]) -> np.ndarray:
    """A square grid of points inside the districts, at most about :data:`MAX_ZONES` of them, (n, 2) km."""
    if not polys:
        return np.empty((0, 2))
    allv = np.vstack(polys)
    lo, hi = allv.min(axis=0), allv.max(axis=0)
    area = sum(abs(_shoelace(p)) for p in polys)
    step = max(np.sqrt(area / MAX_ZONES), 1e-3)
    gx = np.arange(lo[0] + step / 2, hi[0], step)
    gy = np.arange(lo[1] + step / 2, hi[1], step)
    pts = np.column_stack([np.repeat(gx, len(gy)), np.tile(gy, len(gx))])
    return pts[_inside_any(pts, polys)]


def _shoelace(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _inside_any(xy: np.ndarray, polys: list[np.ndarray]) -> np.ndarray:
    inside = np.zeros(len(xy), dtype=bool)
    for poly in polys:
        inside |= points_in_polygon(xy[:, 0], xy[:, 1], poly)
    return inside


def _nearest_station(world: Any, view: Any, locs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from the nearest station to each location and that station's index (-1: none reaches it)."""
    stations = np.asarray(world.station_loc, dtype=np.int64)
    if not len(stations):
        return np.full(len(locs), np.inf), np.full(len(locs), -1, dtype=np.int64)
    times = np.vstack([np.asarray(view.times_from(int(s), locs), dtype=np.float64) for s in stations])
    best = np.argmin(times, axis=0)
    minutes = times[best, np.arange(len(locs))]
    return minutes, np.where(np.isfinite(minutes), best, -1).astype(np.int64)


def _districts(world: Any, locs: np.ndarray, xy: np.ndarray, n_st: int) -> list[str]:
    """District name of each row: stations their own; others by polygon (or by zone for matrices)."""
    names = list(world.district_names)
    out = [names[int(d)] for d in world.station_district]
    rest = xy[n_st:]
    if isinstance(world.geo, MatrixGeo):
        of_place = {}
        for d, zones in enumerate(world.district_zones):
            if zones is not None:
                for loc in zones[0]:
                    of_place.setdefault(int(loc), names[d])
        return out + [of_place.get(int(loc), "") for loc in locs[n_st:]]
    which = np.full(len(rest), -1, dtype=np.int64)
    for d, poly in enumerate(world.district_boundaries):
        if poly is not None and len(rest):
            hit = points_in_polygon(rest[:, 0], rest[:, 1], poly) & (which < 0)
            which[hit] = d
    return out + [names[int(d)] if d >= 0 else "" for d in which]

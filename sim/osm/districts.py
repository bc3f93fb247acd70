"""Districts of an imported city: GeoJSON polygons, or Voronoi cells around stations, in km.

Voronoi cells (scipy.spatial.Voronoi) are clipped to the convex hull of the
road network widened by :data:`HULL_MARGIN_KM`, so every cell is a bounded
convex polygon and together they cover every road node. Within a district,
incidents happen on its road nodes weighted by the road length around each
(:func:`road_zones`): streets, not parks or water, get the calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy.spatial import ConvexHull, Voronoi

from sim.errors import InputError
from sim.kernels import points_in_polygon

#: How far the hull of the road nodes is widened before it clips the Voronoi cells, km.
HULL_MARGIN_KM = 0.1


def road_zones(net, boundaries: Sequence) -> tuple:
    """Road nodes of each district and their weights (half the length of the roads meeting there, km).

    Parameters
    ----------
    net : sim.network.RoadNetwork
        The network (link minutes are not lengths: the length of a link is the
        straight line between its ends, which the weights only compare).
    boundaries : sequence of polygons or None
        District boundaries in km.

    Returns
    -------
    tuple of (int64[k], float64[k]) or None
        Per district; None for a district without a boundary or without road nodes.
    """
    g = net.graph.tocoo()
    length = np.hypot(*(net.xy[g.row] - net.xy[g.col]).T)
    weight = 0.25 * (np.bincount(g.row, length, net.n_nodes) + np.bincount(g.col, length, net.n_nodes))
    out = []
    for poly in boundaries:
        if poly is None:
            out.append(None)
            continue
        poly = np.asarray(poly, dtype=np.float64)
        nodes = np.flatnonzero(points_in_polygon(net.xy[:, 0], net.xy[:, 1], poly))
        w = np.maximum(weight[nodes], 1e-9)  # a node with only very short roads still counts
        out.append((nodes.astype(np.int64), w) if len(nodes) else None)
    return tuple(out)


def hull(xy: np.ndarray, margin_km: float = HULL_MARGIN_KM) -> np.ndarray:
    """Convex hull of points widened by ``margin_km`` (the hull of the points moved to a square's corners).

    Returns
    -------
    ndarray of float, shape (m, 2)
        Vertices counter-clockwise.
    """
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * margin_km
    pts = (np.asarray(xy, dtype=np.float64)[:, None, :] + corners[None, :, :]).reshape(-1, 2)
    h = ConvexHull(pts)
    return pts[h.vertices]


def voronoi_cells(sites: np.ndarray, region: np.ndarray) -> list[np.ndarray]:
    """The Voronoi cell of each site, clipped to the convex polygon ``region``.

    Parameters
    ----------
    sites : ndarray (k, 2)
        Distinct points, km.
    region : ndarray (m, 2)
        Convex polygon, counter-clockwise.

    Returns
    -------
    list of ndarray (., 2)
        One polygon per site (empty when the cell misses the region).
    """
    sites = np.asarray(sites, dtype=np.float64)
    if len(sites) == 1:
        return [region.copy()]
    lo = np.minimum(region.min(axis=0), sites.min(axis=0))
    hi = np.maximum(region.max(axis=0), sites.max(axis=0))
    centre, far = (lo + hi) / 2, 10.0 * float(np.max(hi - lo) + 1.0)
    ring = centre + far * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    vor = Voronoi(np.vstack([sites, ring]))  # the far ring bounds every site's cell
    cells = []
    for i in range(len(sites)):
        verts = vor.vertices[vor.regions[vor.point_region[i]]]
        order = np.argsort(np.arctan2(*(verts - verts.mean(axis=0)).T[::-1]))
        cells.append(clip_convex(verts[order], region))
    return cells


def clip_convex(poly: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: ``poly`` clipped to the convex, counter-clockwise polygon ``region``."""
    out = [tuple(p) for p in poly]
    for a, b in zip(region, np.roll(region, -1, axis=0), strict=True):
        if not out:
            break
        src, out = out, []
        edge = b - a

        def inside(p, a=a, edge=edge) -> bool:
            return edge[0] * (p[1] - a[1]) - edge[1] * (p[0] - a[0]) >= 0

        for p, q in zip(src, src[1:] + src[:1], strict=True):
            if inside(q):
                if not inside(p):
                    out.append(_cross(p, q, a, b))
                out.append(q)
            elif inside(p):
                out.append(_cross(p, q, a, b))
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


def _cross(p, q, a, b) -> tuple[float, float]:
    """Where the segment p-q crosses the line through a and b."""
    p, q = np.asarray(p), np.asarray(q)
    d, e = q - p, b - a
    t = (e[0] * (a[1] - p[1]) - e[1] * (a[0] - p[0])) / (e[0] * d[1] - e[1] * d[0])
    return tuple(p + t * d)


def read_geojson(path: Path, project: Callable, net_xy: np.ndarray) -> list[dict]:
    """Districts of a GeoJSON file: name, population (or None) and boundary in km.

    Parameters
    ----------
    path : Path
        A FeatureCollection of Polygon or MultiPolygon features (longitude,
        latitude); ``properties.name`` names a district, ``properties.population``
        (optional) gives its people. Of a MultiPolygon the largest outer ring is used.
    project : callable
        ``(lon, lat) -> (x_km, y_km)`` on arrays.
    net_xy : ndarray (n, 2)
        Road nodes, km: at least one must lie in some district.

    Returns
    -------
    list of dict
        ``{"name", "population", "boundary"}`` in file order.

    Raises
    ------
    InputError
        Naming the file (and the feature): not GeoJSON, no polygons, or no
        district overlapping the road network.
    """
    where = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read the districts file as GeoJSON ({type(exc).__name__})", where) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise InputError("expected a GeoJSON FeatureCollection of district polygons", where)
    out = []
    for i, f in enumerate(features):
        ring = _outer_ring(f)
        if ring is None:
            continue
        props = (f.get("properties") or {}) if isinstance(f, dict) else {}
        name = str(props.get("name") or f"district {i + 1}")
        pop = props.get("population")
        if pop is not None and (not isinstance(pop, int | float) or isinstance(pop, bool) or pop < 0):
            raise InputError("expected a non-negative number", where, f"features[{i}].properties.population")
        x, y = project(ring[:, 0], ring[:, 1])
        out.append({"name": name, "population": None if pop is None else int(pop),
                    "boundary": np.column_stack([x, y])})
    if not out:
        raise InputError("no Polygon or MultiPolygon features with coordinates", where)
    inside = np.zeros(len(net_xy), dtype=bool)
    for d in out:
        inside |= points_in_polygon(net_xy[:, 0], net_xy[:, 1], d["boundary"])
    if not inside.any():
        raise InputError("the districts do not overlap the road network (no road node lies in any of them; "
                         "are the coordinates longitude, latitude of the same place?)", where)
    return out


def _outer_ring(feature) -> np.ndarray | None:
    """The outer ring (lon, lat) of a Polygon, or the largest of a MultiPolygon's; None otherwise."""
    geom = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geom, dict):
        return None
    coords = geom.get("coordinates")
    try:
        if geom.get("type") == "Polygon":
            rings = [np.asarray(coords[0], dtype=np.float64)]
        elif geom.get("type") == "MultiPolygon":
            rings = [np.asarray(p[0], dtype=np.float64) for p in coords]
        else:
            return None
    except (TypeError, ValueError, IndexError):
        return None
    rings = [r[:, :2] for r in rings if r.ndim == 2 and r.shape[0] >= 4 and r.shape[1] >= 2
             and np.isfinite(r).all()]
    if not rings:
        return None
    ring = max(rings, key=lambda r: abs(_area(r)))
    return ring[:-1] if np.array_equal(ring[0], ring[-1]) else ring


def _area(r: np.ndarray) -> float:
    x, y = r[:, 0], r[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))

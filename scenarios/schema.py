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
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    field_validator,
    model_validator,
)

from scenarios.base import Duration, Point, PositiveDuration, Strict, reference_error
from scenarios.distributions import ZERO, Distribution, OptionalDistribution
from scenarios.geography import Geography, Matrix

SCHEMA_VERSION = 1
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Location = Point | str
TIERS = ("city", "district", "enterprise")


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
    population: NonNegativeInt = 0
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
    capacity: PositiveInt = 1
    district: str | None = None
    label: str = ""


class UnitType(Strict):
    """A kind of responder unit. ``capabilities`` default to the type's own name."""

    capabilities: list[str] = []
    speed_factor: Annotated[float, Field(gt=0)] = 1.0
    transports: bool = False
    turnout: Duration = 0.0
    label: str = ""


class IncidentType(Strict):
    """A kind of incident: how urgent, who must come, how long it takes."""

    priority_mix: dict[PositiveInt, Probability]
    target_response: PositiveDuration | dict[PositiveInt, PositiveDuration]
    required_units: Annotated[dict[str, PositiveInt], Field(min_length=1)]
    on_scene: Distribution
    transport_probability: Probability = 0.0
    handover: Distribution = ZERO
    max_queue: PositiveDuration | None = None
    label: str = ""

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
    priority: PositiveInt | None = None
    on_scene: Duration | None = None
    transport: bool | None = None
    label: str = ""


class DispatchCentre(Strict):
    """Call taking: how many call-takers, how long answering and processing take."""

    call_takers: PositiveInt | None = None
    answer: Distribution = ZERO
    processing: Distribution = ZERO
    patience: OptionalDistribution = None


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
    fleets: dict[str, dict[str, NonNegativeInt]]
    incident_types: Annotated[dict[str, IncidentType], Field(min_length=1)]
    demand: Demand = Demand()
    incidents: list[ScriptedIncident] = []
    dispatch_centre: DispatchCentre = DispatchCentre()
    policy: PolicySpec = PolicySpec()

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        from scenarios.references import check_references

        problem = check_references(self)
        if problem is not None:
            raise reference_error(*problem)
        return self

    def capabilities(self, unit_type: str) -> list[str]:
        """Capabilities of ``unit_type`` (its own name when none are listed)."""
        return self.unit_types[unit_type].capabilities or [unit_type]

    @property
    def uses_places(self) -> bool:
        """True when locations are place names of a travel-time matrix."""
        return isinstance(self.geography, Matrix)

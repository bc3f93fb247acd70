"""Sensors: IoT coverage of sites shortens the time from an incident's start to its call (#11).

The replication's own incidents are calls: the engine knows when the phone
rang, not when the trouble began. This component adds *site events* that
have both: at each site (an industrial complex, a tunnel, a riverside: a
circle, a polygon, or a whole district) events start as a Poisson process
(``events_per_day``, types from ``incident_types``), drawn from the
component's own stream, and each is *called* after a delay:

- by people: ``report_delay`` after its start (someone notices and dials);
- at a site whose sensors are on (``covered: true`` and ``enabled``): the
  sooner of that and ``sensor_delay`` after the start (the alarm reaches the
  line by itself).

Both delays are drawn for every event whether sensors are on or not, so a
run with sensors off sees the same events, starts and people's delays: the
baseline on the same random numbers. Streams: ``sensors``/site/0 (events),
/1 (false alarms), /2/k and /3/k (the drawn fields of the k-th event's and
false alarm's incident: priority, on-scene minutes and the rest). The call is raised through
``model.raise_incident`` (source ``sensor`` when the sensor called it,
``site_report`` when people did), at the event's point. Covered sites also
raise sensor false alarms (``false_alarms_per_day``, type
``false_alarm_type``): incidents with source ``sensor`` that need no work
(on-scene 0, nobody carried), listed in :attr:`Sensors.false_alarms` (a
drone component catches them).

Results: incident columns ``site`` ("" for incidents not of a site),
``t_start_min`` and ``call_delay_min`` (NaN for them), ``sensor_false_alarm``;
the ``site_events`` table (one row per event or false alarm: ``t_start_min``,
``t_call_min``, ``site``, ``kind``, ``covered``, ``detected_by``, ``incident_id``);
in run.json the events, false alarms and mean call delay by site, of the
events called in the measured window (after the warm-up).

Scenario section::

    components:
      sensors:
        report_delay: {dist: lognormal, mean: 12 min, sd: 6 min}
        sensor_delay: {dist: uniform, low: 0.5 min, high: 2 min}
        sites:
          onsan:
            district: Onsan
            circle: {centre_km: [20, 14], radius_km: 2}
            events_per_day: 1.5
            incident_types: {hazmat: 0.6, fire: 0.4}
            covered: true
            false_alarms_per_day: 0.3
            false_alarm_type: hazmat
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, model_validator

from agents.components import Component, incident_kind, register
from scenarios.base import Point
from scenarios.distributions import Constant, Distribution
from sim.demand import sample_in_polygon
from sim.errors import InputError
from sim.eventlog import register_kind
from sim.kernels import categorical
from sim.kernels.geometry import points_in_polygon

#: A site event started (detail: site); its call comes later
SITE_EVENT = register_kind("site_event")

SENSOR, PEOPLE = "sensor", "site_report"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Circle(_Strict):
    """A round site."""

    centre_km: Point
    radius_km: PositiveFloat


class Site(_Strict):
    """A watched place: where it is, what happens there, and whether sensors cover it."""

    district: str
    #: the site's shape; neither: the whole district
    circle: Circle | None = None
    polygon: list[Point] | None = Field(default=None, min_length=3)
    events_per_day: NonNegativeFloat = 0.0
    #: incident type -> weight of events of it
    incident_types: dict[str, NonNegativeFloat] = {}
    covered: bool = True
    false_alarms_per_day: NonNegativeFloat = 0.0
    false_alarm_type: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Site:
        if self.circle is not None and self.polygon is not None:
            raise ValueError("give a circle or a polygon, not both")
        if self.events_per_day > 0 and not any(self.incident_types.values()):
            raise ValueError("events_per_day needs incident_types with a positive weight")
        if self.false_alarms_per_day > 0 and self.false_alarm_type is None:
            raise ValueError("false_alarms_per_day needs false_alarm_type")
        return self


class SensorsSection(_Strict):
    """The ``components.sensors`` section of a scenario."""

    #: minutes from an event's start to a call by people
    report_delay: Distribution
    #: minutes from an event's start to a sensor's alarm
    sensor_delay: Distribution = Constant(value=1.0)
    sites: dict[str, Site] = Field(min_length=1)
    #: False: sensors off everywhere (the same events, called by people; no sensor false alarms)
    enabled: bool = True


@register("sensors")
class Sensors(Component):
    """Site events with a start and a call; sensors call them sooner where they cover the site.

    Lifecycle: built with the validated section (draws every site event of
    the run: start, type, point, both delays; and the sensor false alarms)
    -> :meth:`start` schedules one call per event -> the calls are raised at
    their times -> tables and summary after the run.

    Parameters
    ----------
    model : agents.model.Simulation
    section : SensorsSection

    Raises
    ------
    InputError
        Unknown district or incident type, a map without km.
    """

    Section = SensorsSection

    @classmethod
    def check(cls, world: Any, section: SensorsSection, source: str | None) -> None:
        """Districts and incident types must be the World's; sites need a map in km."""
        _check(world, section, source)

    def __init__(self, model: Any, section: SensorsSection):
        super().__init__(model, section)
        w = model.world
        self.site_names = list(section.sites)
        self.site_district, self.site_types = _check(w, section, w.source)
        #: events: (t_start, t_call, site, kind, covered, by, x, y, false alarm, number), by call time;
        #: ``number`` is the event's own (k for the site's k-th event, -1 - k for its k-th false alarm),
        #: which names the sub-stream of its incident's drawn fields: the same with sensors on or off
        self.events: list[tuple] = []
        for s, site in enumerate(section.sites.values()):
            self.events.extend(self._draw(s, site, w))
        self.events.sort(key=lambda e: (e[1], e[0], e[2]))
        self.incident_of: list[int] = [-1] * len(self.events)
        self.false_alarms: set[int] = set()
        self._row_of: dict[int, int] = {}

    def _draw(self, s: int, site: Site, w: Any) -> list[tuple]:
        """Every event and false alarm of site ``s`` up to the horizon (its own sub-streams)."""
        sec, horizon = self.section, self.model.until
        on = sec.enabled and site.covered
        rng = self.model.streams.named("sensors", s, 0)
        out = []
        n = rng.poisson(site.events_per_day * horizon / 1440.0)
        t = np.sort(rng.uniform(0.0, horizon, n))
        types, weights = self.site_types[s]
        kinds = types[categorical(weights[None, :], np.zeros(n, dtype=np.int64), rng.random(n))] if n else []
        xy = self._points(site, s, n, rng)
        people = sec.report_delay.sample(rng, n)
        sensor = sec.sensor_delay.sample(rng, n)
        for k in range(n):
            by_sensor = on and sensor[k] < people[k]
            delay = sensor[k] if by_sensor else people[k]
            out.append((float(t[k]), float(t[k] + delay), s, int(kinds[k]), on,
                        SENSOR if by_sensor else PEOPLE, float(xy[k, 0]), float(xy[k, 1]), False, k))
        frng = self.model.streams.named("sensors", s, 1)
        n = frng.poisson(site.false_alarms_per_day * horizon / 1440.0)
        t = np.sort(frng.uniform(0.0, horizon, n))
        xy = self._points(site, s, n, frng)
        if on and site.false_alarm_type is not None:
            k_false = w.type_names.index(site.false_alarm_type)
            out.extend((float(t[k]), float(t[k]), s, k_false, True, SENSOR, float(xy[k, 0]),
                        float(xy[k, 1]), True, -1 - k) for k in range(n))
        return out

    def _points(self, site: Site, s: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points uniform in the site, float64[n, 2] km."""
        if site.circle is not None:
            r = site.circle.radius_km * np.sqrt(rng.random(n))
            a = 2 * math.pi * rng.random(n)
            cx, cy = site.circle.centre_km
            return np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)])
        poly = site.polygon if site.polygon is not None else self.model.world.district_boundaries[
            self.site_district[s]]
        return sample_in_polygon(np.asarray(poly, dtype=np.float64), n, rng)

    def start(self) -> None:
        """Schedule the calls: one timeout per event, in call order."""
        env = self.model.env
        for e, event in enumerate(self.events):
            if event[1] < self.model.until:
                env.timeout(event[0]).callbacks.append(self._started_cb(e))

    def _started_cb(self, e: int):
        def started(_) -> None:
            m = self.model
            m.log.add(m.env.now, SITE_EVENT, -1, -1, {"site": self.site_names[self.events[e][2]]})
            m.env.timeout(self.events[e][1] - self.events[e][0]).callbacks.append(lambda _: self._call(e))
        return started

    def _call(self, e: int) -> None:
        """Raise event ``e``'s incident now (its call time). Mutates the record."""
        _, _, s, kind, _, by, x, y, false, number = self.events[e]
        extra = {"on_scene": 0.0, "transport": False} if false else {}
        named = self.model.streams.named
        rng = named("sensors", s, 2, number) if number >= 0 else named("sensors", s, 3, -1 - number)
        i = self.model.raise_incident(kind, int(self.site_district[s]), source=by, rng=rng, xy=(x, y),
                                      **extra)
        self.incident_of[e] = i
        self._row_of[i] = e
        if false:
            self.false_alarms.add(i)

    # -- results ---------------------------------------------------------------------------
    def incident_columns(self, ids: np.ndarray) -> dict[str, Any]:
        """``site``, ``t_start_min``, ``call_delay_min`` (NaN: not a site event), ``sensor_false_alarm``."""
        rows = [self._row_of.get(i, -1) for i in ids.tolist()]
        ev = self.events
        t0 = np.array([ev[r][0] if r >= 0 else math.nan for r in rows], dtype=np.float64)
        t1 = np.array([ev[r][1] if r >= 0 else math.nan for r in rows], dtype=np.float64)
        return {"site": np.array([self.site_names[ev[r][2]] if r >= 0 else "" for r in rows], dtype=object),
                "t_start_min": t0, "call_delay_min": t1 - t0,
                "sensor_false_alarm": np.array([r >= 0 and ev[r][8] for r in rows], dtype=bool)}

    def tables(self) -> dict[str, dict[str, Any]]:
        """The ``site_events`` table: events and false alarms whose call came within the run."""
        keep = [e for e, i in enumerate(self.incident_of) if i >= 0]
        ev = [self.events[e] for e in keep]
        return {"site_events": {
            "t_start_min": np.array([x[0] for x in ev], dtype=np.float64),
            "t_call_min": np.array([x[1] for x in ev], dtype=np.float64),
            "site": np.array([self.site_names[x[2]] for x in ev], dtype=object),
            "kind": np.array([self.model.world.type_names[x[3]] for x in ev], dtype=object),
            "covered": np.array([x[4] for x in ev], dtype=bool),
            "detected_by": np.array([x[5] for x in ev], dtype=object),
            "false_alarm": np.array([x[8] for x in ev], dtype=bool),
            "incident_id": np.array([self.incident_of[e] for e in keep], dtype=np.int64)}}

    def summary(self) -> dict[str, Any]:
        """Events called, by sensor, false alarms, and the mean call delay of real events by site.

        Every figure counts the events called in the measured window (from the warm-up
        to the end of the run), as the sweep metrics do: ``false_alarms`` equals the
        measured incidents marked ``sensor_false_alarm``. The ``site_events`` table lists
        every event called in the run.
        """
        m = self.model
        counted = m.book.called_between(m.world.warmup_min, m.until)
        called = [self.events[e] for e, i in enumerate(self.incident_of) if i >= 0 and counted[i]]
        real = [x for x in called if not x[8]]
        by_site = {}
        for s, name in enumerate(self.site_names):
            d = [x[1] - x[0] for x in real if x[2] == s]
            by_site[name] = float(np.mean(d)) if d else math.nan
        return {"events": len(real), "called_by_sensor": sum(x[5] == SENSOR for x in real),
                "false_alarms": len(called) - len(real), "mean_call_delay_min": by_site}


def _check(world: Any, section: SensorsSection, source: str | None) -> tuple[np.ndarray, list]:
    """Each site's district index, and its (type indices, weights).

    Raises
    ------
    InputError
        Naming ``components.sensors.sites.<site>.<field>``.
    """
    if world.geo.kind == "matrix":
        raise InputError("sites need a map in km (coordinates or roads), not a travel-time matrix", source,
                         "components.sensors.sites")
    types, districts = list(world.type_names), list(world.district_names)
    site_district, site_types = [], []
    for name, site in section.sites.items():
        base = f"components.sensors.sites.{name}"
        if site.district not in districts:
            raise InputError(f"unknown district {site.district!r}; expected one of "
                             f"{', '.join(repr(n) for n in districts)}", source, f"{base}.district")
        d = districts.index(site.district)
        if site.circle is None and site.polygon is None and world.district_boundaries[d] is None:
            raise InputError("the district has no boundary: give the site a circle or a polygon", source,
                             base)
        for t in [*site.incident_types, *([site.false_alarm_type] if site.false_alarm_type else [])]:
            incident_kind(world, t, source, f"{base}.incident_types")
        ks = [types.index(t) for t, wgt in site.incident_types.items() if wgt > 0]
        wts = np.array([wgt for wgt in site.incident_types.values() if wgt > 0], dtype=np.float64)
        site_district.append(d)
        site_types.append((np.array(ks, dtype=np.int64), wts / wts.sum() if len(wts) else wts))
        if site.circle is not None:
            c = np.array([site.circle.centre_km], dtype=np.float64)
            inside = any(b is not None and points_in_polygon(c[:, 0], c[:, 1], np.asarray(b, np.float64))[0]
                         for b in world.district_boundaries)
            if not inside and any(b is not None for b in world.district_boundaries):
                raise InputError(f"the centre {list(site.circle.centre_km)} is in no district", source,
                                 f"{base}.circle.centre_km")
    return np.array(site_district, dtype=np.int64), site_types

"""Citizens: a population that is hurt, calls, is warned and evacuates to shelters (issue #12, items 3-4).

People are arrays (:mod:`sim.kernels.citizens`), one slot per person, sorted
by district; each district's slice is owned by one Mesa agent
(:class:`agents.population.DistrictGroup`), not one Python object per person
(the population is drawn and placed by :mod:`agents.population`). Every ``step``
minutes the component's SimPy process

1. samples the hazard components of the run (any component with a
   ``hazard`` name and ``sample(x_km, y_km)``: the hazard field protocol) at
   the population's cells and the road nodes, and steps exposure, injury
   and survival curves (:func:`~sim.kernels.citizens.people_step`);
2. sends the warnings due: cell-broadcast alerts (a time and an area),
   responders on scene (people within ``responder_radius_km`` of an
   incident raised during the run when a unit arrives), neighbours
   (:func:`~sim.kernels.citizens.spread`) and cues (a hazard level people
   notice);
3. schedules the departures of the newly warned who evacuate and moves
   evacuees through the road network's point queues to the open shelters
   (:func:`~sim.kernels.citizens.evacuate`);
4. raises an incident (``model.raise_incident(..., source="citizens")``) for
   the injured whose call is due, one per home cell (or road node) and
   cause; the first unit to arrive treats them (the ``on_arrival`` hook),
   which stops their decline.

Population (per district, ``round(population * population_scale)`` people):
homes spread evenly over the district's cells (``cell_km`` squares whose
centre lies inside the district; at most ``max_per_cell`` people a cell), an
age group from ``age_mix``, phone access, mobility and vulnerability by age
group, and a preparedness in [0, 1] with the district's mean: ``u ** (1 /
a)`` with ``a = m / (1 - m)``, the quantile of a Beta(a, 1) law (mean
``m``) at the person's own uniform, so raising ``m`` raises everyone's
preparedness with the same numbers (common random numbers in a sweep).
Preparedness raises the share who evacuate and shortens their departure
delay and their call delay.

Shelters may start closed (``open: false``) and open at ``opens_at`` or when
:meth:`Citizens.open_shelter` is called (a drill's ``shelter_opening``
inject): from that minute evacuees may choose them, and everyone who stayed
home or was stranded for want of an open shelter with room sets off again.

Random numbers: ``citizens``/0 (the population, drawn up front; each
attribute from its own sub-stream per district), ``citizens``/1 (the fields
of the incidents raised). A run without the section draws what it drew
before.

A scenario section (see docs/howto-citizens.md) reads::

    components:
      citizens:
        population_scale: 0.1            # simulate a tenth of each district's people
        preparedness: 0.3                # community mean; per district: preparedness_by_district
        calls: {incident_type: medical, mean_delay_min: 10}
        warnings: {alerts: [{at: 30 min, districts: [Sadong], share: 0.9}]}
        evacuation:
          shelters: {Gym: {xy_km: [15, 6], capacity: 2000}}
          capacity_per_min: 30
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

from agents.components import Component, register
from agents.population import DistrictGroup, Plan, check_shelter_name, make_population, shelter_routes
from scenarios.base import Duration, Point, PositiveDuration
from sim.eventlog import register_kind
from sim.kernels import citizens as k

#: A cell-broadcast alert went out (detail: people reached)
CITIZEN_ALERT = register_kind("citizen_alert")
#: A shelter that was closed opened (detail: ``{"shelter": name, "waiting": people who set off again}``)
SHELTER_OPENED = register_kind("shelter_opened")

AGE_GROUPS = ("child", "adult", "elderly")
TRIAGE = ("red", "yellow", "green")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Triple = tuple[float, float, float]


def _unit_interval(values: tuple[float, ...]) -> tuple[float, ...]:
    if any(not 0 <= v <= 1 for v in values):
        raise ValueError(f"each value must lie in [0, 1], got {list(values)}")
    return values


class Harm(_Strict):
    """``components.citizens.exposure.<hazard>``: how a hazard's level hurts and is noticed."""

    #: health lost per minute per unit of level above ``threshold`` (health 1 = well, 0 = dead)
    rate_per_min: NonNegativeFloat
    threshold: NonNegativeFloat = 0.0
    #: level at which people notice the hazard and are warned (channel ``cue``); none: never
    cue_level: NonNegativeFloat | None = None
    #: the harm is dealt once, at the first step the hazard shows (an earthquake), not per minute
    once: bool = False
    #: incident type of the injured's calls (default ``calls.incident_type``)
    incident_type: str | None = None
    #: share of injuries that are red, yellow, green
    triage_mix: Triple = (0.2, 0.3, 0.5)

    @model_validator(mode="after")
    def _mix(self) -> Harm:
        _unit_interval(self.triage_mix)
        if abs(sum(self.triage_mix) - 1) > 1e-9:
            raise ValueError(f"triage_mix must sum to 1, got {sum(self.triage_mix)}")
        return self


#: Illustrative defaults per hazard type of the hazard field protocol (no calibrated source).
DEFAULT_HARM = {
    "fire": Harm(rate_per_min=0.05, cue_level=1.0, triage_mix=(0.3, 0.4, 0.3)),   # 1.0: burning
    "flood": Harm(rate_per_min=0.004, threshold=0.5, cue_level=0.1, triage_mix=(0.1, 0.3, 0.6)),  # depth m
    "plume": Harm(rate_per_min=0.0002, threshold=5.0, cue_level=20.0, triage_mix=(0.2, 0.4, 0.4)),  # mg/m3
    "quake": Harm(rate_per_min=0.12, threshold=6.0, once=True, triage_mix=(0.15, 0.35, 0.5)),  # MMI
}


class Survival(_Strict):
    """A triage class's Weibull time to death untreated (``scale_min`` none: never dies)."""

    scale_min: PositiveFloat | None
    shape: PositiveFloat = 1.0


class Sensor(_Strict):
    """A covered site: a disc where detection calls for the injured within ``delay_min``."""

    centre_km: Point
    radius_km: PositiveFloat
    delay_min: NonNegativeFloat = 1.0


class Calls(_Strict):
    """``components.citizens.calls``: when the injured call, and what they raise."""

    incident_type: str | None = None
    #: mean delay from injury to call, for a person with a phone and preparedness 0 (exponential)
    mean_delay_min: PositiveFloat = 10.0
    no_phone_factor: float = Field(default=3.0, ge=1)
    #: preparedness 1 shortens the mean delay by this share
    preparedness_cut: float = Field(default=0.5, ge=0, le=1)
    #: covered sites: an injured person there calls within ``delay_min`` at most (automatic detection)
    sensors: tuple[Sensor, ...] = ()


class Alert(_Strict):
    """A cell-broadcast alert: at a time, to an area (districts and/or a disc; default everywhere)."""

    at: Duration = Field(ge=0)
    districts: tuple[str, ...] | None = None
    centre_km: Point | None = None
    radius_km: PositiveFloat | None = None
    #: share of phone owners in the area it reaches
    share: float = Field(default=0.9, ge=0, le=1)

    @model_validator(mode="after")
    def _disc(self) -> Alert:
        if (self.centre_km is None) != (self.radius_km is None):
            raise ValueError("centre_km and radius_km go together")
        return self


class Warnings(_Strict):
    """``components.citizens.warnings``: the channels."""

    alerts: tuple[Alert, ...] = ()
    #: added to every alert's time (sweep it to study the warning's lead time)
    alert_delay: Duration = Field(default=0.0, ge=0)
    #: rate at which a person at home is warned when every neighbour in the cell is (per minute)
    neighbour_rate_per_min: NonNegativeFloat = 0.05
    #: responders on scene warn people at home within this distance (0: off)
    responder_radius_km: NonNegativeFloat = 0.5
    responder_share: float = Field(default=0.8, ge=0, le=1)


class Shelter(_Strict):
    """A shelter: where (snapped to the nearest road node), how many people it takes, whether it is open."""

    xy_km: Point
    capacity: int = Field(ge=0)
    #: false: closed until ``opens_at`` or ``open_shelter(name)`` (a drill's ``shelter_opening`` inject)
    open: bool = True
    #: when a closed shelter opens by itself (minutes from the run's start); none: only when opened
    opens_at: Duration | None = None

    @model_validator(mode="after")
    def _opening(self) -> Shelter:
        if self.opens_at is not None and self.open:
            raise ValueError("opens_at is for a shelter that starts closed: add open: false")
        return self


class Evacuation(_Strict):
    """``components.citizens.evacuation``: who leaves, when, and the roads' and shelters' capacity."""

    shelters: dict[str, Shelter] = Field(min_length=1)
    #: a district's designated shelter, tried first (else the nearest with room)
    designated: dict[str, str] = {}
    #: share of the warned who evacuate at preparedness 0 and 1 (linear between)
    share: float = Field(default=0.3, ge=0, le=1)
    share_prepared: float = Field(default=0.9, ge=0, le=1)
    #: mean delay from warning to departure at preparedness 0 and 1 (exponential)
    departure_mean_min: PositiveFloat = 30.0
    departure_mean_prepared_min: PositiveFloat = 10.0
    #: evacuees' free-flow time of a link: the network's minutes times this factor
    travel_factor: PositiveFloat = 1.5
    #: people per minute that leave a link (its point queue's service rate)
    capacity_per_min: PositiveFloat = 30.0


class CitizensSection(_Strict):
    """The ``components.citizens`` section of a scenario."""

    population_scale: PositiveFloat = 1.0
    #: the districts whose people are simulated (default: every district with people)
    districts: tuple[str, ...] | None = None
    cell_km: PositiveFloat = 0.25
    max_per_cell: PositiveInt = 5000
    age_mix: Triple = (0.15, 0.65, 0.20)
    phone_share: Triple = (0.7, 0.98, 0.85)
    mobility: Triple = (0.8, 1.0, 0.6)
    vulnerability: Triple = (1.2, 1.0, 1.6)
    #: community preparedness (mean, 0..1), e.g. the reach of an education programme
    preparedness: float = Field(default=0.3, ge=0, le=1)
    preparedness_by_district: dict[str, float] = {}
    injured_below: float = Field(default=0.8, gt=0, le=1)
    #: share of a hazard's harm that a warned person at home takes (sheltering in place); 1: none
    indoor_factor: float = Field(default=1.0, ge=0, le=1)
    exposure: dict[str, Harm] = {}
    survival: dict[str, Survival] = {"red": Survival(scale_min=60.0, shape=1.5),
                                     "yellow": Survival(scale_min=600.0, shape=1.5),
                                     "green": Survival(scale_min=None)}
    calls: Calls = Calls()
    warnings: Warnings = Warnings()
    evacuation: Evacuation | None = None
    step: PositiveDuration = 1.0
    #: the people are stepped from ``start`` to ``end`` (default: the run's end)
    start: Duration = Field(default=0.0, ge=0)
    end: Duration | None = None

    @model_validator(mode="after")
    def _check(self) -> CitizensSection:
        for name in ("age_mix", "phone_share"):
            _unit_interval(getattr(self, name))
        if abs(sum(self.age_mix) - 1) > 1e-9:
            raise ValueError(f"age_mix must sum to 1, got {sum(self.age_mix)}")
        if min(self.mobility) <= 0:
            raise ValueError("mobility must be positive")
        for d, v in self.preparedness_by_district.items():
            if not 0 <= v <= 1:
                raise ValueError(f"preparedness_by_district.{d} must lie in [0, 1], got {v}")
        if set(self.survival) != set(TRIAGE):
            raise ValueError(f"survival needs exactly {', '.join(TRIAGE)}")
        return self



CHANNELS = ("alert", "responders", "neighbours", "cue")


@register("citizens")
class Citizens(Component):
    """A population hurt by the run's hazards, calling, warned and evacuating to shelters.

    Lifecycle: built with the validated section (draws the population, one
    :class:`DistrictGroup` agent per district, the shelters' routes) ->
    :meth:`start` finds the hazard components, hooks ``on_arrival`` and starts
    one SimPy process that steps the people every ``step`` minutes from
    ``start`` to ``end`` -> :meth:`tables` (``casualties``, ``evacuation``,
    ``shelters``, ``warnings``) and :meth:`summary` after the run.

    Parameters
    ----------
    model : agents.model.Simulation
    section : CitizensSection

    Raises
    ------
    InputError
        Unknown districts, shelters or incident types; people that do not fit their cells; an
        evacuation without roads.
    """

    Section = CitizensSection

    @classmethod
    def check(cls, world: Any, section: CitizensSection, source: str | None) -> Plan:
        """Check the section against the World; the :class:`Plan` it makes."""
        return Plan(world, section, source)

    def __init__(self, model: Any, section: CitizensSection, prepared: Plan):
        super().__init__(model, section)
        w = model.world
        self.plan = plan = prepared  # by check
        roads = w.geo.net if w.geo.kind == "road" else None
        node_of_cell = roads.snap(plan.cell_xy) if roads is not None and len(plan.cell_xy) else None
        self.people = p = make_population(plan, model.streams, node_of_cell)
        self.n = n = len(p["state"])
        bounds = np.concatenate([[0], np.cumsum(plan.people)])
        self.groups = [DistrictGroup(model, int(d), slice(int(bounds[j]), int(bounds[j + 1])), p)
                       for j, d in enumerate(plan.districts)]
        self.node_xy = roads.xy if roads is not None else np.zeros((1, 2))
        self.heap_t, self.heap_p = np.zeros(n), np.zeros(n, dtype=np.int64)
        self.heap_size = np.zeros(1, dtype=np.int64)
        self.new_injured = np.zeros(n, dtype=np.int64)
        self.new_warned = np.zeros(n, dtype=np.int64)
        n_cells = len(plan.cell_xy)
        self.pressure = np.zeros(n_cells)
        self.n_home, self.n_home_warned = np.zeros(n_cells, dtype=np.int64), np.zeros(n_cells, dtype=np.int64)
        ev = section.evacuation
        if ev is not None:
            self.next_link, self.dist = shelter_routes(roads.graph, plan.shelter_node)
            self.link_head = roads.graph.indices.astype(np.int32)
            self.link_minutes = np.asarray(roads.graph.data, dtype=np.float64) * ev.travel_factor
            self.link_gap = np.full(len(self.link_head), 1.0 / ev.capacity_per_min)
            self.link_free_at = np.full(len(self.link_head), -np.inf)
            self.occupancy = np.zeros(len(plan.shelter_names), dtype=np.int64)
            #: per shelter, the minute it opened (-inf: open from the start; inf: not yet)
            self.opens_at = np.array([-np.inf if sh.open else np.inf for sh in ev.shelters.values()])
        self.incident_rng = model.streams.named("citizens", 1)
        self.warning_rows: list[tuple[float, int, int]] = []
        self.shelter_rows: list[tuple[float, int, int]] = []
        self.incident_people: dict[int, np.ndarray] = {}
        self.raised: list[int] = []
        self._scenes: list[int] = []  # incidents raised in the run whose first unit arrived this step
        self._seen_scenes: set[int] = set()
        self._injured = np.zeros(0, dtype=np.int64)

    # -- set-up --------------------------------------------------------------------------------
    def start(self) -> None:
        """Find the hazards, hook unit arrivals and start the people's process."""
        s = self.section
        self.hazards = [c for c in self.model.components.values()
                        if isinstance(getattr(c, "hazard", None), str)
                        and callable(getattr(c, "sample", None))]
        kinds = [h.hazard for h in self.hazards]
        self.causes = tuple(dict.fromkeys(kinds))
        harms = [s.exposure.get(kind, DEFAULT_HARM.get(kind, Harm(rate_per_min=0.0))) for kind in kinds]
        self.harms = harms
        self.hazard_cause = np.array([self.causes.index(kind) for kind in kinds], dtype=np.int8)
        self.threshold = np.array([h.threshold for h in harms], dtype=np.float64)
        self.cue = np.array([np.inf if h.cue_level is None else h.cue_level for h in harms], dtype=np.float64)
        self.triage_cum = np.array([np.cumsum(h.triage_mix) for h in harms], dtype=np.float64).reshape(-1, 3)
        self.shown = np.zeros(len(harms), dtype=np.bool_)  # a ``once`` hazard has dealt its harm
        self.kind_of_cause = {}
        for kind, harm in zip(kinds, harms, strict=True):
            name = harm.incident_type or s.calls.incident_type
            self.kind_of_cause.setdefault(self.causes.index(kind), name)
        surv = [s.survival[t] for t in TRIAGE]
        self.weibull_scale = np.array([np.inf if v.scale_min is None else v.scale_min for v in surv])
        self.weibull_shape = np.array([v.shape for v in surv], dtype=np.float64)
        self.alert_masks = [self._alert_cells(a) for a in s.warnings.alerts]
        self.model.on_arrival.append(self._arrived)
        if s.evacuation is not None:
            self.shelter_rows += [(float(s.start), j, 0) for j in range(len(self.plan.shelter_names))]
            env = self.model.env
            for name, sh in s.evacuation.shelters.items():
                if sh.opens_at is not None:
                    env.timeout(max(0.0, sh.opens_at - env.now)).callbacks.append(
                        lambda _event, name=name: self.open_shelter(name))
        self.model.env.process(self._live())

    def _alert_cells(self, alert: Alert) -> np.ndarray:
        """Cells an alert covers: in its districts (all by default) and, with a disc, inside it."""
        plan = self.plan
        mask = np.ones(len(plan.cell_xy), dtype=np.bool_)
        if alert.districts is not None:
            wanted = [plan.district_names.index(d) for d in alert.districts]
            mask &= np.isin(plan.districts[plan.cell_district], wanted)
        if alert.centre_km is not None:
            cx, cy = alert.centre_km
            mask &= np.hypot(plan.cell_xy[:, 0] - cx, plan.cell_xy[:, 1] - cy) <= alert.radius_km
        return mask

    # -- the process ---------------------------------------------------------------------------
    def _live(self) -> Generator:
        """Step the people every ``step`` minutes over ``[start, end]``."""
        s, env = self.section, self.model.env
        end = min(self.model.until, s.end if s.end is not None else math.inf)
        dt = float(s.step)
        yield env.timeout(float(s.start))
        delay = float(s.warnings.alert_delay)
        alerts = sorted(range(len(s.warnings.alerts)), key=lambda j: s.warnings.alerts[j].at)
        while env.now + dt <= end + 1e-9:
            yield env.timeout(dt)
            t1 = env.now
            while alerts and s.warnings.alerts[alerts[0]].at + delay <= t1:
                self._alert(alerts.pop(0))
            self.step(t1, dt)

    def step(self, t1: float, dt: float) -> None:
        """One step over ``(t1 - dt, t1]``: exposure, warnings, departures, moves, calls. Mutates people."""
        p, s = self.people, self.section
        if self.hazards:
            self._expose(t1, dt)
        if self._scenes:
            self._responders(t1)
        if s.warnings.neighbour_rate_per_min > 0 and self.n:
            m = k.spread(t1, dt, s.warnings.neighbour_rate_per_min, p["state"], p["home_cell"],
                         p["warned_at"], p["e_neighbour"], self.pressure, self.n_home, self.n_home_warned,
                         self.new_warned)
            self._warned(t1, CHANNELS.index("neighbours"), m)
        if s.evacuation is not None:
            self._move(t1)
        if len(self._injured):
            self._call(t1)

    def _expose(self, t1: float, dt: float) -> None:
        p, plan = self.people, self.plan
        m = len(self.hazards)
        cells = np.zeros((m, len(plan.cell_xy)))
        nodes = np.zeros((m, len(self.node_xy)))
        harm = np.zeros(m)
        for h, (hazard, spec) in enumerate(zip(self.hazards, self.harms, strict=True)):
            cells[h] = hazard.sample(plan.cell_xy[:, 0], plan.cell_xy[:, 1])
            if self.section.evacuation is not None:
                nodes[h] = hazard.sample(self.node_xy[:, 0], self.node_xy[:, 1])
            if spec.once:
                if not self.shown[h] and (cells[h].any() or nodes[h].any()):
                    self.shown[h] = True
                    harm[h] = spec.rate_per_min
            else:
                harm[h] = spec.rate_per_min * dt
        n_inj, n_warn = k.people_step(
            t1, p["state"], p["home_cell"], p["node"], p["age"], p["health"], p["injury"], p["cause"],
            p["injured_at"], p["health_injured"], p["treated"], p["died_at"], p["dies_at"], p["u_death"],
            p["u_triage"],
            p["warned_at"], cells, nodes, harm, self.threshold, self.cue, self.hazard_cause,
            np.asarray(self.section.vulnerability, dtype=np.float64), self.section.injured_below,
            self.triage_cum, self.weibull_scale, self.weibull_shape, self.section.indoor_factor,
            self.new_injured, self.new_warned)
        if n_inj:
            self._injured = np.concatenate([self._injured, self.new_injured[:n_inj]])
        self._warned(t1, CHANNELS.index("cue"), n_warn)

    def _alert(self, j: int) -> None:
        """Send alert ``j`` at its time. Mutates the people."""
        a, p = self.section.warnings.alerts[j], self.people
        t = float(a.at) + float(self.section.warnings.alert_delay)
        m = k.reach(t, self.alert_masks[j], True, p["phone"], p["u_alert"], a.share, p["state"],
                    p["home_cell"], p["warned_at"], self.new_warned)
        self.model.log.add(self.model.env.now, CITIZEN_ALERT, -1, -1, {"alert": j, "reached": int(m)})
        self._warned(t, CHANNELS.index("alert"), m)

    def _responders(self, t1: float) -> None:
        """Responders on scene warn people at home near the scenes reached this step."""
        s, p, plan = self.section.warnings, self.people, self.plan
        xy = self.model.travel.xy(np.array([self.model.book.loc[i] for i in self._scenes], dtype=np.int64))
        self._scenes = []
        mask = np.zeros(len(plan.cell_xy), dtype=np.bool_)
        for x, y in xy:
            mask |= np.hypot(plan.cell_xy[:, 0] - x, plan.cell_xy[:, 1] - y) <= s.responder_radius_km
        m = k.reach(t1, mask, False, p["phone"], p["u_responder"], s.responder_share, p["state"],
                    p["home_cell"], p["warned_at"], self.new_warned)
        self._warned(t1, CHANNELS.index("responders"), m)

    def _warned(self, t: float, channel: int, m: int) -> None:
        """Record ``m`` people warned at ``t`` and schedule the departures of those who evacuate."""
        if not m:
            return
        self.warning_rows.append((t, channel, int(m)))
        if self.section.evacuation is not None:
            p = self.people
            k.decide(self.new_warned, m, p["warned_at"], p["will_evacuate"], p["delay_min"], p["state"],
                     p["treated"], p["phase"], self.heap_t, self.heap_p, self.heap_size)

    def _move(self, t1: float) -> None:
        """Move evacuees through the point queues up to ``t1``; a shelters row when occupancy changed."""
        p, before = self.people, self.occupancy.copy()
        k.evacuate(t1, p["state"], p["node"], p["link"], p["phase"], p["target"], p["shelter"],
                   p["departed_at"], p["arrived_at"], p["treated"], p["first"], p["mobility"], self.link_head,
                   self.link_minutes, self.link_gap, self.link_free_at, self.next_link, self.dist,
                   self.plan.shelter_node, self.occupancy, self.plan.shelter_capacity, self.opens_at,
                   self.heap_t, self.heap_p, self.heap_size)
        for j in np.flatnonzero(self.occupancy != before):
            self.shelter_rows.append((t1, int(j), int(self.occupancy[j])))

    def open_shelter(self, name: str) -> None:
        """Open shelter ``name`` now (its ``opens_at``, or a drill's ``shelter_opening`` inject).

        From now on evacuees may choose it (people already on their way keep going), and everyone
        who stayed home or was stranded on the road for want of an open shelter with room sets off
        again now, towards the nearest open shelter with room. Logs ``shelter_opened``. Opening an
        open shelter does nothing. Mutates ``opens_at``, the people's phases and the event heap.

        Parameters
        ----------
        name : str
            A shelter of ``evacuation.shelters``.

        Raises
        ------
        ValueError
            An unknown shelter (the drill's check refuses it before the run).
        """
        names = self.plan.shelter_names
        if name not in names:
            raise ValueError(f"unknown shelter {name!r}; expected one of {', '.join(map(repr, names))}")
        j, now = names.index(name), float(self.model.env.now)
        if self.opens_at[j] <= now:
            return
        self.opens_at[j] = now
        # the waiting found nothing at their own time (<= now); who is still to choose sees opens_at
        p = self.people
        m = k.reopen(now, p["state"], p["treated"], p["phase"], self.heap_t, self.heap_p, self.heap_size)
        self.model.log.add(now, SHELTER_OPENED, -1, -1, {"shelter": name, "waiting": int(m)})

    @classmethod
    def check_open_shelter(cls, world: Any, raw: Any, inject: Any, path: str, source: str | None) -> None:
        """Check a drill's ``shelter_opening`` inject (:func:`agents.population.check_shelter_name`)."""
        try:
            section = cls.Section.model_validate(raw if raw is not None else {})
        except ValidationError:
            return  # the section's own check reports it
        check_shelter_name(section, inject.shelter, f"{path}.shelter", source)

    def _call(self, t1: float) -> None:
        """Raise one incident per place and cause for the injured whose call is due at ``t1``."""
        p, inj = self.people, self._injured
        due = ((p["injured_at"][inj] + p["call_delay_min"][inj] <= t1) & ~p["called"][inj]
               & (p["state"][inj] != k.DEAD) & ~p["treated"][inj])
        who = inj[due]
        if not len(who):
            return
        p["called"][who] = True
        self._injured = inj[~p["called"][inj] & (p["state"][inj] != k.DEAD) & ~p["treated"][inj]]
        n_cells = len(self.plan.cell_xy)
        at_home = p["state"][who] == k.HOME
        place = np.where(at_home, p["home_cell"][who], n_cells + p["node"][who]).astype(np.int64)
        key = place * len(self.causes) + p["cause"][who]
        order = np.argsort(key, kind="stable")
        keys, first = np.unique(key[order], return_index=True)
        for g, (kk, lo) in enumerate(zip(keys.tolist(), first.tolist(), strict=True)):
            hi = first[g + 1] if g + 1 < len(first) else len(order)
            group = who[order[lo:hi]]
            kind = self.kind_of_cause.get(int(kk % len(self.causes)))
            if kind is None:
                continue
            pl = kk // len(self.causes)
            x, y = self.plan.cell_xy[pl] if pl < n_cells else self.node_xy[pl - n_cells]
            i = self.model.raise_incident(kind, int(p["district"][group[0]]), source="citizens",
                                          rng=self.incident_rng, xy=(float(x), float(y)))
            self.incident_people[i] = group
            self.raised.append(i)

    def _arrived(self, u: int, i: int) -> None:
        """A unit reached incident ``i``: treat its callers (first arrival); note the scene for warnings."""
        group = self.incident_people.pop(i, None)
        if group is not None:
            p = self.people
            alive = group[p["state"][group] != k.DEAD]
            p["treated"][alive] = True
            p["treated_at"][alive] = self.model.env.now
        if (self.section.warnings.responder_radius_km > 0 and i >= self.model.book.stream.n
                and i not in self._seen_scenes):
            self._seen_scenes.add(i)
            self._scenes.append(i)
        return None

    # -- results -------------------------------------------------------------------------------
    def tables(self) -> dict[str, dict[str, Any]]:
        """``casualties``, ``evacuation``, ``shelters`` and ``warnings`` (columns: docs/howto-citizens.md)."""
        p, names = self.people, self.plan.district_names
        dead = p["state"] == k.DEAD
        hurt = (p["injury"] > 0) & ~dead
        cas: dict[str, list] = {"district": [], "cause": [], "injured": [], "dead": []}
        for d in self.plan.districts:
            mine = p["district"] == d
            for c, cause in enumerate(self.causes):
                of = mine & (p["cause"] == c)
                cas["district"].append(names[d])
                cas["cause"].append(cause)
                cas["injured"].append(int(np.count_nonzero(of & hurt)))
                cas["dead"].append(int(np.count_nonzero(of & dead)))
        evac: dict[str, list] = {"district": [], "people": [], "warned": [], "evacuated": [],
                                 "median_evac_min": [], "p90_evac_min": []}
        sheltered = p["state"] == k.SHELTERED
        for g in self.groups:
            mine = sheltered[g.people]
            tm = g.arrived_at[mine] - g.warned_at[mine]
            evac["district"].append(names[g.district])
            evac["people"].append(g.people.stop - g.people.start)
            evac["warned"].append(int(np.count_nonzero(np.isfinite(g.warned_at))))
            evac["evacuated"].append(len(tm))
            evac["median_evac_min"].append(float(np.median(tm)) if len(tm) else math.nan)
            evac["p90_evac_min"].append(float(np.quantile(tm, 0.9)) if len(tm) else math.nan)
        shelters = list(zip(*self.shelter_rows, strict=True)) if self.shelter_rows else [(), (), ()]
        warn = list(zip(*self.warning_rows, strict=True)) if self.warning_rows else [(), (), ()]
        return {
            "casualties": {"district": np.array(cas["district"], dtype=object),
                           "cause": np.array(cas["cause"], dtype=object),
                           "injured": np.array(cas["injured"], dtype=np.int64),
                           "dead": np.array(cas["dead"], dtype=np.int64)},
            "evacuation": {"district": np.array(evac["district"], dtype=object),
                           "people": np.array(evac["people"], dtype=np.int64),
                           "warned": np.array(evac["warned"], dtype=np.int64),
                           "evacuated": np.array(evac["evacuated"], dtype=np.int64),
                           "median_evac_min": np.array(evac["median_evac_min"], dtype=np.float64),
                           "p90_evac_min": np.array(evac["p90_evac_min"], dtype=np.float64)},
            "shelters": {"t_min": np.array(shelters[0], dtype=np.float64),
                         "shelter": np.array([self.plan.shelter_names[j] for j in shelters[1]], dtype=object),
                         "occupancy": np.array(shelters[2], dtype=np.int64),
                         "capacity": np.array([self.plan.shelter_capacity[j] for j in shelters[1]],
                                              dtype=np.int64)},
            "warnings": {"t_min": np.array(warn[0], dtype=np.float64),
                         "channel": np.array([CHANNELS[c] for c in warn[1]], dtype=object),
                         "reached": np.array(warn[2], dtype=np.int64)},
        }

    def summary(self) -> dict[str, Any]:
        """Deaths, injured, evacuated, median evacuation minutes, people warned, for run.json."""
        p = self.people
        sheltered = p["state"] == k.SHELTERED
        times = p["arrived_at"][sheltered] - p["warned_at"][sheltered]
        counts = np.bincount(p["state"], minlength=len(k.STATE_NAMES)) if self.n else np.zeros(5, dtype=int)
        return {
            "people": self.n,
            "deaths": int(counts[k.DEAD]),
            "injured": int(np.count_nonzero((p["injury"] > 0) & (p["state"] != k.DEAD))),
            "treated": int(np.count_nonzero(p["treated"])),
            "evacuated": int(counts[k.SHELTERED]),
            "stranded": int(counts[k.STRANDED]),
            "still_moving": int(counts[k.MOVING]),
            "median_evac_min": float(np.median(times)) if len(times) else None,
            "people_warned": int(np.count_nonzero(np.isfinite(p["warned_at"]))),
            "incidents_raised": len(self.raised),
        }

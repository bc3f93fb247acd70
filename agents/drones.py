"""Drones: fly first to verify an incident, so that false alarms send nobody (#11).

Drones wait at ports (points in km, inside the map). For an incident of a
*verifiable* type, the dispatch decision (hook ``model.before_decide``) is
held if a drone that is ready can be over the scene within ``max_wait``: the
earliest such drone launches (``launch`` minutes to take off), flies in a
straight line at ``speed_kmh``, looks for ``verify`` minutes and reports.
A confirmed incident is then dispatched as usual; a false alarm is closed
with no unit sent (logged ``false_alarm_closed``, status resolved). When no
drone can come in time, units go at once. With ``mode: recall`` units go at
once anyway and the drone flies beside them: on a false alarm, those still
on their way are recalled (``DispatchCentre.recall``) and the need is
cancelled. A drone never flies beyond its
battery: it is sent only if the whole round trip (out, over the scene, back)
fits in ``endurance``; back at its port it recharges for ``recharge`` times
the share of the battery it used, and is then ready again.

False alarms: each incident of a type in ``false_alarm_share`` is a false
alarm with that probability, drawn from the component's own stream
(``drones``/0 for the replication's incidents, ``drones``/1/id for those
raised during the run), whether drones fly or not; incidents a sensor
component marks as false alarms (``sensors.false_alarms``) are false too. A
false alarm needs no work: units sent to one arrive and leave at once (a
*wasted dispatch*; its on-scene minutes are 0 and nobody is transported).
``enabled: false`` keeps the same false alarms and flies no drone: the
baseline on the same random numbers.

Misreported calls: a caller may name the wrong kind (``misreported``:
reported type -> {true type: probability}, drawn from ``drones``/2 for the
replication's calls). Without a drone the reported type's plan goes
(``wrong_plan``); a drone holding the decision sees the true type, the
incident becomes it and its plan follows (outcome ``reclassified``).

Results: the ``drones`` table (one row per sortie: ``drone``,
``incident_id``, ``t_launch_min``, ``t_arrive_min``, ``t_back_min``,
``outcome``: confirmed, false_alarm, reclassified, or aborted when the
incident was over before the report (recall mode); ``battery_left_min``),
incident columns ``false_alarm``, ``true_kind``, ``wrong_plan``,
``drone_outcome`` and ``drone_hold_min`` (minutes the decision was held),
and in run.json sorties, false alarms caught, reclassified, wrong plans,
wasted dispatches and dispatches saved, all of incidents called in the
measured window (after the warm-up), as the sweep metrics count.

Scenario section::

    components:
      drones:
        ports:
          hq: {xy_km: [7.0, 6.2], drones: 2}
        speed_kmh: 60
        endurance: 25 min
        recharge: 45 min
        launch: 1 min
        verify: 2 min
        max_wait: 6 min
        verifiable: [fire, hazmat]
        false_alarm_share: {fire: 0.25, hazmat: 0.3}
        misreported: {fire: {hazmat: 0.1}}   # a tenth of "fire" calls are chemical releases
        mode: hold                           # or recall
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from agents.components import Component, incident_kind, register
from agents.incidents import OPEN, RESOLVED
from scenarios.base import Duration, Point, PositiveDuration
from sim.errors import InputError
from sim.eventlog import EventKind, register_kind
from sim.kernels import categorical

#: A drone took off for an incident (detail: drone)
DRONE_LAUNCHED = register_kind("drone_launched")
#: A drone reported (detail: outcome)
DRONE_REPORTED = register_kind("drone_reported")
#: A false alarm closed after a drone's report, no unit sent
FALSE_ALARM_CLOSED = register_kind("false_alarm_closed")

CONFIRMED, FALSE_ALARM, RECLASSIFIED, ABORTED = "confirmed", "false_alarm", "reclassified", "aborted"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Port(_Strict):
    """A drone port: where, and how many drones wait there."""

    xy_km: Point
    drones: PositiveInt = 1


class DronesSection(_Strict):
    """The ``components.drones`` section of a scenario."""

    ports: dict[str, Port] = {}
    speed_kmh: PositiveFloat = 60.0
    #: flight minutes on a full battery
    endurance: PositiveDuration = 25.0
    #: minutes to recharge a flat battery (a partly used one: that share of it)
    recharge: Duration = Field(default=40.0, ge=0)
    #: minutes from the order to take-off
    launch: Duration = Field(default=1.0, ge=0)
    #: minutes over the scene before the report
    verify: Duration = Field(default=2.0, ge=0)
    #: a decision is held only if a drone can be over the scene within this
    max_wait: PositiveDuration = 6.0
    #: incident types a drone verifies first
    verifiable: tuple[str, ...] = ()
    #: ``hold``: the dispatch waits for the report; ``recall``: units go at once and those still
    #: on their way to a false alarm are recalled when the drone reports (DispatchCentre.recall)
    mode: Literal["hold", "recall"] = "hold"
    #: incident type -> probability that a call of it is a false alarm
    false_alarm_share: dict[str, float] = {}
    #: reported type -> {true type: probability}: calls whose caller named the wrong kind
    misreported: dict[str, dict[str, float]] = {}
    #: False: no drone flies (the same false alarms; the baseline)
    enabled: bool = True


@register("drones")
class Drones(Component):
    """Drones that verify incidents before units go, and the false alarms they catch.

    Lifecycle: built with the validated section (draws which of the
    replication's incidents are false alarms; those need no work) ->
    :meth:`start` hooks :meth:`_before` onto ``model.before_decide`` ->
    each held decision runs a sortie (launch, fly, verify, report; back,
    recharge) -> tables and summary after the run.

    Parameters
    ----------
    model : agents.model.Simulation
    section : DronesSection

    Raises
    ------
    InputError
        Unknown incident type, a port outside the map, a map without km.
    """

    Section = DronesSection

    @classmethod
    def check(cls, world: Any, section: DronesSection, source: str | None) -> tuple[np.ndarray, ...]:
        """Incident types must be the World's; ports inside the map."""
        return _check(world, section, source)

    def __init__(self, model: Any, section: DronesSection, prepared: tuple[np.ndarray, ...]):
        super().__init__(model, section)
        self.verifiable, self.share, truth = prepared  # by check
        self.port_xy, self.drone_port = [], []
        for p, port in enumerate(section.ports.values()):
            self.port_xy.append(tuple(map(float, port.xy_km)))
            self.drone_port.extend([p] * port.drones)
        names = list(section.ports)
        counts: dict[int, int] = {}
        self.drone_names = []
        for p in self.drone_port:
            counts[p] = counts.get(p, 0) + 1
            self.drone_names.append(f"{names[p]}/{counts[p]}")
        self.ready_at = [0.0] * len(self.drone_port)
        book = model.book
        s = book.stream
        draws = model.streams.named("drones", 0).random(s.n)
        self.false: set[int] = set(np.flatnonzero(draws < self.share[s.kind]).tolist())
        for i in self.false:
            self._no_work(i)
        #: the true type of each of the replication's calls (differs where the caller misreported)
        self.true_kind = s.kind.copy()
        if section.misreported:
            self.true_kind = categorical(truth, s.kind, model.streams.named("drones", 2).random(s.n))
        self.seen: set[int] = set()  # incidents whose decision this component has looked at
        self.outcome: dict[int, str] = {}
        self.hold: dict[int, float] = {}
        self.recalled: dict[int, int] = {}  # incident -> units recalled from it (mode recall)
        self.rows: list[tuple[int, int, float, float, float, str, float]] = []
        #: sorties not back yet: id -> [drone, incident, launched, over the scene, outcome] (NaN, "": not yet)
        self.in_air: dict[int, list] = {}

    def _no_work(self, i: int) -> None:
        """A false alarm: nothing to do on scene, nobody to carry. Mutates the book."""
        book = self.model.book
        book.on_scene[i] = 0.0
        book.transport[i] = False
        if i < book.stream.n:  # the incidents table reads the stream's columns
            book.stream.on_scene[i] = 0.0
            book.stream.transport[i] = False

    def start(self) -> None:
        """Hook onto dispatch decisions (when there are false alarms to draw or drones to fly)."""
        if self.section.mode == "recall" and not hasattr(self.model.dispatch, "recall"):
            raise RuntimeError("mode recall needs DispatchCentre.recall")
        if self.share.any() or (self.section.enabled and self.drone_port and self.verifiable.any()):
            self.model.before_decide.append(self._before)

    def is_false_alarm(self, i: int) -> bool:
        """Whether incident ``i`` is a false alarm (drawn here, or marked by a sensor component)."""
        if i in self.false:
            return True
        sensors = self.model.components.get("sensors")
        return sensors is not None and i in getattr(sensors, "false_alarms", ())

    # -- the decision hook -----------------------------------------------------------------
    def _before(self, i: int, now: float) -> bool:
        """Hold ``i``'s decision while a drone verifies it; False lets the dispatch go on."""
        if i in self.seen:
            return False
        self.seen.add(i)
        book = self.model.book
        kind = book.kind[i]
        raised = i >= book.stream.n and self.share[kind] > 0  # raised during the run: its own draw
        if raised and self.model.streams.named("drones", 1, i).random() < self.share[kind]:
            self.false.add(i)
            self._no_work(i)
        if not (self.section.enabled and self.verifiable[kind] and self.drone_port):
            return False
        pick = self._pick(i, now)
        if pick is None:
            return False
        self.model.env.process(self._sortie(*pick, i))
        return self.section.mode == "hold"

    def _pick(self, i: int, now: float) -> tuple[int, float] | None:
        """The ready drone over the scene first, within ``max_wait`` and its battery; None if none."""
        sec = self.section
        x, y = self.model.travel.xy(np.array([self.model.book.loc[i]]))[0]
        best, best_t = None, math.inf
        for d, p in enumerate(self.drone_port):
            if self.ready_at[d] > now:
                continue
            px, py = self.port_xy[p]
            fly = math.hypot(x - px, y - py) / sec.speed_kmh * 60.0
            arrive = sec.launch + fly
            if arrive <= sec.max_wait and 2 * fly + sec.verify <= sec.endurance and arrive < best_t:
                best, best_t = d, arrive
        return None if best is None else (best, best_t - sec.launch)

    def _sortie(self, d: int, fly: float, i: int):
        """One sortie: take off, fly, verify, report (dispatch or close), fly back, recharge."""
        m, sec = self.model, self.section
        env, t0 = m.env, m.env.now
        self.ready_at[d] = math.inf
        key = len(self.rows) + len(self.in_air)  # sorties begun before this one
        sortie = self.in_air[key] = [d, i, math.nan, math.nan, ""]
        if sec.launch > 0:
            yield env.timeout(sec.launch)
        t_launch = sortie[2] = env.now
        m.log.add(t_launch, DRONE_LAUNCHED, i, -1, {"drone": self.drone_names[d]})
        yield env.timeout(fly)
        t_arrive = sortie[3] = env.now
        if sec.verify > 0:
            yield env.timeout(sec.verify)
        if m.book.status[i] != OPEN:  # (recall mode) over before the report: it changes nothing
            outcome = ABORTED
        elif self.is_false_alarm(i):
            outcome = FALSE_ALARM
        else:
            outcome = RECLASSIFIED if self._true_kind(i) != m.book.kind[i] else CONFIRMED
        self.outcome[i] = sortie[4] = outcome
        if sec.mode == "hold":
            self.hold[i] = env.now - t0
        m.log.add(env.now, DRONE_REPORTED, i, -1, {"outcome": outcome})
        if outcome == FALSE_ALARM and sec.mode == "recall":
            self._recall(i)
        elif outcome == FALSE_ALARM:
            self._close(i)
        elif sec.mode == "hold":  # the held decision, now, with the plan of the type seen
            if outcome == RECLASSIFIED:
                self._reclassify(i)
            m.dispatch.decide(i, env.now)
        yield env.timeout(fly)
        used = 2 * fly + sec.verify
        del self.in_air[key]
        self.rows.append((d, i, t_launch, t_arrive, env.now, outcome, sec.endurance - used))
        self.ready_at[d] = env.now + sec.recharge * used / sec.endurance

    def _true_kind(self, i: int) -> int:
        book = self.model.book
        return int(self.true_kind[i]) if i < book.stream.n else book.kind[i]

    def _reclassify(self, i: int) -> None:
        """The drone saw another type than the caller said: the incident becomes it. Mutates the book."""
        book, k = self.model.book, self._true_kind(i)
        book.kind[i] = k
        book.stream.kind[i] = k  # the incidents table's kind: the type dispatched

    def _recall(self, i: int) -> None:
        """A false alarm found after units went: nothing more is needed, units on their way turn back.

        Units already on scene leave at once (a false alarm has no work). Mutates the
        book, the fleet and the queues (through ``DispatchCentre.recall``).
        """
        m = self.model
        book, dispatch = m.book, m.dispatch
        if book.status[i] != OPEN:
            return
        n_caps = book.n_caps
        book.need[i * n_caps:(i + 1) * n_caps] = [0] * n_caps  # the queues skip what is not needed
        book.need_total[i] = 0
        going = [unit.index for unit in m.fleet.units if unit.job == i and dispatch.en_route(unit.index)]
        for u in going:
            dispatch.recall(u, "false alarm (drone)", requeue=False)
        self.recalled[i] = self.recalled.get(i, 0) + len(going)
        if book.active[i] == 0 and book.status[i] == OPEN:  # nobody left there: close it now
            self._close(i)

    def _close(self, i: int) -> None:
        """Close false alarm ``i`` with no unit sent. Mutates the book."""
        m = self.model
        if m.book.status[i] != OPEN:  # the caller hung up meanwhile: nothing to close
            return
        m.book.status[i] = RESOLVED
        m.log.add(m.env.now, FALSE_ALARM_CLOSED, i, -1)
        m.log.add(m.env.now, EventKind.INCIDENT_CLEARED, i, -1)

    # -- results ---------------------------------------------------------------------------
    def _false_ids(self) -> list[int]:
        sensors = self.model.components.get("sensors")
        return sorted(self.false | set(getattr(sensors, "false_alarms", ())))

    def incident_columns(self, ids: np.ndarray) -> dict[str, Any]:
        """Columns ``false_alarm``, ``true_kind``, ``wrong_plan``, ``drone_outcome``, ``drone_hold_min``.

        ``wrong_plan``: dispatched as another type than it is; ``drone_outcome`` "" when no
        drone flew; ``drone_hold_min`` NaN when the decision was not held.
        """
        false = set(self._false_ids())
        idx = ids.tolist()
        book, names = self.model.book, self.model.world.type_names
        true = [self._true_kind(i) for i in idx]
        return {"false_alarm": np.array([i in false for i in idx], dtype=bool),
                "true_kind": np.array([names[k] for k in true], dtype=object),
                "wrong_plan": np.array([book.kind[i] != k for i, k in zip(idx, true, strict=True)],
                                       dtype=bool),
                "drone_outcome": np.array([self.outcome.get(i, "") for i in idx], dtype=object),
                "drone_hold_min": np.array([self.hold.get(i, math.nan) for i in idx], dtype=np.float64)}

    def tables(self) -> dict[str, dict[str, Any]]:
        """The ``drones`` table: one row per sortie, in the order the drones came back.

        Sorties still in the air when the run ends follow, in the order they took off,
        with NaN for what had not happened yet (``t_back_min``, ``battery_left_min``;
        ``t_launch_min`` and ``t_arrive_min`` too, before launch or arrival) and
        ``outcome`` "" before the report.
        """
        flying = [(d, i, launched, over, math.nan, outcome, math.nan)
                  for d, i, launched, over, outcome in self.in_air.values()]
        rows = self.rows + flying
        cols = list(zip(*rows, strict=True)) if rows else [()] * 7
        return {"drones": {
            "drone": np.array([self.drone_names[d] for d in cols[0]], dtype=object),
            "incident_id": np.array(cols[1], dtype=np.int64),
            "t_launch_min": np.array(cols[2], dtype=np.float64),
            "t_arrive_min": np.array(cols[3], dtype=np.float64),
            "t_back_min": np.array(cols[4], dtype=np.float64),
            "outcome": np.array(cols[5], dtype=object),
            "battery_left_min": np.array(cols[6], dtype=np.float64)}}

    def summary(self) -> dict[str, Any]:
        """Sorties, false alarms (all, caught), wasted and saved dispatches, mean hold of confirmed.

        Every figure counts the incidents called in the measured window (from the
        warm-up to the end of the run), as the sweep metrics do: ``wasted_dispatches``,
        ``false_alarms_caught`` and ``wrong_plans`` equal those of
        :func:`analysis.metrics.resource_metrics`. A sortie or a recalled unit counts
        with its incident; ``sorties`` counts those that reported. The ``drones`` table
        lists every sortie of the run, those still in the air at its end included.
        """
        m = self.model
        book, wanted = m.book, m.dispatch.wanted_total
        counted = book.called_between(m.world.warmup_min, m.until)
        false = [i for i in self._false_ids() if i < book.n and counted[i]]
        flown = {i: o for i, o in self.outcome.items() if counted[i]}
        caught = [i for i, o in flown.items() if o == FALSE_ALARM]
        held = [h for i, h in self.hold.items() if counted[i] and self.outcome[i] == CONFIRMED]
        called = np.flatnonzero(counted[:book.stream.n]).tolist()  # raised incidents are never misreported
        wrong = sum(int(self.true_kind[i]) != book.kind[i] for i in called)
        return {"sorties": len(flown), "false_alarms": len(false), "false_alarms_caught": len(caught),
                "reclassified": sum(o == RECLASSIFIED for o in flown.values()), "wrong_plans": wrong,
                "wasted_dispatches": int(sum(book.n_assigned[i] for i in false)),
                "dispatches_saved": int(sum(wanted[book.kind[i]] for i in caught))
                if self.section.mode == "hold" else 0,
                "units_recalled": sum(n for i, n in self.recalled.items() if counted[i]),
                "mean_hold_confirmed_min": float(np.mean(held)) if held else math.nan}


def _check(world: Any, section: DronesSection, source: str | None) -> tuple[np.ndarray, ...]:
    """Per incident type: verifiable (bool), false-alarm share (float), and the misreport matrix.

    ``truth[k, j]``: probability that a call reported as type ``k`` is of type ``j``
    (rows sum to 1; the identity when nothing is misreported).

    Raises
    ------
    InputError
        Naming ``components.drones.<field>``.
    """
    base, names = "components.drones", list(world.type_names)

    def kind(name: str, path: str) -> int:
        return incident_kind(world, name, source, path)

    verifiable = np.zeros(len(names), dtype=bool)
    for k, name in enumerate(section.verifiable):
        verifiable[kind(name, f"{base}.verifiable[{k}]")] = True
    share = np.zeros(len(names))
    for name, p in section.false_alarm_share.items():
        if not 0 <= p <= 1:
            raise InputError(f"a share must be between 0 and 1 (got {p!r})", source,
                             f"{base}.false_alarm_share.{name}")
        share[kind(name, f"{base}.false_alarm_share.{name}")] = p
    truth = np.eye(len(names))
    for name, shares in section.misreported.items():
        k = kind(name, f"{base}.misreported.{name}")
        for other, p in shares.items():
            j = kind(other, f"{base}.misreported.{name}.{other}")
            if not 0 <= p <= 1 or j == k:
                raise InputError(f"a share of another type, between 0 and 1 (got {p!r})", source,
                                 f"{base}.misreported.{name}.{other}")
            truth[k, j] = p
        if truth[k].sum() - 1 > 1 + 1e-9:
            raise InputError("the shares sum to more than 1", source, f"{base}.misreported.{name}")
        truth[k, k] = 1 - (truth[k].sum() - 1)
    if section.ports:
        lo, hi = map_box(world, source, base)
        for name, port in section.ports.items():
            x, y = port.xy_km
            if not (lo[0] <= x <= hi[0] and lo[1] <= y <= hi[1]):
                raise InputError(f"{[x, y]} is outside the map (x {lo[0]:g} to {hi[0]:g} km, "
                                 f"y {lo[1]:g} to {hi[1]:g} km)", source, f"{base}.ports.{name}.xy_km")
    return verifiable, share, truth


def map_box(world: Any, source: str | None, path: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """The map's extent in km: the bounding box of the district boundaries and the stations.

    Raises
    ------
    InputError
        On a travel-time matrix (no km), naming ``path``.
    """
    if world.geo.kind == "matrix":
        raise InputError("needs a map in km (coordinates or roads), not a travel-time matrix", source, path)
    pts = [np.asarray(b, dtype=np.float64) for b in world.district_boundaries if b is not None]
    travel = world.geo.for_run()
    pts.append(np.asarray(travel.xy(np.asarray(world.station_loc)), dtype=np.float64))
    allp = np.concatenate(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    return (float(lo[0]), float(lo[1])), (float(hi[0]), float(hi[1]))

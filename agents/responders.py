"""Responder units: Mesa agents whose lifecycle is one long-lived SimPy process.

Lifecycle: available at its post (its station) -> dispatched -> [turnout] ->
en route -> on scene -> [transporting -> at hospital -> handover] ->
returning -> available. A returning unit may be dispatched again from where
it is (when the scenario's ``policy.redispatch_returning`` allows it); a unit
that frees up while calls wait takes the most urgent one straight from where
it is. Besides incidents a unit follows :class:`Order` s: relocate to a new
post (move-up), or go out of service (breakdown, crew change) until it is put
back. A unit's state is one of :data:`STATE_NAMES` at any time.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import simpy

from sim.eventlog import EventKind as K
from sim.eventlog import key_of, register_kind

#: Events of units leaving and rejoining service and of relocations (detail: reason, destination).
UNIT_OUT_OF_SERVICE = register_kind("unit_out_of_service")
UNIT_IN_SERVICE = register_kind("unit_in_service")
UNIT_RELOCATING = register_kind("unit_relocating")

#: The engine's unit states; a unit is in exactly one at any time (``Fleet.state``).
#: (``SETTING_OFF``: ordered to relocate, until its process sets off in the same instant; not
#: eligible, so that no dispatch decision of that instant books it in between.)
AT_STATION, RETURNING, BUSY, OUT_OF_SERVICE, RELOCATING, SETTING_OFF = 0, 1, 2, 3, 4, 5
#: State names by code (the open set: components add theirs with :func:`register_state`).
STATE_NAMES: list[str] = ["at_station", "returning", "busy", "out_of_service", "relocating", "setting_off"]
#: Whether a unit in each state may be sent: True, False or "moving" (when units on the move
#: may be redispatched, the scenario's ``policy.redispatch_returning``).
_STATE_ELIGIBLE: list[bool | str] = [True, "moving", False, False, "moving", False]


def register_state(name: str, eligible: bool | str = False) -> int:
    """Add a unit state (a component's: at a depot, airborne, ...); returns its code. Idempotent.

    Parameters
    ----------
    name : str
        snake_case name, shown in logs and docs.
    eligible : bool or "moving"
        Whether a unit in this state may be dispatched ("moving": like a unit
        on its way home, only when the scenario lets moving units be redispatched;
        such a unit is dispatched from where it is on its trip).
    """
    if name in STATE_NAMES:
        return STATE_NAMES.index(name)
    if eligible not in (True, False, "moving"):
        raise ValueError(f"eligible must be True, False or 'moving', got {eligible!r}")
    STATE_NAMES.append(name)
    _STATE_ELIGIBLE.append(eligible)
    return len(STATE_NAMES) - 1


class Order:
    """An order for a unit other than an incident: relocate, or go out of service.

    Parameters
    ----------
    kind : {"relocate", "off_duty"}
    dest : int
        Location to relocate to (its new post when ``post`` is true).
    """

    __slots__ = ("dest", "kind", "reason")

    def __init__(self, kind: str, dest: int = -1, reason: str = ""):
        self.kind, self.dest, self.reason = kind, dest, reason

    def __repr__(self) -> str:
        return f"Order({self.kind!r}, dest={self.dest}, reason={self.reason!r})"


class Fleet:
    """State of all units, plus their agents.

    ``status`` (int8 array, mirrored by the list ``state`` for scalar reads),
    ``eligible`` (the availability mask the choice kernel reads) and ``loc``
    are arrays so that choosing units is one kernel pass. ``free_count[c]``
    counts eligible units with capability ``c``; ``moving`` holds the units
    on a trip that may be cut short (home, or to a new post), with the trip's
    start in ``move_from``, ``move_to`` and ``move_t0``. ``post`` is where
    each unit waits when idle (its home station until it is relocated).

    Parameters
    ----------
    model : agents.model.Simulation
    """

    def __init__(self, model: mesa.Model):
        w = model.world
        self.model = model
        n = w.n_units
        self.status = np.zeros(n, dtype=np.int8)
        self.state = [AT_STATION] * n
        self.eligible = np.ones(n, dtype=np.bool_)
        self.home = np.asarray(w.station_loc[w.unit_station], dtype=np.int64)
        self.post = self.home.tolist()
        self.loc = self.home.copy()
        # the current trip of each moving unit (lists: read one at a time at every dispatch decision)
        self.move_from = self.home.tolist()
        self.move_to = self.home.tolist()
        self.move_t0 = [0.0] * n  # mirrored by the array trip_t0 below, which the choice kernel reads
        self.speed = w.unit_speed
        self._speed = w.unit_speed.tolist()
        self.turnout = w.unit_turnout
        self.redispatch = bool(w.redispatch_returning)
        #: per state code: may a unit in it be sent (read by :meth:`transition`)
        self._free = tuple(e is True or (e == "moving" and self.redispatch) for e in _STATE_ELIGIBLE)
        self.moving: set[int] = set()
        #: idle units away from their post because closed roads cut it off (they set off for it when a
        #: road change opens a way: ``DispatchCentre.roads_changed``)
        self.stranded: set[int] = set()
        #: reason for units to go out of service when their job ends (None: stays in service)
        self.off_duty: list[str | None] = [None] * n
        self.caps = [np.flatnonzero(row).tolist() for row in w.unit_caps]
        self.cap_units = [np.flatnonzero(w.unit_caps[:, c]) for c in range(w.unit_caps.shape[1])]
        self._has_cap = w.unit_caps.tolist()  # [unit][capability]: scalar reads in refresh_moving
        # moving units' positions as last asked, and the elapsed minutes up to which they hold
        self._where = self.home.tolist()
        self._until = [-math.inf] * n
        # trips for the choice kernel, which places units on a trip itself (candidates only): whether
        # on one, since when, its ends, and its route, which the kernel reads once (``route_len`` 0: not yet)
        self.on_trip = np.zeros(n, dtype=np.bool_)
        self.trip_t0 = np.zeros(n)
        self.trip_from = self.home.copy()  # mirror the lists move_from and move_to, as trip_t0 does move_t0
        self.trip_to = self.home.copy()
        self.route_len = np.zeros(n, dtype=np.int64)
        self.route_nodes = np.zeros((n, 16), dtype=np.int64)
        self.route_cum = np.zeros((n, 16))
        #: trip recorder ``trace(u, here, dest, now)`` called as each trip of a unit sets off (None: off,
        #: as in every run but an animated replay, sim/replay.py); set it before the run starts
        self.trace = None
        self.exists = w.unit_caps.any(axis=0).tolist()
        self.free_count = w.unit_caps.sum(axis=0).tolist()
        self.units = [Unit(model, u) for u in range(n)]

    def transition(self, u: int, new: int) -> None:
        """Set unit ``u``'s state, keeping ``eligible`` and ``free_count`` right. Mutates the fleet."""
        free = self._free[new]
        if self._free[self.state[u]] != free:
            delta = 1 if free else -1
            for c in self.caps[u]:
                self.free_count[c] += delta
            self.eligible[u] = free
        self.state[u] = new
        self.status[u] = new

    def set_out(self, u: int, here: int, dest: int, now: float) -> None:
        """Unit ``u`` sets off from ``here`` to ``dest``, a trip that may be cut short. Mutates the fleet."""
        self.move_from[u] = int(here)
        self.move_to[u] = int(dest)
        self.move_t0[u] = now
        self._until[u] = -math.inf  # a new trip: its position is asked afresh
        self.moving.add(u)
        self.on_trip[u] = True
        self.trip_t0[u] = now
        self.trip_from[u] = here
        self.trip_to[u] = dest
        self.route_len[u] = 0
        if self.trace is not None:
            self.trace(u, here, dest, now)

    def end_trip(self, u: int) -> None:
        """Unit ``u``'s trip is over (arrived, or cut short). Mutates the fleet."""
        self.moving.discard(u)
        self.on_trip[u] = False

    def store_route(self, u: int) -> None:
        """Store moving unit ``u``'s route for the choice kernel, from the travel model. Mutates the fleet.

        For the routes the kernel cannot read itself: one longer than the table
        is wide (the table widens), or one that closed roads no longer join
        (the travel model answers from the roads without changes).
        """
        nodes, cum = self.model.travel.route_arrays(self.move_from[u], self.move_to[u])
        m = len(nodes)
        if m > self.route_nodes.shape[1]:  # a longer route than any before: widen the table
            width = max(m, 2 * self.route_nodes.shape[1])
            self.route_nodes = np.pad(self.route_nodes, ((0, 0), (0, width - self.route_nodes.shape[1])))
            self.route_cum = np.pad(self.route_cum, ((0, 0), (0, width - self.route_cum.shape[1])))
        self.route_nodes[u, :m] = nodes
        self.route_cum[u, :m] = cum
        self.route_len[u] = m

    def position_now(self, u: int) -> int:
        """Where moving unit ``u`` is now (its last node passed, on a road network)."""
        elapsed = (self.model.env.now - self.move_t0[u]) * self._speed[u]
        return self.model.travel.position(self.move_from[u], self.move_to[u], elapsed)

    def refresh_moving(self, c: int) -> list[int]:
        """Bring the ``loc`` of each moving unit with capability ``c`` up to now; return their locations.

        Used where the choice kernel cannot place units itself (plane
        geographies, road networks too large to hold every row, and the
        general ``select`` path), for the capability being filled (the others
        are placed when they are sent, :meth:`stop`). A unit's position changes
        only when it reaches the next node of its route, so it is asked of the
        travel model again only once its elapsed time passes the bound kept
        with it; the loop still visits every moving unit of the capability.
        """
        has, until, where = self._has_cap, self._until, self._where
        now, t0, speed = self.model.env.now, self.move_t0, self._speed
        units = [u for u in self.moving if has[u][c]]
        due = [u for u in units if (now - t0[u]) * speed[u] >= until[u]]
        if due:
            start, end = self.move_from, self.move_to
            found = self.model.travel.positions_until([(start[u], end[u], (now - t0[u]) * speed[u])
                                                       for u in due])
            for u, (here, bound) in zip(due, found, strict=True):
                where[u], until[u] = here, bound
            self.loc[due] = [here for here, _ in found]
        return [where[u] for u in units]

    def forget_positions(self) -> None:
        """Ask every moving unit's position afresh (after a road change: routes differ). Mutates the fleet."""
        self._until = [-math.inf] * len(self._until)
        self.route_len[:] = 0

    def stop(self, u: int) -> None:
        """Cut moving unit ``u``'s trip short where it is now. Mutates the fleet."""
        if u in self.moving:
            self.loc[u] = self.position_now(u)
            self.end_trip(u)

    # -- orders other than incidents ---------------------------------------------
    def relocate(self, u: int, dest: int) -> None:
        """Send idle or moving unit ``u`` to ``dest``, which becomes its post. Mutates the fleet.

        Raises
        ------
        ValueError
            If the unit is busy or out of service.
        """
        if self.state[u] not in (AT_STATION, RETURNING, RELOCATING):
            raise ValueError(f"unit {u} is {STATE_NAMES[self.state[u]]}: only idle or moving units relocate")
        self.post[u] = int(dest)
        self.transition(u, SETTING_OFF)  # at once: the unit's process runs later in this instant
        self.units[u].give(Order("relocate", int(dest)))

    def take_out(self, u: int, reason: str) -> None:
        """Take unit ``u`` out of service now, or when its job ends if it is busy. Mutates the fleet."""
        state = self.state[u]
        if state == OUT_OF_SERVICE or self.off_duty[u] is not None:
            return
        self.off_duty[u] = reason
        if state != BUSY:
            self.transition(u, OUT_OF_SERVICE)
            self.model.log.add(self.model.env.now, UNIT_OUT_OF_SERVICE, -1, u, {"reason": reason})
            if state != SETTING_OFF:  # a unit setting off reads its state when it wakes
                self.units[u].give(Order("off_duty", reason=reason))

    def put_back(self, u: int) -> None:
        """Return unit ``u`` to service (at once if it is waiting at its post). Mutates the fleet."""
        if self.off_duty[u] is None:
            return
        self.off_duty[u] = None
        unit = self.units[u]
        if self.state[u] == OUT_OF_SERVICE and unit.back is not None:
            back, unit.back = unit.back, None
            back.succeed()


class Unit(mesa.Agent):
    """One responder unit (engine, ambulance, ...).

    The dispatch centre wakes an idle unit through ``_wake`` and diverts a
    returning one with ``process.interrupt(incident)``; everything else the
    unit does itself, in :meth:`_life`.

    Parameters
    ----------
    model : agents.model.Simulation
    index : int
        Index into ``world.unit_*``.
    """

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        w = model.world
        self.index = index
        self.speed = float(w.unit_speed[index])
        self.turnout = float(w.unit_turnout[index])
        self.transports = bool(w.unit_transports[index])
        self.job = self.cap = -1  # the incident it works for, and the capability it was sent for
        self.t_dispatch = self.t_arrive = self.t_left = self.travel = math.nan
        self.from_station = True
        self.back = None  # the event an out-of-service unit waits on at its post
        self._new_event = model.env.event
        self._wake = self._new_event()
        self.process = model.env.process(self._life())

    def _life(self):
        """The unit's whole life: wait, serve, go home or take the next call; forever.

        One generator per unit (no sub-generator per job), locals bound once
        and ``env.now`` read once per resumption keep the event loop lean;
        see benchmarks/engine_mmc.py.
        """
        m = self.model
        env, book, fleet, dispatch = m.env, m.book, m.fleet, m.dispatch
        travel, timeout, u, speed = m.travel, m.env.timeout, self.index, self.speed
        log_t, log_key, log_incident = m.log.appenders()
        add_assignment, redispatch = m.assignments.extend, fleet.redispatch
        post, off_duty, on_idle, on_arrival = fleet.post, fleet.off_duty, m.on_unit_idle, m.on_arrival
        trace = fleet.trace
        k_en_route, k_arrived, k_left, k_returning, k_available = (
            key_of(kind, u) for kind in (K.UNIT_EN_ROUTE, K.UNIT_ARRIVED, K.UNIT_LEFT_SCENE,
                                            K.UNIT_RETURNING, K.UNIT_AVAILABLE))
        here = post[u]
        incident = yield self._wake
        while True:
            if incident.__class__ is Order:  # rare: an order rather than an incident
                incident = yield from self._follow(incident)
                here = int(fleet.loc[u])
                continue
            i = incident
            # -- dispatched: turnout, drive, work on scene ---------------------------
            dest = book.loc[i]
            from_station = self.from_station  # else it goes on from ``here``
            if from_station and self.turnout > 0:
                try:
                    yield timeout(self.turnout)
                except simpy.Interrupt as stop:  # recalled or diverted (DispatchCentre.recall, divert)
                    incident, here = stop.cause, int(fleet.loc[u])
                    continue
                log_t(env.now)
                log_key(k_en_route)
                log_incident(i)
            trip = self.travel = travel.time(here, dest) / speed
            if trip > 0:
                if trip == math.inf:  # roads closed since it was chosen cut the scene off: taken off it
                    incident = yield from self._cannot_reach()
                    here = int(fleet.loc[u])
                    continue
                if trace is not None:
                    trace(u, here, dest, env.now)
                try:
                    yield timeout(trip)
                except simpy.Interrupt as stop:  # recalled or diverted: where it was met is in fleet.loc
                    incident, here = stop.cause, int(fleet.loc[u])
                    continue
            here = fleet.loc[u] = dest
            t_arrive = self.t_arrive = env.now
            log_t(t_arrive)
            log_key(k_arrived)
            log_incident(i)
            t_work = t_arrive
            if on_arrival:  # a component may hold the work back (material, verification...)
                for hook in on_arrival:
                    hold = hook(u, i)
                    if hold is not None:
                        yield hold
                t_work = env.now
            on_scene = book.on_scene[i]
            if on_scene > 0:
                yield timeout(on_scene)
                t_left = t_work + on_scene  # env.now, exactly: SimPy fires a timeout at now + delay
            else:
                t_left = t_work
            self.t_left = t_left
            log_t(t_left)
            log_key(k_left)
            log_incident(i)
            carry = self.transports and book.transport[i] and not book.transport_taken[i]
            if carry:
                book.transport_taken[i] = True
            dispatch.unit_left(i, t_left)
            hospital, now = -1, t_left  # no time passes unless it transports
            if carry:
                hospital = yield from self._transport(i, dest)
                here = m.hospitals[hospital].loc
                now = env.now
            add_assignment((i, u, self.t_dispatch, t_arrive, t_left, now, trip,
                            hospital, from_station))  # model.ASSIGNMENT_FIELDS
            # -- free again: out of service, next waiting call (straight from here), or home --
            if off_duty[u] is not None:
                incident = yield from self._off_duty()
                here = int(fleet.loc[u])
                continue
            if redispatch:
                incident = dispatch.unit_free(u, now)  # books the unit while still BUSY
                if incident >= 0:
                    continue
            home = post[u]
            trip = travel.time(here, home) / speed if here != home else 0.0
            if trip == math.inf:  # closed roads cut its post off: available where it is
                home, trip = here, 0.0
                fleet.stranded.add(u)
            if trip > 0:
                fleet.transition(u, RETURNING)
                fleet.set_out(u, here, home, now)
                log_t(now)
                log_key(k_returning)
                log_incident(-1)
                try:
                    yield timeout(trip)
                except simpy.Interrupt as diverted:
                    incident = diverted.cause
                    here = int(fleet.loc[u])  # where it was met (set by the dispatch centre)
                    continue
                finally:
                    fleet.end_trip(u)
                now = env.now
            here = fleet.loc[u] = home
            fleet.transition(u, AT_STATION)
            log_t(now)
            log_key(k_available)
            log_incident(-1)
            incident = -1 if redispatch else dispatch.unit_free(u, now)
            if incident < 0:
                wake = self._wake  # a hook may give the unit an order at once
                for hook in on_idle:
                    hook(u)
                incident = yield wake

    def _transport(self, i: int, scene: int):
        m = self.model
        env, u = m.env, self.index
        h = m.nearest_hospital(scene)
        hospital = m.hospitals[h]
        m.book.hospital[i] = h
        trip = m.travel.time(scene, hospital.loc) / self.speed
        while trip == math.inf:  # closed roads cut every hospital off: wait on scene for a road change
            yield m.dispatch.roads_event
            h = m.nearest_hospital(scene)
            hospital = m.hospitals[h]
            m.book.hospital[i] = h
            trip = m.travel.time(scene, hospital.loc) / self.speed
        if trip > 0:
            if m.fleet.trace is not None:
                m.fleet.trace(u, scene, hospital.loc, env.now)
            yield env.timeout(trip)
        m.fleet.loc[u] = hospital.loc
        where = m.detail(("hospital", h), lambda: {"hospital": m.world.hospital_names[h]})
        m.log.add(env.now, K.UNIT_AT_HOSPITAL, i, u, where)
        t_queue = env.now
        if not (trip > 0 and hospital.take_now()):  # (trip > 0: its own timeout woke it)
            yield hospital.request()
        hospital.wait_min += env.now - t_queue
        m.log.add(env.now, K.HANDOVER_STARTED, i, u, where)
        handover = m.book.handover[i]
        if handover > 0:
            yield env.timeout(handover)
        hospital.n_handovers += 1
        m.log.add(env.now, K.HANDOVER_DONE, i, u, where)
        hospital.release()
        return h

    def _follow(self, order: Order):
        """Carry out ``order`` (a SimPy sub-process); returns the next incident or order."""
        if order.kind == "off_duty" or self.model.fleet.state[self.index] == OUT_OF_SERVICE:
            return (yield from self._off_duty())  # (taken out while setting off: to its new post)
        if order.kind == "recall":
            return (yield from self._recalled())
        m, u = self.model, self.index
        env, fleet = m.env, m.fleet
        here, dest = int(fleet.loc[u]), order.dest
        fleet.transition(u, RELOCATING)
        m.log.add(env.now, UNIT_RELOCATING, -1, u, m.detail(("to", dest), lambda: {"to": m.place_name(dest)}))
        dest, trip = self._way_to_post(here, dest)
        return (yield from self._drive_to_post(here, dest, trip))

    def _recalled(self):
        """Taken off its assignment before arriving (a SimPy sub-process); returns the next incident or order.

        Like a unit whose job ended: out of service if due, else the most urgent
        waiting call it may serve, else back to its post (a trip that may be cut short).
        """
        m, u = self.model, self.index
        env, fleet = m.env, m.fleet
        if fleet.off_duty[u] is not None:
            return (yield from self._off_duty())
        incident = m.dispatch.unit_free(u, env.now)  # books the unit while still BUSY
        if incident >= 0:
            return incident
        here = int(fleet.loc[u])
        home, trip = self._way_to_post(here, fleet.post[u])
        if trip > 0:
            fleet.transition(u, RETURNING)
            m.log.add(env.now, K.UNIT_RETURNING, -1, u)
        return (yield from self._drive_to_post(here, home, trip))

    def _drive_to_post(self, here: int, post: int, trip: float):
        """Drive ``trip`` minutes to ``post`` and wait there for work (a SimPy sub-process).

        The drive may be cut short by a new incident or order (``simpy.Interrupt``),
        which is returned; where the unit was met is in ``fleet.loc`` (set by the interrupter).
        """
        m, u = self.model, self.index
        env, fleet = m.env, m.fleet
        if trip > 0:
            fleet.set_out(u, here, post, env.now)
            try:
                yield env.timeout(trip)
            except simpy.Interrupt as diverted:
                return diverted.cause
            finally:
                fleet.end_trip(u)
        fleet.loc[u] = post
        fleet.transition(u, AT_STATION)
        m.log.add(env.now, K.UNIT_AVAILABLE, -1, u)
        return (yield from self._await_work())

    def _off_duty(self):
        """Out of service: drive to the post, wait to be put back (a SimPy sub-process)."""
        m, u = self.model, self.index
        env, fleet = m.env, m.fleet
        if fleet.state[u] != OUT_OF_SERVICE:  # its job just ended
            fleet.transition(u, OUT_OF_SERVICE)
            m.log.add(env.now, UNIT_OUT_OF_SERVICE, -1, u, {"reason": fleet.off_duty[u]})
        here = int(fleet.loc[u])
        dest, trip = self._way_to_post(here, fleet.post[u])
        if trip > 0:  # not interruptible: nobody sends a unit out of service
            if fleet.trace is not None:
                fleet.trace(u, here, dest, env.now)
            yield env.timeout(trip)
        fleet.loc[u] = dest
        if fleet.off_duty[u] is not None:
            self.back = self._new_event()
            yield self.back
        fleet.transition(u, AT_STATION)
        m.log.add(env.now, UNIT_IN_SERVICE, -1, u)
        return (yield from self._await_work())

    def _way_to_post(self, here: int, post: int) -> tuple[int, float]:
        """Where the unit heading for ``post`` ends up and the trip's minutes.

        ``post`` and the trip, or, when closed roads cut the post off, ``here`` and no
        trip: the unit stays, stranded (it sets off when a road change opens a way).
        Mutates ``fleet.stranded``.
        """
        trip = self.model.travel.time(here, post) / self.speed if here != post else 0.0
        if trip == math.inf:
            self.model.fleet.stranded.add(self.index)
            return here, 0.0
        return post, trip

    def _cannot_reach(self):
        """Dispatched but cut off from its scene (a SimPy sub-process): off the job, then as if recalled."""
        self.model.dispatch.cannot_reach(self.index)
        return (yield from self._recalled())

    def _await_work(self):
        """Idle at the post: the most urgent waiting incident it can serve, else wait to be woken."""
        incident = self.model.dispatch.unit_free(self.index, self.model.env.now)
        if incident >= 0:
            return incident
        wake = self._wake  # a hook may give the unit an order at once
        for hook in self.model.on_unit_idle:
            hook(self.index)
        return (yield wake)

    def give(self, order: Order) -> None:
        """Hand an idle or moving unit an :class:`Order` (wakes it, or cuts its trip short)."""
        fleet, u = self.model.fleet, self.index
        if u in fleet.moving:
            fleet.stop(u)
            self.process.interrupt(order)
        else:
            wake, self._wake = self._wake, self._new_event()
            wake.succeed(order)

    def send(self, i: int) -> None:
        """Start incident ``i``: wake the idle unit or divert the returning one."""
        if self.from_station:
            wake, self._wake = self._wake, self._new_event()
            wake.succeed(i)
        else:
            self.process.interrupt(i)

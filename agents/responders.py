"""Responder units: Mesa agents whose lifecycle is one long-lived SimPy process.

Lifecycle: available at station -> dispatched -> [turnout] -> en route ->
on scene -> [transporting -> at hospital -> handover] -> returning ->
available. A returning unit may be dispatched again from where it is (when
the scenario's ``policy.redispatch_returning`` allows it); a unit that frees
up while calls wait takes the most urgent one straight from where it is.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import simpy

from sim.eventlog import CODE, key
from sim.eventlog import EventKind as K

AT_STATION, RETURNING, BUSY = 0, 1, 2


class Fleet:
    """State of all units, plus their agents.

    ``status`` (int8 array, mirrored by the list ``state`` for scalar reads)
    and ``loc`` are arrays so that choosing units is one kernel pass.
    ``free_count[c]`` counts dispatchable units with capability ``c``;
    ``returning`` holds the units on their way home.

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
        self.home = np.asarray(w.station_loc[w.unit_station], dtype=np.int64)
        self.loc = self.home.copy()
        self.ret_from = self.home.copy()
        self.ret_t0 = np.zeros(n)
        self.speed = w.unit_speed
        self.turnout = w.unit_turnout
        self.redispatch = bool(w.redispatch_returning)
        self.max_status = RETURNING if self.redispatch else AT_STATION
        self._free = (True, self.redispatch, False)
        self.returning: set[int] = set()
        self.caps = [np.flatnonzero(row).tolist() for row in w.unit_caps]
        self.cap_units = [np.flatnonzero(w.unit_caps[:, c]) for c in range(w.unit_caps.shape[1])]
        self.exists = w.unit_caps.any(axis=0).tolist()
        self.free_count = w.unit_caps.sum(axis=0).tolist()
        self.units = [Unit(model, u) for u in range(n)]

    def transition(self, u: int, new: int) -> None:
        """Set unit ``u``'s status, keeping ``free_count`` right. Mutates the fleet."""
        was = self._free[self.state[u]]
        if was != self._free[new]:
            delta = -1 if was else 1
            for c in self.caps[u]:
                self.free_count[c] += delta
        self.state[u] = new
        self.status[u] = new

    def position_now(self, u: int) -> int:
        """Where returning unit ``u`` is now (its last node passed, on a road network)."""
        elapsed = (self.model.env.now - self.ret_t0[u]) * self.speed[u]
        return self.model.travel.position(int(self.ret_from[u]), int(self.home[u]), elapsed)

    def refresh_returning(self) -> list[int]:
        """Move each returning unit's ``loc`` to where it is now; return their locations."""
        locs = []
        for u in self.returning:
            self.loc[u] = self.position_now(u)
            locs.append(int(self.loc[u]))
        return locs


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
        self.job = -1
        self.t_dispatch = self.t_arrive = self.t_left = self.travel = math.nan
        self.from_station = True
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
        k_en_route, k_arrived, k_left, k_returning, k_available = (
            key(CODE[kind], u) for kind in (K.UNIT_EN_ROUTE, K.UNIT_ARRIVED, K.UNIT_LEFT_SCENE,
                                            K.UNIT_RETURNING, K.UNIT_AVAILABLE))
        home = int(fleet.home[u])
        here = home
        incident = yield self._wake
        while True:
            i = incident
            # -- dispatched: turnout, drive, work on scene ---------------------------
            dest = book.loc[i]
            from_station = self.from_station  # else it goes on from ``here``
            if from_station and self.turnout > 0:
                yield timeout(self.turnout)
                log_t(env.now)
                log_key(k_en_route)
                log_incident(i)
            trip = self.travel = travel.time(here, dest) / speed
            if trip > 0:
                if trip == math.inf:
                    raise RuntimeError(f"unit {m.world.unit_names[u]} cannot reach incident {i}")
                yield timeout(trip)
            here = fleet.loc[u] = dest
            t_arrive = self.t_arrive = env.now
            log_t(t_arrive)
            log_key(k_arrived)
            log_incident(i)
            on_scene = book.on_scene[i]
            if on_scene > 0:
                yield timeout(on_scene)
                t_left = t_arrive + on_scene  # env.now, exactly: SimPy fires a timeout at now + delay
            else:
                t_left = t_arrive
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
            # -- free again: next waiting call (straight from here), or home ----------
            if redispatch:
                incident = dispatch.unit_free(u, now)  # books the unit while still BUSY
                if incident >= 0:
                    continue
            trip = travel.time(here, home) / speed if here != home else 0.0
            if trip > 0:
                fleet.transition(u, RETURNING)
                fleet.ret_from[u] = here
                fleet.ret_t0[u] = now
                fleet.returning.add(u)
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
                    fleet.returning.discard(u)
                now = env.now
            here = fleet.loc[u] = home
            fleet.transition(u, AT_STATION)
            log_t(now)
            log_key(k_available)
            log_incident(-1)
            incident = -1 if redispatch else dispatch.unit_free(u, now)
            if incident < 0:
                incident = yield self._wake

    def _transport(self, i: int, scene: int):
        m = self.model
        env, u = m.env, self.index
        h = m.nearest_hospital(scene)
        hospital = m.hospitals[h]
        m.book.hospital[i] = h
        trip = m.travel.time(scene, hospital.loc) / self.speed
        if trip > 0:
            yield env.timeout(trip)
        m.fleet.loc[u] = hospital.loc
        where = m.detail(("hospital", h), lambda: {"hospital": m.world.hospital_names[h]})
        m.log.add(env.now, K.UNIT_AT_HOSPITAL, i, u, where)
        t_queue = env.now
        with hospital.bays.request() as bay:
            yield bay
            hospital.wait_min += env.now - t_queue
            m.log.add(env.now, K.HANDOVER_STARTED, i, u, where)
            handover = m.book.handover[i]
            if handover > 0:
                yield env.timeout(handover)
            hospital.n_handovers += 1
            m.log.add(env.now, K.HANDOVER_DONE, i, u, where)
        return h

    def send(self, i: int) -> None:
        """Start incident ``i``: wake the idle unit or divert the returning one."""
        if self.from_station:
            wake, self._wake = self._wake, self._new_event()
            wake.succeed(i)
        else:
            self.process.interrupt(i)

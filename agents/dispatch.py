"""The dispatch decision: which units go, and the incidents waiting for units.

Besides deciding, the dispatch centre offers components two primitives on
units already under way: :meth:`DispatchCentre.recall` takes a unit off its
assignment before it arrives (a false alarm, a unit needed elsewhere), and
:meth:`DispatchCentre.divert` sends it to another incident instead. A
component may also narrow who may go (``choose``, ``may_serve``: the
escalation component's tiers) or be asked when a need would wait
(``on_short``: the diversion component).
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

import mesa
import numpy as np

from agents.incidents import OPEN, RESOLVED, UNSERVED
from agents.policies.dispatch import Candidates
from agents.responders import AT_STATION, BUSY, OUT_OF_SERVICE, Order
from sim.eventlog import EventKind as K
from sim.eventlog import key_of, register_kind
from sim.kernels.select import _choose_kernel  # engine-owned arrays: valid by construction

NAN = math.nan

# log keys of the events without a unit (see sim.eventlog.key)
_QUEUED, _CLEARED = key_of(K.INCIDENT_QUEUED), key_of(K.INCIDENT_CLEARED)

#: A unit taken off its assignment before arriving (detail: ``{"from": incident, "reason": text}``)
UNIT_RECALLED = register_kind("unit_recalled")
#: A unit taken off a lower-priority assignment and sent to another incident (the row's incident;
#: detail ``{"from": old incident, "to": new incident}``)
UNIT_DIVERTED = register_kind("unit_diverted")
#: An incident waits because a unit free to serve it cannot reach its scene: closed roads cut it off
#: (logged once per incident; detail ``{"waiting_for": {capability: count}}``)
INCIDENT_UNREACHABLE = register_kind("incident_unreachable")


class DispatchCentre(mesa.Agent):
    """Decides which units go, and keeps incidents waiting for units.

    Call centres (:mod:`agents.calls`) hand it each processed call through
    :meth:`decide`; the dispatch policy picks units for each required
    capability among those that can go (the fleet's ``eligible`` mask).
    What cannot be filled waits in one queue per capability, ordered by
    priority (1 first) and then call time; a unit that becomes free takes the
    head of the queues it can serve.

    Parameters
    ----------
    model : agents.model.Simulation
    policy : object with ``select(candidates, k)``
    """

    def __init__(self, model: mesa.Model, policy):
        super().__init__(model)
        w = model.world
        self.policy = policy
        self.queues: list[list[tuple[int, int]]] = [[] for _ in w.capability_names]
        self.max_queue = w.type_max_queue.tolist()
        self.preference = getattr(policy, "preference", None)
        exists = model.fleet.exists
        #: per incident type, the required (capability, count) pairs that some unit of the fleet has
        self.wanted = [[(c, int(n)) for c, n in enumerate(row) if n and exists[c]] for row in w.type_required]
        #: per incident type, how many units it wants in all (of those capabilities)
        self.wanted_total = [sum(n for _, n in want) for want in self.wanted]
        #: per incident type, the number of required units of capabilities no unit has
        self.lacking = [int(sum(n for c, n in enumerate(row) if n and not exists[c]))
                        for row in w.type_required]
        self.n_caps = model.book.n_caps
        self._out = np.empty(max(1, int(w.type_required.max(initial=1))), dtype=np.int64)
        self._out_min = np.empty(len(self._out))
        # the model's parts, bound once: the hot paths below run once or twice per call
        self.book, self.fleet, self.env, self.log = model.book, model.fleet, model.env, model.log
        self._log_t, self._log_key, self._log_incident = model.log.appenders()
        self._key_dispatched = [key_of(K.UNIT_DISPATCHED, u) for u in range(w.n_units)]
        self._travel = model.travel
        self._rows_for, self._trip_tables = model.travel.rows_for, model.travel.trip_tables
        n = w.n_units  # the kernel's trip arguments when it is to read ``loc`` for every unit
        self._no_trips = (np.zeros(n, dtype=np.bool_), np.zeros(n), 0.0, np.zeros(n, dtype=np.int64),
                          np.zeros(n, dtype=np.int64), np.zeros((1, 1), dtype=np.int32))
        self._no_routes = (np.zeros((n, 1), dtype=np.int64), np.zeros((n, 1)), np.zeros(n, dtype=np.int64))
        self._on_decided = model.on_decided
        self._before_decide = model.before_decide
        self._detail_text = model.detail.get
        #: ``choose(i, c, k) -> units``: who goes for capability ``c`` of incident ``i`` (a component
        #: such as escalation replaces it; it may call :meth:`choose_among` with an eligibility mask)
        self.choose = self._choose
        #: ``may_serve(u, i, c) -> bool``: may free unit ``u`` take waiting incident ``i`` for capability
        #: ``c`` (None: any)
        self.may_serve = None
        #: ``on_short(i, c, now)``: called when capability ``c`` of incident ``i`` would wait (None: none)
        self.on_short = None
        #: ``levels(units, incidents) -> int8 array``: escalation levels of assignments (None: by tiers
        #: and districts, :func:`default_levels`)
        self.levels = None
        #: (incident, unit) pairs of the assignments a unit was diverted to
        self.diverted: set[tuple[int, int]] = set()
        #: waiting incidents that closed roads cut off from the free units (tried again at each road change)
        self.cut_off: set[int] = set()
        self._reported: set[int] = set()  # incidents logged ``incident_unreachable`` (once each)
        self._recheck_due = False
        #: an event that succeeds at the next road change (a unit with no way out waits on it)
        self.roads_event = model.env.event()

    # -- dispatching ------------------------------------------------------------
    def decide(self, i: int, now: float) -> None:
        """Incident ``i``'s call is processed: send units for what it needs, queue what is missing."""
        if self._before_decide:
            for hook in self._before_decide:
                if hook(i, now):
                    return
        book, free_count = self.book, self.fleet.free_count
        kind = book.kind[i]
        need, base, wanted = book.need, i * self.n_caps, self.wanted[kind]
        for c, n in wanted:
            need[base + c] = n
        if self.lacking[kind]:
            book.shortfall[i] += self.lacking[kind]
        total = book.need_total[i] = self.wanted_total[kind]
        for c, n in wanted:
            if free_count[c] > 0:
                for u in self.choose(i, c, n):
                    self._send(u, i, c, now)
        if self.on_short is not None and book.need_total[i]:
            for c, _ in wanted:
                if need[base + c]:
                    self.on_short(i, c, now)
        if book.need_total[i]:
            self._enqueue(i, now)
        elif total == 0 and book.n_assigned[i] == 0:
            self._unserved(i, "no unit in the fleet has the required capability")
        for hook in self._on_decided:
            hook(i)

    def _choose(self, i: int, c: int, k: int, eligible: np.ndarray | None = None) -> list[int]:
        """Units to send to ``i`` for capability ``c`` (up to ``k``), best first.

        ``eligible`` (bool[n_units], default the fleet's mask) narrows who may go; after the
        call ``self._out_min`` holds the chosen units' expected minutes to the scene.
        """
        fleet, book = self.fleet, self.book
        if eligible is None:
            eligible = fleet.eligible
        if self.preference is not None:
            tables = self._trip_tables()
            if tables is not None:  # the kernel places units on a trip: the candidates only
                row_of, rows, pred, reach = tables
                trips = (fleet.on_trip, fleet.trip_t0, self.env.now, fleet.trip_from, fleet.trip_to, pred,
                         reach)
                routes = (fleet.route_nodes, fleet.route_cum, fleet.route_len)
            else:
                locs = fleet.refresh_moving(c) if fleet.moving else ()
                if fleet.stranded:  # idle away from their posts: rows where they stand
                    locs = [*locs, *fleet.loc[sorted(fleet.stranded)].tolist()]
                found = self._rows_for(locs)
                if found is None:
                    return self._choose_general(i, c, k, eligible)
                row_of, rows = found
                trips, routes = (*self._no_trips, rows), self._no_routes
            out, group = self._out, self.preference(book.district[i], book.kind[i], book.priority[i])
            while True:
                n = _choose_kernel(fleet.cap_units[c], fleet.status, eligible, fleet.loc, *trips, *routes,
                                   row_of, rows, book.loc[i], fleet.speed, fleet.turnout, group, k, out,
                                   self._out_min)
                if n >= 0:
                    return [int(out[0])] if n == 1 else out[:n].tolist()  # one unit: no slice object
                fleet.store_route(-2 - n)  # a route the kernel could not read itself (rare)
                routes = (fleet.route_nodes, fleet.route_cum, fleet.route_len)
        return self._choose_general(i, c, k, eligible)

    def choose_among(self, i: int, c: int, k: int, eligible: np.ndarray) -> tuple[list[int], list[float]]:
        """The policy's choice of up to ``k`` units for capability ``c`` of incident ``i`` among ``eligible``.

        Parameters
        ----------
        i, c, k : int
            Incident, capability, how many.
        eligible : ndarray of bool, shape (n_units,)
            Who may go (a component passes the fleet's ``eligible`` mask narrowed by its rules).

        Returns
        -------
        units : list of int
            Best first; nothing is booked.
        minutes : list of float
            Their expected minutes to the scene (turnout plus travel).
        """
        units = self._choose(i, c, k, eligible)
        return units, self._out_min[:len(units)].tolist()

    def _choose_general(self, i: int, c: int, k: int, eligible: np.ndarray | None = None) -> list[int]:
        """Build :class:`Candidates` and ask the policy's ``select``."""
        m = self.model
        fleet, book = m.fleet, m.book
        if fleet.moving:
            fleet.refresh_moving(c)
        units = fleet.cap_units[c]
        ok = (fleet.eligible if eligible is None else eligible)[units]
        units = units[ok]
        status = fleet.status[units]
        if units.size == 0:
            return []
        minutes = m.travel.times_to(fleet.loc[units], book.loc[i]) / fleet.speed[units]
        minutes += np.where(status == AT_STATION, fleet.turnout[units], 0.0)
        reach = np.isfinite(minutes)
        if not reach.all():  # a unit that cannot reach the scene (closed roads) is no candidate
            units, status, minutes = units[reach], status[reach], minutes[reach]
            if units.size == 0:
                return []
        cands = Candidates(units, minutes, i, book.district[i], book.priority[i], book.kind[i], c)
        picked = np.asarray(self.policy.select(cands, k), dtype=np.int64)
        if picked.size > k or len(set(picked.tolist())) != picked.size:
            raise RuntimeError(f"dispatch policy returned {picked.tolist()} for k={k}")
        self._out_min[:picked.size] = minutes[picked]
        return units[picked].tolist()

    def _book(self, u: int, i: int, c: int, now: float) -> None:
        """Record that unit ``u`` goes to incident ``i`` for capability ``c``. Mutates state."""
        book, fleet = self.book, self.fleet
        unit = fleet.units[u]
        book.need[i * self.n_caps + c] -= 1
        book.need_total[i] -= 1
        book.n_assigned[i] += 1
        book.active[i] += 1
        unit.job, unit.cap, unit.t_dispatch = i, c, now
        unit.t_arrive = unit.t_left = unit.travel = NAN
        if fleet.state[u] != BUSY:  # a unit booked as it frees up stays busy
            fleet.transition(u, BUSY)
        self._log_t(now)
        self._log_key(self._key_dispatched[u])
        self._log_incident(i)

    def _send(self, u: int, i: int, c: int, now: float) -> None:
        fleet = self.fleet
        unit = fleet.units[u]
        unit.from_station = fleet.state[u] == AT_STATION
        if not unit.from_station:
            fleet.stop(u)
        self._book(u, i, c, now)
        unit.send(i)

    def _enqueue(self, i: int, now: float) -> None:
        book = self.book
        key = (book.priority[i], i)
        need = book.need_of(i)
        for c, n in enumerate(need):
            if n:
                heappush(self.queues[c], key)
        if not book.queued[i]:
            book.queued[i] = True
            detail_key = ("waiting", *need)
            waiting = self._detail_text(detail_key)
            if waiting is None:
                caps = self.model.world.capability_names
                waiting = self.model.detail(detail_key, lambda: {
                    "waiting_for": {caps[c]: n for c, n in enumerate(need) if n}})
            self._log_t(now)
            self._log_key(_QUEUED)
            self._log_incident(i)
            self.log.attach(waiting)
            wait = self.max_queue[book.kind[i]]
            if wait < math.inf:
                self.env.timeout(wait, value=i).callbacks.append(self._expire)
        if self._travel.closed_links or self.cut_off:  # only while roads are closed (or were)
            self._check_reach(i, now)

    def _expire(self, event) -> None:
        i = event.value
        book = self.model.book
        if book.status[i] != OPEN or book.need_total[i] == 0:
            return
        m = self.model
        missing = {m.world.capability_names[c]: n for c, n in enumerate(book.need_of(i)) if n}
        book.shortfall[i] += book.need_total[i]
        book.need[i * self.n_caps:(i + 1) * self.n_caps] = [0] * self.n_caps
        book.need_total[i] = 0
        if book.n_assigned[i] == 0:
            self._unserved(i, "no unit could reach it within max_queue (roads closed)" if i in self.cut_off
                           else "no unit became free within max_queue")
            return
        m.log.add(m.env.now, K.REQUEST_EXPIRED, i, -1, {"missing": missing})
        if book.active[i] == 0:
            self._clear(i, m.env.now)

    def _unserved(self, i: int, reason: str) -> None:
        m = self.model
        m.book.status[i] = UNSERVED
        m.log.add(m.env.now, K.INCIDENT_UNSERVED, i, -1, {"reason": reason})

    # -- called by units ------------------------------------------------------------
    def unit_free(self, u: int, now: float) -> int:
        """Unit ``u`` can work again: give it the most urgent waiting incident it can serve.

        Returns the incident id (the unit is booked to it), or -1 when none waits.
        """
        if self.may_serve is not None or self._travel.closed_links or self.cut_off:
            return self._unit_free_allowed(u, now)
        need, n_caps, fleet = self.book.need, self.n_caps, self.fleet
        best, best_c = None, -1
        for c in fleet.caps[u]:
            q = self.queues[c]
            while q and need[q[0][1] * n_caps + c] == 0:
                heappop(q)
            if q and (best is None or q[0] < best):
                best, best_c = q[0], c
        if best is None:
            return -1
        i = best[1]
        fleet.units[u].from_station = fleet.state[u] == AT_STATION
        self._book(u, i, best_c, now)
        return i

    def unit_left(self, i: int, now: float) -> None:
        """A unit left the scene of ``i``; the incident clears with its last unit."""
        book = self.book
        active = book.active[i] = book.active[i] - 1
        if active == 0 and book.need_total[i] == 0 and book.status[i] == OPEN:
            self._clear(i, now)

    def _clear(self, i: int, now: float) -> None:
        self.book.status[i] = RESOLVED
        self._log_t(now)
        self._log_key(_CLEARED)
        self._log_incident(i)

    def _unit_free_allowed(self, u: int, now: float) -> int:
        """:meth:`unit_free` when a component narrows who may serve whom (``may_serve``), or roads are closed.

        Scans every waiting incident of the unit's capabilities (the queues are short
        where tiers hold units back or closures cut scenes off) for the most urgent one
        the unit may serve and can reach.
        """
        need, n_caps, fleet, may_serve = self.book.need, self.n_caps, self.fleet, self.may_serve
        reach = self._travel.closed_links or self.cut_off
        best, best_c = None, -1
        for c in fleet.caps[u]:
            q = self.queues[c]
            while q and need[q[0][1] * n_caps + c] == 0:
                heappop(q)
            for key in q:
                if (need[key[1] * n_caps + c] and (best is None or key < best)
                        and (may_serve is None or may_serve(u, key[1], c))
                        and (not reach or self._reaches(u, key[1], now))):
                    best, best_c = key, c
        if best is None:
            return -1
        i = best[1]
        fleet.units[u].from_station = fleet.state[u] == AT_STATION
        self._book(u, i, best_c, now)
        return i

    # -- units already under way ------------------------------------------------------
    def en_route(self, u: int) -> bool:
        """Whether unit ``u`` is on its way to an incident: dispatched before now, not yet arrived.

        Such a unit's process waits in its turnout or its drive, where :meth:`recall`
        and :meth:`divert` may interrupt it (a unit dispatched in this very instant has
        not set off yet, so it is not en route).
        """
        unit = self.fleet.units[u]
        return (self.fleet.state[u] == BUSY and unit.job >= 0 and unit.t_arrive != unit.t_arrive
                and self.env.now > unit.t_dispatch)

    def on_the_road(self, u: int) -> bool:
        """Whether en-route unit ``u`` has finished its turnout and is driving (see :meth:`en_route`)."""
        unit = self.fleet.units[u]
        return self.en_route(u) and self.env.now >= self._trip_start(unit)

    def recall(self, u: int, reason: str = "recalled", *, requeue: bool = True) -> int:
        """Take en-route unit ``u`` off its assignment; it is free again from where it is.

        The clean way to stop a unit before it arrives, for any component (a false
        alarm found by a drone, a call cancelled). The unit's process is interrupted
        in its turnout or drive (``simpy.Interrupt`` carrying ``Order("recall")``, as the
        dispatch centre interrupts a unit on its way home) and the unit then takes the
        most urgent waiting call it may serve or drives back to its post. Logged
        ``unit_recalled`` (detail ``{"from": incident, "reason": reason}``); the
        assignment is kept in the assignments table with no arrival (``recalled``).

        Parameters
        ----------
        u : int
            The unit; must be :meth:`en_route`.
        reason : str
            Why (shown in the log).
        requeue : bool
            True: the incident still needs a unit of that capability (sent at once if
            one is free, else it waits). False: it no longer does (a false alarm); it
            clears when its last unit has left.

        Returns
        -------
        int
            The incident the unit was going to.

        Raises
        ------
        ValueError
            If the unit is not en route.

        Mutates the fleet, the incident book and the log.
        """
        if not self.en_route(u):
            raise ValueError(f"unit {u} is not on its way to an incident")
        now = self.env.now
        i, c = self._release(u, now)
        self.log.add(now, UNIT_RECALLED, i, u, self.model.detail(("recalled", i, reason),
                                                                  lambda: {"from": i, "reason": reason}))
        self.fleet.units[u].process.interrupt(Order("recall", reason=reason))
        self._after_release(i, c, now, requeue)
        return i

    def divert(self, u: int, i: int, c: int) -> int:
        """Send en-route unit ``u`` to incident ``i`` (for capability ``c``) instead of its current one.

        The incident it leaves gets its need back (filled at once from free units,
        else queued). Logged ``unit_diverted`` with the new incident (detail ``{"from":
        old, "to": i}``); the new assignment has ``diverted`` true, the old one no arrival.

        Returns
        -------
        int
            The incident the unit left.

        Raises
        ------
        ValueError
            If the unit is not en route.

        Mutates the fleet, the incident book and the log.
        """
        if not self.en_route(u):
            raise ValueError(f"unit {u} is not on its way to an incident")
        now = self.env.now
        old, old_c = self._release(u, now)
        unit = self.fleet.units[u]
        unit.from_station = False  # it goes on from where it is
        self._book(u, i, c, now)
        self.diverted.add((i, u))
        self.log.add(now, UNIT_DIVERTED, i, u, {"from": old, "to": i})
        unit.process.interrupt(i)
        self._after_release(old, old_c, now, True)
        return old

    def _trip_start(self, unit) -> float:
        """When en-route ``unit`` set off (its dispatch, plus the turnout when it left its station)."""
        return unit.t_dispatch + (unit.turnout if unit.from_station else 0.0)

    def _release(self, u: int, now: float) -> tuple[int, int]:
        """Place en-route unit ``u`` where it is now and end its assignment; returns (incident, capability).

        Mutates the fleet, the book and the assignment rows.
        """
        fleet, book, unit = self.fleet, self.book, self.fleet.units[u]
        i, c = unit.job, unit.cap
        start = self._trip_start(unit)
        here = int(fleet.loc[u])  # where it set off from
        if now > start:
            dest = book.loc[i]
            elapsed = (now - start) * unit.speed
            fleet.loc[u] = here = int(self._travel.position(here, dest, elapsed))
            if fleet.trace is not None:  # the trip recorder (sim/replay.py): its drive ends here, now
                fleet.trace(u, here, here, now)
        # the abandoned assignment: no arrival, free for other work now (model.ASSIGNMENT_FIELDS)
        self.model.assignments.extend((i, u, unit.t_dispatch, NAN, NAN, now, NAN, -1, unit.from_station))
        book.active[i] -= 1  # units_assigned keeps counting it: it was dispatched
        unit.job = -1
        return i, c

    def _after_release(self, i: int, c: int, now: float, requeue: bool) -> None:
        """Incident ``i`` lost a unit of capability ``c``: need it again (``requeue``), or clear if done."""
        book = self.book
        if book.status[i] != OPEN:
            return
        if requeue:
            book.need[i * self.n_caps + c] += 1
            book.need_total[i] += 1
            if self.fleet.free_count[c] > 0:
                for v in self.choose(i, c, 1):
                    self._send(v, i, c, now)
            if book.need_total[i]:
                self._enqueue(i, now)
        elif book.active[i] == 0 and book.need_total[i] == 0:
            self._clear(i, now)

    # -- places cut off by closed roads ---------------------------------------------------
    def _reaches(self, u: int, i: int, now: float) -> bool:
        """Whether free unit ``u`` can reach incident ``i`` from where it is (else ``i`` is cut off)."""
        if self._travel.time(int(self.fleet.loc[u]), int(self.book.loc[i])) < math.inf:
            return True
        self._cut_off(i, now)
        return False

    def _check_reach(self, i: int, now: float) -> None:
        """Mark waiting incident ``i`` cut off if no free unit of a capability it needs can reach it."""
        fleet, dest = self.fleet, int(self.book.loc[i])
        for c, n in enumerate(self.book.need_of(i)):
            if n and fleet.free_count[c] > 0:
                if fleet.moving:
                    fleet.refresh_moving(c)
                units = fleet.cap_units[c]
                units = units[fleet.eligible[units]]
                if units.size and not np.isfinite(self._travel.times_to(fleet.loc[units], dest)).any():
                    self._cut_off(i, now)
                    return

    def _cut_off(self, i: int, now: float) -> None:
        """Keep waiting incident ``i`` to be tried again when the roads change; log it the first time."""
        self.cut_off.add(i)
        if i not in self._reported:
            self._reported.add(i)
            caps = self.model.world.capability_names
            self.log.add(now, INCIDENT_UNREACHABLE, i, -1,
                         {"waiting_for": {caps[c]: n for c, n in enumerate(self.book.need_of(i)) if n}})

    def cannot_reach(self, u: int) -> int:
        """Unit ``u``, dispatched, finds no road to its scene (closed since it was chosen): take it off.

        Like :meth:`recall` with the need put back, from inside the unit's own process
        (which then goes on as a recalled unit): logged ``unit_recalled`` with reason
        ``"cannot reach the scene"``; the incident is sent another unit or waits, cut off.

        Returns
        -------
        int
            The incident.

        Mutates the fleet, the incident book and the log.
        """
        now = self.env.now
        i, c = self._release(u, now)
        self.log.add(now, UNIT_RECALLED, i, u, {"from": i, "reason": "cannot reach the scene"})
        self._after_release(i, c, now, True)
        if self.book.status[i] == OPEN and self.book.need_total[i]:
            self._cut_off(i, now)
        return i

    def roads_changed(self) -> None:
        """The run's roads changed: once this instant's other work is done, try again what they cut off.

        Called by the model after every road change (``forget_routes``). Costs nothing
        unless an incident is cut off, a unit is stranded away from its post, or a unit
        waits for a way out (:attr:`roads_event`).
        """
        if self._recheck_due or not (self.cut_off or self.fleet.stranded or self.roads_event.callbacks):
            return
        self._recheck_due = True
        self.env.timeout(0).callbacks.append(self._recheck)

    def _recheck(self, event) -> None:
        """Send free units to cut-off incidents they can now reach; send stranded units to their posts."""
        self._recheck_due = False
        now, book, fleet = self.env.now, self.book, self.fleet
        if self.roads_event.callbacks:
            done, self.roads_event = self.roads_event, self.env.event()
            done.succeed()
        for i in sorted(self.cut_off, key=lambda j: (book.priority[j], j)):  # most urgent first
            if book.status[i] == OPEN and book.need_total[i]:
                base = i * self.n_caps
                for c in range(self.n_caps):
                    n = book.need[base + c]
                    if n and fleet.free_count[c] > 0:
                        for v in self.choose(i, c, n):
                            self._send(v, i, c, now)
            if book.status[i] != OPEN or not book.need_total[i]:
                self.cut_off.discard(i)
        for u in sorted(fleet.stranded):
            state = fleet.state[u]
            if state == AT_STATION and self._travel.time(int(fleet.loc[u]), fleet.post[u]) < math.inf:
                fleet.stranded.discard(u)
                fleet.relocate(u, fleet.post[u])
            elif state not in (AT_STATION, OUT_OF_SERVICE):
                fleet.stranded.discard(u)

    def assignment_levels(self, unit: np.ndarray, incident: np.ndarray) -> np.ndarray:
        """Escalation level of each assignment (int8): who the unit is to the incident.

        0 the incident's own district (or an enterprise brigade inside its site), 1
        mutual aid from another district, 2 the city tier, 3 an enterprise brigade
        lent outside its site. A component that knows sites (escalation) answers
        instead; without one an enterprise brigade's site is its district.
        """
        if self.levels is not None:
            return self.levels(unit, incident)
        w = self.model.world
        district = self.model._incident_district()[incident]
        return default_levels(w.unit_tier[unit], w.unit_district[unit], district, district)

    def diverted_column(self, incident: np.ndarray, unit: np.ndarray) -> np.ndarray:
        """Whether each assignment (incident, unit) is one a unit was diverted to (bool array)."""
        if not self.diverted:
            return np.zeros(len(incident), dtype=np.bool_)
        pairs = self.diverted
        return np.fromiter(((i, u) in pairs for i, u in zip(incident.tolist(), unit.tolist(), strict=True)),
                           dtype=np.bool_, count=len(incident))


def default_levels(tier: np.ndarray, unit_district: np.ndarray, incident_district: np.ndarray,
                   site_match: np.ndarray) -> np.ndarray:
    """Escalation levels from tiers and districts (see :meth:`DispatchCentre.assignment_levels`).

    Parameters
    ----------
    tier : int array
        Index into ``sim.world.TIERS`` (city, district, enterprise) of each assignment's unit.
    unit_district, incident_district : int arrays
        Home district of the unit; district of the incident.
    site_match : bool array or int array
        For enterprise units: whether the incident is inside the unit's site (an int array
        is compared with ``unit_district``: the site is the unit's district).
    """
    own = unit_district == incident_district
    inside = site_match if site_match.dtype == np.bool_ else unit_district == site_match
    level = np.where(tier == 0, 2, np.where(tier == 2, np.where(inside, 0, 3), np.where(own, 0, 1)))
    return level.astype(np.int8)

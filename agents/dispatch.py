"""The dispatch decision: which units go, and the incidents waiting for units."""

from __future__ import annotations

import math
from heapq import heappop, heappush

import mesa
import numpy as np

from agents.incidents import OPEN, RESOLVED, UNSERVED
from agents.policies.dispatch import Candidates
from agents.responders import AT_STATION, BUSY
from sim.eventlog import EventKind as K
from sim.eventlog import key_of
from sim.kernels.select import _choose_kernel  # engine-owned arrays: valid by construction

NAN = math.nan

# log keys of the events without a unit (see sim.eventlog.key)
_QUEUED, _CLEARED = key_of(K.INCIDENT_QUEUED), key_of(K.INCIDENT_CLEARED)


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
        self._rows_for = model.travel.rows_for
        self._travel = model.travel
        n = w.n_units  # the kernel's trip arguments when it is to read ``loc`` for every unit
        self._no_trips = (np.zeros(n, dtype=np.bool_), np.zeros(n), 0.0, np.zeros((n, 1), dtype=np.int64),
                          np.zeros((n, 1)), np.zeros(n, dtype=np.int64))
        self._on_decided = model.on_decided
        self._before_decide = model.before_decide
        self._detail_text = model.detail.get

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
                for u in self._choose(i, c, n):
                    self._send(u, i, c, now)
        if book.need_total[i]:
            self._enqueue(i, now)
        elif total == 0 and book.n_assigned[i] == 0:
            self._unserved(i, "no unit in the fleet has the required capability")
        for hook in self._on_decided:
            hook(i)

    def _choose(self, i: int, c: int, k: int) -> list[int]:
        """Units to send to ``i`` for capability ``c`` (up to ``k``), best first."""
        fleet, book = self.fleet, self.book
        if self.preference is not None:
            if self._travel.routes_exact:  # the kernel places units on a trip: the candidates only
                if fleet._unrouted:
                    fleet.store_routes()
                rows = self._rows_for(())
                trips = (fleet.on_trip, fleet.trip_t0, self.env.now, fleet.route_nodes, fleet.route_cum,
                         fleet.route_len)
            else:
                rows = self._rows_for(fleet.refresh_moving(c) if fleet.moving else ())
                trips = self._no_trips
            if rows is not None:
                out = self._out
                n = _choose_kernel(fleet.cap_units[c], fleet.status, fleet.eligible, fleet.loc, *trips,
                                   rows[0], rows[1], book.loc[i], fleet.speed, fleet.turnout,
                                   self.preference(book.district[i], book.kind[i], book.priority[i]),
                                   k, out, self._out_min)
                return [int(out[0])] if n == 1 else out[:n].tolist()  # one unit: no slice object
        return self._choose_general(i, c, k)

    def _choose_general(self, i: int, c: int, k: int) -> list[int]:
        """Build :class:`Candidates` and ask the policy's ``select``."""
        m = self.model
        fleet, book = m.fleet, m.book
        if fleet.moving:
            fleet.refresh_moving(c)
        units = fleet.cap_units[c]
        ok = fleet.eligible[units]
        units = units[ok]
        status = fleet.status[units]
        if units.size == 0:
            return []
        minutes = m.travel.times_to(fleet.loc[units], book.loc[i]) / fleet.speed[units]
        minutes += np.where(status == AT_STATION, fleet.turnout[units], 0.0)
        cands = Candidates(units, minutes, i, book.district[i], book.priority[i], book.kind[i], c)
        picked = np.asarray(self.policy.select(cands, k), dtype=np.int64)
        if picked.size > k or len(set(picked.tolist())) != picked.size:
            raise RuntimeError(f"dispatch policy returned {picked.tolist()} for k={k}")
        return units[picked].tolist()

    def _book(self, u: int, i: int, c: int, now: float) -> None:
        """Record that unit ``u`` goes to incident ``i`` for capability ``c``. Mutates state."""
        book, fleet = self.book, self.fleet
        unit = fleet.units[u]
        book.need[i * self.n_caps + c] -= 1
        book.need_total[i] -= 1
        book.n_assigned[i] += 1
        book.active[i] += 1
        unit.job, unit.t_dispatch = i, now
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
            self._unserved(i, "no unit became free within max_queue")
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

"""Plain-Python references of the citizen kernels (sim/kernels/citizens.py), written for clarity.

Each takes and mutates the same arrays as its kernel; the evacuation uses
:mod:`heapq` on (time, person) tuples instead of the kernel's array heap.
"""

from __future__ import annotations

import heapq
import math

HOME, MOVING, SHELTERED, STRANDED, DEAD = 0, 1, 2, 3, 4
DEPART, ON_LINK, AT_EXIT, RETRY, WAITING = 0, 1, 2, 3, 4
INF = math.inf


def people_step(t1, state, home_cell, node, age, health, injury, cause, injured_at, health_injured, treated,
                died_at, dies_at, u_death, u_triage, warned_at, cell_levels, node_levels, harm, threshold,
                cue, hazard_cause, vulnerability, injured_below, triage_cum, weibull_scale, weibull_shape,
                indoor_factor=1.0):
    """As :func:`sim.kernels.citizens.people_step`; returns the lists of newly injured and warned."""
    injured, warned = [], []
    for p in range(len(state)):
        if state[p] == DEAD:
            continue
        exposed = len(harm) > 0 and state[p] != SHELTERED and not treated[p]
        if exposed:
            levels = [cell_levels[h][home_cell[p]] if state[p] == HOME else node_levels[h][node[p]]
                      for h in range(len(harm))]
            if any(lev >= c for lev, c in zip(levels, cue, strict=True)) and warned_at[p] == INF:
                warned_at[p] = t1
                warned.append(p)
            damage = [harm[h] * (levels[h] - threshold[h]) if levels[h] > threshold[h] else 0.0
                      for h in range(len(harm))]
            total = sum(damage)
            if total > 0:
                worst = max(range(len(damage)), key=lambda h: (damage[h], -h))
                if state[p] == HOME and warned_at[p] < t1:  # sheltering in place
                    total *= indoor_factor
                new_health = health[p] - total * vulnerability[age[p]]
                if injury[p] == 0 and new_health < injured_below:
                    u = u_triage[p]
                    injury[p] = 1 if u < triage_cum[worst][0] else 2 if u < triage_cum[worst][1] else 3
                    cause[p] = hazard_cause[worst]
                    injured_at[p] = t1
                    k = injury[p] - 1  # where the class's survival curve falls to u_death
                    dies_at[p] = t1 + weibull_scale[k] * (-math.log(u_death[p])) ** (1.0 / weibull_shape[k])
                    health_injured[p] = max(new_health, 0.0)
                    injured.append(p)
                if new_health <= 0:
                    health[p], state[p], died_at[p] = 0.0, DEAD, t1
                    continue
                health[p] = new_health
        if injury[p] > 0 and not treated[p] and t1 >= dies_at[p]:
            health[p], state[p], died_at[p] = 0.0, DEAD, t1
    return injured, warned


def reach(t, cell_mask, need_phone, phone, u, share, state, home_cell, warned_at):
    """As :func:`sim.kernels.citizens.reach`; returns the list of people warned."""
    out = [p for p in range(len(state))
           if state[p] == HOME and warned_at[p] == INF and cell_mask[home_cell[p]]
           and (phone[p] or not need_phone) and u[p] < share]
    for p in out:
        warned_at[p] = t
    return out


def spread(t1, dt, rate_per_min, state, home_cell, warned_at, e_neighbour, pressure):
    """As :func:`sim.kernels.citizens.spread`; returns the list of people warned."""
    at_home: dict[int, int] = {}
    warned: dict[int, int] = {}
    for p in range(len(state)):
        if state[p] == HOME:
            c = home_cell[p]
            at_home[c] = at_home.get(c, 0) + 1
            warned[c] = warned.get(c, 0) + (warned_at[p] <= t1 - dt)
    for c, w in warned.items():
        if w:
            pressure[c] += rate_per_min * dt * w / at_home[c]
    out = [p for p in range(len(state))
           if state[p] == HOME and warned_at[p] == INF and pressure[home_cell[p]] >= e_neighbour[p]]
    for p in out:
        warned_at[p] = t1
    return out


class Evacuation:
    """Reference of :func:`sim.kernels.citizens.decide` and :func:`~sim.kernels.citizens.evacuate`.

    Parameters
    ----------
    link_head, link_minutes, link_gap_min : sequences, per link
    next_link, dist : nested sequences [shelter][node]
    shelter_node, capacity : sequences, per shelter
    opens_at : list, per shelter, optional
        When each shelter opens (-inf: from the start, inf: not yet); default all open. The caller
        mutates it and calls :meth:`reopen` when it opens one.
    """

    def __init__(self, link_head, link_minutes, link_gap_min, next_link, dist, shelter_node, capacity,
                 opens_at=None):
        self.link_head, self.link_minutes, self.gap = link_head, link_minutes, link_gap_min
        self.next_link, self.dist = next_link, dist
        self.shelter_node, self.capacity = shelter_node, list(capacity)
        self.opens_at = opens_at if opens_at is not None else [-INF] * len(capacity)
        self.occupancy = [0] * len(capacity)
        self.free_at = [-INF] * len(link_head)
        self.events: list[tuple[float, int]] = []
        self.phase: dict[int, int] = {}
        self.link: dict[int, int] = {}
        self.target: dict[int, int] = {}

    def depart(self, t, p):
        """Schedule person p's departure at t."""
        self.phase[p] = DEPART
        heapq.heappush(self.events, (t, p))

    def _open(self, v, t):
        """The nearest shelter open at t with room (ties: the lowest index), or None."""
        choices = [s for s in range(len(self.capacity)) if self.opens_at[s] <= t
                   and self.occupancy[s] < self.capacity[s] and self.dist[s][v] < INF]
        return min(choices, key=lambda s: (self.dist[s][v], s)) if choices else None

    def _wait(self, t, p, again):
        """No shelter for p at t: again at the next opening after t that is set, else wait for reopen."""
        later = [o for o in self.opens_at if t < o < INF]
        if later:
            self.phase[p] = again
            heapq.heappush(self.events, (min(later), p))
        else:
            self.phase[p] = WAITING

    def reopen(self, t, people):
        """A shelter opened at t: the waiting at home (untreated) and the stranded set off at t."""
        for p in range(len(people["state"])):
            st = people["state"][p]
            if self.phase.get(p) == WAITING and (st == STRANDED or (st == HOME and not people["treated"][p])):
                self.phase[p] = DEPART if st == HOME else RETRY
                heapq.heappush(self.events, (t, p))

    def _at(self, t, p, v, people):
        people["node"][p] = v
        while True:
            s = self.target[p]
            if v == self.shelter_node[s]:
                if self.occupancy[s] < self.capacity[s]:
                    self.occupancy[s] += 1
                    people["state"][p], people["shelter"][p], people["arrived_at"][p] = SHELTERED, s, t
                    return
                s = self._open(v, t)
                if s is None:
                    people["state"][p] = STRANDED
                    self._wait(t, p, RETRY)
                    return
                self.target[p] = s
                continue
            ln = self.next_link[s][v]
            self.link[p], self.phase[p] = ln, ON_LINK
            heapq.heappush(self.events, (t + self.link_minutes[ln] / people["mobility"][p], p))
            return

    def advance(self, t_until, people):
        """Handle every event up to ``t_until``; ``people`` is a dict of the per-person arrays."""
        while self.events and self.events[0][0] <= t_until:
            t, p = heapq.heappop(self.events)
            if people["state"][p] == DEAD:
                continue
            if self.phase[p] == DEPART:
                if people["state"][p] != HOME or people["treated"][p]:
                    continue
                v = people["node"][p]
                s = people["first"][p]
                if (s < 0 or self.opens_at[s] > t or self.dist[s][v] == INF
                        or self.occupancy[s] >= self.capacity[s]):
                    s = self._open(v, t)
                if s is None:
                    self._wait(t, p, DEPART)  # stays at home
                    continue
                people["state"][p], people["departed_at"][p] = MOVING, t
                self.target[p] = s
                self._at(t, p, v, people)
            elif self.phase[p] == RETRY:
                if people["state"][p] != STRANDED:
                    continue
                s = self._open(people["node"][p], t)
                if s is None:
                    self._wait(t, p, RETRY)
                    continue
                people["state"][p] = MOVING
                self.target[p] = s
                self._at(t, p, people["node"][p], people)
            elif self.phase[p] == ON_LINK:
                ln = self.link[p]
                out = max(t, self.free_at[ln])
                self.free_at[ln] = out + self.gap[ln]
                self.phase[p] = AT_EXIT
                heapq.heappush(self.events, (out, p))
            else:
                self._at(t, p, self.link_head[self.link[p]], people)

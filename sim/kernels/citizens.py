"""Citizens as arrays: exposure, injury, death, warnings and evacuation over a road network (issue #12).

Every person is one slot in a set of parallel arrays (struct of arrays);
the kernels below are pure functions of them. States (int8, exactly one
per person): :data:`HOME` (0), :data:`MOVING` (1, on the way to a shelter),
:data:`SHELTERED` (2), :data:`STRANDED` (3, on the road with no shelter to
go to), :data:`DEAD` (4).

**Exposure and injury** (:func:`people_step`, one pass over everyone). A
person at home reads the hazard levels of their home cell, one on the road
the levels at the last node passed; sheltered and treated people are not
exposed. Each hazard ``h`` takes ``harm[h] * max(0, level - threshold[h])``
health (times the age group's vulnerability; the caller folds the step's
minutes into ``harm``; a person at home who was warned before the step's
end takes ``indoor_factor`` of it: sheltering in place). Health starts at
1; below ``injured_below`` the person is injured, with the cause of the hazard that hurt most in that step
and a triage class (red, yellow, green) drawn from the hazard's mix with the
person's own uniform ``u_triage``. Health at or below 0 is death.

**Survival curves**: an injured person not yet treated follows the Weibull
survival function ``S_k(s) = exp(-(s / scale_k) ** shape_k)`` of their
triage class ``k`` and dies once ``S_k`` falls to their uniform ``u_death``,
that is at ``t_injured + scale_k * (-ln u_death) ** (1 / shape_k)`` (the
time of death untreated is Weibull(``scale_k``, ``shape_k``) distributed,
drawn by inversion when the injury happens, from a number fixed when the
population is made: common random numbers, so a faster unit saves exactly
the people it reaches before their time). Deaths are resolved at the end of
the step they fall in. Treatment (a unit on scene) stops the decline and
the exposure. ``health`` carries the exposure's harm; the decline is the
curve. The class parameters are illustrative (the Weibull form is a common
one for time to death of untreated casualties; no calibrated source is
used).

**Warnings** reach people at home who are not yet warned through channels:
an alert (:func:`reach`, in an area, to phone owners, each reached when
their uniform is below the alert's reach), responders on scene (the same
kernel without the phone), neighbours (:func:`spread`: a cell's cumulative
pressure ``L_c += rate * dt * warned_c / home_c`` warns a person once it
exceeds their Exp(1) threshold: a Poisson process with that intensity,
drawn by time change without a random number per step) and environmental
cues (:func:`people_step`: a level at or above the hazard's ``cue``).

**Evacuation** (:func:`decide`, :func:`evacuate`): a warned person who
evacuates (decided at population time) sets off after their own delay to
the nearest shelter with room (shortest free-flow minutes) over the road
network. Every link is a FIFO **point queue** (the bottleneck model of
Vickrey, 1969, Am. Econ. Rev. 59(2); a simplification of Daganzo's cell
transmission model, 1994, Transp. Res. B 28(4), with unlimited storage):
a person reaches the link's end after its free-flow minutes (divided by
their mobility) and leaves it at ``max(reached, free_at)``, after which the
link's exit is busy for ``1 / capacity_per_min`` minutes. People are taken
in the order they reach the end (ties by index), so the exit order is FIFO
and exact in continuous time, whatever the caller's time step: one binary
heap of (time, person) events, at most one per person. A shelter admits
people until it is full; who finds it full heads for the nearest shelter
with room from there, and with none left is stranded. Queues do not spill
back onto upstream links (no storage limit): a simplification.

**Shelters that open during the run**: shelter ``s`` is open to a choice
made at time ``t`` when ``opens_at[s] <= t`` (-inf: open from the start,
inf: not opened yet). People already on their way keep going. Who finds no
open shelter with room (at home: stays there; on the road: stranded) tries
again at the next opening after ``t`` the caller has already set (an event
at that time), else waits (phase :data:`WAITING`, no event) until
:func:`reopen`, which the caller runs when it opens a shelter. So a choice
sees exactly the shelters open at its own time, whatever the caller's step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.kernels._config import FASTMATH

HOME, MOVING, SHELTERED, STRANDED, DEAD = 0, 1, 2, 3, 4
STATE_NAMES = ("home", "moving", "sheltered", "stranded", "dead")
#: What a person's pending heap event is: set off, reach a link's end, leave it, set off again
#: (stranded), or none: waiting for a shelter to open
DEPART, ON_LINK, AT_EXIT, RETRY, WAITING = 0, 1, 2, 3, 4
NEVER = np.inf


# -- exposure, injury, death ----------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def people_step(t1, state, home_cell, node, age, health, injury, cause, injured_at, health_injured,
                treated, died_at, dies_at, u_death, u_triage, warned_at, cell_levels, node_levels, harm,
                threshold, cue, hazard_cause, vulnerability, injured_below, triage_cum, weibull_scale,
                weibull_shape, indoor_factor, new_injured, new_warned):
    """One exposure and decline step ending at ``t1`` (minutes). Mutates the person arrays and buffers.

    Per person (n): state int8, home_cell int32, node int32 (last road node; -1 none), age int8
    (index into ``vulnerability``), health float32 (1 healthy, 0 dead), injury int8 (0 none, 1 red,
    2 yellow, 3 green), cause int8 (index of the cause; -1 none), injured_at float64 (min),
    health_injured float32, treated bool, died_at float64, dies_at float64 (when an untreated injury
    kills; inf), u_death and u_triage float32 in [0, 1),
    warned_at float64 (inf: not warned).
    Hazards (m): cell_levels float[m, n_cells] and node_levels float[m, n_nodes] (the levels the
    caller sampled for the step; the component samples at ``t1``), harm float64[m] (health per
    unit of level above ``threshold`` over this step),
    threshold float64[m], cue float64[m] (inf: never noticed), hazard_cause int8[m],
    triage_cum float64[m, 3] (cumulative red, yellow, green mix of each hazard's injuries).
    vulnerability float64[n_ages]; weibull_scale, weibull_shape float64[3] by triage class (min; an
    infinite scale never kills). indoor_factor: share of the harm a person at home takes once warned
    before ``t1`` (sheltering in place). new_injured, new_warned: int64[n] buffers.
    Returns (number newly injured, number newly warned by a cue): their indices, ascending, lead the
    buffers.
    """
    n_haz = cell_levels.shape[0]
    n_inj = 0
    n_warn = 0
    for p in range(state.shape[0]):
        s = state[p]
        if s == DEAD:
            continue
        k = injury[p]
        if n_haz > 0 and s != SHELTERED and not treated[p]:
            total = 0.0
            best = 0.0
            worst = -1
            noticed = False
            for h in range(n_haz):
                lev = cell_levels[h, home_cell[p]] if s == HOME else node_levels[h, node[p]]
                if lev >= cue[h]:
                    noticed = True
                x = lev - threshold[h]
                if x > 0.0:
                    d = harm[h] * x
                    total += d
                    if d > best:
                        best = d
                        worst = h
            if noticed and warned_at[p] == NEVER:
                warned_at[p] = t1
                new_warned[n_warn] = p
                n_warn += 1
            if total > 0.0:
                if s == HOME and warned_at[p] < t1:
                    total *= indoor_factor
                hl = health[p] - total * vulnerability[age[p]]
                if k == 0 and hl < injured_below:
                    u = u_triage[p]
                    k = 1
                    while k < 3 and u >= triage_cum[worst, k - 1]:
                        k += 1
                    injury[p] = k
                    cause[p] = hazard_cause[worst]
                    injured_at[p] = t1
                    life = (-math.log(u_death[p])) ** (1.0 / weibull_shape[k - 1])
                    dies_at[p] = t1 + weibull_scale[k - 1] * life
                    health_injured[p] = max(hl, 0.0)
                    new_injured[n_inj] = p
                    n_inj += 1
                if hl <= 0.0:
                    health[p] = 0.0
                    state[p] = DEAD
                    died_at[p] = t1
                    continue
                health[p] = hl
        if k > 0 and t1 >= dies_at[p] and not treated[p]:
            health[p] = 0.0
            state[p] = DEAD
            died_at[p] = t1
    return n_inj, n_warn


# -- warnings -------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def reach(t, cell_mask, need_phone, phone, u, share, state, home_cell, warned_at, new_warned):
    """Warn, at ``t``, people at home and not yet warned whose home cell is in ``cell_mask``.

    cell_mask bool[n_cells]; phone bool[n]; u float32[n] the person's uniform for this channel, a person
    reached when ``u < share``; need_phone: only phone owners. Mutates ``warned_at`` and
    ``new_warned`` (int64[n]); returns how many were warned (their indices lead ``new_warned``).
    """
    n_new = 0
    for p in range(state.shape[0]):
        if (state[p] == HOME and warned_at[p] == NEVER and cell_mask[home_cell[p]]
                and (phone[p] or not need_phone) and u[p] < share):
            warned_at[p] = t
            new_warned[n_new] = p
            n_new += 1
    return n_new


@njit(cache=True, fastmath=FASTMATH)
def spread(t1, dt, rate_per_min, state, home_cell, warned_at, e_neighbour, pressure, n_home, n_warned,
           new_warned):
    """Neighbours warn neighbours over the step ``(t1 - dt, t1]``. Mutates pressure, counts and warned_at.

    Each cell's pressure grows by ``rate_per_min * dt * warned / at home`` (people at home in the cell at
    the step's start); a person at home not yet warned is warned at ``t1`` once the pressure of their
    cell reaches their Exp(1) threshold ``e_neighbour`` (float32[n]). pressure float64[n_cells];
    n_home, n_warned int64[n_cells] scratch. Returns how many were warned (indices lead ``new_warned``).
    """
    n_home[:] = 0
    n_warned[:] = 0
    for p in range(state.shape[0]):
        if state[p] == HOME:
            c = home_cell[p]
            n_home[c] += 1
            if warned_at[p] <= t1 - dt:  # warned by the step's start (inf: never)
                n_warned[c] += 1
    for c in range(pressure.shape[0]):
        if n_warned[c] > 0:
            pressure[c] += rate_per_min * dt * n_warned[c] / n_home[c]
    n_new = 0
    for p in range(state.shape[0]):
        if state[p] == HOME and warned_at[p] == NEVER and pressure[home_cell[p]] >= e_neighbour[p]:
            warned_at[p] = t1
            new_warned[n_new] = p
            n_new += 1
    return n_new


# -- evacuation -----------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def _before(ta, pa, tb, pb):
    return ta < tb or (ta == tb and pa < pb)


@njit(cache=True, fastmath=FASTMATH)
def heap_push(heap_t, heap_p, size, t, p):
    """Push event (t, p) on the binary min-heap ``heap_t``/``heap_p`` of ``size[0]`` items. Mutates all."""
    i = size[0]
    size[0] = i + 1
    while i > 0:
        parent = (i - 1) // 2
        if not _before(t, p, heap_t[parent], heap_p[parent]):
            break
        heap_t[i] = heap_t[parent]
        heap_p[i] = heap_p[parent]
        i = parent
    heap_t[i] = t
    heap_p[i] = p


@njit(cache=True, fastmath=FASTMATH)
def _heap_pop(heap_t, heap_p, size):
    t, p = heap_t[0], heap_p[0]
    n = size[0] - 1
    size[0] = n
    lt, lp = heap_t[n], heap_p[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _before(heap_t[c + 1], heap_p[c + 1], heap_t[c], heap_p[c]):
            c += 1
        if not _before(heap_t[c], heap_p[c], lt, lp):
            break
        heap_t[i] = heap_t[c]
        heap_p[i] = heap_p[c]
        i = c
    if n > 0:
        heap_t[i] = lt
        heap_p[i] = lp
    return t, p


@njit(cache=True, fastmath=FASTMATH)
def decide(new_warned, n_new, warned_at, will_evacuate, delay_min, state, treated, phase, heap_t, heap_p,
           size):
    """Schedule the departure of the newly warned who evacuate, at ``warned_at + delay_min``.

    new_warned int64[>= n_new]; will_evacuate bool[n]; delay_min float32[n]. Mutates phase and the heap.
    Returns the number of departures scheduled.
    """
    count = 0
    for j in range(n_new):
        p = new_warned[j]
        if will_evacuate[p] and state[p] == HOME and not treated[p]:
            phase[p] = DEPART
            heap_push(heap_t, heap_p, size, warned_at[p] + delay_min[p], p)
            count += 1
    return count


@njit(cache=True, fastmath=FASTMATH)
def _nearest_open(v, t, dist, occupancy, capacity, opens_at):
    """Shelter open at t with room nearest to node v (free-flow minutes, ties by index); -1 if none."""
    best = -1
    for s in range(dist.shape[0]):
        if (opens_at[s] <= t and occupancy[s] < capacity[s] and dist[s, v] < NEVER
                and (best < 0 or dist[s, v] < dist[best, v])):
            best = s
    return best


@njit(cache=True, fastmath=FASTMATH)
def _wait(t, p, again, opens_at, phase, heap_t, heap_p, size):
    """Person p found no open shelter with room at t: try again (phase ``again``) at the next opening after t.

    Only openings already set count (``t < opens_at < inf``); with none, p waits for :func:`reopen`.
    """
    nxt = NEVER
    for s in range(opens_at.shape[0]):
        if t < opens_at[s] < nxt:
            nxt = opens_at[s]
    if nxt < NEVER:
        phase[p] = again
        heap_push(heap_t, heap_p, size, nxt, p)
    else:
        phase[p] = WAITING


@njit(cache=True, fastmath=FASTMATH)
def _go_on(t, p, v, state, node, link, phase, target, shelter, arrived_at, mobility, link_minutes,
           next_link, dist, shelter_node, occupancy, capacity, opens_at, heap_t, heap_p, size):
    """Person p stands at node v at time t: enter a shelter there, or the next link towards one."""
    node[p] = v
    while True:
        s = target[p]
        if v == shelter_node[s]:
            if occupancy[s] < capacity[s]:
                occupancy[s] += 1
                state[p] = SHELTERED
                shelter[p] = s
                arrived_at[p] = t
                return
            s = _nearest_open(v, t, dist, occupancy, capacity, opens_at)
            if s < 0:
                state[p] = STRANDED
                _wait(t, p, RETRY, opens_at, phase, heap_t, heap_p, size)
                return
            target[p] = s
            continue
        ln = next_link[s, v]
        link[p] = ln
        phase[p] = ON_LINK
        heap_push(heap_t, heap_p, size, t + link_minutes[ln] / mobility[p], p)
        return


@njit(cache=True, fastmath=FASTMATH)
def evacuate(t_until, state, node, link, phase, target, shelter, departed_at, arrived_at, treated, first,
             mobility, link_head, link_minutes, link_gap_min, link_free_at, next_link, dist, shelter_node,
             occupancy, capacity, opens_at, heap_t, heap_p, size):
    """Move evacuees through the point queues until ``t_until`` (min), event by event. Mutates everything.

    Per person: state int8, node int32 (current road node), link int32 (current link), phase int8,
    target and shelter int32 (-1 none), departed_at and arrived_at float64, treated bool,
    first int32 (first-choice shelter; -1: the nearest with room), mobility float32 (> 0).
    Per link: link_head int32, link_minutes float64 (free flow), link_gap_min float64
    (1 / capacity per minute), link_free_at float64 (when its exit is free again).
    next_link int32[n_shelters, n_nodes] (first link of a shortest path to each shelter; -1 none),
    dist float64[n_shelters, n_nodes] (free-flow minutes; inf unreachable); shelter_node int32,
    occupancy and capacity int64 per shelter, opens_at float64 per shelter (minutes: open to choices
    made at or after it; -inf open from the start, inf not opened yet). The heap holds at most one
    event per person.
    Returns the number of events handled.
    """
    events = 0
    while size[0] > 0 and heap_t[0] <= t_until:
        t, p = _heap_pop(heap_t, heap_p, size)
        events += 1
        if state[p] == DEAD:
            continue
        ph = phase[p]
        if ph == DEPART:
            if state[p] != HOME or treated[p]:
                continue
            v = node[p]
            s = first[p]
            if s < 0 or opens_at[s] > t or dist[s, v] == NEVER or occupancy[s] >= capacity[s]:
                s = _nearest_open(v, t, dist, occupancy, capacity, opens_at)
            if s < 0:  # nowhere to go yet: stays at home
                _wait(t, p, DEPART, opens_at, phase, heap_t, heap_p, size)
                continue
            state[p] = MOVING
            target[p] = s
            departed_at[p] = t
            _go_on(t, p, v, state, node, link, phase, target, shelter, arrived_at, mobility, link_minutes,
                   next_link, dist, shelter_node, occupancy, capacity, opens_at, heap_t, heap_p, size)
        elif ph == RETRY:  # stranded on the road: a shelter has opened since
            if state[p] != STRANDED:
                continue
            s = _nearest_open(node[p], t, dist, occupancy, capacity, opens_at)
            if s < 0:
                _wait(t, p, RETRY, opens_at, phase, heap_t, heap_p, size)
                continue
            state[p] = MOVING
            target[p] = s
            _go_on(t, p, node[p], state, node, link, phase, target, shelter, arrived_at, mobility,
                   link_minutes, next_link, dist, shelter_node, occupancy, capacity, opens_at, heap_t, heap_p,
                   size)
        elif ph == ON_LINK:
            ln = link[p]
            out = max(t, link_free_at[ln])
            link_free_at[ln] = out + link_gap_min[ln]
            phase[p] = AT_EXIT
            heap_push(heap_t, heap_p, size, out, p)
        else:
            _go_on(t, p, link_head[link[p]], state, node, link, phase, target, shelter, arrived_at, mobility,
                   link_minutes, next_link, dist, shelter_node, occupancy, capacity, opens_at, heap_t, heap_p,
                   size)
    return events


@njit(cache=True, fastmath=FASTMATH)
def reopen(t, state, treated, phase, heap_t, heap_p, size):
    """A shelter opened at ``t`` (min): everyone waiting for one sets off again at ``t``. Mutates phase, heap.

    Waiting: phase :data:`WAITING` (no pending event), at home and untreated (phase becomes
    :data:`DEPART`) or stranded on the road (:data:`RETRY`). state, phase int8[n]; treated bool[n].
    Returns how many were scheduled.
    """
    count = 0
    for p in range(state.shape[0]):
        if phase[p] == WAITING and (state[p] == STRANDED or (state[p] == HOME and not treated[p])):
            phase[p] = DEPART if state[p] == HOME else RETRY
            heap_push(heap_t, heap_p, size, t, p)
            count += 1
    return count


def warm() -> None:
    """Compile, or load from numba's cache, every citizen kernel for the types the component passes."""
    n = 2
    i8, i32, i64, f32 = np.int8, np.int32, np.int64, np.float32
    state, cell, node = np.zeros(n, dtype=i8), np.zeros(n, dtype=i32), np.zeros(n, dtype=i32)
    inf, buf, flag = np.full(n, np.inf), np.zeros(n, dtype=i64), np.zeros(n, dtype=np.bool_)
    u = np.zeros(n, dtype=f32)
    people_step(1.0, state, cell, node, np.zeros(n, dtype=i8), np.ones(n, dtype=f32), np.zeros(n, dtype=i8),
                np.full(n, -1, dtype=i8), inf.copy(), u.copy(), flag.copy(), inf.copy(), inf.copy(), u, u,
                inf.copy(),
                np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1), np.zeros(1), np.full(1, np.inf),
                np.zeros(1, dtype=i8), np.ones(3), 0.8, np.ones((1, 3)), np.full(3, np.inf), np.ones(3), 1.0,
                buf, buf)
    mask = np.ones(1, dtype=np.bool_)
    reach(1.0, mask, True, flag, u, 0.5, state, cell, inf.copy(), buf)
    counts = np.zeros(1, dtype=i64)
    spread(1.0, 1.0, 0.1, state, cell, inf.copy(), u, np.zeros(1), counts, counts.copy(), buf)
    heap_t, heap_p, size = np.zeros(n), np.zeros(n, dtype=i64), np.zeros(1, dtype=i64)
    decide(buf, 0, inf, flag, u, state, flag, np.zeros(n, dtype=i8), heap_t, heap_p, size)
    evacuate(1.0, state, node, np.full(n, -1, dtype=i32), np.zeros(n, dtype=i8), np.full(n, -1, dtype=i32),
             np.full(n, -1, dtype=i32), inf.copy(), inf.copy(), flag, np.full(n, -1, dtype=i32),
             np.ones(n, dtype=f32), np.zeros(1, dtype=i32), np.ones(1), np.ones(1), np.full(1, -np.inf),
             np.full((1, 1), -1, dtype=i32), np.zeros((1, 1)), np.zeros(1, dtype=i32), np.zeros(1, dtype=i64),
             np.ones(1, dtype=i64), np.full(1, -np.inf), heap_t, heap_p, size)
    reopen(1.0, state, flag, np.zeros(n, dtype=i8), heap_t, heap_p, size)

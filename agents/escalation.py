"""Tiers, escalation and mutual aid; diversion of units to more urgent calls (issue #11).

Every unit belongs to a tier through its station (``stations.<name>.tier``:
``city``, ``district`` or ``enterprise``). Without this module's sections any
eligible unit may answer any call, as the dispatch policy ranks them. With
``components.escalation`` the dispatch decision walks up **escalation
levels**, each widening who may go, and the policy ranks the units allowed
at the level reached (the choice kernel takes the narrowed ``eligible`` mask):

0. the incident's own district (its district-tier units) and, for an incident
   inside an enterprise **site**, that site's enterprise brigades (asked
   first: they answer alone when they can);
1. **mutual aid**: district-tier units of the district's partners (its
   ``neighbours``, or the ``partners`` the section lists), each partner
   keeping at least ``keep_at_home`` units of the capability free at home;
2. the **city tier** (city stations' units, wherever they stand);
3. enterprise brigades **lent** outside their site (``lend_enterprise``),
   each site keeping ``keep_at_home`` as well.

The decision moves to the next level while the plan cannot be met with the
units allowed so far, or (``escalate_after``) while the slowest unit chosen
would arrive later than that many minutes; at the last level it takes what
it found. What is still missing waits in the queues; a unit that frees up
takes a waiting incident only if its level is allowed for it (and, lending,
keeps ``keep_at_home`` at home). Each assignment records its level
(``escalation_level``), the unit's ``tier`` and ``mutual_aid``; ``run.json``
counts assignments per level and what lending cost each district.

``components.diversion`` lets the dispatch centre divert a unit on its way to
a less urgent call (priority at least ``priority_gap`` levels lower; not yet
on scene, past its turnout) to a call that would otherwise wait. The call it
leaves gets its need back (filled at once from free units, else queued);
``unit_diverted`` is logged with both incidents.

Scenario sections::

    components:
      escalation:
        enabled: true              # false: no effect (a sweep's "off" level)
        keep_at_home: 1            # k: a lender keeps at least k units of the capability free
        escalate_after: 15 min     # optional: escalate when the plan would take longer
        partners: {Yubei: [Jiangbei, Yuzhong]}   # optional, per district (default: neighbours)
        pass_on: false             # partners of partners are asked too (no loop allowed)
        city: true                 # the city tier answers at level 2
        lend_enterprise: true      # enterprise brigades may be lent outside their site (level 3)
        sites:                     # enterprise sites (default: each brigade's district)
          Changshou_park: {stations: [ChangshouChem], district: Changshou}
      diversion:
        priority_gap: 1            # divert from calls at least this many priority levels lower
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from agents.components import Component, register
from agents.dispatch import default_levels
from agents.responders import BUSY
from scenarios.base import Point, PositiveDuration
from sim.errors import InputError
from sim.eventlog import EventKind as K
from sim.kernels import points_in_polygon
from sim.world import TIERS

CITY, DISTRICT, ENTERPRISE = (TIERS.index(t) for t in ("city", "district", "enterprise"))
#: The escalation levels, by number (the assignments table's ``escalation_level``).
LEVELS = ("own", "mutual_aid", "city", "enterprise_lent")


class SiteSection(BaseModel):
    """An enterprise site: its brigades' stations, and where it is (a district or an area)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the enterprise-tier stations whose units form the site's brigade
    stations: list[str] = Field(min_length=1)
    #: the site is this district ...
    district: str | None = None
    #: ... or this polygon (km; road and plane geographies)
    area: list[Point] | None = Field(default=None, min_length=3)

    @model_validator(mode="after")
    def _one_place(self) -> SiteSection:
        if (self.district is None) == (self.area is None):
            raise ValueError("give exactly one of district or area")
        return self


class EscalationSection(BaseModel):
    """The ``components.escalation`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: false: the section is kept but does nothing (a sweep's "off" level: sweeps cannot remove a section)
    enabled: bool = True
    #: k: a lending district (or site) keeps at least this many units of the capability free
    keep_at_home: NonNegativeInt = 1
    #: escalate while the slowest unit chosen would arrive later than this (minutes); None: only when short
    escalate_after: PositiveDuration | None = None
    #: per district, the districts it asks for mutual aid (default: its neighbours)
    partners: dict[str, list[str]] | None = None
    #: partners of partners are asked too (the asking graph must then have no loop)
    pass_on: bool = False
    #: the city tier answers at level 2
    city: bool = True
    #: enterprise brigades may be lent outside their site (level 3)
    lend_enterprise: bool = False
    #: enterprise sites by name (default: each enterprise station's site is its district)
    sites: dict[str, SiteSection] = {}


class DiversionSection(BaseModel):
    """The ``components.diversion`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: a unit is diverted only from a call at least this many priority levels less urgent
    priority_gap: PositiveInt = 1
    #: the capabilities whose units may be diverted (default: all)
    capabilities: list[str] | None = None


def _district(world: Any, name: str, source: str | None, path: str) -> int:
    if name not in world.district_names:
        raise InputError(f"unknown district {name!r}; known: {', '.join(world.district_names)}", source, path)
    return world.district_names.index(name)


def _partners(world: Any, section: EscalationSection, source: str | None) -> list[list[int]]:
    """Per district, the districts it asks for mutual aid (in order; passed on when ``pass_on``).

    Raises
    ------
    InputError
        Unknown district names, a district asking itself, or a loop when requests are passed on.
    """
    nd = len(world.district_names)
    asks = [np.flatnonzero(world.district_neighbours[d]).tolist() for d in range(nd)]
    for name, others in (section.partners or {}).items():
        d = _district(world, name, source, f"components.escalation.partners.{name}")
        asks[d] = []
        for j, other in enumerate(others):
            o = _district(world, other, source, f"components.escalation.partners.{name}[{j}]")
            if o == d:
                raise InputError(f"district {name!r} cannot ask itself for mutual aid", source,
                                 f"components.escalation.partners.{name}[{j}]")
            asks[d].append(o)
    if not section.pass_on:
        return asks
    names = world.district_names
    for start in range(nd):  # depth-first: a request passed on must never come back
        path, stack = [start], [iter(asks[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                path.pop()
                continue
            if nxt in path:
                loop = " asks ".join(names[x] for x in [*path[path.index(nxt):], nxt])
                last = names[path[-1]]
                given = last in (section.partners or {})
                why = "" if given else "its neighbours; "
                raise InputError(f"escalation loop: {loop} ({why}with pass_on a request must not come back)",
                                 source,
                                 f"components.escalation.partners.{last}" if given
                                 else "components.escalation.pass_on")
            path.append(nxt)
            stack.append(iter(asks[nxt]))
    reach = []
    for d in range(nd):  # breadth-first order: direct partners first
        seen, order, frontier = {d}, [], list(asks[d])
        while frontier:
            step = []
            for o in frontier:
                if o not in seen:
                    seen.add(o)
                    order.append(o)
                    step.extend(asks[o])
            frontier = step
        reach.append(order)
    return reach


def _sites(world: Any, section: EscalationSection, source: str | None) -> tuple[np.ndarray, list]:
    """Site index of every unit (-1: not an enterprise brigade) and each site's place.

    A place is ``("district", d)`` or ``("area", polygon)``. Enterprise stations named
    by no site form one implicit site per district.
    """
    station_site = np.full(len(world.station_names), -1, dtype=np.int64)
    places: list[tuple[str, Any]] = []
    for s, (name, site) in enumerate(section.sites.items()):
        path = f"components.escalation.sites.{name}"
        if site.district is not None:
            places.append(("district", _district(world, site.district, source, f"{path}.district")))
        else:
            if world.geo.kind == "matrix":
                raise InputError("an area needs coordinates; with a matrix geography give a district",
                                 source, f"{path}.area")
            places.append(("area", np.asarray(site.area, dtype=np.float64)))
        for j, station in enumerate(site.stations):
            spath = f"{path}.stations[{j}]"
            if station not in world.station_names:
                raise InputError(f"unknown station {station!r}", source, spath)
            st = world.station_names.index(station)
            if world.station_tier[st] != ENTERPRISE:
                raise InputError(f"station {station!r} is in tier {TIERS[world.station_tier[st]]!r}; "
                                 "a site's brigades are enterprise stations", source, spath)
            if station_site[st] >= 0:
                raise InputError(f"station {station!r} is in two sites", source, spath)
            station_site[st] = s
    implicit: dict[int, int] = {}
    for st in np.flatnonzero((world.station_tier == ENTERPRISE) & (station_site < 0)).tolist():
        d = int(world.station_district[st])
        if d not in implicit:
            implicit[d] = len(places)
            places.append(("district", d))
        station_site[st] = implicit[d]
    return station_site[world.unit_station], places


@register("escalation")
class Escalation(Component):
    """Narrows the dispatch decision to the units allowed at each escalation level.

    Lifecycle: built with the validated section (checks names, sites and loops
    against the World) -> :meth:`start` replaces the dispatch centre's ``choose``,
    ``may_serve`` and ``levels`` -> each decision walks the levels ->
    :meth:`summary` after the run.

    Parameters
    ----------
    model : agents.model.Simulation
    section : EscalationSection

    Raises
    ------
    InputError
        Unknown district or station, a non-enterprise station in a site, an area
        with a matrix geography, a loop of partners with ``pass_on``
        (path ``components.escalation.<field>``).
    """

    Section = EscalationSection

    @classmethod
    def check(cls, world: Any, section: EscalationSection, source: str | None) -> None:
        """Names, sites and the partner graph must fit the World (raises InputError naming the field)."""
        _partners(world, section, source)
        _sites(world, section, source)

    def __init__(self, model: Any, section: EscalationSection):
        super().__init__(model, section)
        w = model.world
        self.asks = _partners(w, section, w.source)
        self.unit_site, self.places = _sites(w, section, w.source)
        self.tier, self.home = w.unit_tier, w.unit_district
        nd, n = len(w.district_names), w.n_units
        #: lender group of each unit: its district (district tier), nd + its site (enterprise), -1 (city)
        self.group = np.where(self.tier == DISTRICT, self.home,
                              np.where(self.tier == ENTERPRISE, nd + self.unit_site, -1))
        self.group_units = {g: np.flatnonzero(self.group == g)
                            for g in np.unique(self.group).tolist() if g >= 0}
        self.cap_mask = w.unit_caps.T.copy()  # bool[n_caps, n_units]
        self.wait = math.inf if section.escalate_after is None else float(section.escalate_after)
        self.keep = int(section.keep_at_home)
        self._plans: dict[tuple[int, tuple[int, ...]], tuple[list[np.ndarray], np.ndarray]] = {}
        self._keys: dict[int, tuple[int, tuple[int, ...]]] = {}
        self._n = n

    def start(self) -> None:
        """Take over who may go: the dispatch centre's ``choose``, ``may_serve`` and ``levels``."""
        if not self.section.enabled:
            return
        d = self.model.dispatch
        d.choose, d.may_serve, d.levels = self.choose, self.may_serve, self.levels

    # -- levels -----------------------------------------------------------------------
    def _key(self, i: int) -> tuple[int, tuple[int, ...]]:
        """Incident ``i``'s district and the sites it lies in (cached)."""
        key = self._keys.get(i)
        if key is None:
            book = self.model.book
            d = book.district[i]
            inside = []
            for s, (kind, place) in enumerate(self.places):
                if kind == "district":
                    if place == d:
                        inside.append(s)
                else:
                    x, y = _xy(book, i)
                    if points_in_polygon(np.array([x]), np.array([y]), place)[0]:
                        inside.append(s)
            key = self._keys[i] = (d, tuple(inside))
        return key

    def _plan(self, key: tuple[int, tuple[int, ...]]) -> tuple[list[np.ndarray], np.ndarray]:
        """The cumulative masks of the levels for an incident of ``key``, and each unit's level."""
        plan = self._plans.get(key)
        if plan is None:
            d, inside = key
            site_match = np.isin(self.unit_site, inside) if inside else np.zeros(self._n, dtype=bool)
            level = default_levels(self.tier, self.home, np.full(self._n, d), site_match)
            partners = np.isin(self.home, self.asks[d]) & (self.tier == DISTRICT)
            level[(level == 1) & ~partners] = -1  # districts it does not ask
            if not self.section.city:
                level[level == 2] = -1
            if not self.section.lend_enterprise:
                level[level == 3] = -1
            steps, mask = [], np.zeros(self._n, dtype=bool)
            if inside:  # the site's brigades first
                mask = site_match & (self.tier == ENTERPRISE)
                steps.append(mask)
            for lv in range(4):
                widened = mask | (level == lv)
                if lv == 0 or widened.sum() > mask.sum():
                    steps.append(widened)
                mask = widened
            plan = self._plans[key] = (steps, level)
        return plan

    def levels(self, unit: np.ndarray, incident: np.ndarray) -> np.ndarray:
        """Escalation level of each assignment (int8), as the decision saw it (see :data:`LEVELS`)."""
        ids, row = np.unique(incident, return_inverse=True)
        keys: dict[tuple[int, tuple[int, ...]], int] = {}
        key_of = np.array([keys.setdefault(self._key(i), len(keys)) for i in ids.tolist()], dtype=np.int64)
        table = np.stack([self._plan(key)[1] for key in keys]) if keys else np.zeros((0, self._n), np.int8)
        out = table[key_of[row], unit] if len(unit) else np.zeros(0, dtype=np.int8)
        # a unit allowed at no level (never sent by this rule: only by a component's own order)
        off = out < 0
        if off.any():
            district = self.model._incident_district()[incident[off]]
            out[off] = default_levels(self.tier[unit[off]], self.home[unit[off]], district,
                                      np.zeros(int(off.sum()), dtype=bool))
        return out.astype(np.int8)

    # -- the decision ---------------------------------------------------------------
    def choose(self, i: int, c: int, k: int) -> list[int]:
        """Units for capability ``c`` of incident ``i`` (up to ``k``): the first level that meets the plan."""
        steps, level = self._plan(self._key(i))
        fleet = self.model.fleet
        eligible, able = fleet.eligible, fleet.cap_units[c]
        best: list[int] = []
        seen = 0
        for step in steps:
            mask = eligible & step
            n = int(np.count_nonzero(mask[able]))
            if n == seen:  # this level adds no free unit of the capability: the same choice again
                continue
            seen = n
            units, minutes = self._pick(i, c, k, mask, level)
            best = units
            if len(units) == k and max(minutes) <= self.wait:
                break
        return best

    def _pick(self, i: int, c: int, k: int, mask: np.ndarray, level: np.ndarray) -> tuple[list[int], list]:
        """The policy's choice among ``mask``, each lender keeping ``keep_at_home`` units of ``c``.

        Mutates ``mask`` (a fresh array of the caller's): chosen units and exhausted lenders drop out.
        """
        chosen: list[int] = []
        minutes: list[float] = []
        lent: dict[int, int] = {}
        dispatch = self.model.dispatch
        while len(chosen) < k:
            units, mins = dispatch.choose_among(i, c, k - len(chosen), mask)
            if not units:
                break
            blocked = False
            for u, t in zip(units, mins, strict=True):
                g = int(self.group[u]) if level[u] in (1, 3) else -1
                if g >= 0 and lent.get(g, 0) >= self._spare(g, c, -1) - self.keep:
                    mask[self.group_units[g]] = False  # this lender has lent all it may
                    blocked = True
                    break
                chosen.append(u)
                minutes.append(t)
                if g >= 0:
                    lent[g] = lent.get(g, 0) + 1
                mask[u] = False
            if not blocked:
                break
        return chosen, minutes

    def _spare(self, g: int, c: int, without: int) -> int:
        """Free units of capability ``c`` in lender group ``g`` (not counting unit ``without``)."""
        units = self.group_units[g]
        fleet = self.model.fleet
        n = int((fleet.eligible[units] & self.cap_mask[c, units]).sum())
        if without >= 0 and self.group[without] == g and fleet.eligible[without]:
            n -= int(self.cap_mask[c, without])
        return n

    def may_serve(self, u: int, i: int, c: int) -> bool:
        """May free unit ``u`` take waiting incident ``i`` (for capability ``c``)? Lenders keep k at home."""
        level = self._plan(self._key(i))[1][u]
        if level < 0:
            return False
        if level in (1, 3):
            return self._spare(int(self.group[u]), c, u) >= self.keep
        return True

    # -- results -------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Assignments per level, and what lending cost each district (for run.json; nothing when off)."""
        if not self.section.enabled:
            return {}
        m = self.model
        w = m.world
        rows = m.assignments.array(m._unfinished_assignments())
        if len(rows) == 0:
            return {"assignments_by_level": dict.fromkeys(LEVELS, 0)}
        inc, unit = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
        t0, t_free = rows[:, 2], np.where(np.isnan(rows[:, 5]), m.until, rows[:, 5])
        counted = t0 >= w.warmup_min
        level = self.levels(unit, inc)
        by_level = {name: int(((level == lv) & counted).sum()) for lv, name in enumerate(LEVELS)}
        aid = counted & (level == 1)
        response = self._own_response()
        lenders = {}
        for d in np.unique(self.home[unit[aid]]).tolist():
            mine = aid & (self.home[unit] == d)
            lenders[w.district_names[d]] = {"assignments": int(mine.sum()),
                                            "unit_min_away": round(float((t_free - t0)[mine].sum()), 2),
                                            "own_mean_response_min": response[d]}
        escalated = np.unique(inc[counted & (level > 0)]).size
        return {"assignments_by_level": by_level, "incidents_escalated": int(escalated),
                "lenders": lenders}

    def _own_response(self) -> list[float | None]:
        """Mean response (call to first arrival, minutes) of each district's own calls after the warm-up."""
        m = self.model
        book, w = m.book, m.world
        s = book.stream
        t_call = np.concatenate([s.t_call, np.asarray(book.raised["t_call"], dtype=np.float64)])[:book.n]
        district = np.asarray(book.district, dtype=np.int64)
        arrived = m.log.first_times(K.UNIT_ARRIVED)[:book.n]
        ok = (t_call >= w.warmup_min) & (t_call < m.until) & ~np.isnan(arrived)
        out: list[float | None] = []
        for d in range(len(w.district_names)):
            mine = ok & (district == d)
            out.append(round(float((arrived - t_call)[mine].mean()), 3) if mine.any() else None)
        return out


def _xy(book: Any, i: int) -> tuple[float, float]:
    """Scene coordinates (km) of incident ``i`` (the stream's, or a raised incident's)."""
    s = book.stream
    if i < s.n:
        return float(s.x_km[i]), float(s.y_km[i])
    return float(book.raised["x_km"][i - s.n]), float(book.raised["y_km"][i - s.n])


@register("diversion")
class Diversion(Component):
    """Diverts an en-route unit from a less urgent call to a call that would otherwise wait.

    Lifecycle: :meth:`start` hooks :meth:`short` onto the dispatch centre's
    ``on_short`` -> each time a capability of a call would wait, the en-route unit
    of that capability (past its turnout, on a call at least ``priority_gap``
    levels less urgent, allowed for the call by the escalation rules if any) with
    the shortest expected arrival is diverted (``DispatchCentre.divert``) ->
    :meth:`summary` counts diversions.

    Parameters
    ----------
    model : agents.model.Simulation
    section : DiversionSection
    """

    Section = DiversionSection

    @classmethod
    def check(cls, world: Any, section: DiversionSection, source: str | None) -> None:
        """Capabilities must be the World's (raises InputError naming the field)."""
        for j, cap in enumerate(section.capabilities or []):
            if cap not in world.capability_names:
                raise InputError(f"unknown capability {cap!r}; known: {', '.join(world.capability_names)}",
                                 source, f"components.diversion.capabilities[{j}]")

    def __init__(self, model: Any, section: DiversionSection):
        super().__init__(model, section)
        caps = model.world.capability_names
        self.caps = set(range(len(caps))) if section.capabilities is None else {
            caps.index(x) for x in section.capabilities}
        self.count = 0

    def start(self) -> None:
        """Be asked whenever a need would wait."""
        self.model.dispatch.on_short = self.short

    def short(self, i: int, c: int, now: float) -> None:
        """Capability ``c`` of incident ``i`` would wait: divert en-route units of less urgent calls to it."""
        if c not in self.caps:
            return
        m = self.model
        dispatch, fleet, book = m.dispatch, m.fleet, m.book
        base = i * book.n_caps + c
        limit = book.priority[i] + self.section.priority_gap
        while book.need[base] > 0:
            best, best_t = -1, math.inf
            for u in fleet.cap_units[c].tolist():
                if fleet.state[u] != BUSY:
                    continue
                unit = fleet.units[u]
                j = unit.job
                if j < 0 or j == i or book.priority[j] < limit or not dispatch.on_the_road(u):
                    continue
                if dispatch.may_serve is not None and not dispatch.may_serve(u, i, c):
                    continue
                start = dispatch._trip_start(unit)
                here = m.travel.position(int(fleet.loc[u]), book.loc[j], (now - start) * unit.speed)
                t = m.travel.time(int(here), book.loc[i]) / unit.speed
                if t < best_t:
                    best, best_t = u, t
            if best < 0:
                return
            dispatch.divert(best, i, c)
            self.count += 1

    def summary(self) -> dict[str, Any]:
        """Units diverted (for run.json)."""
        return {"diversions": self.count}

"""The drill: a scenario's timeline of injects, carried out at their times (issue #13).

The scenario's top-level ``drill:`` section (schema: :mod:`scenarios.drill`)
reaches the run as this component, registered as ``drill``. Each inject
fires at its time through a SimPy timeout and drives a mechanism that
exists; nothing it does happens before its time:

============================  ================================================================
inject                        mechanism
============================  ================================================================
incident                      ``Simulation.raise_incident`` (source ``drill``, label = inject id),
                              plus one incident of ``casualty_type`` per casualty at its scene
unit_breakdown / unit_repair  ``Fleet.take_out`` / ``Fleet.put_back``
station_closure / reopening   the same for every unit of the station
road_closure / reopening      ``model.travel.change_links`` (then ``forget_routes``), as
                              ``road_changes`` do: trips that start later take the detour
hospital_diversion / reopen   ``Simulation.divert_hospital``: patients go to the nearest other one
outage / outage_recovery      the call centre goes down as in ``outages`` (``Switchboard``):
                              calls go to its fallback or wait
demand_surge                  extra incidents from ``at`` to ``until``, a Poisson stream of
                              ``multiplier - 1`` times the demand's rate, raised from this
                              component's own random stream
shelter_opening               ``model.components["citizens"].open_shelter(shelter)``
resupply                      ``model.components["reserves"].resupply(depot, material, quantity)``
policy_switch                 the dispatch centre's policy object is replaced
============================  ================================================================

Each inject logs an ``inject`` event (detail ``{"inject": id}``) when it
fires and adds a row to ``injects.parquet``: ``inject_id``, ``t_min``,
``kind``, ``description``, ``incident_ids`` (the incidents it raised,
comma-separated). Random numbers come from the stream ``drill`` with one
sub-stream per inject, keyed by a hash of its id: adding, removing or
moving one inject never changes what another draws, and a scenario without
a drill draws what it drew before.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

from agents.components import Component, register
from agents.schedules import ROAD_CHANGED
from scenarios.drill import DrillSection, inject_minutes
from sim.errors import InputError
from sim.eventlog import register_kind
from sim.kernels import categorical
from sim.world import Outage

#: An inject of the drill fires (detail: ``{"inject": id}``).
INJECT = register_kind("inject")
#: A hospital starts or ends a diversion (detail: hospital, diverting).
HOSPITAL_DIVERSION = register_kind("hospital_diversion")

#: Inject kinds whose mechanism needs another component, with the method they call.
NEEDS = {"shelter_opening": ("citizens", "open_shelter"), "resupply": ("reserves", "resupply")}


def sub_stream(inject_id: str) -> int:
    """The sub-stream of the ``drill`` stream that an inject draws from (a hash of its id)."""
    return zlib.crc32(inject_id.encode())


@register("drill")
class DrillComponent(Component):
    """Carries out the injects of the scenario's ``drill`` section at their times.

    Lifecycle: built with the validated section (inject times resolved
    against ``time.start``, names against the World) -> ``start()`` sets a
    timeout per inject -> each fires, logs ``inject`` and drives its
    mechanism -> ``tables()`` gives ``injects``.

    Parameters
    ----------
    model : agents.model.Simulation
    section : scenarios.drill.DrillSection
    """

    Section = DrillSection

    def __init__(self, model: Any, section: DrillSection):
        super().__init__(model, section)
        w = model.world
        self.injects = list(section.injects)
        self.at = [inject_minutes(x.at, w.start) for x in self.injects]
        self.ends = [inject_minutes(x.until, w.start) if getattr(x, "until", None) is not None else math.inf
                     for x in self.injects]
        self.roads = {x.id: _road_links(w, x, "") for x in self.injects if x.kind == "road_closure"}
        self.policies = {x.id: _policy(w, x, "") for x in self.injects if x.kind == "policy_switch"}
        #: fired injects: (inject index, time); raised incidents per inject index
        self.fired: list[tuple[int, float]] = []
        self.raised: dict[int, list[int]] = {}

    @classmethod
    def check(cls, world: Any, section: DrillSection, source: str | None) -> None:
        """Check what the schema cannot: roads exist, policies and called components are known.

        Raises
        ------
        InputError
            Naming ``drill.injects[i].<field>``.
        """
        from agents.components import lookup

        for i, inject in enumerate(section.injects):
            path = f"drill.injects[{i}]"
            if inject.kind == "road_closure":
                _road_links(world, inject, path, source)
            elif inject.kind == "policy_switch":
                _policy(world, inject, path, source)
            elif inject.kind in NEEDS:
                name, method = NEEDS[inject.kind]
                if name not in world.components:
                    raise InputError(f"a {inject.kind} inject needs the {name} component (components.{name})",
                                     source, path)
                component = lookup(name, source, allow_code=False)
                if not callable(getattr(component, method, None)):
                    raise InputError(f"the {name} component has no {method}() method for a {inject.kind} "
                                     "inject", source, path)
                check = getattr(component, f"check_{method}", None)  # the component checks the arguments
                if callable(check):
                    check(world, world.components[name], inject, path, source)

    def start(self) -> None:
        """Set a timeout for every inject (in list order: injects at the same time fire in that order)."""
        m = self.model
        if any(x.kind in ("outage", "outage_recovery") for x in self.injects):
            # calls must go through the centres (the shortcut answers them without): same log, no shortcut
            m.calls._shortcut = m.calls.instant = False
        for k in range(len(self.injects)):
            m.env.timeout(self.at[k], value=k).callbacks.append(self._fire)

    # -- injects ----------------------------------------------------------------------
    def _fire(self, event: Any) -> None:
        k = event.value
        m, inject = self.model, self.injects[k]
        self.fired.append((k, m.env.now))
        m.log.add(m.env.now, INJECT, -1, -1, m.detail(("inject", inject.id), lambda: {"inject": inject.id}))
        getattr(self, "_" + inject.kind)(k, inject)

    def _later(self, k: int, action: Any) -> None:
        """Call ``action()`` at inject ``k``'s ``until`` (if it has one inside the run)."""
        end = self.ends[k]
        if end < math.inf:
            self.model.env.timeout(end - self.model.env.now).callbacks.append(lambda _: action())

    def _rng(self, inject: Any) -> np.random.Generator:
        return self.model.streams.named("drill", sub_stream(inject.id))

    def _incident(self, k: int, x: Any) -> None:
        m, rng = self.model, self._rng(x)
        loc, xy = None, None
        if isinstance(x.location, str):
            loc = int(m.world.geo.locate_places([x.location])[0])
        elif x.location is not None:
            xy = tuple(x.location)
        i = m.raise_incident(x.type, x.district, source="drill", rng=rng, xy=xy, loc=loc, priority=x.priority,
                             on_scene=x.on_scene, transport=x.transport, label=x.id)
        ids = self.raised.setdefault(k, [i])
        for _ in range(x.casualties):
            ids.append(m.raise_incident(x.casualty_type, x.district, source="drill", rng=rng,
                                        loc=int(m.book.loc[i]), transport=True, label=x.id))

    def _unit_breakdown(self, k: int, x: Any) -> None:
        fleet, u = self.model.fleet, self.model.world.unit_names.index(x.unit)
        fleet.take_out(u, x.reason)
        self._later(k, lambda: fleet.put_back(u))

    def _unit_repair(self, k: int, x: Any) -> None:
        self.model.fleet.put_back(self.model.world.unit_names.index(x.unit))

    def _station_units(self, station: str) -> list[int]:
        w = self.model.world
        return np.flatnonzero(w.unit_station == w.station_names.index(station)).tolist()

    def _station_closure(self, k: int, x: Any) -> None:
        fleet, units = self.model.fleet, self._station_units(x.station)
        for u in units:
            fleet.take_out(u, f"station {x.station} closed")
        self._later(k, lambda: [fleet.put_back(u) for u in units])

    def _station_reopening(self, k: int, x: Any) -> None:
        for u in self._station_units(x.station):
            self.model.fleet.put_back(u)

    def _road_closure(self, k: int, x: Any) -> None:
        self._roads(x.id, x.factor)
        self._later(k, lambda: self._roads(x.id, 1.0))

    def _road_reopening(self, k: int, x: Any) -> None:
        self._roads(x.closure, 1.0)

    def _roads(self, closure: str, factor: float) -> None:
        m = self.model
        tail, head = self.roads[closure]
        m.travel.change_links(tail, head, factor)
        m.forget_routes()
        m.log.add(m.env.now, ROAD_CHANGED, -1, -1, {"label": closure, "factor": factor, "links": len(tail)})

    def _hospital_diversion(self, k: int, x: Any) -> None:
        self._divert(x.hospital, True)
        self._later(k, lambda: self._divert(x.hospital, False))

    def _hospital_reopening(self, k: int, x: Any) -> None:
        self._divert(x.hospital, False)

    def _divert(self, hospital: str, diverting: bool) -> None:
        m = self.model
        m.divert_hospital(m.world.hospital_names.index(hospital), diverting)
        m.log.add(m.env.now, HOSPITAL_DIVERSION, -1, -1, {"hospital": hospital, "diverting": diverting})

    def _centre(self, x: Any) -> int:
        w = self.model.world
        if x.centre is not None:
            return w.centre_names.index(x.centre)
        return int(w.line_centre[w.line_names.index(x.line)])

    def _outage(self, k: int, x: Any) -> None:
        m = self.model
        m.env.process(m.calls._outage(Outage(self._centre(x), 0.0, self.ends[k], x.held_calls, x.id)))

    def _outage_recovery(self, k: int, x: Any) -> None:
        m = self.model
        centre = m.calls.centres[self._centre(x)]
        if centre.down:
            centre.down = False
            m.log.add(m.env.now, "outage_ended", -1, -1, {"centre": centre.name, "label": x.id})
            centre.serve_waiting()

    def _demand_surge(self, k: int, x: Any) -> None:
        self.model.env.process(self._surge(k, x))

    def _surge(self, k: int, x: Any):
        """Raise the surge's extra incidents: a Poisson stream, exact over the demand's rate bins."""
        m, w = self.model, self.model.world
        rates = w.demand_rates if w.demand_rates is not None else w.rates
        dmask = np.array([x.districts is None or d in x.districts for d in w.district_names])
        kmask = np.array([x.incident_types is None or t in x.incident_types for t in w.type_names])
        extra = (x.multiplier - 1.0) * rates * (dmask[:, None] & kmask[None, :])[None, :, :]
        edges, rng, nt = w.bin_edges, self._rng(x), len(w.type_names)
        end = min(self.ends[k], float(edges[-1]))
        ids = self.raised.setdefault(k, [])
        while m.env.now < end:
            b = int(np.searchsorted(edges, m.env.now, side="right")) - 1
            weights = extra[b].ravel()
            total = float(weights.sum())
            edge = min(float(edges[b + 1]), end)
            gap = rng.exponential(1.0 / total) if total > 0 else math.inf
            if m.env.now + gap >= edge:  # none before the bin's edge: start afresh there (memoryless)
                yield m.env.timeout(edge - m.env.now)
                continue
            yield m.env.timeout(gap)
            cell = int(categorical((weights / total)[None, :], np.zeros(1, dtype=np.int64), rng.random(1))[0])
            ids.append(m.raise_incident(cell % nt, cell // nt, source="drill", rng=rng, label=x.id))

    def _shelter_opening(self, k: int, x: Any) -> None:
        self.model.components["citizens"].open_shelter(x.shelter)

    def _resupply(self, k: int, x: Any) -> None:
        self.model.components["reserves"].resupply(x.depot, x.material, x.quantity)

    def _policy_switch(self, k: int, x: Any) -> None:
        dispatch = self.model.dispatch
        dispatch.policy = policy = self.policies[x.id]
        dispatch.preference = getattr(policy, "preference", None)

    # -- after the run ------------------------------------------------------------------
    def tables(self) -> dict[str, dict[str, Any]]:
        """``injects``: one row per inject that fired, in firing order."""
        rows = self.fired
        return {"injects": {
            "inject_id": np.array([self.injects[k].id for k, _ in rows], dtype=object),
            "t_min": np.array([t for _, t in rows], dtype=np.float64),
            "kind": np.array([self.injects[k].kind for k, _ in rows], dtype=object),
            "description": np.array([self.injects[k].description for k, _ in rows], dtype=object),
            "incident_ids": np.array([",".join(map(str, self.raised.get(k, []))) for k, _ in rows],
                                     dtype=object),
        }}

    def summary(self) -> dict[str, Any]:
        """Figures for run.json: injects fired and incidents they raised."""
        return {"injects": len(self.fired), "incidents_raised": sum(len(v) for v in self.raised.values()),
                "background": self.section.background}


#: How far (km) beyond the road network's bounding box a road closure's end may lie (rounded coordinates).
OFF_MAP_KM = 1.0


def _road_links(world: Any, x: Any, path: str, source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The directed links a road closure inject changes (node ids int64[k] each)."""
    net = getattr(world.geo, "net", None)
    if net is None:
        raise InputError("road closures need a road geography (grid, ring_radial, network or osm)",
                         source, path)
    if x.area is not None:
        tail, head = net.links_near(tuple(x.area.centre), x.area.radius_km)
        if not len(tail):
            cx, cy = x.area.centre
            raise InputError(f"no road within {x.area.radius_km:g} km of [{cx:g}, {cy:g}]", source,
                             f"{path}.area")
        return tail, head
    ends = [tuple(x.link.from_loc), tuple(x.link.to_loc)]
    (x0, y0), (x1, y1) = net.xy.min(axis=0), net.xy.max(axis=0)
    lo, hi = (x0 - OFF_MAP_KM, y0 - OFF_MAP_KM), (x1 + OFF_MAP_KM, y1 + OFF_MAP_KM)
    for end in ends:  # beyond the network's bounding box by more than OFF_MAP_KM: a typo, not a street
        if not (lo[0] <= end[0] <= hi[0] and lo[1] <= end[1] <= hi[1]):
            raise InputError(f"[{end[0]:g}, {end[1]:g}] lies outside the road network (x from {x0:g} to "
                             f"{x1:g} km, y from {y0:g} to {y1:g} km)", source, f"{path}.link")
    nodes = net.snap(np.asarray(ends, dtype=np.float64)).tolist()
    pairs = [(0, 1), (1, 0)] if x.link.both_ways else [(0, 1)]
    for a, b in pairs:
        if not net.has_link(nodes[a], nodes[b]):
            raise InputError(f"no road runs from {_node(net, ends[a], nodes[a])} to "
                             f"{_node(net, ends[b], nodes[b])}", source, f"{path}.link")
    return (np.array([nodes[a] for a, _ in pairs], dtype=np.int64),
            np.array([nodes[b] for _, b in pairs], dtype=np.int64))


def _node(net: Any, xy: tuple[float, float], node: int) -> str:
    x, y = net.xy[node]
    snapped = "" if (x, y) == tuple(xy) else f" (road node at [{x:g}, {y:g}])"
    return f"[{xy[0]:g}, {xy[1]:g}]{snapped}"


def _policy(world: Any, x: Any, path: str, source: str | None = None) -> Any:
    """The policy object a policy switch inject installs (registered names only: a scenario is data)."""
    from agents.policies import resolve

    where = f"{path}.dispatch" if path else None
    return resolve(x.dispatch, dict(x.params), world, source=source, path=where)

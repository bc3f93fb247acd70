"""Compile a validated scenario into a World: numpy arrays and a travel model.

The World is replication-independent and read-only during runs, so one
compiled World serves every replication and policy of a sweep. The scenario
object is read by attribute only (this module does not import ``scenarios``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.errors import InputError
from sim.geo import MatrixGeo, PlaneGeo, RoadGeo
from sim.network import PRECOMPUTE_NODES, build

TIERS = ("city", "district", "enterprise")
#: The agency of unit types that name none (scenarios.schema.DEFAULT_AGENCY).
DEFAULT_AGENCY = "fire"


@dataclass(frozen=True)
class Outage:
    """Call centre ``centre`` (its dispatch system) down over [start_min, end_min).

    ``held_calls`` says what happens to calls on hold at the start: ``"transfer"``
    (to the centre's fallback) or ``"lose"`` (abandoned).
    """

    centre: int
    start_min: float
    end_min: float
    held_calls: str
    label: str


@dataclass(frozen=True, eq=False)
class RoadChange:
    """Directed road links ``tail[i] -> head[i]`` (node ids, int64) at ``factor`` x their speed.

    In force over [at_min, until_min); ``until_min`` is ``inf`` when the change
    lasts to the end of the run. ``factor`` 0 closes the links. Compared by
    identity (it holds arrays).
    """

    at_min: float
    until_min: float
    tail: np.ndarray
    head: np.ndarray
    factor: float
    label: str


@dataclass(frozen=True)
class UnitOutage:
    """Unit ``unit`` out of service over [start_min, end_min) (``inf``: to the end of the run)."""

    unit: int
    start_min: float
    end_min: float
    reason: str


@dataclass(eq=False)
class World:
    """Everything a run needs, as arrays indexed by integer ids.

    Names are tuples in scenario order; ``*_district`` and similar arrays hold
    indices into those tuples. Times are minutes, rates are per minute.

    Call handling: ``call_takers``, ``answer``, ``processing`` and ``patience``
    are those of centre 0. The ``centre_*`` fields and ``type_line`` may be
    left out when a World is built by hand: they then describe one centre
    with those values serving one line, as a scenario without call lines or
    centres compiles.
    """

    name: str
    source: str
    horizon_min: float
    warmup_min: float
    start: dt.datetime
    geo: Any
    district_names: tuple[str, ...]
    district_population: np.ndarray
    district_neighbours: np.ndarray        # bool[nd, nd]
    district_boundaries: tuple[np.ndarray | None, ...]
    district_zones: tuple[tuple[np.ndarray, np.ndarray] | None, ...]  # (locations, weights)
    station_names: tuple[str, ...]
    station_district: np.ndarray
    station_tier: np.ndarray
    station_loc: np.ndarray
    hospital_names: tuple[str, ...]
    hospital_loc: np.ndarray
    hospital_capacity: np.ndarray
    unit_type_names: tuple[str, ...]
    capability_names: tuple[str, ...]
    unit_names: tuple[str, ...]
    unit_station: np.ndarray
    unit_type: np.ndarray
    unit_district: np.ndarray
    unit_tier: np.ndarray
    unit_caps: np.ndarray                  # bool[nu, nc]
    unit_speed: np.ndarray
    unit_transports: np.ndarray
    unit_turnout: np.ndarray
    type_names: tuple[str, ...]
    type_priority_values: np.ndarray       # int[nt, L], padded
    type_priority_weights: np.ndarray      # float[nt, L], zero where padded
    type_target: dict[tuple[int, int], float]
    type_required: np.ndarray              # int[nt, nc]
    type_on_scene: tuple[Any, ...]
    type_transport_p: np.ndarray
    type_handover: tuple[Any, ...]
    type_max_queue: np.ndarray             # inf when none
    bin_edges: np.ndarray                  # float[nb + 1], minutes
    rates: np.ndarray                      # float[nb, nd, nt], per minute
    scripted: tuple[Any, ...]
    call_takers: int                       # 0 = unlimited
    answer: Any
    processing: Any
    patience: Any
    policy_name: str
    policy_params: dict[str, Any]
    redispatch_returning: bool
    line_names: tuple[str, ...] = ("119",)
    type_line: np.ndarray | None = None          # int64[nt], index into line_names
    centre_names: tuple[str, ...] = ("dispatch",)
    centre_lines: np.ndarray | None = None       # bool[n_centres, n_lines]
    line_centre: np.ndarray | None = None        # int64[n_lines]: the primary centre of each line
    centre_call_takers: np.ndarray | None = None  # int64[n_centres], 0 = unlimited
    centre_takers_by_hour: tuple[np.ndarray | None, ...] | None = None  # int64[24] (clock hour) or None
    centre_answer: tuple[Any, ...] | None = None
    centre_processing: tuple[Any, ...] | None = None
    centre_patience: tuple[Any, ...] | None = None    # None entries: callers never hang up
    centre_fallback: np.ndarray | None = None    # int64[n_centres], -1 = none
    centre_manual_factor: np.ndarray | None = None  # float64[n_centres]
    outages: tuple[Outage, ...] = ()
    road_changes: tuple[RoadChange, ...] = ()
    unit_outages: tuple[UnitOutage, ...] = ()
    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    #: the demand's rates even when a drill's ``background: false`` zeroed ``rates`` (None: ``rates``)
    demand_rates: np.ndarray | None = None
    agency_names: tuple[str, ...] = ("fire",)    # the agencies of the unit types, first seen first
    unit_agency: np.ndarray | None = None        # int64[nu], index into agency_names (default: all 0)

    def __post_init__(self) -> None:
        """Fill call-line and centre fields left out with the one-centre default. Mutates ``self``."""
        if self.unit_agency is None:
            self.unit_agency = np.zeros(len(self.unit_names), dtype=np.int64)
        if self.type_line is None:
            self.type_line = np.zeros(len(self.type_names), dtype=np.int64)
        n_lines = len(self.line_names)
        if self.centre_lines is None:
            self.centre_lines = np.ones((len(self.centre_names), n_lines), dtype=bool)
        if self.line_centre is None:
            self.line_centre = np.argmax(self.centre_lines, axis=0).astype(np.int64)
        if self.centre_call_takers is None:
            self.centre_call_takers = np.array([self.call_takers], dtype=np.int64)
        if self.centre_takers_by_hour is None:
            self.centre_takers_by_hour = (None,) * len(self.centre_names)
        for name in ("answer", "processing", "patience"):
            if getattr(self, f"centre_{name}") is None:
                setattr(self, f"centre_{name}", (getattr(self, name),))
        if self.centre_fallback is None:
            self.centre_fallback = np.full(len(self.centre_names), -1, dtype=np.int64)
        if self.centre_manual_factor is None:
            self.centre_manual_factor = np.ones(len(self.centre_names), dtype=np.float64)

    @property
    def n_units(self) -> int:
        """Number of responder units."""
        return len(self.unit_names)

    def expected_counts(self) -> np.ndarray:
        """Expected generated incidents per (district, type) over the horizon, float[nd, nt]."""
        return np.einsum("b,bdk->dk", np.diff(self.bin_edges), self.rates)


def compile_world(scenario: Any) -> World:
    """Build the World of a validated scenario.

    Parameters
    ----------
    scenario : scenarios.Scenario
        A scenario that passed schema validation.

    Returns
    -------
    World

    Raises
    ------
    InputError
        When the geography does not connect stations to the places they serve.
    """
    s = scenario
    source = getattr(s, "__anjeon_source__", "<dict>")
    districts = list(s.districts)
    boundaries = tuple(
        None if d.boundary is None else np.asarray(d.boundary, dtype=np.float64)
        for d in s.districts.values()
    )
    geo = _geography(s, boundaries, source)
    station_loc = _locations(s, geo, [st.location for st in s.stations.values()])
    hospital_loc = _locations(s, geo, [h.location for h in s.hospitals.values()])
    zones = _zones(s, geo)
    if isinstance(geo, RoadGeo):
        geo.net.prepare([*station_loc, *hospital_loc])
        if geo.net.n_nodes <= PRECOMPUTE_NODES:
            geo.net.prepare_all()
        _check_connected(s, geo, station_loc, hospital_loc, boundaries, source)
    units = _units(s)
    types = _incident_types(s, units["capability_names"])
    edges, rates = _demand(s, districts, list(s.incident_types))
    neighbours = np.zeros((len(districts), len(districts)), dtype=bool)
    for i, d in enumerate(s.districts.values()):
        for other in d.neighbours:
            neighbours[i, districts.index(other)] = True
    stations = list(s.stations.values())
    calls = _call_centres(s, list(s.incident_types))
    return World(
        name=s.name,
        source=source,
        horizon_min=float(s.time.horizon),
        warmup_min=float(s.time.warmup),
        start=s.time.start,
        geo=geo,
        district_names=tuple(districts),
        district_population=np.array([d.population for d in s.districts.values()], dtype=np.int64),
        district_neighbours=neighbours,
        district_boundaries=boundaries,
        district_zones=zones,
        station_names=tuple(s.stations),
        station_district=np.array([districts.index(st.district) for st in stations], dtype=np.int64),
        station_tier=np.array([TIERS.index(st.tier) for st in stations], dtype=np.int64),
        station_loc=station_loc,
        hospital_names=tuple(s.hospitals),
        hospital_loc=hospital_loc,
        hospital_capacity=np.array([h.capacity for h in s.hospitals.values()], dtype=np.int64),
        **units,
        **types,
        bin_edges=edges,
        rates=rates if getattr(s, "drill", None) is None or s.drill.background else np.zeros_like(rates),
        demand_rates=rates,
        scripted=tuple(s.incidents),
        call_takers=int(calls["centre_call_takers"][0]),
        answer=calls["centre_answer"][0],
        processing=calls["centre_processing"][0],
        patience=calls["centre_patience"][0],
        policy_name=s.policy.dispatch,
        policy_params=dict(s.policy.params),
        redispatch_returning=s.policy.redispatch_returning,
        **calls,
        road_changes=_road_changes(s, geo, source),
        unit_outages=_unit_outages(s, units["unit_names"]),
        components={name: dict(section) for name, section in s.components.items()} | _drill(s),
        info=_info(s, geo),
    )


def _drill(s: Any) -> dict[str, Any]:
    """The scenario's ``drill`` section as the ``drill`` component's (agents/drill.py); {} without one."""
    drill = getattr(s, "drill", None)
    return {} if drill is None else {"drill": drill.model_dump(mode="json", by_alias=True)}


def _geography(s: Any, boundaries, source: str):
    g = s.geography
    if g.kind == "matrix":
        return MatrixGeo(g.places, np.asarray(g.travel_min, dtype=np.float64))
    if g.kind == "coordinates":
        return PlaneGeo(g.metric, g.speed_kmh, g.detour_factor, np.empty((0, 2)))
    network = build(g, [b for b in boundaries if b is not None], source)
    if network.n_nodes == 0:
        raise InputError("the road network has no nodes (inside the districts)", source, "geography")
    return RoadGeo(network)


def _locations(s: Any, geo, locations: list) -> np.ndarray:
    if not locations:
        return np.empty(0, dtype=np.int64)
    if isinstance(geo, MatrixGeo):
        return geo.locate_places(locations)
    return np.asarray(geo.locate(np.asarray(locations, dtype=np.float64)), dtype=np.int64)


def _zones(s: Any, geo) -> tuple:
    if getattr(s.geography, "spread", None) == "road_length":  # osm: incidents on road nodes
        from sim.osm.districts import road_zones

        return road_zones(geo.net, [d.boundary for d in s.districts.values()])
    if not isinstance(geo, MatrixGeo):
        return tuple(None for _ in s.districts)
    return tuple(
        None if not d.zones else
        (geo.locate_places(list(d.zones)), np.asarray(list(d.zones.values()), dtype=np.float64))
        for d in s.districts.values()
    )


def _check_connected(s, geo: RoadGeo, station_loc, hospital_loc, boundaries, source: str) -> None:
    comp = geo.net.components()
    reach = set(comp[station_loc].tolist())
    for name, loc in zip(s.hospitals, hospital_loc, strict=True):
        if comp[loc] not in reach:
            raise InputError("no road connects this hospital to any station", source,
                             f"hospitals.{name}.location")
    xy = geo.net.xy
    from sim.kernels import points_in_polygon

    for name, poly in zip(s.districts, boundaries, strict=True):
        inside = points_in_polygon(xy[:, 0], xy[:, 1], poly)
        nodes = np.flatnonzero(inside)
        if nodes.size == 0:
            nodes = geo.net.snap(poly.mean(axis=0)[None, :])
        cut = [n for n in nodes if comp[n] not in reach]
        if cut:
            raise InputError(
                f"{len(cut)} road node(s) of this district have no road to any station; "
                "add a link in geography.links", source, f"districts.{name}")


def _units(s: Any) -> dict[str, Any]:
    type_names = list(s.unit_types)
    caps: list[str] = []
    for t in type_names:
        caps.extend(c for c in s.capabilities(t) if c not in caps)
    stations = list(s.stations)
    rows: list[tuple[str, int, int]] = []
    for station, fleet in s.fleets.items():
        for unit_type, count in fleet.items():
            rows.extend((f"{station}/{unit_type}/{i + 1}", stations.index(station),
                         type_names.index(unit_type)) for i in range(count))
    st_idx = np.array([r[1] for r in rows], dtype=np.int64)
    ty_idx = np.array([r[2] for r in rows], dtype=np.int64)
    districts = list(s.districts)
    st_district = np.array([districts.index(x.district) for x in s.stations.values()], dtype=np.int64)
    st_tier = np.array([TIERS.index(x.tier) for x in s.stations.values()], dtype=np.int64)
    cap_matrix = np.array(
        [[c in s.capabilities(t) for c in caps] for t in type_names], dtype=bool
    ).reshape(len(type_names), len(caps))
    ut = [s.unit_types[t] for t in type_names]
    type_agency = [u.agency or DEFAULT_AGENCY for u in ut]
    agencies = tuple(dict.fromkeys(type_agency))
    return dict(
        agency_names=agencies,
        unit_agency=np.array([agencies.index(type_agency[t]) for t in ty_idx], dtype=np.int64),
        unit_type_names=tuple(type_names),
        capability_names=tuple(caps),
        unit_names=tuple(r[0] for r in rows),
        unit_station=st_idx,
        unit_type=ty_idx,
        unit_district=st_district[st_idx],
        unit_tier=st_tier[st_idx],
        unit_caps=cap_matrix[ty_idx],
        unit_speed=np.array([ut[t].speed_factor for t in ty_idx], dtype=np.float64),
        unit_transports=np.array([ut[t].transports for t in ty_idx], dtype=bool),
        unit_turnout=np.array([ut[t].turnout for t in ty_idx], dtype=np.float64),
    )


def _incident_types(s: Any, capabilities: tuple[str, ...]) -> dict[str, Any]:
    types = list(s.incident_types.values())
    width = max(len(t.priority_mix) for t in types)
    values = np.zeros((len(types), width), dtype=np.int64)
    weights = np.zeros((len(types), width), dtype=np.float64)
    required = np.zeros((len(types), len(capabilities)), dtype=np.int64)
    target: dict[tuple[int, int], float] = {}
    for k, t in enumerate(types):
        for j, (p, w) in enumerate(t.priority_mix.items()):
            values[k, j], weights[k, j] = p, w
            target[(k, p)] = float(t.target_min(p))
        for cap, n in t.required_units.items():
            required[k, capabilities.index(cap)] = n
    return dict(
        type_names=tuple(s.incident_types),
        type_priority_values=values,
        type_priority_weights=weights,
        type_target=target,
        type_required=required,
        type_on_scene=tuple(t.on_scene for t in types),
        type_transport_p=np.array([t.transport_probability for t in types], dtype=np.float64),
        type_handover=tuple(t.handover for t in types),
        type_max_queue=np.array([t.max_queue or np.inf for t in types], dtype=np.float64),
    )


def _profile_weights(s: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    glob, own = s.demand.profile, s.demand.profiles.get(kind)
    tod = (own and own.time_of_day) or glob.time_of_day or [1.0] * 24
    dow = (own and own.day_of_week) or glob.day_of_week or [1.0] * 7
    tod, dow = np.asarray(tod, dtype=np.float64), np.asarray(dow, dtype=np.float64)
    return tod / tod.mean(), dow / dow.mean()


def _demand(s: Any, districts: list[str], kinds: list[str]) -> tuple[np.ndarray, np.ndarray]:
    horizon = float(s.time.horizon)
    start = s.time.start
    offset = start.minute + start.second / 60 + start.microsecond / 6e7
    first = (60.0 - offset) % 60.0
    cuts = set(np.arange(first, horizon, 60.0).tolist())
    for surge in s.demand.surges:
        cuts.update(t for t in (surge.start, surge.end) if 0 < t < horizon)
    edges = np.array(sorted(cuts | {0.0, horizon}), dtype=np.float64)
    mids = [start + dt.timedelta(minutes=float(t)) for t in edges[:-1]]
    hour = np.array([m.hour for m in mids])
    weekday = np.array([m.weekday() for m in mids])
    pop = np.array([s.districts[d].population for d in districts], dtype=np.float64)
    base = np.zeros((len(districts), len(kinds)))
    for k, kind in enumerate(kinds):
        base[:, k] += s.demand.per_1000_per_day.get(kind, 0.0) * pop / 1000.0 / 24.0
    for d, row in s.demand.rates_per_hr.items():
        for kind, rate in row.items():
            base[districts.index(d), kinds.index(kind)] += rate
    rates = np.empty((len(edges) - 1, len(districts), len(kinds)))
    for k, kind in enumerate(kinds):
        tod, dow = _profile_weights(s, kind)
        rates[:, :, k] = (tod[hour] * dow[weekday])[:, None] * base[None, :, k]
    for surge in s.demand.surges:
        bins = (edges[:-1] >= surge.start) & (edges[:-1] < surge.end)
        dmask = [d in (surge.districts or districts) for d in districts]
        kmask = [k in (surge.incident_types or kinds) for k in kinds]
        rates[np.ix_(bins, dmask, kmask)] *= surge.multiplier
    return edges, rates * s.demand.scale / 60.0


def _call_centres(s: Any, kinds: list[str]) -> dict[str, Any]:
    """Call lines, centres and outages as arrays; a centre's missing times are the dispatch centre's."""
    lines = s.line_names()
    centres = s.centres()
    names = list(centres)
    dc = s.dispatch_centre
    cs = list(centres.values())
    serves = np.array([[line in c.lines for line in lines] for c in cs], dtype=bool)
    type_line = [lines.index(t.line) if t.line is not None else 0 for t in s.incident_types.values()]
    return dict(
        line_names=tuple(lines),
        type_line=np.array(type_line, dtype=np.int64).reshape(len(kinds)),
        centre_names=tuple(names),
        centre_lines=serves,
        line_centre=np.argmax(serves, axis=0).astype(np.int64),   # every line is served (validated)
        centre_call_takers=np.array([c.call_takers or 0 for c in cs], dtype=np.int64),
        centre_takers_by_hour=tuple(
            None if c.call_takers_by_hour is None else np.array(c.call_takers_by_hour, dtype=np.int64)
            for c in cs),
        centre_answer=tuple(dc.answer if c.answer is None else c.answer for c in cs),
        centre_processing=tuple(dc.processing if c.processing is None else c.processing for c in cs),
        centre_patience=tuple(dc.patience if c.inherits_patience() else c.patience for c in cs),
        centre_fallback=np.array([-1 if c.fallback is None else names.index(c.fallback) for c in cs],
                                 dtype=np.int64),
        centre_manual_factor=np.array([c.manual_factor for c in cs], dtype=np.float64),
        outages=tuple(Outage(names.index(o.centre), float(o.start), float(o.end), o.held_calls, o.label)
                      for o in s.outages),
    )


def _unit_outages(s: Any, unit_names: tuple[str, ...]) -> tuple[UnitOutage, ...]:
    index = {name: i for i, name in enumerate(unit_names)}
    return tuple(
        UnitOutage(index[u.unit], float(u.start), np.inf if u.end is None else float(u.end), u.reason)
        for u in s.unit_availability)


def _road_changes(s: Any, geo, source: str) -> tuple[RoadChange, ...]:
    out = []
    for i, change in enumerate(s.road_changes):
        if change.link is not None:
            tail, head = _link(s, geo, change.link, source, f"road_changes[{i}].link")
        else:
            tail, head = _area(geo, change.area, source, f"road_changes[{i}].area")
        until = np.inf if change.until is None else float(change.until)
        out.append(RoadChange(float(change.at), until, tail, head, float(change.factor), change.label))
    return tuple(out)


def _link(s: Any, geo: RoadGeo, link: Any, source: str, path: str) -> tuple[np.ndarray, np.ndarray]:
    """The directed link(s) of a road change, node ids int64[1] or int64[2] (both ways)."""
    ends = [link.from_loc, link.to_loc]
    nodes = [_node(s, geo, loc) for loc in ends]
    pairs = [(0, 1), (1, 0)] if link.both_ways else [(0, 1)]
    for a, b in pairs:
        if not geo.net.has_link(nodes[a], nodes[b]):
            raise InputError(f"no road runs from {_where(geo, ends[a], nodes[a])} to "
                             f"{_where(geo, ends[b], nodes[b])}", source, path)
    return (np.array([nodes[a] for a, _ in pairs], dtype=np.int64),
            np.array([nodes[b] for _, b in pairs], dtype=np.int64))


def _node(s: Any, geo: RoadGeo, loc: Any) -> int:
    if isinstance(loc, str):        # a node id: network geography, nodes kept in file order
        return [n.id for n in s.geography.nodes].index(loc)
    return int(geo.net.snap(np.asarray(loc, dtype=np.float64))[0])


def _where(geo: RoadGeo, loc: Any, node: int) -> str:
    if isinstance(loc, str):
        return repr(loc)
    x, y = geo.net.xy[node]
    snapped = "" if (x, y) == tuple(loc) else f" (road node at [{x:g}, {y:g}])"
    return f"[{loc[0]:g}, {loc[1]:g}]{snapped}"


def _area(geo: RoadGeo, area: Any, source: str, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Every directed link with an end node within ``area.radius_km`` of ``area.centre``."""
    near = np.hypot(*(geo.net.xy - np.asarray(area.centre, dtype=np.float64)).T) <= area.radius_km
    graph = geo.net.graph.tocoo()
    inside = near[graph.row] | near[graph.col]
    if not inside.any():
        cx, cy = area.centre
        raise InputError(f"no road within {area.radius_km:g} km of [{cx:g}, {cy:g}]", source, path)
    order = np.lexsort((graph.col[inside], graph.row[inside]))
    return (graph.row[inside][order].astype(np.int64), graph.col[inside][order].astype(np.int64))


def _info(s: Any, geo) -> dict[str, Any]:
    info: dict[str, Any] = {"geography": s.geography.kind}
    if isinstance(geo, RoadGeo):
        info.update(road_nodes=geo.net.n_nodes, road_edges=geo.net.n_edges)
        info.update(getattr(geo.net, "osm_info", {}))  # osm: origin, what the import dropped
    return info

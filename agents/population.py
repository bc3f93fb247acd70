"""The citizens' population: where people live, who they are, their districts' agents, shelter routes.

Used by :mod:`agents.citizens` (the component, its scenario section and its
process). :class:`Plan` checks the section against the World and lays the
cells; :func:`make_population` draws the people as arrays sorted by
district; :class:`DistrictGroup` is the Mesa agent that owns a district's
slice; :func:`shelter_routes` gives every road node its first link towards
each shelter.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.errors import InputError
from sim.kernels import citizens as k
from sim.kernels.geometry import points_in_polygon

if TYPE_CHECKING:
    from agents.citizens import CitizensSection, Evacuation

#: The largest population the component builds
MAX_PEOPLE = 20_000_000
#: The largest cell grid
MAX_CELLS = 5_000_000


class DistrictGroup(mesa.Agent):
    """The people of one district: a Mesa agent holding views of the population's arrays.

    Lifecycle: made with the population (:class:`Citizens` start) and kept for
    the run; its views follow the arrays the kernels mutate.

    Parameters
    ----------
    model : agents.model.Simulation
    district : int
    people : slice
        The district's slots in the population arrays.
    arrays : dict of str to ndarray
        The population arrays.
    """

    def __init__(self, model: Any, district: int, people: slice, arrays: dict[str, np.ndarray]):
        super().__init__(model)
        self.district = district
        self.people = people
        self._arrays = arrays

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("_arrays")
        if arrays is not None and name in arrays:
            return arrays[name][self.people]
        raise AttributeError(name)

    def counts(self) -> dict[str, int]:
        """People of the group by state."""
        c = np.bincount(self.state, minlength=len(k.STATE_NAMES))
        return {name: int(c[i]) for i, name in enumerate(k.STATE_NAMES)}


class Plan:
    """The section checked against the World: districts, cells, incident types, shelters and their roads.

    Parameters
    ----------
    world : sim.world.World
    section : CitizensSection
    source : str, optional
        For error messages.

    Raises
    ------
    InputError
        One line naming ``components.citizens.<field>``.
    """

    def __init__(self, world: Any, section: CitizensSection, source: str | None):
        self.world, self.section, self.source = world, section, source
        names = world.district_names
        self.district_names = names
        if world.geo.kind == "matrix":
            self._fail("citizens need a map in km (coordinates or roads), not a travel-time matrix", "")
        chosen = section.districts if section.districts is not None else tuple(
            d for d, pop in zip(names, world.district_population, strict=True) if pop > 0)
        for i, d in enumerate(chosen):
            self._district(d, f"districts[{i}]")
        for d in section.preparedness_by_district:
            self._district(d, f"preparedness_by_district.{d}")
        for i, alert in enumerate(section.warnings.alerts):
            for j, d in enumerate(alert.districts or ()):
                self._district(d, f"warnings.alerts[{i}].districts[{j}]")
        self._incident_types()
        self.districts = np.array([names.index(d) for d in chosen], dtype=np.int64)
        self.people = np.array([round(int(world.district_population[d]) * section.population_scale)
                                for d in self.districts], dtype=np.int64)
        if self.people.sum() > MAX_PEOPLE:
            self._fail(f"{int(self.people.sum()):,} people are more than {MAX_PEOPLE:,}", "population_scale")
        self._cells()
        self.shelter_names: tuple[str, ...] = ()
        if section.evacuation is not None:
            self._shelters(section.evacuation)

    def _fail(self, message: str, field: str) -> None:
        raise InputError(message, self.source, "components.citizens" + (f".{field}" if field else ""))

    def _district(self, name: str, field: str) -> None:
        if name not in self.district_names:
            known = ", ".join(repr(n) for n in self.district_names)
            self._fail(f"unknown district {name!r}; expected one of {known}", field)

    def _incident_types(self) -> None:
        known = self.world.type_names
        named = [("calls.incident_type", self.section.calls.incident_type)]
        named += [(f"exposure.{h}.incident_type", harm.incident_type)
                  for h, harm in self.section.exposure.items()]
        for field, kind in named:
            if kind is not None and kind not in known:
                self._fail(f"unknown incident type {kind!r}; expected one of "
                           + ", ".join(repr(n) for n in known), field)

    def _cells(self) -> None:
        """Lay ``cell_km`` squares over the districts; keep the cells whose centre lies in one."""
        s, w = self.section, self.world
        polys = []
        for d in self.districts:
            b = w.district_boundaries[d]
            if b is None:
                self._fail(f"district {self.district_names[d]!r} has no boundary to place people in",
                           "districts")
            polys.append(np.asarray(b, dtype=np.float64))
        self.cell_km = float(s.cell_km)
        if not polys:
            self.cell_xy = np.zeros((0, 2))
            self.cell_district = np.zeros(0, dtype=np.int64)
            self.cells_of: list[np.ndarray] = []
            return
        vertices = np.concatenate(polys)
        lo, hi = vertices.min(axis=0), vertices.max(axis=0)
        nx, ny = (max(1, math.ceil((hi[a] - lo[a]) / self.cell_km - 1e-9)) for a in (0, 1))
        if nx * ny > MAX_CELLS:
            self._fail(f"the districts would need {ny} x {nx} cells, more than {MAX_CELLS:,}; "
                       "use larger cells", "cell_km")
        j, i = np.meshgrid(np.arange(nx), np.arange(ny))
        x = lo[0] + (j.ravel() + 0.5) * self.cell_km
        y = lo[1] + (i.ravel() + 0.5) * self.cell_km
        owner = np.full(len(x), -1, dtype=np.int64)
        for slot in range(len(polys) - 1, -1, -1):  # the first district listed wins a shared centre
            owner[points_in_polygon(x, y, polys[slot])] = slot
        keep = owner >= 0
        self.cell_xy = np.column_stack([x[keep], y[keep]])
        self.cell_district = owner[keep]  # slot in self.districts
        self.cells_of = [np.flatnonzero(self.cell_district == slot) for slot in range(len(polys))]
        for slot, (cells, n) in enumerate(zip(self.cells_of, self.people, strict=True)):
            name = self.district_names[self.districts[slot]]
            if n > 0 and len(cells) == 0:
                self._fail(f"district {name!r} holds no cell centre; use smaller cells", "cell_km")
            if n > s.max_per_cell * len(cells):
                each = f"{s.max_per_cell:,} {'person' if s.max_per_cell == 1 else 'people'}"
                self._fail(f"district {name!r}: {n:,} people do not fit in its {len(cells):,} cells "
                           f"of at most {each} each", "max_per_cell")

    def _shelters(self, ev: Evacuation) -> None:
        if self.world.geo.kind != "road":
            self._fail("evacuation needs a road network (a grid, ring_radial or network geography)",
                       "evacuation")
        net = self.world.geo.net
        self.shelter_names = tuple(ev.shelters)
        xy = np.array([sh.xy_km for sh in ev.shelters.values()], dtype=np.float64)
        self.shelter_node = net.snap(xy).astype(np.int32)
        self.shelter_capacity = np.array([sh.capacity for sh in ev.shelters.values()], dtype=np.int64)
        self.designated = np.full(len(self.district_names), -1, dtype=np.int32)
        for d, name in ev.designated.items():
            self._district(d, f"evacuation.designated.{d}")
            if name not in ev.shelters:
                known = ", ".join(repr(n) for n in ev.shelters)
                self._fail(f"unknown shelter {name!r}; expected one of {known}", f"evacuation.designated.{d}")
            self.designated[self.district_names.index(d)] = self.shelter_names.index(name)


def check_shelter_name(section: CitizensSection, shelter: str, field: str, source: str | None) -> None:
    """Check that a name given to ``open_shelter`` (a drill's ``shelter_opening``) is one of the shelters.

    Parameters
    ----------
    section : CitizensSection
    shelter : str
    field : str
        The full field path of the name, e.g. ``drill.injects[2].shelter``.
    source : str, optional
        For the error message.

    Raises
    ------
    InputError
        One line naming ``field``.
    """
    names = tuple(section.evacuation.shelters) if section.evacuation is not None else ()
    if shelter not in names:
        known = (f"expected one of {', '.join(map(repr, names))}" if names
                 else "components.citizens has no evacuation.shelters")
        raise InputError(f"unknown shelter {shelter!r}; {known}", source, field)


def shelter_routes(graph: Any, shelter_node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First link of a shortest path from every node to every shelter, and its free-flow minutes.

    Parameters
    ----------
    graph : scipy.sparse.csr_matrix
        Road links, minutes (``graph.data`` order is the link order; heads sorted within a row).
    shelter_node : ndarray of int, shape (s,)

    Returns
    -------
    next_link : ndarray of int32, shape (s, n_nodes)
        Index into ``graph.data`` of the first link (-1: at the shelter or unreachable).
    dist : ndarray of float64, shape (s, n_nodes)
        Minutes to the shelter (inf: unreachable).
    """
    dist, pred = dijkstra(graph.T.tocsr(), directed=True, indices=np.asarray(shelter_node),
                          return_predecessors=True)
    n = graph.shape[0]
    next_link = np.full(dist.shape, -1, dtype=np.int32)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.indptr))
    keys = rows * n + graph.indices  # ascending (rows in order, heads sorted)
    for s in range(dist.shape[0]):
        v = np.flatnonzero(pred[s] >= 0)
        next_link[s, v] = np.searchsorted(keys, v * n + pred[s, v])
    return next_link, dist


def make_population(plan: Plan, streams: Any, node_of_cell: np.ndarray | None) -> dict[str, np.ndarray]:
    """Draw the people of every simulated district, sorted by district (the order of ``plan.districts``).

    Every random attribute is drawn from the district's own sub-stream ``citizens``/0/slot in a fixed
    order whatever the parameters, so changing preparedness or a share keeps everyone's numbers.

    Parameters
    ----------
    plan : Plan
    streams : sim.rng.Streams
    node_of_cell : ndarray of int, optional
        Nearest road node of each cell (None: no roads).

    Returns
    -------
    dict of str to ndarray
        The population arrays (see :mod:`sim.kernels.citizens` for their meaning).
    """
    s = plan.section
    ev = s.evacuation
    parts: dict[str, list[np.ndarray]] = {}
    for slot, (d, n) in enumerate(zip(plan.districts, plan.people, strict=True)):
        rng = streams.named("citizens", 0, slot)
        cells = plan.cells_of[slot]
        n = int(n)
        counts = np.full(len(cells), n // max(1, len(cells)), dtype=np.int64)
        counts[rng.permutation(len(cells))[: n - int(counts.sum())]] += 1
        home = np.repeat(cells, counts).astype(np.int32)
        jitter = rng.random((n, 2)) - 0.5
        u = {name: rng.random(n)
             for name in ("age", "phone", "prep", "evac", "death", "triage", "alert", "resp")}
        e = {name: rng.standard_exponential(n) for name in ("depart", "call", "neighbour")}
        age = np.searchsorted(np.cumsum(s.age_mix)[:-1], u["age"], side="right").astype(np.int8)
        m = s.preparedness_by_district.get(plan.district_names[d], s.preparedness)
        prep = _preparedness(u["prep"], m)
        phone = u["phone"] < np.asarray(s.phone_share)[age]
        call_mean = s.calls.mean_delay_min * np.where(phone, 1.0, s.calls.no_phone_factor) \
            * (1 - s.calls.preparedness_cut * prep)
        call_delay = call_mean * e["call"]
        xy = plan.cell_xy[home] + jitter * plan.cell_km
        for sensor in s.calls.sensors:
            cx, cy = sensor.centre_km
            inside = np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) <= sensor.radius_km
            call_delay[inside] = np.minimum(call_delay[inside], sensor.delay_min)
        if ev is not None:
            will = u["evac"] < ev.share + (ev.share_prepared - ev.share) * prep
            d0, d1 = ev.departure_mean_min, ev.departure_mean_prepared_min
            delay = (d0 + (d1 - d0) * prep) * e["depart"]
            first = np.full(n, plan.designated[d], dtype=np.int32)
        else:
            will, delay, first = np.zeros(n, dtype=np.bool_), np.zeros(n), np.full(n, -1, dtype=np.int32)
        columns = {
            "district": np.full(n, d, dtype=np.int16), "home_cell": home,
            "x_km": xy[:, 0].astype(np.float32), "y_km": xy[:, 1].astype(np.float32),
            "age": age, "phone": phone, "mobility": np.asarray(s.mobility, dtype=np.float32)[age],
            "preparedness": prep.astype(np.float32), "will_evacuate": will,
            "delay_min": delay.astype(np.float32), "call_delay_min": call_delay.astype(np.float32),
            "u_death": u["death"].astype(np.float32), "u_triage": u["triage"].astype(np.float32),
            "u_alert": u["alert"].astype(np.float32), "u_responder": u["resp"].astype(np.float32),
            "e_neighbour": e["neighbour"].astype(np.float32), "first": first,
        }
        for name, col in columns.items():
            parts.setdefault(name, []).append(col)
    total = int(plan.people.sum())
    people = {name: np.concatenate(cols) if cols else np.zeros(0) for name, cols in parts.items()}
    if not parts:
        people = {"district": np.zeros(0, dtype=np.int16), "home_cell": np.zeros(0, dtype=np.int32)}
    node = node_of_cell[people["home_cell"]] if node_of_cell is not None else np.full(total, -1)
    people.update(
        state=np.zeros(total, dtype=np.int8), node=node.astype(np.int32),
        health=np.ones(total, dtype=np.float32), injury=np.zeros(total, dtype=np.int8),
        cause=np.full(total, -1, dtype=np.int8), injured_at=np.full(total, np.inf),
        health_injured=np.zeros(total, dtype=np.float32), treated=np.zeros(total, dtype=np.bool_),
        treated_at=np.full(total, np.inf), died_at=np.full(total, np.inf), dies_at=np.full(total, np.inf),
        warned_at=np.full(total, np.inf),
        called=np.zeros(total, dtype=np.bool_), link=np.full(total, -1, dtype=np.int32),
        phase=np.zeros(total, dtype=np.int8), target=np.full(total, -1, dtype=np.int32),
        shelter=np.full(total, -1, dtype=np.int32), departed_at=np.full(total, np.inf),
        arrived_at=np.full(total, np.inf))
    return people


def _preparedness(u: np.ndarray, mean: float) -> np.ndarray:
    """Preparedness of mean ``mean``: the Beta(a, 1) quantile ``u ** (1 / a)``, ``a = mean / (1 - mean)``."""
    if mean <= 0:
        return np.zeros_like(u)
    if mean >= 1:
        return np.ones_like(u)
    return u ** ((1 - mean) / mean)

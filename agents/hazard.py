"""What the hazard components share: sampling a grid field, footprints, incidents by cell, roads by cell.

Every hazard component (``fire``, ``flood``, ``plume``, ``quake``) lays a
grid of square cells over the map (:class:`agents.fire.Layout`) and offers
the hazard field protocol that other components (citizens) read:

- ``hazard``: ``"fire"``, ``"flood"``, ``"plume"`` or ``"quake"``;
- ``sample(x_km, y_km)``: the hazard's level now at those points, 0 where
  there is none or outside its grid (fire: 1.0 burning; flood: water depth,
  m; plume: concentration, mg/m3; quake: intensity, MMI, from its start).

The helpers here turn a hazard's cells into incidents (:class:`CellIncidents`),
into closed or slowed road links (:class:`RoadHazard`) and into rows of the
``footprints`` table (:class:`Footprints`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from scenarios.base import Duration
from sim.eventlog import register_kind

#: A hazard closed, slowed or reopened road links (detail: hazard, links per factor)
HAZARD_ROADS = register_kind("hazard_roads")
#: Columns of the footprints table
FOOTPRINT_COLUMNS = ("hazard", "t_min", "x_km", "y_km", "cell_km", "value")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


#: ``snapshots``: times (minutes or durations) at which a hazard's footprint is written
Snapshots = tuple[Duration, ...]


class RoadSection(_Strict):
    """``roads``: links with an end in a cell at or above ``slow_at`` are slowed, at ``close_at`` closed.

    A closed link is impassable for traffic, but responders still get through
    at ``close_factor`` of its speed (wading, on foot, clearing debris); 0
    closes it to responders too: a scene the closures cut off waits until a
    road reopens or its ``max_queue`` runs out (docs/howto-disruptions.md).
    """

    #: hazard level from which links are slowed (its unit is the hazard's: m, mg/m3...)
    slow_at: float | None = Field(default=None, gt=0)
    #: speed factor of a slowed link, in (0, 1)
    slow_factor: float = Field(default=0.5, gt=0, lt=1)
    #: hazard level from which links are closed
    close_at: float | None = Field(default=None, gt=0)
    #: speed factor of responders on a closed link, in [0, 1) (0: responders cannot pass either)
    close_factor: float = Field(default=0.05, ge=0, lt=1)
    #: minutes between checks of the roads (each change reroutes the run's roads)
    every: Duration = Field(default=10.0, gt=0)


def sample_grid(layout: Any, values: np.ndarray, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
    """Values of a grid field at points: the value of the cell holding each point, 0 outside the grid.

    Parameters
    ----------
    layout : agents.fire.Layout
        The grid's origin, cell size and shape.
    values : ndarray, shape layout.shape
        The field.
    x_km, y_km : ndarray of float, shape (n,)
        Points, km.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    x = np.asarray(x_km, dtype=np.float64)
    y = np.asarray(y_km, dtype=np.float64)
    j = np.floor((x - layout.origin[0]) / layout.cell_km)
    i = np.floor((y - layout.origin[1]) / layout.cell_km)
    ny, nx = layout.shape
    inside = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
    out = np.zeros(x.shape, dtype=np.float64)
    out[inside] = values[i[inside].astype(np.int64), j[inside].astype(np.int64)]
    return out


class Footprints:
    """Rows of the ``footprints`` table: the cells above a hazard's threshold at chosen times.

    Lifecycle: built with the component's snapshot times -> :meth:`start` a
    process that records at each time (``capture`` gives the cells and values
    then) -> :meth:`table` after the run.

    Parameters
    ----------
    hazard : str
        The hazard's name (the ``hazard`` column).
    layout : agents.fire.Layout
    times : sequence of float
        Snapshot times, minutes.
    """

    def __init__(self, hazard: str, layout: Any, times: tuple[float, ...]):
        self.hazard = hazard
        self.layout = layout
        self.times = tuple(sorted(set(float(t) for t in times)))
        self._parts: list[tuple[float, np.ndarray, np.ndarray]] = []

    def start(self, env: Any, capture: Callable[[], tuple[np.ndarray, np.ndarray]]) -> None:
        """Start the process that records a snapshot at each time (nothing when there is none)."""
        if self.times:
            env.process(self._run(env, capture))

    def _run(self, env: Any, capture: Callable[[], tuple[np.ndarray, np.ndarray]]) -> Generator:
        for t in self.times:
            yield env.timeout(t - env.now)
            yield env.timeout(0)  # after the hazard's own step due at this minute (scheduled earlier)
            cells, values = capture()
            self._parts.append((env.now, np.asarray(cells, dtype=np.int64),
                                np.asarray(values, dtype=np.float64)))

    def table(self) -> dict[str, np.ndarray] | None:
        """The rows as columns (cells in ascending flat order per time); None without snapshots."""
        if not self.times:
            return None
        xy = [self.layout.centres(c) for _, c, _ in self._parts]
        n = sum(len(c) for _, c, _ in self._parts)
        return {"hazard": np.array([self.hazard] * n, dtype=object),
                "t_min": np.concatenate([np.full(len(c), t) for t, c, _ in self._parts] or [np.empty(0)]),
                "x_km": np.concatenate([p[:, 0] for p in xy] or [np.empty(0)]),
                "y_km": np.concatenate([p[:, 1] for p in xy] or [np.empty(0)]),
                "cell_km": np.full(n, self.layout.cell_km),
                "value": np.concatenate([v for _, _, v in self._parts] or [np.empty(0)])}


def above(values: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices (ascending) and values of the cells at or above ``threshold`` (and above 0)."""
    flat = values.reshape(-1)
    cells = np.flatnonzero((flat >= threshold) & (flat > 0))
    return cells, flat[cells]


class CellIncidents:
    """Raise incidents as a hazard reaches cells: in each district, the 1st, (1 + n)th... cell reached.

    Parameters
    ----------
    model : agents.model.Simulation
    layout : agents.fire.Layout
    kind : int
        Incident type index.
    per : int
        Cells of a district per incident (the first cell raises one).
    source : str
        The ``source`` of the raised incidents (the component's name).
    rng : numpy.random.Generator
        The component's stream for the incidents' drawn fields.
    """

    def __init__(self, model: Any, layout: Any, kind: int, per: int, source: str, rng: np.random.Generator):
        self.model, self.layout, self.kind, self.per = model, layout, kind, per
        self.source, self.rng = source, rng
        self.cell_district = layout.districts()
        self.count = np.zeros(len(model.world.district_names), dtype=np.int64)
        #: incidents raised: (t_min, incident id, flat cell)
        self.raised: list[tuple[float, int, int]] = []

    def reach(self, cells: np.ndarray, label: str = "") -> None:
        """Count cells newly reached (ascending), raising an incident at every n-th of a district's."""
        for cell, d in zip(cells.tolist(), self.cell_district[cells].tolist(), strict=True):
            if d < 0:
                continue
            self.count[d] += 1
            if (self.count[d] - 1) % self.per == 0:
                self.raise_at(cell, d, label)

    def raise_at(self, cell: int, d: int, label: str = "") -> int:
        """Raise one incident at the centre of ``cell`` in district ``d``; returns its id."""
        x, y = self.layout.centres(np.array([cell]))[0]
        i = self.model.raise_incident(self.kind, d, source=self.source, rng=self.rng, xy=(float(x), float(y)),
                                      label=label)
        self.raised.append((self.model.env.now, i, cell))
        return i


class RoadHazard:
    """Close or slow the run's road links whose end nodes lie in cells of a high hazard level.

    On a geography without links (coordinates, matrix) it does nothing. A
    link's level is the higher of its two ends' cells; links change only when
    their level changes (each change reroutes the run's roads), and a link
    back to level 0 is restored to its own time. A link also changed by a
    scheduled ``road_changes`` entry takes the hazard's factor while the
    hazard changes it.

    Parameters
    ----------
    model : agents.model.Simulation
    layout : agents.fire.Layout
    section : RoadSection
    hazard : str
        For the event log.
    """

    def __init__(self, model: Any, layout: Any, section: RoadSection, hazard: str):
        self.model, self.section, self.hazard = model, section, hazard
        travel = model.travel
        self.on = hasattr(travel, "net") and (section.slow_at is not None or section.close_at is not None)
        self.closed_links = 0
        self.slowed_links = 0
        if not self.on:
            return
        net = travel.net
        g = net.graph
        self.tail = np.repeat(np.arange(net.n_nodes, dtype=np.int64), np.diff(g.indptr))
        self.head = g.indices.astype(np.int64)
        xy = net.xy
        j = np.floor((xy[:, 0] - layout.origin[0]) / layout.cell_km)
        i = np.floor((xy[:, 1] - layout.origin[1]) / layout.cell_km)
        ny, nx = layout.shape
        inside = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
        self.node_cell = np.where(inside, i * nx + j, -1).astype(np.int64)
        self.level = np.zeros(len(self.tail), dtype=np.int8)
        self.factors = (1.0, section.slow_factor, section.close_factor)

    def update(self, field: np.ndarray) -> int:
        """Apply the levels of ``field`` (the hazard's grid) to the links; returns links changed.

        Mutates the run's roads.

        Parameters
        ----------
        field : ndarray, shape layout.shape
            The hazard's level per cell.

        Returns
        -------
        int
        """
        if not self.on:
            return 0
        s, flat = self.section, field.reshape(-1)
        node_value = np.where(self.node_cell >= 0, flat[np.maximum(self.node_cell, 0)], 0.0)
        node_level = np.zeros(len(node_value), dtype=np.int8)
        if s.slow_at is not None:
            node_level[node_value >= s.slow_at] = 1
        if s.close_at is not None:
            node_level[node_value >= s.close_at] = 2
        level = np.maximum(node_level[self.tail], node_level[self.head])
        changed = level != self.level
        if not changed.any():
            return 0
        new = level[changed]
        counts = {str(self.factors[lv]): int((new == lv).sum()) for lv in np.unique(new).tolist()}
        # every changed link in one call, each with its level's factor: the roads are rerouted once
        self.model.travel.change_links(self.tail[changed], self.head[changed],
                                       np.asarray(self.factors)[new])
        self.level = level
        self.closed_links = int((level == 2).sum())
        self.slowed_links = int((level == 1).sum())
        self.model.forget_routes()
        self.model.log.add(self.model.env.now, HAZARD_ROADS, -1, -1, {"hazard": self.hazard, "links": counts})
        return int(changed.sum())

    def every(self) -> float:
        """Minutes between road checks."""
        return float(self.section.every)


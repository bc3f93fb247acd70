"""Flood: rain and rivers on a terrain grid, water routed downhill, flooded cells and roads (#12).

The component lays a grid over the map as the fire does
(:class:`agents.fire.Layout`), builds its terrain (generated: a plane that
falls towards the south with a valley running north-south; or read from a
``.npy`` file of heights: data, never code) and steps the routing kernel
(:mod:`sim.kernels.flood`) every ``step`` minutes while it rains, a river
flows or water is still moving (until ``settle_after`` past the last input).

- **Rain**: over each ``rain`` window the rain above what the drains take
  (``drainage_mm_per_hr``) falls on every cell of the grid.
- **Rivers**: a point that adds ``m3_per_s`` over its window (a river over
  its banks, a broken levee).
- **Incidents**: in each district, the 1st, (1 + n)th... cell whose water
  first reaches ``incident_depth_m`` raises an incident of ``incident_type``
  at the cell's centre (people trapped in a flooded building), ``n =
  cells_per_incident``.
- **Roads** (road geographies): every ``roads.every`` minutes, links with an
  end in a cell at least ``roads.slow_at`` m deep are slowed, at least
  ``roads.close_at`` m deep closed; restored when the water goes down. Trips
  that set off later use the changed roads (:class:`agents.hazard.RoadHazard`).

Random numbers: the stream ``flood``/0 (the raised incidents' drawn fields)
only; the water itself is deterministic.

Scenario section::

    components:
      flood:
        grid: {cell_km: 0.1}
        terrain: {slope_pct: 0.2, valley_x_km: 9.0, valley_depth_m: 3, valley_width_km: 0.5}
        # or terrain: {file: heights.npy}   float array of the grid's shape, m, row 0 = south
        rain: [{from: 1 h, to: 4 h, mm_per_hr: 90}]
        drainage_mm_per_hr: 40
        rivers: [{xy_km: [9, 10.5], m3_per_s: 60, from: 2 h, to: 8 h}]
        step: 1 min
        flow_fraction: 0.25
        wet_m: 0.1                 # the table's wet cells and the footprints
        incident_type: rescue
        incident_depth_m: 0.5
        cells_per_incident: 25
        roads: {slow_at: 0.15, slow_factor: 0.3, close_at: 0.3, every: 10 min}
        snapshots: [3 h, 6 h]
"""

from __future__ import annotations

import math
from collections.abc import Generator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from agents.components import Component, incident_kind, register
from agents.fire import GridSection, Layout
from agents.hazard import (
    CellIncidents,
    Footprints,
    RoadHazard,
    RoadSection,
    Snapshots,
    _Strict,
    above,
    sample_grid,
)
from scenarios.base import Duration, Point, PositiveDuration
from scenarios.datafiles import file_sha256
from sim.errors import InputError
from sim.eventlog import register_kind
from sim.kernels.flood import Basin, flood_step, valley_terrain

#: The flood stops stepping (detail: wet cells, volume m3)
FLOOD_SETTLED = register_kind("flood_settled")
#: Largest terrain file read, bytes
MAX_TERRAIN_BYTES = 400_000_000


class Terrain(_Strict):
    """``components.flood.terrain``: generated (slope and valley) or read from a ``.npy`` file."""

    #: a .npy file of heights (m), float[rows, columns] of the grid, row 0 the southern row; relative to the
    #: scenario file's directory (made absolute when the scenario is loaded)
    file: str | None = None
    #: SHA-256 of the file's content: filled in when the scenario is loaded (so the scenario hash follows
    #: the file, scenarios/datafiles.py) and, when given, checked
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    #: fall of the ground towards the south (y decreasing), percent
    slope_pct: NonNegativeFloat = 0.2
    #: x (km) of a valley running north-south; none without
    valley_x_km: float | None = None
    valley_depth_m: NonNegativeFloat = 2.0
    valley_width_km: PositiveFloat = 0.5


class Window(_Strict):
    """A time window ``[from, to)``."""

    start: Duration = Field(ge=0, alias="from")
    end: Duration = Field(gt=0, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        return self


class Rain(Window):
    """Rain over the whole grid, mm per hour."""

    mm_per_hr: float = Field(ge=0)


class River(Window):
    """Water added at one point, m3 per second."""

    xy_km: Point
    m3_per_s: float = Field(ge=0)


class FloodSection(_Strict):
    """The ``components.flood`` section of a scenario."""

    grid: GridSection
    terrain: Terrain = Terrain()
    rain: tuple[Rain, ...] = ()
    #: rain the drains take away, mm per hour (only the excess stays on the ground)
    drainage_mm_per_hr: NonNegativeFloat = 0.0
    rivers: tuple[River, ...] = ()
    #: minutes between routing steps
    step: PositiveDuration = 1.0
    #: share of the largest head difference a wet cell gives per step, (0, 0.5]
    flow_fraction: float = Field(default=0.25, gt=0, le=0.5)
    #: water film that stays put, mm
    film_mm: NonNegativeFloat = 1.0
    #: whether water leaves over the grid's edges
    edge_outflow: bool = True
    #: stop stepping this long after the last rain or river ends
    settle_after: Duration = Field(default=360.0, ge=0)
    #: depth (m) from which a cell counts as wet (table, footprints)
    wet_m: PositiveFloat = 0.1
    #: incident type raised by flooded cells; none without
    incident_type: str | None = None
    #: depth (m) from which a cell raises incidents
    incident_depth_m: PositiveFloat = 0.5
    cells_per_incident: PositiveInt = 25
    roads: RoadSection | None = None
    #: times of the footprints written to ``footprints.parquet``
    snapshots: Snapshots = ()
    #: steps between ``flood`` table rows (1: every step)
    table_every: PositiveInt = 10

    @model_validator(mode="after")
    def _needs_water(self) -> FloodSection:
        if not self.rain and not self.rivers:
            raise ValueError("a flood needs rain or rivers")
        return self


@register("flood")
class Flood(Component):
    """Water that rains and flows over a terrain grid, raising incidents and closing roads.

    Lifecycle: built with the validated section (grid, terrain) -> :meth:`start`
    starts the flood's process (and the snapshots') -> the process steps the
    kernel while water comes in or moves, then stops -> :meth:`tables`
    (``flood``, and ``footprints`` with snapshots) and :meth:`summary`.

    Parameters
    ----------
    model : agents.model.Simulation
    section : FloodSection

    Raises
    ------
    InputError
        A map without km, an unknown incident type, a terrain file of the wrong shape, or a river off the
        grid.
    """

    Section = FloodSection
    hazard = "flood"

    @classmethod
    def check(cls, world: Any, section: FloodSection,
              source: str | None) -> tuple[Layout, int | None, np.ndarray, list[int]]:
        """Incident type, terrain file and rivers against the World; the grid, terrain and river cells."""
        return _check(world, section, source)

    def __init__(self, model: Any, section: FloodSection,
                 prepared: tuple[Layout, int | None, np.ndarray, list[int]]):
        super().__init__(model, section)
        self.layout, self.kind, terrain, self.river_cells = prepared  # by check
        self.basin = Basin(terrain, section.film_mm / 1000.0)
        self.cell_m = self.layout.cell_km * 1000.0
        self.incidents = (None if self.kind is None else
                          CellIncidents(model, self.layout, self.kind, section.cells_per_incident, "flood",
                                        model.streams.named("flood", 0)))
        self.reached = np.zeros(self.layout.shape, dtype=np.bool_)
        self.roads = RoadHazard(model, self.layout, section.roads, "flood") if section.roads else None
        self.footprints = Footprints("flood", self.layout, section.snapshots)
        self.rows: list[tuple[float, int, float, float, float, float, int, int]] = []
        self.inflow_m3 = 0.0
        self.outflow_m3 = 0.0
        self.steps = 0
        self.max_depth_m = 0.0

    def start(self) -> None:
        """Start the flood's process, the road checks and the snapshots."""
        env = self.model.env
        env.process(self._flow())
        self.footprints.start(env, lambda: above(self.basin.h, self.section.wet_m))

    # -- the hazard field ------------------------------------------------------------------
    def sample(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """Water depth (m) now at the points (0 outside the grid)."""
        return sample_grid(self.layout, self.basin.h, x_km, y_km)

    # -- the process -------------------------------------------------------------------------
    def _flow(self) -> Generator:
        """Step from the first input until ``settle_after`` past the last, or until nothing moves."""
        s, env = self.section, self.model.env
        windows = [*s.rain, *s.rivers]
        first = min(w.start for w in windows)
        last = max(w.end for w in windows)
        dt = float(s.step)
        road_every = max(1, round(self.roads.every() / dt)) if self.roads else 0
        yield env.timeout(first)
        while True:
            self._input(env.now, dt)
            self.outflow_m3 += flood_step(self.basin, s.flow_fraction, s.edge_outflow) * self.cell_m ** 2
            self.steps += 1
            self._reach()
            if road_every and self.steps % road_every == 0:
                self.roads.update(self.basin.h)
            if self.steps % s.table_every == 0:
                self._record(env.now + dt)
            if env.now + dt >= last + s.settle_after or (env.now + dt >= last and self.basin.n == 0):
                break
            yield env.timeout(dt)
        yield env.timeout(dt)
        if self.roads:
            self.roads.update(self.basin.h)
        self._record(env.now)
        self.model.log.add(env.now, FLOOD_SETTLED, -1, -1, {"wet_cells": self.rows[-1][1],
                                                           "volume_m3": round(self.rows[-1][2], 1)})

    def _input(self, now: float, dt: float) -> None:
        """Add the rain and river water of the step starting at ``now`` (minutes). Mutates the basin."""
        s = self.section
        rain_mm = sum(max(0.0, r.mm_per_hr - s.drainage_mm_per_hr) * _overlap(r, now, dt) / 60.0
                      for r in s.rain)
        if rain_mm > 0:
            self.basin.add_depth(None, rain_mm / 1000.0)
            self.inflow_m3 += rain_mm / 1000.0 * self.basin.h.size * self.cell_m ** 2
        if s.rivers:
            depth: dict[int, float] = {}
            for river, cell in zip(s.rivers, self.river_cells, strict=True):
                m3 = river.m3_per_s * 60.0 * _overlap(river, now, dt)
                if m3 > 0:
                    depth[cell] = depth.get(cell, 0.0) + m3 / self.cell_m ** 2
                    self.inflow_m3 += m3
            if depth:
                cells = np.array(sorted(depth), dtype=np.int64)
                self.basin.add_depth(cells, np.array([depth[c] for c in cells.tolist()]))

    def _reach(self) -> None:
        """Raise incidents at cells first reaching ``incident_depth_m``. Mutates ``reached``."""
        if self.incidents is None:
            return
        flat_h, flat_r = self.basin.h.reshape(-1), self.reached.reshape(-1)
        act = self.basin.active
        new = act[(flat_h[act] >= self.section.incident_depth_m) & ~flat_r[act]]
        if len(new):
            flat_r[new] = True
            self.incidents.reach(np.sort(new), label="flooded building")

    def _record(self, t: float) -> None:
        """Append a ``flood`` table row: O(grid), so only every ``table_every`` steps."""
        h = self.basin.h
        peak = float(h.max())
        self.max_depth_m = max(self.max_depth_m, peak)
        self.rows.append((t, int(np.count_nonzero(h >= self.section.wet_m)),
                          self.basin.volume_m3(self.cell_m),
                          peak, self.inflow_m3, self.outflow_m3,
                          self.roads.closed_links if self.roads and self.roads.on else 0,
                          self.roads.slowed_links if self.roads and self.roads.on else 0))

    # -- results -----------------------------------------------------------------------------
    def tables(self) -> dict[str, dict[str, Any]]:
        """``flood``: t_min, wet_cells, volume_m3, max_depth_m, inflow_m3, outflow_m3, closed/slowed links."""
        names = ("t_min", "wet_cells", "volume_m3", "max_depth_m", "inflow_m3", "outflow_m3", "closed_links",
                 "slowed_links")
        cols = list(zip(*self.rows, strict=True)) if self.rows else [()] * len(names)
        out = {"flood": {n: np.array(c, dtype=np.int64 if n in ("wet_cells", "closed_links", "slowed_links")
                                     else np.float64) for n, c in zip(names, cols, strict=True)}}
        fp = self.footprints.table()
        if fp is not None:
            out["footprints"] = fp
        return out

    def summary(self) -> dict[str, Any]:
        """Peak depth and wet cells, water in and out, incidents raised, steps and the grid's size."""
        return {"max_depth_m": round(self.max_depth_m, 4),
                "max_wet_cells": max((r[1] for r in self.rows), default=0),
                "inflow_m3": round(self.inflow_m3, 1), "outflow_m3": round(self.outflow_m3, 1),
                "incidents_raised": len(self.incidents.raised) if self.incidents else 0,
                "steps": self.steps, "grid_cells": int(self.basin.h.size)}


def _overlap(w: Window, now: float, dt: float) -> float:
    """Minutes of ``[now, now + dt)`` inside the window."""
    return max(0.0, min(w.end, now + dt) - max(w.start, now))


def _check(world: Any, section: FloodSection,
           source: str | None) -> tuple[Layout, int | None, np.ndarray, list[int]]:
    """The grid, the incident type's index, the terrain and each river's cell.

    Raises
    ------
    InputError
        Naming ``components.flood.<field>``.
    """
    kind = None
    if section.incident_type is not None:
        kind = incident_kind(world, section.incident_type, source, "components.flood.incident_type")
    layout = Layout(world, section.grid, source, "flood")
    terrain = _terrain(layout, section.terrain, source)
    cells = []
    for k, river in enumerate(section.rivers):
        cell = layout.cell_of(river.xy_km)
        if cell < 0:
            raise InputError(f"{list(river.xy_km)} is outside the flood's grid", source,
                             f"components.flood.rivers[{k}].xy_km")
        cells.append(cell)
    return layout, kind, terrain, cells


def _terrain(layout: Layout, t: Terrain, source: str | None) -> np.ndarray:
    """Heights (m) of the grid's cells, generated or read (``np.load`` without pickles: data only)."""
    where = "components.flood.terrain.file"
    if t.file is None:
        col = math.inf if t.valley_x_km is None else (t.valley_x_km - layout.origin[0]) / layout.cell_km - 0.5
        return valley_terrain(layout.shape, layout.cell_km, t.slope_pct,
                              0.0 if t.valley_x_km is None else t.valley_depth_m,
                              0.0 if col == math.inf else col, t.valley_width_km)
    base = Path(source).parent if source and Path(source).is_file() else Path(".")
    path = (base / t.file).resolve()
    if path.suffix != ".npy" or not path.is_file():
        raise InputError(f"expected an existing .npy file, got {t.file!r}", source, where)
    if path.stat().st_size > MAX_TERRAIN_BYTES:
        raise InputError(f"the file is larger than {MAX_TERRAIN_BYTES:,} bytes", source, where)
    if t.sha256 is not None and file_sha256(path) != t.sha256:  # changed since the scenario was loaded
        raise InputError(f"the content of {path.name} differs from the sha256 the scenario gives",
                         source, "components.flood.terrain.sha256")
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError):
        raise InputError("not a NumPy .npy array of numbers (pickled objects are refused)", source,
                         where) from None
    if not np.issubdtype(z.dtype, np.number) or z.dtype.kind == "c":
        raise InputError(f"expected real numbers, got dtype {z.dtype}", source, where)
    if z.shape != layout.shape:
        raise InputError(f"the terrain array has shape {list(z.shape)}, the grid is {list(layout.shape)} "
                         "(rows, columns)", source, where)
    if not np.isfinite(z).all():
        raise InputError("the terrain has values that are not finite", source, where)
    return z.astype(np.float64)

"""Fire: a spreading fire on a grid of cells that raises incidents and is stopped by units on scene (#12).

The component lays a grid of square cells over the map (row ``i`` at
``y = origin_y + (i + 0.5) * cell_km``, column ``j`` at ``x = origin_x +
(j + 0.5) * cell_km``; north is up), puts fuel in each cell inside a
district with probability ``fuel_density`` (cells outside every district
never burn), lights the scripted ignitions and steps the spread kernel
(:mod:`sim.kernels.fire`) every ``step`` minutes while anything burns.

Coupling:

- **incidents**: in each district, the 1st, (1 + n)th, (1 + 2n)th... cell
  that catches fire (``n = cells_per_incident``, ignitions included; cells
  in ascending row-major order within a step) raises one incident of
  ``incident_type`` at the cell's centre through ``model.raise_incident``
  (source ``fire``);
- **suppression**: once the first unit has arrived at an incident this
  component raised (its first ``unit_arrived`` row in the event log), every
  cell whose centre lies within ``suppression_radius_km`` of that incident's
  cell centre is suppressed for the rest of the run: fire neither spreads
  into nor out of it (burning cells there burn out). Arrivals are read at
  each step, so suppression starts at the first step after the arrival.

Random numbers come from the component's own streams ``fire``/0 (fuel),
``fire``/1 (spread uniforms) and ``fire``/2 (the raised incidents' drawn
fields): a run without the section draws exactly what it drew before.

Scenario section::

    components:
      fire:
        grid: {cell_km: 0.1}            # origin_km and shape: default the districts' bounding box
        fuel_density: 0.8
        p_spread: 0.35                  # per step and neighbour
        neighbourhood: 4                # or 8
        wind: {direction_deg: 90, strength: 0.5}   # towards the east; optional
        burn_steps: 2
        step: 5 min
        ignitions: [{at: 6 h, xy_km: [9.2, 3.1]}]
        incident_type: fire
        cells_per_incident: 25
        suppression_radius_km: 0.3      # 0: no suppression
        log_every: 12                   # a fire_step row every 12 steps (0: none)
        snapshots: [8 h, 12 h]          # footprints.parquet: burning (1) and burnt (2) cells then

The component offers the hazard field protocol (:mod:`agents.hazard`):
``hazard == "fire"`` and ``sample(x_km, y_km)`` (1.0 where a cell burns now).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from agents.components import Component, incident_kind, register
from agents.hazard import Footprints, Snapshots, sample_grid
from scenarios.base import Duration, Point, PositiveDuration
from sim.errors import InputError
from sim.eventlog import EventKind, register_kind
from sim.kernels.fire import BURNING, EMPTY, FUEL, Front, spread_step, wind_bias
from sim.kernels.geometry import points_in_polygon

#: A scripted ignition (detail: the cell's row and column)
FIRE_IGNITED = register_kind("fire_ignited")
#: Every ``log_every`` steps: burning and burnt cell counts
FIRE_STEP = register_kind("fire_step")
#: Nothing burns any more
FIRE_OUT = register_kind("fire_out")

#: The largest grid the component builds (cells): about 60 MB of state
MAX_CELLS = 25_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class GridSection(_Strict):
    """``components.fire.grid``: cell size, and origin and shape unless the districts give them."""

    #: side of a square cell in km
    cell_km: PositiveFloat
    #: south-west corner of the grid in km (default: of the districts' bounding box)
    origin_km: Point | None = None
    #: (rows, columns); default: enough cells to cover the districts' bounding box from the origin
    shape: tuple[PositiveInt, PositiveInt] | None = None


class Wind(_Strict):
    """``components.fire.wind``: spread multiplier ``max(0, 1 + strength * cos(angle to the wind))``."""

    #: where the wind blows to, degrees clockwise from north
    direction_deg: float
    #: 0: no effect; 1: twice the probability downwind, none upwind
    strength: NonNegativeFloat


class Ignition(_Strict):
    """One scripted ignition: when and where."""

    at: Duration = Field(ge=0)
    xy_km: Point


class FireSection(_Strict):
    """The ``components.fire`` section of a scenario."""

    grid: GridSection
    #: share of cells inside districts that hold fuel
    fuel_density: float = Field(default=1.0, ge=0, le=1)
    #: probability per step and neighbour that a burning cell ignites a fuel neighbour
    p_spread: float = Field(ge=0, le=1)
    neighbourhood: Literal[4, 8] = 4
    wind: Wind | None = None
    #: steps a cell burns (and spreads) before it burns out
    burn_steps: int = Field(default=1, ge=1, le=32767)
    #: minutes between spread steps
    step: PositiveDuration = 5.0
    ignitions: tuple[Ignition, ...] = Field(min_length=1)
    #: incident type raised by burning cells (one of the scenario's incident types)
    incident_type: str = Field(min_length=1)
    #: burning cells of a district per incident raised (the first cell raises one)
    cells_per_incident: PositiveInt = 10
    #: cells within this distance of an attended fire incident stop burning further; 0: off
    suppression_radius_km: NonNegativeFloat = 0.0
    #: steps between ``fire_step`` event rows; 0: none
    log_every: int = Field(default=0, ge=0)
    #: times of the footprints written to ``footprints.parquet`` (burning: 1, burnt: 2)
    snapshots: Snapshots = ()

    @model_validator(mode="after")
    def _shape_needs_origin(self) -> FireSection:
        if self.grid.shape is not None and self.grid.origin_km is None:
            raise ValueError("grid.shape needs grid.origin_km")
        return self


class Layout:
    """Where the grid lies and which district each cell belongs to (-1: none).

    Parameters
    ----------
    world : sim.world.World
    grid : GridSection
    source : str, optional
        For error messages.
    name : str
        The component's section, for error messages (``components.<name>.grid``).

    Raises
    ------
    InputError
        On a matrix geography, no district boundaries to derive the grid from, or a grid too large.
    """

    def __init__(self, world: Any, grid: GridSection, source: str | None, name: str = "fire"):
        if world.geo.kind == "matrix":
            raise InputError(f"a {name} needs a map in km (coordinates or roads), not a travel-time matrix",
                             source, f"components.{name}")
        polys = [(d, np.asarray(b, dtype=np.float64)) for d, b in enumerate(world.district_boundaries)
                 if b is not None]
        if not polys and grid.shape is None:
            raise InputError("no district has a boundary: give origin_km and shape", source,
                             f"components.{name}.grid")
        self.cell_km = float(grid.cell_km)
        if polys:
            vertices = np.concatenate([p for _, p in polys])
            lo, hi = vertices.min(axis=0), vertices.max(axis=0)
        ox, oy = grid.origin_km if grid.origin_km is not None else (float(lo[0]), float(lo[1]))
        if grid.shape is not None:
            ny, nx = grid.shape
        else:
            ny = max(1, math.ceil((hi[1] - oy) / self.cell_km - 1e-9))
            nx = max(1, math.ceil((hi[0] - ox) / self.cell_km - 1e-9))
        if ny * nx > MAX_CELLS:
            raise InputError(f"the grid would have {ny} x {nx} cells, more than {MAX_CELLS:,}; "
                             "use larger cells", source, f"components.{name}.grid.cell_km")
        self.origin = (float(ox), float(oy))
        self.shape = (int(ny), int(nx))
        self._polys = polys

    def centres(self, flat: np.ndarray) -> np.ndarray:
        """Centres of cells in km, float64[m, 2] (x, y), from flat (row-major) indices."""
        i, j = np.divmod(np.asarray(flat, dtype=np.int64), self.shape[1])
        return np.column_stack([self.origin[0] + (j + 0.5) * self.cell_km,
                                self.origin[1] + (i + 0.5) * self.cell_km])

    def cell_of(self, xy: tuple[float, float]) -> int:
        """Flat index of the cell holding point ``xy`` (km); -1 outside the grid."""
        j = math.floor((xy[0] - self.origin[0]) / self.cell_km)
        i = math.floor((xy[1] - self.origin[1]) / self.cell_km)
        return i * self.shape[1] + j if 0 <= i < self.shape[0] and 0 <= j < self.shape[1] else -1

    def districts(self, flat: np.ndarray | None = None) -> np.ndarray:
        """District index of each cell's centre, int64 (-1: in no district; the first district wins)."""
        flat = np.arange(self.shape[0] * self.shape[1]) if flat is None else np.asarray(flat)
        xy = self.centres(flat)
        out = np.full(len(flat), -1, dtype=np.int64)
        for d, poly in reversed(self._polys):
            out[points_in_polygon(xy[:, 0], xy[:, 1], poly)] = d
        return out


@register("fire")
class Fire(Component):
    """A fire that spreads over a grid, raises incidents and is suppressed by attending units.

    Lifecycle: built with the validated section (lays out the grid, draws the
    fuel) -> :meth:`start` starts one SimPy process that sleeps until the next
    ignition and steps the kernel every ``step`` minutes while the front is not
    empty -> :meth:`tables` (``fire``: one row per step) and :meth:`summary`
    after the run.

    Parameters
    ----------
    model : agents.model.Simulation
    section : FireSection

    Raises
    ------
    InputError
        Unknown incident type, a map without km, or an ignition outside the grid or every district.
    """

    Section = FireSection
    hazard = "fire"

    @classmethod
    def check(cls, world: Any, section: FireSection, source: str | None) -> tuple[Layout, int, list[int]]:
        """The incident type must be the World's and every ignition in a district of the grid."""
        return _check(world, section, source)

    def __init__(self, model: Any, section: FireSection, prepared: tuple[Layout, int, list[int]]):
        super().__init__(model, section)
        w = model.world
        self.layout, self.kind, self.ignition_cells = prepared  # by check
        self.cell_district = self.layout.districts().reshape(self.layout.shape)
        fuel = model.streams.named("fire", 0).random(self.layout.shape) < section.fuel_density
        self.front = Front(np.where(fuel & (self.cell_district >= 0), FUEL, EMPTY).astype(np.int8))
        self.spread_rng = model.streams.named("fire", 1)
        self.incident_rng = model.streams.named("fire", 2)
        self.bias = (np.ones((3, 3), dtype=np.float32) if section.wind is None
                     else wind_bias(section.wind.direction_deg, section.wind.strength))
        self.suppressed = np.zeros(self.layout.shape, dtype=np.bool_)
        self._disk = _disk(section.suppression_radius_km, self.layout.cell_km)
        self.cells_caught = np.zeros(len(w.district_names), dtype=np.int64)
        #: incidents raised: (t_min, incident id, flat cell)
        self.raised: list[tuple[float, int, int]] = []
        self._awaiting: list[tuple[int, int]] = []  # (incident, cell) not attended yet
        self.rows: list[tuple[float, int, int, int]] = []  # (t, burning, burnt, suppressed)
        self.steps = 0
        self.n_affected = 0  # cells that caught fire so far (burning or burnt)
        self.n_suppressed = 0
        self.footprints = Footprints("fire", self.layout, section.snapshots)

    def start(self) -> None:
        """Start the fire's one SimPy process (and the snapshots' when there are any)."""
        self.model.env.process(self._burn())
        self.footprints.start(self.model.env, self._footprint)

    # -- the hazard field ------------------------------------------------------------------
    def sample(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """1.0 where the cell holding a point burns now, else 0 (outside the grid too)."""
        return (sample_grid(self.layout, self.front.state, x_km, y_km) == BURNING).astype(np.float64)

    def _footprint(self) -> tuple[np.ndarray, np.ndarray]:
        """Cells burning (value 1) or burnt out (value 2) now, ascending."""
        flat = self.front.state.reshape(-1)
        cells = np.flatnonzero(flat >= BURNING)
        return cells, (flat[cells] - BURNING + 1).astype(np.float64)

    # -- the process --------------------------------------------------------------------
    def _burn(self) -> Generator:
        """Sleep until an ignition, step while anything burns; ends after the last ignition burns out."""
        env, step = self.model.env, float(self.section.step)
        order = sorted(range(len(self.ignition_cells)), key=lambda k: self.section.ignitions[k].at)
        k, next_step = 0, math.inf
        while True:
            t_ignite = self.section.ignitions[order[k]].at if k < len(order) else math.inf
            t = min(t_ignite, next_step)
            if t == math.inf:
                return
            yield env.timeout(t - env.now)
            if t == next_step:
                self._step()
                next_step = env.now + step if self.front.n else math.inf
            while k < len(order) and self.section.ignitions[order[k]].at <= env.now:
                self._ignite(self.ignition_cells[order[k]])
                k += 1
            if self.front.n and next_step == math.inf:
                next_step = env.now + step

    def _ignite(self, cell: int) -> None:
        """Light one scripted ignition. Mutates the grid and may raise an incident."""
        now = self.model.env.now
        i, j = divmod(cell, self.layout.shape[1])
        self.model.log.add(now, FIRE_IGNITED, -1, -1, {"cell": [i, j]})
        self._caught(self.front.ignite(np.array([cell])))
        self._record(now)

    def _step(self) -> None:
        """One spread step: suppression first, then the kernel, then incidents. Mutates the fire."""
        now = self.model.env.now
        self._suppress()
        nb = self.section.neighbourhood
        uniforms = self.spread_rng.random(self.front.n * nb)
        new = spread_step(self.front, self.section.p_spread, self.bias, self.section.burn_steps,
                          self.suppressed, uniforms, nb)
        self.steps += 1
        self._caught(new)
        self._record(now)
        burning, burnt, _ = self.rows[-1][1:]
        if self.front.n == 0:
            self.model.log.add(now, FIRE_OUT, -1, -1, {"burnt": burnt})
        elif self.section.log_every and self.steps % self.section.log_every == 0:
            self.model.log.add(now, FIRE_STEP, -1, -1, {"burning": burning, "burnt": burnt})

    def _caught(self, cells: np.ndarray) -> None:
        """Count newly burning cells by district; raise an incident at every n-th (the first included)."""
        n = self.section.cells_per_incident
        self.n_affected += len(cells)
        for cell, d in zip(cells.tolist(), self.cell_district.reshape(-1)[cells].tolist(), strict=True):
            if d < 0:
                continue  # a cell outside the districts (an ignition there is refused by check)
            self.cells_caught[d] += 1
            if (self.cells_caught[d] - 1) % n == 0:
                x, y = self.layout.centres(np.array([cell]))[0]
                i = self.model.raise_incident(self.kind, d, source="fire", rng=self.incident_rng,
                                              xy=(float(x), float(y)))
                self.raised.append((self.model.env.now, i, cell))
                if self._disk is not None:
                    self._awaiting.append((i, cell))

    def _suppress(self) -> None:
        """Suppress the cells around each fire incident a unit has reached. Mutates ``suppressed``."""
        if not self._awaiting:
            return
        arrived = self.model.log.first_times(EventKind.UNIT_ARRIVED)
        still = []
        ny, nx = self.layout.shape
        for i, cell in self._awaiting:
            if arrived[i] != arrived[i]:  # NaN: nobody there yet
                still.append((i, cell))
                continue
            a, b = divmod(cell, nx)
            rows, cols = a + self._disk[:, 0], b + self._disk[:, 1]
            inside = (rows >= 0) & (rows < ny) & (cols >= 0) & (cols < nx)
            rows, cols = rows[inside], cols[inside]
            self.n_suppressed += int(np.count_nonzero(~self.suppressed[rows, cols]))
            self.suppressed[rows, cols] = True
        self._awaiting = still

    def _record(self, now: float) -> None:
        """Append a ``fire`` table row from running counts (O(1): a step stays O(front))."""
        n = int(self.front.n)
        self.rows.append((now, n, self.n_affected - n, self.n_suppressed))

    # -- results -----------------------------------------------------------------------
    def tables(self) -> dict[str, dict[str, Any]]:
        """The ``fire`` table: t_min, burning, burnt, suppressed (cells), after each step and ignition.

        With ``snapshots``, also ``footprints`` (burning cells: value 1, burnt out: 2).
        """
        cols = list(zip(*self.rows, strict=True)) if self.rows else [(), (), (), ()]
        out: dict[str, dict[str, Any]] = {"fire": {"t_min": np.array(cols[0], dtype=np.float64),
                                                   "burning": np.array(cols[1], dtype=np.int64),
                                                   "burnt": np.array(cols[2], dtype=np.int64),
                                                   "suppressed": np.array(cols[3], dtype=np.int64)}}
        fp = self.footprints.table()
        if fp is not None:
            out["footprints"] = fp
        return out

    def summary(self) -> dict[str, Any]:
        """Cells burnt (burnt out or burning at the end), incidents raised, steps, and the grid's size."""
        s = self.front.state
        return {"cells_burnt": int(np.count_nonzero(s >= BURNING)), "incidents_raised": len(self.raised),
                "steps": self.steps, "grid_cells": int(s.size)}


def _check(world: Any, section: FireSection, source: str | None) -> tuple[Layout, int, list[int]]:
    """The grid, the incident type's index and each ignition's cell.

    Raises
    ------
    InputError
        Naming ``components.fire.<field>``.
    """
    kind = incident_kind(world, section.incident_type, source, "components.fire.incident_type")
    layout = Layout(world, section.grid, source)
    cells = []
    for k, ignition in enumerate(section.ignitions):
        cell = layout.cell_of(ignition.xy_km)
        where = f"components.fire.ignitions[{k}].xy_km"
        if cell < 0:
            raise InputError(f"{list(ignition.xy_km)} is outside the fire's grid", source, where)
        if layout.districts(np.array([cell]))[0] < 0:
            raise InputError(f"{list(ignition.xy_km)} is in no district", source, where)
        cells.append(cell)
    return layout, kind, cells


def _disk(radius_km: float, cell_km: float) -> np.ndarray | None:
    """Offsets (d_row, d_col), int64[m, 2], of the cells with centres within ``radius_km``; None for 0."""
    if radius_km <= 0:
        return None
    r = int(radius_km // cell_km)
    di, dj = np.mgrid[-r:r + 1, -r:r + 1]
    keep = np.hypot(di, dj) * cell_km <= radius_km + 1e-9
    return np.column_stack([di[keep], dj[keep]]).astype(np.int64)

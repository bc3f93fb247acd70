"""Plume: a toxic release drifting downwind as a Gaussian plume, exposure calls and cordoned roads (#12).

The component lays a grid over the map as the fire does and, every
``step`` minutes from the release's start until its tail has left the grid,
sets each cell's ground-level concentration (mg/m3) with the plume kernel
(:mod:`sim.kernels.plume`: Briggs' rural or urban sigmas for the wind's
Pasquill-Gifford stability class). The plume reaches as far downwind as the
air has travelled since the release began, and after the release stops its
tail moves away at the wind's speed. The wind (speed, direction, stability)
may change at given times; the plume is quasi-steady (it turns with the
wind at once).

- **Incidents**: in each district, the 1st, (1 + n)th... cell whose
  concentration first reaches ``incident_mg_m3`` raises an exposure
  incident of ``incident_type`` at the cell's centre.
- **Roads** (road geographies): links with an end in a cell at or above
  ``roads.close_at`` mg/m3 are closed (a cordon), ``roads.slow_at`` slowed;
  reopened when the air clears (checked every ``roads.every`` minutes).

Random numbers: the stream ``plume``/0 (the raised incidents' drawn fields).

Scenario section::

    components:
      plume:
        grid: {cell_km: 0.1}
        release: {xy_km: [6.0, 1.5], rate_g_s: 2000, height_m: 10, start: 2 h, stop: 2 h 30 min}
        wind: {speed_m_s: 3, direction_deg: 45, stability: D}
        wind_changes: [{at: 3 h, speed_m_s: 2, direction_deg: 70, stability: E}]
        terrain: urban
        step: 5 min
        threshold_mg_m3: 1          # the table's area and the footprints
        incident_type: medical
        incident_mg_m3: 20
        cells_per_incident: 15
        roads: {close_at: 50, every: 10 min}
        snapshots: [2 h 30 min, 3 h]
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, Literal

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
from sim.errors import InputError
from sim.eventlog import register_kind
from sim.kernels.plume import Plume as PlumeGrid
from sim.kernels.plume import coefficients, plume_step

#: The plume has left the grid (detail: peak area in cells)
PLUME_GONE = register_kind("plume_gone")


class Release(_Strict):
    """``components.plume.release``: where, how much and when."""

    xy_km: Point
    rate_g_s: PositiveFloat
    #: effective release height, m
    height_m: NonNegativeFloat = 0.0
    start: Duration = Field(ge=0)
    stop: Duration = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Release:
        if self.stop <= self.start:
            raise ValueError("stop must be after start")
        return self


class Wind(_Strict):
    """The wind: speed, where it blows to, and the Pasquill-Gifford stability class."""

    speed_m_s: float = Field(gt=0, le=50)
    #: where the wind blows to, degrees clockwise from north
    direction_deg: float
    stability: Literal["A", "B", "C", "D", "E", "F"] = "D"


class WindChange(Wind):
    """The wind from ``at`` on."""

    at: Duration = Field(ge=0)


class PlumeSection(_Strict):
    """The ``components.plume`` section of a scenario."""

    grid: GridSection
    release: Release
    wind: Wind
    wind_changes: tuple[WindChange, ...] = ()
    #: Briggs' sigmas for open country or for cities
    terrain: Literal["rural", "urban"] = "urban"
    step: PositiveDuration = 5.0
    #: concentration (mg/m3) counted in the table's area and written as footprints
    threshold_mg_m3: PositiveFloat = 1.0
    #: crosswind cut-off in standard deviations
    n_sigma: float = Field(default=4.0, gt=0, le=10)
    #: downwind distances below this are taken as this, m
    x_min_m: PositiveFloat = 10.0
    #: incident type raised by exposed cells; none without
    incident_type: str | None = None
    incident_mg_m3: PositiveFloat = 10.0
    cells_per_incident: PositiveInt = 10
    roads: RoadSection | None = None
    snapshots: Snapshots = ()

    @model_validator(mode="after")
    def _changes_in_order(self) -> PlumeSection:
        times = [c.at for c in self.wind_changes]
        if times != sorted(times):
            raise ValueError("wind_changes must be in time order")
        return self


@register("plume")
class PlumeRelease(Component):
    """A toxic release whose plume drifts over the grid, raising exposure incidents and closing roads.

    Lifecycle: built with the validated section -> :meth:`start` starts the
    plume's process (from the release's start until its tail leaves the grid)
    and the snapshots' -> :meth:`tables` (``plume``; ``footprints``) and
    :meth:`summary`.

    Parameters
    ----------
    model : agents.model.Simulation
    section : PlumeSection

    Raises
    ------
    InputError
        A map without km, an unknown incident type, or a release outside the grid.
    """

    Section = PlumeSection
    hazard = "plume"

    @classmethod
    def check(cls, world: Any, section: PlumeSection, source: str | None) -> tuple[Layout, int | None]:
        """The incident type must be the World's, the release on the grid."""
        return _check(world, section, source)

    def __init__(self, model: Any, section: PlumeSection, prepared: tuple[Layout, int | None]):
        super().__init__(model, section)
        self.layout, self.kind = prepared  # by check
        cell_m = self.layout.cell_km * 1000.0
        origin_m = (self.layout.origin[0] * 1000.0, self.layout.origin[1] * 1000.0)
        self.grid = PlumeGrid(self.layout.shape, origin_m, cell_m)
        self.src_m = (section.release.xy_km[0] * 1000.0, section.release.xy_km[1] * 1000.0)
        self.incidents = (None if self.kind is None else
                          CellIncidents(model, self.layout, self.kind, section.cells_per_incident, "plume",
                                        model.streams.named("plume", 0)))
        self.reached = np.zeros(self.layout.shape, dtype=np.bool_)
        self.roads = RoadHazard(model, self.layout, section.roads, "plume") if section.roads else None
        self.footprints = Footprints("plume", self.layout, section.snapshots)
        self.rows: list[tuple[float, int, float, float, float, str]] = []
        self.steps = 0

    def start(self) -> None:
        """Start the plume's process and the snapshots."""
        self.model.env.process(self._drift())
        self.footprints.start(self.model.env, lambda: above(self.grid.conc, self.section.threshold_mg_m3))

    def sample(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """Ground-level concentration (mg/m3) now at the points (0 outside the grid)."""
        return sample_grid(self.layout, self.grid.conc, x_km, y_km)

    def wind_at(self, t: float) -> Wind:
        """The wind blowing at time ``t`` (minutes)."""
        wind: Wind = self.section.wind
        for change in self.section.wind_changes:
            if change.at <= t:
                wind = change
        return wind

    def _drift(self) -> Generator:
        """Step from the release's start until the tail is farther than the grid's extent."""
        s, env = self.section, self.model.env
        rel, dt = s.release, float(s.step)
        ny, nx = self.layout.shape
        reach_m = math.hypot(ny, nx) * self.grid.cell_m + math.hypot(*self._offset_m())
        road_every = max(1, round(self.roads.every() / dt)) if self.roads else 0
        front_m = tail_m = 0.0
        yield env.timeout(rel.start)
        while True:
            wind = self.wind_at(env.now)
            n = plume_step(self.grid, self.src_m, rel.rate_g_s, rel.height_m, wind.speed_m_s,
                           wind.direction_deg, coefficients(wind.stability, s.terrain), tail_m, front_m,
                           s.x_min_m, s.n_sigma, s.threshold_mg_m3)
            self.steps += 1
            self._reach()
            if road_every and self.steps % road_every == 0:
                self.roads.update(self.grid.conc)
            i0, i1, j0, j1 = self.grid.box
            peak = float(self.grid.conc[i0:i1, j0:j1].max()) if i1 > i0 and j1 > j0 else 0.0
            self.rows.append((env.now, n, n * self.layout.cell_km ** 2, peak, wind.direction_deg,
                              wind.stability))
            move_m = wind.speed_m_s * 60.0 * dt
            front_m += move_m
            if env.now + dt > rel.stop:
                tail_m += wind.speed_m_s * 60.0 * (env.now + dt - max(env.now, rel.stop))
            if tail_m > reach_m:
                break
            yield env.timeout(dt)
        plume_step(self.grid, self.src_m, 0.0, 0.0, 1.0, 0.0, coefficients("D", s.terrain), 0.0, 0.0)
        if self.roads:
            self.roads.update(self.grid.conc)
        self.model.log.add(env.now, PLUME_GONE, -1, -1, {"peak_cells": max(r[1] for r in self.rows)})

    def _offset_m(self) -> tuple[float, float]:
        """The release's distance from the grid's origin, m (x, y)."""
        return (self.src_m[0] - self.grid.origin_m[0], self.src_m[1] - self.grid.origin_m[1])

    def _reach(self) -> None:
        """Raise incidents at cells first reaching ``incident_mg_m3``. Mutates ``reached``."""
        if self.incidents is None:
            return
        i0, i1, j0, j1 = self.grid.box
        box = self.grid.conc[i0:i1, j0:j1]
        hit = (box >= self.section.incident_mg_m3) & ~self.reached[i0:i1, j0:j1]
        if hit.any():
            a, b = np.nonzero(hit)
            self.reached[a + i0, b + j0] = True
            self.incidents.reach(np.sort((a + i0) * self.layout.shape[1] + (b + j0)), label="toxic exposure")

    def tables(self) -> dict[str, dict[str, Any]]:
        """``plume``: t_min, cells_above, area_km2, max_mg_m3, wind_direction_deg, stability; per step."""
        names = ("t_min", "cells_above", "area_km2", "max_mg_m3", "wind_direction_deg", "stability")
        cols = list(zip(*self.rows, strict=True)) if self.rows else [()] * len(names)
        dtypes = (np.float64, np.int64, np.float64, np.float64, np.float64, object)
        out = {"plume": {n: np.array(c, dtype=d) for n, c, d in zip(names, cols, dtypes, strict=True)}}
        fp = self.footprints.table()
        if fp is not None:
            out["footprints"] = fp
        return out

    def summary(self) -> dict[str, Any]:
        """Peak area above the threshold, peak concentration, incidents raised, steps, grid size."""
        return {"max_area_km2": round(max((r[2] for r in self.rows), default=0.0), 4),
                "max_mg_m3": round(max((r[3] for r in self.rows), default=0.0), 3),
                "incidents_raised": len(self.incidents.raised) if self.incidents else 0,
                "steps": self.steps, "grid_cells": int(self.grid.conc.size)}


def _check(world: Any, section: PlumeSection, source: str | None) -> tuple[Layout, int | None]:
    """The grid and the incident type's index.

    Raises
    ------
    InputError
        Naming ``components.plume.<field>``.
    """
    kind = None
    if section.incident_type is not None:
        kind = incident_kind(world, section.incident_type, source, "components.plume.incident_type")
    layout = Layout(world, section.grid, source, "plume")
    if layout.cell_of(section.release.xy_km) < 0:
        raise InputError(f"{list(section.release.xy_km)} is outside the map (the plume's grid)", source,
                         "components.plume.release.xy_km")
    return layout, kind

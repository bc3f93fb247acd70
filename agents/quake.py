"""Quake: shaking by distance from the epicentre, damaged buildings, trapped people, blocked roads (#12).

At time ``at`` the component computes the intensity (MMI) of every cell of
its grid (:mod:`sim.kernels.quake`: Allen, Wald and Worden 2012), the
probability of each damage state per building class (lognormal fragility
curves in PGA, via Wald et al. 1999), and draws, from its own stream:

- **buildings** per cell and class: Poisson with mean ``district population
  density x cell area / people_per_building x share`` (cells in no district
  have none);
- **damage**: a multinomial draw of each cell's buildings of a class over the
  states none, slight, moderate, extensive, complete;
- **trapped people**: of the occupants of each completely damaged building
  (``occupants_per_building``), a binomial share ``trapped_share``.

Then, in each district, the 1st, (1 + n)th... collapsed building (cells in
ascending order) raises a rescue incident of ``incident_type`` at its cell's
centre, ``n = collapsed_per_incident``; the calls come in at uniform random
times within ``report_within`` of the shock (people call after it). On
road geographies, links with an end in a cell where at least
``roads.close_at`` of the buildings are extensively damaged or worse are
closed by debris (``roads.slow_at``: slowed), at the shock, for the rest of
the run.

Random numbers: streams ``quake``/0 (buildings), ``quake``/1 (damage and
trapped), ``quake``/2 (call times), ``quake``/3 (the incidents' drawn fields).

Scenario section::

    components:
      quake:
        at: 2 h
        epicentre_km: [8.0, 6.0]
        depth_km: 10
        magnitude: 6.3
        grid: {cell_km: 0.25}
        people_per_building: 25
        classes:
          - {name: masonry, share: 0.3, medians_g: [0.10, 0.16, 0.27, 0.45], beta: 0.64}
          - {name: rc_frame, share: 0.7, medians_g: [0.14, 0.24, 0.45, 0.85], beta: 0.70}
        occupants_per_building: 12
        trapped_share: 0.05
        incident_type: rescue
        collapsed_per_incident: 3
        report_within: 45 min
        roads: {close_at: 0.25}
        snapshots: [2 h]
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from agents.components import Component, incident_kind, register
from agents.fire import GridSection, Layout
from agents.hazard import CellIncidents, Footprints, RoadHazard, RoadSection, Snapshots, _Strict, sample_grid
from scenarios.base import Duration, Point
from sim.eventlog import register_kind
from sim.kernels.quake import damage_probabilities, intensity

#: The shock (detail: magnitude, buildings collapsed, people trapped)
QUAKE_SHOCK = register_kind("quake_shock")
STATE_NAMES = ("none", "slight", "moderate", "extensive", "complete")


class BuildingClass(_Strict):
    """A building class: its share of the buildings and its fragility curves."""

    name: str = Field(min_length=1)
    share: float = Field(gt=0, le=1)
    #: median PGA (g) of reaching slight, moderate, extensive, complete damage (ascending)
    medians_g: tuple[PositiveFloat, PositiveFloat, PositiveFloat, PositiveFloat]
    #: lognormal standard deviation
    beta: PositiveFloat

    @model_validator(mode="after")
    def _ascending(self) -> BuildingClass:
        if list(self.medians_g) != sorted(self.medians_g):
            raise ValueError("medians_g must ascend (slight, moderate, extensive, complete)")
        return self


class QuakeSection(_Strict):
    """The ``components.quake`` section of a scenario."""

    at: Duration = Field(ge=0)
    epicentre_km: Point
    depth_km: NonNegativeFloat = 10.0
    magnitude: float = Field(ge=3, le=9.5)
    grid: GridSection
    #: people per building, for the number of buildings per cell
    people_per_building: PositiveFloat = 25.0
    classes: tuple[BuildingClass, ...] = Field(min_length=1)
    #: people inside a building at the time of the shock
    occupants_per_building: NonNegativeFloat = 10.0
    #: share of the occupants of a collapsed building who are trapped
    trapped_share: float = Field(default=0.05, ge=0, le=1)
    #: incident type of the rescue calls; none without
    incident_type: str | None = None
    collapsed_per_incident: PositiveInt = 5
    #: calls arrive at uniform times within this long after the shock
    report_within: Duration = Field(default=30.0, ge=0)
    roads: RoadSection | None = None
    #: the footprint is the cells' intensity at or above this (MMI)
    footprint_mmi: float = Field(default=6.0, ge=1, le=12)
    snapshots: Snapshots = ()

    @model_validator(mode="after")
    def _shares(self) -> QuakeSection:
        total = sum(c.share for c in self.classes)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"the classes' shares must sum to 1, got {total:g}")
        if len({c.name for c in self.classes}) != len(self.classes):
            raise ValueError("class names must be unique")
        return self


@register("quake")
class Quake(Component):
    """An earthquake at a given time: intensity, damage, trapped people, rescue calls, blocked roads.

    Lifecycle: built with the validated section -> :meth:`start` starts one
    process that waits until ``at``, computes and draws the damage, closes
    roads and raises the calls over ``report_within`` -> :meth:`tables`
    (``quake``: damage by district; ``footprints``) and :meth:`summary`.

    Parameters
    ----------
    model : agents.model.Simulation
    section : QuakeSection

    Raises
    ------
    InputError
        A map without km, or an unknown incident type.
    """

    Section = QuakeSection
    hazard = "quake"

    @classmethod
    def check(cls, world: Any, section: QuakeSection, source: str | None) -> tuple[Layout, int | None]:
        """The incident type must be the World's; the map must be in km."""
        return _check(world, section, source)

    def __init__(self, model: Any, section: QuakeSection, prepared: tuple[Layout, int | None]):
        super().__init__(model, section)
        self.layout, self.kind = prepared  # by check
        self.mmi = np.zeros(self.layout.shape, dtype=np.float64)
        self.incidents = (None if self.kind is None else
                          CellIncidents(model, self.layout, self.kind, section.collapsed_per_incident,
                                        "quake", model.streams.named("quake", 3)))
        self.roads = RoadHazard(model, self.layout, section.roads, "quake") if section.roads else None
        self.footprints = Footprints("quake", self.layout, section.snapshots)
        self.by_district: np.ndarray | None = None   # int64[n_districts, 6]: 5 states and trapped
        self.struck = False

    def start(self) -> None:
        """Start the shock's process and the snapshots."""
        self.model.env.process(self._shock())
        self.footprints.start(self.model.env, self._footprint)

    def sample(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """Intensity (MMI) at the points: 0 before the shock, the shock's intensity from then on."""
        return sample_grid(self.layout, self.mmi, x_km, y_km)

    def _footprint(self) -> tuple[np.ndarray, np.ndarray]:
        flat = self.mmi.reshape(-1)
        if not self.struck:
            return np.empty(0, dtype=np.int64), np.empty(0)
        cells = np.flatnonzero(flat >= self.section.footprint_mmi)
        return cells, flat[cells]

    def _shock(self) -> Generator:
        s, env, w = self.section, self.model.env, self.model.world
        yield env.timeout(s.at)
        self.mmi[:] = intensity(self.layout.shape, self.layout.origin, self.layout.cell_km, s.epicentre_km,
                                s.depth_km, s.magnitude)
        self.struck = True
        states, trapped, cells, district = self._damage()
        nd = len(w.district_names)
        table = np.zeros((nd, 6), dtype=np.int64)
        np.add.at(table, district, np.column_stack([states.sum(axis=1), trapped]))
        self.by_district = table
        if self.roads:
            share = np.zeros(self.layout.shape[0] * self.layout.shape[1])
            total = states.sum(axis=(1, 2))
            share[cells] = np.where(total > 0, states[:, :, 3:].sum(axis=(1, 2)) / np.maximum(total, 1), 0.0)
            self.roads.update(share.reshape(self.layout.shape))
        collapsed = states[:, :, 4].sum(axis=1)
        self.model.log.add(env.now, QUAKE_SHOCK, -1, -1,
                           {"magnitude": s.magnitude, "collapsed": int(collapsed.sum()),
                            "trapped": int(trapped.sum())})
        if self.incidents is not None and collapsed.sum():
            yield from self._calls(cells, collapsed)

    def _damage(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Buildings by state, trapped people, cells and their districts (cells with buildings, ascending)."""
        s, w, lay = self.section, self.model.world, self.layout
        district = lay.districts()
        area = lay.cell_km ** 2
        density = np.zeros(len(w.district_names))
        for d, poly in enumerate(w.district_boundaries):
            if poly is not None:
                density[d] = w.district_population[d] / _area(np.asarray(poly, dtype=np.float64))
        in_d = np.flatnonzero(district >= 0)
        shares = np.array([c.share for c in s.classes])
        mean = (density[district[in_d]] * area / s.people_per_building)[:, None] * shares[None, :]
        counts = self.model.streams.named("quake", 0).poisson(mean)
        keep = counts.sum(axis=1) > 0
        cells, counts = in_d[keep], counts[keep]
        p = damage_probabilities(self.mmi, cells, np.array([c.medians_g for c in s.classes]),
                                 np.array([c.beta for c in s.classes]))
        rng = self.model.streams.named("quake", 1)
        states = rng.multinomial(counts, p)            # [cells, classes, 5]
        people = np.rint(states[:, :, 4].sum(axis=1) * s.occupants_per_building).astype(np.int64)
        trapped = rng.binomial(people, s.trapped_share)
        return states, trapped, cells, district[cells]

    def _calls(self, cells: np.ndarray, collapsed: np.ndarray) -> Generator:
        """Raise the rescue calls at random times within ``report_within``, in time order."""
        env, inc = self.model.env, self.incidents
        d_of = inc.cell_district[cells]
        due: list[tuple[int, int]] = []          # (cell, district) of each incident, cells ascending
        for cell, d, n in zip(cells.tolist(), d_of.tolist(), collapsed.tolist(), strict=True):
            for _ in range(n):
                inc.count[d] += 1
                if (inc.count[d] - 1) % inc.per == 0:
                    due.append((cell, d))
        window = float(self.section.report_within)
        delays = self.model.streams.named("quake", 2).uniform(0.0, window, len(due))
        order = np.argsort(delays, kind="stable")
        start = env.now
        for k in order.tolist():
            if start + delays[k] > env.now:
                yield env.timeout(start + delays[k] - env.now)
            inc.raise_at(due[k][0], due[k][1], label="collapsed building")

    def tables(self) -> dict[str, dict[str, Any]]:
        """``quake``: one row per district at the shock: t_min, district, buildings by state, trapped."""
        w = self.model.world
        out: dict[str, dict[str, Any]] = {}
        if self.by_district is not None:
            t = self.by_district
            out["quake"] = {"t_min": np.full(len(t), float(self.section.at)),
                            "district": np.array(w.district_names, dtype=object),
                            **{s: t[:, k].copy() for k, s in enumerate(STATE_NAMES)},
                            "trapped": t[:, 5].copy()}
        fp = self.footprints.table()
        if fp is not None:
            out["footprints"] = fp
        return out

    def summary(self) -> dict[str, Any]:
        """Buildings damaged by state, trapped people, incidents raised, closed links, the peak intensity."""
        if self.by_district is None:
            return {"struck": False}
        t = self.by_district.sum(axis=0)
        return {"struck": True, **{s: int(t[k]) for k, s in enumerate(STATE_NAMES)}, "trapped": int(t[5]),
                "incidents_raised": len(self.incidents.raised) if self.incidents else 0,
                "closed_links": self.roads.closed_links if self.roads and self.roads.on else 0,
                "max_mmi": round(float(self.mmi.max()), 3), "grid_cells": int(self.mmi.size)}


def _area(poly: np.ndarray) -> float:
    """Area of a polygon (shoelace), km2."""
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def _check(world: Any, section: QuakeSection, source: str | None) -> tuple[Layout, int | None]:
    """The grid and the incident type's index.

    Raises
    ------
    InputError
        Naming ``components.quake.<field>``.
    """
    kind = None
    if section.incident_type is not None:
        kind = incident_kind(world, section.incident_type, source, "components.quake.incident_type")
    return Layout(world, section.grid, source, "quake"), kind

"""Scheduled changes of a run's world: units out of service, roads closed or slowed.

Both come from the scenario (``unit_availability``, ``road_changes``) and run
as one SimPy process per entry, only when the scenario has entries.
"""

from __future__ import annotations

import math

import mesa

from sim.eventlog import register_kind

#: A road change takes effect or ends (detail: label, factor, number of links).
ROAD_CHANGED = register_kind("road_changed")


def start(model: mesa.Model) -> None:
    """Start a process per scheduled unit outage and road change of the World."""
    for outage in model.world.unit_outages:
        model.env.process(_unit_outage(model, outage))
    for change in model.world.road_changes:
        model.env.process(_road_change(model, change))


def _unit_outage(model: mesa.Model, outage):
    """Take a unit out of service from ``start_min`` to ``end_min`` (busy units: when their job ends)."""
    env = model.env
    if outage.start_min > 0:
        yield env.timeout(outage.start_min)
    model.fleet.take_out(outage.unit, outage.reason)
    if outage.end_min < math.inf:
        yield env.timeout(outage.end_min - env.now)
        model.fleet.put_back(outage.unit)


def _road_change(model: mesa.Model, change):
    """Apply a road change over its window: trips that start after it use the changed roads.

    A unit already on its way keeps the travel time it set off with.
    """
    env = model.env
    if change.at_min > 0:
        yield env.timeout(change.at_min)
    _apply(model, change, change.factor)
    if change.until_min < math.inf:
        yield env.timeout(change.until_min - env.now)
        _apply(model, change, 1.0)


def _apply(model: mesa.Model, change, factor: float) -> None:
    model.travel.change_links(change.tail, change.head, factor)
    model.forget_routes()
    model.log.add(model.env.now, ROAD_CHANGED, -1, -1,
                  {"label": change.label, "factor": factor, "links": len(change.tail)})

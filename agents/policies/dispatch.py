"""Dispatch policies: which available units answer an incident.

A policy receives the units that could go (:class:`Candidates`) and returns
the positions of the ones it picks, best first. A policy that ranks units by
preference class and then by expected arrival may also offer
``preference(district, kind, priority) -> int64[n_units]`` (lower classes
first); the engine then chooses with one compiled kernel pass instead of
building :class:`Candidates`, with the same result. Built-in policies:

``nearest``
    The units with the shortest expected arrival time (turnout when leaving a
    station, plus travel), ties by unit order.
``district_first``
    Units of the incident's own district first, then of neighbouring
    districts, then any other; nearest within each group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from agents.policies.registry import register
from sim.kernels import select_k


@dataclass(slots=True)
class Candidates:
    """Units that may be sent to one incident, for one capability.

    Attributes
    ----------
    units : ndarray of int
        Unit indices (into ``world.unit_*`` arrays).
    arrival_min : ndarray of float
        Expected minutes until each would arrive (turnout plus travel).
    incident, district, priority, kind : int
        The incident and its district, priority and type indices.
    capability : int
        The capability being filled.
    """

    units: np.ndarray
    arrival_min: np.ndarray
    incident: int
    district: int
    priority: int
    kind: int
    capability: int


class DispatchPolicy(Protocol):
    """What the dispatch centre calls."""

    def select(self, c: Candidates, k: int) -> np.ndarray:
        """Positions into ``c.units`` of up to ``k`` units to send, best first."""
        ...


@register("nearest")
class Nearest:
    """Closest available units by expected arrival time."""

    def __init__(self, world: Any):
        self.world = world
        self._groups = np.zeros(world.n_units, dtype=np.int64)

    def preference(self, district: int, kind: int, priority: int) -> np.ndarray:
        """Every unit in one class: pure nearest."""
        return self._groups

    def select(self, c: Candidates, k: int) -> np.ndarray:  # noqa: D102
        return select_k(self._groups[c.units], c.arrival_min, k)


@register("district_first")
class DistrictFirst:
    """Own district first, then neighbours, then the rest; nearest within a group.

    Parameters
    ----------
    world : sim.world.World
    max_wait_min : float, optional
        If the best own-district (or neighbour) unit would arrive more than
        this many minutes after the nearest unit overall, the groups are
        ignored and the nearest units go. Default: never.
    """

    def __init__(self, world: Any, max_wait_min: float = float("inf")):
        if not max_wait_min >= 0:
            raise ValueError(f"max_wait_min must be >= 0, got {max_wait_min}")
        self.world = world
        self.max_wait_min = float(max_wait_min)
        home = world.unit_district
        own = home[None, :] == np.arange(len(world.district_names))[:, None]
        near = world.district_neighbours[:, home]
        self._groups = np.where(own, 0, np.where(near, 1, 2)).astype(np.int64)  # [district, unit]
        if np.isfinite(self.max_wait_min):
            self.preference = None  # the fallback needs every candidate: use select()

    def preference(self, district: int, kind: int, priority: int) -> np.ndarray:
        """0 for the incident district's units, 1 for its neighbours', 2 for the rest."""
        return self._groups[district]

    def select(self, c: Candidates, k: int) -> np.ndarray:  # noqa: D102
        group = self._groups[c.district, c.units]
        chosen = select_k(group, c.arrival_min, k)
        if chosen.size and np.isfinite(self.max_wait_min):
            fastest = c.arrival_min.min()
            if c.arrival_min[chosen[0]] - fastest > self.max_wait_min:
                return select_k(np.zeros_like(group), c.arrival_min, k)
        return chosen

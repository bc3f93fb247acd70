"""Dispatch policies written outside Anjeon, used by name: ``--policy my_policies:KeepOneHome``.

Put this directory on PYTHONPATH (or install your module) and name the class
as ``module:Class`` in ``policy.dispatch`` or ``--policy``. A policy is built
as ``Class(world, **params)`` and answers ``select(candidates, k)`` with the
positions of the chosen candidates, best first.
"""

from __future__ import annotations

import numpy as np

from agents.policies import Candidates
from sim.kernels import select_k


class PlainNearest:
    """The closest units by expected arrival: the built-in ``nearest``, written by hand."""

    def __init__(self, world):
        self.world = world

    def select(self, c: Candidates, k: int) -> np.ndarray:
        """Positions of the ``k`` candidates that arrive first (ties: lower unit index)."""
        order = np.lexsort((c.units, c.arrival_min))
        return order[np.isfinite(c.arrival_min[order])][:k]


class KeepOneHome:
    """Prefer units whose station keeps another free unit of the same capability.

    Sending the last free ambulance of a station leaves its area uncovered;
    this policy sends it only when no station with a spare unit can arrive
    within ``slack_min`` minutes of the nearest.

    Parameters
    ----------
    world : sim.world.World
    slack_min : float
        Minutes of extra arrival time accepted to keep a station covered.
    """

    def __init__(self, world, slack_min: float = 3.0):
        if slack_min < 0:
            raise ValueError(f"slack_min must be >= 0, got {slack_min}")
        self.world = world
        self.slack_min = float(slack_min)

    def select(self, c: Candidates, k: int) -> np.ndarray:
        """Spare units within the slack first, then the rest, nearest first within each group."""
        station = self.world.unit_station[c.units]
        free_here = np.bincount(station, minlength=len(self.world.station_names))[station]
        fastest = c.arrival_min.min() if len(c.units) else 0.0
        spare = (free_here > 1) & (c.arrival_min <= fastest + self.slack_min)
        return select_k(np.where(spare, 0, 1), c.arrival_min, k)

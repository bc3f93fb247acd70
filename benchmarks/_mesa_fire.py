"""The fire rule of sim.kernels.fire as a Mesa 3.3 model with one agent per cell (benchmark peer only).

The same rule as :func:`sim.kernels.fire.spread_step` without wind or
suppression: each step every burning cell tries each of its 4 neighbours
that holds fuel and ignites it with probability ``p_spread`` (cells caught
in a step spread from the next one: a synchronous update); a cell burns
``burn_steps`` steps, then burns out. Written as a Mesa user would: a
``FixedAgent`` per cell on an ``OrthogonalVonNeumannGrid``, every agent
stepped each tick in two stages (``AgentSet.do``), neighbours from the
cell's ``neighborhood``, random numbers from ``model.random`` (Mesa's
generator, seeded from a numpy Generator as the engine does). The
frontier kernel gives the same fires in law, not draw for draw (its
uniforms come from the caller in another order).
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent, OrthogonalVonNeumannGrid

EMPTY, FUEL, BURNING, BURNT = 0, 1, 2, 3


class Patch(FixedAgent):
    """One cell of the grid: its fuel state and how long it has burned."""

    def __init__(self, model: FireModel, cell, state: int):
        super().__init__(model)
        self.cell = cell
        self.state = state
        self.burned = 0
        self.catch = False

    def spread(self) -> None:
        """Stage 1: a burning patch tries each fuel neighbour (no state changes yet)."""
        if self.state != BURNING:
            return
        p = self.model.p_spread
        rnd = self.model.random.random
        for other in self.cell.neighborhood.agents:
            if other.state == FUEL and rnd() < p:
                other.catch = True

    def advance(self) -> None:
        """Stage 2: burn on or out, then catch fire if a neighbour set this patch alight."""
        if self.state == BURNING:
            self.burned += 1
            if self.burned >= self.model.burn_steps:
                self.state = BURNT
        if self.catch:
            self.state, self.burned, self.catch = BURNING, 0, False


class FireModel(mesa.Model):
    """A fire on an ``ny`` x ``nx`` grid of patches, one agent each, from a given state.

    Parameters
    ----------
    state : ndarray of int8, shape (ny, nx)
        EMPTY, FUEL, BURNING or BURNT per cell.
    burned : ndarray of int, shape (ny, nx)
        Steps each burning cell has burned.
    p_spread : float
    burn_steps : int
    rng : numpy.random.Generator
    """

    def __init__(self, state: np.ndarray, burned: np.ndarray, p_spread: float, burn_steps: int,
                 rng: np.random.Generator):
        super().__init__(rng=rng)
        ny, nx = state.shape
        self.p_spread, self.burn_steps = p_spread, burn_steps
        self.grid = OrthogonalVonNeumannGrid((ny, nx), torus=False, capacity=1, random=self.random)
        for cell in self.grid.all_cells:
            i, j = cell.coordinate
            Patch(self, cell, int(state[i, j])).burned = int(burned[i, j])

    def step(self) -> None:
        """One synchronous step: every patch spreads, then every patch advances."""
        self.agents.do("spread")
        self.agents.do("advance")

    def burning(self) -> int:
        """Patches burning now."""
        return sum(1 for a in self.agents if a.state == BURNING)

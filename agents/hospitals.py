"""Receiving hospitals: handover bays as a SimPy resource."""

from __future__ import annotations

import mesa
import simpy


class Hospital(mesa.Agent):
    """A hospital with ``capacity`` handover bays; ambulances queue when all are busy.

    Parameters
    ----------
    model : agents.model.Simulation
    index : int
        Index into ``world.hospital_*``.
    """

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index
        self.loc = int(model.world.hospital_loc[index])
        self.bays = simpy.Resource(model.env, capacity=int(model.world.hospital_capacity[index]))
        self.n_handovers = 0
        self.wait_min = 0.0

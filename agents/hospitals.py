"""Receiving hospitals: handover bays that ambulances take in turn."""

from __future__ import annotations

from collections import deque

import mesa
import simpy


class Hospital(mesa.Agent):
    """A hospital with ``capacity`` handover bays; ambulances wait first come, first served when all are busy.

    An ambulance asks for a bay (:meth:`request`, an event it waits on, or
    :meth:`take_now`), hands its patient over, and frees the bay (:meth:`release`). The bays are counted here,
    as a call centre counts its call-takers, with the rules of a ``simpy.Resource``
    of that capacity: a request is granted in the same instant, after the events
    already due then, when a bay is free; a bay freed while ambulances wait goes to
    the first of them, once the events due in that instant before the release have
    run. ``simpy.Resource`` cost two events and the bookkeeping of its put and get
    queues on every handover, about a tenth of a Busan-sized city-year's run time
    (benchmarks/city_scale.py); the rules, and so every table, are unchanged
    (tests/engine/test_hospital_bays.py replays random handovers through both).

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
        self.capacity = int(model.world.hospital_capacity[index])
        self.free_bays = self.capacity
        #: requests not granted yet, in order
        self.waiting: deque[simpy.Event] = deque()
        self.n_handovers = 0
        self.wait_min = 0.0
        self._env = model.env

    def request(self) -> simpy.Event:
        """An event that succeeds when a bay is the caller's; the caller then :meth:`release` s it."""
        bay = self._env.event()
        self.waiting.append(bay)
        self._grant()
        return bay

    def take_now(self) -> bool:
        """Take a free bay without waiting on an event, where the event would change nothing; else False.

        A request granted at once succeeds an event in this instant, which the
        caller waits on. When a bay is free, nobody waits and no other event is
        due in this instant, that event would be the next processed, so the caller
        may go on at once: one event fewer per handover, the same trace. Only for a
        caller resumed by an event of its own (the timeout of its trip): another
        callback of a shared event would otherwise run after it instead of before.
        """
        env = self._env
        if self.free_bays and not self.waiting and env.peek() > env.now:
            self.free_bays -= 1
            return True
        return False

    def release(self) -> None:
        """A handover is done: its bay is free, for the first ambulance waiting if there is one."""
        self.free_bays += 1
        if self.waiting:  # granted once this instant's events due before now have run (as SimPy's Release)
            self._env.timeout(0).callbacks.append(self._grant)

    def _grant(self, _event: simpy.Event | None = None) -> None:
        while self.free_bays and self.waiting:
            self.free_bays -= 1
            self.waiting.popleft().succeed()

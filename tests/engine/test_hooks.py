"""The engine's hold-back hooks: ``before_decide`` defers a decision, ``on_arrival`` holds the work.

Exact traces on the hand-computable trace world (tests/engine/conftest.py):
a test component holds incident 0's decision for 2 min, and its first unit
waits 3 min on scene before the on-scene work starts.
"""

from __future__ import annotations

import copy

import pytest

import scenarios
import sim
from agents.components import Component

pytestmark = pytest.mark.nojit

HOLDER = "tests.engine.test_hooks:Holder"


class Holder(Component):
    """Defer the decision of incident 0 by 2 min; hold its unit on scene for 3 min."""

    def start(self) -> None:
        """Install the hooks."""
        self.deferred: set[int] = set()
        self.model.before_decide.append(self._before)
        self.model.on_arrival.append(self._arrival)

    def _before(self, i: int, now: float) -> bool:
        if i != 0 or i in self.deferred:
            return False
        self.deferred.add(i)
        env = self.model.env
        env.timeout(2).callbacks.append(lambda _: self.model.dispatch.decide(i, env.now))
        return True

    def _arrival(self, u: int, i: int):
        return self.model.env.timeout(3) if i == 0 else None


def _run(trace_dict, held: bool):
    d = copy.deepcopy(trace_dict)
    d["incidents"] = [{"at": 0, "type": "medical", "district": "North", "location": "X", "transport": False}]
    if held:
        d["components"] = {HOLDER: {}}
    return sim.run(scenarios.from_dict(d))


def test_hooks_shift_dispatch_and_work_exactly(trace_dict, events_of):
    plain = [r for r in events_of(_run(trace_dict, False)) if r[2] == 0]
    held = [r for r in events_of(_run(trace_dict, True)) if r[2] == 0]
    # plain: dispatched at 0, turnout 1, A->X 4: arrives 5, works 10, leaves 15
    assert [(k, t) for k, t, _, _ in plain] == [
        ("call_received", 0.0), ("call_answered", 0.0), ("unit_dispatched", 0.0), ("unit_en_route", 1.0),
        ("unit_arrived", 5.0), ("unit_left_scene", 15.0), ("incident_cleared", 15.0)]
    # held: decided 2 min later, and the work starts 3 min after the arrival
    assert [(k, t) for k, t, _, _ in held] == [
        ("call_received", 0.0), ("call_answered", 0.0), ("unit_dispatched", 2.0), ("unit_en_route", 3.0),
        ("unit_arrived", 7.0), ("unit_left_scene", 20.0), ("incident_cleared", 20.0)]

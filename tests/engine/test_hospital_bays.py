"""Hospital bays follow the rules of a ``simpy.Resource`` of the same capacity, event for event.

The engine counts a hospital's handover bays itself (agents/hospitals.py) to save
SimPy's events per handover (a free bay is taken without one when no other event
is due in the instant). These tests replay random handovers, with ties
and other work in the same instants, through a ``simpy.Resource`` and through
:class:`agents.hospitals.Hospital`, and require the same trace: the same
instants and the same order within each instant.
"""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import numpy as np
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.hospitals import Hospital


def _hospital(env: simpy.Environment, capacity: int) -> Hospital:
    model = mesa.Model(rng=np.random.default_rng(0))
    model.env = env
    model.world = SimpleNamespace(hospital_loc=np.array([0]), hospital_capacity=np.array([capacity]))
    return Hospital(model, 0)


def _run(plan: dict, with_simpy: bool) -> list[tuple]:
    """Trace of ``plan``'s ambulances and bystanders, handed over through SimPy's resource or the Hospital."""
    env = simpy.Environment()
    trace: list[tuple] = []
    resource = simpy.Resource(env, capacity=plan["capacity"]) if with_simpy else None
    hospital = None if with_simpy else _hospital(env, plan["capacity"])

    def ambulance(a: int, arrive: float, handover: float):
        yield env.timeout(arrive)
        trace.append((env.now, "arrived", a))
        if with_simpy:
            with resource.request() as bay:
                yield bay
                trace.append((env.now, "started", a))
                if handover > 0:
                    yield env.timeout(handover)
                trace.append((env.now, "done", a))
        else:  # as the engine does: a free bay at once where no event is due (its own timeout woke it)
            if not hospital.take_now():
                yield hospital.request()
            trace.append((env.now, "started", a))
            if handover > 0:
                yield env.timeout(handover)
            trace.append((env.now, "done", a))
            hospital.release()
        yield env.timeout(0)  # work in the instant after the handover (the engine's next steps)
        trace.append((env.now, "after", a))

    def bystander(b: int, at: float):  # other work due in the same instants
        yield env.timeout(at)
        trace.append((env.now, "bystander", b))
        yield env.timeout(0)
        trace.append((env.now, "bystander again", b))

    for a, (arrive, handover) in enumerate(plan["ambulances"]):
        env.process(ambulance(a, arrive, handover))
    for b, at in enumerate(plan["bystanders"]):
        env.process(bystander(b, at))
    env.run()
    return trace


_quarters = st.integers(0, 12).map(lambda q: q / 4.0)  # binary fractions on a coarse grid: many ties
plans = st.fixed_dictionaries({
    "capacity": st.integers(1, 3),
    "ambulances": st.lists(st.tuples(_quarters, _quarters), min_size=1, max_size=12),
    "bystanders": st.lists(_quarters, max_size=6),
})


@settings(max_examples=200, deadline=None)
@given(plans)
def test_bays_trace_equals_simpy_resource(plan):
    assert _run(plan, with_simpy=False) == _run(plan, with_simpy=True)


def test_queue_by_hand():
    """One bay, three ambulances at 0, 1, 1 with 2-minute handovers: starts at 0, 2, 4; FIFO."""
    plan = {"capacity": 1, "ambulances": [(0.0, 2.0), (1.0, 2.0), (1.0, 2.0)], "bystanders": []}
    starts = [(t, a) for t, what, a in _run(plan, with_simpy=False) if what == "started"]
    assert starts == [(0.0, 0), (2.0, 1), (4.0, 2)]


def test_a_free_bay_is_taken_without_an_event_only_when_nothing_else_is_due():
    """``take_now`` refuses while another event is due in this instant, or while someone waits."""
    env = simpy.Environment()
    hospital = _hospital(env, 1)
    env.timeout(0)  # due now
    assert not hospital.take_now() and hospital.free_bays == 1
    env.run()
    env.timeout(1)
    assert hospital.take_now() and hospital.free_bays == 0
    assert not hospital.take_now()  # none free

"""Each unit is in exactly one state, whatever tiers, diversions and recalls do (hypothesis).

Random small matrix worlds with stations of every tier, escalation on or
off, diversion on or off, and recalls of random units at random times (a
probe that calls ``DispatchCentre.recall`` on units en route). The event log
is replayed in order: every unit event must be legal in the state the log
has put the unit in, a unit arrives only at the incident it is going to
(never at one it was recalled or diverted from), and the fleet's final
states match the replay.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
import sim
from agents.responders import STATE_NAMES
from tests.engine.conftest import event_rows

pytestmark = pytest.mark.nojit

BUSY_KINDS = {"unit_en_route", "unit_left_scene", "unit_at_hospital", "handover_started", "handover_done"}
#: how often the examples recalled and diverted units (checked after the property test: not vacuous)
STATS: Counter = Counter()


@st.composite
def worlds(draw):
    n = draw(st.integers(2, 3))
    names = [f"D{i}" for i in range(n)]
    places = [*names, "H"]
    size = len(places)
    travel = [[0.0] * size for _ in range(size)]
    for a in range(size):
        for b in range(a + 1, size):
            travel[a][b] = travel[b][a] = float(draw(st.integers(1, 12)))
    stations, fleets = {}, {}
    for i, name in enumerate(names):
        for tier in draw(st.lists(st.sampled_from(["district", "city", "enterprise"]), min_size=1, max_size=2,
                                  unique=True)):
            s = f"S{i}{tier[0]}"
            stations[s] = {"district": name, "location": name, "tier": tier}
            fleets[s] = {"amb": 1}
    incidents = [{"at": draw(st.integers(0, 40)), "type": "medical", "district": draw(st.sampled_from(names)),
                  "priority": draw(st.integers(1, 3))} for _ in range(draw(st.integers(4, 20)))]
    components = {}
    if draw(st.booleans()):
        components["escalation"] = {"keep_at_home": draw(st.integers(0, 2)),
                                    "lend_enterprise": draw(st.booleans()), "city": draw(st.booleans())}
        if draw(st.booleans()):
            components["escalation"]["escalate_after"] = draw(st.sampled_from([2, 6]))
    if draw(st.integers(0, 3)):
        components["diversion"] = {"priority_gap": draw(st.integers(1, 2))}
    d = {
        "schema_version": 1, "name": "forces_prop", "description": "random (synthetic)",
        "time": {"horizon": 300},
        "geography": {"kind": "matrix", "places": places, "travel_min": travel},
        "districts": {name: {"zones": {name: 1}, "neighbours": [o for o in names if o != name]}
                      for name in names},
        "stations": stations,
        "hospitals": {"H": {"location": "H", "capacity": 1}},
        "unit_types": {"amb": {"transports": True, "turnout": draw(st.sampled_from([0, 1]))}},
        "fleets": fleets,
        "incident_types": {"medical": {
            "priority_mix": {1: 0.3, 2: 0.4, 3: 0.3}, "target_response": 8, "required_units": {"amb": 1},
            "on_scene": {"dist": "exponential", "mean": 15}, "transport_probability": 0.5,
            "handover": {"dist": "constant", "value": 3}, "max_queue": draw(st.sampled_from([20, 200]))}},
        "incidents": sorted(incidents, key=lambda x: x["at"]),
        "policy": {"redispatch_returning": draw(st.booleans())},
        "components": components,
    }
    recalls = draw(st.lists(st.tuples(st.floats(0.5, 50), st.booleans()), max_size=6))
    return d, recalls


def _replay(events, units):
    state = dict.fromkeys(units, "at_station")
    job: dict[str, int | None] = dict.fromkeys(units)
    for kind, t, inc, u in events:
        if u is None:
            continue
        before = state[u]
        if kind == "unit_dispatched":
            assert before != "out_of_service", (t, u)
            state[u], job[u] = "busy", inc
        elif kind == "unit_diverted":
            assert before == "busy" and job[u] == inc, (kind, t, u, before)
        elif kind == "unit_recalled":
            assert before == "busy" and job[u] == inc, (kind, t, u, before)
            job[u] = None
        elif kind == "unit_arrived":
            assert before == "busy" and job[u] == inc, (kind, t, u, before, job[u], inc)
        elif kind in BUSY_KINDS:
            assert before == "busy", (kind, t, u, before)
        elif kind == "unit_returning":
            assert before == "busy", (kind, t, u, before)
            state[u] = "returning"
        elif kind == "unit_available":
            assert before in ("busy", "returning", "relocating"), (kind, t, u, before)
            state[u] = "at_station"
        else:
            raise AssertionError(f"unexpected unit event {kind!r}")
    return state


# derandomize: the same 30 examples every session (14 recalls, 5 diversions with hypothesis 6.x), so that
# the check below that they exercised both primitives cannot fail by chance (it did, with random examples)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=worlds())
def test_unit_states_rebuilt_from_the_log_are_consistent(case):
    d, recalls = case
    s = scenarios.from_dict(d)
    units = s.unit_names()
    models = []

    def probe(model):
        models.append(model)
        dispatch = model.dispatch

        def recall(requeue):
            def fire(_):
                for u in range(len(units)):
                    if dispatch.en_route(u):
                        dispatch.recall(u, "test", requeue=requeue)
                        return
            return fire
        for t, requeue in recalls:
            model.env.timeout(t).callbacks.append(recall(requeue))

    result = sim.run(s, seed=2, probe=probe)
    events = event_rows(result)
    state = _replay(events, units)
    # the fleet's own states at the end are those the log leads to, one each
    assert {units[u]: STATE_NAMES[x] for u, x in enumerate(models[0].fleet.state)} == state
    STATS.update(k for k, *_ in events if k in ("unit_recalled", "unit_diverted"))
    a = result.assignments
    # every assignment that arrived was not recalled; every recalled one has no arrival
    assert not (a["recalled"] & a["t_arrive_min"].notna()).any()
    assert int(a["recalled"].sum()) == sum(k in ("unit_recalled", "unit_diverted") for k, *_ in events)
    assert int(a["diverted"].sum()) == sum(k == "unit_diverted" for k, *_ in events)
    assert np.isin(a["escalation_level"], [0, 1, 2, 3]).all()


def test_the_examples_did_recall_and_divert_units():
    """Runs after the property test (file order): its examples exercised both primitives."""
    if not STATS:
        pytest.skip("the property test did not run in this session")
    assert STATS["unit_recalled"] > 0 and STATS["unit_diverted"] > 0, STATS

"""Mid-run sources (issue #10): incidents raised during the run through ``Simulation.raise_incident``.

The source here is a tiny test component, :class:`Injector`, named in the
scenario as ``tests.engine.test_intake:Injector`` (a ``module:Class`` name):
it waits until ``at`` and raises one incident on its own random stream.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict

import scenarios
import sim
from agents.components import Component

INJECTOR = "tests.engine.test_intake:Injector"


class Injector(Component):
    """Raise one incident of ``kind`` in ``district`` at ``at`` minutes (at ``xy`` km when given)."""

    class Section(BaseModel):
        """The injector's scenario section."""

        model_config = ConfigDict(extra="forbid", frozen=True)
        at: float
        kind: str
        district: str
        xy: tuple[float, float] | None = None

    def start(self) -> None:
        """Start the process that raises the incident."""
        self.raised: list[int] = []
        self.model.env.process(self._inject())

    def _inject(self):
        s, m = self.section, self.model
        yield m.env.timeout(s.at)
        self.raised.append(m.raise_incident(s.kind, s.district, source="injector",
                                            rng=m.streams.named("injector"), xy=s.xy))

    def summary(self) -> dict[str, Any]:
        """The ids of the incidents raised."""
        return {"incident_ids": list(self.raised)}


def _with_injector(d: dict[str, Any], **section: Any) -> dict[str, Any]:
    d = copy.deepcopy(d)
    d["components"] = {INJECTOR: section}
    return d


# -- an exact trace on plain coordinates ---------------------------------------------------------

PLANE: dict[str, Any] = {
    "schema_version": 1,
    "name": "intake",
    "description": "One station on plain coordinates (synthetic).",
    "time": {"horizon": 60},
    "geography": {"kind": "coordinates", "speed_kmh": 60},          # 1 min per km
    "districts": {"North": {"boundary": [[-10, -10], [10, -10], [10, 10], [-10, 10]]}},
    "stations": {"S": {"district": "North", "location": [0, 0]}},
    "unit_types": {"amb": {"turnout": 1}},
    "fleets": {"S": {"amb": 1}},
    "incident_types": {"medical": {"priority_mix": {1: 1.0}, "target_response": 8,
                                   "required_units": {"amb": 1}, "on_scene": 10}},
    # The scenario check wants some demand even when a component raises incidents; at this rate
    # no call arises within the hour (the runs below check that no other incident is in the table).
    "demand": {"rates_per_hr": {"North": {"medical": 1e-9}}},
}

U = "S/amb/1"


@pytest.mark.nojit
def test_raised_incident_at_a_point_is_served_like_any_other(events_of, rows_of):
    d = _with_injector(PLANE, at=7.5, kind="medical", district="North", xy=[3, 4])
    result = sim.run(scenarios.from_dict(d))
    # (0, 0) -> (3, 4) is 5 km: 5 min after a turnout of 1 min
    assert events_of(result) == [
        ("incident_raised", 7.5, 0, None),
        ("call_received", 7.5, 0, None),
        ("call_answered", 7.5, 0, None),
        ("unit_dispatched", 7.5, 0, U),
        ("unit_en_route", 8.5, 0, U),
        ("unit_arrived", 13.5, 0, U),
        ("unit_left_scene", 23.5, 0, U),
        ("incident_cleared", 23.5, 0, None),
        ("unit_returning", 23.5, None, U),
        ("unit_available", 28.5, None, U),
        ("run_end", 60.0, None, None),
    ]
    assert result.events["detail"].iloc[0] == '{"source": "injector"}'
    cols = ["incident_id", "kind", "district", "x_km", "y_km", "t_call_min", "t_dispatch_min",
            "t_first_arrival_min", "t_clear_min", "status", "source", "scripted", "units_assigned"]
    assert rows_of(result.incidents, cols) == [
        (0, "medical", "North", 3.0, 4.0, 7.5, 7.5, 13.5, 23.5, "resolved", "injector", False, 1)]
    acols = ["incident_id", "unit_id", "t_dispatch_min", "t_arrive_min", "t_clear_min", "travel_min"]
    assert rows_of(result.assignments, acols) == [(0, U, 7.5, 13.5, 23.5, 5.0)]
    assert result.meta["components"] == {INJECTOR: {"incident_ids": [0]}}


@pytest.mark.nojit
def test_raised_call_takes_the_centres_answer_and_processing_time(events_of):
    # The replication's own stream is empty here (no call within the hour): the raised call must
    # still be answered after 0.5 min and decided 1 min later, not at once.
    d = _with_injector(PLANE, at=7.5, kind="medical", district="North", xy=[3, 4])
    d["dispatch_centre"] = {"answer": 0.5, "processing": 1}
    result = sim.run(scenarios.from_dict(d))
    assert events_of(result)[:5] == [
        ("incident_raised", 7.5, 0, None),
        ("call_received", 7.5, 0, None),
        ("call_answered", 8.0, 0, None),
        ("unit_dispatched", 9.0, 0, U),
        ("unit_en_route", 10.0, 0, U),
    ]


@pytest.mark.nojit
def test_raised_incident_on_roads_snaps_to_the_nearest_node(rows_of):
    d = copy.deepcopy(PLANE)
    d["geography"] = {"kind": "grid", "origin_km": [0, 0], "size_km": [4, 4], "spacing_km": 1,
                      "speed_kmh": 60}
    d = _with_injector(d, at=2.25, kind="medical", district="North", xy=[1.3, 2.8])
    s = scenarios.from_dict(d)
    world = sim.compile(s)
    node = int(world.geo.locate(np.array([[1.3, 2.8]]))[0])
    assert world.geo.net.xy[node].tolist() == [1.0, 3.0]
    result = sim.run(s, world=world)
    cols = ["incident_id", "x_km", "y_km", "location", "t_call_min", "status", "source"]
    assert rows_of(result.incidents, cols) == [(0, 1.0, 3.0, node, 2.25, "resolved", "injector")]
    # (0, 0) -> (1, 3) on the grid is 4 links of 1 km at 60 km/h
    assert result.assignments["travel_min"].tolist() == pytest.approx([4.0])


# -- among the replication's own incidents --------------------------------------------------------

AT = 301.25


@pytest.fixture(scope="module")
def busy_city() -> dict[str, Any]:
    """The unit-test city for one day with ample units and handover bays (incidents never interact)."""
    from tests.conftest import _CITY

    d = copy.deepcopy(_CITY)
    d["time"]["horizon"] = "1 d"
    d["fleets"] = {"N1": {"engine": 12, "amb": 12}, "S1": {"amb": 12, "brigade": 12}}
    d["hospitals"]["H"]["capacity"] = 50
    d["policy"] = {"dispatch": "nearest", "redispatch_returning": False}
    return d


@pytest.fixture(scope="module")
def with_and_without(busy_city):
    """Runs of the busy city without and with the injector (seed 11, replication 3)."""
    plain = sim.run(scenarios.from_dict(busy_city), seed=11, replication=3)
    injected = scenarios.from_dict(_with_injector(busy_city, at=AT, kind="medical", district="North"))
    return plain, sim.run(injected, seed=11, replication=3), injected


def test_raised_incident_gets_the_next_id_and_its_call_at_once(with_and_without, events_of):
    plain, result, _ = with_and_without
    n = len(plain.incidents)
    assert n > 50
    assert plain.incidents["incident_id"].tolist() == list(range(n))
    inc = result.incidents.set_index("incident_id")
    assert inc.index.tolist() == list(range(n + 1))            # one more, after the replication's own
    assert result.meta["components"][INJECTOR] == {"incident_ids": [n]}
    row = inc.loc[n]
    assert row["t_call_min"] == AT
    assert (row["source"], row["kind"], row["district"], bool(row["scripted"])) == (
        "injector", "medical", "North", False)
    assert set(inc["source"].drop(n).astype(str)) == {"demand"}
    own = [(k, t) for k, t, i, _ in events_of(result) if i == n]
    assert own[:2] == [("incident_raised", AT), ("call_received", AT)]


def test_raised_incident_is_dispatched_and_cleared(with_and_without, events_of):
    _, result, _ = with_and_without
    n = len(result.incidents) - 1
    row = result.incidents.set_index("incident_id").loc[n]
    assert row["status"] == "resolved"
    assert row["units_assigned"] == 1 and row["shortfall"] == 0
    assert AT <= row["t_dispatch_min"] < row["t_first_arrival_min"] < row["t_clear_min"]
    mine = result.assignments[result.assignments["incident_id"] == n]
    assert len(mine) == 1 and str(mine["unit_kind"].iloc[0]) == "amb"
    assert mine["t_dispatch_min"].iloc[0] == row["t_dispatch_min"]
    kinds = [k for k, _, i, _ in events_of(result) if i == n]
    for kind in ("unit_dispatched", "unit_arrived", "unit_left_scene", "incident_cleared"):
        assert kind in kinds, kind
    assert 0 <= row["x_km"] <= 4 and 0 <= row["y_km"] <= 4     # drawn inside North, the square 0..4 km


def test_background_incidents_are_untouched_by_the_source(with_and_without):
    plain, result, _ = with_and_without
    n = len(plain.incidents)
    background = result.incidents[result.incidents["incident_id"] < n].reset_index(drop=True)
    assert list(background.columns) == list(plain.incidents.columns)
    for column in plain.incidents.columns:       # every column, values compared as objects
        a, b = plain.incidents[column], background[column]
        if isinstance(a.dtype, pd.CategoricalDtype):
            a, b = a.astype(str), b.astype(str)
        pd.testing.assert_series_equal(b, a, check_names=True, obj=column)


def test_same_seed_gives_the_same_log_with_the_source(with_and_without):
    _, result, injected = with_and_without
    again = sim.run(injected, seed=11, replication=3)
    pd.testing.assert_frame_equal(again.events, result.events)
    pd.testing.assert_frame_equal(again.incidents, result.incidents)
    other = sim.run(injected, seed=11, replication=4)
    n = len(other.incidents) - 1
    assert other.incidents.set_index("incident_id").loc[n, "source"] == "injector"

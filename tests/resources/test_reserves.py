"""Material reserves (#11 item 3): shortages delay exactly the incidents that lacked material.

Hazmat incidents each draw 1 unit of foam. The first depot (with the units,
no lead time) holds 2; the city store behind it has plenty, 45 minutes away.
Incidents are 2 h apart, so every engine is free and each is reached in the
same time with and without reserves: the work of the third and later
incidents starts exactly 45 minutes after the arrival, the first two at once.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.metrics import run_metrics
from sim.errors import InputError
from tests.resources.conftest import figures, run

pytestmark = pytest.mark.nojit

LEAD = 45.0


def _reserves(first: float, second: float = 100.0, **extra) -> dict:
    return {"materials": ["foam", "booms"],
            "consumption": {"hazmat": {"foam": 1}},
            "depots": {"brigade": {"kind": "enterprise", "stock": {"foam": first}},
                       "city": {"kind": "government", "stock": {"foam": second}, "lead_time": LEAD}},
            **extra}


def _hazmat_every_2h(world: dict, n: int) -> dict:
    world["time"]["horizon"] = 120 * n + 200
    world["incidents"] = [{"at": 120 * k, "type": "hazmat", "district": "West", "location": [6, 5]}
                          for k in range(n)]
    return world


def test_a_shortage_delays_exactly_the_incidents_that_lacked_material_by_the_lead_time(world):
    d = _hazmat_every_2h(world, 5)
    plain = run(d)
    d["components"] = {"reserves": _reserves(first=2)}
    held = run(d)
    a0 = plain.assignments.sort_values("incident_id")
    a1 = held.assignments.sort_values("incident_id")
    np.testing.assert_array_equal(a0["t_arrive_min"].to_numpy(), a1["t_arrive_min"].to_numpy())
    extra = a1["t_clear_min"].to_numpy() - a0["t_clear_min"].to_numpy()
    assert extra.tolist() == [0.0, 0.0, LEAD, LEAD, LEAD]
    inc = held.incidents.sort_values("incident_id")
    assert inc["material_short"].tolist() == [False, False, True, True, True]
    assert inc["material_wait_min"].tolist() == [0.0, 0.0, LEAD, LEAD, LEAD]
    fig = figures(held, "reserves")
    assert (fig["delayed_incidents"], fig["delay_min"], fig["stockouts"]) == (3, 3 * LEAD, 3)
    metrics = run_metrics(held.incidents, held.units)
    assert (metrics["material_delayed"], metrics["material_delay_min"]) == (3, 3 * LEAD)
    stock = held.extra["stock"]
    assert list(stock.columns) == ["t_min", "depot", "material", "level", "change", "reason"]
    city = stock[(stock["depot"] == "city") & (stock["material"] == "foam")]
    assert city["level"].tolist() == [100.0, 99.0, 98.0, 97.0]
    assert city["reason"].tolist() == ["initial", "consumed", "consumed", "consumed"]


def test_every_unit_on_scene_waits_for_the_material_and_off_changes_nothing(world):
    world["fleets"]["SW"]["engine"] = 3
    world["incident_types"]["hazmat"]["required_units"] = {"engine": 2}
    d = _hazmat_every_2h(world, 2)
    plain = run(d)
    d["components"] = {"reserves": _reserves(first=0)}
    held = run(d)
    extra = (held.assignments.sort_values(["incident_id", "unit_id"])["t_clear_min"].to_numpy()
             - plain.assignments.sort_values(["incident_id", "unit_id"])["t_clear_min"].to_numpy())
    assert extra.tolist() == [LEAD] * 4
    d["components"] = {"reserves": _reserves(first=0, enabled=False)}
    off = run(d)
    assert off.events[["t_min", "kind", "incident_id"]].equals(plain.events[["t_min", "kind", "incident_id"]])


def test_a_reorder_refills_the_depot_after_its_lead_time(world):
    d = _hazmat_every_2h(world, 4)
    sec = _reserves(first=2)
    sec["depots"]["brigade"]["reorder"] = {"foam": {"point": 1, "quantity": 5, "lead_time": 150}}
    d["components"] = {"reserves": sec}
    held = run(d)
    stock = held.extra["stock"]
    brigade = stock[stock["depot"] == "brigade"]
    foam = brigade[brigade["material"] == "foam"]
    # engines arrive 2 min after each call (turnout 1, 1 km); at 2 the level falls to the reorder
    # point: 5 more come at 152, before the third incident
    assert list(zip(foam["t_min"], foam["level"], foam["reason"], strict=True)) == [
        (0.0, 2.0, "initial"), (2.0, 1.0, "consumed"), (122.0, 0.0, "consumed"),
        (152.0, 5.0, "resupplied"), (242.0, 4.0, "consumed"), (362.0, 3.0, "consumed")]
    assert held.incidents["material_wait_min"].tolist() == [0.0, 0.0, 0.0, 0.0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.integers(0, 6), second=st.integers(0, 6), need=st.integers(1, 3),
       point=st.integers(0, 3), quantity=st.integers(1, 4), lead=st.sampled_from([0, 30, 200]),
       rate=st.sampled_from([0.5, 2.0]))
def test_stock_is_never_negative_and_is_conserved(world, first, second, need, point, quantity, lead, rate):
    world["time"]["horizon"] = 720
    world["demand"] = {"rates_per_hr": {"West": {"hazmat": rate}, "East": {"hazmat": rate / 2}}}
    sec = _reserves(first=first, second=second)
    sec["consumption"]["hazmat"] = {"foam": need, "booms": 1}
    sec["depots"]["brigade"]["reorder"] = {"foam": {"point": point, "quantity": quantity, "lead_time": lead}}
    sec["depots"]["brigade"]["stock"]["booms"] = 3
    world["components"] = {"reserves": sec}
    result = run(world)
    stock = result.extra["stock"]
    assert (stock["level"] >= 0).all()
    for (_, _), rows in stock.groupby(["depot", "material"]):
        initial = rows.loc[rows["reason"] == "initial", "change"].sum()
        resupplied = rows.loc[rows["reason"] == "resupplied", "change"].sum()
        consumed = -rows.loc[rows["reason"] == "consumed", "change"].sum()
        assert math.isclose(initial + resupplied, consumed + rows["level"].iloc[-1], abs_tol=1e-9)
        assert np.all(np.diff(rows["t_min"].to_numpy()) >= 0)


def test_a_depot_stocking_an_unknown_material_is_refused(world):
    sec = _reserves(first=1)
    sec["depots"]["city"]["stock"]["sand"] = 10
    world["components"] = {"reserves": sec}
    with pytest.raises(InputError, match="unknown material 'sand'") as info:
        run(world)  # checked against the World when a run is set up (and by ``anjeon scenario check``)
    assert info.value.path == "components.reserves.depots.city.stock.sand"


def test_a_false_alarm_draws_no_material(world):
    d = _hazmat_every_2h(world, 3)
    d["components"] = {"reserves": _reserves(first=5),
                       "drones": {"false_alarm_share": {"hazmat": 1.0}, "enabled": False}}
    result = run(d)
    assert result.incidents["false_alarm"].all() and result.incidents["material_wait_min"].isna().all()
    stock = result.extra["stock"]
    assert set(stock["reason"]) == {"initial"}


def _resupply_drill(d: dict, at: float, depot: str = "brigade", material: str = "foam",
                    quantity: float = 3) -> dict:
    d["drill"] = {"injects": [{"id": "truck", "at": at, "kind": "resupply", "depot": depot,
                               "material": material, "quantity": quantity}]}
    return d


def test_a_resupply_arrives_at_its_time_and_serves_later_draws_but_shortens_no_wait(world):
    # brigade holds 0 foam: the first incident (engine on scene at 2) takes its foam from the city
    # store and waits 45 min; 3 foam reach the brigade at 10, during that wait. The wait stays 45
    # (the city's foam is already on its way); the second incident, at 120, draws from the brigade.
    d = _hazmat_every_2h(world, 2)
    d["components"] = {"reserves": _reserves(first=0)}
    held = run(_resupply_drill(d, at=10))
    stock = held.extra["stock"]
    rows = stock[stock["reason"] != "initial"]
    assert list(zip(rows["t_min"], rows["depot"], rows["material"], rows["level"], rows["change"],
                    rows["reason"], strict=True)) == [
        (2.0, "city", "foam", 99.0, -1.0, "consumed"),
        (10.0, "brigade", "foam", 3.0, 3.0, "resupplied"),
        (122.0, "brigade", "foam", 2.0, -1.0, "consumed")]
    assert held.incidents.sort_values("incident_id")["material_wait_min"].tolist() == [LEAD, 0.0]
    clear = held.assignments.sort_values("incident_id")["t_clear_min"].tolist()
    assert clear == [2.0 + LEAD + 30.0, 122.0 + 30.0]     # on scene 30 min once the foam is there
    ev = held.events
    arrived = ev[ev["kind"].astype(str) == "material_resupplied"]
    assert arrived["t_min"].tolist() == [10.0]
    fig = figures(held, "reserves")
    assert (fig["resupplies"], fig["end_level"]["brigade"]["foam"]) == (1, 2.0)
    d["components"]["reserves"]["enabled"] = False       # off: nothing is drawn, nothing recorded
    assert set(run(d).extra["stock"]["reason"]) == {"initial"}


def test_a_resupply_of_an_unknown_depot_or_material_is_refused_naming_the_field(world):
    d = _hazmat_every_2h(world, 1)
    d["components"] = {"reserves": _reserves(first=0)}
    for field, name in (("depot", "harbour"), ("material", "sand")):
        with pytest.raises(InputError, match=f"unknown {field} '{name}'; expected one of") as info:
            run(_resupply_drill(d, at=10, **{field: name}))
        assert info.value.path == f"drill.injects[0].{field}"
        assert "\n" not in info.value.one_line()

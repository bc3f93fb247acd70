"""Tiers, escalation levels and mutual aid (issue #11, item 2).

1. Exact levels on the trace world's map (tests/engine/conftest.py) with four
   stations of one ambulance each: SA (North, place A, district tier), SB
   (South, B), SE (East, X, an enterprise brigade: its site is East), SC
   (North, H, city tier). Partners: North-South, South-East. Turnout 1.
   Travel minutes: A-Y 8, B-Y 3, A-X 4, B-X 6, H-X 2, H-B 7, X-X 0.
2. Mutual aid in an overloaded district, the same seed with and without.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest

import scenarios
import sim
from sim.errors import InputError
from tests.engine.conftest import _BASE, table_rows

pytestmark = pytest.mark.nojit


def _tiers(components: dict | None = None, incidents: list | None = None) -> dict[str, Any]:
    d = copy.deepcopy(_BASE)
    d["districts"] = {"North": {"neighbours": ["South"]}, "South": {"neighbours": ["North", "East"]},
                      "East": {"neighbours": ["South"]}}
    d["stations"] = {"SA": {"district": "North", "location": "A"},
                     "SB": {"district": "South", "location": "B"},
                     "SE": {"district": "East", "location": "X", "tier": "enterprise"},
                     "SC": {"district": "North", "location": "H", "tier": "city"}}
    d["fleets"] = {s: {"amb": 1} for s in d["stations"]}
    d["incidents"] = incidents if incidents is not None else [
        {"at": 0, "type": "medical", "district": "North", "location": "Y", "transport": False},
        {"at": 1, "type": "medical", "district": "North", "location": "X", "transport": False},
        {"at": 2, "type": "medical", "district": "East", "location": "X", "transport": False},
        {"at": 3, "type": "medical", "district": "South", "location": "B", "transport": False},
    ]
    if components is not None:
        d["components"] = components
    return d


COLUMNS = ["incident_id", "unit_id", "t_arrive_min", "tier", "escalation_level", "mutual_aid"]


def _rows(components: dict | None) -> list[tuple]:
    result = sim.run(scenarios.from_dict(_tiers(components)), seed=1)
    return sorted(table_rows(result.assignments, COLUMNS))


def test_levels_exact_with_mutual_aid_keeping_none_at_home():
    """North's own SA goes to Y (not SB, nearer); at 1 North has none left: South lends SB (level 1,
    not the nearer city SC); East's X is its enterprise site: SE (level 0); at 3 South has none and
    its partners none to spare (SE is not lent): the city's SC, H-B 7 + 1 = 11 (level 2)."""
    assert _rows({"escalation": {"keep_at_home": 0}}) == [
        (0, "SA/amb/1", 9.0, "district", 0, False),
        (1, "SB/amb/1", 8.0, "district", 1, True),
        (2, "SE/amb/1", 3.0, "enterprise", 0, False),
        (3, "SC/amb/1", 11.0, "city", 2, True),
    ]


def test_keeping_one_at_home_skips_the_neighbour_for_the_city():
    """With k = 1 South (one ambulance) lends nothing: North's second call goes to the city (H-X 2 + 1)."""
    assert _rows({"escalation": {"keep_at_home": 1}}) == [
        (0, "SA/amb/1", 9.0, "district", 0, False),
        (1, "SC/amb/1", 4.0, "city", 2, False),
        (2, "SE/amb/1", 3.0, "enterprise", 0, False),
        (3, "SB/amb/1", 4.0, "district", 0, False),
    ]


def test_without_the_section_the_nearest_goes_and_levels_describe_who_came():
    """Baseline (no section): nearest units, levels read off tiers and districts."""
    assert _rows(None) == [
        (0, "SB/amb/1", 4.0, "district", 1, True),
        (1, "SE/amb/1", 2.0, "enterprise", 3, True),
        (2, "SC/amb/1", 5.0, "city", 2, True),
        (3, "SA/amb/1", 14.0, "district", 1, True),
    ]


def test_escalate_after_a_wait_threshold_widens_to_the_neighbour():
    """North's Y: its own SA needs 9 minutes; with escalate_after 5 the decision widens to South's SB (4)."""
    one = [{"at": 0, "type": "medical", "district": "North", "location": "Y", "transport": False}]
    for after, unit, level in ((None, "SA/amb/1", 0), (5, "SB/amb/1", 1)):
        section = {"keep_at_home": 0} | ({"escalate_after": after} if after else {})
        result = sim.run(scenarios.from_dict(_tiers({"escalation": section}, one)), seed=1)
        assert table_rows(result.assignments, ["unit_id", "escalation_level"]) == [(unit, level)]


def test_enterprise_brigade_is_lent_only_when_allowed():
    """A South call at Y while SB and SA are out: the city's SC (level 2) comes before a lent brigade;
    without the city, East's SE (X-Y 5 + 1) is lent (level 3) only with lend_enterprise."""
    calls = [{"at": 0, "type": "medical", "district": "South", "location": "Y", "transport": False}]
    d = _tiers({"escalation": {"keep_at_home": 0, "lend_enterprise": True}}, calls)
    d["unit_availability"] = [{"unit": "SB/amb/1", "start": 0}, {"unit": "SA/amb/1", "start": 0}]
    result = sim.run(scenarios.from_dict(d), seed=1)
    assert table_rows(result.assignments, ["unit_id", "escalation_level"]) == [("SC/amb/1", 2)]
    d = _tiers({"escalation": {"keep_at_home": 0, "lend_enterprise": True, "city": False}}, calls)
    d["unit_availability"] = [{"unit": "SB/amb/1", "start": 0}, {"unit": "SA/amb/1", "start": 0}]
    result = sim.run(scenarios.from_dict(d), seed=1)
    assert table_rows(result.assignments, ["unit_id", "escalation_level", "t_arrive_min"]) == [
        ("SE/amb/1", 3, 6.0)]  # X-Y 5 + turnout 1
    d["components"]["escalation"]["lend_enterprise"] = False
    result = sim.run(scenarios.from_dict(d), seed=1)
    assert len(result.assignments) == 0 and result.incidents["queued"].tolist() == [True]


def test_a_queued_call_waits_for_a_unit_it_may_take():
    """With no city and k = 1, North's second call waits for North's own SA (free at Y at 19, Y-X 5: on
    scene at 24): SB, free all along, never lends."""
    result = sim.run(scenarios.from_dict(_tiers({"escalation": {"keep_at_home": 1, "city": False}})), seed=1)
    columns = ["incident_id", "unit_id", "t_dispatch_min", "t_arrive_min"]
    rows = sorted(table_rows(result.assignments, columns))
    assert rows[1] == (1, "SA/amb/1", 19.0, 24.0)


def test_run_json_counts_levels_and_lending():
    result = sim.run(scenarios.from_dict(_tiers({"escalation": {"keep_at_home": 0}})), seed=1)
    figures = result.meta["components"]["escalation"]
    assert figures["assignments_by_level"] == {"own": 2, "mutual_aid": 1, "city": 1, "enterprise_lent": 0}
    assert figures["incidents_escalated"] == 2
    # SB dispatched at 1, free at 18; South's own call (at 3) was reached at 11 by the city's SC
    assert figures["lenders"] == {
        "South": {"assignments": 1, "unit_min_away": 17.0, "own_mean_response_min": 8.0}}


# -- 2. mutual aid in an overloaded district -------------------------------------------------------

_AID: dict[str, Any] = {
    "schema_version": 1, "name": "aid",
    "description": "An overloaded district beside a calm one (synthetic).",
    "time": {"horizon": "4 d"},
    "geography": {"kind": "matrix", "places": ["P", "Q", "H"],
                  "travel_min": [[0, 12, 5], [12, 0, 5], [5, 5, 0]]},
    "districts": {"Busy": {"zones": {"P": 1}, "neighbours": ["Calm"]},
                  "Calm": {"zones": {"Q": 1}, "neighbours": ["Busy"]}},
    "stations": {"SP": {"district": "Busy", "location": "P"}, "SQ": {"district": "Calm", "location": "Q"}},
    "unit_types": {"amb": {"turnout": 1}},
    "fleets": {"SP": {"amb": 1}, "SQ": {"amb": 3}},
    "incident_types": {"medical": {"priority_mix": {1: 1.0}, "target_response": 15,
                                   "required_units": {"amb": 1},
                                   "on_scene": {"dist": "exponential", "mean": 30}, "max_queue": "1 h"}},
    "demand": {"rates_per_hr": {"Busy": {"medical": 2.0}, "Calm": {"medical": 0.5}}},
}


def _aid(section: dict) -> dict[str, tuple[float, float]]:
    d = copy.deepcopy(_AID)
    d["components"] = {"escalation": section}
    inc = sim.run(scenarios.from_dict(d), seed=5).incidents
    out = {}
    for name in ("Busy", "Calm"):
        x = inc[inc["district"] == name]
        out[name] = (float(((x["response_min"] > 15) | (x["status"] != "resolved")).mean()),
                     float(x["response_min"].mean()))
    return out


def test_mutual_aid_lowers_late_or_unserved_calls_and_costs_the_lender():
    """Busy (1 ambulance, 2 calls an hour of 30 minutes) alone misses about half its calls; Calm lending
    (keeping one at home) cuts that several-fold, while Calm's own response grows (its units are away)."""
    alone = _aid({"partners": {"Busy": [], "Calm": []}})
    helped = _aid({"keep_at_home": 1})
    assert alone["Busy"][0] > 0.4
    assert helped["Busy"][0] < alone["Busy"][0] / 3
    assert helped["Calm"][1] > alone["Calm"][1] + 0.1  # minutes: turnout 1 + travel 0 when at home
    keep_none = _aid({"keep_at_home": 0})
    assert keep_none["Calm"][1] > helped["Calm"][1]  # lending more costs the lender more


# -- 3. bad sections (Python API; the command line in test_bad_input.py) ------------------------------


@pytest.mark.parametrize(("section", "path", "fragment"), [
    ({"partners": {"Nowhere": ["South"]}}, "components.escalation.partners.Nowhere", "unknown district"),
    ({"partners": {"North": ["South", "Atlantis"]}}, "components.escalation.partners.North[1]",
     "unknown district 'Atlantis'"),
    ({"partners": {"North": ["North"]}}, "components.escalation.partners.North[0]", "cannot ask itself"),
    ({"pass_on": True}, "components.escalation.pass_on", "escalation loop: North asks South asks North"),
    ({"pass_on": True, "partners": {"North": ["South"], "South": ["East"], "East": ["North"]}},
     "components.escalation.partners.East", "escalation loop: North asks South asks East asks North"),
    ({"pass_on": True, "partners": {"North": ["South"], "South": ["East"], "East": []}}, None, None),
    ({"sites": {"park": {"stations": ["SA"], "district": "North"}}},
     "components.escalation.sites.park.stations[0]", "in tier 'district'"),
    ({"sites": {"park": {"stations": ["SE"], "area": [[0, 0], [1, 0], [1, 1]]}}},
     "components.escalation.sites.park.area", "matrix geography"),
    ({"keep_at_home": -1}, "components.escalation.keep_at_home", "greater than or equal to 0"),
])
def test_bad_sections_name_their_field(section, path, fragment):
    d = _tiers({"escalation": section})
    if path is None:  # a chain without a loop is fine
        sim.run(scenarios.from_dict(d, source="t.yaml"), seed=1)
        return
    with pytest.raises(InputError) as err:
        sim.run(scenarios.from_dict(d, source="t.yaml"), seed=1)
    assert err.value.path.startswith(path), err.value.path
    assert fragment in err.value.message
    assert "\n" not in err.value.one_line()


def test_a_disabled_section_leaves_every_table_as_without_it():
    """``enabled: false`` (a sweep's "off" level) gives the tables of the scenario without the section."""
    sections = (None, {"escalation": {"enabled": False}})
    runs = [sim.run(scenarios.from_dict(_tiers(c)), seed=1) for c in sections]
    for table in ("incidents", "assignments", "units", "events"):
        pd.testing.assert_frame_equal(getattr(runs[1], table), getattr(runs[0], table), obj=table)
    assert "components" not in runs[1].meta

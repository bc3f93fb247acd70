"""Call-centre outages, rerouting and staffing by hour, checked against truth (issue #10).

The world is the trace world of ``conftest`` with every call in district
North (place X, 4 minutes from station SA) and, unless a test says
otherwise, far more ambulances than calls, so a call's answer-to-dispatch
time is its call handling alone. Centre ``c119`` answers line 119 and falls
back on ``c120`` (manual factor 3) while it is down from 120 to 240 min.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import scenarios
import sim

START, END, FACTOR = 120.0, 240.0, 3.0


def _city(trace: dict[str, Any], *, rate_per_hr: float = 20.0, horizon: float = 480.0,
          takers_119: int | None = None, takers_120: int | None = None, outage: bool = True,
          held_calls: str = "transfer", patience: Any = None) -> dict[str, Any]:
    """The trace world with two call centres, plenty of units and (optionally) the outage."""
    d = trace
    d["time"] = {"horizon": horizon}
    d["districts"]["North"]["zones"] = {"X": 1}
    d["fleets"] = {"SA": {"amb": 60}, "SB": {"amb": 1}}
    d["policy"] = {"dispatch": "nearest", "redispatch_returning": False}
    d["demand"] = {"rates_per_hr": {"North": {"medical": rate_per_hr}}} if rate_per_hr else {}
    d["lines"] = {"119": {}, "120": {}}
    d["dispatch_centre"] = {"answer": {"dist": "exponential", "mean": 0.5},
                            "processing": {"dist": "lognormal", "mean": 1.25, "sd": 0.5},
                            "patience": patience}
    d["call_centres"] = {
        "c119": {"lines": ["119"], "call_takers": takers_119, "fallback": "c120"},
        "c120": {"lines": ["120"], "call_takers": takers_120, "manual_factor": FACTOR},
    }
    d["outages"] = [{"centre": "c119", "start": START, "end": END, "held_calls": held_calls,
                     "label": "fibre cut"}] if outage else []
    return d


def _run(d: dict[str, Any], seed: int = 1, replication: int = 0):
    return sim.run(scenarios.from_dict(d), seed=seed, replication=replication)


def _inside(inc: pd.DataFrame) -> pd.Series:
    return (inc["t_call_min"] >= START) & (inc["t_call_min"] < END)


def _handling(inc: pd.DataFrame) -> pd.Series:
    """Call to dispatch (answer plus processing when a unit is free at once), minutes."""
    return inc["t_dispatch_min"] - inc["t_call_min"]


def _details(ev: pd.DataFrame, kind: str) -> list[tuple[float, int, dict]]:
    rows = ev[ev["kind"].astype(str) == kind]
    return [(float(t), int(i), json.loads(str(x))) for t, i, x in
            zip(rows["t_min"], rows["incident_id"], rows["detail"], strict=True)]


# -- routing and the manual factor -----------------------------------------------------------------
def test_calls_inside_the_window_go_to_the_fallback(trace_dict):
    inc = _run(_city(trace_dict)).incidents
    inside = _inside(inc)
    assert inside.sum() > 20 and (~inside).sum() > 50
    assert (inc.loc[inside, "centre"].astype(str) == "c120").all() and inc.loc[inside, "rerouted"].all()
    assert (inc.loc[~inside, "centre"].astype(str) == "c119").all() and not inc.loc[~inside, "rerouted"].any()
    assert (inc["line"].astype(str) == "119").all()


def test_a_rerouted_call_takes_the_factor_times_its_own_draws(trace_dict):
    inc = _run(_city(trace_dict)).incidents
    own = inc["answer_min"] + inc["processing_min"]
    factor = np.where(inc["rerouted"], FACTOR, 1.0)
    assert inc["t_dispatch_min"].notna().all()
    np.testing.assert_allclose(_handling(inc), factor * own, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(inc["t_answer_min"] - inc["t_call_min"], factor * inc["answer_min"],
                               rtol=1e-9, atol=1e-9)


def test_the_in_window_delay_is_the_factor_times_the_baseline_under_common_random_numbers(trace_dict):
    down = _city(trace_dict)
    base = {**down, "outages": []}
    diffs, ratios = [], []
    for rep in range(20):
        a, b = _run(down, replication=rep).incidents, _run(base, replication=rep).incidents
        assert a["incident_id"].tolist() == b["incident_id"].tolist()
        inside = _inside(a)
        # the same calls, one for one: exactly the factor
        ratios.append(_handling(a)[inside].mean() / _handling(b)[inside].mean())
        # other calls of the same run: the factor in expectation only
        diffs.append(_handling(a)[inside].mean() - FACTOR * _handling(a)[~inside].mean())
    np.testing.assert_allclose(ratios, FACTOR, rtol=1e-9)
    se = np.std(diffs, ddof=1) / np.sqrt(len(diffs))
    assert abs(np.mean(diffs)) < 4 * se


def test_calls_outside_the_window_are_untouched(trace_dict):
    down = _city(trace_dict)
    base = {**down, "outages": []}
    a, b = _run(down).incidents, _run(base).incidents
    inside = _inside(a)
    pd.testing.assert_frame_equal(a[~inside].reset_index(drop=True), b[~inside].reset_index(drop=True))
    changed = [c for c in a.columns if not a.loc[inside, c].equals(b.loc[inside, c])]
    assert {"centre", "rerouted", "t_answer_min", "t_dispatch_min"} <= set(changed)


# -- conservation ------------------------------------------------------------------------------------
def test_no_call_disappears(trace_dict):
    """Saturated centres with impatient callers: every call is answered, abandoned or open, once."""
    d = _city(trace_dict, rate_per_hr=40, horizon=300, takers_119=1, takers_120=1,
              patience={"dist": "exponential", "mean": 3})
    r = _run(d)
    inc, ev = r.incidents, r.events
    kind = ev["kind"].astype(str)
    received = ev.loc[kind == "call_received", "incident_id"].astype(int)
    assert received.is_unique and sorted(received) == sorted(inc["incident_id"])
    answered = inc["t_answer_min"].notna()
    abandoned = inc["status"].astype(str) == "abandoned"
    assert not (answered & abandoned).any()
    assert (inc.loc[~answered & ~abandoned, "status"].astype(str) == "open_at_end").all()
    assert abandoned.sum() > 0 and (~answered & ~abandoned).sum() > 0 and inc["rerouted"].sum() > 0
    for centre, rows in inc.groupby(inc["centre"].astype(str)):
        a, b = rows["t_answer_min"].notna(), rows["status"].astype(str) == "abandoned"
        assert len(rows) == a.sum() + b.sum() + (~a & ~b).sum(), centre
    ids = lambda k: sorted(ev.loc[kind == k, "incident_id"].astype(int))  # noqa: E731
    assert ids("call_answered") == sorted(inc.loc[answered, "incident_id"])
    assert ids("call_abandoned") == sorted(inc.loc[abandoned, "incident_id"])


# -- calls on hold when the centre goes down ---------------------------------------------------------
def _held_at_the_start(trace: dict[str, Any], held_calls: str):
    """Five calls at 100 min to one call-taker answering in 30 min: four on hold at 110."""
    d = _city(trace, rate_per_hr=0, takers_119=1, held_calls=held_calls)
    d["call_centres"]["c119"].update(answer=30, processing=0)
    d["outages"][0].update(start=110)
    d["incidents"] = [{"at": 100, "type": "medical", "district": "North"} for _ in range(5)]
    return _run(d)


def test_held_calls_are_lost_at_the_outage_start(trace_dict):
    r = _held_at_the_start(trace_dict, "lose")
    assert _details(r.events, "call_abandoned") == [(110.0, i, {"reason": "outage"}) for i in (1, 2, 3, 4)]
    assert _details(r.events, "call_rerouted") == []
    inc = r.incidents.set_index("incident_id")
    assert inc.loc[0, "t_answer_min"] == 130.0 and inc.loc[0, "centre"] == "c119"  # in hand: finishes
    assert (inc.loc[1:, "status"].astype(str) == "abandoned").all()


def test_held_calls_are_transferred_at_the_outage_start(trace_dict):
    r = _held_at_the_start(trace_dict, "transfer")
    frm_to = {"from": "c119", "to": "c120"}
    assert _details(r.events, "call_rerouted") == [(110.0, i, frm_to) for i in (1, 2, 3, 4)]
    assert _details(r.events, "call_abandoned") == []
    inc = r.incidents.set_index("incident_id")
    assert inc.loc[0, "t_answer_min"] == 130.0 and not inc.loc[0, "rerouted"]
    moved = inc.loc[1:]
    assert moved["rerouted"].all() and (moved["centre"].astype(str) == "c120").all()
    # answered by the unlimited fallback at once, in FACTOR x 30 minutes
    assert (moved["t_answer_min"] == 110.0 + FACTOR * 30).all()


# -- staffing by hour ------------------------------------------------------------------------------
@pytest.mark.parametrize(("hour", "answers"), [(2, [121.0, 123.0, 125.0]), (14, [841.0, 841.0, 841.0])])
def test_more_call_takers_by_day_answer_more_calls_at_once(trace_dict, hour, answers):
    d = _city(trace_dict, rate_per_hr=0, horizon=1000, outage=False)
    by_hour = [1] * 8 + [3] * 12 + [1] * 4
    d["call_centres"]["c119"].update(call_takers_by_hour=by_hour, answer=1, processing=1)
    d["incidents"] = [{"at": 60 * hour, "type": "medical", "district": "North"} for _ in range(3)]
    inc = _run(d).incidents
    assert sorted(inc["t_answer_min"]) == answers
    assert sorted(inc["t_dispatch_min"]) == [a + 1 for a in answers]

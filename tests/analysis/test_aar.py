"""The after-action report (issue 13 item 5): delay parts, groups by inject, bottlenecks, fork comparison."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import sim.cli
from analysis.aar import (
    BASELINE,
    DEFAULT_WINDOW_MIN,
    delays,
    fork_comparison,
    group_table,
    groups,
    inject_windows,
    queue_over_time,
    stock_outs,
)
from analysis.store import RunDir
from tests.analysis.checks import check_self_contained

HOSTILE = "<img src=x onerror=alert(1)>"


def _tables():
    inc = pd.DataFrame({"incident_id": [0, 1, 2], "kind": ["fire", "medical", "medical"],
                        "district": ["A", "B", "B"], "priority": [1, 2, 2], "t_call_min": [0.0, 5.0, 25.0],
                        "t_answer_min": [1.0, 5.5, 26.0], "t_dispatch_min": [3.0, 6.0, np.nan],
                        "t_first_arrival_min": [10.0, 9.0, np.nan], "t_clear_min": [30.0, 20.0, np.nan],
                        "response_min": [10.0, 4.0, np.nan], "target_min": [8.0, 8.0, 8.0],
                        "status": ["resolved", "resolved", "unserved"]})
    asg = pd.DataFrame({"incident_id": [0, 0, 1], "unit_id": ["e1", "e2", "a1"], "home_station": ["S"] * 3,
                        "t_dispatch_min": [3.0, 3.0, 6.0], "t_arrive_min": [10.0, 12.0, 9.0],
                        "travel_min": [6.0, 8.0, 2.5], "t_clear_min": [30.0, 30.0, 20.0],
                        "t_free_min": [30.0, 31.0, np.nan]})
    ev = pd.DataFrame({"t_min": [2.0, 25.5], "seq": [3, 9], "kind": ["incident_queued", "incident_queued"],
                       "incident_id": [0, 2], "unit_id": [None, None]})
    return inc, asg, ev


def test_delay_parts_add_up_to_the_response():
    inc, asg, ev = _tables()
    d = delays(inc, asg, ev).set_index("incident_id")
    parts = ["answer_min", "dispatch_min", "wait_unit_min", "turnout_min", "travel_min"]
    assert d.loc[0, parts].tolist() == [1.0, 1.0, 1.0, 1.0, 6.0]    # queued at 2, sent at 3, there at 10
    assert d.loc[1, parts].tolist() == [0.5, 0.5, 0.0, 0.5, 2.5]
    assert d.loc[0, "met"] == False and d.loc[1, "met"] == True and pd.isna(d.loc[2, "met"])  # noqa: E712
    assert d.loc[0, "n_units"] == 2 and d.loc[2, "n_units"] == 0


def test_parts_add_up_on_a_real_run(run_dir):
    t = {n: pd.read_parquet(run_dir / f"{n}.parquet") for n in ("incidents", "assignments", "events")}
    d = delays(t["incidents"], t["assignments"], t["events"]).dropna(subset=["response_min"])
    total = d[["answer_min", "dispatch_min", "wait_unit_min", "turnout_min", "travel_min"]].sum(axis=1)
    np.testing.assert_allclose(total, d["response_min"], atol=1e-9)
    assert (d[["answer_min", "dispatch_min", "wait_unit_min", "travel_min"]] >= -1e-9).all().all()


START = "2026-01-01T00:00:00"
#: Three injects at minute 10 (one raises incident 1, an outage ended by a recovery of its centre at 30, a
#: road closure until 00:45), a recovery of another centre at 20, a policy switch at 50, a closure at 60-62.
INJECTS = pd.DataFrame({
    "inject_id": ["fire", "down", "road", "up2", "up", "switch", "shut"],
    "t_min": [10.0, 10.0, 10.0, 20.0, 30.0, 50.0, 60.0],
    "kind": ["incident", "outage", "road_closure", "outage_recovery", "outage_recovery", "policy_switch",
             "road_closure"],
    "description": [""] * 7, "incident_ids": ["1", "", "", "", "", "", ""]})
SCRIPT = [{"id": "fire", "kind": "incident"}, {"id": "down", "kind": "outage", "centre": "c", "until": None},
          {"id": "road", "kind": "road_closure", "until": "00:45"},
          {"id": "up2", "kind": "outage_recovery", "centre": "other"},
          {"id": "up", "kind": "outage_recovery", "centre": "c"}, {"id": "switch", "kind": "policy_switch"},
          {"id": "shut", "kind": "road_closure", "until": 62.0}]
#: Calls at 2 (baseline), 10 (raised by fire), 12 and 20 (outage and road), 35 (road; after the recovery),
#: 55 (the switch's window: to the next inject) and 112 (baseline). Answer and dispatch: 1 + 3 minutes
#: during the outage, 0.5 + 1 outside it.
T_CALL = [2.0, 10.0, 12.0, 20.0, 35.0, 55.0, 112.0]


def _calls():
    t = np.array(T_CALL)
    down = (t >= 10) & (t < 30)
    answer, dispatch = np.where(down, 1.0, 0.5), np.where(down, 3.0, 1.0)
    n = len(t)
    inc = pd.DataFrame({"incident_id": range(n), "kind": ["medical"] * n, "district": ["A"] * n,
                        "priority": [2] * n, "t_call_min": t, "t_answer_min": t + answer,
                        "t_dispatch_min": t + answer + dispatch,
                        "t_first_arrival_min": t + answer + dispatch + 5,
                        "t_clear_min": t + 60, "response_min": answer + dispatch + 5, "target_min": [8.0] * n,
                        "status": ["resolved"] * n})
    asg = pd.DataFrame({"incident_id": range(n), "unit_id": ["a"] * n, "home_station": ["S"] * n,
                        "t_dispatch_min": inc["t_dispatch_min"], "t_arrive_min": inc["t_first_arrival_min"],
                        "travel_min": [4.0] * n, "t_clear_min": inc["t_clear_min"], "t_free_min": t + 70})
    ev = pd.DataFrame({"t_min": pd.Series([], dtype=float), "seq": pd.Series([], dtype=int),
                       "kind": pd.Series([], dtype=str), "incident_id": pd.Series([], dtype="Int64"),
                       "unit_id": pd.Series([], dtype=object)})
    return inc, asg, ev


def test_every_inject_has_a_window_from_its_end_or_the_next_inject():
    w = inject_windows(INJECTS, 120.0, SCRIPT, START).set_index("inject_id")
    assert w["t_from"].fillna(-1).tolist() == [-1, 10.0, 10.0, 20.0, 30.0, 50.0, 60.0]
    assert w["t_to"].fillna(-1).tolist() == [-1, 30.0, 45.0, 30.0, 50.0, 60.0, 62.0]
    assert w["ends"].tolist() == ["what it raised", "outage_recovery up", "until 00:45",
                                  "next inject (00:30)", "next inject (00:50)", "next inject (01:00)",
                                  "until 01:02"]
    # without the drill as written (no until, no names), an outage ends at the first later recovery, a
    # closure at the next inject; the last inject runs DEFAULT_WINDOW_MIN, cut at the run's end
    bare = inject_windows(INJECTS, 100.0).set_index("inject_id")
    assert bare.loc["down", "t_to"] == 20.0 and bare.loc["road", "t_to"] == 20.0
    assert DEFAULT_WINDOW_MIN == 60.0 and bare.loc["shut", "ends"] == "end of the run"
    assert bare.loc["shut", "t_to"] == 100.0


def test_each_inject_row_counts_what_it_raised_or_the_calls_in_its_window():
    inc, asg, ev = _calls()
    g = groups(inc, INJECTS, 120.0, SCRIPT, START)
    members = g.groupby("group", sort=False)["incident_id"].apply(list).to_dict()
    assert members == {"fire": [1], "down": [1, 2, 3], "road": [1, 2, 3, 4], "up2": [3], "up": [4],
                       "switch": [5], "shut": [-1], BASELINE: [0, 6]}
    gt = group_table(delays(inc, asg, ev), g).set_index("group")
    assert gt.index.tolist() == ["fire", "down", "road", "up2", "up", "switch", "shut", BASELINE]
    assert gt["calls"].tolist() == [1, 3, 4, 1, 1, 1, 0, 2]
    assert gt["raised"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert gt.loc["down", ["answer", "dispatch"]].tolist() == [1.0, 3.0]
    assert gt.loc[BASELINE, ["answer", "dispatch", "waiting for a unit", "turnout", "travel"]].tolist() == \
        [0.5, 1.0, 0.0, 1.0, 4.0]
    assert gt.loc["road", "answer"] == 0.875 and np.isnan(gt.loc["shut", "answer"])


def test_without_injects_calls_are_grouped_by_the_hour():
    inc = pd.DataFrame({"incident_id": [0, 1, 2, 3], "t_call_min": [5.0, 10.5, 12.0, 65.0]})
    w = groups(inc, None, 180.0)
    assert w["group"].tolist() == ["00:00-01:00"] * 3 + ["01:00-02:00"]


def test_the_ulsan_drill_outage_row_shows_slower_answer_and_dispatch(tmp_path):
    out = tmp_path / "drill"
    assert sim.cli.main(["run", "ulsan_chemical_drill", "--out", str(out), "--quiet"]) == 0
    run = RunDir.open(out)
    t = {n: run.table(n) for n in ("incidents", "assignments", "events", "injects")}
    script = run.scenario["drill"]["injects"]
    g = groups(t["incidents"], t["injects"], 360.0, script, run.meta["start"])
    gt = group_table(delays(t["incidents"], t["assignments"], t["events"]), g).set_index("group")
    # every inject has its row, the cordon too (at 10:40 with the access road)
    assert gt.index.tolist() == [*t["injects"]["inject_id"], BASELINE]
    w = inject_windows(t["injects"], 360.0, script, run.meta["start"]).set_index("inject_id")
    assert (w.loc["dispatch-down", "t_from"], w.loc["dispatch-down", "t_to"]) == (20.0, 65.0)
    calls = t["incidents"]["t_call_min"]
    assert gt.loc["dispatch-down", "calls"] == int(calls.between(20.0, 65.0, inclusive="left").sum()) > 0
    assert gt.loc["leak", "calls"] == gt.loc["leak", "raised"] == 7
    slow = gt["answer"] + gt["dispatch"]
    assert slow["dispatch-down"] > slow[BASELINE] + 1.0
    assert sim.cli.main(["aar", str(out), "-o", str(tmp_path / "aar.html")]) == 0
    text = (tmp_path / "aar.html").read_text(encoding="utf-8")
    assert "calls 10:20-11:05 (until 11:05)" in text and ">cordon<" in text


def test_queue_and_stock_outs():
    inc, _, ev = _tables()
    q = queue_over_time(ev, inc)
    assert q.to_dict("list") == {"t_min": [2.0, 3.0, 25.5], "waiting": [1, 0, 1]}
    stock = pd.DataFrame({"t_min": [0.0, 10.0, 15.0, 40.0], "depot": ["D"] * 4, "material": ["foam"] * 4,
                          "level": [5.0, 0.0, 0.0, 3.0], "change": [5.0, -5.0, 0.0, 3.0],
                          "reason": ["initial", "consumed", "consumed", "resupplied"]})
    out = stock_outs(stock, 60.0)
    assert out.to_dict("records") == [{"depot": "D", "material": "foam", "first out at": "00:10",
                                       "minutes out": 30.0, "lowest level": 0.0}]
    assert stock_outs(None, 60.0) is None
    # a depot that stocks no foam (its one row the initial 0) never ran out of it
    never = pd.DataFrame({"t_min": [0.0], "depot": ["E"], "material": ["foam"], "level": [0.0],
                          "change": [0.0], "reason": ["initial"]})
    assert stock_outs(pd.concat([stock, never]), 60.0).to_dict("records") == out.to_dict("records")


def test_fork_comparison_counts_only_after_the_fork():
    inc, _, _ = _tables()
    other = inc.copy()
    other.loc[0, "response_min"] = 3.0          # before the fork time: not compared
    other.loc[1, "response_min"] = 6.0
    summary, changed = fork_comparison({"incidents": inc}, {"incidents": other}, at_min=4.0)
    assert summary["incidents"].tolist() == [2, 2]
    assert changed["incident_id"].tolist() == [1] and changed["change"].tolist() == [2.0]
    _, same = fork_comparison({"incidents": inc}, {"incidents": inc}, at_min=0.0)
    assert same.empty


@pytest.fixture
def drill_dir(run_dir, tmp_path):
    out = shutil.copytree(run_dir, tmp_path / "drill")
    inc = pd.read_parquet(out / "incidents.parquet")
    ids = ",".join(str(i) for i in inc["incident_id"].iloc[10:13])
    pd.DataFrame({"inject_id": ["A<b>1</b>", "B2"], "t_min": [float(inc["t_call_min"].iloc[9]), 2000.0],
                  "kind": ["incident", "outage"], "description": [HOSTILE, "dispatch down"],
                  "incident_ids": [ids, ""]}).to_parquet(out / "injects.parquet")
    return out


def test_aar_cli_with_injects_and_a_fork(drill_dir, run_dir, tmp_path, capsys):
    fork = shutil.copytree(run_dir, tmp_path / "fork")
    meta = json.loads((fork / "run.json").read_text())
    meta["fork"] = {"parent": str(run_dir), "at_min": 1440.0, "change": {"policy": "district_first"}}
    (fork / "run.json").write_text(json.dumps(meta))
    out = tmp_path / "aar.html"
    assert sim.cli.main(["aar", str(drill_dir), "--fork", str(fork), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    text = out.read_text(encoding="utf-8")
    assert check_self_contained(text) >= 1
    assert HOSTILE not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "A&lt;b&gt;1&lt;/b&gt;: the incidents it raised" in text
    assert 'id="fork"' in text and "Every incident after the fork time had the same response" in text


def test_aar_refuses_a_missing_table_in_one_line(run_dir, tmp_path, capsys):
    run = shutil.copytree(run_dir, tmp_path / "run")
    (run / "assignments.parquet").unlink()
    out = tmp_path / "aar.html"
    out.write_text("earlier")
    assert sim.cli.main(["aar", str(run), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing table assignments.parquet" in err
    assert out.read_text() == "earlier"

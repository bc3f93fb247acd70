"""The after-action report (issue 13 item 5): delay parts, groups by inject, bottlenecks, fork comparison."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import sim.cli
from analysis.aar import delays, fork_comparison, groups, queue_over_time, stock_outs
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


def test_groups_follow_injects_and_what_they_raised():
    inc = pd.DataFrame({"incident_id": [0, 1, 2, 3], "t_call_min": [5.0, 10.5, 12.0, 25.0]})
    inj = pd.DataFrame({"inject_id": ["I2", "I1"], "t_min": [20.0, 10.0], "kind": ["x", "y"],
                        "description": ["", ""], "incident_ids": ["", "1"]})
    g = groups(inc, inj, 60.0).set_index("incident_id")
    assert g["group"].tolist() == ["before the first inject", "I1", "I1", "I2"]
    assert g["raised"].tolist() == [False, True, False, False]
    w = groups(inc, None, 180.0)
    assert w["group"].tolist() == ["00:00-01:00"] * 4


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

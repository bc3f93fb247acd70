"""The result store: atomic files, crash leftovers cleaned, torn manifest lines dropped, one writer."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from experiments.store import SweepStore, write_run
from sim.errors import InputError


def _plan(ids=("c1", "c2"), factors=("policy",), replications=2):
    return {"factors": [{"name": f} for f in factors], "replications": replications,
            "max_replications": replications,
            "configurations": [{"config_id": c, "label": c, "values": {}} for c in ids]}


def _record(config_id, r, status="ok", **metrics):
    return {"run_id": f"{config_id}-r{r:03d}", "config_id": config_id, "config": {"policy": "nearest"},
            "label": f"policy=nearest ({config_id})", "scenario": "ansan", "policy": "nearest", "seed": 1,
            "replication": r, "status": status, "wall_time_s": 0.5, "attempt": 1,
            "metrics": metrics if status == "ok" else None}


def test_write_run_replaces_atomically(tmp_path):
    out = tmp_path / "runs" / "c1-r000"
    frame = pd.DataFrame({"a": [1, 2]})
    write_run(out, {"incidents": frame, "units": frame}, {"k": 1}, {"name": "x"})
    write_run(out, {"incidents": frame.assign(a=[3, 4])}, {"k": 2}, {"name": "x"})
    assert sorted(p.name for p in out.iterdir()) == ["incidents.parquet", "run.json", "scenario.json"]
    assert pd.read_parquet(out / "incidents.parquet")["a"].tolist() == [3, 4]
    assert json.loads((out / "run.json").read_text()) == {"k": 2}
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["c1-r000"]


def test_summary_has_one_row_per_latest_ok_run(tmp_path):
    store = SweepStore.open(tmp_path / "s", _plan(), "name: t\n")
    store.record(_record("c1", 0, mean_response_min=5.0))
    store.record(_record("c2", 0, "failed"))
    store.record(_record("c1", 1, mean_response_min=6.0, utilization_engine=0.1))
    store.record({**_record("c2", 0, mean_response_min=7.0), "attempt": 2})
    store.record(_record("c9", 0, mean_response_min=1.0))  # not in the plan: kept in the manifest only
    store.close()
    s = pd.read_parquet(tmp_path / "s" / "summary.parquet")
    assert list(s.columns[:9]) == ["run_id", "config_id", "label", "policy", "scenario", "seed",
                                   "replication", "wall_time_s", "mean_response_min"]
    assert s["run_id"].tolist() == ["c1-r000", "c2-r000", "c1-r001"]
    assert s["mean_response_min"].tolist() == [5.0, 7.0, 6.0]
    assert s["utilization_engine"].isna().tolist() == [True, True, False]
    assert s["mean_response_min"].dtype == "float64"


def test_reopen_cleans_leftovers_and_drops_a_torn_line(tmp_path):
    root = tmp_path / "s"
    store = SweepStore.open(root, _plan(), "name: t\n")
    write_run(root / "runs" / "c1-r000", {}, {}, {})
    store.record(_record("c1", 0, x=1.0))
    write_run(root / "runs" / "c1-r001", {}, {}, {})      # written, but the client died before recording
    (root / "runs" / ".c2-r000.tmp-123-abcd").mkdir()     # a worker killed while writing
    (root / ".summary.parquet.tmp-9-ffff").write_bytes(b"PAR1")
    with open(root / "manifest.jsonl", "ab") as fh:      # torn last line
        fh.write(b'{"run_id": "c2-r0')
    store.close()
    store = SweepStore.open(root, _plan(), "name: t\n")
    store.close()
    assert sorted(p.name for p in (root / "runs").iterdir()) == ["c1-r000"]
    assert not [p for p in root.rglob("*") if ".tmp" in p.name]
    lines = (root / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["run_id"] == "c1-r000"
    assert store.status("c1-r000") == "ok" and store.status("c1-r001") is None


def test_a_different_plan_or_a_foreign_directory_is_refused(tmp_path):
    SweepStore.open(tmp_path / "s", _plan(), "name: t\n").close()
    with pytest.raises(InputError, match="different plan"):
        SweepStore.open(tmp_path / "s", _plan(ids=("c1", "c3")), "name: t\n")
    SweepStore.open(tmp_path / "s", _plan(replications=5), "name: t\n").close()  # more replications: fine
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a sweep directory"):
        SweepStore.open(tmp_path / "other", _plan(), "name: t\n")
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["notes.txt"]


def test_one_writer_at_a_time(tmp_path):
    first = SweepStore.open(tmp_path / "s", _plan(), "name: t\n")
    try:
        with pytest.raises(InputError, match="another sweep is writing"):
            SweepStore.open(tmp_path / "s", _plan(), "name: t\n")
    finally:
        first.close()
    SweepStore.open(tmp_path / "s", _plan(), "name: t\n").close()


def test_factor_columns_get_one_type(tmp_path):
    plan = _plan(factors=("amb", "mix", "shape"))
    store = SweepStore.open(tmp_path / "s", plan, "name: t\n")
    for r, (amb, mix, shape) in enumerate([(2, 1, {"a": 1}), (3, "x", {"a": 2})]):
        store.record({**_record("c1", r, m=1.0), "config": {"amb": amb, "mix": mix, "shape": shape}})
    store.close()
    s = pd.read_parquet(tmp_path / "s" / "summary.parquet")
    assert s["amb"].tolist() == [2, 3] and s["mix"].tolist() == ["1", "x"]
    assert s["shape"].tolist() == ['{"a": 1}', '{"a": 2}']

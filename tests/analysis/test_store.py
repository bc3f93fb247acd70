"""Reading run and sweep directories, including incomplete ones."""

import json
import shutil

import pandas as pd
import pytest

from analysis.store import RunDir, StoreError, SweepDir, open_dir


def test_open_dir_tells_runs_from_sweeps(run_dir, crn_sweep, tmp_path):
    assert isinstance(open_dir(run_dir), RunDir)
    assert isinstance(open_dir(crn_sweep), SweepDir)
    with pytest.raises(StoreError, match="no such directory"):
        open_dir(tmp_path / "missing")
    with pytest.raises(StoreError, match="neither a run directory"):
        open_dir(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        open_dir(tmp_path / "file")


def test_run_dir_reads_tables_lazily_and_misses_gracefully(run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    (copy / "events.parquet").unlink()
    run = RunDir.open(copy)
    assert run.table("events") is None and not run.has("events")
    inc = run.table("incidents", ["incident_id", "no_such_column"])
    assert list(inc.columns) == ["incident_id"]
    assert run.policy == "nearest"
    assert run.window() == (1440.0, 3 * 1440.0)
    (copy / "units.parquet").write_text("not parquet")
    with pytest.raises(StoreError, match=r"units\.parquet"):
        run.table("units")


def test_sweep_dir_plan_configs_baseline_and_failures(crn_sweep):
    sweep = SweepDir.open(crn_sweep)
    assert sweep.factors == ["policy", "sadong_ambulances"]
    assert list(sweep.configs["config_id"]) == ["c000", "c001", "c002", "c003"]
    assert sweep.baseline == "c000"
    assert list(sweep.failed["run_id"]) == ["c999-r000"]
    assert len(sweep.summary) == 20
    assert sweep.run("c000-r000") is not None and sweep.run("nope") is None


def test_sweep_dir_without_plan_and_with_a_torn_manifest(crn_sweep, tmp_path):
    copy = tmp_path / "sweep"
    copy.mkdir()
    shutil.copy(crn_sweep / "summary.parquet", copy)
    lines = (crn_sweep / "manifest.jsonl").read_text()
    (copy / "manifest.jsonl").write_text(lines + '{"run_id": "c000-r0')        # killed mid-line
    sweep = SweepDir.open(copy)
    assert len(sweep.manifest) == len(lines.splitlines())
    assert sweep.factors == [] and sweep.baseline == "c000"
    assert list(sweep.configs["config_id"]) == ["c000", "c001", "c002", "c003"]


def test_plan_with_other_baseline_spellings(crn_sweep, tmp_path):
    copy = tmp_path / "sweep"
    copy.mkdir()
    shutil.copy(crn_sweep / "summary.parquet", copy)
    plan = json.loads((crn_sweep / "plan.json").read_text())
    plan.pop("baseline")
    plan["baseline_config_id"] = "c002"
    plan["factors"] = ["policy"]
    (copy / "plan.json").write_text(json.dumps(plan))
    sweep = SweepDir.open(copy)
    assert sweep.baseline == "c002" and sweep.factors == ["policy"]


def test_unreadable_summary_is_one_clear_error(tmp_path):
    (tmp_path / "summary.parquet").write_text("garbage")
    with pytest.raises(StoreError, match=r"summary\.parquet"):
        open_dir(tmp_path)
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "summary.parquet")
    with pytest.raises(StoreError, match="missing column"):
        open_dir(tmp_path)
    pd.DataFrame({"run_id": pd.Series([], dtype=str), "config_id": pd.Series([], dtype=str)}).to_parquet(
        tmp_path / "summary.parquet")
    assert SweepDir.open(tmp_path).configs.empty

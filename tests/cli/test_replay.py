"""Issue 13 item 2: ``anjeon replay RUN_DIR`` reruns a stored run and checks its event log exactly.

One run of the tiny scenario (tests/cli/conftest.py) is made per module and copied into each test that
changes it. Two calls run as real subprocesses (exit code, stdout); the rest call ``sim.cli.main``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim
import sim.cli
from sim.replay import engine_sha256, events_sha256
from sim.results import TABLES, versions


@pytest.fixture(scope="module")
def stored(tmp_path_factory, tiny_text) -> Path:
    """A run of tiny.yaml (policy, seed and replication not the scenario's) written by ``anjeon run``."""
    work = tmp_path_factory.mktemp("replay")
    path = work / "tiny.yaml"
    path.write_text(tiny_text, encoding="utf-8")
    out = work / "run"
    argv = ["run", str(path), "--seed", "5", "--replication", "2", "--policy", "district_first", "--quiet",
            "--out", str(out)]
    assert sim.cli.main(argv) == 0
    return out


@pytest.fixture
def copy(stored, tmp_path) -> Path:
    """A copy of the stored run that a test may change."""
    return Path(shutil.copytree(stored, tmp_path / "run"))


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def _meta(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text())


def _edit_meta(folder: Path, **changes) -> None:
    meta = _meta(folder)
    meta.update(changes)
    (folder / "run.json").write_text(json.dumps(meta, indent=2))


def test_replay_as_a_process_is_identical_and_writes_nothing(tiny, tmp_path, cli):
    # the run is made by a process too: both see the engine sources as they are on disk now
    out = tmp_path / "run"
    assert cli(["run", tiny, "--until", "20 h", "--quiet", "--out", out]).returncode == 0
    before = _files(tmp_path)
    proc = cli(["replay", out])
    assert proc.returncode == 0, proc.stderr
    meta = _meta(out)
    assert proc.stdout == (f"replayed: identical event log ({meta['n_events']} events, "
                           f"sha256 {meta['events_sha256']})\n")
    assert proc.stderr == ""
    assert _files(tmp_path) == before


def test_run_json_records_what_replay_checks(stored):
    meta = _meta(stored)
    assert meta["events_sha256"] == events_sha256(pd.read_parquet(stored / "events.parquet"))
    assert meta["engine_sha256"] == engine_sha256()
    assert meta["until_min"] == meta["horizon_min"] == 1440


def test_the_log_hash_is_canonical(tiny):
    events = sim.run(tiny).events
    digest = events_sha256(events)
    shuffled = events.copy()
    for name in ("kind", "unit_id", "detail"):
        cats = list(shuffled[name].cat.categories)
        shuffled[name] = shuffled[name].cat.set_categories([*reversed(cats), "never used"])
    assert events_sha256(shuffled) == digest                     # category order and unused ones do not count
    as_text = events.astype({"kind": object, "unit_id": object, "detail": object})
    assert events_sha256(as_text) == digest                      # nor categorical against text
    changed = events.copy()
    changed.loc[3, "t_min"] = float(changed.loc[3, "t_min"]) + 1e-9
    assert events_sha256(changed) != digest
    fewer = events.iloc[:-1]
    assert events_sha256(fewer) != digest
    nulls = events.copy()
    nulls["incident_id"] = nulls["incident_id"].fillna(0)       # a null is not the number 0
    assert events_sha256(nulls) != digest


def test_a_changed_t_min_in_events_parquet_names_the_row(copy, capsys):
    events = pd.read_parquet(copy / "events.parquet")
    events.loc[5, "t_min"] += 1.0
    events.to_parquet(copy / "events.parquet", index=False)
    assert sim.cli.main(["replay", str(copy)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("replayed: DIFFERENT event log (")
    assert lines[1].startswith("first difference at events row 5 (")
    assert "t_min" in lines[1] and "stored" in lines[1] and "replayed" in lines[1]
    assert "events.parquet was changed after the run" in out


def test_a_changed_hash_without_events_parquet_is_a_difference(copy, capsys):
    (copy / "events.parquet").unlink()
    assert sim.cli.main(["replay", str(copy)]) == 0              # run.json's hash is enough
    assert capsys.readouterr().out.startswith("replayed: identical event log (")
    _edit_meta(copy, events_sha256="0" * 64)
    assert sim.cli.main(["replay", str(copy)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("replayed: DIFFERENT event log")
    assert lines[1].startswith(f"sha256 {'0' * 64} (run.json) vs ")
    assert lines[2] == "events.parquet was not kept: no row to show"


def test_a_changed_scenario_json_is_refused(copy, cli, one_error_line):
    doc = json.loads((copy / "scenario.json").read_text())
    doc["demand"]["rates_per_hr"]["city"]["medical"] = 1.6
    (copy / "scenario.json").write_text(json.dumps(doc, indent=1))
    before = _files(copy)
    line = one_error_line(cli(["replay", copy, "--out", copy.parent / "again"]))
    assert line.startswith(f"{copy / 'scenario.json'}: does not match run.json scenario_sha256 (")
    assert "changed after the run" in line
    assert _files(copy) == before and not (copy.parent / "again").exists()


def test_an_older_engine_is_refused_unless_forced(copy, capsys):
    now = versions()["anjeon"]
    _edit_meta(copy, versions={**_meta(copy)["versions"], "anjeon": "0.0.1"})
    assert sim.cli.main(["replay", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"the engine changed since this run: anjeon 0.0.1 (run) vs {now} (now)" in err
    assert "--force" in err
    assert sim.cli.main(["replay", str(copy), "--force"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("replayed: identical event log (")
    note = f"anjeon: note: replayed across an engine change: anjeon 0.0.1 (run) vs {now} (now)\n"
    assert captured.err == note


@pytest.mark.parametrize(("changes", "expected"), [
    ({"git_revision": "0123abc"}, "git revision 0123abc (run) vs "),
    ({"engine_sha256": "f" * 64}, "engine sources sha256 ffffffffffff... (run) vs "),
])
def test_another_revision_or_other_sources_are_refused(copy, capsys, changes, expected):
    _edit_meta(copy, **changes)
    assert sim.cli.main(["replay", str(copy)]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_a_modified_tree_without_a_source_hash_is_refused(copy, capsys, monkeypatch):
    import sim.results

    meta = _meta(copy)
    del meta["engine_sha256"]
    meta["git_revision"] = "abc123-dirty"
    (copy / "run.json").write_text(json.dumps(meta))
    monkeypatch.setattr(sim.results, "git_revision", lambda: "abc123-dirty")
    assert sim.cli.main(["replay", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "git revision abc123-dirty (run) vs abc123-dirty (now), a modified tree" in err


@pytest.mark.parametrize(("make", "expected"), [
    (lambda d: d.mkdir(), "not a run directory: run.json is missing"),
    (lambda d: d.write_text("x"), "not a directory"),
    (lambda d: None, "no such directory"),
])
def test_what_is_not_a_run_directory_is_refused(tmp_path, capsys, make, expected):
    target = tmp_path / "d"
    make(target)
    assert sim.cli.main(["replay", str(target)]) == 2
    assert capsys.readouterr().err == f"anjeon: error: {target}: {expected}\n"


def test_a_missing_scenario_json_or_broken_run_json_is_refused(copy, capsys):
    (copy / "scenario.json").unlink()
    assert sim.cli.main(["replay", str(copy)]) == 2
    expected = f"anjeon: error: {copy}: not a run directory: scenario.json is missing\n"
    assert capsys.readouterr().err == expected
    shutil.copy(copy / "run.json", copy / "scenario.json")
    (copy / "run.json").write_text("{not json")
    assert sim.cli.main(["replay", str(copy)]) == 2
    assert capsys.readouterr().err.startswith(f"anjeon: error: {copy / 'run.json'}: not valid JSON")


def test_out_writes_the_replayed_run_and_refuses_a_run_directory(stored, tmp_path, capsys):
    again = tmp_path / "again"
    assert sim.cli.main(["replay", str(stored), "--out", str(again)]) == 0
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(again / f"{name}.parquet"),
                                      pd.read_parquet(stored / f"{name}.parquet"))
    assert _meta(again)["events_sha256"] == _meta(stored)["events_sha256"]
    capsys.readouterr()
    before = _files(again)
    assert sim.cli.main(["replay", str(stored), "--out", str(again)]) == 2
    assert "holds an earlier run" in capsys.readouterr().err
    assert _files(again) == before


def test_a_component_and_until_replay_identically(tmp_path, tiny_text, capsys):
    doc = yaml.safe_load(tiny_text)
    doc["components"] = {"move_up": {"capability": "ambulance", "target": "5 min", "every": "30 min"}}
    path = tmp_path / "moveup.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = tmp_path / "run"
    assert sim.cli.main(["run", str(path), "--until", "10 h", "--quiet", "--out", str(out)]) == 0
    meta = _meta(out)
    assert meta["until_min"] == 600 < meta["horizon_min"] and "move_up" in meta["components"]
    capsys.readouterr()
    assert sim.cli.main(["replay", str(out)]) == 0
    assert capsys.readouterr().out == (f"replayed: identical event log ({meta['n_events']} events, "
                                       f"sha256 {meta['events_sha256']})\n")


def test_a_run_that_imported_code_needs_allow_code(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    argv = ["run", str(tiny), "--policy", "agents.policies.dispatch:Nearest", "--allow-code", "--quiet",
            "--out", str(out)]
    assert sim.cli.main(argv) == 0
    capsys.readouterr()
    assert sim.cli.main(["replay", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the run imported code (policy 'agents.policies.dispatch:Nearest'); add --allow-code" in err
    assert sim.cli.main(["replay", str(out), "--allow-code"]) == 0
    assert capsys.readouterr().out.startswith("replayed: identical event log (")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, tiny_text) -> Path:
    """A one-run sweep of tiny.yaml that kept its events, and one that did not."""
    work = tmp_path_factory.mktemp("sweep")
    (work / "tiny.yaml").write_text(tiny_text, encoding="utf-8")
    for name, keep in (("with", ["events"]), ("without", ["incidents"])):
        spec = {"name": name, "scenarios": [str(work / "tiny.yaml")], "seed": 5, "replications": 1,
                "horizon": "1 d", "warmup": 0, "keep_tables": keep}
        (work / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        argv = ["sweep", str(work / f"{name}.yaml"), "--out", str(work / name), "--workers", "1", "--quiet"]
        assert sim.cli.main(argv) == 0
    return work


def test_a_sweep_run_replays_and_a_sweep_directory_is_refused(sweep, capsys):
    capsys.readouterr()
    assert sim.cli.main(["replay", str(sweep / "with")]) == 2
    err = capsys.readouterr().err
    assert f"{sweep / 'with'}: a sweep directory (it holds summary.parquet), not a run's" in err
    (run_dir,) = (sweep / "with" / "runs").iterdir()
    assert sim.cli.main(["replay", str(run_dir)]) == 0
    assert capsys.readouterr().out.startswith("replayed: identical event log (")
    (bare,) = (sweep / "without" / "runs").iterdir()
    assert sim.cli.main(["replay", str(bare)]) == 2
    assert "no event log to compare with" in capsys.readouterr().err

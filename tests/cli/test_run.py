"""``anjeon run`` and ``anjeon scenario list|show|check|schema`` on good input.

A few calls run as real subprocesses (exit code, what reaches stdout); the
rest call ``sim.cli.main`` in-process, which is the same code without the
~1.5 s of imports per call.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import scenarios
import sim
import sim.cli
from sim.results import TABLES

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "scenarios" / "library"


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory, cli, tiny_text):
    """``anjeon run tiny.yaml --quiet --out ...`` as a subprocess."""
    work = tmp_path_factory.mktemp("run")
    path = work / "tiny.yaml"
    path.write_text(tiny_text, encoding="utf-8")
    out = work / "nested" / "out"
    proc = cli(["run", path, "--seed", "5", "--replication", "2", "--policy", "district_first", "--quiet",
                "--out", out])
    return proc, path, out


def test_run_quiet_prints_only_the_directory(quiet_run):
    proc, _, out = quiet_run
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{out}\n"
    assert proc.stderr == ""


def test_run_writes_tables_and_provenance(quiet_run):
    _, path, out = quiet_run
    assert {p.name for p in out.iterdir()} == {*(f"{t}.parquet" for t in TABLES), "geography.parquet",
                                               "run.json", "scenario.json"}
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    meta = json.loads((out / "run.json").read_text())
    assert meta["scenario"] == "tiny"
    assert meta["scenario_sha256"] == scenarios.scenario_hash(scenarios.load(path))
    assert meta["policy"] == {"dispatch": "district_first", "params": {}}
    assert (meta["seed"], meta["replication"]) == (5, 2)
    assert meta["horizon_min"] == 1440 and meta["until_min"] == 1440
    for key in ("versions", "wall_time_s", "summary", "n_events", "git_revision"):
        assert key in meta
    # the files hold what the same run in Python gives
    again = sim.run(path, policy="district_first", seed=5, replication=2)
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), getattr(again, name))
    assert json.loads((out / "scenario.json").read_text()) == again.scenario


def test_run_json_summary_as_a_process(cli, tiny, tmp_path):
    out = tmp_path / "o"
    proc = cli(["run", tiny, "--json", "--until", "12 h", "--out", out])
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    meta = json.loads((out / "run.json").read_text())
    assert summary == json.loads(json.dumps(meta["summary"]))
    assert {"incidents", "status", "response"} <= set(summary)
    assert meta["until_min"] == 720
    events = pd.read_parquet(out / "events.parquet")
    assert events["t_min"].max() == 720 and events["kind"].iloc[-1] == "run_end"
    assert proc.stderr == ""


def test_run_prints_a_readable_summary(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(tiny), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("tiny  policy nearest  seed 1  replication 0")
    assert "response time" in text and "unit utilisation" in text
    flat = " ".join(text.split())                   # rich wraps at 80 columns when not on a terminal
    assert f"tables written to {out}/" in flat
    meta = json.loads((out / "run.json").read_text())
    assert f"incidents {meta['summary']['incidents']}:" in flat


def test_run_days_sets_the_horizon(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(tiny), "--days", "2", "--quiet", "--out", str(out)]) == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["horizon_min"] == 2880 and meta["until_min"] == 2880
    calls = pd.read_parquet(out / "incidents.parquet")["t_call_min"]
    assert calls.max() > 1440                       # demand was generated for the second day


def test_run_into_an_existing_directory_replaces_the_tables(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(tiny), "--seed", "1", "--quiet", "--out", str(out)]) == 0
    first = pd.read_parquet(out / "events.parquet")
    # issue #16: an earlier run is replaced only when asked (--force)
    assert sim.cli.main(["run", str(tiny), "--seed", "2", "--quiet", "--out", str(out), "--force"]) == 0
    second = pd.read_parquet(out / "events.parquet")
    assert json.loads((out / "run.json").read_text())["seed"] == 2
    assert not first.equals(second)
    assert second.equals(sim.run(tiny, seed=2).events)


def test_run_default_out_directory(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert sim.cli.main(["run", str(tiny), "--quiet"]) == 0
    assert capsys.readouterr().out == f"{Path('out') / 'tiny'}\n"
    assert (tmp_path / "out" / "tiny" / "events.parquet").is_file()


def test_builtin_by_name(tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", "mmc", "--days", "2", "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["scenario"] == "mmc"


# -- anjeon scenario ... ------------------------------------------------------------------------------


def test_scenario_list_as_a_process(cli):
    proc = cli(["scenario", "list"])
    assert proc.returncode == 0 and proc.stderr == ""
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    # the built-ins first, then the example files (issue #16)
    assert names[:len(scenarios.builtin_names())] == scenarios.builtin_names()
    assert all(n.startswith("scenarios/examples/") for n in names[len(scenarios.builtin_names()):])
    assert {"ansan", "mmc"} <= set(names)
    ansan = next(line for line in proc.stdout.splitlines() if line.startswith("ansan "))
    assert "Ansan" in ansan


def test_scenario_schema_as_a_process(cli, tmp_path):
    proc = cli(["scenario", "schema"])
    assert proc.returncode == 0 and proc.stderr == ""
    schema = json.loads(proc.stdout)
    assert "districts" in schema["properties"]
    assert {"schema_version", "time", "geography", "stations", "fleets", "incident_types"} <= set(
        schema["properties"])
    assert {"time", "geography", "districts"} <= set(schema.get("required", []))


def test_scenario_schema_to_a_file(tmp_path, capsys):
    target = tmp_path / "schema.json"
    assert sim.cli.main(["scenario", "schema", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert "districts" in json.loads(target.read_text())["properties"]


@pytest.mark.parametrize("name", ["ansan", "mmc"])
def test_scenario_check_builtins(name, capsys):
    assert sim.cli.main(["scenario", "check", name]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ok: {name} (") and out.count("\n") == 1


def test_scenario_check_a_file(tiny, capsys):
    assert sim.cli.main(["scenario", "check", str(tiny)]) == 0
    expected = "ok: tiny (1 districts, 1 stations, 2 units, 36.0 incidents/day expected)\n"
    assert capsys.readouterr().out == expected


def test_scenario_check_by_path_of_a_library_file(capsys):
    assert sim.cli.main(["scenario", "check", str(LIBRARY / "mmc.yaml")]) == 0
    expected = "ok: mmc (1 districts, 1 stations, 5 units, 576.0 incidents/day expected)\n"
    assert capsys.readouterr().out == expected


def test_scenario_show(capsys):
    assert sim.cli.main(["scenario", "show", "ansan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ansan: ")
    assert "districts (10):" in out and "stations (12):" in out and "hospitals (3):" in out
    assert "policy: nearest" in out


def test_scenario_show_a_file(tiny, capsys):
    assert sim.cli.main(["scenario", "show", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "units (2): 1 engine, 1 ambulance" in out
    assert "expected 36.0 generated incidents/day" in out


def test_scenario_show_yaml_prints_the_file(capsys):
    assert sim.cli.main(["scenario", "show", "mmc", "--yaml"]) == 0
    assert capsys.readouterr().out == (LIBRARY / "mmc.yaml").read_text(encoding="utf-8")


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        sim.cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"anjeon {sim.__version__}\n"


def test_run_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        sim.cli.main(["run", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--policy", "--seed", "--replication", "--days", "--until", "--out", "--json", "--quiet"):
        assert flag in out

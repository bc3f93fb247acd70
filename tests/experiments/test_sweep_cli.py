"""Issue 16 items 9 and 16 for ``anjeon sweep``: the closing table keeps every header whole at 80
columns, and an unreachable ``--scheduler`` fails fast with one line, leaving no sweep directory."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from experiments.cli import print_report
from tests.experiments.conftest import anjeon, free_port, write_spec

METRICS = ["mean_response_min", "p90_response_min", "within_target", "utilization_ambulance",
           "utilization_engine", "mean_turnout_and_travel_min"]


def _result(labels: list[str]) -> SimpleNamespace:
    configs = [SimpleNamespace(config_id=f"c{i:010d}", label=label) for i, label in enumerate(labels)]
    rows = [{"config_id": c.config_id, **{m: 1.5 + i for m in METRICS}} for i, c in enumerate(configs)]
    plan = SimpleNamespace(spec=SimpleNamespace(name="wide", metrics=METRICS), configurations=configs,
                           baseline=configs[0].config_id)
    return SimpleNamespace(plan=plan, summary=pd.DataFrame(rows), failed_runs=[], ran=4, ok=4, failed=0,
                           skipped=0, path=Path("out/sweeps/wide"))


@pytest.mark.parametrize("width", [80, 100, 200])
def test_closing_table_headers_are_never_cut(width, capsys):
    print_report(_result(["policy=nearest, singil_ambulances=2", "policy=district_first, singil=3"]),
                 width=width)
    text = capsys.readouterr().out
    assert "…" not in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    for metric in METRICS:
        assert any(metric in line for line in lines), (metric, text)   # each header whole, on one line
    assert text.count("c0000000000 *") == (1 if width == 200 else text.count("means over ok runs ("))
    assert "summary: out/sweeps/wide/summary.parquet" in text


def test_closing_table_in_one_piece_when_it_fits(capsys):
    print_report(_result(["a", "b"]), width=200)
    text = capsys.readouterr().out
    assert text.count("means over ok runs") == 1 and "(1/" not in text


def test_unreachable_scheduler_fails_fast_and_leaves_no_directory(tmp_path):
    spec = write_spec(tmp_path / "s.yaml", scenarios=["mmc"], horizon="1 d", warmup=0, replications=1,
                      keep_tables=[])
    out = tmp_path / "new" / "sweep"
    started = time.perf_counter()
    proc = anjeon("sweep", spec, "--out", out, "--scheduler", f"tcp://127.0.0.1:{free_port()}",
                  "--connect-timeout", "1")
    elapsed = time.perf_counter() - started
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("anjeon: error: --scheduler: cannot use the Dask cluster"), lines[0]
    assert "within 1 s (--connect-timeout)" in lines[0]
    assert elapsed < 30, elapsed                        # was 20 s of connecting plus the plan
    assert not (tmp_path / "new").exists()


def test_scheduler_failure_keeps_an_existing_sweep(tmp_path):
    spec = write_spec(tmp_path / "s.yaml", scenarios=["mmc"], horizon="1 d", warmup=0, replications=1,
                      keep_tables=[])
    out = tmp_path / "sweep"
    assert anjeon("sweep", spec, "--out", out, "--workers", "1", "--quiet").returncode == 0
    before = sorted(p.name for p in out.iterdir())
    proc = anjeon("sweep", spec, "--out", out, "--retry-failed", "--scheduler",
                  f"tcp://127.0.0.1:{free_port()}", "--connect-timeout", "1")
    assert proc.returncode == 0                          # nothing to do: no executor needed
    assert sorted(p.name for p in out.iterdir()) == before


def test_sweep_refuses_empty_out(tmp_path):
    spec = write_spec(tmp_path / "s.yaml")
    proc = anjeon("sweep", spec, "--out", "", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr == "anjeon: error: --out: expected a path, got ''\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]

"""Issue 16 item 11: sizes that cannot fit are refused up front, with an estimate, never attempted.

``--days 1e9`` used to try to allocate 179 GiB and ``--days 100000`` ran 20 s before a
MemoryError; sweep grids of 1e9 configurations or 1e9 replications died after 25 s. Each now ends
at once as one line naming the option or the spec field, with the count, and writes nothing.
"""

from __future__ import annotations

import time

import pytest
import yaml

import sim.cli
from experiments.spec import spec_from_dict
from experiments.sweep import MAX_CONFIGURATIONS, MAX_RUNS, count_configurations
from scenarios.references import max_incidents

BIG_GRID = {"name": "huge", "scenarios": ["ansan"], "replications": 2, "horizon": "2 d",
            "factors": {"scale": {"path": "demand.scale", "levels": [1 + i / 10_000 for i in range(1000)]},
                        "singil": {"path": "fleets.Singil.ambulance", "levels": list(range(1000))},
                        "choji": {"path": "fleets.Choji.ambulance", "levels": list(range(1000))}}}


@pytest.mark.parametrize(("days", "incidents"), [("1e9", "134,994,000,000"), ("100000", "13,499,400")])
def test_days_too_many_for_memory(days, incidents, tmp_path, capsys):
    out = tmp_path / "o"
    started = time.perf_counter()
    code = sim.cli.main(["run", "ansan", "--days", days, "--out", str(out)])
    assert time.perf_counter() - started < 5
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, ""), captured
    line = captured.err.strip()
    assert captured.err.count("\n") == 1 and line.startswith("anjeon: error: --days: "), line
    assert f"about {incidents} incidents" in line and "GB of memory" in line, line
    assert f"at most {max_incidents():,}" in line and "14,815 days" in line, line
    assert not out.exists()


def test_a_scenario_horizon_too_long_names_the_field(tmp_path, tiny_text, capsys):
    path = tmp_path / "long.yaml"
    text = tiny_text.replace("horizon: 1 d", "horizon: 1000 d").replace("medical: 1.5}", "medical: 150}")
    path.write_text(text)               # 1,000 days of 3,600 incidents a day
    for argv in (["run", str(path), "--out", str(tmp_path / "o")], ["scenario", "check", str(path)]):
        assert sim.cli.main(argv) == 2
        err = capsys.readouterr().err
        # refused while loading (the scenario check's rule, shared with --days): it names the demand
        assert err.startswith(f"anjeon: error: {path}: demand: ") and err.count("\n") == 1, err
        assert "about 3,600,000 incidents" in err and "time.horizon" in err, err
    assert not (tmp_path / "o").exists()


def test_a_long_run_that_fits_is_not_refused(capsys):
    scenario = __import__("scenarios").load("ansan")
    sim.cli.check_run_size(scenario, 10_000, None)               # 1.35 M incidents: fits
    assert sim.cli.incidents_per_day(scenario) == pytest.approx(134.994, rel=1e-3)


def test_count_configurations_without_building_them():
    spec = spec_from_dict(BIG_GRID)
    assert count_configurations(spec) == (10**9, "factors", "1,000 x 1,000 x 1,000 levels")


@pytest.mark.parametrize(("change", "field", "fragment"), [
    ({}, "factors", "1,000,000,000 configurations (1,000 x 1,000 x 1,000 levels)"),
    ({"factors": {}, "replications": 10**9}, "replications",
     "1 configurations x 1,000,000,000 replications = 1,000,000,000 runs"),
    ({"factors": {"singil": BIG_GRID["factors"]["singil"]}, "replications": 2,
      "adaptive": {"metric": "mean_response_min", "half_width": 0.1, "max_replications": 10**9}},
     "adaptive.max_replications", "1,000 configurations x 1,000,000,000 replications"),
    ({"factors": {"scale": {"path": "demand.scale", "range": [1, 2]}},
      "design": {"kind": "lhs", "samples": 10**9, "seed": 3}},
     "design.samples", "1,000,000,000 configurations"),
])
def test_sweeps_too_large_are_refused_up_front(change, field, fragment, tmp_path, cli, one_error_line):
    spec = tmp_path / "huge.yaml"
    spec.write_text(yaml.safe_dump({**BIG_GRID, **change}, sort_keys=False))
    out = tmp_path / "sweep"
    for argv in (["sweep", "check", spec], ["sweep", spec, "--out", out, "--workers", "1"]):
        started = time.perf_counter()
        line = one_error_line(cli(argv))
        assert time.perf_counter() - started < 20
        assert line.startswith(f"{spec}: {field}: ") and fragment in line, line
        assert f"{MAX_CONFIGURATIONS:,}" in line or f"{MAX_RUNS:,}" in line, line
    assert not out.exists()

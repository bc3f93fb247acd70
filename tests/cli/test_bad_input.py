"""Bad input ends as ONE clear line on stderr, exit code 2, no traceback, nothing written.

Every file in tests/data/bad/ is the tiny valid scenario of conftest.py with
one thing broken; the line must name the file, the dotted field path and
what was expected. Bad command-line flags name the flag instead.

Each case runs through ``sim.cli.main`` in-process (fast, every case), and a
sample covering every kind of error (YAML, schema, cross-reference, policy,
argument type, run limits, argparse, output directory) runs as a real
subprocess, started all at once. A slow-marked test runs every case as a
subprocess (``pytest -m slow tests/cli``); each costs ~1.5 s of imports.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sim.cli
from tests.cli.conftest import run_all

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "bad"
OUT = "{out}"          # replaced by a fresh directory that must not be created

#: file stem -> (dotted field path, or None when no field applies; fragments the message must hold)
FILE_CASES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "typo_field": ("incident_types.medical.tranport_probability",
                   ("unknown field", "did you mean 'transport_probability'")),
    "negative_rate": ("demand.rates_per_hr.city.medical", ("greater than or equal to 0", "-1.5")),
    "unknown_policy": ("policy.dispatch", ("unknown dispatch policy 'closest'", "nearest")),
    "unknown_station_in_fleets": ("fleets.mian", ("unknown station 'mian'", "expected one of 'main'")),
    "priority_sum": ("incident_types.medical.priority_mix", ("must sum to 1", "0.9")),
    "empty_fleet": ("fleets", ("no units",)),
    "bad_duration": ("incident_types.medical.on_scene.mean", ("'15 minutos'", "expected", "'8 min'")),
    "yaml_syntax": (None, ("YAML syntax error",)),
    "unknown_neighbour": ("districts.city.neighbours[0]",
                          ("unknown district 'suburb'", "expected one of 'city'")),
    "unknown_unit_type": ("fleets.main.ambulence", ("unknown unit type 'ambulence'", "'ambulance'")),
    "wrong_distribution": ("incident_types.medical.on_scene",
                           ("'weibull'", "expected one of", "'exponential'")),
    "missing_required": ("incident_types.medical.on_scene", ("required field is missing",)),
    "transport_no_hospital": ("incident_types.medical.transport_probability", ("no hospitals",)),
    "matrix_not_square": ("geography.travel_min", ("2 x 2",)),
    "warmup_too_long": ("time", ("warmup", "shorter than horizon")),
    "unknown_place": ("stations.main.location", ("unknown place 'center'", "'centre'")),
    "wrong_type": ("fleets.main.engine", ("integer", "'two'")),
    "schema_version": ("schema_version", ("1", "got 2")),
    "negative_duration": ("unit_types.engine.turnout", ("non-negative", "-1")),
    "unknown_capability": ("incident_types.medical.required_units.ladder", ("unknown capability 'ladder'",)),
    "scripted_after_horizon": ("incidents[0].at", ("horizon",)),
    "top_level_list": (None, ("expected a mapping", "list")),
    "bad_policy_param": ("policy.params", ("max_wait_min", ">= 0")),
    "zero_max_queue": ("incident_types.medical.max_queue", ("greater than 0",)),
    "uniform_reversed": ("incident_types.medical.on_scene", ("high must be at least low",)),
    "distribution_extra_field": ("incident_types.medical.on_scene.sd", ("unknown field", "mean")),
    "scripted_transport_no_hospital": ("incidents[0].transport", ("hospital",)),
}

#: case id -> (command line, what the message starts with (None: argparse's own wording), fragments)
CASES: dict[str, tuple[list[str], str | None, tuple[str, ...]]] = {
    f"file:{name}": (["run", f"tests/data/bad/{name}.yaml", "--out", OUT],
                     f"tests/data/bad/{name}.yaml: " + (f"{path}: " if path else ""), fragments)
    for name, (path, fragments) in FILE_CASES.items()
}
CASES |= {
    "seed_negative": (["run", "ansan", "--seed", "-1"], "--seed: ", ("non-negative integer", "'-1'")),
    "seed_fraction": (["run", "ansan", "--seed", "1.5"], "--seed: ", ("non-negative integer", "'1.5'")),
    "replication_negative": (["run", "ansan", "--replication", "-2"], "--replication: ",
                             ("non-negative integer",)),
    "days_text": (["run", "ansan", "--days", "x"], "--days: ", ("positive number", "'x'")),
    "days_zero": (["run", "ansan", "--days", "0"], "--days: ", ("positive number",)),
    "days_nan": (["run", "ansan", "--days", "nan"], "--days: ", ("positive number",)),
    "days_inside_warmup": (["run", "mmc", "--days", "1"], "--days: ", ("warmup",)),
    "until_parsecs": (["run", "ansan", "--until", "3 parsecs"], "--until: ", ("'3 parsecs'", "'8 min'")),
    "until_past_horizon": (["run", "ansan", "--until", "40 d"], "--until: ", ("horizon",)),
    "until_zero": (["run", "ansan", "--until", "0"], "--until: ", ("< until <= horizon",)),
    "policy_unknown": (["run", "ansan", "--policy", "closest"], "--policy: ",
                       ("unknown dispatch policy 'closest'",)),
    "policy_module_missing": (["run", "ansan", "--policy", "no_such_module:X"], "--policy: ",
                              ("no_such_module",)),
    "days_and_until": (["run", "ansan", "--days", "1", "--until", "2 h"], "anjeon run: ",
                       ("not allowed with",)),
    "unknown_flag": (["run", "ansan", "--bogus"], None, ("unrecognized arguments: --bogus",)),
    "missing_file": (["run", "tests/data/bad/no_such_file.yaml"], "tests/data/bad/no_such_file.yaml: ",
                     ("file not found",)),
    "directory": (["run", "tests/data/bad"], "tests/data/bad: ", ("not a file",)),
    "unknown_name": (["run", "no_such_scenario"], "no_such_scenario: ",
                     ("unknown scenario", "ansan", ".yaml")),
    "unknown_command": (["frobnicate"], None, ("invalid choice: 'frobnicate'",)),
    "show_unknown": (["scenario", "show", "no_such_scenario"], "no_such_scenario: ", ("unknown scenario",)),
    "check_missing": (["scenario", "check", "tests/data/bad/no_such_file.yaml"],
                      "tests/data/bad/no_such_file.yaml: ", ("file not found",)),
}
for _args, *_ in CASES.values():
    if _args[0] == "run" and OUT not in _args:
        _args += ["--out", OUT]

#: one case per origin of an error; these also run as subprocesses in the default pass
SAMPLE = ["file:yaml_syntax", "file:typo_field", "file:unknown_station_in_fleets", "file:unknown_policy",
          "file:scripted_transport_no_hospital",
          "missing_file", "seed_negative", "days_text", "until_parsecs", "until_past_horizon", "unknown_flag"]


def _argv(case: str, out: Path) -> list[str]:
    return [str(out) if a == OUT else a for a in CASES[case][0]]


def _check(case: str, line: str, out: Path) -> None:
    _, start, fragments = CASES[case]
    if start is not None:
        assert line.startswith(start), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert not out.exists(), "the output directory was created"
    assert not list(out.parent.glob(f".{out.name}*")), "a temporary directory was left behind"


def _in_process(argv: list[str], capsys) -> str:
    code = sim.cli.main(argv)
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("anjeon: error: ")
    return lines[0][len("anjeon: error: "):]


def test_every_bad_file_has_a_case():
    on_disk = {p.stem for p in BAD.glob("*.yaml")}
    assert on_disk == set(FILE_CASES)
    assert len(on_disk) >= 14


@pytest.mark.nojit
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_in_process(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    _check(case, _in_process(_argv(case, out), capsys), out)


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_scenario_check_says_the_same(name, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = f"tests/data/bad/{name}.yaml"
    line = _in_process(["scenario", "check", path], capsys)
    assert line == _in_process(["run", path, "--out", "never-written"], capsys)
    assert not (ROOT / "never-written").exists()


def test_yaml_syntax_error_gives_line_and_column(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    line = _in_process(["scenario", "check", "tests/data/bad/yaml_syntax.yaml"], capsys)
    assert re.search(r": line \d+, column \d+: ", line), line


# -- as real processes ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampled(tmp_path_factory, cli, tiny_text):
    """Run the sample and the output-directory cases at once."""
    work = tmp_path_factory.mktemp("bad_input")
    tiny = work / "tiny.yaml"
    tiny.write_text(tiny_text, encoding="utf-8")
    occupied = work / "a_file"
    occupied.write_text("keep me\n")
    jobs = {case: _argv(case, work / f"out-{i}") for i, case in enumerate(SAMPLE)}
    jobs["out_is_a_file"] = ["run", str(tiny), "--out", str(occupied)]
    jobs["out_under_a_file"] = ["run", str(tiny), "--out", str(occupied / "sub")]
    return work, run_all(jobs)


@pytest.mark.parametrize("case", SAMPLE)
def test_bad_input_as_a_process(sampled, one_error_line, case):
    work, procs = sampled
    _check(case, one_error_line(procs[case]), work / f"out-{SAMPLE.index(case)}")


def test_out_that_is_a_file(sampled, one_error_line):
    work, procs = sampled
    line = one_error_line(procs["out_is_a_file"])
    assert "--out" in line and str(work / "a_file") in line, line
    assert (work / "a_file").read_text() == "keep me\n"
    assert not [p for p in work.iterdir() if p.name.startswith(".a_file")]


def test_out_under_a_file(sampled, one_error_line):
    work, procs = sampled
    line = one_error_line(procs["out_under_a_file"])
    assert "--out" in line and "a_file" in line, line
    assert (work / "a_file").read_text() == "keep me\n"


@pytest.mark.slow
def test_every_case_as_a_process(tmp_path, cli, one_error_line):
    outs = {case: tmp_path / f"out-{i}" for i, case in enumerate(sorted(CASES))}
    procs = run_all({case: _argv(case, out) for case, out in outs.items()})
    failures = {}
    for case, proc in procs.items():
        try:
            _check(case, one_error_line(proc), outs[case])
        except AssertionError:
            failures[case] = (proc.returncode, proc.stderr.strip().splitlines()[-1:])
    assert not failures, failures

"""Bad ``components`` sections are one clean line, through the real command line.

Each case is the tiny scenario of conftest.py with a broken ``components``
section, run as ``anjeon scenario check FILE`` and ``anjeon run FILE --out
DIR`` (subprocesses started all at once): exactly one line on standard error
naming the file and the field path, exit code 2, no traceback, nothing
written to ``--out``.
"""

from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml

from tests.cli.conftest import TINY_YAML

BASE: dict[str, Any] = yaml.safe_load(TINY_YAML)


def _with(components: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    d["components"] = copy.deepcopy(components)
    return d


#: case -> (scenario dict, field path the line must name, fragments of the message)
CASES: dict[str, tuple[dict[str, Any], str, tuple[str, ...]]] = {
    "unknown_component": (
        _with({"teleporter": {}}),
        "components.teleporter", ("unknown component 'teleporter'", "'move_up'")),
    "typo_in_a_field": (
        _with({"move_up": {"capabilty": "ambulance", "target": 8}}),
        "components.move_up.capabilty", ("unknown field", "did you mean 'capability'")),
    "unknown_capability_of_the_world": (
        _with({"move_up": {"capability": "ambulanse", "target": 8}}),
        "components.move_up.capability", ("unknown capability 'ambulanse'",)),
    "module_that_does_not_exist": (
        _with({"no_such_package.plugin:Thing": {}}),
        "components.no_such_package.plugin:Thing", ("cannot import component",)),
    "not_a_component": (
        _with({"scenarios.schema:Scenario": {}}),
        "components.scenarios.schema:Scenario", ("is not an agents.components.Component subclass",)),
}


#: cases that name code (package.module:Class): run with --allow-code to reach the import
NAMES_CODE = {"module_that_does_not_exist", "not_a_component"}
CASES["code_without_allow_code"] = (
    _with({"no_such_package.plugin:Thing": {}}),
    "components.no_such_package.plugin:Thing", ("names code",))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, cli):
    """Every case through ``scenario check`` and ``run --out``, all subprocesses at once."""
    work = tmp_path_factory.mktemp("bad_components")
    jobs = {}
    for name, (scenario, _, _) in CASES.items():
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
        code = ["--allow-code"] if name in NAMES_CODE else []  # (issue #16: code only when asked)
        jobs[(name, "check")] = ["scenario", "check", str(path), *code]
        jobs[(name, "run")] = ["run", str(path), "--out", str(work / f"out-{name}"), *code]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {key: pool.submit(cli, args) for key, args in jobs.items()}
        return work, {key: f.result() for key, f in futures.items()}


def test_the_move_up_section_itself_is_valid():
    from agents.components import validate

    [(name, _, section)] = validate({"move_up": {"capability": "ambulance", "target": 8}}, "tiny")
    assert name == "move_up" and section.target == 8


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_line_naming_file_and_field(outcomes, one_error_line, name, command):
    work, procs = outcomes
    _, path, fragments = CASES[name]
    line = one_error_line(procs[(name, command)])
    assert line.startswith(f"{work / name}.yaml: {path}: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    out = work / f"out-{name}"
    assert not out.exists(), "the output directory was created"
    assert not list(work.glob(f".out-{name}*")), "a temporary directory was left behind"


def test_check_and_run_say_the_same(outcomes):
    _, procs = outcomes
    for name in CASES:
        assert procs[(name, "check")].stderr == procs[(name, "run")].stderr, name

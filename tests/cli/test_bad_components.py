"""Bad ``components`` sections are one clean line, through the real command line.

Each case is the tiny scenario of conftest.py with a broken ``components``
section, run as ``anjeon scenario check FILE`` and ``anjeon run FILE --out
DIR`` (subprocesses started all at once): exactly one line on standard error
naming the file and the field path, exit code 2, no traceback, nothing
written to ``--out``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.cli.conftest import TINY_YAML, assert_one_line_naming, check_and_run

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
def outcomes(tmp_path_factory):
    """Every case through ``scenario check`` and ``run --out``, all subprocesses at once."""
    work = tmp_path_factory.mktemp("bad_components")
    # (issue #16: code only when asked)
    return work, check_and_run(work, CASES, lambda name: ["--allow-code"] if name in NAMES_CODE else [])


def test_the_move_up_section_itself_is_valid():
    from agents.components import validate

    [(name, _, section, _)] = validate({"move_up": {"capability": "ambulance", "target": 8}}, "tiny")
    assert name == "move_up" and section.target == 8


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_line_naming_file_and_field(outcomes, name, command):
    work, procs = outcomes
    assert_one_line_naming(work, CASES, procs, name, command)


def test_check_and_run_say_the_same(outcomes):
    _, procs = outcomes
    for name in CASES:
        assert procs[(name, "check")].stderr == procs[(name, "run")].stderr, name

"""Issue #10 sections: a bad call centre, outage, road change or staffing level is one clean line.

Each case is the tiny scenario of conftest.py with one section broken, run
through the real command line (``anjeon scenario check FILE`` and ``anjeon run
FILE --out DIR``) as subprocesses started all at once: exactly one line on
standard error naming the file and the field path, exit code 2, no
traceback, nothing written to ``--out``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.cli.conftest import TINY_YAML, assert_one_line_naming, check_and_run

BASE: dict[str, Any] = yaml.safe_load(TINY_YAML)


def _with(**sections: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    d.update(copy.deepcopy(sections))
    return d


def _on_a_grid(**sections: Any) -> dict[str, Any]:
    """The tiny scenario on a 4 km road grid (road changes need roads)."""
    return _with(
        geography={"kind": "grid", "origin_km": [0, 0], "size_km": [4, 4], "spacing_km": 1, "speed_kmh": 30},
        districts={"city": {"boundary": [[-0.5, -0.5], [4.5, -0.5], [4.5, 4.5], [-0.5, 4.5]]}},
        stations={"main": {"district": "city", "location": [1, 1]}},
        hospitals={"general": {"location": [3, 3], "capacity": 1}},
        **sections,
    )


LINES = {"119": {"label": "Fire, rescue and EMS"}, "120": {"label": "City call centre"}}

#: case -> (scenario dict, field path the line must name, fragments of the message)
CASES: dict[str, tuple[dict[str, Any], str, tuple[str, ...]]] = {
    "outage_ends_before_it_starts": (
        _with(outages=[{"centre": "dispatch", "start": "2 h", "end": "1 h"}]),
        "outages[0]", ("end (60 min) must come after start (120 min)",)),
    "unknown_fallback": (
        _with(call_centres={"main": {"lines": ["119"], "fallback": "backup"}}),
        "call_centres.main.fallback", ("unknown call centre 'backup'", "'main'")),
    "line_no_centre_serves": (
        _with(lines=LINES, call_centres={"main": {"lines": ["119"]}}),
        "lines.120", ("line '120' is served by no call centre",)),
    "link_not_a_road": (
        _on_a_grid(road_changes=[{"at": "1 h", "link": {"from": [1, 1], "to": [2, 2]}}]),
        "road_changes[0].link", ("no road runs from [1, 1] to [2, 2]",)),
    "negative_staffing_by_hour": (
        _with(call_centres={"main": {"lines": ["119"], "call_takers_by_hour": [2, 2, 2, -1] + [2] * 20}}),
        "call_centres.main.call_takers_by_hour[3]", ("greater than or equal to 0", "-1")),
    "negative_call_takers": (
        _with(call_centres={"main": {"lines": ["119"], "call_takers": -2}}),
        "call_centres.main.call_takers", ("greater than 0", "-2")),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case through ``scenario check`` and ``run --out``, all subprocesses at once."""
    work = tmp_path_factory.mktemp("bad_sections")
    return work, check_and_run(work, CASES)


def test_the_base_scenario_is_valid():
    import scenarios
    from sim.world import compile_world

    for name, maker in (("tiny", _with), ("tiny on a grid", _on_a_grid)):
        assert compile_world(scenarios.from_dict(maker(), source=name)).n_units == 2


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_line_naming_file_and_field(outcomes, name, command):
    work, procs = outcomes
    assert_one_line_naming(work, CASES, procs, name, command)


def test_check_and_run_say_the_same(outcomes):
    _, procs = outcomes
    for name in CASES:
        assert procs[(name, "check")].stderr == procs[(name, "run")].stderr, name

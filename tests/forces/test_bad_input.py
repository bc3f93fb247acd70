"""Bad tiers and escalation sections are one clean line from the command line (issue #11).

Each case is the tiny scenario of tests/cli/conftest.py with two districts and
one thing broken, run as ``anjeon scenario check FILE`` and ``anjeon run FILE
--out DIR`` (subprocesses started all at once): one line naming the file and
the field path, exit code 2, no traceback, nothing written.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.cli.conftest import TINY_YAML, assert_one_line_naming, run_all

BASE: dict[str, Any] = yaml.safe_load(TINY_YAML)
BASE["districts"] = {"city": {"zones": {"centre": 1}, "neighbours": ["east"]},
                     "east": {"zones": {"east": 1}, "neighbours": ["city"]}}
BASE["stations"]["brigade"] = {"district": "east", "location": "east", "tier": "enterprise"}
BASE["fleets"]["brigade"] = {"engine": 1}


def _with(change) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    change(d)
    return d


def _escalation(section: dict[str, Any]) -> dict[str, Any]:
    return _with(lambda d: d.update(components={"escalation": section}))


CASES: dict[str, tuple[dict[str, Any], str, tuple[str, ...]]] = {
    "station_in_unknown_tier": (
        _with(lambda d: d["stations"]["main"].update(tier="province")),
        "stations.main.tier", ("'city', 'district' or 'enterprise'",)),
    "escalation_loop": (
        _escalation({"pass_on": True}),
        "components.escalation.pass_on", ("escalation loop: city asks east asks city", "neighbours")),
    "escalation_loop_of_partners": (
        _escalation({"pass_on": True, "partners": {"city": ["east"], "east": ["city"]}}),
        "components.escalation.partners.east", ("escalation loop: city asks east asks city",)),
    "unknown_partner_district": (
        _escalation({"partners": {"city": ["eats"]}}),
        "components.escalation.partners.city[0]", ("unknown district 'eats'",)),
    "unknown_asking_district": (
        _escalation({"partners": {"citi": ["east"]}}),
        "components.escalation.partners.citi", ("unknown district 'citi'",)),
    "unknown_site_district": (
        _escalation({"sites": {"port": {"stations": ["brigade"], "district": "harbour"}}}),
        "components.escalation.sites.port.district", ("unknown district 'harbour'",)),
    "site_brigade_not_enterprise": (
        _escalation({"sites": {"port": {"stations": ["main"], "district": "east"}}}),
        "components.escalation.sites.port.stations[0]", ("tier 'district'",)),
    "negative_k": (
        _escalation({"keep_at_home": -1}),
        "components.escalation.keep_at_home", ("greater than or equal to 0",)),
    "unknown_agency_spelling": (
        _with(lambda d: d["unit_types"]["engine"].update(agency="Fire Service")),
        "unit_types.engine.agency", ("pattern",)),
    "diversion_unknown_capability": (
        _with(lambda d: d.update(components={"diversion": {"capabilities": ["ambulanse"]}})),
        "components.diversion.capabilities[0]", ("unknown capability 'ambulanse'",)),
}


#: cases also run through ``anjeon run --out`` (every case goes through ``scenario check``; a run
#: validates the same way before writing anything, tests/cli/test_bad_components.py checks that path)
RUN_TOO = ("station_in_unknown_tier", "escalation_loop", "negative_k")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case through ``scenario check``, some through ``run --out``, all subprocesses at once."""
    work = tmp_path_factory.mktemp("bad_forces")
    jobs = {}
    for name, (scenario, _, _) in CASES.items():
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
        jobs[(name, "check")] = ["scenario", "check", str(path)]
        if name in RUN_TOO:
            jobs[(name, "run")] = ["run", str(path), "--out", str(work / f"out-{name}")]
    return work, run_all(jobs)


def test_the_base_with_escalation_and_agencies_is_valid():
    import scenarios
    import sim

    d = _escalation({"keep_at_home": 0, "lend_enterprise": True})
    d["unit_types"]["ambulance"]["agency"] = "ems"
    d["time"]["horizon"] = "2 h"
    result = sim.run(scenarios.from_dict(d), seed=1)
    units = result.units
    assert dict(zip(units["unit_id"].astype(str), units["agency"].astype(str), strict=True)) == {
        "main/engine/1": "fire", "main/ambulance/1": "ems", "brigade/engine/1": "fire"}
    assert list(result.units["tier"].astype(str)) == ["district", "district", "enterprise"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_gives_one_line_naming_file_and_field(outcomes, name):
    work, procs = outcomes
    assert_one_line_naming(work, CASES, procs, name, "check")


@pytest.mark.parametrize("name", RUN_TOO)
def test_run_gives_the_same_line_and_writes_nothing(outcomes, name):
    work, procs = outcomes
    assert_one_line_naming(work, CASES, procs, name, "run")
    assert procs[(name, "run")].stderr == procs[(name, "check")].stderr

"""Bad drills (issue #13): one line naming the file and the inject's field, exit 2, nothing overwritten."""

from __future__ import annotations

import copy
import json

import pytest

from sim.cli import main
from tests.drills.conftest import GRID, TRACE, incident

BREAK = {"id": "b", "at": 30, "kind": "unit_breakdown", "unit": "SA/amb/1"}

CASES = {
    "after the horizon": (TRACE, [incident("late", 500)],
                          "drill.injects[0].at: 500 min is at or after the end of the run (horizon 120 min)"),
    "clock time after the horizon": (TRACE, [incident("late", "23:30")], "drill.injects[0].at: '23:30'"),
    "unknown unit": (TRACE, [{**BREAK, "unit": "SZ/amb/9"}],
                     "drill.injects[0].unit: unknown unit 'SZ/amb/9'"),
    "unknown road": (GRID, [{"id": "r", "at": 5, "kind": "road_closure",
                             "link": {"from": [0, 0], "to": [2, 0]}}],
                     "drill.injects[0].link: no road runs from [0, 0] to [2, 0]"),
    "road off the map": (GRID, [{"id": "r", "at": 5, "kind": "road_closure",
                                 "link": {"from": [25, 21], "to": [26, 21]}}],
                         "drill.injects[0].link: [25, 21] lies outside the road network (x from 0 to 4 km"),
    "road in a matrix world": (TRACE, [{"id": "r", "at": 5, "kind": "road_closure",
                                        "area": {"centre": [0, 0], "radius_km": 1}}],
                               "drill.injects[0]: road closures need a road geography"),
    "two injects with one id": (TRACE, [BREAK, {**BREAK, "at": 40}],
                                "drill.injects[1].id: two injects share the id 'b'"),
    "reopening of no closure": (GRID, [{"id": "o", "at": 5, "kind": "road_reopening", "closure": "bridge"}],
                                "drill.injects[0].closure: no road_closure inject with id 'bridge'"),
    "shelter without citizens": (TRACE, [{"id": "s", "at": 5, "kind": "shelter_opening", "shelter": "gym"}],
                                 "drill.injects[0]: a shelter_opening inject needs the citizens component"),
    "unknown kind": (TRACE, [{"id": "q", "at": 5, "kind": "earthquake"}],
                     "drill.injects[0]: unknown 'kind' 'earthquake'"),
    "until before at": (TRACE, [{**BREAK, "until": 20}],
                        "drill.injects[0].until: until (20 min) must come after"),
    "unknown policy": (TRACE, [{"id": "p", "at": 5, "kind": "policy_switch", "dispatch": "fastest"}],
                       "drill.injects[0].dispatch: unknown"),
}


def _write(tmp_path, base, injects, name="drill.yaml"):
    d = copy.deepcopy(base)
    d["drill"] = {"background": False, "injects": injects}
    path = tmp_path / name
    path.write_text(json.dumps(d), encoding="utf-8")   # JSON is YAML
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_drill_is_one_line_and_overwrites_nothing(tmp_path, capsys, case):
    base, injects, expected = CASES[case]
    fine = (incident("ok", 5) if base is TRACE else
            {"id": "ok", "at": 5, "kind": "incident", "type": "fire", "district": "city"})
    good = _write(tmp_path, base, [fine], "good.yaml")
    out = tmp_path / "out"
    assert main(["run", str(good), "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = _write(tmp_path, base, injects)
    capsys.readouterr()
    for argv in (["scenario", "check", str(bad)], ["run", str(bad), "--out", str(out), "--force"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"anjeon: error: {bad}: "), err
        assert expected in err, err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

"""Drill road closures on an imported OpenStreetMap geography (the small OSM file of tests/osm).

The imported network has four nodes: A (-0.28, 0), C (0.17, 0), D (0.17, 0.22)
and the node south of the street, S (0.06, -0.22). The station snaps to C; the
engine (speed factor 1.1) drives C -> A along Main street (0.4485 min at
speed factor 1). Closing Main street both ways at minute 30 sends the fire
of minute 60 round by C -> D -> S -> A; cutting A off altogether (an area
closure around it) makes the fire of minute 90 wait until the street reopens.
"""

from __future__ import annotations

import json

import pytest
import yaml

import scenarios
import sim
from tests.drills.conftest import events
from tests.osm.conftest import osm_xml

pytest.importorskip("osmium")

A, C = [-0.2776, 0.0], [0.1665, 0.0]


@pytest.fixture
def osm_drill(tmp_path):
    from scenarios.osmimport import import_osm

    small_osm = tmp_path / "small.osm"
    small_osm.write_text(osm_xml(), encoding="utf-8")
    import_osm(str(small_osm), tmp_path / "small.yaml")
    doc = yaml.safe_load((tmp_path / "small.yaml").read_text(encoding="utf-8"))
    doc["time"] = {"horizon": 180}
    district = next(iter(doc["districts"]))
    fire = {"kind": "incident", "type": "fire", "district": district, "location": A}
    doc["incident_types"]["fire"]["on_scene"] = {"dist": "constant", "value": 10}
    doc["drill"] = {"background": False, "injects": [
        {**fire, "id": "f0", "at": 0},
        {"id": "main", "at": 30, "kind": "road_closure", "link": {"from": C, "to": A, "both_ways": True}},
        {**fire, "id": "f60", "at": 60},
        {"id": "main-open", "at": 80, "kind": "road_reopening", "closure": "main"},
        {"id": "flood", "at": 85, "until": 120, "kind": "road_closure",
         "area": {"centre": A, "radius_km": 0.05}},
        {**fire, "id": "f90", "at": 90}]}
    return scenarios.from_dict(doc, source=str(tmp_path / "small.yaml"), base_dir=tmp_path)


def test_road_closures_change_routes_and_cut_off_scenes_on_an_osm_network(osm_drill):
    world = sim.compile(osm_drill)
    net = world.geo.net
    a, c, d, s = (int(net.snap([p])[0]) for p in (A, C, [0.1665, 0.2228], [0.0555, -0.2228]))
    direct = net.time(c, a)
    detour = net.time(c, d) + net.time(d, s) + net.time(s, a)
    r = sim.run(osm_drill)
    a_rows = r.assignments.sort_values("incident_id")
    assert a_rows["travel_min"].tolist() == pytest.approx([direct / 1.1, detour / 1.1, direct / 1.1])
    # the third fire is cut off from 90 (the area closure around A) until 120, then goes
    assert a_rows["t_dispatch_min"].tolist()[2] == 120.0
    ev = r.events
    cut = ev[ev["kind"].astype(str) == "incident_unreachable"]
    assert cut["t_min"].tolist() == [90.0]
    assert json.loads(cut["detail"].iloc[0]) == {"waiting_for": {"engine": 1}}
    changed = [t for kind, t, _, _ in events(r) if kind == "road_changed"]
    assert changed == [30.0, 80.0, 85.0, 120.0]

"""A small OSM file written by the tests: streets of known length, one-way streets, a bridge.

Layout (longitude, latitude; node ids in brackets)::

    [4] D ------------- (bridge, 30 mph, crosses A-C without meeting it)
     ^ \\
     |   \\
  [1] A --[10]-- [2] B ------x------ [3] C --> [8] (one-way away from C: a dead end, dropped)
     |   primary, 60 km/h, two-way     |
     |                                 +--> D: residential, one-way C -> D, no maxspeed (30)
    [7] ---- secondary, no maxspeed (50), A <-> 7; the bridge runs 7 <-> D

A footway from A to D is not drivable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NODES = {1: (24.900, 60.170), 10: (24.902, 60.1702), 2: (24.904, 60.170), 3: (24.908, 60.170),
         4: (24.908, 60.172), 7: (24.906, 60.168), 8: (24.910, 60.170),
         20: (24.905, 60.1705)}  # a fire station (a node of no way)
WAYS = {
    100: ([1, 10, 2, 3], {"highway": "primary", "maxspeed": "60", "name": "Main street"}),
    101: ([3, 4], {"highway": "residential", "oneway": "yes"}),
    102: ([4, 7], {"highway": "secondary", "bridge": "yes", "layer": "1", "maxspeed": "30 mph"}),
    103: ([7, 1], {"highway": "secondary"}),
    104: ([1, 4], {"highway": "footway"}),
    105: ([8, 3], {"highway": "residential", "oneway": "-1"}),
}


def osm_xml(nodes=NODES, ways=WAYS, places=True) -> str:
    """The OSM XML text of ``nodes`` and ``ways`` (and a tagged fire station node)."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='anjeon tests'>"]
    for nid, (lon, lat) in sorted(nodes.items()):
        if nid == 20 and places:
            lines.append(f"  <node id='{nid}' version='1' lat='{lat}' lon='{lon}'>"
                         "<tag k='amenity' v='fire_station'/><tag k='name' v='Station 20'/></node>")
        elif nid != 20:
            lines.append(f"  <node id='{nid}' version='1' lat='{lat}' lon='{lon}'/>")
    for wid, (refs, tags) in sorted(ways.items()):
        lines.append(f"  <way id='{wid}' version='1'>")
        lines += [f"    <nd ref='{r}'/>" for r in refs]
        lines += [f"    <tag k='{k}' v='{v}'/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


@pytest.fixture
def small_osm(tmp_path: Path) -> Path:
    """The small OSM file (XML)."""
    path = tmp_path / "small.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    return path

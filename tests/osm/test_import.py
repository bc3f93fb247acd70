"""Import of a small OSM file: nodes, links, one-way streets, speeds and travel times by hand."""

from __future__ import annotations

import bz2
import itertools

import numpy as np
import osmium
import pytest
from pyproj import Geod
from scipy.sparse.csgraph import dijkstra

from sim.osm.graph import build_network, maxspeed_kmh
from sim.osm.read import oneway, read
from tests.osm.conftest import NODES

GEOD = Geod(ellps="WGS84")


def km(*ids: int) -> float:
    """Geodesic length of the polyline through nodes ``ids``, km (computed here, independently)."""
    total = 0.0
    for a, b in itertools.pairwise(ids):
        (lo1, la1), (lo2, la2) = NODES[a], NODES[b]
        total += GEOD.inv(lo1, la1, lo2, la2)[2] / 1000.0
    return total


def minutes(length_km: float, kmh: float) -> float:
    return 60.0 * length_km / kmh


def links(net) -> dict[tuple[int, int], float]:
    """Directed links of an imported network by OSM node ids -> minutes."""
    ids = net.osm_id
    return {(int(ids[t]), int(ids[h])): float(m) for t, h, m in zip(net.tail, net.head, net.minutes,
                                                                     strict=True)}


def test_nodes_are_junctions_and_ends_and_the_dead_end_is_dropped(small_osm):
    net = build_network(read(small_osm))
    # 10 and 2 are shape points of the main street (folded into one link), 8 can be reached but not
    # left (dropped), the bridge crosses the main street without a junction node
    assert net.osm_id.tolist() == [1, 3, 4, 7]
    assert net.dropped["road_nodes_dropped"] == 1 and net.dropped["road_links_dropped"] == 1
    assert net.dropped["osm_ways"] == 5  # the footway is not drivable


def test_links_one_way_streets_and_speeds_by_hand(small_osm):
    got = links(build_network(read(small_osm)))
    expected = {
        (1, 3): minutes(km(1, 10, 2, 3), 60), (3, 1): minutes(km(1, 10, 2, 3), 60),  # shape points summed
        (3, 4): minutes(km(3, 4), 30),                      # one-way, residential default 30 km/h
        (4, 7): minutes(km(4, 7), 30 * 1.609344), (7, 4): minutes(km(4, 7), 30 * 1.609344),  # the bridge
        (7, 1): minutes(km(7, 1), 50), (1, 7): minutes(km(7, 1), 50),  # secondary default 50 km/h
    }
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key


def test_travel_times_by_hand(small_osm):
    net = build_network(read(small_osm))
    road = net.road_network()
    i = {int(o): k for k, o in enumerate(net.osm_id)}
    dist = dijkstra(road.graph, directed=True)
    one_way = minutes(km(3, 4), 30)
    bridge = minutes(km(4, 7), 30 * 1.609344)
    back = minutes(km(7, 1), 50)
    main = minutes(km(1, 10, 2, 3), 60)
    # A -> D: along the main street and up the one-way street, or round by 7 and over the bridge
    assert dist[i[1], i[4]] == pytest.approx(min(main + one_way, back + bridge), rel=1e-12)
    # D -> C: the one-way street cannot be driven backwards: over the bridge, to A, along the main street
    assert dist[i[4], i[3]] == pytest.approx(bridge + back + main, rel=1e-12)
    road.prepare_all()
    assert road.time(i[4], i[3]) == pytest.approx(bridge + back + main, rel=1e-6)  # float32 rows


def test_xml_bz2_and_pbf_give_the_same_network(small_osm, tmp_path):
    (tmp_path / "small.osm.bz2").write_bytes(bz2.compress(small_osm.read_bytes()))
    with osmium.SimpleWriter(str(tmp_path / "small.osm.pbf")) as writer:
        for obj in osmium.FileProcessor(str(small_osm)):
            writer.add(obj)
    nets = [build_network(read(p), (24.9, 60.17)) for p in
            (small_osm, tmp_path / "small.osm.bz2", tmp_path / "small.osm.pbf")]
    for other in nets[1:]:
        assert other.osm_id.tolist() == nets[0].osm_id.tolist()
        np.testing.assert_allclose(other.xy, nets[0].xy, atol=1e-9)  # pbf stores 1e-7 degree
        np.testing.assert_allclose(other.minutes, nets[0].minutes, rtol=1e-6)


def test_the_tagged_fire_station_is_read(small_osm):
    places = read(small_osm).places
    assert [(p.kind, p.name, p.osm) for p in places] == [("fire_station", "Station 20", "node/20")]


@pytest.mark.parametrize(("text", "highway", "kmh"), [
    ("50", "primary", 50.0), ("30 mph", "primary", 30 * 1.609344), ("FI:urban", "primary", 50.0),
    ("DE:rural", "primary", 100.0), ("KR:urban", "primary", 50.0), ("none", "motorway", 100.0),
    ("signals", "secondary", 50.0), ("50;30", "primary", 50.0), ("walk", "living_street", 7.0),
    (None, "residential", 30.0), ("", "service", 20.0), ("40 km/h", "tertiary", 40.0),
])
def test_maxspeed(text, highway, kmh):
    assert maxspeed_kmh(text, highway) == pytest.approx(kmh)


@pytest.mark.parametrize(("tags", "highway", "direction"), [
    ({"oneway": "yes"}, "residential", 1), ({"oneway": "true"}, "residential", 1),
    ({"oneway": "1"}, "residential", 1), ({"oneway": "-1"}, "residential", -1),
    ({"junction": "roundabout"}, "primary", 1), ({}, "motorway", 1), ({"oneway": "no"}, "motorway", 0),
    ({}, "primary", 0), ({"oneway": "reversible"}, "primary", 0),
])
def test_one_way(tags, highway, direction):
    assert oneway(tags, highway) == direction


def test_class_speeds_override_the_defaults(small_osm):
    got = links(build_network(read(small_osm), class_speeds={"residential": 15.0}))
    assert got[(3, 4)] == pytest.approx(minutes(km(3, 4), 15.0), rel=1e-12)


def test_the_scenario_hash_follows_the_file_content(small_osm):
    doc = {"kind": "osm", "file": small_osm.name}
    from scenarios.geography import OsmRoads

    first = OsmRoads.model_validate(doc, context={"base_dir": str(small_osm.parent)})
    small_osm.write_text(small_osm.read_text().replace("Main street", "High street"), encoding="utf-8")
    second = OsmRoads.model_validate(doc, context={"base_dir": str(small_osm.parent)})
    assert first.sha256 != second.sha256 and len(first.sha256) == 64
    with pytest.raises(ValueError, match="differs from the sha256"):
        OsmRoads.model_validate({**doc, "sha256": first.sha256}, context={"base_dir": str(small_osm.parent)})

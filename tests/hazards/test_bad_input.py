"""Bad hazard sections are one clean line naming the file and the field, through the real command line.

A terrain array of the wrong shape, negative rainfall and a release outside
the map: ``anjeon scenario check FILE`` and ``anjeon run FILE --out DIR``
each exit with code 2, one line on standard error, nothing written.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.cli.conftest import assert_one_line_naming, check_and_run
from tests.hazards.conftest import GRID, town
from tests.hazards.test_flood_component import FLOOD
from tests.hazards.test_plume_component import PLUME

CASES = {
    "terrain_wrong_shape": (
        town({"flood": {**FLOOD, "terrain": {"file": "terrain.npy"}}}),
        "components.flood.terrain.file", ("the terrain array has shape [4, 5], the grid is [9, 9]",)),
    "terrain_pickled": (
        town({"flood": {**FLOOD, "terrain": {"file": "pickled.npy"}}}),
        "components.flood.terrain.file", ("pickled objects are refused",)),
    "negative_rainfall": (
        town({"flood": {**FLOOD, "rain": [{"from": 0, "to": 60, "mm_per_hr": -5}]}}),
        "components.flood.rain.0.mm_per_hr", ("greater than or equal to 0",)),
    "release_outside_the_map": (
        town({"plume": {**PLUME, "release": {**PLUME["release"], "xy_km": [40.0, 2.0]}}}),
        "components.plume.release.xy_km", ("[40.0, 2.0] is outside the map",)),
    "quake_unknown_incident_type": (
        town({"quake": {"at": 0, "epicentre_km": [1, 1], "magnitude": 6, "grid": GRID,
                        "incident_type": "quakes",
                        "classes": [{"name": "m", "share": 1, "medians_g": [0.1, 0.2, 0.3, 0.4],
                                     "beta": 0.6}]}}),
        "components.quake.incident_type", ("unknown incident type 'quakes'",)),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    work = tmp_path_factory.mktemp("bad_hazards")
    np.save(work / "terrain.npy", np.zeros((4, 5)))
    np.save(work / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return work, check_and_run(work, CASES)


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_line_naming_file_and_field(outcomes, name, command):
    work, procs = outcomes
    assert_one_line_naming(work, CASES, procs, name, command)


def test_a_terrain_file_of_the_right_shape_is_read(tmp_path):
    import scenarios
    import sim

    z = np.tile(np.linspace(20.0, 0.0, 9)[:, None], (1, 9)).T.copy()     # falls 2.5 m a column to the east
    np.save(tmp_path / "terrain.npy", z)
    path = tmp_path / "town.yaml"
    import yaml

    path.write_text(yaml.safe_dump(town({"flood": {**FLOOD, "incident_type": None,
                                                     "terrain": {"file": "terrain.npy"}}})), encoding="utf-8")
    result = sim.run(scenarios.load(path), seed=1)
    table = result.extra["flood"]
    assert table["wet_cells"].iloc[-1] == 9                                # the eastern column holds it all

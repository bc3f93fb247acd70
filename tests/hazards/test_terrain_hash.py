"""A flood terrain file enters the scenario hash by its content: a changed file changes the hash,
a stale ``sha256`` is refused, and ``anjeon replay`` of a run refuses once the file has changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml

import scenarios
import sim.cli
from sim.errors import InputError
from tests.hazards.conftest import town
from tests.hazards.test_flood_component import FLOOD

pytestmark = pytest.mark.nojit

#: a plain falling terrain of the test grid (9 x 9 cells)
TERRAIN = np.tile(np.linspace(20.0, 0.0, 9)[:, None], (1, 9)).T.copy()


def _scenario(folder: Path, terrain: dict | None = None) -> Path:
    np.save(folder / "terrain.npy", TERRAIN)
    path = folder / "town.yaml"
    flood = {**FLOOD, "incident_type": None, "terrain": terrain or {"file": "terrain.npy"}}
    doc = town({"flood": flood}, time={"horizon": "2 h"})
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_the_hash_follows_the_terrain_file_content(tmp_path):
    path = _scenario(tmp_path)
    first = scenarios.load(path)
    terrain = first.components["flood"]["terrain"]
    assert terrain["sha256"] == hashlib.sha256((tmp_path / "terrain.npy").read_bytes()).hexdigest()
    assert terrain["file"] == str((tmp_path / "terrain.npy").resolve())     # found again by a replay
    assert scenarios.scenario_hash(scenarios.load(path)) == scenarios.scenario_hash(first)
    np.save(tmp_path / "terrain.npy", TERRAIN + 1.0)                        # same name, other heights
    assert scenarios.scenario_hash(scenarios.load(path)) != scenarios.scenario_hash(first)


def test_a_stale_sha256_is_one_line_naming_the_field(tmp_path):
    path = _scenario(tmp_path, {"file": "terrain.npy", "sha256": "0" * 64})
    with pytest.raises(InputError) as err:
        scenarios.load(path)
    assert err.value.path == "components.flood.terrain.sha256"
    assert "differs from the sha256" in str(err.value) and "\n" not in str(err.value)


def test_replay_refuses_once_the_terrain_file_changed(tmp_path, capsys):
    path = _scenario(tmp_path)
    out = tmp_path / "run"
    assert sim.cli.main(["run", str(path), "--quiet", "--out", str(out)]) == 0
    assert sim.cli.main(["replay", str(out)]) == 0                          # unchanged: identical
    capsys.readouterr()
    np.save(tmp_path / "terrain.npy", TERRAIN + 1.0)
    assert sim.cli.main(["replay", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "differs from the sha256" in err

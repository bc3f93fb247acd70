"""World cache on disk: a loaded World equals a compiled one; keys follow scenario and engine; bad files."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import numpy.testing as npt
import pytest

import scenarios
import sim
from sim import worldcache
from sim.geo import RoadGeo
from sim.world import World, compile_world
from sim.worldcache import cache_path, cached_world, engine_version

TABLES = ("incidents", "assignments", "units", "events")


@pytest.fixture(autouse=True)
def cache_env(tmp_path, monkeypatch):
    """Every test writes to a cache directory of its own."""
    folder = tmp_path / "worlds"
    monkeypatch.setenv(worldcache.ENV, str(folder))
    return folder


@pytest.fixture(scope="module")
def ansan():
    return scenarios.override(scenarios.load("ansan"), {"time.horizon": "2 d", "time.warmup": "6 h"})


def _no_compile(monkeypatch):
    def fail(_scenario):
        raise AssertionError("compiled although the cache holds this World")

    monkeypatch.setattr(worldcache, "compile_world", fail)


def _files(folder):
    return sorted(p.name for p in folder.glob("*.world.pickle"))


def _assert_same(a, b, where="world"):
    if isinstance(a, np.ndarray):
        npt.assert_array_equal(a, b, err_msg=where)
        assert a.dtype == b.dtype, where
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    else:
        assert a == b, where


def _assert_same_world(a: World, b: World) -> None:
    for f in dataclasses.fields(World):
        if f.name != "geo":
            _assert_same(getattr(a, f.name), getattr(b, f.name), f.name)
    assert isinstance(a.geo, RoadGeo) and isinstance(b.geo, RoadGeo)
    na, nb = a.geo.net, b.geo.net
    npt.assert_array_equal(na.xy, nb.xy)
    for part in ("data", "indices", "indptr"):
        npt.assert_array_equal(getattr(na.graph, part), getattr(nb.graph, part))
    npt.assert_array_equal(na.prepared, nb.prepared)
    npt.assert_array_equal(na.row_index, nb.row_index)
    assert na._n_rows == nb._n_rows > 0
    npt.assert_array_equal(na.rows[: na._n_rows], nb.rows[: nb._n_rows])


def test_a_cached_world_equals_a_fresh_one_and_answers_travel_alike(ansan, cache_env, monkeypatch):
    fresh = compile_world(ansan)
    first = cached_world(ansan)                       # compiled and written
    assert _files(cache_env) == [cache_path(scenarios.scenario_hash(ansan)).name]
    _no_compile(monkeypatch)
    loaded = cached_world(ansan)                      # read back
    assert loaded is not first
    for w in (first, loaded):
        _assert_same_world(fresh, w)
    rng = np.random.default_rng(15)
    nodes = rng.integers(0, fresh.geo.net.n_nodes, size=40)
    for dest in nodes[:5]:
        npt.assert_array_equal(fresh.geo.times_to(fresh.station_loc, int(dest)),
                               loaded.geo.times_to(loaded.station_loc, int(dest)))
    for a, b in zip(nodes[:20], nodes[20:], strict=True):
        assert fresh.geo.time(int(a), int(b)) == loaded.geo.time(int(a), int(b))
        for x, y in zip(fresh.geo.path(int(a), int(b)), loaded.geo.path(int(a), int(b)), strict=True):
            npt.assert_array_equal(x, y)
        assert fresh.geo.position(int(a), int(b), 3.0) == loaded.geo.position(int(a), int(b), 3.0)


def test_a_world_loaded_for_the_same_content_takes_the_callers_source(ansan, cache_env):
    cached_world(ansan)
    copy = scenarios.from_dict(ansan.model_dump(mode="python", by_alias=True), source="elsewhere.yaml")
    assert cached_world(copy).source == "elsewhere.yaml"


def test_a_changed_scenario_gets_a_new_key(ansan, cache_env):
    other = scenarios.override(ansan, {"fleets.Singil.ambulance": 3})
    assert scenarios.scenario_hash(other) != scenarios.scenario_hash(ansan)
    assert cache_path(scenarios.scenario_hash(other)) != cache_path(scenarios.scenario_hash(ansan))
    cached_world(ansan)
    w = cached_world(other)
    assert len(_files(cache_env)) == 2
    assert w.n_units == compile_world(ansan).n_units + 1


def test_a_changed_engine_source_gets_a_new_key(ansan, cache_env, tmp_path, monkeypatch):
    pkg = tmp_path / "src" / "fake_engine_part"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setattr(worldcache, "_PACKAGES", (*worldcache._PACKAGES, "fake_engine_part"))
    engine_version.cache_clear()
    try:
        before = engine_version()
        path_before = cache_path(scenarios.scenario_hash(ansan))
        cached_world(ansan)
        (pkg / "__init__.py").write_text("X = 2  # edited\n")
        engine_version.cache_clear()
        after = engine_version()
        assert after != before
        assert cache_path(scenarios.scenario_hash(ansan)) != path_before
        cached_world(ansan)                           # not the old file: compiled and written anew
        assert len(_files(cache_env)) == 2
    finally:
        engine_version.cache_clear()


def test_a_file_renamed_to_another_key_is_not_used(ansan, cache_env):
    other = scenarios.override(ansan, {"fleets.Singil.ambulance": 3})
    cached_world(ansan)
    src = cache_path(scenarios.scenario_hash(ansan))
    src.rename(cache_path(scenarios.scenario_hash(other)))
    assert cached_world(other).n_units == compile_world(other).n_units


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", pickle.dumps(("something", "else"))])
def test_a_corrupt_cache_file_is_ignored_and_rewritten(ansan, cache_env, content):
    path = cache_path(scenarios.scenario_hash(ansan))
    cache_env.mkdir(mode=0o700)
    path.write_bytes(content)
    w = cached_world(ansan)
    _assert_same_world(compile_world(ansan), w)
    with path.open("rb") as fh:
        magic, version, sha, stored = pickle.load(fh)
    assert (magic, version, sha) == (worldcache._MAGIC, engine_version(), scenarios.scenario_hash(ansan))
    assert isinstance(stored, World)


def test_an_unwritable_cache_dir_is_skipped(ansan, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(worldcache.ENV, str(blocker / "worlds"))  # cannot be made, even by root
    _assert_same_world(compile_world(ansan), cached_world(ansan))
    assert not (blocker / "worlds").exists()


def test_a_directory_others_may_write_to_is_not_used(ansan, cache_env):
    cache_env.mkdir()
    cache_env.chmod(0o777)
    cached_world(ansan)
    assert _files(cache_env) == []


def test_the_directory_keeps_the_most_recently_used_worlds(ansan, cache_env, monkeypatch):
    monkeypatch.setattr(worldcache, "MAX_FILES", 1)
    cached_world(ansan)
    other = scenarios.override(ansan, {"fleets.Singil.ambulance": 3})
    cached_world(other)
    assert _files(cache_env) == [cache_path(scenarios.scenario_hash(other)).name]


def test_run_tables_with_a_cached_world_are_identical_to_a_fresh_one(ansan, cache_env, monkeypatch):
    fresh = sim.run(ansan, world=compile_world(ansan), seed=3)
    compiled = sim.run(ansan, seed=3)                 # compiles, writes the cache
    assert len(_files(cache_env)) == 1
    _no_compile(monkeypatch)
    loaded = sim.run(ansan, seed=3)                   # loads it
    for name in TABLES:
        assert len(getattr(fresh, name)) > 0
        assert getattr(fresh, name).equals(getattr(compiled, name)), name
        assert getattr(fresh, name).equals(getattr(loaded, name)), name


def test_the_directory_keeps_within_its_byte_budget(ansan, cache_env, monkeypatch):
    cached_world(ansan)
    size = cache_path(scenarios.scenario_hash(ansan)).stat().st_size
    monkeypatch.setattr(worldcache, "MAX_BYTES", int(1.5 * size))  # room for one World, not two
    other = scenarios.override(ansan, {"fleets.Singil.ambulance": 3})
    cached_world(other)
    assert _files(cache_env) == [cache_path(scenarios.scenario_hash(other)).name]

"""Random streams: addressed by (root seed, replication, stream, sub-stream), not by creation order."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pytest

from sim.rng import STREAMS, Streams, stream

ROOT = 20240611


def _draw(gen, n=8):
    return gen.random(n)


def test_same_key_gives_same_numbers():
    npt.assert_array_equal(_draw(stream(ROOT, 3, "arrivals")), _draw(stream(ROOT, 3, "arrivals")))
    npt.assert_array_equal(_draw(stream(ROOT, 3, "on_scene", 2)), _draw(stream(ROOT, 3, "on_scene", 2)))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((ROOT, 0, "arrivals"), (ROOT, 1, "arrivals")),            # replication
        ((ROOT, 0, "arrivals"), (ROOT, 0, "kinds")),               # stream
        ((ROOT, 0, "arrivals"), (ROOT + 1, 0, "arrivals")),        # root seed
        ((ROOT, 0, "on_scene", 0), (ROOT, 0, "on_scene", 1)),      # sub-stream
        ((ROOT, 0, "on_scene"), (ROOT, 0, "on_scene", 0)),         # a sub-stream is not its parent
    ],
)
def test_different_keys_give_different_numbers(a, b):
    assert not np.array_equal(_draw(stream(*a)), _draw(stream(*b)))


@pytest.mark.parametrize("name", STREAMS)
def test_spawn_key_equals_spawning_from_the_root(name):
    rep, k = 4, STREAMS.index(name)
    direct = np.random.SeedSequence(ROOT, spawn_key=(rep, k))
    spawned = np.random.SeedSequence(ROOT).spawn(rep + 1)[rep].spawn(k + 1)[k]
    npt.assert_array_equal(direct.generate_state(8), spawned.generate_state(8))
    npt.assert_array_equal(_draw(stream(ROOT, rep, name)), _draw(np.random.default_rng(spawned)))


def test_sub_stream_equals_one_more_spawn_level():
    k = STREAMS.index("handover")
    spawned = np.random.SeedSequence(ROOT).spawn(3)[2].spawn(k + 1)[k].spawn(6)[5]
    npt.assert_array_equal(_draw(stream(ROOT, 2, "handover", 5)), _draw(np.random.default_rng(spawned)))


def test_streams_do_not_depend_on_creation_order():
    forward, backward = Streams(ROOT, 2), Streams(ROOT, 2)
    names = ["arrivals", "kinds", "locations", "on_scene", "policy"]
    first = {n: _draw(forward(n)) for n in names}
    second = {n: _draw(backward(n)) for n in reversed(names)}
    for n in names:
        npt.assert_array_equal(first[n], second[n])
    # drawing heavily from one stream does not move another
    busy, quiet = Streams(ROOT, 2), Streams(ROOT, 2)
    busy("arrivals").random(10_000)
    npt.assert_array_equal(_draw(busy("kinds")), _draw(quiet("kinds")))


def test_streams_object_returns_the_same_generator_and_continues_it():
    s = Streams(ROOT, 1)
    assert s("arrivals") is s("arrivals")
    assert s("on_scene", 1) is s("on_scene", 1)
    assert s("on_scene", 1) is not s("on_scene", 2)
    a = s("arrivals").random(4)
    b = s("arrivals").random(4)
    npt.assert_array_equal(np.concatenate([a, b]), stream(ROOT, 1, "arrivals").random(8))


def test_streams_object_matches_function():
    s = Streams(ROOT, 5)
    npt.assert_array_equal(_draw(s("patience")), _draw(stream(ROOT, 5, "patience")))


def test_unknown_stream_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="no_such_stream"):
        stream(ROOT, 0, "no_such_stream")
    with pytest.raises(KeyError):
        Streams(ROOT, 0)("Arrivals")


@pytest.mark.parametrize(("root", "rep", "sub"), [(-1, 0, ()), (ROOT, -1, ()), (ROOT, 0, (-2,))])
def test_negative_seeds_and_keys_are_rejected(root, rep, sub):
    with pytest.raises(ValueError, match="non-negative"):
        stream(root, rep, "arrivals", *sub)


def test_stream_names_are_unique_and_start_with_the_original_order():
    assert len(set(STREAMS)) == len(STREAMS)
    # append-only: these positions are part of every stored result
    assert STREAMS[:5] == ("arrivals", "kinds", "priorities", "locations", "on_scene")

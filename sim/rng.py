"""Random streams: one SeedSequence, addressable by (replication, stream, sub-stream).

``SeedSequence(root, spawn_key=(rep, k, *sub))`` equals spawning from the root
in that order, so a stream does not depend on how many others were made
before it, on the worker count or on the executor. Two policies run with the
same root seed and replication therefore see the same incidents.
"""

from __future__ import annotations

import zlib

import numpy as np

#: Named streams. Append only: reordering would change every result.
STREAMS = (
    "arrivals",      # incident counts and times
    "kinds",         # district and incident type of each call
    "priorities",    # priority level of each call
    "locations",     # incident points
    "on_scene",      # on-scene durations (sub-stream per incident type)
    "transport",     # whether a patient is transported
    "handover",      # hospital handover durations (sub-stream per incident type)
    "call_answer",   # time to answer a call once a call-taker is free
    "call_process",  # call processing and dispatch decision time
    "patience",      # how long a caller waits before hanging up
    "scripted",      # draws for scripted incidents' unspecified fields
    "agents",        # mesa.Model's own generator
    "policy",        # randomised policies (tie breaks, sampling)
)
_INDEX = {name: k for k, name in enumerate(STREAMS)}
#: Spawn-key offset of components' named streams (above any index of :data:`STREAMS`).
COMPONENT_BASE = 1 << 16


def stream(root_seed: int, replication: int, name: str, *sub: int) -> np.random.Generator:
    """Return the generator of stream ``name`` (and sub-stream ``sub``) for a replication.

    Parameters
    ----------
    root_seed : int
        Non-negative root seed of the run.
    replication : int
        Non-negative replication number.
    name : str
        One of :data:`STREAMS`.
    *sub : int
        Optional sub-stream keys (for example an incident type index).

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    KeyError
        If ``name`` is not a known stream.
    ValueError
        If a seed or key is negative.
    """
    if name not in _INDEX:
        raise KeyError(f"unknown random stream {name!r}; known: {', '.join(STREAMS)}")
    key = (replication, _INDEX[name], *sub)
    if root_seed < 0 or min(key) < 0:
        raise ValueError(f"seeds and replication numbers must be non-negative, got {root_seed}, {key}")
    return np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=key))


class Streams:
    """The streams of one replication, made on first use.

    Parameters
    ----------
    root_seed, replication : int
        As for :func:`stream`.
    """

    def __init__(self, root_seed: int, replication: int):
        self.root_seed = int(root_seed)
        self.replication = int(replication)
        self._made: dict[tuple, np.random.Generator] = {}

    def named(self, name: str, *sub: int) -> np.random.Generator:
        """Generator of a component's own stream ``name`` (any text, not one of :data:`STREAMS`).

        Its spawn key is ``(replication, COMPONENT_BASE + crc32(name), *sub)``, so a
        component's stream depends on its name only: adding a component never
        moves the numbers of another stream.
        """
        key = ("named", name, *sub)
        gen = self._made.get(key)
        if gen is None:
            index = COMPONENT_BASE + zlib.crc32(name.encode())
            seq = np.random.SeedSequence(self.root_seed, spawn_key=(self.replication, index, *sub))
            gen = self._made[key] = np.random.default_rng(seq)
        return gen

    def __call__(self, name: str, *sub: int) -> np.random.Generator:
        """Generator of stream ``name`` / ``sub`` (the same object on every call)."""
        key = (name, *sub)
        gen = self._made.get(key)
        if gen is None:
            gen = self._made[key] = stream(self.root_seed, self.replication, name, *sub)
        return gen

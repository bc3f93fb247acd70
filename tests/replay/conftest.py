"""A small road-network run (ring_city with a road closure and a breakdown) and its recorded trips."""

from pathlib import Path

import pytest

import sim
from sim.replay import TripRecorder, replay

RING = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "ring_city_disruptions.yaml"


@pytest.fixture(scope="session")
def ring_run(tmp_path_factory) -> Path:
    """Three days of ring_city_disruptions (the avenue closed on day 2, 08:00-20:00)."""
    return sim.run(str(RING), seed=3, days=3).write(tmp_path_factory.mktemp("ring") / "run")


@pytest.fixture(scope="session")
def ring_trips(ring_run):
    """(Replay, TripRecorder) of ``ring_run``."""
    recorder = TripRecorder()
    done = replay(ring_run, probe=recorder)
    return done, recorder

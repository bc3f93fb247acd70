"""Common random numbers: the incident stream depends on scenario, seed and replication only.

Two policies run with the same seed and replication must see the same
incidents (times, places, types, priorities and per-incident service
draws), while their outcomes differ; another replication draws another
stream.
"""

from __future__ import annotations

import pandas as pd
import pytest

import scenarios
import sim

pytestmark = pytest.mark.nojit

INPUTS = ["incident_id", "t_call_min", "kind", "district", "priority", "x_km", "y_km", "location",
          "on_scene_min", "transport", "handover_min", "answer_min", "processing_min", "target_min"]
OUTCOMES = ["t_answer_min", "t_dispatch_min", "t_first_arrival_min", "t_clear_min", "status"]
DAYS = 2


@pytest.fixture(scope="module")
def ansan():
    return scenarios.load("ansan")


@pytest.fixture(scope="module")
def runs(ansan):
    return {(policy, rep): sim.run(ansan, policy=policy, seed=5, replication=rep, days=DAYS)
            for policy, rep in (("nearest", 0), ("district_first", 0), ("nearest", 1))}


def test_policies_see_the_same_incidents(runs):
    a, b = runs["nearest", 0].incidents, runs["district_first", 0].incidents
    assert len(a) > 100
    pd.testing.assert_frame_equal(a[INPUTS], b[INPUTS])


def test_policies_differ_in_outcomes(runs):
    a, b = runs["nearest", 0], runs["district_first", 0]
    assert not a.incidents[OUTCOMES].equals(b.incidents[OUTCOMES])
    left = a.assignments.sort_values(["incident_id", "t_dispatch_min"])["unit_id"].astype(str).tolist()
    right = b.assignments.sort_values(["incident_id", "t_dispatch_min"])["unit_id"].astype(str).tolist()
    assert left != right


def test_another_replication_draws_other_incidents(runs):
    a, c = runs["nearest", 0].incidents, runs["nearest", 1].incidents
    assert not a[INPUTS].equals(c[INPUTS])
    n = min(len(a), len(c))
    assert (a["t_call_min"].to_numpy()[:n] != c["t_call_min"].to_numpy()[:n]).mean() > 0.9
    assert (a["on_scene_min"].to_numpy()[:n] != c["on_scene_min"].to_numpy()[:n]).mean() > 0.9


def test_another_seed_draws_other_incidents(ansan, runs):
    other = sim.run(ansan, policy="nearest", seed=6, replication=0, days=DAYS).incidents
    assert not other[INPUTS].equals(runs["nearest", 0].incidents[INPUTS])

"""Prediction and pre-positioning (#11 item 5): a forecast learned from the past only, and its effect.

The hot spot: on the plane world of conftest.py, calls come only from East
(no station; its centre is 10 km from the station in West), only between
08:00 and 12:00. After a day of history the forecast expects them and an
idle ambulance waits in East before 08:00.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.prepositioning import Forecaster, Prepositioning
from tests.resources.conftest import figures, run

pytestmark = pytest.mark.nojit

MORNING = [0.0] * 8 + [1.0] * 4 + [0.0] * 12


def _hot_spot(world: dict, days: int = 6) -> dict:
    world["time"] = {"horizon": f"{days} d", "warmup": "1 d", "start": "2026-05-04T00:00:00"}
    world["demand"] = {"rates_per_hr": {"East": {"medical": 0.25}}, "profile": {"time_of_day": MORNING}}
    world["fleets"]["SW"] = {"ambulance": 3, "engine": 1}
    return world


def _section(**extra) -> dict:
    return {"capability": "ambulance", "every": "30 min", "horizon": "1 h", "min_expected": 0.4,
            "calls_per_unit": 1.5, "learn": "1 d", **extra}


def test_prepositioning_lowers_mean_response_at_a_predictable_hot_spot(world):
    d = _hot_spot(world)
    d["components"] = {"prepositioning": _section(enabled=False)}
    off = run(d)
    d["components"] = {"prepositioning": _section()}
    on = run(d)
    measured = lambda r: r.incidents[~r.incidents["in_warmup"]]["response_min"]  # noqa: E731
    assert off.incidents["t_call_min"].tolist() == on.incidents["t_call_min"].tolist()
    assert measured(on).mean() < 0.75 * measured(off).mean()  # 6.3 against 9.8 min (seed 1)
    fig = figures(on, "prepositioning")
    assert fig["moves_ahead"] >= 5 and fig["moved_back"] >= 4
    moves = on.extra["prepositions"]
    ahead = moves[moves["reason"] == "ahead"]
    assert (ahead["district"] == "East").all()
    hour = (ahead["t_min"] % 1440) / 60
    assert ((hour >= 7) & (hour < 12)).all()  # ahead of and during the morning calls only
    assert figures(off, "prepositioning") == {"moves_ahead": 0, "moved_back": 0,
                                              "calls_learned": fig["calls_learned"]}


def test_the_forecast_reads_no_call_after_its_time(world, monkeypatch):
    seen: list[tuple[float, float]] = []
    observe = Forecaster.observe

    def spy(self, t_call, district, x_km, y_km):
        seen.append((t_call, self.now))
        observe(self, t_call, district, x_km, y_km)

    monkeypatch.setattr(Forecaster, "observe", spy)
    d = _hot_spot(world, days=3)
    d["components"] = {"prepositioning": _section()}
    result = run(d)
    t_call = np.array([t for t, _ in seen])
    assert len(seen) > 15 and all(t <= now for t, now in seen)
    # every call up to the last look was learned once, in call order
    last = result.extra["forecast"]["t_min"].max()
    calls = result.incidents["t_call_min"]
    np.testing.assert_array_equal(t_call, np.sort(calls[calls <= last].to_numpy()))
    # and what is forecast up to a time does not depend on calls after it
    d["incidents"] = [{"at": "2 d 9 h", "type": "medical", "district": "East", "location": [15, 5]}]
    later = run(d).extra["forecast"]
    before = result.extra["forecast"]
    cut = 2 * 1440 + 9 * 60
    a, b = before[before["t_min"] < cut], later[later["t_min"] < cut]
    assert len(a) > 50 and a.reset_index(drop=True).equals(b.reset_index(drop=True))
    assert not before[before["t_min"] > cut].reset_index(drop=True).equals(
        later[later["t_min"] > cut].reset_index(drop=True))


def test_the_forecaster_refuses_a_call_from_its_future_and_counts_by_clock_hour():
    f = Forecaster(2, offset_min=7 * 60)  # time 0 is 07:00
    f.advance(90.0)
    f.observe(30.0, 1, 3.0, 4.0)  # 07:30
    f.observe(70.0, 1, 5.0, 4.0)  # 08:10
    with pytest.raises(ValueError, match="after the forecaster's time"):
        f.observe(91.0, 0, 0.0, 0.0)
    exposure = f.exposure()
    assert exposure[7] == 60.0 and exposure[8] == 30.0 and exposure.sum() == 90.0
    # in the next 30 minutes (08:30-09:00): 08:00's rate, 1 call in 30 minutes
    np.testing.assert_allclose(f.expected(30.0), [0.0, 1.0])
    assert f.hot_spot(1) == (5.0, 4.0) and f.hot_spot(0) is None
    assert Prepositioning.Section is not None

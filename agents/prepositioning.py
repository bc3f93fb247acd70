"""Prediction and pre-positioning: move idle units ahead of the calls a forecast expects (#11).

A :class:`Forecaster` learns demand by district and clock hour from the
run's own history: the calls it has *observed*, never one after the time of
the forecast (it refuses a call from its future). Its rate for district
``d`` in clock hour ``h`` is the calls seen there in that hour so far over
the minutes of that hour elapsed so far (with ``smoothing``, shrunk towards
the district's share of the hour's calls over all districts); the calls
expected in the next
``horizon`` minutes are the rates integrated over the clock hours the
window covers. It also keeps the mean point of the calls of each district
and hour: where the next ones are likely to be.

Every ``every`` minutes (``model.every``), after ``learn`` minutes of
history, the component feeds the forecaster the calls received since its
last look and redistributes units of ``capability`` (a plan from the
forecast, not a reaction to busy units: move-up does that). A district
whose expected calls reach ``min_expected`` *wants* one unit posted in it
(in service, busy or not: a busy unit comes back to its post) per
``calls_per_unit`` expected calls, rounded up; below ``min_expected`` it
wants none. A district posted fewer units than it wants gets idle units
(at their post) from districts posted more than ``max(wanted, keep)``
(``keep`` counts only where there is a station): largest surplus first,
then fewest expected calls, then nearest. A moved unit waits at the
district's first station (``to: station``; the hot spot if it has none) or
at the mean point of the district's calls in the current clock hour
(``to: hot_spot``), through ``Fleet.relocate`` (logged ``unit_relocating``
and ``unit_available`` like move-up). It goes home once its district is
posted more than it wants, counting wants down to half of
``min_expected``, and it has stayed ``horizon`` minutes. No random
numbers.

Results: the ``prepositions`` table (``t_min``, ``unit_id``, ``from``,
``to``, ``district``, ``expected``, ``reason``: ahead / back), the
``forecast`` table (at each look, per district: ``t_min``, ``district``,
``expected``), and in run.json the moves made after the warm-up and the
calls learned (whole run).

Scenario section::

    components:
      prepositioning:
        capability: ambulance
        every: 30 min
        horizon: 1 h
        min_expected: 0.5
        calls_per_unit: 1.5
        smoothing: 2 h      # optional (default 0)
        keep: 1             # optional
        to: station         # or hot_spot
        learn: 1 d
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from agents.components import Component, register
from agents.responders import AT_STATION, OUT_OF_SERVICE
from scenarios.base import Duration, PositiveDuration
from sim.errors import InputError

AHEAD, BACK = "ahead", "back"


class Forecaster:
    """Calls by district and clock hour, learned only from calls already received.

    Lifecycle: :meth:`observe` each call once it has been received (its time
    at most the forecaster's clock), :meth:`expected` at the current time.

    Parameters
    ----------
    n_districts : int
    offset_min : float
        Minutes past midnight of the run's time 0 (clock hour of time t: ``(offset + t) // 60 % 24``).
    """

    def __init__(self, n_districts: int, offset_min: float, smoothing_min: float = 0.0):
        self.smoothing = float(smoothing_min)
        self.counts = np.zeros((n_districts, 24))
        self.sum_xy = np.zeros((n_districts, 24, 2))
        self.offset = float(offset_min)
        self.now = 0.0
        self.n_seen = 0

    def advance(self, now: float) -> None:
        """Move the forecaster's clock to ``now`` (never back). Mutates it."""
        if now < self.now:
            raise ValueError(f"the forecaster's clock cannot go back from {self.now} to {now}")
        self.now = float(now)

    def observe(self, t_call: float, district: int, x_km: float, y_km: float) -> None:
        """Learn one call received at ``t_call`` in ``district`` at (x, y) km. Mutates the counts.

        Raises
        ------
        ValueError
            If the call is after the forecaster's clock: a forecast never reads the future.
        """
        if t_call > self.now:
            raise ValueError(f"call at {t_call} min is after the forecaster's time {self.now} min")
        h = int((self.offset + t_call) // 60) % 24
        self.counts[district, h] += 1
        self.sum_xy[district, h] += (x_km, y_km)
        self.n_seen += 1

    def exposure(self) -> np.ndarray:
        """Minutes of each clock hour elapsed between time 0 and now, float64[24]."""
        out = np.zeros(24)
        t0, t1 = self.offset, self.offset + self.now
        days, _ = divmod(t1 - t0, 1440.0)
        out += 60.0 * days
        t = t0 + days * 1440.0
        while t < t1:
            h = int(t // 60) % 24
            end = min(t1, (t // 60 + 1) * 60)
            out[h] += end - t
            t = end
        return out

    def rates(self) -> np.ndarray:
        """Calls per minute by district and clock hour, float64[n_districts, 24].

        ``counts[d, h] / exposure[h]``, shrunk towards the district's share of all
        calls times the hour's rate over all districts: ``(counts[d, h] +
        a * share[d] * rate[h]) / (exposure[h] + a)`` with ``a`` the smoothing
        minutes (0: none). A district-hour seen only a few times borrows from
        the hour's pattern and the district's size.
        """
        exposure = self.exposure()
        if self.smoothing <= 0:
            return self.counts / np.maximum(exposure, 1e-9)[None, :]
        total = self.counts.sum()
        share = self.counts.sum(axis=1) / total if total else np.zeros(self.counts.shape[0])
        hour = self.counts.sum(axis=0) / np.maximum(exposure, 1e-9)
        a = self.smoothing
        return (self.counts + a * share[:, None] * hour[None, :]) / (exposure + a)[None, :]

    def expected(self, horizon_min: float) -> np.ndarray:
        """Calls expected per district in ``[now, now + horizon_min)``, float64[n_districts]."""
        rate = self.rates()
        out = np.zeros(self.counts.shape[0])
        t, t1 = self.offset + self.now, self.offset + self.now + horizon_min
        while t < t1:
            h = int(t // 60) % 24
            end = min(t1, (t // 60 + 1) * 60)
            out += rate[:, h] * (end - t)
            t = end
        return out

    def hot_spot(self, district: int) -> tuple[float, float] | None:
        """Mean point of the district's calls in the current clock hour (or over all hours); None if none."""
        h = int((self.offset + self.now) // 60) % 24
        for n, s in ((self.counts[district, h], self.sum_xy[district, h]),
                     (self.counts[district].sum(), self.sum_xy[district].sum(axis=0))):
            if n > 0:
                return float(s[0] / n), float(s[1] / n)
        return None


class PrepositioningSection(BaseModel):
    """The ``components.prepositioning`` section of a scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    #: the capability whose idle units are moved
    capability: str = Field(min_length=1)
    every: PositiveDuration = 30.0
    #: the window ahead the forecast looks at
    horizon: PositiveDuration = 60.0
    #: a district wants units only when it expects at least this many calls in the window
    min_expected: PositiveFloat = 0.5
    #: it then wants one unit serving from a post in it per this many expected calls (rounded up)
    calls_per_unit: PositiveFloat = 1.0
    #: minutes of an hour's exposure with which a district-hour's rate leans on the pooled one (0: none)
    smoothing: Duration = Field(default=0.0, ge=0)
    #: a district with a station never gives away units below ``keep`` posted there
    keep: int = Field(default=1, ge=0)
    #: where a moved unit waits: the district's first station (the hot spot if it has none), or
    #: the hot spot (the mean point of the district's calls in the current clock hour)
    to: Literal["station", "hot_spot"] = "station"
    #: minutes of history before the first move
    learn: Duration = Field(default=1440.0, ge=0)
    #: False: the forecast is kept, no unit moves (the baseline)
    enabled: bool = True


@register("prepositioning")
class Prepositioning(Component):
    """Moves idle units to where a forecast learned from the run's past expects calls.

    Lifecycle: built with the validated section -> :meth:`start` puts
    :meth:`decide` on the clock -> each look feeds the forecaster the calls
    received since the last, then moves units ahead and back -> tables and
    summary after the run.

    Parameters
    ----------
    model : agents.model.Simulation
    section : PrepositioningSection

    Raises
    ------
    InputError
        Unknown capability (``components.prepositioning.capability``), a map without km.
    """

    Section = PrepositioningSection

    @classmethod
    def check(cls, world: Any, section: PrepositioningSection, source: str | None) -> None:
        """The capability must be the World's; the map in km."""
        _check(world, section, source)

    def __init__(self, model: Any, section: PrepositioningSection):
        super().__init__(model, section)
        w = model.world
        self.cap = _check(w, section, w.source)
        t0 = w.start
        self.forecaster = Forecaster(len(w.district_names), t0.hour * 60 + t0.minute + t0.second / 60,
                                     float(section.smoothing))
        self.units = model.fleet.cap_units[self.cap].tolist()
        #: the district each unit serves from its post (its station's until moved)
        self.post_district = w.unit_district.astype(np.int64).tolist()
        self.moved_at = [0.0] * w.n_units  # when each unit was last moved
        self._next = 0  # the next of the stream's calls to observe
        self._raised = model.book.stream.n  # the next raised incident to observe
        self._spots: dict[tuple[float, float], int] = {}
        #: the location of each district's first station
        self.station_of: dict[int, int] = {}
        for d, loc in zip(w.station_district.tolist(), w.station_loc.tolist(), strict=True):
            self.station_of.setdefault(d, int(loc))
        self.keep = np.zeros(len(w.district_names), dtype=np.int64)
        self.keep[list(self.station_of)] = section.keep
        self.rows: list[tuple[float, int, int, int, int, float, str]] = []
        self.forecast_rows: list[tuple[float, int, float]] = []

    def start(self) -> None:
        """Put the look on the clock."""
        if self.units:
            self.model.every(float(self.section.every), self.decide)

    def observe_until_now(self) -> None:
        """Feed the forecaster every call received up to now (and none after). Mutates the forecaster."""
        m = self.model
        book, now, f = m.book, m.env.now, self.forecaster
        f.advance(now)
        s = book.stream
        stop = int(np.searchsorted(s.t_call, now, side="right"))
        for i in range(self._next, stop):
            f.observe(float(s.t_call[i]), int(s.district[i]), float(s.x_km[i]), float(s.y_km[i]))
        self._next = max(self._next, stop)
        raised = book.raised
        for j in range(self._raised - s.n, book.n - s.n):  # raised incidents are received when raised
            i = s.n + j
            f.observe(float(raised["t_call"][j]), int(book.district[i]), float(raised["x_km"][j]),
                      float(raised["y_km"][j]))
        self._raised = book.n

    def decide(self) -> None:
        """Learn, then move idle units ahead of expected calls and bring unneeded ones home."""
        self.observe_until_now()
        now = self.model.env.now
        expected = self.forecaster.expected(float(self.section.horizon))
        self.forecast_rows.extend((now, d, float(e)) for d, e in enumerate(expected.tolist()))
        if not self.section.enabled or now < self.section.learn:
            return
        self._ahead(expected)
        self._back(expected)

    def _idle(self) -> list[int]:
        fleet = self.model.fleet
        return [u for u in self.units if fleet.state[u] == AT_STATION and fleet.loc[u] == fleet.post[u]
                and fleet.eligible[u]]

    def _cover(self) -> np.ndarray:
        """Units of the capability posted in each district and in service (busy ones come back there)."""
        fleet = self.model.fleet
        cover = np.zeros(len(self.model.world.district_names), dtype=np.int64)
        for u in self.units:
            if fleet.state[u] != OUT_OF_SERVICE:
                cover[self.post_district[u]] += 1
        return cover

    def wanted(self, expected: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Units each district wants serving from a post in it: one per ``calls_per_unit`` expected calls.

        None below ``threshold`` (default ``min_expected``); int64[n_districts]. A district
        gives units away only above ``max(wanted, keep)`` (``keep`` where there is a station).
        """
        sec = self.section
        want = np.ceil(expected / sec.calls_per_unit - 1e-9).astype(np.int64)
        return np.where(expected >= (sec.min_expected if threshold is None else threshold), want, 0)

    def _ahead(self, expected: np.ndarray) -> None:
        """Move idle units from districts with more than they want to those short of it. Mutates the fleet.

        Short districts by expected calls (most first), one unit at a time; the
        unit comes from the district with the largest surplus, then the fewest
        expected calls, then the nearest to the district's hot spot.
        """
        cover, want = self._cover(), self.wanted(expected)
        hold = np.maximum(want, self.keep)
        moved = True
        while moved:
            moved = False
            for d in np.argsort(-expected, kind="stable").tolist():
                if cover[d] >= want[d]:
                    continue
                dest = self._destination(d)
                u = self._donor(d, dest, cover - hold, expected) if dest >= 0 else -1
                if u < 0:
                    continue
                cover[self.post_district[u]] -= 1
                cover[d] += 1
                self._move(u, dest, d, float(expected[d]), AHEAD)
                moved = True

    def _donor(self, d: int, dest: int, surplus: np.ndarray, expected: np.ndarray) -> int:
        """The idle unit to move to ``dest`` in district ``d`` (-1: none can be spared).

        Among idle units posted in other districts with a surplus: the largest
        surplus, then the fewest expected calls, then the quickest to ``dest``,
        then the lowest index.
        """
        fleet, at = self.model.fleet, self.post_district
        donors = [u for u in self._idle() if at[u] != d and surplus[at[u]] > 0]
        if not donors:
            return -1
        times = self.model.travel.times_to(np.array([fleet.post[u] for u in donors]), dest)
        rank = [(-surplus[at[u]], expected[at[u]], times[j], u) for j, u in enumerate(donors)]
        return int(min(rank)[3])

    def _back(self, expected: np.ndarray) -> None:
        """Send moved units home from districts that have more than they want. Mutates the fleet.

        Hysteresis: here a district wants units down to half of ``min_expected``, so that a
        forecast wavering about the threshold does not send units back and forth.
        """
        fleet, home_district = self.model.fleet, self.model.world.unit_district
        cover, want = self._cover(), self.wanted(expected, self.section.min_expected / 2)
        now, stay = self.model.env.now, float(self.section.horizon)
        for u in self._idle():
            d = self.post_district[u]
            if fleet.post[u] != fleet.home[u] and cover[d] > want[d] and now - self.moved_at[u] >= stay:
                cover[d] -= 1
                self._move(u, int(fleet.home[u]), int(home_district[u]), float(expected[d]), BACK)

    def _destination(self, d: int) -> int:
        """Where a unit moved to district ``d`` waits: its first station, or its hot spot (-1: none yet)."""
        if self.section.to == "station" and d in self.station_of:
            return self.station_of[d]
        spot = self.forecaster.hot_spot(d)
        return -1 if spot is None else self._location(spot)

    def _location(self, xy: tuple[float, float]) -> int:
        """The location of a point (rounded to 100 m, so that repeated looks reuse it)."""
        key = (round(xy[0], 1), round(xy[1], 1))
        loc = self._spots.get(key)
        if loc is None:
            loc = self._spots[key] = int(self.model.travel.add_points(np.array([key], dtype=np.float64))[0])
        return loc

    def _move(self, u: int, dest: int, d: int, expected: float, reason: str) -> None:
        fleet = self.model.fleet
        self.rows.append((self.model.env.now, u, int(fleet.post[u]), dest, d, expected, reason))
        self.post_district[u] = d
        self.moved_at[u] = self.model.env.now
        fleet.relocate(u, dest)

    # -- results ---------------------------------------------------------------------------
    def tables(self) -> dict[str, dict[str, Any]]:
        """``prepositions`` (one row per move) and ``forecast`` (expected calls per district at each look)."""
        m, rows = self.model, self.rows
        names, districts = m.world.unit_names, m.world.district_names
        f = self.forecast_rows
        return {"prepositions": {
            "t_min": np.array([r[0] for r in rows], dtype=np.float64),
            "unit_id": np.array([names[r[1]] for r in rows], dtype=object),
            "from": np.array([m.place_name(r[2]) for r in rows], dtype=object),
            "to": np.array([m.place_name(r[3]) for r in rows], dtype=object),
            "district": np.array([districts[r[4]] for r in rows], dtype=object),
            "expected": np.array([r[5] for r in rows], dtype=np.float64),
            "reason": np.array([r[6] for r in rows], dtype=object)},
            "forecast": {"t_min": np.array([r[0] for r in f], dtype=np.float64),
                         "district": np.array([districts[r[1]] for r in f], dtype=object),
                         "expected": np.array([r[2] for r in f], dtype=np.float64)}}

    def summary(self) -> dict[str, Any]:
        """Moves ahead and back, and the calls the forecaster learned from.

        ``moves_ahead`` and ``moved_back`` count the moves made in the measured window
        (from the warm-up to the end of the run, the window of the units' utilization in
        the sweep metrics); the ``prepositions`` table lists every move of the run.
        ``calls_learned`` is of the whole run: the forecaster learns from the warm-up's
        calls too.
        """
        warmup = self.model.world.warmup_min
        moves = [r[6] for r in self.rows if r[0] >= warmup]
        return {"moves_ahead": moves.count(AHEAD), "moved_back": moves.count(BACK),
                "calls_learned": self.forecaster.n_seen}


def _check(world: Any, section: PrepositioningSection, source: str | None) -> int:
    """The capability's index.

    Raises
    ------
    InputError
        Unknown capability, or a travel-time matrix (no points to move to).
    """
    if world.geo.kind == "matrix":
        raise InputError("needs a map in km (coordinates or roads), not a travel-time matrix", source,
                         "components.prepositioning")
    names = list(world.capability_names)
    if section.capability not in names:
        raise InputError(f"unknown capability {section.capability!r}; expected one of "
                         f"{', '.join(repr(n) for n in names)}", source,
                         "components.prepositioning.capability")
    return names.index(section.capability)


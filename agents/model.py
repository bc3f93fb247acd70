"""The simulation model: a mesa.Model that owns a simpy.Environment.

SimPy owns time. Mesa holds the agents (units, hospitals, the dispatch
centre) and the model-level random generator; ``model.step()`` is never
called. ``model.time`` follows ``env.now`` for Mesa tools that read it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import mesa
import numpy as np
import pandas as pd
import simpy

from agents.dispatch import DispatchCentre
from agents.hospitals import Hospital
from agents.incidents import STATUS_NAMES, IncidentBook
from agents.responders import BUSY, Fleet
from sim.demand import generate
from sim.eventlog import KINDS, DetailCache, EventKind, EventLog
from sim.gcpause import paused_gc
from sim.rng import Streams
from sim.rowbuffer import RowBuffer
from sim.world import TIERS, World

#: Fields of an assignment row, in the order units append them to ``Simulation.assignments``
#: (float64: ids and flags are exact). A row buffer rather than a tuple per row: rows live until
#: the end of the run, and a tuple each gave the cyclic collector tens of thousands of objects
#: to scan after the event loop (see benchmarks/engine_mmc.py).
ASSIGNMENT_FIELDS = ("incident", "unit", "t_dispatch", "t_arrive", "t_left", "t_free", "travel",
                     "hospital", "from_station")


#: Incident columns read off the event log: each incident's first event of the kind (see EventLog)
MILESTONES = {"t_answer_min": EventKind.CALL_ANSWERED, "t_dispatch_min": EventKind.UNIT_DISPATCHED,
              "t_first_arrival_min": EventKind.UNIT_ARRIVED, "t_clear_min": EventKind.INCIDENT_CLEARED}


class Simulation(mesa.Model):
    """One replication of a scenario under one dispatch policy.

    Lifecycle: build (draws the incident stream, creates agents and their
    processes) -> :meth:`run` once -> :meth:`tables`.

    Parameters
    ----------
    world : World
        The compiled scenario.
    policy : object with ``select(candidates, k)``
        The dispatch policy (see :mod:`agents.policies`).
    seed : int
        Root seed.
    replication : int
        Replication number; with the seed it names every random stream.
    until : float, optional
        End of the run in minutes (default: the scenario's horizon).
    log_events : bool
        Keep the event log (on by default; the tables need it).
    """

    def __init__(self, world: World, policy: Any, seed: int, replication: int = 0,
                 until: float | None = None, log_events: bool = True):
        self.streams = Streams(seed, replication)
        super().__init__(rng=self.streams("agents"))
        self.world = world
        self.seed, self.replication = int(seed), int(replication)
        self.until = float(world.horizon_min if until is None else until)
        self.env = simpy.Environment()
        self.detail = DetailCache()
        self.travel = world.geo.for_run()
        self.book = IncidentBook(generate(world, self.travel, self.streams), world.type_required)
        self.log = EventLog(log_events, tuple(MILESTONES.values()), self.book.stream.n)
        self.log.reserve(_expected_rows(self.book.stream.kind, world.type_required))
        #: finished assignments, one row of :data:`ASSIGNMENT_FIELDS` each
        self.assignments = RowBuffer(len(ASSIGNMENT_FIELDS))
        self.hospitals = [Hospital(self, h) for h in range(len(world.hospital_names))]
        self._nearest_hospital: dict[int, int] = {}
        self.fleet = Fleet(self)
        self.dispatch = DispatchCentre(self, policy)
        self._ran = False

    def compact(self) -> None:
        """Move the rows appended so far into numpy chunks (called every few thousand calls)."""
        self.log.compact()
        self.assignments.compact()

    def nearest_hospital(self, loc: int) -> int:
        """Index of the hospital with the shortest trip from ``loc``."""
        h = self._nearest_hospital.get(loc)
        if h is None:
            times = self.travel.times_from(loc, self.world.hospital_loc)
            h = self._nearest_hospital[loc] = int(np.argmin(times))
        return h

    def run(self) -> Simulation:
        """Run the event loop to ``until``. Mutates the model; call once."""
        if self._ran:
            raise RuntimeError("a Simulation runs once; build a new one for another run")
        self._ran = True
        try:
            with paused_gc():
                self.env.run(until=self.until)
        finally:
            _forget_agent_ids(self)  # no agent is created after the run
        self.time = self.env.now
        self.log.add(self.until, EventKind.RUN_END)
        return self

    # -- tables -------------------------------------------------------------------
    def tables(self) -> dict[str, dict[str, Any]]:
        """Columns of the incidents, assignments, units and events tables."""
        with paused_gc():
            assignments = self.assignments.array(self._unfinished_assignments())
            return {
                "incidents": self._incident_columns(),
                "assignments": self._assignment_columns(assignments),
                "units": self._unit_columns(assignments),
                "events": self._event_columns(),
            }

    def _incident_columns(self) -> dict[str, Any]:
        w, b, s = self.world, self.book, self.book.stream
        n = int(np.searchsorted(s.t_call, self.until, side="left"))
        cut = slice(0, n)
        i64 = np.int64
        milestones = {column: self.log.first_times(kind)[:n] for column, kind in MILESTONES.items()}
        return {
            "incident_id": np.arange(n),
            "kind": _coded(s.kind[cut], w.type_names),
            "district": _coded(s.district[cut], w.district_names),
            "priority": s.priority[cut],
            "x_km": s.x_km[cut], "y_km": s.y_km[cut],
            "t_call_min": s.t_call[cut],
            **milestones,  # t_answer_min, t_dispatch_min, t_first_arrival_min, t_clear_min
            "response_min": milestones["t_first_arrival_min"] - s.t_call[cut],
            "status": _coded(_from_list(b.status, np.int8, n), STATUS_NAMES),
            "target_min": s.target[cut],
            "in_warmup": s.t_call[cut] < w.warmup_min,
            "scripted": s.scripted[cut],
            "label": _label_column(s.label[cut], s.scripted[cut]),
            "location": s.loc[cut],
            "on_scene_min": s.on_scene[cut],
            "transport": s.transport[cut],
            "handover_min": s.handover[cut],
            "answer_min": s.answer[cut],
            "processing_min": s.processing[cut],
            "units_required": w.type_required[s.kind[cut]].sum(axis=1),
            "units_assigned": _from_list(b.n_assigned, i64, n),
            "shortfall": _from_list(b.shortfall, i64, n),
            "queued": _from_list(b.queued, np.bool_, n),
            "hospital": _coded(_from_list(b.hospital, i64, n), w.hospital_names),
        }

    def release(self) -> None:
        """Drop the run's large containers once its tables are built. Mutates the model.

        Mesa agents and SimPy processes reference the model in cycles that only
        the cyclic collector frees; emptying the big lists frees most memory at once.
        """
        self.log = EventLog(False)  # drops the first times too
        self.assignments = RowBuffer(len(ASSIGNMENT_FIELDS))
        if self.book is not None:
            self.book.clear()
        self.book = None
        self.dispatch.book = self.dispatch.log = None
        _forget_agent_ids(self)

    def _unfinished_assignments(self) -> list[tuple]:
        """Rows of the assignments still under way at the end (times not reached: NaN)."""
        return [(unit.job, u, unit.t_dispatch, unit.t_arrive, unit.t_left, math.nan, unit.travel, -1,
                 unit.from_station)
                for u, unit in enumerate(self.fleet.units) if self.fleet.state[u] == BUSY and unit.job >= 0]

    def _assignment_columns(self, a: np.ndarray) -> dict[str, Any]:
        w = self.world
        inc, unit = a[:, 0].astype(np.int64), a[:, 1].astype(np.int64)
        return {
            "incident_id": inc,
            "unit_id": _coded(unit, w.unit_names),
            "unit_kind": _coded(w.unit_type[unit], w.unit_type_names),
            "home_station": _coded(w.unit_station[unit], w.station_names),
            "home_district": _coded(w.unit_district[unit], w.district_names),
            "tier": _coded(w.unit_tier[unit], TIERS),
            "t_dispatch_min": a[:, 2],  # views: the DataFrame takes them as they are
            "t_arrive_min": a[:, 3],
            "t_clear_min": a[:, 4],
            "t_free_min": a[:, 5],
            "travel_min": a[:, 6],
            "hospital": _coded(a[:, 7].astype(np.int64), w.hospital_names),
            "mutual_aid": w.unit_district[unit] != self.book.stream.district[inc],
            "from_station": a[:, 8].astype(bool),
        }

    def _unit_columns(self, a: np.ndarray) -> dict[str, Any]:
        w = self.world
        lo, hi = w.warmup_min, self.until
        unit, t0, t1 = a[:, 1].astype(np.int64), a[:, 2], a[:, 5]
        end = np.minimum(np.where(np.isnan(t1), hi, t1), hi)
        busy = np.bincount(unit, np.maximum(0.0, end - np.maximum(t0, lo)), minlength=w.n_units)
        count = np.bincount(unit, (t0 >= lo).astype(np.int64), minlength=w.n_units).astype(np.int64)
        return {
            "unit_id": _coded(np.arange(w.n_units), w.unit_names),
            "kind": _coded(w.unit_type, w.unit_type_names),
            "station": _coded(w.unit_station, w.station_names),
            "district": _coded(w.unit_district, w.district_names),
            "tier": _coded(w.unit_tier, TIERS),
            "busy_min": busy,
            "n_assignments": count,
            "utilization": busy / (hi - lo) if hi > lo else np.full(w.n_units, np.nan),
        }

    def _event_columns(self) -> dict[str, Any]:
        a = self.log.arrays()
        inc = a["incident"]
        return {
            "t_min": a["t_min"],
            "seq": a["seq"],
            "kind": _coded(a["code"], [k.value for k in KINDS]),
            "incident_id": pd.arrays.IntegerArray(inc, inc < 0),
            "unit_id": _coded(a["unit"], self.world.unit_names),
            "detail": _coded(a["detail_code"], a["detail_text"]),
        }


def _forget_agent_ids(model: mesa.Model) -> None:
    """Drop Mesa's class-level reference to ``model``, which would keep the whole run alive.

    Mesa 3.3 numbers agents per model in ``mesa.Agent._ids``, a class attribute
    that holds every model ever built (mesa issue 3179, fixed in later Mesa
    releases); without this, each run's agents, processes and event log stay
    in memory until the process ends (about 20 MB per 60-day ``mmc`` run).
    Agents created after this call would be numbered from 1 again.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def _label_column(labels: tuple[str, ...], scripted: np.ndarray) -> pd.Categorical:
    """Incident labels as a categorical (sorted categories); only scripted incidents carry one.

    Coded from the few scripted rows instead of hashing every label (see benchmarks/engine_mmc.py).
    """
    idx = np.flatnonzero(scripted).tolist()
    used = {labels[i] for i in idx}
    if len(idx) < len(labels):
        used.add("")  # generated incidents have no label
    names = sorted(used)
    code_of = {name: c for c, name in enumerate(names)}
    codes = np.full(len(labels), code_of.get("", -1), dtype=np.int64)
    codes[idx] = [code_of[labels[i]] for i in idx]
    return _coded(codes, names)


def _expected_rows(kind: np.ndarray, required: np.ndarray) -> int:
    """A generous estimate of a run's log rows: a few per call, about six per unit sent.

    Only room is reserved: pages that no row reaches are never touched.
    """
    units = int(required.sum(axis=1)[kind].sum()) if len(kind) else 0
    return 4 * len(kind) + 6 * units + 64


def _from_list(values: list, dtype: Any, n: int) -> np.ndarray:
    """The first ``n`` items of a list of Python numbers as an array.

    ``np.fromiter`` converts item by item with fewer instructions than
    ``np.asarray`` (which first discovers the dtype and shape of every item)
    and needs no slice copy (see benchmarks/engine_mmc.py).
    """
    return np.fromiter(values, dtype=dtype, count=n)


def _coded(codes, names) -> pd.Categorical:
    """Categorical column from integer codes (-1 = missing) and category names."""
    codes = np.asarray(codes)
    if codes.dtype.kind not in "iu":  # lists of Python ints arrive as int64; floats need a cast
        codes = codes.astype(np.int64)
    return pd.Categorical.from_codes(codes, dtype=_categories(tuple(names)))


@lru_cache(maxsize=256)
def _categories(names: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical dtype of ``names``, built once: building its index checks and hashes every name.

    The same few name lists (units, stations, districts, kinds) code columns of every run of a world.
    """
    return pd.CategoricalDtype(list(names))

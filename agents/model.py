"""The simulation model: a mesa.Model that owns a simpy.Environment.

SimPy owns time. Mesa holds the agents (units, hospitals, the dispatch
centre) and the model-level random generator; ``model.step()`` is never
called. ``model.time`` follows ``env.now`` for Mesa tools that read it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from functools import lru_cache
from typing import Any

import mesa
import numpy as np
import pandas as pd
import simpy

from agents import components, schedules
from agents.calls import Switchboard
from agents.dispatch import DispatchCentre
from agents.hospitals import Hospital
from agents.incidents import STATUS_NAMES, IncidentBook
from agents.responders import BUSY, Fleet, Unit
from sim.demand import generate, sample_in_polygon
from sim.eventlog import DetailCache, EventKind, EventLog, register_kind, table_kinds
from sim.gcpause import paused_gc
from sim.kernels import categorical
from sim.rng import Streams
from sim.rowbuffer import RowBuffer
from sim.world import TIERS, World

#: Fields of an assignment row, in the order units append them to ``Simulation.assignments``
#: (float64: ids and flags are exact). A row buffer rather than a tuple per row: rows live until
#: the end of the run, and a tuple each gave the cyclic collector tens of thousands of objects
#: to scan after the event loop (see benchmarks/engine_mmc.py).
ASSIGNMENT_FIELDS = ("incident", "unit", "t_dispatch", "t_arrive", "t_left", "t_free", "travel",
                     "hospital", "from_station")


#: An incident raised during the run by a source (detail: the source's name)
INCIDENT_RAISED = register_kind("incident_raised")

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
    parts : list of (name, Component class, section, prepared), optional
        Components validated against this World (:func:`agents.components.validate` with
        ``world``: each constructor gets what its check prepared); default: the World's.
    """

    def __init__(self, world: World, policy: Any, seed: int, replication: int = 0,
                 until: float | None = None, log_events: bool = True, parts: list | None = None):
        self.streams = Streams(seed, replication)
        super().__init__(rng=self.streams("agents"))
        self.world = world
        self.seed, self.replication = int(seed), int(replication)
        self.until = float(world.horizon_min if until is None else until)
        self.env = simpy.Environment()
        self.detail = DetailCache()
        self.travel = world.geo.for_run()
        stream = generate(world, self.travel, self.streams)
        _draw_centre_times(world, stream, self.streams)
        self.book = IncidentBook(stream, world.type_required)
        self.log = EventLog(log_events, tuple(MILESTONES.values()), self.book.stream.n)
        self.log.reserve(_expected_rows(self.book.stream.kind, world.type_required))
        #: finished assignments, one row of :data:`ASSIGNMENT_FIELDS` each
        self.assignments = RowBuffer(len(ASSIGNMENT_FIELDS))
        self.hospitals = [Hospital(self, h) for h in range(len(world.hospital_names))]
        self._nearest_hospital: dict[int, int] = {}
        #: hospitals on diversion (:meth:`divert_hospital`): they take no patients while another does
        self.diverting: set[int] = set()
        #: decisions on events: callables run after each dispatch decision (incident id) and each
        #: time a unit becomes idle at its post (unit index); empty lists cost the loop next to nothing
        self.on_decided: list[Callable[[int], None]] = []
        self.on_unit_idle: list[Callable[[int], None]] = []
        #: decisions that may hold things back: ``before_decide(i, now)`` returning True defers
        #: incident ``i``'s dispatch decision (the hook calls ``dispatch.decide(i, now)`` later, when it
        #: is ready, and must then return False for ``i``); ``on_arrival(u, i)`` returning a SimPy event
        #: makes unit ``u`` wait on scene for it before its work on ``i`` starts (None: start at once)
        self.before_decide: list[Callable[[int, float], bool]] = []
        self.on_arrival: list[Callable[[int, int], Any]] = []
        self._station_at = {int(x): n for n, x in zip(world.station_names, world.station_loc, strict=True)}
        self.fleet = Fleet(self)
        self.dispatch = DispatchCentre(self, policy)
        self.calls = Switchboard(self)
        if parts is None:
            parts = components.validate(world.components, world.source, world, allow_code=True)  # Python API
        self.components = {}
        for name, cls, section, prepared in parts:  # with what its check prepared, if anything
            self.components[name] = (cls(self, section) if prepared is None
                                     else cls(self, section, prepared=prepared))
        self.calls.start()
        schedules.start(self)
        for part in self.components.values():
            part.start()
        self._ran = False

    def compact(self) -> None:
        """Move the rows appended so far into numpy chunks (called every few thousand calls)."""
        self.log.compact()
        self.assignments.compact()

    def every(self, minutes: float, decide: Callable[[], None], first: float | None = None) -> None:
        """Run ``decide()`` every ``minutes`` of simulated time (first at ``first``, default ``minutes``).

        The seam for decisions on a clock (move-up, escalation, pre-positioning).
        """
        if not minutes > 0:
            raise ValueError(f"a period must be positive, got {minutes}")
        self.env.process(self._every(minutes, decide, minutes if first is None else first))

    def _every(self, minutes: float, decide: Callable[[], None], first: float) -> Generator:
        yield self.env.timeout(first)
        while True:
            decide()
            yield self.env.timeout(minutes)

    def forget_routes(self) -> None:
        """Drop answers cached from the roads as they were (after a road change). Mutates the model."""
        self._nearest_hospital.clear()
        self.fleet.forget_positions()
        self.dispatch.roads_changed()  # what closed roads cut off is tried again

    def nearest_hospital(self, loc: int) -> int:
        """Index of the hospital with the shortest trip from ``loc``."""
        h = self._nearest_hospital.get(loc)
        if h is None:
            times = self.travel.times_from(loc, self.world.hospital_loc)
            if self.diverting and len(self.diverting) < len(times):  # the nearest that takes patients
                times = np.where(np.isin(np.arange(len(times)), list(self.diverting)), np.inf, times)
            h = self._nearest_hospital[loc] = int(np.argmin(times))
        return h

    def divert_hospital(self, h: int, diverting: bool) -> None:
        """Start or end hospital ``h``'s diversion: while on, patients go to the nearest other one.

        When every hospital diverts, patients go to the nearest. Mutates the model.
        """
        if diverting:
            self.diverting.add(int(h))
        else:
            self.diverting.discard(int(h))
        self._nearest_hospital.clear()

    def place_name(self, loc: int) -> str:
        """A readable name of location ``loc``: a station's name, else its coordinates or index."""
        name = self._station_at.get(loc)
        if name is not None:
            return name
        x, y = self.travel.xy(np.array([loc]))[0]
        return f"({x:.2f}, {y:.2f}) km" if x == x else f"location {loc}"

    def raise_incident(self, kind: str | int, district: str | int, *, source: str,
                       rng: np.random.Generator, xy: tuple[float, float] | None = None,
                       loc: int | None = None, priority: int | None = None, on_scene: float | None = None,
                       transport: bool | None = None, label: str = "") -> int:
        """Raise an incident now (a hazard, a sensor, a citizen, a drill inject); returns its id.

        The one door for incidents that arise during the run: the incident gets
        the next id (the replication's own incidents keep theirs), and its call
        is received at once through the call lines. What is not given is drawn
        from ``rng``, the source's own stream (``model.streams.named(source)``),
        so raising incidents never moves another stream's numbers.

        Parameters
        ----------
        kind, district : str or int
            Incident type and district, by name or index.
        source : str
            Who raised it (shown in the incidents table's ``source`` column).
        rng : numpy.random.Generator
            The source's stream, for the fields not given.
        xy : (float, float), optional
            Scene in km (road and plane geographies); default: a point drawn inside the district.
        loc : int, optional
            Scene as a location (a road node, a matrix place); overrides ``xy``.
        priority, on_scene, transport : optional
            As for scripted incidents; drawn from the type's mix and distributions when not given.
        label : str
            Free text for the tables.

        Returns
        -------
        int
            The incident id.
        """
        w, now = self.world, self.env.now
        k = w.type_names.index(kind) if isinstance(kind, str) else int(kind)
        d = w.district_names.index(district) if isinstance(district, str) else int(district)
        if priority is None:
            j = categorical(w.type_priority_weights, np.array([k]), rng.random(1))[0]
            priority = int(w.type_priority_values[k, j])
        if loc is None:
            loc = self._scene(d, xy, rng)
        sx, sy = self.travel.xy(np.array([loc]))[0]
        centre = int(w.line_centre[w.type_line[k]])
        patience = w.centre_patience[centre]
        i = self.book.add(
            t_call=now, kind=k, district=d, priority=int(priority), loc=int(loc), x_km=float(sx),
            y_km=float(sy),
            on_scene=float(on_scene if on_scene is not None else w.type_on_scene[k].sample(rng, 1)[0]),
            transport=bool(transport if transport is not None else rng.random() < w.type_transport_p[k]),
            handover=float(w.type_handover[k].sample(rng, 1)[0]),
            answer=float(w.centre_answer[centre].sample(rng, 1)[0]),
            processing=float(w.centre_processing[centre].sample(rng, 1)[0]),
            patience=float(patience.sample(rng, 1)[0]) if patience is not None else math.inf,
            target=float(w.type_target.get((k, int(priority)), math.nan)), source=source, label=label)
        self.log.grow(i + 1)
        self.log.add(now, INCIDENT_RAISED, i, -1, self.detail(("raised", source), lambda: {"source": source}))
        self.calls.receive(i)
        return i

    def _scene(self, d: int, xy: tuple[float, float] | None, rng: np.random.Generator) -> int:
        """Location of a raised incident's scene: the given point, else one drawn in district ``d``."""
        w = self.world
        if xy is not None:
            return int(self.travel.add_points(np.asarray([xy], dtype=np.float64))[0])
        if w.geo.kind == "matrix":
            places, weights = w.district_zones[d]
            return int(places[categorical(weights[None, :], np.zeros(1, dtype=np.int64), rng.random(1))[0]])
        point = sample_in_polygon(w.district_boundaries[d], 1, rng)
        return int(self.travel.add_points(point)[0])

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

    def component_tables(self) -> dict[str, dict[str, Any]]:
        """The components' own tables, by name (after the run)."""
        tables: dict[str, dict[str, Any]] = {}
        for name, part in self.components.items():
            for table, columns in part.tables().items():
                if table == "footprints" and table in tables:  # hazards share one footprints table
                    tables[table] = {k: np.concatenate([v, columns[k]]) for k, v in tables[table].items()}
                    continue
                if table in tables or table in ("incidents", "assignments", "units", "events", "run"):
                    raise RuntimeError(f"component {name!r} names its table {table!r}, which is taken")
                tables[table] = columns
        return tables

    def component_summary(self) -> dict[str, Any]:
        """The components' figures for run.json, by component class name (after the run)."""
        return {name: fig for name, part in self.components.items() if (fig := part.summary())}

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
        """Incidents table columns: the stream's calls before ``until``, then those raised in the run."""
        w, b, s = self.world, self.book, self.book.stream
        n = int(np.searchsorted(s.t_call, self.until, side="left"))
        raised = b.n - s.n
        ids = np.arange(n) if not raised else np.concatenate([np.arange(n), np.arange(s.n, b.n)])
        rows = len(ids)

        def listed(values: list, dtype: Any) -> np.ndarray:  # a book list, at the table's rows
            return _from_list(values, dtype, n) if not raised else np.asarray(values, dtype=dtype)[ids]

        def given(column: str) -> np.ndarray:  # a stream column, with the raised incidents' values
            head = getattr(s, column)[:n]
            if not raised:
                return head
            tail = b.raised[column] if column in b.raised else getattr(b, column)[s.n:]
            return np.concatenate([head, np.asarray(tail, dtype=head.dtype)])

        kind, t_call = given("kind"), given("t_call")
        scripted, labels, labelled = s.scripted[:n], s.label[:n], s.scripted[:n]
        if raised:  # raised incidents are not scripted, but may carry a label
            scripted = np.concatenate([scripted, np.zeros(raised, dtype=bool)])
            labels = (*labels, *b.raised["label"])
            labelled = np.concatenate([labelled, np.array([bool(x) for x in b.raised["label"]])])
        milestones = {column: self.log.first_times(k)[ids] for column, k in MILESTONES.items()}
        source = np.where(scripted, 1, 0)
        source_names = ["demand", "scripted", *sorted(set(b.raised["source"]))]
        if raised:
            source[n:] = [source_names.index(x) for x in b.raised["source"]]
        calls = self.calls.columns(ids, kind)
        columns = {
            "incident_id": ids,
            "kind": _coded(kind, w.type_names),
            "district": _coded(given("district"), w.district_names),
            "priority": given("priority"),
            "x_km": given("x_km"), "y_km": given("y_km"),
            "t_call_min": t_call,
            **milestones,  # t_answer_min, t_dispatch_min, t_first_arrival_min, t_clear_min
            "response_min": milestones["t_first_arrival_min"] - t_call,
            "status": _coded(listed(b.status, np.int8), STATUS_NAMES),
            "target_min": given("target"),
            "in_warmup": t_call < w.warmup_min,
            "scripted": scripted,
            "label": _label_column(labels, labelled),
            "location": given("loc"),
            "on_scene_min": given("on_scene"),
            "transport": given("transport"),
            "handover_min": given("handover"),
            "answer_min": given("answer"),
            "processing_min": given("processing"),
            "units_required": w.type_required[kind].sum(axis=1),
            "units_assigned": listed(b.n_assigned, np.int64),
            "shortfall": listed(b.shortfall, np.int64),
            "queued": listed(b.queued, np.bool_),
            "hospital": _coded(listed(b.hospital, np.int64), w.hospital_names),
            "source": _coded(source, source_names),
            "line": _coded(calls["line"], w.line_names),
            "centre": _coded(calls["centre"], w.centre_names),
            "rerouted": calls["rerouted"],
        }
        for part in self.components.values():
            extra = part.incident_columns(ids)
            clash = sorted(set(extra) & set(columns))
            if clash:
                raise RuntimeError(f"component {type(part).__name__} adds existing incident columns {clash}")
            if any(len(v) != rows for v in extra.values()):
                raise RuntimeError(f"component {type(part).__name__} gave incident columns of another length")
            columns.update(extra)
        return columns

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
        """Rows of the assignments still under way at the end (times not reached: NaN).

        The units still on a job, queried through Mesa's AgentSet, in unit order.
        """
        state = self.fleet.state
        on_job = self.agents_by_type[Unit].select(lambda unit: state[unit.index] == BUSY and unit.job >= 0)
        return [(unit.job, unit.index, unit.t_dispatch, unit.t_arrive, unit.t_left, math.nan, unit.travel, -1,
                 unit.from_station) for unit in sorted(on_job, key=lambda unit: unit.index)]

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
            "mutual_aid": w.unit_district[unit] != self._incident_district()[inc],
            "from_station": a[:, 8].astype(bool),
            # issue #11 (agents/dispatch.py): the level the unit answered at, whether it was taken off
            # a lower-priority assignment to come, and whether it left this one before arriving
            "escalation_level": self.dispatch.assignment_levels(unit, inc),
            "diverted": self.dispatch.diverted_column(inc, unit),
            "recalled": np.isnan(a[:, 3]) & ~np.isnan(a[:, 5]),
        }

    def _incident_district(self) -> np.ndarray:
        """District of every incident id (the stream's array unless incidents were raised)."""
        b = self.book
        return b.stream.district if b.n == b.stream.n else np.asarray(b.district, dtype=np.int64)

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
            "agency": _coded(w.unit_agency, w.agency_names),
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
            "kind": _coded(*table_kinds(a["code"])),
            "incident_id": pd.arrays.IntegerArray(inc, inc < 0),
            "unit_id": _coded(a["unit"], self.world.unit_names),
            "detail": _coded(a["detail_code"], a["detail_text"]),
        }


def _draw_centre_times(world: World, stream: Any, streams: Streams) -> None:
    """Answer and processing minutes of the calls of lines whose primary centre is not the first.

    The first centre's calls keep the draws of the ``call_answer`` and
    ``call_process`` streams (as with one centre); the calls of centre ``c``
    are redrawn from its own distributions on sub-stream ``c`` of those
    streams. Mutates ``stream``'s answer and processing arrays.
    """
    if len(world.centre_names) == 1:
        return
    centre = world.line_centre[world.type_line[stream.kind]]
    for c in range(1, len(world.centre_names)):
        idx = np.flatnonzero(centre == c)
        stream.answer[idx] = world.centre_answer[c].sample(streams("call_answer", c), len(idx))
        stream.processing[idx] = world.centre_processing[c].sample(streams("call_process", c), len(idx))
        if world.centre_patience[c] is not None:
            stream.patience[idx] = world.centre_patience[c].sample(streams("patience", c), len(idx))
        else:
            stream.patience[idx] = np.inf


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
    """Incident labels as a categorical (sorted categories); only ``scripted`` rows carry one.

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
    """A generous estimate of a run's log rows: a few per call, nine per unit sent.

    A unit sent logs six rows, three more when it takes a patient to hospital.
    Only room is reserved: pages that no row reaches are never touched, and an
    estimate too small costs a copy of the whole log when it is passed (a
    Busan-sized city-year logs about 12 rows per call: benchmarks/city_scale.py).
    """
    units = int(required.sum(axis=1)[kind].sum()) if len(kind) else 0
    return 4 * len(kind) + 9 * units + 64


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

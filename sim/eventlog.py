"""The ordered event log of a run: every state change, as typed columns.

Event kinds form an open set: the engine's own kinds are :class:`EventKind`;
a component registers its kinds by name with :func:`register_kind` (at import
time) and logs them with :meth:`EventLog.add`, the one typed append. The two
hot loops (units, call taking) append through :meth:`EventLog.appenders` with
keys made once by :func:`key_of`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import numpy as np


class EventKind(StrEnum):
    """Kinds of logged events, in the order of an incident's life."""

    CALL_RECEIVED = "call_received"
    CALL_ANSWERED = "call_answered"
    CALL_ABANDONED = "call_abandoned"
    INCIDENT_QUEUED = "incident_queued"
    UNIT_DISPATCHED = "unit_dispatched"
    UNIT_EN_ROUTE = "unit_en_route"
    UNIT_ARRIVED = "unit_arrived"
    UNIT_LEFT_SCENE = "unit_left_scene"
    UNIT_AT_HOSPITAL = "unit_at_hospital"
    HANDOVER_STARTED = "handover_started"
    HANDOVER_DONE = "handover_done"
    UNIT_RETURNING = "unit_returning"
    UNIT_AVAILABLE = "unit_available"
    INCIDENT_CLEARED = "incident_cleared"
    INCIDENT_UNSERVED = "incident_unserved"
    REQUEST_EXPIRED = "request_expired"
    RUN_END = "run_end"


#: The engine's own kinds, codes 0, 1, ... in this order.
KINDS = tuple(EventKind)
#: Integer code of each kind by name (the engine's first, then registered ones); the log stores codes.
CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
#: Names of every kind in code order: the engine's, then those registered by components.
_NAMES: list[str] = [k.value for k in KINDS]

Row = tuple[float, int, int, int]
#: Bits of a key below the unit: ``key = code | (unit + 1) << KEY_SHIFT`` (codes < 128, int8 column).
KEY_SHIFT = 7


def register_kind(name: str) -> str:
    """Make ``name`` a kind of event the log accepts; returns it. Idempotent.

    Components call this at import time for each kind they log, so codes
    follow the (fixed) import order. Names are snake_case and unique.

    Raises
    ------
    ValueError
        On a name that is not snake_case, or when 128 kinds are registered already.
    """
    if name in CODE:
        return name
    if not name.replace("_", "").isalnum() or not name.islower():
        raise ValueError(f"event kinds are snake_case names, got {name!r}")
    if len(_NAMES) >= 1 << KEY_SHIFT:
        raise ValueError(f"no room for event kind {name!r}: {len(_NAMES)} kinds are registered")
    CODE[name] = len(_NAMES)
    _NAMES.append(name)
    return name


def kind_names() -> tuple[str, ...]:
    """Names of all kinds known now, in code order."""
    return tuple(_NAMES)


#: The engine's kinds beyond :class:`EventKind`, registered here in this fixed order so that
#: their codes never depend on which modules a process imported first (append only).
ENGINE_KINDS = ("incident_raised", "call_rerouted", "outage_started", "outage_ended",
                "unit_out_of_service", "unit_in_service", "unit_relocating", "road_changed")
for _kind in ENGINE_KINDS:
    register_kind(_kind)
#: Codes below this are the engine's (fixed); components' kinds follow in import order.
N_FIXED = len(_NAMES)


def table_kinds(codes: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes and category names for the events table, the same in every process.

    The engine's kinds keep their fixed codes; components' kinds present in
    ``codes`` follow in name order (their codes depend on import order, which
    differs between processes: a run read back from Parquet must equal the
    same run made in another process). Returns ``(codes, names)``.
    """
    names = kind_names()
    if len(names) == N_FIXED:
        return codes, names
    counts = np.bincount(codes.astype(np.int64), minlength=len(names))
    present = sorted((c for c in range(N_FIXED, len(names)) if counts[c]), key=lambda c: names[c])
    remap = np.arange(len(names), dtype=codes.dtype)
    remap[present] = np.arange(N_FIXED, N_FIXED + len(present), dtype=codes.dtype)
    return remap[codes], (*names[:N_FIXED], *(names[c] for c in present))


def key_of(kind: str, unit: int = -1) -> int:
    """The packed key of a row of ``kind`` for ``unit`` (-1: none), for the hot loops' appenders.

    Raises
    ------
    KeyError
        If ``kind`` was never registered.
    """
    return key(CODE[kind], unit)


#: dtypes of the compacted columns (t_min, code, incident, unit)
_COLUMN_DTYPES = (np.float64, np.int8, np.int64, np.int32)
#: their order in the one buffer that holds them all: widest first, so that every column is aligned
_LAYOUT = sorted(range(len(_COLUMN_DTYPES)), key=lambda c: -np.dtype(_COLUMN_DTYPES[c]).itemsize)


def key(code: int, unit: int = -1) -> int:
    """The packed (kind code, unit) of a row, as the hot paths append it (unit -1: none)."""
    return code | (unit + 1) << KEY_SHIFT


class EventLog:
    """Append-only log of ``(t_min, code, incident, unit)`` rows plus sparse details.

    ``incident`` and ``unit`` are -1 when not applicable. A row lives in
    three parallel lists until it is compacted: :attr:`t` (times),
    :attr:`keys` (the kind code and unit packed by :func:`key`) and
    :attr:`incidents`. Hot paths append to them directly through
    :meth:`appenders`: three C-level ``list.append`` calls and no tuple per
    row cost about half of appending a 4-tuple and converting it later (see
    benchmarks/engine_mmc.py). The few events that carry a detail (a small
    dict, or its JSON text) have it coded as it is added: :attr:`detail_seq`
    (the rows' ``seq``, their index) beside :attr:`detail_code`, indices into
    the distinct JSON texts :attr:`detail_texts` (details repeat: a hospital,
    the units an incident waits for). :meth:`compact` (called now and then by
    the owner of the loop) moves the rows into typed columns, 21 bytes a row,
    whose room grows by doubling; :meth:`reserve` sizes it up front from an
    estimate, so that a long run's log is neither copied as it grows nor
    concatenated at the end (each costs fresh pages: see
    benchmarks/engine_mmc.py).

    The log also keeps, for a few kinds named up front, the time of each
    incident's first event of that kind (:meth:`first_times`), even when it
    is disabled: an incident's milestones (answered, first unit sent, first
    on scene, cleared) are read off its rows as they are compacted instead
    of being written into per-incident lists in the event loop, which cost
    a store per milestone there and a conversion of scattered float objects
    at the end of the run (see benchmarks/engine_mmc.py).

    Parameters
    ----------
    enabled : bool
        When False, no rows are kept (for throughput studies); first times still are.
    firsts : sequence of EventKind
        Kinds whose first time per incident to keep.
    n_incidents : int
        Incident ids are below this (room for the first times).
    """

    def __init__(self, enabled: bool = True, firsts: Sequence[EventKind] = (), n_incidents: int = 0):
        self.t: list[float] = []
        self.keys: list[int] = []
        self.incidents: list[int] = []
        self.detail_seq: list[int] = []
        self.detail_code: list[int] = []
        self.detail_texts: dict[str, int] = {}  # JSON text -> its code
        self.enabled = enabled
        self._columns = tuple(np.empty(0, dtype) for dtype in _COLUMN_DTYPES)  # t_min, code, incident, unit
        self._done = 0  # rows already moved into the columns
        self._first = {CODE[kind]: np.full(n_incidents, np.nan) for kind in firsts}  # by kind code

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` compacted rows in all (pages are touched only as rows arrive).

        The columns share one buffer: a long run's buffer passes the 4 MiB from
        which numpy asks the kernel for transparent huge pages, so that filling
        it takes a few page faults instead of one per 4 KiB (see
        benchmarks/engine_mmc.py).
        """
        if rows > len(self._columns[0]) and self.enabled:
            done = self._done
            grown = _column_views(rows)
            for old, new in zip(self._columns, grown, strict=True):
                new[:done] = old[:done]
            self._columns = grown

    def appenders(self) -> tuple[Callable[[float], None], Callable[[int], None], Callable[[int], None]]:
        """``(t.append, keys.append, incidents.append)``: append all three for each row, in order.

        When the log is disabled they append to lists that :meth:`compact` empties.
        """
        return self.t.append, self.keys.append, self.incidents.append

    def emitter(self) -> Callable[[Row], None]:
        """A function that appends a whole ``(t_min, code, incident, unit)`` row (slower than appenders)."""
        add_t, add_key, add_incident = self.appenders()

        def emit(row: Row) -> None:
            t, code, incident, unit = row
            add_t(t)
            add_key(key(code, unit))
            add_incident(incident)

        return emit

    def add(self, t: float, kind: str, incident: int = -1, unit: int = -1,
            detail: dict[str, Any] | str | None = None) -> None:
        """Append one event of a kind (an :class:`EventKind` or a registered name). Mutates the log.

        Parameters
        ----------
        t : float
            Simulation minutes (the clock: never earlier than the last row).
        kind : str
            An engine kind or one registered with :func:`register_kind`.
        incident, unit : int
            Ids, -1 when the event has none.
        detail : dict or str, optional
            A small JSON-able dict (or its JSON text) shown in the events table.
        """
        self.t.append(t)
        self.keys.append(CODE[kind] | (unit + 1) << KEY_SHIFT)
        self.incidents.append(incident)
        if detail is not None:
            self.attach(detail)

    def attach(self, detail: dict[str, Any] | str) -> None:
        """Give the last row appended a detail (dict, or its JSON text). Mutates the log."""
        if self.enabled:
            text = detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True)
            code = self.detail_texts.get(text)
            if code is None:
                code = self.detail_texts[text] = len(self.detail_texts)
            self.detail_seq.append(self._done + len(self.t) - 1)
            self.detail_code.append(code)

    def compact(self) -> None:
        """Move the pending rows into the typed columns. Mutates the log (the same list objects)."""
        n = len(self.t)
        if n and (self.enabled or self._first):
            # fromiter: fewer instructions per item than np.array, which first discovers dtypes
            keys = np.fromiter(self.keys, dtype=np.int64, count=n)
            times = np.fromiter(self.t, dtype=np.float64, count=n)
            incidents = np.fromiter(self.incidents, dtype=np.int64, count=n)
            codes = keys & ((1 << KEY_SHIFT) - 1)
            if self._first:
                self._note_firsts(times, codes, incidents)
            if self.enabled:
                start, end = self._done, self._done + n
                if end > len(self._columns[0]):
                    self.reserve(max(end, 2 * len(self._columns[0]), 4096))
                t, code, incident, unit = self._columns
                code[start:end] = codes
                unit[start:end] = (keys >> KEY_SHIFT) - 1
                t[start:end] = times
                incident[start:end] = incidents
                self._done = end
        self.t.clear()
        self.keys.clear()
        self.incidents.clear()

    def _note_firsts(self, times: np.ndarray, codes: np.ndarray, incidents: np.ndarray) -> None:
        """Keep the first time of each tracked kind per incident, from a batch of rows.

        Rows are logged at the simulation clock, which never goes back, so an
        incident's first event of a kind is the one with the least time: a
        NaN-ignoring minimum over the batch, without sorting.
        """
        for code, first in self._first.items():
            rows = np.flatnonzero(codes == code)
            if rows.size:
                np.fmin.at(first, incidents[rows], times[rows])

    def grow(self, n_incidents: int) -> None:
        """Make room for first times of incident ids below ``n_incidents`` (incidents raised mid-run).

        Compacts first (pending rows refer to the old room) and grows by doubling. Mutates the log.
        """
        if not self._first or n_incidents <= len(next(iter(self._first.values()))):
            return
        self.compact()
        for code, first in self._first.items():
            grown = np.full(max(n_incidents, 2 * len(first), 64), np.nan)
            grown[:len(first)] = first
            self._first[code] = grown

    def first_times(self, kind: EventKind) -> np.ndarray:
        """Time of each incident's first event of ``kind`` (NaN: none), a tracked kind; compacts first.

        The log's own array (it may be longer than the number of incidents: slice it):
        take it once, after the run.
        """
        self.compact()
        return self._first[CODE[kind]]

    def __len__(self) -> int:
        return self._done + (len(self.t) if self.enabled else 0)

    def arrays(self) -> dict[str, Any]:
        """Columns ``t_min`` (float64), ``seq``, ``incident`` (int64), ``unit`` (int32), ``code`` (int8).

        The columns are views of the log's own storage (no copy): take them once,
        after the run. Details come as ``detail_code`` (-1 where an event has none;
        the smallest signed integer type that holds the codes) into
        ``detail_text`` (the distinct JSON texts): few distinct values repeat.
        """
        self.compact()
        n = self._done
        columns = [c[:n] for c in self._columns]
        detail_code = np.full(n, -1, dtype=np.min_scalar_type(-max(len(self.detail_texts), 1)))
        m = len(self.detail_seq)
        detail_code[np.fromiter(self.detail_seq, dtype=np.int64, count=m)] = \
            np.fromiter(self.detail_code, dtype=np.int64, count=m)
        return {
            "t_min": columns[0],
            "seq": np.arange(n, dtype=np.int64),
            "code": columns[1],
            "incident": columns[2],
            "unit": columns[3],
            "detail_code": detail_code,
            "detail_text": list(self.detail_texts),
        }


def _column_views(rows: int) -> tuple[np.ndarray, ...]:
    """Columns of :data:`_COLUMN_DTYPES` with room for ``rows``, views of one uninitialised buffer."""
    buffer = np.empty(rows * sum(np.dtype(d).itemsize for d in _COLUMN_DTYPES), dtype=np.uint8)
    views: list[np.ndarray] = [buffer[:0]] * len(_COLUMN_DTYPES)
    offset = 0
    for c in _LAYOUT:
        size = rows * np.dtype(_COLUMN_DTYPES[c]).itemsize
        views[c] = buffer[offset:offset + size].view(_COLUMN_DTYPES[c])
        offset += size
    return tuple(views)


class DetailCache:
    """JSON text of details that repeat (a hospital index, a list of missing units).

    Serialising once per distinct value keeps ``json.dumps`` out of the event loop.
    """

    def __init__(self):
        self._text: dict[Any, str] = {}
        #: the JSON text already made for a key, or None: ``get(key)`` (a dict lookup, for hot paths
        #: where even building the ``make`` closure for :meth:`__call__` costs)
        self.get = self._text.get

    def __call__(self, key: Any, make: Callable[[], dict[str, Any]]) -> str:
        """The JSON text for ``key``, made by ``make()`` the first time."""
        text = self._text.get(key)
        if text is None:
            text = self._text[key] = json.dumps(make(), sort_keys=True)
        return text

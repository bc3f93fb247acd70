"""The incident book: inputs of every incident and what happened to it.

Outcomes are Python lists (scalar writes inside the event loop are cheaper
on lists than on numpy arrays); they become table columns at the end. The
times of an incident's milestones (answered, first dispatch, first arrival,
cleared) are not kept here: the event log reads them off its rows
(``EventLog.first_times``).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from sim.demand import IncidentStream

OPEN, RESOLVED, UNSERVED, ABANDONED = range(4)
STATUS_NAMES = ("open_at_end", "resolved", "unserved", "abandoned")


def _listed(column: str, doc: str) -> cached_property:
    """A book attribute holding the stream's ``column`` as a list, built on first use."""

    def read(book: IncidentBook) -> list:
        return getattr(book.stream, column).tolist()

    read.__doc__ = f"{doc} Per incident."
    return cached_property(read)


class IncidentBook:
    """Per-incident state of a run.

    Lifecycle of an incident: called -> answered -> ready (dispatch decided)
    -> units dispatched (possibly queued for missing units) -> first arrival
    -> cleared when every assigned unit has left the scene and nothing is
    still needed. Terminal statuses: resolved, unserved (no unit could be
    sent in time or at all), abandoned (caller hung up before an answer);
    anything else is reported as open at the end of the run.

    Parameters
    ----------
    stream : IncidentStream
        The replication's incident inputs.
    required : ndarray of int, shape (n_types, n_caps)
        Units needed per capability, by incident type.
    """

    def __init__(self, stream: IncidentStream, required: np.ndarray):
        n = stream.n
        self.stream = stream
        self.kind = stream.kind.tolist()
        self.district = stream.district.tolist()
        self.priority = stream.priority.tolist()
        self.loc = stream.loc.tolist()
        self.on_scene = stream.on_scene.tolist()
        self.required = [row.tolist() for row in required]
        self.status = [OPEN] * n
        #: units still wanted, flat: ``need[i * n_caps + c]`` for incident ``i`` and capability ``c``
        #: (one list rather than a list per incident: nothing per incident for the collector to scan)
        self.n_caps = int(required.shape[1])
        self.need = [0] * (n * self.n_caps)
        self.need_total = [0] * n
        self.active = [0] * n
        self.n_assigned = [0] * n
        self.queued = [False] * n
        self.hospital = [-1] * n
        self.shortfall = [0] * n
        #: inputs of incidents raised during the run that only the tables read, by column
        self.raised: dict[str, list] = {
            c: [] for c in ("t_call", "x_km", "y_km", "target", "source", "label")}

    # Inputs that only some scenarios read (call-taking times, patience, transport), made lists
    # on first use: a run that never reads them neither builds nor walks them.
    transport = _listed("transport", "Whether the patient goes to hospital (read by transporting units).")
    handover = _listed("handover", "Hospital handover minutes.")
    answer = _listed("answer", "Call-answering minutes (read unless every call is answered at once).")
    processing = _listed("processing", "Call-processing minutes (read unless every call is decided at once).")
    patience = _listed("patience", "Minutes a caller on hold waits before hanging up.")

    @cached_property
    def transport_taken(self) -> list[bool]:
        """Whether a unit has taken the incident's patient (written by transporting units)."""
        return [False] * len(self.status)

    @property
    def n(self) -> int:
        """Number of incidents so far (the stream's plus those raised during the run)."""
        return len(self.status)

    def add(self, *, t_call: float, kind: int, district: int, priority: int, loc: int, x_km: float,
            y_km: float, on_scene: float, transport: bool, handover: float, answer: float,
            processing: float, patience: float, target: float, source: str, label: str = "") -> int:
        """Enter an incident raised during the run; returns its id (the next). Mutates the book.

        Ids of the replication's stream are untouched: raising incidents never
        renumbers or changes the others.
        """
        i = len(self.status)
        for column, value in (("kind", kind), ("district", district), ("priority", priority), ("loc", loc),
                              ("on_scene", on_scene), ("transport", transport), ("handover", handover),
                              ("answer", answer), ("processing", processing), ("patience", patience),
                              ("status", OPEN), ("need_total", 0), ("active", 0), ("n_assigned", 0),
                              ("queued", False), ("hospital", -1), ("shortfall", 0),
                              ("transport_taken", False)):
            getattr(self, column).append(value)
        self.need.extend([0] * self.n_caps)
        for column, value in (("t_call", t_call), ("x_km", x_km), ("y_km", y_km), ("target", target),
                              ("source", source), ("label", label)):
            self.raised[column].append(value)
        return i

    def called_between(self, lo: float, hi: float) -> np.ndarray:
        """Whether each incident so far was called in ``[lo, hi)``: one bool per id.

        Components count their run.json figures over the measured window with it,
        ``called_between(world.warmup_min, model.until)``: the incidents the
        incidents table does not mark ``in_warmup``, as the sweep metrics count.
        """
        t = np.concatenate([self.stream.t_call, np.asarray(self.raised["t_call"], dtype=np.float64)])
        return (t >= lo) & (t < hi)

    def need_of(self, i: int) -> list[int]:
        """Units still wanted by incident ``i``, per capability (a copy)."""
        return self.need[i * self.n_caps:(i + 1) * self.n_caps]

    def clear(self) -> None:
        """Drop every column once the run's tables are built. Mutates the book.

        The units' processes keep a reference to the book until the cyclic
        collector frees the finished model; emptying it now frees its lists
        (hundreds of thousands of items on long runs) by reference counting,
        so that no collection has to scan them first.
        """
        self.__dict__.clear()

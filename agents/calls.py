"""Call lines and call centres: who answers a call, how long it takes, and what happens when a centre is down.

Every incident type calls on one *line* (119 fire/rescue/EMS, 112 police,
120 city call centre, 12369 environmental, ...); each line is served by its
primary *centre*. A centre has call-takers (a number, or a number by clock
hour, or unlimited), answers calls first come first served, and hands each
answered call, after its processing time, to the dispatch decision. A caller
on hold whose patience runs out hangs up (patience counts only while on hold).

While a centre is down (an outage window: its dispatch system fails), the
calls of its lines go to its fallback centre, whose call-takers answer them
with its ``manual_factor`` times the call's answer and processing minutes
(manual handling). Calls on hold at the start of an outage are transferred to
the fallback or lost, as the outage says; calls already answered finish. A
centre without a fallback keeps its calls on hold until it is back.

The scenario without call centres has one centre serving every line; when it
has unlimited call-takers and no call-taking times, calls are answered and
decided the moment they arrive (the fast path of the default case).
"""

from __future__ import annotations

import math
from collections import deque

import mesa
import numpy as np

from agents.incidents import ABANDONED
from sim.eventlog import EventKind as K
from sim.eventlog import key_of, register_kind

#: A call sent to another centre than its line's own (detail: from, to).
CALL_REROUTED = register_kind("call_rerouted")
#: A centre goes down / comes back (detail: centre, label).
OUTAGE_STARTED = register_kind("outage_started")
OUTAGE_ENDED = register_kind("outage_ended")

# log keys of the rows without a unit (see sim.eventlog.key)
_RECEIVED, _ANSWERED = key_of(K.CALL_RECEIVED), key_of(K.CALL_ANSWERED)


class CallCentre(mesa.Agent):
    """One call centre: its call-takers, the calls on hold, answering and processing.

    Lifecycle of a call here: taken (:meth:`take`) -> on hold while every
    call-taker is busy -> answered after its answer minutes -> processed ->
    handed to the dispatch decision, which frees the call-taker for the next
    call on hold. Staffing by hour changes the number of call-takers at each
    clock hour (a call-taker above the new number leaves when the call in hand
    is done).

    Parameters
    ----------
    model : agents.model.Simulation
    index : int
        Index into ``world.centre_*``.
    """

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        w = model.world
        self.index = index
        self.name = w.centre_names[index]
        self.by_hour = w.centre_takers_by_hour[index]
        self.unlimited = w.centre_call_takers[index] == 0 and self.by_hour is None
        self.staff = int(w.centre_call_takers[index]) if self.by_hour is None else 0
        self.free_takers = self.staff
        self.fallback = int(w.centre_fallback[index])
        self.manual_factor = float(w.centre_manual_factor[index])
        self.down = False
        self.waiting: deque[int] = deque()  # calls on hold here, in order (may hold stale ids)
        self._log_t, self._log_key, self._log_incident = model.log.appenders()

    # -- taking calls -------------------------------------------------------------------
    def take(self, i: int) -> None:
        """A call arrives here: answer it when a call-taker is free, else put it on hold."""
        if self.down:  # no fallback could take it: hold until the centre is back
            self._hold(i)
        elif self.unlimited:
            self._answer(i)
        elif self.free_takers > 0:
            self.free_takers -= 1
            self._answer(i)
        else:
            self._hold(i)

    def _hold(self, i: int) -> None:
        board = self.model.calls
        self.waiting.append(i)
        fresh = i not in board.patience_started
        board.holding[i] = self
        if fresh:
            board.patience_started.add(i)
            patience = self.model.book.patience[i]
            if patience < math.inf:
                self.model.env.timeout(patience, value=i).callbacks.append(board.hang_up)

    def _minutes(self, i: int, column: list[float]) -> float:
        """A call's answer or processing minutes here: its own draw, times the manual factor if rerouted."""
        minutes = column[i]
        return minutes * self.manual_factor if i in self.model.calls.centre_of else minutes

    def _answer(self, i: int) -> None:
        delay = self._minutes(i, self.model.book.answer)
        if delay > 0:
            self.model.env.timeout(delay, value=i).callbacks.append(self._answered_cb)
        else:
            self._answered(i)

    def _answered_cb(self, event) -> None:
        self._answered(event.value)

    def _answered(self, i: int) -> None:
        m = self.model
        self._log_t(m.env.now)
        self._log_key(_ANSWERED)
        self._log_incident(i)
        delay = self._minutes(i, m.book.processing)
        if delay > 0:
            m.env.timeout(delay, value=i).callbacks.append(self._ready_cb)
        else:
            self._ready(i)

    def _ready_cb(self, event) -> None:
        self._ready(event.value)

    def _ready(self, i: int) -> None:
        """Call ``i`` is processed: its call-taker moves on, the dispatch decision is made."""
        # a call-taker above the hour's staffing leaves; the others take the next call on hold
        if not self.unlimited and (self.free_takers < 0 or not self._next_on_hold()):
            self.free_takers += 1
        self.model.dispatch.decide(i, self.model.env.now)

    def _next_on_hold(self) -> bool:
        """Give the free call-taker the next call on hold here; False if none waits or the centre is down."""
        if self.down:
            return False
        holding = self.model.calls.holding
        while self.waiting:
            i = self.waiting.popleft()
            if holding.get(i) is self:
                del holding[i]
                self._answer(i)
                return True
        return False

    def serve_waiting(self) -> None:
        """Free call-takers take calls on hold (after staffing rose or the centre came back)."""
        if self.down:
            return
        if self.unlimited:
            while self._next_on_hold():
                pass
            return
        while self.free_takers > 0 and self._next_on_hold():
            self.free_takers -= 1

    def set_staff(self, n: int) -> None:
        """Call-takers on duty from now on. Mutates the centre."""
        self.free_takers += n - self.staff
        self.staff = n
        self.serve_waiting()

    def held_calls(self) -> list[int]:
        """Calls on hold here now, in order."""
        holding = self.model.calls.holding
        return [i for i in self.waiting if holding.get(i) is self]


class Switchboard:
    """Routes every call to a centre and owns the arrival of the replication's calls.

    The background and scripted calls (drawn before the run) arrive through a
    chain of timeout callbacks, one event per call; incidents raised during the
    run arrive through :meth:`receive`. ``centre_of`` (the calls sent to
    another centre than their line's, and the centre that took each) feeds
    the incidents table.

    Parameters
    ----------
    model : agents.model.Simulation
    """

    def __init__(self, model: mesa.Model):
        w = model.world
        self.model = model
        self.centres = [CallCentre(model, c) for c in range(len(w.centre_names))]
        self.line_of_type = w.type_line.tolist()
        self.primary_of_line = w.line_centre.tolist()
        self.centre_of: dict[int, int] = {}    # rerouted calls: the centre that took each
        self.holding: dict[int, CallCentre] = {}   # calls on hold, by the centre holding them
        self.patience_started: set[int] = set()
        stream = model.book.stream
        only = self.centres[0] if len(self.centres) == 1 else None
        #: every call is answered and decided the moment it arrives (no call-taking at all)
        self._shortcut = only is not None and only.unlimited and not w.outages
        self.instant = self._shortcut and not (stream.answer.any() or stream.processing.any())
        self.book, self.env, self.dispatch = model.book, model.env, model.dispatch
        self._log_t, self._log_key, self._log_incident = model.log.appenders()
        self._timeout = model.env.timeout
        self._gaps = stream.delay.tolist()
        self._n_stream = len(self._gaps)
        self._next = 0  # the next call to arrive
        self._on_arrival = self._arrive  # one bound method for every arrival event
        if self._gaps:
            self._timeout(self._gaps[0]).callbacks.append(self._on_arrival)

    def start(self) -> None:
        """Start the staffing and outage processes (called once every agent exists)."""
        env, w = self.model.env, self.model.world
        for centre in self.centres:
            if centre.by_hour is not None:
                env.process(self._staffing(centre))
        for outage in w.outages:
            env.process(self._outage(outage))

    # -- arrivals -----------------------------------------------------------------------
    def _arrive(self, event) -> None:
        """Take the call that is due and any at the same time; schedule the next arrival.

        A timeout callback rather than a SimPy process: one call costs one event
        and no generator resumption (see benchmarks/engine_mmc.py). A call at
        time 0 is taken after every unit's process has started (their
        initialisation events are urgent), as it was with a process.
        """
        gaps, i = self._gaps, self._next
        while True:
            self.receive(i)
            if i & 1023 == 1023:  # keep the log and assignments compact as they grow
                self.model.compact()
            i += 1
            if i == len(gaps):
                return
            if gaps[i] > 0:
                break
        self._next = i
        self._timeout(gaps[i]).callbacks.append(self._on_arrival)

    def receive(self, i: int) -> None:
        """Call ``i`` comes in now: log it and route it to the centre that takes it."""
        now = self.env.now
        self._log_t(now)
        self._log_key(_RECEIVED)
        self._log_incident(i)
        # the stream's calls are known to need no call-taking; raised calls carry their own draws
        if (self.instant and i < self._n_stream) or (
                self._shortcut and self.book.answer[i] == 0 and self.book.processing[i] == 0):
            self._log_t(now)  # answered and decided at once: skip the call-taking steps
            self._log_key(_ANSWERED)
            self._log_incident(i)
            self.dispatch.decide(i, now)
            return
        primary = self.primary_of_line[self.line_of_type[self.book.kind[i]]]
        centre = self.route(primary)
        if centre.index != primary:
            self.reroute(i, primary, centre)
        centre.take(i)

    def route(self, c: int) -> CallCentre:
        """The centre that takes calls meant for centre ``c`` now: ``c``, or its first fallback up."""
        centre, seen = self.centres[c], {c}
        while centre.down and centre.fallback >= 0 and centre.fallback not in seen:
            seen.add(centre.fallback)
            centre = self.centres[centre.fallback]
        return centre if not centre.down else self.centres[c]

    def reroute(self, i: int, frm: int, to: CallCentre) -> None:
        """Record and log that call ``i`` goes to centre ``to`` instead of ``frm``."""
        m = self.model
        self.centre_of[i] = to.index
        names = m.world.centre_names
        m.log.add(m.env.now, CALL_REROUTED, i, -1,
                  m.detail(("rerouted", frm, to.index), lambda: {"from": names[frm], "to": to.name}))

    def hang_up(self, event) -> None:
        """A caller's patience ran out: abandoned if the call is still on hold somewhere."""
        i = event.value
        if self.holding.pop(i, None) is not None:
            m = self.model
            m.book.status[i] = ABANDONED
            m.log.add(m.env.now, K.CALL_ABANDONED, i)

    # -- processes ----------------------------------------------------------------------
    def _staffing(self, centre: CallCentre):
        """Set the centre's call-takers at every clock hour from its staffing table."""
        env, start = self.model.env, self.model.world.start
        hour = start.hour
        centre.set_staff(int(centre.by_hour[hour]))
        into_hour = start.minute + start.second / 60 + start.microsecond / 6e7
        yield env.timeout(60.0 - into_hour)
        while True:
            hour = (hour + 1) % 24
            centre.set_staff(int(centre.by_hour[hour]))
            yield env.timeout(60.0)

    def _outage(self, outage):
        """Take a centre down over the outage's window; handle the calls it holds."""
        m, env = self.model, self.model.env
        centre = self.centres[outage.centre]
        if outage.start_min > 0:
            yield env.timeout(outage.start_min)
        detail = {"centre": centre.name, "label": outage.label}
        centre.down = True
        m.log.add(env.now, OUTAGE_STARTED, -1, -1, detail)
        for i in centre.held_calls():
            del self.holding[i]
            if outage.held_calls == "lose":
                m.book.status[i] = ABANDONED
                m.log.add(env.now, K.CALL_ABANDONED, i, -1, {"reason": "outage"})
                continue
            to = self.route(centre.index)
            if to is centre:  # no fallback up: the call stays on hold here
                self.holding[i] = centre
                continue
            self.reroute(i, centre.index, to)
            to.take(i)
        end = min(outage.end_min, m.until)
        if end > env.now:
            yield env.timeout(end - env.now)
        if outage.end_min <= m.until:
            centre.down = False
            m.log.add(env.now, OUTAGE_ENDED, -1, -1, detail)
            centre.serve_waiting()

    # -- tables -------------------------------------------------------------------------
    def columns(self, ids: np.ndarray, kind: np.ndarray) -> dict[str, np.ndarray]:
        """Per incident in ``ids`` (ascending; of types ``kind``): line, centre that took it, rerouted."""
        w = self.model.world
        line = w.type_line[kind]
        centre = w.line_centre[line]
        rerouted = np.zeros(len(ids), dtype=bool)
        for i, c in self.centre_of.items():
            pos = int(np.searchsorted(ids, i))
            if pos < len(ids) and ids[pos] == i:
                centre[pos] = c
                rerouted[pos] = True
        return {"line": line, "centre": centre, "rerouted": rerouted}

"""Move-up: keep every district covered by relocating idle units (issue #10, decisions on a clock).

A district is *covered* when a unit of the kept capability, idle at its post,
is expected to reach the district's cover point (the location of its first
station) within ``target``: turnout + travel / speed factor. When a district
is uncovered, the component moves the idle unit that can be spared and is
quickest to the cover point there (a compliance-table rule: deterministic,
ties by unit index); with ``move_back``, a relocated unit that is no longer
needed where it is goes home.

It decides after every dispatch decision (``model.on_decided``), whenever a
unit becomes idle at its post (``model.on_unit_idle``) and, optionally, every
``every`` minutes. Relocations go through :meth:`agents.responders.Fleet.relocate`,
which logs ``unit_relocating`` and, on arrival, ``unit_available``; the
component logs nothing else.

Scenario section::

    components:
      move_up:
        capability: ambulance   # the capability whose coverage is kept
        target: 8 min           # covered: an idle unit can get there within this
        every: 5 min            # optional periodic check
        districts: [East, West] # optional: the districts to keep covered (default all)
        move_back: true         # relocated units go home once they are not needed
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from agents.components import Component, register
from agents.responders import AT_STATION, RELOCATING, SETTING_OFF
from scenarios.base import PositiveDuration
from sim.errors import InputError

#: Why a unit was moved (the ``reason`` column of the relocations table).
COVER, BACK = "cover", "back"


class MoveUpSection(BaseModel):
    """The ``components.move_up`` section of a scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the capability whose coverage is kept (a capability of the scenario's unit types)
    capability: str = Field(min_length=1)
    #: minutes within which an idle unit must be expected at a district's cover point
    target: PositiveDuration
    #: optional period of a check on the clock (minutes)
    every: PositiveDuration | None = None
    #: the districts to keep covered (default: all that have a station)
    districts: tuple[str, ...] | None = None
    #: relocated units go back to their home station once they are not needed where they are
    move_back: bool = True


@register("move_up")
class MoveUp(Component):
    """Relocates idle units so that every kept district stays covered.

    Lifecycle: built with the validated section after the fleet exists
    (checks the capability and district names against the World) ->
    :meth:`start` hooks :meth:`decide` onto dispatch decisions, idle units and
    the optional clock -> each call of :meth:`decide` relocates units until no
    kept district it can fix is uncovered -> :meth:`summary` and
    :meth:`tables` after the run.

    Who counts: units of the capability at their station, and units on their
    way to a new post (counted at that post: they are committed to it, and
    counting them nowhere would send a second unit on every check during the
    trip). Units on a job, on their way home or out of service cover nothing.
    A unit may leave only if it is idle at its post and the only cover of no
    kept district: a move never uncovers a district, so units do not
    ping-pong. ``summary()["relocations"]`` counts every move ordered (each
    is one ``unit_relocating`` row), ``moved_back`` the moves home among them.

    Parameters
    ----------
    model : agents.model.Simulation
    section : MoveUpSection

    Raises
    ------
    InputError
        Unknown capability or district (path ``components.move_up.<field>``).
    """

    Section = MoveUpSection

    @classmethod
    def check(cls, world: Any, section: MoveUpSection, source: str | None) -> None:
        """The capability and districts must be the World's (raises InputError naming the field)."""
        _kept(world, section, source)

    def __init__(self, model: Any, section: MoveUpSection):
        super().__init__(model, section)
        w = model.world
        self.cap, kept = _kept(w, section, w.source)
        first = {}  # district -> location of its first station
        for d, loc in zip(w.station_district.tolist(), w.station_loc.tolist(), strict=True):
            first.setdefault(d, int(loc))
        #: kept districts that have a station (the others are covered by none and never need moving to)
        self.districts = np.array(sorted({d for d in kept if d in first}), dtype=np.int64)
        #: their cover points, aligned with ``districts``
        self.cover_loc = np.array([first[d] for d in self.districts.tolist()], dtype=np.int64)
        self.units = model.fleet.cap_units[self.cap]
        self.target = float(section.target)
        self.rows: list[tuple[float, int, int, int, str]] = []  # (t, unit, from, to, reason)

    def start(self) -> None:
        """Hook :meth:`decide` onto decisions, idle units and the optional clock."""
        if len(self.districts) == 0 or len(self.units) == 0:
            return  # nothing to keep covered, or nobody to move
        m = self.model
        m.on_decided.append(self._on_event)
        m.on_unit_idle.append(self._on_event)
        if self.section.every is not None:
            m.every(float(self.section.every), self.decide)

    def _on_event(self, _: int) -> None:
        self.decide()

    # -- the rule ----------------------------------------------------------------------
    def decide(self) -> None:
        """Relocate units until every kept district that can be covered is; then send spare units home.

        Mutates the fleet (through ``Fleet.relocate``) and the relocation record.
        """
        while self._cover_one():
            pass
        if self.section.move_back:
            while self._send_one_back():
                pass

    def _times(self) -> tuple[np.ndarray, np.ndarray]:
        """Expected minutes from each unit's post to each cover point, and who counts as cover.

        Returns
        -------
        minutes : float64[n_units_of_capability, n_kept_districts]
            turnout + travel / speed factor from the unit's post.
        counts : bool[n_units_of_capability]
            At its station, or ordered to or on its way to a new post.
        """
        fleet, travel = self.model.fleet, self.model.travel
        state, post = fleet.state, fleet.post
        rows: dict[int, np.ndarray] = {}
        minutes = np.empty((len(self.units), len(self.districts)))
        counts = np.zeros(len(self.units), dtype=np.bool_)
        for k, u in enumerate(self.units.tolist()):
            p = post[u]
            row = rows.get(p)
            if row is None:
                row = rows[p] = np.asarray(travel.times_from(p, self.cover_loc), dtype=np.float64)
            minutes[k] = fleet.turnout[u] + row / fleet.speed[u]
            counts[k] = state[u] in (AT_STATION, RELOCATING, SETTING_OFF)
        return minutes, counts

    def _coverage(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Who covers what now.

        Returns
        -------
        minutes : float64[n_units_of_capability, n_kept_districts]
        covers : bool[n_units_of_capability, n_kept_districts]
            The unit counts and reaches the cover point within the target.
        n_cover : int64[n_kept_districts]
            Units covering each district.
        spare : bool[n_units_of_capability]
            Idle at its post and the only cover of no district: it may leave.
        """
        fleet = self.model.fleet
        minutes, counts = self._times()
        covers = (minutes <= self.target) & counts[:, None]
        n_cover = covers.sum(axis=0)
        sole = (covers & (n_cover == 1)[None, :]).any(axis=1)
        units = self.units
        at_post = np.array([fleet.state[u] == AT_STATION and fleet.loc[u] == fleet.post[u]
                            for u in units.tolist()], dtype=np.bool_)
        spare = at_post & fleet.eligible[units] & ~sole
        return minutes, covers, n_cover, spare

    def _cover_one(self) -> bool:
        """Move one spare unit to the first uncovered district it can cover; False when none is moved."""
        fleet = self.model.fleet
        minutes, _, n_cover, spare = self._coverage()
        # a unit covers a district from its cover point only if its turnout fits in the target
        can = spare & (fleet.turnout[self.units] <= self.target)
        uncovered = np.flatnonzero(n_cover == 0)
        if not can.any() or len(uncovered) == 0:
            return False
        j = int(uncovered[0])  # districts in index order: deterministic
        # the quickest spare unit; argmin takes the first, so ties go to the lower unit index
        k = int(np.argmin(np.where(can, minutes[:, j], np.inf)))
        self._relocate(int(self.units[k]), int(self.cover_loc[j]), COVER)
        return True

    def _send_one_back(self) -> bool:
        """Send one relocated unit that is no longer needed where it is home; False when none goes."""
        fleet = self.model.fleet
        *_, spare = self._coverage()
        for k, u in enumerate(self.units.tolist()):
            if spare[k] and fleet.post[u] != fleet.home[u]:
                self._relocate(u, int(fleet.home[u]), BACK)
                return True
        return False

    def _relocate(self, u: int, dest: int, reason: str) -> None:
        """Relocate unit ``u`` to ``dest`` and record it. Mutates the fleet and :attr:`rows`."""
        fleet = self.model.fleet
        self.rows.append((self.model.env.now, u, int(fleet.post[u]), dest, reason))
        fleet.relocate(u, dest)

    # -- results -----------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """``relocations``: every relocation this component ordered; ``moved_back``: those home."""
        return {"relocations": len(self.rows), "moved_back": sum(r[4] == BACK for r in self.rows)}

    def tables(self) -> dict[str, dict[str, Any]]:
        """The ``relocations`` table: t_min, unit_id, from, to (place names), reason (cover or back)."""
        m = self.model
        names = m.world.unit_names
        return {"relocations": {
            "t_min": np.array([r[0] for r in self.rows], dtype=np.float64),
            "unit_id": np.array([names[r[1]] for r in self.rows], dtype=object),
            "from": np.array([m.place_name(r[2]) for r in self.rows], dtype=object),
            "to": np.array([m.place_name(r[3]) for r in self.rows], dtype=object),
            "reason": np.array([r[4] for r in self.rows], dtype=object),
        }}


def _kept(w: Any, section: MoveUpSection, source: str | None) -> tuple[int, Any]:
    """The kept capability's index and the kept districts' indices (all when none are named)."""
    cap = _index_of(section.capability, w.capability_names, "capability", "capability", source)
    kept = range(len(w.district_names)) if section.districts is None else [
        _index_of(name, w.district_names, "district", f"districts[{k}]", source)
        for k, name in enumerate(section.districts)]
    return cap, kept


def _index_of(name: str, names: tuple[str, ...], what: str, field: str, source: str | None) -> int:
    """Index of ``name`` in the World's ``names``.

    Raises
    ------
    InputError
        If ``name`` is not among them (path ``components.move_up.<field>``).
    """
    if name not in names:
        known = ", ".join(repr(n) for n in names)
        raise InputError(f"unknown {what} {name!r}; expected one of {known}", source,
                         f"components.move_up.{field}")
    return names.index(name)

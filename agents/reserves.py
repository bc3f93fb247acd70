"""Material reserves: depots hold stocks that incidents consume; a shortage waits for the next source (#11).

Depots (a government store, an enterprise's own stock, an agreement
supplier, a capacity or technical reserve: Chongqing's "five-in-one" reserve,
seed report 003) hold a stock of each material (sandbags, absorbent booms,
foam, breathing sets, ...). An incident type may consume materials
(``consumption``: type -> {material: quantity}). When the first unit arrives
at such an incident (hook ``model.on_arrival``), the material is drawn from
the depots in their order: the first depot's stock comes with the units (no
wait when its ``lead_time`` is 0, the default); what it lacks is ordered from
the next depot that has stock, and the work on scene waits that depot's
``lead_time``; what that one lacks from the one after it, and so on. The
work waits the longest lead time of the sources used, exactly, for every
unit on scene (later arrivals wait what remains; ``enabled: false`` draws
nothing and holds no one).
What no depot has is ``unmet``: the work starts once what could be found has
come (logged ``material_unmet``). A false alarm (marked by a drones or
sensors component) draws nothing.

A depot may *reorder* a material: when its level falls to the reorder point
or below, it orders ``quantity`` from outside, which arrives ``lead_time``
later (reason ``resupplied``); one order of a material is outstanding at a
time. Points, quantities and lead times are sweepable fields.
A drill's ``resupply`` inject calls :meth:`Reserves.resupply`: the
material arrives at the depot at the inject's time (reason ``resupplied``).
A resupply serves later draws only: an incident's wait is fixed when its
material is drawn, so no arrival shortens a wait already running.

Stock over time is the ``stock`` table (one row per change: ``t_min``,
``depot``, ``material``, ``level``, ``change``, ``reason`` in initial /
consumed / resupplied); per depot and material, initial + resupplied =
consumed + level at the end. The incidents table gets ``material_wait_min``
(NaN: the type consumes nothing or no unit arrived) and ``material_short``.
In run.json the incident figures (draws, stock-outs, delays, unmet) count the
incidents called in the measured window (after the warm-up); the stock
figures (resupplies, end levels) are of the whole run, like the ``stock`` table.
No random numbers are drawn.

Scenario section::

    components:
      reserves:
        materials: [foam, absorbent_booms]
        consumption:
          hazmat: {foam: 400, absorbent_booms: 6}
        depots:
          brigade_store:
            kind: enterprise
            stock: {foam: 2000, absorbent_booms: 20}
            reorder: {foam: {point: 800, quantity: 1600, lead_time: 12 h}}
          city_store: {kind: government, stock: {foam: 6000}, lead_time: 45 min}
          supplier: {kind: agreement, stock: {foam: 20000, absorbent_booms: 200}, lead_time: 3 h}
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat

from agents.components import Component, incident_kind, register
from scenarios.base import Duration
from sim.errors import InputError
from sim.eventlog import register_kind

#: Material drawn for an incident (detail: the sources used and the wait)
MATERIAL_DRAWN = register_kind("material_drawn")
#: No depot had enough of a material for an incident (detail: material -> missing quantity)
MATERIAL_UNMET = register_kind("material_unmet")
#: A reorder arrived at a depot (detail: depot, material, quantity)
MATERIAL_RESUPPLIED = register_kind("material_resupplied")

INITIAL, CONSUMED, RESUPPLIED = "initial", "consumed", "resupplied"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Reorder(_Strict):
    """``reorder.<material>``: at ``point`` or below, order ``quantity``, there ``lead_time`` later."""

    point: NonNegativeFloat
    quantity: float = Field(gt=0)
    lead_time: Duration = Field(ge=0)


class Depot(_Strict):
    """One source of materials, in the order sources are asked."""

    kind: Literal["government", "enterprise", "agreement", "capacity", "technical"] = "government"
    #: quantity of each material at the start
    stock: dict[str, NonNegativeFloat] = {}
    #: minutes from an order to the material on scene (0: it comes with the units)
    lead_time: Duration = Field(default=0.0, ge=0)
    reorder: dict[str, Reorder] = {}
    label: str = ""


class ReservesSection(_Strict):
    """The ``components.reserves`` section of a scenario."""

    materials: tuple[str, ...] = Field(min_length=1)
    #: incident type -> {material: quantity drawn by one incident}
    consumption: dict[str, dict[str, float]] = Field(min_length=1)
    #: the sources, asked in this order
    depots: dict[str, Depot] = Field(min_length=1)
    #: False: nothing is drawn and nothing waits (the stock table keeps its initial rows)
    enabled: bool = True


@register("reserves")
class Reserves(Component):
    """Depots whose stocks incidents consume; shortages hold the work on scene until resupply.

    Lifecycle: built with the validated section (levels at their initial
    stock) -> :meth:`start` hooks :meth:`_arrived` onto ``model.on_arrival``
    -> each first arrival at a consuming incident draws its material (orders
    what is missing, reorders what falls to a reorder point) -> tables and
    summary after the run.

    Parameters
    ----------
    model : agents.model.Simulation
    section : ReservesSection

    Raises
    ------
    InputError
        Unknown material or incident type (path ``components.reserves.<field>``).
    """

    Section = ReservesSection

    @classmethod
    def check(cls, world: Any, section: ReservesSection, source: str | None) -> list[dict[int, float]]:
        """Every material named must be listed, every incident type the World's."""
        return _check(world, section, source)

    def __init__(self, model: Any, section: ReservesSection, prepared: list[dict[int, float]]):
        super().__init__(model, section)
        self.consumes = prepared  # by check
        self.materials = list(section.materials)
        self.depots = list(section.depots)
        #: level[depot][material]
        self.level = [[float(d.stock.get(m, 0.0)) for m in self.materials] for d in section.depots.values()]
        self.lead = [float(d.lead_time) for d in section.depots.values()]
        self.ordered: set[tuple[int, int]] = set()  # (depot, material) reorders outstanding
        self.rows: list[tuple[float, int, int, float, float, str]] = []
        for j in range(len(self.depots)):
            for k in range(len(self.materials)):
                self.rows.append((0.0, j, k, self.level[j][k], self.level[j][k], INITIAL))
        self.ready: dict[int, Any] = {}  # incident -> the event its work waits for (None: none)
        self.wait: dict[int, float] = {}  # incident -> minutes its work waited for material
        self.unmet: dict[int, float] = {}  # incident -> quantity no depot had
        self.stockouts: dict[int, int] = {}  # incident -> its draws that found a depot short

    def start(self) -> None:
        """Hook onto unit arrivals (nothing to do if no incident type consumes or the section is off)."""
        if self.section.enabled and any(self.consumes):
            self.model.on_arrival.append(self._arrived)
        for j, depot in enumerate(self.section.depots.values()):
            for k in range(len(self.materials)):
                self._maybe_reorder(j, k, depot)

    # -- drawing ---------------------------------------------------------------------
    def _arrived(self, u: int, i: int) -> Any:
        """A unit arrived at ``i``: the first draws the material; all wait until it is there."""
        if i in self.ready:
            event = self.ready[i]
            return event if event is not None and not event.processed else None
        want = self.consumes[self.model.book.kind[i]]
        if not want or self._false_alarm(i):
            self.ready[i] = None
            return None
        lead = self.draw(i, want)
        self.wait[i] = lead
        event = self.ready[i] = self.model.env.timeout(lead) if lead > 0 else None
        return event

    def _false_alarm(self, i: int) -> bool:
        """Whether ``i`` is a false alarm (drones or sensors say so): it draws nothing."""
        parts = self.model.components
        drones, sensors = parts.get("drones"), parts.get("sensors")
        return bool((drones is not None and drones.is_false_alarm(i))
                    or (sensors is not None and i in sensors.false_alarms))

    def draw(self, i: int, want: dict[int, float]) -> float:
        """Take ``want`` (material index -> quantity) for incident ``i``; returns the minutes to wait.

        Mutates the levels and the stock record; may order resupply.
        """
        now, lead, used, missing = self.model.env.now, 0.0, {}, {}
        depots = list(self.section.depots.values())
        for k, quantity in want.items():
            left = quantity
            for j, depot in enumerate(depots):
                if left <= 0:
                    break
                have = self.level[j][k]
                take = min(have, left)
                if take < left:
                    self.stockouts[i] = self.stockouts.get(i, 0) + 1
                if take > 0:
                    self.level[j][k] = have - take
                    left -= take
                    self.rows.append((now, j, k, self.level[j][k], -take, CONSUMED))
                    lead = max(lead, self.lead[j])
                    used[self.depots[j]] = self.lead[j]
                    self._maybe_reorder(j, k, depot)
            if left > 1e-9:
                missing[self.materials[k]] = left
        log = self.model.log
        log.add(now, MATERIAL_DRAWN, i, -1, {"sources": used, "wait_min": lead})
        if missing:
            self.unmet[i] = sum(missing.values())
            log.add(now, MATERIAL_UNMET, i, -1, {"missing": missing})
        return lead

    def _maybe_reorder(self, j: int, k: int, depot: Depot) -> None:
        """Order material ``k`` for depot ``j`` if its level is at the reorder point and none is coming."""
        rule = depot.reorder.get(self.materials[k])
        if rule is None or not self.section.enabled or (j, k) in self.ordered:
            return
        if self.level[j][k] > rule.point:
            return
        self.ordered.add((j, k))
        self.model.env.timeout(float(rule.lead_time), value=(j, k, float(rule.quantity))).callbacks.append(
            self._resupplied)

    def _resupplied(self, event) -> None:
        """A reorder of depot ``j`` arrives (the next one may be placed at once)."""
        j, k, quantity = event.value
        self.ordered.discard((j, k))
        self._add(j, k, quantity)
        self._maybe_reorder(j, k, list(self.section.depots.values())[j])

    def resupply(self, depot: str, material: str, quantity: float) -> None:
        """``quantity`` of ``material`` arrives at ``depot`` now (a drill's ``resupply`` inject).

        The arrival is a ``resupplied`` row of the stock table and a
        ``material_resupplied`` event, like a reorder's. It serves the draws
        that come after it. No incident waits on it: an incident's wait is
        fixed when its material is drawn (what it lacked was already taken
        from a further depot and is on its way; what no depot had is unmet
        and the work went ahead without it), so an early arrival shortens
        no wait. A reorder outstanding for the depot stays outstanding.
        With ``enabled: false`` nothing is recorded (nothing is ever drawn).
        Mutates the depot's level and the stock record.

        Parameters
        ----------
        depot : str
            A depot of the section.
        material : str
            A material of the section.
        quantity : float
            Positive, finite.

        Raises
        ------
        ValueError
            Unknown depot or material, or a quantity that is not positive
            (the drill's check refuses these before the run).
        """
        if depot not in self.depots or material not in self.materials:
            raise ValueError(f"no depot {depot!r} or material {material!r} in components.reserves")
        if not (quantity > 0 and math.isfinite(quantity)):
            raise ValueError(f"a resupply quantity must be a positive number, got {quantity!r}")
        if self.section.enabled:
            self._add(self.depots.index(depot), self.materials.index(material), float(quantity))

    def _add(self, j: int, k: int, quantity: float) -> None:
        """Add ``quantity`` of material ``k`` to depot ``j`` now; record and log it."""
        now = self.model.env.now
        self.level[j][k] += quantity
        self.rows.append((now, j, k, self.level[j][k], quantity, RESUPPLIED))
        self.model.log.add(now, MATERIAL_RESUPPLIED, -1, -1,
                           {"depot": self.depots[j], "material": self.materials[k], "quantity": quantity})

    # -- results ---------------------------------------------------------------------
    def incident_columns(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """``material_wait_min`` (NaN: nothing drawn), ``material_short`` (the work waited for material)."""
        wait = np.array([self.wait.get(int(i), math.nan) for i in ids], dtype=np.float64)
        return {"material_wait_min": wait, "material_short": np.nan_to_num(wait) > 0}

    def tables(self) -> dict[str, dict[str, Any]]:
        """The ``stock`` table: one row per change of a depot's level."""
        cols = list(zip(*self.rows, strict=True)) if self.rows else [(), (), (), (), (), ()]
        return {"stock": {
            "t_min": np.array(cols[0], dtype=np.float64),
            "depot": np.array([self.depots[j] for j in cols[1]], dtype=object),
            "material": np.array([self.materials[k] for k in cols[2]], dtype=object),
            "level": np.array(cols[3], dtype=np.float64),
            "change": np.array(cols[4], dtype=np.float64),
            "reason": np.array(cols[5], dtype=object)}}

    def summary(self) -> dict[str, Any]:
        """Draws, stock-outs, delayed incidents and their minutes of delay, unmet quantity, end levels.

        The incident figures (``incidents_drawing``, ``stockouts``, ``delayed_incidents``,
        ``delay_min``, ``unmet_incidents``, ``unmet_quantity``) count the incidents called
        in the measured window (from the warm-up to the end of the run), as the sweep
        metrics do: ``delayed_incidents`` and ``delay_min`` equal ``material_delayed`` and
        ``material_delay_min`` of :func:`analysis.metrics.resource_metrics`. The stock
        figures are of the whole run, like the ``stock`` table they sum up (so that
        initial + resupplied = consumed + end level holds): ``resupplies`` (deliveries)
        and ``end_level`` (each depot's level at the end).
        """
        m = self.model
        counted = m.book.called_between(m.world.warmup_min, m.until)
        drawing = {i: w for i, w in self.wait.items() if counted[i]}
        unmet = [q for i, q in self.unmet.items() if counted[i]]
        delayed = [w for w in drawing.values() if w > 0]
        return {"incidents_drawing": len(drawing),
                "stockouts": sum(n for i, n in self.stockouts.items() if counted[i]),
                "delayed_incidents": len(delayed), "delay_min": float(sum(delayed)),
                "unmet_incidents": len(unmet), "unmet_quantity": float(sum(unmet)),
                "resupplies": sum(r[5] == RESUPPLIED for r in self.rows),
                "end_level": {d: {m: self.level[j][k] for k, m in enumerate(self.materials)}
                              for j, d in enumerate(self.depots)}}


def _check(world: Any, section: ReservesSection, source: str | None) -> list[dict[int, float]]:
    """Per incident type of the World, the materials it consumes: {material index: quantity}.

    Raises
    ------
    InputError
        A material not in ``materials``, an unknown incident type, a negative quantity.
    """
    base = "components.reserves"
    materials = list(section.materials)
    if len(set(materials)) != len(materials):
        raise InputError("a material is listed twice", source, f"{base}.materials")

    def material(name: str, path: str) -> int:
        if name not in materials:
            raise InputError(f"unknown material {name!r}; expected one of "
                             f"{', '.join(repr(m) for m in materials)}", source, path)
        return materials.index(name)

    for d, depot in section.depots.items():
        for m in depot.stock:
            material(m, f"{base}.depots.{d}.stock.{m}")
        for m in depot.reorder:
            material(m, f"{base}.depots.{d}.reorder.{m}")
    consumes: list[dict[int, float]] = [{} for _ in world.type_names]
    for t, want in section.consumption.items():
        kind = incident_kind(world, t, source, f"{base}.consumption.{t}")
        for m, q in want.items():
            k = material(m, f"{base}.consumption.{t}.{m}")
            if not (q > 0 and math.isfinite(q)):
                raise InputError(f"a quantity must be a positive number (got {q!r})", source,
                                 f"{base}.consumption.{t}.{m}")
            consumes[kind][k] = float(q)
    return consumes


"""Step through a run and fork it on common random numbers (issue #13).

:class:`Drill` builds one run and lets a drill designer run it to a time,
look at its state (units and where they are, open incidents, the queues per
capability and at the call centres, stocks when a ``reserves`` component is
there), go on, and finish it into an ordinary :class:`~sim.results.RunResult`.
Stepping changes nothing: a run stepped through any times gives the event
log of the same run in one go (tests/drills/test_step.py).

:func:`fork` answers "what if, from minute t on, ...?": the branch reruns
the scenario from 0 with the same seed and replication, the change applied
at t as an inject of the ``drill`` section (a policy switch, or injects of
the designer's). Every random number the run draws before t, and every
number after t that the change does not consume, comes from the same
streams, so the two branches are identical before t and differ after it by
the change alone. :func:`compare` puts the incidents called from t on side
by side.
"""

from __future__ import annotations

import copy
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError

#: Keys of ``--set`` that a fork can change at a time t (others are not mid-run changes).
FORK_SETTABLE = ("policy.dispatch", "policy.params.<name>")


@dataclass
class State:
    """What a run looks like at one time (see :meth:`Drill.state`). Tables are pandas DataFrames."""

    t_min: float
    units: pd.DataFrame
    incidents: pd.DataFrame
    queues: pd.DataFrame
    centres: pd.DataFrame
    stocks: pd.DataFrame | None = None

    def text(self) -> str:
        """The state as plain text tables, for the command line."""
        parts = [f"state at {self.t_min:g} min"]
        for name in ("units", "incidents", "queues", "centres", "stocks"):
            frame = getattr(self, name)
            if frame is None:
                continue
            body = frame.to_string(index=False) if len(frame) else "(none)"
            parts.append(f"\n{name} ({len(frame)}):\n{body}")
        return "\n".join(parts)


class Drill:
    """One run that can be stepped: ``run_until(t)``, ``state()``, again, then ``finish()``.

    Lifecycle: built (the scenario is checked and the model assembled, the
    clock at 0) -> ``run_until(t)`` any number of times with growing ``t``
    -> ``finish()`` runs to the end and returns the RunResult (once).

    Parameters
    ----------
    scenario : Scenario, str or Path
        A loaded scenario, a built-in name or a YAML path.
    seed : int, optional
        Root seed (default: the scenario's).
    replication : int
        Replication number.
    policy : str, optional
        Dispatch policy (default: the scenario's).
    params : dict, optional
        Policy parameters (default: the scenario's when its policy is used).
    until : float, optional
        End of the run in minutes (default: the horizon).
    allow_code : bool
        Accept policies and components named ``package.module:Name``.
    """

    def __init__(self, scenario: Any, seed: int | None = None, replication: int = 0, *,
                 policy: str | None = None, params: dict[str, Any] | None = None,
                 until: float | None = None, allow_code: bool = True):
        import scenarios
        from agents import components
        from agents.model import Simulation
        from agents.policies import resolve
        from sim.api import prepare
        from sim.worldcache import cached_world

        self.scenario = prepare(scenario)
        source = scenarios.source_of(self.scenario)
        self.world = world = cached_world(self.scenario)
        self.policy = policy or self.scenario.policy.dispatch
        if params is None:
            params = dict(self.scenario.policy.params) if self.policy == self.scenario.policy.dispatch else {}
        self.params = params
        pol = resolve(self.policy, params, world, source=source if policy is None else "--policy",
                      path="policy.dispatch" if policy is None else None, allow_code=allow_code)
        self.seed = self.scenario.seed if seed is None else seed
        for label, value in (("--seed", self.seed), ("--replication", replication)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"expected a non-negative integer, got {value!r}", label)
        self.replication = replication
        if until is not None and not 0 < until <= world.horizon_min:
            raise InputError(f"expected 0 < until <= horizon ({world.horizon_min:g} min), got {until:g}",
                             "--until")
        parts = components.validate(world.components, source, world, allow_code=allow_code)
        self.model = Simulation(world, pol, self.seed, replication, until=until, parts=parts)
        self._started = time.perf_counter()
        self._done = False

    @property
    def now(self) -> float:
        """The simulated time reached (minutes)."""
        return float(self.model.env.now)

    def run_until(self, t: float) -> Drill:
        """Run the clock to ``t`` (events at exactly ``t`` have not happened yet). Mutates the run.

        Raises
        ------
        InputError
            If ``t`` is before the time reached or after the end of the run.
        """
        from sim.gcpause import paused_gc

        if self._done:
            raise InputError("the run is finished; build a new Drill to step again", "--until")
        if not self.now <= t <= self.model.until:
            raise InputError(f"expected a time from {self.now:g} (reached) to {self.model.until:g} min "
                             f"(the end of the run), got {t:g}", "--until")
        if t > self.now:
            with paused_gc():
                self.model.env.run(until=t)
        return self

    def state(self) -> State:
        """The run's state at the time reached: units, open incidents, queues, call centres, stocks."""
        m = self.model
        stocks = None
        reserves = m.components.get("reserves")
        if reserves is not None and all(hasattr(reserves, a) for a in ("depots", "materials", "level")):
            stocks = pd.DataFrame([(depot, material, float(reserves.level[j][k]))
                                   for j, depot in enumerate(reserves.depots)
                                   for k, material in enumerate(reserves.materials)],
                                  columns=["depot", "material", "level"])
        return State(self.now, _units(m), _open_incidents(m), _queues(m), _centres(m), stocks)

    def finish(self) -> Any:
        """Run to the end and return the :class:`~sim.results.RunResult` (the same as ``sim.run``'s)."""
        if self._done:
            raise InputError("the run is finished already", "finish")
        self._done = True
        from sim.api import assemble

        return assemble(self.model.run(), self.scenario, self.policy, self.params, self._started)


# -- the state tables ------------------------------------------------------------------
def _units(m: Any) -> pd.DataFrame:
    """Every unit: its state, its incident, and where it is now (km; a unit on its way: the last node)."""
    from agents.responders import BUSY, STATE_NAMES

    w, fleet, now = m.world, m.fleet, m.env.now
    locs = fleet.loc.copy()
    for u in range(w.n_units):
        if u in fleet.moving:
            locs[u] = fleet.position_now(u)
        elif fleet.state[u] == BUSY and math.isnan(fleet.units[u].t_arrive):   # on its way to a scene
            unit = fleet.units[u]
            turnout = unit.turnout if unit.from_station else 0.0
            elapsed = (now - unit.t_dispatch - turnout) * unit.speed
            if elapsed > 0:
                locs[u] = m.travel.position(int(fleet.loc[u]), int(m.book.loc[unit.job]), elapsed)
    xy = m.travel.xy(locs)
    jobs = [fleet.units[u].job if fleet.state[u] == BUSY else -1 for u in range(w.n_units)]
    return pd.DataFrame({
        "unit": list(w.unit_names),
        "kind": [w.unit_type_names[t] for t in w.unit_type],
        "station": [w.station_names[s] for s in w.unit_station],
        "state": [STATE_NAMES[s] for s in fleet.state],
        "incident": pd.array([j if j >= 0 else None for j in jobs], dtype="Int64"),
        "x_km": xy[:, 0], "y_km": xy[:, 1],
    })


def _open_incidents(m: Any) -> pd.DataFrame:
    """Incidents called and not closed yet: the time of the call, units sent, units still wanted."""
    from agents.incidents import OPEN

    w, b, now = m.world, m.book, m.env.now
    n = int(np.searchsorted(b.stream.t_call, now, side="left"))     # the stream's calls so far
    ids = [i for i in [*range(n), *range(b.stream.n, b.n)] if b.status[i] == OPEN]
    caps, s = w.capability_names, b.stream

    def t_call(i: int) -> float:
        return float(s.t_call[i]) if i < s.n else float(b.raised["t_call"][i - s.n])

    return pd.DataFrame({
        "incident_id": np.array(ids, dtype=np.int64),
        "kind": [w.type_names[b.kind[i]] for i in ids],
        "district": [w.district_names[b.district[i]] for i in ids],
        "priority": [int(b.priority[i]) for i in ids],
        "t_call_min": [t_call(i) for i in ids],
        "units_assigned": [int(b.n_assigned[i]) for i in ids],
        "waiting_for": [", ".join(f"{caps[c]} {k}" for c, k in enumerate(b.need_of(i)) if k) for i in ids],
    })


def _queues(m: Any) -> pd.DataFrame:
    """Per capability: incidents waiting for a unit of it, most urgent first."""
    b, caps, n_caps = m.book, m.world.capability_names, m.book.n_caps
    rows = []
    for c, heap in enumerate(m.dispatch.queues):
        waiting = sorted(key for key in heap if b.need[key[1] * n_caps + c] > 0)
        rows.append((caps[c], len(waiting), " ".join(str(i) for _, i in waiting[:20])))
    return pd.DataFrame(rows, columns=["capability", "waiting", "incident_ids"])


def _centres(m: Any) -> pd.DataFrame:
    """Per call centre: down or up, calls on hold, free call-takers (-1: unlimited)."""
    rows = [(c.name, c.down, len(c.held_calls()), -1 if c.unlimited else c.free_takers)
            for c in m.calls.centres]
    return pd.DataFrame(rows, columns=["centre", "down", "on_hold", "free_call_takers"])


# -- fork ------------------------------------------------------------------------------
@dataclass
class Fork:
    """A fork's branch, its parent, and their comparison (see :func:`fork`)."""

    branch: Any
    parent: Any
    at_min: float
    change: dict[str, Any]
    prefix_identical: bool | None
    comparison: pd.DataFrame


def change_injects(at: float, change: dict[str, Any], policy: str, params: dict[str, Any]) -> list[dict]:
    """The injects (as scenario data) that make ``change`` at ``at`` minutes.

    Parameters
    ----------
    at : float
        Minutes.
    change : dict
        ``{"policy": name}`` and/or ``{"params": {...}}``, ``{"set": {key: value}}`` (keys
        ``policy.dispatch``, ``policy.params.<name>``), ``{"injects": [inject, ...]}``.
    policy, params : str, dict
        The parent run's policy.

    Returns
    -------
    list of dict

    Raises
    ------
    InputError
        Unknown keys, a --set key that is not a policy key, nothing to change.
    """
    unknown = sorted(set(change) - {"policy", "params", "set", "injects"})
    if unknown:
        raise InputError(f"unknown change {unknown[0]!r}; expected policy, params, set or injects", "change")
    new_policy, new_params = change.get("policy"), dict(change.get("params") or {})
    for key, value in (change.get("set") or {}).items():
        if key == "policy.dispatch":
            new_policy = str(value)
        elif key.startswith("policy.params.") and len(key) > len("policy.params."):
            new_params[key.removeprefix("policy.params.")] = value
        else:
            raise InputError(f"cannot change {key!r} at a time t; --set takes {' or '.join(FORK_SETTABLE)} "
                             "(give other changes as injects with --inject FILE)", "--set")
    injects: list[dict] = []
    if new_policy is not None or new_params:
        name = new_policy or policy
        merged = ({**params, **new_params} if name == policy else new_params)
        injects.append({"id": "fork-policy", "at": at, "kind": "policy_switch", "dispatch": name,
                        "params": merged, "description": f"fork: dispatch policy {name} from here on"})
    for k, inject in enumerate(change.get("injects") or []):
        if not isinstance(inject, dict):
            raise InputError(f"expected an inject (a mapping), got {type(inject).__name__}", f"injects[{k}]")
        inject = dict(inject)
        inject.setdefault("at", at)
        injects.append(inject)
    if not injects and change:
        raise InputError("the change changes nothing", "change")
    return injects


def forked_scenario(scenario: Any, at: float, injects: list[dict], source: str = "the change") -> Any:
    """The scenario with ``injects`` added to its drill section (made when it has none).

    ``source`` names the change in errors (the ``--inject`` file).

    Raises
    ------
    InputError
        When an inject comes before ``at`` or the result does not validate (one line).
    """
    import scenarios
    from scenarios.drill import inject_minutes

    doc = scenario.model_dump(mode="json", by_alias=True)
    drill = doc.get("drill") or {"injects": []}
    old = len(drill.get("injects", []))
    drill["injects"] = [*drill.get("injects", []), *copy.deepcopy(injects)]
    doc["drill"] = drill
    try:
        forked = scenarios.from_dict(doc, source=source)
    except InputError as exc:  # name the change's own inject, not its place in the merged list
        found = re.fullmatch(r"drill\.injects\[(\d+)\](.*)", exc.path or "")
        if found is None or int(found[1]) < old:
            raise
        raise InputError(exc.message, source, f"injects[{int(found[1]) - old}]{found[2]}") from None
    for k, inject in enumerate(forked.drill.injects[old:]):
        when = inject_minutes(inject.at, forked.time.start)
        if when < at:
            raise InputError(f"inject {inject.id!r} at {when:g} min comes before the fork's time "
                             f"({at:g} min)", source, f"injects[{k}].at")
    return forked


def fork(scenario: Any, at: float, change: dict[str, Any], *, seed: int | None = None,
         replication: int = 0, policy: str | None = None, params: dict[str, Any] | None = None,
         until: float | None = None, parent: Any = None, parent_label: str | None = None,
         allow_code: bool = True, source: str = "the change") -> Fork:
    """Run a branch of a run from ``at`` on with ``change``, on the same random numbers, and compare.

    Parameters
    ----------
    scenario : Scenario, str or Path
        The parent's scenario.
    at : float
        Minutes: the change takes effect here.
    change : dict
        See :func:`change_injects`; ``{}`` forks without a change (the branch must equal the parent).
    seed, replication, policy, params, until
        The parent's (defaults as for :func:`sim.run`).
    parent : RunResult, optional
        The parent run (default: run now).
    parent_label : str, optional
        What run.json ``fork.parent`` names (default: the scenario's SHA-256).
    allow_code : bool
        As for :func:`sim.run`.
    source : str
        What errors in the change name (the ``--inject`` file).

    Returns
    -------
    Fork

    Raises
    ------
    InputError
        A time outside the run, a bad change.
    """
    import scenarios
    import sim
    from sim.api import prepare

    scenario = prepare(scenario)
    policy = policy or scenario.policy.dispatch
    if params is None:
        params = dict(scenario.policy.params) if policy == scenario.policy.dispatch else {}
    end = scenario.time.horizon if until is None else until
    if not 0 <= at < end:
        raise InputError(f"expected 0 <= at < the end of the run ({end:g} min), got {at:g}", "--at")
    injects = change_injects(at, change, policy, params)
    taken = {x.id for x in scenario.drill.injects} if scenario.drill is not None else set()
    for inject in injects:       # a fork of a fork: the policy switch's id numbered afresh
        n = 1
        while inject["id"].startswith("fork-policy") and inject["id"] in taken:
            n += 1
            inject["id"] = f"fork-policy-{n}"
    branch_scenario = forked_scenario(scenario, at, injects, source) if injects else scenario
    run = dict(policy=policy, params=params, seed=seed, replication=replication, until=until,
               allow_code=allow_code)
    if parent is None:
        parent = sim.run(scenario, **run)
    branch = sim.run(branch_scenario, **run)
    same = prefix_identical(parent.events, branch.events, at)
    branch.meta["fork"] = {"parent": parent_label or scenarios.scenario_hash(scenario), "at_min": float(at),
                           "change": change, "prefix_identical": same}
    return Fork(branch, parent, float(at), change, same, compare(parent.incidents, branch.incidents, at))


def prefix_identical(a: pd.DataFrame, b: pd.DataFrame, at: float) -> bool | None:
    """Whether two event logs agree on every row before ``at`` (None when one is empty: no log kept)."""
    from sim.replay import events_sha256

    if a is None or b is None or not len(a) or not len(b):
        return None
    cols = ["t_min", "kind", "incident_id", "unit_id", "detail"]
    head = [x.loc[x["t_min"] < at, cols].reset_index(drop=True) for x in (a, b)]
    return events_sha256(head[0]) == events_sha256(head[1])


def compare(parent: pd.DataFrame, branch: pd.DataFrame, at: float) -> pd.DataFrame:
    """The incidents called from ``at`` on in two branches, side by side.

    Rows: incidents, resolved, unserved, abandoned, open at the end, mean and
    90th percentile response (minutes), share within target; and over the
    incidents both branches share (same id, type and call time) the mean
    paired difference of response (branch - parent) and how many changed.

    Parameters
    ----------
    parent, branch : pandas.DataFrame
        Incidents tables.
    at : float
        Minutes.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure``, ``parent``, ``branch``, ``difference``.
    """
    rows = []
    sides = [df[df["t_call_min"] >= at] for df in (parent, branch)]

    def add(name: str, a: float, b: float) -> None:
        rows.append((name, a, b, b - a))

    add("incidents", *(float(len(s)) for s in sides))
    for status in ("resolved", "unserved", "abandoned", "open_at_end"):
        add(status, *(float((s["status"].astype(str) == status).sum()) for s in sides))
    response = [s["response_min"].dropna() for s in sides]
    add("mean response (min)", *(float(r.mean()) if len(r) else math.nan for r in response))
    add("p90 response (min)", *(float(r.quantile(0.9)) if len(r) else math.nan for r in response))
    within = []
    for s in sides:
        has = s["target_min"].notna() & s["response_min"].notna()
        within.append(float((s.loc[has, "response_min"] <= s.loc[has, "target_min"]).mean()) if has.any()
                      else math.nan)
    add("within target (share)", *within)
    keys = ["incident_id", "kind", "t_call_min"]
    both = sides[0][[*keys, "response_min"]].astype({"kind": str}).merge(
        sides[1][[*keys, "response_min"]].astype({"kind": str}), on=keys, suffixes=("_parent", "_branch"))
    diff = (both["response_min_branch"] - both["response_min_parent"]).dropna()
    rows.append(("shared incidents", float(len(both)), float(len(both)), 0.0))
    rows.append(("paired response difference (min)", math.nan, math.nan,
                 float(diff.mean()) if len(diff) else math.nan))
    changed = ((both["response_min_branch"] != both["response_min_parent"])
               & ~(both["response_min_branch"].isna() & both["response_min_parent"].isna()))
    rows.append(("shared incidents whose response changed", math.nan, math.nan, float(changed.sum())))
    return pd.DataFrame(rows, columns=["measure", "parent", "branch", "difference"])


def fork_run_dir(run_dir: str | Path, at: float, change: dict[str, Any], *, allow_code: bool = False,
                 source: str = "the change") -> Fork:
    """Fork a stored run (its directory) at ``at`` with ``change``; the parent is read, not rerun.

    The parent's scenario.json must match its run.json hash (as for a replay).

    Raises
    ------
    InputError
        Not a run directory, a changed scenario, code named without ``allow_code``, a bad change.
    """
    from sim.replay import code_names, read_run_dir, stored_scenario

    stored = read_run_dir(Path(run_dir))
    scenario = stored_scenario(stored)
    meta = stored.meta
    code = code_names(meta, scenario)
    if code and not allow_code:
        raise InputError(f"the run imported code ({', '.join(code)}); add --allow-code to import it again",
                         str(stored.path))
    parent = _Stored(*(_table(stored.path, name) for name in ("incidents", "events")))
    until = float(meta["until_min"]) if float(meta["until_min"]) < float(meta["horizon_min"]) else None
    return fork(scenario, at, change, seed=meta["seed"], replication=meta["replication"],
                policy=meta["policy"]["dispatch"], params=dict(meta["policy"]["params"]), until=until,
                parent=parent, parent_label=str(run_dir), allow_code=bool(code) and allow_code, source=source)


def _table(path: Path, name: str) -> pd.DataFrame:
    """A table of a run directory; one line naming the directory when it is missing or unreadable."""
    file = path / f"{name}.parquet"
    if not file.is_file():
        raise InputError(f"missing table {name}.parquet (a fork compares with the parent's incidents and "
                         "events)", str(path))
    try:
        return pd.read_parquet(file)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot be read: {' '.join(str(exc).split())[:200]}", str(file)) from None


@dataclass
class _Stored:
    """The tables of a stored parent run that a fork compares with."""

    incidents: pd.DataFrame
    events: pd.DataFrame

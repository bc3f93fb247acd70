"""The public face: ``sim.run(scenario, policy=..., seed=..., replication=...)``.

This is the one place (with the CLI) that joins scenarios, the engine and the
agents: it imports the model assembly when called.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.geotable import geography_columns
from sim.replay import engine_sha256, events_sha256
from sim.results import RunResult, git_revision, versions
from sim.world import World
from sim.worldcache import cached_world


def prepare(scenario: Any, days: float | None = None, warmup: float | None = None) -> Any:
    """Load ``scenario`` (a name or path) and set its horizon to ``days`` and its warm-up to ``warmup``.

    ``days`` count the whole run, warm-up included: ``days=30`` with a 1-day
    warm-up measures 29 days. A warm-up that leaves nothing to measure is
    refused (never shortened behind the caller's back).

    Raises
    ------
    InputError
        On a bad scenario, a non-positive number of days, or a warm-up not shorter than the run.
    """
    import scenarios
    from scenarios.durations import format_duration as _short

    def format_duration(minutes: float) -> str:
        return f"{minutes / 1440:g} d" if minutes >= 1440 else _short(minutes)

    if isinstance(scenario, str | Path):
        scenario = scenarios.load(scenario)
    changes: dict[str, float] = {}
    horizon = scenario.time.horizon
    if days is not None:
        if not days > 0:
            raise InputError(f"expected a positive number of days, got {days}", "--days")
        horizon = changes["time.horizon"] = float(days) * 1440.0
        if warmup is None and horizon <= scenario.time.warmup:
            raise InputError(f"{days:g} d leaves nothing to measure after the scenario's "
                             f"{scenario.time.warmup / 1440:g}-day warm-up (time.warmup); give more days, "
                             "or a shorter warm-up with --warmup (such as --warmup 0)", "--days")
    if warmup is not None:
        if not 0 <= warmup < horizon:
            raise InputError(f"the warm-up must be shorter than the run ({format_duration(horizon)}), "
                             f"got {format_duration(warmup)}", "--warmup")
        changes["time.warmup"] = float(warmup)
    if changes:
        try:
            scenario = scenarios.override(scenario, changes)
        except InputError as exc:
            flag = "--days" if days is not None else "--warmup"
            raise InputError(f"does not fit this scenario: {exc.message}", flag) from None
    return scenario


def run(scenario: Any, policy: str | None = None, seed: int | None = None,
        replication: int = 0, until: float | None = None, *, days: float | None = None,
        params: dict[str, Any] | None = None, world: World | None = None,
        log_events: bool = True, allow_code: bool = True, probe: Any = None) -> RunResult:
    """Run one replication of a scenario.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A loaded scenario, a built-in name (``"ansan"``) or a YAML path.
    policy : str, optional
        Dispatch policy name or ``module:attribute``; default: the scenario's.
    seed : int, optional
        Root seed; default: the scenario's ``seed``.
    replication : int
        Replication number (selects independent random streams).
    until : float, optional
        Stop the run at this time (minutes); default: the horizon.
    days : float, optional
        Set the horizon to this many days (demand is generated for them).
    params : dict, optional
        Policy parameters; default: the scenario's when its policy is used.
    world : World, optional
        A World already compiled from ``scenario`` (saves work in sweeps).
    log_events : bool
        Keep the event log.
    allow_code : bool
        Accept policies and components named as ``package.module:Name`` (imports them; the
        command line passes its ``--allow-code``, off by default there).
    probe : callable, optional
        Called with the model after it is built and before it runs (``sim.replay`` records the
        units' trips through it); it must not change the run.

    Returns
    -------
    RunResult

    Raises
    ------
    InputError
        Bad scenario, policy, seed, replication or time limits.
    """
    import scenarios
    from agents import components
    from agents.model import Simulation
    from agents.policies import resolve

    scenario = prepare(scenario, days)
    source = scenarios.source_of(scenario)
    world = world or cached_world(scenario)  # compiled once per scenario and engine version
    name = policy or scenario.policy.dispatch
    if params is None:
        params = dict(scenario.policy.params) if name == scenario.policy.dispatch else {}
    if policy is None:
        pol = resolve(name, params, world, source=source, allow_code=allow_code)
    else:
        pol = resolve(name, params, world, source="--policy", path=None, allow_code=allow_code)
    seed = scenario.seed if seed is None else seed
    for label, value in (("--seed", seed), ("--replication", replication)):
        if not isinstance(value, int) or value < 0:
            raise InputError(f"expected a non-negative integer, got {value!r}", label)
    if until is not None and not world.warmup_min < until <= world.horizon_min:
        raise InputError(f"expected warm-up ({world.warmup_min:g} min) < until <= horizon "
                         f"({world.horizon_min:g} min), got {until:g}", "--until")
    parts = components.validate(world.components, source, world, allow_code=allow_code)
    started = time.perf_counter()
    model = Simulation(world, pol, seed, replication, until=until, log_events=log_events, parts=parts)
    if probe is not None:
        probe(model)  # sim.replay's trip recorder: looks, never draws or changes what the run does
    model.run()
    return assemble(model, scenario, name, params, started, log_events)


def assemble(model: Any, scenario: Any, policy: str, params: dict[str, Any], started: float,
             log_events: bool = True) -> RunResult:
    """The RunResult of a finished model: its tables and run.json (provenance, figures, log hash).

    Parameters
    ----------
    model : agents.model.Simulation
        After its ``run()``; its book is released here.
    scenario : Scenario
    policy : str
        The dispatch policy's name, with its ``params``.
    params : dict
    started : float
        ``time.perf_counter()`` when the run began.
    log_events : bool
        Whether the run kept its event log (``events_sha256`` is None when not).

    Returns
    -------
    RunResult
    """
    import scenarios

    world = model.world
    columns = model.tables()
    columns.update(model.component_tables())
    columns["geography"] = geography_columns(world)
    figures = model.component_summary()
    n_events, until_min = len(model.log), model.until
    model.release()
    meta = {
        "scenario": scenario.name,
        "scenario_sha256": scenarios.scenario_hash(scenario),
        "scenario_source": scenarios.source_of(scenario),
        "policy": {"dispatch": policy, "params": params},
        "seed": model.seed,
        "replication": model.replication,
        "horizon_min": world.horizon_min,
        "warmup_min": world.warmup_min,
        "until_min": until_min,
        "start": world.start.isoformat(),
        "versions": versions(),
        "git_revision": git_revision(),
        "engine_sha256": engine_sha256(),
        "n_events": n_events,
        "events_sha256": None,          # of the events table, below (None when the log was off)
        "wall_time_s": round(time.perf_counter() - started, 4),
    }
    if figures:
        meta["components"] = figures
    result = RunResult.from_columns(columns, meta, scenario.model_dump(mode="json", by_alias=True))
    if log_events:                      # what `anjeon replay` checks, even without events.parquet
        result.meta["events_sha256"] = events_sha256(result.events)
    return result

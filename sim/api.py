"""The public face: ``sim.run(scenario, policy=..., seed=..., replication=...)``.

This is the one place (with the CLI) that joins scenarios, the engine and the
agents: it imports the model assembly when called.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.results import RunResult, git_revision, versions
from sim.world import World, compile_world


def prepare(scenario: Any, days: float | None = None) -> Any:
    """Load ``scenario`` if it is a name or path; with ``days``, set its horizon.

    Raises
    ------
    InputError
        On a bad scenario or a non-positive number of days.
    """
    import scenarios

    if isinstance(scenario, str | Path):
        scenario = scenarios.load(scenario)
    if days is not None:
        if not days > 0:
            raise InputError(f"expected a positive number of days, got {days}", "--days")
        try:
            scenario = scenarios.override(scenario, {"time.horizon": float(days) * 1440.0})
        except InputError as exc:
            raise InputError(f"{days:g} days do not fit this scenario: {exc.message}", "--days") from None
    return scenario


def run(scenario: Any, policy: str | None = None, seed: int | None = None,
        replication: int = 0, until: float | None = None, *, days: float | None = None,
        params: dict[str, Any] | None = None, world: World | None = None,
        log_events: bool = True) -> RunResult:
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
    world = world or compile_world(scenario)
    name = policy or scenario.policy.dispatch
    if params is None:
        params = dict(scenario.policy.params) if name == scenario.policy.dispatch else {}
    if policy is None:
        pol = resolve(name, params, world, source=source)
    else:
        pol = resolve(name, params, world, source="--policy", path=None)
    seed = scenario.seed if seed is None else seed
    for label, value in (("--seed", seed), ("--replication", replication)):
        if not isinstance(value, int) or value < 0:
            raise InputError(f"expected a non-negative integer, got {value!r}", label)
    if until is not None and not world.warmup_min < until <= world.horizon_min:
        raise InputError(f"expected warm-up ({world.warmup_min:g} min) < until <= horizon "
                         f"({world.horizon_min:g} min), got {until:g}", "--until")
    parts = components.validate(world.components, source, world)
    started = time.perf_counter()
    model = Simulation(world, pol, seed, replication, until=until, log_events=log_events, parts=parts).run()
    columns = model.tables()
    columns.update(model.component_tables())
    figures = model.component_summary()
    n_events, until_min = len(model.log), model.until
    model.release()
    meta = {
        "scenario": scenario.name,
        "scenario_sha256": scenarios.scenario_hash(scenario),
        "scenario_source": source,
        "policy": {"dispatch": name, "params": params},
        "seed": seed,
        "replication": replication,
        "horizon_min": world.horizon_min,
        "warmup_min": world.warmup_min,
        "until_min": until_min,
        "start": world.start.isoformat(),
        "versions": versions(),
        "git_revision": git_revision(),
        "n_events": n_events,
        "wall_time_s": round(time.perf_counter() - started, 4),
    }
    if figures:
        meta["components"] = figures
    return RunResult.from_columns(columns, meta, scenario.model_dump(mode="json", by_alias=True))

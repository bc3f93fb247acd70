"""Write a sweep directory in the issue #3 layout from real engine runs (tests and benchmarks only).

The sweep runner of issue #3 writes this layout; this small stand-in lets the
analysis be tested without it:

    experiment.yaml, plan.json, manifest.jsonl, summary.parquet, runs/<run_id>/
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import scenarios
import sim
from analysis.metrics import run_metrics
from sim.api import prepare


def plan_of(factors: dict[str, tuple[str | None, Sequence[Any]]], replications: int,
            seed: int) -> dict[str, Any]:
    """Plan of a full grid; ``factors``: name -> (scenario field path, or None for the policy; levels)."""
    names = list(factors)
    configs = []
    for i, combo in enumerate(itertools.product(*(levels for _, levels in factors.values()))):
        values = dict(zip(names, combo, strict=True))
        label = ", ".join(f"{k}={v}" for k, v in values.items())
        configs.append({"config_id": f"c{i:03d}", "label": label, "values": values})
    return {"factors": [{"name": n, "path": p, "levels": list(lv)} for n, (p, lv) in factors.items()],
            "configurations": configs, "seeds": [seed], "replications": replications,
            "baseline": configs[0]["config_id"]}


def _one(task: tuple) -> tuple[dict, dict]:
    out, scenario_name, days, factors, config, rep, seed, keep = task
    base = scenarios.load(scenario_name) if isinstance(scenario_name, str) else scenario_name
    overrides = {path: config["values"][name] for name, (path, _) in factors.items() if path}
    policy = next((config["values"][n] for n, (p, _) in factors.items() if p is None), None)
    scenario = prepare(scenarios.override(base, overrides) if overrides else base, days)
    run_id = f"{config['config_id']}-r{rep:03d}"
    t0 = time.perf_counter()
    result = sim.run(scenario, policy=policy, seed=seed, replication=rep)
    wall = time.perf_counter() - t0
    run_dir = result.write(Path(out) / "runs" / run_id)
    for name in ("incidents", "assignments", "units", "events"):
        if name not in keep:
            (run_dir / f"{name}.parquet").unlink()
    manifest = {"run_id": run_id, "config_id": config["config_id"], "config": config["values"],
                "label": config["label"], "scenario": scenario.name,
                "policy": result.meta["policy"]["dispatch"], "seed": seed, "replication": rep,
                "status": "ok", "wall_time_s": wall, "versions": result.meta["versions"],
                "error": None, "traceback": None}
    row = {"run_id": run_id, "config_id": config["config_id"], "label": config["label"],
           **config["values"], "scenario": scenario.name, "policy": result.meta["policy"]["dispatch"],
           "seed": seed, "replication": rep, "wall_time_s": wall,
           **run_metrics(result.incidents, result.units)}
    return manifest, row


def make_sweep(out: str | Path, scenario: str | Any = "ansan", days: float = 3.0,
               factors: dict[str, tuple[str | None, Sequence[Any]]] | None = None, replications: int = 3,
               seed: int = 1, keep: Sequence[str] = ("incidents", "assignments", "units", "events"),
               failed: bool = False, workers: int = 1) -> Path:
    """Run a full-grid sweep with common random numbers and write its directory.

    Parameters
    ----------
    out : path
        The sweep directory (created).
    scenario : str or Scenario
        Base scenario.
    days : float
        Horizon of each run.
    factors : dict
        ``{name: (field path, levels)}``; a path of None means the dispatch policy.
    replications : int
        Replications per configuration (replication r shares random numbers across configurations).
    seed : int
        Root seed.
    keep : sequence of str
        Tables kept in each run directory.
    failed : bool
        Also record one failed run attempt in the manifest.
    workers : int
        Processes used to run the sweep.

    Returns
    -------
    Path
        The sweep directory.
    """
    factors = factors or {"policy": (None, ["nearest", "district_first"])}
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    plan = plan_of(factors, replications, seed)
    tasks = [(str(out), scenario, days, factors, c, r, seed, tuple(keep))
             for c in plan["configurations"] for r in range(replications)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            done = list(pool.map(_one, tasks))
    else:
        done = [_one(t) for t in tasks]
    manifest = [m for m, _ in done]
    if failed:
        manifest.append({**manifest[0], "run_id": "c999-r000", "config_id": "c999", "status": "failed",
                         "error": "RuntimeError: boom <b>", "traceback": "Traceback ...\nRuntimeError: boom"})
    name = scenario if isinstance(scenario, str) else scenario.name
    (out / "experiment.yaml").write_text(yaml.safe_dump(
        {"name": "test sweep", "scenarios": [name], "replications": replications, "seed": seed,
         "factors": {n: {"path": p, "levels": list(lv)} for n, (p, lv) in factors.items()}}))
    (out / "plan.json").write_text(json.dumps(plan, indent=1))
    (out / "manifest.jsonl").write_text("".join(json.dumps(m) + "\n" for m in manifest))
    pd.DataFrame([r for _, r in done]).to_parquet(out / "summary.parquet", index=False)
    return out

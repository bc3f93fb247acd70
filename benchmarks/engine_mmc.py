"""Engine throughput on the M/M/c scenario, beside a minimal hand-written SimPy model.

Both sides simulate the same queue (c = 5 servers, mean service 10 min,
utilisation 0.8) for the same number of simulated days, in this process,
alternating so that machine noise hits both alike. Reported per side:
customers per CPU-second of this process (``time.process_time``: robust to
other processes sharing the machine), median over repetitions, the ratio
engine / plain SimPy of those medians, the median of the per-repetition
ratios (paired: robust to the machine's speed drifting between
repetitions), the ratio of the best repetitions (the fastest run of each
side: machine noise only ever slows a run down, so the best is the least
disturbed, as ``timeit`` advises), and the wall-clock rates beside them.
Garbage is collected between sections, outside the timing.

- ``plain_simpy``: ``simpy.Resource`` with one process per customer;
  inter-arrival and service times drawn up front with numpy; records waits.
- ``engine_full``: ``sim.run`` on the built-in ``mmc`` scenario with its
  World compiled once: incident stream, Mesa agents, SimPy event loop, event
  log on, the four result tables (the summary is computed on first use, so
  not here).
- ``engine_loop``: the same run without building tables (Simulation.run only).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import simpy

import scenarios
import sim
from agents.model import Simulation
from agents.policies import resolve
from analysis.stats import median_interval
from benchmarks import write_figures

C, MU_PER_MIN, RHO = 5, 0.1, 0.8


def plain_simpy(days: float, seed: int) -> tuple[int, float]:
    """Customers served and seconds taken by a minimal SimPy M/M/c model."""
    lam = RHO * C * MU_PER_MIN
    rng = np.random.default_rng(seed)
    n = int(rng.poisson(lam * days * 1440))
    t0 = time.process_time()
    gaps = rng.exponential(1 / lam, n).tolist()
    service = rng.exponential(1 / MU_PER_MIN, n).tolist()
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=C)
    waits: list[float] = []

    def customer(i: int):
        arrived = env.now
        with server.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(service[i])

    def source():
        for i in range(n):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    env.run()
    return n, time.process_time() - t0


def engine(days: float, seed: int, world, scenario, tables: bool) -> tuple[int, float]:
    """Customers and CPU seconds for the engine (full ``sim.run`` or the event loop alone)."""
    t0 = time.process_time()
    if tables:
        result = sim.run(scenario, world=world, seed=seed)
        n = len(result.incidents)
    else:
        model = Simulation(world, resolve("nearest", {}, world), seed).run()
        n = model.book.stream.n
    return n, time.process_time() - t0


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="benchmarks.engine_mmc")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repetitions")
    parser.add_argument("--out", type=Path, default=Path("out/bench/engine_mmc.json"))
    args, _ = parser.parse_known_args(argv)
    days, reps = (10, 3) if args.quick else (60, 21)
    scenario = scenarios.override(scenarios.load("mmc"), {"time.horizon": f"{days} d"})
    world = sim.compile(scenario)
    engine(2, 0, sim.compile(scenarios.override(scenario, {"time.horizon": "3 d"})), scenario, True)
    rates: dict[str, list[float]] = {"plain_simpy": [], "engine_full": [], "engine_loop": []}
    wall: dict[str, list[float]] = {k: [] for k in rates}
    faults: dict[str, list[int]] = {k: [] for k in rates}
    for rep in range(reps):
        for name, fn in (("plain_simpy", lambda s: plain_simpy(days, s)),
                         ("engine_full", lambda s: engine(days, s, world, scenario, True)),
                         ("engine_loop", lambda s: engine(days, s, world, scenario, False))):
            gc.collect()  # the previous section's garbage (model cycles) is not charged to this one
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            w0 = time.perf_counter()
            n, secs = fn(100 + rep)
            wall[name].append(n / (time.perf_counter() - w0))
            faults[name].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
            rates[name].append(n / secs)
    med = {k: statistics.median(v) for k, v in rates.items()}
    best = {k: max(v) for k, v in rates.items()}
    # paired: each repetition's three sections run within a second or two of each other, so the
    # machine's drift (its speed varied 2x within a minute on a shared 2-core VM) cancels in the ratio
    ratios = {k: [e / p for e, p in zip(rates[k], rates["plain_simpy"], strict=True)]
              for k in ("engine_full", "engine_loop")}
    paired = {k: statistics.median(v) for k, v in ratios.items()}
    interval = {k: median_interval(v) for k, v in ratios.items()}
    figures = {
        "days_simulated": days,
        "repetitions": reps,
        "customers_per_cpu_s_median": {k: round(v) for k, v in med.items()},
        "ratio_engine_full_to_plain_simpy": round(med["engine_full"] / med["plain_simpy"], 3),
        "ratio_engine_loop_to_plain_simpy": round(med["engine_loop"] / med["plain_simpy"], 3),
        "paired_ratio_engine_full_median": round(paired["engine_full"], 3),
        "paired_ratio_engine_loop_median": round(paired["engine_loop"], 3),
        "paired_ratio_median_interval": {
            k: {"low": round(lo, 3), "high": round(hi, 3), "coverage": round(cov, 3)}
            for k, (lo, hi, cov) in interval.items()},
        "best_ratio_engine_full": round(best["engine_full"] / best["plain_simpy"], 3),
        "best_ratio_engine_loop": round(best["engine_loop"] / best["plain_simpy"], 3),
        "customers_per_cpu_s_best": {k: round(v) for k, v in best.items()},
        "all_customers_per_cpu_s": {k: [round(x) for x in v] for k, v in rates.items()},
        "customers_per_wall_s_median": {k: round(statistics.median(v)) for k, v in wall.items()},
        "page_faults_median": {k: round(statistics.median(v)) for k, v in faults.items()},
    }
    print(f"M/M/{C} at utilisation {RHO}, {days} simulated days, {reps} alternating repetitions")
    for k, v in med.items():
        print(f"  {k:12s} {v:10.0f} customers per CPU-second (median; wall: "
              f"{figures['customers_per_wall_s_median'][k]:.0f}/s)")
    print(f"  ratio engine_full / plain_simpy = {figures['ratio_engine_full_to_plain_simpy']}")
    print(f"  ratio engine_loop / plain_simpy = {figures['ratio_engine_loop_to_plain_simpy']}")
    coverage = interval["engine_full"][2]
    print(f"  paired (median of per-repetition ratios, {100 * coverage:.0f}% interval): "
          + ", ".join(f"{k} {paired[k]:.3f} [{interval[k][0]:.3f}, {interval[k][1]:.3f}]" for k in paired))
    print(f"  best repetitions: engine_full {figures['best_ratio_engine_full']:.3f}, "
          f"engine_loop {figures['best_ratio_engine_loop']:.3f}")
    print("  page faults per run (median): "
          + ", ".join(f"{k} {v}" for k, v in figures["page_faults_median"].items()))
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()

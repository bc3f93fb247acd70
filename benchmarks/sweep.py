"""Sweep throughput: runs per minute, parallel efficiency 1 vs 2 processes, Dask per-task overhead.

A sweep of ansan runs (``nearest`` and ``district_first``, a long horizon so
that each run takes a few seconds) is run through the public
:func:`experiments.run_sweep` into fresh sweep directories with three
executors in turn (process pool with 1 worker, with 2, Dask LocalCluster
with 2), ``--repetitions`` times each. Each session reports ``run_s`` (first
submission to last outcome, workers already started: the steady state),
``total_s`` (everything: planning, the numba warm-up run, worker start-up),
the mean time a run took inside its worker, and how busy the worker slots
were (sum of in-worker run times / (workers x run_s)); the idle slot time
per run is the executor's overhead plus the imbalance at the end. Parallel
efficiency is ``T(1 worker) / (2 * T(2 workers))`` on medians.

Dask per-task overhead, on a ``LocalCluster`` of two single-threaded
worker processes started by :class:`experiments.DaskExecutor`:

- ``roundtrip_ms``: submit one no-op task and wait for its result, one at a
  time (median): the latency a task pays for scheduling and transport.
- ``amortised_ms``: the wall time of ``n`` no-op tasks submitted at once,
  times the workers, divided by ``n``: the cost per task when the cluster
  is kept busy.
- ``sweep_idle_ms_per_run_minus_pool``: idle slot time per run of the sweep
  on Dask minus that on the 2-process pool;
- ``run_slowdown_in_dask_worker``: time of a run inside a Dask worker over
  that inside a pool process (the worker's event loop shares the GIL).

Peers, measured after each round of sweep sessions with the same number of
tasks on 1 and 2 spawned processes (workers started and warmed first):

- ``engine_peer``: plain ``sim.run`` calls of the same runs, no sweep
  machinery: the efficiency the engine itself gets on this machine;
- ``cpu_peer``: a pure-Python loop (no memory traffic, no I/O): what the
  machine gives a perfectly parallel workload at that moment.

On a machine shared with other work, or whose two vCPUs share a physical
core, both peers are below 1; the sweep's own cost is
``efficiency_relative_to_engine_peer`` (and the slot utilisation). The
load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import yaml

from benchmarks import write_figures
from experiments import DaskExecutor, PoolExecutor, run_sweep
from experiments.runner import ready


def write_spec(folder: Path, days: float, replications: int) -> Path:
    """The benchmark's experiment: 2 policies x ``replications`` runs of ``days`` days on ansan."""
    spec = {"name": "bench_sweep", "scenarios": ["ansan"], "seed": 1, "replications": replications,
            "horizon": f"{days:g} d", "warmup": "1 d", "keep_tables": ["incidents", "units"],
            "factors": {"policy": {"path": "policy.dispatch", "levels": ["nearest", "district_first"]}}}
    path = folder / "bench_sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def session(spec: Path, out: Path, executor) -> dict:
    """Run the sweep once into ``out``; return its timings and how busy the worker slots were."""
    result = run_sweep(spec, out, executor, quiet=True)
    if result.failed or not result.ok:
        raise RuntimeError(f"benchmark sweep had {result.failed} failed runs")
    worker_s = float(result.summary["wall_time_s"].sum())
    slots = executor.workers * result.timings["run_s"]
    return {**result.timings, "runs": result.ok, "worker_s_per_run": worker_s / result.ok,
            "utilisation": worker_s / slots, "idle_ms_per_run": 1000 * (slots - worker_s) / result.ok}


EXECUTORS = {"pool1": lambda: PoolExecutor(1), "pool2": lambda: PoolExecutor(2),
             "dask2": lambda: DaskExecutor(local_workers=2)}


def burn(n: int) -> float:
    """Pure-Python CPU work (the peer: perfectly parallel); returns its seconds."""
    t0 = time.perf_counter()
    acc = 0
    for i in range(n):
        acc += i * i
    return time.perf_counter() - t0


@lru_cache(maxsize=2)
def _engine_inputs(days: float) -> tuple:
    import scenarios
    import sim

    times = {"time.horizon": days * 1440.0, "time.warmup": 1440.0}
    scenario = scenarios.override(scenarios.load("ansan"), times)
    return scenario, sim.compile(scenario)


def engine_run(args: tuple[float, int]) -> float:
    """One plain ``sim.run`` of ansan (no sweep machinery: the engine peer); returns its seconds."""
    import sim

    days, replication = args
    scenario, world = _engine_inputs(days)
    t0 = time.perf_counter()
    sim.run(scenario, seed=1, replication=replication, world=world, log_events=False)
    return time.perf_counter() - t0


def peer(fn, tasks: list, warm) -> dict:
    """Wall time of ``tasks`` on 1 and on 2 spawned processes (workers started and warmed first)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    out = {}
    for workers in (1, 2):
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(fn, [warm] * workers))
            t0 = time.perf_counter()
            list(pool.map(fn, tasks))
            out[workers] = time.perf_counter() - t0
    return {"efficiency": out[1] / (2 * out[2]), "t1_s": out[1], "t2_s": out[2]}


def sessions(spec: Path, folder: Path, repetitions: int, days: float, burn_n: int) -> dict[str, dict]:
    """Alternate the executors and the peers ``repetitions`` times; medians of each figure."""
    trials: dict[str, list[dict]] = {k: [] for k in [*EXECUTORS, "engine_peer", "cpu_peer"]}
    for rep in range(repetitions):
        for name, make in EXECUTORS.items():
            trials[name].append(session(spec, folder / f"{name}-{rep}", make()))
        n = trials["pool1"][0]["runs"]
        trials["engine_peer"].append(peer(engine_run, [(days, r % (n // 2)) for r in range(n)], (2, 0)))
        trials["cpu_peer"].append(peer(burn, [burn_n] * n, 1))
    out = {}
    for name, ts in trials.items():
        out[name] = {k: statistics.median(t[k] for t in ts) for k in ts[0]}
        key = "efficiency" if name.endswith("peer") else "run_s"
        out[name][f"all_{key}"] = [round(t[key], 3) for t in ts]
    return out


def dask_noop_overhead(n_roundtrip: int, n_batch: int) -> dict:
    """Round-trip latency and amortised cost of no-op tasks on a 2-worker LocalCluster."""
    from distributed import wait

    with DaskExecutor(local_workers=2) as ex:
        client = ex.client
        client.submit(ready, pure=False).result()
        lat = []
        for _ in range(n_roundtrip):
            t0 = time.perf_counter()
            client.submit(ready, pure=False).result()
            lat.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        wait([client.submit(ready, 0.0, pure=False) for _ in range(n_batch)])
        batch_s = time.perf_counter() - t0
    return {"roundtrip_ms_median": round(1000 * statistics.median(lat), 2),
            "roundtrip_ms_p90": round(1000 * sorted(lat)[int(0.9 * (len(lat) - 1))], 2),
            "amortised_ms": round(1000 * batch_s * 2 / n_batch, 2)}


def figures_of(med: dict[str, dict], noop: dict) -> dict:
    """The reported figures from the per-executor medians."""
    runs = med["pool1"]["runs"]
    one, two = med["pool1"], med["pool2"]
    engine, cpu = med.pop("engine_peer"), med.pop("cpu_peer")
    eff = one["run_s"] / (2 * two["run_s"])
    r = {name: {"run_s": round(m["run_s"], 3), "total_s": round(m["total_s"], 3),
                "runs_per_min": round(60 * runs / m["run_s"], 1),
                "runs_per_min_end_to_end": round(60 * runs / m["total_s"], 1),
                "worker_s_per_run": round(m["worker_s_per_run"], 3),
                "slot_utilisation": round(m["utilisation"], 3),
                "idle_ms_per_run": round(m["idle_ms_per_run"], 1), "all_run_s": m["all_run_s"]}
         for name, m in med.items()}
    return {
        "runs_per_session": runs, "executors": r,
        "efficiency_2_workers": round(eff, 3),
        "all_efficiency": [round(a / (2 * b), 3) for a, b in zip(one["all_run_s"], two["all_run_s"],
                                                                   strict=True)],
        "engine_peer_efficiency": round(engine["efficiency"], 3),
        "engine_peer_all_efficiency": engine["all_efficiency"],
        "cpu_peer_efficiency": round(cpu["efficiency"], 3),
        "cpu_peer_all_efficiency": cpu["all_efficiency"],
        "efficiency_relative_to_engine_peer": round(eff / engine["efficiency"], 3),
        "efficiency_2_workers_end_to_end": round(one["total_s"] / (2 * two["total_s"]), 3),
        "slowdown_per_run_2_vs_1": round(two["worker_s_per_run"] / one["worker_s_per_run"], 3),
        "dask": {**noop, "sweep_idle_ms_per_run_minus_pool":
                 round(med["dask2"]["idle_ms_per_run"] - two["idle_ms_per_run"], 1),
                 "run_slowdown_in_dask_worker": round(med["dask2"]["worker_s_per_run"]
                                                      / two["worker_s_per_run"], 3)},
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="benchmarks.sweep")
    parser.add_argument("--quick", action="store_true", help="shorter runs, one repetition")
    parser.add_argument("--repetitions", type=int, help="sessions per worker count (default 3; quick 1)")
    parser.add_argument("--replications", type=int,
                        help="replications per policy (runs = 2 x this; default 4, quick 2)")
    parser.add_argument("--out", type=Path, default=Path("out/bench/sweep.json"))
    args, _ = parser.parse_known_args(argv)
    days, reps = (40, 2) if args.quick else (365, 4)
    reps = args.replications or reps
    repetitions = args.repetitions or (1 if args.quick else 3)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="anjeon-bench-sweep-") as tmp:
        folder = Path(tmp)
        spec = write_spec(folder, days, reps)
        med = sessions(spec, folder, repetitions, days, 2_000_000 if args.quick else 15_000_000)
        noop = dask_noop_overhead(20 if args.quick else 100, 100 if args.quick else 400)
    figures = {"days_per_run": days, "repetitions": repetitions, "cores": os.cpu_count(),
               "load_average_before": round(load_before, 2),
               "load_average_after": round(os.getloadavg()[0], 2), **figures_of(med, noop)}
    _print(figures)
    write_figures(args.out, figures)
    return figures


def _print(f: dict) -> None:
    print(f"sweep of {f['runs_per_session']} ansan runs of {f['days_per_run']} days, "
          f"{f['repetitions']} alternating sessions per executor (medians); "
          f"load average {f['load_average_before']} -> {f['load_average_after']} on {f['cores']} cores")
    for name, e in f["executors"].items():
        print(f"  {name:6s} {e['runs_per_min']:6.1f} runs/min steady ({e['run_s']:.2f} s), "
              f"{e['runs_per_min_end_to_end']:6.1f} end to end ({e['total_s']:.2f} s); "
              f"{e['worker_s_per_run']:.2f} s per run in a worker; slots busy {e['slot_utilisation']:.3f} "
              f"(idle {e['idle_ms_per_run']:.0f} ms per run)")
    print(f"  parallel efficiency 2 vs 1 process: {f['efficiency_2_workers']:.3f} steady, "
          f"{f['efficiency_2_workers_end_to_end']:.3f} end to end (target >= 0.9); a run takes "
          f"{f['slowdown_per_run_2_vs_1']:.3f}x as long in a worker when two run at once")
    print(f"  peers, 2 vs 1 process, same task count: plain sim.run loop {f['engine_peer_efficiency']:.3f}, "
          f"pure-Python CPU loop {f['cpu_peer_efficiency']:.3f}; sweep / engine peer = "
          f"{f['efficiency_relative_to_engine_peer']:.3f}")
    d = f["dask"]
    print(f"  Dask LocalCluster(2): per-task overhead (no-op round trip) {d['roundtrip_ms_median']:.2f} ms "
          f"median (p90 {d['roundtrip_ms_p90']:.2f}; target < 50 ms), amortised {d['amortised_ms']:.2f} ms "
          f"per task; sweep idle time per run minus the pool's "
          f"{d['sweep_idle_ms_per_run_minus_pool']:.1f} ms (scheduling plus end-of-sweep imbalance); "
          f"a run takes {d['run_slowdown_in_dask_worker']:.3f}x as long in a Dask worker")


if __name__ == "__main__":
    main()

"""Cost per incident as the city grows: ansan scaled by k, and an illustrative Busan-sized city-year.

Cases, each run in a fresh subprocess (so that its peak memory is its own):

- ``ansan x k`` for k = 1, 4, 16, 64: demand (``demand.scale``), every fleet
  count, hospital bays and call-takers all multiplied by k on the same map
  and roads; ``--days`` simulated days (default 30).
- ``busan``: a generated Busan-sized city (:func:`busan_city`), 30 x 25 km
  of grid roads, 15 districts, 33 stations, 300 units, 12 hospitals, about
  a quarter of a million incidents a year; a whole year, three times (``--quick``: 14 days, once).

In each subprocess the World is compiled outside the timing, a one-day
run first loads the numba kernels, then each repetition compiles a fresh
World (untimed: a run fills the shared network's cache of shortest-path
rows, and a city-year starts with it empty) and times ``sim.run`` with its
process time (event log on, the four tables built). Reported per case:
incidents, units, CPU microseconds per incident (median of repetitions),
its ratio to k = 1, its ratio to plain SimPy's CPU per customer on M/M/c
(:func:`benchmarks.engine_mmc.plain_simpy`, measured in this process just
before and just after each case: median of 3 + 3, so that the machine's
speed drifting during a long case moves both sides), the peak RSS of the subprocess
(``ru_maxrss``) and its RSS after imports and the warm-up run (the libraries'
share). For the ansan cases, ``warm_rows_us`` is one more run on a World
whose row cache an earlier run filled (as in a sweep that reuses a World).

``--profile CASE`` (e.g. ``ansan:16``) runs that case once under cProfile
in this process and prints the functions with the most own and cumulative
time. Never a timed test: the figures live here.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import write_figures

#: ansan's scale factors; 64 (about 3,000 units) is run unless ``--no-64``
FACTORS = (1, 4, 16, 64)
#: plain SimPy repetitions before and again after each case (median of all taken)
YARDSTICK_REPS = 3
#: simulated days of each plain SimPy M/M/c repetition
YARDSTICK_DAYS = 30


# -- scenarios ---------------------------------------------------------------------------------------
def scaled_ansan(k: int, days: float) -> Any:
    """Ansan with demand, fleets, hospital bays and call-takers times ``k``, on the same map.

    Parameters
    ----------
    k : int
        Scale factor (1: ansan itself).
    days : float
        Simulated days (the horizon).

    Returns
    -------
    scenarios.Scenario
    """
    import scenarios

    base = scenarios.load("ansan")
    changes: dict[str, Any] = {"time.horizon": f"{days} d", "demand.scale": float(k) * base.demand.scale}
    for station, fleet in base.fleets.items():
        for unit_type, count in fleet.items():
            changes[f"fleets.{station}.{unit_type}"] = count * k
    for name, hospital in base.hospitals.items():
        changes[f"hospitals.{name}.capacity"] = hospital.capacity * k
    changes["dispatch_centre.call_takers"] = base.dispatch_centre.call_takers * k
    return scenarios.override(base, changes)


def busan_city(days: float = 365.0, seed: int = 20261115) -> Any:
    """An illustrative Busan-sized city: ansan's incident types and rates on a generated map.

    30 x 25 km of grid roads (0.5 km spacing, arterials every 2 km), 15
    rectangular districts (5 x 3) of 150,000-290,000 people (3.3 million in
    all), two 119 safety centres per district (4 engines, 5 ambulances; the
    first also a rescue squad), three fire headquarters (2 ladders, 1 hazmat,
    1 rescue each), an enterprise brigade (3 engines): 300 units; 12
    hospitals of 4 bays; 32 call-takers. With ansan's per-capita rates that
    is about 720 incidents a day, 260,000 a year. Synthetic: no real data.

    Parameters
    ----------
    days : float
        Simulated days (the horizon).
    seed : int
        Seed of the generator that places stations and sets populations.

    Returns
    -------
    scenarios.Scenario
    """
    import scenarios

    rng = np.random.default_rng(seed)
    doc = scenarios.load("ansan").model_dump(mode="python", by_alias=True)
    nx, ny, w, h = 5, 3, 6.0, 25.0 / 3
    names = [f"D{j * nx + i + 1:02d}" for j in range(ny) for i in range(nx)]
    pops = rng.integers(150_000, 290_000, size=len(names))
    pops = np.round(pops * 3_300_000 / pops.sum()).astype(int)
    districts, stations, fleets = {}, {}, {}
    for j in range(ny):
        for i in range(nx):
            name = names[j * nx + i]
            x0, y0 = i * w, j * h
            near = [names[b * nx + a] for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1))
                    if 0 <= a < nx and 0 <= b < ny]
            districts[name] = {"population": int(pops[j * nx + i]), "neighbours": near,
                               "boundary": [[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]]}
            for s, (fx, fy) in enumerate(((0.3, 0.35), (0.7, 0.65))):
                jitter = rng.uniform(-0.08, 0.08, 2)
                station = f"{name}-{s + 1}"
                stations[station] = {"district": name, "label": f"{name} 119 safety centre {s + 1}",
                                     "location": [round(x0 + (fx + jitter[0]) * w, 2),
                                                  round(y0 + (fy + jitter[1]) * h, 2)]}
                fleets[station] = {"engine": 4, "ambulance": 5, **({"rescue": 1} if s == 0 else {})}
    for q, (name, x, y) in enumerate((("HQ West", 7.0, 12.0), ("HQ Centre", 15.0, 9.0),
                                      ("HQ East", 23.0, 15.0))):
        district = names[int(y // h) * nx + int(x // w)]
        stations[name] = {"district": district, "location": [x, y], "tier": "city",
                          "label": f"fire headquarters {q + 1} (ladder, hazmat, rescue)"}
        fleets[name] = {"ladder": 2, "hazmat": 1, "rescue": 1}
    stations["Brigade"] = {"district": names[1], "location": [9.0, 2.0], "tier": "enterprise",
                           "label": "port and industrial enterprise brigade"}
    fleets["Brigade"] = {"brigade_engine": 3}
    hospitals = {}
    for q in range(12):
        i, j = q % 4, q // 4
        where = [round(3.75 + 7.5 * i, 2), round(25 / 6 + 25 / 3 * j, 2)]
        hospitals[f"Hospital {q + 1}"] = {"location": where, "capacity": 4}
    doc.update(
        name="busan_city",
        description="ILLUSTRATIVE Busan-sized city (30 x 25 km, 15 districts, 3.3 million people, "
                    "300 units) generated by benchmarks.city_scale.busan_city; ansan's incident types "
                    "and per-capita rates; synthetic, no real data.",
        geography={"kind": "grid", "origin_km": [0.0, 0.0], "size_km": [30.0, 25.0], "spacing_km": 0.5,
                   "speed_kmh": 32, "arterial_every": 4, "arterial_speed_kmh": 55},
        districts=districts, stations=stations, fleets=fleets, hospitals=hospitals,
    )
    doc["time"]["horizon"] = float(days) * 1440.0
    doc["demand"]["rates_per_hr"] = {names[1]: {"hazmat": 0.012}, names[2]: {"hazmat": 0.006}}
    doc["dispatch_centre"]["call_takers"] = 32
    return scenarios.from_dict(doc, source="<benchmarks.city_scale.busan_city>")


def case_scenario(case: str, days: float) -> Any:
    """The scenario of a case name: ``ansan:<k>`` or ``busan``."""
    if case == "busan":
        return busan_city(days)
    name, _, k = case.partition(":")
    if name != "ansan" or not k.isdigit():
        raise ValueError(f"unknown case {case!r}: expected ansan:<k> or busan")
    return scaled_ansan(int(k), days)


# -- one case, in a subprocess ----------------------------------------------------------------------
def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def measure_case(case: str, days: float, reps: int, warm_rows: bool) -> dict[str, Any]:
    """Time ``sim.run`` on one case in this process (call it in a fresh subprocess).

    Parameters
    ----------
    case : str
        ``ansan:<k>`` or ``busan``.
    days : float
        Simulated days.
    reps : int
        Timed repetitions, each on a freshly compiled World.
    warm_rows : bool
        Also time one run on the last World again (its row cache filled).

    Returns
    -------
    dict
        Figures of the case (see the module docstring).
    """
    import sim
    from sim.world import compile_world

    scenario = case_scenario(case, days)
    t0 = time.perf_counter()
    world = compile_world(scenario)
    compile_s = time.perf_counter() - t0
    sim.run(scenario, world=world, seed=99, until=world.warmup_min + 1440.0)  # loads the kernels
    del world
    gc.collect()
    baseline_mb = _rss_mb()
    cpu, wall, n_inc = [], [], []
    for rep in range(reps):
        world = compile_world(scenario)
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        result = sim.run(scenario, world=world, seed=1 + rep)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        n_inc.append(len(result.incidents))
        n_events = len(result.events)
        units, nodes = int(world.n_units), world.info.get("road_nodes")
        if rep < reps - 1 or not warm_rows:  # one World and one result at a time: the peak is one run's
            del world
        del result
        gc.collect()
    out = {
        "case": case, "days": days, "units": units, "road_nodes": nodes,
        "incidents": n_inc[0], "events": n_events, "repetitions": reps, "compile_s": round(compile_s, 3),
        "cpu_s": [round(c, 3) for c in cpu], "wall_s": [round(w, 3) for w in wall],
        "cpu_per_incident_us": round(statistics.median(c / n * 1e6 for c, n in zip(cpu, n_inc, strict=True)),
                                     2),
        "peak_rss_mb": round(_rss_mb(), 1), "rss_after_warmup_mb": round(baseline_mb, 1),
    }
    if warm_rows:
        gc.collect()
        c0 = time.process_time()
        result = sim.run(scenario, world=world, seed=1)
        out["warm_rows_us"] = round((time.process_time() - c0) / len(result.incidents) * 1e6, 2)
        out["peak_rss_mb"] = round(_rss_mb(), 1)
    return out


def _child(case: str, days: float, reps: int, warm_rows: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.city_scale", "--child", case, "--days", str(days),
           "--reps", str(reps)] + (["--warm-rows"] if warm_rows else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def yardstick_runs(seed: int) -> list[float]:
    """Plain SimPy's CPU microseconds per customer on M/M/c, one value per run (a few runs, this process)."""
    from benchmarks.engine_mmc import plain_simpy

    per = []
    for r in range(YARDSTICK_REPS):
        gc.collect()
        n, secs = plain_simpy(YARDSTICK_DAYS, seed + r)
        per.append(secs / n * 1e6)
    return per


def profile_case(case: str, days: float, top: int = 25) -> None:
    """Run ``case`` once under cProfile (kernels loaded first) and print the top functions."""
    import cProfile
    import pstats

    import sim
    from sim.world import compile_world

    scenario = case_scenario(case, days)
    world = compile_world(scenario)
    sim.run(scenario, world=world, seed=99, until=world.warmup_min + 1440.0)
    world = compile_world(scenario)
    prof = cProfile.Profile()
    prof.enable()
    sim.run(scenario, world=world, seed=1)
    prof.disable()
    for key in ("tottime", "cumulative"):
        pstats.Stats(prof).sort_stats(key).print_stats(top)


# -- driver ------------------------------------------------------------------------------------------
def _plan(args: argparse.Namespace) -> list[tuple[str, float, int, bool]]:
    ansan_days, busan_days = (7.0, 14.0) if args.quick else (args.days, 365.0)
    factors = [k for k in FACTORS if not (k == 64 and (args.quick or args.no_64))]
    plan = []
    for k in factors:
        expected = 135 * k * ansan_days
        plan.append((f"ansan:{k}", ansan_days, max(1, min(5, int(60_000 // expected))), True))
    plan.append(("busan", busan_days, 1 if args.quick else 3, False))
    return plan


def _row(r: dict[str, Any]) -> str:
    warm = f"{r['warm_rows_us']:8.1f}" if "warm_rows_us" in r else "       -"
    return (f"  {r['case']:9s} {r['days']:5g} {r['units']:6d} {r['incidents']:8d} "
            f"{r['cpu_per_incident_us']:9.1f} {r['ratio_to_k1']:6.2f} {r['yardstick_us']:7.1f} "
            f"{r['ratio_to_plain_simpy']:6.2f} {warm} {r['peak_rss_mb']:7.0f} "
            f"{r['rss_after_warmup_mb']:7.0f}")


def main(argv: list[str] | None = None) -> dict:
    """Run the cases (or one ``--child`` case, or ``--profile``), print the table, write the JSON.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; default ``sys.argv[1:]``.

    Returns
    -------
    dict
        The figures written.
    """
    parser = argparse.ArgumentParser(prog="benchmarks.city_scale")
    parser.add_argument("--quick", action="store_true", help="7 days of ansan, 14 of busan, no k=64")
    parser.add_argument("--days", type=float, default=30.0, help="simulated days of the ansan cases")
    parser.add_argument("--no-64", action="store_true", help="leave out ansan x 64")
    parser.add_argument("--out", type=Path, default=Path("out/bench/city_scale.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--warm-rows", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="CASE", help="profile one case (ansan:<k> or busan) instead")
    args, _ = parser.parse_known_args(argv)
    if args.child:
        figures = measure_case(args.child, args.days, args.reps, args.warm_rows)
        print(json.dumps(figures))
        return figures
    if args.profile:
        profile_case(args.profile, 14.0 if args.quick else args.days)
        return {}
    rows = []
    for i, (case, days, reps, warm) in enumerate(_plan(args)):
        before = yardstick_runs(100 + 10 * i)
        r = _child(case, days, reps, warm)
        yard = statistics.median(before + yardstick_runs(105 + 10 * i))
        r["yardstick_us"] = round(yard, 2)
        r["ratio_to_plain_simpy"] = round(r["cpu_per_incident_us"] / yard, 2)
        rows.append(r)
        print(f"  ... {case}: {r['cpu_per_incident_us']} us per incident", file=sys.stderr)
    k1 = next(r["cpu_per_incident_us"] for r in rows if r["case"] == "ansan:1")
    for r in rows:
        r["ratio_to_k1"] = round(r["cpu_per_incident_us"] / k1, 2)
    figures = {"yardstick": f"plain SimPy M/M/5, {YARDSTICK_DAYS} days, CPU per customer, median of "
                            f"{YARDSTICK_REPS} before and {YARDSTICK_REPS} after each case", "cases": rows}
    print("Cost per incident as the city grows (CPU: process time of sim.run, fresh World, log on, tables)")
    print("  case       days  units incidents  us/inc   /k=1  simpy_us /simpy  warm_us peak_MB base_MB")
    for r in rows:
        print(_row(r))
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()

"""Citizens at a million: the people kernel beside NumPy, and a one-day evacuation of 1,000,000 people.

Two figures, each beside its peer or budget:

- **updates per second**: :func:`sim.kernels.citizens.people_step` (exposure, injury, survival
  curves, deaths; one thread) over 1,000,000 people, a third of them in a hazard, against
  :func:`numpy_people_step`, the same update written with NumPy whole-array operations (equal
  results over 11 steps checked first). Then the 12th step from the same state, ``--reps``
  times each, alternating; people updated per second at the median.
- **a 1,000,000-person evacuation of one simulated day**: ``ansan`` with its districts' people
  scaled to a million (``population_scale``), a static plume (:class:`StaticPlume`, a disc of
  the hazard field protocol) over Sadong from 20 min, an alert to every district at 30 min,
  neighbours and responders warning, 12 shelters and the road network's point queues, the
  people stepped every minute for 24 h. Run in a fresh subprocess: wall and CPU seconds of
  ``sim.run`` (World compiled and kernels loaded outside the timing) and the subprocess's peak
  RSS (``ru_maxrss``). The issue's budget: 2 cores, 4 GB.

Never a timed test: ``python -m benchmarks.citizens [--quick]`` (``--quick``: 100,000 people).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from agents.components import Component
from benchmarks import write_figures
from sim.kernels import citizens as k

PEOPLE = 1_000_000


# -- the update, in NumPy ------------------------------------------------------------------------
def numpy_people_step(t1: float, p: dict[str, np.ndarray], cells: np.ndarray, harm: float, threshold: float,
                      vulnerability: np.ndarray, injured_below: float, triage_cum: np.ndarray,
                      scale: np.ndarray, shape: np.ndarray) -> None:
    """:func:`sim.kernels.citizens.people_step` for one hazard, people at home, with whole-array NumPy.

    Mutates ``p`` (the kernel's person arrays by name).
    """
    alive = p["state"] != k.DEAD
    exposed = alive & (p["state"] != k.SHELTERED) & ~p["treated"]
    excess = cells[0, p["home_cell"]] - threshold
    hit = exposed & (excess > 0)
    new_health = p["health"] - np.where(hit, harm * excess * vulnerability[p["age"]], 0.0)
    newly = hit & (p["injury"] == 0) & (new_health < injured_below)
    u = p["u_triage"]
    cls = np.where(u < triage_cum[0, 0], 1, np.where(u < triage_cum[0, 1], 2, 3)).astype(np.int8)
    p["injury"][newly] = cls[newly]
    p["cause"][newly] = 0
    p["injured_at"][newly] = t1
    j = p["injury"][newly] - 1
    life = (-np.log(p["u_death"][newly].astype(np.float64))) ** (1.0 / shape[j])
    p["dies_at"][newly] = t1 + scale[j] * life
    p["health_injured"][newly] = np.maximum(new_health[newly], 0.0)
    killed = hit & (new_health <= 0)
    p["health"][hit] = np.maximum(new_health[hit], 0.0)
    p["state"][killed] = k.DEAD
    p["died_at"][killed] = t1
    dies = alive & ~killed & (p["injury"] > 0) & (t1 >= p["dies_at"]) & ~p["treated"]
    p["state"][dies] = k.DEAD
    p["died_at"][dies] = t1
    p["health"][dies] = 0.0


ORDER = ("state", "home_cell", "node", "age", "health", "injury", "cause", "injured_at", "health_injured",
         "treated", "died_at", "dies_at", "u_death", "u_triage", "warned_at")


def _population(n: int, n_cells: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    # people in home-cell order, as the component lays them out (each district's cells in turn)
    home = np.sort(rng.integers(0, n_cells, n)).astype(np.int32)
    return {"state": np.zeros(n, dtype=np.int8), "home_cell": home,
            "node": np.zeros(n, dtype=np.int32), "age": rng.integers(0, 3, n).astype(np.int8),
            "health": np.ones(n, dtype=np.float32), "injury": np.zeros(n, dtype=np.int8),
            "cause": np.full(n, -1, dtype=np.int8), "injured_at": np.full(n, np.inf),
            "health_injured": np.zeros(n, dtype=np.float32), "treated": np.zeros(n, dtype=np.bool_),
            "died_at": np.full(n, np.inf), "dies_at": np.full(n, np.inf),
            "u_death": rng.random(n).astype(np.float32),
            "u_triage": rng.random(n).astype(np.float32), "warned_at": np.full(n, np.inf)}


def update_rates(n: int, reps: int) -> dict[str, Any]:
    """People updated per second by the kernel and by NumPy (median of ``reps`` steps each)."""
    n_cells = 20_000
    cells = np.where(np.arange(n_cells) % 3 == 0, 60.0, 0.0)[None, :]  # a third of the cells in the plume
    args = dict(harm=0.0005, threshold=5.0, vulnerability=np.array([1.2, 1.0, 1.6]), injured_below=0.8,
                triage_cum=np.array([[0.2, 0.6, 1.0]]), scale=np.array([60.0, 600.0, np.inf]),
                shape=np.array([1.5, 1.5, 1.0]))
    inj, warn = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)

    def kernel(t1: float, p: dict[str, np.ndarray]) -> None:
        k.people_step(t1, *(p[c] for c in ORDER), cells, np.zeros((1, 1)), np.array([args["harm"]]),
                      np.array([args["threshold"]]), np.array([np.inf]), np.zeros(1, dtype=np.int8),
                      args["vulnerability"], args["injured_below"], args["triage_cum"], args["scale"],
                      args["shape"], 1.0, inj, warn)

    def numpy(t1: float, p: dict[str, np.ndarray]) -> None:
        numpy_people_step(t1, p, cells, **args)

    a, b = _population(n, n_cells), _population(n, n_cells)
    for t1 in range(1, 12):  # equal results first (the first call compiles or loads the kernel)
        kernel(float(t1), a)
        numpy(float(t1), b)
    for c in ("state", "injury", "died_at"):
        assert np.array_equal(a[c], b[c]), c
    assert np.allclose(a["health"], b["health"], atol=1e-6)
    times: dict[str, list[float]] = {"numba": [], "numpy": []}
    for _ in range(reps):  # the same step from the same state each time (copied outside the timing)
        for name, fn in (("numba", kernel), ("numpy", numpy)):
            p = {c: v.copy() for c, v in a.items()}
            t0 = time.perf_counter()
            fn(12.0, p)
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in times.items()}
    return {"people": n, "numba_updates_per_s": round(n / med["numba"]),
            "numpy_updates_per_s": round(n / med["numpy"]), "ratio": round(med["numpy"] / med["numba"], 2),
            "injured": int(np.count_nonzero(a["injury"] > 0)),
            "dead": int(np.count_nonzero(a["state"] == k.DEAD))}


# -- the evacuation ------------------------------------------------------------------------------
class StaticPlume(Component):
    """A benchmark hazard (the hazard field protocol): ``level`` mg/m3 in a disc from ``at`` minutes on."""

    hazard = "plume"

    class Section(BaseModel):
        """Where, when and how strong."""

        model_config = ConfigDict(extra="forbid", frozen=True)
        at: float
        centre_km: tuple[float, float]
        radius_km: float
        level: float

    def sample(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """The level at the points now."""
        s = self.section
        if self.model.env.now < s.at:
            return np.zeros(len(x_km))
        inside = np.hypot(np.asarray(x_km) - s.centre_km[0], np.asarray(y_km) - s.centre_km[1]) <= s.radius_km
        return np.where(inside, s.level, 0.0)


SHELTERS = {f"S{i}": {"xy_km": [x, y], "capacity": 40_000} for i, (x, y) in enumerate(
    [(2, 9), (3, 2), (6, 9), (6, 5), (10, 9), (10, 5), (11, 2), (15, 9), (15, 6), (16, 2), (-9, -8), (1, 6)])}


def evacuation_scenario(people: int) -> Any:
    """Ansan for one day with ``people`` citizens, a plume over Sadong, an alert everywhere, 12 shelters."""
    import scenarios

    base = scenarios.load("ansan").model_dump(mode="json", exclude_none=True)
    total = sum(d["population"] for d in base["districts"].values())
    base["time"]["horizon"] = "1 d"
    base["time"]["warmup"] = 0
    base["components"] = {
        "benchmarks.citizens:StaticPlume": {"at": 20, "centre_km": [15.0, 5.5], "radius_km": 1.5,
                                            "level": 60},
        "citizens": {"population_scale": people / total, "calls": {"incident_type": "medical"},
                     "warnings": {"alerts": [{"at": 30, "share": 0.9}]},
                     "evacuation": {"shelters": SHELTERS, "capacity_per_min": 30}},
    }
    return scenarios.from_dict(base, source="benchmarks.citizens")


def measure_evacuation(people: int) -> dict[str, Any]:
    """One run of :func:`evacuation_scenario` (in this process): wall and CPU seconds, peak RSS."""
    import sim

    scenario = evacuation_scenario(people)
    world = sim.compile(scenario)
    sim.run(scenario, world=world, seed=1, until=2.0)  # kernels loaded, outside the timing
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    w0, c0 = time.perf_counter(), time.process_time()
    result = sim.run(scenario, world=world, seed=1)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    fig = result.meta["components"]["citizens"]
    return {"people": fig["people"], "simulated_min": 1440, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "rss_before_run_mb": round(rss0), "evacuated": fig["evacuated"], "deaths": fig["deaths"],
            "people_warned": fig["people_warned"], "median_evac_min": fig["median_evac_min"],
            "incidents_raised": fig["incidents_raised"], "stranded": fig["stranded"],
            "still_moving": fig["still_moving"]}


def main(argv: list[str] | None = None) -> dict:
    """Measure both figures (the evacuation in a fresh subprocess), print them, write the JSON.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; default ``sys.argv[1:]``.

    Returns
    -------
    dict
        The figures written.
    """
    parser = argparse.ArgumentParser(prog="benchmarks.citizens")
    parser.add_argument("--quick", action="store_true", help="100,000 people instead of 1,000,000")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("out/bench/citizens.json"))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.child:
        figures = measure_evacuation(args.child)
        print(json.dumps(figures))
        return figures
    n = 100_000 if args.quick else PEOPLE
    rates = update_rates(n, args.reps)
    done = subprocess.run([sys.executable, "-m", "benchmarks.citizens", "--child", str(n)],
                          capture_output=True, text=True, check=True)
    evac = json.loads(done.stdout.strip().splitlines()[-1])
    figures = {"updates": rates, "evacuation": evac}
    numba_m, numpy_m = rates["numba_updates_per_s"] / 1e6, rates["numpy_updates_per_s"] / 1e6
    print(f"Citizen updates at {n:,} people (one thread): numba {numba_m:.1f} M/s, NumPy {numpy_m:.1f} M/s "
          f"({rates['ratio']}x)")
    print(f"Evacuation of {evac['people']:,} people over one simulated day: {evac['wall_s']} s wall, "
          f"{evac['cpu_s']} s CPU, peak RSS {evac['peak_rss_mb']} MB; evacuated {evac['evacuated']:,}, "
          f"median {evac['median_evac_min']:.1f} min, warned {evac['people_warned']:,}, "
          f"deaths {evac['deaths']}")
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()

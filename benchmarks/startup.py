"""Fixed costs of a command: whole processes beside ``import simpy``, and a run's World and kernel loading.

Two sections, every process fresh (``subprocess``, wall clock by
``time.perf_counter``, median of ``--repetitions``; hyperfine is not
assumed):

- ``commands``: ``anjeon --help`` and ``anjeon scenario list`` as whole
  processes, alternated with ``python -c "import simpy"``, and the ratio of
  the medians (the goal: at most 5).
- ``run``: ``anjeon run ansan --days 30`` (the CLI's ``main`` in a probe
  process that times the parts), twice in a row on an empty World cache
  directory of its own (``ANJEON_CACHE_DIR``): the first process compiles
  the World and writes it, the second loads it. Per process: ``compile_s``
  (``sim.worldcache.cached_world``: compile, or load from the cache),
  ``kernels_s`` (numba dispatchers finding their machine code on first call:
  loading it from the ``cache=True`` files, or compiling it when they are
  missing), ``fixed_s`` (the two together, a kernel called inside the
  World compile counted once; the goal for the second process: under
  0.2 s) and the process's wall time.

``--fresh-clone`` repeats the ``run`` section in a copy of the source tree
without any ``__pycache__`` (as a fresh clone has): the first process
compiles the kernels and writes numba's cache, the later ones load it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import write_figures

ROOT = Path(__file__).resolve().parents[1]

#: the probe: times the World and kernel parts of ``anjeon run`` from inside the process
PROBE = r"""
import json, sys, time
t_main = time.perf_counter()
from numba.core import dispatcher
import sim.api, sim.cli
acc = {"kernels": 0.0, "compile": 0.0, "kernels_in_compile": 0.0, "in_compile": False}
compile_for_args = dispatcher.Dispatcher._compile_for_args
def timed_compile(self, *args, **kws):
    t = time.perf_counter()
    try:
        return compile_for_args(self, *args, **kws)
    finally:
        dt = time.perf_counter() - t
        acc["kernels"] += dt
        if acc["in_compile"]:
            acc["kernels_in_compile"] += dt
dispatcher.Dispatcher._compile_for_args = timed_compile
cached_world = sim.api.cached_world
def timed_world(*args, **kws):
    acc["in_compile"] = True
    t = time.perf_counter()
    try:
        return cached_world(*args, **kws)
    finally:
        acc["compile"] += time.perf_counter() - t
        acc["in_compile"] = False
sim.api.cached_world = timed_world
t_imports = time.perf_counter() - t_main
code = sim.cli.main(sys.argv[1:])
print(json.dumps({"compile_s": acc["compile"], "kernels_s": acc["kernels"],
                  "fixed_s": acc["compile"] + acc["kernels"] - acc["kernels_in_compile"],
                  "probe_imports_s": t_imports, "code": code}))
"""


def _wall(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return wall, done.stdout


def _anjeon() -> list[str]:
    exe = Path(sys.executable).with_name("anjeon")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sim.cli"]


def commands(reps: int) -> dict[str, Any]:
    """Median wall seconds of ``anjeon --help``, ``anjeon scenario list`` and ``import simpy``."""
    cmds = {"import_simpy": [sys.executable, "-c", "import simpy"],
            "anjeon_help": [*_anjeon(), "--help"],
            "anjeon_scenario_list": [*_anjeon(), "scenario", "list"]}
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(reps + 1):          # the first round warms the file cache and is dropped
        for name, cmd in cmds.items():
            walls[name].append(_wall(cmd)[0])
    med = {k: statistics.median(v[1:]) for k, v in walls.items()}
    return {"median_s": {k: round(v, 4) for k, v in med.items()},
            "ratio_to_import_simpy": {k: round(med[k] / med["import_simpy"], 2)
                                      for k in ("anjeon_help", "anjeon_scenario_list")},
            "all_s": {k: [round(x, 4) for x in v[1:]] for k, v in walls.items()}}


def run_fixed_cost(reps: int, root: Path = ROOT, days: float = 30.0) -> dict[str, Any]:
    """``anjeon run ansan`` twice per repetition on an empty World cache: parts of the fixed cost."""
    rows: dict[str, list[dict[str, float]]] = {"first": [], "second": []}
    with tempfile.TemporaryDirectory(prefix="anjeon-startup-") as tmp:
        for rep in range(reps):
            env = {**os.environ, "ANJEON_CACHE_DIR": str(Path(tmp) / f"worlds{rep}"),
                   "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
            for which in ("first", "second"):
                out = Path(tmp) / f"run-{rep}-{which}"
                cmd = [sys.executable, "-c", PROBE, "run", "ansan", "--days", f"{days:g}", "--out", str(out),
                       "--quiet"]
                wall, stdout = _wall(cmd, env, cwd=root)
                row = json.loads(stdout.strip().splitlines()[-1])
                row["process_wall_s"] = wall
                rows[which].append(row)
                shutil.rmtree(out, ignore_errors=True)
    keys = ("compile_s", "kernels_s", "fixed_s", "process_wall_s")
    return {which: {"median": {k: round(statistics.median(r[k] for r in rs), 4) for k in keys},
                    "all": [{k: round(r[k], 4) for k in keys} for r in rs]}
            for which, rs in rows.items()}


def fresh_clone(runs: int = 3) -> dict[str, Any]:
    """``run`` processes in a copy of the source tree without ``__pycache__`` (numba's cache included)."""
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", "out", "*.nbi", "*.nbc", ".*_cache")
    with tempfile.TemporaryDirectory(prefix="anjeon-clone-") as tmp:
        clone = Path(tmp) / "anjeon"
        shutil.copytree(ROOT, clone, ignore=ignore)
        rows = []
        for i in range(runs):
            env = {**os.environ, "ANJEON_CACHE_DIR": str(Path(tmp) / "worlds"),
                   "PYTHONPATH": str(clone) + os.pathsep + os.environ.get("PYTHONPATH", "")}
            cmd = [sys.executable, "-c", PROBE, "run", "ansan", "--days", "30", "--out",
                   str(Path(tmp) / f"run{i}"), "--quiet"]
            wall, stdout = _wall(cmd, env, cwd=clone)
            row = json.loads(stdout.strip().splitlines()[-1])
            rows.append({"compile_s": round(row["compile_s"], 4), "kernels_s": round(row["kernels_s"], 4),
                         "fixed_s": round(row["fixed_s"], 4), "process_wall_s": round(wall, 4)})
        cached = sorted(p.name for p in clone.rglob("*.nbi"))
    return {"runs": rows, "numba_index_files": cached}


def main(argv: list[str] | None = None) -> dict:
    """Measure, print and write the figures.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; default ``sys.argv[1:]``.

    Returns
    -------
    dict
        The figures written.
    """
    parser = argparse.ArgumentParser(prog="benchmarks.startup")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--repetitions", type=int, default=None, help="processes per command (default 9)")
    parser.add_argument("--fresh-clone", action="store_true", help="also measure a copy without caches")
    parser.add_argument("--out", type=Path, default=Path("out/bench/startup.json"))
    args, _ = parser.parse_known_args(argv)
    reps = args.repetitions or (3 if args.quick else 9)
    figures: dict[str, Any] = {"repetitions": reps, "commands": commands(reps)}
    figures["run_ansan_30d"] = run_fixed_cost(max(2, reps // 3))
    if args.fresh_clone:
        figures["fresh_clone"] = fresh_clone()
    c = figures["commands"]
    print("Whole processes (median wall seconds, ratio to python -c 'import simpy')")
    for k, v in c["median_s"].items():
        ratio = c["ratio_to_import_simpy"].get(k)
        print(f"  {k:22s} {v:7.3f} s" + (f"   x{ratio:.2f}" if ratio else ""))
    print("anjeon run ansan --days 30, fresh processes on an empty World cache (median seconds)")
    for which, r in figures["run_ansan_30d"].items():
        m = r["median"]
        print(f"  {which:6s} compile {m['compile_s']:.4f}  kernels {m['kernels_s']:.4f}  "
              f"together {m['fixed_s']:.4f}  process {m['process_wall_s']:.3f}")
    if args.fresh_clone:
        print("fresh copy of the tree (no __pycache__): successive run processes")
        for i, r in enumerate(figures["fresh_clone"]["runs"]):
            print(f"  run {i + 1}: compile {r['compile_s']:.4f}  kernels {r['kernels_s']:.4f}  "
                  f"together {r['fixed_s']:.4f}  process {r['process_wall_s']:.3f}")
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()

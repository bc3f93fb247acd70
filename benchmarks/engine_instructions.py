"""Instructions per customer on the M/M/c scenario, beside a minimal SimPy model: a noise-free figure.

``benchmarks.engine_mmc`` times the engine against a plain SimPy M/M/c model;
on a shared virtual machine its repetitions scatter by 10% and more. This
benchmark counts the instructions each side executes instead (valgrind's
callgrind, instrumentation switched on only around the measured sections,
address randomisation off), whatever else the machine is doing. Each section
runs three times, alternating, and the fewest instructions count: a run that
happens to trigger a full collection of the cyclic garbage collector (a
few percent more, depending on the state the harness left) is not the
engine's typical cost. Instructions are not time (cache misses, page faults
and branch mispredictions cost extra cycles), so read the two benchmarks
together.

The sections are those of ``benchmarks.engine_mmc`` (same queue, same seed):
``plain_simpy``, ``engine_full`` (``sim.run``: event log, tables) and
``engine_loop`` (the event loop alone). Needs ``valgrind`` (Debian package
``valgrind``); without it the benchmark says so and returns no figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import write_figures

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("plain_simpy", "engine_full", "engine_loop")
REPEATS = 3


def _control(*args: str) -> None:
    """Send a command to the callgrind instance running this process and wait for it.

    The process must keep executing for valgrind to take the command, hence
    the busy wait; the few instructions it adds are negligible.
    """
    proc = subprocess.Popen(["callgrind_control", *args, str(os.getpid())],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        pass


def _inner(days: float) -> None:
    """Run under callgrind: warm up, then count each section into its own dump."""
    import gc

    import scenarios
    import sim
    from benchmarks.engine_mmc import engine, plain_simpy

    scenario = scenarios.override(scenarios.load("mmc"), {"time.horizon": f"{days:g} d"})
    world = sim.compile(scenario)
    sim.run(scenario, world=world, seed=0)  # imports, numba cache, first-call costs: not counted
    plain_simpy(days, 0)
    counts: dict[str, int] = {}

    runs = {"plain_simpy": lambda: plain_simpy(days, 101)[0],  # (customers, seconds): the count only
            "engine_full": lambda: engine(days, 101, world, scenario, True)[0],
            "engine_loop": lambda: engine(days, 101, world, scenario, False)[0]}
    _control("--instr=on")
    for k in range(REPEATS):
        for name in SECTIONS:
            gc.collect()
            _control("--zero")
            counts[name] = runs[name]()
            _control(f"--dump={name}.{k}")
    print(json.dumps(counts))


def _read_dumps(folder: Path) -> dict[str, list[int]]:
    """Instructions of each section's dumps in ``folder``, one per repetition."""
    found: dict[str, list[int]] = {}
    for path in folder.glob("cg.out.*"):
        text = path.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: dump (\S+)\.\d+$", text, re.M)
        total = re.search(r"^summary: (\d+)", text, re.M)
        if name and total and name.group(1) in SECTIONS:
            found.setdefault(name.group(1), []).append(int(total.group(1)))
    return found


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="benchmarks.engine_instructions")
    parser.add_argument("--quick", action="store_true", help="3 simulated days instead of 10")
    parser.add_argument("--days", type=float, default=None)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=Path("out/bench/engine_instructions.json"))
    args, _ = parser.parse_known_args(argv)
    days = args.days or (3.0 if args.quick else 10.0)
    if args.inner:
        _inner(days)
        return {}
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        print("engine_instructions: skipped (valgrind not found; Debian package 'valgrind')")
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={tmp}/cg.out.%p",
               sys.executable, "-m", "benchmarks.engine_instructions", "--inner", "--days", str(days)]
        if shutil.which("setarch"):  # same addresses every time: dict and set layouts keyed by id() repeat
            cmd = ["setarch", os.uname().machine, "--addr-no-randomize", *cmd]
        env = dict(os.environ, PYTHONHASHSEED="0")
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        irs = _read_dumps(Path(tmp))
    if done.returncode != 0 or not lines or any(len(irs.get(k, ())) != REPEATS for k in SECTIONS):
        print(f"engine_instructions: the run under valgrind failed (exit {done.returncode})")
        print(done.stderr[-2000:])
        return {}
    customers = json.loads(lines[-1])
    per = {k: min(irs[k]) / customers[k] for k in SECTIONS}
    figures = {
        "days_simulated": days,
        "customers": customers,
        "instructions": irs,  # per repetition; the fewest count
        "instructions_per_customer": {k: round(v) for k, v in per.items()},
        # > 1: the engine needs fewer instructions per customer than plain SimPy
        "ratio_plain_simpy_to_engine_full": round(per["plain_simpy"] / per["engine_full"], 3),
        "ratio_plain_simpy_to_engine_loop": round(per["plain_simpy"] / per["engine_loop"], 3),
    }
    print(f"M/M/5 at utilisation 0.8, {days:g} simulated days, instructions counted by callgrind "
          f"(fewest of {REPEATS} runs)")
    for k in SECTIONS:
        spread = max(irs[k]) / min(irs[k]) - 1
        print(f"  {k:12s} {per[k]:10.0f} instructions per customer ({customers[k]} customers; "
              f"runs up to {100 * spread:.1f}% more)")
    print(f"  plain_simpy / engine_full = {figures['ratio_plain_simpy_to_engine_full']}"
          f"  (engine_loop: {figures['ratio_plain_simpy_to_engine_loop']})")
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()

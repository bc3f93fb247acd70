"""``anjeon sweep``: run, resume and check experiment sweeps (a plug-in of :mod:`sim.cli`).

``anjeon sweep EXPERIMENT.yaml [--out DIR] [--workers N | --scheduler ADDR |
--dask-local N] [--resume] [--retry-failed] [--quiet]`` runs a sweep;
``anjeon sweep check FILE`` validates a spec and prints the number of runs.
Exit codes: 0 all runs ok, 1 some runs failed (recorded in the manifest),
2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.errors import InputError


def register(subparsers: Any) -> None:
    """Add the ``sweep`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``anjeon`` sub-command registry.
    """
    p = subparsers.add_parser(
        "sweep", help="run (or resume) an experiment sweep; 'sweep check FILE' validates a spec",
        description="Run every configuration x replication of an experiment, resumably, and keep "
                    "a summary table (summary.parquet). 'anjeon sweep check FILE' validates FILE and "
                    "prints the number of runs.")
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment YAML file (or 'check')")
    p.add_argument("file", nargs="?", metavar="FILE", help="with 'check': the experiment file to check")
    p.add_argument("--out", type=Path,
                   help="sweep directory (default: out/sweeps/<name>); resumed if it exists")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int("--workers"),
                       help="local worker processes (default: every core; 1 runs in this process)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786")
    where.add_argument("--dask-local", type=_positive_int("--dask-local"), metavar="N",
                       help="start a Dask LocalCluster with N workers")
    p.add_argument("--resume", action="store_true",
                   help="resume the sweep in --out (the default when it exists; an error when it does not)")
    p.add_argument("--retry-failed", action="store_true", help="rerun the runs whose latest attempt failed")
    p.add_argument("--quiet", action="store_true", help="no progress bar or table; one line at the end")
    p.set_defaults(handler=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    if args.experiment == "check":
        if args.file is None:
            raise InputError("expected the experiment file to check: anjeon sweep check FILE", "anjeon sweep")
        return check(args.file)
    if args.file is not None:
        raise InputError(f"unexpected argument {args.file!r}", "anjeon sweep")
    from experiments.executors import make_executor
    from experiments.sweep import default_out, load_plan, run_sweep

    if args.resume:
        out = args.out or default_out(load_plan(args.experiment, probe=False)[0].spec.name)
        if not (out / "plan.json").is_file():
            raise InputError(f"nothing to resume: {out} holds no sweep", "--resume")
    executor = make_executor(args.workers, args.scheduler, args.dask_local)
    result = run_sweep(args.experiment, args.out, executor, retry_failed=args.retry_failed,
                       quiet=args.quiet, on_start=None if args.quiet else _announce)
    if args.quiet:
        print(f"{result.path}: {result.ok} ok, {result.failed} failed in this session; "
              f"{len(result.summary)} runs in summary.parquet; {len(result.failed_runs)} failed")
    else:
        print_report(result)
    return 1 if result.failed_runs else 0


def check(path: str) -> int:
    """Validate an experiment file and print its number of runs and its configurations.

    Parameters
    ----------
    path : str
        The experiment YAML.

    Returns
    -------
    int
        0 (errors raise).

    Raises
    ------
    InputError
        For any problem of the spec.
    """
    from experiments.sweep import load_plan

    plan, _ = load_plan(path)
    s = plan.spec
    runs = f"{plan.n_runs} runs ({len(plan.configurations)} configurations x {plan.replications} replications"
    if s.adaptive is not None:
        runs += f"; adaptive up to {len(plan.configurations) * plan.max_replications} runs"
    print(f"ok: {s.name}: {runs}; {s.design.kind} design; scenarios {', '.join(s.scenarios)})")
    if plan.merged_duplicates:
        print(f"  ({plan.merged_duplicates} repeated design points merged)")
    for c in plan.configurations:
        mark = "  (baseline)" if c.config_id == plan.baseline else ""
        print(f"  {c.config_id}  {c.label}{mark}")
    return 0


def _announce(result: Any, to_do: int, executor: Any) -> None:
    plan = result.plan
    print(f"sweep {plan.spec.name}: {len(plan.configurations)} configurations, {to_do} runs to do "
          f"({result.skipped} already recorded) on {executor.name} -> {result.path}", file=sys.stderr)


def print_report(result: Any) -> None:
    """Print the mean of each spec metric per configuration, and where the results are.

    Parameters
    ----------
    result : experiments.sweep.SweepResult
        The finished sweep session.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    plan, summary = result.plan, result.summary
    metrics = [m for m in plan.spec.metrics if m in summary.columns]
    table = Table(title=f"{escape(plan.spec.name)}: means over ok runs", title_justify="left")
    for col in ("config", "label", "ok", "failed", *metrics):
        table.add_column(col, justify="left" if col in ("config", "label") else "right")
    failed = {r.rsplit("-r", 1)[0] for r in result.failed_runs}
    for c in plan.configurations:
        rows = summary[summary["config_id"] == c.config_id]
        n_failed = sum(1 for r in result.failed_runs if r.rsplit("-r", 1)[0] == c.config_id)
        mark = " *" if c.config_id == plan.baseline else ""
        table.add_row(c.config_id + mark, escape(c.label), str(len(rows)),
                      str(n_failed) if c.config_id in failed else "0",
                      *(_num(rows[m].mean()) if len(rows) else "-" for m in metrics))
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 160
    console.print(table)
    console.print(f"this session: {result.ran} runs ({result.ok} ok, {result.failed} failed); "
                  f"{result.skipped} were already recorded. * = baseline")
    console.print(f"summary: {escape(str(result.path / 'summary.parquet'))}")
    if result.failed_runs:
        console.print(f"{len(result.failed_runs)} runs failed (errors and tracebacks in manifest.jsonl); "
                      "rerun them with --retry-failed")


def _num(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _positive_int(flag: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise InputError(f"expected a positive integer, got {text!r}", flag) from None
        if value < 1:
            raise InputError(f"expected a positive integer, got {text!r}", flag)
        return value

    return parse

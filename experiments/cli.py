"""``anjeon sweep``: run, resume and check experiment sweeps (a plug-in of :mod:`sim.cli`).

``anjeon sweep EXPERIMENT.yaml [--out DIR] [--workers N | --scheduler ADDR |
--dask-local N] [--resume] [--retry-failed] [--quiet]`` runs a sweep;
``anjeon sweep check FILE`` (a sub-command with its own ``--help``)
validates a spec and prints the number of runs.
Exit codes: 0 all runs ok, 1 some runs failed (recorded in the manifest),
2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import difflib
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from sim.errors import InputError

#: Sub-commands of ``anjeon sweep`` (anything else first is the experiment file).
SUBCOMMANDS = ("check",)
METRICS_NOTE = ("Metric names are the columns of summary.parquet; the utilisation of a unit type is "
                "utilization_<type> (the data contract's spelling, kept as is).")


def register(subparsers: Any) -> None:
    """Add the ``sweep`` sub-command (and ``sweep check``).

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``anjeon`` sub-command registry.
    """
    from sim.cli import out_path

    p = subparsers.add_parser(
        "sweep", help="run (or resume) an experiment sweep; 'sweep check FILE' validates a spec",
        usage="anjeon sweep EXPERIMENT [options]\n       anjeon sweep check FILE",
        description="Run every configuration x replication of an experiment, resumably, and keep "
                    "a summary table (summary.parquet). 'anjeon sweep check FILE' validates FILE and "
                    "prints the number of runs (see 'anjeon sweep check --help'). " + METRICS_NOTE)
    base = type(p)
    p.__class__ = _with_subcommands(base)
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment YAML file")
    p.add_argument("--out", type=out_path("--out"),
                   help="sweep directory (default: out/sweeps/<name>); resumed if it exists")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int("--workers"),
                       help="local worker processes (default: every core; 1 runs in this process)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786")
    where.add_argument("--dask-local", type=_positive_int("--dask-local"), metavar="N",
                       help="start a Dask LocalCluster with N workers")
    p.add_argument("--connect-timeout", type=_positive_float("--connect-timeout"), default=5.0,
                   metavar="SECONDS", help="give up on an unreachable --scheduler after this long "
                                           "(default 5)")
    p.add_argument("--resume", action="store_true",
                   help="resume the sweep in --out (the default when it exists; an error when it does not)")
    p.add_argument("--retry-failed", action="store_true", help="rerun the runs whose latest attempt failed")
    p.add_argument("--allow-code", action="store_true",
                   help="let scenarios and factors name policies and components as package.module:Name")
    p.add_argument("--quiet", action="store_true", help="no progress bar or table; one line at the end")
    p.set_defaults(handler=_sweep)

    check_parser = base(
        prog="anjeon sweep check", usage="anjeon sweep check FILE [--allow-code]",
        description="Validate an experiment file completely (its scenarios, every factor path and level, "
                    "the policies, the metric names; a one-day probe run of each scenario) and print "
                    "the number of runs and the configurations with their ids. Nothing is written. "
                    + METRICS_NOTE)
    check_parser.add_argument("file", metavar="FILE", help="the experiment YAML file to check")
    check_parser.add_argument("--allow-code", action="store_true",
                              help="accept policies and components named as package.module:Name")
    check_parser.set_defaults(handler=_check)
    p.subcommands = {"check": check_parser}  # the instance's, shadowing the class's empty dict


def _with_subcommands(base: type) -> type:
    """``base`` (the parser class of ``anjeon``) that hands ``sweep check ...`` to its own parser."""

    class SweepParser(base):
        subcommands: ClassVar[dict[str, argparse.ArgumentParser]] = {}

        def parse_known_args(self, args=None, namespace=None):
            args = list(sys.argv[1:] if args is None else args)
            if args and args[0] in self.subcommands:
                return self.subcommands[args[0]].parse_known_args(args[1:], namespace)
            if args and not args[0].startswith("-"):
                _refuse_misspelt(self, args[0])
            return super().parse_known_args(args, namespace)

    return SweepParser


def _refuse_misspelt(parser: argparse.ArgumentParser, word: str) -> None:
    """A first word close to a sub-command that names no file is a typo, not an experiment."""
    if Path(word).exists() or word.endswith((".yaml", ".yml")):
        return
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
    if close:
        parser.error(f"unknown subcommand {word!r}; did you mean {close[0]!r}?")


def _sweep(args: argparse.Namespace) -> int:
    from experiments.executors import make_executor
    from experiments.sweep import default_out, load_plan, run_sweep

    if args.resume:
        plan = load_plan(args.experiment, probe=False, allow_code=args.allow_code)[0]
        out = args.out or default_out(plan.spec.name)
        if not (out / "plan.json").is_file():
            raise InputError(f"nothing to resume: {out} holds no sweep", "--resume")
    executor = make_executor(args.workers, args.scheduler, args.dask_local,
                             connect_timeout_s=args.connect_timeout)
    result = run_sweep(args.experiment, args.out, executor, retry_failed=args.retry_failed,
                       quiet=args.quiet, on_start=None if args.quiet else _announce,
                       allow_code=args.allow_code)
    if args.quiet:
        print(f"{result.path}: {result.ok} ok, {result.failed} failed in this session; "
              f"{len(result.summary)} runs in summary.parquet; {len(result.failed_runs)} failed")
    else:
        print_report(result)
    return 1 if result.failed_runs else 0


def _check(args: argparse.Namespace) -> int:
    return check(args.file, allow_code=args.allow_code)


def check(path: str, allow_code: bool = False) -> int:
    """Validate an experiment file and print its number of runs and its configurations.

    Parameters
    ----------
    path : str
        The experiment YAML.
    allow_code : bool
        Accept policies named as ``package.module:Name``.

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

    plan, _ = load_plan(path, allow_code=allow_code)
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


def print_report(result: Any, width: int | None = None) -> None:
    """Print the mean of each spec metric per configuration, and where the results are.

    The table takes the terminal's width (160 columns when not on a
    terminal); metric columns that do not fit go to further tables (each
    with the configuration ids), so no header is cut short.

    Parameters
    ----------
    result : experiments.sweep.SweepResult
        The finished sweep session.
    width : int, optional
        Columns to fit (default: the terminal's, or 160).
    """
    from rich.console import Console

    plan, summary = result.plan, result.summary
    metrics = [m for m in plan.spec.metrics if m in summary.columns]
    console = Console(highlight=False)
    if width is not None:
        console.width = width
    elif not console.is_terminal:
        console.width = 160
    groups = _metric_groups(console, result, metrics)
    for i, group in enumerate(groups):
        part = f" ({i + 1}/{len(groups)})" if len(groups) > 1 else ""
        console.print(_table(result, group, part, first=i == 0))
    console.print(f"this session: {result.ran} runs ({result.ok} ok, {result.failed} failed); "
                  f"{result.skipped} were already recorded. * = baseline")
    from rich.markup import escape

    console.print(f"summary: {escape(str(result.path / 'summary.parquet'))}", soft_wrap=True)
    if result.failed_runs:
        console.print(f"{len(result.failed_runs)} runs failed (errors and tracebacks in manifest.jsonl); "
                      "rerun them with --retry-failed")


def _metric_groups(console: Any, result: Any, metrics: list[str]) -> list[list[str]]:
    """Split ``metrics`` into runs of columns whose table fits the console's width (at least one each).

    The first table has the labels and run counts; the others only the configuration ids.
    """
    groups: list[list[str]] = []
    unbounded = console.options.update_width(100_000)     # the table's natural width, not one squeezed to fit
    for m in metrics:
        last = groups[-1] if groups else []
        table = _table(result, [*last, m], "", first=len(groups) <= 1)
        if groups and console.measure(table, options=unbounded).maximum <= console.width:
            last.append(m)
        else:
            groups.append([m])
    return groups or [[]]


def _table(result: Any, metrics: list[str], part: str, first: bool = True) -> Any:
    from rich.markup import escape
    from rich.table import Table

    plan, summary = result.plan, result.summary
    table = Table(title=f"{escape(plan.spec.name)}: means over ok runs{part}", title_justify="left")
    table.add_column("config", no_wrap=True)
    if first:
        table.add_column("label", overflow="fold", max_width=40)
        for col in ("ok", "failed"):
            table.add_column(col, justify="right", no_wrap=True)
    for m in metrics:
        table.add_column(escape(m), justify="right", no_wrap=True, min_width=len(m))
    for c in plan.configurations:
        rows = summary[summary["config_id"] == c.config_id]
        n_failed = sum(1 for r in result.failed_runs if r.rsplit("-r", 1)[0] == c.config_id)
        mark = " *" if c.config_id == plan.baseline else ""
        lead = [escape(c.label), str(len(rows)), str(n_failed)] if first else []
        means = [_num(rows[m].mean()) if len(rows) else "-" for m in metrics]
        table.add_row(c.config_id + mark, *lead, *means)
    return table


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


def _positive_float(flag: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"expected a positive number of seconds, got {text!r}", flag) from None
        if not 0 < value < math.inf:
            raise InputError(f"expected a positive number of seconds, got {text!r}", flag)
        return value

    return parse

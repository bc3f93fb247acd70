"""The ``anjeon`` command line: run scenarios, check them, and (via plug-in modules) sweep and report.

Every user error (bad scenario, bad argument, missing file) ends as one line
on standard error and exit code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sim.errors import InputError

#: Modules that add sub-commands: each has ``register(subparsers)``.
PLUGINS = ("experiments.cli", "analysis.cli")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(message, source=None if self.prog == "anjeon" else self.prog)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``anjeon`` with every sub-command."""
    import importlib

    parser = _Parser(prog="anjeon", description="Agent-based disaster response simulation.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_run(sub)
    _add_scenario(sub)
    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``anjeon`` command. Returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except InputError as exc:
        print(f"anjeon: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("anjeon: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


# -- anjeon run -------------------------------------------------------------------
def _add_run(sub) -> None:
    p = sub.add_parser("run", help="run one replication of a scenario and write its tables",
                       description="Run one replication; write incidents, assignments, units and "
                                   "events as Parquet plus run.json, and print a summary.")
    p.add_argument("scenario", help="built-in scenario name (see 'anjeon scenario list') or YAML path")
    p.add_argument("--policy", help="dispatch policy: registry name or package.module:Name")
    p.add_argument("--seed", type=_non_negative_int("--seed"), help="root seed (default: the scenario's)")
    p.add_argument("--replication", type=_non_negative_int("--replication"), default=0,
                   help="replication number (default 0)")
    span = p.add_mutually_exclusive_group()
    span.add_argument("--days", type=_positive_float("--days"),
                      help="simulate this many days (sets the horizon)")
    span.add_argument("--until", type=_duration("--until"),
                      help="stop the run at this time, e.g. '12 h' (default: the horizon)")
    p.add_argument("--out", type=Path, help="directory for the tables (default: out/<scenario>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="print only the output directory")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import sim

    if args.out is not None:
        check_out_dir(args.out, "--out")
    result = sim.run(args.scenario, policy=args.policy, seed=args.seed,
                     replication=args.replication, until=args.until, days=args.days)
    out = args.out or Path("out") / _slug(result.meta["scenario"])
    check_out_dir(out, "--out")
    result.write(out)
    if args.json:
        print(json.dumps(result.summary(), indent=2))
    elif args.quiet:
        print(out)
    else:
        print_summary(result.meta, out)
    return 0


def check_out_dir(out: Path, flag: str) -> None:
    """Fail early (InputError) when ``out`` cannot become a directory of results."""
    for p in (out, *out.parents):
        if p.exists():
            if not p.is_dir():
                where = "exists and is not a directory" if p == out else f"{p} is not a directory"
                raise InputError(f"{out}: {where}", flag)
            break


def print_summary(meta: dict[str, Any], out: Path | None = None) -> None:
    """Print a run's summary (from run.json) as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    s = meta["summary"]
    days = (meta["until_min"] - meta["warmup_min"]) / 1440
    console.print(f"[bold]{_esc(meta['scenario'])}[/]  policy {_esc(meta['policy']['dispatch'])}  "
                  f"seed {meta['seed']}  replication {meta['replication']}  "
                  f"{days:g} days measured after warm-up  ({meta['wall_time_s']:.2f} s)")
    st = s["status"]
    console.print(f"incidents {s['incidents']}: resolved {st['resolved']}, unserved {st['unserved']}, "
                  f"abandoned {st['abandoned']}, open at end {st['open_at_end']}")
    table = Table(title="response time (minutes, call to first arrival)", title_justify="left")
    for col in ("priority", "n", "mean", "median", "p90", "within target"):
        table.add_column(col, justify="right")
    for row in [*s["by_priority"], {"priority": "all", **s["response"]}]:
        table.add_row(str(row["priority"]), str(row["n"]), _num(row["mean"]), _num(row["median"]),
                      _num(row["p90"]), _pct(row["within_target"]))
    console.print(table)
    util = Table(title="unit utilisation", title_justify="left")
    util.add_column("unit kind")
    util.add_column("busy", justify="right")
    for kind, value in s["utilization"].items():
        util.add_row(_esc(kind), _pct(value))
    console.print(util)
    if out is not None:
        console.print(f"tables written to {_esc(str(out))}/")


# -- anjeon scenario ------------------------------------------------------------
def _add_scenario(sub) -> None:
    p = sub.add_parser("scenario", help="list, show, check scenarios; print the JSON Schema")
    ss = p.add_subparsers(dest="scenario_command", metavar="ACTION", parser_class=_Parser)
    p.set_defaults(handler=lambda a: (p.print_help(), 2)[1])
    ss.add_parser("list", help="list the built-in scenarios").set_defaults(handler=_scenario_list)
    show = ss.add_parser("show", help="describe a scenario")
    show.add_argument("scenario")
    show.add_argument("--yaml", action="store_true", help="print the scenario file itself")
    show.set_defaults(handler=_scenario_show)
    check = ss.add_parser("check", help="validate a scenario file completely (schema, geography, policy)")
    check.add_argument("scenario")
    check.set_defaults(handler=_scenario_check)
    schema = ss.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")
    schema.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    schema.set_defaults(handler=_scenario_schema)


def _scenario_list(args: argparse.Namespace) -> int:
    import scenarios

    for name in scenarios.builtin_names():
        s = scenarios.load(name)
        first = s.description.split(". ")[0].strip().rstrip(".")
        print(f"{name:12s} {first}")
    return 0


def _scenario_show(args: argparse.Namespace) -> int:
    import scenarios
    from sim.world import compile_world

    if args.yaml:
        print(scenarios.resolve(args.scenario).read_text(encoding="utf-8"), end="")
        return 0
    s = scenarios.load(args.scenario)
    w = compile_world(s)
    print(describe(s, w))
    return 0


def describe(s: Any, w: Any) -> str:
    """A few lines that say what a scenario contains."""
    per_day = w.expected_counts().sum() / (w.horizon_min / 1440)
    units: dict[str, int] = {}
    for t in w.unit_type[:]:
        name = w.unit_type_names[t]
        units[name] = units.get(name, 0) + 1
    lines = [
        f"{s.name}: {' '.join(s.description.split())}",
        f"time: horizon {s.time.horizon / 1440:g} d, warm-up {s.time.warmup / 1440:g} d, "
        f"start {s.time.start.isoformat(sep=' ')}",
        f"geography: {s.geography.kind}" + "".join(f", {k} {v}" for k, v in w.info.items()
                                                   if k != "geography"),
        f"districts ({len(s.districts)}): {', '.join(s.districts)}",
        f"stations ({len(s.stations)}): {', '.join(s.stations)}",
        f"hospitals ({len(s.hospitals)}): {', '.join(s.hospitals) or 'none'}",
        f"units ({w.n_units}): " + ", ".join(f"{n} {k}" for k, n in units.items()),
        f"incident types: {', '.join(s.incident_types)}; expected {per_day:.1f} generated incidents/day"
        + (f" + {len(s.incidents)} scripted" if s.incidents else ""),
        f"policy: {s.policy.dispatch} {s.policy.params or ''}".rstrip(),
    ]
    if len(w.centre_names) > 1 or len(w.line_names) > 1:
        centres = []
        for c, name in enumerate(w.centre_names):
            takers = ("by hour" if w.centre_takers_by_hour[c] is not None
                      else w.centre_call_takers[c] or "unlimited")
            back = w.centre_fallback[c]
            fallback = f", fallback {w.centre_names[back]}" if back >= 0 else ""
            served = "/".join(line for j, line in enumerate(w.line_names) if w.centre_lines[c, j])
            centres.append(f"{name} ({served}; call-takers {takers}{fallback})")
        lines.append(f"call centres: {'; '.join(centres)}")
    for o in w.outages:
        lines.append(f"outage: {w.centre_names[o.centre]} down {o.start_min / 60:g}-{o.end_min / 60:g} h, "
                     f"held calls {o.held_calls}" + (f" ({o.label})" if o.label else ""))
    if w.road_changes:
        lines.append(f"road changes: {len(w.road_changes)}")
    if w.unit_outages:
        lines.append(f"units out of service: {len(w.unit_outages)} window(s)")
    if w.components:
        lines.append(f"components: {', '.join(w.components)}")
    return "\n".join(lines)


def _scenario_check(args: argparse.Namespace) -> int:
    import scenarios
    from agents import components
    from agents.policies import resolve
    from sim.world import compile_world

    s = scenarios.load(args.scenario)
    w = compile_world(s)
    resolve(s.policy.dispatch, dict(s.policy.params), w, source=scenarios.source_of(s))
    components.validate(w.components, scenarios.source_of(s), w)
    per_day = w.expected_counts().sum() / (w.horizon_min / 1440)
    print(f"ok: {s.name} ({len(s.districts)} districts, {len(s.stations)} stations, {w.n_units} units, "
          f"{per_day:.1f} incidents/day expected)")
    return 0


def _scenario_schema(args: argparse.Namespace) -> int:
    from scenarios.schema import Scenario

    text = json.dumps(Scenario.model_json_schema(), indent=2)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


# -- argument types -------------------------------------------------------------------
def _non_negative_int(flag: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise InputError(f"expected a non-negative integer, got {text!r}", flag) from None
        if value < 0:
            raise InputError(f"expected a non-negative integer, got {text!r}", flag)
        return value

    return parse


def _positive_float(flag: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"expected a positive number, got {text!r}", flag) from None
        if not value > 0 or value == float("inf"):
            raise InputError(f"expected a positive number, got {text!r}", flag)
        return value

    return parse


def _duration(flag: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        from scenarios.durations import parse_duration

        try:
            return parse_duration(text)
        except ValueError as exc:
            raise InputError(str(exc), flag) from None

    return parse


def _version() -> str:
    import sim

    return f"anjeon {sim.__version__}"


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name.strip())
    return keep.strip("-") or "run"


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

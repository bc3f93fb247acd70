"""``anjeon report DIR [-o FILE]`` and ``anjeon aar RUN_DIR [--fork DIR]``: the HTML reports (a CLI plug-in).

``sim.cli`` imports this module and calls :func:`register`. Errors in the
directory given end as one line on standard error and exit code 2, as every
other user error of ``anjeon``. The report is written through a temporary
``.<name>.tmp-<pid>`` beside it; temporaries that a killed ``anjeon report``
left there are removed by the next one.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from sim.stale import process_alive

#: ``.<name>.tmp-<pid>``: this command's temporary; ``.<name>.<random>.tmp``: write_report's (mkstemp)
_PID_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)$")
_MKSTEMP_TEMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")
#: A write_report temporary (no pid in its name) older than this was left by a killed process.
STALE_AFTER_S = 3600.0


def register(subparsers: Any) -> None:
    """Add the ``report`` and ``aar`` sub-commands to ``anjeon``'s sub-parsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``anjeon`` sub-parsers (their parser class turns usage errors into one line).
    """
    p = subparsers.add_parser(
        "report", help="write the offline HTML report of a run or sweep directory",
        description="Write one self-contained HTML file (no network needed to open it) with the "
                    "summary, comparisons with confidence intervals, district maps, utilisation "
                    "and provenance of a run directory (anjeon run --out DIR) or a sweep directory. "
                    "Open it in any browser (xdg-open FILE, or open FILE on macOS).")
    p.add_argument("directory", type=_path(), help="run directory (with run.json) or sweep "
                                                             "directory (with summary.parquet)")
    p.add_argument("-o", "--output", type=_path(),
                   help="HTML file to write (default: DIR/report.html)")
    p.set_defaults(handler=_report)
    a = subparsers.add_parser(
        "aar", help="write the after-action report of a drill run (per inject: what followed)",
        description="Write one offline HTML after-action report of a run directory: per inject (or per "
                    "time window when the run has no injects) the calls that followed, the units sent, where "
                    "the delay came from (answer, dispatch, waiting for a unit, turnout, travel) and the "
                    "targets met or missed; the bottlenecks (busiest units, longest waits, stock-outs); and, "
                    "with --fork, the incidents after the fork time in both branches.")
    a.add_argument("directory", type=_path(), help="run directory (with run.json)")
    a.add_argument("--fork", type=_path(), help="a run directory forked from it, to compare with")
    a.add_argument("-o", "--output", "--out", type=_path(),
                   help="HTML file to write (default: DIR/after-action.html)")
    a.set_defaults(handler=_aar)


def _report(args: argparse.Namespace) -> int:
    from analysis.report import build_report
    from analysis.store import StoreError

    try:
        if args.output is not None and args.output.is_dir():
            raise StoreError(f"{args.output}: is a directory; give the HTML file to write")
        target = args.output if args.output is not None else args.directory / "report.html"
        text = build_report(args.directory)
        write_text_atomic(target, text)
    except (StoreError, OSError) as exc:
        print(f"anjeon: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    print(target)
    return 0


def _aar(args: argparse.Namespace) -> int:
    from analysis.aar import build_aar
    from analysis.store import StoreError

    try:
        if args.output is not None and args.output.is_dir():
            raise StoreError(f"{args.output}: is a directory; give the HTML file to write")
        target = args.output if args.output is not None else args.directory / "after-action.html"
        write_text_atomic(target, build_aar(args.directory, fork=args.fork))
    except (StoreError, OSError) as exc:
        print(f"anjeon: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    print(target)
    return 0


def write_text_atomic(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through ``.<name>.tmp-<pid>`` and a rename; remove stale temporaries.

    Parameters
    ----------
    target : Path
        The file to write (its directory is created when missing).
    text : str
        The content (UTF-8).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove temporaries of ``target`` left by killed writers (their pid is gone, or old and pid-less).

    Parameters
    ----------
    target : Path
        The file whose temporaries (``.<name>.tmp-<pid>``, ``.<name>.<random>.tmp``) to look for.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed = []
    for p in target.parent.iterdir():
        m = _PID_TEMP.match(p.name)
        if m is not None and m["name"] == target.name:
            stale = not process_alive(int(m["pid"]))
        else:
            m = _MKSTEMP_TEMP.match(p.name)
            stale = (m is not None and m["name"] == target.name
                     and time.time() - p.stat().st_mtime > STALE_AFTER_S)
        if stale and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def _path() -> Any:
    """Argument type of a path that must not be empty (``Path('')`` would be the working directory)."""

    def parse(text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"expected a path, got {text!r}")
        return Path(text)

    parse.__name__ = "path"
    return parse


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
        return f"{' -> '.join(paths)}: {exc.strerror}" if paths else exc.strerror
    return " ".join(str(exc).split())

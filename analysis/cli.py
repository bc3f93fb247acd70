"""``anjeon report DIR [-o FILE]``: the sub-command that writes the HTML report (a CLI plug-in).

``sim.cli`` imports this module and calls :func:`register`. Errors in the
directory given end as one line on standard error and exit code 2, as every
other user error of ``anjeon``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``report`` sub-command to ``anjeon``'s sub-parsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``anjeon`` sub-parsers (their parser class turns usage errors into one line).
    """
    p = subparsers.add_parser(
        "report", help="write the offline HTML report of a run or sweep directory",
        description="Write one self-contained HTML file (no network needed to open it) with the "
                    "summary, comparisons with confidence intervals, district maps, utilisation "
                    "and provenance of a run directory (anjeon run --out DIR) or a sweep directory.")
    p.add_argument("directory", type=Path, help="run directory (with run.json) or sweep directory "
                                                "(with summary.parquet)")
    p.add_argument("-o", "--output", type=Path, help="HTML file to write (default: DIR/report.html)")
    p.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from analysis.report import write_report
    from analysis.store import StoreError

    try:
        if args.output is not None and args.output.is_dir():
            raise StoreError(f"{args.output}: is a directory; give the HTML file to write")
        path = write_report(args.directory, args.output)
    except (StoreError, OSError) as exc:
        print(f"anjeon: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(path)
    return 0

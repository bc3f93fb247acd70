"""The ``anjeon`` command's entry point: a Ctrl-C while the command still loads ends quietly too.

The console script imports this module, which imports nothing heavy, and
loads :mod:`sim.cli` inside :func:`main`: a Ctrl-C during that import (the
first few tens of milliseconds) gets the same one line and exit code 130 as
one during the command, instead of a traceback.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Load the command line and run it; returns the exit code."""
    try:
        from sim.cli import main as run
    except KeyboardInterrupt:
        print("anjeon: interrupted (nothing was written)", file=sys.stderr)
        return 130
    return run()

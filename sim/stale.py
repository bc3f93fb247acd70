"""Temporaries of processes that died: whether the process that named one still runs.

Run directories (``sim.results``) and report files (``analysis.cli``) are
written into temporaries named with the writer's pid and moved into place;
a killed writer leaves its temporary behind, which the next writer removes
when that pid no longer runs.
"""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True when another process with this pid runs (a pid of this process counts as gone).

    Parameters
    ----------
    pid : int
        Process id read from a temporary's name.

    Returns
    -------
    bool
        False for this process's own pid, a non-positive pid or one no process has;
        True when the process exists, under any user.
    """
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True

"""Live progress of a sweep: runs done and failed, rate and ETA (on standard error), or nothing.

Quiet mode (for logs and scripts) draws no bar; the command line prints one
line at the end instead.
"""

from __future__ import annotations

import time
from typing import Any


class SweepProgress:
    """A rich progress bar over the runs of one session of a sweep.

    Lifecycle: ``with SweepProgress(...) as p:`` shows the bar;
    :meth:`advance` after each finished run; :meth:`add` when adaptive
    replications add runs.

    Parameters
    ----------
    total : int
        Runs to do in this session.
    quiet : bool
        Show nothing.
    description : str
        Text before the bar.
    """

    def __init__(self, total: int, quiet: bool = False, description: str = "sweep"):
        self.total = total
        self.quiet = quiet
        self.description = description
        self.done = 0
        self.failed = 0
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> SweepProgress:
        self._started = time.monotonic()
        if not self.quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("failed {task.fields[failed]}"), TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total, failed=0, rate="-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def advance(self, ok: bool) -> None:
        """Count one finished run.

        Parameters
        ----------
        ok : bool
            False for a failed run.
        """
        self.done += 1
        self.failed += 0 if ok else 1
        if self._bar is not None:
            rate = f"{self.rate_per_min:.1f} runs/min"
            self._bar.update(self._task, advance=1, failed=self.failed, rate=rate)

    def add(self, n: int) -> None:
        """Add ``n`` runs to the total.

        Parameters
        ----------
        n : int
            Runs added.
        """
        self.total += n
        if self._bar is not None and n:
            self._bar.update(self._task, total=self.total)

    @property
    def rate_per_min(self) -> float:
        """Runs finished per minute in this session."""
        elapsed = time.monotonic() - self._started
        return 60.0 * self.done / elapsed if elapsed > 0 else 0.0

"""Performance suite: each module measures Anjeon beside a peer in the same run.

Convention: ``benchmarks/<name>.py`` has ``main(argv=None) -> dict`` which
prints a table of figures (medians over repetitions, and ratios to the peer
measured in the same process) and writes the same figures as JSON to
``out/bench/<name>.json``. Run one with ``python -m benchmarks.<name>``, all
with ``python -m benchmarks`` (``make bench``). Never a timed test.
"""

import json
from pathlib import Path
from typing import Any


def write_figures(path: Path, figures: dict[str, Any]) -> None:
    """Write a benchmark's figures as indented JSON, making the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n")

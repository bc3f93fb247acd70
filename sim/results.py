"""The result of a run: four tables and its provenance, written atomically as Parquet + JSON."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

TABLES = ("incidents", "assignments", "units", "events")
_PACKAGES = ("anjeon", "numpy", "scipy", "simpy", "mesa", "numba", "pandas", "pydantic", "pyarrow")


@dataclass
class RunResult:
    """Tables of one run (see docs/architecture.md for their columns).

    ``meta`` is written as run.json (provenance, plus the summary, which is
    computed on first use by :meth:`summary` or :meth:`write`); ``scenario`` is
    the resolved scenario as JSON-ready data, written as scenario.json so that
    readers of a result directory (reports, replays) need no engine.
    """

    incidents: pd.DataFrame
    assignments: pd.DataFrame
    units: pd.DataFrame
    events: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)
    #: tables of components (``<name>.parquet``), listed in ``meta["tables"]``
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def from_columns(cls, columns: dict[str, dict[str, Any]], meta: dict[str, Any],
                     scenario: dict[str, Any] | None = None) -> RunResult:
        """Build the DataFrames from column dicts (as produced by the model), taking their arrays.

        The DataFrames hold the given arrays themselves (no copy, no
        consolidation into 2-D blocks): the columns must belong to this run
        alone, as the model's do (tests/engine/test_memory.py checks that none
        shares memory with the World). Copying a long run's tables cost
        another 20-odd MB of fresh pages on each run (see
        benchmarks/engine_mmc.py). Empties ``columns`` table by table.
        """
        frames = {name: pd.DataFrame(columns.pop(name), copy=False) for name in TABLES}
        extra = {name: pd.DataFrame(columns.pop(name), copy=False) for name in list(columns)}
        if extra:
            meta["tables"] = sorted(extra)
        return cls(**frames, meta=meta, scenario=scenario or {}, extra=extra)

    def summary(self) -> dict[str, Any]:
        """Headline metrics (warm-up excluded), kept in ``meta["summary"]``.

        See :func:`analysis.metrics.summarize`.
        """
        if "summary" not in self.meta:
            from analysis.metrics import summarize

            self.meta["summary"] = summarize(self.incidents, self.units)
        return self.meta["summary"]

    def write(self, out_dir: str | Path) -> Path:
        """Write ``<table>.parquet`` files and ``run.json`` into ``out_dir``.

        Files are written to a temporary sibling directory first and then
        moved into place, so an interrupted write leaves no partial table.
        """
        out = Path(out_dir)
        self.summary()
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            for name in TABLES:
                write_table(getattr(self, name), tmp / f"{name}.parquet")
            for name, frame in self.extra.items():
                write_table(frame, tmp / f"{name}.parquet")
            (tmp / "run.json").write_text(json.dumps(self.meta, indent=2, default=str) + "\n")
            if self.scenario:
                (tmp / "scenario.json").write_text(json.dumps(self.scenario, indent=1) + "\n")
            if not out.exists():
                tmp.rename(out)
            else:
                for f in tmp.iterdir():
                    os.replace(f, out / f.name)
                tmp.rmdir()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return out

    @classmethod
    def read(cls, out_dir: str | Path) -> RunResult:
        """Read a run written by :meth:`write`."""
        out = Path(out_dir)
        frames = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}
        meta = json.loads((out / "run.json").read_text())
        extra = {name: pd.read_parquet(out / f"{name}.parquet") for name in meta.get("tables", [])}
        doc = out / "scenario.json"
        return cls(**frames, meta=meta, scenario=json.loads(doc.read_text()) if doc.exists() else {},
                   extra=extra)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet, dictionary-encoding only its categorical and text columns.

    Dictionary-encoding every column (pyarrow's default) builds a hash table of
    all distinct times and ids before giving up on them: writing a year of
    ``ansan`` events (579k rows) took 47 MB more memory that way than this.
    """
    coded = [str(c) for c, dtype in frame.dtypes.items()
             if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)]
    frame.to_parquet(path, index=False, use_dictionary=coded or False)


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Versions of Python and the packages a run depends on."""
    out = {"python": sys.version.split()[0]}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


@lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The source tree's git commit (with ``-dirty`` when modified), or None."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{rev}-dirty" if dirty else rev

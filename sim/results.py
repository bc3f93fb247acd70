"""The result of a run: four tables and its provenance, written atomically as Parquet + JSON."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.stale import process_alive

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
        """Write ``<table>.parquet`` files, ``run.json`` and ``scenario.json`` into ``out_dir``.

        The files are written into a temporary sibling directory
        (``.<name>.tmp-<pid>``) that then takes the place of ``out_dir``, so an
        interrupted write leaves no partial table. An existing run directory
        (one holding ``run.json``) is replaced as a whole, a report or a
        component table of the earlier run included; an empty directory is
        used as is. Temporaries left beside ``out_dir`` by a killed process are
        removed first; on failure, parent directories created here are removed
        again.

        Parameters
        ----------
        out_dir : str or Path
            The run directory.

        Returns
        -------
        Path
            ``out_dir``.

        Raises
        ------
        FileExistsError
            When ``out_dir`` holds files and is not a run directory.
        OSError
            When the files cannot be written (read-only location, full disk...).
        """
        out = Path(out_dir)
        self.summary()
        if out.is_dir() and not is_run_dir(out) and visible_entries(out):
            raise FileExistsError(errno.EEXIST, "holds files that are not a run's", str(out))
        created = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(out.parent, out.name)
            try:
                self._write_into(out)
            except OSError as exc:    # name the run directory, not a temporary (pyarrow names nothing)
                if exc.filename is None or f".{out.name}.tmp-" in str(exc.filename):
                    reason = exc.strerror or " ".join(str(exc).split())
                    raise OSError(exc.errno, reason, str(out)) from exc
                raise
        except BaseException:
            for p in created:           # innermost first: only the empty ones made here
                with contextlib.suppress(OSError):
                    p.rmdir()
            raise
        return out

    def _write_into(self, out: Path) -> None:
        """Build the run in ``.<name>.tmp-<pid>``, then move it into place (see :meth:`write`)."""
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        old = out.parent / f".{out.name}.old-{os.getpid()}"
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
            if out.is_dir() and not any(out.iterdir()):
                out.rmdir()
            if out.exists():
                os.rename(out, old)
            os.rename(tmp, out)
        finally:
            if old.exists() and not out.exists():    # interrupted between the two renames: put it back
                os.rename(old, out)
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)

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


def is_run_dir(path: Path) -> bool:
    """True when ``path`` is a directory that holds a run (its ``run.json``)."""
    return (path / "run.json").is_file()


def visible_entries(path: Path) -> list[Path]:
    """Entries of directory ``path``, leaving out hidden temporaries (``.<name>.tmp-*``)."""
    return [p for p in path.iterdir() if not _TEMPORARY.match(p.name)]


#: ``.<name>.tmp-<pid>[-<tag>]`` and ``.<name>.old-<pid>[-<tag>]``: what writers here leave when killed
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)(?:-[0-9a-f]+)?$")


def remove_stale_temporaries(folder: Path, name: str) -> list[Path]:
    """Remove the temporaries of ``name`` in ``folder`` whose writing process is gone.

    A killed writer (``kill -9``, a power cut) leaves ``.<name>.tmp-<pid>``
    behind; the pid tells whether it may still be in use. Temporaries of this
    process are stale too (its writers remove their own when they finish).

    Parameters
    ----------
    folder : Path
        The directory that holds ``name``.
    name : str
        The file or directory name whose temporaries to remove.

    Returns
    -------
    list of Path
        The paths removed.
    """
    removed = []
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = _TEMPORARY.match(p.name)
        if m is None or m["name"] != name or process_alive(int(m["pid"])):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def sources_sha256(packages: tuple[str, ...]) -> str:
    """SHA-256 of the sources of ``packages``: every ``*.py`` file, path then content, in sorted order.

    Paths are relative to their package (``sim/geo.py``). Reads the files on
    every call: callers keep the value (once per process).

    Parameters
    ----------
    packages : tuple of str
        Importable package names.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    h = hashlib.sha256()
    for package in packages:
        spec = importlib.util.find_spec(package)
        for root in map(Path, list(spec.submodule_search_locations or []) if spec else []):
            for path in sorted(root.rglob("*.py")):
                h.update(f"{package}/{path.relative_to(root).as_posix()}\0".encode())
                h.update(path.read_bytes())
                h.update(b"\0")
    return h.hexdigest()


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

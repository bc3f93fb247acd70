"""The result store of a sweep: one directory, written crash-safely by one client process.

Layout (a contract; :mod:`analysis.store` reads it)::

    <sweep_dir>/
      experiment.yaml   copy of the spec as given
      plan.json         the resolved plan (factors, configurations, seeds, replications, baseline)
      manifest.jsonl    append-only, one JSON object per run attempt
      summary.parquet   one row per run whose latest attempt is ok: ids, factor values, metrics
      runs/<run_id>/    the kept tables as Parquet, run.json, scenario.json

Crash safety: every file but the manifest is written under a temporary
dot-name and moved into place with ``os.replace``; a run directory is built
as ``runs/.<run_id>.tmp-*`` and renamed. A manifest line is appended with a
single ``write`` and fsync'd; a torn last line (only possible on power loss)
is dropped on the next open. The manifest is the record of truth: the
summary is rebuilt from it on open, a run directory without an ok manifest
line is removed, and temporaries left by a killed process are deleted. A
lock file stops two clients from writing one directory at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.results import write_table

#: Leading columns of summary.parquet (factor columns go after ``label``).
ID_COLUMNS = ("run_id", "config_id", "label")
RUN_COLUMNS = ("scenario", "policy", "seed", "replication", "wall_time_s")
#: Seconds between two rewrites of summary.parquet while a sweep runs.
SUMMARY_EVERY_S = 1.0


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary sibling and ``os.replace``.

    Parameters
    ----------
    path : Path
        Destination file.
    data : bytes or str
        Content (text is encoded as UTF-8).
    """
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_run(out: Path, tables: dict[str, pd.DataFrame], meta: dict[str, Any],
              scenario: dict[str, Any]) -> Path:
    """Write one run's directory atomically (tables as Parquet, run.json, scenario.json).

    The same files as :meth:`sim.RunResult.write`, limited to ``tables``.
    The directory is built under a temporary dot-name and renamed into
    place; an existing directory of the same name is replaced.

    Parameters
    ----------
    out : Path
        ``<sweep_dir>/runs/<run_id>``.
    tables : dict
        Table name -> DataFrame, for the tables to keep.
    meta : dict
        run.json content (provenance and summary).
    scenario : dict
        scenario.json content (the resolved scenario).

    Returns
    -------
    Path
        ``out``.
    """
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = out.parent / f".{out.name}.tmp-{tag}"
    old = out.parent / f".{out.name}.old-{tag}"
    tmp.mkdir(parents=True)
    try:
        for name, frame in tables.items():
            write_table(frame, tmp / f"{name}.parquet")
        (tmp / "run.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        (tmp / "scenario.json").write_text(json.dumps(scenario, indent=1) + "\n", encoding="utf-8")
        if out.exists():
            os.rename(out, old)
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return out


def is_temporary(name: str) -> bool:
    """True for names of the store's (and RunResult.write's) temporaries."""
    return name.startswith(".") and (".tmp" in name or ".old-" in name)


class SweepStore:
    """A sweep directory opened for writing by the one client of a sweep.

    Lifecycle: :meth:`open` locks the directory, cleans what a killed
    process left, checks that it holds the same plan, and rebuilds the
    summary from the manifest; :meth:`record` appends each run attempt;
    :meth:`close` writes the final summary and releases the lock.

    Parameters
    ----------
    root : Path
        The sweep directory.
    plan : dict
        The plan (as in plan.json).
    """

    def __init__(self, root: Path, plan: dict[str, Any]):
        self.root = root
        self.plan = plan
        self.latest: dict[str, dict[str, Any]] = {}
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock_fh: Any = None
        self._summary_at = 0.0
        self._dirty = False
        self._allowed = {c["config_id"]: int(plan["max_replications"]) for c in plan["configurations"]}

    @property
    def runs_dir(self) -> Path:
        """``<root>/runs``."""
        return self.root / "runs"

    @property
    def manifest_path(self) -> Path:
        """``<root>/manifest.jsonl``."""
        return self.root / "manifest.jsonl"

    @classmethod
    def open(cls, root: str | Path, plan: dict[str, Any], spec_text: str) -> SweepStore:
        """Create or reopen the sweep directory ``root`` for ``plan``.

        Parameters
        ----------
        root : str or Path
            The sweep directory (created when missing).
        plan : dict
            The plan (as in plan.json).
        spec_text : str
            The spec file as given (written as experiment.yaml).

        Returns
        -------
        SweepStore

        Raises
        ------
        InputError
            When ``root`` is a file, a non-empty directory that is not a sweep,
            a sweep of a different plan, or in use by another sweep.
        """
        store = cls(Path(root), plan)
        store._prepare_dir()
        store._lock()
        try:
            store._check_same_plan()
            store._load_manifest()
            store._clean()
            write_atomic(store.root / "experiment.yaml", spec_text)
            write_atomic(store.root / "plan.json", json.dumps(plan, indent=1, default=str) + "\n")
            store.write_summary()
        except BaseException:
            store.close(write=False)
            raise
        return store

    def _prepare_dir(self) -> None:
        root = self.root
        if root.exists() and not root.is_dir():
            raise InputError("exists and is not a directory", str(root))
        if root.is_dir() and not (root / "plan.json").is_file() and not _blank(root):
            raise InputError("exists and is not a sweep directory (no plan.json); choose another --out",
                             str(root))
        self.runs_dir.mkdir(parents=True, exist_ok=True)

    def _lock(self) -> None:
        fh = open(self.root / ".lock", "a+")  # noqa: SIM115 (held until close)
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise InputError("another sweep is writing to this directory", str(self.root)) from None
        self._lock_fh = fh

    def _check_same_plan(self) -> None:
        path = self.root / "plan.json"
        if not path.is_file():
            return
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            old_ids = [c["config_id"] for c in old["configurations"]]
        except (ValueError, KeyError, TypeError):
            raise InputError("plan.json is unreadable; choose another --out", str(self.root)) from None
        new_ids = [c["config_id"] for c in self.plan["configurations"]]
        if sorted(old_ids) != sorted(new_ids):
            raise InputError("holds a sweep of a different plan (its configurations differ); "
                             "choose another --out or delete it", str(self.root))

    def _clean(self) -> None:
        """Delete temporaries, and run directories without an ok manifest line (left by a killed process)."""
        for folder in (self.root, self.runs_dir):
            for p in folder.iterdir():
                if is_temporary(p.name):
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        for p in self.runs_dir.iterdir():
            if p.is_dir() and self.status(p.name) != "ok":
                shutil.rmtree(p, ignore_errors=True)

    def _load_manifest(self) -> None:
        """Read the manifest, dropping a torn last line."""
        path = self.manifest_path
        if path.is_file():
            raw = path.read_bytes()
            kept = []
            for line in raw.split(b"\n"):
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and "run_id" in rec:
                    kept.append(line + b"\n")
                    self._remember(rec)
            if b"".join(kept) != raw:
                write_atomic(path, b"".join(kept))

    def status(self, run_id: str) -> str | None:
        """``"ok"``, ``"failed"`` or None (never attempted) for the latest attempt of ``run_id``."""
        rec = self.latest.get(run_id)
        return None if rec is None else rec.get("status")

    def attempts(self, run_id: str) -> int:
        """How many attempts of ``run_id`` the manifest holds (read on open, then counted)."""
        rec = self.latest.get(run_id)
        return 0 if rec is None else int(rec.get("attempt", 1))

    def record(self, rec: dict[str, Any]) -> None:
        """Append one run attempt to the manifest and to the summary (rewritten at most every second).

        Parameters
        ----------
        rec : dict
            The manifest record (JSON-ready).
        """
        line = (json.dumps(rec, default=str) + "\n").encode("utf-8")
        fd = os.open(self.manifest_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._remember(rec)
        self._dirty = True
        if time.monotonic() - self._summary_at >= SUMMARY_EVERY_S:
            self.write_summary()

    def _remember(self, rec: dict[str, Any]) -> None:
        self.latest[rec["run_id"]] = rec
        if rec.get("status") == "ok" and self._planned(rec):
            self._rows[rec["run_id"]] = summary_row(rec)
        else:
            self._rows.pop(rec["run_id"], None)

    def failed_runs(self) -> list[str]:
        """Planned run_ids whose latest attempt failed, sorted."""
        return sorted(r for r, rec in self.latest.items()
                      if rec.get("status") == "failed" and self._planned(rec))

    def _planned(self, rec: dict[str, Any]) -> bool:
        limit = self._allowed.get(rec.get("config_id"))
        return limit is not None and int(rec.get("replication", limit)) < limit

    def summary(self) -> pd.DataFrame:
        """One row per planned run whose latest attempt is ok (the content of summary.parquet)."""
        factors = [f["name"] for f in self.plan["factors"]]
        order = {c["config_id"]: i for i, c in enumerate(self.plan["configurations"])}
        rows = sorted(self._rows.values(), key=lambda r: (r["replication"], order.get(r["config_id"], 0)))
        frame = pd.DataFrame(rows)
        lead = [*ID_COLUMNS, *factors, *(c for c in RUN_COLUMNS if c not in factors)]
        for col in lead:
            if col not in frame:
                frame[col] = pd.Series(dtype="object")
        metrics = [c for c in frame.columns if c not in lead]
        frame = frame[[*lead, *metrics]]
        for col in factors:
            frame[col] = _factor_column(frame[col])
        for col in metrics:
            frame[col] = frame[col].astype("float64")
        return frame.reset_index(drop=True)

    def write_summary(self) -> None:
        """Rewrite summary.parquet atomically."""
        tmp = self.root / f".summary.parquet.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            self.summary().to_parquet(tmp, index=False)
            os.replace(tmp, self.root / "summary.parquet")
        finally:
            tmp.unlink(missing_ok=True)
        self._summary_at = time.monotonic()
        self._dirty = False

    def close(self, write: bool = True) -> None:
        """Write the final summary (when anything changed), tidy up and release the lock.

        Call it once the executor has stopped: run directories that workers
        wrote for runs the client did not record (an interrupted sweep) are
        removed with the temporaries.

        Parameters
        ----------
        write : bool
            Write the summary if it is out of date.
        """
        try:
            if write and self._dirty:
                self.write_summary()
            if write:
                self._clean()
        finally:
            if self._lock_fh is not None:  # the lock file stays: unlinking it would race with a new locker
                self._lock_fh.close()
                self._lock_fh = None


def _blank(root: Path) -> bool:
    """True when ``root`` holds nothing but what an interrupted first open leaves (lock, empty runs/)."""
    for p in root.iterdir():
        if p.name == ".lock" or is_temporary(p.name):
            continue
        if p.name == "runs" and p.is_dir() and not any(p.iterdir()):
            continue
        return False
    return True


def summary_row(rec: dict[str, Any]) -> dict[str, Any]:
    """The summary.parquet row of an ok manifest record.

    Parameters
    ----------
    rec : dict
        A manifest record with ``status == "ok"``.

    Returns
    -------
    dict
        run_id, config_id, label, factor values, scenario, policy, seed,
        replication, wall_time_s, then the run's metrics.
    """
    row = {k: rec[k] for k in ID_COLUMNS}
    row.update(rec.get("config") or {})
    row.update({k: rec[k] for k in RUN_COLUMNS})
    row.update(rec.get("metrics") or {})
    return row


def _factor_column(col: pd.Series) -> pd.Series:
    """One Parquet type per factor column: numbers stay numbers, anything mixed or nested becomes text."""
    values = [v for v in col if v is not None]
    if all(isinstance(v, bool) for v in values) or all(isinstance(v, str) for v in values):
        return col
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.to_numeric(col)
    return col.map(lambda v: v if v is None else (v if isinstance(v, str) else json.dumps(v, sort_keys=True)))

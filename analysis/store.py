"""Reading result directories: one run (``run.json``) or a sweep (``summary.parquet``).

A run directory holds ``incidents``, ``assignments``, ``units`` and ``events``
as Parquet, ``run.json`` (provenance and summary) and ``scenario.json`` (the
resolved scenario). A sweep directory holds ``plan.json``, ``manifest.jsonl``,
``summary.parquet`` (one row per finished run) and ``runs/<run_id>/`` run
directories, some of whose tables may be missing: readers return None for a
missing table and callers leave out what needs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

TABLES = ("incidents", "assignments", "units", "events")


class StoreError(ValueError):
    """A path that is not a readable run or sweep directory (one line for users)."""


@dataclass
class RunDir:
    """One run's directory: provenance read at once, tables read on demand.

    Parameters
    ----------
    path : Path
        The directory.
    meta : dict
        The contents of ``run.json`` (empty when absent).
    scenario : dict
        The contents of ``scenario.json`` (empty when absent).
    """

    path: Path
    meta: dict[str, Any] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """Read ``run.json`` and ``scenario.json`` of the run at ``path`` (either may be missing)."""
        p = Path(path)
        return cls(p, _read_json(p / "run.json"), _read_json(p / "scenario.json"))

    def has(self, name: str) -> bool:
        """True when table ``name`` was kept."""
        return (self.path / f"{name}.parquet").is_file()

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        """Table ``name`` (optionally only some columns), or None when it was not kept."""
        f = self.path / f"{name}.parquet"
        if not f.is_file():
            return None
        try:
            if columns is not None:
                have = set(_schema_names(f))
                columns = [c for c in columns if c in have]
            return pd.read_parquet(f, columns=columns)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{f}: cannot read ({' '.join(str(exc).split())[:200]})") from None

    def window(self) -> tuple[float, float]:
        """Measured period in minutes: warm-up end to the end of the run."""
        start = self.meta.get("warmup_min")
        start = float(start) if start is not None else _time_of(self.scenario, "warmup", 0.0)
        end = self.meta.get("until_min", self.meta.get("horizon_min"))
        if end is None:
            end = _time_of(self.scenario, "horizon", start + 1440.0)
        return start, float(end)

    @property
    def policy(self) -> str:
        """Name of the dispatch policy (``?`` when unknown)."""
        pol = self.meta.get("policy", {})
        return str(pol.get("dispatch", "?")) if isinstance(pol, dict) else str(pol)


@dataclass
class SweepDir:
    """A sweep's directory: plan, manifest and summary, with run directories under ``runs/``.

    Parameters
    ----------
    path : Path
        The directory.
    plan : dict
        ``plan.json`` (empty when absent).
    manifest : DataFrame
        ``manifest.jsonl``, one row per run attempt (empty when absent).
    summary : DataFrame
        ``summary.parquet``, one row per finished run.
    """

    path: Path
    plan: dict[str, Any]
    manifest: pd.DataFrame
    summary: pd.DataFrame

    @classmethod
    def open(cls, path: str | Path) -> SweepDir:
        """Read the plan, manifest and summary of the sweep at ``path``."""
        p = Path(path)
        try:
            summary = pd.read_parquet(p / "summary.parquet")
        except (OSError, ValueError) as exc:
            raise StoreError(f"{p / 'summary.parquet'}: cannot read ({exc})") from None
        missing = [c for c in ("run_id", "config_id") if c not in summary]
        if missing:
            raise StoreError(f"{p / 'summary.parquet'}: missing column(s) {', '.join(missing)}")
        return cls(p, _read_json(p / "plan.json"), _read_manifest(p / "manifest.jsonl"), summary)

    def run(self, run_id: str) -> RunDir | None:
        """The directory of run ``run_id``, or None when it was not kept."""
        p = self.path / "runs" / str(run_id)
        return RunDir.open(p) if p.is_dir() else None

    @property
    def factors(self) -> list[str]:
        """Names of the sweep's factors, in plan order (those with a summary column)."""
        names = []
        for f in self.plan.get("factors", []) or []:
            name = f.get("name") if isinstance(f, dict) else f
            if name is not None and str(name) in self.summary.columns:
                names.append(str(name))
        return names

    @property
    def configs(self) -> pd.DataFrame:
        """One row per configuration: config_id, label, then its factor values; in plan order."""
        rows = []
        for c in self.plan.get("configurations", []) or []:
            if isinstance(c, dict) and "config_id" in c:
                values = c.get("values") or {}
                rows.append({"config_id": str(c["config_id"]), "label": str(c.get("label", c["config_id"])),
                             **{f: values.get(f) for f in self.factors}})
        seen = {r["config_id"] for r in rows}
        extra = self.summary.drop_duplicates("config_id") if "config_id" in self.summary else self.summary[:0]
        for r in extra.to_dict("records"):
            if str(r["config_id"]) not in seen:
                rows.append({"config_id": str(r["config_id"]), "label": str(r.get("label", r["config_id"])),
                             **{f: r.get(f) for f in self.factors}})
        return pd.DataFrame(rows, columns=["config_id", "label", *self.factors])

    @property
    def baseline(self) -> str | None:
        """The baseline configuration's id: the plan's, else the first configuration."""
        for key in ("baseline", "baseline_config_id", "baseline_config"):
            value = self.plan.get(key)
            if isinstance(value, dict):
                value = value.get("config_id")
            if value is not None:
                return str(value)
        ids = self.configs["config_id"]
        return str(ids.iloc[0]) if len(ids) else None

    @property
    def failed(self) -> pd.DataFrame:
        """Manifest rows of runs whose last attempt failed."""
        m = self.manifest
        if not len(m) or "status" not in m or "run_id" not in m:
            return m[:0]
        last = m.drop_duplicates("run_id", keep="last")
        return last[(last["status"] != "ok") & ~last["run_id"].isin(self.summary.get("run_id", []))]


def open_dir(path: str | Path) -> RunDir | SweepDir:
    """Open a run directory (has ``run.json``) or a sweep directory (has ``summary.parquet``).

    Parameters
    ----------
    path : str or Path
        The directory.

    Returns
    -------
    RunDir or SweepDir

    Raises
    ------
    StoreError
        When the path does not exist, is not a directory, or is neither kind.
    """
    p = Path(path)
    if not p.exists():
        raise StoreError(f"{p}: no such directory")
    if not p.is_dir():
        raise StoreError(f"{p}: not a directory")
    if (p / "summary.parquet").is_file():
        return SweepDir.open(p)
    if (p / "run.json").is_file():
        return RunDir.open(p)
    raise StoreError(f"{p}: neither a run directory (no run.json) nor a sweep directory (no summary.parquet)")


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: not valid JSON ({exc})") from None
    return doc if isinstance(doc, dict) else {}


def _read_manifest(path: Path) -> pd.DataFrame:
    """Rows of ``manifest.jsonl``; a torn last line (from a killed writer) is skipped."""
    if not path.is_file():
        return pd.DataFrame()
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return pd.DataFrame(rows)


def _schema_names(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def _time_of(scenario: dict[str, Any], key: str, default: float) -> float:
    value = (scenario.get("time") or {}).get(key)
    return float(value) if isinstance(value, int | float) else default

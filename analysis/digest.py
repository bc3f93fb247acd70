"""What a report needs from each run, computed once per run and averaged per configuration.

A :class:`Digest` holds the small results of one run (response times,
grouped statistics, delays, utilisation and hospital series); the tables
themselves are dropped after digesting, so a sweep of hundreds of runs fits
in memory. :class:`Collection` gathers the digests of a run or sweep
directory with the configurations, the per-run summary and the provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import metrics, timeseries
from analysis.figures import colours
from analysis.store import RunDir, SweepDir, open_dir

_INCIDENT_COLUMNS = ["incident_id", "kind", "district", "priority", "t_call_min", "t_answer_min",
                     "t_dispatch_min", "t_first_arrival_min", "response_min", "status", "target_min",
                     "in_warmup", "processing_min", "x_km", "y_km"]
_ASSIGNMENT_COLUMNS = ["incident_id", "unit_id", "unit_kind", "tier", "t_dispatch_min", "t_arrive_min",
                       "t_free_min"]


@dataclass
class Digest:
    """Small results of one run; a field is None when the table it needs was not kept.

    Parameters
    ----------
    run_id, config_id : str
        Which run, of which configuration.
    meta : dict
        The run's ``run.json``.
    window : tuple of float
        Measured period (warm-up end, end of run) in minutes.
    """

    run_id: str
    config_id: str
    meta: dict[str, Any]
    window: tuple[float, float]
    metrics: dict[str, float] | None = None
    response: pd.DataFrame | None = None
    groups: pd.DataFrame | None = None
    delays: pd.DataFrame | None = None
    util: pd.DataFrame | None = None
    hospital_ts: pd.DataFrame | None = None
    hospitals: pd.DataFrame | None = None
    n_units: int | None = None
    station_load: pd.DataFrame | None = None
    unit_load: pd.DataFrame | None = None
    profiles: pd.DataFrame | None = None
    points: np.ndarray | None = None
    target_mean: float | None = None


def digest_run(run: RunDir, run_id: str, config_id: str, bin_min: float | None = None,
               with_metrics: bool = False) -> Digest:
    """Read the tables of one run and keep what the report shows.

    Parameters
    ----------
    run : RunDir
        The run's directory.
    run_id, config_id : str
        Names used in the report.
    bin_min : float, optional
        Bin width of the time series (the same for every run of a sweep).
    with_metrics : bool
        Also compute :func:`analysis.metrics.run_metrics` (a sweep's summary already has them).

    Returns
    -------
    Digest
    """
    start, end = run.window()
    d = Digest(run_id, config_id, run.meta, (start, end))
    incidents = run.table("incidents", _INCIDENT_COLUMNS)
    assignments = run.table("assignments", _ASSIGNMENT_COLUMNS)
    units = run.table("units")
    if units is not None:
        d.n_units = len(units)
        d.station_load = metrics.load_by_station(units)
        d.unit_load = metrics.load_by_unit(units)
    if incidents is not None:
        measured = metrics.measured(incidents)
        reached = measured.dropna(subset=["response_min"])
        d.response = pd.DataFrame({"response_min": reached["response_min"].to_numpy(np.float32),
                                   "priority": reached["priority"].to_numpy(np.int16)})
        d.groups = metrics.response_by(incidents, assignments)
        d.delays = metrics.delay_stats(incidents)
        if end > start:
            d.profiles = timeseries.profiles(incidents, run.meta.get("start"), start, end)
        d.target_mean = float(measured["target_min"].mean()) if len(measured) else None
        if {"x_km", "y_km"} <= set(measured.columns):
            d.points = measured[["x_km", "y_km"]].dropna().to_numpy(np.float32)
        if with_metrics and units is not None:
            d.metrics = metrics.run_metrics(incidents, units)
    if assignments is not None and end > start:
        d.util = timeseries.utilisation_over_time(assignments, units, start, end, bin_min)
    if run.has("events") and end > start:
        stays = timeseries.hospital_stays(run.table("events", ["t_min", "kind", "incident_id", "unit_id",
                                                               "detail"]))
        names = list(run.scenario.get("hospitals") or {})
        d.hospital_ts = timeseries.hospital_occupancy(stays, start, end, bin_min, names)
        d.hospitals = timeseries.hospital_summary(stays, start, end, names)
    return d


@dataclass
class Collection:
    """A run or sweep directory, digested for a report.

    Parameters
    ----------
    kind : str
        ``"run"`` or ``"sweep"``.
    path : Path
        The directory.
    configs : DataFrame
        config_id, label (unique), colour, then factor values; in order.
    baseline : str
        config_id of the baseline.
    summary : DataFrame
        One row per finished run: run_id, config_id, label, factors, seed,
        replication and the metrics of :func:`analysis.metrics.run_metrics`.
    digests : list of Digest
        One per run whose directory was found.
    scenario : dict
        The resolved scenario of the first run found (district shapes, names).
    factors : list of str
        Factor names (empty for a single run).
    sweep : SweepDir or None
        The opened sweep, for its plan and manifest.
    """

    kind: str
    path: Path
    configs: pd.DataFrame
    baseline: str
    summary: pd.DataFrame
    digests: list[Digest] = field(default_factory=list)
    scenario: dict[str, Any] = field(default_factory=dict)
    factors: list[str] = field(default_factory=list)
    sweep: SweepDir | None = None
    bin_min: float | None = None

    def geography(self) -> pd.DataFrame | None:
        """The ``geography`` table of the baseline's first run (None when not written, e.g. older runs)."""
        for d in self.digests:
            if d.config_id != self.baseline:
                continue
            run = RunDir.open(self.path) if self.kind == "run" else \
                self.sweep.run(d.run_id) if self.sweep is not None else None
            return run.table("geography") if run is not None else None
        return None

    @property
    def labels(self) -> dict[str, str]:
        """Label of each config_id."""
        return dict(zip(self.configs["config_id"], self.configs["label"], strict=True))

    @property
    def colour_map(self) -> dict[str, str]:
        """Colour of each configuration label (the same in every figure)."""
        return dict(zip(self.configs["label"], self.configs["colour"], strict=True))

    @property
    def replicated(self) -> bool:
        """True when some configuration has two or more runs (intervals can be computed)."""
        return bool(len(self.summary)) and self.summary.groupby("config_id").size().max() > 1

    def by_config(self, attr: str, keys: list[str], values: list[str]) -> pd.DataFrame:
        """Mean over runs of a digest table, per configuration and ``keys``.

        Returns
        -------
        DataFrame
            config_id, label, ``keys``, the mean of each of ``values`` and
            ``runs`` (how many runs had the row); empty when no digest has ``attr``.
        """
        frames = [getattr(d, attr).assign(config_id=d.config_id) for d in self.digests
                  if getattr(d, attr) is not None and len(getattr(d, attr))]
        if not frames:
            return pd.DataFrame(columns=["config_id", "label", *keys, *values, "runs"])
        table = pd.concat(frames, ignore_index=True)
        out = table.groupby(["config_id", *keys], sort=False).agg(
            **{v: (v, "mean") for v in values}, runs=(values[0], "size")).reset_index()
        out.insert(1, "label", out["config_id"].map(self.labels))
        return out

    def pooled_response(self) -> dict[str, np.ndarray]:
        """Response times of every run pooled per configuration label (configurations in order)."""
        out: dict[str, list[np.ndarray]] = {}
        for d in self.digests:
            if d.response is not None:
                out.setdefault(d.config_id, []).append(d.response["response_min"].to_numpy())
        return {self.labels[c]: np.concatenate(out[c]) for c in self.configs["config_id"] if c in out}


def collect(path: str | Path, bin_min: float | None = None) -> Collection:
    """Open and digest a run directory or a sweep directory.

    Parameters
    ----------
    path : str or Path
        The directory.
    bin_min : float, optional
        Bin width of time series; default chosen from the run length.

    Returns
    -------
    Collection

    Raises
    ------
    analysis.store.StoreError
        When ``path`` is neither a run nor a sweep directory.
    """
    store = open_dir(path)
    if isinstance(store, RunDir):
        return _collect_run(store, bin_min)
    return _collect_sweep(store, bin_min)


def _collect_run(run: RunDir, bin_min: float | None) -> Collection:
    start, end = run.window()
    bin_min = bin_min or timeseries.choose_bin(end - start)
    d = digest_run(run, run.path.name, "run", bin_min, with_metrics=True)
    row = {"run_id": run.path.name, "config_id": "run", "label": run.policy,
           "scenario": run.meta.get("scenario", run.scenario.get("name", "?")), "policy": run.policy,
           "seed": run.meta.get("seed"), "replication": run.meta.get("replication"),
           **(d.metrics or _metrics_from_meta(run.meta))}
    configs = pd.DataFrame({"config_id": ["run"], "label": [run.policy]})
    return Collection("run", run.path, _with_colours(configs), "run", pd.DataFrame([row]), [d],
                      run.scenario, bin_min=bin_min)


def _collect_sweep(sweep: SweepDir, bin_min: float | None) -> Collection:
    summary = sweep.summary.assign(config_id=sweep.summary["config_id"].astype(str),
                                   run_id=sweep.summary["run_id"].astype(str))
    configs = sweep.configs
    if len(summary):
        configs = configs[configs["config_id"].isin(summary["config_id"])].reset_index(drop=True)
    configs["label"] = _unique_labels(configs)
    summary = summary.assign(label=summary["config_id"].map(dict(zip(configs["config_id"], configs["label"],
                                                                     strict=True))))
    runs = [(str(r), str(c), sweep.run(r)) for r, c in zip(summary["run_id"], summary["config_id"],
                                                             strict=True)]
    found = [(r, c, run) for r, c, run in runs if run is not None]
    if bin_min is None and found:
        start, end = found[0][2].window()
        bin_min = timeseries.choose_bin(end - start) if end > start else None
    # Serial on purpose: worker processes were slower here (spawn imports plotly and scipy
    # in each) and break scripts without a __main__ guard; see benchmarks/report.py.
    digests = [digest_run(run, r, c, bin_min) for r, c, run in found]
    ids = list(configs["config_id"])
    baseline = sweep.baseline if sweep.baseline in ids or not ids else ids[0]
    out = Collection("sweep", sweep.path, _with_colours(configs), baseline, summary, digests,
                     found[0][2].scenario if found else {}, sweep.factors, sweep, bin_min)
    _fill_fleet_size(out)
    return out


def _unique_labels(configs: pd.DataFrame) -> list[str]:
    labels = [str(v) if str(v).strip() else str(c) for v, c in zip(configs["label"], configs["config_id"],
                                                                    strict=True)]
    dup = pd.Series(labels).duplicated(keep=False)
    return [f"{lab} ({c})" if d else lab for lab, c, d in zip(labels, configs["config_id"], dup, strict=True)]


def _with_colours(configs: pd.DataFrame) -> pd.DataFrame:
    return configs.assign(colour=configs["label"].map(colours(configs["label"])))


def _metrics_from_meta(meta: dict[str, Any]) -> dict[str, float]:
    """Headline metrics from ``run.json``'s summary when the incidents table is missing."""
    s = meta.get("summary") or {}
    r = s.get("response") or {}
    out = {"n_incidents": s.get("incidents", np.nan), "mean_response_min": r.get("mean", np.nan),
           "median_response_min": r.get("median", np.nan), "p90_response_min": r.get("p90", np.nan),
           "within_target": r.get("within_target", np.nan)}
    out.update({k: v for k, v in (s.get("status") or {}).items()})
    return {k: (np.nan if v is None else float(v)) for k, v in out.items()}


def _fill_fleet_size(c: Collection) -> None:
    """Add ``n_units`` to a sweep summary written before that metric existed. Mutates ``c.summary``."""
    if "n_units" in c.summary and c.summary["n_units"].notna().all():
        return
    sizes = {d.run_id: d.n_units if d.n_units is not None else _fleet_in(d.meta, c, d.run_id)
             for d in c.digests}
    c.summary["n_units"] = c.summary["run_id"].astype(str).map(sizes).astype(float)


def _fleet_in(meta: dict[str, Any], c: Collection, run_id: str) -> float:
    run = c.sweep.run(run_id) if c.sweep is not None else None
    fleets = (run.scenario.get("fleets") or {}) if run is not None else {}
    total = sum(int(n) for per in fleets.values() if isinstance(per, dict) for n in per.values()
                if isinstance(n, int | float))
    return float(total) if total else np.nan

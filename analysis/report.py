"""The offline HTML report of a run or a sweep directory: ``anjeon report DIR [-o FILE]``.

One self-contained file: plotly.js is inlined once, figures are embedded as
JSON, nothing is fetched from the network. The summary table comes first,
then one section per question (which configuration is best, response times,
districts, call handling, call-centre outages, outcomes, units, hospitals, factors) and the
provenance last.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import figures, sections
from analysis.digest import Collection, collect
from analysis.extras import extra_sections
from analysis.html import (
    FigureBox,
    Section,
    esc,
    fmt_ci,
    fmt_count,
    fmt_pct,
    fmt_value,
    heading,
    headline,
    kv,
    note,
    page,
    para,
    pre,
    table,
)
from analysis.stats import compare, head_to_head, higher_is_better

#: Metrics compared across configurations in the report, in order.
REPORT_METRICS = ("mean_response_min", "p90_response_min", "within_target")

_COUNTS = ("n_incidents", "resolved", "unserved", "abandoned", "open_at_end", "n_units")

#: Configurations shown in per-configuration tables besides the baseline.
FOCUS = 3

#: Configurations compared pairwise in the head-to-head tables.
LEADERS = 4

#: Level of the tests behind the headline (after Holm's correction).
ALPHA = 0.05


def build_report(path: str | Path, bin_min: float | None = None, seed: int = 0) -> str:
    """The report of a run or sweep directory, as HTML text.

    Parameters
    ----------
    path : str or Path
        A run directory (with ``run.json``) or a sweep directory (with ``summary.parquet``).
    bin_min : float, optional
        Bin width of the time series (default: from the run length).
    seed : int
        Seed of the bootstrap behind "probability best".

    Returns
    -------
    str

    Raises
    ------
    analysis.store.StoreError
        When ``path`` is neither kind of directory.
    """
    return render(collect(path, bin_min), seed)


def write_report(path: str | Path, out: str | Path | None = None, **kw: Any) -> Path:
    """Write the report of ``path`` to ``out`` (default ``<path>/report.html``) atomically.

    The HTML goes to a temporary file beside ``out`` that then replaces it,
    so a reader never sees half a report.

    Parameters
    ----------
    path : str or Path
        Run or sweep directory.
    out : str or Path, optional
        Output file.
    **kw
        Passed to :func:`build_report`.

    Returns
    -------
    Path
        The file written.
    """
    text = build_report(path, **kw)
    target = Path(out) if out is not None else Path(path) / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    """The process's file-creation mask (mkstemp makes private files; reports are ordinary ones)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def render(c: Collection, seed: int = 0) -> str:
    """HTML of a digested collection (see :func:`analysis.digest.collect`)."""
    box = FigureBox()
    title, subtitle = _titles(c)
    if not len(c.summary):
        empty = Section("summary", "Summary", "No run of this sweep finished successfully.")
        empty.add(note("There is nothing to compare yet; the failed runs are listed under provenance."))
        return page(title, subtitle, [empty, _provenance(c)], box.count)
    compared = _compared(c, seed)
    focus = _focus(c, compared)
    outages = sections.outage_effects(c)
    parts = [_summary(c, compared), _comparison(c, compared, box) if c.kind == "sweep" else None,
             sections.distribution(c, focus, box), sections.when(c, focus, box),
             sections.districts(c, focus, box),
             sections.calls(c, focus, box), sections.outages(c, outages), sections.outcomes(c),
             sections.units(c, focus, box, outages), sections.hospitals(c, focus, box, outages),
             *extra_sections(c, box),
             _factors(c, compared, box) if c.kind == "sweep" else None, _provenance(c)]
    return page(title, subtitle, [p for p in parts if p is not None], box.count)


def _compared(c: Collection, seed: int) -> pd.DataFrame | None:
    metrics = [m for m in REPORT_METRICS if m in c.summary and c.summary[m].notna().any()]
    if c.kind != "sweep" or not metrics or not len(c.summary):
        return None
    return compare(c.summary, baseline=c.baseline, metrics=metrics, seed=seed)


def _focus(c: Collection, compared: pd.DataFrame | None) -> list[str]:
    """The baseline, then the configurations with the best mean response (at most FOCUS more)."""
    if compared is None:
        return list(c.configs["config_id"][:1 + FOCUS])
    first = compared[compared["metric"] == compared["metric"].iloc[0]].sort_values("rank")
    best = [k for k in first["config_id"] if k != c.baseline][:FOCUS]
    return [c.baseline, *best]


def _titles(c: Collection) -> tuple[str, list[str]]:
    name = c.scenario.get("name") or (c.summary["scenario"].iloc[0] if "scenario" in c.summary
                                      and len(c.summary) else "?")
    description = " ".join(str(c.scenario.get("description", "")).split())
    if c.kind == "run":
        d = c.digests[0]
        start, end = d.window
        line = (f"Single run: policy {c.labels['run']}, seed {d.meta.get('seed')}, replication "
                f"{d.meta.get('replication')}; {_days(end - start)} measured after the warm-up.")
    else:
        failed = len(c.sweep.failed) if c.sweep is not None else 0
        line = (f"Sweep: {len(c.summary)} runs of {len(c.configs)} configurations"
                + (f" ({failed} failed {'run' if failed == 1 else 'runs'}, listed under provenance)"
                   if failed else "")
                + f"; baseline {c.labels.get(c.baseline, c.baseline)}.")
    return f"Anjeon report: {name}", [line, description] if description else [line]


# -- summary -----------------------------------------------------------------------------------
def _summary(c: Collection, compared: pd.DataFrame | None) -> Section:
    s = Section("summary", "Summary", "The headline numbers; details follow in the sections below.")
    warm = c.digests[0].window[0] / 1440 if c.digests else None
    if c.kind == "run" or compared is None:
        s.add(_run_summary(c))
    else:
        s.add(headline(_verdict(c, compared)))
        s.add(_sweep_summary(c, compared))
    s.add(note((f"The first {_days(warm)} of each run {'is' if warm == 1 else 'are'} warm-up, excluded "
                "from every number. " if warm else "")
               + "Incidents still open when the run ended are reported under outcomes, not dropped."))
    return s


def _days(d: float) -> str:
    return "day" if d == 1 else f"{d:g} days"


def _run_summary(c: Collection) -> str:
    rows = []
    names = {"n_incidents": "incidents measured", "resolved": "resolved", "unserved": "unserved",
             "abandoned": "abandoned calls", "open_at_end": "open at end",
             "mean_response_min": "mean response (min)", "median_response_min": "median response (min)",
             "p90_response_min": "90th percentile response (min)",
             "p95_response_min": "95th percentile response (min)", "within_target": "share within target",
             "answer_delay_mean_min": "mean wait for a call-taker (min)",
             "dispatch_delay_mean_min": "mean answer-to-dispatch (min)",
             "worst_district_mean_response_min": "worst district mean response (min)",
             "district_gini": "Gini of district mean responses", "n_units": "units in the fleet"}
    for cid, g in c.summary.groupby("config_id", sort=False):
        for key, name in names.items():
            if key in g:
                v = g[key].mean()
                text = (fmt_pct(v) if key == "within_target" else fmt_count(v) if key in _COUNTS
                        else fmt_value(v, 3 if "gini" in key else 2))
                rows.append({"configuration": c.labels[cid], "measure": name, "value": text})
    t = pd.DataFrame(rows)
    if c.kind == "run" or t["configuration"].nunique() == 1:
        t = t.drop(columns="configuration")
    return table(t, text_columns=["configuration", "measure"])


def _sweep_summary(c: Collection, compared: pd.DataFrame) -> str:
    """One row per configuration: runs, each metric with its interval, Δ and P(best) of the first metric."""
    by = {m: g.set_index("config_id") for m, g in compared.groupby("metric", sort=False)}
    first = next(iter(by))
    delta = f"Δ {figures.metric_name(first)} vs baseline"
    rows = []
    for cid, label in zip(c.configs["config_id"], c.configs["label"], strict=True):
        r = by[first].loc[cid]
        row = {"configuration": label, "runs": int(r["n"])}
        row.update({figures.metric_name(m): fmt_ci(t.loc[cid, "mean"], t.loc[cid, "half_width"],
                                                   pct=m == "within_target") for m, t in by.items()})
        row[delta] = "baseline" if cid == c.baseline else _diff_text(r["diff"], r["diff_lo"], r["diff_hi"],
                                                                     pct=first == "within_target")
        row["P(best)"] = fmt_pct(r["prob_best"])
        rows.append(row)
    classes = ["baseline" if cid == c.baseline else "" for cid in c.configs["config_id"]]
    note_ci = para("Means with 95% t-intervals over replications (±: half-width); Δ: paired difference "
                   "from the baseline on the same random numbers, with its 95% interval; P(best): "
                   f"bootstrap probability of the best {figures.metric_name(first)}.")
    return table(pd.DataFrame(rows), text_columns=["configuration"], swatches=c.colour_map,
                 swatch_column="configuration", row_class=classes) + note_ci


def _diff_text(d: float, lo: float, hi: float, pct: bool = False) -> str:
    """``+d [lo, hi]``; shares as percentage points."""
    if not np.isfinite(d):
        return "–"
    if pct:
        return f"{100 * d:+.2f} pp" + (f" [{100 * lo:+.2f}, {100 * hi:+.2f}]" if np.isfinite(lo) else "")
    return f"{d:+.2f}" + (f" [{lo:+.2f}, {hi:+.2f}]" if np.isfinite(lo) else "")


def _verdict(c: Collection, compared: pd.DataFrame, seed: int = 0) -> str:
    """The headline: what the paired statistics support about the first metric, in words.

    A configuration counts as better than the baseline only when its paired
    difference is significant after Holm's correction (p < 0.05); when none
    is, the headline says so and gives the closest one's difference. The
    leader is called the best only when it also beats the runner-up head to
    head. P(best) is never quoted here: with few replications it is
    over-confident (it is in the tables).
    """
    metric = compared["metric"].iloc[0]
    first = compared[compared["metric"] == metric].sort_values("rank", kind="stable")
    name, higher = figures.metric_name(metric).removesuffix(" (min)"), higher_is_better(metric)
    base = first[first["is_baseline"]].iloc[0]
    reps = int(first["n"].min())
    if not c.replicated:
        return (f"With one run per configuration there are no intervals, so no difference in {name} can be "
                "told from noise: add replications.")
    others = first[~first["is_baseline"]]
    if not len(others):
        return f"One configuration ({base['label']}): there is nothing to compare it with."
    better = others[(others["p_holm"] < ALPHA) & ((others["diff"] > 0) if higher else (others["diff"] < 0))]
    worse = others[(others["p_holm"] < ALPHA) & ((others["diff"] < 0) if higher else (others["diff"] > 0))]
    tail = f" {_of(worse, others)} distinguishably worse than the baseline." if len(worse) else ""
    if not len(better):
        closest = others.iloc[0]
        if closest["config_id"] in set(worse["config_id"]):
            return (f"No configuration is better than the baseline ({base['label']}) in {name}: even the "
                    f"closest, {closest['label']}, differs by {_phrase(closest, metric, 'p_holm')} over "
                    f"{reps} replications." + tail)
        return (f"No configuration is distinguishable from the baseline ({base['label']}) in {name}: the "
                f"best-ranked, {closest['label']}, differs by {_phrase(closest, metric, 'p_holm')} over "
                f"{reps} replications, which is within the noise." + tail)
    lead = better.iloc[0]
    text = (f"{_of(better, others)} better than the baseline ({base['label']}) in {name} beyond the noise "
            f"(Holm p < {ALPHA:g}, {reps} replications); the best-ranked, {lead['label']}, differs by "
            f"{_phrase(lead, metric, 'p_holm')}.")
    rest = first[first["config_id"] != lead["config_id"]]
    runner = rest.iloc[0] if len(rest) else None
    if runner is not None and not runner["is_baseline"]:
        h = head_to_head(c.summary, metric, [lead["config_id"], runner["config_id"]]).iloc[0]
        beats = h["p_value"] < ALPHA and ((h["diff"] > 0) if higher else (h["diff"] < 0))
        pair = _phrase(h, metric, "p_value")
        text += (f" It also beats the runner-up, {runner['label']}, head to head: {pair}." if beats else
                 f" It cannot be told apart from the runner-up, {runner['label']}: {pair}; either may be "
                 "the best.")
    return text + tail


def _of(part: pd.DataFrame, whole: pd.DataFrame) -> str:
    """``2 of 5 configurations are`` / ``1 of 1 configuration is``."""
    noun = "configuration" if len(whole) == 1 else "configurations"
    return f"{len(part)} of {len(whole)} {noun} {'is' if len(part) == 1 else 'are'}"


def _phrase(r: pd.Series, metric: str, p: str) -> str:
    """``-0.01 [-0.02, +0.00] min (Holm p = 0.129)``: a paired difference with its interval and p-value."""
    unit = " pp" if metric == "within_target" else " min" if metric.endswith("_min") else ""
    text = _diff_text(r["diff"], r["diff_lo"], r["diff_hi"], pct=metric == "within_target")
    text = text.replace(" pp [", " [", 1) if unit == " pp" else text
    value = _fmt_p(r[p]).replace("<", "< ")
    return f"{text}{unit} ({'Holm p' if p == 'p_holm' else 'p'}{' ' if value[0] == '<' else ' = '}{value})"


def _head_to_head(c: Collection, compared: pd.DataFrame) -> str:
    """Table of paired differences between the leading configurations of each metric."""
    parts = []
    for metric, rows in compared.groupby("metric", sort=False):
        leaders = list(rows.sort_values("rank", kind="stable")["config_id"][:LEADERS])
        if len(leaders) < 2:
            continue
        h = head_to_head(c.summary, metric, leaders)
        pct = metric == "within_target"
        t = pd.DataFrame({
            "configuration": h["config_a"].map(c.labels), "against": h["config_b"].map(c.labels),
            "pairs": h["n_pairs"].astype("Int64"),
            "difference [95% CI]" + (" (pp)" if pct else " (min)"): [
                _diff_text(*v, pct=pct) for v in zip(h["diff"], h["diff_lo"], h["diff_hi"], strict=True)],
            "p": h["p_value"], "p (Holm)": h["p_holm"]})
        parts.append(heading(f"Head to head: {figures.metric_name(metric)}"))
        parts.append(table(t, text_columns=["configuration", "against"], swatches=c.colour_map,
                           swatch_column="configuration", formats={"p": _fmt_p, "p (Holm)": _fmt_p}))
    if not parts:
        return ""
    return "".join(parts) + para(
        f"The {LEADERS} configurations with the best mean (or all, when fewer), each against every one "
        "ranked below it: the paired difference (configuration minus the other, run against run on the "
        "same random numbers) with its 95% interval, and p-values adjusted with Holm's method over the "
        "pairs of each metric.")


# -- comparison ---------------------------------------------------------------------------------
def _comparison(c: Collection, compared: pd.DataFrame | None, box: FigureBox) -> Section:
    s = Section("comparison", "Which configuration is better?", "Differences from the baseline, how "
                "certain they are, and the chance that each configuration is the best.")
    if compared is None or len(c.configs) < 2:
        s.add(note("A comparison needs at least two configurations."))
        return s
    if not c.replicated:
        s.add(note("Each configuration has a single run: intervals and p-values need two or more "
                   "replications."))
    s.add(box.embed(figures.forest(compared, c.colour_map),
                    "each configuration's mean minus the baseline's, run against run on the same random "
                    "numbers, with its 95% interval (filled diamond: significant after Holm's "
                    "correction at 5%); the grey bar is the interval the same runs would give as "
                    "independent samples."))
    for metric, rows in compared[~compared["is_baseline"]].groupby("metric", sort=False):
        s.add(heading(figures.metric_name(metric).capitalize()))
        s.add(_comparison_table(c, rows, pct=metric == "within_target"))
    if c.replicated:
        s.add(_head_to_head(c, compared))
    s.add(para("Replication r of every configuration saw the same incidents (common random numbers), "
               "so differences are taken run by run. 'Variance removed by pairing' is "
               "1 - var(difference) / (var(config) + var(baseline)): when it is positive, the paired "
               "interval (± paired) is narrower than the one the same runs would give as independent "
               "samples (± unpaired). p-values are from paired t-tests, adjusted with "
               "Holm's method over the comparisons of each metric. P(best) resamples the replications "
               "2,000 times (seeded)" + ("; with fewer than 10 replications it is over-confident, so read "
                                          "it with the intervals." if _few(c) else ".")))
    return s


def _comparison_table(c: Collection, rows: pd.DataFrame, pct: bool) -> str:
    scale = 100.0 if pct else 1.0
    diffs = zip(rows["diff"], rows["diff_lo"], rows["diff_hi"], strict=True)
    t = pd.DataFrame({
        "configuration": rows["label"], "pairs": rows["n_pairs"].astype("Int64"),
        "difference [95% CI]" + (" (pp)" if pct else " (min)"): [_diff_text(*v, pct=pct) for v in diffs],
        "± paired": scale * rows["diff_half_width"], "± unpaired": scale * rows["unpaired_half_width"],
        "variance removed by pairing": rows["variance_reduction"], "p": rows["p_value"],
        "p (Holm)": rows["p_holm"], "P(best)": rows["prob_best"], "rank": rows["rank"]})
    three = lambda v: fmt_value(v, 3)  # noqa: E731
    return table(t, text_columns=["configuration"], swatches=c.colour_map, swatch_column="configuration",
                 formats={"p": _fmt_p, "p (Holm)": _fmt_p, "variance removed by pairing": fmt_pct,
                          "P(best)": fmt_pct, "± paired": three, "± unpaired": three})


def _few(c: Collection) -> bool:
    """True when some configuration has fewer than 10 runs (bootstrap and t-intervals get rough)."""
    return bool(len(c.summary)) and c.summary.groupby("config_id").size().min() < 10


def _fmt_p(v: float) -> str:
    if not np.isfinite(v):
        return "–"
    return "<0.001" if v < 0.001 else f"{v:.3f}"


# -- factors -------------------------------------------------------------------------------------
def _factors(c: Collection, compared: pd.DataFrame | None, box: FigureBox) -> Section:
    s = Section("factors", "Factors and trade-offs", "What does each factor do, and what does a faster "
                "response cost in units?")
    grid = [f for f in c.factors if c.summary[f].astype(str).nunique() > 1]
    if len(grid) >= 2:
        x, y = grid[0], grid[1]
        for metric in ("mean_response_min", "within_target"):
            if metric in c.summary:
                target = sections.mean_target(c)
                anchor = ("; the colour scale runs from 0 to 100%" if metric == "within_target" else
                          f"; the colour scale runs from 0 to twice the incidents' mean target of "
                          f"{target:.1f} min, white at the target, blue faster, orange slower"
                          if target else "")
                s.add(box.embed(figures.heatmap(c.summary, x, y, metric, target_min=target),
                                f"the {figures.metric_name(metric)}, averaged over replications, for each "
                                f"combination of {x} and {y}{anchor}"
                                + (" (averaged over the other factors)" if len(grid) > 2 else "") + "."))
    elif c.factors:
        s.add(note("A heat map needs two factors with two or more levels each."))
    s.add(_tradeoff(c, compared, box))
    if c.factors:
        cols = ["label", *c.factors]
        s.add(heading("Configurations"))
        s.add(table(c.configs[cols].rename(columns={"label": "configuration"}),
                    text_columns=["configuration", *c.factors], swatches=c.colour_map,
                    swatch_column="configuration"))
    return s


def _tradeoff(c: Collection, compared: pd.DataFrame | None, box: FigureBox) -> str:
    if "n_units" not in c.summary or "p90_response_min" not in c.summary or c.summary["n_units"].isna().all():
        return note("The fleet size of the runs is unknown, so the trade-off is left out.")
    t = c.summary.groupby("config_id", sort=False).agg(n_units=("n_units", "mean"),
                                                       p90_response_min=("p90_response_min", "mean"))
    if compared is not None and "p90_response_min" in set(compared["metric"]):
        half = compared[compared["metric"] == "p90_response_min"].set_index("config_id")["half_width"]
        t["y_half_width"] = half
    t = t.reset_index()
    t["label"] = t["config_id"].map(c.labels)
    fig = figures.tradeoff(t, colour_map=c.colour_map)
    return sections.unit_count_note(c) + box.embed(
        fig, "for each configuration, the number of units against the mean 90th percentile response "
             "over its replications (bars: 95% interval); points low and to the left are efficient.")


# -- provenance ---------------------------------------------------------------------------------
def _provenance(c: Collection) -> Section:
    s = Section("provenance", "Provenance", "Where these numbers come from: inputs, seeds and software.")
    metas = [d.meta for d in c.digests if d.meta]
    s.add(kv(_common_pairs(c, metas)))
    hashes = _scenario_hashes(c, metas)
    if len(hashes):
        s.add(heading("Scenarios"))
        s.add(table(hashes, text_columns=list(hashes.columns)))
    versions = _versions(c, metas)
    if versions:
        s.add(heading("Software versions"))
        s.add(kv(versions))
    if c.kind == "sweep" and c.sweep is not None:
        s.add(_sweep_provenance(c))
    elif metas and c.scenario:
        s.add(pre(str(c.scenario.get("description", "")), "Scenario description"))
    return s


def _common_pairs(c: Collection, metas: list[dict]) -> list[tuple[str, Any]]:
    seeds = sorted({m.get("seed") for m in metas if m.get("seed") is not None}) or \
        sorted(c.summary["seed"].dropna().unique().tolist()) if "seed" in c.summary else []
    reps = sorted(c.summary["replication"].dropna().unique().tolist()) if "replication" in c.summary else []
    pairs: list[tuple[str, Any]] = [("directory", str(c.path.resolve())),
                                    ("report written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
                                    ("seeds", ", ".join(map(str, seeds)) or "–"),
                                    ("replications", _ranges(reps))]
    if metas:
        m = metas[0]
        pairs += [("horizon / warm-up", f"{m.get('horizon_min', 0) / 1440:g} d / "
                                        f"{m.get('warmup_min', 0) / 1440:g} d"),
                  ("start", m.get("start", "–")),
                  ("git revision", ", ".join(sorted({str(x.get("git_revision")) for x in metas}))),
                  ("report made with", f"plotly {_plotly_version()}")]
    if c.kind == "run" and metas:
        m = metas[0]
        pol = m.get("policy", {})
        pairs += [("policy", f"{pol.get('dispatch')} {pol.get('params') or ''}".strip()),
                  ("wall time", f"{m.get('wall_time_s', float('nan')):.2f} s"), ("events", m.get("n_events"))]
    return pairs


def _plotly_version() -> str:
    import plotly

    return str(plotly.__version__)


def _ranges(values: Sequence[int]) -> str:
    if not values:
        return "–"
    ints = [int(v) for v in values]
    if ints == list(range(ints[0], ints[-1] + 1)) and len(ints) > 2:
        return f"{ints[0]}–{ints[-1]} ({len(ints)})"
    return ", ".join(map(str, ints))


def _scenario_hashes(c: Collection, metas: list[dict]) -> pd.DataFrame:
    rows = [{"configuration": c.labels.get(d.config_id, d.config_id), "scenario": d.meta.get("scenario"),
             "SHA-256": d.meta.get("scenario_sha256"), "source": d.meta.get("scenario_source")}
            for d in c.digests if d.meta]
    return pd.DataFrame(rows).drop_duplicates().reset_index(drop=True) if rows else pd.DataFrame()


def _versions(c: Collection, metas: list[dict]) -> list[tuple[str, str]]:
    seen: dict[str, set[str]] = {}
    sources = [m.get("versions") for m in metas]
    if c.sweep is not None and "versions" in c.sweep.manifest:
        sources += list(c.sweep.manifest["versions"])
    for v in sources:
        if isinstance(v, dict):
            for pkg, ver in v.items():
                seen.setdefault(str(pkg), set()).add(str(ver))
    return [(pkg, ", ".join(sorted(vs))) for pkg, vs in seen.items()]


def _sweep_provenance(c: Collection) -> str:
    sweep = c.sweep
    parts = []
    failed = sweep.failed
    if len(failed):
        cols = [k for k in ("run_id", "config_id", "replication", "error") if k in failed]
        parts.append(heading(f"Failed runs ({len(failed)})"))
        parts.append(table(failed[cols].astype(str), text_columns=cols))
    missing = len(c.summary) - len(c.digests)
    if missing:
        parts.append(note(f"{missing} finished runs have no run directory; they count in the summary "
                          "and comparison but not in the sections that need tables."))
    spec = sweep.path / "experiment.yaml"
    if spec.is_file():
        parts.append(pre(spec.read_text(encoding="utf-8", errors="replace"), "Experiment specification"))
    if c.scenario:
        parts.append(pre(str(c.scenario.get("description", "")), "Scenario description"))
    return "".join(parts)


__all__ = ["build_report", "esc", "render", "write_report"]


def _days(minutes: float) -> str:
    """``minutes`` as days for a sentence: "1 day", "2.5 days"."""
    days = minutes / 1440
    return f"{days:g} day" + ("" if days == 1 else "s")

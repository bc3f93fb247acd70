"""Time and size of ``anjeon report`` on a sweep of 200 runs, beside the time to just read its tables.

The sweep is written in the issue #3 layout by ``tests/analysis/sweepfix.py``
(ansan: 2 policies x 2 Sadong fleets x 50 replications of ``--days`` days,
every table kept) and cached under ``out/bench/report-sweep-*``. Measured:

- ``cli_s``: ``anjeon report DIR -o FILE`` in a fresh process (imports included);
- ``in_process_s``: :func:`analysis.report.write_report` in this process,
  split into ``digest_s`` (reading and digesting every run) and ``render_s``;
- ``read_tables_s`` (the peer): reading the four tables of every run with
  pandas and nothing else, the floor for any report that looks at them;
- ``size_mb`` of the HTML file.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks import write_figures

FACTORS = {"policy": (None, ["nearest", "district_first"]),
           "sadong_ambulances": ("fleets.Sadong.ambulance", [1, 3])}


def sweep_dir(root: Path, replications: int, days: float, fresh: bool) -> Path:
    """The cached benchmark sweep (written with two worker processes when missing)."""
    from tests.analysis.sweepfix import make_sweep

    out = root / f"report-sweep-{4 * replications}runs-{days:g}d"
    if fresh or not (out / "summary.parquet").is_file():
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        make_sweep(out, days=days, replications=replications, factors=FACTORS, workers=2)
        print(f"  wrote the sweep in {time.perf_counter() - t0:.1f} s: {out}")
    return out


def read_tables(sweep: Path) -> float:
    """Seconds to read every table of every run with pandas (the peer)."""
    t0 = time.perf_counter()
    for run in sorted((sweep / "runs").iterdir()):
        for name in ("incidents", "assignments", "units", "events"):
            f = run / f"{name}.parquet"
            if f.is_file():
                pd.read_parquet(f)
    return time.perf_counter() - t0


def in_process(sweep: Path, out: Path) -> dict[str, float]:
    """Seconds to digest and to render, writing ``out``."""
    from analysis.digest import collect
    from analysis.report import render

    t0 = time.perf_counter()
    c = collect(sweep)
    t1 = time.perf_counter()
    out.write_text(render(c), encoding="utf-8")
    t2 = time.perf_counter()
    return {"digest_s": t1 - t0, "render_s": t2 - t1, "in_process_s": t2 - t0}


def cli(sweep: Path, out: Path) -> float:
    """Wall seconds of ``anjeon report`` in a fresh interpreter."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim.cli", "report", str(sweep), "-o", str(out)], check=True,
                   capture_output=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="benchmarks.report")
    parser.add_argument("--quick", action="store_true", help="40 runs of 3 days, one repetition")
    parser.add_argument("--days", type=float, help="days per run (default 10; quick 3)")
    parser.add_argument("--repeat", type=int, help="repetitions (default 3; quick 1)")
    parser.add_argument("--fresh", action="store_true", help="rewrite the cached sweep")
    parser.add_argument("--out", type=Path, default=Path("out/bench/report.json"))
    args, _ = parser.parse_known_args(argv)
    reps, days = (10, args.days or 3.0) if args.quick else (50, args.days or 10.0)
    repeat = args.repeat or (1 if args.quick else 3)
    sweep = sweep_dir(args.out.parent, reps, days, args.fresh)
    html = args.out.parent / "report-benchmark.html"
    samples: dict[str, list[float]] = {"cli_s": [], "in_process_s": [], "digest_s": [], "render_s": [],
                                       "read_tables_s": []}
    for _ in range(repeat):
        samples["read_tables_s"].append(read_tables(sweep))
        for k, v in in_process(sweep, html).items():
            samples[k].append(v)
        samples["cli_s"].append(cli(sweep, html))
    med = {k: round(statistics.median(v), 2) for k, v in samples.items()}
    figures = {"runs": 4 * reps, "days_per_run": days, "repetitions": repeat, **med,
               "ratio_in_process_to_read_tables": round(med["in_process_s"] / med["read_tables_s"], 2),
               "size_mb": round(html.stat().st_size / 1e6, 2), "all": samples}
    print(f"report of a sweep of {4 * reps} runs x {days:g} days ({repeat} repetitions, medians)")
    for k in ("cli_s", "in_process_s", "digest_s", "render_s", "read_tables_s"):
        print(f"  {k:14s} {med[k]:7.2f} s")
    print(f"  ratio in-process / read tables = {figures['ratio_in_process_to_read_tables']}")
    print(f"  size           {figures['size_mb']:7.2f} MB  ({html})")
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()

"""Size and opening time of the animated replay of a 6-hour drill with 200 units.

The drill is ``ansan`` for 6 hours from 09:00 with every fleet times 4 plus
one engine, brigade engine or rescue unit per station (200 units) and the
demand times 20 (about 900 incidents). The run is written, then
``sim.replay.replay_html`` reruns it and writes the replay at 1-minute frames.
Its peer, measured on the same run in the same invocation, is the run's
ordinary report (``analysis.write_report``).

Per file: size in MB and, in headless Chromium (Debian's, through
playwright; skipped with a note when either is missing), the time from
navigation to the page drawn (median of ``--repetitions`` fresh pages):
for the replay, both figures drawn and the animation frames registered; for
the report, the load event with every Plotly figure drawn. Console errors
are counted. Targets of issue #13: under 25 MB and under 5 s to open.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks import write_figures

CHROMIUM = Path("/usr/bin/chromium")
REPLAY_READY = """() => { const d = document.getElementById('replay-map');
  return d && d._transitionData && d._transitionData._frames.length > 0
    && document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2 }"""
REPORT_READY = """() => { const plots = document.querySelectorAll('.js-plotly-plot');
  return plots.length > 0 && Array.from(plots).every(p => p.querySelector('.main-svg')) }"""


def drill_scenario(folder: Path) -> Path:
    """Write the 200-unit, 6-hour drill (a scaled ``ansan``) into ``folder``; returns its path."""
    import scenarios.library

    doc = yaml.safe_load((Path(scenarios.library.__file__).parent / "ansan.yaml").read_text())
    doc["name"] = "ansan_200_units"
    doc["time"] = {"horizon": "6 h", "warmup": 0, "start": "2026-03-02T09:00:00"}
    extra = ("engine", "brigade_engine", "rescue")
    for station, fleet in doc["fleets"].items():
        doc["fleets"][station] = {k: 4 * v + (k in extra) for k, v in fleet.items()}
    demand = doc["demand"]["per_1000_per_day"]
    doc["demand"]["per_1000_per_day"] = {k: 20 * v for k, v in demand.items()}
    path = folder / "ansan_200_units.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def open_times(files: dict[str, tuple[Path, str]], repetitions: int) -> dict[str, Any]:
    """Median seconds to draw each file in headless Chromium, and its console errors."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed (make test installs it)"}
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is missing (make browser installs it)"}
    out: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        for name, (path, ready) in files.items():
            seconds, errors = [], []
            for _ in range(repetitions):
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                page.on("console", lambda m, seen=errors: seen.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, seen=errors: seen.append(str(e)))
                t0 = time.perf_counter()
                page.goto(path.resolve().as_uri(), wait_until="load")
                page.wait_for_function(ready, timeout=120_000)
                seconds.append(time.perf_counter() - t0)
                page.close()
            out[name] = {"open_s_median": round(statistics.median(seconds), 3),
                         "open_s": [round(s, 3) for s in seconds], "console_errors": len(errors)}
        browser.close()
    return out


def main(argv: list[str] | None = None) -> dict:
    """Measure the replay and the report of the drill; print and write the figures."""
    parser = argparse.ArgumentParser(prog="benchmarks.replay_html")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one opening per file")
    parser.add_argument("--out", type=Path, default=Path("out/bench/replay_html.json"))
    args, _ = parser.parse_known_args(argv)
    repetitions = 1 if args.quick else args.repetitions

    import analysis
    import scenarios
    import sim
    from sim.replay import replay_html

    work = Path(tempfile.mkdtemp(prefix="anjeon-replay-bench-"))
    try:
        result = sim.run(scenarios.load(str(drill_scenario(work))), seed=1)
        run_dir = work / "run"
        result.write(run_dir)
        replay = work / "replay.html"
        t0 = time.perf_counter()
        done = replay_html(run_dir, replay, step_min=1.0)
        build_replay = time.perf_counter() - t0
        if not done.identical:
            raise RuntimeError("the replayed event log differs from the stored one")
        report = work / "report.html"
        t0 = time.perf_counter()
        analysis.write_report(run_dir, report)
        build_report = time.perf_counter() - t0
        figures: dict[str, Any] = {
            "units": len(result.units), "incidents": len(result.incidents), "events": len(result.events),
            "replay": {"size_mb": round(replay.stat().st_size / 1e6, 2), "build_s": round(build_replay, 2)},
            "report (peer)": {"size_mb": round(report.stat().st_size / 1e6, 2),
                              "build_s": round(build_report, 2)},
        }
        opened = open_times({"replay": (replay, REPLAY_READY), "report (peer)": (report, REPORT_READY)},
                            repetitions)
        for name, value in opened.items():
            if name in figures:
                figures[name].update(value)
            else:
                figures[name] = value
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{figures['units']} units, {figures['incidents']} incidents, {figures['events']} events, 6 h")
    for name in ("replay", "report (peer)"):
        print(f"  {name:14s} " + ", ".join(f"{k} {v}" for k, v in figures[name].items()))
    if "skipped" in figures:
        print(f"  opening times skipped: {figures['skipped']}")
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()

"""The animated replay in headless Chromium: it draws with no console error and its units move along roads.

Uses Debian's chromium through the fixtures of tests/analysis/conftest.py (skipped, saying why, without it);
the run is tests/replay's ring run.
"""

import numpy as np

import sim.cli
from analysis.replayview import STATES
from tests.analysis.checks import check_clean, open_watched
from tests.replay.conftest import ring_run  # noqa: F401  (a fixture)

FRAMES = """() => { const gd = document.getElementById('replay-map');
  const states = %s;
  return gd._transitionData._frames.map(f => f.data      // a frame holds points; names are the traces'
      .filter((d, i) => states.includes(gd.data[f.traces[i]].name))
      .map(d => ({x: Array.from(d.x), y: Array.from(d.y)}))); }"""
ROADS = """() => { const t = document.getElementById('replay-map')._fullData.find(d => d.name === 'roads');
  const num = v => (Number.isFinite(v) ? v : null);
  return [Array.from(t.x, num), Array.from(t.y, num)]; }"""


def _distance_to_roads(px, py, rx, ry):
    """Distance (km) from each point to the nearest road segment (segments separated by nulls)."""
    seg = [(rx[i], ry[i], rx[i + 1], ry[i + 1]) for i in range(len(rx) - 1)
           if None not in (rx[i], rx[i + 1])]
    a = np.array(seg, dtype=float)
    p = np.column_stack([px, py])[:, None, :]
    d = a[None, :, 2:] - a[None, :, :2]
    t = np.clip(((p - a[None, :, :2]) * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0, 1)
    near = a[None, :, :2] + t[..., None] * d
    return np.hypot(*(p - near).transpose(2, 0, 1)).min(axis=1)


def test_replay_opens_clean_and_units_move_along_roads(browser, ring_run, tmp_path):  # noqa: F811
    html = tmp_path / "replay.html"
    assert sim.cli.main(["replay", str(ring_run), "--html", str(html), "--step-min", "10"]) == 0
    page, log = open_watched(browser, html)
    page.wait_for_function("() => { const gd = document.getElementById('replay-map');"
                           " return gd && gd._transitionData && gd._transitionData._frames.length > 0; }",
                           timeout=30_000)
    frames = page.evaluate(FRAMES % list(STATES))
    rx, ry = page.evaluate(ROADS)
    assert len(frames) == 3 * 1440 // 10 + 1
    xy = [np.column_stack([np.concatenate([t["x"] for t in f]), np.concatenate([t["y"] for t in f])])
          for f in frames]
    moved = [k for k in range(1, len(xy)) if xy[k].shape == xy[k - 1].shape
             and not np.allclose(np.sort(xy[k], axis=0), np.sort(xy[k - 1], axis=0))]
    assert len(moved) > 20
    k = moved[len(moved) // 2]
    for frame in (xy[k - 1], xy[k]):                       # two frames: every unit on a road link
        assert len(frame) == 6
        assert _distance_to_roads(frame[:, 0], frame[:, 1], rx, ry).max() < 0.01    # coordinates at 10 m
    page.evaluate(f"() => Plotly.animate('replay-map', ['{k}'], {{mode: 'immediate', "
                  "frame: {duration: 0, redraw: false}, transition: {duration: 0}})")
    page.wait_for_timeout(200)
    shown = page.evaluate("() => document.querySelectorAll('#replay-map .scatterlayer .trace path.point')"
                          ".length")
    assert shown >= 6                                       # the units drawn (besides stations, hospital)
    check_clean(page, log)
    page.close()


def test_replay_shows_hostile_names_as_text(browser, hostile_run, tmp_path):
    from tests.analysis.conftest import SCRIPT_NAME

    html = tmp_path / "hostile-replay.html"
    assert sim.cli.main(["replay", str(hostile_run), "--html", str(html), "--step-min", "30"]) == 0
    page, log = open_watched(browser, html)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2",
                           timeout=30_000)
    assert SCRIPT_NAME in page.title()
    svg_text = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot text'))"
                             ".map(t => t.textContent).join('\\n')")
    assert "H<i>1</i>" in svg_text                         # the hospital's name, as text
    assert page.locator("main a").count() == 0 and page.locator("main img").count() == 0
    check_clean(page, log)
    page.close()


def test_after_action_report_draws_every_figure(browser, run_dir, tmp_path):
    import shutil

    import pandas as pd

    from analysis.aar import build_aar

    drill = shutil.copytree(run_dir, tmp_path / "drill")
    inc = pd.read_parquet(drill / "incidents.parquet")
    pd.DataFrame({"inject_id": ["I1"], "t_min": [float(inc["t_call_min"].iloc[5])], "kind": ["incident"],
                  "description": ["<script>alert(4)</script>"],
                  "incident_ids": [",".join(map(str, inc["incident_id"].iloc[5:8]))]}
                 ).to_parquet(drill / "injects.parquet")
    html = tmp_path / "aar.html"
    html.write_text(build_aar(drill, fork=run_dir), encoding="utf-8")
    page, log = open_watched(browser, html)
    meta = "document.querySelector('meta[name=anjeon-report]').content"
    expected = page.evaluate(f"JSON.parse({meta}).figures")
    drawn = ("() => Array.from(document.querySelectorAll('.plotly-graph-div')).filter(d => "
             "d.querySelector('.main-svg') && d._fullData "
             "&& d.querySelector('.barlayer .trace, .scatterlayer .trace')).length")
    page.wait_for_function(f"() => ({drawn})() >= {expected}", timeout=30_000)
    assert expected >= 1 and page.evaluate(drawn) == expected     # the delay bars (and the queue, if any)
    assert "<script>alert(4)</script>" in page.inner_text("body")        # shown as text
    check_clean(page, log)
    page.close()

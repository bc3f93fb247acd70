"""The report of a run with call-centre outages: shaded windows and the outage table (issue #10)."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

import scenarios
import sim
from analysis import sections, timeseries
from analysis.digest import collect
from analysis.html import FigureBox
from analysis.report import build_report
from tests.analysis.conftest import LABEL_NAME, hostile_scenario

#: Two outages of the 119 centre (minutes): day 2 10:00-12:00 and day 3 02:00-03:00.
WINDOWS = [(2040.0, 2160.0), (3000.0, 3060.0)]
START = pd.Timestamp("2026-01-05")  # the schema's default start


@pytest.fixture(scope="module")
def outage_run(tmp_path_factory):
    """A 3-day run of a small city whose 119 centre goes down twice (labels are HTML)."""
    d = hostile_scenario().model_dump(mode="python", by_alias=True)
    d["demand"]["per_1000_per_day"]["medical"] = 1.2
    d["fleets"] = {"S1": {"ambulance": 6, "engine": 1}, "S2": {"ambulance": 6}}  # seldom short of units
    d["lines"] = {"119": {}, "120": {}}
    d["dispatch_centre"] = {"answer": {"dist": "exponential", "mean": 0.3},
                            "processing": {"dist": "exponential", "mean": 1.0}}
    d["call_centres"] = {"c119": {"lines": ["119"], "call_takers": 3, "fallback": "c120"},
                         "c120": {"lines": ["120"], "call_takers": 2, "manual_factor": 3.0}}
    d["outages"] = [{"centre": "c119", "start": a, "end": b, "label": LABEL_NAME} for a, b in WINDOWS]
    out = tmp_path_factory.mktemp("outage") / "run"
    return sim.run(scenarios.from_dict(d), seed=2).write(out)


def _expected(run_dir) -> list[dict]:
    """The figures of each window, computed here from the tables."""
    inc = pd.read_parquet(run_dir / "incidents.parquet")
    ev = pd.read_parquet(run_dir / "events.parquet")
    moved = ev[ev["kind"].astype(str) == "call_rerouted"]
    delay = inc["t_dispatch_min"] - inc["t_call_min"]
    in_any = np.zeros(len(inc), dtype=bool)
    for a, b in WINDOWS:
        in_any |= inc["t_call_min"].between(a, b, inclusive="left").to_numpy()
    outside = delay[~in_any & ~inc["in_warmup"].to_numpy(bool)].mean()
    rows = []
    for a, b in WINDOWS:
        inside = inc["t_call_min"].between(a, b, inclusive="left")
        rows.append({"rerouted": int(moved["t_min"].between(a, b, inclusive="left").sum()),
                     "calls": int(inside.sum()), "inside": delay[inside].mean(), "outside": outside})
    return rows


def test_outage_effect_matches_the_tables(outage_run):
    c = collect(outage_run)
    effects = sections.outage_effects(c)
    expected = _expected(outage_run)
    assert effects[["start_min", "end_min"]].to_records(index=False).tolist() == WINDOWS
    assert effects["rerouted"].tolist() == [e["rerouted"] for e in expected]
    assert effects["calls_inside"].tolist() == [e["calls"] for e in expected]
    np.testing.assert_allclose(effects["delay_inside_min"], [e["inside"] for e in expected])
    np.testing.assert_allclose(effects["delay_outside_min"], [e["outside"] for e in expected])
    assert all(e["rerouted"] > 0 for e in expected) and (effects["delay_added_min"] > 0).all()


class _Keep(FigureBox):
    """A FigureBox that also keeps the figures."""

    def __init__(self):
        super().__init__()
        self.figures = []

    def embed(self, fig, what):
        self.figures.append((fig, what))
        return super().embed(fig, what)


def test_time_series_shade_the_windows(outage_run):
    c = collect(outage_run)
    effects = sections.outage_effects(c)
    box = _Keep()
    sections.units(c, ["run"], box, effects)
    sections.hospitals(c, ["run"], box, effects)
    assert len(box.figures) == 2
    for fig, what in box.figures:
        rects = [s for s in fig.layout.shapes if s.type == "rect"]
        got = [(pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in rects]
        assert got == [(START + pd.Timedelta(minutes=a), START + pd.Timedelta(minutes=b)) for a, b in WINDOWS]
        assert all(s.xref == "x" for s in rects)
        labels = [a.text for a in fig.layout.annotations if "c119 down" in (a.text or "")]
        assert labels == [html.escape(f"c119 down: {LABEL_NAME}", quote=True)] * 2
        assert "outages" in what


def _outage_table(text: str) -> list[list[str]]:
    part = text[text.index('<section id="outages">'):]
    part = part[:part.index("</table>")]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", part)[1:]]


def test_report_has_the_outage_section_with_the_right_numbers(outage_run):
    text = build_report(outage_run)
    rows = _outage_table(text)
    expected = _expected(outage_run)
    assert [r[:4] for r in rows] == [["c119", LABEL_NAME, "Tue 06 Jan 10:00–12:00", "transfer"],
                                     ["c119", LABEL_NAME, "Wed 07 Jan 02:00–03:00", "transfer"]]
    for row, e in zip(rows, expected, strict=True):
        assert row[4:6] == [str(e["rerouted"]), str(e["calls"])]
        assert row[7:10] == [f"{e['inside']:.2f}", f"{e['outside']:.2f}", f"{e['inside'] - e['outside']:.2f}"]
    # user text is escaped: in the table and in the figures' JSON
    assert LABEL_NAME not in text and "<b onmouseover" not in text
    assert html.escape(LABEL_NAME, quote=True) in text
    assert json.dumps(f"{START + pd.Timedelta(minutes=WINDOWS[0][0]):%Y-%m-%dT%H:%M:%S}") in text


def test_runs_without_outages_have_no_outage_section(run_dir):
    text = build_report(run_dir)
    assert 'id="outages"' not in text and '"type":"rect"' not in text
    assert not len(sections.outage_effects(collect(run_dir)))


def test_windows_and_primary_lines_from_the_scenario():
    doc = {"outages": [{"centre": "a", "start": 10, "end": 20, "held_calls": "lose", "label": "x"}],
           "call_centres": {"a": {"lines": ["119", "112"]}, "b": {"lines": ["112", "120"]}}}
    assert timeseries.outage_windows(doc).to_dict("records") == [
        {"centre": "a", "label": "x", "held_calls": "lose", "start_min": 10.0, "end_min": 20.0}]
    assert timeseries.primary_lines(doc) == {"a": ["119", "112"], "b": ["120"]}
    assert timeseries.primary_lines({}) is None

"""Issue #16 (items 1, 3-7): an honest headline, maps with stations and reach, load per station and unit,
anchored colour-blind safe scales, stated bins and profiles, consistent equity figures and percentages."""

from __future__ import annotations

import html
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import scenarios
import sim
from analysis import figures, metrics, sections, stats, timeseries
from analysis.digest import collect
from analysis.html import FigureBox
from analysis.report import _compared, _head_to_head, _verdict, build_report
from analysis.store import RunDir
from tests.analysis.conftest import hostile_scenario
from tests.analysis.sweepfix import make_sweep


class _Keep(FigureBox):
    """A FigureBox that also keeps the figures."""

    def __init__(self):
        super().__init__()
        self.figures = []

    def embed(self, fig, what):
        self.figures.append((fig, what))
        return super().embed(fig, what)


def _cells(part: str) -> list[list[str]]:
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", part)]


# -- 1. the headline ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clear_winner(tmp_path_factory):
    """ansan, ambulance turnout 3, 2 or 1 min: 1 min is faster on every incident an ambulance serves."""
    return make_sweep(tmp_path_factory.mktemp("win") / "sweep", days=2, replications=4, keep=("incidents",),
                      factors={"ambulance_turnout": ("unit_types.ambulance.turnout", [3.0, 2.0, 1.0])})


@pytest.fixture(scope="module")
def no_winner(tmp_path_factory):
    """ansan, 2 or 3 ambulances at Sadong: -0.01 [-0.02, +0.00] min, Holm p = 0.129, P(best) 99.8%."""
    return make_sweep(tmp_path_factory.mktemp("flat") / "sweep", days=3, replications=4, keep=("incidents",),
                      factors={"sadong_ambulances": ("fleets.Sadong.ambulance", [2, 3])})


def _headline(text: str) -> str:
    return html.unescape(re.search(r'<p class="headline">(.*?)</p>', text).group(1))


def test_headline_says_when_no_configuration_is_distinguishable(no_winner):
    text = build_report(no_winner)
    line = _headline(text)
    compared = stats.compare(no_winner)
    row = compared[(compared["metric"] == "mean_response_min") & ~compared["is_baseline"]].iloc[0]
    assert row["p_holm"] > 0.05 and row["prob_best"] > 0.99            # the case of the issue
    assert line == ("No configuration is distinguishable from the baseline (sadong_ambulances=2) in mean "
                    "response: the best-ranked, sadong_ambulances=3, differs by "
                    f"{row['diff']:+.2f} [{row['diff_lo']:+.2f}, {row['diff_hi']:+.2f}] min "
                    f"(Holm p = {row['p_holm']:.3f}) over 4 replications, which is within the noise.")
    assert "truly the best" not in text


def test_headline_names_a_clear_winner_and_its_margin_over_the_runner_up(clear_winner):
    text = build_report(clear_winner)
    line = _headline(text)
    summary = pd.read_parquet(clear_winner / "summary.parquet")
    wide = summary.pivot(index="replication", columns="config_id", values="mean_response_min")
    d = wide["c002"] - wide["c001"]                                      # 1 min against 2 min, by hand
    assert line.startswith("2 of 2 configurations are better than the baseline (ambulance_turnout=3.0) in "
                           "mean response beyond the noise (Holm p < 0.05, 4 replications); the best-ranked, "
                           "ambulance_turnout=1.0, differs by ")
    assert (f"It also beats the runner-up, ambulance_turnout=2.0, head to head: {d.mean():+.2f} " in line)
    assert "truly the best" not in text and _headline(build_report(clear_winner)) == line


def test_head_to_head_table_is_the_paired_difference_of_the_leaders(clear_winner):
    c = collect(clear_winner)
    compared = _compared(c, 0)
    h = stats.head_to_head(c.summary, "mean_response_min", ["c002", "c001", "c000"])
    wide = c.summary.pivot(index="replication", columns="config_id", values="mean_response_min")
    pairs = [("c002", "c001"), ("c002", "c000"), ("c001", "c000")]
    for (a, b), row in zip(pairs, h.itertuples(), strict=True):
        diff = wide[a] - wide[b]
        t = stats.t_interval(diff.to_numpy())
        assert (row.config_a, row.config_b, row.n_pairs) == (a, b, 4)
        assert row.diff == pytest.approx(diff.mean()) and row.diff_lo == pytest.approx(t["lo"])
    np.testing.assert_allclose(h["p_holm"], stats.holm(h["p_value"].to_numpy()))
    rows = _cells(_head_to_head(c, compared).split("</table>")[0])
    assert rows[1][:3] == ["ambulance_turnout=1.0", "ambulance_turnout=2.0", "4"]
    assert rows[1][3] == f"{h['diff'][0]:+.2f} [{h['diff_lo'][0]:+.2f}, {h['diff_hi'][0]:+.2f}]"
    assert "Head to head: mean response (min)" in build_report(clear_winner)


def test_headline_when_the_baseline_is_best():
    summary = pd.DataFrame({"config_id": ["a"] * 4 + ["b"] * 4, "replication": list(range(4)) * 2,
                            "seed": 1, "mean_response_min": [5.0, 5.2, 5.1, 5.3, 6.0, 6.1, 6.3, 6.2]})
    compared = stats.compare(summary, metrics=["mean_response_min"])
    c = type("C", (), {"replicated": True, "summary": summary})()
    assert _verdict(c, compared).startswith("No configuration is better than the baseline (a) in mean "
                                            "response: even the closest, b, differs by +1.00")


# -- 3. the geography table and the maps -------------------------------------------------------------
def test_geography_table_of_a_plane_city_by_hand():
    scenario = scenarios.load("scenarios/examples/two_towns.yaml")
    result = sim.run(scenario, seed=1, days=3)
    geo = result.extra["geography"]
    assert geo[geo["kind"] == "station"]["name"].tolist() == ["East station", "West station"]
    assert geo[geo["kind"] == "hospital"][["name", "district", "x_km", "y_km"]].values.tolist() == [
        ["East hospital", "East", 2.0, 4.0]]
    zones = geo[geo["kind"] == "zone"]
    assert 2000 < len(zones) <= 2500 and set(zones["district"]) == {"East", "West"}
    stations = np.array([[3.0, 3.0], [15.0, 3.0]])
    xy = zones[["x_km", "y_km"]].to_numpy()
    minutes = np.hypot(*(xy[:, None, :] - stations[None, :, :]).transpose(2, 0, 1)) * 60 * 1.3 / 40
    np.testing.assert_allclose(zones["travel_min_from_nearest_station"], minutes.min(axis=1))
    assert (zones["nearest_station"] == np.array(["East station", "West station"])[minutes.argmin(1)]).all()


def test_geography_table_of_a_road_city(run_dir):
    geo = pd.read_parquet(run_dir / "geography.parquet")
    scenario = RunDir.open(run_dir).scenario
    st = geo[geo["kind"] == "station"]
    assert st["name"].tolist() == list(scenario["stations"])
    assert (st["travel_min_from_nearest_station"] == 0).all() and (st["nearest_station"] == st["name"]).all()
    zones = geo[geo["kind"] == "zone"]
    assert len(zones) > 500 and (zones["district"] != "").all()
    assert np.isfinite(zones["travel_min_from_nearest_station"]).all()
    assert sim.RunResult.read(run_dir).extra["geography"].shape == geo.shape


def test_reach_map_has_named_stations_hospitals_and_the_reach_layer(run_dir):
    c = collect(run_dir)
    box = _Keep()
    sections.districts(c, ["run"], box)
    fig, what = box.figures[0]
    scenario = c.scenario
    geo = pd.read_parquet(run_dir / "geography.parquet")
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["stations"].text) == list(scenario["stations"])
    assert list(by_name["hospitals"].text) == list(scenario["hospitals"])
    target = 7.0                                                       # ansan's tightest: fire p1
    zones = geo[geo["kind"] == "zone"]
    n_in = int((zones["travel_min_from_nearest_station"] <= target).sum())
    inside = by_name[f"reached within 7 min ({n_in} zones)"]
    outside = by_name[f"beyond 7 min ({len(zones) - n_in} zones)"]
    assert len(inside.x) == n_in and len(outside.x) == len(zones) - n_in and n_in > 0
    assert (inside.marker.cmin, inside.marker.cmax, inside.marker.cmid) == (0.0, 14.0, 7.0)
    incidents = pd.read_parquet(run_dir / "incidents.parquet")
    assert len(by_name["incidents"].x) == int((~incidents["in_warmup"]).sum())
    assert f"({100 * n_in / len(zones):.1f}% of the zones)" in what
    # the district maps carry the stations too
    for fig, _ in box.figures[1:]:
        assert next(t for t in fig.data if t.name == "stations").text == tuple(scenario["stations"])


def test_runs_without_a_geography_table_still_show_stations(run_dir, tmp_path):
    old = shutil.copytree(run_dir, tmp_path / "old")
    (old / "geography.parquet").unlink()
    text = build_report(old)
    assert "written without a geography table" in text
    box = _Keep()
    sections.districts(collect(old), ["run"], box)
    names = [t.name for t in box.figures[0][0].data]
    assert "stations" in names and not any("reached within" in n for n in names)


# -- 4. load per station and unit, and waiting for a free unit ----------------------------------------
def test_station_and_unit_load_by_hand(run_dir):
    units = pd.read_parquet(run_dir / "units.parquet")
    run = RunDir.open(run_dir)
    start, end = run.window()
    load = metrics.load_by_station(units)
    for station, g in units.groupby("station", observed=True):
        row = load[(load["station"] == station) & (load["kind"] == "all")].iloc[0]
        assert row["utilization"] == pytest.approx(g["busy_min"].sum() / (len(g) * (end - start)))
        assert row["units"] == len(g)
    busiest = units.sort_values("utilization", ascending=False).iloc[0]
    assert metrics.load_by_unit(units).iloc[0]["unit_id"] == busiest["unit_id"]
    text = build_report(run_dir)
    part = text.split("<h3>Load by station</h3>", 1)[1].split("</table>", 1)[0]
    top = load[load["kind"] == "all"].sort_values("utilization", ascending=False).iloc[0]
    assert _cells(part)[1][0] == top["station"]
    assert _cells(part)[1][3] == f"{100 * top['utilization']:.1f}%"
    units_part = text.split("<h3>Busiest units (top 10)</h3>", 1)[1].split("</table>", 1)[0]
    assert _cells(units_part)[1][0] == busiest["unit_id"]
    assert _cells(units_part)[1][4] == f"{100 * busiest['utilization']:.1f}%"


@pytest.fixture(scope="module")
def busy_run(tmp_path_factory):
    """The small test city with one ambulance per station and heavy demand: incidents queue for units."""
    d = hostile_scenario().model_dump(mode="python", by_alias=True)
    d["demand"]["per_1000_per_day"]["medical"] = 1.5
    d["fleets"] = {"S1": {"ambulance": 1, "engine": 1}, "S2": {"ambulance": 1}}
    return sim.run(scenarios.from_dict(d), seed=4).write(tmp_path_factory.mktemp("busy") / "run")


def test_wait_for_a_free_unit_is_split_from_answer_to_dispatch(busy_run):
    inc = pd.read_parquet(busy_run / "incidents.parquet")
    m = inc[~inc["in_warmup"]].dropna(subset=["t_dispatch_min"])
    wait = (m["t_dispatch_min"] - m["t_answer_min"] - m["processing_min"]).clip(lower=0)
    delays = metrics.delay_stats(inc).set_index("delay")
    assert delays.loc["wait_for_free_unit", "mean"] == pytest.approx(wait.mean())
    assert delays.loc["call_processing", "mean"] == pytest.approx(m["processing_min"].mean())
    assert delays.loc["wait_for_free_unit", "mean"] + delays.loc["call_processing", "mean"] == pytest.approx(
        delays.loc["answer_to_dispatch", "mean"])
    assert wait.mean() > 1.0 and (wait[~m["queued"]].abs() < 1e-6).all()
    waited = int((wait > 1e-6).sum())
    text = html.unescape(build_report(busy_run))
    assert "wait for a free unit (processed to dispatch)" in text
    assert f"Incidents that waited for a free unit: nearest {100 * waited / len(m):.1f}%." in text


# -- 5. colour scales -----------------------------------------------------------------------------------
def test_district_maps_are_anchored_and_colour_blind_safe(crn_sweep):
    c = collect(crn_sweep)
    box = _Keep()
    sections.districts(c, [c.baseline, "c003"], box)
    maps = {f.layout.title.text: f for f, _ in box.figures}
    target = sections.mean_target(c)
    inc = pd.concat([pd.read_parquet(p, columns=["target_min", "in_warmup"])
                     for p in sorted(crn_sweep.glob("runs/*/incidents.parquet"))])
    assert target == pytest.approx(inc.loc[~inc["in_warmup"], "target_min"].mean(), rel=1e-3)

    def bar(fig):
        return next(t.marker for t in fig.data if t.name == "district names")

    mean = bar(maps["Districts by mean response (min)"])
    assert (mean.cmin, mean.cmax, mean.cmid) == (0.0, pytest.approx(2 * target), pytest.approx(target))
    assert mean.colorscale == tuple(tuple(x) for x in figures.BLUE_ORANGE)
    share = bar(maps["Districts by share within target (%)"])
    assert (share.cmin, share.cmax) == (0.0, 1.0) and share.colorbar.tickformat == ".0%"
    diff = bar(maps["Difference in mean response by district"])
    assert diff.cmid == 0.0 and diff.cmin == -diff.cmax and diff.cmax > 0


def test_heatmap_scales_and_palette():
    summary = pd.DataFrame({"a": ["x", "y"] * 2, "b": [1, 1, 2, 2], "mean_response_min": [5.8, 5.94, 6, 7],
                            "within_target": [0.9, 0.91, 0.8, 0.7]})
    h = figures.heatmap(summary, "a", "b", target_min=8.0).data[0]
    assert (h.zmin, h.zmax, h.zmid) == (0.0, 16.0, 8.0)
    w = figures.heatmap(summary, "a", "b", "within_target").data[0]
    assert (w.zmin, w.zmax) == (0.0, 1.0)
    # no red/green pair among the first colours: Okabe-Ito
    assert figures.PALETTE[:8] == ("#0072B2", "#E69F00", "#56B4E9", "#CC79A7", "#009E73", "#D55E00",
                                   "#000000", "#F0E442")


# -- 6. time series: bins, profiles, targets --------------------------------------------------------------
def test_time_series_state_their_bin_and_ecdf_draws_the_targets(run_dir):
    c = collect(run_dir)
    box = _Keep()
    sections.units(c, ["run"], box)
    sections.hospitals(c, ["run"], box)
    assert c.bin_min == 15.0
    for fig, what in box.figures:
        assert fig.layout.title.text.endswith("(15 min bins)") and "per 15 min bin" in what
    box = _Keep()
    sections.distribution(c, ["run"], box)
    lines = sorted(s.x0 for s in box.figures[0][0].layout.shapes)
    assert lines == sorted(figures.scenario_targets(c.scenario)) and 8.0 in lines
    texts = [a.text for a in box.figures[0][0].layout.annotations]
    assert "target 8 min: medical p1" in texts


def test_hour_and_weekday_profiles_by_hand(run_dir, tmp_path):
    run = RunDir.open(run_dir)
    start, end = run.window()
    inc = run.table("incidents")
    p = timeseries.profiles(inc, run.meta["start"], start, end)
    m = inc[~inc["in_warmup"]]
    when = pd.Timestamp(run.meta["start"]) + pd.to_timedelta(m["t_call_min"], unit="min")
    hours = p[p["profile"] == "hour"].set_index("key")
    days = (end - start) / 1440
    np.testing.assert_allclose(hours["exposure"], days)              # whole days: each hour `days` times
    np.testing.assert_array_equal(hours["incidents"], np.bincount(when.dt.hour, minlength=24))
    np.testing.assert_allclose(hours["rate"], np.bincount(when.dt.hour, minlength=24) / days)
    h14 = m[when.dt.hour == 14]["response_min"].mean()
    assert hours.loc[14, "mean_response_min"] == pytest.approx(h14)
    week = p[p["profile"] == "weekday"].set_index("key")
    assert week["exposure"].sum() == pytest.approx(days)
    assert week["incidents"].sum() == len(m)
    c = collect(run_dir)
    box = _Keep()
    sections.when(c, ["run"], box)
    bars = box.figures[0][0].data[0]
    np.testing.assert_allclose(bars.y, hours["rate"])
    # a week-long run gets the weekday profile too
    week_run = sim.run("ansan", seed=1, days=8).write(tmp_path / "week")
    box = _Keep()
    sections.when(collect(week_run), ["run"], box)
    assert [f.layout.title.text for f, _ in box.figures] == ["By hour of day: demand and response",
                                                             "By weekday: demand and response"]
    assert list(box.figures[1][0].data[0].x) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


# -- 7. equity definitions and percentages ------------------------------------------------------------------
def test_equity_worst_district_matches_the_district_table(crn_sweep):
    text = build_report(crn_sweep)
    part = text.split('<section id="districts">', 1)[1]
    district_rows = _cells(part.split("<h3>Equity across districts</h3>")[0].split("<table>")[-1])
    equity_rows = _cells(part.split("<h3>Equity across districts</h3>")[1].split("</table>")[0])
    header = re.findall(r'<th class="[a-z]+">(.*?)</th>', part.split("<h3>Equity across districts</h3>")[1])
    assert header[:4] == ["configuration", "worst district", "its mean response (min)",
                          "worst - best district (min)"]
    assert "mean of each run&#x27;s worst district (min)" in header
    baseline = equity_rows[1]
    worst, value = baseline[1], baseline[2]
    cell = next(r for r in district_rows if r and r[0] == worst)[1]     # the district table's baseline
    assert cell.split(" / ")[0] == value
    means = [float(r[1].split(" / ")[0]) for r in district_rows if r and r[1] != "–"]
    assert float(value) == max(means)
    per_run = float(baseline[header.index("mean of each run&#x27;s worst district (min)")])
    summary = pd.read_parquet(crn_sweep / "summary.parquet")
    by_hand = summary.loc[summary["config_id"] == "c000", "worst_district_mean_response_min"].mean()
    assert per_run == pytest.approx(by_hand, abs=0.005)


def test_shares_are_percentages_in_the_forest_plot(crn_sweep):
    compared = stats.compare(crn_sweep)
    fig = figures.forest(compared)
    row = compared[(compared["metric"] == "within_target") & ~compared["is_baseline"]].iloc[0]
    point = next(t for t in fig.data if t.name == html.escape(row["label"], quote=False)
                 and t.xaxis == "x3")
    assert point.x[0] == pytest.approx(100 * row["diff"])
    assert "percentage points" in fig.layout.xaxis3.title.text

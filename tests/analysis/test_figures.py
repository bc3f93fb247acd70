"""Figure functions: the right traces, the data they claim, and escaped user text."""

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis import figures, stats
from analysis.store import RunDir
from analysis.timeseries import hospital_occupancy, hospital_stays, utilisation_over_time

SEED = 11


def test_ecdf_from_mapping_and_from_incidents(run_dir):
    rng = np.random.default_rng(SEED)
    fig = figures.ecdf({"a": rng.exponential(5, 500), "b <i>": rng.exponential(7, 300)}, points=51)
    assert [t.name for t in fig.data] == ["a", "b &lt;i&gt;"]
    assert len(fig.data[0].x) == 51 and fig.data[0].y[-1] == 1.0
    assert np.all(np.diff(fig.data[1].x) >= 0)
    inc = RunDir.open(run_dir).table("incidents")
    by_priority = figures.ecdf(inc, by="priority")
    assert [t.name for t in by_priority.data] == ["priority 1", "priority 2", "priority 3"]
    reached = inc.loc[~inc["in_warmup"], "response_min"].dropna()
    assert figures.ecdf(inc).data[0].x[-1] == pytest.approx(reached.max())


def test_forest_shows_one_point_per_configuration_and_metric(crn_sweep):
    compared = stats.compare(crn_sweep)
    fig = figures.forest(compared)
    points = [t for t in fig.data if t.name != "unpaired"]
    assert len(points) == 3 * 3                                  # 3 configurations x 3 metrics
    first = compared[(compared["metric"] == "mean_response_min") & ~compared["is_baseline"]].iloc[0]
    p = points[0]
    assert p.x[0] == pytest.approx(first["diff"])
    assert p.error_x.array[0] == pytest.approx(first["diff_hi"] - first["diff"])


def test_district_map_draws_filled_polygons_from_the_scenario(run_dir):
    run = RunDir.open(run_dir)
    values = pd.DataFrame({"left": {"Singil": 5.0, "Daebu": 9.0}, "right": {"Singil": 6.0}})
    fig = figures.district_map(run.scenario, values, "t", "mean response (min)")
    shapes = [t for t in fig.data if t.fill == "toself"]
    assert len(shapes) == 2 * len(run.scenario["districts"])
    singil = next(t for t in shapes if t.name == "Singil")
    poly = np.asarray(run.scenario["districts"]["Singil"]["boundary"])
    np.testing.assert_allclose(singil.x[:-1], poly[:, 0])
    assert singil.x[0] == singil.x[-1]                           # closed ring
    grey = [t for t in shapes if t.fillcolor == "#d9d9d9"]       # no value: grey
    assert len(grey) == 2 * len(run.scenario["districts"]) - 3
    assert figures.district_map({"districts": {"a": {"boundary": None}}}, values, "t", "x") is None


def test_utilisation_and_hospital_figures_with_a_group_menu(run_dir):
    run = RunDir.open(run_dir)
    start, end = run.window()
    util = utilisation_over_time(run.table("assignments"), run.table("units"), start, end, 60)
    both = pd.concat([util.assign(cfg="one"), util.assign(cfg="two")])
    fig = figures.utilisation(both, start=run.meta["start"], group="cfg")
    kinds = util["unit_kind"].nunique()
    assert len(fig.data) == 2 * kinds
    assert sum(bool(t.visible) for t in fig.data) == kinds
    menu = fig.layout.updatemenus[0].buttons
    assert [b.label for b in menu] == ["one", "two"] and sum(menu[1].args[0]["visible"]) == kinds
    stays = hospital_stays(run.table("events"))
    occ = hospital_occupancy(stays, start, end, 60)
    caps = {k: v["capacity"] for k, v in run.scenario["hospitals"].items()}
    hfig = figures.hospital_occupancy(occ, caps)
    assert len(hfig.data) == occ["hospital"].nunique() and len(hfig.layout.shapes) == len(caps)


def test_heatmap_and_tradeoff(crn_sweep):
    summary = pd.read_parquet(crn_sweep / "summary.parquet")
    fig = figures.heatmap(summary, "policy", "sadong_ambulances")
    z = np.asarray(fig.data[0].z)
    assert z.shape == (2, 2)
    expected = summary.groupby(["sadong_ambulances", "policy"])["mean_response_min"].mean()
    assert z[list(fig.data[0].y).index("1"), list(fig.data[0].x).index("nearest")] == pytest.approx(
        expected[(1, "nearest")])
    table = summary.groupby("label", as_index=False)[["n_units", "p90_response_min"]].mean()
    trade = figures.tradeoff(table)
    assert len(trade.data) == 4 and {t.x[0] for t in trade.data} == set(table["n_units"])


def test_user_text_in_figures_is_escaped():
    name = "<script>alert(1)</script>"
    figs = [figures.ecdf({name: [1.0, 2.0]}),
            figures.district_map({"districts": {name: {"boundary": [[0, 0], [1, 0], [1, 1]]}}},
                                 pd.Series({name: 1.0}, name=name), name, name),
            figures.heatmap(pd.DataFrame({name: ["a", "b"], "y": [1, 2], "m": [1.0, 2.0]}), name, "y", "m"),
            figures.tradeoff(pd.DataFrame({"label": [name], "n_units": [3], "p90_response_min": [4.0]}))]
    for fig in figs:
        assert isinstance(fig, go.Figure)
        text = json.dumps(fig.to_plotly_json(), default=str)
        assert "<script>" not in text and "&lt;script&gt;" in text


def test_colours_are_stable_per_key():
    c = figures.colours(["a", "b", "a", "c"])
    assert list(c) == ["a", "b", "c"] and len(set(c.values())) == 3
    assert figures.colours(["a", "b", "c"]) == c

"""The report in headless Chromium: all figures drawn, no console error, no network, no script from names.

Uses Debian's chromium, installed by ``make browser`` (a step of ``make test``;
the ``chromium`` fixture only skips, saying so, when it is missing), driven by
the playwright package; never ``playwright install``.
"""

import pytest

from analysis.report import write_report
from tests.analysis.checks import DRAWN, check_clean, open_report
from tests.analysis.conftest import DISTRICT_NAME, LABEL_NAME, SCRIPT_NAME


def test_sweep_report_renders_every_figure(browser, crn_sweep, tmp_path):
    html = write_report(crn_sweep, tmp_path / "sweep.html")
    page, log, expected = open_report(browser, html)
    drawn = page.evaluate(DRAWN)
    assert expected >= 9 and drawn == expected == page.locator(".plotly-graph-div").count()
    check_clean(page, log)
    shot = tmp_path / "sweep-report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    page.close()


def test_run_report_renders_every_figure(browser, run_dir, tmp_path):
    html = write_report(run_dir, tmp_path / "run.html")
    page, log, expected = open_report(browser, html)
    assert page.evaluate(DRAWN) == expected == 7
    check_clean(page, log)
    page.screenshot(path=str(tmp_path / "run-report.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("which", ["hostile_run", "hostile_sweep"])
def test_names_with_html_show_as_text(browser, request, tmp_path, which):
    html = write_report(request.getfixturevalue(which), tmp_path / f"{which}.html")
    page, log, expected = open_report(browser, html)
    check_clean(page, log)                                     # no alert() ran
    assert page.evaluate(DRAWN) == expected
    assert SCRIPT_NAME in page.title()
    text = page.inner_text("body")
    assert f"Anjeon report: {SCRIPT_NAME}" in text
    assert DISTRICT_NAME in text
    assert page.locator("img").count() == 0 and page.locator("main a").count() == 0
    svg_text = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot text'))"
                             ".map(t => t.textContent).join('\\n')")
    assert DISTRICT_NAME in svg_text                            # the map labels, as text
    if which == "hostile_sweep":
        assert LABEL_NAME in text and LABEL_NAME in svg_text
    page.screenshot(path=str(tmp_path / f"{which}.png"), full_page=True)
    page.close()


TRACE_POINTS = """(prefix) => Array.from(document.querySelectorAll('.scatterlayer .trace'))
    .filter(g => g.__data__ && g.__data__[0] && g.__data__[0].trace
            && String(g.__data__[0].trace.name).startsWith(prefix))
    .map(g => ({name: g.__data__[0].trace.name, points: g.querySelectorAll('path.point').length,
                text: Array.from(g.querySelectorAll('.textpoint text')).map(t => t.textContent)}))"""


def test_example_sweep_map_shows_station_markers_and_the_reach_layer(browser, tmp_path_factory, tmp_path):
    """Issue #16: the example sweep's design (policy x Singil ambulances), short runs, in Chromium."""
    import pandas as pd

    from tests.analysis.sweepfix import make_sweep

    sweep = make_sweep(tmp_path_factory.mktemp("example") / "sweep", days=2, replications=2,
                       factors={"policy": (None, ["nearest", "district_first"]),
                                "singil_ambulances": ("fleets.Singil.ambulance", [2, 3])})
    html = write_report(sweep, tmp_path / "example.html")
    page, log, _ = open_report(browser, html)
    check_clean(page, log)
    geo = pd.read_parquet(sweep / "runs" / "c000-r000" / "geography.parquet")
    stations = geo.loc[geo["kind"] == "station", "name"].tolist()
    zones = geo[geo["kind"] == "zone"]
    within = int((zones["travel_min_from_nearest_station"] <= 7.0).sum())    # ansan's tightest target
    drawn = page.evaluate(TRACE_POINTS, "stations")
    assert len(drawn) == 6            # reach map, mean and share maps (2 panels each), difference map
    for trace in drawn:
        assert trace["points"] == len(stations) == 12 and trace["text"] == stations
    reach = page.evaluate(TRACE_POINTS, "reached within 7 min")
    assert [r["points"] for r in reach] == [within] and within > 0
    beyond = page.evaluate(TRACE_POINTS, "beyond 7 min")
    assert [r["points"] for r in beyond] == [len(zones) - within]
    assert page.evaluate(TRACE_POINTS, "hospitals")[0]["points"] == 3
    page.close()

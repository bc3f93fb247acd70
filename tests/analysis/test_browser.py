"""The report in headless Chromium: all figures drawn, no console error, no network, no script from names.

Uses Debian's chromium (installed by the ``chromium`` fixture when missing)
driven by the playwright package; never ``playwright install``.
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
    assert page.evaluate(DRAWN) == expected == 5
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

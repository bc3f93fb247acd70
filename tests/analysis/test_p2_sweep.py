"""``anjeon report`` on the example sweep of issue #3 (3-day runs), made by ``anjeon sweep`` itself.

Skipped while the sweep runner or its example experiment is not in the tree;
the layout it writes is the contract that :mod:`analysis.store` reads.
"""

import importlib.util
from pathlib import Path

import pytest
import yaml

from analysis.report import write_report
from sim.cli import main
from tests.analysis.checks import check_clean, check_self_contained, open_report, section_ids

EXAMPLE = Path(__file__).resolve().parents[2] / "experiments" / "sweeps" / "ansan_policy_fleet.yaml"


@pytest.fixture(scope="module")
def p2_sweep(tmp_path_factory) -> Path:
    if not EXAMPLE.is_file():
        pytest.skip(f"the example sweep of issue #3 is not in the tree ({EXAMPLE})")
    if importlib.util.find_spec("experiments.cli") is None:
        pytest.skip("'anjeon sweep' is not available (experiments.cli missing)")
    root = tmp_path_factory.mktemp("p2")
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    spec.update(horizon="3 d", replications=3)                  # the same design, shorter runs
    (root / "example.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = root / "sweep"
    assert main(["sweep", str(root / "example.yaml"), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    return out


def test_report_of_the_example_sweep(p2_sweep, tmp_path, capsys):
    out = tmp_path / "p2.html"
    assert main(["report", str(p2_sweep), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith(str(out))
    text = out.read_text(encoding="utf-8")
    assert check_self_contained(text) >= 9
    assert "comparison" in section_ids(text) and "factors" in section_ids(text)


def test_example_sweep_report_renders_in_chromium(p2_sweep, browser, tmp_path):
    html = write_report(p2_sweep, tmp_path / "p2.html")
    page, log, expected = open_report(browser, html)          # waits until every figure is drawn
    assert expected >= 9
    check_clean(page, log)
    page.screenshot(path=str(tmp_path / "p2-report.png"), full_page=True)
    page.close()

"""The HTML report: self-contained, escaped, complete; and the ``anjeon report`` command."""

import json
import shutil

import pandas as pd
import pytest

from analysis.report import build_report, write_report
from sim.cli import main
from tests.analysis.checks import check_self_contained, parse, section_ids
from tests.analysis.conftest import DISTRICT_NAME, LABEL_NAME, SCRIPT_NAME


def test_sweep_report_is_self_contained_and_complete(crn_sweep):
    text = build_report(crn_sweep)
    n = check_self_contained(text)
    assert n >= 9      # forest, ecdf, 2 maps, utilisation, hospitals, 2 heat maps, trade-off
    # "forces" follows "hospitals" when some unit helped outside its district (analysis/extras.py)
    assert [s for s in section_ids(text) if s != "forces"] == [
        "summary", "comparison", "distribution", "when", "districts", "calls", "outcomes", "units",
        "hospitals", "factors", "provenance"]
    assert text.count("What this shows:") == n
    run = json.loads((crn_sweep / "runs" / "c000-r000" / "run.json").read_text())
    assert run["scenario_sha256"] in text                     # provenance: scenario hash
    assert run["versions"]["numpy"] in text and "seeds" in text
    assert "c999-r000" in text and "RuntimeError: boom &lt;b&gt;" in text      # failed run, escaped
    summary_table = text.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert "policy=district_first, sadong_ambulances=3" in summary_table and "P(best)" in summary_table


def test_run_report(run_dir):
    text = build_report(run_dir)
    assert check_self_contained(text) == 7   # ecdf, hour of day, reach map, 2 district maps, units, hospitals
    assert [s for s in section_ids(text) if s != "forces"] == [
        "summary", "distribution", "when", "districts", "calls", "outcomes", "units", "hospitals",
        "provenance"]
    assert "Single run: policy nearest, seed 1" in text
    assert json.loads((run_dir / "run.json").read_text())["scenario_sha256"] in text


def test_user_text_is_escaped_in_the_source(hostile_run, hostile_sweep):
    for d in (hostile_run, hostile_sweep):
        text = build_report(d)
        check_self_contained(text)
        for raw in (SCRIPT_NAME, DISTRICT_NAME, "<b>bold</b>", "<a href='http://evil", "<i>1</i>"):
            assert raw not in text, raw
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;img src=x onerror=alert(2)&gt;West" in text
        p = parse(text)
        assert "img" not in p.tags and "i" not in p.tags
        assert p.tags.count("script") == 1 + text.count('class="plotly-graph-div"')
    text = build_report(hostile_sweep)
    assert LABEL_NAME not in text and "&lt;b onmouseover=alert(3)&gt;fast &amp; &quot;quoted&quot;" in text


def _copy(src, dst, drop=(), drop_runs=False):
    shutil.copytree(src, dst)
    if drop_runs:
        shutil.rmtree(dst / "runs")
    for f in dst.glob("runs/*/*.parquet"):
        if f.stem in drop:
            f.unlink()
    return dst


@pytest.mark.parametrize("drop, drop_runs, missing", [
    (("events",), False, ["events table was not kept"]),
    (("events", "assignments", "units"), False, ["assignments table was not kept", "events table"]),
    ((), True, ["incidents table was not kept", "20 finished runs have no run directory"]),
])
def test_sweep_report_degrades_when_tables_are_missing(crn_sweep, tmp_path, drop, drop_runs, missing):
    d = _copy(crn_sweep, tmp_path / "sweep", drop, drop_runs)
    text = build_report(d)
    check_self_contained(text)
    for m in missing:
        assert m in text
    assert "comparison" in section_ids(text)


def test_report_of_a_sweep_where_every_run_failed(crn_sweep, tmp_path):
    d = _copy(crn_sweep, tmp_path / "sweep", drop_runs=True)
    summary = pd.read_parquet(d / "summary.parquet")
    summary.iloc[:0].to_parquet(d / "summary.parquet")
    text = build_report(d)
    assert "No run of this sweep finished successfully" in text
    assert section_ids(text) == ["summary", "provenance"]


def test_cli_writes_atomically_and_prints_the_path(run_dir, tmp_path, capsys):
    out = tmp_path / "out" / "r.html"
    assert main(["report", str(run_dir), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    first = out.read_text()
    assert main(["report", str(run_dir), "-o", str(out)]) == 0
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]          # no temporary file left
    assert len(out.read_text()) == pytest.approx(len(first), rel=0.01)
    assert oct(out.stat().st_mode & 0o777) != "0o600"


def test_cli_default_output_is_inside_the_directory(run_dir, tmp_path, capsys):
    d = shutil.copytree(run_dir, tmp_path / "run")
    assert main(["report", str(d)]) == 0
    assert (d / "report.html").is_file()
    assert capsys.readouterr().out.strip() == str(d / "report.html")


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "no such directory"),
    (lambda p: p, "neither a run directory"),
])
def test_cli_bad_directory_is_one_line_and_exit_2(tmp_path, capsys, make, message):
    assert main(["report", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("anjeon: error: ")
    assert list(tmp_path.glob("*.html")) == []


def test_cli_usage_errors_exit_2(capsys):
    assert main(["report"]) == 2
    assert "required" in capsys.readouterr().err


def test_write_report_returns_the_file(run_dir, tmp_path):
    out = write_report(run_dir, tmp_path / "x.html")
    assert out == tmp_path / "x.html" and out.stat().st_size > 1_000_000


def test_one_configuration_and_one_replication_sweeps(tmp_path):
    from tests.analysis.sweepfix import make_sweep

    one = make_sweep(tmp_path / "one", days=2, replications=3, factors={"policy": (None, ["nearest"])})
    text = build_report(one)
    check_self_contained(text)
    assert "A comparison needs at least two configurations." in text
    single = make_sweep(tmp_path / "single", days=2, replications=1, keep=("incidents",),
                        factors={"policy": (None, ["nearest", "district_first"])})
    text = build_report(single)
    assert check_self_contained(text) >= 3
    assert "intervals and p-values need two or more replications" in text

"""``anjeon replay RUN_DIR --html FILE``: the animated replay file, its inputs, and what it refuses."""

import re
import shutil

import pandas as pd
import pytest

import sim.cli
from tests.analysis.checks import check_self_contained

HOSTILE = "<script>alert('inject')</script>"


@pytest.fixture(scope="module")
def drill_run(ring_run, tmp_path_factory):
    """The ring run with synthetic injects and a hazard footprint beside it (as drills and hazards write)."""
    out = shutil.copytree(ring_run, tmp_path_factory.mktemp("drill") / "run")
    pd.DataFrame({"inject_id": ["I1", "I2"], "t_min": [1500.0, 2000.0], "kind": ["incident", "road_closure"],
                  "description": [HOSTILE, "avenue closed"], "incident_ids": ["", ""]}
                 ).to_parquet(out / "injects.parquet")
    pd.DataFrame({"hazard": ["flood"] * 3, "t_min": [1500.0, 1500.0, 2000.0], "x_km": [0.0, 0.5, 0.5],
                  "y_km": [0.0, 0.0, 0.5], "cell_km": [0.5] * 3, "value": [0.2, 0.4, 0.9]}
                  ).to_parquet(out / "footprints.parquet")
    return out


def test_html_replay_is_self_contained_and_escapes_injects(drill_run, tmp_path, capsys):
    html = tmp_path / "replay.html"
    assert sim.cli.main(["replay", str(drill_run), "--html", str(html), "--step-min", "30"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(html)
    text = html.read_text(encoding="utf-8")
    assert check_self_contained(text) == 2
    assert HOSTILE not in text and "&lt;script&gt;alert(&#x27;inject&#x27;)&lt;/script&gt;" in text
    assert text.count("<li data-t=") == 2 and "flood footprint" in text
    assert len(re.findall(r'"name":"(\d+)"', text)) == 3 * 1440 // 30 + 1   # one frame per 30 min


@pytest.mark.parametrize("table", ["units", "geography", "events"])
def test_a_missing_table_is_one_line_and_overwrites_nothing(ring_run, tmp_path, capsys, table):
    run = shutil.copytree(ring_run, tmp_path / "run")
    (run / f"{table}.parquet").unlink()
    html = tmp_path / "replay.html"
    html.write_text("earlier", encoding="utf-8")
    assert sim.cli.main(["replay", str(run), "--html", str(html)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"missing table {table}.parquet" in err and str(run) in err
    assert html.read_text(encoding="utf-8") == "earlier"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_different_log_writes_no_html(ring_run, tmp_path, capsys):
    run = shutil.copytree(ring_run, tmp_path / "run")
    ev = pd.read_parquet(run / "events.parquet")
    ev.loc[5, "t_min"] += 1.0
    ev.to_parquet(run / "events.parquet")
    html = tmp_path / "replay.html"
    assert sim.cli.main(["replay", str(run), "--html", str(html)]) == 1
    assert "not written" in capsys.readouterr().out and not html.exists()


def test_a_bad_step_is_refused(ring_run, tmp_path, capsys):
    assert sim.cli.main(["replay", str(ring_run), "--html", str(tmp_path / "r.html"), "--step-min", "0"]) == 2
    assert "--step-min" in capsys.readouterr().err and not (tmp_path / "r.html").exists()


def test_a_directory_as_the_html_file_is_refused(ring_run, tmp_path, capsys):
    assert sim.cli.main(["replay", str(ring_run), "--html", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a directory" in err

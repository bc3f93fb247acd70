"""Issue 16 item 2: what a run measures. ``--until`` takes durations with units, ``--warmup`` exists,
``--days`` inside the warm-up is refused with how to fix it, and the summary names the measured window.

The rule (also in ``anjeon run --help``): ``--days N`` simulates N days, warm-up included, and the
summary says what it measured (``--days 30`` with a 1-day warm-up measures 29 days); ``--days`` not
longer than the warm-up is an error naming ``--warmup``; a ``--until`` inside the warm-up measures
from the start (as ``--warmup 0``), with a note on standard error.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import sim.cli

WARM_TINY = "time:\n  horizon: 1 d\n  warmup: 6 h\n"


@pytest.fixture
def warm_tiny(tmp_path, tiny_text):
    """The tiny scenario with a 6-hour warm-up."""
    path = tmp_path / "warm.yaml"
    path.write_text(tiny_text.replace("time:\n  horizon: 1 d\n", WARM_TINY), encoding="utf-8")
    return path


def test_until_with_units_as_in_the_docs(tmp_path, capsys):
    """``anjeon run ansan --until "12 h" --json`` (docs/howto-scenarios.md) works; ansan warms up a day."""
    out = tmp_path / "o"
    assert sim.cli.main(["run", "ansan", "--until", "12 h", "--json", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    meta = json.loads((out / "run.json").read_text())
    assert (meta["until_min"], meta["warmup_min"]) == (720, 0)
    assert summary["incidents"] > 0
    assert captured.err == ""                       # --json keeps standard error clean too


def test_until_inside_the_warmup_says_so(warm_tiny, tmp_path, capsys):
    assert sim.cli.main(["run", str(warm_tiny), "--until", "3 h", "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    note = captured.err.strip()
    assert note.count("\n") == 0 and note.startswith("anjeon: note:") and "--warmup" in note, note
    flat = " ".join(captured.out.split())
    assert "measured 3 h: from the start to 3 h (no warm-up)" in flat


def test_until_and_warmup_together(warm_tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(warm_tiny), "--until", "20 h", "--warmup", "2 h", "--quiet",
                         "--out", str(out)]) == 0
    meta = json.loads((out / "run.json").read_text())
    assert (meta["warmup_min"], meta["until_min"]) == (120, 1200)


def test_warmup_flag_sets_the_warmup(warm_tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(warm_tiny), "--warmup", "90 min", "--out", str(out)]) == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["warmup_min"] == 90
    incidents = pd.read_parquet(out / "incidents.parquet")
    assert (incidents["in_warmup"] == (incidents["t_call_min"] < 90)).all()
    text = " ".join(capsys.readouterr().out.split())
    assert "measured 22.5 h: from 1.5 h (end of the warm-up) to 1 d" in text


def test_days_count_the_warmup_and_the_summary_says_what_is_measured(warm_tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(warm_tiny), "--days", "3", "--out", str(out)]) == 0
    meta = json.loads((out / "run.json").read_text())
    assert (meta["horizon_min"], meta["warmup_min"]) == (3 * 1440, 360)
    text = " ".join(capsys.readouterr().out.split())
    assert "measured 2.75 d: from 6 h (end of the warm-up) to 3 d" in text


def test_days_30_of_ansan_says_29_days_are_measured():
    meta = {"warmup_min": 1440, "until_min": 30 * 1440, "horizon_min": 30 * 1440}
    assert sim.cli.measured_window(meta) == "measured 29 d: from 1 d (end of the warm-up) to 30 d"


def test_days_inside_the_warmup_tells_how_to_fix_it(tmp_path, capsys, one_error_line):
    out = tmp_path / "o"
    assert sim.cli.main(["run", "ansan", "--days", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("anjeon: error: --days: ")
    assert "1-day warm-up" in err and "--warmup 0" in err
    assert not out.exists()
    # and the fix works
    assert sim.cli.main(["run", "ansan", "--days", "1", "--warmup", "0", "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["warmup_min"] == 0


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--warmup", "2 d"], "--warmup: the warm-up must be shorter than the run (1 d), got 2 d"),
    (["--warmup", "1 d"], "--warmup: the warm-up must be shorter than the run"),
    (["--warmup", "soon"], "--warmup: expected a number of minutes"),
    (["--warmup", "-5"], "--warmup: "),
    (["--until", "2 h", "--warmup", "3 h"], "--warmup: the warm-up must end before --until (2 h), got 3 h"),
    (["--days", "2", "--warmup", "3 d"], "--warmup: the warm-up must be shorter than the run (2 d)"),
])
def test_bad_warmup(argv, fragment, tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(tiny), *argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured
    assert captured.err.startswith("anjeon: error: ") and fragment in captured.err, captured.err
    assert not out.exists()


def test_run_help_explains_the_window(capsys):
    with pytest.raises(SystemExit):
        sim.cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--warmup" in text and "warm-up included" in text and "'12 h'" in text
    assert "measures 29 days" in text

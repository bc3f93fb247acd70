"""Issue 16 items 11, 13, 14 and 16: where a run may write, and what a failed or killed write leaves.

- ``--out ''`` is refused (it would mean the working directory); so is a sweep directory.
- A directory holding an earlier run is refused unless ``--force``, which replaces all of it
  (an old report.html and component tables included); a directory of other files is never used.
- A read-only location or a full disk ends as one line naming the path, with nothing left behind.
- Temporaries that a killed run or report left (``.<name>.tmp-<pid>``) are removed by the next write
  when their process is gone, and kept while it runs.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

import sim.cli
import sim.results
from sim.results import remove_stale_temporaries


def _one_error(capsys, code: int) -> str:
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, ""), captured
    assert captured.err.count("\n") == 1 and captured.err.startswith("anjeon: error: "), captured.err
    assert "Traceback" not in captured.err
    return captured.err[len("anjeon: error: "):].strip()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- --out '' -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["run", "{tiny}", "--out", ""],
    ["run", "{tiny}", "--out", "  "],
    ["sweep", "x.yaml", "--out", ""],
    ["report", "{tmp}", "-o", ""],
    ["report", ""],
    ["scenario", "schema", "-o", ""],
])
def test_empty_out_is_refused(argv, tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    line = _one_error(capsys, sim.cli.main([a.format(tiny=tiny, tmp=tmp_path) for a in argv]))
    assert "expected a path, got" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# -- never into a sweep directory -------------------------------------------------------------------------


@pytest.mark.parametrize("mark", ["summary.parquet", "manifest.jsonl", "plan.json"])
def test_run_into_a_sweep_directory_is_refused(mark, tiny, tmp_path, capsys):
    sweep = tmp_path / "sweep"
    (sweep / "runs").mkdir(parents=True)
    (sweep / mark).write_text("")
    before = sorted(p.name for p in sweep.iterdir())
    for extra in ([], ["--force"]):
        line = _one_error(capsys, sim.cli.main(["run", str(tiny), "--out", str(sweep), *extra]))
        assert line.startswith("--out: ") and "sweep directory" in line and mark in line, line
    assert sorted(p.name for p in sweep.iterdir()) == before


# -- an earlier run: --force ----------------------------------------------------------------------------


def test_earlier_run_is_kept_without_force_and_replaced_whole_with_it(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(tiny), "--seed", "1", "--quiet", "--out", str(out)]) == 0
    (out / "report.html").write_text("<html>old report</html>")
    (out / "move_up.parquet").write_text("an old component table")
    first = (out / "events.parquet").read_bytes()
    capsys.readouterr()

    line = _one_error(capsys, sim.cli.main(["run", str(tiny), "--seed", "2", "--out", str(out)]))
    assert line.startswith(f"--out: {out} holds an earlier run") and "--force" in line, line
    assert (out / "events.parquet").read_bytes() == first and (out / "report.html").exists()

    assert sim.cli.main(["run", str(tiny), "--seed", "2", "--quiet", "--force", "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["seed"] == 2
    assert not (out / "report.html").exists() and not (out / "move_up.parquet").exists()
    assert pd.read_parquet(out / "events.parquet").equals(sim.run(tiny, seed=2).events)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_directory_of_other_files_is_never_used(tiny, tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.tex").write_text("keep me")
    for extra in ([], ["--force"]):
        line = _one_error(capsys, sim.cli.main(["run", str(tiny), "--out", str(out), *extra]))
        assert "not a run directory" in line, line
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]


def test_an_empty_directory_is_used(tiny, tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    assert sim.cli.main(["run", str(tiny), "--quiet", "--out", str(out)]) == 0
    assert (out / "run.json").is_file()


def test_the_default_directory_follows_the_same_rule(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert sim.cli.main(["run", str(tiny), "--quiet"]) == 0
    capsys.readouterr()
    line = _one_error(capsys, sim.cli.main(["run", str(tiny)]))
    assert "out/tiny holds an earlier run" in line, line
    assert sim.cli.main(["run", str(tiny), "--quiet", "--force"]) == 0


# -- the file system refuses: one line, nothing left ---------------------------------------------------------


@pytest.mark.parametrize(("code", "reason"), [(errno.ENOSPC, "No space left on device"),
                                              (errno.EROFS, "Read-only file system")])
def test_write_errors_are_one_line_and_leave_nothing(code, reason, tiny, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    out = work / "new" / "deeper" / "o"

    def refuse(frame, path):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(sim.results, "write_table", refuse)
    line = _one_error(capsys, sim.cli.main(["run", str(tiny), "--out", str(out)]))
    assert line.endswith(f": {reason}") and str(work / "new" / "deeper") in line, line
    assert list(work.iterdir()) == []                 # no partial output, no parent directories made


def test_a_read_only_directory_as_a_process(tiny, tmp_path, cli, one_error_line):
    """A real EACCES/EROFS from the kernel (skipped as root, which may write anywhere)."""
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        line = one_error_line(cli(["run", tiny, "--out", locked / "o"]))
    finally:
        locked.chmod(0o755)
    assert str(locked) in line and "Permission denied" in line, line
    assert list(locked.iterdir()) == []


# -- temporaries of killed writers ------------------------------------------------------------------------


def test_stale_temporaries_of_dead_runs_are_removed_and_live_ones_kept(tiny, tmp_path, capsys):
    tmp_path = tmp_path / "work"
    tmp_path.mkdir()
    out = tmp_path / "o"
    dead, alive = _dead_pid(), os.getppid()
    for name in (f".o.tmp-{dead}", f".o.old-{dead}", f".o.tmp-{alive}", f".other.tmp-{dead}"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "events.parquet").write_text("half")
    assert sim.cli.main(["run", str(tiny), "--quiet", "--out", str(out)]) == 0
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["o", f".o.tmp-{alive}", f".other.tmp-{dead}"]), left


def test_remove_stale_temporaries_matches_only_its_name(tmp_path):
    dead = _dead_pid()
    names = [f".x.tmp-{dead}", f".x.tmp-{dead}-0a1b2c3d", f".x.old-{dead}-0a1b2c3d", f".xy.tmp-{dead}",
             ".x.tmp-notapid", "x", f"x.tmp-{dead}"]
    for n in names:
        (tmp_path / n).write_text("")
    removed = {p.name for p in remove_stale_temporaries(tmp_path, "x")}
    assert removed == {f".x.tmp-{dead}", f".x.tmp-{dead}-0a1b2c3d", f".x.old-{dead}-0a1b2c3d"}


def test_stale_report_temporaries_are_removed(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert sim.cli.main(["run", str(tiny), "--quiet", "--out", str(out)]) == 0
    dead = _dead_pid()
    stale = out / f".report.html.tmp-{dead}"
    stale.write_text("<html>half a report")
    old_mkstemp = out / ".report.html.abcd1234.tmp"
    old_mkstemp.write_text("<html>half")
    hour_ago = time.time() - 7200
    os.utime(old_mkstemp, (hour_ago, hour_ago))
    fresh_mkstemp = out / ".report.html.wxyz9876.tmp"      # may be another report being written now
    fresh_mkstemp.write_text("<html>")
    capsys.readouterr()
    assert sim.cli.main(["report", str(out)]) == 0
    assert capsys.readouterr().out == f"{out / 'report.html'}\n"
    assert not stale.exists() and not old_mkstemp.exists() and fresh_mkstemp.exists()
    assert (out / "report.html").read_text().startswith("<!")

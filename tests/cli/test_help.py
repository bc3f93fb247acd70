"""Issue 16 item 9 and issue 15 item 3: sub-commands and help say what they do; the CLI starts fast.

- ``sweep check`` is a sub-command with its own ``--help``; a misspelt one is named as such.
- ``scenario show/check`` arguments have help text; ``scenario list`` lists the examples, marked.
- User-facing text spells "utilisation"; the metric columns keep ``utilization_*`` (the data
  contract) and the sweep's help says so.
- ``anjeon --help`` and ``anjeon scenario list`` import none of numba, scipy, pandas, pyarrow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import scenarios
import sim.cli
from tests.cli.conftest import ROOT

EXAMPLES = sorted((ROOT / "scenarios" / "examples").glob("*.yaml"))
HEAVY = ("numba", "scipy", "pandas", "pyarrow")


def _help(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        sim.cli.main([*argv, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def test_sweep_check_has_its_own_help(capsys):
    text = _help(["sweep", "check"], capsys)
    assert text.startswith("usage: anjeon sweep check FILE")
    assert "--workers" not in text and "--scheduler" not in text and "--resume" not in text
    assert "FILE" in text and "the experiment YAML file to check" in text
    sweep = _help(["sweep"], capsys)
    assert "anjeon sweep check FILE" in sweep and "--workers" in sweep


@pytest.mark.parametrize("word", ["chek", "chekc", "chck"])
def test_a_misspelt_subcommand_is_named(word, capsys):
    assert sim.cli.main(["sweep", word, "f"]) == 2
    err = capsys.readouterr().err
    assert err == f"anjeon: error: anjeon sweep: unknown subcommand {word!r}; did you mean 'check'?\n"


def test_sweep_check_needs_its_file(capsys):
    assert sim.cli.main(["sweep", "check"]) == 2
    assert "anjeon sweep check: the following arguments are required: FILE" in capsys.readouterr().err


def test_sweep_check_runs_as_a_subcommand(tmp_path, capsys):
    from tests.experiments.conftest import write_spec

    spec = write_spec(tmp_path / "s.yaml", scenarios=["mmc"], horizon="1 d", warmup=0, replications=3)
    assert sim.cli.main(["sweep", "check", str(spec)]) == 0
    assert capsys.readouterr().out.startswith("ok: t: 3 runs (1 configurations x 3 replications")
    assert list(tmp_path.iterdir()) == [spec]


def test_an_experiment_file_named_like_a_subcommand_still_runs_as_a_sweep(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("chek").write_text("name: [broken\n")
    assert sim.cli.main(["sweep", "chek", "--workers", "1"]) == 2
    assert "unknown subcommand" not in capsys.readouterr().err


def test_scenario_arguments_have_help(capsys):
    for action in ("show", "check"):
        text = _help(["scenario", action], capsys)
        assert "built-in scenario name" in text and "YAML path" in text, text


def test_scenario_list_includes_the_examples_marked(cli):
    proc = cli(["scenario", "list"])
    assert proc.returncode == 0 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    builtin = scenarios.builtin_names()
    assert [line.split()[0] for line in lines[:len(builtin)]] == builtin
    examples = lines[len(builtin):]
    assert len(examples) == len(EXAMPLES) >= 4
    for line, path in zip(examples, EXAMPLES, strict=True):
        assert line.split()[0] == str(path.relative_to(ROOT)) and "(example)" in line, line
        assert "(example)" not in " ".join(lines[:len(builtin)])
    ring = next(line for line in examples if "ring_city.yaml" in line)
    first_words = " ".join(scenarios.load(ROOT / "scenarios/examples/ring_city.yaml").description.split()[:4])
    assert first_words in ring, ring


def test_listed_example_paths_run_as_shown(cli, tmp_path):
    proc = cli(["scenario", "list"])
    path = next(line.split()[0] for line in proc.stdout.splitlines() if "(example)" in line)
    assert cli(["scenario", "check", path]).returncode == 0


def test_one_spelling_in_user_facing_text(tiny, tmp_path, capsys):
    assert sim.cli.main(["run", str(tiny), "--out", str(tmp_path / "o")]) == 0
    run_text = capsys.readouterr().out
    assert "utilisation" in run_text and "utilization" not in run_text
    helps = "".join(_help(argv, capsys) for argv in (["run"], ["report"], ["scenario", "check"]))
    assert "utilization" not in helps
    for argv in (["sweep"], ["sweep", "check"]):
        text = " ".join(_help(argv, capsys).split())
        assert "utilization_<type> (the data contract's spelling, kept as is)" in text


def test_sweep_help_fits_and_names_the_connect_timeout(capsys):
    text = _help(["sweep"], capsys)
    assert "--connect-timeout" in text and "default 5" in text


@pytest.mark.parametrize("argv", [["--help"], ["scenario", "list"], ["run", "--help"], ["sweep", "--help"],
                                  ["report", "--help"], ["sweep", "check", "--help"]])
def test_fast_start_imports_no_heavy_library(argv):
    code = ("import json, sys\n"
            "from sim.cli import main\n"
            "try:\n"
            f"    main({argv!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stderr.splitlines()[-1]) == [], proc.stderr

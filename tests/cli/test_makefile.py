"""Issue 16 items 8, 10 and 14: what ``make demo`` and ``make test`` do, read from ``make -n``.

``make demo`` installs the runtime dependencies only (``pip install -e .``), says that it is
installing, reruns without complaint (``--force``) and ends by saying how to open the report.
``make test`` installs the dev extra and runs ``make browser`` (Debian's chromium, a declared
set-up step) before pytest; no test fixture installs anything. Two stamps: runtime and dev.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest

from tests.cli.conftest import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _dry(target: str, tmp_path, **variables: str) -> list[str]:
    """``make -n TARGET`` for a fresh virtual environment under ``tmp_path`` (nothing is run)."""
    args = [f"{k}={v}" for k, v in {"VENV": str(tmp_path / "venv"), "PYTHON": "python3", **variables}.items()]
    proc = subprocess.run([MAKE, "-n", "--no-print-directory", "-C", str(ROOT), target, *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def _index(lines: list[str], pattern: str) -> int:
    hits = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert hits, (pattern, lines)
    return hits[0]


def test_demo_installs_the_runtime_only_and_says_so(tmp_path):
    lines = _dry("demo", tmp_path)
    pips = [line for line in lines if "pip install" in line]
    assert len(pips) == 1 and pips[0].rstrip().endswith("-e ."), pips
    assert not any("[dev]" in line or "-m pytest" in line or "apt-get" in line for line in lines if
                   not line.startswith("echo")), lines
    assert _index(lines, r"^echo .installing Anjeon") < _index(lines, "pip install")
    assert "--quiet" not in pips[0]                                # pip's progress shows
    assert any(re.search(r"touch .*venv/\.runtime-stamp", line) for line in lines)


def test_demo_reruns_and_says_how_to_open_the_report(tmp_path):
    lines = _dry("demo", tmp_path, DEMO_OUT="out/demo")
    run = lines[_index(lines, r"anjeon run ansan")]
    assert "--force" in run and "--out out/demo" in run            # rerunnable: replaces its earlier run
    report = _index(lines, r"anjeon report out/demo")
    tail = " ".join(lines[report + 1:])
    assert "out/demo/report.html" in tail and "open it in a browser" in tail and "xdg-open" in tail


def test_test_installs_the_dev_extra_and_the_browser_first(tmp_path):
    lines = _dry("test", tmp_path)
    runtime, dev = _index(lines, r"pip install .*-e \.$"), _index(lines, r'pip install .*-e "\.\[dev\]"')
    browser, pytest_ = _index(lines, r"chromium"), _index(lines, r"-m pytest")
    assert runtime < dev < pytest_ and browser < pytest_
    assert any(re.search(r"touch .*venv/\.dev-stamp", line) for line in lines)


def test_an_installed_venv_is_not_reinstalled(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    for stamp in (".runtime-stamp", ".dev-stamp"):
        (venv / stamp).touch()                                      # newer than pyproject.toml
    assert not any("pip install" in line for line in _dry("test", tmp_path) + _dry("demo", tmp_path))


def test_browser_target_says_what_it_does(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    run = [MAKE, "--no-print-directory", "-C", str(ROOT), "browser"]
    present = subprocess.run([*run, "CHROMIUM=/bin/sh"], capture_output=True, text=True, timeout=60)
    assert present.returncode == 0 and "/bin/sh is installed" in present.stdout, present
    missing = subprocess.run([*run, f"CHROMIUM={tmp_path}/chromium"], capture_output=True, text=True,
                             timeout=60, env={"PATH": str(empty)})
    assert missing.returncode == 0, missing.stderr                  # no apt-get: the browser tests skip
    assert "apt-get is unavailable" in missing.stderr and "browser tests will skip" in missing.stderr


def test_dev_tools_are_an_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    for tool in ("pytest", "hypothesis", "ruff", "playwright"):
        assert tool not in runtime
        assert any(d.startswith(tool) for d in project["optional-dependencies"]["dev"])


def test_no_fixture_installs_chromium():
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == "test_makefile.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""["']apt-get["']|["']playwright["'],\s*["']install["']""", text), path

"""Issue 16: every shell command shown in README.md and docs/*.md runs, as written.

The rule for what is a command:

- Every fenced code block names its language (```sh, ```text, ```yaml...); an unnamed fence is an
  error, so that a command cannot hide in a block this test does not read.
- In a ```sh, ```bash or ```shell block every line is a command, except blank lines and comment
  lines (``# ...``). A line ending in ``\\`` continues on the next. A trailing ``# comment`` is part
  of the command (bash ignores it). A ``$ `` prompt is not allowed there.
- In a ```console block the lines starting with ``$ `` are commands (prompt removed); the other
  lines are their output, shown and not checked.
- Output and transcripts that must not run go in ```text blocks; commands written inline in prose
  (single backticks) are not run.

Each page's commands run in page order (a later command may read what an earlier one wrote), each
with ``bash -c`` exactly as written, in a fresh directory that looks like the repository (its
source, docs, scenarios and experiments linked in, ``.venv`` too) with the ``.venv/bin`` of this
checkout first on ``PATH`` and ``HOME`` pointing into the temporary directory (``~`` in a command
stays there). Each must exit 0. What a command says it writes is checked too: ``anjeon run`` and
``anjeon sweep`` their ``--out`` directory (or the default ``out/<name>``), ``anjeon report`` its
``report.html`` (or its ``-o`` file). Each command runs in a session of its own: what a command
ending in ``&`` starts (a Dask scheduler, a worker) runs until the page is done and is then stopped.

The few commands that must not run as written are in :data:`EXCEPTIONS`, each with its reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell"}
CONSOLE = {"console"}
#: What the temporary working directory links from the checkout.
LINKED = ("scenarios", "experiments", "docs", "benchmarks", "agents", "sim", "analysis", "tests",
          "pyproject.toml", "Makefile", "README.md", ".venv")
TIMEOUT_S = 300
#: What a make target shown in the docs writes (README: "writes out/demo/report.html").
MAKE_OUTPUTS = {"demo": ["out/demo/report.html"]}

#: Commands run differently from how the docs write them: command -> (what runs instead, reason).
EXCEPTIONS: dict[str, tuple[str, str]] = {
    "make demo": (
        "make -o .venv/.runtime-stamp demo",
        "the demo as written, with the linked .venv's install step counted as done (-o): installing "
        "needs the network and a minute, and tests/cli/test_makefile.py checks what it installs"),
    "make test": (
        "make -n test",
        "it runs this test suite (and installs chromium): a dry run checks that the target resolves; "
        "tests/cli/test_makefile.py checks what it does"),
}


@dataclass(frozen=True)
class Command:
    """One shell command of a page: where it is written and its text as written."""

    page: str
    line: int
    text: str


def _fences(lines: list[str]):
    """Yield (language, first line number, body lines) for each fenced block of a Markdown page."""
    start = None
    for number, line in enumerate(lines, 1):
        if not line.startswith("```"):
            continue
        if start is None:
            start, language = number, line[3:].strip().split(" ")[0]
        else:
            yield language, start, lines[start:number - 1]
            start = None
    if start is not None:
        yield "unclosed", start, []


def _commands(block: list[str], language: str, first: int, page: str) -> list[Command]:
    """The commands of one shell or console block (see the module docstring for the rule)."""
    found: list[Command] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(block, first + 1):
        if pending is not None:
            line, number = pending[1] + "\n" + line, pending[0]
            pending = None
        elif language in CONSOLE:
            if not line.startswith("$ "):
                continue                                    # output
            line = line[2:]
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        else:
            assert not line.startswith("$ "), f"{page}:{number}: a prompt in a ```{language} block"
        if line.endswith("\\"):
            pending = (number, line)
            continue
        found.append(Command(page, number, line))
    assert pending is None, f"{page}:{pending[0]}: the block ends in a continuation"
    return found


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def page_commands(path: Path) -> list[Command]:
    """Every command of a page, in order (fences without a language are refused by a test below)."""
    page = str(path.relative_to(ROOT))
    commands: list[Command] = []
    for language, start, body in _fences(_lines(path)):
        if language in SHELL | CONSOLE:
            commands += _commands(body, language, start, page)
    return commands


def _code(text: str) -> str:
    """A one-line command without its trailing comment (the key of :data:`EXCEPTIONS`)."""
    return text.split("#")[0].strip()


def _words(text: str) -> list[str]:
    return shlex.split(text, comments=True)


def _option(words: list[str], *names: str) -> str | None:
    for i, word in enumerate(words[:-1]):
        if word in names:
            return words[i + 1]
    return None


def expected_outputs(text: str, home: Path) -> list[str]:
    """Files a command of the docs says it writes (relative to the working directory)."""
    words = [w for w in _words(text) if "=" not in w or w.startswith("-")]   # drop VAR=value
    if words[:1] == ["make"]:
        return [out for target in words[1:] for out in MAKE_OUTPUTS.get(target, [])]
    if "anjeon" not in words:
        return []
    words = words[words.index("anjeon"):]
    if words[1:3] == ["sweep", "check"] or len(words) < 3:
        return []
    out = _option(words, "--out")
    if words[1] == "run":
        return [f"{out or 'out/' + Path(words[2]).stem}/run.json"]
    if words[1] == "sweep":
        return [f"{out or 'out/sweeps/' + Path(words[2]).stem}/summary.parquet"]
    if words[1] == "report":
        report = _option(words, "-o", "--output") or f"{words[2]}/report.html"
        return [str(home / report[2:]) if report.startswith("~/") else report]
    return []


def _workdir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work, home = tmp_path / "repo", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    for name in LINKED:
        (work / name).symlink_to(ROOT / name)
    path = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "HOME": str(home), "PATH": path}
    env.pop("PYTHONPATH", None)
    return work, env


def _ports_taken(commands: list[Command]) -> list[int]:
    """Ports that a background command of the page would listen on but another process holds."""
    taken = []
    for command in commands:
        if not _code(command.text).endswith("&"):
            continue
        for port in re.findall(r"--port (\d+)", command.text):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", int(port))) == 0:
                    taken.append(int(port))
    return taken


def _left_running(session: int) -> list[psutil.Process]:
    """The processes still running in a command's session (what it started in the background)."""
    left = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session:
                left.append(process)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return left


def _stop(processes: list[psutil.Process]) -> None:
    """Terminate, then kill, processes that this test started (psutil checks that a pid is not reused)."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=5)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()


def _run(command: Command, work: Path, env: dict[str, str], log: Path) -> tuple[int, list[psutil.Process]]:
    """Run one command with bash -c in its own session in ``work``; returns (exit code, what it left)."""
    text = EXCEPTIONS.get(_code(command.text), (command.text, ""))[0]
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", "-c", text], cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _stop([psutil.Process(proc.pid), *_left_running(proc.pid)])
            code = proc.wait()
    return code, _left_running(proc.pid)


@pytest.mark.parametrize("path", [p for p in PAGES if page_commands(p)], ids=lambda p: p.name)
def test_every_command_of_the_page_runs(path, tmp_path):
    commands = page_commands(path)
    if taken := _ports_taken(commands):
        pytest.skip(f"port {taken} is in use here (another Dask scheduler?): the page's server cannot start")
    work, env = _workdir(tmp_path)
    background: list[psutil.Process] = []
    try:
        for k, command in enumerate(commands):
            log = tmp_path / f"command-{k}.log"
            code, left = _run(command, work, env, log)
            background += left
            where = f"{command.page}:{command.line}: {command.text}"
            assert code == 0, f"{where}\nexit code {code}\n{log.read_text()[-4000:]}"
            for output in expected_outputs(command.text, tmp_path / "home"):
                assert (work / output).exists(), f"{where}\ndid not write {output}\n{log.read_text()[-2000:]}"
    finally:
        _stop(background)


def test_the_rule_finds_the_commands_it_should():
    page = ROOT / "README.md"
    assert [_code(c.text) for c in page_commands(page)] == ["make demo", "make test"]
    block = ["anjeon run x \\", "  --days 2   # two", "", "# a comment", "ls"]
    assert [(c.line, c.text) for c in _commands(block, "sh", 10, "p")] == [
        (11, "anjeon run x \\\n  --days 2   # two"), (15, "ls")]
    console = ["$ anjeon scenario check bad.yaml", "anjeon: error: ...", "$ echo $?", "2"]
    assert [c.text for c in _commands(console, "console", 1, "p")] == [
        "anjeon scenario check bad.yaml", "echo $?"]
    with pytest.raises(AssertionError, match="prompt"):
        _commands(["$ ls"], "sh", 1, "p")


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_fence_names_its_language(path):
    unnamed = [start for language, start, _ in _fences(_lines(path)) if not language]
    assert not unnamed, f"{path.name}: fences without a language at lines {unnamed} (```text for output)"
    assert all(language != "unclosed" for language, _, _ in _fences(_lines(path))), "an unclosed fence"


def test_every_exception_is_still_in_the_docs():
    written = {_code(c.text) for p in PAGES for c in page_commands(p)}
    assert set(EXCEPTIONS) <= written, set(EXCEPTIONS) - written


def test_outputs_are_derived_from_the_command():
    home = Path("/h")
    assert expected_outputs("anjeon run ansan --days 2 --out out/a   # x", home) == ["out/a/run.json"]
    two_towns = "anjeon run scenarios/examples/two_towns.yaml"
    assert expected_outputs(two_towns, home) == ["out/two_towns/run.json"]
    assert expected_outputs("anjeon sweep check e.yaml", home) == []
    assert expected_outputs("make demo   # writes", home) == ["out/demo/report.html"]
    assert expected_outputs("anjeon report out/a -o /tmp/r.html", home) == ["/tmp/r.html"]
    assert expected_outputs("PYTHONPATH=docs anjeon report out/s", home) == ["out/s/report.html"]
    assert expected_outputs("anjeon report d -o ~/x.html", home) == ["/h/x.html"]

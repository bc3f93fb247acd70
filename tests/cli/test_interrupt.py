"""Issue 16 item 16: Ctrl-C during a long ``anjeon run`` exits 130 with one line and writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import ROOT


def test_ctrl_c_during_a_long_run(tmp_path):
    out = tmp_path / "o"
    # about 15 s of simulation on the development machine: certainly still running when interrupted
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "ansan", "--days", "2000", "--out",
                             str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)  # as from a shell, whatever the test runner set
    try:
        _wait_for_cpu(proc.pid, 4.0)                    # imports (~1.5 s of CPU) done, the run under way
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (proc.returncode, stdout, stderr)
    assert stdout == ""
    assert stderr.startswith("anjeon: interrupted") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []              # no output directory, no temporary


def _default_sigint() -> None:
    """In the child: Ctrl-C acts as from a shell (its default action, which Python makes KeyboardInterrupt).

    A disposition of SIG_IGN would be inherited from the test process otherwise, and Python keeps it.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_cpu(pid: int, seconds: float, limit_s: float = 120.0) -> None:
    """Wait until process ``pid`` has used ``seconds`` of CPU (not wall time: a loaded machine is slow)."""
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return  # gone: the caller's poll() says so
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:
            return
        time.sleep(0.1)

"""Issue 16 item 16: Ctrl-C during a long ``anjeon run`` exits 130 with one line and writes nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.cli.conftest import ROOT


def test_ctrl_c_during_a_long_run(tmp_path):
    out = tmp_path / "o"
    # about 15 s of simulation on the development machine: certainly still running when interrupted
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "ansan", "--days", "2000", "--out",
                             str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4)                                   # imports done, the run under way
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert stdout == ""
    assert stderr.startswith("anjeon: interrupted") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []              # no output directory, no temporary

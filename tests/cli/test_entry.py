"""The ``anjeon`` entry point: a Ctrl-C while the command line still loads ends with one line, exit 130."""

from __future__ import annotations

import subprocess
import sys

INTERRUPTED_WHILE_LOADING = """
import sys

class Interrupt:  # a Ctrl-C arriving while sim.cli is imported
    def find_spec(self, name, path=None, target=None):
        if name == "sim.cli":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupt())
from sim.entry import main
sys.exit(main())
"""


def test_ctrl_c_while_loading_gives_one_line_and_130():
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_WHILE_LOADING], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 130
    assert done.stderr.strip().splitlines() == ["anjeon: interrupted (nothing was written)"]
    assert done.stdout == ""


def test_the_entry_point_runs_the_command_line():
    done = subprocess.run([sys.executable, "-c", "import sys; from sim.entry import main; "
                           "sys.argv = ['anjeon', 'scenario', 'list']; sys.exit(main())"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.splitlines()[0].startswith("ansan ")

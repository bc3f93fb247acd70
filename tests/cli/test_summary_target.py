"""The run summary names the target it measures against (issue #16, item 6)."""

from __future__ import annotations

import sim
import sim.cli
from analysis.metrics import measured, summarize


def test_summary_rows_carry_the_targets_of_their_incidents():
    result = sim.run("ansan", seed=4, days=3)
    rows = summarize(result.incidents, result.units)["by_priority"]
    inc = measured(result.incidents)
    for row in rows:
        targets = inc.loc[inc["priority"] == row["priority"], "target_min"]
        assert (row["target_min_low"], row["target_min_high"]) == (targets.min(), targets.max())
    # ansan: priority 1 targets differ by incident type, priority 3 has one
    assert sim.cli._target(rows[0]) == "7-10" and sim.cli._target(rows[2]) == "20"
    assert sim.cli._target({"priority": "all"}) == "by type"


def test_cli_summary_prints_the_target_column(capsys):
    result = sim.run("ansan", seed=4, days=3)
    result.summary()
    sim.cli.print_summary(result.meta)
    out = capsys.readouterr().out
    assert "target" in out and "7-10" in out and "by type" in out

"""The citizens section's lines run to the table's end: a channel of one row (an alert) is drawn too."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.extras import _held_to_end, _lines

pytestmark = pytest.mark.nojit


def test_each_line_is_held_to_the_last_time():
    wa = pd.DataFrame({"t_min": [845.0, 850.0, 851.0, 852.0, 900.0],
                       "reached_so_far": [81, 42533, 380, 732, 900],
                       "channel": ["cue", "alert", "neighbours", "neighbours", "neighbours"]})
    fig = _lines(_held_to_end(wa, "channel"), "channel", ["reached_so_far"], "people reached")
    lines = {t.name: (list(t.x), list(t.y)) for t in fig.data}
    assert lines == {"alert": ([850.0, 900.0], [42533, 42533]), "cue": ([845.0, 900.0], [81, 81]),
                     "neighbours": ([851.0, 852.0, 900.0], [380, 732, 900])}


def test_a_table_ending_together_is_unchanged():
    sh = pd.DataFrame({"t_min": [0.0, 10.0, 0.0, 10.0], "shelter": ["a", "a", "b", "b"],
                       "occupancy": [0, 5, 0, 7]})
    assert _held_to_end(sh, "shelter") is sh

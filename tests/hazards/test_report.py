"""The footprint maps colour a level alike in every snapshot panel (one scale per hazard)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.extras import hazards

pytestmark = pytest.mark.nojit


class _Run:
    """A run directory's tables, in memory."""

    def __init__(self, **tables: pd.DataFrame):
        self.tables = tables

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


class _Box:
    """Keeps the figures instead of embedding them."""

    def __init__(self):
        self.figures = []

    def embed(self, fig, what: str) -> str:
        self.figures.append(fig)
        return ""


def test_each_hazard_has_one_colour_scale_over_the_snapshots():
    # the fire is burning (1) and burnt (2) at 60 min, all burnt (2) at 120 min; the flood 0.2 to 0.9 m
    fp = pd.DataFrame({"hazard": ["fire"] * 3 + ["flood"] * 2, "t_min": [60.0, 60.0, 120.0, 60.0, 120.0],
                       "x_km": [1.0, 1.5, 1.5, 3.0, 3.0], "y_km": [1.0, 1.0, 1.0, 3.0, 3.0],
                       "cell_km": [0.5] * 5, "value": [1.0, 2.0, 2.0, 0.2, 0.9]})
    box = _Box()
    assert hazards(_Run(footprints=fp), box) is not None
    (fig,) = box.figures
    scales = {(t.name, t.xaxis): (t.marker.cmin, t.marker.cmax) for t in fig.data}
    assert scales == {("fire", "x"): (1.0, 2.0), ("fire", "x2"): (1.0, 2.0),
                      ("flood", "x"): (0.2, 0.9), ("flood", "x2"): (0.2, 0.9)}

"""flood_step / _flood_kernel: routing against the whole-grid reference, conservation, the active front."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels.flood import Basin, flood_step, valley_terrain
from tests.reference import naive_flood

pytestmark = pytest.mark.nojit

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def basins(draw):
    """A small random terrain with water in some cells, and a scheme's settings."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ny, nx = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    z = rng.normal(0.0, draw(st.sampled_from([0.0, 0.1, 1.0])), (ny, nx))
    h_min = draw(st.sampled_from([0.0, 1e-3, 0.05]))
    basin = Basin(z, h_min)
    wet = rng.random((ny, nx)) < draw(st.sampled_from([0.1, 0.5, 1.0]))
    basin.add_depth(None, 0.0)
    basin.add_depth(np.flatnonzero(wet), rng.random(int(wet.sum())) * 0.5)
    return dict(basin=basin, alpha=draw(st.sampled_from([0.1, 0.25, 0.5])), edge=draw(st.booleans()),
                steps=draw(st.integers(1, 8)))


@SETTINGS
@given(basins())
def test_matches_reference(case):
    basin = case["basin"]
    h = basin.h.copy()
    for _ in range(case["steps"]):
        h, ref_out = naive_flood.step(basin.z, h, case["alpha"], basin.h_min, case["edge"])
        out = flood_step(basin, case["alpha"], case["edge"])
        npt.assert_allclose(basin.h, h, rtol=0, atol=1e-15)       # same sums in the same order
        assert out == pytest.approx(ref_out, rel=1e-12, abs=1e-15)
        npt.assert_array_equal(basin.active, np.flatnonzero(basin.h.ravel() > basin.h_min))


@SETTINGS
@given(basins())
def test_volume_is_conserved_apart_from_outflow(case):
    basin = case["basin"]
    start = basin.h.sum()
    gone = 0.0
    for _ in range(case["steps"]):
        gone += flood_step(basin, case["alpha"], case["edge"])
        assert (basin.h >= 0).all()
        assert basin.h.sum() + gone == pytest.approx(start, rel=1e-12, abs=1e-12)
    if not case["edge"]:
        assert gone == 0.0


def test_water_runs_downhill_and_pools_in_the_valley():
    z = valley_terrain((20, 21), 0.1, 1.0, 3.0, 10.0, 0.2)
    basin = Basin(z, 1e-4)
    basin.add_depth(None, 0.02)                       # 20 mm of excess rain everywhere
    for _ in range(400):
        flood_step(basin, 0.25, edge_outflow=False)
    assert basin.h[:, 10].mean() > 10 * basin.h[:, 0].mean()  # the valley floor holds the water
    assert basin.h[0, 10] == basin.h.max() or basin.h[0, 9:12].max() == basin.h.max()  # lowest end


def test_still_water_on_flat_ground_does_not_move():
    basin = Basin(np.zeros((5, 5)))
    basin.add_depth(None, 0.3)
    flood_step(basin, 0.5, edge_outflow=False)
    npt.assert_array_equal(basin.h, 0.3)


def test_one_step_by_hand():
    """Two cells, flat ground, walls: the wet one gives alpha x the difference."""
    basin = Basin(np.zeros((1, 2)), 0.0)
    basin.add_depth(np.array([0]), 1.0)
    assert flood_step(basin, 0.25, edge_outflow=False) == 0.0
    npt.assert_array_equal(basin.h, [[0.75, 0.25]])
    # open edges: outside neighbours sit at the cell's own ground (d = its depth)
    basin = Basin(np.zeros((1, 2)), 0.0)
    basin.add_depth(np.array([0, 1]), np.array([0.75, 0.25]))
    out = flood_step(basin, 0.25, edge_outflow=True)
    give0 = 0.25 * 0.75                   # cell 0: N, W, S outside (d = 0.75), E lower by 0.5; dsum 2.75
    give1 = 0.25 * 0.25                   # cell 1: N, E, S outside (d = 0.25), W higher
    assert out == pytest.approx(give0 * 2.25 / 2.75 + give1, rel=1e-15)
    npt.assert_allclose(basin.h, [[0.75 - give0, 0.25 - give1 + give0 * 0.5 / 2.75]], rtol=1e-15)


def test_cost_follows_the_wet_cells():
    """Water in one corner of a large dry grid: the active list stays small."""
    z = np.tile(np.arange(300, dtype=float)[None, :] * 0.01, (300, 1))   # slopes up towards the east
    basin = Basin(z, 1e-3)
    basin.add_depth(np.array([0]), 1.0)
    for _ in range(20):
        flood_step(basin, 0.25)
        assert basin.n <= 21 * 21
    assert basin.h.ravel()[basin.active].min() > 1e-3


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="terrain"):
        Basin(np.zeros(4))
    with pytest.raises(ValueError, match="terrain"):
        Basin(np.array([[0.0, np.nan]]))
    basin = Basin(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=">= 0"):
        basin.add_depth(None, -1.0)
    with pytest.raises(ValueError, match="outside"):
        basin.add_depth(np.array([4]), 1.0)
    with pytest.raises(ValueError, match="flow_fraction"):
        flood_step(basin, 0.6)


def test_jit_and_python_bodies_agree():
    from sim.kernels.flood import _flood_kernel

    py = getattr(_flood_kernel, "py_func", _flood_kernel)
    rng = np.random.default_rng(3)
    z = rng.normal(0, 0.5, (12, 10))
    a, b = Basin(z), Basin(z)
    for basin in (a, b):
        basin.add_depth(None, 0.1)
    for _ in range(5):
        flood_step(a, 0.3)
        n, _ = py(b.z, b.h, b.cells, b.n, 0.3, b.h_min, True, b._gain, b._loss, b._touched, b._mark)
        b.n = n
        npt.assert_allclose(a.h, b.h, rtol=0, atol=1e-15)
        npt.assert_array_equal(a.active, b.active)


def test_still_water_finds_its_level():
    """Water poured into one end of a closed trough spreads until its surface is flat (and stays put)."""
    z = np.zeros((3, 12))
    z[:, 6:] = -0.2                                   # a step down halfway
    basin = Basin(z, 1e-6)
    basin.add_depth(np.array([0, 12, 24]), 2.4)       # 7.2 m of depth in the west column
    for _ in range(1500):
        flood_step(basin, 0.25, edge_outflow=False)
    surface = z + basin.h
    level = (7.2 - 0.2 * 18) / 36                     # 36 level - sum(z) = 7.2: level 0.1 m
    np.testing.assert_allclose(surface, level, atol=1e-4)
    assert basin.h.sum() == pytest.approx(7.2, rel=1e-12)

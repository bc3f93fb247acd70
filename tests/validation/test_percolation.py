"""Fire spread against percolation theory on the square lattice.

With ``burn_steps = 1`` every burning cell tries each neighbour exactly once,
so the set a fire lit at one cell finally burns is that cell's cluster in
*bond* percolation with bond probability ``p_spread`` (the SIR epidemic with a
fixed infectious period). On a full-fuel grid it reaches the border of an
L x L grid with a probability that jumps from near 0 to near 1 around the
bond threshold p_c = 1/2 as L grows. With ``p_spread = 1`` and fuel at
density ``q``, the burnt set is the *site* percolation cluster of the
ignition cell (threshold q_c ~= 0.5927).

Measured with this kernel (400 fires each): border reached at L = 64 with
p = 0.35 / 0.45 / 0.50 / 0.55 / 0.65: 0.00 / 0.07 / 0.63 / 0.86 / 0.97;
at L = 128: 0.00 / 0.01 / 0.59 / 0.86 / 0.97.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.kernels.fire import BURNING, FUEL, Front, spread_step

SEED = 20261112
NO_WIND = np.ones((3, 3), dtype=np.float32)


def reaches_border(grid: np.ndarray, p_spread: float, rng: np.random.Generator) -> bool:
    """Light the centre cell of ``grid``, burn until the front is empty; whether a border cell burnt."""
    ny, nx = grid.shape
    front = Front(grid)
    front.ignite([(ny // 2) * nx + nx // 2])
    mask = np.zeros(grid.shape, dtype=np.bool_)
    while front.n:
        spread_step(front, p_spread, NO_WIND, 1, mask, rng.random(front.n * 4), 4)
    hit = front.state >= BURNING
    return bool(hit[0].any() or hit[-1].any() or hit[:, 0].any() or hit[:, -1].any())


def bond_share(size: int, p_spread: float, fires: int) -> float:
    """Share of ``fires`` fires on a full size x size grid that reach its border."""
    full = np.full((size, size), FUEL, dtype=np.int8)
    return float(np.mean([reaches_border(full, p_spread, np.random.default_rng([SEED, size, k]))
                          for k in range(fires)]))


def site_share(size: int, density: float, fires: int) -> float:
    """Share of fires with p_spread = 1 on grids with fuel at ``density`` that reach the border."""
    hits = []
    for k in range(fires):
        rng = np.random.default_rng([SEED, size, k, 1])
        grid = (rng.random((size, size)) < density).astype(np.int8)
        grid[size // 2, size // 2] = FUEL
        hits.append(reaches_border(grid, 1.0, rng))
    return float(np.mean(hits))


def test_bond_threshold_near_one_half():
    assert bond_share(64, 0.35, 200) < 0.2
    assert bond_share(64, 0.65, 200) > 0.8


def test_site_threshold_near_0_593():
    assert site_share(64, 0.45, 150) < 0.2
    assert site_share(64, 0.75, 150) > 0.8


@pytest.mark.slow
def test_bond_transition_sharpens_with_size():
    """Below p_c the border gets rarer as L grows, above it stays likely; at p_c it is neither."""
    small_low, big_low = bond_share(64, 0.45, 600), bond_share(256, 0.45, 600)
    small_high, big_high = bond_share(64, 0.55, 600), bond_share(256, 0.55, 600)
    assert big_low < small_low < 0.15
    assert big_high > 0.75 and small_high > 0.75
    assert 0.3 < bond_share(128, 0.5, 600) < 0.8

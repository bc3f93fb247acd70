"""numba kernels: pure functions of arrays, each with a plain-Python reference in tests/reference/."""

import numpy as np

from sim.kernels.fire import Front, spread_step, wind_bias
from sim.kernels.geometry import points_in_polygon
from sim.kernels.sampling import categorical
from sim.kernels.select import choose_units, select_k

__all__ = ["Front", "categorical", "choose_units", "points_in_polygon", "select_k", "spread_step", "warm",
           "wind_bias"]


def warm() -> None:
    """Compile, or load from numba's on-disk cache, every kernel for the types the engine passes.

    A sweep calls this in its client before workers start, so that no worker
    compiles a kernel cold (a run with ``nearest`` alone never calls
    ``select_k``, and road and matrix geographies pass float32 and float64
    travel rows to the choice kernel).
    """
    select_k(np.zeros(1, dtype=np.int64), np.zeros(1), 1)
    from sim.kernels.citizens import warm as warm_citizens  # its own list: many kernels, many types
    warm_citizens()
    categorical(np.ones((1, 2)), np.zeros(1, dtype=np.int64), np.zeros(1))
    points_in_polygon(np.zeros(1), np.zeros(1), np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]))
    front = Front(np.ones((2, 2), dtype=np.int8))
    front.ignite(np.array([0], dtype=np.int32))
    for neighbourhood in (4, 8):
        spread_step(front, 0.0, wind_bias(0.0, 0.0), 1, np.zeros((2, 2), dtype=np.bool_),
                    np.ones(front.n * neighbourhood), neighbourhood)
    _warm_hazards()
    one = np.zeros(1, dtype=np.int64)
    for dtype in (np.float32, np.float64):
        choose_units(one, np.zeros(1, dtype=np.int8), np.ones(1, dtype=np.bool_), one, one,
                     np.zeros((1, 1), dtype=dtype), 0, np.ones(1), np.zeros(1), one, 1)


def _warm_hazards() -> None:
    """Compile or load the flood, plume and quake kernels (sim.kernels.flood, plume, quake)."""
    from sim.kernels.flood import Basin, flood_step
    from sim.kernels.plume import Plume, coefficients, plume_step
    from sim.kernels.quake import damage_probabilities, intensity

    basin = Basin(np.zeros((2, 2)))
    basin.add_depth(None, 0.01)
    flood_step(basin, 0.25)
    plume_step(Plume((2, 2), (0.0, 0.0), 10.0), (0.0, 0.0), 1.0, 0.0, 1.0, 45.0, coefficients("D", "urban"),
               0.0, 100.0)
    mmi = intensity((1, 1), (0.0, 0.0), 1.0, (0.0, 0.0), 10.0, 6.0)
    damage_probabilities(mmi, np.zeros(1, dtype=np.int64), np.array([[0.1, 0.2, 0.3, 0.4]]), np.array([0.6]))

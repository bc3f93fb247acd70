"""numba kernels: pure functions of arrays, each with a plain-Python reference in tests/reference/."""

import numpy as np

from sim.kernels.geometry import points_in_polygon
from sim.kernels.sampling import categorical
from sim.kernels.select import choose_units, select_k

__all__ = ["categorical", "choose_units", "points_in_polygon", "select_k", "warm"]


def warm() -> None:
    """Compile, or load from numba's on-disk cache, every kernel for the types the engine passes.

    A sweep calls this in its client before workers start, so that no worker
    compiles a kernel cold (a run with ``nearest`` alone never calls
    ``select_k``, and road and matrix geographies pass float32 and float64
    travel rows to the choice kernel).
    """
    select_k(np.zeros(1, dtype=np.int64), np.zeros(1), 1)
    categorical(np.ones((1, 2)), np.zeros(1, dtype=np.int64), np.zeros(1))
    points_in_polygon(np.zeros(1), np.zeros(1), np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]))
    one = np.zeros(1, dtype=np.int64)
    for dtype in (np.float32, np.float64):
        choose_units(one, np.zeros(1, dtype=np.int8), np.ones(1, dtype=np.bool_), one, one,
                     np.zeros((1, 1), dtype=dtype), 0, np.ones(1), np.zeros(1), one, 1)

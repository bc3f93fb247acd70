"""numba kernels: pure functions of arrays, each with a plain-Python reference in tests/reference/."""

from sim.kernels.geometry import points_in_polygon
from sim.kernels.sampling import categorical
from sim.kernels.select import choose_units, select_k

__all__ = ["categorical", "choose_units", "points_in_polygon", "select_k"]

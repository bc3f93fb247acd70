"""Reference for sim.kernels.plume: the Gaussian-plume formula at every cell of the grid, O(grid).

Written from the formula (Turner 1994, eq. 3.4 at z = 0; Briggs 1973 sigmas), not from the kernel.
"""

from __future__ import annotations

import math

import numpy as np


def sigma(x_m: float, a: float, b: float, p: float) -> float:
    """Briggs' ``sigma = a x (1 + b x)^p``, m."""
    return a * x_m * (1.0 + b * x_m) ** p


def ground_mg_m3(x_m: float, y_m: float, q_gs: float, h_m: float, u_ms: float, coef) -> float:
    """Ground-level concentration (mg/m3) at ``x_m`` downwind and ``y_m`` crosswind; 0 upwind."""
    if x_m <= 0:
        return 0.0
    sy, sz = sigma(x_m, *coef[:3]), sigma(x_m, *coef[3:])
    g_m3 = (q_gs / (math.pi * u_ms * sy * sz) * math.exp(-y_m ** 2 / (2 * sy ** 2))
            * math.exp(-h_m ** 2 / (2 * sz ** 2)))
    return 1000.0 * g_m3


def field(shape, origin_m, cell_m, src_m, q_gs, h_m, u_ms, direction_deg, coef, x_from_m, x_to_m,
          x_min_m=10.0, n_sigma=4.0) -> np.ndarray:
    """The plume on the whole grid with the kernel's cut-offs (window along the axis, n_sigma, x_min)."""
    ny, nx = shape
    theta = math.radians(direction_deg)
    ex, ey = math.sin(theta), math.cos(theta)
    out = np.zeros(shape)
    if q_gs == 0:
        return out
    for i in range(ny):
        for j in range(nx):
            cx = origin_m[0] + (j + 0.5) * cell_m - src_m[0]
            cy = origin_m[1] + (i + 0.5) * cell_m - src_m[1]
            x = cx * ex + cy * ey
            y = cy * ex - cx * ey
            if not (x > 0 and x_from_m <= x <= x_to_m):
                continue
            xe = max(x, x_min_m)
            if abs(y) > n_sigma * sigma(xe, *coef[:3]):
                continue
            out[i, j] = ground_mg_m3(xe, y, q_gs, h_m, u_ms, coef)
    return out

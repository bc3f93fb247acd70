"""Gaussian plume from a continuous point release: ground-level concentration on a grid.

Ground-level concentration (z = 0, with reflection at the ground) of a
release of ``q`` g/s at height ``H`` m in a wind of ``u`` m/s, at ``x`` m
downwind and ``y`` m crosswind (e.g. Turner 1994, *Workbook of Atmospheric
Dispersion Estimates*, eq. 3.4 with z = 0):

    C(x, y) = q / (pi u sigma_y sigma_z) exp(-y^2 / (2 sigma_y^2)) exp(-H^2 / (2 sigma_z^2))

in g/m3 (the kernel returns mg/m3). The dispersion coefficients are
Briggs' (1973) formulas for Pasquill-Gifford stability classes A-F, as
tabulated by Hanna, Briggs and Hosker (1982, *Handbook on Atmospheric
Diffusion*, table 4.5), for open country (:data:`RURAL`) and for cities
(:data:`URBAN`, from the McElroy-Pooler St. Louis data):

    sigma = a x (1 + b x)^p     (x in m, meant for 100 m < x < 10 km)

Time: the plume is quasi-steady (each step's wind gives the whole plume at
once), but it reaches only as far as the air has travelled since the
release began (``x <= u * (t - t_start)``) and, after the release stops,
only from where its tail has got to (``x >= u * (t - t_stop)``). Downwind
distances below ``x_min_m`` are taken as ``x_min_m`` (the formula diverges at
the source), and cells beyond ``n_sigma`` crosswind standard deviations get
0: so a step computes only the cells of the plume's bounding box, its cost
follows the plume, not the grid.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.kernels._config import FASTMATH

CLASSES = "ABCDEF"
# rows A..F; columns a_y, b_y, p_y, a_z, b_z, p_z of sigma = a x (1 + b x)^p (x and sigma in m)
#: Briggs (1973) open-country (rural) coefficients
RURAL = np.array([
    [0.22, 1e-4, -0.5, 0.20, 0.0, 0.0],
    [0.16, 1e-4, -0.5, 0.12, 0.0, 0.0],
    [0.11, 1e-4, -0.5, 0.08, 2e-4, -0.5],
    [0.08, 1e-4, -0.5, 0.06, 1.5e-3, -0.5],
    [0.06, 1e-4, -0.5, 0.03, 3e-4, -1.0],
    [0.04, 1e-4, -0.5, 0.016, 3e-4, -1.0],
])
#: Briggs (1973) urban coefficients (A and B share a row, so do E and F)
URBAN = np.array([
    [0.32, 4e-4, -0.5, 0.24, 1e-3, 0.5],
    [0.32, 4e-4, -0.5, 0.24, 1e-3, 0.5],
    [0.22, 4e-4, -0.5, 0.20, 0.0, 0.0],
    [0.16, 4e-4, -0.5, 0.14, 3e-4, -0.5],
    [0.11, 4e-4, -0.5, 0.08, 1.5e-3, -0.5],
    [0.11, 4e-4, -0.5, 0.08, 1.5e-3, -0.5],
])


def coefficients(stability: str, terrain: str) -> np.ndarray:
    """The six sigma coefficients of a stability class, float64[6].

    Parameters
    ----------
    stability : str
        Pasquill-Gifford class, one of ``A``-``F``.
    terrain : {"rural", "urban"}

    Raises
    ------
    ValueError
        On an unknown class or terrain.
    """
    if stability not in CLASSES or len(stability) != 1:
        raise ValueError(f"stability must be one of A-F, got {stability!r}")
    if terrain not in ("rural", "urban"):
        raise ValueError(f"terrain must be 'rural' or 'urban', got {terrain!r}")
    return (RURAL if terrain == "rural" else URBAN)[CLASSES.index(stability)].copy()


@njit(cache=True, fastmath=FASTMATH)
def _sigma(x, a, b, p):
    return a * x * (1.0 + b * x) ** p


@njit(cache=True, fastmath=FASTMATH)
def _plume_kernel(conc, i0, i1, j0, j1, origin_x_m, origin_y_m, cell_m, src_x_m, src_y_m, q_gs, h_m, u_ms,
                  ex, ey, coef, x_from_m, x_to_m, x_min_m, n_sigma, threshold):
    """Fill ``conc[i0:i1, j0:j1]`` (mg/m3) with the plume. Mutates ``conc``.

    conc : float64[ny, nx]; (ex, ey) the unit vector the wind blows towards; coef : float64[6].
    Cells downwind in [x_from_m, x_to_m] and within ``n_sigma`` sigma_y of the axis get the formula,
    others in the box 0. Returns the number of cells at or above ``threshold``.
    """
    n_above = 0
    for i in range(i0, i1):
        cy = origin_y_m + (i + 0.5) * cell_m - src_y_m
        for j in range(j0, j1):
            cx = origin_x_m + (j + 0.5) * cell_m - src_x_m
            x = cx * ex + cy * ey
            c = 0.0
            if x > 0.0 and x_from_m <= x <= x_to_m:
                y = cy * ex - cx * ey
                xe = x if x > x_min_m else x_min_m
                sy = _sigma(xe, coef[0], coef[1], coef[2])
                if abs(y) <= n_sigma * sy:
                    sz = _sigma(xe, coef[3], coef[4], coef[5])
                    c = (1000.0 * q_gs / (math.pi * u_ms * sy * sz) * math.exp(-0.5 * (y / sy) ** 2)
                         * math.exp(-0.5 * (h_m / sz) ** 2))
            conc[i, j] = c
            if c >= threshold and c > 0.0:
                n_above += 1
    return n_above


def plume_box(shape: tuple[int, int], origin_m: tuple[float, float], cell_m: float,
              src_m: tuple[float, float], direction_deg: float, coef: np.ndarray, x_to_m: float,
              x_min_m: float, n_sigma: float) -> tuple[int, int, int, int]:
    """Rows and columns ``(i0, i1, j0, j1)`` of the grid that can hold the plume (a bounding box).

    The plume lies in the cone from the source to ``x_to_m`` downwind with half-width
    ``n_sigma * sigma_y(x_to_m)`` (sigma_y grows with x), widened by a cell.

    Parameters
    ----------
    shape : (int, int)
    origin_m, src_m : (float, float)
        Grid origin and source, m.
    cell_m : float
    direction_deg : float
        Where the wind blows to, degrees clockwise from north.
    coef : ndarray of float64, shape (6,)
    x_to_m, x_min_m, n_sigma : float

    Returns
    -------
    (int, int, int, int)
        Half-open ranges, clipped to the grid (empty when the plume misses it).
    """
    ny, nx = shape
    theta = math.radians(direction_deg)
    ex, ey = math.sin(theta), math.cos(theta)
    x_end = max(x_to_m, 0.0)
    half = n_sigma * float(_sigma(max(x_end, x_min_m), coef[0], coef[1], coef[2]))
    ends = (0.0, x_end)
    xs = [src_m[0] + x * ex + s * half * ey for x in ends for s in (-1, 1)]
    ys = [src_m[1] + x * ey - s * half * ex for x in ends for s in (-1, 1)]
    j0 = max(0, math.floor((min(xs) - origin_m[0]) / cell_m) - 1)
    j1 = min(nx, math.floor((max(xs) - origin_m[0]) / cell_m) + 2)
    i0 = max(0, math.floor((min(ys) - origin_m[1]) / cell_m) - 1)
    i1 = min(ny, math.floor((max(ys) - origin_m[1]) / cell_m) + 2)
    return (i0, max(i0, i1), j0, max(j0, j1))


class Plume:
    """A concentration grid that :func:`plume_step` fills, clearing only the previous plume's box.

    Lifecycle: built over a grid (all zero) -> :func:`plume_step` once per time step.

    Parameters
    ----------
    shape : (int, int)
        (rows, columns).
    origin_m : (float, float)
        South-west corner of the grid, m (row ``i`` at ``y = origin_y + (i + 0.5) * cell_m``).
    cell_m : float
        Cell side, m.
    """

    def __init__(self, shape: tuple[int, int], origin_m: tuple[float, float], cell_m: float):
        #: float64[ny, nx] ground concentration, mg/m3
        self.conc = np.zeros(shape, dtype=np.float64)
        self.origin_m = (float(origin_m[0]), float(origin_m[1]))
        self.cell_m = float(cell_m)
        #: the box the last step wrote (rows i0:i1, columns j0:j1)
        self.box = (0, 0, 0, 0)
        #: cells at or above the threshold after the last step
        self.n_above = 0


def plume_step(plume: Plume, src_m: tuple[float, float], q_gs: float, height_m: float, u_ms: float,
               direction_deg: float, coef: np.ndarray, x_from_m: float, x_to_m: float, x_min_m: float = 10.0,
               n_sigma: float = 4.0, threshold: float = 0.0) -> int:
    """Set the grid to the plume of one step; returns the cells at or above ``threshold``. Mutates ``plume``.

    Parameters
    ----------
    plume : Plume
    src_m : (float, float)
        Release point, m, in the grid's frame.
    q_gs : float
        Release rate, g/s; >= 0 (0: no plume).
    height_m : float
        Effective release height, m; >= 0.
    u_ms : float
        Wind speed, m/s; > 0.
    direction_deg : float
        Where the wind blows to, degrees clockwise from north.
    coef : ndarray of float64, shape (6,)
        Sigma coefficients (:func:`coefficients`).
    x_from_m, x_to_m : float
        The stretch of the axis the plume covers now (its tail and its front), m downwind.
    x_min_m : float
        Downwind distances below this are taken as this, m; > 0.
    n_sigma : float
        Crosswind cut-off in standard deviations; > 0.
    threshold : float
        Concentration counted in the return value, mg/m3.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        On a non-positive wind speed, ``x_min_m`` or ``n_sigma``, or a negative rate or height.
    """
    if not u_ms > 0:
        raise ValueError(f"wind speed must be > 0 m/s, got {u_ms}")
    if not (q_gs >= 0 and height_m >= 0 and x_min_m > 0 and n_sigma > 0):
        raise ValueError("need q_gs >= 0, height_m >= 0, x_min_m > 0 and n_sigma > 0")
    coef = np.ascontiguousarray(coef, dtype=np.float64)
    i0, i1, j0, j1 = plume.box
    plume.conc[i0:i1, j0:j1] = 0.0
    if q_gs == 0 or x_to_m <= max(x_from_m, 0.0):
        plume.box, plume.n_above = (0, 0, 0, 0), 0
        return 0
    box = plume_box(plume.conc.shape, plume.origin_m, plume.cell_m, src_m, direction_deg, coef, x_to_m,
                    x_min_m, n_sigma)
    theta = math.radians(direction_deg)
    n = _plume_kernel(plume.conc, *box, plume.origin_m[0], plume.origin_m[1], plume.cell_m, float(src_m[0]),
                      float(src_m[1]), float(q_gs), float(height_m), float(u_ms), math.sin(theta),
                      math.cos(theta), coef, float(x_from_m), float(x_to_m), float(x_min_m), float(n_sigma),
                      float(threshold))
    plume.box, plume.n_above = box, int(n)
    return int(n)

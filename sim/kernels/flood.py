"""Flood routing on a terrain grid, stepping only the cells that hold water to move.

State: terrain height ``z`` (m), water depth ``h`` (m) per square cell, and
the list of *active* cells: those deeper than the film ``h_min`` that stays
put (a puddle). Only active cells give water; a step touches the active
cells and their four neighbours, so its cost follows the wet area, not the
grid.

One step (synchronous: every flow is computed from the depths before the
step): an active cell ``c`` with water surface ``s_c = z_c + h_c`` looks at
its four neighbours ``n`` (N, W, E, S: row-major order of the offsets) whose
surface is lower, ``d_n = s_c - s_n > 0``. A neighbour outside the grid is
an open boundary at the cell's own ground (``d = h_c``) when ``edge_outflow``
is on, and a wall otherwise. The cell gives

    out_c = min(h_c, flow_fraction * max_n d_n)

shared among those neighbours in proportion to ``d_n``. With
``flow_fraction <= 1/2`` no cell gives more than half the head difference to
its lowest neighbour, so water never overshoots into oscillation (the
scheme is a weighted cellular automaton of the kind of Guidolin et al.
2016, WCA2D, without its velocity term: the step length and
``flow_fraction`` set how fast water spreads, not hydraulics). Depth stays
non-negative (``out_c <= h_c``), and volume is conserved: every metre taken
from a cell is added to a neighbour or counted as outflow.

Sums are taken in a fixed order (active cells in ascending flat index,
neighbours N, W, E, S), the order :mod:`tests.reference.naive_flood` uses.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.kernels._config import FASTMATH

#: Neighbour offsets (d_row, d_col): N, W, E, S (row-major). Row 0 is the south edge in the
#: components' layout, but the kernel only needs a fixed order.
OFFSETS = np.array([[-1, 0], [0, -1], [0, 1], [1, 0]], dtype=np.int64)


@njit(cache=True, fastmath=FASTMATH)
def _flood_kernel(z, h, active, n_active, flow_fraction, h_min, edge_outflow, gain, loss, touched, mark):
    """One routing step. Mutates ``h``, ``active``, ``gain``, ``loss``, ``touched`` and ``mark``.

    z, h : float64[ny, nx] terrain and depth (m); active : int32[ny * nx], ascending in
    ``active[:n_active]``; gain, loss : float64[ny, nx] all zero on entry and on return;
    touched : int32[ny * nx] scratch; mark : bool[ny, nx] all False on entry and on return.
    Returns ``(n_active_new, outflow_m)``: the new active cells (ascending) in
    ``active[:n_active_new]`` and the depth (m, summed over cells) that left the grid.
    """
    ny, nx = h.shape
    n_touched = 0
    outflow = 0.0
    for k in range(n_active):
        c = active[k]
        i = c // nx
        j = c - i * nx
        hc = h[i, j]
        if hc <= h_min:
            continue
        sc = z[i, j] + hc
        dsum = 0.0
        dmax = 0.0
        for m in range(4):
            a = i + OFFSETS[m, 0]
            b = j + OFFSETS[m, 1]
            if a < 0 or a >= ny or b < 0 or b >= nx:
                d = hc if edge_outflow else 0.0
            else:
                d = sc - (z[a, b] + h[a, b])
            if d > 0.0:
                dsum += d
                if d > dmax:
                    dmax = d
        if dmax <= 0.0:
            continue
        out = flow_fraction * dmax
        if out > hc:
            out = hc
        loss[i, j] = out
        if not mark[i, j]:
            mark[i, j] = True
            touched[n_touched] = c
            n_touched += 1
        for m in range(4):
            a = i + OFFSETS[m, 0]
            b = j + OFFSETS[m, 1]
            inside = not (a < 0 or a >= ny or b < 0 or b >= nx)
            d = sc - (z[a, b] + h[a, b]) if inside else (hc if edge_outflow else 0.0)
            if d <= 0.0:
                continue
            q = out * (d / dsum)
            if inside:
                gain[a, b] += q
                if not mark[a, b]:
                    mark[a, b] = True
                    touched[n_touched] = a * nx + b
                    n_touched += 1
            else:
                outflow += q
    # apply: (h - loss) >= 0 exactly since loss <= h; gains are >= 0
    for k in range(n_touched):
        c = touched[k]
        i = c // nx
        j = c - i * nx
        h[i, j] = (h[i, j] - loss[i, j]) + gain[i, j]
        loss[i, j] = 0.0
        gain[i, j] = 0.0
    # the new active list: old active cells and touched cells deeper than the film, ascending
    n_new = 0
    for k in range(n_active):
        c = active[k]
        i = c // nx
        j = c - i * nx
        if not mark[i, j]:
            mark[i, j] = True
            touched[n_touched] = c
            n_touched += 1
    for k in range(n_touched):
        c = touched[k]
        i = c // nx
        j = c - i * nx
        mark[i, j] = False
        if h[i, j] > h_min:
            active[n_new] = c
            n_new += 1
    active[:n_new].sort()
    return n_new, outflow


class Basin:
    """A terrain grid, its water and its active cells: the state :func:`flood_step` advances.

    Lifecycle: built from the terrain (dry) -> :meth:`add_depth` (rain, river
    inflow) and :func:`flood_step`, in any order, as often as wanted.

    Parameters
    ----------
    terrain_m : ndarray of float, shape (ny, nx)
        Ground height in m (copied); finite.
    h_min : float
        Film depth (m) that stays put: a cell gives water only when deeper; >= 0.

    Raises
    ------
    ValueError
        If the terrain is not a non-empty finite 2-D grid or ``h_min`` is negative.
    """

    def __init__(self, terrain_m: np.ndarray, h_min: float = 1e-3):
        z = np.array(terrain_m, dtype=np.float64)
        if z.ndim != 2 or z.size == 0 or not np.isfinite(z).all():
            raise ValueError(f"terrain must be a non-empty finite 2-D grid, got shape {z.shape}")
        if not h_min >= 0:
            raise ValueError(f"h_min must be >= 0, got {h_min}")
        #: float64[ny, nx] ground height, m
        self.z = z
        #: float64[ny, nx] water depth, m
        self.h = np.zeros_like(z)
        self.h_min = float(h_min)
        #: int32[ny * nx]: the active cells, ascending, in ``cells[:n]``
        self.cells = np.empty(z.size, dtype=np.int32)
        self.n = 0
        self._gain = np.zeros_like(z)
        self._loss = np.zeros_like(z)
        self._touched = np.empty(2 * z.size, dtype=np.int32)
        self._mark = np.zeros(z.shape, dtype=np.bool_)

    @property
    def active(self) -> np.ndarray:
        """Flat indices of the active cells, ascending (a view: copy to keep)."""
        return self.cells[:self.n]

    def volume_m3(self, cell_m: float) -> float:
        """Water on the grid, m3, for square cells of side ``cell_m`` metres."""
        return float(self.h.sum()) * cell_m * cell_m

    def add_depth(self, flat: np.ndarray | None, depth_m: np.ndarray | float) -> None:
        """Add water (rain, a river) to cells. Mutates the basin.

        Parameters
        ----------
        flat : ndarray of int, shape (m,), or None
            Flat (row-major) cell indices, each at most once; None: every cell.
        depth_m : float or ndarray of float, shape (m,)
            Depth added to each, m; >= 0.

        Raises
        ------
        ValueError
            On a negative depth, a repeated index or an index outside the grid.
        """
        depth = np.asarray(depth_m, dtype=np.float64)
        if (depth < 0).any() or not np.isfinite(depth).all():
            raise ValueError("depths added must be finite and >= 0")
        h = self.h.reshape(-1)
        if flat is None:
            h += depth
            wet = np.flatnonzero(h > self.h_min).astype(np.int32)
            self.cells[:len(wet)] = wet
            self.n = len(wet)
            return
        flat = np.asarray(flat, dtype=np.int64)
        if flat.size and (flat.min() < 0 or flat.max() >= h.size):
            raise ValueError(f"cell index outside the grid of {h.size} cells")
        if len(np.unique(flat)) != len(flat):
            raise ValueError("a cell index is repeated")
        h[flat] += depth
        new = np.setdiff1d(flat[h[flat] > self.h_min], self.active, assume_unique=True).astype(np.int32)
        if len(new):
            m = self.n + len(new)
            self.cells[self.n:m] = new
            self.cells[:m].sort()
            self.n = m


def flood_step(basin: Basin, flow_fraction: float, edge_outflow: bool = True) -> float:
    """Route water by one step; returns the depth that left over the edges (m, summed). Mutates ``basin``.

    Parameters
    ----------
    basin : Basin
        Terrain, depths and active cells.
    flow_fraction : float
        Share of the largest head difference an active cell gives per step, in (0, 0.5].
    edge_outflow : bool
        Whether water leaves over the grid's edges (True) or the edges are walls.

    Returns
    -------
    float
        Outflow over the edges in metres of depth (times the cell area: m3).

    Raises
    ------
    ValueError
        If ``flow_fraction`` is outside (0, 0.5].
    """
    if not 0.0 < flow_fraction <= 0.5:
        raise ValueError(f"flow_fraction must be in (0, 0.5], got {flow_fraction}")
    n, out = _flood_kernel(basin.z, basin.h, basin.cells, basin.n, float(flow_fraction), basin.h_min,
                           bool(edge_outflow), basin._gain, basin._loss, basin._touched, basin._mark)
    basin.n = int(n)
    return float(out)


def valley_terrain(shape: tuple[int, int], cell_km: float, slope_pct: float, valley_depth_m: float,
                   valley_col: float, valley_width_km: float) -> np.ndarray:
    """A tilted plane with a valley: ground height (m), float64[ny, nx].

    The plane falls by ``slope_pct`` percent towards row 0 (the south edge in the
    components' layout); a Gaussian valley ``valley_depth_m`` deep and
    ``valley_width_km`` wide (standard deviation) runs along column ``valley_col``.

    Parameters
    ----------
    shape : (int, int)
        (rows, columns).
    cell_km : float
        Cell side, km.
    slope_pct : float
        Fall of the plane towards row 0, percent (m per 100 m).
    valley_depth_m, valley_col, valley_width_km : float
        The valley's depth (m), centre column (fractional) and width (km).

    Returns
    -------
    ndarray of float64, shape ``shape``
    """
    ny, nx = shape
    i, j = np.indices((ny, nx), dtype=np.float64)
    plane = (i + 0.5) * cell_km * 1000.0 * slope_pct / 100.0
    dx_km = (j - valley_col) * cell_km
    valley = valley_depth_m * np.exp(-0.5 * (dx_km / max(valley_width_km, 1e-9)) ** 2)
    return plane - valley

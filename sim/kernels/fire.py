"""Fire spread on a grid of cells, stepped on the active front only (issue #12, item 1).

Cell states (int8): :data:`EMPTY` (0, unburnable: no fuel, a firebreak),
:data:`FUEL` (1), :data:`BURNING` (2), :data:`BURNT` (3). One step:

1. every cell burning at the start of the step tries to ignite each of its
   neighbours (4- or 8-neighbourhood) independently: a fuel neighbour
   catches fire when its uniform ``u < p_spread * bias[di + 1, dj + 1]``
   (the wind bias, a float32[3, 3] multiplier table; 1 everywhere for no
   wind). No trial leaves or enters a *suppressed* cell (an engine on
   scene there). Cells ignited in a step spread from the next step on;
2. then every cell that was burning at the start of the step has burned
   one more step and burns out (becomes :data:`BURNT`) after ``burn_steps``.

The burning cells are kept as a list (the *front*: int32 flat indices,
ascending), so a step costs O(front), not O(grid): at 500 x 500 a
frontier kernel was 20x faster than whole-grid numba or NumPy scans
(/work/shared/LIBRARY_NOTES.md, numba section).

Random numbers are drawn by the caller, not inside the kernel (numba's own
generator has a global state outside the run's SeedSequence): a step reads
``n_front * n_neighbours`` uniforms in this order: the ``k``-th burning
cell in ascending flat index (row-major) uses ``uniforms[k * n_nb + j]``
for its ``j``-th neighbour, neighbours in row-major order of their offsets
(:data:`OFFSETS4`, :data:`OFFSETS8`). A trial reads its uniform whether or
not the neighbour exists or can burn, so the count is fixed by the front.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.kernels._config import FASTMATH

EMPTY, FUEL, BURNING, BURNT = 0, 1, 2, 3

#: Neighbour offsets (d_row, d_col) in row-major order: the order trials read their uniforms.
OFFSETS4 = np.array([[-1, 0], [0, -1], [0, 1], [1, 0]], dtype=np.int64)
OFFSETS8 = np.array([[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]], dtype=np.int64)


def offsets(neighbourhood: int) -> np.ndarray:
    """The neighbour offsets of a 4- or 8-neighbourhood, int64[n_nb, 2], row-major.

    Raises
    ------
    ValueError
        If ``neighbourhood`` is neither 4 nor 8.
    """
    if neighbourhood == 4:
        return OFFSETS4
    if neighbourhood == 8:
        return OFFSETS8
    raise ValueError(f"neighbourhood must be 4 or 8, got {neighbourhood}")


@njit(cache=True, fastmath=FASTMATH)
def _spread_kernel(state, burn_count, front, n_front, offs, p_spread, bias, burn_steps, suppressed,
                   uniforms, newly):
    """One step of the front. Mutates ``state``, ``burn_count``, ``front`` and ``newly``.

    state : int8[ny, nx]; burn_count : int16[ny, nx] steps burned so far (burning cells).
    front : int32[>= n_front] flat indices of the burning cells, ascending (first ``n_front``).
    offs : int64[n_nb, 2]; bias : float32[3, 3]; suppressed : bool[ny, nx].
    uniforms : float64[>= n_front * n_nb] in [0, 1); newly : int32[>= n_front * n_nb].
    Returns ``(n_kept, n_new)``: ``front[:n_kept]`` holds the cells still burning from before
    (ascending), ``newly[:n_new]`` the cells ignited in this step (in discovery order).
    """
    ny, nx = state.shape
    n_nb = offs.shape[0]
    n_new = 0
    for k in range(n_front):
        c = front[k]
        i = c // nx
        j = c - i * nx
        if suppressed[i, j]:
            continue
        for m in range(n_nb):
            di = offs[m, 0]
            dj = offs[m, 1]
            u = uniforms[k * n_nb + m]
            a = i + di
            b = j + dj
            if a < 0 or a >= ny or b < 0 or b >= nx:
                continue
            if state[a, b] != 1 or suppressed[a, b]:
                continue
            # marked burning at once: a later trial into it is a no-op, as in the synchronous rule
            if u < p_spread * np.float64(bias[di + 1, dj + 1]):
                state[a, b] = 2
                burn_count[a, b] = 0
                newly[n_new] = a * nx + b
                n_new += 1
    n_kept = 0
    for k in range(n_front):  # burn-out; kept cells are compacted in place (write index <= read index)
        c = front[k]
        i = c // nx
        j = c - i * nx
        burn_count[i, j] += 1
        if burn_count[i, j] >= burn_steps:
            state[i, j] = 3
        else:
            front[n_kept] = c
            n_kept += 1
    return n_kept, n_new


class Front:
    """A fire's grid and its burning cells: the state :func:`spread_step` advances.

    Lifecycle: built from a grid of EMPTY and FUEL cells (nothing burning) ->
    :meth:`ignite` cells -> :func:`spread_step` until ``n`` is 0 (more
    ignitions may come at any time).

    Parameters
    ----------
    state : ndarray of int8, shape (ny, nx)
        Cell states, :data:`EMPTY` or :data:`FUEL` only (copied).

    Raises
    ------
    ValueError
        If ``state`` is not 2-D or holds other states.
    """

    def __init__(self, state: np.ndarray):
        state = np.array(state, dtype=np.int8)
        if state.ndim != 2 or state.size == 0:
            raise ValueError(f"state must be a non-empty 2-D grid, got shape {state.shape}")
        if ((state != EMPTY) & (state != FUEL)).any():
            raise ValueError("a new grid holds EMPTY (0) and FUEL (1) cells only")
        #: int8[ny, nx] cell states
        self.state = state
        #: int16[ny, nx] steps each burning cell has burned
        self.burn_count = np.zeros(state.shape, dtype=np.int16)
        #: int32[ny * nx] flat indices of the burning cells, ascending, in ``cells[:n]``
        self.cells = np.empty(state.size, dtype=np.int32)
        self.n = 0
        self._newly = np.empty(0, dtype=np.int32)

    @property
    def burning(self) -> np.ndarray:
        """Flat indices of the burning cells, ascending (a view: copy to keep)."""
        return self.cells[:self.n]

    def ignite(self, flat: np.ndarray) -> np.ndarray:
        """Set cells burning from now (they spread from the next step). Mutates the front.

        A cell that is burning or burnt out is left as it is; an EMPTY cell
        ignited on purpose burns (the ignition brings its own fuel).

        Parameters
        ----------
        flat : ndarray of int, shape (m,)
            Flat (row-major) cell indices.

        Returns
        -------
        ndarray of int32
            The cells that caught fire, ascending.

        Raises
        ------
        ValueError
            If an index is outside the grid.
        """
        flat = np.unique(np.asarray(flat, dtype=np.int64))
        if flat.size and (flat[0] < 0 or flat[-1] >= self.state.size):
            raise ValueError(f"cell index outside the grid of {self.state.size} cells")
        s, bc = self.state.reshape(-1), self.burn_count.reshape(-1)
        new = flat[s[flat] <= FUEL].astype(np.int32)
        s[new], bc[new] = BURNING, 0
        self._merge(new)
        return new

    def _merge(self, new: np.ndarray) -> None:
        """Add cells (not yet in the front) and keep it ascending: O(front log front)."""
        m = self.n + len(new)
        self.cells[self.n:m] = new
        self.cells[:m].sort()
        self.n = m


def spread_step(front: Front, p_spread: float, bias: np.ndarray, burn_steps: int, suppressed: np.ndarray,
                uniforms: np.ndarray, neighbourhood: int = 4) -> np.ndarray:
    """Advance a fire by one step; returns the cells ignited in it. Mutates ``front``.

    Parameters
    ----------
    front : Front
        The grid (int8[ny, nx] states, int16[ny, nx] burn counts) and its burning cells.
    p_spread : float
        Probability, per step and per neighbour, that a burning cell ignites a fuel neighbour;
        in [0, 1] (1 allowed: deterministic spread).
    bias : ndarray of float32, shape (3, 3)
        Multiplier of ``p_spread`` by direction: ``bias[di + 1, dj + 1]`` for a neighbour at
        row offset ``di``, column offset ``dj`` (see :func:`wind_bias`); non-negative.
    burn_steps : int
        Steps a cell burns (and spreads) before it burns out; at least 1.
    suppressed : ndarray of bool, shape (ny, nx)
        Cells where fire neither spreads from nor into (engines on scene).
    uniforms : ndarray of float64, shape (>= front.n * neighbourhood,)
        Uniform [0, 1) draws, read in the order of the module docstring; draw exactly
        ``front.n * neighbourhood`` of them from the fire's stream.
    neighbourhood : int
        4 (von Neumann) or 8 (Moore).

    Returns
    -------
    ndarray of int32
        Flat indices of the cells that caught fire in this step, ascending.

    Raises
    ------
    ValueError
        On a probability outside [0, 1], a bias of the wrong shape or negative, ``burn_steps`` < 1,
        a mask of the wrong shape, or too few uniforms.
    """
    if not 0.0 <= p_spread <= 1.0:
        raise ValueError(f"p_spread must be in [0, 1], got {p_spread}")
    bias = np.ascontiguousarray(bias, dtype=np.float32)
    if bias.shape != (3, 3) or not np.isfinite(bias).all() or (bias < 0).any():
        raise ValueError(f"bias must be a finite, non-negative float32[3, 3] table, got shape {bias.shape}")
    if burn_steps < 1 or burn_steps > np.iinfo(np.int16).max:
        raise ValueError(f"burn_steps must be in [1, 32767], got {burn_steps}")
    if suppressed.shape != front.state.shape or suppressed.dtype != np.bool_:
        raise ValueError(f"suppressed must be bool{list(front.state.shape)}, got {suppressed.dtype}"
                         f"{list(suppressed.shape)}")
    offs = offsets(neighbourhood)
    need = front.n * len(offs)
    uniforms = np.ascontiguousarray(uniforms, dtype=np.float64)
    if uniforms.ndim != 1 or len(uniforms) < need:
        raise ValueError(f"need {need} uniforms (front {front.n} x {len(offs)} neighbours), "
                         f"got shape {uniforms.shape}")
    if len(front._newly) < need:
        front._newly = np.empty(max(need, 2 * len(front._newly)), dtype=np.int32)
    n_kept, n_new = _spread_kernel(front.state, front.burn_count, front.cells, front.n, offs, float(p_spread),
                                   bias, int(burn_steps), suppressed, uniforms, front._newly)
    front.n = n_kept
    new = np.sort(front._newly[:n_new])
    front._merge(new)
    return new


def wind_bias(direction_deg: float, strength: float) -> np.ndarray:
    """The 3 x 3 spread multiplier of a wind: ``max(0, 1 + strength * cos(angle))``.

    ``angle`` is between the direction to the neighbour and the direction the wind blows
    towards. Rows are y (north = +row), columns x (east = +column), as the fire component
    lays out its grid; diagonal neighbours point at 45 degrees. The centre is 0 (unused).

    Parameters
    ----------
    direction_deg : float
        Where the wind blows to, degrees clockwise from north (90: towards the east).
    strength : float
        0: no wind (all ones); 1: twice the probability downwind, none upwind; >= 0.

    Returns
    -------
    ndarray of float32, shape (3, 3)

    Raises
    ------
    ValueError
        If ``strength`` is negative or a value is not finite.
    """
    if not (math.isfinite(direction_deg) and math.isfinite(strength)) or strength < 0:
        raise ValueError(f"wind needs a finite direction and a strength >= 0, got {direction_deg}, "
                         f"{strength}")
    theta = math.radians(direction_deg)
    wx, wy = math.sin(theta), math.cos(theta)
    out = np.zeros((3, 3), dtype=np.float32)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                cos = (dj * wx + di * wy) / math.hypot(di, dj)
                out[di + 1, dj + 1] = max(0.0, 1.0 + strength * cos)
    return out

"""Reference for sim.kernels.fire: the obvious synchronous whole-grid loop, O(grid) per step.

Uniforms are read in the kernel's order: burning cells are met in row-major
order of the grid (``k``-th met = ``k``-th in ascending flat index) and the
``k``-th one reads ``uniforms[k * n_nb + m]`` for its ``m``-th neighbour, in
row-major order of the offsets, whether or not the neighbour exists.
"""

from __future__ import annotations

import numpy as np

OFFSETS = {4: [(-1, 0), (0, -1), (0, 1), (1, 0)],
           8: [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]}


def step(state, burn_count, p_spread: float, bias, burn_steps: int, suppressed, uniforms,
         neighbourhood: int = 4) -> tuple[np.ndarray, np.ndarray, list[int], int]:
    """One synchronous step on copies of the grids.

    Returns
    -------
    state, burn_count : ndarray
        The new grids.
    ignited : list of int
        Flat indices of the cells that caught fire, ascending.
    used : int
        How many uniforms the step read.
    """
    old = [[int(v) for v in row] for row in state]
    ny, nx = len(old), len(old[0])
    new_state = np.array(state, dtype=np.int8, copy=True)
    new_count = np.array(burn_count, dtype=np.int16, copy=True)
    catch = [[False] * nx for _ in range(ny)]
    k = 0
    for i in range(ny):
        for j in range(nx):
            if old[i][j] != 2:
                continue
            for m, (di, dj) in enumerate(OFFSETS[neighbourhood]):
                u = float(uniforms[k * neighbourhood + m])
                a, b = i + di, j + dj
                if not (0 <= a < ny and 0 <= b < nx):
                    continue
                if suppressed[i][j] or suppressed[a][b] or old[a][b] != 1:
                    continue
                if u < p_spread * float(np.float32(bias[di + 1][dj + 1])):
                    catch[a][b] = True
            k += 1
    for i in range(ny):
        for j in range(nx):
            if old[i][j] == 2:
                new_count[i, j] += 1
                if new_count[i, j] >= burn_steps:
                    new_state[i, j] = 3
            if catch[i][j]:
                new_state[i, j] = 2
                new_count[i, j] = 0
    ignited = [i * nx + j for i in range(ny) for j in range(nx) if catch[i][j]]
    return new_state, new_count, ignited, k * neighbourhood

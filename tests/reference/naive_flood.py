"""Reference for sim.kernels.flood: the obvious synchronous whole-grid loop, O(grid) per step.

Every cell deeper than ``h_min`` is met in row-major order; flows are
computed from the depths before the step and added in that order, neighbours
N, W, E, S, as the kernel does.
"""

from __future__ import annotations

import numpy as np

OFFSETS = [(-1, 0), (0, -1), (0, 1), (1, 0)]


def step(z, h, flow_fraction: float, h_min: float, edge_outflow: bool = True) -> tuple[np.ndarray, float]:
    """One step on a copy of ``h``; returns the new depths and the depth that left over the edges."""
    ny, nx = len(z), len(z[0])
    old = [[float(v) for v in row] for row in h]
    gain = [[0.0] * nx for _ in range(ny)]
    loss = [[0.0] * nx for _ in range(ny)]
    outflow = 0.0
    for i in range(ny):
        for j in range(nx):
            hc = old[i][j]
            if hc <= h_min:
                continue
            sc = float(z[i][j]) + hc
            drops = []
            for di, dj in OFFSETS:
                a, b = i + di, j + dj
                if 0 <= a < ny and 0 <= b < nx:
                    drops.append(((a, b), sc - (float(z[a][b]) + old[a][b])))
                else:
                    drops.append((None, hc if edge_outflow else 0.0))
            lower = [(n, d) for n, d in drops if d > 0.0]
            if not lower:
                continue
            dsum = 0.0
            for _, d in lower:
                dsum += d
            out = min(hc, flow_fraction * max(d for _, d in lower))
            loss[i][j] = out
            for n, d in lower:
                q = out * (d / dsum)
                if n is None:
                    outflow += q
                else:
                    gain[n[0]][n[1]] += q
    new = np.array([[(old[i][j] - loss[i][j]) + gain[i][j] for j in range(nx)] for i in range(ny)])
    return new, outflow

"""Reference for sim.kernels.sampling: walk the weights of the row until the running sum passes u * total."""

from __future__ import annotations

import numpy as np


def categorical(weights, rows, u) -> np.ndarray:
    """Category of each item: the first ``j`` with ``w[0] + ... + w[j] > u * (w[0] + ... + w[m-1])``.

    Sums run left to right, as ``numpy.cumsum`` does, so boundaries match the kernel's.
    """
    out = []
    for r, ui in zip(rows, u, strict=True):
        w = [float(x) for x in weights[int(r)]]
        running, total = [], 0.0
        for x in w:
            total += x
            running.append(total)
        target = float(ui) * total
        pick = next((j for j, c in enumerate(running) if c > target), len(w) - 1)
        out.append(pick)
    return np.array(out, dtype=np.int64)


def chi_square(observed, expected) -> float:
    """Pearson's statistic over cells with positive expectation."""
    total = 0.0
    for o, e in zip(observed, expected, strict=True):
        if e > 0:
            total += (float(o) - float(e)) ** 2 / float(e)
    return total

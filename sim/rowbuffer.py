"""Fixed-width numeric rows appended in the event loop, compacted into float64 chunks as they come."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class RowBuffer:
    """Rows of ``width`` numbers, appended flat to a list and moved into numpy chunks now and then.

    The hot path is :attr:`extend`, the pending list's own ``extend``: one
    C-level call per row with a tuple of ``width`` numbers, no object kept per
    row. The owner of the loop calls :meth:`compact` every few thousand rows:
    converting values while they are fresh in the cache is several times
    cheaper than converting a long run's list at its end, when its float
    objects lie scattered through memory (see benchmarks/engine_mmc.py).

    Parameters
    ----------
    width : int
        Numbers per row. Integers and booleans are stored as float64, which
        holds them exactly up to 2**53.
    """

    def __init__(self, width: int):
        if width < 1:
            raise ValueError(f"width must be at least 1, got {width}")
        self.width = int(width)
        self.pending: list[float] = []
        #: append one row: ``extend((a, b, ...))`` with exactly ``width`` values
        self.extend = self.pending.extend
        self._chunks: list[np.ndarray] = []

    def compact(self) -> None:
        """Move the pending rows into a float64 chunk. Mutates the buffer (the same list object).

        Raises
        ------
        ValueError
            If the pending values do not make whole rows.
        """
        if self.pending:
            values = np.fromiter(self.pending, dtype=np.float64, count=len(self.pending))
            if values.size % self.width:
                raise ValueError(f"{values.size} values do not make rows of {self.width}")
            self._chunks.append(values.reshape(-1, self.width))
            self.pending.clear()

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks) + len(self.pending) // self.width

    def array(self, extra: Iterable[Iterable[float]] = ()) -> np.ndarray:
        """All rows as float64[n, width], followed by the ``extra`` rows (not stored).

        Compacts the buffer first.
        """
        self.compact()
        tail = [tuple(row) for row in extra]
        parts = list(self._chunks)
        if tail:
            parts.append(np.array(tail, dtype=np.float64).reshape(len(tail), self.width))
        return np.concatenate(parts) if parts else np.empty((0, self.width))

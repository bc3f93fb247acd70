"""Which runs a sweep still has to do, including adaptive replications.

Runs are ordered replication first (replication 0 of every configuration,
then replication 1, ...), so that a sweep stopped early holds complete,
paired replications across configurations. With ``adaptive`` in the spec, a
configuration whose runs are all finished gets ``batch`` more replications
while the confidence-interval half-width of the named metric is above the
target, up to ``max_replications``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from experiments.plan import Configuration, Plan, run_id
from experiments.store import SweepStore


def half_width(values: np.ndarray, confidence: float) -> float:
    """Half-width of the Student-t confidence interval of the mean.

    Parameters
    ----------
    values : ndarray
        Finite observations, float[n].
    confidence : float
        Coverage, for example 0.95.

    Returns
    -------
    float
        ``t_{(1+c)/2, n-1} * s / sqrt(n)``; infinity with fewer than two values.
    """
    from scipy import stats

    n = len(values)
    if n < 2:
        return math.inf
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1) * np.std(values, ddof=1) / math.sqrt(n))


class Schedule:
    """The runs to do, given the plan and what the store already holds.

    Lifecycle: :meth:`initial` lists the runs to start with; after each
    finished run, :meth:`finished` may list more (adaptive replications).

    Parameters
    ----------
    plan : Plan
        The resolved plan.
    store : SweepStore
        The open store (its manifest says what is done).
    retry_failed : bool
        Rerun runs whose latest attempt failed (otherwise they are left as they are).
    """

    def __init__(self, plan: Plan, store: SweepStore, retry_failed: bool = False):
        self.plan = plan
        self.store = store
        self.retry_failed = retry_failed
        self.planned = {c.config_id: self._first_count(c) for c in plan.configurations}
        self.outstanding = {c.config_id: 0 for c in plan.configurations}

    def _first_count(self, config: Configuration) -> int:
        if self.plan.spec.adaptive is None:
            return self.plan.replications
        done = [r for r in range(self.plan.max_replications)
                if self.store.status(run_id(config.config_id, r)) is not None]
        return max(self.plan.replications, max(done, default=-1) + 1)

    def initial(self) -> list[tuple[Configuration, int]]:
        """Runs to start with (not yet done, or failed with ``retry_failed``), replication first.

        Returns
        -------
        list of (Configuration, int)
        """
        todo = []
        for r in range(max(self.planned.values(), default=0)):
            for c in self.plan.configurations:
                if r < self.planned[c.config_id] and self._wanted(c, r):
                    todo.append((c, r))
        for c, _ in todo:
            self.outstanding[c.config_id] += 1
        for c in self.plan.configurations:
            if self.outstanding[c.config_id] == 0:
                todo.extend(self._more(c))
        return todo

    def _wanted(self, config: Configuration, r: int) -> bool:
        status = self.store.status(run_id(config.config_id, r))
        return status is None or (status == "failed" and self.retry_failed)

    def finished(self, config_id: str) -> list[tuple[Configuration, int]]:
        """Note that a run of ``config_id`` finished; return the runs to add (adaptive only).

        Parameters
        ----------
        config_id : str
            The configuration of the finished run.

        Returns
        -------
        list of (Configuration, int)
        """
        self.outstanding[config_id] -= 1
        if self.outstanding[config_id] > 0:
            return []
        return self._more(self.plan.config(config_id))

    def _more(self, config: Configuration) -> list[tuple[Configuration, int]]:
        a = self.plan.spec.adaptive
        cid = config.config_id
        if a is None or self.planned[cid] >= a.max_replications or self._any_failed(cid):
            return []
        _, mean, hw = self.interval(cid)
        if hw <= a.half_width * (abs(mean) if a.relative else 1.0):
            return []
        start = self.planned[cid]
        self.planned[cid] = min(start + a.batch, a.max_replications)
        more = [(config, r) for r in range(start, self.planned[cid])]
        self.outstanding[cid] += len(more)
        return more

    def _any_failed(self, config_id: str) -> bool:
        return any(self.store.status(run_id(config_id, r)) == "failed"
                   for r in range(self.planned[config_id]))

    def interval(self, config_id: str) -> tuple[int, float, float]:
        """(n, mean, half-width) of the adaptive metric over the ok runs of ``config_id``.

        Parameters
        ----------
        config_id : str
            The configuration.

        Returns
        -------
        (int, float, float)
            NaN mean without values; infinite half-width with fewer than two.
        """
        a = self.plan.spec.adaptive
        values = np.array([v for v in self._values(config_id, a.metric if a else "") if math.isfinite(v)])
        mean = float(values.mean()) if len(values) else math.nan
        return len(values), mean, half_width(values, a.confidence if a else 0.95)

    def _values(self, config_id: str, metric: str) -> list[float]:
        out = []
        for r in range(self.planned[config_id]):
            rec: dict[str, Any] = self.store.latest.get(run_id(config_id, r)) or {}
            if rec.get("status") == "ok":
                out.append(float((rec.get("metrics") or {}).get(metric, math.nan)))
        return out

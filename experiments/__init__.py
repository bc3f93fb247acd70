"""Experiment sweeps: specs, designs, executors (serial, processes, Dask) and a resumable result store.

Python entry points::

    from experiments import run_sweep

    if __name__ == "__main__":  # needed by the process-pool and Dask executors (spawned workers)
        result = run_sweep("experiments/sweeps/ansan_policy_fleet.yaml", out="out/sweeps/demo")
        result.summary          # the same table as out/sweeps/demo/summary.parquet

Names are imported on first use, so that ``anjeon`` (which imports
:mod:`experiments.cli`) starts without loading the sweep machinery. See
docs/howto-sweeps.md for the spec format and the store layout.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Configuration": "experiments.plan",
    "DaskExecutor": "experiments.executors",
    "Executor": "experiments.executors",
    "Experiment": "experiments.spec",
    "Plan": "experiments.plan",
    "PoolExecutor": "experiments.executors",
    "RunTask": "experiments.runner",
    "SerialExecutor": "experiments.executors",
    "SweepResult": "experiments.sweep",
    "execute": "experiments.runner",
    "load_plan": "experiments.sweep",
    "load_spec": "experiments.spec",
    "make_executor": "experiments.executors",
    "make_plan": "experiments.plan",
    "run_id": "experiments.plan",
    "run_replication": "experiments.runner",
    "run_sweep": "experiments.sweep",
    "spec_from_dict": "experiments.spec",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import ``name`` from its module on first use.

    Parameters
    ----------
    name : str
        A name of :data:`__all__`.

    Returns
    -------
    Any

    Raises
    ------
    AttributeError
        For other names.
    """
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'experiments' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

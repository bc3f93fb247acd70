"""Issue #10 regression: opening the engine's seams changes no table of today's scenarios.

``issue10_tables.json`` holds, for ``ansan`` and ``mmc`` (30 days, seeds 1-3,
policies ``nearest`` and ``district_first``), a SHA-256 of every column of the
four tables as written by the engine before issue #10 (commit 1045be5). Columns
added since are welcome and not compared; every column that existed then must
hash the same now. Regenerate only on purpose, with ``python -m
tests.regression.test_issue10_tables``, and say why in the changelog.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim

REFERENCE = Path(__file__).with_name("issue10_tables.json")
CASES = [(scenario, policy, seed) for scenario in ("ansan", "mmc")
         for policy in ("nearest", "district_first") for seed in (1, 2, 3)]
TABLES = ("incidents", "assignments", "units", "events")


def column_hash(column: pd.Series) -> str:
    """SHA-256 of a column's values (categoricals by their names, not their codes) and its dtype kind."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        values = column.astype(object).where(column.notna(), None).tolist()
        payload = json.dumps(values).encode()
        kind = "category"
    else:
        array = column.to_numpy()
        if array.dtype == object:
            payload = json.dumps([None if v is pd.NA else v for v in array.tolist()]).encode()
        else:
            payload = np.ascontiguousarray(array).tobytes()
        kind = str(column.dtype)
    return hashlib.sha256(kind.encode() + b"\0" + payload).hexdigest()


def table_hashes(scenario: str, policy: str, seed: int) -> dict[str, dict[str, str]]:
    """Column hashes of the four tables of one 30-day run."""
    result = sim.run(scenario, policy=policy, seed=seed)
    return {name: {col: column_hash(getattr(result, name)[col]) for col in getattr(result, name).columns}
            for name in TABLES}


@pytest.mark.parametrize(("scenario", "policy", "seed"), CASES)
def test_tables_identical_to_before_issue_10(scenario: str, policy: str, seed: int) -> None:
    reference = json.loads(REFERENCE.read_text())[f"{scenario}/{policy}/{seed}"]
    now = table_hashes(scenario, policy, seed)
    for table, columns in reference.items():
        missing = sorted(set(columns) - set(now[table]))
        assert not missing, f"{table}: columns gone: {missing}"
        changed = sorted(c for c, h in columns.items() if now[table][c] != h)
        assert not changed, f"{scenario}/{policy}/seed {seed}: {table} columns changed: {changed}"


if __name__ == "__main__":  # regenerate: only on purpose
    REFERENCE.write_text(json.dumps({f"{s}/{p}/{seed}": table_hashes(s, p, seed) for s, p, seed in CASES},
                                    indent=1, sort_keys=True) + "\n")


#: The examples (two_towns, ring_city), seeds 1-3, both policies, written by the engine at commit
#: 1045be5 (before issues #10 and #15) into issue10_examples.json with the same column_hash.
EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"
EXAMPLE_CASES = [(name, policy, seed) for name in ("two_towns", "ring_city")
                 for policy in ("nearest", "district_first") for seed in (1, 2, 3)]


@pytest.mark.parametrize(("name", "policy", "seed"), EXAMPLE_CASES)
def test_example_tables_identical_to_before(name: str, policy: str, seed: int) -> None:
    stored = json.loads(REFERENCE.with_name("issue10_examples.json").read_text())
    reference = stored[f"{name}/{policy}/{seed}"]
    result = sim.run(EXAMPLES / f"{name}.yaml", policy=policy, seed=seed)
    for table, columns in reference.items():
        frame = getattr(result, table)
        changed = sorted(c for c, h in columns.items() if c not in frame or column_hash(frame[c]) != h)
        assert not changed, f"{name}/{policy}/seed {seed}: {table} columns changed: {changed}"

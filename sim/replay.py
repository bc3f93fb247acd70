"""Exact replay of a stored run: rerun it from its directory and check that the event log is the same.

A run directory holds what a replay needs: ``scenario.json`` (the resolved
scenario, horizon and warm-up included) and ``run.json`` (seed, replication,
policy and its parameters, ``until_min``, the scenario's SHA-256, the
versions of the engine and its libraries, and the SHA-256 of the event log,
``events_sha256``, so that a run whose ``events.parquet`` was not kept can
still be checked). :func:`replay` refuses (InputError, one line) when the
directory is not a run's, when ``scenario.json`` no longer matches its hash,
when the engine changed (unless ``force``) or when the run imported code
(unless ``allow_code``); otherwise it runs again and compares.

The log's hash (:func:`events_sha256`) is over the table's columns in a
canonical form: numbers as little-endian int64 or float64 with a null mask,
labels (categorical or text) as their sorted distinct values and each row's
rank among them, so the order and the unused entries of a categorical's
categories (which a Parquet round trip may change) do not count.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.results import sources_sha256

#: The packages whose sources decide a run's event log (hashed into run.json ``engine_sha256``).
ENGINE_PACKAGES = ("sim", "scenarios", "agents")
#: Files that mark a sweep directory (as in sim.cli.SWEEP_FILES).
_SWEEP_FILES = ("summary.parquet", "manifest.jsonl", "plan.json")
_FORMAT = b"anjeon-events-sha256/1\0"
#: Rows hashed at a time: bounds the temporary copies of a long log (a year of ansan: 579k rows).
_CHUNK = 1 << 16


def events_sha256(events: pd.DataFrame) -> str:
    """SHA-256 of an event log in a canonical form (independent of dtype details and category order).

    Parameters
    ----------
    events : pandas.DataFrame
        The events table (any columns: each is hashed with its name, in order).

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    h = hashlib.sha256(_FORMAT)
    h.update(f"rows {len(events)}\0".encode())
    for name in events.columns:
        h.update(f"column {name}\0".encode())
        column = events[name]
        if isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(column.dtype):
            _hash_labels(h, column)
        else:
            _hash_numbers(h, column)
    return h.hexdigest()


def _hash_numbers(h: Any, column: pd.Series) -> None:
    """Feed a numeric column to ``h``: kind, null mask (packed bits), values with nulls as 0."""
    floating = pd.api.types.is_float_dtype(column.dtype)
    dtype = "<f8" if floating else "<i8"
    h.update(b"f\0" if floating else b"i\0")
    h.update(np.packbits(column.isna().to_numpy()).tobytes())
    for start in range(0, len(column), _CHUNK):
        part = column.iloc[start:start + _CHUNK]
        h.update(np.ascontiguousarray(part.to_numpy(dtype=dtype, na_value=0)).tobytes())


def _hash_labels(h: Any, column: pd.Series) -> None:
    """Feed a label column to ``h``: its distinct values sorted, then each row's rank (-1: null)."""
    cat = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    codes = cat.cat.codes.to_numpy()
    names = np.asarray(cat.cat.categories.astype(str), dtype=object)
    used = np.unique(codes[codes >= 0])
    order = np.argsort(names[used], kind="stable")
    rank = np.full(len(names) + 1, -1, dtype="<i8")    # the last entry serves code -1 (null)
    rank[used[order]] = np.arange(len(used))
    h.update(b"s\0")
    for name in names[used[order]]:
        text = name.encode()
        h.update(f"{len(text)}:".encode() + text)
    h.update(b"\0")
    for start in range(0, len(codes), _CHUNK):
        h.update(rank[codes[start:start + _CHUNK]].tobytes())


@lru_cache(maxsize=1)
def engine_sha256() -> str:
    """SHA-256 of the sources of the packages that decide a run's event log (:data:`ENGINE_PACKAGES`).

    See :func:`sim.results.sources_sha256`. Package versions are recorded
    apart (run.json ``versions``).

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return sources_sha256(ENGINE_PACKAGES)


@dataclass
class Replay:
    """What a replay found: whether the logs agree, and how it says so.

    Built by :func:`replay`; ``result`` is the replayed run (write it with
    ``result.write(out)``), ``lines`` the report (first line: the verdict).
    """

    identical: bool
    lines: list[str]
    result: Any
    #: differences of the engine that ``force`` let through (empty when none)
    engine_changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredRun:
    """The parts of a run directory that a replay reads (see :func:`read_run_dir`)."""

    path: Path
    meta: dict[str, Any]
    scenario_doc: dict[str, Any]


def replay(run_dir: str | Path, *, force: bool = False, allow_code: bool = False) -> Replay:
    """Rerun a stored run and compare its event log with the stored one.

    Parameters
    ----------
    run_dir : str or Path
        A directory written by ``anjeon run`` / :meth:`sim.RunResult.write`, or a
        sweep's ``runs/<run_id>`` that kept its events.
    force : bool
        Replay even when the engine changed since the run (the changes are in
        :attr:`Replay.engine_changes`).
    allow_code : bool
        Let a run whose policy or components were ``package.module:Name`` import them again.

    Returns
    -------
    Replay

    Raises
    ------
    InputError
        One line, naming ``run_dir``: not a run directory, a file missing or
        unreadable, scenario.json changed, the engine changed (without
        ``force``), code named (without ``allow_code``), or no event log to compare with.
    """
    import sim

    stored = read_run_dir(Path(run_dir))
    where = str(stored.path)
    scenario = stored_scenario(stored)
    changes = engine_changes(stored.meta)
    if changes and not force:
        raise InputError(f"the engine changed since this run: {'; '.join(changes)}; add --force to "
                         "replay anyway", where)
    code = code_names(stored.meta, scenario)
    if code and not allow_code:
        raise InputError(f"the run imported code ({', '.join(code)}); add --allow-code to import it "
                         "again (a run directory is data)", where)
    events_file = stored.path / "events.parquet"
    stored_hash = stored.meta.get("events_sha256")
    if stored_hash is None and not events_file.is_file():
        raise InputError("no event log to compare with: run.json has no events_sha256 and there is no "
                         "events.parquet (a sweep run that did not keep 'events'?)", where)
    stored_events = _read_events(events_file) if events_file.is_file() else None
    meta = stored.meta
    until = float(meta["until_min"]) if float(meta["until_min"]) < float(meta["horizon_min"]) else None
    result = sim.run(scenario, policy=meta["policy"]["dispatch"], params=dict(meta["policy"]["params"]),
                     seed=meta["seed"], replication=meta["replication"], until=until,
                     allow_code=bool(code) and allow_code)
    identical, lines = compare(result.events, stored_hash, stored_events)
    return Replay(identical, lines, result, changes)


def read_run_dir(path: Path) -> StoredRun:
    """Read ``run.json`` and ``scenario.json`` of a run directory, refusing what is not one.

    Parameters
    ----------
    path : Path
        The directory.

    Returns
    -------
    StoredRun

    Raises
    ------
    InputError
        Not a directory, a sweep directory, a file missing or unreadable, a field of run.json missing.
    """
    where = str(path)
    if not path.is_dir():
        raise InputError("not a directory" if path.exists() else "no such directory", where)
    marks = [name for name in _SWEEP_FILES if (path / name).exists()]
    if marks:
        raise InputError(f"a sweep directory (it holds {marks[0]}), not a run's: replay one of its runs, "
                         f"{path / 'runs'}/<run_id>, that kept its events", where)
    for name in ("run.json", "scenario.json"):
        if not (path / name).is_file():
            raise InputError(f"not a run directory: {name} is missing", where)
    meta, doc = (_read_json(path / name) for name in ("run.json", "scenario.json"))
    needed = ("scenario_sha256", "policy", "seed", "replication", "horizon_min", "until_min", "versions")
    missing = [key for key in needed if key not in meta]
    if missing:
        raise InputError(f"run.json has no {missing[0]!r}: not a run that can be replayed", where)
    return StoredRun(path, meta, doc)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not valid JSON ({type(exc).__name__} at {getattr(exc, 'pos', '?')})",
                         str(path)) from None
    if not isinstance(doc, dict):
        raise InputError(f"expected a JSON object, got {type(doc).__name__}", str(path))
    return doc


def _read_events(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:          # pyarrow's ArrowInvalid is a ValueError
        raise InputError(f"cannot be read: {' '.join(str(exc).split())[:200]}", str(path)) from None


def stored_scenario(stored: StoredRun) -> Any:
    """The scenario of a stored run, validated, after checking scenario.json against run.json's hash.

    Parameters
    ----------
    stored : StoredRun
        From :func:`read_run_dir`.

    Returns
    -------
    scenarios.Scenario

    Raises
    ------
    InputError
        When scenario.json's canonical JSON does not hash to run.json ``scenario_sha256``, or
        when it validates to another scenario (the schema changed).
    """
    import scenarios

    where = str(stored.path / "scenario.json")
    expected = stored.meta["scenario_sha256"]
    found = hashlib.sha256(json.dumps(stored.scenario_doc, separators=(",", ":")).encode()).hexdigest()
    if found != expected:
        raise InputError(f"does not match run.json scenario_sha256 ({found[:12]}... vs {expected[:12]}...): "
                         "the stored scenario was changed after the run", where)
    scenario = scenarios.from_dict(stored.scenario_doc, source=where)
    if scenarios.scenario_hash(scenario) != expected:
        raise InputError("validates to another scenario than the run's (the scenario schema changed?)", where)
    return scenario


def engine_changes(meta: dict[str, Any]) -> list[str]:
    """What differs between the engine that made a run and this one, each as ``'<name> <then> vs <now>'``.

    Package versions (anjeon, Python and the libraries in run.json
    ``versions``) must be equal, and so must the git commit. A modified tree
    (``-dirty``) is the same engine only when run.json's ``engine_sha256``
    (the sources of :data:`ENGINE_PACKAGES`) equals this tree's; a run.json
    without it cannot tell, so a modified tree then counts as a change.

    Parameters
    ----------
    meta : dict
        run.json.

    Returns
    -------
    list of str
        Empty when the engine is the same.
    """
    from sim.results import git_revision, versions

    then, now = meta.get("versions") or {}, versions()
    changes = [f"{name} {then.get(name, 'unknown')} (run) vs {now.get(name, 'unknown')} (now)"
               for name in dict.fromkeys([*now, *then]) if then.get(name) != now.get(name)]
    rev_then, rev_now = meta.get("git_revision"), git_revision()
    src_then, src_now = meta.get("engine_sha256"), engine_sha256()
    if _commit(rev_then) != _commit(rev_now):
        changes.append(f"git revision {rev_then} (run) vs {rev_now} (now)")
    elif src_then is not None:
        if src_then != src_now:
            changes.append(f"engine sources sha256 {src_then[:12]}... (run) vs {src_now[:12]}... (now), "
                           f"git revision {rev_then} (run) vs {rev_now} (now)")
    elif str(rev_then).endswith("-dirty") or str(rev_now).endswith("-dirty"):
        changes.append(f"git revision {rev_then} (run) vs {rev_now} (now), a modified tree, and run.json has "
                       "no engine_sha256 to tell whether the sources are the same")
    return changes


def _commit(revision: str | None) -> str | None:
    return None if revision is None else revision.removesuffix("-dirty")


def code_names(meta: dict[str, Any], scenario: Any) -> list[str]:
    """The policy and components of a run named as ``package.module:Name`` (code to import).

    Parameters
    ----------
    meta : dict
        run.json.
    scenario : scenarios.Scenario
        The run's scenario.

    Returns
    -------
    list of str
        Such as ``["policy 'my.mod:Mine'", "component 'my.mod:Part'"]``.
    """
    from agents.policies.registry import names_code

    found = [f"policy {meta['policy']['dispatch']!r}"] if names_code(meta["policy"]["dispatch"]) else []
    return found + [f"component {name!r}" for name in scenario.components if names_code(name)]


def compare(replayed: pd.DataFrame, stored_hash: str | None,
            stored_events: pd.DataFrame | None) -> tuple[bool, list[str]]:
    """Compare a replayed event log with the stored hash and, when kept, the stored table.

    Parameters
    ----------
    replayed : pandas.DataFrame
        The replay's events table.
    stored_hash : str, optional
        run.json ``events_sha256`` (None for runs written before it was recorded).
    stored_events : pandas.DataFrame, optional
        events.parquet, when kept.

    Returns
    -------
    (bool, list of str)
        Whether identical, and the report (first line the verdict, then the first difference).
    """
    new_hash = events_sha256(replayed)
    file_hash = None if stored_events is None else events_sha256(stored_events)
    if new_hash == (stored_hash or file_hash) and file_hash in (None, new_hash):
        return True, [f"replayed: identical event log ({len(replayed)} events, sha256 {new_hash})"]
    stored_n = len(stored_events) if stored_events is not None else "?"
    lines = [f"replayed: DIFFERENT event log ({len(replayed)} events replayed, {stored_n} stored)"]
    if stored_hash is not None and stored_hash != new_hash:
        lines.append(f"sha256 {stored_hash} (run.json) vs {new_hash} (replayed)")
    if stored_events is None:
        lines.append("events.parquet was not kept: no row to show")
    elif file_hash != new_hash:
        lines.append(first_difference(stored_events, replayed) or "the tables differ in their dtypes only")
        if stored_hash == new_hash:
            lines.append("the replay matches run.json events_sha256: events.parquet was changed after "
                         "the run")
    return False, lines


def first_difference(stored: pd.DataFrame, replayed: pd.DataFrame) -> str | None:
    """Say where two event logs first differ: the row, and each column that differs there.

    Parameters
    ----------
    stored, replayed : pandas.DataFrame
        Event tables.

    Returns
    -------
    str or None
        Such as ``first difference at events row 5 (seq 5): t_min 21.3 stored, 20.3 replayed``;
        None when equal value for value.
    """
    if list(stored.columns) != list(replayed.columns):
        return f"the columns differ: {list(stored.columns)} stored, {list(replayed.columns)} replayed"
    n = min(len(stored), len(replayed))
    unequal = {name: _unequal(stored[name].iloc[:n], replayed[name].iloc[:n]) for name in stored.columns}
    rows = [int(np.flatnonzero(ne)[0]) for ne in unequal.values() if ne.any()]
    if not rows:
        if len(stored) == len(replayed):
            return None
        longer, other = ("stored", "replayed") if len(stored) > n else ("replayed", "stored")
        return (f"the logs agree on their first {n} rows; the {longer} one goes on (row {n} on), "
                f"the {other} stops")
    row = min(rows)
    parts = [f"{name} {_show(stored[name].iloc[row])} stored, {_show(replayed[name].iloc[row])} replayed"
             for name, ne in unequal.items() if ne[row]]
    context = f" ({_show(stored['kind'].iloc[row])})" if "kind" in stored.columns else ""
    return f"first difference at events row {row}{context}: " + "; ".join(parts)


def _unequal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Boolean mask of the positions where two columns differ (null equals null only)."""
    x, y = a.astype(object).to_numpy(), b.astype(object).to_numpy()
    null_x, null_y = pd.isna(x), pd.isna(y)
    both = ~null_x & ~null_y
    equal = null_x & null_y
    equal[both] = (x[both] == y[both]).astype(bool)
    return ~equal


def _show(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "null"
    return repr(float(value)) if isinstance(value, float) else str(value)     # repr: every digit

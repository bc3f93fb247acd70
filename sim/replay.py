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


def replay(run_dir: str | Path, *, force: bool = False, allow_code: bool = False,
           probe: Any = None) -> Replay:
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
    probe : callable, optional
        Passed to :func:`sim.run`: called with the model before it runs (:class:`TripRecorder`).

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
                     allow_code=bool(code) and allow_code, probe=probe)
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


# -- the animated replay (anjeon replay RUN_DIR --html FILE) --------------------------
#: Tables an animated replay reads from the run directory besides run.json and scenario.json.
HTML_TABLES = ("events", "incidents", "units", "geography")


class TripRecorder:
    """Records every trip of every unit during a rerun, with the route the engine took.

    Passed as ``probe`` to :func:`sim.run`, it sets ``fleet.trace``; the
    units call it as each trip sets off (to a scene, a hospital, home, a new
    post, or home out of service), after any turnout, with where they are
    and where they go. The route is asked of the run's own travel view at
    that moment, so it is the route on the roads as they then were, which is
    the route whose time the unit drives (a road change during a trip does
    not change the trip's time). Asking the view for a route only reads it
    (and may fill its route cache); the replay still compares the event log,
    so a recording that changed the run would be seen.

    Trips are kept as flat arrays: for trip ``k``, ``unit[k]``, ``t0[k]`` and
    the route's points ``x``, ``y`` and minutes since ``t0`` (at the unit's
    speed) in ``offsets[k]:offsets[k + 1]``.
    """

    def __init__(self) -> None:
        self.model: Any = None
        #: road changes as they took effect: (t_min, tail, head, factor of each link)
        self.changes: list[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = []
        self.unit: list[int] = []
        self.t0: list[float] = []
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []

    def __call__(self, model: Any) -> None:
        """Attach to ``model`` before it runs. Mutates ``model.fleet.trace``."""
        self.model = model
        model.fleet.trace = self.record
        if hasattr(model.travel, "net"):  # also note each road change (this run's own view only)
            change = model.travel.change_links

            def noted(tail: np.ndarray, head: np.ndarray, factor: float | np.ndarray) -> None:
                change(tail, head, factor)
                tail = np.array(tail, dtype=np.int64).ravel()
                factors = np.broadcast_to(np.asarray(factor, dtype=np.float64), tail.shape)  # one per link
                self.changes.append((float(model.env.now), tail, np.array(head, dtype=np.int64).ravel(),
                                     factors))

            model.travel.change_links = noted

    def record(self, u: int, here: int, dest: int, now: float) -> None:
        """Keep the trip of unit ``u`` from ``here`` to ``dest`` setting off at ``now``."""
        travel = self.model.travel
        if hasattr(travel, "net"):  # a road network: the route's nodes
            nodes, cum = travel.route_arrays(int(here), int(dest))
        else:  # a straight line (plane), or no coordinates at all (matrix: NaN)
            nodes, cum = np.array([here, dest], dtype=np.int64), np.array([0.0, travel.time(here, dest)])
        self.unit.append(int(u))
        self.t0.append(float(now))
        self.parts.append((np.asarray(travel.xy(nodes), dtype=np.float64).reshape(-1, 2),
                           np.asarray(cum, dtype=np.float64) / float(self.model.world.unit_speed[u])))

    def trips(self) -> dict[str, np.ndarray]:
        """The trips as flat arrays: unit, t0_min, offsets, x_km, y_km, t_min (since t0)."""
        sizes = [len(c) for _, c in self.parts]
        empty = np.empty(0)
        return {
            "unit": np.asarray(self.unit, dtype=np.int64),
            "t0_min": np.asarray(self.t0, dtype=np.float64),
            "offsets": np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            "x_km": np.concatenate([xy[:, 0] for xy, _ in self.parts]) if sizes else empty,
            "y_km": np.concatenate([xy[:, 1] for xy, _ in self.parts]) if sizes else empty,
            "t_min": np.concatenate([c for _, c in self.parts]) if sizes else empty,
        }

    def roads(self) -> np.ndarray | None:
        """The road links as float64 segments (n, 4): x0, y0, x1, y1 (km), each once; None without roads."""
        geo = self.model.world.geo
        if not hasattr(geo, "net"):
            return None
        net, graph = geo.net, geo.net.graph
        tail = np.repeat(np.arange(net.n_nodes, dtype=np.int64), np.diff(graph.indptr))
        head = np.asarray(graph.indices, dtype=np.int64)
        pairs = np.unique(np.sort(np.column_stack([tail, head]), axis=1), axis=0)
        return np.hstack([net.xy[pairs[:, 0]], net.xy[pairs[:, 1]]])

    def road_changes(self) -> pd.DataFrame:
        """The road changes as segments: t_min, x0, y0, x1, y1 (km), factor (0 closed, 1 restored)."""
        rows = []
        if self.changes:
            xy = self.model.world.geo.net.xy
            for t, tail, head, factors in self.changes:
                for a, b, factor in zip(tail.tolist(), head.tolist(), factors.tolist(), strict=True):
                    rows.append((t, *xy[a], *xy[b], factor))
        return pd.DataFrame(rows, columns=["t_min", "x0", "y0", "x1", "y1", "factor"])

    def districts(self) -> list[tuple[str, np.ndarray]]:
        """The district names and boundary polygons (km), where the scenario gives them."""
        w = self.model.world
        return [(name, np.asarray(poly)) for name, poly in zip(w.district_names, w.district_boundaries,
                                                               strict=True) if poly is not None]


def stored_tables(path: Path, names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Read tables of a run directory, refusing (one line naming it) one that is missing or unreadable.

    Parameters
    ----------
    path : Path
        The run directory.
    names : tuple of str
        Table names (``<name>.parquet``).

    Returns
    -------
    dict of str to DataFrame

    Raises
    ------
    InputError
        ``missing table <name>.parquet`` (or unreadable), naming the directory.
    """
    out = {}
    for name in names:
        file = path / f"{name}.parquet"
        if not file.is_file():
            raise InputError(f"missing table {name}.parquet (an animated replay needs {', '.join(names)})",
                             str(path))
        out[name] = _read_events(file)
    return out


def replay_html(run_dir: str | Path, html: str | Path, *, force: bool = False, allow_code: bool = False,
                step_min: float | None = None) -> Replay:
    """Replay a run, recording its units' trips, and write the animated replay to ``html`` (atomically).

    The HTML is written only when the replayed log is identical to the
    stored one (else :attr:`Replay.identical` is False and nothing is
    written). Tables beyond :data:`HTML_TABLES` (``injects``, ``footprints``
    and any component's) are shown when the run directory has them.

    Parameters
    ----------
    run_dir : str or Path
        A run directory.
    html : str or Path
        The HTML file to write (through a temporary sibling, then a rename).
    force, allow_code : bool
        As for :func:`replay`.
    step_min : float, optional
        Minutes between frames (default: see :func:`analysis.replayview.frame_times`).

    Returns
    -------
    Replay

    Raises
    ------
    InputError
        As :func:`replay`, and a table missing from the run directory.
    """
    from analysis.cli import write_text_atomic
    from analysis.replayview import ReplayData, build_replay_html

    path = Path(run_dir)
    read_run_dir(path)
    tables = stored_tables(path, HTML_TABLES)
    for name in ("injects", "footprints"):
        if (path / f"{name}.parquet").is_file():
            tables[name] = _read_events(path / f"{name}.parquet")
    recorder = TripRecorder()
    done = replay(path, force=force, allow_code=allow_code, probe=recorder)
    if done.identical:
        meta = json.loads((path / "run.json").read_text(encoding="utf-8"))
        data = ReplayData(meta=meta, trips=recorder.trips(), roads=recorder.roads(),
                          districts=recorder.districts(), tables=tables, road_changes=recorder.road_changes())
        write_text_atomic(Path(html), build_replay_html(data, step_min=step_min))
    return done

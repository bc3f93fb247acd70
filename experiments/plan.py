"""Resolve a spec into a plan: configurations with stable ids, seeds, replications, baseline.

Everything a sweep needs is checked here, before anything is written: each
base scenario loads, each factor path is a field of it, each level is a
valid value, each combination validates, each dispatch policy is known and
each metric named in the spec exists. A configuration's id is a short hash
of its resolved scenario (SHA-256 of the scenario after overrides) and root
seed, so the same spec always gives the same ids, and a run's id is
``<config_id>-r<replication>``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import scenarios
from experiments import designs
from experiments.spec import POLICY_PATH, Experiment, canonical
from sim.errors import InputError

_METRIC_PATTERNS = (re.compile(r"^p\d+_(mean_response_min|within_target)$"), re.compile(r"^utilization_.+$"))


@dataclass(frozen=True)
class Configuration:
    """One point of the design applied to one base scenario.

    ``overrides`` (field path -> value, horizon and warm-up first) turn the
    base scenario ``scenario_ref`` (a built-in name or an absolute path) into
    the configured scenario whose hash is ``scenario_sha256``.
    """

    config_id: str
    label: str
    values: dict[str, Any]
    scenario: str
    scenario_ref: str
    scenario_sha256: str
    overrides: dict[str, Any]
    seed: int
    policy: str
    policy_params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (as in plan.json)."""
        return {"config_id": self.config_id, "label": self.label, "values": self.values,
                "scenario": self.scenario, "scenario_ref": self.scenario_ref,
                "scenario_sha256": self.scenario_sha256, "policy": self.policy,
                "policy_params": self.policy_params, "seed": self.seed,
                "overrides": self.overrides}


@dataclass(frozen=True)
class Plan:
    """A resolved experiment: what to run, in which order, and the baseline configuration."""

    spec: Experiment
    source: str
    configurations: tuple[Configuration, ...]
    baseline: str
    merged_duplicates: int = 0
    metric_keys: tuple[str, ...] = field(default=())

    @property
    def replications(self) -> int:
        """Replications run of every configuration at first."""
        return self.spec.replications

    @property
    def max_replications(self) -> int:
        """Replications a configuration may reach (with adaptive replications)."""
        a = self.spec.adaptive
        return a.max_replications if a is not None else self.spec.replications

    @property
    def n_runs(self) -> int:
        """Runs at first (configurations x replications)."""
        return len(self.configurations) * self.replications

    def config(self, config_id: str) -> Configuration:
        """The configuration with this id."""
        return self._by_id[config_id]

    @cached_property
    def _by_id(self) -> dict[str, Configuration]:
        return {c.config_id: c for c in self.configurations}

    def to_json(self) -> dict[str, Any]:
        """The plan as written to plan.json."""
        s = self.spec
        return {
            "name": s.name,
            "description": s.description,
            "factors": [{"name": n, "path": f.path, "levels": f.levels, "range": f.range,
                         "integer": f.integer} for n, f in s.factors.items()],
            "design": s.design.model_dump(mode="json"),
            "scenarios": sorted({c.scenario_ref for c in self.configurations}),
            "configurations": [c.to_json() for c in self.configurations],
            "seeds": sorted({c.seed for c in self.configurations}),
            "replications": s.replications,
            "max_replications": self.max_replications,
            "adaptive": s.adaptive.model_dump(mode="json") if s.adaptive else None,
            "horizon_min": s.horizon,
            "warmup_min": s.warmup,
            "baseline": self.baseline,
            "metrics": list(s.metrics),
            "keep_tables": list(s.keep_tables),
            "n_runs": self.n_runs,
            "merged_duplicates": self.merged_duplicates,
        }


def run_id(config_id: str, replication: int) -> str:
    """The id of replication ``replication`` of configuration ``config_id``."""
    return f"{config_id}-r{replication:03d}"


def make_plan(spec: Experiment, source: str = "<dict>", base_dir: str | Path = ".",
              probe: bool = True, allow_code: bool = False) -> Plan:
    """Resolve and check ``spec``.

    Parameters
    ----------
    spec : Experiment
        The validated spec.
    source : str
        The spec file (for error messages).
    base_dir : str or Path
        Directory that relative scenario paths are relative to (the spec file's).
    probe : bool
        Run each base scenario for a simulated day (warms the numba cache and
        lists the metric names used to check ``metrics`` and ``adaptive.metric``).
    allow_code : bool
        Accept policies and components named as ``package.module:attr`` (code);
        a spec or scenario file may otherwise name registered ones only.

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        Naming the spec file and field for a bad scenario, path, level, combination, policy or metric.
    """
    bases = [_load_base(spec, i, ref, source, Path(base_dir)) for i, ref in enumerate(spec.scenarios)]
    for base in bases:
        _check_factor_values(spec, base, source)
    pts = designs.points(spec)
    configs, merged = _configurations(spec, bases, pts, source)
    keys: set[str] = set()
    for base in bases:
        keys |= _check_policies(spec, base, configs, source, probe, allow_code)
    if probe:
        _check_metrics(spec, keys, source)
    baseline = _baseline(spec, configs, source)
    return Plan(spec, source, tuple(configs), baseline, merged, tuple(sorted(keys)))


@dataclass
class _Base:
    index: int
    ref: str
    scenario: Any        # the loaded base scenario (without the experiment's time overrides)
    time: dict[str, float]


def _load_base(spec: Experiment, i: int, entry: str, source: str, base_dir: Path) -> _Base:
    where = f"scenarios[{i}]"
    local = base_dir / entry
    try:
        if entry.endswith((".yaml", ".yml")) or "/" in entry or local.is_file():
            path = scenarios.resolve(local)
            ref = str(Path(path).resolve())
        else:
            path = scenarios.resolve(entry)
            ref = entry if entry in scenarios.builtin_names() else str(Path(path).resolve())
        scenario = scenarios.load(path)
    except InputError as exc:
        raise InputError(f"scenario {entry!r}: {exc.message}", source, where) from None
    time = {}
    if spec.horizon is not None:
        time["time.horizon"] = float(spec.horizon)
    if spec.warmup is not None:
        time["time.warmup"] = float(spec.warmup)
    if time:
        try:
            scenarios.override(scenario, time)
        except InputError as exc:
            field = "warmup" if spec.horizon is None else "horizon"
            inner = f"{exc.path}: {exc.message}" if exc.path else exc.message
            raise InputError(f"does not fit scenario {scenario.name!r}: {inner}", source, field) from None
    return _Base(i, ref, scenario, time)


def _candidates(spec: Experiment, name: str) -> list[tuple[str, Any]]:
    """(field path in the spec, value) pairs to check for factor ``name``."""
    f = spec.factors[name]
    if f.levels is not None and spec.design.kind != "list":
        return [(f"factors.{name}.levels[{i}]", v) for i, v in enumerate(f.levels)]
    if f.range is not None:
        low, high = (int(f.range[0]), int(f.range[1])) if f.integer else f.range
        return [(f"factors.{name}.range", low), (f"factors.{name}.range", high)]
    return [(f"design.configurations[{i}].{name}", c[name])
            for i, c in enumerate(spec.design.configurations or [])]


def _check_factor_values(spec: Experiment, base: _Base, source: str) -> None:
    """Each factor's path exists in ``base`` and each of its values validates alone."""
    dump = base.scenario.model_dump(mode="python", by_alias=True)
    for name, f in spec.factors.items():
        known = _has_path(dump, f.path)
        for where, value in _candidates(spec, name):
            try:
                scenarios.override(base.scenario, {**base.time, f.path: value})
            except InputError as exc:
                raise _value_error(exc, name, f.path, where, known, base, source) from None
            known = True


def _value_error(exc: InputError, name: str, path: str, where: str, known: bool, base: _Base,
                 source: str) -> InputError:
    inner = f"{exc.path}: {exc.message}" if exc.path else exc.message
    if not known:
        return InputError(f"{path!r} is not a field of scenario {base.scenario.name!r} ({inner})",
                          source, f"factors.{name}.path")
    return InputError(f"not a valid value in scenario {base.scenario.name!r}: {inner}", source, where)


def _has_path(doc: Any, path: str) -> bool:
    cur = doc
    for key in path.split("."):
        if not isinstance(cur, dict):
            return False
        match = next((k for k in cur if str(k) == key), None)
        if match is None:
            return False
        cur = cur[match]
    return True


def _configurations(spec: Experiment, bases: list[_Base], pts: list[dict[str, Any]],
                    source: str) -> tuple[list[Configuration], int]:
    configs: list[Configuration] = []
    seen: dict[str, Configuration] = {}
    index: dict[str, int] = {}
    merged = 0
    for base in bases:
        for i, values in enumerate(pts):
            config = _configure(spec, base, values, len(bases) > 1, source, i)
            if config.config_id in seen:
                if spec.design.kind in ("lhs", "random"):
                    merged += 1
                    continue
                raise _duplicate(spec, index[config.config_id], i, config, source)
            seen[config.config_id] = config
            index[config.config_id] = i
            configs.append(config)
    return configs, merged


def _configure(spec: Experiment, base: _Base, values: dict[str, Any], multi: bool, source: str,
               i: int) -> Configuration:
    overrides = {**base.time, **{spec.factors[n].path: v for n, v in values.items()}}
    label = _label(values, base.scenario.name, multi)
    try:
        scenario = scenarios.override(base.scenario, overrides)
    except InputError as exc:
        where = f"design.configurations[{i}]" if spec.design.kind == "list" else "factors"
        inner = f"{exc.path}: {exc.message}" if exc.path else exc.message
        raise InputError(f"configuration {label!r} is not a valid scenario: {inner}", source, where) from None
    seed = spec.seed if spec.seed is not None else scenario.seed
    sha = scenarios.scenario_hash(scenario)
    digest = hashlib.sha256(canonical({"scenario_sha256": sha, "seed": seed}).encode()).hexdigest()
    return Configuration(config_id=f"c{digest[:10]}", label=label, values=_plain(values),
                         scenario=scenario.name, scenario_ref=base.ref, scenario_sha256=sha,
                         overrides=_plain(overrides), seed=int(seed), policy=scenario.policy.dispatch,
                         policy_params=_plain(dict(scenario.policy.params)))


def _duplicate(spec: Experiment, first: int, again: int, config: Configuration, source: str) -> InputError:
    where = f"design.configurations[{again}]" if spec.design.kind == "list" else "factors"
    return InputError(f"design points {first} and {again} ({config.label}) give the same scenario and seed; "
                      "are two levels equal (such as 1 and 1.0)?", source, where)


def _label(values: dict[str, Any], scenario: str, multi: bool) -> str:
    text = ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())
    if not text:
        return scenario
    return f"{scenario}: {text}" if multi else text


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    return canonical(value)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Values as JSON types (numpy scalars, dates and the like become plain values or text)."""
    return json.loads(json.dumps(values, default=_json_default))


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _check_policies(spec: Experiment, base: _Base, configs: list[Configuration], source: str,
                    probe: bool, allow_code: bool = False) -> set[str]:
    """Resolve every dispatch policy and component of ``base``'s configurations.

    Returns the metric names of a probe run. Runs of the sweep may then import
    what was checked here (``sim.run`` allows code from the Python API).
    """
    from agents import components
    from agents.policies import resolve
    from experiments.runner import warm_up
    from sim.world import compile_world

    timed = scenarios.override(base.scenario, base.time) if base.time else base.scenario
    world = compile_world(timed)
    checked: set[str] = set()
    for config in configs:
        if config.scenario_ref != base.ref:
            continue
        key = canonical([config.policy, config.policy_params])
        if key in checked:
            continue
        checked.add(key)
        try:
            resolve(config.policy, dict(config.policy_params), world, source=source, allow_code=allow_code)
        except InputError as exc:
            raise InputError(exc.message, source, _policy_field(spec, config, base)) from None
    components.validate(world.components, scenarios.source_of(timed), world, allow_code=allow_code)
    return set(warm_up(timed, world)) if probe else set()


def _policy_field(spec: Experiment, config: Configuration, base: _Base) -> str:
    for name, f in spec.factors.items():
        if f.path not in (POLICY_PATH, "policy"):
            continue
        value = config.values[name]
        if spec.design.kind == "list":
            i = next(i for i, c in enumerate(spec.design.configurations or []) if c[name] == value)
            return f"design.configurations[{i}].{name}"
        if f.levels is not None:
            i = next(i for i, v in enumerate(f.levels) if canonical(v) == canonical(value))
            return f"factors.{name}.levels[{i}]"
        return f"factors.{name}"
    return f"scenarios[{base.index}]"


def _check_metrics(spec: Experiment, keys: set[str], source: str) -> None:
    named = [(f"metrics[{i}]", m) for i, m in enumerate(spec.metrics)]
    if spec.adaptive is not None:
        named.append(("adaptive.metric", spec.adaptive.metric))
    for where, metric in named:
        if metric in keys or any(p.match(metric) for p in _METRIC_PATTERNS):
            continue
        close = difflib.get_close_matches(metric, sorted(keys), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(keys))}"
        raise InputError(f"unknown metric {metric!r}; {hint}", source, where)


def _baseline(spec: Experiment, configs: list[Configuration], source: str) -> str:
    b = spec.baseline
    if b is None:
        return configs[0].config_id
    if isinstance(b, str):
        hit = [c for c in configs if b in (c.label, c.config_id)]
    else:
        want = {k: canonical(v) for k, v in b.items()}
        hit = [c for c in configs
               if all(canonical(c.scenario if k == "scenario" else c.values.get(k)) == v
                      for k, v in want.items())]
    if len(hit) != 1:
        some = "; ".join(c.label for c in configs[:4]) + ("; ..." if len(configs) > 4 else "")
        raise InputError(f"matches {len(hit)} configurations, expected exactly one (configurations: {some})",
                         source, "baseline")
    return hit[0].config_id

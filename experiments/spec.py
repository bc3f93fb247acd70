"""Experiment specs: YAML (or a dict) validated by pydantic, with one-line errors.

An experiment names one or more base scenarios, the factors to vary (each a
scenario field path such as ``fleets.Singil.ambulance``; the path
``policy.dispatch`` names the dispatch policy), a design that turns the
factors into configurations, and how many replications to run of each::

    name: ansan_policy_fleet
    scenarios: [ansan]
    seed: 1
    replications: 3
    horizon: 10 d
    warmup: 1 d
    factors:
      policy: {path: policy.dispatch, levels: [nearest, district_first]}
      singil_ambulances: {path: fleets.Singil.ambulance, levels: [2, 3]}

Errors name the file, the field path and what was expected (see
:class:`sim.errors.InputError`). Checks that need the scenarios (does a
field path exist, is a level valid, is a policy known) are in
:mod:`experiments.plan`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, ValidationError, model_validator

from scenarios.base import Duration, PositiveDuration, Strict, reference_error
from scenarios.loader import read_yaml, validation_error
from sim.errors import InputError

#: Tables a run can keep in ``runs/<run_id>/`` (run.json and scenario.json are always written).
TABLES = ("incidents", "assignments", "units", "events")
#: Column names of summary.parquet that a factor may not take.
RESERVED = frozenset({"run_id", "config_id", "label", "scenario", "seed", "replication",
                      "wall_time_s", "status", "policy"})
#: The scenario field path of the dispatch policy (the only path a factor named ``policy`` may have).
POLICY_PATH = "policy.dispatch"
DEFAULT_METRICS = ("mean_response_min", "p90_response_min", "within_target")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Factor(Strict):
    """One axis of the experiment: a scenario field path and the values it takes.

    ``levels`` lists the values (grid, and the categories sampled by lhs and
    random designs); ``range`` is ``[low, high]`` for lhs and random designs,
    with ``integer: true`` for whole numbers.
    """

    path: Annotated[str, Field(min_length=1)]
    levels: list[Any] | None = None
    range: tuple[float, float] | None = None
    integer: bool = False


class Design(Strict):
    """How factors become configurations.

    ``grid``: every combination of levels. ``list``: the mappings in
    ``configurations`` (factor name -> value). ``lhs`` (Latin hypercube) and
    ``random``: ``samples`` points drawn with ``seed`` over each factor's range
    (or its levels, as categories).
    """

    kind: Literal["grid", "list", "lhs", "random"] = "grid"
    samples: PositiveInt | None = None
    seed: NonNegativeInt | None = None
    configurations: Annotated[list[dict[str, Any]], Field(min_length=1)] | None = None


class Adaptive(Strict):
    """Add replications until a metric's confidence interval is narrow enough.

    After each configuration's replications finish, ``batch`` more are run
    while the half-width of the ``confidence`` interval (Student t) of
    ``metric``'s mean exceeds ``half_width`` (times ``|mean|`` when
    ``relative``), up to ``max_replications``.
    """

    metric: Annotated[str, Field(min_length=1)]
    half_width: PositiveFloat
    relative: bool = False
    confidence: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.95
    max_replications: PositiveInt
    batch: PositiveInt = 2


class Experiment(Strict):
    """A validated experiment spec (see the module docstring for the YAML shape)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    scenarios: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    seed: NonNegativeInt | None = None
    replications: PositiveInt
    horizon: PositiveDuration | None = None
    warmup: Duration | None = None
    factors: dict[str, Factor] = Field(default_factory=dict)
    design: Design = Design()
    baseline: dict[str, Any] | str | None = None
    metrics: Annotated[list[str], Field(min_length=1)] = Field(default_factory=lambda: list(DEFAULT_METRICS))
    keep_tables: list[Literal["incidents", "assignments", "units", "events"]] = Field(
        default_factory=lambda: list(TABLES))
    adaptive: Adaptive | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> Experiment:
        problem = (_check_names(self) or _check_design(self) or _check_baseline(self)
                   or _check_misc(self))
        if problem is not None:
            raise reference_error(*problem)
        return self

    @property
    def factor_names(self) -> list[str]:
        """Factor names in spec order."""
        return list(self.factors)


def _check_names(spec: Experiment) -> tuple[str, str] | None:
    paths: dict[str, str] = {}
    for name, f in spec.factors.items():
        problem = _check_factor(f)
        if problem is not None:
            return f"factors.{name}.{problem[0]}", problem[1]
        if not _NAME.match(name):
            return f"factors.{name}", "a factor name is letters, digits and _ (not starting with a digit)"
        if name == "policy" and f.path != POLICY_PATH:
            return f"factors.{name}.path", f"a factor named policy must have path {POLICY_PATH}"
        if name in RESERVED and name != "policy":
            return f"factors.{name}", f"{name!r} is a column of summary.parquet; choose another factor name"
        if f.path in paths:
            return f"factors.{name}.path", f"factor {paths[f.path]!r} already varies {f.path}"
        paths[f.path] = name
    return None


def _check_factor(f: Factor) -> tuple[str, str] | None:
    if not all(f.path.split(".")):
        return "path", f"expected a dotted field path such as demand.scale, got {f.path!r}"
    if f.levels is not None and f.range is not None:
        return "range", "give either levels or range, not both"
    if f.levels is not None and not f.levels:
        return "levels", "expected at least one level, got an empty list"
    seen: dict[str, int] = {}
    for i, value in enumerate(f.levels or []):
        key = canonical(value)
        if key in seen:
            return f"levels[{i}]", f"repeats level {seen[key]} ({value!r}); levels must be distinct"
        seen[key] = i
    if f.range is not None:
        low, high = f.range
        if not low < high:
            return "range", f"expected low < high, got [{low:g}, {high:g}]"
        if f.integer and (low != int(low) or high != int(high)):
            return "range", "an integer range needs whole-number bounds"
    elif f.integer:
        return "integer", "integer applies to a range only"
    return None


def _check_design(spec: Experiment) -> tuple[str, str] | None:
    d = spec.design
    sampled = d.kind in ("lhs", "random")
    if d.configurations is not None and d.kind != "list":
        return "design.configurations", f"configurations belong to a list design, not {d.kind}"
    if d.kind == "list" and d.configurations is None:
        return "design.configurations", "a list design needs configurations (factor name -> value)"
    if not sampled and (d.samples is not None or d.seed is not None):
        return ("design.samples" if d.samples is not None else "design.seed",
                f"only lhs and random designs take samples and seed, not {d.kind}")
    if sampled and d.samples is None:
        return "design.samples", f"an {d.kind} design needs the number of samples"
    if sampled and d.seed is None and spec.seed is None:
        return "design.seed", f"an {d.kind} design needs a seed (design.seed or the experiment's seed)"
    for name, f in spec.factors.items():
        if d.kind == "grid" and f.levels is None:
            return f"factors.{name}.levels", "a grid design needs levels (a range is for lhs and random)"
        if sampled and f.levels is None and f.range is None:
            return f"factors.{name}", f"an {d.kind} design needs levels or a range for every factor"
    if d.kind == "list":
        return _check_listed(spec)
    return None


def _check_listed(spec: Experiment) -> tuple[str, str] | None:
    names = set(spec.factors)
    for i, config in enumerate(spec.design.configurations or []):
        where = f"design.configurations[{i}]"
        extra = [k for k in config if k not in names]
        if extra:
            return f"{where}.{extra[0]}", f"not a factor; factors are {', '.join(spec.factors) or 'none'}"
        missing = [k for k in spec.factors if k not in config]
        if missing:
            return where, f"missing a value for factor {missing[0]!r}"
    return None


def _check_baseline(spec: Experiment) -> tuple[str, str] | None:
    if not isinstance(spec.baseline, dict):
        return None
    allowed = set(spec.factors) | {"scenario"}
    for key in spec.baseline:
        if key not in allowed:
            return f"baseline.{key}", f"not a factor; factors are {', '.join(spec.factors) or 'none'}"
    return None


def _check_misc(spec: Experiment) -> tuple[str, str] | None:
    if len(set(spec.keep_tables)) != len(spec.keep_tables):
        return "keep_tables", "tables are listed more than once"
    a = spec.adaptive
    if a is not None and a.max_replications < spec.replications:
        return "adaptive.max_replications", (f"must be at least replications ({spec.replications}), "
                                             f"got {a.max_replications}")
    if spec.horizon is not None and spec.warmup is not None and spec.warmup >= spec.horizon:
        return "warmup", f"must be shorter than horizon ({spec.horizon:g} min), got {spec.warmup:g} min"
    return None


def canonical(value: Any) -> str:
    """Canonical JSON text of a value (sorted keys), used to compare and hash levels."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def load_spec(path: str | Path) -> tuple[Experiment, str]:
    """Read and validate an experiment spec file.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    (Experiment, str)
        The validated spec and the file's text (kept verbatim in the result store).

    Raises
    ------
    InputError
        Naming the file, the field path and what was expected; or the line
        of a duplicate key (two factors of one name...), an alias bomb or
        nesting too deep (the file is read by :func:`scenarios.loader.read_yaml`,
        as scenarios are).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found" if not p.exists() else "not a file", source=str(p))
    data = read_yaml(p)
    return spec_from_dict(data, source=str(p)), p.read_text(encoding="utf-8")


def spec_from_dict(data: dict[str, Any], source: str = "<dict>") -> Experiment:
    """Validate an experiment given as a dict of the YAML shape.

    Parameters
    ----------
    data : dict
        The spec.
    source : str
        Where it came from, for error messages.

    Returns
    -------
    Experiment

    Raises
    ------
    InputError
        On the first problem, with its field path.
    """
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of fields, got {type(data).__name__}", source=source)
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data, source) from None

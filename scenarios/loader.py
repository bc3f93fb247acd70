"""Load scenarios from YAML files, built-in names or dicts; one clear error per problem."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from scenarios.safeyaml import MAX_DEPTH, UnsafeYAML, load_text
from sim.errors import InputError

if TYPE_CHECKING:  # the schema (pydantic) is imported where a scenario is built: listing files stays light
    from pydantic import ValidationError

    from scenarios.schema import Scenario

_LIBRARY = "scenarios.library"


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with Anjeon, sorted."""
    root = resources.files(_LIBRARY)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def builtin_path(name: str) -> Path:
    """Path of the built-in scenario ``name``."""
    return Path(str(resources.files(_LIBRARY).joinpath(f"{name}.yaml")))


def resolve(name_or_path: str | Path) -> Path:
    """Turn a built-in name or a file path into an existing file path.

    Raises
    ------
    InputError
        When neither a file nor a built-in scenario has that name.
    """
    text = str(name_or_path)
    path = Path(text)
    if path.is_file():
        return path
    if text in builtin_names():
        return builtin_path(text)
    if path.suffix in (".yaml", ".yml") or "/" in text or path.exists():
        raise InputError("file not found" if not path.exists() else "not a file", source=text)
    raise InputError(
        f"unknown scenario; built-in scenarios are {', '.join(builtin_names())}, "
        "or give the path of a .yaml file",
        source=text,
    )


def load(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a scenario by built-in name or file path, optionally with overrides.

    Parameters
    ----------
    name_or_path : str or Path
        ``"ansan"``, ``"mmc"``... or the path of a YAML file.
    overrides : dict, optional
        Field paths to new values, such as ``{"fleets.Singil.ambulance": 3}``.

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        Naming the file, the field path and what was expected.
    """
    path = resolve(name_or_path)
    data = read_yaml(path)
    if overrides:
        data = apply_overrides(data, overrides, source=str(path))
    return from_dict(data, source=str(path), base_dir=path.parent)


def read_yaml(path: Path) -> Any:
    """Read a YAML document that must be a mapping; YAML errors carry line and column.

    The file is data: it is read by :func:`scenarios.safeyaml.load_text`, which
    refuses duplicate keys, alias bombs and deep nesting. Experiment specs are
    read by this function too.

    Parameters
    ----------
    path : Path
        The YAML file.

    Returns
    -------
    dict
        The document.

    Raises
    ------
    InputError
        Naming the file, and the line and column when the YAML is at fault.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc.__class__.__name__}", source=str(path)) from None
    try:
        data = load_text(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if not isinstance(exc, UnsafeYAML):
            problem = f"YAML syntax error: {problem}"
        raise InputError(problem, source=str(path), path=where) from None
    if not isinstance(data, dict):
        raise InputError(
            f"expected a mapping of fields at the top level, got {type(data).__name__}",
            source=str(path),
        )
    return data


def from_dict(
    data: dict[str, Any], source: str = "<dict>", base_dir: str | Path | None = None
) -> Scenario:
    """Validate a scenario given as a Python dict of the YAML shape.

    Raises
    ------
    InputError
        On the first problem found, with its field path.
    """
    if not isinstance(data, dict):
        raise InputError(f"expected a dict, got {type(data).__name__}", source=source)
    deep = _too_deep(data)
    if deep is not None:
        raise InputError(f"nesting is deeper than {MAX_DEPTH} levels", source=source, path=deep or None)
    context = {"base_dir": str(base_dir) if base_dir is not None else "."}
    try:
        scenario = _schema().model_validate(data, context=context)
    except _validation_error_type() as exc:
        raise validation_error(exc, data, source) from None
    object.__setattr__(scenario, "__anjeon_source__", source)
    return scenario


def source_of(scenario: Scenario) -> str:
    """Where a scenario was loaded from (file path, ``<dict>``...)."""
    return getattr(scenario, "__anjeon_source__", "<dict>")


def validation_error(exc: ValidationError, data: Any, source: str) -> InputError:
    """Turn pydantic's errors into one InputError for the first of them."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    ctx = first.get("ctx") or {}
    if first["type"] == "reference":
        path, message = ctx["path"], ctx["message"]
    else:
        path = _loc_path(first["loc"], data)
        message = _message(first)
        if first["type"] == "unknown_field":
            path = f"{path}.{ctx['key']}" if path else ctx["key"]
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InputError(message, source=source, path=path or None)


def _loc_path(loc: tuple, data: Any) -> str:
    """Dotted path of ``loc`` through the input, skipping pydantic's union tags."""
    text, cur = "", data
    for i, part in enumerate(loc):
        if isinstance(cur, dict) and part in (cur.get("dist"), cur.get("kind")):
            continue  # the tag pydantic puts in the path of a tagged union
        if isinstance(cur, dict) and _has_key(cur, part):
            key = _key(cur, part)
            text += f".{key}" if text else str(key)
            cur = cur[key]
        elif isinstance(cur, list | tuple) and isinstance(part, int) and part < len(cur):
            text += f"[{part}]"
            cur = cur[part]
        elif isinstance(cur, dict) and i == len(loc) - 1 and isinstance(part, str):
            text += f".{part}" if text else part
    return text


def _has_key(d: dict, part: Any) -> bool:
    return part in d or str(part) in d or any(str(k) == str(part) for k in d)


def _key(d: dict, part: Any) -> Any:
    if part in d:
        return part
    return next(k for k in d if str(k) == str(part))


_PREFIX = re.compile(r"^(Value error|Assertion failed), ")


def _message(err: dict) -> str:
    kind, msg = err["type"], _PREFIX.sub("", err["msg"])
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        ctx = err["ctx"]
        return f"unknown {ctx['discriminator']} {ctx['tag']!r}; expected one of {ctx['expected_tags']}"
    if kind == "union_tag_not_found":
        return f"missing {err['ctx']['discriminator']} (the kind of this entry)"
    value = err.get("input")
    if kind not in ("value_error",) and _is_scalar(value):
        return f"{msg[:1].lower()}{msg[1:]} (got {value!r})"
    return msg


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and len(repr(value)) <= 60


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any], source: str) -> dict[str, Any]:
    """Return a copy of ``data`` with values set at dotted field paths.

    Intermediate mappings are created when missing; validation afterwards
    reports any path that is not a field, with a did-you-mean hint.
    """
    out = copy.deepcopy(data)
    for path, value in overrides.items():
        keys = path.split(".")
        if not all(keys):
            raise InputError("expected a dotted field path such as demand.scale", source, path)
        cur = out
        for depth, key in enumerate(keys[:-1]):
            nxt = cur.get(key) if isinstance(cur, dict) else None
            if nxt is None:
                nxt = cur[key] = {}
            if not isinstance(nxt, dict):
                where = ".".join(keys[: depth + 1])
                raise InputError(f"{where} is not a mapping of fields", source, path)
            cur = nxt
        cur[keys[-1]] = value
    return out


def override(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A new scenario equal to ``scenario`` with ``overrides`` applied and validated."""
    data = scenario.model_dump(mode="python", by_alias=True)
    source = source_of(scenario)
    return from_dict(apply_overrides(data, overrides, source), source=source)


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON form (independent of file layout).

    Mapping order is kept: the order of districts, stations, types... sets
    their indices, which the random draws depend on.
    """
    doc = scenario.model_dump(mode="json", by_alias=True)
    text = json.dumps(doc, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _schema() -> type[Scenario]:
    """The Scenario model (imported on first use)."""
    from scenarios.schema import Scenario

    return Scenario


def _validation_error_type() -> type[ValidationError]:
    """Pydantic's ValidationError (imported on first use)."""
    from pydantic import ValidationError

    return ValidationError


def _too_deep(data: Any) -> str | None:
    """The dotted path where ``data`` nests deeper than :data:`MAX_DEPTH`, or None (iterative).

    Files are refused by the YAML loader; this guards dicts built in Python,
    which pydantic would otherwise walk into a RecursionError.
    """
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            return path
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else str(k)) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value))
    return None

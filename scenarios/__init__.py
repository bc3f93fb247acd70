"""What a world is: the scenario schema, YAML loading with clear errors, the built-in library.

Names are imported on first use (PEP 562): listing the built-in scenarios
does not import the schema (pydantic), which the command line's ``scenario
list`` would otherwise pay for.
"""

from importlib import import_module
from typing import Any

#: name -> module holding it
_LAZY = {
    "SCHEMA_VERSION": "scenarios.schema",
    "Scenario": "scenarios.schema",
    "apply_overrides": "scenarios.loader",
    "builtin_names": "scenarios.loader",
    "from_dict": "scenarios.loader",
    "load": "scenarios.loader",
    "override": "scenarios.loader",
    "resolve": "scenarios.loader",
    "scenario_hash": "scenarios.loader",
    "source_of": "scenarios.loader",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """Import the public names on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value

"""What a world is: the scenario schema, YAML loading with clear errors, the built-in library."""

from scenarios.loader import (
    apply_overrides,
    builtin_names,
    from_dict,
    load,
    override,
    resolve,
    scenario_hash,
    source_of,
)
from scenarios.schema import SCHEMA_VERSION, Scenario

__all__ = [
    "SCHEMA_VERSION",
    "Scenario",
    "apply_overrides",
    "builtin_names",
    "from_dict",
    "load",
    "override",
    "resolve",
    "scenario_hash",
    "source_of",
]

"""Anjeon's engine: event core, compiled world, random streams, kernels, and the public ``run``.

Names are imported on first use (PEP 562), so that ``import sim.errors`` and
the ``anjeon`` command's argument parsing stay light.
"""

from importlib import import_module
from typing import Any

from sim.errors import InputError


def _version() -> str:
    """The installed package's version (importlib.metadata costs ~30 ms: read on first use)."""
    from importlib import metadata

    try:
        return metadata.version("anjeon")
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "0.0.0+unknown"

#: name -> (module, attribute); ``compile`` is the architecture's name for compile_world.
_LAZY = {
    "run": ("sim.api", "run"),
    "RunResult": ("sim.results", "RunResult"),
    "World": ("sim.world", "World"),
    "compile_world": ("sim.world", "compile_world"),
    "compile": ("sim.world", "compile_world"),
}


def __getattr__(name: str) -> Any:
    """Import the public names on first use."""
    if name == "__version__":
        value = _version()
        globals()[name] = value
        return value
    if name not in _LAZY:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


__all__ = ["InputError", "RunResult", "World", "__version__", "compile", "compile_world", "run"]

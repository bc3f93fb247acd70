"""Anjeon's engine: event core, compiled world, random streams, kernels, and the public ``run``."""

from importlib import metadata

from sim.errors import InputError
from sim.results import RunResult
from sim.run import run
from sim.world import World, compile_world

try:
    __version__ = metadata.version("anjeon")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

compile = compile_world

__all__ = ["InputError", "RunResult", "World", "__version__", "compile", "compile_world", "run"]

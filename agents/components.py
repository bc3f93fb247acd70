"""Components: mechanisms that plug into a run through their own scenario section.

A component is a class with a pydantic ``Section`` (its part of the scenario
file, under ``components.<name>``), registered by name like the dispatch
policies (or named ``package.module:Class``). For each run the model builds
it with the validated section; it adds its agents and SimPy processes in
:meth:`Component.start`, logs its own event kinds (registered with
:func:`sim.eventlog.register_kind` at import time) and may add columns to
the incidents table, whole tables of its own and figures to ``run.json``.
See docs/howto-components.md for a worked example.

Lifecycle: section validated and checked against the World (when the
scenario is checked or a run is set up; :meth:`Component.check` may return
what it prepared) -> ``Component(model, section)``, or ``Component(model,
section, prepared=...)`` when the check returned something, after every
built-in agent exists ->
``start()`` before the clock runs -> the run -> ``incident_columns(ids)``,
``tables()`` and ``summary()`` once, after the run.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from sim.errors import InputError

#: Component name -> class, filled by :func:`register`.
REGISTRY: dict[str, type[Component]] = {}
#: Entry point group under which installed packages offer components by name.
ENTRY_POINT_GROUP = "anjeon.components"


class Component:
    """Base class of a mechanism that plugs into a run.

    Subclasses set ``Section`` (a frozen pydantic model with ``extra="forbid"``:
    a typo in the scenario fails loudly) and override what they need.

    Parameters
    ----------
    model : agents.model.Simulation
        The run: ``model.env`` (SimPy), ``model.world`` (arrays),
        ``model.fleet``, ``model.dispatch``, ``model.calls``, ``model.travel``,
        ``model.log``, ``model.streams.named(name)`` (this component's random
        numbers) and ``model.raise_incident(...)``.
    section : BaseModel
        The component's validated section.
    """

    #: The scenario section's model; the default takes no settings.
    Section: ClassVar[type[BaseModel]]

    def __init__(self, model: Any, section: BaseModel):
        self.model = model
        self.section = section

    @classmethod
    def check(cls, world: Any, section: BaseModel, source: str | None) -> Any:
        """Check the section against the compiled World (names of units, districts...).

        Called when the scenario is checked and before a run; the default checks nothing.
        What checking works out (a grid, a terrain read from its file, a population
        plan) is returned rather than worked out again: before a run, a value other
        than None is passed to the constructor as ``prepared=``.

        Returns
        -------
        object or None
            What the constructor is given as ``prepared`` (None: nothing, and the
            constructor is called without it).

        Raises
        ------
        InputError
            Naming ``components.<name>.<field>``.
        """
        return None

    def start(self) -> None:
        """Start the component's SimPy processes (all agents exist; the clock is at 0)."""

    def incident_columns(self, ids: Any) -> dict[str, Any]:
        """Extra columns of the incidents table: arrays with one value per incident id in ``ids``."""
        return {}

    def tables(self) -> dict[str, dict[str, Any]]:
        """Tables of the component's own, as ``{name: {column: array}}``; written as ``<name>.parquet``."""
        return {}

    def summary(self) -> dict[str, Any]:
        """Figures added to ``run.json`` under ``components.<name>``."""
        return {}


class NoSettings(BaseModel):
    """The section of a component that takes no settings (write ``{}``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Component.Section = NoSettings


def incident_kind(world: Any, name: str, source: str | None, path: str) -> int:
    """The index of incident type ``name`` in ``world.type_names``, for a component's section.

    Raises
    ------
    InputError
        ``unknown incident type ...; expected one of ...`` at ``path``.
    """
    if name not in world.type_names:
        known = ", ".join(repr(n) for n in world.type_names)
        raise InputError(f"unknown incident type {name!r}; expected one of {known}", source, path)
    return world.type_names.index(name)


def register(name: str) -> Callable[[type[Component]], type[Component]]:
    """Class decorator: make a component available under ``name`` (its scenario key).

    Raises
    ------
    ValueError
        If ``name`` is taken by another component.
    """

    def deco(cls: type[Component]) -> type[Component]:
        if REGISTRY.get(name, cls) is not cls:
            raise ValueError(f"component {name!r} is already registered")
        REGISTRY[name] = cls
        return cls

    return deco


def lookup(name: str, source: str | None = None, *, allow_code: bool = False) -> type[Component]:
    """The component class of scenario key ``name``.

    ``name`` is a registry key (built in, registered with :func:`register`, or
    a plug-in installed under the entry point group :data:`ENTRY_POINT_GROUP`)
    or, with ``allow_code``, ``package.module:Class``.

    Parameters
    ----------
    name : str
        The key of the section in ``components``.
    source : str, optional
        Where the name came from, for error messages.
    allow_code : bool
        Whether ``package.module:Class`` may be imported: False for names read
        from a scenario file (data), True from the Python API or with ``--allow-code``.

    Returns
    -------
    type
        A :class:`Component` subclass.

    Raises
    ------
    InputError
        Unknown name, ``module:Class`` without ``allow_code``, or one that
        cannot be imported or is not a Component.
    """
    from agents.policies.registry import code_refused, names_code, plugin, plugin_names

    _builtin()
    path = f"components.{name}"
    if name in REGISTRY:
        return REGISTRY[name]
    found = plugin(ENTRY_POINT_GROUP, name, "component", source, path)
    if found is not None:
        return register(name)(_component_class(found, name, source, path))
    known = sorted(set(REGISTRY) | set(plugin_names(ENTRY_POINT_GROUP)))
    if not names_code(name):
        names = ", ".join(repr(k) for k in known) or "none"
        raise InputError(f"unknown component {name!r}; expected one of {names} or package.module:Class",
                         source, path)
    if not allow_code:
        raise code_refused(name, "components", known, ENTRY_POINT_GROUP, source, path)
    module, _, attr = name.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot import component {name!r}: {exc}", source, path) from None
    return _component_class(cls, name, source, path)


def _component_class(cls: Any, name: str, source: str | None, path: str) -> type[Component]:
    if not (isinstance(cls, type) and issubclass(cls, Component)):
        raise InputError(f"{name!r} is not an agents.components.Component subclass", source, path)
    return cls


def validate(sections: dict[str, Any], source: str | None = None, world: Any = None, *,
             allow_code: bool = False) -> list[tuple[str, type[Component], BaseModel, Any]]:
    """Validate every component section; returns ``(name, class, section, prepared)`` in scenario order.

    With ``world``, each component also checks its section against it
    (:meth:`Component.check`); ``prepared`` is what the check returned (None without ``world``).

    Parameters
    ----------
    sections : dict
        ``components`` of a scenario: name -> raw section.
    source : str, optional
        Where they came from, for error messages.
    world : sim.world.World, optional
        The compiled World to check the sections against.
    allow_code : bool
        Whether names may be ``package.module:Class`` (see :func:`lookup`).

    Returns
    -------
    list of (str, type, BaseModel, object)

    Raises
    ------
    InputError
        One line naming ``components.<name>.<field>`` and what was expected.
    """
    built = []
    for name, raw in sections.items():
        cls = lookup(name, source, allow_code=allow_code)
        try:
            section = cls.Section.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            raise _section_error(exc, name, sorted(cls.Section.model_fields), source) from None
        prepared = cls.check(world, section, source) if world is not None else None
        built.append((name, cls, section, prepared))
    return built


def _section_error(exc: ValidationError, name: str, fields: list[str], source: str | None) -> InputError:
    """The first problem of a section as one InputError (path below ``components.<name>``).

    An unknown field is reported first, with the closest allowed name: a typo
    also makes the intended field "missing", and the typo is the news.
    """
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(first["loc"][-1]), fields, n=1, cutoff=0.6)
        message = "unknown field" + (f"; did you mean {close[0]!r}?" if close
                                     else f"; allowed: {', '.join(fields) or 'none'}")
    elif first["type"] == "missing":
        message = "required field is missing"
    elif not isinstance(first.get("input"), dict | list):
        message += f" (got {first.get('input')!r})"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return InputError(message, source, f"components.{name}" + (f".{loc}" if loc else ""))


def _builtin() -> None:
    """Import the modules of the built-in components (they register themselves)."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


#: Modules whose components are built in (imported before a name is looked up).
BUILTIN_MODULES: tuple[str, ...] = (
    "agents.moveup",
    "agents.fire",
    "agents.drill",
    "agents.reserves",
    "agents.drones",
    "agents.sensors",
    "agents.prepositioning",
    "agents.escalation",
    "agents.citizens",
    "agents.flood",
    "agents.plume",
    "agents.quake",
)

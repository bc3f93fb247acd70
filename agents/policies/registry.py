"""The dispatch policy registry and name resolution (registry key, plug-in or ``module:attribute``).

A scenario file is data: it may name registered policies only (the built-in
ones, those registered with :func:`register`, and plug-ins that installed
packages declare under the entry point group :data:`ENTRY_POINT_GROUP`).
``package.module:attribute`` imports code, so :func:`resolve` accepts it only
with ``allow_code=True`` (the Python API, or the command line's ``--allow-code``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from importlib import metadata
from typing import Any

from sim.errors import InputError

#: Policy name -> class (or factory) called as ``factory(world, **params)``.
REGISTRY: dict[str, Callable[..., Any]] = {}
#: Entry point group under which installed packages offer dispatch policies by name.
ENTRY_POINT_GROUP = "anjeon.policies"


def register(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Class decorator: make a policy available under ``name``.

    Raises
    ------
    ValueError
        If ``name`` is taken by another policy.
    """

    def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
        if REGISTRY.get(name, factory) is not factory:
            raise ValueError(f"dispatch policy {name!r} is already registered")
        REGISTRY[name] = factory
        return factory

    return deco


def resolve(spec: str, params: dict[str, Any], world: Any, source: str | None = None,
            path: str | None = "policy.dispatch", *, allow_code: bool = False) -> Any:
    """Build the policy named ``spec`` with ``params`` for ``world``.

    Parameters
    ----------
    spec : str
        A registry key (built in, registered with :func:`register`, or a plug-in
        installed under the entry point group :data:`ENTRY_POINT_GROUP`), or
        ``package.module:attribute`` naming a class or factory.
    params : dict
        Keyword parameters of the policy.
    world : sim.world.World
    source : str, optional
        Where the name came from, for error messages.
    path : str, optional
        Field path of the name in ``source`` (None for a command-line flag).
    allow_code : bool
        Whether ``package.module:attribute`` may be imported. False for names
        read from files (a scenario or a spec is data, not code); True for
        names given to the Python API, or with the command line's ``--allow-code``.

    Returns
    -------
    object with a ``select(candidates, k)`` method.

    Raises
    ------
    InputError
        Unknown name, ``module:attribute`` without ``allow_code``, module that
        cannot be imported, or parameters the policy does not take.
    """
    import agents.policies.dispatch  # noqa: F401  (registers the built-in policies)

    factory = _lookup(spec, source, path, allow_code)
    try:
        inspect.signature(factory).bind(world, **params)
    except TypeError as exc:
        raise InputError(f"parameters do not fit policy {spec!r}: {exc}", source, "policy.params") from None
    except ValueError:  # no signature available: let the call decide
        pass
    try:
        policy = factory(world, **params)
    except (TypeError, ValueError) as exc:
        raise InputError(f"policy {spec!r}: {exc}", source, "policy.params") from None
    if not callable(getattr(policy, "select", None)):
        raise InputError(f"{spec!r} has no select(candidates, k) method", source, path)
    return policy


def names_code(spec: str) -> bool:
    """True when ``spec`` names code to import (``package.module:attribute``), not a registered name."""
    return ":" in spec


def plugin(group: str, name: str, kind: str, source: str | None, path: str | None) -> Any | None:
    """Load the plug-in ``name`` of entry point ``group``, or None when no installed package has it.

    Parameters
    ----------
    group : str
        Entry point group, such as ``"anjeon.policies"``.
    name : str
        The entry point's name (the name a scenario uses).
    kind : str
        What it is, for error messages (``"dispatch policy"``).
    source, path : str, optional
        Where the name came from, for error messages.

    Returns
    -------
    object or None
        What the entry point names.

    Raises
    ------
    InputError
        When the installed plug-in cannot be loaded.
    """
    for ep in metadata.entry_points(group=group, name=name):
        try:
            return ep.load()
        except Exception as exc:  # any failure of third-party code is reported in one line
            raise InputError(f"cannot load {kind} plug-in {name!r} ({ep.value}, entry point group "
                             f"{group}): {exc.__class__.__name__}: {exc}", source, path) from None
    return None


def plugin_names(group: str) -> list[str]:
    """Names of the installed plug-ins of entry point ``group``, sorted."""
    return sorted({ep.name for ep in metadata.entry_points(group=group)})


def code_refused(spec: str, kind: str, known: list[str], group: str, source: str | None,
                 path: str | None) -> InputError:
    """The error for ``module:attribute`` named where code is not allowed.

    Parameters
    ----------
    spec : str
        The name given.
    kind : str
        ``"policies"``, ``"components"``.
    known : list of str
        The registered names.
    group : str
        The entry point group plug-ins register under.
    source, path : str, optional
        Where the name came from.

    Returns
    -------
    InputError
    """
    return InputError(
        f"{spec!r} names code; a scenario may name registered {kind} only "
        f"({', '.join(known) or 'none'}, or plug-ins installed under the entry point group {group}); "
        "use --allow-code or the Python API", source, path)


def _lookup(spec: str, source: str | None, path: str | None, allow_code: bool) -> Callable[..., Any]:
    if spec in REGISTRY:
        return REGISTRY[spec]
    found = plugin(ENTRY_POINT_GROUP, spec, "dispatch policy", source, path)
    if found is not None:
        return register(spec)(found)
    known = sorted(set(REGISTRY) | set(plugin_names(ENTRY_POINT_GROUP)))
    if not names_code(spec):
        raise InputError(
            f"unknown dispatch policy {spec!r}; known: {', '.join(known)}, or 'package.module:Name'",
            source, path,
        )
    if not allow_code:
        raise code_refused(spec, "policies", known, ENTRY_POINT_GROUP, source, path)
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import module {module_name!r}: {exc}", source, path) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InputError(f"module {module_name!r} has no attribute {attr!r}", source, path) from None

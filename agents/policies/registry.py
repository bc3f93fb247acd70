"""The dispatch policy registry and name resolution (registry key or ``module:attribute``)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from sim.errors import InputError

#: Policy name -> class (or factory) called as ``factory(world, **params)``.
REGISTRY: dict[str, Callable[..., Any]] = {}


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
            path: str | None = "policy.dispatch") -> Any:
    """Build the policy named ``spec`` with ``params`` for ``world``.

    Parameters
    ----------
    spec : str
        A registry key, or ``package.module:attribute`` naming a class or factory.
    params : dict
        Keyword parameters of the policy.
    world : sim.world.World
    source : str, optional
        Where the name came from, for error messages.
    path : str, optional
        Field path of the name in ``source`` (None for a command-line flag).

    Returns
    -------
    object with a ``select(candidates, k)`` method.

    Raises
    ------
    InputError
        Unknown name, module that cannot be imported, or parameters the policy does not take.
    """
    import agents.policies.dispatch  # noqa: F401  (registers the built-in policies)

    factory = _lookup(spec, source, path)
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


def _lookup(spec: str, source: str | None, path: str | None) -> Callable[..., Any]:
    if spec in REGISTRY:
        return REGISTRY[spec]
    if ":" not in spec:
        known = ", ".join(sorted(REGISTRY))
        raise InputError(
            f"unknown dispatch policy {spec!r}; known: {known}, or 'package.module:Name'",
            source, path,
        )
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import module {module_name!r}: {exc}", source, path) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InputError(f"module {module_name!r} has no attribute {attr!r}", source, path) from None

"""Decision policies, looked up by name in a registry that users extend.

A scenario names its dispatch policy in ``policy.dispatch``: a registry key
(``nearest``, ``district_first``) or ``package.module:attribute`` for a
policy defined in the user's own module. :func:`register` adds a class to the
registry under a name.
"""

from agents.policies.dispatch import Candidates, DispatchPolicy
from agents.policies.registry import REGISTRY, register, resolve

__all__ = ["REGISTRY", "Candidates", "DispatchPolicy", "register", "resolve"]

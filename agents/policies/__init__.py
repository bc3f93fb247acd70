"""Decision policies, looked up by name in a registry that users extend.

A scenario names its dispatch policy in ``policy.dispatch``: a registry key
(``nearest``, ``district_first``, or a plug-in installed under the entry
point group ``anjeon.policies``). ``package.module:attribute`` names a policy
in the user's own module; it imports code, so it is accepted from the Python
API and with ``--allow-code`` only. :func:`register` adds a class to the
registry under a name.
"""

from agents.policies.dispatch import Candidates, DispatchPolicy
from agents.policies.registry import ENTRY_POINT_GROUP, REGISTRY, register, resolve

__all__ = ["ENTRY_POINT_GROUP", "REGISTRY", "Candidates", "DispatchPolicy", "register", "resolve"]

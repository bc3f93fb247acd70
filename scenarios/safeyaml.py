"""A YAML loader for files that are data: bounded, unambiguous, and never code.

Every scenario and experiment spec is read through :func:`load_text`. On top
of ``yaml.SafeLoader`` (no Python objects) it refuses, with the line and
column of the offending node:

- a key given twice in one mapping (YAML would keep the last silently);
- aliases that expand the document by more than :data:`MAX_ALIAS_NODES`
  nodes (the "billion laughs" bomb), or an alias inside its own anchor;
- nesting deeper than :data:`MAX_DEPTH` levels (Python would hit its
  recursion limit).

The document is never expanded to check this: each composed node's expanded
size is computed once from its children's, so an alias bomb costs as much
as its text.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

#: Deepest nesting of mappings and lists; scenarios need fewer than 10 levels.
MAX_DEPTH = 50
#: Most nodes that aliases may add to a document when it is expanded.
MAX_ALIAS_NODES = 100_000
_MERGE = "tag:yaml.org,2002:merge"


class UnsafeYAML(yaml.MarkedYAMLError):
    """Well-formed YAML that is refused as data (duplicate key, alias bomb, deep nesting)."""


def _refuse(problem: str, mark: Any) -> UnsafeYAML:
    return UnsafeYAML(problem=problem, problem_mark=mark)


class DataLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the checks of this module; one instance per document.

    Parameters
    ----------
    stream : str
        The YAML text.
    """

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}     # id(node) -> nodes when expanded (aliases copied)
        self._open_anchors: set[str] = set()  # anchors of nodes being composed
        self._alias_nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # noqa: D102  (yaml's API)
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            return self._compose_alias(parent, index, event)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _refuse(f"nesting is deeper than {MAX_DEPTH} levels", event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open_anchors.discard(anchor)
        self._sizes[id(node)] = 1 + sum(self._size(child) for child in _children(node))
        return node

    def _compose_alias(self, parent: Node | None, index: Any, event: yaml.AliasEvent) -> Node:
        if event.anchor in self._open_anchors:
            raise _refuse(f"alias *{event.anchor} is inside its own anchor (a recursive structure)",
                          event.start_mark)
        node = super().compose_node(parent, index)
        self._alias_nodes += self._size(node)
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise _refuse(f"aliases expand the document by more than {MAX_ALIAS_NODES} nodes "
                          "(an alias bomb?)", event.start_mark)
        return node

    def _size(self, node: Node) -> int:
        return self._sizes.get(id(node), 1)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # noqa: D102
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue  # keys merged in with << may be overridden: that is what merging is for
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the base class says so
            if first is not None:
                text = repr(key) if len(repr(key)) <= 60 else repr(key)[:57] + "..."
                raise _refuse(f"duplicate key {text} (first given on line {first})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_text(text: str) -> Any:
    """Parse one YAML document as data.

    Parameters
    ----------
    text : str
        The YAML text.

    Returns
    -------
    Any
        Plain Python data (dicts, lists, strings, numbers, booleans, None, dates).

    Raises
    ------
    yaml.YAMLError
        On a syntax error; :class:`UnsafeYAML` (a subclass) on a duplicate
        key, an alias bomb or nesting deeper than :data:`MAX_DEPTH`. Both
        carry ``problem_mark`` (line and column).
    """
    loader = DataLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()

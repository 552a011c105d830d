"""Visitors and transformers over the AST, in LibCST's style.

A `Visitor` is told about every node, depth first, in source order:

- `visit_<Node>(node)` before the node's children; returning False skips them;
- `leave_<Node>(node)` after them (also when they were skipped).

A `Transformer` rebuilds the tree bottom-up, without mutating it:

- `visit_<Node>(node)` as above (False: the children are kept as they are);
- `leave_<Node>(original, updated)` returns the node that replaces `original`: `updated`
  is `original` with its children already transformed (the same object when none
  changed), `original` the node as it was before. Returning `REMOVE` deletes a node from
  the tuple that holds it.

`<Node>` is a class name (`visit_Ref`, `leave_NodeDecl`), or the name of a base class,
which then stands for every node class below it that has no method of its own
(`visit_Statement`, `leave_Node`). The method each node class calls is looked up once per
visitor class, not built from a string at every node.

>>> class Heads(Visitor):
...     def __init__(self) -> None:
...         self.heads: list[str] = []
...     def visit_Ref(self, node: ast.Ref) -> None:
...         self.heads.append(node.head)
>>> heads = Heads(); heads.visit(module); heads.heads

>>> class Rename(Transformer):
...     def leave_Ref(self, original: ast.Ref, updated: ast.Ref) -> ast.Node:
...         return updated.with_changes(parts=("answer", *updated.parts[1:]))
>>> Rename().transform(module)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from . import ast

N = TypeVar("N", bound=ast.Node)

_Method = Callable[..., Any] | None


class _Dispatch:
    """The lookup of `visit_<Node>` / `leave_<Node>`, once per (visitor class, node class)."""

    _methods: ClassVar[dict[type, tuple[_Method, _Method]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._methods = {}

    @classmethod
    def _methods_for(cls, node_class: type) -> tuple[_Method, _Method]:
        methods = cls._methods.get(node_class)
        if methods is None:
            methods = (cls._find("visit_", node_class), cls._find("leave_", node_class))
            cls._methods[node_class] = methods
        return methods

    @classmethod
    def _find(cls, prefix: str, node_class: type) -> _Method:
        """`<prefix><Class>` for the first class in the MRO of `node_class` that has one."""
        for base in node_class.__mro__:
            method = getattr(cls, prefix + base.__name__, None)
            if method is not None:
                return method  # type: ignore[no-any-return]
            if base is ast.Node:
                break
        return None


class Visitor(_Dispatch):
    """Walks a tree; subclasses define `visit_<Node>` and `leave_<Node>` methods."""

    def visit(self, node: ast.Node) -> None:
        """Walk `node` and its descendants."""
        node_class = type(node)
        methods = self._methods.get(node_class) or self._methods_for(node_class)
        visit, leave = methods
        if visit is None or visit(self, node) is not False:
            for child in ast.child_nodes(node):
                self.visit(child)
        if leave is not None:
            leave(self, node)


class Transformer(_Dispatch):
    """Rebuilds a tree; subclasses define `visit_<Node>` and `leave_<Node>` methods."""

    def transform(self, node: ast.Node) -> ast.Node:
        """The tree that replaces `node` (`node` itself when nothing changed; `REMOVE`
        when a `leave_` method removed it)."""
        node_class = type(node)
        methods = self._methods.get(node_class) or self._methods_for(node_class)
        visit, leave = methods
        updated = node
        if visit is None or visit(self, node) is not False:
            changes = self._transform_children(node)
            if changes:
                updated = node.with_changes(**changes)
        if leave is None:
            return updated
        return leave(self, node, updated)  # type: ignore[no-any-return]

    def _transform_children(self, node: ast.Node) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name in ast.node_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, ast.Node):
                new = self.transform(value)
                if new is not value:
                    changes[name] = new
            elif type(value) is tuple and value:
                items = [self.transform(v) if isinstance(v, ast.Node) else v for v in value]
                kept = [v for v in items if v is not ast.REMOVE]
                if len(kept) != len(value) or any(
                    a is not b for a, b in zip(kept, value, strict=True)
                ):
                    changes[name] = tuple(kept)
        return changes


class FunctionTransformer(Transformer):
    """A transformer from one function `fn(original, updated)` that returns the
    replacement, or None to keep `updated`: what `Node.transform` uses."""

    def __init__(self, fn: Callable[[ast.Node, ast.Node], ast.Node | None]) -> None:
        self.fn = fn

    def leave_Node(self, original: ast.Node, updated: ast.Node) -> ast.Node:
        replacement = self.fn(original, updated)
        return updated if replacement is None else replacement

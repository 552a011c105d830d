"""Visitors and transformers: the calls they make, against a brute-force recursive walk
that reads the pydantic fields itself (no `child_nodes`, no dispatch table)."""

from typing import Any

from hypothesis import HealthCheck, given, settings

from rolegraph import parse
from rolegraph.compiler import ast
from rolegraph.compiler.visit import Transformer, Visitor

from .strategies import modules

PROPERTY = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SOURCE = """
role W(q: str) -> str { prompt "{{ q }}" }
agent A(q: str) -> str {
  w = W(q)
  v = W(q: w)
  w -> v when w == "x" max 2
  return v
}
"""


def brute_children(node: ast.Node) -> list[ast.Node]:
    children: list[ast.Node] = []
    for name in type(node).model_fields:
        if name in ast.TRIVIA:
            continue
        value = getattr(node, name)
        items = value if isinstance(value, tuple) else (value,)
        children.extend(item for item in items if isinstance(item, ast.Node))
    return children


def brute_events(node: ast.Node, skip: type | None = None) -> list[tuple[str, ast.Node]]:
    events = [("visit", node)]
    if skip is None or not isinstance(node, skip):
        for child in brute_children(node):
            events.extend(brute_events(child, skip))
    events.append(("leave", node))
    return events


class Recorder(Visitor):
    def __init__(self, skip: type | None = None) -> None:
        self.events: list[tuple[str, ast.Node]] = []
        self.skip = skip

    def visit_Node(self, node: ast.Node) -> bool:
        self.events.append(("visit", node))
        return self.skip is None or not isinstance(node, self.skip)

    def leave_Node(self, node: ast.Node) -> None:
        self.events.append(("leave", node))


def same_events(a: list[tuple[str, ast.Node]], b: list[tuple[str, ast.Node]]) -> bool:
    return len(a) == len(b) and all(
        x[0] == y[0] and x[1] is y[1] for x, y in zip(a, b, strict=True)
    )


@PROPERTY
@given(modules)
def test_a_visitor_visits_and_leaves_every_node_in_the_order_of_a_recursive_walk(module):
    recorder = Recorder()
    recorder.visit(module)
    assert same_events(recorder.events, brute_events(module))


@PROPERTY
@given(modules)
def test_visit_returning_false_skips_the_children_but_not_the_leave(module):
    recorder = Recorder(skip=ast.AgentDecl)
    recorder.visit(module)
    assert same_events(recorder.events, brute_events(module, skip=ast.AgentDecl))


def test_the_method_of_the_class_wins_over_the_method_of_a_base_class():
    seen: list[str] = []

    class Kinds(Visitor):
        def visit_Ref(self, node: ast.Ref) -> None:
            seen.append("ref")

        def visit_Statement(self, node: ast.Statement) -> None:
            seen.append("statement")

        def visit_NodeDecl(self, node: ast.NodeDecl) -> None:
            seen.append("node")

    Kinds().visit(parse(SOURCE))
    # RoleDecl, Prompt, AgentDecl, w, v, the edge, the return: statements; two of them nodes
    assert seen.count("node") == 2
    assert seen.count("statement") == 5
    assert seen.count("ref") == 4  # q, w (argument), w (guard), v (return)


def test_each_node_class_is_looked_up_once_per_visitor_class():
    class Counting(Visitor):
        lookups = 0

        @classmethod
        def _find(cls, prefix: str, node_class: type) -> Any:
            cls.lookups += 1
            return super()._find(prefix, node_class)

    module = parse(SOURCE)
    Counting().visit(module)
    Counting().visit(module)
    classes = {type(n) for n in module.walk()}
    assert Counting.lookups == 2 * len(classes)  # a visit_ and a leave_ per class, once


class Identity(Transformer):
    def leave_Node(self, original: ast.Node, updated: ast.Node) -> ast.Node:
        assert updated is original  # no child changed: the same object comes back up
        return updated


@PROPERTY
@given(modules)
def test_the_identity_transform_returns_the_tree_itself(module):
    assert Identity().transform(module) is module


def brute_rename(node: ast.Node) -> ast.Node:
    """Every reference's head prefixed with `x_`, rebuilt by hand from the fields."""
    values: dict[str, Any] = {}
    for name in type(node).model_fields:
        value = getattr(node, name)
        if isinstance(value, ast.Node):
            value = brute_rename(value)
        elif isinstance(value, tuple):
            value = tuple(brute_rename(v) if isinstance(v, ast.Node) else v for v in value)
        values[name] = value
    if isinstance(node, ast.Ref):
        values["parts"] = ("x_" + node.parts[0], *node.parts[1:])
    return type(node)(**values)


class Rename(Transformer):
    def __init__(self) -> None:
        self.pairs: list[tuple[ast.Node, ast.Node]] = []

    def leave_Node(self, original: ast.Node, updated: ast.Node) -> ast.Node:
        self.pairs.append((original, updated))
        return updated

    def leave_Ref(self, original: ast.Ref, updated: ast.Ref) -> ast.Node:
        self.pairs.append((original, updated))
        return updated.with_changes(parts=("x_" + updated.parts[0], *updated.parts[1:]))


@PROPERTY
@given(modules)
def test_leave_gets_the_untouched_original_and_the_updated_node(module):
    before = [node for kind, node in brute_events(module) if kind == "leave"]
    rename = Rename()
    result = rename.transform(module)
    assert result == brute_rename(module)
    # one leave per node, bottom-up, and `original` is the very node of the input tree
    assert len(rename.pairs) == len(before)
    assert all(o is b for (o, _), b in zip(rename.pairs, before, strict=True))
    for original, updated in rename.pairs:
        assert type(updated) is type(original)
        changed = any(isinstance(n, ast.Ref) for n in brute_children(original)) or any(
            n is not o
            for n, o in zip(brute_children(updated), brute_children(original), strict=True)
        )
        assert (updated is original) != changed


def test_a_transformer_that_skips_children_keeps_them():
    class RenameOutsideAgents(Rename):
        def visit_AgentDecl(self, node: ast.AgentDecl) -> bool:
            return False

    module = parse(SOURCE)
    result = RenameOutsideAgents().transform(module)
    assert result.decl("A") is module.decl("A")
    assert result.decl("W") == module.decl("W")  # (a role holds no reference)


def test_returning_remove_deletes_a_node_from_its_tuple():
    class NoEdges(Transformer):
        def leave_EdgeDecl(self, original: ast.EdgeDecl, updated: ast.EdgeDecl) -> ast.Node:
            return ast.REMOVE

    module = parse(SOURCE)
    result = NoEdges().transform(module)
    assert result.find(ast.EdgeDecl) is None
    assert len(result.decl("A").body) == len(module.decl("A").body) - 1


def test_node_transform_passes_the_original_and_the_updated_node():
    module = parse(SOURCE)
    seen: list[tuple[ast.Node, ast.Node]] = []

    def rename(original: ast.Node, updated: ast.Node) -> ast.Node | None:
        seen.append((original, updated))
        if isinstance(updated, ast.Ref) and updated.head == "w":
            return updated.with_changes(parts=("draft",))
        return None

    result = module.transform(rename)
    edge = next(o for o, u in seen if isinstance(o, ast.EdgeDecl))
    new_edge = next(u for o, u in seen if isinstance(o, ast.EdgeDecl))
    assert edge is module.find(ast.EdgeDecl)  # the original, with the old guard
    assert "w ==" in str(edge) and "draft ==" in str(new_edge)
    assert result.find(ast.EdgeDecl) == new_edge


@PROPERTY
@given(modules)
def test_children_and_walk_agree_with_the_fields(module):
    for node in module.walk():
        assert list(node.children()) == brute_children(node)
    assert same_events(
        [("n", n) for n in module.walk()],
        [("n", n) for kind, n in brute_events(module) if kind == "visit"],
    )


def brute_without(node: ast.Node, kinds: tuple[type, ...]) -> ast.Node:
    values: dict[str, Any] = {}
    for name in type(node).model_fields:
        value = getattr(node, name)
        if isinstance(value, ast.Node):
            value = brute_without(value, kinds)
        elif isinstance(value, tuple):
            value = tuple(
                brute_without(v, kinds) if isinstance(v, ast.Node) else v
                for v in value
                if not isinstance(v, kinds)
            )
        values[name] = value
    return type(node)(**values)


@PROPERTY
@given(modules)
def test_removed_nodes_leave_their_tuples_as_a_rebuild_by_hand_would(module):
    class Prune(Transformer):
        def leave_EdgeDecl(self, original: ast.Node, updated: ast.Node) -> ast.Node:
            return ast.REMOVE

        def leave_Constraint(self, original: ast.Node, updated: ast.Node) -> ast.Node:
            return ast.REMOVE

    assert Prune().transform(module) == brute_without(module, (ast.EdgeDecl, ast.Constraint))

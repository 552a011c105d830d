"""The AST as an API: immutable, trivia-blind equality, traversal, validated edits."""

import pytest
from pydantic import ValidationError

from rolegraph import parse, to_source
from rolegraph.compiler import ast

SOURCE = """
model fast = "m"  // a model
role W(q: str) -> str {
  model fast
  prompt "{{ q }}"
}
agent A(q: str) -> str {
  w = W(q)
  v = W(q: w)
  w -> v when w == "x" max 2
  return v
}
"""


def test_equality_ignores_spans_comments_and_layout():
    squeezed = (
        'model fast = "m"\nrole W(q: str) -> str { model fast prompt "{{ q }}" }\n'
        'agent A(q: str) -> str { w = W(q) v = W(q: w) w -> v when (w == "x") max 2 return v }'
    )
    a, b = parse(SOURCE), parse(squeezed)
    assert a == b
    assert hash(a) == hash(b)
    assert a.decls[0].trailing_comment == "// a model"
    assert a.decls[0].span != b.decls[0].span


def test_nodes_are_immutable():
    module = parse(SOURCE)
    with pytest.raises(ValidationError):
        module.decls[0].name = "slow"  # type: ignore[misc]


def test_find_all_walks_the_whole_tree_in_source_order():
    module = parse(SOURCE)
    assert [n.name for n in module.find_all(ast.NodeDecl)] == ["w", "v"]
    assert [r.parts for r in module.find_all(ast.Ref)] == [("q",), ("w",), ("w",), ("v",)]
    assert module.find(ast.EdgeDecl).max == 2


def test_with_changes_returns_a_new_validated_node():
    role = parse(SOURCE).decl("W")
    changed = role.with_changes(prompt=ast.Prompt(text="Be brief: {{ q }}"))
    assert changed.prompt.text == "Be brief: {{ q }}"
    assert role.prompt.text == "{{ q }}"
    with pytest.raises(ValidationError):
        role.with_changes(name="role")  # a keyword
    with pytest.raises(ValidationError):
        role.with_changes(name="not a name")


def test_transform_rebuilds_bottom_up():
    module = parse(SOURCE)

    def rename(_, node):
        if isinstance(node, ast.Ref) and node.head == "w":
            return ast.Ref(parts=("draft", *node.parts[1:]))
        if isinstance(node, ast.NodeDecl) and node.name == "w":
            return node.with_changes(name="draft")
        if isinstance(node, ast.EdgeDecl) and node.source == "w":
            return node.with_changes(source="draft")
        return None

    renamed = module.transform(rename)
    assert "draft = W(q)" in to_source(renamed)
    assert 'draft -> v when draft == "x" max 2' in to_source(renamed)
    assert module.find(ast.NodeDecl).name == "w"  # the original is untouched


def test_transform_can_remove_statements():
    module = parse(SOURCE)
    pruned = module.transform(lambda _, n: ast.REMOVE if isinstance(n, ast.EdgeDecl) else None)
    assert pruned.find(ast.EdgeDecl) is None
    assert len(pruned.decl("A").body) == 3


def test_invalid_trees_cannot_be_built():
    ref = ast.Ref(parts=("w",))
    with pytest.raises(ValidationError):
        ast.EdgeDecl(source="w", target=ast.NodeTarget(node="v"), max=0)
    with pytest.raises(ValidationError):
        ast.NodeDecl(name="n", role="R", replicate=2, map=ast.MapClause(var="s", source=ref, max=3))
    with pytest.raises(ValidationError):
        ast.NodeDecl(name="F", role="R")  # a temporal operator
    with pytest.raises(ValidationError):
        ast.Param(name="p", type=ast.NamedType(name="str"), default=ref)  # not a constant
    with pytest.raises(ValidationError):
        ast.LtlHolds(expr=ast.Ref(parts=("w",)))  # a bare name is LtlFired
    with pytest.raises(ValidationError):
        ast.FloatLit(value=float("nan"))
    with pytest.raises(ValidationError):
        ast.EnumDecl(name="E", members=())


def test_field_names_and_enum_members_may_be_keywords():
    module = parse(
        "type Job { type: str, max: int }\nenum Kind { model, return }\n"
        "agent A(j: Job) -> str { return j.type }\n"
    )
    assert [f.name for f in module.decl("Job").fields] == ["type", "max"]
    assert module.find(ast.ReturnStmt).value == ast.Ref(parts=("j", "type"))


def test_json_round_trip_keeps_everything():
    module = parse(SOURCE, "x.agent")
    again = ast.Module.model_validate_json(module.model_dump_json())
    assert again == module
    assert again.decls[0].span == module.decls[0].span


def test_json_schema_is_exportable():
    schema = ast.Module.model_json_schema()
    assert "AgentDecl" in schema["$defs"]


def test_word_and_letter_forms_of_temporal_operators_are_the_same_tree():
    words = parse(
        "agent A() -> str { ensure always(eventually a) and (b until c) "
        "and (next d or wnext e) and (once f since start) and historically "
        "yesterday g and (h release i) }"
    )
    letters = parse(
        "agent A() -> str { ensure G(F a) && (b U c) && (X d || WX e) "
        "&& (O f S start) && H Y g && (h R i) }"
    )
    assert words == letters


def test_a_modules_index_of_declarations_goes_with_the_module():
    """`Module.decl`'s table is kept while its module lives, and no longer (an identity
    reused by a later module must not find it: compiler/identity.py)."""
    import gc

    module = parse(SOURCE)
    first = module.decls[0]
    assert module.decl(first.name) is first
    key = id(module)
    assert key in ast._DECL_INDEX
    del module
    gc.collect()
    assert key not in ast._DECL_INDEX

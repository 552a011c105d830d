"""The checker remembers, weakly, the declarations it measured shallow enough
(compiler/depth.py): a declaration past the nesting limit is reported at every check,
one edited past the limit is measured again, and a declaration no longer used is
forgotten."""

from __future__ import annotations

import gc

from rolegraph.compiler import ast, depth
from rolegraph.compiler import check as checker
from rolegraph.compiler.depth import MAX_AST_NESTING


def _codes(module: ast.Module) -> list[str]:
    checked = checker.check_module(module, "built.agent", lambda text, name: (None, []), "")
    return [d.code for d in checked.diagnostics]


def _record(depth: int) -> ast.TypeDecl:
    kind: ast.Node = ast.NamedType(name="str")
    for _ in range(depth):
        kind = ast.ListType(item=kind)
    return ast.TypeDecl(name="T", fields=(ast.FieldDecl(name="x", type=kind),))


def test_a_declaration_past_the_limit_is_reported_at_every_check():
    module = ast.Module(decls=(_record(MAX_AST_NESTING + 5),))
    assert _codes(module) == ["E0115"]
    assert _codes(module) == ["E0115"]


def test_a_declaration_edited_past_the_limit_is_measured_again():
    shallow = ast.Module(decls=(_record(3),))
    assert "E0115" not in _codes(shallow)
    field = shallow.decls[0].fields[0]
    deeper = field.type
    for _ in range(MAX_AST_NESTING + 5):
        deeper = ast.ListType(item=deeper)
    edited = shallow.with_changes(
        decls=(shallow.decls[0].with_changes(fields=(field.with_changes(type=deeper),)),)
    )
    assert _codes(edited) == ["E0115"]


def test_a_declaration_no_longer_used_is_forgotten():
    depth.clear_measured()
    module = ast.Module(decls=(_record(3),))
    _codes(module)
    assert any(depth._SHALLOW.values())
    del module
    gc.collect()
    assert not any(depth._SHALLOW.values())

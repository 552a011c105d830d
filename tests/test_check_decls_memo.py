"""A program's record types, models and enums are replayed from the check memo where their
declarations and environments are as at an earlier check (compiler/check_decls.py
`record_types`, `check_alone`; memo.py `records`, `declarations`).

Held to the check without a memo (the oracle: nothing remembered) along sequences of
programs checked in turn with one memo, each compared with a memo-less check of it: the
diagnostics in order, every record type the signatures reach (its fields, descriptions,
defaults and default values) and the IRs. The sequences change a type's declaration, a
record an imported file declares (the file changed on disk within the session, the
importing declarations the same objects), a type reached through a namespace, an enum a
record reads, and models and enums with and without errors, and go back to earlier
programs (whose entries replay)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.check import CheckedModule, check_module
from rolegraph.compiler.typecheck import CheckMemo
from rolegraph.compiler.types import DictT, ListT, OptionalT, RecordT, Type
from rolegraph.grammar import parse_module


def _parse(text: str, name: str) -> tuple[ast.Module | None, Any]:
    result = parse_module(text, name)
    return result.module, result.diagnostics


def _records(checked: CheckedModule) -> list[Any]:
    """Every record type the signatures reach, as data (by name, then field by field)."""
    found: dict[str, RecordT] = {}

    def visit(t: Type) -> None:
        if isinstance(t, RecordT):
            if t.name in found:
                return
            found[t.name] = t
            for field in t.fields.values():
                visit(field)
        elif isinstance(t, ListT | OptionalT):
            visit(t.item if isinstance(t, ListT) else t.inner)
        elif isinstance(t, DictT):
            visit(t.value)

    for signature in checked.signatures.values():
        for _, t, _ in signature.params or ():
            visit(t)
        visit(signature.returns)
    return [
        (name, repr(t.fields), t.descriptions, sorted(t.defaults), repr(t.default_values))
        for name, t in sorted(found.items())
    ]


def _said(checked: CheckedModule) -> list[Any]:
    return [(d.code, d.file, d.span, str(d)) for d in checked.diagnostics]


def _agrees(memo: CheckMemo, module: ast.Module, filename: str) -> bool:
    """The module checked with the memo (twice: the second from what the first left) says
    what a check without one says; whether it checked clean."""
    cold = check_module(module, filename, _parse, "", errors_only=True, irs=True)
    for _ in range(2):
        warm = check_module(module, filename, _parse, "", errors_only=True, irs=True, memo=memo)
        assert _said(warm) == _said(cold)
        assert _records(warm) == _records(cold)
        assert {n: ir.model_dump() for n, ir in warm.irs.items()} == {
            n: ir.model_dump() for n, ir in cold.irs.items()
        }
    return not cold.errors


AGENT = """
role R(task: str, previous: Answer? = none) -> Answer {
  model fast
  prompt "{{ task }}"
}
agent A(task: str) -> Answer {
  a = R(task)
  b = R(task, previous: a)
  return b
}
"""


def _program(*decls: str) -> ast.Module:
    return rolegraph.parse("\n".join(decls) + AGENT, "d.agent")


def _swapped(base: ast.Module, index: int, text: str) -> ast.Module:
    """`base` with its declaration at `index` replaced by `text`'s only one (the others
    the same objects)."""
    decl = rolegraph.parse(text, "d.agent").decls[0]
    return base.with_changes(decls=(*base.decls[:index], decl, *base.decls[index + 1 :]))


def test_record_types_models_and_enums_replay_as_checked_without_a_memo() -> None:
    model = 'model fast = "mock" { temperature: 0.2 }'
    answer = 'type Answer { text: str @desc("the text"), score: float = 0.5, tone: Tone }'
    tone = "enum Tone { calm, loud }"
    base = _program(model, tone, answer)
    programs = [
        base,
        _swapped(base, 2, "type Answer { text: str, score: int = 2, tone: list[Tone] }"),
        base,
        _swapped(base, 2, "type Answer { text: str, text: int, other: Nope = 1 @what }"),
        _swapped(base, 1, "enum Tone { calm, calm, loud }"),
        _swapped(base, 1, "enum Tone { quiet, loud }"),
        _swapped(base, 0, 'model fast = "mock" { temperature: 9, color: 1 }'),
        _swapped(base, 0, 'model fast = "mock" { temperature: 0.7 }'),
        base,
        _program(model, tone, answer, "type Extra { answer: Answer, more: list[Extra] }"),
        _program(model, tone, "type Answer { inner: Inner }", "type Inner { x: Answer? }"),
        base,
    ]
    memo = CheckMemo()
    clean = [_agrees(memo, module, "d.agent") for module in programs]
    assert clean.count(False) >= 3 and clean.count(True) >= 4
    assert memo.records and memo.declarations  # (what replayed was there to replay)


def test_records_declared_by_an_imported_file_follow_the_file_within_a_session(
    tmp_path: Path,
) -> None:
    """The importing module's declarations stay the same objects while the file that
    declares the records changes on disk: the records, and the errors in them, are the
    file's now (imported by name, and through a namespace)."""
    types = tmp_path / "types.agent"
    main = tmp_path / "main.agent"
    main.write_text(
        'import "./types.agent" as t\n'
        'from "./types.agent" import Answer\n'
        'model fast = "mock" { temperature: 0 }\n'
        "role R(task: str, previous: t.Answer? = none) -> Answer {\n"
        "  model fast\n"
        '  prompt "{{ task }}"\n'
        "}\n"
        "agent A(task: str) -> Answer {\n"
        "  a = R(task)\n"
        "  b = R(task, previous: a)\n"
        "  return b\n"
        "}\n"
    )
    versions = [
        "type Answer { text: str, score: float }",
        "type Answer { text: str, score: int = 3 }",
        "type Answer { text: str, text: float }",
        "type Answer { text: str, inner: Inner }\ntype Inner { ok: bool }",
        "type Answer { text: str, score: float }",
    ]
    base = rolegraph.parse_file(main)
    memo = CheckMemo()
    clean = []
    for text in versions:
        types.write_text(text + "\n")
        clean.append(_agrees(memo, base, str(main)))
    assert clean == [True, True, False, True, True]


def _agrees_whole(memo: CheckMemo, module: ast.Module, filename: str, parse: Any) -> None:
    """`_agrees`, with `parse` and every signature by qualified name as well."""
    cold = check_module(module, filename, parse, "", errors_only=True, irs=True)
    for _ in range(2):
        warm = check_module(module, filename, parse, "", errors_only=True, irs=True, memo=memo)
        assert _said(warm) == _said(cold)
        assert {n: repr(s) for n, s in warm.signatures.items()} == {
            n: repr(s) for n, s in cold.signatures.items()
        }
        assert {n: ir.model_dump() for n, ir in warm.irs.items()} == {
            n: ir.model_dump() for n, ir in cold.irs.items()
        }


def test_the_same_roles_checked_as_the_main_module_then_imported_replay_their_names(
    tmp_path: Path,
) -> None:
    """The same declarations of the same file, checked as the program's main module and
    then imported by another (a parse that gives back the same tree for the same text):
    the environment is the same, the roles' qualified names are not (`R`, then the
    file's key and `R`)."""
    lib = tmp_path / "lib.agent"
    lib.write_text(
        'model fast = "mock" { temperature: 0 }\n'
        "type Answer { text: str }\n"
        'role R(task: str) -> Answer {\n  model fast\n  prompt "{{ task }}"\n}\n'
        'role S(task: str, n: int = "x") -> Answer {\n  model fast\n  prompt "{{ task }}"\n}\n'
    )
    main = tmp_path / "main.agent"
    main.write_text(
        'from "./lib.agent" import R, Answer\n'
        "agent A(task: str) -> Answer {\n  a = R(task)\n  return a\n}\n"
    )
    trees: dict[tuple[str, str], Any] = {}

    def parse(text: str, name: str) -> tuple[ast.Module | None, Any]:
        if (text, name) not in trees:
            trees[text, name] = _parse(text, name)
        return trees[text, name]

    memo = CheckMemo()
    for path in (lib, main, lib, main):
        tree, _ = parse(path.read_text(), str(path))
        assert tree is not None
        _agrees_whole(memo, tree, str(path), parse)

"""A check of a program whose declarations other than its agents' bodies are the same
objects as at an earlier check replays what those gave at once (memo.py `Declared`,
`declarations_key`; check_decls.py `run`; check_agents.py `carried`): each such check
says what the memo-less check says, diagnostic for diagnostic, IR for IR, node for node,
signature for signature. Along seeded edit walks of every example and of programs that
import files and the standard library, with the edits of the other declarations (a role
changed, a model's parameter set, another model) among them, and checks that go back to
an earlier program, the same one or its text parsed again."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.check import CheckedModule, check_module
from rolegraph.compiler.check_decls import DeclChecker
from rolegraph.compiler.edits import OPERATORS, ChangeModel, ChangeRole, EditError, SetModelParam
from rolegraph.compiler.edits.base import replace_decl
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.printer import to_source

from .conftest import EXAMPLES
from .edit_walks import edit_walk, generated_module
from .test_check_agent_walks import _parse, _said

DECLARATION_EDITS = (ChangeRole, SetModelParam, ChangeModel)


def _said_whole(checked: CheckedModule) -> tuple[Any, ...]:
    signatures = {name: repr(signature) for name, signature in checked.signatures.items()}
    return (*_said(checked), signatures)


class _Replays:
    """Counts the checks whose declarations replayed at once (`DeclChecker.run` found them
    in the memo: then `_same` is the entry's before any agent is checked)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.count = 0
        record_types = DeclChecker.record_types

        def counted(checker: DeclChecker) -> None:
            self.count += checker._same is not None
            record_types(checker)

        monkeypatch.setattr(DeclChecker, "record_types", counted)


def _agrees(session: CheckSession, module: ast.Module, filename: str, **options: Any) -> bool:
    checked = session.check(module, **options)
    fresh = check_module(module, filename, _parse, "", root=session.root, **options)
    assert _said_whole(checked) == _said_whole(fresh), options
    return not checked.errors


def _siblings(module: ast.Module, rng: random.Random, count: int) -> list[ast.Module]:
    """Programs one edit away from `module`: edits of declarations (a node calling
    another role, a role's model's parameter, another model; a role's result type, a
    prompt that names no parameter, an agent's result type), then up to `count` others."""
    made: list[ast.Module] = []
    declarations = [site for op in DECLARATION_EDITS for site in op.sites(module)]
    others = [site for op in OPERATORS for site in op.sites(module)]
    chosen = rng.sample(declarations, min(2, len(declarations)))
    chosen += rng.sample(others, min(count, len(others)))
    for edit in chosen:
        try:
            made.append(edit.apply(module))
        except (EditError, ValueError):
            continue
    # (no operator changes a signature, or makes a role that reports)
    text = ast.NamedType(name="str")
    roles = [decl for decl in module.decls if isinstance(decl, ast.RoleDecl)]
    if roles:
        role = rng.choice(roles)
        made.append(replace_decl(module, role, role.with_changes(returns=text)))
        prompt = ast.Prompt(text="{{ no_such_name }}")
        made.append(replace_decl(module, role, role.with_changes(prompt=prompt)))
    if module.agents:  # (an agent another calls: its callee's signature changed)
        agent = rng.choice(module.agents)
        made.append(replace_decl(module, agent, agent.with_changes(returns=text)))
    return made


def walk(
    start: ast.Module, filename: str, seed: str, steps: int, siblings: int, **session: Any
) -> int:
    """Along a seeded walk of `steps` edits from `start`, each program's `siblings` one
    edit away checked one after another by one session, then an earlier program again
    (the same objects, or its text parsed anew), each as the memo-less check says (one
    with errors checked twice); returns how many checks were clean."""
    rng = random.Random(seed)
    checker = CheckSession(filename, **session)
    seen: list[ast.Module] = []
    clean = 0
    for module in edit_walk(start, rng, steps):
        for index, candidate in enumerate([module, *_siblings(module, rng, siblings)]):
            options: dict[str, Any] = {"errors_only": True}
            if index % 5 == 4:
                options["irs"] = True
            if not _agrees(checker, candidate, filename, **options):  # (and its errors again)
                _agrees(checker, candidate, filename, **options)
            else:
                clean += 1
        seen.append(module)
        back = rng.choice(seen)  # (back to an earlier program: the same objects...)
        clean += _agrees(checker, back, filename, errors_only=True)
        again = rolegraph.parse(to_source(back), filename)  # (...and parsed anew)
        clean += _agrees(checker, again, filename, errors_only=True)
        clean += _agrees(checker, back, filename, errors_only=True)
    return clean


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_walks_over_every_example_replay_the_declarations_as_checked_without_a_memo(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replays = _Replays(monkeypatch)
    clean = walk(rolegraph.parse_file(path), str(path), f"declared-{path.stem}", 4, 8)
    assert clean and replays.count  # (the shortcut is taken along each walk)


def test_a_walk_over_a_generated_agent_replays_the_declarations_as_checked_without_a_memo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replays = _Replays(monkeypatch)
    clean = walk(generated_module(8, 30), "generated.agent", "declared-generated", 4, 20)
    assert clean > 20 and replays.count > 20


LIBRARY = """\
import std.types
model slow = "openai/gpt-4o" { temperature: 0.1 }
type Draft { text: str, notes: list[str] }
enum Verdict { good, bad }
role Outline(topic: str) -> Draft {
  model slow
  prompt "Outline {{ topic }}."
}
role Judge(draft: Draft) -> Verdict {
  model slow
  prompt "Judge {{ draft.text }}."
}
"""

MAIN = """\
from "./lib.agent" import Draft, Verdict, Outline, Judge, slow
import "./lib.agent" as lib
import std.types
model fast = "openai/gpt-4o-mini" { temperature: 0.2, max_tokens: 300 }
type Answer { text: str, verdict: Verdict }
role Write(draft: Draft) -> Answer {
  model fast
  prompt "Write from {{ draft.text }}."
}
role Polish(answer: Answer) -> Answer {
  model slow
  prompt "Polish {{ answer.text }}."
}
agent Draw(topic: str) -> Answer {
  outline = Outline(topic: topic)
  judged = lib.Judge(draft: outline)
  write = Write(draft: outline)
  polish = Polish(answer: write)
  outline -> judged
  outline -> write
  write -> polish
  return polish
}
agent Twice(topic: str) -> Answer {
  first = Draw(topic: topic)
  second = Polish(answer: first)
  first -> second
  return second
}
"""


def test_walks_over_a_program_that_imports_files_replay_the_declarations_as_checked_without_a_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lib.agent").write_text(LIBRARY)
    main = tmp_path / "main.agent"
    main.write_text(MAIN)
    start = rolegraph.parse_file(main)
    assert not check_module(start, str(main), _parse, "", root=tmp_path).errors
    replays = _Replays(monkeypatch)
    for seed in range(3):
        walk(start, str(main), f"declared-imports-{seed}", 4, 10, root=tmp_path)
    assert replays.count
    session = CheckSession(str(main), root=tmp_path)
    changed = LIBRARY.replace("Outline(topic: str)", "Outline(topic: int)")
    for library in (LIBRARY, changed, LIBRARY):
        (tmp_path / "lib.agent").write_text(library)  # (the file imported, changed on disk)
        for _ in range(2):
            _agrees(session, start, str(main), errors_only=True)

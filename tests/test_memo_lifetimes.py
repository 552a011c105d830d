"""The check memo holds entries for the programs still alive, not for every program it has
ever checked (compiler/memo.py: entries go with their environment, declaration or
statement; identity.py).

A program parsed again is all new objects, so nothing the memo learnt from the last parse
can serve it; before, an editor that parsed its file at each keystroke kept every parse's
agents, roles, records and graphs until a table reached 4,096 entries (~0.3 MB a parse of
a small file: 620 MiB after 2,000). The oracle here is the count of entries: after many
parses let go, the memo holds what it held after one; while programs are alive their
entries stay, and serve the checks of their edits (a replay, seen by the check not being
run again)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from rolegraph.compiler import check_decls
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.memo import CheckMemo
from rolegraph.grammar import parse_module

EXAMPLE = Path(__file__).parent.parent / "examples" / "self_refine.agent"
TABLES = (
    "roles",
    "records",
    "declarations",
    "graphs",
    "agents",
    "tests",
    "statements",
    "declared",
)


def _sizes(memo: CheckMemo) -> dict[str, int]:
    gc.collect()
    return {name: len(getattr(memo, name)) for name in TABLES}


def _parsed(text: str, name: str = str(EXAMPLE)):  # type: ignore[no-untyped-def]
    module = parse_module(text, name).module
    assert module is not None
    return module


LIBRARY = """
type Answer { text: str, score: float }
model slow = "mock" { temperature: 0 }
tool count_words(expression: str) -> float = "rolegraph.stdlib.tools:calculator"
"""

# programs that declare no type, model or tool of their own: every object their
# environment's key names is imported (from a file beside them, kept parsed by the
# session, or the standard library), so their environment outlives each parse
IMPORTS_ONLY = """
from "./lib.agent" import Answer, count_words, slow

role R(task: str) -> Answer {
  model slow
  prompt "{{ task }}"
  tools [count_words] max 2
}

agent A(task: str) -> Answer {
  a = R(task)
  b = R(task)
  b -> return(b)
}

test t1 {
  run A(task: "x")
  mock R [{text: "a", score: 1.0}]
  expect calls(R) >= 1
}
"""

STD_ONLY = """
from std.types import Answer
from std.chain_of_thought import fast

role Solver(question: str) -> Answer {
  model fast
  prompt "Question: {{ question }}"
}

agent A(question: str) -> Answer {
  s = Solver(question)
  return s
}
"""


@pytest.mark.parametrize("program", ["self_refine", "imports_only", "std_only"])
def test_programs_parsed_again_and_let_go_leave_the_memo_as_one_did(
    program: str, tmp_path: Path
) -> None:
    name, text = str(tmp_path / "main.agent"), STD_ONLY
    if program == "self_refine":
        name, text = str(EXAMPLE), EXAMPLE.read_text()
    elif program == "imports_only":
        (tmp_path / "lib.agent").write_text(LIBRARY)
        text = IMPORTS_ONLY
    session = CheckSession(name, root=tmp_path)
    module = _parsed(text, name)
    assert not session.check(module, errors_only=True).errors
    after_one = _sizes(session.memo)
    assert after_one["roles"] and after_one["graphs"], after_one
    for _ in range(12):
        module = _parsed(text, name)  # (the one before let go)
        assert not session.check(module, errors_only=True).errors
    assert _sizes(session.memo) == after_one
    if program != "self_refine":
        return  # (their environment lives on, and with it their last agent's snapshot)
    assert all(after_one.values()), after_one  # (each table has something to lose)
    del module
    gone = _sizes(session.memo)
    # (the lowering keeps the last agent of each name it lowered: lower.py; the
    # statements' entries go with them at the next)
    assert gone == {**dict.fromkeys(TABLES, 0), "statements": gone["statements"]}
    assert gone["statements"] <= after_one["statements"]


def _counting_role_checks(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    checked: list[str] = []
    real = check_decls.DeclChecker._check_role

    def counting(self, symbol):  # type: ignore[no-untyped-def]
        checked.append(symbol.name)
        return real(self, symbol)

    monkeypatch.setattr(check_decls.DeclChecker, "_check_role", counting)
    return checked


def test_programs_alive_keep_their_entries_for_the_checks_of_their_edits(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = EXAMPLE.read_text()
    session = CheckSession(str(EXAMPLE))
    kept = [_parsed(text) for _ in range(3)]
    for module in kept:
        session.check(module, errors_only=True)
    for _ in range(3):  # (other programs since, let go)
        session.check(_parsed(text), errors_only=True)
    assert _sizes(session.memo)["agents"] == 3  # (one environment a parse)
    checked = _counting_role_checks(monkeypatch)
    # a program sharing a kept one's declarations: its roles replay, not checked again
    again = kept[0].model_copy(update={"decls": list(kept[0].decls)})
    assert not session.check(again, errors_only=True).errors
    assert checked == []


def test_the_edits_of_a_program_never_checked_share_its_entries(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An editor's candidates made from one program it never checked (bench_edits's
    shape): each candidate is let go after its check, and the next reads the entries of
    the environment they share: the program's declarations live."""
    base = _parsed(EXAMPLE.read_text())
    session = CheckSession(str(EXAMPLE))
    checked: list[str] = []
    for _ in range(3):
        child = base.model_copy(update={"decls": list(base.decls)})
        assert not session.check(child, errors_only=True).errors
        del child
        gc.collect()
        checked = _counting_role_checks(monkeypatch)
    assert checked == []
    assert _sizes(session.memo)["agents"] == 1

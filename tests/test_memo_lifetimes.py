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

from rolegraph.compiler import check_decls
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.memo import CheckMemo
from rolegraph.grammar import parse_module

EXAMPLE = Path(__file__).parent.parent / "examples" / "self_refine.agent"
TABLES = ("roles", "records", "declarations", "graphs", "agents", "tests", "statements")


def _sizes(memo: CheckMemo) -> dict[str, int]:
    gc.collect()
    return {name: len(getattr(memo, name)) for name in TABLES}


def _parsed(text: str):  # type: ignore[no-untyped-def]
    module = parse_module(text, str(EXAMPLE)).module
    assert module is not None
    return module


def test_programs_parsed_again_and_let_go_leave_the_memo_as_one_did() -> None:
    text = EXAMPLE.read_text()
    session = CheckSession(str(EXAMPLE))
    module = _parsed(text)
    assert not session.check(module, errors_only=True).errors
    after_one = _sizes(session.memo)
    assert all(after_one.values()), after_one  # (each table has something to lose)
    for _ in range(12):
        module = _parsed(text)  # (the one before let go)
        assert not session.check(module, errors_only=True).errors
    assert _sizes(session.memo) == after_one
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

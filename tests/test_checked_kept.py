"""What a check's result holds, kept and copied, and the memo after an imported file
changed on disk: an independent review's reproductions (this pass), each against the
check without a memo or against what the result held before symbols held their modules
weakly (compiler/resolve.py `Symbol`)."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import rolegraph
from rolegraph.compiler.check import check_module
from rolegraph.compiler.incremental import CheckSession
from rolegraph.grammar.imports import parse_import

ROLE_B = """model fast = "mock"
type Answer { z: str }
role R(task: str) -> Answer {
  model fast
  prompt "{{ task }}"
}
"""


def _said(checked):
    return [(d.code, str(d)) for d in checked.diagnostics]


def test_a_role_imported_from_a_file_whose_record_changed_on_disk(tmp_path: Path) -> None:
    """main's environment named an imported role by kind only, and a record type compares
    by name: the agent snapshot and the statement memo replayed the old field."""
    (tmp_path / "b.agent").write_text(ROLE_B)
    main = tmp_path / "main.agent"
    main.write_text(
        'from "./b.agent" import R\nagent A(task: str) -> str {\n  a = R(task)\n  return a.z\n}\n'
    )
    module = rolegraph.parse_file(main)
    session = CheckSession(str(main))
    assert not session.check(module, errors_only=True).errors
    (tmp_path / "b.agent").write_text(ROLE_B.replace("z: str", "y: str"))
    warm = session.check(module, errors_only=True)
    cold = check_module(module, str(main), parse_import, "", errors_only=True)
    assert _said(warm) == _said(cold)  # cold: E0305 `a` (Answer) has no field `z`; warm: []


def test_a_record_reached_through_two_files_changed_on_disk(tmp_path: Path) -> None:
    """b's text is unchanged (its declarations the same objects), c's Inner loses a
    field: main's environment names the files it reads from, directly or not."""
    (tmp_path / "c.agent").write_text("type Inner { z: str }\n")
    (tmp_path / "b.agent").write_text(
        'from "./c.agent" import Inner\ntype Report { inner: Inner }\n'
    )
    main = tmp_path / "main.agent"
    main.write_text(
        'from "./b.agent" import Report\nmodel fast = "mock"\n'
        'role R(task: str) -> Report {\n  model fast\n  prompt "{{ task }}"\n}\n'
        "agent A(task: str) -> str {\n  a = R(task)\n  return a.inner.z\n}\n"
    )
    module = rolegraph.parse_file(main)
    session = CheckSession(str(main))
    assert not session.check(module, errors_only=True).errors
    (tmp_path / "c.agent").write_text("type Inner { y: str }\n")
    warm = session.check(module, errors_only=True)
    cold = check_module(module, str(main), parse_import, "", errors_only=True)
    assert _said(warm) == _said(cold)  # cold: E0305 `a.inner` (Inner) has no field `z`


SRC = """model fast = "mock"
role R(task: str) -> str {
  model fast
  prompt "{{ task }}"
}
agent A(task: str) -> str {
  a = R(task)
  b = R(task)
  return b
}
"""


def test_a_checked_result_pickles_and_copies() -> None:
    """A symbol pickles and copies its module as itself (a weak reference has neither)."""
    checked = rolegraph.check_source(SRC, "d.agent")
    back = pickle.loads(pickle.dumps(checked))  # TypeError: cannot pickle weakref
    assert back.agents["A"].symbol.module is back.program.main


def test_a_deep_copy_names_its_own_modules() -> None:
    checked = rolegraph.check_source(SRC, "d.agent")
    dup = copy.deepcopy(checked)
    assert dup.agents["A"].symbol.module is dup.program.main


def test_an_agent_info_outlives_its_result() -> None:
    info = rolegraph.check_source(SRC, "d.agent").agents["A"]
    assert info.symbol.module.filename == "d.agent"  # ReferenceError

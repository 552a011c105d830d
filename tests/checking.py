"""Helpers for checker tests: a shared prelude of models, types and roles."""

from __future__ import annotations

from pathlib import Path

from rolegraph import check_source
from rolegraph.compiler.check import CheckedModule

PRELUDE = """model m = "mock" { max_tokens: 100 }
type Draft { text: str, score: float }
type Review { ok: bool, feedback: str, score: float }
enum Route { fast, slow }
type Pick { route: Route, why: str }
role Writer(task: str, feedback: str = "") -> Draft {
  model m
  prompt "{{ task }} {{ feedback }}"
}
role Critic(task: str, draft: Draft) -> Review {
  model m
  prompt "{{ task }} {{ draft.text }}"
}
role Router(task: str) -> Pick {
  model m
  prompt "{{ task }}"
}
role Merger(task: str, drafts: list[Draft]) -> Draft {
  model m
  prompt "{{ task }}{% for d in drafts %}{{ d.text }}{% endfor %}"
}
"""
PRELUDE_LINES = PRELUDE.count("\n")


def check(text: str, filename: str = "fixture.agent") -> CheckedModule:
    return check_source(text, filename)


def check_file(path: Path) -> CheckedModule:
    return check_source(path.read_text(), str(path))

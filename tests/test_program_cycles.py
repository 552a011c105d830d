"""A checked program holds no reference cycle (compiler/resolve.py: a symbol holds its
module weakly), so a program let go is freed at once, not left for the cyclic collector:
an editor makes one per candidate. Held with the collector off (the oracle: a weak
reference to each module of each program, dead once nothing holds the program), on the
checks of an example with imports and on an editor's session over generated candidates;
and a symbol kept beyond its program raises when asked for its module, rather than
answering from a module that is gone."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import rolegraph
from rolegraph.compiler.check import check_module
from rolegraph.compiler.edits import OPERATORS
from rolegraph.compiler.incremental import CheckSession
from rolegraph.grammar import parse_module

from .conftest import EXAMPLES, ROOT


def _parse(text: str, name: str) -> tuple[Any, Any]:
    result = parse_module(text, name)
    return result.module, result.diagnostics


@contextmanager
def _collector_off() -> Iterator[None]:
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _modules(checked: Any) -> list[weakref.ref]:
    return [weakref.ref(info) for info in checked.program.modules.values()]


WITH_IMPORTS = [path for path in EXAMPLES if "import " in path.read_text()][:6]


def test_the_examples_checked_import_modules() -> None:
    assert len(WITH_IMPORTS) >= 3


@pytest.mark.parametrize("path", WITH_IMPORTS + EXAMPLES[:2], ids=lambda p: p.stem)
def test_a_checked_program_let_go_is_freed_without_the_collector(path: Any) -> None:
    module = rolegraph.parse_file(path)
    with _collector_off():
        checked = check_module(module, str(path), _parse, path.read_text(), irs=True)
        modules = _modules(checked)
        assert all(ref() is not None for ref in modules)
        del checked
        assert [ref() for ref in modules] == [None] * len(modules)


def test_an_editors_candidates_are_freed_without_the_collector() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import large_program
    finally:
        sys.path.remove(str(ROOT / "bench"))
    module = rolegraph.parse(large_program(roles=6, nodes=20), "g.agent")
    candidates = [edit for operator in OPERATORS for edit in operator.sites(module)][::3]
    session = CheckSession("g.agent")
    session.check(module, errors_only=True)
    modules: list[weakref.ref] = []
    with _collector_off():
        for edit in candidates:
            edited = edit.apply(module)
            checked = session.check(edited, errors_only=True)
            modules += _modules(checked)
            del checked, edited
        alive = [ref for ref in modules if ref() is not None]
    assert len(candidates) > 20
    assert not alive


def test_a_symbol_kept_beyond_its_program_does_not_answer_for_its_module() -> None:
    text = 'model m = "mock"\nrole R(x: str) -> str { model m  prompt "{{ x }}" }'
    module = rolegraph.parse(text)
    with _collector_off():
        checked = check_module(module, "k.agent", _parse, "")
        symbol = checked.program.main.names["R"]
        assert symbol.module is checked.program.main
        del checked
        with pytest.raises(ReferenceError):
            symbol.module  # noqa: B018
    assert (symbol.qualified, symbol.kind, symbol.decl) == ("R", "role", module.decls[1])

"""`Module.agents`, `roles` and `tests` (ast.py `_decls_of`, which asks each distinct type
of declaration, not each declaration) against the definition they stand for: the
declarations that are instances of the class, in order. Over orders and repeats of the
declarations of the examples, with a subclass of each class among them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import ast

from .conftest import EXAMPLES

KINDS = (ast.AgentDecl, ast.RoleDecl, ast.TestDecl)


def _declarations() -> list[Any]:
    found: list[Any] = []
    for path in EXAMPLES:
        found += rolegraph.parse(path.read_text(), path.name).decls
    return found


DECLS = _declarations()


@pytest.fixture(scope="module")
def subclassed() -> Iterator[list[Any]]:
    """One declaration of each of `KINDS` made again as a subclass of its class (which
    `isinstance` counts, and a comparison of types would not)."""
    made = []
    classes = []
    for cls in KINDS:
        sub = type(f"Sub{cls.__name__}", (cls,), {"__module__": __name__})
        classes.append(sub)
        first = next(d for d in DECLS if type(d) is cls)
        made.append(sub.model_construct(**dict(first)))
    try:
        yield made
    finally:  # (the classes made here are no part of the tree's: ast._NODE_CLASSES)
        for sub in classes:
            ast._NODE_CLASSES.remove(sub)


def test_the_examples_hold_each_kind() -> None:
    for cls in KINDS:
        assert any(type(d) is cls for d in DECLS), cls


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_modules_declarations_of_a_kind_are_its_instances_of_that_class(
    subclassed: list[Any], data: st.DataObject
) -> None:
    pool = DECLS + subclassed
    indexes = data.draw(st.lists(st.integers(0, len(pool) - 1), max_size=12))
    decls = tuple(pool[i] for i in indexes)
    module = ast.Module.model_construct(decls=decls)
    assert module.agents == tuple(d for d in decls if isinstance(d, ast.AgentDecl))
    assert module.roles == tuple(d for d in decls if isinstance(d, ast.RoleDecl))
    assert module.tests == tuple(d for d in decls if isinstance(d, ast.TestDecl))

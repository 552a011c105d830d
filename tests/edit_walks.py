"""Seeded random edit walks: programs made from a start program by random sites of every
operator, each from the last, unchecked (sites are listed, and programs printed, on any
program). Shared by the tests that hold a memo to the path without it."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, EditError


def edit_walk(module: ast.Module, rng: random.Random, count: int) -> list[ast.Module]:
    """`module` and up to `count` programs made from it by seeded random sites."""
    made = [module]
    for _ in range(count * 4):
        if len(made) > count:
            break
        listed = [site for op in OPERATORS for site in op.sites(module)]
        if not listed:
            break
        try:
            module = rng.choice(listed).apply(module)
        except (EditError, ValueError):
            continue
        made.append(module)
    return made


BENCH = Path(__file__).resolve().parent.parent / "bench"


def generated_module(roles: int, nodes: int) -> ast.Module:
    """The benchmarks' agent of `nodes` nodes over `roles` roles (bench/generate.py:
    stages with replication, a map, a merge, a bounded loop, two `ensure`s), parsed."""
    sys.path.insert(0, str(BENCH))
    try:
        from generate import large_program
    finally:
        sys.path.remove(str(BENCH))
    return rolegraph.parse(large_program(roles=roles, nodes=nodes), "edits.agent")

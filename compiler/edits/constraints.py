"""Add a temporal constraint (`ensure`) to an agent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from .. import ast, codes
from ..printer import to_source
from .base import (
    Edit,
    error,
    find_agent,
    parse_statement,
    with_body,
)


class AddConstraint(Edit):
    """Add an LTL constraint to an agent: `ensure` (checked, monitored) or `enforce`."""

    op: Literal["add_constraint"] = "add_constraint"
    agent: str
    formula: str
    mode: Literal["ensure", "enforce"] = "ensure"
    summary = "add an LTL constraint (`ensure` or `enforce`), the formula as source text"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        # "never answer before X has run", for each node X
        for agent in module.agents:
            present = {to_source(c.formula) for c in agent.constraints}
            for node in agent.nodes:
                formula = f"always(return -> once {node.name})"
                if formula not in present:
                    yield cls(agent=agent.name, formula=formula)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        constraint = parse_statement(f"{self.mode} {self.formula}", "the constraint")
        if not isinstance(constraint, ast.Constraint):
            raise error(codes.MALFORMED_EDIT, f"not a formula: {self.formula!r}")
        return with_body(module, agent, (*agent.body, constraint))

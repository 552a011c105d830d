"""Apply a pattern (an agent with role parameters, the program's own or the
standard library's) in place of a node."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Literal

from pydantic import field_validator

from .. import ast
from ..printer import to_source
from ..queries import plain_node, role_of
from .base import Edit, find_agent, find_node, no_site, replace_statement


class ApplyPattern(Edit):
    """Make a node call a pattern with its role as the pattern's role parameter:
    `answer = Solver(q)` becomes `answer = SelfConsistency[Solver](q)`. With `module`
    (`std.self_consistency`), the pattern comes from there: `from MODULE import PATTERN`
    is added when the program does not import it yet."""

    op: Literal["apply_pattern"] = "apply_pattern"
    agent: str
    node: str
    pattern: str
    # a module name (`std.self_consistency`), never a path: the import it adds is `from
    # MODULE import PATTERN`, which names standard modules only
    module: str = ""
    summary = "make a node call a pattern (an agent with a role parameter) around its role"

    @field_validator("module")
    @classmethod
    def _a_module_name(cls, module: str) -> str:
        if module and not all(part.isidentifier() for part in module.split(".")):
            raise ValueError(f"a module name such as `std.self_consistency`, not {module!r}")
        return module

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        # each pattern with its result type's text, printed once a call (the standard
        # library's once a process, when a node can take one), not once a node
        local = [("", a, to_source(a.returns)) for a in module.agents if _is_pattern(a)]
        # standard patterns whose result type this program imports from the same place:
        # none for a node whose type it does not (then the standard library is not read)
        imported = {
            name: d.module for d in module.decls if isinstance(d, ast.Import) for name in d.names
        }
        for agent in module.agents:
            for node in agent.nodes:
                role = role_of(module, node)
                if role is None or not plain_node(node):
                    continue
                kind = to_source(role.returns)
                standard = _standard_patterns() if imported.get(kind) == "std.types" else []
                for source, pattern, returns in local + standard:
                    if pattern is agent or returns != kind:
                        continue
                    yield cls(agent=agent.name, node=node.name, pattern=pattern.name, module=source)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        if not plain_node(node):
            raise no_site(f"`{self.node}` is replicated, mapped or already a pattern")
        new = node.with_changes(role=self.pattern, ct_args=(ast.Arg(value=ast.Ref.of(node.role)),))
        module = replace_statement(module, agent, node, new)
        imported = any(
            isinstance(d, ast.Import) and d.module == self.module and self.pattern in d.names
            for d in module.decls
        )
        if self.module and not imported:
            line = ast.Import(module=self.module, names=(self.pattern,))
            module = module.with_changes(decls=(line, *module.decls))
        return module


def _is_pattern(agent: ast.AgentDecl) -> bool:
    return bool(agent.ct_params) and isinstance(agent.ct_params[0].type, ast.RoleSig)


@cache
def _standard_patterns() -> list[tuple[str, ast.AgentDecl, str]]:
    """The patterns of the standard library, with the module each comes from and the
    text of its result type."""
    from rolegraph.stdlib import module_names, module_path

    from .base import parse_module_text

    found = []
    for name in module_names():
        parsed = parse_module_text(module_path(name).read_text(encoding="utf-8"))
        found += [(f"std.{name}", a, to_source(a.returns)) for a in parsed.agents if _is_pattern(a)]
    return found

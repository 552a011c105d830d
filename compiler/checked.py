"""The checked program as data: what the type checker hands the IR builder and the analyses.

`CheckResult` holds, for each agent, an `AgentInfo` with the callee and the output type of
every node (`NodeInfo`), and the `Signature` of every role, tool and agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import ast
from .diagnostics import Diagnostic
from .resolve import ModuleInfo, Program, Symbol
from .types import Type


@dataclass
class Signature:
    """What a callee takes and gives. `params` None: anything (an untyped role parameter)."""

    params: list[tuple[str, Type, bool]] | None  # (name, type, has a default)
    returns: Type

    def param(self, name: str) -> tuple[str, Type, bool] | None:
        return next((p for p in self.params or () if p[0] == name), None)


@dataclass
class Callee:
    kind: str  # role, agent, tool, param (a role-valued compile-time parameter), unknown
    name: str
    signature: Signature
    symbol: Symbol | None = None


@dataclass(slots=True)  # (one for each node of each program an editor checks)
class NodeInfo:
    decl: ast.NodeDecl
    callee: Callee
    output: Type  # what readers of the node see: list[T] for `x N` and maps
    bound: dict[str, ast.Node] = field(default_factory=dict)  # parameter → argument


@dataclass
class AgentInfo:
    symbol: Symbol
    decl: ast.AgentDecl
    params: dict[str, Type]
    returns: Type
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    ct_params: dict[str, ast.CtParam] = field(default_factory=dict)
    # the module that declares it, held (its symbol holds it weakly): an agent's info kept
    # beyond the check's result still reads `symbol.module`
    module: ModuleInfo | None = field(default=None, repr=False, compare=False)


@dataclass
class CheckResult:
    program: Program
    agents: dict[str, AgentInfo]  # by qualified name
    diagnostics: list[Diagnostic]
    signatures: dict[str, Signature]  # roles, tools and agents, by qualified name
    # with a memo: each agent's snapshot this check stored (memo.AgentSnapshot), by
    # qualified name (what check.py's graph key is derived from)
    snapshots: dict[str, Any] = field(default_factory=dict)

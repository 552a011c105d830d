"""The type checker: every declaration, argument, port, edge, guard and return.

`check_program(program)` walks the resolved program and returns, for each agent, an
`AgentInfo` with the callee and output type of every node (what the IR builder needs),
plus the diagnostics it found. It reports as much as it can in one pass: an
expression whose type is unknown after an error gets type `ANY` and is not reported
again.

The checker lives in its parts: `checked.py` (the checked program as data), `memo.py`
(what later checks reuse), `check_decls.py` (declarations), `check_tools.py` (models,
tools, MCP servers), `check_patterns.py` (compile-time parameters), `check_agents.py`
(agent bodies) and `scope.py` (expressions). This module is the entry point.
"""

from __future__ import annotations

from .check_agents import AgentChecker
from .check_tools import MODEL_PARAMETERS
from .checked import AgentInfo, Callee, CheckResult, NodeInfo, Signature
from .memo import CheckMemo
from .resolve import Program

__all__ = [
    "MODEL_PARAMETERS",
    "AgentInfo",
    "Callee",
    "CheckMemo",
    "CheckResult",
    "NodeInfo",
    "Signature",
    "check_program",
]


def check_program(program: Program, memo: CheckMemo | None = None) -> CheckResult:
    checker = AgentChecker(program, memo)
    checker.run()
    return CheckResult(
        program, checker.agents, checker.diagnostics, checker.signatures, checker.snapshots
    )

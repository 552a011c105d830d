"""The compiler driver: a parsed module → resolved, type-checked, analysed.

`check_module(module, filename, parse, text)` runs every stage the front end does not:
name resolution (following imports through the injected `parse`), type checking, the
IR build and the static analyses. Diagnostics are collected from all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ast
from .diagnostics import Diagnostic
from .resolve import ParseFn, Program, load_program
from .typecheck import AgentInfo, check_program


@dataclass
class CheckedModule:
    program: Program
    agents: dict[str, AgentInfo]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def check_module(
    module: ast.Module, filename: str, parse: ParseFn, text: str = ""
) -> CheckedModule:
    program = load_program(module, filename, parse, text)
    result = check_program(program)
    return CheckedModule(program, result.agents, result.diagnostics)

"""rolegraph: a typed, declarative language for LLM agent systems, and its compiler.

    >>> import rolegraph
    >>> module = rolegraph.parse_file("examples/self_refine.agent")
    >>> print(rolegraph.to_source(module))          # canonical source
    >>> rolegraph.fingerprint(module)               # stable hash of the program

Parsing raises `DiagnosticError` (with every diagnostic in `.diagnostics`) on bad input.
"""

from __future__ import annotations

from pathlib import Path

from rolegraph.compiler import ast
from rolegraph.compiler.diagnostics import Diagnostic, DiagnosticError, Severity
from rolegraph.compiler.printer import fingerprint, to_source

__version__ = "0.1.0"

__all__ = [
    "Diagnostic",
    "DiagnosticError",
    "Severity",
    "__version__",
    "ast",
    "fingerprint",
    "format_source",
    "parse",
    "parse_file",
    "to_source",
]


def parse(text: str, filename: str = "<string>") -> ast.Module:
    """Parse `.agent` source into a `Module`; raise `DiagnosticError` listing every error."""
    from rolegraph.grammar import parse_module

    result = parse_module(text, filename)
    if result.module is None:
        raise DiagnosticError(result.diagnostics, result.source)
    return result.module


def parse_file(path: str | Path) -> ast.Module:
    path = Path(path)
    return parse(path.read_text(encoding="utf-8"), filename=str(path))


def format_source(text: str, filename: str = "<string>") -> str:
    """`rolegraph fmt` as a function: canonical layout, comments and blank lines kept."""
    return to_source(parse(text, filename), trivia=True)

"""The front end: the Lark grammar and the parser from `.agent` text to the AST."""

from .parser import ParseResult, parse_module

__all__ = ["ParseResult", "parse_module"]

"""The front end: the Lark grammar and the parser from `.agent` text to the AST."""

from .on_first_use import imported_on_first_use

# (lark imports these at its top, to build a parser: ours is loaded whole. Before lark.)
imported_on_first_use("regex", "interegular")

from .parser import ParseResult, parse_module  # noqa: E402

__all__ = ["ParseResult", "parse_module"]

"""The rolegraph language server: `rolegraph lsp` speaks the Language Server Protocol
over stdio (pygls), for any editor (editors/ holds a VS Code client and a TextMate
grammar).

The server answers from analyses of each open document: a parse (one top-level
declaration at a time, reusing the declarations an edit did not touch) and the full
checker. The features are small modules over an analysis, independent of the protocol
plumbing in `server.py`:

| module | feature |
|---|---|
| `tokens.py` | the words, strings and comments of a text, found without the parser |
| `incremental.py` | parse again only the declarations an edit touched |
| `analysis.py` | one text parsed and checked, and the last one that parsed |
| `symbols.py` | what a name means: declarations, parameters, nodes, fields |
| `index.py` | every definition and reference in a document |
| `prompts.py` | the variables of `{{ }}` and `{% %}` inside prompt strings |
| `hover.py`, `completion.py`, `outline.py`, `rename.py`, `fixes.py` | the features |
| `diagnostics.py`, `positions.py` | the compiler's diagnostics and offsets, as LSP wants them |
"""

from __future__ import annotations


def serve() -> None:
    """Run the language server on stdin/stdout until the client says exit."""
    from .server import create_server

    create_server().start_io()

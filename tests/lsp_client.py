"""What the language-server tests share: documents opened in a real client over stdio
(pytest-lsp), and waiting for the server's diagnostics of one version of a text."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

# A bound on waiting for the server, not a measurement: a broken server fails the test
# here instead of hanging the suite.
WAIT_SECONDS = 60.0


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


async def diagnostics_of(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    """The diagnostics the server publishes next for `uri` (drop what came before)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while uri not in client.diagnostics:
        if loop.time() > deadline:
            raise TimeoutError(f"no diagnostics for {uri}")
        await asyncio.sleep(0.02)
    return list(client.diagnostics.pop(uri))


async def open_document(
    client: LanguageClient, path: Path, text: str | None = None
) -> list[types.Diagnostic]:
    """Open `path` (with `text`, or its contents) and return its first diagnostics."""
    uri = uri_of(path)
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri=uri,
                language_id="rolegraph",
                version=1,
                text=path.read_text(encoding="utf-8") if text is None else text,
            )
        )
    )
    return await diagnostics_of(client, uri)


async def change_document(
    client: LanguageClient, path: Path, text: str, version: int
) -> list[types.Diagnostic]:
    """Replace the whole text of an open document and return its new diagnostics."""
    uri = uri_of(path)
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return await diagnostics_of(client, uri)


def close_document(client: LanguageClient, path: Path) -> None:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri_of(path)))
    )


def position_of(text: str, needle: str, shift: int = 0) -> types.Position:
    """The position of the first `needle` in `text`, `shift` characters into it (ASCII)."""
    offset = text.index(needle) + shift
    line = text.count("\n", 0, offset)
    return types.Position(line, offset - (text.rfind("\n", 0, offset) + 1))


def offset_of(text: str, position: types.Position) -> int:
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: position.line]) + position.character


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    spans = [
        (offset_of(text, e.range.start), offset_of(text, e.range.end), e.new_text) for e in edits
    ]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text

"""The language server knows `mcp` declarations: a tool's server name leads to the
declaration, renaming the server renames its uses, and the outline lists it."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("pygls")
pytest.importorskip("pytest_lsp")

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

import rolegraph

from .conftest import ROOT
from .lsp_client import apply_edits, open_document, position_of, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOTES = ROOT / "examples" / "mcp" / "notes.agent"


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "rolegraph.cli", "lsp"]),
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"debounce": 0},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_the_server_of_a_tool_leads_to_its_declaration(client):
    await open_document(client, NOTES)
    text = NOTES.read_text()
    result = await client.text_document_definition_async(
        types.DefinitionParams(
            types.TextDocumentIdentifier(uri_of(NOTES)), position_of(text, "notes.search")
        )
    )
    assert isinstance(result, types.Location), result
    assert result.range.start == position_of(text, "notes = ", 0)


async def test_renaming_a_server_renames_its_tools_references(client, tmp_path):
    path = tmp_path / "renamed.agent"
    text = NOTES.read_text()
    await open_document(client, path, text)
    edit = await client.text_document_rename_async(
        types.RenameParams(
            text_document=types.TextDocumentIdentifier(uri_of(path)),
            position=position_of(text, "mcp notes", 4),
            new_name="library",
        )
    )
    assert edit is not None and edit.changes is not None
    renamed = apply_edits(text, edit.changes[uri_of(path)])
    assert "mcp library = " in renamed
    assert "= library.search" in renamed and '= library["word-count"]' in renamed
    assert not rolegraph.check_source(renamed, str(NOTES)).errors


async def test_the_outline_lists_the_server_with_its_address(client):
    await open_document(client, NOTES)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri_of(NOTES)))
    )
    (server,) = [s for s in symbols if s.name == "notes"]
    assert server.kind == types.SymbolKind.Interface
    assert server.detail == "python3 notes_server.py"

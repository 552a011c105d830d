"""Make the screenshots of docs/editor.md: the rolegraph grammar's highlighting as VS
Code renders it (vscode-textmate, Dark+ colours), with what the real language server
answers laid over it: a diagnostic, a hover, a completion list.

    python docs/editor/capture.py     # needs node, editors/vscode/node_modules, chromium

The server runs as editors run it (`rolegraph lsp` over stdio); the page is rendered by
editors/vscode/scripts/render.js and photographed by headless Chromium. It is not VS
Code itself, which cannot be installed here: the colours and boxes imitate it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = ROOT / "editors" / "textmate" / "rolegraph.tmLanguage.json"
EXAMPLE = (ROOT / "examples" / "self_refine.agent").read_text()


async def ask_server(folder: Path) -> dict[str, dict]:
    """The server's diagnostic, hover and completion for three versions of the example."""
    client = LanguageClient("rolegraph-docs", "0")
    published: dict[str, list[types.Diagnostic]] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published[params.uri] = list(params.diagnostics)

    await client.start_io(sys.executable, "-m", "rolegraph.cli", "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())

    async def opened(name: str, text: str) -> tuple[str, list[types.Diagnostic]]:
        path = folder / name
        path.write_text(text)
        uri = path.as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "rolegraph", 1, text))
        )
        while uri not in published:
            await asyncio.sleep(0.05)
        return uri, published[uri]

    def position(text: str, needle: str, shift: int) -> types.Position:
        offset = text.index(needle) + shift
        return types.Position(text.count("\n", 0, offset), offset - text.rfind("\n", 0, offset) - 1)

    scenes: dict[str, dict] = {}
    typo = EXAMPLE.replace("draft: writer)", "draft: writr)")
    _, found = await opened("typo.agent", typo)
    d = next(x for x in found if x.severity == types.DiagnosticSeverity.Error)
    scenes["diagnostic"] = {
        "text": typo,
        "diagnostic": {
            "line": d.range.start.line,
            "start": d.range.start.character,
            "end": d.range.end.character,
            "message": f"{d.message}  rolegraph({d.code})",
            "severity": 1,
        },
    }
    uri, _ = await opened("hover.agent", EXAMPLE)
    at = position(EXAMPLE, "writer = Writer", 2)
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), at)
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    scenes["hover"] = {
        "text": EXAMPLE,
        "hover": {"line": at.line, "character": at.character, "markdown": hover.contents.value},
    }
    typing = EXAMPLE.replace("  ensure", "  critic -> writer when critic.\n  ensure")
    uri, _ = await opened("complete.agent", EXAMPLE)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [types.TextDocumentContentChangeWholeDocument(text=typing)],
        )
    )
    at = position(typing, "when critic.", len("when critic."))
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), at)
    )
    items = result.items if isinstance(result, types.CompletionList) else result or []
    scenes["completion"] = {
        "text": typing,
        "completion": {
            "line": at.line,
            "character": at.character,
            "items": [{"label": i.label, "detail": i.detail} for i in items],
        },
    }
    scenes["highlighting"] = {"text": EXAMPLE}
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return scenes


def render(name: str, scene: dict, folder: Path, first: int, last: int) -> Path:
    """A PNG of lines [first, last) of the scene's text with its overlay."""
    lines = scene["text"].split("\n")[first:last]
    source = folder / f"{name}.agent"
    source.write_text("\n".join(lines) + "\n")
    overlay = {key: value for key, value in scene.items() if key != "text"}
    for part in overlay.values():
        part["line"] -= first
    overlay["first"] = first
    overlay_path = folder / f"{name}.json"
    overlay_path.write_text(json.dumps(overlay))
    page = folder / f"{name}.html"
    with page.open("w") as out:
        subprocess.run(
            ["node", "scripts/render.js", str(GRAMMAR), str(source), str(overlay_path)],
            cwd=VSCODE,
            stdout=out,
            check=True,
        )
    png = HERE / f"{name}.png"
    height = (last - first) * 19 + 40
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--window-size=980,{height}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
    )
    return png


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    scenes = asyncio.run(ask_server(folder))
    windows = {
        "highlighting": (13, 43),
        "diagnostic": (21, 38),
        "hover": (28, 42),
        "completion": (29, 44),
    }
    for name, (first, last) in windows.items():
        print("wrote", render(name, scenes[name], folder, first, last))


if __name__ == "__main__":
    main()

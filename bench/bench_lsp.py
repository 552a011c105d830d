"""Language-server response times on the generated 200-node program, measured by a real
client over stdio: diagnostics after opening and after a keystroke, hover, completion.
Writes the `lsp` section of bench/RESULTS.md.

    python bench/bench_lsp.py

Each keystroke's time runs from the client sending `didChange` to the server publishing
the diagnostics of that version (the server's debounce set to 0, so the figure is the
work, not the wait). For comparison: the whole `check` of the same text in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_frontend import median_seconds, record
from generate import large_program
from lsprotocol import types
from pygls.lsp.client import LanguageClient

import rolegraph
from rolegraph.grammar import parse_module
from rolegraph.lsp.incremental import IncrementalParser


class Client:
    """A pygls client that remembers when each version's diagnostics arrived."""

    def __init__(self) -> None:
        self.lsp = LanguageClient("rolegraph-bench", "0")
        self.arrived: dict[tuple[str, int | None], float] = {}

        @self.lsp.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.arrived[(params.uri, params.version)] = time.perf_counter()

    async def start(self) -> None:
        await self.lsp.start_io(sys.executable, "-m", "rolegraph.cli", "lsp")
        await self.lsp.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(), initialization_options={"debounce": 0}
            )
        )
        self.lsp.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.lsp.shutdown_async(None)
        self.lsp.exit(None)
        await self.lsp.stop()

    async def diagnostics_after(self, uri: str, version: int, send) -> float:
        began = time.perf_counter()
        send()
        while (uri, version) not in self.arrived:
            await asyncio.sleep(0.001)
        return self.arrived[(uri, version)] - began


def _position(text: str, offset: int) -> types.Position:
    line = text.count("\n", 0, offset)
    return types.Position(line, offset - (text.rfind("\n", 0, offset) + 1))


async def measure(repeat: int) -> list[tuple[str, list[float]]]:
    text = large_program(200, 200)
    folder = Path(tempfile.mkdtemp())
    path = folder / "generated.agent"
    path.write_text(text)
    uri = path.as_uri()
    client = Client()
    await client.start()
    rows: list[tuple[str, list[float]]] = []
    version = 1

    def open_document() -> None:
        client.lsp.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "rolegraph", 1, text))
        )

    rows.append(
        (
            "open: first diagnostics (whole parse and check)",
            [await client.diagnostics_after(uri, 1, open_document)],
        )
    )

    def change(new_text: str, v: int):
        return lambda: client.lsp.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=v),
                [types.TextDocumentContentChangeWholeDocument(text=new_text)],
            )
        )

    async def keystrokes(label: str, texts: list[str]) -> None:
        nonlocal version
        samples = []
        for i in range(repeat):
            version += 1
            samples.append(
                await client.diagnostics_after(uri, version, change(texts[i % len(texts)], version))
            )
        rows.append((label, samples))

    in_agent = text.index("  n150 =")
    in_role = text.index("Task: {{ task }}", len(text) // 10)
    guard = text.index("when not n149.ok")
    await keystrokes(
        "keystroke in the agent: diagnostics",
        [text[:in_agent] + " " * (k % 2) + text[in_agent:] for k in range(2)],
    )
    await keystrokes(
        "keystroke in a role's prompt: diagnostics",
        [text[:in_role] + "x" * (k % 2) + text[in_role:] for k in range(2)],
    )
    broken = text[:guard] + "when not n149." + text[guard + len("when not n149.ok") :]
    await keystrokes(
        "keystroke that breaks the syntax: diagnostics (whole parse)", [broken, broken + " "]
    )
    # back to a text that parses, for the requests
    version += 1
    await client.diagnostics_after(uri, version, change(text, version))
    node = _position(text, text.index("previous: n120") + len("previous: n1"))

    async def requests(label: str, make) -> None:
        samples = []
        for _ in range(repeat):
            began = time.perf_counter()
            await make()
            samples.append(time.perf_counter() - began)
        rows.append((label, samples))

    document = types.TextDocumentIdentifier(uri)
    await requests(
        "hover on a node (the first one after a check builds the index)",
        lambda: client.lsp.text_document_hover_async(types.HoverParams(document, node)),
    )
    version += 1
    client.lsp.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangeWholeDocument(text=broken)],
        )
    )
    dot = _position(broken, broken.index("when not n149.") + len("when not n149."))
    await requests(
        "completion after `n149.` (text that does not parse)",
        lambda: client.lsp.text_document_completion_async(types.CompletionParams(document, dot)),
    )
    samples = []
    for k in range(repeat):
        version += 1
        client.lsp.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangeWholeDocument(text=text if k % 2 else text + " ")],
            )
        )
        began = time.perf_counter()
        await client.lsp.text_document_hover_async(types.HoverParams(document, node))
        samples.append(time.perf_counter() - began)
    rows.append(
        ("hover right after a keystroke (the last analysis answers; a check runs)", samples)
    )
    await client.stop()
    times = max(3, repeat // 4)
    check = median_seconds(lambda: rolegraph.check_source(text, str(path)), times)
    rows.append(("for comparison, in process: `check_source` of the whole text", [check]))
    whole = median_seconds(lambda: parse_module(text, str(path)), times)
    rows.append(("for comparison, in process: the whole-text parse alone", [whole]))
    parser = IncrementalParser(str(path))
    parser.parse(text)
    edits = [text[:in_agent] + " " * (k % 2) + text[in_agent:] for k in range(2)]
    flips = iter(range(10_000))
    incremental = median_seconds(lambda: parser.parse(edits[next(flips) % 2]), times)
    rows.append(("in process: the incremental parse of a keystroke in the agent", [incremental]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.repeat))
    lines = [
        "Generated program: 200 roles and one agent of 200 nodes (bench/generate.py), 2,265 lines.",
        f"A client over stdio; median (and slowest) of {args.repeat} samples; debounce 0.",
        "",
        "| what | median | slowest |",
        "|---|---|---|",
    ]
    for label, samples in rows:
        median, slowest = statistics.median(samples) * 1000, max(samples) * 1000
        lines.append(f"| {label} | {median:.1f} ms | {slowest:.1f} ms |")
    lines += [
        "",
        "A keystroke costs the parse of the one declaration it touched (the agent is 250 of the",
        "2,265 lines; the other declarations are reused, moved) and a whole check, in the",
        "server's worker thread. Hover and completion never wait for a check: they answer from",
        "the last analysis that parsed. The first hover after a check builds that analysis's",
        "index of names (the slowest hover).",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if not args.no_write:
        record(
            report,
            f"python bench/bench_lsp.py --repeat {args.repeat}",
            key="lsp",
            title="Language server: response times",
        )


if __name__ == "__main__":
    main()

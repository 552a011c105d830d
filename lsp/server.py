"""The protocol plumbing: pygls handlers that turn requests into calls of the feature
modules, and their answers (offsets) into LSP positions.

Analyses run in one worker thread, so the server answers hover and completion while a
check runs, and an edit made during a check is analysed right after it. Each change
waits `debounce` seconds (default 0.1; `initializationOptions.debounce`) for the next
keystroke before it is analysed. `initializationOptions.root` names the project root
that file imports must stay in, as `--root` does for `rolegraph check`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from rolegraph import __version__

from . import diagnostics as diag
from .analysis import Analysis, analyse
from .completion import complete
from .documents import Document
from .fixes import Edit, fixes_for
from .hover import hover_text
from .outline import outline
from .positions import LineIndex
from .rename import RenameError, apply, renamable, rename_edits

log = logging.getLogger("rolegraph.lsp")


class RolegraphServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("rolegraph", __version__)
        self.documents: dict[str, Document] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rolegraph-check")
        self.debounce = 0.1
        self.root: str | None = None

    @property
    def encoding(self) -> str:
        encoding = self.workspace.position_encoding
        return str(getattr(encoding, "value", encoding) or "utf-16")

    # -- analyses -------------------------------------------------------------------------

    def schedule(self, document: Document, delay: float) -> None:
        previous = self.pending.pop(document.uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[document.uri] = asyncio.ensure_future(self._analyse_later(document, delay))

    async def _analyse_later(self, document: Document, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        try:
            analysis = await self.analysed(document)
        except Exception as error:  # a bug in the checker: say so, keep serving
            log.exception("checking %s failed", document.filename)
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Error, f"rolegraph: {error!r}")
            )
            return
        if document.uri in self.documents and document.text == analysis.text:
            self.publish(document, analysis)

    async def analysed(self, document: Document) -> Analysis:
        """The analysis of the document's current text, made now if there is none."""
        current = document.current
        if current is not None:
            return current
        text, version = document.text, document.version
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(
            self.worker,
            lambda: analyse(
                text, document.filename, document.parser, version=version, root=self.root
            ),
        )
        if document.uri in self.documents and (
            document.latest is None or document.latest.text != text
        ):
            document.accept(analysis)
        return analysis

    def publish(self, document: Document, analysis: Analysis) -> None:
        found = diag.by_file(analysis, self.encoding, self.location)
        for file, items in found.items():
            uri = document.uri if file == document.filename else _uri(file)
            if uri is None:
                continue
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri,
                    diagnostics=items,
                    version=document.version if uri == document.uri else None,
                )
            )
        files = {file for file in found if file != document.filename}
        for stale in document.published - files:
            uri = _uri(stale)
            if uri is not None:
                self.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
                )
        document.published = files

    def location(
        self, file: str, start: int, end: int, document: Document | None = None
    ) -> types.Location | None:
        """The LSP location of offsets of `file` (the document's current text when
        `document` is that file and its text is the one the offsets are of)."""
        if document is not None and file == document.filename:
            return types.Location(document.uri, document.lines(self.encoding).range(start, end))
        open_document = next((d for d in self.documents.values() if d.filename == file), None)
        if open_document is not None and open_document.current is not None:
            return types.Location(
                open_document.uri, open_document.lines(self.encoding).range(start, end)
            )
        uri = _uri(file)
        if uri is None:
            return None
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        return types.Location(uri, LineIndex(text, self.encoding).range(start, end))


def _uri(file: str) -> str | None:
    if file.startswith("<"):
        return None
    return uris.from_fs_path(str(Path(file).resolve()))


def _filename(uri: str) -> str:
    path = uris.to_fs_path(uri)
    return path if path else f"<{uri}>"


def create_server() -> RolegraphServer:
    """The server with every feature registered (`rolegraph lsp` starts it on stdio)."""
    server = RolegraphServer()
    _register(server)
    return server


def _register(server: RolegraphServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: RolegraphServer, params: types.InitializeParams) -> None:
        options: Any = params.initialization_options or {}
        if isinstance(options, dict):
            ls.debounce = float(options.get("debounce", ls.debounce))
            ls.root = options.get("root") or None

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: RolegraphServer, params: None) -> None:
        for task in ls.pending.values():
            task.cancel()
        ls.worker.shutdown(wait=False, cancel_futures=True)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: RolegraphServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        document = Document(item.uri, _filename(item.uri), item.text, item.version)
        ls.documents[item.uri] = document
        ls.schedule(document, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: RolegraphServer, params: types.DidChangeTextDocumentParams) -> None:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return
        text = ls.workspace.get_text_document(params.text_document.uri).source
        document.update(text, params.text_document.version)
        ls.schedule(document, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: RolegraphServer, params: types.DidSaveTextDocumentParams) -> None:
        saved = _filename(params.text_document.uri)
        for document in ls.documents.values():
            if document.uri != params.text_document.uri and document.imports(saved):
                document.latest = None  # an imported file changed: check again
                ls.schedule(document, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: RolegraphServer, params: types.DidCloseTextDocumentParams) -> None:
        document = ls.documents.pop(params.text_document.uri, None)
        task = ls.pending.pop(params.text_document.uri, None)
        if task is not None:
            task.cancel()
        if document is not None:
            for uri in [document.uri, *filter(None, map(_uri, document.published))]:
                ls.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
                )

    def viewed(ls: RolegraphServer, uri: str, position: types.Position):
        """(document, analysis, offset in the analysis's text, offset map) or None."""
        document = ls.documents.get(uri)
        if document is None:
            return None
        view = document.view()
        if view is None:
            return None
        analysis, offsets = view
        offset = offsets.to_old(document.lines(ls.encoding).offset(position))
        if offset is None:
            return None
        return document, analysis, offset, offsets

    def mapped(
        ls: RolegraphServer, document: Document, offsets, start: int, end: int
    ) -> types.Range | None:
        new_start, new_end = offsets.to_new(start), offsets.to_new(end)
        if new_start is None or new_end is None:
            return None
        return document.lines(ls.encoding).range(new_start, new_end)

    def target_location(
        ls: RolegraphServer, document: Document, analysis: Analysis, offsets, target
    ) -> types.Location | None:
        if target.file == document.filename:
            where = mapped(ls, document, offsets, target.start, target.end)
            return types.Location(document.uri, where) if where else None
        return ls.location(target.file, target.start, target.end)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: RolegraphServer, params: types.HoverParams) -> types.Hover | None:
        found = viewed(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        document, analysis, offset, offsets = found
        described = hover_text(analysis, offset)
        if described is None:
            return None
        text, start, end = described
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=mapped(ls, document, offsets, start, end),
        )

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: RolegraphServer, params: types.DefinitionParams) -> types.Location | None:
        found = viewed(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        document, analysis, offset, offsets = found
        occurrence = analysis.index.at(offset)
        if occurrence is None:
            return None
        return target_location(ls, document, analysis, offsets, occurrence.target)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def references(
        ls: RolegraphServer, params: types.ReferenceParams
    ) -> list[types.Location] | None:
        found = viewed(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        document, analysis, offset, offsets = found
        occurrence = analysis.index.at(offset)
        if occurrence is None:
            return None
        locations = []
        for other in analysis.index.of(occurrence.target):
            if other.definition and not params.context.include_declaration:
                continue
            where = mapped(ls, document, offsets, other.start, other.end)
            if where is not None:
                locations.append(types.Location(document.uri, where))
        target = occurrence.target
        if params.context.include_declaration and target.file != document.filename:
            where_defined = ls.location(target.file, target.start, target.end)
            if where_defined is not None:
                locations.insert(0, where_defined)
        return locations

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", ">", " ", "{", "(", ":"]),
    )
    def completion(ls: RolegraphServer, params: types.CompletionParams) -> types.CompletionList:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return types.CompletionList(is_incomplete=False, items=[])
        offset = document.lines(ls.encoding).offset(params.position)
        view = document.view()
        items = complete(document.text, offset, view[0] if view else None)
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(
        ls: RolegraphServer, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit] | None:
        from rolegraph import DiagnosticError, format_source

        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return None
        try:
            formatted = format_source(document.text, document.filename)
        except DiagnosticError:
            return None  # a text that does not parse is left as it is
        if formatted == document.text:
            return []
        lines = document.lines(ls.encoding)
        return [types.TextEdit(range=lines.range(0, len(document.text)), new_text=formatted)]

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbols(
        ls: RolegraphServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol] | None:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return None
        analysis = await ls.analysed(document)
        if analysis.module is None:
            return None
        return outline(analysis.module, analysis.text, document.lines(ls.encoding))

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare_rename(ls: RolegraphServer, params: types.PrepareRenameParams):
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return None
        analysis = await ls.analysed(document)
        offset = document.lines(ls.encoding).offset(params.position)
        try:
            occurrence = renamable(analysis, offset)
        except RenameError as error:
            raise _refused(str(error)) from None
        lines = document.lines(ls.encoding)
        return types.PrepareRenamePlaceholder(
            lines.range(occurrence.start, occurrence.end), occurrence.target.name
        )

    @server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    async def rename(ls: RolegraphServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return None
        analysis = await ls.analysed(document)
        offset = document.lines(ls.encoding).offset(params.position)
        loop = asyncio.get_running_loop()
        try:
            edits = await loop.run_in_executor(
                ls.worker, rename_edits, analysis, offset, params.new_name
            )
        except RenameError as error:
            raise _refused(str(error)) from None
        return types.WorkspaceEdit(
            changes={document.uri: _text_edits(document, ls.encoding, edits)}
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    async def code_action(
        ls: RolegraphServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return None
        analysis = await ls.analysed(document)
        lines = document.lines(ls.encoding)
        start, end = lines.offset(params.range.start), lines.offset(params.range.end)
        actions = []
        for d in analysis.diagnostics:
            if (
                d.span is None
                or d.file != document.filename
                or d.span.end < start
                or d.span.start > end
            ):
                continue
            lsp_diagnostic = diag.to_lsp(d, lines, ls.location)
            for fix in fixes_for(d, analysis.text):
                actions.append(
                    types.CodeAction(
                        title=fix.title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp_diagnostic],
                        is_preferred=fix.preferred or None,
                        edit=types.WorkspaceEdit(
                            changes={
                                document.uri: _text_edits(document, ls.encoding, list(fix.edits))
                            }
                        ),
                    )
                )
        return actions


def _text_edits(document: Document, encoding: str, edits: list[Edit]) -> list[types.TextEdit]:
    lines = document.lines(encoding)
    return [types.TextEdit(range=lines.range(e.start, e.end), new_text=e.text) for e in edits]


def _refused(message: str) -> Exception:
    from pygls.exceptions import JsonRpcException

    # RequestFailed: a valid request the server declines; the client shows the message
    return JsonRpcException(message, code=types.LSPErrorCodes.RequestFailed.value)


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    create_server().start_io()


__all__ = ["RolegraphServer", "apply", "create_server", "main"]

"""From bytes to source text: UTF-8, or a diagnostic at the first byte that is not.

A `.agent` file is UTF-8 text; a byte order mark may start it (compiler/source.py drops
it). Anything else — a binary file, UTF-16, Latin-1 — is error E0114 at the first byte
that UTF-8 cannot decode, or at the first NUL (no text file holds one), so the user sees
where; the line is shown with each undecodable byte as U+FFFD.
"""

from __future__ import annotations

from rolegraph.compiler import codes
from rolegraph.compiler.diagnostics import Diagnostic, diagnostic
from rolegraph.compiler.source import BYTE_ORDER_MARK, Source

UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
SAVE_AS_UTF8 = "save the file as UTF-8: rolegraph reads `.agent` files as UTF-8 text"


def decode_source(data: bytes, filename: str) -> tuple[str, Diagnostic | None]:
    """The text of a file's bytes, and the E0114 diagnostic when it is not UTF-8 text
    (the text then has U+FFFD where bytes could not be decoded)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        shown = data.decode("utf-8", errors="replace")
        before = data[: error.start].decode("utf-8").removeprefix(BYTE_ORDER_MARK)
        hint = (
            "it starts with a UTF-16 byte order mark: this is UTF-16 text; " + SAVE_AS_UTF8
            if data.startswith(UTF16_MARKS)
            else SAVE_AS_UTF8
        )
        problem = f"not UTF-8 text: byte 0x{data[error.start]:02x} ({error.reason})"
        return shown, _at(shown, filename, len(before), problem, hint)
    nul = Source(filename, text).text.find("\x00")
    if nul >= 0:
        hint = "no text file holds a NUL byte: is this a binary file, or UTF-16 text?"
        return text, _at(text, filename, nul, "not UTF-8 text: a NUL byte", hint)
    return text, None


def _at(text: str, filename: str, offset: int, message: str, hint: str) -> Diagnostic:
    source = Source(filename, text)
    return diagnostic(
        codes.NOT_TEXT,
        message,
        file=filename,
        span=source.span(offset, offset + 1),
        label="not text",
        hints=(hint,),
    )

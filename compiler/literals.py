"""String literals: decoding source text into values and encoding values back.

Two forms exist. `"..."` stays on one line. `\"\"\"...\"\"\"` may span lines and is
dedented: the newline right after the opening quotes and the whitespace-only line
before the closing quotes are dropped, then the indentation common to all non-blank
lines is removed (blank lines become empty). Escapes are the same in both forms and
are processed after dedenting:

    \\n \\t \\r \\0 \\\\ \\" \\u{1F600}

`encode` always produces text that `decode` turns back into the same value: it picks
the triple-quoted form only when that round trip holds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"'}
_ENCODE_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0", "\\": "\\\\"}
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class EscapeError(Exception):
    """An invalid escape at `offset` (relative to the start of the literal)."""

    offset: int
    length: int
    message: str
    hint: str = ""


def decode(literal: str) -> str:
    """The value of a string literal token (with its quotes). Raises EscapeError."""
    if literal.startswith('"""'):
        body, base = _dedent(literal[3:-3]), 3
        return _unescape(body.text, base, body.offsets)
    return _unescape(literal[1:-1], 1, None)


@dataclass(frozen=True)
class _Dedented:
    text: str
    offsets: list[int]  # offsets[i]: position in the literal's body of text[i]


def _dedent(body: str) -> _Dedented:
    start = 0
    if body.startswith("\r\n"):
        start = 2
    elif body.startswith("\n"):
        start = 1
    lines: list[tuple[int, str]] = []  # (offset of the line in body, text)
    pos = start
    for raw in body[start:].split("\n"):
        lines.append((pos, raw))
        pos += len(raw) + 1
    if len(lines) > 1 and lines[-1][1].strip(" \t\r") == "":
        lines.pop()
    elif len(lines) == 1 and start and lines[0][1].strip(" \t\r") == "":
        lines = []
    indents = [_indent(text) for _, text in lines if text.strip(" \t\r")]
    common = _common_prefix(indents) if indents else ""
    out: list[str] = []
    offsets: list[int] = []
    for i, (line_pos, text) in enumerate(lines):
        if i:
            out.append("\n")
            offsets.append(line_pos - 1)
        if not text.strip(" \t\r"):
            continue
        cut = len(common)
        out.append(text[cut:])
        offsets.extend(range(line_pos + cut, line_pos + len(text)))
    return _Dedented("".join(out), offsets)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _common_prefix(items: list[str]) -> str:
    first, last = min(items), max(items)
    n = 0
    while n < len(first) and n < len(last) and first[n] == last[n]:
        n += 1
    return first[:n]


def _unescape(text: str, base: int, offsets: list[int] | None) -> str:
    if "\\" not in text:
        return text

    def where(i: int) -> int:
        return base + (offsets[i] if offsets is not None and i < len(offsets) else i)

    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and text.startswith("{", i + 2):
            close = text.find("}", i + 3)
            digits = text[i + 3 : close] if close != -1 else ""
            if close == -1 or not digits or len(digits) > 6 or not _is_hex(digits):
                raise EscapeError(
                    where(i),
                    2,
                    "invalid unicode escape",
                    "write a code point in hex between braces: `\\u{1F600}`",
                )
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise EscapeError(
                    where(i),
                    close - i + 1,
                    "unicode escape out of range",
                    "code points go up to `\\u{10FFFF}`",
                )
            if 0xD800 <= code <= 0xDFFF:
                raise EscapeError(
                    where(i),
                    close - i + 1,
                    f"`\\u{{{digits}}}` is a surrogate code point, not a character",
                    "write the character itself, or its code point: `\\u{1F600}`",
                )
            out.append(chr(code))
            i = close + 1
        else:
            shown = "\\" + (nxt if nxt and nxt != "\n" else "")
            raise EscapeError(
                where(i),
                max(1, len(shown)),
                f"invalid escape `{shown}`",
                "write `\\\\` for a literal backslash",
            )
    return "".join(out)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _escape_char(ch: str) -> str:
    if ch in _ENCODE_ESCAPES:
        return _ENCODE_ESCAPES[ch]
    if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
        return f"\\u{{{ord(ch):x}}}"
    return ch


def encode(value: str) -> str:
    """The one-line literal of `value`."""
    return '"' + "".join('\\"' if ch == '"' else _escape_char(ch) for ch in value) + '"'


def encode_block(value: str, indent: str, closing_indent: str = "") -> str:
    """A triple-quoted literal of `value` whose lines are indented by `indent` (the
    closing quotes by `closing_indent`), or the one-line literal where the block form
    would not read back the same."""
    lines = [_escape_block_line(line) for line in value.split("\n")]
    body = "".join(f"{indent}{line}\n" if line else "\n" for line in lines)
    candidate = f'"""\n{body}{closing_indent}"""'
    try:
        if decode(candidate) == value:
            return candidate
    except EscapeError:  # pragma: no cover - encode never writes a bad escape
        pass
    return encode(value)


def _escape_block_line(line: str) -> str:
    out = "".join(ch if ch == '"' else _escape_char(ch) for ch in line)
    # Escape every quote of a run of three or more, so no run can close the literal.
    return _QUOTE_RUN.sub(lambda m: '\\"' * len(m.group()), out)


_QUOTE_RUN = re.compile('"{3,}')

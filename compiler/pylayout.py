"""Python code laid out as `ruff format` lays it out, for the code generator.

A call that fits on its line stays on it; otherwise its arguments go on one indented
line, or, when that is too long too, one per line with a trailing comma, each laid out
the same way (ruff's right-hand split, then its split at commas). A trailing comment
counts towards the line, as it does for ruff, and follows the closing bracket.
Comments from `.agent` source are written as `# text`, with what Python cannot hold in
a comment (a NUL, a line break) escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LINE = 88  # ruff's default line length


@dataclass
class Call:
    """`head(args)`: `head` may carry what precedes the call (`x = rg.node`, `when=rg.not_`)."""

    head: str
    args: list[Call | str] = field(default_factory=list)
    brackets: str = "()"  # "[]" for a list

    def flat(self) -> str:
        opening, closing = self.brackets[0], self.brackets[1]
        return f"{self.head}{opening}{', '.join(flat(a) for a in self.args)}{closing}"


def flat(code: Call | str) -> str:
    return code.flat() if isinstance(code, Call) else code


def layout(code: Call | str, indent: int = 0, trailing: str = "") -> list[str]:
    """The lines of `code` at `indent`, `trailing` (a comma, a comment) after its end."""
    pad = " " * indent
    one = f"{pad}{flat(code)}{trailing}"
    if len(one) <= LINE or not isinstance(code, Call) or not code.args:
        return [one]
    comma, _, comment = trailing.partition("  #")
    opening, closing = code.brackets[0], code.brackets[1]
    close = f"{pad}{closing}{comma}{'  #' + comment if comment else ''}"
    inner = f"{pad}    {', '.join(flat(a) for a in code.args)}"
    if len(code.args) == 1:
        return [f"{pad}{code.head}{opening}", *layout(code.args[0], indent + 4), close]
    if len(inner) <= LINE:
        return [f"{pad}{code.head}{opening}", inner, close]
    lines = [f"{pad}{code.head}{opening}"]
    for arg in code.args:
        lines += layout(arg, indent + 4, ",")
    return [*lines, close]


def comment(text: str) -> str:
    """A `.agent` comment (`// text`, `/* text */`) as one Python comment line."""
    body = text[2:] if text.startswith("//") else text
    escaped = "".join(
        c if c.isprintable() or c == " " else repr(c)[1:-1] for c in body.rstrip()
    ).rstrip()
    if escaped and not escaped.startswith(" "):
        escaped = " " + escaped
    return "#" + escaped


def comment_lines(comments: tuple[str, ...], indent: int = 0) -> list[str]:
    pad = " " * indent
    lines = []
    for text in comments:
        for line in text.splitlines():
            if line.strip():
                lines.append(pad + comment(line.strip()))
    return lines


def with_trailing(lines: list[str], text: str | None, indent: int = 0) -> list[str]:
    """`lines` with a trailing comment at the end of the last one where it fits, else
    as a comment line above them (a one-line item that ruff would otherwise split)."""
    if not text:
        return lines
    note = comment(text.strip())
    if len(lines) == 1 and len(lines[0]) + 2 + len(note) <= LINE:
        return [f"{lines[0]}  {note}"]
    return [" " * indent + note, *lines]

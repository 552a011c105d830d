"""Replies that do not fit the type: read them leniently before paying for a repair call.

A reply is read in steps, each tried only when the one before fails:

1. `strict`: JSON, with raw control characters allowed inside strings (llama.cpp's
   grammar lets a newline through where JSON wants `\\n`);
2. `fenced`: the JSON inside a fenced block, or the outermost `{...}` / `[...]` in prose;
3. `repaired`: `json_repair` mends trailing commas, single quotes, comments, unclosed
   brackets — accepted only when it finds an object or a list, never a scalar made up
   out of prose.

What is read must still validate against the result type. When it does not, the model
is asked again with every validation error (field paths, what was found) and its reply
quoted, cut to `QUOTE_LIMIT` characters: a 50 MB reply is not sent back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from rolegraph.compiler.depth import loads_json

QUOTE_LIMIT = 2000
ERRORS_SHOWN = 12

_FENCED = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def read_reply(text: str) -> tuple[Any, str]:
    """The JSON value in a reply and the step that read it; `ValueError` when none can."""
    try:
        return loads_json(text, strict=False), "strict"
    except ValueError:
        pass
    for candidate in _embedded(text):
        try:
            return loads_json(candidate, strict=False), "fenced"
        except ValueError:
            continue
    if "{" in text or "[" in text:
        import json_repair

        try:
            value = json_repair.loads(text)
        except Exception:  # the repairer is best effort: whatever it trips on, we refuse
            value = None
        if isinstance(value, dict | list) and value != [] and value != {}:
            return value, "repaired"
    raise ValueError(_not_json(text))


def lenient_json(text: str) -> Any:
    return read_reply(text)[0]


def tool_arguments(text: str | None) -> dict[str, Any]:
    """A tool call's arguments; what is not a JSON object is passed on as `{}`, and the
    tool's own validation tells the model what was missing."""
    try:
        value = lenient_json(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _embedded(text: str) -> list[str]:
    found = [match.group(1).strip() for match in _FENCED.finditer(text)]
    for opening, closing in (("{", "}"), ("[", "]")):
        start, end = text.find(opening), text.rfind(closing)
        if 0 <= start < end:
            found.append(text[start : end + 1])
    return found


def _not_json(text: str) -> str:
    if not text.strip():
        return "the reply is empty"
    return "the reply is not JSON"


def explain(error: Exception) -> str:
    """Every problem a validation error lists, with the path to the field."""
    if not isinstance(error, ValidationError):
        return str(error)
    lines = []
    for item in error.errors()[:ERRORS_SHOWN]:
        path = ".".join(str(part) for part in item["loc"]) or "the value"
        found = json.dumps(item.get("input"), default=str)
        if len(found) > 80:
            found = found[:77] + "..."
        lines.append(f"{path}: {item['msg']} (found {found})")
    more = error.error_count() - ERRORS_SHOWN
    if more > 0:
        lines.append(f"... and {more} more")
    return "; ".join(lines)


def quote(text: str) -> str:
    """A reply as a repair prompt or an error message shows it: cut when long."""
    if len(text) <= QUOTE_LIMIT:
        return text
    return f"{text[:QUOTE_LIMIT]}... [{len(text) - QUOTE_LIMIT:,} more characters cut]"


def repair_prompt(problem: str) -> str:
    return (
        f"That reply does not fit the schema: {problem}. "
        "Reply again with only the JSON value, matching the schema."
    )

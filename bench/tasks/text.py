"""What the scorers read from a result: its text (an `Answer`'s `text`, a `Thought`'s
`answer`, or the value itself), and the numbers in it."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")


def answer_text(result: Any) -> str:
    if isinstance(result, dict):
        for name in ("text", "answer", "code"):
            if isinstance(result.get(name), str):
                return str(result[name])
        return json.dumps(result, sort_keys=True, default=str)
    return "" if result is None else str(result)


def folded(text: str) -> str:
    """Case and accents folded, so "Bogotá" matches "bogota"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def numbers(text: str) -> list[float]:
    return [float(found.replace(",", "")) for found in _NUMBER.findall(text)]

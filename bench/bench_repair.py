"""How many of a real model's malformed replies each step of local repair rescues.

    python bench/bench_repair.py [tests/data/smollm2_malformed_replies.jsonl]

The corpus holds replies of SmolLM2-135M (served by llama.cpp, recorded by
bench/bench_real_model.py) that did not parse or did not validate as their result type
on the first try. Each is read by `runtime/repair.read_reply` — strict JSON with control
characters allowed, then a fenced block or the outermost object, then json_repair — and
the value is checked against the reply's JSON schema (required fields present, with
the schema's JSON types). What neither rescues needs a paid repair call.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rolegraph.runtime.repair import read_reply

CORPUS = Path(__file__).resolve().parent.parent / "tests/data/smollm2_malformed_replies.jsonl"
JSON_TYPES = {
    "string": str,
    "number": (int, float),
    "integer": int,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether `value` has the schema's shape: its type, and an object's required fields
    with their types (enough to say whether a repair call is still needed)."""
    kind = schema.get("type")
    if kind is None:
        return True
    if not isinstance(value, JSON_TYPES.get(kind, object)) or (
        kind in ("number", "integer") and isinstance(value, bool)
    ):
        return False
    if kind == "object":
        properties = schema.get("properties", {})
        return all(
            name in value and fits(value[name], properties.get(name, {}))
            for name in schema.get("required", [])
        )
    if kind == "array":
        return all(fits(item, schema.get("items", {})) for item in value)
    return True


def main(path: Path) -> None:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    outcome: Counter[str] = Counter()
    for record in records:
        try:
            value, step = read_reply(record["reply"])
        except ValueError:
            outcome["not JSON: a repair call"] += 1
            continue
        outcome[f"read ({step}), fits" if fits(value, record["schema"]) else
                f"read ({step}), does not fit: a repair call"] += 1  # fmt: skip
    print(f"{len(records)} malformed replies of the real model ({path.name})\n")
    print("| outcome | replies |\n|---|---|")
    for name, count in sorted(outcome.items()):
        print(f"| {name} | {count} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS)

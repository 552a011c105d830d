"""A tool declaration compared with an MCP server's description of the tool.

An MCP server describes each tool by JSON schemas: its input (an object whose
properties are the parameters) and, optionally, its output. `compare_tool` says where
a declaration and that description disagree; it runs nothing and imports nothing (the
caller, runtime/mcp_check.py, asked the server).

Values flow in two directions, and the check follows them: what the declaration sends
(its parameters) must be accepted by the server's input schema, and what the server
returns (its output schema) must be accepted by the declared result type. So `int`
may be sent where the server takes a `number`, and an `integer` result read as `float`,
but not the other way round.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .resolve import did_you_mean
from .types import (
    BOOL,
    FLOAT,
    INT,
    STR,
    AnyType,
    DictT,
    EnumT,
    ListT,
    NoneType_,
    OptionalT,
    RecordT,
    Type,
)

Direction = Literal["send", "receive"]
_DEPTH = 32  # (a recursive schema is followed this deep, then accepted)


@dataclass(frozen=True)
class Mismatch:
    message: str
    param: str | None = None  # the parameter it is about; None: the tool or its result
    hint: str = ""


def compare_tool(
    params: list[tuple[str, Type, bool]],
    returns: Type,
    input_schema: dict[str, Any] | None,
    output_schema: dict[str, Any] | None,
) -> list[Mismatch]:
    """Where a declaration (`params` as (name, type, has a default), `returns`) and a
    server's schemas of the tool disagree."""
    found: list[Mismatch] = []
    root = input_schema or {}
    properties = root.get("properties") or {}
    required = set(root.get("required") or ())
    # (a schema that lists its properties takes those: FastMCP's, like pydantic, drops
    # the others silently, which is a declaration's mistake to report)
    extra = root.get("additionalProperties")
    extra_allowed = extra is True or isinstance(extra, dict) or "properties" not in root
    declared = {name for name, _, _ in params}
    for name, t, _ in params:
        if name not in properties:
            if not extra_allowed:
                found.append(
                    Mismatch(
                        f"the server's tool has no parameter `{name}`",
                        name,
                        " ".join(did_you_mean(name, properties))
                        or f"its parameters: {_names(properties)}",
                    )
                )
            continue
        problem = fits(t, properties[name], root, "send")
        if problem:
            found.append(Mismatch(f"parameter `{name}`: {problem}", name))
    for name in sorted(required - declared):
        schema = properties.get(name, {})
        found.append(
            Mismatch(
                f"the server's tool requires parameter `{name}` ({describe(schema, root)}), "
                "which the declaration does not have",
                None,
                f"declare it: `{name}: {suggest_type(schema, root)}`",
            )
        )
    if output_schema:
        schema = output_schema
        result = (output_schema.get("properties") or {}).get("result")
        if result is not None and (
            output_schema.get("x-fastmcp-wrap-result")
            or not isinstance(_strip(returns), RecordT | DictT)
        ):
            schema = result  # (a non-object result, wrapped as {"result": value})
        problem = fits(returns, schema, output_schema, "receive")
        if problem:
            found.append(Mismatch(f"the result: {problem}"))
    return found


def fits(t: Type, schema: Any, root: dict[str, Any], direction: Direction, depth: int = 0) -> str:
    """Why values of `t` do not fit `schema` (sending) or values of `schema` do not fit
    `t` (receiving); "" when they do."""
    if depth > _DEPTH or isinstance(t, AnyType) or not isinstance(schema, dict):
        return ""
    schema = _resolve(schema, root)
    branches = _branches(schema)
    if branches is not None:
        return _fits_branches(t, branches, root, direction, depth)
    kind = schema.get("type")
    if kind is None:
        if "enum" in schema or "const" in schema:
            kind = "string"  # (an enum of strings, the only one rolegraph has)
        else:
            return ""  # any value
    if isinstance(t, OptionalT):
        if direction == "send":
            return f"the declaration may send none, the server expects {describe(schema, root)}"
        return fits(t.inner, schema, root, direction, depth + 1)
    wrong = _wrong(t, schema, root, direction)
    if kind == "null":
        return "" if isinstance(t, NoneType_) else wrong
    if kind == "string":
        if t == STR:
            members = schema.get("enum")
            if direction == "receive" or members is None:
                return ""
            return wrong
        if isinstance(t, EnumT):
            members = set(schema.get("enum") or ())
            ours = set(t.members)
            if direction == "send":
                missing = sorted(ours - members) if members else []
            else:
                missing = sorted(members - ours) if members else ["any other string"]
            if missing:
                return f"{wrong} (not both ways: {', '.join(map(str, missing))})"
            return ""
        return wrong
    if kind == "integer":
        return "" if t == INT or (direction == "receive" and t == FLOAT) else wrong
    if kind == "number":
        return "" if t == FLOAT or (direction == "send" and t == INT) else wrong
    if kind == "boolean":
        return "" if t == BOOL else wrong
    if kind == "array":
        if not isinstance(t, ListT):
            return wrong
        problem = fits(t.item, schema.get("items", {}), root, direction, depth + 1)
        return f"an item: {problem}" if problem else ""
    if kind == "object":
        return _fits_object(t, schema, root, direction, depth, wrong)
    return ""  # (a type JSON schema has and rolegraph does not: not judged)


def _fits_object(
    t: Type,
    schema: dict[str, Any],
    root: dict[str, Any],
    direction: Direction,
    depth: int,
    wrong: str,
) -> str:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    extra = schema.get("additionalProperties", True)
    if isinstance(t, DictT):
        for name, value in properties.items():
            if direction == "receive":
                problem = fits(t.value, value, root, direction, depth + 1)
                if problem:
                    return f"field `{name}`: {problem}"
        if direction == "send" and properties and extra is False:
            return wrong
        if isinstance(extra, dict):
            return fits(t.value, extra, root, direction, depth + 1)
        return ""
    if not isinstance(t, RecordT):
        return wrong
    for name, field_type in t.fields.items():
        if name not in properties:
            if direction == "send" and extra is False:
                return f"field `{name}` of `{t}` is not one the server takes"
            if direction == "receive" and name not in t.defaults:
                return f"`{t}` requires field `{name}`, which the server's result does not have"
            continue
        optional = name in t.defaults or isinstance(field_type, OptionalT)
        if direction == "receive" and name not in required and not optional:
            return f"field `{name}`: the server may leave it out, and `{t}` requires it"
        problem = fits(field_type, properties[name], root, direction, depth + 1)
        if problem:
            return f"field `{name}`: {problem}"
    if direction == "send":
        missing = sorted(required - set(t.fields))
        if missing:
            return f"the server requires field `{missing[0]}`, which `{t}` does not have"
    return ""


def _fits_branches(
    t: Type, branches: list[Any], root: dict[str, Any], direction: Direction, depth: int
) -> str:
    if direction == "send":
        # every value we may send fits some branch
        for part in _alternatives(t):
            if all(fits(part, b, root, direction, depth + 1) for b in branches):
                shown = "none" if isinstance(part, NoneType_) else f"`{part}`"
                return f"the server expects {_describe_any(branches, root)}, not {shown}"
        return ""
    # every value the server may give fits `t`
    for branch in branches:
        resolved = _resolve(branch, root) if isinstance(branch, dict) else branch
        if isinstance(resolved, dict) and resolved.get("type") == "null":
            if not isinstance(t, OptionalT | NoneType_ | AnyType):
                return f"the server may give null, and `{t}` is not optional (write `{t}?`)"
            continue
        problem = fits(_strip(t), branch, root, direction, depth + 1)
        if problem:
            return problem
    return ""


def _alternatives(t: Type) -> Iterator[Type]:
    if isinstance(t, OptionalT):
        yield NoneType_()
        yield t.inner
    else:
        yield t


def _branches(schema: dict[str, Any]) -> list[Any] | None:
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return list(schema[key])
    if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        return list(schema["allOf"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return [{**schema, "type": k} for k in kind]
    return None


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(schema.get("$ref"), str) and seen < _DEPTH:
        seen += 1
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}  # (another document: not followed)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            return {}
        schema = target
    return schema


def _strip(t: Type) -> Type:
    return t.inner if isinstance(t, OptionalT) else t


def _wrong(t: Type, schema: dict[str, Any], root: dict[str, Any], direction: Direction) -> str:
    theirs = describe(schema, root)
    if direction == "send":
        return f"the server expects {theirs}, the declaration sends `{t}`"
    return f"the server gives {theirs}, the declaration expects `{t}`"


def _describe_any(branches: list[Any], root: dict[str, Any]) -> str:
    return " or ".join(describe(b, root) for b in branches if isinstance(b, dict))


def describe(schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> str:
    """A JSON schema in a few words: `integer`, `array of string`, `object Point`."""
    schema = _resolve(schema, root)
    branches = _branches(schema)
    if branches is not None:
        return _describe_any(branches, root) if depth < 3 else "a union"
    kind = schema.get("type")
    if kind == "array" and depth < 3:
        return f"array of {describe(schema.get('items') or {}, root, depth + 1)}"
    if kind == "object" and schema.get("title"):
        return f"object {schema['title']}"
    if kind == "string" and schema.get("enum"):
        return "one of " + ", ".join(repr(m) for m in schema["enum"])
    return str(kind) if kind else "any value"


def suggest_type(schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> str:
    """The rolegraph type nearest to a JSON schema, for a hint."""
    schema = _resolve(schema, root)
    branches = _branches(schema)
    if branches is not None and depth < 3:
        kinds = [_resolve(b, root) for b in branches if isinstance(b, dict)]
        others = [k for k in kinds if k.get("type") != "null"]
        if len(others) == 1:
            inner = suggest_type(others[0], root, depth + 1)
            return f"{inner}?" if len(others) < len(kinds) else inner
    kind = schema.get("type")
    simple = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
    if kind in simple:
        return simple[kind]
    if kind == "array" and depth < 3:
        return f"list[{suggest_type(schema.get('items') or {}, root, depth + 1)}]"
    if kind == "object":
        return str(schema.get("title") or "dict[str, str]")
    return "str"


def _names(properties: dict[str, Any]) -> str:
    return ", ".join(f"`{n}`" for n in properties) or "none"

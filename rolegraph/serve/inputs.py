"""A request's inputs against an agent's parameters, with diagnostics as the checker
gives them: a code, a message, a place (the parameter's declaration in the `.agent`
file, or the line and column in the request body), hints, and the text rendered as the
command line renders it.

The rules are the runtime's (runtime/values.py `agent_inputs` and
`coerce`): defaults filled in, no unknown names, none missing, each value validated
against its type. They are applied here first so that a bad request is answered
`4xx` with its diagnostics before anything is recorded; the run then validates again.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from rolegraph.compiler import codes
from rolegraph.compiler.depth import loads_json
from rolegraph.compiler.diagnostics import Diagnostic, diagnostic, render
from rolegraph.compiler.resolve import did_you_mean
from rolegraph.compiler.source import Source, Span

from .catalog import ServedAgent

BODY = "<request body>"
MAX_BODY = 8 * 1024 * 1024  # bytes of inputs a request may send


class BadRequest(Exception):
    """Diagnostics that answer a request with `status`."""

    def __init__(self, status: int, diagnostics: list[Diagnostic], sources: dict[str, str]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.status = status
        self.diagnostics = diagnostics
        self.sources = sources

    def body(self) -> dict[str, Any]:
        return {"diagnostics": [diagnostic_json(d, self.sources) for d in self.diagnostics]}


def diagnostic_json(found: Diagnostic, sources: dict[str, str]) -> dict[str, Any]:
    """A diagnostic as `rolegraph check --json` writes it, and `rendered`: the text the
    command line prints (source line and caret)."""
    data = found.model_dump(mode="json")
    data["line"] = found.line
    data["column"] = found.column
    data["rendered"] = render(found, Source(found.file, sources.get(found.file, "")))
    return data


def parse_body(raw: bytes) -> Any:
    """The request body as JSON; `BadRequest` (400, E0900) saying where it is not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(
            400,
            [
                diagnostic(
                    codes.BAD_REQUEST_JSON,
                    f"the request body is not UTF-8 text (byte {error.start})",
                    file=BODY,
                )
            ],
            {},
        ) from None
    try:
        return loads_json(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        line_end = text.find("\n", error.pos)
        end = min(error.pos + 1, line_end if line_end >= 0 else len(text))
        span = Span(
            line=error.lineno,
            column=error.colno,
            end_line=error.lineno,
            end_column=error.colno + max(1, end - error.pos),
            start=error.pos,
            end=max(end, error.pos + 1),
        )
        found = diagnostic(
            codes.BAD_REQUEST_JSON,
            f"the request body is not JSON: {error.msg}",
            file=BODY,
            span=span,
            label=error.msg.lower(),
            hints=('send the inputs as one JSON object: {"task": "..."}',),
        )
        raise BadRequest(400, [found], {BODY: text}) from None


async def read_body(chunks: Any, limit: int = MAX_BODY) -> bytes:
    """The body from its chunks (an async iterator), refused (413, E0907) past `limit`
    bytes without reading the rest."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            found = diagnostic(
                codes.REQUEST_TOO_LARGE,
                f"the request body is larger than {limit // (1024 * 1024)} MiB",
                file=BODY,
            )
            raise BadRequest(413, [found], {})
        parts.append(chunk)
    return b"".join(parts)


def require_json(content_type: str | None) -> None:
    """`BadRequest` (415, E0909) unless the body is declared JSON (`application/json`, or
    any `+json` type): what a cross-site form cannot send."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json")):
        return
    found = diagnostic(
        codes.NOT_JSON_CONTENT,
        f"the inputs are sent as {kind or 'no declared type'}, not application/json",
        file="<request>",
        hints=("send the header `Content-Type: application/json`",),
    )
    raise BadRequest(415, [found], {})


def cannot_record(reason: str) -> BadRequest:
    found = diagnostic(
        codes.CANNOT_RECORD_RUN,
        f"the run cannot be recorded: {reason}",
        file="<store>",
        hints=("send the request again once the store can be written",),
    )
    return BadRequest(503, [found], {})


def unknown_agent(name: str, served: list[str], broken: list[str]) -> BadRequest:
    hints = list(did_you_mean(name, served))
    notes = [f"served agents: {', '.join(served) if served else 'none'}"]
    if broken:
        notes.append(f"files with errors serve no agent: {', '.join(broken)} (GET /files)")
    found = diagnostic(
        codes.UNKNOWN_AGENT,
        f"no agent `{name}` is served here",
        file="<request>",
        hints=hints,
        notes=notes,
    )
    return BadRequest(404, [found], {})


def validate_inputs(agent: ServedAgent, inputs: Any) -> dict[str, Any]:
    """The inputs a run of `agent` takes, defaults filled in and values validated (plain
    data, as the run will see them); `BadRequest` (422) with every problem found."""
    from rolegraph.runtime.values import coerce

    ir = agent.ir
    file = str(agent.file.path)
    sources = agent.file.sources
    decl = next(
        (a for a in agent.file.checked.program.main.module.agents if a.name == ir.name), None
    )
    params = {p.name: p for p in decl.params} if decl is not None else {}
    if not isinstance(inputs, dict):
        found = diagnostic(
            codes.INPUTS_NOT_AN_OBJECT,
            f"the inputs of `{ir.name}` are a JSON object, not {_json_kind(inputs)}",
            file=file,
            span=_head(decl),
            label=f"`{ir.name}` takes: {', '.join(ir.param_types) or 'no parameters'}",
        )
        raise BadRequest(422, [found], sources)
    problems: list[Diagnostic] = []
    for name in inputs:
        if name not in ir.param_types:
            problems.append(
                diagnostic(
                    codes.UNKNOWN_INPUT,
                    f"agent `{ir.name}` has no parameter `{name}`",
                    file=file,
                    span=_head(decl),
                    label=f"it takes: {', '.join(ir.param_types) or 'no parameters'}",
                    hints=did_you_mean(name, ir.param_types),
                )
            )
    values = dict(ir.param_defaults)
    values.update({k: v for k, v in inputs.items() if k in ir.param_types})
    for name, kind in ir.param_types.items():
        param = params.get(name)
        if name not in values:
            problems.append(
                diagnostic(
                    codes.MISSING_INPUT,
                    f"agent `{ir.name}` needs the input `{name}`",
                    file=file,
                    span=param.span if param is not None else _head(decl),
                    label=f"`{name}: {kind}` has no default",
                )
            )
            continue
        try:
            _strictly(kind, values[name])
            values[name] = coerce(kind, values[name])
        except ValidationError as error:
            for item in error.errors():
                where = ".".join(str(part) for part in (name, *item.get("loc", ())))
                problems.append(
                    diagnostic(
                        codes.INPUT_TYPE,
                        f"input `{where}` does not fit `{kind}`: {item.get('msg', 'invalid')}",
                        file=file,
                        span=(param.type.span or param.span) if param is not None else None,
                        label=f"`{name}` is declared `{kind}` here",
                        notes=(f"got {_shown(item.get('input'))}",),
                    )
                )
    if problems:
        raise BadRequest(422, problems, sources)
    return values


def _strictly(kind: Any, value: Any) -> None:
    """Validate as the OpenAPI schema says, JSON's types strictly: `"yes"` is not a
    `bool` nor `"3"` an `int` over HTTP (the runtime, given Python values, converts
    them); ValidationError when the value does not fit."""
    from pydantic import TypeAdapter

    from rolegraph.compiler.types import AnyType
    from rolegraph.runtime.values import python_type

    if isinstance(kind, AnyType):
        return
    adapter = _STRICT.get(id(kind))
    if adapter is None or adapter[0] is not kind:
        adapter = _STRICT[id(kind)] = (kind, TypeAdapter(python_type(kind)))
    adapter[1].validate_json(json.dumps(value), strict=True)


_STRICT: dict[int, tuple[Any, Any]] = {}  # (the type is kept: its id is not reused)


def _head(decl: Any) -> Span | None:
    """The agent's declaration, its first line: `agent Name(params) -> T {`."""
    if decl is None or decl.span is None:
        return None
    span = decl.span
    return span.model_copy(
        update={"end_line": span.line, "end_column": span.column + 5, "end": span.start + 5}
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."

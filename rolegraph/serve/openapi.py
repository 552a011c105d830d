"""The OpenAPI 3.1 schema of a server: each served agent as a typed endpoint.

`POST /agents/NAME/runs` takes the agent's inputs (a JSON object, one member per
parameter, its JSON schema from the parameter's type: runtime/values.py, as structured
output uses it) and answers `202` with the run's id; `GET /agents/NAME/runs/ID` gives
the run with its result typed as the agent's return type. The generic routes (`/runs`,
`/runs/{id}`, its trace, events and human questions, `/agents`, `/files`) are described
once.
"""

from __future__ import annotations

from typing import Any

from rolegraph import __version__

from .catalog import ServedAgent
from .searches import openapi_paths, openapi_schemas

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schema_name(agent: str, part: str) -> str:
    # component names match ^[a-zA-Z0-9._-]+$ (agent keys are identifiers, or stem.Name)
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in agent)
    return f"{safe}.{part}"


def inputs_schema(agent: ServedAgent) -> dict[str, Any]:
    """The JSON schema of an agent's inputs."""
    from rolegraph.runtime.values import schema

    ir = agent.ir
    properties: dict[str, Any] = {}
    for name, kind in ir.param_types.items():
        prop = schema(kind)
        if name in ir.param_defaults:
            prop = {**prop, "default": ir.param_defaults[name]}
        properties[name] = prop
    return {
        "type": "object",
        "title": f"{ir.name} inputs",
        "properties": properties,
        "required": [n for n in ir.param_types if n not in ir.param_defaults],
        "additionalProperties": False,
    }


def result_schema(agent: ServedAgent) -> dict[str, Any]:
    from rolegraph.runtime.values import schema

    return schema(agent.ir.return_type) if agent.ir.return_type is not None else {}


_COMMON: dict[str, Any] = {
    "Diagnostic": {
        "type": "object",
        "description": "As `rolegraph check --json` gives it, and `rendered`: the text the "
        "command line prints.",
        "properties": {
            "code": {"type": "string", "pattern": "^[EW][0-9]{4}$"},
            "message": {"type": "string"},
            "severity": {"type": "string", "enum": ["error", "warning", "note"]},
            "file": {"type": "string"},
            "line": {"type": "integer"},
            "column": {"type": "integer"},
            "span": {"type": ["object", "null"]},
            "label": {"type": "string"},
            "labels": {"type": "array"},
            "hints": {"type": "array", "items": {"type": "string"}},
            "notes": {"type": "array", "items": {"type": "string"}},
            "rendered": {"type": "string"},
        },
        "required": ["code", "message", "severity", "file", "line", "column"],
    },
    "Problem": {
        "type": "object",
        "properties": {"diagnostics": {"type": "array", "items": _ref("Diagnostic")}},
        "required": ["diagnostics"],
    },
    "Accepted": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "agent": {"type": "string"},
            "state": {"type": "string"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["id", "agent", "state", "links"],
    },
    "Run": {
        "type": "object",
        "description": "A run: `state` is accepted (waiting for a slot), running, "
        "returned, failed, waiting (for answers from people: `questions`), or interrupted "
        "(its agent is not served since a restart).",
        "properties": {
            "id": {"type": "string"},
            "agent": {"type": "string"},
            "state": {
                "type": "string",
                "enum": ["accepted", "running", "returned", "failed", "waiting", "interrupted"],
            },
            "questions": {"type": "array", "items": _ref("Question")},
            "inputs": {"type": "object"},
            "model": {"type": ["string", "null"]},
            "result": {},
            "error": {"type": ["string", "null"]},
            "message": {"type": ["string", "null"]},
            "summary": {"type": ["object", "null"]},
            "attempts": {"type": "integer"},
            "accepted": {"type": "number"},
            "finished": {"type": ["number", "null"]},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["id", "agent", "state"],
    },
    "Question": {
        "type": "object",
        "description": "A question a human step asked (docs/human.md): `schema` is the JSON "
        "schema of its answer; `deadline` and `asked` are seconds since the epoch.",
        "properties": {
            "run": {"type": "string"},
            "id": {"type": "string"},
            "node": {"type": "string"},
            "step": {"type": "string"},
            "text": {"type": "string"},
            "schema": {"type": "object"},
            "asked": {"type": "number"},
            "deadline": {"type": ["number", "null"]},
            "answer": {},
            "answered": {"type": ["number", "null"]},
        },
        "required": ["run", "id", "node", "step", "text", "schema", "asked"],
    },
    "Answered": {
        "type": "object",
        "description": "An answer taken: the question with it, the run's state (`accepted` "
        "or `running` when it was the last one pending: the run resumes) and the questions "
        "still pending.",
        "properties": {
            "question": _ref("Question"),
            "state": {"type": "string"},
            "pending": {"type": "array", "items": _ref("Question")},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["question", "state", "pending"],
    },
    "TraceLine": {
        "type": "object",
        "description": "A line of the trace as `rolegraph run --trace` writes it: a firing "
        "(node, time, key, status, inputs, output, error, calls, tokens, cost, latency_ms, "
        "notes), or the last line, `event: end`, with the result and the totals.",
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Problem")}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


_RUN_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def _generic_paths() -> dict[str, Any]:
    return {
        "/agents": {
            "get": {
                "operationId": "list_agents",
                "summary": "The agents served, with their input and result schemas",
                "responses": {"200": _json("The agents", {"type": "array"})},
            }
        },
        "/files": {
            "get": {
                "operationId": "list_files",
                "summary": "The .agent files of the folder, with their diagnostics",
                "responses": {"200": _json("The files", {"type": "array"})},
            }
        },
        "/runs": {
            "get": {
                "operationId": "list_runs",
                "summary": "The runs accepted, the newest first",
                "parameters": [
                    {"name": "agent", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {"200": _json("The runs", {"type": "array", "items": _ref("Run")})},
            }
        },
        "/runs/{id}": {
            "get": {
                "operationId": "get_run",
                "summary": "A run: its state, inputs, result or error, and totals",
                "parameters": [_RUN_ID],
                "responses": {"200": _json("The run", _ref("Run")), "404": _problem("No such run")},
            }
        },
        "/runs/{id}/trace": {
            "get": {
                "operationId": "get_trace",
                "summary": "A run's trace, as `rolegraph run --trace` writes it",
                "parameters": [_RUN_ID],
                "responses": {
                    "200": _json("The trace", {"type": "array", "items": _ref("TraceLine")}),
                    "404": _problem("No such run"),
                    "409": _problem("The run has not ended"),
                },
            }
        },
        "/runs/{id}/events": {
            "get": {
                "operationId": "follow_run",
                "summary": "A run's events as server-sent events (docs/streaming.md)",
                "parameters": [
                    _RUN_ID,
                    {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "One event a message: `event` is its kind, `data` "
                        "its JSON, `id` is ATTEMPT.SEQ",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "404": _problem("No such run"),
                },
            }
        },
        "/runs/{id}/questions": {
            "get": {
                "operationId": "list_questions",
                "summary": "The questions a run waits for (docs/human.md)",
                "parameters": [_RUN_ID],
                "responses": {
                    "200": _json(
                        "The pending questions", {"type": "array", "items": _ref("Question")}
                    ),
                    "404": _problem("No such run"),
                },
            }
        },
        "/runs/{id}/questions/{qid}": {
            "post": {
                "operationId": "answer_question",
                "summary": "Answer a question; the last answer a run waits for resumes it",
                "parameters": [
                    _RUN_ID,
                    {"name": "qid", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "requestBody": {
                    "required": True,
                    "description": "The answer, JSON that fits the question's `schema`",
                    "content": {JSON: {"schema": {}}},
                },
                "responses": {
                    "200": _json("The answer is taken", _ref("Answered")),
                    "400": _problem("The body is not JSON"),
                    "404": _problem("No such run, or the run never asked this question"),
                    "409": _problem("Answered already, past its deadline, or the run ended"),
                    "415": _problem("The body is not sent as JSON"),
                    "422": _problem("The answer does not fit the question's type (E0421)"),
                    "503": _problem("The store cannot record the answer"),
                },
            }
        },
    }


def _agent_paths(agent: ServedAgent) -> dict[str, Any]:
    from urllib.parse import quote

    name = agent.name
    path = f"/agents/{quote(name, safe='')}"
    inputs = _schema_name(name, "Inputs")
    run = _schema_name(name, "Run")
    described = f"Run `{agent.ir.name}` of {agent.file.path.name}"
    return {
        f"{path}/runs": {
            "post": {
                "operationId": f"run_{_schema_name(name, '')[:-1].replace('.', '_')}",
                "summary": described,
                "tags": [name],
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref(inputs)}}},
                "responses": {
                    "202": _json("Accepted: the run is recorded and started", _ref("Accepted")),
                    "400": _problem("The body is not JSON (E0900)"),
                    "422": _problem("The inputs do not fit the parameters (E0902-E0905)"),
                },
            }
        },
        f"{path}/runs/{{id}}": {
            "get": {
                "operationId": f"get_{_schema_name(name, '')[:-1].replace('.', '_')}_run",
                "summary": f"A run of `{agent.ir.name}`, its result typed",
                "tags": [name],
                "parameters": [_RUN_ID],
                "responses": {
                    "200": _json("The run", _ref(run)),
                    "404": _problem("No such run of this agent"),
                },
            }
        },
    }


def openapi(agents: dict[str, ServedAgent]) -> dict[str, Any]:
    """The OpenAPI document for the agents served now."""
    schemas: dict[str, Any] = dict(_COMMON)
    paths: dict[str, Any] = _generic_paths()
    for name, agent in sorted(agents.items()):
        schemas[_schema_name(name, "Inputs")] = inputs_schema(agent)
        schemas[_schema_name(name, "Result")] = result_schema(agent)
        schemas[_schema_name(name, "Run")] = {
            "allOf": [
                _ref("Run"),
                {
                    "properties": {
                        "result": {"anyOf": [_ref(_schema_name(name, "Result")), {"type": "null"}]}
                    }
                },
            ]
        }
        paths.update(_agent_paths(agent))
    paths.update(openapi_paths())
    schemas.update(openapi_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rolegraph serve",
            "version": __version__,
            "description": "The agents of a folder of `.agent` files, as typed endpoints.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }

"""The HTTP handlers. Every answer is JSON but the event stream (SSE) and the web app;
every error a request can cause is a `Problem` with diagnostics (rolegraph/serve/inputs.py).

    GET  /agents                         the agents, their input and result schemas
    GET  /agents/{name}                  one agent: schemas, graph, source
    POST /agents/{name}/runs             start a run (202, Location: /runs/{id})
    GET  /agents/{name}/runs/{id}        a run of that agent (typed in the OpenAPI)
    GET  /runs                           the runs accepted, the newest first
    GET  /runs/{id}                      a run: state, inputs, result or error, totals
    GET  /runs/{id}/trace                its trace, as `rolegraph run --trace` writes it
    GET  /runs/{id}/events               its events, as server-sent events
    GET  /runs/{id}/questions            the questions it waits for (a `waiting` run)
    POST /runs/{id}/questions/{qid}      answer one; the last answer resumes the run
    GET  /files                          the folder's files and their diagnostics
    GET  /searches, /searches/{id}       search reports, with diffs (searches.py)
    GET  /openapi.json                   the schema
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import quote

from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rolegraph.compiler import codes
from rolegraph.compiler.diagnostics import diagnostic
from rolegraph.runtime import answer_question, pending_questions
from rolegraph.runtime.errors import RunError
from rolegraph.runtime.questions import AnswerError
from rolegraph.runtime.questions import find as find_question

from .catalog import ServedAgent
from .graph import graph_json
from .inputs import (
    BadRequest,
    cannot_record,
    diagnostic_json,
    parse_body,
    read_body,
    require_json,
    unknown_agent,
    validate_inputs,
)
from .openapi import inputs_schema, openapi, result_schema
from .runner import Runner
from .searches import SEARCH_ROUTES


def _runner(request: Request) -> Runner:
    return request.app.state.runner


def _problem(error: BadRequest) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def _agent(request: Request) -> ServedAgent:
    runner = _runner(request)
    name = request.path_params["name"]
    agents = runner.catalog.agents()
    found = agents.get(name)
    if found is None:
        broken = [f.path.name for f in runner.catalog.files() if f.checked is None or f.errors]
        raise unknown_agent(name, sorted(agents), broken)
    return found


def _no_run(run: str) -> BadRequest:
    found = diagnostic(
        codes.UNKNOWN_RUN,
        f"no run `{run}` in this server's store",
        file="<request>",
        hints=("GET /runs lists the runs",),
    )
    return BadRequest(404, [found], {})


def _links(run: str, agent: str) -> dict[str, str]:
    return {
        "self": f"/runs/{run}",
        "typed": f"/agents/{quote(agent, safe='')}/runs/{run}",
        "trace": f"/runs/{run}/trace",
        "events": f"/runs/{run}/events",
        "questions": f"/runs/{run}/questions",
        "page": f"/#/run/{run}",
    }


def run_json(runner: Runner, run: str) -> dict[str, Any] | None:
    """A run as `GET /runs/{id}` gives it; None when the server never accepted it."""
    accepted = runner.journal.get(run)
    if accepted is None:
        return None
    data = accepted.to_json()
    live = runner.live.get(run)
    if live is not None:
        data["state"] = live.state
        data["attempt"] = live.attempt
    info = runner.store.run_info(run)
    data["inputs"] = info.inputs if info is not None else None
    data["model"] = info.model if info is not None else None
    data["result"] = info.result if info is not None and data["state"] == "returned" else None
    # (a running run may have asked already: its parked steps wait while others go on)
    data["questions"] = (
        [q.to_json() for q in pending_questions(runner.store, run)]
        if data["state"] not in ("returned", "failed")
        else []
    )
    data["links"] = _links(run, accepted.agent)
    return data


def agent_json(agent: ServedAgent) -> dict[str, Any]:
    return {
        "name": agent.name,
        "agent": agent.ir.name,
        "file": str(agent.file.path),
        "params": {k: str(v) for k, v in agent.ir.param_types.items()},
        "returns": agent.ir.returns,
        "inputs_schema": inputs_schema(agent),
        "result_schema": result_schema(agent),
        "worst_case_calls": agent.ir.worst_case_calls(),
        "links": {"runs": f"/agents/{quote(agent.name, safe='')}/runs"},
    }


# -- agents ---------------------------------------------------------------------------------


async def list_agents(request: Request) -> Response:
    agents = _runner(request).catalog.agents()
    return JSONResponse([agent_json(a) for _, a in sorted(agents.items())])


async def get_agent(request: Request) -> Response:
    try:
        agent = _agent(request)
    except BadRequest as error:
        return _problem(error)
    data = agent_json(agent)
    data["graph"] = graph_json(agent)
    data["source"] = agent.file.text
    data["warnings"] = [
        diagnostic_json(d, agent.file.sources) for d in agent.file.diagnostics if not d.is_error
    ]
    return JSONResponse(data)


async def start_run(request: Request) -> Response:
    runner = _runner(request)
    try:
        agent = _agent(request)
        require_json(request.headers.get("content-type"))
        inputs = validate_inputs(agent, parse_body(await read_body(request.stream())))
        try:
            run = runner.accept(agent, inputs)
        except (RunError, sqlite3.Error) as error:  # (the store: full, damaged, locked)
            raise cannot_record(getattr(error, "reason", None) or str(error)) from None
    except BadRequest as error:
        return _problem(error)
    return JSONResponse(
        {"id": run, "agent": agent.name, "state": "accepted", "links": _links(run, agent.name)},
        status_code=202,
        headers={"Location": f"/runs/{run}"},
    )


async def get_agent_run(request: Request) -> Response:
    runner = _runner(request)
    run = request.path_params["id"]
    data = run_json(runner, run)
    if data is None or data["agent"] != request.path_params["name"]:
        return _problem(_no_run(run))
    return JSONResponse(data)


# -- runs -----------------------------------------------------------------------------------


async def list_runs(request: Request) -> Response:
    runner = _runner(request)
    try:
        limit = max(1, min(1000, int(request.query_params.get("limit", "100"))))
    except ValueError:
        limit = 100
    found = runner.journal.runs(request.query_params.get("agent"), limit)
    out = []
    for accepted in found:
        data = accepted.to_json()
        live = runner.live.get(accepted.id)
        if live is not None:
            data["state"] = live.state
        data["links"] = _links(accepted.id, accepted.agent)
        out.append(data)
    return JSONResponse(out)


async def get_run(request: Request) -> Response:
    run = request.path_params["id"]
    data = run_json(_runner(request), run)
    if data is None:
        return _problem(_no_run(run))
    return JSONResponse(data)


async def get_trace(request: Request) -> Response:
    runner = _runner(request)
    run = request.path_params["id"]
    if runner.journal.get(run) is None:
        return _problem(_no_run(run))
    lines = runner.journal.trace(run)
    if lines is None or run in runner.live:
        found = diagnostic(
            codes.UNKNOWN_RUN,
            f"run `{run}` has not ended: its trace is written when it ends",
            file="<request>",
            hints=(f"follow it with GET /runs/{run}/events",),
        )
        return _problem(BadRequest(409, [found], {}))
    return JSONResponse(lines)


def _last_event_id(request: Request) -> tuple[int, int] | None:
    text = request.headers.get("last-event-id") or request.query_params.get("after")
    if not text:
        return None
    attempt, _, seq = text.partition(".")
    try:
        return int(attempt), int(seq)
    except ValueError:
        return None


async def follow_run(request: Request) -> Response:
    runner = _runner(request)
    run = request.path_params["id"]
    if runner.journal.get(run) is None:
        return _problem(_no_run(run))

    async def messages() -> Any:
        async for ident, event in runner.follow(run, _last_event_id(request)):
            yield {"id": ident, "event": event["kind"], "data": json.dumps(event, default=str)}

    return EventSourceResponse(messages(), ping=15, headers={"Cache-Control": "no-store"})


# -- human questions --------------------------------------------------------------------------


async def list_questions(request: Request) -> Response:
    runner = _runner(request)
    run = request.path_params["id"]
    if runner.journal.get(run) is None:
        return _problem(_no_run(run))
    return JSONResponse([q.to_json() for q in pending_questions(runner.store, run)])


def _refused(error: AnswerError, status: int) -> BadRequest:
    notes = ("the run is unchanged: it still waits for its answers",) if error.waiting else ()
    found = diagnostic(error.code, str(error), file="<request>", hints=error.hints, notes=notes)
    return BadRequest(status, [found], {})


async def answer(request: Request) -> Response:
    """Answer a question: 200 with the question answered and the run's state (`running`
    when this answer was the last it waited for: it resumes); 422 for an answer that
    does not fit, 409 for a question answered already or past its deadline, or a run
    that ended; 404 for a run or question never seen."""
    runner = _runner(request)
    run, question = request.path_params["id"], request.path_params["qid"]
    try:
        if runner.journal.get(run) is None:
            raise _no_run(run)
        require_json(request.headers.get("content-type"))
        value = parse_body(await read_body(request.stream()))
        try:
            answered = answer_question(runner.store, run, question, value)
        except AnswerError as error:
            if error.code == codes.BAD_ANSWER:
                raise _refused(error, 422) from None
            if find_question(runner.store, run, question) is None:
                raise _refused(error, 404) from None
            raise _refused(error, 409) from None
        except (RunError, sqlite3.Error) as error:  # (the store: full, damaged, locked)
            raise cannot_record(getattr(error, "reason", None) or str(error)) from None
    except BadRequest as error:
        return _problem(error)
    runner.answered(run)
    data = run_json(runner, run)
    assert data is not None
    return JSONResponse(
        {
            "question": answered.to_json(),
            "state": data["state"],
            "pending": data["questions"],
            "links": data["links"],
        }
    )


QUESTION_ROUTES: list[Route] = [
    Route("/runs/{id}/questions", list_questions, methods=["GET"]),
    Route("/runs/{id}/questions/{qid}", answer, methods=["POST"]),
]


# -- files and schema -------------------------------------------------------------------------


async def list_files(request: Request) -> Response:
    files = _runner(request).catalog.files()
    return JSONResponse(
        [
            {
                "file": str(f.path),
                "agents": sorted(f.checked.irs) if f.checked is not None and not f.errors else [],
                "errors": len(f.errors),
                "diagnostics": [diagnostic_json(d, f.sources) for d in f.diagnostics],
            }
            for f in files
        ]
    )


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi(_runner(request).catalog.agents()))


API_ROUTES = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/agents", list_agents, methods=["GET"]),
    Route("/agents/{name}", get_agent, methods=["GET"]),
    Route("/agents/{name}/runs", start_run, methods=["POST"]),
    Route("/agents/{name}/runs/{id}", get_agent_run, methods=["GET"]),
    Route("/runs", list_runs, methods=["GET"]),
    Route("/runs/{id}", get_run, methods=["GET"]),
    Route("/runs/{id}/trace", get_trace, methods=["GET"]),
    Route("/runs/{id}/events", follow_run, methods=["GET"]),
    *QUESTION_ROUTES,
    Route("/files", list_files, methods=["GET"]),
    *SEARCH_ROUTES,
]

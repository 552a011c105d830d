"""The searches a server shows: the reports `rolegraph search -o DIR` writes
(`DIR/search.json`, search/report.py) found under the folder it serves, recursively
(hidden folders aside, as for `.agent` files).

    GET /searches          the reports: file, agent, objective, best and start scores
    GET /searches/{id}     one report, each candidate with `diff`: a unified diff of its
                           source against its parent's, computed here

A report's id is the path of its `search.json` in the served folder (`out/search.json`);
a report that cannot be read is listed with its diagnostics, and `GET` answers it 422.
"""

from __future__ import annotations

import difflib
import json
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rolegraph.compiler import codes
from rolegraph.compiler.diagnostics import Diagnostic, diagnostic
from rolegraph.compiler.source import Span

from .inputs import BadRequest

REPORT = "search.json"
MAX_BYTES = 64 * 1024 * 1024  # (a report holds every candidate's source)


@dataclass(frozen=True)
class Loaded:
    """A report as last read: its data with the diffs, or why it cannot be read."""

    stamp: tuple[int, int]
    data: dict[str, Any] | None
    problem: BadRequest | None


class Searches:
    """The search reports under a served folder (or beside a served file), each read
    again when it changes."""

    def __init__(self, target: Path):
        self.folder = target if target.is_dir() else target.parent
        self.deep = target.is_dir()  # beside one file: its folder and those just under it
        self._loaded: dict[Path, Loaded] = {}
        self._lock = threading.Lock()

    def paths(self) -> list[Path]:
        if self.deep:
            found = list(self.folder.rglob(REPORT))
        else:
            found = [*self.folder.glob(REPORT), *self.folder.glob(f"*/{REPORT}")]
        return sorted(p for p in found if p.is_file() and _visible(p, self.folder))

    def ident(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    def path_of(self, ident: str) -> Path | None:
        """The report an id names; None when it names none (or names a path outside
        the folder, or in a hidden folder)."""
        parts = PurePosixPath(ident).parts
        if not parts or parts[-1] != REPORT or any(p in ("..", "") for p in parts):
            return None
        if not self.deep and len(parts) > 2:
            return None
        path = self.folder.joinpath(*parts)
        if not _visible(path, self.folder) or not path.is_file():
            return None
        try:
            path.resolve().relative_to(self.folder.resolve())
        except ValueError:  # (a link out of the folder)
            return None
        return path

    def load(self, path: Path) -> Loaded:
        stat = path.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._loaded.get(path)
            if known is not None and known.stamp == stamp:
                return known
        loaded = Loaded(stamp, *_read(path, self.ident(path)))
        with self._lock:
            self._loaded[path] = loaded
        return loaded

    def summaries(self) -> list[dict[str, Any]]:
        out = []
        for path in self.paths():
            ident = self.ident(path)
            try:
                loaded = self.load(path)
            except OSError:
                continue  # (gone since it was listed)
            out.append(_summary(ident, loaded))
        return out


def _visible(path: Path, top: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(top).parts[:-1])


def _links(ident: str) -> dict[str, str]:
    return {"self": f"/searches/{quote(ident)}", "page": f"/#/search/{quote(ident, safe='')}"}


def _summary(ident: str, loaded: Loaded) -> dict[str, Any]:
    if loaded.data is None:
        problem = loaded.problem
        assert problem is not None
        return {"id": ident, "links": _links(ident), **problem.body()}
    data = loaded.data
    return {
        "id": ident,
        "file": data["file"],
        "agent": data["agent"],
        "objective": data.get("objective"),
        "totals": data["totals"],
        "modified": loaded.stamp[1] / 1e9,
        "links": _links(ident),
    }


# -- reading a report -------------------------------------------------------------------------

_CANDIDATE: dict[str, tuple[type, ...]] = {
    "index": (int,),
    "fingerprint": (str,),
    "score": (int, float, type(None)),
    "cost": (int, float, type(None)),
    "calls": (int,),
    "parent": (str, type(None)),
    "made_by": (str,),
    "source": (str,),
    "on_front": (bool,),
}
_KINDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _bad(ident: str, message: str, span: Span | None = None, label: str = "") -> BadRequest:
    found: Diagnostic = diagnostic(
        codes.BAD_SEARCH_REPORT,
        message,
        file=ident,
        span=span,
        label=label,
        hints=("write it again: rolegraph search FILE ... -o DIR (its runs are cached)",),
    )
    return BadRequest(422, [found], {})


def _read(path: Path, ident: str) -> tuple[dict[str, Any] | None, BadRequest | None]:
    """The report at `path` with each candidate's diff, or the problem that stops it."""
    if path.stat().st_size > MAX_BYTES:
        return None, _bad(ident, f"the report is larger than {MAX_BYTES // 2**20} MiB")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, _bad(ident, f"the report is not UTF-8 text (byte {error.start})")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        if not isinstance(error, json.JSONDecodeError):
            return None, _bad(ident, "the report is nested too deeply to be a search report")
        span = Span(
            line=error.lineno,
            column=error.colno,
            end_line=error.lineno,
            end_column=error.colno + 1,
            start=error.pos,
            end=error.pos + 1,
        )
        bad = _bad(ident, f"the report is not JSON: {error.msg}", span, error.msg.lower())
        bad.sources = {ident: text}
        return None, bad
    wrong = _invalid(data)
    if wrong is not None:
        return None, _bad(ident, wrong)
    return _with_diffs(data), None


def _kind(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def _invalid(data: Any) -> str | None:
    """What makes `data` no search report (None when it is one)."""
    if not isinstance(data, dict):
        return "the report is not a JSON object"
    form = data.get("format")
    if not isinstance(form, str) or not form.startswith("rolegraph.search/"):
        return (
            'the report has no `format` "rolegraph.search/1": `rolegraph search` did not write it'
        )
    if form != "rolegraph.search/1":
        return f"the report's format {form!r} is newer than this server reads (rolegraph.search/1)"
    wanted: tuple[tuple[str, type, str], ...] = (
        ("agent", str, "a string"),
        ("totals", dict, "an object"),
        ("candidates", list, "a list"),
        ("front", list, "a list"),
    )
    for key, kind, said in wanted:
        if not isinstance(data.get(key), kind):
            return f"`{key}` is missing or not {said}"
    if not data["candidates"]:
        return "`candidates` is empty: a search evaluates at least its start"
    for i, candidate in enumerate(data["candidates"]):
        if not isinstance(candidate, dict):
            return f"candidates[{i}] is not an object"
        for key, kinds in _CANDIDATE.items():
            if key not in candidate:
                return f"candidates[{i}] has no `{key}`"
            if not _kind(candidate[key], kinds):
                return f"candidates[{i}].{key} is not {_KINDS.get(kinds[0], 'of its type')}"
    return None


def _with_diffs(data: dict[str, Any]) -> dict[str, Any]:
    """The report, each candidate with `diff` (unified, against its parent's source;
    null for the start, or a parent the report does not hold), `added` and `removed`."""
    sources: dict[str, str] = {}
    for candidate in data["candidates"]:
        sources.setdefault(candidate["fingerprint"], candidate["source"])
    candidates = []
    for candidate in data["candidates"]:
        parent = candidate["parent"]
        before = None if parent is None else sources.get(parent)
        extra: dict[str, Any] = {"diff": None, "added": 0, "removed": 0}
        if before is not None:
            lines = list(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    candidate["source"].splitlines(keepends=True),
                    fromfile=f"parent {parent[:12]}",
                    tofile=f"candidate {candidate['fingerprint'][:12]}",
                )
            )
            extra["diff"] = "".join(x if x.endswith("\n") else x + "\n" for x in lines)
            body = [x for x in lines if not x.startswith(("---", "+++"))]
            extra["added"] = sum(1 for x in body if x.startswith("+"))
            extra["removed"] = sum(1 for x in body if x.startswith("-"))
        extra["parent_index"] = next(
            (c["index"] for c in data["candidates"] if c["fingerprint"] == parent), None
        )
        candidates.append({**candidate, **extra})
    return {**data, "candidates": candidates}


# -- the routes -------------------------------------------------------------------------------


def _searches(request: Request) -> Searches:
    state = request.app.state
    found = getattr(state, "searches", None)
    if found is None:
        found = state.searches = Searches(state.runner.catalog.target)
    return found  # type: ignore[no-any-return]


async def list_searches(request: Request) -> Response:
    return JSONResponse(_searches(request).summaries())


async def get_search(request: Request) -> Response:
    searches = _searches(request)
    ident = request.path_params["id"]
    path = searches.path_of(ident)
    loaded = None
    if path is not None:
        try:
            loaded = searches.load(path)
        except OSError:
            loaded = None
    if loaded is None:
        found = diagnostic(
            codes.UNKNOWN_SEARCH,
            f"no search report `{ident}` under this server's folder",
            file="<request>",
            hints=("GET /searches lists them; `rolegraph search FILE -o DIR` writes one",),
        )
        return JSONResponse(BadRequest(404, [found], {}).body(), status_code=404)
    if loaded.data is None:
        assert loaded.problem is not None
        return JSONResponse(loaded.problem.body(), status_code=loaded.problem.status)
    return JSONResponse({"id": ident, **loaded.data, "links": _links(ident)})


SEARCH_ROUTES = [
    Route("/searches", list_searches, methods=["GET"]),
    Route("/searches/{id:path}", get_search, methods=["GET"]),
]


# -- the OpenAPI schema -----------------------------------------------------------------------

_JSON = "application/json"


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def openapi_schemas() -> dict[str, Any]:
    number = {"type": ["number", "null"]}
    candidate = {
        "type": "object",
        "description": "A candidate, in the order evaluated (the start is index 0)",
        "properties": {
            "index": {"type": "integer"},
            "fingerprint": {"type": "string"},
            "score": number,
            "cost": number,
            "calls": {"type": "integer"},
            "tokens": {"type": "integer"},
            "failures": {"type": "integer"},
            "parent": {"type": ["string", "null"], "description": "The parent's fingerprint"},
            "parent_index": {"type": ["integer", "null"]},
            "made_by": {"type": "string", "description": "The edit (JSON), or `the start`"},
            "source": {"type": "string"},
            "on_front": {"type": "boolean"},
            "diff": {
                "type": ["string", "null"],
                "description": "A unified diff of its source against its parent's",
            },
            "added": {"type": "integer"},
            "removed": {"type": "integer"},
        },
        "required": [*_CANDIDATE, "diff"],
    }
    summary = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "file": {"type": ["string", "null"]},
            "agent": {"type": "string"},
            "objective": {"type": ["object", "null"]},
            "totals": {"type": "object"},
            "modified": {"type": "number"},
            "diagnostics": {"type": "array", "items": {"$ref": "#/components/schemas/Diagnostic"}},
            "links": {"type": "object"},
        },
        "required": ["id", "links"],
    }
    search = {
        "type": "object",
        "description": "A search report (docs/search.md), with each candidate's diff",
        "properties": {
            "id": {"type": "string"},
            "format": {"type": "string"},
            "file": {"type": ["string", "null"]},
            "agent": {"type": "string"},
            "objective": {"type": ["object", "null"]},
            "candidates": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/SearchCandidate"},
            },
            "front": {"type": "array", "items": {"type": "string"}},
            "totals": {"type": "object"},
            "links": {"type": "object"},
        },
        "required": ["id", "agent", "candidates", "front", "totals"],
    }
    return {"SearchCandidate": candidate, "SearchSummary": summary, "Search": search}


def openapi_paths() -> dict[str, Any]:
    return {
        "/searches": {
            "get": {
                "operationId": "list_searches",
                "summary": "The search reports (`rolegraph search -o DIR`) under the folder",
                "responses": {
                    "200": {
                        "description": "The reports",
                        "content": {
                            _JSON: {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/SearchSummary"},
                                }
                            }
                        },
                    }
                },
            }
        },
        "/searches/{id}": {
            "get": {
                "operationId": "get_search",
                "summary": "A search report, each candidate with its diff from its parent",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": "The path of its search.json in the folder "
                        "(a `/` in it may be sent as %2F)",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Search"}}},
                    },
                    "404": _problem("No such report"),
                    "422": _problem("The report cannot be read"),
                },
            }
        },
    }

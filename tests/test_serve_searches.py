"""A search's report (`rolegraph search -o DIR` writes DIR/search.json) and how
`rolegraph serve` shows it: `GET /searches`, `GET /searches/{id}` with each candidate's
diff from its parent. The report comes from a real small search on the mock; the diffs
are checked by applying them (a patcher written here), and each candidate's `made_by`
edit, replayed on its parent, must make it."""

from __future__ import annotations

import asyncio
import json
import re
import shutil

import pytest
from starlette.testclient import TestClient

import rolegraph
from rolegraph.compiler.edits.editor import edit_from_data
from rolegraph.search import SearchStore, report, write_report
from rolegraph.search.tests_kept import replayed
from rolegraph.serve.app import create_app
from rolegraph.serve.runner import RunOptions

from .searching import SELF_REFINE, run_search
from .test_search import search

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def patch(source: str, diff: str) -> str:
    """`source` with a unified diff applied, every context and removed line checked."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    at = 0
    for line in diff.splitlines(keepends=True):
        if line.startswith(("---", "+++")):
            continue
        hunk = HUNK.match(line)
        if hunk:
            start, count = int(hunk[1]), int(hunk[2] if hunk[2] is not None else 1)
            begin = start - 1 if count else start
            out += lines[at:begin]
            at = begin
        elif line.startswith(" "):
            assert lines[at] == line[1:], (lines[at], line)
            out.append(lines[at])
            at += 1
        elif line.startswith("-"):
            assert lines[at] == line[1:], (lines[at], line)
            at += 1
        else:
            assert line.startswith("+"), line
            out.append(line[1:])
    return "".join(out + lines[at:])


def test_the_patcher_is_an_oracle():
    import difflib

    before, after = "a\nb\nc\nd\n", "a\nB\nc\nd\ne\n"
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True)))
    assert patch(before, diff) == after
    with pytest.raises(AssertionError):
        patch("a\nX\nc\nd\n", diff)


# -- the report -------------------------------------------------------------------------------


def test_the_report_holds_every_candidate_of_the_search_result(tmp_path):
    result = search(SearchStore(), 7)
    path = write_report(result, tmp_path / "out", file=SELF_REFINE)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(report(result, SELF_REFINE)))  # round-trips
    assert data["file"] == str(SELF_REFINE) and data["agent"] == "SelfRefine"
    assert data["objective"] is None  # (not given)
    front = {s.evaluation.fingerprint for s in result.front}
    assert len(data["candidates"]) == len(result.evaluated) == 7
    for i, (row, scored) in enumerate(zip(data["candidates"], result.evaluated, strict=True)):
        e = scored.evaluation
        assert row["index"] == i
        assert (row["fingerprint"], row["score"], row["cost"], row["calls"]) == (
            e.fingerprint,
            e.score,
            e.cost,
            e.calls,
        )
        assert row["parent"] == scored.parent and row["made_by"] == scored.made_by
        assert row["source"] == scored.source and row["on_front"] == (e.fingerprint in front)
        assert rolegraph.fingerprint(rolegraph.parse(row["source"])) == e.fingerprint
    assert data["front"] == [s.evaluation.fingerprint for s in result.front]
    totals = data["totals"]
    assert totals["candidates"] == 7 and totals["calls"] == result.calls
    assert totals["best"] == result.best.evaluation.fingerprint


def test_a_score_that_is_no_number_is_written_as_null(tmp_path):
    import dataclasses

    result = search(SearchStore(), 3)
    second = result.evaluated[1]
    broken = dataclasses.replace(
        second, evaluation=dataclasses.replace(second.evaluation, score=float("nan"))
    )
    result = dataclasses.replace(
        result, evaluated=(result.evaluated[0], broken, *result.evaluated[2:])
    )
    data = json.loads(write_report(result, tmp_path).read_text())  # (strict JSON: no NaN)
    assert data["candidates"][1]["score"] is None
    assert data["candidates"][1]["cost"] == second.evaluation.cost


def test_the_search_command_writes_the_report_beside_the_front(tmp_path):
    path, output = run_search(tmp_path, tmp_path / "out")
    assert f"wrote {path}" in output
    data = json.loads(path.read_text())
    assert data["objective"]["score"] == "contains" and data["objective"]["examples"] == 3
    assert len(data["candidates"]) == data["totals"]["candidates"] == 8
    written = sorted((tmp_path / "out").glob("self_refine_*.agent"))
    assert len(written) == len(data["front"])
    for fingerprint, agent in zip(data["front"], written, strict=True):
        assert rolegraph.fingerprint(rolegraph.parse(agent.read_text())) == fingerprint


# -- served -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    work = tmp_path_factory.mktemp("search")
    folder = tmp_path_factory.mktemp("served")
    shutil.copy(SELF_REFINE, folder)
    path, _ = run_search(work, folder / "runs" / "refine")
    app = create_app(folder, work / "serve.sqlite", RunOptions(model="mock"))
    with TestClient(app) as client:
        yield client, folder, json.loads(path.read_text())


def test_the_searches_are_listed(served):
    client, _folder, data = served
    listed = client.get("/searches").json()
    assert [s["id"] for s in listed] == ["runs/refine/search.json"]
    (summary,) = listed
    assert summary["agent"] == "SelfRefine" and summary["totals"] == data["totals"]
    assert summary["links"]["self"] == "/searches/runs/refine/search.json"


@pytest.mark.parametrize("ident", ["runs/refine/search.json", "runs%2Frefine%2Fsearch.json"])
def test_a_search_is_served_with_each_candidates_diff_from_its_parent(served, ident):
    client, _folder, data = served
    answer = client.get(f"/searches/{ident}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "runs/refine/search.json"
    assert body["front"] == data["front"]
    by_print = {c["fingerprint"]: c for c in body["candidates"]}
    assert [c["fingerprint"] for c in body["candidates"]] == [
        c["fingerprint"] for c in data["candidates"]
    ]
    start, *rest = body["candidates"]
    assert start["diff"] is None and start["parent"] is None and start["made_by"] == "the start"
    assert rest, "the search made no candidate"
    for candidate in rest:
        parent = by_print[candidate["parent"]]
        assert candidate["parent_index"] == parent["index"] < candidate["index"]
        assert candidate["diff"], candidate["made_by"]  # (every candidate is a new program)
        assert patch(parent["source"], candidate["diff"]) == candidate["source"]
        body_lines = candidate["diff"].splitlines()[2:]
        assert candidate["added"] == sum(1 for x in body_lines if x.startswith("+"))
        assert candidate["removed"] == sum(1 for x in body_lines if x.startswith("-"))
        # the edit it names, replayed on its parent (then its tests kept valid), makes it
        edits = json.loads(candidate["made_by"])
        script = [edit_from_data(e) for e in (edits if isinstance(edits, list) else [edits])]
        program = asyncio.run(replayed(rolegraph.parse(parent["source"]), script, data["file"]))
        assert rolegraph.fingerprint(program) == candidate["fingerprint"]


@pytest.mark.parametrize(
    "ident",
    [
        "nothing/search.json",
        "runs/refine",
        "..%2Fsearch.json",
        "runs%2F..%2F..%2Fsearch.json",
        "..%2Fsearch.json",
    ],
)
def test_an_unknown_search_is_a_404_with_a_diagnostic(served, ident):
    client, folder, _data = served
    hidden = folder / ".x"
    hidden.mkdir(exist_ok=True)
    (hidden / "search.json").write_text("{}")
    answer = client.get(f"/searches/{ident}")
    assert answer.status_code == 404
    (found,) = answer.json()["diagnostics"]
    assert found["code"] == "E0920" and "GET /searches" in found["rendered"]
    assert ".x/search.json" not in [s["id"] for s in client.get("/searches").json()]


def test_a_broken_report_is_listed_with_its_diagnostic_and_answered_422(served):
    client, folder, data = served
    bad = folder / "broken"
    bad.mkdir(exist_ok=True)
    (bad / "search.json").write_text('{"format": "rolegraph.search/1",\n "agent": oops}\n')
    answer = client.get("/searches/broken/search.json")
    assert answer.status_code == 422
    (found,) = answer.json()["diagnostics"]
    assert found["code"] == "E0921" and (found["line"], found["column"]) == (2, 11)
    assert '"agent": oops' in found["rendered"] and "^" in found["rendered"]
    listed = {s["id"]: s for s in client.get("/searches").json()}
    assert listed["broken/search.json"]["diagnostics"][0]["code"] == "E0921"
    # a report cut short of a member
    cut = {
        **data,
        "candidates": [{k: v for k, v in data["candidates"][0].items() if k != "source"}],
    }
    (bad / "search.json").write_text(json.dumps(cut))
    (found,) = client.get("/searches/broken/search.json").json()["diagnostics"]
    assert found["code"] == "E0921" and "candidates[0] has no `source`" in found["message"]
    # mended, it is served (the report is read again when it changes)
    (bad / "search.json").write_text(json.dumps(data))
    assert client.get("/searches/broken/search.json").status_code == 200
    shutil.rmtree(bad)
    assert "broken/search.json" not in [s["id"] for s in client.get("/searches").json()]


def test_the_searches_are_in_the_openapi_schema(served):
    validate = pytest.importorskip("openapi_spec_validator").validate
    client, _folder, _data = served
    schema = client.get("/openapi.json").json()
    validate(schema)
    assert schema["paths"]["/searches/{id}"]["get"]["responses"]["404"]
    required = schema["components"]["schemas"]["SearchCandidate"]["required"]
    body = client.get("/searches/runs/refine/search.json").json()
    for candidate in body["candidates"]:
        assert set(required) <= set(candidate)

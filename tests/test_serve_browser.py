"""The web app of `rolegraph serve` in a real browser: headless Chromium (Debian's
`chromium`, driven by Playwright; no browser is downloaded) against a real server
process on the mock model. Open an agent's graph, start a run from the form and watch
it live until it returns, see a bad input's diagnostics, open a past run's trace.

Screenshots go to the test's temporary folder; with ROLEGRAPH_SCREENSHOTS=DIR they are
also written to DIR (docs/serve/ holds the ones the docs show). Without Chromium or
Playwright the tests are skipped, saying which is missing; under CI=true they fail.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import test_failure_rule as failure_rule
from .conftest import ROOT
from .serving import ROLEGRAPH, server

pytestmark = pytest.mark.slow  # a real browser and server processes

EXAMPLES = ROOT / "examples"
CHROMIUM = os.environ.get("ROLEGRAPH_CHROMIUM", "/usr/bin/chromium")

TYPED = """\
enum Tone { plain, formal }
type Point { x: int, y: float }
type Out { text: str }

model m = "mock"

role Echo(note: str) -> Out {
  model m
  prompt "{{ note }}"
}

agent Typed(count: int, ratio: float, flag: bool, tone: Tone, tags: list[str],
            at: Point, label: str = "none") -> Out {
  echo = Echo(label)
  return echo
}
"""

#: a human step whose answer has an int: a number input the page can fill with 2.5
GRADING = """\
type Grade { points: int, comment: str }
type Out { text: str }

model m = "mock"

human Score(essay: str) -> Grade {
  prompt "Grade this essay out of 10: {{ essay }}"
}

role Thank(grade: Grade) -> Out {
  model m
  prompt "Thank the author; the grade is {{ grade.points }}: {{ grade.comment }}"
}

agent Grading(essay: str) -> Out {
  score = Score(essay)
  thank = Thank()
  score -> thank(grade: score)
  return thank
}
"""

#: a failure discarded while the run waits: `d` fails at logical time 3 before `a` (slow)
#: ends, whose return at time 2 wins; the run then waits for `h`, asked at time 1
DISCARDED = """\
type Grade { points: int, comment: str }
tool pause(ms: int) -> int = "slowtools:pause"
tool fail_after(ms: int) -> int = "slowtools:fail_after"
tool inc(value: int) -> int = "slowtools:inc"

human Ask(n: int) -> Grade {
  prompt "Grade {{ n }}"
}

agent Discarded(x: int, y: int) -> int {
  h = Ask(x)
  a = pause(x)
  b = pause(y)
  c = inc(b)
  d = fail_after(c)
  return a
}
"""

#: the tools of test_failure_rule, as a module beside the agent (the server imports it)
SLOWTOOLS = "import asyncio\n\n\n" + "\n\n".join(
    inspect.getsource(tool)
    for tool in (failure_rule.pause, failure_rule.fail_after, failure_rule.inc)
)

#: a ticket the mock model classifies as a refund
REFUND_TICKET = "I was charged twice; please refund 40 EUR."


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[serve,browser]')"
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        return "the `serve` extra is not installed"
    if not ROLEGRAPH.exists():
        return "the console script is not installed"
    return None


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run: {missing}", pytrace=False)
        pytest.skip(f"browser tests skipped: {missing}")
    folder = tmp_path_factory.mktemp("agents")
    for name in ("self_refine.agent", "plan_execute.agent", "refund_approval.agent"):
        shutil.copy(EXAMPLES / name, folder)
    (folder / "typed.agent").write_text(TYPED)
    (folder / "grading.agent").write_text(GRADING)
    (folder / "discarded.agent").write_text(DISCARDED)
    (folder / "slowtools.py").write_text(SLOWTOOLS)
    store = tmp_path_factory.mktemp("store") / "store.sqlite"
    with server(folder, store, "mock:latency=0.25") as (_process, url):
        yield url


@pytest.fixture(scope="module")
def browser(app_url) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, tmp_path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    # (a 4xx the page asked for and shows is an answer, not an error)
    opened.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "responded with a status of 4" not in message.text
            else None
        ),
    )
    yield opened
    context.close()
    assert errors == [], errors  # no script error, no failed request, on any page


def shoot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    wanted = os.environ.get("ROLEGRAPH_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", Path(wanted) / f"{name}.png")


def api(page: Any, url: str) -> Any:
    return json.loads(page.request.get(url).text())


def test_the_graph_of_an_agent_is_drawn_with_its_edges_bounds_and_verdicts(page, app_url, tmp_path):
    page.goto(f"{app_url}/")
    page.click("text=SelfRefine")
    page.wait_for_selector("svg.graph")
    assert page.url.endswith("#/agent/SelfRefine")
    names = page.eval_on_selector_all("svg.graph g.node", "gs => gs.map(g => g.dataset.node)")
    assert sorted(names) == ["critic", "return", "writer"]
    tops = {
        name: page.eval_on_selector(f'svg.graph g.node[data-node="{name}"]', "g => g.getBBox().y")
        for name in names
    }
    assert tops["writer"] < tops["critic"] < tops["return"]  # layered by data flow
    loop = page.locator('svg.graph g.edge.loop[data-source="critic"][data-target="writer"]')
    assert loop.count() == 1
    labels = page.eval_on_selector_all(
        "svg.graph text.edge-label", "ts => ts.map(t => t.textContent)"
    )
    assert "when not critic.ok max 3 (feedback)" in labels and "else" in labels
    bounds = page.locator('svg.graph g.node[data-node="writer"] text.bound').text_content()
    assert bounds == "≤ 4 firings · ≤ 4 calls"
    verdict = page.locator("#constraints .constraint").first
    assert "ensure always(return -> once critic)" in verdict.text_content()
    assert verdict.locator(".badge").text_content() == "proven"
    shoot(page, tmp_path, "graph")


def test_a_run_started_from_the_form_is_shown_live_until_it_returns(page, app_url, tmp_path):
    page.goto(f"{app_url}/#/agent/PlanAndExecute")
    page.fill("#input-task", "Plan a picnic.")
    page.click("#start")
    page.wait_for_url("**/#/run/*")
    run = page.url.rsplit("/", 1)[1]
    # live: a firing is shown running (its model writing) before the run ends
    page.wait_for_selector("#firings tr.firing.status-running", timeout=20_000)
    assert page.locator("#result").count() == 0
    shoot(page, tmp_path, "run-live")
    page.wait_for_selector("#result", timeout=30_000)
    data = api(page, f"{app_url}/runs/{run}")
    assert data["state"] == "returned"
    assert json.loads(page.locator("#result").text_content()) == data["result"]
    assert page.locator("#run-state .badge").text_content() == "returned"
    # the firings as the trace has them, grouped by logical time in order
    trace = api(page, f"{app_url}/runs/{run}/trace")
    rows = page.eval_on_selector_all(
        "#firings tr.firing", "rs => rs.map(r => [r.dataset.node, r.dataset.key])"
    )
    top = [t for t in trace if "event" not in t and t["depth"] == 0]
    assert sorted(rows) == sorted([t["node"], t["key"]] for t in top)
    steps = page.eval_on_selector_all("#firings tr.step", "rs => rs.map(r => r.textContent)")
    assert steps == [f"logical time {t}" for t in sorted({t["time"] for t in top})]
    assert page.locator("#totals").text_content().count("calls") == 2
    shoot(page, tmp_path, "run")


def test_the_form_follows_the_parameter_types_and_shows_diagnostics(page, app_url, tmp_path):
    page.goto(f"{app_url}/#/agent/Typed")
    page.wait_for_selector("#run-form")
    assert page.get_attribute("#input-count", "type") == "number"
    assert page.get_attribute("#input-flag", "type") == "checkbox"
    options = page.eval_on_selector_all("#input-tone option", "os => os.map(o => o.value)")
    assert options == ["plain", "formal"]
    assert json.loads(page.input_value("#input-at")) == {"x": 0, "y": 0}
    assert page.input_value("#input-label") == "none"
    page.fill("#input-count", "2.5")  # not an int: the server says so, at the parameter
    page.click("#start")
    diagnostic = page.wait_for_selector("#problems pre.diagnostic")
    text = diagnostic.text_content()
    assert "error[E0905]: input `count` does not fit `int`" in text
    assert "typed.agent:12:20" in text
    shoot(page, tmp_path, "diagnostics")
    page.fill("#input-count", "3")
    page.fill("#input-ratio", "0.5")
    page.fill("#input-tags", '["a", "b"]')
    page.select_option("#input-tone", "formal")
    page.check("#input-flag")
    page.click("#start")
    page.wait_for_url("**/#/run/*")
    page.wait_for_selector("#result", timeout=30_000)
    run = api(page, f"{app_url}/runs/{page.url.rsplit('/', 1)[1]}")
    assert run["inputs"] == {
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "tone": "formal",
        "tags": ["a", "b"],
        "at": {"x": 0, "y": 0.0},
        "label": "none",
    }


def test_a_waiting_run_is_answered_in_the_page_and_followed_to_its_result(page, app_url, tmp_path):
    page.goto(f"{app_url}/#/agent/SupportDesk")
    page.fill("#input-ticket", REFUND_TICKET)
    page.click("#start")
    page.wait_for_url("**/#/run/*")
    run = page.url.rsplit("/", 1)[1]
    form = page.wait_for_selector("#questions form.question", timeout=30_000)
    assert page.locator("#run-state .badge").text_content() == "waiting"
    (question,) = api(page, f"{app_url}/runs/{run}/questions")
    assert form.get_attribute("data-question") == question["id"]
    assert question["text"] in form.text_content()
    # the form from the answer's schema: a checkbox for the bool, a text for the str
    prefix = f"#answer-{question['id']}"
    assert page.get_attribute(f"{prefix}-approved", "type") == "checkbox"
    assert page.locator(f"{prefix}-note").evaluate("e => e.tagName") == "TEXTAREA"
    # the graph shows the approval paused, the router done
    rows = page.eval_on_selector_all(
        "#firings tr.firing", "rs => rs.map(r => [r.dataset.node, r.className])"
    )
    assert ["approval", "firing status-paused"] in rows
    shoot(page, tmp_path, "question")
    # a page opened on the waiting run (reloaded) asks the same question
    page.reload()
    page.wait_for_selector(f'#questions form.question[data-question="{question["id"]}"]')
    assert page.locator("#run-state .badge").text_content() == "waiting"
    page.check(f"{prefix}-approved")
    page.fill(f"{prefix}-note", "a double charge")
    page.click("#questions button.answer")
    # the same page follows the resumed run to its result (the event stream goes on)
    page.wait_for_selector("#result", timeout=30_000)
    data = api(page, f"{app_url}/runs/{run}")
    assert data["state"] == "returned" and data["attempts"] == 2
    assert json.loads(page.locator("#result").text_content()) == data["result"]
    assert page.locator("#run-state .badge").text_content() == "returned"
    nodes = page.eval_on_selector_all("#firings tr.firing", "rs => rs.map(r => r.dataset.node)")
    assert sorted(nodes) == ["approval", "refund", "router"]
    answered = [q for q in api(page, f"{app_url}/runs/{run}/trace") if q.get("node") == "approval"]
    assert answered[0]["output"] == {"approved": True, "note": "a double charge"}
    shoot(page, tmp_path, "answered")


def test_a_refused_answer_shows_its_diagnostic_and_the_run_keeps_waiting(page, app_url, tmp_path):
    page.goto(f"{app_url}/#/agent/Grading")
    page.fill("#input-essay", "An essay.")
    page.click("#start")
    page.wait_for_url("**/#/run/*")
    run = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#questions form.question", timeout=30_000)
    (question,) = api(page, f"{app_url}/runs/{run}/questions")
    prefix = f"#answer-{question['id']}"
    assert page.get_attribute(f"{prefix}-points", "type") == "number"
    page.fill(f"{prefix}-points", "2.5")  # not an int
    page.fill(f"{prefix}-comment", "clear")
    page.click("#questions button.answer")
    diagnostic = page.wait_for_selector("#questions pre.diagnostic").text_content()
    assert "error[E0421]" in diagnostic and "does not fit `Grade`" in diagnostic
    assert "points: Input should be a valid integer" in diagnostic
    assert api(page, f"{app_url}/runs/{run}")["state"] == "waiting"
    shoot(page, tmp_path, "refused-answer")
    page.fill(f"{prefix}-points", "8")
    page.click("#questions button.answer")
    page.wait_for_selector("#result", timeout=30_000)
    assert api(page, f"{app_url}/runs/{run}")["state"] == "returned"


def colours(page: Any) -> dict[str, list[str]]:
    """The graph's nodes by colour, as the page draws them."""
    return {
        colour: sorted(page.eval_on_selector_all(
            f"svg.graph g.node.{colour}", "gs => gs.map(g => g.dataset.node)"
        ))
        for colour in ("running", "done", "failed")
    }  # fmt: skip


def trace_colours(trace: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The same read off the run's trace: a node takes its latest firing's colour."""
    of = {"running": "running", "paused": "running", "ok": "done", "failed": "failed"}
    latest: dict[str, str] = {}
    for line in sorted(
        (t for t in trace if "event" not in t and not t["depth"]), key=lambda t: t["time"]
    ):
        if line["status"] in of:
            latest[line["node"]] = of[line["status"]]
    return {
        c: sorted(n for n, colour in latest.items() if colour == c)
        for c in ("running", "done", "failed")
    }


def test_the_graph_colours_nodes_as_the_trace_has_them_while_waiting_and_at_the_end(
    page, app_url, tmp_path
):
    page.goto(f"{app_url}/#/agent/Discarded")
    page.fill("#input-x", "600")  # `a`: slower than `d`'s failure
    page.fill("#input-y", "0")
    page.click("#start")
    page.wait_for_url("**/#/run/*")
    run = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#questions form.question", timeout=30_000)
    page.wait_for_selector('#firings tr.firing[data-node="a"].status-ok', timeout=30_000)
    # waiting for `h`: `d`'s failure is not decided yet (the run's end is, once `h` is
    # answered: a's return at time 2, unless `h` leads to an earlier end), and the paused
    # trace says so; the page draws what the trace has
    paused = api(page, f"{app_url}/runs/{run}/trace")
    assert colours(page) == trace_colours(paused) == {
        "running": ["h"], "done": ["a", "b", "c"], "failed": ["d"]
    }  # fmt: skip
    (question,) = api(page, f"{app_url}/runs/{run}/questions")
    prefix = f"#answer-{question['id']}"
    page.fill(f"{prefix}-points", "8")
    page.fill(f"{prefix}-comment", "fine")
    page.click("#questions button.answer")
    page.wait_for_selector("#result", timeout=30_000)
    assert api(page, f"{app_url}/runs/{run}")["result"] == 600
    ended = api(page, f"{app_url}/runs/{run}/trace")
    # (the resumed run replays what was checkpointed: `a`'s return is offered at once,
    # and `d`, after it, does not fire again)
    assert [t["status"] for t in ended if t.get("node") == "d"] in ([], ["discarded"])
    drawn = colours(page)
    assert drawn == trace_colours(ended)
    assert drawn["failed"] == drawn["running"] == [] and {"a", "h"} <= set(drawn["done"])
    shoot(page, tmp_path, "discarded")


def test_a_past_run_opens_with_its_trace(page, app_url, tmp_path):
    started = page.request.post(
        f"{app_url}/agents/SelfRefine/runs",
        data=json.dumps({"task": "Explain recursion."}),
        headers={"content-type": "application/json"},
    )
    assert started.status == 202
    run = json.loads(started.text())["id"]
    page.goto(f"{app_url}/#/runs")
    link = page.locator(f'#runs tr.run[data-run="{run}"] a[href="#/run/{run}"]')
    link.wait_for()
    # wait for it to end, then open it as a past run (its trace, not its events)
    for _ in range(300):
        if api(page, f"{app_url}/runs/{run}")["state"] == "returned":
            break
        page.wait_for_timeout(50)
    page.reload()
    page.locator(f'a[href="#/run/{run}"]').click()
    page.wait_for_selector("#result")
    trace = api(page, f"{app_url}/runs/{run}/trace")
    shown = page.eval_on_selector_all(
        "#firings tr.firing", "rs => rs.map(r => r.querySelector('td').textContent)"
    )
    assert shown == [t["node"] for t in sorted(
        (t for t in trace if "event" not in t and t["depth"] == 0), key=lambda t: t["time"]
    )]  # fmt: skip
    states = page.eval_on_selector_all("svg.graph g.node.done", "gs => gs.map(g => g.dataset.node)")
    assert sorted(states) == ["critic", "writer"]
    shoot(page, tmp_path, "past-run")
    page.goto(f"{app_url}/")
    page.wait_for_selector("#runs")
    shoot(page, tmp_path, "home")


@pytest.fixture(scope="module")
def examples_url(app_url, tmp_path_factory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("examples-store") / "store.sqlite"
    with server(EXAMPLES, store, "mock") as (_process, url):
        yield url


def test_every_example_agent_is_drawn_whole_without_overlaps(page, examples_url):
    """Each IR node and edge of every example has its shape, and no two nodes overlap."""
    app_url = examples_url
    agents = api(page, f"{app_url}/agents")
    assert len(agents) == len(list(EXAMPLES.rglob("*.agent")))  # examples/mcp/ too
    for agent in agents:
        graph = api(page, f"{app_url}/agents/{agent['name']}")["graph"]
        page.goto(f"{app_url}/#/agent/{agent['name']}")
        page.wait_for_selector(f'svg.graph[aria-label="graph of {graph["name"]}"]')
        drawn = set(
            page.eval_on_selector_all("svg.graph g.node", "gs => gs.map(g => g.dataset.node)")
        )
        assert drawn == {n["name"] for n in graph["nodes"]} | {"return"}, agent["name"]
        edges = page.eval_on_selector_all(
            "svg.graph g.edge[data-source]",
            "gs => gs.map(g => [g.dataset.source, g.dataset.target])",
        )
        wanted = [[d, n["name"]] for n in graph["nodes"] for d in n["deps"]]
        wanted += [[e["source"], e["target"]] for e in graph["edges"] if e["kind"] != "data"]
        assert sorted(edges) == sorted(wanted), agent["name"]
        boxes = page.eval_on_selector_all(
            "svg.graph g.node",
            "gs => gs.map(g => { const b = g.getBBox(); return [b.x, b.y, b.width, b.height]; })",
        )
        for i, (x1, y1, w1, h1) in enumerate(boxes):
            for x2, y2, w2, h2 in boxes[i + 1 :]:
                apart = x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
                assert apart, (agent["name"], boxes)


@pytest.fixture(scope="module")
def search_url(app_url, tmp_path_factory) -> Iterator[str]:
    """A server over a folder holding a search's report (`rolegraph search -o DIR`, a
    real small search on the mock)."""
    from .searching import run_search

    work = tmp_path_factory.mktemp("search-work")
    folder = tmp_path_factory.mktemp("search-served")
    shutil.copy(EXAMPLES / "self_refine.agent", folder)
    report, _ = run_search(work, work / "out", evaluations=10)
    (folder / "refine").mkdir()
    shutil.copy(report, folder / "refine" / "search.json")
    store = tmp_path_factory.mktemp("search-store") / "store.sqlite"
    with server(folder, store, "mock") as (_process, url):
        yield url


def test_a_search_shows_its_plots_its_front_and_a_candidates_diff(page, search_url, tmp_path):
    page.goto(f"{search_url}/")
    page.click("header nav >> text=searches")
    page.click('#searches a[href="#/search/refine%2Fsearch.json"]')
    page.wait_for_selector("svg#progress-plot")
    search = api(page, f"{search_url}/searches/refine/search.json")
    candidates, front = search["candidates"], search["front"]
    # score against evaluations: a point per evaluation, the best so far as a step line
    points = page.eval_on_selector_all(
        "svg#progress-plot circle.point", "cs => cs.map(c => +c.dataset.index)"
    )
    assert points == [c["index"] for c in candidates]
    assert page.locator("svg#progress-plot path.best-line").get_attribute("d").count("H") == (
        len(candidates) - 1
    )
    # the front: its points highlighted, its table cheapest first
    highlighted = page.eval_on_selector_all(
        "svg#front-plot circle.point.front", "cs => cs.map(c => +c.dataset.index)"
    )
    by_print = {c["fingerprint"]: c for c in candidates}
    assert sorted(highlighted) == sorted(by_print[f]["index"] for f in front)
    rows = page.eval_on_selector_all("#front tr.pick", "rs => rs.map(r => +r.dataset.index)")
    assert rows == [by_print[f]["index"] for f in front]
    costs = [by_print[f]["cost"] for f in front]
    assert costs == sorted(costs)
    # a candidate made by an edit: its diff from its parent, coloured, and its edit
    chosen = next(c for c in candidates if c["parent"] is not None and c["removed"])
    page.locator("#all-candidates summary").click()
    page.click(f'#candidates tr.pick[data-index="{chosen["index"]}"]')
    page.wait_for_selector(f"#candidate >> text=Candidate #{chosen['index']}")
    assert page.locator("#diff").text_content() == chosen["diff"]
    added = page.eval_on_selector_all("#diff .add", "ls => ls.map(l => l.textContent)")
    removed = page.eval_on_selector_all("#diff .del", "ls => ls.map(l => l.textContent)")
    assert len(added) == chosen["added"] and len(removed) == chosen["removed"]
    assert page.locator("#diff .add").first.evaluate(
        "l => getComputedStyle(l).backgroundColor"
    ) != (page.locator("#diff .del").first.evaluate("l => getComputedStyle(l).backgroundColor"))
    op = json.loads(chosen["made_by"])
    assert f'"op": "{op["op"]}"' in page.locator("#candidate pre.made-by").text_content()
    assert page.url.endswith(f"#/search/refine%2Fsearch.json/{chosen['index']}")
    selected = page.eval_on_selector_all(
        "svg circle.selected", "cs => cs.map(c => +c.dataset.index)"
    )
    assert set(selected) == {chosen["index"]}
    # its parent is one click away; the link reloads on the candidate
    page.click("#candidate >> text=parent #")
    parent = by_print[chosen["parent"]]
    page.wait_for_selector(f"#candidate >> text=Candidate #{parent['index']}")
    page.reload()
    page.wait_for_selector(f"#candidate >> text=Candidate #{parent['index']}")
    page.click(f'svg#progress-plot circle[data-index="{chosen["index"]}"]')
    page.wait_for_selector(f"#candidate >> text=Candidate #{chosen['index']}")
    # every candidate can be picked on the front's plot too (equal points drawn apart)
    for candidate in candidates:
        page.click(f'svg#front-plot circle[data-index="{candidate["index"]}"]')
        page.wait_for_selector(f"#candidate >> text=Candidate #{candidate['index']}")
    page.click(f'svg#front-plot circle[data-index="{chosen["index"]}"]')
    page.wait_for_selector(f"#candidate >> text=Candidate #{chosen['index']}")
    shoot(page, tmp_path, "search")

"""Human steps (docs/human.md): a run pauses durably for a person's answer and goes on
from another process; answers are validated; parallel questions are answered apart;
a deadline is routed by `on error`; nothing is paid for twice.

The oracle for a paused-and-resumed run is the same run made in one go with the same
answers scripted (`answers=`): the same result, and every model call made once."""

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import rolegraph
from rolegraph import format_source, parse
from rolegraph.compiler import ast, codes
from rolegraph.compiler.printer import to_source
from rolegraph.runtime import (
    AnswerError,
    Paused,
    Store,
    StoreDesk,
    TerminalDesk,
    answer_question,
    pending_questions,
    run_agent,
)
from rolegraph.runtime.events import QuestionAsked, RunPaused

from .test_check_property import well_typed_agents

ROLEGRAPH = Path(sys.executable).parent / "rolegraph"

PRELUDE = """model m = "mock"
type Approval { approved: bool, note: str }
type Draft { text: str }
role Writer(task: str) -> Draft {
  model m
  prompt "Write about {{ task }}"
}
"""

PARALLEL = (
    PRELUDE
    + """
role Summarize(task: str, draft: Draft, legal: Approval, finance: Approval, memo: Draft) -> Draft {
  model m
  prompt "{{ task }} {{ draft.text }} {{ legal.note }} {{ finance.note }} {{ memo.text }}"
}
human Legal(task: str) -> Approval {
  prompt "May we launch {{ task }}? (legal)"
}
human Finance(task: str) -> Approval {
  prompt "Is there budget for {{ task }}?"
}
agent Launch(task: str) -> Draft {
  draft = Writer(task)
  legal = Legal(task)
  finance = Finance(task)
  memo = Writer(legal.note)
  done = Summarize(task, draft: draft, legal: legal, finance: finance, memo: memo)
  return done
}
"""
)

# three slow calls in a chain beside a question asked at start
CHAIN = (
    PRELUDE
    + """
human Approve(task: str) -> Approval {
  prompt "Approve {{ task }}?"
}
role Final(draft: Draft, approval: Approval) -> Draft {
  model m
  prompt "{{ draft.text }} {{ approval.note }}"
}
agent Chain(task: str) -> Draft {
  ok = Approve(task)
  a = Writer(task)
  b = Writer(a.text)
  c = Writer(b.text)
  done = Final(draft: c, approval: ok)
  return done
}
"""
)

TIMED = (
    PRELUDE
    + """
human Quick(task: str) -> Approval {
  prompt "Quick: {{ task }}?"
  deadline "%s"
}
agent Timed(task: str) -> Draft {
  ok = Quick(task)
  yes = Writer("approved")
  no = Writer("declined")
  late = Writer("nobody answered: " + ok.error)
  slow = Writer(task)
  ok -> yes when ok.approved
  ok -> no else
  ok -> late on error
  return yes
  return no
  return late
}
"""
)

YES = {"approved": True, "note": "fine by us"}


def write(tmp_path: Path, text: str, name: str = "a.agent") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def cli(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROLEGRAPH), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def calls(store: Path, run: str) -> int:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT COUNT(*) FROM calls WHERE run = ?", (run,)).fetchone()[0]


def status(store: Path, run: str) -> str:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT status FROM runs WHERE id = ?", (run,)).fetchone()[0]


def paused_run(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # no result: the run waits
    line = next(ln for ln in result.stderr.splitlines() if " paused: " in ln)
    return line.split()[1]


def in_one_go(path: Path, inputs: dict, answers: dict) -> tuple[object, int]:
    """The oracle: the same run, answers scripted, no pause: its result and calls."""
    ir = rolegraph.load_agent(path)
    store = Store(path.parent / "oracle.sqlite")
    outcome = asyncio.run(run_agent(ir, inputs, model="mock", store=store, answers=answers))
    made = store.calls(outcome.run_id)
    store.close()
    return outcome.result, made


# -- the language ------------------------------------------------------------------------------


def test_a_human_step_round_trips_through_the_printer_with_its_comments():
    text = (
        "type Approval { approved: bool, note: str }\n\n"
        "// who decides\n"
        'human Approve(amount: float, who: str = "ops") -> Approval {\n'
        '  prompt "Refund {{ amount }}?"  // shown to the person\n'
        '  deadline "1h30m"\n'
        "}\n"
    )
    module = parse(text)
    (step,) = module.find_all(ast.HumanDecl)
    assert step.deadline is not None and step.deadline.seconds == 5400
    assert parse(to_source(module)) == module
    assert format_source(text) == text  # canonical already, comments kept


def test_human_and_deadline_stay_names_elsewhere():
    module = parse(
        PRELUDE
        + "agent A(human: str) -> Draft {\n  deadline = Writer(human)\n  return deadline\n}\n"
    )
    assert module.agents[0].nodes[0].name == "deadline"


def test_a_deadline_that_is_not_a_duration_is_a_syntax_error():
    from rolegraph.grammar import parse_module

    result = parse_module('type T { a: int }\nhuman H() -> T {\n  deadline "tomorrow"\n}\n', "h")
    (error,) = result.diagnostics
    assert error.code == codes.BAD_DEADLINE == "E0116"
    assert (error.line, error.column) == (3, 12)
    assert "24h" in error.hints[0]


# -- the checker -------------------------------------------------------------------------------


def test_a_human_step_costs_no_model_call_and_is_counted_apart():
    from rolegraph.compiler.analyses import cost_table

    text = (
        PARALLEL.replace("legal = Legal(task)", "legal = Legal(task) x 3")
        .replace("legal: Approval,", "legal: list[Approval],")
        .replace("{{ legal.note }}", "")
        .replace("Writer(legal.note)", "Writer(task)")
    )
    ir = rolegraph.load_agent("p.agent", text=text)
    rows = {row.node: row for row in cost_table(ir)}
    assert (rows["legal"].calls, rows["legal"].questions) == (0, 3)
    assert (rows["finance"].calls, rows["finance"].questions) == (0, 1)
    assert (rows["draft"].calls, rows["draft"].questions) == (1, 0)
    assert ir.worst_case_calls() == 3 and ir.worst_case_questions() == 4


def test_check_cost_shows_human_steps_in_their_own_column(tmp_path):
    shown = cli("check", write(tmp_path, PARALLEL), "--cost", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "human" in shown.stdout and "steps" in shown.stdout
    total = next(ln for ln in shown.stdout.splitlines() if "total" in ln)
    assert total.replace(" ", "").endswith("│3│unbounded│2│")  # calls, tokens, human steps


def test_temporal_constraints_and_stalls_see_human_steps_as_firings():
    from rolegraph import check_source

    refund = (Path(__file__).parent.parent / "examples" / "refund_approval.agent").read_text()
    proven = check_source(refund, "r.agent")
    assert [c.status for c in proven.constraints] == ["proven"]
    # a run that needs no approval is a counterexample to "a person is always asked"
    unproven = check_source(
        refund.replace("ensure always(refund -> once approval)", "ensure eventually approval"),
        "r.agent",
    )
    (warning,) = [d for d in unproven.diagnostics if d.code == "W0501"]
    assert "router" in " ".join(warning.notes) and "answer" in " ".join(warning.notes)
    # a node that needs an answer nobody is asked for can stall
    stall = check_source(
        PRELUDE
        + """
human Approve(task: str) -> Approval { prompt "{{ task }}" }
enum Route { fast, slow }
type Pick { route: Route }
role Router(task: str) -> Pick {
  model m
  prompt "{{ task }}"
}
agent S(task: str) -> Draft {
  r = Router(task)
  ask = Approve()
  r -> ask(task: task) when r.route == Route.fast
  w = Writer(ask.note)
  return w
}
""",
        "s.agent",
    )
    assert "W0406" in [d.code for d in stall.diagnostics]


def test_a_deadline_without_an_on_error_edge_is_a_warning():
    from rolegraph import check_source

    def warnings(text: str) -> list[str]:  # (`slow`, read by nobody, is W0405)
        return [d.code for d in check_source(text, "t.agent").diagnostics if d.code != "W0405"]

    text = TIMED % "1h"
    assert warnings(text) == []
    bare = text.replace("  ok -> late on error\n", "").replace("  return late\n", "")
    bare = bare.replace('  late = Writer("nobody answered: " + ok.error)\n', "")
    assert warnings(bare) == ["W0420"]


# -- pausing and resuming ------------------------------------------------------------------


def test_a_paused_run_is_resumed_from_another_process_with_an_answer(tmp_path):
    path = write(tmp_path, CHAIN)
    store = tmp_path / "s.sqlite"
    first = cli("run", path, "-i", '{"task": "the spring sale"}', "--store", store, cwd=tmp_path)
    run = paused_run(first)
    assert status(store, run) == "paused"
    assert calls(store, run) == 3  # the chain ran on while the question waited
    assert "Approve the spring sale?" in first.stderr
    resumed = cli("resume", run, "--answer", json.dumps(YES), "--store", store, "-q", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    expected, made = in_one_go(path, {"task": "the spring sale"}, {"Approve": [YES]})
    assert json.loads(resumed.stdout) == expected
    assert calls(store, run) == made == 4  # the chain's calls were not made again
    assert status(store, run) == "returned"


def test_a_bad_answer_is_refused_and_the_run_stays_paused(tmp_path):
    path = write(tmp_path, CHAIN)
    store = tmp_path / "s.sqlite"
    run = paused_run(cli("run", path, "-i", '{"task": "t"}', "--store", store, cwd=tmp_path))
    for bad, code in (
        ('{"approved": "perhaps"}', "E0421"),
        ('{"approved": true}', "E0421"),
        ("[1, 2]", "E0421"),
    ):
        refused = cli("resume", run, "--answer", bad, "--store", store, cwd=tmp_path)
        assert refused.returncode == 1
        assert refused.stderr.startswith(f"error[{code}]: the answer to 'ok-")
        assert "= help: an answer is JSON like" in refused.stderr
        assert "still waits" in refused.stderr
    not_json = cli("resume", run, "--answer", "{approved}", "--store", store, cwd=tmp_path)
    assert not_json.returncode == 2 and "not JSON" in not_json.stderr
    unknown = cli("resume", run, "--question", "ok-00000000", "--answer", json.dumps(YES),
                  "--store", store, cwd=tmp_path)  # fmt: skip
    assert unknown.returncode == 1 and unknown.stderr.startswith("error[E0422]")
    assert status(store, run) == "paused" and calls(store, run) == 3
    (waiting,) = json.loads(
        cli("runs", "--pending", "--json", "--store", store, cwd=tmp_path).stdout
    )
    assert waiting["run"] == run and waiting["answer"] is None
    good = cli("resume", run, "--answer", json.dumps(YES), "--store", store, "-q", cwd=tmp_path)
    assert good.returncode == 0 and calls(store, run) == 4


def test_parallel_questions_are_listed_and_answered_independently(tmp_path):
    path = write(tmp_path, PARALLEL)
    store = tmp_path / "s.sqlite"
    run = paused_run(cli("run", path, "-i", '{"task": "rockets"}', "--store", store, cwd=tmp_path))
    assert calls(store, run) == 1  # `draft` needs no answer: it ran
    listed = cli("runs", "--pending", "--store", store, cwd=tmp_path).stdout
    assert "May we launch rockets? (legal)" in listed and "Is there budget for rockets?" in listed
    waiting = {q.step: q for q in pending_questions(Store(store), run)}
    assert set(waiting) == {"Legal", "Finance"}
    several = cli("resume", run, "--answer", json.dumps(YES), "--store", store, cwd=tmp_path)
    assert several.returncode == 1 and "waits for 2 answers" in several.stderr  # which one?

    legal = {"approved": True, "note": "cleared"}
    first = cli("resume", run, "--question", waiting["Legal"].id, "--answer", json.dumps(legal),
                "--store", store, cwd=tmp_path)  # fmt: skip
    assert paused_run(first) == run  # paused again: finance still waits...
    assert calls(store, run) == 2  # ...but the memo, which needed legal's answer only, ran
    (still,) = pending_questions(Store(store), run)
    assert still.id == waiting["Finance"].id

    finance = {"approved": False, "note": "next quarter"}
    rolegraph.answer(run, finance, store=store)  # from Python, in this process
    done = cli("resume", run, "--store", store, "-q", cwd=tmp_path)  # and resumed from another
    assert done.returncode == 0, done.stderr
    expected, made = in_one_go(path, {"task": "rockets"}, {"Legal": [legal], "Finance": [finance]})
    assert json.loads(done.stdout) == expected
    assert calls(store, run) == made == 3


def test_a_run_killed_while_a_question_waits_resumes_without_repeating_a_call(tmp_path):
    path = write(tmp_path, CHAIN)
    store = tmp_path / "s.sqlite"
    process = subprocess.Popen(
        [ROLEGRAPH, "run", path, "-i", '{"task": "t"}', "--store", store,
         "--model", "mock:latency=0.4", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    asked = made = 0
    while time.monotonic() < deadline and not (asked and made >= 1):
        time.sleep(0.02)
        try:
            with sqlite3.connect(store) as db:
                asked = db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
                made = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
        except sqlite3.OperationalError:  # (the tables are not there yet)
            continue
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    with sqlite3.connect(store) as db:
        ((run, state),) = db.execute("SELECT id, status FROM runs").fetchall()
    assert state == "running" and 1 <= calls(store, run) < 3
    (waiting,) = json.loads(
        cli("runs", "--pending", "--json", "--store", store, cwd=tmp_path).stdout
    )
    assert waiting["run"] == run  # the question outlived the process

    resumed = cli("resume", run, "--answer", json.dumps(YES), "--store", store, "-q", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    expected, made = in_one_go(path, {"task": "t"}, {"Approve": [YES]})
    assert json.loads(resumed.stdout) == expected
    assert calls(store, run) == made == 4


def test_a_missed_deadline_is_routed_by_on_error(tmp_path):
    path = write(tmp_path, TIMED % "1h")
    ir = rolegraph.load_agent(path)
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(Paused) as paused:
        asyncio.run(run_agent(ir, {"task": "t"}, model="mock", store=store))
    run = paused.value.run_id
    (question,) = paused.value.questions
    assert question.deadline == pytest.approx(question.asked + 3600)
    later = time.time() + 2 * 3600
    with pytest.raises(AnswerError) as refused:  # too late to answer...
        answer_question(store, run, question.id, YES, now=later)
    assert refused.value.code == codes.DEADLINE_PASSED
    outcome = asyncio.run(  # ...and resumed then, the step fails and `on error` routes it
        run_agent(ir, {}, store=store, resume=run, human=StoreDesk(store, run, lambda: later))
    )
    failed = next(r for r in outcome.trace.firings if r.node == "ok")
    assert failed.status == "failed" and "by its deadline" in failed.error
    assert [r.node for r in outcome.trace.firings if r.status == "ok"][-1] == "late"
    assert outcome.trace.returned_at == 3


@pytest.mark.parametrize("where", ["store", "no store"])
def test_a_deadline_passes_while_the_run_is_still_working(tmp_path, where):
    """The slow branch outlasts the 1 s deadline: the run never pauses, the step fails
    at its deadline and `on error` routes it (the mock's latency is a lower bound)."""
    text = (TIMED % "1s").replace(
        "slow = Writer(task)",
        "slow = Writer(task)\n  s2 = Writer(slow.text)\n  s3 = Writer(s2.text)",
    )
    path = write(tmp_path, text)
    store = ["--store", tmp_path / "s.sqlite"] if where == "store" else ["--no-store"]
    shown = cli("run", path, "-i", '{"task": "t"}', "--model", "mock:latency=0.6",
                *store, "-q", "--events", "jsonl", cwd=tmp_path)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    events = [json.loads(line) for line in shown.stdout.splitlines()]
    assert events[-1]["kind"] == "result"
    failed = next(e for e in events if e["kind"] == "firing_failed")
    assert failed["node"] == "ok" and "deadline" in failed["error"]


def test_a_question_inside_a_called_agent_pauses_the_caller(tmp_path):
    text = (
        CHAIN
        + """
agent Outer(task: str) -> Draft {
  inner = Chain(task)
  after = Writer(inner.text)
  return after
}
"""
    )
    path = write(tmp_path, text)
    ir = rolegraph.load_agent(path, "Outer")
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(Paused) as paused:
        asyncio.run(run_agent(ir, {"task": "t"}, model="mock", store=store))
    run = paused.value.run_id
    (question,) = pending_questions(store, run)
    assert question.node == "ok" and question.step == "Approve"
    answer_question(store, run, question.id, YES)
    outcome = asyncio.run(run_agent(ir, {}, store=store, resume=run))
    assert outcome.result == in_one_go(path, {"task": "t"}, {"Approve": [YES]})[0]
    assert store.calls(run) == 5  # a, b, c, final, after: each once


# -- the API, the events, the terminal -----------------------------------------------------------


def test_python_api_runs_pauses_and_resumes(tmp_path):
    path = write(tmp_path, CHAIN)
    store = tmp_path / "s.sqlite"
    with pytest.raises(rolegraph.Paused) as paused:
        rolegraph.run(path, {"task": "t"}, model="mock", store=store)
    run = paused.value.run_id
    (question,) = rolegraph.pending(run, store=store)
    with pytest.raises(rolegraph.AnswerError):
        rolegraph.resume(run, {"approved": 1.5}, store=store)
    assert rolegraph.pending(store=store) == [question]  # unchanged
    outcome = rolegraph.resume(run, YES, store=store)
    assert outcome.result == in_one_go(path, {"task": "t"}, {"Approve": [YES]})[0]
    assert rolegraph.pending(store=store) == []


def test_the_events_tell_the_question_and_the_pause(tmp_path):
    ir = rolegraph.load_agent(write(tmp_path, PARALLEL))
    seen: list = []
    with pytest.raises(Paused):
        asyncio.run(
            run_agent(
                ir, {"task": "x"}, model="mock", store=Store(tmp_path / "s"), on_event=seen.append
            )
        )
    asked = [e for e in seen if isinstance(e, QuestionAsked)]
    assert sorted(e.step for e in asked) == ["Finance", "Legal"]
    assert all(e.schema["title"] == "Approval" for e in asked)
    assert isinstance(seen[-1], RunPaused)
    assert sorted(q["id"] for q in seen[-1].to_json()["questions"]) == sorted(
        e.question for e in asked
    )
    paused = [e for e in seen if getattr(e, "kind", "") == "firing_paused"]
    assert sorted(e.node for e in paused) == ["finance", "legal"]


def test_events_jsonl_ends_with_the_paused_event(tmp_path):
    shown = cli("run", write(tmp_path, CHAIN), "-i", '{"task": "t"}', "--events", "jsonl",
                "--store", tmp_path / "s.sqlite", cwd=tmp_path)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    kinds = [json.loads(line)["kind"] for line in shown.stdout.splitlines()]
    assert "question" in kinds and kinds[-1] == "paused"


def test_without_a_store_a_question_fails_the_run_saying_why(tmp_path):
    shown = cli("run", write(tmp_path, CHAIN), "-i", '{"task": "t"}', "--no-store", cwd=tmp_path)
    assert shown.returncode == 1
    assert "cannot wait" in shown.stderr and "Approve t?" in shown.stderr


def test_the_terminal_desk_asks_again_after_a_bad_answer(tmp_path):
    import io

    path = write(tmp_path, CHAIN)
    ir = rolegraph.load_agent(path)
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(Paused) as paused:
        asyncio.run(run_agent(ir, {"task": "t"}, model="mock", store=store))
    run = paused.value.run_id
    lines = iter(['{"approved": "x"}\n', "not json\n", json.dumps(YES) + "\n"])
    shown = io.StringIO()
    desk = TerminalDesk(store, run, lambda: next(lines, None), shown)
    outcome = asyncio.run(run_agent(ir, {}, store=store, resume=run, human=desk))
    assert outcome.result == in_one_go(path, {"task": "t"}, {"Approve": [YES]})[0]
    text = shown.getvalue()
    assert text.count("? Approve (") == 3 and "error[E0421]" in text and "not JSON" in text


def test_run_resume_on_a_terminal_asks_there(tmp_path):
    import os
    import pty
    import select

    path = write(tmp_path, CHAIN)
    store = tmp_path / "s.sqlite"
    run = paused_run(cli("run", path, "-i", '{"task": "t"}', "--store", store, cwd=tmp_path))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "rolegraph.cli", "run", str(path), "--resume", run,
         "--store", str(store), "-q"],
        stdin=terminal, stdout=terminal, stderr=terminal, cwd=tmp_path, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    written = bytearray()
    answered = False
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 120)
            assert ready, written[-2000:]
            try:
                data = os.read(controller, 65536)
            except OSError:
                break
            if not data:
                break
            written += data
            if not answered and b"> " in written:
                os.write(controller, (json.dumps(YES) + "\n").encode())
                answered = True
    finally:
        os.close(controller)
    assert process.wait() == 0, written.decode()
    shown = written.decode()
    assert "Approve t?" in shown and '"text":' in shown.split("> ", 1)[1]
    assert status(store, run) == "returned"


def test_a_test_block_scripts_answers_and_fails_without_them(tmp_path):
    from rolegraph.cli import app  # noqa: F401 - the console script is what runs it

    text = (
        CHAIN
        + """
test approved {
  run Chain(task: "t")
  mock Approve [{approved: true, note: "ok"}]
  expect eventually done
  expect firings(ok) == 1 and calls(Writer) == 3
}

test unanswered {
  run Chain(task: "t")
  expect eventually done
}
"""
    )
    shown = cli("test", write(tmp_path, text), cwd=tmp_path)
    assert shown.returncode == 1
    assert "::approved PASSED" in shown.stdout
    assert "::unanswered FAILED" in shown.stdout and "waits for an answer" in shown.stdout


# -- the LangGraph export: human steps are `interrupt()`s ------------------------------------


def test_the_langgraph_export_asks_with_interrupt_and_resumes_with_command():
    pytest.importorskip("langgraph")
    from langgraph.types import Command

    from rolegraph.runtime.langgraph_export import run_langgraph, to_langgraph

    ir = rolegraph.load_agent("c.agent", text=CHAIN)
    graph = to_langgraph(ir, model="mock")
    config = {"configurable": {"thread_id": "t1"}}
    state = asyncio.run(graph.ainvoke({"params": {"task": "t"}}, config))
    (waiting,) = state["__interrupt__"]
    assert waiting.value["step"] == "Approve" and waiting.value["text"] == "Approve t?"
    assert waiting.value["schema"]["title"] == "Approval"
    state = asyncio.run(graph.ainvoke(Command(resume={waiting.id: YES}), config))
    expected, _ = in_one_go_text(CHAIN, {"task": "t"}, {"Approve": [YES]})
    assert state["done"] and state["result"] == expected
    # parallel questions, each answered
    answers = {"Legal": [YES], "Finance": [{"approved": False, "note": "later"}]}
    ir = rolegraph.load_agent("p.agent", text=PARALLEL)
    got = asyncio.run(run_langgraph(to_langgraph(ir, model="mock"), {"task": "t"}, answers))
    assert got == in_one_go_text(PARALLEL, {"task": "t"}, answers)[0]


def test_a_bad_answer_through_langgraph_fails_the_step():
    pytest.importorskip("langgraph")
    from rolegraph.runtime.langgraph_export import run_langgraph, to_langgraph

    ir = rolegraph.load_agent("c.agent", text=CHAIN)
    with pytest.raises(Exception, match="approved"):
        asyncio.run(
            run_langgraph(to_langgraph(ir, model="mock"), {"task": "t"}, {"Approve": [{"x": 1}]})
        )


def in_one_go_text(text: str, inputs: dict, answers: dict) -> tuple[object, object]:
    ir = rolegraph.load_agent("x.agent", text=text)
    outcome = asyncio.run(run_agent(ir, inputs, model="mock", answers=answers))
    return outcome.result, outcome.trace


def test_mock_answers_make_a_dry_run_that_always_gives_the_same_result(tmp_path):
    ir = rolegraph.load_agent("p.agent", text=PARALLEL)
    first = asyncio.run(run_agent(ir, {"task": "t"}, model="mock", answers="mock"))
    again = asyncio.run(run_agent(ir, {"task": "t"}, model="mock", answers="mock"))
    assert first.result == again.result
    assert {r.node for r in first.trace.firings if r.status == "ok"} == {
        "draft", "legal", "finance", "memo", "done"
    }  # fmt: skip


def test_replicas_ask_one_question_each_inside_and_outside_called_agents(tmp_path):
    text = (
        CHAIN
        + """
role Pick(drafts: list[Draft], votes: list[Approval]) -> Draft {
  model m
  prompt "{% for d in drafts %}{{ d.text }}{% endfor %}{% for v in votes %}{{ v.note }}{% endfor %}"
}
agent Many(task: str) -> Draft {
  inner = Chain(task) x 2
  votes = Approve(task) x 2
  best = Pick(drafts: inner, votes: votes)
  return best
}
"""
    )
    path = write(tmp_path, text)
    ir = rolegraph.load_agent(path, "Many")
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(Paused) as paused:
        asyncio.run(run_agent(ir, {"task": "t"}, model="mock", store=store))
    run = paused.value.run_id
    before = store.calls(run)  # the writers of the chains
    waiting = pending_questions(store, run)
    assert len(waiting) == 4 and len({q.id for q in waiting}) == 4  # 2 nested, 2 replicas
    answers = [{"approved": i % 2 == 0, "note": f"n{i}"} for i in range(4)]
    for question, value in zip(waiting, answers, strict=True):
        answer_question(store, run, question.id, value)
    outcome = asyncio.run(run_agent(ir, {}, store=store, resume=run))
    votes = next(r for r in outcome.trace.firings if r.node == "votes").output
    by_id = {q.id: a for q, a in zip(waiting, answers, strict=True)}
    assert votes == [by_id[q.id] for q in waiting if q.node == "votes"]
    # then only each chain's Final (its answer differs) and Pick were called, no writer
    # again (before the pause the two chains sent the same requests: the second chain's
    # were answered by the response cache)
    assert store.calls(run) == before + 3


# -- random agents: paused and resumed until they end, against the run made in one go ----------

REVIEWER = """
human Reviewer(task: str, draft: Draft) -> Review {
  prompt "Review for {{ task }}: {{ draft.text }}"
}
human Chooser(task: str) -> Pick {
  prompt "Which route for {{ task }}?"
}
"""


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(well_typed_agents())
def test_random_agents_with_human_reviewers_resume_to_the_run_made_in_one_go(agent):
    """Each critic and router is a person: the run pauses at every question, the mock's answer is
    given (`mock_answer`, the answer `answers="mock"` gives at once), and the run is
    resumed, until it ends; it ends as the uninterrupted run does, with the same trace,
    and no model call made twice."""
    import tempfile

    from rolegraph.runtime.human import mock_answer

    from .checking import PRELUDE as CHECK_PRELUDE

    people = agent.replace("= Critic(", "= Reviewer(").replace("= Router(", "= Chooser(")
    text = CHECK_PRELUDE + REVIEWER + people
    ir = rolegraph.load_agent("r.agent", text=text)
    expected = _ending(run_agent(ir, {"task": "t"}, model="mock", answers="mock"))
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "s.sqlite")
        got = _ending(run_agent(ir, {"task": "t"}, model="mock", store=store))
        run = got[2]
        for _ in range(50):  # (each resume answers at least one question)
            if got[0] != "Paused":
                break
            for question in pending_questions(store, run):
                given = mock_answer(question.step, question.text, question.schema)
                answer_question(store, run, question.id, given)
            got = _ending(run_agent(ir, {}, store=store, resume=run))
        assert got[:2] == expected[:2]
        with sqlite3.connect(store.path) as db:
            made = [r for (r,) in db.execute("SELECT request FROM calls WHERE run = ?", (run,))]
        assert len(made) == len(set(made))  # each call made once
        store.close()


def _ending(running) -> tuple:
    """How a run ended: (kind, what it gave, its id)."""
    try:
        outcome = asyncio.run(running)
    except Paused as paused:
        return "Paused", None, paused.run_id
    except rolegraph.runtime.RunError as error:
        trace = error.trace.shape() if error.trace is not None else None
        return type(error).__name__, trace, getattr(error, "run_id", None)
    return "returned", (outcome.result, outcome.trace.shape()), outcome.run_id

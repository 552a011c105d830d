"""What a person reads of a search's result: the front judged on held-out examples, and
each candidate's structure against the start (search/front.py, `--held-out`)."""

import asyncio
import json

import rolegraph
from rolegraph.compiler.edits import BypassNode
from rolegraph.search import (
    Evaluator,
    Example,
    Objective,
    contains,
    front_rows,
)
from rolegraph.search.candidates import Trail

from .conftest import ROOT

CHAIN = """model m = "mock"
type Answer { text: str }
role Draft(question: str) -> Answer { model m  prompt "{{ question }}" }
role Polish(draft: Answer) -> Answer { model m  prompt "Polish: {{ draft.text }}" }
agent Main(question: str) -> Answer {
  draft = Draft(question)
  polish = Polish(draft)
  return polish
}
"""


def test_a_candidate_that_deleted_a_node_says_so_and_is_judged_on_held_out_examples():
    module = rolegraph.parse(CHAIN, "chain.agent")
    ev = Evaluator(
        Objective([Example({"question": f"q{i}"}, "x") for i in range(2)], contains),
        filename="chain.agent",
    )
    edit = BypassNode(agent="Main", node="polish")

    async def go():
        trail = Trail(ev, 3, None)
        start = await trail.start(module)
        await trail.visit(ev.editor().apply(module, edit), start, edit)
        result = trail.result()
        held = ev.judging(Objective([Example({"question": "held"}, "x")], contains))
        return await front_rows(result, ev, held)

    rows = asyncio.run(go())
    # on the mock every candidate scores 0: the one that dropped the polishing wins on
    # cost alone, and the report says what it deleted
    [only] = rows
    assert only.removed == ("polish",) and only.structure == "-polish"
    assert only.calls_per_run == 1 and only.held_out == 0.0


def test_the_command_judges_the_front_on_held_out_examples(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    data, held = tmp_path / "d.jsonl", tmp_path / "h.jsonl"
    data.write_text(json.dumps({"inputs": {"task": "t"}, "expected": "x"}) + "\n")
    held.write_text(json.dumps({"inputs": {"task": "h"}, "expected": "x"}) + "\n")
    args = ["search", str(ROOT / "examples" / "self_refine.agent"), "--data", str(data)]
    args += ["--held-out", str(held), "--store", str(tmp_path / "s.sqlite"), "-n", "3", "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "held-out" in result.output and "nodes vs start" in result.output


def test_the_front_table_prints_an_edit_as_written_even_when_it_reads_as_markup(capsys):
    """The front's table shows each cell as it is: an edit's text (a prompt an LLM
    rewrote) that reads as rich's markup (`[/b]`, `[i]`) or an emoji code (`:smile:`) is
    printed as written, not styled, replaced, or refused with a `MarkupError` at the end
    of a search."""
    from rolegraph.cli.render import print_front
    from rolegraph.compiler.edits import RewritePrompt, apply_script

    module = rolegraph.parse(CHAIN, "chain.agent")
    ev = Evaluator(Objective([Example({"question": "q"}, "x")], contains), filename="chain.agent")
    text = "Say x[i] [/b] :smile: {{ question }}"
    # (the polishing bypassed too: a cheaper candidate, on the front with the start)
    script = (BypassNode(agent="Main", node="polish"), RewritePrompt(role="Draft", text=text))

    async def go():
        trail = Trail(ev, 2, None)
        start = await trail.start(module)
        await trail.visit(apply_script(module, script), start, script)
        return await front_rows(trail.result(), ev)

    rows = asyncio.run(go())
    [made] = [row.scored.made_by for row in rows if row.scored.parent is not None]
    assert "[/b] :smile:" in made
    print_front("calls", rows)
    shown = capsys.readouterr().err
    assert "x[i] [/b] :smile: {{ question }}" in shown  # (its line, as the cell wraps)

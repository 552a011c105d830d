"""The reflective optimizer: learn from the traces of the examples a candidate fails
(the idea of Symbolic Learning, Zhou et al. 2024, and GEPA, Agrawal et al. 2025).

Each round takes the best candidate so far and the examples it fails (score below 1,
the worst first, at most `shown`). Each of those runs is made again with its trace
(search/evaluate.py `traced`; the response cache answers its calls, so it costs none),
and a model, the critic, reads them: for every example, the inputs, the expected
answer, the run's answer or error, and what each node received and returned. Its reply
is structured: a list of notes, each naming a node of the agent (an enum of its nodes),
what went wrong there, and a fix of a fixed kind with an instruction:

- `prompt`: the node's role's prompt gets the instruction (a prompt rewrite,
  `rewrite_prompt`, the old prompt and the instruction after it);
- `samples`: the node is sampled several times and voted on (`replicate_vote`);
- `review`: the node is wrapped in a critic-and-revise loop (`refine_loop`);
- `none`: nothing to change there.

Prompt rewrites are tried first, then the structural edits. A critic that repeats
itself is not asked forever: after `patience` rounds in a row that evaluated no new
candidate (every edit its notes led to was refused or already tried), the search
stops, and says so (`stopped`), rather than spend the rest of its budget on the critic.
Every edit goes through the same door as the meta-optimizer's proposals (search/meta.py
`_apply`: the operator catalogue, the trust policy, the checker); a refused one is kept
with the checker's reason and shown to the critic in the next round, with what the
accepted ones scored.

    result = await reflect_search(module, evaluator, critic="openai/gpt-4o", evaluations=20)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.edits import Editor
from rolegraph.compiler.printer import to_source
from rolegraph.runtime import Model, RunError
from rolegraph.runtime.values import plain

from .budget import BudgetSpent
from .candidates import Progress, Scored, SearchResult, Trail
from .evaluate import Evaluator
from .meta import GOAL, Attempt, Spend, try_proposal
from .program import without_tests
from .proposals import MODEL, load, tried_summary
from .racing import Racing

FIXES = ("prompt", "review", "samples", "none")  # the order edits are tried in
OUTPUT = 300  # characters of a node's output shown
FIX_ABOUT = (
    "prompt: instruct the node's role better; samples: sample it several times and vote; "
    "review: let a critic review and revise it; none"
)


@dataclass(frozen=True)
class Note:
    """The critic's feedback on one node."""

    node: str
    problem: str
    fix: str
    instruction: str


def critic_source(nodes: list[str]) -> str:
    """The critic agent for an agent with these nodes (its reply names one of them)."""
    return f'''{MODEL}
enum NodeName {{ {", ".join(nodes)} }}
enum Fix {{ {", ".join(FIXES)} }}
type Note {{
  node: NodeName     @desc("the node where it went wrong")
  problem: str       @desc("what went wrong there, in one sentence")
  fix: Fix           @desc("{FIX_ABOUT}")
  instruction: str   @desc("for prompt: the instruction to add to the role's prompt")
}}
type Feedback {{ notes: list[Note] }}
role Reflect(program: str, failures: str, tried: str, goal: str) -> Feedback {{
  model proposer
  prompt """
    You improve agent systems written in rolegraph by reading the traces of the examples
    an agent fails, and saying for each node that went wrong what went wrong and how
    to fix it. Goal: {{{{ goal }}}}

    The program:
    {{{{ program }}}}

    The examples it fails, each with what every node received and returned:
    {{{{ failures }}}}

    What was tried before, and what came of it:
    {{{{ tried }}}}

    Give one note per node that went wrong.
  """
}}
agent Reflector(program: str, failures: str, tried: str, goal: str) -> Feedback {{
  feedback = Reflect(program, failures, tried, goal)
  return feedback
}}
'''


async def reflect_search(
    module: ast.Module,
    evaluator: Evaluator,
    *,
    critic: str | Model = "mock",
    critic_params: dict[str, Any] | None = None,
    evaluations: int,
    max_rounds: int | None = None,
    shown: int = 3,
    goal: str = GOAL,
    editor: Editor | None = None,
    progress: Progress | None = None,
    racing: Racing | None = None,
    patience: int = 2,
) -> SearchResult:
    """Evaluate `module`, then, round by round, read the traces of the examples the best
    candidate fails, ask `critic` for feedback per node, and evaluate the edits it leads
    to, until `evaluations` candidates are evaluated, `max_rounds` (default: as many as
    `evaluations`) were asked for, or the best fails no example. The critic's calls come
    out of the search's budget, and are counted as `proposer_calls`. `patience`: rounds
    in a row without a new candidate evaluated before the search stops."""
    if patience < 1:
        raise ValueError(f"patience is at least 1 round, not {patience}")
    editor = editor or evaluator.editor()
    trail = Trail(evaluator, evaluations, progress, racing)
    await trail.start(module)
    attempts: list[Attempt] = []
    refused: list[tuple[str, str]] = []
    critic_calls = 0
    idle = 0  # rounds in a row that evaluated no new candidate
    for _ in range(max_rounds if max_rounds is not None else evaluations):
        if trail.full:
            break
        parent = max(trail.evaluated, key=lambda s: s.rank)
        spend = Spend(critic, critic_params, evaluator.budget)
        try:  # (the runs made again for their traces come out of the budget too)
            failures = await _failures(evaluator, parent, shown)
            if not failures:
                break  # (nothing failed: nothing to learn from)
            notes, used = await _feedback(spend, parent.module, failures, attempts, goal)
        except BudgetSpent as error:
            trail.stopped = f"reading the failing runs or asking the critic does not fit: {error}"
            break
        critic_calls += used
        before = len(trail.evaluated)
        for text in _edits(parent.module, evaluator.ir_of(parent.module).name, notes):
            if trail.full:
                break
            await try_proposal(trail, editor, parent, text, attempts, refused)
        idle = 0 if len(trail.evaluated) > before else idle + 1
        if idle >= patience:  # (the critic repeats itself: the rest of the budget is kept)
            trail.stopped = f"the critic's last {idle} rounds led to no new candidate"
            break
    return trail.result(refused=tuple(refused), proposer_calls=critic_calls)


async def _failures(evaluator: Evaluator, parent: Scored, shown: int) -> str:
    """The examples `parent` fails, worst first, each with its trace, as text ("" when
    it fails none)."""
    failed = sorted(
        (run for run in parent.evaluation.runs if run.score < 1.0),
        key=lambda run: (run.score, run.example, run.seed),
    )
    blocks = []
    for run in failed[:shown]:
        example = evaluator.objective.examples[run.example]
        ran = await evaluator.traced(parent.module, run.example, run.seed)
        lines = [
            f"Example {run.example + 1} (score {run.score:.2f}): inputs {_shown(example.inputs)}",
            f"  expected: {_shown(example.expected)}",
            f"  the run's answer: {_shown(run.result)}"
            if run.error is None
            else f"  the run failed: {run.error}",
        ]
        lines += _steps(ran.trace)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _steps(trace: Any) -> list[str]:
    """What each node received and returned, in the order they fired."""
    if trace is None:
        return []
    lines = []
    for record in trace.firings:
        if record.status == "ok":
            given, returned = _shown(record.inputs), _shown(record.output)
            lines.append(f"  node {record.node}: given {given}; returned {returned}")
        elif record.status == "failed":
            lines.append(f"  node {record.node}: failed: {record.error}")
    return lines


def _shown(value: Any) -> str:
    text = json.dumps(plain(value), ensure_ascii=False, default=str)
    return text if len(text) <= OUTPUT else text[: OUTPUT - 3] + "..."


async def _feedback(
    spend: Spend, module: ast.Module, failures: str, attempts: list[Attempt], goal: str
) -> tuple[list[Note], int]:
    """The critic's notes, and the calls it made (none when it failed: then no note)."""
    nodes = _nodes(module)
    if not nodes:
        return [], 0
    inputs = {
        "program": to_source(without_tests(module)),
        "failures": failures,
        "tried": tried_summary(attempts),
        "goal": goal,
    }
    try:
        outcome = await spend.run(load(critic_source(nodes), "Reflector"), inputs)
    except RunError as error:
        return [], error.trace.summary()["calls"] if error.trace is not None else 0
    notes = [
        Note(str(n["node"]), str(n["problem"]), str(n["fix"]), str(n["instruction"]))
        for n in plain(outcome.result)["notes"]
    ]
    return notes, outcome.trace.summary()["calls"]


def _nodes(module: ast.Module) -> list[str]:
    return sorted({node.name for agent in module.agents for node in agent.nodes})


def _edits(module: ast.Module, agent: str, notes: list[Note]) -> list[str]:
    """The edits the notes lead to, as proposals (JSON), prompt rewrites first."""
    decl = module.decl(agent.rsplit(".", 1)[-1])
    if not isinstance(decl, ast.AgentDecl):
        return []
    roles = {node.name: node.role for node in decl.nodes}
    found: list[tuple[int, str]] = []
    for note in notes:
        if note.fix not in FIXES or note.fix == "none" or note.node not in roles:
            continue
        if note.fix == "prompt":
            role = module.decl(roles[note.node])
            if not isinstance(role, ast.RoleDecl) or role.prompt is None:
                continue
            instruction = " ".join(note.instruction.split())
            if not instruction:
                continue
            text = role.prompt.text.rstrip() + "\n" + instruction + "\n"
            data: dict[str, Any] = {"op": "rewrite_prompt", "role": role.name, "text": text}
        elif note.fix == "samples":
            data = {"op": "replicate_vote", "agent": decl.name, "node": note.node, "n": 3}
        else:
            data = {"op": "refine_loop", "agent": decl.name, "node": note.node}
        found.append((FIXES.index(note.fix), json.dumps(data)))
    unique = dict.fromkeys(text for _, text in sorted(found, key=lambda f: f[0]))
    return list(unique)

"""Proposals as structured values, for a proposer as small as the local model.

A proposal is made in two calls, each answered in a type the model's decoding can be
held to (llama.cpp turns the JSON schema into a grammar):

1. `Choose` picks the operator: an enum of the catalogue's operators that can edit
   this program (`offered`: each has a site in it, or writes text of its own, as a
   prompt rewrite; a small model cannot pick one with nothing to edit, nor name one
   it was not shown), with a reason;
2. `Fill` gives that operator's fields, as a record of that operator's own fields: a
   text or count field is an enum of the values the program's untried edits give it
   (`site_choices`: a node, a role, a critic, an edge's key, a formula, a temperature,
   a number of samples), each member an identifier read back as its value (`members`:
   `edge critic -> writer when` stands as `critic_to_writer_when`); a choice of words
   is an enum; only a prompt's new text is free. Without choices, a field that names an
   agent, a node, a role, a model or an edge is an enum of the program's names.

Both agents are generated from the catalogue and the program (and cached by their text).
What the proposer is shown of the past is bounded: the latest `SHOWN` attempts in one
line each (cut to `LINE` characters), and a count of the earlier refusals by reason, so
the prompt does not grow with the search (it did by each refusal's whole text).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from rolegraph.compiler import ast
from rolegraph.compiler.edits import Edit, op_name
from rolegraph.compiler.queries import edge_keys

from .program import load_agent

SHOWN = 6  # the latest attempts shown, one line each
LINE = 200  # characters of an attempt's line
MODEL = 'model proposer = "openai/gpt-4o-mini" { temperature: 0.7 }'

PREAMBLE = """
    You improve agent systems written in rolegraph, a typed language for LLM agents, by
    proposing one edit at a time. A checker refuses any edit that breaks the program.

    Goal: {{ goal }}

    The program:
    {{ program }}
"""


def offered(
    module: ast.Module,
    operators: Sequence[type[Edit]],
    fresh: Callable[[Edit], bool] | None = None,
) -> tuple[type[Edit], ...]:
    """The operators a proposer is shown for `module`: those with a site in it (one that
    `fresh` accepts, when given), and those whose edits are not enumerated (a prompt's new
    text). Measured on the local model: offered every operator, it chose `change_model`
    for a program with one model in each of its proposals, all refused."""
    return tuple(
        op
        for op in operators
        if not op.enumerable or any(fresh is None or fresh(e) for e in op.sites(module))
    )


def names(module: ast.Module) -> dict[str, list[str]]:
    """The names a field may refer to: agents, their nodes, roles, model declarations,
    and edges (by `edge_members`)."""
    agents = [d for d in module.decls if isinstance(d, ast.AgentDecl)]
    return {
        "agent": [a.name for a in agents],
        "node": sorted({n.name for a in agents for n in a.nodes}),
        "role": [d.name for d in module.decls if isinstance(d, ast.RoleDecl)],
        "model": [d.name for d in module.decls if isinstance(d, ast.ModelDecl)],
        "edge": list(edge_members(module)),
    }


def edge_members(module: ast.Module) -> dict[str, str]:
    """Each explicit edge's key (`edge critic -> writer when`, `edge a -> b#2`) by an
    identifier that can be an enum member (`critic_to_writer_when`, `a_to_b_2`; see
    `members`)."""
    keys = [k for d in module.decls if isinstance(d, ast.AgentDecl) for k in edge_keys(d)]
    return members(keys)


def members(values: Sequence[Any]) -> dict[str, Any]:
    """Each of `values` (once) by an identifier that can be an enum member: its words
    (an edge key's after `edge`), `->` read as `to`, joined by `_` (`critic_to_writer_when`,
    `always_return_to_once_answer`); the empty text is `default`; a keyword or a leading
    digit gets a `_`/`v_`; two values that would read alike get `_2`, `_3`, ... ."""
    found: dict[str, Any] = {}
    for value in dict.fromkeys(values):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        words = re.findall(r"[A-Za-z0-9_]+|->", text.removeprefix("edge "))
        base = "_".join("to" if word == "->" else word for word in words) or "default"
        if base[0].isdigit():
            base = f"v_{base}"
        if base in ast.KEYWORDS:
            base += "_"
        member, n = base, 1
        while member in found:
            n += 1
            member = f"{base}_{n}"
        found[member] = value
    return found


def site_choices(
    operator: type[Edit], module: ast.Module, fresh: Callable[[Edit], bool] | None = None
) -> dict[str, dict[str, Any]]:
    """For each text or count field of `operator`, the values its sites in `module` give
    it, by member (`members`): what the proposer may choose from, so that a small model
    picks a critic, a voter, a formula, an edge or a number of samples the program's
    sites have instead of writing one (measured on the local model: offered free text,
    it wrote `str`, `answer`, `Answer`; offered an int, `max: 0`).
    Only the sites `fresh` accepts, when given. Empty for an operator whose edits are not
    enumerated (a prompt's new text)."""
    if not operator.enumerable:
        return {}
    values: dict[str, list[Any]] = {}
    for edit in operator.sites(module):
        if fresh is not None and not fresh(edit):
            continue
        for name, info in operator.model_fields.items():
            if name == "op" or name in operator.legacy or get_origin(info.annotation) is Literal:
                continue
            value = getattr(edit, name)
            # a text, a count (a vote's samples, a loop's bound: the language has no
            # ranged ints, and the local model wrote `max: 0`, `n: 1`), or a value of a
            # field typed as a choice of kinds (a parameter's: `float | int | str | bool`)
            counted = isinstance(value, int) and not isinstance(value, bool)
            if (
                isinstance(value, str)
                or counted
                or get_origin(info.annotation) in (Union, UnionType)
            ):
                values.setdefault(name, []).append(value)
    return {name: members(found) for name, found in values.items()}


# which kind of name a field holds, by operator and field (others: their Python type)
REFERS = {
    "agent": "agent",
    "node": "node",
    "source": "node",
    "target": "node",
    "role": "role",
    "key": "edge",
    "model": "model",
}
REFERS_BY_OP = {("insert_role", "name"): None}


def field_type(op: str, name: str, annotation: Any, known: dict[str, list[str]]) -> str:
    """The rolegraph type of an operator's field for this program (an enum's name for
    a reference, declared by `filler_source`)."""
    kind = REFERS_BY_OP.get((op, name), REFERS.get(name))
    if kind is not None and known.get(kind) and not (op == "insert_role" and name == "role"):
        return f"{kind.capitalize()}Name"
    if get_origin(annotation) is Literal:
        return f"{_camel(op)}{_camel(name)}"
    return {int: "int", float: "float", bool: "bool"}.get(annotation, "str")


def _camel(text: str) -> str:
    return "".join(part.capitalize() for part in text.split("_"))


def chooser_source(ops: Sequence[str]) -> str:
    members = ", ".join(ops)
    return f'''{MODEL}
enum Op {{ {members} }}
type Choice {{
  op: Op       @desc("the operator of the edit")
  reason: str  @desc("why it should raise the score or lower the cost, in one sentence")
}}
role Choose(program: str, operators: str, tried: str, goal: str) -> Choice {{
  model proposer
  prompt """{PREAMBLE}
    The operators you can use:
    {{{{ operators }}}}

    What was tried, and what came of it:
    {{{{ tried }}}}

    Choose the operator of one edit that was not tried, and say why.
  """
}}
agent Chooser(program: str, operators: str, tried: str, goal: str) -> Choice {{
  choice = Choose(program, operators, tried, goal)
  return choice
}}
'''


def filler_source(
    operator: type[Edit],
    known: dict[str, list[str]],
    choices: dict[str, dict[str, Any]] | None = None,
) -> str:
    """The agent that fills `operator`'s fields for a program with these names: a field
    with `choices` (`site_choices`) is an enum of them; a field naming a part of the
    program, an enum of its names."""
    op = op_name(operator)
    lines = [MODEL]
    fields = []
    declared: set[str] = set()
    for name, info in operator.model_fields.items():
        if name == "op" or name in operator.legacy:  # (an edge's old `index`)
            continue
        kind = field_type(op, name, info.annotation, known)
        if choices and choices.get(name):
            kind = f"{_camel(op)}{_camel(name)}Choice"
            lines.append(f"enum {kind} {{ {', '.join(choices[name])} }}")
        elif kind.endswith("Name") and kind not in declared:
            members = known[kind.removesuffix("Name").lower()]
            lines.append(f"enum {kind} {{ {', '.join(members)} }}")
            declared.add(kind)
        elif get_origin(info.annotation) is Literal and kind not in declared:
            lines.append(f"enum {kind} {{ {', '.join(map(str, get_args(info.annotation)))} }}")
            declared.add(kind)
        about = " ".join((info.description or "").split()).replace('"', "'")
        fields.append(f"  {name}: {kind}" + (f' @desc("{about}")' if about else ""))
    lines.append(
        "type Fields {\n" + "\n".join(fields) + "\n}" if fields else "type Fields { none: str }"
    )
    lines.append(f'''role Fill(program: str, operator: str, tried: str, goal: str) -> Fields {{
  model proposer
  prompt """{PREAMBLE}
    The edit you make: {{{{ operator }}}}

    What was tried with it, and what came of it:
    {{{{ tried }}}}

    Give the fields of one such edit that was not tried.
  """
}}
agent Filler(program: str, operator: str, tried: str, goal: str) -> Fields {{
  fill = Fill(program, operator, tried, goal)
  return fill
}}''')
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=64)
def load(source: str, name: str) -> Any:
    return load_agent(source, f"<{name}>", name)


def edit_json(
    op: str, fields: dict[str, Any], choices: dict[str, dict[str, Any]] | None = None
) -> str:
    """The proposal as the editor reads it: a member of a field's `choices` read back as
    its value (an edge's key, a formula, `""` for `default`); a `value` given as text is
    read as JSON when it is a number or a boolean (set_model_param takes either)."""
    data = {"op": op, **{k: v for k, v in fields.items() if k != "none"}}
    for name, chosen in (choices or {}).items():
        if isinstance(data.get(name), str):
            data[name] = chosen.get(data[name], data[name])
    if op == "set_model_param" and isinstance(data.get("value"), str):
        text = data["value"].strip()
        if re.fullmatch(r"-?\d+(\.\d+)?|true|false", text):
            data["value"] = json.loads(text)
    return json.dumps(data)


def tried_summary(attempts: Sequence[Any], op: str | None = None) -> str:
    """What was tried, bounded: the latest `SHOWN` attempts (of `op`, when given) one line
    each, and the earlier refusals counted by reason."""
    chosen = [a for a in attempts if op is None or _op_of(a.edit) == op]
    if not chosen:
        return "nothing yet"
    earlier, latest = chosen[:-SHOWN], chosen[-SHOWN:]
    lines = []
    refusals = Counter(_reason(a.outcome) for a in earlier if not a.accepted)
    if refusals:
        counted = "; ".join(f"{n} {why}" for why, n in refusals.most_common(4))
        lines.append(f"- {len(earlier)} earlier attempts; refused: {counted}")
    for attempt in latest:
        lines.append(_cut(f"- {attempt.edit} -> {attempt.outcome.splitlines()[0]}"))
    return "\n".join(lines)


def _op_of(edit: str) -> str | None:
    try:
        data = json.loads(edit)
    except ValueError:
        return None
    return data.get("op") if isinstance(data, dict) else None


def _reason(outcome: str) -> str:
    """A refusal's reason, short: its diagnostic code, or its first words."""
    found = re.search(r"\[([EW]\d{4})\]", outcome)
    if found:
        return found.group(1)
    return " ".join(outcome.removeprefix("refused: ").split()[:6])


def _cut(text: str) -> str:
    return text if len(text) <= LINE else text[: LINE - 1] + "…"

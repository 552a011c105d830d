"""Generators of large `.agent` programs for benchmarks."""

from __future__ import annotations


def large_program(roles: int = 200, nodes: int = 200, *, comments: bool = False) -> str:
    """`roles` roles, and one agent of `nodes` nodes: a chain of stages of ten nodes, each
    with a replicated node, a map, a merge, and a check that sends the draft back for at
    most two revisions before the next stage starts (`check -> next(...) else`).

    `comments`: a comment line before every statement of every declaration and before
    every declaration (what comment attachment costs)."""
    text = _large_program(roles, nodes)
    return _commented(text) if comments else text


def _commented(text: str) -> str:
    """A `// note` line before each line that starts a statement or a declaration (not
    inside a multi-line prompt, not before a closing brace)."""
    out: list[str] = []
    in_prompt = False
    for number, line in enumerate(text.splitlines()):
        stripped = line.strip()
        starts = stripped and not in_prompt and not stripped.startswith(("}", "//"))
        if starts:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}// note {number}")
        out.append(line)
        if stripped.count('"""') % 2 == 1:
            in_prompt = not in_prompt
    return "\n".join(out) + "\n"


def _large_program(roles: int, nodes: int) -> str:
    out = [
        "// A generated program for benchmarks.",
        'model fast = "openai/gpt-4o-mini" { temperature: 0.2, max_tokens: 400 }',
        "",
        "type Answer {",
        '  text: str          @desc("the answer")',
        '  confidence: float  @desc("between 0 and 1")',
        "  steps: list[str]",
        "}",
        "",
        "type Review { ok: bool, feedback: str, score: float }",
        "",
    ]
    for i in range(roles):
        out += [
            f'role Step{i}(task: str, previous: Answer? = none, feedback: str = "") -> Answer {{',
            "  model fast",
            f'  system "You are step {i} of a long pipeline."',
            '  prompt """',
            "    Task: {{ task }}",
            "    {% if previous %}Previous answer: {{ previous.text }}{% endif %}",
            "    {% if feedback %}Feedback: {{ feedback }}{% endif %}",
            '  """',
            "}",
            "",
        ]
    out += [
        "role Merge(task: str, drafts: list[Answer]) -> Answer {",
        "  model fast",
        '  prompt "Merge: {% for d in drafts %}{{ d.text }} {% endfor %}"',
        "}",
        "",
        "role Check(task: str, draft: Answer) -> Review {",
        "  model fast",
        '  prompt "Is this right? {{ draft.text }}"',
        "}",
        "",
        "agent Pipeline(task: str) -> Answer {",
    ]
    for i in range(nodes):
        role = f"Step{i % roles}"
        if i == 0:
            out.append(f"  n0 = {role}(task)")
        elif i % 10 == 5:
            out.append(f"  n{i} = {role}(task, previous: n{i - 1}) x 3  // replicated")
        elif i % 10 == 6:
            out.append(f"  n{i} = {role}(task, previous: p) for p in n{i - 1} max 3")
        elif i % 10 == 7:
            out.append(f"  n{i} = Merge(task, drafts: n{i - 1})")
        elif i % 10 == 9:
            out.append(f"  n{i} = Check(task, draft: n{i - 1})")
            out.append(
                f"  n{i} -> n{i - 1}(feedback: n{i}.feedback) when not n{i}.ok and "
                f"n{i}.score < 0.9 max 2"
            )
        elif i % 10 == 0:  # after a check: go on with the accepted draft only
            out.append(f"  n{i} = {role}(task)")
            out.append(f"  n{i - 1} -> n{i}(previous: n{i - 2}) else")
        else:
            out.append(f"  n{i} = {role}(task, previous: n{i - 1})")
    last = nodes - 1
    if last % 10 == 9:  # the last stage ends with a check: return what it accepted
        out.append(f"  n{last} -> return(n{last - 1}) else")
    else:
        out.append(f"  return n{last}")
    out += [
        f"  ensure always(return -> once n{last})",
        "  ensure always(n9 -> eventually n10) and not (n1 until n2)",
        "}",
    ]
    return "\n".join(out) + "\n"

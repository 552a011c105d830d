"""Generators of large `.agent` programs for benchmarks."""

from __future__ import annotations


def large_program(roles: int = 200, nodes: int = 200) -> str:
    """`roles` roles, and one agent of `nodes` nodes: a chain with a refine loop every ten
    nodes, a few replicated and mapped nodes, guards, and constraints."""
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
        elif i % 10 == 9:
            out.append(f"  n{i} = Check(task, draft: n{i - 1})")
            out.append(
                f"  n{i} -> n{i - 1}(feedback: n{i}.feedback) when not n{i}.ok and "
                f"n{i}.score < 0.9 max 2"
            )
        else:
            out.append(f"  n{i} = {role}(task, previous: n{i - 1})")
    last = nodes - 1
    out += [
        f"  return n{last}",
        f"  ensure always(return -> once n{last})",
        "  ensure always(n9 -> eventually n10) and not (n1 until n2)",
        "}",
    ]
    return "\n".join(out) + "\n"

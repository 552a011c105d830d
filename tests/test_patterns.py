"""Patterns: compile-time parameters checked, and expanded in the IR."""

from rolegraph.compiler import ast
from rolegraph.compiler.analyses import worst_case_firings

from .checking import PRELUDE, check

PATTERN = """
agent Refine[Drafter: role(task: str, feedback: str) -> Draft, threshold: float = 0.5](
  task: str,
) -> Draft {
  d = Drafter(task, feedback: "")
  c = Critic(task, draft: d)
  c -> d(feedback: c.feedback) when c.score < threshold max 3
  c -> return(d) else
}
"""


def test_a_pattern_is_expanded_with_its_arguments():
    result = check(
        PRELUDE
        + PATTERN
        + """
agent Main(task: str) -> Draft {
  r = Refine[Writer, threshold: 0.8](task)
  return r
}
"""
    )
    assert [str(d) for d in result.diagnostics] == []
    node = result.irs["Main"].nodes["r"]
    assert node.kind == "agent"
    sub = node.subgraph
    assert sub.nodes["d"].callee == "Writer" and sub.nodes["d"].kind == "role"
    (loop,) = [e for e in sub.edges if e.condition == "when"]
    assert loop.guard.right == ast.FloatLit(value=0.8)
    assert worst_case_firings(sub) == {"d": 4, "c": 4}
    assert node.calls_per_firing == 8


def test_defaults_of_compile_time_constants_are_used():
    result = check(
        PRELUDE
        + PATTERN
        + """
agent Main(task: str) -> Draft {
  r = Refine[Drafter: Writer](task)
  return r
}
"""
    )
    (loop,) = [e for e in result.irs["Main"].nodes["r"].subgraph.edges if e.condition == "when"]
    assert loop.guard.right == ast.FloatLit(value=0.5)


def test_a_role_of_the_wrong_signature_is_rejected():
    result = check(
        PRELUDE
        + PATTERN
        + """
agent Main(task: str) -> Draft {
  r = Refine[Critic](task)
  return r
}
"""
    )
    (diagnostic,) = [d for d in result.diagnostics if d.code == "E0317"]
    assert "`Critic` does not fit `Drafter`: it has no parameter `feedback`" in diagnostic.message


def test_a_constant_of_the_wrong_type_is_rejected():
    result = check(
        PRELUDE
        + PATTERN
        + """
agent Main(task: str) -> Draft {
  r = Refine[Writer, threshold: "high"](task)
  return r
}
"""
    )
    assert [d.code for d in result.diagnostics] == ["E0317"]

"""The editor's refusal before checking (check.py `refused_before_checking`) tells nothing
from a last build that is not the candidate's: a sibling whose node changed among the same
names, another program analysed since, an edge taken out as well as one put in (a script),
an imported callee changed on disk."""

from __future__ import annotations

import os

import rolegraph
from rolegraph.compiler.check import refused_before_checking
from rolegraph.compiler.edits import AddEdge, RemoveEdge
from rolegraph.compiler.edits.diff import ReplaceStatement
from rolegraph.compiler.incremental import CheckSession

from .test_incremental_check import fresh
from .test_incremental_edit_walks import PAIR, STEP

APART = (
    STEP
    + """agent Flow(task: str) -> str {
  a = Step(task)
  c = Step(task)
  c -> return(c)
}
"""
)


def _clean(module, filename) -> bool:
    return not fresh(module, filename, errors_only=True).errors


def test_a_sibling_whose_node_changed_among_the_same_names_is_not_the_last_build():
    """After a check of a sibling in which `c` reads `a` (the same node names), an edge
    c -> a added to the parent, where `c` reads nothing, closes no cycle."""
    parent = rolegraph.parse(APART, "apart.agent")
    session = CheckSession("apart.agent")
    assert not session.check(parent, errors_only=True).errors
    reads = ReplaceStatement(agent="Flow", key="node c", source="c = Step(a)").apply(parent)
    assert not session.check(reads, errors_only=True).errors
    back = AddEdge(agent="Flow", edge="c -> a").apply(parent)
    told = refused_before_checking(back)  # (asked first: a check builds the agent anew)
    assert _clean(back, "apart.agent")
    assert not told


CHAIN3 = (
    STEP
    + """agent Other(task: str) -> str {
  a = Step(task)
  b = Step(task)
  c = Step(task)
  a -> b
  b -> c
  c -> return(c)
}
"""
)


def test_another_program_analysed_since_is_not_the_last_build():
    """Two editors in one process: `Flow` checked, then another program whose agent has
    the same node names and a -> b -> c; an edge c -> a added to `Flow` closes no cycle."""
    flow = rolegraph.parse(APART, "apart.agent")
    assert not CheckSession("apart.agent").check(flow, errors_only=True).errors
    other = rolegraph.parse(CHAIN3, "other.agent")
    assert not CheckSession("other.agent").check(other, errors_only=True).errors
    back = AddEdge(agent="Flow", edge="c -> a").apply(flow)
    told = refused_before_checking(back)  # (asked first: a check builds the agent anew)
    assert _clean(back, "apart.agent")
    assert not told


def test_an_edge_taken_out_is_taken_out_of_the_graph_told():
    """A script that turns a -> b round (b -> a) closes no cycle: the edge taken out is
    not in the graph the refusal reads."""
    module = rolegraph.parse(CHAIN3, "other.agent")
    editor = rolegraph.editor("other.agent")
    assert editor.validate(module, "it") is module
    script = [RemoveEdge(agent="Other", key="edge a -> b"), AddEdge(agent="Other", edge="b -> a")]
    turned = editor.apply_script(module, script)  # (raises if refused)
    assert _clean(turned, "other.agent")


LIB = (
    STEP
    + """role Pair(x: str, y: str) -> str {
  model fast
  prompt "{{ x }} {{ y }}"
}
"""
)
MAIN = """
from "./lib.agent" import Step, Pair
agent Flow(task: str) -> str {
  a = Step(task)
  b = Step(task)
  s = Step(b)
  c = Pair(a, b)
  c -> return(c)
}
"""


def test_a_callee_imported_and_changed_on_disk_is_not_the_last_builds(tmp_path):
    """The race of `test_a_race_is_told_from_the_last_build_only_where_the_callees_are_
    that_builds`, with `Pair` imported: its parameters swapped on disk after the last
    build, the edge s -> c(y: s) races with nothing, and it checks."""
    (tmp_path / "lib.agent").write_text(LIB)
    main = tmp_path / "main.agent"
    main.write_text(MAIN)
    module = rolegraph.parse_file(main)
    session = CheckSession(str(main), root=tmp_path)
    assert not session.check(module, errors_only=True).errors
    (tmp_path / "lib.agent").write_text(LIB.replace("Pair(x: str, y: str)", "Pair(y: str, x: str)"))
    later = os.stat(tmp_path / "lib.agent").st_mtime + 5
    os.utime(tmp_path / "lib.agent", (later, later))
    racing = AddEdge(agent="Flow", edge="s -> c(y: s)").apply(module)
    told = refused_before_checking(racing)
    assert not session.check(racing, errors_only=True).errors
    assert not told


SWAPPED_TOO = PAIR.replace(
    "role Pair(",
    'role Swapped(y: str, x: str) -> str {\n  model fast\n  prompt "{{ x }}"\n}\nrole Pair(',
)


def test_a_role_given_as_a_compile_time_parameter_is_not_the_last_builds():
    """The race of `test_a_race_is_told_from_the_last_build_only_where_the_callees_are_
    that_builds`, with the agent made a pattern whose parameter `Pair` (the role its node
    calls) is by default `Swapped`, which takes its parameters the other way round:
    nothing races, and it checks."""
    module = rolegraph.parse(SWAPPED_TOO, "pair.agent")
    assert not CheckSession("pair.agent").check(module, errors_only=True).errors
    racing = AddEdge(agent="Flow", edge="s -> c(y: s)").apply(module)
    (agent,) = racing.agents
    header = rolegraph.parse(
        SWAPPED_TOO.replace(
            "agent Flow(", "agent Flow[Pair: role(y: str, x: str) -> str = Swapped]("
        ),
        "pair.agent",
    )
    pattern = header.agents[0].with_changes(body=agent.body)
    swapped = racing.with_changes(decls=tuple(pattern if d is agent else d for d in racing.decls))
    told = refused_before_checking(swapped)  # (asked first: a check builds the agent anew)
    assert not fresh(swapped, "pair.agent", errors_only=True).errors
    assert not told


def test_a_refusal_told_before_checking_is_copied_and_pickled_with_its_words():
    """`copy`, `deepcopy` and `pickle` of an `InvalidEdit` whose words are made when asked
    (before and after they are), as of one made with them."""
    import copy
    import pickle

    from rolegraph.compiler.edits import InvalidEdit

    module = rolegraph.parse(CHAIN3, "other.agent")
    for read_first in (False, True):
        editor = rolegraph.editor("other.agent")  # (a session of its own: the last build
        assert editor.validate(module, "it") is module  # is `module`'s)
        try:
            editor.apply(module, AddEdge(agent="Other", edge="c -> a"))
        except InvalidEdit as refused:
            lazy = refused
        assert "_why" in lazy.__dict__  # (told before checking)
        if read_first:
            assert lazy.diagnostics
        for made in (copy.copy, copy.deepcopy, lambda e: pickle.loads(pickle.dumps(e))):
            again = made(lazy)
            assert str(again) == str(lazy) and again.diagnostics == lazy.diagnostics


def test_a_refusal_told_before_checking_of_a_program_that_checks_says_so():
    """Were `refuses` ever wrong, the refusal's words say so when read, not nothing."""
    import pytest

    from rolegraph.compiler.edits import Editor, InvalidEdit

    module = rolegraph.parse(CHAIN3, "other.agent")
    session = CheckSession("other.agent")
    editor = Editor(
        lambda m: session.check(m, errors_only=True).diagnostics, refuses=lambda m: True
    )
    with pytest.raises(InvalidEdit) as refused:
        editor.apply(module, AddEdge(agent="Other", edge="a -> c"))
    with pytest.raises(AssertionError, match="refused before checking, but it checks"):
        _ = refused.value.diagnostics

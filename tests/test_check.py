"""One failing fixture per diagnostic code of the checker, with its line and column
(lines counted from the end of the shared prelude)."""

import pytest

from rolegraph.compiler import paths

from .checking import PRELUDE, PRELUDE_LINES, check

A = "agent A(task: str) -> Draft {{\n{}\n}}\n"

FIXTURES = [
    ("E0201", A.format("  w = Writr(task)\n  return w")),
    ("E0202", A.format("  w = Writer(task)\n  w = Writer(task)\n  return w")),
    ("E0205", A.format("  w = Draft(task)\n  return w")),
    ("E0301", A.format("  w = Writer(task, feedback: 3)\n  return w")),
    ("E0302", A.format('  w = Writer(task, tone: "x")\n  return w')),
    ("E0303", A.format("  c = Critic(task)\n  return c")),
    ("E0304", A.format('  w = Writer(task, "a", "b")\n  return w')),
    ("E0305", A.format("  w = Writer(task)\n  return w.txt")),
    ("E0306", A.format("  w = Writer(t) for t in task max 3\n  return w")),
    (
        "E0307",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n"
            "  c -> w when c.feedback max 2\n  return w"
        ),
    ),
    ("E0308", A.format("  w = Writer(task)\n  c = Critic(task, draft: w)\n  return c")),
    ("E0309", 'role Bad(task: str) -> str {\n  model m\n  prompt "{{ taks }}"\n}\n'),
    ("E0310", 'role Bad(task: str) -> str {\n  model m\n  prompt "{% if task %}"\n}\n'),
    ("E0311", 'tool calc(expr: str) -> float = "rolegraph.stdlib.tools:calculator"\n'),
    ("E0312", 'tool calc(expression: str) -> float = "no_such_module_xyz:calc"\n'),
    ("E0313", 'model hot = "mock" { temperature: 5 }\n'),
    ("W0324", 'tool sh(command: str) -> int = "os:system"\n'),
    (
        "E0314",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n"
            '  c -> w when c.score == "high" max 2\n  return w'
        ),
    ),
    (
        "E0315",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n"
            "  c -> w when size(c.feedback) > 3 max 2\n  return w"
        ),
    ),
    ("E0316", 'type T {\n  n: int = "three"\n}\n'),
    ("E0317", A.format("  w = Writer[Critic](task)\n  return w")),
    ("E0318", "role Silent(task: str) -> str {\n  model m\n}\n"),
    ("W0319", 'role Free(task: str) -> str {\n  prompt "{{ task }}"\n}\n'),
    ("W0320", 'model x = "mock" { temprature: 0.2 }\n'),
    ("W0321", "type T {\n  n: int @range(1)\n}\n"),
    (
        "W0323",
        'role Pairs(xs: list[str]) -> str {\n  model m\n  prompt """\n'
        "    {% for a in xs %}\n    {% for b in xs %}{{ a }}/{{ b }}{% endfor %}\n"
        '    {% endfor %}\n  """\n}\n',
    ),
    (
        "E0401",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n  c -> w when not c.ok\n  return w"
        ),
    ),
    (
        "W0402",
        A.format("  w = Writer(task)\n  c = Critic(task, draft: w)\n  w -> c max 2\n  return w"),
    ),
    (
        "E0403",
        A.format(
            "  w = Writer(task)\n  r = Router(task)\n  c = Critic(task, draft: w)\n"
            "  r -> return(w) when r.route == Route.fast\n  return w"
        ),
    ),
    ("W0404", A.format("  w = Writer(task)\n  c = Critic(task, draft: w)\n  return w")),
    ("W0405", A.format("  w = Writer(task)\n  spare = Writer(task)\n  return w")),
    (
        "W0406",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n"
            '  fix = Writer(task, feedback: "again")\n  c -> fix when not c.ok\n'
            "  done = Merger(task, drafts: [fix])\n  return done"
        ),
    ),
    ("E0407", A.format("  w = Writer(task)")),
    ("E0408", A.format("  me = A(task)\n  return me")),
    (  # 33 agents, each calling the one before: A32 goes past the limit of 32
        "E0409",
        "agent A0(task: str) -> Draft {\n  w = Writer(task)\n  return w\n}\n"
        + "".join(
            f"agent A{i}(task: str) -> Draft {{\n  a = A{i - 1}(task)\n  return a\n}}\n"
            for i in range(1, 33)
        ),
    ),
    ("E0322", A.format("  w = Writer(task) x n\n  return w")),
    (
        "W0501",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n"
            "  c -> return(w) when c.ok\n  c -> w(feedback: c.feedback) else max 1\n"
            "  ensure eventually(c and not c.ok)"
        ),
    ),
    (
        "E0506",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n  return w\n"
            "  ensure always(return -> once c)"
        ),
    ),
    (
        "W0411",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n"
            "  c -> w(feedback: c.feedback) max 3\n  c -> return(w) else"
        ),
    ),
    (
        "W0412",
        A.format("  w = Writer(task)\n  c = Critic(task, draft: w)\n  c -> return(w) else"),
    ),
    (
        "E0413",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n"
            "  c -> return(w) when len(history(c)) > 1\n  return w"
        ),
    ),
    (
        "E0410",
        A.format("  w = Writer(task)\n  w -> return(w) on error\n  return w"),
    ),
    (  # `r` fires at start, before `w` can have failed: `w.error` is none there
        "E0414",
        A.format("  w = Writer(task)\n  r = Writer(task, feedback: w.error)\n  return r"),
    ),
    (  # `p`'s output has a field `error`: where `p` succeeded, `p.error` reads it
        "E0415",
        "type Res { error: int }\nrole Probe(task: str) -> Res {\n  model m\n"
        + '  prompt "{{ task }}"\n}\n'
        + A.format("  p = Probe(task)\n  w = Writer(task, feedback: p.error)\n  return w"),
    ),
    ("E0502", A.format("  w = Writer(task)\n  return w\n  ensure eventually critc")),
    ("E0503", A.format("  w = Writer(task)\n  return w\n  ensure once(eventually w)")),
    (  # a condition is tested on `w`'s successful outputs: `w.error` is none there
        "E0507",
        A.format('  w = Writer(task)\n  return w\n  ensure always(w -> w.error == "")'),
    ),
    (  # a human step's deadline with no `on error` edge: a missed deadline fails the run
        "W0420",
        'human Ask(task: str) -> Review {\n  prompt "{{ task }}"\n  deadline "1h"\n}\n'
        + A.format("  ok = Ask(task)\n  w = Writer(task, feedback: ok.feedback)\n  return w"),
    ),
    (
        "W0505",
        A.format(
            "  w = Writer(task)\n  c = Critic(task, draft: w)\n  return w\n"
            "  enforce always(return -> once c)"
        ),
    ),
    # MCP servers (docs/mcp.md): checked statically, nothing started
    ("E0620", 'mcp files = "ftp://example.org/files"\n'),
    ("E0621", 'mcp files = "python3 server.py" {\n  timeout: 5,\n  timout: 3\n}\n'),
    ("E0622", 'mcp files = "python3 server.py"\ntool read(path: str) -> str = flies.read\n'),
    ("W0620", 'mcp web = "http://tools.example.org/mcp"\ntool get(u: str) -> str = web.get\n'),
    ("W0621", 'mcp web = "https://tools.example.org/mcp"\n'),
]

# (code, line, column) of the first diagnostic with that code, lines after the prelude.
EXPECTED = {
    "W0420": (6, 3),
    "E0201": (2, 3),
    "E0202": (3, 3),
    "E0205": (2, 3),
    "E0301": (2, 30),
    "E0302": (2, 20),
    "E0303": (2, 3),
    "E0304": (2, 25),
    "E0305": (3, 10),
    "E0306": (2, 26),
    "E0307": (4, 15),
    "E0308": (4, 10),
    "E0309": (3, 14),
    "E0310": (3, 3),
    "E0311": (1, 1),
    "E0312": (1, 1),
    "E0313": (1, 35),
    "E0314": (4, 15),
    "E0315": (4, 15),
    "E0316": (2, 12),
    "E0317": (2, 3),
    "E0318": (1, 1),
    "W0319": (1, 1),
    "W0320": (1, 20),
    "W0321": (2, 10),
    "W0323": (5, 5),
    "W0324": (1, 1),
    "E0401": (4, 3),
    "W0402": (4, 3),
    "E0403": (5, 3),
    "W0404": (3, 3),
    "W0405": (3, 3),
    "W0406": (7, 3),
    "E0407": (1, 1),
    "E0408": (2, 3),
    "E0409": (4 * 32 + 2, 3),
    "E0322": (2, 3),
    "W0501": (6, 3),
    "E0506": (5, 3),
    "E0410": (3, 15),
    "E0413": (4, 3),
    "E0414": (3, 30),
    "E0415": (8, 30),
    "E0507": (4, 22),
    "W0411": (5, 3),
    "W0412": (4, 3),
    "E0502": (4, 21),
    "E0503": (4, 10),
    "W0505": (5, 3),
    "E0620": (1, 1),
    "E0621": (3, 3),
    "E0622": (2, 1),
    "W0620": (1, 1),
    "W0621": (1, 1),
}


@pytest.mark.parametrize(("code", "body"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_fixture_reports_its_code_at_its_place(code, body):
    result = check(PRELUDE + body)
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [str(d) for d in result.diagnostics]
    first = found[0]
    assert (first.line - PRELUDE_LINES, first.column) == EXPECTED[code], str(first)


def test_every_checker_code_has_a_fixture():
    from rolegraph.compiler.codes import CODES

    checker_codes = {c for c in CODES if c[1:3] in ("02", "03", "04", "05") or c[1:4] == "062"} - {
        "E0623",
        "E0624",
        "E0625",
    }  # (`check --connect` and edits: tests/test_mcp_*.py)
    # (imports outside the project, E0206, have their own file: test_imports_confined.py)
    # (E0421-E0423 are the refusals of answers to human steps, made at run time:
    # tests/test_human.py)
    covered = {code for code, _ in FIXTURES} | {"E0203", "E0204", "E0206", "W0504"}
    covered |= {"E0421", "E0422", "E0423"}
    assert checker_codes <= covered, sorted(checker_codes - covered)


def test_missing_module(tmp_path):
    path = tmp_path / "main.agent"
    path.write_text('import std.tpyes\nimport "./nowhere.agent"\n')
    codes = [(d.code, d.line) for d in check(path.read_text(), str(path)).diagnostics]
    assert codes == [("E0203", 1), ("E0203", 2)]
    hint = check(path.read_text(), str(path)).diagnostics[0].hints
    assert hint == ("did you mean `types`?",)


def test_import_cycle(tmp_path):
    (tmp_path / "a.agent").write_text('import "./b.agent"\n')
    (tmp_path / "b.agent").write_text('import "./a.agent"\n')
    main = tmp_path / "main.agent"
    main.write_text('import "./a.agent"\n')
    diagnostics = check(main.read_text(), str(main)).diagnostics
    assert [d.code for d in diagnostics] == ["E0204"]
    assert "a.agent → b.agent → a.agent" in diagnostics[0].message
    assert diagnostics[0].file.endswith("b.agent") and diagnostics[0].line == 1


def test_relative_imports_resolve_qualified_names(tmp_path):
    (tmp_path / "roles.agent").write_text(PRELUDE)
    main = tmp_path / "main.agent"
    main.write_text(
        'import "./roles.agent" as r\n'
        "agent A(task: str) -> r.Draft {\n  w = r.Writer(task)\n  return w\n}\n"
    )
    assert check(main.read_text(), str(main)).diagnostics == []


def test_exploration_limit_reports_not_proven(monkeypatch):
    monkeypatch.setattr(paths, "MAX_STATES", 2)
    body = A.format(
        "  w = Writer(task)\n  c = Critic(task, draft: w)\n"
        "  c -> w(feedback: c.feedback) when not c.ok max 3\n"
        "  c -> return(w) else\n  ensure always(return -> once c)"
    )
    codes = [d.code for d in check(PRELUDE + body).diagnostics]
    assert codes == ["W0504"]

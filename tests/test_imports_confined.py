"""File imports stay inside the project (issue 12): an absolute path, `..` out of the root,
a symbolic link that leads outside, or a file that is not a `.agent` file is refused
before it is read, with a diagnostic that quotes nothing of it; loops of links and
import cycles are diagnostics, never a traceback or a hang."""

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rolegraph
from rolegraph.cli import app
from rolegraph.compiler.diagnostics import render
from rolegraph.compiler.resolve import load_program
from rolegraph.compiler.source import Source
from rolegraph.grammar import parse_module

SECRET = "SECRET-TOKEN-4242"
ROLES = "type Answer { text: str }\n"


def check(path: Path, root: Path | None = None) -> list:
    return list(rolegraph.check_source(path.read_text(), str(path), root=root).diagnostics)


def rendered(path: Path, diagnostics: list) -> str:
    return "\n".join(render(d, Source(str(path), path.read_text())) for d in diagnostics)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """`tmp_path/app` is the project; `tmp_path/secret.agent` lies outside it."""
    (tmp_path / "secret.agent").write_text(f"{SECRET} = 1\n")
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "roles.agent").write_text(ROLES)
    return app_dir


def program(project: Path, *imports: str) -> Path:
    main = project / "main.agent"
    main.write_text("".join(f"{line}\n" for line in imports))
    return main


def codes(diagnostics: list) -> list[str]:
    return [d.code for d in diagnostics]


# -- the measured failures -------------------------------------------------------------------


def test_importing_the_process_environment_is_refused_and_quotes_none_of_it(project):
    main = program(project, 'import "/proc/self/environ"')
    diagnostics = check(main)
    assert codes(diagnostics) == ["E0206"]
    (problem,) = diagnostics
    assert (problem.file, problem.line, problem.column) == (str(main), 1, 1)
    text = rendered(main, diagnostics)
    assert "PATH=" not in text and '1 | import "/proc/self/environ"' in text
    assert "^" in text  # the caret under the import


def test_an_absolute_path_is_refused_even_inside_the_project(project):
    main = program(project, f'import "{project / "roles.agent"}"')
    assert codes(check(main)) == ["E0206"]


def test_a_path_that_climbs_out_of_the_project_is_refused_unread(project):
    main = program(project, 'import "../secret.agent"')
    diagnostics = check(main)
    assert codes(diagnostics) == ["E0206"]
    assert SECRET not in rendered(main, diagnostics)


def test_a_symbolic_link_that_leads_outside_is_refused_without_saying_where(project):
    (project / "innocent.agent").symlink_to(project.parent / "secret.agent")
    main = program(project, 'import "./innocent.agent"')
    diagnostics = check(main)
    assert codes(diagnostics) == ["E0206"]
    text = rendered(main, diagnostics)
    assert SECRET not in text and "secret.agent" not in text


def test_a_loop_of_symbolic_links_is_a_diagnostic(project):
    (project / "one.agent").symlink_to(project / "two.agent")
    (project / "two.agent").symlink_to(project / "one.agent")
    main = program(project, 'import "./one.agent"')
    diagnostics = check(main)
    assert codes(diagnostics) == ["E0203"]
    assert "loop of symbolic links" in diagnostics[0].message


def test_a_file_that_imports_itself_through_a_link_is_an_import_cycle(project):
    (project / "me.agent").symlink_to(project / "main.agent")
    main = program(project, 'import "./me.agent"')
    assert "E0204" in codes(check(main))


def test_a_file_that_is_not_an_agent_file_is_refused_unread(project):
    (project / "notes.env").write_text(f"TOKEN={SECRET}\n")
    main = program(project, 'import "./notes.env"')
    diagnostics = check(main)
    assert codes(diagnostics) == ["E0206"]
    assert SECRET not in rendered(main, diagnostics)


def test_an_imported_file_cannot_climb_out_either(project):
    (project / "lib").mkdir()
    (project / "lib" / "a.agent").write_text('import "../../secret.agent"\n')
    main = program(project, 'import "./lib/a.agent"')
    diagnostics = check(main)
    assert codes(diagnostics) == ["E0206"]
    assert diagnostics[0].file == str((project / "lib" / "a.agent").resolve())


# -- what keeps working ----------------------------------------------------------------------


def test_imports_inside_the_project_work(project):
    (project / "lib").mkdir()
    (project / "lib" / "more.agent").write_text('import "../roles.agent"\n')
    main = program(project, 'import "./roles.agent" as r', 'import "./lib/more.agent"')
    assert codes(check(main)) == []


def test_the_standard_library_is_always_importable(project):
    main = program(project, "import std.debate", "from std.self_consistency import Solve")
    assert codes(check(main)) == []


def test_a_named_root_lets_a_project_import_its_siblings(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "roles.agent").write_text(ROLES)
    (tmp_path / "app").mkdir()
    main = program(tmp_path / "app", 'import "../lib/roles.agent"')
    assert codes(check(main)) == ["E0206"]
    assert codes(check(main, root=tmp_path)) == []


def test_the_root_option_of_the_command_line(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "roles.agent").write_text(ROLES)
    (tmp_path / "app").mkdir()
    main = program(tmp_path / "app", 'import "../lib/roles.agent"')
    refused = CliRunner().invoke(app, ["check", str(main)])
    assert refused.exit_code == 1 and "E0206" in refused.output
    allowed = CliRunner().invoke(app, ["check", str(main), "--root", str(tmp_path)])
    assert allowed.exit_code == 0, allowed.output


def test_the_command_line_prints_no_traceback_and_no_environment(project):
    main = program(project, 'import "/proc/self/environ"', 'import "./nowhere/../../x.agent"')
    result = CliRunner().invoke(app, ["check", str(main)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "PATH=" not in result.output
    assert result.output.count("E0206") == 2


# -- a property: no file outside the root is ever read ---------------------------------------

SEGMENTS = ["..", ".", "app", "lib", "out", "loop", "roles.agent", "secret.agent", "x.agent"]


@pytest.fixture(scope="module")
def maze(tmp_path_factory) -> Path:
    """A project with links in and out of it, and a loop."""
    base = tmp_path_factory.mktemp("maze")
    (base / "secret.agent").write_text(f"{SECRET} = 1\n")
    root = base / "app"
    (root / "lib").mkdir(parents=True)
    (root / "roles.agent").write_text(ROLES)
    (root / "lib" / "roles.agent").write_text(ROLES)
    (root / "out").symlink_to(base)
    (root / "lib" / "x.agent").symlink_to(base / "secret.agent")
    (root / "loop").symlink_to(root / "loop")
    return root


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5), st.booleans())
def test_whatever_the_path_no_file_outside_the_root_is_read(maze, segments, dot):
    relative = "/".join(segments)
    path = f"./{relative}" if dot else relative
    read: list[str] = []

    def parse(text: str, filename: str):
        read.append(filename)
        result = parse_module(text, filename)
        return result.module, result.diagnostics

    module = rolegraph.parse(f'import "{path}" as m\n', str(maze / "main.agent"))
    loaded = load_program(module, str(maze / "main.agent"), parse)
    for filename in read:
        assert Path(filename).resolve().is_relative_to(maze.resolve())
    for problem in loaded.diagnostics:
        assert problem.file == str(maze / "main.agent") or problem.file in read
        assert SECRET not in problem.message + problem.label


def test_the_property_reaches_inside_and_outside(maze):
    """The maze has a way in (`lib/roles.agent`) and ways out (`out/...`, `lib/x.agent`)."""
    inside = rolegraph.check_source('import "./lib/roles.agent"\n', str(maze / "main.agent"))
    assert not inside.diagnostics
    for way_out in ("./out/secret.agent", "./lib/x.agent"):
        outside = rolegraph.check_source(f'import "{way_out}"\n', str(maze / "main.agent"))
        assert codes(outside.diagnostics) == ["E0206"]
    assert os.path.islink(maze / "loop")


def test_the_refusal_is_explained():
    result = CliRunner().invoke(app, ["explain", "E0206"])
    assert result.exit_code == 0 and "--root" in result.output

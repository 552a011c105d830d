"""A file's check kept across processes by the command line (rolegraph/cli/kept_checks.py)
is held to the check it replaces: every command runs in a fresh interpreter, once with
its folder of kept checks emptied (the fresh check: the oracle) and once or twice with
what earlier commands kept, and prints the same bytes on stdout and stderr with the
same exit status, whether the kept check was loaded (said by the modules loaded) or
found stale and checked again. The answers a check is built on are each changed on
purpose (an imported file, a Python tool's file, where a tool's module is found, where a
symbolic link leads) and in seeded random edit walks; a damaged, truncated or foreign
file is ignored; and every file a fresh check opens is among those its kept check holds
to (an audit hook: an oracle apart from compiler/reads.py)."""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler.printer import to_source

from .conftest import EXAMPLES
from .edit_walks import edit_walk

# Run the command's `main()` as the `rolegraph` script does; say on a file of its own
# whether it checked afresh (the checker's passes loaded).
_PROBE = """
import atexit, json, os, sys
def said():
    with open(os.environ["KEPT_PROBE"], "w") as file:
        json.dump("rolegraph.compiler.typecheck" in sys.modules, file)
atexit.register(said)
sys.argv = ["rolegraph", *json.loads(sys.argv[1])]
from rolegraph.cli import main
main()
"""


class Commands:
    """Runs commands with one cache folder, in one working directory."""

    def __init__(self, tmp_path: Path, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.cache = tmp_path / "cache"
        self.probe = tmp_path / "probe.json"
        self.cwd = cwd
        self.env = {**os.environ, "XDG_CACHE_HOME": str(self.cache), **(env or {})}

    def kept_files(self) -> list[Path]:
        return sorted((self.cache / "rolegraph").glob("check-*"))

    def run(self, *args: str) -> tuple[tuple[str, str, int], bool]:
        """(stdout, stderr with the wall time masked, exit status), and whether it
        checked afresh."""
        self.probe.unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-P", "-c", _PROBE, json.dumps(args)],  # (-P: as the script,
            # whose folder, not the working directory, is first on `sys.path`)
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.cwd,
            env={**self.env, "KEPT_PROBE": str(self.probe)},
        )
        assert "Traceback" not in done.stderr, done.stderr
        masked = re.sub(r" *\d+ ms\n", " N ms\n", done.stderr)
        return (done.stdout, masked, done.returncode), json.loads(self.probe.read_text())

    def fresh(self, *args: str) -> tuple[str, str, int]:
        """The command with no kept check: the oracle."""
        for file in self.kept_files():
            file.unlink()
        said, checked = self.run(*args)
        assert checked
        return said

    def same_as_fresh(self, *args: str) -> bool:
        """The command as it comes (kept or not), then again (now kept, when clean), each
        against a fresh check; whether the second loaded a kept check."""
        first, _ = self.run(*args)
        second, checked = self.run(*args)
        oracle = self.fresh(*args)
        assert first == oracle, args
        assert second == oracle, args
        return not checked


def _inputs(path: Path) -> str:
    """What an example's last agent takes (every example takes one text)."""
    from rolegraph.cli.files import check_file

    checked, _, _ = check_file(path, explore=False)
    values = {
        "question": "What is 12 * 7?",
        "task": "Name three primary colours.",
        "tests": "assert isinstance(colours(), list)",
        "ticket": "I was charged twice for order 1182; please refund the second charge.",
    }
    ir = list(checked.irs.values())[-1]
    return json.dumps({name: values[name] for name in ir.param_types})


@pytest.mark.slow  # (many processes)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_prints_the_same_from_its_kept_check(tmp_path, example):
    commands = Commands(tmp_path, example.parent)
    run = ("run", example.name, "--model", "mock", "-i", _inputs(example), "--no-store")
    for args in (("check", example.name), run):
        assert commands.same_as_fresh(*args), args  # (the second was loaded)


def test_check_s_options_print_the_same_from_a_kept_check(tmp_path):
    example = next(p for p in EXAMPLES if p.name == "self_refine.agent")
    commands = Commands(tmp_path, example.parent.parent)
    name = f"examples/{example.name}"
    for args in (
        ("check", "--json", name),
        ("check", "--cost", name),
        ("check", "--strict", name, "examples/react.agent"),
        ("check", "examples"),
        ("run", name, "--model", "mock", "-i", '{"task": "x"}', "-q", "--no-store"),
        ("run", name, "SelfRefine", "--model", "mock", "-i", '{"task": "x"}', "--no-store"),
        ("run", name, "--model", "mock", "-i", '{"task": "x"}', "--no-store", "--root", "."),
    ):
        assert commands.same_as_fresh(*args), args


# -- a project of three files, and what each answer its check is built on changes -------

LIB = """
model fast = "openai/gpt-4o-mini" { temperature: 0.2 }

type Draft { text: str }
type Review { ok: bool, feedback: str }

role Writer(task: str, feedback: str = "") -> Draft {
  model fast
  prompt "Task: {{ task }} {{ feedback }}"
}

role Critic(task: str, draft: Draft) -> Review {
  model fast
  prompt "Task: {{ task }} Draft: {{ draft.text }}"
}
"""

MAIN = """
import "./lib.agent" as lib
from std.types import Answer

tool shout(text: str) -> str = "helper_tools:shout"

agent Main(task: str) -> lib.Review {
  w = lib.Writer(task)
  c = lib.Critic(task, draft: w)
  s = shout(text: task)
  c -> w(feedback: c.feedback) when not c.ok max 2
  c -> return(c) else
  ensure always(return -> once c)
}
"""

TOOLS = "def shout(text: str) -> str:\n    return text.upper()\n"
# (the same function, which only running the module would tell: W0324)
UNREADABLE_TOOLS = "if True:\n" + "".join(f"    {line}\n" for line in TOOLS.splitlines())


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "lib.agent").write_text(LIB)
    (project / "main.agent").write_text(MAIN)
    (project / "helper_tools.py").write_text(TOOLS)
    return project


_RUN = ("run", "main.agent", "--model", "mock", "-i", '{"task": "x"}', "--no-store")


def test_the_project_s_warnings_are_printed_from_its_kept_check(tmp_path):
    project = _project(tmp_path)
    commands = Commands(tmp_path, project)
    for args in (("check", "--json", "main.agent"), _RUN, ("check", "main.agent")):
        assert commands.same_as_fresh(*args)  # (a run's kept check is not a check's)
    (_, said, status), checked = commands.run("check", "main.agent")
    assert "W0405" in said and status == 0 and not checked  # (a warning, replayed)


def _changes(commands: Commands, *args: str, change: object) -> None:
    """`change` made after the command's check was kept: the next command checks afresh
    and prints what a fresh check prints, which differs from before."""
    assert commands.same_as_fresh(*args)
    before = commands.fresh(*args)
    assert callable(change)
    change()
    after, checked = commands.run(*args)
    assert checked  # (the kept check did not hold)
    assert after == commands.fresh(*args) != before


def test_the_same_file_in_another_folder_is_checked_there(tmp_path):
    """(Its import is another file there.)"""
    project = _project(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    for name in ("main.agent", "helper_tools.py"):
        (other / name).write_bytes((project / name).read_bytes())
    (other / "lib.agent").write_text(LIB.replace("feedback: str }", "feedback: str, score: int }"))
    here, there = Commands(tmp_path, project), Commands(tmp_path, other)
    assert here.same_as_fresh(*_RUN)
    said, checked = there.run(*_RUN)
    assert checked and said != here.run(*_RUN)[0]
    assert there.same_as_fresh(*_RUN)


def test_a_changed_import_is_checked_again(tmp_path):
    project = _project(tmp_path)
    commands = Commands(tmp_path, project)
    lib = project / "lib.agent"
    scored = LIB.replace("feedback: str }", "feedback: str, score: int }")
    _changes(commands, *_RUN, change=lambda: lib.write_text(scored))


def test_a_changed_python_tool_is_checked_again(tmp_path):
    project = _project(tmp_path)
    commands = Commands(tmp_path, project)
    tools = project / "helper_tools.py"
    _changes(commands, "check", "main.agent", change=lambda: tools.write_text(UNREADABLE_TOOLS))


def test_a_tool_s_module_found_elsewhere_is_checked_again(tmp_path):
    """`sys.path` comes before the agent's folder: a module of the same name there is the
    one a check reads (here one it cannot read: W0324)."""
    project = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "helper_tools.py").write_text(UNREADABLE_TOOLS)
    commands = Commands(tmp_path, project)
    args = ("check", "main.agent")

    def path_changes() -> None:
        before = os.environ.get("PYTHONPATH")
        commands.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(elsewhere), before]))

    _changes(commands, *args, change=path_changes)


def test_a_symbolic_link_led_elsewhere_is_checked_again(tmp_path):
    project = _project(tmp_path)
    (project / "lib_a.agent").write_text(LIB)
    (project / "lib_b.agent").write_text(
        LIB.replace("feedback: str }", "feedback: str, score: int }")
    )
    lib = project / "lib.agent"
    lib.unlink()
    lib.symlink_to("lib_a.agent")
    commands = Commands(tmp_path, project)

    def relink() -> None:
        lib.unlink()
        lib.symlink_to("lib_b.agent")

    _changes(commands, *_RUN, change=relink)


def test_a_main_file_led_elsewhere_is_checked_again(tmp_path):
    """A path import is read from the main file's folder as named, a tool's module from
    the folder it is in once its links are followed (compiler/pyimport.py `folder_of`)."""
    (tmp_path / "lib.agent").write_text(LIB)
    for folder, tools in (("here", TOOLS), ("there", UNREADABLE_TOOLS)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "main.agent").write_text(MAIN)
        (tmp_path / folder / "helper_tools.py").write_text(tools)
    main = tmp_path / "main.agent"
    main.symlink_to(tmp_path / "here" / "main.agent")
    commands = Commands(tmp_path, tmp_path)

    def relink() -> None:
        main.unlink()
        main.symlink_to(tmp_path / "there" / "main.agent")

    _changes(commands, "check", "main.agent", change=relink)


def test_a_root_led_elsewhere_is_checked_again(tmp_path):
    """With no `--root`, the root is the main file's folder once its links are followed:
    `a` led from `p` to `q`, whose files lead back into `p`, the import is outside it
    (E0206), while the file and its import lead where they did."""
    for folder in ("p", "q"):
        (tmp_path / folder).mkdir()
    (tmp_path / "p" / "lib.agent").write_text(LIB)
    (tmp_path / "p" / "main.agent").write_text(
        'import "./lib.agent" as lib\n\nagent Main(task: str) -> str {\n  return task\n}\n'
    )
    for name in ("main.agent", "lib.agent"):
        (tmp_path / "q" / name).symlink_to(tmp_path / "p" / name)
    (tmp_path / "a").symlink_to("p")
    commands = Commands(tmp_path, tmp_path)

    def relink() -> None:
        (tmp_path / "a").unlink()
        (tmp_path / "a").symlink_to("q")

    for args in (("check", "a/main.agent"), (*_RUN[:1], "a/main.agent", *_RUN[2:])):
        (tmp_path / "a").unlink()
        (tmp_path / "a").symlink_to("p")
        _changes(commands, *args, change=relink)


def test_another_jinja2_first_on_the_path_is_checked_again(tmp_path):
    """The checker judges a prompt's names by jinja2's globals: another jinja2 (here one
    without `dict`) makes another check."""
    import jinja2

    shadow = tmp_path / "shadow"
    shutil.copytree(Path(jinja2.__file__).parent, shadow / "jinja2")
    defaults = shadow / "jinja2" / "defaults.py"
    text = defaults.read_text()
    assert '"dict": dict,' in text
    defaults.write_text(text.replace('"dict": dict,', ""))
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.agent").write_text(
        'model fast = "openai/gpt-4o-mini"\n\nrole R(task: str) -> str {\n  model fast\n'
        '  prompt "{{ dict(a=task) }}"\n}\n\nagent Main(task: str) -> str {\n'
        "  r = R(task)\n  return r\n}\n"
    )
    commands = Commands(tmp_path, project)

    def path_changes() -> None:
        before = os.environ.get("PYTHONPATH")
        commands.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shadow), before]))

    _changes(commands, "check", "main.agent", change=path_changes)


def test_a_tool_rewritten_while_checked_is_not_kept(tmp_path):
    """A tool's module rewritten with the same size and time after the check read it:
    what is kept holds to the bytes read, so the next command checks afresh."""
    project = _project(tmp_path)
    tools = project / "helper_tools.py"
    commands = Commands(tmp_path, project)
    assert len(UNREADABLE_TOOLS) != len(TOOLS)
    same_size = "def shout(text: int) -> str:\n    return text.upper()\n"
    assert len(same_size) == len(TOOLS)
    racing = f"""
import os, sys
import rolegraph.cli.kept_checks as kept_checks
real_save = kept_checks.save
def save(*args, **options):
    status = os.stat({str(tools)!r})
    with open({str(tools)!r}, "w") as file:
        file.write({same_size!r})
    os.utime({str(tools)!r}, ns=(status.st_atime_ns, status.st_mtime_ns))
    return real_save(*args, **options)
kept_checks.save = save
sys.argv = ["rolegraph", "check", "main.agent"]
from rolegraph.cli import main
main()
"""
    done = subprocess.run(
        [sys.executable, "-P", "-c", racing],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=project,
        env=commands.env,
    )
    assert done.returncode == 0, done.stderr
    said, checked = commands.run("check", "main.agent")
    assert checked  # (nothing was kept of bytes no check read)
    assert said == commands.fresh("check", "main.agent")


def test_a_check_from_a_removed_working_directory_prints_its_answer(tmp_path):
    """Keeping the check fails there (no working directory to key it by): the command
    prints the fresh check's answer all the same. (A file without Python tools: looking
    for a tool's module, and running, need a working directory.)"""
    example = next(p for p in EXAMPLES if p.name == "self_refine.agent")
    main = tmp_path / "main.agent"
    main.write_bytes(example.read_bytes())
    commands = Commands(tmp_path, tmp_path)
    gone = tmp_path / "gone"
    for args in (("check", str(main)), ("check", "--json", str(main))):
        gone.mkdir()
        done = subprocess.run(
            [
                *("sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone)),
                *(sys.executable, "-P", "-c", _PROBE, json.dumps(args)),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**commands.env, "KEPT_PROBE": str(commands.probe)},
        )
        masked = re.sub(r" *\d+ ms\n", " N ms\n", done.stderr)
        assert (done.stdout, masked, done.returncode) == commands.fresh(*args)


def test_the_oldest_kept_checks_are_removed_beyond_the_most_kept(tmp_path):
    from rolegraph.cli.kept_checks import KEPT_MOST

    project = _project(tmp_path)
    commands = Commands(tmp_path, project)
    folder = commands.cache / "rolegraph"
    folder.mkdir(parents=True, mode=0o700)
    old = [folder / f"check-{i:024x}.pickle" for i in range(KEPT_MOST + 5)]
    for age, file in enumerate(old):
        file.write_bytes(b"")
        os.utime(file, ns=(10**18 + age, 10**18 + age))  # (the first the oldest)
    oracle = commands.run(*_RUN)[0]
    kept = commands.kept_files()
    assert len(kept) == KEPT_MOST
    assert set(old) - set(kept) == set(old[:6])  # (the six oldest)
    assert commands.run(*_RUN) == (oracle, False)  # (the new one kept, and loaded)


@pytest.mark.slow  # (many processes)
def test_an_edit_walk_of_the_project_prints_what_fresh_checks_print(tmp_path):
    """Seeded random edits of the main file, of its import and of its tool's module, each
    from the last: each command as it comes, and again, against a fresh check."""
    project = _project(tmp_path)
    commands = Commands(tmp_path, project)
    rng = random.Random(20261207)
    walks = {
        "main.agent": edit_walk(rolegraph.parse(MAIN, "main.agent"), rng, 8)[1:],
        "lib.agent": edit_walk(rolegraph.parse(LIB, "lib.agent"), rng, 8)[1:],
    }
    loaded = 0
    for _ in range(10):
        changed = rng.choice([*walks, "helper_tools.py"])
        if changed == "helper_tools.py":
            (project / changed).write_text(rng.choice([TOOLS, UNREADABLE_TOOLS]))
        elif walks[changed]:
            (project / changed).write_text(to_source(walks[changed].pop(0)))
        args = rng.choice([("check", "main.agent"), _RUN])
        loaded += commands.same_as_fresh(*args)
    assert loaded  # (some were clean, and kept)


# -- a kept file that is not to be trusted ------------------------------------------------


def _damaged(kept: Path) -> None:
    data = bytearray(kept.read_bytes())
    for i in range(len(data) // 3, len(data), 97):
        data[i] ^= 0x5A
    kept.write_bytes(bytes(data))


def _truncated(kept: Path) -> None:
    kept.write_bytes(kept.read_bytes()[: kept.stat().st_size // 2])


def _emptied(kept: Path) -> None:
    kept.write_bytes(b"")


def _writable_by_all(kept: Path) -> None:
    kept.chmod(0o666)


def _another_user_s(kept: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only root gives a file to another user")
    os.chown(kept, 4242, -1)


def _other_code_s(kept: Path) -> None:
    """Kept by other code: the same answers, another rolegraph."""
    with open(kept, "rb") as file:
        code, reads = pickle.load(file)
        rest = file.read()
    with open(kept, "wb") as file:
        pickle.dump(((*code[:-1], [*code[-1], ("x.py", 1, 1)]), reads), file)
        file.write(rest)


@pytest.mark.parametrize(
    "spoil",
    [_damaged, _truncated, _emptied, _writable_by_all, _another_user_s, _other_code_s],
)
def test_a_kept_check_not_to_be_trusted_is_checked_again_and_kept_anew(tmp_path, spoil):
    project = _project(tmp_path)
    commands = Commands(tmp_path, project)
    oracle = commands.fresh(*_RUN)
    (kept,) = commands.kept_files()
    spoil(kept)
    said, checked = commands.run(*_RUN)
    assert checked and said == oracle
    assert commands.run(*_RUN) == (oracle, False)  # (kept anew, and loaded)
    assert kept.stat().st_mode & 0o077 == 0


def test_a_program_that_imports_rolegraph_keeps_no_check(tmp_path):
    project = _project(tmp_path)
    code = (
        "import sys, rolegraph\n"
        "from pathlib import Path\n"
        "from rolegraph.cli.files import check_file\n"
        "from rolegraph.compiler.check import check_module\n"
        "from rolegraph.grammar.imports import parse_import\n"
        "name = sys.argv[1]\n"
        "check_module(rolegraph.parse_file(name), name, parse_import, open(name).read())\n"
        "check_file(Path(name))\n"
    )
    cache = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, "-c", code, str(project / "main.agent")],
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (cache / "rolegraph").is_dir()  # (the parser was kept)
    assert not list((cache / "rolegraph").glob("check-*"))


# -- every file a check opens is one its kept check holds to --------------------------------

_OPENED = """
import json, os, pickle, sys
from pathlib import Path
from rolegraph.cli.files import check_file
opened = []
watching = False
def hook(event, args):
    if watching and event == "open" and isinstance(args[0], str):
        opened.append(os.path.realpath(args[0]))
sys.addaudithook(hook)
path, explore = Path(sys.argv[1]), sys.argv[2] == "explore"
watching = True
checked, diagnostics, _ = check_file(path, explore=explore, keep=True)
watching = False
assert not [d for d in diagnostics if d.is_error]
cache = Path(os.environ["XDG_CACHE_HOME"], "rolegraph")
(kept,) = cache.glob("check-*")
with open(kept, "rb") as file:
    _, reads = pickle.load(file)
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
modules = {os.path.realpath(f) for f in files if f}
print(json.dumps([sorted(set(opened) - modules), [list(r) for r in reads]]))
"""


@pytest.mark.parametrize("explore", ["explore", "run"])
@pytest.mark.parametrize(
    "name", ["main.agent", "react.agent", "failure_recovery.agent", "rag_citations.agent"]
)
def test_every_file_a_check_opens_is_one_its_kept_check_holds_to(tmp_path, name, explore):
    project = _project(tmp_path)
    path = project / name if name == "main.agent" else next(p for p in EXAMPLES if p.name == name)
    cache = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, "-c", _OPENED, str(path), explore],
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        capture_output=True,
        text=True,
        cwd=path.parent,
    )
    assert done.returncode == 0, done.stderr
    opened, reads = json.loads(done.stdout)
    held = {os.path.realpath(name) for kind, name, *_ in reads if kind == "text"}
    outside = (os.path.realpath(cache), os.path.realpath(sys.base_prefix))
    read = [
        name
        for name in opened
        if not name.startswith(outside)
        and not name.endswith((".pyc", ".lark"))
        and "site-packages" not in name
    ]
    assert read  # (the audit hook saw the check read its files)
    assert set(read) <= held, sorted(set(read) - held)
    if "std.types" in path.read_text():
        assert any(name.endswith("types.agent") for name in held)  # (the standard library's)


def test_another_version_of_a_loaded_package_does_not_hold(tmp_path, monkeypatch):
    """A third-party package is held to where it is found, its file, and its
    distribution's `.dist-info` folder, whose name says its version: an upgrade that
    leaves the package's `__init__` as it was still changes the folder."""
    import importlib

    from rolegraph.cli.kept_checks import _holds, _third_party

    site = tmp_path / "site"
    (site / "kept_probe_pkg").mkdir(parents=True)
    (site / "kept_probe_pkg" / "__init__.py").write_text("VALUE = 1\n")
    (site / "kept_probe_pkg-1.0.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "kept_probe_pkg", raising=False)
    importlib.import_module("kept_probe_pkg")
    try:
        (read,) = [read for read in _third_party() if read[1] == "kept_probe_pkg"]
        assert read[4] == str(site / "kept_probe_pkg-1.0.dist-info")
        assert _holds(read)
        (site / "kept_probe_pkg-1.0.dist-info").rename(site / "kept_probe_pkg-2.0.dist-info")
        assert not _holds(read)
    finally:
        del sys.modules["kept_probe_pkg"]


def _another_tree(tmp_path: Path) -> Path:
    """rolegraph's code copied as an installed package is laid out (pyproject.toml's
    `package-dir`), for `PYTHONPATH`: a second install on this interpreter."""
    import tomllib

    root = Path(rolegraph.__file__).resolve().parent.parent
    layout = tomllib.loads((root / "pyproject.toml").read_text())
    places = layout["tool"]["setuptools"]["package-dir"]
    tree = tmp_path / "other"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(root / places["rolegraph"], tree / "rolegraph", ignore=ignore)
    for package, folder in places.items():
        if package.count(".") == 1:
            target = tree / package.replace(".", "/")
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(root / folder, target, ignore=ignore)
    return tree


def test_two_installs_on_one_interpreter_keep_their_own_checks(tmp_path):
    # (the issue-15 benches run two trees on one interpreter, one by PYTHONPATH: each
    # wrote the one file of the command, so each found the other's and checked afresh)
    project = _project(tmp_path)
    here = Commands(tmp_path, project)
    other = Commands(tmp_path, project, {"PYTHONPATH": str(_another_tree(tmp_path))})
    oracle = here.fresh(*_RUN)
    assert other.run(*_RUN) == (oracle, True)  # (the other tree's code: checked)
    assert other.run(*_RUN) == (oracle, False)
    assert here.run(*_RUN) == (oracle, False)  # (its own, kept before the other's)
    assert len(here.kept_files()) == 2
